/* hashers/adsh.c — ADSH, Asymmetric Deep Supervised Hashing (Jiang & Li, AAAI'18; notes/methods.md §1; math in
 * hashers/adsh.h). Only queries get a network; the database codes V [n, K] are free binary variables.
 *
 * fit(database list, n items, all labelled — HL_HASHER_FIT_DATABASE):
 *     V ← 0
 *     for t = 1..T_out (`epochs`, 50):                            lr of outer iteration t from `lr_schedule`
 *         Ω ← m = min(num_samples, n) distinct database rows      (seeded, stream "ADSH" + t)
 *         SV = S·V, Σ_j S_ij², G = VᵀV                            soft S of Ω × database, from label blocks + SGEMM
 *         T_in (`inner_epochs`, 3) shuffled epochs over Ω, batch B:
 *             a = tanh(F(x_I)); U[I] ← a
 *             loss = [Σ_{i∈I} Σ_j (a_iᵀv_j − K·S_ij)² + γ Σ_{i∈I} ‖v_own(i) − a_i‖²] / (n·B); backprop dloss/da
 *         Q = −2K·SᵀU − 2γ·Ū;  for k = 1..K: V[:,k] ← −sign(2·V̂·(Ûᵀu_k) + Q[:,k])
 * query codes: sign(F(x)) (forward returns the pre-activation F); database codes: V (learned_codes), for the items of
 * the last fit list; other items fall back to the network. V is not part of the checkpoint.
 *
 * Follows the official code [CODE: jiangqy/ADSH-AAAI2018, ADSH_pytorch/ADSH_CIFAR_10.py, utils/adsh_loss.py]:
 * the soft similarity (+1 / −r, r over the whole m×n block), the objective and its normalisation by n·batch, the
 * continuous U in both Q and the bit loop (the PyTorch version; MATLAB uses sign(U) in Q), U holding each sampled
 * item's latest tanh output (taken before that step's update), V starting at 0 and filled by the first bit sweep,
 * γ = 200, m = 2000, T_out = 50, T_in = 3, batch 64, weight decay 5e-4.
 * Our choices:
 *   - sign(0): a zero argument of the bit update gives +1 (NumPy's sign would leave 0; either value is optimal).
 *   - Optimiser: Adam, lr 1e-3, lr ÷ 10 at 1/3 and 2/3 of the outer iterations (`step`). The paper uses SGD with
 *     lr logspace(1e-4 .. 1e-6) on a pretrained CNN-F, the PyTorch repo SGD lr 1e-3 ÷ 10 every 10 outer iterations on
 *     a pretrained ResNet-50. From scratch on cnn-small, SGD (momentum 0.9) with a lr that learns at 16 bits drives
 *     tanh into saturation (collapsed codes) at 64 bits, because the gradient grows with K; Adam does not depend on
 *     that scale (and is what the DeepHash-pytorch port uses).
 *   - Ω is drawn without replacement with the counter-based RNG and sorted; the batch order within an inner epoch is
 *     the batcher's seeded shuffle (epoch number t·T_in + e), so runs are deterministic in the seed.
 *   - S is never materialised: S = (1 + r)·S0 − r·1·1ᵀ, products with 0/1 blocks of 2048 database columns.
 *     Mini-batch losses use S·V, Σ_j S_ij² and VᵀV computed once per outer iteration (V is fixed there), so a step
 *     costs O(B·K²) besides the network; an outer iteration adds 2 × O(m·n·K) SGEMM flops and an O(n·K²) sweep.
 */
#include <cblas.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "core/ops/ops.h"
#include "hashers/adsh.h"
#include "hashers/deep.h"

/* ---- the math (hashers/adsh.h) ---- */

#define ADSH_BLOCK 2048 /* database columns of S0 per block: m × 2048 floats (16 MB at m = 2000) */

