/* core/rng.h — counter-based random numbers (Philox-4x32-10).
 *
 * A number is a pure function of (seed, stream, counter): the same element of the same stream gets the same value
 * whatever the batch size, the thread count or the order of generation. Streams separate independent uses (weight
 * init of layer 3, dropout masks, data shuffling, an attack's random start); counters index elements within a
 * stream. An hl_rng is a (seed, stream, next counter) cursor for sequential use; the *_at functions are the
 * stateless form used inside parallel loops.
 *
 * Distributions: uniform in [0,1) with 24-bit resolution; normal by Box-Muller (two per 64-bit draw);
 * permutations by Fisher-Yates driven by the stream.
 */
#ifndef HL_RNG_H
#define HL_RNG_H

#include "core/common.h"

typedef struct hl_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t counter; /* next block index (each block yields four 32-bit words) */
} hl_rng;

/* Four 32-bit words for block `counter` of (seed, stream). */
void hl_philox(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4]);

hl_rng hl_rng_make(uint64_t seed, uint64_t stream);
/* Derives an independent sub-stream (e.g. one per layer) from a cursor's seed and stream. */
hl_rng hl_rng_split(const hl_rng *r, uint64_t sub);

/* Value i of the stream: uniform [0,1), standard normal. Pure functions. */
float hl_rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i);
float hl_rng_normal_at(uint64_t seed, uint64_t stream, uint64_t i);

/* Sequential fills: element j of the fill uses index r->counter + j; the cursor then advances by n. */
void hl_rng_uniform(hl_rng *r, float *dst, int64_t n, float lo, float hi);
void hl_rng_normal(hl_rng *r, float *dst, int64_t n, float mean, float std);
/* The same fills as pure functions of (seed, stream, counter): dst[j] is value counter + j of the cursor's stream (the
 * normal fill derives its Philox stream from `stream` as hl_rng_normal does). The device tables' rng family
 * (core/kern/rng.h) computes exactly this on device memory: hl_tensor_rand_uniform / hl_tensor_rand_normal. */
void hl_rng_uniform_fill(uint64_t seed, uint64_t stream, uint64_t counter, int64_t n, float lo, float hi, float *dst);
void hl_rng_normal_fill(uint64_t seed, uint64_t stream, uint64_t counter, int64_t n, float mean, float std,
                        float *dst);
uint32_t hl_rng_u32(hl_rng *r);
/* Uniform integer in [0, n) (n > 0), unbiased. */
uint64_t hl_rng_below(hl_rng *r, uint64_t n);
/* perm[0..n) = a uniformly random permutation of 0..n-1. */
void hl_rng_permutation(hl_rng *r, int64_t *perm, int64_t n);

#endif
