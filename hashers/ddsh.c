/* hashers/ddsh.c — DDSH, Deep Discrete Supervised Hashing (Jiang, Cui, Li; IEEE TIP 2018), methods.md §2.
 *
 * Column sampling: each outer iteration draws Ω, m training points whose codes B_Ω ∈ {±1}^{m×c} are free binary
 * variables; the rest Γ carry the network's codes B_Γ = sign(F(x)). With the soft similarity S [n, m] of every
 * training point to Ω (+1 similar, −r dissimilar, r = #similar / #dissimilar over the whole n×m block):
 *   L(B, Θ) = ‖c·S_Γ − B_Γ B_Ωᵀ‖²_F + ‖c·S_Ω − B_Ω B_Ωᵀ‖²_F
 * One outer iteration (T_out of them = `epochs`), repeated T_in (`inner`) times:
 *   (a) discrete coding of B_Ω bit by bit, k = 1..c: bit k minimises the loss of the residual of bits 1..k−1,
 *       a BQP  min zᵀQz + pᵀz  (hashers/ddsh.h), solved by Solve.m's balanced clustering heuristic (change of
 *       variables, homogenisation, scaling, Cholesky factor P of λI − Q̃, every column as a seed with its H − 1
 *       nearest real columns, lowest scatter wins; H = round((m+1)/2) → half of Ω gets +1 in every bit);
 *   (b) feature learning: one pass over Γ in random order, minibatches I:
 *       a = tanh(F(x_I)),  dL/da = −2c·S_I B_Ω + 2a(B_ΩᵀB_Ω),  backprop dL/da ⊙ (1 − a²) ÷ (|I|·|Γ|), optimizer step,
 *       then B[I] ← sign(a) (a from before the step).
 * Encoding (queries and database alike): sign(F(x)).
 *
 * Follows the official code [CODE: jiangqy/DDSH-TIP2018 trainDDSH.m, Solve.m, load_data.m]: B initialised random
 * ±1; Ω resampled every outer iteration and its codes carried over from B; the greedy per-bit residual (later bits
 * ignored when solving bit k); the solver's steps and constants (λ = 10⁴, H = round(M/2) with M = m + 1, seeds
 * include the auxiliary column, ties to the lower index as MATLAB's stable sort and min); the gradient and its
 * ÷ (batch·|Γ|) scaling; weight decay 5e-4, batch 128, m = 100, T_out = 50, T_in = 3; under lr_schedule logspace the
 * rate is logspace(log10 lr, log10 lr − 2, T_out·T_in) indexed by (outer, inner) as the code's lr((epoch−1)·3+t).
 * Our choices:
 *   - the discrete step keeps a bit's previous codes when the heuristic's solution has a higher objective than them
 *     (the code always takes the heuristic's): so a bit's objective never increases (tested); a kept bit may then
 *     be unbalanced (only the first solve of a bit starts from random codes, and the heuristic usually wins);
 *   - R_Γᵀ b^k_Γ is computed from the Gram terms S_ΓᵀB_Γ and B_ΓᵀB_Γ (the same quantity; the code accumulates the
 *     |Γ|×m residual matrix);
 *   - sign(0) = +1 (the code maps tanh(u) <= 0 to −1); the Cholesky factor in double, hand-written (M = m + 1);
 *   - the network: hashers/deep.h's backbone + linear head trained from scratch (the paper fine-tunes an
 *     ImageNet-pretrained CNN-F with plain SGD, lr logspace(−2, −4)). Defaults here: Adam, lr 3e-3 (paper: SGD
 *     0.01). From scratch, SGD with the code's small ÷ (batch·|Γ|) gradients either barely moves or saturates tanh
 *     and collapses the codes (synthetic, 400 images, 5 classes, 16 bits, 8 outer iterations: SGD lr 0.05–0.5 mAP
 *     0.21–0.53; Adam 3e-3 0.93 after 10); on 1,000 images of 10 classes (1×16×16, 32 bits, 30 outer iterations)
 *     Adam 3e-3 constant reached 0.83, 1e-2 constant 0.71 (and collapsed with batch 32), 1e-2 logspace 0.64, 1e-2
 *     step 0.61. `optimizer: sgd, lr: 0.01, momentum: 0, lr_schedule: logspace` is the paper's setting. The schedule
 *     is the shared key's (HL_DEEP_PARAMS fixes its default to step); logspace follows the code's per-(outer,
 *     inner) index;
 *   - the per-outer-iteration log (hl_deep_log_epoch) shows the code's calc_loss, L / n, with the binary B_Γ of
 *     the last pass and B_Ω, and the diversity of all n codes B; HASHLAB_LOG=debug adds a line per inner round;
 *   - m is clamped to n − 2 on tiny training sets (Γ needs two images: batch norm trains on batches of two or more);
 *   - multi-label sets use the same +1 / −r similarity (the code's comment suggests 0 instead of −r for NUS-WIDE's
 *     multi-label pairs; like the code, we do not).
 * Cost: T_out·T_in passes over Γ (plus c BQPs of size m+1 per pass, milliseconds): 150 passes for the paper's
 * 50×3; on 5,000 training images with cnn-small at ~2,000 img/s about 6 minutes (~7 s per outer iteration; the
 * discrete coding is ~0.2 s of it at 32 bits). Suites can lower `epochs` (= T_out).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "hashers/ddsh.h"
#include "hashers/deep.h"

/* ---- pure math (hashers/ddsh.h) ---- */

