/* core/job.h — what long work (a fit, an encoding, an attack) tells the program around it, and what it hears back:
 * progress reports out, stop requests in. The library never installs signal handlers or prints bars itself; the lab
 * (lab/runner.c) installs a progress hook and turns Ctrl-C into hl_job_request_stop().
 *
 * Stop requests. hl_job_request_stop() is async-signal-safe (it sets a sig_atomic_t). Long loops call
 * hl_job_check() at their safe points (between optimizer steps, between attack batches, between encoding batches):
 * it returns HL_EINTR with the message "interrupted" once a stop was requested, HL_OK otherwise. A loop that gets
 * HL_EINTR unwinds like any error, but whatever it already checkpointed stays valid (hashers/fit_state.h): nothing
 * half-done is ever saved as finished.
 *
 * Progress. Work reports phases and counts:
 *     hl_job_progress("fit", e + 1, E, "loss 0.4213");     // after epoch e of E
 *     hl_job_progress("encode", done, n, NULL);             // images encoded so far
 *     hl_job_progress("attack", done, n, NULL);             // queries attacked so far
 * The hook (at most one, process-wide) gets every report; without a hook reports cost a function call. `phase` is a
 * short lower-case word, done <= total (total 0: unknown), detail may be NULL. Reports come from the thread running
 * the work (never from worker threads inside a kernel).
 */
#ifndef HL_CORE_JOB_H
#define HL_CORE_JOB_H

#include "core/common.h"

/* Async-signal-safe. */
void hl_job_request_stop(void);
/* True once a stop was requested and not cleared. */
bool hl_job_stop_requested(void);
/* Forgets a request (a new run starts). */
void hl_job_clear_stop(void);
/* HL_EINTR ("interrupted") once a stop was requested, else HL_OK. */
hl_status hl_job_check(void);

typedef void (*hl_job_progress_fn)(void *user, const char *phase, int64_t done, int64_t total, const char *detail);
/* Installs fn (NULL removes it); returns nothing: the previous hook is replaced. */
void hl_job_set_progress(hl_job_progress_fn fn, void *user);
void hl_job_progress(const char *phase, int64_t done, int64_t total, const char *detail);

#endif
