/* lab/progress.h — progress reporting for long work (training epochs, attack batches, evaluation).
 *
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

typedef enum hl_progress_mode { HL_PROGRESS_QUIET, HL_PROGRESS_NORMAL, HL_PROGRESS_VERBOSE, HL_PROGRESS_MODE_COUNT } hl_progress_mode;

typedef struct hl_progress_opts {
    FILE *out;                /* default stderr */
    int tty;                  /* -1: detect with isatty(fileno(out)); 0 plain lines; 1 terminal bar */
    hl_progress_mode mode;    /* default NORMAL */
    double redraw_s;          /* terminal redraw interval (default 0.1) */
    double log_every_s;       /* plain-line interval (default 10) */
    double (*clock)(void);    /* seconds, monotonic (default hl_time_s) */
    int width;                /* bar width in characters (default 20) */
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

#endif