double hl_ddsh_loss(const float *S_g, const float *B_g, int64_t g, const float *S_o, const float *B_o, int m, int c) {
    double L = 0;
    for (int pass = 0; pass < 2; pass++) {
        const float *S = pass ? S_o : S_g, *B = pass ? B_o : B_g;
        int64_t rows = pass ? m : g;
        for (int64_t i = 0; i < rows; i++)
            for (int j = 0; j < m; j++) {
                double e = -(double)c * S[i * m + j];
                for (int k = 0; k < c; k++) e += (double)B[i * c + k] * B_o[(int64_t)j * c + k];
                L += e * e;
            }
    }
    return L;
}

double hl_ddsh_feature_grad(const float *S_I, const float *u, int64_t b, const float *B_o, int m, int c, float *G) {
    double L = 0, a[HL_DDSH_MAX_BITS], d[HL_DDSH_MAX_BITS];
    HL_ASSERT(c >= 1 && c <= HL_DDSH_MAX_BITS, "ddsh: %d bits out of [1, %d]", c, HL_DDSH_MAX_BITS);
    for (int64_t i = 0; i < b; i++) {
        for (int k = 0; k < c; k++) a[k] = tanh((double)u[i * c + k]), d[k] = 0;
        for (int j = 0; j < m; j++) { /* e_ij = a_iᵀ b_j − c·S_ij;  dL/da_i = 2 Σ_j e_ij b_j */
            const float *bj = B_o + (int64_t)j * c;
            double e = -(double)c * S_I[i * m + j];
            for (int k = 0; k < c; k++) e += a[k] * bj[k];
            L += e * e;
            for (int k = 0; k < c; k++) d[k] += 2 * e * bj[k];
        }
        for (int k = 0; k < c; k++) G[i * c + k] = (float)(d[k] * (1 - a[k] * a[k]));
    }
    return L;
}

void hl_ddsh_bit_problem(int m, int c, int k, const float *S_o, const float *B_o, const double *T, const double *Gm,
                         double *Q, double *p) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < m; j++) {
            double r = (double)c * S_o[i * m + j];
            for (int l = 0; l < k; l++) r -= (double)B_o[i * c + l] * B_o[j * c + l];
            Q[i * m + j] = i == j ? 0.0 : -2 * r;
        }
        double q = (double)c * T[i * c + k];
        for (int l = 0; l < k; l++) q -= (double)B_o[i * c + l] * Gm[l * c + k];
        p[i] = -2 * q;
    }
}

