/* core/data/augment_views.c — random views for self-supervised learning; see augment_views.h. */
#include "core/data/augment_views.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

hl_status hl_views_check(const hl_views *v) {
    if (!(v->crop_min > 0 && v->crop_min <= v->crop_max && v->crop_max <= 1))
        return hl_error_set(HL_EINVAL, "views: crop area shares [%g, %g] must satisfy 0 < min <= max <= 1",
                            v->crop_min, v->crop_max);
    if (!(v->crop_ratio >= 1)) return hl_error_set(HL_EINVAL, "views: crop_ratio %g must be >= 1", v->crop_ratio);
    if (!(v->brightness >= 0)) return hl_error_set(HL_EINVAL, "views: brightness %g must be >= 0", v->brightness);
    if (!(v->contrast >= 0 && v->contrast <= 1))
        return hl_error_set(HL_EINVAL, "views: contrast %g must be in [0, 1]", v->contrast);
    if (!(v->blur_p >= 0 && v->blur_p <= 1))
        return hl_error_set(HL_EINVAL, "views: blur probability %g must be in [0, 1]", v->blur_p);
    if (!(v->blur_sigma_min > 0 && v->blur_sigma_min <= v->blur_sigma_max))
        return hl_error_set(HL_EINVAL, "views: blur sigma range [%g, %g] must satisfy 0 < min <= max",
                            v->blur_sigma_min, v->blur_sigma_max);
    if (!(v->noise >= 0)) return hl_error_set(HL_EINVAL, "views: noise %g must be >= 0", v->noise);
    return HL_OK;
}

static inline float unit(uint32_t w) { return (float)((double)w / 4294967296.0); }

hl_views_params hl_views_draw(const hl_views *v, int h, int w, uint64_t seed, int64_t epoch, int64_t sample,
                              int view) {
    HL_ASSERT(epoch >= 0 && (view == 0 || view == 1), "views: epoch %lld, view %d", (long long)epoch, view);
    uint32_t a[4], b[4], c[4];
    uint64_t stream = HL_VIEWS_STREAM + 2 * (uint64_t)epoch + (uint64_t)view;
    hl_philox(seed, stream, 4 * (uint64_t)sample, a);
    hl_philox(seed, stream, 4 * (uint64_t)sample + 1, b);
    hl_philox(seed, stream, 4 * (uint64_t)sample + 2, c);
    hl_views_params p;
    double s = v->crop_min + (v->crop_max - v->crop_min) * unit(a[0]);
    double lr = log(v->crop_ratio), r = exp(-lr + 2 * lr * unit(a[1]));
    p.w = (float)fmin((double)w, sqrt(s * r) * w);
    p.h = (float)fmin((double)h, sqrt(s / r) * h);
    p.y0 = (float)((h - p.h) * unit(a[2]));
    p.x0 = (float)((w - p.w) * unit(a[3]));
    p.flip = v->hflip && (b[0] >> 31);
    p.a = 1 - v->contrast + 2 * v->contrast * unit(b[1]);
    p.b = -v->brightness + 2 * v->brightness * unit(b[2]);
    p.sigma = unit(b[3]) < v->blur_p ? v->blur_sigma_min + (v->blur_sigma_max - v->blur_sigma_min) * unit(c[0]) : 0;
    return p;
}

/* Bilinear source coordinates of output index i (n outputs over a window [o, o + len) of an axis of size n). */
static inline void src_coord(float o, float len, int n, int i, int *lo, int *hi, float *f) {
    float s = o + ((float)i + 0.5f) * len / (float)n - 0.5f;
    if (s < 0) s = 0;
    if (s > (float)(n - 1)) s = (float)(n - 1);
    *lo = (int)s;
    *hi = *lo + 1 < n ? *lo + 1 : *lo;
    *f = s - (float)*lo;
}

