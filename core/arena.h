/* core/arena.h — bump allocator for one step's tensors, tape nodes and intermediate gradients.
 *
 * Allocation is a pointer bump inside the current chunk (64-byte aligned); when a chunk is full a new one twice the
 * size is chained. hl_arena_reset() frees everything in O(1) for the common case: if more than one chunk was used,
 * the chunks are replaced by a single chunk of the high-water size, so a steady training loop settles on one
 * allocation and never calls malloc again.
 *
 * Host arenas (hl_arena_init) take their chunks from aligned_alloc; device arenas (hl_arena_init_dev) from a
 * device's dev_alloc/dev_free (core/kern/base.h), and their memory is touched only by that device's kernels
 * (hl_arena_calloc is host-only).
 */
#ifndef HL_ARENA_H
#define HL_ARENA_H

#include "core/common.h"

typedef struct hl_arena_chunk hl_arena_chunk;

typedef struct hl_kern_base hl_kern_base;

typedef struct hl_arena {
    hl_arena_chunk *head; /* current chunk (newest) */
    const hl_kern_base *dev; /* device allocator, or NULL for host memory */
    size_t used_total;    /* bytes handed out since the last reset */
    size_t high_water;    /* max used_total ever seen */
    size_t min_chunk;     /* first chunk size */
} hl_arena;

void hl_arena_init(hl_arena *a, size_t first_chunk_bytes);
/* An arena of device memory allocated through k->dev_alloc. */
void hl_arena_init_dev(hl_arena *a, size_t first_chunk_bytes, const hl_kern_base *k);
void hl_arena_fini(hl_arena *a);
/* Returns `bytes` of 64-byte aligned memory valid until the next reset. Aborts on out-of-memory. */
void *hl_arena_alloc(hl_arena *a, size_t bytes);
/* Same, zero-filled. */
void *hl_arena_calloc(hl_arena *a, size_t bytes);
void hl_arena_reset(hl_arena *a);

#endif
