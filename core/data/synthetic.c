/* core/data/synthetic.c — seeded class-conditional patterns; see dataset.h.
 *
 * The generator. K classes, image c × h × w, R = min(h, w), canvas centre (w/2, h/2); sample i has class k = i mod K.
 * All randomness is Philox (core/rng.h) keyed by the seed: class parameters on stream SYN_CLASS (counter k·64 + j),
 * sample parameters on stream SYN_SAMPLE (counter i·32 + j), pixel noise on stream SYN_NOISE + i (4 values per
 * Philox block), so sample i is a pure function of (seed, i, shape, classes, noise) and never depends on n or on the
 * thread count.
 *   Class k:  shape s = k mod 3 — 0 a bar, 1 a cross (two perpendicular bars), 2 an arc (a ring with a 90° gap);
 *             orientation θ_k = π (k + ½) / K (bars differ by π/K between neighbouring classes);
 *             home position: 0.12 R from the centre at angle 2π k / K + π/7;
 *             base colour: one intensity per channel in [0.45, 1].
 *   Sample i: position jitter ±0.22 R in x and y; orientation jitter ±min(0.4 π / K, π / 12) (never enough to reach
 *             a neighbouring class); scale in [0.8, 1.2]; colour = gain · (base ± 0.25 per channel) with a gain in
 *             [0.55, 1]; background colour in [0, 0.35] per channel; one distractor — a thin bar of random position,
 *             orientation, colour (<= 0.7) and length, the same for every class; then uniform pixel noise of
 *             amplitude `noise` (value + noise·(u − ½)). Channels beyond 8 reuse the per-sample draws of ch mod 8.
 *   Rendering: coverage α = clamp(t + ½ − d, 0, 1) from the distance d of the pixel centre to the shape's skeleton
 *             (half-thickness t = max(0.6, 0.07 R) pixels), so edges are antialiased;
 *             v = (1 − α)·background + α·colour, plus noise, clamped to [0,1] and stored as round(255 v).
 * Shape, orientation, position and colour each carry class information, none alone is needed, and the jitter, the
 * distractor and the noise keep a nearest-class-mean classifier far below a small CNN (3×16×16, 10 classes, noise
 * 0.3: 41% against 95% held-out; tests/core/test_dataset_synth.c).
 */
#include "core/data/dataset.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

#define SYN_CLASS 0x53594e434c415353ull  /* "SYNCLASS" */
#define SYN_SAMPLE 0x53594e53414d504cull /* "SYNSAMPL" */
#define SYN_NOISE 0x4e4f495345000000ull  /* "NOISE" + sample index (< 2^40) */

enum { SYN_MAX_SIDE = 4096, SYN_MAX_CLASSES = 1 << 16, SYN_MAX_CHANNELS = 64 };

static float uni(uint64_t seed, uint64_t stream, uint64_t ctr) { return hl_rng_uniform_at(seed, stream, ctr); }

typedef struct seg {
    float x0, y0, x1, y1;
} seg;

