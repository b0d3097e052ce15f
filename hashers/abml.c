/* hashers/abml.c — ABML, Adversarial Binary Mutual Learning for semi-supervised deep hashing (Wang, Hu, Yang, Cheng,
 * Hou; IEEE TNNLS 33(8), 2022). No code of the authors could be found and the method section could not be read
 * (methods.md §4), so most of what follows is a RECONSTRUCTION.
 *
 * FOLLOWS THE PAPER (methods.md §4.1, from the abstract): two models, a discriminative model D_H that learns the
 * labelled data in a supervised way and a generative model G_H that learns the unlabelled data by synthesising real
 * images; an adversarial strategy makes G_H and D_H learn from each other ("binary mutual learning") and so carries
 * the knowledge of the unlabelled data into D_H; a Weibull cross-entropy (WCE) loss that pushes similar pairs close
 * and dissimilar pairs apart explicitly.
 *
 * OUR RECONSTRUCTION (methods.md §4.2–4.3 [BEST-UNDERSTANDING]; every choice is a parameter):
 *   - D_H = the hash network (hl_hashnet: backbone → head K), code b = sign(head(x)); it also carries a real/fake
 *     head `adv` = linear(F → 1) on the SAME backbone features. `adv_features: shared` lets the real/fake BCE shape
 *     the shared features (semi-supervised-GAN style); the default `detached` stops it there (it hurt, see the
 *     measurements below), so D_H then learns from G_H through gen_weight's code recovery only. `adv` lives in its
 *     own hl_params (not in the checkpoint: forward() and the attacks see only the hash network).
 *   - G_H = the DCGAN generator of core/nn/gan.h on [b (K) | z (noise_dim, N(0, 1))] → image, own hl_params, own
 *     Adam (lr gen_lr, betas 0.5/0.999 as DCGAN).
 *   - Supervised loss: WCE (hashers/abml.h) of the labelled batch against a memory bank of the tanh outputs of all
 *     labelled items (DPSH's bank, refreshed batch by batch) + η·quantisation; `wce: false` uses DPSH's pairwise
 *     likelihood (hl_dpsh_loss on the pre-activation, bank of pre-activations) instead.
 *   - One step per labelled batch x_l, paired with an unlabelled batch x_u (a second batcher over the unlabelled
 *     list, restarted with the next epoch number when exhausted; fit() without unlabelled data uses x_l in its place):
 *       D-step (D_H and adv move, G does not: its images are detached):
 *         L_D = L_sup(x_l) + adv_weight·[BCE(adv(x_l ∪ x_u), 1) + BCE(adv(G(b_u, z)), 0)]
 *               + gen_weight·mean‖tanh(D_H(G(b_u, z))) − b_u‖²           (D_H learns from G_H's samples)
 *         with b_u = sign(D_H(x_u)) of this step's forward (constants);
 *       G-step (D_H and adv frozen, hl_gan_freeze):
 *         L_G = BCE(adv(G(b_u, z')), 1) + code_weight·mean‖tanh(D_H(G(b_u, z'))) − b_u‖²    (G_H learns from D_H)
 *               + recon_weight·mean‖G(b_u, z') − x_u‖²                   (G_H learns the unlabelled images)
 *     BCE is the non-saturating GAN loss on logits (hl_gan_d_loss / hl_gan_g_loss).
 *   - Batch norm of D_H on generated images (`fake_bn`): by default in eval mode (the running statistics of real
 *     images, as D_H encodes at test time), so G's images are judged the way real ones are encoded; with
 *     `fake_bn: train` they are normalised by their own batch. Either way D_H's running statistics are kept from
 *     real images only (saved before and restored after every forward of generated images).
 *   - Data-dependent start (DPSH's, ours): the head bias is shifted so each bit's median over the labelled items is
 *     0, and the bank starts from those outputs.
 *   - `mutual: false` = the ablation "without its adversarial part": D_H trained on the labelled data with the
 *     supervised loss alone (no G_H, no adv head, no sample grid, unlabelled images unused).
 *   - Per epoch, when h->workdir is set: a grid of G's images for the current codes of the first 64 labelled images
 *     with fixed noise (samples/G_epoch_NNN.png).
 *
 * Defaults (ours): epochs 10, batch 64, Adam lr 1e-3 (step schedule), weight decay 1e-5 — DPSH's setting here;
 * WCE λ = 0.5 (a random pair of codes, d ≈ 0.5, has p(similar) = e^−1), k = 2, ε = 0.01 (below one bit of a 64-bit
 * code), η = 0 (η = 0.01 saturated tanh early: see the key's doc); noise_dim 32, gen_width 32 (half DCGAN's 64, for
 * speed), gen_lr 2e-4, code_weight 1, recon_weight 0, g_loss ns, fake_bn eval, adv_features detached, adv_weight 1,
 * gen_weight 0.002.
 * Why the adversarial part is kept so weak: WCE works on the normalised distance, so its gradient on the outputs is
 * ~1/(2K) of a BCE's, and Adam normalises the SUM of the terms per parameter — an adversarial term of comparable size
 * takes over the shared backbone. Measured on Fashion-MNIST, 32 bits, 3 epochs (5,000 labelled + 10,000 unlabelled,
 * 1,000 queries vs the 15,000; train loss after epochs 1 / 2, mAP@all), with shared adv features unless said:
 *   ablation mutual: false                          0.480 / 0.421   mAP 0.735
 *   adv 0 + gen 0 (machinery alone)                 0.480 (identical to the ablation)
 *   adv 0.1 + gen 0.1, fake_bn train                0.552 / —       mAP 0.448
 *   adv 0.1 alone / gen 0.1 alone (fake_bn train)   0.522 / 0.559 and 0.539 / 0.538
 *   adv 0.01 + gen 0.01 (fake_bn train)             — / 0.492       mAP 0.624
 *   adv 0.002 alone / gen 0.002 alone               0.498 and 0.483 (epoch 1)
 *   recon_weight 1, gen 0.01, adv 0.002             D diverged      mAP 0.515
 *   adv detached, gen 0.01                          0.489 / 0.457
 *   defaults (adv detached, gen 0.002)              0.483 (epoch 1; 1 epoch: mAP 0.668 vs the ablation's 0.685)
 * and in the lab's cifar10-1 protocol (5,000 labelled, 64,000 unlabelled, 3 epochs, mAP@all): ablation 0.736,
 * the defaults 0.730, adv 0.002 + gen 0.002 with shared features 0.594 — the adversarial part does not help yet.
 * The generator's grids: with shared features and adv 0.002, checkerboard patterns that D_H decodes to the codes
 * (adversarial images for D_H), not clothes; with the defaults, rough garment silhouettes (trousers, tops, shoes)
 * under checkerboard artefacts after 3 epochs. A stronger realism signal is the first thing to try next (a separate
 * image discriminator, or recon_weight with a stable D).
 * At 1,000 labels (suites/fashion_semi.yaml's protocol: cifar10-1, 1,000 labelled + 68,000 unlabelled, 30 epochs,
 * 32 bits, seed 0, mAP@all): the ablation 0.729; with shared features + feature matching, adv 0.002: 0.663, adv
 * 0.02: 0.398; gen_weight 0.05: 0.573; with DPSH's loss (wce: false) 0.431 against its own ablation's 0.376 (the
 * one setting where mutual learning helped, +5.5 points, but 30 points below WCE: DPSH's likelihood is undertrained
 * at 16 steps per epoch under the step schedule). The reconstruction's path from the unlabelled images into D_H
 * (code recovery on G's images, or the real/fake game on shared features) carries no label information, so it can
 * only regularise; every coupling strong enough to matter cost mAP. suites/fashion_semi.yaml has the 3-seed table.
 * A path that does carry label information, `gen_target: anchors` (G's image of x_u must get x_u's similarity profile
 * over the LABELLED bank, WCE with soft targets; as SSAH's anchor consistency), did not help either: 5,000 labels,
 * 10 epochs, seed 0, mAP@all: gen_weight 1 0.605, 0.1 0.767, against the defaults' 0.772 and the ablation's 0.805.
 * G's images are far from the data after 10 epochs, and asking D_H to code them like the real images costs mAP.
 * Nor does the semi-supervised GAN of Salimans et al. read off the bits, `adv_features: codes` (hashers/abml.h: real
 * images, labelled and unlabelled, must get bits far from the step's centre, G's images bits near it; g_loss fm,
 * gen_weight 0): 5,000 labels, 10 epochs, seed 0, mAP@all 0.358 (adv_weight 0.1) and 0.319 (1), 0.311 and 0.257
 * without the centre. The push towards confident bits saturates tanh and stalls WCE's gradients (1 − u²), as η did;
 * constant bits appear (bit balance min 0.00 at adv_weight 1).
 * Time per epoch (1 thread, loaded machine): the defaults ~2.9× the ablation's (Fashion-MNIST, 5,000 labelled: 17.8 s
 * vs 6.2 s); with shared adv features ~3.7× (synthetic: 11.7 s vs 3.2 s).
 */
