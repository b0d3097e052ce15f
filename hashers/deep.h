/* hashers/deep.h — what every deep hasher shares: the hash network (backbone + linear hashing layer), the common
 * training keys, mini-batch plumbing, pairwise similarity, the code-diversity check and training logs.
 *
 * A deep hasher's instance embeds an hl_hashnet and declares its keys with HL_DEEP_PARAMS(...) followed by its own:
 *
 *     static const hl_param_spec dpsh_params[] = {
 *         HL_DEEP_PARAMS("150", "64", "0.05", "sgd", "1e-5"),     // epochs, batch, lr, optimizer, weight_decay
 *         {.name = "eta", .type = HL_PARAM_FLOAT, .def = "0.1", ...},
 *     };
 *     init:    HL_TRY(hl_deep_opts_read(&m->o, cfg));
 *              HL_TRY(hl_hashnet_init(&m->net, &self->params, &m->o, info, bits, seed));   // declares + allocs
 *     fit:     hl_deep_trainer t;  HL_TRY(hl_deep_trainer_begin(&t, self, &m->o));
 *              for epoch: hl_deep_trainer_epoch(&t, epoch) sets the lr; per batch:
 *                  hl_ctx_reset(t.ctx);  x = hl_deep_images(t.ctx, train, bidx, B);
 *                  u = hl_hashnet_forward(t.ctx, &m->net, x);           // [B, K] pre-activation
 *                  ... loss and G = dL/du on the host (the method's own math, unit-tested) ...
 *                  hl_deep_trainer_step(&t, u, G);                      // backward_seed + optimizer step
 *              hl_deep_log_epoch(self, epoch, epochs, loss, &diversity, seconds)
 *              hl_deep_trainer_end(&t);
 *     forward: return hl_hashnet_forward(ctx, &m->net, x);
 *
 * Shared keys (HL_DEEP_PARAMS): backbone ("" = the suite's `backbone`, else cnn-small), pretrained (safetensors of
 * backbone weights, "" = none; `init_from` is its older name, accepted as an alias: setting both to different files
 * is an error), freeze_until and backbone_lr_mult (fine-tuning, below), epochs, batch, lr, optimizer (sgd|adam),
 * momentum (SGD, 0.9), weight_decay,
 * lr_schedule (constant|step|cosine|logspace: step divides by 10 at epochs ⌈E/3⌉ and ⌈2E/3⌉, logspace ends at
 * lr/100 — ADSH/DDSH's logspace(−2, −4)), augment (random crop with 2-pixel padding + horizontal flip for
 * 3-channel data, crop only for 1-channel).
 *
 * Fine-tuning: freeze_until names a stage of the backbone (core/nn/backbone.h: ResNets conv1|layer1..layer4,
 * AlexNet/VGG features|fc6|fc7, …; validated with a did-you-mean); that stage and every earlier one are frozen by
 * hl_hashnet_init_values (hl_backbone_freeze: REQUIRES_GRAD cleared, so backward computes no gradient for them and
 * the optimizer skips them; their batch norms always use the running statistics, so precise-BN recalibration
 * leaves them alone too), and hl_deep_trainer_begin gives them a learning-rate and weight-decay multiplier of 0 as
 * well, so a method that re-enables every parameter's gradient for a while (SSAH's A-step does) still cannot move
 * them. backbone_lr_mult multiplies the learning rate (not the weight-decay coefficient) of every other backbone
 * parameter (hl_optim_set_group "backbone."). Both are optimizer configuration, set before a resume, so a resumed
 * fit's optimizer state (moments of frozen tensors: zeros, step count 0) imports as it was saved.
 *
 * Labels: a fit that reads labels must do so only through the batcher's hl_batch.labels or hl_deep_similarity on
 * train->labels when labels_visible (the driver refuses supervised fits without them).
 */
#ifndef HL_DEEP_H
#define HL_DEEP_H

#include "core/nn/backbone.h"
#include "core/nn/gan.h"
#include "core/optim.h"
#include "core/io/train_state.h"
#include "core/lr_schedule.h"
#include "core/data/batch.h"
#include "hashers/hasher.h"

