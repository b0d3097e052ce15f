/* eval/attack_metrics.c — targeted success rates and perceptibility; see attack_metrics.h. */
#include "eval/attack_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hl_status hl_attack_tmap(const hl_codes *adv, const hl_labels *target, const hl_codes *db, const hl_labels *dbl,
                         const hl_retrieval_opts *o, hl_retrieval_result *out) {
    if (target->n != adv->n)
        return hl_error_set(HL_EMISMATCH, "t-mAP: %lld adversarial codes but %lld target label rows",
                            (long long)adv->n, (long long)target->n);
    return hl_retrieval_eval(adv, target, db, dbl, o, out, NULL);
}

hl_status hl_attack_tsr_radius(const hl_codes *adv, const hl_codes *target_codes, int radius, double *tsr) {
    *tsr = 0;
    if (adv->n != target_codes->n || adv->bits != target_codes->bits)
        return hl_error_set(HL_EMISMATCH, "TSR: %lld adversarial codes of %d bits but %lld target codes of %d bits",
                            (long long)adv->n, adv->bits, (long long)target_codes->n, target_codes->bits);
    int64_t hits = 0;
    for (int64_t i = 0; i < adv->n; i++)
        hits += hl_hamming(hl_codes_row(adv, i), hl_codes_row(target_codes, i), adv->words) <= radius;
    *tsr = adv->n ? (double)hits / (double)adv->n : 0.0;
    return HL_OK;
}

hl_status hl_attack_tsr_majority(const hl_codes *adv, const hl_labels *target, const hl_codes *db,
                                 const hl_labels *dbl, int64_t k, double *tsr) {
    *tsr = 0;
    HL_ASSERT(k >= 1, "TSR@k-majority: k = %lld", (long long)k);
    if (adv->n != target->n || adv->bits != db->bits || target->nlabels != dbl->nlabels || db->n != dbl->n)
        return hl_error_set(HL_EMISMATCH,
                            "TSR@k-majority: %lld adversarial codes (%d bits) with %lld target rows (%d labels) "
                            "against %lld database codes (%d bits) with %lld label rows (%d labels)",
                            (long long)adv->n, adv->bits, (long long)target->n, target->nlabels, (long long)db->n,
                            db->bits, (long long)dbl->n, dbl->nlabels);
    if (db->n == 0) return hl_error_set(HL_EINVAL, "TSR@k-majority: empty database");
    if (adv->n == 0) return HL_OK;
    int64_t kk = HL_MIN(k, db->n), chunk = HL_MIN(adv->n, (int64_t)4096);
    int64_t *idx = malloc((size_t)(chunk * kk) * sizeof *idx);
    if (!idx) return hl_error_set(HL_ENOMEM, "TSR@k-majority: out of memory for %lld x %lld indices",
                                  (long long)chunk, (long long)kk);
    hl_status st = HL_OK;
    int64_t hits = 0;
    for (int64_t q0 = 0; q0 < adv->n; q0 += chunk) {
        int64_t m = HL_MIN(chunk, adv->n - q0);
        hl_codes view = *adv; /* rows q0 .. q0+m, not owned */
        view.n = m;
        view.w = adv->w + q0 * adv->words;
        HL_TRY(hl_retrieval_topk(&view, db, kk, idx, NULL));
        for (int64_t i = 0; i < m; i++) {
            int64_t rel = 0;
            for (int64_t j = 0; j < kk; j++) rel += hl_labels_relevant(target, q0 + i, dbl, idx[i * kk + j]);
            hits += 2 * rel > kk;
        }
    }
    *tsr = (double)hits / (double)adv->n;
done:
    free(idx);
    return st;
}

/* ==== perceptibility ================================================================================================ */

#define SSIM_WIN 11
#define SSIM_RADIUS 5

