/* tests/core/test_batch.c — seeded shuffled batches: coverage, order independent of B, epochs, labels, augmentation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/batch.h"
#include "test_common.h"

enum { N = 50, C = 2, H = 5, W = 4, SZ = C * H * W, L = 4 };

/* Pixel t of sample i = (7i + t) % 256, class i % 4 (sample identity is visible in its pixels). */
static void ds_make(hl_dataset *d) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "batch-test");
    d->n = N;
    d->c = C, d->h = H, d->w = W;
    d->pixels = malloc(N * SZ);
    for (int i = 0; i < N; i++)
        for (int t = 0; t < SZ; t++) d->pixels[i * SZ + t] = (uint8_t)((7 * i + t) % 256);
    d->class_id = malloc(N * sizeof *d->class_id);
    for (int i = 0; i < N; i++) d->class_id[i] = i % L;
    cr_assert_eq(hl_labels_from_class_ids(&d->labels, d->class_id, N, L), HL_OK);
}

static void ds_free(hl_dataset *d) {
    free(d->pixels);
    free(d->class_id);
    hl_labels_free(&d->labels);
}

/* The whole epoch's sample sequence (and optionally the images, [n, SZ]). Returns the number of batches. */
static int64_t run_epoch(hl_batcher *b, int64_t epoch, int64_t *seq, float *imgs) {
    hl_batcher_start(b, epoch);
    hl_batch bt;
    int64_t k = 0, steps = 0;
    while (hl_batcher_next(b, &bt)) {
        cr_assert_eq(bt.step, steps);
        cr_assert_eq(bt.epoch, epoch);
        for (int64_t j = 0; j < bt.m; j++) {
            seq[k] = bt.index[j];
            if (imgs) memcpy(imgs + k * SZ, bt.images + j * SZ, SZ * sizeof(float));
            k++;
        }
        steps++;
    }
    cr_assert_eq(bt.m, 0, "the end of an epoch zeroes the batch");
    return steps;
}

Test(batch, covers_each_index_once_with_images_and_labels) {
    hl_dataset d;
    ds_make(&d);
    /* The list: every sample but multiples of 5, reversed (40 indices). */
    int64_t idx[N], n = 0;
    for (int i = N - 1; i >= 0; i--)
        if (i % 5) idx[n++] = i;
    hl_batcher b;
    hl_batcher_opts o = {.batch = 7, .seed = 3, .shuffle = true};
    cr_assert_eq(hl_batcher_init(&b, &d, idx, n, &o), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_batcher_count(&b), 6);
    for (int64_t e = 0; e < 3; e++) {
        hl_batcher_start(&b, e);
        int seen[N] = {0};
        int64_t sizes[8], steps = 0;
        hl_batch bt;
        while (hl_batcher_next(&b, &bt)) {
            sizes[steps++] = bt.m;
            cr_assert_eq(bt.labels->n, bt.m);
            for (int64_t j = 0; j < bt.m; j++) {
                int64_t i = bt.index[j];
                cr_assert(i % 5 != 0, "index %lld is not in the list", (long long)i);
                seen[i]++;
                cr_assert_eq(bt.class_id[j], i % L);
                cr_assert_eq(hl_labels_class(bt.labels, j), (int)(i % L));
                for (int t = 0; t < SZ; t++)
                    cr_assert_eq(bt.images[j * SZ + t], (float)((7 * i + t) % 256) / 255.0f, "sample %lld, t %d",
                                 (long long)i, t);
            }
        }
        cr_assert_eq(steps, 6);
        for (int s = 0; s < 5; s++) cr_assert_eq(sizes[s], 7);
        cr_assert_eq(sizes[5], 5); /* 40 = 5·7 + 5 */
        for (int i = 0; i < N; i++) cr_assert_eq(seen[i], i % 5 ? 1 : 0, "epoch %lld: sample %d seen %d times",
                                                 (long long)e, i, seen[i]);
    }
    hl_batcher_free(&b);
    hl_batcher_free(&b);
    hl_batcher_free(NULL);
    ds_free(&d);
}

Test(batch, order_independent_of_batch_size_and_differs_across_epochs) {
    hl_dataset d;
    ds_make(&d);
    int64_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = (i * 13) % N; /* a permuted list */
    int64_t seq[4][N], perm[N];
    const int64_t sizes[4] = {1, 7, 50, 64};
    for (int k = 0; k < 4; k++) {
        hl_batcher b;
        hl_batcher_opts o = {.batch = sizes[k], .seed = 11, .shuffle = true};
        cr_assert_eq(hl_batcher_init(&b, &d, idx, N, &o), HL_OK);
        cr_assert_eq(run_epoch(&b, 2, seq[k], NULL), (N + sizes[k] - 1) / sizes[k]);
        hl_batcher_free(&b);
    }
    for (int k = 1; k < 4; k++) cr_assert_eq(memcmp(seq[0], seq[k], sizeof seq[0]), 0, "B = %lld", (long long)sizes[k]);
    hl_batcher_order(11, 2, N, perm);
    for (int j = 0; j < N; j++) cr_assert_eq(seq[0][j], idx[perm[j]]);
    /* Epochs: different orders; the same epoch again is the same order; another seed, another order. */
    hl_batcher b;
    hl_batcher_opts o = {.batch = 8, .seed = 11, .shuffle = true};
    cr_assert_eq(hl_batcher_init(&b, &d, idx, N, &o), HL_OK);
    int64_t e0[N], e1[N], again[N];
    run_epoch(&b, 0, e0, NULL);
    run_epoch(&b, 1, e1, NULL);
    run_epoch(&b, 0, again, NULL);
    cr_assert_neq(memcmp(e0, e1, sizeof e0), 0);
    cr_assert_eq(memcmp(e0, again, sizeof e0), 0);
    int same = 0;
    for (int j = 0; j < N; j++) same += e0[j] == e1[j];
    cr_assert_lt(same, 10, "epochs 0 and 1 agree at %d of 50 positions", same);
    hl_batcher_free(&b);
    o.seed = 12;
    cr_assert_eq(hl_batcher_init(&b, &d, idx, N, &o), HL_OK);
    run_epoch(&b, 2, again, NULL);
    cr_assert_neq(memcmp(seq[0], again, sizeof again), 0);
    hl_batcher_free(&b);
    ds_free(&d);
}

