/* core/ops/activation.c — activations: relu, leaky_relu, sigmoid, tanh_scaled, softplus, sign, sign_ste
 * (contracts in core/ops/ops.h, kernels: hl_kern_ew.unary / unary_bwd in core/kern/ew.h).
 *
 * All are elementwise maps y = f(x; p0): the forward runs ctx->k->ew->unary, the node keeps the map and its
 * parameter, and the backward runs unary_bwd, which reads x and/or y (both stay valid until backward).
 *
 * hl_sign records a node like every other op (so its output requires grad exactly when its input does and a loss
 * computed through it can be back-propagated without special cases), but its backward adds nothing: it does not
 * even allocate the input's gradient, so the nodes upstream of a sign receive no gradient through it and are
 * skipped by the tape (unless another path feeds them). A heap leaf keeps its (unchanged) gradient buffer.
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

/* iattr[0] = hl_ew_unop, attr[0] = its parameter (slope, β). */
static void act_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *y = n->out;
    if (!hl_wants_grad(x)) return;
    ctx->k->ew->unary_bwd((hl_ew_unop)n->iattr[0], hl_numel(x), n->attr[0], 0.0f, x->data, y->data, y->grad,
                          hl_grad(ctx, x));
}

/* Zero gradient: nothing flows to x (see the top of the file). */
static void sign_backward(hl_ctx *ctx, const hl_node *n) {
    (void)ctx;
    (void)n;
}

static hl_tensor *act_op(hl_ctx *ctx, const hl_op_desc *desc, hl_ew_unop op, hl_tensor *x, float p0) {
    HL_CHECK_INPUT(ctx, x);
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    ctx->k->ew->unary(op, hl_numel(x), p0, 0.0f, x->data, y->data);
    hl_node *n = hl_record(ctx, desc, y, 1, &x);
    if (n) {
        n->iattr[0] = op;
        n->attr[0] = p0;
    }
    return y;
}

static const hl_op_desc relu_desc = {"relu", act_backward};
static const hl_op_desc leaky_relu_desc = {"leaky_relu", act_backward};
static const hl_op_desc sigmoid_desc = {"sigmoid", act_backward};
static const hl_op_desc tanh_desc = {"tanh_scaled", act_backward};
static const hl_op_desc softplus_desc = {"softplus", act_backward};
static const hl_op_desc sign_desc = {"sign", sign_backward};
static const hl_op_desc sign_ste_desc = {"sign_ste", act_backward};

/* max(x, 0) (NaN propagates); gradient [x > 0], so 0 at 0. */
hl_tensor *hl_relu(hl_ctx *ctx, hl_tensor *x) { return act_op(ctx, &relu_desc, HL_EW_RELU, x, 0.0f); }

/* x > 0 ? x : slope·x; gradient 1 for x > 0, slope for x <= 0. */
hl_tensor *hl_leaky_relu(hl_ctx *ctx, hl_tensor *x, float slope) {
    return act_op(ctx, &leaky_relu_desc, HL_EW_LEAKY_RELU, x, slope);
}

/* 1/(1 + e^−x) evaluated as e^x/(1 + e^x) for x < 0 (no overflow); gradient y(1 − y). */
hl_tensor *hl_sigmoid(hl_ctx *ctx, hl_tensor *x) { return act_op(ctx, &sigmoid_desc, HL_EW_SIGMOID, x, 0.0f); }

/* tanh(β·x); gradient β(1 − y²). */
hl_tensor *hl_tanh_scaled(hl_ctx *ctx, hl_tensor *x, float beta) {
    return act_op(ctx, &tanh_desc, HL_EW_TANH, x, beta);
}

/* log(1 + e^x) = max(x, 0) + log1p(e^−|x|): exact to float precision for any x; gradient sigmoid(x). */
hl_tensor *hl_softplus(hl_ctx *ctx, hl_tensor *x) { return act_op(ctx, &softplus_desc, HL_EW_SOFTPLUS, x, 0.0f); }

/* sign(x) ∈ {−1, 0, +1} (NaN -> 0); records a node with a zero (no-op) backward. */
hl_tensor *hl_sign(hl_ctx *ctx, hl_tensor *x) { return act_op(ctx, &sign_desc, HL_EW_SIGN, x, 0.0f); }

/* x >= 0 ? +1 : −1 (sign(0) = +1); backward passes dy through unchanged (straight-through estimator). */
hl_tensor *hl_sign_ste(hl_ctx *ctx, hl_tensor *x) { return act_op(ctx, &sign_ste_desc, HL_EW_SIGN_STE, x, 0.0f); }
