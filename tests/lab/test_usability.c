/* tests/lab/test_usability.c — everyday use: a misspelt dataset gets a "did you mean", `--only` that matches no
 * cell is an error (not a silent empty run), and `hashlab status` accepts the suite file for its run directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/dataset.h"
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
    char out[4096];
    cr_assert_eq(run_capture(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "lsh/8b/seed0") && strstr(out, "1 cells: 1 done"), "%s", out);
    /* readable links into the store */
    char p[1300];
    snprintf(p, sizeof p, "%s/by-label/lsh/8b/seed0/train/result.json", rd);
    cr_assert_eq(access(p, F_OK), 0, "%s", p);
    free(suite);
}

/* eps: 8 on [0, 1] pixels constrains nothing: refused at file:line:col with the likely meaning, unless the suite
 * says eps_unbounded_ok (which does not change any cell's key). */
Test(usability, eps_above_the_sanity_bound_is_refused) {
    char text[1024];
    snprintf(text, sizeof text, "%sattacks:\n  - method: noise\n    eps: 8\n  - method: noise\n    norm: l2\n    eps: 20\n",
             SMALL);
    char *suite = write_suite(text);
    hl_run_summary sum;
    cr_assert_lt(run(suite, tmp_dir("eps"), NULL, true, &sum), 0);
    const char *m = hl_error_last();
    cr_assert(strstr(m, "s.yaml:11:10: eps 8 is above the sanity bound for linf") && strstr(m, "such as 8/255") &&
                  strstr(m, "s.yaml:14:10: eps 20 is above the sanity bound for l2"),
              "%s", m);
    free(suite);
    snprintf(text, sizeof text, "%seps_unbounded_ok: true\nattacks:\n  - method: noise\n    eps: 8\n", SMALL);
    suite = write_suite(text);
    cr_assert_eq(run(suite, tmp_dir("eps_ok"), NULL, true, &sum), HL_OK, "%s", hl_error_last());
    free(suite);
}

/* A cell's key knows the code that computes it: the same plugin rebuilt with other code re-runs its cells (the old
 * results are then stale, and `hashlab status` says so); --force re-runs matching cells and what depends on them. */
Test(usability, changed_plugin_and_force_rerun_cells) {
    const char *dir = tmp_dir("plug");
    mkdir(dir, 0755);
    char so[1200], cmd[4096], text[2048];
    snprintf(so, sizeof so, "%s/toy.so", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s", HL_EXAMPLE_PLUGIN, so);
    cr_assert_eq(system(cmd), 0);
    const char *rd = tmp_dir("plug_run");
    snprintf(text, sizeof text,
             "name: plug\ndataset: synthetic\nsynthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
             "protocol: cifar10-1:30/60\nthreads: 1\nplugins: ['%s']\nhashers:\n  - method: toy\n    bits: [8]\n"
             "  - method: lsh\n    bits: [8]\nattacks:\n  - method: noise\n    eps: 8/255\n",
             so);
    char *suite = write_suite(text);
    char out[8192];
    /* one process per run, as a user runs it: the plugin is loaded fresh each time */
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --output %s --quiet 2>&1 | tail -1", HL_BUILD_DIR, suite, rd);
    run_capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "ran 4 cells (0 failed)"), "%s", out);
    run_capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "ran 0 cells") && strstr(out, "skipped 4 done"), "%s", out);
    /* the plugin rebuilt with other code: its two cells run again, LSH's do not */
    snprintf(text, sizeof text, "cp %s %s", HL_EXAMPLE_PLUGIN_FLIP, so);
    cr_assert_eq(system(text), 0);
    run_capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "ran 2 cells (0 failed), skipped 2 done"), "%s", out);
    snprintf(text, sizeof text, "%s/hashlab status %s 2>&1", HL_BUILD_DIR, rd);
    run_capture(text, out, sizeof out);
    cr_assert(strstr(out, "4 cells: 4 done") && strstr(out, "2 stale results"), "%s", out);
    /* --force on LSH's train cell re-runs it and its attack, keeping the old results beside */
    snprintf(text, sizeof text, "%s/hashlab run %s --output %s --quiet --force 'lsh/8b/seed0' 2>&1 | tail -1",
             HL_BUILD_DIR, suite, rd);
    run_capture(text, out, sizeof out);
    cr_assert(strstr(out, "ran 2 cells (0 failed), skipped 2 done"), "%s", out);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    char p[1400];
    snprintf(p, sizeof p, "%s/cells/%s/result.json.forced", rd, cell_by_label(cells, n, "lsh/8b/seed0/noise:linf:8/255")->key);
    cr_assert_eq(access(p, F_OK), 0, "%s kept", p);
    snprintf(text, sizeof text, "%s/hashlab run %s --output %s --quiet --force 'nothing*' 2>&1", HL_BUILD_DIR, suite, rd);
    cr_assert_neq(run_capture(text, out, sizeof out), 0);
    cr_assert(strstr(out, "--force 'nothing*' matches no cell"), "%s", out);
    free(cells);
    free(suite);
}

/* --dry-run needs no data: without CIFAR-10 it prints the plan, says why keys and states are missing, and succeeds. */
Test(usability, dry_run_without_the_data) {
    hl_dataset d;
    if (hl_dataset_open(&d, "cifar10", NULL) == HL_OK) {
        hl_dataset_free(&d);
        cr_skip_test("CIFAR-10 is on this machine");
    }
    hl_error_clear();
    char *suite = write_suite("name: nodata\ndataset: cifar10\nprotocol: cifar10-1\nhashers:\n  - method: lsh\n"
                              "    bits: [16, 32]\nattacks:\n  - method: noise\n    eps: 8/255\n");
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --dry-run --output %s 2>&1", HL_BUILD_DIR, suite, tmp_dir("nodata"));
    cr_assert_eq(run_capture(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "dataset 'cifar10' not found") && strstr(out, "hashlab data fetch cifar10") &&
                  strstr(out, "plan for nodata (4 cells, 4 selected)") && strstr(out, "(needs data)  lsh/32b/seed0/noise"),
              "%s", out);
    free(suite);
}

/* Checks that need the data's shape run before anything trains, every failure at its `bits` entry at once: ITQ
 * cannot have more bits than the image has pixels. Nothing is written. */
Test(usability, bits_checked_against_the_data_before_running) {
    char *suite = write_suite("name: bigitq\ndataset: synthetic\nsynthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
                              "protocol: cifar10-1:30/60\nhashers:\n  - method: itq\n    bits: [8, 128]\n"
                              "  - method: lsh\n    bits: [8]\n  - method: itq\n    name: itq2\n    bits: [256]\n");
    const char *rd = tmp_dir("bigitq");
    hl_run_summary sum;
    cr_assert_lt(run(suite, rd, NULL, false, &sum), 0);
    const char *m = hl_error_last();
    cr_assert(strstr(m, "s.yaml:7:15: 128 bits on synthetic: hasher 'itq': 128 bits exceed the image dimension 64") &&
                  strstr(m, "s.yaml:12:12: 256 bits on synthetic"),
              "%s", m);
    cr_assert_neq(access(rd, F_OK), 0, "nothing is written");
    free(suite);
}
