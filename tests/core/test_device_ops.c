/* tests/core/test_device_ops.c — every raw kernel of every family, run on every available device.
 *
 * One test body per kernel family: a small case that calls EVERY kernel of the family through a device's table
 * (core/kernels.h), with inputs uploaded by base->from_host and results read back by base->to_host. The body runs
 * on the CPU table first and its results are checked against values computed independently here (naive loops,
 * hand-known values), so the CPU half can fail on its own. When hl_device_available(HL_DEVICE_CUDA), the same body
 * runs on the CUDA table and every result is compared with the CPU's within the tolerance given per result:
 *   exact (0)            copies, fill, transposes, im2col, max-pool values and argmax, dropout masks, identity warp;
 *   1e-6 abs + 1e-5 rel  elementwise maps and their gradients (device expf/logf/tanhf/powf are within 2 ulp of
 *                        glibc's; nvcc contracts a·b + c into fma);
 *   1e-5 abs + 1e-4 rel  anything that sums (GEMM via cuBLAS, col2im, pooling/norm/reduce/loss sums, sum_to,
 *                        atomics in max-pool/warp backward): the summation order differs from the CPU's.
 * The body also runs on the shadow device (core/shadow/: the CPU kernels on memory the host cannot touch) and every
 * result must equal the CPU's bit for bit: a table entry that is missing, wired to the wrong kernel or that lets a
 * kernel read unmapped shadow memory fails here.
 * Without a CUDA device (or in a build without -DHASHLAB_CUDA=ON) each test logs "<family>: skipped: no CUDA
 * device" and passes on the CPU and shadow halves.
 *
 * Device memory comes from each table's base->dev_alloc / dev_free. */
#include "test_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* ---- a device run: allocations on one device + the results read back ------------------------------------------- */

#define RUN_MAX_BUFS 128
#define RUN_MAX_SEGS 64

typedef struct seg {
    const char *what;
    int64_t off, n;
    float atol, rtol;
} seg;

typedef struct dev_run {
    const hl_kernels *k;
    void *bufs[RUN_MAX_BUFS];
    int nbufs;
    float *out; /* host: every result, in order */
    int64_t nout, cap;
    seg segs[RUN_MAX_SEGS];
    int nsegs;
} dev_run;

static void run_init(dev_run *r, hl_device dev) {
    memset(r, 0, sizeof *r);
    r->k = hl_kernels_for(dev);
    cr_assert(r->k, "no kernel table for %s", hl_device_name(dev));
    cr_assert(r->k->dev == dev, "the table for %s says it is %s", hl_device_name(dev), hl_device_name(r->k->dev));
}

static void run_fini(dev_run *r) {
    for (int i = 0; i < r->nbufs; i++) r->k->base->dev_free(r->bufs[i]);
    free(r->out);
}

/* n floats (or int32s) of device memory, uninitialised. */
static float *dev_alloc(dev_run *r, int64_t n) {
    cr_assert(r->nbufs < RUN_MAX_BUFS, "too many buffers");
    const size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    void *p = r->k->base->dev_alloc(bytes);
    cr_assert(p, "device allocation of %zu bytes failed: %s", bytes, hl_error_last());
    r->bufs[r->nbufs++] = p;
    return p;
}

/* Device copy of host data. */
static float *dev_put(dev_run *r, const float *host, int64_t n) {
    float *d = dev_alloc(r, n);
    r->k->base->from_host(n, host, d);
    return d;
}

/* Device buffer filled with v (base->fill). */
static float *dev_full(dev_run *r, int64_t n, float v) {
    float *d = dev_alloc(r, n);
    r->k->base->fill(n, v, d);
    return d;
}

static float *out_grow(dev_run *r, int64_t n) {
    if (r->nout + n > r->cap) {
        r->cap = (r->nout + n) * 2 + 256;
        r->out = realloc(r->out, (size_t)r->cap * sizeof *r->out);
        cr_assert(r->out, "out of memory");
    }
    float *p = r->out + r->nout;
    r->segs[r->nsegs] = (seg){NULL, r->nout, n, 0, 0};
    r->nout += n;
    return p;
}

/* Reads n results back and records them under `what` with the CUDA-vs-CPU tolerance atol + rtol·|cpu|. */
static void take(dev_run *r, const char *what, const float *dev, int64_t n, float atol, float rtol) {
    cr_assert(r->nsegs < RUN_MAX_SEGS, "too many results");
    float *dst = out_grow(r, n);
    r->k->base->to_host(n, dev, dst);
    r->segs[r->nsegs].what = what;
    r->segs[r->nsegs].atol = atol;
    r->segs[r->nsegs].rtol = rtol;
    r->nsegs++;
}

/* Same for int32 results (argmax indices), converted to floats (exact below 2^24). */
static void take_i32(dev_run *r, const char *what, const int32_t *dev, int64_t n) {
    int32_t *tmp = malloc((size_t)n * sizeof *tmp);
    cr_assert(tmp);
    r->k->base->to_host(n, (const float *)(const void *)dev, (float *)(void *)tmp);
    float *dst = out_grow(r, n);
    for (int64_t i = 0; i < n; i++) dst[i] = (float)tmp[i];
    free(tmp);
    r->segs[r->nsegs].what = what;
    r->nsegs++;
}

/* The result recorded under `what`. */
static const float *res(const dev_run *r, const char *what) {
    for (int i = 0; i < r->nsegs; i++)
        if (strcmp(r->segs[i].what, what) == 0) return r->out + r->segs[i].off;
    cr_assert_fail("no result '%s'", what);
    return NULL;
}

/* Seeded host data in [lo, hi). */
static float *host_rand(int64_t n, uint64_t seed, float lo, float hi) {
    float *p = malloc((size_t)n * sizeof *p);
    cr_assert(p);
    hl_rng g = hl_rng_make(seed, 77);
    hl_rng_uniform(&g, p, n, lo, hi);
    return p;
}

typedef void (*family_body)(dev_run *r);
typedef void (*family_check)(const dev_run *cpu);

/* Runs `body` on the CPU (checked by `check`), on the shadow device (equal to the CPU bit for bit), then on CUDA
 * when present (compared with the CPU per result). */
static void run_family(const char *family, family_body body, family_check check) {
    dev_run cpu, sh;
    run_init(&cpu, HL_DEVICE_CPU);
    body(&cpu);
    check(&cpu);
    run_init(&sh, HL_DEVICE_SHADOW);
    body(&sh);
    cr_assert(sh.nsegs == cpu.nsegs && sh.nout == cpu.nout, "%s: the shadow run produced a different result list",
              family);
    for (int i = 0; i < cpu.nsegs; i++)
        cr_assert(memcmp(sh.out + sh.segs[i].off, cpu.out + cpu.segs[i].off, (size_t)cpu.segs[i].n * sizeof(float)) == 0,
                  "%s/%s: the shadow device differs from the CPU", family, cpu.segs[i].what);
    run_fini(&sh);
    if (!hl_device_available(HL_DEVICE_CUDA)) {
        cr_log_info("%s: skipped: no CUDA device (CPU half checked)", family);
        fprintf(stderr, "test_device_ops: %s: skipped: no CUDA device (CPU half checked)\n", family);
        run_fini(&cpu);
        return;
    }
    dev_run gpu;
    run_init(&gpu, HL_DEVICE_CUDA);
    body(&gpu);
    cr_assert(gpu.nsegs == cpu.nsegs && gpu.nout == cpu.nout, "%s: the CUDA run produced a different result list",
              family);
    for (int i = 0; i < cpu.nsegs; i++) {
        char what[160];
        snprintf(what, sizeof what, "%s/%s (cuda vs cpu)", family, cpu.segs[i].what);
        hl_test_assert_close(gpu.out + gpu.segs[i].off, cpu.out + cpu.segs[i].off, cpu.segs[i].n, cpu.segs[i].atol,
                             cpu.segs[i].rtol, what);
    }
    run_fini(&gpu);
    run_fini(&cpu);
}

#define TOL_EXACT 0.0f, 0.0f
#define TOL_EW 1e-6f, 1e-5f
#define TOL_SUM 1e-5f, 1e-4f

/* ---- base: fill, copy, axpy, scale, gemm (all transposes, padded strides, K = 0), gemm_batched, gemv_batched --- */

enum { GM = 5, GN = 7, GK = 3, GBATCH = 3 };

/* Stored operand sizes for a transpose combination (padded leading dims). */
static int64_t lda_of(bool ta) { return (ta ? GM : GK) + 1; }
static int64_t ldb_of(bool tb) { return (tb ? GK : GN) + 2; }
#define GLDC (GN + 3)

