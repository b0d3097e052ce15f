/* core/ops/reduce.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_sum(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    (void)ctx; (void)x; (void)axes; (void)keepdim;
    HL_ASSERT(0, "hl_sum: not implemented yet");
}

hl_tensor *hl_mean(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    (void)ctx; (void)x; (void)axes; (void)keepdim;
    HL_ASSERT(0, "hl_mean: not implemented yet");
}

hl_tensor *hl_max(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    (void)ctx; (void)x; (void)axes; (void)keepdim;
    HL_ASSERT(0, "hl_max: not implemented yet");
}

hl_tensor *hl_logsumexp(hl_ctx *ctx, hl_tensor *x, unsigned axes, bool keepdim) {
    (void)ctx; (void)x; (void)axes; (void)keepdim;
    HL_ASSERT(0, "hl_logsumexp: not implemented yet");
}

