/* tests/core/test_ops_loss.c — fused losses: hand-computed values and gradients (the numbers PyTorch's
 * cross_entropy / binary_cross_entropy_with_logits / mse_loss / l1_loss give), stability at extreme logits,
 * targets as constants, and gradchecks for every differentiable input. */
#include "test_common.h"

#include <math.h>

static hl_tensor *mat(int r, int c, const float *v) { return hl_test_tensor_of(2, HL_SHAPE(r, c), v); }
static hl_tensor *vec(int n, const float *v) { return hl_test_tensor_of(1, HL_SHAPE(n), v); }

/* Runs backward on a scalar loss and checks that it is a 0-dim tensor holding `want`. */
static void check_scalar(hl_ctx *ctx, hl_tensor *loss, float want, float tol, const char *what) {
    cr_assert_eq(loss->ndim, 0, "%s: loss is not 0-dim", what);
    hl_test_assert_close(loss->data, &want, 1, tol, 0, what);
    hl_backward(ctx, loss);
}

/* ---- softmax cross-entropy ------------------------------------------------------------------------------------ */

/* PyTorch: F.cross_entropy([[1,2,3],[1,1,1]], [2,0]) = 0.7531091.
 * Row 0: lse = 3 + log(e⁻² + e⁻¹ + 1) = 3.4076060, loss 0.4076060; softmax (0.0900306, 0.2447285, 0.6652410).
 * Row 1: lse = 1 + log 3, loss log 3 = 1.0986123; softmax 1/3 each. Gradient (p − t)/2. */
Test(loss, softmax_ce_one_hot_values) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *z = mat(2, 3, (float[]){1, 2, 3, 1, 1, 1});
    hl_tensor *t = mat(2, 3, (float[]){0, 0, 1, 1, 0, 0});
    hl_tensor_set_requires_grad(z, true);
    check_scalar(ctx, hl_softmax_ce(ctx, z, t), 0.7531091f, 1e-6f, "ce");
    hl_test_assert_close(z->grad,
                         (float[]){0.0450153f, 0.1223642f, -0.1673795f, -0.3333333f, 0.1666667f, 0.1666667f}, 6,
                         1e-6f, 0, "dce/dz");
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_ctx_free(ctx);
}

/* Soft targets. Row 0: normalised multi-hot (½,½,0) on z = (1,2,3): loss = lse − 1.5 = 1.9076060.
 * Row 1: a target of mass S = 1.5, t = (1, ½) on z = (0,0): loss = 1.5·log 2 = 1.0397208, and the gradient is
 * (S·p − t) = (1.5·½ − 1, 1.5·½ − ½) = (−¼, ¼) — not (p − t)·S = (−¾, 0). Mean over B = 2 halves everything. */
Test(loss, softmax_ce_soft_and_unnormalised_targets) {
    hl_ctx *ctx = hl_test_ctx();
    /* Row 1's third class has a hugely negative logit (softmax exactly 0) and zero target: it must add nothing. */
    hl_tensor *z = mat(2, 3, (float[]){1, 2, 3, 0, 0, -1e30f});
    hl_tensor *t = mat(2, 3, (float[]){0.5f, 0.5f, 0, 1, 0.5f, 0});
    hl_tensor_set_requires_grad(z, true);
    check_scalar(ctx, hl_softmax_ce(ctx, z, t), 0.5f * (1.9076060f + 1.0397208f), 1e-6f, "ce soft");
    hl_test_assert_close(z->grad,
                         (float[]){0.5f * (0.0900306f - 0.5f), 0.5f * (0.2447285f - 0.5f), 0.5f * 0.6652410f,
                                   -0.125f, 0.125f, 0.0f},
                         6, 1e-6f, 0, "dce/dz soft");
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_ctx_free(ctx);
}

/* Logits of ±1000 overflow a naive exp; the max-shifted form gives loss 1000 and gradient p − t = (1, −1, 0). */
Test(loss, softmax_ce_large_logits_stable) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *z = mat(1, 3, (float[]){1000, 0, -1000});
    hl_tensor *t = mat(1, 3, (float[]){0, 1, 0});
    hl_tensor_set_requires_grad(z, true);
    check_scalar(ctx, hl_softmax_ce(ctx, z, t), 1000.0f, 1e-3f, "ce large");
    hl_test_assert_close(z->grad, (float[]){1, -1, 0}, 3, 1e-6f, 0, "dce/dz large");
    hl_ctx_reset(ctx);
    hl_tensor *z2 = mat(1, 2, (float[]){-1000, -1000});
    hl_tensor *t2 = mat(1, 2, (float[]){1, 0});
    hl_tensor *l2 = hl_softmax_ce(ctx, z2, t2);
    hl_test_assert_close(l2->data, (float[]){0.6931472f}, 1, 1e-6f, 0, "ce very negative");
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_tensor_free(z2);
    hl_tensor_free(t2);
    hl_ctx_free(ctx);
}

