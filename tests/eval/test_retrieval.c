/* tests/eval/test_retrieval.c — retrieval metrics on hand-worked examples (derivations in the comments).
 *
 * Codes are built as "query pattern XOR d chosen bits", so the Hamming distances are exactly the ones written in
 * the examples, whatever K; the chosen bits are spread over every word (the last bit, bit 0, the middle, ...), so
 * K = 12, 65 and 130 exercise the one-word, two-word and uint16-key (K > 127) scans on identical rankings.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/retrieval.h"
#include "test_common.h"

/* Bit positions in the order they are flipped: K−1, 0, K/2, then the rest ascending. */
static void flip_order(int K, int *pos) {
    int m = 0;
    char *used = calloc((size_t)K, 1);
    int first[3] = {K - 1, 0, K / 2};
    for (int i = 0; i < 3; i++)
        if (!used[first[i]]) used[first[i]] = 1, pos[m++] = first[i];
    for (int k = 0; k < K; k++)
        if (!used[k]) pos[m++] = k;
    free(used);
}

/* n codes of K bits: row i = pattern(seed) XOR the first dist[i] bits of flip_order. */
static void codes_at(hl_codes *c, int K, int64_t n, const int *dist, uint64_t seed) {
    cr_assert(hl_codes_create(c, n, K) == HL_OK);
    int *pos = malloc((size_t)K * sizeof *pos);
    flip_order(K, pos);
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < K; k++) hl_codes_set_bit(c, i, k, hl_rng_uniform_at(seed, 1, (uint64_t)k) < 0.5f);
        for (int t = 0; t < dist[i]; t++) hl_codes_set_bit(c, i, pos[t], !hl_codes_bit(c, i, pos[t]));
    }
    free(pos);
}

static void labels_of(hl_labels *l, int64_t n, int L, const int64_t *ids) {
    cr_assert(hl_labels_from_class_ids(l, ids, n, L) == HL_OK);
}

static hl_retrieval_result eval_ok(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                                   const hl_retrieval_opts *o, double *ap) {
    hl_retrieval_result r;
    cr_assert(hl_retrieval_eval(q, ql, db, dbl, o, &r, ap) == HL_OK, "eval: %s", hl_error_last());
    return r;
}

#define NEAR(got, want, what) cr_assert(fabs((got) - (want)) < 1e-12, "%s: got %.15g, want %.15g", what, got, want)

/* Example 1 (6 items, one query of class 0):
 *   item   0  1  2  3  4  5
 *   d      1  0  2  1  0  4
 *   class  0  1  0  1  0  0      (relevant: 0, 2, 4, 5)
 * Stable ranking by (d, index): 1(irr) 4(R) 0(R) 3(irr) 2(R) 5(R) -> relevant at p = 2, 3, 5, 6.
 *   AP@all = (1/2 + 2/3 + 3/5 + 4/6) / 4 = (73/30) / 4 = 73/120
 *   AP@3   = (1/2 + 2/3) / 2 = 7/12;  AP@4 = 7/12;  AP@1 = 0 (top 1 irrelevant)
 *   P@H<=2: ball {1,4,0,3,2}, 3 relevant -> 3/5; R@H<=2 = 3/4.   P@H<=1 = 2/4, R@H<=1 = 2/4.
 *   P@3 = 2/3, R@3 = 2/4.
 *   Tie statistics: R = 3 -> the 3rd item sits in bucket d = 1 (2 items); R = all -> bucket d = 4 (1 item).
 * Expected ties (uniform order inside buckets), R = all: buckets d0 {1,4}: rel at p 1 or 2 with i = 1 -> E = 3/4;
 *   d1 {0,3}: rel at p 3 or 4, i = 2 -> (2/3 + 2/4)/2 = 7/12; d2: 3/5; d4: 4/6. Sum 156/60, AP = 156/240 = 0.65.
 * Expected, R = 3: enumerating the 4 orders of buckets d0 and d1 (top 3 = d0 + first of d1):
 *   rel first in d0 and d1: (1 + 2/3)/2 = 5/6;  rel first in d0, d1 irr first: 1;
 *   rel second in d0, d1 rel first: (1/2 + 2/3)/2 = 7/12;  rel second in d0, d1 irr first: 1/2.
 *   Mean = (10 + 12 + 7 + 6)/48 = 35/48.   E[P@3] = (1 + 1/2)/3 = 1/2, E[R@3] = 1.5/4.
 */
