/* hashers/ssah.c — SSAH, Semi-supervised Self-paced Adversarial Hashing with hard sample generation (Jin, Zhou,
 * Liu, Chen, Sun, Yao, Hua; AAAI 2020, arXiv 1911.08688). methods.md §5.
 *
 * What follows the paper (abstract and introduction; no code was found, the method section was not readable):
 *   two networks, an adversarial A-Net that turns training images into HARD samples by multi-scale occlusion and
 *   multi-angle rotation, and the hashing H-Net that learns codes from originals and hard samples; a SELF-PACED
 *   hard generation policy that raises the difficulty of the generated samples over training; a semi-supervised
 *   CONSISTENT loss that uses the unlabelled images.
 *
 * What is our RECONSTRUCTION (methods.md §5.2 [BEST-UNDERSTANDING]; every choice a parameter):
 *   - By default (`deform_at: pixels`) the deformations act on PIXELS through the differentiable warp op
 *     hl_rotate_t:
 *         x̃ = rotate(x ⊙ (1 − ρ_t·m), a),   m = mean_s up_s(σ(ℓ_s)),   a = θ_t·tanh(r)
 *     `deform_at: <stage>` applies the same occlusion and rotation to the FEATURE MAP Φ(x) after that backbone stage
 *     instead, as methods.md §5.2 reads the paper (A-Fast-RCNN's ASDN/ASTN act on conv features):
 *         Φ̃ = rotate(Φ(x) ⊙ (1 − ρ_t·m), a),   m upsampled to the map's size (cnn-small conv2: 64×7×7 on 28×28)
 *     and the rest of the network runs on Φ̃ (hl_backbone_forward_to / _from). The A-Net still reads the images
 *     (ASDN reads the RoI's features; ours predicts masks per image, so the pixels serve as well and keep one
 *     A-Net for both modes). In the H-step the masks and angles are constants but Φ̃ stays differentiable in Φ, so
 *     the layers below the split also learn from the deformed path; in the A-step the gradient reaches the A-Net
 *     through the layers above the split.
 *     where the A-Net (its own hl_params and Adam optimiser, not in the checkpoint: forward() needs only H-Net) is a
 *     small CNN (conv 3×3/2 16 → ReLU → conv 3×3/2 32 → ReLU → global average pool → linear) giving, per image,
 *     s×s occlusion logits ℓ_s for every s of `occlusion_grids` (nearest-neighbour upsampled to H×W by a matmul with a
 *     constant 0/1 matrix) and one rotation logit r. Maths of the deformation, schedule and losses: hashers/ssah.h.
 *   - Self-paced policy: pace p(e) from `pace_start` to 1 over the epochs; ρ_t = p·`occlusion`, θ_t = p·`max_angle`,
 *     and the A-Net does not maximise H-Net's loss but minimises (L_H(x̃) − τ_t)² with the target hardness
 *     τ_t = (1 + `hardness`·p)·L_H(x) relative to the clean batch's loss of the same step.
 *   - H-Net loss (minimise): L_sup = DPSH (hashers/dpsh.h: pairwise likelihood over a memory bank of the labelled
 *     set + η·quantisation) on the labelled batch AND on its hard samples (same labels, weight `hard_weight`),
 *     plus α·L_cons, L_cons = mean ‖tanh o(x_u) − tanh o(x̃_u)‖² on an unlabelled batch (α = `consistency`).
 *     H-Net's output o is the pre-activation (as in hashers/dpsh.c: DPSH on o, codes sign(o)); tanh only in L_cons.
 *   - Steps per labelled batch: (1) hard samples of the labelled and the unlabelled batch from the current A-Net
 *     (constants for H); (2) one H-step on [x_l; x̃_l; x_u; x̃_u] (one forward, so batch norm sees them together);
 *     (3) one A-step: H-Net frozen, L_H(x̃_l) = DPSH loss of H(x̃_l) backpropagated through H-Net, hl_rotate_t and
 *     the masks into the A-Net.
 *   - DPSH's data-dependent start (hashers/dpsh.c): head bias shifted so each bit's median over the labelled set is
 *     0; the bank starts from those outputs.
 *   - Ablation switch `anet`: adversarial (the method) | random (same budget, uniform random masks and angles, no
 *     A-Net learning) | off (no hard samples, no consistency: plain supervised DPSH-style H-Net).
 * Epoch = one pass over the LABELLED images; every labelled batch is paired with one unlabelled batch from a second
 * batcher over the unlabelled list (restarted with the next epoch number when exhausted).
 * Defaults and why: Adam lr 1e-3, batch 64, weight decay 1e-5, η = 0.002 (hashers/dpsh.c's choices, which train
 * cnn-small from scratch); epochs 30 (paper setting unknown); occlusion grids 2 and 4 (two scales, coarse halves and
 * quarter cells); pace_start 0.2; hardness 1 (hard samples end at twice the clean loss); A-Net lr 1e-3. The budget
 * and weights were chosen on Fashion-MNIST (cifar10-1 split, 32 bits, 3 epochs, mAP@all, one seed, so differences of
 * ~0.01 are within noise; anet: off gave 0.681): occlusion 0.2, max_angle 10°, hard_weight 0.25, consistency α = 0.3
 * (the defaults) gave 0.693; occlusion 0.3, 15°, hard_weight 0.5 gave 0.687 (0.683 with α = 1, 0.680 with anet:
 * random); occlusion 0.5, 30°, hard_weight 1, α = 1 gave 0.652 (0.678 with pace_start 0) — strong deformations early
 * in a short run cost clean mAP.
 * suites/fashion_semi.yaml, 3 seeds, 32 bits (its header has the table). The earlier tables were not comparable: at
 * 1,000 labels lr 1e-3 drives DPSH's likelihood into its zero-output saddle (hashers/dpsh.c), which the hard samples
 * happen to avoid (72 cosine epochs, seed 0: ssah 0.689, anet: off 0.100, every bit constant), and at 5,000 labels 8
 * step epochs were too few (seed 0, anet: off: 0.753 → 0.823 with 16 cosine epochs). With lr 1e-4 at 1,000 labels and
 * 16 cosine epochs at 5,000, the A-Net and the consistency loss do not help at 1,000 labels and help by less than the
 * seed spread at 5,000. Seed 0, 1,000 labels, 50 epochs (anet: off 0.735): adversarial 0.724, random 0.729,
 * consistency_kind anchors 0.719, lr 3e-4 0.717; 5,000 labels, anchors 0.816 (codes 0.829). Twice the schedule at
 * 5,000 labels (32 cosine epochs, 3 seeds): 0.833 ± 0.009 against the ablation's 0.828 ± 0.003 (+0.98, +0.80, −0.21
 * per seed; at 16 epochs +0.35 on average): the gap grows a little with training, still within the seed spread.
 * On the feature map (`deform_at: conv2`, cnn-small's 64×7×7 map, default budget), 5,000 labels: 16 cosine epochs,
 * seed 0: 0.830 (pixels 0.829, the ablation 0.823; with random masks and angles 0.824, on conv1's 14×14 map 0.821,
 * with occlusion 0.5 and 20° 0.796); 32 cosine epochs, 3 seeds: 0.8328 ± 0.0007 against the ablation's
 * 0.8278 ± 0.0028, ahead on every seed (+0.61, +0.19, +0.69): as high as on the pixels (0.833 ± 0.009) with a tenth
 * of the spread. The gap (+0.50) is more than twice SSAH's std and the pooled std (0.20), not twice the ablation's.
 * Over labelled fractions (3 seeds; pixels | conv2 | ablation): 1,000 labels 0.721 | 0.722 | 0.729, 5,000 (32
 * epochs) 0.833 | 0.833 | 0.828, 10,000 (16 epochs) 0.861 | 0.863 | 0.857: the adversarial part costs ~0.7 points at
 * 1,000 labels and gains ~0.5 from 5,000 on, within about one std of the seeds (suites/fashion_semi.yaml). Random
 * masks and angles on conv2 (anet: random, 5,000 labels, 32 epochs, 3 seeds) get 0.8321 ± 0.0010: the A-Net's
 * learning adds +0.07 of the +0.50; the rest comes from the deformations and the consistency loss as such. On a
 * second machine (other BLAS kernels, the suite's header): conv2 0.8371 ± 0.0034, the ablation 0.8307 ± 0.0060, random
 * 0.8285 ± 0.0015 — the A-Net's share was +0.86 there, so that share is within the machines' noise.
 * With anet != off, deform_at: pixels and h->workdir set, each epoch writes <workdir>/samples/hard_epoch_NNN.png: 8
 * pairs clean | hard of the first labelled images at that epoch's pace (4 pairs a row); hard feature maps are not
 * images, so feature-map runs write none.
 */
