/* tests/hashers/test_labeler.c — the GNN labeler's pieces and its contract: the kNN graph and in-degree selection on
 * hand-built cases, the GraphSAGE-mean layer forward on a hand case and its backward against central differences,
 * the labeler never reading the hidden labels (poisoned hidden labels change nothing; a labelled dataset is refused),
 * and the enlarged labelled set the host hasher trains on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "hashers/gnn.h"
#include "hashers/labeler.h"
#include "test_hashers.h"

Test(labeler, knn_graph_on_hand_placed_points) {
    /* unit vectors at angles 0°, 10°, 30°, 90°, 100°, 180° (2-d); cosines decide the neighbours */
    const double deg[6] = {0, 10, 30, 90, 100, 180};
    float F[12];
    const double rad = 3.14159265358979323846 / 180;
    for (int i = 0; i < 6; i++) {
        F[2 * i] = (float)cos(deg[i] * rad);
        F[2 * i + 1] = (float)sin(deg[i] * rad);
    }
    hl_knn_graph g;
    cr_assert_eq(hl_knn_graph_build(&g, F, 6, 2, 2), HL_OK, "%s", hl_error_last());
    const int32_t want[6][2] = {{1, 2}, {0, 2}, {1, 0}, {4, 2}, {3, 2}, {4, 3}};
    for (int i = 0; i < 6; i++)
        for (int t = 0; t < 2; t++)
            cr_assert_eq(g.nbr[i * 2 + t], want[i][t], "node %d neighbour %d: %d, want %d", i, t, g.nbr[i * 2 + t],
                         want[i][t]);
    int64_t in[6];
    hl_knn_indegree(&g, in);
    const int64_t want_in[6] = {2, 2, 4, 2, 2, 0};
    for (int i = 0; i < 6; i++) cr_assert_eq(in[i], want_in[i], "in-degree of %d", i);
    hl_knn_graph_free(&g);
    /* ties go to the lower index: four identical points, k = 2 → every node points at the two lowest others */
    float same[8] = {1, 0, 1, 0, 1, 0, 1, 0};
    cr_assert_eq(hl_knn_graph_build(&g, same, 4, 2, 2), HL_OK);
    const int32_t tie[4][2] = {{1, 2}, {0, 2}, {0, 1}, {0, 1}};
    for (int i = 0; i < 4; i++) cr_assert(g.nbr[2 * i] == tie[i][0] && g.nbr[2 * i + 1] == tie[i][1], "node %d", i);
    /* k larger than n − 1 is cut to n − 1 */
    hl_knn_graph_free(&g);
    cr_assert_eq(hl_knn_graph_build(&g, same, 4, 2, 9), HL_OK);
    cr_assert_eq(g.k, 3);
    hl_knn_graph_free(&g);
    cr_assert_eq(hl_knn_graph_build(&g, same, 1, 2, 1), HL_EINVAL);
}

Test(labeler, in_degree_selection_on_a_hand_built_graph) {
    /* 7 nodes, k = 2, edges written by hand */
    int32_t nbr[14] = {1, 2, /* 0 */ 2, 3, /* 1 */ 1, 3, /* 2 */ 2, 1, /* 3 */ 5, 6, /* 4 */ 6, 4, /* 5 */ 5, 4 /* 6 */};
    hl_knn_graph g = {.n = 7, .k = 2, .nbr = nbr};
    int64_t deg[7];
    hl_knn_indegree(&g, deg);
    const int64_t want[7] = {0, 3, 3, 2, 2, 2, 2};
    for (int i = 0; i < 7; i++) cr_assert_eq(deg[i], want[i], "in-degree of %d: %lld", i, (long long)deg[i]);
    /* keys = dataset indices (not in node order): the ties 1/2 and 3/4/5/6 are broken by key */
    const int64_t key[7] = {50, 40, 30, 21, 20, 23, 22};
    uint8_t cand[7] = {1, 1, 1, 1, 1, 1, 1};
    int64_t out[7];
    cr_assert_eq(hl_knn_select(deg, cand, key, 7, 7, out), 7);
    const int64_t order[7] = {2, 1, 4, 3, 6, 5, 0};
    for (int i = 0; i < 7; i++) cr_assert_eq(out[i], order[i], "rank %d: node %lld, want %lld", i, (long long)out[i],
                                             (long long)order[i]);
    /* labelled nodes are not candidates; m cuts the list */
    cand[2] = cand[4] = 0;
    cr_assert_eq(hl_knn_select(deg, cand, key, 7, 3, out), 3);
    cr_assert(out[0] == 1 && out[1] == 3 && out[2] == 6, "%lld %lld %lld", (long long)out[0], (long long)out[1],
              (long long)out[2]);
    memset(cand, 0, sizeof cand);
    cr_assert_eq(hl_knn_select(deg, cand, key, 7, 3, out), 0);
}

