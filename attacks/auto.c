/* attacks/auto.c — `auto`: a parameter-free ensemble for hashing in the spirit of AutoAttack (Croce & Hein, ICML
 * 2020): fixed members with fixed settings run in a fixed order on every query, and each query keeps the candidate
 * that is worst for the model. The user chooses only the threat model (norm, ε), targeted or not, and `version`.
 *
 * Members, version "1" (ε the suite's; every member sees the same goal codes and the same seed):
 *   untargeted                                          targeted
 *   1. apgd   100 steps, random start (attacks/apgd.c)    apgd   100 steps, random start
 *   2. pgd    100 sign steps of ε/4, random start,        pgd    100 sign steps of ε/8 from x, DHTA's β schedule,
 *             HAG loss, β = 1 (attacks/pgd.c)                    early stop on target (DHTA, attacks/pgd.c)
 *   3. square 1000 queries, p_init 0.05 (L∞ only:        square 1000 queries, p_init 0.05, early stop on target
 *             under L2 it does not run, and the record says so)
 * A member is exactly the attack a suite gets from the same entry (`pgd` with steps 100, step_size ε/4,
 * random_start true, params {loss: hag, sharpen: none}), so the ensemble's result is at most that attack's, query by
 * query, by construction.
 *
 * Worst case per query: each member's candidate is quantised to 8 bits (what the lab scores as the headline),
 * encoded by the victim (one forward, counted) and scored by the caller's judge (hl_attack_goal.judge: the lab gives
 * −AP with the query's labels untargeted, the targeted AP with its target labels); without a judge, by its code
 * (bits flipped from the source code, or bits on the target). The first member's candidate is kept unless a later
 * one scores strictly higher (ties and NaN keep the earlier one). The image returned is the kept member's float
 * output, so the lab's own quantisation reproduces the judged codes exactly.
 * Record (attacks/auto.h): per member its victim passes, time and wins, per query the winner and every member's
 * score. The trace is the members' traces one after the other.
 * What follows AutoAttack: a fixed, versioned ensemble of a step-size-free white-box attack (APGD), a second
 * white-box attack and the gradient-free Square Attack, the per-query worst case, no user knobs. Ours: the members
 * and their settings (AutoAttack's are APGD-CE, APGD-T, FAB-T and Square with 5000 queries: a hashing model has no
 * logits for CE, DLR or FAB), every member runs on every query (a hashing query has no "broken" state to stop at:
 * a stronger member can always lower its AP further), the judge by AP. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "attacks/auto.h"
#include "attacks/victim.h"
#include "eval/attack_metrics.h"

extern const hl_attack_class hl_attack_auto;

typedef struct auto_attack {
    hl_attack base;
    hl_attack *m[HL_AUTO_MAX_MEMBERS];
    hl_auto_record rec;
    int64_t cap;
    int8_t *winner;
    double *score;
} auto_attack;

static const hl_param_spec auto_params[] = {
    {.name = "version", .type = HL_PARAM_ENUM, .def = "1", .choices = "1",
     .doc = "the members' settings (a new version changes them; results of each version stay apart)"},
};

/* One member's fixed settings. */
typedef struct member_spec {
    const char *method, *settings;
    int steps, step_div; /* step = ε / step_div (0: the member does not use a step size) */
    bool random_start, linf_only;
    const char *params[3][2]; /* key, value */
} member_spec;

static const member_spec MEMBERS_UNTARGETED[] = {
    {"apgd", "100 steps, eta0 2eps halved at checkpoints, random start", 100, 0, true, false, {{0}}},
    {"pgd", "100 sign steps of eps/4, random start, HAG loss, beta 1", 100, 4, true, false,
     {{"loss", "hag"}, {"sharpen", "none"}}},
    {"square", "1000 queries, p_init 0.05 (L-inf only)", 1000, 0, true, true, {{"p_init", "0.05"}}},
};
static const member_spec MEMBERS_TARGETED[] = {
    {"apgd", "100 steps, eta0 2eps halved at checkpoints, random start", 100, 0, true, false, {{0}}},
    {"pgd", "100 sign steps of eps/8 from x, DHTA beta schedule, early stop", 100, 8, false, false,
     {{"sharpen", "dhta"}, {"early_stop", "true"}}},
    {"square", "1000 queries, p_init 0.05, early stop (L-inf only)", 1000, 0, true, true, {{"p_init", "0.05"}}},
};
#define N_MEMBERS 3

