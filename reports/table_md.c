/* reports/table_md.c — GitHub Markdown writer (layout in reports/table.h). */
#include <stdlib.h>
#include <string.h>

#include "reports/table.h"
#include "core/strbuf.h"

/* Markdown-escaped text; line breaks become spaces. */
static void sb_md(hl_strbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r') {
            hl_strbuf_puts(b, " ");
            continue;
        }
        if (strchr("\\|*_`[]<>~$", *s)) hl_strbuf_puts(b, "\\");
        hl_strbuf_put(b, s, 1);
    }
}

static void sb_marker(hl_strbuf *b, int note) {
    char m[8];
    if (note < 0) return;
    hl_table_note_marker(note, m);
    hl_strbuf_puts(b, "<sup>");
    hl_strbuf_puts(b, m);
    hl_strbuf_puts(b, "</sup>");
}

static void sb_cell(hl_strbuf *b, const hl_table_cell_view *v) {
    if (v->n == 0) {
        hl_strbuf_puts(b, "\xe2\x80\x93"); /* – */
    } else {
        const char *open = v->mark == HL_TABLE_MARK_BEST ? "**" : v->mark == HL_TABLE_MARK_SECOND ? "<u>" : "";
        const char *close = v->mark == HL_TABLE_MARK_BEST ? "**" : v->mark == HL_TABLE_MARK_SECOND ? "</u>" : "";
        hl_strbuf_puts(b, open);
        hl_strbuf_puts(b, v->mean_str);
        if (*v->std_str) {
            hl_strbuf_puts(b, " \xc2\xb1 "); /* ± */
            hl_strbuf_puts(b, v->std_str);
        }
        hl_strbuf_puts(b, close);
    }
    sb_marker(b, v->note);
}

/* Width in code points of UTF-8 text. */
static size_t utf8_width(const char *s) {
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void put_padded(FILE *f, const char *s, size_t width, bool right) {
    size_t w = utf8_width(s);
    if (right)
        for (size_t i = w; i < width; i++) fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (size_t i = w; i < width; i++) fputc(' ', f);
}

hl_status hl_table_write_md(const hl_table *t, FILE *f) {
    hl_status st = HL_OK;
    int nc = t->ncols + 1, nlines = 1; /* grid: header + one line per row and per row-group heading */
    for (int k = 0; k < t->nrows; k++) {
        int g = t->rows[t->row_order[k]].group;
        nlines += 1 + (g >= 0 && (k == 0 || t->rows[t->row_order[k - 1]].group != g));
    }
    hl_strbuf *grid = calloc((size_t)nlines * (size_t)nc, sizeof *grid);
    size_t *width = calloc((size_t)nc, sizeof *width);
    char *cap = hl_table_full_caption(t);
    if (!grid || !width || !cap) {
        st = hl_error_set(HL_ENOMEM, "table: out of memory");
        goto done;
    }
    sb_md(&grid[0], t->row_header);
    for (int j = 0; j < t->ncols; j++) {
        char q[512];
        hl_table_col_qualified(t, t->col_order[j], q, sizeof q);
        sb_md(&grid[j + 1], q);
    }
    int line = 1;
    for (int k = 0; k < t->nrows; k++) {
        const hl_table_row *row = &t->rows[t->row_order[k]];
        if (row->group >= 0 && (k == 0 || t->rows[t->row_order[k - 1]].group != row->group)) {
            hl_strbuf *b = &grid[(size_t)line++ * (size_t)nc];
            hl_strbuf_puts(b, "*");
            sb_md(b, t->row_groups[row->group]);
            hl_strbuf_puts(b, "*");
        }
        hl_strbuf *b = &grid[(size_t)line++ * (size_t)nc];
        sb_md(b, row->name);
        for (int j = 0; j < t->ncols; j++) {
            hl_table_cell_view v;
            hl_table_cell_get(t, t->row_order[k], t->col_order[j], &v);
            sb_cell(&b[j + 1], &v);
        }
    }
    for (size_t i = 0; i < (size_t)nlines * (size_t)nc; i++) {
        if (grid[i].oom) {
            st = hl_error_set(HL_ENOMEM, "table: out of memory");
            goto done;
        }
        size_t w = grid[i].p ? utf8_width(grid[i].p) : 0;
        if (w > width[i % (size_t)nc]) width[i % (size_t)nc] = w;
    }
    for (int j = 0; j < nc; j++) width[j] = HL_MAX(width[j], 3);

    if (*t->title) {
        hl_strbuf tb = {0};
        hl_strbuf_puts(&tb, "**");
        sb_md(&tb, t->title);
        hl_strbuf_puts(&tb, "**");
        if (tb.oom) st = hl_error_set(HL_ENOMEM, "table: out of memory");
        else fprintf(f, "%s\n\n", tb.p);
        free(tb.p);
        if (st < 0) goto done;
    }
    for (int l = 0; l < nlines; l++) {
        for (int j = 0; j < nc; j++) {
            const hl_strbuf *b = &grid[(size_t)l * (size_t)nc + (size_t)j];
            fputs("| ", f);
            put_padded(f, b->p ? b->p : "", width[j], j > 0);
            fputc(' ', f);
        }
        fputs("|\n", f);
        if (l == 0) {
            for (int j = 0; j < nc; j++) {
                fputs(j == 0 ? "| :" : "| ", f);
                for (size_t i = 1; i < width[j]; i++) fputc('-', f);
                fputs(j == 0 ? " " : ": ", f);
            }
            fputs("|\n", f);
        }
    }
    if (*cap) {
        hl_strbuf cb = {0};
        hl_strbuf_puts(&cb, "*");
        sb_md(&cb, cap);
        hl_strbuf_puts(&cb, "*");
        if (cb.oom) st = hl_error_set(HL_ENOMEM, "table: out of memory");
        else fprintf(f, "\n%s\n", cb.p);
        free(cb.p);
        if (st < 0) goto done;
    }
    for (int i = 0, nn = hl_table_note_count(t); i < nn; i++) {
        hl_strbuf nb = {0};
        sb_marker(&nb, i);
        hl_strbuf_puts(&nb, " ");
        sb_md(&nb, hl_table_note(t, i));
        if (nb.oom) st = hl_error_set(HL_ENOMEM, "table: out of memory");
        else fprintf(f, "\n%s\n", nb.p);
        free(nb.p);
        if (st < 0) goto done;
    }
    if (ferror(f)) st = hl_error_set(HL_EIO, "table: write failed (Markdown)");
done:
    if (grid)
        for (size_t i = 0; i < (size_t)nlines * (size_t)nc; i++) free(grid[i].p);
    free(grid);
    free(width);
    free(cap);
    return st;
}