static const int ex1_d[6] = {1, 0, 2, 1, 0, 4};
static const int64_t ex1_cls[6] = {0, 1, 0, 1, 0, 0};

static void ex1_setup(int K, hl_codes *q, hl_labels *ql, hl_codes *db, hl_labels *dbl) {
    const int zero = 0;
    const int64_t qc = 0;
    codes_at(q, K, 1, &zero, 11);
    codes_at(db, K, 6, ex1_d, 11);
    labels_of(ql, 1, 3, &qc);
    labels_of(dbl, 6, 3, ex1_cls);
}

static void ex1_check(int K) {
    hl_codes q, db;
    hl_labels ql, dbl;
    ex1_setup(K, &q, &ql, &db, &dbl);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    hl_retrieval_result r = eval_ok(&q, &ql, &db, &dbl, &o, NULL);
    NEAR(r.map, 73.0 / 120, "AP@all");
    NEAR(r.p_at_radius, 3.0 / 5, "P@H<=2");
    NEAR(r.r_at_radius, 3.0 / 4, "R@H<=2");
    NEAR(r.mean_tie_bucket, 1.0, "tie bucket @all");
    cr_assert_eq(r.topk, 6);
    cr_assert_eq(r.bits, K);
    cr_assert_eq(r.zero_relevant, 0);
    o.topk = 3;
    o.at_n = 3;
    o.radius = 1;
    r = eval_ok(&q, &ql, &db, &dbl, &o, NULL);
    NEAR(r.map, 7.0 / 12, "AP@3");
    NEAR(r.p_at_n, 2.0 / 3, "P@3");
    NEAR(r.r_at_n, 2.0 / 4, "R@3");
    NEAR(r.p_at_radius, 2.0 / 4, "P@H<=1");
    NEAR(r.r_at_radius, 2.0 / 4, "R@H<=1");
    NEAR(r.mean_tie_bucket, 2.0, "tie bucket @3");
    o.topk = 4;
    NEAR(eval_ok(&q, &ql, &db, &dbl, &o, NULL).map, 7.0 / 12, "AP@4");
    o.topk = 1;
    r = eval_ok(&q, &ql, &db, &dbl, &o, NULL);
    NEAR(r.map, 0.0, "AP@1");
    cr_assert_eq(r.zero_relevant, 1);
    /* expected ties */
    hl_retrieval_defaults(&o);
    o.ties = HL_TIES_EXPECTED;
    NEAR(eval_ok(&q, &ql, &db, &dbl, &o, NULL).map, 0.65, "E[AP@all]");
    o.topk = 3;
    o.at_n = 3;
    r = eval_ok(&q, &ql, &db, &dbl, &o, NULL);
    NEAR(r.map, 35.0 / 48, "E[AP@3]");
    NEAR(r.p_at_n, 0.5, "E[P@3]");
    NEAR(r.r_at_n, 1.5 / 4, "E[R@3]");
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_labels_free(&ql);
    hl_labels_free(&dbl);
}

Test(retrieval, ties_stable_and_expected_k12) { ex1_check(12); }
Test(retrieval, ties_stable_and_expected_k64) { ex1_check(64); }
Test(retrieval, ties_stable_and_expected_k65) { ex1_check(65); }
Test(retrieval, ties_stable_and_expected_k130) { ex1_check(130); }

/* R beyond the database is the whole database: AP@100 on example 1 = AP@all = 73/120, topk reported as 6. */
Test(retrieval, r_larger_than_database) {
    hl_codes q, db;
    hl_labels ql, dbl;
    ex1_setup(16, &q, &ql, &db, &dbl);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    o.topk = 100;
    o.at_n = 100; /* N clamped to 6: P@6 = 4/6, R@6 = 1 */
    hl_retrieval_result r = eval_ok(&q, &ql, &db, &dbl, &o, NULL);
    NEAR(r.map, 73.0 / 120, "AP@100");
    cr_assert_eq(r.topk, 6);
    NEAR(r.p_at_n, 4.0 / 6, "P@100");
    NEAR(r.r_at_n, 1.0, "R@100");
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_labels_free(&ql);
    hl_labels_free(&dbl);
}

/* Two queries on example 1's database: q0 of class 0 (AP@all = 73/120), q1 of class 2 (nothing relevant, AP 0).
 *   count: mAP = (73/120 + 0)/2 = 73/240;  skip: mAP = 73/120, per-query AP of q1 NaN.  Both: zero_relevant = 1.
 *   P@H<=2: (3/5 + 0)/2; R@H<=2: (3/4 + 0)/2 (q1 has no relevant item: recall 0). */
