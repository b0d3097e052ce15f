/* core/cuda/pool.cu — CUDA kernels of the pool family (contracts in core/kern/pool.h).
 *
 * Forward kernels: one thread per output, scanning its clipped window in the CPU's order (strict >, a NaN wins), so
 * max values and argmax indices are identical to the CPU's. max_bwd scatters with atomicAdd: exact when windows do
 * not overlap (s >= k, e.g. 2×2/2), otherwise the order of the float additions into a shared input pixel varies
 * from run to run (non-deterministic at round-off level). avg_bwd is a gather (one thread per input pixel summing
 * the outputs whose window covers it): deterministic. gavg_fwd: one block per plane, double accumulation. Adaptive
 * average pooling: one thread per output forward, a gather per input pixel backward (deterministic).
 */
#include "core/cuda/common.cuh"

/* Clips the window [o·s − p, o·s − p + k) to [0, n). */
__device__ static inline void pool_window(int64_t o, int k, int s, int p, int64_t n, int64_t *lo, int64_t *hi) {
    const int64_t a = o * s - p, b = a + k;
    *lo = a < 0 ? 0 : a;
    *hi = b > n ? n : b;
}

__global__ static void k_max_fwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo,
                                 const float *x, float *y, int32_t *idx) {
    HL_CUDA_FOR(t, N * Ho * Wo) {
        const int64_t ow = t % Wo, oh = (t / Wo) % Ho, n = t / (Wo * Ho);
        const float *xp = x + n * H * W;
        int64_t h0, h1, w0, w1;
        pool_window(oh, k, s, p, H, &h0, &h1);
        pool_window(ow, k, s, p, W, &w0, &w1);
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
        y[t] = m;
        if (idx) idx[t] = (int32_t)best;
    }
}

__global__ static void k_max_bwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const int32_t *idx,
                                 const float *dy, float *dx) {
    HL_CUDA_FOR(t, N * Ho * Wo) {
        const int64_t n = t / (Ho * Wo);
        atomicAdd(dx + n * H * W + idx[t], dy[t]);
    }
}

__global__ static void k_avg_fwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo,
                                 const float *x, float *y) {
    const float inv = 1.0f / (float)(k * k);
    HL_CUDA_FOR(t, N * Ho * Wo) {
        const int64_t ow = t % Wo, oh = (t / Wo) % Ho, n = t / (Wo * Ho);
        const float *xp = x + n * H * W;
        int64_t h0, h1, w0, w1;
        pool_window(oh, k, s, p, H, &h0, &h1);
        pool_window(ow, k, s, p, W, &w0, &w1);
        float acc = 0.0f;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) acc += xp[h * W + w];
        y[t] = acc * inv;
    }
}

/* Outputs o whose window [o·s − p, o·s − p + k) holds pixel h: o·s <= h + p and o·s > h + p − k. */
__device__ static inline void pool_covering(int64_t h, int k, int s, int p, int64_t no, int64_t *lo, int64_t *hi) {
    const int64_t a = h + p - k + 1; /* smallest o·s allowed */
    int64_t l = a <= 0 ? 0 : (a + s - 1) / s;
    int64_t u = (h + p) / s + 1; /* h + p >= 0 always */
    if (u > no) u = no;
    *lo = l;
    *hi = u > l ? u : l;
}

__global__ static void k_avg_bwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo,
                                 const float *dy, float *dx) {
    const float inv = 1.0f / (float)(k * k);
    HL_CUDA_FOR(t, N * H * W) {
        const int64_t w = t % W, h = (t / W) % H, n = t / (W * H);
        const float *gp = dy + n * Ho * Wo;
        int64_t oh0, oh1, ow0, ow1;
        pool_covering(h, k, s, p, Ho, &oh0, &oh1);
        pool_covering(w, k, s, p, Wo, &ow0, &ow1);
        float acc = 0.0f;
        for (int64_t oh = oh0; oh < oh1; oh++)
            for (int64_t ow = ow0; ow < ow1; ow++) acc += gp[oh * Wo + ow] * inv;
        dx[t] += acc;
    }
}

__global__ static void k_gavg_fwd(int64_t N, int64_t HW, const float *x, float *y) {
    for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
        double s = 0.0;
        for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) s += x[n * HW + i];
        s = hl_cuda_block_sum(s);
        if (threadIdx.x == 0) y[n] = (float)s / (float)HW;
    }
}

__global__ static void k_gavg_bwd(int64_t N, int64_t HW, const float *dy, float *dx) {
    HL_CUDA_FOR(t, N * HW) dx[t] += dy[t / HW] / (float)HW;
}

/* Bin of output o of no over n inputs: [⌊o·n/no⌋, ⌈(o+1)·n/no⌉) (core/kern/pool.h). */
__device__ static inline void adaptive_bin(int64_t o, int64_t n, int64_t no, int64_t *lo, int64_t *hi) {
    *lo = o * n / no;
    *hi = ((o + 1) * n + no - 1) / no;
}