#include "hashers/abml.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops/ops.h"
#include "core/tape.h"
#include "hashers/deep.h"
#include "hashers/dpsh.h"

/* ---- WCE (hashers/abml.h) ---- */

/* w(d, s) for d > 0 without the clamp, and its derivative. */
static double wce_raw(double d, double s, const hl_abml_wce_opts *o, double *grad) {
    double k = o->shape, r = d / o->scale;
    double t = pow(r, k);
    double dt = k / o->scale * pow(r, k - 1); /* dt/dd, finite at d = 0 for k ≥ 1 */
    double em1 = expm1(t);                    /* e^t − 1 */
    double lsim = t, ldis = t > 0 ? -log(-expm1(-t)) : INFINITY;
    double gsim = dt, gdis = t > 0 ? -dt / em1 : -INFINITY;
    double l = s > 0 ? s * lsim : 0, g = s > 0 ? s * gsim : 0;
    if (s < 1) l += (1 - s) * ldis, g += (1 - s) * gdis;
    if (grad) *grad = g;
    return l;
}

double hl_abml_wce_pair(double d, double s, const hl_abml_wce_opts *o, double *grad) {
    d = d < 0 ? 0 : d > 1 ? 1 : d;
    if (s >= 1 || d >= o->eps) return wce_raw(d, s, o, grad);
    /* below ε: the similar part as is, the dissimilar part on its tangent at ε */
    double gs = 0, ls = s > 0 ? wce_raw(d, 1, o, &gs) * s : 0;
    double ge, le = wce_raw(o->eps, 0, o, &ge);
    if (grad) *grad = s * gs + (1 - s) * ge;
    return ls + (1 - s) * (le + ge * (d - o->eps));
}

double hl_abml_wce_loss(const float *v, int64_t B, int K, const float *U, int64_t n, const float *S,
                        const hl_abml_wce_opts *o, float *scratch, float *G, hl_abml_loss_parts *parts) {
    float *ip = scratch, *u = scratch + B * n; /* ip [B, n] = u Uᵀ, then dL1/d(ip); u [B, K] = tanh(v) */
    for (int64_t i = 0; i < B * K; i++) u[i] = tanhf(v[i]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)n, K, 1.0f, u, K, U, K, 0.0f, ip, (int)n);
    double l1 = 0, l2 = 0, inv = 1.0 / ((double)B * (double)n);
    for (int64_t i = 0; i < B * n; i++) {
        double g, d = ((double)K - ip[i]) / (2.0 * K);
        l1 += hl_abml_wce_pair(d, S[i], o, &g);
        ip[i] = (float)(-g / (2.0 * K) * inv); /* dL1/d(u_iᵀU_j) */
    }
    l1 *= inv;
    if (G) /* dL1/du_i = Σ_j dL1/d(u_iᵀU_j) · U_j */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, K, (int)n, 1.0f, ip, (int)n, U, K, 0.0f, G, K);
    for (int64_t i = 0; i < B * K; i++) {
        double e = u[i] - (u[i] >= 0 ? 1.0 : -1.0);
        l2 += e * e;
        if (G) G[i] = (float)((G[i] + 2 * o->eta / (double)B * e) * (1.0 - (double)u[i] * u[i]));
    }
    l2 *= o->eta / (double)B;
    if (parts) parts->wce = l1, parts->quantisation = l2;
    return l1 + l2;
}

