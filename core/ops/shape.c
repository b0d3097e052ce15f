/* core/ops/shape.c — reshape, flatten, transpose, concat, slice (forward + backward). Kernels: core/kern/shape.h.
 *
 * Reshape and flatten are views: the output header shares x's data (no copy), so x must not be modified before
 * backward. Transpose, concat and slice produce contiguous copies. Concat and slice are 2-D strided block copies
 * once the tensor is seen as [O, axis·inner] (O = product of the axes before `axis`, inner = after it).
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

#include <string.h>

static int64_t prod(const int64_t *v, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= v[i];
    return p;
}

/* ---- reshape / flatten -------------------------------------------------------------------------------------------- */

/* Same elements in the same order: dx += dy. */
static void reshape_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (hl_wants_grad(x)) ctx->k->base->axpy(hl_numel(x), 1.0f, n->out->grad, hl_grad(ctx, x));
}
static const hl_op_desc reshape_desc = {"reshape", reshape_backward};

hl_tensor *hl_reshape(hl_ctx *ctx, hl_tensor *x, int ndim, const int64_t *shape) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT(ndim >= 0 && ndim <= HL_MAX_DIMS, "reshape: ndim %d out of range 0..%d", ndim, HL_MAX_DIMS);
    HL_ASSERT(ndim == 0 || shape, "reshape: NULL shape");
    const int64_t numel = hl_numel(x);
    int64_t s[HL_MAX_DIMS], known = 1;
    int infer = -1;
    for (int d = 0; d < ndim; d++) {
        s[d] = shape[d];
        if (shape[d] == -1) {
            HL_ASSERT_T(infer < 0, x); /* at most one −1 */
            infer = d;
        } else {
            HL_ASSERT(shape[d] >= 1, "reshape: dimension %d has size %lld", d, (long long)shape[d]);
            known *= shape[d];
        }
    }
    char sb[96];
    if (infer >= 0) {
        HL_ASSERT(numel % known == 0, "reshape: cannot infer a dimension of %s into blocks of %lld",
                  hl_tensor_shape_str(x, sb, sizeof sb), (long long)known);
        s[infer] = numel / known;
        known *= s[infer];
    }
    HL_ASSERT(known == numel, "reshape: %s has %lld elements, new shape %lld",
              hl_tensor_shape_str(x, sb, sizeof sb), (long long)numel, (long long)known);

    hl_tensor *y = hl_ctx_calloc(ctx, sizeof *y);
    y->ndim = ndim;
    for (int d = 0; d < HL_MAX_DIMS; d++) y->shape[d] = d < ndim ? s[d] : 1;
    hl_tensor_init_strides(y);
    y->data = x->data;
    y->dev = x->dev;
    y->flags = HL_T_LEAF;
    hl_record(ctx, &reshape_desc, y, 1, (hl_tensor *[]){x});
    return y;
}

hl_tensor *hl_flatten(hl_ctx *ctx, hl_tensor *x) {
    HL_ASSERT_T(x && x->ndim >= 1, x);
    return hl_reshape(ctx, x, 2, HL_SHAPE(x->shape[0], -1));
}

/* ---- transpose ---------------------------------------------------------------------------------------------------- */

/* iattr: the [A,D0,M,D1,Z] view of x. The adjoint of swapping two axes is swapping them back. */
enum { TI_A, TI_D0, TI_M, TI_D1, TI_Z };

static void transpose_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (!hl_wants_grad(x)) return;
    const int64_t *v = n->iattr;
    /* dy is [A,D1,M,D0,Z]; swapping its axes 1 and 3 gives dx's layout. */
    ctx->k->shape->transpose(v[TI_A], v[TI_D1], v[TI_M], v[TI_D0], v[TI_Z], n->out->grad, hl_grad(ctx, x), true);
}
static const hl_op_desc transpose_desc = {"transpose", transpose_backward};

hl_tensor *hl_transpose(hl_ctx *ctx, hl_tensor *x, int d0, int d1) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT(d0 >= 0 && d0 < x->ndim && d1 >= 0 && d1 < x->ndim, "transpose: axes %d, %d of a %d-D tensor", d0,
              d1, x->ndim);
    if (d0 > d1) {
        int t = d0;
        d0 = d1;
        d1 = t;
    }
    int64_t v[5];
    if (d0 == d1) { /* identity: one run of numel */
        v[TI_A] = hl_numel(x), v[TI_D0] = v[TI_M] = v[TI_D1] = v[TI_Z] = 1;
    } else {
        v[TI_A] = prod(x->shape, 0, d0);
        v[TI_D0] = x->shape[d0];
        v[TI_M] = prod(x->shape, d0 + 1, d1);
        v[TI_D1] = x->shape[d1];
        v[TI_Z] = prod(x->shape, d1 + 1, x->ndim);
    }
    int64_t ys[HL_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) ys[d] = x->shape[d];
    ys[d0] = x->shape[d1];
    ys[d1] = x->shape[d0];
    hl_tensor *y = hl_tensor_new(ctx, x->ndim, ys);
    ctx->k->shape->transpose(v[TI_A], v[TI_D0], v[TI_M], v[TI_D1], v[TI_Z], x->data, y->data, false);
    hl_node *n = hl_record(ctx, &transpose_desc, y, 1, (hl_tensor *[]){x});
    if (n) memcpy(n->iattr, v, sizeof v);
    return y;
}

