/* attacks/apgd.c — APGD for hashing: Auto-PGD (Croce & Hein, ICML 2020, "Reliable evaluation of adversarial
 * robustness with an ensemble of diverse parameter-free attacks", Algorithm 1) on the scale-invariant code objective of
 * attacks/apgd.h, untargeted and targeted, L∞ (sign steps) and L2 (normalised steps).
 *
 * Per image, N = steps, η_0 = 2ε, α = 0.75, ρ = 0.75, checkpoints w_j (apgd.h), all on the objective L (minimised):
 *   x_0 = the start (random in the ball when random_start, else x)
 *   x_1 = Π(x_0 − η·dir(∇L(x_0)))
 *   x_{k+1} = Π(x_k + α·(z_{k+1} − x_k) + (1 − α)·(x_k − x_{k−1})),  z_{k+1} = Π(x_k − η·dir(∇L(x_k)))
 *   at a checkpoint w_j: halve η and continue from the best point so far (its gradient kept) when
 *     (1) fewer than ρ·(w_j − w_{j−1}) of the steps since w_{j−1} lowered L, or
 *     (2) η did not change at w_{j−1} and the best L did not improve since then.
 * dir = sign under L∞, g/‖g‖₂ under L2. What is returned is, as for pgd, each image's best iterate scored on its code
 * (bits flipped, or bits on the target; ties to the later one); early stop (targeted) freezes an image on target.
 * What follows the paper: the update with momentum, η_0 = 2ε, α, ρ, the checkpoints and both conditions, the restart
 * from the best point. Ours: the objective (apgd.h) — the paper's CE / DLR are for logits; the scoring by code.
 * Cost: N + 1 forwards (one per step and one for the last iterate) and N backwards per image, plus the clean forward
 * when no source codes are given. No parameters besides the suite's (norm, ε, steps, random_start). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/apgd.h"
#include "attacks/attack.h"
#include "attacks/victim.h"
#include "core/tape.h"

#define APGD_STREAM 0x61706764ULL /* "apgd" */

double hl_apgd_loss_grad(const float *f, const float *c, int K, bool targeted, float *g) {
    double q = 0, s = 0, sgn = targeted ? -1.0 : 1.0;
    for (int k = 0; k < K; k++) q += (double)f[k] * f[k], s += (double)c[k] * f[k];
    q /= K, s /= K;
    if (q <= 0) {
        memset(g, 0, (size_t)K * sizeof *g);
        return 0.0;
    }
    double sigma = sqrt(q);
    for (int k = 0; k < K; k++) g[k] = (float)(sgn / (K * sigma) * (c[k] - s * f[k] / q));
    return sgn * s / sigma;
}

int hl_apgd_checkpoints(int N, int *w) {
    int span = HL_MAX((int)(0.22 * N), 1), decr = HL_MAX((int)(0.03 * N), 1), least = HL_MAX((int)(0.06 * N), 1);
    int n = 0;
    w[n++] = 0;
    while (w[n - 1] + span <= N && n < 64) {
        w[n] = w[n - 1] + span;
        n++;
        span = HL_MAX(span - decr, least);
    }
    return n;
}

/* z = Π(x_k − η·dir(g)) for one image into z. */
static void grad_step(const hl_threat *t, const float *x, const float *a, const float *g, float eta, float *z,
                      int64_t d) {
    if (t->norm == HL_NORM_LINF) {
        for (int64_t j = 0; j < d; j++) z[j] = a[j] - (g[j] > 0 ? eta : g[j] < 0 ? -eta : 0.0f);
    } else {
        double nn = 0;
        for (int64_t j = 0; j < d; j++) nn += (double)g[j] * g[j];
        float s = nn > 0 ? (float)(eta / sqrt(nn)) : 0.0f;
        for (int64_t j = 0; j < d; j++) z[j] = a[j] - s * g[j];
    }
    hl_threat_project(t, x, z, 1, d);
}

/* Per-image state of the algorithm. */
typedef struct apgd_img {
    float eta, eta_cp;           /* step size now, and at the last checkpoint */
    double L_prev, L_best, L_best_cp; /* objective at the previous step, best so far, best at the last checkpoint */
    int succ;                    /* steps since the last checkpoint that lowered L */
    int best_score;              /* best code score (the returned iterate's) */
} apgd_img;

