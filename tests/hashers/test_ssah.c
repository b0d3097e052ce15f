/* tests/hashers/test_ssah.c — SSAH: the self-paced schedule, the A-Net objective, the consistency loss (by hand and
 * against central differences), the pixel deformation (identity at zero budget, stays in [0, 1], gradients), the
 * class trains semi-supervised to a mAP far above its untrained network, never reads the unlabelled items' labels,
 * writes the hard-sample grid, and reloads to the same codes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "eval/retrieval.h"
#include "hashers/hasher.h"
#include "hashers/ssah.h"
#include "test_hashers.h"

/* pace_start 0.2 over 5 epochs: 0.2, 0.4, 0.6, 0.8, 1.0; one epoch: 1; τ = (1 + κp)·L. */
Test(ssah_math, self_paced_schedule) {
    const double want[5] = {0.2, 0.4, 0.6, 0.8, 1.0};
    for (int e = 0; e < 5; e++) cr_assert(fabs(hl_ssah_pace(0.2, e, 5) - want[e]) < 1e-12, "pace(%d)", e);
    cr_assert_eq(hl_ssah_pace(0.0, 0, 30), 0.0);
    cr_assert_eq(hl_ssah_pace(0.0, 29, 30), 1.0);
    cr_assert_eq(hl_ssah_pace(0.3, 0, 1), 1.0);
    /* target hardness: start 0.5·(1 + 2·0.2) = 0.7, end 0.5·(1 + 2·1) = 1.5 */
    cr_assert(fabs(hl_ssah_target(0.5, 2.0, hl_ssah_pace(0.2, 0, 5)) - 0.7) < 1e-12);
    cr_assert(fabs(hl_ssah_target(0.5, 2.0, hl_ssah_pace(0.2, 4, 5)) - 1.5) < 1e-12);
    /* A-Net loss (0.9 − 0.7)² = 0.04, derivative 2·0.2 = 0.4 */
    double d;
    cr_assert(fabs(hl_ssah_anet_loss(0.9, 0.7, &d) - 0.04) < 1e-12);
    cr_assert(fabs(d - 0.4) < 1e-12);
}

/* B = 1, K = 2, o = [0, atanh 0.5], õ = [atanh 0.5, atanh 0.5]: tanh o = [0, 0.5], tanh õ = [0.5, 0.5],
 * L = ((0 − 0.5)² + 0)/2 = 0.125; dL/do_0 = 2·(−0.5)·(1 − 0)/2 = −0.5, dL/dõ_0 = −2·(−0.5)·(1 − 0.25)/2 = 0.375,
 * the second column 0. */
Test(ssah_math, consistency_by_hand) {
    const float a = (float)atanh(0.5);
    float o[2] = {0, a}, o2[2] = {a, a}, G[2], G2[2];
    double L = hl_ssah_consistency(o, o2, 1, 2, G, G2);
    cr_assert(fabs(L - 0.125) < 1e-6, "L = %.8f", L);
    hl_test_assert_close(G, (float[]){-0.5f, 0.0f}, 2, 1e-6f, 0, "dL/do");
    hl_test_assert_close(G2, (float[]){0.375f, 0.0f}, 2, 1e-6f, 0, "dL/do2");
}

Test(ssah_math, consistency_gradient_finite_differences) {
    enum { B = 3, K = 4, N = B * K };
    float o[N], o2[N], G[N], G2[N];
    hl_rng r = hl_rng_make(5, 1);
    hl_rng_uniform(&r, o, N, -2.0f, 2.0f);
    hl_rng_uniform(&r, o2, N, -2.0f, 2.0f);
    hl_ssah_consistency(o, o2, B, K, G, G2);
    const float eps = 1e-3f;
    for (int side = 0; side < 2; side++) {
        float *v = side ? o2 : o, *g = side ? G2 : G;
        for (int i = 0; i < N; i++) {
            float keep = v[i];
            v[i] = keep + eps;
            double lp = hl_ssah_consistency(o, o2, B, K, NULL, NULL);
            v[i] = keep - eps;
            double lm = hl_ssah_consistency(o, o2, B, K, NULL, NULL);
            v[i] = keep;
            double num = (lp - lm) / (2.0 * eps);
            cr_assert(fabs(num - g[i]) < 1e-4 + 1e-2 * fabs(num), "side %d elem %d: %.6f vs %.6f", side, i, g[i], num);
        }
    }
}

/* Anchor consistency: a KL, so ≥ 0 and exactly its minimum (≈ 0, gradient 0) when the hard outputs equal the clean
 * ones; its gradient on the hard outputs matches central differences (the clean side is the teacher: a constant). */
