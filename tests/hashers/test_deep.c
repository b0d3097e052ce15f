/* tests/hashers/test_deep.c — hashers/deep.h: shared options, the hash network inside a minimal test hasher,
 * similarity and soft similarity on hand cases, code diversity on hand cases (constant codes are collapsed), a
 * trainer that lowers an MSE loss on a tiny fixed batch, and hl_deep_outputs against a manual eval forward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "hashers/deep.h"
#include "test_hashers.h"

/* ---- a minimal deep hasher: the hash network and nothing else ---------------------------------------------------- */

typedef struct deeptest {
    hl_hasher base;
    hl_deep_opts o;
    hl_hashnet net;
} deeptest;

static const hl_param_spec deeptest_params[] = {
    HL_DEEP_PARAMS("7", "16", "0.01", "adam", "0"),
};

static hl_status deeptest_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                               uint64_t seed) {
    hl_status st = HL_OK;
    deeptest *m = (deeptest *)self;
    HL_TRY(hl_deep_opts_read(&m->o, cfg));
    HL_TRY(hl_hashnet_init(&m->net, &self->params, &m->o, info, bits, seed));
done:
    return st;
}

static hl_tensor *deeptest_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    return hl_hashnet_forward(ctx, &((deeptest *)self)->net, x);
}

static const hl_hasher_class deeptest_class = {
    .abi = HL_HASHER_ABI,
    .name = "deeptest",
    .summary = "test",
    .params = deeptest_params,
    .n_params = (int)HL_ARRAY_LEN(deeptest_params),
    .size = sizeof(deeptest),
    .flags = HL_HASHER_DIFFERENTIABLE,
    .init = deeptest_init,
    .forward = deeptest_forward,
};

Test(deep, opts_defaults_and_overrides) {
    hl_dataset_info info = {1, 16, 16, 4};
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, NULL, &info, 12, 3), HL_OK, "%s", hl_error_last());
    deeptest *m = (deeptest *)h;
    cr_assert_str_eq(m->o.backbone, "cnn-small", "empty backbone means cnn-small");
    cr_assert_eq(m->o.epochs, 7);
    cr_assert_eq(m->o.batch, 16);
    cr_assert_float_eq(m->o.lr, 0.01, 1e-12);
    cr_assert_eq(m->o.optimizer, HL_OPTIM_ADAM);
    cr_assert_float_eq(m->o.momentum, 0.9, 1e-12);
    cr_assert_eq(m->o.lr_schedule, HL_LR_STEP);
    cr_assert(!m->o.augment);
    cr_assert_not_null(hl_params_find(&h->params, "backbone.conv1.weight"));
    cr_assert_eq(hl_params_find(&h->params, "head.weight")->shape[0], 12);
    cr_assert_eq(hl_params_find(&h->params, "head.weight")->shape[1], 512);
    hl_hasher_free(h);

    const char *kv[] = {"backbone", "resnet-small", "optimizer", "sgd", "lr_schedule", "logspace", "augment", "true",
                        "momentum", "0.5"};
    hl_config *cfg = hl_test_params_n(5, kv);
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, cfg, &info, 8, 3), HL_OK, "%s", hl_error_last());
    m = (deeptest *)h;
    cr_assert_str_eq(m->o.backbone, "resnet-small");
    cr_assert_eq(m->o.optimizer, HL_OPTIM_SGD);
    cr_assert_eq(m->o.lr_schedule, HL_LR_LOGSPACE);
    cr_assert(m->o.augment);
    cr_assert_float_eq(m->o.momentum, 0.5, 1e-12);
    cr_assert_eq(hl_params_find(&h->params, "head.weight")->shape[1], 128);
    cr_assert_not_null(hl_params_find(&h->params, "backbone.layer3.1.bn2.running_var"));
    hl_batcher_opts bo = hl_deep_batcher_opts(h, &m->o);
    cr_assert(bo.batch == 16 && bo.seed == 3 && bo.shuffle && bo.aug.crop_pad == 2 && !bo.aug.hflip);
    hl_hasher_free(h);
    hl_config_free(cfg);

    const char *bad[] = {"backbone", "vgg16"};
    cfg = hl_test_params_n(1, bad);
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, cfg, &info, 8, 3), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "vgg16"), "%s", hl_error_last());
    hl_config_free(cfg);
}

/* ---- similarity -------------------------------------------------------------------------------------------------- */