static void base_body(dev_run *r) {
    const hl_kern_base *b = r->k->base;
    float *x = host_rand(37, 1, -1, 1);
    float *dx = dev_put(r, x, 37);
    float *f = dev_full(r, 37, 1.5f);
    take(r, "fill", f, 37, TOL_EXACT);
    float *y = dev_alloc(r, 37);
    b->copy(37, dx, y);
    take(r, "copy", y, 37, TOL_EXACT);
    b->axpy(37, 0.5f, dx, f);
    take(r, "axpy", f, 37, TOL_EW);
    b->scale(37, -2.0f, f);
    take(r, "scale", f, 37, TOL_EW);
    static const char *const names[4] = {"gemm_nn", "gemm_nt", "gemm_tn", "gemm_tt"};
    for (int t = 0; t < 4; t++) {
        const bool ta = t & 2, tb = t & 1;
        const int64_t lda = lda_of(ta), ldb = ldb_of(tb);
        const int64_t na = (ta ? GK : GM) * lda, nb = (tb ? GN : GK) * ldb;
        float *A = host_rand(na, 10 + (uint64_t)t, -1, 1), *B = host_rand(nb, 20 + (uint64_t)t, -1, 1);
        float *C = host_rand(GM * GLDC, 30 + (uint64_t)t, -1, 1);
        float *dA = dev_put(r, A, na), *dB = dev_put(r, B, nb), *dC = dev_put(r, C, GM * GLDC);
        b->gemm(ta, tb, GM, GN, GK, 1.25f, dA, lda, dB, ldb, 0.5f, dC, GLDC);
        take(r, names[t], dC, GM * GLDC, TOL_SUM);
        free(A);
        free(B);
        free(C);
    }
    /* K = 0: C = beta·C (beta = 0 clears it, even over NaN). */
    float *C0 = host_rand(GM * GLDC, 40, -1, 1);
    C0[3] = NAN;
    float *dC0 = dev_put(r, C0, GM * GLDC);
    b->gemm(false, false, GM, GN, 0, 1.0f, dx, 1, dx, GN, 0.0f, dC0, GLDC);
    take(r, "gemm_k0", dC0, GM * GLDC, TOL_EXACT);
    /* Batched, A transposed: A_i [K,M] at stride sa, B_i [K,N], C_i [M,N]. */
    const int64_t sa = GK * GM + 4, sb = GK * GN + 1, sc = GM * GN + 2;
    float *A = host_rand(GBATCH * sa, 50, -1, 1), *B = host_rand(GBATCH * sb, 51, -1, 1);
    float *dA = dev_put(r, A, GBATCH * sa), *dB = dev_put(r, B, GBATCH * sb), *dC = dev_full(r, GBATCH * sc, 0.0f);
    b->gemm_batched(true, false, GM, GN, GK, 1.0f, dA, GM, sa, dB, GN, sb, 0.0f, dC, GN, sc, GBATCH);
    take(r, "gemm_batched", dC, GBATCH * sc, TOL_SUM);
    /* gemv_batched, both transposes: shared A [GM, GN] with row stride GLDC, y_i = 1.5·op(A)·x_i + 0.5·y_i */
    float *Av = host_rand(GM * GLDC, 60, -1, 1), *xv = host_rand(GBATCH * 9, 61, -1, 1);
    float *dAv = dev_put(r, Av, GM * GLDC), *dxv = dev_put(r, xv, GBATCH * 9);
    for (int t = 0; t < 2; t++) {
        float *yv = host_rand(GBATCH * 10, 62 + (uint64_t)t, -1, 1), *dyv = dev_put(r, yv, GBATCH * 10);
        b->gemv_batched(t == 1, GM, GN, 1.5f, dAv, GLDC, dxv, 9, 0.5f, dyv, 10, GBATCH);
        take(r, t ? "gemv_batched_t" : "gemv_batched_n", dyv, GBATCH * 10, TOL_SUM);
        free(yv);
    }
    free(Av);
    free(xv);
    free(A);
    free(B);
    free(C0);
    free(x);
}

/* op(A)[i,k] of a stored operand. */
static double opa(const float *A, bool ta, int64_t lda, int64_t i, int64_t k) {
    return ta ? A[k * lda + i] : A[i * lda + k];
}
static double opb(const float *B, bool tb, int64_t ldb, int64_t k, int64_t j) {
    return tb ? B[j * ldb + k] : B[k * ldb + j];
}

static void base_check(const dev_run *r) {
    float *x = host_rand(37, 1, -1, 1);
    const float *fill = res(r, "fill"), *copy = res(r, "copy"), *axpy = res(r, "axpy"), *scale = res(r, "scale");
    for (int i = 0; i < 37; i++) {
        cr_assert(fill[i] == 1.5f && copy[i] == x[i], "fill/copy at %d", i);
        cr_assert(fabsf(axpy[i] - (1.5f + 0.5f * x[i])) < 1e-6f && fabsf(scale[i] + 2.0f * axpy[i]) < 1e-6f);
    }
    static const char *const names[4] = {"gemm_nn", "gemm_nt", "gemm_tn", "gemm_tt"};
    for (int t = 0; t < 4; t++) {
        const bool ta = t & 2, tb = t & 1;
        const int64_t lda = lda_of(ta), ldb = ldb_of(tb);
        float *A = host_rand((ta ? GK : GM) * lda, 10 + (uint64_t)t, -1, 1);
        float *B = host_rand((tb ? GN : GK) * ldb, 20 + (uint64_t)t, -1, 1);
        float *C = host_rand(GM * GLDC, 30 + (uint64_t)t, -1, 1);
        const float *got = res(r, names[t]);
        for (int64_t i = 0; i < GM; i++)
            for (int64_t j = 0; j < GLDC; j++) {
                double want = C[i * GLDC + j]; /* padding columns must be untouched */
                if (j < GN) {
                    double s = 0.0;
                    for (int64_t k = 0; k < GK; k++) s += opa(A, ta, lda, i, k) * opb(B, tb, ldb, k, j);
                    want = 1.25 * s + 0.5 * want;
                }
                cr_assert(fabs(got[i * GLDC + j] - want) < 1e-5, "%s [%lld,%lld]: %g vs %g", names[t], (long long)i,
                          (long long)j, got[i * GLDC + j], want);
            }
        free(A);
        free(B);
        free(C);
    }
    const float *k0 = res(r, "gemm_k0");
    float *C0 = host_rand(GM * GLDC, 40, -1, 1);
    for (int64_t i = 0; i < GM; i++)
        for (int64_t j = 0; j < GLDC; j++)
            cr_assert(j < GN ? k0[i * GLDC + j] == 0.0f : k0[i * GLDC + j] == C0[i * GLDC + j], "gemm K=0");
    const int64_t sa = GK * GM + 4, sb = GK * GN + 1, sc = GM * GN + 2;
    float *A = host_rand(GBATCH * sa, 50, -1, 1), *B = host_rand(GBATCH * sb, 51, -1, 1);
    const float *gb = res(r, "gemm_batched");
    for (int64_t q = 0; q < GBATCH; q++)
        for (int64_t i = 0; i < GM; i++)
            for (int64_t j = 0; j < GN; j++) {
                double s = 0.0;
                for (int64_t k = 0; k < GK; k++) s += (double)A[q * sa + k * GM + i] * B[q * sb + k * GN + j];
                cr_assert(fabs(gb[q * sc + i * GN + j] - s) < 1e-5, "gemm_batched");
            }
    cr_assert(gb[sc - 1] == 0.0f && gb[2 * sc - 2] == 0.0f, "gemm_batched wrote between matrices");
    float *Av = host_rand(GM * GLDC, 60, -1, 1), *xv = host_rand(GBATCH * 9, 61, -1, 1);
    for (int t = 0; t < 2; t++) {
        const float *yg = res(r, t ? "gemv_batched_t" : "gemv_batched_n");
        float *y0 = host_rand(GBATCH * 10, 62 + (uint64_t)t, -1, 1);
        const int64_t out = t ? GN : GM, in = t ? GM : GN;
        for (int64_t q = 0; q < GBATCH; q++)
            for (int64_t o = 0; o < 10; o++) {
                double want = y0[q * 10 + o]; /* beyond the output length: untouched */
                if (o < out) {
                    double s = 0.0;
                    for (int64_t k = 0; k < in; k++)
                        s += (double)(t ? Av[k * GLDC + o] : Av[o * GLDC + k]) * xv[q * 9 + k];
                    want = 1.5 * s + 0.5 * want;
                }
                cr_assert(fabs(yg[q * 10 + o] - want) < 1e-5, "gemv_batched %s [%lld,%lld]: %g vs %g",
                          t ? "t" : "n", (long long)q, (long long)o, yg[q * 10 + o], want);
            }
        free(y0);
    }
    free(Av);
    free(xv);
    free(A);
    free(B);
    free(C0);
    free(x);
}

