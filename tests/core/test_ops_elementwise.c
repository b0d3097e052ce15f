/* tests/core/test_ops_elementwise.c — add/sub/mul/div with numpy broadcasting (values and gradients against an
 * independent per-element index reference, hand-computed cases, central differences), the big-tensor paths of the
 * kernels (threads, row pieces, reductions; thread-count independence), the sum_to kernel, and the unary
 * arithmetic ops scale, add_scalar, pow, clamp, abs, exp, log (values, gradients, kinks). */
#include "test_common.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BINOPS 4
static const char *const binop_names[N_BINOPS] = {"add", "sub", "mul", "div"};

static hl_tensor *binop(hl_ctx *ctx, int op, hl_tensor *a, hl_tensor *b) {
    switch (op) {
    case 0: return hl_add(ctx, a, b);
    case 1: return hl_sub(ctx, a, b);
    case 2: return hl_mul(ctx, a, b);
    default: return hl_div(ctx, a, b);
    }
}

static double ref_binop(int op, double a, double b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    default: return a / b;
    }
}

/* ∂(a op b)/∂a and ∂/∂b. */
static void ref_partials(int op, double a, double b, double *pa, double *pb) {
    switch (op) {
    case 0: *pa = 1, *pb = 1; break;
    case 1: *pa = 1, *pb = -1; break;
    case 2: *pa = b, *pb = a; break;
    default: *pa = 1 / b, *pb = -a / (b * b); break;
    }
}

/* A test shape: ndim and sizes. */
typedef struct { int nd; int64_t s[4]; } tshape;

static int64_t tnumel(tshape t) {
    int64_t n = 1;
    for (int d = 0; d < t.nd; d++) n *= t.s[d];
    return n;
}

/* Offset in x (shape xs, right-aligned against an nd-dim output) of output multi-index idx: numpy broadcasting
 * computed per element, independently of the library's stride collapsing. */
static int64_t ref_offset(int nd, const int64_t *idx, tshape xs) {
    int64_t off = 0;
    for (int d = 0; d < xs.nd; d++) {
        int64_t i = xs.s[d] == 1 ? 0 : idx[d + nd - xs.nd];
        off = off * xs.s[d] + i;
    }
    return off;
}

/* Reference forward y and, for cotangent r, gradients ga, gb (double accumulation). Output shape in *ys. */
static void ref_bcast(int op, tshape as, const float *a, tshape bs, const float *b, const float *r, tshape *ys,
                      float *y, float *ga, float *gb) {
    int nd = HL_MAX(as.nd, bs.nd);
    ys->nd = nd;
    for (int d = 0; d < nd; d++) {
        int ia = d - (nd - as.nd), ib = d - (nd - bs.nd);
        int64_t sa = ia >= 0 ? as.s[ia] : 1, sb = ib >= 0 ? bs.s[ib] : 1;
        ys->s[d] = HL_MAX(sa, sb);
    }
    int64_t ny = tnumel(*ys), na = tnumel(as), nb = tnumel(bs);
    double *da = calloc((size_t)na, sizeof *da), *db = calloc((size_t)nb, sizeof *db);
    for (int64_t i = 0; i < ny; i++) {
        int64_t idx[4], rem = i;
        for (int d = nd - 1; d >= 0; d--) {
            idx[d] = rem % ys->s[d];
            rem /= ys->s[d];
        }
        int64_t oa = ref_offset(nd, idx, as), ob = ref_offset(nd, idx, bs);
        y[i] = (float)ref_binop(op, a[oa], b[ob]);
        double pa, pb;
        ref_partials(op, a[oa], b[ob], &pa, &pb);
        da[oa] += r[i] * pa;
        db[ob] += r[i] * pb;
    }
    for (int64_t i = 0; i < na; i++) ga[i] = (float)da[i];
    for (int64_t i = 0; i < nb; i++) gb[i] = (float)db[i];
    free(da);
    free(db);
}

/* Shape pairs covering: same shape, trailing-aligned vector, both sides stretched, bias-like [1,C,1,1] / [C,1,1],
 * 0-dim scalars on either side, middle-dim stretch, 4-D against 3-D, and equal-size operands of different ndim. */