double hl_ddsh_bqp_objective(int m, const double *Q, const double *p, const float *z) {
    double f = 0;
    for (int i = 0; i < m; i++) {
        double qi = 0;
        for (int j = 0; j < m; j++) qi += Q[i * m + j] * z[j];
        f += z[i] * (qi + p[i]);
    }
    return f;
}

typedef struct dist_idx {
    double d;
    int i;
} dist_idx;

static int dist_cmp(const void *a, const void *b) {
    const dist_idx *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Lower Cholesky factor L (L·Lᵀ = A) of the M×M matrix A in place (row-major, lower triangle; upper set to 0).
 * Row j of L is column j of MATLAB's upper factor chol(A). Returns false when A is not positive definite. */
static bool cholesky(double *A, int M) {
    for (int j = 0; j < M; j++) {
        double s = A[j * M + j];
        for (int l = 0; l < j; l++) s -= A[j * M + l] * A[j * M + l];
        if (!(s > 0)) return false;
        double djj = sqrt(s);
        A[j * M + j] = djj;
        for (int i = j + 1; i < M; i++) {
            double t = A[i * M + j];
            for (int l = 0; l < j; l++) t -= A[i * M + l] * A[j * M + l];
            A[i * M + j] = t / djj;
        }
        for (int i = 0; i < j; i++) A[i * M + j] = 0;
    }
    return true;
}

hl_status hl_ddsh_bqp_balanced(int m, const double *Q, const double *p, double lambda, float *z) {
    hl_status st = HL_OK;
    const int M = m + 1, H = (M + 1) / 2; /* round(M/2), .5 away from zero */
    double *Qt = malloc((size_t)M * M * sizeof *Qt), *gram = malloc((size_t)M * M * sizeof *gram);
    double *center = malloc((size_t)M * sizeof *center);
    dist_idx *ord = malloc((size_t)m * sizeof *ord);
    unsigned char *best = calloc((size_t)M, 1), *cand = malloc((size_t)M);
    if (!Qt || !gram || !center || !ord || !best || !cand) {
        st = hl_error_set(HL_ENOMEM, "ddsh: out of memory for a %d-variable BQP", m);
        goto done;
    }
    /* steps 1–2: Q̃ = [[4Q, p'/2], [p'ᵀ/2, 0]], p' = 2p − 2(Q + Qᵀ)·1 */
    double qmax = 0;
    for (int i = 0; i < m; i++) {
        double lin = 2 * p[i];
        for (int l = 0; l < m; l++) lin -= 2 * (Q[i * m + l] + Q[l * m + i]);
        for (int j = 0; j < m; j++) Qt[i * M + j] = 4 * Q[i * m + j];
        Qt[i * M + m] = Qt[m * M + i] = lin / 2;
    }
    Qt[m * M + m] = 0;
    for (int i = 0; i < M * M; i++) qmax = fmax(qmax, fabs(Qt[i]));
    /* step 3: scale, A = λI − Q̃ = PᵀP; Qt becomes the factor (row j = p_j) */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) Qt[i * M + j] = (i == j ? lambda : 0) - (qmax > 0 ? Qt[i * M + j] / qmax : 0);
    if (!cholesky(Qt, M)) {
        st = hl_error_set(HL_ENUMERIC, "ddsh: lambda·I − Q is not positive definite (lambda %g too small)", lambda);
        goto done;
    }
    for (int i = 0; i < M; i++) /* gram[i][j] = p_iᵀ p_j, from the factor as the official code does */
        for (int j = 0; j <= i; j++) {
            double s = 0;
            for (int l = 0; l <= j; l++) s += Qt[i * M + l] * Qt[j * M + l];
            gram[i * M + j] = gram[j * M + i] = s;
        }
    /* step 4: each column seeds {H − 1 nearest real columns} ∪ {auxiliary}; keep the smallest scatter */
    double fbest = INFINITY;
    for (int s = 0; s < M; s++) {
        for (int r = 0; r < m; r++) ord[r] = (dist_idx){gram[r * M + r] + gram[s * M + s] - 2 * gram[r * M + s], r};
        qsort(ord, (size_t)m, sizeof *ord, dist_cmp);
        memset(cand, 0, (size_t)M);
        for (int h = 0; h < H - 1; h++) cand[ord[h].i] = 1;
        cand[m] = 1;
        memset(center, 0, (size_t)M * sizeof *center);
        for (int j = 0; j < M; j++)
            if (cand[j])
                for (int l = 0; l <= j; l++) center[l] += Qt[j * M + l] / H;
        double f = 0;
        for (int j = 0; j < M; j++)
            if (cand[j])
                for (int l = 0; l < M; l++) {
                    double e = (l <= j ? Qt[j * M + l] : 0) - center[l];
                    f += e * e;
                }
        if (f < fbest) fbest = f, memcpy(best, cand, (size_t)M);
    }
    for (int i = 0; i < m; i++) z[i] = best[i] ? 1.0f : -1.0f;
done:
    free(Qt), free(gram), free(center), free(ord), free(best), free(cand);
    return st;
}

