/* reports/table_md.c — GitHub Markdown writer (layout in reports/table.h). */
#include <stdlib.h>
#include <string.h>

#include "reports/table.h"

typedef struct sbuf {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 32;
        while (nc < b->n + n + 1) nc *= 2;
        char *q = realloc(b->s, nc);
        if (!q) {
            b->oom = true;
            return;
        }
        b->s = q;
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Markdown-escaped text; line breaks become spaces. */
static void sb_md(sbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r') {
            sb_str(b, " ");
            continue;
        }
        if (strchr("\\|*_`[]<>~$", *s)) sb_str(b, "\\");
        sb_put(b, s, 1);
    }
}

static void sb_marker(sbuf *b, int note) {
    char m[8];
    if (note < 0) return;
    hl_table_note_marker(note, m);
    sb_str(b, "<sup>");
    sb_str(b, m);
    sb_str(b, "</sup>");
}

static void sb_cell(sbuf *b, const hl_table_cell_view *v) {
    if (v->n == 0) {
        sb_str(b, "\xe2\x80\x93"); /* – */
    } else {
        const char *open = v->mark == HL_TABLE_MARK_BEST ? "**" : v->mark == HL_TABLE_MARK_SECOND ? "<u>" : "";
        const char *close = v->mark == HL_TABLE_MARK_BEST ? "**" : v->mark == HL_TABLE_MARK_SECOND ? "</u>" : "";
        sb_str(b, open);
        sb_str(b, v->mean_str);
        if (*v->std_str) {
            sb_str(b, " \xc2\xb1 "); /* ± */
            sb_str(b, v->std_str);
        }
        sb_str(b, close);
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
    sbuf *grid = calloc((size_t)nlines * (size_t)nc, sizeof *grid);
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
            sbuf *b = &grid[(size_t)line++ * (size_t)nc];
            sb_str(b, "*");
            sb_md(b, t->row_groups[row->group]);
            sb_str(b, "*");
        }
        sbuf *b = &grid[(size_t)line++ * (size_t)nc];
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
        size_t w = grid[i].s ? utf8_width(grid[i].s) : 0;
        if (w > width[i % (size_t)nc]) width[i % (size_t)nc] = w;
    }
    for (int j = 0; j < nc; j++) width[j] = HL_MAX(width[j], 3);

    if (*t->title) {
        sbuf tb = {0};
        sb_str(&tb, "**");
        sb_md(&tb, t->title);
        sb_str(&tb, "**");
        if (tb.oom) st = hl_error_set(HL_ENOMEM, "table: out of memory");
        else fprintf(f, "%s\n\n", tb.s);
        free(tb.s);
        if (st < 0) goto done;
    }
    for (int l = 0; l < nlines; l++) {
        for (int j = 0; j < nc; j++) {
            const sbuf *b = &grid[(size_t)l * (size_t)nc + (size_t)j];
            fputs("| ", f);
            put_padded(f, b->s ? b->s : "", width[j], j > 0);
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
        sbuf cb = {0};
        sb_str(&cb, "*");
        sb_md(&cb, cap);
        sb_str(&cb, "*");
        if (cb.oom) st = hl_error_set(HL_ENOMEM, "table: out of memory");
        else fprintf(f, "\n%s\n", cb.s);
        free(cb.s);
        if (st < 0) goto done;
    }
    for (int i = 0, nn = hl_table_note_count(t); i < nn; i++) {
        sbuf nb = {0};
        sb_marker(&nb, i);
        sb_str(&nb, " ");
        sb_md(&nb, hl_table_note(t, i));
        if (nb.oom) st = hl_error_set(HL_ENOMEM, "table: out of memory");
        else fprintf(f, "\n%s\n", nb.s);
        free(nb.s);
        if (st < 0) goto done;
    }
    if (ferror(f)) st = hl_error_set(HL_EIO, "table: write failed (Markdown)");
done:
    if (grid)
        for (size_t i = 0; i < (size_t)nlines * (size_t)nc; i++) free(grid[i].s);
    free(grid);
    free(width);
    free(cap);
    return st;
}
