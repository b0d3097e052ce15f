/* tests/core/test_ops_reduce.c — sum / mean / max / logsumexp over axis masks: hand values, every axis subset of a
 * 4-D tensor against a double-precision reference loop (keepdim on and off), output shapes, and gradient checks
 * (single axes, axis pairs that are not adjacent, all axes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_common.h"

enum { K_SUM, K_MEAN, K_MAX, K_LSE };

static hl_tensor *call(int kind, hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    switch (kind) {
    case K_SUM: return hl_sum(ctx, x, axes, keepdim);
    case K_MEAN: return hl_mean(ctx, x, axes, keepdim);
    case K_MAX: return hl_max(ctx, x, axes, keepdim);
    default: return hl_logsumexp(ctx, x, axes, keepdim);
    }
}

/* Reference over a 4-D shape: output o (keepdim layout) collects the x elements whose kept coordinates match. */
static void ref_reduce(int kind, const float *x, const int64_t s[4], unsigned axes, float *y) {
    int64_t os[4], stride = 1, nout = 1;
    for (int d = 3; d >= 0; d--) {
        bool red = (axes >> d) & 1u;
        os[d] = red ? 0 : stride;
        if (!red) stride *= s[d], nout *= s[d];
    }
    double *acc = calloc((size_t)nout, sizeof *acc), *mx = malloc((size_t)nout * sizeof *mx);
    int64_t *cnt = calloc((size_t)nout, sizeof *cnt);
    for (int64_t o = 0; o < nout; o++) mx[o] = -INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        int64_t i = 0;
        for (int64_t a = 0; a < s[0]; a++)
            for (int64_t b = 0; b < s[1]; b++)
                for (int64_t c = 0; c < s[2]; c++)
                    for (int64_t d = 0; d < s[3]; d++, i++) {
                        int64_t o = a * os[0] + b * os[1] + c * os[2] + d * os[3];
                        if (pass == 0) {
                            mx[o] = fmax(mx[o], x[i]);
                            cnt[o]++;
                        } else {
                            acc[o] += kind == K_LSE ? exp(x[i] - mx[o]) : x[i];
                        }
                    }
    }
    for (int64_t o = 0; o < nout; o++) {
        switch (kind) {
        case K_SUM: y[o] = (float)acc[o]; break;
        case K_MEAN: y[o] = (float)(acc[o] / (double)cnt[o]); break;
        case K_MAX: y[o] = (float)mx[o]; break;
        default: y[o] = (float)(mx[o] + log(acc[o])); break;
        }
    }
    free(acc);
    free(mx);
    free(cnt);
}

/* ---- values by hand ------------------------------------------------------------------------------------------- */

/* x = [[1, 2, 3], [4, 5, 6]] */
Test(reduce, hand_2d) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    hl_tensor *y = hl_sum(ctx, x, HL_AXIS(0), false);
    cr_assert(y->ndim == 1 && y->shape[0] == 3);
    hl_test_assert_close(y->data, (float[]){5, 7, 9}, 3, 0, 0, "sum axis 0");
    y = hl_sum(ctx, x, HL_AXIS(1), true);
    cr_assert(y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 1);
    hl_test_assert_close(y->data, (float[]){6, 15}, 2, 0, 0, "sum axis 1 keepdim");
    y = hl_mean(ctx, x, HL_AXES_ALL, false);
    cr_assert(y->ndim == 0 && hl_tensor_numel(y) == 1, "all axes -> 0-dim");
    hl_test_assert_close(y->data, (float[]){3.5f}, 1, 1e-6f, 0, "mean all");
    y = hl_mean(ctx, x, HL_AXES_ALL, true);
    cr_assert(y->ndim == 2 && y->shape[0] == 1 && y->shape[1] == 1, "all axes keepdim -> [1,1]");
    y = hl_max(ctx, x, HL_AXIS(0), false);
    hl_test_assert_close(y->data, (float[]){4, 5, 6}, 3, 0, 0, "max axis 0");
    y = hl_max(ctx, x, HL_AXIS(1), false);
    hl_test_assert_close(y->data, (float[]){3, 6}, 2, 0, 0, "max axis 1");
    y = hl_logsumexp(ctx, x, HL_AXIS(1), false);
    hl_test_assert_close(y->data, (float[]){3.40760596f, 6.40760596f}, 2, 1e-5f, 1e-6f, "lse axis 1");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* logsumexp is max-shifted: huge and −huge values give finite results. */