void hl_abml_wce_profile(const float *v, int64_t B, int K, const float *U, int64_t n, const hl_abml_wce_opts *o,
                         float *u, float *P) {
    for (int64_t i = 0; i < B * K; i++) u[i] = tanhf(v[i]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)n, K, 1.0f, u, K, U, K, 0.0f, P, (int)n);
    for (int64_t i = 0; i < B * n; i++) {
        double d = ((double)K - P[i]) / (2.0 * K);
        d = d < 0 ? 0 : d > 1 ? 1 : d;
        P[i] = (float)exp(-pow(d / o->scale, o->shape));
    }
}

/* ---- the class ---- */

typedef struct abml {
    hl_hasher base;
    hl_deep_opts o;
    hl_hashnet net;
    hl_abml_wce_opts w;
    bool wce, mutual;
    int noise_dim, gen_width;
    double gen_lr, adv_weight, gen_weight, code_weight, recon_weight;
    bool feature_matching; /* g_loss: fm */
    bool fake_eval;        /* fake_bn: eval */
    bool adv_detached;     /* adv_features: detached */
    bool adv_codes;        /* adv_features: codes */
    bool gen_anchors;      /* gen_target: anchors */
    hl_params pg, pa;      /* G_H; D_H's real/fake head */
    hl_gan_generator g;
    hl_linear_layer adv;   /* "adv": F -> 1 on the backbone features; 1 -> 1 on the bits' confidence (codes) */
    bool have_gan;
} abml;

static const hl_param_spec abml_params[] = {
    HL_DEEP_PARAMS("10", "64", "1e-3", "adam", "1e-5"),
    {.name = "wce", .type = HL_PARAM_BOOL, .def = "true",
     .doc = "supervised loss: Weibull cross-entropy (reconstruction of the paper's WCE) against a memory bank of the "
            "labelled set; false: DPSH's pairwise likelihood"},
    {.name = "wce_scale", .type = HL_PARAM_FLOAT, .def = "0.5", .range = "(0, 10]",
     .doc = "Weibull scale λ on the normalised distance d = (K − uᵀv)/(2K) (ours: a random pair, d ≈ 0.5, gets "
            "p(similar) = 1/e)"},
    {.name = "wce_shape", .type = HL_PARAM_FLOAT, .def = "2", .range = "[1, 20]", .doc = "Weibull shape k (ours)"},
    {.name = "wce_eps", .type = HL_PARAM_FLOAT, .def = "0.01", .range = "(0, 0.5]",
     .doc = "the dissimilar term −log(1 − e^−(d/λ)^k) is continued by its tangent below d = ε (ours; finite loss for "
            "identical codes)"},
    {.name = "eta", .type = HL_PARAM_FLOAT, .def = "0", .range = "[0, 1000]",
     .doc = "quantisation weight η·mean_i‖u_i − sign(u_i)‖² (u = tanh output for WCE, the pre-activation for DPSH's "
            "loss; ours: 0 — WCE's gradients are ~1/(2K) of DPSH's, and η = 0.01 saturated tanh early: Fashion-MNIST "
            "32 bits, 3 epochs, mAP@all 0.48 at η = 0.01 vs 0.74 at η = 0)"},
    {.name = "mutual", .type = HL_PARAM_BOOL, .def = "true",
     .doc = "adversarial mutual learning with the generator G_H (false: the ablation, D_H on labelled data alone)"},
    {.name = "noise_dim", .type = HL_PARAM_INT, .def = "32", .range = "[1, 1024]",
     .doc = "noise z appended to the code at G_H's input (ours)"},
    {.name = "gen_width", .type = HL_PARAM_INT, .def = "32", .range = "[4, 256]",
     .doc = "DCGAN generator width g (ours: 32 for speed; DCGAN uses 64)"},
    {.name = "gen_lr", .type = HL_PARAM_FLOAT, .def = "2e-4", .range = "(0, 1]",
     .doc = "G_H's Adam learning rate (DCGAN's 2e-4, betas 0.5/0.999), constant"},
    {.name = "adv_weight", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 1000]",
     .doc = "weight of the real/fake BCE in D_H's step (ours; with adv_features: shared keep it ≤ 0.002: WCE's "
            "gradients are ~1/(2K) of a BCE's and 0.1 cost mAP on Fashion-MNIST, see the file's header; with detached "
            "features it only scales the adv head's own loss)"},
    {.name = "gen_weight", .type = HL_PARAM_FLOAT, .def = "0.002", .range = "[0, 1000]",
     .doc = "D-step weight of code recovery on G's images: D_H learns from G_H's samples (ours; small for the same "
            "reason as adv_weight)"},
    {.name = "gen_target", .type = HL_PARAM_ENUM, .def = "codes", .choices = "codes|anchors",
     .doc = "what D_H learns from G_H's image G(b_u, z) of an unlabelled image x_u: codes = recover b_u (mean‖tanh − "
            "b_u‖²); anchors = reproduce x_u's similarity profile over the labelled bank, WCE with the soft targets "
            "p_j = exp(−(d(u_u, U_j)/λ)^k) of the real image (ours; hashers/abml.h)"},
    {.name = "code_weight", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 1000]",
     .doc = "G-step weight of code recovery through the frozen D_H: G_H learns from D_H (ours)"},
    {.name = "g_loss", .type = HL_PARAM_ENUM, .def = "ns", .choices = "ns|fm",
     .doc = "G_H's adversarial loss: ns = non-saturating BCE on the real/fake head; fm = feature matching, "
            "‖mean f(G(b, z)) − mean f(x_real)‖² on D_H's backbone features (Salimans et al. 2016; ours)"},
    {.name = "fake_bn", .type = HL_PARAM_ENUM, .def = "eval", .choices = "eval|train",
     .doc = "batch norm of D_H on G's images: eval = running statistics of real images, as D_H encodes at test time "
            "(ours); train = statistics of the fake batch (running statistics kept from real images either way)"},
    {.name = "adv_features", .type = HL_PARAM_ENUM, .def = "detached", .choices = "shared|detached|codes",
     .doc = "shared: the real/fake BCE back-propagates into D_H's backbone (the adversarial game shapes the hash "
            "features); detached: the adv head sees the features as constants, D_H learns from G_H only through "
            "gen_weight's code recovery; codes: the real/fake logit is read off D_H's code outputs, "
            "w·mean_k log(2cosh((o_k − c_k)/2)) + b about the real batch's centre c, so real images (labelled and "
            "unlabelled) get confident bits and G's images uncertain ones (Salimans et al. 2016's semi-supervised GAN "
            "on bits; ours; hashers/abml.h; it cost mAP, see the file's header)"},
    {.name = "recon_weight", .type = HL_PARAM_FLOAT, .def = "0", .range = "[0, 1000]",
     .doc = "G-step weight of mean‖G(b_u, z) − x_u‖² (ours; 0 = off)"},
};

