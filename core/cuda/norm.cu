/* core/cuda/norm.cu — CUDA kernels of the norm family (contracts in core/kern/norm.h).
 *
 * Statistics and the backward sums: one block per channel c of x [N,C,S] (grid-stride over channels), threads
 * stride over its N·S values, two passes (mean, then Σ(x − mean)²) accumulated in double and summed with a fixed
 * tree: deterministic, within double round-off of the CPU's values. normalize / bwd_dx / dropout: one thread per
 * element. Dropout evaluates the same Philox-4x32-10 block as core/rng.c (one call per element, word g % 4 of block
 * g / 4), so masks are bit-identical to the CPU's.
 */
#include "core/cuda/common.cuh"

#include <math.h>

#define NORM_MAX_BLOCKS 65535

/* Element q of channel c in [N,C,S]. */
__device__ static inline int64_t norm_at(int64_t C, int64_t S, int64_t c, int64_t q) {
    return ((q / S) * C + c) * S + q % S;
}

__global__ static void k_stats(int64_t N, int64_t C, int64_t S, const float *x, float eps, float momentum,
                               float *rmean, float *rvar, float *mean, float *invstd) {
    const int64_t M = N * S;
    const double unbias = M > 1 ? (double)M / (double)(M - 1) : 1.0;
    for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
        double s1 = 0.0;
        for (int64_t q = threadIdx.x; q < M; q += blockDim.x) s1 += x[norm_at(C, S, c, q)];
        const double mu = hl_cuda_block_sum(s1) / (double)M;
        double s2 = 0.0;
        for (int64_t q = threadIdx.x; q < M; q += blockDim.x) {
            const double d = (double)x[norm_at(C, S, c, q)] - mu;
            s2 += d * d;
        }
        const double var = hl_cuda_block_sum(s2) / (double)M;
        if (threadIdx.x == 0) {
            mean[c] = (float)mu;
            invstd[c] = (float)(1.0 / sqrt(var + (double)eps));
            if (rmean) {
                rmean[c] = (float)((1.0 - momentum) * rmean[c] + momentum * mu);
                rvar[c] = (float)((1.0 - momentum) * rvar[c] + momentum * var * unbias);
            }
        }
    }
}

__global__ static void k_stats_running(int64_t C, float eps, const float *rmean, const float *rvar, float *mean,
                                       float *invstd) {
    HL_CUDA_FOR(c, C) {
        mean[c] = rmean[c];
        invstd[c] = (float)(1.0 / sqrt((double)rvar[c] + (double)eps));
    }
}

__global__ static void k_normalize(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                                   const float *invstd, const float *gamma, const float *beta, float *y) {
    HL_CUDA_FOR(t, N * C * S) {
        const int64_t c = (t / S) % C, g = c % G;
        const float a = invstd[c] * (gamma ? gamma[g] : 1.0f);
        const float b = (beta ? beta[g] : 0.0f) - mean[c] * a;
        y[t] = x[t] * a + b;
    }
}

__global__ static void k_bwd_reduce(int64_t N, int64_t C, int64_t S, const float *x, const float *mean,
                                    const float *invstd, const float *dy, float *sdy, float *sdyx) {
    const int64_t M = N * S;
    for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
        const float mu = mean[c];
        double a1 = 0.0, a2 = 0.0;
        for (int64_t q = threadIdx.x; q < M; q += blockDim.x) {
            const int64_t i = norm_at(C, S, c, q);
            a1 += dy[i];
            a2 += (double)dy[i] * (double)(x[i] - mu);
        }
        a1 = hl_cuda_block_sum(a1);
        a2 = hl_cuda_block_sum(a2);
        if (threadIdx.x == 0) {
            sdy[c] = (float)a1;
            sdyx[c] = (float)(a2 * invstd[c]);
        }
    }
}

__global__ static void k_bwd_dx(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                                const float *invstd, const float *gamma, const float *dy, const float *sdy,
                                const float *sdyx, bool batch_stats, float *dx) {
    const float inv_m = 1.0f / (float)(N * S);
    HL_CUDA_FOR(t, N * C * S) {
        const int64_t c = (t / S) % C;
        const float is = invstd[c], k = is * (gamma ? gamma[c % G] : 1.0f);
        if (batch_stats) {
            const float m1 = sdy[c] * inv_m, m2 = sdyx[c] * inv_m;
            dx[t] += k * (dy[t] - m1 - (x[t] - mean[c]) * is * m2);
        } else {
            dx[t] += k * dy[t];
        }
    }
}