hl_status hl_ddsh_bit_update(int m, const double *Q, const double *p, double lambda, const float *prev, float *z,
                             bool *accepted) {
    hl_status st = hl_ddsh_bqp_balanced(m, Q, p, lambda, z);
    if (st < 0) return st;
    bool ok = hl_ddsh_bqp_objective(m, Q, p, z) <= hl_ddsh_bqp_objective(m, Q, p, prev);
    if (!ok) memcpy(z, prev, (size_t)m * sizeof *z);
    if (accepted) *accepted = ok;
    return HL_OK;
}

/* ---- the hasher ---- */

typedef struct ddsh {
    hl_hasher base;
    hl_hashnet net;
    hl_deep_opts o;
    int64_t m, inner;
    double lambda;
} ddsh;

static const hl_param_spec ddsh_params[] = {
    HL_DEEP_PARAMS("50", "128", "3e-3", "adam", "5e-4"),
    {.name = "sample_columns", .type = HL_PARAM_INT, .def = "100", .range = "[1, 10000]",
     .doc = "m = |Ω|: sampled points whose codes are solved discretely each outer iteration"},
    {.name = "inner", .type = HL_PARAM_INT, .def = "3", .range = "[1, 1000]",
     .doc = "T_in: discrete-coding + feature-learning rounds per outer iteration"},
    {.name = "lambda", .type = HL_PARAM_FLOAT, .def = "1e4", .range = "(0, 1e12]",
     .doc = "λ of the BQP solver's factor λI − Q̃ (must exceed its largest eigenvalue, at most m + 1)"},
};

static hl_status ddsh_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                           uint64_t seed) {
    hl_status st = HL_OK;
    ddsh *d = (ddsh *)self;
    if (bits > HL_DDSH_MAX_BITS) return hl_error_set(HL_EINVAL, "ddsh: %d bits (at most %d)", bits, HL_DDSH_MAX_BITS);
    HL_TRY(hl_deep_opts_read(&d->o, cfg));
    HL_TRY(hl_config_get_int(cfg, "sample_columns", &d->m));
    HL_TRY(hl_config_get_int(cfg, "inner", &d->inner));
    HL_TRY(hl_config_get_double(cfg, "lambda", &d->lambda));
    HL_TRY(hl_hashnet_init(&d->net, &self->params, &d->o, info, bits, seed));
done:
    return st;
}

