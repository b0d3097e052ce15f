/* tests/attacks/test_apgd.c — the `apgd` attack: its objective (value, invariance to rescaling, gradient against
 * finite differences) and checkpoints by hand; on the trained tiny CNN victim it flips bits untargeted, reaches the
 * codes of other queries targeted, and gives the same perturbation when the victim's outputs are rescaled (×4: exact
 * in floating point). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/apgd.h"
#include "attacks/attack.h"
#include "test_victim.h"

Test(apgd, objective_invariance_and_gradient) {
    enum { K = 6 };
    const float f[K] = {0.5f, -1.25f, 2.0f, 0.1f, -0.3f, 0.9f}, c[K] = {1, 1, -1, 1, -1, -1};
    float g[K], g4[K], f4[K], fp[K];
    for (int targeted = 0; targeted < 2; targeted++) {
        double L = hl_apgd_loss_grad(f, c, K, targeted, g);
        double s = 0, q = 0;
        for (int k = 0; k < K; k++) s += c[k] * f[k], q += f[k] * f[k];
        double want = (targeted ? -1 : 1) * (s / K) / sqrt(q / K);
        cr_assert(fabs(L - want) < 1e-9, "L %g vs %g", L, want);
        for (int k = 0; k < K; k++) f4[k] = 4 * f[k];
        cr_assert(hl_apgd_loss_grad(f4, c, K, targeted, g4) == L, "L(4f) = L(f) exactly");
        for (int k = 0; k < K; k++) cr_assert(fabsf(g4[k] - g[k] / 4) < 1e-7f, "dL/df scales as 1/alpha");
        for (int k = 0; k < K; k++) { /* central differences */
            float gd[K];
            memcpy(fp, f, sizeof fp);
            fp[k] += 1e-3f;
            double up = hl_apgd_loss_grad(fp, c, K, targeted, gd);
            fp[k] -= 2e-3f;
            double dn = hl_apgd_loss_grad(fp, c, K, targeted, gd);
            cr_assert(fabs((up - dn) / 2e-3 - g[k]) < 1e-3, "dL/df_%d: %g vs %g", k, g[k], (up - dn) / 2e-3);
        }
    }
    const float zero[K] = {0};
    cr_assert(hl_apgd_loss_grad(zero, c, K, false, g) == 0.0 && g[0] == 0.0f, "all-zero output: L = 0, no gradient");
}

Test(apgd, checkpoints_by_hand) {
    int w[64];
    int n = hl_apgd_checkpoints(100, w);
    /* spans 22, 19, 16, 13, 10, 7, 6, 6: 22 = 0.22·N, each 3 = 0.03·N shorter, at least 6 = 0.06·N */
    static const int want[] = {0, 22, 41, 57, 70, 80, 87, 93, 99};
    cr_assert_eq(n, 9, "%d checkpoints", n);
    for (int j = 0; j < n; j++) cr_assert_eq(w[j], want[j], "w_%d = %d", j, w[j]);
    n = hl_apgd_checkpoints(5, w);
    for (int j = 1; j < n; j++) cr_assert(w[j] > w[j - 1] && w[j] <= 5);
}

/* ---- on the tiny CNN victim ---- */

enum { NT = 240, NQ = 24, K = 16, C = 3, S = 16, D = C * S * S };

typedef struct scaled {
    hl_hasher base;
    hl_hasher *inner;
    float alpha;
} scaled;

static hl_tensor *scaled_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    scaled *m = (scaled *)self;
    return hl_scale(ctx, hl_hasher_forward(m->inner, ctx, x), m->alpha);
}

static hl_status scaled_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                             uint64_t seed) {
    (void)self, (void)cfg, (void)info, (void)bits, (void)seed;
    return HL_OK;
}

static const hl_hasher_class scaled_class = {
    .abi = HL_HASHER_ABI, .name = "scaled", .summary = "outputs of another hasher times alpha", .size = sizeof(scaled),
    .flags = HL_HASHER_DIFFERENTIABLE, .init = scaled_init, .forward = scaled_forward,
};

typedef struct fixture {
    hl_dataset set;
    hl_hasher *h;
    hl_ctx *ctx;
    float x[NQ * D];
    hl_codes clean;
} fixture;

