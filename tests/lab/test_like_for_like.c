/* tests/lab/test_like_for_like.c — the report compares like with like: with fewer attacked queries than queries, the
 * robustness summary's clean column is the clean score over the attacked queries (each attack cell's
 * "mAP@R(clean)"), not over all queries (the train cell's mAP), and the caption says how many queries; results.csv
 * holds one row per (cell, metric) with per-class rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "test_run.h"

/* Field k (0-based) of a CSV line without quotes, into out. */
static void csv_field(const char *line, int k, char *out, size_t n) {
    const char *s = line;
    for (int i = 0; i < k && s; i++) s = strchr(s, ','), s = s ? s + 1 : NULL;
    cr_assert_not_null(s, "no field %d in '%s'", k, line);
    size_t l = strcspn(s, ",\r\n");
    snprintf(out, n, "%.*s", (int)HL_MIN(l, n - 1), s);
}

Test(like_for_like, summary_clean_is_over_the_attacked_queries) {
    char *suite = write_suite("name: like\n"
                              "dataset: synthetic\n"
                              "synthetic: {n: 400, c: 1, h: 8, w: 8, classes: 4, noise: 0.3}\n"
                              "protocol: cifar10-1:100/100\n"
                              "threads: 1\n"
                              "attack_queries: 30\n"
                              "metrics: {topk: all}\n"
                              "hashers:\n"
                              "  - method: lsh\n"
                              "    bits: [8, 16]\n"
                              "  - method: itq\n"
                              "    bits: [8, 16]\n"
                              "attacks:\n"
                              "  - method: noise\n"
                              "    eps: 16/255\n");
    const char *rd = tmp_dir("like");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    /* the summary CSV: row per method, columns "8 bits / clean (%) mean", ... */
    char p[1300], line[4096], head[4096];
    snprintf(p, sizeof p, "%s/report/tables_summary.csv", rd);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    cr_assert_not_null(fgets(head, sizeof head, f));
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char method[64], bits_col[64], v[64];
        csv_field(line, 0, method, sizeof method);
        for (int b = 8; b <= 16; b += 8) {
            /* find the column "<b> bits / clean (%) mean" */
            snprintf(bits_col, sizeof bits_col, "%d bits / clean (%%) mean", b);
            int k = 0, col = -1;
            for (const char *s = head; s; s = strchr(s, ','), s = s ? s + 1 : NULL, k++)
                if (!strncmp(s, bits_col, strlen(bits_col))) col = k;
            cr_assert(col >= 0, "no column '%s' in %s", bits_col, head);
            csv_field(line, col, v, sizeof v);
            double shown = strtod(v, NULL);
            /* the attack cell's clean score over the attacked queries, and the train cell's over all of them */
            char label[128];
            snprintf(label, sizeof label, "%s/%db/seed0/noise:linf:16/255", method, b);
            hl_config *t = result_of(rd, cell_by_label(cells, n, label)->key);
            double att_clean = NAN, queries = 0;
            cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), "mAP@all(clean)", &att_clean), HL_OK);
            cr_assert_eq(hl_config_get_double(t, "queries", &queries), HL_OK);
            cr_assert_eq(queries, 30);
            hl_config_free(t);
            snprintf(label, sizeof label, "%s/%db/seed0", method, b);
            t = result_of(rd, cell_by_label(cells, n, label)->key);
            double all_clean = NAN;
            cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), "mAP@all", &all_clean), HL_OK);
            hl_config_free(t);
            cr_assert(fabs(shown - 100 * att_clean) < 1e-6, "%s %d bits: summary clean %g, attacked queries' %g",
                      method, b, shown, 100 * att_clean);
            cr_assert(fabs(att_clean - all_clean) > 1e-9, "the test needs a subset whose score differs (%g)", all_clean);
            checked++;
        }
    }
    fclose(f);
    cr_assert_eq(checked, 4);
    /* the caption says it */
    size_t len = 0;
    snprintf(p, sizeof p, "%s/report/tables.md", rd);
    char *md = (char *)hl_test_read_file(p, &len);
    cr_assert(strstr(md, "every number is over the same 30 attacked queries"), "%s", md);
    free(md);
    /* tidy results: the header, a metric row and per-class rows of an attack cell */
    snprintf(p, sizeof p, "%s/report/results.csv", rd);
    char *csv = (char *)hl_test_read_file(p, &len);
    static const char want[] = "suite,method,name,bits,seed,attack,norm,eps,targeted,queries,metric,value\r\n";
    cr_assert(!strncmp(csv, want, sizeof want - 1), "%.200s", csv);
    cr_assert(strstr(csv, "\r\nlike,itq,itq,16,0,noise,linf,16/255,false,30,mAP@all(clean),"), "%.2000s", csv);
    cr_assert(strstr(csv, ",mAP@all[class=0],") && strstr(csv, ",mAP@all(clean)[class=3],"), "per-class rows");
    cr_assert(strstr(csv, "\r\nlike,lsh,lsh,8,0,,,,,100,mAP@all,"), "a train cell's row (all 100 queries)");
    free(csv);
    free(cells);
    free(suite);
}

