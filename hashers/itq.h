/* hashers/itq.h — the ITQ rotation (Gong & Lazebnik, CVPR'11), exposed for tests and for methods that reuse it.
 *
 * Given V [n, K] (centred data projected on its top-K principal directions), finds an orthogonal R [K, K] that
 * locally minimises the quantisation loss Q(B, R) = ‖B − V·R‖²_F over B ∈ {−1, +1}^{n×K} by alternating
 *     B = sign(V·R)                          (sign(0) = +1, the code convention of core/codes.h)
 *     R = Ŝ·Sᵀ  where  Bᵀ·V = S·Ω·Ŝᵀ (SVD)   (orthogonal Procrustes)
 * from a random orthogonal start (seeded). Each half-step cannot increase Q, so the loss is non-increasing.
 */
#ifndef HL_ITQ_H
#define HL_ITQ_H

#include "core/common.h"

/* V row-major [n, K] (n >= 1, K >= 1), R out row-major [K, K]. loss (NULL or [iters + 1]): loss[t] = min_B Q(B, R)
 * with R after t iterations. HL_ENUMERIC if LAPACK's SVD fails to converge. */
hl_status hl_itq_rotation(const double *V, int64_t n, int K, int iters, uint64_t seed, double *R, double *loss);

#endif
