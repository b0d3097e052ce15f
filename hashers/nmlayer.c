/* hashers/nmlayer.c — NMLayer, Neurons Merging Layer (Fu, Song, Wu, Wang, He; IJCAI 2019, arXiv 1809.02302), on the
 * shared deep-hasher machinery (hashers/deep.h). No code of the authors could be found and the method section could
 * not be read (methods.md §3), so:
 *
 * FOLLOWS THE PAPER (methods.md §3.1, verified from the abstract and a review): a graph over the output neurons
 * (hash bits) whose edges encode redundancy; the graph is learned in alternating active and frozen phases;
 * redundant neurons are merged so the remaining bits are about equally important; progressive strategy: attach an
 * NMLayer after the hashing layer, train it with the network, truncate it (merge the neurons it groups), go on
 * training, repeat until the requested code length — from a long redundant code to a compact one.
 *
 * OUR RECONSTRUCTION (methods.md §3.2, [BEST-UNDERSTANDING]; the math is in hashers/nmlayer.h):
 *   - Code lengths: N_0 = start_bits (default 2K) down to K in `stages` equal steps (2K → 1.5K → K by default),
 *     N_s = N_0 − round((N_0 − K)·s/stages).
 *   - NMLayer over N neurons: adjacency A (cliques of the current groups, A_ii = 1), Â row-normalised, o = Â·h with
 *     h = tanh(W f + b); the network's output is the pre-activation W f + b, o and ∂L/∂(W f + b) are computed on the
 *     host and back-propagated with hl_deep_trainer_step.
 *   - Base loss on o: DPSH-style pairwise likelihood over the mini-batch (θ = ½ oᵀo, S = share a label), similar and
 *     dissimilar pairs weighted to half of the total each, plus η times the quantisation error ‖o − sign o‖² (the
 *     paper's base loss is not verified; the weighting is ours, see hashers/nmlayer.h).
 *   - Active phase, every `active_every` steps during the first 3/4 of a stage: importance of neuron i = increase of
 *     the base loss on the current batch when h_i is masked (running mean over the stage's active phases);
 *     redundancy = Pearson correlation of h over the batches seen (moments halved at every active phase); the graph
 *     is rebuilt by greedy agglomerative grouping (most correlated / least important first, hl_nml_group) with a
 *     target number of groups that ramps linearly from N_s to N_{s+1} over the first half of the stage. Frozen
 *     phase: the graph is kept and the network trains with the base loss.
 *   - Truncation at the end of a stage: each group becomes ONE neuron whose weight vector (and bias) is the sum of
 *     its members' — the merged pre-activation is Σ_{i∈G} (w_iᵀ f + b_i) — and the NMLayer is removed.
 *   - Epochs are split evenly over the stages plus a final phase that trains the K merged neurons alone (A = I, the
 *     plain base loss); a new optimizer (fresh moments) starts with each stage because merging changes the head's
 *     rows. The LR schedule runs over the global epoch count.
 *
 * Parameters and forward. The parameter set is fixed at init, so the training head "head" has N_0 = start_bits
 * units; merged neurons are written to its first rows and the rows beyond the current N are zeroed (they get no
 * gradient). A separate K-unit head "final" [K, F] is the hashing layer of the finished network: the forward is the
 * plain network backbone → final (no merge matrix, no extra op, so attacks see an ordinary K-bit hash network); fit
 * copies the K merged rows into it (before fit it holds the first K rows of "head", i.e. the untrained network).
 * Both heads are in the checkpoint, so a reloaded model gives the same codes.
 *
 * Defaults (ours): 48 epochs of batch 64 (16 per stage: 2K neurons, 1.5K, then K alone; ≈ 240k image-steps on
 * 5,000 training images), Adam lr 1e-3 with the shared step schedule, weight decay 1e-5, η = 0.01, an active phase
 * every 20 steps. Measured: synthetic 1×12×12, 4 classes, 400 items, 12 epochs of batch 16, 16 → 12 → 8 bits:
 * mAP@all 0.604 vs 0.257 untrained (tests/hashers/test_nmlayer.c); Fashion-MNIST, 5,000 train, 32 bits
 * (64 → 48 → 32), 1,000 queries vs 10,000 database items: mAP@all 0.414 after 3 epochs (one per stage), 0.591
 * after 12, 0.774 with the defaults (48 epochs; 3–4 s an epoch at 2 threads when the machine was quiet).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/kernels.h"
#include "hashers/deep.h"
#include "hashers/nmlayer.h"

/* ---- host math (hashers/nmlayer.h) ---- */

