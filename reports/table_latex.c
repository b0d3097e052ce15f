/* reports/table_latex.c — LaTeX booktabs writer (layout in reports/table.h). */
#include <stdlib.h>
#include <string.h>

#include "reports/table.h"

static const struct {
    const char *utf8, *tex;
} unicode_map[] = {
    {"\xc2\xb1", "$\\pm$"},     {"\xc3\x97", "$\\times$"}, {"\xe2\x89\xa4", "$\\leq$"}, {"\xe2\x89\xa5", "$\\geq$"},
    {"\xce\xb5", "$\\varepsilon$"}, {"\xe2\x80\x93", "--"},  {"\xe2\x80\x94", "---"},   {"\xc2\xb7", "$\\cdot$"},
    {"\xe2\x88\x92", "$-$"},      {"\xcf\x83", "$\\sigma$"}, {"\xce\xb1", "$\\alpha$"}, {"\xce\xb2", "$\\beta$"},
    {"\xce\xbb", "$\\lambda$"},  {"\xce\xbc", "$\\mu$"},    {"\xe2\x86\x92", "$\\to$"}, {"\xe2\x89\x88", "$\\approx$"},
    {"\xe2\x80\xa6", "\\dots{}"}, {"\xe2\x80\x98", "`"},      {"\xe2\x80\x99", "'"},
};

/* Writes s with LaTeX specials escaped; line breaks become spaces. */
static void put_tex(FILE *f, const char *s) {
    while (*s) {
        bool mapped = false;
        for (size_t i = 0; i < HL_ARRAY_LEN(unicode_map) && !mapped; i++) {
            size_t n = strlen(unicode_map[i].utf8);
            if (strncmp(s, unicode_map[i].utf8, n) == 0) {
                fputs(unicode_map[i].tex, f);
                s += n;
                mapped = true;
            }
        }
        if (mapped) continue;
        switch (*s) {
        case '&': case '%': case '$': case '#': case '_': case '{': case '}':
            fputc('\\', f);
            fputc(*s, f);
            break;
        case '~': fputs("\\textasciitilde{}", f); break;
        case '^': fputs("\\textasciicircum{}", f); break;
        case '\\': fputs("\\textbackslash{}", f); break;
        case '<': fputs("\\textless{}", f); break;
        case '>': fputs("\\textgreater{}", f); break;
        case '|': fputs("\\textbar{}", f); break;
        case '\n': case '\r': fputc(' ', f); break;
        default:
            if ((unsigned char)*s >= 0x80) { /* any other non-ASCII character: its code point, so pdflatex never fails */
                unsigned char c = (unsigned char)*s;
                int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                unsigned cp = len == 1 ? c : c & (0x3fu >> (len - 1));
                for (int k = 1; k < len && ((unsigned char)s[k] & 0xc0) == 0x80; k++) cp = cp << 6 | (s[k] & 0x3f);
                fprintf(f, "\\texttt{U+%04X}", cp);
                for (int k = 1; k < len && s[1] && ((unsigned char)s[1] & 0xc0) == 0x80; k++) s++;
            } else {
                fputc(*s, f);
            }
        }
        s++;
    }
}

static void put_marker(FILE *f, int note) {
    char m[8];
    if (note < 0) return;
    hl_table_note_marker(note, m);
    fprintf(f, "\\textsuperscript{%s}", m);
}

static void put_cell(FILE *f, const hl_table_cell_view *v) {
    if (v->n == 0) {
        fputs("--", f);
    } else {
        if (v->mark == HL_TABLE_MARK_BEST) fputs("\\textbf{", f);
        if (v->mark == HL_TABLE_MARK_SECOND) fputs("\\underline{", f);
        fputs(v->mean_str, f);
        if (*v->std_str) fprintf(f, " $\\pm$ %s", v->std_str);
        if (v->mark != HL_TABLE_MARK_NONE) fputc('}', f);
    }
    put_marker(f, v->note);
}

