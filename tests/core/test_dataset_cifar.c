/* tests/core/test_dataset_cifar.c — CIFAR-10/100 binary files written here in the real format and read back
 * exactly; source order, class names, the folder-or-parent rule, truncation/label errors, and opening by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/dataset.h"
#include "test_common.h"

enum { PIX = 3072, ROWS = 10000 };

/* Pixel k of row r of file f (f = 0..5 for CIFAR-10 batches 1..5 + test; 10/11 for CIFAR-100 train/test). */
static uint8_t px_of(int f, int64_t r, int k) { return (uint8_t)(f * 41 + r * 7 + k * 13 + (r >> 8)); }
static int label10(int f, int64_t r) { return (int)((r * 3 + f) % 10); }
static int fine100(int f, int64_t r) { return (int)((r * 7 + f) % 100); }

/* Writes a whole file of `rows` rows (CIFAR-10 when which == 10). */
static void write_full(const char *path, int which, int f, int64_t rows) {
    const int row = PIX + (which == 10 ? 1 : 2);
    uint8_t *b = malloc((size_t)rows * row);
    for (int64_t r = 0; r < rows; r++) {
        uint8_t *p = b + r * row;
        if (which == 10) p[0] = (uint8_t)label10(f, r);
        else p[0] = (uint8_t)(fine100(f, r) / 5), p[1] = (uint8_t)fine100(f, r);
        for (int k = 0; k < PIX; k++) p[row - PIX + k] = px_of(f, r, k);
    }
    FILE *o = fopen(path, "wb");
    cr_assert(o, "cannot write %s", path);
    cr_assert(fwrite(b, 1, (size_t)rows * row, o) == (size_t)rows * row);
    fclose(o);
    free(b);
}

/* A sparse file of the right size (all-zero rows: label 0, black) with rows 0 and `rows - 1` written. */
static void write_sparse(const char *path, int which, int f, int64_t rows) {
    const int row = PIX + (which == 10 ? 1 : 2);
    FILE *o = fopen(path, "wb");
    cr_assert(o);
    cr_assert(ftruncate(fileno(o), (off_t)rows * row) == 0);
    uint8_t b[PIX + 2];
    int64_t which_rows[2] = {0, rows - 1};
    for (int j = 0; j < 2; j++) {
        int64_t r = which_rows[j];
        if (which == 10) b[0] = (uint8_t)label10(f, r);
        else b[0] = (uint8_t)(fine100(f, r) / 5), b[1] = (uint8_t)fine100(f, r);
        for (int k = 0; k < PIX; k++) b[row - PIX + k] = px_of(f, r, k);
        cr_assert(fseek(o, (long)(r * row), SEEK_SET) == 0);
        cr_assert(fwrite(b, 1, (size_t)row, o) == (size_t)row);
    }
    fclose(o);
}

static void check_row(const hl_dataset *d, int64_t i, int f, int64_t r, int label) {
    cr_assert_eq(d->class_id[i], label, "sample %lld: class %lld, want %d", (long long)i, (long long)d->class_id[i],
                 label);
    cr_assert_eq(hl_labels_class(&d->labels, i), label);
    for (int k = 0; k < PIX; k++)
        cr_assert_eq(d->pixels[i * PIX + k], px_of(f, r, k), "sample %lld pixel %d", (long long)i, k);
}

/* A CIFAR-10 folder: test_batch in full, batches 1..5 sparse; batches.meta.txt with CRLF and blank lines. */
static const char *make_cifar10(const char *parent) {
    static char dir[1024];
    cr_assert(snprintf(dir, sizeof dir, "%s/cifar-10-batches-bin", parent) < (int)sizeof dir);
    cr_assert(mkdir(dir, 0755) == 0);
    for (int b = 0; b < 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b + 1);
        write_sparse(hl_test_path(dir, name), 10, b, ROWS);
    }
    write_full(hl_test_path(dir, "test_batch.bin"), 10, 5, ROWS);
    FILE *m = fopen(hl_test_path(dir, "batches.meta.txt"), "wb");
    fputs("plane\r\ncar\r\nbird\ncat  \ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n\n", m);
    fclose(m);
    return dir;
}