/* T = S_Γᵀ B_Γ [m, c], Gm = B_Γᵀ B_Γ [c, c] (the Gram terms of hl_ddsh_bit_problem). */
static void gram_terms(int64_t g, int m, int c, const float *Sg, const float *Bg, double *T, double *Gm) {
    memset(T, 0, (size_t)m * c * sizeof *T);
    memset(Gm, 0, (size_t)c * c * sizeof *Gm);
    for (int64_t j = 0; j < g; j++) {
        const float *s = Sg + j * m, *b = Bg + j * c;
        for (int i = 0; i < m; i++)
            for (int k = 0; k < c; k++) T[i * c + k] += (double)s[i] * b[k];
        for (int l = 0; l < c; l++)
            for (int k = 0; k < c; k++) Gm[l * c + k] += (double)b[l] * b[k];
    }
}

/* (a) discrete coding of B_Ω [m, c], bit by bit, in place. */
static hl_status discrete_coding(const ddsh *d, int64_t g, int m, int c, const float *Sg, const float *So,
                                 const float *Bg, float *Bo, double *T, double *Gm, double *Q, double *p, float *z,
                                 float *prev, int *kept) {
    hl_status st = HL_OK;
    gram_terms(g, m, c, Sg, Bg, T, Gm);
    for (int k = 0; k < c; k++) {
        bool acc = true;
        hl_ddsh_bit_problem(m, c, k, So, Bo, T, Gm, Q, p);
        for (int i = 0; i < m; i++) prev[i] = Bo[i * c + k];
        HL_TRY(hl_ddsh_bit_update(m, Q, p, d->lambda, prev, z, &acc));
        for (int i = 0; i < m; i++) Bo[i * c + k] = z[i];
        *kept += !acc;
    }
done:
    return st;
}

typedef struct ddsh_work {
    hl_labels lab, lab_o;            /* labels of the n training points, of Ω */
    int64_t *pos, *gpos, *gidx;      /* [n] shuffled positions (Ω = first m), [g] Γ positions, their dataset idx */
    int64_t *perm;                   /* [g] a pass's order over Γ */
    float *B, *S, *Sg, *So, *Bg, *Bo; /* [n,c] codes, [n,m] similarity, its Γ/Ω rows, codes of Γ/Ω */
    float *SI, *G, *z, *prev;        /* [batch,m], [2·batch,c] (adversarial rows under a fit hook), [m], [m] */
    float *xall;                     /* with a fit hook: [2·batch, C, H, W] images [x; x_adv] */
    int64_t *bpos;                   /* with a fit hook: [batch] a batch's positions in the training list */
    double *T, *Gm, *Q, *p;          /* [m,c], [c,c], [m,m], [m] */
    unsigned char *in_omega;         /* [n] */
} ddsh_work;

static void work_free(ddsh_work *w) {
    hl_labels_free(&w->lab), hl_labels_free(&w->lab_o);
    free(w->pos), free(w->gpos), free(w->gidx), free(w->perm), free(w->B), free(w->S), free(w->Sg), free(w->So);
    free(w->Bg), free(w->Bo), free(w->SI), free(w->G), free(w->z), free(w->prev), free(w->T), free(w->Gm);
    free(w->xall), free(w->bpos);
    free(w->Q), free(w->p), free(w->in_omega);
}

