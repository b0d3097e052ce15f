/* tests/plugins/sign_pattern.h — the fixed projection the test plugins share (header-only): W [bits, d] with
 * W_kj = +gain when (k·7 + j·3) % 5 < 2, else −gain, and b_k = −½ Σ_j W_kj, so u = W·x + b = W·(x − ½). */
#ifndef HL_TEST_SIGN_PATTERN_H
#define HL_TEST_SIGN_PATTERN_H

#include "core/nn/params.h"

/* Declares "W" and "b" in p, allocates p and fills them; *W, *b receive the tensors. */
static inline hl_status sign_pattern_init(hl_params *p, int bits, int64_t d, float gain, hl_tensor **W, hl_tensor **b) {
    hl_status st;
    *W = hl_params_add(p, "W", 2, HL_SHAPE(bits, d));
    *b = hl_params_add(p, "b", 1, HL_SHAPE(bits));
    if ((st = hl_params_alloc(p)) < 0) return st;
    for (int k = 0; k < bits; k++) {
        float sum = 0;
        for (int64_t j = 0; j < d; j++) {
            float s = (k * 7 + j * 3) % 5 < 2 ? gain : -gain;
            (*W)->data[k * d + j] = s;
            sum += s;
        }
        (*b)->data[k] = -0.5f * sum;
    }
    return HL_OK;
}

#endif
