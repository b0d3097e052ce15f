/* reports/table.c — the table model: structure, samples, statistics, best marking, notes, format dispatch. */
#include "reports/table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/atomic.h"

static char *dup_str(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static hl_status replace_str(char **dst, const char *s) {
    char *d = dup_str(s);
    if (!d) return hl_error_set(HL_ENOMEM, "table: out of memory");
    free(*dst);
    *dst = d;
    return HL_OK;
}

/* Grows *p (elements of size sz) to hold at least need; returns false on allocation failure. */
static bool grow(void **p, int *cap, int need, size_t sz) {
    if (need <= *cap) return true;
    int nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, (size_t)nc * sz);
    if (!q) return false;
    *p = q;
    *cap = nc;
    return true;
}

hl_status hl_table_create(hl_table **out, const char *title, const char *caption) {
    *out = NULL;
    hl_table *t = calloc(1, sizeof *t);
    if (!t) return hl_error_set(HL_ENOMEM, "table: out of memory");
    t->title = dup_str(title);
    t->caption = dup_str(caption);
    t->label = dup_str("");
    t->latex_cite = dup_str("");
    t->row_header = dup_str("Method");
    if (!t->title || !t->caption || !t->label || !t->latex_cite || !t->row_header) {
        hl_table_free(t);
        return hl_error_set(HL_ENOMEM, "table: out of memory");
    }
    *out = t;
    return HL_OK;
}

void hl_table_free(hl_table *t) {
    if (!t) return;
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            free(t->rows[r].cells[c].v);
            free(t->rows[r].cells[c].note);
        }
        free(t->rows[r].cells);
        free(t->rows[r].name);
    }
    for (int c = 0; c < t->ncols; c++) free(t->cols[c].name);
    for (int g = 0; g < t->ncol_groups; g++) free(t->col_groups[g]);
    for (int g = 0; g < t->nrow_groups; g++) free(t->row_groups[g]);
    free(t->rows);
    free(t->cols);
    free(t->col_groups);
    free(t->row_groups);
    free(t->col_order);
    free(t->row_order);
    free(t->title);
    free(t->caption);
    free(t->label);
    free(t->latex_cite);
    free(t->row_header);
    free(t);
}

hl_status hl_table_set_label(hl_table *t, const char *label) { return replace_str(&t->label, label); }
hl_status hl_table_set_latex_cite(hl_table *t, const char *tex) { return replace_str(&t->latex_cite, tex); }
hl_status hl_table_set_row_header(hl_table *t, const char *text) { return replace_str(&t->row_header, text); }
void hl_table_set_second_best(hl_table *t, bool on) { t->second_best = on; }
void hl_table_set_best_per_row_group(hl_table *t, bool on) { t->best_per_row_group = on; }
void hl_table_set_latex_wide(hl_table *t, bool on) { t->latex_wide = on; }

static int add_group(char ***groups, int *n, int *cap, const char *name) {
    char *s = dup_str(name);
    if (!s || !grow((void **)groups, cap, *n + 1, sizeof **groups)) {
        free(s);
        return hl_error_set(HL_ENOMEM, "table: out of memory");
    }
    (*groups)[*n] = s;
    return (*n)++;
}

int hl_table_add_col_group(hl_table *t, const char *name) {
    return add_group(&t->col_groups, &t->ncol_groups, &t->cap_cg, name);
}

int hl_table_add_row_group(hl_table *t, const char *name) {
    return add_group(&t->row_groups, &t->nrow_groups, &t->cap_rg, name);
}

/* Display order: ungrouped items first, then by group id, stable within a group. order has n slots. */
static void build_order(int *order, int n, int ngroups, const int *group_of, size_t stride) {
    int k = 0;
    for (int g = -1; g < ngroups; g++)
        for (int i = 0; i < n; i++)
            if (*(const int *)((const char *)group_of + (size_t)i * stride) == g) order[k++] = i;
}

