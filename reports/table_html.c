/* reports/table_html.c — HTML5 fragment writer (layout in reports/table.h; whole pages in reports/report_html.h). */
#include <stdlib.h>
#include <string.h>

#include "reports/table.h"

void hl_table_html_escape(FILE *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(s[i], f);
        }
    }
}

static void put_esc(FILE *f, const char *s) { hl_table_html_escape(f, s, strlen(s)); }

/* The label as an id attribute value: escaped, white space as '-' (an id holds none). */
static void put_id(FILE *f, const char *s) {
    for (; *s; s++) {
        if (strchr(" \t\n\r\f", *s)) fputc('-', f);
        else hl_table_html_escape(f, s, 1);
    }
}

static void put_marker(FILE *f, int note) {
    char m[8];
    if (note < 0) return;
    hl_table_note_marker(note, m);
    fprintf(f, "<sup>%s</sup>", m);
}

/* <caption><strong>title</strong>. caption</caption>: hl_table_full_caption's line with its title part in bold;
 * nothing when the line is empty. */
static hl_status put_caption(const hl_table *t, FILE *f) {
    char *cap = hl_table_full_caption(t);
    if (!cap) return hl_error_set(HL_ENOMEM, "table: out of memory");
    if (*cap) {
        size_t a = strlen(t->title); /* the line starts with the title */
        fputs("<caption>", f);
        if (a) {
            fputs("<strong>", f);
            hl_table_html_escape(f, cap, a);
            fputs("</strong>", f);
        }
        put_esc(f, cap + a);
        fputs("</caption>\n", f);
    }
    free(cap);
    return HL_OK;
}

/* Number of displayed columns in group g (-1: ungrouped). */
static int group_width(const hl_table *t, int g) {
    int n = 0;
    for (int c = 0; c < t->ncols; c++) n += t->cols[c].group == g;
    return n;
}

static void put_head(const hl_table *t, FILE *f) {
    fputs("<thead>\n", f);
    int ungrouped = group_width(t, -1);
    if (ungrouped < t->ncols) { /* some column is grouped: the group row */
        fprintf(f, "<tr><td colspan=\"%d\"></td>", ungrouped + 1);
        for (int g = 0; g < t->ncol_groups; g++) {
            int k = group_width(t, g);
            if (!k) continue;
            fprintf(f, "<th colspan=\"%d\" scope=\"colgroup\" class=\"cgroup\">", k);
            put_esc(f, t->col_groups[g]);
            fputs("</th>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("<tr><th scope=\"col\">", f);
    put_esc(f, t->row_header);
    fputs("</th>", f);
    for (int j = 0; j < t->ncols; j++) {
        fputs("<th scope=\"col\" class=\"num\">", f);
        put_esc(f, t->cols[t->col_order[j]].name);
        fputs("</th>", f);
    }
    fputs("</tr>\n</thead>\n", f);
}

static void put_cell(FILE *f, const hl_table_cell_view *v) {
    if (v->n == 0) {
        fputs("<td class=\"num missing\">\xe2\x80\x93", f); /* – */
    } else {
        const char *tag = v->mark == HL_TABLE_MARK_BEST ? "strong" : v->mark == HL_TABLE_MARK_SECOND ? "u" : NULL;
        fputs("<td class=\"num\">", f);
        if (tag) fprintf(f, "<%s>", tag);
        put_esc(f, v->mean_str);
        if (*v->std_str) {
            fputs(" \xc2\xb1 ", f); /* ± */
            put_esc(f, v->std_str);
        }
        if (tag) fprintf(f, "</%s>", tag);
    }
    put_marker(f, v->note);
    fputs("</td>", f);
}

/* One <tbody> per run of rows of one row group (the ungrouped rows come first), a grouped one opening with its
 * heading row. */
static void put_body(const hl_table *t, FILE *f) {
    for (int k = 0; k < t->nrows; k++) {
        int r = t->row_order[k];
        const hl_table_row *row = &t->rows[r];
        if (k == 0 || t->rows[t->row_order[k - 1]].group != row->group) {
            fputs(k ? "</tbody>\n<tbody>\n" : "<tbody>\n", f);
            if (row->group >= 0) {
                fprintf(f, "<tr class=\"group\"><th colspan=\"%d\" scope=\"rowgroup\" class=\"group\">",
                        t->ncols + 1);
                put_esc(f, t->row_groups[row->group]);
                fputs("</th></tr>\n", f);
            }
        }
        fputs("<tr><th scope=\"row\">", f);
        put_esc(f, row->name);
        fputs("</th>", f);
        for (int j = 0; j < t->ncols; j++) {
            hl_table_cell_view v;
            hl_table_cell_get(t, r, t->col_order[j], &v);
            put_cell(f, &v);
        }
        fputs("</tr>\n", f);
    }
    if (t->nrows) fputs("</tbody>\n", f);
}

static void put_notes(const hl_table *t, FILE *f) {
    int nn = hl_table_note_count(t);
    if (!nn) return;
    fputs("<figcaption class=\"notes\"><ul>\n", f);
    for (int i = 0; i < nn; i++) {
        fputs("<li>", f);
        put_marker(f, i);
        fputc(' ', f);
        put_esc(f, hl_table_note(t, i));
        fputs("</li>\n", f);
    }
    fputs("</ul></figcaption>\n", f);
}

hl_status hl_table_write_html(const hl_table *t, FILE *f) {
    fputs("<figure class=\"hl-table\"", f);
    if (*t->label) {
        fputs(" id=\"", f);
        put_id(f, t->label);
        fputc('"', f);
    }
    fputs(">\n<table>\n", f);
    hl_status st = put_caption(t, f);
    if (st < 0) return st;
    put_head(t, f);
    put_body(t, f);
    fputs("</table>\n", f);
    put_notes(t, f);
    fputs("</figure>\n", f);
    if (ferror(f)) return hl_error_set(HL_EIO, "table: write failed (HTML)");
    return HL_OK;
}
