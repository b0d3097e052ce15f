/* core/nn/gan.h — GAN building blocks for the adversarial hashers (ABML, SSAH, HashGAN / USPAH-style pair GANs):
 * a DCGAN-style generator, an image discriminator, a (image, code) pair discriminator, non-saturating and
 * least-squares losses on logits, and a freeze helper for alternating D/G steps.
 *
 * Generator G(z): z [B, Z] (code and/or noise, concatenated by the caller) -> image [B, C, H, W] in (0, 1).
 *   H = W = 28 (s0 = 7, n = 2 upsamplings) or H = W = 32 (s0 = 4, n = 3); width g (default 64), ch_i = g·2^(n−1−i):
 *     fc: linear(Z -> ch_0·s0·s0) -> bn0 (BatchNorm1d) -> ReLU -> reshape [B, ch_0, s0, s0]
 *     for i = 1 .. n−1: deconv_i: conv_transpose(ch_{i−1} -> ch_i, k 4, stride 2, pad 1, out_pad 0) -> bn_i -> ReLU
 *     deconv_n: conv_transpose(ch_{n−1} -> C, k 4, s 2, p 1) -> sigmoid
 *   Each transposed convolution doubles the size: Ho = (H − 1)·2 − 2·1 + (4 − 1) + 0 + 1 = 2H, so 28 = 7·2·2 and
 *   32 = 4·2·2·2. Channels: 28×28: fc 128·7·7, deconv1 128->64, deconv2 64->C; 32×32: fc 256·4·4, 256->128->64->C.
 *   Names under prefix "G": G.fc.weight G.fc.bias G.bn0.{weight,bias,running_mean,running_var}
 *   G.deconv1.{weight,bias} G.bn1.* … G.deconv<n>.{weight,bias}.
 *
 * Discriminator D(x): x [B, C, H, W] -> logit [B, 1] (no sigmoid: losses take logits).
 *   n strided convolutions (k 4, stride 2, pad 1: H -> H/2), n as for the generator (28 -> 14 -> 7,
 *   32 -> 16 -> 8 -> 4), channels g, 2g, 4g…; LeakyReLU(0.2) after each; batch norm after every conv but the
 *   first; flatten -> features F = g·2^(n−1)·s0·s0 (28×28, g = 64: 128·7·7 = 6272; 32×32: 256·4·4 = 4096).
 *     image D (code_dim = 0):  fc: linear(F -> 1)
 *     pair D (code_dim = K > 0): D(x, b) = fc2(LeakyReLU_0.2(fc1([features(x), b])))  with fc1 F+K -> hidden,
 *                                fc2 hidden -> 1 (the code enters after the convolutional trunk, ALI/BiGAN-style).
 *   Names under prefix "D": D.conv1.{weight,bias} D.conv2.* D.bn2.* … D.fc.* (image) or D.fc1.* D.fc2.* (pair).
 *
 * Initialisation (hl_gan_*_reset): DCGAN's — conv / deconv / linear weights N(0, 0.02²), biases 0, batch-norm
 * weights N(1, 0.02²), biases 0.
 *
 * Losses, on logits [B, 1] (any shape works: means over all elements), returning a 0-dim tensor on the tape:
 *   HL_GAN_LOSS_NS     (non-saturating, Goodfellow et al. 2014 §3):
 *                      L_D = BCE(D(real), 1) + BCE(D(fake), 0),  L_G = BCE(D(fake), 1),
 *                      BCE(z, t) = mean(softplus(z) − t·z)
 *   HL_GAN_LOSS_LSGAN  (least squares, Mao et al. 2017, a = 0, b = c = 1):
 *                      L_D = ½·mean((D(real) − 1)²) + ½·mean(D(fake)²),  L_G = ½·mean((D(fake) − 1)²)
 *   No WGAN-GP: the tape is first-order only (core/tape.h).
 *
 * What follows DCGAN (Radford et al. 2016, §3): strided (transposed) convolutions instead of pooling, batch norm in
 * G (not on its output layer) and in D (not on its input layer), ReLU in G, LeakyReLU 0.2 in D, N(0, 0.02) init,
 * a linear projection of z to the first map. What is ours: the sigmoid output (images here are in [0, 1], DCGAN
 * uses tanh to [−1, 1]); the 7×7 start for 28×28; biases kept on every layer (PyTorch's default; DCGAN's reference
 * code drops them before batch norm); D ends with a linear layer on the flattened map instead of a 4×4 conv; the
 * pair discriminator's layout (code concatenated after the conv trunk, one hidden layer of `hidden` units).
 *
 * Alternating steps. Keep G and D in separate hl_params, each with its own optimizer (hl_optim over it):
 *
 *     // D-step: fake images detached, so no gradient reaches G (and G's optimizer is not stepped anyway)
 *     hl_ctx_reset(ctx);
 *     hl_tensor *fake = hl_detach(ctx, hl_gan_generator_forward(ctx, &g, z));
 *     hl_tensor *ld = hl_gan_d_loss(ctx, HL_GAN_LOSS_NS, hl_gan_disc_forward(ctx, &d, real, NULL),
 *                                                         hl_gan_disc_forward(ctx, &d, fake, NULL));
 *     hl_backward(ctx, ld); hl_optim_step(opt_d); hl_optim_zero_grad(opt_d);
 *     // G-step: D frozen, so backward skips D's weight gradients and flows only through D to G's output
 *     hl_ctx_reset(ctx);
 *     hl_gan_freeze(&pd, NULL, true);
 *     hl_tensor *lg = hl_gan_g_loss(ctx, HL_GAN_LOSS_NS,
 *                                   hl_gan_disc_forward(ctx, &d, hl_gan_generator_forward(ctx, &g, z), NULL));
 *     hl_backward(ctx, lg); hl_optim_step(opt_g); hl_optim_zero_grad(opt_g);
 *     hl_gan_freeze(&pd, NULL, false);
 *
 * Freezing does not stop batch norm from updating its running statistics in train mode: D's running statistics
 * also see the G-step's fake batch (as in PyTorch's usual DCGAN loop). If G and D share one hl_params and one
 * optimizer, freeze by prefix AND freeze the other network in BOTH steps (hl_gan_freeze(&p, "G.", true) around the
 * D-step, "D." around the G-step): an optimizer skips frozen tensors, but it steps a trainable tensor with a zero
 * gradient (Adam's moments would still move G during a D-step).
 */
