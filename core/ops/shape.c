/* core/ops/shape.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_reshape(hl_ctx *ctx, hl_tensor *x, int ndim, const int64_t *shape) {
    (void)ctx; (void)x; (void)ndim; (void)shape;
    HL_ASSERT(0, "hl_reshape: not implemented yet");
}

hl_tensor *hl_flatten(hl_ctx *ctx, hl_tensor *x) {
    (void)ctx; (void)x;
    HL_ASSERT(0, "hl_flatten: not implemented yet");
}

hl_tensor *hl_transpose(hl_ctx *ctx, hl_tensor *x, int d0, int d1) {
    (void)ctx; (void)x; (void)d0; (void)d1;
    HL_ASSERT(0, "hl_transpose: not implemented yet");
}

hl_tensor *hl_concat(hl_ctx *ctx, int n, hl_tensor *const *xs, int axis) {
    (void)ctx; (void)n; (void)xs; (void)axis;
    HL_ASSERT(0, "hl_concat: not implemented yet");
}

hl_tensor *hl_slice(hl_ctx *ctx, hl_tensor *x, int axis, int64_t start, int64_t end) {
    (void)ctx; (void)x; (void)axis; (void)start; (void)end;
    HL_ASSERT(0, "hl_slice: not implemented yet");
}

