/* core/cpu/warp.c — CPU kernels of the bilinear affine warp (see core/kern/warp.h for the contract).
 *
 * Coordinates are evaluated in double and in PIXEL space. Substituting x_n = (2j+1)/W − 1, y_n = (2i+1)/H − 1 into
 * ix = ((θ0·x_n + θ1·y_n + θ2 + 1)·W − 1)/2 (and the same for iy) gives
 *     ix = θ0·(j+½) + θ1·(W/H)·(i+½) + (W/2)·(θ2 + 1 − θ0 − θ1) − ½
 *     iy = θ3·(H/W)·(j+½) + θ4·(i+½) + (H/2)·(θ5 + 1 − θ3 − θ4) − ½
 * which is the same map as PyTorch's (up to float rounding), but lands exactly on integers for the identity, flips
 * and whole-pixel shifts, so those reproduce their input bit for bit.
 * Bilinear: x0 = ⌊ix⌋, fx = ix − x0, taps (y0+dy, x0+dx) with weights (dy ? fy : 1−fy)·(dx ? fx : 1−fx); taps
 * outside the image read zero (and receive no gradient). */
#include "core/kern/warp.h"

#include <math.h>

#define WARP_PAR_MIN 16384 /* output elements below which the loops stay serial */

/* The pixel-space affine map of one sample: ix = m[0]·(j+½) + m[1]·(i+½) + m[2], iy = m[3]·(j+½) + m[4]·(i+½) + m[5]. */
static void warp_pixel_map(const float *th, int64_t H, int64_t W, double m[6]) {
    const double t0 = th[0], t1 = th[1], t2 = th[2], t3 = th[3], t4 = th[4], t5 = th[5];
    const double h = (double)H, w = (double)W;
    m[0] = t0;
    m[1] = t1 * w / h;
    m[2] = 0.5 * w * (t2 + 1.0 - t0 - t1) - 0.5;
    m[3] = t3 * h / w;
    m[4] = t4;
    m[5] = 0.5 * h * (t5 + 1.0 - t3 - t4) - 0.5;
}

/* The four bilinear taps of output pixel (i,j): flat indices into an H×W plane and weights; a tap outside the image
 * gets index 0 and weight 0. Returns false when no tap is inside (the sample reads zero); that test also rejects
 * NaN and huge coordinates before they are converted to integers. */
static inline bool warp_taps(const double m[6], int64_t H, int64_t W, int64_t i, int64_t j, int64_t idx[4],
                             double wt[4]) {
    const double cj = (double)j + 0.5, ci = (double)i + 0.5;
    const double ix = m[0] * cj + m[1] * ci + m[2];
    const double iy = m[3] * cj + m[4] * ci + m[5];
    if (!(ix > -1.0 && ix < (double)W && iy > -1.0 && iy < (double)H)) return false;
    const double fx0 = floor(ix), fy0 = floor(iy);
    const int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
    const double fx = ix - fx0, fy = iy - fy0;
    for (int k = 0; k < 4; k++) {
        const int64_t yy = y0 + (k >> 1), xx = x0 + (k & 1);
        const double w = ((k >> 1) ? fy : 1.0 - fy) * ((k & 1) ? fx : 1.0 - fx);
        const bool in = yy >= 0 && yy < H && xx >= 0 && xx < W;
        idx[k] = in ? yy * W + xx : 0;
        wt[k] = in ? w : 0.0;
    }
    return true;
}

/* Parallel over (plane, row): every output element is written by exactly one iteration. */
static void cpu_affine_fwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *x,
                           float *y) {
    const int64_t P = B * C, HW = H * W;
#pragma omp parallel for collapse(2) schedule(static) if (P * HW > WARP_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        for (int64_t i = 0; i < H; i++) {
            double m[6];
            warp_pixel_map(theta + (p / C) * 6, H, W, m);
            const float *xp = x + p * HW;
            float *yp = y + p * HW + i * W;
            for (int64_t j = 0; j < W; j++) {
                int64_t idx[4];
                double wt[4];
                double v = 0.0;
                if (warp_taps(m, H, W, i, j, idx, wt))
                    v = wt[0] * xp[idx[0]] + wt[1] * xp[idx[1]] + wt[2] * xp[idx[2]] + wt[3] * xp[idx[3]];
                yp[j] = (float)v;
            }
        }
    }
}

/* The adjoint: scatter-add gy into gx with the forward's weights. Taps of different output pixels collide inside a
 * plane, so the parallel loop runs over (b, c) planes only — each thread owns whole planes of gx, no races. */
static void cpu_affine_bwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *gy,
                           float *gx) {
    const int64_t P = B * C, HW = H * W;
#pragma omp parallel for schedule(static) if (P * HW > WARP_PAR_MIN)
    for (int64_t p = 0; p < P; p++) {
        double m[6];
        warp_pixel_map(theta + (p / C) * 6, H, W, m);
        const float *gp = gy + p * HW;
        float *gxp = gx + p * HW;
        for (int64_t i = 0; i < H; i++) {
            for (int64_t j = 0; j < W; j++) {
                int64_t idx[4];
                double wt[4];
                const double g = gp[i * W + j];
                if (g == 0.0 || !warp_taps(m, H, W, i, j, idx, wt)) continue;
                for (int k = 0; k < 4; k++) gxp[idx[k]] += (float)(wt[k] * g);
            }
        }
    }
}

