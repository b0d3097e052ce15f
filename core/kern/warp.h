/* core/kern/warp.h — raw kernels of the warp op family (signatures). CPU instance: core/cpu/warp.c. */
#ifndef HL_KERN_WARP_H
#define HL_KERN_WARP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_warp {
    const char *family; /* "warp" */
} hl_kern_warp;

extern const hl_kern_warp hl_cpu_warp;

#endif