Test(ssah_math, anchor_consistency_is_a_kl_with_its_gradient) {
    enum { B = 3, K = 4, NB = 5, N = B * K };
    float o[N], o2[N], U[NB * K], G2[N], P[B * NB], th[B * NB];
    hl_rng r = hl_rng_make(7, 1);
    hl_rng_uniform(&r, o, N, -1.5f, 1.5f);
    hl_rng_uniform(&r, o2, N, -1.5f, 1.5f);
    hl_rng_uniform(&r, U, NB * K, -1.5f, 1.5f);
    double same = hl_ssah_anchor_consistency(o, o, B, K, U, NB, P, th, G2);
    cr_assert(fabs(same) < 1e-6, "KL of identical profiles = %.3g", same);
    for (int i = 0; i < N; i++) cr_assert(fabs(G2[i]) < 1e-7f, "gradient at the minimum: %g", G2[i]);
    double L = hl_ssah_anchor_consistency(o, o2, B, K, U, NB, P, th, G2);
    cr_assert(L > 1e-3, "different profiles must cost: %.3g", L);
    const float eps = 1e-3f;
    for (int i = 0; i < N; i++) {
        float keep = o2[i], g = G2[i];
        o2[i] = keep + eps;
        double lp = hl_ssah_anchor_consistency(o, o2, B, K, U, NB, P, th, NULL);
        o2[i] = keep - eps;
        double lm = hl_ssah_anchor_consistency(o, o2, B, K, U, NB, P, th, NULL);
        o2[i] = keep;
        double num = (lp - lm) / (2.0 * eps);
        cr_assert(fabs(num - g) < 1e-4 + 1e-2 * fabs(num), "elem %d: %.6f vs %.6f", i, g, num);
        cr_assert(lp >= 0 && lm >= 0, "a KL is never negative");
    }
}

/* Zero budget (ρ = 0, or a zero mask) and zero angles: the deformation is the identity, bit for bit. */
Test(ssah_deform, zero_budget_is_identity) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 3, 8, 8), 1, 0.0f, 1.0f);
    hl_tensor *m = hl_test_tensor(4, HL_SHAPE(2, 1, 8, 8), 2, 0.0f, 1.0f);
    hl_tensor *a = hl_tensor_zeros(ctx, 1, HL_SHAPE(2));
    hl_tensor *y = hl_ssah_deform(ctx, x, m, a, 0.0f);
    cr_assert_eq(memcmp(y->data, x->data, (size_t)hl_tensor_numel(x) * sizeof(float)), 0, "rho 0");
    hl_tensor *z = hl_tensor_zeros(ctx, 4, HL_SHAPE(2, 1, 8, 8));
    y = hl_ssah_deform(ctx, x, z, a, 1.0f);
    cr_assert_eq(memcmp(y->data, x->data, (size_t)hl_tensor_numel(x) * sizeof(float)), 0, "zero mask");
    hl_tensor_free(x), hl_tensor_free(m);
    hl_ctx_free(ctx);
}

/* Full budget: images in [0, 1] stay in [0, 1]; a full mask with ρ = 1 and angle 0 gives black; the occlusion
 * halves a pixel at m = 1, ρ = 0.5. */
Test(ssah_deform, stays_in_unit_range) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(4, 1, 12, 12), 3, 0.0f, 1.0f);
    for (int i = 0; i < 12; i++) x->data[i] = 1.0f; /* saturated pixels */
    hl_tensor *m = hl_test_tensor(4, HL_SHAPE(4, 1, 12, 12), 4, 0.0f, 1.0f);
    hl_tensor *a = hl_test_tensor_of(1, HL_SHAPE(4), (float[]){0.5f, -0.5f, 3.0f, 0.1f});
    for (int rep = 0; rep < 2; rep++) {
        hl_tensor *y = hl_ssah_deform(ctx, x, m, a, rep ? 1.0f : 0.3f);
        for (int64_t i = 0; i < hl_tensor_numel(y); i++)
            cr_assert(y->data[i] >= 0.0f && y->data[i] <= 1.0f, "value %g at %lld", y->data[i], (long long)i);
    }
    hl_tensor *one = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 2), (float[]){1, 1, 1, 1});
    hl_tensor *a0 = hl_tensor_zeros(ctx, 1, HL_SHAPE(1));
    hl_tensor *x1 = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 2), (float[]){0.8f, 0.6f, 0.4f, 0.2f});
    hl_tensor *y = hl_ssah_deform(ctx, x1, one, a0, 1.0f);
    hl_test_assert_close(y->data, (float[]){0, 0, 0, 0}, 4, 0, 0, "full occlusion");
    y = hl_ssah_deform(ctx, x1, one, a0, 0.5f);
    hl_test_assert_close(y->data, (float[]){0.4f, 0.3f, 0.2f, 0.1f}, 4, 1e-7f, 0, "half occlusion");
    hl_tensor_free(x), hl_tensor_free(m), hl_tensor_free(a), hl_tensor_free(one), hl_tensor_free(x1);
    hl_ctx_free(ctx);
}

