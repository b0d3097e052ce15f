/* tests/eval/test_retrieval_device.c — retrieval scoring on a device (hl_retrieval_eval_on, eval/retrieval.h) against
 * the host path (hl_retrieval_eval), on the CPU's and the shadow device's retrieval kernels (and on CUDA where it is
 * present): every metric, every option (stable, expected and random ties; zero-relevant counted or skipped; R cut
 * inside a bucket or all; P@N), single- and multi-label data with an unlabelled query, codes of one and two words.
 * Equal up to summation order: |Δ| <= 1e-12. */
#include "test_common.h"

#include <math.h>
#include <stdio.h>

#include "core/rng.h"
#include "eval/retrieval.h"

/* Random codes (few bits, so distances tie a lot) and labels: class ids, or multi-label rows with empty ones. */
static void make_set(hl_codes *c, hl_labels *l, int64_t n, int K, int L, bool multi, uint64_t seed) {
    cr_assert_eq(hl_codes_create(c, n, K), HL_OK);
    cr_assert_eq(hl_labels_create(l, n, L), HL_OK);
    hl_rng r = hl_rng_make(seed, 5);
    for (int64_t i = 0; i < n; i++) {
        uint64_t *w = c->w + i * c->words;
        for (int b = 0; b < K; b++)
            if (hl_rng_below(&r, 2)) w[b / 64] |= 1ull << (b % 64);
        if (!multi) {
            hl_labels_set(l, i, (int)hl_rng_below(&r, (uint64_t)L));
        } else {
            for (int k = 0; k < L; k++)
                if (hl_rng_below(&r, 4) == 0) hl_labels_set(l, i, k);
        }
    }
}

static void same(double a, double b, const char *what, const char *dev, int cfg) {
    cr_assert(fabs(a - b) <= 1e-12 || (isnan(a) && isnan(b)), "%s, config %d, %s: device %.17g, host %.17g", dev, cfg,
              what, a, b);
}

static void compare(hl_device dev, const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                    const hl_retrieval_opts *o, int cfg) {
    hl_retrieval_result h, d;
    double aph[64], apd[64];
    cr_assert(q->n <= 64);
    cr_assert_eq(hl_retrieval_eval(q, ql, db, dbl, o, &h, aph), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_retrieval_eval_on(dev, q, ql, db, dbl, o, &d, apd), HL_OK, "%s", hl_error_last());
    const char *dn = hl_device_name(dev);
    same(d.map, h.map, "mAP", dn, cfg);
    same(d.p_at_radius, h.p_at_radius, "P@H<=r", dn, cfg);
    same(d.r_at_radius, h.r_at_radius, "R@H<=r", dn, cfg);
    same(d.p_at_n, h.p_at_n, "P@N", dn, cfg);
    same(d.r_at_n, h.r_at_n, "R@N", dn, cfg);
    same(d.mean_tie_bucket, h.mean_tie_bucket, "mean tie bucket", dn, cfg);
    cr_assert(d.zero_relevant == h.zero_relevant && d.unlabelled_queries == h.unlabelled_queries && d.topk == h.topk &&
                  d.queries == h.queries && d.database == h.database && d.bits == h.bits,
              "%s, config %d: counts differ", dn, cfg);
    for (int64_t i = 0; i < q->n; i++) same(apd[i], aph[i], "per-query AP", dn, cfg);
}

static void run_all(int K, bool multi) {
    hl_codes q, db;
    hl_labels ql, dbl;
    make_set(&q, &ql, 40, K, 5, multi, 1);
    make_set(&db, &dbl, 700, K, 5, multi, 2);
    if (multi) /* an unlabelled query */
        for (int w = 0; w < ql.words; w++) ql.bits[3 * ql.words + w] = 0;
    const hl_ties ties[] = {HL_TIES_INDEX, HL_TIES_EXPECTED, HL_TIES_RANDOM};
    const int64_t topk[] = {0, 37, 100000};
    int cfg = 0;
    for (size_t t = 0; t < HL_ARRAY_LEN(ties); t++)
        for (size_t r = 0; r < HL_ARRAY_LEN(topk); r++)
            for (int z = 0; z < HL_ZERO_REL_COUNT; z++, cfg++) {
                hl_retrieval_opts o;
                hl_retrieval_defaults(&o);
                o.ties = ties[t], o.topk = topk[r], o.zero_relevant = (hl_zero_rel)z, o.tie_seed = 7;
                o.at_n = r == 1 ? 50 : 0, o.radius = (int)(r + 1);
                compare(HL_DEVICE_CPU, &q, &ql, &db, &dbl, &o, cfg);
                compare(HL_DEVICE_SHADOW, &q, &ql, &db, &dbl, &o, cfg);
                if (hl_device_available(HL_DEVICE_CUDA)) compare(HL_DEVICE_CUDA, &q, &ql, &db, &dbl, &o, cfg);
            }
    if (!hl_device_available(HL_DEVICE_CUDA))
        fprintf(stderr, "retrieval_device: CUDA half skipped: no CUDA device (CPU and shadow checked)\n");
    hl_codes_free(&q), hl_codes_free(&db);
    hl_labels_free(&ql), hl_labels_free(&dbl);
}

Test(retrieval_device, single_label_one_word_codes) { run_all(12, false); }
Test(retrieval_device, multi_label_two_word_codes) { run_all(70, true); }

Test(retrieval_device, refuses_what_the_host_refuses) {
    hl_codes q, db;
    hl_labels ql, dbl;
    make_set(&q, &ql, 3, 16, 4, false, 1);
    make_set(&db, &dbl, 5, 8, 4, false, 2);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    hl_retrieval_result r;
    cr_assert_eq(hl_retrieval_eval_on(HL_DEVICE_SHADOW, &q, &ql, &db, &dbl, &o, &r, NULL), HL_EMISMATCH);
    hl_codes_free(&q), hl_codes_free(&db);
    hl_labels_free(&ql), hl_labels_free(&dbl);
}
