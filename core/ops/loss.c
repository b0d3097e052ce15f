/* core/ops/loss.c — fused scalar losses: softmax cross-entropy, BCE with logits, MSE, L1.
 *
 * Each loss is one op with a hand-written gradient (one kernel each way instead of a chain of elementwise ops, and
 * numerically stable where the composed version would overflow). The output is a 0-dim tensor; its upstream
 * gradient (out->grad, one float in device memory) is read by the backward KERNEL, so no host round trip is needed
 * and a CUDA table slots in unchanged.
 *
 * Targets of softmax_ce and bce_logits are constants: they are NOT tape inputs (only the logits are), so a target
 * that requires grad receives no gradient and does not by itself make the loss require grad. The target tensor is
 * kept in node->saved[0] for the backward. MSE and L1 are symmetric and differentiate both operands.
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

/* A loss pairs two contiguous same-shape tensors on the ctx's device. */
static void loss_check_pair(hl_ctx *ctx, const hl_tensor *a, const hl_tensor *b) {
    HL_CHECK_INPUT(ctx, a);
    HL_CHECK_INPUT(ctx, b);
    HL_ASSERT_SHAPE(hl_tensor_same_shape(a, b), a, b);
}

/* ---- softmax cross-entropy: logits z [B,L], target t [B,L] -> mean_b −Σ_l t·log softmax(z) ---------------------- */
/* saved[0] = target, saved[1] = lse [B] (row logsumexp from the forward). */
static void softmax_ce_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *z = n->in[0], *t = n->saved[0], *lse = n->saved[1];
    if (hl_wants_grad(z))
        ctx->k->loss->softmax_ce_bwd(z->shape[0], z->shape[1], z->data, t->data, lse->data, n->out->grad,
                                     hl_grad(ctx, z));
}
static const hl_op_desc softmax_ce_desc = {"softmax_ce", softmax_ce_backward};

hl_tensor *hl_softmax_ce(hl_ctx *ctx, hl_tensor *logits, hl_tensor *target) {
    loss_check_pair(ctx, logits, target);
    HL_ASSERT_SHAPE(logits->ndim == 2, logits, target);
    const int64_t B = logits->shape[0], L = logits->shape[1];
    hl_tensor *out = hl_tensor_new(ctx, 0, NULL);
    hl_tensor *lse = hl_tensor_new(ctx, 1, HL_SHAPE(B));
    ctx->k->loss->softmax_ce_fwd(B, L, logits->data, target->data, lse->data, out->data);
    hl_node *n = hl_record(ctx, &softmax_ce_desc, out, 1, (hl_tensor *[]){logits});
    if (n) {
        n->saved[0] = target;
        n->saved[1] = lse;
    }
    return out;
}

/* ---- BCE with logits: mean over all elements of softplus(z) − t·z --------------------------------------------- */
static void bce_logits_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *z = n->in[0], *t = n->saved[0];
    if (hl_wants_grad(z))
        ctx->k->loss->bce_logits_bwd(hl_numel(z), z->data, t->data, n->out->grad, hl_grad(ctx, z));
}
static const hl_op_desc bce_logits_desc = {"bce_logits", bce_logits_backward};

hl_tensor *hl_bce_logits(hl_ctx *ctx, hl_tensor *logits, hl_tensor *target) {
    loss_check_pair(ctx, logits, target);
    hl_tensor *out = hl_tensor_new(ctx, 0, NULL);
    ctx->k->loss->bce_logits_fwd(hl_numel(logits), logits->data, target->data, out->data);
    hl_node *n = hl_record(ctx, &bce_logits_desc, out, 1, (hl_tensor *[]){logits});
    if (n) n->saved[0] = target;
    return out;
}

/* ---- MSE: mean (a − b)², gradient ±2(a − b)/n ------------------------------------------------------------------ */
static void mse_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *a = n->in[0], *b = n->in[1];
    float *da = hl_wants_grad(a) ? hl_grad(ctx, a) : NULL;
    float *db = hl_wants_grad(b) ? hl_grad(ctx, b) : NULL;
    /* The same tensor passed twice: (a − a)² has zero gradient, and the kernel adds +x and −x into one buffer. */
    if (da || db) ctx->k->loss->mse_bwd(hl_numel(a), a->data, b->data, n->out->grad, da, db);
}
static const hl_op_desc mse_desc = {"mse", mse_backward};

hl_tensor *hl_mse(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    loss_check_pair(ctx, a, b);
    hl_tensor *out = hl_tensor_new(ctx, 0, NULL);
    ctx->k->loss->mse_fwd(hl_numel(a), a->data, b->data, out->data);
    hl_record(ctx, &mse_desc, out, 2, (hl_tensor *[]){a, b});
    return out;
}

/* ---- L1: mean |a − b|, gradient ±sign(a − b)/n, 0 where a = b ---------------------------------------------------- */
static void l1_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *a = n->in[0], *b = n->in[1];
    float *da = hl_wants_grad(a) ? hl_grad(ctx, a) : NULL;
    float *db = hl_wants_grad(b) ? hl_grad(ctx, b) : NULL;
    if (da || db) ctx->k->loss->l1_bwd(hl_numel(a), a->data, b->data, n->out->grad, da, db);
}
static const hl_op_desc l1_desc = {"l1", l1_backward};

hl_tensor *hl_l1(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    loss_check_pair(ctx, a, b);
    hl_tensor *out = hl_tensor_new(ctx, 0, NULL);
    ctx->k->loss->l1_fwd(hl_numel(a), a->data, b->data, out->data);
    hl_record(ctx, &l1_desc, out, 2, (hl_tensor *[]){a, b});
    return out;
}
