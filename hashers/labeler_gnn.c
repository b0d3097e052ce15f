/* hashers/labeler_gnn.c — `gnn`: progressive representative labelling with a graph neural network (after "Progressive
 * Representative Labeling for Deep Semi-Supervised Learning"; methods.md §14: only the abstract was readable —
 * directed kNN graph over all samples' features, representativeness = in-degree, a GNN trained on the labelled nodes
 * labels the most representative unlabelled nodes, which join the labelled set, progressively; everything below that
 * the abstract does not say is ours, [BEST-UNDERSTANDING]).
 *
 *   1. Features (ours): a frozen network trained briefly on the labelled images only — the host hasher's backbone
 *      (the suite's, cnn-small by default) + a linear embedding of `feature_dim` (64) units + ReLU + a linear
 *      classifier, trained `feature_epochs` (10) epochs with Adam (lr `feature_lr` 1e-3, batch 64, 2-pixel padded
 *      crops, flips for RGB) on softmax cross-entropy (single-label sets) or BCE (multi-label). The feature of an
 *      image is its embedding (before the ReLU) in eval mode, L2-normalised. Why not the hasher's own pretraining:
 *      every supervised hasher here trains from scratch, and a labeler that ran inside each hasher's fit would need
 *      each method's cooperation; one feature network for all keeps the labeler a step before any supervised fit.
 *      Why a 64-d embedding rather than the 512-d backbone features: the kNN graph over ~70,000 images costs
 *      n²·d multiply-adds (0.6 TFLOP at d = 64, 8× that at 512) and the GNN works on these features.
 *   2. Nodes: the labelled images, then the unlabelled ones — all of them, or a seeded random `pool` of them (default
 *      0 = all). Graph: directed kNN (k = `k`, 10) by cosine of the features (hashers/gnn.h), edge i → j when j is
 *      among i's k nearest. Representativeness: in-degree over all nodes' edges.
 *   3. Rounds r = 1..`rounds` (3): a fresh 2-layer GraphSAGE-mean network (hashers/gnn.h; `hidden` 64 units, ReLU)
 *      is trained full-batch for `epochs` (200) with Adam (lr `lr` 0.01, L2 weight decay `weight_decay` 5e-4) on the
 *      labelled nodes (true and earlier rounds' labels alike): mean softmax cross-entropy over those nodes, or mean
 *      BCE over nodes and labels for multi-label sets. Then the `per_round` (1000) unlabelled nodes not yet labelled
 *      with the largest in-degree (ties: lower dataset index) get the network's labels — the arg-max class, or for
 *      multi-label sets every label with probability > 0.5 (the most probable one when none is) — and join the
 *      labelled nodes. The graph and the features stay fixed over the rounds. With `min_confidence` τ > 0 (ours, off
 *      by default) only the unlabelled nodes whose prediction has confidence ≥ τ (hl_gnn_confidence: the largest
 *      softmax probability) are candidates, so the most representative among the CONFIDENT nodes are labelled and a
 *      round may label fewer than per_round. With `balance` (ours, off by default) each round first takes the
 *      ⌊per_round/C⌋ candidates of largest in-degree of every predicted class, then fills the round by in-degree:
 *      so every predicted class gets its share each round. `order: random` (ours, the
 *      control) replaces the in-degree by a seeded random priority: the same network labels random candidates.
 * Measured (suites/fashion_semi.yaml's protocol: Fashion-MNIST, 1,000 labels, 3 rounds × 1,000, host DPSH 32 bits 50
 * epochs at lr 1e-4, mAP@all; seed 0 unless said; the defaults label 88.7–91.9 % right, mAP 74.94 ± 0.15 over 3
 * seeds, DPSH alone 72.87 ± 0.59, DPSH 3,200 steps on the 1,000 alone 77.43 ± 0.52, with 4,000 TRUE labels 80.46 ±
 * 0.23): min_confidence 0.9 labels 97.1 % right, 0.97 99.6 % — yet 0.97 gives 72.09 ± 0.76 (3 seeds), no better than
 * DPSH alone (ADSH host: 75.54 ± 1.50 against 75.86 ± 0.46 alone); balance 75.35 (88.2 % right), balance + 0.9
 * 75.07 (94.4 %); order random 75.52 ± 0.39 (3 seeds, 82.4–83.9 % right), random + 0.9 74.28 (94.1 %). Random
 * images with TRUE labels help (+3.0 over the equal-steps control); the images this network labels confidently are
 * the easy ones, which add little, and the ones it is unsure of carry its errors: here neither its accuracy nor the
 * choice by in-degree limits it, but how much the images it can label right add.
 * Every draw is keyed by the seed (feature network: the host cell's seed; GNN of round r: stream + r), so a labeler
 * run is a pure function of (images, labelled set and its labels, unlabelled list, keys, seed). It keeps no state:
 * an interrupted cell runs it again.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/batch.h"
#include "core/job.h"
#include "core/nn/backbone.h"
#include "core/nn/init.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/tape.h"
#include "hashers/gnn.h"
#include "hashers/labeler.h"

#define GNN_STREAM_FEAT 0x4c42464541540000ull /* "LBFEAT" */
#define GNN_STREAM_POOL 0x4c42504f4f4c0000ull /* "LBPOOL" */
#define GNN_STREAM_NET 0x4c42474e4e000000ull  /* "LBGNN": + round */
#define GNN_STREAM_ORDER 0x4c424f5244000000ull /* "LBORD" */

