/* tests/defences/test_defences.c — the defences' math against hand computations, the inner attack's budget and
 * objective, the registry and attaching, and a defended toy model against its undefended twin. */
#include <math.h>
#include <string.h>

#include "attacks/attack.h"
#include "defences/defence.h"
#include "eval/retrieval.h"
#include "test_hashers.h"

static hl_defence *make(const char *name, const char *const *kv) {
    hl_defence_opts o;
    hl_defence_opts_default(&o);
    hl_config *c = kv ? hl_test_params(kv) : NULL;
    hl_defence *d = NULL;
    cr_assert_eq(hl_defence_create(&d, name, c, &o), HL_OK, "%s", hl_error_last());
    hl_config_free(c);
    return d;
}

/* mean(h ⊙ r) with h = tanh(u): u = (0, atanh 0.5 | atanh −0.5, 1), r = (1, −1 | 1, 1):
 *   h = (0, 0.5 | −0.5, tanh 1 = 0.7615942);  mean = (0 − 0.5 − 0.5 + 0.7615942)/4 = −0.05960145
 *   d/du = (1 − h²)·r/4 = (0.25, −0.1875 | 0.1875, 0.1049936) */
Test(defence_math, code_product_hand_case) {
    const float u[4] = {0, (float)atanh(0.5), (float)atanh(-0.5), 1};
    const float r[4] = {1, -1, 1, 1};
    float g[4] = {0};
    double v = hl_defence_code_product(u, r, 2, 2, 1.0, g);
    cr_assert_float_eq(v, -0.05960145, 1e-6);
    const double want[4] = {0.25, -0.1875, 0.1875, 0.1049936};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(g[i], want[i], 1e-6, "grad %d: %g", i, g[i]);
    float g2[4] = {1, 1, 1, 1}; /* −2 scales both and adds */
    double v2 = hl_defence_code_product(u, r, 2, 2, -2.0, g2); /* (the assertion macros evaluate twice) */
    cr_assert_float_eq(v2, 0.1192029, 1e-6);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(g2[i], 1 - 2 * want[i], 1e-6, "grad %d: %g", i, g2[i]);
}

/* Four items, labels {0}, {0}, {1}, {0,1}; codes (signs) b = (+ +), (+ −), (− −), (− +).
 * Centre of {0}: similar = items 0, 1, 3: mean = (1/3, 1/3)·... per bit: bit0 (1 + 1 − 1)/3 = 1/3, bit1 (1 − 1 + 1)/3 =
 * 1/3; dissimilar = item 2: (−1, −1) → 1/3 + 1 > 0, 1/3 + 1 > 0: (+, +).
 * Centre of {1}: similar 2, 3: bit0 (−1 − 1)/2 = −1, bit1 (−1 + 1)/2 = 0; dissimilar 0, 1: bit0 1, bit1 0 →
 * bit0 −2 → −, bit1 0 → + (sign(0) = +1).
 * Mainstay of {1} (weighted by cos): item 2 cos 1, item 3 cos 1/√2: bit0 (−1 − 0.7071)/1.7071 = −1; bit1
 * (−1 + 0.7071)/1.7071 = −0.1716; minus dissimilar mean (1, 0): bit0 −2 → −, bit1 −0.1716 → −. */
Test(defence_math, centres_and_mainstays_hand_case) {
    hl_labels L;
    cr_assert_eq(hl_labels_create(&L, 4, 2), HL_OK);
    hl_labels_set(&L, 0, 0), hl_labels_set(&L, 1, 0), hl_labels_set(&L, 2, 1), hl_labels_set(&L, 3, 0);
    hl_labels_set(&L, 3, 1);
    const float b[8] = {0.3f, 2, 1, -0.5f, -1, -3, -0.2f, 0.1f};
    float c[8], m[8];
    cr_assert_eq(hl_defence_centres(&L, &L, b, 2, false, c), HL_OK);
    cr_assert_eq(hl_defence_centres(&L, &L, b, 2, true, m), HL_OK);
    const float c0[2] = {1, 1}, c2[2] = {-1, 1}, m2[2] = {-1, -1};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(c[k], c0[k], "centre {0} bit %d", k);
        cr_assert_eq(c[2 + k], c0[k], "items with one label set share a centre");
        cr_assert_eq(c[4 + k], c2[k], "centre {1} bit %d", k);
        cr_assert_eq(m[4 + k], m2[k], "mainstay {1} bit %d", k);
    }
    hl_labels_free(&L);
}

