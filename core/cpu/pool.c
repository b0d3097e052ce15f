/* core/cpu/pool.c — CPU kernels of the pool family. */
#include "core/kern/pool.h"

const hl_kern_pool hl_cpu_pool = {
    .family = "pool",
};