Test(retrieval, zero_relevant_conventions) {
    hl_codes q, db;
    hl_labels ql, dbl;
    const int qd[2] = {0, 0};
    const int64_t qc[2] = {0, 2};
    codes_at(&q, 12, 2, qd, 11);
    codes_at(&db, 12, 6, ex1_d, 11);
    labels_of(&ql, 2, 3, qc);
    labels_of(&dbl, 6, 3, ex1_cls);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    double ap[2];
    hl_retrieval_result r = eval_ok(&q, &ql, &db, &dbl, &o, ap);
    NEAR(r.map, 73.0 / 240, "mAP count");
    NEAR(ap[1], 0.0, "AP q1 count");
    cr_assert_eq(r.zero_relevant, 1);
    NEAR(r.p_at_radius, 0.3, "P@H<=2");
    NEAR(r.r_at_radius, 0.375, "R@H<=2");
    o.zero_relevant = HL_ZERO_REL_SKIP;
    r = eval_ok(&q, &ql, &db, &dbl, &o, ap);
    NEAR(r.map, 73.0 / 120, "mAP skip");
    NEAR(ap[0], 73.0 / 120, "AP q0 skip");
    cr_assert(isnan(ap[1]), "skipped query gets NaN, got %g", ap[1]);
    cr_assert_eq(r.zero_relevant, 1);
    /* every query skipped (R = 1: q0's top item is irrelevant): mAP 0 */
    o.topk = 1;
    r = eval_ok(&q, &ql, &db, &dbl, &o, ap);
    NEAR(r.map, 0.0, "all skipped");
    cr_assert_eq(r.zero_relevant, 2);
    /* expected ties: q1 is zero-relevant under every order */
    hl_retrieval_defaults(&o);
    o.ties = HL_TIES_EXPECTED;
    o.zero_relevant = HL_ZERO_REL_SKIP;
    r = eval_ok(&q, &ql, &db, &dbl, &o, ap);
    NEAR(r.map, 0.65, "E mAP skip");
    cr_assert_eq(r.zero_relevant, 1);
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_labels_free(&ql);
    hl_labels_free(&dbl);
}

/* Multi-label relevance, K = 12. Query labels {0, 2}; database:
 *   item    0     1     2       3    4
 *   d       1     3     0       12   1
 *   labels  {1}   {2}   {0,1}   {}   {1,2}     relevant: 1, 2, 4 (share 0 or 2); item 3 is unlabelled
 * Ranking: 2(R) 0(irr) 4(R) 1(R) 3(irr) -> p = 1, 3, 4: AP@all = (1/1 + 2/3 + 3/4)/3 = 29/36.
 * The same with the labels renumbered {0,1,2} -> {5, 130, 257} of L = 258 (five label words). A third query with
 * no label is unlabelled: AP 0, counted in unlabelled_queries and zero_relevant. */
static void multilabel_check(int L, const int map3[3]) {
    hl_codes q, db;
    hl_labels ql, dbl;
    const int qd[2] = {0, 0}, dd[5] = {1, 3, 0, 12, 1};
    codes_at(&q, 12, 2, qd, 5);
    codes_at(&db, 12, 5, dd, 5);
    cr_assert(hl_labels_create(&ql, 2, L) == HL_OK);
    cr_assert(hl_labels_create(&dbl, 5, L) == HL_OK);
    hl_labels_set(&ql, 0, map3[0]);
    hl_labels_set(&ql, 0, map3[2]);
    hl_labels_set(&dbl, 0, map3[1]);
    hl_labels_set(&dbl, 1, map3[2]);
    hl_labels_set(&dbl, 2, map3[0]);
    hl_labels_set(&dbl, 2, map3[1]);
    hl_labels_set(&dbl, 4, map3[1]);
    hl_labels_set(&dbl, 4, map3[2]);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    double ap[2];
    hl_retrieval_result r = eval_ok(&q, &ql, &db, &dbl, &o, ap);
    NEAR(ap[0], 29.0 / 36, "multi-label AP");
    NEAR(ap[1], 0.0, "unlabelled query AP");
    NEAR(r.map, 29.0 / 72, "mAP");
    cr_assert_eq(r.unlabelled_queries, 1);
    cr_assert_eq(r.zero_relevant, 1);
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_labels_free(&ql);
    hl_labels_free(&dbl);
}

