/* attacks/prosgan.c — ProS-GAN (Wang, Zhang, Wu, Shen, Lu, CVPR 2021): a prototype-supervised generator for
 * targeted attacks on deep hashing (methods.md §7). fit learns from the frozen victim once; perturb is one generator
 * forward pass per batch: x' = G(x, f(y_t)), then hl_threat_project (norm none: pixel box; linf: the optional clip).
 *
 * Networks (y multi-hot [B, L], K bits, images [B, C, H, W] with H = W divisible by 4, s = H/4, w = `width`):
 *   PrototypeNet P:  f = FC(L→proto_hidden) → ReLU → FC(→feat);  h_p = tanh(FC(feat→K));  ŷ = sigmoid(FC(feat→L))
 *   Generator G(x, f), x mapped to [−1, 1] (2x − 1):
 *     label encoder:  FC(feat → w·s²) → ReLU → [w, s, s];  2 × [ConvT 4×4 s2 p1 (no bias) → IN → ReLU]:
 *                     w → w/2 → w/4 channels, s → 2s → 4s = H;  Conv 3×3 p1 (w/4 → C, no bias) = label map
 *     image encoder:  concat(label map, x) (2C) → Conv 7×7 p3 (→ w) → IN → ReLU;
 *                     2 × [Conv 4×4 s2 p1 → IN → ReLU]: w → 2w → 4w, H → H/4;  `res_blocks` residual blocks (4w)
 *                     x + [Conv 3×3 → IN → ReLU → Conv 3×3 → IN]
 *     decoder:        2 × [ConvT 4×4 s2 p1 → IN → ReLU]: 4w → 2w → w;  concat(·, x) → Conv 3×3 p1 (w + C → C) → tanh
 *     x' = (G + 1)/2 ∈ [0, 1].  IN = instance norm without affine; G's convolutions have no bias.
 *   Discriminator D (fit only): 2 × [SN-Conv 4×4 s2 p1 (bias) → LeakyReLU 0.01]: C → d_width → 2·d_width,
 *     H → H/4;  Conv s×s (no bias) → C_L + 1 scores [B, L + 1] (L label scores, then real(0)/fake(1); no sigmoid).
 *     Spectral norm: W/σ with σ = uᵀWv from one power-iteration step per forward (v = Wᵀu/‖Wᵀu‖, u = Wv/‖Wv‖,
 *     u kept as a buffer, W as [O, C·4·4]); σ is a constant in backward (the gradient of W/σ is g/σ).
 * Stage 1 (P; G untouched): b_j = sign(F(x_j)) of the training images through the victim (as the official code),
 *   targets y_t drawn uniformly from the distinct database label sets, S_ij = [y_t,i shares a label with y_j],
 *   L_P = Σ(log(1+e^θ) − S·θ)/(N·B) + MSE(ŷ, y_t) + Σ‖sign(h_p) − h_p‖²/(10⁴·B), θ = ½ h_pᵀb (hl_prosgan_proto_loss);
 *   Adam(proto_lr, β = (0.5, 0.999)), proto_steps steps of proto_batch, lr ×0.1 at 50% and 75% of the steps.
 * Stage 2 (G and D; P frozen): per training image a target y_t (distinct database label sets, uniform), f and
 *   b_t = sign(h_p) from P; x' = G(x, f) in [−1, 1];
 *   G step:  L_G = rec_weight·MSE(x', x) + ham_weight·L_ham + adv_weight·MSE(D(x'), [y_t, 0])      (D frozen)
 *            L_ham = 1 − mean(tanh(β·F((x' + 1)/2)) ⊙ b_t)   (hl_prosgan_ham_loss; F = the victim's real output,
 *            β = ham_beta, or by default 1 / mean |F| over the training images)
 *   D step when the iteration index i % 3 == 0, after the G step, on the same x' (detached):
 *            L_D = ½[MSE(D(x), [y_x, 0]) + MSE(D(x'), [y_t, 1])]
 *   Adam(lr, β = (0.5, 0.999)) for G and D; gan_epochs epochs of ⌊n / batch⌋ iterations over a fresh permutation;
 *   lr multiplier 1 for the first half of the iterations, then 1 − (t + 1 − T/2)/(T − T/2 + 1) at iteration t.
 * Cost counters: fit adds n victim forwards (the training codes) and B forwards + B backwards per G step; perturb
 *   uses no victim pass.
 *
 * What follows the official code (xunguangwang/ProS-GAN, model/module.py and model/target_attack_gan.py): the three
 * networks' structure (FC-ReLU-FC semantic head with tanh code and sigmoid label heads; label encoder → label map
 * concatenated with x; residual encoder-decoder; output conv on concat(decoder, x) with tanh; SN PatchGAN-style D with
 * LeakyReLU 0.01 and L + 1 scores), the [−1, 1] mapping, the losses and their weights (ham 5, adv 1), the D step
 * every third iteration (ours: after that iteration's G step instead of before it, because every backward clears
 * the tape and the D step would erase the generator's forward record), Adam β1 = 0.5, stage 1's lr drops at
 * 50%/75%, stage 2's constant-then-linear-decay lr.
 * What is scaled or ours: the sizes (224×224 → H = W = 4s: 2 upsamplings in the label encoder instead of 4, 2
 * strided D convs instead of 5, widths and FC sizes as params: 4096/512/64/64 in the code); the residual blocks are
 * `res_blocks` in one run (the code has 3 in the encoder + 3 in the decoder, the same thing in sequence); learning
 * rates, step counts, rec_weight (paper 50-100) chosen for fast fits on small images; the stage-2 decay applied per
 * iteration (the code steps it per epoch over 100 epochs); PyTorch's default initialisation for every layer; σ of
 * spectral norm constant in backward (PyTorch differentiates through u, v being constants: it also has the
 * −(uᵀGv)·uvᵀ/σ term); the victim and all networks run in eval mode (none of ours has batch norm); the stage-1
 * targets drawn uniformly over the distinct database label sets for every step; β in L_ham (the code's F is the
 * victim's tanh output, β = 1; our victims' raw outputs can be large — DPSH's |F| is several units — where tanh
 * saturates and L_ham gives G no gradient, so by default β scales the mean |F| to 1); skip_init (default 2) added to
 * the output conv's centre tap from x's own channel, so that G starts close to x (tanh(2x)) — with a few hundred G
 * steps instead of 100 epochs, a PyTorch-initialised G spends its budget learning to copy x (pert_rmse 0.14 vs 0.08
 * at rec_weight 50 in tests/attacks/test_prosgan.c); D lives only inside fit (its own hl_params, freed there; not
 * saved).
 * Sizes: the networks depend on the victim (K, L, C, H), which init does not see: hl_prosgan_prepare (prosgan.h)
 * declares them; fit calls it, a load into a fresh attack needs it first (init leaves an empty allocated set, so a
 * load before it fails cleanly with HL_EMISMATCH).
 * Cost (defaults, 5,000 Fashion-MNIST-sized 28×28×1 images, dpsh cnn-small victim, 32 or 64 bits, one thread):
 * stage 1 ≈ 5 s, stage 2 ≈ 15 s per epoch, whole fit ≈ 35 s CPU; perturb ≈ 1 ms per image.
 * rec_weight on Fashion-MNIST (5,000 training images, DPSH cnn-small 32 bits trained 3 epochs, mAP@all 0.69; 500
 * queries, 5,000 database items; t-mAP@all clean floor 0.119, prototype codes 0.651), defaults otherwise:
 *     rec_weight     5      10 (default)   15      50
 *     t-mAP@all      0.626  0.441          0.364   0.139
 *     pert_rmse      0.164  0.106          0.082   0.038
 * (clipped to L∞ 8/255 every one of them falls back to the floor, t-mAP ≈ 0.125). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/prosgan.h"
#include "core/hash.h"
#include "core/io/grid.h"
#include "core/io/train_state.h"
#include "core/job.h"
#include "core/nn/layers.h"
#include "core/optim.h"
#include "core/tape.h"

#define PG_STREAM 0x70726f73ULL /* "pros" */
#define PG_MAX_RES 16
#define PG_IN_EPS 1e-5f

