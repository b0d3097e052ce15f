/* lab/cmd_report.c — `hashlab report RUNDIR`: rebuild the report (tables and figures, reports/report.h) of a run
 * directory from its cells' result.json files, without re-running anything. Exit 0 on success, 1 when the run
 * directory cannot be reported (message names the file and position), 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/commands.h"
#include "reports/report.h"
#include "reports/table.h"

static const char report_usage[] =
    "usage: hashlab report RUNDIR [--format md,tex,csv,json,html]\n"
    "  reads RUNDIR/cells/*/result.json and writes RUNDIR/report/: tables.md, tables.tex, tables.json (all tables),\n"
    "  tables_*.csv (one per table), results.csv (tidy: one row per cell and metric, per-class rows), methods.bib\n"
    "  (cited by tables.tex), index.html (one page with everything), and figures as .png and .pdf: map_vs_bits,\n"
    "  map_vs_eps* (an attack at several eps), pr_<bits>b, trace_* and improved_* (attack traces)\n"
    "  --format  comma-separated subset of md, tex, csv, json, html (default: all; html = index.html, one page);\n"
    "            figures are always written\n";

#define MAX_FORMATS 8

int hl_cmd_report(int argc, char **argv) {
    const char *rundir = NULL, *fmt_arg = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", report_usage);
            return 0;
        }
        if (strcmp(a, "--format") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hashlab report: --format needs a value\n%s", report_usage);
                return 2;
            }
            fmt_arg = argv[++i];
        } else if (strncmp(a, "--", 2) == 0 || rundir) {
            fprintf(stderr, "hashlab report: unexpected argument '%s'\n%s", a, report_usage);
            return 2;
        } else {
            rundir = a;
        }
    }
    if (!rundir) {
        fprintf(stderr, "hashlab report: missing RUNDIR\n%s", report_usage);
        return 2;
    }
    char buf[256], *fmts[MAX_FORMATS];
    int nf = 0;
    if (fmt_arg) {
        if (strlen(fmt_arg) >= sizeof buf) {
            fprintf(stderr, "hashlab report: --format value too long\n");
            return 2;
        }
        snprintf(buf, sizeof buf, "%s", fmt_arg);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (nf == MAX_FORMATS) {
                fprintf(stderr, "hashlab report: too many formats in --format\n");
                return 2;
            }
            hl_table_format f;
            if (hl_table_format_parse(tok, &f) < 0) {
                fprintf(stderr, "hashlab report: --format: %s\n", hl_error_last());
                return 2;
            }
            fmts[nf++] = tok;
        }
        if (nf == 0) {
            fprintf(stderr, "hashlab report: --format needs at least one of md, tex, csv, json\n");
            return 2;
        }
    }
    hl_report_summary s;
    hl_status st = hl_report_build(rundir, fmt_arg ? (const char *const *)fmts : NULL, nf, &s);
    if (st < 0) {
        fprintf(stderr, "hashlab report: %s\n", hl_error_last());
        return 1;
    }
    printf("report: %lld cells (%lld done, %lld failed) -> %d table files, %d figures in %s/report/\n",
           (long long)(s.cells_done + s.cells_failed), (long long)s.cells_done, (long long)s.cells_failed, s.tables,
           s.figures, rundir);
    if (s.cells_stale)
        printf("left out %lld result%s: not cells of the suite as last run into %s (plan.json: older code, other "
               "settings or another suite sharing the directory); see the end of tables.md\n", (long long)s.cells_stale, s.cells_stale == 1 ? "" : "s", rundir);
    if (s.no_plan)
        fprintf(stderr, "hashlab report: warning: %s has no plan.json (written by an older hashlab run): every result "
                "in cells/ was used, stale ones included; `hashlab run SUITE` once (done cells are skipped) writes it\n",
                rundir);
    return 0;
}
