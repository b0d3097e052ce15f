/* tests/core/test_tape.c — the autograd tape on composite graphs: shared and reused inputs, detach, no-grad,
 * frozen parameters, gradient w.r.t. the input only, accumulation across backward calls. */
#include "test_common.h"

static hl_tensor *vec(const float *v, int n) { return hl_test_tensor_of(1, HL_SHAPE(n), v); }

/* y = x·x + x: the shared input gets both paths, dy/dx = 2x + 1. */
Test(tape, shared_input_accumulates) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec((float[]){1.0f, -2.0f, 0.5f}, 3);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_sum(ctx, hl_add(ctx, hl_mul(ctx, x, x), x), HL_AXES_ALL, false);
    cr_assert_eq(y->ndim, 0);
    hl_backward(ctx, y);
    hl_test_assert_close(x->grad, (float[]){3.0f, -3.0f, 2.0f}, 3, 1e-6f, 0, "dy/dx");
    /* A second backward on a fresh graph accumulates into the heap leaf. */
    hl_ctx_reset(ctx);
    y = hl_sum(ctx, hl_scale(ctx, x, 2.0f), HL_AXES_ALL, false);
    hl_backward(ctx, y);
    hl_test_assert_close(x->grad, (float[]){5.0f, -1.0f, 4.0f}, 3, 1e-6f, 0, "accumulated");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* An intermediate reused by two consumers: z = a·a with a = 3x, loss = Σ(z + a); dL/dx = 3(2a + 1). */
Test(tape, reused_intermediate) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec((float[]){1.0f, 2.0f}, 2);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *a = hl_scale(ctx, x, 3.0f);
    hl_tensor *loss = hl_sum(ctx, hl_add(ctx, hl_mul(ctx, a, a), a), HL_AXES_ALL, false);
    hl_backward(ctx, loss);
    hl_test_assert_close(x->grad, (float[]){21.0f, 39.0f}, 2, 1e-5f, 0, "dL/dx");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

Test(tape, detach_stops_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec((float[]){2.0f, 3.0f}, 2);
    hl_tensor_set_requires_grad(x, true);
    /* loss = Σ x · detach(x): gradient is detach(x) only (not 2x). */
    hl_tensor *d = hl_detach(ctx, x);
    cr_assert(!hl_tensor_requires_grad(d));
    cr_assert_eq(d->data, x->data, "detach is a view");
    hl_backward(ctx, hl_sum(ctx, hl_mul(ctx, x, d), HL_AXES_ALL, false));
    hl_test_assert_close(x->grad, (float[]){2.0f, 3.0f}, 2, 1e-6f, 0, "detached");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

Test(tape, no_grad_records_nothing) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec((float[]){1.0f, 2.0f}, 2);
    hl_tensor_set_requires_grad(x, true);
    hl_no_grad_begin(ctx);
    hl_tensor *y = hl_mul(ctx, x, x);
    hl_no_grad_end(ctx);
    cr_assert_eq(ctx->tape_len, 0);
    cr_assert(!hl_tensor_requires_grad(y));
    hl_test_assert_close(y->data, (float[]){1.0f, 4.0f}, 2, 0, 0, "values still computed");
    /* Outside the scope, recording resumes. */
    hl_tensor *z = hl_mul(ctx, x, x);
    cr_assert_eq(ctx->tape_len, 1);
    cr_assert(hl_tensor_requires_grad(z));
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* A frozen "weight" gets no gradient and records no node when the other input needs none either. */
Test(tape, frozen_parameter_and_input_gradient_only) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *w = vec((float[]){0.5f, -1.0f, 2.0f}, 3);
    hl_tensor *x = vec((float[]){1.0f, 1.0f, 1.0f}, 3);
    hl_tensor_set_requires_grad(w, true);
    hl_tensor_set_requires_grad(w, false); /* freeze */
    hl_mul(ctx, w, x);
    cr_assert_eq(ctx->tape_len, 0, "frozen weight and plain input: nothing recorded");
    /* Gradient w.r.t. the input only (an attack's δ): w stays without a gradient. */
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *loss = hl_sum(ctx, hl_mul(ctx, w, x), HL_AXES_ALL, false);
    hl_backward(ctx, loss);
    hl_test_assert_close(x->grad, w->data, 3, 0, 0, "d/dx = w");
    cr_assert(w->grad == NULL || (w->grad[0] == 0 && w->grad[1] == 0 && w->grad[2] == 0), "frozen w got grad");
    hl_tensor_free(w);
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Intermediate gradients are fresh in each backward: two forward/backward pairs in one ctx (a GAN's D then G step)
 * that share an intermediate do not leak gradient from the first pass into the second. */
Test(tape, two_passes_in_one_ctx) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec((float[]){1.0f, 2.0f}, 2);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *h = hl_scale(ctx, x, 2.0f);
    hl_backward(ctx, hl_sum(ctx, h, HL_AXES_ALL, false));           /* dx += 2 */
    hl_tensor_zero_grad(x);
    hl_tensor *h2 = hl_scale(ctx, x, 2.0f);
    hl_backward(ctx, hl_sum(ctx, hl_mul(ctx, h2, h2), HL_AXES_ALL, false)); /* d/dx Σ 4x² = 8x */
    hl_test_assert_close(x->grad, (float[]){8.0f, 16.0f}, 2, 1e-5f, 0, "second pass");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* hl_backward_seed computes the vector-Jacobian product with the given seed. */
Test(tape, backward_seed_vjp) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec((float[]){1.0f, 2.0f, 3.0f}, 3);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_mul(ctx, x, x);
    hl_backward_seed(ctx, y, (float[]){1.0f, 0.0f, -1.0f});
    hl_test_assert_close(x->grad, (float[]){2.0f, 0.0f, -6.0f}, 3, 1e-6f, 0, "vjp");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}