static hl_status abml_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                           uint64_t seed) {
    hl_status st = HL_OK;
    abml *m = (abml *)self;
    int64_t nd, gw;
    hl_params_init(&m->pg);
    hl_params_init(&m->pa);
    HL_TRY(hl_deep_opts_read(&m->o, cfg));
    HL_TRY(hl_config_get_bool(cfg, "wce", &m->wce));
    HL_TRY(hl_config_get_double(cfg, "wce_scale", &m->w.scale));
    HL_TRY(hl_config_get_double(cfg, "wce_shape", &m->w.shape));
    HL_TRY(hl_config_get_double(cfg, "wce_eps", &m->w.eps));
    HL_TRY(hl_config_get_double(cfg, "eta", &m->w.eta));
    HL_TRY(hl_config_get_bool(cfg, "mutual", &m->mutual));
    HL_TRY(hl_config_get_int(cfg, "noise_dim", &nd));
    HL_TRY(hl_config_get_int(cfg, "gen_width", &gw));
    HL_TRY(hl_config_get_double(cfg, "gen_lr", &m->gen_lr));
    HL_TRY(hl_config_get_double(cfg, "adv_weight", &m->adv_weight));
    HL_TRY(hl_config_get_double(cfg, "gen_weight", &m->gen_weight));
    const char *gt = NULL;
    HL_TRY(hl_config_get_string(cfg, "gen_target", &gt));
    m->gen_anchors = !strcmp(gt, "anchors");
    if (m->gen_anchors && !m->wce)
        return hl_error_set(HL_EINVAL, "abml: gen_target: anchors needs wce: true (its targets are WCE's "
                            "probabilities over the bank of tanh outputs)");
    HL_TRY(hl_config_get_double(cfg, "code_weight", &m->code_weight));
    HL_TRY(hl_config_get_double(cfg, "recon_weight", &m->recon_weight));
    const char *gl;
    HL_TRY(hl_config_get_string(cfg, "g_loss", &gl));
    m->feature_matching = !strcmp(gl, "fm");
    HL_TRY(hl_config_get_string(cfg, "fake_bn", &gl));
    m->fake_eval = !strcmp(gl, "eval");
    HL_TRY(hl_config_get_string(cfg, "adv_features", &gl));
    m->adv_detached = !strcmp(gl, "detached");
    m->adv_codes = !strcmp(gl, "codes");
    m->noise_dim = (int)nd, m->gen_width = (int)gw;
    HL_TRY(hl_hashnet_init(&m->net, &self->params, &m->o, info, bits, seed));
    if (m->mutual) {
        if ((st = hl_gan_generator_init(&m->g, &m->pg, "G", bits + m->noise_dim, info->c, info->h, info->w,
                                        m->gen_width)) < 0) {
            hl_error_wrap("abml: the generator G_H (mutual: true) needs 28×28 or 32×32 images; use mutual: false");
            goto done;
        }
        hl_params_set_device(&m->pg, self->dev);
        HL_TRY(hl_params_alloc(&m->pg));
        hl_linear_layer_init(&m->adv, &m->pa, "adv", m->adv_codes ? 1 : m->net.bb.features, 1, true);
        hl_params_set_device(&m->pa, self->dev);
        HL_TRY(hl_params_alloc(&m->pa));
        hl_rng r = hl_rng_make(seed, 0x47414e /* "GAN" */);
        hl_gan_generator_reset(&m->g, &r);
        hl_nn_init_default_linear(&m->adv, &r);
        if (m->adv_codes) { /* start at w = 1, b = −log 2: logit 0 for all-zero outputs */
            float w = 1.0f, b = -0.69314718f;
            hl_tensor_upload(m->adv.w, &w), hl_tensor_upload(m->adv.b, &b);
        }
        m->have_gan = true;
    }
done:
    return st;
}

static void abml_fini(hl_hasher *self) {
    abml *m = (abml *)self;
    hl_params_free(&m->pg);
    hl_params_free(&m->pa);
}

/* Training state of one fit. */
typedef struct abml_run {
    abml *m;
    int K, Z;
    int64_t B;
    hl_deep_trainer t;
    hl_optim *opt_g, *opt_a;
    hl_rng noise;
    float *bn_save;        /* D_H's buffers, saved around forwards of generated images */
    float *zin;            /* [B, K + Z] generator input */
    float *codes;          /* [B, K] b_u */
    float *fmean;          /* [F] mean backbone features of the step's real images (feature matching) */
    float *centre;         /* [K] mean code outputs of the step's real images (adv_features: codes) */
    const float *U;        /* the labelled bank [n, K] (tanh outputs; gen_target: anchors) */
    int64_t n;
    float *P, *scr, *Ga;   /* anchors: soft targets [B, n], WCE scratch [B·n + B·K], gradient [B, K] */
    hl_batcher ub;         /* unlabelled batches */
    int64_t uepoch;
    bool have_unl;
    double sum_d, sum_g;   /* adversarial losses of the epoch */
    int64_t nsteps;
} abml_run;