static const hl_param_spec gnn_params[] = {
    {.name = "method", .type = HL_PARAM_STRING, .doc = "gnn"},
    {.name = "k", .type = HL_PARAM_INT, .def = "10", .range = "[1, 1000]", .doc = "neighbours per node of the kNN graph"},
    {.name = "rounds", .type = HL_PARAM_INT, .def = "3", .range = "[1, 100]", .doc = "labelling rounds"},
    {.name = "per_round", .type = HL_PARAM_INT, .def = "1000", .range = "[1, inf)",
     .doc = "unlabelled images labelled per round (the most representative: largest in-degree)"},
    {.name = "hidden", .type = HL_PARAM_INT, .def = "64", .range = "[1, 4096]", .doc = "GNN hidden units"},
    {.name = "epochs", .type = HL_PARAM_INT, .def = "200", .range = "[1, 100000]",
     .doc = "full-batch GNN training epochs per round"},
    {.name = "lr", .type = HL_PARAM_FLOAT, .def = "0.01", .range = "(0, 10]", .doc = "GNN Adam learning rate"},
    {.name = "weight_decay", .type = HL_PARAM_FLOAT, .def = "5e-4", .range = "[0, 1]", .doc = "GNN L2 weight decay"},
    {.name = "feature_epochs", .type = HL_PARAM_INT, .def = "10", .range = "[0, 10000]",
     .doc = "epochs of the feature network on the labelled images (0: the untrained network)"},
    {.name = "feature_dim", .type = HL_PARAM_INT, .def = "64", .range = "[2, 4096]", .doc = "feature (embedding) size"},
    {.name = "feature_lr", .type = HL_PARAM_FLOAT, .def = "1e-3", .range = "(0, 10]",
     .doc = "feature network Adam learning rate"},
    {.name = "feature_batch", .type = HL_PARAM_INT, .def = "64", .range = "[2, 65536]",
     .doc = "feature network mini-batch size"},
    {.name = "pool", .type = HL_PARAM_INT, .def = "0", .range = "[0, inf)",
     .doc = "unlabelled images in the graph: a seeded random subset of this size (0 = all)"},
    {.name = "min_confidence", .type = HL_PARAM_FLOAT, .def = "0", .range = "[0, 1)",
     .doc = "label only nodes whose GNN confidence (max softmax; multi-label: least certain label) is at least this "
            "(0 = every node; a round may then label fewer than per_round)",
     .key_omits_default = true},
    {.name = "order", .type = HL_PARAM_ENUM, .def = "indegree", .choices = "indegree|random",
     .doc = "which candidates a round labels first: indegree = the most representative (the method); random = a "
            "seeded random order (the control for the in-degree choice)",
     .key_omits_default = true},
    {.name = "balance", .type = HL_PARAM_BOOL, .def = "false",
     .doc = "take per_round/C images per predicted class (arg-max label) each round, the rest of the round by "
            "in-degree (false: the largest in-degrees whatever their class)",
     .key_omits_default = true},
};

typedef struct gnn_opts {
    int64_t k, rounds, per_round, hidden, epochs, feature_epochs, feature_dim, feature_batch, pool;
    double lr, wd, feature_lr, min_conf;
    bool balance, random_order;
} gnn_opts;

