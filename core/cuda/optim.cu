/* core/cuda/optim.cu — CUDA optimizer update kernels (contract in core/kern/optim.h; the formulas and their order
 * are core/cpu/optim.c's, one thread per element: results equal the CPU's up to fma contraction and sqrtf). */
#include "core/cuda/common.cuh"

__global__ static void k_sgd(int64_t n, float *p, const float *g, float lr, float wd) {
    HL_CUDA_FOR(i, n) p[i] -= lr * (g[i] + wd * p[i]);
}

__global__ static void k_sgd_momentum(int64_t n, float *p, const float *g, float *buf, float lr, float wd, float mom,
                                      float keep, float take, bool nesterov) {
    HL_CUDA_FOR(i, n) {
        const float d = g[i] + wd * p[i];
        const float b = keep * buf[i] + take * d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + mom * b : b);
    }
}

__global__ static void k_adam(int64_t n, float *p, const float *g, float *m, float *v, float l2, float decay, float b1,
                              float b2, float step_size, float bc2_sqrt, float eps) {
    HL_CUDA_FOR(i, n) {
        const float pi = p[i] * decay;
        const float gi = g[i] + l2 * p[i];
        const float mi = m[i] + (1.0f - b1) * (gi - m[i]);
        const float vi = v[i] * b2 + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

__global__ static void k_rmsprop(int64_t n, float *p, const float *g, float *v, float *buf, float lr, float wd,
                                 float alpha, float eps, float mom) {
    HL_CUDA_FOR(i, n) {
        const float gi = g[i] + wd * p[i];
        const float vi = v[i] * alpha + (1.0f - alpha) * gi * gi;
        v[i] = vi;
        if (buf) {
            const float b = mom * buf[i] + gi / (sqrtf(vi) + eps);
            buf[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * (gi / (sqrtf(vi) + eps));
        }
    }
}

static void cuda_sgd(int64_t n, float *p, const float *g, float lr, float wd) {
    if (n <= 0) return;
    k_sgd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, p, g, lr, wd);
    HL_CUDA_LAUNCH();
}

static void cuda_sgd_momentum(int64_t n, float *p, const float *g, float *buf, float lr, float wd, float mom,
                              float damp, bool nesterov, bool first) {
    if (n <= 0) return;
    k_sgd_momentum<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, p, g, buf, lr, wd, mom, first ? 0.0f : mom,
                                                           first ? 1.0f : 1.0f - damp, nesterov);
    HL_CUDA_LAUNCH();
}

static void cuda_adam(int64_t n, float *p, const float *g, float *m, float *v, float l2, float decay, float b1,
                      float b2, float step_size, float bc2_sqrt, float eps) {
    if (n <= 0) return;
    k_adam<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, p, g, m, v, l2, decay, b1, b2, step_size, bc2_sqrt, eps);
    HL_CUDA_LAUNCH();
}

static void cuda_rmsprop(int64_t n, float *p, const float *g, float *v, float *buf, float lr, float wd, float alpha,
                         float eps, float mom) {
    if (n <= 0) return;
    k_rmsprop<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, p, g, v, buf, lr, wd, alpha, eps, mom);
    HL_CUDA_LAUNCH();
}

const hl_kern_optim hl_cuda_optim = {
    .sgd = cuda_sgd,
    .sgd_momentum = cuda_sgd_momentum,
    .adam = cuda_adam,
    .rmsprop = cuda_rmsprop,
};