#include "hashers/ssah.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/io/grid.h"
#include "core/kernels.h"
#include "core/nn/layers.h"
#include "core/tape.h"
#include "hashers/deep.h"
#include "hashers/dpsh.h"

#define SSAH_MAX_GRIDS 4
#define SSAH_RNG_STREAM 0x55a4u
#define SSAH_PI 3.14159265358979323846

/* ---- pure pieces (hashers/ssah.h) ---- */

double hl_ssah_pace(double pace_start, int64_t epoch, int64_t epochs) {
    if (epochs <= 1) return 1.0;
    double f = (double)epoch / (double)(epochs - 1);
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    return pace_start + (1.0 - pace_start) * f;
}

double hl_ssah_target(double clean_loss, double hardness, double pace) { return (1.0 + hardness * pace) * clean_loss; }

double hl_ssah_anet_loss(double lh, double tau, double *dlh) {
    if (dlh) *dlh = 2.0 * (lh - tau);
    return (lh - tau) * (lh - tau);
}

double hl_ssah_consistency(const float *o, const float *o2, int64_t B, int K, float *G, float *G2) {
    double loss = 0, inv = 1.0 / ((double)B * K);
    for (int64_t i = 0; i < B * K; i++) {
        double t = tanh((double)o[i]), t2 = tanh((double)o2[i]), d = t - t2;
        loss += d * d;
        if (G) G[i] = (float)(2 * d * (1 - t * t) * inv);
        if (G2) G2[i] = (float)(-2 * d * (1 - t2 * t2) * inv);
    }
    return loss * inv;
}