/* Spec entries of the shared keys with method-specific defaults (strings). */
#define HL_DEEP_PARAMS(epochs, batch, lr, optimizer, wd)                                                             \
    {.name = "backbone", .type = HL_PARAM_STRING, .def = "",                                                         \
     .doc = "network under the hashing layer: cnn-small|cnn-medium|resnet-small|alexnet|vgg11|vgg16|resnet18|"        \
            "resnet50 (empty: the suite's backbone; docs/backbones.md)"},                                            \
    {.name = "pretrained", .type = HL_PARAM_STRING, .def = "",                                                       \
     .doc = "safetensors file of backbone weights, torchvision's names accepted (scripts/convert_torchvision.py); "  \
            "empty: train from scratch"},                                                                           \
    {.name = "init_from", .type = HL_PARAM_STRING, .def = "", .doc = "alias of pretrained (older suites)"},          \
    {.name = "freeze_until", .type = HL_PARAM_STRING, .def = "",                                                     \
     .doc = "backbone stage whose weights, and every earlier one's, stay fixed (batch norms in eval mode): ResNets " \
            "conv1|layer1..layer4, AlexNet/VGG features|fc6|fc7 (docs/backbones.md); empty: none"},                 \
    {.name = "backbone_lr_mult", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 1000]",                           \
     .doc = "learning-rate multiplier of the backbone's parameters (0.1: pretrained layers at lr/10)"},              \
    {.name = "epochs", .type = HL_PARAM_INT, .def = epochs, .range = "[0, 100000]",                                  \
     .doc = "training epochs (outer iterations for alternating methods); 0 = the untrained network"},              \
    {.name = "batch", .type = HL_PARAM_INT, .def = batch, .range = "[1, 65536]", .doc = "mini-batch size"},          \
    {.name = "lr", .type = HL_PARAM_FLOAT, .def = lr, .range = "(0, 10]", .doc = "initial learning rate"},           \
    {.name = "optimizer", .type = HL_PARAM_ENUM, .def = optimizer, .choices = "sgd|adam", .doc = "optimizer"},       \
    {.name = "momentum", .type = HL_PARAM_FLOAT, .def = "0.9", .range = "[0, 1)", .doc = "SGD momentum"},           \
    {.name = "weight_decay", .type = HL_PARAM_FLOAT, .def = wd, .range = "[0, 1]", .doc = "L2 weight decay"},       \
    {.name = "lr_schedule", .type = HL_PARAM_ENUM, .def = "step", .choices = "constant|step|cosine|logspace",       \
     .doc = "step: lr/10 at epochs ceil(E/3) and ceil(2E/3); logspace: geometric decay to lr/100"},                         \
    {.name = "augment", .type = HL_PARAM_BOOL, .def = "false", .doc = "random 2-pixel-padded crops (+ flips for RGB)"}

#define HL_DEEP_N_PARAMS 13

typedef struct hl_deep_opts {
    char backbone[32];
    char init_from[1024]; /* `pretrained`, or its alias `init_from` */
    int freeze_stage;     /* `freeze_until` as a stage index of the backbone (hl_backbone_stages), -1: none */
    double backbone_lr_mult;
    int64_t epochs, batch;
    double lr, momentum, weight_decay;
    hl_optim_kind optimizer;
    hl_lr_kind lr_schedule;
    bool augment;
} hl_deep_opts;

/* Reads the shared keys from a resolved params map. */
hl_status hl_deep_opts_read(hl_deep_opts *o, const hl_config *cfg);

/* The hash network: backbone → linear(F → out) ("head.weight", "head.bias"). Output is the pre-activation; the
 * methods apply tanh (or not) themselves. */
typedef struct hl_hashnet {
    hl_backbone bb;
    hl_linear_layer head;
    int out;
} hl_hashnet;

/* Declares the backbone (prefix "backbone") and the head (prefix "head", `out` units) in p, allocates p (so call it
 * after declaring any other tensor of the method), initialises from seed (PyTorch defaults), then loads the
 * pretrained weights (o->init_from) when set and freezes the stages up to o->freeze_stage. */
hl_status hl_hashnet_init(hl_hashnet *net, hl_params *p, const hl_deep_opts *o, const hl_dataset_info *info, int out,
                          uint64_t seed);
/* Same, without allocating p: for methods that declare more tensors after the network. Call
 * hl_hashnet_init_values after hl_params_alloc. */
hl_status hl_hashnet_declare(hl_hashnet *net, hl_params *p, const hl_deep_opts *o, const hl_dataset_info *info,
                             int out);
hl_status hl_hashnet_init_values(hl_hashnet *net, hl_params *p, const hl_deep_opts *o, uint64_t seed);

/* x [B, C, H, W] -> [B, out]. */
hl_tensor *hl_hashnet_forward(hl_ctx *ctx, const hl_hashnet *net, hl_tensor *x);

/* ---- training plumbing ---- */

typedef struct hl_deep_trainer {
    hl_hasher *h;
    const hl_deep_opts *o;
    hl_ctx *ctx;           /* train mode, seeded from the hasher's seed */
    hl_optim *opt;         /* over every parameter of h->params */
    hl_lr_schedule sched;  /* from o->lr_schedule and o->epochs */
    int64_t steps;         /* optimizer steps taken */
    int64_t epoch;         /* the epoch being trained (hl_deep_trainer_epoch) */
    double t0;             /* hl_time_s() at begin */
    hl_train_state state;  /* what resumes an interrupted fit (core/io/train_state.h) */
    const hl_fit_hook *hook; /* h->hook: adversarial training (hasher.h), NULL without */
    hl_ctx *hook_ctx;      /* the hook's own ctx (train mode): its inner attack never touches ctx's tape */
} hl_deep_trainer;