int hl_table_add_col(hl_table *t, int group, const char *name, hl_table_col_opts opts) {
    HL_ASSERT(group >= -1 && group < t->ncol_groups, "column group %d of %d", group, t->ncol_groups);
    HL_ASSERT(opts.precision >= 0 && opts.precision <= 9, "precision %d not in 0..9", opts.precision);
    int n = t->ncols + 1;
    char *s = dup_str(name);
    int *order = malloc((size_t)n * sizeof *order);
    if (!s || !order || !grow((void **)&t->cols, &t->cap_cols, n, sizeof *t->cols)) goto done;
    for (int r = 0; r < t->nrows; r++) {
        hl_table_cell *c = realloc(t->rows[r].cells, (size_t)n * sizeof *c);
        if (!c) goto done;
        memset(&c[n - 1], 0, sizeof *c);
        t->rows[r].cells = c;
    }
    t->cols[n - 1] = (hl_table_col){.name = s, .group = group, .opts = opts};
    t->ncols = n;
    build_order(order, n, t->ncol_groups, &t->cols[0].group, sizeof *t->cols);
    free(t->col_order);
    t->col_order = order;
    return n - 1;
done: /* reached only on allocation failure */
    free(s);
    free(order);
    return hl_error_set(HL_ENOMEM, "table: out of memory");
}

int hl_table_add_row(hl_table *t, int group, const char *name) {
    HL_ASSERT(group >= -1 && group < t->nrow_groups, "row group %d of %d", group, t->nrow_groups);
    int n = t->nrows + 1;
    char *s = dup_str(name);
    int *order = malloc((size_t)n * sizeof *order);
    hl_table_cell *cells = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof *cells);
    if (!s || !order || !cells || !grow((void **)&t->rows, &t->cap_rows, n, sizeof *t->rows)) {
        free(s);
        free(order);
        free(cells);
        return hl_error_set(HL_ENOMEM, "table: out of memory");
    }
    t->rows[n - 1] = (hl_table_row){.name = s, .group = group, .cells = cells};
    t->nrows = n;
    build_order(order, n, t->nrow_groups, &t->rows[0].group, sizeof *t->rows);
    free(t->row_order);
    t->row_order = order;
    return n - 1;
}

static int find_in(char *const *names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

int hl_table_find_col_group(const hl_table *t, const char *name) { return find_in(t->col_groups, t->ncol_groups, name); }
int hl_table_find_row_group(const hl_table *t, const char *name) { return find_in(t->row_groups, t->nrow_groups, name); }

int hl_table_find_col(const hl_table *t, int group, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].group == group && strcmp(t->cols[c].name, name) == 0) return c;
    return -1;
}

int hl_table_find_row(const hl_table *t, int group, const char *name) {
    for (int r = 0; r < t->nrows; r++)
        if (t->rows[r].group == group && strcmp(t->rows[r].name, name) == 0) return r;
    return -1;
}

static hl_table_cell *cell_at(const hl_table *t, int row, int col) {
    HL_ASSERT(row >= 0 && row < t->nrows && col >= 0 && col < t->ncols, "cell (%d, %d) of %d x %d", row, col,
              t->nrows, t->ncols);
    return &t->rows[row].cells[col];
}

hl_status hl_table_add_samples(hl_table *t, int row, int col, const double *v, int n) {
    hl_table_cell *c = cell_at(t, row, col);
    HL_ASSERT(n >= 0, "n = %d", n);
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return hl_error_set(HL_ENUMERIC, "table: non-finite value %g for row '%s', column '%s'", v[i],
                                t->rows[row].name, t->cols[col].name);
    if (!grow((void **)&c->v, &c->cap, c->n + n, sizeof *c->v)) return hl_error_set(HL_ENOMEM, "table: out of memory");
    if (n) memcpy(c->v + c->n, v, (size_t)n * sizeof *v);
    c->n += n;
    return HL_OK;
}

hl_status hl_table_add_sample(hl_table *t, int row, int col, double v) { return hl_table_add_samples(t, row, col, &v, 1); }

hl_status hl_table_set_note(hl_table *t, int row, int col, const char *note) {
    hl_table_cell *c = cell_at(t, row, col);
    if (!note || !*note) {
        free(c->note);
        c->note = NULL;
        return HL_OK;
    }
    return replace_str(&c->note, note);
}

hl_status hl_table_put(hl_table *t, const char *row_group, const char *row, const char *col_group, const char *col,
                       double v) {
    int cg = -1, rg = -1;
    if (col_group && *col_group && (cg = hl_table_find_col_group(t, col_group)) < 0)
        return hl_error_set(HL_ENOTFOUND, "table: no column group '%s'", col_group);
    int c = hl_table_find_col(t, cg, col);
    if (c < 0)
        return hl_error_set(HL_ENOTFOUND, "table: no column '%s'%s%s", col, cg >= 0 ? " in group " : "",
                            cg >= 0 ? col_group : "");
    if (row_group && *row_group && (rg = hl_table_find_row_group(t, row_group)) < 0 &&
        (rg = hl_table_add_row_group(t, row_group)) < 0)
        return (hl_status)rg;
    int r = hl_table_find_row(t, rg, row);
    if (r < 0 && (r = hl_table_add_row(t, rg, row)) < 0) return (hl_status)r;
    return hl_table_add_sample(t, r, c, v);
}