void hl_nml_normalise(const float *A, int N, float *Ahat) {
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < N; j++) s += A[i * N + j];
        for (int j = 0; j < N; j++) Ahat[i * N + j] = s > 0 ? (float)(A[i * N + j] / s) : 0.0f;
    }
}

void hl_nml_adjacency(const int *group, int N, float *A) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) A[i * N + j] = group[i] == group[j] ? 1.0f : 0.0f;
}

void hl_nml_apply(const float *Ahat, const float *h, int64_t B, int N, float *o) {
    for (int64_t b = 0; b < B; b++)
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int j = 0; j < N; j++) s += (double)Ahat[i * N + j] * h[b * N + j];
            o[b * N + i] = (float)s;
        }
}

static double softplus(double t) { return (t > 0 ? t : 0) + log1p(exp(-fabs(t))); }

double hl_nml_base_loss(const float *o, const float *S, int64_t B, int N, double eta, float *grad) {
    double lik = 0, quant = 0, qs = eta / ((double)B * N), nsim = 0;
    for (int64_t k = 0; k < B * B; k++) nsim += S[k] > 0.5f;
    /* pair weights: similar and dissimilar pairs carry half of the total weight each (all of it when one kind is
     * missing) */
    double ndis = (double)B * B - nsim;
    double ws = ndis > 0 ? 0.5 / nsim : 1.0 / nsim, wd = nsim > 0 ? 0.5 / ndis : 1.0 / ndis;
    if (grad) memset(grad, 0, (size_t)(B * N) * sizeof *grad);
    for (int64_t a = 0; a < B; a++)
        for (int64_t b = 0; b < B; b++) {
            double th = 0, w = S[a * B + b] > 0.5f ? ws : wd;
            for (int i = 0; i < N; i++) th += (double)o[a * N + i] * o[b * N + i];
            th *= 0.5;
            lik += w * (softplus(th) - S[a * B + b] * th);
            if (grad) { /* ∂/∂o_a of the (a, b) and (b, a) terms together: w (σ − S) o_b, accumulated per a */
                double g = (1.0 / (1.0 + exp(-th)) - S[a * B + b]) * w;
                for (int i = 0; i < N; i++) grad[a * N + i] += (float)(g * o[b * N + i]);
            }
        }
    for (int64_t k = 0; k < B * N; k++) {
        double d = o[k] - (o[k] >= 0 ? 1.0 : -1.0);
        quant += d * d;
        if (grad) grad[k] += (float)(2 * qs * d);
    }
    return lik + qs * quant;
}

double hl_nml_loss_z(const float *z, int64_t ld, const float *Ahat, const float *S, int64_t B, int N, double eta,
                     float *gz, float *o) {
    size_t bn = (size_t)(B * N);
    float *h = malloc(bn * sizeof *h), *oo = malloc(bn * sizeof *oo), *go = gz ? malloc(bn * sizeof *go) : NULL;
    double L = NAN;
    if (!h || !oo || (gz && !go)) goto done;
    for (int64_t b = 0; b < B; b++)
        for (int i = 0; i < N; i++) h[b * N + i] = tanhf(z[b * ld + i]);
    hl_nml_apply(Ahat, h, B, N, oo);
    L = hl_nml_base_loss(oo, S, B, N, eta, go);
    if (o) memcpy(o, oo, bn * sizeof *o);
    if (gz) {
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < ld; j++) {
                double s = 0;
                if (j < N) {
                    for (int i = 0; i < N; i++) s += (double)Ahat[i * N + j] * go[b * N + i]; /* Âᵀ go */
                    s *= 1.0 - (double)h[b * N + j] * h[b * N + j];
                }
                gz[b * ld + j] = (float)s;
            }
    }
done:
    free(h), free(oo), free(go);
    return L;
}

