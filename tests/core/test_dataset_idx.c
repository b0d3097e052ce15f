/* tests/core/test_dataset_idx.c — IDX files written here (raw and gzip via zlib's gzopen) and read back exactly;
 * gzip found by magic bytes; MNIST-folder order and names; malformed headers, truncation at many lengths, count
 * mismatches and corrupt gzip give errors; the real Fashion-MNIST from the dataset-fashion-mnist package. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/data/dataset.h"
#include "test_common.h"

static void put32(uint8_t *b, uint32_t v) {
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
}

static void write_bytes(const char *path, const uint8_t *b, size_t n, bool gz) {
    if (gz) {
        gzFile g = gzopen(path, "wb");
        cr_assert(g);
        cr_assert(n == 0 || gzwrite(g, b, (unsigned)n) == (int)n);
        cr_assert(gzclose(g) == Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert(f);
        cr_assert(fwrite(b, 1, n, f) == n);
        fclose(f);
    }
}

/* In-memory IDX images [n, h, w] with pixel(i, y, x) = pixel_of(seed, ...), and labels. */
static uint8_t pixel_of(int seed, int64_t i, int64_t k) { return (uint8_t)(seed * 59 + i * 31 + k * 7 + (k >> 3)); }

static uint8_t *idx_images(int seed, uint32_t n, uint32_t h, uint32_t w, size_t *len) {
    *len = 16 + (size_t)n * h * w;
    uint8_t *b = malloc(*len);
    put32(b, 0x803), put32(b + 4, n), put32(b + 8, h), put32(b + 12, w);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < (size_t)h * w; k++) b[16 + i * h * w + k] = pixel_of(seed, (int64_t)i, (int64_t)k);
    return b;
}

static uint8_t *idx_labels(const uint8_t *labels, uint32_t n, size_t *len) {
    *len = 8 + n;
    uint8_t *b = malloc(*len);
    put32(b, 0x801), put32(b + 4, n);
    memcpy(b + 8, labels, n);
    return b;
}

static void write_pair(const char *ipath, const char *lpath, int seed, uint32_t n, uint32_t h, uint32_t w,
                       const uint8_t *labels, bool gz_i, bool gz_l) {
    size_t li, ll;
    uint8_t *bi = idx_images(seed, n, h, w, &li), *bl = idx_labels(labels, n, &ll);
    write_bytes(ipath, bi, li, gz_i);
    write_bytes(lpath, bl, ll, gz_l);
    free(bi);
    free(bl);
}

static void expect_fail(const char *ip, const char *lp, hl_status code, const char *part, const char *what);
static void make_mnist_dir(const char *dir, uint32_t n1, uint32_t n2, uint32_t h2);

Test(idx, raw_and_gzip_read_back_exactly) {
    const char *d = hl_test_tmpdir();
    const uint8_t lab[7] = {3, 0, 1, 3, 2, 0, 1};
    for (int gz = 0; gz < 2; gz++) {
        const char *ip = hl_test_path(d, gz ? "img.gz" : "img"), *lp = hl_test_path(d, gz ? "lab.gz" : "lab");
        write_pair(ip, lp, 4, 7, 5, 6, lab, gz, gz);
        hl_dataset ds;
        cr_assert_eq(hl_dataset_load_idx(&ds, ip, lp), HL_OK, "%s", hl_error_last());
        cr_assert(ds.n == 7 && ds.c == 1 && ds.h == 5 && ds.w == 6);
        cr_assert_str_eq(ds.name, gz ? "img" : "img");
        cr_assert_str_eq(ds.source, ip);
        cr_assert_eq(ds.labels.nlabels, 10, "max label 3 still gives 10 classes (MNIST family)");
        cr_assert(ds.class_names == NULL);
        for (int64_t i = 0; i < 7; i++) {
            cr_assert_eq(ds.class_id[i], lab[i]);
            cr_assert_eq(hl_labels_class(&ds.labels, i), lab[i]);
            for (int64_t k = 0; k < 30; k++) cr_assert_eq(ds.pixels[i * 30 + k], pixel_of(4, i, k));
        }
        hl_dataset_free(&ds);
    }
    /* Labels above 9: L = max + 1 when every class from 10 up has an image. */
    const uint8_t big[4] = {12, 10, 5, 11};
    write_pair(hl_test_path(d, "i2"), hl_test_path(d, "l2"), 1, 4, 2, 2, big, false, true);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_idx(&ds, hl_test_path(d, "i2"), hl_test_path(d, "l2")), HL_OK, "%s", hl_error_last());
    cr_assert_eq(ds.labels.nlabels, 13);
    cr_assert_eq(ds.class_id[0], 12);
    hl_dataset_free(&ds);
}