double hl_table_mean(const double *v, int n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return s / n;
}

double hl_table_std(const double *v, int n) {
    if (n < 2) return NAN;
    double m = hl_table_mean(v, n), s = 0;
    for (int i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    return sqrt(s / (n - 1));
}

/* Display text of x under the column options; "-0.00" becomes "0.00". */
static void fmt_display(double x, const hl_table_col_opts *o, char *buf, size_t n) {
    double y = o->percent ? 100.0 * x : x;
    int prec = o->precision;
    if (o->sig > 0 && y != 0 && isfinite(y)) {
        prec = o->sig - 1 - (int)floor(log10(fabs(y)));
        char t[64];
        snprintf(t, sizeof t, "%.*f", HL_MIN(HL_MAX(prec, 0), 9), y); /* rounding may add a digit: 9.996 -> 10.00 */
        if (fabs(strtod(t, NULL)) >= pow(10.0, o->sig - prec)) prec--;
        prec = HL_MIN(HL_MAX(prec, 0), 9);
    }
    snprintf(buf, n, "%.*f", prec, y);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1)) memmove(buf, buf + 1, strlen(buf));
}

/* Rounded displayed mean of a non-missing cell (the value the reader sees). */
static double shown_mean(const hl_table *t, int row, int col) {
    const hl_table_cell *c = &t->rows[row].cells[col];
    char buf[48];
    fmt_display(hl_table_mean(c->v, c->n), &t->cols[col].opts, buf, sizeof buf);
    return strtod(buf, NULL);
}

static hl_table_mark mark_of(const hl_table *t, int row, int col) {
    hl_table_better b = t->cols[col].opts.better;
    if (b == HL_TABLE_BETTER_NONE || t->rows[row].cells[col].n == 0) return HL_TABLE_MARK_NONE;
    double mine = shown_mean(t, row, col), best = 0, second = 0;
    bool have_best = false, have_second = false;
    int g = t->rows[row].group, competitors = 0;
    for (int r = 0; r < t->nrows; r++) {
        if (t->rows[r].cells[col].n == 0 || (t->best_per_row_group && t->rows[r].group != g)) continue;
        competitors++;
        double x = shown_mean(t, r, col);
        bool better_than_best = b == HL_TABLE_HIGHER ? x > best : x < best;
        if (!have_best || better_than_best) {
            if (have_best) second = best, have_second = true;
            best = x, have_best = true;
        } else if (x != best) {
            bool better_than_second = b == HL_TABLE_HIGHER ? x > second : x < second;
            if (!have_second || better_than_second) second = x, have_second = true;
        }
    }
    if (competitors < 2) return HL_TABLE_MARK_NONE; /* a lone value is not "best" of anything */
    if (mine == best) return HL_TABLE_MARK_BEST;
    if (t->second_best && have_second && mine == second) return HL_TABLE_MARK_SECOND;
    return HL_TABLE_MARK_NONE;
}

/* Index of note text `want` among the distinct notes in display order; with want NULL, the number of them. */
static int scan_notes(const hl_table *t, const char *want) {
    int count = 0;
    for (int i = 0; i < t->nrows; i++)
        for (int j = 0; j < t->ncols; j++) {
            const char *note = t->rows[t->row_order[i]].cells[t->col_order[j]].note;
            if (!note) continue;
            bool seen = false;
            for (int i2 = 0; i2 <= i && !seen; i2++)
                for (int j2 = 0; j2 < (i2 == i ? j : t->ncols) && !seen; j2++) {
                    const char *o = t->rows[t->row_order[i2]].cells[t->col_order[j2]].note;
                    seen = o && strcmp(o, note) == 0;
                }
            if (seen) continue;
            if (want && strcmp(want, note) == 0) return count;
            count++;
        }
    return count;
}

int hl_table_note_count(const hl_table *t) { return scan_notes(t, NULL); }

const char *hl_table_note(const hl_table *t, int i) {
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            const char *note = t->rows[r].cells[c].note;
            if (note && scan_notes(t, note) == i) return note;
        }
    HL_ASSERT(0, "note %d of %d", i, hl_table_note_count(t));
}

void hl_table_note_marker(int i, char *buf) {
    char tmp[8];
    int k = 0;
    HL_ASSERT(i >= 0, "note %d", i);
    do {
        tmp[k++] = (char)('a' + i % 26);
        i = i / 26 - 1;
    } while (i >= 0 && k < 7);
    for (int j = 0; j < k; j++) buf[j] = tmp[k - 1 - j];
    buf[k] = '\0';
}