typedef struct pg_proto {
    hl_linear_layer fc1, fc2, code, lab;
} pg_proto;

typedef struct pg_gen {
    hl_linear_layer lfc;
    hl_conv_transpose2d_layer lup[2];
    hl_conv2d_layer lout, e0, e1, e2;
    hl_conv2d_layer res[PG_MAX_RES][2];
    hl_conv_transpose2d_layer d1, d2;
    hl_conv2d_layer out;
} pg_gen;

typedef struct pg_disc {
    hl_params p;
    hl_conv2d_layer down[2];
    hl_tensor *u[2]; /* power-iteration vectors [O] (buffers) */
    hl_conv2d_layer head;
} pg_disc;

typedef struct prosgan {
    hl_attack base;
    int64_t proto_steps, proto_batch, gan_epochs, batch, width, d_width, res_blocks, feat, proto_hidden, grid;
    float proto_lr, lr, rec_weight, ham_weight, adv_weight, skip_init, ham_beta;
    float beta; /* β of L_ham used by this fit (ham_beta, or 1 / mean |F| of the training images) */
    bool ready;
    int L, K, C, H; /* prepared shape */
    pg_proto P;
    pg_gen G;
} prosgan;

static const hl_param_spec prosgan_params[] = {
    {.name = "proto_steps", .type = HL_PARAM_INT, .def = "400", .range = "[0, inf)",
     .doc = "stage 1: PrototypeNet Adam steps (code: 100 epochs x 300 steps)"},
    {.name = "proto_batch", .type = HL_PARAM_INT, .def = "64", .range = "[1, inf)",
     .doc = "stage 1: target labels per step (code: 64)"},
    {.name = "proto_lr", .type = HL_PARAM_FLOAT, .def = "1e-3", .range = "(0, 1]",
     .doc = "stage 1: Adam lr, x0.1 at 50% and 75% of the steps (code: 1e-4)"},
    {.name = "gan_epochs", .type = HL_PARAM_INT, .def = "2", .range = "[0, inf)",
     .doc = "stage 2: passes over the training images (code: 100); 0 skips stage 2"},
    {.name = "batch", .type = HL_PARAM_INT, .def = "32", .range = "[1, inf)",
     .doc = "stage 2: images per iteration (code: 24)"},
    {.name = "lr", .type = HL_PARAM_FLOAT, .def = "1e-3", .range = "(0, 1]",
     .doc = "stage 2: Adam lr of G and D, constant then linear decay over the second half (code: 1e-4)"},
    {.name = "rec_weight", .type = HL_PARAM_FLOAT, .def = "10", .range = "[0, inf)",
     .doc = "weight of MSE(x', x) on [-1, 1] images (paper: 100 FLICKR-25K, 50 NUS-WIDE / MS-COCO on 224x224)"},
    {.name = "ham_weight", .type = HL_PARAM_FLOAT, .def = "5", .range = "[0, inf)",
     .doc = "weight of L_ham = 1 - mean(tanh(F(x')) * b_t) (code: 5)"},
    {.name = "ham_beta", .type = HL_PARAM_FLOAT, .def = "0", .range = "[0, 1000]",
     .doc = "L_ham uses tanh(beta F): 0 = auto, 1 / mean |F| over the training images (code: 1)"},
    {.name = "adv_weight", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, inf)",
     .doc = "weight of the LSGAN generator loss MSE(D(x'), [y_t, 0]) (code: 1)"},
    {.name = "width", .type = HL_PARAM_INT, .def = "16", .range = "[4, 1024]",
     .doc = "generator width w: image encoder w, 2w, 4w channels; label encoder w, w/2, w/4 (code: 64)"},
    {.name = "d_width", .type = HL_PARAM_INT, .def = "16", .range = "[1, 1024]",
     .doc = "discriminator width: d_width, 2 d_width channels (code: 64 ... 1024 over 5 convs)"},
    {.name = "res_blocks", .type = HL_PARAM_INT, .def = "2", .range = "[0, 16]",
     .doc = "residual blocks at H/4 (code: 3 + 3)"},
    {.name = "feat", .type = HL_PARAM_INT, .def = "128", .range = "[1, 65536]",
     .doc = "PrototypeNet semantic feature size f (code: 512)"},
    {.name = "proto_hidden", .type = HL_PARAM_INT, .def = "256", .range = "[1, 65536]",
     .doc = "PrototypeNet hidden units (code: 4096)"},
    {.name = "skip_init", .type = HL_PARAM_FLOAT, .def = "2", .range = "[0, 100]",
     .doc = "added to the output conv's centre tap from x's own channel at init, so G starts near x (0: PyTorch init)"},
    {.name = "grid", .type = HL_PARAM_INT, .def = "8", .range = "[0, 64]",
     .doc = "clean | adversarial pairs in the per-epoch sample grid written to the fit's workdir (0: none)"},
};

