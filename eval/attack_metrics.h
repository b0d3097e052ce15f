/* eval/attack_metrics.h — targeted-attack success and perceptibility, as ../shared/METRICS.md "Attack metrics" says.
 *
 * Retrieval side (codes are packed, core/codes.h; relevance = a shared label, core/labels.h):
 *   - mAP@R(adv) needs no helper: hl_retrieval_eval(adv codes, TRUE query labels, db, db labels).
 *   - t-mAP@R = hl_retrieval_eval(adv codes, TARGET labels, db, db labels): the adversarial codes judged against the
 *     target label sets. METRICS.md's default R is all (opts->topk <= 0). t-mAP@R(clean) and t-mAP@R(anchor) are
 *     the same call with the clean query codes or the target/anchor codes in place of the adversarial ones.
 *   - TSR@H≤r = (1/n) · #{i : d(adv_i, target_code_i) <= r}.
 *   - TSR@k-majority = (1/n) · #{i : 2 · rel_i > k'} where k' = min(k, database size) and rel_i is the number of
 *     items among query i's top k' (stable ranking: distance, then database index — hl_retrieval_topk) whose label
 *     set shares a label with target_i. Exactly half (2 · rel = k') is NOT a majority.
 *
 * Perceptibility of one image pair, clean x and adversarial y, float [c, h, w] in [0,1] (any real values are
 * accepted; non-finite values are HL_ENUMERIC), all sums in double:
 *   - pert_rmse = sqrt(mean (y − x)²) over the c·h·w values;
 *   - linf_255  = 255 · max |y − x|;
 *   - psnr      = 10 · log10(1 / mse) (peak 1); +INFINITY when the images are identical (mse = 0; `identical` = 1);
 *   - ssim      = the mean over channels of the mean SSIM map over the VALID window positions, i.e. skimage's
 *     structural_similarity(x, y, data_range=1, channel_axis=0, gaussian_weights=True, sigma=1.5,
 *     use_sample_covariance=False) (win_size 11, truncate 3.5): a separable Gaussian window of 11 taps,
 *     g[t] ∝ exp(−(t−5)² / (2·1.5²)) normalised to sum 1; at each position where the 11×11 window fits inside the
 *     image (the (h−10)×(w−10) positions skimage keeps after cropping 5 pixels of border), local means μx, μy,
 *     variances σx² = E[x²] − μx², σy², covariance σxy = E[xy] − μxμy (population weights, no N/(N−1)),
 *     SSIM = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)), C1 = 0.01², C2 = 0.03².
 *     Images smaller than 11×11 have no valid position: ssim = NaN (not an error; the other metrics are reported).
 * Batch summary (hl_attack_percept_batch) over n pairs: pert_rmse and ssim = mean of the per-image values;
 * linf_255 = max over images; psnr = mean over the NON-identical images (+INFINITY when all are identical);
 * identical = the number of identical pairs.
 *
 * Quantisation (what survives saving as 8-bit PNG): q(x) = floor(clamp(x, 0, 1) · 255 + 0.5) / 255, computed in
 * double — round half up, as torchvision's save_image does; METRICS.md's round(x·255)/255 for x in [0,1]. Values
 * outside [0,1] are clamped first (as saving does); NaN becomes 0.
 */
#ifndef HL_EVAL_ATTACK_METRICS_H
#define HL_EVAL_ATTACK_METRICS_H

#include "eval/retrieval.h"

/* t-mAP@R: adversarial codes `adv` scored with target label sets `target` (one row per adversarial code). */
hl_status hl_attack_tmap(const hl_codes *adv, const hl_labels *target, const hl_codes *db, const hl_labels *dbl,
                         const hl_retrieval_opts *o, hl_retrieval_result *out);

/* TSR@H≤radius: target_codes has one row per adversarial code (same n and bits; else HL_EMISMATCH). n = 0 -> 0. */
hl_status hl_attack_tsr_radius(const hl_codes *adv, const hl_codes *target_codes, int radius, double *tsr);

/* TSR@k-majority (k >= 1). Errors: row counts of adv and target differ, bits or label counts differ, empty
 * database. Memory O(min(n, 4096) · k) (queries in chunks). */
hl_status hl_attack_tsr_majority(const hl_codes *adv, const hl_labels *target, const hl_codes *db,
                                 const hl_labels *dbl, int64_t k, double *tsr);

typedef struct hl_percept {
    double pert_rmse, linf_255, psnr, ssim;
    int64_t identical; /* image pairs with mse = 0 (1 or 0 for a single pair) */
} hl_percept;

/* One image pair [c, h, w]. */
hl_status hl_attack_percept(const float *clean, const float *adv, int c, int h, int w, hl_percept *out);
/* n pairs [n, c, h, w]: *summary as above; per_image (NULL or [n]) the per-pair values. */
hl_status hl_attack_percept_batch(const float *clean, const float *adv, int64_t n, int c, int h, int w,
                                  hl_percept *summary, hl_percept *per_image);
/* SSIM of one image pair [c, h, w] as above (NaN when h < 11 or w < 11). */
double hl_attack_ssim(const float *x, const float *y, int c, int h, int w);

/* dst[i] = q(src[i]) (dst may equal src). */
void hl_attack_quantize8(float *dst, const float *src, int64_t n);

#endif
