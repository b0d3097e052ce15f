/* core/codes.h — packed binary codes: what hashers produce and what metrics and attacks consume.
 *
 * Sign convention (METRICS.md): a real output x maps to bit 1 (= +1) when x >= 0, else bit 0 (= −1); sign(0) = +1,
 * never a third value. A code of K bits is `words` = ceil(K / 64) uint64 words; bit k lives at bit (k % 64) of word
 * k / 64 (least significant first); the unused high bits of the last word are always zero, so Hamming distance is
 * popcount(a XOR b) over whole words.
 */
#ifndef HL_CODES_H
#define HL_CODES_H

#include "core/common.h"

typedef struct hl_codes {
    int64_t n;   /* codes */
    int bits;    /* K >= 1 */
    int words;   /* ceil(K / 64) */
    uint64_t *w; /* [n, words], owned, 64-byte aligned */
} hl_codes;

/* n zero codes (all bits −1) of K bits. */
hl_status hl_codes_create(hl_codes *out, int64_t n, int bits);
void hl_codes_free(hl_codes *c); /* NULL-safe; leaves *c zeroed */
/* Packs real outputs x [n, K] (row-major) by the sign convention. */
void hl_codes_pack(hl_codes *c, const float *x);
/* Unpacks to ±1 floats [n, K]. */
void hl_codes_unpack(const hl_codes *c, float *x);
/* Copy of the rows idx[0..m). */
hl_status hl_codes_subset(hl_codes *out, const hl_codes *src, const int64_t *idx, int64_t m);

static inline const uint64_t *hl_codes_row(const hl_codes *c, int64_t i) { return c->w + i * c->words; }
static inline int hl_codes_bit(const hl_codes *c, int64_t i, int k) {
    return (int)((c->w[i * c->words + k / 64] >> (k % 64)) & 1u);
}
static inline void hl_codes_set_bit(hl_codes *c, int64_t i, int k, int v) {
    uint64_t m = (uint64_t)1 << (k % 64);
    uint64_t *w = &c->w[i * c->words + k / 64];
    *w = v ? (*w | m) : (*w & ~m);
}
/* Hamming distance between two packed rows of `words` words. */
static inline int hl_hamming(const uint64_t *a, const uint64_t *b, int words) {
    int d = 0;
    for (int i = 0; i < words; i++) d += __builtin_popcountll(a[i] ^ b[i]);
    return d;
}

#endif
