/* core/arena.h — bump allocator for one step's tensors, tape nodes and intermediate gradients.
 *
 * Allocation is a pointer bump inside the current chunk (64-byte aligned); when a chunk is full a new one twice the
 * size is chained. hl_arena_reset() frees everything in O(1) for the common case: if more than one chunk was used,
 * the chunks are replaced by a single chunk of the high-water size, so a steady training loop settles on one
 * allocation and never calls malloc again. Host memory only; the CUDA issue adds a device flavour.
 */
#ifndef HL_ARENA_H
#define HL_ARENA_H

#include "core/common.h"

typedef struct hl_arena_chunk hl_arena_chunk;

typedef struct hl_arena {
    hl_arena_chunk *head; /* current chunk (newest) */
    size_t used_total;    /* bytes handed out since the last reset */
    size_t high_water;    /* max used_total ever seen */
    size_t min_chunk;     /* first chunk size */
} hl_arena;

void hl_arena_init(hl_arena *a, size_t first_chunk_bytes);
void hl_arena_fini(hl_arena *a);
/* Returns `bytes` of 64-byte aligned memory valid until the next reset. Aborts on out-of-memory. */
void *hl_arena_alloc(hl_arena *a, size_t bytes);
/* Same, zero-filled. */
void *hl_arena_calloc(hl_arena *a, size_t bytes);
void hl_arena_reset(hl_arena *a);

#endif
