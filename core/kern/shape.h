/* core/kern/shape.h — raw kernels of the shape op family (signatures). CPU instance: core/cpu/shape.c. */
#ifndef HL_KERN_SHAPE_H
#define HL_KERN_SHAPE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_shape {
    const char *family; /* "shape" */
} hl_kern_shape;

extern const hl_kern_shape hl_cpu_shape;

#endif
