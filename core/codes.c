/* core/codes.c — packed codes; see codes.h. */
#include "core/codes.h"

#include <stdlib.h>
#include <string.h>

hl_status hl_codes_create(hl_codes *out, int64_t n, int bits) {
    memset(out, 0, sizeof *out);
    if (n < 0 || bits < 1) return hl_error_set(HL_EINVAL, "codes: %lld codes of %d bits", (long long)n, bits);
    int words = (bits + 63) / 64;
    size_t bytes = ((size_t)(n ? n : 1) * (size_t)words * sizeof(uint64_t) + 63) / 64 * 64;
    out->w = aligned_alloc(64, bytes);
    if (!out->w) return hl_error_set(HL_ENOMEM, "out of memory for %lld codes of %d bits", (long long)n, bits);
    memset(out->w, 0, bytes);
    out->n = n;
    out->bits = bits;
    out->words = words;
    return HL_OK;
}

void hl_codes_free(hl_codes *c) {
    if (!c) return;
    free(c->w);
    memset(c, 0, sizeof *c);
}

void hl_codes_pack(hl_codes *c, const float *x) {
#pragma omp parallel for schedule(static) if (c->n * c->bits > 1 << 16)
    for (int64_t i = 0; i < c->n; i++) {
        uint64_t *row = c->w + i * c->words;
        const float *xi = x + i * c->bits;
        for (int w = 0; w < c->words; w++) {
            uint64_t word = 0;
            int k0 = w * 64, k1 = HL_MIN(c->bits, k0 + 64);
            for (int k = k0; k < k1; k++) word |= (uint64_t)(xi[k] >= 0.0f) << (k - k0);
            row[w] = word;
        }
    }
}

void hl_codes_unpack(const hl_codes *c, float *x) {
    for (int64_t i = 0; i < c->n; i++)
        for (int k = 0; k < c->bits; k++) x[i * c->bits + k] = hl_codes_bit(c, i, k) ? 1.0f : -1.0f;
}

hl_status hl_codes_subset(hl_codes *out, const hl_codes *src, const int64_t *idx, int64_t m) {
    hl_status st = hl_codes_create(out, m, src->bits);
    if (st < 0) return st;
    for (int64_t i = 0; i < m; i++) {
        HL_ASSERT(idx[i] >= 0 && idx[i] < src->n, "subset index %lld outside [0, %lld)", (long long)idx[i],
                  (long long)src->n);
        memcpy(out->w + i * out->words, hl_codes_row(src, idx[i]), (size_t)out->words * sizeof *out->w);
    }
    return HL_OK;
}