/* S0 [m, b] (row stride b) for sampled rows ls against database rows ld[j0 .. j0 + b); adds row counts to nsim. */
static void similarity_block(float *S0, const hl_labels *ls, const hl_labels *ld, int64_t j0, int64_t b,
                             int64_t *nsim) {
    int64_t m = ls->n;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m; i++) {
        float *row = S0 + i * b;
        int64_t c = 0;
        if (ls->words == 1) {
            uint64_t x = ls->bits[i];
            const uint64_t *y = ld->bits + j0;
            for (int64_t j = 0; j < b; j++) c += (int64_t)(row[j] = (x & y[j]) ? 1.0f : 0.0f);
        } else {
            for (int64_t j = 0; j < b; j++)
                c += (int64_t)(row[j] = hl_labels_relevant(ls, i, ld, j0 + j) ? 1.0f : 0.0f);
        }
        nsim[i] += c;
    }
}

hl_status hl_adsh_soft_products(const hl_labels *ls, const hl_labels *ld, int K, const float *V, float *SV,
                                double *ssq, const float *U, float *StU, double *r) {
    HL_ASSERT(ls->nlabels == ld->nlabels, "label counts differ: %d vs %d", ls->nlabels, ld->nlabels);
    hl_status st = HL_OK;
    int64_t m = ls->n, n = ld->n, nb = HL_MIN((int64_t)ADSH_BLOCK, n), tot = 0;
    bool want_sv = V && SV, want_stu = U && StU;
    float *S0 = malloc((size_t)HL_MAX(1, m * nb) * sizeof *S0);
    int64_t *nsim = calloc((size_t)HL_MAX(1, m), sizeof *nsim);
    double *cs = calloc((size_t)K, sizeof *cs);
    if (!S0 || !nsim || !cs)
        HL_TRY(hl_error_set(HL_ENOMEM, "adsh: out of memory for a %lld x %lld similarity block", (long long)m,
                            (long long)nb));
    for (int64_t j0 = 0; j0 < n; j0 += nb) {
        int64_t b = HL_MIN(nb, n - j0);
        similarity_block(S0, ls, ld, j0, b, nsim);
        if (want_sv) /* SV (+)= S0 · V[j0 .. j0+b) : [m, b]·[b, K]; sums of 0/±1 terms are exact in float */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, K, (int)b, 1.0f, S0, (int)b, V + j0 * K, K,
                        j0 ? 1.0f : 0.0f, SV, K);
        if (want_stu) /* StU[j0 .. j0+b) = S0ᵀ · U : [b, m]·[m, K] */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)b, K, (int)m, 1.0f, S0, (int)b, U, K, 0.0f,
                        StU + j0 * K, K);
    }
    for (int64_t i = 0; i < m; i++) tot += nsim[i];
    double dis = (double)m * (double)n - (double)tot, rr = dis > 0 ? (double)tot / dis : 1.0;
    if (r) *r = rr;
    if (ssq)
        for (int64_t i = 0; i < m; i++) ssq[i] = (double)nsim[i] + rr * rr * (double)(n - nsim[i]);
    /* S = (1 + r)·S0 − r·1·1ᵀ:  S·V = (1 + r)·S0·V − r·1·(1ᵀV),  Sᵀ·U = (1 + r)·S0ᵀ·U − r·1·(1ᵀU) */
    if (want_sv) {
        for (int64_t j = 0; j < n; j++)
            for (int k = 0; k < K; k++) cs[k] += V[j * K + k];
        for (int64_t i = 0; i < m; i++)
            for (int k = 0; k < K; k++) SV[i * K + k] = (float)((1 + rr) * SV[i * K + k] - rr * cs[k]);
    }
    if (want_stu) {
        memset(cs, 0, (size_t)K * sizeof *cs);
        for (int64_t i = 0; i < m; i++)
            for (int k = 0; k < K; k++) cs[k] += U[i * K + k];
        for (int64_t j = 0; j < n; j++)
            for (int k = 0; k < K; k++) StU[j * K + k] = (float)((1 + rr) * StU[j * K + k] - rr * cs[k]);
    }
done:
    free(S0), free(nsim), free(cs);
    return st;
}

