/* tests/lab/test_sanity.c — the attack ensemble and the sanity checks end to end, through the real CLI: on a model that
 * binarises its input (no input gradient) `auto` raises zero_gradients and gradient_free_beats_white_box and its
 * gradient-free member moves the model; a linear model (ITQ) and a deep one (DPSH) raise no per-cell flag, ITQ's exact
 * bound lies below every attack; per query the ensemble is never worse than any member nor than PGD-100 run alone with
 * the member's settings; an ε sweep made non-monotone on purpose (a larger ε with no steps) is flagged by `hashlab
 * status` and marked in the report; a parameter-free attack refuses step settings at file:line:col. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "test_run.h"

/* Column `name` of DIR/per_query.csv into v (up to max rows); returns the rows read (-1: no such column). */
static int csv_col(const char *dir, const char *name, double *v, int max) {
    char p[1300], line[4096];
    snprintf(p, sizeof p, "%s/per_query.csv", dir);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    cr_assert_not_null(fgets(line, sizeof line, f));
    int col = -1, k = 0;
    for (char *t = strtok(line, ",\n"); t; t = strtok(NULL, ",\n"), k++)
        if (!strcmp(t, name)) col = k;
    int n = 0;
    while (col >= 0 && n < max && fgets(line, sizeof line, f)) {
        k = 0;
        for (char *t = strtok(line, ",\n"); t; t = strtok(NULL, ",\n"), k++)
            if (k == col) v[n++] = strtod(t, NULL);
    }
    fclose(f);
    return col < 0 ? -1 : n;
}

static const char *cell_dir(const char *rd, const hl_cell *c) {
    static char b[4][1200];
    static int next;
    char *p = b[next++ % 4];
    snprintf(p, sizeof b[0], "%s/cells/%s", rd, c->key);
    return p;
}

static char *flags_of(const hl_config *t) {
    char *s = NULL;
    cr_assert_eq(hl_config_canonical_json(hl_config_path(t, "sanity.flags"), &s), HL_OK);
    return s;
}

static char *capture(const char *cmd) {
    char *out = calloc(1, 65536);
    cr_assert_not_null(out);
    run_capture(cmd, out, 65536);
    return out;
}

