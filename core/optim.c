/* core/optim.c — SGD / Adam / AdamW / RMSprop over parameter slabs; see optim.h for the update rules. */
#include "core/optim.h"

#include <math.h>
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

static float *zslab(int64_t n) {
    float *s = aligned_alloc(64, (size_t)n * sizeof(float)); /* n is a multiple of 16 floats */
    if (s) memset(s, 0, (size_t)n * sizeof(float));
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
    if (need_m1) o->m1 = zslab(p->slab_len);
    if (need_m2) o->m2 = zslab(p->slab_len);
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
    free(o->m1);
    free(o->m2);
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

#define HL_OPT_PAR if (n > 65536)

static void sgd_plain(int64_t n, float *restrict p, const float *restrict g, float lr, float wd) {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
    for (int64_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
}

/* first: buf = d (PyTorch clones the first gradient into the buffer, no dampening). */
static void sgd_momentum(int64_t n, float *restrict p, const float *restrict g, float *restrict buf, float lr,
                         float wd, float mom, float damp, bool nesterov, bool first) {
    const float keep = first ? 0.0f : mom, take = first ? 1.0f : 1.0f - damp;
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float b = keep * buf[i] + take * d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + mom * b : b);
    }
}

static void adam(int64_t n, float *restrict p, const float *restrict g, float *restrict m, float *restrict v, float l2,
                 float decay, float b1, float b2, float step_size, float bc2_sqrt, float eps) {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i] * decay;
        float gi = g[i] + l2 * p[i];
        float mi = m[i] + (1.0f - b1) * (gi - m[i]);
        float vi = v[i] * b2 + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

static void rmsprop(int64_t n, float *restrict p, const float *restrict g, float *restrict v, float *restrict buf,
                    float lr, float wd, float alpha, float eps, float mom) {
    if (buf) {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            float vi = v[i] * alpha + (1.0f - alpha) * gi * gi;
            v[i] = vi;
            float b = mom * buf[i] + gi / (sqrtf(vi) + eps);
            buf[i] = b;
            p[i] -= lr * b;
        }
    } else {
#pragma omp parallel for simd schedule(static) HL_OPT_PAR
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            float vi = v[i] * alpha + (1.0f - alpha) * gi * gi;
            v[i] = vi;
            p[i] -= lr * (gi / (sqrtf(vi) + eps));
        }
    }
}

/* Steps the floats [a, b) of the slabs, all belonging to tensors with step count t and multipliers (lm, wm). */
static void step_run(hl_optim *o, int64_t a, int64_t b, int64_t t, float lm, float wm) {
    const hl_optim_config *c = &o->c;
    int64_t n = b - a;
    float *p = o->p->data + a;
    const float *g = o->p->grad + a;
    float lr = c->lr * lm, wd = c->weight_decay * wm;
    switch (c->kind) {
    case HL_OPTIM_SGD:
        if (o->m1)
            sgd_momentum(n, p, g, o->m1 + a, lr, wd, c->momentum, c->dampening, c->nesterov, t == 1);
        else
            sgd_plain(n, p, g, lr, wd);
        break;
    case HL_OPTIM_ADAM:
    case HL_OPTIM_ADAMW: {
        /* Scalars in double, as PyTorch computes them with Python floats. */
        double bc1 = 1.0 - pow((double)c->beta1, (double)t), bc2 = 1.0 - pow((double)c->beta2, (double)t);
        float step_size = (float)((double)lr / bc1), bc2_sqrt = (float)sqrt(bc2);
        bool decoupled = c->kind == HL_OPTIM_ADAMW;
        adam(n, p, g, o->m1 + a, o->m2 + a, decoupled ? 0.0f : wd, decoupled ? (float)(1.0 - (double)lr * wd) : 1.0f,
             c->beta1, c->beta2, step_size, bc2_sqrt, c->eps);
        break;
    }
    case HL_OPTIM_RMSPROP:
        rmsprop(n, p, g, o->m2 + a, o->m1 ? o->m1 + a : NULL, lr, wd, c->alpha, c->eps, c->momentum);
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