/* The target is a constant: it gets no gradient even when it asks for one, and alone it records nothing. */
Test(loss, softmax_ce_target_is_constant) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *z = mat(1, 2, (float[]){0.5f, -0.5f});
    hl_tensor *t = mat(1, 2, (float[]){0.25f, 0.75f});
    hl_tensor_set_requires_grad(t, true);
    hl_tensor *l = hl_softmax_ce(ctx, z, t);
    cr_assert(!hl_tensor_requires_grad(l), "a loss whose only grad-requiring input is the target recorded a node");
    cr_assert_eq(ctx->tape_len, 0);
    hl_tensor_set_requires_grad(z, true);
    hl_backward(ctx, hl_softmax_ce(ctx, z, t));
    cr_assert_not_null(z->grad);
    hl_test_assert_close(t->grad, (float[]){0, 0}, 2, 0, 0, "target grad");
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_ctx_free(ctx);
}

static hl_tensor *f_softmax_ce(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_softmax_ce(ctx, in[0], in[1]);
}

/* Random logits; targets random in [0,1] (rows NOT normalised) and one-hot rows. */
Test(loss, softmax_ce_gradcheck) {
    hl_tensor *z = hl_test_tensor(2, HL_SHAPE(3, 5), 11, -2.0f, 2.0f);
    hl_tensor *t = hl_test_tensor(2, HL_SHAPE(3, 5), 12, 0.0f, 1.0f);
    hl_test_gradcheck("softmax_ce soft", f_softmax_ce, 2, (hl_tensor *[]){z, t}, NULL,
                      (hl_gradcheck_opts){.skip_mask = 2u});
    float oh[15] = {0};
    oh[1] = oh[5 + 4] = oh[10 + 0] = 1.0f;
    hl_tensor *t1 = mat(3, 5, oh);
    hl_test_gradcheck("softmax_ce one-hot", f_softmax_ce, 2, (hl_tensor *[]){z, t1}, NULL,
                      (hl_gradcheck_opts){.skip_mask = 2u});
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_tensor_free(t1);
}

/* ---- BCE with logits ------------------------------------------------------------------------------------------ */

/* z = (0, 2, −1), t = (0, 1, ½): softplus − t·z = (log 2, 2.1269280 − 2, 0.3132617 + ½), mean 0.5444456.
 * Gradient (σ(z) − t)/3 = (0.5, 0.8807971 − 1, 0.2689414 − 0.5)/3. */
Test(loss, bce_logits_values) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *z = vec(3, (float[]){0, 2, -1});
    hl_tensor *t = vec(3, (float[]){0, 1, 0.5f});
    hl_tensor_set_requires_grad(z, true);
    check_scalar(ctx, hl_bce_logits(ctx, z, t), 0.5444456f, 1e-6f, "bce");
    hl_test_assert_close(z->grad, (float[]){0.1666667f, -0.0397343f, -0.0770195f}, 3, 1e-6f, 0, "dbce/dz");
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_ctx_free(ctx);
}

/* |z| = 100: exp(100) overflows nothing in the stable form; loss (100 + 100 + 0)/3, gradient (1, −1, 0)/3. */
Test(loss, bce_logits_large_logits_stable) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *z = vec(3, (float[]){100, -100, 100});
    hl_tensor *t = vec(3, (float[]){0, 1, 1});
    hl_tensor_set_requires_grad(z, true);
    check_scalar(ctx, hl_bce_logits(ctx, z, t), 200.0f / 3.0f, 1e-4f, "bce large");
    hl_test_assert_close(z->grad, (float[]){1.0f / 3, -1.0f / 3, 0}, 3, 1e-7f, 0, "dbce/dz large");
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_ctx_free(ctx);
}

static hl_tensor *f_bce(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_bce_logits(ctx, in[0], in[1]);
}

Test(loss, bce_logits_gradcheck) {
    hl_tensor *z = hl_test_tensor(3, HL_SHAPE(2, 3, 2), 21, -3.0f, 3.0f);
    hl_tensor *t = hl_test_tensor(3, HL_SHAPE(2, 3, 2), 22, 0.0f, 1.0f);
    hl_test_gradcheck("bce_logits", f_bce, 2, (hl_tensor *[]){z, t}, NULL, (hl_gradcheck_opts){.skip_mask = 2u});
    hl_tensor_free(z);
    hl_tensor_free(t);
}

