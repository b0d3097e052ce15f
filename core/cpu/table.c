/* core/cpu/table.c — assembles the CPU kernel table from the family instances. */
#include "core/cpu/table.h"

const hl_kernels hl_cpu_kernels = {
    .name = "cpu",
    .dev = HL_DEVICE_CPU,
    .base = &hl_cpu_base,
    .ew = &hl_cpu_ew,
    .conv = &hl_cpu_conv,
    .pool = &hl_cpu_pool,
    .norm = &hl_cpu_norm,
    .reduce = &hl_cpu_reduce,
    .shape = &hl_cpu_shape,
    .loss = &hl_cpu_loss,
    .warp = &hl_cpu_warp,
    .optim = &hl_cpu_optim,
    .retrieval = &hl_cpu_retrieval,
    .rng = &hl_cpu_rng,
};
