/* eval/retrieval_device.c — hl_retrieval_eval on a device (eval/retrieval.h): the pair work (distances, relevance,
 * buckets, stable-tie AP sums) in the device's retrieval kernels, the per-query metrics from the buckets on the host
 * with eval/retrieval.c's conventions (and its expected-AP formula, fed with the device's buckets). */
#include "eval/retrieval.h"

#include <stdlib.h>
#include <string.h>

#include "core/kernels.h"
#include "eval/retrieval_scan.h"

#define RDEV_CHUNK 1024 /* queries per kernel launch */

typedef struct rdev {
    const hl_kernels *k;
    void *bufs[9];
    int n;
} rdev;

static void *dalloc(rdev *r, size_t bytes) {
    void *p = r->k->base->dev_alloc(bytes ? bytes : 1);
    if (p) r->bufs[r->n++] = p;
    return p;
}

static void *dput(rdev *r, const void *host, size_t bytes) {
    void *p = dalloc(r, bytes);
    if (p && bytes) r->k->base->bytes_from_host(bytes, host, p);
    return p;
}

/* Fills the host scan s with one query's buckets (host arrays [K+1]) for hl_retrieval_query_metrics. */
static void load_buckets(hl_rscan *s, const int64_t *cnt, const int64_t *rcnt, int K) {
    s->start[0] = s->rstart[0] = 0;
    s->total_rel = 0;
    for (int b = 0; b <= K; b++) {
        s->cnt[b] = cnt[b], s->rel[b] = rcnt[b];
        s->start[b + 1] = s->start[b] + cnt[b], s->rstart[b + 1] = s->rstart[b] + rcnt[b];
        s->total_rel += rcnt[b];
    }
    s->top = K;
}