/* Creates the ctx (train mode) and the optimizer for h->params, and the fit's training state: with h->workdir set it
 * lives in <workdir>/fit_state.safetensors (HL_DEEP_FIT_STATE) and already holds h->params, the optimizer, the
 * ctx's RNG and the step count. Its fingerprint is the SHA-256 of {method, version, bits, seed, resolved params}:
 * the data is identified by the directory (the lab's cell directory is keyed by the split). */
#define HL_DEEP_FIT_STATE "fit_state.safetensors"
hl_status hl_deep_trainer_begin(hl_deep_trainer *t, hl_hasher *h, const hl_deep_opts *o);
/* Resumable fits (every deep hasher):
 *     HL_TRY(hl_deep_trainer_begin(&t, self, &m->o));
 *     hl_train_state_blob(&t.state, "U", U, bytes);            // everything else the loop carries across epochs
 *     int64_t e0;  HL_TRY(hl_deep_trainer_resume(&t, &e0));
 *     for (e = e0; e < E; e++) { ...; HL_TRY(hl_deep_trainer_epoch_end(&t, e)); }
 * resume restores the state of the last finished epoch (a state that does not match this fit — another
 * configuration — is set aside as fit_state.safetensors.stale with a warning, and the fit starts over);
 * epoch_end saves it after epoch e (0-based) and returns HL_EINTR when a stop was requested (core/job.h). Stop
 * requests are also seen between steps (hl_deep_trainer_step returns HL_EINTR): that epoch's partial work is
 * dropped. */
hl_status hl_deep_trainer_resume(hl_deep_trainer *t, int64_t *first_epoch);
hl_status hl_deep_trainer_epoch_end(hl_deep_trainer *t, int64_t epoch);
/* Sets the learning rate of `epoch` (0-based) from the schedule. */
void hl_deep_trainer_epoch(hl_deep_trainer *t, int64_t epoch);
/* hl_backward_seed(ctx, out, grad) with grad = dL/dout ([numel(out)] host floats), optimizer step, zero grad.
 * A non-finite loss gradient is HL_ERR "dpsh diverged at step S (non-finite gradient); lower lr" (no step taken;
 * callers add the epoch); a stop request is HL_EINTR (no step taken). */
hl_status hl_deep_trainer_step(hl_deep_trainer *t, hl_tensor *out, const float *grad);
/* HL_EINTR (the tape cleared) when a stop was requested: for loops that step their own optimizers. */
hl_status hl_deep_trainer_check(hl_deep_trainer *t);
void hl_deep_trainer_end(hl_deep_trainer *t);

/* ---- adversarial training: a fit hook (hasher.h) in a deep hasher's batch loop ----
 *
 *     hl_deep_hook_epoch(&t, U, &labels, n, e);                   // each epoch, with the method's bank
 *     per batch (B images, positions bpos in the fit's list):
 *         rows = B;  xin = b.images;
 *         if (t.hook) { HL_TRY(hl_deep_hook_batch(&t, b.images, bpos, B, xall, &rows)); xin = xall; } // [x; x_adv]
 *         u = forward(rows images);  G: the method's gradient on rows [0, B) (clean), and, when t.hook, on rows
 *         [B, 2B) (adversarial rows, the clean rows' targets, no bank update);
 *         if (t.hook) loss += hl_deep_hook_loss(&t, u->data, bpos, B, K, G);
 *         HL_TRY(hl_deep_trainer_step(&t, u, G));
 * Without a hook all three do nothing (rows = B). The trainer counts the network's image passes in h->fit_forwards /
 * h->fit_backwards (the hook's inner passes included). */
hl_status hl_deep_hook_epoch(hl_deep_trainer *t, const float *bank, const hl_labels *labels, int64_t n, int64_t epoch);
/* xall must hold 2B images: [x; x_adv] is written there and *rows = 2B (with a hook; else *rows = B, nothing written). */
hl_status hl_deep_hook_batch(hl_deep_trainer *t, const float *x, const int64_t *pos, int64_t B, float *xall,
                             int64_t *rows);
/* G [2B, K] holds the method's gradients of the clean and adversarial rows: scales them by the hook's clean_weight
 * and method_adv_weight and adds the hook's own term on the adversarial rows; returns that term (0 without a hook). */
double hl_deep_hook_loss(hl_deep_trainer *t, const float *u, const int64_t *pos, int64_t B, int K, float *G);

