/* core/nn/backbone_imagenet.c — torchvision's AlexNet, VGG-11/16 (no batch norm), ResNet-18/50 (backbone.h): the
 * same layers, in the same order, under the same state_dict names, so converted torchvision weights load as they
 * are and the forward agrees with torchvision's (tests/bench/backbone_torch.py checks it on random weights).
 *
 * Spatial sizes at 224×224 (floor division everywhere, as PyTorch):
 *   alexnet   conv 11×11/4 p2 → 55, maxpool 3/2 → 27, conv 5×5 p2, pool → 13, 3 × conv 3×3 p1, pool → 6; adaptive
 *             pooling to 6×6 (identity at 224). Three 3/2 pools need H ≥ 63 (63 → 15 → 7 → 3 → 1).
 *   vgg*      3×3 p1 convolutions, five maxpools 2/2: 224 → 7 (H ≥ 32 leaves ≥ 1); adaptive pooling to 7×7.
 *   resnet*   conv 7×7/2 p3 → 112, maxpool 3/2 p1 → 56, layer2..4 halve (stride 2): 28, 14, 7; global average.
 * Input normalisation: (x − mean)/std as two broadcast ops, x [B,C,H,W] against [1,3,1,1] constants, so a 1-channel
 * x broadcasts to 3 channels in the same step (backbone.h). A ReLU right after a convolution, a batch norm or a
 * residual sum is fused into it (hl_conv2d_relu, hl_batchnorm_relu, hl_add_relu: same values and gradients, no
 * intermediate tensor).
 */
#include "core/nn/backbone_impl.h"

#include <stdio.h>

#include "core/nn/init.h"

/* VGG configurations (torchvision's cfgs "A" and "D"): output channels of each 3×3 conv, 0 = maxpool 2. */
static const int vgg11_cfg[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
static const int vgg16_cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};

static const int *vgg_cfg(hl_backbone_kind kind, int *n) {
    if (kind == HL_BACKBONE_VGG11) {
        *n = (int)HL_ARRAY_LEN(vgg11_cfg);
        return vgg11_cfg;
    }
    *n = (int)HL_ARRAY_LEN(vgg16_cfg);
    return vgg16_cfg;
}

static bool is_resnet(hl_backbone_kind k) { return k == HL_BACKBONE_RESNET18 || k == HL_BACKBONE_RESNET50; }

/* ---- declaration ------------------------------------------------------------------------------------------------- */

static void declare_alexnet(hl_backbone *bb, hl_params *p) {
    hl_backbone_add_conv(bb, p, "features.0", 3, 64, 11, 4, 2, true);
    hl_backbone_add_conv(bb, p, "features.3", 64, 192, 5, 1, 2, true);
    hl_backbone_add_conv(bb, p, "features.6", 192, 384, 3, 1, 1, true);
    hl_backbone_add_conv(bb, p, "features.8", 384, 256, 3, 1, 1, true);
    hl_backbone_add_conv(bb, p, "features.10", 256, 256, 3, 1, 1, true);
    hl_backbone_add_fc(bb, p, "classifier.1", 256 * 6 * 6, 4096);
    hl_backbone_add_fc(bb, p, "classifier.4", 4096, 4096);
    bb->features = 4096;
}

/* features.<i>: a conv takes indices i (conv) and i + 1 (ReLU), a maxpool one. */
static void declare_vgg(hl_backbone *bb, hl_params *p) {
    int n, in = 3, idx = 0;
    const int *cfg = vgg_cfg(bb->kind, &n);
    char name[32];
    for (int i = 0; i < n; i++) {
        if (!cfg[i]) {
            idx++;
            continue;
        }
        snprintf(name, sizeof name, "features.%d", idx);
        hl_backbone_add_conv(bb, p, name, in, cfg[i], 3, 1, 1, true);
        in = cfg[i];
        idx += 2;
    }
    hl_backbone_add_fc(bb, p, "classifier.0", 512 * 7 * 7, 4096);
    hl_backbone_add_fc(bb, p, "classifier.3", 4096, 4096);
    bb->features = 4096;
}

static const int resnet18_blocks[4] = {2, 2, 2, 2}, resnet50_blocks[4] = {3, 4, 6, 3};

/* Per block, torchvision's order: conv1 bn1 conv2 bn2 [conv3 bn3] [downsample.0 downsample.1]. A bottleneck's width
 * is 64·2^s and its output 4× that; the stride sits on its 3×3 conv2. */