double hl_attack_ssim(const float *x, const float *y, int c, int h, int w) {
    HL_ASSERT(c >= 1 && h >= 1 && w >= 1, "image %dx%dx%d", c, h, w);
    if (h < SSIM_WIN || w < SSIM_WIN) return NAN;
    double g[SSIM_WIN], gs = 0;
    for (int t = 0; t < SSIM_WIN; t++) gs += g[t] = exp(-(double)(t - SSIM_RADIUS) * (t - SSIM_RADIUS) / (2 * 1.5 * 1.5));
    for (int t = 0; t < SSIM_WIN; t++) g[t] /= gs;
    const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
    int ow = w - (SSIM_WIN - 1), oh = h - (SSIM_WIN - 1);
    double *rows = malloc((size_t)5 * (size_t)h * (size_t)ow * sizeof *rows); /* horizontal pass: x y xx yy xy */
    HL_ASSERT(rows, "out of memory for SSIM scratch (%dx%d)", h, w);
    double total = 0;
    for (int ch = 0; ch < c; ch++) {
        const float *xc = x + (size_t)ch * h * w, *yc = y + (size_t)ch * h * w;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < ow; j++) {
                double s[5] = {0};
                for (int t = 0; t < SSIM_WIN; t++) {
                    double a = xc[(size_t)i * w + j + t], b = yc[(size_t)i * w + j + t], gt = g[t];
                    s[0] += gt * a, s[1] += gt * b, s[2] += gt * a * a, s[3] += gt * b * b, s[4] += gt * a * b;
                }
                for (int q = 0; q < 5; q++) rows[((size_t)q * h + i) * ow + j] = s[q];
            }
        double sum = 0;
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                double m[5] = {0};
                for (int t = 0; t < SSIM_WIN; t++)
                    for (int q = 0; q < 5; q++) m[q] += g[t] * rows[((size_t)q * h + i + t) * ow + j];
                double vx = m[2] - m[0] * m[0], vy = m[3] - m[1] * m[1], vxy = m[4] - m[0] * m[1];
                sum += (2 * m[0] * m[1] + C1) * (2 * vxy + C2) / ((m[0] * m[0] + m[1] * m[1] + C1) * (vx + vy + C2));
            }
        total += sum / ((double)oh * ow);
    }
    free(rows);
    return total / c;
}

hl_status hl_attack_percept(const float *clean, const float *adv, int c, int h, int w, hl_percept *out) {
    HL_ASSERT(c >= 1 && h >= 1 && w >= 1, "image %dx%dx%d", c, h, w);
    memset(out, 0, sizeof *out);
    int64_t n = (int64_t)c * h * w;
    double se = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(clean[i]) || !isfinite(adv[i]))
            return hl_error_set(HL_ENUMERIC, "perceptibility: non-finite pixel at index %lld (clean %g, adv %g)",
                                (long long)i, (double)clean[i], (double)adv[i]);
        double d = (double)adv[i] - (double)clean[i];
        se += d * d;
        mx = HL_MAX(mx, fabs(d));
    }
    double mse = se / (double)n;
    out->pert_rmse = sqrt(mse);
    out->linf_255 = 255.0 * mx;
    out->identical = mse == 0.0;
    out->psnr = mse == 0.0 ? INFINITY : 10.0 * log10(1.0 / mse);
    out->ssim = hl_attack_ssim(clean, adv, c, h, w);
    return HL_OK;
}

hl_status hl_attack_percept_batch(const float *clean, const float *adv, int64_t n, int c, int h, int w,
                                  hl_percept *summary, hl_percept *per_image) {
    memset(summary, 0, sizeof *summary);
    size_t img = (size_t)c * h * w;
    double psnr_sum = 0;
    for (int64_t i = 0; i < n; i++) {
        hl_percept p;
        hl_status st = hl_attack_percept(clean + i * img, adv + i * img, c, h, w, &p);
        if (st < 0) return hl_error_wrap("image %lld", (long long)i);
        if (per_image) per_image[i] = p;
        summary->pert_rmse += p.pert_rmse;
        summary->ssim += p.ssim;
        summary->linf_255 = HL_MAX(summary->linf_255, p.linf_255);
        summary->identical += p.identical;
        if (!p.identical) psnr_sum += p.psnr;
    }
    if (n > 0) {
        summary->pert_rmse /= (double)n;
        summary->ssim /= (double)n;
    }
    summary->psnr = summary->identical == n ? INFINITY : psnr_sum / (double)(n - summary->identical);
    return HL_OK;
}

void hl_attack_quantize8(float *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double v = src[i];
        v = v > 1.0 ? 1.0 : v >= 0.0 ? v : 0.0; /* NaN -> 0 */
        dst[i] = (float)(floor(v * 255.0 + 0.5) / 255.0);
    }
}
