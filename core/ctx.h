/* core/ctx.h — the execution context of one step: arena, tape, grad mode, train/eval mode, device, RNG.
 *
 * Typical training step:
 *     hl_ctx_reset(ctx);                              // O(1): frees last step's activations and tape
 *     hl_tensor *u = model_forward(ctx, x);           // ops record tape nodes when an input requires grad
 *     hl_tensor *loss = hl_mse(ctx, u, t);
 *     hl_backward(ctx, loss);                         // accumulates into parameter grads
 *     hl_optim_step(opt); hl_optim_zero_grad(opt);
 *
 * Parameters, optimizer state and datasets live outside the ctx. One ctx is used by one thread at a time.
 */
#ifndef HL_CTX_H
#define HL_CTX_H

#include "core/arena.h"
#include "core/rng.h"
#include "core/tensor.h"

typedef struct hl_node hl_node;
typedef struct hl_kernels hl_kernels;

#define HL_CTX_SCRATCH_SLOTS 4

struct hl_ctx {
    hl_arena arena;       /* host memory: tensor headers, tape nodes, host views (hl_tensor_host) */
    hl_arena dev_arena;   /* memory of `dev`: tensor data, arena gradients, ops' saved device buffers */
    hl_node *tape_tail;   /* last recorded node; nodes chain backwards through node->prev */
    int64_t tape_len;
    int no_grad_depth;    /* > 0 inside hl_no_grad_begin/end */
    bool train;           /* batch norm uses batch statistics and dropout is active when true */
    bool batch_invariant; /* every sample computed alone: see hl_ctx_set_batch_invariant */
    hl_device dev;
    const hl_kernels *k;  /* kernel table of `dev` */
    hl_rng rng;           /* stream for stochastic ops (dropout); advanced by each use */
    void *scratch[HL_CTX_SCRATCH_SLOTS]; /* hl_ctx_scratch */
    size_t scratch_cap[HL_CTX_SCRATCH_SLOTS];
};

/* Creates a ctx on `dev` with a first arena chunk of `arena_bytes` (0: 1 MiB; it grows as needed).
 * Fails with HL_EDEVICE when the device is not built in or not present. */
hl_status hl_ctx_create(hl_ctx **out, hl_device dev, size_t arena_bytes);
void hl_ctx_free(hl_ctx *ctx);
/* Frees every tensor and tape node made since the last reset. */
void hl_ctx_reset(hl_ctx *ctx);
void hl_ctx_set_train(hl_ctx *ctx, bool train);
void hl_ctx_set_seed(hl_ctx *ctx, uint64_t seed);
/* Batch-invariant mode (off by default; the attack driver and encoding turn it on): the ops that mix samples in one
 * GEMM (conv2d, conv_transpose2d, linear) compute every sample with its own GEMM of a shape that depends only on the
 * sample (gemm_batched over the batch, each product on one thread), so a sample's outputs and input gradient are
 * bit-identical whatever the batch size, the sample's position in the batch and the thread count; every other op is
 * per element or per sample already. Batch norm must be in eval mode for this to hold (training mode mixes samples
 * by definition). Weight gradients still sum over the batch. Costs ~10-20% of attack speed (fully connected layers
 * become one GEMV per sample). */
void hl_ctx_set_batch_invariant(hl_ctx *ctx, bool on);
static inline bool hl_grad_enabled(const hl_ctx *ctx) { return ctx->no_grad_depth == 0; }

/* No-grad scopes nest: ops inside record nothing. */
void hl_no_grad_begin(hl_ctx *ctx);
void hl_no_grad_end(hl_ctx *ctx);

/* Allocation from the step's host arena (host memory: headers, pointer arrays, host copies). */
void *hl_ctx_alloc(hl_ctx *ctx, size_t bytes);
void *hl_ctx_calloc(hl_ctx *ctx, size_t bytes);
/* Allocation from the step's device arena (memory of ctx->dev, for kernels only: pool indices, saved θ). */
void *hl_ctx_dev_alloc(hl_ctx *ctx, size_t bytes);
/* An op's own temporaries (an im2col matrix that dies with the call): slot's buffer (0 <= slot <
 * HL_CTX_SCRATCH_SLOTS) of at least `bytes`, memory of ctx->dev, 64-byte aligned, contents undefined. The ctx keeps each
 * slot's buffer across calls and steps, growing it when asked for more, so the temporaries of a step's many ops
 * share memory instead of piling up in the arena. Valid only until the next request for the same slot: use it
 * within one forward or backward call, never keep it (what a backward needs is saved in the arena). */
void *hl_ctx_scratch(hl_ctx *ctx, int slot, size_t bytes);

#endif
