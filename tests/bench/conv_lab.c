/* tests/bench/conv_lab.c — micro-benchmark of the conv/pool/linear layers of ref-cnn (BENCH.md), batch 64.
 * Not built by CMake. Build against a build dir's core library, e.g.:
 *   gcc -std=c11 -O3 -fopenmp -D_POSIX_C_SOURCE=200809L -I. tests/bench/conv_lab.c build-conv/libhl_core.a \
 *       $(pkg-config --libs openblas libpng zlib) -lm -o /tmp/conv_lab && HASHLAB_THREADS=2 /tmp/conv_lab
 * Prints per layer the median milliseconds of: no-grad forward, training fwd+bwd (dW, db and, except for the first
 * layer, dx) and attack fwd+bwd (dx only), all through the real ops; then two forward variants for comparison:
 * B per-image GEMMs (gemm_batched straight into NCHW) and the op's chunked scheme with chunk budgets 0.5–4 MiB
 * (the op uses 2 MiB, HL_CONV_CHUNK_BYTES in core/ops/conv.c).
 * Knobs: HASHLAB_THREADS; LAB_OMP1=1 makes the OpenMP loops serial while OpenBLAS keeps its threads. Run it also
 * with OMP_WAIT_POLICY=passive: with 2 threads, libgomp's spinning workers and OpenBLAS's (pthreads build) workers
 * fight over the 2 cores and make the default 2-thread run several times slower than 1 thread. */
#include <stdio.h>
#include <stdlib.h>

#include <omp.h>

#include "core/cpu/table.h"
#include "core/ops/ops.h"
#include "core/tape.h"

#define REPS 15

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    return t[n / 2];
}

static hl_tensor *rnd(int ndim, const int64_t *shape, uint64_t seed) {
    hl_tensor *t = NULL;
    if (hl_tensor_create(&t, ndim, shape, HL_DEVICE_CPU) != HL_OK) abort();
    hl_rng r = hl_rng_make(seed, 1);
    hl_rng_uniform(&r, t->data, hl_tensor_numel(t), -1.0f, 1.0f);
    return t;
}

typedef enum { FWD, TRAIN, ATTACK } mode;

/* One conv layer step in the given mode; returns seconds. */
static double conv_step(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *b, mode m, bool first, float *seed) {
    hl_ctx_reset(ctx);
    hl_tensor_set_requires_grad(x, m == ATTACK || (m == TRAIN && !first));
    hl_tensor_set_requires_grad(w, m == TRAIN);
    hl_tensor_set_requires_grad(b, m == TRAIN);
    double t0 = hl_time_s();
    if (m == FWD) hl_no_grad_begin(ctx);
    hl_tensor *y = hl_conv2d(ctx, x, w, b, HL_CONV_OPTS(1, 1, 1));
    if (m == FWD)
        hl_no_grad_end(ctx);
    else
        hl_backward_seed(ctx, y, seed);
    return hl_time_s() - t0;
}

/* Forward variant: im2col, then B GEMMs W[O,CKK]·col[:, b-th segment] written straight into y[b] (no scatter). */
static double conv_fwd_batched(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *b) {
    hl_ctx_reset(ctx);
    const hl_kernels *k = &hl_cpu_kernels;
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], O = w->shape[0];
    hl_conv_geom g = {.B = B, .C = C, .H = H, .W = W, .kh = 3, .kw = 3, .Ho = H, .Wo = W,
                      .sh = 1, .sw = 1, .ph = 1, .pw = 1, .dh = 1, .dw = 1};
    const int64_t CKK = C * 9, HW = H * W, N = B * HW;
    double t0 = hl_time_s();
    float *col = hl_ctx_alloc(ctx, (size_t)(CKK * N) * sizeof(float));
    float *y = hl_ctx_alloc(ctx, (size_t)(O * N) * sizeof(float));
    k->conv->im2col(g, x->data, col);
    k->base->gemm_batched(false, false, O, HW, CKK, 1.0f, w->data, CKK, 0, col, N, HW, 0.0f, y, HW, O * HW, B);
    k->conv->bias_add(B, O, HW, b->data, y);
    return hl_time_s() - t0;
}

/* Forward variant: the batch in chunks of G images, each chunk a batch-wide conv whose col and GEMM output stay in
 * cache (chunk bytes ~ (CKK + O)·G·HW·4 <= budget). */
static double conv_fwd_chunked(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *b, int64_t budget) {
    hl_ctx_reset(ctx);
    const hl_kernels *k = &hl_cpu_kernels;
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], O = w->shape[0];
    const int64_t CKK = C * 9, HW = H * W;
    int64_t G = budget / ((CKK + O) * HW * 4);
    if (G < 1) G = 1;
    if (G > B) G = B;
    double t0 = hl_time_s();
    float *col = hl_ctx_alloc(ctx, (size_t)(CKK * G * HW) * sizeof(float));
    float *Yc = hl_ctx_alloc(ctx, (size_t)(O * G * HW) * sizeof(float));
    float *y = hl_ctx_alloc(ctx, (size_t)(O * B * HW) * sizeof(float));
    for (int64_t b0 = 0; b0 < B; b0 += G) {
        const int64_t g = HL_MIN(G, B - b0), N = g * HW;
        hl_conv_geom geo = {.B = g, .C = C, .H = H, .W = W, .kh = 3, .kw = 3, .Ho = H, .Wo = W,
                            .sh = 1, .sw = 1, .ph = 1, .pw = 1, .dh = 1, .dw = 1};
        k->conv->im2col(geo, x->data + b0 * C * HW, col);
        k->base->gemm(false, false, O, N, CKK, 1.0f, w->data, CKK, col, N, 0.0f, Yc, N);
        k->conv->from_cmajor(g, O, HW, Yc, b->data, false, y + b0 * O * HW);
    }
    return hl_time_s() - t0;
}

