/* hashers/gnn.h — the graph pieces of the GNN labeler (hashers/labeler_gnn.c): a directed k-nearest-neighbour graph,
 * representativeness by in-degree, and a GraphSAGE-mean layer with its forward and backward side by side.
 *
 * Graph. n nodes with features F [n, d] (rows L2-normalised by the caller, so a dot product is a cosine). Edge
 * i → j when j is among the k nodes most similar to i (j ≠ i; the largest cosine first; equal cosines go to the lower
 * node index). nbr [n, k] holds node i's out-neighbours, most similar first. k is min(k, n − 1).
 * In-degree deg(j) = #{i : j ∈ N(i)}: how many nodes count j among their nearest — a node in a dense region of the
 * feature space has many (the "representative" samples of progressive representative labelling).
 *
 * Selection. hl_knn_select picks up to m candidates (cand[i] != 0) with the largest in-degree; equal in-degrees go to
 * the lower key (the dataset index of the node), so the choice is deterministic and does not depend on node order.
 *
 * GraphSAGE-mean layer (Hamilton, Ying, Leskovec, NeurIPS 2017, the mean aggregator, without normalisation), for
 * node states H [n, din]:
 *     (A H)_i = (1/k) Σ_{j ∈ N(i)} H_j                         mean over the out-neighbours (A row-stochastic)
 *     P       = H W_s + (A H) W_n + 1 bᵀ                       W_s, W_n [din, dout], b [dout]
 *     Y       = relu(P)  (or Y = P for the output layer)
 * Backward, for dY = dL/dY [n, dout]:
 *     dP   = dY ⊙ [P > 0]  (relu; Y > 0 is the same test)      (or dP = dY)
 *     dW_s += Hᵀ dP,  dW_n += (A H)ᵀ dP,  db += Σ_i dP_i
 *     dH    = dP W_sᵀ + Aᵀ (dP W_nᵀ),   (Aᵀ G)_j = (1/k) Σ_{i : j ∈ N(i)} G_i
 * The weights are [din, dout] row-major (x W, not PyTorch's W x).
 */
#ifndef HL_GNN_H
#define HL_GNN_H

#include "core/common.h"

typedef struct hl_knn_graph {
    int64_t n;
    int k;
    int32_t *nbr; /* [n, k], owned */
} hl_knn_graph;

/* Builds the graph of F [n, d] (n >= 2, k >= 1; n < 2^31): cosines by SGEMM in blocks of rows. */
hl_status hl_knn_graph_build(hl_knn_graph *g, const float *F, int64_t n, int d, int k);
void hl_knn_graph_free(hl_knn_graph *g); /* NULL-safe; leaves *g zeroed */

/* deg [n] = in-degrees. */
void hl_knn_indegree(const hl_knn_graph *g, int64_t *deg);
/* Up to m nodes i with cand[i] != 0 by in-degree descending, ties by key[i] ascending, into out; returns how many
 * (min(m, #candidates)). HL_ENOMEM is reported as −1 with the error set. */
int64_t hl_knn_select(const int64_t *deg, const uint8_t *cand, const int64_t *key, int64_t n, int64_t m, int64_t *out);

/* Confidence of a prediction from the logits z [C] of one node:
 *     softmax (single-label):  max_c softmax(z)_c                         ∈ [1/C, 1]
 *     sigmoid (multi-label):   min_c max(σ(z_c), 1 − σ(z_c))              ∈ [1/2, 1]  (its least certain label)
 * The labeler's `min_confidence` keeps as candidates only the nodes whose confidence is at least the threshold. */
double hl_gnn_confidence(const float *z, int C, bool softmax);

/* out [n, d] = A H (mean of each node's out-neighbours' rows of H [n, d]). */
void hl_gnn_mean(const hl_knn_graph *g, const float *H, int d, float *out);
/* out [n, d] = Aᵀ G (each node receives 1/k of the rows of the nodes pointing to it); out is overwritten. */
void hl_gnn_mean_t(const hl_knn_graph *g, const float *G, int d, float *out);

/* Forward of one layer: AH [n, din] receives A H (kept for the backward), Y [n, dout] the output. */
void hl_gnn_layer_forward(const hl_knn_graph *g, const float *H, int din, int dout, const float *Ws, const float *Wn,
                          const float *b, bool relu, float *AH, float *Y);
/* Backward of one layer (forward's H, AH, Y): dY [n, dout] (overwritten with dP), gradients ADDED to dWs, dWn
 * [din, dout] and db [dout]; dH [n, din] (may be NULL) overwritten with dL/dH; scratch [n, din] (needed with dH). */
void hl_gnn_layer_backward(const hl_knn_graph *g, const float *H, const float *AH, const float *Y, int din, int dout,
                           const float *Ws, const float *Wn, bool relu, float *dY, float *dWs, float *dWn, float *db,
                           float *dH, float *scratch);

#endif
