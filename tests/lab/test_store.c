/* tests/lab/test_store.c — the results store cannot be fooled (lab/store.h, reports/result.h): an invalid
 * result.json (a metric that is a string, 1e999 or NaN; another cell's result copied in; a directory in its place)
 * makes `hashlab status` say "invalid" with the reason, the report refuse with the path and the reason, and the next
 * `hashlab run` set the file aside as result.json.bad and run the cell again; a result that cannot be written is a
 * failed cell whose reason is logged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashers/hasher.h"
#include "reports/report.h"
#include "reports/result.h"
#include "test_common.h"
#include "test_run.h"

static const char *SUITE = "name: store\n"
                           "dataset: synthetic\n"
                           "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
                           "protocol: cifar10:30/60\n"
                           "seeds: [0]\n"
                           "threads: 1\n"
                           "hashers:\n"
                           "  - method: lsh\n"
                           "    bits: [8]\n"
                           "  - method: itq\n"
                           "    bits: [8]\n"
                           "attacks:\n"
                           "  - method: noise\n"
                           "    eps: 8/255\n";

static char *result_path(const char *rd, const hl_cell *c) {
    static char p[1300];
    snprintf(p, sizeof p, "%s/cells/%s/result.json", rd, c->key);
    return p;
}

/* The text of `path` with the value of the first "name": replaced by `value` (up to the next ',' or '}'). */
static void replace_value(const char *path, const char *name, const char *value) {
    size_t n;
    char *t = (char *)hl_test_read_file(path, &n), key[128];
    snprintf(key, sizeof key, "\"%s\":", name);
    char *at = strstr(t, key);
    cr_assert_not_null(at, "%s has no %s", path, key);
    at += strlen(key);
    char *end = at + strcspn(at, ",}");
    size_t pre = (size_t)(at - t), post = strlen(end);
    char *out = malloc(pre + strlen(value) + post + 1);
    memcpy(out, t, pre);
    strcpy(out + pre, value);
    strcat(out, end);
    hl_test_write_file(path, out, strlen(out));
    free(out);
    free(t);
}

/* `hashlab status RUNDIR` output (the built CLI). */
static char *status_of(const char *rd) {
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s/hashlab status %s 2>&1", HL_BUILD_DIR, rd);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "hashlab status failed: %s", out);
    return out;
}

static bool is_file(const char *p) {
    struct stat sb;
    return lstat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

Test(store, invalid_results_are_refused_set_aside_and_rerun) {
    char *suite = write_suite(SUITE);
    const char *rd = tmp_dir("run");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert(sum.ran == 4 && sum.failed == 0, "ran %lld failed %lld", (long long)sum.ran, (long long)sum.failed);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    const hl_cell *train = cell_by_label(cells, n, "itq/8b/seed0");
    const hl_cell *attack = cell_by_label(cells, n, "itq/8b/seed0/noise:linf:8/255");
    char good[1300];
    snprintf(good, sizeof good, "%s", result_path(rd, train));
    size_t len;
    unsigned char *orig = hl_test_read_file(good, &len), *atk_copy = hl_test_read_file(result_path(rd, attack), &len);
    static const struct {
        const char *what, *metric, *value, *reason;
    } bad[] = {
        {"a metric that is a string", "mAP@1000", "\"0.9\"", "must be a finite number or null, got the string"},
        {"a metric that overflows", "mAP@1000", "1e999", "must be a finite number or null, got '1e999'"},
        {"a NaN metric", "mAP@1000", "NaN", "unexpected 'N' (expected a value)"},
        {"a metric that is an object", "P@H<=2", "{\"x\":1}", "must be a finite number or null, got a map"},
        {"another cell's result", NULL, NULL, "(copied from another cell?)"},
        {"a directory in its place", NULL, NULL, "not a regular file"},
    };
    for (size_t b = 0; b < HL_ARRAY_LEN(bad); b++) {
        hl_test_write_file(good, orig, strlen((char *)orig));
        if (bad[b].metric) {
            replace_value(good, bad[b].metric, bad[b].value);
        } else if (b == 4) {
            hl_test_write_file(good, atk_copy, strlen((char *)atk_copy));
        } else {
            cr_assert_eq(unlink(good), 0);
            cr_assert_eq(mkdir(good, 0755), 0);
            hl_test_write_file(hl_test_path(good, "x"), "x", 1);
        }
        /* status names it, with the reason */
        char *st = status_of(rd);
        cr_assert(strstr(st, "invalid  train") && strstr(st, bad[b].reason) && strstr(st, "1 invalid"),
                  "%s: status says:\n%s", bad[b].what, st);
        /* the report refuses, naming the file and the reason, and writes nothing */
        hl_report_summary rep;
        cr_assert_eq(hl_report_build(rd, NULL, 0, &rep), HL_EFORMAT, "%s: the report took it", bad[b].what);
        cr_assert(strstr(hl_error_last(), train->key) && strstr(hl_error_last(), bad[b].reason), "%s: %s",
                  bad[b].what, hl_error_last());
        /* the next run sets it aside and runs the cell again; the others stay done */
        cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
        cr_assert(sum.ran == 1 && sum.invalid == 1 && sum.failed == 0 && sum.skipped == 3,
                  "%s: ran %lld invalid %lld failed %lld skipped %lld", bad[b].what, (long long)sum.ran,
                  (long long)sum.invalid, (long long)sum.failed, (long long)sum.skipped);
        cr_assert_eq(sum.report_status, HL_OK, "%s: report after the re-run: %s", bad[b].what, hl_error_last());
        cr_assert_eq(hl_store_cell_state(rd, train->key, "train", NULL), HL_CELL_STATE_DONE);
        char aside[1400];
        snprintf(aside, sizeof aside, "%s.bad", good);
        struct stat sb;
        cr_assert(lstat(aside, &sb) == 0, "%s: the bad file was not kept", bad[b].what);
        if (b == 5) {
            cr_assert(S_ISDIR(sb.st_mode));
            cr_assert(is_file(good));
            hl_test_write_file(hl_test_path(aside, "x"), "x", 1); /* left for the next round: replaced cleanly */
        }
    }
    /* the reader: every refusal is HL_EFORMAT, a missing file HL_ENOTFOUND, the right file HL_OK */
    hl_result r;
    cr_assert_eq(hl_result_read(good, train->key, "train", &r), HL_OK, "%s", hl_error_last());
    cr_assert(r.done);
    hl_result_free(&r);
    cr_assert_eq(hl_result_read(good, train->key, "attack", &r), HL_EFORMAT);
    cr_assert_eq(hl_result_read(good, attack->key, "train", &r), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "copied from another cell"), "%s", hl_error_last());
    cr_assert_eq(hl_result_read(hl_test_path(rd, "cells/none/result.json"), NULL, NULL, &r), HL_ENOTFOUND);
    free(orig);
    free(atk_copy);
    free(cells);
    free(suite);
}

