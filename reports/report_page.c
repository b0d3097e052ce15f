/* reports/report_page.c — report/index.html (report_internal.h) through reports/report_html.h: the tables, the
 * figures and example grids found in the report folder, the sanity section, the suite and the versions. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/json.h"
#include "core/strbuf.h"
#include "core/version.h"
#include "reports/report_html.h"
#include "reports/report_internal.h"
#include "reports/sanity.h"

typedef hl_report_cell rcell;
typedef hl_report_cells rcells;
#define opt_str hl_report_str

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Sorted *.png file names of directory d (heap array of heap strings, *n of them). */
static hl_status list_png(const char *d, char ***out, int *n) {
    DIR *dh = opendir(d);
    *out = NULL, *n = 0;
    if (!dh) return HL_OK; /* no such folder: nothing to list */
    struct dirent *e;
    int cap = 0;
    hl_status st = HL_OK;
    while ((e = readdir(dh))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".png") || e->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nv = realloc(*out, (size_t)cap * sizeof *nv);
            if (!nv) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); break; }
            *out = nv;
        }
        if (!((*out)[*n] = strdup(e->d_name))) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); break; }
        (*n)++;
    }
    closedir(dh);
    if (*n) qsort(*out, (size_t)*n, sizeof **out, cmp_str);
    return st;
}

/* A file's whole text (heap), or NULL when unreadable. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    hl_strbuf b = {0};
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) hl_strbuf_put(&b, buf, k);
    fclose(f);
    if (b.oom) free(b.p), b.p = NULL;
    return b.p;
}

/* report/index.html through reports/report_html.h: the tables, the figures and example grids the report wrote (the
 * .png files in its folder and in examples/, each with a caption from its name), the sanity section, the suite as
 * run (RUNDIR/suite.yaml) and the versions recorded by the cells. */
hl_status hl_report_page(const char *rundir, const char *dir, const rcells *cs, const hl_table *const *tabs, int nt,
                           const char *map_name, const char *sanity) {
    hl_status st = HL_OK;
    char **figs = NULL, **exs = NULL, path[4096], exdir[4200], title[300], conv[600], ver[600];
    int nfig = 0, nex = 0;
    hl_report_html_figure *ff = NULL, *ef = NULL;
    char *suite = NULL, (*cap)[160] = NULL, (*expath)[300] = NULL;
    hl_config *resolved = NULL;
    HL_TRY(list_png(dir, &figs, &nfig));
    snprintf(exdir, sizeof exdir, "%s/examples", dir);
    HL_TRY(list_png(exdir, &exs, &nex));
    ff = calloc((size_t)HL_MAX(nfig, 1), sizeof *ff), ef = calloc((size_t)HL_MAX(nex, 1), sizeof *ef);
    if (!ff || !ef) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    cap = calloc((size_t)HL_MAX(nfig + nex, 1), sizeof *cap);
    expath = calloc((size_t)HL_MAX(nex, 1), sizeof *expath);
    if (!cap || !expath) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int i = 0; i < nfig; i++) {
        const char *f = figs[i];
        const char *what = !strncmp(f, "map_vs_bits", 11) ? "clean retrieval vs code length"
                           : !strncmp(f, "map_vs_eps", 10) ? "retrieval under attack vs ε (ε = 0: clean)"
                           : !strncmp(f, "pr_", 3)         ? "precision–recall by Hamming radius"
                           : !strncmp(f, "trace_", 6)      ? "attack objective per step"
                           : !strncmp(f, "improved_", 9)   ? "share of queries improved per step"
                                                           : "figure";
        snprintf(cap[i], sizeof cap[0], "%s (%.*s)", what, (int)(strlen(f) - 4), f);
        ff[i] = (hl_report_html_figure){.file = f, .caption = cap[i]};
    }
    for (int i = 0; i < nex; i++) {
        snprintf(expath[i], sizeof expath[0], "examples/%s", exs[i]);
        snprintf(cap[nfig + i], sizeof cap[0], "clean | perturbation ×10 + 0.5 | adversarial: %.*s",
                 (int)(strlen(exs[i]) - 4), exs[i]);
        ef[i] = (hl_report_html_figure){.file = expath[i], .caption = cap[nfig + i]};
    }
    snprintf(path, sizeof path, "%s/suite.resolved.json", rundir);
    if (hl_json_load_file(path, &resolved) < 0) hl_error_clear();
    snprintf(title, sizeof title, "hashlab report: %s", resolved ? opt_str(resolved, "name", rundir) : rundir);
    snprintf(path, sizeof path, "%s/suite.yaml", rundir);
    suite = slurp(path);
    char where[200];
    hl_report_where(cs, where, sizeof where);
    snprintf(conv, sizeof conv,
             "Scores: %s of the queries (relevance = a shared label), in %%%s; attacked scores on the 8-bit quantised "
             "adversarial images; every table states its conventions (ties, queries with no relevant item, seeds) in "
             "its caption. Definitions: docs/METRICS.md in the hashlab repository.",
             map_name, where);
    const char *hv = NULL;
    for (int i = 0; i < cs->n && !hv; i++) hv = opt_str(cs->c[i].root, "versions.hashlab", NULL);
    snprintf(ver, sizeof ver, "hashlab %s (the cells' result.json \"versions\"); this report by hashlab %s",
             hv ? hv : "?", HASHLAB_VERSION);
    hl_report_html_in in = {.title = title, .conventions = conv, .tables = tabs, .ntables = nt, .figures = ff,
                            .nfigures = nfig, .examples = ef, .nexamples = nex, .sanity_md = sanity,
                            .suite_yaml = suite, .versions = ver};
    snprintf(path, sizeof path, "%s/index.html", dir);
    st = hl_report_html_write(path, &in);
done:
    free(cap), free(expath);
    for (int i = 0; i < nfig; i++) free(figs[i]);
    for (int i = 0; i < nex; i++) free(exs[i]);
    free(figs), free(exs), free(ff), free(ef), free(suite);
    hl_config_free(resolved);
    return st;
}

