/* eval/retrieval.c — retrieval metrics on packed codes (eval/retrieval.h) over the bucket scan of retrieval_scan.c.
 *
 * Conventions fixed here (METRICS.md leaves them open):
 *   - R (topk) and N (at_n) beyond the database size are clamped to it (the top R is then the whole database);
 *     pr_rank clamps each rank the same way.
 *   - ties: expected — P@N / R@N are the exact expectations too (E[relevant in the top N] is linear); a query counts
 *     as zero-relevant when no tie order puts a relevant item in its top R (no relevant item in the buckets up to
 *     the one holding the R-th item); otherwise its expected AP (0 for the orders without one) enters the mean.
 *   - zero_relevant: skip drops queries from mAP only; P@H≤r, R@H≤r, P@N, R@N and the tie statistics are means
 *     over all queries. When every query is skipped (or there are none) the mAP is 0.
 *   - Means are summed in query order from per-query values, so results do not depend on the thread count.
 */
#include "eval/retrieval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/rng.h"
#include "eval/retrieval_scan.h"

void hl_retrieval_defaults(hl_retrieval_opts *o) {
    *o = (hl_retrieval_opts){.topk = 0, .radius = 2, .ties = HL_TIES_INDEX, .tie_seed = 0,
                             .zero_relevant = HL_ZERO_REL_AS_ZERO, .at_n = 0};
}

static int max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static hl_status check_codes(const hl_codes *q, const hl_codes *db) {
    if (!q || !db || (!q->w && q->n) || !db->w)
        return hl_error_set(HL_EINVAL, "retrieval: missing query or database codes");
    if (q->bits != db->bits)
        return hl_error_set(HL_EMISMATCH, "retrieval: query codes have %d bits, database codes %d", q->bits, db->bits);
    if (db->n < 1) return hl_error_set(HL_EINVAL, "retrieval: the database is empty");
    return HL_OK;
}

hl_status hl_retrieval_check(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl) {
    hl_status st = check_codes(q, db);
    if (st < 0) return st;
    if (!ql || !dbl) return hl_error_set(HL_EINVAL, "retrieval: missing query or database labels");
    if (ql->n != q->n)
        return hl_error_set(HL_EMISMATCH, "retrieval: %lld query codes but %lld query label rows", (long long)q->n,
                            (long long)ql->n);
    if (dbl->n != db->n)
        return hl_error_set(HL_EMISMATCH, "retrieval: %lld database codes but %lld database label rows",
                            (long long)db->n, (long long)dbl->n);
    if (ql->nlabels != dbl->nlabels)
        return hl_error_set(HL_EMISMATCH, "retrieval: query labels have %d classes, database labels %d", ql->nlabels,
                            dbl->nlabels);
    return HL_OK;
}

/* One scratch per OpenMP thread, allocated by the caller's thread (so errors reach hl_error_last). */
typedef struct pool {
    int n;
    hl_rscan *s;
} pool;

static void pool_free(pool *p) {
    for (int i = 0; p->s && i < p->n; i++) hl_rscan_free(&p->s[i]);
    free(p->s);
    memset(p, 0, sizeof *p);
}

static hl_status pool_init(pool *p, const hl_rdb *d, int per_thread) {
    p->n = max_threads() * per_thread;
    p->s = calloc((size_t)p->n, sizeof *p->s);
    if (!p->s) return hl_error_set(HL_ENOMEM, "out of memory for %d retrieval scratch buffers", p->n);
    for (int i = 0; i < p->n; i++) {
        hl_status st = hl_rscan_init(&p->s[i], d);
        if (st < 0) {
            pool_free(p);
            return st;
        }
    }
    return HL_OK;
}


void hl_retrieval_query_metrics(const hl_rscan *s, const hl_rdb *d, const hl_retrieval_opts *o, int64_t R, int64_t N,
                                double ap_stable, int64_t nrel, int64_t nrel_n, bool unlabelled, hl_rqres *out) {
    const int K = d->bits;
    const hl_rcut c = hl_rscan_cut(s, R);
    double reln;
    if (o->ties == HL_TIES_EXPECTED) {
        out->ap = hl_rap_expected(s, d, c);
        out->zero = s->rstart[c.b] + s->rel[c.b] == 0;
        reln = 0.0;
        if (N > 0) {
            const hl_rcut cn = hl_rscan_cut(s, N);
            reln = (double)s->rstart[cn.b] + (double)cn.take * (double)s->rel[cn.b] / (double)s->cnt[cn.b];
        }
    } else {
        out->ap = ap_stable;
        out->zero = nrel == 0;
        reln = (double)nrel_n;
    }
    const int rr = o->radius < K ? o->radius : K;
    const int64_t ball = s->start[rr + 1], relball = s->rstart[rr + 1];
    const double tot = (double)s->total_rel;
    out->p_r = ball ? (double)relball / (double)ball : 0.0;
    out->r_r = tot > 0 ? (double)relball / tot : 0.0;
    out->p_n = N > 0 ? reln / (double)N : 0.0;
    out->r_n = N > 0 && tot > 0 ? reln / tot : 0.0;
    out->tie = (double)s->cnt[c.b];
    out->unlabelled = unlabelled;
}

