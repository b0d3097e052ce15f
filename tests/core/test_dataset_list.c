/* tests/core/test_dataset_list.c — "path l1 … lL" image lists with PNG/JPEG files written here: multi-hot labels,
 * planar pixels, resizing, list-format tolerance (CRLF, trailing spaces, blank lines), and errors that name the list
 * line (wrong label count, bad label, missing or corrupt image). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>

#include "core/data/dataset.h"
#include "core/io/image.h"
#include "test_common.h"

static void write_text(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fputs(s, f);
    fclose(f);
}

static void write_jpeg_flat(const char *path, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) px[3 * i] = r, px[3 * i + 1] = g, px[3 * i + 2] = b;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr em;
    ci.err = jpeg_std_error(&em);
    jpeg_create_compress(&ci);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 100, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = px + (size_t)ci.next_scanline * w * 3;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    fclose(f);
    free(px);
}

/* A folder with: img/a.png (4x4 RGB pattern), img/b.png (8x8 gray constant 90), img/c.jpg (10x6 flat colour). */
static const char *make_images(void) {
    const char *d = hl_test_tmpdir();
    cr_assert(mkdir(hl_test_path(d, "img"), 0755) == 0);
    uint8_t a[4 * 4 * 3], b[8 * 8];
    for (int i = 0; i < 48; i++) a[i] = (uint8_t)(i * 5 + 1);
    memset(b, 90, sizeof b);
    cr_assert_eq(hl_image_write_png(hl_test_path(d, "img/a.png"), a, 4, 4, 3), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_image_write_png(hl_test_path(d, "img/b.png"), b, 8, 8, 1), HL_OK, "%s", hl_error_last());
    write_jpeg_flat(hl_test_path(d, "img/c.jpg"), 10, 6, 200, 100, 50);
    return d;
}

Test(image_list, multi_hot_labels_and_pixels) {
    const char *d = make_images();
    char list[4096];
    /* A UTF-8 BOM, CRLF, trailing spaces and tabs, blank lines (also with only spaces), an absolute path. */
    snprintf(list, sizeof list,
             "\xef\xbb\xbfimg/a.png 1 0 1 0 0\r\n"
             "\r\n"
             "img/b.png\t0 0 0 0 1   \n"
             "   \n"
             "%s/img/c.jpg 1 1 1 1 1\n"
             "img/a.png 0 0 0 0 0",
             d);
    write_text(hl_test_path(d, "train_list.txt"), list);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_image_list(&ds, hl_test_path(d, "train_list.txt"), NULL, 4, 3), HL_OK, "%s",
                 hl_error_last());
    cr_assert(ds.n == 4 && ds.c == 3 && ds.h == 4 && ds.w == 4);
    cr_assert_str_eq(ds.name, "train_list");
    cr_assert_str_eq(ds.source, hl_test_path(d, "train_list.txt"));
    cr_assert(!hl_dataset_single_label(&ds) && ds.class_id == NULL && ds.class_names == NULL);
    cr_assert_eq(ds.labels.nlabels, 5);
    const int want[4][5] = {{1, 0, 1, 0, 0}, {0, 0, 0, 0, 1}, {1, 1, 1, 1, 1}, {0, 0, 0, 0, 0}};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 5; k++) cr_assert_eq(hl_labels_has(&ds.labels, i, k), want[i][k], "row %d label %d", i, k);
    cr_assert_eq(hl_labels_count(&ds.labels, 3), 0, "an all-zero row is an unlabelled sample");
    /* a.png is already 4x4: stored planar exactly (R plane, G plane, B plane). */
    for (int q = 0; q < 16; q++)
        for (int ch = 0; ch < 3; ch++)
            cr_assert_eq(ds.pixels[ch * 16 + q], (uint8_t)((q * 3 + ch) * 5 + 1), "a.png pixel %d ch %d", q, ch);
    cr_assert(memcmp(ds.pixels, ds.pixels + 3 * 48, 48) == 0, "line 4 is a.png again");
    /* b.png: gray 90 replicated, any resize of a constant is the constant. */
    for (int k = 0; k < 48; k++) cr_assert_eq(ds.pixels[48 + k], 90);
    /* c.jpg: flat colour through JPEG q100 and a 10x6 -> 4x4 resize. */
    for (int q = 0; q < 16; q++) {
        cr_assert(abs(ds.pixels[96 + q] - 200) <= 2 && abs(ds.pixels[96 + 16 + q] - 100) <= 2 &&
                      abs(ds.pixels[96 + 32 + q] - 50) <= 2,
                  "c.jpg pixel %d: %d %d %d", q, ds.pixels[96 + q], ds.pixels[112 + q], ds.pixels[128 + q]);
    }
    hl_dataset_free(&ds);

    /* One channel, explicit root, 2x2: a.png's luma averaged by the antialiased 2x shrink. */
    write_text(hl_test_path(d, "l2.txt"), "a.png 1\nb.png 0\n");
    cr_assert_eq(hl_dataset_load_image_list(&ds, hl_test_path(d, "l2.txt"), hl_test_path(d, "img"), 2, 1), HL_OK, "%s",
                 hl_error_last());
    cr_assert(ds.n == 2 && ds.c == 1 && ds.h == 2 && ds.labels.nlabels == 1);
    cr_assert_str_eq(ds.name, "l2");
    for (int k = 0; k < 4; k++) cr_assert_eq(ds.pixels[4 + k], 90);
    hl_dataset_free(&ds);
}

