/* tests/core/test_arena.c — bump allocator: alignment, growth, consolidation on reset. */
#include <stdint.h>
#include <string.h>

#include "test_common.h"

Test(arena, aligned_and_disjoint) {
    hl_arena a;
    hl_arena_init(&a, 256);
    char *p = hl_arena_alloc(&a, 10), *q = hl_arena_alloc(&a, 100);
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert_eq((uintptr_t)q % 64, 0);
    cr_assert(q >= p + 10 || q + 100 <= p, "allocations overlap");
    memset(p, 1, 10);
    memset(q, 2, 100);
    cr_assert_eq(p[9], 1);
    hl_arena_fini(&a);
}

Test(arena, grows_then_consolidates) {
    hl_arena a;
    hl_arena_init(&a, 128);
    for (int i = 0; i < 100; i++) {
        float *f = hl_arena_alloc(&a, 1000 * sizeof(float));
        f[999] = (float)i;
    }
    size_t hw = a.high_water;
    cr_assert_geq(hw, 100 * 4000);
    hl_arena_reset(&a);
    cr_assert_eq(a.used_total, 0);
    /* After reset, the same workload fits in one chunk: no new chunk is chained. */
    for (int i = 0; i < 100; i++) hl_arena_alloc(&a, 1000 * sizeof(float));
    cr_assert_eq(a.high_water, hw);
    hl_arena_reset(&a);
    char *z = hl_arena_calloc(&a, 4096);
    for (int i = 0; i < 4096; i++) cr_assert_eq(z[i], 0);
    hl_arena_fini(&a);
}
