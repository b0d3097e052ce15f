/* hashers/deep.c — what the deep hashers share (hashers/deep.h): options, the hash network, the trainer, batches,
 * pairwise similarity, the code-diversity (collapse) check and the epoch log line.
 *
 * Learning-rate schedules from the `lr_schedule` key, for E = epochs (core/lr_schedule.h):
 *   constant   lr
 *   step       MultiStepLR at epochs ⌈E/3⌉ and ⌈2E/3⌉, γ = 0.1 (lr/10, then lr/100): the schedule scales with the
 *              run, so every run spends its first third at the full rate, and a short one never drops twice at once
 *              (E = 1: lr; E = 2: lr, lr/10; E = 3: lr, lr/10, lr/100; E = 4: lr, lr, lr/10, lr/100; E = 150: at 50
 *              and 100). Until version 2 of the deep hashers it was max(1, ⌊E/3⌋), max(1, ⌊2E/3⌋), which ran a
 *              2-epoch fit's second epoch at lr/100.
 *   cosine     CosineAnnealingLR with T_max = max(1, E), eta_min = 0
 *   logspace   lr · 0.01^(t/(E−1)), i.e. numpy.logspace(log10 lr, log10 lr − 2, E) (ADSH/DDSH's logspace(−2, −4))
 *
 * Code diversity of B = sign(u) (sign(0) = +1) for n items and K bits, p_k = share of +1 in bit k:
 *   distinct_frac = (number of distinct rows of B) / n
 *   balance_k = min(p_k, 1 − p_k);  min_balance, mean_balance over k;  constant_bits = #{k : balance_k = 0}
 *   collapsed = n ≥ 2 and (every row is the same code, or constant_bits > K/2, or mean_balance < 0.05)
 * The last rule catches near-constant codes (on average a bit differs from its majority value on < 5% of the items);
 * a healthy supervised code over C ≥ 2 balanced classes has few distinct codes (about C) but balanced bits, so
 * distinct_frac alone is no collapse signal.
 */
#include "hashers/deep.h"

#include "core/hash.h"
#include "core/job.h"

#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/tape.h"

hl_status hl_deep_opts_read(hl_deep_opts *o, const hl_config *cfg) {
    hl_status st = HL_OK;
    const char *s = NULL;
    memset(o, 0, sizeof *o);
    HL_TRY(hl_config_get_string(cfg, "backbone", &s));
    if (!s[0]) s = "cnn-small";
    if (hl_backbone_kind_from_name(s) == HL_BACKBONE_KIND_COUNT)
        return hl_error_set(HL_EINVAL, "unknown backbone '%s' (known: %s)", s, HL_BACKBONE_NAMES);
    snprintf(o->backbone, sizeof o->backbone, "%s", s);
    const char *alias = NULL;
    HL_TRY(hl_config_get_string(cfg, "pretrained", &s));
    HL_TRY(hl_config_get_string(cfg, "init_from", &alias));
    if (s[0] && alias[0] && strcmp(s, alias) != 0)
        return hl_error_set(HL_EINVAL, "pretrained '%s' and init_from '%s' differ (init_from is pretrained's older "
                            "name: set one)", s, alias);
    if (!s[0]) s = alias;
    if (strlen(s) >= sizeof o->init_from)
        return hl_error_set(HL_EINVAL, "pretrained path too long (%zu bytes)", strlen(s));
    snprintf(o->init_from, sizeof o->init_from, "%s", s);
    HL_TRY(hl_config_get_string(cfg, "freeze_until", &s));
    if ((st = hl_backbone_stage_find(hl_backbone_kind_from_name(o->backbone), s, &o->freeze_stage)) < 0) {
        hl_error_wrap("freeze_until");
        return st;
    }
    HL_TRY(hl_config_get_double(cfg, "backbone_lr_mult", &o->backbone_lr_mult));
    HL_TRY(hl_config_get_int(cfg, "epochs", &o->epochs));
    HL_TRY(hl_config_get_int(cfg, "batch", &o->batch));
    HL_TRY(hl_config_get_double(cfg, "lr", &o->lr));
    HL_TRY(hl_config_get_double(cfg, "momentum", &o->momentum));
    HL_TRY(hl_config_get_double(cfg, "weight_decay", &o->weight_decay));
    HL_TRY(hl_config_get_string(cfg, "optimizer", &s));
    o->optimizer = hl_optim_kind_from_name(s);
    if (o->optimizer != HL_OPTIM_SGD && o->optimizer != HL_OPTIM_ADAM)
        return hl_error_set(HL_EINVAL, "unknown optimizer '%s' (known: sgd|adam)", s);
    HL_TRY(hl_config_get_string(cfg, "lr_schedule", &s));
    o->lr_schedule = hl_lr_kind_from_name(s);
    if (o->lr_schedule != HL_LR_CONSTANT && o->lr_schedule != HL_LR_STEP && o->lr_schedule != HL_LR_COSINE &&
        o->lr_schedule != HL_LR_LOGSPACE)
        return hl_error_set(HL_EINVAL, "unknown lr_schedule '%s' (known: constant|step|cosine|logspace)", s);
    HL_TRY(hl_config_get_bool(cfg, "augment", &o->augment));
done:
    return st;
}

