/* core/ops/norm.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_batchnorm(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float *running_mean, float *running_var, float momentum, float eps) {
    (void)ctx; (void)x; (void)gamma; (void)beta; (void)running_mean; (void)running_var; (void)momentum; (void)eps;
    HL_ASSERT(0, "hl_batchnorm: not implemented yet");
}

hl_tensor *hl_instancenorm(hl_ctx *ctx, hl_tensor *x, hl_tensor *gamma, hl_tensor *beta, float eps) {
    (void)ctx; (void)x; (void)gamma; (void)beta; (void)eps;
    HL_ASSERT(0, "hl_instancenorm: not implemented yet");
}

hl_tensor *hl_dropout(hl_ctx *ctx, hl_tensor *x, float p) {
    (void)ctx; (void)x; (void)p;
    HL_ASSERT(0, "hl_dropout: not implemented yet");
}

