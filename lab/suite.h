/* lab/suite.h — a suite: the YAML a researcher writes, validated before anything runs, expanded into cells.
 *
 * Format (documented for users in suites/README.md):
 *
 *     name: fashion_quick                 # required; names the run directory runs/<name> unless `output` is set
 *     dataset: fashion-mnist              # cifar10 | cifar100 | fashion-mnist | mnist | synthetic, an image-list
 *                                         # set nus-wide | flickr25k | coco | imagenet100, or image lists
 *                                         # {image_list: DIR, image_size, channels, root, name} (lab/suite_data.h)
 *     synthetic: {n: 2000, c: 1, h: 28, w: 28, classes: 10, noise: 0.3}   # only for dataset: synthetic
 *     protocol: cifar10                   # split protocol (core/data/split.h), default cifar10; image lists:
 *                                         # lists (their own split, the default) or random:Q/T
 *     split_seed: 0
 *     seeds: [0, 1, 2]                    # one training run per seed; reports give mean ± std
 *     attack_queries: 500                 # the first N queries are attacked (or all)
 *     backbone: cnn-small
 *     labeled: 1000                       # semi-supervised protocol: only this many train images are labelled
 *                                         # (the protocol's train count replaced; same queries and database; see
 *                                         # suites/README.md; cifar10-1 and random:Q/T only); also per entry
 *     device: cpu                         # cpu | cuda | shadow (not in the cell keys; result.json records it)
 *     threads: 0                          # 0 = all cores
 *     hashers:
 *       - method: lsh
 *         name: lsh                       # report row (default: the method; needed to tell apart two entries of
 *                                         # one method, e.g. an ablation)
 *         bits: [16, 32, 64]
 *         attack: true                    # false: clean scores only (a baseline such as the untrained network)
 *         params: {}                      # method-specific keys, validated by the method's own schema
 *         defence: {method: cgat, eps: 8/255, steps: 7, step_size: 2/255, params: {}}   # adversarial training
 *                                         # (defences/defence.h; trainable hashers only; in the cell key; an
 *                                         # unnamed entry is named <method>-<defence>)
 *         labeled: 1000                   # this entry's labelled count (overrides the suite's)
 *         labeler: {method: gnn, k: 10, rounds: 3, per_round: 1000}   # pseudo-labels for a supervised hasher
 *                                         # (hashers/labeler.h; in the cell key; unnamed: <method>-<labeler>)
 *     attacks:
 *       - method: noise
 *         name: noise                     # report column group (default: the method)
 *         bits: []                        # only attack models of these code lengths ([] = all)
 *         norm: linf                      # linf | l2
 *         eps: 8/255                      # exact fraction of the [0,1] pixel range
 *         steps: 20
 *         step_size: 2/255
 *         random_start: true
 *         targeted: false
 *         params: {}
 *     transfer:                           # adversarial images of these attacks scored on the other models
 *       attacks: [pgd, "dhta:linf:8/255", "prosgan:none"]   # entry name, or name:norm:eps / name:none
 *       bits: [32]                        # source and target models of these code lengths ([] = all)
 *     metrics: {topk: 1000, radius: 2, ties: index, zero_relevant: count}   # topk: an integer or all
 *     report: {formats: [md, tex, csv, json]}
 *     output: runs/fashion_quick
 *     plugins: [path/to/plugin.so]
 *
 * Every key is checked against the schema below (unknown keys, types, ranges, enum values) and every problem is
 * reported at once with file:line:col. The resolved suite (defaults filled in, values canonical) is what cell keys
 * are computed from, so `eps: 8/255` and `eps: 0.0313725...` name different cells but `1e-3` and `0.001` do not.
 * Labels and results print ε as it was written (`48/255`, `0.031`: hl_suite_attack.eps_text), not canonically.
 *
 * Cells: a TRAIN cell per (hasher entry × bits × seed), then an ATTACK cell per (train cell × attack entry whose
 * `bits` admit it), then a TRANSFER cell per (attack cell named in `transfer` × train cell of an attacked entry with
 * the same seed, both of `transfer.bits`): the attack cell's stored 8-bit adversarial images scored on that model
 * (the diagonal — the attack's own victim — reproduces the white-box scores). A cell
 * key is the SHA-256 of the canonical JSON of everything that determines its result: the resolved dataset (for image
 * lists also their content hash) and protocol, the split's hash (core/data/split.h), the hasher entry, bits and seed,
 * the backbone, the SHA-256 of the content of the entry's pretrained-weights file when it names one
 * (`params.pretrained` or its alias `init_from`, a path relative to the current directory: new weights under the same
 * name make new cells; a file that cannot be read is a problem reported at the key) (and, for an attack cell, its
 * train cell's key and the resolved attack entry). Metrics and report options are not in the keys: scores
 * are recomputed from stored codes, so changing them never retrains or re-attacks.
 * Shards (`--shard i/n`) split the train cells round-robin; an attack cell goes with its train cell, so each shard
 * is self-contained and the shards together cover every cell exactly once. A transfer cell goes with its source
 * attack cell; one whose target model belongs to another shard waits (the runner skips it and says so) until that
 * model is done — re-run without --shard once every shard has finished.
 */