/* Expects the list to fail with `code` and a message containing `part`. */
static void expect_fail(const char *list, const char *root, hl_status code, const char *part) {
    hl_dataset ds;
    hl_status st = hl_dataset_load_image_list(&ds, list, root, 4, 3);
    cr_assert_eq(st, code, "status %s (%s)", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), part) != NULL, "message '%s' lacks '%s'", hl_error_last(), part);
    cr_assert(ds.pixels == NULL && ds.labels.bits == NULL && ds.n == 0, "leftovers");
}

Test(image_list, errors_name_the_line) {
    const char *d = make_images();
    const char *lp = hl_test_path(d, "list.txt");
    char want[1200];
    write_text(lp, "img/a.png 1 0\n\nimg/b.png 0 1 1\n");
    snprintf(want, sizeof want, "%s:3: 3 labels, expected 2 (as on line 1)", lp);
    expect_fail(lp, NULL, HL_EFORMAT, want);
    write_text(lp, "\nimg/a.png 1 0\nimg/b.png 1\n");
    snprintf(want, sizeof want, "%s:3: 1 labels, expected 2 (as on line 2)", lp);
    expect_fail(lp, NULL, HL_EFORMAT, want);
    write_text(lp, "img/a.png 1 0\nimg/b.png 0 2\n");
    snprintf(want, sizeof want, "%s:2: label 2 is '2', expected 0 or 1", lp);
    expect_fail(lp, NULL, HL_EFORMAT, want);
    write_text(lp, "img/a.png\n");
    expect_fail(lp, NULL, HL_EFORMAT, "list.txt:1: no labels after the path");
    write_text(lp, "\n  \r\n");
    expect_fail(lp, NULL, HL_EFORMAT, "no images listed");
    expect_fail(hl_test_path(d, "absent.txt"), NULL, HL_ENOTFOUND, "absent.txt: cannot open");
    /* Missing image: the list line and the image path. */
    write_text(lp, "img/a.png 1\nimg/b.png 0\nimg/zz.png 1\n");
    snprintf(want, sizeof want, "%s:3: %s/img/zz.png: cannot open", lp, d);
    expect_fail(lp, NULL, HL_ENOTFOUND, want);
    /* Corrupt images: text, a truncated PNG, a truncated JPEG. */
    write_text(hl_test_path(d, "img/text.png"), "not an image");
    write_text(lp, "img/a.png 1\nimg/text.png 0\n");
    snprintf(want, sizeof want, "%s:2: %s/img/text.png: not a PNG or JPEG file", lp, d);
    expect_fail(lp, NULL, HL_EFORMAT, want);
    const char *src[2] = {"img/a.png", "img/c.jpg"}, *dst[2] = {"img/cut.png", "img/cut.jpg"};
    for (int f = 0; f < 2; f++) {
        FILE *in = fopen(hl_test_path(d, src[f]), "rb");
        uint8_t buf[4096];
        size_t n = fread(buf, 1, sizeof buf, in);
        fclose(in);
        FILE *out = fopen(hl_test_path(d, dst[f]), "wb");
        fwrite(buf, 1, n * 2 / 3, out);
        fclose(out);
        char l[256];
        snprintf(l, sizeof l, "img/a.png 1\n\n%s 1\n", dst[f]);
        write_text(lp, l);
        snprintf(want, sizeof want, "%s:3: %s/%s: corrupt %s", lp, d, dst[f], f ? "JPEG" : "PNG");
        expect_fail(lp, NULL, HL_EFORMAT, want);
    }
    /* Several bad lines among 60: the first in list order is reported, whatever thread decoded it. */
    char many[4096] = "";
    for (int i = 1; i <= 60; i++)
        strcat(many, i == 21 ? "img/nope1.png 1\n" : i == 12 ? "img/text.png 1\n" : i == 40 ? "img/nope2.png 1\n"
                                                                                  : "img/a.png 1\n");
    write_text(lp, many);
    expect_fail(lp, NULL, HL_EFORMAT, "list.txt:12:");
    /* Arguments */
    write_text(lp, "img/a.png 1\n");
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_image_list(&ds, lp, NULL, 0, 3), HL_EINVAL);
    cr_assert_eq(hl_dataset_load_image_list(&ds, lp, NULL, 4, 2), HL_EINVAL);
}
