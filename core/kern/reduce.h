/* core/kern/reduce.h — raw kernels of the reduce op family: sum / max / logsumexp over axes and their backward.
 * CPU instance: core/cpu/reduce.c.
 *
 * Forward kernels see the input as [P,R,Q] (row-major) and reduce the middle axis: y[p,q] = op_r x[p,r,q]
 * (written). The op (core/ops/reduce.c) maps any axis set onto one or two such calls by merging adjacent axes.
 * Backward kernels see the input x as a 4-D shape (padded with 1s) and a bit mask of reduced axes; y and dy have
 * the same shape with the reduced axes set to 1 (keepdim layout), and they ACCUMULATE into dx.
 */
#ifndef HL_KERN_REDUCE_H
#define HL_KERN_REDUCE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_reduce {
    /* y[p,q] = scale·Σ_r x[p,r,q]. */
    void (*sum)(int64_t P, int64_t R, int64_t Q, float scale, const float *x, float *y);
    /* y[p,q] = max_r x[p,r,q]. */
    void (*max)(int64_t P, int64_t R, int64_t Q, const float *x, float *y);
    /* y[p,q] = m + log Σ_r exp(x[p,r,q] − m), m = max_r x[p,r,q] (stable). */
    void (*logsumexp)(int64_t P, int64_t R, int64_t Q, const float *x, float *y);
    /* dx[i] += scale·dy[o(i)], o(i) = the output element x[i] was reduced into. */
    void (*sum_bwd)(const int64_t shape[4], unsigned axes, float scale, const float *dy, float *dx);
    /* For every output o: dx[i] += dy[o] at the FIRST i (row-major order) of o's reduced set with x[i] == y[o]. */
    void (*max_bwd)(const int64_t shape[4], unsigned axes, const float *x, const float *y, const float *dy,
                    float *dx);
    /* dx[i] += dy[o(i)]·exp(x[i] − y[o(i)]) (softmax weights; y = logsumexp). */
    void (*logsumexp_bwd)(const int64_t shape[4], unsigned axes, const float *x, const float *y, const float *dy,
                          float *dx);
} hl_kern_reduce;

extern const hl_kern_reduce hl_cpu_reduce;

#endif