static void bn_save(abml_run *r) {
    hl_params *p = &r->m->base.params;
    if (p->buf_len) hl_params_download(p, 1, r->bn_save);
}

static void bn_restore(abml_run *r) {
    hl_params *p = &r->m->base.params;
    if (p->buf_len) hl_params_upload(p, 1, r->bn_save);
}

/* G's input [b | z] with fresh noise. */
static hl_tensor *gen_input(abml_run *r, hl_ctx *ctx, int64_t nb) {
    int KZ = r->K + r->Z;
    for (int64_t i = 0; i < nb; i++) {
        memcpy(r->zin + i * KZ, r->codes + i * r->K, (size_t)r->K * sizeof *r->zin);
        hl_rng_normal(&r->noise, r->zin + i * KZ + r->K, r->Z, 0.0f, 1.0f);
    }
    return hl_tensor_from(ctx, 2, HL_SHAPE(nb, KZ), r->zin);
}

/* mean‖tanh(out) − b‖² with b = r->codes (constants). */
static hl_tensor *code_recovery(abml_run *r, hl_ctx *ctx, hl_tensor *out, int64_t nb) {
    hl_tensor *b = hl_tensor_from(ctx, 2, HL_SHAPE(nb, r->K), r->codes);
    return hl_mse(ctx, hl_tanh(ctx, out), b);
}

/* Features as the adv head's input in the D-step: detached with adv_features: detached. */
static hl_tensor *adv_in(const abml *m, hl_ctx *ctx, hl_tensor *f) {
    return m->adv_detached ? hl_detach(ctx, f) : f;
}

/* The real/fake logits [B, 1] of images with backbone features f [B, F] and code outputs o [B, K]: the adv head on f
 * (adv_in), or with adv_features: codes on the bits' mean confidence about the real images' centre c [1, K]
 * (constants), mean_k lc(o_k − c_k), lc(t) = softplus(t) − t/2 = log(2cosh(t/2)) (hashers/abml.h). */
static hl_tensor *realness(const abml *m, hl_ctx *ctx, hl_tensor *f, hl_tensor *o, hl_tensor *centre) {
    if (!m->adv_codes) return hl_linear_layer_forward(ctx, &m->adv, adv_in(m, ctx, f));
    hl_tensor *t = hl_sub(ctx, o, centre);
    hl_tensor *c = hl_sub(ctx, hl_softplus(ctx, t), hl_scale(ctx, t, 0.5f));
    return hl_linear_layer_forward(ctx, &m->adv, hl_mean(ctx, c, HL_AXIS(1), true));
}

static hl_tensor *add_scaled(hl_ctx *ctx, hl_tensor *acc, hl_tensor *term, double w) {
    if (w == 0) return acc;
    hl_tensor *s = w == 1 ? term : hl_scale(ctx, term, (float)w);
    return acc ? hl_add(ctx, acc, s) : s;
}

/* The next unlabelled batch (restarting the batcher with the next epoch number when exhausted); false if none. */
static bool next_unlabelled(abml_run *r, hl_batch *ub) {
    if (!r->have_unl) return false;
    if (hl_batcher_next(&r->ub, ub)) return true;
    hl_batcher_start(&r->ub, ++r->uepoch);
    return hl_batcher_next(&r->ub, ub);
}

/* One D-step and one G-step for a labelled batch x_l [m, C, H, W]: its features f_l [m, F] and outputs out_l [m, K]
 * are already on the tape of t.ctx, Gsup [m, K] = dL_sup/dout_l from the host. */
