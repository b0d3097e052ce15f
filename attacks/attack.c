/* attacks/attack.c — the attack driver: create/free by name, freeze the victim, batch, perturb, enforce the threat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "attacks/auto.h"

#include "core/job.h"

#include "core/io/checkpoint.h"

void hl_attack_opts_default(hl_attack_opts *o) {
    memset(o, 0, sizeof *o);
    o->threat = hl_threat_make(HL_NORM_LINF, 8, 255);
    o->steps = 10;
    o->step = (hl_fraction){.num = 1, .den = 255, .value = 1.0 / 255.0};
}

hl_status hl_attack_create(hl_attack **out, const char *name, const hl_config *params, const hl_attack_opts *o) {
    const hl_attack_class *cls = hl_attack_class_find(name);
    *out = NULL;
    if (!cls) return hl_error_code();
    return hl_attack_create_class(out, cls, params, o);
}

hl_status hl_attack_create_class(hl_attack **out, const hl_attack_class *cls, const hl_config *params,
                                 const hl_attack_opts *o) {
    hl_status st = HL_OK;
    hl_config *empty = NULL, *resolved = NULL;
    hl_attack *a = NULL;
    char what[96];
    *out = NULL;
    HL_ASSERT(cls && cls->size >= sizeof(hl_attack) && cls->perturb, "incomplete attack class");
    if (!(o->threat.eps.value >= 0) || o->threat.norm < 0 || o->threat.norm >= HL_NORM_COUNT)
        return hl_error_set(HL_EINVAL, "attack '%s': eps must be >= 0 with norm linf or l2", cls->name);
    if (!(o->threat.lo < o->threat.hi))
        return hl_error_set(HL_EINVAL, "attack '%s': empty pixel box [%g, %g]", cls->name, (double)o->threat.lo,
                            (double)o->threat.hi);
    if (o->threat.norm == HL_NORM_NONE && !(cls->flags & HL_ATTACK_UNBOUNDED))
        return hl_error_set(HL_EINVAL, "attack '%s' needs an eps-ball (norm linf or l2); norm none is for attacks "
                            "that bound themselves, such as prosgan", cls->name);
    if (o->steps < 0) return hl_error_set(HL_EINVAL, "attack '%s': steps must be >= 0", cls->name);
    if (o->targeted && !(cls->flags & HL_ATTACK_TARGETED))
        return hl_error_set(HL_EINVAL, "attack '%s' has no targeted mode", cls->name);
    if (!o->targeted && !(cls->flags & HL_ATTACK_UNTARGETED))
        return hl_error_set(HL_EINVAL, "attack '%s' is targeted only (set targeted: true)", cls->name);
    if (!params) {
        if (!(empty = hl_config_new(HL_CONFIG_MAP, NULL, "<default>", 0, 0)))
            return hl_error_set(HL_ENOMEM, "out of memory");
        params = empty;
    }
    snprintf(what, sizeof what, "attack '%s'", cls->name);
    HL_TRY(hl_config_check(params, cls->params, cls->n_params, false, what, NULL));
    HL_TRY(hl_config_resolve(params, cls->params, cls->n_params, &resolved));
    if (!(a = calloc(1, cls->size))) {
        st = hl_error_set(HL_ENOMEM, "attack '%s': out of memory", cls->name);
        goto done;
    }
    if ((cls->flags & HL_ATTACK_NEEDS_FIT) && !cls->fit) {
        st = hl_error_set(HL_EINVAL, "attack '%s' needs a fit but its class has no fit()", cls->name);
        goto done;
    }
    a->cls = cls, a->opts = *o, a->cfg = resolved;
    resolved = NULL;
    hl_params_init(&a->params);
    if (cls->init && (st = cls->init(a, a->cfg)) < 0) {
        hl_error_wrap("attack '%s'", cls->name);
        a->cls = NULL; /* init failed: no fini */
        hl_config_free(a->cfg);
        hl_params_free(&a->params);
        free(a);
        a = NULL;
        goto done;
    }
    *out = a;
done:
    hl_config_free(resolved);
    hl_config_free(empty);
    return st;
}

void hl_attack_free(hl_attack *a) {
    if (!a) return;
    if (a->cls && a->cls->fini) a->cls->fini(a);
    free(a->trace_loss_sum), free(a->trace_loss_n), free(a->trace_improved);
    hl_params_free(&a->params);
    hl_config_free(a->cfg);
    free(a);
}

hl_status hl_attack_trace_reserve(hl_attack *a, int64_t len) {
    if (a->trace_len == len) return HL_OK;
    free(a->trace_loss_sum), free(a->trace_loss_n), free(a->trace_improved);
    a->trace_loss_sum = calloc((size_t)HL_MAX(len, 1), sizeof *a->trace_loss_sum);
    a->trace_loss_n = calloc((size_t)HL_MAX(len, 1), sizeof *a->trace_loss_n);
    a->trace_improved = calloc((size_t)HL_MAX(len, 1), sizeof *a->trace_improved);
    a->trace_len = a->trace_loss_sum && a->trace_loss_n && a->trace_improved ? len : 0;
    if (a->trace_len != len) return hl_error_set(HL_ENOMEM, "attack '%s': out of memory for a trace", a->cls->name);
    return HL_OK;
}

