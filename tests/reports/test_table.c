/* tests/reports/test_table.c — the report table model and its Markdown/LaTeX/CSV/JSON writers.
 *
 * Golden files: tests/data/reports/table_attack.{md,tex,csv,json} hold the exact output for paper_table() below.
 * They were written once by the code and checked by hand (numbers, bold/underline, escaping, quoting). After an
 * intended change to a writer, regenerate them and review the diff before committing:
 *     HL_UPDATE_GOLDEN=1 build/tests/test_reports
 * (with HL_UPDATE_GOLDEN set the golden tests write the files instead of comparing them).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/table.h"
#include "test_common.h"

static const hl_table_col_opts MAP_PCT = {.precision = 2, .percent = true, .better = HL_TABLE_HIGHER};
static const hl_table_col_opts TIME_MS = {.precision = 2, .better = HL_TABLE_LOWER};

static void add(hl_table *t, int r, int c, const double *v, int n) {
    cr_assert_eq(hl_table_add_samples(t, r, c, v, n), HL_OK, "%s", hl_error_last());
}

/* The realistic table of the goldens: 2 row groups × 3 bit lengths, each with mAP (%) (higher is better) and time
 * (ms, lower is better); 3 seeds mostly, some cells with 1 seed, one missing cell with a note, a cell with values
 * and a note, a tie for best at 64 bits (77.05 shown for raw means 0.770467 and 0.77051), second best underlined,
 * and LaTeX/Markdown/CSV special characters in names. */
static hl_table *paper_table(void) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "Retrieval on CIFAR-10",
                                 "mAP@1000 (%), ties by database index, queries with no relevant item count as 0; "
                                 "encoding time per query in ms; mean ± std over 3 seeds"),
                 HL_OK);
    cr_assert_eq(hl_table_set_label(t, "tab:cifar-clean"), HL_OK);
    hl_table_set_second_best(t, true);
    int cols[3][2];
    const char *bits[3] = {"16 bits", "32 bits", "64 bits"};
    for (int b = 0; b < 3; b++) {
        int g = hl_table_add_col_group(t, bits[b]);
        cr_assert_eq(g, b);
        cols[b][0] = hl_table_add_col(t, g, "mAP (%)", MAP_PCT);
        cols[b][1] = hl_table_add_col(t, g, "time (ms)", TIME_MS);
    }
    int sup = hl_table_add_row_group(t, "supervised"), uns = hl_table_add_row_group(t, "unsupervised");
    /* Added out of display order: the unsupervised row first. */
    int lsh = hl_table_add_row(t, uns, "LSH");
    int dsh = hl_table_add_row(t, sup, "DSH_v2 & co. 100%");
    int hn = hl_table_add_row(t, sup, "HashNet {ResNet}");
    int itq = hl_table_add_row(t, uns, "ITQ, \"PCA\" | ~x^2 #1 $");

    add(t, dsh, cols[0][0], (double[]){0.7123, 0.7168, 0.7101}, 3);
    add(t, dsh, cols[0][1], (double[]){1.20, 1.25, 1.22}, 3);
    add(t, dsh, cols[1][0], (double[]){0.7502, 0.7490, 0.7521}, 3);
    add(t, dsh, cols[1][1], (double[]){1.3}, 1);
    add(t, dsh, cols[2][0], (double[]){0.7711, 0.7698, 0.7705}, 3);
    add(t, dsh, cols[2][1], (double[]){1.5, 1.6, 1.4}, 3);

    add(t, hn, cols[0][0], (double[]){0.7050, 0.7090, 0.7080}, 3);
    add(t, hn, cols[0][1], (double[]){2.0, 2.1, 1.9}, 3);
    cr_assert_eq(hl_table_set_note(t, hn, cols[1][0], "diverged (NaN loss)"), HL_OK);
    cr_assert_eq(hl_table_set_note(t, hn, cols[1][1], "diverged (NaN loss)"), HL_OK);
    add(t, hn, cols[2][0], (double[]){0.77051}, 1);
    add(t, hn, cols[2][1], (double[]){2.4}, 1);

    add(t, lsh, cols[0][0], (double[]){0.3012, 0.2987, 0.3050}, 3);
    add(t, lsh, cols[0][1], (double[]){0.05, 0.06, 0.05}, 3);
    add(t, lsh, cols[1][0], (double[]){0.3321}, 1);
    add(t, lsh, cols[1][1], (double[]){0.05, 0.05, 0.06}, 3);
    add(t, lsh, cols[2][0], (double[]){0.3677, 0.3702, 0.3690}, 3);
    add(t, lsh, cols[2][1], (double[]){0.06, 0.05, 0.05}, 3);

    add(t, itq, cols[0][0], (double[]){0.4410, 0.4398}, 2);
    cr_assert_eq(hl_table_set_note(t, itq, cols[0][0], "1 of 3 seeds failed: out of memory"), HL_OK);
    add(t, itq, cols[0][1], (double[]){0.31, 0.29, 0.30}, 3);
    add(t, itq, cols[1][0], (double[]){0.4720, 0.4750, 0.4735}, 3);
    add(t, itq, cols[1][1], (double[]){0.33, 0.35, 0.34}, 3);
    add(t, itq, cols[2][0], (double[]){0.5011, 0.4990, 0.5003}, 3);
    add(t, itq, cols[2][1], (double[]){0.41, 0.39, 0.40}, 3);
    return t;
}

