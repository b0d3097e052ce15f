/* lab/cmd_status.c — `hashlab status RUNDIR`: every cell of RUNDIR/suite.yaml with its state, and totals. The grid
 * comes from the copied suite and the split hash from RUNDIR/split/manifest.json (nothing is loaded or run).
 * Exit 0 when readable (whatever the states), 1 when RUNDIR is not a run directory, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/plugin.h"
#include "lab/commands.h"
#include "lab/store.h"
#include "lab/suite.h"

static const char status_usage[] = "usage: hashlab status RUNDIR\n"
                                   "  lists every cell (state done/failed/pending/invalid, kind, key prefix, label) and totals\n";

int hl_cmd_status(int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') {
        bool help = argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"));
        fprintf(help ? stdout : stderr, "%s", status_usage);
        return help ? 0 : 2;
    }
    const char *dir = argv[0];
    char p[1200];
    hl_suite *s = NULL;
    hl_config *man = NULL;
    hl_cell *cells = NULL;
    int64_t n = 0, count[HL_CELL_STATE_COUNT] = {0};
    int rc = 1;
    snprintf(p, sizeof p, "%s/suite.yaml", dir);
    if (hl_suite_load(&s, p) < 0) goto done;
    snprintf(p, sizeof p, "%s/split/manifest.json", dir);
    if (hl_store_read_json(p, &man) < 0) goto done;
    const hl_config *h = hl_config_path(man, "sha256.split");
    if (!h || h->kind != HL_CONFIG_SCALAR) {
        hl_error_set(HL_EFORMAT, "%s: no sha256.split", p);
        goto done;
    }
    if (hl_suite_expand(s, h->text, &cells, &n) < 0) goto done;
    for (int64_t i = 0; i < n; i++) {
        char *err = NULL;
        hl_cell_state cs = hl_store_cell_state(dir, cells[i].key, hl_cell_kind_name(cells[i].kind), &err);
        count[cs]++;
        printf("%-8s %-8s %.12s  %s%s%s\n", hl_cell_state_name(cs), hl_cell_kind_name(cells[i].kind), cells[i].key,
               cells[i].label, err ? (cs == HL_CELL_STATE_INVALID ? "  invalid: " : "  error: ") : "", err ? err : "");
        free(err);
    }
    printf("%lld cells: %lld done, %lld failed, %lld pending", (long long)n, (long long)count[HL_CELL_STATE_DONE],
           (long long)count[HL_CELL_STATE_FAILED], (long long)count[HL_CELL_STATE_PENDING]);
    if (count[HL_CELL_STATE_INVALID])
        printf(", %lld invalid (hashlab run sets them aside and runs them again)",
               (long long)count[HL_CELL_STATE_INVALID]);
    printf("\n");
    rc = 0;
done:
    if (rc) fprintf(stderr, "hashlab status: %s\n", hl_error_last());
    free(cells);
    hl_config_free(man);
    hl_suite_free(s);
    return rc;
}
