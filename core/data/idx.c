/* core/data/idx.c — IDX files (MNIST family), raw or gzip-compressed; see dataset.h.
 *
 * Format: big-endian header <0x00><0x00><type 0x08 = unsigned byte><ndims> then ndims uint32 sizes, then the data
 * row-major. Images: magic 0x00000803, dims [n, h, w]; labels: magic 0x00000801, dims [n]. Files are read through
 * core/io/zread.h, which inflates gzip (recognised by its magic bytes 1f 8b, not by the file name; trailing bytes
 * after the gzip stream are an error) or reads other files as they are. The data must be exactly as long as the header says. The buffer grows
 * with the data actually read, so a header claiming absurd sizes cannot make us allocate more than the file holds.
 * Labels: MNIST and Fashion-MNIST (named so, or a directory of that name) have exactly 10 classes: a label byte of
 * 10 or more is an error naming the file, the item and the value. Other IDX sets: L = max label + 1, at least 10 (the
 * MNIST family), and every class from 10 up to the largest label must have an image: a stray byte (255 in a 0..9
 * file) is an error, not 246 empty classes.
 */
#include "core/data/dataset.h"
#include "core/data/dataset_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/zread.h"

enum { IDX_MAX_SIDE = 16384, IDX_MIN_CLASSES = 10 };
#define IDX_MAX_COUNT ((int64_t)1 << 31)
#define IDX_MAX_BYTES ((int64_t)1 << 40)

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
static const char *const digit_names[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

static uint32_t be32(const uint8_t *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Reads an IDX file with `ndims` dimensions (3 images, 1 labels): dims[0..ndims) and data (owned by the caller). */
static hl_status idx_read(const char *path, int ndims, int64_t dims[3], uint8_t **data) {
    *data = NULL;
    const char *what = ndims == 3 ? "images" : "labels";
    hl_status st = HL_OK;
    uint8_t hdr[16], *buf = NULL;
    hl_zread *g = NULL;
    HL_TRY(hl_zread_open(&g, path));
    int64_t hl = 4 + 4 * (int64_t)ndims, got = hl_zread_read(g, hdr, 4);
    if (got < 0) {
        st = hl_error_code();
        goto done;
    }
    uint32_t magic = got == 4 ? be32(hdr) : 0, want_magic = 0x800u | (uint32_t)ndims;
    if (got < 4 || magic != want_magic) {
        if (got < 4)
            st = hl_error_set(HL_EFORMAT, "%s: truncated: %lld bytes, shorter than an IDX header", path,
                              (long long)got);
        else if (hdr[0] || hdr[1] || hdr[3] < 1 || hdr[3] > 4)
            st = hl_error_set(HL_EFORMAT, "%s: not an IDX file (magic 0x%08x; IDX %s start with 0x%08x)", path, magic,
                              what, want_magic);
        else if (hdr[2] != 0x08)
            st = hl_error_set(HL_EFORMAT, "%s: IDX data type 0x%02x is not unsigned byte (0x08)", path, hdr[2]);
        else
            st = hl_error_set(HL_EFORMAT, "%s: IDX file has %d dimensions, IDX %s have %d (magic 0x%08x)", path,
                              hdr[3], what, ndims, want_magic);
        goto done;
    }
    got = hl_zread_read(g, hdr + 4, hl - 4);
    if (got < 0) {
        st = hl_error_code();
        goto done;
    }
    if (got < hl - 4) {
        st = hl_error_set(HL_EFORMAT, "%s: truncated: header needs %lld bytes, found %lld", path, (long long)hl,
                          (long long)(4 + got));
        goto done;
    }
    int64_t total = 1;
    for (int d = 0; d < ndims; d++) {
        dims[d] = be32(hdr + 4 + 4 * d);
        int64_t lim = d == 0 ? IDX_MAX_COUNT : IDX_MAX_SIDE;
        if (dims[d] < 1 || dims[d] > lim) {
            st = hl_error_set(HL_EFORMAT, "%s: absurd IDX dimension %d: %lld (allowed 1..%lld)", path, d,
                              (long long)dims[d], (long long)lim);
            goto done;
        }
        if (total > IDX_MAX_BYTES / dims[d]) {
            st = hl_error_set(HL_EFORMAT, "%s: absurd IDX size: the dimensions multiply past %lld bytes", path,
                              (long long)IDX_MAX_BYTES);
            goto done;
        }
        total *= dims[d];
    }
    /* Grow with the data: at most twice what the file really holds is ever allocated. */
    int64_t cap = HL_MIN(total, (int64_t)1 << 24), have = 0;
    buf = malloc((size_t)cap);
    while (buf) {
        got = hl_zread_read(g, buf + have, cap - have);
        if (got < 0) {
            st = hl_error_code();
            goto done;
        }
        have += got;
        if (have < cap || cap == total) break;
        int64_t nc = HL_MIN(total, 2 * cap);
        uint8_t *nb = realloc(buf, (size_t)nc);
        if (!nb) free(buf);
        buf = nb;
        cap = nc;
    }
    if (!buf) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %lld bytes", path, (long long)cap);
        goto done;
    }
    if (have < total) {
        st = hl_error_set(HL_EFORMAT, "%s: truncated: expected %lld bytes of %s after the header, found %lld", path,
                          (long long)total, what, (long long)have);
        goto done;
    }
    uint8_t extra;
    got = hl_zread_read(g, &extra, 1);
    if (got != 0) {
        if (got > 0)
            st = hl_error_set(HL_EFORMAT, "%s: longer than its header says (%lld bytes of %s expected)", path,
                              (long long)total, what);
        else
            st = hl_error_code();
        goto done;
    }
    *data = buf;
    buf = NULL;
done:
    free(buf);
    hl_zread_close(g);
    return st;
}

/* One images + labels pair: pixels [n, h, w] and class ids. */
typedef struct idx_pair {
    int64_t n, h, w;
    uint8_t *pixels, *labels;
} idx_pair;

static void pair_free(idx_pair *p) {
    free(p->pixels);
    free(p->labels);
    memset(p, 0, sizeof *p);
}

/* classes > 0: every label must be below it. */
static hl_status pair_read(idx_pair *p, const char *images, const char *labels, int classes) {
    memset(p, 0, sizeof *p);
    int64_t di[3], dl[3];
    hl_status st = idx_read(images, 3, di, &p->pixels);
    if (st < 0) return st;
    st = idx_read(labels, 1, dl, &p->labels);
    if (st < 0) {
        pair_free(p);
        return st;
    }
    if (di[0] != dl[0]) {
        pair_free(p);
        return hl_error_set(HL_EMISMATCH, "%s holds %lld images but %s holds %lld labels", images, (long long)di[0],
                            labels, (long long)dl[0]);
    }
    p->n = di[0];
    p->h = di[1];
    p->w = di[2];
    for (int64_t i = 0; classes > 0 && i < p->n; i++)
        if (p->labels[i] >= classes) {
            hl_status e = hl_error_set(HL_EFORMAT, "%s: item %lld has label %d, but the set has %d classes (0..%d): a "
                                       "damaged or foreign label file", labels, (long long)i, p->labels[i], classes,
                                       classes - 1);
            pair_free(p);
            return e;
        }
    return HL_OK;
}

/* Classes of a named MNIST-family set (0: not one). */
static int known_classes(const char *name) {
    return name && (strcmp(name, "mnist") == 0 || strcmp(name, "fashion-mnist") == 0) ? IDX_MIN_CLASSES : 0;
}

/* Fills out from a pair (taking its pixels); labels: L = max + 1, at least 10. */
static hl_status finish(hl_dataset *out, idx_pair *p, const char *name, const char *source) {
    hl_status st = HL_OK;
    out->class_id = calloc((size_t)p->n, sizeof *out->class_id);
    if (!out->class_id) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", source);
        goto done;
    }
    int L = IDX_MIN_CLASSES;
    int64_t seen[256] = {0}, at_max = 0;
    for (int64_t i = 0; i < p->n; i++) {
        out->class_id[i] = p->labels[i];
        seen[p->labels[i]]++;
        if (p->labels[i] + 1 > L) L = p->labels[i] + 1, at_max = i;
    }
    for (int c = IDX_MIN_CLASSES; c < L; c++)
        if (!seen[c]) {
            st = hl_error_set(HL_EFORMAT, "%s: item %lld has label %d but no image has label %d: labels must be the "
                              "classes 0..L-1 (a damaged label file?)", source, (long long)at_max, L - 1, c);
            goto done;
        }
    HL_TRY(hl_labels_from_class_ids(&out->labels, out->class_id, p->n, L));
    if (L == 10 && (strcmp(name, "fashion-mnist") == 0 || strcmp(name, "mnist") == 0)) {
        out->class_names = hl_dataset_names_dup(name[0] == 'f' ? fashion_names : digit_names, 10);
        if (!out->class_names) {
            st = hl_error_set(HL_ENOMEM, "%s: out of memory", source);
            goto done;
        }
    }
    out->pixels = p->pixels;
    p->pixels = NULL;
    out->n = p->n;
    out->c = 1;
    out->h = (int)p->h;
    out->w = (int)p->w;
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->source, sizeof out->source, "%s", source);
done:
    pair_free(p);
    if (st < 0) hl_dataset_free(out);
    return st;
}

