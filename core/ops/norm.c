/* core/ops/norm.c — batch norm, instance norm, dropout (forward + backward). Kernels: core/kern/norm.h.
 *
 * Both norms run on the same kernels by viewing x as [N,C,S] and normalising each of the C "channels" over its N·S
 * values (batch norm: N = B, S = H·W; instance norm: N = 1, C = B·C, S = H·W, affine index c % C). The node keeps
 * the statistics used in the forward in node->aux: mean[C] followed by invstd[C] (device memory from the arena), so
 * the backward never recomputes them.
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

/* iattr of a norm node: the [N,C,S] view, the affine channel count G, and whether the statistics came from the
 * batch (train-mode batch norm and instance norm: gradient through mean and variance) or are constants. */
enum { NI_N, NI_C, NI_S, NI_G, NI_BATCH_STATS, NI_RELU };

static void check_affine(hl_ctx *ctx, const hl_tensor *x, const hl_tensor *p, int64_t G) {
    if (!p) return;
    HL_CHECK_INPUT(ctx, p);
    HL_ASSERT_SHAPE(p->ndim == 1 && p->shape[0] == G, p, x);
}

/* x̂ = (x − μ)σ⁻¹, y = γx̂ + β. Gradients per channel c (Σ over its N·S values):
 *   dβ = Σ dy,  dγ = Σ dy·x̂                         (summed over the B copies of a channel for instance norm)
 *   dx: see hl_kern_norm.bwd_dx (batch statistics: dy minus its projection on 1 and x̂; constants: γσ⁻¹·dy). */
static void norm_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    const int64_t N = n->iattr[NI_N], C = n->iattr[NI_C], S = n->iattr[NI_S], G = n->iattr[NI_G];
    const bool batch_stats = n->iattr[NI_BATCH_STATS] != 0;
    const bool want_x = hl_wants_grad(x), want_g = hl_wants_grad(gamma), want_b = hl_wants_grad(beta);
    const float *mean = n->aux, *invstd = mean + C, *dy = n->out->grad;
    if (!want_x && !want_g && !want_b) return;
    /* hl_batchnorm_relu: through the ReLU first, in place (the backward needs x and the statistics, not y) */
    if (n->iattr[NI_RELU]) ctx->k->ew->relu_mask(hl_numel(n->out), n->out->data, n->out->grad);

    float *sdy = NULL, *sdyx = NULL;
    if (want_g || want_b || (want_x && batch_stats)) {
        hl_tensor *sums = hl_tensor_new(ctx, 1, HL_SHAPE(2 * C));
        sdy = sums->data;
        sdyx = sdy + C;
        ctx->k->norm->bwd_reduce(N, C, S, x->data, mean, invstd, dy, sdy, sdyx);
    }
    /* C = (C/G) blocks of G affine channels (one block for batch norm, B for instance norm). */
    for (int64_t blk = 0; blk < C / G; blk++) {
        if (want_g) ctx->k->base->axpy(G, 1.0f, sdyx + blk * G, hl_grad(ctx, gamma));
        if (want_b) ctx->k->base->axpy(G, 1.0f, sdy + blk * G, hl_grad(ctx, beta));
    }
    if (want_x)
        ctx->k->norm->bwd_dx(N, C, S, G, x->data, mean, invstd, gamma ? gamma->data : NULL, dy, sdy, sdyx,
                             batch_stats, hl_grad(ctx, x));
}

static const hl_op_desc batchnorm_desc = {"batchnorm", norm_backward};
static const hl_op_desc instancenorm_desc = {"instancenorm", norm_backward};

/* Shared tail: normalise with the statistics in stats ([2C]: mean, invstd) and record the node. */
static hl_tensor *norm_finish(hl_ctx *ctx, const hl_op_desc *desc, hl_tensor *x, hl_tensor *gamma,
                              hl_tensor *beta, hl_tensor *stats, int64_t N, int64_t C, int64_t S, int64_t G,
                              bool batch_stats, bool relu) {
    const float *mean = stats->data, *invstd = stats->data + C;
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    ctx->k->norm->normalize(N, C, S, G, x->data, mean, invstd, gamma ? gamma->data : NULL,
                            beta ? beta->data : NULL, y->data);
    if (relu) ctx->k->ew->unary(HL_EW_RELU, hl_numel(y), 0.0f, 0.0f, y->data, y->data);
    hl_node *n = hl_record(ctx, desc, y, 3, (hl_tensor *[]){x, gamma, beta});
    if (n) {
        n->aux = stats->data;
        n->iattr[NI_N] = N;
        n->iattr[NI_C] = C;
        n->iattr[NI_S] = S;
        n->iattr[NI_G] = G;
        n->iattr[NI_BATCH_STATS] = batch_stats;
        n->iattr[NI_RELU] = relu;
    }
    return y;
}