/* Compares got with the golden file byte for byte (reporting the first differing line), or rewrites the golden
 * when HL_UPDATE_GOLDEN is set. */
static void check_golden(const char *name, const char *got) {
    char *path = hl_test_path_alloc(HL_TEST_DATA_DIR "/reports", name);
    const char *upd = getenv("HL_UPDATE_GOLDEN");
    if (upd && *upd && strcmp(upd, "0") != 0) {
        hl_test_write_file(path, got, strlen(got));
        cr_log_warn("rewrote golden %s", path);
        free(path);
        return;
    }
    size_t len;
    char *want = (char *)hl_test_read_file(path, &len);
    size_t i = 0, line = 1;
    while (i < len && got[i] && want[i] == got[i]) line += got[i++] == '\n';
    bool same = i == len && got[i] == '\0';
    cr_assert(same, "%s differs from the output at line %zu (byte %zu)\n--- got:\n%s", path, line, i, got);
    free(want);
    free(path);
}

static void golden_case(hl_table_format fmt, const char *name) {
    hl_table *t = paper_table();
    char *s;
    cr_assert_eq(hl_table_to_string(t, fmt, &s), HL_OK, "%s", hl_error_last());
    check_golden(name, s);
    /* The atomic file writer writes exactly the string. */
    const char *path = hl_test_path(hl_test_tmpdir(), name);
    cr_assert_eq(hl_table_save(t, fmt, path), HL_OK, "%s", hl_error_last());
    size_t len;
    unsigned char *file = hl_test_read_file(path, &len);
    cr_assert(len == strlen(s) && memcmp(file, s, len) == 0, "%s: saved file differs from to_string", name);
    free(file);
    free(s);
    hl_table_free(t);
}

Test(table_golden, markdown) { golden_case(HL_TABLE_MD, "table_attack.md"); }
Test(table_golden, latex) { golden_case(HL_TABLE_LATEX, "table_attack.tex"); }
Test(table_golden, csv) { golden_case(HL_TABLE_CSV, "table_attack.csv"); }
Test(table_golden, json) { golden_case(HL_TABLE_JSON, "table_attack.json"); }

Test(table, mean_std) {
    double v[] = {1, 2, 3, 4};
    cr_assert_float_eq(hl_table_mean(v, 4), 2.5, 1e-15);
    cr_assert_float_eq(hl_table_std(v, 4), sqrt(5.0 / 3.0), 1e-15); /* Σ(x−m)² = 5, n − 1 = 3 */
    cr_assert_float_eq(hl_table_mean(v, 1), 1.0, 0);
    cr_assert(isnan(hl_table_std(v, 1)), "std of one sample is undefined");
    cr_assert(isnan(hl_table_mean(v, 0)));
    double c[] = {0.3, 0.3, 0.3};
    cr_assert_float_eq(hl_table_std(c, 3), 0.0, 1e-16);
}