double hl_adsh_batch_loss(const float *a, int64_t B, int K, const float *VtV, const float *SV, const double *ssq,
                          const float *Vown, double gamma, int64_t n, float *grad) {
    double scale = 1.0 / ((double)n * (double)B), loss = 0;
    for (int64_t i = 0; i < B; i++) {
        const float *ai = a + i * K, *si = SV + i * K, *vi = Vown + i * K;
        double quad = 0, lin = 0, q = 0;
        for (int k = 0; k < K; k++) {
            double g = 0; /* (a_i·VᵀV)_k */
            for (int l = 0; l < K; l++) g += (double)ai[l] * VtV[l * K + k];
            quad += ai[k] * g, lin += (double)ai[k] * si[k], q += ((double)vi[k] - ai[k]) * ((double)vi[k] - ai[k]);
            if (grad) grad[i * K + k] = (float)(scale * (2 * (g - K * (double)si[k]) + 2 * gamma * (ai[k] - vi[k])));
        }
        loss += quad - 2.0 * K * lin + (double)K * K * ssq[i] + gamma * q;
    }
    return loss * scale;
}

double hl_adsh_objective(const float *U, int64_t m, const float *V, int64_t n, int K, const float *S,
                         const int64_t *omega, double gamma) {
    double J = 0;
    for (int64_t i = 0; i < m; i++) {
        const float *ui = U + i * K, *vo = V + omega[i] * K;
        for (int64_t j = 0; j < n; j++) {
            double d = 0;
            for (int k = 0; k < K; k++) d += (double)ui[k] * V[j * K + k];
            d -= (double)K * S[i * n + j];
            J += d * d;
        }
        for (int k = 0; k < K; k++) J += gamma * ((double)vo[k] - ui[k]) * ((double)vo[k] - ui[k]);
    }
    return J;
}

void hl_adsh_q(float *Q, const float *StU, int64_t n, int K, const float *U, const int64_t *omega, int64_t m,
               double gamma) {
    for (int64_t j = 0; j < n * K; j++) Q[j] = (float)(-2.0 * K * StU[j]);
    for (int64_t i = 0; i < m; i++)
        for (int k = 0; k < K; k++) Q[omega[i] * K + k] -= (float)(2.0 * gamma * U[i * K + k]);
}

void hl_adsh_update_bit(float *V, int64_t n, int K, int k, const float *UtU, const float *Q) {
    const float *w = UtU + (int64_t)k * K; /* Ûᵀu_k = row k of the symmetric UᵀU, entry k skipped */
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < n; j++) {
        float *vj = V + j * K;
        double t = 0;
        for (int l = 0; l < K; l++)
            if (l != k) t += (double)vj[l] * w[l];
        vj[k] = 2.0 * t + Q[j * K + k] > 0 ? -1.0f : 1.0f;
    }
}

hl_status hl_adsh_update_v(float *V, int64_t n, int K, const float *U, int64_t m, const float *Q) {
    float *UtU = malloc((size_t)K * K * sizeof *UtU);
    if (!UtU) return hl_error_set(HL_ENOMEM, "adsh: out of memory");
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, K, (int)m, 1.0f, U, K, U, K, 0.0f, UtU, K);
    for (int k = 0; k < K; k++) hl_adsh_update_bit(V, n, K, k, UtU, Q);
    free(UtU);
    return HL_OK;
}



#define ADSH_STREAM 0x4144534800000000ull /* "ADSH": + outer iteration (the sample Ω) */

typedef struct adsh_entry {
    int64_t index, row; /* dataset index of a fit item, its row of V */
} adsh_entry;

typedef struct adsh {
    hl_hasher base;
    hl_deep_opts o;
    hl_hashnet net;
    double gamma;
    int64_t num_samples, inner_epochs;
    hl_codes V;          /* [n, K] learned database codes of the last fit (not in the checkpoint) */
    adsh_entry *lookup;  /* [V.n] sorted by dataset index */
} adsh;

static const hl_param_spec adsh_params[] = {
    HL_DEEP_PARAMS("50", "64", "1e-3", "adam", "5e-4"),
    {.name = "gamma", .type = HL_PARAM_FLOAT, .def = "200", .range = "[0, 1e9]",
     .doc = "γ: weight of the tie between a sampled item's network code and its own database code (paper: 200)"},
    {.name = "num_samples", .type = HL_PARAM_INT, .def = "2000", .range = "[1, 100000000]",
     .doc = "m: database items sampled per outer iteration (all when the database is smaller; paper: 2000)"},
    {.name = "inner_epochs", .type = HL_PARAM_INT, .def = "3", .range = "[1, 100000]",
     .doc = "T_in: epochs of feature learning over the sample per outer iteration (paper: 3)"},
};

