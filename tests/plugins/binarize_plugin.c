/* tests/plugins/binarize_plugin.c — a hasher plugin whose forward has no gradient path to its input: it binarises the
 * image (pixel >= 0.5) on the host, outside the tape, then projects it with the example plugin's fixed ±1 pattern
 * (sign_pattern.h). PGD used to crash on such a model; it must attack it (nothing moves) and the lab must say so
 * (tests/lab/test_runner.c). */
#include <string.h>

#include "core/ops/ops.h"
#include "lab/plugin.h"
#include "sign_pattern.h"

typedef struct binarize {
    hl_hasher base;
    hl_tensor *W, *b;
} binarize;

static hl_status bin_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                          uint64_t seed) {
    binarize *m = (binarize *)self;
    (void)cfg, (void)seed;
    return sign_pattern_init(&self->params, bits, (int64_t)info->c * info->h * info->w, 1.0f, &m->W, &m->b);
}

static hl_tensor *bin_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    binarize *m = (binarize *)self;
    hl_tensor *xb = hl_tensor_new(ctx, x->ndim, x->shape); /* a new leaf: no tape link to x */
    for (int64_t i = 0; i < hl_tensor_numel(x); i++) xb->data[i] = x->data[i] >= 0.5f ? 1.0f : 0.0f;
    return hl_linear(ctx, hl_flatten(ctx, xb), m->W, m->b);
}

static const hl_hasher_class bin_hasher = {
    .abi = HL_HASHER_ABI,
    .name = "binarize",
    .summary = "test plugin: binarised pixels through a fixed +-1 projection (no input gradient)",
    .size = sizeof(binarize),
    .flags = HL_HASHER_DIFFERENTIABLE, /* claims it; the attack must cope with a zero gradient all the same */
    .init = bin_init,
    .forward = bin_forward,
};

static const hl_hasher_class *const hashers[] = {&bin_hasher, NULL};
static const hl_plugin_info info = {.abi = HL_PLUGIN_ABI, .name = "binarize", .hashers = hashers};

const hl_plugin_info *hl_plugin_v1(void);
const hl_plugin_info *hl_plugin_v1(void) { return &info; }
