/* lab/progress.h — progress reporting: a generic task (hl_progress) and a run of a suite's cells with named phases
 * inside each cell (hl_suite_progress, what `hashlab run` shows).
 *
 * ---- A task (hl_progress) ----
 * On a terminal: one self-overwriting line per task,
 *     train adsh/32b seed 0  [#########-----------]  45%  450/1000 batches  118.2/s  ETA 0:04
 * redrawn at most `redraw_s` apart (default 0.1 s). Elsewhere (a log file, CI, a pipe): plain lines
 *     [progress] train adsh/32b seed 0: 450/1000 batches (45%), 118.2/s, ETA 0:04
 * at most every `log_every_s` seconds (default 10 s) and once at the end, so logs stay short but show liveness.
 * Verbosity: HL_PROGRESS_QUIET prints nothing but the final line of each task, HL_PROGRESS_VERBOSE logs plain lines
 * every time it would redraw. A task with total 0 (unknown) shows the count and rate without a bar or ETA.
 *
 * The clock is injectable (hl_progress_opts.clock) so tests are deterministic; output goes to any FILE*.
 * Not thread-safe: one reporter per thread, or serialise calls.
 */
#ifndef HL_LAB_PROGRESS_H
#define HL_LAB_PROGRESS_H

#include <stdio.h>

#include "core/common.h"
#include "lab/suite.h"

typedef enum hl_progress_mode { HL_PROGRESS_QUIET, HL_PROGRESS_NORMAL, HL_PROGRESS_VERBOSE, HL_PROGRESS_MODE_COUNT } hl_progress_mode;

typedef struct hl_progress_opts {
    FILE *out;                /* default stderr */
    int tty;                  /* -1: detect with isatty(fileno(out)); 0 plain lines; 1 terminal bar */
    hl_progress_mode mode;    /* default NORMAL */
    double redraw_s;          /* terminal redraw interval (default 0.1) */
    double log_every_s;       /* plain-line interval (default 10) */
    double (*clock)(void);    /* seconds, monotonic (default hl_time_s) */
    int width;                /* bar width in characters (default 20) */
    int columns;              /* terminal width: hl_suite_progress cuts its live lines to columns - 1 (0: the
                               * terminal's, else $COLUMNS, else 80) */
} hl_progress_opts;

typedef struct hl_progress {
    hl_progress_opts o;
    char label[128], unit[32];
    int64_t done, total;
    double t_start, t_last_draw;
    bool active;
} hl_progress;

/* Fills defaults for zeroed fields (tty = -1 means detect). */
void hl_progress_defaults(hl_progress_opts *o);
/* Starts a task: `label` (e.g. "train adsh/32b seed 0"), total units (0 = unknown), unit name ("batches"). */
void hl_progress_begin(hl_progress *p, const hl_progress_opts *o, const char *label, int64_t total, const char *unit);
/* Sets the count of finished units (monotone); redraws or logs when due. */
void hl_progress_update(hl_progress *p, int64_t done);
/* Finishes the task with a final line ("done in 12.3 s, 81.2/s"); `ok` false reports it as failed. */
void hl_progress_end(hl_progress *p, bool ok);

/* "1:02:03", "4:05" (h:mm:ss or m:ss) into buf; negative or non-finite -> "?". */
char *hl_progress_format_duration(double seconds, char *buf, size_t n);

/* ---- A run of a suite (hl_suite_progress) -------------------------------------------------------------------------
 * The runner (lab/run_progress.c) declares the selected cells (their kind and cost group), feeds in the costs the
 * store already knows, then reports each cell as it begins, its phases (core/job.h reports, passed on as they come)
 * and its end; cells that do not run are marked.
 *
 * On a terminal, while a cell runs, two self-overwriting lines:
 *     cell 3/16 (done 1, failed 0, skipped 1) · suite ETA 0:12:40
 *     train dpsh/32b/seed0 · fit epoch 3/8 loss 0.4213 · ETA 0:41
 * redrawn at most redraw_s apart (and at every phase change), cut to the terminal's width, erased when the cell ends
 * (then one permanent line for the cell) and around every hl_msg line (hl_suite_progress_clear / _redraw).
 * Elsewhere (a pipe, CI, log.txt) a plain line at most every log_every_s, at the next phase report:
 *     [progress] cell 3/16 train dpsh/32b/seed0: encode 12000/64000 images (18%), 1510/s, ETA 0:28; suite ETA 0:12:40
 * and one line per finished cell, with the time spent in each phase:
 *     [progress] cell 3/16 train dpsh/32b/seed0: done in 41.2s (fit 30.1s, encode 9.0s, save 0.1s, score 2.0s);
 *     done 2, failed 0, skipped 1; suite ETA 0:12:40                                  (one line)
 * QUIET: only the per-cell lines. VERBOSE, not on a terminal: a plain line also at every phase change and every
 * redraw_s.
 *
 * Phases. A cell starts in "setup". A report with done 0 is a marker: the lab's own steps ("fit", "encode", "save",
 * "score", "sanity") begin now. Otherwise a report of the current phase updates it, unless its count goes back or its
 * total changes: then a new phase of that name begins (the second of two encodings). A report of another phase
 * begins that phase, unless the current one is unfinished — counted with done < total, or a lab step begun by a
 * marker — when it is nested work (the encoding inside an ensemble attack's batch, the sanity checks' attacks) and
 * leaves the current phase as it is. A phase begun by a report (not a marker) began at the previous report, so its
 * first batch is timed. Rate and ETA are the current phase's only, and restart with every new phase: the rate is the
 * count since its first report over the time since then (a resumed fit's first report counts epochs of an earlier
 * run), after a single report done / seconds since the phase began; ETA = what is left at that rate ("?" before the
 * first count).
 *
 * Suite ETA: the running cell's estimate minus its elapsed time (at least 0) plus the estimates of the selected cells
 * not reached yet (skipped and waiting cells cost nothing). A cell's estimate is the mean seconds of the finished
 * cells of its kind and cost group (this run's, and the store's through hl_suite_progress_add_cost), else the mean
 * of its kind, else unknown: "suite ETA ?", with "(H:MM:SS + N untimed cells)" when some cells have estimates.
 * Failed cells are no cost samples.
 */

