/* eval/codes_io.c — codes and labels from/to .npy; see codes_io.h. */
#include "eval/codes_io.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void shape_str(const hl_npy *a, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < a->ndim && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, d ? ", %lld" : "%lld", (long long)a->shape[d]);
    if (n < cap) snprintf(buf + n, cap - n, a->ndim == 1 ? ",)" : ")");
}

static hl_status codes_unpacked(hl_codes *out, const hl_npy *a, const char *name) {
    int64_t n = a->shape[0], k = a->shape[1];
    hl_status st = hl_codes_create(out, n, (int)k);
    if (st < 0) return hl_error_wrap("%s", name);
    int enc = 0; /* 1: {−1,+1} (a −1 seen), 2: {0,1} (a 0 seen) */
    int64_t first = -1;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++) {
            double x = hl_npy_f64_at(a, i * k + j);
            int e = x == -1.0 ? 1 : x == 0.0 ? 2 : 0;
            if (x != 1.0 && e == 0) {
                st = hl_error_set(HL_EINVAL,
                                  "%s: row %lld, column %lld: value %g is not a binary code value (expected all "
                                  "values in {-1,+1} or all in {0,1})%s",
                                  name, (long long)i, (long long)j, x,
                                  a->dtype == HL_NPY_U8 ? "; packed codes? give the bit count (--packed-bits K)"
                                                        : "");
                goto done;
            }
            if (e && enc && e != enc) {
                st = hl_error_set(HL_EINVAL,
                                  "%s: row %lld, column %lld: value %g mixes the {-1,+1} and {0,1} encodings "
                                  "(%s at row %lld, column %lld)",
                                  name, (long long)i, (long long)j, x, enc == 1 ? "-1" : "0", (long long)(first / k),
                                  (long long)(first % k));
                goto done;
            }
            if (e && !enc) enc = e, first = i * k + j;
            if (x == 1.0) hl_codes_set_bit(out, i, (int)j, 1);
        }
done:
    if (st < 0) hl_codes_free(out);
    return st;
}

static hl_status codes_packed(hl_codes *out, const hl_npy *a, int bits, const char *name) {
    int64_t n = a->shape[0], nb = a->shape[1];
    if (a->dtype != HL_NPY_U8)
        return hl_error_set(HL_EINVAL, "%s: packed codes must be uint8 (numpy packbits), got %s", name,
                            hl_npy_dtype_name(a->dtype));
    if (nb != (bits + 7) / 8)
        return hl_error_set(HL_EMISMATCH, "%s: packed %d-bit codes need %d bytes per row, the array has %lld", name,
                            bits, (bits + 7) / 8, (long long)nb);
    hl_status st = hl_codes_create(out, n, bits);
    if (st < 0) return hl_error_wrap("%s", name);
    const unsigned char *p = a->data;
    unsigned char padmask = bits % 8 ? (unsigned char)(0xFFu >> (bits % 8)) : 0;
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *row = p + i * nb;
        if (row[nb - 1] & padmask) {
            hl_codes_free(out);
            return hl_error_set(HL_EINVAL,
                                "%s: row %lld: padding bits after bit %d are not zero (byte 0x%02x); is the bit "
                                "count %d right?",
                                name, (long long)i, bits - 1, row[nb - 1], bits);
        }
        for (int b = 0; b < bits; b++)
            if ((row[b / 8] >> (7 - b % 8)) & 1u) hl_codes_set_bit(out, i, b, 1);
    }
    return HL_OK;
}

hl_status hl_codes_from_npy(hl_codes *out, const hl_npy *a, int packed_bits, const char *name) {
    memset(out, 0, sizeof *out);
    char sh[200];
    shape_str(a, sh, sizeof sh);
    if (packed_bits < 0) return hl_error_set(HL_EINVAL, "%s: packed bit count %d", name, packed_bits);
    if (a->ndim != 2)
        return hl_error_set(HL_EMISMATCH, "%s: codes must be a 2-D array (N, %s), got shape %s", name,
                            packed_bits ? "ceil(K/8)" : "K", sh);
    if (a->shape[1] < 1 || a->shape[1] > INT_MAX / 8)
        return hl_error_set(HL_EMISMATCH, "%s: codes need 1 or more columns (bits), got shape %s", name, sh);
    return packed_bits ? codes_packed(out, a, packed_bits, name) : codes_unpacked(out, a, name);
}

hl_status hl_codes_npy_read(const char *path, int packed_bits, hl_codes *out) {
    hl_npy a;
    memset(out, 0, sizeof *out);
    hl_status st = hl_npy_read(path, &a);
    if (st < 0) return st;
    st = hl_codes_from_npy(out, &a, packed_bits, path);
    hl_npy_free(&a);
    return st;
}