Test(deep, similarity_hand_case) {
    hl_labels a, b;
    cr_assert_eq(hl_labels_create(&a, 3, 4), HL_OK);
    cr_assert_eq(hl_labels_create(&b, 2, 4), HL_OK);
    /* a: {0}, {1, 2}, {}   b: {2, 3}, {0, 1} */
    hl_labels_set(&a, 0, 0), hl_labels_set(&a, 1, 1), hl_labels_set(&a, 1, 2);
    hl_labels_set(&b, 0, 2), hl_labels_set(&b, 0, 3), hl_labels_set(&b, 1, 0), hl_labels_set(&b, 1, 1);
    float S[6];
    hl_deep_similarity(S, &a, &b);
    const float want[6] = {0, 1, /* {0}: shares 0 with b1 */ 1, 1, /* {1,2}: 2 with b0, 1 with b1 */ 0, 0};
    hl_test_assert_close(S, want, 6, 0, 0, "S");
    hl_labels_free(&a), hl_labels_free(&b);
}

Test(deep, soft_similarity_hand_case) {
    /* 2 similar pairs, 4 dissimilar: r = 2/4 = 0.5 */
    float S[6] = {1, 0, 0, 0, 1, 0};
    double r = hl_deep_soft_similarity(S, 2, 3);
    cr_assert_float_eq(r, 0.5, 1e-12);
    const float want[6] = {1, -0.5f, -0.5f, -0.5f, 1, -0.5f};
    hl_test_assert_close(S, want, 6, 0, 0, "soft S");
    /* all similar: r = 1, nothing to convert */
    float T[4] = {1, 1, 1, 1};
    cr_assert_float_eq(hl_deep_soft_similarity(T, 2, 2), 1.0, 1e-12);
    const float ones[4] = {1, 1, 1, 1};
    hl_test_assert_close(T, ones, 4, 0, 0, "all similar");
    /* none similar: r = 0, every entry becomes −0 */
    float Z[3] = {0, 0, 0};
    cr_assert_float_eq(hl_deep_soft_similarity(Z, 1, 3), 0.0, 1e-12);
    for (int i = 0; i < 3; i++) cr_assert_eq(Z[i], 0.0f);
}

/* ---- code diversity ---------------------------------------------------------------------------------------------- */

Test(deep, diversity_constant_codes_are_collapsed) {
    float u[5 * 3];
    for (int i = 0; i < 15; i++) u[i] = (i % 3 == 1) ? -0.3f : 0.7f + 0.01f * (float)i; /* same signs every row */
    hl_code_diversity d = hl_code_diversity_of(u, 5, 3);
    cr_assert_float_eq(d.distinct_frac, 0.2, 1e-12);
    cr_assert_eq(d.constant_bits, 3);
    cr_assert_float_eq(d.min_balance, 0.0, 1e-12);
    cr_assert_float_eq(d.mean_balance, 0.0, 1e-12);
    cr_assert(d.collapsed);
}

Test(deep, diversity_balanced_codes_are_not_collapsed) {
    /* the 4 codes of 2 bits, sign(0) = +1: rows (+,+) (+,−) (−,+) (−,−) */
    const float u[8] = {0.0f, 1.0f, 2.0f, -1.0f, -0.5f, 0.0f, -3.0f, -0.1f};
    hl_code_diversity d = hl_code_diversity_of(u, 4, 2);
    cr_assert_float_eq(d.distinct_frac, 1.0, 1e-12);
    cr_assert_eq(d.constant_bits, 0);
    cr_assert_float_eq(d.min_balance, 0.5, 1e-12);
    cr_assert_float_eq(d.mean_balance, 0.5, 1e-12);
    cr_assert(!d.collapsed);
}