static hl_status work_alloc(ddsh_work *w, int64_t n, int m, int c, int64_t batch) {
    int64_t g = n - m;
#define DDSH_ALLOC(ptr, count) (ptr) = malloc((size_t)(count) * sizeof *(ptr))
    DDSH_ALLOC(w->pos, n), DDSH_ALLOC(w->gpos, g), DDSH_ALLOC(w->gidx, g), DDSH_ALLOC(w->perm, g);
    DDSH_ALLOC(w->B, n * c), DDSH_ALLOC(w->S, n * m), DDSH_ALLOC(w->Sg, g * m), DDSH_ALLOC(w->So, (int64_t)m * m);
    DDSH_ALLOC(w->Bg, g * c), DDSH_ALLOC(w->Bo, (int64_t)m * c), DDSH_ALLOC(w->SI, batch * m);
    DDSH_ALLOC(w->G, 2 * batch * c), DDSH_ALLOC(w->z, m), DDSH_ALLOC(w->prev, m), DDSH_ALLOC(w->T, (int64_t)m * c);
    DDSH_ALLOC(w->Gm, (int64_t)c * c), DDSH_ALLOC(w->Q, (int64_t)m * m), DDSH_ALLOC(w->p, m);
    DDSH_ALLOC(w->in_omega, n);
#undef DDSH_ALLOC
    if (!w->pos || !w->gpos || !w->gidx || !w->perm || !w->B || !w->S || !w->Sg || !w->So || !w->Bg || !w->Bo ||
        !w->SI || !w->G || !w->z || !w->prev || !w->T || !w->Gm || !w->Q || !w->p || !w->in_omega)
        return hl_error_set(HL_ENOMEM, "ddsh: out of memory for %lld training points, m = %d", (long long)n, m);
    return HL_OK;
}

/* (b) one feature-learning pass over Γ (pass number `pass` keys its order); updates Bg; returns Σ loss rows. */
static hl_status feature_pass(ddsh *d, hl_deep_trainer *t, const hl_dataset *train, ddsh_work *w, int64_t g, int m,
                              int64_t pass, double *loss) {
    hl_status st = HL_OK;
    const int c = d->base.bits;
    hl_batcher bt = {0};
    hl_batch b;
    hl_batcher_opts bo = hl_deep_batcher_opts(&d->base, &d->o);
    *loss = 0;
    HL_TRY(hl_batcher_init(&bt, train, w->gidx, g, &bo));
    hl_batcher_start(&bt, pass);
    hl_batcher_order(bo.seed, pass, g, w->perm); /* batch s holds Γ positions perm[s·B ..] (core/data/batch.h) */
    for (int64_t at = 0; hl_batcher_next(&bt, &b); at += b.m) {
        int64_t rows = b.m;
        const float *xin = b.images;
        if (t->hook) { /* adversarial training: [x; x_adv] */
            for (int64_t i = 0; i < b.m; i++) w->bpos[i] = w->gpos[w->perm[at + i]];
            HL_TRY(hl_deep_hook_batch(t, b.images, w->bpos, b.m, w->xall, &rows));
            xin = w->xall;
        }
        hl_ctx_reset(t->ctx);
        hl_tensor *x = hl_tensor_from(t->ctx, 4, HL_SHAPE(rows, train->c, train->h, train->w), xin);
        hl_tensor *u = hl_hashnet_forward(t->ctx, &d->net, x); /* [rows, c] */
        const float *uh = hl_tensor_host(t->ctx, u);
        for (int64_t i = 0; i < b.m; i++) {
            int64_t q = w->perm[at + i];
            HL_ASSERT(b.index[i] == w->gidx[q], "ddsh: batch order differs from hl_batcher_order");
            memcpy(w->SI + i * m, w->Sg + q * m, (size_t)m * sizeof *w->SI);
        }
        double l = hl_ddsh_feature_grad(w->SI, uh, b.m, w->Bo, m, c, w->G);
        float scale = (float)(1.0 / ((double)b.m * (double)g));
        if (t->hook) { /* the same loss on the adversarial rows (the clean rows' targets), then the hook's term */
            double la = hl_ddsh_feature_grad(w->SI, uh + b.m * c, b.m, w->Bo, m, c, w->G + b.m * c);
            for (int64_t i = 0; i < 2 * b.m * c; i++) w->G[i] *= scale;
            l = t->hook->clean_weight * l + t->hook->method_adv_weight * la;
            hl_deep_hook_loss(t, uh, w->bpos, b.m, c, w->G);
        } else {
            for (int64_t i = 0; i < b.m * c; i++) w->G[i] *= scale;
        }
        *loss += l;
        for (int64_t i = 0; i < b.m; i++) /* B[I] ← sign(a), a from before the step */
            for (int k = 0; k < c; k++) w->Bg[w->perm[at + i] * c + k] = uh[i * c + k] >= 0 ? 1.0f : -1.0f;
        HL_TRY(hl_deep_trainer_step(t, u, w->G));
    }
done:
    hl_batcher_free(&bt);
    return st;
}

