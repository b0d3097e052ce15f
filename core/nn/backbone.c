/* core/nn/backbone.c — the kinds, their stages, init/reset/forward dispatch and freezing (backbone.h); the small
 * kinds cnn-small, cnn-medium and resnet-small are here, the ImageNet ones in backbone_imagenet.c, weight loading in
 * backbone_weights.c.
 *
 * Spatial sizes of the small kinds, input H (W alike), 3×3 convolutions with padding 1 keep the size, maxpool 2
 * floors:
 *   cnn-small / cnn-medium   H → ⌊H/2⌋ → ⌊H/4⌋ → ⌊H/8⌋ (28 → 14 → 7 → 3, 32 → 16 → 8 → 4); fc1 in = 128·⌊H/8⌋·⌊W/8⌋
 *   resnet-small             stride-2 3×3 convolutions (pad 1): H → ⌈H/2⌉ → ⌈H/4⌉ (28 → 14 → 7, 32 → 16 → 8),
 *                            then global average pooling, so any H, W ≥ 8 works.
 * Convolutions of cnn-small / cnn-medium have biases (nn.Conv2d's default); resnet-small's have none (torchvision).
 */
#include "core/nn/backbone_impl.h"

#include <stdio.h>
#include <string.h>

#include "core/config_schema.h"

/* ---- kinds and stages -------------------------------------------------------------------------------------------- */

static const hl_backbone_stage cnn_small_stages[] = {
    {"conv1", {"conv1.", NULL}}, {"conv2", {"conv2.", NULL}}, {"conv3", {"conv3.", NULL}},
    {"fc1", {"fc1.", "bn_fc1.", NULL}}};
static const hl_backbone_stage cnn_medium_stages[] = {
    {"conv1", {"conv1_", "bn1_", NULL}}, {"conv2", {"conv2_", "bn2_", NULL}}, {"conv3", {"conv3_", "bn3_", NULL}},
    {"fc1", {"fc1.", "bn_fc1.", NULL}}};
static const hl_backbone_stage resnet_small_stages[] = {
    {"conv1", {"conv1.", "bn1.", NULL}}, {"layer1", {"layer1.", NULL}}, {"layer2", {"layer2.", NULL}},
    {"layer3", {"layer3.", NULL}}};
static const hl_backbone_stage alexnet_stages[] = {
    {"features", {"features.", NULL}}, {"fc6", {"classifier.1.", NULL}}, {"fc7", {"classifier.4.", NULL}}};
static const hl_backbone_stage vgg_stages[] = {
    {"features", {"features.", NULL}}, {"fc6", {"classifier.0.", NULL}}, {"fc7", {"classifier.3.", NULL}}};
static const hl_backbone_stage resnet_stages[] = {
    {"conv1", {"conv1.", "bn1.", NULL}}, {"layer1", {"layer1.", NULL}}, {"layer2", {"layer2.", NULL}},
    {"layer3", {"layer3.", NULL}}, {"layer4", {"layer4.", NULL}}};

typedef struct kind_info {
    const char *name;
    int min_size;  /* smallest H, W */
    bool imagenet; /* C ∈ {1, 3}, normalised inside (backbone_imagenet.c) */
    const hl_backbone_stage *stages;
    int nstages;
} kind_info;

#define STAGES(a) a, (int)HL_ARRAY_LEN(a)
static const kind_info kinds[HL_BACKBONE_KIND_COUNT] = {
    [HL_BACKBONE_CNN_SMALL] = {"cnn-small", 8, false, STAGES(cnn_small_stages)},
    [HL_BACKBONE_CNN_MEDIUM] = {"cnn-medium", 8, false, STAGES(cnn_medium_stages)},
    [HL_BACKBONE_RESNET_SMALL] = {"resnet-small", 8, false, STAGES(resnet_small_stages)},
    [HL_BACKBONE_ALEXNET] = {"alexnet", 63, true, STAGES(alexnet_stages)},
    [HL_BACKBONE_VGG11] = {"vgg11", 32, true, STAGES(vgg_stages)},
    [HL_BACKBONE_VGG16] = {"vgg16", 32, true, STAGES(vgg_stages)},
    [HL_BACKBONE_RESNET18] = {"resnet18", 8, true, STAGES(resnet_stages)},
    [HL_BACKBONE_RESNET50] = {"resnet50", 8, true, STAGES(resnet_stages)},
};