Test(retrieval, multi_label) {
    multilabel_check(3, (const int[]){0, 1, 2});
    multilabel_check(258, (const int[]){5, 130, 257});
}

/* 1-bit codes. Query bit 1, class 0; database bits 1 0 1 0, classes 0 0 1 0 -> d = 0 1 0 1.
 * Ranking: 0(R) 2(irr) 1(R) 3(R): AP@all = (1 + 2/3 + 3/4)/3 = 29/36; AP@2 = 1.
 * Expected: d0 {0,2}: rel at p 1 or 2, i = 1 -> 3/4; d1 {1,3} both relevant at p 3, 4 -> 2/3 + 3/4 = 17/12.
 * E[AP@all] = (3/4 + 17/12)/3 = 13/18; E[AP@2] = (3/4)/1 = 3/4. P@H<=0 = 1/2, R@H<=0 = 1/3. */
Test(retrieval, one_bit_codes) {
    hl_codes q, db;
    hl_labels ql, dbl;
    cr_assert(hl_codes_create(&q, 1, 1) == HL_OK);
    cr_assert(hl_codes_create(&db, 4, 1) == HL_OK);
    hl_codes_set_bit(&q, 0, 0, 1);
    hl_codes_set_bit(&db, 0, 0, 1);
    hl_codes_set_bit(&db, 2, 0, 1);
    const int64_t qc = 0, dc[4] = {0, 0, 1, 0};
    labels_of(&ql, 1, 2, &qc);
    labels_of(&dbl, 4, 2, dc);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    o.radius = 0;
    hl_retrieval_result r = eval_ok(&q, &ql, &db, &dbl, &o, NULL);
    NEAR(r.map, 29.0 / 36, "AP@all");
    NEAR(r.p_at_radius, 0.5, "P@H<=0");
    NEAR(r.r_at_radius, 1.0 / 3, "R@H<=0");
    o.topk = 2;
    NEAR(eval_ok(&q, &ql, &db, &dbl, &o, NULL).map, 1.0, "AP@2");
    o.ties = HL_TIES_EXPECTED;
    NEAR(eval_ok(&q, &ql, &db, &dbl, &o, NULL).map, 0.75, "E[AP@2]");
    o.topk = 0;
    NEAR(eval_ok(&q, &ql, &db, &dbl, &o, NULL).map, 13.0 / 18, "E[AP@all]");
    o.radius = 5; /* beyond K: the ball is the whole database: P = 3/4, R = 1 */
    r = eval_ok(&q, &ql, &db, &dbl, &o, NULL);
    NEAR(r.p_at_radius, 0.75, "P@H<=5");
    NEAR(r.r_at_radius, 1.0, "R@H<=5");
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_labels_free(&ql);
    hl_labels_free(&dbl);
}

/* Top-k on example 1: order 1 4 0 3 2 5 with distances 0 0 1 1 2 4; k = 8 > 6 pads with −1. */
Test(retrieval, topk_stable) {
    const int Ks[3] = {12, 65, 130};
    for (int t = 0; t < 3; t++) {
        hl_codes q, db;
        hl_labels ql, dbl;
        ex1_setup(Ks[t], &q, &ql, &db, &dbl);
        int64_t idx[8];
        int dist[8];
        cr_assert(hl_retrieval_topk(&q, &db, 8, idx, dist) == HL_OK, "%s", hl_error_last());
        const int64_t wi[8] = {1, 4, 0, 3, 2, 5, -1, -1};
        const int wd[8] = {0, 0, 1, 1, 2, 4, -1, -1};
        for (int i = 0; i < 8; i++) {
            cr_assert_eq(idx[i], wi[i], "K %d rank %d: item %lld", Ks[t], i, (long long)idx[i]);
            cr_assert_eq(dist[i], wd[i], "K %d rank %d: distance %d", Ks[t], i, dist[i]);
        }
        cr_assert(hl_retrieval_topk(&q, &db, 3, idx, NULL) == HL_OK);
        cr_assert(idx[0] == 1 && idx[1] == 4 && idx[2] == 0);
        cr_assert_eq(hl_retrieval_topk(&q, &db, 0, idx, NULL), HL_EINVAL);
        hl_codes_free(&q);
        hl_codes_free(&db);
        hl_labels_free(&ql);
        hl_labels_free(&dbl);
    }
}

