/* reports/report_annotate.c — what the report adds to the cells it read (report_internal.h): each train cell's
 * clean score over the attacked queries (like for like), the sanity flags across cells, and the Markdown section
 * listing the flagged cells. */
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

/* A per_query.csv's column `name` (numbers) into a fresh array by row, with the rows' query positions; *n rows.
 * HL_ENOTFOUND without the file or the column. */
static hl_status per_query_column(const char *dir, const char *name, int64_t **pos, double **val, int64_t *n) {
    hl_status st = HL_OK;
    char p[4200], *line = NULL;
    size_t cap = 0;
    int64_t m = 0, mcap = 0;
    *pos = NULL, *val = NULL, *n = 0;
    snprintf(p, sizeof p, "%s/per_query.csv", dir);
    FILE *f = fopen(p, "r");
    if (!f) return hl_error_set(HL_ENOTFOUND, "%s: cannot open: %s", p, strerror(errno));
    int col = -1;
    if (getline(&line, &cap, f) > 0) {
        int k = 0;
        for (char *t = strtok(line, ",\n"); t; t = strtok(NULL, ",\n"), k++)
            if (!strcmp(t, name)) col = k;
    }
    if (col < 0) HL_TRY(hl_error_set(HL_ENOTFOUND, "%s: no column '%s'", p, name));
    while (getline(&line, &cap, f) > 0) {
        if (m == mcap) {
            mcap = mcap ? 2 * mcap : 1024;
            int64_t *np = realloc(*pos, (size_t)mcap * sizeof *np);
            if (np) *pos = np;
            double *nv = realloc(*val, (size_t)mcap * sizeof *nv);
            if (nv) *val = nv;
            if (!np || !nv) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
        }
        char *s0 = line, *end;
        (*pos)[m] = strtoll(s0, &end, 10);
        if (end == s0) HL_TRY(hl_error_set(HL_EFORMAT, "%s: row %lld has no query position", p, (long long)m + 1));
        for (int k = 0; k < col && s0; k++) s0 = strchr(s0, ','), s0 = s0 ? s0 + 1 : NULL;
        (*val)[m] = s0 ? strtod(s0, &end) : NAN;
        if (!s0 || end == s0) HL_TRY(hl_error_set(HL_EFORMAT, "%s: row %lld: no number in '%s'", p, (long long)m + 1, name));
        m++;
    }
    *n = m;
done:
    free(line);
    fclose(f);
    if (st < 0) free(*pos), free(*val), *pos = NULL, *val = NULL;
    return st;
}

/* Like for like: the attacked queries are the same for every attack cell of a run (the suite's attack_queries
 * first queries of the query list); each train cell's clean score over exactly those queries goes to
 * c->clean_attacked, so a table never sets a clean score over all queries beside attacked scores over a subset. */
hl_status hl_report_clean_over_attacked(rcells *cs) {
    hl_status st = HL_OK;
    int64_t *apos = NULL, na = 0, *pos = NULL, n = 0;
    double *val = NULL;
    bool *in = NULL;
    int64_t maxpos = -1;
    cs->attacked_queries = 0;
    for (int i = 0; i < cs->n; i++) {
        rcell *c = &cs->c[i];
        c->clean_attacked = NAN;
        double q;
        if (!c->attack || !c->done || !hl_config_parse_double(opt_str(c->root, "queries", ""), &q)) continue;
        if (cs->attacked_queries == 0) cs->attacked_queries = (int64_t)q;
        else if (cs->attacked_queries != (int64_t)q) cs->attacked_queries = -1;
        if (!apos) {
            double *unused = NULL;
            if (per_query_column(c->dir, "ap_adv", &apos, &unused, &na) < 0) hl_error_clear(), apos = NULL, na = 0;
            free(unused);
        }
    }
    for (int64_t k = 0; k < na; k++) maxpos = HL_MAX(maxpos, apos[k]);
    if (!na || !(in = calloc((size_t)(maxpos + 1), sizeof *in))) goto done;
    for (int64_t k = 0; k < na; k++) in[apos[k]] = true;
    for (int i = 0; i < cs->n; i++) {
        rcell *c = &cs->c[i];
        if (c->attack || !c->done) continue;
        if (per_query_column(c->dir, "ap", &pos, &val, &n) < 0) {
            hl_error_clear();
            continue;
        }
        double s = 0;
        int64_t k = 0;
        for (int64_t j = 0; j < n; j++)
            if (pos[j] >= 0 && pos[j] <= maxpos && in[pos[j]] && isfinite(val[j])) s += val[j], k++;
        if (k == na) c->clean_attacked = s / (double)k;
        free(pos), free(val);
        pos = NULL, val = NULL;
    }
done:
    free(apos), free(in), free(pos), free(val);
    return st;
}

/* The sanity flags of every done attack cell (reports/sanity.h) into c->flags / c->evidence. */
hl_status hl_report_sanity_flags(rcells *cs) {
    hl_status st = HL_OK;
    hl_sanity_fact *f = calloc((size_t)HL_MAX(cs->n, 1), sizeof *f);
    int *of = malloc((size_t)HL_MAX(cs->n, 1) * sizeof *of), nf = 0;
    if (!f || !of) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int i = 0; i < cs->n; i++) of[i] = hl_sanity_fact_of(cs->c[i].root, &f[nf]) ? nf++ : -1;
    hl_sanity_cross(f, nf);
    for (int i = 0; i < cs->n; i++) {
        if (of[i] < 0 || !f[of[i]].flags[0]) continue;
        cs->c[i].flags = strdup(f[of[i]].flags);
        cs->c[i].evidence = strdup(f[of[i]].evidence);
        if (!cs->c[i].flags || !cs->c[i].evidence) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    }
done:
    free(f), free(of);
    return st;
}

/* tables.md's "Sanity checks" section: every flagged cell with its flags, evidence and the result.json that holds
 * the per-cell evidence; NULL when no cell raised a flag. */
hl_status hl_report_sanity_md(const rcells *cs, char **out) {
    hl_strbuf b = {0};
    *out = NULL;
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (!c->flags) continue;
        if (!b.p)
            hl_strbuf_puts(&b, "## Sanity checks\n\nWarnings raised on models and attacks (docs/sanity.md says what each "
                               "flag measures); a flagged score may overstate robustness.\n\n");
        const char *label = opt_str(c->root, "label", c->method), *key = opt_str(c->root, "key", "");
        hl_strbuf_puts(&b, "- `"), hl_strbuf_puts(&b, label), hl_strbuf_puts(&b, "`: **");
        hl_strbuf_puts(&b, c->flags), hl_strbuf_puts(&b, "**");
        if (c->evidence && c->evidence[0]) hl_strbuf_puts(&b, " ("), hl_strbuf_puts(&b, c->evidence), hl_strbuf_puts(&b, ")");
        hl_strbuf_puts(&b, "; per-cell evidence: cells/"), hl_strbuf_put(&b, key, strlen(key) < 12 ? strlen(key) : 12);
        hl_strbuf_puts(&b, "…/result.json, \"sanity\"\n");
    }
    if (b.oom) {
        free(b.p);
        return hl_error_set(HL_ENOMEM, "report: out of memory");
    }
    *out = b.p;
    return HL_OK;
}