static const tshape pairs[][2] = {
    {{2, {2, 3}}, {2, {2, 3}}},
    {{2, {2, 3}}, {1, {3}}},
    {{1, {3}}, {2, {2, 3}}},
    {{3, {2, 1, 4}}, {2, {3, 1}}},
    {{4, {2, 3, 2, 2}}, {4, {1, 3, 1, 1}}},
    {{4, {2, 3, 2, 2}}, {3, {3, 1, 1}}},
    {{2, {4, 5}}, {0, {0}}},
    {{0, {0}}, {2, {4, 5}}},
    {{0, {0}}, {0, {0}}},
    {{2, {3, 1}}, {2, {1, 4}}},
    {{3, {2, 3, 4}}, {3, {2, 1, 4}}},
    {{4, {2, 1, 3, 1}}, {3, {4, 1, 5}}},
    {{2, {2, 3}}, {4, {1, 1, 2, 3}}},
    {{4, {5, 1, 1, 7}}, {4, {5, 3, 2, 7}}},
    {{4, {1, 3, 1, 2}}, {4, {2, 1, 4, 1}}},
};
#define N_PAIRS ((int)HL_ARRAY_LEN(pairs))

/* Operands for op: b is kept in [0.5, 2] for div (away from the pole), else both in [−1, 1]. */
static void make_operands(int op, int pair, hl_tensor **a, hl_tensor **b) {
    tshape as = pairs[pair][0], bs = pairs[pair][1];
    *a = hl_test_tensor(as.nd, as.s, 100 + (uint64_t)pair, -1.0f, 1.0f);
    *b = op == 3 ? hl_test_tensor(bs.nd, bs.s, 200 + (uint64_t)pair, 0.5f, 2.0f)
                 : hl_test_tensor(bs.nd, bs.s, 200 + (uint64_t)pair, -1.0f, 1.0f);
}

/* Every op on every shape pair: output shape, values and both gradients against the reference. */
Test(elementwise, broadcast_matrix_against_reference) {
    char what[96];
    for (int op = 0; op < N_BINOPS; op++)
        for (int p = 0; p < N_PAIRS; p++) {
            hl_ctx *ctx = hl_test_ctx();
            hl_tensor *a, *b;
            make_operands(op, p, &a, &b);
            hl_tensor_set_requires_grad(a, true);
            hl_tensor_set_requires_grad(b, true);
            hl_tensor *y = binop(ctx, op, a, b);
            tshape ys;
            int64_t cap = 512;
            float *ry = malloc(cap * sizeof *ry), *r = malloc(cap * sizeof *r);
            float *ga = malloc(cap * sizeof *ga), *gb = malloc(cap * sizeof *gb);
            for (int i = 0; i < cap; i++) r[i] = (float)((i * 37) % 11) / 5.0f - 1.0f;
            ref_bcast(op, pairs[p][0], a->data, pairs[p][1], b->data, r, &ys, ry, ga, gb);
            snprintf(what, sizeof what, "%s pair %d", binop_names[op], p);
            cr_assert_eq(y->ndim, ys.nd, "%s: ndim %d, want %d", what, y->ndim, ys.nd);
            for (int d = 0; d < ys.nd; d++) cr_assert_eq(y->shape[d], ys.s[d], "%s: dim %d", what, d);
            hl_test_assert_close(y->data, ry, tnumel(ys), 1e-6f, 1e-6f, what);
            hl_backward_seed(ctx, y, r);
            hl_test_assert_close(a->grad, ga, hl_tensor_numel(a), 1e-5f, 1e-5f, what);
            hl_test_assert_close(b->grad, gb, hl_tensor_numel(b), 1e-5f, 1e-5f, what);
            free(ry), free(r), free(ga), free(gb);
            hl_tensor_free(a);
            hl_tensor_free(b);
            hl_ctx_free(ctx);
        }
}

static hl_tensor *binop_fn(hl_ctx *ctx, hl_tensor **in, void *user) { return binop(ctx, *(int *)user, in[0], in[1]); }

/* Central differences for both inputs of every op on every shape pair (broadcast inputs included). */
Test(elementwise, gradcheck_all_ops_all_pairs) {
    char what[96];
    for (int op = 0; op < N_BINOPS; op++)
        for (int p = 0; p < N_PAIRS; p++) {
            hl_tensor *in[2];
            make_operands(op, p, &in[0], &in[1]);
            snprintf(what, sizeof what, "%s pair %d", binop_names[op], p);
            hl_test_gradcheck(what, binop_fn, 2, in, &op, (hl_gradcheck_opts){0});
            hl_tensor_free(in[0]);
            hl_tensor_free(in[1]);
        }
}