Test(deep, diversity_hand_cases) {
    /* 10 classes × 20 items, K = 70: item of class c has bit k = +1 iff bit (k mod 7) of c+1... a class code
     * table; 10 distinct codes (5% distinct), bits balanced-ish: not collapsed */
    enum { N = 200, K = 70 };
    static float u[N * K];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) u[i * K + k] = (((i % 10) + k) % 2) ? 1.0f : -1.0f;
    hl_code_diversity d = hl_code_diversity_of(u, N, K);
    cr_assert_float_eq(d.distinct_frac, 2.0 / N, 1e-12); /* codes depend on the parity of the class only */
    cr_assert_float_eq(d.mean_balance, 0.5, 1e-12);
    cr_assert(!d.collapsed);
    /* near-constant: 2 of 200 items differ from the others in every bit — mean balance 0.01 < 0.05 */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) u[i * K + k] = i < 2 ? -1.0f : 1.0f;
    d = hl_code_diversity_of(u, N, K);
    cr_assert_eq(d.constant_bits, 0);
    cr_assert_float_eq(d.mean_balance, 0.01, 1e-12);
    cr_assert(d.collapsed);
    /* 36 of 70 bits constant (> K/2), the rest balanced: collapsed; 35 constant: not */
    for (int c = 35; c <= 36; c++) {
        for (int i = 0; i < N; i++)
            for (int k = 0; k < K; k++) u[i * K + k] = k < c ? 1.0f : ((i + k) % 2 ? 1.0f : -1.0f);
        d = hl_code_diversity_of(u, N, K);
        cr_assert_eq(d.constant_bits, c);
        cr_assert_eq(d.collapsed, c == 36, "%d constant bits", c);
    }
    /* one item: never collapsed */
    d = hl_code_diversity_of(u, 1, K);
    cr_assert(!d.collapsed);
    cr_assert_float_eq(d.distinct_frac, 1.0, 1e-12);
}

/* ---- trainer and outputs ----------------------------------------------------------------------------------------- */

static void make_data(hl_dataset *d, int64_t n, int c, int s, int classes) {
    hl_synth_opts so = {.n = n, .c = c, .h = s, .w = s, .classes = classes, .seed = 11, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(d, &so), HL_OK, "%s", hl_error_last());
}

Test(deep, trainer_step_lowers_mse_on_a_fixed_batch) {
    hl_dataset d;
    make_data(&d, 8, 1, 16, 4);
    hl_dataset_info info = hl_dataset_info_of(&d);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, NULL, &info, 6, 5), HL_OK, "%s", hl_error_last());
    deeptest *m = (deeptest *)h;
    m->o.lr = 1e-3;
    m->o.lr_schedule = HL_LR_CONSTANT;
    hl_deep_trainer t;
    cr_assert_eq(hl_deep_trainer_begin(&t, h, &m->o), HL_OK, "%s", hl_error_last());
    hl_deep_trainer_epoch(&t, 0);
    cr_assert_float_eq(hl_optim_get_lr(t.opt), 1e-3, 1e-9);
    int64_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    float target[8 * 6], G[8 * 6], first = 0, last = 0;
    for (int i = 0; i < 48; i++) target[i] = (i * 7 % 5) * 0.5f - 1.0f;
    for (int step = 0; step < 40; step++) {
        hl_ctx_reset(t.ctx);
        hl_tensor *u = hl_hashnet_forward(t.ctx, &m->net, hl_deep_images(t.ctx, &d, idx, 8));
        double loss = 0;
        for (int i = 0; i < 48; i++) {
            double e = u->data[i] - target[i];
            loss += e * e / 48;
            G[i] = (float)(2 * e / 48);
        }
        if (step == 0) first = (float)loss;
        last = (float)loss;
        cr_assert_eq(hl_deep_trainer_step(&t, u, G), HL_OK, "%s", hl_error_last());
    }
    cr_assert_eq(t.steps, 40);
    cr_log_info("deep trainer: MSE %.4f -> %.4f in 40 Adam steps", first, last);
    cr_assert(last < 0.2f * first, "MSE %.4f -> %.4f", first, last);
    /* a non-finite gradient is refused without stepping */
    hl_ctx_reset(t.ctx);
    hl_tensor *u = hl_hashnet_forward(t.ctx, &m->net, hl_deep_images(t.ctx, &d, idx, 8));
    G[3] = NAN;
    cr_assert_eq(hl_deep_trainer_step(&t, u, G), HL_ERR);
    cr_assert(strstr(hl_error_last(), "deeptest diverged") && strstr(hl_error_last(), "lower lr"), "%s",
              hl_error_last());
    cr_assert_eq(t.steps, 40);
    hl_deep_trainer_end(&t);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(deep, step_schedule_divides_by_10_at_thirds) {
    hl_dataset_info info = {1, 8, 8, 2};
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, NULL, &info, 4, 5), HL_OK, "%s", hl_error_last());
    deeptest *m = (deeptest *)h;
    m->o.epochs = 9;
    m->o.lr = 0.1;
    const struct { hl_lr_kind k; double at[3]; } cases[] = {
        {HL_LR_STEP, {0.1, 0.01, 0.001}},      /* epochs 0, 3, 6 */
        {HL_LR_LOGSPACE, {0.1, 0.1 * pow(0.01, 3.0 / 8), 0.1 * pow(0.01, 6.0 / 8)}},
        {HL_LR_CONSTANT, {0.1, 0.1, 0.1}},
    };
    for (int c = 0; c < 3; c++) {
        m->o.lr_schedule = cases[c].k;
        hl_deep_trainer t;
        cr_assert_eq(hl_deep_trainer_begin(&t, h, &m->o), HL_OK, "%s", hl_error_last());
        for (int e = 0; e < 3; e++) {
            hl_deep_trainer_epoch(&t, 3 * e);
            cr_assert_float_eq(hl_optim_get_lr(t.opt), cases[c].at[e], 1e-6 * cases[c].at[e], "case %d epoch %d", c,
                               3 * e);
        }
        hl_deep_trainer_epoch(&t, 8);
        if (cases[c].k == HL_LR_LOGSPACE) cr_assert_float_eq(hl_optim_get_lr(t.opt), 0.001, 1e-8);
        hl_deep_trainer_end(&t);
    }
    hl_hasher_free(h);
}

