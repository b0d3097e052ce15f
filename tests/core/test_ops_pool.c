/* tests/core/test_ops_pool.c — max / average / global / adaptive average pooling: hand-computed values and
 * gradients (padding never wins the max, ties go to the first maximum, count_include_pad for the average, PyTorch's
 * overlapping adaptive bins) and gradient checks over kernel/stride/padding/odd-size configs. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

Test(pool, maxpool_values_and_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(1, 1, 4, 4),
                                     (float[]){1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 7, 6, 9, 2, 6, 7});
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_maxpool2d(ctx, x, 2, 2, 0);
    cr_assert(y->shape[2] == 2 && y->shape[3] == 2);
    hl_test_assert_close(y->data, (float[]){5, 8, 9, 7}, 4, 0, 0, "maxpool k2 s2");
    /* The last window holds 7, 6, 6, 7: the gradient goes to the first 7, at (2,2). */
    hl_backward_seed(ctx, y, (float[]){1, 2, 3, 4});
    hl_test_assert_close(x->grad, (float[]){0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 3, 0, 0, 0}, 16, 0, 0, "dx");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

Test(pool, maxpool_padding_never_wins_and_ties_go_first) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(1, 1, 3, 3), (float[]){-1, -2, -3, -4, -5, -6, -7, -8, -9});
    hl_tensor_set_requires_grad(x, true);
    /* k3 s2 p1: Ho = 2, windows are clipped to rows/cols {0,1} and {1,2}; a zero pad would win if counted. */
    hl_tensor *y = hl_maxpool2d(ctx, x, 3, 2, 1);
    cr_assert(y->shape[2] == 2 && y->shape[3] == 2);
    hl_test_assert_close(y->data, (float[]){-1, -2, -4, -5}, 4, 0, 0, "negative image with padding");
    hl_backward_seed(ctx, y, (float[]){1, 1, 1, 1});
    hl_test_assert_close(x->grad, (float[]){1, 1, 0, 1, 1, 0, 0, 0, 0}, 9, 0, 0, "dx with padding");
    hl_ctx_reset(ctx);
    /* All equal: every window's gradient goes to its first (top-left) element. */
    hl_tensor *t = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 4), (float[]){3, 3, 3, 3, 3, 3, 3, 3});
    hl_tensor_set_requires_grad(t, true);
    hl_backward_seed(ctx, hl_maxpool2d(ctx, t, 2, 2, 0), (float[]){1, 2});
    hl_test_assert_close(t->grad, (float[]){1, 0, 2, 0, 0, 0, 0, 0}, 8, 0, 0, "ties");
    hl_tensor_free(x);
    hl_tensor_free(t);
    hl_ctx_free(ctx);
}