static float seg_dist(const seg *s, float px, float py) {
    float dx = s->x1 - s->x0, dy = s->y1 - s->y0, l2 = dx * dx + dy * dy;
    float t = l2 > 0 ? ((px - s->x0) * dx + (py - s->y0) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    float ex = s->x0 + t * dx - px, ey = s->y0 + t * dy - py;
    return sqrtf(ex * ex + ey * ey);
}

static seg make_seg(float cx, float cy, float half, float ang) {
    float ux = cosf(ang) * half, uy = sinf(ang) * half;
    return (seg){cx - ux, cy - uy, cx + ux, cy + uy};
}

/* Distance to an arc of radius r around (cx, cy), open over ±45° around angle `gap`. */
static float arc_dist(float cx, float cy, float r, float gap, float px, float py) {
    float dx = px - cx, dy = py - cy;
    float a = atan2f(dy, dx) - gap;
    a = a - 2.0f * (float)HL_PI * floorf((a + (float)HL_PI) / (2.0f * (float)HL_PI)); /* wrap to [-π, π) */
    const float open = (float)HL_PI / 4;
    if (fabsf(a) > open) return fabsf(sqrtf(dx * dx + dy * dy) - r);
    float e1x = cx + r * cosf(gap + open), e1y = cy + r * sinf(gap + open);
    float e2x = cx + r * cosf(gap - open), e2y = cy + r * sinf(gap - open);
    float d1 = sqrtf((px - e1x) * (px - e1x) + (py - e1y) * (py - e1y));
    float d2 = sqrtf((px - e2x) * (px - e2x) + (py - e2y) * (py - e2y));
    return HL_MIN(d1, d2);
}

/* Sample i into dst [c, h, w]; cov is scratch of 2·h·w floats. */
static void render(const hl_synth_opts *o, int64_t i, uint8_t *dst, float *cov) {
    const int c = o->c, h = o->h, w = o->w, K = o->classes;
    const int k = (int)(i % K), shape = k % 3;
    const float R = (float)HL_MIN(h, w), pi = (float)HL_PI;
    const uint64_t sd = o->seed, cb = (uint64_t)k * 64, sb = (uint64_t)i * 32;
    float home = 2 * pi * (float)k / (float)K + pi / 7;
    float cx = 0.5f * w + 0.12f * R * cosf(home) + 0.22f * R * (2 * uni(sd, SYN_SAMPLE, sb + 0) - 1);
    float cy = 0.5f * h + 0.12f * R * sinf(home) + 0.22f * R * (2 * uni(sd, SYN_SAMPLE, sb + 1) - 1);
    float jit = HL_MIN(0.4f * pi / (float)K, pi / 12);
    float theta = pi * ((float)k + 0.5f) / (float)K + jit * (2 * uni(sd, SYN_SAMPLE, sb + 2) - 1);
    float scale = 0.8f + 0.4f * uni(sd, SYN_SAMPLE, sb + 3);
    float gain = 0.55f + 0.45f * uni(sd, SYN_SAMPLE, sb + 4);
    float t = HL_MAX(0.6f, 0.07f * R);
    seg a = make_seg(cx, cy, 0.32f * R * scale, theta), b = make_seg(cx, cy, 0.26f * R * scale, theta + pi / 2);
    if (shape == 1) a = make_seg(cx, cy, 0.26f * R * scale, theta);
    float dx0 = (float)w * uni(sd, SYN_SAMPLE, sb + 5), dy0 = (float)h * uni(sd, SYN_SAMPLE, sb + 6);
    float dlen = (0.08f + 0.12f * uni(sd, SYN_SAMPLE, sb + 7)) * R;
    seg dis = make_seg(dx0, dy0, dlen, 2 * pi * uni(sd, SYN_SAMPLE, sb + 8));
    float dt = HL_MAX(0.5f, 0.04f * R);
    float col[SYN_MAX_CHANNELS], dcol[SYN_MAX_CHANNELS], bg[SYN_MAX_CHANNELS];
    for (int ch = 0; ch < c; ch++) {
        uint64_t cj = (uint64_t)(ch % 8); /* per-sample colour draws are shared by channels ch, ch + 8, ... */
        float base = 0.45f + 0.55f * uni(sd, SYN_CLASS, cb + (uint64_t)ch);
        col[ch] = gain * (base + 0.25f * (2 * uni(sd, SYN_SAMPLE, sb + 9 + cj) - 1));
        dcol[ch] = 0.7f * uni(sd, SYN_SAMPLE, sb + 17 + cj);
        bg[ch] = 0.35f * uni(sd, SYN_SAMPLE, sb + 25 + cj);
    }
    const int64_t plane = (int64_t)h * w, sz = plane * c;
    float *al = cov, *ad = cov + plane; /* shape and distractor coverage per pixel */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float px = (float)x + 0.5f, py = (float)y + 0.5f, d;
            if (shape == 0) d = seg_dist(&a, px, py);
            else if (shape == 1) d = HL_MIN(seg_dist(&a, px, py), seg_dist(&b, px, py));
            else d = arc_dist(cx, cy, 0.22f * R * scale, theta, px, py);
            float va = t + 0.5f - d, vd = dt + 0.5f - seg_dist(&dis, px, py);
            al[y * w + x] = va < 0 ? 0 : va > 1 ? 1 : va;
            ad[y * w + x] = vd < 0 ? 0 : vd > 1 ? 1 : vd;
        }
    const uint64_t ns = SYN_NOISE + (uint64_t)i;
    for (int64_t q0 = 0; q0 < sz; q0 += 4) {
        uint32_t wd[4];
        hl_philox(sd, ns, (uint64_t)q0 >> 2, wd);
        for (int64_t q = q0; q < HL_MIN(q0 + 4, sz); q++) {
            int ch = (int)(q / plane);
            int64_t p = q - ch * plane;
            float u = (float)(wd[q & 3] >> 8) * (1.0f / 16777216.0f);
            float v = bg[ch] * (1 - ad[p]) + dcol[ch] * ad[p];
            v = v * (1 - al[p]) + col[ch] * al[p] + o->noise * (u - 0.5f);
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            dst[q] = (uint8_t)lrintf(v * 255.0f);
        }
    }
}