Test(labeler, graphsage_layer_forward_by_hand) {
    /* 3 nodes in a cycle 0 → 1 → 2 → 0 (k = 1), one feature H = [1, 2, 3]: A H = [2, 3, 1].
     * W_s = 2, W_n = −1, b = −1: P = 2H − AH − 1 = [−1, 0, 4]; relu: [0, 0, 4]. */
    int32_t nbr[3] = {1, 2, 0};
    hl_knn_graph g = {.n = 3, .k = 1, .nbr = nbr};
    const float H[3] = {1, 2, 3}, Ws[1] = {2}, Wn[1] = {-1}, b[1] = {-1};
    float AH[3], Y[3];
    hl_gnn_layer_forward(&g, H, 1, 1, Ws, Wn, b, true, AH, Y);
    cr_assert(AH[0] == 2 && AH[1] == 3 && AH[2] == 1);
    cr_assert(Y[0] == 0 && Y[1] == 0 && Y[2] == 4, "%g %g %g", Y[0], Y[1], Y[2]);
    hl_gnn_layer_forward(&g, H, 1, 1, Ws, Wn, b, false, AH, Y);
    cr_assert(Y[0] == -1 && Y[1] == 0 && Y[2] == 4);
    /* two inputs, two outputs, k = 2 on 3 nodes: node i's neighbours are the other two; W [din, dout] row-major */
    int32_t nb2[6] = {1, 2, 0, 2, 0, 1};
    hl_knn_graph g2 = {.n = 3, .k = 2, .nbr = nb2};
    const float H2[6] = {1, 0, 0, 1, 1, 1}, Ws2[4] = {1, 2, 3, 4}, Wn2[4] = {0, 1, 1, 0}, b2[2] = {0.5f, 0};
    float AH2[6], Y2[6];
    hl_gnn_layer_forward(&g2, H2, 2, 2, Ws2, Wn2, b2, false, AH2, Y2);
    /* AH: node 0 = mean(H1, H2) = (0.5, 1); node 1 = (1, 0.5); node 2 = (0.5, 0.5).
     * Y_i = H_i Ws + AH_i Wn + b: node 0: (1, 2) + (1, 0.5) + (0.5, 0) = (2.5, 2.5);
     * node 1: (3, 4) + (0.5, 1) + (0.5, 0) = (4, 5); node 2: (4, 6) + (0.5, 0.5) + (0.5, 0) = (5, 6.5). */
    const float want[6] = {2.5f, 2.5f, 4, 5, 5, 6.5f};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(Y2[i], want[i], 1e-6, "Y[%d] = %g", i, Y2[i]);
}

/* L = Σ c ⊙ Y for fixed c: dL/dY = c. */
static double layer_loss(const hl_knn_graph *g, const float *H, int din, int dout, const float *Ws, const float *Wn,
                         const float *b, const float *c, float *AH, float *Y) {
    hl_gnn_layer_forward(g, H, din, dout, Ws, Wn, b, true, AH, Y);
    double L = 0;
    for (int64_t i = 0; i < g->n * dout; i++) L += (double)c[i] * Y[i];
    return L;
}

