/* core/data/augment_views.h — the random "views" of self-supervised learning (Barlow Twins, SimCLR): random resized
 * crop, horizontal flip, brightness/contrast jitter, Gaussian blur and Gaussian noise, sized for small images
 * (28×28 grey, 32×32 RGB). core/data/augment.h keeps the supervised training augmentation (padded crop + flip).
 *
 * For one image x [C, H, W] in [0, 1], in this order:
 *   1. random resized crop: area share s ~ U[crop_min, crop_max], aspect ratio r = exp(U[−ln R, ln R]) with
 *      R = crop_ratio (width / height); window w = min(W, √(s·r)·W), h = min(H, √(s/r)·H) (real-valued), its
 *      top-left corner (y0, x0) uniform in [0, H − h] × [0, W − w]; the window is resized to H × W by bilinear
 *      sampling at the output pixel centres: source y = y0 + (i + ½)·h/H − ½ (x alike), clamped to the image
 *      (torchvision's RandomResizedCrop without the retry loop; crop_min = crop_max = 1 is the identity);
 *   2. horizontal flip with probability ½ when hflip: out[c, i, j] = in[c, i, W − 1 − j];
 *   3. brightness and contrast: x ← (x − m)·a + m + b, m the image's mean over all channels, a ~ U[1 − contrast,
 *      1 + contrast], b ~ U[−brightness, brightness]; clamped to [0, 1];
 *   4. Gaussian blur with probability blur_p: σ ~ U[blur_sigma_min, blur_sigma_max], separable kernel
 *      exp(−t²/2σ²)/Σ over t ∈ [−⌈2σ⌉, ⌈2σ⌉] (at most HL_VIEWS_MAX_RADIUS), replicated borders, each channel;
 *   5. Gaussian noise: x ← clamp(x + noise·N(0, 1), 0, 1) per pixel.
 *
 * Randomness is a pure function of (seed, epoch, sample, view): the parameters of step 1–4 come from Philox blocks
 * 4·sample + j (j = 0, 1, 2) of stream HL_VIEWS_STREAM + 2·epoch + view (words in order: s, r, y0, x0 | flip, a,
 * b, blur coin | σ; each word w gives the uniform w / 2³²), the noise of pixel p from hl_rng_normal_at(seed, HL_VIEWS_NOISE_STREAM + 2·epoch + view,
 * sample·C·H·W + p). Never dependent on batch size, batch position or threads. view is 0 or 1.
 */
#ifndef HL_AUGMENT_VIEWS_H
#define HL_AUGMENT_VIEWS_H

#include "core/common.h"

#define HL_VIEWS_STREAM 0x5649455700000000ull       /* "VIEW": + 2·epoch + view */
#define HL_VIEWS_NOISE_STREAM 0x564e4f4900000000ull /* "VNOI": + 2·epoch + view */
#define HL_VIEWS_MAX_RADIUS 8

typedef struct hl_views {
    float crop_min, crop_max; /* area share of the crop window, 0 < crop_min <= crop_max <= 1 */
    float crop_ratio;         /* R >= 1: aspect ratios in [1/R, R] (log-uniform) */
    bool hflip;
    float brightness;         /* >= 0 */
    float contrast;           /* in [0, 1] */
    float blur_p;             /* in [0, 1] */
    float blur_sigma_min, blur_sigma_max; /* 0 < min <= max */
    float noise;              /* std of the additive noise, >= 0 */
} hl_views;

typedef struct hl_views_params {
    float y0, x0, h, w;  /* crop window (pixels, real) */
    bool flip;
    float a, b;          /* contrast factor, brightness offset */
    float sigma;         /* blur σ, 0 = no blur */
} hl_views_params;

/* HL_EINVAL naming the first value out of its range (see the struct). */
hl_status hl_views_check(const hl_views *v);
/* The parameters of (sample, view) in epoch for images h × w. */
hl_views_params hl_views_draw(const hl_views *v, int h, int w, uint64_t seed, int64_t epoch, int64_t sample,
                              int view);
/* dst [C, H, W] = steps 1–4 of src with parameters par (src, dst must not overlap); no noise. */
void hl_views_apply(const float *src, float *dst, int c, int h, int w, const hl_views_params *par);
/* dst [B, C, H, W] = the view `view` of each src image b, sample samples[b], noise included. Parallel over images;
 * the result does not depend on the thread count. */
void hl_views_batch(const hl_views *v, const float *src, float *dst, int64_t B, int c, int h, int w, uint64_t seed,
                    int64_t epoch, const int64_t *samples, int view);

#endif