/* ---- hash network ------------------------------------------------------------------------------------------------ */

hl_status hl_hashnet_declare(hl_hashnet *net, hl_params *p, const hl_deep_opts *o, const hl_dataset_info *info,
                             int out) {
    hl_status st = HL_OK;
    memset(net, 0, sizeof *net);
    if (out < 1) return hl_error_set(HL_EINVAL, "hash network: %d outputs", out);
    HL_TRY(hl_backbone_init(&net->bb, p, "backbone", o->backbone[0] ? o->backbone : "cnn-small", info->c, info->h,
                            info->w));
    hl_linear_layer_init(&net->head, p, "head", net->bb.features, out, true);
    net->out = out;
done:
    return st;
}

hl_status hl_hashnet_init_values(hl_hashnet *net, hl_params *p, const hl_deep_opts *o, uint64_t seed) {
    hl_status st = HL_OK;
    hl_rng r = hl_rng_make(seed, 0x6e6574 /* "net" */);
    hl_backbone_reset(&net->bb, &r);
    hl_nn_init_default_linear(&net->head, &r);
    if (o->init_from[0]) {
        int copied = 0;
        if ((st = hl_backbone_load_weights(&net->bb, p, o->init_from, &copied)) < 0) {
            hl_error_wrap("pretrained");
            return st;
        }
        hl_msg(HL_LOG_INFO, "backbone %s: %d tensors loaded from %s", o->backbone, copied, o->init_from);
    }
    hl_backbone_freeze(&net->bb, p, o->freeze_stage);
    return st;
}

hl_status hl_hashnet_init(hl_hashnet *net, hl_params *p, const hl_deep_opts *o, const hl_dataset_info *info, int out,
                          uint64_t seed) {
    hl_status st = HL_OK;
    HL_TRY(hl_hashnet_declare(net, p, o, info, out));
    HL_TRY(hl_params_alloc(p));
    HL_TRY(hl_hashnet_init_values(net, p, o, seed));
done:
    return st;
}

hl_tensor *hl_hashnet_forward(hl_ctx *ctx, const hl_hashnet *net, hl_tensor *x) {
    return hl_linear_layer_forward(ctx, &net->head, hl_backbone_forward(ctx, &net->bb, x));
}

/* ---- trainer ----------------------------------------------------------------------------------------------------- */

static hl_lr_schedule schedule_of(const hl_deep_opts *o) {
    int E = (int)HL_MIN(o->epochs, 1000000000);
    switch (o->lr_schedule) {
    case HL_LR_STEP: {
        int ms[2] = {(E + 2) / 3, (2 * E + 2) / 3}; /* ⌈E/3⌉, ⌈2E/3⌉ */
        return hl_lr_multistep(2, ms, 0.1f);
    }
    case HL_LR_COSINE: return hl_lr_cosine(HL_MAX(1, E), 0.0f);
    case HL_LR_LOGSPACE: return hl_lr_logspace((float)(o->lr / 100.0), HL_MAX(1, E));
    default: return hl_lr_constant();
    }
}

/* Learning-rate groups of the backbone (deep.h, fine-tuning): backbone_lr_mult on "backbone.", then 0 (lr and weight
 * decay) on the frozen stages' parameters. */
