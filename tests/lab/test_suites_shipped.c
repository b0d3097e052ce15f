/* tests/lab/test_suites_shipped.c — every suite in suites/ validates against the registered classes and expands into
 * its planned cells (a dry run: nothing trains). Suites whose dataset is not on this machine are still loaded and
 * schema-checked, and the test says which it could not plan. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            /* 6 entries x 3 bit lengths = 18 train cells; pgd + dhta on the 15 attacked models, 3 more ε at 32 bits
             * on the 5 attacked 32-bit models */
            cr_assert_eq(cells, 18 + 15 * 2 + 5 * 3);
        }
        hl_suite_free(s);
        n++;
    }
    closedir(dir);
    cr_assert(n >= 2, "found %d suites in %s", n, SUITES_DIR);
}