/* The metrics of one query (after hl_rscan_query). */
static void eval_query(hl_rscan *s, const hl_rdb *d, bool unlabelled, const hl_retrieval_opts *o, int64_t R, int64_t N,
                       hl_rqres *out) {
    hl_rscan_prepare(s, d, N > R ? N : R, o->radius);
    double ap = 0.0;
    int64_t nrel = 0, nreln = 0;
    if (o->ties != HL_TIES_EXPECTED) {
        const hl_rcut c = hl_rscan_cut(s, R), cn = N > 0 ? hl_rscan_cut(s, N) : (hl_rcut){0};
        ap = hl_rap_index(s, c, N > 0 ? &cn : NULL, &nrel, &nreln);
    }
    hl_retrieval_query_metrics(s, d, o, R, N, ap, nrel, nreln, unlabelled, out);
}

bool hl_retrieval_empty_row(const hl_labels *l, int64_t i) {
    for (int w = 0; w < l->words; w++)
        if (hl_labels_row(l, i)[w]) return false;
    return true;
}

/* ties: random — the database shuffled once with tie_seed (Fisher-Yates on the Philox stream), then stable. */
hl_status hl_retrieval_shuffle_db(const hl_codes *db, const hl_labels *dbl, uint64_t seed, hl_codes *pdb,
                                  hl_labels *pdbl) {
    int64_t *perm = malloc((size_t)db->n * sizeof *perm);
    if (!perm) return hl_error_set(HL_ENOMEM, "out of memory shuffling %lld items", (long long)db->n);
    hl_rng r = hl_rng_make(seed, HL_RETRIEVAL_TIES_STREAM);
    hl_rng_permutation(&r, perm, db->n);
    hl_status st = hl_codes_subset(pdb, db, perm, db->n);
    if (st >= 0) st = hl_labels_subset(pdbl, dbl, perm, db->n);
    free(perm);
    return st;
}

hl_status hl_retrieval_eval(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                            const hl_retrieval_opts *o, hl_retrieval_result *out, double *per_query_ap) {
    hl_status st = hl_retrieval_check(q, ql, db, dbl);
    if (st < 0) return st;
    if (!o || !out) return hl_error_set(HL_EINVAL, "retrieval: missing options or result");
    if ((unsigned)o->ties >= HL_TIES_COUNT || (unsigned)o->zero_relevant >= HL_ZERO_REL_COUNT)
        return hl_error_set(HL_EINVAL, "retrieval: invalid ties (%d) or zero_relevant (%d) option", (int)o->ties,
                            (int)o->zero_relevant);
    if (o->radius < 0) return hl_error_set(HL_EINVAL, "retrieval: radius %d < 0", o->radius);
    if (o->at_n < 0) return hl_error_set(HL_EINVAL, "retrieval: at_n %lld < 0", (long long)o->at_n);
    hl_codes pdb = {0};
    hl_labels pdbl = {0};
    hl_rdb d = {0};
    pool p = {0};
    hl_rqres *res = NULL;
    const int64_t nq = q->n, n = db->n;
    const int64_t R = o->topk <= 0 || o->topk > n ? n : o->topk, N = o->at_n > n ? n : o->at_n;
    if (o->ties == HL_TIES_RANDOM) {
        HL_TRY(hl_retrieval_shuffle_db(db, dbl, o->tie_seed, &pdb, &pdbl));
        db = &pdb, dbl = &pdbl;
    }
    HL_TRY(hl_rdb_init(&d, db, dbl));
    HL_TRY(pool_init(&p, &d, 2));
    res = malloc((size_t)(nq ? nq : 1) * sizeof *res);
    if (!res) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld query results", (long long)nq));
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t pair = 0; pair < (nq + 1) / 2; pair++) { /* queries 2·pair and 2·pair + 1 share one sweep */
        hl_rscan *sa = &p.s[2 * thread_id()], *sb = sa + 1;
        const int64_t i = 2 * pair;
        if (i + 1 < nq)
            hl_rscan_query2(sa, sb, &d, hl_codes_row(q, i), hl_labels_row(ql, i), hl_codes_row(q, i + 1),
                            hl_labels_row(ql, i + 1));
        else
            hl_rscan_query(sa, &d, hl_codes_row(q, i), hl_labels_row(ql, i));
        eval_query(sa, &d, hl_retrieval_empty_row(ql, i), o, R, N, &res[i]);
        if (i + 1 < nq) eval_query(sb, &d, hl_retrieval_empty_row(ql, i + 1), o, R, N, &res[i + 1]);
    }
    *out = (hl_retrieval_result){.queries = nq, .database = n, .bits = q->bits, .topk = R};
    hl_retrieval_means(res, nq, o, out, per_query_ap);
