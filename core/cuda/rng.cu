/* core/cuda/rng.cu — random fills on the GPU (contract in core/kern/rng.h): core/rng.c's Philox-4x32-10 and
 * conversions, one thread per output element. The uniform's lo + (hi − lo)·u is rounded step by step (__fmul_rn,
 * __fadd_rn: no fused multiply-add) so it equals the CPU's bit for bit; the normal's Box-Muller runs in double like
 * the CPU's, equal up to CUDA's libm rounding. */
#include "core/cuda/common.cuh"

__global__ static void k_uniform(int64_t n, uint64_t seed, uint64_t stream, uint64_t c, float lo, float hi, float *y) {
    HL_CUDA_FOR(j, n) {
        const uint64_t i = c + (uint64_t)j;
        uint32_t w[4];
        hl_cuda_philox(seed, stream, i >> 2, w);
        const float u = (float)(w[i & 3] >> 8) * (1.0f / 16777216.0f);
        y[j] = __fadd_rn(lo, __fmul_rn(hi - lo, u));
    }
}

__global__ static void k_normal(int64_t n, uint64_t seed, uint64_t stream, uint64_t c, float mean, float std,
                                float *y) {
    HL_CUDA_FOR(j, n) {
        const uint64_t i = c + (uint64_t)j;
        uint32_t w[4];
        hl_cuda_philox(seed, stream ^ 0xA0761D6478BD642Full, i >> 1, w);
        const uint32_t a = w[0] ^ w[2], b = w[1] ^ w[3];
        const double u1 = ((double)(a >> 8) + 1.0) / 16777217.0, u2 = (double)(b >> 8) / 16777216.0;
        const double rad = sqrt(-2.0 * log(u1)), th = 2.0 * 3.14159265358979323846 * u2;
        const float z = (float)(rad * ((i & 1) ? sin(th) : cos(th)));
        y[j] = __fadd_rn(mean, __fmul_rn(std, z));
    }
}

static void cuda_uniform(int64_t n, uint64_t seed, uint64_t stream, uint64_t counter, float lo, float hi, float *y) {
    if (n <= 0) return;
    k_uniform<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, seed, stream, counter, lo, hi, y);
    HL_CUDA_LAUNCH();
}

static void cuda_normal(int64_t n, uint64_t seed, uint64_t stream, uint64_t counter, float mean, float std,
                        float *y) {
    if (n <= 0) return;
    k_normal<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, seed, stream, counter, mean, std, y);
    HL_CUDA_LAUNCH();
}

const hl_kern_rng hl_cuda_rng = {
    .uniform = cuda_uniform,
    .normal = cuda_normal,
};