/* The cases from the brief, by hand. */
Test(elementwise, hand_computed_broadcasts) {
    hl_ctx *ctx = hl_test_ctx();
    /* [2,3] + [3] */
    hl_tensor *a = hl_test_tensor_of(2, HL_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    hl_tensor *v = hl_test_tensor_of(1, HL_SHAPE(3), (float[]){10, 20, 30});
    hl_tensor *y = hl_add(ctx, a, v);
    cr_assert(y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 3);
    hl_test_assert_close(y->data, (float[]){11, 22, 33, 14, 25, 36}, 6, 0, 0, "[2,3]+[3]");
    y = hl_sub(ctx, v, a); /* [3] − [2,3] */
    hl_test_assert_close(y->data, (float[]){9, 18, 27, 6, 15, 24}, 6, 0, 0, "[3]-[2,3]");
    /* [2,1,4] ⊙ [3,1] -> [2,3,4]: y[i,j,k] = p[i,k]·q[j] */
    hl_tensor *p = hl_test_tensor_of(3, HL_SHAPE(2, 1, 4), (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    hl_tensor *q = hl_test_tensor_of(2, HL_SHAPE(3, 1), (float[]){1, -1, 10});
    y = hl_mul(ctx, p, q);
    cr_assert(y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 3 && y->shape[2] == 4);
    hl_test_assert_close(y->data,
                         (float[]){1, 2, 3, 4, -1, -2, -3, -4, 10, 20, 30, 40,
                                   5, 6, 7, 8, -5, -6, -7, -8, 50, 60, 70, 80},
                         24, 0, 0, "[2,1,4]*[3,1]");
    /* 0-dim scalar operands on both sides, and scalar ⊕ scalar stays 0-dim. */
    hl_tensor *s = hl_test_tensor_of(0, NULL, (float[]){4});
    y = hl_div(ctx, a, s);
    cr_assert_eq(y->ndim, 2);
    hl_test_assert_close(y->data, (float[]){0.25f, 0.5f, 0.75f, 1, 1.25f, 1.5f}, 6, 0, 1e-7f, "[2,3]/scalar");
    y = hl_div(ctx, s, a);
    hl_test_assert_close(y->data, (float[]){4, 2, 4.0f / 3.0f, 1, 0.8f, 4.0f / 6.0f}, 6, 0, 1e-7f, "scalar/[2,3]");
    y = hl_sub(ctx, s, s);
    cr_assert_eq(y->ndim, 0);
    cr_assert_eq(y->data[0], 0.0f);
    /* Gradients: y = a ⊙ v ([2,3] ⊙ [3]), seed all ones: da = v per row, dv = column sums of a. */
    hl_tensor_set_requires_grad(a, true);
    hl_tensor_set_requires_grad(v, true);
    y = hl_mul(ctx, a, v);
    hl_backward_seed(ctx, y, (float[]){1, 1, 1, 1, 1, 1});
    hl_test_assert_close(a->grad, (float[]){10, 20, 30, 10, 20, 30}, 6, 0, 0, "d/da");
    hl_test_assert_close(v->grad, (float[]){5, 7, 9}, 3, 0, 0, "d/dv summed over rows");
    /* d/ds of Σ a/s = −Σa/s² = −21/16. */
    hl_tensor_set_requires_grad(s, true);
    hl_tensor_set_requires_grad(a, false);
    y = hl_div(ctx, a, s);
    hl_backward_seed(ctx, y, (float[]){1, 1, 1, 1, 1, 1});
    cr_assert_float_eq(s->grad[0], -21.0f / 16.0f, 1e-6f, "d/ds = %g", (double)s->grad[0]);
    hl_tensor_free(a), hl_tensor_free(v), hl_tensor_free(p), hl_tensor_free(q), hl_tensor_free(s);
    hl_ctx_free(ctx);
}

/* Shapes that are not broadcast-compatible are a programming error (abort with both shapes printed). */
Test(elementwise, incompatible_shapes_abort, .signal = SIGABRT) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *a = hl_test_tensor(2, HL_SHAPE(2, 3), 1, -1, 1), *b = hl_test_tensor(1, HL_SHAPE(4), 2, -1, 1);
    hl_add(ctx, a, b);
}

/* Inputs that do not want a gradient get none, and nothing is recorded when no input wants one. */
Test(elementwise, frozen_input_gets_no_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *w = hl_test_tensor(4, HL_SHAPE(1, 3, 1, 1), 3, -1, 1);
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 3, 2, 2), 4, -1, 1);
    hl_mul(ctx, x, w);
    cr_assert_eq(ctx->tape_len, 0);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_mul(ctx, x, w);
    float seed[24];
    for (int i = 0; i < 24; i++) seed[i] = 1.0f;
    hl_backward_seed(ctx, y, seed);
    cr_assert_null(w->grad, "frozen operand got a gradient buffer");
    for (int i = 0; i < 24; i++) cr_assert_eq(x->grad[i], w->data[(i / 4) % 3]);
    hl_tensor_free(w), hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Big tensors exercise the threaded paths: row pieces (few long rows), per-channel reductions in parallel, a scalar
 * operand over a long vector. Values and gradients against the reference. */
Test(elementwise, large_broadcasts_against_reference) {
    const tshape cases[][2] = {
        {{4, {8, 64, 16, 16}}, {3, {64, 1, 1}}}, /* bias-like, 131072 elements */
        {{2, {3, 40000}}, {1, {40000}}},         /* [B,K] + [K] with few long rows */
        {{1, {100000}}, {0, {0}}},               /* scalar operand */
        {{2, {300, 1}}, {2, {1, 300}}},          /* outer product, both stretched */
    };
    for (int c = 0; c < (int)HL_ARRAY_LEN(cases); c++)
        for (int op = 0; op < N_BINOPS; op++) {
            hl_ctx *ctx = hl_test_ctx();
            tshape as = cases[c][0], bs = cases[c][1];
            hl_tensor *a = hl_test_tensor(as.nd, as.s, 7, -1, 1), *b = hl_test_tensor(bs.nd, bs.s, 8, 0.5f, 2);
            hl_tensor_set_requires_grad(a, true);
            hl_tensor_set_requires_grad(b, true);
            hl_tensor *y = binop(ctx, op, a, b);
            int64_t ny = hl_tensor_numel(y);
            float *r = malloc((size_t)ny * sizeof *r), *ry = malloc((size_t)ny * sizeof *ry);
            float *ga = malloc((size_t)hl_tensor_numel(a) * sizeof *ga);
            float *gb = malloc((size_t)hl_tensor_numel(b) * sizeof *gb);
            for (int64_t i = 0; i < ny; i++) r[i] = (float)((i * 7919) % 13) / 6.0f - 1.0f;
            tshape ys;
            ref_bcast(op, as, a->data, bs, b->data, r, &ys, ry, ga, gb);
            char what[64];
            snprintf(what, sizeof what, "%s case %d", binop_names[op], c);
            cr_assert_eq(ny, tnumel(ys), "%s", what);
            hl_test_assert_close(y->data, ry, ny, 1e-6f, 1e-6f, what);
            hl_backward_seed(ctx, y, r);
            hl_test_assert_close(a->grad, ga, hl_tensor_numel(a), 1e-4f, 1e-4f, what);
            hl_test_assert_close(b->grad, gb, hl_tensor_numel(b), 2e-3f, 1e-4f, what);
            free(r), free(ry), free(ga), free(gb);
            hl_tensor_free(a), hl_tensor_free(b);
            hl_ctx_free(ctx);
        }
}

/* Broadcast gradients are summed in a fixed order: bitwise the same for 1 and 2 threads. */
Test(elementwise, gradient_independent_of_thread_count) {
    float *g[2];
    for (int t = 0; t < 2; t++) {
        hl_threads_set(t + 1);
        hl_ctx *ctx = hl_test_ctx();
        hl_tensor *x = hl_test_tensor(4, HL_SHAPE(8, 64, 16, 16), 11, -1, 1);
        hl_tensor *w = hl_test_tensor(3, HL_SHAPE(64, 1, 1), 12, -1, 1);
        hl_tensor *s = hl_test_tensor(0, NULL, 13, -1, 1);
        hl_tensor_set_requires_grad(w, true);
        hl_tensor_set_requires_grad(s, true);
        hl_tensor *y = hl_mul(ctx, hl_add(ctx, x, w), s);
        float *seed = malloc((size_t)hl_tensor_numel(y) * sizeof *seed);
        for (int64_t i = 0; i < hl_tensor_numel(y); i++) seed[i] = (float)((i * 31) % 17) / 8.0f - 1.0f;
        hl_backward_seed(ctx, y, seed);
        g[t] = malloc(65 * sizeof(float));
        memcpy(g[t], w->grad, 64 * sizeof(float));
        g[t][64] = s->grad[0];
        free(seed);
        hl_tensor_free(x), hl_tensor_free(w), hl_tensor_free(s);
        hl_ctx_free(ctx);
    }
    cr_assert(memcmp(g[0], g[1], 65 * sizeof(float)) == 0, "gradients differ between 1 and 2 threads");
    free(g[0]), free(g[1]);
}

/* The reduction kernel directly: dx[c] += alpha·Σ_{b,hw} dy[b,c,hw] and dx[k] += alpha·Σ_b dy[b,k]. */
Test(elementwise, sum_to_kernel) {
    const hl_kernels *k = hl_kernels_for(HL_DEVICE_CPU);
    float dy[2 * 3 * 4];
    for (int i = 0; i < 24; i++) dy[i] = (float)i;
    float dc[3] = {1, 1, 1};
    k->ew->sum_to((hl_ew_bcast){.ndim = 3, .shape = {2, 3, 4}, .sa = {0, 1, 0}}, 2.0f, dy, dc);
    /* c: Σ over b∈{0,1}, hw∈0..3 of (12b + 4c + hw) = 2·(16c + 6) + 48 */
    hl_test_assert_close(dc, (float[]){1 + 2 * 60, 1 + 2 * 92, 1 + 2 * 124}, 3, 0, 0, "per channel");
    float dk[12] = {0};
    k->ew->sum_to((hl_ew_bcast){.ndim = 2, .shape = {2, 12}, .sa = {0, 1}}, -1.0f, dy, dk);
    for (int i = 0; i < 12; i++) cr_assert_eq(dk[i], -(float)(i + i + 12), "k %d", i);
}

/* ---- unary arithmetic ------------------------------------------------------------------------------------------- */

static hl_tensor *vec(int n, const float *v) { return hl_test_tensor_of(1, HL_SHAPE(n), v); }

/* Backward with an all-ones seed; returns x->grad. */
static const float *grad_ones(hl_ctx *ctx, hl_tensor *x, hl_tensor *y) {
    float ones[64];
    for (int i = 0; i < 64; i++) ones[i] = 1.0f;
    cr_assert(hl_tensor_numel(y) <= 64);
    hl_tensor_zero_grad(x);
    hl_backward_seed(ctx, y, ones);
    return x->grad;
}

Test(elementwise, unary_values_and_gradients) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec(3, (float[]){1.5f, -2, 3});
    hl_tensor_set_requires_grad(x, true);
    hl_test_assert_close(hl_scale(ctx, x, 2.5f)->data, (float[]){3.75f, -5, 7.5f}, 3, 0, 0, "scale");
    hl_test_assert_close(grad_ones(ctx, x, hl_scale(ctx, x, 2.5f)), (float[]){2.5f, 2.5f, 2.5f}, 3, 0, 0, "dscale");
    hl_test_assert_close(hl_add_scalar(ctx, x, 1.5f)->data, (float[]){3, -0.5f, 4.5f}, 3, 0, 0, "add_scalar");
    hl_test_assert_close(grad_ones(ctx, x, hl_add_scalar(ctx, x, 1.5f)), (float[]){1, 1, 1}, 3, 0, 0, "dadd_scalar");
    hl_test_assert_close(hl_pow(ctx, x, 2)->data, (float[]){2.25f, 4, 9}, 3, 0, 0, "x^2");
    hl_test_assert_close(grad_ones(ctx, x, hl_pow(ctx, x, 2)), (float[]){3, -4, 6}, 3, 0, 0, "d x^2");
    hl_test_assert_close(hl_pow(ctx, x, 3)->data, (float[]){3.375f, -8, 27}, 3, 0, 1e-6f, "x^3");
    hl_test_assert_close(grad_ones(ctx, x, hl_pow(ctx, x, 3)), (float[]){6.75f, 12, 27}, 3, 0, 1e-6f, "d x^3");
    hl_test_assert_close(hl_abs(ctx, x)->data, (float[]){1.5f, 2, 3}, 3, 0, 0, "abs");
    hl_tensor *pos = vec(3, (float[]){4, 2.25f, 0.5f});
    hl_tensor_set_requires_grad(pos, true);
    hl_test_assert_close(hl_pow(ctx, pos, 0.5f)->data, (float[]){2, 1.5f, 0.70710678f}, 3, 0, 1e-6f, "sqrt");
    hl_test_assert_close(grad_ones(ctx, pos, hl_pow(ctx, pos, 0.5f)), (float[]){0.25f, 1 / 3.0f, 0.70710678f}, 3, 0,
                         1e-6f, "d sqrt");
    hl_test_assert_close(hl_pow(ctx, pos, -1)->data, (float[]){0.25f, 1 / 2.25f, 2}, 3, 0, 1e-6f, "1/x");
    hl_test_assert_close(grad_ones(ctx, pos, hl_pow(ctx, pos, -1)), (float[]){-1 / 16.0f, -1 / (2.25f * 2.25f), -4},
                         3, 0, 1e-6f, "d 1/x");
    hl_test_assert_close(hl_log(ctx, pos)->data, (float[]){1.3862944f, 0.8109302f, -0.6931472f}, 3, 0, 1e-6f, "log");
    hl_test_assert_close(grad_ones(ctx, pos, hl_log(ctx, pos)), (float[]){0.25f, 1 / 2.25f, 2}, 3, 0, 1e-6f, "dlog");
    hl_tensor *e = vec(3, (float[]){0, 1, -1});
    hl_tensor_set_requires_grad(e, true);
    hl_test_assert_close(hl_exp(ctx, e)->data, (float[]){1, 2.7182817f, 0.36787945f}, 3, 0, 1e-6f, "exp");
    hl_test_assert_close(grad_ones(ctx, e, hl_exp(ctx, e)), (float[]){1, 2.7182817f, 0.36787945f}, 3, 0, 1e-6f, "dexp");
    hl_tensor_free(x), hl_tensor_free(pos), hl_tensor_free(e);
    hl_ctx_free(ctx);
}