Test(table, cell_view_display) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, NULL, NULL), HL_OK);
    int c = hl_table_add_col(t, -1, "mAP", MAP_PCT);
    int raw = hl_table_add_col(t, -1, "raw", (hl_table_col_opts){.precision = 3, .hide_std = true});
    int r = hl_table_add_row(t, -1, "m");
    add(t, r, c, (double[]){0.5, 0.6}, 2);
    add(t, r, raw, (double[]){-0.0004, 0.0001}, 2);
    hl_table_cell_view v;
    hl_table_cell_get(t, r, c, &v);
    cr_assert_eq(v.n, 2);
    cr_assert_str_eq(v.mean_str, "55.00");
    cr_assert_str_eq(v.std_str, "7.07"); /* 100 × sqrt(0.005) = 7.071 */
    cr_assert_eq(v.mark, HL_TABLE_MARK_NONE, "a one-row table marks nothing");
    cr_assert_eq(v.note, -1);
    hl_table_cell_get(t, r, raw, &v);
    cr_assert_str_eq(v.mean_str, "0.000", "negative zero shown as 0.000, got %s", v.mean_str); /* -0.00015 */
    cr_assert_str_eq(v.std_str, "", "hide_std");
    cr_assert_eq(v.mark, HL_TABLE_MARK_NONE, "better = none marks nothing");
    int r2 = hl_table_add_row(t, -1, "missing");
    hl_table_cell_get(t, r2, c, &v);
    cr_assert(v.n == 0 && v.mean_str[0] == '\0' && v.mark == HL_TABLE_MARK_NONE);
    hl_table_free(t);
}

/* marks[i] for rows with the given single-sample means in one column. */
static void marks_for(const double *means, int n, hl_table_col_opts o, bool second, hl_table_mark *marks) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "", ""), HL_OK);
    hl_table_set_second_best(t, second);
    int c = hl_table_add_col(t, -1, "x", o);
    for (int i = 0; i < n; i++) {
        int r = hl_table_add_row(t, -1, "r");
        if (!isnan(means[i])) add(t, r, c, &means[i], 1);
    }
    for (int i = 0; i < n; i++) {
        hl_table_cell_view v;
        hl_table_cell_get(t, i, c, &v);
        marks[i] = v.mark;
    }
    hl_table_free(t);
}

Test(table, best_compares_rounded_means) {
    const hl_table_mark N = HL_TABLE_MARK_NONE, B = HL_TABLE_MARK_BEST, S = HL_TABLE_MARK_SECOND;
    double m[] = {0.12344, 0.12336, 0.1220, NAN, 0.1210};
    hl_table_mark k[5];
    /* 3 decimals: 0.123 and 0.123 tie for best; 0.122 second; the missing cell is never marked. */
    marks_for(m, 5, (hl_table_col_opts){.precision = 3, .better = HL_TABLE_HIGHER}, true, k);
    cr_assert(k[0] == B && k[1] == B && k[2] == S && k[3] == N && k[4] == N, "%d %d %d %d %d", k[0], k[1], k[2],
              k[3], k[4]);
    /* 5 decimals separate them: 0.12344 best, 0.12336 second. */
    marks_for(m, 5, (hl_table_col_opts){.precision = 5, .better = HL_TABLE_HIGHER}, true, k);
    cr_assert(k[0] == B && k[1] == S && k[2] == N && k[4] == N);
    /* Lower is better, second best off. */
    marks_for(m, 5, (hl_table_col_opts){.precision = 3, .better = HL_TABLE_LOWER}, false, k);
    cr_assert(k[0] == N && k[1] == N && k[2] == N && k[4] == B);
    marks_for(m, 5, (hl_table_col_opts){.precision = 3, .better = HL_TABLE_LOWER}, true, k);
    cr_assert(k[2] == S && k[4] == B && k[0] == N);
    /* Percent display: 0.77046667 and 0.77051 are both 77.05 -> tie. */
    double p[] = {0.7704666667, 0.77051, 0.7704};
    marks_for(p, 3, MAP_PCT, true, k);
    cr_assert(k[0] == B && k[1] == B && k[2] == S);
    /* All equal: all best, no second. */
    double e[] = {1, 1, 1};
    marks_for(e, 3, (hl_table_col_opts){.precision = 1, .better = HL_TABLE_HIGHER}, true, k);
    cr_assert(k[0] == B && k[1] == B && k[2] == B);
}