void hl_table_cell_get(const hl_table *t, int row, int col, hl_table_cell_view *v) {
    const hl_table_cell *c = cell_at(t, row, col);
    const hl_table_col_opts *o = &t->cols[col].opts;
    memset(v, 0, sizeof *v);
    v->n = c->n;
    v->samples = c->v;
    v->mean = hl_table_mean(c->v, c->n);
    v->std = hl_table_std(c->v, c->n);
    if (c->n > 0) fmt_display(v->mean, o, v->mean_str, sizeof v->mean_str);
    if (c->n > 1 && !o->hide_std) fmt_display(v->std, o, v->std_str, sizeof v->std_str);
    v->mark = mark_of(t, row, col);
    v->note = c->note ? scan_notes(t, c->note) : -1;
}

void hl_table_col_qualified(const hl_table *t, int col, char *buf, size_t n) {
    const hl_table_col *c = &t->cols[col];
    if (c->group < 0 || !*t->col_groups[c->group]) snprintf(buf, n, "%s", c->name);
    else if (!*c->name) snprintf(buf, n, "%s", t->col_groups[c->group]);
    else snprintf(buf, n, "%s / %s", t->col_groups[c->group], c->name);
}

char *hl_table_full_caption(const hl_table *t) {
    size_t a = strlen(t->title), b = strlen(t->caption);
    char *s = malloc(a + b + 3);
    if (!s) return NULL;
    const char *sep = "";
    if (a && b) sep = strchr(".:?!", t->title[a - 1]) ? " " : ". ";
    snprintf(s, a + b + 3, "%s%s%s", t->title, sep, t->caption);
    return s;
}

void hl_table_fmt_double(double v, char *buf) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, 32, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

hl_status hl_table_write(const hl_table *t, hl_table_format fmt, FILE *f) {
    switch (fmt) {
    case HL_TABLE_MD: return hl_table_write_md(t, f);
    case HL_TABLE_LATEX: return hl_table_write_latex(t, f);
    case HL_TABLE_CSV: return hl_table_write_csv(t, f);
    case HL_TABLE_JSON: return hl_table_write_json(t, f);
    case HL_TABLE_HTML: return hl_table_write_html(t, f);
    default: HL_ASSERT(0, "table format %d", (int)fmt);
    }
}

hl_status hl_table_to_string(const hl_table *t, hl_table_format fmt, char **out) {
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return hl_error_set(HL_ENOMEM, "table: cannot open a memory stream");
    hl_status st = hl_table_write(t, fmt, f);
    if (fclose(f) != 0 && st == HL_OK) st = hl_error_set(HL_ENOMEM, "table: memory stream failed");
    if (st < 0) free(buf);
    else *out = buf;
    return st;
}

hl_status hl_table_save(const hl_table *t, hl_table_format fmt, const char *path) {
    hl_atomic_file af;
    hl_status st = hl_atomic_write_begin(&af, path);
    if (st < 0) return st;
    st = hl_table_write(t, fmt, af.f);
    if (st < 0) {
        hl_atomic_write_abort(&af);
        return hl_error_wrap("%s", path);
    }
    return hl_atomic_write_commit(&af);
}

static const char *const format_names[][2] = {{"md", "markdown"}, {"tex", "latex"}, {"csv", "csv"}, {"json", "json"},
                                              {"html", "html"}};
_Static_assert(HL_ARRAY_LEN(format_names) == HL_TABLE_FORMAT_COUNT, "one name pair per table format");

hl_status hl_table_format_parse(const char *name, hl_table_format *out) {
    for (int i = 0; i < HL_TABLE_FORMAT_COUNT; i++)
        if (strcmp(name, format_names[i][0]) == 0 || strcmp(name, format_names[i][1]) == 0) {
            *out = (hl_table_format)i;
            return HL_OK;
        }
    return hl_error_set(HL_EINVAL, "unknown table format '%s' (known: md, markdown, tex, latex, csv, json, html)",
                        name);
}

const char *hl_table_format_ext(hl_table_format fmt) {
    static const char *const ext[] = {".md", ".tex", ".csv", ".json", ".html"};
    _Static_assert(HL_ARRAY_LEN(ext) == HL_TABLE_FORMAT_COUNT, "one extension per table format");
    HL_ASSERT(fmt >= 0 && fmt < HL_TABLE_FORMAT_COUNT, "table format %d", (int)fmt);
    return ext[fmt];
}