/* A label byte that cannot be a class is refused with the file, the item and the value: MNIST and Fashion-MNIST have
 * classes 0..9 (11 and 255 refused); another IDX set may have more, but not a stray 255 that leaves 10..254 empty. */
Test(idx, labels_outside_the_classes_refused) {
    const char *d = hl_test_tmpdir();
    const uint8_t stray[4] = {3, 255, 5, 0};
    write_pair(hl_test_path(d, "i3"), hl_test_path(d, "l3"), 1, 4, 2, 2, stray, false, false);
    expect_fail(hl_test_path(d, "i3"), hl_test_path(d, "l3"), HL_EFORMAT, "item 1 has label 255 but no image has label 10",
                "stray 255");
    for (int b = 0; b < 2; b++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", d, b ? "mnist" : "fashion-mnist");
        cr_assert(mkdir(dir, 0755) == 0);
        make_mnist_dir(dir, 6, 3, 4);
        const uint8_t bad[3] = {1, 2, b ? 255 : 11}; /* the test labels of the folder, the last one broken */
        size_t ll;
        uint8_t *bl = idx_labels(bad, 3, &ll);
        write_bytes(hl_test_path(dir, "t10k-labels-idx1-ubyte.gz"), bl, ll, true);
        free(bl);
        hl_dataset ds;
        cr_assert_eq(hl_dataset_load_mnist_dir(&ds, dir, NULL), HL_EFORMAT, "%s", b ? "mnist" : "fashion-mnist");
        char want[1200];
        snprintf(want, sizeof want, "t10k-labels-idx1-ubyte.gz: item 2 has label %d, but the set has 10 classes",
                 b ? 255 : 11);
        cr_assert(strstr(hl_error_last(), want), "%s", hl_error_last());
        cr_assert(ds.pixels == NULL && ds.n == 0);
    }
}

/* gzip: concatenated members are one stream (RFC 1952); bytes after the last member are an error naming the count
 * and the offset (zlib's gzread ignores them). */
Test(idx, gzip_trailing_data_refused_members_accepted) {
    const char *d = hl_test_tmpdir();
    const uint8_t lab[3] = {1, 2, 3};
    const char *ip = hl_test_path(d, "img"), *lp = hl_test_path(d, "lab.gz");
    write_pair(ip, lp, 1, 3, 2, 2, lab, false, true);
    size_t n;
    unsigned char *gzb = hl_test_read_file(lp, &n), *two = malloc(2 * n + 8);
    cr_assert_not_null(two);
    /* trailing garbage */
    memcpy(two, gzb, n);
    memcpy(two + n, "garbage!", 8);
    hl_test_write_file(lp, two, n + 8);
    char want[64];
    snprintf(want, sizeof want, "8 bytes of trailing data after the gzip stream, at offset %zu", n);
    expect_fail(ip, lp, HL_EFORMAT, want, "trailing garbage");
    /* a second member holding more label bytes makes the file longer than its header says */
    memcpy(two, gzb, n);
    memcpy(two + n, gzb, n);
    hl_test_write_file(lp, two, 2 * n);
    expect_fail(ip, lp, HL_EFORMAT, "longer than its header says", "two members");
    /* the header in one member, the labels in the next: read as one stream */
    size_t ll;
    uint8_t *raw = idx_labels(lab, 3, &ll);
    write_bytes(hl_test_path(d, "m1"), raw, 8, true);
    write_bytes(hl_test_path(d, "m2"), raw + 8, ll - 8, true);
    size_t n1, n2;
    unsigned char *m1 = hl_test_read_file(hl_test_path(d, "m1"), &n1), *m2 = hl_test_read_file(hl_test_path(d, "m2"), &n2);
    unsigned char *cat = malloc(n1 + n2);
    memcpy(cat, m1, n1);
    memcpy(cat + n1, m2, n2);
    hl_test_write_file(lp, cat, n1 + n2);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_idx(&ds, ip, lp), HL_OK, "%s", hl_error_last());
    cr_assert(ds.n == 3 && ds.class_id[2] == 3);
    hl_dataset_free(&ds);
    free(raw), free(m1), free(m2), free(cat), free(gzb), free(two);
}

