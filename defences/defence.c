/* defences/defence.c — the defence driver: creation, the fit hook it gives a trainable hasher, the inner attack. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/victim.h"
#include "core/tape.h"
#include "core/rng.h"
#include "defences/defence.h"

#define DEFENCE_STREAM 0x4445464e00000000ull /* "DEFN" */

void hl_defence_opts_default(hl_defence_opts *o) {
    memset(o, 0, sizeof *o);
    o->threat = hl_threat_make(HL_NORM_LINF, 8, 255);
    o->steps = 7;
    o->step = (hl_fraction){.num = 2, .den = 255, .value = 2.0 / 255};
    o->random_start = true;
}

/* ---- the fit hook -------------------------------------------------------------------------------------------- */

/* The batch's references and clean codes live after the instance's own struct (see hl_defence_create). */
typedef struct batch_rows {
    float *r, *c;
    int64_t cap;
    bool unready; /* the class derives references but the hasher has no codes yet (bank NULL) */
} batch_rows;

static size_t rows_offset(const hl_defence_class *cls) { return (cls->size + 15) & ~(size_t)15; }
static batch_rows *rows_of(hl_defence *d) { return (batch_rows *)((char *)d + rows_offset(d->cls)); }

static hl_status hook_epoch(void *user, hl_hasher *h, const float *bank, const hl_labels *labels, int64_t n,
                            int64_t epoch) {
    hl_defence *d = user;
    d->epoch = epoch;
    d->K = h->bits;
    if (!d->cls->references) return HL_OK;
    batch_rows *br = rows_of(d);
    br->unready = bank == NULL;
    if (!bank) { /* no codes yet: no class references this epoch (hook_batch falls back on the clean codes) */
        free(d->ref);
        d->ref = NULL, d->nref = 0;
        return HL_OK;
    }
    if (d->nref != n) {
        free(d->ref);
        if (!(d->ref = malloc((size_t)(n * h->bits) * sizeof *d->ref)))
            return hl_error_set(HL_ENOMEM, "defence '%s': out of memory for %lld reference codes", d->cls->name,
                                (long long)n);
        d->nref = n;
    }
    return d->cls->references(d, bank, labels, n, h->bits, epoch, d->ref);
}

static hl_status ensure_rows(hl_defence *d, int64_t B, int K) {
    batch_rows *br = rows_of(d);
    if (B * K <= br->cap) return HL_OK;
    free(br->r), free(br->c);
    br->r = malloc((size_t)(B * K) * sizeof *br->r);
    br->c = malloc((size_t)(B * K) * sizeof *br->c);
    if (!br->r || !br->c) return hl_error_set(HL_ENOMEM, "defence '%s': out of memory", d->cls->name);
    br->cap = B * K;
    return HL_OK;
}

static hl_status hook_batch(void *user, hl_hasher *h, hl_ctx *ctx, const float *x, const int64_t *pos, int64_t B,
                            float *x_adv) {
    hl_defence *d = user;
    const int K = h->bits;
    hl_status st = ensure_rows(d, B, K);
    if (st < 0) return st;
    batch_rows *br = rows_of(d);
    /* clean codes of the batch (one pass, no gradient) */
    hl_ctx_reset(ctx);
    st = hl_victim_forward(h, ctx, x, B, false, br->c, NULL, NULL);
    hl_ctx_reset(ctx);
    if (st < 0) return st;
    d->inner_forwards += B, h->fit_forwards += B;
    for (int64_t i = 0; i < B * K; i++) br->c[i] = br->c[i] >= 0 ? 1.0f : -1.0f;
    for (int64_t i = 0; i < B; i++)
        memcpy(br->r + i * K, d->ref ? d->ref + pos[i] * K : br->c + i * K, (size_t)K * sizeof *br->r);
    if (!d->ref && br->unready) hl_defence_orient_fallback(d, br->r, br->c, B, K);
    return hl_defence_inner_attack(d, h, ctx, x, pos, br->r, br->c, B, x_adv);
}