Test(reduce, logsumexp_stable) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(2, 2), (float[]){1000, 1000, -1000, -1001});
    hl_tensor *y = hl_logsumexp(ctx, x, HL_AXIS(1), false);
    hl_test_assert_close(y->data, (float[]){1000.0f + logf(2.0f), -1000.0f + logf(1.0f + expf(-1.0f))}, 2, 1e-3f, 0,
                         "lse extremes");
    y = hl_logsumexp(ctx, x, HL_AXIS(0), false); /* column-wise (strided) path */
    hl_test_assert_close(y->data, (float[]){1000.0f, 1000.0f}, 2, 1e-3f, 0, "lse extremes, axis 0");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* A 0-dim input reduces to itself. */
Test(reduce, scalar_input) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *s = hl_tensor_scalar(ctx, 2.5f);
    hl_tensor *y = hl_sum(ctx, s, HL_AXES_ALL, false);
    cr_assert(y->ndim == 0);
    hl_test_assert_close(y->data, (float[]){2.5f}, 1, 0, 0, "sum of scalar");
    y = hl_logsumexp(ctx, s, HL_AXES_ALL, true);
    hl_test_assert_close(y->data, (float[]){2.5f}, 1, 1e-6f, 0, "lse of scalar");
    hl_ctx_free(ctx);
}

/* Every non-empty axis subset of [2,3,4,5], keepdim on and off, for all four reductions, against the reference. */
Test(reduce, all_axis_subsets_4d) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t s[4] = {2, 3, 4, 5};
    hl_tensor *x = hl_test_tensor(4, s, 81, -2, 2);
    float want[120];
    for (int kind = 0; kind < 4; kind++)
        for (unsigned axes = 1; axes <= 15; axes++)
            for (int keep = 0; keep < 2; keep++) {
                hl_tensor *y = call(kind, ctx, x, axes, keep);
                int nd = 0;
                for (int d = 0; d < 4; d++) {
                    bool red = (axes >> d) & 1u;
                    if (red && !keep) continue;
                    cr_assert(nd < y->ndim && y->shape[nd] == (red ? 1 : s[d]), "kind %d axes 0x%x keep %d: shape",
                              kind, axes, keep);
                    nd++;
                }
                cr_assert_eq(y->ndim, nd, "kind %d axes 0x%x keep %d: ndim %d", kind, axes, keep, y->ndim);
                ref_reduce(kind, x->data, s, axes, want);
                char what[64];
                snprintf(what, sizeof what, "kind %d axes 0x%x keep %d", kind, axes, keep);
                hl_test_assert_close(y->data, want, hl_tensor_numel(y), 1e-5f, 1e-5f, what);
            }
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Size-1 axes in the middle, a 3-D tensor, and the large parallel / blocked paths (Q > 256 columns). */
Test(reduce, odd_shapes_and_large) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t shapes[3][4] = {{3, 1, 4, 1}, {1, 7, 1, 3}, {5, 600, 2, 1}};
    for (int si = 0; si < 3; si++) {
        hl_tensor *x = hl_test_tensor(4, shapes[si], 82 + (uint64_t)si, -3, 3);
        float *want = malloc((size_t)hl_tensor_numel(x) * sizeof *want);
        for (int kind = 0; kind < 4; kind++)
            for (unsigned axes = 1; axes <= 15; axes++) {
                hl_tensor *y = call(kind, ctx, x, axes, true);
                ref_reduce(kind, x->data, shapes[si], axes, want);
                hl_test_assert_close(y->data, want, hl_tensor_numel(y), 1e-4f, 1e-4f, "odd shape");
            }
        free(want);
        hl_tensor_free(x);
    }
    hl_tensor *x3 = hl_test_tensor(3, HL_SHAPE(4, 3, 2), 85, -1, 1);
    float want[24];
    hl_tensor *y = hl_sum(ctx, x3, HL_AXIS(0) | HL_AXIS(2), false);
    cr_assert(y->ndim == 1 && y->shape[0] == 3);
    ref_reduce(K_SUM, x3->data, HL_SHAPE(4, 3, 2, 1), 0x5, want);
    hl_test_assert_close(y->data, want, 3, 1e-5f, 1e-5f, "3-D sum axes 0,2");
    hl_tensor_free(x3);
    hl_ctx_free(ctx);
}