void hl_nml_importance(const float *h, const float *Ahat, const float *S, int64_t B, int N, double eta, double *imp) {
    size_t bn = (size_t)(B * N);
    float *o = calloc(bn, sizeof *o), *om = calloc(bn, sizeof *om);
    if (!o || !om) {
        for (int i = 0; i < N; i++) imp[i] = 0;
        goto done;
    }
    hl_nml_apply(Ahat, h, B, N, o);
    double L0 = hl_nml_base_loss(o, S, B, N, eta, NULL);
    for (int j = 0; j < N; j++) { /* masking h_j removes Â[:, j] h_j from every o_b */
        for (int64_t b = 0; b < B; b++)
            for (int i = 0; i < N; i++) om[b * N + i] = o[b * N + i] - Ahat[i * N + j] * h[b * N + j];
        imp[j] = hl_nml_base_loss(om, S, B, N, eta, NULL) - L0;
    }
done:
    free(o), free(om);
}

void hl_nml_moments_add(double *s, double *ss, const float *h, int64_t B, int N) {
    for (int64_t b = 0; b < B; b++) {
        const float *r = h + b * N;
        for (int i = 0; i < N; i++) {
            s[i] += r[i];
            for (int j = 0; j < N; j++) ss[i * N + j] += (double)r[i] * r[j];
        }
    }
}

void hl_nml_correlation(const double *s, const double *ss, double n, int N, double *rho) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double r = 0;
            if (n > 1) {
                double mi = s[i] / n, mj = s[j] / n;
                double c = ss[i * N + j] / n - mi * mj;
                double vi = ss[i * N + i] / n - mi * mi, vj = ss[j * N + j] / n - mj * mj;
                if (vi > 1e-12 && vj > 1e-12) r = c / sqrt(vi * vj);
            }
            rho[i * N + j] = i == j ? 1.0 : fmax(-1.0, fmin(1.0, r));
        }
}

int hl_nml_group(const double *rho, const double *imp, int N, int target, int *group) {
    if (target < 1) target = 1;
    if (target > N) target = N;
    double *R = malloc((size_t)N * N * sizeof *R), *iota = malloc((size_t)N * sizeof *iota), tot = 0;
    int *size = malloc((size_t)N * sizeof *size), *root = malloc((size_t)N * sizeof *root), G = N;
    if (!R || !iota || !size || !root) { /* out of memory: leave every neuron alone */
        for (int i = 0; i < N; i++) group[i] = i;
        G = N;
        goto done;
    }
    for (int i = 0; i < N; i++) tot += imp ? fmax(imp[i], 0.0) : 0.0;
    for (int i = 0; i < N; i++) {
        iota[i] = tot > 0 ? fmax(imp[i], 0.0) / tot : 1.0 / N;
        size[i] = 1, root[i] = i;
        for (int j = 0; j < N; j++) R[i * N + j] = fmax(rho[i * N + j], 0.0); /* R[a][b]: Σ ρ⁺ over member pairs */
    }
    /* groups are represented by their smallest member (root[i] == i for live groups) */
    for (; G > target; G--) {
        int ba = -1, bb = -1;
        double best = -INFINITY;
        for (int a = 0; a < N; a++) {
            if (root[a] != a) continue;
            for (int b = a + 1; b < N; b++) {
                if (root[b] != b) continue;
                double sc = R[a * N + b] / ((double)size[a] * size[b]) -
                            HL_NML_LAMBDA * target * 0.5 * (iota[a] + iota[b]);
                if (sc > best) best = sc, ba = a, bb = b;
            }
        }
        for (int c = 0; c < N; c++) { /* fold b into a */
            R[ba * N + c] += R[bb * N + c];
            R[c * N + ba] = R[ba * N + c];
        }
        size[ba] += size[bb], iota[ba] += iota[bb];
        for (int i = 0; i < N; i++)
            if (root[i] == bb) root[i] = ba;
    }
    for (int i = 0, g = 0; i < N; i++)
        if (root[i] == i) size[i] = g++; /* reuse size[] as the id of each live root */
    for (int i = 0; i < N; i++) group[i] = size[root[i]];
done:
    free(R), free(iota), free(size), free(root);
    return G;
}

void hl_nml_merge_rows(const float *W, const float *b, int N, int64_t F, const int *group, int G, float *Wout,
                       float *bout) {
    memset(Wout, 0, (size_t)(G * F) * sizeof *Wout);
    if (b && bout) memset(bout, 0, (size_t)G * sizeof *bout);
    for (int i = 0; i < N; i++) {
        for (int64_t k = 0; k < F; k++) Wout[group[i] * F + k] += W[i * F + k];
        if (b && bout) bout[group[i]] += b[i];
    }
}

