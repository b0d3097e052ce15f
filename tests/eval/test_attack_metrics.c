/* tests/eval/test_attack_metrics.c — TSR@H≤r, TSR@k-majority, t-mAP wiring, perceptibility (pert_rmse, linf_255,
 * PSNR, SSIM) and 8-bit quantisation, on hand-worked examples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/attack_metrics.h"
#include "test_common.h"

/* Codes from strings of '0'/'1' (character k = bit k). */
static void codes_of(hl_codes *c, int n, const char *const *s) {
    int k = (int)strlen(s[0]);
    cr_assert_eq(hl_codes_create(c, n, k), HL_OK);
    for (int i = 0; i < n; i++)
        for (int b = 0; b < k; b++) hl_codes_set_bit(c, i, b, s[i][b] == '1');
}

static void labels_of(hl_labels *l, int n, int nlabels, const int64_t *ids) {
    cr_assert_eq(hl_labels_from_class_ids(l, ids, n, nlabels), HL_OK);
}

/* The database of the hand examples: j0 0000 (label 1), j1 1000 (0), j2 0100 (1), j3 1100 (0), j4 1110 (0).
 * From the query 0000 the stable ranking is j0 (d 0), j1 (1), j2 (1), j3 (2), j4 (3). */
static const char *const DB[5] = {"0000", "1000", "0100", "1100", "1110"};
static const int64_t DBL[5] = {1, 0, 1, 0, 0};

Test(attack_metrics, tsr_radius_at_0_and_2) {
    hl_codes adv, tgt;
    const char *a[4] = {"10110", "10110", "10110", "10110"};
    const char *t[4] = {"10110", "00110", "01110", "01010"}; /* distances 0, 1, 2, 3 */
    codes_of(&adv, 4, a);
    codes_of(&tgt, 4, t);
    double tsr;
    cr_assert_eq(hl_attack_tsr_radius(&adv, &tgt, 0, &tsr), HL_OK);
    cr_assert_eq(tsr, 0.25);
    cr_assert_eq(hl_attack_tsr_radius(&adv, &tgt, 2, &tsr), HL_OK);
    cr_assert_eq(tsr, 0.75);
    cr_assert_eq(hl_attack_tsr_radius(&adv, &tgt, 3, &tsr), HL_OK);
    cr_assert_eq(tsr, 1.0);
    hl_codes three;
    codes_of(&three, 3, t);
    cr_assert_eq(hl_attack_tsr_radius(&adv, &three, 2, &tsr), HL_EMISMATCH);
    hl_codes_free(&three);
    hl_codes_free(&adv);
    hl_codes_free(&tgt);
}

Test(attack_metrics, perceptibility_by_hand) {
    /* One channel, 1x4: δ = (0.25, −0.125, 0, 0.5): mse = (1/16 + 1/64 + 0 + 1/4) / 4 = 0.08203125. */
    float clean[4] = {0.5f, 0.5f, 0.25f, 0.0f}, adv[4] = {0.75f, 0.375f, 0.25f, 0.5f};
    hl_percept p;
    cr_assert_eq(hl_attack_percept(clean, adv, 1, 1, 4, &p), HL_OK);
    cr_assert_float_eq(p.pert_rmse, sqrt(0.08203125), 1e-15);
    cr_assert_eq(p.linf_255, 127.5);
    cr_assert_float_eq(p.psnr, 10.0 * log10(1.0 / 0.08203125), 1e-12);
    cr_assert_float_eq(p.psnr, 10.860206705779303, 1e-12);
    cr_assert(isnan(p.ssim), "ssim of a 1x4 image must be NaN, got %g", p.ssim);
    cr_assert_eq(p.identical, 0);
    /* Identical images: PSNR +inf, zero perturbation. */
    cr_assert_eq(hl_attack_percept(clean, clean, 1, 1, 4, &p), HL_OK);
    cr_assert(p.pert_rmse == 0 && p.linf_255 == 0 && isinf(p.psnr) && p.psnr > 0 && p.identical == 1);
    /* Batch: [changed, identical]: mean rmse, max linf, PSNR over the non-identical image only. */
    float cb[8], ab[8];
    memcpy(cb, clean, sizeof clean), memcpy(cb + 4, clean, sizeof clean);
    memcpy(ab, adv, sizeof adv), memcpy(ab + 4, clean, sizeof clean);
    hl_percept s, per[2];
    cr_assert_eq(hl_attack_percept_batch(cb, ab, 2, 1, 1, 4, &s, per), HL_OK);
    cr_assert_float_eq(s.pert_rmse, sqrt(0.08203125) / 2, 1e-15);
    cr_assert_eq(s.linf_255, 127.5);
    cr_assert_float_eq(s.psnr, 10.860206705779303, 1e-12);
    cr_assert_eq(s.identical, 1);
    cr_assert(per[1].identical == 1 && per[0].linf_255 == 127.5);
    cr_assert_eq(hl_attack_percept_batch(cb, cb, 2, 1, 1, 4, &s, NULL), HL_OK);
    cr_assert(isinf(s.psnr) && s.identical == 2);
    /* Non-finite pixels are an error. */
    adv[2] = NAN;
    cr_assert_eq(hl_attack_percept(clean, adv, 1, 1, 4, &p), HL_ENUMERIC);
    cr_assert_eq(hl_attack_percept_batch(cb, ab, 2, 1, 1, 4, &s, NULL), HL_OK);
    ab[6] = INFINITY;
    cr_assert_eq(hl_attack_percept_batch(cb, ab, 2, 1, 1, 4, &s, NULL), HL_ENUMERIC);
    cr_assert(strstr(hl_error_last(), "image 1"), "%s", hl_error_last());
}

