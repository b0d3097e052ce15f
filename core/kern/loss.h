/* core/kern/loss.h — raw kernels of the loss op family (signatures). CPU instance: core/cpu/loss.c. */
#ifndef HL_KERN_LOSS_H
#define HL_KERN_LOSS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_loss {
    const char *family; /* "loss" */
} hl_kern_loss;

extern const hl_kern_loss hl_cpu_loss;

#endif