Test(cifar, cifar10_test_part_exact) {
    const char *dir = make_cifar10(hl_test_tmpdir());
    hl_dataset d;
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_OK, "%s", hl_error_last());
    cr_assert(d.n == ROWS && d.c == 3 && d.h == 32 && d.w == 32);
    cr_assert_str_eq(d.name, "cifar10");
    cr_assert_str_eq(d.source, dir);
    cr_assert(hl_dataset_single_label(&d) && d.labels.nlabels == 10 && d.labels.n == ROWS);
    for (int64_t r = 0; r < ROWS; r++) {
        cr_assert_eq(d.class_id[r], label10(5, r));
        cr_assert_eq(hl_labels_count(&d.labels, r), 1);
        cr_assert(hl_labels_has(&d.labels, r, label10(5, r)));
    }
    uint8_t *want = malloc((size_t)ROWS * PIX);
    for (int64_t r = 0; r < ROWS; r++)
        for (int k = 0; k < PIX; k++) want[r * PIX + k] = px_of(5, r, k);
    cr_assert(memcmp(d.pixels, want, (size_t)ROWS * PIX) == 0, "test_batch pixels differ");
    free(want);
    /* Names: CRLF and trailing spaces trimmed, blank lines skipped. */
    cr_assert_str_eq(d.class_names[0], "plane");
    cr_assert_str_eq(d.class_names[1], "car");
    cr_assert_str_eq(d.class_names[3], "cat");
    cr_assert_str_eq(d.class_names[9], "truck");
    /* Reading as float: pixel / 255, channel planes R, G, B in order. */
    int64_t idx[2] = {7, 0};
    float *f = malloc(2 * PIX * sizeof *f);
    hl_dataset_read(&d, idx, 2, f);
    for (int k = 0; k < PIX; k += 97) {
        cr_assert_eq(f[k], (float)px_of(5, 7, k) / 255.0f);
        cr_assert_eq(f[PIX + k], (float)px_of(5, 0, k) / 255.0f);
    }
    free(f);
    hl_dataset_free(&d);
    hl_dataset_free(&d); /* freeing twice is harmless: free leaves it zeroed */
    hl_dataset_free(NULL);
}

Test(cifar, cifar10_all_in_source_order_from_parent) {
    const char *parent = hl_test_tmpdir();
    const char *dir = make_cifar10(parent);
    hl_dataset d;
    /* Passing the parent folder finds cifar-10-batches-bin/ inside it. */
    cr_assert_eq(hl_dataset_load_cifar(&d, parent, 10, "all"), HL_OK, "%s", hl_error_last());
    cr_assert_eq(d.n, 6 * ROWS);
    cr_assert_str_eq(d.source, dir);
    for (int b = 0; b < 5; b++) {
        check_row(&d, (int64_t)b * ROWS, b, 0, label10(b, 0));
        check_row(&d, (int64_t)b * ROWS + ROWS - 1, b, ROWS - 1, label10(b, ROWS - 1));
        cr_assert_eq(d.class_id[(int64_t)b * ROWS + 1], 0, "sparse rows are class 0");
    }
    check_row(&d, 5 * ROWS, 5, 0, label10(5, 0));
    check_row(&d, 6 * ROWS - 1, 5, ROWS - 1, label10(5, ROWS - 1));
    hl_dataset_free(&d);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "train"), HL_OK, "%s", hl_error_last());
    cr_assert_eq(d.n, 5 * ROWS);
    check_row(&d, 4 * ROWS + ROWS - 1, 4, ROWS - 1, label10(4, ROWS - 1));
    hl_dataset_free(&d);
    /* Without batches.meta.txt the built-in names are used. */
    cr_assert(remove(hl_test_path(dir, "batches.meta.txt")) == 0);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(d.class_names[0], "airplane");
    cr_assert_str_eq(d.class_names[9], "truck");
    hl_dataset_free(&d);
}

