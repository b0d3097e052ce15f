/* tests/plugins/binarize_plugin.c — a hasher plugin whose forward has no gradient path to its input: it binarises the
 * image (pixel >= 0.5) on the host, outside the tape, then projects it with the example plugin's fixed ±1 pattern
 * (sign_pattern.h), or, fitted with labels, with a class-separating projection (bin_fit). PGD used to crash on such a model; it must attack it (nothing moves) and the lab must say so
 * (tests/lab/test_runner.c). */
#include <stdlib.h>
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

/* With labels: W_k = Σ_c s_kc·(m_c − μ) over the binarised training images (m_c the class means, μ the mean, s_kc the
 * sign pattern's ±1), b_k = −W_k·μ: a hasher that separates the classes, so an attack that moves it shows. */
static hl_status bin_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    binarize *m = (binarize *)self;
    if (!labels || !train->class_id || n == 0) return HL_OK;
    int64_t d = hl_dataset_image_size(train);
    int L = train->labels.nlabels, K = self->bits;
    double *mean = calloc((size_t)((L + 1) * d), sizeof *mean), *cnt = calloc((size_t)L, sizeof *cnt);
    float *x = malloc((size_t)d * sizeof *x);
    if (!mean || !cnt || !x) {
        free(mean), free(cnt), free(x);
        return hl_error_set(HL_ENOMEM, "binarize: out of memory");
    }
    double *mu = mean + (int64_t)L * d;
    for (int64_t i = 0; i < n; i++) {
        hl_dataset_read(train, &idx[i], 1, x);
        int64_t c = train->class_id[idx[i]];
        cnt[c] += 1;
        for (int64_t j = 0; j < d; j++) {
            double v = x[j] >= 0.5f ? 1.0 : 0.0;
            mean[c * d + j] += v, mu[j] += v / (double)n;
        }
    }
    for (int k = 0; k < K; k++) {
        double bk = 0;
        for (int64_t j = 0; j < d; j++) {
            double w = 0;
            for (int c = 0; c < L; c++)
                if (cnt[c] > 0) w += ((k * 7 + c * 3) % 5 < 2 ? 1.0 : -1.0) * (mean[c * d + j] / cnt[c] - mu[j]);
            m->W->data[k * d + j] = (float)w;
            bk -= w * mu[j];
        }
        m->b->data[k] = (float)bk;
    }
    free(mean), free(cnt), free(x);
    return HL_OK;
}

static const hl_hasher_class bin_hasher = {
    .abi = HL_HASHER_ABI,
    .name = "binarize",
    .summary = "test plugin: binarised pixels through a fixed +-1 projection (no input gradient)",
    .size = sizeof(binarize),
    .flags = HL_HASHER_DIFFERENTIABLE | HL_HASHER_SUPERVISED, /* claims differentiability; the attack must cope
                                                              * with a zero gradient all the same */
    .init = bin_init,
    .fit = bin_fit,
    .forward = bin_forward,
};

/* `failfit`: the binarising model whose fit always fails, a failure no check before a run can see (the lab's
 * failed-cell handling is tested with it). */
static hl_status fail_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    (void)self, (void)train, (void)idx, (void)n, (void)labels;
    return hl_error_set(HL_ERR, "failfit: this test model always fails to fit");
}

static const hl_hasher_class fail_hasher = {
    .abi = HL_HASHER_ABI,
    .name = "failfit",
    .summary = "test plugin: a model whose fit always fails",
    .size = sizeof(binarize),
    .flags = HL_HASHER_DIFFERENTIABLE | HL_HASHER_SUPERVISED,
    .init = bin_init,
    .fit = fail_fit,
    .forward = bin_forward,
};

static const hl_hasher_class *const hashers[] = {&bin_hasher, &fail_hasher, NULL};
static const hl_plugin_info info = {.abi = HL_PLUGIN_ABI, .name = "binarize", .hashers = hashers};

const hl_plugin_info *hl_plugin_v1(void);
const hl_plugin_info *hl_plugin_v1(void) { return &info; }
