/* core/nn/backbone.c — cnn-small, cnn-medium and resnet-small (see backbone.h for the architectures and names).
 *
 * Spatial sizes, input H (W alike), 3×3 convolutions with padding 1 keep the size, maxpool 2 floors:
 *   cnn-small / cnn-medium   H → ⌊H/2⌋ → ⌊H/4⌋ → ⌊H/8⌋ (28 → 14 → 7 → 3, 32 → 16 → 8 → 4); fc1 in = 128·⌊H/8⌋·⌊W/8⌋
 *   resnet-small             stride-2 3×3 convolutions (pad 1): H → ⌈H/2⌉ → ⌈H/4⌉ (28 → 14 → 7, 32 → 16 → 8),
 *                            then global average pooling, so any H, W ≥ 8 works.
 * Convolutions of cnn-small / cnn-medium have biases (nn.Conv2d's default); resnet-small's have none (torchvision).
 */
#include "core/nn/backbone.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/safetensors.h"

static const char *const kind_names[HL_BACKBONE_KIND_COUNT] = {"cnn-small", "cnn-medium", "resnet-small"};

hl_backbone_kind hl_backbone_kind_from_name(const char *name) {
    for (int k = 0; k < HL_BACKBONE_KIND_COUNT; k++)
        if (name && strcmp(name, kind_names[k]) == 0) return (hl_backbone_kind)k;
    return HL_BACKBONE_KIND_COUNT;
}

/* "<prefix>.<a>" (or "<a>" when the prefix is empty) into buf [256]. */
static const char *full(char *buf, const char *prefix, const char *a) {
    int n = snprintf(buf, 256, "%s%s%s", prefix, prefix[0] ? "." : "", a);
    HL_ASSERT(n > 0 && n < 256, "backbone layer name too long: %s.%s", prefix, a);
    return buf;
}

static void add_conv(hl_backbone *bb, hl_params *p, const char *name, int in, int out, int k, int stride, int pad,
                     bool bias) {
    char buf[256];
    HL_ASSERT(bb->nconv < HL_BACKBONE_MAX_CONV, "backbone: too many convolutions");
    hl_conv2d_layer_init(&bb->conv[bb->nconv++], p, full(buf, bb->prefix, name), in, out, k, stride, pad, 1, bias);
}

static void add_bn(hl_backbone *bb, hl_params *p, const char *name, int c) {
    char buf[256];
    HL_ASSERT(bb->nbn < HL_BACKBONE_MAX_BN, "backbone: too many batch norms");
    hl_batchnorm_layer_init(&bb->bn[bb->nbn++], p, full(buf, bb->prefix, name), c, true);
}

static void declare_cnn_small(hl_backbone *bb, hl_params *p) {
    char buf[256];
    add_conv(bb, p, "conv1", bb->c, 32, 3, 1, 1, true);
    add_conv(bb, p, "conv2", 32, 64, 3, 1, 1, true);
    add_conv(bb, p, "conv3", 64, 128, 3, 1, 1, true);
    hl_linear_layer_init(&bb->fc, p, full(buf, bb->prefix, "fc1"), 128 * (bb->h / 8) * (bb->w / 8), 512, true);
    add_bn(bb, p, "bn_fc1", 512);
    bb->features = 512;
}

static void declare_cnn_medium(hl_backbone *bb, hl_params *p) {
    char buf[256], cn[32], bn[32];
    int in = bb->c;
    for (int s = 1; s <= 3; s++) {
        int out = 16 << s; /* 32, 64, 128 */
        for (int j = 1; j <= 2; j++) {
            snprintf(cn, sizeof cn, "conv%d_%d", s, j);
            snprintf(bn, sizeof bn, "bn%d_%d", s, j);
            add_conv(bb, p, cn, in, out, 3, 1, 1, true);
            add_bn(bb, p, bn, out);
            in = out;
        }
    }
    hl_linear_layer_init(&bb->fc, p, full(buf, bb->prefix, "fc1"), 128 * (bb->h / 8) * (bb->w / 8), 512, true);
    add_bn(bb, p, "bn_fc1", 512);
    bb->features = 512;
}

/* Declaration order per block (torchvision's): conv1 bn1 conv2 bn2 [downsample.0 downsample.1]. */
static void declare_resnet_small(hl_backbone *bb, hl_params *p) {
    char n[64];
    add_conv(bb, p, "conv1", bb->c, 32, 3, 1, 1, false);
    add_bn(bb, p, "bn1", 32);
    int in = 32;
    for (int s = 1; s <= 3; s++) {
        int out = 16 << s;
        for (int b = 0; b < 2; b++) {
            int stride = (s > 1 && b == 0) ? 2 : 1;
            snprintf(n, sizeof n, "layer%d.%d.conv1", s, b);
            add_conv(bb, p, n, in, out, 3, stride, 1, false);
            snprintf(n, sizeof n, "layer%d.%d.bn1", s, b);
            add_bn(bb, p, n, out);
            snprintf(n, sizeof n, "layer%d.%d.conv2", s, b);
            add_conv(bb, p, n, out, out, 3, 1, 1, false);
            snprintf(n, sizeof n, "layer%d.%d.bn2", s, b);
            add_bn(bb, p, n, out);
            if (stride != 1 || in != out) {
                snprintf(n, sizeof n, "layer%d.%d.downsample.0", s, b);
                add_conv(bb, p, n, in, out, 1, stride, 0, false);
                snprintf(n, sizeof n, "layer%d.%d.downsample.1", s, b);
                add_bn(bb, p, n, out);
            }
            in = out;
        }
    }
    bb->features = 128;
}

