/* hashers/bthash.c — `bthash`: unsupervised hashing with the Barlow Twins objective (Zbontar, Jing, Misra, LeCun,
 * Deny, "Barlow Twins: Self-Supervised Learning via Redundancy Reduction", ICML 2021) on the hash layer itself.
 * Never reads labels (the lab hands it a label-less view); the code is sign of the hash network's output.
 *
 * Network: v = hashnet(x) = head(backbone(x)) ∈ R^K, the pre-activation; u = tanh(v); code b = sign(v).
 *
 * Per mini-batch of N images (hashers/bthash.h has the math and the gradient, unit-tested): two random views of
 * every image (core/data/augment_views.h; view 0 and view 1 of image i are keyed by (seed, epoch, i)), one forward
 * of the 2N views (the backbone's batch norm sees both views), then
 *     L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij² + q·L_q + γ·L_bal
 * with C the cross-correlation of the batch-standardised tanh outputs of the two views. On a K-bit hash layer the
 * redundancy term is bit decorrelation: the projector of the paper (an 8192-d MLP) is gone, the hash layer is the
 * embedding.
 *
 * What follows the paper ([CODE] in methods.md §14): two augmented views, per-dimension batch standardisation
 * (BatchNorm1d without affine), C = z_Aᵀ z_B / N, the invariance and redundancy terms as written, the whole network
 * trained end to end on them.
 * What is ours ([BEST-UNDERSTANDING] for hashing):
 *   - no projector; tanh before the standardisation (why: hashers/bthash.h);
 *   - λ: the paper's 5e-3 is for D = 8192, where each row of C has 8191 off-diagonal entries against one diagonal
 *     one, so λ·(D − 1) ≈ 41. For K = 16–64 bits that rule would give λ ≈ 0.6–2.7, letting decorrelation outweigh
 *     invariance; and the floor of the redundancy term is noise: for independent bits each C_ij of a batch of N has
 *     variance ≈ 1/N, so L_red cannot go below λ·K(K − 1)/N and its gradient is batch noise there. The default
 *     λ = 1/K (key `lambda` = 0) gives each bit's row of off-diagonal terms about the weight of its diagonal term
 *     (λ·(K − 1) ≈ 1) and keeps the noise floor at (K − 1)/N ≈ 0.25 against K for L_inv at the start (K = 32,
 *     N = 128). Fashion-MNIST (cifar10-1, 32 bits, 8 epochs, one seed), mAP@all: λ = 1/K 0.560, λ = 5e-3 0.482,
 *     λ = 0.1 0.532 (ITQ on the same split: 0.481).
 *   - quantisation q·(1/2N) Σ (|u| − 1)² (default q = 0.1; L_q ≤ q·K) and bit balance
 *     (γ/2) Σ_views ‖mean_batch u‖² (default γ = 1): the standardisation hides each bit's mean from L_inv and L_red,
 *     so without it a bit may sit on one side of 0 for most images and still be "decorrelated" (the same guard as
 *     DPSH's optional term); plus DPSH's data-dependent start (every bit's median over the fit images centred to 0).
 *   - views for small images: random resized crop of area [0.4, 1] (the paper: [0.08, 1] on 224-pixel ImageNet,
 *     far too destructive on 28×28; on Fashion-MNIST as above crop_min 0.2 gave 0.540, 0.4 0.560, 0.7 0.542), aspect
 *     [3/4, 4/3], horizontal flip for RGB (`hflip: auto`; on for grey images too with `on`), brightness and contrast ±0.4 (the paper's ColorJitter strengths), Gaussian blur with
 *     probability 0.2 and σ ∈ [0.1, 1] (the paper: probability 1.0 / 0.1 on its two views, σ ∈ [0.1, 2] at 224
 *     pixels), Gaussian noise σ = 0.03; no grey conversion or solarisation (meaningless on 1-channel images). Each
 *     is a key.
 *   - Adam lr 1e-3, batch 128, 30 epochs, step schedule, weight decay 1e-5 (the paper: LARS, batch 2048, 1000
 *     epochs on ImageNet); after the fit the batch-norm statistics are recomputed on the clean fit images
 *     (hl_deep_recalibrate_bn): the network is used on clean images only.
 * Collapse check: a bank of every fit image's latest view-0 output (logging only) gives the code diversity logged
 * per epoch (hl_deep_log_epoch); a final warning if the codes collapsed.
 * Resume: the shared trainer's state (network, optimizer, RNG, steps) plus the bank; views and batches are pure
 * functions of (seed, epoch, image), so a resumed fit is the uninterrupted one bit for bit.
 * With epochs = 0 fit does nothing: the untrained network.
 */
