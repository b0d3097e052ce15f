/* core/cpu/ew.c — CPU kernels of the ew family. */
#include "core/kern/ew.h"

const hl_kern_ew hl_cpu_ew = {
    .family = "ew",
};
