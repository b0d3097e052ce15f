/* core/kern/warp.h — raw kernels of the warp op family (signatures). CPU instance: core/cpu/warp.c.
 *
 * Bilinear affine warp with PyTorch's affine_grid + grid_sample(mode=bilinear, padding_mode=zeros,
 * align_corners=False) semantics. x, y [B,C,H,W]; theta [B,6] (device memory, row-major 2×3 per sample) maps the
 * output's normalised coordinates (x_n, y_n, 1) to the input's. Pixel (i,j) has x_n = (2j+1)/W − 1,
 * y_n = (2i+1)/H − 1, and a normalised source coordinate s maps to the pixel coordinate ((s + 1)·W − 1)/2.
 */
#ifndef HL_KERN_WARP_H
#define HL_KERN_WARP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_warp {
    /* y = warp(x) (written, not accumulated). */
    void (*affine_fwd)(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *x, float *y);
    /* gx += warpᵀ(gy): each output pixel's gradient scattered to its (up to) four source taps with the bilinear
     * weights. The warp is linear in x, so this is the exact adjoint of affine_fwd. */
    void (*affine_bwd)(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *gy, float *gx);
    /* θ of a rotation by angles[b] (radians) about the image centre, as core/ops/warp.c's hl_rotate derives it:
     * θ_b = [[c, −s·H/W, 0], [s·W/H, c, 0]] with c = cos a, s = sin a evaluated in double (written). */
    void (*rotate_theta)(int64_t B, int64_t H, int64_t W, const float *angles, float *theta);
    /* The angle gradient of y = warp_θ(a)(x): ga[b] += Σ_k ∂L/∂θ_k · ∂θ_k/∂a_b, with ∂L/∂θ from the bilinear taps
     * (see core/cpu/warp.c) and dθ/da = [[−s, −c·H/W, 0], [c·W/H, −s, 0]]; sums in double per sample. */
    void (*rotate_angle_bwd)(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *angles,
                             const float *x, const float *gy, float *ga);
} hl_kern_warp;

extern const hl_kern_warp hl_cpu_warp;

#endif
