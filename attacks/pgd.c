/* attacks/pgd.c — projected gradient descent in Hamming space: untargeted (HAG-style, methods.md §8.1) and targeted
 * towards a given code (P2P / DHTA, §8.2).
 *
 * One image, victim output f(x') [K] (pre-sign), u = tanh(β_t·f(x + δ)), c the ±1 code the loss refers to:
 *   targeted:    c = goal->target (the lab builds DHTA's anchor code sign(Σ of n_t target-class database codes),
 *                n_t = 9, or P2P's single code, n_t = 1), L = −(1/K)·cᵀu                        (DHTA, official code)
 *   untargeted:  c = goal->source, or sign(f(x)) from one clean forward when it is NULL, and
 *                loss hag: w_k = [|u_k − c_k| < 1 + t], m = Σw, L = (Σ_k w_k c_k u_k / m + 1)²   (HAG re-impl.)
 *                loss ip:  L = (1/K)·cᵀu, pushed down                                           (plain inner product)
 * Step t = 0..T−1 (T = opts.steps), per image:
 *   g = ∇_δ L  (one batched forward, dL/df on the host (attacks/pgd.h), hl_backward_seed for the input gradient)
 *   δ ← δ − α·dir(g):  sign: sign(g);  l2: g/‖g‖₂;  raw: g;  auto: sign under L∞, l2 under L2   (α = opts.step)
 *   x' ← Π(x + δ): hl_threat_project (ε-ball ∩ pixel box)
 * β_t (sharpen dhta): 0.1 for the first half of the steps, then 0.2, 0.3, 0.5, 0.7, 1.0 for successive tenths
 * (hl_pgd_beta); sharpen none: β = 1; sharpen auto (the default): dhta for targeted runs, none for untargeted ones
 * (β = 1 is stronger untargeted on every model tried; issue 14).
 * Best iterate: every iterate x_0 .. x_T is scored on its code, s = bits flipped from c (untargeted) or bits equal
 * to the target (targeted), at the forward its step makes anyway plus one forward of x_T; each image returns its
 * highest-scoring iterate (ties: the later one), so a longer or larger attack never returns a weaker point than one
 * it passed through.
 * Restarts (restarts R > 1, needs random_start): the whole attack R times from fresh random starts (restart r seeded
 * by (seed, stream + r, query id); restart 0 is the single run), the best iterate over all of them.
 * random_start: L∞: δ ~ U(−ε, ε) per pixel; L2: δ = r·z/‖z‖ with z ~ N(0, I) and radius r ~ U(0, ε) (uniform
 *   radius, not uniform in the ball's volume); then projected. Seeded by (opts.seed, query id).
 * early_stop (targeted only): an image whose sign(f(x')) equals the target on every bit at a step's forward is
 *   frozen (that x' is its result) and leaves the batch: later steps neither forward nor backward it.
 * Trace (hl_attack trace, R·(T + 1) entries): at each scoring, the mean loss of the images still attacked and how
 *   many improved their best score.
 * Cost counters: forwards += images forwarded (clean forward and the scoring of x_T included), backwards += images whose input gradient
 *   was used, zero_grads += those whose input gradient was exactly zero (a victim with no gradient path to its
 *   input, e.g. one that binarises it, gives only zeros: the steps then leave x' where it is, and the lab says so).
 *
 * What follows which source, and what is ours:
 *   - HAG loss: xunguangwang/Targeted-Attack-and-Defense-for-Deep-Hashing hag.py (threshold t = 0.5, squared
 *     shifted inner product, random uniform start), in the weighted form of methods.md §8.1: w_k multiplies the
 *     numerator (hag.py computes w but uses it only in the count m, its numerator sums every bit). Ours: the loss
 *     is per image (hag.py sums numerator and m over the whole batch, so its result depends on the batch); c is
 *     the ±1 clean code (hag.py uses tanh of the clean output in the product, its sign in w); hag.py takes raw
 *     gradient steps of size 1 with β = 1 (its get_alpha call is commented out): update raw, sharpen none, step 1
 *     reproduce that. Under sign steps hag and ip give the same direction while every w_k = 1 (always the case
 *     at β = 0.1, where |u| < 0.5 unless |f| > 5.5): they differ once bits are flipped past u = ∓0.5.
 *   - DHTA loss and β schedule: jiawangbai/DHTA-master (L = −(1/c)·h_aᵀ tanh(β_t f), L2-normalised steps of size
 *     1, 2000 iterations) and xunguangwang/ProS-GAN dhta.py (the same schedule on [0, 1] inputs, raw gradient
 *     steps of size 1, loss averaged over the batch too). Ours: the schedule scaled to any step count, the
 *     per-image 1/K normalisation (results do not depend on the batch), sign steps as the L∞ default, early stop.
 *   - The ε-ball projection is the exact one of attacks/threat.h (both codes clip δ then the pixel range).
 * Params: loss, hag_t, update, sharpen, early_stop, restarts, n_t (read by the lab to build the anchor code; unused
 * here).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "attacks/pgd.h"
#include "attacks/victim.h"
#include "core/tape.h"

#define PGD_STREAM 0x706764ULL /* "pgd" */

