/* tests/core/test_image.c — PNG/JPEG decoding (files written here with libpng/libjpeg), channel conversion,
 * resizing (hand-worked bilinear/antialiased values), PNG writing, and corrupt files giving errors, not crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "core/io/image.h"
#include "test_common.h"

/* Writes a PNG with libpng: rows of `bytes_per_row` bytes already in the file's layout. */
static void write_png_raw(const char *path, int w, int h, int depth, int ctype, const uint8_t *data, int bpr,
                          bool interlace, const png_color *pal, int npal) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    cr_assert(p && info);
    if (setjmp(png_jmpbuf(p))) cr_assert_fail("libpng failed writing %s", path);
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, depth, ctype,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(p, info, pal, npal);
    png_write_info(p, info);
    int passes = png_set_interlace_handling(p);
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < h; y++) png_write_row(p, data + (size_t)y * bpr);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(f);
}

/* Writes a JPEG with libjpeg (quality q, 4:4:4 sampling). */
static void write_jpeg(const char *path, int w, int h, int c, const uint8_t *px, int q) {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr em;
    ci.err = jpeg_std_error(&em);
    jpeg_create_compress(&ci);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = c;
    ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, q, TRUE);
    for (int i = 0; i < ci.num_components; i++) ci.comp_info[i].h_samp_factor = ci.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW r = (JSAMPROW)(px + (size_t)ci.next_scanline * w * c);
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    fclose(f);
}

static uint8_t pat(int x, int y, int ch) { return (uint8_t)(x * 37 + y * 101 + ch * 71 + 5); }

Test(image, png_rgb_gray_rgba_exact) {
    const char *d = hl_test_tmpdir();
    enum { W = 7, H = 5 };
    uint8_t rgb[H * W * 3], gray[H * W], rgba[H * W * 4];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            for (int ch = 0; ch < 3; ch++) rgb[(y * W + x) * 3 + ch] = pat(x, y, ch);
            for (int ch = 0; ch < 4; ch++) rgba[(y * W + x) * 4 + ch] = pat(x, y, ch);
            gray[y * W + x] = pat(x, y, 0);
        }
    write_png_raw(hl_test_path(d, "rgb.png"), W, H, 8, PNG_COLOR_TYPE_RGB, rgb, W * 3, false, NULL, 0);
    write_png_raw(hl_test_path(d, "rgbi.png"), W, H, 8, PNG_COLOR_TYPE_RGB, rgb, W * 3, true, NULL, 0);
    write_png_raw(hl_test_path(d, "gray.png"), W, H, 8, PNG_COLOR_TYPE_GRAY, gray, W, false, NULL, 0);
    write_png_raw(hl_test_path(d, "rgba.png"), W, H, 8, PNG_COLOR_TYPE_RGB_ALPHA, rgba, W * 4, false, NULL, 0);
    hl_image im;
    const char *rgb_files[] = {"rgb.png", "rgbi.png", "rgba.png"};
    for (int f = 0; f < 3; f++) {
        cr_assert_eq(hl_image_load(&im, hl_test_path(d, rgb_files[f]), 3), HL_OK, "%s", hl_error_last());
        cr_assert(im.w == W && im.h == H && im.c == 3, "%s: %dx%dx%d", rgb_files[f], im.w, im.h, im.c);
        cr_assert(memcmp(im.px, rgb, sizeof rgb) == 0, "%s: pixels differ", rgb_files[f]);
        hl_image_free(&im);
    }
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "gray.png"), 1), HL_OK, "%s", hl_error_last());
    cr_assert(im.c == 1 && memcmp(im.px, gray, sizeof gray) == 0);
    hl_image_free(&im);
    /* gray -> RGB replicates */
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "gray.png"), 3), HL_OK, "%s", hl_error_last());
    for (int i = 0; i < W * H; i++)
        cr_assert(im.px[3 * i] == gray[i] && im.px[3 * i + 1] == gray[i] && im.px[3 * i + 2] == gray[i]);
    hl_image_free(&im);
    /* RGB -> gray: PIL's luma, checked by hand on pixel (0,0) = (5, 76, 147):
     * (19595·5 + 38470·76 + 7471·147 + 32768) >> 16 = (97975 + 2923720 + 1098237 + 32768) >> 16 = 4152700 >> 16 = 63 */
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "rgb.png"), 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(im.c, 1);
    cr_assert_eq(im.px[0], 63);
    for (int i = 0; i < W * H; i++) {
        unsigned want = (19595u * rgb[3 * i] + 38470u * rgb[3 * i + 1] + 7471u * rgb[3 * i + 2] + 32768u) >> 16;
        cr_assert_eq(im.px[i], want, "pixel %d", i);
    }
    hl_image_free(&im);
}

