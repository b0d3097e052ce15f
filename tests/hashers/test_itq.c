/* tests/hashers/test_itq.c — ITQ: the rotation's loss is non-increasing and R stays orthogonal; on clustered data
 * ITQ's mAP beats LSH's; codes shape, determinism, fit required, save/load round trip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/retrieval.h"
#include "hashers/hasher.h"
#include "hashers/itq.h"
#include "test_hashers.h"

/* n images 1×8×8 from 10 clusters: centroid pixels uniform in [0.1, 0.9] per class, plus uniform noise ±0.25. */
static void make_clusters(hl_dataset *d, int64_t n, uint64_t seed) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "clusters");
    d->n = n, d->c = 1, d->h = 8, d->w = 8;
    d->pixels = malloc((size_t)(n * 64));
    d->class_id = malloc((size_t)n * sizeof *d->class_id);
    float cent[10][64];
    hl_rng r = hl_rng_make(seed, 1);
    for (int k = 0; k < 10; k++) hl_rng_uniform(&r, cent[k], 64, 0.1f, 0.9f);
    for (int64_t i = 0; i < n; i++) {
        int k = (int)(i % 10);
        float e[64];
        hl_rng_uniform(&r, e, 64, -0.25f, 0.25f);
        for (int j = 0; j < 64; j++) {
            float v = fminf(fmaxf(cent[k][j] + e[j], 0.0f), 1.0f);
            d->pixels[i * 64 + j] = (uint8_t)lrintf(v * 255.0f);
        }
        d->class_id[i] = k;
    }
    cr_assert_eq(hl_labels_from_class_ids(&d->labels, d->class_id, n, 10), HL_OK);
}

Test(itq, rotation_loss_monotone_and_orthogonal) {
    const int64_t n = 300;
    const int K = 12, iters = 30;
    double *V = malloc((size_t)(n * K) * sizeof *V), R[12 * 12], loss[31];
    /* hidden binary codes rotated by 0.5 rad in each coordinate pair, plus noise: a good rotation exists */
    hl_rng r = hl_rng_make(11, 2);
    for (int64_t i = 0; i < n; i++)
        for (int p = 0; p < K; p += 2) {
            double b0 = hl_rng_u32(&r) & 1 ? -1 : 1, b1 = hl_rng_u32(&r) & 1 ? -1 : 1;
            V[i * K + p] = cos(0.5) * b0 - sin(0.5) * b1 + 0.1 * hl_rng_normal_at(3, 3, (uint64_t)(i * K + p));
            V[i * K + p + 1] = sin(0.5) * b0 + cos(0.5) * b1 + 0.1 * hl_rng_normal_at(3, 3, (uint64_t)(i * K + p + 1));
        }
    cr_assert_eq(hl_itq_rotation(V, n, K, iters, 4, R, loss), HL_OK, "%s", hl_error_last());
    for (int t = 1; t <= iters; t++)
        cr_assert(loss[t] <= loss[t - 1] * (1 + 1e-12), "loss rose at iteration %d: %.9g -> %.9g", t, loss[t - 1],
                  loss[t]);
    cr_assert(loss[iters] < 0.5 * loss[0], "ITQ should reduce the loss: %g -> %g", loss[0], loss[iters]);
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += R[k * K + i] * R[k * K + j];
            cr_assert(fabs(s - (i == j)) < 1e-4, "(RᵀR)[%d][%d] = %g", i, j, s);
        }
    double R2[12 * 12];
    cr_assert_eq(hl_itq_rotation(V, n, K, iters, 4, R2, NULL), HL_OK);
    cr_assert_eq(memcmp(R, R2, sizeof R), 0, "deterministic in the seed");
    free(V);
}

static double map_of(const char *method, const hl_dataset *d, int bits) {
    int64_t train[400], db[400], q[100];
    for (int i = 0; i < 400; i++) train[i] = db[i] = i;
    for (int i = 0; i < 100; i++) q[i] = 400 + i;
    hl_dataset_info info = hl_dataset_info_of(d);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, method, NULL, &info, bits, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_fit(h, d, train, 400, false), HL_OK, "%s", hl_error_last());
    double map = hl_test_hasher_map(h, d, db, 400, q, 100, NULL);
    hl_hasher_free(h);
    return map;
}

Test(itq, beats_lsh_on_clusters) {
    hl_dataset d;
    make_clusters(&d, 500, 3);
    double m_itq = map_of("itq", &d, 16), m_lsh = map_of("lsh", &d, 16);
    cr_assert(m_itq > m_lsh + 0.05, "mAP itq %.4f vs lsh %.4f", m_itq, m_lsh);
    cr_assert(m_itq > 0.5, "mAP itq %.4f", m_itq);
    hl_dataset_free(&d);
}

Test(itq, fit_required_shape_determinism_save_load) {
    hl_dataset d;
    make_clusters(&d, 200, 5);
    hl_dataset_info info = hl_dataset_info_of(&d);
    hl_ctx *ctx = hl_test_ctx();
    hl_hasher *a = NULL, *b = NULL, *c = NULL;
    hl_codes ca, cb, cc;
    int64_t idx[150];
    for (int i = 0; i < 150; i++) idx[i] = i;
    cr_assert_eq(hl_hasher_create(&a, "itq", NULL, &info, 32, 9), HL_OK);
    cr_assert_eq(hl_hasher_encode(&ca, a, ctx, &d, NULL, 0, 0), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "hasher 'itq' must be fitted (or loaded) before encoding");
    cr_assert_eq(hl_hasher_fit(a, &d, idx, 150, false), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode(&ca, a, ctx, &d, NULL, 0, 33), HL_OK);
    cr_assert_eq(ca.n, 200);
    cr_assert_eq(ca.bits, 32);
    /* balanced-ish bits: PCA directions of centred data split the set */
    for (int k = 0; k < 32; k++) {
        int ones = 0;
        for (int64_t i = 0; i < 200; i++) ones += hl_codes_bit(&ca, i, k);
        cr_assert(ones > 0 && ones < 200, "bit %d constant", k);
    }
    cr_assert_eq(hl_hasher_create(&b, "itq", NULL, &info, 32, 9), HL_OK);
    cr_assert_eq(hl_hasher_fit(b, &d, idx, 150, false), HL_OK);
    cr_assert_eq(hl_hasher_encode(&cb, b, ctx, &d, NULL, 0, 0), HL_OK);
    cr_assert_eq(memcmp(ca.w, cb.w, 200 * sizeof(uint64_t)), 0, "deterministic in the seed");
    const char *path = hl_test_path(hl_test_tmpdir(), "itq.safetensors");
    cr_assert_eq(hl_hasher_save(a, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_create(&c, "itq", NULL, &info, 32, 9), HL_OK);
    cr_assert_eq(hl_hasher_load(c, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode(&cc, c, ctx, &d, NULL, 0, 0), HL_OK);
    cr_assert_eq(memcmp(ca.w, cc.w, 200 * sizeof(uint64_t)), 0, "round trip");
    hl_codes_free(&ca), hl_codes_free(&cb), hl_codes_free(&cc);
    hl_hasher_free(a), hl_hasher_free(b), hl_hasher_free(c);
    hl_ctx_free(ctx);
    hl_dataset_free(&d);
}