hl_status hl_attack_keep(hl_attack *a, hl_train_state *ts, const char *prefix, int64_t n) {
    char nm[32];
#define KEEP(field, ptr, bytes)                                                                                       \
    do {                                                                                                              \
        snprintf(nm, sizeof nm, "%s%s", prefix, field);                                                               \
        hl_train_state_blob(ts, nm, ptr, bytes);                                                                      \
    } while (0)
    KEEP("forwards", &a->forwards, sizeof a->forwards);
    KEEP("backwards", &a->backwards, sizeof a->backwards);
    KEEP("zero_grads", &a->zero_grads, sizeof a->zero_grads);
    snprintf(nm, sizeof nm, "%strace_sum", prefix);
    size_t bytes = 0;
    if (a->trace_len == 0 && ts->on && hl_train_state_peek_blob(ts->path, nm, &bytes) == HL_OK && bytes > 0) {
        hl_status st = hl_attack_trace_reserve(a, (int64_t)(bytes / sizeof *a->trace_loss_sum));
        if (st < 0) return st;
    }
    hl_error_clear();
    if (a->trace_len > 0) {
        KEEP("trace_sum", a->trace_loss_sum, (size_t)a->trace_len * sizeof *a->trace_loss_sum);
        KEEP("trace_n", a->trace_loss_n, (size_t)a->trace_len * sizeof *a->trace_loss_n);
        KEEP("trace_improved", a->trace_improved, (size_t)a->trace_len * sizeof *a->trace_improved);
    }
#undef KEEP
    return hl_auto_keep(a, ts, prefix, n);
}

/* Freezes the victim's parameters (saving their flags into was[np]) or restores them. */
static void victim_freeze(hl_hasher *victim, bool *was, bool freeze) {
    int np = hl_params_count(&victim->params);
    for (int i = 0; i < np; i++) {
        hl_tensor *t = hl_params_at(&victim->params, i);
        if (freeze) was[i] = hl_tensor_requires_grad(t), hl_tensor_set_requires_grad(t, false);
        else hl_tensor_set_requires_grad(t, was[i]);
    }
}

/* Attacks without HL_ATTACK_DEVICE compute on host memory only: refused on another device. */
static hl_status device_check(const hl_attack *a, const hl_ctx *ctx) {
    if (ctx->dev == HL_DEVICE_CPU || (a->cls->flags & HL_ATTACK_DEVICE)) return HL_OK;
    return hl_error_set(HL_EUNSUPPORTED, "attack '%s' does not run on device '%s' yet (it computes on host memory "
                        "without explicit transfers); run it with --device cpu", a->cls->name,
                        hl_device_name(ctx->dev));
}

hl_status hl_attack_fit(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const hl_attack_fit_data *data) {
    hl_status st = HL_OK;
    if (!(a->cls->flags & HL_ATTACK_NEEDS_FIT))
        return hl_error_set(HL_EINVAL, "attack '%s' learns nothing (it has no fit)", a->cls->name);
    if (data->n < 1) return hl_error_set(HL_EINVAL, "attack '%s': fit needs training images", a->cls->name);
    if (device_check(a, ctx) < 0) return hl_error_code();
    int np = hl_params_count(&victim->params);
    bool *was = malloc((size_t)HL_MAX(np, 1) * sizeof *was), train = ctx->train;
    if (!was) return hl_error_set(HL_ENOMEM, "attack '%s': out of memory", a->cls->name);
    victim_freeze(victim, was, true);
    if (a->cls->prepare && (st = a->cls->prepare(a, victim)) < 0) hl_error_wrap("attack '%s'", a->cls->name);
    else if ((st = a->cls->fit(a, victim, ctx, data)) < 0) hl_error_wrap("attack '%s': fit", a->cls->name);
    else a->fitted = true;
    hl_ctx_reset(ctx);
    victim_freeze(victim, was, false);
    hl_ctx_set_train(ctx, train);
    free(was);
    return st;
}

hl_status hl_attack_save(const hl_attack *a, const char *path) {
    hl_status st = HL_OK;
    hl_ckpt_meta m;
    hl_ckpt_meta_init(&m);
    HL_TRY(hl_ckpt_meta_set(&m, "attack", a->cls->name));
    HL_TRY(hl_checkpoint_save(path, &a->params, &m));
done:
    hl_ckpt_meta_free(&m);
    return st;
}

hl_status hl_attack_load(hl_attack *a, const hl_hasher *victim, const char *path) {
    hl_status st = HL_OK;
    hl_ckpt_meta m;
    hl_ckpt_meta_init(&m);
    if (a->cls->prepare && (st = a->cls->prepare(a, victim)) < 0) {
        hl_error_wrap("attack '%s'", a->cls->name);
        goto done;
    }
    HL_TRY(hl_checkpoint_read_meta(path, &m));
    const char *name = hl_ckpt_meta_get(&m, "attack");
    if (!name || strcmp(name, a->cls->name) != 0) {
        st = hl_error_set(HL_EMISMATCH, "%s: checkpoint of attack '%s', expected '%s'", path, name ? name : "(none)",
                          a->cls->name);
        goto done;
    }
    HL_TRY(hl_checkpoint_load(path, &a->params, NULL));
    a->fitted = true;
done:
    hl_ckpt_meta_free(&m);
    return st;
}

