/* tests/core/test_ops_matmul.c — hl_matmul_t (all transpose combinations) and hl_linear: values against a plain
 * triple loop and hand-computed numbers, gradients by central differences, and skipped gradients for frozen inputs. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

/* Reference C[M,N] = op(A)·op(B) on stored operands. */
static void ref_matmul(const float *A, const float *B, bool ta, bool tb, int M, int N, int K, float *C) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[k * M + i] : A[i * K + k];
                float b = tb ? B[j * K + k] : B[k * N + j];
                s += (double)a * b;
            }
            C[i * N + j] = (float)s;
        }
}

Test(matmul, hand_computed) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *a = hl_test_tensor_of(2, HL_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    hl_tensor *b = hl_test_tensor_of(2, HL_SHAPE(3, 2), (float[]){7, 8, 9, 10, 11, 12});
    hl_tensor *c = hl_matmul(ctx, a, b);
    cr_assert(c->ndim == 2 && c->shape[0] == 2 && c->shape[1] == 2);
    /* [1 2 3; 4 5 6]·[7 8; 9 10; 11 12] = [58 64; 139 154] */
    hl_test_assert_close(c->data, (float[]){58, 64, 139, 154}, 4, 1e-5f, 0, "a·b");
    /* aᵀ·a with a stored [2,3]: [3,3] = [17 22 27; 22 29 36; 27 36 45] */
    hl_tensor *g = hl_matmul_t(ctx, a, a, true, false);
    cr_assert(g->shape[0] == 3 && g->shape[1] == 3);
    hl_test_assert_close(g->data, (float[]){17, 22, 27, 22, 29, 36, 27, 36, 45}, 9, 1e-5f, 0, "aᵀ·a");
    hl_tensor_free(a);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

typedef struct { bool ta, tb; } mm_flags;

static hl_tensor *mm_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    mm_flags *f = user;
    return hl_matmul_t(ctx, in[0], in[1], f->ta, f->tb);
}

Test(matmul, all_transpose_combos_values_and_grads) {
    const int M = 3, K = 4, N = 5;
    for (int combo = 0; combo < 4; combo++) {
        mm_flags f = {combo & 1, (combo >> 1) & 1};
        hl_tensor *a = f.ta ? hl_test_tensor(2, HL_SHAPE(K, M), 10 + combo, -1, 1)
                            : hl_test_tensor(2, HL_SHAPE(M, K), 10 + combo, -1, 1);
        hl_tensor *b = f.tb ? hl_test_tensor(2, HL_SHAPE(N, K), 20 + combo, -1, 1)
                            : hl_test_tensor(2, HL_SHAPE(K, N), 20 + combo, -1, 1);
        hl_ctx *ctx = hl_test_ctx();
        hl_tensor *c = hl_matmul_t(ctx, a, b, f.ta, f.tb);
        cr_assert(c->shape[0] == M && c->shape[1] == N, "combo %d: shape", combo);
        float want[15];
        ref_matmul(a->data, b->data, f.ta, f.tb, M, N, K, want);
        hl_test_assert_close(c->data, want, M * N, 1e-5f, 1e-5f, "matmul values");
        hl_ctx_free(ctx);
        char what[32];
        snprintf(what, sizeof what, "matmul ta=%d tb=%d", f.ta, f.tb);
        hl_test_gradcheck(what, mm_fn, 2, (hl_tensor *[]){a, b}, &f, (hl_gradcheck_opts){0});
        hl_tensor_free(a);
        hl_tensor_free(b);
    }
}

static hl_tensor *linear_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_linear(ctx, in[0], in[1], in[2]);
}

static hl_tensor *linear_nobias_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_linear(ctx, in[0], in[1], NULL);
}