Test(idx, gzip_detected_by_magic_not_name) {
    const char *d = hl_test_tmpdir();
    const uint8_t lab[2] = {1, 2};
    /* gzip data under a plain name, plain data under a .gz name */
    write_pair(hl_test_path(d, "images-plain-name"), hl_test_path(d, "labels.gz"), 2, 2, 3, 3, lab, true, false);
    size_t n;
    uint8_t *b = (uint8_t *)hl_test_read_file(hl_test_path(d, "images-plain-name"), &n);
    cr_assert(n > 2 && b[0] == 0x1f && b[1] == 0x8b, "fixture is gzip");
    free(b);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_idx(&ds, hl_test_path(d, "images-plain-name"), hl_test_path(d, "labels.gz")), HL_OK, "%s",
                 hl_error_last());
    cr_assert(ds.n == 2 && ds.pixels[9 + 4] == pixel_of(2, 1, 4) && ds.class_id[1] == 2);
    hl_dataset_free(&ds);
}

/* Four files of an MNIST-style folder (train n1, t10k n2, 4 x 3 images). */
static void make_mnist_dir(const char *dir, uint32_t n1, uint32_t n2, uint32_t h2) {
    uint8_t l1[64], l2[64];
    for (uint32_t i = 0; i < n1; i++) l1[i] = (uint8_t)((i * 3) % 10);
    for (uint32_t i = 0; i < n2; i++) l2[i] = (uint8_t)((i * 7 + 1) % 10);
    write_pair(hl_test_path(dir, "train-images-idx3-ubyte.gz"), hl_test_path(dir, "train-labels-idx1-ubyte"), 1, n1, 4, 3, l1, true,
               false);
    write_pair(hl_test_path(dir, "t10k-images-idx3-ubyte"), hl_test_path(dir, "t10k-labels-idx1-ubyte.gz"), 2, n2, h2, 3, l2, false,
               true);
}

Test(idx, mnist_dir_train_then_test) {
    const char *parent = hl_test_tmpdir();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fashion-mnist", parent);
    cr_assert(mkdir(dir, 0755) == 0);
    make_mnist_dir(dir, 6, 3, 4);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_mnist_dir(&ds, dir, NULL), HL_OK, "%s", hl_error_last());
    cr_assert(ds.n == 9 && ds.h == 4 && ds.w == 3 && ds.c == 1);
    cr_assert_str_eq(ds.name, "fashion-mnist", "name from the folder");
    cr_assert_str_eq(ds.source, dir);
    for (int64_t i = 0; i < 9; i++) {
        bool tr = i < 6;
        int64_t j = tr ? i : i - 6;
        cr_assert_eq(ds.class_id[i], tr ? (j * 3) % 10 : (j * 7 + 1) % 10, "sample %lld", (long long)i);
        for (int64_t k = 0; k < 12; k++) cr_assert_eq(ds.pixels[i * 12 + k], pixel_of(tr ? 1 : 2, j, k));
    }
    cr_assert_str_eq(ds.class_names[0], "T-shirt/top");
    cr_assert_str_eq(ds.class_names[9], "Ankle boot");
    hl_dataset_free(&ds);
    cr_assert_eq(hl_dataset_load_mnist_dir(&ds, dir, "mnist"), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(ds.name, "mnist");
    cr_assert_str_eq(ds.class_names[7], "7");
    hl_dataset_free(&ds);
    cr_assert_eq(hl_dataset_load_mnist_dir(&ds, dir, "my-digits"), HL_OK, "%s", hl_error_last());
    cr_assert(ds.class_names == NULL);
    hl_dataset_free(&ds);
    /* Different image sizes between train and test. */
    make_mnist_dir(dir, 6, 3, 5);
    cr_assert_eq(hl_dataset_load_mnist_dir(&ds, dir, NULL), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "4x3") && strstr(hl_error_last(), "5x3"), "%s", hl_error_last());
    /* A missing file names both spellings. */
    cr_assert(remove(hl_test_path(dir, "t10k-labels-idx1-ubyte.gz")) == 0);
    cr_assert_eq(hl_dataset_load_mnist_dir(&ds, dir, NULL), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "t10k-labels-idx1-ubyte[.gz]: not found"), "%s", hl_error_last());
    cr_assert(ds.pixels == NULL && ds.n == 0);
}

