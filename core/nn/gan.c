/* core/nn/gan.c — DCGAN-style generator and discriminators, GAN losses, freezing (see gan.h for the architectures,
 * names and formulas).
 *
 * Spatial sizes: transposed conv k 4, s 2, p 1 maps H -> 2H; conv k 4, s 2, p 1 maps H -> H/2 (H even).
 *   28×28: G 7 -> 14 -> 28, D 28 -> 14 -> 7;  32×32: G 4 -> 8 -> 16 -> 32, D 32 -> 16 -> 8 -> 4.
 */
#include "core/nn/gan.h"

#include "core/io/grid.h"

#include <stdio.h>
#include <string.h>

#include "core/nn/init.h"

/* "<prefix>.<a>" (or "<a>" when the prefix is empty) into buf [256]. */
static const char *full(char *buf, const char *prefix, const char *a) {
    int n = snprintf(buf, 256, "%s%s%s", prefix, prefix[0] ? "." : "", a);
    HL_ASSERT(n > 0 && n < 256, "gan layer name too long: %s.%s", prefix, a);
    return buf;
}

/* s0 and n for an image size, 0 if unsupported. */
static int plan(int c, int h, int w, int *s0, int *n) {
    if (c < 1 || h != w) return 0;
    if (h == 28) *s0 = 7, *n = 2;
    else if (h == 32) *s0 = 4, *n = 3;
    else return 0;
    return 1;
}

hl_status hl_gan_generator_init(hl_gan_generator *g, hl_params *p, const char *prefix, int z, int c, int h, int w,
                                int width) {
    char buf[256], nm[32];
    int s0, n;
    if (!prefix) prefix = "";
    if (z < 1 || !plan(c, h, w, &s0, &n))
        return hl_error_set(HL_EINVAL,
                            "gan generator: z %d -> %d×%d×%d unsupported (needs Z ≥ 1, C ≥ 1, H = W ∈ {28, 32})", z,
                            c, h, w);
    if (width <= 0) width = 64;
    memset(g, 0, sizeof *g);
    g->z = z, g->c = c, g->h = h, g->w = w, g->s0 = s0, g->n = n, g->width = width;
    int ch = width << (n - 1); /* ch_0 */
    hl_linear_layer_init(&g->fc, p, full(buf, prefix, "fc"), z, ch * s0 * s0, true);
    hl_batchnorm_layer_init(&g->bn0, p, full(buf, prefix, "bn0"), ch * s0 * s0, true);
    for (int i = 0; i < n; i++) {
        int out = i == n - 1 ? c : ch / 2;
        snprintf(nm, sizeof nm, "deconv%d", i + 1);
        hl_conv_transpose2d_layer_init(&g->up[i], p, full(buf, prefix, nm), ch, out, 4, 2, 1, 0, 1, true);
        if (i < n - 1) {
            snprintf(nm, sizeof nm, "bn%d", i + 1);
            hl_batchnorm_layer_init(&g->bn[i], p, full(buf, prefix, nm), out, true);
        }
        ch = out;
    }
    return HL_OK;
}

hl_status hl_gan_disc_init(hl_gan_discriminator *d, hl_params *p, const char *prefix, int c, int h, int w, int width,
                           int code_dim, int hidden) {
    char buf[256], nm[32];
    int s0, n;
    if (!prefix) prefix = "";
    if (code_dim < 0 || !plan(c, h, w, &s0, &n))
        return hl_error_set(HL_EINVAL,
                            "gan discriminator: input %d×%d×%d, code %d unsupported (needs C ≥ 1, H = W ∈ {28, 32}, "
                            "code ≥ 0)",
                            c, h, w, code_dim);
    if (width <= 0) width = 64;
    if (hidden <= 0) hidden = 256;
    memset(d, 0, sizeof *d);
    d->c = c, d->h = h, d->w = w, d->s0 = s0, d->n = n, d->width = width, d->code_dim = code_dim;
    int in = c, out = width;
    for (int i = 0; i < n; i++, in = out, out *= 2) {
        snprintf(nm, sizeof nm, "conv%d", i + 1);
        hl_conv2d_layer_init(&d->conv[i], p, full(buf, prefix, nm), in, out, 4, 2, 1, 1, true);
        if (i > 0) {
            snprintf(nm, sizeof nm, "bn%d", i + 1);
            hl_batchnorm_layer_init(&d->bn[i], p, full(buf, prefix, nm), out, true);
        }
    }
    d->features = in * s0 * s0;
    if (code_dim == 0) {
        hl_linear_layer_init(&d->fc1, p, full(buf, prefix, "fc"), d->features, 1, true);
    } else {
        d->hidden = hidden;
        hl_linear_layer_init(&d->fc1, p, full(buf, prefix, "fc1"), d->features + code_dim, hidden, true);
        hl_linear_layer_init(&d->fc2, p, full(buf, prefix, "fc2"), hidden, 1, true);
    }
    return HL_OK;
}