static hl_status read_opts(const hl_config *c, gnn_opts *o) {
    hl_status st = HL_OK;
    HL_TRY(hl_config_get_int(c, "k", &o->k));
    HL_TRY(hl_config_get_int(c, "rounds", &o->rounds));
    HL_TRY(hl_config_get_int(c, "per_round", &o->per_round));
    HL_TRY(hl_config_get_int(c, "hidden", &o->hidden));
    HL_TRY(hl_config_get_int(c, "epochs", &o->epochs));
    HL_TRY(hl_config_get_double(c, "lr", &o->lr));
    HL_TRY(hl_config_get_double(c, "weight_decay", &o->wd));
    HL_TRY(hl_config_get_int(c, "feature_epochs", &o->feature_epochs));
    HL_TRY(hl_config_get_int(c, "feature_dim", &o->feature_dim));
    HL_TRY(hl_config_get_double(c, "feature_lr", &o->feature_lr));
    HL_TRY(hl_config_get_int(c, "feature_batch", &o->feature_batch));
    HL_TRY(hl_config_get_int(c, "pool", &o->pool));
    HL_TRY(hl_config_get_double(c, "min_confidence", &o->min_conf));
    HL_TRY(hl_config_get_bool(c, "balance", &o->balance));
    const char *ord;
    HL_TRY(hl_config_get_string(c, "order", &ord));
    o->random_order = !strcmp(ord, "random");
done:
    return st;
}

/* Target row [L] of labelled position p: one-hot / multi-hot; for softmax a multi-hot row is normalised. */
static void target_row(const hl_labels *l, int64_t p, bool softmax, float *t) {
    int cnt = 0;
    for (int c = 0; c < l->nlabels; c++) cnt += (t[c] = hl_labels_has(l, p, c) ? 1.0f : 0.0f) > 0;
    if (softmax && cnt > 1)
        for (int c = 0; c < l->nlabels; c++) t[c] /= (float)cnt;
}

/* ---- 1. features ---- */

static hl_status features(const hl_labeler_input *in, const gnn_opts *o, const int64_t *nodes, int64_t n, float *E) {
    hl_status st = HL_OK;
    const hl_dataset *d = in->pixels;
    const int L = in->llabels->nlabels, D = (int)o->feature_dim;
    hl_params p;
    hl_backbone bb;
    hl_linear_layer emb, cls;
    hl_ctx *ctx = NULL;
    hl_optim *opt = NULL;
    hl_batcher bt = {0};
    int64_t *pos = NULL;
    float *T = NULL;
    hl_params_init(&p);
    HL_TRY(hl_backbone_init(&bb, &p, "backbone", in->backbone[0] ? in->backbone : "cnn-small", d->c, d->h, d->w));
    hl_linear_layer_init(&emb, &p, "embed", bb.features, D, true);
    hl_linear_layer_init(&cls, &p, "classify", D, L, true);
    HL_TRY(hl_params_alloc(&p));
    hl_rng r = hl_rng_make(in->seed, GNN_STREAM_FEAT);
    hl_backbone_reset(&bb, &r);
    hl_nn_init_default_linear(&emb, &r);
    hl_nn_init_default_linear(&cls, &r);
    HL_TRY(hl_ctx_create(&ctx, HL_DEVICE_CPU, 0));
    hl_ctx_set_seed(ctx, in->seed);
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    oc.lr = (float)o->feature_lr, oc.weight_decay = 1e-5f;
    HL_TRY(hl_optim_create(&opt, &p, &oc));
    pos = malloc((size_t)d->n * sizeof *pos);
    T = malloc((size_t)(o->feature_batch * L) * sizeof *T);
    if (!pos || !T) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for the feature network"));
    for (int64_t i = 0; i < in->nl; i++) pos[in->lidx[i]] = i;
    hl_batcher_opts bo = {.batch = o->feature_batch, .seed = in->seed ^ GNN_STREAM_FEAT, .shuffle = true,
                          .drop_single = true, .aug = {.crop_pad = 2, .hflip = d->c == 3}};
    HL_TRY(hl_batcher_init(&bt, d, in->lidx, in->nl, &bo));
    hl_ctx_set_train(ctx, true);
    for (int64_t e = 0; e < o->feature_epochs; e++) {
        hl_batcher_start(&bt, e);
        hl_batch b;
        while (hl_batcher_next(&bt, &b)) {
            HL_TRY(hl_job_check());
            for (int64_t i = 0; i < b.m; i++) target_row(in->llabels, pos[b.index[i]], in->single_label, T + i * L);
            hl_ctx_reset(ctx);
            hl_tensor *x = hl_tensor_from(ctx, 4, HL_SHAPE(b.m, d->c, d->h, d->w), b.images);
            hl_tensor *z = hl_linear_layer_forward(ctx, &cls,
                                                   hl_relu(ctx, hl_linear_layer_forward(ctx, &emb, hl_backbone_forward(ctx, &bb, x))));
            hl_tensor *t = hl_tensor_from(ctx, 2, HL_SHAPE(b.m, L), T);
            hl_tensor *loss = in->single_label ? hl_softmax_ce(ctx, z, t) : hl_bce_logits(ctx, z, t);
            if (!isfinite(loss->data[0]))
                HL_TRY(hl_error_set(HL_ENUMERIC, "feature network diverged at epoch %lld; lower feature_lr",
                                    (long long)e + 1));
            hl_backward(ctx, loss);
            hl_optim_step(opt);
            hl_optim_zero_grad(opt);
        }
    }
    /* embeddings of every node, eval mode, L2-normalised */
    hl_ctx_reset(ctx);
    hl_ctx_set_train(ctx, false);
    hl_no_grad_begin(ctx);
    for (int64_t i0 = 0; i0 < n; i0 += 256) {
        int64_t m = HL_MIN((int64_t)256, n - i0);
        hl_ctx_reset(ctx);
        hl_tensor *x = hl_tensor_new(ctx, 4, HL_SHAPE(m, d->c, d->h, d->w));
        hl_dataset_read(d, nodes + i0, m, x->data);
        hl_tensor *e = hl_linear_layer_forward(ctx, &emb, hl_backbone_forward(ctx, &bb, x));
        memcpy(E + i0 * D, e->data, (size_t)(m * D) * sizeof *E);
        if (i0 + m < n && (st = hl_job_check()) < 0) break;
    }
    hl_no_grad_end(ctx);
    HL_TRY(st);
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int c = 0; c < D; c++) s += (double)E[i * D + c] * E[i * D + c];
        float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (int c = 0; c < D; c++) E[i * D + c] *= inv;
    }