int hl_nml_stage_bits(int start, int K, int stages, int s) {
    if (stages < 1 || s >= stages) return K;
    if (s <= 0) return start;
    return start - (int)lround((double)(start - K) * s / stages);
}

/* ---- the class ---- */

typedef struct nmlayer {
    hl_hasher base;
    hl_deep_opts o;
    hl_hashnet net;        /* backbone + training head "head" [N0, F] (after fit: rows 0..K-1 merged, rest 0) */
    hl_linear_layer final; /* "final" [K, F]: the hashing layer of the finished network (forward) */
    int start, stages, active_every;
    double eta;
} nmlayer;

static const hl_param_spec nml_params[] = {
    HL_DEEP_PARAMS("48", "64", "1e-3", "adam", "1e-5"),
    {.name = "start_bits", .type = HL_PARAM_INT, .def = "0", .range = "[0, 8192]",
     .doc = "long code the progressive reduction starts from (0 = 2·bits); must be >= bits"},
    {.name = "stages", .type = HL_PARAM_INT, .def = "2", .range = "[1, 64]",
     .doc = "NMLayers, one per reduction (2: 2K -> 1.5K -> K); epochs split evenly over stages + a final phase"},
    {.name = "active_every", .type = HL_PARAM_INT, .def = "20", .range = "[1, 1000000]",
     .doc = "optimizer steps between active phases (importance + redundancy -> new graph); frozen in between"},
    {.name = "eta", .type = HL_PARAM_FLOAT, .def = "0.01", .range = "[0, 1000]",
     .doc = "weight of the quantisation term of the base loss (ours: class-balanced DPSH-style likelihood)"},
};

static hl_status nml_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                          uint64_t seed) {
    hl_status st = HL_OK;
    nmlayer *m = (nmlayer *)self;
    int64_t v;
    HL_TRY(hl_deep_opts_read(&m->o, cfg));
    HL_TRY(hl_config_get_int(cfg, "start_bits", &v));
    m->start = v ? (int)v : 2 * bits;
    HL_TRY(hl_config_get_int(cfg, "stages", &v));
    m->stages = (int)v;
    HL_TRY(hl_config_get_int(cfg, "active_every", &v));
    m->active_every = (int)v;
    HL_TRY(hl_config_get_double(cfg, "eta", &m->eta));
    if (m->start < bits)
        HL_TRY(hl_error_set(HL_EINVAL, "nmlayer: start_bits %d is below bits %d (it must start from a longer code)",
                            m->start, bits));
    HL_TRY(hl_hashnet_declare(&m->net, &self->params, &m->o, info, m->start));
    hl_linear_layer_init(&m->final, &self->params, "final", m->net.bb.features, bits, true);
    HL_TRY(hl_params_alloc(&self->params));
    HL_TRY(hl_hashnet_init_values(&m->net, &self->params, &m->o, seed));
    /* untrained network: its K-unit head is the first K neurons of the training head */
    const hl_kern_base *k = hl_params_kernels(&self->params)->base; /* the first `bits` rows of the head */
    k->copy((int64_t)bits * m->net.bb.features, m->net.head.w->data, m->final.w->data);
    k->copy(bits, m->net.head.b->data, m->final.b->data);
done:
    return st;
}

static hl_tensor *nml_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    nmlayer *m = (nmlayer *)self;
    return hl_linear_layer_forward(ctx, &m->final, hl_backbone_forward(ctx, &m->net.bb, x));
}

/* State of one stage's NMLayer over N neurons. */
typedef struct nml_stage {
    int N, target, G;
    int *group;          /* [N] */
    float *A, *Ahat;     /* [N, N] */
    double *s, *ss, *rho; /* moments of h [N], [N, N] and the correlation [N, N] */
    double *imp;         /* [N] importance (running mean over active phases) */
    double nmom;         /* (decayed) sample count of the moments */
    int64_t nimp;
} nml_stage;

/* What a resumed fit needs besides the stage's arrays: where it stopped, and the stage's scalars. */
typedef struct nml_pos {
    int64_t seg, e_done, epoch, step, N;
} nml_pos;
typedef struct nml_saved {
    int N, target, G;
    double nmom;
    int64_t nimp;
} nml_saved;

