/* hashers/adsh.h — the math of ADSH (Jiang & Li, AAAI'18; notes/methods.md §1), exposed for tests.
 *
 * Notation: K bits, n database items (the fit list), m sampled items Ω (rows omega[0..m) of the database),
 * U [m, K] relaxed codes tanh(F(x_i)) of the sampled items, V [n, K] database codes in {−1, +1} (0 before the first
 * update), S [m, n] the soft similarity of Ω against the database:
 *     S0_ij = 1 when sampled item i and database item j share a label, else 0
 *     r     = #(S0 = 1) / #(S0 = 0) over the whole m×n block (r = 1 when no pair is dissimilar)
 *     S_ij  = +1 where S0_ij = 1, −r where S0_ij = 0
 * Objective (methods.md §1.2):
 *     J(U, V) = Σ_{i∈Ω} Σ_j (u_iᵀ v_j − K·S_ij)² + γ Σ_{i∈Ω} ‖v_{omega(i)} − u_i‖²
 * S is never materialised: only the products S·V [m, K], Sᵀ·U [n, K] and the row sums Σ_j S_ij² are needed, and
 * S = (1 + r)·S0 − r·1·1ᵀ turns them into products with 0/1 label blocks (built from the label bitsets, BLAS GEMMs).
 */
#ifndef HL_ADSH_H
#define HL_ADSH_H

#include "core/labels.h"

/* Products with the soft similarity of the m sampled label rows `ls` against the n database label rows `ld`
 * (same label count): SV [m, K] = S·V for V [n, K]; ssq [m] = Σ_j S_ij²; StU [n, K] = Sᵀ·U for U [m, K]; *r the
 * ratio above. Any of V/SV, ssq, U/StU, r may be NULL (SV is computed when V and SV are given, StU when U and StU
 * are). Works in column blocks of the database (O(m·n·K) flops in SGEMM, O(m·block) memory). HL_ENOMEM. */
hl_status hl_adsh_soft_products(const hl_labels *ls, const hl_labels *ld, int K, const float *V, float *SV,
                                double *ssq, const float *U, float *StU, double *r);

/* Mini-batch loss and gradient (feature learning, V fixed), normalised as the PyTorch version by n·B:
 *     loss = [Σ_{i∈I} Σ_j (a_iᵀ v_j − K·S_ij)² + γ Σ_{i∈I} ‖v_{omega(i)} − a_i‖²] / (n·B)
 *     grad = dloss/da = [2 (a Vᵀ − K S_I) V + 2γ (a − V_own)] / (n·B)                      [B, K]
 * from sufficient statistics: a [B, K] the batch's tanh outputs, VtV [K, K] = VᵀV, SV [B, K] the batch's rows of
 * S·V, ssq [B] their Σ_j S_ij², Vown [B, K] the database codes of the batch's own items. Using
 * Σ_j (a_iᵀv_j − K·S_ij)² = a_iᵀ(VᵀV)a_i − 2K·a_iᵀ(SV)_i + K²·Σ_j S_ij², the cost is O(B·K²), independent of n.
 * grad may be NULL. Returns the loss (double accumulation). */
double hl_adsh_batch_loss(const float *a, int64_t B, int K, const float *VtV, const float *SV, const double *ssq,
                          const float *Vown, double gamma, int64_t n, float *grad);

/* Reference J(U, V) with an explicit S [m, n] (row i of S belongs to sampled item i, whose database row is
 * omega[i]); O(m·n·K), for tests. */
double hl_adsh_objective(const float *U, int64_t m, const float *V, int64_t n, int K, const float *S,
                         const int64_t *omega, double gamma);

/* Q [n, K] = −2K·StU − 2γ·Ū, where Ū [n, K] is zero except Ū[omega[i]] = U[i] (i < m). */
void hl_adsh_q(float *Q, const float *StU, int64_t n, int K, const float *U, const int64_t *omega, int64_t m,
               double gamma);

/* One column of the discrete step (methods.md §1.3 b): with the other columns fixed,
 *     V[:, k] ← −sign(2·V̂·(Ûᵀ u_k) + Q[:, k])       (V̂, Û: V and U without column k; u_k = U[:, k])
 * which minimises J over V[:, k] ∈ {−1, +1}^n exactly (J = ‖U Vᵀ‖² + tr(VᵀQ) + const is linear in that column once
 * v² = 1 is used). Ûᵀu_k is column k of UtU = UᵀU [K, K] with entry k dropped. A zero argument gives +1 (the code
 * convention sign(0) = +1; either value is optimal there). O(n·K). */
void hl_adsh_update_bit(float *V, int64_t n, int K, int k, const float *UtU, const float *Q);

/* The whole sweep k = 0..K−1 (in place, each column seeing the columns already updated), U [m, K]. HL_ENOMEM. */
hl_status hl_adsh_update_v(float *V, int64_t n, int K, const float *U, int64_t m, const float *Q);

#endif