#include "hashers/bthash.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/augment_views.h"
#include "core/tape.h"
#include "hashers/deep.h"

/* Column means and standard deviations of u [N, K], and z = (u − μ)/s. */
static void standardise(const float *u, int64_t N, int K, double eps, float *mu, float *s, float *z) {
    for (int k = 0; k < K; k++) {
        double m = 0, v = 0;
        for (int64_t n = 0; n < N; n++) m += u[n * K + k];
        m /= (double)N;
        for (int64_t n = 0; n < N; n++) {
            double d = u[n * K + k] - m;
            v += d * d;
        }
        double sd = sqrt(v / (double)N + eps);
        mu[k] = (float)m, s[k] = (float)sd;
        for (int64_t n = 0; n < N; n++) z[n * K + k] = (float)((u[n * K + k] - m) / sd);
    }
}

/* dL/dv of one view from g = dL/dz (see bthash.h), in place into G. */
static void view_grad(const float *u, const float *z, const float *g, const float *mu, const float *s, int64_t N,
                      int K, const hl_bthash_opts *o, float *G) {
    for (int k = 0; k < K; k++) {
        double mg = 0, mgz = 0;
        for (int64_t n = 0; n < N; n++) mg += g[n * K + k], mgz += (double)g[n * K + k] * z[n * K + k];
        mg /= (double)N, mgz /= (double)N;
        for (int64_t n = 0; n < N; n++) {
            int64_t i = n * K + k;
            double du = (g[i] - mg - z[i] * mgz) / s[k];
            du += o->quant / (double)N * (u[i] - (u[i] >= 0 ? 1.0 : -1.0));
            du += o->balance / (double)N * mu[k];
            G[i] = (float)(du * (1.0 - (double)u[i] * u[i]));
        }
    }
}

double hl_bthash_loss(const float *vA, const float *vB, int64_t N, int K, const hl_bthash_opts *o, float *scratch,
                      float *GA, float *GB, hl_bthash_parts *parts) {
    HL_ASSERT(N >= 2 && K >= 1, "bthash loss: %lld rows of %d bits", (long long)N, K);
    int64_t nk = N * K;
    float *uA = scratch, *uB = uA + nk, *zA = uB + nk, *zB = zA + nk, *g = zB + nk, *C = g + nk, *D = C + K * K;
    float *muA = D + K * K, *muB = muA + K, *sA = muB + K, *sB = sA + K;
    for (int64_t i = 0; i < nk; i++) uA[i] = tanhf(vA[i]), uB[i] = tanhf(vB[i]);
    standardise(uA, N, K, o->eps, muA, sA, zA);
    standardise(uB, N, K, o->eps, muB, sB, zB);
    /* C [K, K] = zAᵀ zB / N */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, K, (int)N, 1.0f / (float)N, zA, K, zB, K, 0.0f, C, K);
    double linv = 0, lred = 0, diag = 0, off = 0, lq = 0, lbal = 0;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double c = C[i * K + j];
            if (i == j) {
                linv += (1 - c) * (1 - c), diag += c;
                D[i * K + j] = (float)(-2 * (1 - c));
            } else {
                off += c * c;
                D[i * K + j] = (float)(2 * o->lambda * c);
            }
        }
    lred = o->lambda * off;
    for (int64_t i = 0; i < nk; i++) {
        double a = fabs(uA[i]) - 1, b = fabs(uB[i]) - 1;
        lq += a * a + b * b;
    }
    lq *= o->quant / (2.0 * (double)N);
    for (int k = 0; k < K; k++) lbal += (double)muA[k] * muA[k] + (double)muB[k] * muB[k];
    lbal *= o->balance / 2;
    if (parts) {
        parts->invariance = linv, parts->redundancy = lred, parts->quantisation = lq, parts->balance = lbal;
        parts->mean_diag = diag / K;
        parts->rms_offdiag = K > 1 ? sqrt(off / ((double)K * (K - 1))) : 0.0;
    }
    if (GA || GB) {
        HL_ASSERT(GA && GB, "bthash loss: both gradients or none");
        /* g_A = (1/N) zB Dᵀ, then dL/dvA */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, K, K, 1.0f / (float)N, zB, K, D, K, 0.0f, g, K);
        view_grad(uA, zA, g, muA, sA, N, K, o, GA);
        /* g_B = (1/N) zA D */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, K, K, 1.0f / (float)N, zA, K, D, K, 0.0f, g, K);
        view_grad(uB, zB, g, muB, sB, N, K, o, GB);
    }
    return linv + lred + lq + lbal;
}

