/* core/nn/layers.c — layer declaration, forward and PyTorch default init; see layers.h. */
#include "core/nn/layers.h"

#include <math.h>
#include <stdio.h>

#include "core/nn/init.h"

/* Declares "<prefix>.<suffix>". */
static hl_tensor *add(hl_params *p, const char *prefix, const char *suffix, int ndim, const int64_t *shape,
                      bool buffer, float init) {
    char name[256];
    int n = snprintf(name, sizeof name, "%s%s%s", prefix ? prefix : "", prefix && prefix[0] ? "." : "", suffix);
    HL_ASSERT(n > 0 && (size_t)n < sizeof name, "parameter name '%s.%s' too long", prefix, suffix);
    return buffer ? hl_params_add_buffer(p, name, ndim, shape, init) : hl_params_add(p, name, ndim, shape);
}

void hl_linear_layer_init(hl_linear_layer *l, hl_params *p, const char *prefix, int in, int out, bool bias) {
    HL_ASSERT(in >= 1 && out >= 1, "linear '%s': in %d, out %d", prefix, in, out);
    l->in = in;
    l->out = out;
    l->w = add(p, prefix, "weight", 2, HL_SHAPE(out, in), false, 0.0f);
    l->b = bias ? add(p, prefix, "bias", 1, HL_SHAPE(out), false, 0.0f) : NULL;
}

void hl_conv2d_layer_init(hl_conv2d_layer *l, hl_params *p, const char *prefix, int in, int out, int k, int stride,
                          int pad, int dilation, bool bias) {
    HL_ASSERT(in >= 1 && out >= 1 && k >= 1 && stride >= 1 && pad >= 0 && dilation >= 1,
              "conv2d '%s': in %d out %d k %d stride %d pad %d dilation %d", prefix, in, out, k, stride, pad, dilation);
    l->in = in;
    l->out = out;
    l->k = k;
    l->opts = HL_CONV_OPTS(stride, pad, dilation);
    l->w = add(p, prefix, "weight", 4, HL_SHAPE(out, in, k, k), false, 0.0f);
    l->b = bias ? add(p, prefix, "bias", 1, HL_SHAPE(out), false, 0.0f) : NULL;
}

void hl_conv_transpose2d_layer_init(hl_conv_transpose2d_layer *l, hl_params *p, const char *prefix, int in, int out,
                                    int k, int stride, int pad, int out_pad, int dilation, bool bias) {
    HL_ASSERT(in >= 1 && out >= 1 && k >= 1 && stride >= 1 && pad >= 0 && dilation >= 1 && out_pad >= 0 &&
                  (out_pad < stride || out_pad < dilation),
              "conv_transpose2d '%s': in %d out %d k %d stride %d pad %d out_pad %d dilation %d", prefix, in, out, k,
              stride, pad, out_pad, dilation);
    l->in = in;
    l->out = out;
    l->k = k;
    l->opts = HL_CONV_OPTS(stride, pad, dilation);
    l->opts.out_pad[0] = l->opts.out_pad[1] = out_pad;
    l->w = add(p, prefix, "weight", 4, HL_SHAPE(in, out, k, k), false, 0.0f);
    l->b = bias ? add(p, prefix, "bias", 1, HL_SHAPE(out), false, 0.0f) : NULL;
}

void hl_batchnorm_layer_init(hl_batchnorm_layer *l, hl_params *p, const char *prefix, int c, bool affine) {
    HL_ASSERT(c >= 1, "batchnorm '%s': %d channels", prefix, c);
    l->c = c;
    l->momentum = 0.1f;
    l->eps = 1e-5f;
    l->frozen = false;
    l->w = affine ? add(p, prefix, "weight", 1, HL_SHAPE(c), false, 0.0f) : NULL;
    l->b = affine ? add(p, prefix, "bias", 1, HL_SHAPE(c), false, 0.0f) : NULL;
    l->running_mean = add(p, prefix, "running_mean", 1, HL_SHAPE(c), true, 0.0f);
    l->running_var = add(p, prefix, "running_var", 1, HL_SHAPE(c), true, 1.0f);
}

void hl_instancenorm_layer_init(hl_instancenorm_layer *l, hl_params *p, const char *prefix, int c, bool affine) {
    HL_ASSERT(c >= 1, "instancenorm '%s': %d channels", prefix, c);
    l->c = c;
    l->eps = 1e-5f;
    l->w = affine ? add(p, prefix, "weight", 1, HL_SHAPE(c), false, 0.0f) : NULL;
    l->b = affine ? add(p, prefix, "bias", 1, HL_SHAPE(c), false, 0.0f) : NULL;
}

/* ---- forward -------------------------------------------------------------------------------------------------- */

