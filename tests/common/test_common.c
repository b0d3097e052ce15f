/* tests/common/test_common.c — see test_common.h. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "test_common.h"

#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* Test executables honour HASHLAB_THREADS like hashlab does (ctest also sets OMP_NUM_THREADS and
 * OPENBLAS_NUM_THREADS to 1): running ./tests/test_hashers directly with HASHLAB_THREADS=1 is single-threaded too.
 * HASHLAB_TEST_THREADS=N overrides ctest's HASHLAB_THREADS=1 (also for the hashlab processes the lab tests start):
 * `HASHLAB_TEST_THREADS=2 ctest` runs the whole suite with two threads, as .ci/run does once. */
__attribute__((constructor)) static void test_threads_init(void) {
    const char *t = getenv("HASHLAB_TEST_THREADS");
    if (t && *t) setenv("HASHLAB_THREADS", t, 1);
    if (getenv("HASHLAB_THREADS")) hl_threads_init();
}

hl_ctx *hl_test_ctx(void) {
    hl_ctx *ctx = NULL;
    cr_assert(hl_ctx_create(&ctx, HL_DEVICE_CPU, 0) == HL_OK, "ctx: %s", hl_error_last());
    return ctx;
}

hl_tensor *hl_test_tensor(int ndim, const int64_t *shape, uint64_t seed, float lo, float hi) {
    hl_tensor *t = NULL;
    cr_assert(hl_tensor_create(&t, ndim, shape, HL_DEVICE_CPU) == HL_OK);
    hl_rng r = hl_rng_make(seed, 77);
    hl_rng_uniform(&r, t->data, hl_tensor_numel(t), lo, hi);
    return t;
}

hl_tensor *hl_test_tensor_of(int ndim, const int64_t *shape, const float *vals) {
    hl_tensor *t = NULL;
    cr_assert(hl_tensor_create(&t, ndim, shape, HL_DEVICE_CPU) == HL_OK);
    memcpy(t->data, vals, (size_t)hl_tensor_numel(t) * sizeof(float));
    return t;
}

void hl_test_assert_close(const float *got, const float *want, int64_t n, float atol, float rtol, const char *what) {
    for (int64_t i = 0; i < n; i++) {
        float tol = atol + rtol * fabsf(want[i]);
        cr_assert(fabsf(got[i] - want[i]) <= tol || (isnan(got[i]) && isnan(want[i])),
                  "%s: element %lld: got %.7g, want %.7g (tol %.3g)", what, (long long)i, got[i], want[i], tol);
    }
}

/* L = Σ r ⊙ f(in), with grad mode off. */
static double eval_loss(hl_ctx *ctx, hl_test_op_fn f, hl_tensor **in, void *user, const float *r, int64_t ny) {
    hl_ctx_reset(ctx);
    hl_ctx_set_seed(ctx, 1234);
    hl_no_grad_begin(ctx);
    hl_tensor *y = f(ctx, in, user);
    hl_no_grad_end(ctx);
    cr_assert(hl_tensor_numel(y) == ny, "op output size changed between evaluations");
    double L = 0.0;
    for (int64_t i = 0; i < ny; i++) L += (double)r[i] * (double)y->data[i];
    return L;
}

