/* defences/defence.h — adversarial-training defences as plugin classes wrapped around any trainable hasher
 * (HL_HASHER_TRAINABLE: DPSH, ADSH, DDSH, NMLayer, and plugins that declare it).
 *
 * A defence does not train anything itself: it gives the hasher a fit hook (hashers/hasher.h). Every epoch it derives
 * reference codes for the training items from the codes the method keeps (its bank) and their labels; for every
 * mini-batch it runs its inner attack — L∞/L2 PGD with sign steps (L2: normalised-gradient steps) from a random start,
 * on the network being trained, in train mode, its weights frozen — and the hasher trains on [x; x_adv] with
 *     clean_weight·L_method(x) + method_adv_weight·L_method(x_adv) + outer(h_adv),
 * where h = tanh(u) are the relaxed codes, u the network's pre-activations.
 *
 * Per class (h = tanh(u) of one row, r its reference code, c = sign(u_clean) its clean code, means over B·K):
 *   pgd-at   Madry et al. (ICLR'18) for hashing: inner minimises mean(h ⊙ c) (away from the clean code, HAG's
 *            objective); trains on x_adv with the method's loss (clean_weight 0 by default).
 *   atrdh    Wang et al. (SIGIR'21): inner minimises −mean(h ⊙ t) toward a target code t (the class centre of a
 *            random other label set, drawn per item and epoch); clean + adversarial method loss.
 *   cgat     Wang et al. (WWW'23): reference = the item's centre code; inner minimises mean(h ⊙ r) (away from it);
 *            outer −w·mean(h_adv ⊙ r); no method loss on x_adv.
 *   saat     semantic-aware AT (TIFS'23): reference = the item's mainstay code; inner minimises mean(h ⊙ r); outer
 *            −λ·mean(h_adv ⊙ r) + μ·mean((h_adv − sign h_adv)²).
 * Centre code of label set y (CgAT's hash_center_code): sign(mean_{j: y∧y_j ≠ ∅} b_j − mean_{j: y∧y_j = ∅} b_j).
 * Mainstay code (SAAT's generate_mainstay_code): sign(Σ_j w_j b_j / Σ_j w_j − mean_{j: y∧y_j = ∅} b_j) with
 * w_j = cos(y, y_j). b_j = sign(bank row j); a mean over no item is 0; sign(0) = +1.
 *
 * Suite (a hasher entry):
 *     defence: {method: cgat, norm: linf, eps: 8/255, steps: 7, step_size: 2/255, random_start: true, params: {}}
 * Lifecycle (defences/defence.c):
 *     hl_defence *d;  HL_TRY(hl_defence_create(&d, "cgat", params, &opts));   // validate, resolve, init
 *     hl_defence_attach(d, h);  ... hl_hasher_fit(h, ...) ...  hl_defence_detach(d, h);  hl_defence_free(d);
 */
#ifndef HL_DEFENCES_DEFENCE_H
#define HL_DEFENCES_DEFENCE_H

#include "attacks/threat.h"
#include "hashers/hasher.h"

#define HL_DEFENCE_ABI 1

typedef struct hl_defence hl_defence;

/* The inner attack. */
typedef struct hl_defence_opts {
    hl_threat threat;  /* norm (linf | l2) and ε on [0, 1] pixels */
    int64_t steps;     /* PGD steps */
    hl_fraction step;  /* step size (L∞: per pixel; L2: of the normalised step) */
    bool random_start;
    uint64_t seed;     /* random starts: item-, epoch- and seed-keyed streams */
} hl_defence_opts;

typedef struct hl_defence_class {
    int abi;                     /* HL_DEFENCE_ABI */
    const char *name;            /* registry key, YAML `defence: {method: ...}` */
    const char *summary;
    const char *cite;            /* BibTeX of the paper(s), or NULL */
    const char *version;         /* NULL = "1"; bump when results change (part of the cell keys) */
    const hl_param_spec *params; /* the method's weights */
    int n_params;
    size_t size;                 /* instance size; it begins with an hl_defence */
    /* Required: reads params (cfg resolved), sets self->clean_weight and self->method_adv_weight. */
    hl_status (*init)(hl_defence *self, const hl_config *cfg);
    void (*fini)(hl_defence *self);
    /* Optional: reference codes ref [n, K] (±1) of the training items from the bank (signs = codes) and labels, once
     * per epoch; without it the references are the clean codes of each batch. */
    hl_status (*references)(hl_defence *self, const float *bank, const hl_labels *labels, int64_t n, int K,
                            int64_t epoch, float *ref);
    /* Required: the inner objective to MINIMISE over x_adv, for rows u [B, K] with references r and clean codes c
     * (±1, [B, K]): returns it and writes dL/du [B, K]. */
    double (*inner)(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                    float *grad);
    /* Optional: the outer term on the adversarial rows: returns it and ADDS dL/du to grad [B, K]. */
    double (*outer)(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                    float *grad);
} hl_defence_class;

