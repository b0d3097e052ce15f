/* core/nn/backbone.h — the networks under a hashing layer, named in YAML (`backbone:`): small ones trained from
 * scratch, and torchvision's ImageNet architectures, which take pretrained weights (docs/backbones.md).
 *
 * Input x [B, C, H, W] in [0, 1] (the layers adapt to the dataset's image size), output features [B, F]. Layers are
 * core/nn/layers.h layers declared in an hl_params under `prefix` with PyTorch state_dict names, so a user can bring
 * weights trained elsewhere (hl_backbone_load_weights).
 *
 * Small backbones (any C ≥ 1, H, W ≥ 8; no input normalisation), core/nn/backbone.c:
 *   cnn-small     (F = 512) the engine benchmark's ref-cnn body (BENCH.md) with batch norm on its feature layer:
 *                 conv3x3(C→32, pad 1) → ReLU → maxpool 2 → conv3x3(32→64) → ReLU → maxpool 2
 *                 → conv3x3(64→128) → ReLU → maxpool 2 → flatten → linear(128·⌊H/8⌋·⌊W/8⌋ → 512) → BN1d → ReLU
 *                 names: conv1 conv2 conv3 fc1 bn_fc1
 *                 (The BN1d is ours: without it, pairwise-likelihood hashers such as DPSH trained from scratch
 *                 collapse every image to one output — the dissimilar pairs' push shrinks the ReLU features' shared
 *                 component until the features die; seen here and in PyTorch with the same network. With it, DPSH
 *                 reaches mAP@all 0.73 on Fashion-MNIST in 3 epochs.)
 *   cnn-medium    (F = 512) VGG-style with batch norm:
 *                 [conv3x3 32, BN, ReLU]×2 → maxpool 2 → [conv3x3 64, BN, ReLU]×2 → maxpool 2
 *                 → [conv3x3 128, BN, ReLU]×2 → maxpool 2 → flatten → linear(→ 512) → BN1d → ReLU → dropout 0.3
 *                 names: conv1_1 bn1_1 conv1_2 bn1_2 conv2_1 … conv3_2 bn3_2 fc1 bn_fc1
 *   resnet-small  (F = 128) a CIFAR-style ResNet-14 (He et al. 2016, §4.2 with n = 2):
 *                 conv3x3(C→32) BN ReLU → 3 stages of 2 basic blocks (32, 64, 128 channels; stride 2 at the first
 *                 block of stages 2 and 3, 1×1 conv + BN shortcut when the shape changes) → global avg pool
 *                 names: conv1 bn1 layer1.0.conv1 layer1.0.bn1 layer1.0.conv2 layer1.0.bn2 layer2.0.downsample.0
 *                 layer2.0.downsample.1 … (torchvision's naming)
 *
 * ImageNet backbones, core/nn/backbone_imagenet.c: torchvision's architectures with torchvision's state_dict names
 * (torchvision.models.alexnet, vgg11, vgg16 — the variants without batch norm —, resnet18, resnet50), so a
 * torchvision state_dict converted to safetensors (scripts/convert_torchvision.py) loads as it is:
 *   alexnet   (F = 4096, H, W ≥ 63)  features.{0,3,6,8,10} → AdaptiveAvgPool 6×6 → classifier.{1,4}
 *   vgg11     (F = 4096, H, W ≥ 32)  features.{0,3,6,8,11,13,16,18} → AdaptiveAvgPool 7×7 → classifier.{0,3}
 *   vgg16     (F = 4096, H, W ≥ 32)  features.{0,2,5,7,10,12,14,17,19,21,24,26,28} → 7×7 → classifier.{0,3}
 *   resnet18  (F = 512,  H, W ≥ 8)   conv1 bn1 → maxpool → layer1..4 of BasicBlocks [2,2,2,2] → global avg pool
 *   resnet50  (F = 2048, H, W ≥ 8)   conv1 bn1 → maxpool → layer1..4 of Bottlenecks [3,4,6,3] (stride on the 3×3
 *                                    conv, torchvision's "v1.5") → global avg pool
 *   The features are what the hashing literature puts its hash layer on: the pooled output of a ResNet (its `fc` is
 *   not declared), and for AlexNet/VGG the classifier without its last linear layer (classifier[:-1], fc7):
 *   AlexNet Dropout, Linear(9216→4096), ReLU, Dropout, Linear(4096→4096), ReLU; VGG Linear(25088→4096), ReLU,
 *   Dropout, Linear(4096→4096), ReLU, Dropout (classifier.6 is not declared). Dropout (p 0.5) follows ctx->train.
 *   Input: x in [0, 1] is normalised inside the forward, (x − mean)/std with ImageNet's mean (0.485, 0.456, 0.406)
 *   and std (0.229, 0.224, 0.225), as differentiable ops, so attacks and their ε stay in pixel space. C must be 3
 *   or 1: a 1-channel image (Fashion-MNIST) is replicated to 3 channels (by the same broadcast), so the gray value g
 *   becomes (g − mean_c)/std_c in every channel c — what torchvision's Grayscale(3) followed by Normalize gives.
 *   A smaller H or W than the minimum leaves a pooling window empty in torchvision too: init refuses it naming the
 *   minimum. resnet18 and resnet50 work from 8×8 (32×32 CIFAR images give a 1×1 map before the pooling).
 *
 * Batch norm follows ctx->train (batch statistics in training, running statistics in eval: attacks run in eval),
 * except in frozen stages (hl_backbone_freeze): there it always uses the running statistics.
 *
 *     hl_backbone bb;
 *     HL_TRY(hl_backbone_init(&bb, &params, "backbone", "cnn-small", 1, 28, 28));   // declares
 *     HL_TRY(hl_params_alloc(&params));
 *     hl_rng r = hl_rng_make(seed, 7); hl_backbone_reset(&bb, &r);                 // PyTorch default init
 *     hl_tensor *f = hl_backbone_forward(ctx, &bb, x);                              // [B, bb.features]
 *
 * Storage: the layers live in fixed arrays inside the struct (resnet50 has 53 convolutions and batch norms), so an
 * hl_backbone is a plain value (about 7 KiB) that needs no free; the tensors belong to the hl_params.
 */