__global__ static void k_adaptive_avg_fwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *x,
                                          float *y) {
    HL_CUDA_FOR(t, N * Ho * Wo) {
        const int64_t ow = t % Wo, oh = (t / Wo) % Ho, n = t / (Wo * Ho);
        const float *xp = x + n * H * W;
        int64_t h0, h1, w0, w1;
        adaptive_bin(oh, H, Ho, &h0, &h1);
        adaptive_bin(ow, W, Wo, &w0, &w1);
        float acc = 0.0f;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) acc += xp[h * W + w];
        y[t] = acc / (float)((h1 - h0) * (w1 - w0));
    }
}

/* Outputs o whose bin holds pixel i lie in [⌊i·no/n⌋, ⌈(i+1)·no/n⌉ − 1]; the range is widened by one on each side
 * and each candidate checked against its bin, so rounding can never drop one. */
__device__ static inline void adaptive_covering(int64_t i, int64_t n, int64_t no, int64_t *lo, int64_t *hi) {
    int64_t a = i * no / n - 1, b = ((i + 1) * no + n - 1) / n + 1;
    *lo = a < 0 ? 0 : a;
    *hi = b > no ? no : b;
}

/* A gather (one thread per input pixel): deterministic. */
__global__ static void k_adaptive_avg_bwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *dy,
                                          float *dx) {
    HL_CUDA_FOR(t, N * H * W) {
        const int64_t w = t % W, h = (t / W) % H, n = t / (W * H);
        const float *gp = dy + n * Ho * Wo;
        int64_t oh0, oh1, ow0, ow1;
        adaptive_covering(h, H, Ho, &oh0, &oh1);
        adaptive_covering(w, W, Wo, &ow0, &ow1);
        float acc = 0.0f;
        for (int64_t oh = oh0; oh < oh1; oh++) {
            int64_t h0, h1;
            adaptive_bin(oh, H, Ho, &h0, &h1);
            if (h < h0 || h >= h1) continue;
            for (int64_t ow = ow0; ow < ow1; ow++) {
                int64_t w0, w1;
                adaptive_bin(ow, W, Wo, &w0, &w1);
                if (w < w0 || w >= w1) continue;
                acc += gp[oh * Wo + ow] / (float)((h1 - h0) * (w1 - w0));
            }
        }
        dx[t] += acc;
    }
}

static void cuda_max_fwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *x,
                         float *y, int32_t *idx) {
    if (N * Ho * Wo <= 0) return;
    k_max_fwd<<<hl_cuda_blocks(N * Ho * Wo), HL_CUDA_THREADS>>>(N, H, W, k, s, p, Ho, Wo, x, y, idx);
    HL_CUDA_LAUNCH();
}

static void cuda_max_bwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const int32_t *idx, const float *dy,
                         float *dx) {
    if (N * Ho * Wo <= 0) return;
    k_max_bwd<<<hl_cuda_blocks(N * Ho * Wo), HL_CUDA_THREADS>>>(N, H, W, Ho, Wo, idx, dy, dx);
    HL_CUDA_LAUNCH();
}

static void cuda_avg_fwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *x,
                         float *y) {
    if (N * Ho * Wo <= 0) return;
    k_avg_fwd<<<hl_cuda_blocks(N * Ho * Wo), HL_CUDA_THREADS>>>(N, H, W, k, s, p, Ho, Wo, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_avg_bwd(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *dy,
                         float *dx) {
    HL_ASSERT(s >= 1 && k >= 1, "pool: k %d, s %d", k, s);
    if (N * H * W <= 0) return;
    k_avg_bwd<<<hl_cuda_blocks(N * H * W), HL_CUDA_THREADS>>>(N, H, W, k, s, p, Ho, Wo, dy, dx);
    HL_CUDA_LAUNCH();
}

static void cuda_gavg_fwd(int64_t N, int64_t HW, const float *x, float *y) {
    if (N <= 0) return;
    k_gavg_fwd<<<(unsigned)HL_MIN(N, (int64_t)65535), HL_CUDA_THREADS>>>(N, HW, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_gavg_bwd(int64_t N, int64_t HW, const float *dy, float *dx) {
    if (N * HW <= 0) return;
    k_gavg_bwd<<<hl_cuda_blocks(N * HW), HL_CUDA_THREADS>>>(N, HW, dy, dx);
    HL_CUDA_LAUNCH();
}

static void cuda_adaptive_avg_fwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *x,
                                  float *y) {
    if (N * Ho * Wo <= 0) return;
    k_adaptive_avg_fwd<<<hl_cuda_blocks(N * Ho * Wo), HL_CUDA_THREADS>>>(N, H, W, Ho, Wo, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_adaptive_avg_bwd(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *dy,
                                  float *dx) {
    if (N * H * W <= 0) return;
    k_adaptive_avg_bwd<<<hl_cuda_blocks(N * H * W), HL_CUDA_THREADS>>>(N, H, W, Ho, Wo, dy, dx);
    HL_CUDA_LAUNCH();
}

const hl_kern_pool hl_cuda_pool = {
    .max_fwd = cuda_max_fwd,
    .max_bwd = cuda_max_bwd,
    .avg_fwd = cuda_avg_fwd,
    .avg_bwd = cuda_avg_bwd,
    .gavg_fwd = cuda_gavg_fwd,
    .gavg_bwd = cuda_gavg_bwd,
    .adaptive_avg_fwd = cuda_adaptive_avg_fwd,
    .adaptive_avg_bwd = cuda_adaptive_avg_bwd,
};
