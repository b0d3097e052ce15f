/* core/cuda/cuda.h — the C interface of the CUDA backend (built with -DHASHLAB_CUDA=ON; only core/backend.c and
 * core/cuda/ include it, so no other file needs an #ifdef).
 *
 * The kernel table (hl_cuda_kernels_get) is complete: every entry of every family is a CUDA implementation with the
 * contract of core/kern/<family>.h, on device memory. Error reporting: see core/cuda/common.cuh (checked calls log
 * file:line, the first failure is sticky, to_host returns NaN after a failure, hl_cuda_status() reports it).
 */
#ifndef HL_CUDA_H
#define HL_CUDA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

typedef struct hl_kernels hl_kernels;

/* The CUDA kernel table (never NULL in a CUDA build; use it only when hl_cuda_present()). */
const hl_kernels *hl_cuda_kernels_get(void);
/* True when the CUDA runtime finds at least one device. Never aborts: no driver, no device or a broken
 * installation all give false (the reason is logged once at debug level). The answer is computed once. */
bool hl_cuda_present(void);
/* HL_OK, or the first CUDA/cuBLAS failure recorded since start-up (its message is set again with hl_error_set). */
hl_status hl_cuda_status(void);
/* Waits for all queued device work and returns hl_cuda_status() (a fault inside a kernel is reported here). */
hl_status hl_cuda_sync(void);

/* Device memory for arenas and heap tensors: *out = bytes of device memory (256-byte aligned), or an HL_ENOMEM /
 * HL_EDEVICE status with the CUDA reason. hl_cuda_free(NULL) is a no-op. These are the only cudaMalloc/cudaFree
 * calls of the backend; kernels never allocate. */
hl_status hl_cuda_malloc(size_t bytes, void **out);
void hl_cuda_free(void *p);
/* Plain-signature variants for allocator hooks (NULL on failure, the reason in hl_error_last()). */
void *hl_cuda_alloc_hook(size_t bytes);
void hl_cuda_free_hook(void *p);

#endif
