/* tests/core/test_augment.c — random crop with zero padding and horizontal flip: hand-worked values, keyed draws. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/augment.h"
#include "core/rng.h"
#include "test_common.h"

static void expect_image(const float *got, const float *want, int n, const char *what) {
    for (int i = 0; i < n; i++) cr_assert_eq(got[i], want[i], "%s: element %d is %g, want %g", what, i, got[i], want[i]);
}

Test(augment, hand_worked_1x3x3) {
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float y[9];
    /* pad 1, offset (dy, dx) = (0, 2): crop[y][x] = img[y − 1][x + 1] → rows (0 0 0), (2 3 0), (5 6 0). */
    hl_augment_image(x, y, 1, 3, 3, 1, (hl_augment_params){0, 2, false});
    expect_image(y, (const float[]){0, 0, 0, 2, 3, 0, 5, 6, 0}, 9, "crop (0,2)");
    /* ... then flipped: each row reversed → (0 0 0), (0 3 2), (0 6 5). */
    hl_augment_image(x, y, 1, 3, 3, 1, (hl_augment_params){0, 2, true});
    expect_image(y, (const float[]){0, 0, 0, 0, 3, 2, 0, 6, 5}, 9, "crop (0,2) + flip");
    /* offset (2, 0) + flip: crop[y][x] = img[y + 1][x − 1] → (0 4 5), (0 7 8), (0 0 0); flipped → (5 4 0),
     * (8 7 0), (0 0 0). */
    hl_augment_image(x, y, 1, 3, 3, 1, (hl_augment_params){2, 0, true});
    expect_image(y, (const float[]){5, 4, 0, 8, 7, 0, 0, 0, 0}, 9, "crop (2,0) + flip");
    /* offset (p, p) is the identity; flip alone mirrors. */
    hl_augment_image(x, y, 1, 3, 3, 1, (hl_augment_params){1, 1, false});
    expect_image(y, x, 9, "identity");
    hl_augment_image(x, y, 1, 3, 3, 0, (hl_augment_params){0, 0, true});
    expect_image(y, (const float[]){3, 2, 1, 6, 5, 4, 9, 8, 7}, 9, "flip only");
    /* pad 3 on a 3×3 image, offset (0, 6): the window lies entirely in the padding. */
    hl_augment_image(x, y, 1, 3, 3, 3, (hl_augment_params){0, 6, false});
    expect_image(y, (const float[]){0, 0, 0, 0, 0, 0, 0, 0, 0}, 9, "all padding");
}

Test(augment, channels_and_rectangles) {
    /* 2 × 2 × 3 (C, H, W); channel 1 = channel 0 + 10. pad 1, offset (1, 0), flip:
     * crop[y][x] = img[y][x − 1] → ch0 rows (0 1 2), (0 4 5); flipped (2 1 0), (5 4 0). */
    const float x[12] = {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16};
    float y[12];
    hl_augment_image(x, y, 2, 2, 3, 1, (hl_augment_params){1, 0, true});
    expect_image(y, (const float[]){2, 1, 0, 5, 4, 0, 12, 11, 0, 15, 14, 0}, 12, "2x2x3");
}

Test(augment, draws_are_keyed) {
    /* Expected values from a Python re-implementation of Philox-4x32-10 keyed as augment.h says: seed 1, epoch 3,
     * pad 2 (span 5): dy = ⌊w0·5/2³²⌋, dx = ⌊w1·5/2³²⌋, flip = w2 >> 31 of block `sample` of stream
     * HL_AUGMENT_STREAM + 3. */
    hl_augment a = {.crop_pad = 2, .hflip = true};
    const int want[4][3] = {{3, 3, 1}, {0, 0, 1}, {4, 3, 0}, {0, 3, 0}};
    for (int s = 0; s < 4; s++) {
        hl_augment_params p = hl_augment_draw(&a, 1, 3, s);
        cr_assert(p.dy == want[s][0] && p.dx == want[s][1] && p.flip == want[s][2], "sample %d: (%d, %d, %d)", s,
                  p.dy, p.dx, p.flip);
    }
    /* Distribution over 9,000 samples with pad 1: 9 offsets ~1,000 each (s.d. ~30), flips ~4,500 (s.d. ~47). */
    a.crop_pad = 1;
    int counts[3][3] = {{0}}, flips = 0, same_epoch = 0;
    for (int64_t s = 0; s < 9000; s++) {
        hl_augment_params p = hl_augment_draw(&a, 42, 0, s);
        counts[p.dy][p.dx]++;
        flips += p.flip;
        hl_augment_params q = hl_augment_draw(&a, 42, 1, s);
        same_epoch += p.dy == q.dy && p.dx == q.dx && p.flip == q.flip;
        /* Flips do not depend on the padding; a disabled crop is the identity offset. */
        hl_augment b = {.crop_pad = 0, .hflip = true}, c = {.crop_pad = 1, .hflip = false};
        hl_augment_params pb = hl_augment_draw(&b, 42, 0, s), pc = hl_augment_draw(&c, 42, 0, s);
        cr_assert(pb.flip == p.flip && pb.dy == 0 && pb.dx == 0);
        cr_assert(!pc.flip && pc.dy == p.dy && pc.dx == p.dx);
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) cr_assert(abs(counts[i][j] - 1000) < 150, "offset (%d,%d): %d", i, j, counts[i][j]);
    cr_assert(abs(flips - 4500) < 250, "flips %d", flips);
    /* Another epoch is another draw: P(same) = 1/18 → ~500 of 9,000. */
    cr_assert(same_epoch < 800, "epochs 0 and 1 agree on %d of 9000", same_epoch);
}

Test(augment, batch_equals_per_image_any_threads) {
    enum { B = 16, C = 3, H = 32, W = 32, SZ = C * H * W };
    float *x = malloc(sizeof(float) * B * SZ), *y1 = malloc(sizeof(float) * B * SZ);
    float *y2 = malloc(sizeof(float) * B * SZ);
    float one[SZ];
    hl_rng r = hl_rng_make(5, 0);
    hl_rng_uniform(&r, x, B * SZ, 0.0f, 1.0f);
    int64_t samples[B];
    for (int b = 0; b < B; b++) samples[b] = 1000 + 37 * b;
    hl_augment a = {.crop_pad = 4, .hflip = true};
    int before = hl_threads_get();
    hl_threads_set(1);
    hl_augment_batch(&a, x, y1, B, C, H, W, 9, 2, samples);
    hl_threads_set(4);
    hl_augment_batch(&a, x, y2, B, C, H, W, 9, 2, samples);
    hl_threads_set(before);
    cr_assert_eq(memcmp(y1, y2, sizeof(float) * B * SZ), 0, "thread count changed the result");
    for (int b = 0; b < B; b++) {
        hl_augment_image(x + b * SZ, one, C, H, W, 4, hl_augment_draw(&a, 9, 2, samples[b]));
        cr_assert_eq(memcmp(one, y1 + b * SZ, sizeof one), 0, "image %d", b);
    }
    free(x);
    free(y1);
    free(y2);
}
