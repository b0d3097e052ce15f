/* attacks/pgd.h — the testable pieces of the `pgd` attack (attacks/pgd.c): the per-image objectives with their
 * gradients w.r.t. the victim's pre-activation output f, and the tanh-sharpening schedule β_t.
 *
 * Notation (one image): f [K] = victim output (pre-sign), u = tanh(β·f), c [K] a ±1 code: the clean code
 * (untargeted) or the target anchor code (targeted). Every loss is minimised by the attack.
 *
 *   HL_PGD_LOSS_HAG     w_k = [|u_k − c_k| < 1 + t], m = Σ w_k, S = Σ w_k c_k u_k
 *                       L = (S/m + 1)²,  dL/du_k = 2·(S/m + 1)·w_k c_k / m   (w is a constant; m = 0: L = 1, grad 0)
 *   HL_PGD_LOSS_IP      L = (1/K)·Σ c_k u_k,  dL/du_k = c_k / K
 *   HL_PGD_LOSS_TARGET  L = −(1/K)·Σ c_k u_k, dL/du_k = −c_k / K           (DHTA / P2P)
 *   and dL/df_k = dL/du_k · β·(1 − u_k²).
 */
#ifndef HL_PGD_H
#define HL_PGD_H

#include <stdbool.h>

typedef enum hl_pgd_loss { HL_PGD_LOSS_HAG, HL_PGD_LOSS_IP, HL_PGD_LOSS_TARGET, HL_PGD_LOSS_COUNT } hl_pgd_loss;

/* β of step t (0-based) out of `steps` under DHTA's schedule scaled to the step count: 0.1 while t < steps/2, then
 * 0.2, 0.3, 0.5, 0.7, 1.0 while t < 6/10, 7/10, 8/10, 9/10, 10/10 of steps (integer comparisons 10·t < j·steps,
 * so steps = 2000 gives the official boundaries 1000, 1200, 1400, 1600, 1800 exactly). sharpen false: 1. */
float hl_pgd_beta(int t, int steps, bool sharpen);

/* Loss of one image and its gradient g [K] = dL/df (see above). f, c: [K]; hag_t: HAG's threshold t. */
double hl_pgd_loss_grad(hl_pgd_loss kind, const float *f, const float *c, int K, float beta, float hag_t, float *g);

#endif
