/* reports/table_csv.c — RFC 4180 CSV writer (layout in reports/table.h). */
#include <string.h>

#include "reports/table.h"

/* One field, quoted when it holds , " CR or LF (quotes doubled). */
static void put_field(FILE *f, const char *s, bool first) {
    if (!first) fputc(',', f);
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A header field "<q> <suffix>". */
static void put_header(FILE *f, const char *q, const char *suffix) {
    char buf[600];
    snprintf(buf, sizeof buf, "%s %s", q, suffix);
    put_field(f, buf, false);
}

static void put_value(FILE *f, double x, bool percent) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.10g", percent ? 100.0 * x : x);
    if (strcmp(buf, "-0") == 0) snprintf(buf, sizeof buf, "0");
    put_field(f, buf, false);
}

hl_status hl_table_write_csv(const hl_table *t, FILE *f) {
    bool groups = t->nrow_groups > 0;
    if (groups) put_field(f, "group", true);
    put_field(f, t->row_header, !groups);
    for (int j = 0; j < t->ncols; j++) {
        char q[512];
        hl_table_col_qualified(t, t->col_order[j], q, sizeof q);
        put_header(f, q, "mean");
        put_header(f, q, "std");
        put_header(f, q, "n");
    }
    fputs("\r\n", f);
    for (int k = 0; k < t->nrows; k++) {
        int r = t->row_order[k];
        const hl_table_row *row = &t->rows[r];
        if (groups) put_field(f, row->group >= 0 ? t->row_groups[row->group] : "", true);
        put_field(f, row->name, !groups);
        for (int j = 0; j < t->ncols; j++) {
            int c = t->col_order[j];
            hl_table_cell_view v;
            hl_table_cell_get(t, r, c, &v);
            bool pct = t->cols[c].opts.percent;
            if (v.n > 0) put_value(f, v.mean, pct);
            else put_field(f, "", false);
            if (v.n > 1) put_value(f, v.std, pct);
            else put_field(f, "", false);
            fprintf(f, ",%d", v.n);
        }
        fputs("\r\n", f);
    }
    if (ferror(f)) return hl_error_set(HL_EIO, "table: write failed (CSV)");
    return HL_OK;
}