Test(deep, outputs_equal_a_manual_eval_forward) {
    hl_dataset d;
    make_data(&d, 300, 1, 8, 3);
    hl_dataset_info info = hl_dataset_info_of(&d);
    const char *kv[] = {"backbone", "cnn-medium"};
    hl_config *cfg = hl_test_params_n(1, kv);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, cfg, &info, 5, 9), HL_OK, "%s", hl_error_last());
    deeptest *m = (deeptest *)h;
    /* non-default running statistics, so eval mode differs from train mode */
    for (int i = 0; i < hl_params_buffer_count(&h->params); i++) {
        hl_tensor *b = hl_params_buffer_at(&h->params, i);
        for (int64_t j = 0; j < hl_tensor_numel(b); j++) b->data[j] += 0.1f * (float)(j % 3);
    }
    int64_t *idx = malloc(300 * sizeof *idx);
    for (int i = 0; i < 300; i++) idx[i] = 299 - i;
    float *out = malloc(300 * 5 * sizeof *out);
    cr_assert_eq(hl_deep_outputs(h, &m->net, &d, idx, 300, out), HL_OK, "%s", hl_error_last());
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, false);
    hl_no_grad_begin(ctx);
    hl_tensor *u = hl_hashnet_forward(ctx, &m->net, hl_deep_images(ctx, &d, idx, 300));
    hl_no_grad_end(ctx);
    hl_test_assert_close(out, u->data, 300 * 5, 1e-5f, 1e-4f, "outputs");
    free(idx), free(out);
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_config_free(cfg);
    hl_dataset_free(&d);
}

/* Precise batch norm (hl_deep_recalibrate_bn): with one batch holding every image, the running statistics become that
 * batch's, so eval mode reproduces the training-mode outputs (up to the unbiased-variance factor n/(n-1), 0.2% in
 * scale at n = 300) whatever the running statistics were before; a second recalibration from other statistics gives
 * the same bytes; an untrained network (epochs 0) keeps its statistics. */
Test(deep, recalibrated_batch_norm_makes_eval_match_training) {
    enum { N = 300, K = 6 };
    hl_dataset d;
    make_data(&d, N, 1, 8, 3);
    hl_dataset_info info = hl_dataset_info_of(&d);
    const char *kv[] = {"backbone", "cnn-small", "batch", "300", "epochs", "1"};
    hl_config *cfg = hl_test_params_n(3, kv);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, cfg, &info, K, 9), HL_OK, "%s", hl_error_last());
    deeptest *m = (deeptest *)h;
    int64_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = i;
    int nb = hl_params_buffer_count(&h->params);
    cr_assert(nb >= 2, "cnn-small has a batch norm");
    float *before = NULL, *after = NULL;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < nb; i++) { /* stale statistics, different in each round */
            hl_tensor *b = hl_params_buffer_at(&h->params, i);
            for (int64_t j = 0; j < hl_tensor_numel(b); j++) b->data[j] = 0.5f + 0.3f * (float)((j + round) % 4);
        }
        cr_assert_eq(hl_deep_recalibrate_bn(h, &m->net, &m->o, &d, idx, N), HL_OK, "%s", hl_error_last());
        float **dst = round ? &after : &before;
        *dst = malloc((size_t)h->params.buf_len * sizeof **dst);
        memcpy(*dst, h->params.bufdata, (size_t)h->params.buf_len * sizeof **dst);
    }
    cr_assert(memcmp(before, after, (size_t)h->params.buf_len * sizeof *before) == 0,
              "the result does not depend on the statistics it started from");
    float *ev = malloc(N * K * sizeof *ev);
    cr_assert_eq(hl_deep_outputs(h, &m->net, &d, idx, N, ev), HL_OK, "%s", hl_error_last());
    hl_ctx *ctx = hl_test_ctx(); /* training mode, the whole set as one batch */
    hl_ctx_set_train(ctx, true);
    hl_no_grad_begin(ctx);
    hl_tensor *u = hl_hashnet_forward(ctx, &m->net, hl_deep_images(ctx, &d, idx, N));
    hl_no_grad_end(ctx);
    double maxd = 0, scale = 0;
    for (int i = 0; i < N * K; i++) maxd = fmax(maxd, fabs(ev[i] - u->data[i])), scale = fmax(scale, fabs(u->data[i]));
    cr_assert(maxd < 0.01 * scale, "eval vs training outputs: max difference %g at scale %g", maxd, scale);
    /* epochs 0: the untrained network keeps its statistics */
    m->o.epochs = 0;
    for (int64_t j = 0; j < h->params.buf_len; j++) h->params.bufdata[j] = 0.25f;
    cr_assert_eq(hl_deep_recalibrate_bn(h, &m->net, &m->o, &d, idx, N), HL_OK);
    for (int64_t j = 0; j < h->params.buf_len; j++) cr_assert(h->params.bufdata[j] == 0.25f);
    free(before), free(after), free(ev);
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_config_free(cfg);
    hl_dataset_free(&d);
}