done:
    hl_batcher_free(&bt);
    hl_optim_free(opt);
    hl_ctx_free(ctx);
    hl_params_free(&p);
    free(pos), free(T);
    return st;
}

/* ---- 3. the GNN ---- */

typedef struct gnn_net {
    hl_params p;
    hl_tensor *ws1, *wn1, *b1, *ws2, *wn2, *b2;
    int din, hid, out;
    float *AX, *H1, *AH1, *Z, *dZ, *dH1, *scr; /* [n, din], [n, hid] ×2, [n, out] ×2, [n, hid], [n, hid] */
} gnn_net;

static void net_free(gnn_net *g) {
    hl_params_free(&g->p);
    free(g->AX), free(g->H1), free(g->AH1), free(g->Z), free(g->dZ), free(g->dH1), free(g->scr);
    memset(g, 0, sizeof *g);
}

static hl_status net_init(gnn_net *g, int64_t n, int din, int hid, int out, uint64_t seed, uint64_t stream) {
    memset(g, 0, sizeof *g);
    hl_params_init(&g->p);
    g->din = din, g->hid = hid, g->out = out;
    g->ws1 = hl_params_add(&g->p, "l1.w_self", 2, HL_SHAPE(din, hid));
    g->wn1 = hl_params_add(&g->p, "l1.w_neigh", 2, HL_SHAPE(din, hid));
    g->b1 = hl_params_add(&g->p, "l1.bias", 1, HL_SHAPE(hid));
    g->ws2 = hl_params_add(&g->p, "l2.w_self", 2, HL_SHAPE(hid, out));
    g->wn2 = hl_params_add(&g->p, "l2.w_neigh", 2, HL_SHAPE(hid, out));
    g->b2 = hl_params_add(&g->p, "l2.bias", 1, HL_SHAPE(out));
    hl_status st = hl_params_alloc(&g->p);
    if (st < 0) return st;
    hl_rng r = hl_rng_make(seed, stream); /* PyTorch's linear default: U(±1/√fan_in), bias zero here */
    float a1 = 1.0f / sqrtf((float)din), a2 = 1.0f / sqrtf((float)hid);
    hl_rng_uniform(&r, g->ws1->data, (int64_t)din * hid, -a1, a1);
    hl_rng_uniform(&r, g->wn1->data, (int64_t)din * hid, -a1, a1);
    hl_rng_uniform(&r, g->ws2->data, (int64_t)hid * out, -a2, a2);
    hl_rng_uniform(&r, g->wn2->data, (int64_t)hid * out, -a2, a2);
    g->AX = malloc((size_t)(n * din) * sizeof *g->AX);
    g->H1 = malloc((size_t)(n * hid) * sizeof *g->H1), g->AH1 = malloc((size_t)(n * hid) * sizeof *g->AH1);
    g->dH1 = malloc((size_t)(n * hid) * sizeof *g->dH1), g->scr = malloc((size_t)(n * hid) * sizeof *g->scr);
    g->Z = malloc((size_t)(n * out) * sizeof *g->Z), g->dZ = malloc((size_t)(n * out) * sizeof *g->dZ);
    if (!g->AX || !g->H1 || !g->AH1 || !g->dH1 || !g->scr || !g->Z || !g->dZ)
        return hl_error_set(HL_ENOMEM, "out of memory for the GNN over %lld nodes", (long long)n);
    return HL_OK;
}

