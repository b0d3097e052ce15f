/* core/data/batch.h — seeded shuffled mini-batches over an index list, carrying sample indices and labels.
 *
 *     hl_batcher b;
 *     hl_batcher_opts o = {.batch = 128, .seed = 1, .shuffle = true, .aug = {.crop_pad = 4, .hflip = true}};
 *     if ((st = hl_batcher_init(&b, &ds, split.train.idx, split.train.n, &o)) < 0) return st;
 *     for (int64_t e = 0; e < epochs; e++) {
 *         hl_batcher_start(&b, e);
 *         hl_batch bt;
 *         while (hl_batcher_next(&b, &bt)) { ... bt.images [bt.m, C, H, W], bt.index, bt.labels ... }
 *     }
 *     hl_batcher_free(&b);
 *
 * Order: epoch e visits idx[perm_e[0]], idx[perm_e[1]], … where perm_e = hl_batcher_order(seed, e, n) (a
 * permutation of 0..n-1 from hl_rng_permutation on hl_rng_make(seed, HL_BATCH_STREAM + e)); without shuffle,
 * perm_e is the identity. The order does not depend on the batch size: batches are consecutive runs of B positions;
 * the last one has n mod B samples, or is dropped with drop_last. Every index of the list appears exactly once per
 * epoch (once per occurrence in the list).
 *
 * Images come from hl_dataset_read (pixel / 255, float32); then, when opts.aug is enabled, each is transformed per
 * sample with hl_augment_draw(&aug, seed, epoch, sample index) (core/data/augment.h) — so an image's augmentation
 * depends only on (seed, epoch, dataset index), never on B, batch position or threads.
 */
#ifndef HL_BATCH_H
#define HL_BATCH_H

#include "core/data/augment.h"
#include "core/data/dataset.h"

#define HL_BATCH_STREAM 0x4241544348000000ull /* "BATCH": + epoch */

typedef struct hl_batcher_opts {
    int64_t batch;   /* B >= 1 */
    uint64_t seed;   /* keys the epoch orders and the augmentation */
    bool shuffle;    /* false: the list's own order every epoch */
    bool drop_last;  /* drop a last batch smaller than B */
    bool drop_single; /* drop a last batch of exactly one sample (training through batch norm needs two) */
    hl_augment aug;  /* zeroed: no augmentation */
} hl_batcher_opts;

/* One batch; its buffers belong to the batcher and stay valid until the next hl_batcher_next / start / free. */
typedef struct hl_batch {
    int64_t m;               /* samples: B, or fewer in a last partial batch */
    int64_t epoch, step;     /* the epoch and this batch's number within it (0-based) */
    const int64_t *index;    /* [m] dataset sample indices */
    float *images;           /* [m, C, H, W] in [0, 1] (augmented when enabled); writable scratch */
    const hl_labels *labels; /* m label rows (labels->n = m); NULL over a dataset without labels (a label-less view) */
    const int64_t *class_id; /* [m] class ids, NULL for multi-label datasets */
} hl_batch;

typedef struct hl_batcher {
    const hl_dataset *d;
    hl_batcher_opts o;
    int64_t n;        /* list length */
    int64_t *idx;     /* [n] copy of the list */
    int64_t *perm;    /* [n] this epoch's order */
    int64_t epoch, pos, step;
    int64_t *bidx;    /* [B] */
    int64_t *bclass;  /* [B] or NULL */
    float *img, *tmp; /* [B, C, H, W]; tmp only with augmentation */
    hl_labels blab;   /* B rows; n set to m per batch */
} hl_batcher;

/* Copies idx; an index outside [0, d->n), B < 1, a negative crop padding or a dataset without pixels is HL_EINVAL.
 * Starts at epoch 0. */
hl_status hl_batcher_init(hl_batcher *b, const hl_dataset *d, const int64_t *idx, int64_t n,
                          const hl_batcher_opts *o);
void hl_batcher_free(hl_batcher *b); /* NULL-safe; leaves *b zeroed */
/* Rewinds to the start of `epoch` (>= 0), computing its order. */
void hl_batcher_start(hl_batcher *b, int64_t epoch);
/* Rewinds to `epoch` and skips its first `step` batches (resuming a stream of batches: the next batch is the one
 * an uninterrupted batcher would give after step batches of that epoch). */
void hl_batcher_seek(hl_batcher *b, int64_t epoch, int64_t step);
/* Fills *out with the next batch of the current epoch; false (and *out zeroed) when the epoch is over. */
bool hl_batcher_next(hl_batcher *b, hl_batch *out);
/* Batches per epoch: ceil(n / B), or floor(n / B) with drop_last. */
int64_t hl_batcher_count(const hl_batcher *b);
/* perm[0..n) = the shuffled order of positions for (seed, epoch) (what hl_batcher_start uses with shuffle). */
void hl_batcher_order(uint64_t seed, int64_t epoch, int64_t n, int64_t *perm);

#endif