/* Straightforward SSIM: the full 11x11 Gaussian window (outer product) at every valid position. */
static double ssim_reference(const float *x, const float *y, int c, int h, int w) {
    double g[11], gs = 0;
    for (int t = 0; t < 11; t++) gs += g[t] = exp(-(t - 5.0) * (t - 5.0) / 4.5);
    for (int t = 0; t < 11; t++) g[t] /= gs;
    double total = 0;
    for (int ch = 0; ch < c; ch++) {
        double sum = 0;
        for (int i = 0; i + 11 <= h; i++)
            for (int j = 0; j + 11 <= w; j++) {
                double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
                for (int u = 0; u < 11; u++)
                    for (int v = 0; v < 11; v++) {
                        double wt = g[u] * g[v];
                        double a = x[(ch * h + i + u) * w + j + v], b = y[(ch * h + i + u) * w + j + v];
                        mx += wt * a, my += wt * b, sxx += wt * a * a, syy += wt * b * b, sxy += wt * a * b;
                    }
                double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
                sum += (2 * mx * my + 1e-4) * (2 * cxy + 9e-4) / ((mx * mx + my * my + 1e-4) * (vx + vy + 9e-4));
            }
        total += sum / ((h - 10) * (w - 10));
    }
    return total / c;
}

Test(attack_metrics, ssim_identical_offset_and_reference) {
    enum { C = 3, H = 16, W = 13 };
    float *x = malloc(C * H * W * sizeof *x), *y = malloc(C * H * W * sizeof *y);
    hl_rng r = hl_rng_make(11, 0);
    hl_rng_uniform(&r, x, C * H * W, 0.0f, 1.0f);
    cr_assert_float_eq(hl_attack_ssim(x, x, C, H, W), 1.0, 1e-12);
    /* Constant images 0.5 and 0.625: variances and covariance vanish, SSIM = (2·0.5·0.625 + C1)/(0.5² + 0.625² + C1). */
    for (int i = 0; i < C * H * W; i++) x[i] = 0.5f, y[i] = 0.625f;
    double want = (2 * 0.5 * 0.625 + 1e-4) / (0.25 + 0.390625 + 1e-4);
    cr_assert_float_eq(hl_attack_ssim(x, y, C, H, W), want, 1e-12, "%.15f vs %.15f", hl_attack_ssim(x, y, C, H, W), want);
    cr_assert_float_eq(want, 0.9756135627609349, 1e-12);
    /* Random images against the brute-force window. */
    hl_rng_uniform(&r, x, C * H * W, 0.0f, 1.0f);
    for (int i = 0; i < C * H * W; i++) y[i] = x[i] + 0.1f * hl_rng_uniform_at(3, 0, (uint64_t)i) - 0.05f;
    double got = hl_attack_ssim(x, y, C, H, W), ref = ssim_reference(x, y, C, H, W);
    cr_assert_float_eq(got, ref, 1e-12, "%.15f vs %.15f", got, ref);
    cr_assert(got > 0.5 && got < 1.0);
    /* Exactly 11x11: one window position. Smaller: NaN. */
    cr_assert_float_eq(hl_attack_ssim(x, y, 1, 11, 11), ssim_reference(x, y, 1, 11, 11), 1e-12);
    cr_assert(isnan(hl_attack_ssim(x, y, 1, 10, 11)) && isnan(hl_attack_ssim(x, y, 1, 11, 10)));
    /* percept uses the same SSIM. */
    hl_percept p;
    cr_assert_eq(hl_attack_percept(x, y, C, H, W, &p), HL_OK);
    cr_assert_eq(p.ssim, got);
    free(x);
    free(y);
}

