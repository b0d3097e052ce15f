/* tests/common/test_cli.h — runs a hashlab subcommand function (lab/commands.h) in-process on a NULL-terminated
 * argument list, with stdout and stderr captured into buffers (header-only, static). */
#ifndef HL_TEST_CLI_H
#define HL_TEST_CLI_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test_common.h"

static char cli_out[16384], cli_err[16384];

static inline void cli_slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

/* fn(argc, argv) with argv = the arguments up to NULL; returns its exit code; output in cli_out / cli_err. */
static inline int cli_run(int (*fn)(int, char **), const char *first, ...) {
    static char dir[1100];
    if (!dir[0]) snprintf(dir, sizeof dir, "%s", hl_test_tmpdir());
    char *argv[96], po[1200], pe[1200];
    int argc = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        cr_assert(argc < 96, "too many arguments");
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    snprintf(po, sizeof po, "%s/stdout.txt", dir);
    snprintf(pe, sizeof pe, "%s/stderr.txt", dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(fo), close(fe), close(so), close(se);
    cli_slurp(po, cli_out, sizeof cli_out);
    cli_slurp(pe, cli_err, sizeof cli_err);
    return rc;
}

#endif
