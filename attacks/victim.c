/* attacks/victim.c — victim passes shared by the gradient attacks; see victim.h. */
#include "attacks/victim.h"

#include "core/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Host copy of a contiguous tensor's data (or of its grad) on any device. */
static void to_host(float *dst, const hl_tensor *t, bool grad) {
    hl_kernels_for(t->dev)->base->to_host(hl_tensor_numel(t), grad ? t->grad : t->data, dst);
}

hl_status hl_victim_forward(hl_hasher *victim, hl_ctx *ctx, const float *xs, int64_t m, bool grad, float *f,
                            hl_tensor **xin, hl_tensor **out) {
    const hl_dataset_info *in = &victim->info;
    const int64_t *shape = HL_SHAPE(m, in->c, in->h, in->w);
    if (!grad) hl_no_grad_begin(ctx);
    hl_tensor *xt = hl_tensor_from(ctx, 4, shape, xs);
    if (grad) hl_tensor_set_requires_grad(xt, true);
    hl_tensor *y = hl_hasher_forward(victim, ctx, xt);
    if (!grad) hl_no_grad_end(ctx);
    to_host(f, y, false);
    int64_t nk = m * victim->bits;
    for (int64_t i = 0; i < nk; i++)
        if (!isfinite(f[i]))
            return hl_error_set(HL_ENUMERIC, "victim '%s' gave a non-finite output", victim->cls->name);
    if (xin) *xin = xt;
    if (out) *out = y;
    return HL_OK;
}

hl_status hl_victim_forward_active(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const float *A, const bool *stopped,
                                   int64_t b, int64_t d, bool grad, int64_t *act, float *xs, float *f, hl_tensor **xin,
                                   hl_tensor **out, int64_t *m) {
    *m = 0;
    for (int64_t i = 0; i < b; i++)
        if (!stopped[i]) act[(*m)++] = i;
    if (*m == 0) return HL_OK;
    for (int64_t j = 0; j < *m; j++) memcpy(xs + j * d, A + act[j] * d, (size_t)d * sizeof *xs);
    hl_ctx_reset(ctx);
    a->forwards += *m;
    return hl_victim_forward(victim, ctx, xs, *m, grad, f, xin, out);
}

void hl_victim_input_grad(const hl_tensor *xin, float *gx) {
    if (xin->grad) to_host(gx, xin, true);
    else memset(gx, 0, (size_t)hl_tensor_numel(xin) * sizeof *gx);
}

void hl_victim_random_start(const hl_threat *t, hl_rng *r, const float *x, float *a, int64_t d) {
    float eps = (float)t->eps.value;
    if (t->norm == HL_NORM_LINF) {
        hl_rng_uniform(r, a, d, -eps, eps);
    } else {
        float rad;
        hl_rng_normal(r, a, d, 0.0f, 1.0f);
        hl_rng_uniform(r, &rad, 1, 0.0f, 1.0f);
        double nn = 0;
        for (int64_t j = 0; j < d; j++) nn += (double)a[j] * a[j];
        float s = nn > 0 ? (float)(rad * t->eps.value / sqrt(nn)) : 0.0f;
        for (int64_t j = 0; j < d; j++) a[j] *= s;
    }
    for (int64_t j = 0; j < d; j++) a[j] += x[j];
    hl_threat_project(t, x, a, 1, d);
}

int hl_victim_code_score(const float *f, const float *c, int K, bool targeted) {
    int s = 0;
    for (int k = 0; k < K; k++) s += (((f[k] >= 0 ? 1.0f : -1.0f) != c[k]) != targeted);
    return s;
}

hl_status hl_victim_goal_codes(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const float *x, int64_t b,
                               const hl_attack_goal *goal, float *code) {
    const bool targeted = a->opts.targeted;
    const hl_codes *given = targeted ? goal->target : goal->source;
    const int K = victim->bits;
    if (targeted && !given)
        return hl_error_set(HL_EINVAL, "targeted %s needs target codes (goal->target)", a->cls->name);
    if (given) {
        if (given->bits != K || given->n < b)
            return hl_error_set(HL_EMISMATCH, "%s codes have %d bits for %lld images, victim has %d bits",
                                targeted ? "target" : "source", given->bits, (long long)given->n, K);
        hl_codes rows = *given;
        rows.n = b;
        hl_codes_unpack(&rows, code);
        return HL_OK;
    }
    hl_status st = hl_victim_forward(victim, ctx, x, b, false, code, NULL, NULL); /* outputs, then their signs */
    hl_ctx_reset(ctx);
    if (st < 0) return st;
    a->forwards += b;
    for (int64_t i = 0; i < b * K; i++) code[i] = code[i] >= 0 ? 1.0f : -1.0f;
    return HL_OK;
}