Test(table, best_per_row_group) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "", ""), HL_OK);
    int c = hl_table_add_col(t, -1, "mAP", MAP_PCT);
    int g0 = hl_table_add_row_group(t, "a"), g1 = hl_table_add_row_group(t, "b");
    int r0 = hl_table_add_row(t, g0, "x"), r1 = hl_table_add_row(t, g0, "y"), r2 = hl_table_add_row(t, g1, "z");
    add(t, r0, c, (double[]){0.9}, 1);
    add(t, r1, c, (double[]){0.8}, 1);
    add(t, r2, c, (double[]){0.5}, 1);
    hl_table_cell_view v;
    hl_table_cell_get(t, r2, c, &v);
    cr_assert_eq(v.mark, HL_TABLE_MARK_NONE);
    hl_table_set_best_per_row_group(t, true);
    hl_table_cell_get(t, r2, c, &v);
    cr_assert_eq(v.mark, HL_TABLE_MARK_NONE, "z is alone in its group: nothing to be best of");
    hl_table_cell_get(t, r0, c, &v);
    cr_assert_eq(v.mark, HL_TABLE_MARK_BEST);
    hl_table_cell_get(t, r1, c, &v);
    cr_assert_eq(v.mark, HL_TABLE_MARK_NONE);
    hl_table_free(t);
}

/* One-row, one-column table named `name` rendered in fmt. */
static char *render_name(hl_table_format fmt, const char *name) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "", ""), HL_OK);
    int c = hl_table_add_col(t, -1, "v", (hl_table_col_opts){.precision = 1});
    int r = hl_table_add_row(t, -1, name);
    add(t, r, c, (double[]){1.0}, 1);
    char *s;
    cr_assert_eq(hl_table_to_string(t, fmt, &s), HL_OK);
    hl_table_free(t);
    return s;
}

Test(table, latex_escaping) {
    char *s = render_name(HL_TABLE_LATEX, "a&b%c$d#e_f{g}h~i^j\\k<l>m|n ±×≤≥ε–—·");
    const char *want = "a\\&b\\%c\\$d\\#e\\_f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k"
                       "\\textless{}l\\textgreater{}m\\textbar{}n $\\pm$$\\times$$\\leq$$\\geq$$\\varepsilon$-----"
                       "$\\cdot$ & 1.0 \\\\\n";
    cr_assert(strstr(s, want), "escaped row not found in:\n%s", s);
    cr_assert(strstr(s, "\\begin{table}[t]\n\\centering\n\\begin{tabular}{@{}lc@{}}\n\\toprule\nMethod & v \\\\\n"),
              "no caption or label when empty:\n%s", s);
    free(s);
}

Test(table, latex_wide_and_ungrouped_columns) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "T.", "cap"), HL_OK);
    hl_table_set_latex_wide(t, true);
    int g = hl_table_add_col_group(t, "PGD");
    hl_table_add_col(t, g, "mAP", MAP_PCT);
    hl_table_add_col(t, g, "TSR", MAP_PCT);
    hl_table_add_col(t, -1, "Clean", MAP_PCT); /* ungrouped: displayed first */
    hl_table_add_row(t, -1, "ITQ");
    char *s;
    cr_assert_eq(hl_table_to_string(t, HL_TABLE_LATEX, &s), HL_OK);
    const char *want = "\\begin{table*}[t]\n\\centering\n\\caption{T. cap}\n\\begin{tabular}{@{}lccc@{}}\n\\toprule\n"
                       " &  & \\multicolumn{2}{c}{PGD} \\\\\n\\cmidrule(lr){3-4}\nMethod & Clean & mAP & TSR \\\\\n"
                       "\\midrule\nITQ & -- & -- & -- \\\\\n\\bottomrule\n\\end{tabular}\n\\end{table*}\n";
    cr_assert_str_eq(s, want);
    free(s);
    hl_table_free(t);
}

