/* lab/runner_impl.h — internal to lab/runner.c and lab/cells.c: the state of one run and the cell executors. */
#ifndef HL_LAB_RUNNER_IMPL_H
#define HL_LAB_RUNNER_IMPL_H

#include "attacks/attack.h"
#include "core/data/split.h"
#include "defences/defence.h"
#include "eval/retrieval.h"
#include "lab/runner.h"
#include "lab/store.h"
#include "lab/suite.h"

typedef struct hl_run_state {
    const hl_run_opts *o;
    hl_suite *suite;
    hl_dataset data;
    hl_split split;
    char split_hash[65];
    hl_split *lsplits;        /* [nlsplits] the splits of the entries' `labeled` counts (lab/cells_labeler.c) */
    int64_t *lcounts;         /* [nlsplits] their counts */
    int nlsplits;
    hl_cell *cells;
    int64_t ncells;
    hl_store store;
    hl_device dev;            /* the suite's `device`: hashers are created there, ctx runs there */
    hl_ctx *ctx;
    hl_labels qlab, dblab;    /* labels of the query and database lists */
    int64_t *aq;              /* attack query positions in the query list [naq] */
    int64_t naq;
    hl_retrieval_opts ropts;
    char map_name[40], p_name[40], r_name[40]; /* "mAP@1000", "P@H<=2", "R@H<=2" */
    hl_suite_progress prog[2]; /* [0] stderr, [1] log.txt (lab/run_progress.c) */
    int nprog;                /* reporters in use (0 before hl_run_progress_start) */
    int64_t *prog_pos;        /* [ncells]: a cell's position among the selected cells, −1: not selected */
    bool prog_stop_seen;
    char stopped[3000];       /* the cell an interrupt stopped, and what it kept ("" if none) */
} hl_run_state;

/* True once a stop was requested (signal). */
bool hl_run_stopping(void);

/* Progress of a run (lab/run_progress.c; rendering in lab/progress.h). Start: one reporter on stderr (mode
 * opts.progress, a terminal or plain lines) and one on log.txt (plain), the selected cells declared with their cost
 * groups (train: the hasher entry's name; attack: hasher/attack; transfer: the target hasher), the timings of every
 * finished cell in the store fed in as cost samples (timings.total_s, else the sum of the other timings), and the
 * core/job.h progress hook and the hl_msg hook installed. Stop: both hooks removed, reporters freed; safe when Start
 * did not run. The lab's own steps are phases too: hl_job_progress("score", 0, 0, NULL) marks one's start. */
hl_status hl_run_progress_start(hl_run_state *rs, const bool *sel, const bool *forced);
void hl_run_progress_stop(hl_run_state *rs);
void hl_run_progress_cell_begin(hl_run_state *rs, const hl_cell *c);
void hl_run_progress_cell_end(hl_run_state *rs, const hl_cell *c, hl_progress_outcome outcome);
void hl_run_progress_mark(hl_run_state *rs, const hl_cell *c, hl_progress_outcome outcome);

/* Inner-attack options of a resolved `defence:` map (norm, eps, steps, step_size, random_start), seed given. */
hl_status hl_run_defence_opts(const hl_config *defence, uint64_t seed, hl_defence_opts *o);

/* Attack options of a resolved attack entry (norm, eps, steps, step_size, random_start, targeted), seed given. */
hl_status hl_run_attack_opts(const hl_config *entry, uint64_t seed, hl_attack_opts *o);

/* Result-tree helpers: put a quoted string / an integer / a number (non-finite: null) / a copy, replacing an
 * existing key. */
hl_status hl_run_put_str(hl_config *m, const char *key, const char *v);
hl_status hl_run_put_int(hl_config *m, const char *key, int64_t v);
hl_status hl_run_put_num(hl_config *m, const char *key, double v);
hl_status hl_run_put_clone(hl_config *m, const char *key, const hl_config *v);
hl_status hl_run_put_node(hl_config *m, const char *key, hl_config *v); /* takes ownership */

/* The hasher of train cell c for the run's data (resolved params, the suite's backbone where the class takes one)
 * into *h; its resolved params go to res "hasher_params". */
hl_status hl_cell_make_hasher(hl_run_state *rs, const hl_cell *c, hl_hasher **h, hl_config *res);

/* Cell executors: fill res with hasher_params, queries, database, metrics and timings (status/error are the
 * runner's). Any status < 0 fails the cell (an interrupt too: the runner then writes nothing). */
hl_status hl_cell_run_train(hl_run_state *rs, const hl_cell *c, hl_config *res);
hl_status hl_cell_run_attack(hl_run_state *rs, const hl_cell *c, hl_config *res);
hl_status hl_cell_run_transfer(hl_run_state *rs, const hl_cell *c, hl_config *res);

/* An attack cell's resumable state (lab/cells.c: attack_chunks), removed with CELL/attack_partial/ once it is done. */
#define HL_RUN_ATTACK_STATE "attack_state.safetensors"

/* The attack of n images x into xa in resumable chunks of queries (lab/cells_attack.c: what is saved, and how a run
 * resumes); *t_att: the attack's wall time over every run of the cell. */
hl_status hl_cell_attack_chunks(hl_run_state *rs, const hl_cell *c, const char *dir, hl_attack *a, hl_hasher *h,
                                const float *x, float *xa, int64_t n, const hl_attack_goal *goal, double *t_att);
/* The reference codes of an HL_ATTACK_REFERENCE attack for the queries with labels qlab (lab/cells_attack.c). */
hl_status hl_cell_reference_codes(const hl_attack *a, const hl_labels *qlab, const hl_codes *db,
                                  const hl_labels *dblab, hl_codes *out, hl_config *res);

/* Labelled counts and labelers (lab/cells_labeler.c). The labelled (train) and unlabelled (database \ train) lists
 * of an entry with `labeled` count `labeled` (0: the run's split): the protocol with that train count
 * (hl_split_protocol_with_train; same queries and database), made once per count and kept in rs. */
hl_status hl_run_cell_lists(hl_run_state *rs, int64_t labeled, const hl_index_list **train,
                            const hl_index_list **unlabelled);
void hl_run_cell_lists_free(hl_run_state *rs);
/* Train cell c's fit when its entry has a labeler: the labeler labels some of `unlabelled` (it gets the label-less
 * view and the labels of `train` only), h fits on train ∪ those images with the labeler's labels, and result.json
 * gets "labeler": {method, config, added, accuracy, per_round: [{added, accuracy}], seconds} — accuracy measured here
 * against the hidden labels, after the fit — and fit_on. *nfit: the images h was fitted on. */
hl_status hl_cell_fit_labeler(hl_run_state *rs, const hl_cell *c, hl_hasher *h, hl_config *res,
                              const hl_index_list *train, const hl_index_list *unlabelled, int64_t *nfit);

/* Anchor items per attacked query in artifacts/anchor_indices.npy (DHTA's n_t = 9; an attack's n_t <= this). */
#define HL_RUN_ANCHORS 9

#endif
