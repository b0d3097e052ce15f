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
#include "reports/result.h"

static const char status_usage[] = "usage: hashlab status RUNDIR\n"
                                   "  lists every cell (state done/failed/pending/invalid, kind, key prefix, label) and totals\n";

/* "  FLAGS: a, b" from a done cell's result.json "sanity.flags" (attack cells), or nothing. */
static void sanity_flags(const char *dir, const hl_cell *c, char *out, size_t n, int64_t *nflagged) {
    char p[1200];
    hl_result r;
    snprintf(p, sizeof p, "%s/cells/%s/result.json", dir, c->key);
    if (hl_result_read(p, c->key, hl_cell_kind_name(c->kind), &r) < 0) {
        hl_error_clear();
        return;
    }
    const hl_config *f = hl_config_path(r.root, "sanity.flags");
    size_t k = 0;
    for (int64_t i = 0; f && f->kind == HL_CONFIG_SEQ && i < hl_config_len(f) && k < n; i++) {
        const hl_config *e = hl_config_at(f, i);
        if (e->kind != HL_CONFIG_SCALAR) continue;
        k += (size_t)snprintf(out + k, n - k, "%s%s", k ? ", " : "  FLAGS: ", e->text);
    }
    if (k) (*nflagged)++;
    hl_result_free(&r);
}

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
    int64_t n = 0, count[HL_CELL_STATE_COUNT] = {0}, nflagged = 0;
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
        char flags[256] = "";
        if (cs == HL_CELL_STATE_DONE) sanity_flags(dir, &cells[i], flags, sizeof flags, &nflagged);
        printf("%-8s %-8s %.12s  %s%s%s%s\n", hl_cell_state_name(cs), hl_cell_kind_name(cells[i].kind), cells[i].key,
               cells[i].label, err ? (cs == HL_CELL_STATE_INVALID ? "  invalid: " : "  error: ") : "", err ? err : "",
               flags);
        free(err);
    }
    printf("%lld cells: %lld done, %lld failed, %lld pending", (long long)n, (long long)count[HL_CELL_STATE_DONE],
           (long long)count[HL_CELL_STATE_FAILED], (long long)count[HL_CELL_STATE_PENDING]);
    if (nflagged) printf(", %lld with sanity flags (warnings: see result.json's \"sanity\")", (long long)nflagged);
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