static hl_status adsh_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                           uint64_t seed) {
    hl_status st = HL_OK;
    adsh *m = (adsh *)self;
    HL_TRY(hl_deep_opts_read(&m->o, cfg));
    HL_TRY(hl_config_get_double(cfg, "gamma", &m->gamma));
    HL_TRY(hl_config_get_int(cfg, "num_samples", &m->num_samples));
    HL_TRY(hl_config_get_int(cfg, "inner_epochs", &m->inner_epochs));
    HL_TRY(hl_hashnet_init(&m->net, &self->params, &m->o, info, bits, seed));
done:
    return st;
}

static void adsh_fini(hl_hasher *self) {
    adsh *m = (adsh *)self;
    hl_codes_free(&m->V);
    free(m->lookup);
    m->lookup = NULL;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_entry(const void *a, const void *b) { return cmp_i64(a, b); /* index is the first member */ }

/* Keeps V [n, K] (floats ±1) packed, with the lookup from dataset index to row. */
static hl_status keep_codes(adsh *m, const float *V, const int64_t *idx, int64_t n) {
    hl_status st = HL_OK;
    adsh_fini(&m->base);
    if (!(m->lookup = malloc((size_t)n * sizeof *m->lookup))) return hl_error_set(HL_ENOMEM, "adsh: out of memory");
    HL_TRY(hl_codes_create(&m->V, n, m->base.bits));
    hl_codes_pack(&m->V, V);
    for (int64_t j = 0; j < n; j++) m->lookup[j] = (adsh_entry){.index = idx[j], .row = j};
    qsort(m->lookup, (size_t)n, sizeof *m->lookup, cmp_entry);
done:
    if (st < 0) adsh_fini(&m->base);
    return st;
}

/* Buffers of one fit: V [n, K]; U, SV [ns, K]; G = VᵀV [K, K]; per-batch gathers sv_b, vown_b, grad [B, K], ssq_b
 * [B]; ssq [ns]; omega [ns] sampled rows of V, sidx [ns] their dataset indices, order [ns] an epoch's shuffle. */
typedef struct adsh_work {
    float *V, *U, *SV, *G, *sv_b, *vown_b, *grad;
    double *ssq, *ssq_b;
    int64_t *omega, *sidx, *order;
    float *xall, *ah;  /* with a fit hook: [2B, C, H, W] images [x; x_adv], [2B, K] their tanh outputs */
    int64_t *bpos;     /* [B] database positions of a batch (the hook's item positions) */
} adsh_work;

/* One step of adversarial training (a fit hook, hashers/hasher.h): the network on [x; x_adv], ADSH's loss on the
 * clean rows and (weighted) on the adversarial rows with the clean rows' targets, dL/da taken through tanh to the
 * pre-activation on the host, where the hook adds its own term. */
static hl_status defended_step(adsh *m, hl_deep_trainer *t, const hl_dataset *d, int64_t n, const hl_batch *b,
                               const int64_t *pos, adsh_work *w, double *lsum) {
    const int K = m->base.bits;
    const int64_t B = b->m;
    int64_t rows = B;
    for (int64_t i = 0; i < B; i++) w->bpos[i] = w->omega[pos[i]];
    hl_status st = hl_deep_hook_batch(t, b->images, w->bpos, B, w->xall, &rows);
    if (st < 0) return st;
    hl_ctx_reset(t->ctx);
    hl_tensor *x = hl_tensor_from(t->ctx, 4, HL_SHAPE(rows, d->c, d->h, d->w), w->xall);
    hl_tensor *u = hl_hashnet_forward(t->ctx, &m->net, x); /* [2B, K] pre-activation */
    const float *uh = hl_tensor_host(t->ctx, u);
    for (int64_t i = 0; i < rows * K; i++) w->ah[i] = tanhf(uh[i]);
    for (int64_t i = 0; i < B; i++) {
        int64_t p = pos[i];
        HL_ASSERT(b->index[i] == w->sidx[p], "batch order differs from hl_batcher_order");
        memcpy(w->sv_b + i * K, w->SV + p * K, (size_t)K * sizeof *w->SV);
        memcpy(w->vown_b + i * K, w->V + w->omega[p] * K, (size_t)K * sizeof *w->V);
        memcpy(w->U + p * K, w->ah + i * K, (size_t)K * sizeof *w->U);
        w->ssq_b[i] = w->ssq[p];
    }
    double l = hl_adsh_batch_loss(w->ah, B, K, w->G, w->sv_b, w->ssq_b, w->vown_b, m->gamma, n, w->grad);
    double la = hl_adsh_batch_loss(w->ah + B * K, B, K, w->G, w->sv_b, w->ssq_b, w->vown_b, m->gamma, n,
                                   w->grad + B * K);
    for (int64_t i = 0; i < rows * K; i++) w->grad[i] *= 1.0f - w->ah[i] * w->ah[i]; /* d tanh */
    *lsum += t->hook->clean_weight * l + t->hook->method_adv_weight * la +
             hl_deep_hook_loss(t, uh, w->bpos, B, K, w->grad);
    return hl_deep_trainer_step(t, u, w->grad);
}

/* One outer iteration's feature learning (methods.md §1.3 a): T_in epochs over the sample, V fixed, from the
 * sample's S·V and Σ_j S_ij² and G = VᵀV. Writes the latest tanh outputs into U; the mean mini-batch loss to *loss. */
static hl_status feature_learning(adsh *m, hl_deep_trainer *t, const hl_dataset *d, int64_t n, int64_t ns,
                                  int64_t it, adsh_work *w, double *loss) {
    hl_status st = HL_OK;
    const int K = m->base.bits;
    hl_batcher_opts bo = hl_deep_batcher_opts(&m->base, &m->o);
    hl_batcher bt = {0};
    double lsum = 0;
    int64_t nb = 0;
    HL_TRY(hl_batcher_init(&bt, d, w->sidx, ns, &bo));
    for (int64_t e = 0; e < m->inner_epochs; e++) {
        int64_t ep = it * m->inner_epochs + e;
        hl_batch b;
        hl_batcher_start(&bt, ep);
        if (bo.shuffle) /* the batcher's documented order: position p of the epoch is list entry order[p] */
            hl_batcher_order(bo.seed, ep, ns, w->order);
        else
            for (int64_t p = 0; p < ns; p++) w->order[p] = p;
        while (hl_batcher_next(&bt, &b)) {
            const int64_t *pos = w->order + b.step * bo.batch;
            if (t->hook) {
                HL_TRY(defended_step(m, t, d, n, &b, pos, w, &lsum));
                nb++;
                continue;
            }
            hl_ctx_reset(t->ctx);
            hl_tensor *x = hl_tensor_from(t->ctx, 4, HL_SHAPE(b.m, d->c, d->h, d->w), b.images);
            hl_tensor *a = hl_tanh(t->ctx, hl_hashnet_forward(t->ctx, &m->net, x)); /* [B, K] */
            const float *ah = hl_tensor_host(t->ctx, a);
            for (int64_t i = 0; i < b.m; i++) {
                int64_t p = pos[i];
                HL_ASSERT(b.index[i] == w->sidx[p], "batch order differs from hl_batcher_order");
                memcpy(w->sv_b + i * K, w->SV + p * K, (size_t)K * sizeof *w->SV);
                memcpy(w->vown_b + i * K, w->V + w->omega[p] * K, (size_t)K * sizeof *w->V);
                memcpy(w->U + p * K, ah + i * K, (size_t)K * sizeof *w->U);
                w->ssq_b[i] = w->ssq[p];
            }
            lsum += hl_adsh_batch_loss(ah, b.m, K, w->G, w->sv_b, w->ssq_b, w->vown_b, m->gamma, n, w->grad);
            nb++;
            HL_TRY(hl_deep_trainer_step(t, a, w->grad));
        }
    }
    *loss = nb ? lsum / (double)nb : 0;
done:
    hl_batcher_free(&bt);
    return st;
}

static hl_status adsh_fit(hl_hasher *self, const hl_dataset *d, const int64_t *idx, int64_t n, bool labels_visible) {
    (void)labels_visible; /* the driver refuses this supervised fit without labels */
    hl_status st = HL_OK;
    adsh *m = (adsh *)self;
    const int K = self->bits;
    int64_t ns = HL_MIN(m->num_samples, n), B = m->o.batch;
    hl_labels ld = {0}, ls = {0};
    hl_deep_trainer t = {0};
    adsh_work w = {0};
    float *StU = NULL, *Q = NULL;
    int64_t *perm = NULL;
    size_t nk = (size_t)(n * K), sk = (size_t)(ns * K), bk = (size_t)(B * K);
    w.V = calloc(nk, sizeof *w.V); /* V starts at 0 as in the official code; the first update makes it ±1 */
    w.U = malloc(sk * sizeof *w.U), w.SV = malloc(sk * sizeof *w.SV), w.G = malloc((size_t)K * K * sizeof *w.G);
    w.sv_b = malloc(bk * sizeof *w.sv_b), w.vown_b = malloc(bk * sizeof *w.vown_b);
    w.grad = malloc(2 * bk * sizeof *w.grad); /* [2B, K]: a fit hook adds adversarial rows */
    if (self->hook) {
        w.xall = malloc((size_t)(2 * B) * (size_t)hl_dataset_image_size(d) * sizeof *w.xall);
        w.ah = malloc(2 * bk * sizeof *w.ah);
        w.bpos = malloc((size_t)B * sizeof *w.bpos);
        if (!w.xall || !w.ah || !w.bpos) HL_TRY(hl_error_set(HL_ENOMEM, "adsh: out of memory"));
    }
    w.ssq = malloc((size_t)ns * sizeof *w.ssq), w.ssq_b = malloc((size_t)B * sizeof *w.ssq_b);
    w.omega = malloc((size_t)ns * sizeof *w.omega), w.sidx = malloc((size_t)ns * sizeof *w.sidx);
    w.order = malloc((size_t)ns * sizeof *w.order);
    StU = malloc(nk * sizeof *StU), Q = malloc(nk * sizeof *Q), perm = malloc((size_t)n * sizeof *perm);
    if (!w.V || !w.U || !w.SV || !w.G || !w.sv_b || !w.vown_b || !w.grad || !w.ssq || !w.ssq_b || !w.omega ||
        !w.sidx || !w.order || !StU || !Q || !perm)
        HL_TRY(hl_error_set(HL_ENOMEM, "adsh: out of memory for %lld database codes of %d bits", (long long)n, K));
    adsh_fini(self); /* a refit forgets the codes of the previous fit */
    HL_TRY(hl_labels_subset(&ld, &d->labels, idx, n));
    HL_TRY(hl_deep_trainer_begin(&t, self, &m->o));
    hl_train_state_blob(&t.state, "V", w.V, nk * sizeof *w.V); /* the rest is recomputed every outer iteration */
    int64_t it0;
    HL_TRY(hl_deep_trainer_resume(&t, &it0));
    for (int64_t it = it0; it < m->o.epochs; it++) {
        double loss = 0;
        hl_deep_trainer_epoch(&t, it);
        /* Ω: ns distinct rows of the database (sorted: S0 blocks then read the label rows in order) */
        hl_rng r = hl_rng_make(self->seed, ADSH_STREAM + (uint64_t)it);
        hl_rng_permutation(&r, perm, n);
        memcpy(w.omega, perm, (size_t)ns * sizeof *perm);
        qsort(w.omega, (size_t)ns, sizeof *w.omega, cmp_i64);
        for (int64_t i = 0; i < ns; i++) w.sidx[i] = idx[w.omega[i]];
        hl_labels_free(&ls);
        HL_TRY(hl_labels_subset(&ls, &ld, w.omega, ns));
        /* a defence's references come from the database codes V; before the first discrete step V is 0 (no codes) */
        bool coded = false;
        for (size_t i = 0; i < nk && !coded; i++) coded = w.V[i] != 0;
        HL_TRY(hl_deep_hook_epoch(&t, coded ? w.V : NULL, &ld, n, it));
        /* (a) feature learning with V fixed: S·V, Σ_j S_ij², VᵀV once per outer iteration */
        HL_TRY(hl_adsh_soft_products(&ls, &ld, K, w.V, w.SV, w.ssq, NULL, NULL, NULL));
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, K, (int)n, 1.0f, w.V, K, w.V, K, 0.0f, w.G, K);
        memset(w.U, 0, sk * sizeof *w.U);
        HL_TRY(feature_learning(m, &t, d, n, ns, it, &w, &loss));
        /* (b) discrete coding of V, network fixed: Q = −2K·SᵀU − 2γ·Ū, then bit by bit */
        HL_TRY(hl_adsh_soft_products(&ls, &ld, K, NULL, NULL, NULL, w.U, StU, NULL));
        hl_adsh_q(Q, StU, n, K, w.U, w.omega, ns, m->gamma);
        HL_TRY(hl_adsh_update_v(w.V, n, K, w.U, ns, Q));
        hl_code_diversity dv = hl_code_diversity_of(w.U, ns, K);
        hl_code_diversity dv_db = hl_code_diversity_of(w.V, n, K);
        hl_msg(HL_LOG_DEBUG, "adsh %db: database codes V: %.1f%% distinct, bit balance min %.2f mean %.2f", K,
               100 * dv_db.distinct_frac, dv_db.min_balance, dv_db.mean_balance);
        hl_deep_log_epoch(self, it, m->o.epochs, loss, &dv, &t);
        HL_TRY(hl_deep_trainer_epoch_end(&t, it));
    }
    if (m->o.epochs > 0) HL_TRY(keep_codes(m, w.V, idx, n));
    HL_TRY(hl_deep_recalibrate_bn(self, &m->net, &m->o, d, idx, n));
done:
    hl_deep_trainer_end(&t);
    hl_labels_free(&ld), hl_labels_free(&ls);
    free(w.V), free(w.U), free(w.SV), free(w.G), free(w.sv_b), free(w.vown_b), free(w.grad), free(w.ssq);
    free(w.ssq_b), free(w.omega), free(w.sidx), free(w.order), free(StU), free(Q), free(perm);
    free(w.xall), free(w.ah), free(w.bpos);
    return st;
}

