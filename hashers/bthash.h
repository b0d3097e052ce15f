/* hashers/bthash.h — the loss of `bthash` (hashers/bthash.c): Barlow Twins (Zbontar, Jing, Misra, LeCun, Deny,
 * ICML 2021) on a hash layer, plus a quantisation and a bit-balance term; exposed for its unit test.
 *
 * For the hash layer's pre-activations of two augmented views of the same N images, v_A, v_B [N, K] (row n of both
 * is image n):
 *     u^V   = tanh(v^V)                                              relaxed codes in (−1, 1), V ∈ {A, B}
 *     μ^V_k = (1/N) Σ_n u^V_nk,   s^V_k = √( (1/N) Σ_n (u^V_nk − μ^V_k)² + ε )
 *     z^V_nk = (u^V_nk − μ^V_k) / s^V_k                               batch standardisation (BatchNorm without
 *                                                                     affine, biased variance, as the paper's code)
 *     C_ij  = (1/N) Σ_n z^A_ni z^B_nj                                 cross-correlation [K, K]
 *     L_inv = Σ_i (1 − C_ii)²                                         invariance: bit i agrees across the views
 *     L_red = λ Σ_i Σ_{j≠i} C_ij²                                     redundancy reduction = bit decorrelation
 *     L_q   = q/(2N) Σ_V Σ_n Σ_k (|u^V_nk| − 1)²                     quantisation (per image, summed over bits)
 *     L_bal = (γ/2) Σ_V Σ_k (μ^V_k)²                                  bit balance (the standardisation removes the
 *                                                                     mean, so L_inv + L_red cannot see it)
 *     L     = L_inv + L_red + L_q + L_bal
 *
 * Why tanh before the standardisation: the code is sign(v) = sign(u). With u driven towards ±1 by L_q, z is the
 * standardised code itself and C is the bit cross-correlation of the two views' binary codes: C_ii = 1 means bit i
 * of every image survives the augmentations, C_ij = 0 that bits i and j carry different information — exactly what
 * retrieval uses. On the raw v, C would be the correlation of real values whose signs may still disagree, and the
 * loss would be blind to the scale L_q works on (it is invariant to a per-bit affine map of v).
 *
 * Gradients (each view; D = dL/dC, D_ii = −2(1 − C_ii), D_ij = 2λ C_ij for i ≠ j):
 *     dL/dz^A = (1/N) z^B Dᵀ,   dL/dz^B = (1/N) z^A D
 *     dL/du_nk = (1/s_k)·( g_nk − mean_n g_·k − z_nk · mean_n(g_·k z_·k) )   (g = dL/dz; BatchNorm's backward, exact
 *                with ε inside s)
 *              + (q/N)(u_nk − sign(u_nk))                               (sign(0) = +1; (|u| − 1)·sign(u) = u − sign u)
 *              + (γ/N) μ_k
 *     dL/dv    = dL/du ⊙ (1 − u²)
 */
#ifndef HL_BTHASH_H
#define HL_BTHASH_H

#include "core/common.h"

typedef struct hl_bthash_opts {
    double lambda;  /* λ > 0 */
    double quant;   /* q >= 0 */
    double balance; /* γ >= 0 */
    double eps;     /* ε > 0 of the standardisation */
} hl_bthash_opts;

typedef struct hl_bthash_parts {
    double invariance, redundancy, quantisation, balance; /* L_inv, L_red (λ included), L_q, L_bal */
    double mean_diag;                                     /* mean_i C_ii */
    double rms_offdiag;                                   /* √(mean_{i≠j} C_ij²) (0 for K = 1) */
} hl_bthash_parts;

/* Floats of scratch hl_bthash_loss needs for N rows of K bits. */
static inline int64_t hl_bthash_scratch_len(int64_t N, int K) {
    return 5 * N * K + 2 * (int64_t)K * K + 4 * (int64_t)K;
}

/* Returns L for pre-activations vA, vB [N, K] (N >= 2); GA, GB [N, K] receive dL/dvA, dL/dvB (both NULL: value
 * only); parts may be NULL; scratch: hl_bthash_scratch_len(N, K) floats. */
double hl_bthash_loss(const float *vA, const float *vB, int64_t N, int K, const hl_bthash_opts *o, float *scratch,
                      float *GA, float *GB, hl_bthash_parts *parts);

#endif
