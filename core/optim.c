/* core/optim.c — SGD / Adam / AdamW / RMSprop over parameter slabs; see optim.h for the update rules. */
#include "core/optim.h"

#include "core/kernels.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hl_optim {
    hl_params *p;
    hl_optim_config c;
    float *m1, *m2;   /* moment slabs [p->slab_len] or NULL */
    int64_t *tsteps;  /* per-tensor step count [n_par] */
    float *lr_mult, *wd_mult; /* per tensor [n_par] */
    int64_t steps;
};

static const char *const kind_names[HL_OPTIM_KIND_COUNT] = {"sgd", "adam", "adamw", "rmsprop"};

const char *hl_optim_kind_name(hl_optim_kind kind) {
    return kind >= 0 && kind < HL_OPTIM_KIND_COUNT ? kind_names[kind] : "?";
}

hl_optim_kind hl_optim_kind_from_name(const char *name) {
    for (int k = 0; k < HL_OPTIM_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) return (hl_optim_kind)k;
    return HL_OPTIM_KIND_COUNT;
}

hl_optim_config hl_optim_defaults(hl_optim_kind kind) {
    hl_optim_config c = {.kind = kind, .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .alpha = 0.99f};
    if (kind == HL_OPTIM_ADAMW) c.weight_decay = 1e-2f;
    if (kind == HL_OPTIM_RMSPROP) c.lr = 1e-2f;
    return c;
}

hl_status hl_optim_config_check(const hl_optim_config *c) {
    const char *k = hl_optim_kind_name(c->kind);
    if (c->kind < 0 || c->kind >= HL_OPTIM_KIND_COUNT) return hl_error_set(HL_EINVAL, "unknown optimizer kind %d", (int)c->kind);
    if (!(c->lr >= 0.0f) || !isfinite(c->lr)) return hl_error_set(HL_EINVAL, "%s: invalid learning rate %g", k, c->lr);
    if (!(c->weight_decay >= 0.0f)) return hl_error_set(HL_EINVAL, "%s: invalid weight_decay %g", k, c->weight_decay);
    if (!(c->momentum >= 0.0f)) return hl_error_set(HL_EINVAL, "%s: invalid momentum %g", k, c->momentum);
    if (c->kind == HL_OPTIM_SGD && c->nesterov && (c->momentum <= 0.0f || c->dampening != 0.0f))
        return hl_error_set(HL_EINVAL, "sgd: Nesterov momentum requires a momentum > 0 and zero dampening");
    if (c->kind == HL_OPTIM_ADAM || c->kind == HL_OPTIM_ADAMW) {
        if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f)) return hl_error_set(HL_EINVAL, "%s: invalid beta1 %g", k, c->beta1);
        if (!(c->beta2 >= 0.0f && c->beta2 < 1.0f)) return hl_error_set(HL_EINVAL, "%s: invalid beta2 %g", k, c->beta2);
    }
    if (c->kind != HL_OPTIM_SGD && !(c->eps >= 0.0f)) return hl_error_set(HL_EINVAL, "%s: invalid eps %g", k, c->eps);
    if (c->kind == HL_OPTIM_RMSPROP && !(c->alpha >= 0.0f)) return hl_error_set(HL_EINVAL, "rmsprop: invalid alpha %g", c->alpha);
    return HL_OK;
}

/* n floats (a multiple of 16) of zeroed memory on the parameters' device. */
static float *zslab(const hl_params *p, int64_t n) {
    const hl_kern_base *k = hl_params_kernels(p)->base;
    float *s = k->dev_alloc((size_t)n * sizeof(float));
    if (s) k->fill(n, 0.0f, s);
    return s;
}

