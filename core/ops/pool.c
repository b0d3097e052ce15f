/* core/ops/pool.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_maxpool2d(hl_ctx *ctx, hl_tensor *x, int k, int stride, int pad) {
    (void)ctx; (void)x; (void)k; (void)stride; (void)pad;
    HL_ASSERT(0, "hl_maxpool2d: not implemented yet");
}

hl_tensor *hl_avgpool2d(hl_ctx *ctx, hl_tensor *x, int k, int stride, int pad) {
    (void)ctx; (void)x; (void)k; (void)stride; (void)pad;
    HL_ASSERT(0, "hl_avgpool2d: not implemented yet");
}

hl_tensor *hl_global_avgpool(hl_ctx *ctx, hl_tensor *x) {
    (void)ctx; (void)x;
    HL_ASSERT(0, "hl_global_avgpool: not implemented yet");
}

