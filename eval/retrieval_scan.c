/* eval/retrieval_scan.c — the per-query bucket scan (pass 1 and pass 2); see retrieval_scan.h.
 *
 * Pass 1 kernels are compiled twice, for plain x86-64 and with target("popcnt"), and picked at run time, so a
 * default build still uses the POPCNT instruction (without it __builtin_popcountll is a libgcc call). Counting and
 * compaction over the uint8 distances use AVX2 when the CPU has it (SSE2 or scalar otherwise).
 */
#include "eval/retrieval_scan.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HL_AVX2 1
#endif
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HL_X86 1
#define HL_TARGET_POPCNT __attribute__((target("popcnt")))
#else
#define HL_TARGET_POPCNT
#endif
#define HL_INLINE static inline __attribute__((always_inline))

static inline unsigned popc(uint64_t x) { return (unsigned)__builtin_popcountll(x); }

/* ---- pass 1: distances ------------------------------------------------------------------------------------- */

HL_INLINE void dist_one(const hl_rdb *d, const uint64_t *q, void *out) {
    const uint64_t *w = d->db->w;
    const int64_t n = d->db->n;
    const int W = d->db->words;
    if (!d->dist16 && W == 1) {
        uint8_t *o = out;
        const uint64_t q0 = q[0];
        for (int64_t j = 0; j < n; j++) o[j] = (uint8_t)popc(w[j] ^ q0);
    } else if (!d->dist16 && W == 2) {
        uint8_t *o = out;
        const uint64_t q0 = q[0], q1 = q[1];
        for (int64_t j = 0; j < n; j++) o[j] = (uint8_t)(popc(w[2 * j] ^ q0) + popc(w[2 * j + 1] ^ q1));
    } else {
        for (int64_t j = 0; j < n; j++) {
            unsigned s = 0;
            for (int i = 0; i < W; i++) s += popc(w[j * W + i] ^ q[i]);
            if (d->dist16) ((uint16_t *)out)[j] = (uint16_t)s;
            else ((uint8_t *)out)[j] = (uint8_t)s;
        }
    }
}

/* Two queries per sweep over one- or two-word codes (K <= 128): each database word is loaded once. */
HL_INLINE void dist_pair(const hl_rdb *d, const uint64_t *qa, const uint64_t *qb, uint8_t *oa, uint8_t *ob) {
    const uint64_t *w = d->db->w;
    const int64_t n = d->db->n;
    if (d->db->words == 1) {
        const uint64_t a0 = qa[0], b0 = qb[0];
        for (int64_t j = 0; j < n; j++) {
            const uint64_t x = w[j];
            oa[j] = (uint8_t)popc(x ^ a0);
            ob[j] = (uint8_t)popc(x ^ b0);
        }
    } else {
        const uint64_t a0 = qa[0], a1 = qa[1], b0 = qb[0], b1 = qb[1];
        for (int64_t j = 0; j < n; j++) {
            const uint64_t x = w[2 * j], y = w[2 * j + 1];
            oa[j] = (uint8_t)(popc(x ^ a0) + popc(y ^ a1));
            ob[j] = (uint8_t)(popc(x ^ b0) + popc(y ^ b1));
        }
    }
}

#ifdef HL_X86
static HL_TARGET_POPCNT void dist_one_popcnt(const hl_rdb *d, const uint64_t *q, void *out) { dist_one(d, q, out); }
static HL_TARGET_POPCNT void dist_pair_popcnt(const hl_rdb *d, const uint64_t *qa, const uint64_t *qb, uint8_t *oa,
                                              uint8_t *ob) {
    dist_pair(d, qa, qb, oa, ob);
}
#endif
static void dist_one_plain(const hl_rdb *d, const uint64_t *q, void *out) { dist_one(d, q, out); }
static void dist_pair_plain(const hl_rdb *d, const uint64_t *qa, const uint64_t *qb, uint8_t *oa, uint8_t *ob) {
    dist_pair(d, qa, qb, oa, ob);
}

/* ---- database and scratch ---------------------------------------------------------------------------------- */

static uint64_t row_hash(const uint64_t *x, int lw) {
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < lw; i++) h = (h ^ x[i]) * 0xff51afd7ed558ccdu, h ^= h >> 29;
    return h;
}