void hl_test_gradcheck(const char *what, hl_test_op_fn f, int n_in, hl_tensor **in, void *user,
                       hl_gradcheck_opts o) {
    const float eps = o.eps > 0 ? o.eps : 1e-3f, atol = o.atol > 0 ? o.atol : 2e-3f, rtol = o.rtol > 0 ? o.rtol : 1e-2f;
    const double max_skip = o.max_skip_frac > 0 ? o.max_skip_frac : 0.2;
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, !o.eval_mode);
    for (int i = 0; i < n_in; i++) {
        bool check = !(o.skip_mask & (1u << i));
        hl_tensor_set_requires_grad(in[i], check);
        if (check) hl_tensor_zero_grad(in[i]);
    }

    /* Analytic gradients. */
    hl_ctx_set_seed(ctx, 1234);
    hl_tensor *y = f(ctx, in, user);
    int64_t ny = hl_tensor_numel(y);
    float *r = malloc((size_t)ny * sizeof *r);
    hl_rng rr = hl_rng_make(99, 5);
    hl_rng_uniform(&rr, r, ny, -1.0f, 1.0f);
    cr_assert(hl_tensor_requires_grad(y), "%s: output does not require grad (no tape node recorded)", what);
    hl_backward_seed(ctx, y, r);

    int64_t checked = 0, skipped = 0;
    for (int i = 0; i < n_in; i++) {
        if (o.skip_mask & (1u << i)) continue;
        int64_t n = hl_tensor_numel(in[i]);
        cr_assert(in[i]->grad, "%s: input %d got no gradient buffer", what, i);
        float *ana = malloc((size_t)n * sizeof *ana);
        memcpy(ana, in[i]->grad, (size_t)n * sizeof *ana);
        for (int64_t j = 0; j < n; j++) {
            float v = in[i]->data[j];
            in[i]->data[j] = v + eps;
            double lp = eval_loss(ctx, f, in, user, r, ny);
            in[i]->data[j] = v - eps;
            double lm = eval_loss(ctx, f, in, user, r, ny);
            in[i]->data[j] = v;
            double num = (lp - lm) / (2.0 * (double)eps);
            checked++;
            if (o.kink_tol > 0) {
                double l0 = eval_loss(ctx, f, in, user, r, ny);
                double dp = (lp - l0) / eps, dm = (l0 - lm) / eps;
                if (fabs(dp - dm) > o.kink_tol) {
                    skipped++;
                    continue;
                }
            }
            double tol = atol + rtol * fabs(num);
            cr_assert(fabs((double)ana[j] - num) <= tol,
                      "%s: d/d input %d [%lld]: analytic %.6g vs numeric %.6g (tol %.3g)", what, i, (long long)j,
                      (double)ana[j], num, tol);
        }
        free(ana);
    }
    cr_assert(skipped <= (int64_t)(max_skip * (double)checked) + 1,
              "%s: %lld of %lld elements skipped as kinks (max %.0f%%)", what, (long long)skipped,
              (long long)checked, 100.0 * max_skip);
    free(r);
    hl_ctx_free(ctx);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *tmpdirs[64];
static int n_tmpdirs;

/* Removes every directory hl_test_tmpdir made in this process (a test that aborts leaves its own behind). */
static void rm_tmpdirs(void) {
    for (int i = 0; i < n_tmpdirs; i++) {
        nftw(tmpdirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdirs[i]);
    }
}

const char *hl_test_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    size_t n = strlen(base ? base : "/tmp") + 32;
    char *p = malloc(n);
    snprintf(p, n, "%s/hashlab-test-XXXXXX", base ? base : "/tmp");
    cr_assert(mkdtemp(p) != NULL, "mkdtemp failed");
    if (n_tmpdirs == 0) atexit(rm_tmpdirs);
    cr_assert(n_tmpdirs < (int)(sizeof tmpdirs / sizeof *tmpdirs), "more than 64 temporary directories");
    tmpdirs[n_tmpdirs++] = p;
    return p;
}

char *hl_test_path(const char *a, const char *b) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    cr_assert(snprintf(p, sizeof buf[0], "%s/%s", a, b) < (int)sizeof buf[0], "path too long");
    return p;
}

char *hl_test_path_alloc(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

unsigned char *hl_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n, "short read of %s", path);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

void hl_test_write_file(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    if (n) cr_assert_eq(fwrite(b, 1, n, f), n, "short write of %s", path);
    cr_assert_eq(fclose(f), 0, "cannot close %s", path);
}

/* One batch of samples order[0..b) through f in batch-invariant eval mode; each sample's output and input gradient
 * copied to out[order[j]] and grad[order[j]] (per-sample sizes ny, nx). */
