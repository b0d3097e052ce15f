/* core/ops/elementwise.c — arithmetic ops: add, sub, mul, div with numpy broadcasting; scale, add_scalar, pow,
 * clamp, abs, exp, log (contracts in core/ops/ops.h, kernels in core/kern/ew.h).
 *
 * Binary ops: same-size operands take the flat kernels (one vectorisable loop). Otherwise the op builds a collapsed
 * broadcast geometry (ew_bcast_geom) and the strided kernels run over it; the gradient of a stretched operand is
 * summed over the stretched dims inside binary_bwd_bcast. The geometry is recomputed in backward from the input
 * shapes (it does not fit in a node's iattr), which costs a few integer operations.
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

/* ---- broadcasting geometry -------------------------------------------------------------------------------------- */

/* Output shape of a ⊕ b (numpy rules) and the kernel geometry:
 *   1. right-align both shapes in nd = max(ndim) dims (missing leading dims have size 1) and check each dim pair
 *      is equal or has a 1; out[d] = max;
 *   2. each operand's strides are its contiguous strides, with 0 on its size-1 dims (stretched, or size 1 anyway);
 *   3. collapse: drop output dims of size 1; merge dim d into the previous kept dim k when, for both operands,
 *      stride[k] == stride[d]·out[d] (contiguous across the pair, or stretched along both).
 * E.g. [B,C,H,W] ⊙ [C,1,1] -> shape (B, C, H·W), sa = (C·H·W, H·W, 1), sb = (0, 1, 0);
 *      [B,K] + [K] -> (B, K), sb = (0, 1);   [2,1,4] ⊙ [3,1] -> (2, 3, 4), sa = (4, 0, 1), sb = (0, 1, 0). */
static void ew_bcast_geom(const hl_tensor *a, const hl_tensor *b, int *ndim, int64_t out[HL_MAX_DIMS],
                          hl_ew_bcast *g) {
    const int nd = HL_MAX(a->ndim, b->ndim);
    int64_t as[HL_MAX_DIMS], bs[HL_MAX_DIMS], sa[HL_MAX_DIMS], sb[HL_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        const int ia = d - (nd - a->ndim), ib = d - (nd - b->ndim);
        as[d] = ia >= 0 ? a->shape[ia] : 1;
        bs[d] = ib >= 0 ? b->shape[ib] : 1;
        HL_ASSERT_SHAPE(as[d] == bs[d] || as[d] == 1 || bs[d] == 1, a, b);
        out[d] = HL_MAX(as[d], bs[d]);
    }
    int64_t ra = 1, rb = 1;
    for (int d = nd - 1; d >= 0; d--) {
        sa[d] = as[d] == 1 ? 0 : ra;
        sb[d] = bs[d] == 1 ? 0 : rb;
        ra *= as[d];
        rb *= bs[d];
    }
    g->ndim = 0;
    for (int d = 0; d < nd; d++) {
        if (out[d] == 1) continue;
        const int k = g->ndim - 1;
        if (k >= 0 && g->sa[k] == sa[d] * out[d] && g->sb[k] == sb[d] * out[d]) {
            g->shape[k] *= out[d];
            g->sa[k] = sa[d];
            g->sb[k] = sb[d];
            continue;
        }
        g->shape[g->ndim] = out[d];
        g->sa[g->ndim] = sa[d];
        g->sb[g->ndim] = sb[d];
        g->ndim++;
    }
    if (g->ndim == 0) { /* every dim has size 1 */
        g->ndim = 1;
        g->shape[0] = 1;
        g->sa[0] = g->sb[0] = 0;
    }
    *ndim = nd;
}

/* ---- add / sub / mul / div -------------------------------------------------------------------------------------- */

/* iattr[0] = hl_ew_binop, iattr[1] = a ReLU was applied to the output in place (hl_add_relu: its gradient is masked
 * in place first, as in hl_conv2d_relu). Same-size operands (no dim stretched) use the flat kernel for both
 * gradients; otherwise each wanted gradient is one binary_bwd_bcast call (summing over the operand's stretched
 * dims). */
static void binary_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
    const hl_ew_binop op = (hl_ew_binop)n->iattr[0];
    if (n->iattr[1]) ctx->k->ew->relu_mask(hl_numel(y), y->data, y->grad);
    const bool ga = hl_wants_grad(a), gb = hl_wants_grad(b);
    const int64_t ny = hl_numel(y);
    if (hl_numel(a) == ny && hl_numel(b) == ny) {
        ctx->k->ew->binary_bwd(op, ny, a->data, b->data, y->grad, ga ? hl_grad(ctx, a) : NULL,
                               gb ? hl_grad(ctx, b) : NULL);
        return;
    }
    int nd;
    int64_t shape[HL_MAX_DIMS];
    hl_ew_bcast g;
    ew_bcast_geom(a, b, &nd, shape, &g);
    if (ga) ctx->k->ew->binary_bwd_bcast(op, 0, g, a->data, b->data, y->grad, hl_grad(ctx, a));
    if (gb) ctx->k->ew->binary_bwd_bcast(op, 1, g, a->data, b->data, y->grad, hl_grad(ctx, b));
}

static const hl_op_desc add_desc = {"add", binary_backward};
static const hl_op_desc sub_desc = {"sub", binary_backward};
static const hl_op_desc mul_desc = {"mul", binary_backward};
static const hl_op_desc div_desc = {"div", binary_backward};
static const hl_op_desc add_relu_desc = {"add_relu", binary_backward};