int main(void) {
    int threads = hl_threads_init();
    if (getenv("LAB_OMP1")) omp_set_num_threads(1); /* experiment: OpenMP loops serial, BLAS still threaded */
    hl_ctx *ctx = NULL;
    if (hl_ctx_create(&ctx, HL_DEVICE_CPU, 0) != HL_OK) return 1;
    static const int layers[3][3] = {{3, 32, 32}, {32, 64, 16}, {64, 128, 8}}; /* C, O, H=W */
    const int64_t B = 64;
    printf("threads %d, batch %lld, median of %d (ms)\n", threads, (long long)B, REPS);
    double total[3] = {0};
    for (int l = 0; l < 3; l++) {
        const int64_t C = layers[l][0], O = layers[l][1], H = layers[l][2];
        hl_tensor *x = rnd(4, HL_SHAPE(B, C, H, H), 1), *w = rnd(4, HL_SHAPE(O, C, 3, 3), 2);
        hl_tensor *b = rnd(1, HL_SHAPE(O), 3);
        float *seed = malloc((size_t)(B * O * H * H) * sizeof *seed);
        for (int64_t i = 0; i < B * O * H * H; i++) seed[i] = (float)(i % 7) - 3.0f;
        double t[3][REPS], tb[REPS];
        for (int m = 0; m < 3; m++) {
            conv_step(ctx, x, w, b, (mode)m, l == 0, seed); /* warm-up (arena growth) */
            for (int r = 0; r < REPS; r++) t[m][r] = conv_step(ctx, x, w, b, (mode)m, l == 0, seed);
        }
        conv_fwd_batched(ctx, x, w, b);
        for (int r = 0; r < REPS; r++) tb[r] = conv_fwd_batched(ctx, x, w, b);
        double tc[4][REPS];
        static const int64_t budgets[4] = {512 << 10, 1 << 20, 2 << 20, 4 << 20};
        for (int v = 0; v < 4; v++) {
            conv_fwd_chunked(ctx, x, w, b, budgets[v]);
            for (int r = 0; r < REPS; r++) tc[v][r] = conv_fwd_chunked(ctx, x, w, b, budgets[v]);
        }
        double mf = median(t[0], REPS), mt = median(t[1], REPS), ma = median(t[2], REPS);
        printf("conv%d %3lld->%3lld %2lldx%-2lld  fwd %7.2f  train %7.2f  attack %7.2f  | fwd per-image gemm %7.2f\n",
               l + 1, (long long)C, (long long)O, (long long)H, (long long)H, 1e3 * mf, 1e3 * mt, 1e3 * ma,
               1e3 * median(tb, REPS));
        printf("        chunked fwd, budget 0.5/1/2/4 MiB: %7.2f %7.2f %7.2f %7.2f\n", 1e3 * median(tc[0], REPS),
               1e3 * median(tc[1], REPS), 1e3 * median(tc[2], REPS), 1e3 * median(tc[3], REPS));
        total[0] += mf;
        total[1] += mt;
        total[2] += ma;
        hl_tensor_set_requires_grad(x, false);
        hl_tensor_set_requires_grad(w, false);
        hl_tensor_set_requires_grad(b, false);

        /* The maxpool after this conv (on its output size). */
        hl_tensor *p = rnd(4, HL_SHAPE(B, O, H, H), 4);
        double tp[REPS];
        for (int r = 0; r < REPS; r++) {
            hl_ctx_reset(ctx);
            hl_tensor_set_requires_grad(p, true);
            double t0 = hl_time_s();
            hl_tensor *y = hl_maxpool2d(ctx, p, 2, 2, 0);
            hl_backward_seed(ctx, y, seed);
            tp[r] = hl_time_s() - t0;
        }
        hl_tensor_set_requires_grad(p, false);
        printf("        maxpool2 fwd+bwd %7.2f\n", 1e3 * median(tp, REPS));
        hl_tensor_free(p);
        hl_tensor_free(x);
        hl_tensor_free(w);
        hl_tensor_free(b);
        free(seed);
    }
    printf("convs total: fwd %.2f  train %.2f  attack %.2f ms\n", 1e3 * total[0], 1e3 * total[1], 1e3 * total[2]);

    /* linear 2048 -> 512, training step (dx, dW, db). */
    hl_tensor *x = rnd(2, HL_SHAPE(B, 2048), 5), *w = rnd(2, HL_SHAPE(512, 2048), 6), *b = rnd(1, HL_SHAPE(512), 7);
    float *seed = malloc((size_t)(B * 512) * sizeof *seed);
    for (int64_t i = 0; i < B * 512; i++) seed[i] = 0.01f * (float)(i % 5);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor_set_requires_grad(w, true);
    hl_tensor_set_requires_grad(b, true);
    double tl[REPS];
    for (int r = 0; r < REPS; r++) {
        hl_ctx_reset(ctx);
        double t0 = hl_time_s();
        hl_backward_seed(ctx, hl_linear(ctx, x, w, b), seed);
        tl[r] = hl_time_s() - t0;
    }
    printf("linear 2048->512 train %.2f ms\n", 1e3 * median(tl, REPS));
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
    free(seed);
    hl_ctx_free(ctx);
    return 0;
}
