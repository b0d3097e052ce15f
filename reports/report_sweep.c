/* reports/report_sweep.c — line charts from tables (report_internal.h): one column per x point, mean ± std over
 * seeds in the table's unit, and the mAP-vs-ε sweep of one attack from ε = 0 (clean). */
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

/* Line chart of one column per x point (cols[j]; x0 >= 0: a first point at x[0] from column x0, e.g. ε = 0 from the
 * clean column) for every row: the mean of the row's samples in the table's unit (× 100 for percent columns) with
 * ± one std as error bars when a cell has 2 or more seeds, NaN when missing. Nothing is drawn when no point is
 * finite (*drawn false): the report says so instead of writing an empty figure. */
hl_status hl_report_plot_table(const hl_table *t, const int *cols, const double *x, const char *const *xl, int nx,
                            hl_plot_spec *spec, const char *dir, const char *stem, int *figures, bool *drawn) {
    double y[HL_PLOT_MAX_SERIES][HL_PLOT_MAX_TICKS], e[HL_PLOT_MAX_SERIES][HL_PLOT_MAX_TICKS];
    bool any = false;
    spec->n_series = HL_MIN(t->nrows, HL_PLOT_MAX_SERIES);
    spec->n_x_ticks = nx;
    spec->x_tick_at = x;
    spec->x_tick_labels = xl;
    spec->legend_at = HL_PLOT_OUTSIDE_RIGHT;
    for (int s = 0; s < spec->n_series; s++) {
        int r = t->row_order[s];
        bool err = false;
        for (int j = 0; j < nx; j++) {
            hl_table_cell_view v;
            hl_table_cell_get(t, r, cols[j], &v);
            double k = t->cols[cols[j]].opts.percent ? 100.0 : 1.0;
            y[s][j] = v.n ? k * v.mean : NAN;
            e[s][j] = v.n >= 2 ? k * v.std : NAN;
            err |= v.n >= 2;
            any |= isfinite(y[s][j]);
        }
        spec->series[s] = (hl_plot_series){.label = t->rows[r].name, .n = nx, .x = x, .y = y[s], .marker = true,
                                           .err = err ? e[s] : NULL};
    }
    *drawn = any;
    return any ? hl_report_plot_both(dir, stem, spec, figures) : HL_OK;
}

/* mAP vs ε of one attack (settings set[0..n) at `bits`, one norm): a small table with one column per ε, the first
 * ε = 0 (each victim's clean score over the attacked queries, from the attack cells' "(clean)"), one row per victim,
 * samples per seed; drawn with plot_table (error bars with 2 or more seeds). */
hl_status hl_report_sweep_figure(const rcells *cs, int64_t bits, const hl_report_setting *set, int n, const char *map_name,
                              const char *where, const char *dir, const char *stem, int *figures, bool *drawn) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    double x[HL_PLOT_MAX_TICKS];
    const char *xl[HL_PLOT_MAX_TICKS];
    int cols[HL_PLOT_MAX_TICKS], nx = 0, at[HL_REPORT_MAX_SETTINGS];
    const hl_table_col_opts pct = {.precision = 2, .percent = true};
    char clean[80], ylab[128], title[512];
    *drawn = false;
    HL_TRY(hl_table_create(&t, "sweep", NULL));
    x[nx] = 0, xl[nx] = "0", cols[nx++] = hl_table_add_col(t, -1, "0", pct);
    for (int k = 0; k < n && nx < HL_PLOT_MAX_TICKS; k++) {
        at[k] = -1;
        if (!isfinite(set[k].eps)) continue;
        x[nx] = set[k].eps, xl[nx] = set[k].eps_text;
        at[k] = cols[nx++] = hl_table_add_col(t, -1, set[k].eps_text, pct);
    }
    HL_TRY(hl_report_add_method_rows(t, cs, true, bits));
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (!c->attack || !c->done || c->bits != bits) continue;
        int k = 0;
        while (k < n && (strcmp(set[k].attack, c->attack_name) || strcmp(set[k].norm, c->norm) ||
                         strcmp(set[k].eps_text, c->eps_text)))
            k++;
        if (k == n || at[k] < 0) continue;
        int r = hl_table_find_row(t, -1, c->method);
        hl_report_topk_names nm;
        hl_report_metric_names(c, &nm);
        snprintf(clean, sizeof clean, "%s(clean)", nm.map);
        double v;
        if (hl_report_metric(c, nm.map, &v)) HL_TRY(hl_table_add_sample(t, r, at[k], v));
        if (k == 0 && hl_report_metric(c, clean, &v)) HL_TRY(hl_table_add_sample(t, r, cols[0], v));
    }
    snprintf(title, sizeof title, "%s (%s), %lld bits%s", set[0].attack, set[0].norm, (long long)bits, where);
    snprintf(ylab, sizeof ylab, "%s adversarial (%%)", map_name);
    hl_plot_spec s = {.title = title, .x_label = "ε (0: clean, the attacked queries)", .y_label = ylab,
                      .legend = true, .grid = true};
    st = hl_report_plot_table(t, cols, x, xl, nx, &s, dir, stem, figures, drawn);
done:
    hl_table_free(t);
    return st;
}

