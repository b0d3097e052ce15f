/* core/data/batch.c — seeded shuffled mini-batches; see batch.h. */
#include "core/data/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

void hl_batcher_order(uint64_t seed, int64_t epoch, int64_t n, int64_t *perm) {
    HL_ASSERT(epoch >= 0 && n >= 0, "batcher order: epoch %lld, n %lld", (long long)epoch, (long long)n);
    hl_rng r = hl_rng_make(seed, HL_BATCH_STREAM + (uint64_t)epoch);
    hl_rng_permutation(&r, perm, n);
}

hl_status hl_batcher_init(hl_batcher *b, const hl_dataset *d, const int64_t *idx, int64_t n,
                          const hl_batcher_opts *o) {
    hl_status st = HL_OK;
    memset(b, 0, sizeof *b);
    if (o->batch < 1 || n < 0 || o->aug.crop_pad < 0)
        return hl_error_set(HL_EINVAL, "batcher over '%s': batch size %lld, %lld indices, crop padding %d", d->name,
                            (long long)o->batch, (long long)n, o->aug.crop_pad);
    if (!d->pixels || d->c < 1 || d->h < 1 || d->w < 1 || (hl_dataset_has_labels(d) && d->labels.n != d->n))
        return hl_error_set(HL_EINVAL, "batcher over '%s': dataset has no images or its label rows disagree",
                            d->name);
    for (int64_t j = 0; j < n; j++)
        if (idx[j] < 0 || idx[j] >= d->n)
            return hl_error_set(HL_EINVAL, "batcher over '%s': index %lld (position %lld) outside [0, %lld)",
                                d->name, (long long)idx[j], (long long)j, (long long)d->n);
    b->d = d;
    b->o = *o;
    b->n = n;
    int64_t B = o->batch, sz = hl_dataset_image_size(d);
    size_t nn = (size_t)(n ? n : 1), img = (size_t)B * (size_t)sz * sizeof(float);
    b->idx = malloc(nn * sizeof *b->idx);
    b->perm = malloc(nn * sizeof *b->perm);
    b->bidx = malloc((size_t)B * sizeof *b->bidx);
    b->bclass = d->class_id ? malloc((size_t)B * sizeof *b->bclass) : NULL;
    b->img = malloc(img);
    b->tmp = hl_augment_enabled(&o->aug) ? malloc(img) : NULL;
    if (!b->idx || !b->perm || !b->bidx || (d->class_id && !b->bclass) || !b->img ||
        (hl_augment_enabled(&o->aug) && !b->tmp)) {
        st = hl_error_set(HL_ENOMEM, "batcher over '%s': out of memory for batches of %lld images", d->name,
                          (long long)B);
        goto done;
    }
    if (hl_dataset_has_labels(d)) HL_TRY(hl_labels_create(&b->blab, B, d->labels.nlabels));
    if (n) memcpy(b->idx, idx, (size_t)n * sizeof *idx);
    hl_batcher_start(b, 0);
done:
    if (st < 0) hl_batcher_free(b);
    return st;
}

void hl_batcher_free(hl_batcher *b) {
    if (!b) return;
    free(b->idx);
    free(b->perm);
    free(b->bidx);
    free(b->bclass);
    free(b->img);
    free(b->tmp);
    hl_labels_free(&b->blab);
    memset(b, 0, sizeof *b);
}

void hl_batcher_start(hl_batcher *b, int64_t epoch) {
    HL_ASSERT(epoch >= 0, "batcher: epoch %lld", (long long)epoch);
    if (b->o.shuffle) hl_batcher_order(b->o.seed, epoch, b->n, b->perm);
    else
        for (int64_t j = 0; j < b->n; j++) b->perm[j] = j;
    b->epoch = epoch;
    b->pos = 0;
    b->step = 0;
}

void hl_batcher_seek(hl_batcher *b, int64_t epoch, int64_t step) {
    hl_batcher_start(b, epoch);
    HL_ASSERT(step >= 0, "batcher: step %lld", (long long)step);
    b->pos = HL_MIN(b->n, step * b->o.batch);
    b->step = step;
}

int64_t hl_batcher_count(const hl_batcher *b) {
    int64_t full = b->n / b->o.batch, rest = b->n % b->o.batch;
    bool last = rest > 0 && !b->o.drop_last && !(b->o.drop_single && rest == 1 && full > 0);
    return full + (last ? 1 : 0);
}

bool hl_batcher_next(hl_batcher *b, hl_batch *out) {
    memset(out, 0, sizeof *out);
    int64_t m = HL_MIN(b->o.batch, b->n - b->pos);
    if (m <= 0 || (b->o.drop_last && m < b->o.batch)) return false;
    if (b->o.drop_single && m == 1 && b->pos > 0) return false;
    const hl_dataset *d = b->d;
    bool aug = hl_augment_enabled(&b->o.aug);
    float *dst = aug ? b->tmp : b->img;
    for (int64_t j = 0; j < m; j++) {
        int64_t i = b->idx[b->perm[b->pos + j]];
        b->bidx[j] = i;
        if (b->blab.bits)
            memcpy(b->blab.bits + j * b->blab.words, hl_labels_row(&d->labels, i),
                   (size_t)b->blab.words * sizeof *b->blab.bits);
        if (b->bclass) b->bclass[j] = d->class_id[i];
    }
    hl_dataset_read(d, b->bidx, m, dst);
    if (aug) hl_augment_batch(&b->o.aug, b->tmp, b->img, m, d->c, d->h, d->w, b->o.seed, b->epoch, b->bidx);
    b->blab.n = m;
    out->m = m;
    out->epoch = b->epoch;
    out->step = b->step++;
    out->index = b->bidx;
    out->images = b->img;
    out->labels = b->blab.bits ? &b->blab : NULL;
    out->class_id = b->bclass;
    b->pos += m;
    return true;
}