static hl_status mutual_step(abml_run *r, hl_tensor *x_l, hl_tensor *f_l, hl_tensor *out_l, const float *Gsup,
                             const hl_dataset *unl) {
    if (hl_deep_trainer_check(&r->t) < 0) return HL_EINTR;
    abml *m = r->m;
    hl_ctx *ctx = r->t.ctx;
    int K = r->K;
    int64_t ml = x_l->shape[0];
    /* ---- D-step ---- */
    hl_tensor *Gt = hl_tensor_from(ctx, 2, HL_SHAPE(ml, K), Gsup);
    hl_tensor *loss = hl_sum(ctx, hl_mul(ctx, out_l, Gt), HL_AXES_ALL, false); /* ∂/∂out_l = Gsup */
    hl_tensor *x_u = x_l, *out_u = out_l, *f_u = NULL, *centre = NULL, *real_logits;
    hl_batch ub;
    bool have_u = next_unlabelled(r, &ub);
    if (have_u) {
        x_u = hl_tensor_from(ctx, 4, HL_SHAPE(ub.m, unl->c, unl->h, unl->w), ub.images);
        f_u = hl_backbone_forward(ctx, &m->net.bb, x_u);
        out_u = hl_linear_layer_forward(ctx, &m->net.head, f_u);
    }
    if (m->adv_codes) { /* the centre of the step's real outputs, a constant (kept for the G-step) */
        hl_tensor *o2[2] = {out_l, out_u};
        hl_tensor *c = hl_mean(ctx, hl_detach(ctx, have_u ? hl_concat(ctx, 2, o2, 0) : out_l), HL_AXIS(0), true);
        memcpy(r->centre, hl_tensor_host(ctx, c), (size_t)K * sizeof *r->centre);
        centre = hl_tensor_from(ctx, 2, HL_SHAPE(1, K), r->centre);
    }
    real_logits = realness(m, ctx, f_l, out_l, centre);
    if (have_u) {
        hl_tensor *parts[2] = {real_logits, realness(m, ctx, f_u, out_u, centre)};
        real_logits = hl_concat(ctx, 2, parts, 0);
    }
    int64_t mu = x_u->shape[0];
    const float *ouh = hl_tensor_host(ctx, out_u);
    for (int64_t i = 0; i < mu * K; i++) r->codes[i] = ouh[i] >= 0 ? 1.0f : -1.0f;
    if (m->feature_matching) { /* mean features of the real images of this step (labelled and unlabelled) */
        int F = m->net.bb.features;
        for (int j = 0; j < F; j++) r->fmean[j] = 0;
        hl_tensor *fr[2] = {f_l, x_u == x_l ? NULL : f_u};
        int64_t cnt = 0;
        for (int a = 0; a < 2; a++) {
            if (!fr[a]) continue;
            const float *fh = hl_tensor_host(ctx, fr[a]);
            for (int64_t i = 0; i < fr[a]->shape[0]; i++)
                for (int j = 0; j < F; j++) r->fmean[j] += fh[i * F + j];
            cnt += fr[a]->shape[0];
        }
        for (int j = 0; j < F; j++) r->fmean[j] /= (float)cnt;
    }
    hl_tensor *fake = hl_detach(ctx, hl_gan_generator_forward(ctx, &m->g, gen_input(r, ctx, mu)));
    bn_save(r);
    if (m->fake_eval) hl_ctx_set_train(ctx, false);
    hl_tensor *f_f = hl_backbone_forward(ctx, &m->net.bb, fake);
    hl_ctx_set_train(ctx, true);
    bn_restore(r);
    hl_tensor *out_f = m->adv_codes || m->gen_weight > 0 ? hl_linear_layer_forward(ctx, &m->net.head, f_f) : NULL;
    hl_tensor *ld = hl_gan_d_loss(ctx, HL_GAN_LOSS_NS, real_logits, realness(m, ctx, f_f, out_f, centre));
    double dval = hl_tensor_host(ctx, ld)[0];
    loss = add_scaled(ctx, loss, ld, m->adv_weight);
    if (m->gen_weight > 0 && m->gen_anchors) {
        hl_abml_wce_opts w = m->w;
        w.eta = 0;
        hl_abml_wce_profile(ouh, mu, K, r->U, r->n, &w, r->scr, r->P);
        hl_abml_wce_loss(hl_tensor_host(ctx, out_f), mu, K, r->U, r->n, r->P, &w, r->scr, r->Ga, NULL);
        hl_tensor *Gt_f = hl_tensor_from(ctx, 2, HL_SHAPE(mu, K), r->Ga); /* ∂/∂out_f = the soft-target WCE's */
        loss = add_scaled(ctx, loss, hl_sum(ctx, hl_mul(ctx, out_f, Gt_f), HL_AXES_ALL, false), m->gen_weight);
    } else if (m->gen_weight > 0) {
        loss = add_scaled(ctx, loss, code_recovery(r, ctx, out_f, mu), m->gen_weight);
    }
    if (!isfinite(dval)) {
        hl_tape_clear(ctx);
        return hl_error_set(HL_ERR, "abml diverged at step %lld (non-finite adversarial loss); lower lr",
                            (long long)r->t.steps);
    }
    hl_backward(ctx, loss);
    hl_optim_step(r->t.opt), hl_optim_step(r->opt_a);
    hl_optim_zero_grad(r->t.opt), hl_optim_zero_grad(r->opt_a);
    r->t.steps++;
    /* ---- G-step: D_H and adv frozen ---- */
    hl_gan_freeze(&m->base.params, NULL, true);
    hl_gan_freeze(&m->pa, NULL, true);
    hl_tensor *gen = hl_gan_generator_forward(ctx, &m->g, gen_input(r, ctx, mu));
    bn_save(r);
    if (m->fake_eval) hl_ctx_set_train(ctx, false);
    hl_tensor *fg = hl_backbone_forward(ctx, &m->net.bb, gen);
    hl_ctx_set_train(ctx, true);
    bn_restore(r);
    hl_tensor *lg, *og = m->adv_codes || m->code_weight > 0 ? hl_linear_layer_forward(ctx, &m->net.head, fg) : NULL;
    if (m->feature_matching) {
        int F = m->net.bb.features;
        hl_tensor *target = hl_tensor_from(ctx, 2, HL_SHAPE(1, F), r->fmean);
        lg = hl_mse(ctx, hl_mean(ctx, fg, HL_AXIS(0), true), target);
    } else {
        lg = hl_gan_g_loss(ctx, HL_GAN_LOSS_NS, m->adv_codes ? realness(m, ctx, fg, og, hl_tensor_from(ctx, 2,
                                                             HL_SHAPE(1, K), r->centre))
                                                             : hl_linear_layer_forward(ctx, &m->adv, fg));
    }
    double gval = hl_tensor_host(ctx, lg)[0];
    hl_tensor *lgt = lg;
    if (m->code_weight > 0)
        lgt = add_scaled(ctx, lgt, code_recovery(r, ctx, og, mu), m->code_weight);
    if (m->recon_weight > 0) lgt = add_scaled(ctx, lgt, hl_mse(ctx, gen, hl_detach(ctx, x_u)), m->recon_weight);
    hl_backward(ctx, lgt);
    hl_optim_step(r->opt_g);
    hl_optim_zero_grad(r->opt_g);
    hl_gan_freeze(&m->base.params, NULL, false);
    hl_gan_freeze(&m->pa, NULL, false);
    r->sum_d += dval, r->sum_g += gval, r->nsteps++;
    return HL_OK;
}

/* Sample grid: G's images for the current codes of the first ns labelled images with fixed noise zfix [ns, Z]. */
static hl_status write_grid(abml_run *r, const hl_dataset *train, const int64_t *idx, int64_t ns, const float *zfix,
                            float *tmp, int64_t epoch) {
    hl_status st = HL_OK;
    abml *m = r->m;
    int K = r->K, KZ = r->K + r->Z;
    float *zin = malloc((size_t)(ns * KZ) * sizeof *zin);
    if (!zin) return hl_error_set(HL_ENOMEM, "abml: out of memory");
    HL_TRY(hl_deep_outputs(&m->base, &m->net, train, idx, ns, tmp));
    for (int64_t i = 0; i < ns; i++) {
        for (int k = 0; k < K; k++) zin[i * KZ + k] = tmp[i * K + k] >= 0 ? 1.0f : -1.0f;
        memcpy(zin + i * KZ + K, zfix + i * r->Z, (size_t)r->Z * sizeof *zin);
    }
    HL_TRY(hl_deep_write_samples(&m->base, "G", &m->g, zin, ns, epoch));
done:
    free(zin);
    return st;
}

