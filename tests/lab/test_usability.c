/* tests/lab/test_usability.c — everyday use: a misspelt dataset gets a "did you mean", `--only` that matches no
 * cell is an error (not a silent empty run), and `hashlab status` accepts the suite file for its run directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_run.h"

Test(usability, misspelt_dataset_gets_a_suggestion) {
    char *suite = write_suite("name: typo\ndataset: fashion_mnist\nhashers:\n  - method: lsh\n    bits: [8]\n");
    hl_run_summary sum;
    cr_assert_lt(run(suite, tmp_dir("typo"), NULL, true, &sum), 0);
    cr_assert(strstr(hl_error_last(), "s.yaml:2:10:") && strstr(hl_error_last(), "did you mean 'fashion-mnist'?"), "%s",
              hl_error_last());
    free(suite);
}

static const char *const SMALL = "name: small\n"
                                 "dataset: synthetic\n"
                                 "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
                                 "protocol: cifar10-1:30/60\n"
                                 "threads: 1\n"
                                 "hashers:\n"
                                 "  - method: lsh\n"
                                 "    bits: [8]\n";

Test(usability, only_matching_nothing_is_an_error) {
    char *suite = write_suite(SMALL);
    hl_run_opts o;
    hl_run_summary sum;
    hl_run_opts_default(&o);
    o.suite_path = suite;
    o.output = tmp_dir("only");
    o.only = "itq";
    o.progress = HL_PROGRESS_QUIET;
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    o.out = devnull;
    cr_assert_eq(hl_run_suite(&o, &sum), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "--only 'itq' matches no cell") && strstr(hl_error_last(), "lsh/8b/seed0"), "%s",
              hl_error_last());
    free(suite);
}

Test(usability, status_takes_the_suite_file) {
    char text[1024];
    const char *rd = tmp_dir("status_run");
    snprintf(text, sizeof text, "%soutput: %s\n", SMALL, rd);
    char *suite = write_suite(text);
    hl_run_summary sum;
    cr_assert_eq(run(suite, NULL, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/hashlab status %s 2>&1", HL_BUILD_DIR, suite);
    FILE *ps = popen(cmd, "r");
    char out[4096];
    size_t got = fread(out, 1, sizeof out - 1, ps);
    out[got] = 0;
    cr_assert_eq(pclose(ps), 0, "%s", out);
    cr_assert(strstr(out, "lsh/8b/seed0") && strstr(out, "1 cells: 1 done"), "%s", out);
    free(suite);
}
