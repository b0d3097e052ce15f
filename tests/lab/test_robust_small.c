/* tests/lab/test_robust_small.c — the smaller variant of suites/fashion_robust.yaml on synthetic data: the four
 * supervised deep hashers and LSH trained, attacked by untargeted PGD and targeted DHTA, scored and reported by one
 * suite, end to end through `hashlab run`'s library entry. Checks that every method learns (clean mAP@all above
 * LSH and the untrained network), that PGD lowers mAP and DHTA raises t-mAP above its clean floor on every deep
 * model, and that the report holds the summary and targeted tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/io/json.h"
#include "lab/runner.h"
#include "lab/store.h"
#include "lab/suite.h"
#include "test_common.h"

static const char *const SUITE =
    "name: robust_small\n"
    "dataset: synthetic\n"
    "synthetic: {n: 700, c: 1, h: 12, w: 12, classes: 4, noise: 0.3}\n"
    "protocol: cifar10-1:40/240\n"
    "threads: 1\n"
    "attack_queries: all\n"
    "metrics: {topk: all}\n"
    "hashers:\n"
    "  - method: dpsh\n"
    "    bits: [8]\n"
    "    params: {epochs: 12, batch: 32}\n"
    "  - method: adsh\n"
    "    bits: [8]\n"
    "    params: {epochs: 6, num_samples: 200, inner_epochs: 2, batch: 32}\n"
    "  - method: ddsh\n"
    "    bits: [8]\n"
    "    params: {epochs: 6, sample_columns: 40, inner: 1, batch: 32, lr_schedule: constant}\n"
    "  - method: nmlayer\n"
    "    bits: [8]\n"
    "    params: {epochs: 12, batch: 16}\n"
    "  - method: lsh\n"
    "    bits: [8]\n"
    "  - method: dpsh\n"
    "    name: untrained\n"
    "    bits: [8]\n"
    "    attack: false\n"
    "    params: {epochs: 0}\n"
    "attacks:\n"
    "  - method: pgd\n"
    "    eps: 16/255\n"
    "    steps: 10\n"
    "    step_size: 4/255\n"
    "  - method: pgd\n"
    "    name: dhta\n"
    "    targeted: true\n"
    "    eps: 32/255\n"
    "    steps: 30\n"
    "    step_size: 2/255\n"
    "    random_start: false\n";

static double metric_of(const char *rd, const hl_cell *c, const char *name) {
    char p[1200];
    snprintf(p, sizeof p, "%s/cells/%s/result.json", rd, c->key);
    hl_config *t = NULL;
    cr_assert_eq(hl_json_load_file(p, &t), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(hl_config_get(t, "status")->text, "done", "%s: %s", c->label,
                     hl_config_get(t, "error") ? hl_config_get(t, "error")->text : "");
    double v = -1;
    cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), name, &v), HL_OK, "%s lacks %s", c->label, name);
    hl_config_free(t);
    return v;
}

Test(robust_small, deep_hashers_learn_and_attacks_bite) {
    const char *dir = hl_test_path(hl_test_tmpdir(), "suite");
    mkdir(dir, 0755);
    char *path = hl_test_path_alloc(dir, "robust_small.yaml");
    hl_test_write_file(path, SUITE, strlen(SUITE));
    char *rd = hl_test_path_alloc(hl_test_tmpdir(), "run");
    hl_run_opts o;
    hl_run_summary sum;
    hl_run_opts_default(&o);
    o.suite_path = path;
    o.output = rd;
    o.progress = HL_PROGRESS_QUIET;
    cr_assert_eq(hl_run_suite(&o, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.cells, 6 + 5 * 2);
    cr_assert_eq(sum.failed, 0);

    hl_suite *s = NULL;
    hl_cell *cells = NULL;
    int64_t n = 0;
    hl_config *man = NULL;
    size_t len = 0;
    cr_assert_eq(hl_suite_load(&s, path), HL_OK);
    cr_assert_eq(hl_store_read_json(hl_test_path(rd, "split/manifest.json"), &man), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, hl_config_path(man, "sha256.split")->text, &cells, &n), HL_OK);
    hl_config_free(man);

    double clean[6] = {0};
    for (int64_t i = 0; i < n; i++)
        if (cells[i].kind == HL_CELL_TRAIN) clean[cells[i].hasher] = metric_of(rd, &cells[i], "mAP@all");
    double lsh = clean[4], untrained = clean[5];
    fprintf(stderr, "robust_small: clean mAP@all dpsh %.3f adsh %.3f ddsh %.3f nmlayer %.3f lsh %.3f untrained %.3f\n",
            clean[0], clean[1], clean[2], clean[3], lsh, untrained);
    for (int k = 0; k < 4; k++) {
        cr_assert(clean[k] > lsh + 0.1 && clean[k] > untrained + 0.1, "%s: %.3f vs lsh %.3f, untrained %.3f",
                  s->hashers[k].name, clean[k], lsh, untrained);
    }
    for (int64_t i = 0; i < n; i++) { /* normal models raise no sanity flag (issue 14 §5) */
        const hl_cell *c = &cells[i];
        if (c->kind != HL_CELL_ATTACK) continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/cells/%s/result.json", rd, c->key);
        hl_config *t = NULL;
        cr_assert_eq(hl_json_load_file(p, &t), HL_OK, "%s", hl_error_last());
        double gap = -1;
        cr_assert_eq(hl_config_get_double(t, "sanity.float_8bit_map_gap", &gap), HL_OK, "%s", c->label);
        fprintf(stderr, "robust_small: %s sanity flags %lld, float/8-bit gap %.4f\n", c->label,
                (long long)hl_config_len(hl_config_path(t, "sanity.flags")), gap);
        cr_assert_eq(hl_config_len(hl_config_path(t, "sanity.flags")), 0, "%s raised a sanity flag", c->label);
        hl_config_free(t);
    }
    for (int64_t i = 0; i < n; i++) {
        const hl_cell *c = &cells[i];
        if (c->kind != HL_CELL_ATTACK || c->hasher >= 4) continue;
        if (c->attack == 0) {
            double adv = metric_of(rd, c, "mAP@all"), before = metric_of(rd, c, "mAP@all(clean)");
            fprintf(stderr, "robust_small: %s mAP %.3f -> %.3f\n", c->label, before, adv);
            cr_assert(adv < before - 0.05, "%s: PGD left mAP at %.3f (clean %.3f)", c->label, adv, before);
            /* its trace: one entry per scoring (10 steps + the last iterate), the loss falling overall */
            char p[1200];
            snprintf(p, sizeof p, "%s/cells/%s/result.json", rd, c->key);
            hl_config *t = NULL;
            cr_assert_eq(hl_json_load_file(p, &t), HL_OK, "%s", hl_error_last());
            const hl_config *loss = hl_config_path(t, "trace.loss"), *imp = hl_config_path(t, "trace.improved");
            cr_assert(loss && imp && hl_config_len(loss) == 11 && hl_config_len(imp) == 11, "%s: trace", c->label);
            double l0 = 0, l10 = 0;
            cr_assert(hl_config_as_double(hl_config_at(loss, 0), &l0) == HL_OK &&
                      hl_config_as_double(hl_config_at(loss, 10), &l10) == HL_OK && l10 < l0,
                      "%s: loss %g -> %g", c->label, l0, l10);
            hl_config_free(t);
        } else {
            double t = metric_of(rd, c, "t-mAP@all"), floor_ = metric_of(rd, c, "t-mAP@all(clean)");
            fprintf(stderr, "robust_small: %s t-mAP %.3f (floor %.3f)\n", c->label, t, floor_);
            cr_assert(t > floor_ + 0.1, "%s: DHTA t-mAP %.3f vs floor %.3f", c->label, t, floor_);
        }
    }
    unsigned char *md = hl_test_read_file(hl_test_path(rd, "report/tables.md"), &len);
    cr_assert(md && strstr((char *)md, "Robustness summary") && strstr((char *)md, "Targeted attacks, 8 bits") &&
              strstr((char *)md, "untrained"));
    free(md);
    free(cells);
    hl_suite_free(s);
    free(rd);
    free(path);
}