hl_status hl_optim_create(hl_optim **out, hl_params *p, const hl_optim_config *c) {
    *out = NULL;
    HL_ASSERT(p && p->allocated, "hl_optim_create needs an allocated hl_params");
    hl_status st = hl_optim_config_check(c);
    if (st < 0) return st;
    hl_optim *o = calloc(1, sizeof *o);
    if (!o) return hl_error_set(HL_ENOMEM, "out of memory creating an optimizer");
    o->p = p;
    o->c = *c;
    size_t nt = (size_t)(p->n_par ? p->n_par : 1);
    o->tsteps = calloc(nt, sizeof *o->tsteps);
    o->lr_mult = malloc(nt * sizeof *o->lr_mult);
    o->wd_mult = malloc(nt * sizeof *o->wd_mult);
    bool need_m1 = c->kind != HL_OPTIM_SGD || c->momentum != 0.0f;
    bool need_m2 = c->kind != HL_OPTIM_SGD;
    if (c->kind == HL_OPTIM_RMSPROP) need_m1 = c->momentum > 0.0f;
    if (need_m1) o->m1 = zslab(p, p->slab_len);
    if (need_m2) o->m2 = zslab(p, p->slab_len);
    if (!o->tsteps || !o->lr_mult || !o->wd_mult || (need_m1 && !o->m1) || (need_m2 && !o->m2)) {
        hl_optim_free(o);
        return hl_error_set(HL_ENOMEM, "out of memory allocating optimizer state (%lld floats per moment)",
                            (long long)p->slab_len);
    }
    for (int i = 0; i < p->n_par; i++) o->lr_mult[i] = o->wd_mult[i] = 1.0f;
    *out = o;
    return HL_OK;
}

void hl_optim_free(hl_optim *o) {
    if (!o) return;
    const hl_kern_base *k = hl_params_kernels(o->p)->base;
    k->dev_free(o->m1);
    k->dev_free(o->m2);
    free(o->tsteps);
    free(o->lr_mult);
    free(o->wd_mult);
    free(o);
}

void hl_optim_zero_grad(hl_optim *o) { hl_params_zero_grad(o->p); }
void hl_optim_set_lr(hl_optim *o, float lr) { o->c.lr = lr; }
float hl_optim_get_lr(const hl_optim *o) { return o->c.lr; }
int64_t hl_optim_steps(const hl_optim *o) { return o->steps; }
const float *hl_optim_moment(const hl_optim *o, int which) { return which == 1 ? o->m1 : which == 2 ? o->m2 : NULL; }
hl_params *hl_optim_params(const hl_optim *o) { return o->p; }

int hl_optim_set_group(hl_optim *o, const char *prefix, float lr_mult, float wd_mult) {
    size_t lp = strlen(prefix);
    int n = 0;
    for (int i = 0; i < o->p->n_par; i++)
        if (strncmp(hl_params_name(o->p, i), prefix, lp) == 0) {
            o->lr_mult[i] = lr_mult;
            o->wd_mult[i] = wd_mult;
            n++;
        }
    return n;
}

/* ---- flat kernels over [0, n) of a run; scalars already include the group multipliers ---------------------------- */

/* Steps the floats [a, b) of the slabs, all belonging to tensors with step count t and multipliers (lm, wm). */
static void step_run(hl_optim *o, int64_t a, int64_t b, int64_t t, float lm, float wm) {
    const hl_optim_config *c = &o->c;
    int64_t n = b - a;
    float *p = o->p->data + a;
    const float *g = o->p->grad + a;
    float lr = c->lr * lm, wd = c->weight_decay * wm;
    const hl_kern_optim *k = hl_params_kernels(o->p)->optim;
    switch (c->kind) {
    case HL_OPTIM_SGD:
        if (o->m1)
            k->sgd_momentum(n, p, g, o->m1 + a, lr, wd, c->momentum, c->dampening, c->nesterov, t == 1);
        else
            k->sgd(n, p, g, lr, wd);
        break;
    case HL_OPTIM_ADAM:
    case HL_OPTIM_ADAMW: {
        /* Scalars in double, as PyTorch computes them with Python floats. */
        double bc1 = 1.0 - pow((double)c->beta1, (double)t), bc2 = 1.0 - pow((double)c->beta2, (double)t);
        float step_size = (float)((double)lr / bc1), bc2_sqrt = (float)sqrt(bc2);
        bool decoupled = c->kind == HL_OPTIM_ADAMW;
        k->adam(n, p, g, o->m1 + a, o->m2 + a, decoupled ? 0.0f : wd, decoupled ? (float)(1.0 - (double)lr * wd) : 1.0f,
             c->beta1, c->beta2, step_size, bc2_sqrt, c->eps);
        break;
    }
    case HL_OPTIM_RMSPROP:
        k->rmsprop(n, p, g, o->m2 + a, o->m1 ? o->m1 + a : NULL, lr, wd, c->alpha, c->eps, c->momentum);
        break;
    default: HL_ASSERT(0, "unknown optimizer kind %d", (int)c->kind);
    }
}

