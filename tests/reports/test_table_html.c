/* tests/reports/test_table_html.c — the HTML table writer (reports/table_html.c; layout in reports/table.h).
 *
 * A small table is checked against its exact output (read and checked by hand: the group row's blank cell spans the
 * row header and the ungrouped column, one <tbody> per row group, best <strong>, second <u>, the missing cell "–" with
 * its note marker, the note list). A richer table with & < > " ' in every text is checked for its escaped texts, its
 * spans (every row covers all columns), its marks and notes, and for being well-formed: balanced tags from the
 * writer's own set only, and no raw < > " ' or stray & in text.
 */
#include <stdlib.h>
#include <string.h>

#include "reports/table.h"
#include "test_common.h"

static const hl_table_col_opts PCT = {.precision = 2, .percent = true, .better = HL_TABLE_HIGHER};

static void add(hl_table *t, int r, int c, const double *v, int n) {
    cr_assert_eq(hl_table_add_samples(t, r, c, v, n), HL_OK, "%s", hl_error_last());
}

static char *html_of(const hl_table *t) {
    char *s;
    cr_assert_eq(hl_table_to_string(t, HL_TABLE_HTML, &s), HL_OK, "%s", hl_error_last());
    return s;
}

Test(table_html, small_table_exact) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "Clean", "mAP (%), mean ± std"), HL_OK);
    cr_assert_eq(hl_table_set_label(t, "tab:clean 16"), HL_OK);
    hl_table_set_second_best(t, true);
    int clean = hl_table_add_col(t, -1, "Clean", PCT);
    int g = hl_table_add_col_group(t, "16 bits");
    int map = hl_table_add_col(t, g, "mAP", PCT);
    hl_table_add_col(t, g, "P", PCT); /* all missing */
    int sup = hl_table_add_row_group(t, "supervised");
    int lsh = hl_table_add_row(t, -1, "LSH");
    int dsh = hl_table_add_row(t, sup, "DSH");
    int hn = hl_table_add_row(t, sup, "HashNet");
    add(t, lsh, clean, (double[]){0.5}, 1);
    add(t, dsh, clean, (double[]){0.6, 0.62}, 2);
    add(t, hn, clean, (double[]){0.7}, 1);
    add(t, lsh, map, (double[]){0.1}, 1);
    add(t, hn, map, (double[]){0.2}, 1);
    cr_assert_eq(hl_table_set_note(t, dsh, map, "diverged"), HL_OK);
    char *s = html_of(t);
    const char *want =
        "<figure class=\"hl-table\" id=\"tab:clean-16\">\n"
        "<table>\n"
        "<caption><strong>Clean</strong>. mAP (%), mean ± std</caption>\n"
        "<thead>\n"
        "<tr><td colspan=\"2\"></td><th colspan=\"2\" scope=\"colgroup\" class=\"cgroup\">16 bits</th></tr>\n"
        "<tr><th scope=\"col\">Method</th><th scope=\"col\" class=\"num\">Clean</th>"
        "<th scope=\"col\" class=\"num\">mAP</th><th scope=\"col\" class=\"num\">P</th></tr>\n"
        "</thead>\n"
        "<tbody>\n"
        "<tr><th scope=\"row\">LSH</th><td class=\"num\">50.00</td><td class=\"num\"><u>10.00</u></td>"
        "<td class=\"num missing\">–</td></tr>\n"
        "</tbody>\n"
        "<tbody>\n"
        "<tr class=\"group\"><th colspan=\"4\" scope=\"rowgroup\" class=\"group\">supervised</th></tr>\n"
        "<tr><th scope=\"row\">DSH</th><td class=\"num\"><u>61.00 ± 1.41</u></td>"
        "<td class=\"num missing\">–<sup>a</sup></td><td class=\"num missing\">–</td></tr>\n"
        "<tr><th scope=\"row\">HashNet</th><td class=\"num\"><strong>70.00</strong></td>"
        "<td class=\"num\"><strong>20.00</strong></td><td class=\"num missing\">–</td></tr>\n"
        "</tbody>\n"
        "</table>\n"
        "<figcaption class=\"notes\"><ul>\n"
        "<li><sup>a</sup> diverged</li>\n"
        "</ul></figcaption>\n"
        "</figure>\n";
    cr_assert_str_eq(s, want);
    free(s);
    hl_table_free(t);
}

/* ---- the rich table ---- */

#define NASTY "<b>&\"'"
#define NASTY_ESC "&lt;b&gt;&amp;&quot;&#39;"

/* Columns: "Clean" (ungrouped), group "16 bits <b>&"'" {mAP, TSR <b>&"'}, an empty group "unused", group "32 bits"
 * {mAP}. Rows: "Oracle" (ungrouped; 99 % in the mAP columns, no TSR), supervised {DSH <b>&"', HashNet},
 * unsupervised <b>&"' {LSH}. */