/* ---- concat ------------------------------------------------------------------------------------------------------- */

/* Input k occupies columns [off_k, off_k + w_k) of every one of the O output rows (w_k = shape_k[axis]·inner). */
static void concat_backward(hl_ctx *ctx, const hl_node *n) {
    const int axis = (int)n->iattr[0];
    const hl_tensor *y = n->out;
    const int64_t O = prod(y->shape, 0, axis), T = hl_numel(y) / O;
    int64_t off = 0;
    for (int k = 0; k < n->n_in; k++) {
        hl_tensor *x = n->in[k];
        const int64_t w = hl_numel(x) / O;
        if (hl_wants_grad(x)) ctx->k->shape->block_copy(O, w, y->grad + off, T, hl_grad(ctx, x), w, true);
        off += w;
    }
}
static const hl_op_desc concat_desc = {"concat", concat_backward};

hl_tensor *hl_concat(hl_ctx *ctx, int n, hl_tensor *const *xs, int axis) {
    HL_ASSERT(n >= 1 && xs, "concat: %d inputs", n);
    if (n > HL_NODE_MAX_IN) {
        /* A node holds at most HL_NODE_MAX_IN inputs: concatenate the first ones, then that with the rest. */
        hl_tensor **rest = hl_ctx_alloc(ctx, (size_t)(n - HL_NODE_MAX_IN + 1) * sizeof *rest);
        rest[0] = hl_concat(ctx, HL_NODE_MAX_IN, xs, axis);
        for (int k = HL_NODE_MAX_IN; k < n; k++) rest[k - HL_NODE_MAX_IN + 1] = xs[k];
        return hl_concat(ctx, n - HL_NODE_MAX_IN + 1, rest, axis);
    }
    const hl_tensor *x0 = xs[0];
    HL_CHECK_INPUT(ctx, x0);
    HL_ASSERT(axis >= 0 && axis < x0->ndim, "concat: axis %d of a %d-D tensor", axis, x0->ndim);
    int64_t ys[HL_MAX_DIMS];
    for (int d = 0; d < x0->ndim; d++) ys[d] = x0->shape[d];
    ys[axis] = 0;
    for (int k = 0; k < n; k++) {
        const hl_tensor *x = xs[k];
        HL_CHECK_INPUT(ctx, x);
        HL_ASSERT_SHAPE(x->ndim == x0->ndim, x, x0);
        for (int d = 0; d < x0->ndim; d++) HL_ASSERT_SHAPE(d == axis || x->shape[d] == x0->shape[d], x, x0);
        ys[axis] += x->shape[axis];
    }
    hl_tensor *y = hl_tensor_new(ctx, x0->ndim, ys);
    const int64_t O = prod(ys, 0, axis), T = hl_numel(y) / O;
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        const int64_t w = hl_numel(xs[k]) / O;
        ctx->k->shape->block_copy(O, w, xs[k]->data, w, y->data + off, T, false);
        off += w;
    }
    hl_node *node = hl_record(ctx, &concat_desc, y, n, xs);
    if (node) node->iattr[0] = axis;
    return y;
}

/* ---- slice -------------------------------------------------------------------------------------------------------- */

/* iattr: axis, start, end. The output is the column band [start·inner, end·inner) of x's O rows. */
static void slice_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (!hl_wants_grad(x)) return;
    const int axis = (int)n->iattr[0];
    const int64_t start = n->iattr[1], end = n->iattr[2];
    const int64_t O = prod(x->shape, 0, axis), inner = prod(x->shape, axis + 1, x->ndim);
    const int64_t w = (end - start) * inner;
    ctx->k->shape->block_copy(O, w, n->out->grad, w, hl_grad(ctx, x) + start * inner, x->shape[axis] * inner, true);
}
static const hl_op_desc slice_desc = {"slice", slice_backward};

hl_tensor *hl_slice(hl_ctx *ctx, hl_tensor *x, int axis, int64_t start, int64_t end) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT(axis >= 0 && axis < x->ndim, "slice: axis %d of a %d-D tensor", axis, x->ndim);
    char sb[96];
    HL_ASSERT(start >= 0 && start < end && end <= x->shape[axis], "slice: [%lld:%lld] on axis %d of %s",
              (long long)start, (long long)end, axis, hl_tensor_shape_str(x, sb, sizeof sb));
    int64_t ys[HL_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) ys[d] = x->shape[d];
    ys[axis] = end - start;
    hl_tensor *y = hl_tensor_new(ctx, x->ndim, ys);
    const int64_t O = prod(x->shape, 0, axis), inner = prod(x->shape, axis + 1, x->ndim);
    const int64_t w = (end - start) * inner;
    ctx->k->shape->block_copy(O, w, x->data + start * inner, x->shape[axis] * inner, y->data, w, false);
    hl_node *n = hl_record(ctx, &slice_desc, y, 1, (hl_tensor *[]){x});
    if (n) {
        n->iattr[0] = axis;
        n->iattr[1] = start;
        n->iattr[2] = end;
    }
    return y;
}