static hl_status prosgan_init(hl_attack *self, const hl_config *cfg) {
    hl_status st = HL_OK;
    prosgan *p = (prosgan *)self;
    HL_TRY(hl_config_get_int(cfg, "proto_steps", &p->proto_steps));
    HL_TRY(hl_config_get_int(cfg, "proto_batch", &p->proto_batch));
    HL_TRY(hl_config_get_float(cfg, "proto_lr", &p->proto_lr));
    HL_TRY(hl_config_get_int(cfg, "gan_epochs", &p->gan_epochs));
    HL_TRY(hl_config_get_int(cfg, "batch", &p->batch));
    HL_TRY(hl_config_get_float(cfg, "lr", &p->lr));
    HL_TRY(hl_config_get_float(cfg, "rec_weight", &p->rec_weight));
    HL_TRY(hl_config_get_float(cfg, "ham_weight", &p->ham_weight));
    HL_TRY(hl_config_get_float(cfg, "adv_weight", &p->adv_weight));
    HL_TRY(hl_config_get_int(cfg, "width", &p->width));
    HL_TRY(hl_config_get_int(cfg, "d_width", &p->d_width));
    HL_TRY(hl_config_get_int(cfg, "res_blocks", &p->res_blocks));
    HL_TRY(hl_config_get_int(cfg, "feat", &p->feat));
    HL_TRY(hl_config_get_int(cfg, "proto_hidden", &p->proto_hidden));
    HL_TRY(hl_config_get_int(cfg, "grid", &p->grid));
    HL_TRY(hl_config_get_float(cfg, "skip_init", &p->skip_init));
    HL_TRY(hl_config_get_float(cfg, "ham_beta", &p->ham_beta));
    /* An empty allocated set until hl_prosgan_prepare declares the networks: a load before that is a clean
     * HL_EMISMATCH (unexpected tensors), not an assertion on unallocated parameters. */
    if (hl_params_alloc(&self->params) < 0) hl_params_free(&self->params);
done:
    return st;
}

/* ---- networks ---------------------------------------------------------------------------------------------------- */

static hl_tensor *in_relu(hl_ctx *ctx, hl_tensor *x) {
    return hl_relu(ctx, hl_instancenorm(ctx, x, NULL, NULL, PG_IN_EPS));
}

/* y [B, L] -> f [B, feat], h_p [B, K] (tanh), ŷ [B, L] (sigmoid); hp / yhat may be NULL. */
static hl_tensor *proto_forward(hl_ctx *ctx, const pg_proto *P, hl_tensor *y, hl_tensor **hp, hl_tensor **yhat) {
    hl_tensor *f = hl_linear_layer_forward(ctx, &P->fc2, hl_relu(ctx, hl_linear_layer_forward(ctx, &P->fc1, y)));
    if (hp) *hp = hl_tanh(ctx, hl_linear_layer_forward(ctx, &P->code, f));
    if (yhat) *yhat = hl_sigmoid(ctx, hl_linear_layer_forward(ctx, &P->lab, f));
    return f;
}

/* x [B, C, H, W] in [−1, 1], f [B, feat] -> x' [B, C, H, W] in [−1, 1]. */
static hl_tensor *gen_forward(hl_ctx *ctx, const prosgan *p, hl_tensor *x, hl_tensor *f) {
    const pg_gen *G = &p->G;
    int64_t B = x->shape[0], s = p->H / 4;
    hl_tensor *l = hl_relu(ctx, hl_linear_layer_forward(ctx, &G->lfc, f));
    l = hl_reshape(ctx, l, 4, HL_SHAPE(B, p->width, s, s));
    l = in_relu(ctx, hl_conv_transpose2d_layer_forward(ctx, &G->lup[0], l));
    l = in_relu(ctx, hl_conv_transpose2d_layer_forward(ctx, &G->lup[1], l));
    l = hl_conv2d_layer_forward(ctx, &G->lout, l);
    hl_tensor *h = hl_concat(ctx, 2, (hl_tensor *[]){l, x}, 1);
    h = in_relu(ctx, hl_conv2d_layer_forward(ctx, &G->e0, h));
    h = in_relu(ctx, hl_conv2d_layer_forward(ctx, &G->e1, h));
    h = in_relu(ctx, hl_conv2d_layer_forward(ctx, &G->e2, h));
    for (int r = 0; r < p->res_blocks; r++) {
        hl_tensor *t = in_relu(ctx, hl_conv2d_layer_forward(ctx, &G->res[r][0], h));
        t = hl_instancenorm(ctx, hl_conv2d_layer_forward(ctx, &G->res[r][1], t), NULL, NULL, PG_IN_EPS);
        h = hl_add(ctx, h, t);
    }
    h = in_relu(ctx, hl_conv_transpose2d_layer_forward(ctx, &G->d1, h));
    h = in_relu(ctx, hl_conv_transpose2d_layer_forward(ctx, &G->d2, h));
    h = hl_concat(ctx, 2, (hl_tensor *[]){h, x}, 1);
    return hl_tanh(ctx, hl_conv2d_layer_forward(ctx, &G->out, h));
}

/* One power-iteration step on W [O, M] with u [O] (both on the parameters' device; computed on the host through
 * transfers, in double): returns σ = uᵀWv and updates u. */
static float sn_sigma(hl_ctx *ctx, const hl_tensor *w, hl_tensor *ut) {
    int64_t O = w->shape[0], M = hl_tensor_numel(w) / O;
    const float *W = hl_tensor_host(ctx, w);
    float *u = hl_ctx_alloc(ctx, (size_t)O * sizeof *u);
    hl_tensor_download(ut, u);
    double *v = calloc((size_t)M, sizeof *v), nv = 0, nu = 0, sigma = 0;
    double *wu = malloc((size_t)O * sizeof *wu);
    if (!v || !wu) {
        free(v), free(wu);
        return 1.0f;
    }
    for (int64_t o = 0; o < O; o++)
        for (int64_t m = 0; m < M; m++) v[m] += (double)W[o * M + m] * u[o];
    for (int64_t m = 0; m < M; m++) nv += v[m] * v[m];
    nv = sqrt(nv) + 1e-12;
    for (int64_t m = 0; m < M; m++) v[m] /= nv;
    for (int64_t o = 0; o < O; o++) {
        double a = 0;
        for (int64_t m = 0; m < M; m++) a += (double)W[o * M + m] * v[m];
        wu[o] = a, nu += a * a;
    }
    nu = sqrt(nu) + 1e-12;
    for (int64_t o = 0; o < O; o++) u[o] = (float)(wu[o] / nu), sigma += wu[o] * wu[o] / nu;
    hl_tensor_upload(ut, u);
    free(v), free(wu);
    return sigma > 1e-12 ? (float)sigma : 1.0f;
}

/* x [B, C, H, W] in [−1, 1] -> scores [B, L + 1]. */
static hl_tensor *disc_forward(hl_ctx *ctx, pg_disc *D, hl_tensor *x) {
    hl_tensor *h = x;
    for (int i = 0; i < 2; i++) {
        const hl_conv2d_layer *c = &D->down[i];
        float sigma = sn_sigma(ctx, c->w, D->u[i]);
        hl_tensor *w = hl_scale(ctx, c->w, 1.0f / sigma);
        h = hl_leaky_relu(ctx, hl_conv2d(ctx, h, w, c->b, c->opts), 0.01f);
    }
    h = hl_conv2d_layer_forward(ctx, &D->head, h);
    return hl_reshape(ctx, h, 2, HL_SHAPE(x->shape[0], h->shape[1]));
}

