/* core/cuda/warp.cu — CUDA kernels of the bilinear affine warp (contract in core/kern/warp.h; the pixel-space map
 * and tap rule are those of core/cpu/warp.c, evaluated in double like the CPU, so forward values agree to float
 * rounding and land on exact integers for identity, flips and whole-pixel shifts).
 * Forward: one thread per output element. Backward: one thread per output element scattering its four weighted
 * taps with atomicAdd (taps of neighbouring outputs collide): the order of the float additions varies from run to
 * run, so gx is non-deterministic at round-off level (exact when every input pixel receives at most one tap,
 * e.g. identity and whole-pixel shifts).
 */
#include "core/cuda/common.cuh"

#include <math.h>

typedef struct warp_map {
    double m[6];
} warp_map;

__device__ static inline warp_map warp_pixel_map(const float *th, int64_t H, int64_t W) {
    const double t0 = th[0], t1 = th[1], t2 = th[2], t3 = th[3], t4 = th[4], t5 = th[5];
    const double h = (double)H, w = (double)W;
    warp_map r;
    r.m[0] = t0;
    r.m[1] = t1 * w / h;
    r.m[2] = 0.5 * w * (t2 + 1.0 - t0 - t1) - 0.5;
    r.m[3] = t3 * h / w;
    r.m[4] = t4;
    r.m[5] = 0.5 * h * (t5 + 1.0 - t3 - t4) - 0.5;
    return r;
}

__device__ static inline bool warp_taps(const warp_map &mp, int64_t H, int64_t W, int64_t i, int64_t j,
                                        int64_t idx[4], double wt[4]) {
    const double *m = mp.m;
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

__global__ static void k_affine_fwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *x,
                                    float *y) {
    const int64_t HW = H * W;
    HL_CUDA_FOR(t, B * C * HW) {
        const int64_t p = t / HW, i = (t % HW) / W, j = t % W;
        const warp_map mp = warp_pixel_map(theta + (p / C) * 6, H, W);
        const float *xp = x + p * HW;
        int64_t idx[4];
        double wt[4];
        double v = 0.0;
        if (warp_taps(mp, H, W, i, j, idx, wt))
            v = wt[0] * xp[idx[0]] + wt[1] * xp[idx[1]] + wt[2] * xp[idx[2]] + wt[3] * xp[idx[3]];
        y[t] = (float)v;
    }
}

__global__ static void k_affine_bwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *gy,
                                    float *gx) {
    const int64_t HW = H * W;
    HL_CUDA_FOR(t, B * C * HW) {
        const double g = gy[t];
        if (g == 0.0) continue;
        const int64_t p = t / HW, i = (t % HW) / W, j = t % W;
        const warp_map mp = warp_pixel_map(theta + (p / C) * 6, H, W);
        int64_t idx[4];
        double wt[4];
        if (!warp_taps(mp, H, W, i, j, idx, wt)) continue;
        float *gxp = gx + p * HW;
        for (int k = 0; k < 4; k++)
            if (wt[k] != 0.0) atomicAdd(gxp + idx[k], (float)(wt[k] * g));
    }
}

static void cuda_affine_fwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *x,
                            float *y) {
    const int64_t n = B * C * H * W;
    if (n <= 0) return;
    k_affine_fwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(B, C, H, W, theta, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_affine_bwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta, const float *gy,
                            float *gx) {
    const int64_t n = B * C * H * W;
    if (n <= 0) return;
    k_affine_bwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(B, C, H, W, theta, gy, gx);
    HL_CUDA_LAUNCH();
}

__global__ static void k_rotate_theta(int64_t B, double hw, const float *angles, float *theta) {
    HL_CUDA_FOR(b, B) {
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

static void cuda_rotate_theta(int64_t B, int64_t H, int64_t W, const float *angles, float *theta) {
    if (B <= 0) return;
    k_rotate_theta<<<hl_cuda_blocks(B), HL_CUDA_THREADS>>>(B, (double)H / (double)W, angles, theta);
    HL_CUDA_LAUNCH();
}

/* One block per sample; each thread sums its pixels' contributions to dL/da (core/cpu/warp.c's warp_theta_grad
 * folded with dθ/da), then a fixed-order block sum: deterministic, equal to the CPU up to summation order. */
__global__ static void k_rotate_angle_bwd(int64_t C, int64_t H, int64_t W, const float *theta, const float *angles,
                                          const float *x, const float *gy, float *ga) {
    const int64_t b = blockIdx.x, HW = H * W;
    const float *th = theta + b * 6;
    const warp_map mp = warp_pixel_map(th, H, W);
    const double h = (double)H, w = (double)W, hw = h / w;
    const double c = cos((double)angles[b]), s = sin((double)angles[b]);
    const double *m = mp.m;
    double acc = 0.0;
    for (int64_t t = threadIdx.x; t < HW; t += blockDim.x) {
        const int64_t i = t / W, j = t % W;
        const double xn = (2.0 * (double)j + 1.0) / w - 1.0, yn = (2.0 * (double)i + 1.0) / h - 1.0;
        const double cj = (double)j + 0.5, ci = (double)i + 0.5;
        const double ix = m[0] * cj + m[1] * ci + m[2], iy = m[3] * cj + m[4] * ci + m[5];
        if (!(ix > -1.0 && ix < w && iy > -1.0 && iy < h)) continue;
        const double fx0 = floor(ix), fy0 = floor(iy);
        const int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
        const double fx = ix - fx0, fy = iy - fy0;
        double dix = 0.0, diy = 0.0;
        for (int64_t ch = 0; ch < C; ch++) {
            const float *xp = x + (b * C + ch) * HW;
            const double gv = gy[(b * C + ch) * HW + t];
            if (gv == 0.0) continue;
            double v[4];
            for (int k = 0; k < 4; k++) {
                const int64_t yy = y0 + (k >> 1), xx = x0 + (k & 1);
                v[k] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? xp[yy * W + xx] : 0.0;
            }
            dix += gv * ((1.0 - fy) * (v[1] - v[0]) + fy * (v[3] - v[2]));
            diy += gv * ((1.0 - fx) * (v[2] - v[0]) + fx * (v[3] - v[1]));
        }
        const double g0 = 0.5 * w * xn * dix, g1 = 0.5 * w * yn * dix, g3 = 0.5 * h * xn * diy, g4 = 0.5 * h * yn * diy;
        acc += -s * g0 - c * hw * g1 + c / hw * g3 - s * g4;
    }
    const double sum = hl_cuda_block_sum(acc);
    if (threadIdx.x == 0) ga[b] += (float)sum;
}

static void cuda_rotate_angle_bwd(int64_t B, int64_t C, int64_t H, int64_t W, const float *theta,
                                  const float *angles, const float *x, const float *gy, float *ga) {
    if (B <= 0) return;
    k_rotate_angle_bwd<<<(unsigned)B, HL_CUDA_THREADS>>>(C, H, W, theta, angles, x, gy, ga);
    HL_CUDA_LAUNCH();
}

const hl_kern_warp hl_cuda_warp = {
    .affine_fwd = cuda_affine_fwd,
    .affine_bwd = cuda_affine_bwd,
    .rotate_theta = cuda_rotate_theta,
    .rotate_angle_bwd = cuda_rotate_angle_bwd,
};
