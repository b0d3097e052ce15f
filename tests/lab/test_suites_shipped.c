/* tests/lab/test_suites_shipped.c — every suite in suites/ validates against the registered classes and expands into
 * its planned cells (a dry run: nothing trains). Suites whose dataset is not on this machine are still loaded and
 * schema-checked, and the test says which it could not plan. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/dataset.h"
#include "lab/runner.h"
#include "lab/suite.h"
#include "test_common.h"

#define SUITES_DIR HL_TEST_DATA_DIR "/../../suites"

/* Planned cells of suite `name` (dry run), or −1 when its dataset is missing here. */
static int64_t plan(const char *path, const char *dataset) {
    hl_dataset d;
    if (strcmp(dataset, "synthetic") != 0) {
        if (hl_dataset_open(&d, dataset, NULL) < 0) {
            hl_error_clear();
            return -1;
        }
        hl_dataset_free(&d);
    }
    hl_run_opts o;
    hl_run_summary sum;
    hl_run_opts_default(&o);
    o.suite_path = path;
    o.output = hl_test_path(hl_test_tmpdir(), "plan");
    o.dry_run = true;
    o.progress = HL_PROGRESS_QUIET;
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    o.out = devnull;
    cr_assert_eq(hl_run_suite(&o, &sum), HL_OK, "%s: %s", path, hl_error_last());
    return sum.cells;
}

Test(suites, shipped_suites_validate_and_plan) {
    DIR *dir = opendir(SUITES_DIR);
    cr_assert_not_null(dir, "%s", SUITES_DIR);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SUITES_DIR, e->d_name);
        hl_suite *s = NULL;
        cr_assert_eq(hl_suite_load(&s, path), HL_OK, "%s: %s", path, hl_error_last());
        int64_t cells = plan(path, s->dataset);
        if (cells < 0) fprintf(stderr, "suites: %s: dataset %s is not on this machine; schema checked only\n",
                               e->d_name, s->dataset);
        else cr_assert(cells > 0, "%s plans no cell", e->d_name);
        if (!strcmp(e->d_name, "fashion_robust.yaml") && cells >= 0) {
            /* 38 train cells: 9 attacked methods × 3 bit lengths, the untrained network × 3, ablations 3 + 1 + 3 + 1;
             * pgd + dhta on the 27 attacked models, 3 more ε and auto untargeted and targeted at 32 bits on the 9
             * attacked 32-bit models */
            cr_assert_eq(cells, 38 + 27 * 2 + 9 * 5);
        }
        if (!strcmp(e->d_name, "fashion_full.yaml") && cells >= 0) {
            /* fashion_robust's cells, + noise, p2p and two prosgan on the 27 attacked models, + transfer: 3 attacks ×
             * 9 source models × 9 target models at 32 bits */
            cr_assert_eq(cells, 38 + 27 * 2 + 9 * 5 + 27 * 4 + 3 * 9 * 9);
        }
        hl_suite_free(s);
        n++;
    }
    closedir(dir);
    cr_assert(n >= 2, "found %d suites in %s", n, SUITES_DIR);
}

/* cifar_robust.yaml: without CIFAR-10 on this machine, `hashlab run` stops at once — after validating every entry
 * against the registered classes, before creating the run directory — with the `hashlab data fetch cifar10` hint. */
Test(suites, cifar_robust_refuses_clearly_without_the_data) {
    hl_dataset d;
    if (hl_dataset_open(&d, "cifar10", NULL) == HL_OK) {
        hl_dataset_free(&d);
        cr_skip("CIFAR-10 is on this machine");
    }
    hl_error_clear();
    char path[1024];
    snprintf(path, sizeof path, "%s/cifar_robust.yaml", SUITES_DIR);
    hl_run_opts o;
    hl_run_summary sum;
    hl_run_opts_default(&o);
    o.suite_path = path;
    o.output = hl_test_path(hl_test_tmpdir(), "cifar_run");
    o.progress = HL_PROGRESS_QUIET;
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    o.out = devnull;
    cr_assert_eq(hl_run_suite(&o, &sum), HL_ENOTFOUND, "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), "dataset 'cifar10' not found") &&
              strstr(hl_error_last(), "hashlab data fetch cifar10"), "%s", hl_error_last());
    cr_assert_neq(access(o.output, F_OK), 0, "no run directory is created");
}

/* fashion_full.yaml shares its run directory with fashion_robust.yaml and says its hashers are fashion_robust's: the
 * two resolved hasher lists must stay identical (the same cells), and so must the output. */
Test(suites, fashion_full_has_fashion_robusts_hashers) {
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/fashion_robust.yaml", SUITES_DIR);
    snprintf(b, sizeof b, "%s/fashion_full.yaml", SUITES_DIR);
    hl_suite *r = NULL, *f = NULL;
    cr_assert_eq(hl_suite_load(&r, a), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_load(&f, b), HL_OK, "%s", hl_error_last());
    char *jr = NULL, *jf = NULL;
    cr_assert_eq(hl_config_canonical_json(hl_config_get(r->resolved, "hashers"), &jr), HL_OK);
    cr_assert_eq(hl_config_canonical_json(hl_config_get(f->resolved, "hashers"), &jf), HL_OK);
    cr_assert_str_eq(jr, jf);
    cr_assert(r->output && f->output && !strcmp(r->output, f->output), "outputs differ");
    free(jr), free(jf);
    hl_suite_free(r), hl_suite_free(f);
}