done:
    free(res);
    pool_free(&p);
    hl_rdb_free(&d);
    hl_codes_free(&pdb);
    hl_labels_free(&pdbl);
    return st;
}

void hl_retrieval_means(const hl_rqres *res, int64_t nq, const hl_retrieval_opts *o, hl_retrieval_result *out,
                        double *per_query_ap) {
    double map = 0.0, pr = 0.0, rr = 0.0, pn = 0.0, rn = 0.0, tie = 0.0;
    int64_t counted = 0;
    for (int64_t i = 0; i < nq; i++) {
        const hl_rqres *x = &res[i];
        const bool skip = x->zero && o->zero_relevant == HL_ZERO_REL_SKIP;
        if (per_query_ap) per_query_ap[i] = skip ? NAN : x->ap;
        if (!skip) map += x->ap, counted++;
        pr += x->p_r, rr += x->r_r, pn += x->p_n, rn += x->r_n, tie += x->tie;
        out->zero_relevant += x->zero;
        out->unlabelled_queries += x->unlabelled;
    }
    if (nq) {
        out->map = counted ? map / (double)counted : 0.0;
        out->p_at_radius = pr / (double)nq, out->r_at_radius = rr / (double)nq;
        out->p_at_n = pn / (double)nq, out->r_at_n = rn / (double)nq;
        out->mean_tie_bucket = tie / (double)nq;
    }
}

hl_status hl_retrieval_topk(const hl_codes *q, const hl_codes *db, int64_t k, int64_t *idx, int *dist) {
    hl_status st = check_codes(q, db);
    if (st < 0) return st;
    if (k < 1) return hl_error_set(HL_EINVAL, "retrieval: top-k with k = %lld < 1", (long long)k);
    if (!idx && q->n) return hl_error_set(HL_EINVAL, "retrieval: top-k without an index array");
    hl_rdb d = {0};
    pool p = {0};
    HL_TRY(hl_rdb_init(&d, db, NULL));
    HL_TRY(pool_init(&p, &d, 1));
    const int64_t kk = k > db->n ? db->n : k;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < q->n; i++) {
        hl_rscan *s = &p.s[thread_id()];
        hl_rscan_query(s, &d, hl_codes_row(q, i), NULL);
        hl_rscan_prepare(s, &d, kk, 0);
        int64_t *oi = idx + i * k;
        int *od = dist ? dist + i * k : NULL;
        memset(s->seen, 0, (size_t)(s->top + 1) * sizeof *s->seen);
        for (int64_t h = 0; h < s->nhits; h++) {
            const int32_t j = s->hits[h];
            const int b = s->hkey[h] >> 1;
            const int64_t pos = s->start[b] + ++s->seen[b];
            if (pos > kk) continue;
            oi[pos - 1] = j;
            if (od) od[pos - 1] = b;
        }
        for (int64_t t = kk; t < k; t++) {
            oi[t] = -1;
            if (od) od[t] = -1;
        }
    }
done:
    pool_free(&p);
    hl_rdb_free(&d);
    return st;
}

enum { HL_PR_BLOCK = 64 }; /* queries per partial sum: fixed, so sums do not depend on the thread count */

