/* tests/plugins/example_plugin.c — an out-of-tree style hashlab plugin with one toy hasher.
 *
 * Build:  cc -shared -fPIC -I<hashlab source> example_plugin.c -o example_plugin.so
 * Use:    HASHLAB_PLUGIN_PATH=/path/to/example_plugin.so hashlab list toy
 *
 * "toy" hashes by a fixed ±1 pattern: u_k = Σ_j s_kj · (x_j − 0.5) with s_kj = +1 when (k·7 + j·3) % 5 < 2, else −1.
 * It calls hl_* functions of the hashlab executable that loads it (hl_params_*, hl_linear, hl_flatten).
 * Compiled with -DEXAMPLE_ABI=999 it declares a wrong plugin ABI (the tests check it is refused). */
#include "core/ops/ops.h"
#include "defences/defence.h"
#include "lab/plugin.h"
#include "sign_pattern.h"

#ifndef EXAMPLE_ABI
#define EXAMPLE_ABI HL_PLUGIN_ABI
#endif

typedef struct toy {
    hl_hasher base;
    hl_tensor *W, *b;
} toy;

static const hl_param_spec toy_params[] = {
    {.name = "gain", .type = HL_PARAM_FLOAT, .def = "1", .range = "(0, inf)", .doc = "scale of the outputs"},
};

static hl_status toy_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                          uint64_t seed) {
    hl_status st;
    toy *m = (toy *)self;
    float gain;
    (void)seed;
    if ((st = hl_config_get_float(cfg, "gain", &gain)) < 0) return st;
#ifdef EXAMPLE_FLIP /* the same plugin rebuilt with other code (tests/lab/test_usability.c): its cells must run again */
    gain = -gain;
#endif
    return sign_pattern_init(&self->params, bits, (int64_t)info->c * info->h * info->w, gain, &m->W, &m->b);
}

static hl_tensor *toy_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    toy *m = (toy *)self;
    return hl_linear(ctx, hl_flatten(ctx, x), m->W, m->b);
}

static const hl_hasher_class toy_hasher = {
    .abi = HL_HASHER_ABI,
    .name = "toy",
    .summary = "example plugin: a fixed +-1 projection of the centred pixels",
    .params = toy_params,
    .n_params = 1,
    .size = sizeof(toy),
    .flags = HL_HASHER_DIFFERENTIABLE,
    .init = toy_init,
    .forward = toy_forward,
};

/* A defence from a plugin (plugin ABI 2): adversarial training away from the clean code, method loss on both. */
static hl_status toy_at_init(hl_defence *self, const hl_config *cfg) {
    (void)cfg;
    self->clean_weight = 1, self->method_adv_weight = 1;
    return HL_OK;
}

static double toy_at_inner(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                           float *grad) {
    (void)self, (void)r;
    return hl_defence_code_product(u, c, B, K, 1.0, grad);
}

static const hl_defence_class toy_defence = {
    .abi = HL_DEFENCE_ABI,
    .name = "toy-at",
    .summary = "example plugin: PGD away from the clean code, the method's loss on clean and adversarial images",
    .size = sizeof(hl_defence),
    .init = toy_at_init,
    .inner = toy_at_inner,
};

static const hl_hasher_class *const hashers[] = {&toy_hasher, NULL};
static const hl_defence_class *const defences[] = {&toy_defence, NULL};
static const hl_plugin_info info = {.abi = EXAMPLE_ABI, .name = "example", .hashers = hashers, .attacks = NULL,
                                    .defences = defences};

const hl_plugin_info *hl_plugin_v1(void);
const hl_plugin_info *hl_plugin_v1(void) { return &info; }