static void set_backbone_groups(hl_optim *opt, const hl_deep_opts *o) {
    char prefix[96];
    if (o->backbone_lr_mult != 1.0) hl_optim_set_group(opt, "backbone.", (float)o->backbone_lr_mult, 1.0f);
    hl_backbone_kind kind = hl_backbone_kind_from_name(o->backbone);
    if (o->freeze_stage < 0 || kind == HL_BACKBONE_KIND_COUNT) return;
    int n;
    const hl_backbone_stage *st = hl_backbone_stages(kind, &n);
    for (int s = 0; s <= o->freeze_stage && s < n; s++)
        for (int j = 0; st[s].prefixes[j]; j++) {
            snprintf(prefix, sizeof prefix, "backbone.%s", st[s].prefixes[j]);
            hl_optim_set_group(opt, prefix, 0.0f, 0.0f);
        }
}

/* The fine-tuning keys that came after fingerprints existed, at their defaults, are left out of a fit's fingerprint,
 * so a fit interrupted before they existed still resumes. */
static const char *const fp_new_keys[][2] = {{"pretrained", ""}, {"freeze_until", ""}, {"backbone_lr_mult", "1"}};

/* SHA-256 of {method, version, bits, seed, resolved params}. */
static hl_status fit_fingerprint(const hl_hasher *h, char out[65]) {
    char *json = NULL, *buf = NULL;
    hl_config *cfg = hl_config_clone(h->cfg);
    if (!cfg) return hl_error_set(HL_ENOMEM, "out of memory");
    for (size_t i = 0; i < HL_ARRAY_LEN(fp_new_keys); i++) {
        const hl_config *v = hl_config_get(cfg, fp_new_keys[i][0]);
        if (v && v->kind == HL_CONFIG_SCALAR && !strcmp(v->text, fp_new_keys[i][1]))
            hl_config_map_remove(cfg, fp_new_keys[i][0]);
    }
    hl_status st = hl_config_canonical_json(cfg, &json);
    hl_config_free(cfg);
    if (st < 0) return st;
    size_t n = strlen(json) + 256;
    if (!(buf = malloc(n))) {
        free(json);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    snprintf(buf, n, "%s|%s|%d|%llu|%s", h->cls->name, h->cls->version ? h->cls->version : "1", h->bits,
             (unsigned long long)h->seed, json);
    hl_sha256_hex(buf, strlen(buf), out);
    free(buf);
    free(json);
    return HL_OK;
}

hl_status hl_deep_trainer_begin(hl_deep_trainer *t, hl_hasher *h, const hl_deep_opts *o) {
    hl_status st = HL_OK;
    char what[96], fp[65];
    memset(t, 0, sizeof *t);
    t->h = h;
    t->o = o;
    t->t0 = hl_time_s();
    t->sched = schedule_of(o);
    HL_TRY(hl_lr_check(&t->sched));
    HL_TRY(hl_ctx_create(&t->ctx, h->dev, 0));
    hl_ctx_set_train(t->ctx, true);
    hl_ctx_set_seed(t->ctx, h->seed);
    hl_optim_config c = hl_optim_defaults(o->optimizer);
    c.lr = (float)o->lr;
    c.weight_decay = (float)o->weight_decay;
    if (o->optimizer == HL_OPTIM_SGD) c.momentum = (float)o->momentum;
    HL_TRY(hl_optim_create(&t->opt, &h->params, &c));
    set_backbone_groups(t->opt, o);
    HL_TRY(fit_fingerprint(h, fp));
    snprintf(what, sizeof what, "%s %db", h->cls->name, h->bits);
    hl_train_state_init(&t->state, h->workdir, HL_DEEP_FIT_STATE, what, o->epochs, fp);
    hl_train_state_params(&t->state, "model", &h->params);
    hl_train_state_optim(&t->state, "opt", t->opt);
    hl_train_state_blob(&t->state, "ctx_rng", &t->ctx->rng, sizeof t->ctx->rng);
    hl_train_state_blob(&t->state, "steps", &t->steps, sizeof t->steps);
    hl_train_state_blob(&t->state, "fit_forwards", &h->fit_forwards, sizeof h->fit_forwards);
    hl_train_state_blob(&t->state, "fit_backwards", &h->fit_backwards, sizeof h->fit_backwards);
    t->hook = h->hook;
    if (t->hook) {
        HL_TRY(hl_ctx_create(&t->hook_ctx, h->dev, 0));
        hl_ctx_set_train(t->hook_ctx, true);
        hl_ctx_set_seed(t->hook_ctx, h->seed ^ 0x686f6f6bull /* "hook" */);
    }
done:
    if (st < 0) hl_deep_trainer_end(t);
    return st;
}

hl_status hl_deep_trainer_resume(hl_deep_trainer *t, int64_t *first_epoch) {
    hl_status st = hl_train_state_resume(&t->state, first_epoch);
    if (st == HL_EMISMATCH || st == HL_EFORMAT) { /* another configuration's state: keep it aside, start over */
        char aside[1300];
        snprintf(aside, sizeof aside, "%s.stale", t->state.path);
        hl_msg(HL_LOG_WARN, "%s; set aside as %s, training from the start", hl_error_last(), aside);
        hl_error_clear();
        if (rename(t->state.path, aside) != 0)
            return hl_error_set(HL_EIO, "%s: cannot set aside a stale training state", t->state.path);
        *first_epoch = 0;
        st = HL_OK;
    }
    return st;
}

hl_status hl_deep_trainer_epoch_end(hl_deep_trainer *t, int64_t epoch) {
    return hl_train_state_epoch_end(&t->state, epoch + 1);
}

void hl_deep_trainer_epoch(hl_deep_trainer *t, int64_t epoch) {
    t->epoch = epoch;
    hl_optim_set_lr(t->opt, (float)hl_lr_at(&t->sched, t->o->lr, (int)HL_MIN(epoch, 1000000000)));
}

hl_status hl_deep_trainer_check(hl_deep_trainer *t) {
    if (!hl_job_stop_requested()) return HL_OK;
    hl_tape_clear(t->ctx);
    return hl_error_set(HL_EINTR, "interrupted during epoch %lld/%lld of %s %db (%s)", (long long)t->epoch + 1,
                        (long long)t->o->epochs, t->h->cls->name, t->h->bits,
                        t->state.on ? "the state after the last finished epoch is saved: the next run resumes there"
                                    : "nothing saved");
}

hl_status hl_deep_trainer_step(hl_deep_trainer *t, hl_tensor *out, const float *grad) {
    int64_t n = hl_tensor_numel(out);
    hl_status st = hl_deep_trainer_check(t);
    if (st < 0) return st;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(grad[i])) {
            hl_tape_clear(t->ctx);
            return hl_error_set(HL_ERR, "%s diverged at step %lld (non-finite gradient); lower lr", t->h->cls->name,
                                (long long)t->steps);
        }
    hl_backward_seed(t->ctx, out, grad);
    hl_optim_step(t->opt);
    hl_optim_zero_grad(t->opt);
    t->steps++;
    t->h->fit_forwards += out->shape[0], t->h->fit_backwards += out->shape[0];
    return HL_OK;
}