/* ---- the hasher ---- */

typedef struct bthash {
    hl_hasher base;
    hl_deep_opts o;
    hl_hashnet net;
    hl_bthash_opts loss;
    hl_views views;
} bthash;

static const hl_param_spec bthash_params[] = {
    HL_DEEP_PARAMS("30", "128", "1e-3", "adam", "1e-5"),
    {.name = "lambda", .type = HL_PARAM_FLOAT, .def = "0", .range = "[0, 100]",
     .doc = "λ of the redundancy (bit decorrelation) term; 0 = 1/K (the paper's 5e-3 is for 8192 dimensions)"},
    {.name = "quantization", .type = HL_PARAM_FLOAT, .def = "0.1", .range = "[0, 1000]",
     .doc = "q: weight of the quantisation term (1/2N) Σ (|tanh v| − 1)² over both views"},
    {.name = "balance", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 1000]",
     .doc = "γ: weight of the bit-balance term (γ/2) Σ_views ‖batch mean of tanh v‖² (0 = off)"},
    {.name = "bn_eps", .type = HL_PARAM_FLOAT, .def = "1e-5", .range = "(0, 1]",
     .doc = "ε of the per-bit batch standardisation"},
    {.name = "crop_min", .type = HL_PARAM_FLOAT, .def = "0.4", .range = "(0, 1]",
     .doc = "random resized crop: smallest area share of the window (1 with crop_max 1: no crop)"},
    {.name = "crop_max", .type = HL_PARAM_FLOAT, .def = "1", .range = "(0, 1]",
     .doc = "random resized crop: largest area share of the window"},
    {.name = "crop_ratio", .type = HL_PARAM_FLOAT, .def = "1.3333333333333333", .range = "[1, 10]",
     .doc = "random resized crop: aspect ratios in [1/r, r]"},
    {.name = "hflip", .type = HL_PARAM_ENUM, .def = "auto", .choices = "auto|on|off",
     .doc = "random horizontal flips of the views (auto: on for 3-channel images)"},
    {.name = "brightness", .type = HL_PARAM_FLOAT, .def = "0.4", .range = "[0, 1]",
     .doc = "brightness jitter: an offset uniform in [−b, b] (on [0,1] pixels)"},
    {.name = "contrast", .type = HL_PARAM_FLOAT, .def = "0.4", .range = "[0, 1]",
     .doc = "contrast jitter: a factor uniform in [1 − c, 1 + c] around the image mean"},
    {.name = "blur_p", .type = HL_PARAM_FLOAT, .def = "0.2", .range = "[0, 1]",
     .doc = "probability of a Gaussian blur of a view"},
    {.name = "blur_sigma", .type = HL_PARAM_FLOAT_LIST, .def = "[0.1, 1]", .range = "(0, 8]",
     .doc = "the blur's σ range [min, max] in pixels"},
    {.name = "noise", .type = HL_PARAM_FLOAT, .def = "0.03", .range = "[0, 1]",
     .doc = "std of additive Gaussian pixel noise of a view"},
};