/* Groups the label rows of dbl (at most HL_RSCAN_MAX_GROUPS distinct rows); leaves ngroups = 0 when there are more. */
static hl_status group_labels(hl_rdb *d, const hl_labels *dbl) {
    enum { SLOTS = 4 * HL_RSCAN_MAX_GROUPS };
    const int lw = dbl->words;
    int16_t slot[SLOTS];
    memset(slot, -1, sizeof slot);
    d->group = malloc((size_t)dbl->n + 1);
    d->glabels = malloc((size_t)HL_RSCAN_MAX_GROUPS * (size_t)lw * sizeof *d->glabels);
    d->gsize = calloc(HL_RSCAN_MAX_GROUPS, sizeof *d->gsize);
    if (!d->group || !d->glabels || !d->gsize) return hl_error_set(HL_ENOMEM, "out of memory grouping labels");
    int ng = 0;
    for (int64_t j = 0; j < dbl->n; j++) {
        const uint64_t *x = hl_labels_row(dbl, j);
        unsigned h = (unsigned)(row_hash(x, lw) % SLOTS);
        while (slot[h] >= 0 && memcmp(d->glabels + (size_t)slot[h] * lw, x, (size_t)lw * sizeof *x) != 0)
            h = (h + 1) % SLOTS;
        if (slot[h] < 0) {
            if (ng == HL_RSCAN_MAX_GROUPS) { /* too many distinct rows: per-item relevance */
                free(d->group), free(d->glabels), free(d->gsize);
                d->group = NULL, d->glabels = NULL, d->gsize = NULL;
                return HL_OK;
            }
            memcpy(d->glabels + (size_t)ng * lw, x, (size_t)lw * sizeof *x);
            slot[h] = (int16_t)ng++;
        }
        d->group[j] = (uint8_t)slot[h];
        d->gsize[slot[h]]++;
    }
    d->ngroups = ng;
    return HL_OK;
}

hl_status hl_rdb_init(hl_rdb *d, const hl_codes *db, const hl_labels *dbl) {
    memset(d, 0, sizeof *d);
    hl_status st = HL_OK;
    if (db->bits > HL_RSCAN_MAX_BITS)
        return hl_error_set(HL_EUNSUPPORTED, "retrieval: codes of %d bits (at most %d supported)", db->bits,
                            HL_RSCAN_MAX_BITS);
    if (db->n > INT32_MAX)
        return hl_error_set(HL_EUNSUPPORTED, "retrieval: database of %lld items (at most %d supported)",
                            (long long)db->n, INT32_MAX);
    d->db = db;
    d->dbl = dbl;
    d->bits = db->bits;
    d->dist16 = db->bits > 255;
#ifdef HL_X86
    __builtin_cpu_init();
    d->popcnt = __builtin_cpu_supports("popcnt");
#endif
#ifdef HL_AVX2
    d->avx2 = __builtin_cpu_supports("avx2");
#endif
    for (int m = 0; m < 256; m++) {
        int c = 0;
        for (int b = 0; b < 8; b++)
            if (m >> b & 1) d->lut[m][c++] = b;
        while (c < 8) d->lut[m][c++] = 0;
    }
    d->inv = malloc((size_t)(db->n + 1) * sizeof *d->inv);
    if (!d->inv) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for a database of %lld items", (long long)db->n));
    d->inv[0] = 0.0;
    for (int64_t p = 1; p <= db->n; p++) d->inv[p] = 1.0 / (double)p;
    if (dbl) {
        HL_TRY(group_labels(d, dbl));
    } else { /* nothing relevant: one group with an empty label row */
        d->group = calloc((size_t)db->n + 1, 1);
        d->gsize = calloc(1, sizeof *d->gsize);
        if (!d->group || !d->gsize) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld items", (long long)db->n));
        d->ngroups = 1;
        d->gsize[0] = db->n;
    }
done:
    if (st < 0) hl_rdb_free(d);
    return st;
}

void hl_rdb_free(hl_rdb *d) {
    if (!d) return;
    free(d->group);
    free(d->glabels);
    free(d->gsize);
    free(d->inv);
    memset(d, 0, sizeof *d);
}