Test(cifar, cifar100_fine_labels) {
    const char *parent = hl_test_tmpdir();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/cifar-100-binary", parent);
    cr_assert(mkdir(dir, 0755) == 0);
    write_sparse(hl_test_path(dir, "train.bin"), 100, 10, 5 * ROWS);
    write_full(hl_test_path(dir, "test.bin"), 100, 11, ROWS);
    FILE *m = fopen(hl_test_path(dir, "fine_label_names.txt"), "w");
    for (int i = 0; i < 100; i++) fprintf(m, "name%d\n", i);
    fclose(m);
    hl_dataset d;
    cr_assert_eq(hl_dataset_load_cifar(&d, parent, 100, "all"), HL_OK, "%s", hl_error_last());
    cr_assert(d.n == 6 * ROWS && d.labels.nlabels == 100 && d.labels.words == 2);
    cr_assert_str_eq(d.name, "cifar100");
    check_row(&d, 0, 10, 0, fine100(10, 0));
    check_row(&d, 5 * ROWS - 1, 10, 5 * ROWS - 1, fine100(10, 5 * ROWS - 1));
    for (int64_t r = 0; r < ROWS; r += 1237) check_row(&d, 5 * ROWS + r, 11, r, fine100(11, r));
    int64_t hi = 5 * ROWS + 9; /* fine label (9·7 + 11) % 100 = 74 lives in the second word */
    cr_assert_eq(hl_labels_class(&d.labels, hi), 74);
    cr_assert_str_eq(d.class_names[74], "name74");
    hl_dataset_free(&d);
    /* Without the names file: no names. */
    cr_assert(remove(hl_test_path(dir, "fine_label_names.txt")) == 0);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 100, "test"), HL_OK, "%s", hl_error_last());
    cr_assert(d.n == ROWS && d.class_names == NULL);
    hl_dataset_free(&d);
}

Test(cifar, truncated_or_oversized_files) {
    const char *dir = make_cifar10(hl_test_tmpdir());
    const char *path = hl_test_path(dir, "test_batch.bin");
    const long long want = (long long)ROWS * (PIX + 1);
    const long long sizes[] = {0, 1, PIX + 1, want / 2, want - 1, want + 1};
    hl_dataset d;
    for (size_t i = 0; i < HL_ARRAY_LEN(sizes); i++) {
        cr_assert(truncate(path, (off_t)sizes[i]) == 0);
        cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_EFORMAT, "size %lld", sizes[i]);
        char expect[256];
        snprintf(expect, sizeof expect, "%s: %s: expected %lld bytes (10000 rows of 3073), found %lld", path,
                 sizes[i] < want ? "truncated" : "wrong size", want, sizes[i]);
        cr_assert_str_eq(hl_error_last(), expect);
        cr_assert(d.pixels == NULL && d.class_id == NULL && d.n == 0, "nothing left behind");
    }
    cr_assert(remove(path) == 0);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "test_batch.bin") != NULL, "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), "CIFAR-10 binary version expected in") != NULL, "%s", hl_error_last());
    /* Train batches still load; a missing middle batch is reported by name. */
    cr_assert(remove(hl_test_path(dir, "data_batch_3.bin")) == 0);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "train"), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "data_batch_3.bin") != NULL, "%s", hl_error_last());
    cr_assert_eq(hl_dataset_load_cifar(&d, hl_test_tmpdir(), 100, "test"), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "test.bin") != NULL, "%s", hl_error_last());
}

static void poke(const char *path, long off, uint8_t v) {
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    fseek(f, off, SEEK_SET);
    fputc(v, f);
    fclose(f);
}

