/* attacks/attack.h — adversarial attacks as plugin classes, and the driver that holds them to the threat model.
 *
 * Like hashers (hashers/hasher.h): a `const hl_attack_class` with designated initialisers plus an instance struct
 * that begins with an `hl_attack`. Built-ins are listed in attacks/attacks.def (HL_ATTACK(name) → class symbol
 * hl_attack_<name>); plugins add more (lab/plugin.h registers them). The first two members of the class struct (abi,
 * name) are read by the plugin loader.
 *
 * The driver (attacks/attack.c), not each attack, freezes the victim's parameters and puts the ctx in eval mode,
 * runs perturb over batches, then checks every adversarial image against the threat model (attacks/threat.h): a
 * violation is an error naming the attack and the image — a buggy projection is caught for every attack.
 *
 *     hl_attack *a;
 *     hl_attack_opts o;  hl_attack_opts_default(&o);  o.threat = hl_threat_make(HL_NORM_LINF, 8, 255);
 *     HL_TRY(hl_attack_create(&a, "noise", NULL, &o));
 *     HL_TRY(hl_attack_run(a, victim, ctx, x, x_adv, n, &goal, 64));
 *     hl_attack_free(a);
 */
#ifndef HL_ATTACK_H
#define HL_ATTACK_H

#include "attacks/threat.h"
#include "core/io/train_state.h"
#include "hashers/hasher.h"

#define HL_ATTACK_ABI 3 /* 2: the class gained `cite`; 3: `version` */

typedef struct hl_attack hl_attack;

typedef enum hl_attack_flag {
    HL_ATTACK_TARGETED = 1u << 0,   /* supports targeted goals */
    HL_ATTACK_UNTARGETED = 1u << 1, /* supports untargeted goals */
    HL_ATTACK_BLACKBOX = 1u << 2,   /* never uses gradients of the victim */
    HL_ATTACK_NEEDS_FIT = 1u << 3,  /* learns from the victim once (fit) before perturb: generative attacks such as
                                     * ProS-GAN; the lab caches what it learned per victim (hl_attack_save/load) */
    HL_ATTACK_UNBOUNDED = 1u << 4,  /* bounds its perturbation itself (ProS-GAN's reconstruction loss), so it may run
                                     * with norm none (no ε-ball, pixel box only); other attacks refuse norm none */
    HL_ATTACK_FIXED = 1u << 5,      /* parameter-free (the `auto` ensemble): its budget and steps are fixed by its
                                     * version, so a suite entry giving steps, step_size or random_start is refused */
    HL_ATTACK_BASELINE = 1u << 6,   /* not an optimiser (random noise): the checks of an attack's strength (the ε = 1
                                     * probe, loss_not_improving) do not apply to it */
    HL_ATTACK_REFERENCE = 1u << 7,  /* untargeted away from reference codes, not the clean codes: the lab passes as
                                     * goal->source each query's class centre (params reference: centre) or mainstay
                                     * (reference: mainstay) over the database codes (defences/defence.h) — the
                                     * adaptive attack on centre-based defences (centre-pgd) */
    HL_ATTACK_DEVICE = 1u << 8      /* runs against a victim on any device: its own state is host memory (x and x_adv
                                     * below are host tensors) and it reaches the victim only through
                                     * attacks/victim.h or transfers; proven on the shadow device. Attacks without it
                                     * are refused when the ctx is not on the CPU. */
} hl_attack_flag;

/* Options common to all attacks (the suite's threat-model keys); the class's own keys are in its params. */
typedef struct hl_attack_opts {
    hl_threat threat;
    int steps;         /* iterations (>= 0) */
    hl_fraction step;  /* step size */
    bool random_start;
    bool targeted;
    uint64_t seed;
} hl_attack_opts;

/* A caller's judge of candidate adversarial images, for attacks that choose among candidates (the `auto` ensemble
 * keeps each query's worst case by it): scores the codes of the 8-bit quantised candidates of queries first ..
 * first + codes->n − 1 (positions in the hl_attack_run call) into s[codes->n], higher = stronger attack (the lab
 * gives −AP untargeted, the targeted AP with the target labels when targeted). NaN: no opinion (the earlier
 * candidate is kept). */
typedef struct hl_attack_judge {
    hl_status (*score)(void *user, int64_t first, const hl_codes *codes, double *s);
    void *user;
} hl_attack_judge;