/* In-place separable Gaussian blur of one channel [h, w]; tmp [h·w]. */
static void blur_channel(float *x, float *tmp, int h, int w, float sigma) {
    int R = (int)ceilf(2 * sigma);
    if (R > HL_VIEWS_MAX_RADIUS) R = HL_VIEWS_MAX_RADIUS;
    float k[2 * HL_VIEWS_MAX_RADIUS + 1], sum = 0;
    for (int t = -R; t <= R; t++) sum += k[t + R] = expf(-(float)(t * t) / (2 * sigma * sigma));
    for (int t = 0; t <= 2 * R; t++) k[t] /= sum;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            float acc = 0;
            for (int t = -R; t <= R; t++) {
                int jj = j + t < 0 ? 0 : j + t >= w ? w - 1 : j + t;
                acc += k[t + R] * x[i * w + jj];
            }
            tmp[i * w + j] = acc;
        }
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            float acc = 0;
            for (int t = -R; t <= R; t++) {
                int ii = i + t < 0 ? 0 : i + t >= h ? h - 1 : i + t;
                acc += k[t + R] * tmp[ii * w + j];
            }
            x[i * w + j] = acc;
        }
}

void hl_views_apply(const float *src, float *dst, int c, int h, int w, const hl_views_params *par) {
    int64_t hw = (int64_t)h * w;
    HL_ASSERT(src + c * hw <= dst || dst + c * hw <= src, "views: src and dst overlap");
    for (int i = 0; i < h; i++) {
        int y0, y1, x0, x1;
        float fy, fx;
        src_coord(par->y0, par->h, h, i, &y0, &y1, &fy);
        for (int j = 0; j < w; j++) {
            src_coord(par->x0, par->w, w, j, &x0, &x1, &fx);
            int jo = par->flip ? w - 1 - j : j;
            for (int ch = 0; ch < c; ch++) {
                const float *s = src + ch * hw;
                float top = s[y0 * w + x0] + fx * (s[y0 * w + x1] - s[y0 * w + x0]);
                float bot = s[y1 * w + x0] + fx * (s[y1 * w + x1] - s[y1 * w + x0]);
                dst[ch * hw + (int64_t)i * w + jo] = top + fy * (bot - top);
            }
        }
    }
    double m = 0;
    for (int64_t p = 0; p < c * hw; p++) m += dst[p];
    m /= (double)(c * hw);
    for (int64_t p = 0; p < c * hw; p++) {
        float v = (float)((dst[p] - m) * par->a + m + par->b);
        dst[p] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    if (par->sigma > 0) {
        float tmp[64 * 64], *t = hw <= 64 * 64 ? tmp : NULL;
        float *heap = t ? NULL : malloc((size_t)hw * sizeof *heap);
        HL_ASSERT(t || heap, "views: out of memory for a %dx%d blur", h, w);
        for (int ch = 0; ch < c; ch++) blur_channel(dst + ch * hw, t ? t : heap, h, w, par->sigma);
        free(heap);
    }
}

void hl_views_batch(const hl_views *v, const float *src, float *dst, int64_t B, int c, int h, int w, uint64_t seed,
                    int64_t epoch, const int64_t *samples, int view) {
    int64_t sz = (int64_t)c * h * w;
    uint64_t nstream = HL_VIEWS_NOISE_STREAM + 2 * (uint64_t)epoch + (uint64_t)view;
    HL_ASSERT(src + B * sz <= dst || dst + B * sz <= src, "views: src and dst overlap");
#pragma omp parallel for schedule(static) if (B * sz > 1 << 14)
    for (int64_t b = 0; b < B; b++) {
        hl_views_params par = hl_views_draw(v, h, w, seed, epoch, samples[b], view);
        float *d = dst + b * sz;
        hl_views_apply(src + b * sz, d, c, h, w, &par);
        if (v->noise > 0)
            for (int64_t p = 0; p < sz; p++) {
                float x = d[p] + v->noise * hl_rng_normal_at(seed, nstream, (uint64_t)samples[b] * (uint64_t)sz + p);
                d[p] = x < 0 ? 0 : x > 1 ? 1 : x;
            }
    }
}