hl_status hl_backbone_init(hl_backbone *bb, hl_params *p, const char *prefix, const char *name, int c, int h, int w) {
    hl_backbone_kind kind = hl_backbone_kind_from_name(name);
    if (kind == HL_BACKBONE_KIND_COUNT)
        return hl_error_set(HL_EINVAL, "unknown backbone '%s' (known: %s)", name ? name : "(null)", HL_BACKBONE_NAMES);
    if (c < 1 || h < 8 || w < 8)
        return hl_error_set(HL_EINVAL, "backbone %s: input %d×%d×%d too small (needs C ≥ 1 and H, W ≥ 8)", name, c, h,
                            w);
    if (!prefix) prefix = "";
    if (strlen(prefix) >= sizeof bb->prefix)
        return hl_error_set(HL_EINVAL, "backbone prefix '%s' too long (max %zu bytes)", prefix, sizeof bb->prefix - 1);
    memset(bb, 0, sizeof *bb);
    bb->kind = kind;
    bb->c = c, bb->h = h, bb->w = w;
    strcpy(bb->prefix, prefix);
    switch (kind) {
    case HL_BACKBONE_CNN_SMALL: declare_cnn_small(bb, p); break;
    case HL_BACKBONE_CNN_MEDIUM: declare_cnn_medium(bb, p); break;
    default: declare_resnet_small(bb, p); break;
    }
    return HL_OK;
}

void hl_backbone_reset(hl_backbone *bb, hl_rng *r) {
    for (int i = 0; i < bb->nconv; i++) hl_nn_init_default_conv2d(&bb->conv[i], r);
    for (int i = 0; i < bb->nbn; i++) hl_nn_init_default_batchnorm(&bb->bn[i], r);
    if (bb->fc.w) hl_nn_init_default_linear(&bb->fc, r);
}

/* bn[i](conv[i](x)) */
static hl_tensor *conv_bn(hl_ctx *ctx, const hl_backbone *bb, int i, hl_tensor *x) {
    return hl_batchnorm_layer_forward(ctx, &bb->bn[i], hl_conv2d_layer_forward(ctx, &bb->conv[i], x));
}

static hl_tensor *cnn_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x) {
    hl_tensor *h = x;
    if (bb->kind == HL_BACKBONE_CNN_SMALL) {
        for (int i = 0; i < 3; i++)
            h = hl_maxpool2d(ctx, hl_relu(ctx, hl_conv2d_layer_forward(ctx, &bb->conv[i], h)), 2, 2, 0);
        h = hl_linear_layer_forward(ctx, &bb->fc, hl_flatten(ctx, h));
        return hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &bb->bn[0], h));
    }
    for (int s = 0; s < 3; s++) {
        for (int j = 0; j < 2; j++) {
            int i = 2 * s + j;
            h = conv_bn(ctx, bb, i, h);
            h = hl_relu(ctx, h);
        }
        h = hl_maxpool2d(ctx, h, 2, 2, 0);
    }
    h = hl_linear_layer_forward(ctx, &bb->fc, hl_flatten(ctx, h));
    h = hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &bb->bn[6], h));
    return hl_dropout(ctx, h, 0.3f);
}

static hl_tensor *resnet_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x) {
    int ci = 0; /* conv and bn indices advance together (each conv has its bn) */
    hl_tensor *h = hl_relu(ctx, conv_bn(ctx, bb, ci, x));
    ci++;
    int in = 32;
    for (int s = 1; s <= 3; s++) {
        int out = 16 << s;
        for (int b = 0; b < 2; b++) {
            bool down = (s > 1 && b == 0) || in != out;
            hl_tensor *o = hl_relu(ctx, conv_bn(ctx, bb, ci, h));
            ci++;
            o = conv_bn(ctx, bb, ci, o);
            ci++;
            hl_tensor *id = h;
            if (down) {
                id = conv_bn(ctx, bb, ci, h);
                ci++;
            }
            h = hl_relu(ctx, hl_add(ctx, o, id));
            in = out;
        }
    }
    HL_ASSERT(ci == bb->nconv, "resnet-small: %d of %d convolutions used", ci, bb->nconv);
    return hl_global_avgpool(ctx, h);
}

hl_tensor *hl_backbone_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x) {
    HL_ASSERT_T(x->ndim == 4 && x->shape[1] == bb->c && x->shape[2] == bb->h && x->shape[3] == bb->w, x);
    hl_tensor *f = bb->kind == HL_BACKBONE_RESNET_SMALL ? resnet_forward(ctx, bb, x) : cnn_forward(ctx, bb, x);
    HL_ASSERT_SHAPE(f->ndim == 2 && f->shape[0] == x->shape[0] && f->shape[1] == bb->features, f, x);
    return f;
}