static hl_status bthash_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                             uint64_t seed) {
    hl_status st = HL_OK;
    bthash *m = (bthash *)self;
    double cmin, cmax, ratio, br, ct, bp, noise, *sig = NULL;
    int64_t nsig = 0;
    const char *flip = NULL;
    HL_TRY(hl_deep_opts_read(&m->o, cfg));
    HL_TRY(hl_config_get_double(cfg, "lambda", &m->loss.lambda));
    if (m->loss.lambda == 0) m->loss.lambda = 1.0 / bits;
    HL_TRY(hl_config_get_double(cfg, "quantization", &m->loss.quant));
    HL_TRY(hl_config_get_double(cfg, "balance", &m->loss.balance));
    HL_TRY(hl_config_get_double(cfg, "bn_eps", &m->loss.eps));
    HL_TRY(hl_config_get_double(cfg, "crop_min", &cmin));
    HL_TRY(hl_config_get_double(cfg, "crop_max", &cmax));
    HL_TRY(hl_config_get_double(cfg, "crop_ratio", &ratio));
    HL_TRY(hl_config_get_string(cfg, "hflip", &flip));
    HL_TRY(hl_config_get_double(cfg, "brightness", &br));
    HL_TRY(hl_config_get_double(cfg, "contrast", &ct));
    HL_TRY(hl_config_get_double(cfg, "blur_p", &bp));
    HL_TRY(hl_config_get_double_list(cfg, "blur_sigma", &sig, &nsig));
    HL_TRY(hl_config_get_double(cfg, "noise", &noise));
    if (nsig != 2) HL_TRY(hl_error_set(HL_EINVAL, "blur_sigma: expected [min, max], got %lld values", (long long)nsig));
    m->views = (hl_views){.crop_min = (float)cmin, .crop_max = (float)cmax, .crop_ratio = (float)ratio,
                          .hflip = !strcmp(flip, "on") || (!strcmp(flip, "auto") && info->c == 3),
                          .brightness = (float)br, .contrast = (float)ct, .blur_p = (float)bp,
                          .blur_sigma_min = (float)sig[0], .blur_sigma_max = (float)sig[1], .noise = (float)noise};
    HL_TRY(hl_views_check(&m->views));
    if (m->o.batch < 2) HL_TRY(hl_error_set(HL_EINVAL, "batch must be >= 2 (the loss standardises over the batch)"));
    HL_TRY(hl_hashnet_init(&m->net, &self->params, &m->o, info, bits, seed));
done:
    free(sig);
    return st;
}