Test(device_ops, base) { run_family("base", base_body, base_check); }

/* ---- ew: every binary op flat / broadcast / backward, sum_to, every unary op and its gradient ----------------- */

enum { EB = 3, EC = 4, EHW = 5, EN = EB * EC * EHW };
static const hl_ew_bcast ew_g1 = {3, {EB, EC, EHW}, {EC * EHW, EHW, 1}, {0, 1, 0}}; /* [B,C,HW] op [1,C,1] */
static const hl_ew_bcast ew_g2 = {2, {6, 8}, {0, 0}, {8, 1}};                       /* scalar op [6,8] */
static const hl_ew_bcast ew_g3 = {3, {EB, EC, EHW}, {0, 1, 0}, {0, 0, 0}};          /* sum_to [B,C,HW] -> [C] */

static void ew_body(dev_run *r) {
    const hl_kern_ew *e = r->k->ew;
    float *ha = host_rand(EN, 2, -2, 2), *hb = host_rand(EN, 3, 0.5f, 2), *hd = host_rand(EN, 4, -1, 1);
    float *hacc = host_rand(EN, 5, -1, 1);
    float *a = dev_put(r, ha, EN), *b = dev_put(r, hb, EN), *dy = dev_put(r, hd, EN);
    static const char *const fwd[4] = {"add", "sub", "mul", "div"};
    static const char *const bwa[4] = {"add_da", "sub_da", "mul_da", "div_da"};
    static const char *const bwb[4] = {"add_db", "sub_db", "mul_db", "div_db"};
    static const char *const bc[4] = {"bc_add", "bc_sub", "bc_mul", "bc_div"};
    static const char *const bca[4] = {"bc_add_da", "bc_sub_da", "bc_mul_da", "bc_div_da"};
    static const char *const bcb[4] = {"bc_add_db", "bc_sub_db", "bc_mul_db", "bc_div_db"};
    static const char *const sc[4] = {"sc_add", "sc_sub", "sc_mul", "sc_div"};
    static const char *const scb[4] = {"sc_add_da", "sc_sub_da", "sc_mul_da", "sc_div_da"};
    for (int op = 0; op < 4; op++) {
        float *y = dev_alloc(r, EN);
        e->binary((hl_ew_binop)op, EN, a, b, y);
        take(r, fwd[op], y, EN, TOL_EW);
        float *da = dev_put(r, hacc, EN), *db = dev_put(r, hacc, EN);
        e->binary_bwd((hl_ew_binop)op, EN, a, b, dy, da, db);
        take(r, bwa[op], da, EN, TOL_EW);
        take(r, bwb[op], db, EN, TOL_EW);
        /* Broadcast [B,C,HW] op [C] (b = the first C values of hb). */
        float *yb = dev_alloc(r, EB * EC * EHW);
        e->binary_bcast((hl_ew_binop)op, ew_g1, a, b, yb);
        take(r, bc[op], yb, EB * EC * EHW, TOL_EW);
        float *ga = dev_put(r, hacc, EB * EC * EHW), *gb = dev_put(r, hacc, EC);
        e->binary_bwd_bcast((hl_ew_binop)op, 0, ew_g1, a, b, dy, ga);
        e->binary_bwd_bcast((hl_ew_binop)op, 1, ew_g1, a, b, dy, gb);
        take(r, bca[op], ga, EB * EC * EHW, TOL_EW);
        take(r, bcb[op], gb, EC, TOL_SUM);
        /* Scalar hb[0] op hb[0..48) viewed as [6,8] (positive operands: the divisions stay well conditioned). */
        float *ys = dev_alloc(r, 48), *gs = dev_put(r, hacc, 1);
        e->binary_bcast((hl_ew_binop)op, ew_g2, b, b, ys);
        take(r, sc[op], ys, 48, TOL_EW);
        e->binary_bwd_bcast((hl_ew_binop)op, 0, ew_g2, b, b, dy, gs);
        take(r, scb[op], gs, 1, TOL_SUM);
    }
    float *st = dev_put(r, hacc, EC);
    e->sum_to(ew_g3, 0.7f, dy, st);
    take(r, "sum_to", st, EC, TOL_SUM);
    static const char *const un[HL_EW_UNOP_COUNT] = {"affine", "pow", "clamp",    "abs",      "exp",  "log", "relu",
                                                     "leaky",  "sigm", "tanh",    "softplus", "sign", "ste"};
    static const char *const ung[HL_EW_UNOP_COUNT] = {"affine_g", "pow_g",  "clamp_g",    "abs_g",  "exp_g",
                                                      "log_g",    "relu_g", "leaky_g",    "sigm_g", "tanh_g",
                                                      "softplus_g", "sign_g", "ste_g"};
    const float p0s[HL_EW_UNOP_COUNT] = {1.5f, 2.5f, -0.5f, 0, 0, 0, 0, 0.1f, 0, 0.7f, 0, 0, 0};
    const float p1s[HL_EW_UNOP_COUNT] = {-0.2f, 0, 0.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int op = 0; op < HL_EW_UNOP_COUNT; op++) {
        const bool pos = op == HL_EW_POW || op == HL_EW_LOG; /* positive inputs (b) for x^2.5 and ln */
        const float *x = pos ? b : a;
        float *y = dev_alloc(r, EN), *dx = dev_put(r, hacc, EN);
        e->unary((hl_ew_unop)op, EN, p0s[op], p1s[op], x, y);
        e->unary_bwd((hl_ew_unop)op, EN, p0s[op], p1s[op], x, y, dy, dx);
        take(r, un[op], y, EN, TOL_EW);
        take(r, ung[op], dx, EN, TOL_EW);
    }
    float *mask = dev_put(r, hacc, EN); /* masked where a ≤ 0 */
    e->relu_mask(EN, a, mask);
    take(r, "relu_mask", mask, EN, TOL_EXACT);
    free(ha);
    free(hb);
    free(hd);
    free(hacc);
}

static void ew_check(const dev_run *r) {
    float *ha = host_rand(EN, 2, -2, 2), *hb = host_rand(EN, 3, 0.5f, 2), *hd = host_rand(EN, 4, -1, 1);
    float *hacc = host_rand(EN, 5, -1, 1);
    const float *add = res(r, "add"), *mul_da = res(r, "mul_da"), *div_db = res(r, "div_db");
    for (int i = 0; i < EN; i++) {
        cr_assert(add[i] == ha[i] + hb[i], "add");
        cr_assert(fabsf(mul_da[i] - (hacc[i] + hd[i] * hb[i])) < 1e-6f, "mul da accumulates dy·b");
        cr_assert(fabsf(div_db[i] - (hacc[i] - hd[i] * ha[i] / (hb[i] * hb[i]))) < 1e-5f, "div db");
    }
    const float *bc_mul = res(r, "bc_mul"), *bc_mul_db = res(r, "bc_mul_db"), *st = res(r, "sum_to");
    for (int c = 0; c < EC; c++) {
        double s = 0.0, s2 = 0.0;
        for (int bb = 0; bb < EB; bb++)
            for (int k = 0; k < EHW; k++) {
                const int i = (bb * EC + c) * EHW + k;
                cr_assert(bc_mul[i] == ha[i] * hb[c], "bcast mul at %d: %g vs %g", i, bc_mul[i], ha[i] * hb[c]);
                s += (double)hd[i] * ha[i];
                s2 += hd[i];
            }
        cr_assert(fabs(bc_mul_db[c] - (hacc[c] + s)) < 1e-5, "bcast mul db[c] = Σ dy·a");
        cr_assert(fabs(st[c] - (hacc[c] + 0.7 * s2)) < 1e-5, "sum_to");
    }
    double s = 0.0;
    for (int i = 0; i < 48; i++) s += hd[i];
    cr_assert(fabs(res(r, "sc_sub_da")[0] - (hacc[0] + s)) < 1e-5, "scalar operand gradient sums dy");
    const float *relu = res(r, "relu"), *relu_g = res(r, "relu_g"), *sigm = res(r, "sigm"), *sign_g = res(r, "sign_g");
    const float *clamp = res(r, "clamp"), *ste = res(r, "ste");
    for (int i = 0; i < EN; i++) {
        cr_assert(relu[i] == (ha[i] > 0 ? ha[i] : 0.0f) && relu_g[i] == hacc[i] + (ha[i] > 0 ? hd[i] : 0.0f), "relu");
        cr_assert(res(r, "relu_mask")[i] == (ha[i] > 0 ? hacc[i] : 0.0f), "relu_mask");
        cr_assert(fabsf(sigm[i] - 1.0f / (1.0f + expf(-ha[i]))) < 1e-6f, "sigmoid");
        cr_assert(sign_g[i] == hacc[i], "sign has zero gradient");
        cr_assert(clamp[i] >= -0.5f && clamp[i] <= 0.5f && ste[i] == (ha[i] >= 0 ? 1.0f : -1.0f), "clamp / ste");
    }
    free(ha);
    free(hb);
    free(hd);
    free(hacc);
}

