/* lab/runner.h — `hashlab run`: executes a suite's cells into a run directory (layout: reports/report.h).
 *
 *     hl_run_opts o;  hl_run_opts_default(&o);  o.suite_path = "suites/quick.yaml";
 *     hl_run_summary sum;
 *     hl_status st = hl_run_suite(&o, &sum);   // < 0: the run could not start (bad suite, data, lock, ...)
 *
 * Order of work:
 *   1. plugins (HASHLAB_PLUGIN_PATH), the suite with its overrides (opts.overrides, lab/overrides.h), the suite's
 *      `plugins:`, then one validation pass over the suite's keys and every hasher and attack entry (class exists,
 *      params valid against its schema, attack options accepted) — every problem reported at once as FILE:LINE:COL
 *      lines (an override's as "<override N 'TEXT'>:1:COL") before anything trains (HL_EINVAL, nothing written);
 *   2. the dataset (by name, data_root first; or synthetic; a missing CIFAR-10/100 fetched when opts.fetch and not a
 *      dry run, else refused with the exact commands that get it: lab/run_data.h) and the split (protocol,
 *      split_seed), its hash into the
 *      cell keys (hl_suite_expand); the selection: --shard, then --only (an attack cell selected pulls in its train
 *      cell);
 *   3. dry run: prints the plan (label, kind, key prefix, state) to opts.out and stops — nothing is written;
 *   4. otherwise the run directory (opts.output, else the suite's `output`, else runs/<name>) is opened and locked,
 *      suite.yaml (the file as given), suite.resolved.json (with the overrides, if any, listed under "overrides"),
 *      overrides.txt (only with overrides), split/manifest.json and artifacts/attack_queries.npy written, and each
 *      selected cell that is not done runs in expansion order (train cells first). Done cells are skipped; failed
 *      and missing ones run (again); a cell whose result.json is invalid (lab/store.h, reports/result.h) has it set
 *      aside as result.json.bad, with a warning naming the reason, and runs again.
 * Train cell: hasher created (bits, seed), fit on split.train, database and queries encoded, model.safetensors,
 * db_codes.npy and query_codes.npy saved, scored with the suite's metrics conventions (hl_retrieval_eval; also the
 * PR curve by radius, "pr_radius", and per-query AP in per_query.csv), then result.json. Attack cell: the train cell's model is loaded, the first min(#queries, 500) queries
 * (artifacts/attack_queries.npy, positions in the query list) are attacked with the attack entry's threat model
 * and options (attack seed = the cell's training seed), the adversarial images quantised to 8 bits, encoded and
 * scored (mAP@R on adversarial and clean codes of the same subset, P/R@H<=r, perceptibility, seconds_per_query),
 * adv_images.npy (all adversarial images, uint8), adv_codes.npy, per_query.csv and adv_examples.png (first 8
 * examples, perturbation ×10) saved, then result.json. Non-finite numbers (an SSIM of
 * images under 11×11, a PSNR of identical images) are written as null.
 * A failing cell writes result.json with "status": "failed" and "error", is logged, and the run continues (stops
 * with fail_fast); when even result.json cannot be written, the reason is logged and printed. Targeted attacks are refused in validation (not supported by the runner yet).
 * Interruption: hl_run_request_stop() (what cmd_run's SIGINT/SIGTERM handler calls; core/job.h) makes the work stop
 * at its next safe point — between optimizer steps of a fit, between attack and encoding batches, between the steps
 * of a cell — without writing the current cell's result.json (a cell that finished is recorded). A deep hasher's or
 * a fitted attack's fit saves its whole training state after every epoch (train cell: CELL/fit_state.safetensors,
 * removed once the cell is done; ProS-GAN: TRAIN_CELL/attack_fits/<name>.fit_state.safetensors), so the next run
 * resumes the fit from its last finished epoch, bit for bit. An attack cell saves its adversarial images and the
 * attack's accumulators every 64 queries (CELL/attack_partial/, CELL/attack_state.safetensors; lab/cells.c) and
 * resumes after the last saved chunk. summary.interrupted is set, the summary says which
 * cell stopped and what it kept, and hl_run_suite returns HL_OK. A second SIGINT/SIGTERM exits at once (130/143):
 * every file that marks work as done is written atomically, so nothing half-written is taken as done.
 * Progress (lab/run_progress.c, rendered by lab/progress.h's hl_suite_progress): on stderr (opts.progress; a terminal
 * gets two self-overwriting lines, anything else plain lines) and, plain, in RUNDIR/log.txt: "cell i/N (done d,
 * failed f, skipped s) · suite ETA h:mm:ss" over the selected cells, and the running cell's phase — the library's
 * core/job.h reports (fit epochs with the loss, encoded images, attacked queries) and the lab's own steps (save,
 * score, sanity) — with the phase's own rate and ETA. Plain lines at most every 10 s and one per finished cell (with
 * the time per phase). The suite ETA comes from measured costs: finished cells of the same kind and method (this
 * run's, and the timings in the run directory's result.json files; each cell's timings.total_s is its wall clock),
 * "?" while some cell to run has none. The hl_msg lines erase and redraw the terminal lines (hl_msg_set_hook).
 * At the end, hl_report_build(RUNDIR) (HL_EUNSUPPORTED is only a warning); its status is summary.report_status.
 *
 * TEST-ONLY hook: when the environment variable HASHLAB_TEST_KILL_AFTER=k (k >= 1) is set, the runner raises
 * SIGKILL right after the k-th cell it executes has written its result.json (to test resuming after a crash);
 * with HASHLAB_TEST_KILL_SIGNAL=INT as well it raises SIGINT instead (to test the clean stop). With
 * HASHLAB_TEST_STOP_DELAY_MS=t, a cell stopped by a stop request waits t ms before the runner unwinds (so that a test
 * can deliver the second Ctrl-C deterministically). With HASHLAB_TEST_STOP_AFTER_CHUNK=k, an attack cell requests a
 * stop right after saving its k-th chunk of queries (to test resuming an attack cell).
 * TEST-ONLY hook: HASHLAB_TEST_PROGRESS_EVERY=S sets the interval of the plain progress lines to S seconds instead of
 * 10 (0: a line at every phase report), so a test sees them without waiting.
 */
