/* tests/common/test_run.h — helpers of the lab tests that run suites in-process (header-only, static): temporary
 * paths, writing a suite, hl_run_suite quietly into a directory, the expanded cells of a run directory, and a cell's
 * result.json. */
#ifndef HL_TEST_RUN_H
#define HL_TEST_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab/plugin.h"
#include "lab/runner.h"
#include "lab/store.h"
#include "lab/suite.h"
#include "test_common.h"

/* A path under the test's temporary directory (16 rotating buffers). */
static inline const char *tmp_dir(const char *name) {
    static char bufs[16][1100];
    static int next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", hl_test_tmpdir(), name);
    return b;
}

static inline char *write_suite(const char *text) {
    const char *dir = tmp_dir("suites");
    mkdir(dir, 0755);
    char *p = hl_test_path_alloc(dir, "s.yaml");
    hl_test_write_file(p, text, strlen(text));
    return p;
}

static inline hl_status run(const char *suite, const char *outdir, const char *shard, bool dry, hl_run_summary *sum) {
    hl_run_opts o;
    hl_run_opts_default(&o);
    o.suite_path = suite;
    o.output = outdir;
    o.progress = HL_PROGRESS_QUIET;
    o.dry_run = dry;
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    o.out = devnull;
    if (shard) cr_assert_eq(hl_shard_parse(shard, &o.shard_index, &o.shard_count), HL_OK);
    return hl_run_suite(&o, sum);
}

/* The cells of a suite (keys from the run directory's manifest). */
static inline void cells_of(const char *rundir, hl_cell **cells, int64_t *n) {
    hl_suite *s = NULL;
    hl_config *man = NULL;
    cr_assert_eq(hl_suite_load(&s, hl_test_path(rundir, "suite.yaml")), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_plugins_load_list(rundir), HL_OK, "%s", hl_error_last()); /* plugin hashes are in the keys */
    cr_assert_eq(hl_store_read_json(hl_test_path(rundir, "split/manifest.json"), &man), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, hl_config_path(man, "sha256.split")->text, cells, n), HL_OK);
    hl_config_free(man);
    hl_suite_free(s);
}

/* Runs a shell command, its stdout (and stderr if the command redirects it) into out (NUL-terminated, truncated to
 * n - 1 bytes); returns its exit status as pclose gives it. */
static inline int run_capture(const char *cmd, char *out, size_t n) {
    FILE *ps = popen(cmd, "r");
    cr_assert_not_null(ps, "%s", cmd);
    size_t got = fread(out, 1, n - 1, ps);
    out[got] = 0;
    return pclose(ps);
}

/* The cell labelled `label` among cells[0..n) (fails the test when absent). */
static inline const hl_cell *cell_by_label(const hl_cell *cells, int64_t n, const char *label) {
    for (int64_t i = 0; i < n; i++)
        if (!strcmp(cells[i].label, label)) return &cells[i];
    cr_assert_fail("no cell '%s'", label);
    return NULL;
}

static inline hl_config *result_of(const char *rundir, const char *key) {
    char p[1200];
    snprintf(p, sizeof p, "%s/cells/%s/result.json", rundir, key);
    hl_config *t = NULL;
    cr_assert_eq(hl_store_read_json(p, &t), HL_OK, "%s", hl_error_last());
    return t;
}

#endif