#ifndef HL_LAB_SUITE_H
#define HL_LAB_SUITE_H

#include "core/config_schema.h"

typedef struct hl_suite_hasher {
    const hl_config *node; /* the entry in the resolved tree */
    const char *method;
    const char *name; /* `name:` or the method: the row of the reports */
    int64_t *bits;
    int64_t nbits;
    bool attack;      /* `attack:`: the suite's attacks run on its models */
    const char *defence;  /* `defence: {method}` (adversarial training, defences/defence.h) or NULL */
    const char *labeler;  /* `labeler: {method}` (pseudo-labels before a supervised fit, hashers/labeler.h) or NULL */
    int64_t labeled;      /* labelled images the entry trains with: its `labeled`, else the suite's; 0 = neither
                           * (the protocol's train list, and ADSH-style methods fit on the labelled database) */
    char auto_name[120];  /* the name of an unnamed entry with a defence and/or a labeler: "<method>-<defence>",
                           * "<method>-<labeler>" */
    char weights_sha256[65]; /* SHA-256 of the content of `params.pretrained` (or its alias `init_from`), "" without */
} hl_suite_hasher;

typedef struct hl_suite_attack {
    const hl_config *node;
    const char *method;
    const char *name;  /* `name:` or the method */
    int64_t *bits;     /* code lengths it applies to (nbits 0: all) */
    int64_t nbits;
    char eps_text[64]; /* ε as written (hl_fraction_format_written: "48/255", "0.031"), for cell labels and
                        * result.json's "eps"; the node (and so the key) keeps the canonical "16/85", "31/1000" */
} hl_suite_attack;

/* An image-list dataset (lab/suite_data.h). */
typedef struct hl_suite_lists {
    bool on;                /* the dataset is an image-list set */
    const char *set;        /* a named set ("nus-wide", ...), or NULL for dataset: {image_list: DIR} */
    char dir[1024];         /* the lists' folder; "" when a named set is not on this machine */
    char root[1024];        /* where relative image paths resolve ("" = dir) */
    int image_size, channels;
    char sha256[65];        /* hl_lists_hash of dir ("" when dir is "") */
} hl_suite_lists;

typedef struct hl_suite {
    hl_config *raw;      /* as loaded (positions for messages) */
    hl_config *resolved; /* defaults filled in, canonical values */
    const char *name, *dataset, *protocol, *backbone, *output; /* dataset: its name (image lists: `name` or DIR's) */
    hl_suite_lists lists;
    char dataset_name[64]; /* storage for an image-list dataset's default name */
    int64_t split_seed;
    int64_t labeled;     /* top-level `labeled` (0: not set) */
    int64_t *seeds;
    int64_t nseeds;
    hl_suite_hasher *hashers;
    int64_t nhashers;
    hl_suite_attack *attacks;
    int64_t nattacks;
    const char **transfer;  /* transfer.attacks: attack labels "name", "name:norm:eps" or "name:none" */
    int64_t ntransfer;
    int64_t *transfer_bits; /* transfer.bits (ntransfer_bits 0: all) */
    int64_t ntransfer_bits;
} hl_suite;