/* What the attacker wants, per query (arrays indexed like the images passed to hl_attack_run / perturb). */
typedef struct hl_attack_goal {
    const int64_t *query_id; /* stable ids (seeding must depend on these, not on batch positions); NULL: 0..n-1 */
    const hl_codes *target;  /* targeted: desired codes [n]; NULL otherwise */
    const hl_codes *source;  /* untargeted: clean codes [n] to move away from; may be NULL */
    const hl_labels *target_labels; /* targeted: the target label set of each query [n rows] (what label-conditioned
                                     * attacks such as ProS-GAN aim at); NULL when the caller has none */
    const hl_attack_judge *judge;   /* NULL: attacks that choose among candidates score them by their codes */
    int64_t first;                  /* caller: the position of the call's first image in the whole job (a long list
                                     * attacked in several calls; 0 otherwise); perturb gets the position of its
                                     * batch's first image in the job */
    int64_t total;                  /* caller: images of the whole job, for progress reports (0: this call's n) */
} hl_attack_goal;

/* What an attack with HL_ATTACK_NEEDS_FIT learns from, once per victim (the lab passes the protocol's train list and
 * the victim's stored database codes). */
typedef struct hl_attack_fit_data {
    const hl_dataset *train;    /* images (and labels) */
    const int64_t *idx;         /* training images idx[0..n) of train */
    int64_t n;
    const hl_codes *db_codes;   /* the victim's database codes */
    const hl_labels *db_labels; /* their label sets: the distinct ones are the candidate targets */
    uint64_t seed;
    const char *workdir;        /* NULL, or a directory where fit may write sample grids */
    const char *state_file;     /* NULL, or a file name inside workdir where a long fit keeps its resumable state
                                 * after every epoch (core/io/train_state.h): an interrupted fit continues there */
} hl_attack_fit_data;

typedef struct hl_attack_class {
    int abi;                     /* HL_ATTACK_ABI (keep first) */
    const char *name;            /* (keep second) registry key, YAML `method:` value */
    const char *summary;
    const char *cite;            /* NULL, or the BibTeX entries of the attack's paper(s): the report's methods.bib */
    const char *version;         /* NULL = "1"; bump it whenever a change alters results (part of the cell keys) */
    const hl_param_spec *params; /* attack-specific keys */
    int n_params;
    size_t size;                 /* sizeof the instance struct; it begins with an hl_attack */
    unsigned flags;              /* hl_attack_flag */

    /* Optional: cfg is the resolved params map (owned by self). */
    hl_status (*init)(hl_attack *self, const hl_config *cfg);
    void (*fini)(hl_attack *self);
    /* Required: writes adversarial images for one batch into x_adv (host heap tensor, same shape as x [B, C, H, W];
     * both are HL_DEVICE_CPU whatever ctx's device),
     * within self->opts.threat (use hl_threat_project). ctx is scratch: perturb may hl_ctx_reset it; nothing
     * allocated in it survives the call. goal arrays are for this batch ([B]). */
    hl_status (*perturb)(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x, hl_tensor *x_adv,
                         const hl_attack_goal *goal);
    /* Required with HL_ATTACK_NEEDS_FIT: learns from the frozen victim (its parameters do not require grad; the ctx
     * is in train mode for the attack's own networks — the victim's batch norm must be used in eval mode, which
     * hashers do through their forward in ctx eval mode: switch with hl_ctx_set_train around victim calls).
     * Everything learned lives in self->params (declared and allocated in init), so the driver can save and load
     * it. Counts victim passes in forwards/backwards like perturb does. */
    hl_status (*fit)(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_attack_fit_data *data);
    /* Optional with HL_ATTACK_NEEDS_FIT, for attacks whose networks' sizes depend on the victim (bits, labels, image
     * shape): declares and allocates self->params for this victim. The driver calls it before fit and before load
     * (a fresh attack has nothing for a checkpoint to fill otherwise); calling it again for the same shapes is a
     * no-op, for others HL_EMISMATCH. */
    hl_status (*prepare)(hl_attack *self, const hl_hasher *victim);
} hl_attack_class;

struct hl_attack {
    const hl_attack_class *cls;
    hl_attack_opts opts;
    hl_config *cfg; /* resolved params (owned) */
    /* Cost counters, added to by perturb: victim forward and backward passes, counted per image (a batch of B
     * images through one forward adds B). The driver zeroes them at create; the lab reports them per query. */
    int64_t forwards, backwards;
    /* Of the backwards, those whose input gradient was exactly zero (or absent: the victim's output has no gradient
     * path to its input, e.g. a model that binarises its input). A gradient attack cannot move such images; the lab
     * reports the fraction (metrics.zero_grad_fraction) and a note, so it is not mistaken for robustness. */
    int64_t zero_grads;
    /* Per-step trace of an iterative attack (optional): the attack sizes it with hl_attack_trace_reserve and adds to
     * it over all batches; the lab writes the means to result.json. Step t (restart r's steps follow restart r−1's):
     * trace_loss_sum[t] / trace_loss_n[t] is the mean objective over the images attacked at that step, and
     * trace_improved[t] counts the images whose best iterate so far improved at that step. Freed with the attack. */
    int64_t trace_len;
    double *trace_loss_sum;
    int64_t *trace_loss_n, *trace_improved;
    hl_params params; /* learned state of an HL_ATTACK_NEEDS_FIT attack (initialised empty by the driver) */
    bool fitted;      /* set by hl_attack_fit / hl_attack_load */
};