struct hl_defence {
    const hl_defence_class *cls;
    hl_defence_opts opts;
    hl_config *cfg;                           /* resolved params (owned) */
    double clean_weight, method_adv_weight;   /* set by init */
    float *ref;                               /* [nref, K] reference codes of the epoch (NULL: clean codes) */
    int64_t nref, epoch;
    int K;
    int64_t inner_forwards, inner_backwards;  /* image passes of the inner attack */
    hl_fit_hook hook;                         /* what the hasher sees (defence.c) */
};

/* ---- registry (defences/registry.c): built-ins from defences.def, then classes registered at run time ---- */
const hl_defence_class *hl_defence_class_find(const char *name); /* NULL + HL_ENOTFOUND with did-you-mean */
int hl_defence_class_count(void);
const hl_defence_class *hl_defence_class_at(int i);
hl_status hl_defence_class_register(const hl_defence_class *cls);
void hl_defence_class_unregister(const hl_defence_class *cls);

/* ---- driver (defences/defence.c) ---- */
/* 7 steps of 2/255 at L∞ 8/255 from a random start (the papers' setting), seed 0. */
void hl_defence_opts_default(hl_defence_opts *o);
/* Validates params against the class schema (HL_EINVAL with positions), checks the options (ε > 0, steps >= 1, a
 * norm with a ball), allocates, init. */
hl_status hl_defence_create(hl_defence **out, const char *name, const hl_config *params, const hl_defence_opts *o);
void hl_defence_free(hl_defence *d); /* NULL-safe */
/* Points h->hook at the defence (HL_EINVAL unless h's class is HL_HASHER_TRAINABLE); detach clears it. */
hl_status hl_defence_attach(hl_defence *d, hl_hasher *h);
void hl_defence_detach(hl_defence *d, hl_hasher *h);

/* The inner attack on its own (what the hook's batch step runs; exposed for tests): adversarial images x_adv [B, d]
 * of x [B, d] for rows with references r and clean codes c ([B, K], ±1), through h's forward on ctx; every image
 * stays in the threat set. pos[i] keys row i's random start (with the seed and epoch). */
hl_status hl_defence_inner_attack(hl_defence *d, hl_hasher *h, hl_ctx *ctx, const float *x, const int64_t *pos,
                                  const float *r, const float *c, int64_t B, float *x_adv);

/* Before the hasher has codes (the fit hook's epoch_begin got bank NULL: ADSH's first outer iteration) a class with
 * references has none; the batch's references r [B, K] are then the rows' own clean codes c, oriented so that the
 * inner attack moves the code away from where it is: r = c for an attack that pushes away from its reference (CgAT,
 * SAAT), r = −c for one that pulls toward it (ATRDH: its inner objective is below 0 at u = c, r = c). */
void hl_defence_orient_fallback(const hl_defence *d, float *r, const float *c, int64_t B, int K);

/* ---- shared math (defences/defence_math.c) ---- */
/* CgAT centre codes (above) of the label sets q[0..m) against the items' label rows and codes b [n, K] (±1 or any
 * real values: their signs), into out [m, K]; weighted = true gives SAAT's mainstay codes instead. */
hl_status hl_defence_centres(const hl_labels *q, const hl_labels *items, const float *b, int K, bool weighted,
                             float *out);
/* mean(h ⊙ r) over B·K with h = tanh(u), and its gradient (1 − h²)·r / (B·K) scaled by `sign` and ADDED to grad
 * (when grad is not NULL); returns sign·mean. */
double hl_defence_code_product(const float *u, const float *r, int64_t B, int K, double sign, float *grad);

#endif
