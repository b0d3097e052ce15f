/* core/arena.c — chained bump allocator; see arena.h. */
#include "core/arena.h"

#include "core/kern/base.h"

#include <stdlib.h>
#include <string.h>

#define HL_ARENA_ALIGN 64

struct hl_arena_chunk {
    hl_arena_chunk *prev;
    size_t size, used;
    unsigned char *base; /* aligned start of the usable area */
};

static hl_arena_chunk *hl__chunk_new(const hl_kern_base *dev, size_t size) {
    hl_arena_chunk *c = malloc(sizeof *c);
    HL_ASSERT(c, "out of memory allocating an arena chunk header");
    const size_t bytes = (size + HL_ARENA_ALIGN - 1) / HL_ARENA_ALIGN * HL_ARENA_ALIGN;
    c->base = dev ? dev->dev_alloc(bytes) : aligned_alloc(HL_ARENA_ALIGN, bytes);
    HL_ASSERT(c->base, "out of memory allocating an arena chunk of %zu bytes", size);
    c->prev = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

static void hl__chunks_free(const hl_kern_base *dev, hl_arena_chunk *c) {
    while (c) {
        hl_arena_chunk *p = c->prev;
        if (dev) dev->dev_free(c->base);
        else free(c->base);
        free(c);
        c = p;
    }
}

void hl_arena_init(hl_arena *a, size_t first_chunk_bytes) {
    memset(a, 0, sizeof *a);
    a->min_chunk = first_chunk_bytes ? first_chunk_bytes : ((size_t)1 << 20);
}

void hl_arena_init_dev(hl_arena *a, size_t first_chunk_bytes, const hl_kern_base *k) {
    hl_arena_init(a, first_chunk_bytes);
    a->dev = k;
}

void hl_arena_fini(hl_arena *a) {
    hl__chunks_free(a->dev, a->head);
    a->head = NULL;
}

void *hl_arena_alloc(hl_arena *a, size_t bytes) {
    size_t need = (bytes + HL_ARENA_ALIGN - 1) / HL_ARENA_ALIGN * HL_ARENA_ALIGN;
    if (need == 0) need = HL_ARENA_ALIGN;
    hl_arena_chunk *c = a->head;
    if (!c || c->used + need > c->size) {
        size_t size = c ? c->size * 2 : a->min_chunk;
        if (size < need) size = need;
        hl_arena_chunk *n = hl__chunk_new(a->dev, size);
        n->prev = c;
        a->head = c = n;
    }
    void *p = c->base + c->used;
    c->used += need;
    a->used_total += need;
    if (a->used_total > a->high_water) a->high_water = a->used_total;
    return p;
}

void *hl_arena_calloc(hl_arena *a, size_t bytes) {
    HL_ASSERT(!a->dev, "hl_arena_calloc on a device arena");
    void *p = hl_arena_alloc(a, bytes);
    memset(p, 0, bytes);
    return p;
}

void hl_arena_reset(hl_arena *a) {
    if (a->head && a->head->prev) {
        /* More than one chunk: consolidate into one chunk big enough for the high-water mark. */
        hl__chunks_free(a->dev, a->head);
        a->head = hl__chunk_new(a->dev, a->high_water);
    } else if (a->head) {
        a->head->used = 0;
    }
    a->used_total = 0;
}
