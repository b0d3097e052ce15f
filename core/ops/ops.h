/* core/ops/ops.h — the differentiable ops. Each returns a new arena tensor (valid until hl_ctx_reset) and records a
 * tape node when an input requires grad (see core/tape.h). Inputs must be contiguous and on the ctx's device.
 * Misuse (shape mismatch, NULL) is a programming error: HL_ASSERT prints the shapes and aborts.
 *
 * Shape letters: B batch, C channels, H,W spatial, K bits/features, L labels/classes, O output channels.
 * Broadcasting (binary elementwise ops): numpy rules, shapes aligned at the trailing dimension; a size-1 dimension
 * (or a missing leading one) stretches. The gradient of a broadcast input is summed over the stretched dimensions.
 *
 * Implementations, forward and backward side by side, one file per family:
 *   elementwise.c  activation.c  matmul.c  conv.c  pool.c  norm.c  reduce.c  shape.c  loss.c  warp.c
 */
#ifndef HL_OPS_H
#define HL_OPS_H

#include "core/ctx.h"

/* ---- elementwise.c: arithmetic with broadcasting ---------------------------------------------------------------- */
hl_tensor *hl_add(hl_ctx *ctx, hl_tensor *a, hl_tensor *b); /* a + b */
hl_tensor *hl_sub(hl_ctx *ctx, hl_tensor *a, hl_tensor *b); /* a − b */
hl_tensor *hl_mul(hl_ctx *ctx, hl_tensor *a, hl_tensor *b); /* a ⊙ b */
hl_tensor *hl_div(hl_ctx *ctx, hl_tensor *a, hl_tensor *b); /* a / b; d/db = −a/b² */
/* relu(a + b) as one op (a ResNet block's end): the same values and gradients as hl_relu(hl_add(a, b)) without the
 * sum's tensor and its gradient (as hl_conv2d_relu). */
hl_tensor *hl_add_relu(hl_ctx *ctx, hl_tensor *a, hl_tensor *b);
hl_tensor *hl_scale(hl_ctx *ctx, hl_tensor *a, float s);    /* s·a */
hl_tensor *hl_add_scalar(hl_ctx *ctx, hl_tensor *a, float s); /* a + s */
hl_tensor *hl_pow(hl_ctx *ctx, hl_tensor *a, float p);      /* a^p (C powf; d/da = p·a^(p−1)) */
/* clamp(a, lo, hi); gradient 1 where lo <= a <= hi, 0 outside (PyTorch's convention at the bounds). */
hl_tensor *hl_clamp(hl_ctx *ctx, hl_tensor *a, float lo, float hi);
hl_tensor *hl_abs(hl_ctx *ctx, hl_tensor *a);               /* |a|; gradient sign(a), 0 at 0 */
hl_tensor *hl_exp(hl_ctx *ctx, hl_tensor *a);
hl_tensor *hl_log(hl_ctx *ctx, hl_tensor *a);               /* natural log; a > 0 expected */

/* ---- activation.c ----------------------------------------------------------------------------------------------- */
hl_tensor *hl_relu(hl_ctx *ctx, hl_tensor *x);                     /* max(x, 0); gradient 0 at 0 */
hl_tensor *hl_leaky_relu(hl_ctx *ctx, hl_tensor *x, float slope);  /* x if x > 0 else slope·x */
hl_tensor *hl_sigmoid(hl_ctx *ctx, hl_tensor *x);
/* tanh(β·x): HashNet/DHTA-style continuation; gradient β·(1 − y²). hl_tanh is β = 1. */
hl_tensor *hl_tanh_scaled(hl_ctx *ctx, hl_tensor *x, float beta);
#define hl_tanh(ctx, x) hl_tanh_scaled((ctx), (x), 1.0f)
hl_tensor *hl_softplus(hl_ctx *ctx, hl_tensor *x);                 /* log(1 + e^x), stable for large |x| */
/* sign(x) ∈ {−1, 0, +1}; ZERO gradient (codes for evaluation). */
hl_tensor *hl_sign(hl_ctx *ctx, hl_tensor *x);
/* sign with the straight-through estimator: forward sign(x) with sign(0) = +1 (METRICS.md code convention),
 * backward passes the upstream gradient unchanged (identity). */
hl_tensor *hl_sign_ste(hl_ctx *ctx, hl_tensor *x);

/* ---- matmul.c (GEMM kernel) ------------------------------------------------------------------------------------- */
/* [M,K] × [K,N] -> [M,N]; ta/tb use a stored [K,M] / [N,K] operand transposed. */
hl_tensor *hl_matmul_t(hl_ctx *ctx, hl_tensor *a, hl_tensor *b, bool ta, bool tb);
#define hl_matmul(ctx, a, b) hl_matmul_t((ctx), (a), (b), false, false)
/* x [B,I], w [O,I] (PyTorch layout), bias [O] or NULL -> [B,O] = x·wᵀ + bias. */
hl_tensor *hl_linear(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias);