static hl_status ddsh_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    hl_status st = HL_OK;
    ddsh *d = (ddsh *)self;
    const int c = self->bits;
    const int64_t E = d->o.epochs, Tin = d->inner;
    ddsh_work w = {0};
    hl_deep_trainer t = {0};
    (void)labels; /* the driver refuses this supervised fit without them */
    if (E == 0) return HL_OK;
    if (n < 3) return hl_error_set(HL_EINVAL, "ddsh needs at least 3 training images (got %lld)", (long long)n);
    const int m = (int)HL_MIN(d->m, n - 2); /* |Γ| >= 2: a batch-norm network trains on batches of two or more */
    const int64_t g = n - m;
    if (m < d->m)
        hl_msg(HL_LOG_WARN, "ddsh: sample_columns %lld clamped to %d (only %lld training images)", (long long)d->m, m,
               (long long)n);
    HL_TRY(work_alloc(&w, n, m, c, HL_MIN(d->o.batch, g)));
    HL_TRY(hl_labels_subset(&w.lab, &train->labels, idx, n));
    if (self->hook) {
        int64_t bb = HL_MIN(d->o.batch, g);
        w.xall = malloc((size_t)(2 * bb) * (size_t)hl_dataset_image_size(train) * sizeof *w.xall);
        w.bpos = malloc((size_t)bb * sizeof *w.bpos);
        if (!w.xall || !w.bpos) HL_TRY(hl_error_set(HL_ENOMEM, "ddsh: out of memory"));
    }
    hl_rng r = hl_rng_make(self->seed, 0x64647368 /* "ddsh" */);
    for (int64_t i = 0; i < n * c; i++) w.B[i] = (hl_rng_u32(&r) & 1) ? 1.0f : -1.0f;
    HL_TRY(hl_deep_trainer_begin(&t, self, &d->o));
    hl_train_state_blob(&t.state, "B", w.B, (size_t)(n * c) * sizeof *w.B);
    hl_train_state_blob(&t.state, "rng", &r, sizeof r);
    int64_t e0;
    HL_TRY(hl_deep_trainer_resume(&t, &e0));
    for (int64_t e = e0; e < E; e++) {
        HL_TRY(hl_deep_hook_epoch(&t, w.B, &w.lab, n, e)); /* a defence's references from the codes B */
        /* Ω = m random positions (in draw order), Γ = the others in ascending order */
        hl_rng_permutation(&r, w.pos, n);
        memset(w.in_omega, 0, (size_t)n);
        for (int i = 0; i < m; i++) w.in_omega[w.pos[i]] = 1;
        for (int64_t i = 0, j = 0; i < n; i++)
            if (!w.in_omega[i]) w.gpos[j] = i, w.gidx[j] = idx[i], j++;
        hl_labels_free(&w.lab_o);
        HL_TRY(hl_labels_subset(&w.lab_o, &w.lab, w.pos, m));
        hl_deep_similarity(w.S, &w.lab, &w.lab_o);
        double rr = hl_deep_soft_similarity(w.S, n, m);
        for (int64_t j = 0; j < g; j++) {
            memcpy(w.Sg + j * m, w.S + w.gpos[j] * m, (size_t)m * sizeof *w.S);
            memcpy(w.Bg + j * c, w.B + w.gpos[j] * c, (size_t)c * sizeof *w.B);
        }
        for (int i = 0; i < m; i++) {
            memcpy(w.So + (int64_t)i * m, w.S + w.pos[i] * m, (size_t)m * sizeof *w.S);
            memcpy(w.Bo + (int64_t)i * c, w.B + w.pos[i] * c, (size_t)c * sizeof *w.B);
        }
        double loss = 0, fl = 0;
        int kept = 0;
        for (int64_t ti = 0; ti < Tin; ti++) {
            int64_t pass = e * Tin + ti;
            if (d->o.lr_schedule == HL_LR_LOGSPACE) { /* logspace(log10 lr, log10 lr − 2, T_out·T_in)[pass] */
                double total = (double)(E * Tin);
                hl_optim_set_lr(t.opt, (float)(d->o.lr * pow(0.01, total > 1 ? (double)pass / (total - 1) : 0)));
            } else {
                hl_deep_trainer_epoch(&t, e);
            }
            double t0 = hl_time_s(), t1;
            HL_TRY(discrete_coding(d, g, m, c, w.Sg, w.So, w.Bg, w.Bo, w.T, w.Gm, w.Q, w.p, w.z, w.prev, &kept));
            t1 = hl_time_s();
            HL_TRY(feature_pass(d, &t, train, &w, g, m, pass, &fl));
            loss = hl_ddsh_loss(w.Sg, w.Bg, g, w.So, w.Bo, m, c) / (double)n;
            hl_msg(HL_LOG_DEBUG, "ddsh %db: outer %lld inner %lld: r %.4f, relaxed Γ loss %.4f, L/n %.4f, %d bits "
                   "kept so far; coding %.3f s + features %.3f s", c, (long long)(e + 1), (long long)(ti + 1), rr,
                   fl / (double)n, loss, kept, t1 - t0, hl_time_s() - t1);
        }
        for (int64_t j = 0; j < g; j++) memcpy(w.B + w.gpos[j] * c, w.Bg + j * c, (size_t)c * sizeof *w.B);
        for (int i = 0; i < m; i++) memcpy(w.B + w.pos[i] * c, w.Bo + (int64_t)i * c, (size_t)c * sizeof *w.B);
        hl_code_diversity div = hl_code_diversity_of(w.B, n, c);
        hl_deep_log_epoch(self, e, E, loss, &div, &t);
        HL_TRY(hl_deep_trainer_epoch_end(&t, e));
    }
    HL_TRY(hl_deep_recalibrate_bn(self, &d->net, &d->o, train, idx, n));