Test(image, png_palette_low_depth_and_16_bit) {
    const char *d = hl_test_tmpdir();
    /* 4-bit palette, 5 x 2: indices 0..4 and 4..0 */
    png_color pal[5] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    uint8_t idx[2][3] = {{0x01, 0x23, 0x40}, {0x43, 0x21, 0x00}};
    write_png_raw(hl_test_path(d, "pal.png"), 5, 2, 4, PNG_COLOR_TYPE_PALETTE, &idx[0][0], 3, false, pal, 5);
    hl_image im;
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "pal.png"), 3), HL_OK, "%s", hl_error_last());
    cr_assert(im.w == 5 && im.h == 2 && im.c == 3);
    for (int x = 0; x < 5; x++) {
        const png_color *a = &pal[x], *b = &pal[4 - x];
        cr_assert(im.px[3 * x] == a->red && im.px[3 * x + 1] == a->green && im.px[3 * x + 2] == a->blue, "x %d", x);
        const uint8_t *q = im.px + 15 + 3 * x;
        cr_assert(q[0] == b->red && q[1] == b->green && q[2] == b->blue, "row 1 x %d", x);
    }
    hl_image_free(&im);
    /* 1-bit gray 8 x 1: 10110001 -> 255 0 255 255 0 0 0 255 */
    uint8_t bits = 0xb1;
    write_png_raw(hl_test_path(d, "g1.png"), 8, 1, 1, PNG_COLOR_TYPE_GRAY, &bits, 1, false, NULL, 0);
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "g1.png"), 1), HL_OK, "%s", hl_error_last());
    const uint8_t want1[8] = {255, 0, 255, 255, 0, 0, 0, 255};
    cr_assert(im.c == 1 && memcmp(im.px, want1, 8) == 0);
    hl_image_free(&im);
    /* 16-bit gray 3 x 1: big-endian samples, high byte kept */
    uint8_t g16[6] = {0x12, 0x34, 0xff, 0xff, 0x00, 0x80};
    write_png_raw(hl_test_path(d, "g16.png"), 3, 1, 16, PNG_COLOR_TYPE_GRAY, g16, 6, false, NULL, 0);
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "g16.png"), 1), HL_OK, "%s", hl_error_last());
    cr_assert(im.px[0] == 0x12 && im.px[1] == 0xff && im.px[2] == 0x00, "%d %d %d", im.px[0], im.px[1], im.px[2]);
    hl_image_free(&im);
}

Test(image, jpeg_gray_and_rgb) {
    const char *d = hl_test_tmpdir();
    enum { W = 24, H = 16 };
    uint8_t flat[H * W * 3], grad[H * W];
    for (int i = 0; i < H * W; i++) flat[3 * i] = 200, flat[3 * i + 1] = 120, flat[3 * i + 2] = 40;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) grad[y * W + x] = (uint8_t)(60 + 4 * x + 2 * y);
    write_jpeg(hl_test_path(d, "flat.jpg"), W, H, 3, flat, 100);
    write_jpeg(hl_test_path(d, "grad.jpg"), W, H, 1, grad, 100);
    hl_image im;
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "flat.jpg"), 3), HL_OK, "%s", hl_error_last());
    cr_assert(im.w == W && im.h == H && im.c == 3);
    for (int i = 0; i < W * H * 3; i++)
        cr_assert(abs(im.px[i] - flat[i]) <= 2, "flat %d: %d vs %d", i, im.px[i], flat[i]);
    hl_image_free(&im);
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "grad.jpg"), 1), HL_OK, "%s", hl_error_last());
    cr_assert(im.w == W && im.h == H && im.c == 1);
    for (int i = 0; i < W * H; i++)
        cr_assert(abs(im.px[i] - grad[i]) <= 2, "grad %d: %d vs %d", i, im.px[i], grad[i]);
    hl_image_free(&im);
    /* Gray JPEG as RGB replicates. */
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "grad.jpg"), 3), HL_OK, "%s", hl_error_last());
    for (int i = 0; i < W * H; i++) cr_assert(im.px[3 * i] == im.px[3 * i + 1] && im.px[3 * i] == im.px[3 * i + 2]);
    hl_image_free(&im);
}