/* Kinks, by hand: clamp's gradient is 1 on [lo, hi] including the bounds, 0 outside; |x| has gradient 0 at 0;
 * x^0 is 1 with gradient 0, also at x = 0. */
Test(elementwise, kinks_by_hand) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = vec(7, (float[]){-2, -1, -0.5f, 0, 0.5f, 1, 3});
    hl_tensor_set_requires_grad(x, true);
    hl_test_assert_close(hl_clamp(ctx, x, -1, 1)->data, (float[]){-1, -1, -0.5f, 0, 0.5f, 1, 1}, 7, 0, 0, "clamp");
    hl_test_assert_close(grad_ones(ctx, x, hl_clamp(ctx, x, -1, 1)), (float[]){0, 1, 1, 1, 1, 1, 0}, 7, 0, 0,
                         "dclamp");
    hl_test_assert_close(hl_abs(ctx, x)->data, (float[]){2, 1, 0.5f, 0, 0.5f, 1, 3}, 7, 0, 0, "abs");
    hl_test_assert_close(grad_ones(ctx, x, hl_abs(ctx, x)), (float[]){-1, -1, -1, 0, 1, 1, 1}, 7, 0, 0, "dabs");
    hl_test_assert_close(hl_pow(ctx, x, 0)->data, (float[]){1, 1, 1, 1, 1, 1, 1}, 7, 0, 0, "x^0");
    hl_test_assert_close(grad_ones(ctx, x, hl_pow(ctx, x, 0)), (float[]){0, 0, 0, 0, 0, 0, 0}, 7, 0, 0, "d x^0");
    /* NaN propagates through clamp (not silently clipped). */
    hl_tensor *nan = vec(1, (float[]){NAN});
    cr_assert(isnan(hl_clamp(ctx, nan, -1, 1)->data[0]));
    hl_tensor_free(x), hl_tensor_free(nan);
    hl_ctx_free(ctx);
}