double hl_ssah_anchor_consistency(const float *o, const float *o2, int64_t B, int K, const float *U, int64_t n,
                                  float *P, float *theta, float *G2) {
    /* P [B, n] = σ(½ o Uᵀ): the teacher's similarity profile over the labelled bank, and its entropy */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)n, K, 0.5f, o, K, U, K, 0.0f, P, (int)n);
    double ent = 0;
    for (int64_t i = 0; i < B * n; i++) {
        double t = P[i], p = 1.0 / (1.0 + exp(-t));
        ent += log1p(exp(-fabs(t))) + (t > 0 ? t : 0) - p * t; /* H(σ(t)) = softplus(t) − σ(t)·t */
        P[i] = (float)p;
    }
    double l = hl_dpsh_loss(o2, B, K, U, n, P, 0.0, theta, G2, NULL);
    return l - ent / ((double)B * (double)n);
}

hl_tensor *hl_ssah_deform(hl_ctx *ctx, hl_tensor *x, hl_tensor *m, hl_tensor *angles, float rho) {
    hl_tensor *keep = hl_add_scalar(ctx, hl_scale(ctx, m, -rho), 1.0f); /* 1 − ρm  [B, 1, H, W] */
    return hl_rotate_t(ctx, hl_mul(ctx, x, keep), angles);
}

/* ---- the class ---- */

typedef enum { ANET_ADVERSARIAL, ANET_RANDOM, ANET_OFF } anet_mode;

typedef struct anet {
    hl_params p;
    hl_conv2d_layer c1, c2;
    hl_linear_layer fc;
    hl_optim *opt;
} anet;

typedef struct ssah {
    hl_hasher base;
    hl_deep_opts o;
    hl_hashnet net;
    double eta, consistency, occlusion, max_angle, pace_start, hardness, hard_weight, anet_lr;
    anet_mode mode;
    bool anchors; /* consistency_kind: anchors (else codes) */
    int ngrid, grids[SSAH_MAX_GRIDS];
    int split;                 /* deform_at: -1 = pixels, else the backbone stage whose output map is deformed */
    int dh, dw;                /* size of what is deformed: the images, or that feature map */
    anet a;
    float *up[SSAH_MAX_GRIDS]; /* [s², dh·dw] nearest-neighbour upsampling matrices */
    int64_t rng_step;          /* draws of the random mode */
} ssah;

static const hl_param_spec ssah_params[] = {
    HL_DEEP_PARAMS("30", "64", "1e-3", "adam", "1e-5"),
    {.name = "eta", .type = HL_PARAM_FLOAT, .def = "0.002", .range = "[0, 1000]",
     .doc = "DPSH quantisation weight η (hashers/dpsh.c's default)"},
    {.name = "anet", .type = HL_PARAM_ENUM, .def = "adversarial", .choices = "adversarial|random|off",
     .doc = "hard samples from the learned A-Net (the method) | random masks and angles with the same budget | off "
            "(no hard samples, no consistency loss: the plain supervised H-Net)"},
    {.name = "consistency", .type = HL_PARAM_FLOAT, .def = "0.3", .range = "[0, 1000]",
     .doc = "weight α of the semi-supervised consistency loss on the unlabelled images (reconstruction)"},
    {.name = "consistency_kind", .type = HL_PARAM_ENUM, .def = "codes", .choices = "codes|anchors",
     .doc = "codes: mean‖tanh o(x_u) − tanh o(x̃_u)‖² | anchors: the hard sample reproduces the clean image's "
            "similarity profile over the labelled bank (KL of DPSH likelihoods, hashers/ssah.h; tried, it scored "
            "lower: see this file's header)"},
    {.name = "hard_weight", .type = HL_PARAM_FLOAT, .def = "0.25", .range = "[0, 1000]",
     .doc = "weight of the DPSH loss on the labelled hard samples (reconstruction)"},
    {.name = "occlusion_grids", .type = HL_PARAM_INT_LIST, .def = "[2, 4]", .range = "[1, 16]",
     .doc = "occlusion scales: an s×s grid of soft mask cells per s (1 to 4 scales; reconstruction)"},
    {.name = "occlusion", .type = HL_PARAM_FLOAT, .def = "0.2", .range = "[0, 1]",
     .doc = "maximum occlusion strength ρ_max: x ⊙ (1 − ρ_t·m) (reconstruction)"},
    {.name = "max_angle", .type = HL_PARAM_FLOAT, .def = "10", .range = "[0, 180]",
     .doc = "maximum rotation θ_max in degrees: a = θ_t·tanh(r) (reconstruction)"},
    {.name = "pace_start", .type = HL_PARAM_FLOAT, .def = "0.2", .range = "[0, 1]",
     .doc = "self-paced schedule: pace p from pace_start (first epoch) to 1 (last); ρ_t, θ_t and the hardness "
            "target scale with p (reconstruction)"},
    {.name = "hardness", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 100]",
     .doc = "κ: A-Net minimises (L_H(x̃) − τ)², τ = (1 + κ·p)·L_H(x) (reconstruction)"},
    {.name = "anet_lr", .type = HL_PARAM_FLOAT, .def = "1e-3", .range = "(0, 10]", .doc = "A-Net Adam learning rate"},
    {.name = "deform_at", .type = HL_PARAM_STRING, .def = "pixels",
     .doc = "where the hard samples are made: pixels (the images) | a backbone stage whose output feature map is "
            "occluded and rotated, as A-Fast-RCNN's ASDN/ASTN (cnn-small/-medium conv1|conv2|conv3, resnet-small "
            "conv1|layer1|layer2; no samples grid then)"},
};

