/* core/cpu/shape.c — CPU kernels of the shape family. */
#include "core/kern/shape.h"

const hl_kern_shape hl_cpu_shape = {
    .family = "shape",
};
