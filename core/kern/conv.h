/* core/kern/conv.h — raw kernels of the conv op family (signatures). CPU instance: core/cpu/conv.c.
 *
 * Layouts: images are NCHW [B,C,H,W]; a "column" matrix is [C·kh·kw, B·Ho·Wo] — row (c,i,j) holds, for every output
 * pixel of every image, the input pixel that kernel tap (i,j) of channel c sees (0 in the padding). A
 * "channel-major" matrix is [C, B·HW]: the same data as NCHW with the batch and channel axes swapped, so one GEMM
 * covers the whole batch. Conv ops use these through ctx->k->base->gemm.
 */
#ifndef HL_KERN_CONV_H
#define HL_KERN_CONV_H

#include <stdbool.h>
#include <stdint.h>

/* Geometry of one conv2d: input [B,C,H,W] seen by a kh×kw kernel with stride s, zero padding p and dilation d
 * gives Ho×Wo output pixels, Ho = (H + 2·ph − dh·(kh − 1) − 1)/sh + 1. */
typedef struct hl_conv_geom {
    int64_t B, C, H, W; /* input image */
    int64_t kh, kw;     /* kernel taps */
    int64_t Ho, Wo;     /* output pixels */
    int sh, sw, ph, pw, dh, dw;
} hl_conv_geom;

typedef struct hl_kern_conv {
    /* col [C·kh·kw, B·Ho·Wo] = im2col(x [B,C,H,W]) (overwrites col). */
    void (*im2col)(hl_conv_geom g, const float *x, float *col);
    /* x [B,C,H,W] += col2im(col [C·kh·kw, B·Ho·Wo]): the adjoint of im2col (overlapping taps add up). */
    void (*col2im)(hl_conv_geom g, const float *col, float *x);
    /* y [C, B·HW] = x [B,C,HW] (overwrites y). */
    void (*to_cmajor)(int64_t B, int64_t C, int64_t HW, const float *x, float *y);
    /* y [B,C,HW] = (accumulate ? y : 0) + x [C, B·HW] + (bias ? bias[c] : 0). */
    void (*from_cmajor)(int64_t B, int64_t C, int64_t HW, const float *x, const float *bias, bool accumulate,
                        float *y);
    /* y [B,C,HW] += bias[c]. */
    void (*bias_add)(int64_t B, int64_t C, int64_t HW, const float *bias, float *y);
    /* db [C] += Σ_{b,hw} dy [B,C,HW]. */
    void (*bias_bwd)(int64_t B, int64_t C, int64_t HW, const float *dy, float *db);
} hl_kern_conv;

extern const hl_kern_conv hl_cpu_conv;

#endif
