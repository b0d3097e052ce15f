/* core/ops/activation.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_relu(hl_ctx *ctx, hl_tensor *x) {
    (void)ctx; (void)x;
    HL_ASSERT(0, "hl_relu: not implemented yet");
}

hl_tensor *hl_leaky_relu(hl_ctx *ctx, hl_tensor *x, float slope) {
    (void)ctx; (void)x; (void)slope;
    HL_ASSERT(0, "hl_leaky_relu: not implemented yet");
}

hl_tensor *hl_sigmoid(hl_ctx *ctx, hl_tensor *x) {
    (void)ctx; (void)x;
    HL_ASSERT(0, "hl_sigmoid: not implemented yet");
}

hl_tensor *hl_tanh_scaled(hl_ctx *ctx, hl_tensor *x, float beta) {
    (void)ctx; (void)x; (void)beta;
    HL_ASSERT(0, "hl_tanh_scaled: not implemented yet");
}

hl_tensor *hl_softplus(hl_ctx *ctx, hl_tensor *x) {
    (void)ctx; (void)x;
    HL_ASSERT(0, "hl_softplus: not implemented yet");
}

hl_tensor *hl_sign(hl_ctx *ctx, hl_tensor *x) {
    (void)ctx; (void)x;
    HL_ASSERT(0, "hl_sign: not implemented yet");
}

hl_tensor *hl_sign_ste(hl_ctx *ctx, hl_tensor *x) {
    (void)ctx; (void)x;
    HL_ASSERT(0, "hl_sign_ste: not implemented yet");
}