/* ---- gradients ---------------------------------------------------------------------------------------------------- */

typedef struct {
    int kind;
    unsigned axes;
    bool keep;
} red_user;

static hl_tensor *red_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    red_user *u = user;
    return call(u->kind, ctx, in[0], u->axes, u->keep);
}

static const unsigned grad_masks[] = {HL_AXIS(0), HL_AXIS(1), HL_AXIS(3),       HL_AXIS(0) | HL_AXIS(2),
                                      HL_AXIS(1) | HL_AXIS(3), HL_AXIS(2) | HL_AXIS(3), 0xD, HL_AXES_ALL};

static void red_gradcheck(int kind, float kink_tol) {
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 3, 2, 3), 91 + (uint64_t)kind, -2, 2);
    for (size_t m = 0; m < HL_ARRAY_LEN(grad_masks); m++) {
        red_user u = {kind, grad_masks[m], m % 2 == 0};
        char what[48];
        snprintf(what, sizeof what, "kind %d axes 0x%x", kind, grad_masks[m]);
        hl_test_gradcheck(what, red_fn, 1, &x, &u, (hl_gradcheck_opts){.kink_tol = kink_tol});
    }
    hl_tensor_free(x);
}

Test(reduce, sum_grad) { red_gradcheck(K_SUM, 0); }
Test(reduce, mean_grad) { red_gradcheck(K_MEAN, 0); }
Test(reduce, logsumexp_grad) { red_gradcheck(K_LSE, 0); }
/* Random uniform values are distinct (gaps ≫ ε almost surely); kink_tol guards the rare near-tie. */
Test(reduce, max_grad) { red_gradcheck(K_MAX, 0.5f); }

/* Ties: the whole gradient goes to the first maximum in row-major order. */
Test(reduce, max_grad_first_of_ties) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(2, 4), (float[]){1, 3, 3, 2, 7, 0, 7, 7});
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_max(ctx, x, HL_AXIS(1), false);
    hl_backward_seed(ctx, y, (float[]){2.0f, -1.0f});
    hl_test_assert_close(x->grad, (float[]){0, 2, 0, 0, -1, 0, 0, 0}, 8, 0, 0, "first max rows");
    hl_tensor_zero_grad(x);
    y = hl_max(ctx, x, HL_AXES_ALL, false);
    hl_backward(ctx, y);
    hl_test_assert_close(x->grad, (float[]){0, 0, 0, 0, 1, 0, 0, 0}, 8, 0, 0, "first max overall");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Mean backward by hand: each element gets dy/count. */
Test(reduce, mean_grad_by_hand) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(3, HL_SHAPE(2, 2, 2), 95, -1, 1);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_mean(ctx, x, HL_AXIS(0) | HL_AXIS(2), true); /* [1,2,1] */
    hl_backward_seed(ctx, y, (float[]){4.0f, -8.0f});
    hl_test_assert_close(x->grad, (float[]){1, 1, -2, -2, 1, 1, -2, -2}, 8, 1e-6f, 0, "mean bwd");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}
