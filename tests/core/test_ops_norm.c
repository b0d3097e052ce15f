/* tests/core/test_ops_norm.c — batch norm (train/eval, 1-D/2-D, running statistics), instance norm, dropout:
 * values against hand numbers and independent double-precision reference loops, and gradient checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "test_common.h"

/* Reference: x viewed as [N,C,S] (N = B, S = H·W); per channel biased moments in double; y = γx̂ + β. */
static void ref_batchnorm(const float *x, int64_t N, int64_t C, int64_t S, const float *g, const float *b,
                          float eps, float *y, double *mean, double *var) {
    for (int64_t c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < S; k++) s += x[(n * C + c) * S + k];
        double mu = s / (double)(N * S);
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < S; k++) s2 += pow(x[(n * C + c) * S + k] - mu, 2);
        double v = s2 / (double)(N * S);
        if (mean) mean[c] = mu;
        if (var) var[c] = v;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < S; k++) {
                int64_t i = (n * C + c) * S + k;
                y[i] = (float)((x[i] - mu) / sqrt(v + eps) * (g ? g[c] : 1.0) + (b ? b[c] : 0.0));
            }
    }
}

/* ---- batch norm values ---------------------------------------------------------------------------------------- */

/* x [4,2]: channel 0 = 1,2,3,4 (mean 2.5, biased var 1.25, unbiased 5/3), channel 1 = 2,2,2,6 (mean 3, var 3,
 * unbiased 4). Running stats start at (0, 1); momentum 0.1. */
Test(norm, batchnorm_train_1d_by_hand) {
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, true);
    hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(4, 2), (float[]){1, 2, 2, 2, 3, 2, 4, 6});
    float rm[2] = {0, 0}, rv[2] = {1, 1};
    const float eps = 1e-5f;
    hl_tensor *y = hl_batchnorm(ctx, x, NULL, NULL, rm, rv, 0.1f, eps);
    cr_assert(y->ndim == 2 && y->shape[0] == 4 && y->shape[1] == 2);
    const float s0 = 1.0f / sqrtf(1.25f + eps), s1 = 1.0f / sqrtf(3.0f + eps);
    float want[8] = {-1.5f * s0, -1 * s1, -0.5f * s0, -1 * s1, 0.5f * s0, -1 * s1, 1.5f * s0, 3 * s1};
    hl_test_assert_close(y->data, want, 8, 1e-5f, 1e-5f, "bn 1d train");
    hl_test_assert_close(rm, (float[]){0.25f, 0.3f}, 2, 1e-6f, 1e-6f, "running mean");
    hl_test_assert_close(rv, (float[]){0.9f + 0.1f * 5.0f / 3.0f, 0.9f + 0.4f}, 2, 1e-6f, 1e-6f,
                         "running var (unbiased)");
    /* A second step accumulates with the same momentum. */
    hl_batchnorm(ctx, x, NULL, NULL, rm, rv, 0.1f, eps);
    hl_test_assert_close(rm, (float[]){0.9f * 0.25f + 0.25f, 0.9f * 0.3f + 0.3f}, 2, 1e-6f, 1e-6f, "rm step 2");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

Test(norm, batchnorm_train_2d_reference) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t B = 3, C = 4, H = 3, W = 5, S = H * W;
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(B, C, H, W), 11, -2.0f, 3.0f);
    for (int64_t i = 0; i < hl_tensor_numel(x); i++) x->data[i] += 100.0f; /* a large mean must not cancel var */
    hl_tensor *g = hl_test_tensor(1, HL_SHAPE(C), 12, 0.5f, 1.5f), *b = hl_test_tensor(1, HL_SHAPE(C), 13, -1, 1);
    float rm[4] = {1, 2, 3, 4}, rv[4] = {1, 1, 2, 2};
    float rm0[4], rv0[4];
    memcpy(rm0, rm, sizeof rm);
    memcpy(rv0, rv, sizeof rv);
    hl_tensor *y = hl_batchnorm(ctx, x, g, b, rm, rv, 0.1f, 1e-5f);
    float want[B * C * S];
    double mean[4], var[4];
    ref_batchnorm(x->data, B, C, S, g->data, b->data, 1e-5f, want, mean, var);
    hl_test_assert_close(y->data, want, B * C * S, 1e-4f, 1e-4f, "bn 2d train");
    for (int c = 0; c < C; c++) {
        const double M = (double)(B * S);
        hl_test_assert_close(&rm[c], (float[]){(float)(0.9 * rm0[c] + 0.1 * mean[c])}, 1, 1e-4f, 1e-6f, "rm");
        hl_test_assert_close(&rv[c], (float[]){(float)(0.9 * rv0[c] + 0.1 * var[c] * M / (M - 1))}, 1, 1e-5f, 1e-5f,
                             "rv");
    }
    /* Without running buffers train mode still normalises with batch statistics. */
    hl_tensor *y2 = hl_batchnorm(ctx, x, g, b, NULL, NULL, 0.1f, 1e-5f);
    hl_test_assert_close(y2->data, want, B * C * S, 1e-4f, 1e-4f, "bn 2d train, no running stats");
    hl_tensor_free(x);
    hl_tensor_free(g);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