static hl_tensor *f_deform(hl_ctx *ctx, hl_tensor **in, void *user) {
    return hl_ssah_deform(ctx, in[0], in[1], in[2], *(const float *)user);
}

/* The deformation's gradients w.r.t. the image, the mask and the angle (what the A-Net learns through). */
Test(ssah_deform, gradcheck) {
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 2, 6, 6), 5, 0.0f, 1.0f);
    hl_tensor *m = hl_test_tensor(4, HL_SHAPE(2, 1, 6, 6), 6, 0.0f, 1.0f);
    hl_tensor *a = hl_test_tensor_of(1, HL_SHAPE(2), (float[]){0.33f, -0.61f});
    float rho = 0.7f;
    hl_test_gradcheck("ssah deform", f_deform, 3, (hl_tensor *[]){x, m, a}, &rho,
                      (hl_gradcheck_opts){.kink_tol = 0.05f});
    hl_tensor_free(x), hl_tensor_free(m), hl_tensor_free(a);
}

/* ---- the class ---- */

enum { NL = 160, NU = 160, NQ = 80, HW = 12, NCLS = 4, BITS = 16 };

static const char *const KV_TRAIN[] = {"epochs", "6", "batch", "16", "lr", "3e-3", "lr_schedule", "constant", NULL};

static void fit_semi(hl_hasher *h, const hl_dataset *d) {
    int64_t idx[NL], uidx[NU];
    for (int i = 0; i < NL; i++) idx[i] = i;
    for (int i = 0; i < NU; i++) uidx[i] = NL + i;
    cr_assert_eq(hl_hasher_fit_semi(h, d, idx, NL, uidx, NU), HL_OK, "%s", hl_error_last());
}

static double map_of(hl_hasher *h, const hl_dataset *d, hl_codes *keep) {
    int64_t db[NL + NU], q[NQ];
    for (int i = 0; i < NL + NU; i++) db[i] = i;
    for (int i = 0; i < NQ; i++) q[i] = NL + NU + i;
    return hl_test_hasher_map(h, d, db, NL + NU, q, NQ, keep);
}

/* Synthetic 1×12×12 images, 4 classes: 160 labelled + 160 unlabelled (the database), 80 queries; 16 bits, 6 epochs
 * of batch 16 at a constant lr 3e-3 (cnn-small; DPSH-style losses learn slowly from scratch on these images at the
 * default lr, see tests/hashers/test_dpsh.c). The trained network's mAP@all is far above the untrained one's; the PNG of the hard samples of epoch 1
 * exists; a checkpoint loaded into a fresh instance gives the same codes. */
Test(ssah, trains_semi_writes_grid_and_reloads, .timeout = 60) {
    hl_dataset d = {0};
    hl_test_synthetic(&d, NL + NU + NQ, 1, HW, NCLS, 7);
    hl_hasher *h = hl_test_make_hasher("ssah", &d, KV_TRAIN, BITS, 1);
    const char *dir = hl_test_tmpdir();
    h->workdir = dir;
    double t0 = hl_time_s();
    fit_semi(h, &d);
    double secs = hl_time_s() - t0;
    struct stat sb;
    cr_assert_eq(stat(hl_test_path(dir, "samples/hard_epoch_001.png"), &sb), 0, "hard sample grid of epoch 1");
    cr_assert(sb.st_size > 100);
    cr_assert_eq(stat(hl_test_path(dir, "samples/hard_epoch_006.png"), &sb), 0, "hard sample grid of epoch 6");
    hl_codes cq, cq2;
    double trained = map_of(h, &d, &cq);
    const char *kv0[] = {"epochs", "0", NULL};
    hl_hasher *h0 = hl_test_make_hasher("ssah", &d, kv0, BITS, 1);
    fit_semi(h0, &d);
    double untrained = map_of(h0, &d, NULL);
    fprintf(stderr, "ssah %d bits: mAP@all %.3f trained (%.2f s) vs %.3f untrained\n", BITS, trained, secs, untrained);
    /* measured (1 thread): 0.596 trained (3.2 s) vs 0.284 untrained */
    cr_assert(trained > 0.45 && trained > untrained + 0.2, "mAP %.3f trained vs %.3f untrained", trained, untrained);
    const char *path = hl_test_path(hl_test_tmpdir(), "ssah.safetensors");
    cr_assert_eq(hl_hasher_save(h, path), HL_OK, "%s", hl_error_last());
    hl_hasher *h2 = hl_test_make_hasher("ssah", &d, KV_TRAIN, BITS, 2);
    cr_assert_eq(hl_hasher_load(h2, path), HL_OK, "%s", hl_error_last());
    double reloaded = map_of(h2, &d, &cq2);
    cr_assert_eq(reloaded, trained);
    cr_assert_eq(memcmp(cq.w, cq2.w, (size_t)(cq.n * cq.words) * sizeof *cq.w), 0, "reloaded codes differ");
    hl_codes_free(&cq), hl_codes_free(&cq2);
    hl_hasher_free(h), hl_hasher_free(h0), hl_hasher_free(h2);
    hl_dataset_free(&d);
}

