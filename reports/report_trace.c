/* reports/report_trace.c — the attack traces drawn: for every attack setting (bits, attack, norm, ε) whose done cells
 * hold result.json's "trace", two figures with one series per victim (its lowest-seed cell):
 *   trace_<attack>_<norm>_<eps>_<bits>b.{png,pdf}     the mean objective over the attacked queries at each scoring
 *   improved_<attack>_<norm>_<eps>_<bits>b.{png,pdf}  the share of the queries whose best iterate improved there
 * (an ensemble's trace is its members' traces one after the other). A trace that is not {"loss": [...], "improved":
 * [...]} of numbers or nulls is HL_EFORMAT naming the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_internal.h"

typedef struct trace_setting {
    int64_t bits;
    const char *attack, *norm, *eps_text;
} trace_setting;

static bool has_trace(const hl_report_cell *c) {
    return c->attack && !c->transfer && c->done && hl_config_path(c->root, "trace.loss");
}

static bool in_setting(const hl_report_cell *c, const trace_setting *s) {
    return c->bits == s->bits && !strcmp(c->attack_name, s->attack) && !strcmp(c->norm, s->norm) &&
           !strcmp(c->eps_text, s->eps_text);
}

/* The list `key` of c's trace into a fresh array *v of *n values (null: NaN). */
static hl_status trace_list(const hl_report_cell *c, const char *key, double **v, int64_t *n) {
    char path[32];
    snprintf(path, sizeof path, "trace.%s", key);
    const hl_config *l = hl_config_path(c->root, path);
    *v = NULL, *n = 0;
    if (!l || l->kind != HL_CONFIG_SEQ)
        return hl_error_set(HL_EFORMAT, "%s/result.json: \"trace\" needs a list \"%s\"", c->dir, key);
    int64_t m = hl_config_len(l);
    double *a = malloc((size_t)HL_MAX(m, 1) * sizeof *a);
    if (!a) return hl_error_set(HL_ENOMEM, "report: out of memory");
    for (int64_t i = 0; i < m; i++) {
        const hl_config *e = hl_config_at(l, i);
        if (e->kind == HL_CONFIG_NULL) a[i] = NAN;
        else if (e->kind != HL_CONFIG_SCALAR || e->quoted || !hl_config_parse_double(e->text, &a[i])) {
            free(a);
            return hl_error_set(HL_EFORMAT, "%s/result.json: trace.%s[%lld] is not a number", c->dir, key,
                                (long long)i);
        }
    }
    *v = a, *n = m;
    return HL_OK;
}

static hl_status setting_figures(const hl_report_cells *cs, const trace_setting *s, const char *dir, int *figures) {
    hl_status st = HL_OK;
    const hl_report_cell *pick[HL_PLOT_MAX_SERIES];
    int np = 0;
    double *ys[2][HL_PLOT_MAX_SERIES] = {{0}}, *xs = NULL;
    int64_t len[2][HL_PLOT_MAX_SERIES] = {{0}}, xmax = 0;
    for (int i = 0; i < cs->n; i++) { /* one cell per method: its lowest seed */
        const hl_report_cell *c = &cs->c[i];
        if (!has_trace(c) || !in_setting(c, s)) continue;
        int j = 0;
        while (j < np && strcmp(pick[j]->method, c->method)) j++;
        if (j < np) {
            if (c->seed < pick[j]->seed) pick[j] = c;
        } else if (np < HL_PLOT_MAX_SERIES) {
            pick[np++] = c;
        }
    }
    for (int j = 0; j < np; j++) /* sorted by method */
        for (int k = j + 1; k < np; k++)
            if (strcmp(pick[k]->method, pick[j]->method) < 0) {
                const hl_report_cell *t = pick[j];
                pick[j] = pick[k], pick[k] = t;
            }
    static const char *const keys[2] = {"loss", "improved"};
    for (int f = 0; f < 2; f++)
        for (int j = 0; j < np; j++) {
            HL_TRY(trace_list(pick[j], keys[f], &ys[f][j], &len[f][j]));
            xmax = HL_MAX(xmax, len[f][j]);
        }
    if (!(xs = malloc((size_t)HL_MAX(xmax, 1) * sizeof *xs))) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int64_t i = 0; i < xmax; i++) xs[i] = (double)i;
    char a[96], nrm[32], e[64], stem[300], title[600], where[200];
    hl_report_where(cs, where, sizeof where);
    hl_report_safe_name(s->attack, a, sizeof a);
    hl_report_safe_name(s->norm, nrm, sizeof nrm);
    hl_report_safe_name(s->eps_text, e, sizeof e);
    for (int f = 0; f < 2; f++) {
        hl_plot_spec sp = {.x_label = "scoring (step; restarts and members one after the other)",
                           .y_label = f ? "share of queries improved" : "mean objective (lower: stronger)",
                           .legend = true, .legend_at = HL_PLOT_OUTSIDE_RIGHT, .grid = true, .n_series = np};
        snprintf(title, sizeof title, "%s (%s, eps %s), %lld bits%s: %s", s->attack, s->norm, s->eps_text,
                 (long long)s->bits, where, f ? "queries improved per step" : "objective per step");
        sp.title = title;
        for (int j = 0; j < np; j++)
            sp.series[j] = (hl_plot_series){.label = pick[j]->method, .n = len[f][j], .x = xs, .y = ys[f][j]};
        snprintf(stem, sizeof stem, "%s_%s_%s_%s_%lldb", f ? "improved" : "trace", a, nrm, e, (long long)s->bits);
        HL_TRY(hl_report_plot_both(dir, stem, &sp, figures));
    }
done:
    for (int f = 0; f < 2; f++)
        for (int j = 0; j < np; j++) free(ys[f][j]);
    free(xs);
    return st;
}

hl_status hl_report_trace_figures(const hl_report_cells *cs, const char *dir, int *figures) {
    hl_status st = HL_OK;
    trace_setting *set = malloc((size_t)HL_MAX(cs->n, 1) * sizeof *set);
    int ns = 0;
    if (!set) return hl_error_set(HL_ENOMEM, "report: out of memory");
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (!has_trace(c)) continue;
        bool seen = false;
        for (int k = 0; k < ns && !seen; k++) seen = in_setting(c, &set[k]);
        if (!seen) set[ns++] = (trace_setting){c->bits, c->attack_name, c->norm, c->eps_text};
    }
    for (int k = 0; k < ns; k++) HL_TRY(setting_figures(cs, &set[k], dir, figures));
done:
    free(set);
    return st;
}