hl_backbone_kind hl_backbone_kind_from_name(const char *name) {
    for (int k = 0; k < HL_BACKBONE_KIND_COUNT; k++)
        if (name && strcmp(name, kinds[k].name) == 0) return (hl_backbone_kind)k;
    return HL_BACKBONE_KIND_COUNT;
}

const char *hl_backbone_kind_name(hl_backbone_kind kind) {
    return kind >= 0 && kind < HL_BACKBONE_KIND_COUNT ? kinds[kind].name : "?";
}

int hl_backbone_min_size(hl_backbone_kind kind) {
    HL_ASSERT(kind >= 0 && kind < HL_BACKBONE_KIND_COUNT, "backbone kind %d", (int)kind);
    return kinds[kind].min_size;
}

const hl_backbone_stage *hl_backbone_stages(hl_backbone_kind kind, int *n) {
    HL_ASSERT(kind >= 0 && kind < HL_BACKBONE_KIND_COUNT, "backbone kind %d", (int)kind);
    *n = kinds[kind].nstages;
    return kinds[kind].stages;
}

hl_status hl_backbone_stage_find(hl_backbone_kind kind, const char *name, int *index) {
    int n;
    const hl_backbone_stage *s = hl_backbone_stages(kind, &n);
    *index = -1;
    if (!name || !name[0]) return HL_OK;
    char list[160] = "";
    size_t len = 0;
    int best = -1, best_d = 1 << 30;
    for (int i = 0; i < n; i++) {
        if (strcmp(name, s[i].name) == 0) {
            *index = i;
            return HL_OK;
        }
        int w = snprintf(list + len, sizeof list - len, "%s%s", i ? "|" : "", s[i].name);
        if (w > 0 && (size_t)w < sizeof list - len) len += (size_t)w;
        int d = hl_edit_distance(name, s[i].name);
        if (d < best_d) best_d = d, best = i;
    }
    if (best >= 0 && best_d <= HL_MAX(2, (int)strlen(name) / 3))
        return hl_error_set(HL_EINVAL, "%s has no stage '%s' (stages: %s; did you mean '%s'?)", kinds[kind].name,
                            name, list, s[best].name);
    return hl_error_set(HL_EINVAL, "%s has no stage '%s' (stages: %s)", kinds[kind].name, name, list);
}

/* ---- declaring layers -------------------------------------------------------------------------------------------- */

/* "<prefix>.<a>" (or "<a>" when the prefix is empty) into buf [256]. */
static const char *full(char *buf, const char *prefix, const char *a) {
    int n = snprintf(buf, 256, "%s%s%s", prefix, prefix[0] ? "." : "", a);
    HL_ASSERT(n > 0 && n < 256, "backbone layer name too long: %s.%s", prefix, a);
    return buf;
}

void hl_backbone_add_conv(hl_backbone *bb, hl_params *p, const char *name, int in, int out, int k, int stride, int pad,
                          bool bias) {
    char buf[256];
    HL_ASSERT(bb->nconv < HL_BACKBONE_MAX_CONV, "backbone: too many convolutions");
    hl_conv2d_layer_init(&bb->conv[bb->nconv++], p, full(buf, bb->prefix, name), in, out, k, stride, pad, 1, bias);
}

void hl_backbone_add_bn(hl_backbone *bb, hl_params *p, const char *name, int c) {
    char buf[256];
    HL_ASSERT(bb->nbn < HL_BACKBONE_MAX_BN, "backbone: too many batch norms");
    hl_batchnorm_layer_init(&bb->bn[bb->nbn++], p, full(buf, bb->prefix, name), c, true);
}

void hl_backbone_add_fc(hl_backbone *bb, hl_params *p, const char *name, int in, int out) {
    char buf[256];
    HL_ASSERT(bb->nfc < HL_BACKBONE_MAX_FC, "backbone: too many linear layers");
    hl_linear_layer_init(&bb->fc[bb->nfc++], p, full(buf, bb->prefix, name), in, out, true);
}

