/* core/ops/loss.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_softmax_ce(hl_ctx *ctx, hl_tensor *logits, hl_tensor *target) {
    (void)ctx; (void)logits; (void)target;
    HL_ASSERT(0, "hl_softmax_ce: not implemented yet");
}

hl_tensor *hl_bce_logits(hl_ctx *ctx, hl_tensor *logits, hl_tensor *target) {
    (void)ctx; (void)logits; (void)target;
    HL_ASSERT(0, "hl_bce_logits: not implemented yet");
}

hl_tensor *hl_mse(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    (void)ctx; (void)a; (void)b;
    HL_ASSERT(0, "hl_mse: not implemented yet");
}

hl_tensor *hl_l1(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    (void)ctx; (void)a; (void)b;
    HL_ASSERT(0, "hl_l1: not implemented yet");
}

