/* attacks/victim.h — what gradient attacks share: one victim pass over host images (outputs to the host, the input
 * tensor for its gradient), the input gradient on the host, a random start in the threat ball, and the score of a
 * code against the attack's goal.
 *
 *     hl_tensor *xin, *y;
 *     HL_TRY(hl_victim_forward(victim, ctx, xs, m, true, f, &xin, &y));   // f [m, K] host floats
 *     hl_backward_seed(ctx, y, g);                                          // g = dL/df [m, K]
 *     hl_victim_input_grad(xin, gx);                                        // gx [m, d]; zeros without a path
 */
#ifndef HL_ATTACKS_VICTIM_H
#define HL_ATTACKS_VICTIM_H

#include "attacks/attack.h"

/* Victim outputs f [m, K] (host) of images xs [m, d] (host); with grad, also records the tape and returns the input
 * tensor through *xin and the output through *out (either may be NULL). HL_ENUMERIC for a non-finite output. */
hl_status hl_victim_forward(hl_hasher *victim, hl_ctx *ctx, const float *xs, int64_t m, bool grad, float *f,
                            hl_tensor **xin, hl_tensor **out);
/* One step's pass of an iterative attack: gathers the images of A [b, d] not yet stopped into xs (their indices into
 * act, *m of them), resets ctx and runs the victim on them as hl_victim_forward does, adding *m to a->forwards.
 * *m = 0 when every image has stopped (nothing runs). */
hl_status hl_victim_forward_active(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const float *A, const bool *stopped,
                                   int64_t b, int64_t d, bool grad, int64_t *act, float *xs, float *f, hl_tensor **xin,
                                   hl_tensor **out, int64_t *m);
/* dL/dx of the last backward into gx [numel(xin)] (host); zeros when the output has no gradient path to xin (a
 * victim that binarises its input). */
void hl_victim_input_grad(const hl_tensor *xin, float *gx);
/* The ±1 codes [b, K] the images' objectives refer to: goal->target when the attack is targeted (HL_EINVAL without
 * it), else goal->source, else the victim's codes of the clean images x [b, d] (one forward, counted in
 * a->forwards). HL_EMISMATCH when given codes have another length or too few rows; `name` is for messages. */
hl_status hl_victim_goal_codes(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const float *x, int64_t b,
                               const hl_attack_goal *goal, float *code);
/* a = Π(x + δ), δ uniform in the L∞ ball, or a Gaussian direction of uniform radius in the L2 ball. */
void hl_victim_random_start(const hl_threat *t, hl_rng *r, const float *x, float *a, int64_t d);
/* Score of a pre-sign output f [K] against the ±1 code c: bits of sign(f) differing from c (untargeted, to raise) or
 * equal to c (targeted, to raise). */
int hl_victim_code_score(const float *f, const float *c, int K, bool targeted);

#endif
