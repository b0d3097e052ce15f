/* tests/eval/test_retrieval_ref.c — retrieval metrics against a straightforward sort-based reference on random data
 * (qsort by (distance, tie order), then the definitions of METRICS.md; agreement to 1e-9), expected-tie AP against
 * exhaustive enumeration of tie orders and against the mean over random tie orders, and thread-count independence.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/retrieval.h"
#include "eval/retrieval_scan.h"
#include "test_common.h"

/* ---- data ---------------------------------------------------------------------------------------------------- */

typedef enum { LAB_SINGLE, LAB_MULTI, LAB_MANY } lab_kind; /* C=5 classes; 6 labels multi-hot; 300 labels sparse */

typedef struct set {
    hl_codes q, db;
    hl_labels ql, dbl;
} set;

static void random_codes(hl_codes *c, int64_t n, int K, uint64_t seed, uint64_t stream) {
    cr_assert(hl_codes_create(c, n, K) == HL_OK);
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < K; k++)
            hl_codes_set_bit(c, i, k, hl_rng_uniform_at(seed, stream, (uint64_t)(i * K + k)) < 0.5f);
}

static void random_labels(hl_labels *l, int64_t n, lab_kind kind, uint64_t seed, uint64_t stream) {
    const int L = kind == LAB_SINGLE ? 5 : kind == LAB_MULTI ? 6 : 300;
    cr_assert(hl_labels_create(l, n, L) == HL_OK);
    for (int64_t i = 0; i < n; i++) {
        if (kind == LAB_SINGLE) {
            hl_labels_set(l, i, (int)(hl_rng_uniform_at(seed, stream, (uint64_t)i) * 5.0f) % 5);
            continue;
        }
        const float p = kind == LAB_MULTI ? 0.25f : 0.01f; /* some rows stay empty (unlabelled) */
        for (int k = 0; k < L; k++)
            if (hl_rng_uniform_at(seed, stream + 1, (uint64_t)(i * L + k)) < p) hl_labels_set(l, i, k);
    }
}

static void make_set(set *s, int64_t nq, int64_t n, int K, lab_kind kind, uint64_t seed) {
    random_codes(&s->q, nq, K, seed, 1);
    random_codes(&s->db, n, K, seed, 2);
    random_labels(&s->ql, nq, kind, seed, 3);
    random_labels(&s->dbl, n, kind, seed, 5);
}

static void free_set(set *s) {
    hl_codes_free(&s->q);
    hl_codes_free(&s->db);
    hl_labels_free(&s->ql);
    hl_labels_free(&s->dbl);
}

/* ---- reference ------------------------------------------------------------------------------------------------ */

typedef struct ritem {
    int d;
    int64_t order, j;
} ritem;