hl_status hl_rscan_init(hl_rscan *s, const hl_rdb *d) {
    memset(s, 0, sizeof *s);
    const size_t n = (size_t)d->db->n, nb = (size_t)d->bits + 2;
    s->dist = malloc((n + 32) * (d->dist16 ? 2 : 1));
    s->hits = malloc((n + 8) * sizeof *s->hits); /* the vector compaction stores 8 at a time */
    s->hkey = malloc((n + 1) * sizeof *s->hkey);
    int64_t *buf = malloc(6 * nb * sizeof *buf);
    if (!s->dist || !s->hits || !s->hkey || !buf) {
        free(buf);
        hl_rscan_free(s);
        return hl_error_set(HL_ENOMEM, "out of memory for retrieval scratch (%zu items)", n);
    }
    s->cnt = buf, s->rel = buf + nb, s->start = buf + 2 * nb, s->rstart = buf + 3 * nb;
    s->seen = buf + 4 * nb, s->rseen = buf + 5 * nb;
    s->guess = d->bits / 2;
    s->inv = d->inv;
    return HL_OK;
}

void hl_rscan_free(hl_rscan *s) {
    if (!s) return;
    free(s->dist);
    free(s->hits);
    free(s->hkey);
    free(s->cnt);
    memset(s, 0, sizeof *s);
}

/* ---- per query --------------------------------------------------------------------------------------------- */

static bool relevant_words(const uint64_t *a, const uint64_t *b, int lw) {
    for (int i = 0; i < lw; i++)
        if (a[i] & b[i]) return true;
    return false;
}

/* Relevance table and total relevant count. */
static void query_labels(hl_rscan *s, const hl_rdb *d, const uint64_t *qlab) {
    const int lw = d->dbl ? d->dbl->words : 0;
    s->qlab = qlab;
    s->total_rel = 0;
    if (d->ngroups) {
        for (int g = 0; g < d->ngroups; g++) {
            s->rt[g] = lw && relevant_words(qlab, d->glabels + (size_t)g * lw, lw);
            s->total_rel += s->rt[g] ? d->gsize[g] : 0;
        }
    } else {
        for (int64_t j = 0; j < d->dbl->n; j++) s->total_rel += relevant_words(qlab, hl_labels_row(d->dbl, j), lw);
    }
}

void hl_rscan_query(hl_rscan *s, const hl_rdb *d, const uint64_t *qcode, const uint64_t *qlab) {
    query_labels(s, d, qlab);
#ifdef HL_X86
    if (d->popcnt) {
        dist_one_popcnt(d, qcode, s->dist);
        return;
    }
#endif
    dist_one_plain(d, qcode, s->dist);
}

void hl_rscan_query2(hl_rscan *sa, hl_rscan *sb, const hl_rdb *d, const uint64_t *qa, const uint64_t *qla,
                     const uint64_t *qb, const uint64_t *qlb) {
    if (d->db->words > 2) {
        hl_rscan_query(sa, d, qa, qla);
        hl_rscan_query(sb, d, qb, qlb);
        return;
    }
    query_labels(sa, d, qla);
    query_labels(sb, d, qlb);
#ifdef HL_X86
    if (d->popcnt) {
        dist_pair_popcnt(d, qa, qb, sa->dist, sb->dist);
        return;
    }
#endif
    dist_pair_plain(d, qa, qb, sa->dist, sb->dist);
}

/* ---- pass 2 ------------------------------------------------------------------------------------------------ */

#ifdef HL_AVX2
/* Items with dist <= t: 32 compared at once. */
static __attribute__((target("avx2,popcnt"))) int64_t count_le_avx2(const uint8_t *k, int64_t n, unsigned t,
                                                                    int64_t *jend) {
    const __m256i tv = _mm256_set1_epi8((char)(uint8_t)t);
    int64_t c = 0, j = 0;
    for (; j + 32 <= n; j += 32) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(k + j));
        c += __builtin_popcount((unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(v, tv), v)));
    }
    *jend = j;
    return c;
}

