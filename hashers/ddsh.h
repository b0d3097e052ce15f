/* hashers/ddsh.h — the pure math of DDSH (hashers/ddsh.c), declared for the unit tests.
 *
 * Notation of methods.md §2: n training points, Ω the m sampled ones with free codes B_Ω [m, c], Γ the other
 * g = n − m with network codes B_Γ [g, c] (relaxed to a = tanh(u) during feature learning), S_Γ [g, m] and
 * S_Ω [m, m] the soft similarity (+1 similar, −r dissimilar) of every training point to the sampled ones, c bits.
 * Matrices are row-major; codes are floats ±1. Sums are accumulated in double.
 */
#ifndef HL_DDSH_H
#define HL_DDSH_H

#include "core/common.h"

#define HL_DDSH_MAX_BITS 4096 /* the driver's limit on bits */

/* L = ‖c·S_Γ − B_Γ B_Ωᵀ‖²_F + ‖c·S_Ω − B_Ω B_Ωᵀ‖²_F   (§2.2; B_Γ may be relaxed codes). */
double hl_ddsh_loss(const float *S_g, const float *B_g, int64_t g, const float *S_o, const float *B_o, int m, int c);

/* Feature learning on a minibatch I ⊂ Γ (§2.3): u [b, c] network outputs, a = tanh(u), S_I [b, m] their rows of S_Γ.
 *   dL/da = −2c·S_I B_Ω + 2·a (B_Ωᵀ B_Ω),   G = dL/du = dL/da ⊙ (1 − a²)   into G [b, c].
 * Returns the rows' part of L's first term, Σ_{i∈I} Σ_j (a_iᵀ b_j − c·S_ij)². c <= HL_DDSH_MAX_BITS. */
double hl_ddsh_feature_grad(const float *S_I, const float *u, int64_t b, const float *B_o, int m, int c, float *G);

/* Bit k's binary quadratic program (§2.4), fitted to the residual of bits 0..k−1 (0-based k):
 *   R_Ω = c·S_Ω − Σ_{l<k} b^l_Ω b^lᵀ_Ω,   R_Γ = c·S_Γ − Σ_{l<k} b^l_Γ b^lᵀ_Ω
 *   minimise over z = b^k_Ω ∈ {±1}^m:  f(z) = zᵀQz + pᵀz,  Q = −2 R_Ω with a zero diagonal [m, m],  p = −2 R_Γᵀ b^k_Γ
 * f(z) equals ‖R_Ω − z zᵀ‖² + ‖R_Γ − b^k_Γ zᵀ‖² up to a constant independent of z. R_Γ is never formed:
 *   R_Γᵀ b^k_Γ = c·T[:, k] − Σ_{l<k} B_Ω[:, l]·Gm[l][k]   with T = S_Γᵀ B_Γ [m, c], Gm = B_Γᵀ B_Γ [c, c]
 * (the same quantity the official code accumulates bit by bit). Reads columns 0..k−1 of B_o. */
void hl_ddsh_bit_problem(int m, int c, int k, const float *S_o, const float *B_o, const double *T, const double *Gm,
                         double *Q, double *p);

/* f(z) = zᵀQz + pᵀz. */
double hl_ddsh_bqp_objective(int m, const double *Q, const double *p, const float *z);

/* The balanced clustering heuristic of the official Solve.m (§2.4 steps 1–4) for min zᵀQz + pᵀz, z ∈ {±1}^m:
 *   1. z = 2y − 1, y ∈ {0,1}^m: quadratic 4Q, linear p' = 2p − 2(Q + Qᵀ)·1 (constant dropped);
 *   2. ỹ = [y; 1], Q̃ = [[4Q, p'/2], [p'ᵀ/2, 0]]  (M = m + 1);
 *   3. Q̃ ← Q̃ / max|Q̃|, Cholesky λI − Q̃ = PᵀP (columns p_i of the upper factor P), so ỹᵀQ̃ỹ = λ|ỹ| − ‖Pỹ‖²;
 *   4. H = round(M/2) (half away from zero): every column i (the auxiliary one too) seeds the candidate set
 *      {its H − 1 nearest real columns (distances from P; ties by lower index)} ∪ {auxiliary}; the set with the
 *      smallest scatter Σ‖p_j − centroid‖² (first on ties) gives y.
 * Output z [m]: exactly H − 1 entries are +1 (m = 100: 50 of 100), the rest −1. HL_ENUMERIC when λI − Q̃ is not
 * positive definite (λ too small: needs λ > the largest eigenvalue of Q̃, at most M). */
hl_status hl_ddsh_bqp_balanced(int m, const double *Q, const double *p, double lambda, float *z);

/* One bit's discrete coding step: z = the heuristic's solution when f(z) <= f(prev), else prev (our guard, so the
 * step never increases the bit's objective). *accepted (may be NULL) tells which. prev and z may not alias. */
hl_status hl_ddsh_bit_update(int m, const double *Q, const double *p, double lambda, const float *prev, float *z,
                             bool *accepted);

#endif
