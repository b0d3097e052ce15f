/* tests/core/test_augment_views.c — self-supervised views: identity settings, hand-worked crop / flip / jitter, blur of
 * a constant image, keyed and batch-independent draws, parameters inside their ranges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/augment_views.h"
#include "test_common.h"

static const hl_views IDENTITY = {.crop_min = 1, .crop_max = 1, .crop_ratio = 1, .hflip = false, .brightness = 0,
                                  .contrast = 0, .blur_p = 0, .blur_sigma_min = 0.1f, .blur_sigma_max = 0.1f,
                                  .noise = 0};

Test(views, identity_settings_copy_the_image) {
    float x[2 * 5 * 4], y[2 * 5 * 4];
    for (int i = 0; i < 40; i++) x[i] = (float)((i * 37) % 11) / 10.0f;
    int64_t samples[2] = {0, 7};
    float xx[80];
    memcpy(xx, x, sizeof x), memcpy(xx + 40, x, sizeof x);
    float yy[80];
    hl_views_batch(&IDENTITY, xx, yy, 2, 2, 5, 4, 3, 0, samples, 1);
    for (int i = 0; i < 80; i++) cr_assert_float_eq(yy[i], xx[i % 40], 1e-6, "element %d", i);
    hl_views_params p = hl_views_draw(&IDENTITY, 5, 4, 3, 2, 9, 0);
    cr_assert(p.y0 == 0 && p.x0 == 0 && p.h == 5 && p.w == 4 && !p.flip && p.a == 1 && p.b == 0 && p.sigma == 0);
    hl_views_apply(x, y, 2, 5, 4, &p);
    for (int i = 0; i < 40; i++) cr_assert_float_eq(y[i], x[i], 1e-6);
}

Test(views, hand_worked_crop_flip_and_jitter) {
    /* 1×4×4 image x[i][j] = (4i + j)/16. Window: the top-left 2×2 block (y0 = x0 = 0, h = w = 2), resized to 4×4: the
     * source coordinate of output i is (i + ½)·2/4 − ½ = i/2 − ¼, clamped at 0: 0, ¼, ¾, 1.25 → rows 0 | 0 + ¼ |
     * 0 + ¾ | 1 + ¼ (bilinear) of the 2 source rows/columns that exist inside the image (row 2 is used at 1.25). */
    float x[16], y[16];
    for (int i = 0; i < 16; i++) x[i] = (float)i / 16;
    hl_views_params p = {.y0 = 0, .x0 = 0, .h = 2, .w = 2, .flip = false, .a = 1, .b = 0, .sigma = 0};
    hl_views_apply(x, y, 1, 4, 4, &p);
    const float s[4] = {0, 0.25f, 0.75f, 1.25f};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            cr_assert_float_eq(y[i * 4 + j], (4 * s[i] + s[j]) / 16, 1e-6, "(%d, %d): %g", i, j, y[i * 4 + j]);
    /* the same window flipped: column j of the output is column 3 − j of the unflipped one */
    p.flip = true;
    hl_views_apply(x, y, 1, 4, 4, &p);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) cr_assert_float_eq(y[i * 4 + j], (4 * s[i] + s[3 - j]) / 16, 1e-6);
    /* whole image, contrast ×2 around the mean 15/32, brightness −0.1, clamped to [0, 1] */
    p = (hl_views_params){.y0 = 0, .x0 = 0, .h = 4, .w = 4, .flip = false, .a = 2, .b = -0.1f, .sigma = 0};
    hl_views_apply(x, y, 1, 4, 4, &p);
    for (int i = 0; i < 16; i++) {
        float want = (x[i] - 15.0f / 32) * 2 + 15.0f / 32 - 0.1f;
        want = want < 0 ? 0 : want > 1 ? 1 : want;
        cr_assert_float_eq(y[i], want, 1e-6, "element %d", i);
    }
}

