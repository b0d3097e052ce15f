/* core/kern/conv.h — raw kernels of the conv op family (signatures). CPU instance: core/cpu/conv.c. */
#ifndef HL_KERN_CONV_H
#define HL_KERN_CONV_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_conv {
    const char *family; /* "conv" */
} hl_kern_conv;

extern const hl_kern_conv hl_cpu_conv;

#endif