/* ---- conv.c (im2col + GEMM) ------------------------------------------------------------------------------------- */
typedef struct hl_conv_opts {
    int stride[2];   /* (h, w), >= 1 */
    int pad[2];      /* zero padding (h, w) */
    int dilation[2]; /* >= 1 */
    int out_pad[2];  /* conv_transpose2d only: extra rows/cols on the bottom/right of the output */
} hl_conv_opts;
/* Square helper: HL_CONV_OPTS(stride, pad, dilation). */
#define HL_CONV_OPTS(s, p, d) ((hl_conv_opts){{(s), (s)}, {(p), (p)}, {(d), (d)}, {0, 0}})
/* x [B,C,H,W], w [O,C,kh,kw], bias [O] or NULL -> [B,O,Ho,Wo], Ho = (H + 2p − d(kh−1) − 1)/s + 1. */
hl_tensor *hl_conv2d(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o);
/* relu(conv2d(x, w, bias)) as one op: the same values and gradients, without the pre-activation tensor and its
 * gradient (memory of VGG/AlexNet-sized networks). */
hl_tensor *hl_conv2d_relu(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o);
/* The adjoint of conv2d: x [B,C,H,W], w [C,O,kh,kw] (PyTorch layout), bias [O] or NULL -> [B,O,Ho,Wo],
 * Ho = (H − 1)s − 2p + d(kh − 1) + out_pad + 1. */
hl_tensor *hl_conv_transpose2d(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o);

/* ---- pool.c ------------------------------------------------------------------------------------------------------ */
/* x [B,C,H,W] -> [B,C,Ho,Wo], Ho = (H + 2·pad − k)/stride + 1. Max: padding never wins; gradient to the first
 * maximum in the window. Avg: divides by k² (padding counted, PyTorch's count_include_pad=True). */
hl_tensor *hl_maxpool2d(hl_ctx *ctx, hl_tensor *x, int k, int stride, int pad);
hl_tensor *hl_avgpool2d(hl_ctx *ctx, hl_tensor *x, int k, int stride, int pad);
hl_tensor *hl_global_avgpool(hl_ctx *ctx, hl_tensor *x); /* [B,C,H,W] -> [B,C] */
/* PyTorch's AdaptiveAvgPool2d((Ho, Wo)): x [B,C,H,W] -> [B,C,Ho,Wo], output row i the mean of input rows
 * ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1 (columns likewise), any H, W, Ho, Wo >= 1 (Ho > H repeats rows). */
hl_tensor *hl_adaptive_avgpool2d(hl_ctx *ctx, hl_tensor *x, int64_t Ho, int64_t Wo);

/* ---- norm.c ------------------------------------------------------------------------------------------------------ */
/* Batch norm over x [B,C] (1-D) or [B,C,H,W] (2-D) per channel. gamma, beta [C] or NULL (no affine).
 * Train mode (ctx->train): normalise with the batch mean and biased variance; if running_mean/var are non-NULL
 * (float arrays [C] in the ctx device's memory, e.g. a layer's buffers in its hl_params) update them: r = (1 − momentum)·r + momentum·stat, with the unbiased
 * variance (PyTorch). Eval mode: normalise with the running statistics (both required).
 * Accepts [B,C,L] too (BatchNorm1d). Train mode needs more than one value per channel (B·H·W > 1). */
hl_tensor *hl_batchnorm(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float *running_mean,
                        float *running_var, float momentum, float eps);
/* relu(hl_batchnorm(...)) as one op (same values and gradients, no intermediate tensor; as hl_conv2d_relu). */
hl_tensor *hl_batchnorm_relu(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float *running_mean,
                             float *running_var, float momentum, float eps);
/* Instance norm: per (sample, channel) over H,W; gamma/beta [C] or NULL. Same in train and eval. */
hl_tensor *hl_instancenorm(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float eps);
/* Inverted dropout: train mode zeroes each element with probability p and scales survivors by 1/(1−p), using
 * ctx->rng (counter-based, so the mask is the same for any thread count); eval mode (and p = 0) returns x itself,
 * recording nothing. */
hl_tensor *hl_dropout(hl_ctx *ctx, hl_tensor *x, float p);

/* ---- reduce.c ---------------------------------------------------------------------------------------------------- */
/* Reductions over a set of axes given as a bit mask (HL_AXIS(1) | HL_AXIS(2)); HL_AXES_ALL reduces everything.
 * keepdim keeps reduced axes with size 1; otherwise they are removed (all axes -> 0-dim scalar). */
#define HL_AXIS(i) (1u << (i))
#define HL_AXES_ALL 0xFu
hl_tensor *hl_sum(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim);
hl_tensor *hl_mean(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim);
hl_tensor *hl_max(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim);       /* gradient to the first max */
hl_tensor *hl_logsumexp(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim); /* stable (max-shifted) */