hl_status hl_retrieval_pr_radius(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                                 double *precision, double *recall) {
    hl_status st = hl_retrieval_check(q, ql, db, dbl);
    if (st < 0) return st;
    const int K = q->bits;
    const int64_t nblk = (q->n + HL_PR_BLOCK - 1) / HL_PR_BLOCK;
    hl_rdb d = {0};
    pool p = {0};
    double *part = NULL;
    HL_TRY(hl_rdb_init(&d, db, dbl));
    HL_TRY(pool_init(&p, &d, 1));
    part = calloc((size_t)(nblk ? nblk : 1) * 2 * (size_t)(K + 1), sizeof *part);
    if (!part) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for PR partial sums"));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t blk = 0; blk < nblk; blk++) {
        hl_rscan *s = &p.s[thread_id()];
        double *pp = part + blk * 2 * (K + 1), *rp = pp + K + 1;
        const int64_t i1 = HL_MIN(q->n, (blk + 1) * HL_PR_BLOCK);
        for (int64_t i = blk * HL_PR_BLOCK; i < i1; i++) {
            hl_rscan_query(s, &d, hl_codes_row(q, i), hl_labels_row(ql, i));
            hl_rscan_prepare(s, &d, 1, K); /* every bucket */
            for (int r = 0; r <= K; r++) {
                const int64_t ball = s->start[r + 1], rel = s->rstart[r + 1];
                if (ball) pp[r] += (double)rel / (double)ball;
                if (s->total_rel) rp[r] += (double)rel / (double)s->total_rel;
            }
        }
    }
    for (int r = 0; r <= K; r++) {
        double a = 0.0, b = 0.0;
        for (int64_t blk = 0; blk < nblk; blk++) {
            const double *pp = part + blk * 2 * (K + 1);
            a += pp[r], b += pp[K + 1 + r];
        }
        precision[r] = q->n ? a / (double)q->n : 0.0;
        recall[r] = q->n ? b / (double)q->n : 0.0;
    }
done:
    free(part);
    pool_free(&p);
    hl_rdb_free(&d);
    return st;
}

hl_status hl_retrieval_pr_rank(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                               const int64_t *ranks, int m, double *precision, double *recall) {
    hl_status st = hl_retrieval_check(q, ql, db, dbl);
    if (st < 0) return st;
    if (m < 1 || !ranks) return hl_error_set(HL_EINVAL, "retrieval: PR by rank needs at least one rank");
    int64_t lmax = 0;
    for (int i = 0; i < m; i++) {
        if (ranks[i] < 1) return hl_error_set(HL_EINVAL, "retrieval: rank %lld < 1", (long long)ranks[i]);
        lmax = HL_MAX(lmax, HL_MIN(ranks[i], db->n));
    }
    const int64_t nblk = (q->n + HL_PR_BLOCK - 1) / HL_PR_BLOCK;
    hl_rdb d = {0};
    pool p = {0};
    double *part = NULL;
    int32_t *cum = NULL; /* [threads, lmax]: relevant flag at rank p, then the running count */
    HL_TRY(hl_rdb_init(&d, db, dbl));
    HL_TRY(pool_init(&p, &d, 1));
    part = calloc((size_t)(nblk ? nblk : 1) * 2 * (size_t)m, sizeof *part);
    cum = malloc((size_t)p.n * (size_t)lmax * sizeof *cum);
    if (!part || !cum) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for PR by rank"));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t blk = 0; blk < nblk; blk++) {
        const int tid = thread_id();
        hl_rscan *s = &p.s[tid];
        int32_t *c = cum + (size_t)tid * (size_t)lmax;
        double *pp = part + blk * 2 * m, *rp = pp + m;
        const int64_t i1 = HL_MIN(q->n, (blk + 1) * HL_PR_BLOCK);
        for (int64_t i = blk * HL_PR_BLOCK; i < i1; i++) {
            hl_rscan_query(s, &d, hl_codes_row(q, i), hl_labels_row(ql, i));
            hl_rscan_prepare(s, &d, lmax, 0);
            memset(c, 0, (size_t)lmax * sizeof *c);
            memset(s->seen, 0, (size_t)(s->top + 1) * sizeof *s->seen);
            for (int64_t h = 0; h < s->nhits; h++) {
                const int k = s->hkey[h], b = k >> 1;
                const int64_t pos = s->start[b] + ++s->seen[b];
                if ((k & 1) && pos <= lmax) c[pos - 1] = 1;
            }
            for (int64_t t = 1; t < lmax; t++) c[t] += c[t - 1];
            for (int r = 0; r < m; r++) {
                const int64_t t = HL_MIN(ranks[r], db->n);
                pp[r] += (double)c[t - 1] / (double)t;
                if (s->total_rel) rp[r] += (double)c[t - 1] / (double)s->total_rel;
            }
        }
    }
    for (int r = 0; r < m; r++) {
        double a = 0.0, b = 0.0;
        for (int64_t blk = 0; blk < nblk; blk++) a += part[blk * 2 * m + r], b += part[blk * 2 * m + m + r];
        precision[r] = q->n ? a / (double)q->n : 0.0;
        recall[r] = q->n ? b / (double)q->n : 0.0;
    }
done:
    free(cum);
    free(part);
    pool_free(&p);
    hl_rdb_free(&d);
    return st;
}