static void declare_cnn_small(hl_backbone *bb, hl_params *p) {
    hl_backbone_add_conv(bb, p, "conv1", bb->c, 32, 3, 1, 1, true);
    hl_backbone_add_conv(bb, p, "conv2", 32, 64, 3, 1, 1, true);
    hl_backbone_add_conv(bb, p, "conv3", 64, 128, 3, 1, 1, true);
    hl_backbone_add_fc(bb, p, "fc1", 128 * (bb->h / 8) * (bb->w / 8), 512);
    hl_backbone_add_bn(bb, p, "bn_fc1", 512);
    bb->features = 512;
}

static void declare_cnn_medium(hl_backbone *bb, hl_params *p) {
    char cn[32], bn[32];
    int in = bb->c;
    for (int s = 1; s <= 3; s++) {
        int out = 16 << s; /* 32, 64, 128 */
        for (int j = 1; j <= 2; j++) {
            snprintf(cn, sizeof cn, "conv%d_%d", s, j);
            snprintf(bn, sizeof bn, "bn%d_%d", s, j);
            hl_backbone_add_conv(bb, p, cn, in, out, 3, 1, 1, true);
            hl_backbone_add_bn(bb, p, bn, out);
            in = out;
        }
    }
    hl_backbone_add_fc(bb, p, "fc1", 128 * (bb->h / 8) * (bb->w / 8), 512);
    hl_backbone_add_bn(bb, p, "bn_fc1", 512);
    bb->features = 512;
}