Test(device_ops, ew) { run_family("ew", ew_body, ew_check); }

/* ---- conv: im2col / col2im, channel-major copies, bias ---------------------------------------------------------- */

/* B=2 C=3 H=5 W=6, kernel 3×2, stride (2,1), padding (1,0), dilation (1,2): Ho = 3, Wo = 4. */
static const hl_conv_geom cv_g = {2, 3, 5, 6, 3, 2, 3, 4, 2, 1, 1, 0, 1, 2};
enum { CV_X = 2 * 3 * 5 * 6, CV_ROWS = 3 * 3 * 2, CV_COLS = 2 * 3 * 4, CV_HW = 30 };

static void conv_body(dev_run *r) {
    const hl_kern_conv *c = r->k->conv;
    float *hx = host_rand(CV_X, 6, -1, 1), *hcol = host_rand(CV_ROWS * CV_COLS, 7, -1, 1);
    float *hb = host_rand(3, 8, -1, 1);
    float *x = dev_put(r, hx, CV_X), *col = dev_alloc(r, CV_ROWS * CV_COLS), *bias = dev_put(r, hb, 3);
    c->im2col(cv_g, x, col);
    take(r, "im2col", col, CV_ROWS * CV_COLS, TOL_EXACT);
    float *gx = dev_put(r, hx, CV_X), *gcol = dev_put(r, hcol, CV_ROWS * CV_COLS);
    c->col2im(cv_g, gcol, gx);
    take(r, "col2im", gx, CV_X, TOL_SUM);
    float *cm = dev_alloc(r, CV_X);
    c->to_cmajor(2, 3, CV_HW, x, cm);
    take(r, "to_cmajor", cm, CV_X, TOL_EXACT);
    float *y = dev_alloc(r, CV_X);
    c->from_cmajor(2, 3, CV_HW, cm, NULL, false, y);
    take(r, "from_cmajor", y, CV_X, TOL_EXACT);
    c->from_cmajor(2, 3, CV_HW, cm, bias, true, y);
    take(r, "from_cmajor_acc_bias", y, CV_X, TOL_EW);
    c->bias_add(2, 3, CV_HW, bias, y);
    take(r, "bias_add", y, CV_X, TOL_EW);
    float *db = dev_put(r, hb, 3);
    c->bias_bwd(2, 3, CV_HW, x, db);
    take(r, "bias_bwd", db, 3, TOL_SUM);
    free(hx);
    free(hcol);
    free(hb);
}

static void conv_check(const dev_run *r) {
    const hl_conv_geom g = cv_g;
    float *hx = host_rand(CV_X, 6, -1, 1), *hcol = host_rand(CV_ROWS * CV_COLS, 7, -1, 1);
    float *hb = host_rand(3, 8, -1, 1);
    float *want_x = malloc(CV_X * sizeof *want_x);
    memcpy(want_x, hx, CV_X * sizeof *want_x);
    const float *col = res(r, "im2col"), *gx = res(r, "col2im");
    for (int64_t ch = 0; ch < g.C; ch++)
        for (int64_t i = 0; i < g.kh; i++)
            for (int64_t j = 0; j < g.kw; j++)
                for (int64_t b = 0; b < g.B; b++)
                    for (int64_t oh = 0; oh < g.Ho; oh++)
                        for (int64_t ow = 0; ow < g.Wo; ow++) {
                            const int64_t row = (ch * g.kh + i) * g.kw + j, q = (b * g.Ho + oh) * g.Wo + ow;
                            const int64_t ih = oh * g.sh - g.ph + i * g.dh, iw = ow * g.sw - g.pw + j * g.dw;
                            const bool in = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
                            const int64_t xi = ((b * g.C + ch) * g.H + ih) * g.W + iw;
                            cr_assert(col[row * CV_COLS + q] == (in ? hx[xi] : 0.0f), "im2col row %lld col %lld",
                                      (long long)row, (long long)q);
                            if (in) want_x[xi] += hcol[row * CV_COLS + q];
                        }
    hl_test_assert_close(gx, want_x, CV_X, 1e-5f, 1e-5f, "col2im = adjoint of im2col, accumulated");
    const float *cm = res(r, "to_cmajor"), *y = res(r, "from_cmajor"), *db = res(r, "bias_bwd");
    for (int b = 0; b < 2; b++)
        for (int ch = 0; ch < 3; ch++)
            for (int k = 0; k < CV_HW; k++) {
                cr_assert(cm[(ch * 2 + b) * CV_HW + k] == hx[(b * 3 + ch) * CV_HW + k], "to_cmajor");
                cr_assert(y[(b * 3 + ch) * CV_HW + k] == hx[(b * 3 + ch) * CV_HW + k], "from_cmajor round trip");
            }
    for (int ch = 0; ch < 3; ch++) {
        double s = hb[ch];
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < CV_HW; k++) s += hx[(b * 3 + ch) * CV_HW + k];
        cr_assert(fabs(db[ch] - s) < 1e-5, "bias_bwd");
    }
    free(hx);
    free(hcol);
    free(hb);
    free(want_x);
}

Test(device_ops, conv) { run_family("conv", conv_body, conv_check); }

/* ---- pool: max (general and 2×2), avg, global avg, forward and backward ---------------------------------------- */

enum { PN = 3, PH = 7, PW = 6, PHo = 4, PWo = 3 }; /* k3 s2 p1 */

static void pool_body(dev_run *r) {
    const hl_kern_pool *p = r->k->pool;
    float *hx = host_rand(PN * PH * PW, 9, -1, 1), *hg = host_rand(PN * PH * PW, 10, -1, 1);
    for (int i = 0; i < PN * PH * PW; i++) hx[i] = roundf(hx[i] * 4.0f) / 4.0f; /* ties: the first max must win */
    float *x = dev_put(r, hx, PN * PH * PW), *dy = dev_put(r, hg, PN * PHo * PWo);
    float *y = dev_alloc(r, PN * PHo * PWo);
    int32_t *idx = (int32_t *)(void *)dev_alloc(r, PN * PHo * PWo);
    p->max_fwd(PN, PH, PW, 3, 2, 1, PHo, PWo, x, y, idx);
    take(r, "max", y, PN * PHo * PWo, TOL_EXACT);
    take_i32(r, "max_idx", idx, PN * PHo * PWo);
    float *dx = dev_put(r, hg, PN * PH * PW);
    p->max_bwd(PN, PH, PW, PHo, PWo, idx, dy, dx);
    take(r, "max_bwd", dx, PN * PH * PW, TOL_SUM);
    /* 2×2 stride 2 on the first 6 rows viewed as [N,6,6]. */
    float *y2 = dev_alloc(r, PN * 9);
    int32_t *idx2 = (int32_t *)(void *)dev_alloc(r, PN * 9);
    p->max_fwd(PN, 6, 6, 2, 2, 0, 3, 3, x, y2, idx2);
    take(r, "max2x2", y2, PN * 9, TOL_EXACT);
    take_i32(r, "max2x2_idx", idx2, PN * 9);
    float *ya = dev_alloc(r, PN * PHo * PWo), *dxa = dev_put(r, hg, PN * PH * PW);
    p->avg_fwd(PN, PH, PW, 3, 2, 1, PHo, PWo, x, ya);
    p->avg_bwd(PN, PH, PW, 3, 2, 1, PHo, PWo, dy, dxa);
    take(r, "avg", ya, PN * PHo * PWo, TOL_SUM);
    take(r, "avg_bwd", dxa, PN * PH * PW, TOL_SUM);
    float *yg = dev_alloc(r, PN), *dxg = dev_put(r, hg, PN * PH * PW);
    p->gavg_fwd(PN, PH * PW, x, yg);
    p->gavg_bwd(PN, PH * PW, dy, dxg);
    take(r, "gavg", yg, PN, TOL_SUM);
    take(r, "gavg_bwd", dxg, PN * PH * PW, TOL_EW);
    /* Adaptive 7×6 -> 3×8: overlapping row bins, repeated columns. */
    float *yad = dev_alloc(r, PN * 3 * 8), *dyad = dev_put(r, hg, PN * 3 * 8), *dxad = dev_put(r, hg, PN * PH * PW);
    p->adaptive_avg_fwd(PN, PH, PW, 3, 8, x, yad);
    p->adaptive_avg_bwd(PN, PH, PW, 3, 8, dyad, dxad);
    take(r, "adaptive", yad, PN * 3 * 8, TOL_SUM);
    take(r, "adaptive_bwd", dxad, PN * PH * PW, TOL_SUM);
    free(hx);
    free(hg);
}

