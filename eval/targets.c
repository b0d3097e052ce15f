/* eval/targets.c — target labels and anchor items for targeted attacks; see targets.h. */
#include "eval/targets.h"

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

#define HL_TARGETS_STREAM 0x7A46E75EEDull
#define HL_ANCHORS_STREAM 0xA1C804EEDull

static int g_words; /* row width for the qsort comparator (set before each sort) */
static const uint64_t *g_bits;

static int cmp_rows(const void *pa, const void *pb) {
    const uint64_t *a = g_bits + *(const int64_t *)pa * g_words, *b = g_bits + *(const int64_t *)pb * g_words;
    for (int w = 0; w < g_words; w++)
        if (a[w] != b[w]) return a[w] < b[w] ? -1 : 1;
    return 0;
}

static bool rows_equal(const uint64_t *a, const uint64_t *b, int words) {
    return memcmp(a, b, (size_t)words * sizeof *a) == 0;
}

hl_status hl_targets_draw(hl_labels *targets, const hl_labels *queries, const hl_labels *database, uint64_t seed) {
    memset(targets, 0, sizeof *targets);
    if (queries->nlabels != database->nlabels)
        return hl_error_set(HL_EMISMATCH, "targets: queries have %d labels, the database %d", queries->nlabels,
                            database->nlabels);
    const int64_t N = database->n;
    int64_t *order = malloc((size_t)(N ? N : 1) * sizeof *order), *uniq = malloc((size_t)(N ? N : 1) * sizeof *uniq);
    if (!order || !uniq) {
        free(order);
        free(uniq);
        return hl_error_set(HL_ENOMEM, "targets: out of memory");
    }
    /* Distinct database label sets, in sorted row order (deterministic), one representative row each. */
    for (int64_t j = 0; j < N; j++) order[j] = j;
    g_words = database->words;
    g_bits = database->bits;
    qsort(order, (size_t)N, sizeof *order, cmp_rows);
    int64_t D = 0;
    for (int64_t j = 0; j < N; j++)
        if (D == 0 || cmp_rows(&order[j], &uniq[D - 1]) != 0) uniq[D++] = order[j];
    hl_status st = HL_OK;
    if (D < 2) {
        st = hl_error_set(HL_EINVAL, "targets: the database has %lld distinct label set(s); a target must differ "
                                     "from the query's own", (long long)D);
        goto done;
    }
    HL_TRY(hl_labels_create(targets, queries->n, queries->nlabels));
    hl_rng base = hl_rng_make(seed, HL_TARGETS_STREAM);
    for (int64_t i = 0; i < queries->n; i++) {
        const uint64_t *q = hl_labels_row(queries, i);
        int64_t own = -1; /* position of the query's set among the distinct ones, if present */
        for (int64_t d = 0; d < D && own < 0; d++)
            if (rows_equal(q, hl_labels_row(database, uniq[d]), database->words)) own = d;
        hl_rng r = hl_rng_split(&base, (uint64_t)i);
        int64_t k = (int64_t)hl_rng_below(&r, (uint64_t)(own >= 0 ? D - 1 : D));
        if (own >= 0 && k >= own) k++;
        memcpy(targets->bits + i * targets->words, hl_labels_row(database, uniq[k]),
               (size_t)targets->words * sizeof *targets->bits);
    }
done:
    free(order);
    free(uniq);
    if (st < 0) hl_labels_free(targets);
    return st;
}

/* Appends to out (up to want entries) a seeded random selection of the candidates cand[0..nc). */
static int64_t take_random(int64_t *out, int64_t have, int64_t want, int64_t *cand, int64_t nc, hl_rng *r) {
    for (int64_t t = 0; t < nc && have < want; t++) {
        int64_t j = t + (int64_t)hl_rng_below(r, (uint64_t)(nc - t));
        int64_t tmp = cand[t];
        cand[t] = cand[j];
        cand[j] = tmp;
        out[have++] = cand[t];
    }
    return have;
}

hl_status hl_targets_anchors(int64_t *anchors, int64_t *short_count, const hl_labels *targets,
                             const hl_labels *database, int n_t, uint64_t seed) {
    *short_count = 0;
    if (n_t < 1) return hl_error_set(HL_EINVAL, "anchors: n_t = %d must be >= 1", n_t);
    if (targets->nlabels != database->nlabels)
        return hl_error_set(HL_EMISMATCH, "anchors: targets have %d labels, the database %d", targets->nlabels,
                            database->nlabels);
    const int64_t N = database->n;
    int64_t *same = malloc((size_t)(N ? N : 1) * sizeof *same), *share = malloc((size_t)(N ? N : 1) * sizeof *share);
    if (!same || !share) {
        free(same);
        free(share);
        return hl_error_set(HL_ENOMEM, "anchors: out of memory");
    }
    hl_rng base = hl_rng_make(seed, HL_ANCHORS_STREAM);
    for (int64_t i = 0; i < targets->n; i++) {
        const uint64_t *t = hl_labels_row(targets, i);
        int64_t ns = 0, nh = 0;
        for (int64_t j = 0; j < N; j++) {
            if (rows_equal(t, hl_labels_row(database, j), database->words))
                same[ns++] = j;
            else if (hl_labels_relevant(targets, i, database, j))
                share[nh++] = j;
        }
        hl_rng r = hl_rng_split(&base, (uint64_t)i);
        int64_t *row = anchors + i * n_t;
        int64_t have = take_random(row, 0, n_t, same, ns, &r);
        have = take_random(row, have, n_t, share, nh, &r);
        if (have < n_t) (*short_count)++;
        for (; have < n_t; have++) row[have] = -1;
    }
    free(same);
    free(share);
    return HL_OK;
}

hl_status hl_targets_anchor_code(hl_codes *out, const hl_codes *db, const int64_t *anchors, int64_t m, int n_t) {
    hl_status st = hl_codes_create(out, m, db->bits);
    if (st < 0) return st;
    for (int64_t i = 0; i < m; i++)
        for (int k = 0; k < db->bits; k++) {
            int vote = 0; /* Σ of ±1 */
            for (int a = 0; a < n_t; a++) {
                int64_t j = anchors[i * n_t + a];
                if (j < 0) continue;
                HL_ASSERT(j < db->n, "anchor index %lld outside the database (%lld)", (long long)j, (long long)db->n);
                vote += hl_codes_bit(db, j, k) ? 1 : -1;
            }
            hl_codes_set_bit(out, i, k, vote >= 0);
        }
    return HL_OK;
}
