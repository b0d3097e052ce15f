/* lab/cli.c — option parsing helpers shared by the subcommands (lab/commands.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lab/commands.h"

long long hl_cli_parse_int(const char *opt, const char *val, long long lo, long long hi) {
    char *end = NULL;
    errno = 0;
    long long v = val ? strtoll(val, &end, 10) : 0;
    if (!val || *val == 0 || *end != 0 || errno == ERANGE || v < lo || v > hi) { /* ERANGE: strtoll clamped it */
        fprintf(stderr, "hashlab: %s needs an integer in [%lld, %lld], got '%s'\n", opt, lo, hi, val ? val : "");
        return -1;
    }
    return v;
}