static hl_tensor *adsh_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    return hl_hashnet_forward(ctx, &((adsh *)self)->net, x);
}

static hl_status adsh_learned_codes(hl_hasher *self, const int64_t *idx, int64_t n, hl_codes *out, uint8_t *have) {
    adsh *m = (adsh *)self;
    HL_ASSERT(out->bits == self->bits && out->n >= n, "codes [%lld, %d] for %lld items of %d bits",
              (long long)out->n, out->bits, (long long)n, self->bits);
    if (!m->lookup) return HL_OK;
    for (int64_t i = 0; i < n; i++) {
        adsh_entry key = {.index = idx[i]};
        const adsh_entry *e = bsearch(&key, m->lookup, (size_t)m->V.n, sizeof *m->lookup, cmp_entry);
        if (!e) continue;
        memcpy(out->w + i * out->words, hl_codes_row(&m->V, e->row), (size_t)out->words * sizeof *out->w);
        have[i] = 1;
    }
    return HL_OK;
}

const hl_hasher_class hl_hasher_adsh = {
    .abi = HL_HASHER_ABI,
    .name = "adsh",
    .version = "3", /* 2: the step schedule's milestones are ⌈E/3⌉, ⌈2E/3⌉ (hashers/deep.c); 3: a defence sees no
                     * codes (bank NULL) in the first outer iteration instead of V = 0, whose all-(+1) signs made every
                     * centre the all-ones code and collapsed CgAT/SAAT fits */
    .summary = "ADSH (Jiang & Li, AAAI'18): asymmetric deep supervised hashing; database codes learned directly, "
               "a network for queries (optimizer: ours Adam 1e-3 from scratch; paper SGD on a pretrained CNN-F)",
    .cite = "@inproceedings{jiang2018adsh,\n  author = {Qing-Yuan Jiang and Wu-Jun Li},\n  title = {Asymmetric Deep Supervised Hashing},\n  booktitle = {Proceedings of the Thirty-Second AAAI Conference on Artificial Intelligence (AAAI)},\n  year = {2018}\n}\n",
    .params = adsh_params,
    .n_params = (int)HL_ARRAY_LEN(adsh_params),
    .size = sizeof(adsh),
    .flags = HL_HASHER_SUPERVISED | HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT | HL_HASHER_FIT_DATABASE |
             HL_HASHER_TRAINABLE | HL_HASHER_DEVICE,
    .init = adsh_init,
    .fini = adsh_fini,
    .fit = adsh_fit,
    .forward = adsh_forward,
    .learned_codes = adsh_learned_codes,
};