static void ssah_fini(hl_hasher *self) {
    ssah *m = (ssah *)self;
    hl_optim_free(m->a.opt);
    m->a.opt = NULL;
    hl_params_free(&m->a.p);
    for (int g = 0; g < SSAH_MAX_GRIDS; g++) free(m->up[g]), m->up[g] = NULL;
}

static hl_status ssah_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                           uint64_t seed) {
    hl_status st = HL_OK;
    ssah *m = (ssah *)self;
    const char *mode = NULL;
    int64_t *grids = NULL, ng = 0;
    hl_params_init(&m->a.p);
    HL_TRY(hl_deep_opts_read(&m->o, cfg));
    HL_TRY(hl_config_get_double(cfg, "eta", &m->eta));
    HL_TRY(hl_config_get_double(cfg, "consistency", &m->consistency));
    HL_TRY(hl_config_get_double(cfg, "hard_weight", &m->hard_weight));
    HL_TRY(hl_config_get_double(cfg, "occlusion", &m->occlusion));
    HL_TRY(hl_config_get_double(cfg, "max_angle", &m->max_angle));
    HL_TRY(hl_config_get_double(cfg, "pace_start", &m->pace_start));
    HL_TRY(hl_config_get_double(cfg, "hardness", &m->hardness));
    HL_TRY(hl_config_get_double(cfg, "anet_lr", &m->anet_lr));
    HL_TRY(hl_config_get_string(cfg, "consistency_kind", &mode));
    m->anchors = !strcmp(mode, "anchors");
    HL_TRY(hl_config_get_string(cfg, "anet", &mode));
    m->mode = !strcmp(mode, "random") ? ANET_RANDOM : !strcmp(mode, "off") ? ANET_OFF : ANET_ADVERSARIAL;
    HL_TRY(hl_config_get_string(cfg, "deform_at", &mode));
    m->split = -1;
    if (strcmp(mode, "pixels") != 0) {
        const hl_backbone_kind kind = hl_backbone_kind_from_name(m->o.backbone);
        if ((st = hl_backbone_stage_find(kind, mode, &m->split)) < 0) return hl_error_wrap("ssah: deform_at");
        if (!hl_backbone_splits(kind, m->split))
            return hl_error_set(HL_EINVAL, "ssah: deform_at '%s': %s has no feature map to deform there (pixels, or a "
                                "stage before the last of cnn-small, cnn-medium or resnet-small)", mode, m->o.backbone);
    }
    HL_TRY(hl_config_get_int_list(cfg, "occlusion_grids", &grids, &ng));
    if (ng < 1 || ng > SSAH_MAX_GRIDS) {
        st = hl_error_set(HL_EINVAL, "ssah: occlusion_grids needs 1 to %d scales, got %lld", SSAH_MAX_GRIDS,
                          (long long)ng);
        goto done;
    }
    m->ngrid = (int)ng;
    if ((st = hl_hashnet_init(&m->net, &self->params, &m->o, info, bits, seed)) < 0) goto done;
    m->dh = info->h, m->dw = info->w;
    if (m->split >= 0) {
        int shape[3];
        hl_backbone_map_shape(&m->net.bb, m->split, shape);
        m->dh = shape[1], m->dw = shape[2];
    }
    for (int g = 0; g < m->ngrid; g++) {
        if (grids[g] > m->dh || grids[g] > m->dw) {
            st = hl_error_set(HL_EINVAL, "ssah: occlusion grid %lld is finer than the %dx%d %s", (long long)grids[g],
                              m->dh, m->dw, m->split < 0 ? "images" : "feature map");
            goto done;
        }
        m->grids[g] = (int)grids[g];
    }
    /* A-Net: its own parameters (not checkpointed), seeded apart from H-Net. */
    int P = 1;
    for (int g = 0; g < m->ngrid; g++) P += m->grids[g] * m->grids[g];
    hl_conv2d_layer_init(&m->a.c1, &m->a.p, "anet.c1", info->c, 16, 3, 2, 1, 1, true);
    hl_conv2d_layer_init(&m->a.c2, &m->a.p, "anet.c2", 16, 32, 3, 2, 1, 1, true);
    hl_linear_layer_init(&m->a.fc, &m->a.p, "anet.fc", 32, P, true);
    hl_params_set_device(&m->a.p, self->dev);
    HL_TRY(hl_params_alloc(&m->a.p));
    hl_rng r = hl_rng_make(seed, SSAH_RNG_STREAM);
    hl_nn_init_default_conv2d(&m->a.c1, &r);
    hl_nn_init_default_conv2d(&m->a.c2, &r);
    hl_nn_init_default_linear(&m->a.fc, &r);
    const int64_t H = m->dh, W = m->dw;
    for (int g = 0; g < m->ngrid; g++) {
        const int s = m->grids[g];
        m->up[g] = calloc((size_t)(s * s * H * W), sizeof(float));
        if (!m->up[g]) {
            st = hl_error_set(HL_ENOMEM, "ssah: out of memory");
            goto done;
        }
        for (int64_t i = 0; i < H; i++)
            for (int64_t j = 0; j < W; j++) m->up[g][((i * s / H) * s + j * s / W) * H * W + i * W + j] = 1.0f;
    }
done:
    free(grids);
    return st;
}