/* dL/dθ of the warp for one sample (see hl_rotate_t in core/ops/ops.h for the math). Uses
 * this file's pixel map and taps: pixel (i,j) samples at ix = (W/2)(θ0 x_n + θ1 y_n + θ2 + 1) − ½,
 * iy = (H/2)(θ3 x_n + θ4 y_n + θ5 + 1) − ½; out = Σ_k w_k x_k, and with fx, fy the fractional parts
 *     ∂out/∂ix = (1−fy)(x01 − x00) + fy(x11 − x10),   ∂out/∂iy = (1−fx)(x10 − x00) + fx(x11 − x01)
 * (taps outside the image read 0), ∂ix/∂θ0..2 = (W/2)(x_n, y_n, 1), ∂iy/∂θ3..5 = (H/2)(x_n, y_n, 1). */
static void warp_theta_grad(int64_t C, int64_t H, int64_t W, const float *th, const float *x, const float *gy,
                            double g[6]) {
    const double h = (double)H, w = (double)W;
    const double t0 = th[0], t1 = th[1], t2 = th[2], t3 = th[3], t4 = th[4], t5 = th[5];
    /* the CPU kernel's pixel map (core/cpu/warp.c, warp_pixel_map), evaluated the same way so the taps agree */
    const double m[6] = {t0, t1 * w / h, 0.5 * w * (t2 + 1.0 - t0 - t1) - 0.5,
                         t3 * h / w, t4, 0.5 * h * (t5 + 1.0 - t3 - t4) - 0.5};
    for (int k = 0; k < 6; k++) g[k] = 0.0;
    for (int64_t i = 0; i < H; i++) {
        for (int64_t j = 0; j < W; j++) {
            const double xn = (2.0 * (double)j + 1.0) / w - 1.0, yn = (2.0 * (double)i + 1.0) / h - 1.0;
            const double cj = (double)j + 0.5, ci = (double)i + 0.5;
            const double ix = m[0] * cj + m[1] * ci + m[2];
            const double iy = m[3] * cj + m[4] * ci + m[5];
            if (!(ix > -1.0 && ix < w && iy > -1.0 && iy < h)) continue;
            const double fx0 = floor(ix), fy0 = floor(iy);
            const int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
            const double fx = ix - fx0, fy = iy - fy0;
            double dix = 0.0, diy = 0.0;
            for (int64_t c = 0; c < C; c++) {
                const float *xp = x + c * H * W;
                const double gv = gy[c * H * W + i * W + j];
                if (gv == 0.0) continue;
                double v[4];
                for (int k = 0; k < 4; k++) {
                    const int64_t yy = y0 + (k >> 1), xx = x0 + (k & 1);
                    v[k] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? xp[yy * W + xx] : 0.0;
                }
                dix += gv * ((1.0 - fy) * (v[1] - v[0]) + fy * (v[3] - v[2]));
                diy += gv * ((1.0 - fx) * (v[2] - v[0]) + fx * (v[3] - v[1]));
            }
            g[0] += 0.5 * w * xn * dix, g[1] += 0.5 * w * yn * dix, g[2] += 0.5 * w * dix;
            g[3] += 0.5 * h * xn * diy, g[4] += 0.5 * h * yn * diy, g[5] += 0.5 * h * diy;
        }
    }
}

static void cpu_rotate_theta(int64_t B, int64_t H, int64_t W, const float *angles, float *theta) {
    const double hw = (double)H / (double)W;
    for (int64_t b = 0; b < B; b++) {
        const double c = cos((double)angles[b]), s = sin((double)angles[b]);
        float *t = theta + b * 6;
        t[0] = (float)c;
        t[1] = (float)(-s * hw);
        t[2] = 0.0f;
        t[3] = (float)(s / hw);
        t[4] = (float)c;
        t[5] = 0.0f;
    }
}

static void cpu_rotate_angle_bwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *angles,
                                 const float *x, const float *gy, float *ga) {
    const double hw = (double)H / (double)W;
    for (int64_t b = 0; b < B; b++) {
        double g[6];
        warp_theta_grad(C, H, W, theta + b * 6, x + b * C * H * W, gy + b * C * H * W, g);
        const double c = cos((double)angles[b]), s = sin((double)angles[b]);
        ga[b] += (float)(-s * g[0] - c * hw * g[1] + c / hw * g[3] - s * g[4]);
    }
}

const hl_kern_warp hl_cpu_warp = {
    .affine_fwd = cpu_affine_fwd,
    .affine_bwd = cpu_affine_bwd,
    .rotate_theta = cpu_rotate_theta,
    .rotate_angle_bwd = cpu_rotate_angle_bwd,
};