static hl_status disc_make(pg_disc *D, const prosgan *p, hl_rng *r) {
    hl_status st = HL_OK;
    int dw = (int)p->d_width, s = p->H / 4;
    hl_params_init(&D->p);
    hl_params_set_device(&D->p, p->base.params.dev);
    hl_conv2d_layer_init(&D->down[0], &D->p, "D.down0", p->C, dw, 4, 2, 1, 1, true);
    hl_conv2d_layer_init(&D->down[1], &D->p, "D.down1", dw, 2 * dw, 4, 2, 1, 1, true);
    D->u[0] = hl_params_add_buffer(&D->p, "D.down0.u", 1, HL_SHAPE(dw), 0.0f);
    D->u[1] = hl_params_add_buffer(&D->p, "D.down1.u", 1, HL_SHAPE(2 * dw), 0.0f);
    hl_conv2d_layer_init(&D->head, &D->p, "D.head", 2 * dw, p->L + 1, s, 1, 0, 1, false);
    HL_TRY(hl_params_alloc(&D->p));
    hl_nn_init_default(&D->down[0], r);
    hl_nn_init_default(&D->down[1], r);
    hl_nn_init_default(&D->head, r);
    for (int i = 0; i < 2; i++) { /* u ~ N(0, 1), normalised (PyTorch's spectral_norm) */
        int64_t o = D->u[i]->shape[0];
        double nn = 0;
        float *u = malloc((size_t)o * sizeof *u); /* drawn on the host, uploaded */
        if (!u) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
        hl_rng_normal(r, u, o, 0.0f, 1.0f);
        for (int64_t j = 0; j < o; j++) nn += (double)u[j] * u[j];
        for (int64_t j = 0; j < o; j++) u[j] /= (float)(sqrt(nn) + 1e-12);
        hl_tensor_upload(D->u[i], u);
        free(u);
    }
done:
    return st;
}

hl_status hl_prosgan_prepare(hl_attack *a, const hl_hasher *victim, uint64_t seed) {
    hl_status st = HL_OK;
    prosgan *p = (prosgan *)a;
    const hl_dataset_info *in = &victim->info;
    HL_ASSERT(a->cls->init == prosgan_init, "hl_prosgan_prepare on attack '%s'", a->cls->name);
    if (in->h != in->w || in->h % 4 != 0 || in->h < 4)
        return hl_error_set(HL_EINVAL, "prosgan needs square images with a side divisible by 4, got %dx%d", in->h,
                            in->w);
    if (in->nlabels < 1) return hl_error_set(HL_EINVAL, "prosgan needs a victim with labels (nlabels = 0)");
    if (p->ready) {
        if (p->L == in->nlabels && p->K == victim->bits && p->C == in->c && p->H == in->h) return HL_OK;
        return hl_error_set(HL_EMISMATCH, "prosgan was prepared for %d labels, %d bits, %dx%dx%d images; victim has "
                            "%d labels, %d bits, %dx%dx%d", p->L, p->K, p->C, p->H, p->H, in->nlabels, victim->bits,
                            in->c, in->h, in->w);
    }
    p->L = in->nlabels, p->K = victim->bits, p->C = in->c, p->H = in->h;
    hl_params_free(&a->params); /* drop init's empty set (hl_params_free leaves it re-initialised) */
    int w = (int)p->width, s = p->H / 4, C = p->C, L = p->L;
    int w2 = HL_MAX(w / 2, 1), w4 = HL_MAX(w / 4, 1);
    hl_params *P = &a->params;
    pg_proto *pn = &p->P;
    pg_gen *G = &p->G;
    hl_linear_layer_init(&pn->fc1, P, "P.fc1", L, (int)p->proto_hidden, true);
    hl_linear_layer_init(&pn->fc2, P, "P.fc2", (int)p->proto_hidden, (int)p->feat, true);
    hl_linear_layer_init(&pn->code, P, "P.code", (int)p->feat, p->K, true);
    hl_linear_layer_init(&pn->lab, P, "P.label", (int)p->feat, L, true);
    hl_linear_layer_init(&G->lfc, P, "G.label_fc", (int)p->feat, w * s * s, true);
    hl_conv_transpose2d_layer_init(&G->lup[0], P, "G.label_up0", w, w2, 4, 2, 1, 0, 1, false);
    hl_conv_transpose2d_layer_init(&G->lup[1], P, "G.label_up1", w2, w4, 4, 2, 1, 0, 1, false);
    hl_conv2d_layer_init(&G->lout, P, "G.label_map", w4, C, 3, 1, 1, 1, false);
    hl_conv2d_layer_init(&G->e0, P, "G.enc0", 2 * C, w, 7, 1, 3, 1, false);
    hl_conv2d_layer_init(&G->e1, P, "G.enc1", w, 2 * w, 4, 2, 1, 1, false);
    hl_conv2d_layer_init(&G->e2, P, "G.enc2", 2 * w, 4 * w, 4, 2, 1, 1, false);
    for (int r = 0; r < p->res_blocks; r++) {
        char name[32];
        snprintf(name, sizeof name, "G.res%d.conv0", r);
        hl_conv2d_layer_init(&G->res[r][0], P, name, 4 * w, 4 * w, 3, 1, 1, 1, false);
        snprintf(name, sizeof name, "G.res%d.conv1", r);
        hl_conv2d_layer_init(&G->res[r][1], P, name, 4 * w, 4 * w, 3, 1, 1, 1, false);
    }
    hl_conv_transpose2d_layer_init(&G->d1, P, "G.dec1", 4 * w, 2 * w, 4, 2, 1, 0, 1, false);
    hl_conv_transpose2d_layer_init(&G->d2, P, "G.dec2", 2 * w, w, 4, 2, 1, 0, 1, false);
    hl_conv2d_layer_init(&G->out, P, "G.out", w + C, C, 3, 1, 1, 1, false);
    hl_params_set_device(P, victim->dev); /* the networks live where the victim does */
    if ((st = hl_params_alloc(P)) < 0) {
        hl_params_free(P);
        return st;
    }
    hl_rng r = hl_rng_make(seed, PG_STREAM + 1);
    hl_nn_init_default(&pn->fc1, &r);
    hl_nn_init_default(&pn->fc2, &r);
    hl_nn_init_default(&pn->code, &r);
    hl_nn_init_default(&pn->lab, &r);
    hl_nn_init_default(&G->lfc, &r);
    hl_nn_init_default(&G->lup[0], &r);
    hl_nn_init_default(&G->lup[1], &r);
    hl_nn_init_default(&G->lout, &r);
    hl_nn_init_default(&G->e0, &r);
    hl_nn_init_default(&G->e1, &r);
    hl_nn_init_default(&G->e2, &r);
    for (int i = 0; i < p->res_blocks; i++) {
        hl_nn_init_default(&G->res[i][0], &r);
        hl_nn_init_default(&G->res[i][1], &r);
    }
    hl_nn_init_default(&G->d1, &r);
    hl_nn_init_default(&G->d2, &r);
    hl_nn_init_default(&G->out, &r);
    if (p->skip_init > 0) { /* x's own channel passes through the centre tap: x' = tanh(skip_init·x + …) at the start */
        float *ow = malloc((size_t)hl_tensor_numel(G->out.w) * sizeof *ow);
        if (!ow) return hl_error_set(HL_ENOMEM, "out of memory");
        hl_tensor_download(G->out.w, ow);
        for (int c = 0; c < C; c++) ow[((int64_t)c * (w + C) + w + c) * 9 + 4] += p->skip_init;
        hl_tensor_upload(G->out.w, ow);
        free(ow);
    }
    p->ready = true;
    return st;
}