hl_status hl_deep_hook_epoch(hl_deep_trainer *t, const float *bank, const hl_labels *labels, int64_t n,
                             int64_t epoch) {
    if (!t->hook || !t->hook->epoch_begin) return HL_OK;
    return t->hook->epoch_begin(t->hook->user, t->h, bank, labels, n, epoch);
}

hl_status hl_deep_hook_batch(hl_deep_trainer *t, const float *x, const int64_t *pos, int64_t B, float *xall,
                             int64_t *rows) {
    *rows = B;
    if (!t->hook) return HL_OK;
    const hl_dataset_info *in = &t->h->info;
    int64_t d = (int64_t)in->c * in->h * in->w;
    memcpy(xall, x, (size_t)(B * d) * sizeof *xall);
    bool *was = malloc((size_t)HL_MAX(1, hl_params_count(&t->h->params)) * sizeof *was);
    if (!was) return hl_error_set(HL_ENOMEM, "out of memory");
    for (int i = 0; i < hl_params_count(&t->h->params); i++) { /* the inner attack moves images, not weights */
        hl_tensor *p = hl_params_at(&t->h->params, i);
        was[i] = hl_tensor_requires_grad(p), hl_tensor_set_requires_grad(p, false);
    }
    hl_status st = t->hook->batch(t->hook->user, t->h, t->hook_ctx, x, pos, B, xall + B * d);
    for (int i = 0; i < hl_params_count(&t->h->params); i++) hl_tensor_set_requires_grad(hl_params_at(&t->h->params, i), was[i]);
    free(was);
    hl_ctx_reset(t->hook_ctx);
    if (st < 0) return st;
    *rows = 2 * B;
    return HL_OK;
}