static hl_status bthash_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    hl_status st = HL_OK;
    bthash *m = (bthash *)self;
    const int K = self->bits;
    const int64_t B = m->o.batch, E = m->o.epochs, d = hl_dataset_image_size(train);
    hl_batcher bt = {0};
    hl_deep_trainer t = {0};
    float *U = NULL, *xv = NULL, *G = NULL, *scratch = NULL;
    int64_t *pos = NULL;
    hl_code_diversity div = {0};
    (void)labels; /* unsupervised: labels are never read, visible or not */
    if (E == 0) return HL_OK;
    U = malloc((size_t)(n * K) * sizeof *U);
    xv = malloc((size_t)(2 * B * d) * sizeof *xv);
    G = malloc((size_t)(2 * B * K) * sizeof *G);
    scratch = malloc((size_t)hl_bthash_scratch_len(B, K) * sizeof *scratch);
    pos = malloc((size_t)train->n * sizeof *pos);
    if (!U || !xv || !G || !scratch || !pos)
        HL_TRY(hl_error_set(HL_ENOMEM, "bthash: out of memory for %lld training items", (long long)n));
    for (int64_t i = 0; i < n; i++) pos[idx[i]] = i;
    hl_batcher_opts bo = hl_deep_batcher_opts(self, &m->o);
    HL_TRY(hl_deep_centre_bits(&m->base, &m->net, train, idx, n, U));
    HL_TRY(hl_batcher_init(&bt, train, idx, n, &bo));
    HL_TRY(hl_deep_trainer_begin(&t, self, &m->o));
    hl_train_state_blob(&t.state, "U", U, (size_t)(n * K) * sizeof *U);
    hl_train_state_blob(&t.state, "diversity", &div, sizeof div);
    int64_t e0;
    HL_TRY(hl_deep_trainer_resume(&t, &e0));
    for (int64_t e = e0; e < E; e++) {
        hl_deep_trainer_epoch(&t, e);
        hl_batcher_start(&bt, e);
        hl_batch b;
        double loss_sum = 0, diag_sum = 0;
        int64_t seen = 0;
        while (hl_batcher_next(&bt, &b)) { /* b.labels is never looked at */
            int64_t N = b.m;
            hl_views_batch(&m->views, b.images, xv, N, train->c, train->h, train->w, self->seed, e, b.index, 0);
            hl_views_batch(&m->views, b.images, xv + N * d, N, train->c, train->h, train->w, self->seed, e, b.index,
                           1);
            hl_ctx_reset(t.ctx);
            hl_tensor *x = hl_tensor_from(t.ctx, 4, HL_SHAPE(2 * N, train->c, train->h, train->w), xv);
            hl_tensor *v = hl_hashnet_forward(t.ctx, &m->net, x); /* [2N, K]: view 0 rows, then view 1 rows */
            const float *vh = hl_tensor_host(t.ctx, v);
            for (int64_t i = 0; i < N; i++) memcpy(U + pos[b.index[i]] * K, vh + i * K, (size_t)K * sizeof *U);
            hl_bthash_parts parts;
            double loss = hl_bthash_loss(vh, vh + N * K, N, K, &m->loss, scratch, G, G + N * K, &parts);
            if ((st = hl_deep_trainer_step(&t, v, G)) < 0) {
                if (st != HL_EINTR) hl_error_wrap("epoch %lld", (long long)(e + 1));
                goto done;
            }
            loss_sum += loss * (double)N, diag_sum += parts.mean_diag * (double)N;
            seen += N;
        }
        div = hl_code_diversity_of(U, n, K);
        hl_msg(HL_LOG_DEBUG, "bthash %db: epoch %lld mean C_ii %.3f", K, (long long)(e + 1),
               diag_sum / (double)HL_MAX(seen, 1));
        hl_deep_log_epoch(self, e, E, loss_sum / (double)HL_MAX(seen, 1), &div, &t);
        HL_TRY(hl_deep_trainer_epoch_end(&t, e));
    }
    if (div.collapsed)
        hl_msg(HL_LOG_WARN, "bthash %db: training ended with COLLAPSED codes (%d of %d bits constant, mean bit balance "
               "%.3f): retrieval with them is near chance; raise balance (now %g) or lower quantization (now %g)", K,
               div.constant_bits, K, div.mean_balance, m->loss.balance, m->loss.quant);
    HL_TRY(hl_deep_recalibrate_bn(self, &m->net, &m->o, train, idx, n));
done:
    hl_deep_trainer_end(&t);
    hl_batcher_free(&bt);
    free(U), free(xv), free(G), free(scratch), free(pos);
    return st;
}

static hl_tensor *bthash_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    return hl_hashnet_forward(ctx, &((bthash *)self)->net, x);
}

const hl_hasher_class hl_hasher_bthash = {
    .abi = HL_HASHER_ABI,
    .name = "bthash",
    .summary = "Barlow Twins hashing (Zbontar et al., ICML'21 on the hash layer; unsupervised): two augmented views, "
               "bit invariance + bit decorrelation + quantisation",
    .cite = "@inproceedings{zbontar2021barlow,\n  author = {Jure Zbontar and Li Jing and Ishan Misra and Yann LeCun and St{\\'e}phane Deny},\n  title = {Barlow Twins: Self-Supervised Learning via Redundancy Reduction},\n  booktitle = {Proceedings of the 38th International Conference on Machine Learning (ICML)},\n  series = {PMLR},\n  volume = {139},\n  pages = {12310--12320},\n  year = {2021}\n}\n",
    .params = bthash_params,
    .n_params = (int)HL_ARRAY_LEN(bthash_params),
    .size = sizeof(bthash),
    .flags = HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT | HL_HASHER_DEVICE,
    .init = bthash_init,
    .fit = bthash_fit,
    .forward = bthash_forward,
};
