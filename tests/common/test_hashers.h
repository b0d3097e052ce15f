/* tests/common/test_hashers.h — helpers for the hasher tests (header-only: test_common.c is also linked into
 * executables without the hashers library). */
#ifndef HL_TEST_HASHERS_H
#define HL_TEST_HASHERS_H

#include <criterion/criterion.h>

#include "eval/retrieval.h"
#include "hashers/hasher.h"
#include "test_common.h"

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

#endif