/* Runs of adjacent trainable tensors with equal step counts and multipliers are stepped as one flat range (padding
 * between tensors is zero in data, grad and moments, and every rule maps zeros to zeros). */
void hl_optim_step(hl_optim *o) {
    hl_params *p = o->p;
    for (int i = 0; i < p->n_par; i++)
        if (hl_tensor_requires_grad(p->par[i].t)) o->tsteps[i]++;
    int i = 0;
    while (i < p->n_par) {
        if (!hl_tensor_requires_grad(p->par[i].t)) {
            i++;
            continue;
        }
        int j = i + 1;
        while (j < p->n_par && hl_tensor_requires_grad(p->par[j].t) && o->tsteps[j] == o->tsteps[i] &&
               o->lr_mult[j] == o->lr_mult[i] && o->wd_mult[j] == o->wd_mult[i])
            j++;
        int64_t a = p->par[i].offset;
        int64_t b = j < p->n_par ? p->par[j].offset : p->slab_len;
        step_run(o, a, b, o->tsteps[i], o->lr_mult[i], o->wd_mult[i]);
        i = j;
    }
    o->steps++;
}

/* ---- state export / import -------------------------------------------------------------------------------------- */

static char *fmt_str(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_str(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!b) return NULL;
    va_start(ap, f);
    vsnprintf(b, (size_t)n + 1, f, ap);
    va_end(ap);
    return b;
}

static const char *slot_name(hl_optim_kind k, int which) {
    if (k == HL_OPTIM_ADAM || k == HL_OPTIM_ADAMW) return which == 1 ? "exp_avg" : "exp_avg_sq";
    return which == 1 ? "momentum_buffer" : "square_avg";
}

/* The kind's hyper-parameters (those that affect its updates), as stored in metadata. */
typedef struct hyper {
    const char *key;
    bool is_bool;
    float v;
} hyper;

static int hypers(const hl_optim_config *c, hyper h[5]) {
    int n = 0;
    h[n++] = (hyper){"optim.weight_decay", false, c->weight_decay};
    switch (c->kind) {
    case HL_OPTIM_SGD:
        h[n++] = (hyper){"optim.momentum", false, c->momentum};
        h[n++] = (hyper){"optim.dampening", false, c->dampening};
        h[n++] = (hyper){"optim.nesterov", true, c->nesterov ? 1.0f : 0.0f};
        break;
    case HL_OPTIM_ADAM:
    case HL_OPTIM_ADAMW:
        h[n++] = (hyper){"optim.beta1", false, c->beta1};
        h[n++] = (hyper){"optim.beta2", false, c->beta2};
        h[n++] = (hyper){"optim.eps", false, c->eps};
        break;
    default:
        h[n++] = (hyper){"optim.momentum", false, c->momentum};
        h[n++] = (hyper){"optim.eps", false, c->eps};
        h[n++] = (hyper){"optim.alpha", false, c->alpha};
        break;
    }
    return n;
}

