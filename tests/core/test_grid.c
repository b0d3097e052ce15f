/* tests/core/test_grid.c — image grids: exact size, exact pixels (image blocks, amplified perturbation, gutters),
 * gray and RGB, errors (bad sizes, NaN, unwritable path). PNGs are decoded back with libpng. */
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io/grid.h"
#include "test_common.h"

typedef struct dec_img {
    int w, h, c;
    uint8_t *px; /* interleaved [h, w, c] as stored */
} dec_img;

/* Decodes with libpng's simplified API keeping the stored channel count (gray or RGB). */
static dec_img read_png(const char *path, int want_c) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&im, path), "%s: %s", path, im.message);
    int c = (im.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    cr_assert_eq(c, want_c, "stored channels %d, want %d", c, want_c);
    cr_assert_eq(im.format & PNG_FORMAT_FLAG_ALPHA, 0u, "unexpected alpha");
    im.format = c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    dec_img r = {(int)im.width, (int)im.height, c, malloc(PNG_IMAGE_SIZE(im))};
    cr_assert(png_image_finish_read(&im, NULL, r.px, 0, NULL), "%s: %s", path, im.message);
    return r;
}

static const uint8_t *at(const dec_img *im, int y, int x) { return im->px + ((size_t)y * im->w + x) * im->c; }

/* Gray 2×3 images, 5 of them in a 2×3 grid, upscale 3: checks size, every block corner, gutters, empty cell. */
Test(grid, gray_layout_exact) {
    enum { N = 5, H = 2, W = 3, S = 3, G = HL_GRID_GUTTER };
    float imgs[N * H * W];
    for (int k = 0; k < N; k++)
        for (int i = 0; i < H * W; i++) imgs[k * H * W + i] = (float)(k * 10 + i) / 255.0f;
    imgs[0] = -0.5f; /* clipped to 0 */
    imgs[1] = 2.0f;  /* clipped to 255 */
    char *p = hl_test_path(hl_test_tmpdir(), "g.png");
    cr_assert_eq(hl_grid_write_png(p, imgs, N, 1, H, W, 2, 3, S), HL_OK, "%s", hl_error_last());
    dec_img im = read_png(p, 1);
    cr_assert_eq(im.w, 3 * W * S + 2 * G);
    cr_assert_eq(im.h, 2 * H * S + 1 * G);
    for (int k = 0; k < N; k++)
        for (int y = 0; y < H * S; y++)
            for (int x = 0; x < W * S; x++) {
                int oy = (k / 3) * (H * S + G), ox = (k % 3) * (W * S + G);
                int want = k * 10 + (y / S) * W + x / S;
                if (k == 0 && y / S == 0 && x / S == 0) want = 0;
                if (k == 0 && y / S == 0 && x / S == 1) want = 255;
                cr_assert_eq(*at(&im, oy + y, ox + x), want, "image %d (%d, %d)", k, y, x);
            }
    /* gutters: the columns between cells and the row between the two rows of cells are white */
    for (int y = 0; y < im.h; y++)
        for (int g = 0; g < G; g++) {
            cr_assert_eq(*at(&im, y, W * S + g), 255);
            cr_assert_eq(*at(&im, y, 2 * W * S + G + g), 255);
        }
    for (int x = 0; x < im.w; x++)
        for (int g = 0; g < G; g++) cr_assert_eq(*at(&im, H * S + g, x), 255);
    /* the sixth cell is empty (white) */
    cr_assert_eq(*at(&im, H * S + G, 2 * (W * S + G)), 255);
    cr_assert_eq(*at(&im, im.h - 1, im.w - 1), 255);
    free(im.px);
}

/* RGB attack figure: clean | clip(amp·δ + 0.5) | adv, per example row. */
Test(grid, attack_examples_rgb) {
    enum { N = 2, C = 3, H = 4, W = 4, S = 2, G = HL_GRID_GUTTER };
    float clean[N * C * H * W], adv[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++) {
        clean[i] = (float)((i * 37) % 256) / 255.0f;
        float d = (float)((i % 7) - 3) / 255.0f; /* δ in {-3..3}/255 */
        adv[i] = fminf(fmaxf(clean[i] + d, 0.0f), 1.0f);
    }
    const float amp = 20.0f;
    char *p = hl_test_path(hl_test_tmpdir(), "attack.png");
    cr_assert_eq(hl_grid_attack_examples(p, clean, adv, N, C, H, W, amp, S), HL_OK, "%s", hl_error_last());
    dec_img im = read_png(p, 3);
    cr_assert_eq(im.w, 3 * W * S + 2 * G);
    cr_assert_eq(im.h, N * H * S + (N - 1) * G);
    for (int n = 0; n < N; n++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++) {
                    int i = ((n * C + c) * H + y) * W + x;
                    int py = n * (H * S + G) + y * S + 1, px = x * S + 1; /* bottom-right pixel of the block */
                    float pert = fminf(fmaxf(amp * (adv[i] - clean[i]) + 0.5f, 0.0f), 1.0f);
                    cr_assert_eq(at(&im, py, px)[c], (int)lroundf(clean[i] * 255), "clean %d", i);
                    cr_assert_eq(at(&im, py, px + W * S + G)[c], (int)lroundf(pert * 255), "pert %d", i);
                    cr_assert_eq(at(&im, py, px + 2 * (W * S + G))[c], (int)lroundf(adv[i] * 255), "adv %d", i);
                }
    /* hand-checked: element 3 has δ = 0 -> mid-grey 0.5 -> 128 */
    cr_assert_eq(at(&im, 0, W * S + G + 3 * S)[0], 128);
    /* gutter pixels are white in all channels */
    const uint8_t *g = at(&im, 0, W * S);
    cr_assert(g[0] == 255 && g[1] == 255 && g[2] == 255);
    g = at(&im, H * S + 1, 0);
    cr_assert(g[0] == 255 && g[1] == 255 && g[2] == 255);
    free(im.px);
}

