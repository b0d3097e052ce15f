/* core/kern/optim.h — raw kernels of the optimizer updates (signatures). CPU instance: core/cpu/optim.c, CUDA:
 * core/cuda/optim.cu. The update rules (PyTorch's) are documented in core/optim.h; these kernels apply one step to
 * a flat run of n floats of the parameter, gradient and moment slabs (device memory). Scalars already include the
 * group multipliers and bias corrections (core/optim.c computes them on the host, in double where PyTorch does). */
#ifndef HL_KERN_OPTIM_H
#define HL_KERN_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_optim {
    /* p -= lr·(g + wd·p) */
    void (*sgd)(int64_t n, float *p, const float *g, float lr, float wd);
    /* d = g + wd·p; buf = first ? d : mom·buf + (1 − damp)·d; p -= lr·(nesterov ? d + mom·buf : buf) */
    void (*sgd_momentum)(int64_t n, float *p, const float *g, float *buf, float lr, float wd, float mom, float damp,
                         bool nesterov, bool first);
    /* g' = g + l2·p; m += (1 − b1)(g' − m); v = b2·v + (1 − b2)·g'²; p = decay·p − step_size·m / (√v / bc2_sqrt + eps) */
    void (*adam)(int64_t n, float *p, const float *g, float *m, float *v, float l2, float decay, float b1, float b2,
                 float step_size, float bc2_sqrt, float eps);
    /* g' = g + wd·p; v = alpha·v + (1 − alpha)·g'²; with buf: buf = mom·buf + g'/(√v + eps), p -= lr·buf;
     * without (buf NULL): p -= lr·g'/(√v + eps) */
    void (*rmsprop)(int64_t n, float *p, const float *g, float *v, float *buf, float lr, float wd, float alpha,
                    float eps, float mom);
} hl_kern_optim;

extern const hl_kern_optim hl_cpu_optim;

#endif