Test(labeler, graphsage_layer_backward_matches_central_differences) {
    enum { N = 7, K = 2, DIN = 3, DOUT = 4 };
    int32_t nbr[N * K];
    hl_rng r = hl_rng_make(5, 7);
    for (int i = 0; i < N; i++) /* two distinct neighbours, not the node itself */
        for (int t = 0; t < K; t++) nbr[i * K + t] = (int32_t)((i + 1 + t * 3) % N);
    hl_knn_graph g = {.n = N, .k = K, .nbr = nbr};
    float H[N * DIN], Ws[DIN * DOUT], Wn[DIN * DOUT], b[DOUT], c[N * DOUT];
    hl_rng_normal(&r, H, N * DIN, 0, 1), hl_rng_normal(&r, Ws, DIN * DOUT, 0, 1);
    hl_rng_normal(&r, Wn, DIN * DOUT, 0, 1), hl_rng_normal(&r, b, DOUT, 0, 1), hl_rng_normal(&r, c, N * DOUT, 0, 1);
    float AH[N * DIN], Y[N * DOUT], dY[N * DOUT], dWs[DIN * DOUT] = {0}, dWn[DIN * DOUT] = {0}, db[DOUT] = {0};
    float dH[N * DIN], scr[N * DIN];
    layer_loss(&g, H, DIN, DOUT, Ws, Wn, b, c, AH, Y);
    /* pre-activations away from relu's kink, so central differences are valid */
    float P[N * DOUT];
    hl_gnn_layer_forward(&g, H, DIN, DOUT, Ws, Wn, b, false, AH, P);
    int active = 0;
    for (int i = 0; i < N * DOUT; i++) {
        cr_assert(fabsf(P[i]) > 0.02f, "pre-activation %d too close to 0 (%g): pick another seed", i, P[i]);
        active += P[i] > 0;
    }
    cr_assert(active > 4 && active < N * DOUT - 4, "both relu branches are exercised (%d active)", active);
    layer_loss(&g, H, DIN, DOUT, Ws, Wn, b, c, AH, Y);
    memcpy(dY, c, sizeof dY);
    hl_gnn_layer_backward(&g, H, AH, Y, DIN, DOUT, Ws, Wn, true, dY, dWs, dWn, db, dH, scr);
    const float h = 1e-3f;
    struct {
        float *x, *g;
        int n;
        const char *name;
    } vars[4] = {{H, dH, N * DIN, "H"}, {Ws, dWs, DIN * DOUT, "W_s"}, {Wn, dWn, DIN * DOUT, "W_n"}, {b, db, DOUT, "b"}};
    float AH2[N * DIN], Y2[N * DOUT];
    for (int v = 0; v < 4; v++)
        for (int i = 0; i < vars[v].n; i++) {
            float keep = vars[v].x[i];
            vars[v].x[i] = keep + h;
            double lp = layer_loss(&g, H, DIN, DOUT, Ws, Wn, b, c, AH2, Y2);
            vars[v].x[i] = keep - h;
            double lm = layer_loss(&g, H, DIN, DOUT, Ws, Wn, b, c, AH2, Y2);
            vars[v].x[i] = keep;
            double fd = (lp - lm) / (2 * h);
            cr_assert(fabs(fd - vars[v].g[i]) < 2e-3 + 1e-2 * fabs(fd), "d%s[%d]: analytic %.6g, central %.6g",
                      vars[v].name, i, vars[v].g[i], fd);
        }
    /* gradients are added, not overwritten: a second backward doubles the weight gradients */
    float dWs0 = dWs[0];
    layer_loss(&g, H, DIN, DOUT, Ws, Wn, b, c, AH, Y);
    memcpy(dY, c, sizeof dY);
    hl_gnn_layer_backward(&g, H, AH, Y, DIN, DOUT, Ws, Wn, true, dY, dWs, dWn, db, NULL, NULL);
    cr_assert_float_eq(dWs[0], 2 * dWs0, 1e-5);
}

Test(labeler, confidence_by_hand) {
    /* softmax: max_c e^{z_c} / Σ e^{z}; logits (0, ln 3): probabilities 1/4, 3/4 */
    const float z2[2] = {0.0f, (float)log(3.0)};
    cr_assert_float_eq(hl_gnn_confidence(z2, 2, true), 0.75, 1e-6);
    const float flat[4] = {2, 2, 2, 2}; /* uniform: 1/C, the least a softmax can give */
    cr_assert_float_eq(hl_gnn_confidence(flat, 4, true), 0.25, 1e-7);
    const float big[3] = {1000, 0, -1000}; /* no overflow */
    cr_assert_float_eq(hl_gnn_confidence(big, 3, true), 1.0, 1e-12);
    /* sigmoid: the least certain label, max(σ, 1 − σ); σ(ln 3) = 3/4, σ(−ln 9) = 1/10 → 9/10 */
    const float m[3] = {(float)log(3.0), (float)-log(9.0), 20.0f};
    cr_assert_float_eq(hl_gnn_confidence(m, 3, false), 0.75, 1e-6);
    const float m0[2] = {0.0f, 5.0f}; /* a label at σ = 1/2 */
    cr_assert_float_eq(hl_gnn_confidence(m0, 2, false), 0.5, 1e-7);
}

/* ---- the labeler end to end on a small synthetic set ---- */