static hl_status apgd_init(hl_attack *self, const hl_config *cfg) {
    (void)cfg;
    if (self->opts.threat.norm != HL_NORM_LINF && self->opts.threat.norm != HL_NORM_L2)
        return hl_error_set(HL_EINVAL, "apgd: norm %s is not supported (linf or l2)",
                            hl_norm_name(self->opts.threat.norm));
    return HL_OK;
}

static hl_status apgd_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x, hl_tensor *x_adv,
                              const hl_attack_goal *goal) {
    hl_status st = HL_OK;
    const hl_attack_opts *o = &self->opts;
    const hl_threat *th = &o->threat;
    const int64_t b = x->shape[0], d = hl_tensor_numel(x) / b;
    const int K = victim->bits, N = o->steps;
    const bool targeted = o->targeted;
    const float *X = x->data;
    float *A = x_adv->data;
    int w[64], nw = hl_apgd_checkpoints(N, w), next_cp = 1;
    float *code = malloc((size_t)(b * K) * sizeof *code), *f = malloc((size_t)(b * K) * sizeof *f);
    float *gf = malloc((size_t)(b * K) * sizeof *gf), *xs = malloc((size_t)(b * d) * sizeof *xs);
    float *gx = malloc((size_t)(b * d) * sizeof *gx), *prev = malloc((size_t)(b * d) * sizeof *prev);
    float *best = malloc((size_t)(b * d) * sizeof *best), *gbest = malloc((size_t)(b * d) * sizeof *gbest);
    float *out = malloc((size_t)(b * d) * sizeof *out), *z = malloc((size_t)d * sizeof *z);
    int64_t *act = malloc((size_t)b * sizeof *act);
    apgd_img *s = calloc((size_t)b, sizeof *s);
    bool *stopped = calloc((size_t)b, sizeof *stopped);
    if (!code || !f || !gf || !xs || !gx || !prev || !best || !gbest || !out || !z || !act || !s || !stopped) {
        st = hl_error_set(HL_ENOMEM, "apgd: out of memory");
        goto done;
    }
    if (!(victim->cls->flags & HL_HASHER_DIFFERENTIABLE)) {
        st = hl_error_set(HL_EINVAL, "victim '%s' is not differentiable (apgd needs input gradients)",
                          victim->cls->name);
        goto done;
    }
    HL_TRY(hl_victim_goal_codes(self, victim, ctx, X, b, goal, code));
    if (o->random_start) {
        hl_rng base = hl_rng_make(o->seed, APGD_STREAM);
        for (int64_t i = 0; i < b; i++) {
            hl_rng r = hl_rng_split(&base, (uint64_t)goal->query_id[i]);
            hl_victim_random_start(th, &r, X + i * d, A + i * d, d);
        }
    }
    memcpy(out, A, (size_t)(b * d) * sizeof *out);
    if (N == 0) goto done;
    HL_TRY(hl_attack_trace_reserve(self, (int64_t)N + 1));
    for (int64_t i = 0; i < b; i++)
        s[i] = (apgd_img){.eta = (float)(2 * th->eps.value), .L_best = INFINITY, .L_best_cp = INFINITY,
                          .best_score = -1};
    for (int64_t i = 0; i < b; i++) s[i].eta_cp = s[i].eta;
    memcpy(prev, A, (size_t)(b * d) * sizeof *prev);
    for (int k = 0; k <= N; k++) {
        const bool last = k == N;
        int64_t m, improved = 0;
        hl_tensor *xin, *y;
        HL_TRY(hl_victim_forward_active(self, victim, ctx, A, stopped, b, d, !last, act, xs, f, &xin, &y, &m));
        if (m == 0) break;
        double lsum = 0;
        for (int64_t j = 0; j < m; j++) {
            int64_t i = act[j];
            double L = hl_apgd_loss_grad(f + j * K, code + i * K, K, targeted, gf + j * K);
            int sc = hl_victim_code_score(f + j * K, code + i * K, K, targeted);
            lsum += L;
            if (sc >= s[i].best_score) {
                improved += sc > s[i].best_score && s[i].best_score >= 0;
                s[i].best_score = sc;
                memcpy(out + i * d, A + i * d, (size_t)d * sizeof *out);
            }
            if (k > 0 && L < s[i].L_prev) s[i].succ++;
            s[i].L_prev = L;
            if (L < s[i].L_best) s[i].L_best = L; /* its point and gradient are kept below, after the backward */
            if (targeted && sc == K) {
                stopped[i] = true;
                memset(gf + j * K, 0, (size_t)K * sizeof *gf);
            }
        }
        self->trace_loss_sum[k] += lsum, self->trace_loss_n[k] += m, self->trace_improved[k] += improved;
        if (last) break;
        hl_backward_seed(ctx, y, gf);
        self->backwards += m;
        hl_victim_input_grad(xin, gx);
        const bool cp = next_cp < nw && k == w[next_cp];
        for (int64_t j = 0; j < m; j++) {
            int64_t i = act[j];
            if (stopped[i]) continue;
            float *ai = A + i * d, *pi = prev + i * d, *g = gx + j * d;
            const float *xi = X + i * d;
            bool zero = true;
            for (int64_t q = 0; q < d && zero; q++) zero = g[q] == 0.0f;
            self->zero_grads += zero;
            if (s[i].L_prev == s[i].L_best) { /* this point is the best: keep it and its gradient */
                memcpy(best + i * d, ai, (size_t)d * sizeof *best);
                memcpy(gbest + i * d, g, (size_t)d * sizeof *gbest);
            }
            if (cp) {
                int span = w[next_cp] - w[next_cp - 1];
                bool c1 = s[i].succ < 0.75 * span, c2 = s[i].eta_cp == s[i].eta && s[i].L_best_cp == s[i].L_best;
                s[i].eta_cp = s[i].eta;
                s[i].L_best_cp = s[i].L_best;
                s[i].succ = 0;
                if (c1 || c2) { /* halve the step and go on from the best point */
                    s[i].eta /= 2;
                    memcpy(ai, best + i * d, (size_t)d * sizeof *ai);
                    memcpy(pi, ai, (size_t)d * sizeof *pi);
                    g = gbest + i * d;
                }
            }
            grad_step(th, xi, ai, g, s[i].eta, z, d);
            if (k == 0) {
                memcpy(pi, ai, (size_t)d * sizeof *pi);
                memcpy(ai, z, (size_t)d * sizeof *ai);
            } else {
                for (int64_t q = 0; q < d; q++) {
                    float a = ai[q], v = a + 0.75f * (z[q] - a) + 0.25f * (a - pi[q]);
                    pi[q] = a;
                    ai[q] = v;
                }
                hl_threat_project(th, xi, ai, 1, d);
            }
        }
        if (cp) next_cp++;
    }
done:
    if (st == HL_OK) memcpy(A, out, (size_t)(b * d) * sizeof *A);
    hl_ctx_reset(ctx);
    free(code), free(f), free(gf), free(xs), free(gx), free(prev), free(best), free(gbest), free(out), free(z);
    free(act), free(s), free(stopped);
    return st;
}

const hl_attack_class hl_attack_apgd = {
    .abi = HL_ATTACK_ABI,
    .name = "apgd",
    .summary = "APGD for hashing (Croce & Hein 2020): step-size-free PGD with momentum and checkpoints on a "
               "scale-invariant code objective; untargeted and targeted",
    .cite = "@inproceedings{croce2020autoattack,\n  author = {Francesco Croce and Matthias Hein},\n  title = {Reliable Evaluation of Adversarial Robustness with an Ensemble of Diverse Parameter-Free Attacks},\n  booktitle = {Proceedings of the 37th International Conference on Machine Learning (ICML)},\n  year = {2020}\n}\n",
    .size = sizeof(hl_attack),
    .flags = HL_ATTACK_UNTARGETED | HL_ATTACK_TARGETED | HL_ATTACK_DEVICE,
    .init = apgd_init,
    .perturb = apgd_perturb,
};