/* SAAT's outer term: −λ·mean(h ⊙ m) + μ·mean((h − sign h)²), its gradient by finite differences. */
Test(defence_math, saat_outer_matches_finite_differences) {
    const char *kv[] = {"lambda", "0.7", "mu", "0.3", NULL};
    hl_defence *d = make("saat", kv);
    float u[6] = {0.3f, -1.2f, 0.05f, 2.0f, -0.4f, 0.9f};
    const float r[6] = {1, -1, -1, 1, 1, -1}, c[6] = {1, 1, 1, 1, 1, 1};
    float g[6] = {0};
    double v = d->cls->outer(d, u, r, c, 2, 3, g);
    double want = 0, q = 0;
    for (int i = 0; i < 6; i++) {
        double h = tanh(u[i]);
        want += -0.7 * h * r[i] / 6;
        q += (h - (h >= 0 ? 1 : -1)) * (h - (h >= 0 ? 1 : -1));
    }
    cr_assert_float_eq(v, want + 0.3 * q / 6, 1e-6);
    for (int i = 0; i < 6; i++) {
        float e = 1e-3f, save = u[i], gp[6] = {0}, gm[6] = {0};
        u[i] = save + e;
        double vp = d->cls->outer(d, u, r, c, 2, 3, gp);
        u[i] = save - e;
        double vm = d->cls->outer(d, u, r, c, 2, 3, gm);
        u[i] = save;
        cr_assert_float_eq(g[i], (vp - vm) / (2 * e), 1e-4, "element %d", i);
    }
    cr_assert_eq(d->clean_weight, 1.0);
    cr_assert_eq(d->method_adv_weight, 0.0);
    hl_defence_free(d);
}

/* CgAT's outer term is −w·mean(h ⊙ centre); the inner ones push away from (cgat, saat, pgd-at) or toward (atrdh)
 * their reference: their gradients have the signs of +r and −r. */
Test(defence_math, inner_and_outer_directions) {
    const char *kv[] = {"weight", "2", NULL};
    hl_defence *cg = make("cgat", kv), *at = make("atrdh", NULL), *pg = make("pgd-at", NULL);
    const float u[2] = {0.1f, -0.2f}, r[2] = {1, -1}, c[2] = {-1, 1};
    float g[2] = {0};
    double vo = cg->cls->outer(cg, u, r, c, 1, 2, g);
    cr_assert_float_eq(vo, -2 * (tanh(0.1) + tanh(0.2)) / 2, 1e-6);
    cr_assert(g[0] < 0 && g[1] > 0);
    memset(g, 0, sizeof g);
    cg->cls->inner(cg, u, r, c, 1, 2, g);
    cr_assert(g[0] > 0 && g[1] < 0, "cgat: descending mean(h⊙r) moves away from r");
    memset(g, 0, sizeof g);
    at->cls->inner(at, u, r, c, 1, 2, g);
    cr_assert(g[0] < 0 && g[1] > 0, "atrdh: toward its target");
    memset(g, 0, sizeof g);
    pg->cls->inner(pg, u, r, c, 1, 2, g);
    cr_assert(g[0] < 0 && g[1] > 0, "pgd-at: away from the clean code c");
    cr_assert_eq(pg->clean_weight, 0.0);
    cr_assert_eq(pg->method_adv_weight, 1.0);
    cr_assert_eq(at->clean_weight, 1.0);
    cr_assert_eq(at->method_adv_weight, 1.0);
    hl_defence_free(cg), hl_defence_free(at), hl_defence_free(pg);
}