/* ---- MSE ------------------------------------------------------------------------------------------------------ */

/* a − b = (0, 2, −2, −½): mean of squares 8.25/4 = 2.0625; da = 2(a − b)/4 = (0, 1, −1, −¼), db = −da.
 * A backward seeded with 3 scales both gradients by 3 (the kernel reads the upstream scalar). */
Test(loss, mse_values_and_seed) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *a = mat(2, 2, (float[]){1, 2, 3, 4});
    hl_tensor *b = mat(2, 2, (float[]){1, 0, 5, 4.5f});
    hl_tensor_set_requires_grad(a, true);
    hl_tensor_set_requires_grad(b, true);
    check_scalar(ctx, hl_mse(ctx, a, b), 2.0625f, 1e-6f, "mse");
    hl_test_assert_close(a->grad, (float[]){0, 1, -1, -0.25f}, 4, 1e-6f, 0, "dmse/da");
    hl_test_assert_close(b->grad, (float[]){0, -1, 1, 0.25f}, 4, 1e-6f, 0, "dmse/db");
    hl_tensor_zero_grad(a);
    hl_tensor_zero_grad(b);
    hl_ctx_reset(ctx);
    hl_backward_seed(ctx, hl_mse(ctx, a, b), (float[]){3.0f});
    hl_test_assert_close(a->grad, (float[]){0, 3, -3, -0.75f}, 4, 1e-6f, 0, "3·dmse/da");
    hl_test_assert_close(b->grad, (float[]){0, -3, 3, 0.75f}, 4, 1e-6f, 0, "3·dmse/db");
    hl_tensor_free(a);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

/* Only b requires grad: a gets no buffer. mse(x, x) is 0 with zero gradient. */
Test(loss, mse_one_side_and_same_tensor) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *a = vec(2, (float[]){1, 2});
    hl_tensor *b = vec(2, (float[]){0, 4});
    hl_tensor_set_requires_grad(b, true);
    hl_backward(ctx, hl_mse(ctx, a, b));
    cr_assert_null(a->grad, "a frozen input got a gradient buffer");
    hl_test_assert_close(b->grad, (float[]){-1, 2}, 2, 1e-6f, 0, "dmse/db");
    hl_ctx_reset(ctx);
    hl_tensor_zero_grad(b);
    check_scalar(ctx, hl_mse(ctx, b, b), 0.0f, 0, "mse(b, b)");
    hl_test_assert_close(b->grad, (float[]){0, 0}, 2, 0, 0, "dmse(b,b)/db");
    hl_tensor_free(a);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

static hl_tensor *f_mse(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_mse(ctx, in[0], in[1]);
}

Test(loss, mse_gradcheck) {
    hl_tensor *a = hl_test_tensor(4, HL_SHAPE(2, 1, 3, 2), 31, -1.0f, 1.0f);
    hl_tensor *b = hl_test_tensor(4, HL_SHAPE(2, 1, 3, 2), 32, -1.0f, 1.0f);
    hl_test_gradcheck("mse", f_mse, 2, (hl_tensor *[]){a, b}, NULL, (hl_gradcheck_opts){0});
    hl_tensor_free(a);
    hl_tensor_free(b);
}

/* ---- L1 ------------------------------------------------------------------------------------------------------- */

/* |a − b| = (0, 2, 2, ½): mean 1.125; da = sign(a − b)/4 = (0, ¼, −¼, −¼) (zero where equal), db = −da. */
Test(loss, l1_values) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *a = vec(4, (float[]){1, 2, 3, 4});
    hl_tensor *b = vec(4, (float[]){1, 0, 5, 4.5f});
    hl_tensor_set_requires_grad(a, true);
    hl_tensor_set_requires_grad(b, true);
    check_scalar(ctx, hl_l1(ctx, a, b), 1.125f, 1e-6f, "l1");
    hl_test_assert_close(a->grad, (float[]){0, 0.25f, -0.25f, -0.25f}, 4, 1e-7f, 0, "dl1/da");
    hl_test_assert_close(b->grad, (float[]){0, -0.25f, 0.25f, 0.25f}, 4, 1e-7f, 0, "dl1/db");
    hl_tensor_free(a);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

static hl_tensor *f_l1(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_l1(ctx, in[0], in[1]);
}

/* Random pairs plus three exactly equal elements: there the central difference is 0 (|±ε| symmetric), which the
 * zero gradient must match — no kink skipping. Other pairs are > 2ε apart for these seeds (checked below). */
