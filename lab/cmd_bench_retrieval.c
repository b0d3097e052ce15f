/* lab/cmd_bench_retrieval.c — STUB: replaced by the real command. */
#include <stdio.h>

#include "lab/commands.h"

int hl_cmd_bench_retrieval(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hashlab: not implemented yet\n");
    return 1;
}
