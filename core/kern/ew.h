/* core/kern/ew.h — raw kernels of the ew op family (signatures). CPU instance: core/cpu/ew.c. */
#ifndef HL_KERN_EW_H
#define HL_KERN_EW_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_ew {
    const char *family; /* "ew" */
} hl_kern_ew;

extern const hl_kern_ew hl_cpu_ew;

#endif