hl_tensor *hl_linear_layer_forward(hl_ctx *ctx, const hl_linear_layer *l, hl_tensor *x) {
    HL_ASSERT_SHAPE(x->ndim == 2 && x->shape[1] == l->in, x, l->w);
    return hl_linear(ctx, x, l->w, l->b);
}

hl_tensor *hl_conv2d_layer_forward(hl_ctx *ctx, const hl_conv2d_layer *l, hl_tensor *x) {
    HL_ASSERT_SHAPE(x->ndim == 4 && x->shape[1] == l->in, x, l->w);
    return hl_conv2d(ctx, x, l->w, l->b, l->opts);
}

hl_tensor *hl_conv_transpose2d_layer_forward(hl_ctx *ctx, const hl_conv_transpose2d_layer *l, hl_tensor *x) {
    HL_ASSERT_SHAPE(x->ndim == 4 && x->shape[1] == l->in, x, l->w);
    return hl_conv_transpose2d(ctx, x, l->w, l->b, l->opts);
}

static hl_tensor *batchnorm_forward(hl_ctx *ctx, const hl_batchnorm_layer *l, hl_tensor *x, bool relu) {
    HL_ASSERT_SHAPE((x->ndim == 2 || x->ndim == 4) && x->shape[1] == l->c, x, l->running_mean);
    const bool train = ctx->train;
    if (l->frozen) ctx->train = false; /* the op reads the mode from the ctx */
    hl_tensor *y = (relu ? hl_batchnorm_relu : hl_batchnorm)(ctx, x, l->w, l->b, l->running_mean->data,
                                                            l->running_var->data, l->momentum, l->eps);
    ctx->train = train;
    return y;
}

hl_tensor *hl_batchnorm_layer_forward(hl_ctx *ctx, const hl_batchnorm_layer *l, hl_tensor *x) {
    return batchnorm_forward(ctx, l, x, false);
}

hl_tensor *hl_batchnorm_layer_forward_relu(hl_ctx *ctx, const hl_batchnorm_layer *l, hl_tensor *x) {
    return batchnorm_forward(ctx, l, x, true);
}

hl_tensor *hl_conv2d_layer_forward_relu(hl_ctx *ctx, const hl_conv2d_layer *l, hl_tensor *x) {
    HL_ASSERT_SHAPE(x->ndim == 4 && x->shape[1] == l->in, x, l->w);
    return hl_conv2d_relu(ctx, x, l->w, l->b, l->opts);
}

hl_tensor *hl_instancenorm_layer_forward(hl_ctx *ctx, const hl_instancenorm_layer *l, hl_tensor *x) {
    HL_ASSERT_T(x->ndim == 4 && x->shape[1] == l->c, x);
    return hl_instancenorm(ctx, x, l->w, l->b, l->eps);
}

/* ---- PyTorch default initialisation ---------------------------------------------------------------------------- */

/* The next per-layer sub-stream of r (advances r by one). */
static hl_rng next_stream(hl_rng *r) { return hl_rng_split(r, r->counter++); }

/* _ConvNd / Linear reset_parameters: kaiming_uniform_(w, a=√5) then bias ~ U(−1/√fan_in, 1/√fan_in). */
static void reset_affine(hl_tensor *w, hl_tensor *b, hl_rng *r) {
    HL_ASSERT(w && w->data, "layer used before hl_params_alloc");
    hl_rng s = next_stream(r);
    hl_init_kaiming_uniform(w, &s, sqrtf(5.0f), HL_FAN_IN, HL_NONLIN_LEAKY_RELU);
    if (b) {
        int64_t fi, fo;
        hl_init_fans(w, &fi, &fo);
        float bound = (float)(1.0 / sqrt((double)fi));
        hl_init_uniform(b, &s, -bound, bound);
    }
}

static void reset_norm(hl_tensor *w, hl_tensor *b) {
    if (w) hl_init_constant(w, 1.0f);
    if (b) hl_init_constant(b, 0.0f);
}

void hl_nn_init_default_linear(hl_linear_layer *l, hl_rng *r) { reset_affine(l->w, l->b, r); }
void hl_nn_init_default_conv2d(hl_conv2d_layer *l, hl_rng *r) { reset_affine(l->w, l->b, r); }
void hl_nn_init_default_conv_transpose2d(hl_conv_transpose2d_layer *l, hl_rng *r) { reset_affine(l->w, l->b, r); }

void hl_nn_init_default_batchnorm(hl_batchnorm_layer *l, hl_rng *r) {
    (void)next_stream(r);
    reset_norm(l->w, l->b);
    hl_init_constant(l->running_mean, 0.0f);
    hl_init_constant(l->running_var, 1.0f);
}

void hl_nn_init_default_instancenorm(hl_instancenorm_layer *l, hl_rng *r) {
    (void)next_stream(r);
    reset_norm(l->w, l->b);
}
