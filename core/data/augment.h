/* core/data/augment.h — training augmentation: random crop with zero padding, random horizontal flip.
 *
 * On float images [B, C, H, W]. For one image x [C, H, W], padding p and offset (dy, dx) in [0, 2p]²:
 *     crop[c, y, x'] = x[c, y + dy − p, x' + dx − p]   (0 outside the image: the zero padding)
 * i.e. pad by p on every side, then take the H × W window whose top-left corner is (dy, dx); offset (p, p) is the
 * identity. Then, when flipped, out[c, y, x'] = crop[c, y, W − 1 − x'] (crop first, then flip, as torchvision's
 * RandomCrop + RandomHorizontalFlip).
 *
 * Randomness is a pure function of (seed, epoch, sample index): the parameters of a sample come from Philox block
 * `sample` of stream HL_AUGMENT_STREAM + epoch — word 0 → dy, word 1 → dx (each ⌊w · (2p+1) / 2³²⌋, bias below
 * (2p+1)/2³²), word 2's top bit → flip (probability 1/2). Flips do not depend on p, so turning the crop on or off
 * leaves them unchanged. Results never depend on batch size, batch composition or thread count.
 */
#ifndef HL_AUGMENT_H
#define HL_AUGMENT_H

#include "core/common.h"

#define HL_AUGMENT_STREAM 0x4155474D00000000ull /* "AUGM": + epoch */

typedef struct hl_augment {
    int crop_pad; /* random crop with zero padding p >= 0 (0: no crop) */
    bool hflip;   /* random horizontal flip with probability 1/2 */
} hl_augment;

typedef struct hl_augment_params {
    int dy, dx; /* crop offset in [0, 2p]; (p, p) = no shift */
    bool flip;
} hl_augment_params;

static inline bool hl_augment_enabled(const hl_augment *a) { return a && (a->crop_pad > 0 || a->hflip); }

/* The parameters of `sample` in `epoch` (epoch >= 0). Disabled parts give dy = dx = p (identity) and no flip. */
hl_augment_params hl_augment_draw(const hl_augment *a, uint64_t seed, int64_t epoch, int64_t sample);
/* dst [C, H, W] = the transform of src with padding p and parameters par (src and dst must not overlap). */
void hl_augment_image(const float *src, float *dst, int c, int h, int w, int pad, hl_augment_params par);
/* dst [B, C, H, W] = each src image transformed with hl_augment_draw(a, seed, epoch, samples[b]); src and dst
 * must not overlap. Parallel over images (OpenMP); the result is independent of the thread count. */
void hl_augment_batch(const hl_augment *a, const float *src, float *dst, int64_t B, int c, int h, int w,
                      uint64_t seed, int64_t epoch, const int64_t *samples);

#endif