static int cmp_ritem(const void *a, const void *b) {
    const ritem *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

typedef struct ref_out {
    double ap, p_r, r_r, p_n, r_n, tie;
    bool zero;
} ref_out;

/* Query i: items sorted by (distance, order[j] or j), AP@R, P/R@H<=radius, P/R@N, size of the R-th item's bucket. */
static void ref_query(const set *s, int64_t i, const int64_t *order, int64_t R, int radius, int64_t N, ref_out *o,
                      ritem *buf) {
    const int64_t n = s->db.n;
    int64_t total = 0, ball = 0, relball = 0;
    for (int64_t j = 0; j < n; j++) {
        const int d = hl_hamming(hl_codes_row(&s->q, i), hl_codes_row(&s->db, j), s->q.words);
        const bool rel = hl_labels_relevant(&s->ql, i, &s->dbl, j);
        buf[j] = (ritem){d, order ? order[j] : j, j};
        total += rel;
        ball += d <= radius;
        relball += d <= radius && rel;
    }
    qsort(buf, (size_t)n, sizeof *buf, cmp_ritem);
    const int64_t RR = R <= 0 || R > n ? n : R, NN = N > n ? n : N;
    double sum = 0.0;
    int64_t nrel = 0, reln = 0;
    for (int64_t p = 1; p <= n; p++) {
        const bool rel = hl_labels_relevant(&s->ql, i, &s->dbl, buf[p - 1].j);
        if (p <= RR && rel) nrel++, sum += (double)nrel / (double)p;
        if (p <= NN && rel) reln++;
    }
    int64_t tie = 0;
    for (int64_t j = 0; j < n; j++) tie += buf[j].d == buf[RR - 1].d;
    *o = (ref_out){.ap = nrel ? sum / (double)nrel : 0.0, .zero = nrel == 0, .tie = (double)tie,
                   .p_r = ball ? (double)relball / (double)ball : 0.0,
                   .r_r = total ? (double)relball / (double)total : 0.0,
                   .p_n = NN ? (double)reln / (double)NN : 0.0,
                   .r_n = NN && total ? (double)reln / (double)total : 0.0};
}

#define CLOSE(got, want, tol, ...) cr_assert(fabs((got) - (want)) <= (tol), __VA_ARGS__)

/* Compares hl_retrieval_eval with the reference for one option set (ties index or random). */
static void check_against_ref(const set *s, const hl_retrieval_opts *o) {
    const int64_t nq = s->q.n, n = s->db.n;
    ritem *buf = malloc((size_t)n * sizeof *buf);
    double *ap = malloc((size_t)nq * sizeof *ap);
    int64_t *order = NULL;
    if (o->ties == HL_TIES_RANDOM) { /* position of item j after the documented shuffle */
        int64_t *perm = malloc((size_t)n * sizeof *perm);
        order = malloc((size_t)n * sizeof *order);
        hl_rng r = hl_rng_make(o->tie_seed, HL_RETRIEVAL_TIES_STREAM);
        hl_rng_permutation(&r, perm, n);
        for (int64_t t = 0; t < n; t++) order[perm[t]] = t;
        free(perm);
    }
    hl_retrieval_result res;
    cr_assert(hl_retrieval_eval(&s->q, &s->ql, &s->db, &s->dbl, o, &res, ap) == HL_OK, "%s", hl_error_last());
    double map = 0, pr = 0, rr = 0, pn = 0, rn = 0, tie = 0;
    int64_t zero = 0, counted = 0;
    for (int64_t i = 0; i < nq; i++) {
        ref_out x;
        ref_query(s, i, order, o->topk, o->radius, o->at_n, &x, buf);
        const bool skip = x.zero && o->zero_relevant == HL_ZERO_REL_SKIP;
        if (skip) cr_assert(isnan(ap[i]), "query %lld: skipped but AP %g", (long long)i, ap[i]);
        else CLOSE(ap[i], x.ap, 1e-9, "K %d R %lld ties %d query %lld: AP %.15g, reference %.15g", s->q.bits,
                   (long long)o->topk, (int)o->ties, (long long)i, ap[i], x.ap);
        if (!skip) map += x.ap, counted++;
        zero += x.zero;
        pr += x.p_r, rr += x.r_r, pn += x.p_n, rn += x.r_n, tie += x.tie;
    }
    CLOSE(res.map, counted ? map / (double)counted : 0.0, 1e-9, "mAP %.15g vs %.15g", res.map, map / (double)counted);
    CLOSE(res.p_at_radius, pr / (double)nq, 1e-9, "P@H<=%d", o->radius);
    CLOSE(res.r_at_radius, rr / (double)nq, 1e-9, "R@H<=%d", o->radius);
    CLOSE(res.p_at_n, pn / (double)nq, 1e-9, "P@%lld %.15g vs %.15g", (long long)o->at_n, res.p_at_n, pn / (double)nq);
    CLOSE(res.r_at_n, rn / (double)nq, 1e-9, "R@%lld", (long long)o->at_n);
    CLOSE(res.mean_tie_bucket, tie / (double)nq, 1e-9, "tie bucket %g vs %g", res.mean_tie_bucket, tie / (double)nq);
    cr_assert_eq(res.zero_relevant, zero);
    free(buf);
    free(ap);
    free(order);
}

static void agreement(int K, lab_kind kind, int64_t nq, int64_t n, uint64_t seed) {
    set s;
    make_set(&s, nq, n, K, kind, seed);
    const int64_t Rs[4] = {1, 7, 100, 0};
    for (int t = 0; t < 4; t++)
        for (int ties = 0; ties < 2; ties++) {
            hl_retrieval_opts o;
            hl_retrieval_defaults(&o);
            o.topk = Rs[t];
            o.ties = ties ? HL_TIES_RANDOM : HL_TIES_INDEX;
            o.tie_seed = seed + 17;
            o.radius = t % 2 ? 2 : K / 2;
            o.at_n = t == 3 ? 50 : 7 + t;
            o.zero_relevant = t == 2 ? HL_ZERO_REL_SKIP : HL_ZERO_REL_AS_ZERO;
            check_against_ref(&s, &o);
        }
    free_set(&s);
}

Test(retrieval_ref, single_label_heavy_ties_k8) { agreement(8, LAB_SINGLE, 40, 333, 1); }
Test(retrieval_ref, single_label_k64) { agreement(64, LAB_SINGLE, 30, 1237, 2); }
Test(retrieval_ref, multi_label_k12) { agreement(12, LAB_MULTI, 40, 500, 3); }
Test(retrieval_ref, multi_label_k65) { agreement(65, LAB_MULTI, 30, 700, 4); }
Test(retrieval_ref, many_label_rows_k130) { agreement(130, LAB_MANY, 30, 600, 5); } /* > 256 distinct label rows */
Test(retrieval_ref, many_label_rows_k20) { agreement(20, LAB_MANY, 30, 600, 6); }

/* Top-k and PR curves against the reference ordering. */
Test(retrieval_ref, topk_and_pr) {
    set s;
    make_set(&s, 25, 411, 10, LAB_MULTI, 9);
    const int64_t n = s.db.n, k = 60;
    ritem *buf = malloc((size_t)n * sizeof *buf);
    int64_t *idx = malloc((size_t)(s.q.n * k) * sizeof *idx);
    int *dist = malloc((size_t)(s.q.n * k) * sizeof *dist);
    cr_assert(hl_retrieval_topk(&s.q, &s.db, k, idx, dist) == HL_OK);
    const int64_t ranks[4] = {1, 13, 60, 411};
    double pk[4], rk[4], pr[11], rr[11], wpk[4] = {0}, wrk[4] = {0}, wpr[11] = {0}, wrr[11] = {0};
    cr_assert(hl_retrieval_pr_rank(&s.q, &s.ql, &s.db, &s.dbl, ranks, 4, pk, rk) == HL_OK);
    cr_assert(hl_retrieval_pr_radius(&s.q, &s.ql, &s.db, &s.dbl, pr, rr) == HL_OK);
    for (int64_t i = 0; i < s.q.n; i++) {
        ref_out x;
        ref_query(&s, i, NULL, 0, 0, 0, &x, buf);
        for (int64_t t = 0; t < k; t++) {
            cr_assert_eq(idx[i * k + t], buf[t].j, "query %lld rank %lld", (long long)i, (long long)t);
            cr_assert_eq(dist[i * k + t], buf[t].d);
        }
        int64_t total = 0, c = 0;
        for (int64_t j = 0; j < n; j++) total += hl_labels_relevant(&s.ql, i, &s.dbl, buf[j].j);
        for (int64_t p = 1, m = 0; p <= n; p++) {
            c += hl_labels_relevant(&s.ql, i, &s.dbl, buf[p - 1].j);
            if (m < 4 && ranks[m] == p) {
                wpk[m] += (double)c / (double)p, wrk[m] += total ? (double)c / (double)total : 0.0;
                m++;
            }
        }
        for (int r = 0; r <= 10; r++) {
            int64_t ball = 0, rel = 0;
            for (int64_t j = 0; j < n; j++)
                if (buf[j].d <= r) ball++, rel += hl_labels_relevant(&s.ql, i, &s.dbl, buf[j].j);
            wpr[r] += ball ? (double)rel / (double)ball : 0.0;
            wrr[r] += total ? (double)rel / (double)total : 0.0;
        }
    }
    for (int m = 0; m < 4; m++) {
        CLOSE(pk[m], wpk[m] / (double)s.q.n, 1e-12, "P at rank %lld", (long long)ranks[m]);
        CLOSE(rk[m], wrk[m] / (double)s.q.n, 1e-12, "R at rank %lld", (long long)ranks[m]);
    }
    for (int r = 0; r <= 10; r++) {
        CLOSE(pr[r], wpr[r] / (double)s.q.n, 1e-12, "P at radius %d", r);
        CLOSE(rr[r], wrr[r] / (double)s.q.n, 1e-12, "R at radius %d", r);
    }
    free(buf);
    free(idx);
    free(dist);
    free_set(&s);
}

/* ---- expected ties ---------------------------------------------------------------------------------------------- */

static bool next_perm(int64_t *a, int n) {
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return false;
    int j = n - 1;
    while (a[j] <= a[i]) j--;
    int64_t t = a[i];
    a[i] = a[j], a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) t = a[l], a[l] = a[r], a[r] = t;
    return true;
}

