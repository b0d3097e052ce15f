/* tests/attacks/test_attack_fit.c — the driver's side of attacks that learn from their victim (HL_ATTACK_NEEDS_FIT),
 * with a toy class defined here: "shift" learns one number (the mean pixel of its training images) and adds it to
 * every pixel, aiming at the target labels it is given. Checked: running before fit is refused; during fit the
 * victim's parameters are frozen and restored after; what fit learned survives save/load exactly (the same images);
 * a checkpoint of another attack is refused; the target labels reach perturb row-aligned with each batch; norm none
 * is accepted for an attack that bounds itself and keeps only the pixel box. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "test_hashers.h"

static struct {
    int fits;
    bool victim_frozen_in_fit;
    int64_t labels_seen; /* target label rows seen by perturb, checked against the query ids */
    bool labels_aligned;
} g_seen;

static hl_status shift_init(hl_attack *self, const hl_config *cfg) {
    (void)cfg;
    hl_status st = HL_OK;
    if (!hl_params_add(&self->params, "shift", 1, HL_SHAPE(1))) return hl_error_set(HL_ENOMEM, "out of memory");
    HL_TRY(hl_params_alloc(&self->params));
done:
    return st;
}

static hl_status shift_fit(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_attack_fit_data *data) {
    (void)ctx;
    g_seen.fits++;
    g_seen.victim_frozen_in_fit = !hl_tensor_requires_grad(hl_params_at(&victim->params, 0));
    int64_t d = hl_dataset_image_size(data->train);
    float *x = malloc((size_t)(data->n * d) * sizeof *x);
    hl_dataset_read(data->train, data->idx, data->n, x);
    double s = 0;
    for (int64_t i = 0; i < data->n * d; i++) s += x[i];
    free(x);
    hl_params_at(&self->params, 0)->data[0] = (float)(s / (double)(data->n * d));
    return HL_OK;
}

/* Target label of query id q in the test: class q mod 3. */
static hl_status shift_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x, hl_tensor *x_adv,
                               const hl_attack_goal *goal) {
    (void)victim, (void)ctx;
    float v = hl_params_at(&self->params, 0)->data[0];
    int64_t n = hl_tensor_numel(x), B = x->shape[0];
    for (int64_t i = 0; i < n; i++) x_adv->data[i] = x->data[i] + v;
    for (int64_t b = 0; goal->target_labels && b < B; b++) {
        g_seen.labels_seen++;
        g_seen.labels_aligned &= hl_labels_has(goal->target_labels, b, (int)(goal->query_id[b] % 3));
    }
    hl_threat_project(&self->opts.threat, x->data, x_adv->data, B, n / B);
    return HL_OK;
}

static const hl_attack_class k_shift = {.abi = HL_ATTACK_ABI, .name = "shift", .summary = "test",
                                        .size = sizeof(hl_attack),
                                        .flags = HL_ATTACK_TARGETED | HL_ATTACK_NEEDS_FIT | HL_ATTACK_UNBOUNDED,
                                        .init = shift_init, .perturb = shift_perturb, .fit = shift_fit};

static void make(hl_attack **a, hl_norm norm) {
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.threat = hl_threat_make(norm, 8, 255);
    o.targeted = true;
    cr_assert_eq(hl_attack_create_class(a, &k_shift, NULL, &o), HL_OK, "%s", hl_error_last());
}

