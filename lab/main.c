/* lab/main.c — the hashlab command line. */
#include <stdio.h>
#include <string.h>

#include "core/common.h"

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: hashlab <command> [options]\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "hashlab: unknown command '%s'\n", argv[1]);
    return 2;
}