Test(matmul, linear_values) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(2, 3), (float[]){1, 2, 3, -1, 0, 2});
    hl_tensor *w = hl_test_tensor_of(2, HL_SHAPE(2, 3), (float[]){1, 0, -1, 0.5f, 0.5f, 0.5f});
    hl_tensor *bias = hl_test_tensor_of(1, HL_SHAPE(2), (float[]){10, -10});
    hl_tensor *y = hl_linear(ctx, x, w, bias);
    cr_assert(y->shape[0] == 2 && y->shape[1] == 2);
    /* row 0: (1 − 3) + 10 = 8, 3 − 10 = −7; row 1: (−1 − 2) + 10 = 7, 0.5 − 10 = −9.5 */
    hl_test_assert_close(y->data, (float[]){8, -7, 7, -9.5f}, 4, 1e-5f, 0, "linear");
    hl_tensor *y0 = hl_linear(ctx, x, w, NULL);
    hl_test_assert_close(y0->data, (float[]){-2, 3, -3, 0.5f}, 4, 1e-5f, 0, "linear without bias");
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(bias);
    hl_ctx_free(ctx);
}

Test(matmul, linear_grads) {
    hl_tensor *x = hl_test_tensor(2, HL_SHAPE(4, 5), 1, -1, 1);
    hl_tensor *w = hl_test_tensor(2, HL_SHAPE(3, 5), 2, -1, 1);
    hl_tensor *b = hl_test_tensor(1, HL_SHAPE(3), 3, -1, 1);
    hl_test_gradcheck("linear", linear_fn, 3, (hl_tensor *[]){x, w, b}, NULL, (hl_gradcheck_opts){0});
    hl_test_gradcheck("linear no bias", linear_nobias_fn, 2, (hl_tensor *[]){x, w}, NULL, (hl_gradcheck_opts){0});
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
}

/* Frozen weights (an attack): only the input gets a gradient; the weight's grad buffer is never created. */
Test(matmul, linear_frozen_weight_gets_no_gradient) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(2, HL_SHAPE(2, 3), 1, -1, 1);
    hl_tensor *w = hl_test_tensor(2, HL_SHAPE(4, 3), 2, -1, 1);
    hl_tensor *b = hl_test_tensor(1, HL_SHAPE(4), 3, -1, 1);
    hl_tensor_set_requires_grad(x, true);
    hl_backward_seed(ctx, hl_linear(ctx, x, w, b), (float[]){1, 1, 1, 1, 1, 1, 1, 1}); /* L = Σ y */
    cr_assert(w->grad == NULL && b->grad == NULL, "frozen parameters got a gradient buffer");
    /* d Σy / dx[b,i] = Σ_o w[o,i] */
    float want[6];
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 3; i++) want[r * 3 + i] = w->data[i] + w->data[3 + i] + w->data[6 + i] + w->data[9 + i];
    hl_test_assert_close(x->grad, want, 6, 1e-5f, 0, "dx");
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

/* Batch-invariant mode (core/ctx.h): a row's output and input gradient do not depend on the batch, the row's place in
 * it or the thread count. Odd sizes (unaligned rows), and a wide layer whose weight is cut into several blocks. */
typedef struct lin_arg {
    hl_tensor *w, *b;
} lin_arg;

static hl_tensor *lin_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    lin_arg *a = user;
    return hl_linear(ctx, in[0], a->w, a->b);
}

Test(matmul, linear_batch_invariant) {
    static const int64_t sizes[3][2] = {{37, 45}, {3000, 50}, {1, 7}}; /* I, O */
    for (int c = 0; c < 3; c++) {
        const int64_t I = sizes[c][0], O = sizes[c][1];
        lin_arg a = {hl_test_tensor(2, HL_SHAPE(O, I), 10 + (uint64_t)c, -1, 1),
                     hl_test_tensor(1, HL_SHAPE(O), 20 + (uint64_t)c, -1, 1)};
        char what[64];
        snprintf(what, sizeof what, "linear %lld -> %lld", (long long)I, (long long)O);
        hl_test_batch_invariance(what, 1, HL_SHAPE(I), lin_fn, &a);
        hl_tensor_free(a.w);
        hl_tensor_free(a.b);
    }
}