static hl_tensor *binary_op_act(hl_ctx *ctx, const hl_op_desc *desc, hl_ew_binop op, hl_tensor *a, hl_tensor *b,
                                bool relu) {
    HL_CHECK_INPUT(ctx, a);
    HL_CHECK_INPUT(ctx, b);
    int nd;
    int64_t shape[HL_MAX_DIMS];
    hl_ew_bcast g;
    ew_bcast_geom(a, b, &nd, shape, &g);
    hl_tensor *y = hl_tensor_new(ctx, nd, shape);
    const int64_t ny = hl_numel(y);
    if (hl_numel(a) == ny && hl_numel(b) == ny) ctx->k->ew->binary(op, ny, a->data, b->data, y->data);
    else ctx->k->ew->binary_bcast(op, g, a->data, b->data, y->data);
    if (relu) ctx->k->ew->unary(HL_EW_RELU, ny, 0.0f, 0.0f, y->data, y->data);
    hl_node *n = hl_record(ctx, desc, y, 2, (hl_tensor *[]){a, b});
    if (n) {
        n->iattr[0] = op;
        n->iattr[1] = relu;
    }
    return y;
}

static hl_tensor *binary_op(hl_ctx *ctx, const hl_op_desc *desc, hl_ew_binop op, hl_tensor *a, hl_tensor *b) {
    return binary_op_act(ctx, desc, op, a, b, false);
}

hl_tensor *hl_add_relu(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    return binary_op_act(ctx, &add_relu_desc, HL_EW_ADD, a, b, true);
}

hl_tensor *hl_add(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) { return binary_op(ctx, &add_desc, HL_EW_ADD, a, b); }
hl_tensor *hl_sub(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) { return binary_op(ctx, &sub_desc, HL_EW_SUB, a, b); }
hl_tensor *hl_mul(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) { return binary_op(ctx, &mul_desc, HL_EW_MUL, a, b); }
hl_tensor *hl_div(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) { return binary_op(ctx, &div_desc, HL_EW_DIV, a, b); }

/* ---- unary arithmetic ------------------------------------------------------------------------------------------- */

/* iattr[0] = hl_ew_unop, attr[0..1] = its parameters; the kernel reads x (input) and y (output). */
static void unary_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *y = n->out;
    if (!hl_wants_grad(x)) return;
    ctx->k->ew->unary_bwd((hl_ew_unop)n->iattr[0], hl_numel(x), n->attr[0], n->attr[1], x->data, y->data, y->grad,
                          hl_grad(ctx, x));
}

static hl_tensor *unary_op(hl_ctx *ctx, const hl_op_desc *desc, hl_ew_unop op, hl_tensor *x, float p0, float p1) {
    HL_CHECK_INPUT(ctx, x);
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    ctx->k->ew->unary(op, hl_numel(x), p0, p1, x->data, y->data);
    hl_node *n = hl_record(ctx, desc, y, 1, &x);
    if (n) {
        n->iattr[0] = op;
        n->attr[0] = p0;
        n->attr[1] = p1;
    }
    return y;
}

static const hl_op_desc scale_desc = {"scale", unary_backward};
static const hl_op_desc add_scalar_desc = {"add_scalar", unary_backward};
static const hl_op_desc pow_desc = {"pow", unary_backward};
static const hl_op_desc clamp_desc = {"clamp", unary_backward};
static const hl_op_desc abs_desc = {"abs", unary_backward};
static const hl_op_desc exp_desc = {"exp", unary_backward};
static const hl_op_desc log_desc = {"log", unary_backward};

hl_tensor *hl_scale(hl_ctx *ctx, hl_tensor *a, float s) { return unary_op(ctx, &scale_desc, HL_EW_AFFINE, a, s, 0.0f); }

hl_tensor *hl_add_scalar(hl_ctx *ctx, hl_tensor *a, float s) {
    return unary_op(ctx, &add_scalar_desc, HL_EW_AFFINE, a, 1.0f, s);
}

/* powf semantics (negative base with a non-integer p gives NaN); the gradient of a^0 is 0 everywhere. */
hl_tensor *hl_pow(hl_ctx *ctx, hl_tensor *a, float p) { return unary_op(ctx, &pow_desc, HL_EW_POW, a, p, 0.0f); }

hl_tensor *hl_clamp(hl_ctx *ctx, hl_tensor *a, float lo, float hi) {
    HL_ASSERT(lo <= hi, "hl_clamp: lo %g > hi %g", (double)lo, (double)hi);
    return unary_op(ctx, &clamp_desc, HL_EW_CLAMP, a, lo, hi);
}

hl_tensor *hl_abs(hl_ctx *ctx, hl_tensor *a) { return unary_op(ctx, &abs_desc, HL_EW_ABS, a, 0.0f, 0.0f); }
hl_tensor *hl_exp(hl_ctx *ctx, hl_tensor *a) { return unary_op(ctx, &exp_desc, HL_EW_EXP, a, 0.0f, 0.0f); }
hl_tensor *hl_log(hl_ctx *ctx, hl_tensor *a) { return unary_op(ctx, &log_desc, HL_EW_LOG, a, 0.0f, 0.0f); }