double hl_deep_hook_loss(hl_deep_trainer *t, const float *u, const int64_t *pos, int64_t B, int K, float *G) {
    if (!t->hook) return 0;
    float wc = (float)t->hook->clean_weight, wa = (float)t->hook->method_adv_weight;
    for (int64_t i = 0; i < B * K; i++) G[i] *= wc, G[B * K + i] *= wa;
    return t->hook->adv_loss ? t->hook->adv_loss(t->hook->user, u + B * K, u, pos, B, K, G + B * K) : 0;
}

void hl_deep_trainer_end(hl_deep_trainer *t) {
    hl_optim_free(t->opt);
    hl_ctx_free(t->ctx);
    if (t->hook_ctx) hl_ctx_free(t->hook_ctx);
    t->opt = NULL;
    t->ctx = NULL;
    t->hook_ctx = NULL;
}

hl_batcher_opts hl_deep_batcher_opts(const hl_hasher *h, const hl_deep_opts *o) {
    hl_batcher_opts b = {.batch = o->batch, .seed = h->seed, .shuffle = true, .drop_single = true};
    if (o->augment) {
        b.aug.crop_pad = 2;
        b.aug.hflip = h->info.c == 3;
    }
    return b;
}

hl_tensor *hl_deep_images(hl_ctx *ctx, const hl_dataset *d, const int64_t *idx, int64_t n) {
    hl_tensor *x = hl_tensor_new(ctx, 4, HL_SHAPE(n, d->c, d->h, d->w));
    if (ctx->dev == HL_DEVICE_CPU) {
        hl_dataset_read(d, idx, n, x->data);
    } else { /* read on the host, then one upload */
        float *h = hl_ctx_alloc(ctx, (size_t)hl_tensor_numel(x) * sizeof *h);
        hl_dataset_read(d, idx, n, h);
        hl_tensor_upload(x, h);
    }
    return x;
}

hl_status hl_deep_outputs(hl_hasher *h, const hl_hashnet *net, const hl_dataset *d, const int64_t *idx, int64_t n,
                          float *out) {
    hl_status st = HL_OK;
    hl_ctx *ctx = NULL;
    HL_TRY(hl_ctx_create(&ctx, h->dev, 0));
    hl_ctx_set_train(ctx, false);
    hl_no_grad_begin(ctx);
    const int64_t chunk = hl_batch_for_pixels(256, hl_dataset_image_size(d)); /* 256 up to 3×32×32 images */
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
        int64_t b = HL_MIN(chunk, n - i0);
        hl_ctx_reset(ctx);
        hl_tensor *u = hl_hashnet_forward(ctx, net, hl_deep_images(ctx, d, idx + i0, b));
        hl_tensor_download(u, out + i0 * net->out);
    }
    hl_no_grad_end(ctx);
done:
    hl_ctx_free(ctx);
    return st;
}

#define HL_DEEP_BN_STREAM 0x626e6361ULL /* "bnca" */

