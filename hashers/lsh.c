/* hashers/lsh.c — LSH by random hyperplanes (Charikar 2002): u = (x − μ)·Wᵀ with W [K, D] i.i.d. N(0, 1) from the
 * seed. μ is the training mean (fit) when `center` is true, else 0. Differentiable in x; implemented as one linear
 * layer (W, b = −W·μ) so attacks get gradients. */
#include <stdlib.h>

#include "core/ops/ops.h"
#include "core/nn/init.h"
#include "hashers/hasher.h"

typedef struct lsh {
    hl_hasher base;
    hl_tensor *W, *b;
    bool center;
} lsh;

static const hl_param_spec lsh_params[] = {
    {.name = "center", .type = HL_PARAM_BOOL, .def = "true",
     .doc = "subtract the training mean before projecting (set by fit)"},
};

static hl_status lsh_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                          uint64_t seed) {
    hl_status st = HL_OK;
    lsh *m = (lsh *)self;
    int64_t d = (int64_t)info->c * info->h * info->w;
    HL_TRY(hl_config_get_bool(cfg, "center", &m->center));
    m->W = hl_params_add(&self->params, "W", 2, HL_SHAPE(bits, d));
    m->b = hl_params_add(&self->params, "b", 1, HL_SHAPE(bits));
    HL_TRY(hl_params_alloc(&self->params));
    hl_rng r = hl_rng_make(seed, 0x6c7368 /* "lsh" */);
    hl_init_normal(m->W, &r, 0.0f, 1.0f); /* drawn on the host, uploaded to the hasher's device */
done:
    return st;
}

static hl_status lsh_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    (void)labels;
    lsh *m = (lsh *)self;
    if (!m->center) return HL_OK;
    int64_t d = hl_dataset_image_size(train), chunk = 256;
    double *mu = calloc((size_t)d, sizeof *mu);
    float *buf = malloc((size_t)(chunk * d) * sizeof *buf), *W = malloc((size_t)(self->bits * d) * sizeof *W);
    float *bias = malloc((size_t)self->bits * sizeof *bias);
    if (!mu || !buf || !W || !bias) {
        free(mu), free(buf), free(W), free(bias);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    hl_tensor_download(m->W, W);
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
        int64_t b = HL_MIN(chunk, n - i0);
        hl_dataset_read(train, idx + i0, b, buf);
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < d; j++) mu[j] += buf[i * d + j];
    }
    for (int k = 0; k < self->bits; k++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) s += (double)W[k * d + j] * (mu[j] / (double)n);
        bias[k] = (float)-s;
    }
    hl_tensor_upload(m->b, bias);
    free(mu), free(buf), free(W), free(bias);
    return HL_OK;
}

static hl_tensor *lsh_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    lsh *m = (lsh *)self;
    return hl_linear(ctx, hl_flatten(ctx, x), m->W, m->b);
}

const hl_hasher_class hl_hasher_lsh = {
    .abi = HL_HASHER_ABI,
    .name = "lsh",
    .summary = "LSH (Charikar, STOC'02): signs of random Gaussian projections of the centred pixels",
    .cite = "@inproceedings{charikar2002simhash,\n  author = {Moses S. Charikar},\n  title = {Similarity Estimation Techniques from Rounding Algorithms},\n  booktitle = {Proceedings of the Thirty-Fourth Annual ACM Symposium on Theory of Computing (STOC)},\n  pages = {380--388},\n  year = {2002}\n}\n",
    .params = lsh_params,
    .n_params = (int)HL_ARRAY_LEN(lsh_params),
    .size = sizeof(lsh),
    .flags = HL_HASHER_DIFFERENTIABLE | HL_HASHER_LINEAR | HL_HASHER_DEVICE,
    .init = lsh_init,
    .fit = lsh_fit,
    .forward = lsh_forward,
};