static hl_tensor *batchnorm_impl(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float *running_mean,
                                 float *running_var, float momentum, float eps, bool relu) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT_T(x->ndim >= 2, x);
    const int64_t N = x->shape[0], C = x->shape[1], S = hl_numel(x) / (N * C);
    check_affine(ctx, x, gamma, C);
    check_affine(ctx, x, beta, C);
    HL_ASSERT(eps >= 0.0f, "batchnorm: eps %g < 0", (double)eps);
    HL_ASSERT((running_mean == NULL) == (running_var == NULL), "batchnorm: running mean and var go together");

    hl_tensor *stats = hl_tensor_new(ctx, 1, HL_SHAPE(2 * C)); /* mean[C], invstd[C] */
    if (ctx->train) {
        char s[96];
        HL_ASSERT(N * S > 1, "batchnorm in train mode needs more than one value per channel, got %s",
                  hl_tensor_shape_str(x, s, sizeof s));
        ctx->k->norm->stats(N, C, S, x->data, eps, momentum, running_mean, running_var, stats->data,
                            stats->data + C);
    } else {
        HL_ASSERT(running_mean && running_var, "batchnorm in eval mode needs running statistics");
        ctx->k->norm->stats_running(C, eps, running_mean, running_var, stats->data, stats->data + C);
    }
    return norm_finish(ctx, &batchnorm_desc, x, gamma, beta, stats, N, C, S, C, ctx->train, relu);
}

hl_tensor *hl_batchnorm(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float *running_mean,
                        float *running_var, float momentum, float eps) {
    return batchnorm_impl(ctx, x, gamma, beta, running_mean, running_var, momentum, eps, false);
}

hl_tensor *hl_batchnorm_relu(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float *running_mean,
                             float *running_var, float momentum, float eps) {
    return batchnorm_impl(ctx, x, gamma, beta, running_mean, running_var, momentum, eps, true);
}

hl_tensor *hl_instancenorm(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float eps) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT_T(x->ndim >= 3, x);
    const int64_t B = x->shape[0], C = x->shape[1], S = hl_numel(x) / (B * C);
    check_affine(ctx, x, gamma, C);
    check_affine(ctx, x, beta, C);
    HL_ASSERT(eps >= 0.0f, "instancenorm: eps %g < 0", (double)eps);

    hl_tensor *stats = hl_tensor_new(ctx, 1, HL_SHAPE(2 * B * C));
    ctx->k->norm->stats(1, B * C, S, x->data, eps, 0.0f, NULL, NULL, stats->data, stats->data + B * C);
    return norm_finish(ctx, &instancenorm_desc, x, gamma, beta, stats, 1, B * C, S, C, true, false);
}

/* ---- dropout ------------------------------------------------------------------------------------------------------ */

/* y = m ⊙ x with m ∈ {0, 1/(1−p)} saved in node->saved[0]; dx += m ⊙ dy. */
static void dropout_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0];
    if (hl_wants_grad(x))
        ctx->k->norm->dropout_bwd(hl_numel(x), n->saved[0]->data, n->out->grad, hl_grad(ctx, x));
}
static const hl_op_desc dropout_desc = {"dropout", dropout_backward};

/* Element i of this call uses RNG index ctx->rng.counter + i; the counter then advances by numel in train mode
 * whatever p is, so later draws do not depend on p. Eval mode and p = 0 return x itself (no copy, no node). */
hl_tensor *hl_dropout(hl_ctx *ctx, hl_tensor *x, float p) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT(p >= 0.0f && p <= 1.0f, "dropout: p = %g outside [0, 1]", (double)p);
    if (!ctx->train) return x;
    const int64_t n = hl_numel(x);
    const uint64_t counter = ctx->rng.counter;
    ctx->rng.counter += (uint64_t)n;
    if (p == 0.0f) return x;

    hl_tensor *in[1] = {x};
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    hl_tensor *mask = hl_needs_grad(ctx, 1, in) ? hl_tensor_new_like(ctx, x) : NULL;
    ctx->k->norm->dropout_fwd(n, p, ctx->rng.seed, ctx->rng.stream, counter, x->data, y->data,
                              mask ? mask->data : NULL);
    hl_node *node = hl_record(ctx, &dropout_desc, y, 1, in);
    if (node) node->saved[0] = mask;
    return y;
}