/* Batcher options of the shared keys (shuffle on, seed from the hasher seed, augmentation per o->augment, a last
 * batch of a single image dropped: batch norm in training needs two). */
hl_batcher_opts hl_deep_batcher_opts(const hl_hasher *h, const hl_deep_opts *o);

/* Images idx[0..n) of d as a ctx tensor [n, C, H, W] (not requiring grad). */
hl_tensor *hl_deep_images(hl_ctx *ctx, const hl_dataset *d, const int64_t *idx, int64_t n);

/* Network outputs (eval mode, no grad) of images idx[0..n) into out [n, out] host floats, 256 at a time (fewer for
 * images larger than 3×32×32: hl_batch_for_pixels), using a
 * private ctx (the caller's ctx and train mode are untouched). */
hl_status hl_deep_outputs(hl_hasher *h, const hl_hashnet *net, const hl_dataset *d, const int64_t *idx, int64_t n,
                          float *out);

/* Precise batch norm: recomputes the running statistics of every batch norm of the backbone for the final weights,
 * as the mean of the per-batch statistics over the images idx[0..n) of d (train mode, no grad, batches of
 * o->batch in a seeded order, at most HL_DEEP_BN_MAX_IMAGES of them; a last batch of one image is skipped; nothing
 * when o->epochs is 0: the untrained network keeps its initial statistics). Without it the running statistics are an
 * exponential average (momentum 0.1) over the last steps' batches, taken while the weights still moved, and eval-mode
 * codes can disagree with the training-mode codes the method optimised (Wu & Johnson, "Rethinking 'Batch' in
 * BatchNorm", 2021, §3). Every deep hasher calls it at the end of its fit. */
#define HL_DEEP_BN_MAX_IMAGES 16384
hl_status hl_deep_recalibrate_bn(hl_hasher *h, hl_hashnet *net, const hl_deep_opts *o, const hl_dataset *d,
                                 const int64_t *idx, int64_t n);

/* DPSH's data-dependent start (hashers/dpsh.c), shared by the deep hashers that use it: the network's outputs on
 * images idx[0..n) of d (eval mode, hl_deep_outputs) into U [n, net->out], then for every bit k the head bias is
 * shifted by the median m_k of column k (the mean of the two middle values for even n) and U's column k by the same
 * amount, so every bit starts balanced over these images. */
hl_status hl_deep_centre_bits(hl_hasher *h, hl_hashnet *net, const hl_dataset *d, const int64_t *idx, int64_t n,
                              float *U);

/* ---- pairwise supervision ---- */

/* S [m, n] row-major: S[i][j] = 1 when label rows a[i] and b[j] share a label, else 0. */
void hl_deep_similarity(float *S, const hl_labels *a, const hl_labels *b);
/* Soft similarity of ADSH/DDSH (methods.md §1.2): S = +1 where similar, −r where not, r = #similar / #dissimilar
 * over the whole block (r = 1 when there is no dissimilar pair). Converts a 0/1 block in place; returns r. */
double hl_deep_soft_similarity(float *S, int64_t m, int64_t n);

/* ---- code diversity (collapse guard) ---- */

typedef struct hl_code_diversity {
    double distinct_frac;  /* distinct codes / n */
    double min_balance;    /* min over bits of min(p, 1 − p), p = share of +1 (0.5 ideal, 0 = constant bit) */
    double mean_balance;
    int constant_bits;     /* bits equal on every item */
    int bits;              /* K of the codes measured (a progressive method's code may still be longer than its K) */
    bool collapsed;        /* n ≥ 2 and (all codes equal, constant_bits > K/2 or mean_balance < 0.05); deep.c */
} hl_code_diversity;

/* Diversity of sign(u) for u [n, K] (sign(0) = +1). */
hl_code_diversity hl_code_diversity_of(const float *u, int64_t n, int K);

/* ---- GAN sample grids ---- */

/* What a user looks at to see that a generator learns: when h->workdir is set, writes G's images for the fixed
 * inputs z [n, Z] to <workdir>/samples/<tag>_epoch_<NNN>.png (epoch 1-based; tag e.g. "G"), creating samples/;
 * without a workdir it does nothing. Use the same z every epoch (drawn once, from the hasher's seed). */
hl_status hl_deep_write_samples(const hl_hasher *h, const char *tag, const hl_gan_generator *g, const float *z,
                                int64_t n, int64_t epoch);

/* One progress line through hl_msg: "dpsh 32b: epoch 3/150 loss 0.4213 lr 0.05 codes: 97.1% distinct, bit balance
 * min 0.31 mean 0.47 (12.3 s)"; a warning line when d->collapsed. d may be NULL. */
void hl_deep_log_epoch(const hl_hasher *h, int64_t epoch, int64_t epochs, double loss, const hl_code_diversity *d,
                       const hl_deep_trainer *t);

#endif
