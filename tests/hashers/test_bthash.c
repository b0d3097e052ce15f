/* tests/hashers/test_bthash.c — Barlow Twins hashing: the loss on hand-computable batches, its gradient against central
 * differences, and a short fit on synthetic data that never reads labels and learns augmentation-invariant,
 * non-collapsed codes. (Resuming an interrupted fit: tests/hashers/test_resume.c.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/augment_views.h"
#include "core/rng.h"
#include "hashers/bthash.h"
#include "hashers/deep.h"
#include "test_hashers.h"

static double loss_of(const float *vA, const float *vB, int64_t N, int K, const hl_bthash_opts *o, float *GA,
                      float *GB, hl_bthash_parts *parts) {
    float *scr = malloc((size_t)hl_bthash_scratch_len(N, K) * sizeof *scr);
    cr_assert_not_null(scr);
    double L = hl_bthash_loss(vA, vB, N, K, o, scr, GA, GB, parts);
    free(scr);
    return L;
}

/* u_A = [[t, t], [−t, −t]], u_B = [[t, −t], [−t, t]] (t = tanh v = ½): standardised, z_A = [[1, 1], [−1, −1]],
 * z_B = [[1, −1], [−1, 1]] (ε negligible), so C = [[1, −1], [1, −1]]: L_inv = 0² + 2² = 4, L_red = λ(1 + 1),
 * L_q = q/(2·2) · 8 · (1 − ½)² = q/2, L_bal = 0 (zero means). */
Test(bthash, loss_on_a_hand_computed_batch) {
    const float v = atanhf(0.5f);
    const float vA[4] = {v, v, -v, -v}, vB[4] = {v, -v, -v, v};
    hl_bthash_opts o = {.lambda = 0.1, .quant = 0.2, .balance = 3, .eps = 1e-12};
    hl_bthash_parts p;
    double L = loss_of(vA, vB, 2, 2, &o, NULL, NULL, &p);
    cr_assert_float_eq(p.invariance, 4.0, 1e-5);
    cr_assert_float_eq(p.redundancy, 0.2, 1e-6);
    cr_assert_float_eq(p.quantisation, 0.1, 1e-6);
    cr_assert_float_eq(p.balance, 0.0, 1e-9);
    cr_assert_float_eq(L, 4.3, 1e-5);
    cr_assert_float_eq(p.mean_diag, 0.0, 1e-6);
    cr_assert_float_eq(p.rms_offdiag, 1.0, 1e-6);
    /* the views swapped: C transposed, the same loss */
    cr_assert_float_eq(loss_of(vB, vA, 2, 2, &o, NULL, NULL, NULL), L, 1e-6);
}

/* Constant columns u = ½ (N = 4, K = 3): z = 0, so C = 0 — L_inv = K, L_red = 0 — every bit's mean is ½ in both
 * views: L_bal = (γ/2)·2K·¼ = γK/4; L_q = q/(2N)·2NK·¼ = qK/4. A collapsed code costs exactly K + (γ + q)K/4. */
Test(bthash, loss_of_a_collapsed_code) {
    float vA[12], vB[12];
    for (int i = 0; i < 12; i++) vA[i] = vB[i] = atanhf(0.5f);
    hl_bthash_opts o = {.lambda = 0.7, .quant = 0.4, .balance = 2, .eps = 1e-5};
    hl_bthash_parts p;
    double L = loss_of(vA, vB, 4, 3, &o, NULL, NULL, &p);
    cr_assert_float_eq(p.invariance, 3.0, 1e-6);
    cr_assert_float_eq(p.redundancy, 0.0, 1e-9);
    cr_assert_float_eq(p.balance, 2 * 3 / 4.0, 1e-5);
    cr_assert_float_eq(p.quantisation, 0.4 * 3 / 4.0, 1e-5);
    cr_assert_float_eq(L, 3 + 1.5 + 0.3, 1e-5);
}