static hl_status abml_train(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n,
                            const hl_dataset *unl, const int64_t *uidx, int64_t nu) {
    hl_status st = HL_OK;
    abml *m = (abml *)self;
    int K = self->bits;
    int64_t B = m->o.batch, E = m->o.epochs;
    bool mutual = m->have_gan;
    abml_run r = {.m = m, .K = K, .Z = m->noise_dim, .B = B};
    hl_batcher bt = {0};
    hl_labels tl = {0};
    float *V = NULL, *U = NULL, *S = NULL, *scratch = NULL, *G = NULL, *zfix = NULL;
    int64_t *pos = NULL, ns = HL_MIN(n, 64);
    hl_code_diversity div = {0};
    if (E == 0) return HL_OK;
    HL_TRY(hl_labels_subset(&tl, &train->labels, idx, n));
    V = calloc((size_t)(n * K), sizeof *V);
    U = calloc((size_t)(n * K), sizeof *U);
    S = malloc((size_t)(B * n) * sizeof *S);
    scratch = malloc((size_t)(B * n + B * K) * sizeof *scratch);
    G = malloc((size_t)(B * K) * sizeof *G);
    pos = malloc((size_t)train->n * sizeof *pos);
    r.bn_save = malloc((size_t)HL_MAX(self->params.buf_len, 1) * sizeof *r.bn_save);
    r.zin = malloc((size_t)(B * (K + r.Z)) * sizeof *r.zin);
    r.codes = malloc((size_t)(B * K) * sizeof *r.codes);
    r.fmean = malloc((size_t)m->net.bb.features * sizeof *r.fmean);
    r.centre = malloc((size_t)K * sizeof *r.centre);
    zfix = malloc((size_t)(ns * r.Z) * sizeof *zfix);
    r.U = U, r.n = n;
    if (m->gen_anchors) {
        r.P = malloc((size_t)(B * n) * sizeof *r.P);
        r.scr = malloc((size_t)(B * n + B * K) * sizeof *r.scr);
        r.Ga = malloc((size_t)(B * K) * sizeof *r.Ga);
    }
    if (!V || !U || !S || !scratch || !G || !pos || !r.bn_save || !r.zin || !r.codes || !r.fmean || !r.centre || !zfix ||
        (m->gen_anchors && (!r.P || !r.scr || !r.Ga))) {
        st = hl_error_set(HL_ENOMEM, "abml: out of memory for %lld training items", (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < train->n; i++) pos[i] = -1;
    for (int64_t i = 0; i < n; i++) pos[idx[i]] = i;
    hl_batcher_opts bo = hl_deep_batcher_opts(self, &m->o);
    HL_TRY(hl_deep_centre_bits(&m->base, &m->net, train, idx, n, V));
    for (int64_t i = 0; i < n * K; i++) U[i] = tanhf(V[i]);
    HL_TRY(hl_batcher_init(&bt, train, idx, n, &bo));
    HL_TRY(hl_deep_trainer_begin(&r.t, self, &m->o));
    if (mutual) {
        hl_optim_config cg = hl_optim_defaults(HL_OPTIM_ADAM);
        cg.lr = (float)m->gen_lr, cg.beta1 = 0.5f, cg.beta2 = 0.999f;
        HL_TRY(hl_optim_create(&r.opt_g, &m->pg, &cg));
        hl_optim_config ca = hl_optim_defaults(m->o.optimizer);
        ca.lr = (float)m->o.lr, ca.weight_decay = (float)m->o.weight_decay;
        if (m->o.optimizer == HL_OPTIM_SGD) ca.momentum = (float)m->o.momentum;
        HL_TRY(hl_optim_create(&r.opt_a, &m->pa, &ca));
        r.noise = hl_rng_make(self->seed, 0x7a /* "z" */);
        hl_rng zr = hl_rng_make(self->seed, 0x7a66 /* "zf" */);
        hl_rng_normal(&zr, zfix, ns * r.Z, 0.0f, 1.0f);
        if (nu > 0) {
            hl_batcher_opts uo = bo;
            uo.seed = self->seed ^ 0x756e6c /* "unl" */;
            HL_TRY(hl_batcher_init(&r.ub, unl, uidx, nu, &uo));
            hl_batcher_start(&r.ub, 0);
            r.have_unl = true;
        }
    }
    /* resumable: the similarity bank, the generator and its head with their optimizers, the noise stream and the
     * position in the unlabelled stream */
    struct { int64_t epoch, step, uepoch; } upos = {0};
    hl_train_state_blob(&r.t.state, "V", V, (size_t)(n * K) * sizeof *V);
    hl_train_state_blob(&r.t.state, "U", U, (size_t)(n * K) * sizeof *U);
    hl_train_state_blob(&r.t.state, "diversity", &div, sizeof div);
    if (mutual) {
        hl_train_state_params(&r.t.state, "G", &m->pg);
        hl_train_state_params(&r.t.state, "adv", &m->pa);
        hl_train_state_optim(&r.t.state, "opt_G", r.opt_g);
        hl_train_state_optim(&r.t.state, "opt_adv", r.opt_a);
        hl_train_state_blob(&r.t.state, "noise", &r.noise, sizeof r.noise);
        hl_train_state_blob(&r.t.state, "unlabelled", &upos, sizeof upos);
    }
    int64_t e0;
    HL_TRY(hl_deep_trainer_resume(&r.t, &e0));
    if (e0 > 0 && r.have_unl) {
        hl_batcher_seek(&r.ub, upos.epoch, upos.step);
        r.uepoch = upos.uepoch;
    }
    for (int64_t e = e0; e < E; e++) {
        hl_deep_trainer_epoch(&r.t, e);
        if (r.opt_a) hl_optim_set_lr(r.opt_a, hl_optim_get_lr(r.t.opt));
        hl_batcher_start(&bt, e);
        hl_batch b;
        double loss_sum = 0;
        int64_t seen = 0;
        r.sum_d = r.sum_g = 0, r.nsteps = 0;
        while (hl_batcher_next(&bt, &b)) {
            hl_ctx *ctx = r.t.ctx;
            hl_ctx_reset(ctx);
            hl_tensor *x = hl_tensor_from(ctx, 4, HL_SHAPE(b.m, train->c, train->h, train->w), b.images);
            hl_tensor *f = hl_backbone_forward(ctx, &m->net.bb, x);
            hl_tensor *out = hl_linear_layer_forward(ctx, &m->net.head, f); /* [m, K] */
            const float *oh = hl_tensor_host(ctx, out);
            double loss;
            hl_deep_similarity(S, b.labels, &tl);
            if (m->wce) {
                for (int64_t i = 0; i < b.m; i++)
                    for (int k = 0; k < K; k++) U[pos[b.index[i]] * K + k] = tanhf(oh[i * K + k]);
                loss = hl_abml_wce_loss(oh, b.m, K, U, n, S, &m->w, scratch, G, NULL);
            } else {
                for (int64_t i = 0; i < b.m; i++)
                    memcpy(V + pos[b.index[i]] * K, oh + i * K, (size_t)K * sizeof *V);
                loss = hl_dpsh_loss(oh, b.m, K, V, n, S, m->w.eta, scratch, G, NULL);
            }
            if (mutual) {
                for (int64_t i = 0; i < b.m * K; i++)
                    if (!isfinite(G[i])) {
                        hl_tape_clear(ctx);
                        st = hl_error_set(HL_ERR, "abml diverged at step %lld (non-finite gradient); lower lr",
                                          (long long)r.t.steps);
                        break;
                    }
                if (st == HL_OK) st = mutual_step(&r, x, f, out, G, unl);
            } else {
                st = hl_deep_trainer_step(&r.t, out, G);
            }
            if (st < 0) {
                if (st != HL_EINTR) hl_error_wrap("epoch %lld", (long long)(e + 1));
                goto done;
            }
            loss_sum += loss * (double)b.m;
            seen += b.m;
        }
        /* diversity of the bank's codes (U holds tanh outputs, V pre-activations: same signs) */
        div = hl_code_diversity_of(m->wce ? U : V, n, K);
        hl_deep_log_epoch(self, e, E, loss_sum / (double)HL_MAX(seen, 1), &div, &r.t);
        if (mutual) {
            hl_msg(HL_LOG_INFO, "abml %db: epoch %lld adversarial losses: D %.4f G %.4f", K, (long long)(e + 1),
                   r.sum_d / (double)HL_MAX(r.nsteps, 1), r.sum_g / (double)HL_MAX(r.nsteps, 1));
            HL_TRY(write_grid(&r, train, idx, ns, zfix, scratch, e));
        }
        if (r.have_unl) upos.epoch = r.ub.epoch, upos.step = r.ub.step, upos.uepoch = r.uepoch;
        HL_TRY(hl_deep_trainer_epoch_end(&r.t, e));
    }
    if (div.collapsed)
        hl_msg(HL_LOG_WARN, "abml %db: training ended with COLLAPSED codes (%d of %d bits constant, mean bit balance "
               "%.3f): retrieval with them is near chance; lower lr or eta (now %g)", K, div.constant_bits, K,
               div.mean_balance, m->w.eta);
    HL_TRY(hl_deep_recalibrate_bn(self, &m->net, &m->o, train, idx, n));
done:
    hl_optim_free(r.opt_g);
    hl_optim_free(r.opt_a);
    hl_deep_trainer_end(&r.t);
    hl_batcher_free(&bt);
    hl_batcher_free(&r.ub);
    hl_labels_free(&tl);
    free(V), free(U), free(S), free(scratch), free(G), free(pos), free(zfix);
    free(r.bn_save), free(r.zin), free(r.codes), free(r.fmean), free(r.centre), free(r.P), free(r.scr), free(r.Ga);
    return st;
}

static hl_status abml_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    (void)labels; /* the driver refuses this supervised fit without visible labels */
    return abml_train(self, train, idx, n, NULL, NULL, 0);
}

static hl_status abml_fit_semi(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n,
                               const hl_dataset *unlabelled, const int64_t *uidx, int64_t nu) {
    return abml_train(self, train, idx, n, unlabelled, uidx, nu);
}

static hl_tensor *abml_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    return hl_hashnet_forward(ctx, &((abml *)self)->net, x);
}

