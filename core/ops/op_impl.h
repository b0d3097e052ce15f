/* core/ops/op_impl.h — internal: how an op records itself on the tape and how its backward reads the node.
 *
 * Writing an op (forward and backward side by side in core/ops/<family>.c):
 *
 *     static void exp_backward(hl_ctx *ctx, const hl_node *n) {
 *         hl_tensor *x = n->in[0], *y = n->out;
 *         if (!hl_wants_grad(x)) return;                             // input requires no grad: skip
 *         ctx->k->ew->unary_bwd(HL_EW_EXP, hl_numel(x), 0, 0, x->data, y->data, y->grad, hl_grad(ctx, x)); // +=
 *     }
 *     static const hl_op_desc exp_desc = {"exp", exp_backward};
 *
 *     hl_tensor *hl_exp(hl_ctx *ctx, hl_tensor *x) {
 *         HL_CHECK_INPUT(ctx, x);
 *         hl_tensor *y = hl_tensor_new_like(ctx, x);
 *         ctx->k->ew->unary(HL_EW_EXP, hl_numel(x), 0, 0, x->data, y->data);
 *         hl_record(ctx, &exp_desc, y, 1, (hl_tensor *[]){x});      // no-op unless a gradient is needed
 *         return y;
 *     }
 *
 * All arithmetic goes through the device's kernel table (ctx->k), never through loops in core/ops/, so the CUDA
 * backend slots in without touching op code. Backward functions must ACCUMULATE into input grads.
 */
#ifndef HL_OP_IMPL_H
#define HL_OP_IMPL_H

#include "core/ctx.h"
#include "core/kernels.h"
#include "core/tape.h"

typedef void (*hl_backward_fn)(hl_ctx *ctx, const hl_node *n);

typedef struct hl_op_desc {
    const char *name;
    hl_backward_fn backward;
} hl_op_desc;

#define HL_NODE_MAX_IN 4

struct hl_node {
    const hl_op_desc *op;
    hl_node *prev;                   /* older node */
    hl_tensor *out;
    hl_tensor *in[HL_NODE_MAX_IN];
    int n_in;
    float attr[8];                   /* op parameters: slopes, scales, eps, ... */
    int64_t iattr[8];                /* integer parameters: strides, pads, axes, ... */
    hl_tensor *saved[2];             /* tensors saved for backward (arena) */
    void *aux;                       /* extra arena memory saved for backward (indices, statistics) */
};

/* True when grad mode is on and any of the n inputs requires grad. */
bool hl_needs_grad(const hl_ctx *ctx, int n, hl_tensor *const *in);

/* Records a node for `out` if hl_needs_grad(): marks `out` REQUIRES_GRAD and returns the (zeroed) node so the op
 * can fill attr/iattr/saved/aux. Returns NULL when nothing is recorded: the op must then skip saving state. */
hl_node *hl_record(hl_ctx *ctx, const hl_op_desc *op, hl_tensor *out, int n_in, hl_tensor *const *in);

/* In a backward: does this input want a gradient? */
static inline bool hl_wants_grad(const hl_tensor *t) { return t && (t->flags & HL_T_REQUIRES_GRAD); }

/* In a backward: the gradient buffer of t, allocated zeroed from the arena on first use (heap leaves already have
 * one). Only for tensors that want a gradient. */
float *hl_grad(hl_ctx *ctx, hl_tensor *t);

static inline int64_t hl_numel(const hl_tensor *t) { return hl_tensor_numel(t); }

/* Asserts an input is contiguous and on the ctx's device. */
#define HL_CHECK_INPUT(ctx, t)                                                                                        \
    do {                                                                                                              \
        HL_ASSERT((t) != NULL, "NULL tensor");                                                                        \
        HL_ASSERT_T(hl_tensor_is_contiguous(t), (t));                                                                 \
        HL_ASSERT_T((t)->dev == (ctx)->dev, (t));                                                                     \
    } while (0)

#endif