/* Exact: E[AP@R] and E[P@R] as the mean over all 7! tie orders of 7 items with 2-bit codes (heavy ties). */
Test(retrieval_ref, expected_equals_enumeration) {
    enum { N = 7 };
    for (uint64_t seed = 20; seed < 26; seed++) {
        set s;
        make_set(&s, 6, N, 2, seed % 2 ? LAB_SINGLE : LAB_MULTI, seed);
        ritem buf[N];
        for (int64_t R = 1; R <= N; R++) {
            double ap[6], mean[6] = {0}, meanp[6] = {0};
            hl_retrieval_opts o;
            hl_retrieval_defaults(&o);
            o.ties = HL_TIES_EXPECTED;
            o.topk = R;
            o.at_n = R;
            hl_retrieval_result res;
            cr_assert(hl_retrieval_eval(&s.q, &s.ql, &s.db, &s.dbl, &o, &res, ap) == HL_OK);
            int64_t order[N], count = 0;
            for (int i = 0; i < N; i++) order[i] = i;
            do {
                for (int64_t i = 0; i < 6; i++) {
                    ref_out x;
                    ref_query(&s, i, order, R, 0, R, &x, buf);
                    mean[i] += x.ap;
                    meanp[i] += x.p_n;
                }
                count++;
            } while (next_perm(order, N));
            double pn = 0.0;
            for (int i = 0; i < 6; i++) {
                CLOSE(ap[i], mean[i] / (double)count, 1e-12,
                      "seed %llu R %lld query %d: E[AP] %.15g, enumeration %.15g", (unsigned long long)seed, (long long)R, i, ap[i], mean[i] / (double)count);
                pn += meanp[i] / (double)count;
            }
            CLOSE(res.p_at_n, pn / 6.0, 1e-12, "E[P@%lld]", (long long)R);
        }
        free_set(&s);
    }
}