static hl_status member_params(const member_spec *s, hl_config **out) {
    hl_config *p = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!p) return hl_error_set(HL_ENOMEM, "auto: out of memory");
    for (int k = 0; k < 3 && s->params[k][0]; k++) {
        hl_status st = hl_config_map_put(p, s->params[k][0], 0, 0,
                                         hl_config_new(HL_CONFIG_SCALAR, s->params[k][1], "", 0, 0));
        if (st < 0) {
            hl_config_free(p);
            return st;
        }
    }
    *out = p;
    return HL_OK;
}

static hl_status auto_init(hl_attack *self, const hl_config *cfg) {
    hl_status st = HL_OK;
    auto_attack *a = (auto_attack *)self;
    const hl_attack_opts *o = &self->opts;
    const member_spec *spec = o->targeted ? MEMBERS_TARGETED : MEMBERS_UNTARGETED;
    hl_config *p = NULL;
    HL_TRY(hl_config_get_string(cfg, "version", &a->rec.version));
    a->rec.n_members = N_MEMBERS;
    for (int i = 0; i < N_MEMBERS; i++) {
        const member_spec *s = &spec[i];
        a->rec.member[i] = s->method;
        a->rec.settings[i] = s->settings;
        a->rec.gradient_free[i] = !strcmp(s->method, "square");
        a->rec.ran[i] = !(s->linf_only && o->threat.norm != HL_NORM_LINF);
        if (!a->rec.ran[i]) continue;
        hl_attack_opts mo = *o;
        mo.steps = s->steps;
        mo.random_start = s->random_start;
        if (s->step_div > 0) {
            mo.step = o->threat.eps;
            mo.step.den *= s->step_div;
            mo.step.value /= s->step_div;
        }
        HL_TRY(member_params(s, &p));
        st = hl_attack_create(&a->m[i], s->method, p, &mo);
        hl_config_free(p);
        p = NULL;
        if (st < 0) {
            hl_error_wrap("auto: member '%s'", s->method);
            goto done;
        }
    }
done:
    return st;
}

static void auto_fini(hl_attack *self) {
    auto_attack *a = (auto_attack *)self;
    for (int i = 0; i < N_MEMBERS; i++) hl_attack_free(a->m[i]);
    free(a->winner);
    free(a->score);
}

/* Makes the record hold queries [0, n). */
static hl_status grow(auto_attack *a, int64_t n) {
    if (n <= a->cap) return HL_OK;
    int64_t cap = HL_MAX(n, 2 * a->cap);
    int8_t *w = realloc(a->winner, (size_t)cap * sizeof *w);
    if (w) a->winner = w;
    double *s = realloc(a->score, (size_t)(cap * N_MEMBERS) * sizeof *s);
    if (s) a->score = s;
    if (!w || !s) return hl_error_set(HL_ENOMEM, "auto: out of memory for the record of %lld queries", (long long)n);
    for (int64_t i = a->cap * N_MEMBERS; i < cap * N_MEMBERS; i++) a->score[i] = NAN;
    a->cap = cap;
    return HL_OK;
}

/* The ensemble's trace: its members' traces one after the other. */
static hl_status concat_traces(auto_attack *a) {
    int64_t len = 0, at = 0;
    for (int i = 0; i < N_MEMBERS; i++)
        if (a->m[i]) len += a->m[i]->trace_len;
    hl_status st = hl_attack_trace_reserve(&a->base, len);
    if (st < 0) return st;
    for (int i = 0; i < N_MEMBERS; i++) {
        const hl_attack *m = a->m[i];
        if (!m) continue;
        for (int64_t t = 0; t < m->trace_len; t++, at++) {
            a->base.trace_loss_sum[at] = m->trace_loss_sum[t];
            a->base.trace_loss_n[at] = m->trace_loss_n[t];
            a->base.trace_improved[at] = m->trace_improved[t];
        }
    }
    return HL_OK;
}