hl_status hl_dataset_synthetic(hl_dataset *out, const hl_synth_opts *o) {
    memset(out, 0, sizeof *out);
    if (o->n < 1 || o->c < 1 || o->c > SYN_MAX_CHANNELS || o->h < 8 || o->w < 8 || o->h > SYN_MAX_SIDE ||
        o->w > SYN_MAX_SIDE || o->classes < 2 || o->classes > SYN_MAX_CLASSES || !(o->noise >= 0 && o->noise <= 1) ||
        o->n >= ((int64_t)1 << 40))
        return hl_error_set(HL_EINVAL,
                            "synthetic dataset: n %lld, shape %dx%dx%d, %d classes, noise %g: need n >= 1, "
                            "1 <= c <= %d, 8 <= h, w <= %d, 2 <= classes <= %d, noise in [0, 1]",
                            (long long)o->n, o->c, o->h, o->w, o->classes, (double)o->noise, SYN_MAX_CHANNELS,
                            SYN_MAX_SIDE, SYN_MAX_CLASSES);
    hl_status st = HL_OK;
    float *scratch = NULL;
    const int64_t n = o->n, sz = (int64_t)o->c * o->h * o->w;
    out->pixels = malloc((size_t)(n * sz));
    out->class_id = malloc((size_t)n * sizeof *out->class_id);
    const int nth = omp_get_max_threads();
    const int64_t plane = (int64_t)o->h * o->w;
    scratch = malloc((size_t)nth * 2 * (size_t)plane * sizeof *scratch);
    if (!out->pixels || !out->class_id || !scratch) {
        st = hl_error_set(HL_ENOMEM, "synthetic dataset: out of memory for %lld images", (long long)n);
        goto done;
    }
#pragma omp parallel for schedule(dynamic, 64) num_threads(nth)
    for (int64_t i = 0; i < n; i++) render(o, i, out->pixels + i * sz, scratch + omp_get_thread_num() * 2 * plane);
    for (int64_t i = 0; i < n; i++) out->class_id[i] = i % o->classes;
    HL_TRY(hl_labels_from_class_ids(&out->labels, out->class_id, n, o->classes));
    out->n = n;
    out->c = o->c;
    out->h = o->h;
    out->w = o->w;
    snprintf(out->name, sizeof out->name, "synthetic");
    snprintf(out->source, sizeof out->source, "synthetic(seed=%llu, %dx%dx%d, classes=%d, noise=%g)",
             (unsigned long long)o->seed, o->c, o->h, o->w, o->classes, (double)o->noise);
done:
    free(scratch);
    if (st < 0) hl_dataset_free(out);
    return st;
}