/* Hand-computed bytes, no upscaling: clean {0.5, 0.2}, adv {0.6, 0.12}, amp 10 -> perturbation {1.5 -> 1, -0.3 -> 0}. */
Test(grid, attack_examples_values) {
    const float clean[2] = {0.5f, 0.2f}, adv[2] = {0.6f, 0.12f};
    char *p = hl_test_path(hl_test_tmpdir(), "v.png");
    cr_assert_eq(hl_grid_attack_examples(p, clean, adv, 1, 1, 1, 2, 10.0f, 1), HL_OK, "%s", hl_error_last());
    dec_img im = read_png(p, 1);
    cr_assert(im.w == 3 * 2 + 2 * HL_GRID_GUTTER && im.h == 1);
    const uint8_t want[10] = {128, 51, 255, 255, 255, 0, 255, 255, 153, 31};
    for (int x = 0; x < 10; x++) cr_assert_eq(im.px[x], want[x], "x = %d", x);
    free(im.px);
}

/* 28×28 MNIST-sized examples with upscale 4: the figure is readable-sized. */
Test(grid, mnist_size) {
    enum { N = 3, H = 28, W = 28 };
    float *clean = malloc(sizeof(float) * N * H * W), *adv = malloc(sizeof(float) * N * H * W);
    for (int i = 0; i < N * H * W; i++) clean[i] = (float)(i % 29) / 28.0f, adv[i] = clean[i] * 0.9f;
    char *p = hl_test_path(hl_test_tmpdir(), "mnist.png");
    cr_assert_eq(hl_grid_attack_examples(p, clean, adv, N, 1, H, W, 10.0f, 4), HL_OK, "%s", hl_error_last());
    dec_img im = read_png(p, 1);
    cr_assert_eq(im.w, 3 * 112 + 4);
    cr_assert_eq(im.h, 3 * 112 + 4);
    free(im.px);
    free(clean);
    free(adv);
}

Test(grid, errors) {
    const char *dir = hl_test_tmpdir();
    char *p = hl_test_path(dir, "e.png");
    float img[12] = {0};
    cr_assert_eq(hl_grid_write_png(p, img, 3, 1, 2, 2, 1, 2, 1), HL_EINVAL); /* 3 images in 2 cells */
    cr_assert_eq(hl_grid_write_png(p, img, 1, 2, 2, 2, 1, 1, 1), HL_EINVAL); /* c = 2 */
    cr_assert_eq(hl_grid_write_png(p, img, 1, 1, 2, 2, 1, 1, 0), HL_EINVAL); /* upscale 0 */
    cr_assert_eq(hl_grid_write_png(p, img, 1, 1, 2, 2, 1, 1, 10000), HL_EINVAL); /* too large */
    img[5] = NAN;
    cr_assert_eq(hl_grid_write_png(p, img, 3, 1, 2, 2, 1, 3, 1), HL_ENUMERIC);
    cr_assert(strstr(hl_error_last(), "image 1"), "%s", hl_error_last());
    cr_assert_eq(hl_grid_attack_examples(p, img, img, 3, 1, 2, 2, 4.0f, 1), HL_ENUMERIC);
    img[5] = 0;
    cr_assert_eq(hl_grid_attack_examples(p, img, img, 3, 1, 2, 2, 0.0f, 1), HL_EINVAL);
    cr_assert_eq(hl_grid_attack_examples(p, img, img, 3, 1, 2, 2, INFINITY, 1), HL_ENUMERIC);
    cr_assert(access(p, F_OK) != 0, "output written despite errors");
    char *q = hl_test_path(dir, "missing/dir/e.png");
    cr_assert_eq(hl_grid_attack_examples(q, img, img, 3, 1, 2, 2, 4.0f, 1), HL_EIO);
    cr_assert(strstr(hl_error_last(), "missing/dir/e.png"), "%s", hl_error_last());
}