hl_status hl_deep_recalibrate_bn(hl_hasher *h, hl_hashnet *net, const hl_deep_opts *o, const hl_dataset *d,
                                 const int64_t *idx, int64_t n) {
    hl_status st = HL_OK;
    hl_backbone *bb = &net->bb;
    const int64_t n_all = n;
    int64_t B = HL_MIN(o->batch, n), *perm = NULL, *bidx = NULL;
    float momentum[HL_BACKBONE_MAX_BN];
    hl_ctx *ctx = NULL;
    if (bb->nbn == 0 || o->epochs == 0 || n < 2) return HL_OK;
    if (n > HL_DEEP_BN_MAX_IMAGES) n = HL_DEEP_BN_MAX_IMAGES; /* a seeded subset: perm's first images */
    if (B < 2) B = 2;
    perm = malloc((size_t)n_all * sizeof *perm), bidx = malloc((size_t)B * sizeof *bidx);
    if (!perm || !bidx) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for batch-norm recalibration", h->cls->name);
        goto done;
    }
    hl_rng r = hl_rng_make(h->seed, HL_DEEP_BN_STREAM);
    hl_rng_permutation(&r, perm, n_all);
    for (int i = 0; i < bb->nbn; i++) momentum[i] = bb->bn[i].momentum;
    HL_TRY(hl_ctx_create(&ctx, h->dev, 0));
    hl_ctx_set_train(ctx, true);
    hl_ctx_set_seed(ctx, h->seed);
    hl_no_grad_begin(ctx);
    int64_t batches = 0;
    for (int64_t i0 = 0; i0 + 2 <= n; i0 += B) { /* a last batch of one image is dropped (no batch statistics) */
        int64_t b = HL_MIN(B, n - i0);
        for (int64_t j = 0; j < b; j++) bidx[j] = idx[perm[i0 + j]];
        for (int i = 0; i < bb->nbn; i++) bb->bn[i].momentum = (float)(1.0 / (double)(batches + 1));
        hl_ctx_reset(ctx);
        (void)hl_hashnet_forward(ctx, net, hl_deep_images(ctx, d, bidx, b));
        batches++;
    }
    hl_no_grad_end(ctx);
    for (int i = 0; i < bb->nbn; i++) bb->bn[i].momentum = momentum[i];
done:
    hl_ctx_free(ctx);
    free(perm), free(bidx);
    return st;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

hl_status hl_deep_centre_bits(hl_hasher *h, hl_hashnet *net, const hl_dataset *d, const int64_t *idx, int64_t n,
                              float *U) {
    hl_status st = HL_OK;
    int K = net->out;
    float *col = malloc((size_t)n * sizeof *col), *bias = malloc((size_t)K * sizeof *bias);
    if (!col || !bias) {
        free(col);
        free(bias);
        return hl_error_set(HL_ENOMEM, "%s: out of memory", h->cls->name);
    }
    HL_TRY(hl_deep_outputs(h, net, d, idx, n, U));
    hl_tensor_download(net->head.b, bias);
    for (int k = 0; k < K; k++) {
        for (int64_t i = 0; i < n; i++) col[i] = U[i * K + k];
        qsort(col, (size_t)n, sizeof *col, cmp_float);
        float med = n % 2 ? col[n / 2] : 0.5f * (col[n / 2 - 1] + col[n / 2]);
        bias[k] -= med;
        for (int64_t i = 0; i < n; i++) U[i * K + k] -= med;
    }
    hl_tensor_upload(net->head.b, bias);
done:
    free(col);
    free(bias);
    return st;
}

/* ---- pairwise supervision ---------------------------------------------------------------------------------------- */

void hl_deep_similarity(float *S, const hl_labels *a, const hl_labels *b) {
    for (int64_t i = 0; i < a->n; i++)
        for (int64_t j = 0; j < b->n; j++) S[i * b->n + j] = hl_labels_relevant(a, i, b, j) ? 1.0f : 0.0f;
}

double hl_deep_soft_similarity(float *S, int64_t m, int64_t n) {
    int64_t sim = 0, total = m * n;
    for (int64_t i = 0; i < total; i++) sim += S[i] > 0.5f;
    double r = sim < total ? (double)sim / (double)(total - sim) : 1.0;
    for (int64_t i = 0; i < total; i++) S[i] = S[i] > 0.5f ? 1.0f : (float)-r;
    return r;
}

/* ---- code diversity ---------------------------------------------------------------------------------------------- */

typedef struct packed_row {
    uint64_t hash;
    const uint64_t *bits;
    int words;
} packed_row;

static int cmp_rows(const void *pa, const void *pb) {
    const packed_row *a = pa, *b = pb;
    if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
    for (int w = 0; w < a->words; w++)
        if (a->bits[w] != b->bits[w]) return a->bits[w] < b->bits[w] ? -1 : 1;
    return 0;
}