/* s[i] of the codes of queries first.. by their goal codes (no judge): bits flipped, or bits on the target. */
static hl_status score_by_code(const hl_codes *codes, const float *gc, bool targeted, double *s) {
    int K = codes->bits;
    float *f = malloc((size_t)(codes->n * K) * sizeof *f);
    if (!f) return hl_error_set(HL_ENOMEM, "auto: out of memory");
    hl_codes_unpack(codes, f);
    for (int64_t i = 0; i < codes->n; i++) s[i] = hl_victim_code_score(f + i * K, gc + i * K, K, targeted);
    free(f);
    return HL_OK;
}

static hl_status auto_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x, hl_tensor *x_adv,
                              const hl_attack_goal *goal) {
    hl_status st = HL_OK;
    auto_attack *a = (auto_attack *)self;
    const int64_t b = x->shape[0], d = hl_tensor_numel(x) / b, first = goal->first;
    const int K = victim->bits;
    hl_tensor *cand = NULL;
    hl_codes codes = {0};
    float *q = malloc((size_t)(b * d) * sizeof *q), *gc = NULL;
    double *s = malloc((size_t)b * sizeof *s), *best = malloc((size_t)b * sizeof *best);
    if (!q || !s || !best) {
        st = hl_error_set(HL_ENOMEM, "auto: out of memory");
        goto done;
    }
    HL_TRY(grow(a, first + b));
    if (a->rec.n < first + b) a->rec.n = first + b;
    if (!goal->judge) {
        if (!(gc = malloc((size_t)(b * K) * sizeof *gc))) HL_TRY(hl_error_set(HL_ENOMEM, "auto: out of memory"));
        HL_TRY(hl_victim_goal_codes(self, victim, ctx, x->data, b, goal, gc));
        hl_ctx_reset(ctx);
    }
    HL_TRY(hl_tensor_create(&cand, x->ndim, x->shape, HL_DEVICE_CPU));
    bool kept = false; /* a candidate is kept for every image of the batch */
    for (int m = 0; m < N_MEMBERS; m++) {
        hl_attack *ma = a->m[m];
        if (!ma) continue;
        int64_t f0 = ma->forwards, b0 = ma->backwards, z0 = ma->zero_grads;
        double t0 = hl_time_s();
        memcpy(cand->data, x->data, (size_t)(b * d) * sizeof(float));
        st = ma->cls->perturb(ma, victim, ctx, x, cand, goal);
        hl_ctx_reset(ctx);
        if (st >= 0) st = hl_threat_check(&ma->opts.threat, x->data, cand->data, b, d, HL_THREAT_TOL);
        if (st < 0) {
            hl_error_wrap("member '%s'", ma->cls->name);
            goto done;
        }
        hl_attack_quantize8(q, cand->data, b * d);
        HL_TRY(hl_hasher_encode_images(&codes, victim, ctx, q, b, (int)b));
        hl_ctx_reset(ctx);
        ma->forwards += b; /* the judging forward is the member's cost */
        if (goal->judge) {
            st = goal->judge->score(goal->judge->user, first, &codes, s);
            if (st < 0) {
                hl_error_wrap("judging member '%s'", ma->cls->name);
                goto done;
            }
        } else {
            HL_TRY(score_by_code(&codes, gc, self->opts.targeted, s));
        }
        hl_codes_free(&codes);
        for (int64_t i = 0; i < b; i++) {
            a->score[(first + i) * N_MEMBERS + m] = s[i];
            if (!kept || s[i] > best[i]) {
                best[i] = s[i];
                a->winner[first + i] = (int8_t)m;
                memcpy(x_adv->data + i * d, cand->data + i * d, (size_t)d * sizeof(float));
            }
        }
        kept = true;
        a->rec.forwards[m] += ma->forwards - f0;
        a->rec.backwards[m] += ma->backwards - b0;
        a->rec.zero_grads[m] += ma->zero_grads - z0;
        a->rec.seconds[m] += hl_time_s() - t0;
        self->forwards += ma->forwards - f0;
        self->backwards += ma->backwards - b0;
        self->zero_grads += ma->zero_grads - z0;
    }
    for (int64_t i = 0; i < b; i++) a->rec.wins[a->winner[first + i]]++;
    HL_TRY(concat_traces(a));
done:
    hl_ctx_reset(ctx);
    hl_tensor_free(cand);
    hl_codes_free(&codes);
    free(q), free(gc), free(s), free(best);
    return st;
}

