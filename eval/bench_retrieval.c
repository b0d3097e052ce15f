/* eval/bench_retrieval.c — `hashlab bench retrieval`: the workload of BENCH.md; see bench_retrieval.h. */
#include "eval/bench_retrieval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/npy.h"
#include "core/rng.h"
#include "eval/bench.h"
#include "eval/retrieval.h"
#include "eval/retrieval_scan.h"

enum { STREAM_CENTRE = 0x6263, STREAM_LABEL = 0x626c, STREAM_BITS = 0x6262 }; /* + set */

void hl_bench_retrieval_defaults(hl_bench_retrieval_opts *o) {
    *o = (hl_bench_retrieval_opts){.queries = 10000, .database = 50000, .bits = 64, .topk = 1000, .classes = 10,
                                   .threads = 0, .reps = 3, .seed = 1, .save_workload = NULL};
}

void hl_bench_retrieval_workload(uint64_t seed, int set, int64_t n, int bits, int classes, float *x, int64_t *cls) {
    const int64_t blocks = (bits + 3) / 4; /* Philox blocks per item: four 32-bit words, one per bit */
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        uint32_t w[4];
        hl_philox(seed, STREAM_LABEL + (uint64_t)set, (uint64_t)i, w);
        const int64_t c = (int64_t)(w[0] % (uint32_t)classes);
        cls[i] = c;
        for (int k = 0; k < bits; k++) {
            if (k % 4 == 0) hl_philox(seed, STREAM_BITS + (uint64_t)set, (uint64_t)(i * blocks + k / 4), w);
            const int centre = hl_rng_uniform_at(seed, STREAM_CENTRE, (uint64_t)(c * bits + k)) < 0.5f;
            const int flip = w[k % 4] < (1u << 30); /* probability 1/4 */
            x[i * bits + k] = (centre ^ flip) ? 1.0f : -1.0f;
        }
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* numpy.packbits order: bit k of a code is bit 7 − k % 8 of byte k / 8. */
static hl_status save_codes(const char *dir, const char *name, const hl_codes *c) {
    const int64_t nb = (c->bits + 7) / 8;
    uint8_t *buf = calloc((size_t)(c->n * nb + 1), 1);
    if (!buf) return hl_error_set(HL_ENOMEM, "out of memory writing %s", name);
    for (int64_t i = 0; i < c->n; i++)
        for (int k = 0; k < c->bits; k++)
            if (hl_codes_bit(c, i, k)) buf[i * nb + k / 8] |= (uint8_t)(0x80u >> (k % 8));
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hl_status st = hl_npy_write(path, HL_NPY_U8, 2, (int64_t[]){c->n, nb}, buf);
    free(buf);
    return st;
}

static hl_status save_labels(const char *dir, const char *name, const int64_t *cls, int64_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return hl_npy_write(path, HL_NPY_I64, 1, (int64_t[]){n}, cls);
}

hl_status hl_bench_retrieval(const hl_bench_retrieval_opts *o, hl_bench_retrieval_result *out) {
    if (o->queries < 1 || o->database < 1 || o->bits < 1 || o->classes < 1 || o->reps < 1)
        return hl_error_set(HL_EINVAL, "bench retrieval: queries, database, bits, classes and reps must be >= 1");
    hl_status st = HL_OK;
    const int K = o->bits;
    float *xq = NULL, *xd = NULL;
    int64_t *cq = NULL, *cd = NULL;
    double *times = NULL, *ftimes = NULL;
    hl_labels lq = {0}, ld = {0};
    hl_codes q = {0}, db = {0};
    *out = (hl_bench_retrieval_result){.queries = o->queries, .database = o->database, .bits = K};
    out->threads = hl_threads_set(o->threads);
    out->topk = o->topk <= 0 || o->topk > o->database ? o->database : o->topk;
    xq = malloc((size_t)(o->queries * K) * sizeof *xq);
    xd = malloc((size_t)(o->database * K) * sizeof *xd);
    cq = malloc((size_t)o->queries * sizeof *cq);
    cd = malloc((size_t)o->database * sizeof *cd);
    times = malloc((size_t)o->reps * sizeof *times);
    ftimes = malloc((size_t)o->reps * sizeof *ftimes);
    if (!xq || !xd || !cq || !cd || !times || !ftimes)
        HL_TRY(hl_error_set(HL_ENOMEM, "bench retrieval: out of memory for %lld + %lld codes of %d bits",
                            (long long)o->queries, (long long)o->database, K));
    hl_bench_retrieval_workload(o->seed, 0, o->queries, K, o->classes, xq, cq);
    hl_bench_retrieval_workload(o->seed, 1, o->database, K, o->classes, xd, cd);
    HL_TRY(hl_labels_from_class_ids(&lq, cq, o->queries, o->classes));
    HL_TRY(hl_labels_from_class_ids(&ld, cd, o->database, o->classes));

    hl_retrieval_opts ro;
    hl_retrieval_defaults(&ro);
    ro.topk = o->topk;
    ro.radius = 2;
    for (int rep = -1; rep < o->reps; rep++) { /* rep −1: warm-up */
        hl_codes_free(&q);
        hl_codes_free(&db);
        const double t0 = hl_time_s();
        HL_TRY(hl_codes_create(&q, o->queries, K));
        HL_TRY(hl_codes_create(&db, o->database, K));
        hl_codes_pack(&q, xq);
        hl_codes_pack(&db, xd);
        hl_retrieval_result r;
        if (o->dev == HL_DEVICE_CPU) HL_TRY(hl_retrieval_eval(&q, &lq, &db, &ld, &ro, &r, NULL));
        else HL_TRY(hl_retrieval_eval_on(o->dev, &q, &lq, &db, &ld, &ro, &r, NULL));
        const double t1 = hl_time_s();
        volatile uint64_t sink = hl_rscan_floor(&q, &db);
        (void)sink;
        const double t2 = hl_time_s();
        if (rep >= 0) times[rep] = t1 - t0, ftimes[rep] = t2 - t1;
        out->map = r.map;
        out->p_h2 = r.p_at_radius;
    }
    out->seconds = median(times, o->reps);
    out->floor_seconds = median(ftimes, o->reps);
    out->peak_rss_mb = hl_bench_peak_rss_mb();
    if (o->save_workload) {
        HL_TRY(save_codes(o->save_workload, "q_codes.npy", &q));
        HL_TRY(save_codes(o->save_workload, "db_codes.npy", &db));
        HL_TRY(save_labels(o->save_workload, "q_labels.npy", cq, o->queries));
        HL_TRY(save_labels(o->save_workload, "db_labels.npy", cd, o->database));
    }
done:
    free(xq);
    free(xd);
    free(cq);
    free(cd);
    free(times);
    free(ftimes);
    hl_labels_free(&lq);
    hl_labels_free(&ld);
    hl_codes_free(&q);
    hl_codes_free(&db);
    return st;
}