hl_code_diversity hl_code_diversity_of(const float *u, int64_t n, int K) {
    hl_code_diversity d = {.bits = K};
    if (n < 1 || K < 1) return d;
    int words = (K + 63) / 64;
    uint64_t *bits = calloc((size_t)(n * words), sizeof *bits);
    packed_row *rows = malloc((size_t)n * sizeof *rows);
    int64_t *ones = calloc((size_t)K, sizeof *ones);
    if (!bits || !rows || !ones) { /* no memory: report nothing as collapsed (diversity is a diagnostic) */
        free(bits), free(rows), free(ones);
        d.distinct_frac = 1, d.min_balance = d.mean_balance = 0.5;
        return d;
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t *r = bits + i * words, hsh = 1469598103934665603ull;
        for (int k = 0; k < K; k++)
            if (u[i * K + k] >= 0) {
                r[k / 64] |= (uint64_t)1 << (k % 64);
                ones[k]++;
            }
        for (int w = 0; w < words; w++) hsh = (hsh ^ r[w]) * 1099511628211ull;
        rows[i] = (packed_row){hsh, r, words};
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_rows);
    int64_t distinct = 1;
    for (int64_t i = 1; i < n; i++) distinct += cmp_rows(&rows[i - 1], &rows[i]) != 0;
    d.distinct_frac = (double)distinct / (double)n;
    d.min_balance = 0.5;
    for (int k = 0; k < K; k++) {
        double p = (double)ones[k] / (double)n, b = HL_MIN(p, 1 - p);
        d.min_balance = HL_MIN(d.min_balance, b);
        d.mean_balance += b / K;
        d.constant_bits += ones[k] == 0 || ones[k] == n;
    }
    d.collapsed = n >= 2 && (distinct == 1 || 2 * d.constant_bits > K || d.mean_balance < 0.05);
    free(bits), free(rows), free(ones);
    return d;
}

void hl_deep_log_epoch(const hl_hasher *h, int64_t epoch, int64_t epochs, double loss, const hl_code_diversity *d,
                       const hl_deep_trainer *t) {
    const char *name = h->cls->name;
    double lr = t && t->opt ? hl_optim_get_lr(t->opt) : 0, secs = t ? hl_time_s() - t->t0 : 0;
    char detail[64];
    snprintf(detail, sizeof detail, "loss %.4f", loss);
    hl_job_progress("fit", epoch + 1, epochs, detail);
    if (d)
        hl_msg(HL_LOG_INFO, "%s %db: epoch %lld/%lld loss %.4f lr %.3g codes: %.1f%% distinct, bit balance min %.2f "
               "mean %.2f (%.1f s)", name, h->bits, (long long)(epoch + 1), (long long)epochs, loss, lr,
               100 * d->distinct_frac, d->min_balance, d->mean_balance, secs);
    else
        hl_msg(HL_LOG_INFO, "%s %db: epoch %lld/%lld loss %.4f lr %.3g (%.1f s)", name, h->bits,
               (long long)(epoch + 1), (long long)epochs, loss, lr, secs);
    if (d && d->collapsed)
        hl_msg(HL_LOG_WARN, "%s %db: codes COLLAPSED at epoch %lld: %d of %d bits constant, %.1f%% distinct codes, "
               "mean bit balance %.3f (near-constant codes; the quantisation term may outweigh the similarity term, "
               "or lr is too high)", name, h->bits, (long long)(epoch + 1), d->constant_bits, d->bits,
               100 * d->distinct_frac, d->mean_balance);
}

/* ---- GAN sample grids -------------------------------------------------------------------------------------------- */

hl_status hl_deep_write_samples(const hl_hasher *h, const char *tag, const hl_gan_generator *g, const float *z,
                                int64_t n, int64_t epoch) {
    char dir[1100], path[1200];
    if (!h->workdir || !h->workdir[0]) return HL_OK;
    snprintf(dir, sizeof dir, "%s/samples", h->workdir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return hl_error_set(HL_EIO, "%s: cannot create the samples folder: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s_epoch_%03lld.png", dir, tag, (long long)epoch + 1);
    int cols = n >= 64 ? 16 : n >= 16 ? 8 : (int)n;
    return hl_gan_write_samples(g, z, n, cols, path);
}