typedef enum hl_progress_outcome {
    HL_PROGRESS_DONE,        /* ran and finished: a cost sample */
    HL_PROGRESS_FAILED,      /* ran and failed, or could not run */
    HL_PROGRESS_INTERRUPTED, /* stopped by a stop request (not counted) */
    HL_PROGRESS_SKIPPED,     /* already done: not run */
    HL_PROGRESS_WAITING,     /* a transfer cell whose inputs are not done: not run */
    HL_PROGRESS_OUTCOME_COUNT
} hl_progress_outcome;

typedef struct hl_suite_progress_cell {
    hl_cell_kind kind;
    int64_t group;  /* index into groups, −1: none */
    int state;      /* internal */
} hl_suite_progress_cell;

typedef struct hl_suite_progress_group {
    hl_cell_kind kind;
    char name[112];
    int64_t n;
    double seconds;
} hl_suite_progress_group;

#define HL_SUITE_PROGRESS_SPENT 10

typedef struct hl_suite_progress {
    hl_progress_opts o;
    int64_t ncells;
    hl_suite_progress_cell *cells;  /* [ncells] */
    hl_suite_progress_group *groups;
    int64_t ngroups, cap_groups;
    int64_t kind_n[HL_CELL_KIND_COUNT];
    double kind_s[HL_CELL_KIND_COUNT];
    int64_t n_done, n_failed, n_skipped, n_waiting;
    int64_t cur;                    /* the running cell, −1: none */
    char label[300];
    double t_cell, t_event, t_draw, t_line;
    char phase[32], detail[96];
    int64_t done, total;
    bool marker;                    /* the current phase was begun by a marker */
    double t_phase;                 /* when it began */
    int64_t reports, done_first;    /* its counted reports; the count of the first */
    double t_first;                 /* the time of the first */
    struct { char name[32]; double s; } spent[HL_SUITE_PROGRESS_SPENT];
    int nspent;
    int drawn;                      /* terminal lines on screen (0 or 2) */
} hl_suite_progress;

/* ncells selected cells, positions 0..ncells-1 in the order they will be reached. HL_ENOMEM. */
hl_status hl_suite_progress_init(hl_suite_progress *p, const hl_progress_opts *o, int64_t ncells);
void hl_suite_progress_free(hl_suite_progress *p); /* erases its terminal lines; safe on a zeroed struct */
/* Declares cell i: its kind, its cost group (NULL: none) and whether it will run (false: already done). HL_ENOMEM. */
hl_status hl_suite_progress_set_cell(hl_suite_progress *p, int64_t i, hl_cell_kind kind, const char *group,
                                     bool will_run);
/* A cost sample from elsewhere (a finished cell's result.json): a cell of this kind and group took seconds. */
hl_status hl_suite_progress_add_cost(hl_suite_progress *p, hl_cell_kind kind, const char *group, double seconds);
/* Cell i begins; label e.g. "train dpsh/32b/seed0". */
void hl_suite_progress_cell_begin(hl_suite_progress *p, int64_t i, const char *label);
/* A phase report of the running cell (core/job.h's arguments; ignored when no cell runs). */
void hl_suite_progress_phase(hl_suite_progress *p, const char *phase, int64_t done, int64_t total,
                             const char *detail);
/* The running cell ends (DONE, FAILED or INTERRUPTED): its line, always (QUIET too). */
void hl_suite_progress_cell_end(hl_suite_progress *p, hl_progress_outcome outcome);
/* Cell i does not run (SKIPPED, WAITING or FAILED): counted, nothing printed. */
void hl_suite_progress_mark(hl_suite_progress *p, int64_t i, hl_progress_outcome outcome);
/* Terminal: erase the live lines before someone else writes to the stream / draw them again after. */
void hl_suite_progress_clear(hl_suite_progress *p);
void hl_suite_progress_redraw(hl_suite_progress *p);
/* Someone else wrote over the live lines (a signal handler's message): draw fresh ones below, erase nothing. */
void hl_suite_progress_forget(hl_suite_progress *p);
/* Estimated seconds of one cell of this kind and group, < 0: unknown. */
double hl_suite_progress_estimate(const hl_suite_progress *p, hl_cell_kind kind, const char *group);
/* Seconds left in the suite, < 0: unknown (some cell has no estimate). */
double hl_suite_progress_eta(const hl_suite_progress *p);

#endif
