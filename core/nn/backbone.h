/* core/nn/backbone.h — the networks under a hashing layer, named in YAML (`backbone:`), trained from scratch.
 *
 * Input x [B, C, H, W] in [0, 1] (any C ≥ 1, H, W ≥ 8: the layers adapt to the dataset's image size), output
 * features [B, F]. Layers are core/nn/layers.h layers declared in an hl_params under `prefix` with PyTorch
 * state_dict names, so a user can bring weights trained elsewhere (hl_backbone_load_weights).
 *
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
 * Batch norm follows ctx->train (batch statistics in training, running statistics in eval: attacks run in eval).
 *
 *     hl_backbone bb;
 *     HL_TRY(hl_backbone_init(&bb, &params, "backbone", "cnn-small", 1, 28, 28));   // declares
 *     HL_TRY(hl_params_alloc(&params));
 *     hl_rng r = hl_rng_make(seed, 7); hl_backbone_reset(&bb, &r);                 // PyTorch default init
 *     hl_tensor *f = hl_backbone_forward(ctx, &bb, x);                              // [B, bb.features]
 */
#ifndef HL_NN_BACKBONE_H
#define HL_NN_BACKBONE_H

#include "core/nn/layers.h"

#define HL_BACKBONE_NAMES "cnn-small|cnn-medium|resnet-small"
#define HL_BACKBONE_MAX_CONV 20
#define HL_BACKBONE_MAX_BN 20

typedef enum hl_backbone_kind {
    HL_BACKBONE_CNN_SMALL,
    HL_BACKBONE_CNN_MEDIUM,
    HL_BACKBONE_RESNET_SMALL,
    HL_BACKBONE_KIND_COUNT
} hl_backbone_kind;

typedef struct hl_backbone {
    hl_backbone_kind kind;
    int c, h, w;   /* input shape */
    int features;  /* F */
    char prefix[48];
    /* Layers in forward order (borrowed tensors owned by the hl_params). Blocks of resnet-small are encoded in the
     * order conv/bn pairs are declared; the forward knows the structure from `kind`. */
    hl_conv2d_layer conv[HL_BACKBONE_MAX_CONV];
    hl_batchnorm_layer bn[HL_BACKBONE_MAX_BN];
    hl_linear_layer fc;
    int nconv, nbn;
} hl_backbone;

/* Kind by name, HL_BACKBONE_KIND_COUNT if unknown. */
hl_backbone_kind hl_backbone_kind_from_name(const char *name);

/* Declares the layers of `name` for inputs [C, H, W] under prefix ("backbone" → "backbone.conv1.weight").
 * HL_EINVAL for an unknown name ("unknown backbone 'cnn-smal' (known: cnn-small|cnn-medium|resnet-small)") or an
 * input too small for it (H or W < 8). */
hl_status hl_backbone_init(hl_backbone *bb, hl_params *p, const char *prefix, const char *name, int c, int h, int w);

/* PyTorch default initialisation of every layer (after hl_params_alloc), from r. */
void hl_backbone_reset(hl_backbone *bb, hl_rng *r);

/* x [B, C, H, W] -> [B, F]; shapes asserted. */
hl_tensor *hl_backbone_forward(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x);

/* Initialises the backbone from a safetensors file (pretrained weights a user brings): for every parameter and
 * buffer "<prefix>.<name>" of the backbone, the file's tensor "<prefix>.<name>" or else "<name>" is copied (F32;
 * F16/BF16 converted). Tensors of the file that the backbone does not have are ignored; a backbone tensor missing
 * from the file or with another shape is HL_EMISMATCH naming the path, the tensor and both shapes; nothing is
 * changed then. Returns the number of tensors copied in *copied (may be NULL). */
hl_status hl_backbone_load_weights(hl_backbone *bb, hl_params *p, const char *path, int *copied);

#endif
