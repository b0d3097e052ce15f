/* tests/core/test_rng.c — counter-based RNG: known answer, determinism, independence of chunking, distributions. */
#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "test_common.h"

/* Known-answer vectors of Philox-4x32-10 from the Random123 distribution (kat_vectors). */
Test(rng, philox_known_answer) {
    uint32_t w[4];
    hl_philox(0, 0, 0, w);
    cr_assert(w[0] == 0x6627e8d5u && w[1] == 0xe169c58du && w[2] == 0xbc57ac4cu && w[3] == 0x9b00dbd8u,
              "philox(0,0) = %08x %08x %08x %08x", w[0], w[1], w[2], w[3]);
    /* ctr = {ffffffff x4}, key = {ffffffff x2} */
    hl_philox(UINT64_MAX, UINT64_MAX, UINT64_MAX, w);
    cr_assert(w[0] == 0x408f276du && w[1] == 0x41c83b0eu && w[2] == 0xa20bc7c6u && w[3] == 0x6d5451fdu,
              "philox(ff..) = %08x %08x %08x %08x", w[0], w[1], w[2], w[3]);
}

Test(rng, same_numbers_whatever_the_chunking) {
    float whole[1000], parts[1000];
    hl_rng a = hl_rng_make(42, 3), b = hl_rng_make(42, 3);
    hl_rng_normal(&a, whole, 1000, 0.0f, 1.0f);
    hl_rng_normal(&b, parts, 7, 0.0f, 1.0f);
    hl_rng_normal(&b, parts + 7, 600, 0.0f, 1.0f);
    hl_rng_normal(&b, parts + 607, 393, 0.0f, 1.0f);
    for (int i = 0; i < 1000; i++) cr_assert_eq(whole[i], parts[i], "element %d differs", i);
    for (int i = 0; i < 1000; i++) cr_assert_eq(whole[i], hl_rng_normal_at(42, 3, (uint64_t)i));
}

/* The fills compute each Philox block once for all its values and run in parallel over blocks (core/rng.c): every
 * element is still exactly its *_at value, for fills starting and ending mid-block, large enough to be split over
 * threads, with 1 and 2 threads. */
Test(rng, block_fills_equal_the_pure_functions) {
    enum { N = 40003 };
    float *u = malloc(N * sizeof *u), *g = malloc(N * sizeof *g);
    for (int threads = 1; threads <= 2; threads++) {
        hl_threads_set(threads);
        for (uint64_t start = 0; start < 5; start++) {
            hl_rng r = hl_rng_make(9, 4);
            r.counter = start;
            hl_rng_uniform(&r, u, N - (int64_t)start, -2.0f, 0.5f);
            cr_assert_eq(r.counter, (uint64_t)N);
            r.counter = start;
            hl_rng_normal(&r, g, N - (int64_t)start, 1.5f, 0.25f);
            for (uint64_t j = 0; j + start < N; j++) {
                cr_assert_eq(u[j], -2.0f + 2.5f * hl_rng_uniform_at(9, 4, start + j), "uniform %llu",
                             (unsigned long long)j);
                cr_assert_eq(g[j], 1.5f + 0.25f * hl_rng_normal_at(9, 4, start + j), "normal %llu",
                             (unsigned long long)j);
            }
        }
    }
    hl_threads_set(1);
    hl_rng r = hl_rng_make(9, 4);
    hl_rng_normal(&r, g, 0, 0.0f, 1.0f); /* empty fills change nothing */
    cr_assert_eq(r.counter, 0);
    free(u), free(g);
}

Test(rng, distributions) {
    enum { N = 200000 };
    float *u = malloc(N * sizeof *u), *g = malloc(N * sizeof *g);
    hl_rng r = hl_rng_make(7, 1);
    hl_rng_uniform(&r, u, N, -1.0f, 3.0f);
    hl_rng_normal(&r, g, N, 2.0f, 0.5f);
    double su = 0, sg = 0, sg2 = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(u[i] >= -1.0f && u[i] < 3.0f);
        su += u[i];
        sg += g[i];
        sg2 += (double)g[i] * g[i];
    }
    double mg = sg / N, sd = sqrt(sg2 / N - mg * mg);
    /* Standard errors: uniform mean 4/sqrt(12N) ≈ 0.0026, normal mean 0.5/sqrt(N) ≈ 0.0011. 5 s.e. bounds. */
    cr_assert(fabs(su / N - 1.0) < 0.013, "uniform mean %g", su / N);
    cr_assert(fabs(mg - 2.0) < 0.006, "normal mean %g", mg);
    cr_assert(fabs(sd - 0.5) < 0.005, "normal std %g", sd);
    /* Different streams differ. */
    cr_assert_neq(hl_rng_uniform_at(7, 1, 0), hl_rng_uniform_at(7, 2, 0));
    free(u);
    free(g);
}

Test(rng, permutation_and_below) {
    int64_t p[100];
    int seen[100] = {0};
    hl_rng r = hl_rng_make(1, 9);
    hl_rng_permutation(&r, p, 100);
    for (int i = 0; i < 100; i++) seen[p[i]]++;
    for (int i = 0; i < 100; i++) cr_assert_eq(seen[i], 1, "value %d appears %d times", i, seen[i]);
    int identity = 1;
    for (int i = 0; i < 100; i++) identity &= p[i] == i;
    cr_assert(!identity, "permutation of 100 is the identity");
    int counts[3] = {0};
    for (int i = 0; i < 30000; i++) counts[hl_rng_below(&r, 3)]++;
    for (int i = 0; i < 3; i++) cr_assert(counts[i] > 9500 && counts[i] < 10500, "bucket %d: %d", i, counts[i]);
}