#ifndef HL_NN_GAN_H
#define HL_NN_GAN_H

#include "core/nn/layers.h"

#define HL_GAN_MAX_UP 3

typedef struct hl_gan_generator {
    int z, c, h, w;    /* input width Z, output [C, H, W] */
    int s0, n;         /* first map size, number of transposed convolutions */
    int width;         /* g */
    hl_linear_layer fc;
    hl_batchnorm_layer bn0;
    hl_conv_transpose2d_layer up[HL_GAN_MAX_UP];
    hl_batchnorm_layer bn[HL_GAN_MAX_UP]; /* bn[i] after up[i], i < n − 1 (named bn<i+1>) */
} hl_gan_generator;

typedef struct hl_gan_discriminator {
    int c, h, w;       /* input image shape */
    int s0, n, width;
    int code_dim;      /* K; 0 for the image discriminator */
    int hidden;        /* pair discriminator's hidden units */
    int features;      /* F */
    hl_conv2d_layer conv[HL_GAN_MAX_UP];
    hl_batchnorm_layer bn[HL_GAN_MAX_UP]; /* bn[i] after conv[i], i ≥ 1 (named bn<i+1>); bn[0] unused */
    hl_linear_layer fc1, fc2;             /* image D: fc1 only (named "fc") */
} hl_gan_discriminator;

typedef enum hl_gan_loss_kind { HL_GAN_LOSS_NS, HL_GAN_LOSS_LSGAN, HL_GAN_LOSS_KIND_COUNT } hl_gan_loss_kind;

/* Declares G under prefix for z [B, Z] -> [B, C, H, W]; width g ≤ 0 means 64. HL_EINVAL unless Z ≥ 1, C ≥ 1 and
 * H = W ∈ {28, 32}. */
hl_status hl_gan_generator_init(hl_gan_generator *g, hl_params *p, const char *prefix, int z, int c, int h, int w,
                                int width);
/* Declares D under prefix for images [C, H, W] (H = W ∈ {28, 32}); code_dim 0: image D, > 0: pair D with `hidden`
 * units (≤ 0 means 256). Width ≤ 0 means 64. */
hl_status hl_gan_disc_init(hl_gan_discriminator *d, hl_params *p, const char *prefix, int c, int h, int w, int width,
                           int code_dim, int hidden);

/* DCGAN initialisation (see above) after hl_params_alloc. */
void hl_gan_generator_reset(hl_gan_generator *g, hl_rng *r);
void hl_gan_disc_reset(hl_gan_discriminator *d, hl_rng *r);

/* z [B, Z] -> [B, C, H, W] in (0, 1). Batch norm follows ctx->train (train mode needs B ≥ 2). */
hl_tensor *hl_gan_generator_forward(hl_ctx *ctx, const hl_gan_generator *g, hl_tensor *z);
/* x [B, C, H, W], code [B, K] (NULL for the image D) -> logits [B, 1]. */
hl_tensor *hl_gan_disc_forward(hl_ctx *ctx, const hl_gan_discriminator *d, hl_tensor *x, hl_tensor *code);

/* Losses on logits (see above); scalar 0-dim tensors on the tape. */
hl_tensor *hl_gan_d_loss(hl_ctx *ctx, hl_gan_loss_kind kind, hl_tensor *real_logits, hl_tensor *fake_logits);
hl_tensor *hl_gan_g_loss(hl_ctx *ctx, hl_gan_loss_kind kind, hl_tensor *fake_logits);
/* "ns", "lsgan"; HL_GAN_LOSS_KIND_COUNT if unknown. */
hl_gan_loss_kind hl_gan_loss_from_name(const char *name);

/* Writes G's images for fixed inputs z [n, Z] (host floats) as a PNG grid of `cols` columns, each pixel a 2×2 block
 * (core/io/grid.h), atomically. Runs G in eval mode on a private ctx: the caller's ctx, G's weights and its running
 * statistics are untouched. */
hl_status hl_gan_write_samples(const hl_gan_generator *g, const float *z, int64_t n, int cols, const char *path);

/* Freezes (frozen = true) or unfreezes the parameters of p whose name starts with prefix (NULL or "": all of them).
 * Returns how many tensors matched. */
int hl_gan_freeze(hl_params *p, const char *prefix, bool frozen);

#endif