hl_status hl_auto_keep(hl_attack *self, hl_train_state *ts, const char *prefix, int64_t n) {
    if (!self || self->cls != &hl_attack_auto) return HL_OK;
    auto_attack *a = (auto_attack *)self;
    char nm[32];
    hl_status st = grow(a, HL_MAX(n, 1));
    if (st < 0) return st;
#define KEEP(field, ptr, bytes)                                                                                       \
    do {                                                                                                              \
        snprintf(nm, sizeof nm, "%s%s", prefix, field);                                                               \
        hl_train_state_blob(ts, nm, ptr, bytes);                                                                      \
    } while (0)
    KEEP("rec_forwards", a->rec.forwards, sizeof a->rec.forwards);
    KEEP("rec_backwards", a->rec.backwards, sizeof a->rec.backwards);
    KEEP("rec_zero_grads", a->rec.zero_grads, sizeof a->rec.zero_grads);
    KEEP("rec_seconds", a->rec.seconds, sizeof a->rec.seconds);
    KEEP("rec_wins", a->rec.wins, sizeof a->rec.wins);
    KEEP("rec_n", &a->rec.n, sizeof a->rec.n);
    KEEP("rec_winner", a->winner, (size_t)n * sizeof *a->winner);
    KEEP("rec_score", a->score, (size_t)(n * N_MEMBERS) * sizeof *a->score);
#undef KEEP
    for (int i = 0; i < N_MEMBERS; i++) {
        if (!a->m[i]) continue;
        char p[32];
        snprintf(p, sizeof p, "%sm%d_", prefix, i);
        if ((st = hl_attack_keep(a->m[i], ts, p, n)) < 0) return st;
    }
    return HL_OK;
}

const hl_auto_record *hl_auto_record_of(const hl_attack *a) {
    if (!a || a->cls != &hl_attack_auto) return NULL;
    auto_attack *x = (auto_attack *)a;
    x->rec.winner = x->winner;
    x->rec.score = x->score;
    return &x->rec;
}

const hl_attack_class hl_attack_auto = {
    .abi = HL_ATTACK_ABI,
    .name = "auto",
    .summary = "parameter-free ensemble (APGD, PGD-100, Square): each query's worst case, which member won, cost",
    .cite = "@inproceedings{croce2020autoattack,\n  author = {Francesco Croce and Matthias Hein},\n  title = {Reliable Evaluation of Adversarial Robustness with an Ensemble of Diverse Parameter-Free Attacks},\n  booktitle = {Proceedings of the 37th International Conference on Machine Learning (ICML)},\n  year = {2020}\n}\n"
           "@inproceedings{andriushchenko2020square,\n  author = {Maksym Andriushchenko and Francesco Croce and Nicolas Flammarion and Matthias Hein},\n  title = {Square Attack: A Query-Efficient Black-Box Adversarial Attack via Random Search},\n  booktitle = {European Conference on Computer Vision (ECCV)},\n  year = {2020}\n}\n",
    .params = auto_params,
    .n_params = (int)HL_ARRAY_LEN(auto_params),
    .size = sizeof(auto_attack),
    .flags = HL_ATTACK_UNTARGETED | HL_ATTACK_TARGETED | HL_ATTACK_FIXED | HL_ATTACK_DEVICE,
    .init = auto_init,
    .fini = auto_fini,
    .perturb = auto_perturb,
};
