/* core/ops/elementwise.c — STUB: replaced by the real implementation (forward + backward). */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

hl_tensor *hl_add(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    (void)ctx; (void)a; (void)b;
    HL_ASSERT(0, "hl_add: not implemented yet");
}

hl_tensor *hl_sub(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    (void)ctx; (void)a; (void)b;
    HL_ASSERT(0, "hl_sub: not implemented yet");
}

hl_tensor *hl_mul(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    (void)ctx; (void)a; (void)b;
    HL_ASSERT(0, "hl_mul: not implemented yet");
}

hl_tensor *hl_div(hl_ctx *ctx, hl_tensor *a, hl_tensor *b) {
    (void)ctx; (void)a; (void)b;
    HL_ASSERT(0, "hl_div: not implemented yet");
}

hl_tensor *hl_scale(hl_ctx *ctx, hl_tensor *a, float s) {
    (void)ctx; (void)a; (void)s;
    HL_ASSERT(0, "hl_scale: not implemented yet");
}

hl_tensor *hl_add_scalar(hl_ctx *ctx, hl_tensor *a, float s) {
    (void)ctx; (void)a; (void)s;
    HL_ASSERT(0, "hl_add_scalar: not implemented yet");
}

hl_tensor *hl_pow(hl_ctx *ctx, hl_tensor *a, float p) {
    (void)ctx; (void)a; (void)p;
    HL_ASSERT(0, "hl_pow: not implemented yet");
}

hl_tensor *hl_clamp(hl_ctx *ctx, hl_tensor *a, float lo, float hi) {
    (void)ctx; (void)a; (void)lo; (void)hi;
    HL_ASSERT(0, "hl_clamp: not implemented yet");
}

hl_tensor *hl_abs(hl_ctx *ctx, hl_tensor *a) {
    (void)ctx; (void)a;
    HL_ASSERT(0, "hl_abs: not implemented yet");
}

hl_tensor *hl_exp(hl_ctx *ctx, hl_tensor *a) {
    (void)ctx; (void)a;
    HL_ASSERT(0, "hl_exp: not implemented yet");
}

hl_tensor *hl_log(hl_ctx *ctx, hl_tensor *a) {
    (void)ctx; (void)a;
    HL_ASSERT(0, "hl_log: not implemented yet");
}