static hl_table *rich_table(void) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "Scores " NASTY, "caption " NASTY), HL_OK);
    cr_assert_eq(hl_table_set_row_header(t, "Method " NASTY), HL_OK);
    hl_table_set_second_best(t, true);
    int clean = hl_table_add_col(t, -1, "Clean", PCT);
    int g16 = hl_table_add_col_group(t, "16 bits " NASTY);
    hl_table_add_col_group(t, "unused");
    int g32 = hl_table_add_col_group(t, "32 bits");
    int m16 = hl_table_add_col(t, g16, "mAP", PCT);
    int tsr = hl_table_add_col(t, g16, "TSR " NASTY, (hl_table_col_opts){.precision = 1, .better = HL_TABLE_LOWER});
    int m32 = hl_table_add_col(t, g32, "mAP", PCT);
    int sup = hl_table_add_row_group(t, "supervised");
    int uns = hl_table_add_row_group(t, "unsupervised " NASTY);
    int lsh = hl_table_add_row(t, uns, "LSH");
    int dsh = hl_table_add_row(t, sup, "DSH " NASTY);
    int hn = hl_table_add_row(t, sup, "HashNet");
    int oracle = hl_table_add_row(t, -1, "Oracle");
    for (int c = 0; c < t->ncols; c++)
        if (c != tsr) add(t, oracle, c, (double[]){0.99}, 1);
    add(t, dsh, clean, (double[]){0.70, 0.72}, 2);
    add(t, hn, clean, (double[]){0.80}, 1);
    add(t, lsh, clean, (double[]){0.30}, 1);
    add(t, dsh, m16, (double[]){0.50}, 1);
    add(t, lsh, m16, (double[]){0.20}, 1);
    /* hn, m16: missing, with a note shared with lsh at 32 bits */
    cr_assert_eq(hl_table_set_note(t, hn, m16, "diverged: " NASTY), HL_OK);
    add(t, dsh, tsr, (double[]){3.0}, 1);
    add(t, hn, tsr, (double[]){2.0}, 1);
    add(t, lsh, tsr, (double[]){4.0}, 1);
    cr_assert_eq(hl_table_set_note(t, lsh, tsr, "one seed"), HL_OK);
    add(t, dsh, m32, (double[]){0.60}, 1);
    add(t, hn, m32, (double[]){0.65}, 1);
    cr_assert_eq(hl_table_set_note(t, lsh, m32, "diverged: " NASTY), HL_OK);
    return t;
}

static bool allowed_tag(const char *name, size_t n) {
    static const char *const tags[] = {"figure", "table",  "caption", "strong", "thead", "tbody", "tr", "th",
                                       "td",     "u",      "sup",     "figcaption", "ul", "li"};
    for (size_t i = 0; i < HL_ARRAY_LEN(tags); i++)
        if (strlen(tags[i]) == n && memcmp(tags[i], name, n) == 0) return true;
    return false;
}

/* Balanced tags from the writer's set; outside tags no raw > " ' and every & starts one of the five escapes. */
static void check_well_formed(const char *s) {
    char stack[64][16];
    int depth = 0;
    for (const char *p = s; *p;) {
        if (*p == '<') {
            bool close = p[1] == '/';
            const char *name = p + 1 + close;
            size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz");
            const char *end = strchr(name, '>');
            cr_assert(end && !memchr(name, '<', (size_t)(end - name)), "unterminated tag at: %.40s", p);
            cr_assert(n > 0 && n < 16 && allowed_tag(name, n), "unexpected tag at: %.40s", p);
            if (close) {
                cr_assert(depth > 0 && strlen(stack[depth - 1]) == n && memcmp(stack[depth - 1], name, n) == 0,
                          "</%.*s> does not close <%s>", (int)n, name, depth ? stack[depth - 1] : "(nothing)");
                depth--;
            } else {
                cr_assert(depth < 64);
                memcpy(stack[depth], name, n);
                stack[depth++][n] = '\0';
            }
            p = end + 1;
            continue;
        }
        cr_assert(!strchr(">\"'", *p), "raw '%c' in text at: %.40s", *p, p);
        if (*p == '&') {
            static const char *const ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
            bool ok = false;
            for (size_t i = 0; i < HL_ARRAY_LEN(ent); i++) ok |= strncmp(p, ent[i], strlen(ent[i])) == 0;
            cr_assert(ok, "stray '&' at: %.40s", p);
        }
        p++;
    }
    cr_assert_eq(depth, 0, "unclosed <%s>", depth ? stack[depth - 1] : "");
}

/* Every <tr> covers `width` columns (cells plus their colspans). */
static void check_row_widths(const char *s, int width) {
    int rows = 0;
    for (const char *tr = strstr(s, "<tr"); tr; tr = strstr(tr + 1, "<tr")) {
        const char *end = strstr(tr, "</tr>");
        cr_assert(end);
        int w = 0;
        for (const char *c = tr; c && c < end; c = strpbrk(c + 1, "<")) {
            if (strncmp(c, "<td", 3) != 0 && strncmp(c, "<th", 3) != 0) continue;
            if (c[3] != ' ' && c[3] != '>') continue; /* <thead>, <tbody> */
            const char *gt = strchr(c, '>'), *span = strstr(c, "colspan=\"");
            w += span && span < gt ? atoi(span + 9) : 1;
        }
        cr_assert_eq(w, width, "row %d spans %d columns, not %d: %.*s", rows, w, width, (int)(end - tr), tr);
        rows++;
    }
    cr_assert_eq(rows, 2 + 1 + 2 + 3, "2 header rows, Oracle, 2 group headings, 3 grouped rows; got %d", rows);
}

