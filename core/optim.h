/* core/optim.h — optimizers over an hl_params: SGD, Adam, AdamW, RMSprop with PyTorch's update rules.
 *
 * Moments live in slabs parallel to the parameter slab (element i of each belongs to the same parameter), so a step
 * is a flat loop over runs of adjacent trainable tensors. Only parameters with HL_T_REQUIRES_GRAD are stepped
 * (frozen ones keep their values and moments); like PyTorch's per-parameter state, each tensor has its own step
 * count, used by Adam's bias correction and by SGD's first-momentum-step rule. Note PyTorch additionally skips
 * parameters whose .grad is None; here a trainable parameter with a zero gradient is still stepped (weight decay and
 * momentum still act), which is PyTorch's behaviour with zero_grad(set_to_none=False).
 *
 * Update rules for one element, g = grad, p = param, t = that tensor's step count after increment:
 *   SGD:     g += wd·p;  if momentum ≠ 0 { buf = (t == 1) ? g : momentum·buf + (1 − dampening)·g;
 *                                          g = nesterov ? g + momentum·buf : buf }
 *            p −= lr·g
 *   Adam:    g += wd·p   (L2, coupled)
 *   AdamW:   p *= 1 − lr·wd   (decoupled, before the moment update)
 *   Adam(W): m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
 *            p −= (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)      (eps outside the root)
 *   RMSprop: g += wd·p;  v = α·v + (1 − α)·g²;  d = g / (√v + eps)
 *            if momentum > 0 { buf = momentum·buf + d; p −= lr·buf } else p −= lr·d      (buf starts at 0)
 * Not supported: amsgrad, maximize, RMSprop centered, Nesterov with dampening ≠ 0 (PyTorch rejects it too).
 *
 * Per-parameter groups: hl_optim_set_group(o, "backbone.", 0.1f, 1.0f) multiplies the learning rate (and weight
 * decay) of every parameter whose name starts with the prefix — the "pretrained layers at lr/10" rule of many
 * hashing papers. hl_optim_set_lr sets the base rate (LR schedules call it each epoch).
 *
 *     hl_optim_config c = hl_optim_defaults(HL_OPTIM_ADAM);  c.lr = 1e-4f;
 *     hl_optim *o;  if ((st = hl_optim_create(&o, &model->params, &c)) < 0) goto done;
 *     ... hl_backward(ctx, loss); hl_optim_step(o); hl_optim_zero_grad(o); ...
 *     hl_optim_free(o);
 */
#ifndef HL_OPTIM_H
#define HL_OPTIM_H

#include "core/nn/params.h"

typedef enum hl_optim_kind { HL_OPTIM_SGD, HL_OPTIM_ADAM, HL_OPTIM_ADAMW, HL_OPTIM_RMSPROP, HL_OPTIM_KIND_COUNT } hl_optim_kind;

typedef struct hl_optim_config {
    hl_optim_kind kind;
    float lr;
    float weight_decay;
    float momentum;  /* SGD, RMSprop */
    float dampening; /* SGD */
    bool nesterov;   /* SGD */
    float beta1, beta2; /* Adam, AdamW */
    float eps;       /* Adam, AdamW, RMSprop */
    float alpha;     /* RMSprop smoothing constant */
} hl_optim_config;

/* PyTorch's defaults: SGD lr 1e-3 (PyTorch 2.x), momentum 0, dampening 0; Adam lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8, wd 0; AdamW the same with wd 1e-2; RMSprop lr 1e-2, alpha 0.99, eps 1e-8, momentum 0. */
hl_optim_config hl_optim_defaults(hl_optim_kind kind);
/* "sgd", "adam", "adamw", "rmsprop"; HL_OPTIM_KIND_COUNT if unknown. */
hl_optim_kind hl_optim_kind_from_name(const char *name);
const char *hl_optim_kind_name(hl_optim_kind kind);
/* HL_EINVAL with a message for out-of-range values (lr < 0, betas outside [0,1), eps < 0, Nesterov without
 * momentum or with dampening, ...). */
hl_status hl_optim_config_check(const hl_optim_config *c);

typedef struct hl_optim hl_optim;

/* p must be allocated and outlive the optimizer. Validates the config. */
hl_status hl_optim_create(hl_optim **out, hl_params *p, const hl_optim_config *c);
void hl_optim_free(hl_optim *o);

void hl_optim_step(hl_optim *o);
void hl_optim_zero_grad(hl_optim *o);
void hl_optim_set_lr(hl_optim *o, float lr);
float hl_optim_get_lr(const hl_optim *o);
/* Number of hl_optim_step calls so far. */
int64_t hl_optim_steps(const hl_optim *o);
/* Multipliers for parameters whose name starts with prefix (later calls override earlier ones for the tensors they
 * match). Returns the number of tensors matched. */
int hl_optim_set_group(hl_optim *o, const char *prefix, float lr_mult, float wd_mult);

/* Moment slabs (NULL when the method has none): m1 = SGD/RMSprop momentum buffer or Adam's first moment,
 * m2 = Adam's second moment or RMSprop's square average. Same layout as p->data, on the parameters' device. */
const float *hl_optim_moment(const hl_optim *o, int which);
/* The parameter set the optimizer was created over. */
hl_params *hl_optim_params(const hl_optim *o);