/* Declaration order per block (torchvision's): conv1 bn1 conv2 bn2 [downsample.0 downsample.1]. */
static void declare_resnet_small(hl_backbone *bb, hl_params *p) {
    char n[64];
    hl_backbone_add_conv(bb, p, "conv1", bb->c, 32, 3, 1, 1, false);
    hl_backbone_add_bn(bb, p, "bn1", 32);
    int in = 32;
    for (int s = 1; s <= 3; s++) {
        int out = 16 << s;
        for (int b = 0; b < 2; b++) {
            int stride = (s > 1 && b == 0) ? 2 : 1;
            snprintf(n, sizeof n, "layer%d.%d.conv1", s, b);
            hl_backbone_add_conv(bb, p, n, in, out, 3, stride, 1, false);
            snprintf(n, sizeof n, "layer%d.%d.bn1", s, b);
            hl_backbone_add_bn(bb, p, n, out);
            snprintf(n, sizeof n, "layer%d.%d.conv2", s, b);
            hl_backbone_add_conv(bb, p, n, out, out, 3, 1, 1, false);
            snprintf(n, sizeof n, "layer%d.%d.bn2", s, b);
            hl_backbone_add_bn(bb, p, n, out);
            if (stride != 1 || in != out) {
                snprintf(n, sizeof n, "layer%d.%d.downsample.0", s, b);
                hl_backbone_add_conv(bb, p, n, in, out, 1, stride, 0, false);
                snprintf(n, sizeof n, "layer%d.%d.downsample.1", s, b);
                hl_backbone_add_bn(bb, p, n, out);
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
    const kind_info *ki = &kinds[kind];
    if (ki->imagenet && c != 1 && c != 3)
        return hl_error_set(HL_EINVAL, "backbone %s: input %d×%d×%d has %d channels (it takes 3, or 1 replicated to 3)",
                            name, c, h, w, c);
    if (c < 1 || h < ki->min_size || w < ki->min_size)
        return hl_error_set(HL_EINVAL, "backbone %s: input %d×%d×%d is too small: %s needs %sH and W of at least %d "
                            "pixels", name, c, h, w, name, c < 1 ? "a channel and " : "", ki->min_size);
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
    case HL_BACKBONE_RESNET_SMALL: declare_resnet_small(bb, p); break;
    default: hl_backbone_declare_imagenet(bb, p); break;
    }
    return HL_OK;
}

void hl_backbone_reset(hl_backbone *bb, hl_rng *r) {
    if (kinds[bb->kind].imagenet) {
        hl_backbone_reset_imagenet(bb, r);
        return;
    }
    for (int i = 0; i < bb->nconv; i++) hl_nn_init_default_conv2d(&bb->conv[i], r);
    for (int i = 0; i < bb->nbn; i++) hl_nn_init_default_batchnorm(&bb->bn[i], r);
    for (int i = 0; i < bb->nfc; i++) hl_nn_init_default_linear(&bb->fc[i], r);
}

/* ---- freezing ---------------------------------------------------------------------------------------------------- */

/* Stage index of a full parameter/buffer name of bb (-1: not the backbone's, or in no stage). */
static int stage_of(const hl_backbone *bb, const char *name) {
    size_t pl = strlen(bb->prefix);
    if (pl) {
        if (strncmp(name, bb->prefix, pl) != 0 || name[pl] != '.') return -1;
        name += pl + 1;
    }
    const kind_info *ki = &kinds[bb->kind];
    for (int s = 0; s < ki->nstages; s++)
        for (int j = 0; ki->stages[s].prefixes[j]; j++)
            if (strncmp(name, ki->stages[s].prefixes[j], strlen(ki->stages[s].prefixes[j])) == 0) return s;
    return -1;
}

int hl_backbone_freeze(hl_backbone *bb, hl_params *p, int until) {
    int n = 0;
    if (until < 0) return 0;
    HL_ASSERT(until < kinds[bb->kind].nstages, "backbone %s: stage %d of %d", kinds[bb->kind].name, until,
              kinds[bb->kind].nstages);
    for (int i = 0; i < hl_params_count(p); i++) {
        int s = stage_of(bb, hl_params_name(p, i));
        if (s >= 0 && s <= until) {
            hl_tensor_set_requires_grad(hl_params_at(p, i), false);
            n++;
        }
    }
    for (int b = 0; b < bb->nbn; b++) /* a batch norm's stage is that of its running mean */
        for (int i = 0; i < hl_params_buffer_count(p); i++)
            if (hl_params_buffer_at(p, i) == bb->bn[b].running_mean) {
                int s = stage_of(bb, hl_params_buffer_name(p, i));
                if (s >= 0 && s <= until) bb->bn[b].frozen = true;
                break;
            }
    return n;
}

/* ---- forward ----------------------------------------------------------------------------------------------------- */

hl_tensor *hl_backbone_conv_bn(hl_ctx *ctx, const hl_backbone *bb, int i, hl_tensor *x) {
    return hl_batchnorm_layer_forward(ctx, &bb->bn[i], hl_conv2d_layer_forward(ctx, &bb->conv[i], x));
}

/* The small kinds run stage by stage so that hl_backbone_forward_to/_from can split them (backbone.h): each runs
 * stages from..to (inclusive) of its four; the full forward is 0..3. */
#define SMALL_STAGES 4

/* cnn-small: conv–ReLU–pool ×3, fc1–BN–ReLU; cnn-medium: (conv–BN–ReLU ×2, pool) ×3, fc1–BN–ReLU–dropout. */
static hl_tensor *cnn_run(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *h, int from, int to) {
    const bool small = bb->kind == HL_BACKBONE_CNN_SMALL;
    for (int s = from; s <= to && s < 3; s++) {
        if (small) {
            h = hl_maxpool2d(ctx, hl_relu(ctx, hl_conv2d_layer_forward(ctx, &bb->conv[s], h)), 2, 2, 0);
            continue;
        }
        for (int j = 0; j < 2; j++) h = hl_relu(ctx, hl_backbone_conv_bn(ctx, bb, 2 * s + j, h));
        h = hl_maxpool2d(ctx, h, 2, 2, 0);
    }
    if (to < 3) return h;
    h = hl_linear_layer_forward(ctx, &bb->fc[0], hl_flatten(ctx, h));
    if (small) return hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &bb->bn[0], h));
    h = hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &bb->bn[6], h));
    return hl_dropout(ctx, h, 0.3f);
}

