/* core/cpu/optim.c — CPU optimizer update kernels (contract in core/kern/optim.h; OpenMP over large runs). */
#include "core/kern/optim.h"

#include <math.h>

#define HL_OPT_PAR if (n > 65536)

static void cpu_sgd(int64_t n, float *restrict p, const float *restrict g, float lr, float wd) {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
    for (int64_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
}

/* first: buf = d (PyTorch clones the first gradient into the buffer, no dampening). */
static void cpu_sgd_momentum(int64_t n, float *restrict p, const float *restrict g, float *restrict buf, float lr,
                         float wd, float mom, float damp, bool nesterov, bool first) {
    const float keep = first ? 0.0f : mom, take = first ? 1.0f : 1.0f - damp;
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float b = keep * buf[i] + take * d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + mom * b : b);
    }
}

static void cpu_adam(int64_t n, float *restrict p, const float *restrict g, float *restrict m, float *restrict v, float l2,
                 float decay, float b1, float b2, float step_size, float bc2_sqrt, float eps) {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i] * decay;
        float gi = g[i] + l2 * p[i];
        float mi = m[i] + (1.0f - b1) * (gi - m[i]);
        float vi = v[i] * b2 + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

static void cpu_rmsprop(int64_t n, float *restrict p, const float *restrict g, float *restrict v, float *restrict buf,
                    float lr, float wd, float alpha, float eps, float mom) {
    if (buf) {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            float vi = v[i] * alpha + (1.0f - alpha) * gi * gi;
            v[i] = vi;
            float b = mom * buf[i] + gi / (sqrtf(vi) + eps);
            buf[i] = b;
            p[i] -= lr * b;
        }
    } else {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            float vi = v[i] * alpha + (1.0f - alpha) * gi * gi;
            v[i] = vi;
            p[i] -= lr * (gi / (sqrtf(vi) + eps));
        }
    }
}

const hl_kern_optim hl_cpu_optim = {
    .sgd = cpu_sgd,
    .sgd_momentum = cpu_sgd_momentum,
    .adam = cpu_adam,
    .rmsprop = cpu_rmsprop,
};
