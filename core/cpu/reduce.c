/* core/cpu/reduce.c — CPU kernels of the reduce family. */
#include "core/kern/reduce.h"

const hl_kern_reduce hl_cpu_reduce = {
    .family = "reduce",
};