Test(image, format_by_magic_not_name) {
    const char *d = hl_test_tmpdir();
    uint8_t g[4] = {1, 2, 3, 4};
    write_png_raw(hl_test_path(d, "really_png.jpg"), 2, 2, 8, PNG_COLOR_TYPE_GRAY, g, 2, false, NULL, 0);
    hl_image im;
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "really_png.jpg"), 1), HL_OK, "%s", hl_error_last());
    cr_assert(memcmp(im.px, g, 4) == 0);
    hl_image_free(&im);
    size_t n;
    uint8_t *b = (uint8_t *)hl_test_read_file(hl_test_path(d, "really_png.jpg"), &n);
    cr_assert_eq(hl_image_sniff(b, n), HL_IMAGE_PNG);
    cr_assert_eq(hl_image_sniff(b, 7), HL_IMAGE_UNKNOWN);
    free(b);
    const uint8_t j[3] = {0xff, 0xd8, 0xff};
    cr_assert_eq(hl_image_sniff(j, 3), HL_IMAGE_JPEG);
}

Test(image, corrupt_and_truncated_files_are_errors) {
    const char *d = hl_test_tmpdir();
    enum { W = 16, H = 16 };
    uint8_t rgb[H * W * 3];
    for (int i = 0; i < H * W * 3; i++) rgb[i] = (uint8_t)(i * 7919 >> 3);
    write_png_raw(hl_test_path(d, "a.png"), W, H, 8, PNG_COLOR_TYPE_RGB, rgb, W * 3, false, NULL, 0);
    write_jpeg(hl_test_path(d, "a.jpg"), W, H, 3, rgb, 90);
    hl_image im;
    const char *names[2] = {"a.png", "a.jpg"};
    for (int f = 0; f < 2; f++) {
        size_t n;
        uint8_t *b = (uint8_t *)hl_test_read_file(hl_test_path(d, names[f]), &n);
        size_t cuts[] = {0, 2, 3, 8, 12, 20, 33, 40, n / 3, n / 2, n - 30, n - 12, n - 1};
        for (size_t k = 0; k < HL_ARRAY_LEN(cuts); k++) {
            if (cuts[k] >= n) continue;
            hl_status st = hl_image_decode(&im, b, cuts[k], 3, names[f]);
            cr_assert(st == HL_EFORMAT, "%s cut at %zu: status %d (%s)", names[f], cuts[k], st, hl_error_last());
            cr_assert(im.px == NULL);
            cr_assert(strstr(hl_error_last(), names[f]) != NULL, "message names the file: %s", hl_error_last());
        }
        /* Garbage after the magic bytes. */
        uint8_t *g = malloc(n);
        memcpy(g, b, n);
        for (size_t i = (f == 0 ? 8 : 3); i < n; i++) g[i] = (uint8_t)(i * 131 + 7);
        cr_assert_eq(hl_image_decode(&im, g, n, 3, names[f]), HL_EFORMAT, "%s garbage: %s", names[f], hl_error_last());
        free(g);
        free(b);
    }
    /* A PNG with one flipped byte inside IDAT fails its CRC. */
    size_t n;
    uint8_t *b = (uint8_t *)hl_test_read_file(hl_test_path(d, "a.png"), &n);
    b[n - 20] ^= 0x40;
    hl_test_write_file(hl_test_path(d, "crc.png"), b, n);
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "crc.png"), 3), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "crc.png: corrupt PNG") != NULL, "%s", hl_error_last());
    free(b);
    /* Not an image at all, empty, missing. */
    hl_test_write_file(hl_test_path(d, "text.png"), (const uint8_t *)"hello world", 11);
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "text.png"), 3), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "not a PNG or JPEG") != NULL, "%s", hl_error_last());
    hl_test_write_file(hl_test_path(d, "empty.jpg"), (const uint8_t *)"", 0);
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "empty.jpg"), 3), HL_EFORMAT);
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "missing.png"), 3), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "missing.png") != NULL);
    cr_assert_eq(hl_image_load(&im, d, 3), HL_EIO, "a directory is not an image");
}