/* The column-group header row and its \cmidrule line (nothing when the table has no column groups). */
static void put_group_header(const hl_table *t, FILE *f) {
    if (t->ncol_groups == 0) return;
    for (int j = 0; j < t->ncols;) {
        int g = t->cols[t->col_order[j]].group, len = 1;
        while (j + len < t->ncols && t->cols[t->col_order[j + len]].group == g) len++;
        fputs(" & ", f);
        if (g < 0) {
            for (int k = 1; k < len; k++) fputs(" & ", f);
        } else {
            fprintf(f, "\\multicolumn{%d}{c}{", len);
            put_tex(f, t->col_groups[g]);
            fputc('}', f);
        }
        j += len;
    }
    fputs(" \\\\\n", f);
    const char *sep = "";
    for (int j = 0; j < t->ncols;) {
        int g = t->cols[t->col_order[j]].group, len = 1;
        while (j + len < t->ncols && t->cols[t->col_order[j + len]].group == g) len++;
        if (g >= 0) {
            fprintf(f, "%s\\cmidrule(lr){%d-%d}", sep, j + 2, j + len + 1);
            sep = " ";
        }
        j += len;
    }
    fputs("\n", f);
}

hl_status hl_table_write_latex(const hl_table *t, FILE *f) {
    const char *env = t->latex_wide ? "table*" : "table";
    char *cap = hl_table_full_caption(t);
    if (!cap) return hl_error_set(HL_ENOMEM, "table: out of memory");
    fprintf(f, "\\begin{%s}[t]\n\\centering\n", env);
    if (*cap || *t->latex_cite) {
        fputs("\\caption{", f);
        put_tex(f, cap);
        fputs(t->latex_cite, f); /* raw LaTeX: citations */
        fputs("}\n", f);
    }
    if (*t->label) {
        fputs("\\label{", f);
        fputs(t->label, f); /* labels are keys: written verbatim */
        fputs("}\n", f);
    }
    fputs("\\begin{tabular}{@{}l", f);
    for (int j = 0; j < t->ncols; j++) fputc('c', f);
    fputs("@{}}\n\\toprule\n", f);
    put_group_header(t, f);
    put_tex(f, t->row_header);
    for (int j = 0; j < t->ncols; j++) {
        fputs(" & ", f);
        put_tex(f, t->cols[t->col_order[j]].name);
    }
    fputs(" \\\\\n\\midrule\n", f);
    for (int k = 0; k < t->nrows; k++) {
        const hl_table_row *row = &t->rows[t->row_order[k]];
        if (k > 0 && t->rows[t->row_order[k - 1]].group != row->group) fputs("\\midrule\n", f);
        if (row->group >= 0 && (k == 0 || t->rows[t->row_order[k - 1]].group != row->group)) {
            fprintf(f, "\\multicolumn{%d}{@{}l}{\\textit{", t->ncols + 1);
            put_tex(f, t->row_groups[row->group]);
            fputs("}} \\\\\n", f);
        }
        put_tex(f, row->name);
        for (int j = 0; j < t->ncols; j++) {
            hl_table_cell_view v;
            hl_table_cell_get(t, t->row_order[k], t->col_order[j], &v);
            fputs(" & ", f);
            put_cell(f, &v);
        }
        fputs(" \\\\\n", f);
    }
    fputs("\\bottomrule\n\\end{tabular}\n", f);
    int nn = hl_table_note_count(t);
    if (nn > 0) {
        fputs("\\par\\smallskip{\\footnotesize", f);
        for (int i = 0; i < nn; i++) {
            fputs(i ? "\\quad " : " ", f);
            put_marker(f, i);
            fputc('~', f);
            put_tex(f, hl_table_note(t, i));
        }
        fputs("}\n", f);
    }
    fprintf(f, "\\end{%s}\n", env);
    free(cap);
    if (ferror(f)) return hl_error_set(HL_EIO, "table: write failed (LaTeX)");
    return HL_OK;
}
