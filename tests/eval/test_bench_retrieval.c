/* tests/eval/test_bench_retrieval.c — the `hashlab bench retrieval` workload: runs small, reproduces its mAP with
 * hl_retrieval_eval, and writes the workload in numpy.packbits order for the peer script. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/io/npy.h"
#include "eval/bench_retrieval.h"
#include "eval/retrieval.h"
#include "test_common.h"

Test(bench_retrieval, small_run_and_saved_workload) {
    hl_bench_retrieval_opts o;
    hl_bench_retrieval_defaults(&o);
    o.queries = 37, o.database = 501, o.bits = 20, o.topk = 50, o.reps = 1, o.threads = 1;
    o.save_workload = hl_test_tmpdir();
    hl_bench_retrieval_result r;
    cr_assert(hl_bench_retrieval(&o, &r) == HL_OK, "%s", hl_error_last());
    cr_assert(r.map > 0.2 && r.map <= 1.0, "mAP %g: codes must correlate with labels", r.map);
    cr_assert(r.seconds > 0 && r.floor_seconds > 0 && r.topk == 50 && r.queries == 37 && r.database == 501);

    /* The same workload scored directly. */
    float *xq = malloc(37 * 20 * sizeof *xq), *xd = malloc(501 * 20 * sizeof *xd);
    int64_t cq[37], *cd = malloc(501 * sizeof *cd);
    hl_bench_retrieval_workload(o.seed, 0, 37, 20, 10, xq, cq);
    hl_bench_retrieval_workload(o.seed, 1, 501, 20, 10, xd, cd);
    hl_codes q, db;
    hl_labels lq, ld;
    cr_assert(hl_codes_create(&q, 37, 20) == HL_OK && hl_codes_create(&db, 501, 20) == HL_OK);
    hl_codes_pack(&q, xq);
    hl_codes_pack(&db, xd);
    cr_assert(hl_labels_from_class_ids(&lq, cq, 37, 10) == HL_OK);
    cr_assert(hl_labels_from_class_ids(&ld, cd, 501, 10) == HL_OK);
    hl_retrieval_opts ro;
    hl_retrieval_defaults(&ro);
    ro.topk = 50;
    hl_retrieval_result rr;
    cr_assert(hl_retrieval_eval(&q, &lq, &db, &ld, &ro, &rr, NULL) == HL_OK);
    cr_assert(rr.map == r.map && rr.p_at_radius == r.p_h2, "bench %g vs eval %g", r.map, rr.map);

    /* Query i of a smaller run is query i of a bigger one (keyed per item). */
    float *xq2 = malloc(5 * 20 * sizeof *xq2);
    int64_t cq2[5];
    hl_bench_retrieval_workload(o.seed, 0, 5, 20, 10, xq2, cq2);
    for (int i = 0; i < 5 * 20; i++) cr_assert_eq(xq2[i], xq[i]);

    /* Saved codes: uint8 (37, 3), bit k of a code = bit 7 − k % 8 of byte k / 8 (numpy.packbits). */
    char path[4096];
    snprintf(path, sizeof path, "%s/q_codes.npy", o.save_workload);
    hl_npy a;
    cr_assert(hl_npy_read(path, &a) == HL_OK, "%s", hl_error_last());
    cr_assert(a.dtype == HL_NPY_U8 && a.ndim == 2 && a.shape[0] == 37 && a.shape[1] == 3);
    const uint8_t *b = a.data;
    for (int i = 0; i < 37; i++)
        for (int k = 0; k < 20; k++)
            cr_assert_eq((b[i * 3 + k / 8] >> (7 - k % 8)) & 1, xq[i * 20 + k] >= 0.0f, "code %d bit %d", i, k);
    hl_npy_free(&a);
    snprintf(path, sizeof path, "%s/db_labels.npy", o.save_workload);
    cr_assert(hl_npy_read(path, &a) == HL_OK);
    cr_assert(a.dtype == HL_NPY_I64 && a.ndim == 1 && a.shape[0] == 501);
    for (int j = 0; j < 501; j++) cr_assert_eq(((const int64_t *)a.data)[j], cd[j]);
    hl_npy_free(&a);

    free(xq);
    free(xd);
    free(xq2);
    free(cd);
    hl_codes_free(&q);
    hl_codes_free(&db);
    hl_labels_free(&lq);
    hl_labels_free(&ld);
    free((void *)o.save_workload);
}
