/* tests/common/test_hashers.h — helpers for the hasher tests (header-only: test_common.c is also linked into
 * executables without the hashers library). */
#ifndef HL_TEST_HASHERS_H
#define HL_TEST_HASHERS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "eval/retrieval.h"
#include "hashers/hasher.h"
#include "test_common.h"

/* A params map from n "key", "value" pairs (scalars), or from a NULL-terminated list of pairs. */
static inline hl_config *hl_test_params_n(int n, const char *const *kv) {
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "test", 1, 1);
    cr_assert_not_null(m);
    for (int i = 0; i < n; i++)
        cr_assert_eq(hl_config_map_put(m, kv[2 * i], i + 2, 1,
                                       hl_config_new(HL_CONFIG_SCALAR, kv[2 * i + 1], "test", i + 2, 9)),
                     HL_OK);
    return m;
}

static inline hl_config *hl_test_params(const char *const *kv) {
    int n = 0;
    while (kv[2 * n]) n++;
    return hl_test_params_n(n, kv);
}

/* Seeded synthetic set of n images [c, hw, hw] in `classes` classes (noise 0.3). */
static inline void hl_test_synthetic(hl_dataset *d, int64_t n, int c, int hw, int classes, uint64_t seed) {
    hl_synth_opts o = {.n = n, .c = c, .h = hw, .w = hw, .classes = classes, .seed = seed, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(d, &o), HL_OK, "%s", hl_error_last());
}

/* A hasher of `method` for d's images with the NULL-terminated key/value pairs kv. */
static inline hl_hasher *hl_test_make_hasher(const char *method, const hl_dataset *d, const char *const *kv, int bits,
                                             uint64_t seed) {
    hl_dataset_info info = hl_dataset_info_of(d);
    hl_config *p = hl_test_params(kv);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, method, p, &info, bits, seed), HL_OK, "%s", hl_error_last());
    hl_config_free(p);
    return h;
}

/* mAP@all (default conventions) of the queries q[0..nq) of d against the database db[0..ndb), with database codes
 * from hl_hasher_encode_database (a method's learned codes where it has them) and query codes from the network.
 * keep_q: NULL, or receives the query codes (the caller frees them). */
static inline double hl_test_hasher_map(hl_hasher *h, const hl_dataset *d, const int64_t *db, int64_t ndb,
                                        const int64_t *q, int64_t nq, hl_codes *keep_q) {
    hl_ctx *ctx = hl_test_ctx();
    hl_codes cq, cd;
    hl_labels lq, ld;
    cr_assert_eq(hl_hasher_encode_database(&cd, h, ctx, d, db, ndb, 64), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode(&cq, h, ctx, d, q, nq, 64), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labels_subset(&lq, &d->labels, q, nq), HL_OK);
    cr_assert_eq(hl_labels_subset(&ld, &d->labels, db, ndb), HL_OK);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o); /* R = all */
    hl_retrieval_result res;
    cr_assert_eq(hl_retrieval_eval(&cq, &lq, &cd, &ld, &o, &res, NULL), HL_OK, "%s", hl_error_last());
    if (keep_q) *keep_q = cq;
    else hl_codes_free(&cq);
    hl_codes_free(&cd), hl_labels_free(&lq), hl_labels_free(&ld);
    hl_ctx_free(ctx);
    return res.map;
}

/* Fits h on items 0..nfit−1 of d (labels visible; they are also the database) and scores items nfit..nfit+nq−1 as
 * queries: mAP@all. *secs: the fit's wall time. Frees h. */
static inline double hl_test_fit_map(hl_hasher *h, const hl_dataset *d, int64_t nfit, int64_t nq, double *secs) {
    int64_t *db = malloc((size_t)(nfit + nq) * sizeof *db), *q = db + nfit;
    cr_assert_not_null(db);
    for (int64_t i = 0; i < nfit + nq; i++) db[i] = i;
    double t0 = hl_time_s();
    cr_assert_eq(hl_hasher_fit(h, d, db, nfit, true), HL_OK, "%s", hl_error_last());
    *secs = hl_time_s() - t0;
    double map = hl_test_hasher_map(h, d, db, nfit, q, nq, NULL);
    hl_hasher_free(h);
    free(db);
    return map;
}

/* Semi-supervised: fits h with items 0..nlab−1 of d labelled and nlab..nlab+nunl−1 unlabelled (hl_hasher_fit_semi),
 * scores items nlab+nunl..nlab+nunl+nq−1 as queries against the database of all nlab + nunl fit items: mAP@all.
 * *secs: the fit's wall time. Frees h. */
static inline double hl_test_fit_semi_map(hl_hasher *h, const hl_dataset *d, int64_t nlab, int64_t nunl, int64_t nq,
                                          double *secs) {
    int64_t ndb = nlab + nunl;
    int64_t *db = malloc((size_t)(ndb + nq) * sizeof *db), *q = db + ndb;
    cr_assert_not_null(db);
    for (int64_t i = 0; i < ndb + nq; i++) db[i] = i;
    double t0 = hl_time_s();
    cr_assert_eq(hl_hasher_fit_semi(h, d, db, nlab, db + nlab, nunl), HL_OK, "%s", hl_error_last());
    *secs = hl_time_s() - t0;
    double map = hl_test_hasher_map(h, d, db, ndb, q, nq, NULL);
    hl_hasher_free(h);
    free(db);
    return map;
}

/* Changes the labels of items [from, to) of a single-label dataset d to the next class ((c + 1) mod L): a fit that
 * never reads them gives the same model as on the untouched dataset. */
static inline void hl_test_corrupt_labels(hl_dataset *d, int64_t from, int64_t to) {
    cr_assert_not_null(d->class_id);
    int L = d->labels.nlabels;
    for (int64_t i = from; i < to; i++) {
        int64_t c = (d->class_id[i] + 1) % L;
        d->class_id[i] = c;
        uint64_t *row = d->labels.bits + i * d->labels.words;
        memset(row, 0, (size_t)d->labels.words * sizeof *row);
        row[c / 64] |= 1ull << (c % 64);
    }
}

#endif
