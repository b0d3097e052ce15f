/* core/job.c — stop requests and the progress hook; see job.h. */
#include "core/job.h"

#include <signal.h>

static volatile sig_atomic_t g_stop;
static hl_job_progress_fn g_fn;
static void *g_user;

void hl_job_request_stop(void) { g_stop = 1; }
bool hl_job_stop_requested(void) { return g_stop != 0; }
void hl_job_clear_stop(void) { g_stop = 0; }

hl_status hl_job_check(void) { return g_stop ? hl_error_set(HL_EINTR, "interrupted") : HL_OK; }

void hl_job_set_progress(hl_job_progress_fn fn, void *user) {
    g_fn = fn;
    g_user = user;
}

void hl_job_progress(const char *phase, int64_t done, int64_t total, const char *detail) {
    if (g_fn) g_fn(g_user, phase, done, total, detail);
}
