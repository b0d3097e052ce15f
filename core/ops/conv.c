/* core/ops/conv.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_conv2d(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o) {
    (void)ctx; (void)x; (void)w; (void)bias; (void)o;
    HL_ASSERT(0, "hl_conv2d: not implemented yet");
}

hl_tensor *hl_conv_transpose2d(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o) {
    (void)ctx; (void)x; (void)w; (void)bias; (void)o;
    HL_ASSERT(0, "hl_conv_transpose2d: not implemented yet");
}

