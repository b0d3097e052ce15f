/* tests/core/test_ops_activation.c — relu, leaky_relu, sigmoid, tanh_scaled, softplus, sign, sign_ste: values by
 * hand (including large |x| for the stable forms), gradients by central differences (kinks skipped with kink_tol
 * and checked by hand), sign's zero gradient inside a graph, and sign_ste's straight-through gradient. */
#include "test_common.h"

#include <math.h>
#include <stdlib.h>

static hl_tensor *vec(int n, const float *v) { return hl_test_tensor_of(1, HL_SHAPE(n), v); }

/* Backward with seed r (n values); returns x->grad after zeroing it first. */
static const float *grad_seed(hl_ctx *ctx, hl_tensor *x, hl_tensor *y, const float *r) {
    hl_tensor_zero_grad(x);
    hl_backward_seed(ctx, y, r);
    return x->grad;
}

static const float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};

Test(activation, relu_and_leaky_relu_by_hand) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec(5, (float[]){-2, -0.5f, 0, 0.5f, 3});
    hl_tensor_set_requires_grad(x, true);
    hl_test_assert_close(hl_relu(ctx, x)->data, (float[]){0, 0, 0, 0.5f, 3}, 5, 0, 0, "relu");
    /* gradient 0 at the kink */
    hl_test_assert_close(grad_seed(ctx, x, hl_relu(ctx, x), ones), (float[]){0, 0, 0, 1, 1}, 5, 0, 0, "drelu");
    hl_test_assert_close(hl_leaky_relu(ctx, x, 0.1f)->data, (float[]){-0.2f, -0.05f, 0, 0.5f, 3}, 5, 0, 1e-7f,
                         "leaky");
    /* x <= 0 takes the slope, so 0.1 at the kink */
    hl_test_assert_close(grad_seed(ctx, x, hl_leaky_relu(ctx, x, 0.1f), ones), (float[]){0.1f, 0.1f, 0.1f, 1, 1}, 5,
                         0, 0, "dleaky");
    /* relu keeps NaN visible */
    hl_tensor *nan = vec(1, (float[]){NAN});
    cr_assert(isnan(hl_relu(ctx, nan)->data[0]));
    hl_tensor_free(x), hl_tensor_free(nan);
    hl_ctx_free(ctx);
}

Test(activation, smooth_activations_by_hand) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec(5, (float[]){-100, -1, 0, 1, 100});
    hl_tensor_set_requires_grad(x, true);
    /* sigmoid: e^−100/(1+e^−100) = 3.7200760e−44 (no 0/0, no overflow), 1/(1+e) = 0.26894142 */
    hl_tensor *s = hl_sigmoid(ctx, x);
    hl_test_assert_close(s->data, (float[]){3.7200760e-44f, 0.26894142f, 0.5f, 0.73105858f, 1}, 5, 1e-45f, 1e-6f,
                         "sigmoid");
    hl_test_assert_close(grad_seed(ctx, x, s, ones), (float[]){3.7200760e-44f, 0.19661193f, 0.25f, 0.19661193f, 0},
                         5, 1e-45f, 1e-5f, "dsigmoid");
    /* softplus: log(1 + e^x) = 3.7200760e−44, 0.31326169, log 2, 1.31326169, 100; gradient sigmoid(x) */
    hl_tensor *sp = hl_softplus(ctx, x);
    hl_test_assert_close(sp->data, (float[]){3.7200760e-44f, 0.31326169f, 0.69314718f, 1.31326169f, 100}, 5, 1e-45f,
                         1e-6f, "softplus");
    hl_test_assert_close(grad_seed(ctx, x, sp, ones), (float[]){3.7200760e-44f, 0.26894142f, 0.5f, 0.73105858f, 1},
                         5, 1e-45f, 1e-6f, "dsoftplus");
    /* tanh(βx), β = 0.5: tanh(−50) = −1, tanh(−0.5) = −0.46211716; gradient β(1 − y²) */
    hl_tensor *t = hl_tanh_scaled(ctx, x, 0.5f);
    hl_test_assert_close(t->data, (float[]){-1, -0.46211716f, 0, 0.46211716f, 1}, 5, 0, 1e-6f, "tanh");
    hl_test_assert_close(grad_seed(ctx, x, t, ones), (float[]){0, 0.39322386f, 0.5f, 0.39322386f, 0}, 5, 1e-7f, 1e-5f,
                         "dtanh");
    /* hl_tanh is β = 1 */
    hl_test_assert_close(hl_tanh(ctx, x)->data, (float[]){-1, -0.76159416f, 0, 0.76159416f, 1}, 5, 0, 1e-6f, "tanh1");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

typedef struct { int op; float p; } act_case;

static hl_tensor *act_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    const act_case *c = user;
    switch (c->op) {
    case 0: return hl_relu(ctx, in[0]);
    case 1: return hl_leaky_relu(ctx, in[0], c->p);
    case 2: return hl_sigmoid(ctx, in[0]);
    case 3: return hl_tanh_scaled(ctx, in[0], c->p);
    default: return hl_softplus(ctx, in[0]);
    }
}

