/* core/ctx.c — execution context: arena, tape head, modes. */
#include "core/ctx.h"
#include "core/kernels.h"

#include <stdlib.h>

hl_status hl_ctx_create(hl_ctx **out, hl_device dev, size_t arena_bytes) {
    *out = NULL;
    const hl_kernels *k = hl_kernels_for(dev);
    if (!k || !hl_device_available(dev))
        return hl_error_set(HL_EDEVICE, "device '%s' is not available (%s)", hl_device_name(dev),
                            k ? "no device present" : "not built in: configure with -DHASHLAB_CUDA=ON");
    hl_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return hl_error_set(HL_ENOMEM, "out of memory allocating a context");
    hl_arena_init(&ctx->arena, (size_t)64 << 10);
    if (dev == HL_DEVICE_CPU) hl_arena_init(&ctx->dev_arena, arena_bytes);
    else hl_arena_init_dev(&ctx->dev_arena, arena_bytes, k->base);
    ctx->dev = dev;
    ctx->k = k;
    ctx->train = true;
    ctx->rng = hl_rng_make(0, 0xC7C7);
    *out = ctx;
    return HL_OK;
}

void hl_ctx_free(hl_ctx *ctx) {
    if (!ctx) return;
    hl_arena_fini(&ctx->arena);
    hl_arena_fini(&ctx->dev_arena);
    for (int i = 0; i < HL_CTX_SCRATCH_SLOTS; i++) ctx->k->base->dev_free(ctx->scratch[i]);
    free(ctx);
}

void hl_ctx_reset(hl_ctx *ctx) {
    hl_arena_reset(&ctx->arena);
    hl_arena_reset(&ctx->dev_arena);
    ctx->tape_tail = NULL;
    ctx->tape_len = 0;
}

void hl_ctx_set_train(hl_ctx *ctx, bool train) { ctx->train = train; }
void hl_ctx_set_seed(hl_ctx *ctx, uint64_t seed) { ctx->rng = hl_rng_make(seed, 0xC7C7); }
void hl_ctx_set_batch_invariant(hl_ctx *ctx, bool on) { ctx->batch_invariant = on; }

void hl_no_grad_begin(hl_ctx *ctx) { ctx->no_grad_depth++; }
void hl_no_grad_end(hl_ctx *ctx) {
    HL_ASSERT(ctx->no_grad_depth > 0, "hl_no_grad_end without hl_no_grad_begin");
    ctx->no_grad_depth--;
}

void *hl_ctx_alloc(hl_ctx *ctx, size_t bytes) { return hl_arena_alloc(&ctx->arena, bytes); }
void *hl_ctx_calloc(hl_ctx *ctx, size_t bytes) { return hl_arena_calloc(&ctx->arena, bytes); }
void *hl_ctx_dev_alloc(hl_ctx *ctx, size_t bytes) { return hl_arena_alloc(&ctx->dev_arena, bytes); }

void *hl_ctx_scratch(hl_ctx *ctx, int slot, size_t bytes) {
    HL_ASSERT(slot >= 0 && slot < HL_CTX_SCRATCH_SLOTS, "hl_ctx_scratch: slot %d", slot);
    if (bytes > ctx->scratch_cap[slot]) {
        size_t cap = (bytes + 63) / 64 * 64;
        ctx->k->base->dev_free(ctx->scratch[slot]);
        ctx->scratch[slot] = ctx->k->base->dev_alloc(cap);
        HL_ASSERT(ctx->scratch[slot], "out of memory allocating %zu bytes of scratch", cap);
        ctx->scratch_cap[slot] = cap;
    }
    return ctx->scratch[slot];
}