Test(image, resize_hand_worked) {
    /* Shrink 4 -> 2 (scale 2, support 2): output 0 centre 1.0 reads x 0..2 with triangle weights
     * (0.75, 0.75, 0.25) / 1.75; output 1 centre 3.0 reads x 1..3 (x 4 is outside) with (0.25, 0.75, 0.75) / 1.75.
     * Row [0, 100, 200, 40]: (75 + 50) / 1.75 = 71.43 -> 71; (25 + 150 + 30) / 1.75 = 117.14 -> 117. */
    uint8_t row[4] = {0, 100, 200, 40}, out[4];
    cr_assert_eq(hl_image_resize(row, 4, 1, 1, out, 2, 1), HL_OK);
    cr_assert(out[0] == 71 && out[1] == 117, "%d %d", out[0], out[1]);
    /* Enlarge 2 -> 4 (plain bilinear, edge clamped): centres 0.25, 0.75, 1.25, 1.75 -> [0, 25, 75, 100]. */
    uint8_t two[2] = {0, 100};
    cr_assert_eq(hl_image_resize(two, 2, 1, 1, out, 4, 1), HL_OK);
    cr_assert(out[0] == 0 && out[1] == 25 && out[2] == 75 && out[3] == 100, "%d %d %d %d", out[0], out[1], out[2],
              out[3]);
    /* Same along y, on interleaved 2-channel data (channel 1 = 255 - channel 0). */
    uint8_t col[8] = {0, 255, 100, 155, 200, 55, 40, 215}, o2[4];
    cr_assert_eq(hl_image_resize(col, 1, 4, 2, o2, 1, 2), HL_OK);
    cr_assert(o2[0] == 71 && o2[2] == 117 && o2[1] == 255 - 71 && o2[3] == 255 - 117, "%d %d %d %d", o2[0], o2[1],
              o2[2], o2[3]);
    /* Identity and constants. */
    uint8_t src[6 * 5 * 3], dst[9 * 11 * 3];
    for (int i = 0; i < 90; i++) src[i] = (uint8_t)(i * 37);
    cr_assert_eq(hl_image_resize(src, 6, 5, 3, dst, 6, 5), HL_OK);
    cr_assert(memcmp(src, dst, 90) == 0);
    memset(src, 77, sizeof src);
    cr_assert_eq(hl_image_resize(src, 6, 5, 3, dst, 11, 9), HL_OK);
    for (int i = 0; i < 9 * 11 * 3; i++) cr_assert_eq(dst[i], 77);
    cr_assert_eq(hl_image_resize(src, 6, 5, 3, dst, 2, 3), HL_OK);
    for (int i = 0; i < 2 * 3 * 3; i++) cr_assert_eq(dst[i], 77);
}

Test(image, resize_antialiases_when_shrinking) {
    /* A 64 x 64 one-pixel checkerboard shrunk to 8 x 8: every output covers ~16 x 16 inputs, so it must be mid-gray
     * (plain 4-tap bilinear sampling would alias to near 0 or 255). */
    enum { S = 64 };
    uint8_t *cb = malloc(S * S), out[64];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) cb[y * S + x] = ((x + y) & 1) ? 255 : 0;
    cr_assert_eq(hl_image_resize(cb, S, S, 1, out, 8, 8), HL_OK);
    for (int i = 0; i < 64; i++) cr_assert(abs(out[i] - 128) <= 3, "output %d = %d", i, out[i]);
    free(cb);
}

