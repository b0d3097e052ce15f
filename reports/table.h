/* reports/table.h — the report table model (what researchers paste into papers) and its five writers.
 *
 * A table has a title, a caption (state the metric conventions there: "mAP@1000, ties by database index, queries
 * with no relevant item count as 0; mean ± std over 3 seeds"), an optional LaTeX label, column groups ("16 bits",
 * "32 bits", or one group per attack), columns (each in a group or ungrouped), row groups ("supervised",
 * "unsupervised") and rows (each in a group or ungrouped). A cell holds SAMPLES, one value per seed, or none
 * (missing). A cell may also carry a short note (e.g. "diverged: NaN loss"), shown as a footnote marker a, b, … with
 * the note text below the table; equal note texts share one marker.
 *
 *     hl_table *t;
 *     HL_TRY(hl_table_create(&t, "Clean retrieval", "mAP@1000 (%), mean ± std over 3 seeds."));
 *     int g16 = hl_table_add_col_group(t, "16 bits");
 *     hl_table_col_opts pct = {.precision = 2, .percent = true, .better = HL_TABLE_HIGHER};
 *     int c = hl_table_add_col(t, g16, "mAP", pct);
 *     int r = hl_table_add_row(t, -1, "ITQ");
 *     HL_TRY(hl_table_add_sample(t, r, c, 0.7123));          // once per seed
 *     HL_TRY(hl_table_save(t, HL_TABLE_LATEX, "report/clean.tex"));
 *
 * Statistics: mean, and the sample standard deviation (divisor n − 1), shown only when n >= 2 (and the column does
 * not hide it). Display: the mean (and std) times 100 for percent columns, printed with the column's precision
 * ("%.*f", so round-half-even on the binary value as printf does); "-0.00" is shown as "0.00".
 * Best marking: for a column whose `better` is HIGHER or LOWER, every non-missing cell whose DISPLAYED (rounded)
 * mean equals the best displayed mean is best (ties are all best); with second-best enabled, the cells at the next
 * distinct displayed value are second. The competition is over all rows, or within each row group
 * (hl_table_set_best_per_row_group); ungrouped rows then form their own group. A competition with fewer than two
 * non-missing cells marks nothing (a lone value is not "best").
 *
 * Display order: ungrouped columns first, then the columns of group 0, 1, … (insertion order within a group); rows
 * likewise (ungrouped rows first, then by row group). Ids returned by the add functions never change.
 *
 * Formats (all writers emit '\n' line ends except CSV, which uses CRLF as RFC 4180 says):
 *   Markdown — GitHub pipe table padded to aligned columns; the title as a bold line above; one header row whose
 *     names are group-qualified ("16 bits / mAP"); row groups as italic heading rows; best **bold**, second
 *     <u>underlined</u>; "mean ± std"; missing "–" (U+2013); caption as an italic line below, then one paragraph
 *     per note ("<sup>a</sup> text"). Text is escaped for Markdown (\ | * _ ` [ ] < > ~ $).
 *   LaTeX — booktabs (\toprule, \midrule, \bottomrule); column groups as \multicolumn spans over \cmidrule(lr);
 *     row groups as \multicolumn{…}{l}{\textit{…}} rows separated by \midrule; best \textbf{…}, second
 *     \underline{…}; "mean $\pm$ std"; missing "--"; notes as \textsuperscript markers and a \footnotesize line
 *     under the tabular. Every text is escaped (& % $ # _ { } ~ ^ \ < > |) and the common Unicode symbols ± × ≤ ≥
 *     ε – — · become LaTeX. The table or table* environment holds \caption{title. caption} and \label.
 *   CSV — RFC 4180 (fields with , " CR or LF quoted, quotes doubled; CRLF line ends). A header row, then one row
 *     per table row in display order: the row group (a "group" column, present only when the table has row
 *     groups), the row name, then per column three fields "<q> mean", "<q> std", "<q> n" where <q> is the
 *     group-qualified column name. Values are in display units (× 100 for percent columns) with 10 significant
 *     digits (%.10g); a missing mean or std is an empty field; n is the sample count (0 when missing). The std
 *     is written even for hide_std columns, and titles, captions and notes are not part of the CSV.
 *   JSON — everything, in raw units: title, caption, label, options, column/row groups, columns (in display order,
 *     with their options), notes, and rows (display order) each with a cells array parallel to "columns". A cell
 *     is null when missing without a note, otherwise {"samples", "n", "mean", "std", "display", "best", "second",
 *     "note"} with mean/std null when undefined. Numbers are printed in their shortest round-trip form.
 *   HTML — an HTML5 fragment (no page around it; reports/report_html.h writes whole pages) for a UTF-8 page:
 *     <figure class="hl-table" id="label"> (id only when the label is set; white space in it becomes '-') holding a
 *     <table> with <caption><strong>title</strong>. caption</caption> (hl_table_full_caption's line, the title part
 *     in <strong>; no <caption> when both are empty); a <thead> whose first row, present only when some column is
 *     grouped, has one <th colspan="k" scope="colgroup" class="cgroup"> per column group (k = its columns; groups
 *     without columns omitted) after one blank <td> spanning the row header and the ungrouped columns, then the
 *     header row (<th scope="col">, the row header first, column names unqualified); one <tbody> per row group
 *     (the ungrouped rows, if any, in the first), a grouped one opening with the heading row
 *     <tr class="group"><th colspan="ncols + 1" scope="rowgroup" class="group">; per row
 *     <th scope="row">name</th> then <td class="num"> cells ("mean ± std", best
 *     <strong>…</strong>, second <u>…</u>, missing "–" with class "num missing", the note marker <sup>a</sup>
 *     after the value); then, when there are notes, a <figcaption class="notes"> with a <ul> of
 *     <li><sup>a</sup> text</li>. Every text (names, title, caption, notes, label) is escaped: & < > " ' become
 *     &amp; &lt; &gt; &quot; &#39;; other bytes (UTF-8 included) pass through. Numbers right-align through the
 *     "num" class (the page's stylesheet says how; the fragment has no style of its own).
 */