Test(attack_fit, fit_save_load_and_target_labels) {
    enum { NQ = 10 };
    hl_dataset d;
    hl_test_synthetic(&d, 60, 1, 8, 3, 4);
    hl_hasher *v = hl_test_make_hasher("lsh", &d, (const char *const[]){NULL}, 8, 1);
    hl_tensor_set_requires_grad(hl_params_at(&v->params, 0), true);
    int64_t idx[50], ids[NQ];
    for (int i = 0; i < 50; i++) idx[i] = i;
    cr_assert_eq(hl_hasher_fit(v, &d, idx, 50, true), HL_OK, "%s", hl_error_last());
    hl_ctx *ctx = hl_test_ctx();
    float x[NQ * 64], a1[NQ * 64], a2[NQ * 64];
    for (int i = 0; i < NQ; i++) ids[i] = 50 + i;
    hl_dataset_read(&d, ids, NQ, x);
    hl_labels tl;
    cr_assert_eq(hl_labels_create(&tl, NQ, 3), HL_OK);
    for (int i = 0; i < NQ; i++) hl_labels_set(&tl, i, (int)(ids[i] % 3));
    hl_attack_goal g = {.query_id = ids, .target_labels = &tl};

    hl_attack *a = NULL;
    make(&a, HL_NORM_LINF);
    memset(&g_seen, 0, sizeof g_seen);
    g_seen.labels_aligned = true;
    cr_assert_eq(hl_attack_run(a, v, ctx, x, a1, NQ, &g, 4), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "must be fitted"), "%s", hl_error_last());
    hl_attack_fit_data fd = {.train = &d, .idx = idx, .n = 50, .seed = 1};
    cr_assert_eq(hl_attack_fit(a, v, ctx, &fd), HL_OK, "%s", hl_error_last());
    cr_assert_eq(g_seen.fits, 1);
    cr_assert(g_seen.victim_frozen_in_fit);
    cr_assert(hl_tensor_requires_grad(hl_params_at(&v->params, 0)), "victim flags restored after fit");
    cr_assert(a->fitted);
    float shift = hl_params_at(&a->params, 0)->data[0];
    cr_assert(shift > 0.01f, "learned %g", (double)shift);
    cr_assert_eq(hl_attack_run(a, v, ctx, x, a1, NQ, &g, 4), HL_OK, "%s", hl_error_last());
    cr_assert_eq(g_seen.labels_seen, NQ);
    cr_assert(g_seen.labels_aligned, "target label rows follow the batches");
    for (int i = 0; i < NQ * 64; i++) /* shift then clip to the 8/255 ball and the box */
        cr_assert_float_eq(a1[i], fminf(fminf(x[i] + fminf(shift, 8.0f / 255.0f), 1.0f), x[i] + 8.0f / 255.0f), 1e-6);

    char path[1024];
    snprintf(path, sizeof path, "%s/shift.safetensors", hl_test_tmpdir());
    cr_assert_eq(hl_attack_save(a, path), HL_OK, "%s", hl_error_last());
    hl_attack *b = NULL;
    make(&b, HL_NORM_LINF);
    cr_assert_eq(hl_attack_load(b, v, path), HL_OK, "%s", hl_error_last());
    cr_assert(b->fitted);
    cr_assert_eq(hl_attack_run(b, v, ctx, x, a2, NQ, &g, 7), HL_OK, "%s", hl_error_last());
    cr_assert_eq(memcmp(a1, a2, sizeof a1), 0, "loaded attack gives the same images");
    cr_assert_eq(g_seen.fits, 1, "load does not fit");

    /* norm none: only the box */
    hl_attack *c = NULL;
    make(&c, HL_NORM_NONE);
    cr_assert_eq(hl_attack_load(c, v, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_run(c, v, ctx, x, a2, NQ, &g, 5), HL_OK, "%s", hl_error_last());
    for (int i = 0; i < NQ * 64; i++) cr_assert_float_eq(a2[i], fminf(x[i] + shift, 1.0f), 1e-6);

    /* another attack's checkpoint (a hasher checkpoint has no attack name) */
    snprintf(path, sizeof path, "%s/lsh.safetensors", hl_test_tmpdir());
    cr_assert_eq(hl_hasher_save(v, path), HL_OK);
    cr_assert_eq(hl_attack_load(c, v, path), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "checkpoint of attack '(none)', expected 'shift'"), "%s", hl_error_last());

    /* an attack without NEEDS_FIT learns nothing */
    hl_attack *nz = NULL;
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    cr_assert_eq(hl_attack_create(&nz, "noise", NULL, &o), HL_OK);
    cr_assert_eq(hl_attack_fit(nz, v, ctx, &fd), HL_EINVAL);
    hl_attack_free(nz);
    hl_attack_free(a), hl_attack_free(b), hl_attack_free(c);
    hl_labels_free(&tl);
    hl_ctx_free(ctx);
    hl_hasher_free(v);
    hl_dataset_free(&d);
}
