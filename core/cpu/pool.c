/* core/cpu/pool.c — CPU kernels of the pool family. Each of the N = B·C planes is independent, so loops are
 * parallelised over planes (backward kernels write only their own plane of dx: no races). */
#include "core/kern/pool.h"

#include <stddef.h>

#define HL_POOL_PAR_MIN 32768 /* elements below which loops run on one thread */

/* Clips the window [o·s − p, o·s − p + k) to [0, n). */
static inline void window(int64_t o, int k, int s, int p, int64_t n, int64_t *lo, int64_t *hi) {
    int64_t a = o * s - p, b = a + k;
    *lo = a < 0 ? 0 : a;
    *hi = b > n ? n : b;
}

/* max_fwd for k = s = 2, p = 0 (the common 2×2 pooling): no clipping, window (oh,ow) = rows 2oh, 2oh+1 × cols
 * 2ow, 2ow+1, scanned in the same order as the general loop (so ties and NaNs resolve identically). */
static void max_fwd_2x2(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *x, float *y,
                        int32_t *idx) {
#pragma omp parallel for schedule(static) if (N * H * W > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        for (int64_t oh = 0; oh < Ho; oh++) {
            const float *r0 = x + n * H * W + 2 * oh * W, *r1 = r0 + W;
            float *yr = y + (n * Ho + oh) * Wo;
            int32_t *ir = idx ? idx + (n * Ho + oh) * Wo : NULL;
            for (int64_t ow = 0; ow < Wo; ow++) {
                const float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
                int best = 0;
                for (int q = 1; q < 4; q++)
                    if (v[q] > v[best] || v[q] != v[q]) best = q;
                yr[ow] = v[best];
                if (ir) ir[ow] = (int32_t)((2 * oh + (best >> 1)) * W + 2 * ow + (best & 1));
            }
        }
    }
}

static void cpu_max_fwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *x,
                        float *y, int32_t *idx) {
    if (k == 2 && s == 2 && p == 0) {
        max_fwd_2x2(N, H, W, Ho, Wo, x, y, idx);
        return;
    }
#pragma omp parallel for schedule(static) if (N * H * W > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *xp = x + n * H * W;
        float *yp = y + n * Ho * Wo;
        int32_t *ip = idx ? idx + n * Ho * Wo : NULL;
        for (int64_t oh = 0; oh < Ho; oh++) {
            int64_t h0, h1;
            window(oh, k, s, p, H, &h0, &h1);
            for (int64_t ow = 0; ow < Wo; ow++) {
                int64_t w0, w1;
                window(ow, k, s, p, W, &w0, &w1);
                /* Only valid positions compete, so padding never wins; strict > keeps the first maximum; a NaN
                 * wins (and propagates) as in PyTorch. */
                int64_t best = h0 * W + w0;
                float m = xp[best];
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) {
                        const float v = xp[h * W + w];
                        if (v > m || v != v) {
                            m = v;
                            best = h * W + w;
                        }
                    }
                yp[oh * Wo + ow] = m;
                if (ip) ip[oh * Wo + ow] = (int32_t)best;
            }
        }
    }
}

static void cpu_max_bwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const int32_t *idx, const float *dy,
                        float *dx) {
#pragma omp parallel for schedule(static) if (N * H * W > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        float *dp = dx + n * H * W;
        const float *gp = dy + n * Ho * Wo;
        const int32_t *ip = idx + n * Ho * Wo;
        for (int64_t o = 0; o < Ho * Wo; o++) dp[ip[o]] += gp[o];
    }
}

static void cpu_avg_fwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *x,
                        float *y) {
    const float inv = 1.0f / (float)(k * k);
#pragma omp parallel for schedule(static) if (N * H * W > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *xp = x + n * H * W;
        float *yp = y + n * Ho * Wo;
        for (int64_t oh = 0; oh < Ho; oh++) {
            int64_t h0, h1;
            window(oh, k, s, p, H, &h0, &h1);
            for (int64_t ow = 0; ow < Wo; ow++) {
                int64_t w0, w1;
                window(ow, k, s, p, W, &w0, &w1);
                float acc = 0.0f;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) acc += xp[h * W + w];
                yp[oh * Wo + ow] = acc * inv;
            }
        }
    }
}

static void cpu_avg_bwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *dy,
                        float *dx) {
    const float inv = 1.0f / (float)(k * k);
#pragma omp parallel for schedule(static) if (N * H * W > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        float *dp = dx + n * H * W;
        const float *gp = dy + n * Ho * Wo;
        for (int64_t oh = 0; oh < Ho; oh++) {
            int64_t h0, h1;
            window(oh, k, s, p, H, &h0, &h1);
            for (int64_t ow = 0; ow < Wo; ow++) {
                int64_t w0, w1;
                window(ow, k, s, p, W, &w0, &w1);
                const float g = gp[oh * Wo + ow] * inv;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) dp[h * W + w] += g;
            }
        }
    }
}

static void cpu_gavg_fwd(int64_t N, int64_t HW, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (N * HW > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *xp = x + n * HW;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < HW; i++) acc += xp[i];
        y[n] = acc / (float)HW;
    }
}

static void cpu_gavg_bwd(int64_t N, int64_t HW, const float *dy, float *dx) {
#pragma omp parallel for schedule(static) if (N * HW > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        float *dp = dx + n * HW;
        const float g = dy[n] / (float)HW;
        for (int64_t i = 0; i < HW; i++) dp[i] += g;
    }
}

/* Bin of output o of no over n inputs: [⌊o·n/no⌋, ⌈(o+1)·n/no⌉). */
static inline void adaptive_bin(int64_t o, int64_t n, int64_t no, int64_t *lo, int64_t *hi) {
    *lo = o * n / no;
    *hi = ((o + 1) * n + no - 1) / no;
}

static void cpu_adaptive_avg_fwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (N * H * W > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *xp = x + n * H * W;
        float *yp = y + n * Ho * Wo;
        for (int64_t oh = 0; oh < Ho; oh++) {
            int64_t h0, h1;
            adaptive_bin(oh, H, Ho, &h0, &h1);
            for (int64_t ow = 0; ow < Wo; ow++) {
                int64_t w0, w1;
                adaptive_bin(ow, W, Wo, &w0, &w1);
                float acc = 0.0f;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) acc += xp[h * W + w];
                yp[oh * Wo + ow] = acc / (float)((h1 - h0) * (w1 - w0));
            }
        }
    }
}

static void cpu_adaptive_avg_bwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *dy,
                                 float *dx) {
#pragma omp parallel for schedule(static) if (N * H * W > HL_POOL_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        float *dp = dx + n * H * W;
        const float *gp = dy + n * Ho * Wo;
        for (int64_t oh = 0; oh < Ho; oh++) {
            int64_t h0, h1;
            adaptive_bin(oh, H, Ho, &h0, &h1);
            for (int64_t ow = 0; ow < Wo; ow++) {
                int64_t w0, w1;
                adaptive_bin(ow, W, Wo, &w0, &w1);
                const float g = gp[oh * Wo + ow] / (float)((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) dp[h * W + w] += g;
            }
        }
    }
}

const hl_kern_pool hl_cpu_pool = {
    .max_fwd = cpu_max_fwd,
    .max_bwd = cpu_max_bwd,
    .avg_fwd = cpu_avg_fwd,
    .avg_bwd = cpu_avg_bwd,
    .gavg_fwd = cpu_gavg_fwd,
    .gavg_bwd = cpu_gavg_bwd,
    .adaptive_avg_fwd = cpu_adaptive_avg_fwd,
    .adaptive_avg_bwd = cpu_adaptive_avg_bwd,
};