/* Branch-free compaction: each byte of the 32-item match mask indexes lut (the positions of its set bits) and 8
 * indices are stored (the ones past the matches are overwritten by the next store). */
static __attribute__((target("avx2,popcnt"))) int64_t collect_avx2(const uint8_t *k, int64_t n, unsigned t,
                                                                   int64_t need, int32_t *hits,
                                                                   const int32_t (*lut)[8], int64_t *jend) {
    const __m256i tv = _mm256_set1_epi8((char)(uint8_t)t);
    int64_t m = 0, j = 0;
    for (; j + 32 <= n && m < need; j += 32) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(k + j));
        const uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(v, tv), v));
        for (int g = 0; g < 4; g++) {
            const unsigned mb = (mask >> (8 * g)) & 0xffu;
            const __m256i base = _mm256_set1_epi32((int)(j + 8 * g));
            const __m256i idx = _mm256_add_epi32(base, _mm256_loadu_si256((const __m256i *)(const void *)lut[mb]));
            _mm256_storeu_si256((__m256i *)(void *)(hits + m), idx);
            m += __builtin_popcount(mb);
        }
    }
    *jend = j;
    return m;
}
#endif

static int64_t count_le8(const hl_rdb *d, const uint8_t *k, int64_t n, unsigned t) {
    int64_t c = 0, j = 0;
#ifdef HL_AVX2
    if (d->avx2) c = count_le_avx2(k, n, t, &j);
#else
    (void)d;
#endif
#if defined(__SSE2__)
    const __m128i tv = _mm_set1_epi8((char)(uint8_t)t);
    for (; j + 16 <= n; j += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(k + j));
        c += __builtin_popcount((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, tv), v)));
    }
#endif
    for (; j < n; j++) c += k[j] <= t;
    return c;
}

/* Smallest t with at least L items at distance <= t, searched from the previous query's answer. */
static int find_top(hl_rscan *s, const hl_rdb *d, int64_t L) {
    const int64_t n = d->db->n;
    const int K = d->bits;
    if (d->dist16) { /* rare (K > 255): one histogram pass */
        const uint16_t *k = s->dist;
        memset(s->cnt, 0, (size_t)(K + 1) * sizeof *s->cnt);
        for (int64_t j = 0; j < n; j++) s->cnt[k[j]]++;
        int64_t c = 0;
        int t = 0;
        while ((c += s->cnt[t]) < L) t++;
        return t;
    }
    const uint8_t *k = s->dist;
    int t = s->guess < 0 ? 0 : s->guess > K ? K : s->guess;
    if (count_le8(d, k, n, (unsigned)t) >= L) {
        while (t > 0 && count_le8(d, k, n, (unsigned)t - 1) >= L) t--;
    } else {
        do t++;
        while (t < K && count_le8(d, k, n, (unsigned)t) < L);
    }
    s->guess = t;
    return t;
}

static int64_t collect(hl_rscan *s, const hl_rdb *d, int top) {
    const int64_t n = d->db->n;
    int64_t m = 0, j = 0;
    int32_t *hits = s->hits;
    if (!d->dist16) {
        const uint8_t *k = s->dist;
        const unsigned t = (unsigned)top;
#ifdef HL_AVX2
        if (d->avx2) m = collect_avx2(k, n, t, n, hits, d->lut, &j);
#endif
#if defined(__SSE2__)
        const __m128i tv = _mm_set1_epi8((char)(uint8_t)t);
        for (; j + 16 <= n; j += 16) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(k + j));
            unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, tv), v));
            while (mask) {
                hits[m++] = (int32_t)(j + __builtin_ctz(mask));
                mask &= mask - 1;
            }
        }
#endif
        for (; j < n; j++)
            if (k[j] <= t) hits[m++] = (int32_t)j;
    } else {
        const uint16_t *k = s->dist;
        for (; j < n; j++)
            if (k[j] <= (unsigned)top) hits[m++] = (int32_t)j;
    }
    return m;
}