static void fixture_make(fixture *w) {
    hl_synth_opts so = {.n = NT + NQ, .c = C, .h = S, .w = S, .classes = 4, .seed = 3, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(&w->set, &so), HL_OK, "%s", hl_error_last());
    hl_dataset_info info = hl_dataset_info_of(&w->set);
    w->h = hl_test_victim(&info, K, 11, 400);
    int64_t tr[NT], q[NQ];
    for (int i = 0; i < NT; i++) tr[i] = i;
    for (int i = 0; i < NQ; i++) q[i] = NT + i;
    cr_assert_eq(hl_hasher_fit(w->h, &w->set, tr, NT, true), HL_OK, "%s", hl_error_last());
    hl_dataset_read(&w->set, q, NQ, w->x);
    w->ctx = hl_test_ctx();
    cr_assert_eq(hl_hasher_encode_images(&w->clean, w->h, w->ctx, w->x, NQ, 0), HL_OK);
}

static void fixture_free(fixture *w) {
    hl_codes_free(&w->clean);
    hl_ctx_free(w->ctx);
    hl_hasher_free(w->h);
    hl_dataset_free(&w->set);
}

static void run(fixture *w, hl_hasher *v, int steps, bool targeted, const hl_codes *target, float *adv) {
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.threat = hl_threat_make(HL_NORM_LINF, targeted ? 32 : 8, 255);
    o.steps = steps, o.targeted = targeted, o.random_start = true, o.seed = 9;
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create(&a, "apgd", NULL, &o), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_run(a, v, w->ctx, w->x, adv, NQ, &(hl_attack_goal){.target = target}, 8), HL_OK, "%s",
                 hl_error_last());
    hl_attack_free(a);
}

static void flipped(fixture *w, const float *adv, const hl_codes *ref, int *out) {
    hl_codes c;
    cr_assert_eq(hl_hasher_encode_images(&c, w->h, w->ctx, adv, NQ, 0), HL_OK);
    for (int i = 0; i < NQ; i++) out[i] = hl_hamming(hl_codes_row(&c, i), hl_codes_row(ref, i), c.words);
    hl_codes_free(&c);
}

Test(apgd, attacks_the_cnn_and_ignores_output_scale) {
    fixture w;
    fixture_make(&w);
    static float a1[NQ * D], a2[NQ * D];
    int f20[NQ];
    run(&w, w.h, 20, false, NULL, a1);
    flipped(&w, a1, &w.clean, f20);
    double mean = 0;
    for (int i = 0; i < NQ; i++) mean += f20[i] / (double)NQ;
    cr_log_info("apgd untargeted, 20 steps at 8/255: %.2f of %d bits flipped", mean, K);
    cr_assert(mean >= K / 4.0, "%g bits flipped", mean);
    /* the victim's outputs times 4: the same perturbation, bit for bit */
    hl_hasher *sv = NULL;
    hl_dataset_info info = hl_dataset_info_of(&w.set);
    cr_assert_eq(hl_hasher_create_class(&sv, &scaled_class, NULL, &info, K, 0), HL_OK, "%s", hl_error_last());
    ((scaled *)sv)->inner = w.h, ((scaled *)sv)->alpha = 4.0f;
    run(&w, sv, 20, false, NULL, a2);
    cr_assert_eq(memcmp(a1, a2, sizeof a1), 0, "apgd depends on the scale of the victim's outputs");
    hl_hasher_free(sv);
    /* targeted: the code of another query as the target */
    hl_codes target;
    cr_assert_eq(hl_codes_create(&target, NQ, K), HL_OK);
    for (int i = 0; i < NQ; i++)
        for (int k = 0; k < K; k++) hl_codes_set_bit(&target, i, k, hl_codes_bit(&w.clean, (i + 5) % NQ, k));
    int before[NQ], after[NQ];
    for (int i = 0; i < NQ; i++) before[i] = hl_hamming(hl_codes_row(&w.clean, i), hl_codes_row(&target, i), 1);
    run(&w, w.h, 40, true, &target, a1);
    flipped(&w, a1, &target, after);
    double mb = 0, ma = 0;
    for (int i = 0; i < NQ; i++) mb += before[i] / (double)NQ, ma += after[i] / (double)NQ;
    cr_log_info("apgd targeted, 40 steps at 32/255: d_H to the target %.2f -> %.2f", mb, ma);
    cr_assert(ma < 0.25 * mb, "d_H to the target %g -> %g", mb, ma);
    hl_codes_free(&target);
    fixture_free(&w);
}
