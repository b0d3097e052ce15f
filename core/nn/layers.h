/* core/nn/layers.h — layers: parameters declared in an hl_params under a name prefix + a forward calling ops.h.
 *
 * Each layer is a small struct of borrowed tensor pointers (owned by the hl_params) and its hyper-parameters.
 * Init declares the parameters (PyTorch state_dict names: "<prefix>.weight", ".bias", ".running_mean",
 * ".running_var"), so checkpoints line up with PyTorch modules of the same structure. Values are set after
 * hl_params_alloc by hl_nn_init_default(layer, rng) (PyTorch's reset_parameters) or by loading a checkpoint.
 *
 *     hl_params p; hl_params_init(&p);
 *     hl_conv2d_layer c1; hl_conv2d_layer_init(&c1, &p, "conv1", 3, 64, 3, 1, 1, 1, true);
 *     hl_batchnorm_layer b1; hl_batchnorm_layer_init(&b1, &p, "bn1", 64, true);
 *     if ((st = hl_params_alloc(&p)) < 0) goto done;
 *     hl_rng r = hl_rng_make(seed, 1);
 *     hl_nn_init_default(&c1, &r); hl_nn_init_default(&b1, &r);
 *     ... y = hl_batchnorm_layer_forward(ctx, &b1, hl_conv2d_layer_forward(ctx, &c1, x));
 *
 * Shapes: linear x [B,I] -> [B,O], weight [O,I]; conv2d x [B,C,H,W] -> [B,O,Ho,Wo], weight [O,C,k,k];
 * conv_transpose2d weight [C,O,k,k]; norms weight/bias [C].
 *
 * PyTorch default initialisation (hl_nn_init_default):
 *   linear / conv2d / conv_transpose2d: weight kaiming_uniform(a = √5) = U(−1/√fan_in, 1/√fan_in), bias
 *     U(−1/√fan_in, 1/√fan_in), fan_in from the weight (init.h; for conv-transpose O·k·k);
 *   batch/instance norm: weight 1, bias 0; running_mean 0, running_var 1 (set by hl_params_alloc).
 * Each init draws from hl_rng_split(r, call index) so later layers do not depend on earlier layers' sizes; r's
 * counter advances by one per call.
 *
 * Batch norm: momentum 0.1, eps 1e-5 (PyTorch defaults; the fields may be changed after init), running statistics
 * always tracked (buffers in the hl_params, saved in checkpoints). num_batches_tracked is not kept.
 * Instance norm: affine optional (PyTorch's default is affine=False), no running statistics.
 */
#ifndef HL_NN_LAYERS_H
#define HL_NN_LAYERS_H

#include "core/nn/params.h"
#include "core/ops/ops.h"
#include "core/rng.h"

typedef struct hl_linear_layer {
    hl_tensor *w, *b; /* [O,I], [O] or NULL */
    int in, out;
} hl_linear_layer;

typedef struct hl_conv2d_layer {
    hl_tensor *w, *b; /* [O,C,k,k], [O] or NULL */
    int in, out, k;
    hl_conv_opts opts;
} hl_conv2d_layer;

typedef struct hl_conv_transpose2d_layer {
    hl_tensor *w, *b; /* [C,O,k,k], [O] or NULL */
    int in, out, k;
    hl_conv_opts opts;
} hl_conv_transpose2d_layer;

typedef struct hl_batchnorm_layer {
    hl_tensor *w, *b;                  /* gamma, beta [C] or NULL (affine = false) */
    hl_tensor *running_mean, *running_var; /* buffers [C] */
    int c;
    float momentum, eps;
    bool frozen; /* eval mode whatever ctx->train says (a frozen stage of a fine-tuned backbone); false by init */
} hl_batchnorm_layer;

typedef struct hl_instancenorm_layer {
    hl_tensor *w, *b; /* [C] or NULL */
    int c;
    float eps;
} hl_instancenorm_layer;

void hl_linear_layer_init(hl_linear_layer *l, hl_params *p, const char *prefix, int in, int out, bool bias);
/* Square kernel k, stride, pad, dilation. */
void hl_conv2d_layer_init(hl_conv2d_layer *l, hl_params *p, const char *prefix, int in, int out, int k, int stride,
                          int pad, int dilation, bool bias);
/* out_pad: extra rows/cols of the output (PyTorch's output_padding, < stride or < dilation). */
void hl_conv_transpose2d_layer_init(hl_conv_transpose2d_layer *l, hl_params *p, const char *prefix, int in, int out,
                                    int k, int stride, int pad, int out_pad, int dilation, bool bias);
void hl_batchnorm_layer_init(hl_batchnorm_layer *l, hl_params *p, const char *prefix, int c, bool affine);
void hl_instancenorm_layer_init(hl_instancenorm_layer *l, hl_params *p, const char *prefix, int c, bool affine);

hl_tensor *hl_linear_layer_forward(hl_ctx *ctx, const hl_linear_layer *l, hl_tensor *x);
hl_tensor *hl_conv2d_layer_forward(hl_ctx *ctx, const hl_conv2d_layer *l, hl_tensor *x);
hl_tensor *hl_conv_transpose2d_layer_forward(hl_ctx *ctx, const hl_conv_transpose2d_layer *l, hl_tensor *x);
/* Train mode (ctx->train) uses batch statistics and updates the running ones; eval mode uses the running ones. A
 * frozen layer (l->frozen) always runs in eval mode. */
hl_tensor *hl_batchnorm_layer_forward(hl_ctx *ctx, const hl_batchnorm_layer *l, hl_tensor *x);
/* relu(layer(x)) as one op (hl_conv2d_relu, hl_batchnorm_relu): same values and gradients, less memory. */
hl_tensor *hl_conv2d_layer_forward_relu(hl_ctx *ctx, const hl_conv2d_layer *l, hl_tensor *x);
hl_tensor *hl_batchnorm_layer_forward_relu(hl_ctx *ctx, const hl_batchnorm_layer *l, hl_tensor *x);
hl_tensor *hl_instancenorm_layer_forward(hl_ctx *ctx, const hl_instancenorm_layer *l, hl_tensor *x);

/* PyTorch default initialisation of one layer (after hl_params_alloc); see above. */
void hl_nn_init_default_linear(hl_linear_layer *l, hl_rng *r);
void hl_nn_init_default_conv2d(hl_conv2d_layer *l, hl_rng *r);
void hl_nn_init_default_conv_transpose2d(hl_conv_transpose2d_layer *l, hl_rng *r);
void hl_nn_init_default_batchnorm(hl_batchnorm_layer *l, hl_rng *r);
void hl_nn_init_default_instancenorm(hl_instancenorm_layer *l, hl_rng *r);

#define hl_nn_init_default(layer, rng)                                                                                \
    _Generic((layer),                                                                                                 \
        hl_linear_layer *: hl_nn_init_default_linear,                                                                 \
        hl_conv2d_layer *: hl_nn_init_default_conv2d,                                                                 \
        hl_conv_transpose2d_layer *: hl_nn_init_default_conv_transpose2d,                                             \
        hl_batchnorm_layer *: hl_nn_init_default_batchnorm,                                                           \
        hl_instancenorm_layer *: hl_nn_init_default_instancenorm)((layer), (rng))

#endif