typedef enum pgd_update { PGD_UPDATE_AUTO, PGD_UPDATE_SIGN, PGD_UPDATE_L2, PGD_UPDATE_RAW } pgd_update;

typedef struct pgd {
    hl_attack base;
    hl_pgd_loss loss; /* untargeted objective (targeted runs use HL_PGD_LOSS_TARGET) */
    pgd_update update;
    bool sharpen, early_stop;
    float hag_t;
    int n_t, restarts;
} pgd;

static const hl_param_spec pgd_params[] = {
    {.name = "loss", .type = HL_PARAM_ENUM, .def = "hag", .choices = "hag|ip",
     .doc = "untargeted objective: hag = HAG's weighted inner product (squared), ip = mean(b*u) pushed down"},
    {.name = "hag_t", .type = HL_PARAM_FLOAT, .def = "0.5", .range = "[0, 1]",
     .doc = "HAG threshold t: bit k counts while |u_k - b_k| < 1 + t"},
    {.name = "update", .type = HL_PARAM_ENUM, .def = "auto", .choices = "auto|sign|l2|raw",
     .doc = "step direction: auto = sign under linf, L2-normalised gradient under l2"},
    {.name = "sharpen", .type = HL_PARAM_ENUM, .def = "auto", .choices = "auto|dhta|none",
     .doc = "u = tanh(beta_t f): DHTA's beta schedule (0.1 .. 1.0) scaled to the steps, or beta = 1; auto = dhta when "
            "targeted, none when untargeted"},
    {.name = "restarts", .type = HL_PARAM_INT, .def = "1", .range = "[1, 1000]",
     .doc = "runs from fresh random starts (needs random_start); each query keeps its best iterate over all"},
    {.name = "early_stop", .type = HL_PARAM_BOOL, .def = "true",
     .doc = "targeted: stop an image once its code equals the target (its perturbation is then frozen)"},
    {.name = "n_t", .type = HL_PARAM_INT, .def = "9", .range = "[1, 9]",
     .doc = "targeted: database codes voted into the anchor code by the lab (9 = DHTA, 1 = P2P)"},
};

float hl_pgd_beta(int t, int steps, bool sharpen) {
    if (!sharpen || steps <= 0) return 1.0f;
    static const float beta[5] = {0.2f, 0.3f, 0.5f, 0.7f, 1.0f};
    int64_t t10 = (int64_t)t * 10, s = steps;
    if (t10 < 5 * s) return 0.1f;
    for (int j = 0; j < 4; j++)
        if (t10 < (6 + j) * s) return beta[j];
    return beta[4];
}

double hl_pgd_loss_grad(hl_pgd_loss kind, const float *f, const float *c, int K, float beta, float hag_t, float *g) {
    double loss = 0;
    if (kind == HL_PGD_LOSS_HAG) {
        double s = 0, m = 0;
        for (int k = 0; k < K; k++) {
            float u = tanhf(beta * f[k]);
            if (fabsf(u - c[k]) < 1.0f + hag_t) s += (double)c[k] * u, m += 1;
        }
        if (m == 0) {
            memset(g, 0, (size_t)K * sizeof *g);
            return 1.0;
        }
        double a = s / m + 1;
        loss = a * a;
        for (int k = 0; k < K; k++) {
            float u = tanhf(beta * f[k]);
            double w = fabsf(u - c[k]) < 1.0f + hag_t ? 1.0 : 0.0;
            g[k] = (float)(2 * a * w * c[k] / m * beta * (1 - (double)u * u));
        }
        return loss;
    }
    double sgn = kind == HL_PGD_LOSS_TARGET ? -1.0 : 1.0;
    for (int k = 0; k < K; k++) {
        float u = tanhf(beta * f[k]);
        loss += sgn * c[k] * u / K;
        g[k] = (float)(sgn * c[k] / K * beta * (1 - (double)u * u));
    }
    return loss;
}