/* The unlabelled items' labels are never read: the same fit on a copy whose unlabelled items carry other labels
 * gives identical codes. 2 epochs (random-mode draws, A-Net and consistency all exercised). */
Test(ssah, unlabelled_labels_never_read, .timeout = 60) {
    hl_dataset d1 = {0}, d2 = {0};
    hl_test_synthetic(&d1, NL + NU + NQ, 1, HW, NCLS, 7);
    hl_test_synthetic(&d2, NL + NU + NQ, 1, HW, NCLS, 7);
    hl_test_corrupt_labels(&d2, NL, NL + NU);
    const char *kv[] = {"epochs", "2", "batch", "32", NULL};
    hl_hasher *h1 = hl_test_make_hasher("ssah", &d1, kv, BITS, 3);
    hl_hasher *h2 = hl_test_make_hasher("ssah", &d2, kv, BITS, 3);
    fit_semi(h1, &d1);
    fit_semi(h2, &d2);
    hl_codes c1, c2;
    map_of(h1, &d1, &c1);
    map_of(h2, &d1, &c2); /* queries scored against d1's labels: only the codes are compared */
    cr_assert_eq(c1.n, c2.n);
    cr_assert_eq(memcmp(c1.w, c2.w, (size_t)(c1.n * c1.words) * sizeof *c1.w), 0, "codes depend on hidden labels");
    hl_codes_free(&c1), hl_codes_free(&c2);
    hl_hasher_free(h1), hl_hasher_free(h2);
    hl_dataset_free(&d1), hl_dataset_free(&d2);
}

/* The ablations run: random (same budget, no A-Net learning) and off (plain supervised H-Net); plain fit()
 * (labelled only) works too. */
Test(ssah, ablations_and_plain_fit, .timeout = 60) {
    hl_dataset d = {0};
    hl_test_synthetic(&d, NL + NU + NQ, 1, HW, NCLS, 7);
    const char *kvr[] = {"epochs", "1", "batch", "32", "anet", "random", NULL};
    const char *kvo[] = {"epochs", "1", "batch", "32", "anet", "off", NULL};
    const char *kva[] = {"epochs", "1", "batch", "32", "consistency_kind", "anchors", NULL};
    hl_hasher *hr = hl_test_make_hasher("ssah", &d, kvr, BITS, 1);
    hl_hasher *ho = hl_test_make_hasher("ssah", &d, kvo, BITS, 1);
    hl_hasher *ha = hl_test_make_hasher("ssah", &d, kva, BITS, 1);
    fit_semi(hr, &d);
    fit_semi(ho, &d);
    fit_semi(ha, &d);
    double mr = map_of(hr, &d, NULL), mo = map_of(ho, &d, NULL), ma = map_of(ha, &d, NULL);
    hl_hasher *hf = hl_test_make_hasher("ssah", &d, kvr, BITS, 1);
    int64_t idx[NL];
    for (int i = 0; i < NL; i++) idx[i] = i;
    cr_assert_eq(hl_hasher_fit(hf, &d, idx, NL, true), HL_OK, "%s", hl_error_last());
    double mf = map_of(hf, &d, NULL);
    fprintf(stderr, "ssah 1 epoch: random %.3f, off %.3f, anchors %.3f, plain fit %.3f\n", mr, mo, ma, mf);
    cr_assert(mr > 0.2 && mo > 0.2 && ma > 0.2 && mf > 0.2, "random %.3f off %.3f anchors %.3f fit %.3f", mr, mo, ma,
              mf);
    hl_hasher_free(hr), hl_hasher_free(ho), hl_hasher_free(ha), hl_hasher_free(hf);
    hl_dataset_free(&d);
}