static void net_forward(gnn_net *g, const hl_knn_graph *G, const float *X) {
    hl_gnn_layer_forward(G, X, g->din, g->hid, g->ws1->data, g->wn1->data, g->b1->data, true, g->AX, g->H1);
    hl_gnn_layer_forward(G, g->H1, g->hid, g->out, g->ws2->data, g->wn2->data, g->b2->data, false, g->AH1, g->Z);
}

/* Loss over the labelled nodes (lab[i] != 0) with targets T [n, out]; dZ = its gradient (0 on other rows). */
static double net_loss(gnn_net *g, int64_t n, const uint8_t *lab, const float *T, bool softmax) {
    const int C = g->out;
    int64_t nl = 0;
    double loss = 0;
    for (int64_t i = 0; i < n; i++) nl += lab[i] != 0;
    memset(g->dZ, 0, (size_t)(n * C) * sizeof *g->dZ);
    for (int64_t i = 0; i < n; i++) {
        if (!lab[i]) continue;
        const float *z = g->Z + i * C, *t = T + i * C;
        float *dz = g->dZ + i * C;
        if (softmax) { /* −Σ t log softmax(z); gradient (Σt) softmax(z) − t */
            double mx = z[0], se = 0, ts = 0;
            for (int c = 1; c < C; c++) mx = fmax(mx, z[c]);
            for (int c = 0; c < C; c++) se += exp(z[c] - mx), ts += t[c];
            double lse = mx + log(se);
            for (int c = 0; c < C; c++) {
                loss -= t[c] * (z[c] - lse);
                dz[c] = (float)((ts * exp(z[c] - lse) - t[c]) / (double)nl);
            }
        } else { /* mean over labels of softplus(z) − t z; gradient (σ(z) − t)/C */
            for (int c = 0; c < C; c++) {
                double x = z[c];
                loss += (log1p(exp(-fabs(x))) + fmax(x, 0.0) - t[c] * x) / C;
                dz[c] = (float)((1.0 / (1.0 + exp(-x)) - t[c]) / ((double)nl * C));
            }
        }
    }
    return loss / (double)HL_MAX(nl, 1);
}

static void net_backward(gnn_net *g, const hl_knn_graph *G, const float *X) {
    hl_gnn_layer_backward(G, g->H1, g->AH1, g->Z, g->hid, g->out, g->ws2->data, g->wn2->data, false, g->dZ,
                          g->ws2->grad, g->wn2->grad, g->b2->grad, g->dH1, g->scr);
    hl_gnn_layer_backward(G, X, g->AX, g->H1, g->din, g->hid, g->ws1->data, g->wn1->data, true, g->dH1,
                          g->ws1->grad, g->wn1->grad, g->b1->grad, NULL, NULL);
}

/* The first index of the largest of z [C]. */
static int argmax(const float *z, int C) {
    int best = 0;
    for (int c = 1; c < C; c++)
        if (z[c] > z[best]) best = c;
    return best;
}

/* The labels the trained network gives node i (its row of Z) into row `row` of out. */
static void predict(const gnn_net *g, int64_t i, bool single, hl_labels *out, int64_t row) {
    const float *z = g->Z + i * g->out;
    int best = argmax(z, g->out);
    bool any = false;
    for (int c = 0; !single && c < g->out; c++)
        if (z[c] > 0) hl_labels_set(out, row, c), any = true; /* σ(z) > 0.5 */
    if (!any) hl_labels_set(out, row, best);
}