/* Expects loading (images, labels) to fail with `code` and a message containing `part`. */
static void expect_fail(const char *ip, const char *lp, hl_status code, const char *part, const char *what) {
    hl_dataset ds;
    hl_status st = hl_dataset_load_idx(&ds, ip, lp);
    cr_assert_eq(st, code, "%s: status %s (%s)", what, hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), part) != NULL, "%s: message '%s' lacks '%s'", what, hl_error_last(), part);
    cr_assert(ds.pixels == NULL && ds.class_id == NULL && ds.labels.bits == NULL && ds.n == 0, "%s: leftovers", what);
}

Test(idx, truncated_at_many_lengths) {
    const char *d = hl_test_tmpdir();
    const uint8_t lab[5] = {1, 2, 3, 4, 5};
    size_t li, ll;
    uint8_t *bi = idx_images(3, 5, 6, 7, &li), *bl = idx_labels(lab, 5, &ll);
    write_bytes(hl_test_path(d, "lab"), bl, ll, false);
    for (int gz = 0; gz < 2; gz++) {
        size_t cuts[] = {0, 1, 3, 4, 7, 8, 15, 16, 17, li / 2, li - 1};
        for (size_t k = 0; k < HL_ARRAY_LEN(cuts); k++) {
            const char *ip = hl_test_path(d, "img");
            write_bytes(ip, bi, cuts[k], gz);
            char what[64];
            snprintf(what, sizeof what, "images cut at %zu (%s)", cuts[k], gz ? "gzip" : "raw");
            expect_fail(ip, hl_test_path(d, "lab"), HL_EFORMAT, "truncated", what);
        }
        /* labels cut */
        write_bytes(hl_test_path(d, "img"), bi, li, gz);
        size_t lcuts[] = {0, 5, 8, 9, ll - 1};
        for (size_t k = 0; k < HL_ARRAY_LEN(lcuts); k++) {
            write_bytes(hl_test_path(d, "lab2"), bl, lcuts[k], gz);
            expect_fail(hl_test_path(d, "img"), hl_test_path(d, "lab2"), HL_EFORMAT, "truncated", "labels cut");
        }
    }
    /* The exact message for data cut short. */
    write_bytes(hl_test_path(d, "img"), bi, li - 10, false);
    char want[1200];
    snprintf(want, sizeof want, "%s: truncated: expected 210 bytes of images after the header, found 200",
             hl_test_path(d, "img"));
    expect_fail(hl_test_path(d, "img"), hl_test_path(d, "lab"), HL_EFORMAT, want, "exact message");
    /* A gzip file whose compressed stream is cut (not just its content). */
    write_bytes(hl_test_path(d, "img.gz"), bi, li, true);
    size_t gn;
    uint8_t *g = (uint8_t *)hl_test_read_file(hl_test_path(d, "img.gz"), &gn);
    size_t gcuts[] = {2, 10, gn / 2, gn - 9, gn - 1};
    for (size_t k = 0; k < HL_ARRAY_LEN(gcuts); k++) {
        write_bytes(hl_test_path(d, "cut.gz"), g, gcuts[k], false);
        hl_dataset ds;
        hl_status st = hl_dataset_load_idx(&ds, hl_test_path(d, "cut.gz"), hl_test_path(d, "lab"));
        cr_assert(st == HL_EFORMAT, "gzip cut at %zu: %s (%s)", gcuts[k], hl_status_name(st), hl_error_last());
    }
    /* Corrupt deflate data (bytes flipped in the middle of the stream). */
    for (size_t i = gn / 3; i < gn / 3 + 8; i++) g[i] ^= 0xa5;
    write_bytes(hl_test_path(d, "bad.gz"), g, gn, false);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_idx(&ds, hl_test_path(d, "bad.gz"), hl_test_path(d, "lab")), HL_EFORMAT, "%s", hl_error_last());
    free(g);
    /* One byte too many. */
    bi = realloc(bi, li + 1);
    bi[li] = 0;
    write_bytes(hl_test_path(d, "long"), bi, li + 1, false);
    expect_fail(hl_test_path(d, "long"), hl_test_path(d, "lab"), HL_EFORMAT, "longer than its header says", "trailing byte");
    free(bi);
    free(bl);
}