#ifndef HL_REPORTS_TABLE_H
#define HL_REPORTS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/common.h"

typedef enum hl_table_better {
    HL_TABLE_BETTER_NONE = 0, /* no marking */
    HL_TABLE_HIGHER,          /* higher is better (mAP, TSR, PSNR) */
    HL_TABLE_LOWER            /* lower is better (mAP under attack for the attacker, time, perturbation size) */
} hl_table_better;

typedef struct hl_table_col_opts {
    int precision;          /* decimals shown, 0..9 */
    int sig;                /* > 0: instead, each value with this many significant digits (decimals 0..9), e.g. 3:
                             * 214, 1.62, 0.00337 — for columns whose values span orders of magnitude (time) */
    bool percent;           /* show 100 × value (e.g. mAP 0.7123 -> 71.23) */
    hl_table_better better; /* best/second marking direction */
    bool hide_std;          /* never show "± std" in this column */
} hl_table_col_opts;

typedef enum hl_table_mark { HL_TABLE_MARK_NONE = 0, HL_TABLE_MARK_BEST, HL_TABLE_MARK_SECOND } hl_table_mark;

/* The model. Fields are read-only for callers and writers; change a table only through the functions below. */
typedef struct hl_table_cell {
    double *v;  /* samples, n of them */
    int n, cap;
    char *note; /* NULL or heap text */
} hl_table_cell;

typedef struct hl_table_col {
    char *name;
    int group; /* column group id, -1 when ungrouped */
    hl_table_col_opts opts;
} hl_table_col;

typedef struct hl_table_row {
    char *name;
    int group;           /* row group id, -1 when ungrouped */
    hl_table_cell *cells; /* ncols of them, indexed by column id */
} hl_table_row;

typedef struct hl_table {
    char *title, *caption, *label, *row_header; /* never NULL ("" when unset); row_header defaults to "Method" */
    char *latex_cite;          /* raw LaTeX appended to the LaTeX caption (citations), never NULL ("" when unset) */
    bool second_best;          /* mark second best (default false) */
    bool best_per_row_group;   /* compete within row groups (default false: over all rows) */
    bool latex_wide;           /* LaTeX table* instead of table (default false) */
    char **col_groups, **row_groups;
    int ncol_groups, nrow_groups;
    hl_table_col *cols;
    hl_table_row *rows;
    int ncols, nrows;
    int *col_order, *row_order; /* display order: col_order[k] is the id of the k-th displayed column */
    int cap_cols, cap_rows, cap_cg, cap_rg;
} hl_table;

/* Everything a writer needs about one cell. */
typedef struct hl_table_cell_view {
    int n;                  /* number of samples; 0 = missing */
    const double *samples;  /* raw values */
    double mean, std;       /* raw units; mean valid when n >= 1, std when n >= 2 (else NAN) */
    char mean_str[48];      /* display text of the mean ("" when missing) */
    char std_str[48];       /* display text of the std ("" when n < 2 or the column hides it) */
    hl_table_mark mark;
    int note;               /* index into the table's notes (hl_table_note), -1 when none */
} hl_table_cell_view;

/* Creates an empty table; title and caption may be NULL (""). *out is NULL on failure. NULL-safe free. */
hl_status hl_table_create(hl_table **out, const char *title, const char *caption);
void hl_table_free(hl_table *t);

/* Options. The setters copy their strings (NULL means ""). */
hl_status hl_table_set_label(hl_table *t, const char *label);
/* Raw LaTeX appended to the LaTeX caption only, unescaped (e.g. " Methods: DPSH~\cite{li2016dpsh}."); the other
 * formats ignore it. */
