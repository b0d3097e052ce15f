/* core/data/cifar.c — CIFAR-10 / CIFAR-100 binary version; see dataset.h.
 *
 * CIFAR-10 (cifar-10-batches-bin/): data_batch_1..5.bin, test_batch.bin, 10,000 rows each of
 *   <label byte 0..9><3072 pixel bytes: R plane, G plane, B plane, each 32×32 row-major>; names in batches.meta.txt.
 * CIFAR-100 (cifar-100-binary/): train.bin (50,000 rows), test.bin (10,000 rows) of
 *   <coarse label 0..19><fine label 0..99><3072 pixel bytes>; fine names in fine_label_names.txt.
 * The pixel bytes are already in hl_dataset's [c, h, w] order, so rows are copied as they are. File sizes must match
 * exactly; a missing names file gives the built-in CIFAR-10 names, or no names for CIFAR-100.
 */
#include "core/data/dataset.h"
#include "core/data/dataset_impl.h"
#include "core/io/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { CIFAR_PIXELS = 3 * 32 * 32, CIFAR_FILE_ROWS = 10000, CIFAR_CHUNK = 1000 };

static const char *const cifar10_names[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Reads one batch file of `rows` rows into pixels/class_id. */
static hl_status read_batch(const char *path, int which, int64_t rows, uint8_t *pixels, int64_t *class_id) {
    const int64_t row = CIFAR_PIXELS + (which == 10 ? 1 : 2), want = rows * row;
    hl_status st = HL_OK;
    uint8_t *buf = NULL;
    FILE *f = NULL;
    int64_t fsize = 0;
    if ((st = hl_file_open_read(path, &f, &fsize)) < 0) return st;
    if (fsize != want) {
        st = hl_error_set(HL_EFORMAT, "%s: %s: expected %lld bytes (%lld rows of %lld), found %lld", path,
                          fsize < want ? "truncated" : "wrong size", (long long)want, (long long)rows,
                          (long long)row, (long long)fsize);
        goto done;
    }
    buf = malloc((size_t)(CIFAR_CHUNK * row));
    if (!buf) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t r0 = 0; r0 < rows; r0 += CIFAR_CHUNK) {
        int64_t nr = HL_MIN((int64_t)CIFAR_CHUNK, rows - r0);
        if (fread(buf, 1, (size_t)(nr * row), f) != (size_t)(nr * row)) {
            st = hl_error_set(HL_EIO, "%s: read error at row %lld", path, (long long)r0);
            goto done;
        }
        for (int64_t r = 0; r < nr; r++) {
            const uint8_t *src = buf + r * row;
            int label = which == 10 ? src[0] : src[1];
            if (label >= which || (which == 100 && src[0] >= 20)) {
                st = hl_error_set(HL_EFORMAT, "%s: row %lld: %s label %d outside [0, %d)", path, (long long)(r0 + r),
                                  label >= which ? (which == 10 ? "class" : "fine") : "coarse",
                                  label >= which ? label : src[0], label >= which ? which : 20);
                goto done;
            }
            class_id[r0 + r] = label;
            memcpy(pixels + (r0 + r) * CIFAR_PIXELS, src + row - CIFAR_PIXELS, CIFAR_PIXELS);
        }
    }
done:
    free(buf);
    fclose(f);
    return st;
}

/* Class names: one per non-empty line, of any length (trailing spaces/CR trimmed; a NUL byte is an error). Missing
 * file: built-in or none. */