hl_status hl_retrieval_eval_on(hl_device dev, const hl_codes *q, const hl_labels *ql, const hl_codes *db,
                               const hl_labels *dbl, const hl_retrieval_opts *o, hl_retrieval_result *out,
                               double *per_query_ap) {
    hl_status st = hl_retrieval_check(q, ql, db, dbl);
    if (st < 0) return st;
    if (!o || !out) return hl_error_set(HL_EINVAL, "retrieval: missing options or result");
    if ((unsigned)o->ties >= HL_TIES_COUNT || (unsigned)o->zero_relevant >= HL_ZERO_REL_COUNT || o->radius < 0 ||
        o->at_n < 0)
        return hl_error_set(HL_EINVAL, "retrieval: invalid options");
    const hl_kernels *k = hl_kernels_for(dev);
    if (!k || !hl_device_available(dev))
        return hl_error_set(HL_EDEVICE, "retrieval: device '%s' is not available", hl_device_name(dev));
    rdev r = {.k = k};
    hl_codes pdb = {0};
    hl_labels pdbl = {0};
    hl_rdb d = {0};
    hl_rscan s = {0};
    hl_rqres *res = NULL;
    int64_t *cnt = NULL, *rcnt = NULL, *nr = NULL, *nn = NULL;
    double *apsum = NULL;
    const int K = q->bits;
    const int64_t nq = q->n, n = db->n, chunk = nq < RDEV_CHUNK ? (nq ? nq : 1) : RDEV_CHUNK;
    const int64_t R = o->topk <= 0 || o->topk > n ? n : o->topk, N = o->at_n > n ? n : o->at_n;
    if (o->ties == HL_TIES_RANDOM) {
        HL_TRY(hl_retrieval_shuffle_db(db, dbl, o->tie_seed, &pdb, &pdbl));
        db = &pdb, dbl = &pdbl;
    }
    HL_TRY(hl_rdb_init(&d, db, dbl)); /* the host half: the 1/p table and the bucket arrays' sizes */
    HL_TRY(hl_rscan_init(&s, &d));
    res = malloc((size_t)(nq ? nq : 1) * sizeof *res);
    cnt = malloc((size_t)(chunk * (K + 1)) * sizeof *cnt), rcnt = malloc((size_t)(chunk * (K + 1)) * sizeof *rcnt);
    nr = malloc((size_t)chunk * sizeof *nr), nn = malloc((size_t)chunk * sizeof *nn);
    apsum = malloc((size_t)chunk * sizeof *apsum);
    if (!res || !cnt || !rcnt || !nr || !nn || !apsum)
        HL_TRY(hl_error_set(HL_ENOMEM, "retrieval: out of memory for %lld queries", (long long)nq));
    const size_t cw = (size_t)q->words * sizeof(uint64_t), lw = (size_t)ql->words * sizeof(uint64_t);
    uint64_t *ddb = dput(&r, db->w, (size_t)n * cw), *ddbl = dput(&r, dbl->bits, (size_t)n * lw);
    uint64_t *dq = dalloc(&r, (size_t)chunk * cw), *dql = dalloc(&r, (size_t)chunk * lw);
    uint16_t *ddist = dalloc(&r, (size_t)(chunk * n) * sizeof *ddist);
    uint8_t *drel = dalloc(&r, (size_t)(chunk * n));
    int64_t *dcnt = dalloc(&r, (size_t)(chunk * (K + 1)) * sizeof *dcnt);
    int64_t *drcnt = dalloc(&r, (size_t)(chunk * (K + 1)) * sizeof *drcnt);
    void *dterm = dalloc(&r, (size_t)chunk * (sizeof(double) + 2 * sizeof(int64_t)));
    if (r.n < 9) HL_TRY(hl_error_set(HL_ENOMEM, "retrieval on %s: out of device memory (%s)", hl_device_name(dev),
                                     hl_error_last()));
    double *dap = dterm;
    int64_t *dnr = (int64_t *)(dap + chunk), *dnn = dnr + chunk;
    const hl_kern_retrieval *kr = k->retrieval;
    for (int64_t i0 = 0; i0 < nq; i0 += chunk) {
        const int64_t m = HL_MIN(chunk, nq - i0);
        k->base->bytes_from_host((size_t)m * cw, hl_codes_row(q, i0), dq);
        k->base->bytes_from_host((size_t)m * lw, hl_labels_row(ql, i0), dql);
        kr->hamming(m, n, q->words, dq, ddb, ddist);
        kr->relevance(m, n, ql->words, dql, ddbl, drel);
        kr->buckets(m, n, K, ddist, drel, dcnt, drcnt);
        const bool stable = o->ties != HL_TIES_EXPECTED;
        if (stable) kr->ap_index(m, n, K, R, N, ddist, drel, dcnt, drcnt, dap, dnr, dnn);
        k->base->bytes_to_host((size_t)(m * (K + 1)) * sizeof *cnt, dcnt, cnt);
        k->base->bytes_to_host((size_t)(m * (K + 1)) * sizeof *rcnt, drcnt, rcnt);
        if (stable) {
            k->base->bytes_to_host((size_t)m * sizeof *apsum, dap, apsum);
            k->base->bytes_to_host((size_t)m * sizeof *nr, dnr, nr);
            k->base->bytes_to_host((size_t)m * sizeof *nn, dnn, nn);
        }
        for (int64_t i = 0; i < m; i++) {
            load_buckets(&s, cnt + i * (K + 1), rcnt + i * (K + 1), K);
            const double ap = stable && nr[i] ? apsum[i] / (double)nr[i] : 0.0;
            hl_retrieval_query_metrics(&s, &d, o, R, N, ap, stable ? nr[i] : 0, stable ? nn[i] : 0,
                                       hl_retrieval_empty_row(ql, i0 + i), &res[i0 + i]);
        }
    }
    *out = (hl_retrieval_result){.queries = nq, .database = n, .bits = K, .topk = R};
    hl_retrieval_means(res, nq, o, out, per_query_ap);
done:
    for (int i = 0; i < r.n; i++) k->base->dev_free(r.bufs[i]);
    free(res), free(cnt), free(rcnt), free(nr), free(nn), free(apsum);
    hl_rscan_free(&s);
    hl_rdb_free(&d);
    hl_codes_free(&pdb);
    hl_labels_free(&pdbl);
    return st;
}