Test(table, markdown_escaping) {
    char *s = render_name(HL_TABLE_MD, "a|b*c_d`e[f]g<h>i\\j~k$");
    cr_assert(strstr(s, "| a\\|b\\*c\\_d\\`e\\[f\\]g\\<h\\>i\\\\j\\~k\\$ | 1.0 |\n"), "got:\n%s", s);
    free(s);
}

Test(table, csv_quoting) {
    char *s = render_name(HL_TABLE_CSV, "a,b \"q\"\nc");
    cr_assert_str_eq(s, "Method,v mean,v std,v n\r\n\"a,b \"\"q\"\"\nc\",1,,1\r\n");
    free(s);
    s = render_name(HL_TABLE_CSV, "plain name");
    cr_assert_str_eq(s, "Method,v mean,v std,v n\r\nplain name,1,,1\r\n");
    free(s);
}

Test(table, json_escaping) {
    char *s = render_name(HL_TABLE_JSON, "q\"b\\s\x01\tn\né");
    cr_assert(strstr(s, "{\"name\": \"q\\\"b\\\\s\\u0001\\tn\\né\", \"group\": null, \"cells\": [\n      "
                        "{\"samples\": [1], \"n\": 1, \"mean\": 1, \"std\": null, \"display\": \"1.0\", \"best\": false, "
                        "\"second\": false, \"note\": null}\n    ]}"),
              "got:\n%s", s);
    free(s);
}

Test(table, shortest_doubles) {
    char b[32];
    hl_table_fmt_double(0.1, b);
    cr_assert_str_eq(b, "0.1");
    hl_table_fmt_double(0.1 + 0.2, b);
    cr_assert_str_eq(b, "0.30000000000000004");
    hl_table_fmt_double(1e-300, b);
    cr_assert_str_eq(b, "1e-300");
    hl_table_fmt_double(71.0, b);
    cr_assert_str_eq(b, "71");
}

Test(table, note_markers) {
    char m[8];
    const int idx[] = {0, 1, 25, 26, 27, 701, 702};
    const char *want[] = {"a", "b", "z", "aa", "ab", "zz", "aaa"};
    for (size_t i = 0; i < HL_ARRAY_LEN(idx); i++) {
        hl_table_note_marker(idx[i], m);
        cr_assert_str_eq(m, want[i], "marker %d", idx[i]);
    }
    hl_table *t = paper_table(); /* display order: DSH, HashNet (32 bits: diverged), LSH, ITQ (16 bits: failed) */
    cr_assert_eq(hl_table_note_count(t), 2);
    cr_assert_str_eq(hl_table_note(t, 0), "diverged (NaN loss)");
    cr_assert_str_eq(hl_table_note(t, 1), "1 of 3 seeds failed: out of memory");
    cr_assert_eq(hl_table_set_note(t, 1, 2, NULL), HL_OK); /* DSH (id 1), 32-bit mAP (id 2): no note to remove */
    cr_assert_eq(hl_table_note_count(t), 2);
    hl_table_free(t);
}

