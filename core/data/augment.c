/* core/data/augment.c — random crop with zero padding and horizontal flip; see augment.h. */
#include "core/data/augment.h"

#include <string.h>

#include "core/rng.h"

hl_augment_params hl_augment_draw(const hl_augment *a, uint64_t seed, int64_t epoch, int64_t sample) {
    HL_ASSERT(a && a->crop_pad >= 0 && epoch >= 0, "augment: pad %d, epoch %lld", a ? a->crop_pad : -1,
              (long long)epoch);
    uint32_t wd[4];
    hl_philox(seed, HL_AUGMENT_STREAM + (uint64_t)epoch, (uint64_t)sample, wd);
    uint64_t span = 2 * (uint64_t)a->crop_pad + 1;
    hl_augment_params p = {a->crop_pad, a->crop_pad, false};
    if (a->crop_pad > 0) {
        p.dy = (int)(((uint64_t)wd[0] * span) >> 32);
        p.dx = (int)(((uint64_t)wd[1] * span) >> 32);
    }
    p.flip = a->hflip && (wd[2] >> 31);
    return p;
}

void hl_augment_image(const float *src, float *dst, int c, int h, int w, int pad, hl_augment_params par) {
    HL_ASSERT(pad >= 0 && par.dy >= 0 && par.dy <= 2 * pad && par.dx >= 0 && par.dx <= 2 * pad,
              "augment: offset (%d, %d) outside [0, %d]", par.dy, par.dx, 2 * pad);
    int sy = par.dy - pad, sx = par.dx - pad;
    for (int ch = 0; ch < c; ch++) {
        const float *s = src + (int64_t)ch * h * w;
        float *d = dst + (int64_t)ch * h * w;
        for (int y = 0; y < h; y++) {
            float *row = d + (int64_t)y * w;
            int yy = y + sy;
            if (yy < 0 || yy >= h) {
                memset(row, 0, (size_t)w * sizeof *row);
                continue;
            }
            const float *srow = s + (int64_t)yy * w;
            for (int x = 0; x < w; x++) {
                int xx = (par.flip ? w - 1 - x : x) + sx;
                row[x] = xx >= 0 && xx < w ? srow[xx] : 0.0f;
            }
        }
    }
}

void hl_augment_batch(const hl_augment *a, const float *src, float *dst, int64_t B, int c, int h, int w,
                      uint64_t seed, int64_t epoch, const int64_t *samples) {
    int64_t sz = (int64_t)c * h * w;
    HL_ASSERT(src + B * sz <= dst || dst + B * sz <= src, "augment: src and dst overlap");
#pragma omp parallel for schedule(static) if (B * sz > 1 << 15)
    for (int64_t b = 0; b < B; b++)
        hl_augment_image(src + b * sz, dst + b * sz, c, h, w, a->crop_pad,
                         hl_augment_draw(a, seed, epoch, samples[b]));
}