/* E[AP@R] against the mean of ties: random over 2000 seeds; tolerance 5 standard errors of that mean (+1e-12). */
Test(retrieval_ref, expected_matches_random_orders) {
    enum { Q = 6, T = 2000 };
    set s;
    make_set(&s, Q, 240, 5, LAB_SINGLE, 31);
    const int64_t Rs[2] = {40, 0};
    for (int t = 0; t < 2; t++) {
        hl_retrieval_opts o;
        hl_retrieval_defaults(&o);
        o.topk = Rs[t];
        o.ties = HL_TIES_EXPECTED;
        double e[Q], ap[Q], sum[Q] = {0}, sum2[Q] = {0};
        hl_retrieval_result res;
        cr_assert(hl_retrieval_eval(&s.q, &s.ql, &s.db, &s.dbl, &o, &res, e) == HL_OK);
        if (Rs[t] > 0)
            cr_assert(res.mean_tie_bucket > 10, "the cut must fall in big tie buckets (%g)", res.mean_tie_bucket);
        o.ties = HL_TIES_RANDOM;
        for (int rep = 0; rep < T; rep++) {
            o.tie_seed = 1000 + (uint64_t)rep;
            cr_assert(hl_retrieval_eval(&s.q, &s.ql, &s.db, &s.dbl, &o, &res, ap) == HL_OK);
            for (int i = 0; i < Q; i++) sum[i] += ap[i], sum2[i] += ap[i] * ap[i];
        }
        int spread = 0;
        for (int i = 0; i < Q; i++) {
            const double m = sum[i] / T, sd = sqrt(fmax(sum2[i] / T - m * m, 0.0)), se = sd / sqrt((double)T);
            spread += sd > 1e-3;
            CLOSE(e[i], m, 5 * se + 1e-12, "R %lld query %d: E[AP] %.10f, random-order mean %.10f (s.e. %.2g)",
                  (long long)Rs[t], i, e[i], m, se);
        }
        cr_assert(spread >= Q / 2, "tie order must matter for most queries");
    }
    free_set(&s);
}