Test(idx, wrong_magic_absurd_dims_and_mismatches) {
    const char *d = hl_test_tmpdir();
    const uint8_t lab[4] = {0, 1, 2, 3};
    size_t li, ll;
    uint8_t *bi = idx_images(1, 4, 2, 2, &li), *bl = idx_labels(lab, 4, &ll);
    const char *ip = hl_test_path(d, "img"), *lp = hl_test_path(d, "lab");
    write_bytes(lp, bl, ll, false);
    uint8_t h[16];
    memcpy(h, bi, 16);
    /* Not IDX at all */
    put32(bi, 0x12345678);
    write_bytes(ip, bi, li, false);
    expect_fail(ip, lp, HL_EFORMAT, "not an IDX file (magic 0x12345678; IDX images start with 0x00000803)", "magic");
    /* IDX with another element type */
    put32(bi, 0x00000903);
    write_bytes(ip, bi, li, false);
    expect_fail(ip, lp, HL_EFORMAT, "data type 0x09", "dtype");
    /* Labels file given as images, and images as labels */
    expect_fail(lp, lp, HL_EFORMAT, "has 1 dimensions, IDX images have 3", "labels as images");
    memcpy(bi, h, 16);
    write_bytes(ip, bi, li, false);
    expect_fail(ip, ip, HL_EFORMAT, "has 3 dimensions, IDX labels have 1", "images as labels");
    /* Absurd dimensions */
    uint32_t dims[][3] = {{0, 2, 2}, {4, 0, 2}, {4, 100000, 2}, {4, 2, 20000}, {0x7fffffffu, 16384, 16384}};
    const char *msgs[] = {"dimension 0: 0", "dimension 1: 0", "dimension 1: 100000", "dimension 2: 20000",
                          "dimensions multiply past"};
    for (size_t k = 0; k < HL_ARRAY_LEN(dims); k++) {
        put32(bi + 4, dims[k][0]), put32(bi + 8, dims[k][1]), put32(bi + 12, dims[k][2]);
        write_bytes(ip, bi, li, false);
        expect_fail(ip, lp, HL_EFORMAT, msgs[k], "absurd dims");
    }
    /* Plausible but huge header on a small file: truncated, without allocating the claimed size. */
    put32(bi + 4, 1u << 30), put32(bi + 8, 28), put32(bi + 12, 28);
    write_bytes(ip, bi, li, true);
    expect_fail(ip, lp, HL_EFORMAT, "expected 841813590016 bytes of images after the header, found 16", "huge");
    /* Count mismatch */
    memcpy(bi, h, 16);
    write_bytes(ip, bi, li, false);
    uint8_t *b3 = idx_labels(lab, 3, &ll);
    write_bytes(lp, b3, ll, true);
    char want[2200];
    snprintf(want, sizeof want, "%s holds 4 images but %s holds 3 labels", ip, lp);
    expect_fail(ip, lp, HL_EMISMATCH, want, "count mismatch");
    /* Missing files */
    expect_fail(hl_test_path(d, "nope"), lp, HL_ENOTFOUND, "nope: cannot open", "missing images");
    expect_fail(ip, hl_test_path(d, "nolab"), HL_ENOTFOUND, "nolab: cannot open", "missing labels");
    free(b3);
    free(bi);
    free(bl);
}

#define FMNIST "/usr/share/datasets/fashion-mnist"