enum { NALL = 240, NL = 40 };
#define HIGH_CONF "0.999"

/* The small labeler of these tests, with one more key (key NULL: none). */
static hl_config *small_gnn_with(const char *key, const char *value) {
    const char *kv[] = {"method", "gnn", "k", "5", "rounds", "2", "per_round", "20", "epochs", "60",
                        "feature_epochs", "8", "feature_batch", "8", "feature_dim", "16", "hidden", "16", key, value,
                        NULL};
    return hl_test_params(kv);
}

static hl_config *small_gnn(void) { return small_gnn_with(NULL, NULL); }

/* labelled: the first NL images (10 per class: synthetic image i has class i mod 4); unlabelled: the rest */
static void lists(int64_t *lidx, int64_t *uidx) {
    for (int i = 0; i < NALL; i++) {
        if (i < NL) lidx[i] = i;
        else uidx[i - NL] = i;
    }
}

/* The synthetic set of these tests (image i has class i mod 4) and its lists */
static void small_set(hl_dataset *d, int64_t *lidx, int64_t *uidx) {
    hl_test_synthetic(d, NALL, 1, 12, 4, 7);
    lists(lidx, uidx);
}

Test(labeler, never_reads_the_hidden_labels, .timeout = 120) {
    hl_dataset d, poisoned;
    hl_test_synthetic(&d, NALL, 1, 12, 4, 7);
    hl_test_synthetic(&poisoned, NALL, 1, 12, 4, 7);
    int64_t lidx[NL], uidx[NALL - NL];
    lists(lidx, uidx);
    /* every hidden label replaced by a wrong class */
    for (int j = 0; j < NALL - NL; j++) {
        int64_t i = uidx[j], wrong = (poisoned.class_id[i] + 1) % 4;
        memset(poisoned.labels.bits + i * poisoned.labels.words, 0, (size_t)poisoned.labels.words * sizeof(uint64_t));
        hl_labels_set(&poisoned.labels, i, (int)wrong);
        poisoned.class_id[i] = wrong;
    }
    const hl_labeler_class *cls = hl_labeler_class_find("gnn");
    cr_assert_not_null(cls);
    hl_config *cfg = small_gnn();
    hl_labeler_result a, b;
    cr_assert_eq(hl_labeler_apply(cls, cfg, &d, lidx, NL, uidx, NALL - NL, "", 3, &a), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labeler_apply(cls, cfg, &poisoned, lidx, NL, uidx, NALL - NL, "", 3, &b), HL_OK, "%s",
                 hl_error_last());
    cr_assert_eq(a.n, 40);
    cr_assert_eq(a.rounds, 2);
    cr_assert(a.round_end[0] == 20 && a.round_end[1] == 40);
    cr_assert_eq(a.n, b.n);
    cr_assert(!memcmp(a.idx, b.idx, (size_t)a.n * sizeof *a.idx), "poisoned hidden labels changed the choice");
    cr_assert(!memcmp(a.labels.bits, b.labels.bits, (size_t)(a.n * a.labels.words) * sizeof(uint64_t)),
              "poisoned hidden labels changed the labels given");
    /* only unlabelled images, each once, each with one label; better than chance (1/4) by a wide margin */
    int64_t ok = 0;
    for (int64_t i = 0; i < a.n; i++) {
        cr_assert(a.idx[i] >= NL, "labelled image %lld chosen", (long long)a.idx[i]);
        for (int64_t j = 0; j < i; j++) cr_assert_neq(a.idx[i], a.idx[j]);
        cr_assert_eq(hl_labels_count(&a.labels, i), 1);
        ok += hl_labels_class(&a.labels, i) == d.class_id[a.idx[i]];
    }
    cr_assert(ok >= 20, "%lld of 40 right (chance: 10)", (long long)ok);
    /* the labeler itself refuses a dataset that carries labels */
    hl_labels ll;
    cr_assert_eq(hl_labels_subset(&ll, &d.labels, lidx, NL), HL_OK);
    hl_labeler_input in = {.pixels = &d, .lidx = lidx, .nl = NL, .llabels = &ll, .single_label = true, .uidx = uidx,
                           .nu = NALL - NL, .backbone = "", .seed = 3};
    hl_labeler_result c;
    cr_assert_eq(hl_labeler_run(cls, cfg, &in, &c), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "label-less view"), "%s", hl_error_last());
    hl_labels_free(&ll);
    hl_labeler_result_free(&a), hl_labeler_result_free(&b);
    hl_config_free(cfg);
    hl_dataset_free(&d), hl_dataset_free(&poisoned);
}