hl_status hl_codes_npy_write(const char *path, const hl_codes *c, bool packed) {
    int64_t cols = packed ? (c->bits + 7) / 8 : c->bits;
    unsigned char *buf = calloc((size_t)(c->n ? c->n : 1) * (size_t)cols, 1);
    if (!buf) return hl_error_set(HL_ENOMEM, "%s: out of memory", path);
    for (int64_t i = 0; i < c->n; i++)
        for (int b = 0; b < c->bits; b++) {
            int v = hl_codes_bit(c, i, b);
            if (packed) buf[i * cols + b / 8] |= (unsigned char)(v << (7 - b % 8));
            else buf[i * cols + b] = (unsigned char)(int8_t)(v ? 1 : -1);
        }
    int64_t shape[2] = {c->n, cols};
    hl_status st = hl_npy_write(path, packed ? HL_NPY_U8 : HL_NPY_I8, 2, shape, buf);
    free(buf);
    return st;
}

/* ==== labels ======================================================================================================= */

hl_status hl_labels_npy_width(const hl_npy *a, const char *name, int *nlabels) {
    char sh[200];
    shape_str(a, sh, sizeof sh);
    *nlabels = 0;
    if (a->ndim == 2) {
        if (a->shape[1] < 1 || a->shape[1] > HL_LABELS_MAX_CLASSES)
            return hl_error_set(HL_EMISMATCH, "%s: multi-hot labels (N, L) need 1 to %d columns, got shape %s", name,
                                HL_LABELS_MAX_CLASSES, sh);
        if (hl_npy_is_float(a->dtype))
            for (int64_t i = 0; i < a->numel; i++)
                if (isnan(hl_npy_f64_at(a, i)))
                    return hl_error_set(HL_EINVAL, "%s: row %lld, column %lld: NaN in multi-hot labels", name,
                                        (long long)(i / a->shape[1]), (long long)(i % a->shape[1]));
        *nlabels = (int)a->shape[1];
        return HL_OK;
    }
    if (a->ndim != 1)
        return hl_error_set(HL_EMISMATCH, "%s: labels must be class ids (N,) or multi-hot (N, L), got shape %s", name,
                            sh);
    int64_t mx = 0;
    for (int64_t i = 0; i < a->numel; i++) {
        int64_t v;
        if (!hl_npy_i64_at(a, i, &v) || v < 0 || v >= HL_LABELS_MAX_CLASSES)
            return hl_error_set(HL_EINVAL, "%s: row %lld: class id %g is not an integer in [0, %d)", name,
                                (long long)i, hl_npy_f64_at(a, i), HL_LABELS_MAX_CLASSES);
        mx = HL_MAX(mx, v);
    }
    *nlabels = (int)mx + 1;
    return HL_OK;
}

hl_status hl_labels_from_npy(hl_labels *out, const hl_npy *a, int nlabels, const char *name) {
    memset(out, 0, sizeof *out);
    int own;
    hl_status st = hl_labels_npy_width(a, name, &own);
    if (st < 0) return st;
    if (nlabels <= 0) nlabels = own;
    if (a->ndim == 2 && nlabels != own)
        return hl_error_set(HL_EMISMATCH, "%s: %d label columns, expected %d", name, own, nlabels);
    if (nlabels < own)
        return hl_error_set(HL_EMISMATCH, "%s: class id %d outside the %d labels of the other file", name, own - 1,
                            nlabels);
    if ((st = hl_labels_create(out, a->shape[0], nlabels)) < 0) return hl_error_wrap("%s", name);
    for (int64_t i = 0; i < a->shape[0]; i++) {
        if (a->ndim == 1) {
            int64_t v = 0;
            hl_npy_i64_at(a, i, &v);
            hl_labels_set(out, i, (int)v);
        } else {
            for (int j = 0; j < nlabels; j++)
                if (hl_npy_f64_at(a, i * nlabels + j) != 0.0) hl_labels_set(out, i, j);
        }
    }
    return HL_OK;
}

hl_status hl_labels_npy_read(const char *path, int nlabels, hl_labels *out) {
    hl_npy a;
    memset(out, 0, sizeof *out);
    hl_status st = hl_npy_read(path, &a);
    if (st < 0) return st;
    st = hl_labels_from_npy(out, &a, nlabels, path);
    hl_npy_free(&a);
    return st;
}

hl_status hl_labels_npy_write(const char *path, const hl_labels *l) {
    unsigned char *buf = calloc((size_t)(l->n ? l->n : 1) * (size_t)l->nlabels, 1);
    if (!buf) return hl_error_set(HL_ENOMEM, "%s: out of memory", path);
    for (int64_t i = 0; i < l->n; i++)
        for (int j = 0; j < l->nlabels; j++) buf[i * l->nlabels + j] = hl_labels_has(l, i, j);
    int64_t shape[2] = {l->n, l->nlabels};
    hl_status st = hl_npy_write(path, HL_NPY_U8, 2, shape, buf);
    free(buf);
    return st;
}