/* hl_deep_write_samples: nothing without a workdir; with one, <workdir>/samples/G_epoch_003.png for epoch index 2. */
Test(deep, write_samples_into_workdir) {
    hl_dataset d;
    hl_test_synthetic(&d, 4, 1, 28, 2, 1);
    hl_hasher *h = hl_test_make_hasher("lsh", &d, (const char *const[]){NULL}, 8, 1);
    hl_params pg;
    hl_params_init(&pg);
    hl_gan_generator g;
    cr_assert_eq(hl_gan_generator_init(&g, &pg, "G", 8, 1, 28, 28, 8), HL_OK);
    cr_assert_eq(hl_params_alloc(&pg), HL_OK);
    hl_rng r = hl_rng_make(2, 1);
    hl_gan_generator_reset(&g, &r);
    float z[4 * 8];
    hl_rng_uniform(&r, z, 32, -1.0f, 1.0f);
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/cell", hl_test_tmpdir());
    cr_assert_eq(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/samples/G_epoch_003.png", dir);
    cr_assert_eq(hl_deep_write_samples(h, "G", &g, z, 4, 2), HL_OK, "%s", hl_error_last());
    cr_assert_neq(access(path, F_OK), 0, "written without a workdir");
    h->workdir = dir;
    cr_assert_eq(hl_deep_write_samples(h, "G", &g, z, 4, 2), HL_OK, "%s", hl_error_last());
    cr_assert_eq(access(path, F_OK), 0, "%s missing", path);
    hl_params_free(&pg);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

/* The step schedule scales with short runs: milestones ⌈E/3⌉, ⌈2E/3⌉, never two drops at once. */
Test(deep, step_schedule_scales_with_short_runs) {
    hl_dataset_info info = {1, 8, 8, 2};
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, &deeptest_class, NULL, &info, 4, 5), HL_OK, "%s", hl_error_last());
    deeptest *m = (deeptest *)h;
    m->o.lr = 1.0;
    m->o.lr_schedule = HL_LR_STEP;
    const struct { int E; double lr[5]; } cases[] = {
        {1, {1}}, {2, {1, 0.1}}, {3, {1, 0.1, 0.01}}, {4, {1, 1, 0.1, 0.01}}, {5, {1, 1, 0.1, 0.1, 0.01}},
    };
    for (int c = 0; c < 5; c++) {
        m->o.epochs = cases[c].E;
        hl_deep_trainer t;
        cr_assert_eq(hl_deep_trainer_begin(&t, h, &m->o), HL_OK, "%s", hl_error_last());
        for (int e = 0; e < cases[c].E; e++) {
            hl_deep_trainer_epoch(&t, e);
            cr_assert_float_eq(hl_optim_get_lr(t.opt), cases[c].lr[e], 1e-6, "E=%d epoch %d: lr %g", cases[c].E, e,
                               hl_optim_get_lr(t.opt));
        }
        hl_deep_trainer_end(&t);
    }
    hl_hasher_free(h);
}
