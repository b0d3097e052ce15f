/* tests/core/test_ops_pool.c — max / average / global average pooling: hand-computed values and gradients
 * (padding never wins the max, ties go to the first maximum, count_include_pad for the average) and gradient
 * checks over kernel/stride/padding/odd-size configs. */
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
