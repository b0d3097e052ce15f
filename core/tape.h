/* core/tape.h — define-by-run reverse-mode autograd.
 *
 * Every op computes its output immediately. If grad mode is on and one of its inputs requires grad, it marks the
 * output as requiring grad and appends a fixed-size node (core/ops/op_impl.h) to the ctx's tape. The tape is in
 * execution order, hence already topologically sorted.
 *
 * hl_backward(ctx, loss):
 *   - `loss` must be a scalar (numel 1) produced in this ctx; its gradient is seeded with 1.
 *   - Walks the tape from newest to oldest; a node whose output got no gradient is skipped.
 *   - Each node's backward ACCUMULATES (+=) into every input that requires grad. Parameter gradients therefore sum
 *     over successive backward calls until the optimizer zeroes them (hl_optim_zero_grad); leaf arena tensors get a
 *     zeroed arena grad on first use; heap leaves (an attack's δ) keep theirs until the caller zeroes it.
 *   - Gradients of intermediate tensors are reset at the start of every backward, so a ctx may run several
 *     forward/backward pairs between resets (GAN D-step then G-step); the tape is cleared after each backward.
 *
 * Controls: hl_no_grad_begin/end (ctx.h); hl_detach; freeze a parameter set by clearing HL_T_REQUIRES_GRAD on its
 * tensors (hl_params_set_requires_grad in core/nn); gradient w.r.t. any leaf: set_requires_grad on it, read ->grad.
 *
 * Deliberate limits:
 *   - First-order only: backward functions call raw kernels and record nothing (no double backward, so no
 *     WGAN-GP / R1 penalties; LSGAN and non-saturating GAN losses are fine).
 *   - No in-place ops on tensors that require grad; at most 4 dims; float32 only.
 *   - A tensor produced by an op must not be modified before backward (ops may save it for their gradient).
 */
#ifndef HL_TAPE_H
#define HL_TAPE_H

#include "core/ctx.h"

/* Reverse sweep from a scalar loss (seed 1). */
void hl_backward(hl_ctx *ctx, hl_tensor *loss);
/* Reverse sweep from any tensor `out` with a given upstream gradient `seed` (numel(out) floats, host memory):
 * computes the gradient of sum(seed ⊙ out). Used by vector-Jacobian checks and multi-output losses. */
void hl_backward_seed(hl_ctx *ctx, hl_tensor *out, const float *seed);

/* A view of t (same data) that does not require grad and records nothing: gradients stop here. */
hl_tensor *hl_detach(hl_ctx *ctx, const hl_tensor *t);

/* Clears the tape without a backward (e.g. after a forward that turned out not to need one). */
void hl_tape_clear(hl_ctx *ctx);

#endif
