/* hashers/dpsh.h — the DPSH mini-batch loss (hashers/dpsh.c), exposed for its unit test.
 *
 * For a batch of outputs u [B, K], the memory bank U [n, K] (latest outputs of the n training items, the batch's
 * rows already written) and S [B, n] (S_ij = 1 when batch item i and training item j share a label, else 0):
 *     θ_ij = ½ u_iᵀ U_j
 *     L1   = mean_ij [ log(1 + exp(−|θ_ij|)) + max(θ_ij, 0) − S_ij θ_ij ]      (= softplus(θ) − Sθ, stable)
 *     L2   = η · mean_i ‖u_i − sign(u_i)‖²                                       (sign(0) = +1)
 *     L    = L1 + L2
 * The bank is a constant (PyTorch's U[ind] = u.data), so
 *     dL/du_i = 1/(B·n) · Σ_j (σ(θ_ij) − S_ij) · ½ U_j  +  (2η/B) · (u_i − sign(u_i))
 * (sign is piecewise constant: its derivative is taken as 0, as autograd does).
 */
#ifndef HL_DPSH_H
#define HL_DPSH_H

#include "core/common.h"

typedef struct hl_dpsh_loss_parts {
    double likelihood;   /* L1 */
    double quantisation; /* L2 (η included) */
} hl_dpsh_loss_parts;

/* Returns L; G [B, K] receives dL/du (may be NULL); parts may be NULL. theta: scratch [B, n] floats. */
double hl_dpsh_loss(const float *u, int64_t B, int K, const float *U, int64_t n, const float *S, double eta,
                    float *theta, float *G, hl_dpsh_loss_parts *parts);

#endif
