/* core/ops/warp.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_affine_warp(hl_ctx *ctx, hl_tensor *x, const float *theta) {
    (void)ctx; (void)x; (void)theta;
    HL_ASSERT(0, "hl_affine_warp: not implemented yet");
}

hl_tensor *hl_rotate(hl_ctx *ctx, hl_tensor *x, const float *angles) {
    (void)ctx; (void)x; (void)angles;
    HL_ASSERT(0, "hl_rotate: not implemented yet");
}