__global__ static void k_dropout_fwd(int64_t n, float p, float keep_scale, uint64_t seed, uint64_t stream,
                                     uint64_t counter, const float *x, float *y, float *mask) {
    HL_CUDA_FOR(i, n) {
        const uint64_t g = counter + (uint64_t)i;
        uint32_t w[4];
        hl_cuda_philox(seed, stream, g >> 2, w);
        const float u = (float)(w[g & 3] >> 8) * (1.0f / 16777216.0f);
        const float m = u >= p ? keep_scale : 0.0f;
        y[i] = x[i] * m;
        if (mask) mask[i] = m;
    }
}

__global__ static void k_dropout_bwd(int64_t n, const float *mask, const float *dy, float *dx) {
    HL_CUDA_FOR(i, n) dx[i] += mask[i] * dy[i];
}

static void cuda_stats(int64_t N, int64_t C, int64_t S, const float *x, float eps, float momentum, float *rmean,
                       float *rvar, float *mean, float *invstd) {
    if (C <= 0) return;
    k_stats<<<(unsigned)HL_MIN(C, (int64_t)NORM_MAX_BLOCKS), HL_CUDA_THREADS>>>(N, C, S, x, eps, momentum, rmean,
                                                                                  rvar, mean, invstd);
    HL_CUDA_LAUNCH();
}

static void cuda_stats_running(int64_t C, float eps, const float *rmean, const float *rvar, float *mean,
                               float *invstd) {
    if (C <= 0) return;
    k_stats_running<<<hl_cuda_blocks(C), HL_CUDA_THREADS>>>(C, eps, rmean, rvar, mean, invstd);
    HL_CUDA_LAUNCH();
}

static void cuda_normalize(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                           const float *invstd, const float *gamma, const float *beta, float *y) {
    if (N * C * S <= 0) return;
    k_normalize<<<hl_cuda_blocks(N * C * S), HL_CUDA_THREADS>>>(N, C, S, G, x, mean, invstd, gamma, beta, y);
    HL_CUDA_LAUNCH();
}

static void cuda_bwd_reduce(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                            const float *dy, float *sdy, float *sdyx) {
    if (C <= 0) return;
    k_bwd_reduce<<<(unsigned)HL_MIN(C, (int64_t)NORM_MAX_BLOCKS), HL_CUDA_THREADS>>>(N, C, S, x, mean, invstd, dy,
                                                                                       sdy, sdyx);
    HL_CUDA_LAUNCH();
}

static void cuda_bwd_dx(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                        const float *invstd, const float *gamma, const float *dy, const float *sdy, const float *sdyx,
                        bool batch_stats, float *dx) {
    if (N * C * S <= 0) return;
    k_bwd_dx<<<hl_cuda_blocks(N * C * S), HL_CUDA_THREADS>>>(N, C, S, G, x, mean, invstd, gamma, dy, sdy, sdyx,
                                                             batch_stats, dx);
    HL_CUDA_LAUNCH();
}

static void cuda_dropout_fwd(int64_t n, float p, uint64_t seed, uint64_t stream, uint64_t counter, const float *x,
                             float *y, float *mask) {
    if (n <= 0) return;
    const float keep_scale = 1.0f / (1.0f - p); /* the CPU's float expression: same bits */
    k_dropout_fwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, p, keep_scale, seed, stream, counter, x, y, mask);
    HL_CUDA_LAUNCH();
}

static void cuda_dropout_bwd(int64_t n, const float *mask, const float *dy, float *dx) {
    if (n <= 0) return;
    k_dropout_bwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, mask, dy, dx);
    HL_CUDA_LAUNCH();
}

const hl_kern_norm hl_cuda_norm = {
    .stats = cuda_stats,
    .stats_running = cuda_stats_running,
    .normalize = cuda_normalize,
    .bwd_reduce = cuda_bwd_reduce,
    .bwd_dx = cuda_bwd_dx,
    .dropout_fwd = cuda_dropout_fwd,
    .dropout_bwd = cuda_dropout_bwd,
};