static hl_status pgd_init(hl_attack *self, const hl_config *cfg) {
    hl_status st = HL_OK;
    pgd *p = (pgd *)self;
    const char *s;
    int64_t n_t;
    HL_TRY(hl_config_get_string(cfg, "loss", &s));
    p->loss = strcmp(s, "ip") == 0 ? HL_PGD_LOSS_IP : HL_PGD_LOSS_HAG;
    HL_TRY(hl_config_get_string(cfg, "update", &s));
    p->update = strcmp(s, "sign") == 0 ? PGD_UPDATE_SIGN
                : strcmp(s, "l2") == 0 ? PGD_UPDATE_L2
                : strcmp(s, "raw") == 0 ? PGD_UPDATE_RAW
                                        : PGD_UPDATE_AUTO;
    if (p->update == PGD_UPDATE_AUTO)
        p->update = self->opts.threat.norm == HL_NORM_LINF ? PGD_UPDATE_SIGN : PGD_UPDATE_L2;
    HL_TRY(hl_config_get_string(cfg, "sharpen", &s));
    p->sharpen = strcmp(s, "dhta") == 0 || (strcmp(s, "auto") == 0 && self->opts.targeted);
    int64_t restarts;
    HL_TRY(hl_config_get_int_range(cfg, "restarts", 1, 1000, &restarts));
    p->restarts = (int)restarts;
    if (p->restarts > 1 && !self->opts.random_start) {
        st = hl_error_set(HL_EINVAL, "pgd: restarts %d needs random_start (every restart would repeat the first)",
                          p->restarts);
        goto done;
    }
    HL_TRY(hl_config_get_bool(cfg, "early_stop", &p->early_stop));
    HL_TRY(hl_config_get_float(cfg, "hag_t", &p->hag_t));
    HL_TRY(hl_config_get_int_range(cfg, "n_t", 1, 9, &n_t));
    p->n_t = (int)n_t;
done:
    return st;
}

/* x' ← Π(x' − α·dir(g)) for one image. */
static void step_image(const pgd *p, const float *x, float *a, const float *g, int64_t d) {
    const hl_threat *t = &p->base.opts.threat;
    float alpha = (float)p->base.opts.step.value;
    if (p->update == PGD_UPDATE_SIGN) {
        for (int64_t j = 0; j < d; j++) a[j] -= g[j] > 0 ? alpha : g[j] < 0 ? -alpha : 0.0f;
    } else if (p->update == PGD_UPDATE_L2) {
        double nn = 0;
        for (int64_t j = 0; j < d; j++) nn += (double)g[j] * g[j];
        if (nn > 0) {
            float s = (float)(alpha / sqrt(nn));
            for (int64_t j = 0; j < d; j++) a[j] -= s * g[j];
        }
    } else {
        for (int64_t j = 0; j < d; j++) a[j] -= alpha * g[j];
    }
    hl_threat_project(t, x, a, 1, d);
}