Test(pool, avgpool_values_and_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    float v[16];
    for (int i = 0; i < 16; i++) v[i] = (float)(i + 1);
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(1, 1, 4, 4), v);
    hl_tensor *y = hl_avgpool2d(ctx, x, 2, 2, 0);
    hl_test_assert_close(y->data, (float[]){3.5f, 5.5f, 11.5f, 13.5f}, 4, 1e-6f, 0, "avgpool k2 s2");
    /* count_include_pad: ones, k3 s1 p1 -> a corner window sees 4 ones out of 9, an edge 6, the centre 9. */
    hl_tensor *ones = hl_test_tensor_of(4, HL_SHAPE(1, 1, 3, 3), (float[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    hl_tensor_set_requires_grad(ones, true);
    y = hl_avgpool2d(ctx, ones, 3, 1, 1);
    const float e[9] = {4 / 9.f, 6 / 9.f, 4 / 9.f, 6 / 9.f, 1, 6 / 9.f, 4 / 9.f, 6 / 9.f, 4 / 9.f};
    hl_test_assert_close(y->data, e, 9, 1e-6f, 0, "count_include_pad");
    /* Gradient of Σy: each pixel gets (number of windows covering it)/9 — the same pattern by symmetry. */
    hl_backward_seed(ctx, y, (float[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    hl_test_assert_close(ones->grad, e, 9, 1e-6f, 0, "avgpool dx");
    hl_tensor_free(x);
    hl_tensor_free(ones);
    hl_ctx_free(ctx);
}

Test(pool, global_avgpool_values) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(2, 2, 1, 3), (float[]){1, 2, 3, 4, 5, 6, -1, -1, -1, 0, 0, 9});
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_global_avgpool(ctx, x);
    cr_assert(y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 2);
    hl_test_assert_close(y->data, (float[]){2, 5, -1, 3}, 4, 1e-6f, 0, "global avg");
    hl_backward_seed(ctx, y, (float[]){3, 6, 0, -3});
    hl_test_assert_close(x->grad, (float[]){1, 1, 1, 2, 2, 2, 0, 0, 0, -1, -1, -1}, 12, 1e-6f, 0, "global avg dx");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* AdaptiveAvgPool2d bins [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉): 5 rows -> 3 are {0,1} {1,2,3} {3,4} (overlapping), 2 columns -> 3
 * are {0} {0,1} {1} (a column repeated). Values and the gradient (each pixel gets dy/|bin| of every bin holding it)
 * by hand. */
Test(pool, adaptive_avgpool_values_and_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    float v[10];
    for (int i = 0; i < 10; i++) v[i] = (float)(i * i); /* x[h][w] = (2h + w)² */
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(1, 1, 5, 2), v);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_adaptive_avgpool2d(ctx, x, 3, 3);
    cr_assert(y->ndim == 4 && y->shape[2] == 3 && y->shape[3] == 3);
    /* rows {0,1}: x = 0 1 / 4 9; rows {1,2,3}: 4 9 / 16 25 / 36 49; rows {3,4}: 36 49 / 64 81 */
    const float want[9] = {(0 + 4) / 2.f,       (0 + 1 + 4 + 9) / 4.f,           (1 + 9) / 2.f,
                           (4 + 16 + 36) / 3.f, (4 + 9 + 16 + 25 + 36 + 49) / 6.f, (9 + 25 + 49) / 3.f,
                           (36 + 64) / 2.f,     (36 + 49 + 64 + 81) / 4.f,       (49 + 81) / 2.f};
    hl_test_assert_close(y->data, want, 9, 1e-5f, 1e-6f, "adaptive 5x2 -> 3x3");
    hl_backward_seed(ctx, y, (float[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    /* pixel (h, w): Σ over the bins holding it of 1/|bin|; column 0 is in bins {0} (size 1 col) and {0,1} (2 cols) */
    const float r0 = 1 / 2.f + 1 / 4.f, r1 = r0 + 1 / 3.f + 1 / 6.f, r2 = 1 / 3.f + 1 / 6.f, r3 = r2 + r0;
    const float want_dx[10] = {r0, r0, r1, r1, r2, r2, r3, r3, r0, r0};
    hl_test_assert_close(x->grad, want_dx, 10, 1e-6f, 1e-6f, "adaptive dx");
    /* Output size = input size: the identity. */
    hl_tensor *same = hl_adaptive_avgpool2d(ctx, x, 5, 2);
    hl_test_assert_close(same->data, v, 10, 0, 0, "adaptive identity");
    /* Divisible sizes: plain 2×2 average pooling. */
    hl_tensor *z = hl_test_tensor(4, HL_SHAPE(2, 3, 6, 4), 5, -1, 1);
    hl_tensor *a = hl_adaptive_avgpool2d(ctx, z, 3, 2), *b = hl_avgpool2d(ctx, z, 2, 2, 0);
    hl_test_assert_close(a->data, b->data, hl_tensor_numel(a), 1e-6f, 1e-6f, "adaptive = avgpool 2");
    hl_tensor_free(x);
    hl_tensor_free(z);
    hl_ctx_free(ctx);
}

typedef struct { int k, s, p; } pool_cfg;

static hl_tensor *max_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    pool_cfg *c = user;
    return hl_maxpool2d(ctx, in[0], c->k, c->s, c->p);
}
static hl_tensor *avg_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    pool_cfg *c = user;
    return hl_avgpool2d(ctx, in[0], c->k, c->s, c->p);
}
static hl_tensor *gavg_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_global_avgpool(ctx, in[0]);
}
static hl_tensor *adaptive_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    const int *o = user;
    return hl_adaptive_avgpool2d(ctx, in[0], o[0], o[1]);
}

Test(pool, gradchecks) {
    static const pool_cfg cfgs[] = {{2, 2, 0}, {3, 2, 1}, {2, 1, 0}, {3, 1, 2}, {3, 3, 1}};
    for (size_t i = 0; i < HL_ARRAY_LEN(cfgs); i++) {
        /* Odd, non-square planes; uniform values are distinct, and kink_tol skips the rare near-tie. */
        hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 2, 5, 6), 40 + i, -1, 1);
        char what[48];
        snprintf(what, sizeof what, "maxpool k%d s%d p%d", cfgs[i].k, cfgs[i].s, cfgs[i].p);
        hl_test_gradcheck(what, max_fn, 1, &x, (void *)&cfgs[i], (hl_gradcheck_opts){.kink_tol = 0.1f});
        snprintf(what, sizeof what, "avgpool k%d s%d p%d", cfgs[i].k, cfgs[i].s, cfgs[i].p);
        hl_test_gradcheck(what, avg_fn, 1, &x, (void *)&cfgs[i], (hl_gradcheck_opts){0});
        hl_tensor_free(x);
    }
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(3, 2, 3, 5), 7, -1, 1);
    hl_test_gradcheck("global_avgpool", gavg_fn, 1, &x, NULL, (hl_gradcheck_opts){0});
    /* Adaptive: shrinking with overlapping bins, growing (repeats), mixed, 1×1 (global). */
    static const int outs[][2] = {{2, 3}, {4, 7}, {1, 6}, {1, 1}};
    for (size_t i = 0; i < HL_ARRAY_LEN(outs); i++) {
        char what[48];
        snprintf(what, sizeof what, "adaptive_avgpool -> %dx%d", outs[i][0], outs[i][1]);
        hl_test_gradcheck(what, adaptive_fn, 1, &x, (void *)outs[i], (hl_gradcheck_opts){0});
    }
    hl_tensor_free(x);
}

/* A no-grad forward saves no indices and records nothing. */
Test(pool, no_grad_records_nothing) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(1, 2, 4, 4), 1, -1, 1);
    hl_tensor_set_requires_grad(x, true);
    hl_no_grad_begin(ctx);
    hl_tensor *y = hl_maxpool2d(ctx, x, 2, 2, 0);
    hl_no_grad_end(ctx);
    cr_assert(ctx->tape_len == 0 && !hl_tensor_requires_grad(y));
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}
