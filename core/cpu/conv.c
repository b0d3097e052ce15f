/* core/cpu/conv.c — CPU kernels of the conv family. */
#include "core/kern/conv.h"

const hl_kern_conv hl_cpu_conv = {
    .family = "conv",
};