typedef enum hl_cell_kind { HL_CELL_TRAIN, HL_CELL_ATTACK, HL_CELL_TRANSFER, HL_CELL_KIND_COUNT } hl_cell_kind;

typedef struct hl_cell {
    hl_cell_kind kind;
    int64_t hasher, attack; /* indices into the suite's lists (attack −1 for train cells) */
    int64_t bits, seed;
    int64_t parent;         /* attack cells: index of their train cell; transfer cells: of their source attack cell;
                             * train cells: −1 */
    int64_t target;         /* transfer cells: index of the train cell whose model scores the images; else −1 */
    int64_t train_index;    /* train cells: their rank among train cells (for sharding) */
    char key[65];           /* SHA-256 hex */
    char label[240];        /* "lsh/32b/seed0", "lsh/32b/seed0/noise:linf:8/255" or, for a transfer cell,
                             * "lsh/32b/seed0/noise:linf:8/255=>itq/32b/seed0" (for --only and progress) */
} hl_cell;

/* "train", "attack", "transfer". */
const char *hl_cell_kind_name(hl_cell_kind k);

/* Loads and validates a suite file. Problems: HL_EINVAL with every error, one per line, as "FILE:LINE:COL: ...". */
hl_status hl_suite_load(hl_suite **out, const char *path);
/* Same from an already loaded tree (takes ownership of `root` even on failure). */
hl_status hl_suite_from_config(hl_suite **out, hl_config *root);

/* Checks of a suite beyond its own keys (the runner's: every entry's method, its params, the attack options), run on
 * the raw tree in the same pass as the suite's keys, so one report holds every problem. The tree may be invalid in
 * any way: a check skips what is not of the shape it needs (the suite's schema reports that) and adds what it finds
 * to errs. */
typedef void (*hl_suite_check_fn)(const hl_config *raw, hl_config_errors *errs);
/* hl_suite_from_config in one pass with more problems: errs (NULL: none) may already hold problems found before
 * (lab/overrides.h), `check` (NULL: none) adds its own; the suite keys' problems are added, and, when the suite keys
 * are valid, the resolved suite's (names two entries share, transfer patterns naming nothing). The suite is made only
 * when the list ends empty; else HL_EINVAL with the sorted report. Takes ownership of root; errs is freed. */
hl_status hl_suite_from_config_with(hl_suite **out, hl_config *root, hl_config_errors *errs, hl_suite_check_fn check);
/* The suite format's schema: the top-level keys (`hashers` and `attacks` entries as those specs' `fields`). */
const hl_param_spec *hl_suite_schema(int *n);
/* A resolved copy (defaults filled in, *out: hl_config_free) of one raw attack entry, for checks that run even when
 * other parts of the suite are invalid; HL_EINVAL when the entry itself has problems (the suite's schema reports
 * them). */
hl_status hl_suite_attack_resolve(const hl_config *entry, hl_config **out);
/* A hasher entry's `defence:` map validated and resolved on its own (defaults filled in). */
hl_status hl_suite_defence_resolve(const hl_config *defence, hl_config **out);
void hl_suite_free(hl_suite *s);

/* Expands into cells (train cells first, in suite order hasher × bits × seed; then attack cells grouped by train
 * cell). split_hash: hex SHA-256 of the split (hl_split_hash). *cells: free(). */
hl_status hl_suite_expand(const hl_suite *s, const char *split_hash, hl_cell **cells, int64_t *n);

/* True when attack entry a applies to models of `bits` bits. */
bool hl_suite_attack_applies(const hl_suite_attack *a, int64_t bits);

/* Parses "i/n" (0 <= i < n). */
hl_status hl_shard_parse(const char *text, int *index, int *count);
/* True when the cell belongs to shard index of count. */
bool hl_cell_in_shard(const hl_cell *cells, int64_t i, int index, int count);
/* True when the cell's label matches the shell pattern (fnmatch), or the pattern is NULL. */
bool hl_cell_matches(const hl_cell *c, const char *pattern);

#endif
