/* lab/cmd_status.c — `hashlab status RUNDIR | SUITE.yaml [overrides]`: every cell of a grid with its state, and
 * totals. RUNDIR: the grid recorded there (RUNDIR/suite.yaml with RUNDIR/overrides.txt, lab/overrides.h). SUITE.yaml
 * with its --set-file/PATH=VALUE overrides: the grid `hashlab run` with the same arguments runs, in its run directory.
 * The split hash comes from RUNDIR/split/manifest.json (nothing is loaded or run). Exit 0 when readable (whatever the
 * states), 1 when RUNDIR is not a run directory or the suite is invalid, 2 on bad usage. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/commands.h"
#include "lab/overrides.h"
#include "lab/plugin.h"
#include "lab/store.h"
#include "lab/suite.h"
#include "reports/result.h"
#include "reports/sanity.h"

static const char status_usage[] =
    "usage: hashlab status RUNDIR | SUITE.yaml [--set-file FRAGMENT.yaml]... [PATH=VALUE]...\n"
    "  lists every cell (state done/failed/pending/invalid, kind, key prefix, label) and totals\n"
    "  RUNDIR: the grid of the last run there (its suite.yaml and overrides.txt)\n"
    "  SUITE.yaml: the grid `hashlab run SUITE.yaml` with the same overrides runs, in its run directory\n";

/* A note when the suite's split settings are not those of the run in dir: its cells' keys need that run's split. */
static void note_split(const hl_suite *s, const char *dir) {
    char p[1300];
    hl_config *rec = NULL;
    snprintf(p, sizeof p, "%s/suite.resolved.json", dir);
    if (hl_store_read_json(p, &rec) < 0) {
        hl_error_clear();
        return;
    }
    static const char *const keys[] = {"dataset", "synthetic", "protocol", "split_seed"};
    bool same = true;
    for (int k = 0; k < 4 && same; k++) {
        char *a = NULL, *b = NULL;
        const hl_config *x = hl_config_get(s->resolved, keys[k]), *y = hl_config_get(rec, keys[k]);
        if (k == 1 && strcmp(s->dataset, "synthetic")) continue;
        same = x && y && hl_config_canonical_json(x, &a) == HL_OK && hl_config_canonical_json(y, &b) == HL_OK &&
               !strcmp(a, b);
        free(a), free(b);
    }
    hl_error_clear();
    if (!same)
        fprintf(stderr, "note: the suite's data or split (dataset, synthetic, protocol, split_seed) is not the one of "
                        "the run in %s: the keys below use that run's split, so no cell shows as done\n", dir);
    hl_config_free(rec);
}