/* ---- state export / import (resumable training; core/io/checkpoint.h stores it with the model) ------------------
 *
 * The state is a list of named F32 tensors plus string metadata, PyTorch-like:
 *   tensors, one per parameter (frozen ones included) and moment slot, shaped like the parameter:
 *     "optim.<param name>.momentum_buffer"   SGD with momentum ≠ 0, RMSprop with momentum > 0
 *     "optim.<param name>.exp_avg"           Adam, AdamW
 *     "optim.<param name>.exp_avg_sq"        Adam, AdamW
 *     "optim.<param name>.square_avg"        RMSprop
 *   (plain SGD has no tensors); metadata (keys "optim.*", numbers as decimal strings, floats printed with %.9g so
 *   they parse back bit-exactly):
 *     "optim.format" = HL_OPTIM_STATE_FORMAT, "optim.kind" = "sgd" | "adam" | "adamw" | "rmsprop",
 *     "optim.lr" = current base learning rate, "optim.steps" = hl_optim_steps(),
 *     the kind's hyper-parameters: "optim.weight_decay" and  SGD: "optim.momentum", "optim.dampening",
 *     "optim.nesterov" ("true"/"false");  Adam(W): "optim.beta1", "optim.beta2", "optim.eps";  RMSprop:
 *     "optim.momentum", "optim.eps", "optim.alpha",
 *     "optim.<param name>.step" = that tensor's step count (any int64, exact), for every parameter,
 *     "optim.<param name>.lr_mult" / ".wd_mult" = group multipliers, only where ≠ 1.
 *
 * Import semantics: the optimizer must already be configured as the saved one (same kind, same hyper-parameters,
 * same hl_optim_set_group multipliers, over a parameter set with the same names and shapes); any difference is
 * HL_EMISMATCH naming it, never a silent reinterpretation. What is restored: the moments, the per-tensor step counts,
 * the total step count and the current learning rate (LR schedules change it, so it is state, not configuration).
 * Requires-grad flags belong to the model and are not part of the state. */
#define HL_OPTIM_STATE_FORMAT "hashlab-optim-1"
#define HL_OPTIM_STATE_PREFIX "optim." /* reserved prefix for state tensor names and metadata keys */
#define HL_OPTIM_KEY_FORMAT "optim.format"

typedef struct hl_optim_state_tensor {
    char *name;           /* "optim.<param name>.<slot>" (owned by the state) */
    int ndim;
    const int64_t *shape; /* the parameter's shape (borrowed) */
    int64_t numel;
    float *data;          /* export: host memory holding the moments. On a CPU parameter set it points into the
                           * optimizer's moments (borrowed; writing through it changes the optimizer); on another
                           * device into a host copy owned by the state, and hl_optim_state_store writes it back.
                           * import input: the saved values (numel floats). */
} hl_optim_state_tensor;

typedef struct hl_optim_state {
    hl_optim_state_tensor *t;
    int n;
    char **key, **val; /* metadata (owned) */
    int n_meta;
    float *host;       /* the host copy of the moment slabs on a non-CPU parameter set (owned), else NULL */
} hl_optim_state;

/* Describes o's state (see above) into *out; free with hl_optim_state_free. The tensor data is NOT copied: it stays
 * valid while o lives and reflects later steps. HL_ENOMEM on allocation failure (*out is then empty). */
hl_status hl_optim_state_export(const hl_optim *o, hl_optim_state *out);
/* After writing through an export's data pointers: copies them into o's moments (a no-op on a CPU parameter set,
 * where the pointers are the moments). */
void hl_optim_state_store(hl_optim *o, const hl_optim_state *s);
/* Frees names, metadata and the host copy (never borrowed tensor data); s is left empty. NULL-safe. */
void hl_optim_state_free(hl_optim_state *s);

/* Checks saved metadata (n key/value pairs, e.g. a checkpoint's) against o, changing nothing:
 *   no "optim.format" key                       -> HL_EMISMATCH "... holds no optimizer state"
 *   another format version                      -> HL_EUNSUPPORTED
 *   a required key absent or unparsable         -> HL_EFORMAT naming the key
 *   kind differs                                -> HL_EMISMATCH "optimizer kind mismatch: saved adam, optimizer sgd"
 *   hyper-parameters / group multipliers differ -> HL_EMISMATCH listing them ("beta2: saved 0.99, optimizer 0.999")
 *   a step count missing for a parameter        -> HL_EMISMATCH listing the parameters
 *   step counts for parameters o does not have  -> HL_EMISMATCH listing them
 * `what` names the source in messages (a path), may be NULL. */
hl_status hl_optim_state_check_meta(const hl_optim *o, const char *const *keys, const char *const *vals, int n,
                                    const char *what);
/* Sets the learning rate and the step counts from metadata that passed hl_optim_state_check_meta (the caller has
 * copied the tensors into the pointers of hl_optim_state_export(o) itself). */
void hl_optim_state_apply_meta(hl_optim *o, const char *const *keys, const char *const *vals, int n);

/* In-memory import of a state exported from an identically configured optimizer (possibly over other parameter
 * storage with the same names and shapes): checks the metadata (as above) and that src holds exactly the expected
 * tensor names with the expected shapes (HL_EMISMATCH listing missing / unexpected / misshapen ones), then copies.
 * o is unchanged on any error. */
hl_status hl_optim_state_import(hl_optim *o, const hl_optim_state *src);

#endif
