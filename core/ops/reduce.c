/* core/ops/reduce.c — sum, mean, max, logsumexp over an axis bit mask (forward + backward).
 * Kernels: core/kern/reduce.h.
 *
 * Forward planning: drop size-1 axes, merge neighbouring axes with the same status (reduced / kept) into groups.
 * Groups alternate, and with at most 4 axes there are at most two reduced groups:
 *   one reduced group   x = [P, R, Q] (P = kept groups before it, Q = after): a single kernel call;
 *   two reduced groups  reduce the later one first into an arena temporary, then the earlier one. Sum, max and
 *                       logsumexp all compose this way (lse over a∪b = lse_a(lse_b)).
 * Backward uses the 4-D shape of x and the axis mask directly (broadcast of dy over the reduced axes).
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

typedef enum { RK_SUM, RK_MAX, RK_LSE } reduce_kind;

/* iattr of a reduce node: the normalised axis mask and the kind; attr[0] = scale (mean: 1/count). */
enum { RI_AXES, RI_KIND };

static void kernel_prq(hl_ctx *ctx, reduce_kind kind, int64_t P, int64_t R, int64_t Q, float scale, const float *x,
                       float *y) {
    switch (kind) {
    case RK_SUM: ctx->k->reduce->sum(P, R, Q, scale, x, y); break;
    case RK_MAX: ctx->k->reduce->max(P, R, Q, x, y); break;
    case RK_LSE: ctx->k->reduce->logsumexp(P, R, Q, x, y); break;
    }
}

static int64_t prod(const int64_t *v, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= v[i];
    return p;
}

static void reduce_forward(hl_ctx *ctx, reduce_kind kind, const hl_tensor *x, unsigned axes, float scale,
                           float *y) {
    int64_t gs[HL_MAX_DIMS];
    bool gr[HL_MAX_DIMS];
    int ng = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (x->shape[d] == 1) continue;
        const bool red = (axes >> d) & 1u;
        if (ng > 0 && gr[ng - 1] == red) {
            gs[ng - 1] *= x->shape[d];
        } else {
            gs[ng] = x->shape[d];
            gr[ng] = red;
            ng++;
        }
    }
    int rg[2], nr = 0;
    for (int g = 0; g < ng; g++)
        if (gr[g]) rg[nr++] = g;
    if (nr == 0) { /* nothing to reduce: y = x (a reduction over one element per output) */
        kernel_prq(ctx, kind, 1, 1, hl_numel(x), scale, x->data, y);
        return;
    }
    if (nr == 1) {
        kernel_prq(ctx, kind, prod(gs, 0, rg[0]), gs[rg[0]], prod(gs, rg[0] + 1, ng), scale, x->data, y);
        return;
    }
    /* Two reduced groups g1 < g2: tmp = reduce_{g2} x, laid out as [groups before g2, groups after g2]. */
    const int g1 = rg[0], g2 = rg[1];
    const int64_t P1 = prod(gs, 0, g2), Q1 = prod(gs, g2 + 1, ng);
    float *tmp = hl_tensor_new(ctx, 1, HL_SHAPE(P1 * Q1))->data;
    kernel_prq(ctx, kind, P1, gs[g2], Q1, 1.0f, x->data, tmp);
    kernel_prq(ctx, kind, prod(gs, 0, g1), gs[g1], prod(gs, g1 + 1, g2) * Q1, scale, tmp, y);
}

static void reduce_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *y = n->out;
    if (!hl_wants_grad(x)) return;
    const unsigned axes = (unsigned)n->iattr[RI_AXES];
    int64_t shape[4];
    for (int d = 0; d < 4; d++) shape[d] = d < x->ndim ? x->shape[d] : 1;
    float *dx = hl_grad(ctx, x);
    switch ((reduce_kind)n->iattr[RI_KIND]) {
    case RK_SUM: ctx->k->reduce->sum_bwd(shape, axes, n->attr[0], y->grad, dx); break;
    case RK_MAX: ctx->k->reduce->max_bwd(shape, axes, x->data, y->data, y->grad, dx); break;
    case RK_LSE: ctx->k->reduce->logsumexp_bwd(shape, axes, x->data, y->data, y->grad, dx); break;
    }
}

static const hl_op_desc sum_desc = {"sum", reduce_backward};
static const hl_op_desc mean_desc = {"mean", reduce_backward};
static const hl_op_desc max_desc = {"max", reduce_backward};
static const hl_op_desc lse_desc = {"logsumexp", reduce_backward};

static hl_tensor *reduce_op(hl_ctx *ctx, const hl_op_desc *desc, reduce_kind kind, bool is_mean, hl_tensor *x,
                            unsigned axes, bool keepdim) {
    HL_CHECK_INPUT(ctx, x);
    const unsigned all = (1u << x->ndim) - 1u;
    if (axes == HL_AXES_ALL) axes = all;
    HL_ASSERT(!(axes & ~all), "%s: axis mask 0x%x names an axis beyond ndim %d", desc->name, axes, x->ndim);

    int64_t oshape[HL_MAX_DIMS], count = 1;
    int ond = 0;
    for (int d = 0; d < x->ndim; d++) {
        if ((axes >> d) & 1u) {
            count *= x->shape[d];
            if (keepdim) oshape[ond++] = 1;
        } else {
            oshape[ond++] = x->shape[d];
        }
    }
    const float scale = is_mean ? 1.0f / (float)count : 1.0f;
    hl_tensor *y = hl_tensor_new(ctx, ond, oshape);
    reduce_forward(ctx, kind, x, axes, scale, y->data);
    hl_node *n = hl_record(ctx, desc, y, 1, (hl_tensor *[]){x});
    if (n) {
        n->iattr[RI_AXES] = axes;
        n->iattr[RI_KIND] = kind;
        n->attr[0] = scale;
    }
    return y;
}

hl_tensor *hl_sum(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    return reduce_op(ctx, &sum_desc, RK_SUM, false, x, axes, keepdim);
}

hl_tensor *hl_mean(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    return reduce_op(ctx, &mean_desc, RK_SUM, true, x, axes, keepdim);
}

hl_tensor *hl_max(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    return reduce_op(ctx, &max_desc, RK_MAX, false, x, axes, keepdim);
}

hl_tensor *hl_logsumexp(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    return reduce_op(ctx, &lse_desc, RK_LSE, false, x, axes, keepdim);
}