typedef struct { int op; float p0, p1; } unary_case;

static hl_tensor *unary_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    const unary_case *c = user;
    switch (c->op) {
    case 0: return hl_scale(ctx, in[0], c->p0);
    case 1: return hl_add_scalar(ctx, in[0], c->p0);
    case 2: return hl_pow(ctx, in[0], c->p0);
    case 3: return hl_clamp(ctx, in[0], c->p0, c->p1);
    case 4: return hl_abs(ctx, in[0]);
    case 5: return hl_exp(ctx, in[0]);
    default: return hl_log(ctx, in[0]);
    }
}

Test(elementwise, gradcheck_unary) {
    const struct {
        const char *what;
        unary_case c;
        float lo, hi, kink_tol;
    } cases[] = {
        {"scale", {0, -1.7f, 0}, -2, 2, 0},
        {"add_scalar", {1, 0.3f, 0}, -2, 2, 0},
        {"pow 2", {2, 2, 0}, -2, 2, 0},
        {"pow 3", {2, 3, 0}, -2, 2, 0},
        {"pow 0.5", {2, 0.5f, 0}, 0.5f, 2, 0},
        {"pow -1.5", {2, -1.5f, 0}, 0.5f, 2, 0},
        {"clamp", {3, -0.5f, 0.7f}, -1, 1, 0.5f},
        {"abs", {4, 0, 0}, -1, 1, 0.5f},
        {"exp", {5, 0, 0}, -2, 2, 0},
        {"log", {6, 0, 0}, 0.5f, 3, 0},
    };
    for (int i = 0; i < (int)HL_ARRAY_LEN(cases); i++) {
        hl_tensor *x = hl_test_tensor(3, HL_SHAPE(2, 3, 5), 40 + (uint64_t)i, cases[i].lo, cases[i].hi);
        unary_case c = cases[i].c;
        hl_test_gradcheck(cases[i].what, unary_fn, 1, &x, &c, (hl_gradcheck_opts){.kink_tol = cases[i].kink_tol});
        hl_tensor_free(x);
    }
}