hl_status hl_table_set_latex_cite(hl_table *t, const char *tex);
hl_status hl_table_set_row_header(hl_table *t, const char *text);
void hl_table_set_second_best(hl_table *t, bool on);
void hl_table_set_best_per_row_group(hl_table *t, bool on);
void hl_table_set_latex_wide(hl_table *t, bool on);

/* Structure. Each returns the new id (>= 0) or HL_ENOMEM. group is a group id or -1 (ungrouped); an invalid group
 * id or a precision outside 0..9 is a programming error (HL_ASSERT). Columns added after rows get missing cells. */
int hl_table_add_col_group(hl_table *t, const char *name);
int hl_table_add_row_group(hl_table *t, const char *name);
int hl_table_add_col(hl_table *t, int group, const char *name, hl_table_col_opts opts);
int hl_table_add_row(hl_table *t, int group, const char *name);

/* Lookup by name (exact); group -1 matches ungrouped items only. Return the id or -1. */
int hl_table_find_col_group(const hl_table *t, const char *name);
int hl_table_find_row_group(const hl_table *t, const char *name);
int hl_table_find_col(const hl_table *t, int group, const char *name);
int hl_table_find_row(const hl_table *t, int group, const char *name);

/* Data. A non-finite value is refused with HL_ENUMERIC (message names the row and column). set_note replaces the
 * cell's note (NULL or "" removes it). */
hl_status hl_table_add_sample(hl_table *t, int row, int col, double v);
hl_status hl_table_add_samples(hl_table *t, int row, int col, const double *v, int n);
hl_status hl_table_set_note(hl_table *t, int row, int col, const char *note);

/* Aggregation by name, for feeding per-seed results: finds or creates the row group (NULL or "" = ungrouped) and the
 * row, finds the column (which must exist: HL_ENOTFOUND otherwise, message listing the name), adds the sample. */
hl_status hl_table_put(hl_table *t, const char *row_group, const char *row, const char *col_group, const char *col,
                       double v);

/* Views. mean/std of n values (std: sample std, n − 1; NAN for n < 2; mean NAN for n == 0). */
double hl_table_mean(const double *v, int n);
double hl_table_std(const double *v, int n);
/* Fills *v for cell (row, col) (ids, not display positions). */
void hl_table_cell_get(const hl_table *t, int row, int col, hl_table_cell_view *v);
/* Distinct notes in display order (row-major over displayed rows and columns), and their markers "a".."z", "aa"…
 * (buf of at least 8 bytes). */
int hl_table_note_count(const hl_table *t);
const char *hl_table_note(const hl_table *t, int i);
void hl_table_note_marker(int i, char *buf);
/* "group / name" for grouped columns, the name otherwise, into buf (truncated to n − 1 bytes). */
void hl_table_col_qualified(const hl_table *t, int col, char *buf, size_t n);
/* The caption line: "title. caption" (no ". " when either is empty; " " when the title already ends in . : ? !). Heap
 * string, or NULL on allocation failure. */
char *hl_table_full_caption(const hl_table *t);

/* Writers. */
typedef enum hl_table_format {
    HL_TABLE_MD,
    HL_TABLE_LATEX,
    HL_TABLE_CSV,
    HL_TABLE_JSON,
    HL_TABLE_HTML,
    HL_TABLE_FORMAT_COUNT
} hl_table_format;

/* Write to an open stream; HL_EIO if the stream reports an error, HL_ENOMEM on allocation failure. */
hl_status hl_table_write_md(const hl_table *t, FILE *f);
hl_status hl_table_write_latex(const hl_table *t, FILE *f);
hl_status hl_table_write_csv(const hl_table *t, FILE *f);
hl_status hl_table_write_json(const hl_table *t, FILE *f);
hl_status hl_table_write_html(const hl_table *t, FILE *f);
hl_status hl_table_write(const hl_table *t, hl_table_format fmt, FILE *f);
/* The whole output as a heap NUL-terminated string (*out NULL on failure; the caller frees). */
hl_status hl_table_to_string(const hl_table *t, hl_table_format fmt, char **out);
/* Atomic file write (core/io/atomic.h): path holds the old file or the complete new one. */
hl_status hl_table_save(const hl_table *t, hl_table_format fmt, const char *path);
/* "md"/"markdown", "tex"/"latex", "csv", "json", "html" -> format; HL_EINVAL otherwise (message lists the names). */
hl_status hl_table_format_parse(const char *name, hl_table_format *out);
/* File extension with the dot: ".md", ".tex", ".csv", ".json", ".html". */
const char *hl_table_format_ext(hl_table_format fmt);

/* Shared by the writers: the shortest "%.*g" (up to 17 digits) that reads back as exactly v, into buf (>= 32). */
void hl_table_fmt_double(double v, char *buf);
/* Shared by the HTML writers (here and reports/report_html.c): the first n bytes of s to f with & < > " ' escaped
 * as &amp; &lt; &gt; &quot; &#39;; every other byte (UTF-8 included) passes through. */
void hl_table_html_escape(FILE *f, const char *s, size_t n);

#endif
