/* hashers/hashgan.h — the pieces of hashers/hashgan.c (USPAH-style unsupervised adversarial hashing, Deng et al.,
 * IEEE TIP 2019; methods.md §6.1) that its unit tests call: the semantic loss and the semantic similarity matrix.
 *
 * Semantic loss (SSDH's form, methods.md §6.1 [CODE]), for a batch u [B, K] (u = tanh(out)), the memory bank
 * U [n, K] (latest u of the n fit items, constants) and the batch's rows S [B, n] of the similarity matrix
 * (int8 values in {−1, 0, +1}):
 *     θ_ij   = (1/K) u_iᵀ U_j
 *     e_ij   = θ_ij − 1 where S_ij = +1;  max(θ_ij − τ, 0) where S_ij = −1 or 0 (i ≠ j)
 *     w_ij   = 1 where S_ij = +1, w_neg where S_ij = −1, w_zero where S_ij = 0
 *     L_sem  = 1/(B·n) · Σ_ij w_ij e_ij²
 * SSDH's loss |S_ij| (θ_ij − S_ij)² is w_neg = 1, w_zero = 0, τ = −1 (θ ≥ −1 for |u| ≤ 1, so max(θ + 1, 0) = θ + 1);
 * τ = 0 (our default in hashgan.c) asks dissimilar pairs only to be orthogonal or beyond, not opposite.
 *     L_q    = η/B · Σ_i ‖u_i − sign(u_i)‖²                                  (sign(0) = +1)
 *     L      = L_sem + L_q
 *     dL/du_i = 2/(B·n·K) · Σ_j w_ij e_ij U_j  +  2η/B · (u_i − sign(u_i))
 * (the bank is a constant; sign is piecewise constant, its derivative taken as 0).
 *
 * Similarity matrix over n items with L2-normalised features F [n, d] (hl_hashgan_similarity):
 *   feature rule (SSDH [CODE]): D_ij = 1 − F_iᵀF_j (cosine distance, i ≠ j) in [0, 2]; a histogram of all D_ij
 *     with bins of width 0.01 over [0, 2] gives the mode m0 (the centre of the fullest bin); the parts D ≤ m0 and
 *     D > m0, each mirrored around m0, are fitted by Gaussians: μ_l = μ_r = m0 (a mirrored set is symmetric),
 *     σ_l² = mean over D ≤ m0 of (D − m0)², σ_r² = mean over D > m0 of (D − m0)². Thresholds lo = m0 − a·σ_l,
 *     hi = m0 + b·σ_r (a = b = 2 in SSDH); feature-similar when D < lo, feature-dissimilar when D > hi.
 *     (The σ sums are taken over a fine histogram of 4,000 bins of width 0.0005, at the bin centres: the
 *     matrix is never held as floats; the error is below 0.00025 in each deviation.)
 *   neighbour rule (ours, [BEST-UNDERSTANDING]): N_k(i) = the k nearest other items of i (largest cosine; ties to
 *     the lower index). Neighbour-similar when |N_k(i) ∩ N_k(j)| ≥ ⌈t·k⌉ (shared-neighbour share ≥ t), or, with
 *     `mutual`, when j ∈ N_k(i) and i ∈ N_k(j). Both are symmetric in i, j.
 *   combined: S_ij = +1 when feature-similar or neighbour-similar; −1 when feature-dissimilar and not
 *     neighbour-similar; 0 otherwise (the pair is ignored by L_sem). S_ii = +1.
 */
#ifndef HL_HASHGAN_H
#define HL_HASHGAN_H

#include "core/common.h"

/* Largest fit list the similarity matrix accepts (n² int8 bytes: 20,000 items = 400 MB). */
#define HL_HASHGAN_MAX_ITEMS 20000
/* Histograms: coarse bins (the mode) of width 0.01 and fine bins (the σ sums) of width 0.0005 over [0, 2]. */
#define HL_HASHGAN_COARSE_BINS 200
#define HL_HASHGAN_FINE_BINS 4000

typedef struct hl_hashgan_loss_parts {
    double semantic;     /* L_sem */
    double quantisation; /* L_q (η included) */
} hl_hashgan_loss_parts;

/* Returns L; G [B, K] receives dL/du (may be NULL); parts may be NULL. theta: scratch [B, n] floats. Zero entries
 * of S cost nothing when w_zero = 0 (S_ii = +1, so the diagonal is never a zero entry). */
double hl_hashgan_semantic_loss(const float *u, int64_t B, int K, const float *U, int64_t n, const int8_t *S,
                                double w_neg, double w_zero, double tau, double eta, float *theta, float *G,
                                hl_hashgan_loss_parts *parts);

typedef struct hl_hashgan_sim_opts {
    double left_sigmas;         /* a in lo = m0 − a·σ_l (SSDH: 2) */
    double right_sigmas;        /* b in hi = m0 + b·σ_r (SSDH: 2) */
    int knn;                    /* k of the neighbour rule; 0 = no neighbour rule */
    double neighbour_threshold; /* t: shared-neighbour share for neighbour-similar (> 1: shared rule off) */
    bool mutual;                /* mutual k-nearest neighbours are similar too */
} hl_hashgan_sim_opts;

typedef struct hl_hashgan_sim_stats {
    double m0, sigma_l, sigma_r, lo, hi; /* the feature rule's fit */
    int64_t pos, neg, zero;              /* entries of S (i ≠ j) by value */
    int64_t feature_pos, feature_neg;    /* entries (i ≠ j) the feature rule alone calls similar / dissimilar */
    int64_t neighbour_pos;               /* entries (i ≠ j) the neighbour rule calls similar */
} hl_hashgan_sim_stats;

/* The feature rule's fit from histograms of the distances (counts of coarse bins [HL_HASHGAN_COARSE_BINS] and fine
 * bins [HL_HASHGAN_FINE_BINS], see above): fills m0, sigma_l, sigma_r, lo, hi of st. */
void hl_hashgan_thresholds(const int64_t *coarse, const int64_t *fine, double left_sigmas, double right_sigmas,
                           hl_hashgan_sim_stats *st);

/* S [n, n] int8 (row-major) for L2-normalised features F [n, d] (rows of norm 1, or 0 for a constant image), by the
 * rules above; the n×n cosines are computed by SGEMM in blocks of rows, twice (histogram and neighbours, then S).
 * HL_EINVAL when n > HL_HASHGAN_MAX_ITEMS or n < 2, HL_ENOMEM. st may be NULL. */
hl_status hl_hashgan_similarity(const float *F, int64_t n, int d, const hl_hashgan_sim_opts *o, int8_t *S,
                                hl_hashgan_sim_stats *st);

#endif
