/* core/common.h — status codes, errors, assertions and logging shared by all of hashlab.
 *
 * Error model (libgit2's):
 *   - Programming errors (shape mismatch, NULL where forbidden, wrong device) are caught by HL_ASSERT, which prints
 *     the condition, file:line and a message (op asserts print the tensors' shapes) and aborts. It stays on in
 *     release builds.
 *   - Environment and input errors (missing file, corrupt checkpoint, NaN loss, bad YAML) are returned as an
 *     hl_status < 0 with a message set by hl_error_set(); callers read it with hl_error_last(). The CLI prints it
 *     and exits non-zero. Library code never calls exit().
 *
 * Usage:
 *     if (!f) return hl_error_set(HL_EIO, "%s: cannot open: %s", path, strerror(errno));
 */
#ifndef HL_COMMON_H
#define HL_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hl_status {
    HL_OK = 0,
    HL_ERR = -1,         /* unspecified failure */
    HL_ENOMEM = -2,      /* allocation failed */
    HL_EIO = -3,         /* file could not be opened, read, written or renamed */
    HL_EINVAL = -4,      /* invalid argument or configuration value */
    HL_EFORMAT = -5,     /* malformed, truncated or corrupt file */
    HL_ENOTFOUND = -6,   /* named thing (file, tensor, plugin) does not exist */
    HL_EMISMATCH = -7,   /* shapes, names or sizes disagree with what was expected */
    HL_ENUMERIC = -8,    /* NaN or Inf where a finite number was required */
    HL_EDEVICE = -9,     /* requested device unavailable */
    HL_EUNSUPPORTED = -10, /* valid request this build does not support */
    HL_EINTR = -11       /* stopped on request (Ctrl-C: core/job.h) at a safe point; what was finished is kept */
} hl_status;

/* Sets the calling thread's last-error message and returns `code` (so `return hl_error_set(...)` reads well).
 * `code` must be negative. The message is truncated to 8191 bytes (a validation report of 20 problems fits). */
hl_status hl_error_set(hl_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "prefix: " to the current message (adds context while unwinding). Returns the current code. */
hl_status hl_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The calling thread's last error message ("" if none) and code (HL_OK if none). */
const char *hl_error_last(void);
hl_status hl_error_code(void);
void hl_error_clear(void);
/* Short name of a status, e.g. "EFORMAT". */
const char *hl_status_name(hl_status s);

/* Aborts after printing "hashlab: assertion failed at file:line: cond: message". Never returns. */
_Noreturn void hl_abort(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define HL_ASSERT(cond, ...)                                                                                          \
    do {                                                                                                              \
        if (!(cond)) hl_abort(__FILE__, __LINE__, #cond, __VA_ARGS__);                                                \
    } while (0)

/* Logging to stderr. Level from HASHLAB_LOG (error|warn|info|debug), default info. */
typedef enum hl_log_level { HL_LOG_ERROR, HL_LOG_WARN, HL_LOG_INFO, HL_LOG_DEBUG, HL_LOG_LEVEL_COUNT } hl_log_level;
void hl_msg(hl_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hl_msg_set_level(hl_log_level lvl);
/* A hook around every line hl_msg prints (and before hl_abort's message): fn(user, true) just before the line is
 * written to stderr, fn(user, false) just after, so a program drawing live lines on stderr (lab/progress.h) can erase
 * and redraw them. At most one, process-wide; NULL removes it. Not thread-safe: install it while no work runs. */
typedef void (*hl_msg_hook_fn)(void *user, bool before);
void hl_msg_set_hook(hl_msg_hook_fn fn, void *user);
/* Logs once per call site (the flag is the caller's static). */
#define hl_msg_once(lvl, ...)                                                                                         \
    do {                                                                                                              \
        static int hl__once_;                                                                                         \
        if (!hl__once_) { hl__once_ = 1; hl_msg(lvl, __VA_ARGS__); }                                                  \
    } while (0)

#define HL_PI 3.14159265358979323846
#define HL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define HL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Propagate a failing status: HL_TRY(expr) sets `st` and jumps to `done`. */
#define HL_TRY(expr)                                                                                                  \
    do {                                                                                                              \
        st = (expr);                                                                                                  \
        if (st < 0) goto done;                                                                                        \
    } while (0)

/* Threads: sets OpenMP and the BLAS to n threads (n <= 0: number of online cores). HASHLAB_THREADS is read by
 * hl_threads_init(). Returns the count in effect. */
int hl_threads_set(int n);
int hl_threads_get(void);
int hl_threads_init(void);

/* Wall-clock seconds (monotonic). */
double hl_time_s(void);

#endif