#ifndef HL_NN_BACKBONE_H
#define HL_NN_BACKBONE_H

#include "core/nn/layers.h"

#define HL_BACKBONE_NAMES "cnn-small|cnn-medium|resnet-small|alexnet|vgg11|vgg16|resnet18|resnet50"
#define HL_BACKBONE_MAX_CONV 64 /* resnet50: 53 */
#define HL_BACKBONE_MAX_BN 64   /* resnet50: 53 */
#define HL_BACKBONE_MAX_FC 2    /* AlexNet/VGG: fc6, fc7 */

typedef enum hl_backbone_kind {
    HL_BACKBONE_CNN_SMALL,
    HL_BACKBONE_CNN_MEDIUM,
    HL_BACKBONE_RESNET_SMALL,
    HL_BACKBONE_ALEXNET,
    HL_BACKBONE_VGG11,
    HL_BACKBONE_VGG16,
    HL_BACKBONE_RESNET18,
    HL_BACKBONE_RESNET50,
    HL_BACKBONE_KIND_COUNT
} hl_backbone_kind;

typedef struct hl_backbone {
    hl_backbone_kind kind;
    int c, h, w;   /* input shape */
    int features;  /* F */
    char prefix[48];
    /* Layers in declaration order (borrowed tensors owned by the hl_params). In the ResNets conv[i] and bn[i] go
     * together (each convolution has its batch norm); the forward knows the structure from `kind`. */
    hl_conv2d_layer conv[HL_BACKBONE_MAX_CONV];
    hl_batchnorm_layer bn[HL_BACKBONE_MAX_BN];
    hl_linear_layer fc[HL_BACKBONE_MAX_FC]; /* cnn-small/-medium: fc1; AlexNet/VGG: fc6, fc7 */
    int nconv, nbn, nfc;
} hl_backbone;

/* Kind by name, HL_BACKBONE_KIND_COUNT if unknown. */
hl_backbone_kind hl_backbone_kind_from_name(const char *name);
const char *hl_backbone_kind_name(hl_backbone_kind kind);
/* Smallest H and W the kind accepts (8, 32 for VGG, 63 for AlexNet). */
int hl_backbone_min_size(hl_backbone_kind kind);

/* Declares the layers of `name` for inputs [C, H, W] under prefix ("backbone" → "backbone.conv1.weight").
 * HL_EINVAL for an unknown name ("unknown backbone 'cnn-smal' (known: cnn-small|…)"), a channel count the kind does
 * not take (ImageNet kinds: 1 or 3) or an input too small for it ("backbone alexnet: input 1×32×32 is too small:
 * alexnet needs H and W of at least 63 pixels"). Nothing is declared on error. */