static void pool_check(const dev_run *r) {
    float *hx = host_rand(PN * PH * PW, 9, -1, 1), *hg = host_rand(PN * PH * PW, 10, -1, 1);
    for (int i = 0; i < PN * PH * PW; i++) hx[i] = roundf(hx[i] * 4.0f) / 4.0f;
    const float *y = res(r, "max"), *idx = res(r, "max_idx"), *ya = res(r, "avg"), *yg = res(r, "gavg");
    for (int n = 0; n < PN; n++) {
        double tot = 0.0;
        for (int i = 0; i < PH * PW; i++) tot += hx[n * PH * PW + i];
        cr_assert(fabs(yg[n] - tot / (PH * PW)) < 1e-6, "global average");
        for (int oh = 0; oh < PHo; oh++)
            for (int ow = 0; ow < PWo; ow++) {
                float m = -INFINITY;
                int best = -1;
                double s = 0.0;
                for (int h = oh * 2 - 1; h < oh * 2 + 2; h++)
                    for (int w = ow * 2 - 1; w < ow * 2 + 2; w++) {
                        if (h < 0 || h >= PH || w < 0 || w >= PW) continue;
                        const float v = hx[n * PH * PW + h * PW + w];
                        s += v;
                        if (v > m) {
                            m = v;
                            best = h * PW + w;
                        }
                    }
                const int o = (n * PHo + oh) * PWo + ow;
                cr_assert(y[o] == m && idx[o] == (float)best, "max window %d: %g at %g, want %g at %d", o, y[o],
                          idx[o], m, best);
                cr_assert(fabs(ya[o] - s / 9.0) < 1e-6, "avg window %d (count_include_pad)", o);
            }
    }
    /* Adaptive 7×6 -> 3×8, bins by hand: rows [0,3) [2,5) [4,7); columns ⌊j·6/8⌋ .. ⌈(j+1)·6/8⌉ − 1. */
    static const int r0[3] = {0, 2, 4}, r1[3] = {3, 5, 7};
    static const int c0[8] = {0, 0, 1, 2, 3, 3, 4, 5}, c1[8] = {1, 2, 3, 3, 4, 5, 6, 6};
    const float *yad = res(r, "adaptive"), *dxad = res(r, "adaptive_bwd");
    float *want = malloc(PN * PH * PW * sizeof *want);
    memcpy(want, hg, PN * PH * PW * sizeof *want); /* dx started as hg */
    for (int n = 0; n < PN; n++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 8; j++) {
                double s = 0.0;
                const int cnt = (r1[i] - r0[i]) * (c1[j] - c0[j]);
                const float g = hg[(n * 3 + i) * 8 + j] / (float)cnt;
                for (int h = r0[i]; h < r1[i]; h++)
                    for (int w = c0[j]; w < c1[j]; w++) {
                        s += hx[n * PH * PW + h * PW + w];
                        want[n * PH * PW + h * PW + w] += g;
                    }
                cr_assert(fabs(yad[(n * 3 + i) * 8 + j] - s / cnt) < 1e-6, "adaptive bin (%d, %d, %d)", n, i, j);
            }
    for (int i = 0; i < PN * PH * PW; i++) cr_assert(fabsf(dxad[i] - want[i]) < 1e-5f, "adaptive backward at %d", i);
    free(want);
    free(hx);
    free(hg);
}

Test(device_ops, pool) { run_family("pool", pool_body, pool_check); }

/* ---- norm: batch stats (S > 1 and S = 1), running stats, normalize, backward, dropout -------------------------- */

enum { NN = 4, NC = 3, NS = 5, NT = NN * NC * NS, DN = 41 };

static void norm_body(dev_run *r) {
    const hl_kern_norm *k = r->k->norm;
    float *hx = host_rand(NT, 11, 2, 4), *hd = host_rand(NT, 12, -1, 1), *hgb = host_rand(2 * NC, 13, 0.5f, 1.5f);
    float *hr = host_rand(2 * NC, 14, 0.5f, 1.0f);
    float *x = dev_put(r, hx, NT), *dy = dev_put(r, hd, NT), *gamma = dev_put(r, hgb, NC);
    float *beta = dev_put(r, hgb + NC, NC);
    float *rm = dev_put(r, hr, NC), *rv = dev_put(r, hr + NC, NC), *mean = dev_alloc(r, NC), *is = dev_alloc(r, NC);
    k->stats(NN, NC, NS, x, 1e-5f, 0.1f, rm, rv, mean, is);
    take(r, "mean", mean, NC, TOL_SUM);
    take(r, "invstd", is, NC, TOL_SUM);
    take(r, "rmean", rm, NC, TOL_SUM);
    take(r, "rvar", rv, NC, TOL_SUM);
    float *m1 = dev_alloc(r, 8), *i1 = dev_alloc(r, 8); /* S = 1: x viewed as [12, 5] */
    k->stats(NN * NC, NS, 1, x, 1e-5f, 0.1f, NULL, NULL, m1, i1);
    take(r, "mean_s1", m1, NS, TOL_SUM);
    take(r, "invstd_s1", i1, NS, TOL_SUM);
    float *mr = dev_alloc(r, NC), *ir = dev_alloc(r, NC);
    k->stats_running(NC, 1e-5f, rm, rv, mr, ir);
    take(r, "running_invstd", ir, NC, TOL_EW);
    float *y = dev_alloc(r, NT);
    k->normalize(NN, NC, NS, NC, x, mean, is, gamma, beta, y);
    take(r, "normalize", y, NT, TOL_SUM);
    float *sdy = dev_alloc(r, NC), *sdyx = dev_alloc(r, NC);
    k->bwd_reduce(NN, NC, NS, x, mean, is, dy, sdy, sdyx);
    take(r, "sdy", sdy, NC, TOL_SUM);
    take(r, "sdyx", sdyx, NC, TOL_SUM);
    float *dx = dev_put(r, hd, NT), *dx2 = dev_put(r, hd, NT);
    k->bwd_dx(NN, NC, NS, NC, x, mean, is, gamma, dy, sdy, sdyx, true, dx);
    k->bwd_dx(NN, NC, NS, NC, x, mean, is, NULL, dy, NULL, NULL, false, dx2);
    take(r, "dx_batch", dx, NT, TOL_SUM);
    take(r, "dx_eval", dx2, NT, TOL_SUM);
    /* Instance norm layout: N = 1, C = B·C = 12 channels of 5, G = 3 affine channels. */
    float *mi = dev_alloc(r, NN * NC), *ii = dev_alloc(r, NN * NC), *yi = dev_alloc(r, NT);
    k->stats(1, NN * NC, NS, x, 1e-5f, 0.1f, NULL, NULL, mi, ii);
    k->normalize(1, NN * NC, NS, NC, x, mi, ii, gamma, NULL, yi);
    take(r, "instance_normalize", yi, NT, TOL_SUM);
    float *hdx = host_rand(DN, 15, -1, 1);
    float *dxin = dev_put(r, hdx, DN), *dyo = dev_alloc(r, DN), *mask = dev_alloc(r, DN), *ddx = dev_put(r, hdx, DN);
    k->dropout_fwd(DN, 0.3f, 99, 7, 5, dxin, dyo, mask);
    k->dropout_bwd(DN, mask, dxin, ddx);
    take(r, "dropout_y", dyo, DN, TOL_EXACT);
    take(r, "dropout_mask", mask, DN, TOL_EXACT);
    take(r, "dropout_bwd", ddx, DN, TOL_EW);
    free(hx);
    free(hd);
    free(hgb);
    free(hr);
    free(hdx);
}