static void invariance_run(hl_ctx *ctx, int ndim, const int64_t *sample, hl_test_op_fn f, void *user,
                           const float *pool, const int *order, int b, int64_t nx, int64_t *ny, float **out,
                           float **grad) {
    int64_t shape[HL_MAX_DIMS];
    shape[0] = b;
    for (int d = 0; d < ndim; d++) shape[d + 1] = sample[d];
    hl_ctx_reset(ctx);
    hl_ctx_set_train(ctx, false);
    hl_ctx_set_batch_invariant(ctx, true);
    hl_tensor *x = hl_tensor_new(ctx, ndim + 1, shape);
    for (int j = 0; j < b; j++) memcpy(x->data + j * nx, pool + order[j] * nx, (size_t)nx * sizeof(float));
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *in[1] = {x};
    hl_tensor *y = f(ctx, in, user);
    cr_assert(y->shape[0] == b && hl_tensor_numel(y) % b == 0, "batch invariance: f changed the batch size");
    *ny = hl_tensor_numel(y) / b;
    float *seed = malloc((size_t)hl_tensor_numel(y) * sizeof *seed);
    cr_assert(seed);
    for (int j = 0; j < b; j++) { /* the seed gradient belongs to the sample, not to its position */
        hl_rng r = hl_rng_make(900 + (uint64_t)order[j], 5);
        hl_rng_uniform(&r, seed + j * *ny, *ny, -1.0f, 1.0f);
    }
    hl_backward_seed(ctx, y, seed);
    for (int j = 0; j < b; j++) {
        if (!out[order[j]]) out[order[j]] = malloc((size_t)*ny * sizeof(float));
        if (!grad[order[j]]) grad[order[j]] = malloc((size_t)nx * sizeof(float));
        memcpy(out[order[j]], y->data + j * *ny, (size_t)*ny * sizeof(float));
        memcpy(grad[order[j]], x->grad + j * nx, (size_t)nx * sizeof(float));
    }
    free(seed);
    hl_ctx_set_batch_invariant(ctx, false);
}

void hl_test_batch_invariance(const char *what, int ndim, const int64_t *sample, hl_test_op_fn f, void *user) {
    enum { P = 17 };
    int64_t nx = 1, ny = 0;
    for (int d = 0; d < ndim; d++) nx *= sample[d];
    float *pool = malloc((size_t)(P * nx) * sizeof *pool), *ref_out[P] = {0}, *ref_grad[P] = {0};
    cr_assert(pool);
    hl_rng r = hl_rng_make(4242, 3);
    hl_rng_uniform(&r, pool, P * nx, -1.0f, 1.0f);
    hl_ctx *ctx = hl_test_ctx();
    const int threads0 = hl_threads_get();
    hl_threads_set(1);
    for (int s = 0; s < P; s++) /* the reference: every sample alone, one thread */
        invariance_run(ctx, ndim, sample, f, user, pool, &s, 1, nx, &ny, ref_out, ref_grad);
    static const int sizes[3] = {2, 5, P};
    for (int t = 1; t <= 2; t++) {
        hl_threads_set(t);
        for (int si = 0; si < 3; si++)
            for (int rot = 0; rot < P; rot += 3) { /* batches of consecutive samples, starting at every 3rd */
                int b = sizes[si], order[P];
                float *out[P] = {0}, *grad[P] = {0};
                for (int j = 0; j < b; j++) order[j] = (rot + j * 7) % P; /* distinct: P is prime, 7 < P */
                int64_t nyb;
                invariance_run(ctx, ndim, sample, f, user, pool, order, b, nx, &nyb, out, grad);
                cr_assert_eq(nyb, ny);
                for (int j = 0; j < b; j++) {
                    int s = order[j];
                    cr_assert(memcmp(out[s], ref_out[s], (size_t)ny * sizeof(float)) == 0,
                              "%s: output of sample %d differs at position %d of a batch of %d, %d thread(s)", what,
                              s, j, b, t);
                    cr_assert(memcmp(grad[s], ref_grad[s], (size_t)nx * sizeof(float)) == 0,
                              "%s: input gradient of sample %d differs at position %d of a batch of %d, %d thread(s)",
                              what, s, j, b, t);
                }
                for (int s = 0; s < P; s++) free(out[s]), free(grad[s]);
            }
    }
    hl_threads_set(threads0);
    for (int s = 0; s < P; s++) free(ref_out[s]), free(ref_grad[s]);
    free(pool);
    hl_ctx_free(ctx);
}