/* `balance`: up to ⌊m/C⌋ candidates of largest in-degree per arg-max class of the network's prediction, then the
 * round's remaining slots from all remaining candidates by in-degree; into out, in that order. cand is consumed
 * (the chosen are cleared). Returns how many, or −1 with the error set. */
static int64_t select_balanced(const gnn_net *g, const int64_t *deg, uint8_t *cand, const int64_t *key, int64_t n,
                               int64_t m, int64_t *out) {
    const int C = g->out;
    uint8_t *cc = malloc((size_t)n);
    int *pred = malloc((size_t)n * sizeof *pred);
    if (!cc || !pred) {
        free(cc), free(pred);
        hl_error_set(HL_ENOMEM, "balanced selection: out of memory");
        return -1;
    }
    for (int64_t i = 0; i < n; i++) pred[i] = argmax(g->Z + i * C, C);
    int64_t got = 0, q = m / C;
    for (int c = 0; c < C && q > 0; c++) {
        for (int64_t i = 0; i < n; i++) cc[i] = cand[i] && pred[i] == c;
        int64_t k = hl_knn_select(deg, cc, key, n, q, out + got);
        if (k < 0) {
            free(cc), free(pred);
            return -1;
        }
        for (int64_t j = 0; j < k; j++) cand[out[got + j]] = 0;
        got += k;
    }
    free(cc), free(pred);
    int64_t k = hl_knn_select(deg, cand, key, n, m - got, out + got);
    return k < 0 ? -1 : got + k;
}

