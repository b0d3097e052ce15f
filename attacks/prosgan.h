/* attacks/prosgan.h — the ProS-GAN attack's testable pieces (attacks/prosgan.c has the method and its math).
 *
 * The networks' sizes depend on the victim (bits K, label count L, image C×H×W), which hl_attack_class.init does
 * not see: hl_prosgan_prepare declares and allocates self->params for a victim. fit calls it itself; a caller that
 * hl_attack_load's a saved fit into a fresh attack must call it first (same victim shape), or the load finds no
 * tensors to fill (HL_EMISMATCH).
 */
#ifndef HL_ATTACKS_PROSGAN_H
#define HL_ATTACKS_PROSGAN_H

#include "attacks/attack.h"

/* Declares PrototypeNet ("P.*") and the generator ("G.*") in a->params for victim's shape (a must be a prosgan
 * attack) and initialises them from `seed`. A second call with the same shape keeps the values (HL_OK); another
 * shape is HL_EMISMATCH. HL_EINVAL when H ≠ W or H is not divisible by 4. */
hl_status hl_prosgan_prepare(hl_attack *a, const hl_hasher *victim, uint64_t seed);

/* Stage-1 loss (methods.md §7.2) on the tape, a 0-dim tensor:
 *   θ_ij = ½·h_iᵀb_j,   L = Σ_ij (log(1 + e^θ_ij) − S_ij·θ_ij) / (N·B) + mean_il (ŷ_il − y_il)²
 *                            + Σ_ik (sign(h_ik) − h_ik)² / (10⁴·B)
 * hp [B, K] prototype codes (tanh outputs), yhat [B, L] label reconstruction (sigmoid outputs), y [B·L] target
 * labels (host, 0/1), codes [N·K] the ±1 codes b_j (host), sim [B·N] S_ij ∈ {0, 1} (host). sign has zero gradient. */
hl_tensor *hl_prosgan_proto_loss(hl_ctx *ctx, hl_tensor *hp, hl_tensor *yhat, const float *y, const float *codes,
                                 const float *sim, int64_t n);

/* L_ham = 1 − mean_{b,k}(tanh(f_bk)·t_bk): f [B, K] the victim's real outputs (tape), t [B·K] ±1 target codes. */
hl_tensor *hl_prosgan_ham_loss(hl_ctx *ctx, hl_tensor *f, const float *t);

/* Prototype codes sign(h_p(y)) of label sets `targets` (rows; L must match) into *out (caller frees). Needs a
 * prepared (fitted or loaded) attack. */
hl_status hl_prosgan_prototype_codes(hl_attack *a, hl_ctx *ctx, const hl_labels *targets, hl_codes *out);

#endif