static void declare_resnet(hl_backbone *bb, hl_params *p) {
    const bool bottleneck = bb->kind == HL_BACKBONE_RESNET50;
    const int *blocks = bottleneck ? resnet50_blocks : resnet18_blocks, exp = bottleneck ? 4 : 1;
    char n[64];
    hl_backbone_add_conv(bb, p, "conv1", 3, 64, 7, 2, 3, false);
    hl_backbone_add_bn(bb, p, "bn1", 64);
    int in = 64;
    for (int s = 0; s < 4; s++) {
        const int width = 64 << s, out = width * exp;
        for (int b = 0; b < blocks[s]; b++) {
            const int stride = s > 0 && b == 0 ? 2 : 1;
#define LAYER(fmt, ...) (snprintf(n, sizeof n, "layer%d.%d." fmt, s + 1, b, __VA_ARGS__), n)
            if (bottleneck) {
                hl_backbone_add_conv(bb, p, LAYER("conv%d", 1), in, width, 1, 1, 0, false);
                hl_backbone_add_bn(bb, p, LAYER("bn%d", 1), width);
                hl_backbone_add_conv(bb, p, LAYER("conv%d", 2), width, width, 3, stride, 1, false);
                hl_backbone_add_bn(bb, p, LAYER("bn%d", 2), width);
                hl_backbone_add_conv(bb, p, LAYER("conv%d", 3), width, out, 1, 1, 0, false);
                hl_backbone_add_bn(bb, p, LAYER("bn%d", 3), out);
            } else {
                hl_backbone_add_conv(bb, p, LAYER("conv%d", 1), in, width, 3, stride, 1, false);
                hl_backbone_add_bn(bb, p, LAYER("bn%d", 1), width);
                hl_backbone_add_conv(bb, p, LAYER("conv%d", 2), width, width, 3, 1, 1, false);
                hl_backbone_add_bn(bb, p, LAYER("bn%d", 2), width);
            }
            if (stride != 1 || in != out) {
                hl_backbone_add_conv(bb, p, LAYER("downsample.%d", 0), in, out, 1, stride, 0, false);
                hl_backbone_add_bn(bb, p, LAYER("downsample.%d", 1), out);
            }
#undef LAYER
            in = out;
        }
    }
    bb->features = in;
}

void hl_backbone_declare_imagenet(hl_backbone *bb, hl_params *p) {
    switch (bb->kind) {
    case HL_BACKBONE_ALEXNET: declare_alexnet(bb, p); break;
    case HL_BACKBONE_VGG11:
    case HL_BACKBONE_VGG16: declare_vgg(bb, p); break;
    case HL_BACKBONE_RESNET18:
    case HL_BACKBONE_RESNET50: declare_resnet(bb, p); break;
    default: HL_ASSERT(false, "backbone kind %d is not an ImageNet kind", (int)bb->kind);
    }
}

/* ---- initialisation ---------------------------------------------------------------------------------------------- */

static hl_rng next_stream(hl_rng *r) { return hl_rng_split(r, r->counter++); }

void hl_backbone_reset_imagenet(hl_backbone *bb, hl_rng *r) {
    if (bb->kind == HL_BACKBONE_ALEXNET) { /* torchvision's AlexNet keeps PyTorch's layer defaults */
        for (int i = 0; i < bb->nconv; i++) hl_nn_init_default_conv2d(&bb->conv[i], r);
        for (int i = 0; i < bb->nfc; i++) hl_nn_init_default_linear(&bb->fc[i], r);
        return;
    }
    for (int i = 0; i < bb->nconv; i++) {
        hl_rng s = next_stream(r);
        hl_init_kaiming_normal(bb->conv[i].w, &s, 0.0f, HL_FAN_OUT, HL_NONLIN_RELU);
        if (bb->conv[i].b) hl_init_constant(bb->conv[i].b, 0.0f);
    }
    for (int i = 0; i < bb->nbn; i++) hl_nn_init_default_batchnorm(&bb->bn[i], r);
    for (int i = 0; i < bb->nfc; i++) { /* VGG's linear layers */
        hl_rng s = next_stream(r);
        hl_init_normal(bb->fc[i].w, &s, 0.0f, 0.01f);
        hl_init_constant(bb->fc[i].b, 0.0f);
    }
}

/* ---- forward ----------------------------------------------------------------------------------------------------- */