/* The real Fashion-MNIST as installed by `apt-get install dataset-fashion-mnist` (make test installs it). */
Test(fashion_mnist, real_dataset_from_debian_package, .timeout = 60) {
    struct stat sb;
    cr_assert(stat(FMNIST "/train-images-idx3-ubyte.gz", &sb) == 0,
              FMNIST " is missing: apt-get install dataset-fashion-mnist (scripts/install-deps.sh does)");
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_mnist_dir(&ds, FMNIST, "fashion-mnist"), HL_OK, "%s", hl_error_last());
    cr_assert(ds.n == 70000 && ds.c == 1 && ds.h == 28 && ds.w == 28, "%lld %dx%dx%d", (long long)ds.n, ds.c, ds.h,
              ds.w);
    cr_assert_eq(ds.labels.nlabels, 10);
    int64_t per[10] = {0}, per_train[10] = {0};
    for (int64_t i = 0; i < ds.n; i++) {
        per[ds.class_id[i]]++;
        if (i < 60000) per_train[ds.class_id[i]]++;
    }
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(per[k], 7000, "class %d has %lld samples", k, (long long)per[k]);
        cr_assert_eq(per_train[k], 6000);
    }
    /* Known facts: the first training labels are 9 0 0 3 0 2 7 2 5 5 (9 = Ankle boot), the first test labels
     * 9 2 1 1 6; the first training image's pixels sum to 76,247 with a maximum of 255. */
    const int first_train[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, first_test[5] = {9, 2, 1, 1, 6};
    for (int i = 0; i < 10; i++) cr_assert_eq(ds.class_id[i], first_train[i], "train label %d", i);
    for (int i = 0; i < 5; i++) cr_assert_eq(ds.class_id[60000 + i], first_test[i], "test label %d", i);
    cr_assert_str_eq(ds.class_names[ds.class_id[0]], "Ankle boot");
    int64_t sum = 0;
    int mx = 0;
    for (int k = 0; k < 784; k++) sum += ds.pixels[k], mx = HL_MAX(mx, ds.pixels[k]);
    cr_assert(sum == 76247 && mx == 255, "first image sum %lld max %d", (long long)sum, mx);
    hl_dataset_free(&ds);

    /* By name: with nothing under root, $HASHLAB_DATA, ./data or ~/.cache/hashlab it is found in /usr/share. */
    const char *empty = hl_test_tmpdir();
    cr_assert(chdir(empty) == 0);
    setenv("HASHLAB_DATA", empty, 1);
    setenv("HOME", empty, 1);
    cr_assert_eq(hl_dataset_open(&ds, "fashion-mnist", empty), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(ds.source, FMNIST);
    cr_assert_eq(ds.n, 70000);
    hl_dataset_free(&ds);
}

Test(idx, open_by_name) {
    const char *root = hl_test_tmpdir(), *empty = hl_test_tmpdir();
    cr_assert(chdir(empty) == 0);
    setenv("HASHLAB_DATA", empty, 1);
    setenv("HOME", empty, 1);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_open(&ds, "mnist", root), HL_ENOTFOUND);
    char want[1100];
    snprintf(want, sizeof want, "%s/mnist, %s/mnist, data/mnist, %s/.cache/hashlab/mnist, /usr/share/datasets/mnist",
             root, empty, empty);
    cr_assert(strstr(hl_error_last(), want) != NULL, "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), "t10k-labels-idx1-ubyte.gz"), "the fix names the files: %s", hl_error_last());
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/mnist", root);
    cr_assert(mkdir(dir, 0755) == 0);
    make_mnist_dir(dir, 5, 2, 4);
    cr_assert_eq(hl_dataset_open(&ds, "mnist", root), HL_OK, "%s", hl_error_last());
    cr_assert(ds.n == 7 && strcmp(ds.name, "mnist") == 0 && strcmp(ds.source, dir) == 0);
    hl_dataset_free(&ds);
}

/* Seeded mutations of a valid gzip IDX pair (header bytes, body bytes, cuts): load or fail cleanly. */
Test(idx, mutated_files_never_crash) {
    const char *d = hl_test_tmpdir();
    const uint8_t lab[6] = {0, 1, 2, 3, 4, 5};
    size_t li, ll;
    uint8_t *bi = idx_images(5, 6, 5, 5, &li), *bl = idx_labels(lab, 6, &ll);
    write_bytes(hl_test_path(d, "lab"), bl, ll, false);
    hl_rng r = hl_rng_make(3, 3);
    uint8_t *m = malloc(li);
    int ok = 0;
    for (int it = 0; it < 200; it++) {
        memcpy(m, bi, li);
        size_t len = li;
        size_t at = (size_t)hl_rng_below(&r, it % 2 ? 16 : li);
        if (it % 5 == 4) len = at;
        else m[at] = (uint8_t)hl_rng_u32(&r);
        write_bytes(hl_test_path(d, "img"), m, len, it % 3 == 0);
        hl_dataset ds;
        hl_status st = hl_dataset_load_idx(&ds, hl_test_path(d, "img"), hl_test_path(d, "lab"));
        cr_assert(st == HL_OK || st == HL_EFORMAT || st == HL_EMISMATCH, "mutation %d: %s (%s)", it,
                  hl_status_name(st), hl_error_last());
        ok += st == HL_OK;
        hl_dataset_free(&ds);
    }
    cr_assert(ok > 0 && ok < 200);
    free(m);
    free(bi);
    free(bl);
}
