/* hashers/abml.h — the Weibull cross-entropy (WCE) of ABML (hashers/abml.c), exposed for its unit test.
 *
 * WCE is OUR RECONSTRUCTION (methods.md §4.2 [BEST-UNDERSTANDING]): the abstract says only that WCE is built on the
 * Weibull distribution and explicitly pushes similar pairs close and dissimilar pairs apart. Here the probability
 * that a pair is similar is the Weibull survival function of its normalised code distance:
 *
 *     u = tanh(v)                 v [B, K]: the network's pre-activation for a labelled batch
 *     d_ij = (K − u_iᵀU_j)/(2K)   ∈ [0, 1], normalised Hamming surrogate against the memory bank U [n, K] (tanh outputs
 *                                 of the n labelled training items, latest values, constants; DPSH's bank)
 *     t_ij = (d_ij/λ)^k           λ = wce_scale > 0, k = wce_shape ≥ 1
 *     p(s = 1 | d) = exp(−t)
 *     w(d, s) = s·t − (1 − s)·log(1 − exp(−t))                (−log-likelihood of s, s ∈ [0, 1])
 *     dw/dd   = s·k·t/d − (1 − s)·(k·t/d)/(exp(t) − 1)         (k·t/d = (k/λ)(d/λ)^(k−1), finite at d = 0 for k ≥ 1)
 *
 * Clamp (ours): the dissimilar term −log(1 − e^−t) → +∞ as d → 0 (≈ −k·log(d/λ)); below d = ε (`wce_eps`) it is
 * replaced by its tangent at ε, w(d, 0) = w(ε, 0) + w'(ε, 0)·(d − ε): finite, continuous with a continuous gradient,
 * and still pushing identical codes apart with the slope at ε (≈ −k/ε). d is clamped to [0, 1] first (it cannot leave
 * it for |u|, |U| ≤ 1).
 *
 *     L1 = mean_ij w(d_ij, S_ij)                              (mean over the B·n pairs)
 *     L2 = η · mean_i ‖u_i − sign(u_i)‖²                       (quantisation, sign(0) = +1, summed over bits)
 *     L  = L1 + L2
 * Gradient w.r.t. the pre-activation (bank constant, sign's derivative 0):
 *     dL/du_i = −1/(2K·B·n) Σ_j w'(d_ij, S_ij)·U_j  +  (2η/B)(u_i − sign(u_i))
 *     dL/dv_i = dL/du_i ⊙ (1 − u_i²)
 *
 * Real/fake on the bits (`adv_features: codes`; ours, after Salimans et al. 2016's semi-supervised GAN, where the
 * classifier's own logits decide real against fake, so the unlabelled images shape the classifier itself). For
 * D_H's pre-activations o [B, K] of an image batch and the centre c [1, K] = mean of the step's REAL outputs
 * (labelled and unlabelled batches, a constant), the real/fake logit is
 *     r(o) = w · (1/K) Σ_k lc(o_k − c_k) + b,      lc(t) = softplus(t) − t/2 = log(2 cosh(t/2)) ≥ log 2,
 * (w, b the adv head, a linear(1 → 1) started at w = 1, b = −log 2), and D_H minimises the NS GAN loss on it: real
 * images (labelled and unlabelled) get bits far from the centre (confident), G_H's images bits near it. The centre
 * keeps constant bits from counting as confident: without it (o_k in place of o_k − c_k) the term drove bits to
 * constants, 5,000 labels, seed 0, mAP@all 0.257 (adv_weight 1) and 0.311 (0.1) against the ablation's 0.805.
 * dlc/dt = σ(t) − 1/2.
 */
#ifndef HL_ABML_H
#define HL_ABML_H

#include "core/common.h"

typedef struct hl_abml_wce_opts {
    double scale; /* λ */
    double shape; /* k */
    double eps;   /* tangent continuation of the dissimilar term below d = ε */
    double eta;   /* quantisation weight η */
} hl_abml_wce_opts;

typedef struct hl_abml_loss_parts {
    double wce;          /* L1 */
    double quantisation; /* L2 (η included) */
} hl_abml_loss_parts;

/* w(d, s) of one pair; *grad (may be NULL) receives dw/dd. */
double hl_abml_wce_pair(double d, double s, const hl_abml_wce_opts *o, double *grad);

/* L for pre-activations v [B, K] against the bank U [n, K] with similarities S [B, n] (1 similar, 0 not); G [B, K]
 * receives dL/dv (may be NULL); scratch: [B·n + B·K] floats; parts may be NULL. */
double hl_abml_wce_loss(const float *v, int64_t B, int K, const float *U, int64_t n, const float *S,
                        const hl_abml_wce_opts *o, float *scratch, float *G, hl_abml_loss_parts *parts);

/* Soft targets of the anchor term (gen_target: anchors): P [B, n] = exp(−(d_ij/λ)^k), d_ij as above for u = tanh(v),
 * v [B, K]; u: scratch [B, K]. WCE with these as S is minimal (∂/∂t = 0 per pair) where the student's p equals P. */
void hl_abml_wce_profile(const float *v, int64_t B, int K, const float *U, int64_t n, const hl_abml_wce_opts *o,
                         float *u, float *P);

#endif