/* Redundancy graph for `target` groups from the current statistics (active phase; also at truncation). */
static void stage_regroup(nml_stage *g, int target) {
    hl_nml_correlation(g->s, g->ss, g->nmom, g->N, g->rho);
    g->G = hl_nml_group(g->rho, g->nimp ? g->imp : NULL, g->N, target, g->group);
    hl_nml_adjacency(g->group, g->N, g->A);
    hl_nml_normalise(g->A, g->N, g->Ahat);
    for (int i = 0; i < g->N; i++) g->s[i] *= 0.5; /* older batches count half at each active phase */
    for (int i = 0; i < g->N * g->N; i++) g->ss[i] *= 0.5;
    g->nmom *= 0.5;
}

/* "{0 5} {3 7 9} + 12 single" into buf. */
static void groups_str(const int *group, int N, int G, char *buf, size_t cap) {
    size_t len = 0;
    int single = 0;
    buf[0] = 0;
    for (int g = 0; g < G; g++) {
        int cnt = 0;
        for (int i = 0; i < N; i++) cnt += group[i] == g;
        if (cnt < 2) {
            single++;
            continue;
        }
        for (int i = 0, k = 0; i < N && len + 16 < cap; i++)
            if (group[i] == g) len += (size_t)snprintf(buf + len, cap - len, "%s%d", k++ ? " " : "{", i);
        if (len + 16 < cap) len += (size_t)snprintf(buf + len, cap - len, "} ");
    }
    if (len + 32 < cap) snprintf(buf + len, cap - len, "+ %d single", single);
}

