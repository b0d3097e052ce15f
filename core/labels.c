/* core/labels.c — label bitsets; see labels.h. */
#include "core/labels.h"

#include <stdlib.h>
#include <string.h>

hl_status hl_labels_create(hl_labels *out, int64_t n, int nlabels) {
    memset(out, 0, sizeof *out);
    if (n < 0 || nlabels < 1)
        return hl_error_set(HL_EINVAL, "label matrix of %lld rows and %d labels", (long long)n, nlabels);
    out->words = (nlabels + 63) / 64;
    out->bits = calloc((size_t)(n ? n : 1) * (size_t)out->words, sizeof *out->bits);
    if (!out->bits) return hl_error_set(HL_ENOMEM, "out of memory for %lld label rows", (long long)n);
    out->n = n;
    out->nlabels = nlabels;
    return HL_OK;
}

void hl_labels_free(hl_labels *l) {
    if (!l) return;
    free(l->bits);
    memset(l, 0, sizeof *l);
}

hl_status hl_labels_from_class_ids(hl_labels *out, const int64_t *ids, int64_t n, int nlabels) {
    hl_status st = hl_labels_create(out, n, nlabels);
    if (st < 0) return st;
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= nlabels) {
            hl_labels_free(out);
            return hl_error_set(HL_EINVAL, "row %lld: class id %lld outside [0, %d)", (long long)i, (long long)ids[i],
                                nlabels);
        }
        hl_labels_set(out, i, (int)ids[i]);
    }
    return HL_OK;
}

hl_status hl_labels_subset(hl_labels *out, const hl_labels *src, const int64_t *idx, int64_t m) {
    hl_status st = hl_labels_create(out, m, src->nlabels);
    if (st < 0) return st;
    for (int64_t i = 0; i < m; i++) {
        HL_ASSERT(idx[i] >= 0 && idx[i] < src->n, "subset index %lld outside [0, %lld)", (long long)idx[i],
                  (long long)src->n);
        memcpy(out->bits + i * out->words, hl_labels_row(src, idx[i]), (size_t)out->words * sizeof *out->bits);
    }
    return HL_OK;
}

int hl_labels_count(const hl_labels *l, int64_t i) {
    int c = 0;
    for (int w = 0; w < l->words; w++) c += __builtin_popcountll(l->bits[i * l->words + w]);
    return c;
}

int hl_labels_class(const hl_labels *l, int64_t i) {
    if (hl_labels_count(l, i) != 1) return -1;
    for (int w = 0; w < l->words; w++)
        if (l->bits[i * l->words + w]) return w * 64 + __builtin_ctzll(l->bits[i * l->words + w]);
    return -1;
}