Test(batch, drop_last_and_no_shuffle) {
    hl_dataset d;
    ds_make(&d);
    int64_t idx[N], seq[N];
    for (int i = 0; i < N; i++) idx[i] = N - 1 - i;
    hl_batcher b;
    hl_batcher_opts o = {.batch = 7, .seed = 1, .shuffle = false, .drop_last = true};
    cr_assert_eq(hl_batcher_init(&b, &d, idx, N, &o), HL_OK);
    cr_assert_eq(hl_batcher_count(&b), 7);
    cr_assert_eq(run_epoch(&b, 5, seq, NULL), 7); /* 49 samples; the last one is dropped */
    for (int j = 0; j < 49; j++) cr_assert_eq(seq[j], idx[j], "no shuffle keeps the list order");
    hl_batcher_free(&b);
    /* drop_single: 49 = 6·8 + 1 drops only a last batch of exactly one sample; 50 = 6·8 + 2 keeps it. */
    hl_batcher_opts o1 = {.batch = 8, .seed = 1, .shuffle = true, .drop_single = true};
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 49, &o1), HL_OK);
    cr_assert_eq(hl_batcher_count(&b), 6);
    cr_assert_eq(run_epoch(&b, 0, seq, NULL), 6);
    hl_batcher_free(&b);
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 50, &o1), HL_OK);
    cr_assert_eq(hl_batcher_count(&b), 7);
    cr_assert_eq(run_epoch(&b, 0, seq, NULL), 7);
    hl_batcher_free(&b);
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 1, &o1), HL_OK); /* a list of one still gives its batch */
    cr_assert_eq(hl_batcher_count(&b), 1);
    hl_batcher_free(&b);
    /* Empty list: no batches. */
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 0, &o), HL_OK);
    hl_batch bt;
    cr_assert_eq(hl_batcher_count(&b), 0);
    cr_assert(!hl_batcher_next(&b, &bt));
    hl_batcher_free(&b);
    ds_free(&d);
}

Test(batch, augmentation_keyed_by_sample_not_batch) {
    hl_dataset d;
    ds_make(&d);
    int64_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = i;
    float *img[2] = {malloc(N * SZ * sizeof(float)), malloc(N * SZ * sizeof(float))};
    int64_t seq[2][N];
    const int64_t sizes[2] = {3, 16};
    hl_augment aug = {.crop_pad = 2, .hflip = true};
    for (int k = 0; k < 2; k++) {
        hl_batcher b;
        hl_batcher_opts o = {.batch = sizes[k], .seed = 21, .shuffle = true, .aug = aug};
        cr_assert_eq(hl_batcher_init(&b, &d, idx, N, &o), HL_OK);
        run_epoch(&b, 4, seq[k], img[k]);
        hl_batcher_free(&b);
    }
    cr_assert_eq(memcmp(seq[0], seq[1], sizeof seq[0]), 0);
    cr_assert_eq(memcmp(img[0], img[1], N * SZ * sizeof(float)), 0, "augmentation depends on the batch size");
    /* Each image = hl_augment_image(pixel / 255, draw(seed, epoch, sample)); some are actually changed. */
    int changed = 0;
    for (int j = 0; j < N; j++) {
        int64_t i = seq[0][j];
        float src[SZ], want[SZ];
        for (int t = 0; t < SZ; t++) src[t] = (float)d.pixels[i * SZ + t] / 255.0f;
        hl_augment_image(src, want, C, H, W, 2, hl_augment_draw(&aug, 21, 4, i));
        cr_assert_eq(memcmp(want, img[0] + j * SZ, sizeof want), 0, "sample %lld", (long long)i);
        changed += memcmp(src, want, sizeof src) != 0;
    }
    cr_assert_gt(changed, N / 2);
    free(img[0]);
    free(img[1]);
    ds_free(&d);
}

Test(batch, errors) {
    hl_dataset d;
    ds_make(&d);
    int64_t idx[3] = {0, 50, 2};
    hl_batcher b;
    hl_batcher_opts o = {.batch = 4, .seed = 1};
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 3, &o), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "index 50 (position 1) outside [0, 50)"), "%s", hl_error_last());
    cr_assert_null(b.idx);
    o.batch = 0;
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 1, &o), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "batch size 0"), "%s", hl_error_last());
    o.batch = 2;
    o.aug.crop_pad = -1;
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 1, &o), HL_EINVAL);
    o.aug.crop_pad = 0;
    uint8_t *px = d.pixels;
    d.pixels = NULL;
    cr_assert_eq(hl_batcher_init(&b, &d, idx, 1, &o), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "no images"), "%s", hl_error_last());
    d.pixels = px;
    ds_free(&d);
}