static hl_status gnn_run(const hl_config *cfg, const hl_labeler_input *in, hl_labeler_result *out) {
    hl_status st = HL_OK;
    gnn_opts o;
    gnn_net net = {0};
    hl_knn_graph G = {0};
    const int L = in->llabels->nlabels;
    int64_t *nodes = NULL, *deg = NULL, *sel = NULL, *perm = NULL, np, n;
    float *E = NULL, *T = NULL;
    uint8_t *lab = NULL, *cand = NULL;
    hl_optim *opt = NULL;
    char detail[160];
    HL_TRY(read_opts(cfg, &o));
    /* 2. nodes: labelled, then the unlabelled pool (ascending dataset order) */
    np = o.pool > 0 && o.pool < in->nu ? o.pool : in->nu;
    n = in->nl + np;
    nodes = malloc((size_t)n * sizeof *nodes);
    perm = malloc((size_t)(in->nu ? in->nu : 1) * sizeof *perm);
    if (!nodes || !perm) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld nodes", (long long)n));
    memcpy(nodes, in->lidx, (size_t)in->nl * sizeof *nodes);
    if (np < in->nu) {
        hl_rng r = hl_rng_make(in->seed, GNN_STREAM_POOL);
        hl_rng_permutation(&r, perm, in->nu);
        uint8_t *take = calloc((size_t)in->nu, 1);
        if (!take) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
        for (int64_t j = 0; j < np; j++) take[perm[j]] = 1;
        for (int64_t j = 0, m = 0; j < in->nu; j++)
            if (take[j]) nodes[in->nl + m++] = in->uidx[j];
        free(take);
    } else {
        memcpy(nodes + in->nl, in->uidx, (size_t)in->nu * sizeof *nodes);
    }
    if (n < 2 || np == 0) HL_TRY(hl_error_set(HL_EINVAL, "no unlabelled images to label (%lld nodes)", (long long)n));
    /* 1. features, then the graph */
    hl_job_progress("label", 0, o.rounds, "features");
    E = malloc((size_t)(n * o.feature_dim) * sizeof *E);
    if (!E) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld features", (long long)n));
    HL_TRY(features(in, &o, nodes, n, E));
    hl_job_progress("label", 0, o.rounds, "kNN graph");
    HL_TRY(hl_knn_graph_build(&G, E, n, (int)o.feature_dim, (int)o.k));
    HL_TRY(hl_job_check());
    deg = malloc((size_t)n * sizeof *deg), sel = malloc((size_t)HL_MAX(o.per_round, 1) * sizeof *sel);
    lab = calloc((size_t)n, 1), cand = malloc((size_t)n);
    T = calloc((size_t)(n * L), sizeof *T);
    int64_t total = HL_MIN(o.rounds * o.per_round, np);
    out->idx = malloc((size_t)HL_MAX(total, 1) * sizeof *out->idx);
    out->round_end = calloc((size_t)o.rounds, sizeof *out->round_end);
    if (!deg || !sel || !lab || !cand || !T || !out->idx || !out->round_end)
        HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld nodes", (long long)n));
    HL_TRY(hl_labels_create(&out->labels, HL_MAX(total, 1), L));
    out->labels.n = 0;
    out->rounds = (int)o.rounds;
    hl_knn_indegree(&G, deg);
    if (o.random_order) { /* the priority of a node: its place in a seeded permutation, in place of its in-degree */
        int64_t *perm_n = malloc((size_t)n * sizeof *perm_n);
        if (!perm_n) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld nodes", (long long)n));
        hl_rng ro = hl_rng_make(in->seed, GNN_STREAM_ORDER);
        hl_rng_permutation(&ro, perm_n, n);
        for (int64_t j = 0; j < n; j++) deg[perm_n[j]] = n - j;
        free(perm_n);
    }
    for (int64_t i = 0; i < in->nl; i++) lab[i] = 1, target_row(in->llabels, i, in->single_label, T + i * L);
    /* 3. rounds */
    for (int64_t r = 0; r < o.rounds; r++) {
        HL_TRY(net_init(&net, n, (int)o.feature_dim, (int)o.hidden, L, in->seed, GNN_STREAM_NET + (uint64_t)r));
        hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
        oc.lr = (float)o.lr, oc.weight_decay = (float)o.wd;
        HL_TRY(hl_optim_create(&opt, &net.p, &oc));
        double loss = 0;
        for (int64_t e = 0; e < o.epochs; e++) {
            HL_TRY(hl_job_check());
            net_forward(&net, &G, E);
            loss = net_loss(&net, n, lab, T, in->single_label);
            if (!isfinite(loss)) HL_TRY(hl_error_set(HL_ENUMERIC, "GNN diverged in round %lld; lower lr", (long long)r + 1));
            net_backward(&net, &G, E);
            hl_optim_step(opt);
            hl_optim_zero_grad(opt);
        }
        net_forward(&net, &G, E);
        int64_t open = 0, sure = 0;
        for (int64_t i = 0; i < n; i++) {
            cand[i] = !lab[i];
            open += cand[i];
            if (cand[i] && o.min_conf > 0)
                cand[i] = hl_gnn_confidence(net.Z + i * L, L, in->single_label) >= o.min_conf;
            sure += cand[i];
        }
        int64_t m = o.balance ? select_balanced(&net, deg, cand, nodes, n, o.per_round, sel)
                              : hl_knn_select(deg, cand, nodes, n, o.per_round, sel);
        if (m < 0) HL_TRY(hl_error_code());
        for (int64_t j = 0; j < m; j++) {
            int64_t i = sel[j], row = out->n++;
            out->labels.n = out->n;
            out->idx[row] = nodes[i];
            predict(&net, i, in->single_label, &out->labels, row);
            lab[i] = 1;
            target_row(&out->labels, row, in->single_label, T + i * L);
        }
        out->round_end[r] = out->n;
        if (o.min_conf > 0)
            snprintf(detail, sizeof detail, "round %lld: GNN loss %.4f, %lld of %lld unlabelled nodes confident, "
                     "%lld images labelled", (long long)r + 1, loss, (long long)sure, (long long)open,
                     (long long)out->n);
        else
            snprintf(detail, sizeof detail, "round %lld: GNN loss %.4f, %lld images labelled", (long long)r + 1, loss,
                     (long long)out->n);
        hl_msg(HL_LOG_INFO, "labeler gnn: %s", detail);
        hl_job_progress("label", r + 1, o.rounds, detail);
        hl_optim_free(opt);
        opt = NULL;
        net_free(&net);
    }
done:
    hl_optim_free(opt);
    net_free(&net);
    hl_knn_graph_free(&G);
    free(nodes), free(perm), free(deg), free(sel), free(E), free(T), free(lab), free(cand);
    return st;
}

const hl_labeler_class hl_labeler_gnn = {
    .name = "gnn",
    .summary = "progressive representative labelling: kNN graph of learned features, the unlabelled images of "
               "largest in-degree labelled by a 2-layer GraphSAGE network, round by round",
    .params = gnn_params,
    .n_params = (int)HL_ARRAY_LEN(gnn_params),
    .run = gnn_run,
};