done:
    hl_deep_trainer_end(&t);
    work_free(&w);
    return st;
}

static hl_tensor *ddsh_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    return hl_hashnet_forward(ctx, &((ddsh *)self)->net, x);
}

const hl_hasher_class hl_hasher_ddsh = {
    .abi = HL_HASHER_ABI,
    .name = "ddsh",
    .version = "2", /* 2: the step schedule's milestones are ⌈E/3⌉, ⌈2E/3⌉ (hashers/deep.c) */
    .summary = "DDSH (Jiang, Cui & Li, TIP'18): column sampling, bit-wise discrete coding of the sampled points' "
               "codes by a balanced BQP heuristic, deep features fitted to them",
    .cite = "@article{jiang2018ddsh,\n  author = {Qing-Yuan Jiang and Xue Cui and Wu-Jun Li},\n  title = {Deep Discrete Supervised Hashing},\n  journal = {IEEE Transactions on Image Processing},\n  volume = {27},\n  number = {12},\n  pages = {5996--6009},\n  year = {2018}\n}\n",
    .params = ddsh_params,
    .n_params = (int)HL_ARRAY_LEN(ddsh_params),
    .size = sizeof(ddsh),
    .flags = HL_HASHER_SUPERVISED | HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT | HL_HASHER_TRAINABLE |
             HL_HASHER_DEVICE,
    .init = ddsh_init,
    .fit = ddsh_fit,
    .forward = ddsh_forward,
};