/* The LaTeX tables compile with a stock TeX Live (pdflatex, booktabs) and their citations resolve against
 * methods.bib (bibtex): no LaTeX error, no undefined citation. Skipped, visibly, where pdflatex is not installed
 * (`apt-get install texlive-latex-base texlive-latex-recommended`). */
Test(like_for_like, latex_tables_and_citations_compile) {
    if (system("command -v pdflatex >/dev/null 2>&1 && command -v bibtex >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIPPED: like_for_like::latex_tables_and_citations_compile: pdflatex or bibtex not installed\n");
        cr_skip_test("pdflatex or bibtex not installed");
    }
    char *suite = write_suite("name: tex\n"
                              "dataset: synthetic\n"
                              "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
                              "protocol: cifar10-1:60/60\n"
                              "threads: 1\n"
                              "attack_queries: 20\n"
                              "hashers:\n"
                              "  - method: lsh\n"
                              "    bits: [8, 16]\n"
                              "  - method: itq\n"
                              "    bits: [8, 16]\n"
                              "attacks:\n"
                              "  - method: pgd\n"
                              "    eps: 8/255\n"
                              "    steps: 5\n"
                              "  - method: pgd\n"
                              "    name: dhta\n"
                              "    targeted: true\n"
                              "    eps: 8/255\n"
                              "    steps: 5\n");
    const char *rd = tmp_dir("tex");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    char rep[1300], cmd[4096], p[1400];
    snprintf(rep, sizeof rep, "%s/report", rd);
    snprintf(p, sizeof p, "%s/doc.tex", rep);
    const char *doc = "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
                      "\\usepackage{booktabs}\n\\begin{document}\n\\input{tables.tex}\n\\bibliographystyle{plain}\n"
                      "\\bibliography{methods}\n\\end{document}\n";
    hl_test_write_file(p, doc, strlen(doc));
    snprintf(cmd, sizeof cmd,
             "cd %s && pdflatex -interaction=nonstopmode -halt-on-error doc.tex >/dev/null 2>&1 && bibtex doc >/dev/null "
             "2>&1 && pdflatex -interaction=nonstopmode -halt-on-error doc.tex >/dev/null 2>&1 && pdflatex "
             "-interaction=nonstopmode -halt-on-error doc.tex >/dev/null 2>&1",
             rep);
    cr_assert_eq(system(cmd), 0, "LaTeX failed: see %s/doc.log", rep);
    size_t len = 0;
    snprintf(p, sizeof p, "%s/doc.log", rep);
    char *log = (char *)hl_test_read_file(p, &len);
    cr_assert(!strstr(log, "undefined") && !strstr(log, "\n!"), "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/tables.tex", rep);
    char *tex = (char *)hl_test_read_file(p, &len);
    cr_assert(strstr(tex, "itq~\\cite{gong2011itq}") && strstr(tex, "pgd~\\cite{madry2018pgd"), "%s", tex);
    free(tex);
    free(suite);
}