/* ---- registry (attacks/registry.c) ---- */
/* NULL with HL_ENOTFOUND: "unknown attack 'nosie' (known: noise; did you mean 'noise'?)". */
const hl_attack_class *hl_attack_class_find(const char *name);
int hl_attack_class_count(void); /* sorted by name, built-ins and plugins */
const hl_attack_class *hl_attack_class_at(int i);
int hl_attack_builtin_count(void);
const hl_attack_class *hl_attack_builtin_at(int i);
/* Adds / removes a class at run time (lab/plugin.h; capacity only: HL_ENOMEM past 256 classes). */
hl_status hl_attack_class_register(const hl_attack_class *cls);
void hl_attack_class_unregister(const hl_attack_class *cls);

/* ---- driver (attacks/attack.c) ---- */
/* steps 10, step 1/255, L∞ eps 8/255 on [0, 1], no random start, untargeted, seed 0. */
void hl_attack_opts_default(hl_attack_opts *o);
/* Validates params (NULL = defaults) against the schema, resolves, allocates, init. HL_EINVAL for a negative ε,
 * an empty pixel box, targeted options on an attack without HL_ATTACK_TARGETED (or the reverse). */
hl_status hl_attack_create(hl_attack **out, const char *name, const hl_config *params, const hl_attack_opts *o);
hl_status hl_attack_create_class(hl_attack **out, const hl_attack_class *cls, const hl_config *params,
                                 const hl_attack_opts *o);
void hl_attack_free(hl_attack *a); /* NULL-safe */
/* Makes the trace hold `len` steps (zeroed the first time; the same len again keeps what it holds). HL_ENOMEM. */
hl_status hl_attack_trace_reserve(hl_attack *a, int64_t len);

/* Fits an HL_ATTACK_NEEDS_FIT attack on `victim` (frozen for the call, its requires-grad flags restored after;
 * ctx's train flag restored). HL_EINVAL for an attack without the flag. */
hl_status hl_attack_fit(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const hl_attack_fit_data *data);
/* self->params as a checkpoint (metadata: attack name), written atomically; load into an attack created with the
 * same class and params, for the same victim (prepare runs first when the class has it): HL_EMISMATCH when the file is
 * another attack's or its tensors differ; marks it fitted. */
hl_status hl_attack_save(const hl_attack *a, const char *path);
hl_status hl_attack_load(hl_attack *a, const hl_hasher *victim, const char *path);

/* Attacks n images x [n, C, H, W] (victim's shape) into x_adv (same layout), `batch` at a time (<= 0: 64); an
 * HL_ATTACK_NEEDS_FIT attack must be fitted (or loaded) first (HL_EINVAL otherwise). Freezes
 * the victim's parameters for the call (their requires-grad flags are restored afterwards), runs in eval mode (the
 * ctx's train flag is restored) and resets ctx after each batch. Each batch's result is checked with
 * hl_threat_check(HL_THREAT_TOL); a violation is HL_EINVAL "attack 'name': image I: ..." with the query's
 * position in x. goal may be NULL (untargeted, ids 0..n-1). */
hl_status hl_attack_run(hl_attack *a, hl_hasher *victim, hl_ctx *ctx, const float *x, float *x_adv, int64_t n,
                        const hl_attack_goal *goal, int batch);

/* Resumable jobs (the lab checkpoints an attack cell every chunk of queries, attacking chunk k with goal->first at
 * its position): registers in ts everything the attack accumulates over calls — its cost counters, its trace (a trace
 * not reserved yet is reserved with the length saved in ts's file, when there is one) and an ensemble's record and
 * members (attacks/auto.h) sized for n queries — under names that start with prefix. Register again before every
 * save (a trace reserved by the first call is then included). Resuming = restoring these, then attacking the
 * remaining chunks: per-image results never depend on batch composition (core/ctx.h batch invariance, per-query
 * seeds), so the job ends exactly as one uninterrupted call would. */
hl_status hl_attack_keep(hl_attack *a, hl_train_state *ts, const char *prefix, int64_t n);

#endif