Test(store, unwritable_result_is_a_failed_cell_with_its_reason) {
    char *suite = write_suite(SUITE);
    const char *rd = tmp_dir("unwritable");
    hl_run_summary sum;
    /* the keys, from a run of the same suite elsewhere (same split, same keys) */
    const char *other = tmp_dir("unwritable-keys");
    cr_assert_eq(run(suite, other, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(other, &cells, &n);
    const hl_cell *lsh = cell_by_label(cells, n, "lsh/8b/seed0");
    char p[1300];
    cr_assert_eq(hl_store_mkdirs(hl_test_path(rd, "cells")), HL_OK);
    snprintf(p, sizeof p, "%s/cells/%s", rd, lsh->key); /* a file where the cell's directory should be */
    hl_test_write_file(p, "x", 1);
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert(sum.failed >= 1, "failed %lld", (long long)sum.failed);
    size_t len;
    char *log = (char *)hl_test_read_file(hl_test_path(rd, "log.txt"), &len);
    cr_assert(strstr(log, "cell lsh/8b/seed0 failed: cannot write its result") && strstr(log, lsh->key), "%s", log);
    free(log);
    free(cells);
    free(suite);
}

/* A model file whose weights are NaN (a diverged model saved by an older version, a damaged file) is not attacked:
 * the attack cell fails, naming the file and the tensor. */
Test(store, nan_model_is_refused_by_the_attack_cell) {
    char *suite = write_suite(SUITE);
    const char *rd = tmp_dir("nanmodel");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    const hl_cell *train = cell_by_label(cells, n, "itq/8b/seed0");
    const hl_cell *attack = cell_by_label(cells, n, "itq/8b/seed0/noise:linf:8/255");
    /* the same model with every value NaN, saved over the stored one */
    hl_dataset_info info = {.c = 1, .h = 8, .w = 8, .nlabels = 3};
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, "itq", NULL, &info, 8, 0), HL_OK, "%s", hl_error_last());
    cr_assert(h->params.n_par + h->params.n_buf > 0, "itq stores tensors");
    for (int64_t i = 0; i < h->params.slab_len; i++) h->params.data[i] = NAN;
    for (int64_t i = 0; i < h->params.buf_len; i++) h->params.bufdata[i] = NAN;
    char p[1400];
    snprintf(p, sizeof p, "%s/cells/%s/model.safetensors", rd, train->key);
    cr_assert_eq(hl_hasher_save(h, p), HL_OK, "%s", hl_error_last());
    hl_hasher_free(h);
    snprintf(p, sizeof p, "%s/cells/%s/result.json", rd, attack->key);
    cr_assert_eq(unlink(p), 0);
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert(sum.ran == 1 && sum.failed == 1, "ran %lld failed %lld", (long long)sum.ran, (long long)sum.failed);
    char *err = NULL;
    cr_assert_eq(hl_store_cell_state(rd, attack->key, "attack", &err), HL_CELL_STATE_FAILED);
    cr_assert(strstr(err, "model.safetensors") && strstr(err, "non-finite") && strstr(err, "NaN"), "%s", err);
    free(err);
    free(cells);
    free(suite);
}