Test(cifar, bad_labels_and_arguments) {
    const char *parent = hl_test_tmpdir();
    const char *dir = make_cifar10(parent);
    hl_dataset d;
    poke(hl_test_path(dir, "test_batch.bin"), 5L * (PIX + 1), 10);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "test_batch.bin: row 5: class label 10 outside [0, 10)") != NULL, "%s",
              hl_error_last());
    char d100[1024];
    snprintf(d100, sizeof d100, "%s/cifar-100-binary", parent);
    cr_assert(mkdir(d100, 0755) == 0);
    write_full(hl_test_path(d100, "test.bin"), 100, 11, ROWS);
    poke(hl_test_path(d100, "test.bin"), 3L * (PIX + 2) + 1, 100);
    cr_assert_eq(hl_dataset_load_cifar(&d, d100, 100, "test"), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "row 3: fine label 100 outside [0, 100)") != NULL, "%s", hl_error_last());
    poke(hl_test_path(d100, "test.bin"), 3L * (PIX + 2) + 1, 5);
    poke(hl_test_path(d100, "test.bin"), 4L * (PIX + 2), 20);
    cr_assert_eq(hl_dataset_load_cifar(&d, d100, 100, "test"), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "row 4: coarse label 20 outside [0, 20)") != NULL, "%s", hl_error_last());
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 20, "test"), HL_EINVAL);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "validation"), HL_EINVAL);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, NULL), HL_EINVAL);
    /* A names file with the wrong count is an error naming it. */
    FILE *m = fopen(hl_test_path(dir, "batches.meta.txt"), "w");
    fputs("a\nb\nc\n", m);
    fclose(m);
    poke(hl_test_path(dir, "test_batch.bin"), 5L * (PIX + 1), 1);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "batches.meta.txt: expected 10 class names, found 3") != NULL, "%s",
              hl_error_last());
    /* A long name (300 bytes) is one name, not two: ten lines, ten classes, the long one whole. */
    char longname[301];
    memset(longname, 'x', 300);
    longname[300] = 0;
    m = fopen(hl_test_path(dir, "batches.meta.txt"), "w");
    for (int i = 0; i < 10; i++) fprintf(m, "%s\n", i == 3 ? longname : "name");
    fclose(m);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(d.class_names[3], longname);
    cr_assert_str_eq(d.class_names[4], "name");
    hl_dataset_free(&d);
    /* A NUL byte in the names file: not text */
    m = fopen(hl_test_path(dir, "batches.meta.txt"), "wb");
    fwrite("a\nb\0c\n", 1, 6, m);
    fclose(m);
    cr_assert_eq(hl_dataset_load_cifar(&d, dir, 10, "test"), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "batches.meta.txt:2: a NUL byte"), "%s", hl_error_last());
}

Test(cifar, open_by_name_and_not_found_message) {
    const char *root = hl_test_tmpdir(), *env = hl_test_tmpdir(), *home = hl_test_tmpdir(), *cwd = hl_test_tmpdir();
    cr_assert(chdir(cwd) == 0);
    setenv("HASHLAB_DATA", env, 1);
    setenv("HOME", home, 1);
    hl_dataset d;
    cr_assert_eq(hl_dataset_open(&d, "cifar10", root), HL_ENOTFOUND);
    const char *m = hl_error_last();
    char want[1100];
    const char *places[] = {root, env, "data", NULL};
    for (int i = 0; places[i]; i++) {
        snprintf(want, sizeof want, "%s/cifar-10-batches-bin", places[i]);
        cr_assert(strstr(m, want) != NULL, "message lacks %s: %s", want, m);
        snprintf(want, sizeof want, "%s/cifar10", places[i]);
        cr_assert(strstr(m, want) != NULL, "message lacks %s: %s", want, m);
    }
    snprintf(want, sizeof want, "%s/.cache/hashlab/cifar-10-batches-bin", home);
    cr_assert(strstr(m, want) != NULL, "message lacks %s: %s", want, m);
    cr_assert(strstr(m, "/usr/share/datasets/cifar-10-batches-bin") != NULL, "%s", m);
    cr_assert(strstr(m, "hashlab data fetch cifar10") != NULL, "%s", m);
    cr_assert_eq(hl_dataset_open(&d, "cifar100", NULL), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "hashlab data fetch cifar100") != NULL, "%s", hl_error_last());
    cr_assert_eq(hl_dataset_open(&d, "imagenet", NULL), HL_EINVAL);

    /* Found under $HASHLAB_DATA/cifar10/cifar-10-batches-bin (root has nothing): loads train then test. */
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/cifar10", env);
    cr_assert(mkdir(sub, 0755) == 0);
    make_cifar10(sub);
    cr_assert_eq(hl_dataset_open(&d, "cifar10", root), HL_OK, "%s", hl_error_last());
    cr_assert_eq(d.n, 6 * ROWS);
    snprintf(want, sizeof want, "%s/cifar10/cifar-10-batches-bin", env);
    cr_assert_str_eq(d.source, want);
    check_row(&d, 5 * ROWS + 17, 5, 17, label10(5, 17));
    hl_dataset_free(&d);
    /* A broken copy found first is reported, not skipped. */
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", root);
    cr_assert(mkdir(sub, 0755) == 0);
    write_full(hl_test_path(sub, "data_batch_1.bin"), 10, 0, 10);
    cr_assert_eq(hl_dataset_open(&d, "cifar10", root), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "found in") != NULL && strstr(hl_error_last(), "truncated") != NULL, "%s",
              hl_error_last());
}