static void norm_check(const dev_run *r) {
    float *hx = host_rand(NT, 11, 2, 4), *hgb = host_rand(2 * NC, 13, 0.5f, 1.5f);
    const float *mean = res(r, "mean"), *is = res(r, "invstd"), *y = res(r, "normalize");
    for (int c = 0; c < NC; c++) {
        double s = 0.0, s2 = 0.0;
        for (int n = 0; n < NN; n++)
            for (int k = 0; k < NS; k++) s += hx[(n * NC + c) * NS + k];
        const double mu = s / (NN * NS);
        for (int n = 0; n < NN; n++)
            for (int k = 0; k < NS; k++) s2 += (hx[(n * NC + c) * NS + k] - mu) * (hx[(n * NC + c) * NS + k] - mu);
        const double sd = 1.0 / sqrt(s2 / (NN * NS) + 1e-5);
        cr_assert(fabs(mean[c] - mu) < 1e-5 && fabs(is[c] - sd) < 1e-4 * sd, "batch statistics of channel %d", c);
        for (int n = 0; n < NN; n++)
            for (int k = 0; k < NS; k++) {
                const int i = (n * NC + c) * NS + k;
                cr_assert(fabs(y[i] - ((hx[i] - mu) * sd * hgb[c] + hgb[NC + c])) < 1e-4, "normalize");
            }
    }
    const float *sdy = res(r, "sdy");
    float *hd = host_rand(NT, 12, -1, 1);
    for (int c = 0; c < NC; c++) {
        double s = 0.0;
        for (int n = 0; n < NN; n++)
            for (int k = 0; k < NS; k++) s += hd[(n * NC + c) * NS + k];
        cr_assert(fabs(sdy[c] - s) < 1e-5, "sdy");
    }
    const float *mask = res(r, "dropout_mask"), *dy = res(r, "dropout_y");
    float *hdx = host_rand(DN, 15, -1, 1);
    for (int i = 0; i < DN; i++) {
        const float u = hl_rng_uniform_at(99, 7, 5 + (uint64_t)i);
        const float m = u >= 0.3f ? 1.0f / (1.0f - 0.3f) : 0.0f;
        cr_assert(mask[i] == m && dy[i] == hdx[i] * m, "dropout element %d follows hl_rng_uniform_at", i);
    }
    free(hx);
    free(hd);
    free(hgb);
    free(hdx);
}

Test(device_ops, norm) { run_family("norm", norm_body, norm_check); }

/* ---- reduce: sum / max / logsumexp over [P,R,Q] (Q = 1 and Q > 1) and the three backward kernels -------------- */

enum { RP = 3, RR = 7, RQ = 4, RX = 2 * 3 * 4 * 5 };
static const int64_t red_shape[4] = {2, 3, 4, 5};
#define RED_AXES ((1u << 1) | (1u << 3)) /* reduce axes 1 and 3: output [2,1,4,1] */

/* Host max over axes 1 and 3 of [2,3,4,5] (and logsumexp in double). */
static void red_host(const float *x, float *mx, float *lse) {
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++) {
            float m = -INFINITY;
            for (int b = 0; b < 3; b++)
                for (int d = 0; d < 5; d++) m = fmaxf(m, x[((a * 3 + b) * 4 + c) * 5 + d]);
            double s = 0.0;
            for (int b = 0; b < 3; b++)
                for (int d = 0; d < 5; d++) s += exp((double)x[((a * 3 + b) * 4 + c) * 5 + d] - m);
            mx[a * 4 + c] = m;
            lse[a * 4 + c] = (float)(m + log(s));
        }
}

static void reduce_body(dev_run *r) {
    const hl_kern_reduce *k = r->k->reduce;
    float *hx = host_rand(RX, 16, -2, 2), *hd = host_rand(RX, 17, -1, 1);
    for (int i = 0; i < RX; i++) hx[i] = roundf(hx[i] * 2.0f) / 2.0f; /* ties for max_bwd */
    float hm[8], hl[8];
    red_host(hx, hm, hl);
    float *x = dev_put(r, hx, RX), *dy = dev_put(r, hd, 8), *ym = dev_put(r, hm, 8), *yl = dev_put(r, hl, 8);
    float *y1 = dev_alloc(r, RP), *y2 = dev_alloc(r, RP * RQ);
    k->sum(RP, RR, 1, 0.5f, x, y1);
    k->sum(RP, RR, RQ, 0.5f, x, y2);
    take(r, "sum_q1", y1, RP, TOL_SUM);
    take(r, "sum_q4", y2, RP * RQ, TOL_SUM);
    k->max(RP, RR, 1, x, y1);
    k->max(RP, RR, RQ, x, y2);
    take(r, "max_q1", y1, RP, TOL_EXACT);
    take(r, "max_q4", y2, RP * RQ, TOL_EXACT);
    k->logsumexp(RP, RR, 1, x, y1);
    k->logsumexp(RP, RR, RQ, x, y2);
    take(r, "lse_q1", y1, RP, TOL_SUM);
    take(r, "lse_q4", y2, RP * RQ, TOL_SUM);
    float *ds = dev_put(r, hd, RX), *dm = dev_put(r, hd, RX), *dl = dev_put(r, hd, RX);
    k->sum_bwd(red_shape, RED_AXES, 0.25f, dy, ds);
    k->max_bwd(red_shape, RED_AXES, x, ym, dy, dm);
    k->logsumexp_bwd(red_shape, RED_AXES, x, yl, dy, dl);
    take(r, "sum_bwd", ds, RX, TOL_EW);
    take(r, "max_bwd", dm, RX, TOL_EXACT);
    take(r, "lse_bwd", dl, RX, TOL_EW);
    free(hx);
    free(hd);
}

static void reduce_check(const dev_run *r) {
    float *hx = host_rand(RX, 16, -2, 2), *hd = host_rand(RX, 17, -1, 1);
    for (int i = 0; i < RX; i++) hx[i] = roundf(hx[i] * 2.0f) / 2.0f;
    const float *s1 = res(r, "sum_q1"), *m4 = res(r, "max_q4"), *l1 = res(r, "lse_q1");
    for (int p = 0; p < RP; p++) {
        double s = 0.0, e = 0.0;
        for (int q = 0; q < RR; q++) s += hx[p * RR + q], e += exp(hx[p * RR + q]);
        cr_assert(fabs(s1[p] - 0.5 * s) < 1e-5 && fabs(l1[p] - log(e)) < 1e-5, "sum / logsumexp row %d", p);
        for (int q = 0; q < RQ; q++) {
            float m = -INFINITY;
            for (int rr = 0; rr < RR; rr++) m = fmaxf(m, hx[(p * RR + rr) * RQ + q]);
            cr_assert(m4[p * RQ + q] == m, "max");
        }
    }
    /* max_bwd: each output routes dy to exactly one element, the first maximum in row-major order. */
    float hm[8], hl[8];
    red_host(hx, hm, hl);
    const float *dm = res(r, "max_bwd"), *ds = res(r, "sum_bwd");
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++) {
            bool routed = false;
            for (int b = 0; b < 3; b++)
                for (int d = 0; d < 5; d++) {
                    const int i = ((a * 3 + b) * 4 + c) * 5 + d;
                    const bool first = !routed && hx[i] == hm[a * 4 + c];
                    cr_assert(dm[i] == hd[i] + (first ? hd[a * 4 + c] : 0.0f), "max_bwd element %d", i);
                    cr_assert(fabsf(ds[i] - (hd[i] + 0.25f * hd[a * 4 + c])) < 1e-6f, "sum_bwd element %d", i);
                    routed = routed || first;
                }
        }
    free(hx);
    free(hd);
}

Test(device_ops, reduce) { run_family("reduce", reduce_body, reduce_check); }

/* ---- shape: transpose and block copy, writing and accumulating -------------------------------------------------- */

enum { TA = 2, TD0 = 3, TM = 4, TD1 = 5, TZ = 2, TN = TA * TD0 * TM * TD1 * TZ };

static void shape_body(dev_run *r) {
    const hl_kern_shape *s = r->k->shape;
    float *hx = host_rand(TN, 18, -1, 1);
    float *x = dev_put(r, hx, TN), *y = dev_alloc(r, TN);
    s->transpose(TA, TD0, TM, TD1, TZ, x, y, false);
    take(r, "transpose", y, TN, TOL_EXACT);
    s->transpose(TA, TD0, TM, TD1, TZ, x, y, true);
    take(r, "transpose_acc", y, TN, TOL_EW);
    float *b = dev_put(r, hx, 4 * 7);
    s->block_copy(4, 3, x, 5, b, 7, false);
    take(r, "block_copy", b, 4 * 7, TOL_EXACT);
    s->block_copy(4, 3, x, 5, b, 7, true);
    take(r, "block_copy_acc", b, 4 * 7, TOL_EW);
    free(hx);
}

static void shape_check(const dev_run *r) {
    float *hx = host_rand(TN, 18, -1, 1);
    const float *y = res(r, "transpose"), *ya = res(r, "transpose_acc");
    for (int a = 0; a < TA; a++)
        for (int i = 0; i < TD0; i++)
            for (int m = 0; m < TM; m++)
                for (int j = 0; j < TD1; j++)
                    for (int z = 0; z < TZ; z++) {
                        const float v = hx[(((a * TD0 + i) * TM + m) * TD1 + j) * TZ + z];
                        const int o = (((a * TD1 + j) * TM + m) * TD0 + i) * TZ + z;
                        cr_assert(y[o] == v && ya[o] == v + v, "transpose");
                    }
    const float *b = res(r, "block_copy"), *ba = res(r, "block_copy_acc");
    for (int row = 0; row < 4; row++)
        for (int c = 0; c < 7; c++) {
            const float want = c < 3 ? hx[row * 5 + c] : hx[row * 7 + c];
            cr_assert(b[row * 7 + c] == want && ba[row * 7 + c] == (c < 3 ? 2 * want : want), "block_copy");
        }
    free(hx);
}

