/* hashers/ssah.h — the pieces of SSAH (hashers/ssah.c) that its unit test checks: the self-paced schedule, the
 * A-Net objective, the semi-supervised consistency loss and the pixel deformation (occlusion + rotation).
 *
 * Self-paced schedule (ours; methods.md §5.2 says only "difficulty rises over training"). With E epochs and the
 * 0-based epoch e, the pace is
 *     p(e) = p0 + (1 − p0) · e / (E − 1)       (E ≥ 2; p = 1 when E = 1),    p0 = pace_start ∈ [0, 1],
 * so p = p0 in the first epoch and 1 in the last. The deformation budget follows it: occlusion strength
 * ρ_t = p·ρ_max and angle bound θ_t = p·θ_max; and so does the target hardness
 *     τ_t = (1 + κ·p) · L_H(x)                                         κ = `hardness`,
 * relative to H-Net's loss L_H(x) on the CLEAN labelled batch of the same step (a constant): hard samples are asked
 * to be (1 + κ·p) times as hard as the clean ones — slightly harder early, up to (1 + κ) times at the end.
 *
 * A-Net objective (minimise):  L_A = (L_H(x̃) − τ_t)²,   dL_A/dL_H(x̃) = 2·(L_H(x̃) − τ_t).
 *
 * Consistency (on unlabelled images; o, õ [B, K] the H-Net outputs of x and of its hard sample x̃):
 *     L_cons = mean_{i,k} (tanh o_ik − tanh õ_ik)²,
 *     dL/do_ik = 2 (tanh o_ik − tanh õ_ik)(1 − tanh² o_ik) / (B·K),
 *     dL/dõ_ik = −2 (tanh o_ik − tanh õ_ik)(1 − tanh² õ_ik) / (B·K).
 *
 * Anchor consistency (`consistency_kind: anchors`; the default is `codes` above): the unlabelled image's similarity
 * profile over the LABELLED memory bank U [n, K] (DPSH's bank of pre-activations, hashers/dpsh.h) is a soft
 * pseudo-label, and its hard sample must reproduce it (teacher = the clean image, a constant; as the Π-model /
 * FixMatch consistency of semi-supervised classification, with the bank's labelled items in the place of classes):
 *     p_ij   = σ(½ o_iᵀ U_j)                     (constants: no gradient into o)
 *     θ̃_ij  = ½ õ_iᵀ U_j
 *     L_anc  = mean_ij [ softplus(θ̃_ij) − p_ij θ̃_ij ] − H(p)  = mean_ij KL(Bern(p_ij) ‖ Bern(σ(θ̃_ij)))  ≥ 0,
 *     dL/dõ_i = 1/(B·n) Σ_j (σ(θ̃_ij) − p_ij) · ½ U_j     (zero when õ = o),
 * i.e. DPSH's likelihood (hl_dpsh_loss with η = 0) with the soft targets p in place of S, minus their entropy.
 * Unlike L_cons on the codes, it carries the labelled set's structure into the unlabelled images.
 *
 * Deformation:  x̃ = rotate(x ⊙ (1 − ρ·m), a)
 * with m [B, 1, H, W] ∈ [0, 1] the occlusion mask (broadcast over channels), ρ ∈ [0, 1], a [B] angles in radians
 * (hl_rotate_t: bilinear, zeros outside). For x ∈ [0, 1]: x ⊙ (1 − ρm) ∈ [0, x] and bilinear sampling is a convex
 * combination of taps and zeros, so x̃ ∈ [0, 1]. With ρ·m = 0 and a = 0 it is the identity (bit for bit).
 */
#ifndef HL_SSAH_H
#define HL_SSAH_H

#include "core/ops/ops.h"

/* p(e) above; epochs >= 1. */
double hl_ssah_pace(double pace_start, int64_t epoch, int64_t epochs);
/* τ_t = (1 + hardness·pace)·clean_loss. */
double hl_ssah_target(double clean_loss, double hardness, double pace);
/* L_A = (lh − tau)²; *dlh (may be NULL) = 2(lh − tau). */
double hl_ssah_anet_loss(double lh, double tau, double *dlh);
/* L_cons of o, o2 [B, K]; G, G2 [B, K] (may be NULL) receive dL/do and dL/do2 (written, not accumulated). */
double hl_ssah_consistency(const float *o, const float *o2, int64_t B, int K, float *G, float *G2);
/* L_anc of the clean and hard outputs o, o2 [B, K] against the bank U [n, K]; G2 [B, K] (may be NULL) receives
 * dL/do2 (written). P and theta: scratch [B, n] floats each. */
double hl_ssah_anchor_consistency(const float *o, const float *o2, int64_t B, int K, const float *U, int64_t n,
                                  float *P, float *theta, float *G2);
/* x [B, C, H, W], m [B, 1, H, W], angles [B] -> x̃ [B, C, H, W]; differentiable in x, m and angles. */
hl_tensor *hl_ssah_deform(hl_ctx *ctx, hl_tensor *x, hl_tensor *m, hl_tensor *angles, float rho);

#endif
