/* core/ops/matmul.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_matmul_t(hl_ctx *ctx, hl_tensor *a, hl_tensor *b, bool ta, bool tb) {
    (void)ctx; (void)a; (void)b; (void)ta; (void)tb;
    HL_ASSERT(0, "hl_matmul_t: not implemented yet");
}

hl_tensor *hl_linear(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias) {
    (void)ctx; (void)x; (void)w; (void)bias;
    HL_ASSERT(0, "hl_linear: not implemented yet");
}