/* Eval mode: y = (x − rm)/sqrt(rv + eps)·γ + β; the running statistics are left alone. */
Test(norm, batchnorm_eval_uses_running_stats) {
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, false);
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(1, 2, 1, 2), (float[]){1, 3, 5, -1});
    hl_tensor *g = hl_test_tensor_of(1, HL_SHAPE(2), (float[]){2, 0.5f});
    hl_tensor *b = hl_test_tensor_of(1, HL_SHAPE(2), (float[]){1, -1});
    float rm[2] = {1, 1}, rv[2] = {4, 1};
    hl_tensor *y = hl_batchnorm(ctx, x, g, b, rm, rv, 0.1f, 0.0f);
    /* c0: (1−1)/2·2+1 = 1, (3−1)/2·2+1 = 3; c1: (5−1)·0.5−1 = 1, (−1−1)·0.5−1 = −2 */
    hl_test_assert_close(y->data, (float[]){1, 3, 1, -2}, 4, 1e-6f, 0, "bn eval");
    hl_test_assert_close(rm, (float[]){1, 1}, 2, 0, 0, "rm unchanged");
    hl_test_assert_close(rv, (float[]){4, 1}, 2, 0, 0, "rv unchanged");
    hl_tensor_free(x);
    hl_tensor_free(g);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

/* ---- batch norm gradients ----------------------------------------------------------------------------------------- */

typedef struct {
    float rm[8], rv[8];
    bool affine;
} bn_user;

static hl_tensor *bn_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    bn_user *u = user;
    /* train-mode updates of u->rm/rv do not affect the output */
    return hl_batchnorm(ctx, in[0], u->affine ? in[1] : NULL, u->affine ? in[2] : NULL, u->rm, u->rv, 0.1f,
                        1e-5f);
}

static void bn_gradcheck(const char *what, int ndim, const int64_t *shape, bool eval, bool affine, unsigned skip) {
    const int64_t C = shape[1];
    hl_tensor *in[3] = {hl_test_tensor(ndim, shape, 21, -1.0f, 2.0f), hl_test_tensor(1, HL_SHAPE(C), 22, 0.5f, 2.0f),
                        hl_test_tensor(1, HL_SHAPE(C), 23, -1.0f, 1.0f)};
    bn_user u = {.affine = affine};
    for (int c = 0; c < 8; c++) u.rm[c] = 0.1f * (float)c, u.rv[c] = 0.5f + 0.25f * (float)c;
    hl_test_gradcheck(what, bn_fn, affine ? 3 : 1, in, &u,
                      (hl_gradcheck_opts){.eval_mode = eval, .skip_mask = skip, .rtol = 2e-2f});
    for (int i = 0; i < 3; i++) hl_tensor_free(in[i]);
}

Test(norm, batchnorm_grad_train_1d) { bn_gradcheck("bn 1d train", 2, HL_SHAPE(5, 3), false, true, 0); }
Test(norm, batchnorm_grad_train_2d) { bn_gradcheck("bn 2d train", 4, HL_SHAPE(2, 3, 2, 3), false, true, 0); }
Test(norm, batchnorm_grad_train_no_affine) { bn_gradcheck("bn 2d no affine", 4, HL_SHAPE(3, 2, 1, 3), false, false, 0); }
Test(norm, batchnorm_grad_eval_1d) { bn_gradcheck("bn 1d eval", 2, HL_SHAPE(4, 3), true, true, 0); }
Test(norm, batchnorm_grad_eval_2d) { bn_gradcheck("bn 2d eval", 4, HL_SHAPE(2, 3, 2, 2), true, true, 0); }
/* Frozen affine parameters: only x is differentiated (and gamma/beta get no gradient buffer). */
Test(norm, batchnorm_grad_x_only) {
    bn_gradcheck("bn x only", 4, HL_SHAPE(2, 2, 2, 2), false, true, 0x6);
}
Test(norm, batchnorm_grad_params_only) {
    bn_gradcheck("bn params only", 4, HL_SHAPE(2, 2, 2, 2), false, true, 0x1);
}

