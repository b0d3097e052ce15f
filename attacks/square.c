/* attacks/square.c — a gradient-free, hard-label attack on hash codes: Square Attack's random search (Andriushchenko,
 * Croce, Flammarion, Hein; ECCV 2020, L∞ version) driven by the victim's codes alone. It needs no gradient, so it is
 * the check against gradient masking, and it attacks models that have none (a hasher that binarises its input).
 *
 * One image, x its clean pixels [C, H, W], c the ±1 code the objective refers to (the target code when targeted, else
 * the source / clean code), b(x') = sign(f(x')) the victim's code:
 *   score(x') = d_H(b(x'), c) untargeted (bits flipped, to maximise) or K − d_H(b(x'), c) targeted (bits on target)
 *   init:    δ = ±ε per (channel, column), random signs (vertical stripes), x' = Π(x + δ)
 *   step i:  side s_i = max(1, min(H − 1, round(sqrt(p_i·H·W)))), p_i = p_init halved at the paper's fractions of the
 *            budget (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of 10,000: hl_square_p); a window of s_i × s_i at
 *            a uniform position gets δ = ±ε per channel (signs redrawn, up to 10 times, until the window changes);
 *            the proposal replaces x' when its score is at least x''s (ties accepted: a walk across the plateaus of a
 *            code objective, which has no margin to compare).
 *   early stop (targeted): an image whose code equals the target stops.
 * Trace (steps + 1 entries): the mean of −score/K over the images still searched, and how many strictly improved.
 * Budget: `steps` proposals per image (one victim forward each, plus one for the start; the clean forward for the
 * codes when no source is given). Every draw comes from the image's own stream, keyed by (seed, query id), so an
 * image's result does not depend on its batch.
 * What follows the paper: the stripe initialisation, the window schedule and sizes, ±ε windows per channel, accepting
 * on the objective. Ours: the objective is the Hamming score of the sign code (the paper uses a margin loss on logits,
 * which a hard-label hashing victim does not give), hence ties accepted; L∞ only (norm l2 is refused).
 * Params: p_init. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "attacks/square.h"
#include "attacks/victim.h"

#define SQUARE_STREAM 0x737175617265ULL /* "square" */

typedef struct square {
    hl_attack base;
    float p_init;
} square;

static const hl_param_spec square_params[] = {
    {.name = "p_init", .type = HL_PARAM_FLOAT, .def = "0.05", .range = "(0, 1]",
     .doc = "initial share of the image a window covers (halved along the budget as in the paper)"},
};

float hl_square_p(float p_init, int64_t it, int64_t steps) {
    static const int at[9] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
    int64_t i = steps > 0 ? it * 10000 / steps : 0;
    float p = p_init;
    for (int k = 0; k < 9; k++)
        if (i > at[k]) p /= 2;
    return p;
}

int hl_square_side(float p, int h, int w) {
    int s = (int)lround(sqrt((double)p * h * w));
    if (s > h - 1) s = h - 1;
    return s < 1 ? 1 : s;
}

static hl_status square_init(hl_attack *self, const hl_config *cfg) {
    if (self->opts.threat.norm != HL_NORM_LINF)
        return hl_error_set(HL_EINVAL, "square: only norm linf is supported (got %s)",
                            hl_norm_name(self->opts.threat.norm));
    return hl_config_get_float(cfg, "p_init", &((square *)self)->p_init);
}

