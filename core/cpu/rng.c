/* core/cpu/rng.c — the CPU's random fills (contract in core/kern/rng.h): core/rng.c's counter-based fills. */
#include "core/kern/rng.h"

#include "core/rng.h"

static void cpu_uniform(int64_t n, uint64_t seed, uint64_t stream, uint64_t counter, float lo, float hi, float *y) {
    hl_rng_uniform_fill(seed, stream, counter, n, lo, hi, y);
}

static void cpu_normal(int64_t n, uint64_t seed, uint64_t stream, uint64_t counter, float mean, float std, float *y) {
    hl_rng_normal_fill(seed, stream, counter, n, mean, std, y);
}

const hl_kern_rng hl_cpu_rng = {
    .uniform = cpu_uniform,
    .normal = cpu_normal,
};
