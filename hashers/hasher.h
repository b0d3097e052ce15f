/* hashers/hasher.h — hashing methods as plugin classes: the class struct, the instance base, and the public driver.
 *
 * A method is a `const hl_hasher_class` (designated initialisers, so added optional members never break older
 * files) plus an instance struct that begins with an `hl_hasher` (sqlite's base-struct pattern):
 *
 *     struct lsh { hl_hasher base; hl_tensor *W, *b; };
 *     static const hl_param_spec lsh_params[] = {{.name = "center", .type = HL_PARAM_BOOL, .def = "true", ...}};
 *     const hl_hasher_class hl_hasher_lsh = {.abi = HL_HASHER_ABI, .name = "lsh", .summary = "...",
 *         .params = lsh_params, .n_params = 1, .size = sizeof(struct lsh), .init = ..., .forward = ...};
 *
 * Built-in classes are listed in hashers/hashers.def (one HL_HASHER(name) line, kept sorted; the class symbol is
 * hl_hasher_<name>); run-time plugins add more (lab/plugin.h registers them). Lookup is by name over both.
 *
 * Lifecycle (hashers/hasher.c):
 *     hl_hasher *h;
 *     HL_TRY(hl_hasher_create(&h, "itq", params, &info, 64, seed));   // validate + resolve params, init
 *     HL_TRY(hl_hasher_fit(h, train, idx, n, true));                   // learn (no-op for methods without fit)
 *     HL_TRY(hl_hasher_encode(&codes, h, ctx, db, db_idx, n_db, 256));  // batches -> forward (no grad) -> sign
 *     HL_TRY(hl_hasher_save(h, "ckpt.safetensors"));                   // or hl_hasher_load into a fresh instance
 *     hl_hasher_free(h);
 *
 * Every trainable or fitted tensor of a method lives in self->params (declared in init, allocated by init with
 * hl_params_alloc): checkpoints, freezing by the attack driver and optimisers all go through it.
 */
#ifndef HL_HASHER_H
#define HL_HASHER_H

#include "core/codes.h"
#include "core/config_schema.h"
#include "core/ctx.h"
#include "core/data/dataset.h"
#include "core/nn/params.h"

#define HL_HASHER_ABI 4 /* 2: the class gained `cite`; 3: `version`; 4: the instance gained `hook` and the fit counters */

typedef struct hl_hasher hl_hasher;

/* What a method may know about the data before seeing it: image shape and label count. */
typedef struct hl_dataset_info {
    int c, h, w;
    int nlabels;
} hl_dataset_info;

typedef enum hl_hasher_flag {
    HL_HASHER_SUPERVISED = 1u << 0,     /* fit() needs labels (refused when labels are not visible) */
    HL_HASHER_DIFFERENTIABLE = 1u << 1, /* forward() is differentiable w.r.t. x (gradient attacks apply) */
    HL_HASHER_NEEDS_FIT = 1u << 2,      /* encoding before fit() is an error */
    HL_HASHER_FIT_DATABASE = 1u << 3,   /* asymmetric methods (ADSH): the lab fits them on the database list (all of it
                                         * labelled, as in their papers' protocol) instead of the train list, and
                                         * takes database codes from learned_codes() */
    HL_HASHER_SEMI_SUPERVISED = 1u << 4, /* fit_semi(): labelled train images plus unlabelled ones (METRICS.md's
                                          * semi-supervised view: the rest of the database, labels hidden) */
    HL_HASHER_LINEAR = 1u << 5,          /* forward() is affine in the input pixels, f(x) = W·x + b (LSH, ITQ): the lab
                                          * computes the exact attack's bound for it (lab/sanity.h) and checks the
                                          * claim on the attacked queries */
    HL_HASHER_TRAINABLE = 1u << 6,       /* fit() trains the network by mini-batches and honours a fit hook (below):
                                          * a defence (defences/defence.h) can train it adversarially */
    HL_HASHER_DEVICE = 1u << 7           /* runs on any device (h->dev): its parameters and training contexts live
                                          * there and every host computation goes through explicit transfers
                                          * (hl_tensor_host, hl_tensor_upload); proven on the shadow device. Classes
                                          * without it are refused on devices other than the CPU. */
} hl_hasher_flag;

