/* core/kern/reduce.h — raw kernels of the reduce op family (signatures). CPU instance: core/cpu/reduce.c. */
#ifndef HL_KERN_REDUCE_H
#define HL_KERN_REDUCE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_reduce {
    const char *family; /* "reduce" */
} hl_kern_reduce;

extern const hl_kern_reduce hl_cpu_reduce;

#endif
