/* core/kern/pool.h — raw kernels of the pool op family (signatures). CPU instance: core/cpu/pool.c.
 *
 * All kernels see the input as N = B·C independent planes [N,H,W] -> [N,Ho,Wo] with a k×k window, stride s and
 * zero padding p: output (oh,ow) covers rows oh·s − p … oh·s − p + k − 1 (likewise for columns).
 */
#ifndef HL_KERN_POOL_H
#define HL_KERN_POOL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_pool {
    /* y = max over the valid (non-padding) window positions; idx (or NULL) gets the in-plane offset h·W + w of the
     * first maximum. Every window must hold a valid position (p < k). */
    void (*max_fwd)(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *x,
                    float *y, int32_t *idx);
    /* dx [N,H,W] += dy scattered to idx. */
    void (*max_bwd)(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const int32_t *idx, const float *dy,
                    float *dx);
    /* y = (Σ valid window values) / k² (count_include_pad). */
    void (*avg_fwd)(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *x,
                    float *y);
    /* dx += dy / k² spread over each window's valid positions. */
    void (*avg_bwd)(int64_t N, int64_t H, int64_t W, int k, int s, int p, int64_t Ho, int64_t Wo, const float *dy,
                    float *dx);
    /* y [N] = mean of each plane x [N,HW]. */
    void (*gavg_fwd)(int64_t N, int64_t HW, const float *x, float *y);
    /* dx [N,HW] += dy[n] / HW. */
    void (*gavg_bwd)(int64_t N, int64_t HW, const float *dy, float *dx);
    /* Adaptive average pooling [N,H,W] -> [N,Ho,Wo] (PyTorch's AdaptiveAvgPool2d): output row i averages input rows
     * ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1, columns likewise; y = (Σ bin) / (rows · cols of the bin). Bins overlap when Ho
     * does not divide H and repeat pixels when Ho > H. */
    void (*adaptive_avg_fwd)(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *x, float *y);
    /* dx += dy of every output whose bin holds the pixel, divided by that bin's size. */
    void (*adaptive_avg_bwd)(int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, const float *dy, float *dx);
} hl_kern_pool;

extern const hl_kern_pool hl_cpu_pool;

#endif