static double hook_adv_loss(void *user, const float *u_adv, const float *u_clean, const int64_t *pos, int64_t B,
                            int K, float *grad) {
    hl_defence *d = user;
    (void)pos, (void)u_clean;
    batch_rows *br = rows_of(d);
    return d->cls->outer ? d->cls->outer(d, u_adv, br->r, br->c, B, K, grad) : 0;
}

void hl_defence_orient_fallback(const hl_defence *d, float *r, const float *c, int64_t B, int K) {
    if (B < 1 || K < 1) return;
    /* the inner objective at the clean code with reference r = c: below 0 means the attack pulls toward its
     * reference (ATRDH), which would leave the clean code where it is; then the reference is −c */
    float *g = calloc((size_t)K, sizeof *g), *u = malloc((size_t)K * sizeof *u);
    if (!g || !u) { /* out of memory: keep r = c (an idle inner attack for a pulling class, never a wrong one) */
        free(g), free(u);
        return;
    }
    for (int k = 0; k < K; k++) u[k] = c[k] * 4.0f; /* pre-activation whose tanh is ≈ the code */
    double o = d->cls->inner(d, u, c, c, 1, K, g);
    free(g), free(u);
    if (o < 0)
        for (int64_t i = 0; i < B * K; i++) r[i] = -c[i];
}

/* ---- the inner attack ---------------------------------------------------------------------------------------- */

hl_status hl_defence_inner_attack(hl_defence *d, hl_hasher *h, hl_ctx *ctx, const float *x, const int64_t *pos,
                                  const float *r, const float *c, int64_t B, float *x_adv) {
    hl_status st = HL_OK;
    const int K = h->bits;
    const int64_t dim = (int64_t)h->info.c * h->info.h * h->info.w;
    const hl_defence_opts *o = &d->opts;
    float *f = malloc((size_t)(B * K) * sizeof *f), *g = malloc((size_t)(B * K) * sizeof *g);
    float *gx = malloc((size_t)(B * dim) * sizeof *gx);
    if (!f || !g || !gx) {
        st = hl_error_set(HL_ENOMEM, "defence '%s': out of memory", d->cls->name);
        goto done;
    }
    memcpy(x_adv, x, (size_t)(B * dim) * sizeof *x_adv);
    if (o->random_start) {
        hl_rng base = hl_rng_make(o->seed, DEFENCE_STREAM + (uint64_t)d->epoch);
        for (int64_t i = 0; i < B; i++) {
            hl_rng ri = hl_rng_split(&base, (uint64_t)pos[i]);
            hl_victim_random_start(&o->threat, &ri, x + i * dim, x_adv + i * dim, dim);
        }
    }
    for (int64_t s = 0; s < o->steps; s++) {
        hl_tensor *xin = NULL, *y = NULL;
        hl_ctx_reset(ctx);
        HL_TRY(hl_victim_forward(h, ctx, x_adv, B, true, f, &xin, &y));
        memset(g, 0, (size_t)(B * K) * sizeof *g);
        d->cls->inner(d, f, r, c, B, K, g);
        hl_backward_seed(ctx, y, g);
        hl_victim_input_grad(xin, gx);
        d->inner_forwards += B, d->inner_backwards += B;
        h->fit_forwards += B, h->fit_backwards += B;
        const float step = (float)o->step.value;
        for (int64_t i = 0; i < B; i++) { /* a descent step on the objective */
            float *a = x_adv + i * dim;
            const float *gi = gx + i * dim;
            if (o->threat.norm == HL_NORM_L2) {
                double n2 = 0;
                for (int64_t j = 0; j < dim; j++) n2 += (double)gi[j] * gi[j];
                float sc = n2 > 0 ? step / (float)sqrt(n2) : 0.0f;
                for (int64_t j = 0; j < dim; j++) a[j] -= sc * gi[j];
            } else {
                for (int64_t j = 0; j < dim; j++) a[j] -= gi[j] > 0 ? step : gi[j] < 0 ? -step : 0.0f;
            }
        }
        hl_threat_project(&o->threat, x, x_adv, B, dim);
    }
done:
    hl_ctx_reset(ctx);
    free(f), free(g), free(gx);
    return st;
}