/* Unary maps on a big tensor (threaded) agree with a plain loop. */
Test(elementwise, large_unary_against_loop) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t n = 200003;
    hl_tensor *x = hl_test_tensor(1, HL_SHAPE(n), 5, 0.1f, 3.0f);
    hl_tensor *l = hl_log(ctx, x), *c = hl_clamp(ctx, x, 0.5f, 2.0f), *s = hl_scale(ctx, x, -3.0f);
    for (int64_t i = 0; i < n; i++) {
        float v = x->data[i];
        cr_assert_eq(l->data[i], logf(v), "log [%lld]", (long long)i);
        cr_assert_eq(c->data[i], v < 0.5f ? 0.5f : (v > 2.0f ? 2.0f : v), "clamp [%lld]", (long long)i);
        cr_assert_eq(s->data[i], -3.0f * v, "scale [%lld]", (long long)i);
    }
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* hl_add_relu is relu(a + b) bit for bit, values and both gradients (same shapes, and a broadcast operand). */
Test(elementwise, add_relu_equals_relu_of_add) {
    hl_ctx *ctx = hl_test_ctx();
    for (int bc = 0; bc <= 1; bc++) {
        hl_tensor *a = hl_test_tensor(4, HL_SHAPE(2, 3, 4, 5), 1, -1, 1);
        hl_tensor *b = bc ? hl_test_tensor(4, HL_SHAPE(1, 3, 1, 1), 2, -1, 1)
                          : hl_test_tensor(4, HL_SHAPE(2, 3, 4, 5), 2, -1, 1);
        hl_tensor *r = hl_test_tensor(4, HL_SHAPE(2, 3, 4, 5), 3, -1, 1);
        const int64_t nb = hl_tensor_numel(b);
        float y[2][120], da[2][120], db[2][120];
        for (int fused = 0; fused <= 1; fused++) {
            hl_ctx_reset(ctx);
            hl_tensor_set_requires_grad(a, true), hl_tensor_set_requires_grad(b, true);
            hl_tensor_zero_grad(a), hl_tensor_zero_grad(b);
            hl_tensor *out = fused ? hl_add_relu(ctx, a, b) : hl_relu(ctx, hl_add(ctx, a, b));
            hl_backward_seed(ctx, out, r->data);
            memcpy(y[fused], out->data, sizeof y[fused]);
            memcpy(da[fused], a->grad, sizeof da[fused]);
            memcpy(db[fused], b->grad, (size_t)nb * sizeof(float));
        }
        int zeros = 0;
        for (int i = 0; i < 120; i++) zeros += y[0][i] == 0.0f;
        cr_assert(zeros > 0 && zeros < 120, "the ReLU must cut some outputs");
        cr_assert(!memcmp(y[0], y[1], sizeof y[0]) && !memcmp(da[0], da[1], sizeof da[0]) &&
                      !memcmp(db[0], db[1], (size_t)nb * sizeof(float)),
                  "%s: fused and unfused differ", bc ? "broadcast" : "same shapes");
        hl_tensor_free(a), hl_tensor_free(b), hl_tensor_free(r);
    }
    hl_ctx_free(ctx);
}