Test(table, errors_and_lookup) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "", ""), HL_OK);
    int g = hl_table_add_col_group(t, "16 bits");
    int c = hl_table_add_col(t, g, "mAP", MAP_PCT);
    int r = hl_table_add_row(t, -1, "ITQ");
    cr_assert_eq(hl_table_add_sample(t, r, c, NAN), HL_ENUMERIC);
    cr_assert_str_eq(hl_error_last(), "table: non-finite value nan for row 'ITQ', column 'mAP'");
    cr_assert_eq(hl_table_add_sample(t, r, c, INFINITY), HL_ENUMERIC);
    cr_assert_eq(t->rows[r].cells[c].n, 0, "refused samples are not stored");

    /* put: creates row group and row, finds the column, appends samples. */
    cr_assert_eq(hl_table_put(t, "supervised", "DSH", "16 bits", "mAP", 0.5), HL_OK);
    cr_assert_eq(hl_table_put(t, "supervised", "DSH", "16 bits", "mAP", 0.7), HL_OK);
    cr_assert_eq(hl_table_put(t, NULL, "ITQ", "16 bits", "mAP", 0.4), HL_OK);
    cr_assert_eq(t->nrows, 2);
    int rg = hl_table_find_row_group(t, "supervised"), dsh = hl_table_find_row(t, rg, "DSH");
    cr_assert(rg == 0 && dsh == 1);
    cr_assert_eq(t->rows[dsh].cells[c].n, 2);
    cr_assert_eq(t->rows[r].cells[c].n, 1);
    cr_assert_eq(hl_table_find_col(t, -1, "mAP"), -1, "grouped column not found as ungrouped");
    cr_assert_eq(hl_table_put(t, NULL, "ITQ", "16 bits", "TSR", 0.4), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "table: no column 'TSR' in group 16 bits");
    cr_assert_eq(hl_table_put(t, NULL, "ITQ", "8 bits", "mAP", 0.4), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "table: no column group '8 bits'");

    /* Columns added after rows start missing. */
    int c2 = hl_table_add_col(t, -1, "late", MAP_PCT);
    cr_assert_eq(t->rows[dsh].cells[c2].n, 0);
    cr_assert_eq(t->col_order[0], c2, "ungrouped column displayed first");

    hl_table_format f;
    cr_assert_eq(hl_table_format_parse("latex", &f), HL_OK);
    cr_assert_eq(f, HL_TABLE_LATEX);
    cr_assert_eq(hl_table_format_parse("markdown", &f), HL_OK);
    cr_assert_eq(f, HL_TABLE_MD);
    cr_assert_eq(hl_table_format_parse("xlsx", &f), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(),
                     "unknown table format 'xlsx' (known: md, markdown, tex, latex, csv, json, html)");
    cr_assert_str_eq(hl_table_format_ext(HL_TABLE_JSON), ".json");

    /* A failing save leaves nothing behind and names the path. */
    cr_assert_lt(hl_table_save(t, HL_TABLE_MD, "/nonexistent-dir/x.md"), 0);
    hl_table_free(t);
    hl_table_free(NULL);
}

Test(table, empty_table) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, "", ""), HL_OK);
    char *s;
    cr_assert_eq(hl_table_to_string(t, HL_TABLE_JSON, &s), HL_OK);
    cr_assert_str_eq(s, "{\n  \"title\": \"\",\n  \"caption\": \"\",\n  \"label\": \"\",\n  \"row_header\": \"Method\",\n"
                        "  \"second_best\": false,\n  \"best_per_row_group\": false,\n  \"column_groups\": [],\n"
                        "  \"row_groups\": [],\n  \"columns\": [],\n  \"notes\": [],\n  \"rows\": []\n}\n");
    free(s);
    cr_assert_eq(hl_table_to_string(t, HL_TABLE_MD, &s), HL_OK);
    cr_assert_str_eq(s, "| Method |\n| :----- |\n");
    free(s);
    hl_table_free(t);
}

/* sig: every value with that many significant digits, whatever its magnitude (ms per query spans orders). */
Test(table, significant_digits_per_value) {
    hl_table *t;
    cr_assert_eq(hl_table_create(&t, NULL, NULL), HL_OK);
    int c = hl_table_add_col(t, -1, "ms", (hl_table_col_opts){.precision = 3, .sig = 3, .hide_std = true});
    const double v[] = {214.46872, 1.61865, 0.0033712, 9.996, 0.0, 123456.7};
    const char *want[] = {"214", "1.62", "0.00337", "10.0", "0.000", "123457"};
    for (int i = 0; i < 6; i++) {
        char name[8];
        snprintf(name, sizeof name, "r%d", i);
        int r = hl_table_add_row(t, -1, name);
        cr_assert_eq(hl_table_add_sample(t, r, c, v[i]), HL_OK);
        hl_table_cell_view view;
        hl_table_cell_get(t, r, c, &view);
        cr_assert_str_eq(view.mean_str, want[i], "%.9g shown as %s", v[i], view.mean_str);
    }
    hl_table_free(t);
}