Test(bthash, gradient_matches_central_differences) {
    enum { N = 6, K = 4 };
    float vA[N * K], vB[N * K], GA[N * K], GB[N * K];
    hl_rng r = hl_rng_make(17, 1);
    hl_rng_normal(&r, vA, N * K, 0, 0.8f);
    hl_rng_normal(&r, vB, N * K, 0, 0.8f);
    for (int i = 0; i < N * K; i++) { /* away from sign's kink at 0 */
        if (fabsf(vA[i]) < 0.15f) vA[i] = vA[i] < 0 ? -0.15f : 0.15f;
        if (fabsf(vB[i]) < 0.15f) vB[i] = vB[i] < 0 ? -0.15f : 0.15f;
    }
    hl_bthash_opts o = {.lambda = 0.3, .quant = 0.5, .balance = 0.7, .eps = 1e-3};
    loss_of(vA, vB, N, K, &o, GA, GB, NULL);
    const float h = 2e-3f;
    double worst = 0;
    for (int which = 0; which < 2; which++)
        for (int i = 0; i < N * K; i++) {
            float *v = which ? vB : vA, keep = v[i];
            v[i] = keep + h;
            double lp = loss_of(vA, vB, N, K, &o, NULL, NULL, NULL);
            v[i] = keep - h;
            double lm = loss_of(vA, vB, N, K, &o, NULL, NULL, NULL);
            v[i] = keep;
            double fd = (lp - lm) / (2 * h), an = which ? GB[i] : GA[i];
            double err = fabs(fd - an) / (1e-2 + fabs(fd));
            worst = fmax(worst, err);
            cr_assert(err < 2e-2, "view %c element %d: analytic %.6g, central difference %.6g", which ? 'B' : 'A', i,
                      an, fd);
        }
    cr_assert(worst > 0, "a gradient check that compared nothing");
    /* a non-trivial gradient: it is not zero everywhere */
    double norm = 0;
    for (int i = 0; i < N * K; i++) norm += GA[i] * GA[i] + GB[i] * GB[i];
    cr_assert(norm > 1e-4, "gradient norm² %g", norm);
}

/* Mean Hamming distance between codes a and b row by row (pairs i, i) or across rows (i, i + 1). */
static double mean_hamming(const hl_codes *a, const hl_codes *b, bool shifted) {
    double s = 0;
    for (int64_t i = 0; i < a->n; i++) {
        int64_t j = shifted ? (i + 1) % a->n : i;
        for (int w = 0; w < a->words; w++)
            s += __builtin_popcountll(hl_codes_row(a, i)[w] ^ hl_codes_row(b, j)[w]);
    }
    return s / (double)a->n;
}

Test(bthash, labels_are_never_read) {
    enum { N = 64 };
    hl_dataset d, poisoned;
    hl_test_synthetic(&d, N, 1, 12, 4, 3);
    hl_test_synthetic(&poisoned, N, 1, 12, 4, 3);
    for (int64_t i = 0; i < N; i++) { /* every label changed */
        memset(poisoned.labels.bits + i * poisoned.labels.words, 0, (size_t)poisoned.labels.words * sizeof(uint64_t));
        hl_labels_set(&poisoned.labels, i, (int)((i * 7 + 1) % 4));
        poisoned.class_id[i] = (i * 7 + 1) % 4;
    }
    int64_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = i;
    const char *kv[] = {"epochs", "1", "batch", "16", NULL};
    hl_dataset hidden = hl_dataset_unlabelled_view(&d); /* the lab's path */
    hl_hasher *a = hl_test_make_hasher("bthash", &d, kv, 8, 1), *b = hl_test_make_hasher("bthash", &d, kv, 8, 1);
    cr_assert_eq(hl_hasher_fit(a, &hidden, idx, N, false), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_fit(b, &poisoned, idx, N, true), HL_OK, "%s", hl_error_last());
    cr_assert(!memcmp(a->params.data, b->params.data, (size_t)a->params.slab_len * sizeof(float)),
              "the fit depends on the labels");
    cr_assert(!memcmp(a->params.bufdata, b->params.bufdata, (size_t)a->params.buf_len * sizeof(float)));
    hl_hasher_free(a), hl_hasher_free(b);
    hl_dataset_free(&d), hl_dataset_free(&poisoned);
}

