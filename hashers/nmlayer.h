/* hashers/nmlayer.h — the host-side math of NMLayer (Neurons Merging Layer, Fu et al., IJCAI 2019), exposed for
 * tests. What follows the paper and what is our reconstruction: see hashers/nmlayer.c and methods.md §3.
 *
 * Notation: B batch, N current hash neurons (bits), z [B, N] pre-activations of the hashing layer, h = tanh(z),
 * A [N, N] adjacency (symmetric, A_ii = 1), Â = A with each row divided by its sum, o = Â·h per sample
 * (o[b][i] = Σ_j Â_ij h[b][j]), S [B, B] 0/1 pairwise similarity.
 *
 * Base loss (DPSH-style, our choice — the paper's base loss is not verified): the pairwise likelihood of DPSH over
 * the mini-batch's ordered pairs (a = b included), with similar and dissimilar pairs weighted to carry half of the
 * total weight each (w_ab = 0.5/n_sim when S_ab = 1, 0.5/n_dis otherwise; 1/n_sim or 1/n_dis when one kind is
 * absent), plus the quantisation error:
 *     θ_ab = ½ o_aᵀ o_b
 *     L = Σ_{a,b} w_ab [log(1 + e^{θ_ab}) − S_ab θ_ab]  +  η/(B·N) Σ_{a,i} (o_ai − sign(o_ai))²      (sign(0) = +1)
 * Why balanced (ours): trained from scratch, the backbone's features barely vary between images, so all o start
 * nearly equal; with DPSH's plain mean the dissimilar majority of pairs (≈ (1 − 1/C) of them with C classes) then
 * pushes every output the same way, to 0, where the likelihood is flat (loss log 2) and training stalls (measured:
 * no learning in 300 steps on the synthetic set); with equal halves that common push cancels at θ = 0.
 * Gradient (θ, S and w symmetric):
 *     ∂L/∂o_a = Σ_b w_ab (σ(θ_ab) − S_ab) o_b  +  2η/(B·N) (o_a − sign(o_a))
 *     ∂L/∂h_b = Âᵀ ∂L/∂o_b,   ∂L/∂z = ∂L/∂h ⊙ (1 − h²).
 */
#ifndef HL_NMLAYER_H
#define HL_NMLAYER_H

#include "core/common.h"

/* Â from A [N, N] (rows with sum 0 are left 0). */
void hl_nml_normalise(const float *A, int N, float *Ahat);
/* A [N, N] from group ids (group[i] in [0, G)): A_ij = 1 when i and j are in one group (cliques), else 0. */
void hl_nml_adjacency(const int *group, int N, float *A);

/* o [B, N] = h Âᵀ (o_b = Â h_b). */
void hl_nml_apply(const float *Ahat, const float *h, int64_t B, int N, float *o);

/* Base loss above on o [B, N] with S [B, B] (0/1, symmetric); grad (NULL or [B, N]) receives ∂L/∂o. */
double hl_nml_base_loss(const float *o, const float *S, int64_t B, int N, double eta, float *grad);

/* The whole host chain of one step: columns 0..N-1 of z (row stride ld >= N) → h → o → L; gz (NULL or [B, ld])
 * receives ∂L/∂z, 0 in columns N..ld-1. o (NULL or [B, N]) receives o. Returns L. */
double hl_nml_loss_z(const float *z, int64_t ld, const float *Ahat, const float *S, int64_t B, int N, double eta,
                     float *gz, float *o);

/* Importance of each neuron on a batch: imp[i] = L(h with column i set to 0) − L(h), L the base loss of Â h.
 * h [B, N]. */
void hl_nml_importance(const float *h, const float *Ahat, const float *S, int64_t B, int N, double eta, double *imp);

/* Streaming moments of h: s [N] += Σ_b h_b, ss [N, N] += Σ_b h_b h_bᵀ. */
void hl_nml_moments_add(double *s, double *ss, const float *h, int64_t B, int N);
/* Pearson correlation rho [N, N] from moments over n samples (n may be a decayed, fractional weight; 0 where a
 * variance is ~0 or n <= 1; rho_ii = 1). */
void hl_nml_correlation(const double *s, const double *ss, double n, int N, double *rho);

/* Redundancy graph (our reconstruction of the active phase's update): greedy agglomerative grouping of N neurons
 * into `target` groups (1 <= target <= N). Start from singletons; repeatedly join the two groups a, b with the
 * largest score
 *     score(a, b) = ρ̄⁺(a, b) − λ · target · (ι_a + ι_b) / 2
 * where ρ̄⁺ is the mean over member pairs of max(ρ_ij, 0) (redundant = positively correlated; summing the weights
 * of anti-correlated bits would cancel them), ι_a = Σ_{i∈a} max(imp_i, 0) / Σ_j max(imp_j, 0) the group's share
 * of the importance (uniform 1/N when all are 0), so that the least important and most correlated bits merge first
 * and merged bits tend to equal importance (share ≈ 1/target). Ties: the lowest (a, b). imp may be NULL (all 0).
 * group [N] receives ids numbered in order of each group's smallest member. Returns the number of groups. */
#define HL_NML_LAMBDA 1.0
int hl_nml_group(const double *rho, const double *imp, int N, int target, int *group);

/* Truncation: row g of Wout [G, F] (and bout [G], when b and bout are non-NULL) = Σ over neurons i with
 * group[i] = g of row i of W [N, F] (b [N]). */
void hl_nml_merge_rows(const float *W, const float *b, int N, int64_t F, const int *group, int G, float *Wout,
                       float *bout);

/* Progressive schedule: bits after stage s (0 <= s <= stages) from start down to K:
 *     N_s = start − round((start − K) · s / stages)      (N_0 = start, N_stages = K; non-increasing). */
int hl_nml_stage_bits(int start, int K, int stages, int s);

#endif
