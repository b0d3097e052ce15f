/* core/kern/norm.h — raw kernels of the norm op family (signatures). CPU instance: core/cpu/norm.c. */
#ifndef HL_KERN_NORM_H
#define HL_KERN_NORM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_norm {
    const char *family; /* "norm" */
} hl_kern_norm;

extern const hl_kern_norm hl_cpu_norm;

#endif