/* Train mode, no affine: dx is dy projected off span{1, x̂} per channel, so Σ_n dx = 0 for every channel. */
Test(norm, batchnorm_train_grad_sums_to_zero) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(2, HL_SHAPE(6, 2), 31, -1, 1);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_batchnorm(ctx, x, NULL, NULL, NULL, NULL, 0.1f, 1e-5f);
    float seed[12];
    for (int i = 0; i < 12; i++) seed[i] = (float)(i % 5) - 1.5f;
    hl_backward_seed(ctx, y, seed);
    for (int c = 0; c < 2; c++) {
        double s = 0;
        for (int n = 0; n < 6; n++) s += x->grad[n * 2 + c];
        cr_assert(fabs(s) < 1e-5, "channel %d: Σ dx = %g", c, s);
    }
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* ---- instance norm ------------------------------------------------------------------------------------------------ */

Test(norm, instancenorm_values) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t B = 2, C = 3, S = 6;
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(B, C, 2, 3), 41, -3, 3);
    hl_tensor *g = hl_test_tensor(1, HL_SHAPE(C), 42, 0.5f, 2), *b = hl_test_tensor(1, HL_SHAPE(C), 43, -1, 1);
    float want[B * C * S];
    /* per (b, c): a batch norm with N = 1 over that sample's plane */
    for (int64_t bi = 0; bi < B; bi++)
        for (int64_t c = 0; c < C; c++) {
            const int64_t off = (bi * C + c) * S;
            ref_batchnorm(x->data + off, 1, 1, S, g->data + c, b->data + c, 1e-5f, want + off, NULL, NULL);
        }
    hl_ctx_set_train(ctx, false); /* same in both modes */
    hl_tensor *y = hl_instancenorm(ctx, x, g, b, 1e-5f);
    hl_test_assert_close(y->data, want, B * C * S, 1e-5f, 1e-4f, "instancenorm eval");
    hl_ctx_set_train(ctx, true);
    y = hl_instancenorm(ctx, x, g, b, 1e-5f);
    hl_test_assert_close(y->data, want, B * C * S, 1e-5f, 1e-4f, "instancenorm train");
    /* by hand: one plane 1,2,3,4 -> ±1.5/sqrt(1.25), ±0.5/sqrt(1.25) */
    hl_tensor *x1 = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 2), (float[]){1, 2, 3, 4});
    y = hl_instancenorm(ctx, x1, NULL, NULL, 0.0f);
    const float s = 1.0f / sqrtf(1.25f);
    hl_test_assert_close(y->data, (float[]){-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s}, 4, 1e-6f, 1e-6f, "by hand");
    hl_tensor_free(x);
    hl_tensor_free(x1);
    hl_tensor_free(g);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

static hl_tensor *in_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    bool affine = *(bool *)user;
    return hl_instancenorm(ctx, in[0], affine ? in[1] : NULL, affine ? in[2] : NULL, 1e-5f);
}

Test(norm, instancenorm_grad) {
    hl_tensor *in[3] = {hl_test_tensor(4, HL_SHAPE(2, 3, 2, 3), 51, -1, 2), hl_test_tensor(1, HL_SHAPE(3), 52, 0.5f, 2),
                        hl_test_tensor(1, HL_SHAPE(3), 53, -1, 1)};
    bool affine = true;
    hl_test_gradcheck("instancenorm affine", in_fn, 3, in, &affine, (hl_gradcheck_opts){.rtol = 2e-2f});
    hl_test_gradcheck("instancenorm affine eval", in_fn, 3, in, &affine,
                      (hl_gradcheck_opts){.rtol = 2e-2f, .eval_mode = true});
    affine = false;
    hl_test_gradcheck("instancenorm plain", in_fn, 1, in, &affine, (hl_gradcheck_opts){.rtol = 2e-2f});
    for (int i = 0; i < 3; i++) hl_tensor_free(in[i]);
}