/* ---- threads ---------------------------------------------------------------------------------------------------- */

Test(retrieval_ref, thread_count_independent) {
    set s;
    make_set(&s, 300, 3001, 48, LAB_SINGLE, 41);
    const int64_t nq = s.q.n, k = 20;
    double *ap1 = malloc((size_t)nq * sizeof *ap1), *ap2 = malloc((size_t)nq * sizeof *ap2);
    int64_t *i1 = malloc((size_t)(nq * k) * sizeof *i1), *i2 = malloc((size_t)(nq * k) * sizeof *i2);
    for (int ties = 0; ties < 2; ties++) {
        hl_retrieval_opts o;
        hl_retrieval_defaults(&o);
        o.topk = 100;
        o.at_n = 50;
        o.ties = ties ? HL_TIES_EXPECTED : HL_TIES_INDEX;
        hl_retrieval_result r1, r2;
        double p1[49], p2[49], c1[49], c2[49];
        hl_threads_set(1);
        cr_assert(hl_retrieval_eval(&s.q, &s.ql, &s.db, &s.dbl, &o, &r1, ap1) == HL_OK);
        cr_assert(hl_retrieval_pr_radius(&s.q, &s.ql, &s.db, &s.dbl, p1, c1) == HL_OK);
        cr_assert(hl_retrieval_topk(&s.q, &s.db, k, i1, NULL) == HL_OK);
        hl_threads_set(2);
        cr_assert(hl_retrieval_eval(&s.q, &s.ql, &s.db, &s.dbl, &o, &r2, ap2) == HL_OK);
        cr_assert(hl_retrieval_pr_radius(&s.q, &s.ql, &s.db, &s.dbl, p2, c2) == HL_OK);
        cr_assert(hl_retrieval_topk(&s.q, &s.db, k, i2, NULL) == HL_OK);
        hl_threads_set(1);
        cr_assert(memcmp(ap1, ap2, (size_t)nq * sizeof *ap1) == 0, "per-query AP differs between 1 and 2 threads");
        cr_assert(r1.map == r2.map && r1.p_at_radius == r2.p_at_radius && r1.r_at_radius == r2.r_at_radius &&
                      r1.p_at_n == r2.p_at_n && r1.r_at_n == r2.r_at_n && r1.mean_tie_bucket == r2.mean_tie_bucket,
                  "results differ between 1 and 2 threads");
        cr_assert(memcmp(p1, p2, sizeof p1) == 0 && memcmp(c1, c2, sizeof c1) == 0, "PR by radius differs");
        cr_assert(memcmp(i1, i2, (size_t)(nq * k) * sizeof *i1) == 0, "top-k differs");
    }
    free(ap1);
    free(ap2);
    free(i1);
    free(i2);
    free_set(&s);
}
