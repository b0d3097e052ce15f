/* tests/attacks/test_noise.c — the noise attack: within the ball and box, L2 noise of norm ε, deterministic in
 * (seed, query id) whatever the batch size, registry lookup. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "test_common.h"

enum { N = 7, D = 3 * 4 * 4 };

static void run(hl_norm norm, int batch, uint64_t seed, const int64_t *ids, const float *x, float *adv) {
    hl_dataset_info info = {.c = 3, .h = 4, .w = 4, .nlabels = 2};
    hl_hasher *v = NULL;
    hl_attack *a = NULL;
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.threat = norm == HL_NORM_LINF ? hl_threat_make(HL_NORM_LINF, 8, 255) : hl_threat_make(HL_NORM_L2, 1, 2);
    o.seed = seed;
    cr_assert_eq(hl_hasher_create(&v, "lsh", NULL, &info, 8, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_create(&a, "noise", NULL, &o), HL_OK, "%s", hl_error_last());
    hl_ctx *ctx = hl_test_ctx();
    hl_attack_goal g = {.query_id = ids};
    cr_assert_eq(hl_attack_run(a, v, ctx, x, adv, N, &g, batch), HL_OK, "%s", hl_error_last());
    hl_ctx_free(ctx);
    hl_attack_free(a);
    hl_hasher_free(v);
}

static void images(float *x) {
    hl_rng r = hl_rng_make(1, 1);
    hl_rng_uniform(&r, x, N * D, 0.0f, 1.0f);
    x[0] = 0.0f, x[1] = 1.0f; /* at the box edges */
}

Test(noise, linf_within_ball_and_deterministic) {
    float x[N * D], a[N * D], b[N * D], c[N * D];
    images(x);
    run(HL_NORM_LINF, 3, 5, NULL, x, a);
    run(HL_NORM_LINF, 64, 5, NULL, x, b);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "independent of the batch size");
    run(HL_NORM_LINF, 3, 6, NULL, x, c);
    cr_assert_neq(memcmp(a, c, sizeof a), 0, "depends on the seed");
    double eps = 8.0 / 255.0, maxd = 0;
    for (int i = 0; i < N * D; i++) {
        cr_assert(a[i] >= 0.0f && a[i] <= 1.0f);
        double d = fabs((double)a[i] - x[i]);
        cr_assert(d <= eps + 1e-6, "pixel %d moved %g", i, d);
        maxd = d > maxd ? d : maxd;
    }
    cr_assert(maxd > 0.9 * eps, "noise uses the whole ball (max %g)", maxd);
    /* seeded by the query id: image 4 under id 104 equals image 0 of a run where it is first with id 104 */
    int64_t ids[N], ids2[N];
    for (int i = 0; i < N; i++) ids[i] = 100 + i, ids2[i] = 100 + (i + 4) % N;
    float xs[N * D], r1[N * D], r2[N * D];
    for (int i = 0; i < N; i++) memcpy(xs + i * D, x + ((i + 4) % N) * D, D * sizeof(float));
    run(HL_NORM_LINF, 2, 5, ids, x, r1);
    run(HL_NORM_LINF, 5, 5, ids2, xs, r2);
    cr_assert_eq(memcmp(r1 + 4 * D, r2, D * sizeof(float)), 0);
}

Test(noise, l2_norm_eps) {
    float x[N * D], a[N * D];
    for (int i = 0; i < N * D; i++) x[i] = 0.5f; /* far from the box: no clipping at ε = 0.5 */
    run(HL_NORM_L2, 4, 2, NULL, x, a);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < D; j++) s += ((double)a[i * D + j] - 0.5) * ((double)a[i * D + j] - 0.5);
        cr_assert(fabs(sqrt(s) - 0.5) < 1e-5, "image %d: norm %g", i, sqrt(s));
    }
}

Test(noise, registry) {
    cr_assert_eq(hl_attack_class_count(), 7);
    cr_assert_str_eq(hl_attack_class_at(0)->name, "apgd");
    cr_assert_str_eq(hl_attack_class_at(1)->name, "auto");
    cr_assert_str_eq(hl_attack_class_at(2)->name, "centre-pgd");
    cr_assert_str_eq(hl_attack_class_at(3)->name, "noise");
    cr_assert_str_eq(hl_attack_class_at(4)->name, "pgd");
    cr_assert_str_eq(hl_attack_class_at(5)->name, "prosgan");
    cr_assert_str_eq(hl_attack_class_at(6)->name, "square");
    cr_assert_null(hl_attack_class_find("nosie"));
    cr_assert_str_eq(hl_error_last(), "unknown attack 'nosie' (known: apgd, auto, centre-pgd, noise, pgd, prosgan, square; did you mean 'noise'?)");
    const hl_attack_class *c = hl_attack_class_find("noise");
    cr_assert(c && (c->flags & HL_ATTACK_BLACKBOX));
}
