/* reports/table_json.c — JSON writer: the full table data (layout in reports/table.h). */
#include "reports/table.h"

/* A JSON string literal (UTF-8 passed through; " \ and control characters escaped); NULL writes null. */
static void put_str(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (ch < 0x20) fprintf(f, "\\u%04x", ch);
            else fputc(ch, f);
        }
    }
    fputc('"', f);
}

static void put_num(FILE *f, double x) {
    char buf[32];
    hl_table_fmt_double(x, buf);
    fputs(buf, f);
}

static void put_key(FILE *f, const char *key) {
    put_str(f, key);
    fputs(": ", f);
}

static const char *better_name(hl_table_better b) {
    return b == HL_TABLE_HIGHER ? "higher" : b == HL_TABLE_LOWER ? "lower" : "none";
}

static void put_names(FILE *f, char *const *names, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        put_str(f, names[i]);
    }
    fputc(']', f);
}

static void put_cell(FILE *f, const hl_table *t, int r, int c) {
    hl_table_cell_view v;
    hl_table_cell_get(t, r, c, &v);
    const char *note = t->rows[r].cells[c].note;
    if (v.n == 0 && !note) {
        fputs("null", f);
        return;
    }
    fputs("{\"samples\": [", f);
    for (int i = 0; i < v.n; i++) {
        if (i) fputs(", ", f);
        put_num(f, v.samples[i]);
    }
    fprintf(f, "], \"n\": %d, \"mean\": ", v.n);
    if (v.n > 0) put_num(f, v.mean);
    else fputs("null", f);
    fputs(", \"std\": ", f);
    if (v.n > 1) put_num(f, v.std);
    else fputs("null", f);
    fputs(", \"display\": ", f);
    char disp[120];
    if (v.n == 0) disp[0] = '\0';
    else snprintf(disp, sizeof disp, "%s%s%s", v.mean_str, *v.std_str ? " \xc2\xb1 " : "", v.std_str);
    put_str(f, disp);
    fprintf(f, ", \"best\": %s, \"second\": %s, \"note\": ", v.mark == HL_TABLE_MARK_BEST ? "true" : "false",
            v.mark == HL_TABLE_MARK_SECOND ? "true" : "false");
    put_str(f, note);
    fputc('}', f);
}

hl_status hl_table_write_json(const hl_table *t, FILE *f) {
    fputs("{\n  ", f);
    put_key(f, "title"), put_str(f, t->title), fputs(",\n  ", f);
    put_key(f, "caption"), put_str(f, t->caption), fputs(",\n  ", f);
    put_key(f, "label"), put_str(f, t->label), fputs(",\n  ", f);
    put_key(f, "row_header"), put_str(f, t->row_header), fputs(",\n  ", f);
    fprintf(f, "\"second_best\": %s,\n  \"best_per_row_group\": %s,\n  ", t->second_best ? "true" : "false",
            t->best_per_row_group ? "true" : "false");
    put_key(f, "column_groups"), put_names(f, t->col_groups, t->ncol_groups), fputs(",\n  ", f);
    put_key(f, "row_groups"), put_names(f, t->row_groups, t->nrow_groups), fputs(",\n  ", f);
    fputs("\"columns\": [", f);
    for (int j = 0; j < t->ncols; j++) {
        const hl_table_col *c = &t->cols[t->col_order[j]];
        fputs(j ? ",\n    {" : "\n    {", f);
        put_key(f, "name"), put_str(f, c->name), fputs(", ", f);
        put_key(f, "group"), put_str(f, c->group >= 0 ? t->col_groups[c->group] : NULL);
        fprintf(f, ", \"precision\": %d, \"percent\": %s, \"better\": \"%s\", \"show_std\": %s}", c->opts.precision,
                c->opts.percent ? "true" : "false", better_name(c->opts.better), c->opts.hide_std ? "false" : "true");
    }
    fputs(t->ncols ? "\n  ],\n  " : "],\n  ", f);
    fputs("\"notes\": [", f);
    for (int i = 0, nn = hl_table_note_count(t); i < nn; i++) {
        if (i) fputs(", ", f);
        put_str(f, hl_table_note(t, i));
    }
    fputs("],\n  \"rows\": [", f);
    for (int k = 0; k < t->nrows; k++) {
        int r = t->row_order[k];
        const hl_table_row *row = &t->rows[r];
        fputs(k ? ",\n    {" : "\n    {", f);
        put_key(f, "name"), put_str(f, row->name), fputs(", ", f);
        put_key(f, "group"), put_str(f, row->group >= 0 ? t->row_groups[row->group] : NULL);
        fputs(", \"cells\": [", f);
        for (int j = 0; j < t->ncols; j++) {
            fputs(j ? ",\n      " : "\n      ", f);
            put_cell(f, t, r, t->col_order[j]);
        }
        fputs(t->ncols ? "\n    ]}" : "]}", f);
    }
    fputs(t->nrows ? "\n  ]\n}\n" : "]\n}\n", f);
    if (ferror(f)) return hl_error_set(HL_EIO, "table: write failed (JSON)");
    return HL_OK;
}
