/* core/kern/rng.h — random fills on a device (signatures). CPU instance: core/cpu/rng.c (core/rng.c's fills), CUDA:
 * core/cuda/rng.cu. y[j] = value counter + j of the Philox stream (seed, stream), exactly core/rng.h's
 * hl_rng_uniform_fill / hl_rng_normal_fill (uniform: bit for bit on every device; normal: Box-Muller in double,
 * equal up to the device's libm rounding). Used through hl_tensor_rand_uniform / hl_tensor_rand_normal. */
#ifndef HL_KERN_RNG_H
#define HL_KERN_RNG_H

#include <stdint.h>

typedef struct hl_kern_rng {
    void (*uniform)(int64_t n, uint64_t seed, uint64_t stream, uint64_t counter, float lo, float hi, float *y);
    void (*normal)(int64_t n, uint64_t seed, uint64_t stream, uint64_t counter, float mean, float std, float *y);
} hl_kern_rng;

extern const hl_kern_rng hl_cpu_rng;

#endif