/* ATRDH's targets: another label set's centre for every item. */
Test(defence_math, atrdh_targets_are_other_classes_centres) {
    hl_dataset d;
    hl_test_synthetic(&d, 40, 1, 8, 4, 3);
    hl_defence *at = make("atrdh", NULL);
    const int K = 8;
    float bank[40 * 8], ref[40 * 8], cent[40 * 8];
    hl_rng r = hl_rng_make(1, 2);
    hl_rng_normal(&r, bank, 40 * K, 0, 1);
    cr_assert_eq(at->cls->references(at, bank, &d.labels, 40, K, 0, ref), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_defence_centres(&d.labels, &d.labels, bank, K, false, cent), HL_OK);
    for (int i = 0; i < 40; i++) {
        bool other = false;
        for (int j = 0; j < 40 && !other; j++)
            other = hl_labels_class(&d.labels, j) != hl_labels_class(&d.labels, i) &&
                    !memcmp(ref + i * K, cent + j * K, K * sizeof(float));
        cr_assert(other, "item %d: its target is not another class's centre", i);
    }
    hl_defence_free(at);
    hl_dataset_free(&d);
}

Test(defence_api, registry_attach_and_options) {
    cr_assert_eq(hl_defence_class_count(), 4);
    cr_assert_not_null(hl_defence_class_find("cgat"));
    cr_assert_null(hl_defence_class_find("cgta"));
    cr_assert(strstr(hl_error_last(), "did you mean 'cgat'"), "%s", hl_error_last());
    hl_defence_opts o;
    hl_defence_opts_default(&o);
    o.steps = 0;
    hl_defence *d = NULL;
    cr_assert_eq(hl_defence_create(&d, "cgat", NULL, &o), HL_EINVAL);
    hl_defence_opts_default(&o);
    o.threat.norm = HL_NORM_NONE;
    cr_assert_eq(hl_defence_create(&d, "cgat", NULL, &o), HL_EINVAL);
    const char *bad[] = {"wieght", "1", NULL};
    hl_config *c = hl_test_params(bad);
    hl_defence_opts_default(&o);
    cr_assert_eq(hl_defence_create(&d, "cgat", c, &o), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "did you mean 'weight'"), "%s", hl_error_last());
    hl_config_free(c);
    d = make("cgat", NULL);
    hl_dataset ds;
    hl_test_synthetic(&ds, 16, 1, 8, 2, 1);
    const char *kv[] = {NULL};
    hl_hasher *lsh = hl_test_make_hasher("lsh", &ds, kv, 8, 1), *dp = hl_test_make_hasher("dpsh", &ds, kv, 8, 1);
    cr_assert_eq(hl_defence_attach(d, lsh), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "not trainable"), "%s", hl_error_last());
    cr_assert_eq(hl_defence_attach(d, dp), HL_OK);
    cr_assert_eq(dp->hook, &d->hook);
    hl_defence_detach(d, dp);
    cr_assert_null(dp->hook);
    hl_hasher_free(lsh), hl_hasher_free(dp);
    hl_dataset_free(&ds);
    hl_defence_free(d);
}