/* ---- losses ------------------------------------------------------------------------------------------------------ */

hl_tensor *hl_prosgan_proto_loss(hl_ctx *ctx, hl_tensor *hp, hl_tensor *yhat, const float *y, const float *codes,
                                 const float *sim, int64_t n) {
    int64_t B = hp->shape[0], K = hp->shape[1], L = yhat->shape[1];
    hl_tensor *bc = hl_tensor_from(ctx, 2, HL_SHAPE(n, K), codes);
    hl_tensor *S = hl_tensor_from(ctx, 2, HL_SHAPE(B, n), sim);
    hl_tensor *yt = hl_tensor_from(ctx, 2, HL_SHAPE(B, L), y);
    hl_tensor *th = hl_scale(ctx, hl_matmul_t(ctx, hp, bc, false, true), 0.5f); /* [B, N] */
    hl_tensor *lik = hl_sum(ctx, hl_sub(ctx, hl_softplus(ctx, th), hl_mul(ctx, S, th)), HL_AXES_ALL, false);
    lik = hl_scale(ctx, lik, 1.0f / (float)((double)n * (double)B));
    hl_tensor *q = hl_sum(ctx, hl_pow(ctx, hl_sub(ctx, hl_sign(ctx, hp), hp), 2.0f), HL_AXES_ALL, false);
    q = hl_scale(ctx, q, 1.0f / (1e4f * (float)B));
    return hl_add(ctx, hl_add(ctx, lik, hl_mse(ctx, yhat, yt)), q);
}

hl_tensor *hl_prosgan_ham_loss(hl_ctx *ctx, hl_tensor *f, const float *t) {
    hl_tensor *tt = hl_tensor_from(ctx, 2, HL_SHAPE(f->shape[0], f->shape[1]), t);
    hl_tensor *m = hl_mean(ctx, hl_mul(ctx, hl_tanh(ctx, f), tt), HL_AXES_ALL, false);
    return hl_add_scalar(ctx, hl_scale(ctx, m, -1.0f), 1.0f);
}

/* ---- fit --------------------------------------------------------------------------------------------------------- */

static void labels_row_float(const hl_labels *l, int64_t i, float *out) {
    for (int k = 0; k < l->nlabels; k++) out[k] = hl_labels_has(l, i, k) ? 1.0f : 0.0f;
}

