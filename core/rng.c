/* core/rng.c — Philox-4x32-10 (Salmon et al., SC'11) and distributions on top; see rng.h. */
#include "core/rng.h"

#include <math.h>

#define HL_PHILOX_M0 0xD2511F53u
#define HL_PHILOX_M1 0xCD9E8D57u
#define HL_PHILOX_W0 0x9E3779B9u
#define HL_PHILOX_W1 0xBB67AE85u

void hl_philox(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)HL_PHILOX_M0 * c0, p1 = (uint64_t)HL_PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += HL_PHILOX_W0;
        k1 += HL_PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

hl_rng hl_rng_make(uint64_t seed, uint64_t stream) { return (hl_rng){seed, stream, 0}; }

hl_rng hl_rng_split(const hl_rng *r, uint64_t sub) {
    uint32_t w[4];
    hl_philox(r->seed, r->stream ^ 0x5851F42D4C957F2Dull, sub, w);
    return (hl_rng){r->seed, ((uint64_t)w[0] << 32 | w[1]) ^ sub, 0};
}

static inline float hl__u24(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

/* Element i lives in block i/4, word i%4. */
float hl_rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i) {
    uint32_t w[4];
    hl_philox(seed, stream, i >> 2, w);
    return hl__u24(w[i & 3]);
}

/* Normal i uses words (2j, 2j+1) of block i/2 for j = i%2: cos for even pairs' first value, sin for the second. */
static float hl__normal_from(uint32_t a, uint32_t b, int use_sin) {
    double u1 = ((double)(a >> 8) + 1.0) / 16777217.0; /* (0,1] so log is finite */
    double u2 = (double)(b >> 8) / 16777216.0;
    double rad = sqrt(-2.0 * log(u1)), th = 2.0 * HL_PI * u2;
    return (float)(rad * (use_sin ? sin(th) : cos(th)));
}

float hl_rng_normal_at(uint64_t seed, uint64_t stream, uint64_t i) {
    uint32_t w[4];
    hl_philox(seed, stream ^ 0xA0761D6478BD642Full, i >> 1, w);
    return hl__normal_from(w[0] ^ w[2], w[1] ^ w[3], (int)(i & 1));
}

/* The fills give element j exactly hl_rng_uniform_at / hl_rng_normal_at of index counter + j, computing each Philox
 * block once for the 4 uniforms (2 normals) it holds, in parallel over blocks (values never depend on the thread
 * count: each is a pure function of its index). Weight initialisation of ImageNet-sized layers relies on it. */
#define HL_RNG_PAR_MIN_BLOCKS 4096

void hl_rng_uniform_fill(uint64_t seed, uint64_t stream, uint64_t c, int64_t n, float lo, float hi, float *dst) {
    const uint64_t b0 = c >> 2, b1 = n > 0 ? (c + (uint64_t)n - 1) >> 2 : b0;
#pragma omp parallel for schedule(static) if (n > 0 && b1 - b0 >= HL_RNG_PAR_MIN_BLOCKS)
    for (int64_t b = (int64_t)b0; b <= (int64_t)b1; b++) {
        if (n <= 0) continue;
        uint32_t w[4];
        hl_philox(seed, stream, (uint64_t)b, w);
        for (uint64_t k = 0; k < 4; k++) {
            const uint64_t i = (uint64_t)b * 4 + k;
            if (i >= c && i < c + (uint64_t)n) dst[i - c] = lo + (hi - lo) * hl__u24(w[k]);
        }
    }
}

void hl_rng_uniform(hl_rng *r, float *dst, int64_t n, float lo, float hi) {
    hl_rng_uniform_fill(r->seed, r->stream, r->counter, n, lo, hi, dst);
    r->counter += (uint64_t)n;
}

void hl_rng_normal_fill(uint64_t seed, uint64_t stream, uint64_t c, int64_t n, float mean, float std, float *dst) {
    const uint64_t b0 = c >> 1, b1 = n > 0 ? (c + (uint64_t)n - 1) >> 1 : b0;
    stream ^= 0xA0761D6478BD642Full;
#pragma omp parallel for schedule(static) if (n > 0 && b1 - b0 >= HL_RNG_PAR_MIN_BLOCKS)
    for (int64_t b = (int64_t)b0; b <= (int64_t)b1; b++) {
        if (n <= 0) continue;
        uint32_t w[4];
        hl_philox(seed, stream, (uint64_t)b, w);
        const uint32_t a = w[0] ^ w[2], bb = w[1] ^ w[3];
        double u1 = ((double)(a >> 8) + 1.0) / 16777217.0, u2 = (double)(bb >> 8) / 16777216.0; /* hl__normal_from */
        double rad = sqrt(-2.0 * log(u1)), th = 2.0 * HL_PI * u2;
        for (uint64_t k = 0; k < 2; k++) {
            const uint64_t i = (uint64_t)b * 2 + k;
            if (i >= c && i < c + (uint64_t)n) dst[i - c] = mean + std * (float)(rad * (k ? sin(th) : cos(th)));
        }
    }
}

void hl_rng_normal(hl_rng *r, float *dst, int64_t n, float mean, float std) {
    hl_rng_normal_fill(r->seed, r->stream, r->counter, n, mean, std, dst);
    r->counter += (uint64_t)n;
}

uint32_t hl_rng_u32(hl_rng *r) {
    uint32_t w[4];
    uint64_t i = r->counter++;
    hl_philox(r->seed, r->stream ^ 0x8EBC6AF09C88C6E3ull, i >> 2, w);
    return w[i & 3];
}

uint64_t hl_rng_below(hl_rng *r, uint64_t n) {
    HL_ASSERT(n > 0, "hl_rng_below(0)");
    if (n <= 0xFFFFFFFFull) {
        /* Lemire's nearly-divisionless method with rejection: unbiased. */
        uint32_t bound = (uint32_t)n;
        uint64_t m = (uint64_t)hl_rng_u32(r) * bound;
        uint32_t lo = (uint32_t)m;
        if (lo < bound) {
            uint32_t t = (uint32_t)(-bound) % bound;
            while (lo < t) {
                m = (uint64_t)hl_rng_u32(r) * bound;
                lo = (uint32_t)m;
            }
        }
        return m >> 32;
    }
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do x = (uint64_t)hl_rng_u32(r) << 32 | hl_rng_u32(r);
    while (x >= lim);
    return x % n;
}

void hl_rng_permutation(hl_rng *r, int64_t *perm, int64_t n) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)hl_rng_below(r, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