hl_status hl_dataset_load_idx(hl_dataset *out, const char *images_path, const char *labels_path) {
    memset(out, 0, sizeof *out);
    idx_pair p;
    const char *base = strrchr(images_path, '/');
    base = base ? base + 1 : images_path;
    char name[64];
    snprintf(name, sizeof name, "%s", base);
    size_t k = strlen(name);
    if (k > 3 && strcmp(name + k - 3, ".gz") == 0) name[k - 3] = 0;
    hl_status st = pair_read(&p, images_path, labels_path, known_classes(name));
    if (st < 0) return st;
    return finish(out, &p, name, images_path);
}

/* dir/stem, or dir/stem.gz if only that exists; HL_ENOTFOUND naming both otherwise. */
static hl_status find_file(char *path, size_t cap, const char *dir, const char *stem) {
    snprintf(path, cap, "%s/%s", dir, stem);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(path, cap, "%s/%s.gz", dir, stem);
        f = fopen(path, "rb");
    }
    if (!f) return hl_error_set(HL_ENOTFOUND, "%s/%s[.gz]: not found", dir, stem);
    fclose(f);
    return HL_OK;
}

hl_status hl_dataset_load_mnist_dir(hl_dataset *out, const char *dir, const char *name) {
    memset(out, 0, sizeof *out);
    static const char *const stems[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char paths[4][1100];
    idx_pair tr = {0}, te = {0};
    hl_status st = HL_OK;
    for (int i = 0; i < 4; i++) HL_TRY(find_file(paths[i], sizeof paths[i], dir, stems[i]));
    char nm[64];
    if (name && *name) {
        snprintf(nm, sizeof nm, "%s", name);
    } else {
        size_t k = strlen(dir);
        while (k > 1 && dir[k - 1] == '/') k--;
        size_t b = k;
        while (b > 0 && dir[b - 1] != '/') b--;
        snprintf(nm, sizeof nm, "%.*s", (int)(k - b), dir + b);
    }
    HL_TRY(pair_read(&tr, paths[0], paths[1], known_classes(nm)));
    HL_TRY(pair_read(&te, paths[2], paths[3], known_classes(nm)));
    if (tr.h != te.h || tr.w != te.w) {
        st = hl_error_set(HL_EMISMATCH, "%s: training images are %lldx%lld but test images (%s) are %lldx%lld", dir,
                          (long long)tr.h, (long long)tr.w, paths[2], (long long)te.h, (long long)te.w);
        goto done;
    }
    int64_t n = tr.n + te.n, sz = tr.h * tr.w;
    uint8_t *px = realloc(tr.pixels, (size_t)(n * sz)), *lb = px ? realloc(tr.labels, (size_t)n) : NULL;
    if (px) tr.pixels = px;
    if (lb) tr.labels = lb;
    if (!px || !lb) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %lld images", dir, (long long)n);
        goto done;
    }
    memcpy(tr.pixels + tr.n * sz, te.pixels, (size_t)(te.n * sz));
    memcpy(tr.labels + tr.n, te.labels, (size_t)te.n);
    tr.n = n;
    st = finish(out, &tr, nm, dir);
done:
    pair_free(&tr);
    pair_free(&te);
    return st;
}