Test(loss, l1_gradcheck) {
    hl_tensor *a = hl_test_tensor(3, HL_SHAPE(3, 2, 3), 41, -1.0f, 1.0f);
    hl_tensor *b = hl_test_tensor(3, HL_SHAPE(3, 2, 3), 42, -1.0f, 1.0f);
    b->data[0] = a->data[0];
    b->data[7] = a->data[7];
    b->data[17] = a->data[17];
    for (int i = 0; i < 18; i++)
        cr_assert(a->data[i] == b->data[i] || fabsf(a->data[i] - b->data[i]) > 4e-3f, "seed gives a near-tie at %d", i);
    hl_test_gradcheck("l1", f_l1, 2, (hl_tensor *[]){a, b}, NULL, (hl_gradcheck_opts){0});
    hl_tensor_free(a);
    hl_tensor_free(b);
}

/* ---- sizes above the parallel threshold (the OpenMP branches) against plain double loops ---------------------- */
Test(loss, large_inputs_match_reference_loops) {
    hl_ctx *ctx = hl_test_ctx();
    const int B = 300, L = 301, n = B * L; /* 90300 > the kernels' serial limit */
    hl_tensor *z = hl_test_tensor(2, HL_SHAPE(B, L), 51, -4.0f, 4.0f);
    hl_tensor *t = hl_test_tensor(2, HL_SHAPE(B, L), 52, 0.0f, 1.0f);
    hl_tensor_set_requires_grad(z, true);
    double ce = 0, bce = 0, mse = 0, l1 = 0;
    for (int b = 0; b < B; b++) {
        double m = -INFINITY, se = 0;
        for (int l = 0; l < L; l++) m = fmax(m, z->data[b * L + l]);
        for (int l = 0; l < L; l++) se += exp(z->data[b * L + l] - m);
        for (int l = 0; l < L; l++) ce += t->data[b * L + l] * (m + log(se) - z->data[b * L + l]);
    }
    for (int i = 0; i < n; i++) {
        double zi = z->data[i], ti = t->data[i];
        bce += log1p(exp(zi)) - ti * zi;
        mse += (zi - ti) * (zi - ti);
        l1 += fabs(zi - ti);
    }
    const float want[4] = {(float)(ce / B), (float)(bce / n), (float)(mse / n), (float)(l1 / n)};
    hl_tensor *got[4] = {hl_softmax_ce(ctx, z, t), hl_bce_logits(ctx, z, t), hl_mse(ctx, z, t), hl_l1(ctx, z, t)};
    for (int k = 0; k < 4; k++) hl_test_assert_close(got[k]->data, &want[k], 1, 0, 1e-5f, "large loss");
    /* Gradients, one loss per backward, spot-checked against the formulas. */
    hl_backward(ctx, hl_mse(ctx, z, t));
    for (int i = 0; i < n; i += 997) {
        float w = 2.0f * (z->data[i] - t->data[i]) / n;
        hl_test_assert_close(&z->grad[i], &w, 1, 1e-9f, 1e-4f, "large dmse");
    }
    hl_tensor_zero_grad(z);
    hl_ctx_reset(ctx);
    hl_backward(ctx, hl_l1(ctx, z, t));
    for (int i = 0; i < n; i += 997) {
        float w = (float)((z->data[i] > t->data[i]) - (z->data[i] < t->data[i])) / n;
        hl_test_assert_close(&z->grad[i], &w, 1, 1e-9f, 1e-4f, "large dl1");
    }
    hl_tensor_zero_grad(z);
    hl_ctx_reset(ctx);
    hl_backward(ctx, hl_bce_logits(ctx, z, t));
    for (int i = 0; i < n; i += 997) {
        float w = (float)((1.0 / (1.0 + exp(-(double)z->data[i])) - t->data[i]) / n);
        hl_test_assert_close(&z->grad[i], &w, 1, 1e-9f, 1e-4f, "large dbce");
    }
    hl_tensor_zero_grad(z);
    hl_ctx_reset(ctx);
    hl_backward(ctx, hl_softmax_ce(ctx, z, t));
    for (int b = 0; b < B; b += 37) {
        double m = -INFINITY, se = 0, s = 0;
        for (int l = 0; l < L; l++) m = fmax(m, z->data[b * L + l]);
        for (int l = 0; l < L; l++) se += exp(z->data[b * L + l] - m), s += t->data[b * L + l];
        for (int l = 0; l < L; l += 13) {
            float w = (float)((s * exp(z->data[b * L + l] - m) / se - t->data[b * L + l]) / B);
            hl_test_assert_close(&z->grad[b * L + l], &w, 1, 1e-8f, 1e-4f, "large dce");
        }
    }
    hl_tensor_free(z);
    hl_tensor_free(t);
    hl_ctx_free(ctx);
}