/* A fit hook: what an adversarial-training defence (defences/defence.h) adds to a trainable hasher's fit. The hasher
 * owns its loss; the hook chooses the images it also trains on and adds its own term on their codes.
 *   epoch_begin  at the start of every epoch: the codes the method keeps for its training items (bank [n, K], any
 *                real values whose signs are the codes) and their labels, so the hook can derive reference codes
 *                (class centres, mainstays, targets); n items in the order of `pos` below. bank is NULL while the
 *                method has no codes yet (ADSH's first outer iteration: its database codes V start at 0).
 *   batch        for a mini-batch x [B, C, H, W] (host) of training items pos[0..B) (positions in the fit's list):
 *                writes adversarial images x_adv [B, C, H, W], computed through hl_hasher_forward on ctx (train
 *                mode; the hasher's parameters frozen for the call).
 *   adv_loss     the hook's own term on the codes u_adv [B, K] (pre-activation) of x_adv, given the clean codes
 *                u_clean [B, K]: returns its value and ADDS its gradient dL/du_adv to grad [B, K].
 *   clean_weight       the weight of the method's own loss on the clean rows (PGD-AT: 0, training on x_adv only)
 *   method_adv_weight  the weight of the method's own loss on the adversarial rows (its "adversarial hashing loss")
 * A trainable hasher then forwards [x; x_adv] (2B rows) and minimises
 *     clean_weight·L_method(clean rows) + method_adv_weight·L_method(adversarial rows) + adv_loss(adversarial rows),
 * where L_method on the adversarial rows uses the clean rows' targets (labels, bank) and never updates its bank. */
typedef struct hl_fit_hook {
    void *user;
    hl_status (*epoch_begin)(void *user, hl_hasher *h, const float *bank, const hl_labels *labels, int64_t n,
                             int64_t epoch);
    hl_status (*batch)(void *user, hl_hasher *h, hl_ctx *ctx, const float *x, const int64_t *pos, int64_t B,
                       float *x_adv);
    double (*adv_loss)(void *user, const float *u_adv, const float *u_clean, const int64_t *pos, int64_t B, int K,
                       float *grad);
    double clean_weight, method_adv_weight;
} hl_fit_hook;

typedef struct hl_hasher_class {
    int abi;                     /* HL_HASHER_ABI; plugins with another value are refused */
    const char *name;            /* registry key and YAML `method:` value, [a-z0-9_]+ */
    const char *summary;         /* one line for `hashlab list` */
    const char *cite;            /* NULL, or the BibTeX entries of the method's paper(s): the report's methods.bib */
    const char *version;         /* NULL = "1"; bump it whenever a change alters results: it is part of the cell
                                  * keys (lab/suite.h), so runs recompute instead of reusing stale numbers */
    const hl_param_spec *params; /* method-specific keys (bits and seed are the driver's) */
    int n_params;
    size_t size;                 /* sizeof the instance struct; it begins with an hl_hasher */
    unsigned flags;              /* hl_hasher_flag */

    /* Required. cfg: the resolved params map (every declared key present, defaults filled in; owned by self).
     * Declares and allocates self->params; must give a usable (if untrained) model, deterministic in seed. */
    hl_status (*init)(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits, uint64_t seed);
    /* Optional: frees what init/fit allocated besides self->params (the driver frees params and cfg). */
    void (*fini)(hl_hasher *self);
    /* Optional: learns from train images idx[0..n) of `train`; labels may be read only when labels_visible. */
    hl_status (*fit)(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels_visible);
    /* Required: real-valued codes [B, bits] for images x [B, C, H, W] in [0,1], recorded on ctx's tape where the
     * method is differentiable (attacks take gradients through it). sign() of the output gives the code. */
    hl_tensor *(*forward)(hl_hasher *self, hl_ctx *ctx, hl_tensor *x);
    /* Optional (asymmetric methods): codes the method learned itself, during fit, for dataset items (ADSH's database
     * codes V). For each i with dataset index idx[i] among the items it learned, writes row i of out (already
     * created, n rows) and sets have[i] = 1; rows left with have[i] = 0 are encoded by forward(). Such codes are not
     * part of the checkpoint (the lab stores the database codes next to it). */
    hl_status (*learned_codes)(hl_hasher *self, const int64_t *idx, int64_t n, hl_codes *out, uint8_t *have);
    /* Optional (semi-supervised methods, flag HL_HASHER_SEMI_SUPERVISED): learns from labelled images idx[0..n) of
     * `train` (labels readable) and unlabelled images uidx[0..nu) of `unlabelled`, a label-less view of the same
     * pixels (hl_dataset_unlabelled_view: no label rows, no class ids), so the hidden labels cannot be read.
     * nu may be 0. A semi-supervised class may also have fit() for a plain supervised fit. */
    hl_status (*fit_semi)(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n,
                          const hl_dataset *unlabelled, const int64_t *uidx, int64_t nu);
} hl_hasher_class;