/* Distinct non-empty rows of the database labels (order of first appearance): floats [*u, L] and bit rows. */
static hl_status distinct_labels(const hl_labels *l, float **out, hl_labels *bits, int64_t *u) {
    int64_t *first = malloc((size_t)HL_MAX(l->n, 1) * sizeof *first), m = 0;
    if (!first) return hl_error_set(HL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < l->n; i++) {
        const uint64_t *r = hl_labels_row(l, i);
        bool seen = hl_labels_count(l, i) == 0;
        for (int64_t j = 0; j < m && !seen; j++)
            seen = memcmp(r, hl_labels_row(l, first[j]), (size_t)l->words * sizeof *r) == 0;
        if (!seen) first[m++] = i;
    }
    float *f = malloc((size_t)HL_MAX(m * l->nlabels, 1) * sizeof *f);
    if (!f) {
        free(first);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    for (int64_t j = 0; j < m; j++) labels_row_float(l, first[j], f + j * l->nlabels);
    hl_status st = m > 0 ? hl_labels_subset(bits, l, first, m)
                         : hl_error_set(HL_EINVAL, "prosgan: the database has no labelled item (no target)");
    free(first);
    if (st < 0) {
        free(f);
        return st;
    }
    *out = f, *u = m;
    return HL_OK;
}

/* sign(F(x)) of the training images, ±1 [n, K]. */
static hl_status train_codes(prosgan *p, hl_hasher *victim, hl_ctx *ctx, const hl_attack_fit_data *data, float *out) {
    int64_t d = hl_dataset_image_size(data->train), K = p->K;
    enum { CHUNK = 256 };
    float *xb = malloc((size_t)(CHUNK * d) * sizeof *xb);
    double mag = 0;
    if (!xb) return hl_error_set(HL_ENOMEM, "out of memory");
    for (int64_t i0 = 0; i0 < data->n; i0 += CHUNK) {
        int64_t b = HL_MIN((int64_t)CHUNK, data->n - i0);
        hl_dataset_read(data->train, data->idx + i0, b, xb);
        hl_ctx_reset(ctx);
        hl_no_grad_begin(ctx);
        hl_tensor *y = hl_hasher_forward(victim, ctx, hl_tensor_from(ctx, 4, HL_SHAPE(b, p->C, p->H, p->H), xb));
        hl_no_grad_end(ctx);
        const float *yh = hl_tensor_host(ctx, y);
        for (int64_t j = 0; j < b * K; j++) {
            if (!isfinite(yh[j])) {
                free(xb);
                return hl_error_set(HL_ENUMERIC, "victim '%s' gave a non-finite output", victim->cls->name);
            }
            out[i0 * K + j] = yh[j] >= 0 ? 1.0f : -1.0f;
            mag += fabs((double)yh[j]);
        }
        p->base.forwards += b;
    }
    hl_ctx_reset(ctx);
    free(xb);
    mag /= (double)(data->n * K);
    p->beta = p->ham_beta > 0 ? p->ham_beta : mag > 1e-6 ? (float)(1.0 / mag) : 1.0f;
    hl_msg(HL_LOG_INFO, "prosgan: victim outputs mean |F| = %.4g on the training images; L_ham uses tanh(%.4g F)", mag,
           (double)p->beta);
    return HL_OK;
}

static hl_status adam(hl_optim **o, hl_params *P, float lr) {
    hl_optim_config c = hl_optim_defaults(HL_OPTIM_ADAM);
    c.lr = lr, c.beta1 = 0.5f, c.beta2 = 0.999f;
    return hl_optim_create(o, P, &c);
}

static hl_status fit_proto(prosgan *p, hl_ctx *ctx, const hl_attack_fit_data *data, const float *codes,
                           const float *targets, const hl_labels *tbits, int64_t nt, hl_rng *r) {
    hl_status st = HL_OK;
    int64_t B = p->proto_batch, n = data->n, L = p->L, T = p->proto_steps;
    hl_optim *o = NULL;
    float *y = malloc((size_t)(B * L) * sizeof *y), *sim = malloc((size_t)(B * n) * sizeof *sim);
    if (!y || !sim) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    hl_params_set_requires_grad_prefix(&p->base.params, "G.", false);
    HL_TRY(adam(&o, &p->base.params, p->proto_lr));
    for (int64_t t = 0; t < T; t++) {
        hl_optim_set_lr(o, p->proto_lr * (2 * t >= T ? 0.1f : 1.0f) * (4 * t >= 3 * T ? 0.1f : 1.0f));
        for (int64_t b = 0; b < B; b++) {
            int64_t j = (int64_t)hl_rng_below(r, (uint64_t)nt);
            memcpy(y + b * L, targets + j * L, (size_t)L * sizeof *y);
            const uint64_t *tb = hl_labels_row(tbits, j);
            for (int64_t i = 0; i < n; i++) {
                const uint64_t *row = hl_labels_row(&data->train->labels, data->idx[i]);
                bool s = false;
                for (int wd = 0; wd < tbits->words && !s; wd++) s = (row[wd] & tb[wd]) != 0;
                sim[b * n + i] = s ? 1.0f : 0.0f;
            }
        }
        hl_ctx_reset(ctx);
        hl_tensor *hp, *yh;
        proto_forward(ctx, &p->P, hl_tensor_from(ctx, 2, HL_SHAPE(B, L), y), &hp, &yh);
        hl_tensor *loss = hl_prosgan_proto_loss(ctx, hp, yh, y, codes, sim, n);
        const float lv = hl_tensor_host(ctx, loss)[0];
        if (!isfinite(lv)) HL_TRY(hl_error_set(HL_ENUMERIC, "prosgan: stage-1 loss is not finite"));
        if (t % 100 == 0 || t == T - 1)
            hl_msg(HL_LOG_DEBUG, "prosgan proto step %lld/%lld: loss %.5f", (long long)t + 1, (long long)T, (double)lv);
        hl_backward(ctx, loss);
        hl_optim_step(o);
        hl_optim_zero_grad(o);
    }
done:
    hl_ctx_reset(ctx);
    hl_params_set_requires_grad(&p->base.params, true);
    hl_optim_free(o);
    free(y), free(sim);
    return st;
}

/* Prototype features f and codes sign(h_p) [B, K] (host) of label rows y [B, L], without a tape. */
static hl_tensor *proto_eval(prosgan *p, hl_ctx *ctx, const float *y, int64_t B, float *code) {
    hl_no_grad_begin(ctx);
    hl_tensor *hp, *f = proto_forward(ctx, &p->P, hl_tensor_from(ctx, 2, HL_SHAPE(B, p->L), y), &hp, NULL);
    hl_no_grad_end(ctx);
    if (code) {
        const float *hh = hl_tensor_host(ctx, hp);
        for (int64_t i = 0; i < B * p->K; i++) code[i] = hh[i] >= 0 ? 1.0f : -1.0f;
    }
    return f;
}

static hl_status write_grid(prosgan *p, hl_ctx *ctx, const hl_attack_fit_data *data, const float *targets,
                            int64_t nt, int64_t epoch) {
    hl_status st = HL_OK;
    int64_t m = HL_MIN(p->grid, data->n), d = (int64_t)p->C * p->H * p->H, L = p->L;
    float *x = malloc((size_t)(m * d) * sizeof *x), *y = malloc((size_t)(m * L) * sizeof *y);
    float *img = malloc((size_t)(2 * m * d) * sizeof *img);
    char path[1200];
    if (!x || !y || !img) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    hl_dataset_read(data->train, data->idx, m, x);
    for (int64_t i = 0; i < m; i++) memcpy(y + i * L, targets + (i % nt) * L, (size_t)L * sizeof *y);
    hl_ctx_reset(ctx);
    hl_tensor *f = proto_eval(p, ctx, y, m, NULL);
    hl_no_grad_begin(ctx);
    hl_tensor *xs = hl_add_scalar(ctx, hl_scale(ctx, hl_tensor_from(ctx, 4, HL_SHAPE(m, p->C, p->H, p->H), x), 2), -1);
    hl_tensor *g = gen_forward(ctx, p, xs, f);
    hl_no_grad_end(ctx);
    const float *gh = hl_tensor_host(ctx, g);
    for (int64_t i = 0; i < m; i++) {
        memcpy(img + 2 * i * d, x + i * d, (size_t)d * sizeof *img);
        for (int64_t j = 0; j < d; j++) img[(2 * i + 1) * d + j] = HL_MIN(1.0f, HL_MAX(0.0f, (gh[i * d + j] + 1) / 2));
    }
    snprintf(path, sizeof path, "%s/prosgan_epoch%03lld.png", data->workdir, (long long)epoch + 1);
    HL_TRY(hl_grid_write_png(path, img, 2 * m, p->C, p->H, p->H, (int)m, 2, 2));
done:
    hl_ctx_reset(ctx);
    free(x), free(y), free(img);
    return st;
}

static hl_status fit_gan(prosgan *p, hl_hasher *victim, hl_ctx *ctx, const hl_attack_fit_data *data,
                         const float *targets, int64_t nt, hl_rng *r) {
    hl_status st = HL_OK;
    int64_t B = HL_MIN(p->batch, data->n), n = data->n, L = p->L, K = p->K, d = (int64_t)p->C * p->H * p->H;
    int64_t per = n / B, T = per * p->gan_epochs, t = 0;
    pg_disc D;
    hl_optim *og = NULL, *od = NULL;
    hl_train_state ts;
    memset(&ts, 0, sizeof ts);
    int64_t *perm = malloc((size_t)n * sizeof *perm), *bi = malloc((size_t)B * sizeof *bi);
    float *x = malloc((size_t)(B * d) * sizeof *x), *yt = malloc((size_t)(B * L) * sizeof *yt);
    float *yr = malloc((size_t)(B * (L + 1)) * sizeof *yr), *yf = malloc((size_t)(B * (L + 1)) * sizeof *yf);
    float *ya = malloc((size_t)(B * (L + 1)) * sizeof *ya), *bt = malloc((size_t)(B * K) * sizeof *bt);
    memset(&D, 0, sizeof D);
    if (!perm || !bi || !x || !yt || !yr || !yf || !ya || !bt) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    HL_TRY(disc_make(&D, p, r));
    hl_params_set_requires_grad_prefix(&p->base.params, "P.", false);
    HL_TRY(adam(&og, &p->base.params, p->lr));
    HL_TRY(adam(&od, &D.p, p->lr));
    /* resumable stage 2: the networks (prototype net included), D, both optimizers, the stream and the step count;
     * stage 1 is redone on a resume (deterministic, and short next to stage 2) and then overwritten */
    char fp[65], *json = NULL;
    HL_TRY(hl_config_canonical_json(p->base.cfg, &json));
    hl_sha256_hex(json, strlen(json), fp);
    free(json);
    hl_train_state_init(&ts, data->state_file ? data->workdir : NULL, data->state_file, "prosgan stage 2",
                        p->gan_epochs, fp);
    hl_train_state_params(&ts, "attack", &p->base.params);
    hl_train_state_params(&ts, "D", &D.p);
    hl_train_state_optim(&ts, "opt_G", og);
    hl_train_state_optim(&ts, "opt_D", od);
    hl_train_state_blob(&ts, "rng", r, sizeof *r);
    hl_train_state_blob(&ts, "t", &t, sizeof t);
    int64_t e0 = 0;
    HL_TRY(hl_train_state_resume(&ts, &e0));
    for (int64_t e = e0; e < p->gan_epochs; e++) {
        double sums[4] = {0};
        hl_rng_permutation(r, perm, n);
        for (int64_t it = 0; it < per; it++, t++) {
            if (hl_job_stop_requested())
                HL_TRY(hl_error_set(HL_EINTR, "interrupted during epoch %lld/%lld of prosgan stage 2 (%s)",
                                    (long long)e + 1, (long long)p->gan_epochs,
                                    ts.on ? "the state after the last finished epoch is saved" : "nothing saved"));
            int64_t h = T / 2;
            float mult = t < h ? 1.0f : 1.0f - (float)(t + 1 - h) / (float)(T - h + 1);
            hl_optim_set_lr(og, p->lr * mult);
            hl_optim_set_lr(od, p->lr * mult);
            for (int64_t b = 0; b < B; b++) {
                bi[b] = data->idx[perm[it * B + b]];
                int64_t j = (int64_t)hl_rng_below(r, (uint64_t)nt);
                memcpy(yt + b * L, targets + j * L, (size_t)L * sizeof *yt);
                labels_row_float(&data->train->labels, bi[b], yr + b * (L + 1));
                yr[b * (L + 1) + L] = 0.0f;
                memcpy(yf + b * (L + 1), yt + b * L, (size_t)L * sizeof *yf);
                memcpy(ya + b * (L + 1), yt + b * L, (size_t)L * sizeof *ya);
                yf[b * (L + 1) + L] = 1.0f, ya[b * (L + 1) + L] = 0.0f;
            }
            hl_dataset_read(data->train, bi, B, x);
            hl_ctx_reset(ctx);
            hl_tensor *f = proto_eval(p, ctx, yt, B, bt);
            hl_tensor *xs = hl_add_scalar(ctx, hl_scale(ctx, hl_tensor_from(ctx, 4, HL_SHAPE(B, p->C, p->H, p->H), x),
                                                        2.0f), -1.0f);
            hl_tensor *xa = gen_forward(ctx, p, xs, f);
            hl_params_set_requires_grad(&D.p, false);
            hl_tensor *v = hl_scale(ctx, hl_add_scalar(ctx, xa, 1.0f), 0.5f);
            hl_tensor *fv = hl_hasher_forward(victim, ctx, v);
            hl_tensor *lrec = hl_mse(ctx, xa, xs), *lham = hl_prosgan_ham_loss(ctx, hl_scale(ctx, fv, p->beta), bt);
            hl_tensor *da = disc_forward(ctx, &D, xa);
            hl_tensor *ladv = hl_mse(ctx, da, hl_tensor_from(ctx, 2, da->shape, ya));
            hl_tensor *lg = hl_add(ctx, hl_scale(ctx, lrec, p->rec_weight), hl_scale(ctx, lham, p->ham_weight));
            lg = hl_add(ctx, lg, hl_scale(ctx, ladv, p->adv_weight));
            if (!isfinite(hl_tensor_host(ctx, lg)[0])) {
                hl_params_set_requires_grad(&D.p, true);
                HL_TRY(hl_error_set(HL_ENUMERIC, "prosgan: generator loss is not finite (epoch %lld)", (long long)e));
            }
            sums[0] += hl_tensor_host(ctx, lrec)[0], sums[1] += hl_tensor_host(ctx, lham)[0];
            sums[2] += hl_tensor_host(ctx, ladv)[0];
            hl_backward(ctx, lg);
            p->base.forwards += B, p->base.backwards += B;
            hl_optim_step(og);
            hl_optim_zero_grad(og);
            hl_params_set_requires_grad(&D.p, true);
            if (it % 3 == 0) { /* D step on the same x', detached (its values outlive the G step's backward) */
                hl_tensor *dr = disc_forward(ctx, &D, xs), *df = disc_forward(ctx, &D, hl_detach(ctx, xa));
                hl_tensor *ld = hl_scale(ctx, hl_add(ctx, hl_mse(ctx, dr, hl_tensor_from(ctx, 2, dr->shape, yr)),
                                                     hl_mse(ctx, df, hl_tensor_from(ctx, 2, df->shape, yf))), 0.5f);
                sums[3] += hl_tensor_host(ctx, ld)[0];
                hl_backward(ctx, ld);
                hl_optim_step(od);
            }
            hl_optim_zero_grad(od);
        }
        double m = per > 0 ? (double)per : 1.0, md = (double)HL_MAX((per + 2) / 3, 1);
        hl_msg(HL_LOG_INFO, "prosgan epoch %lld/%lld: rec %.5f ham %.4f adv %.4f D %.4f", (long long)e + 1,
               (long long)p->gan_epochs, sums[0] / m, sums[1] / m, sums[2] / m, sums[3] / md);
        if (data->workdir && p->grid > 0) HL_TRY(write_grid(p, ctx, data, targets, nt, e));
        char detail[64];
        snprintf(detail, sizeof detail, "rec %.5f", sums[0] / m);
        hl_job_progress("fit", e + 1, p->gan_epochs, detail);
        HL_TRY(hl_train_state_epoch_end(&ts, e + 1));
    }
done:
    hl_ctx_reset(ctx);
    hl_params_set_requires_grad(&p->base.params, true);
    hl_optim_free(og), hl_optim_free(od);
    hl_params_free(&D.p);
    free(perm), free(bi), free(x), free(yt), free(yr), free(yf), free(ya), free(bt);
    return st;
}

/* The driver's prepare (before fit and before load): networks for this victim, initialised from the attack's seed. */
static hl_status prosgan_prepare(hl_attack *self, const hl_hasher *victim) {
    return hl_prosgan_prepare(self, victim, self->opts.seed);
}

static hl_status prosgan_fit(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_attack_fit_data *data) {
    hl_status st = HL_OK;
    prosgan *p = (prosgan *)self;
    float *targets = NULL, *codes = NULL;
    hl_labels tbits = {0};
    int64_t nt = 0;
    double t0 = hl_time_s();
    if (!victim->cls->forward || !(victim->cls->flags & HL_HASHER_DIFFERENTIABLE))
        return hl_error_set(HL_EINVAL, "victim '%s' is not differentiable (prosgan trains through it)",
                            victim->cls->name);
    if (!data->db_labels || !hl_dataset_has_labels(data->train))
        return hl_error_set(HL_EINVAL, "prosgan needs labelled training images and database labels");
    if (data->db_labels->nlabels != victim->info.nlabels || data->train->labels.nlabels != victim->info.nlabels)
        return hl_error_set(HL_EMISMATCH, "prosgan: database / training labels have %d / %d labels, victim %d",
                            data->db_labels->nlabels, data->train->labels.nlabels, victim->info.nlabels);
    if (data->train->c != victim->info.c || data->train->h != victim->info.h || data->train->w != victim->info.w)
        return hl_error_set(HL_EMISMATCH, "prosgan: training images are %dx%dx%d, victim takes %dx%dx%d",
                            data->train->c, data->train->h, data->train->w, victim->info.c, victim->info.h,
                            victim->info.w);
    HL_TRY(hl_prosgan_prepare(self, victim, data->seed));
    HL_TRY(distinct_labels(data->db_labels, &targets, &tbits, &nt));
    if (!(codes = malloc((size_t)(data->n * p->K) * sizeof *codes))) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    hl_ctx_set_train(ctx, false); /* victim in eval mode; our networks have no batch norm */
    hl_rng r = hl_rng_make(data->seed, PG_STREAM);
    HL_TRY(train_codes(p, victim, ctx, data, codes));
    HL_TRY(fit_proto(p, ctx, data, codes, targets, &tbits, nt, &r));
    double t1 = hl_time_s();
    HL_TRY(fit_gan(p, victim, ctx, data, targets, nt, &r));
    hl_msg(HL_LOG_INFO, "prosgan fit: %lld targets, stage 1 %.1f s, stage 2 %.1f s", (long long)nt, t1 - t0,
           hl_time_s() - t1);
done:
    free(targets), free(codes);
    hl_labels_free(&tbits);
    return st;
}

/* ---- perturb ----------------------------------------------------------------------------------------------------- */

hl_status hl_prosgan_prototype_codes(hl_attack *a, hl_ctx *ctx, const hl_labels *targets, hl_codes *out) {
    hl_status st = HL_OK;
    prosgan *p = (prosgan *)a;
    float *y = NULL, *c = NULL;
    memset(out, 0, sizeof *out);
    if (!p->ready) return hl_error_set(HL_EINVAL, "prosgan: not fitted (no prototype network)");
    if (targets->nlabels != p->L)
        return hl_error_set(HL_EMISMATCH, "prosgan: target labels have %d labels, fitted for %d", targets->nlabels,
                            p->L);
    int64_t n = targets->n;
    y = malloc((size_t)HL_MAX(n * p->L, 1) * sizeof *y), c = malloc((size_t)HL_MAX(n * p->K, 1) * sizeof *c);
    if (!y || !c) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    for (int64_t i = 0; i < n; i++) labels_row_float(targets, i, y + i * p->L);
    hl_ctx_reset(ctx);
    if (n > 0) proto_eval(p, ctx, y, n, c);
    hl_ctx_reset(ctx);
    HL_TRY(hl_codes_create(out, n, p->K));
    hl_codes_pack(out, c);
done:
    free(y), free(c);
    return st;
}

static hl_status prosgan_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x,
                                 hl_tensor *x_adv, const hl_attack_goal *goal) {
    hl_status st = HL_OK;
    prosgan *p = (prosgan *)self;
    int64_t B = x->shape[0], d = hl_tensor_numel(x) / B;
    const hl_labels *tl = goal->target_labels;
    float *y = NULL;
    if (!p->ready) return hl_error_set(HL_EINVAL, "prosgan must be fitted (or loaded after hl_prosgan_prepare)");
    if (!tl) return hl_error_set(HL_EINVAL, "prosgan needs the target label sets (goal->target_labels)");
    if (tl->nlabels != p->L || tl->n < B)
        return hl_error_set(HL_EMISMATCH, "prosgan: target labels have %d labels for %lld images, fitted for %d labels",
                            tl->nlabels, (long long)tl->n, p->L);
    if (victim->bits != p->K || x->shape[1] != p->C || x->shape[2] != p->H || x->shape[3] != p->H)
        return hl_error_set(HL_EMISMATCH, "prosgan: fitted for %d bits and %dx%dx%d images", p->K, p->C, p->H, p->H);
    if (!(y = malloc((size_t)(B * p->L) * sizeof *y))) return hl_error_set(HL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < B; i++) labels_row_float(tl, i, y + i * p->L);
    hl_ctx_reset(ctx);
    hl_tensor *f = proto_eval(p, ctx, y, B, NULL);
    hl_no_grad_begin(ctx);
    hl_tensor *xs = hl_add_scalar(ctx, hl_scale(ctx, hl_tensor_from(ctx, 4, x->shape, x->data), 2.0f), -1.0f);
    hl_tensor *g = gen_forward(ctx, p, xs, f);
    hl_no_grad_end(ctx);
    const float *gh = hl_tensor_host(ctx, g); /* x and x_adv are host tensors (attacks/attack.h) */
    for (int64_t i = 0; i < B * d; i++) x_adv->data[i] = (gh[i] + 1.0f) * 0.5f;
    hl_threat_project(&self->opts.threat, x->data, x_adv->data, B, d);
    hl_ctx_reset(ctx);
    free(y);
    return st;
}

const hl_attack_class hl_attack_prosgan = {
    .abi = HL_ATTACK_ABI,
    .name = "prosgan",
    .summary = "ProS-GAN: prototype-supervised generator for targeted attacks (one forward pass per query)",
    .cite = "@inproceedings{wang2021prosgan,\n  author = {Xunguang Wang and Zheng Zhang and Baoyuan Wu and Fumin Shen and Guangming Lu},\n  title = {Prototype-Supervised Adversarial Network for Targeted Attack of Deep Hashing},\n  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},\n  year = {2021}\n}\n",
    .params = prosgan_params,
    .n_params = (int)HL_ARRAY_LEN(prosgan_params),
    .size = sizeof(prosgan),
    .flags = HL_ATTACK_TARGETED | HL_ATTACK_NEEDS_FIT | HL_ATTACK_UNBOUNDED | HL_ATTACK_DEVICE,
    .init = prosgan_init,
    .perturb = prosgan_perturb,
    .fit = prosgan_fit,
    .prepare = prosgan_prepare,
};
