/* core/io/grid.c — image grids written as PNG; see grid.h. */
#include "core/io/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/image.h"

static uint8_t to_byte(float v) {
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (uint8_t)lroundf(v * 255.0f);
}

hl_status hl_grid_write_png(const char *path, const float *images, int64_t n, int c, int h, int w, int rows,
                            int cols, int upscale) {
    HL_ASSERT(path && images, "NULL path or images");
    hl_status st = HL_OK;
    uint8_t *px = NULL;
    if (n < 1 || (c != 1 && c != 3) || h < 1 || w < 1 || rows < 1 || cols < 1 || upscale < 1 ||
        (int64_t)rows * cols < n)
        return hl_error_set(HL_EINVAL, "%s: bad grid: %lld images [%d, %d, %d] in %d x %d cells, upscale %d", path,
                            (long long)n, c, h, w, rows, cols, upscale);
    const int64_t cw = (int64_t)w * upscale, ch = (int64_t)h * upscale;
    const int64_t W = cols * cw + (int64_t)(cols - 1) * HL_GRID_GUTTER;
    const int64_t H = rows * ch + (int64_t)(rows - 1) * HL_GRID_GUTTER;
    if (W > HL_GRID_MAX_SIDE || H > HL_GRID_MAX_SIDE)
        return hl_error_set(HL_EINVAL, "%s: grid of %lld x %lld pixels is too large (max side %d)", path,
                            (long long)W, (long long)H, HL_GRID_MAX_SIDE);
    const int64_t plane = (int64_t)h * w, numel = n * c * plane;
    for (int64_t i = 0; i < numel; i++)
        if (!isfinite(images[i])) {
            int64_t k = i / (c * plane);
            return hl_error_set(HL_ENUMERIC, "%s: image %lld has a non-finite value (%g) at flat index %lld", path,
                                (long long)k, (double)images[i], (long long)(i - k * c * plane));
        }
    px = malloc((size_t)(W * H * c));
    if (!px) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for a %lld x %lld grid", path, (long long)W, (long long)H);
        goto done;
    }
    memset(px, 255, (size_t)(W * H * c));
    for (int64_t k = 0; k < n; k++) {
        const float *img = images + k * c * plane;
        const int64_t oy = (k / cols) * (ch + HL_GRID_GUTTER), ox = (k % cols) * (cw + HL_GRID_GUTTER);
        for (int64_t y = 0; y < ch; y++) {
            uint8_t *row = px + ((oy + y) * W + ox) * c;
            const int64_t sy = y / upscale;
            for (int64_t x = 0; x < cw; x++)
                for (int ci = 0; ci < c; ci++) row[x * c + ci] = to_byte(img[ci * plane + sy * w + x / upscale]);
        }
    }
    st = hl_image_write_png(path, px, (int)W, (int)H, c);
done:
    free(px);
    return st;
}

hl_status hl_grid_attack_examples(const char *path, const float *clean, const float *adv, int64_t n, int c, int h,
                                  int w, float amp, int upscale) {
    HL_ASSERT(path && clean && adv, "NULL path or images");
    hl_status st = HL_OK;
    float *cells = NULL;
    if (!isfinite(amp)) return hl_error_set(HL_ENUMERIC, "%s: amplification %g is not finite", path, (double)amp);
    if (amp <= 0) return hl_error_set(HL_EINVAL, "%s: amplification must be > 0, got %g", path, (double)amp);
    if (n < 1 || n > INT32_MAX / 3 || (c != 1 && c != 3) || h < 1 || w < 1)
        return hl_error_set(HL_EINVAL, "%s: bad examples: %lld images [%d, %d, %d]", path, (long long)n, c, h, w);
    const int64_t per = (int64_t)c * h * w;
    if (per > HL_GRID_MAX_SIDE * (int64_t)HL_GRID_MAX_SIDE)
        return hl_error_set(HL_EINVAL, "%s: images of %d x %d are too large", path, h, w);
    cells = malloc((size_t)(3 * n * per) * sizeof *cells);
    if (!cells) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        const float *a = clean + i * per, *b = adv + i * per;
        float *row = cells + 3 * i * per;
        memcpy(row, a, (size_t)per * sizeof *row);
        for (int64_t j = 0; j < per; j++) {
            float d = amp * (b[j] - a[j]) + 0.5f;
            row[per + j] = isfinite(d) ? fminf(fmaxf(d, 0.0f), 1.0f) : d; /* non-finite: reported below */
        }
        memcpy(row + 2 * per, b, (size_t)per * sizeof *row);
    }
    st = hl_grid_write_png(path, cells, 3 * n, c, h, w, (int)n, 3, upscale);
done:
    free(cells);
    return st;
}
