/* core/labels.h — label sets as bitsets: the relevance vocabulary shared by datasets, splits and metrics.
 *
 * Every sample carries a SET of labels (multi-hot). A single-label dataset (CIFAR, MNIST) has exactly one bit set
 * per row. Rows are `words` = ceil(L / 64) uint64 words; label l of row i is bit (l % 64) of word i·words + l / 64;
 * bits at and above L are zero. Relevance (METRICS.md): rows i and j are relevant when they share at least one label.
 */
#ifndef HL_LABELS_H
#define HL_LABELS_H

#include "core/common.h"

typedef struct hl_labels {
    int64_t n;      /* rows */
    int nlabels;    /* L >= 1 */
    int words;      /* ceil(L / 64) */
    uint64_t *bits; /* [n, words], owned */
} hl_labels;

/* Zero-filled n × L label matrix. */
hl_status hl_labels_create(hl_labels *out, int64_t n, int nlabels);
void hl_labels_free(hl_labels *l); /* NULL-safe; leaves *l zeroed */
/* One-hot rows from class ids in [0, L); an id out of range is HL_EINVAL naming the row. */
hl_status hl_labels_from_class_ids(hl_labels *out, const int64_t *ids, int64_t n, int nlabels);
/* Copy of the rows idx[0..m) (a split's subset). */
hl_status hl_labels_subset(hl_labels *out, const hl_labels *src, const int64_t *idx, int64_t m);

static inline const uint64_t *hl_labels_row(const hl_labels *l, int64_t i) { return l->bits + i * l->words; }
static inline void hl_labels_set(hl_labels *l, int64_t i, int label) {
    l->bits[i * l->words + label / 64] |= (uint64_t)1 << (label % 64);
}
static inline bool hl_labels_has(const hl_labels *l, int64_t i, int label) {
    return (l->bits[i * l->words + label / 64] >> (label % 64)) & 1u;
}
/* Number of labels in row i (0 = an unlabelled sample). */
int hl_labels_count(const hl_labels *l, int64_t i);
/* Row i of a and row j of b share a label (a and b must have the same L). */
static inline bool hl_labels_relevant(const hl_labels *a, int64_t i, const hl_labels *b, int64_t j) {
    const uint64_t *x = hl_labels_row(a, i), *y = hl_labels_row(b, j);
    for (int w = 0; w < a->words; w++)
        if (x[w] & y[w]) return true;
    return false;
}
/* Class id of a one-label row, or −1 if the row has zero or several labels. */
int hl_labels_class(const hl_labels *l, int64_t i);

#endif