Test(attack_metrics, quantize_8bit) {
    float in[9] = {0.0f, 1.0f, 0.5f, 0.2f, 1.2f, -0.3f, NAN, 127.4f / 255.0f, 3.0f / 255.0f};
    float out[9];
    hl_attack_quantize8(out, in, 9);
    float want[9] = {0.0f, 1.0f, 128.0f / 255.0f, 51.0f / 255.0f, 1.0f, 0.0f, 0.0f, 127.0f / 255.0f, 3.0f / 255.0f};
    for (int i = 0; i < 9; i++) cr_assert_eq(out[i], want[i], "element %d: %.9g vs %.9g", i, out[i], want[i]);
    hl_attack_quantize8(in, in, 9); /* in place */
    cr_assert_eq(in[2], 128.0f / 255.0f);
    /* Idempotent on the 256 levels. */
    for (int v = 0; v < 256; v++) {
        float a = (float)v / 255.0f, b;
        hl_attack_quantize8(&b, &a, 1);
        cr_assert_eq(a, b, "level %d", v);
    }
}

Test(attack_metrics, tsr_k_majority_ties_are_not_a_majority) {
    hl_codes db, adv;
    hl_labels dbl, tgt;
    codes_of(&db, 5, DB);
    labels_of(&dbl, 5, 2, DBL);
    const char *a[2] = {"0000", "0000"};
    codes_of(&adv, 2, a);
    int64_t t[2] = {0, 1};
    labels_of(&tgt, 2, 2, t);
    /* Relevant counts in the top k (query 0, target 0 | query 1, target 1):
     * k=1: 0|1 -> {no, yes}; k=2: 1|1 -> exactly half, {no, no}; k=3: 1|2 -> {no, yes}; k=5: 3|2 -> {yes, no}. */
    static const struct { int64_t k; double want; } cases[] = {{1, 0.5}, {2, 0.0}, {3, 0.5}, {4, 0.0}, {5, 0.5},
                                                                {100, 0.5}};
    for (size_t i = 0; i < HL_ARRAY_LEN(cases); i++) {
        double tsr = -1;
        cr_assert_eq(hl_attack_tsr_majority(&adv, &tgt, &db, &dbl, cases[i].k, &tsr), HL_OK, "%s", hl_error_last());
        cr_assert_eq(tsr, cases[i].want, "k=%lld: %g", (long long)cases[i].k, tsr);
    }
    double tsr;
    hl_labels wrong;
    labels_of(&wrong, 2, 3, t);
    cr_assert_eq(hl_attack_tsr_majority(&adv, &wrong, &db, &dbl, 2, &tsr), HL_EMISMATCH);
    hl_labels_free(&wrong);
    hl_labels_free(&tgt);
    labels_of(&tgt, 1, 2, t);
    cr_assert_eq(hl_attack_tsr_majority(&adv, &tgt, &db, &dbl, 2, &tsr), HL_EMISMATCH);
    hl_codes_free(&db);
    hl_codes_free(&adv);
    hl_labels_free(&dbl);
    hl_labels_free(&tgt);
}

Test(attack_metrics, tmap_uses_target_labels) {
    hl_codes db, adv;
    hl_labels dbl, tgt, truth;
    codes_of(&db, 5, DB);
    labels_of(&dbl, 5, 2, DBL);
    const char *a[2] = {"0000", "0000"};
    codes_of(&adv, 2, a);
    /* Target 0: relevant at positions 2, 4, 5 -> AP = (1/2 + 2/4 + 3/5)/3 = 8/15.
     * Target 1: relevant at positions 1, 3 -> AP = (1 + 2/3)/2 = 5/6. t-mAP@all = (8/15 + 5/6)/2 = 41/60. */
    int64_t t[2] = {0, 1}, tr[2] = {1, 1};
    labels_of(&tgt, 2, 2, t);
    labels_of(&truth, 2, 2, tr);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    hl_retrieval_result res;
    cr_assert_eq(hl_attack_tmap(&adv, &tgt, &db, &dbl, &o, &res), HL_OK, "%s", hl_error_last());
    cr_assert_float_eq(res.map, 41.0 / 60.0, 1e-12, "%.15f", res.map);
    /* With the true labels (both 1) it is the untargeted mAP(adv) = 5/6: the target labels make the difference. */
    cr_assert_eq(hl_retrieval_eval(&adv, &truth, &db, &dbl, &o, &res, NULL), HL_OK);
    cr_assert_float_eq(res.map, 5.0 / 6.0, 1e-12);
    hl_labels_free(&truth);
    labels_of(&truth, 1, 2, t);
    cr_assert_eq(hl_attack_tmap(&adv, &truth, &db, &dbl, &o, &res), HL_EMISMATCH);
    hl_codes_free(&db);
    hl_codes_free(&adv);
    hl_labels_free(&dbl);
    hl_labels_free(&tgt);
    hl_labels_free(&truth);
}