Test(sanity, ensemble_and_flags_end_to_end) {
    char text[4096];
    snprintf(text, sizeof text,
             "name: sanity\n"
             "dataset: synthetic\n"
             "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
             "protocol: cifar10:30/60\n"
             "threads: 1\n"
             "metrics: {topk: all}\n"
             "plugins: ['%s']\n"
             "hashers:\n"
             "  - method: binarize\n"
             "    bits: [8]\n"
             "  - method: itq\n"
             "    bits: [8]\n"
             "  - method: dpsh\n"
             "    bits: [8]\n"
             "    params: {epochs: 8, batch: 16}\n"
             "attacks:\n"
             "  - method: pgd\n"
             "    eps: 8/255\n"
             "    steps: 10\n"
             "    step_size: 2/255\n"
             "  - method: pgd\n" /* a larger ε with no step at all: weaker on purpose */
             "    eps: 16/255\n"
             "    steps: 0\n"
             "    random_start: false\n"
             "  - method: pgd\n"
             "    name: pgd100\n"
             "    eps: 8/255\n"
             "    steps: 100\n"
             "    step_size: 2/255\n"
             "    random_start: true\n"
             "    params: {loss: hag, sharpen: none}\n"
             "  - method: auto\n"
             "    eps: 8/255\n"
             "  - method: auto\n" /* where more binarised pixels can flip */
             "    name: auto-wide\n"
             "    eps: 32/255\n"
             "  - method: auto\n"
             "    name: auto-targeted\n"
             "    targeted: true\n"
             "    eps: 32/255\n",
             HL_BINARIZE_PLUGIN);
    char *suite = write_suite(text);
    const char *rd = tmp_dir("sanity");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --output %s --quiet >/dev/null 2>&1", HL_BUILD_DIR, suite, rd);
    cr_assert_eq(system(cmd), 0, "hashlab run failed: %s", cmd);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    enum { MAXQ = 512 };
    static double ap[MAXQ], m[3][MAXQ], p100[MAXQ], clean[MAXQ];
    static const char *const members[3] = {"ap_apgd", "ap_pgd", "ap_square"};

    /* the binarising model: flagged, and moved by the gradient-free member */
    const hl_cell *bc = cell_by_label(cells, n, "binarize/8b/seed0/auto-wide:linf:32/255");
    hl_config *t = result_of(rd, bc->key);
    char *f = flags_of(t);
    cr_assert(strstr(f, "zero_gradients"), "binarize: %s", f);
    free(f);
    double wins = 0, sq_map = 1, clean_map = 0;
    cr_assert_eq(hl_config_get_double(t, "ensemble.members.2.wins", &wins), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_config_get_double(t, "ensemble.members.2.map", &sq_map), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_config_get_double(t, "metrics.mAP@all(clean)", &clean_map), HL_OK, "%s", hl_error_last());
    cr_assert(wins > 0 && sq_map < clean_map - 0.01, "square: wins %g, mAP %g (clean %g)", wins, sq_map, clean_map);
    hl_config_free(t);
    /* targeted, where only square can aim at the target (its gradient members have nothing to follow) */
    t = result_of(rd, cell_by_label(cells, n, "binarize/8b/seed0/auto-targeted:linf:32/255")->key);
    f = flags_of(t);
    cr_assert(strstr(f, "zero_gradients") && strstr(f, "gradient_free_beats_white_box"), "binarize targeted: %s", f);
    free(f);
    int q = csv_col(cell_dir(rd, bc), "ap_adv", ap, MAXQ);
    cr_assert_eq(csv_col(cell_dir(rd, bc), "ap_clean", clean, MAXQ), q);
    double sa = 0, sc = 0;
    for (int i = 0; i < q; i++) sa += ap[i], sc += clean[i];
    cr_assert(q > 0 && sa < sc, "the ensemble did not move it: %g vs clean %g", sa / q, sc / q);
    hl_config_free(t);
    t = result_of(rd, cell_by_label(cells, n, "itq/8b/seed0/auto-targeted:linf:32/255")->key);
    f = flags_of(t);
    cr_assert_str_eq(f, "[]", "itq targeted: %s", f);
    free(f);
    hl_config_free(t);

    const char *models[3] = {"binarize", "itq", "dpsh"};
    for (int k = 0; k < 3; k++) {
        char label[128];
        snprintf(label, sizeof label, "%s/8b/seed0/auto:linf:8/255", models[k]);
        const hl_cell *ac = cell_by_label(cells, n, label);
        snprintf(label, sizeof label, "%s/8b/seed0/pgd100:linf:8/255", models[k]);
        const hl_cell *pc = cell_by_label(cells, n, label);
        q = csv_col(cell_dir(rd, ac), "ap_adv", ap, MAXQ);
        cr_assert_eq(csv_col(cell_dir(rd, pc), "ap_adv", p100, MAXQ), q);
        for (int j = 0; j < 3; j++) cr_assert_eq(csv_col(cell_dir(rd, ac), members[j], m[j], MAXQ), q);
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < 3; j++)
                cr_assert(ap[i] <= m[j][i], "%s query %d: ensemble AP %g above member %s's %g", models[k], i, ap[i],
                          members[j], m[j][i]);
            cr_assert(ap[i] <= p100[i], "%s query %d: ensemble AP %g above PGD-100's %g", models[k], i, ap[i],
                      p100[i]);
            cr_assert_eq(m[1][i], p100[i], "%s query %d: the PGD member is PGD-100 run alone", models[k], i);
        }
        if (k == 0) continue;
        /* normal models raise no per-cell flag; the probe reached the floor */
        t = result_of(rd, ac->key);
        f = flags_of(t);
        cr_assert_str_eq(f, "[]", "%s: %s", models[k], f);
        free(f);
        double score = NAN, floor = NAN;
        cr_assert_eq(hl_config_get_double(t, "sanity.probe.score", &score), HL_OK, "%s", hl_error_last());
        cr_assert_eq(hl_config_get_double(t, "sanity.probe.floor", &floor), HL_OK, "%s", hl_error_last());
        cr_assert(score <= floor + 0.05, "%s: probe %g, floor %g", models[k], score, floor);
        if (k == 1) { /* ITQ is linear: no attack goes below the bound, and the closed-form attack is achievable */
            double bound = NAN, atk = NAN, cf = NAN, covered = 0, certified = -1;
            cr_assert_eq(hl_config_get_double(t, "sanity.exact.bound", &bound), HL_OK, "%s", hl_error_last());
            cr_assert_eq(hl_config_get_double(t, "sanity.exact.attack_score_bounded", &atk), HL_OK);
            cr_assert_eq(hl_config_get_double(t, "sanity.exact.closed_form_bounded", &cf), HL_OK);
            cr_assert_eq(hl_config_get_double(t, "sanity.exact.queries", &covered), HL_OK);
            cr_assert_eq(hl_config_get_double(t, "sanity.exact.certified_queries", &certified), HL_OK);
            cr_assert(covered > 0 && bound <= atk + 1e-12 && bound <= cf + 1e-12 && certified >= 0 &&
                          certified <= covered,
                      "bound %g, attack %g, closed form %g over %g queries (%g certified)", bound, atk, cf, covered,
                      certified);
        } else {
            cr_assert_null(hl_config_path(t, "sanity.exact"), "dpsh is not linear");
        }
        hl_config_free(t);
    }

    /* the ε sweep made non-monotone on purpose: status and the report say so */
    snprintf(cmd, sizeof cmd, "%s/hashlab status %s 2>&1", HL_BUILD_DIR, rd);
    char *out = capture(cmd);
    char *line = strstr(out, "dpsh/8b/seed0/pgd:linf:16/255");
    cr_assert(line, "%s", out);
    char *eol = strchr(line, '\n');
    if (eol) *eol = 0;
    cr_assert(strstr(line, "FLAGS: ") && strstr(line, "eps_not_monotone") && strstr(line, "at eps 16/255 is weaker than"),
              "%s", line);
    if (eol) *eol = '\n';
    line = strstr(out, "dpsh/8b/seed0/pgd:linf:8/255");
    cr_assert(line && (!strchr(line, '\n') || !memmem(line, (size_t)(strchr(line, '\n') - line), "FLAGS", 5)),
              "the smaller eps is not flagged: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s/hashlab report %s >/dev/null 2>&1", HL_BUILD_DIR, rd);
    cr_assert_eq(system(cmd), 0);
    char p[1300];
    snprintf(p, sizeof p, "%s/report/tables.md", rd);
    size_t len = 0;
    char *md = (char *)hl_test_read_file(p, &len);
    cr_assert(strstr(md, "## Sanity checks") && strstr(md, "eps\\_not\\_monotone") &&
                  strstr(md, "`binarize/8b/seed0/auto-wide:linf:32/255`: **zero_gradients"),
              "%s", md);
    cr_assert(strstr(md, "worst case linf 8/255 (%)"), "the summary's worst-case column");
    /* the traces are drawn: objective and share improved per step, for the ensemble too */
    struct stat sb;
    snprintf(p, sizeof p, "%s/report/trace_auto_linf_8_255_8b.png", rd);
    cr_assert(stat(p, &sb) == 0 && sb.st_size > 1000, "%s", p);
    snprintf(p, sizeof p, "%s/report/improved_pgd100_linf_8_255_8b.pdf", rd);
    cr_assert(stat(p, &sb) == 0 && sb.st_size > 1000, "%s", p);
    free(md);
    free(cells);
    free(suite);
}

Test(sanity, parameter_free_attack_refuses_step_settings) {
    char *suite = write_suite("name: fixed\n"
                              "dataset: synthetic\n"
                              "hashers:\n"
                              "  - method: lsh\n"
                              "    bits: [8]\n"
                              "attacks:\n"
                              "  - method: auto\n"
                              "    eps: 8/255\n"
                              "    steps: 50\n");
    hl_run_summary sum;
    cr_assert_eq(run(suite, tmp_dir("fixed"), NULL, true, &sum), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "s.yaml:9:") && strstr(hl_error_last(), "parameter-free") &&
                  strstr(hl_error_last(), "remove `steps`"),
              "%s", hl_error_last());
    free(suite);
}