/* The inner attack keeps every image in the ε-ball ∩ pixel box and lowers its objective. */
Test(defence_inner, respects_its_budget_and_descends) {
    hl_dataset ds;
    hl_test_synthetic(&ds, 16, 1, 12, 2, 5);
    const char *kv[] = {"epochs", "0", NULL};
    hl_hasher *h = hl_test_make_hasher("dpsh", &ds, kv, 16, 2);
    hl_defence *d = make("cgat", NULL);
    const int64_t B = 16, dim = 144;
    int64_t pos[16], idx[16];
    float *x = malloc(B * dim * sizeof *x), *xa = malloc(B * dim * sizeof *xa), r[16 * 16], c[16 * 16];
    float f0[16 * 16], f1[16 * 16];
    for (int i = 0; i < B; i++) pos[i] = idx[i] = i;
    hl_dataset_read(&ds, idx, B, x);
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, true);
    hl_tensor *xt = hl_tensor_from(ctx, 4, HL_SHAPE(B, 1, 12, 12), x);
    hl_tensor *u = hl_hasher_forward(h, ctx, xt);
    memcpy(f0, u->data, sizeof f0);
    for (int i = 0; i < B * 16; i++) c[i] = f0[i] >= 0 ? 1.0f : -1.0f, r[i] = c[i]; /* away from its own code */
    hl_ctx_reset(ctx);
    cr_assert_eq(hl_defence_inner_attack(d, h, ctx, x, pos, r, c, B, xa), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_threat_check(&d->opts.threat, x, xa, B, dim, HL_THREAT_TOL), HL_OK, "%s", hl_error_last());
    double moved = 0;
    for (int64_t i = 0; i < B * dim; i++) moved = fmax(moved, fabs(xa[i] - x[i]));
    cr_assert(moved > 0.02, "the attack did not move the images (max %g)", moved);
    xt = hl_tensor_from(ctx, 4, HL_SHAPE(B, 1, 12, 12), xa);
    u = hl_hasher_forward(h, ctx, xt);
    memcpy(f1, u->data, sizeof f1);
    double before = hl_defence_code_product(f0, r, B, 16, 1.0, NULL), after = hl_defence_code_product(f1, r, B, 16, 1.0, NULL);
    cr_assert(after < before - 0.01, "objective %g -> %g", before, after);
    cr_assert_eq(d->inner_forwards, 7 * B);
    hl_ctx_free(ctx);
    free(x), free(xa);
    hl_defence_free(d);
    hl_hasher_free(h);
    hl_dataset_free(&ds);
}

/* Multi-label sets: the centre of a label set averages every item sharing at least one of its labels, the mainstay
 * weights them by the cosine of the label vectors. Items (labels; code signs of b): 0 {0} (+,+), 1 {0} (+,−),
 * 2 {1} (−,−), 3 {0,1} (−,+). For item 3's set {0,1} every item shares a label:
 *   centre:   bit0 (1 + 1 − 1 − 1)/4 = 0 → +;  bit1 (1 − 1 − 1 + 1)/4 = 0 → +           (+, +)
 *   mainstay: cosines 1/√2, 1/√2, 1/√2, 1 (Σ 3.1213): bit0 (0.7071 + 0.7071 − 0.7071 − 1)/3.1213 = −0.094 → −;
 *             bit1 (0.7071 − 0.7071 − 0.7071 + 1)/3.1213 = 0.094 → +                     (−, +)
 * (single-label reading {0} of item 3 would give the centre of item 0: (+, +) and the mainstay (+, +)). */
Test(defence_math, multi_label_centres_hand_case) {
    hl_labels L;
    cr_assert_eq(hl_labels_create(&L, 4, 2), HL_OK);
    hl_labels_set(&L, 0, 0), hl_labels_set(&L, 1, 0), hl_labels_set(&L, 2, 1), hl_labels_set(&L, 3, 0);
    hl_labels_set(&L, 3, 1);
    const float b[8] = {0.3f, 2, 1, -0.5f, -1, -3, -0.2f, 0.1f};
    float c[8], m[8];
    cr_assert_eq(hl_defence_centres(&L, &L, b, 2, false, c), HL_OK);
    cr_assert_eq(hl_defence_centres(&L, &L, b, 2, true, m), HL_OK);
    cr_assert(c[6] == 1 && c[7] == 1, "centre of {0,1}: (%g, %g)", c[6], c[7]);
    cr_assert(m[6] == -1 && m[7] == 1, "mainstay of {0,1}: (%g, %g)", m[6], m[7]);
    hl_labels_free(&L);
}