Test(table_html, escaping_spans_marks_notes) {
    hl_table *t = rich_table();
    char *s = html_of(t);
    check_well_formed(s);
    check_row_widths(s, 1 + 4);
    cr_assert_null(strstr(s, "<b>"), "unescaped <b> from the data:\n%s", s);
    /* Every text escaped exactly. */
    const char *want[] = {
        "<caption><strong>Scores " NASTY_ESC "</strong>. caption " NASTY_ESC "</caption>",
        "<th scope=\"col\">Method " NASTY_ESC "</th>",
        "<th scope=\"col\" class=\"num\">TSR " NASTY_ESC "</th>",
        "<th scope=\"row\">DSH " NASTY_ESC "</th>",
        "<th colspan=\"5\" scope=\"rowgroup\" class=\"group\">unsupervised " NASTY_ESC "</th>",
        /* group row: blank over Method + Clean, 16 bits over 2, 32 bits over 1, the empty group left out */
        "<tr><td colspan=\"2\"></td><th colspan=\"2\" scope=\"colgroup\" class=\"cgroup\">16 bits " NASTY_ESC
        "</th><th colspan=\"1\" scope=\"colgroup\" class=\"cgroup\">32 bits</th></tr>",
        /* display order: Oracle (ungrouped) first, then supervised, then unsupervised */
        "<tbody>\n<tr><th scope=\"row\">Oracle</th>",
        "</tbody>\n<tbody>\n<tr class=\"group\"><th colspan=\"5\" scope=\"rowgroup\" class=\"group\">supervised</th>",
        /* DSH: Clean 71.00 ± 1.41 (third: none), 16-bit mAP 50.00 second (Oracle 99 best), TSR 3.0 second (lower) */
        "<th scope=\"row\">DSH " NASTY_ESC "</th><td class=\"num\">71.00 ± 1.41</td><td class=\"num\"><u>50.00</u>"
        "</td><td class=\"num\"><u>3.0</u></td><td class=\"num\">60.00</td></tr>",
        /* HashNet: Clean second, the missing cell with marker a, TSR best, 32-bit second */
        "<th scope=\"row\">HashNet</th><td class=\"num\"><u>80.00</u></td><td class=\"num missing\">–<sup>a</sup>"
        "</td><td class=\"num\"><strong>2.0</strong></td><td class=\"num\"><u>65.00</u></td></tr>",
        /* LSH: a value with note b, the missing cell sharing note a */
        "<td class=\"num\">4.0<sup>b</sup></td><td class=\"num missing\">–<sup>a</sup></td></tr>",
        "<td class=\"num\"><strong>99.00</strong></td>",
        "<figcaption class=\"notes\"><ul>\n<li><sup>a</sup> diverged: " NASTY_ESC
        "</li>\n<li><sup>b</sup> one seed</li>\n</ul></figcaption>\n</figure>\n",
    };
    for (size_t i = 0; i < HL_ARRAY_LEN(want); i++) cr_assert(strstr(s, want[i]), "missing:\n%s\nin:\n%s", want[i], s);
    cr_assert(strncmp(s, "<figure class=\"hl-table\">\n<table>\n", 34) == 0, "no id without a label:\n%s", s);
    free(s);
    hl_table_free(t);
}

Test(table_html, format_name_ext_save_and_empty) {
    hl_table_format f;
    cr_assert_eq(hl_table_format_parse("html", &f), HL_OK);
    cr_assert_eq(f, HL_TABLE_HTML);
    cr_assert_str_eq(hl_table_format_ext(HL_TABLE_HTML), ".html");

    hl_table *t = rich_table();
    char *s = html_of(t);
    const char *path = hl_test_path(hl_test_tmpdir(), "t.html");
    cr_assert_eq(hl_table_save(t, HL_TABLE_HTML, path), HL_OK, "%s", hl_error_last());
    size_t len;
    unsigned char *file = hl_test_read_file(path, &len);
    cr_assert(len == strlen(s) && memcmp(file, s, len) == 0, "saved file differs from to_string");
    free(file);
    free(s);
    hl_table_free(t);

    cr_assert_eq(hl_table_create(&t, NULL, NULL), HL_OK);
    s = html_of(t);
    cr_assert_str_eq(s, "<figure class=\"hl-table\">\n<table>\n<thead>\n<tr><th scope=\"col\">Method</th></tr>\n"
                        "</thead>\n</table>\n</figure>\n");
    free(s);
    hl_table_free(t);
}
