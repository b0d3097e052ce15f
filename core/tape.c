/* core/tape.c — node recording and the reverse sweep; see tape.h for the rules. */
#include "core/ops/op_impl.h"

#include <string.h>

bool hl_needs_grad(const hl_ctx *ctx, int n, hl_tensor *const *in) {
    if (!hl_grad_enabled(ctx)) return false;
    for (int i = 0; i < n; i++)
        if (in[i] && (in[i]->flags & HL_T_REQUIRES_GRAD)) return true;
    return false;
}

hl_node *hl_record(hl_ctx *ctx, const hl_op_desc *op, hl_tensor *out, int n_in, hl_tensor *const *in) {
    HL_ASSERT(n_in >= 0 && n_in <= HL_NODE_MAX_IN, "op %s: %d inputs (max %d)", op->name, n_in, HL_NODE_MAX_IN);
    if (!hl_needs_grad(ctx, n_in, in)) return NULL;
    hl_node *n = hl_arena_calloc(&ctx->arena, sizeof *n);
    n->op = op;
    n->out = out;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    n->prev = ctx->tape_tail;
    ctx->tape_tail = n;
    ctx->tape_len++;
    out->flags = (out->flags | HL_T_REQUIRES_GRAD) & ~(uint32_t)HL_T_LEAF;
    return n;
}

float *hl_grad(hl_ctx *ctx, hl_tensor *t) {
    if (!t->grad) {
        HL_ASSERT_T(!(t->flags & HL_T_HEAP) && !(t->flags & HL_T_PARAM), t);
        t->grad = hl_arena_alloc(&ctx->dev_arena, (size_t)hl_tensor_numel(t) * sizeof(float));
        ctx->k->base->fill(hl_tensor_numel(t), 0.0f, t->grad);
    }
    return t->grad;
}

void hl_tape_clear(hl_ctx *ctx) {
    ctx->tape_tail = NULL;
    ctx->tape_len = 0;
}

static void hl__sweep(hl_ctx *ctx, hl_tensor *out, const float *seed_host, float seed_scalar) {
    HL_ASSERT(out != NULL, "backward from NULL");
    /* Fresh gradients for every intermediate: a node's output is never a leaf. */
    for (hl_node *n = ctx->tape_tail; n; n = n->prev) n->out->grad = NULL;
    if (!(out->flags & HL_T_REQUIRES_GRAD)) {
        hl_msg_once(HL_LOG_WARN, "backward from a tensor that does not require grad: nothing to do");
        hl_tape_clear(ctx);
        return;
    }
    int64_t nel = hl_tensor_numel(out);
    if (!out->grad && !(out->flags & (HL_T_HEAP | HL_T_PARAM)))
        out->grad = hl_arena_alloc(&ctx->dev_arena, (size_t)nel * sizeof(float));
    if (seed_host)
        ctx->k->base->from_host(nel, seed_host, out->grad);
    else
        ctx->k->base->fill(nel, seed_scalar, out->grad);
    for (hl_node *n = ctx->tape_tail; n; n = n->prev)
        if (n->out->grad) n->op->backward(ctx, n);
    hl_tape_clear(ctx);
}

void hl_backward(hl_ctx *ctx, hl_tensor *loss) {
    char s[96];
    HL_ASSERT(hl_tensor_numel(loss) == 1, "hl_backward needs a scalar loss, got %s",
              hl_tensor_shape_str(loss, s, sizeof s));
    hl__sweep(ctx, loss, NULL, 1.0f);
}

void hl_backward_seed(hl_ctx *ctx, hl_tensor *out, const float *seed) { hl__sweep(ctx, out, seed, 0.0f); }

hl_tensor *hl_detach(hl_ctx *ctx, const hl_tensor *t) {
    hl_tensor *v = hl_arena_alloc(&ctx->arena, sizeof *v);
    *v = *t;
    v->grad = NULL;
    v->flags = HL_T_LEAF;
    return v;
}