/* Takes ownership of key and val (either may be NULL after a failed fmt_str: then ENOMEM). */
static hl_status state_meta_add(hl_optim_state *s, char *key, char *val) {
    if (key && val && s->n_meta % 16 == 0) {
        char **k2 = realloc(s->key, (size_t)(s->n_meta + 16) * sizeof *k2);
        if (k2) s->key = k2;
        char **v2 = k2 ? realloc(s->val, (size_t)(s->n_meta + 16) * sizeof *v2) : NULL;
        if (v2) s->val = v2;
        if (!v2) key = NULL; /* fall through to the error below */
    }
    if (!key || !val) {
        free(key);
        free(val);
        return hl_error_set(HL_ENOMEM, "out of memory exporting optimizer state");
    }
    s->key[s->n_meta] = key;
    s->val[s->n_meta++] = val;
    return HL_OK;
}

static char *dup_s(const char *s) { return fmt_str("%s", s); }

void hl_optim_state_free(hl_optim_state *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) free(s->t[i].name);
    for (int i = 0; i < s->n_meta; i++) {
        free(s->key[i]);
        free(s->val[i]);
    }
    free(s->t);
    free(s->key);
    free(s->val);
    free(s->host);
    memset(s, 0, sizeof *s);
}

void hl_optim_state_store(hl_optim *o, const hl_optim_state *s) {
    if (!s->host) return;
    const hl_kern_base *k = hl_params_kernels(o->p)->base;
    const int64_t L = o->p->slab_len;
    if (o->m1) k->from_host(L, s->host, o->m1);
    if (o->m2) k->from_host(L, s->host + (o->m1 ? L : 0), o->m2);
}

hl_status hl_optim_state_export(const hl_optim *o, hl_optim_state *out) {
    memset(out, 0, sizeof *out);
    const hl_params *p = o->p;
    const hl_optim_config *c = &o->c;
    float *slab[2] = {o->m1, o->m2};
    int slots = (o->m1 != NULL) + (o->m2 != NULL);
    hl_status st = HL_OK;
    if (slots && p->n_par && !(out->t = calloc((size_t)p->n_par * (size_t)slots, sizeof *out->t))) goto nomem;
    if (slots && p->dev != HL_DEVICE_CPU) { /* the moments are device memory: export a host copy */
        if (!(out->host = malloc((size_t)(slots * p->slab_len) * sizeof *out->host))) goto nomem;
        const hl_kern_base *k = hl_params_kernels(p)->base;
        for (int w = 0, at = 0; w < 2; w++)
            if (slab[w]) {
                k->to_host(p->slab_len, slab[w], out->host + at * p->slab_len);
                slab[w] = out->host + (at++) * p->slab_len;
            }
    }
    for (int i = 0; i < p->n_par; i++)
        for (int w = 0; w < 2; w++) {
            if (!slab[w]) continue;
            const hl_tensor *t = p->par[i].t;
            hl_optim_state_tensor *e = &out->t[out->n];
            if (!(e->name = fmt_str(HL_OPTIM_STATE_PREFIX "%s.%s", p->par[i].name, slot_name(c->kind, w + 1)))) goto nomem;
            e->ndim = t->ndim;
            e->shape = t->shape;
            e->numel = hl_tensor_numel(t);
            e->data = slab[w] + p->par[i].offset;
            out->n++;
        }
    if ((st = state_meta_add(out, dup_s(HL_OPTIM_KEY_FORMAT), dup_s(HL_OPTIM_STATE_FORMAT))) < 0 ||
        (st = state_meta_add(out, dup_s("optim.kind"), dup_s(hl_optim_kind_name(c->kind)))) < 0 ||
        (st = state_meta_add(out, dup_s("optim.lr"), fmt_str("%.9g", (double)c->lr))) < 0 ||
        (st = state_meta_add(out, dup_s("optim.steps"), fmt_str("%lld", (long long)o->steps))) < 0)
        goto fail;
    hyper h[5];
    int nh = hypers(c, h);
    for (int k = 0; k < nh; k++)
        if ((st = state_meta_add(out, dup_s(h[k].key), h[k].is_bool ? dup_s(h[k].v != 0.0f ? "true" : "false")
                                                                    : fmt_str("%.9g", (double)h[k].v))) < 0)
            goto fail;
    for (int i = 0; i < p->n_par; i++) {
        const char *nm = p->par[i].name;
        if ((st = state_meta_add(out, fmt_str(HL_OPTIM_STATE_PREFIX "%s.step", nm),
                                 fmt_str("%lld", (long long)o->tsteps[i]))) < 0)
            goto fail;
        if (o->lr_mult[i] != 1.0f && (st = state_meta_add(out, fmt_str(HL_OPTIM_STATE_PREFIX "%s.lr_mult", nm),
                                                          fmt_str("%.9g", (double)o->lr_mult[i]))) < 0)
            goto fail;
        if (o->wd_mult[i] != 1.0f && (st = state_meta_add(out, fmt_str(HL_OPTIM_STATE_PREFIX "%s.wd_mult", nm),
                                                          fmt_str("%.9g", (double)o->wd_mult[i]))) < 0)
            goto fail;
    }
    return HL_OK;
nomem:
    st = hl_error_set(HL_ENOMEM, "out of memory exporting optimizer state");
fail:
    hl_optim_state_free(out);
    return st;
}