static hl_status read_names(hl_dataset *out, const char *dir, int which) {
    char path[1200], *line = NULL;
    size_t cap = 0;
    snprintf(path, sizeof path, "%s/%s", dir, which == 10 ? "batches.meta.txt" : "fine_label_names.txt");
    FILE *f = fopen(path, "r");
    if (!f) {
        if (which == 100) return HL_OK;
        out->class_names = hl_dataset_names_dup(cifar10_names, 10);
        return out->class_names ? HL_OK : hl_error_set(HL_ENOMEM, "out of memory");
    }
    const char *names[100];
    char *store[100] = {0};
    int n = 0, lineno = 0;
    hl_status st = HL_OK;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        size_t k = strlen(line);
        lineno++;
        if ((ssize_t)k != len) {
            st = hl_error_set(HL_EFORMAT, "%s:%d: a NUL byte in a class name (not a text file?)", path, lineno);
            goto done;
        }
        while (k && (line[k - 1] == '\n' || line[k - 1] == '\r' || line[k - 1] == ' ' || line[k - 1] == '\t'))
            line[--k] = 0;
        if (!k) continue;
        if (n == which) {
            st = hl_error_set(HL_EFORMAT, "%s: more than %d class names", path, which);
            goto done;
        }
        if (!(store[n] = strdup(line))) {
            st = hl_error_set(HL_ENOMEM, "out of memory");
            goto done;
        }
        names[n] = store[n];
        n++;
    }
    if (n != which) {
        st = hl_error_set(HL_EFORMAT, "%s: expected %d class names, found %d", path, which, n);
        goto done;
    }
    out->class_names = hl_dataset_names_dup(names, which);
    if (!out->class_names) st = hl_error_set(HL_ENOMEM, "out of memory");
done:
    for (int i = 0; i < n; i++) free(store[i]);
    free(line);
    fclose(f);
    return st;
}

hl_status hl_dataset_load_cifar(hl_dataset *out, const char *dir, int which, const char *part) {
    memset(out, 0, sizeof *out);
    if (which != 10 && which != 100) return hl_error_set(HL_EINVAL, "CIFAR variant must be 10 or 100, not %d", which);
    bool train = part && (strcmp(part, "train") == 0 || strcmp(part, "all") == 0);
    bool test = part && (strcmp(part, "test") == 0 || strcmp(part, "all") == 0);
    if (!train && !test)
        return hl_error_set(HL_EINVAL, "CIFAR part must be train, test or all, not '%s'", part ? part : "(null)");

    hl_status st = HL_OK;
    char folder[1024], path[1200];
    snprintf(folder, sizeof folder, "%s/%s", dir, which == 10 ? "cifar-10-batches-bin" : "cifar-100-binary");
    if (!is_dir(folder)) snprintf(folder, sizeof folder, "%s", dir);

    const char *files[6];
    int64_t rows[6];
    int nf = 0;
    if (which == 10) {
        static const char *const b[5] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                         "data_batch_4.bin", "data_batch_5.bin"};
        for (int i = 0; train && i < 5; i++) files[nf] = b[i], rows[nf++] = CIFAR_FILE_ROWS;
        if (test) files[nf] = "test_batch.bin", rows[nf++] = CIFAR_FILE_ROWS;
    } else {
        if (train) files[nf] = "train.bin", rows[nf++] = 5 * CIFAR_FILE_ROWS;
        if (test) files[nf] = "test.bin", rows[nf++] = CIFAR_FILE_ROWS;
    }
    int64_t n = 0;
    for (int i = 0; i < nf; i++) n += rows[i];

    out->pixels = malloc((size_t)n * CIFAR_PIXELS);
    out->class_id = malloc((size_t)n * sizeof *out->class_id);
    if (!out->pixels || !out->class_id) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %lld CIFAR images", folder, (long long)n);
        goto done;
    }
    int64_t at = 0;
    for (int i = 0; i < nf; i++) {
        snprintf(path, sizeof path, "%s/%s", folder, files[i]);
        st = read_batch(path, which, rows[i], out->pixels + at * CIFAR_PIXELS, out->class_id + at);
        if (st == HL_ENOTFOUND)
            hl_error_wrap("CIFAR-%d binary version expected in %s (%s)", which, folder,
                          which == 10 ? "data_batch_1..5.bin, test_batch.bin" : "train.bin, test.bin");
        if (st < 0) goto done;
        at += rows[i];
    }
    HL_TRY(hl_labels_from_class_ids(&out->labels, out->class_id, n, which));
    HL_TRY(read_names(out, folder, which));
    out->n = n;
    out->c = 3;
    out->h = out->w = 32;
    snprintf(out->name, sizeof out->name, "cifar%d", which);
    snprintf(out->source, sizeof out->source, "%s", folder);
done:
    if (st < 0) hl_dataset_free(out);
    return st;
}