hl_status hl_backbone_init(hl_backbone *bb, hl_params *p, const char *prefix, const char *name, int c, int h, int w);

/* Initialisation of every layer (after hl_params_alloc), from r: PyTorch's defaults for the small kinds and
 * AlexNet; torchvision's own for VGG (conv kaiming_normal fan_out/relu, bias 0; linear N(0, 0.01²), bias 0) and the
 * ResNets (conv kaiming_normal fan_out/relu; batch norm weight 1, bias 0). */
void hl_backbone_reset(hl_backbone *bb, hl_rng *r);

/* x [B, C, H, W] -> [B, F]; shapes asserted. */
hl_tensor *hl_backbone_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x);

/* Split forward, for methods that act on a feature map inside the backbone (SSAH's feature deformations). Only the
 * small kinds split (cnn-small, cnn-medium, resnet-small), after any stage but the last: cnn-small/-medium after
 * conv1|conv2|conv3 (maps of ⌊H/2⌋, ⌊H/4⌋, ⌊H/8⌋ pixels a side, 32/64/128 channels), resnet-small after
 * conv1|layer1|layer2 (32/32/64 channels at H, H, ⌈H/2⌉). Stage indices as hl_backbone_stage_find's.
 *     hl_backbone_forward_to(x, s)      x [B, C, H, W] -> the map after stage s [B, C_s, H_s, W_s]
 *     hl_backbone_forward_from(h, s)    that map -> [B, F]: the remaining stages
 * forward_from(forward_to(x, s), s) runs the very ops of hl_backbone_forward(x), in the same order: equal bit for
 * bit. Both assert hl_backbone_splits(bb->kind, s); callers check it first (with a clear error for the user). */
bool hl_backbone_splits(hl_backbone_kind kind, int stage);
/* [C_s, H_s, W_s] of the map after stage s, as above. */
void hl_backbone_map_shape(const hl_backbone *bb, int stage, int shape[3]);
hl_tensor *hl_backbone_forward_to(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x, int stage);
hl_tensor *hl_backbone_forward_from(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *h, int stage);

/* ---- stages: what `freeze_until` names ----
 *
 * A kind's stages in forward order, each covering the parameters whose names (without the backbone's prefix) start
 * with one of its prefixes:
 *   cnn-small     conv1 conv2 conv3 fc1 (fc1 + bn_fc1)        cnn-medium  conv1 conv2 conv3 (conv1_* + bn1_*, …) fc1
 *   resnet-small  conv1 (conv1 + bn1) layer1 layer2 layer3    resnet18/50 conv1 (conv1 + bn1) layer1 … layer4
 *   alexnet/vgg*  features (every convolution) fc6 (AlexNet classifier.1, VGG classifier.0) fc7 (classifier.4 / .3)
 */
typedef struct hl_backbone_stage {
    const char *name;
    const char *prefixes[3]; /* NULL-terminated */
} hl_backbone_stage;

/* The stages of a kind (*n of them). */
const hl_backbone_stage *hl_backbone_stages(hl_backbone_kind kind, int *n);
/* Index of stage `name` of `kind` into *index; "" (or NULL) is -1 (no stage). HL_EINVAL otherwise:
 * "resnet18 has no stage 'layr2' (stages: conv1|layer1|layer2|layer3|layer4; did you mean 'layer2'?)". */
hl_status hl_backbone_stage_find(hl_backbone_kind kind, const char *name, int *index);
/* Freezes stages 0..until of bb (until < 0: nothing): clears REQUIRES_GRAD on their parameters (backward then
 * computes no gradient for them and optimizers skip them) and puts their batch norms in eval mode for good
 * (hl_batchnorm_layer.frozen). Returns the number of parameter tensors frozen. */
int hl_backbone_freeze(hl_backbone *bb, hl_params *p, int until);

/* Initialises the backbone from a safetensors file (pretrained weights a user brings): for every parameter and
 * buffer "<prefix>.<name>" of the backbone, the file's tensor "<prefix>.<name>" or else "<name>" is copied (F32;
 * F16/BF16 converted). Tensors of the file that the backbone does not have are ignored (a torchvision file's
 * classifier.6 / fc, num_batches_tracked); a backbone tensor missing from the file or with another shape is
 * HL_EMISMATCH naming the path, the tensor and both shapes; nothing is changed then. Returns the number of tensors
 * copied in *copied (may be NULL). core/nn/backbone_weights.c. */
hl_status hl_backbone_load_weights(hl_backbone *bb, hl_params *p, const char *path, int *copied);

#endif