struct hl_hasher {
    const hl_hasher_class *cls;
    int bits;             /* K */
    uint64_t seed;
    hl_dataset_info info;
    hl_config *cfg;       /* resolved params (owned) */
    hl_params params;     /* every tensor of the method (initialised empty, on `dev`, by the driver before init) */
    hl_device dev;        /* where the parameters live and fit computes (HL_DEVICE_CPU unless created on another) */
    bool fitted;          /* set by hl_hasher_fit / hl_hasher_load */
    const char *workdir;  /* NULL, or a directory (existing, owned by the caller) where fit may write what a user
                           * looks at during training, e.g. GAN sample grids (the lab sets it to the cell's dir) */
    const hl_fit_hook *hook; /* NULL, or a defence's fit hook (HL_HASHER_TRAINABLE classes only; set before fit) */
    int64_t fit_forwards, fit_backwards; /* image passes through the network during fit (a batch of B adds B), a
                                          * hook's included; counted by trainable classes (0 otherwise) */
};

/* ---- registry (hashers/registry.c): built-ins from hashers.def, then classes registered at run time ---- */

/* Class by name, or NULL with HL_ENOTFOUND set: "unknown hasher 'itg' (known: itq, lsh; did you mean 'itq'?)". */
const hl_hasher_class *hl_hasher_class_find(const char *name);
/* Sorted by name (built-ins and plugins together), for `hashlab list` and conformance tests. */
int hl_hasher_class_count(void);
const hl_hasher_class *hl_hasher_class_at(int i);
/* Built-in classes only (hashers.def order). */
int hl_hasher_builtin_count(void);
const hl_hasher_class *hl_hasher_builtin_at(int i);
/* Adds / removes a class at run time (the plugin loader, lab/plugin.h, after its checks; the registry itself checks
 * nothing but capacity: HL_ENOMEM past 256 classes). */
hl_status hl_hasher_class_register(const hl_hasher_class *cls);
void hl_hasher_class_unregister(const hl_hasher_class *cls);
/* Shared by the registries: sets and returns HL_ENOTFOUND "unknown KIND 'name' (known: a, b; did you mean 'a'?)"
 * (the suggestion when some name is within edit distance max(2, len/3)). names[0..n) sorted. */
hl_status hl_registry_miss(const char *kind, const char *name, const char *const *names, int n);

/* ---- driver (hashers/hasher.c) ---- */

/* Validates `params` (a map, or NULL for all defaults) against the class schema (HL_EINVAL with positions, e.g.
 * "s.yaml:4:5: unknown key 'iter' in hasher 'itq'; did you mean 'iters'? (valid: iters)"), resolves it, allocates
 * the instance and calls init. bits in [1, 4096]. */
hl_status hl_hasher_create(hl_hasher **out, const char *name, const hl_config *params, const hl_dataset_info *info,
                           int bits, uint64_t seed);
hl_status hl_hasher_create_class(hl_hasher **out, const hl_hasher_class *cls, const hl_config *params,
                                 const hl_dataset_info *info, int bits, uint64_t seed);
/* Same on device `dev`: HL_EUNSUPPORTED for a class without HL_HASHER_DEVICE on a device other than the CPU,
 * HL_EDEVICE when the device is not available. */
hl_status hl_hasher_create_on(hl_hasher **out, const hl_hasher_class *cls, const hl_config *params,
                              const hl_dataset_info *info, int bits, uint64_t seed, hl_device dev);
void hl_hasher_free(hl_hasher *h); /* NULL-safe */

/* Dataset info of a loaded dataset. */
hl_dataset_info hl_dataset_info_of(const hl_dataset *d);

/* Images per batch of an encoding or attack pass over images of `pixels` = C·H·W values: `base` (the count chosen for
 * images of at most 3×32×32 values, returned unchanged for them) divided by how many times larger the images are, at
 * least 1 — a batch's activations grow with the image, so 224×224 batches hold 1/49 of the images and keep the memory
 * of CIFAR-sized ones. Encoding and attacks are batch-invariant: the batch size never changes their results. */
static inline int hl_batch_for_pixels(int base, int64_t pixels) {
    if (pixels <= 3 * 32 * 32) return base;
    int64_t b = (int64_t)base * (3 * 32 * 32) / pixels;
    return b < 1 ? 1 : (int)b;
}

/* Fits on train images idx[0..n) (n >= 1). HL_EINVAL when the method is supervised and labels are not visible or
 * the image shape differs from the info given at create; HL_ENUMERIC when the fit leaves a NaN or an infinity in a
 * parameter or buffer (naming it): a diverged model is never encoded, saved as done or attacked. */