static hl_status pgd_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x, hl_tensor *x_adv,
                             const hl_attack_goal *goal) {
    hl_status st = HL_OK;
    pgd *p = (pgd *)self;
    const hl_attack_opts *o = &self->opts;
    int64_t b = x->shape[0], d = hl_tensor_numel(x) / b;
    int K = victim->bits, T = o->steps;
    bool targeted = o->targeted;
    hl_pgd_loss kind = targeted ? HL_PGD_LOSS_TARGET : p->loss;
    const float *X = x->data;
    float *A = x_adv->data;
    float *code = malloc((size_t)(b * K) * sizeof *code), *f = malloc((size_t)(b * K) * sizeof *f);
    float *gf = malloc((size_t)(b * K) * sizeof *gf), *xs = malloc((size_t)(b * d) * sizeof *xs);
    float *gx = malloc((size_t)(b * d) * sizeof *gx), *best_x = malloc((size_t)(b * d) * sizeof *best_x);
    int64_t *act = malloc((size_t)b * sizeof *act);
    int *best = malloc((size_t)b * sizeof *best);
    bool *stopped = calloc((size_t)b, sizeof *stopped);
    if (!code || !f || !gf || !xs || !gx || !best_x || !act || !best || !stopped) {
        st = hl_error_set(HL_ENOMEM, "out of memory");
        goto done;
    }
    if (!victim->cls->forward || !(victim->cls->flags & HL_HASHER_DIFFERENTIABLE)) {
        st = hl_error_set(HL_EINVAL, "victim '%s' is not differentiable (pgd needs input gradients)",
                          victim->cls->name);
        goto done;
    }
    HL_TRY(hl_victim_goal_codes(self, victim, ctx, X, b, goal, code));
    if (T > 0) HL_TRY(hl_attack_trace_reserve(self, (int64_t)p->restarts * (T + 1)));
    for (int64_t i = 0; i < b; i++) best[i] = -1;
    memcpy(best_x, A, (size_t)(b * d) * sizeof *best_x);
    for (int r = 0; r < p->restarts; r++) {
        if (r > 0) memcpy(A, X, (size_t)(b * d) * sizeof *A);
        if (o->random_start) {
            hl_rng base = hl_rng_make(o->seed, PGD_STREAM + (uint64_t)r);
            for (int64_t i = 0; i < b; i++) {
                hl_rng rr = hl_rng_split(&base, (uint64_t)goal->query_id[i]);
                hl_victim_random_start(&o->threat, &rr, X + i * d, A + i * d, d);
            }
        }
        if (T == 0) { /* nothing to choose from: the (random) start is the result */
            memcpy(best_x, A, (size_t)(b * d) * sizeof *best_x);
            continue;
        }
        /* scorings t = 0..T: x_t is scored at the forward of its step (t < T) or by one last forward (t = T) */
        for (int t = 0; t <= T; t++) {
            bool last = t == T;
            float beta = hl_pgd_beta(last ? T - 1 : t, T, p->sharpen);
            int64_t m, used = 0, improved = 0;
            hl_tensor *xin, *y;
            HL_TRY(hl_victim_forward_active(self, victim, ctx, A, stopped, b, d, !last, act, xs, f, &xin, &y, &m));
            if (m == 0) break;
            double lsum = 0;
            for (int64_t j = 0; j < m; j++) {
                int64_t i = act[j];
                int sc = hl_victim_code_score(f + j * K, code + i * K, K, targeted);
                if (sc >= best[i]) {
                    improved += sc > best[i] && best[i] >= 0;
                    best[i] = sc;
                    memcpy(best_x + i * d, A + i * d, (size_t)d * sizeof *best_x);
                }
                lsum += hl_pgd_loss_grad(kind, f + j * K, code + i * K, K, beta, p->hag_t, gf + j * K);
                if (targeted && p->early_stop && sc == K) { /* on target: frozen, in this and later restarts */
                    stopped[i] = true;
                    memset(gf + j * K, 0, (size_t)K * sizeof *gf);
                    continue;
                }
                used++;
            }
            int64_t at = (int64_t)r * (T + 1) + t;
            self->trace_loss_sum[at] += lsum, self->trace_loss_n[at] += m, self->trace_improved[at] += improved;
            hl_msg(HL_LOG_DEBUG, "pgd restart %d step %d/%d: beta %.2f, %lld images, mean loss %.5f, %lld improved",
                   r + 1, t, T, (double)beta, (long long)m, lsum / (double)m, (long long)improved);
            if (last) break;
            if (used == 0) {
                hl_tape_clear(ctx);
                continue;
            }
            hl_backward_seed(ctx, y, gf);
            self->backwards += used;
            hl_victim_input_grad(xin, gx);
            for (int64_t j = 0; j < m; j++) {
                int64_t i = act[j];
                if (stopped[i]) continue;
                bool zero = true;
                for (int64_t k = 0; k < d && zero; k++) zero = gx[j * d + k] == 0.0f;
                self->zero_grads += zero;
                step_image(p, X + i * d, A + i * d, gx + j * d, d);
            }
        }
    }
    memcpy(A, best_x, (size_t)(b * d) * sizeof *A);
done:
    hl_ctx_reset(ctx);
    free(code), free(f), free(gf), free(xs), free(gx), free(best_x), free(act), free(best), free(stopped);
    return st;
}

const hl_attack_class hl_attack_pgd = {
    .abi = HL_ATTACK_ABI,
    .name = "pgd",
    .summary = "PGD in Hamming space: untargeted (HAG / inner product) or targeted to a code (DHTA, P2P)",
    .cite = "@inproceedings{madry2018pgd,\n  author = {Aleksander Madry and Aleksandar Makelov and Ludwig Schmidt and Dimitris Tsipras and Adrian Vladu},\n  title = {Towards Deep Learning Models Resistant to Adversarial Attacks},\n  booktitle = {International Conference on Learning Representations (ICLR)},\n  year = {2018}\n}\n"
           "@article{yang2020hag,\n  author = {Erkun Yang and Tongliang Liu and Cheng Deng and Dacheng Tao},\n  title = {Adversarial Examples for Hamming Space Search},\n  journal = {IEEE Transactions on Cybernetics},\n  year = {2020}\n}\n"
           "@inproceedings{bai2020dhta,\n  author = {Jiawang Bai and Bin Chen and Yiming Li and Dongxian Wu and Weiwei Guo and Shu-Tao Xia and En-Hui Yang},\n  title = {Targeted Attack for Deep Hashing Based Retrieval},\n  booktitle = {European Conference on Computer Vision (ECCV)},\n  year = {2020}\n}\n",
    .params = pgd_params,
    .n_params = (int)HL_ARRAY_LEN(pgd_params),
    .size = sizeof(pgd),
    .flags = HL_ATTACK_UNTARGETED | HL_ATTACK_TARGETED | HL_ATTACK_DEVICE,
    .init = pgd_init,
    .perturb = pgd_perturb,
};