const hl_hasher_class hl_hasher_abml = {
    .abi = HL_HASHER_ABI,
    .name = "abml",
    .version = "2", /* 2: the step schedule's milestones are ⌈E/3⌉, ⌈2E/3⌉ (hashers/deep.c) */
    .summary = "ABML (Wang et al., TNNLS'22): semi-supervised hashing, hash net + generator in adversarial mutual "
               "learning, Weibull cross-entropy (reconstruction)",
    .cite = "@article{wang2022abml,\n  author = {Guan'an Wang and Qinghao Hu and Yang Yang and Jian Cheng and Zeng-Guang Hou},\n  title = {Adversarial Binary Mutual Learning for Semi-Supervised Deep Hashing},\n  journal = {IEEE Transactions on Neural Networks and Learning Systems},\n  volume = {33},\n  number = {8},\n  pages = {4110--4124},\n  year = {2022},\n  doi = {10.1109/TNNLS.2021.3055834}\n}\n",
    .params = abml_params,
    .n_params = (int)HL_ARRAY_LEN(abml_params),
    .size = sizeof(abml),
    .flags = HL_HASHER_SUPERVISED | HL_HASHER_SEMI_SUPERVISED | HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT |
             HL_HASHER_DEVICE,
    .init = abml_init,
    .fini = abml_fini,
    .fit = abml_fit,
    .fit_semi = abml_fit_semi,
    .forward = abml_forward,
};