static const char *meta_get(const char *const *k, const char *const *v, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (strcmp(k[i], key) == 0) return v[i];
    return NULL;
}

static bool parse_f32(const char *s, float *out) {
    char *e;
    errno = 0;
    float v = strtof(s, &e);
    if (e == s || *e || errno == ERANGE) return false;
    *out = v;
    return true;
}

static bool parse_count(const char *s, int64_t *out) {
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (e == s || *e || errno == ERANGE || v < 0) return false;
    *out = (int64_t)v;
    return true;
}

/* A message list under construction (truncated with "..."). */
typedef struct olist {
    char s[800];
    size_t n;
    int count;
} olist;

static void ol_add(olist *l, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void ol_add(olist *l, const char *f, ...) {
    if (l->count++ && l->n < sizeof l->s - 1) l->n += (size_t)snprintf(l->s + l->n, sizeof l->s - l->n, "; ");
    if (l->n >= sizeof l->s - 1) goto trunc;
    va_list ap;
    va_start(ap, f);
    int k = vsnprintf(l->s + l->n, sizeof l->s - l->n, f, ap);
    va_end(ap);
    if (k > 0) l->n += (size_t)k;
trunc:
    if (l->n >= sizeof l->s - 1) {
        l->n = sizeof l->s - 1;
        memcpy(l->s + sizeof l->s - 4, "...", 4);
    }
}

/* Metadata value of "optim.<name>.<suffix>" or NULL. */
static const char *tensor_meta(const char *const *k, const char *const *v, int n, const char *name, const char *suffix) {
    size_t lp = strlen(HL_OPTIM_STATE_PREFIX), ln = strlen(name);
    for (int i = 0; i < n; i++)
        if (strncmp(k[i], HL_OPTIM_STATE_PREFIX, lp) == 0 && strncmp(k[i] + lp, name, ln) == 0 && k[i][lp + ln] == '.' &&
            strcmp(k[i] + lp + ln + 1, suffix) == 0)
            return v[i];
    return NULL;
}

hl_status hl_optim_state_check_meta(const hl_optim *o, const char *const *k, const char *const *v, int n,
                                    const char *what) {
    const hl_params *p = o->p;
    const hl_optim_config *c = &o->c;
    if (!what) what = "saved state";
    const char *f = meta_get(k, v, n, HL_OPTIM_KEY_FORMAT);
    if (!f) return hl_error_set(HL_EMISMATCH, "%s holds no optimizer state (no '" HL_OPTIM_KEY_FORMAT "' metadata)", what);
    if (strcmp(f, HL_OPTIM_STATE_FORMAT) != 0)
        return hl_error_set(HL_EUNSUPPORTED, "%s: optimizer state format '%s' is not supported (expected '%s')", what, f,
                            HL_OPTIM_STATE_FORMAT);
    const char *ks = meta_get(k, v, n, "optim.kind");
    if (!ks || hl_optim_kind_from_name(ks) == HL_OPTIM_KIND_COUNT)
        return hl_error_set(HL_EFORMAT, "%s: missing or unknown 'optim.kind' (%s)", what, ks ? ks : "absent");
    if (hl_optim_kind_from_name(ks) != c->kind)
        return hl_error_set(HL_EMISMATCH, "%s: optimizer kind mismatch: saved %s state, optimizer is %s", what, ks,
                            hl_optim_kind_name(c->kind));
    float fv;
    int64_t iv;
    const char *s = meta_get(k, v, n, "optim.lr");
    if (!s || !parse_f32(s, &fv)) return hl_error_set(HL_EFORMAT, "%s: missing or invalid 'optim.lr'", what);
    s = meta_get(k, v, n, "optim.steps");
    if (!s || !parse_count(s, &iv)) return hl_error_set(HL_EFORMAT, "%s: missing or invalid 'optim.steps'", what);
    olist *l = calloc(3, sizeof *l); /* differences, missing step counts, unknown parameters */
    if (!l) return hl_error_set(HL_ENOMEM, "out of memory checking optimizer state");
    hl_status st = HL_OK;
    hyper h[5];
    int nh = hypers(c, h);
    for (int i = 0; i < nh; i++) {
        s = meta_get(k, v, n, h[i].key);
        bool ok = s && (h[i].is_bool ? (!strcmp(s, "true") || !strcmp(s, "false")) : parse_f32(s, &fv));
        if (!ok) {
            st = hl_error_set(HL_EFORMAT, "%s: missing or invalid '%s' (%s)", what, h[i].key, s ? s : "absent");
            goto done;
        }
        if (h[i].is_bool) fv = !strcmp(s, "true") ? 1.0f : 0.0f;
        if (fv != h[i].v)
            ol_add(&l[0], "%s: saved %s, optimizer %.9g", h[i].key + strlen(HL_OPTIM_STATE_PREFIX), s, (double)h[i].v);
    }
    for (int i = 0; i < p->n_par; i++) {
        const char *nm = p->par[i].name;
        s = tensor_meta(k, v, n, nm, "step");
        if (!s) ol_add(&l[1], "'%s'", nm);
        else if (!parse_count(s, &iv)) {
            st = hl_error_set(HL_EFORMAT, "%s: invalid step count '%s' for '%s'", what, s, nm);
            goto done;
        }
        const char *sfx[2] = {"lr_mult", "wd_mult"};
        const float cur[2] = {o->lr_mult[i], o->wd_mult[i]};
        for (int w = 0; w < 2; w++) {
            s = tensor_meta(k, v, n, nm, sfx[w]);
            fv = 1.0f;
            if (s && !parse_f32(s, &fv)) {
                st = hl_error_set(HL_EFORMAT, "%s: invalid %s '%s' for '%s'", what, sfx[w], s, nm);
                goto done;
            }
            if (fv != cur[w]) ol_add(&l[0], "'%s' %s: saved %.9g, optimizer %.9g", nm, sfx[w], (double)fv, (double)cur[w]);
        }
    }
    size_t lp = strlen(HL_OPTIM_STATE_PREFIX);
    for (int i = 0; i < n; i++) {
        size_t lk = strlen(k[i]);
        if (strncmp(k[i], HL_OPTIM_STATE_PREFIX, lp) != 0 || lk < lp + 6 || strcmp(k[i] + lk - 5, ".step") != 0) continue;
        int len = (int)(lk - lp - 5);
        bool known = false;
        for (int j = 0; j < p->n_par && !known; j++)
            known = strlen(p->par[j].name) == (size_t)len && strncmp(p->par[j].name, k[i] + lp, (size_t)len) == 0;
        if (!known) ol_add(&l[2], "'%.*s'", len, k[i] + lp);
    }
    if (l[0].count)
        st = hl_error_set(HL_EMISMATCH, "%s: %s optimizer configured differently from the saved one: %s", what,
                          hl_optim_kind_name(c->kind), l[0].s);
    else if (l[1].count)
        st = hl_error_set(HL_EMISMATCH, "%s: optimizer state missing for %d parameter(s): %s", what, l[1].count, l[1].s);
    else if (l[2].count)
        st = hl_error_set(HL_EMISMATCH, "%s: optimizer state for %d parameter(s) the model does not have: %s", what,
                          l[2].count, l[2].s);
done:
    free(l);
    return st;
}

void hl_optim_state_apply_meta(hl_optim *o, const char *const *k, const char *const *v, int n) {
    float lr;
    int64_t c;
    const char *s = meta_get(k, v, n, "optim.lr");
    HL_ASSERT(s && parse_f32(s, &lr), "hl_optim_state_apply_meta: metadata not checked");
    o->c.lr = lr;
    s = meta_get(k, v, n, "optim.steps");
    HL_ASSERT(s && parse_count(s, &c), "hl_optim_state_apply_meta: metadata not checked");
    o->steps = c;
    for (int i = 0; i < o->p->n_par; i++) {
        s = tensor_meta(k, v, n, o->p->par[i].name, "step");
        HL_ASSERT(s && parse_count(s, &c), "hl_optim_state_apply_meta: metadata not checked");
        o->tsteps[i] = c;
    }
}

hl_status hl_optim_state_import(hl_optim *o, const hl_optim_state *src) {
    const char *const *k = (const char *const *)src->key, *const *v = (const char *const *)src->val;
    hl_status st = hl_optim_state_check_meta(o, k, v, src->n_meta, NULL);
    if (st < 0) return st;
    hl_optim_state want;
    if ((st = hl_optim_state_export(o, &want)) < 0) return st;
    const hl_optim_state_tensor **from = calloc((size_t)want.n + 1, sizeof *from);
    bool *used = calloc((size_t)src->n + 1, sizeof *used);
    olist *l = calloc(3, sizeof *l); /* missing, misshapen, unexpected */
    if (!from || !used || !l) {
        st = hl_error_set(HL_ENOMEM, "out of memory importing optimizer state");
        goto done;
    }
    for (int i = 0; i < want.n; i++) {
        for (int j = 0; j < src->n && !from[i]; j++)
            if (!used[j] && strcmp(src->t[j].name, want.t[i].name) == 0) {
                used[j] = true;
                from[i] = &src->t[j];
            }
        if (!from[i]) {
            ol_add(&l[0], "'%s'", want.t[i].name);
            continue;
        }
        bool same = from[i]->ndim == want.t[i].ndim && from[i]->numel == want.t[i].numel;
        for (int d = 0; same && d < want.t[i].ndim; d++) same = from[i]->shape[d] == want.t[i].shape[d];
        if (!same) ol_add(&l[1], "'%s'", want.t[i].name);
    }
    for (int j = 0; j < src->n; j++)
        if (!used[j]) ol_add(&l[2], "'%s'", src->t[j].name);
    if (l[0].count) st = hl_error_set(HL_EMISMATCH, "%d optimizer state tensor(s) missing: %s", l[0].count, l[0].s);
    else if (l[1].count) st = hl_error_set(HL_EMISMATCH, "%d optimizer state tensor(s) misshapen: %s", l[1].count, l[1].s);
    else if (l[2].count) st = hl_error_set(HL_EMISMATCH, "%d unexpected optimizer state tensor(s): %s", l[2].count, l[2].s);
    if (st < 0) goto done;
    for (int i = 0; i < want.n; i++)
        if (want.t[i].data != from[i]->data) memmove(want.t[i].data, from[i]->data, (size_t)want.t[i].numel * sizeof(float));
    hl_optim_state_store(o, &want);
    hl_optim_state_apply_meta(o, k, v, src->n_meta);
done:
    free(from);
    free(used);
    free(l);
    hl_optim_state_free(&want);
    return st;
}
