/* lab/cmd_data.c — STUB: replaced by the real command. */
#include <stdio.h>

#include "lab/commands.h"

int hl_cmd_data(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hashlab: not implemented yet\n");
    return 1;
}