Test(image, write_png_round_trip) {
    const char *d = hl_test_tmpdir();
    enum { W = 9, H = 4 };
    uint8_t px[H * W * 4];
    for (int i = 0; i < H * W * 4; i++) px[i] = (uint8_t)(i * 29 + 3);
    hl_image im;
    cr_assert_eq(hl_image_write_png(hl_test_path(d, "w3.png"), px, W, H, 3), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "w3.png"), 3), HL_OK, "%s", hl_error_last());
    cr_assert(im.w == W && im.h == H && memcmp(im.px, px, W * H * 3) == 0);
    hl_image_free(&im);
    cr_assert_eq(hl_image_write_png(hl_test_path(d, "w1.png"), px, W, H, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "w1.png"), 1), HL_OK, "%s", hl_error_last());
    cr_assert(memcmp(im.px, px, W * H) == 0);
    hl_image_free(&im);
    cr_assert_eq(hl_image_write_png(hl_test_path(d, "w4.png"), px, W, H, 4), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_image_load(&im, hl_test_path(d, "w4.png"), 3), HL_OK, "%s", hl_error_last());
    for (int i = 0; i < W * H; i++) cr_assert(memcmp(im.px + 3 * i, px + 4 * i, 3) == 0, "alpha dropped, pixel %d", i);
    hl_image_free(&im);
    cr_assert_eq(hl_image_write_png(hl_test_path(d, "no/such/dir/x.png"), px, W, H, 3), HL_EIO);
    cr_assert_eq(hl_image_write_png(hl_test_path(d, "zero.png"), px, 0, H, 3), HL_EINVAL);
}

/* Seeded mutation fuzzing: random bytes overwritten, inserted or cut in valid PNG and JPEG files must decode or
 * fail with HL_EFORMAT, never crash, hang or leak (the CI runs this under ASan). */
Test(image, mutated_files_never_crash) {
    const char *d = hl_test_tmpdir();
    enum { W = 20, H = 12 };
    uint8_t rgb[H * W * 3];
    for (int i = 0; i < H * W * 3; i++) rgb[i] = (uint8_t)(i * 13 + (i >> 4));
    write_png_raw(hl_test_path(d, "f.png"), W, H, 8, PNG_COLOR_TYPE_RGB, rgb, W * 3, true, NULL, 0);
    write_jpeg(hl_test_path(d, "f.jpg"), W, H, 3, rgb, 75);
    const char *names[2] = {"f.png", "f.jpg"};
    int ok = 0, bad = 0;
    for (int f = 0; f < 2; f++) {
        size_t n;
        uint8_t *b = (uint8_t *)hl_test_read_file(hl_test_path(d, names[f]), &n);
        uint8_t *m = malloc(n + 64);
        hl_rng r = hl_rng_make(99, (uint64_t)f);
        for (int it = 0; it < 300; it++) {
            memcpy(m, b, n);
            size_t len = n;
            int edits = 1 + (int)hl_rng_below(&r, 4);
            for (int e = 0; e < edits; e++) {
                size_t at = (size_t)hl_rng_below(&r, len);
                switch (hl_rng_below(&r, 3)) {
                case 0: m[at] = (uint8_t)hl_rng_u32(&r); break;
                case 1: m[at] ^= (uint8_t)(1u << hl_rng_below(&r, 8)); break;
                default: len = at + 1; break;
                }
            }
            hl_image im;
            hl_status st = hl_image_decode(&im, m, len, 3, names[f]);
            cr_assert(st == HL_OK || st == HL_EFORMAT, "%s mutation %d: %s (%s)", names[f], it, hl_status_name(st),
                      hl_error_last());
            if (st == HL_OK) {
                cr_assert(im.w >= 1 && im.h >= 1 && im.c == 3 && im.px);
                ok++;
            } else {
                cr_assert(im.px == NULL);
                bad++;
            }
            hl_image_free(&im);
        }
        free(m);
        free(b);
    }
    cr_log_info("mutated images: %d decoded, %d rejected", ok, bad);
    cr_assert(bad > 100, "most mutations must be caught (%d rejected)", bad);
}