/* DCGAN init of a weight/bias pair: weight N(mean, 0.02²) (mean 0 for conv/linear, 1 for batch norm), bias 0. */
static void dcgan_init(hl_tensor *wt, hl_tensor *b, float mean, hl_rng *r) {
    hl_rng s = hl_rng_split(r, r->counter++);
    if (wt) hl_init_normal(wt, &s, mean, 0.02f);
    if (b) hl_init_constant(b, 0.0f);
}

void hl_gan_generator_reset(hl_gan_generator *g, hl_rng *r) {
    dcgan_init(g->fc.w, g->fc.b, 0.0f, r);
    dcgan_init(g->bn0.w, g->bn0.b, 1.0f, r);
    for (int i = 0; i < g->n; i++) {
        dcgan_init(g->up[i].w, g->up[i].b, 0.0f, r);
        if (i < g->n - 1) dcgan_init(g->bn[i].w, g->bn[i].b, 1.0f, r);
    }
}

void hl_gan_disc_reset(hl_gan_discriminator *d, hl_rng *r) {
    for (int i = 0; i < d->n; i++) {
        dcgan_init(d->conv[i].w, d->conv[i].b, 0.0f, r);
        if (i > 0) dcgan_init(d->bn[i].w, d->bn[i].b, 1.0f, r);
    }
    dcgan_init(d->fc1.w, d->fc1.b, 0.0f, r);
    if (d->code_dim > 0) dcgan_init(d->fc2.w, d->fc2.b, 0.0f, r);
}

hl_tensor *hl_gan_generator_forward(hl_ctx *ctx, const hl_gan_generator *g, hl_tensor *z) {
    HL_ASSERT_T(z->ndim == 2 && z->shape[1] == g->z, z);
    int64_t b = z->shape[0];
    hl_tensor *h = hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &g->bn0, hl_linear_layer_forward(ctx, &g->fc, z)));
    h = hl_reshape(ctx, h, 4, HL_SHAPE(b, g->up[0].in, g->s0, g->s0)); /* [B, ch_0, s0, s0] */
    for (int i = 0; i < g->n; i++) {
        h = hl_conv_transpose2d_layer_forward(ctx, &g->up[i], h); /* [B, ch_i, 2H, 2W] */
        if (i < g->n - 1) h = hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &g->bn[i], h));
    }
    h = hl_sigmoid(ctx, h);
    HL_ASSERT_T(h->ndim == 4 && h->shape[0] == b && h->shape[1] == g->c && h->shape[2] == g->h && h->shape[3] == g->w,
                h);
    return h;
}

hl_tensor *hl_gan_disc_forward(hl_ctx *ctx, const hl_gan_discriminator *d, hl_tensor *x, hl_tensor *code) {
    HL_ASSERT_T(x->ndim == 4 && x->shape[1] == d->c && x->shape[2] == d->h && x->shape[3] == d->w, x);
    HL_ASSERT((code != NULL) == (d->code_dim > 0), "gan discriminator: code %s but code_dim = %d",
              code ? "given" : "missing", d->code_dim);
    hl_tensor *h = x;
    for (int i = 0; i < d->n; i++) {
        h = hl_conv2d_layer_forward(ctx, &d->conv[i], h); /* [B, g·2^i, H/2^(i+1), ...] */
        if (i > 0) h = hl_batchnorm_layer_forward(ctx, &d->bn[i], h);
        h = hl_leaky_relu(ctx, h, 0.2f);
    }
    h = hl_flatten(ctx, h); /* [B, F] */
    if (d->code_dim == 0) return hl_linear_layer_forward(ctx, &d->fc1, h);
    HL_ASSERT_SHAPE(code->ndim == 2 && code->shape[0] == x->shape[0] && code->shape[1] == d->code_dim, code, x);
    hl_tensor *parts[2] = {h, code};
    h = hl_concat(ctx, 2, parts, 1); /* [B, F + K] */
    h = hl_leaky_relu(ctx, hl_linear_layer_forward(ctx, &d->fc1, h), 0.2f);
    return hl_linear_layer_forward(ctx, &d->fc2, h); /* [B, 1] */
}

