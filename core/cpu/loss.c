/* core/cpu/loss.c — CPU kernels of the loss family. */
#include "core/kern/loss.h"

const hl_kern_loss hl_cpu_loss = {
    .family = "loss",
};