hl_status hl_hasher_fit(hl_hasher *h, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels_visible);

/* Semi-supervised fit: labelled images idx[0..n) of d (labels visible) and unlabelled images uidx[0..nu) of d, whose
 * labels the method never sees (it gets hl_dataset_unlabelled_view(d) for them). Calls fit_semi, or plain fit on
 * the labelled images for a class without it. Methods that are not supervised get the label-less view for the
 * labelled images as well, with labels_visible false. n >= 1, nu >= 0. */
hl_status hl_hasher_fit_semi(hl_hasher *h, const hl_dataset *d, const int64_t *idx, int64_t n, const int64_t *uidx,
                             int64_t nu);

/* forward() with shape checks (x [B, C, H, W] matching the info; output [B, bits], HL_ASSERT otherwise). */
hl_tensor *hl_hasher_forward(hl_hasher *h, hl_ctx *ctx, hl_tensor *x);

/* Codes of images idx[0..n) of `set` (idx NULL: all of set, in order), `batch` images at a time (<= 0: 256), in
 * eval mode under no-grad; out is created here (hl_codes_free). The ctx is reset after every batch (it must hold
 * nothing the caller still needs); its train flag is restored. HL_EINVAL if the method needs a fit it has not
 * had, or on a shape mismatch. */
hl_status hl_hasher_encode(hl_codes *out, hl_hasher *h, hl_ctx *ctx, const hl_dataset *set, const int64_t *idx,
                           int64_t n, int batch);
/* Database codes: the method's learned codes (learned_codes) where it has them, forward() for the rest; the same
 * as hl_hasher_encode for methods without learned_codes. */
hl_status hl_hasher_encode_database(hl_codes *out, hl_hasher *h, hl_ctx *ctx, const hl_dataset *set,
                                    const int64_t *idx, int64_t n, int batch);
/* Same from float images x [n, C, H, W] in [0,1] (adversarial images). */
hl_status hl_hasher_encode_images(hl_codes *out, hl_hasher *h, hl_ctx *ctx, const float *x, int64_t n, int batch);

/* Checkpoint of self->params (parameters and buffers) with metadata method, bits, seed (core/io/checkpoint.h) and
 * what rebuilding the hasher from the file alone needs (hl_hasher_spec_from_checkpoint): "method_version" (the
 * class's version), "input" ("[C, H, W]"), "labels" (the label count L of the data it was built for) and "params"
 * (the resolved params as canonical JSON), written atomically. Load into an instance created with the same class,
 * bits and params: HL_EMISMATCH when the file's method or bits differ (or its tensors do not match); marks the hasher
 * fitted. */
#define HL_HASHER_KEY_VERSION "method_version"
#define HL_HASHER_KEY_INPUT "input"
#define HL_HASHER_KEY_LABELS "labels"
#define HL_HASHER_KEY_PARAMS "params"
hl_status hl_hasher_save(const hl_hasher *h, const char *path);
hl_status hl_hasher_load(hl_hasher *h, const char *path);

/* What rebuilds a saved hasher outside the suite that trained it (hashlab encode): its class, bits, seed, the image
 * shape it takes and its resolved params. */
typedef struct hl_hasher_spec {
    char method[64];
    int bits;
    uint64_t seed;
    hl_dataset_info info; /* c, h, w (and nlabels, 0 when unknown) */
    hl_config *params;    /* resolved params map (owned), or NULL for the class defaults */
    hl_device dev;        /* the device to load it onto (HL_DEVICE_CPU when zeroed; not stored in checkpoints) */
} hl_hasher_spec;
void hl_hasher_spec_free(hl_hasher_spec *s); /* NULL-safe; leaves *s zeroed */
/* The spec in a checkpoint's metadata (hl_hasher_save). HL_EUNSUPPORTED for a checkpoint written before the input
 * shape and params were stored (the message says to give the cell directory, whose result.json has them);
 * HL_EFORMAT for a file that is not a hasher checkpoint or holds malformed values. */
hl_status hl_hasher_spec_from_checkpoint(hl_hasher_spec *out, const char *path);
/* Creates the hasher the spec describes and loads the checkpoint `path` into it (hl_hasher_load's checks). Params
 * naming a pretrained-weights file ("init_from", "pretrained") are blanked first: every weight comes from the
 * checkpoint, so that file is not read (it may be gone). Errors are prefixed with path. */
hl_status hl_hasher_load_spec(hl_hasher **out, const hl_hasher_spec *spec, const char *path);

#endif