/* A-Net logits [B, P] (P = Σ s² + 1) of images x [B, C, H, W]. */
static hl_tensor *anet_forward(hl_ctx *ctx, const anet *a, hl_tensor *x) {
    hl_tensor *h = hl_relu(ctx, hl_conv2d_layer_forward(ctx, &a->c1, x));
    h = hl_relu(ctx, hl_conv2d_layer_forward(ctx, &a->c2, h));
    return hl_linear_layer_forward(ctx, &a->fc, hl_global_avgpool(ctx, h));
}

/* The deformation of images x [B, C, H, W] at pace p: occlusion masks *mask [B, 1, dh, dw] and angles *ang [B] from
 * the A-Net (adversarial) or uniform random draws (random). dh × dw is the size of what is deformed (the images, or
 * the feature map of `deform_at`); the A-Net always reads the images. Differentiable w.r.t. the A-Net's parameters
 * in the adversarial mode when grad mode is on. */
static void hard_params(ssah *m, hl_ctx *ctx, hl_tensor *x, double pace, hl_tensor **mask_out, hl_tensor **ang_out) {
    const int64_t B = x->shape[0], H = m->dh, W = m->dw;
    const float amax = (float)(pace * m->max_angle * SSAH_PI / 180.0);
    hl_tensor *logits = NULL;
    hl_rng r = hl_rng_make(m->base.seed, SSAH_RNG_STREAM + 1 + (uint64_t)m->rng_step);
    if (m->mode == ANET_ADVERSARIAL) logits = anet_forward(ctx, &m->a, x);
    else m->rng_step++;
    hl_tensor *mask = NULL;
    int64_t off = 0;
    for (int g = 0; g < m->ngrid; g++) {
        const int64_t s2 = (int64_t)m->grids[g] * m->grids[g];
        hl_tensor *cells;
        if (logits) {
            cells = hl_sigmoid(ctx, hl_slice(ctx, logits, 1, off, off + s2));
        } else {
            cells = hl_tensor_new(ctx, 2, HL_SHAPE(B, s2));
            hl_tensor_rand_uniform(cells, &r, 0.0f, 1.0f); /* drawn on the device */
        }
        hl_tensor *up = hl_tensor_from(ctx, 2, HL_SHAPE(s2, H * W), m->up[g]);
        hl_tensor *ms = hl_matmul_t(ctx, cells, up, false, false); /* [B, H·W] */
        mask = mask ? hl_add(ctx, mask, ms) : ms;
        off += s2;
    }
    *mask_out = hl_reshape(ctx, hl_scale(ctx, mask, 1.0f / (float)m->ngrid), 4, HL_SHAPE(B, 1, H, W));
    if (logits) {
        *ang_out = hl_scale(ctx, hl_tanh_scaled(ctx, hl_slice(ctx, logits, 1, off, off + 1), 1.0f), amax);
    } else {
        *ang_out = hl_tensor_new(ctx, 1, HL_SHAPE(B));
        hl_tensor_rand_uniform(*ang_out, &r, -amax, amax);
    }
}

/* Hard samples of images x at pace p (deform_at: pixels; the samples grid). */
static hl_tensor *make_hard(ssah *m, hl_ctx *ctx, hl_tensor *x, double pace) {
    hl_tensor *mask, *ang;
    hard_params(m, ctx, x, pace, &mask, &ang);
    return hl_ssah_deform(ctx, x, mask, ang, (float)(pace * m->occlusion));
}

/* H-Net outputs [B, K] of what hl_ssah_deform made: the images (deform_at: pixels), or the feature maps, which then
 * run through the rest of the network. */
static hl_tensor *from_deformed(ssah *m, hl_ctx *ctx, hl_tensor *d) {
    if (m->split < 0) return hl_hashnet_forward(ctx, &m->net, d);
    return hl_linear_layer_forward(ctx, &m->net.head, hl_backbone_forward_from(ctx, &m->net.bb, d, m->split));
}

/* H-Net outputs [rows, K] of [x_l; x̃_l; x_u; x̃_u] (the hard halves only when `hard`; mb labelled and mu unlabelled
 * images in xin = [x_l; x_u]). The masks and angles are constants here (made without grad). Pixels: the hard images
 * are constants too, and all rows take one forward. Features: one forward of xin to the map Φ, whose hard versions
 * rotate(Φ ⊙ (1 − ρm), a) stay differentiable in Φ (the H-Net learns from its deformed features, as in ASDN), then
 * the rest of the network on [Φ_l; Φ̃_l; Φ_u; Φ̃_u]. */