/* Constant tensor shaped like t, filled with v. */
static hl_tensor *constant_like(hl_ctx *ctx, const hl_tensor *t, float v) {
    hl_tensor *c = hl_tensor_new_like(ctx, t);
    hl_tensor_fill(c, v);
    return c;
}

hl_tensor *hl_gan_d_loss(hl_ctx *ctx, hl_gan_loss_kind kind, hl_tensor *real_logits, hl_tensor *fake_logits) {
    HL_ASSERT(kind == HL_GAN_LOSS_NS || kind == HL_GAN_LOSS_LSGAN, "unknown GAN loss %d", (int)kind);
    hl_tensor *ones = constant_like(ctx, real_logits, 1.0f), *zeros = constant_like(ctx, fake_logits, 0.0f);
    if (kind == HL_GAN_LOSS_NS)
        return hl_add(ctx, hl_bce_logits(ctx, real_logits, ones), hl_bce_logits(ctx, fake_logits, zeros));
    return hl_scale(ctx, hl_add(ctx, hl_mse(ctx, real_logits, ones), hl_mse(ctx, fake_logits, zeros)), 0.5f);
}

hl_tensor *hl_gan_g_loss(hl_ctx *ctx, hl_gan_loss_kind kind, hl_tensor *fake_logits) {
    HL_ASSERT(kind == HL_GAN_LOSS_NS || kind == HL_GAN_LOSS_LSGAN, "unknown GAN loss %d", (int)kind);
    hl_tensor *ones = constant_like(ctx, fake_logits, 1.0f);
    if (kind == HL_GAN_LOSS_NS) return hl_bce_logits(ctx, fake_logits, ones);
    return hl_scale(ctx, hl_mse(ctx, fake_logits, ones), 0.5f);
}

hl_gan_loss_kind hl_gan_loss_from_name(const char *name) {
    if (name && strcmp(name, "ns") == 0) return HL_GAN_LOSS_NS;
    if (name && strcmp(name, "lsgan") == 0) return HL_GAN_LOSS_LSGAN;
    return HL_GAN_LOSS_KIND_COUNT;
}

int hl_gan_freeze(hl_params *p, const char *prefix, bool frozen) {
    if (!prefix || !prefix[0]) {
        hl_params_set_requires_grad(p, !frozen);
        return hl_params_count(p);
    }
    return hl_params_set_requires_grad_prefix(p, prefix, !frozen);
}

hl_status hl_gan_write_samples(const hl_gan_generator *g, const float *z, int64_t n, int cols, const char *path) {
    hl_status st = HL_OK;
    hl_ctx *ctx = NULL;
    if (n < 1 || cols < 1) return hl_error_set(HL_EINVAL, "%s: %lld samples in %d columns", path, (long long)n, cols);
    HL_TRY(hl_ctx_create(&ctx, g->fc.w->dev, 0)); /* where the generator's parameters live */
    hl_ctx_set_train(ctx, false);
    hl_no_grad_begin(ctx);
    hl_tensor *zt = hl_tensor_from(ctx, 2, HL_SHAPE(n, g->z), z);
    hl_tensor *x = hl_gan_generator_forward(ctx, g, zt);
    hl_no_grad_end(ctx);
    int rows = (int)((n + cols - 1) / cols);
    HL_TRY(hl_grid_write_png(path, hl_tensor_host(ctx, x), n, g->c, g->h, g->w, rows, cols, 2));
done:
    hl_ctx_free(ctx);
    return st;
}