/* ---- shape.c ----------------------------------------------------------------------------------------------------- */
/* Same data, new shape (one entry may be −1 = inferred). Numel must match. */
hl_tensor *hl_reshape(hl_ctx *ctx, hl_tensor *x, int ndim, const int64_t *shape);
hl_tensor *hl_flatten(hl_ctx *ctx, hl_tensor *x); /* [B, ...] -> [B, rest] */
/* Swaps two axes (materialised as a contiguous copy). */
hl_tensor *hl_transpose(hl_ctx *ctx, hl_tensor *x, int d0, int d1);
/* Concatenates n tensors (same shape except `axis`) along axis; n >= 1. Gradient flows to each input. */
hl_tensor *hl_concat(hl_ctx *ctx, int n, hl_tensor *const *xs, int axis);
/* x[..., start:end, ...] along axis (0 <= start < end <= shape[axis]). */
hl_tensor *hl_slice(hl_ctx *ctx, hl_tensor *x, int axis, int64_t start, int64_t end);

/* ---- loss.c: scalar losses (0-dim), mean over the batch/elements -------------------------------------------------- */
/* Softmax cross-entropy: logits [B,L], target [B,L] a probability row per sample (one-hot, or a normalised
 * multi-hot set). mean_b −Σ_l t·log softmax(z); gradient (Σt·softmax(z) − t)/B, so rows need not sum to 1.
 * Targets of softmax_ce and bce_logits are constants: a target that requires grad receives none. */
hl_tensor *hl_softmax_ce(hl_ctx *ctx, hl_tensor *logits, hl_tensor *target);
/* mean over elements of BCE(sigmoid(z), t) = softplus(z) − t·z, stable. Target constant, t ∈ [0,1]. */
hl_tensor *hl_bce_logits(hl_ctx *ctx, hl_tensor *logits, hl_tensor *target);
hl_tensor *hl_mse(hl_ctx *ctx, hl_tensor *a, hl_tensor *b); /* mean (a − b)², same shapes, both differentiable */
hl_tensor *hl_l1(hl_ctx *ctx, hl_tensor *a, hl_tensor *b);  /* mean |a − b|, gradient 0 where a = b */

/* ---- warp.c ------------------------------------------------------------------------------------------------------ */
/* Affine warp of images x [B,C,H,W] by theta (host array of B·6 floats, row-major 2×3 per sample) mapping output
 * normalised coordinates (x,y ∈ [−1,1], align_corners = false) to input ones, bilinear sampling, zeros outside
 * (PyTorch's affine_grid + grid_sample). Differentiable w.r.t. the image; theta is a constant. */
hl_tensor *hl_affine_warp(hl_ctx *ctx, hl_tensor *x, const float *theta);
/* Rotation about the centre by angles[b] radians, counter-clockwise on the displayed image (row 0 at the top):
 * theta = [[cos, −sin·H/W, 0], [sin·W/H, cos, 0]], a true rotation in pixel space for non-square images too
 * (torchvision's rotate); for square images it is the plain rotation matrix. */
hl_tensor *hl_rotate(hl_ctx *ctx, hl_tensor *x, const float *angles);
/* hl_rotate with the angles a tensor [B] (radians) that receives a gradient too (SSAH's learned rotations). Values
 * are exactly hl_rotate's for the same angles (same θ(a), same kernel); d/dx is the warp's adjoint as for
 * hl_affine_warp. d/da: output pixel (i,j) (normalised x_n, y_n) samples the input bilinearly at the pixel
 * coordinates ix = (W/2)(θ0 x_n + θ1 y_n + θ2 + 1) − ½, iy = (H/2)(θ3 x_n + θ4 y_n + θ5 + 1) − ½; with
 * x00, x01, x10, x11 the taps at (⌊iy⌋, ⌊ix⌋), (⌊iy⌋, ⌊ix⌋+1), (⌊iy⌋+1, ⌊ix⌋), (⌊iy⌋+1, ⌊ix⌋+1) (0 outside the
 * image) and fx, fy the fractional parts,
 *     ∂y/∂ix = (1−fy)(x01 − x00) + fy(x11 − x10),   ∂y/∂iy = (1−fx)(x10 − x00) + fx(x11 − x01),
 *     ∂ix/∂(θ0, θ1, θ2) = (W/2)(x_n, y_n, 1),        ∂iy/∂(θ3, θ4, θ5) = (H/2)(x_n, y_n, 1),
 *     θ(a) = [[cos a, −sin a·H/W, 0], [sin a·W/H, cos a, 0]],
 *     dθ/da = [[−sin a, −cos a·H/W, 0], [cos a·W/H, −sin a, 0]],
 * so dL/da_b = Σ_{c,i,j} g_{bcij} (∂y/∂ix · Σ_k ∂ix/∂θ_k dθ_k/da + ∂y/∂iy · Σ_k ∂iy/∂θ_k dθ_k/da). Bilinear sampling
 * is piecewise smooth: where a sample lies exactly on a pixel line (e.g. a = 0) this is the one-sided derivative from
 * above. The angle gradient is computed by a host loop (CPU tensors only; asserts the ctx is on the CPU). */
hl_tensor *hl_rotate_t(hl_ctx *ctx, hl_tensor *x, hl_tensor *angles);

#endif
