/* tests/lab/test_eps_text.c — ε is printed as written: a fraction as the suite wrote it (48/255, not 16/85), a
 * decimal as its shortest round-trip decimal (0.031, not 31/1000) in cell labels, result.json's "eps", the report's
 * tables and results.csv; the cell keys stay those of the canonical form (runs made before keep their cells), a
 * transfer pattern may spell ε either way, and a run directory holding results of both spellings reports one
 * setting once. */
#include <string.h>

#include "lab/yaml_load.h"
#include "reports/report.h"
#include "test_run.h"

static void expand_text(const char *text, hl_cell **cells, int64_t *n) {
    hl_config *root = NULL;
    hl_suite *s = NULL;
    cr_assert_eq(hl_yaml_load_string("s.yaml", text, &root), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_from_config(&s, root), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, "abc123", cells, n), HL_OK, "%s", hl_error_last());
    hl_suite_free(s);
}

#define SUITE_HEAD                                                                                                    \
    "name: e\ndataset: synthetic\nseeds: [0]\nhashers:\n  - method: lsh\n    bits: [8]\nattacks:\n"

Test(eps_text, labels_as_written_keys_canonical) {
    hl_cell *a = NULL, *b = NULL;
    int64_t na = 0, nb = 0;
    expand_text(SUITE_HEAD "  - {method: noise, eps: 0.031}\n  - {method: noise, eps: 48/255}\n"
                           "  - {method: noise, eps: 0.0313725}\n  - {method: noise, eps: 8 / 255}\n"
                           "  - {method: noise, norm: l2}\ntransfer: {attacks: ['noise:linf:16/85']}\n",
                &a, &na);
    expand_text(SUITE_HEAD "  - {method: noise, eps: 31/1000}\n  - {method: noise, eps: 16/85}\n"
                           "  - {method: noise, eps: 12549/400000}\n  - {method: noise, eps: 8/255}\n"
                           "  - {method: noise, norm: l2, eps: 8/255}\ntransfer: {attacks: ['noise:linf:48/255']}\n",
                &b, &nb);
    cr_assert_eq(na, 7, "1 train, 5 attack, 1 transfer cell (the pattern spells 48/255 as 16/85)");
    cr_assert_eq(nb, 7);
    static const char *const want_a[] = {"lsh/8b/seed0", "lsh/8b/seed0/noise:linf:0.031",
                                         "lsh/8b/seed0/noise:linf:48/255", "lsh/8b/seed0/noise:linf:0.0313725",
                                         "lsh/8b/seed0/noise:linf:8/255", "lsh/8b/seed0/noise:l2:8/255",
                                         "lsh/8b/seed0/noise:linf:48/255=>lsh/8b/seed0"};
    static const char *const want_b[] = {"lsh/8b/seed0", "lsh/8b/seed0/noise:linf:31/1000",
                                         "lsh/8b/seed0/noise:linf:16/85", "lsh/8b/seed0/noise:linf:12549/400000",
                                         "lsh/8b/seed0/noise:linf:8/255", "lsh/8b/seed0/noise:l2:8/255",
                                         "lsh/8b/seed0/noise:linf:16/85=>lsh/8b/seed0"};
    for (int i = 0; i < 7; i++) {
        cr_assert_str_eq(a[i].label, want_a[i]);
        cr_assert_str_eq(b[i].label, want_b[i]);
        cr_assert_str_eq(a[i].key, b[i].key, "%s: the key follows the value, not its spelling", a[i].label);
    }
    free(a);
    free(b);
}

/* The cell of `label` in the run directory rd. */
static char *result_path(const char *rd, const char *label) {
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    char *p = malloc(1200);
    snprintf(p, 1200, "%s/cells/%s/result.json", rd, cell_by_label(cells, n, label)->key);
    free(cells);
    return p;
}

static char *read_text(const char *path) {
    size_t len;
    return (char *)hl_test_read_file(path, &len);
}

Test(eps_text, results_and_report_as_written, .timeout = 120) {
    char *suite = write_suite("name: e\ndataset: synthetic\nsynthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
                              "protocol: cifar10-1:30/60\nseeds: [0, 1]\nhashers:\n  - method: lsh\n    bits: [8]\n"
                              "attacks:\n  - {method: noise, eps: 0.031}\n  - {method: noise, eps: 48/255}\n"
                              "report: {formats: [md, csv]}\n");
    char rd[1100];
    snprintf(rd, sizeof rd, "%s", tmp_dir("e"));
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.failed, 0);
    char *p = result_path(rd, "lsh/8b/seed0/noise:linf:0.031"), *r = read_text(p);
    cr_assert(strstr(r, "\"eps\":\"0.031\"") && strstr(r, "\"attack_config\":{\"bits\":[],\"eps\":\"31/1000\""),
              "%s", r);
    free(r);
    free(p);
    p = result_path(rd, "lsh/8b/seed0/noise:linf:48/255");
    r = read_text(p);
    cr_assert(strstr(r, "\"eps\":\"48/255\""), "%s", r);

    char *md = read_text(hl_test_path(rd, "report/tables.md"));
    char *csv = read_text(hl_test_path(rd, "report/results.csv"));
    cr_assert(strstr(md, "noise 0.031 (%)") && strstr(md, "noise 48/255 (%)") && strstr(md, "ε=0.031") &&
                  !strstr(md, "31/1000") && !strstr(md, "16/85"),
              "%s", md);
    cr_assert(strstr(csv, ",noise,linf,0.031,") && strstr(csv, ",noise,linf,48/255,") && !strstr(csv, "16/85") &&
                  !strstr(csv, "31/1000"),
              "%s", csv);
    free(md);
    free(csv);

    /* seed 0's result as an older hashlab wrote it (the canonical ε, the same key): still one setting, 48/255 */
    static const char old_eps[] = "\"eps\":\"48/255\"", canon_eps[] = "\"eps\":\"16/85\"";
    char *at = strstr(r, old_eps);
    memmove(at + strlen(canon_eps), at + strlen(old_eps), strlen(at + strlen(old_eps)) + 1);
    memcpy(at, canon_eps, strlen(canon_eps));
    hl_test_write_file(p, r, strlen(r));
    static const char *const formats[] = {"md", "csv"};
    hl_report_summary rs;
    cr_assert_eq(hl_report_build(rd, formats, 2, &rs), HL_OK, "%s", hl_error_last());
    md = read_text(hl_test_path(rd, "report/tables.md"));
    csv = read_text(hl_test_path(rd, "report/results.csv"));
    cr_assert(strstr(md, "noise 48/255 (%)") && !strstr(md, "16/85"), "%s", md);
    cr_assert(!strstr(csv, "16/85"), "%s", csv);
    free(md);
    free(csv);
    free(r);
    free(p);
    free(suite);
}
