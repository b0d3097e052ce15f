/* core/nn/backbone_impl.h — internal to core/nn/backbone*.c: declaring layers into an hl_backbone, and the ImageNet
 * family's entry points (core/nn/backbone_imagenet.c). */
#ifndef HL_NN_BACKBONE_IMPL_H
#define HL_NN_BACKBONE_IMPL_H

#include "core/nn/backbone.h"

/* Declare the next convolution / batch norm / linear layer of bb as "<bb->prefix>.<name>" (asserts capacity). */
void hl_backbone_add_conv(hl_backbone *bb, hl_params *p, const char *name, int in, int out, int k, int stride, int pad,
                          bool bias);
void hl_backbone_add_bn(hl_backbone *bb, hl_params *p, const char *name, int c);
void hl_backbone_add_fc(hl_backbone *bb, hl_params *p, const char *name, int in, int out);

/* bn[i](conv[i](x)). */
hl_tensor *hl_backbone_conv_bn(hl_ctx *ctx, const hl_backbone *bb, int i, hl_tensor *x);

/* The ImageNet kinds (alexnet, vgg11, vgg16, resnet18, resnet50): declaration (bb->kind, c, h, w and prefix set,
 * the input already checked), initialisation and forward. */
void hl_backbone_declare_imagenet(hl_backbone *bb, hl_params *p);
void hl_backbone_reset_imagenet(hl_backbone *bb, hl_rng *r);
hl_tensor *hl_backbone_forward_imagenet(hl_ctx *ctx, const hl_backbone *bb, hl_tensor *x);

#endif
