/* core/ops/matmul.c — matrix product with optional transposed operands, and the fully connected layer.
 * Everything is one GEMM call (ctx->k->base->gemm) per product; bias rows use the conv family's bias kernels with
 * HW = 1 ([B,O] is [B,O,1]). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

/* ---- matmul: C[M,N] = op(A)·op(B) ---------------------------------------------------------------------------------
 * A is stored [M,K] (or [K,M] when ta), B [K,N] (or [N,K] when tb). With G = dL/dC [M,N]:
 *   dop(A) = G·op(B)ᵀ [M,K]   -> stored A: dA = G·op(B)ᵀ, or its transpose op(B)·Gᵀ when ta;
 *   dop(B) = op(A)ᵀ·G [K,N]   -> stored B: dB = op(A)ᵀ·G, or its transpose Gᵀ·op(A) when tb.
 * The transposes are never materialised: they become the GEMM's ta/tb flags on the stored operands. */
static void matmul_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *a = n->in[0], *b = n->in[1];
    const bool ta = n->iattr[0] != 0, tb = n->iattr[1] != 0;
    const int64_t M = n->iattr[2], K = n->iattr[3], N = n->iattr[4];
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;
    const float *g = n->out->grad;
    void (*gemm)(bool, bool, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *, int64_t, float,
                 float *, int64_t) = ctx->k->base->gemm;
    if (hl_wants_grad(a)) {
        float *da = hl_grad(ctx, a);
        if (!ta)
            gemm(false, !tb, M, K, N, 1.0f, g, N, b->data, ldb, 1.0f, da, K); /* [M,K] += G·op(B)ᵀ */
        else
            gemm(tb, true, K, M, N, 1.0f, b->data, ldb, g, N, 1.0f, da, M); /* [K,M] += op(B)·Gᵀ */
    }
    if (hl_wants_grad(b)) {
        float *db = hl_grad(ctx, b);
        if (!tb)
            gemm(!ta, false, K, N, M, 1.0f, a->data, lda, g, N, 1.0f, db, N); /* [K,N] += op(A)ᵀ·G */
        else
            gemm(true, ta, N, K, M, 1.0f, g, N, a->data, lda, 1.0f, db, K); /* [N,K] += Gᵀ·op(A) */
    }
}
static const hl_op_desc matmul_desc = {"matmul", matmul_backward};

hl_tensor *hl_matmul_t(hl_ctx *ctx, hl_tensor *a, hl_tensor *b, bool ta, bool tb) {
    HL_CHECK_INPUT(ctx, a);
    HL_CHECK_INPUT(ctx, b);
    HL_ASSERT_SHAPE(a->ndim == 2 && b->ndim == 2, a, b);
    const int64_t M = ta ? a->shape[1] : a->shape[0], K = ta ? a->shape[0] : a->shape[1];
    const int64_t N = tb ? b->shape[0] : b->shape[1], Kb = tb ? b->shape[1] : b->shape[0];
    HL_ASSERT_SHAPE(K == Kb, a, b);
    hl_tensor *c = hl_tensor_new(ctx, 2, HL_SHAPE(M, N));
    ctx->k->base->gemm(ta, tb, M, N, K, 1.0f, a->data, a->shape[1], b->data, b->shape[1], 0.0f, c->data, N);
    hl_node *n = hl_record(ctx, &matmul_desc, c, 2, (hl_tensor *[]){a, b});
    if (n) {
        n->iattr[0] = ta;
        n->iattr[1] = tb;
        n->iattr[2] = M;
        n->iattr[3] = K;
        n->iattr[4] = N;
    }
    return c;
}

/* ---- linear: y[B,O] = x[B,I]·w[O,I]ᵀ + bias[O] -------------------------------------------------------------------
 * dx = G·w [B,I], dw = Gᵀ·x [O,I], dbias = Σ_b G [O].
 * Batch-invariant mode (core/ctx.h): y and dx sample by sample, y_b = w·x_b and dx_b += wᵀ·g_b through
 * gemv_batched, so a row never depends on the others or on the thread count. */
static void linear_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    const int64_t B = x->shape[0], I = x->shape[1], O = w->shape[0];
    const float *g = n->out->grad;
    if (hl_wants_grad(x) && ctx->batch_invariant)
        ctx->k->base->gemv_batched(true, O, I, 1.0f, w->data, I, g, O, 1.0f, hl_grad(ctx, x), I, B);
    else if (hl_wants_grad(x))
        ctx->k->base->gemm(false, false, B, I, O, 1.0f, g, O, w->data, I, 1.0f, hl_grad(ctx, x), I);
    if (hl_wants_grad(w)) ctx->k->base->gemm(true, false, O, I, B, 1.0f, g, O, x->data, I, 1.0f, hl_grad(ctx, w), I);
    if (hl_wants_grad(bias)) ctx->k->conv->bias_bwd(B, O, 1, g, hl_grad(ctx, bias));
}
static const hl_op_desc linear_desc = {"linear", linear_backward};

hl_tensor *hl_linear(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias) {
    HL_CHECK_INPUT(ctx, x);
    HL_CHECK_INPUT(ctx, w);
    HL_ASSERT_SHAPE(x->ndim == 2 && w->ndim == 2 && x->shape[1] == w->shape[1], x, w);
    const int64_t B = x->shape[0], I = x->shape[1], O = w->shape[0];
    if (bias) {
        HL_CHECK_INPUT(ctx, bias);
        HL_ASSERT_SHAPE(bias->ndim == 1 && bias->shape[0] == O, bias, w);
    }
    hl_tensor *y = hl_tensor_new(ctx, 2, HL_SHAPE(B, O));
    if (ctx->batch_invariant)
        ctx->k->base->gemv_batched(false, O, I, 1.0f, w->data, I, x->data, I, 0.0f, y->data, O, B);
    else
        ctx->k->base->gemm(false, true, B, O, I, 1.0f, x->data, I, w->data, I, 0.0f, y->data, O);
    if (bias) ctx->k->conv->bias_add(B, O, 1, bias->data, y->data);
    hl_record(ctx, &linear_desc, y, 3, (hl_tensor *[]){x, w, bias});
    return y;
}