void hl_rscan_prepare(hl_rscan *s, const hl_rdb *d, int64_t L, int rmin) {
    const int K = d->bits;
    HL_ASSERT(L >= 1 && L <= d->db->n, "rank %lld outside [1, %lld]", (long long)L, (long long)d->db->n);
    int top = rmin >= K ? K : find_top(s, d, L);
    if (rmin > top) top = rmin > K ? K : rmin;
    s->top = top;
    s->nhits = collect(s, d, top);
    memset(s->cnt, 0, (size_t)(top + 1) * sizeof *s->cnt);
    memset(s->rel, 0, (size_t)(top + 1) * sizeof *s->rel);
    const int lw = d->dbl ? d->dbl->words : 0;
    for (int64_t h = 0; h < s->nhits; h++) {
        const int32_t j = s->hits[h];
        const unsigned b = d->dist16 ? ((const uint16_t *)s->dist)[j] : ((const uint8_t *)s->dist)[j];
        const unsigned r = d->ngroups ? s->rt[d->group[j]] : relevant_words(s->qlab, hl_labels_row(d->dbl, j), lw);
        s->hkey[h] = (uint16_t)(2 * b + r);
        s->cnt[b]++;
        s->rel[b] += r;
    }
    s->start[0] = s->rstart[0] = 0;
    for (int b = 0; b <= top; b++) {
        s->start[b + 1] = s->start[b] + s->cnt[b];
        s->rstart[b + 1] = s->rstart[b] + s->rel[b];
    }
    HL_ASSERT(s->start[top + 1] == s->nhits && s->nhits >= L, "prepare: %lld hits for rank %lld",
              (long long)s->nhits, (long long)L);
}

hl_rcut hl_rscan_cut(const hl_rscan *s, int64_t R) {
    HL_ASSERT(R >= 1 && R <= s->start[s->top + 1], "rank %lld outside the %lld prepared items", (long long)R,
              (long long)s->start[s->top + 1]);
    int b = 0;
    while (s->start[b + 1] < R) b++;
    return (hl_rcut){.b = b, .before = s->start[b], .take = R - s->start[b]};
}

/* ---- the floor --------------------------------------------------------------------------------------------- */

HL_INLINE uint64_t floor_row(const uint64_t *q, const uint64_t *w, int64_t n, int W) {
    uint64_t sum = 0;
    if (W == 1) { /* four accumulators: the adds do not serialise */
        const uint64_t q0 = q[0];
        uint64_t s1 = 0, s2 = 0, s3 = 0;
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            sum += popc(w[j] ^ q0);
            s1 += popc(w[j + 1] ^ q0);
            s2 += popc(w[j + 2] ^ q0);
            s3 += popc(w[j + 3] ^ q0);
        }
        for (; j < n; j++) sum += popc(w[j] ^ q0);
        sum += s1 + s2 + s3;
    } else if (W == 2) {
        const uint64_t q0 = q[0], q1 = q[1];
        uint64_t s1 = 0;
        for (int64_t j = 0; j < n; j++) {
            sum += popc(w[2 * j] ^ q0);
            s1 += popc(w[2 * j + 1] ^ q1);
        }
        sum += s1;
    } else {
        for (int64_t j = 0; j < n; j++)
            for (int i = 0; i < W; i++) sum += popc(w[j * W + i] ^ q[i]);
    }
    return sum;
}
#ifdef HL_X86
static HL_TARGET_POPCNT uint64_t floor_popcnt(const uint64_t *q, const uint64_t *w, int64_t n, int W) {
    return floor_row(q, w, n, W);
}
#endif
static uint64_t floor_plain(const uint64_t *q, const uint64_t *w, int64_t n, int W) { return floor_row(q, w, n, W); }

uint64_t hl_rscan_floor(const hl_codes *q, const hl_codes *db) {
    HL_ASSERT(q->words == db->words, "floor: %d vs %d words", q->words, db->words);
    bool pc = false;
#ifdef HL_X86
    __builtin_cpu_init();
    pc = __builtin_cpu_supports("popcnt");
#endif
    uint64_t total = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : total)
    for (int64_t i = 0; i < q->n; i++) {
#ifdef HL_X86
        if (pc) {
            total += floor_popcnt(hl_codes_row(q, i), db->w, db->n, db->words);
            continue;
        }
#endif
        total += floor_plain(hl_codes_row(q, i), db->w, db->n, db->words);
    }
    (void)pc;
    return total;
}