/* min_confidence: below 1/C every node passes (a softmax's largest probability is at least 1/C), so the result is the
 * unfiltered one bit for bit; a high threshold labels fewer images per round, never more, and never the same twice */
Test(labeler, min_confidence_keeps_only_confident_nodes, .timeout = 120) {
    hl_dataset d;
    int64_t lidx[NL], uidx[NALL - NL];
    small_set(&d, lidx, uidx);
    const hl_labeler_class *cls = hl_labeler_class_find("gnn");
    hl_config *cfg = small_gnn();
    hl_config *low = small_gnn_with("min_confidence", "0.2"), *high = small_gnn_with("min_confidence", HIGH_CONF);
    hl_labeler_result a, b, c;
    cr_assert_eq(hl_labeler_apply(cls, cfg, &d, lidx, NL, uidx, NALL - NL, "", 3, &a), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labeler_apply(cls, low, &d, lidx, NL, uidx, NALL - NL, "", 3, &b), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labeler_apply(cls, high, &d, lidx, NL, uidx, NALL - NL, "", 3, &c), HL_OK, "%s", hl_error_last());
    cr_assert(a.n == b.n && !memcmp(a.idx, b.idx, (size_t)a.n * sizeof *a.idx), "a threshold below 1/C filtered");
    cr_assert(!memcmp(a.labels.bits, b.labels.bits, (size_t)(a.n * a.labels.words) * sizeof(uint64_t)));
    cr_assert_eq(c.rounds, 2);
    cr_assert(c.round_end[0] <= 20 && c.round_end[1] - c.round_end[0] <= 20 && c.round_end[1] == c.n);
    for (int64_t i = 0; i < c.n; i++) {
        cr_assert(c.idx[i] >= NL, "labelled image %lld chosen", (long long)c.idx[i]);
        for (int64_t j = 0; j < i; j++) cr_assert_neq(c.idx[i], c.idx[j]);
    }
    /* here (2 threads, AVX-512) 16 of 40 pass 0.999: the assertion leaves a wide margin for other BLAS kernels */
    cr_assert(c.n < a.n, "min_confidence %s filtered nothing (%lld labelled)", HIGH_CONF, (long long)c.n);
    hl_labeler_result_free(&a), hl_labeler_result_free(&b), hl_labeler_result_free(&c);
    hl_config_free(cfg), hl_config_free(low), hl_config_free(high);
    hl_dataset_free(&d);
}

/* balance: every round gives each class (by the network's arg-max) its ⌊per_round/C⌋ first, so each of the 4 classes
 * carries at least 5 of a round's 20 labels, whatever the in-degrees favour */
Test(labeler, balance_gives_every_class_its_quota, .timeout = 120) {
    hl_dataset d;
    int64_t lidx[NL], uidx[NALL - NL];
    small_set(&d, lidx, uidx);
    hl_config *cfg = small_gnn_with("balance", "true");
    hl_labeler_result r;
    cr_assert_eq(hl_labeler_apply(hl_labeler_class_find("gnn"), cfg, &d, lidx, NL, uidx, NALL - NL, "", 3, &r), HL_OK,
                 "%s", hl_error_last());
    cr_assert(r.n == 40 && r.round_end[0] == 20 && r.round_end[1] == 40);
    for (int k = 0; k < 2; k++) {
        int cnt[4] = {0};
        for (int64_t i = k * 20; i < (k + 1) * 20; i++) {
            cr_assert_eq(hl_labels_count(&r.labels, i), 1);
            cnt[hl_labels_class(&r.labels, i)]++;
            for (int64_t j = 0; j < i; j++) cr_assert_neq(r.idx[i], r.idx[j]);
        }
        for (int c = 0; c < 4; c++) cr_assert(cnt[c] >= 5, "round %d: class %d got %d of 20", k + 1, c, cnt[c]);
    }
    hl_labeler_result_free(&r);
    hl_config_free(cfg);
    hl_dataset_free(&d);
}

/* order: random, the control for the in-degree choice: a pure function of the seed, and another choice than the
 * in-degree's (40 of 200 candidates: the two orders agreeing on all of them is not a chance event) */