/* ---- pretrained weights ------------------------------------------------------------------------------------------ */

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (man << 13);
    else
        bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Tensor t of the file into dst (n floats), F32, F16 or BF16 (little-endian host assumed for the 16-bit kinds). */
static hl_status read_any(hl_safetensors *st, const hl_st_tensor *t, float *dst, int64_t n, const char *path) {
    if (strcmp(t->dtype, "F32") == 0) return hl_safetensors_read_f32(st, t, dst, n);
    bool bf = strcmp(t->dtype, "BF16") == 0;
    if (!bf && strcmp(t->dtype, "F16") != 0)
        return hl_error_set(HL_EUNSUPPORTED, "%s: tensor '%s' has dtype %s (F32, F16 or BF16 expected)", path,
                            t->name, t->dtype);
    size_t bytes = (size_t)(t->end - t->begin);
    uint16_t *raw = malloc(bytes ? bytes : 1);
    if (!raw) return hl_error_set(HL_ENOMEM, "out of memory reading '%s'", t->name);
    hl_status s = HL_OK;
    if (st->mem)
        memcpy(raw, st->mem + st->data_start + t->begin, bytes);
    else if (bytes && (fseeko(st->f, (off_t)(st->data_start + t->begin), SEEK_SET) != 0 ||
                       fread(raw, 1, bytes, st->f) != bytes))
        s = hl_error_set(HL_EIO, "%s: cannot read tensor '%s'", path, t->name);
    for (int64_t i = 0; s == HL_OK && i < n; i++) {
        if (bf) {
            uint32_t b = (uint32_t)raw[i] << 16;
            memcpy(&dst[i], &b, sizeof b);
        } else
            dst[i] = half_to_float(raw[i]);
    }
    free(raw);
    return s;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* The backbone's entries of p (parameters then buffers): names starting with "<prefix>." (all when no prefix). */
static bool mine(const hl_backbone *bb, const char *name) {
    size_t n = strlen(bb->prefix);
    return n == 0 || (strncmp(name, bb->prefix, n) == 0 && name[n] == '.');
}

hl_status hl_backbone_load_weights(hl_backbone *bb, hl_params *p, const char *path, int *copied) {
    hl_status st = HL_OK;
    hl_safetensors *f = NULL;
    int total = p->n_par + p->n_buf, n = 0;
    const hl_st_tensor **src = calloc((size_t)(total ? total : 1), sizeof *src);
    float **tmp = calloc((size_t)(total ? total : 1), sizeof *tmp);
    size_t plen = strlen(bb->prefix);
    if (copied) *copied = 0;
    if (!src || !tmp) {
        st = hl_error_set(HL_ENOMEM, "out of memory");
        goto done;
    }
    HL_ASSERT(p->allocated, "hl_backbone_load_weights: parameters not allocated");
    HL_TRY(hl_safetensors_open(&f, path));
    /* Pass 1: find and check every tensor, converting into temporaries (nothing changes on error). */
    for (int i = 0; i < total; i++) {
        const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
        if (!mine(bb, e->name)) continue;
        const hl_st_tensor *t = hl_safetensors_find(f, e->name);
        if (!t && plen) t = hl_safetensors_find(f, e->name + plen + 1);
        char a[128], b[128];
        shape_str(b, sizeof b, e->t->ndim, e->t->shape);
        if (!t) {
            st = hl_error_set(HL_EMISMATCH,
                              "%s: backbone tensor '%s' %s is missing from the file (looked for '%s'%s%s)", path,
                              e->name, b, e->name, plen ? " and " : "", plen ? e->name + plen + 1 : "");
            goto done;
        }
        bool same = t->ndim == e->t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == e->t->shape[d];
        if (!same) {
            shape_str(a, sizeof a, t->ndim, t->shape);
            st = hl_error_set(HL_EMISMATCH, "%s: tensor '%s' has shape %s, backbone tensor '%s' needs %s", path,
                              t->name, a, e->name, b);
            goto done;
        }
        int64_t numel = hl_tensor_numel(e->t);
        if (!(tmp[i] = malloc((size_t)(numel ? numel : 1) * sizeof(float)))) {
            st = hl_error_set(HL_ENOMEM, "out of memory");
            goto done;
        }
        HL_TRY(read_any(f, t, tmp[i], numel, path));
        src[i] = t;
    }
    /* Pass 2: copy. */
    for (int i = 0; i < total; i++) {
        if (!src[i]) continue;
        const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
        memcpy(e->t->data, tmp[i], (size_t)hl_tensor_numel(e->t) * sizeof(float));
        n++;
    }
    if (copied) *copied = n;
done:
    if (f) hl_safetensors_close(f);
    for (int i = 0; tmp && i < total; i++) free(tmp[i]);
    free(tmp);
    free(src);
    return st;
}