/* ---- dropout ------------------------------------------------------------------------------------------------------ */

Test(norm, dropout_p0_and_eval_are_identity) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(2, HL_SHAPE(3, 5), 61, -1, 1);
    hl_ctx_set_train(ctx, true);
    hl_tensor *y = hl_dropout(ctx, x, 0.0f);
    hl_test_assert_close(y->data, x->data, 15, 0, 0, "p = 0");
    cr_assert_eq(ctx->rng.counter, 15, "train-mode dropout advances the counter by numel even at p = 0");
    hl_ctx_set_train(ctx, false);
    y = hl_dropout(ctx, x, 0.7f);
    hl_test_assert_close(y->data, x->data, 15, 0, 0, "eval");
    cr_assert_eq(ctx->rng.counter, 15, "eval mode draws nothing");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Element i of a call uses hl_rng_uniform_at(seed, stream, counter + i): keep (×1/(1−p)) iff u >= p. Calls of odd
 * lengths make the counter start mid-Philox-block. */
Test(norm, dropout_mask_matches_rng_contract) {
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_seed(ctx, 77);
    const float p = 0.3f;
    const int lens[3] = {7, 13, 50};
    for (int call = 0; call < 3; call++) {
        const int n = lens[call];
        hl_tensor *x = hl_test_tensor(1, HL_SHAPE(n), 62 + (uint64_t)call, 0.5f, 1.5f);
        const hl_rng before = ctx->rng;
        hl_tensor *y = hl_dropout(ctx, x, p);
        cr_assert_eq(ctx->rng.counter, before.counter + (uint64_t)n);
        for (int i = 0; i < n; i++) {
            float u = hl_rng_uniform_at(before.seed, before.stream, before.counter + (uint64_t)i);
            float want = u >= p ? x->data[i] / (1.0f - p) : 0.0f;
            cr_assert(fabsf(y->data[i] - want) <= 1e-6f, "call %d elem %d: got %g want %g", call, i, y->data[i],
                      want);
        }
        hl_tensor_free(x);
    }
    hl_ctx_free(ctx);
}

/* p = 0.5 on 200000 ones: each output is 0 or 2, about half survive, mean ≈ 1 (σ of the mean ≈ 0.0022). */
Test(norm, dropout_half_preserves_mean) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t n = 200000;
    hl_tensor *x = hl_tensor_new(ctx, 1, HL_SHAPE(n));
    hl_tensor_fill(x, 1.0f);
    hl_tensor *y = hl_dropout(ctx, x, 0.5f);
    double s = 0;
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        cr_assert(y->data[i] == 0.0f || y->data[i] == 2.0f, "element %lld = %g", (long long)i, y->data[i]);
        s += y->data[i];
        kept += y->data[i] != 0.0f;
    }
    cr_assert(fabs(s / (double)n - 1.0) < 0.015, "mean %g", s / (double)n);
    cr_assert(kept > n / 2 - 1500 && kept < n / 2 + 1500, "kept %lld", (long long)kept);
    /* Two calls draw different masks (the counter moved on). */
    hl_tensor *y2 = hl_dropout(ctx, x, 0.5f);
    cr_assert(memcmp(y->data, y2->data, (size_t)n * sizeof(float)) != 0);
    hl_ctx_free(ctx);
}

/* The mask is a function of (seed, stream, counter) only: 1, 2 and 4 threads give identical bits. Large enough
 * for the parallel path. */
Test(norm, dropout_same_mask_any_thread_count) {
    const int64_t n = 300001;
    float *ref = malloc((size_t)n * sizeof *ref);
    const int threads[3] = {1, 2, 4};
    for (int t = 0; t < 3; t++) {
        hl_threads_set(threads[t]);
        hl_ctx *ctx = hl_test_ctx();
        hl_ctx_set_seed(ctx, 5);
        hl_tensor *x = hl_tensor_new(ctx, 1, HL_SHAPE(n));
        hl_tensor_fill(x, 1.0f);
        hl_dropout(ctx, x, 0.25f); /* shift the counter off a block boundary */
        hl_tensor *y = hl_dropout(ctx, hl_slice(ctx, x, 0, 0, n - 3), 0.25f);
        if (t == 0)
            memcpy(ref, y->data, (size_t)(n - 3) * sizeof *ref);
        else
            cr_assert(memcmp(ref, y->data, (size_t)(n - 3) * sizeof *ref) == 0, "%d threads differ", threads[t]);
        hl_ctx_free(ctx);
    }
    hl_threads_set(1);
    free(ref);
}

