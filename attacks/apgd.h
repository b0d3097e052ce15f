/* attacks/apgd.h — the testable pieces of the `apgd` attack (attacks/apgd.c): its scale-invariant objective and its
 * checkpoint schedule.
 *
 * Objective (one image, minimised; ours, in the spirit of DLR's invariance): f [K] the victim's pre-sign output, c the
 * ±1 code it refers to (the clean or source code untargeted, the target code targeted), σ = sqrt((1/K)·Σ f_k²) the
 * output's RMS, s = (1/K)·Σ c_k f_k:
 *     untargeted  L = s / σ            (the cosine between f and c: minimising it flips bits away from c)
 *     targeted    L = −s / σ           (pulls f's signs onto the target)
 *     dL/df_k = ±(1/(K·σ))·(c_k − s·f_k/σ²)
 * L(α·f) = L(f) for every α > 0, so the attack is unchanged when the victim's outputs are rescaled (a tanh(β·f) or a
 * raw inner-product loss is not: its gradient vanishes or explodes with the scale). σ = 0 (f all zero) gives L = 0 and
 * a zero gradient.
 *
 * Checkpoints (Croce & Hein 2020, §3.1: p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)), in
 * the integers of the authors' code: w_0 = 0, w_{j+1} = w_j + span_j with span_0 = max(⌊0.22·N⌋, 1) and
 * span_{j+1} = max(span_j − max(⌊0.03·N⌋, 1), max(⌊0.06·N⌋, 1)), while w_j ≤ N (N = 100: 0 22 41 57 70 80 87 93 99).
 */
#ifndef HL_APGD_H
#define HL_APGD_H

#include <stdbool.h>
#include <stdint.h>

/* Loss of one image and g [K] = dL/df. */
double hl_apgd_loss_grad(const float *f, const float *c, int K, bool targeted, float *g);
/* Fills w[0..) with the checkpoints of an N-step run (w[0] = 0, increasing, all <= N); returns how many. w needs
 * room for 64. */
int hl_apgd_checkpoints(int N, int *w);

#endif