Test(device_ops, shape) { run_family("shape", shape_body, shape_check); }

/* ---- loss: softmax CE, BCE with logits, MSE, L1 — forward scalars and accumulated gradients ------------------- */

enum { LB = 4, LL = 6, LNN = LB * LL };

static void loss_body(dev_run *r) {
    const hl_kern_loss *k = r->k->loss;
    float *hz = host_rand(LNN, 19, -3, 3), *ht = host_rand(LNN, 20, 0, 1), *hacc = host_rand(LNN, 21, -1, 1);
    ht[7] = hz[7]; /* an equal pair: l1's sign(0) = 0 */
    const float g = 0.7f;
    float *z = dev_put(r, hz, LB * LL), *t = dev_put(r, ht, LB * LL), *gout = dev_put(r, &g, 1);
    float *lse = dev_alloc(r, LB), *loss = dev_alloc(r, 1), *dz = dev_put(r, hacc, LB * LL);
    k->softmax_ce_fwd(LB, LL, z, t, lse, loss);
    take(r, "ce", loss, 1, TOL_SUM);
    take(r, "ce_lse", lse, LB, TOL_SUM);
    k->softmax_ce_bwd(LB, LL, z, t, lse, gout, dz);
    take(r, "ce_dz", dz, LB * LL, TOL_SUM);
    float *db = dev_put(r, hacc, LNN);
    k->bce_logits_fwd(LNN, z, t, loss);
    take(r, "bce", loss, 1, TOL_SUM);
    k->bce_logits_bwd(LNN, z, t, gout, db);
    take(r, "bce_dz", db, LNN, TOL_EW);
    float *da = dev_put(r, hacc, LNN), *dbb = dev_put(r, hacc, LNN), *dn = dev_put(r, hacc, LNN);
    k->mse_fwd(LNN, z, t, loss);
    take(r, "mse", loss, 1, TOL_SUM);
    k->mse_bwd(LNN, z, t, gout, da, dbb);
    k->mse_bwd(LNN, z, t, gout, NULL, dn);
    take(r, "mse_da", da, LNN, TOL_EW);
    take(r, "mse_db", dbb, LNN, TOL_EW);
    take(r, "mse_db_only", dn, LNN, TOL_EW);
    k->l1_fwd(LNN, z, t, loss);
    take(r, "l1", loss, 1, TOL_SUM);
    k->l1_bwd(LNN, z, t, gout, da, NULL);
    take(r, "l1_da", da, LNN, TOL_EW);
    free(hz);
    free(ht);
    free(hacc);
}

static void loss_check(const dev_run *r) {
    float *hz = host_rand(LNN, 19, -3, 3), *ht = host_rand(LNN, 20, 0, 1), *hacc = host_rand(LNN, 21, -1, 1);
    ht[7] = hz[7];
    double mse = 0.0, l1 = 0.0;
    for (int i = 0; i < LNN; i++) {
        mse += ((double)hz[i] - ht[i]) * ((double)hz[i] - ht[i]);
        l1 += fabs((double)hz[i] - ht[i]);
    }
    cr_assert(fabs(res(r, "mse")[0] - mse / LNN) < 1e-6 && fabs(res(r, "l1")[0] - l1 / LNN) < 1e-6, "mse / l1");
    const float *da = res(r, "mse_db_only"), *l1da = res(r, "l1_da");
    for (int i = 0; i < LNN; i++) {
        const float term = 2.0f * 0.7f / LNN * (hz[i] - ht[i]);
        cr_assert(fabsf(da[i] - (hacc[i] - term)) < 1e-6f, "mse db");
        const float sg = (float)((hz[i] > ht[i]) - (hz[i] < ht[i]));
        cr_assert(fabsf(l1da[i] - (hacc[i] + term + 0.7f / LNN * sg)) < 1e-6f, "l1 da (after mse da)");
    }
    double ce = 0.0;
    for (int b = 0; b < LB; b++) {
        double se = 0.0;
        for (int l = 0; l < LL; l++) se += exp(hz[b * LL + l]);
        for (int l = 0; l < LL; l++) ce += ht[b * LL + l] * (log(se) - hz[b * LL + l]);
        cr_assert(fabs(res(r, "ce_lse")[b] - log(se)) < 1e-5, "lse row %d", b);
    }
    cr_assert(fabs(res(r, "ce")[0] - ce / LB) < 1e-5, "softmax ce");
    free(hz);
    free(ht);
    free(hacc);
}

Test(device_ops, loss) { run_family("loss", loss_body, loss_check); }

/* ---- warp: bilinear affine warp forward and adjoint ------------------------------------------------------------- */

enum { WB = 2, WC = 2, WH = 5, WW = 6, WN = WB * WC * WH * WW };
#define WARP_FD_H 1e-3f

static void warp_body(dev_run *r) {
    const hl_kern_warp *k = r->k->warp;
    const float th[12] = {1, 0, 0, 0, 1, 0, /* identity */ 0.9f, -0.3f, 0.1f, 0.25f, 1.1f, -0.15f};
    float *hx = host_rand(WN, 22, -1, 1), *hg = host_rand(WN, 23, -1, 1);
    float *x = dev_put(r, hx, WN), *theta = dev_put(r, th, 12), *y = dev_alloc(r, WN), *gx = dev_put(r, hx, WN);
    k->affine_fwd(WB, WC, WH, WW, theta, x, y);
    take(r, "warp", y, WN, TOL_EW);
    float *gy = dev_put(r, hg, WN);
    k->affine_bwd(WB, WC, WH, WW, theta, gy, gx);
    take(r, "warp_bwd", gx, WN, TOL_SUM);
    /* rotation: θ(a), the angle gradient, and the warps at a ± h for a finite-difference check */
    const float ha[WB] = {0.3f, -1.2f}, ga0[WB] = {0.5f, -0.25f};
    float *ang = dev_put(r, ha, WB), *rth = dev_alloc(r, WB * 6), *ga = dev_put(r, ga0, WB);
    k->rotate_theta(WB, WH, WW, ang, rth);
    take(r, "rotate_theta", rth, WB * 6, TOL_EW);
    k->rotate_angle_bwd(WB, WC, WH, WW, rth, ang, x, gy, ga);
    take(r, "rotate_angle_bwd", ga, WB, TOL_SUM);
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        float hs[WB];
        for (int b = 0; b < WB; b++) hs[b] = ha[b] + (float)sgn * WARP_FD_H;
        float *as = dev_put(r, hs, WB), *ts = dev_alloc(r, WB * 6), *ys = dev_alloc(r, WN);
        k->rotate_theta(WB, WH, WW, as, ts);
        k->affine_fwd(WB, WC, WH, WW, ts, x, ys);
        take(r, sgn < 0 ? "rotate_minus" : "rotate_plus", ys, WN, TOL_EW);
    }
    free(hx);
    free(hg);
}

static void warp_check(const dev_run *r) {
    float *hx = host_rand(WN, 22, -1, 1), *hg = host_rand(WN, 23, -1, 1);
    const float *y = res(r, "warp"), *gx = res(r, "warp_bwd");
    const int half = WN / 2;
    for (int i = 0; i < half; i++) {
        cr_assert(y[i] == hx[i], "identity warp reproduces its input (element %d)", i);
        cr_assert(fabsf(gx[i] - (hx[i] + hg[i])) < 1e-6f, "identity warp adjoint");
    }
    /* Adjointness on the general sample: <warp(x), g> = <x, warpᵀ(g)>. */
    double lhs = 0.0, rhs = 0.0;
    for (int i = half; i < WN; i++) lhs += (double)y[i] * hg[i], rhs += (double)hx[i] * (gx[i] - hx[i]);
    cr_assert(fabs(lhs - rhs) < 1e-4, "warp adjoint: %g vs %g", lhs, rhs);
    /* θ(a) = [[c, −s·H/W, 0], [s·W/H, c, 0]]; dL/da (L = <warp_θ(a)(x), g>) against central differences */
    const float ha[WB] = {0.3f, -1.2f}, ga0[WB] = {0.5f, -0.25f};
    const float *th = res(r, "rotate_theta"), *ga = res(r, "rotate_angle_bwd");
    const float *yp = res(r, "rotate_plus"), *ym = res(r, "rotate_minus");
    const double hw = (double)WH / WW;
    for (int b = 0; b < WB; b++) {
        const double c = cos((double)ha[b]), sn = sin((double)ha[b]);
        const double want[6] = {c, -sn * hw, 0, sn / hw, c, 0};
        for (int k = 0; k < 6; k++) cr_assert(fabs(th[b * 6 + k] - want[k]) < 1e-6, "rotate_theta[%d][%d]", b, k);
        double fd = 0.0;
        const int per = WN / WB;
        for (int i = b * per; i < (b + 1) * per; i++) fd += (double)hg[i] * ((double)yp[i] - ym[i]);
        fd /= 2.0 * (double)WARP_FD_H;
        const double an = (double)ga[b] - ga0[b];
        cr_assert(fabs(an - fd) < 2e-2 * (fabs(fd) + 0.05), "rotate_angle_bwd[%d]: %g, finite differences %g", b, an, fd);
    }
    free(hx);
    free(hg);
}