/* resnet-small: conv1–BN–ReLU, then layer1..3 of two basic blocks each, then global average pooling. */
static hl_tensor *resnet_small_run(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *h, int from, int to) {
    int ci = 0; /* conv and bn indices advance together (each conv has its bn), run or not */
    if (from == 0) h = hl_relu(ctx, hl_backbone_conv_bn(ctx, bb, ci, h));
    ci++;
    int in = 32;
    for (int s = 1; s <= 3; s++) {
        int out = 16 << s;
        for (int b = 0; b < 2; b++) {
            bool down = (s > 1 && b == 0) || in != out;
            if (s >= from && s <= to) {
                hl_tensor *o = hl_relu(ctx, hl_backbone_conv_bn(ctx, bb, ci, h));
                o = hl_backbone_conv_bn(ctx, bb, ci + 1, o);
                hl_tensor *id = down ? hl_backbone_conv_bn(ctx, bb, ci + 2, h) : h;
                h = hl_relu(ctx, hl_add(ctx, o, id));
            }
            ci += down ? 3 : 2;
            in = out;
        }
    }
    HL_ASSERT(ci == bb->nconv, "resnet-small: %d of %d convolutions used", ci, bb->nconv);
    return to < 3 ? h : hl_global_avgpool(ctx, h);
}

static hl_tensor *small_stages(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *h, int from, int to) {
    return bb->kind == HL_BACKBONE_RESNET_SMALL ? resnet_small_run(ctx, bb, h, from, to)
                                                : cnn_run(ctx, bb, h, from, to);
}

bool hl_backbone_splits(hl_backbone_kind kind, int stage) {
    return !kinds[kind].imagenet && stage >= 0 && stage < SMALL_STAGES - 1;
}

void hl_backbone_map_shape(const hl_backbone *bb, int stage, int shape[3]) {
    HL_ASSERT(hl_backbone_splits(bb->kind, stage), "%s does not split after stage %d", kinds[bb->kind].name, stage);
    if (bb->kind == HL_BACKBONE_RESNET_SMALL) { /* stride 1 through layer1, 2 in layer2 */
        shape[0] = stage < 2 ? 32 : 64;
        shape[1] = stage < 2 ? bb->h : (bb->h + 1) / 2;
        shape[2] = stage < 2 ? bb->w : (bb->w + 1) / 2;
        return;
    }
    shape[0] = 32 << stage, shape[1] = bb->h, shape[2] = bb->w; /* each conv stage ends with a 2×2 max pool */
    for (int s = 0; s <= stage; s++) shape[1] /= 2, shape[2] /= 2;
}

hl_tensor *hl_backbone_forward_to(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x, int stage) {
    HL_ASSERT(hl_backbone_splits(bb->kind, stage), "%s does not split after stage %d", kinds[bb->kind].name, stage);
    HL_ASSERT_T(x->ndim == 4 && x->shape[1] == bb->c && x->shape[2] == bb->h && x->shape[3] == bb->w, x);
    return small_stages(ctx, bb, x, 0, stage);
}

hl_tensor *hl_backbone_forward_from(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *h, int stage) {
    HL_ASSERT(hl_backbone_splits(bb->kind, stage), "%s does not split after stage %d", kinds[bb->kind].name, stage);
    hl_tensor *f = small_stages(ctx, bb, h, stage + 1, SMALL_STAGES - 1);
    HL_ASSERT_SHAPE(f->ndim == 2 && f->shape[0] == h->shape[0] && f->shape[1] == bb->features, f, h);
    return f;
}

hl_tensor *hl_backbone_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x) {
    HL_ASSERT_T(x->ndim == 4 && x->shape[1] == bb->c && x->shape[2] == bb->h && x->shape[3] == bb->w, x);
    hl_tensor *f;
    switch (bb->kind) {
    case HL_BACKBONE_CNN_SMALL:
    case HL_BACKBONE_CNN_MEDIUM:
    case HL_BACKBONE_RESNET_SMALL: f = small_stages(ctx, bb, x, 0, SMALL_STAGES - 1); break;
    default: f = hl_backbone_forward_imagenet(ctx, bb, x); break;
    }
    HL_ASSERT_SHAPE(f->ndim == 2 && f->shape[0] == x->shape[0] && f->shape[1] == bb->features, f, x);
    return f;
}
