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
 * m2 = Adam's second moment or RMSprop's square average. Same layout as p->data. */
const float *hl_optim_moment(const hl_optim *o, int which);

#endif
