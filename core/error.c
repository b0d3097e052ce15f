/* core/error.c — thread-local last error, abort with context, logging. */
#include "core/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local char hl__err_msg[8192]; /* room for a report of HL_CONFIG_MAX_ERRORS problems */
static _Thread_local hl_status hl__err_code;

hl_status hl_error_set(hl_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hl__err_msg, sizeof hl__err_msg, fmt, ap);
    va_end(ap);
    hl__err_code = code < 0 ? code : HL_ERR;
    return hl__err_code;
}

hl_status hl_error_wrap(const char *fmt, ...) {
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(prefix, sizeof prefix - 2, fmt, ap);
    va_end(ap);
    size_t plen = k < 0 ? 0 : HL_MIN((size_t)k, sizeof prefix - 3);
    memcpy(prefix + plen, ": ", 3);
    plen += 2;
    size_t old = strnlen(hl__err_msg, sizeof hl__err_msg - 1);
    if (plen + old >= sizeof hl__err_msg) old = sizeof hl__err_msg - 1 - plen;
    memmove(hl__err_msg + plen, hl__err_msg, old);
    memcpy(hl__err_msg, prefix, plen);
    hl__err_msg[plen + old] = 0;
    if (hl__err_code == HL_OK) hl__err_code = HL_ERR;
    return hl__err_code;
}

const char *hl_error_last(void) { return hl__err_msg; }
hl_status hl_error_code(void) { return hl__err_code; }
void hl_error_clear(void) {
    hl__err_msg[0] = 0;
    hl__err_code = HL_OK;
}

const char *hl_status_name(hl_status s) {
    switch (s) {
    case HL_OK: return "OK";
    case HL_ERR: return "ERR";
    case HL_ENOMEM: return "ENOMEM";
    case HL_EIO: return "EIO";
    case HL_EINVAL: return "EINVAL";
    case HL_EFORMAT: return "EFORMAT";
    case HL_ENOTFOUND: return "ENOTFOUND";
    case HL_EMISMATCH: return "EMISMATCH";
    case HL_ENUMERIC: return "ENUMERIC";
    case HL_EDEVICE: return "EDEVICE";
    case HL_EUNSUPPORTED: return "EUNSUPPORTED";
    case HL_EINTR: return "EINTR";
    }
    return "?";
}

static hl_msg_hook_fn hl__msg_hook;
static void *hl__msg_hook_user;

void hl_msg_set_hook(hl_msg_hook_fn fn, void *user) {
    hl__msg_hook = fn;
    hl__msg_hook_user = user;
}

void hl_abort(const char *file, int line, const char *cond, const char *fmt, ...) {
    if (hl__msg_hook) hl__msg_hook(hl__msg_hook_user, true);
    fprintf(stderr, "hashlab: assertion failed at %s:%d: %s: ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static int hl__log_level = -1;
static const char *const hl__log_names[HL_LOG_LEVEL_COUNT] = {"error", "warn", "info", "debug"};
_Static_assert(HL_ARRAY_LEN(hl__log_names) == HL_LOG_LEVEL_COUNT, "log level names");

void hl_msg_set_level(hl_log_level lvl) { hl__log_level = (int)lvl; }

void hl_msg(hl_log_level lvl, const char *fmt, ...) {
    if (hl__log_level < 0) {
        hl__log_level = HL_LOG_INFO;
        const char *env = getenv("HASHLAB_LOG");
        for (int i = 0; env && i < HL_LOG_LEVEL_COUNT; i++)
            if (strcmp(env, hl__log_names[i]) == 0) hl__log_level = i;
    }
    if ((int)lvl > hl__log_level) return;
    if (hl__msg_hook) hl__msg_hook(hl__msg_hook_user, true);
    fprintf(stderr, "[%s] ", hl__log_names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (hl__msg_hook) hl__msg_hook(hl__msg_hook_user, false);
}

double hl_time_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
