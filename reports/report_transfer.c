/* reports/report_transfer.c — transfer matrices (report_internal.h): adversarial images crafted on one model (row)
 * scored on another (column). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_internal.h"

#define MAX_NAMES 128

typedef struct names {
    char v[MAX_NAMES][96];
    int n;
} names;

static int names_add(names *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x)) return i;
    if (s->n == MAX_NAMES) return -1;
    snprintf(s->v[s->n], sizeof s->v[0], "%s", x);
    return s->n++;
}

static int cmp_name(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static bool setting_of(const hl_report_cell *c, const hl_report_cell *k) {
    return !strcmp(c->attack_name, k->attack_name) && !strcmp(c->norm, k->norm) && !strcmp(c->eps_text, k->eps_text);
}

static void model_name(const char *method, int64_t bits, char *buf, size_t n) {
    snprintf(buf, n, "%s %lldb", method, (long long)bits);
}

static bool num(const hl_report_cell *c, const char *name, double *v) {
    const hl_config *m = c->metrics ? hl_config_get(c->metrics, name) : NULL;
    return m && m->kind == HL_CONFIG_SCALAR && !m->quoted && hl_config_parse_double(m->text, v);
}

/* One matrix of metric `metric` over the cells of setting k. */
static hl_status matrix(const hl_report_cells *xs, const hl_report_cell *k, const char *metric, const char *what,
                        hl_table **out) {
    hl_status st = HL_OK;
    names rows = {.n = 0}, cols = {.n = 0};
    char buf[96], title[256], cap[768];
    hl_table *t = NULL;
    bool any = false;
    for (int i = 0; i < xs->n; i++) {
        const hl_report_cell *c = &xs->c[i];
        double v;
        if (!c->done || !setting_of(c, k) || !num(c, metric, &v)) continue;
        model_name(c->method, c->bits, buf, sizeof buf);
        names_add(&rows, buf);
        model_name(c->target_method, c->target_bits, buf, sizeof buf);
        names_add(&cols, buf);
        any = true;
    }
    *out = NULL;
    if (!any) return HL_OK;
    qsort(rows.v, (size_t)rows.n, sizeof rows.v[0], cmp_name);
    qsort(cols.v, (size_t)cols.n, sizeof cols.v[0], cmp_name);
    if (!strcmp(k->norm, "none")) snprintf(title, sizeof title, "Transfer: %s (no eps-ball), %s", k->attack_name, what);
    else snprintf(title, sizeof title, "Transfer: %s at %s eps %s, %s", k->attack_name, k->norm, k->eps_text, what);
    snprintf(cap, sizeof cap, "%s in %% of the attacked queries: adversarial images crafted on the row's model (8-bit, "
             "as stored by its attack cell) and scored on the column's model against its own database codes; the "
             "diagonal is the white-box attack; mean over seeds.", what);
    HL_TRY(hl_table_create(&t, title, cap));
    HL_TRY(hl_table_set_row_header(t, "crafted on"));
    int g = hl_table_add_col_group(t, "scored on");
    if (g < 0) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int j = 0; j < cols.n; j++)
        if (hl_table_add_col(t, g, cols.v[j], (hl_table_col_opts){.precision = 2, .percent = true}) < 0)
            HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int r = 0; r < rows.n; r++)
        if (hl_table_add_row(t, -1, rows.v[r]) < 0) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int i = 0; i < xs->n; i++) {
        const hl_report_cell *c = &xs->c[i];
        double v;
        if (!c->done || !setting_of(c, k) || !num(c, metric, &v)) continue;
        model_name(c->method, c->bits, buf, sizeof buf);
        int r = hl_table_find_row(t, -1, buf);
        model_name(c->target_method, c->target_bits, buf, sizeof buf);
        int col = hl_table_find_col(t, g, buf);
        if (r >= 0 && col >= 0) HL_TRY(hl_table_add_sample(t, r, col, v));
    }
    *out = t;
    t = NULL;
done:
    hl_table_free(t);
    return st;
}

hl_status hl_report_transfer_tables(const hl_report_cells *xs, const char *map_name, hl_table **out, char (*csv)[96],
                                    int max, int *n) {
    hl_status st = HL_OK;
    bool *seen = calloc((size_t)(xs->n ? xs->n : 1), sizeof *seen);
    if (!seen) return hl_error_set(HL_ENOMEM, "report: out of memory");
    for (int i = 0; i < xs->n && *n < max; i++) {
        if (seen[i]) continue;
        const hl_report_cell *k = &xs->c[i];
        bool targeted = false;
        for (int j = i; j < xs->n; j++)
            if (setting_of(&xs->c[j], k)) {
                seen[j] = true;
                double v;
                targeted |= num(&xs->c[j], "t-mAP@all", &v);
            }
        char safe[64], what[96];
        snprintf(safe, sizeof safe, "%s_%s_%s", k->attack_name, k->norm, k->eps_text);
        hl_report_safe_name(safe, safe, sizeof safe);
        snprintf(what, sizeof what, "%s of the adversarial queries", map_name);
        hl_table *t = NULL;
        HL_TRY(matrix(xs, k, map_name, what, &t));
        if (t) {
            snprintf(csv[*n], 96, "tables_transfer_%s_map.csv", safe);
            out[(*n)++] = t;
        }
        if (targeted && *n < max) {
            HL_TRY(matrix(xs, k, "t-mAP@all", "t-mAP@all (relevance by the target label)", &t));
            if (t) {
                snprintf(csv[*n], 96, "tables_transfer_%s_tmap.csv", safe);
                out[(*n)++] = t;
            }
        }
    }
done:
    free(seen);
    return st;
}