/* PR curves on example 1 (4 relevant items).
 * By radius r = 0..4 (K = 4): balls {1,4} {+0,3} {+2} {same} {+5} -> relevant 1, 2, 3, 3, 4 of 2, 4, 5, 5, 6 items:
 *   precision 1/2 1/2 3/5 3/5 4/6, recall 1/4 2/4 3/4 3/4 1.
 * By rank t = 1, 2, 3, 6, 10 (10 clamped to 6): relevant in the top t = 0, 1, 2, 4, 4:
 *   precision 0 1/2 2/3 4/6 4/6, recall 0 1/4 2/4 1 1. */
Test(retrieval, pr_curves) {
    hl_codes q, db;
    hl_labels ql, dbl;
    ex1_setup(4, &q, &ql, &db, &dbl);
    double p[5], rc[5];
    cr_assert(hl_retrieval_pr_radius(&q, &ql, &db, &dbl, p, rc) == HL_OK);
    const double wp[5] = {0.5, 0.5, 0.6, 0.6, 4.0 / 6}, wr[5] = {0.25, 0.5, 0.75, 0.75, 1.0};
    for (int i = 0; i < 5; i++) {
        NEAR(p[i], wp[i], "precision by radius");
        NEAR(rc[i], wr[i], "recall by radius");
    }
    const int64_t ranks[5] = {1, 2, 3, 6, 10};
    cr_assert(hl_retrieval_pr_rank(&q, &ql, &db, &dbl, ranks, 5, p, rc) == HL_OK);
    const double kp[5] = {0.0, 0.5, 2.0 / 3, 4.0 / 6, 4.0 / 6}, kr[5] = {0.0, 0.25, 0.5, 1.0, 1.0};
    for (int i = 0; i < 5; i++) {
        NEAR(p[i], kp[i], "precision by rank");
        NEAR(rc[i], kr[i], "recall by rank");
    }
    const int64_t bad = 0;
    cr_assert_eq(hl_retrieval_pr_rank(&q, &ql, &db, &dbl, &bad, 1, p, rc), HL_EINVAL);
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_labels_free(&ql);
    hl_labels_free(&dbl);
}

Test(retrieval, errors) {
    hl_codes q, db, db2, empty;
    hl_labels ql, dbl, dbl4;
    ex1_setup(12, &q, &ql, &db, &dbl);
    const int d5[5] = {0, 1, 2, 3, 4};
    codes_at(&db2, 13, 5, d5, 1);
    cr_assert(hl_codes_create(&empty, 0, 12) == HL_OK);
    cr_assert(hl_labels_create(&dbl4, 6, 4) == HL_OK);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    hl_retrieval_result r;
    cr_assert_eq(hl_retrieval_eval(&q, &ql, &db2, &dbl, &o, &r, NULL), HL_EMISMATCH); /* bits 12 vs 13 */
    cr_assert_eq(hl_retrieval_eval(&q, &ql, &db, &ql, &o, &r, NULL), HL_EMISMATCH);   /* 6 codes, 1 label row */
    cr_assert_eq(hl_retrieval_eval(&q, &ql, &db, &dbl4, &o, &r, NULL), HL_EMISMATCH); /* 3 vs 4 classes */
    cr_assert_eq(hl_retrieval_eval(&q, &ql, &empty, &ql, &o, &r, NULL), HL_EINVAL);    /* empty database */
    cr_assert_eq(hl_retrieval_topk(&q, &db2, 3, (int64_t[3]){0}, NULL), HL_EMISMATCH);
    o.radius = -1;
    cr_assert_eq(hl_retrieval_eval(&q, &ql, &db, &dbl, &o, &r, NULL), HL_EINVAL);
    o.radius = 2;
    o.ties = (hl_ties)7;
    cr_assert_eq(hl_retrieval_eval(&q, &ql, &db, &dbl, &o, &r, NULL), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "ties") != NULL, "%s", hl_error_last());
    hl_retrieval_defaults(&o);
    hl_codes huge_q, huge_db; /* 2·K + 1 must fit the 16-bit keys */
    cr_assert(hl_codes_create(&huge_q, 1, 40000) == HL_OK && hl_codes_create(&huge_db, 6, 40000) == HL_OK);
    cr_assert_eq(hl_retrieval_eval(&huge_q, &ql, &huge_db, &dbl, &o, &r, NULL), HL_EUNSUPPORTED);
    hl_codes_free(&huge_q);
    hl_codes_free(&huge_db);
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_codes_free(&db2);
    hl_codes_free(&empty);
    hl_labels_free(&ql);
    hl_labels_free(&dbl);
    hl_labels_free(&dbl4);
}
