/* core/cpu/norm.c — CPU kernels of the norm family. */
#include "core/kern/norm.h"

const hl_kern_norm hl_cpu_norm = {
    .family = "norm",
};