Test(device_ops, warp) { run_family("warp", warp_body, warp_check); }

/* ---- optim: the four update rules (each on its own copy of the same state) ---------------------------------------- */

enum { ON = 37 };

static void optim_body(dev_run *r) {
    const hl_kern_optim *k = r->k->optim;
    float *hp = host_rand(ON, 30, -1, 1), *hg = host_rand(ON, 31, -1, 1), *hm = host_rand(ON, 32, -1, 1),
          *hv = host_rand(ON, 33, 0, 1);
    float *p = dev_put(r, hp, ON), *g = dev_put(r, hg, ON);
    k->sgd(ON, p, g, 0.1f, 0.01f);
    take(r, "sgd", p, ON, TOL_EW);
    for (int first = 0; first < 2; first++) {
        float *q = dev_put(r, hp, ON), *b = dev_put(r, hm, ON);
        k->sgd_momentum(ON, q, g, b, 0.1f, 0.01f, 0.9f, 0.1f, first == 0, first == 1);
        take(r, first ? "sgd_momentum_first" : "sgd_nesterov", q, ON, TOL_EW);
        take(r, first ? "sgd_momentum_first_buf" : "sgd_nesterov_buf", b, ON, TOL_EW);
    }
    float *q = dev_put(r, hp, ON), *m = dev_put(r, hm, ON), *v = dev_put(r, hv, ON);
    k->adam(ON, q, g, m, v, 0.01f, 0.999f, 0.9f, 0.999f, 0.05f, 0.3f, 1e-8f);
    take(r, "adam", q, ON, TOL_EW);
    take(r, "adam_m", m, ON, TOL_EW);
    take(r, "adam_v", v, ON, TOL_EW);
    for (int with_buf = 0; with_buf < 2; with_buf++) {
        float *q2 = dev_put(r, hp, ON), *v2 = dev_put(r, hv, ON), *b2 = with_buf ? dev_put(r, hm, ON) : NULL;
        k->rmsprop(ON, q2, g, v2, b2, 0.01f, 0.001f, 0.99f, 1e-8f, 0.5f);
        take(r, with_buf ? "rmsprop_momentum" : "rmsprop", q2, ON, TOL_EW);
    }
    free(hp);
    free(hg);
    free(hm);
    free(hv);
}

static void optim_check(const dev_run *r) {
    float *hp = host_rand(ON, 30, -1, 1), *hg = host_rand(ON, 31, -1, 1), *hm = host_rand(ON, 32, -1, 1),
          *hv = host_rand(ON, 33, 0, 1);
    for (int i = 0; i < ON; i++) {
        const double p = hp[i], g = hg[i], m = hm[i], v = hv[i];
        const double d = g + 0.01 * p;
        const double close = 1e-5;
        cr_assert(fabs(res(r, "sgd")[i] - (p - 0.1 * d)) < close, "sgd[%d]", i);
        const double bn = 0.9 * m + 0.9 * d; /* mom·buf + (1 − damp)·d */
        cr_assert(fabs(res(r, "sgd_nesterov_buf")[i] - bn) < close, "nesterov buf[%d]", i);
        cr_assert(fabs(res(r, "sgd_nesterov")[i] - (p - 0.1 * (d + 0.9 * bn))) < close, "nesterov[%d]", i);
        cr_assert(fabs(res(r, "sgd_momentum_first_buf")[i] - d) < close, "first momentum buf = d [%d]", i);
        cr_assert(fabs(res(r, "sgd_momentum_first")[i] - (p - 0.1 * d)) < close, "first momentum step[%d]", i);
        const double ga = g + 0.01 * p, ma = m + 0.1 * (ga - m), va = 0.999 * v + 0.001 * ga * ga;
        cr_assert(fabs(res(r, "adam_m")[i] - ma) < close && fabs(res(r, "adam_v")[i] - va) < close, "adam moments[%d]", i);
        cr_assert(fabs(res(r, "adam")[i] - (0.999 * p - 0.05 * ma / (sqrt(va) / 0.3 + 1e-8))) < 1e-4, "adam[%d]", i);
        const double gr = g + 0.001 * p, vr = 0.99 * v + 0.01 * gr * gr;
        cr_assert(fabs(res(r, "rmsprop")[i] - (p - 0.01 * gr / (sqrt(vr) + 1e-8))) < 1e-4, "rmsprop[%d]", i);
        const double br = 0.5 * m + gr / (sqrt(vr) + 1e-8);
        cr_assert(fabs(res(r, "rmsprop_momentum")[i] - (p - 0.01 * br)) < 1e-4, "rmsprop momentum[%d]", i);
    }
    free(hp);
    free(hg);
    free(hm);
    free(hv);
}

Test(device_ops, optim) { run_family("optim", optim_body, optim_check); }

/* ---- rng: counter-based fills, exactly core/rng.h's values ------------------------------------------------------- */

enum { RN = 37 };

static void rng_body(dev_run *r) {
    const hl_kern_rng *k = r->k->rng;
    float *u = dev_alloc(r, RN), *z = dev_alloc(r, RN);
    k->uniform(RN, 11, 3, 5, -2.0f, 0.5f, u); /* a counter inside a Philox block */
    take(r, "uniform", u, RN, TOL_EXACT); /* rounded step by step on every device */
    k->normal(RN, 11, 3, 3, 1.0f, 0.25f, z);
    take(r, "normal", z, RN, TOL_EW);
}

static void rng_check(const dev_run *r) {
    const float *u = res(r, "uniform"), *z = res(r, "normal");
    hl_rng a = hl_rng_make(11, 3), b = hl_rng_make(11, 3);
    a.counter = 5, b.counter = 3;
    float hu[RN], hz[RN];
    hl_rng_uniform(&a, hu, RN, -2.0f, 0.5f);
    hl_rng_normal(&b, hz, RN, 1.0f, 0.25f);
    for (int i = 0; i < RN; i++) {
        cr_assert(u[i] == hu[i] && u[i] == -2.0f + 2.5f * hl_rng_uniform_at(11, 3, 5 + (uint64_t)i), "uniform[%d]", i);
        cr_assert(z[i] == hz[i] && z[i] == 1.0f + 0.25f * hl_rng_normal_at(11, 3, 3 + (uint64_t)i), "normal[%d]", i);
    }
}

Test(device_ops, rng) { run_family("rng", rng_body, rng_check); }

/* ---- every table is complete: no entry of any family is NULL on any available device (there is no CPU fallback) -- */

static void assert_family_complete(const void *fam, size_t bytes, const char *dev, const char *family) {
    cr_assert_not_null(fam, "%s: family %s is missing", dev, family);
    const unsigned char *p = fam;
    for (size_t off = 0; off + sizeof(void (*)(void)) <= bytes; off += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, p + off, sizeof fn);
        cr_assert_not_null(fn, "%s: %s entry %zu is NULL", dev, family, off / sizeof fn);
    }
}

Test(device_ops, every_table_is_complete) {
    for (int d = 0; d < HL_DEVICE_COUNT; d++) {
        if (!hl_device_available((hl_device)d)) continue;
        const hl_kernels *k = hl_kernels_for((hl_device)d);
        const char *n = hl_device_name((hl_device)d);
        cr_assert_not_null(k, "%s: no table", n);
        cr_assert_eq(k->dev, (hl_device)d);
#define FAMILY(f) assert_family_complete(k->f, sizeof *k->f, n, #f)
        FAMILY(base);
        FAMILY(ew);
        FAMILY(conv);
        FAMILY(pool);
        FAMILY(norm);
        FAMILY(reduce);
        FAMILY(shape);
        FAMILY(loss);
        FAMILY(warp);
        FAMILY(optim);
        FAMILY(retrieval);
        FAMILY(rng);
#undef FAMILY
    }
}