/* ---- create / free / attach ------------------------------------------------------------------------------------ */

hl_status hl_defence_create(hl_defence **out, const char *name, const hl_config *params, const hl_defence_opts *o) {
    hl_status st = HL_OK;
    hl_config *empty = NULL, *resolved = NULL;
    hl_defence *d = NULL;
    char what[96];
    *out = NULL;
    const hl_defence_class *cls = hl_defence_class_find(name);
    if (!cls) return HL_ENOTFOUND;
    HL_ASSERT(cls->size >= sizeof(hl_defence) && cls->init && cls->inner, "incomplete defence class");
    if (o->threat.norm != HL_NORM_LINF && o->threat.norm != HL_NORM_L2)
        return hl_error_set(HL_EINVAL, "defence '%s': its inner attack needs a ball (norm linf or l2)", cls->name);
    if (!(o->threat.eps.value > 0)) return hl_error_set(HL_EINVAL, "defence '%s': eps must be > 0", cls->name);
    if (o->steps < 1) return hl_error_set(HL_EINVAL, "defence '%s': steps must be >= 1", cls->name);
    if (!(o->step.value > 0)) return hl_error_set(HL_EINVAL, "defence '%s': step_size must be > 0", cls->name);
    if (!params) {
        if (!(empty = hl_config_new(HL_CONFIG_MAP, NULL, "<default>", 0, 0)))
            return hl_error_set(HL_ENOMEM, "out of memory");
        params = empty;
    }
    snprintf(what, sizeof what, "defence '%s'", cls->name);
    HL_TRY(hl_config_check(params, cls->params, cls->n_params, false, what, NULL));
    HL_TRY(hl_config_resolve(params, cls->params, cls->n_params, &resolved));
    /* the instance, then the batch scratch the driver keeps behind it */
    if (!(d = calloc(1, rows_offset(cls) + sizeof(batch_rows)))) {
        st = hl_error_set(HL_ENOMEM, "defence '%s': out of memory", cls->name);
        goto done;
    }
    d->cls = cls, d->opts = *o, d->cfg = resolved;
    resolved = NULL;
    d->clean_weight = 1, d->method_adv_weight = 0;
    if ((st = cls->init(d, d->cfg)) < 0) {
        hl_error_wrap("defence '%s'", cls->name);
        d->cls = NULL;
        hl_config_free(d->cfg);
        free(d);
        d = NULL;
        goto done;
    }
    d->hook = (hl_fit_hook){.user = d, .epoch_begin = hook_epoch, .batch = hook_batch, .adv_loss = hook_adv_loss,
                            .clean_weight = d->clean_weight, .method_adv_weight = d->method_adv_weight};
    *out = d;
done:
    hl_config_free(empty);
    hl_config_free(resolved);
    return st;
}

void hl_defence_free(hl_defence *d) {
    if (!d) return;
    if (d->cls && d->cls->fini) d->cls->fini(d);
    if (d->cls) {
        batch_rows *br = rows_of(d);
        free(br->r), free(br->c);
    }
    free(d->ref);
    hl_config_free(d->cfg);
    free(d);
}

hl_status hl_defence_attach(hl_defence *d, hl_hasher *h) {
    if (!(h->cls->flags & HL_HASHER_TRAINABLE))
        return hl_error_set(HL_EINVAL, "defence '%s': hasher '%s' is not trainable by mini-batches (only classes "
                            "flagged HL_HASHER_TRAINABLE can be trained adversarially)", d->cls->name, h->cls->name);
    h->hook = &d->hook;
    return HL_OK;
}

void hl_defence_detach(hl_defence *d, hl_hasher *h) {
    if (h->hook == &d->hook) h->hook = NULL;
}