static hl_status nml_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    (void)labels;
    hl_status st = HL_OK;
    nmlayer *m = (nmlayer *)self;
    const int K = self->bits, N0 = m->start, F = m->net.bb.features, segs = m->stages + 1;
    const int64_t E = m->o.epochs;
    hl_batcher bt = {0};
    hl_deep_trainer t = {0};
    bool training = false;
    nml_stage g = {0};
    int64_t Bmax = m->o.batch, epoch = 0;
    float *S = malloc((size_t)(Bmax * Bmax) * sizeof *S), *G = malloc((size_t)(Bmax * N0) * sizeof *G);
    float *h = malloc((size_t)(Bmax * N0) * sizeof *h), *o = malloc((size_t)(Bmax * N0) * sizeof *o);
    float *U = malloc((size_t)(n * N0) * sizeof *U), *Wm = malloc((size_t)N0 * F * sizeof *Wm);
    float *bm = malloc((size_t)N0 * sizeof *bm);
    float *W = malloc((size_t)N0 * F * sizeof *W), *b = malloc((size_t)N0 * sizeof *b); /* host copies of the head */
    g.group = malloc((size_t)N0 * sizeof *g.group), g.imp = malloc((size_t)N0 * sizeof *g.imp);
    g.A = malloc((size_t)N0 * N0 * sizeof *g.A), g.Ahat = malloc((size_t)N0 * N0 * sizeof *g.Ahat);
    g.s = malloc((size_t)N0 * sizeof *g.s), g.ss = malloc((size_t)N0 * N0 * sizeof *g.ss);
    g.rho = malloc((size_t)N0 * N0 * sizeof *g.rho);
    if (!S || !G || !h || !o || !U || !Wm || !bm || !W || !b || !g.group || !g.imp || !g.A || !g.Ahat || !g.s || !g.ss || !g.rho)
        HL_TRY(hl_error_set(HL_ENOMEM, "nmlayer: out of memory for %lld training codes of %d bits", (long long)n, N0));
    if (E == 0) goto done; /* the untrained network */
    hl_batcher_opts bo = hl_deep_batcher_opts(self, &m->o);
    HL_TRY(hl_batcher_init(&bt, train, idx, n, &bo));
    const int64_t nb = hl_batcher_count(&bt);
    hl_params_set_requires_grad_prefix(&self->params, "final.", false);
    int N = N0;
    /* Resumable: the position (stage, its epochs done, the global epoch, the stage's step count, N) and the stage's
     * statistics are saved with the model after every epoch; a resumed fit jumps to that stage (the earlier stages'
     * merges are in the saved weights) without redoing its set-up. */
    nml_pos pos = {0};
    nml_saved gs = {0};
    bool checked = false;
    for (int seg = 0; seg < segs; seg++) {
        int64_t ep = E / segs + (seg < E % segs), steps = ep * nb, e_start = 0;
        g.N = N, g.target = seg < m->stages ? hl_nml_stage_bits(N0, K, m->stages, seg + 1) : N;
        g.nmom = 0, g.nimp = 0;
        memset(g.s, 0, (size_t)N * sizeof *g.s), memset(g.ss, 0, (size_t)N * N * sizeof *g.ss);
        memset(g.imp, 0, (size_t)N * sizeof *g.imp);
        for (int i = 0; i < N; i++) g.group[i] = i;
        g.G = N;
        hl_nml_adjacency(g.group, N, g.A);
        hl_nml_normalise(g.A, N, g.Ahat);
        HL_TRY(hl_deep_trainer_begin(&t, self, &m->o));
        training = true;
        int64_t step = 0;
        hl_train_state_blob(&t.state, "pos", &pos, sizeof pos);
        hl_train_state_blob(&t.state, "stage", &gs, sizeof gs);
        hl_train_state_blob(&t.state, "group", g.group, (size_t)N0 * sizeof *g.group);
        hl_train_state_blob(&t.state, "imp", g.imp, (size_t)N0 * sizeof *g.imp);
        hl_train_state_blob(&t.state, "s", g.s, (size_t)N0 * sizeof *g.s);
        hl_train_state_blob(&t.state, "ss", g.ss, (size_t)N0 * N0 * sizeof *g.ss);
        hl_train_state_blob(&t.state, "A", g.A, (size_t)N0 * N0 * sizeof *g.A);
        hl_train_state_blob(&t.state, "Ahat", g.Ahat, (size_t)N0 * N0 * sizeof *g.Ahat);
        if (!checked) {
            int64_t done_epochs = 0;
            checked = true;
            HL_TRY(hl_deep_trainer_resume(&t, &done_epochs));
            if (done_epochs > 0) {
                seg = (int)pos.seg, N = (int)pos.N, e_start = pos.e_done, epoch = pos.epoch, step = pos.step;
                g.N = gs.N, g.target = gs.target, g.G = gs.G, g.nmom = gs.nmom, g.nimp = gs.nimp;
                ep = E / segs + (seg < E % segs), steps = ep * nb;
            }
        }
        for (int64_t e = e_start; e < ep; e++, epoch++) {
            hl_deep_trainer_epoch(&t, epoch);
            hl_batcher_start(&bt, epoch);
            hl_batch bat;
            double lsum = 0;
            int64_t seen = 0;
            while (hl_batcher_next(&bt, &bat)) {
                const int64_t B = bat.m;
                hl_ctx_reset(t.ctx);
                hl_tensor *x = hl_tensor_from(t.ctx, 4, HL_SHAPE(B, train->c, train->h, train->w), bat.images);
                hl_tensor *z = hl_hashnet_forward(t.ctx, &m->net, x); /* [B, N0]; columns >= N are unused */
                hl_deep_similarity(S, bat.labels, bat.labels);
                const float *zh = hl_tensor_host(t.ctx, z);
                double L = hl_nml_loss_z(zh, N0, g.Ahat, S, B, N, m->eta, G, o);
                if (!isfinite(L))
                    HL_TRY(hl_error_set(HL_ENUMERIC, "nmlayer diverged at epoch %lld (loss %g); lower lr",
                                        (long long)epoch + 1, L));
                for (int64_t r = 0; r < B; r++)
                    for (int i = 0; i < N; i++) h[r * N + i] = tanhf(zh[r * N0 + i]);
                HL_TRY(hl_deep_trainer_step(&t, z, G));
                memcpy(U + seen * N, o, (size_t)(B * N) * sizeof *U);
                lsum += L * (double)B, seen += B, step++;
                hl_nml_moments_add(g.s, g.ss, h, B, N);
                g.nmom += (double)B;
                /* active phase: in the first 3/4 of the stage, the number of groups ramps down to the target over
                 * the first half; frozen phase otherwise */
                if (g.target < N && step % m->active_every == 0 && 4 * step <= 3 * steps) {
                    double *d = g.rho; /* scratch [N] for this batch's importance */
                    hl_nml_importance(h, g.Ahat, S, B, N, m->eta, d);
                    for (int i = 0; i < N; i++) g.imp[i] = (g.imp[i] * (double)g.nimp + d[i]) / (double)(g.nimp + 1);
                    g.nimp++;
                    double ramp = HL_MIN(1.0, 2.0 * (double)step / (double)steps);
                    stage_regroup(&g, N - (int)lround((N - g.target) * ramp));
                }
            }
            hl_code_diversity div = hl_code_diversity_of(U, seen, N);
            hl_deep_log_epoch(self, epoch, E, lsum / (double)HL_MAX(seen, 1), &div, &t);
            pos = (nml_pos){.seg = seg, .e_done = e + 1, .epoch = epoch + 1, .step = step, .N = N};
            gs = (nml_saved){.N = g.N, .target = g.target, .G = g.G, .nmom = g.nmom, .nimp = g.nimp};
            HL_TRY(hl_deep_trainer_epoch_end(&t, epoch));
        }
        hl_deep_trainer_end(&t);
        training = false;
        if (g.target >= N) continue;
        /* truncation: the groups of the final graph become single neurons (weights and biases summed) */
        if (g.G != g.target) stage_regroup(&g, g.target);
        hl_tensor_download(m->net.head.w, W), hl_tensor_download(m->net.head.b, b);
        hl_nml_merge_rows(W, b, N, F, g.group, g.G, Wm, bm);
        memcpy(W, Wm, (size_t)g.G * F * sizeof *W), memcpy(b, bm, (size_t)g.G * sizeof *b);
        memset(W + (size_t)g.G * F, 0, (size_t)(N0 - g.G) * F * sizeof *W);
        memset(b + g.G, 0, (size_t)(N0 - g.G) * sizeof *b);
        hl_tensor_upload(m->net.head.w, W), hl_tensor_upload(m->net.head.b, b);
        char buf[1024];
        groups_str(g.group, N, g.G, buf, sizeof buf);
        hl_msg(HL_LOG_INFO, "nmlayer %db: stage %d: %d -> %d neurons, groups %s", K, seg + 1, N, g.G, buf);
        N = g.G;
    }
    HL_ASSERT(N == K, "nmlayer: ended with %d neurons, not %d", N, K);
    hl_tensor_download(m->net.head.w, W), hl_tensor_download(m->net.head.b, b);
    hl_tensor_upload(m->final.w, W), hl_tensor_upload(m->final.b, b); /* the first K rows: final is [K, F] */
    HL_TRY(hl_deep_recalibrate_bn(self, &m->net, &m->o, train, idx, n));