static int status_main(int argc, char **argv, const char **files, const char **items) {
    const char *dir = NULL;
    hl_overrides ov = {.set_files = files, .items = items};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s", status_usage);
            return 0;
        } else if (!strcmp(a, "--set-file")) {
            if (i + 1 == argc) {
                fprintf(stderr, "hashlab status: --set-file needs a value\n%s", status_usage);
                return 2;
            }
            files[ov.nset_files++] = argv[++i];
        } else if (a[0] == '-' || (dir && !strchr(a, '='))) {
            fprintf(stderr, "hashlab status: %s '%s'\n%s", a[0] == '-' ? "unknown option" : "unexpected argument", a,
                    status_usage);
            return 2;
        } else if (dir) {
            items[ov.nitems++] = a;
        } else {
            dir = a;
        }
    }
    if (!dir) {
        fprintf(stderr, "%s", status_usage);
        return 2;
    }
    char p[1300], outdir[1200];
    hl_suite *s = NULL;
    /* a suite file instead of a run directory: the suite's output directory (where `hashlab run` put it) */
    struct stat sb;
    if (stat(dir, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (hl_overrides_load_suite(&s, dir, &ov, NULL) < 0) {
            if (hl_overrides_empty(&ov))
                fprintf(stderr, "hashlab status: %s is a file, not a run directory, and not a suite: %s\n", dir,
                        hl_error_last());
            else
                fprintf(stderr, "hashlab status: %s\n", hl_error_last());
            return 1;
        }
        if (s->output) snprintf(outdir, sizeof outdir, "%s", s->output);
        else snprintf(outdir, sizeof outdir, "runs/%s", s->name); /* as `hashlab run` names it */
        dir = outdir;
        snprintf(p, sizeof p, "%s/suite.yaml", dir);
        if (access(p, F_OK) != 0) {
            fprintf(stderr, "hashlab status: %s: no run there yet (hashlab run writes %s)\n", dir, p);
            hl_suite_free(s);
            return 1;
        }
        note_split(s, dir);
    } else if (!hl_overrides_empty(&ov)) {
        fprintf(stderr, "hashlab status: overrides go with SUITE.yaml; %s is a run directory, whose grid is the one "
                        "recorded there (suite.yaml and overrides.txt)\n%s", dir, status_usage);
        return 2;
    }
    hl_config *man = NULL;
    hl_cell *cells = NULL;
    int64_t n = 0, count[HL_CELL_STATE_COUNT] = {0}, nflagged = 0;
    int rc = 1;
    if (!s && hl_overrides_load_rundir(&s, dir) < 0) goto done;
    /* the run's plugins: their content is part of the keys of the cells they compute */
    if (hl_plugins_load_env() < 0 || hl_plugins_load_list(dir) < 0) goto done;
    snprintf(p, sizeof p, "%s/split/manifest.json", dir);
    if (hl_store_read_json(p, &man) < 0) goto done;
    const hl_config *h = hl_config_path(man, "sha256.split");
    if (!h || h->kind != HL_CONFIG_SCALAR) {
        hl_error_set(HL_EFORMAT, "%s: no sha256.split", p);
        goto done;
    }
    if (hl_suite_expand(s, h->text, &cells, &n) < 0) goto done;
    /* pass 1: states, and the facts of done attack cells for the checks across cells (reports/sanity.h) */
    hl_cell_state *state = calloc((size_t)HL_MAX(n, 1), sizeof *state);
    char **errs = calloc((size_t)HL_MAX(n, 1), sizeof *errs);
    hl_result *res = calloc((size_t)HL_MAX(n, 1), sizeof *res);
    hl_sanity_fact *facts = calloc((size_t)HL_MAX(n, 1), sizeof *facts);
    int *fact_of = calloc((size_t)HL_MAX(n, 1), sizeof *fact_of), nf = 0;
    if (!state || !errs || !res || !facts || !fact_of) {
        hl_error_set(HL_ENOMEM, "out of memory");
        goto status_done;
    }
    for (int64_t i = 0; i < n; i++) {
        state[i] = hl_store_cell_state(dir, cells[i].key, hl_cell_kind_name(cells[i].kind), &errs[i]);
        fact_of[i] = -1;
        if (state[i] != HL_CELL_STATE_DONE || cells[i].kind != HL_CELL_ATTACK) continue;
        snprintf(p, sizeof p, "%s/cells/%s/result.json", dir, cells[i].key);
        if (hl_result_read(p, cells[i].key, "attack", &res[i]) < 0) {
            hl_error_clear();
            continue;
        }
        if (hl_sanity_fact_of(res[i].root, &facts[nf])) fact_of[i] = nf++;
    }
    hl_sanity_cross(facts, nf);
    for (int64_t i = 0; i < n; i++) {
        hl_cell_state cs = state[i];
        const char *err = errs[i];
        count[cs]++;
        const hl_sanity_fact *f = fact_of[i] >= 0 ? &facts[fact_of[i]] : NULL;
        bool flagged = f && f->flags[0];
        nflagged += flagged;
        bool ev = flagged && f->evidence[0];
        printf("%-8s %-8s %.12s  %s%s%s%s%s%s%s%s\n", hl_cell_state_name(cs), hl_cell_kind_name(cells[i].kind),
               cells[i].key, cells[i].label,
               err ? (cs == HL_CELL_STATE_INVALID ? "  invalid: " : "  error: ") : "", err ? err : "",
               flagged ? "  FLAGS: " : "", flagged ? f->flags : "", ev ? " (" : "", ev ? f->evidence : "",
               ev ? ")" : "");
    }
    /* results in cells/ that no cell of the suite has any more: computed by other code (a bumped method version, a
     * rebuilt plugin) or other settings; kept, never used */
    int64_t stale = 0;
    snprintf(p, sizeof p, "%s/cells", dir);
    DIR *dh = opendir(p);
    for (struct dirent *e; dh && (e = readdir(dh));) {
        if (e->d_name[0] == '.') continue;
        bool known = false;
        for (int64_t i = 0; i < n && !known; i++) known = !strcmp(cells[i].key, e->d_name);
        char rp[1600];
        snprintf(rp, sizeof rp, "%s/%s/result.json", p, e->d_name);
        if (!known && access(rp, F_OK) == 0) stale++;
    }
    if (dh) closedir(dh);
    printf("%lld cells: %lld done, %lld failed, %lld pending", (long long)n, (long long)count[HL_CELL_STATE_DONE],
           (long long)count[HL_CELL_STATE_FAILED], (long long)count[HL_CELL_STATE_PENDING]);
    if (nflagged) printf(", %lld with sanity flags (warnings: see result.json's \"sanity\")", (long long)nflagged);
    if (count[HL_CELL_STATE_INVALID])
        printf(", %lld invalid (hashlab run sets them aside and runs them again)",
               (long long)count[HL_CELL_STATE_INVALID]);
    printf("\n");
    if (stale)
        printf("%lld stale result%s in %s/cells: from other code (a method's version, a rebuilt plugin) or other "
               "settings than the suite's now; kept, not used\n", (long long)stale, stale == 1 ? "" : "s", dir);
    rc = 0;
status_done:
    for (int64_t i = 0; i < n && res && errs; i++) {
        hl_result_free(&res[i]);
        free(errs[i]);
    }
    free(state), free(errs), free(res), free(facts), free(fact_of);
done:
    if (rc) fprintf(stderr, "hashlab status: %s\n", hl_error_last());
    free(cells);
    hl_config_free(man);
    hl_suite_free(s);
    return rc;
}

int hl_cmd_status(int argc, char **argv) {
    const char **files = calloc((size_t)argc + 1, sizeof *files), **items = calloc((size_t)argc + 1, sizeof *items);
    int rc = 1;
    if (files && items) rc = status_main(argc, argv, files, items);
    else fprintf(stderr, "hashlab status: out of memory\n");
    free(files);
    free(items);
    return rc;
}