Test(views, blur_keeps_a_constant_image_and_smooths_an_impulse) {
    float x[3 * 9 * 9], y[3 * 9 * 9];
    for (int i = 0; i < 3 * 81; i++) x[i] = 0.4f;
    hl_views_params p = {.y0 = 0, .x0 = 0, .h = 9, .w = 9, .flip = false, .a = 1, .b = 0, .sigma = 1.5f};
    hl_views_apply(x, y, 3, 9, 9, &p);
    for (int i = 0; i < 3 * 81; i++) cr_assert_float_eq(y[i], 0.4f, 1e-5);
    memset(x, 0, sizeof x);
    x[4 * 9 + 4] = 1; /* centre of channel 0 */
    hl_views_apply(x, y, 3, 9, 9, &p);
    double sum = 0;
    for (int i = 0; i < 81; i++) sum += y[i];
    cr_assert_float_eq(sum, 1.0, 1e-5, "the kernel is normalised and fits inside the image");
    cr_assert(y[40] < 0.2f && y[40] > y[41] && y[41] > y[42] && y[41] == y[39] && y[31] == y[41]);
    for (int i = 81; i < 3 * 81; i++) cr_assert_eq(y[i], 0.0f, "channels are blurred separately");
}

static bool same_params(const hl_views_params *a, const hl_views_params *b) { /* field by field: padding is not set */
    return a->y0 == b->y0 && a->x0 == b->x0 && a->h == b->h && a->w == b->w && a->flip == b->flip && a->a == b->a &&
           a->b == b->b && a->sigma == b->sigma;
}

Test(views, draws_are_keyed_and_in_range) {
    hl_views v = {.crop_min = 0.3f, .crop_max = 0.9f, .crop_ratio = 1.5f, .hflip = true, .brightness = 0.2f,
                  .contrast = 0.3f, .blur_p = 0.5f, .blur_sigma_min = 0.2f, .blur_sigma_max = 1.1f, .noise = 0.05f};
    cr_assert_eq(hl_views_check(&v), HL_OK);
    int flips = 0, blurs = 0, diff_views = 0;
    for (int s = 0; s < 400; s++) {
        hl_views_params a = hl_views_draw(&v, 28, 28, 5, 3, s, 0), b = hl_views_draw(&v, 28, 28, 5, 3, s, 1);
        hl_views_params a2 = hl_views_draw(&v, 28, 28, 5, 3, s, 0);
        cr_assert(same_params(&a, &a2), "draws are pure functions of (seed, epoch, sample, view)");
        diff_views += !same_params(&a, &b);
        double area = (double)a.h * a.w / (28.0 * 28.0);
        cr_assert(area >= 0.3 / 1.5 - 1e-4, "area %g", area);
        cr_assert(area <= 0.9 + 1e-4, "area %g", area);
        cr_assert(a.y0 >= 0 && a.y0 + a.h <= 28 + 1e-4 && a.x0 >= 0 && a.x0 + a.w <= 28 + 1e-4);
        cr_assert(a.a >= 0.7f && a.a <= 1.3f && a.b >= -0.2f && a.b <= 0.2f);
        cr_assert(a.sigma == 0 || (a.sigma >= 0.2f && a.sigma <= 1.1f));
        flips += a.flip, blurs += a.sigma > 0;
    }
    cr_assert(flips > 150 && flips < 250, "flips %d of 400", flips);
    cr_assert(blurs > 150 && blurs < 250, "blurs %d of 400", blurs);
    cr_assert_eq(diff_views, 400, "the two views of an image differ");
    /* batch composition does not matter: image B as sample 11 alone equals B as sample 11 behind image A (sample 4) */
    float src[2 * 28 * 28], one[28 * 28], two[2 * 28 * 28];
    for (int i = 0; i < 2 * 784; i++) src[i] = (float)((i * 7919) % 256) / 255.0f;
    int64_t s1[1] = {11}, s2[2] = {4, 11};
    hl_views_batch(&v, src + 784, one, 1, 1, 28, 28, 5, 2, s1, 1);
    hl_views_batch(&v, src, two, 2, 1, 28, 28, 5, 2, s2, 1);
    for (int i = 0; i < 784; i++) cr_assert_eq(one[i], two[784 + i], "pixel %d", i);
    int changed = 0;
    for (int i = 0; i < 784; i++) changed += one[i] != src[784 + i];
    cr_assert(changed > 392, "a view changes most pixels (%d of 784)", changed);
    v.crop_min = 0;
    cr_assert_eq(hl_views_check(&v), HL_EINVAL);
}