done:
    if (training) hl_deep_trainer_end(&t);
    hl_params_set_requires_grad_prefix(&self->params, "final.", true);
    hl_batcher_free(&bt);
    free(S), free(G), free(h), free(o), free(U), free(Wm), free(bm), free(W), free(b);
    free(g.group), free(g.imp), free(g.A), free(g.Ahat), free(g.s), free(g.ss), free(g.rho);
    return st;
}

const hl_hasher_class hl_hasher_nmlayer = {
    .abi = HL_HASHER_ABI,
    .name = "nmlayer",
    .version = "2", /* 2: the step schedule's milestones are ⌈E/3⌉, ⌈2E/3⌉ (hashers/deep.c) */
    .summary = "NMLayer (Fu et al., IJCAI'19): progressive merging of redundant hash neurons from a long code to K "
               "bits (merge rule and base loss reconstructed)",
    .cite = "@inproceedings{fu2019nmlayer,\n  author = {Chaoyou Fu and Liangchen Song and Xiang Wu and Guoli Wang and Ran He},\n  title = {Neurons Merging Layer: Towards Progressive Redundancy Reduction for Deep Supervised Hashing},\n  booktitle = {Proceedings of the Twenty-Eighth International Joint Conference on Artificial Intelligence (IJCAI)},\n  year = {2019}\n}\n",
    .params = nml_params,
    .n_params = (int)HL_ARRAY_LEN(nml_params),
    .size = sizeof(nmlayer),
    .flags = HL_HASHER_SUPERVISED | HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT | HL_HASHER_DEVICE,
    .init = nml_init,
    .fit = nml_fit,
    .forward = nml_forward,
};