Test(bthash, short_fit_learns_invariant_non_collapsed_codes, .timeout = 120) {
    enum { NALL = 192, K = 16, S = 12 };
    hl_dataset d;
    hl_test_synthetic(&d, NALL, 1, S, 4, 3);
    int64_t idx[NALL];
    for (int i = 0; i < NALL; i++) idx[i] = i;
    const char *kv[] = {"epochs", "5", "batch", "32", "lr_schedule", "constant", NULL};
    hl_dataset hidden = hl_dataset_unlabelled_view(&d);
    hl_hasher *h = hl_test_make_hasher("bthash", &d, kv, K, 1);
    cr_assert_eq(hl_hasher_fit(h, &hidden, idx, NALL, false), HL_OK, "%s", hl_error_last());

    /* codes of the clean images: not collapsed */
    hl_ctx *ctx = hl_test_ctx();
    hl_codes c;
    cr_assert_eq(hl_hasher_encode(&c, h, ctx, &d, idx, NALL, 64), HL_OK, "%s", hl_error_last());
    float *u = malloc((size_t)NALL * K * sizeof *u);
    for (int64_t i = 0; i < NALL; i++)
        for (int k = 0; k < K; k++) u[i * K + k] = hl_codes_bit(&c, i, k) ? 1.0f : -1.0f;
    hl_code_diversity dv = hl_code_diversity_of(u, NALL, K);
    cr_assert(!dv.collapsed && dv.constant_bits == 0, "collapsed: %d constant bits", dv.constant_bits);
    cr_assert(dv.mean_balance > 0.25, "mean bit balance %.3f", dv.mean_balance);
    cr_assert(dv.distinct_frac > 0.3, "%.1f%% distinct codes", 100 * dv.distinct_frac);

    /* invariance: the two views of an image are much closer in Hamming distance than two different images */
    float *x = malloc((size_t)NALL * S * S * sizeof *x), *x0 = malloc((size_t)NALL * S * S * sizeof *x0);
    float *x1 = malloc((size_t)NALL * S * S * sizeof *x1);
    hl_dataset_read(&d, idx, NALL, x);
    hl_views v = {.crop_min = 0.4f, .crop_max = 1, .crop_ratio = 4.0f / 3, .hflip = false, .brightness = 0.4f,
                  .contrast = 0.4f, .blur_p = 0.2f, .blur_sigma_min = 0.1f, .blur_sigma_max = 1, .noise = 0.03f};
    hl_views_batch(&v, x, x0, NALL, 1, S, S, 99, 0, idx, 0);
    hl_views_batch(&v, x, x1, NALL, 1, S, S, 99, 0, idx, 1);
    hl_codes c0, c1;
    cr_assert_eq(hl_hasher_encode_images(&c0, h, ctx, x0, NALL, 64), HL_OK);
    cr_assert_eq(hl_hasher_encode_images(&c1, h, ctx, x1, NALL, 64), HL_OK);
    double same = mean_hamming(&c0, &c1, false), other = mean_hamming(&c0, &c1, true);
    cr_assert(same < 0.6 * other, "views of one image: %.2f bits apart, different images: %.2f", same, other);

    free(u), free(x), free(x0), free(x1);
    hl_codes_free(&c), hl_codes_free(&c0), hl_codes_free(&c1);
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(bthash, bad_view_settings_are_refused) {
    hl_dataset d;
    hl_test_synthetic(&d, 8, 1, 16, 2, 1);
    hl_dataset_info info = hl_dataset_info_of(&d);
    const char *bad[] = {"crop_min", "0.9", "crop_max", "0.5", NULL};
    hl_config *p = hl_test_params(bad);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, "bthash", p, &info, 16, 0), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "crop"), "%s", hl_error_last());
    hl_config_free(p);
    const char *bs[] = {"blur_sigma", "0.5", NULL};
    p = hl_test_params(bs);
    cr_assert_eq(hl_hasher_create(&h, "bthash", p, &info, 16, 0), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "blur_sigma"), "%s", hl_error_last());
    hl_config_free(p);
    hl_dataset_free(&d);
}