static hl_tensor *hstep_forward(ssah *m, hl_ctx *ctx, hl_tensor *xin, int64_t mb, int64_t mu, bool hard, double pace) {
    if (!hard) return hl_hashnet_forward(ctx, &m->net, hl_slice(ctx, xin, 0, 0, mb));
    hl_tensor *src = m->split < 0 ? xin : hl_backbone_forward_to(ctx, &m->net.bb, xin, m->split);
    const int64_t lo[2] = {0, mb}, n[2] = {mb, mu};
    hl_tensor *parts[4], *mask, *ang;
    int np = 0;
    for (int i = 0; i < 2 && n[i] > 0; i++) {
        hl_no_grad_begin(ctx);
        hard_params(m, ctx, hl_slice(ctx, xin, 0, lo[i], lo[i] + n[i]), pace, &mask, &ang);
        hl_no_grad_end(ctx);
        hl_tensor *s = hl_slice(ctx, src, 0, lo[i], lo[i] + n[i]);
        parts[np++] = s, parts[np++] = hl_ssah_deform(ctx, s, mask, ang, (float)(pace * m->occlusion));
    }
    return from_deformed(m, ctx, hl_concat(ctx, np, parts, 0));
}

/* H-Net outputs [mb, K] of the hard samples of x_l, differentiable into the A-Net (the A-step; H-Net frozen). */
static hl_tensor *astep_forward(ssah *m, hl_ctx *ctx, hl_tensor *xl, double pace) {
    hl_tensor *mask, *ang;
    hard_params(m, ctx, xl, pace, &mask, &ang);
    hl_tensor *s = m->split < 0 ? xl : hl_backbone_forward_to(ctx, &m->net.bb, xl, m->split);
    return from_deformed(m, ctx, hl_ssah_deform(ctx, s, mask, ang, (float)(pace * m->occlusion)));
}

