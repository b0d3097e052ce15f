/* core/ops/pool.c — max / average / global / adaptive average pooling over the spatial axes of x [B,C,H,W].
 * Max pooling saves, when a gradient is needed, the in-plane index of each window's first maximum (node->aux,
 * int32 [B,C,Ho,Wo]); its backward scatters dy to those positions. Average pooling needs nothing saved. */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

/* Output extent of a k-window with stride s and padding p; asserts the window sizes make sense. */
static int64_t pool_out(const hl_tensor *x, int64_t n, int k, int s, int p) {
    HL_ASSERT(k >= 1 && s >= 1 && p >= 0 && p < k, "pool: k %d, stride %d must be >= 1 and 0 <= pad %d < k", k, s, p);
    HL_ASSERT_T(n + 2 * p >= k, x); /* window larger than the padded image */
    return (n + 2 * p - k) / s + 1;
}

static void check_pool_input(hl_ctx *ctx, hl_tensor *x) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT_T(x->ndim == 4, x);
}

/* ---- maxpool2d --------------------------------------------------------------------------------------------------- */
static void maxpool_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (!hl_wants_grad(x)) return;
    const hl_tensor *y = n->out;
    ctx->k->pool->max_bwd(x->shape[0] * x->shape[1], x->shape[2], x->shape[3], y->shape[2], y->shape[3], n->aux,
                          y->grad, hl_grad(ctx, x));
}
static const hl_op_desc maxpool_desc = {"maxpool2d", maxpool_backward};

hl_tensor *hl_maxpool2d(hl_ctx *ctx, hl_tensor *x, int k, int stride, int pad) {
    check_pool_input(ctx, x);
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    HL_ASSERT_T(H * W <= INT32_MAX, x); /* indices are int32 */
    const int64_t Ho = pool_out(x, H, k, stride, pad), Wo = pool_out(x, W, k, stride, pad);
    hl_tensor *y = hl_tensor_new(ctx, 4, HL_SHAPE(B, C, Ho, Wo));
    /* Indices only when a backward will read them (checked before computing, so a no-grad forward writes none). */
    int32_t *idx = hl_needs_grad(ctx, 1, &x) ? hl_ctx_dev_alloc(ctx, (size_t)(B * C * Ho * Wo) * sizeof *idx) : NULL;
    ctx->k->pool->max_fwd(B * C, H, W, k, stride, pad, Ho, Wo, x->data, y->data, idx);
    hl_node *n = hl_record(ctx, &maxpool_desc, y, 1, &x);
    if (n) n->aux = idx;
    return y;
}

/* ---- avgpool2d --------------------------------------------------------------------------------------------------- */
static void avgpool_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (!hl_wants_grad(x)) return;
    const hl_tensor *y = n->out;
    ctx->k->pool->avg_bwd(x->shape[0] * x->shape[1], x->shape[2], x->shape[3], (int)n->iattr[0], (int)n->iattr[1],
                          (int)n->iattr[2], y->shape[2], y->shape[3], y->grad, hl_grad(ctx, x));
}
static const hl_op_desc avgpool_desc = {"avgpool2d", avgpool_backward};

hl_tensor *hl_avgpool2d(hl_ctx *ctx, hl_tensor *x, int k, int stride, int pad) {
    check_pool_input(ctx, x);
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t Ho = pool_out(x, H, k, stride, pad), Wo = pool_out(x, W, k, stride, pad);
    hl_tensor *y = hl_tensor_new(ctx, 4, HL_SHAPE(B, C, Ho, Wo));
    ctx->k->pool->avg_fwd(B * C, H, W, k, stride, pad, Ho, Wo, x->data, y->data);
    hl_node *n = hl_record(ctx, &avgpool_desc, y, 1, &x);
    if (n) {
        n->iattr[0] = k;
        n->iattr[1] = stride;
        n->iattr[2] = pad;
    }
    return y;
}

/* ---- global_avgpool: [B,C,H,W] -> [B,C] ------------------------------------------------------------------------- */
static void gavgpool_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (!hl_wants_grad(x)) return;
    ctx->k->pool->gavg_bwd(x->shape[0] * x->shape[1], x->shape[2] * x->shape[3], n->out->grad, hl_grad(ctx, x));
}
static const hl_op_desc gavgpool_desc = {"global_avgpool", gavgpool_backward};

hl_tensor *hl_global_avgpool(hl_ctx *ctx, hl_tensor *x) {
    check_pool_input(ctx, x);
    const int64_t B = x->shape[0], C = x->shape[1];
    hl_tensor *y = hl_tensor_new(ctx, 2, HL_SHAPE(B, C));
    ctx->k->pool->gavg_fwd(B * C, x->shape[2] * x->shape[3], x->data, y->data);
    hl_record(ctx, &gavgpool_desc, y, 1, &x);
    return y;
}

/* ---- adaptive_avgpool2d: [B,C,H,W] -> [B,C,Ho,Wo] ---------------------------------------------------------------- */
static void adaptive_avgpool_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (!hl_wants_grad(x)) return;
    const hl_tensor *y = n->out;
    ctx->k->pool->adaptive_avg_bwd(x->shape[0] * x->shape[1], x->shape[2], x->shape[3], y->shape[2], y->shape[3],
                                   y->grad, hl_grad(ctx, x));
}
static const hl_op_desc adaptive_avgpool_desc = {"adaptive_avgpool2d", adaptive_avgpool_backward};

hl_tensor *hl_adaptive_avgpool2d(hl_ctx *ctx, hl_tensor *x, int64_t Ho, int64_t Wo) {
    check_pool_input(ctx, x);
    HL_ASSERT(Ho >= 1 && Wo >= 1, "adaptive_avgpool2d: output %lldx%lld", (long long)Ho, (long long)Wo);
    const int64_t B = x->shape[0], C = x->shape[1];
    hl_tensor *y = hl_tensor_new(ctx, 4, HL_SHAPE(B, C, Ho, Wo));
    ctx->k->pool->adaptive_avg_fwd(B * C, x->shape[2], x->shape[3], Ho, Wo, x->data, y->data);
    hl_record(ctx, &adaptive_avgpool_desc, y, 1, &x);
    return y;
}