static hl_status square_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x,
                                hl_tensor *x_adv, const hl_attack_goal *goal) {
    hl_status st = HL_OK;
    const square *sq = (const square *)self;
    const hl_attack_opts *o = &self->opts;
    const hl_threat *th = &o->threat;
    const int C = victim->info.c, H = victim->info.h, W = victim->info.w, K = victim->bits;
    const int64_t b = x->shape[0], d = (int64_t)C * H * W;
    const bool targeted = o->targeted;
    const float eps = (float)th->eps.value, *X = x->data;
    float *A = x_adv->data;
    float *code = malloc((size_t)(b * K) * sizeof *code), *bc = malloc((size_t)(b * K) * sizeof *bc); /* bc: outputs */
    float *P = malloc((size_t)(b * d) * sizeof *P);
    int64_t *act = malloc((size_t)b * sizeof *act);
    int *cur = malloc((size_t)b * sizeof *cur);
    hl_rng *rng = malloc((size_t)b * sizeof *rng);
    bool *done = calloc((size_t)b, sizeof *done);
    if (!code || !bc || !P || !act || !cur || !rng || !done) {
        st = hl_error_set(HL_ENOMEM, "square: out of memory");
        goto done;
    }
    HL_TRY(hl_victim_goal_codes(self, victim, ctx, X, b, goal, code));
    /* start: vertical stripes of ±ε */
    hl_rng base = hl_rng_make(o->seed, SQUARE_STREAM);
    for (int64_t i = 0; i < b; i++) {
        rng[i] = hl_rng_split(&base, (uint64_t)goal->query_id[i]);
        for (int c = 0; c < C; c++)
            for (int col = 0; col < W; col++) {
                float s = hl_rng_u32(&rng[i]) & 1 ? eps : -eps;
                for (int r = 0; r < H; r++) {
                    int64_t j = i * d + (int64_t)(c * H + r) * W + col;
                    A[j] = X[j] + s;
                }
            }
    }
    hl_threat_project(th, X, A, b, d);
    if (o->steps == 0) goto done;
    HL_TRY(hl_attack_trace_reserve(self, o->steps + 1));
    HL_TRY(hl_victim_forward(victim, ctx, A, b, false, bc, NULL, NULL));
    hl_ctx_reset(ctx);
    self->forwards += b;
    for (int64_t i = 0; i < b; i++) {
        cur[i] = hl_victim_code_score(bc + i * K, code + i * K, K, targeted);
        done[i] = targeted && cur[i] == K;
        self->trace_loss_sum[0] -= (double)cur[i] / K;
    }
    self->trace_loss_n[0] += b;
    for (int64_t it = 0; it < o->steps; it++) {
        int s = hl_square_side(hl_square_p(sq->p_init, it, o->steps), H, W);
        int64_t m = 0;
        for (int64_t i = 0; i < b; i++) {
            if (done[i]) continue;
            float *pi = P + m * d;
            const float *xi = X + i * d, *ai = A + i * d;
            memcpy(pi, ai, (size_t)d * sizeof *pi);
            int vh = (int)hl_rng_below(&rng[i], (uint64_t)(H - s + 1));
            int vw = (int)hl_rng_below(&rng[i], (uint64_t)(W - s + 1));
            for (int tries = 0; tries < 10; tries++) {
                bool changed = false;
                for (int c = 0; c < C; c++) {
                    float sg = hl_rng_u32(&rng[i]) & 1 ? eps : -eps;
                    for (int r = vh; r < vh + s; r++)
                        for (int q = vw; q < vw + s; q++) {
                            int64_t j = (int64_t)(c * H + r) * W + q;
                            float v = fminf(fmaxf(xi[j] + sg, 0.0f), 1.0f);
                            changed |= v != ai[j];
                            pi[j] = v;
                        }
                }
                if (changed) break;
            }
            act[m++] = i;
        }
        if (m == 0) break;
        HL_TRY(hl_victim_forward(victim, ctx, P, m, false, bc, NULL, NULL));
        hl_ctx_reset(ctx);
        self->forwards += m;
        int64_t improved = 0;
        double lsum = 0;
        for (int64_t j = 0; j < m; j++) {
            int64_t i = act[j];
            int sc = hl_victim_code_score(bc + j * K, code + i * K, K, targeted);
            if (sc >= cur[i]) {
                improved += sc > cur[i];
                cur[i] = sc;
                memcpy(A + i * d, P + j * d, (size_t)d * sizeof *A);
                if (targeted && sc == K) done[i] = true;
            }
            lsum -= (double)cur[i] / K;
        }
        self->trace_loss_sum[it + 1] += lsum, self->trace_loss_n[it + 1] += m, self->trace_improved[it + 1] += improved;
    }
done:
    hl_ctx_reset(ctx);
    free(code), free(bc), free(P), free(act), free(cur), free(rng), free(done);
    return st;
}

const hl_attack_class hl_attack_square = {
    .abi = HL_ATTACK_ABI,
    .name = "square",
    .summary = "gradient-free random search on the victim's codes (Square Attack's L-inf windows): the check against "
               "masked gradients, and an attack on models without gradients",
    .cite = "@inproceedings{andriushchenko2020square,\n  author = {Maksym Andriushchenko and Francesco Croce and Nicolas Flammarion and Matthias Hein},\n  title = {Square Attack: A Query-Efficient Black-Box Adversarial Attack via Random Search},\n  booktitle = {European Conference on Computer Vision (ECCV)},\n  year = {2020}\n}\n",
    .params = square_params,
    .n_params = (int)HL_ARRAY_LEN(square_params),
    .size = sizeof(square),
    .flags = HL_ATTACK_UNTARGETED | HL_ATTACK_TARGETED | HL_ATTACK_BLACKBOX | HL_ATTACK_DEVICE,
    .init = square_init,
    .perturb = square_perturb,
};