/* Shallow view of codes rows [i0, i0 + b). */
static hl_codes rows(const hl_codes *c, int64_t i0, int64_t b) {
    return (hl_codes){.n = b, .bits = c->bits, .words = c->words, .w = c->w + i0 * c->words};
}

hl_status hl_attack_run(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const float *x, float *x_adv, int64_t n,
                        const hl_attack_goal *goal, int batch) {
    hl_status st = HL_OK;
    const hl_dataset_info *in = &victim->info;
    int64_t d = (int64_t)in->c * in->h * in->w;
    if ((a->cls->flags & HL_ATTACK_NEEDS_FIT) && !a->fitted)
        return hl_error_set(HL_EINVAL, "attack '%s' must be fitted on its victim before it runs", a->cls->name);
    if (device_check(a, ctx) < 0) return hl_error_code();
    int np = hl_params_count(&victim->params);
    bool *was = malloc((size_t)HL_MAX(np, 1) * sizeof *was), train = ctx->train, invariant = ctx->batch_invariant;
    int64_t *ids = NULL;
    hl_tensor *xt = NULL, *at = NULL;
    if (batch <= 0) batch = 64;
    int64_t bmax = HL_MAX(1, HL_MIN(n, batch));
    if (!was || !(ids = malloc((size_t)bmax * sizeof *ids))) {
        free(was);
        free(ids);
        return hl_error_set(HL_ENOMEM, "attack '%s': out of memory", a->cls->name);
    }
    victim_freeze(victim, was, true);
    hl_ctx_set_train(ctx, false);
    hl_ctx_set_batch_invariant(ctx, true); /* an image's attack does not depend on its batch (core/ctx.h) */
    for (int64_t i0 = 0; i0 < n; i0 += batch) {
        int64_t b = HL_MIN((int64_t)batch, n - i0);
        hl_codes tgt, src;
        hl_attack_goal g = {.query_id = ids, .judge = goal ? goal->judge : NULL,
                            .first = (goal ? goal->first : 0) + i0, .total = goal ? goal->total : 0};
        for (int64_t j = 0; j < b; j++) ids[j] = goal && goal->query_id ? goal->query_id[i0 + j] : i0 + j;
        if (goal && goal->target) tgt = rows(goal->target, i0, b), g.target = &tgt;
        if (goal && goal->source) src = rows(goal->source, i0, b), g.source = &src;
        hl_labels tl;
        if (goal && goal->target_labels) {
            const hl_labels *L = goal->target_labels;
            tl = (hl_labels){.n = b, .nlabels = L->nlabels, .words = L->words, .bits = L->bits + i0 * L->words};
            g.target_labels = &tl;
        }
        const int64_t *shape = HL_SHAPE(b, in->c, in->h, in->w);
        HL_TRY(hl_tensor_create(&xt, 4, shape, HL_DEVICE_CPU));
        HL_TRY(hl_tensor_create(&at, 4, shape, HL_DEVICE_CPU));
        memcpy(xt->data, x + i0 * d, (size_t)(b * d) * sizeof(float));
        memcpy(at->data, xt->data, (size_t)(b * d) * sizeof(float));
        st = a->cls->perturb(a, victim, ctx, xt, at, &g);
        hl_ctx_reset(ctx);
        if (st < 0) {
            hl_error_wrap("attack '%s'", a->cls->name);
            goto done;
        }
        if ((st = hl_threat_check(&a->opts.threat, x + i0 * d, at->data, b, d, HL_THREAT_TOL)) < 0) {
            /* re-number "image I..." from the batch to the whole call */
            char msg[1024];
            const char *rest = hl_error_last() + 6;
            long long img = strtoll(rest, NULL, 10);
            while (*rest >= '0' && *rest <= '9') rest++;
            snprintf(msg, sizeof msg, "%s", rest);
            st = hl_error_set(HL_EINVAL, "attack '%s' violated its threat model: image %lld%s", a->cls->name,
                              (long long)i0 + img, msg);
            goto done;
        }
        memcpy(x_adv + i0 * d, at->data, (size_t)(b * d) * sizeof(float));
        hl_tensor_free(xt), hl_tensor_free(at);
        xt = at = NULL;
        hl_job_progress("attack", g.first + b, goal && goal->total > 0 ? goal->total : n, NULL);
        if (i0 + b < n && (st = hl_job_check()) < 0) goto done;
    }
done:
    hl_tensor_free(xt);
    hl_tensor_free(at);
    victim_freeze(victim, was, false);
    hl_ctx_set_train(ctx, train);
    hl_ctx_set_batch_invariant(ctx, invariant);
    free(was);
    free(ids);
    return st;
}
