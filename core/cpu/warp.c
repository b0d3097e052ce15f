/* core/cpu/warp.c — CPU kernels of the warp family. */
#include "core/kern/warp.h"

const hl_kern_warp hl_cpu_warp = {
    .family = "warp",
};