/* deform_at a feature map (cnn-small's conv1 map, 32×6×6 on these 12×12 images): trains far above the untrained
 * network, writes no image grid (the hard samples are not images), and the A-step's gradient reaches the A-Net
 * through the rest of the backbone: with a learning rate of 1e-9 the A-Net stays where it started and the codes
 * differ from those of the learning A-Net (a broken path gives zero gradients, so both would be equal). */
Test(ssah, deform_at_feature_map, .timeout = 90) {
    hl_dataset d = {0};
    hl_test_synthetic(&d, NL + NU + NQ, 1, HW, NCLS, 7);
    const char *kv[] = {"epochs", "6", "batch", "16", "lr", "3e-3", "lr_schedule", "constant", "deform_at", "conv1",
                        "occlusion", "0.5", "max_angle", "30", NULL};
    const char *kv_still[] = {"epochs", "6", "batch", "16", "lr", "3e-3", "lr_schedule", "constant", "deform_at",
                              "conv1", "occlusion", "0.5", "max_angle", "30", "anet_lr", "1e-9", NULL};
    hl_hasher *h = hl_test_make_hasher("ssah", &d, kv, BITS, 1);
    hl_hasher *hs = hl_test_make_hasher("ssah", &d, kv_still, BITS, 1);
    const char *dir = hl_test_tmpdir();
    h->workdir = dir;
    fit_semi(h, &d);
    fit_semi(hs, &d);
    struct stat sb;
    cr_assert_neq(stat(hl_test_path(dir, "samples/hard_epoch_001.png"), &sb), 0, "no image grid for feature maps");
    hl_codes c, cs;
    double trained = map_of(h, &d, &c), still = map_of(hs, &d, &cs);
    const char *kv0[] = {"epochs", "0", "deform_at", "conv1", NULL};
    hl_hasher *h0 = hl_test_make_hasher("ssah", &d, kv0, BITS, 1);
    fit_semi(h0, &d);
    double untrained = map_of(h0, &d, NULL);
    fprintf(stderr, "ssah deform_at conv1: mAP@all %.3f (A-Net at lr 1e-9: %.3f) vs %.3f untrained\n", trained, still,
            untrained);
    cr_assert(trained > 0.45 && trained > untrained + 0.2, "mAP %.3f trained vs %.3f untrained", trained, untrained);
    cr_assert_neq(memcmp(c.w, cs.w, (size_t)(c.n * c.words) * sizeof *c.w), 0, "the A-Net did not learn");
    hl_codes_free(&c), hl_codes_free(&cs);
    hl_hasher_free(h), hl_hasher_free(hs), hl_hasher_free(h0);
    hl_dataset_free(&d);
}

/* deform_at is checked when the hasher is made: an unknown stage (with a suggestion), the last stage (no map), a
 * backbone that does not split, and an occlusion grid finer than the map. */
Test(ssah, deform_at_errors) {
    hl_dataset d = {0};
    hl_test_synthetic(&d, 40, 1, HW, NCLS, 7);
    static const struct {
        const char *kv[7];
        const char *msg;
    } cases[] = {
        {{"deform_at", "cnov2", NULL}, "did you mean 'conv2'"},
        {{"deform_at", "fc1", NULL}, "cnn-small has no feature map to deform there"},
        {{"deform_at", "conv3", NULL}, "occlusion grid 2 is finer than the 1x1 feature map"},
        {{"deform_at", "conv2", NULL}, "occlusion grid 4 is finer than the 3x3 feature map"},
        {{"deform_at", "layer1", "backbone", "resnet18", NULL}, "resnet18 has no feature map to deform there"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hl_hasher *h = NULL;
        hl_dataset_info info = hl_dataset_info_of(&d);
        hl_config *p = hl_test_params(cases[i].kv);
        hl_status st = hl_hasher_create(&h, "ssah", p, &info, BITS, 1);
        hl_config_free(p);
        cr_assert(st < 0 && h == NULL, "case %zu accepted", i);
        cr_assert(strstr(hl_error_last(), cases[i].msg), "case %zu: %s", i, hl_error_last());
    }
    hl_dataset_free(&d);
}