#ifndef HL_LAB_RUNNER_H
#define HL_LAB_RUNNER_H

#include <stdio.h>

#include "lab/progress.h"

struct hl_overrides;

typedef struct hl_run_opts {
    const char *suite_path;       /* required */
    const struct hl_overrides *overrides; /* --set-file fragments and PATH=VALUE overrides (NULL: none) */
    const char *output;           /* run directory override (NULL: suite's output, else runs/<name>) */
    const char *only;             /* fnmatch pattern over cell labels (NULL: all) */
    const char *force;            /* fnmatch pattern: matching cells (and the cells that depend on them) run again
                                   * even when done; their old result.json is kept as result.json.forced */
    int shard_index, shard_count; /* shard_count 0: no sharding */
    bool dry_run, fail_fast;
    bool fetch;                   /* a missing dataset hashlab can download is fetched (never in a dry run);
                                   * `hashlab run --fetch` or HASHLAB_FETCH=1 (lab/cmd_run.c) */
    int threads;                  /* < 0: the suite's `threads` */
    hl_progress_mode progress;    /* default NORMAL */
    FILE *out;                    /* plan and summary lines (default stdout; NULL-safe) */
} hl_run_opts;

typedef struct hl_run_summary {
    char rundir[1024];
    int64_t cells;       /* in the suite */
    int64_t selected;    /* after --shard / --only */
    int64_t skipped;     /* selected and already done */
    int64_t waiting;     /* transfer cells whose source attack or target model is not done (other shards) */
    int64_t ran;         /* executed in this run (done + failed) */
    int64_t failed;      /* of those, failed */
    int64_t invalid;     /* selected cells whose result.json was invalid: set aside as result.json.bad, run again */
    bool interrupted;
    hl_status report_status; /* hl_report_build's status (HL_OK when not run: dry run / interrupted) */
} hl_run_summary;

void hl_run_opts_default(hl_run_opts *o);

/* Runs (or plans) the suite as described above. Returns < 0 when the run cannot start or a run-wide step fails
 * (a failed cell is not such an error: see summary.failed). */
hl_status hl_run_suite(const hl_run_opts *o, hl_run_summary *out);

/* Async-signal-safe: asks the running suite to stop. hl_run_suite clears the request when it starts. */
void hl_run_request_stop(void);
/* Installs SIGINT/SIGTERM handlers calling hl_run_request_stop. */
void hl_run_install_signals(void);

#endif