Test(activation, gradcheck) {
    const struct {
        const char *what;
        act_case c;
        float lo, hi, kink_tol;
    } cases[] = {
        {"relu", {0, 0}, -1, 1, 0.5f},
        {"leaky_relu", {1, 0.2f}, -1, 1, 0.4f},
        {"sigmoid", {2, 0}, -4, 4, 0},
        {"sigmoid far", {2, 0}, -30, 30, 0},
        {"tanh b=1", {3, 1}, -2, 2, 0},
        {"tanh b=3", {3, 3}, -1, 1, 0},
        {"softplus", {4, 0}, -4, 4, 0},
        {"softplus far", {4, 0}, -40, 40, 0},
    };
    for (int i = 0; i < (int)HL_ARRAY_LEN(cases); i++) {
        hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 3, 2, 3), 60 + (uint64_t)i, cases[i].lo, cases[i].hi);
        act_case c = cases[i].c;
        hl_test_gradcheck(cases[i].what, act_fn, 1, &x, &c, (hl_gradcheck_opts){.kink_tol = cases[i].kink_tol});
        hl_tensor_free(x);
    }
}

/* The away-from-kink variant: relu/leaky_relu on values with |x| >= 0.1 are checked with no skipping at all. */
Test(activation, gradcheck_away_from_kinks) {
    float v[12];
    for (int i = 0; i < 12; i++) v[i] = (i % 2 ? 1.0f : -1.0f) * (0.1f + 0.07f * (float)i);
    for (int op = 0; op < 2; op++) {
        hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(3, 4), v);
        act_case c = {op, 0.3f};
        hl_test_gradcheck(op ? "leaky_relu" : "relu", act_fn, 1, &x, &c, (hl_gradcheck_opts){0});
        hl_tensor_free(x);
    }
}

static hl_tensor *sign_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_sign(ctx, in[0]);
}

/* sign: values in {−1, 0, +1}; it records a node (output requires grad) whose backward adds nothing. */
Test(activation, sign_has_zero_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec(4, (float[]){-2, 0, 0.5f, 3});
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_sign(ctx, x);
    hl_test_assert_close(y->data, (float[]){-1, 0, 1, 1}, 4, 0, 0, "sign");
    cr_assert(hl_tensor_requires_grad(y), "sign output is part of the graph");
    cr_assert_eq(ctx->tape_len, 1);
    hl_test_assert_close(grad_seed(ctx, x, y, (float[]){1, -2, 3, 4}), (float[]){0, 0, 0, 0}, 4, 0, 0, "dsign");
    /* Inside a graph: L = Σ sign(x)·x: only the product's other path carries gradient, dL/dx = sign(x). */
    hl_tensor *z = hl_mul(ctx, hl_sign(ctx, x), x);
    hl_test_assert_close(grad_seed(ctx, x, z, ones), (float[]){-1, 0, 1, 1}, 4, 0, 0, "d sign(x)·x");
    /* Away from 0 the finite difference of sign is 0 too: the gradcheck agrees. */
    hl_tensor *w = hl_test_tensor_of(1, HL_SHAPE(4), (float[]){-2, -0.5f, 0.5f, 3});
    hl_test_gradcheck("sign", sign_fn, 1, &w, NULL, (hl_gradcheck_opts){0});
    hl_tensor_free(x), hl_tensor_free(w);
    hl_ctx_free(ctx);
}

/* sign_ste: sign(0) = +1 forward; backward is the identity on the upstream gradient. */
Test(activation, sign_ste_passes_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec(5, (float[]){-2, -0.0f, 0, 0.5f, 3});
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_sign_ste(ctx, x);
    hl_test_assert_close(y->data, (float[]){-1, 1, 1, 1, 1}, 5, 0, 0, "sign_ste");
    const float r[5] = {0.5f, -1, 2, -3, 4};
    hl_test_assert_close(grad_seed(ctx, x, y, r), r, 5, 0, 0, "identity gradient");
    /* Through a tanh: d/dx Σ r·sign_ste(tanh x) = r·(1 − tanh²x). */
    y = hl_sign_ste(ctx, hl_tanh(ctx, x));
    const float *g = grad_seed(ctx, x, y, r);
    for (int i = 0; i < 5; i++) {
        float t = tanhf(x->data[i]);
        cr_assert_float_eq(g[i], r[i] * (1 - t * t), 1e-6f, "[%d]: %g", i, (double)g[i]);
    }
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Threaded sizes agree with a plain loop (forward and backward). */
Test(activation, large_against_loop) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t n = 150001;
    hl_tensor *x = hl_test_tensor(1, HL_SHAPE(n), 9, -6, 6);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *r = hl_relu(ctx, x), *s = hl_sigmoid(ctx, x), *sp = hl_softplus(ctx, x);
    for (int64_t i = 0; i < n; i++) {
        const float v = x->data[i];
        cr_assert_eq(r->data[i], v > 0 ? v : 0.0f);
        cr_assert_float_eq(s->data[i], 1.0f / (1.0f + expf(-v)), 1e-6f, "sigmoid [%lld]", (long long)i);
        cr_assert_float_eq(sp->data[i], (float)log1p(exp((double)v)), 2e-6f, "softplus [%lld]", (long long)i);
    }
    float *seed = malloc((size_t)n * sizeof *seed);
    for (int64_t i = 0; i < n; i++) seed[i] = (float)(i % 5) - 2.0f;
    hl_backward_seed(ctx, hl_tanh_scaled(ctx, x, 2.0f), seed);
    for (int64_t i = 0; i < n; i++) {
        const float t = tanhf(2.0f * x->data[i]);
        cr_assert_float_eq(x->grad[i], seed[i] * 2.0f * (1 - t * t), 1e-5f, "dtanh [%lld]", (long long)i);
    }
    free(seed);
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}