static hl_tensor *dropout_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    return hl_dropout(ctx, in[0], *(float *)user);
}

Test(norm, dropout_grad) {
    hl_tensor *x = hl_test_tensor(2, HL_SHAPE(4, 6), 71, -1, 1);
    float p = 0.4f;
    hl_test_gradcheck("dropout", dropout_fn, 1, &x, &p, (hl_gradcheck_opts){0});
    /* And by hand: the gradient is the mask itself (0 or 1/(1−p)). */
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor_zero_grad(x);
    hl_tensor *y = hl_dropout(ctx, x, p);
    hl_backward(ctx, hl_sum(ctx, y, HL_AXES_ALL, false));
    int zeros = 0;
    for (int i = 0; i < 24; i++) {
        float want = y->data[i] == 0.0f ? 0.0f : 1.0f / (1.0f - p);
        cr_assert(fabsf(x->grad[i] - want) < 1e-6f, "dx[%d] = %g", i, x->grad[i]);
        zeros += y->data[i] == 0.0f;
    }
    cr_assert(zeros > 0 && zeros < 24, "a mask of 24 at p = 0.4 drops some but not all (%d)", zeros);
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* hl_batchnorm_relu is relu(hl_batchnorm(...)) bit for bit: values, dx, dγ, dβ and the running statistics, in train
 * and eval mode. */
Test(norm, batchnorm_relu_equals_relu_of_batchnorm) {
    hl_ctx *ctx = hl_test_ctx();
    for (int train = 0; train <= 1; train++) {
        hl_tensor *x = hl_test_tensor(4, HL_SHAPE(3, 4, 5, 6), 1, -2, 2);
        hl_tensor *g = hl_test_tensor(1, HL_SHAPE(4), 2, 0.5f, 1.5f), *b = hl_test_tensor(1, HL_SHAPE(4), 3, -1, 1);
        hl_tensor *r = hl_test_tensor(4, HL_SHAPE(3, 4, 5, 6), 4, -1, 1);
        float run[2][8], out[2][360], dx[2][360], dg[2][4], db[2][4];
        for (int fused = 0; fused <= 1; fused++) {
            hl_ctx_reset(ctx);
            hl_ctx_set_train(ctx, train);
            for (int c = 0; c < 4; c++) run[fused][c] = 0.1f * (float)c, run[fused][4 + c] = 1.0f + 0.2f * (float)c;
            hl_tensor *in[3] = {x, g, b};
            for (int i = 0; i < 3; i++) hl_tensor_set_requires_grad(in[i], true), hl_tensor_zero_grad(in[i]);
            hl_tensor *y = fused ? hl_batchnorm_relu(ctx, x, g, b, run[fused], run[fused] + 4, 0.1f, 1e-5f)
                                 : hl_relu(ctx, hl_batchnorm(ctx, x, g, b, run[fused], run[fused] + 4, 0.1f, 1e-5f));
            hl_backward_seed(ctx, y, r->data);
            memcpy(out[fused], y->data, sizeof out[fused]);
            memcpy(dx[fused], x->grad, sizeof dx[fused]);
            memcpy(dg[fused], g->grad, sizeof dg[fused]);
            memcpy(db[fused], b->grad, sizeof db[fused]);
        }
        int zeros = 0;
        for (int i = 0; i < 360; i++) zeros += out[0][i] == 0.0f;
        cr_assert(zeros > 0 && zeros < 360, "the ReLU must cut some outputs");
        cr_assert(!memcmp(out[0], out[1], sizeof out[0]) && !memcmp(dx[0], dx[1], sizeof dx[0]) &&
                      !memcmp(dg[0], dg[1], sizeof dg[0]) && !memcmp(db[0], db[1], sizeof db[0]) &&
                      !memcmp(run[0], run[1], sizeof run[0]),
                  "%s mode: fused and unfused differ", train ? "train" : "eval");
        hl_tensor_free(x), hl_tensor_free(g), hl_tensor_free(b), hl_tensor_free(r);
    }
    hl_ctx_free(ctx);
}