Test(labeler, random_order_is_seeded, .timeout = 120) {
    hl_dataset d;
    int64_t lidx[NL], uidx[NALL - NL];
    small_set(&d, lidx, uidx);
    const hl_labeler_class *cls = hl_labeler_class_find("gnn");
    hl_config *cfg = small_gnn(), *rnd = small_gnn_with("order", "random");
    hl_labeler_result a, b, c;
    cr_assert_eq(hl_labeler_apply(cls, cfg, &d, lidx, NL, uidx, NALL - NL, "", 3, &a), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labeler_apply(cls, rnd, &d, lidx, NL, uidx, NALL - NL, "", 3, &b), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labeler_apply(cls, rnd, &d, lidx, NL, uidx, NALL - NL, "", 3, &c), HL_OK, "%s", hl_error_last());
    cr_assert(b.n == 40 && c.n == 40 && !memcmp(b.idx, c.idx, sizeof(int64_t) * 40), "random order not seeded");
    cr_assert(memcmp(a.idx, b.idx, sizeof(int64_t) * 40), "random order chose what the in-degree chose");
    for (int64_t i = 0; i < b.n; i++) {
        cr_assert(b.idx[i] >= NL);
        for (int64_t j = 0; j < i; j++) cr_assert_neq(b.idx[i], b.idx[j]);
    }
    hl_labeler_result_free(&a), hl_labeler_result_free(&b), hl_labeler_result_free(&c);
    hl_config_free(cfg), hl_config_free(rnd);
    hl_dataset_free(&d);
}

Test(labeler, enlarged_set_holds_only_given_labels) {
    hl_dataset d;
    hl_test_synthetic(&d, 40, 1, 12, 4, 1);
    const int64_t lidx[3] = {7, 2, 30};
    hl_labeler_result r = {.n = 2, .rounds = 1};
    int64_t ridx[2] = {11, 5}, rend[1] = {2};
    r.idx = ridx, r.round_end = rend;
    cr_assert_eq(hl_labels_create(&r.labels, 2, 4), HL_OK);
    hl_labels_set(&r.labels, 0, 3), hl_labels_set(&r.labels, 1, 0);
    hl_dataset fit;
    int64_t *idx = NULL, n = 0;
    cr_assert_eq(hl_labeler_fit_set(&fit, &idx, &n, &d, lidx, 3, &r), HL_OK, "%s", hl_error_last());
    cr_assert_eq(n, 5);
    const int64_t want[5] = {2, 5, 7, 11, 30};
    for (int i = 0; i < 5; i++) cr_assert_eq(idx[i], want[i]);
    cr_assert_eq(fit.pixels, d.pixels);
    for (int64_t i = 0; i < 40; i++) {
        int64_t cls = fit.class_id[i];
        if (i == 2 || i == 7 || i == 30) cr_assert_eq(cls, d.class_id[i], "true label of %lld", (long long)i);
        else if (i == 11) cr_assert_eq(cls, 3);
        else if (i == 5) cr_assert_eq(cls, 0);
        else cr_assert(cls == -1 && hl_labels_count(&fit.labels, i) == 0, "image %lld carries a label", (long long)i);
    }
    /* an image labelled twice (a labeler returning a labelled image) is refused */
    ridx[1] = 7;
    hl_dataset bad;
    int64_t *bidx = NULL, bn;
    cr_assert_eq(hl_labeler_fit_set(&bad, &bidx, &bn, &d, lidx, 3, &r), HL_EINVAL);
    free(idx);
    hl_labeler_fit_set_free(&fit);
    hl_labels_free(&r.labels);
    hl_dataset_free(&d);
}

Test(labeler, registry_and_key_validation) {
    cr_assert_not_null(hl_labeler_class_find("gnn"));
    cr_assert_null(hl_labeler_class_find("gnm"));
    cr_assert_str_eq(hl_error_last(), "unknown labeler 'gnm' (known: gnn; did you mean 'gnn'?)");
    hl_dataset d;
    hl_test_synthetic(&d, 40, 1, 12, 4, 1);
    const int64_t lidx[2] = {0, 1}, uidx[2] = {2, 3};
    const char *kv[] = {"method", "gnn", "round", "2", NULL};
    hl_config *cfg = hl_test_params(kv);
    hl_labeler_result r;
    cr_assert_eq(hl_labeler_apply(hl_labeler_class_find("gnn"), cfg, &d, lidx, 2, uidx, 2, "", 0, &r), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "unknown key 'round'") && strstr(hl_error_last(), "did you mean 'rounds'"), "%s",
              hl_error_last());
    hl_config_free(cfg);
    hl_dataset_free(&d);
}