/* x [B,C,H,W] in [0,1], C 1 or 3 -> (x − mean)/std [B,3,H,W]. */
static hl_tensor *normalise(hl_ctx *ctx, hl_tensor *x) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    hl_tensor *m = hl_tensor_from(ctx, 4, HL_SHAPE(1, 3, 1, 1), mean);
    hl_tensor *s = hl_tensor_from(ctx, 4, HL_SHAPE(1, 3, 1, 1), std);
    return hl_div(ctx, hl_sub(ctx, x, m), s);
}

static hl_tensor *conv_relu(hl_ctx *ctx, const hl_backbone *bb, int i, hl_tensor *x) {
    return hl_conv2d_layer_forward_relu(ctx, &bb->conv[i], x);
}

/* relu(bn[i](conv[i](x))) */
static hl_tensor *conv_bn_relu(hl_ctx *ctx, const hl_backbone *bb, int i, hl_tensor *x) {
    return hl_batchnorm_layer_forward_relu(ctx, &bb->bn[i], hl_conv2d_layer_forward(ctx, &bb->conv[i], x));
}

static hl_tensor *fc_relu(hl_ctx *ctx, const hl_backbone *bb, int i, hl_tensor *x) {
    return hl_relu(ctx, hl_linear_layer_forward(ctx, &bb->fc[i], x));
}

static hl_tensor *alexnet_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *h) {
    h = hl_maxpool2d(ctx, conv_relu(ctx, bb, 0, h), 3, 2, 0);
    h = hl_maxpool2d(ctx, conv_relu(ctx, bb, 1, h), 3, 2, 0);
    h = conv_relu(ctx, bb, 4, conv_relu(ctx, bb, 3, conv_relu(ctx, bb, 2, h)));
    h = hl_flatten(ctx, hl_adaptive_avgpool2d(ctx, hl_maxpool2d(ctx, h, 3, 2, 0), 6, 6));
    h = fc_relu(ctx, bb, 0, hl_dropout(ctx, h, 0.5f));
    return fc_relu(ctx, bb, 1, hl_dropout(ctx, h, 0.5f));
}

static hl_tensor *vgg_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *h) {
    int n, ci = 0;
    const int *cfg = vgg_cfg(bb->kind, &n);
    for (int i = 0; i < n; i++) h = cfg[i] ? conv_relu(ctx, bb, ci++, h) : hl_maxpool2d(ctx, h, 2, 2, 0);
    h = hl_flatten(ctx, hl_adaptive_avgpool2d(ctx, h, 7, 7));
    h = hl_dropout(ctx, fc_relu(ctx, bb, 0, h), 0.5f);
    return hl_dropout(ctx, fc_relu(ctx, bb, 1, h), 0.5f);
}

static hl_tensor *resnet_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x) {
    const bool bottleneck = bb->kind == HL_BACKBONE_RESNET50;
    const int *blocks = bottleneck ? resnet50_blocks : resnet18_blocks, exp = bottleneck ? 4 : 1;
    int ci = 0, in = 64;
    hl_tensor *h = hl_maxpool2d(ctx, conv_bn_relu(ctx, bb, ci++, x), 3, 2, 1);
    for (int s = 0; s < 4; s++) {
        const int out = (64 << s) * exp;
        for (int b = 0; b < blocks[s]; b++) {
            const bool down = (s > 0 && b == 0) || in != out;
            hl_tensor *o = conv_bn_relu(ctx, bb, ci++, h);
            if (bottleneck) o = conv_bn_relu(ctx, bb, ci++, o);
            o = hl_backbone_conv_bn(ctx, bb, ci++, o);
            hl_tensor *id = down ? hl_backbone_conv_bn(ctx, bb, ci++, h) : h;
            h = hl_add_relu(ctx, o, id);
            in = out;
        }
    }
    HL_ASSERT(ci == bb->nconv, "%s: %d of %d convolutions used", hl_backbone_kind_name(bb->kind), ci, bb->nconv);
    return hl_global_avgpool(ctx, h);
}

hl_tensor *hl_backbone_forward_imagenet(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x) {
    hl_tensor *h = normalise(ctx, x);
    if (bb->kind == HL_BACKBONE_ALEXNET) return alexnet_forward(ctx, bb, h);
    if (is_resnet(bb->kind)) return resnet_forward(ctx, bb, h);
    return vgg_forward(ctx, bb, h);
}