/* Clean | hard pairs of the first (up to) 8 labelled images at this epoch's pace. */
static hl_status write_grid(ssah *m, hl_ctx *ctx, const hl_dataset *train, const int64_t *idx, int64_t n,
                            int64_t epoch, double pace) {
    char dir[1100], path[1200];
    const hl_hasher *h = &m->base;
    if (!h->workdir || !h->workdir[0] || m->mode == ANET_OFF || m->split >= 0) return HL_OK; /* images only */
    snprintf(dir, sizeof dir, "%s/samples", h->workdir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return hl_error_set(HL_EIO, "%s: cannot create the samples folder: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/hard_epoch_%03lld.png", dir, (long long)epoch + 1);
    const int64_t k = HL_MIN(n, 8), C = train->c, HW = (int64_t)train->h * train->w;
    hl_ctx_reset(ctx);
    hl_no_grad_begin(ctx);
    hl_tensor *x = hl_deep_images(ctx, train, idx, k);
    int64_t saved = m->rng_step;
    hl_tensor *xh = make_hard(m, ctx, x, pace);
    m->rng_step = saved; /* the grid does not shift the training draws */
    hl_no_grad_end(ctx);
    float *img = hl_ctx_alloc(ctx, (size_t)(2 * k * C * HW) * sizeof *img);
    const float *xv = hl_tensor_host(ctx, x), *xhv = hl_tensor_host(ctx, xh);
    for (int64_t i = 0; i < k; i++) {
        memcpy(img + (2 * i) * C * HW, xv + i * C * HW, (size_t)(C * HW) * sizeof *img);
        memcpy(img + (2 * i + 1) * C * HW, xhv + i * C * HW, (size_t)(C * HW) * sizeof *img);
    }
    const int cols = k >= 4 ? 8 : (int)(2 * k);
    const int rows = (int)((2 * k + cols - 1) / cols);
    return hl_grid_write_png(path, img, 2 * k, (int)C, train->h, train->w, rows, cols, 3);
}

static hl_status ssah_train(ssah *m, const hl_dataset *train, const int64_t *idx, int64_t n,
                            const hl_dataset *unl, const int64_t *uidx, int64_t nu) {
    hl_status st = HL_OK;
    hl_hasher *self = &m->base;
    const int K = self->bits;
    const int64_t B = m->o.batch, E = m->o.epochs, C = train->c;
    const bool hard = m->mode != ANET_OFF, semi = hard && unl && nu > 1 && m->consistency > 0;
    hl_batcher bt = {0}, bu = {0};
    hl_deep_trainer t = {0};
    hl_labels tl = {0};
    float *U = NULL, *S = NULL, *theta = NULL, *G = NULL, *P = NULL;
    int64_t *pos = NULL;
    hl_code_diversity div = {0};
    if (E == 0) return HL_OK;
    HL_TRY(hl_labels_subset(&tl, &train->labels, idx, n));
    U = calloc((size_t)(n * K), sizeof *U);
    S = malloc((size_t)(B * n) * sizeof *S);
    theta = malloc((size_t)(B * n) * sizeof *theta);
    G = malloc((size_t)(4 * B * K) * sizeof *G);
    pos = malloc((size_t)train->n * sizeof *pos);
    if (semi && m->anchors) P = malloc((size_t)(B * n) * sizeof *P);
    if (!U || !S || !theta || !G || !pos || (semi && m->anchors && !P)) {
        st = hl_error_set(HL_ENOMEM, "ssah: out of memory for %lld training items", (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < train->n; i++) pos[i] = -1;
    for (int64_t i = 0; i < n; i++) pos[idx[i]] = i;
    hl_batcher_opts bo = hl_deep_batcher_opts(self, &m->o);
    HL_TRY(hl_deep_centre_bits(&m->base, &m->net, train, idx, n, U));
    HL_TRY(hl_batcher_init(&bt, train, idx, n, &bo));
    if (semi) {
        hl_batcher_opts uo = bo;
        uo.seed = bo.seed ^ 0x9e3779b97f4a7c15ull; /* an order of its own */
        HL_TRY(hl_batcher_init(&bu, unl, uidx, nu, &uo));
    }
    HL_TRY(hl_deep_trainer_begin(&t, self, &m->o));
    if (m->mode == ANET_ADVERSARIAL && !m->a.opt) {
        hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
        oc.lr = (float)m->anet_lr;
        HL_TRY(hl_optim_create(&m->a.opt, &m->a.p, &oc));
    }
    int64_t uepoch = 0;
    if (semi) hl_batcher_start(&bu, uepoch);
    /* resumable: the bank U, the A-Net with its optimizer, the random-mode draw counter, the unlabelled stream */
    struct { int64_t epoch, step, uepoch; } upos = {0};
    hl_train_state_blob(&t.state, "U", U, (size_t)(n * K) * sizeof *U);
    hl_train_state_blob(&t.state, "diversity", &div, sizeof div);
    hl_train_state_params(&t.state, "anet", &m->a.p);
    if (m->a.opt) hl_train_state_optim(&t.state, "opt_anet", m->a.opt);
    hl_train_state_blob(&t.state, "rng_step", &m->rng_step, sizeof m->rng_step);
    hl_train_state_blob(&t.state, "unlabelled", &upos, sizeof upos);
    int64_t e0;
    HL_TRY(hl_deep_trainer_resume(&t, &e0));
    if (e0 > 0 && semi) {
        hl_batcher_seek(&bu, upos.epoch, upos.step);
        uepoch = upos.uepoch;
    }
    for (int64_t e = e0; e < E; e++) {
        const double pace = hl_ssah_pace(m->pace_start, e, E);
        hl_deep_trainer_epoch(&t, e);
        hl_batcher_start(&bt, e);
        hl_batch b, ub;
        double loss_sum = 0, cons_sum = 0, hard_sum = 0, clean_sum = 0;
        int64_t seen = 0, steps = 0;
        while (hl_batcher_next(&bt, &b)) {
            const int64_t mb = b.m;
            int64_t mu = 0;
            if (semi) {
                if (!hl_batcher_next(&bu, &ub)) {
                    hl_batcher_start(&bu, ++uepoch);
                    if (!hl_batcher_next(&bu, &ub)) ub.m = 0;
                }
                mu = HL_MIN(ub.m, mb);
            }
            hl_ctx_reset(t.ctx);
            /* (1) the labelled and unlabelled images; (2) H-step on [x_l; x̃_l; x_u; x̃_u] */
            const int64_t rows = mb + (hard ? mb : 0) + 2 * mu;
            hl_tensor *xin = hl_tensor_from(t.ctx, 4, HL_SHAPE(mb, C, train->h, train->w), b.images);
            if (mu > 0) {
                hl_tensor *xs[2] = {xin, hl_tensor_from(t.ctx, 4, HL_SHAPE(mu, C, train->h, train->w), ub.images)};
                xin = hl_concat(t.ctx, 2, xs, 0);
            }
            hl_tensor *o = hstep_forward(m, t.ctx, xin, mb, mu, hard, pace); /* [rows, K] */
            const float *ov = hl_tensor_host(t.ctx, o);
            for (int64_t i = 0; i < mb; i++) memcpy(U + pos[b.index[i]] * K, ov + i * K, (size_t)K * sizeof *U);
            hl_deep_similarity(S, b.labels, &tl);
            memset(G, 0, (size_t)(rows * K) * sizeof *G);
            double clean = hl_dpsh_loss(ov, mb, K, U, n, S, m->eta, theta, G, NULL), loss = clean;
            if (hard) {
                double lh = hl_dpsh_loss(ov + mb * K, mb, K, U, n, S, m->eta, theta, G + mb * K, NULL);
                for (int64_t i = mb * K; i < 2 * mb * K; i++) G[i] *= (float)m->hard_weight;
                loss += m->hard_weight * lh;
                hard_sum += lh;
            }
            if (mu > 0) {
                float *g1 = G + 2 * mb * K, *g2 = g1 + mu * K;
                double lc = m->anchors ? hl_ssah_anchor_consistency(ov + 2 * mb * K, ov + (2 * mb + mu) * K, mu, K,
                                                                    U, n, P, theta, g2)
                                       : hl_ssah_consistency(ov + 2 * mb * K, ov + (2 * mb + mu) * K, mu, K, g1, g2);
                for (int64_t i = 0; i < 2 * mu * K; i++) g1[i] *= (float)m->consistency;
                loss += m->consistency * lc;
                cons_sum += lc;
            }
            if ((st = hl_deep_trainer_step(&t, o, G)) < 0) {
                if (st != HL_EINTR) hl_error_wrap("epoch %lld", (long long)(e + 1));
                goto done;
            }
            /* (3) A-step: H-Net frozen; (L_H(x̃) − τ)² through H-Net and the warp into the A-Net */
            if (m->mode == ANET_ADVERSARIAL) {
                hl_ctx_reset(t.ctx);
                hl_params_set_requires_grad(&self->params, false);
                hl_tensor *xl = hl_tensor_from(t.ctx, 4, HL_SHAPE(mb, C, train->h, train->w), b.images);
                hl_tensor *oh = astep_forward(m, t.ctx, xl, pace);
                double lh = hl_dpsh_loss(hl_tensor_host(t.ctx, oh), mb, K, U, n, S, m->eta, theta, G, NULL), dlh;
                hl_ssah_anet_loss(lh, hl_ssah_target(clean, m->hardness, pace), &dlh);
                for (int64_t i = 0; i < mb * K; i++) G[i] *= (float)dlh;
                hl_backward_seed(t.ctx, oh, G);
                hl_params_set_requires_grad(&self->params, true);
                hl_backbone_freeze(&m->net.bb, &self->params, m->o.freeze_stage); /* freeze_until stays frozen */
                hl_optim_step(m->a.opt);
                hl_optim_zero_grad(m->a.opt);
            }
            loss_sum += loss * (double)mb;
            clean_sum += clean;
            seen += mb;
            steps++;
        }
        div = hl_code_diversity_of(U, n, K);
        hl_deep_log_epoch(self, e, E, loss_sum / (double)HL_MAX(seen, 1), &div, &t);
        if (hard)
            hl_msg(HL_LOG_INFO, "ssah %db: epoch %lld pace %.2f (occlusion %.2f, angle %.1f deg): DPSH clean %.4f "
                   "hard %.4f, consistency %.5f", K, (long long)(e + 1), pace, pace * m->occlusion,
                   pace * m->max_angle, clean_sum / (double)HL_MAX(steps, 1), hard_sum / (double)HL_MAX(steps, 1),
                   cons_sum / (double)HL_MAX(steps, 1));
        HL_TRY(write_grid(m, t.ctx, train, idx, n, e, pace));
        if (semi) upos.epoch = bu.epoch, upos.step = bu.step, upos.uepoch = uepoch;
        HL_TRY(hl_deep_trainer_epoch_end(&t, e));
    }
    if (div.collapsed)
        hl_msg(HL_LOG_WARN, "ssah %db: training ended with COLLAPSED codes (%d of %d bits constant); lower lr", K,
               div.constant_bits, K);
    HL_TRY(hl_deep_recalibrate_bn(self, &m->net, &m->o, train, idx, n));
done:
    if (self->params.n_par) hl_params_set_requires_grad(&self->params, true);
    hl_deep_trainer_end(&t);
    hl_batcher_free(&bt);
    hl_batcher_free(&bu);
    hl_labels_free(&tl);
    free(U), free(S), free(theta), free(G), free(pos), free(P);
    return st;
}

static hl_status ssah_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    (void)labels; /* supervised: the driver refuses this fit without visible labels */
    return ssah_train((ssah *)self, train, idx, n, NULL, NULL, 0);
}

static hl_status ssah_fit_semi(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n,
                               const hl_dataset *unlabelled, const int64_t *uidx, int64_t nu) {
    return ssah_train((ssah *)self, train, idx, n, unlabelled, uidx, nu);
}

static hl_tensor *ssah_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    return hl_hashnet_forward(ctx, &((ssah *)self)->net, x);
}

const hl_hasher_class hl_hasher_ssah = {
    .abi = HL_HASHER_ABI,
    .name = "ssah",
    .version = "2", /* 2: the step schedule's milestones are ⌈E/3⌉, ⌈2E/3⌉ (hashers/deep.c) */
    .summary = "SSAH (Jin et al., AAAI'20): semi-supervised self-paced adversarial hashing; A-Net hard samples "
               "(occlusion + rotation of the pixels or a feature map), self-paced hardness, consistency loss — "
               "reconstruction",
    .cite = "@inproceedings{jin2020ssah,\n  author = {Sheng Jin and Shangchen Zhou and Yao Liu and Chao Chen and Xiaoshuai Sun and Hongxun Yao and Xian-Sheng Hua},\n  title = {{SSAH}: Semi-Supervised Adversarial Deep Hashing with Self-Paced Hard Sample Generation},\n  booktitle = {Proceedings of the Thirty-Fourth AAAI Conference on Artificial Intelligence (AAAI)},\n  pages = {11157--11164},\n  year = {2020}\n}\n",
    .params = ssah_params,
    .n_params = (int)HL_ARRAY_LEN(ssah_params),
    .size = sizeof(ssah),
    .flags = HL_HASHER_SUPERVISED | HL_HASHER_SEMI_SUPERVISED | HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT |
             HL_HASHER_DEVICE,
    .init = ssah_init,
    .fini = ssah_fini,
    .fit = ssah_fit,
    .forward = ssah_forward,
    .fit_semi = ssah_fit_semi,
};