/* CgAT and SAAT train a DPSH model on multi-label data (label sets with one or two labels, no class ids). */
Test(defence_fit, multi_label_data) {
    const char *const names[2] = {"cgat", "saat"};
    for (int k = 0; k < 2; k++) {
        hl_dataset ds;
        hl_test_synthetic(&ds, 64, 1, 12, 4, 3);
        for (int64_t i = 0; i < ds.n; i += 3) hl_labels_set(&ds.labels, i, (int)((ds.class_id[i] + 1) % 4));
        free(ds.class_id);
        ds.class_id = NULL;
        const char *kv[] = {"epochs", "1", "batch", "16", NULL};
        hl_hasher *h = hl_test_make_hasher("dpsh", &ds, kv, 8, 1);
        hl_defence_opts o;
        hl_defence_opts_default(&o);
        o.steps = 2;
        hl_defence *d = NULL;
        cr_assert_eq(hl_defence_create(&d, names[k], NULL, &o), HL_OK, "%s", hl_error_last());
        cr_assert_eq(hl_defence_attach(d, h), HL_OK, "%s", hl_error_last());
        int64_t idx[64];
        for (int i = 0; i < 64; i++) idx[i] = i;
        cr_assert_eq(hl_hasher_fit(h, &ds, idx, 64, true), HL_OK, "%s: %s", names[k], hl_error_last());
        cr_assert_eq(d->nref, 64, "%s: references of every training item", names[k]);
        for (int64_t i = 0; i < 64 * 8; i++) cr_assert(d->ref[i] == 1 || d->ref[i] == -1);
        hl_defence_detach(d, h);
        hl_defence_free(d);
        hl_hasher_free(h);
        hl_dataset_free(&ds);
    }
}

/* Before the hasher has codes, a batch's references are its own clean codes, oriented so that the inner attack
 * leaves them: CgAT and SAAT push away from r = c, ATRDH pulls toward r = −c. */
Test(defence_math, fallback_references_push_away_from_the_clean_code) {
    const char *const names[3] = {"cgat", "saat", "atrdh"};
    const float sign[3] = {1, 1, -1};
    const float c[2 * 3] = {1, -1, 1, -1, -1, 1};
    for (int k = 0; k < 3; k++) {
        hl_defence *d = make(names[k], NULL);
        float r[6];
        memcpy(r, c, sizeof r);
        hl_defence_orient_fallback(d, r, c, 2, 3);
        for (int i = 0; i < 6; i++) cr_assert_eq(r[i], sign[k] * c[i], "%s: r[%d] = %g", names[k], i, r[i]);
        /* and the inner attack's gradient at the clean code moves it away: a descent step lowers h·c */
        float u[6], g[6] = {0};
        for (int i = 0; i < 6; i++) u[i] = 0.5f * c[i];
        d->cls->inner(d, u, r, c, 2, 3, g);
        for (int i = 0; i < 6; i++) cr_assert(g[i] * c[i] > 0, "%s: the step −g moves bit %d away from c", names[k], i);
        hl_defence_free(d);
    }
}

/* ADSH's database codes start at 0: its first outer iteration hands the defence no codes (no references), later
 * ones the codes V (references of every database item, ±1). */
Test(defence_fit, adsh_first_iteration_has_no_references) {
    for (int epochs = 1; epochs <= 2; epochs++) {
        hl_dataset ds;
        hl_test_synthetic(&ds, 64, 1, 12, 4, 3);
        const char *kv[] = {"epochs", epochs == 1 ? "1" : "2", "batch", "16", NULL};
        hl_hasher *h = hl_test_make_hasher("adsh", &ds, kv, 8, 1);
        hl_defence_opts o;
        hl_defence_opts_default(&o);
        o.steps = 2;
        hl_defence *d = NULL;
        cr_assert_eq(hl_defence_create(&d, "cgat", NULL, &o), HL_OK, "%s", hl_error_last());
        cr_assert_eq(hl_defence_attach(d, h), HL_OK, "%s", hl_error_last());
        int64_t idx[64];
        for (int i = 0; i < 64; i++) idx[i] = i;
        cr_assert_eq(hl_hasher_fit(h, &ds, idx, 64, true), HL_OK, "%s", hl_error_last());
        if (epochs == 1) {
            cr_assert_null(d->ref, "no references before ADSH has database codes");
        } else {
            cr_assert_eq(d->nref, 64, "the second iteration's references come from V");
            for (int64_t i = 0; i < 64 * 8; i++) cr_assert(d->ref[i] == 1 || d->ref[i] == -1);
        }
        hl_defence_detach(d, h);
        hl_defence_free(d);
        hl_hasher_free(h);
        hl_dataset_free(&ds);
    }
}
