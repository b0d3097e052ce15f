/* tests/common/test_victim.h — the attack tests' victim (header-only, for the tests under tests/attacks): a small,
 * smooth, reliably trained CNN hasher, so an attack test measures the attack and not a victim's training luck.
 *
 *   x [B, C, H, W] → conv3×3 s2 (C→8) → relu → conv3×3 s2 (8→16) → relu → flatten (16·⌈H/4⌉·⌈W/4⌉) → linear → K
 *   fit: Adam (lr 3e-3), `iters` steps of 32 images drawn with replacement, L = mean (tanh(u) − c_y)² with c_y one
 *   random ±1 code per class (a hash-centre objective; classes = the dataset's labels, single-label sets only).
 *
 *     hl_hasher *h = hl_test_victim(&info, K, seed, 400);   hl_hasher_fit(h, &set, idx, n, true);
 */
#ifndef HL_TEST_VICTIM_H
#define HL_TEST_VICTIM_H

#include <math.h>
#include <stdlib.h>

#include "core/nn/init.h"
#include "core/nn/layers.h"
#include "core/optim.h"
#include "core/tape.h"
#include "test_hashers.h"

typedef struct hl_test_tiny {
    hl_hasher base;
    hl_conv2d_layer c1, c2;
    hl_linear_layer fc;
    int64_t iters;
} hl_test_tiny;

static const hl_param_spec hl_test_tiny_params[] = {
    {.name = "iters", .type = HL_PARAM_INT, .def = "400", .range = "[0, 100000]", .doc = "Adam steps of 32 images"},
};

static hl_status hl_test_tiny_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                                   uint64_t seed) {
    hl_test_tiny *m = (hl_test_tiny *)self;
    hl_status st = hl_config_get_int(cfg, "iters", &m->iters);
    if (st < 0) return st;
    hl_conv2d_layer_init(&m->c1, &self->params, "c1", info->c, 8, 3, 2, 1, 1, true);
    hl_conv2d_layer_init(&m->c2, &self->params, "c2", 8, 16, 3, 2, 1, 1, true);
    hl_linear_layer_init(&m->fc, &self->params, "fc", 16 * ((info->h + 3) / 4) * ((info->w + 3) / 4), bits, true);
    if ((st = hl_params_alloc(&self->params)) < 0) return st;
    hl_rng r = hl_rng_make(seed, 1);
    hl_nn_init_default(&m->c1, &r);
    hl_nn_init_default(&m->c2, &r);
    hl_nn_init_default(&m->fc, &r);
    return HL_OK;
}

static hl_tensor *hl_test_tiny_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    hl_test_tiny *m = (hl_test_tiny *)self;
    hl_tensor *h = hl_relu(ctx, hl_conv2d_layer_forward(ctx, &m->c1, x));
    h = hl_relu(ctx, hl_conv2d_layer_forward(ctx, &m->c2, h));
    return hl_linear_layer_forward(ctx, &m->fc, hl_flatten(ctx, h));
}

static hl_status hl_test_tiny_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n,
                                  bool labels) {
    (void)labels;
    enum { B = 32 };
    hl_test_tiny *m = (hl_test_tiny *)self;
    int K = self->bits, L = train->labels.nlabels;
    int64_t d = hl_dataset_image_size(train);
    cr_assert_not_null(train->class_id, "the test victim needs a single-label set");
    float *centre = malloc((size_t)L * K * sizeof *centre), *xb = malloc((size_t)(B * d) * sizeof *xb),
          *g = malloc((size_t)B * K * sizeof *g);
    cr_assert(centre && xb && g);
    hl_rng r = hl_rng_make(self->seed, 2);
    for (int i = 0; i < L * K; i++) centre[i] = hl_rng_u32(&r) & 1 ? 1.0f : -1.0f;
    hl_ctx *ctx = hl_test_ctx();
    hl_optim *o = NULL;
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    oc.lr = 3e-3f;
    cr_assert_eq(hl_optim_create(&o, &self->params, &oc), HL_OK);
    for (int64_t it = 0; it < m->iters; it++) {
        int64_t bi[B];
        for (int j = 0; j < B; j++) bi[j] = idx[(int64_t)hl_rng_below(&r, (uint64_t)n)];
        hl_dataset_read(train, bi, B, xb);
        hl_ctx_reset(ctx);
        hl_tensor *x = hl_tensor_from(ctx, 4, HL_SHAPE(B, train->c, train->h, train->w), xb);
        hl_tensor *u = hl_test_tiny_forward(self, ctx, x);
        for (int j = 0; j < B; j++)
            for (int k = 0; k < K; k++) {
                float t = tanhf(u->data[j * K + k]), c = centre[train->class_id[bi[j]] * K + k];
                g[j * K + k] = 2 * (t - c) * (1 - t * t) / (B * K);
            }
        hl_backward_seed(ctx, u, g);
        hl_optim_step(o);
        hl_optim_zero_grad(o);
    }
    hl_optim_free(o);
    hl_ctx_free(ctx);
    free(centre), free(xb), free(g);
    return HL_OK;
}

static const hl_hasher_class hl_test_tiny_class = {
    .abi = HL_HASHER_ABI,
    .name = "tiny",
    .summary = "test CNN",
    .params = hl_test_tiny_params,
    .n_params = 1,
    .size = sizeof(hl_test_tiny),
    .flags = HL_HASHER_SUPERVISED | HL_HASHER_DIFFERENTIABLE,
    .init = hl_test_tiny_init,
    .fit = hl_test_tiny_fit,
    .forward = hl_test_tiny_forward,
};

/* The victim for images `info`, K bits, trained for `iters` steps by hl_hasher_fit. */
static inline hl_hasher *hl_test_victim(const hl_dataset_info *info, int K, uint64_t seed, int iters) {
    char it[32];
    snprintf(it, sizeof it, "%d", iters);
    hl_config *p = hl_test_params((const char *const[]){"iters", it, NULL});
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, &hl_test_tiny_class, p, info, K, seed), HL_OK, "%s", hl_error_last());
    hl_config_free(p);
    return h;
}

#endif
