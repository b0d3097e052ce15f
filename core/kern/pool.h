/* core/kern/pool.h — raw kernels of the pool op family (signatures). CPU instance: core/cpu/pool.c. */
#ifndef HL_KERN_POOL_H
#define HL_KERN_POOL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_pool {
    const char *family; /* "pool" */
} hl_kern_pool;

extern const hl_kern_pool hl_cpu_pool;

#endif
