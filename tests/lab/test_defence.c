/* tests/lab/test_defence.c — defences in a suite: a defended toy model is more robust than its undefended twin under
 * the `auto` ensemble, the defence is part of the cell key (and only of defended cells), the entry is named after
 * it, its training cost is recorded, and a defence on a hasher that cannot be trained adversarially is refused. */
#include <math.h>

#include "test_run.h"

static const char TOY[] = "name: deftoy\n"
                          "dataset: synthetic\n"
                          "synthetic: {n: 1200, c: 1, h: 12, w: 12, classes: 4, noise: 0.3}\n"
                          "protocol: cifar10-1:60/400\n"
                          "seeds: [0]\n"
                          "threads: 1\n"
                          "attack_queries: 60\n"
                          "hashers:\n"
                          "  - method: dpsh\n"
                          "    bits: [16]\n"
                          "    params: {epochs: 8, batch: 32, lr_schedule: constant}\n"
                          "%s"
                          "attacks:\n"
                          "  - {method: auto, norm: linf, eps: 8/255}\n"
                          "report: {formats: [json]}\n";

static const char DEFENDED[] = "  - method: dpsh\n"
                               "    bits: [16]\n"
                               "    params: {epochs: 8, batch: 32, lr_schedule: constant}\n"
                               "    defence: {method: cgat}\n";

static double metric(const char *rd, const hl_cell *c, const char *path) {
    hl_config *r = result_of(rd, c->key);
    const hl_config *n = hl_config_path(r, path);
    cr_assert_not_null(n, "%s: no %s", c->label, path);
    double v = strtod(n->text, NULL);
    hl_config_free(r);
    return v;
}

Test(defence, defended_twin_is_more_robust_under_the_ensemble, .timeout = 600) {
    char text[2048];
    snprintf(text, sizeof text, TOY, DEFENDED);
    char *suite = write_suite(text);
    const char *rd = tmp_dir("deftoy");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.failed, 0);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    const hl_cell *plain = cell_by_label(cells, n, "dpsh/16b/seed0/auto:linf:8/255");
    const hl_cell *def = cell_by_label(cells, n, "dpsh-cgat/16b/seed0/auto:linf:8/255");
    double r0 = metric(rd, plain, "metrics.mAP@1000"), r1 = metric(rd, def, "metrics.mAP@1000");
    double c0 = metric(rd, plain, "metrics.mAP@1000(clean)"), c1 = metric(rd, def, "metrics.mAP@1000(clean)");
    cr_assert(r1 > r0 + 0.05, "under auto: defended %.4f, undefended %.4f", r1, r0);
    cr_assert(c1 > c0 - 0.10, "the defence cost too much clean mAP: %.4f vs %.4f", c1, c0);
    /* the training cost is recorded beside the undefended fit's */
    const hl_cell *tp = cell_by_label(cells, n, "dpsh/16b/seed0"), *td = cell_by_label(cells, n, "dpsh-cgat/16b/seed0");
    double f0 = metric(rd, tp, "fit_cost.forwards_per_image"), f1 = metric(rd, td, "fit_cost.forwards_per_image");
    cr_assert(f0 >= 5 && f1 > 5 * f0, "passes per training image: %g undefended, %g defended (7 inner steps)", f0, f1);
    cr_assert(metric(rd, td, "fit_cost.inner_forwards_per_image") > 0);
    hl_config *r = result_of(rd, td->key);
    cr_assert_str_eq(hl_config_path(r, "defence.method")->text, "cgat");
    hl_config_free(r);

    /* the undefended entry keeps the key it has in a suite without defences; the defence is in the defended key */
    snprintf(text, sizeof text, TOY, "");
    char *alone = write_suite(text);
    const char *rd2 = tmp_dir("deftoy_alone");
    cr_assert_eq(run(alone, rd2, NULL, true, &sum), HL_OK, "%s", hl_error_last()); /* dry run: keys only */
    hl_suite *s = NULL;
    cr_assert_eq(hl_suite_load(&s, alone), HL_OK, "%s", hl_error_last());
    hl_cell *c2 = NULL;
    int64_t n2 = 0;
    hl_config *man = NULL;
    cr_assert_eq(hl_store_read_json(hl_test_path(rd, "split/manifest.json"), &man), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, hl_config_path(man, "sha256.split")->text, &c2, &n2), HL_OK);
    cr_assert_str_eq(cell_by_label(c2, n2, "dpsh/16b/seed0")->key, tp->key);
    cr_assert_str_neq(tp->key, td->key);
    hl_config_free(man);
    hl_suite_free(s);
    free(c2), free(cells), free(suite), free(alone);
}

Test(defence, refused_on_hashers_that_cannot_train_adversarially) {
    char *suite = write_suite("name: defbad\ndataset: synthetic\nprotocol: cifar10-1:30/60\nhashers:\n"
                              "  - method: itq\n    bits: [8]\n    defence: {method: cgta}\n"
                              "  - method: itq\n    name: itq2\n    bits: [8]\n    defence: {method: cgat}\n");
    hl_run_summary sum;
    cr_assert_eq(run(suite, tmp_dir("defbad"), NULL, true, &sum), HL_EINVAL);
    const char *e = hl_error_last();
    cr_assert(strstr(e, "s.yaml:7:") && strstr(e, "did you mean 'cgat'"), "%s", e);
    cr_assert(strstr(e, "s.yaml:11:") && strstr(e, "'itq' is not trainable"), "%s", e);
    free(suite);
}
