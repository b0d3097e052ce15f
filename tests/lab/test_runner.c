/* tests/lab/test_runner.c — `hashlab run` / `hashlab status` end to end on a tiny synthetic suite: results and
 * their schema (pr_radius, per_query.csv, adv_images.npy, seconds_per_query), re-runs that do nothing, resume after SIGKILL, failing cells, shards, dry runs, bad suites. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/data/dataset.h"
#include "core/io/npy.h"
#include "lab/commands.h"
#include "lab/runner.h"
#include "lab/store.h"
#include "lab/suite.h"
#include "reports/plan.h"
#include "test_common.h"
#include "test_run.h"

static const char *suite_text(const char *bits_itq) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "name: tiny\n"
             "dataset: synthetic\n"
             "synthetic: {n: 600, c: 1, h: 8, w: 8, classes: 4}\n"
             "protocol: cifar10:40/100\n"
             "seeds: [0, 1]\n"
             "threads: 1\n"
             "hashers:\n"
             "  - method: lsh\n"
             "    bits: [8, 16]\n"
             "  - method: itq\n"
             "    bits: %s\n"
             "attacks:\n"
             "  - method: noise\n"
             "    eps: 8/255\n",
             bits_itq);
    return buf;
}

/* The deterministic metrics of a cell as canonical JSON (seconds_per_query, a timing, left out). */
static char *metrics_json(const char *rundir, const char *key) {
    hl_config *t = result_of(rundir, key);
    char *j = NULL;
    hl_config *m = (hl_config *)hl_config_get(t, "metrics");
    cr_assert_not_null(m, "cell %s has no metrics", key);
    hl_config_map_remove(m, "seconds_per_query");
    cr_assert_eq(hl_config_canonical_json(m, &j), HL_OK);
    hl_config_free(t);
    return j;
}

static double mtime_of(const char *path) {
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "%s missing", path);
    return (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec;
}

/* Reads RUNDIR/cells/KEY/per_query.csv: asserts the header (the given numeric columns, then "labels"), returns the
 * rows (malloc'ed, ncols doubles each) and checks each row ends in its non-empty label names. */
static double *per_query_rows(const char *rundir, const char *key, const char *header, int ncols, int64_t *nrows) {
    char p[1200];
    snprintf(p, sizeof p, "%s/cells/%s/per_query.csv", rundir, key);
    size_t len = 0;
    char *text = (char *)hl_test_read_file(p, &len);
    cr_assert_not_null(text, "%s missing", p);
    char *line = strtok(text, "\n"), want[256];
    snprintf(want, sizeof want, "%s,labels", header);
    cr_assert(line && !strcmp(line, want), "%s: header '%s', expected '%s'", p, line ? line : "", want);
    double *rows = NULL;
    int64_t n = 0;
    while ((line = strtok(NULL, "\n")) != NULL) {
        rows = realloc(rows, (size_t)(n + 1) * (size_t)ncols * sizeof *rows);
        cr_assert_not_null(rows);
        char *s = line, *end = NULL;
        for (int j = 0; j < ncols; j++) {
            rows[n * ncols + j] = strtod(s, &end);
            cr_assert(end != s, "%s row %lld col %d: '%s'", p, (long long)n, j, line);
            cr_assert(*end == ',', "%s row %lld: '%s'", p, (long long)n, line);
            s = end + 1;
        }
        cr_assert(*s && !strchr(s, ','), "%s row %lld: labels '%s'", p, (long long)n, s);
        n++;
    }
    free(text);
    *nrows = n;
    return rows;
}

/* Train cell: pr_radius has bits+1 points in [0, 1] with recall non-decreasing; per_query.csv's mean AP = mAP. */
static void check_train_extras(const char *rd, const hl_cell *c, const hl_config *t) {
    int64_t bits = c->bits, nq = 0;
    const hl_config *pr = hl_config_get(t, "pr_radius");
    cr_assert_not_null(pr, "%s lacks pr_radius", c->label);
    const hl_config *prec = hl_config_get(pr, "precision"), *rec = hl_config_get(pr, "recall");
    cr_assert(prec && rec && prec->kind == HL_CONFIG_SEQ && rec->kind == HL_CONFIG_SEQ);
    cr_assert_eq(hl_config_len(prec), bits + 1, "%s: %lld precision points", c->label, (long long)hl_config_len(prec));
    cr_assert_eq(hl_config_len(rec), bits + 1);
    double prev = 0;
    for (int64_t r = 0; r <= bits; r++) {
        double pv = -1, rv = -1;
        cr_assert_eq(hl_config_as_double(hl_config_at(prec, r), &pv), HL_OK);
        cr_assert_eq(hl_config_as_double(hl_config_at(rec, r), &rv), HL_OK);
        cr_assert(pv >= 0 && pv <= 1 && rv >= 0 && rv <= 1 + 1e-12, "%s r=%lld: P %g R %g", c->label, (long long)r, pv,
                  rv);
        cr_assert(rv >= prev - 1e-12, "%s: recall decreases at r=%lld (%g < %g)", c->label, (long long)r, rv, prev);
        prev = rv;
    }
    cr_assert(prev > 0.99, "%s: recall at r=K is %g (every synthetic query has relevant items)", c->label, prev);
    double *rows = per_query_rows(rd, c->key, "query,index,ap", 3, &nq);
    cr_assert_eq(nq, 40, "%s: %lld per-query rows", c->label, (long long)nq);
    double sum = 0, map = -1;
    for (int64_t i = 0; i < nq; i++) {
        cr_assert_eq(rows[i * 3], (double)i);
        cr_assert(rows[i * 3 + 1] >= 0 && rows[i * 3 + 1] < 600);
        sum += rows[i * 3 + 2];
    }
    cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), "mAP@1000", &map), HL_OK);
    cr_assert(fabs(sum / (double)nq - map) <= 1e-9, "%s: mean AP %.12g vs mAP %.12g", c->label, sum / (double)nq, map);
    free(rows);
}

/* Attack cell: per_query.csv (mean clean/adv AP = the metrics), adv_images.npy uint8 [m,c,h,w] within eps of the
 * clean images (data set rebuilt from the suite), seconds_per_query > 0. */
static void check_attack_extras(const char *rd, const hl_cell *c, const hl_config *t, const hl_dataset *data) {
    int64_t m = 0;
    double *rows = per_query_rows(rd, c->key, "query,index,ap_clean,ap_adv", 4, &m);
    cr_assert_eq(m, 40, "%s: %lld per-query rows", c->label, (long long)m);
    const hl_config *mt = hl_config_get(t, "metrics");
    double map_adv = -1, map_clean = -1, spq = -1, att = -1, sa = 0, sc = 0;
    cr_assert_eq(hl_config_get_double(mt, "mAP@1000", &map_adv), HL_OK);
    cr_assert_eq(hl_config_get_double(mt, "mAP@1000(clean)", &map_clean), HL_OK);
    cr_assert_eq(hl_config_get_double(mt, "seconds_per_query", &spq), HL_OK);
    cr_assert_eq(hl_config_get_double(hl_config_get(t, "timings"), "attack_s", &att), HL_OK);
    cr_assert(spq > 0 && fabs(spq * (double)m - att) <= 1e-9 * (1 + att), "%s: seconds_per_query %g, attack_s %g",
              c->label, spq, att);
    int64_t *idx = malloc((size_t)m * sizeof *idx);
    for (int64_t i = 0; i < m; i++) {
        cr_assert_eq(rows[i * 4], (double)i, "attack queries are the first 40 of the query list");
        idx[i] = (int64_t)rows[i * 4 + 1];
        sc += rows[i * 4 + 2];
        sa += rows[i * 4 + 3];
    }
    cr_assert(fabs(sc / (double)m - map_clean) <= 1e-9, "%s: clean %.12g vs %.12g", c->label, sc / (double)m, map_clean);
    cr_assert(fabs(sa / (double)m - map_adv) <= 1e-9, "%s: adv %.12g vs %.12g", c->label, sa / (double)m, map_adv);
    char p[1200];
    snprintf(p, sizeof p, "%s/cells/%s/adv_images.npy", rd, c->key);
    hl_npy a;
    cr_assert_eq(hl_npy_read(p, &a), HL_OK, "%s", hl_error_last());
    cr_assert_eq(a.dtype, HL_NPY_U8);
    cr_assert_eq(a.ndim, 4);
    cr_assert(a.shape[0] == m && a.shape[1] == data->c && a.shape[2] == data->h && a.shape[3] == data->w,
              "%s: shape [%lld,%lld,%lld,%lld]", p, (long long)a.shape[0], (long long)a.shape[1],
              (long long)a.shape[2], (long long)a.shape[3]);
    int64_t d = (int64_t)data->c * data->h * data->w;
    float *x = malloc((size_t)(m * d) * sizeof *x);
    hl_dataset_read(data, idx, m, x);
    const uint8_t *u = a.data;
    double maxdiff = 0;
    for (int64_t i = 0; i < m * d; i++) maxdiff = fmax(maxdiff, fabs((double)u[i] / 255.0 - (double)x[i]));
    cr_assert(maxdiff <= 8.5 / 255.0 + 1e-6 && maxdiff > 0, "%s: max |adv - clean| = %g", c->label, maxdiff);
    hl_npy_free(&a);
    free(x);
    free(idx);
    free(rows);
}

/* The synthetic data set of a run directory's suite, rebuilt from its resolved tree. */
static void data_of(const char *rundir, hl_dataset *data) {
    hl_suite *s = NULL;
    cr_assert_eq(hl_suite_load(&s, hl_test_path(rundir, "suite.yaml")), HL_OK, "%s", hl_error_last());
    int64_t n, c, h, w, k, seed;
    double noise;
    const hl_config *r = s->resolved;
    cr_assert_eq(hl_config_get_int(r, "synthetic.n", &n) | hl_config_get_int(r, "synthetic.c", &c) |
                     hl_config_get_int(r, "synthetic.h", &h) | hl_config_get_int(r, "synthetic.w", &w) |
                     hl_config_get_int(r, "synthetic.classes", &k) | hl_config_get_int(r, "synthetic.seed", &seed) |
                     hl_config_get_double(r, "synthetic.noise", &noise),
                 HL_OK);
    hl_synth_opts so = {.n = n, .c = (int)c, .h = (int)h, .w = (int)w, .classes = (int)k, .seed = (uint64_t)seed,
                        .noise = (float)noise};
    cr_assert_eq(hl_dataset_synthetic(data, &so), HL_OK, "%s", hl_error_last());
    hl_suite_free(s);
}

Test(runner, end_to_end_schema_and_rerun_does_nothing) {
    char *suite = write_suite(suite_text("[8, 16]"));
    const char *rd = tmp_dir("run_a");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.cells, 16);
    cr_assert_eq(sum.ran, 16);
    cr_assert_eq(sum.failed, 0);
    cr_assert(sum.report_status == HL_OK || sum.report_status == HL_EUNSUPPORTED, "report: %s", hl_error_last());
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    cr_assert_eq(n, 16);
    static const char *const common[] = {"kind", "status", "key", "label", "method", "bits", "seed", "hasher_params",
                                         "dataset", "protocol", "split_hash", "queries", "database", "conventions",
                                         "metrics", "timings", "versions", "threads", "finished_at",
                                         "device"};
    static const char *const train_m[] = {"mAP@1000", "P@H<=2", "R@H<=2", "mean_tie_bucket"};
    static const char *const attack_m[] = {"mAP@1000", "P@H<=2", "R@H<=2", "mAP@1000(clean)", "pert_rmse",
                                           "linf_255", "psnr", "ssim"};
    static const char *const attack_k[] = {"attack", "attack_config", "train_key", "eps", "norm"};
    double mt[16];
    hl_dataset data;
    data_of(rd, &data);
    for (int64_t i = 0; i < n; i++) {
        hl_config *t = result_of(rd, cells[i].key);
        for (size_t k = 0; k < HL_ARRAY_LEN(common); k++)
            cr_assert_not_null(hl_config_get(t, common[k]), "%s lacks %s", cells[i].label, common[k]);
        cr_assert_str_eq(hl_config_get(t, "status")->text, "done");
        cr_assert_str_eq(hl_config_get(t, "key")->text, cells[i].key);
        cr_assert_str_eq(hl_config_get(t, "label")->text, cells[i].label);
        cr_assert_str_eq(hl_config_get(t, "protocol")->text, "cifar10:40/100");
        cr_assert_str_eq(hl_config_path(t, "conventions.topk")->text, "1000");
        const hl_config *m = hl_config_get(t, "metrics");
        if (cells[i].kind == HL_CELL_TRAIN) {
            cr_assert_str_eq(hl_config_get(t, "kind")->text, "train");
            cr_assert_str_eq(hl_config_get(t, "queries")->text, "40");
            cr_assert_str_eq(hl_config_get(t, "database")->text, "460");
            for (size_t k = 0; k < HL_ARRAY_LEN(train_m); k++) cr_assert_not_null(hl_config_get(m, train_m[k]));
            double map = 0;
            cr_assert_eq(hl_config_get_double(m, "mAP@1000", &map), HL_OK);
            cr_assert(map > 0.25 && map <= 1.0, "%s mAP %g", cells[i].label, map);
            cr_assert_eq(access(hl_test_path(hl_test_path(rd, "cells"), cells[i].key), F_OK), 0);
            check_train_extras(rd, &cells[i], t);
        } else {
            cr_assert_str_eq(hl_config_get(t, "kind")->text, "attack");
            for (size_t k = 0; k < HL_ARRAY_LEN(attack_m); k++)
                cr_assert_not_null(hl_config_get(m, attack_m[k]), "%s lacks metric %s", cells[i].label, attack_m[k]);
            for (size_t k = 0; k < HL_ARRAY_LEN(attack_k); k++) cr_assert_not_null(hl_config_get(t, attack_k[k]));
            cr_assert_str_eq(hl_config_get(t, "eps")->text, "8/255");
            cr_assert_str_eq(hl_config_get(t, "train_key")->text, cells[cells[i].parent].key);
            cr_assert_eq(hl_config_get(m, "ssim")->kind, HL_CONFIG_NULL, "8x8 images have no SSIM window");
            double linf = 0;
            cr_assert_eq(hl_config_get_double(m, "linf_255", &linf), HL_OK);
            cr_assert(linf > 0 && linf <= 8.0 + 1e-3, "linf_255 %g", linf);
            char p[1200];
            snprintf(p, sizeof p, "%s/cells/%s/adv_examples.png", rd, cells[i].key);
            cr_assert_eq(access(p, F_OK), 0);
            check_attack_extras(rd, &cells[i], t, &data);
        }
        char p[1200];
        snprintf(p, sizeof p, "%s/cells/%s/result.json", rd, cells[i].key);
        mt[i] = mtime_of(p);
        hl_config_free(t);
    }
    hl_dataset_free(&data);
    cr_assert_eq(access(hl_test_path(rd, "artifacts/attack_queries.npy"), F_OK), 0);
    /* Shared target artifacts: one target label set and 9 anchor positions per attacked query. */
    hl_npy tl, ai;
    cr_assert_eq(hl_npy_read(hl_test_path(rd, "artifacts/target_labels.npy"), &tl), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_npy_read(hl_test_path(rd, "artifacts/anchor_indices.npy"), &ai), HL_OK, "%s", hl_error_last());
    cr_assert(tl.ndim == 2 && ai.ndim == 2 && ai.shape[1] == 9 && tl.shape[0] == ai.shape[0] && tl.shape[0] > 0);
    hl_npy_free(&tl);
    hl_npy_free(&ai);
    cr_assert_eq(access(hl_test_path(rd, "log.txt"), F_OK), 0);
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.ran, 0);
    cr_assert_eq(sum.skipped, 16);
    for (int64_t i = 0; i < n; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/cells/%s/result.json", rd, cells[i].key);
        cr_assert_eq(mtime_of(p), mt[i], "%s was rewritten", cells[i].label);
    }
    free(cells);
    free(suite);
}

Test(runner, resume_after_sigkill_matches_uninterrupted) {
    char *suite = write_suite(suite_text("[8, 16]"));
    const char *ref = tmp_dir("ref");
    hl_run_summary sum;
    cr_assert_eq(run(suite, ref, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(ref, &cells, &n);
    static const int kills[] = {1, 5, 11};
    for (size_t k = 0; k < HL_ARRAY_LEN(kills); k++) {
        char name[32];
        snprintf(name, sizeof name, "resume%d", kills[k]);
        const char *rd = tmp_dir(name);
        fflush(NULL);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            char v[16];
            snprintf(v, sizeof v, "%d", kills[k]);
            setenv("HASHLAB_TEST_KILL_AFTER", v, 1);
            hl_run_summary s2;
            run(suite, rd, NULL, false, &s2);
            _exit(0);
        }
        int ws = 0;
        cr_assert_eq(waitpid(pid, &ws, 0), pid);
        cr_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL, "child was not killed after %d cells", kills[k]);
        cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
        cr_assert_eq(sum.skipped, kills[k]);
        cr_assert_eq(sum.ran, 16 - kills[k]);
        for (int64_t i = 0; i < n; i++) {
            char *a = metrics_json(ref, cells[i].key), *b = metrics_json(rd, cells[i].key);
            cr_assert_str_eq(a, b, "%s differs after resuming at %d", cells[i].label, kills[k]);
            free(a);
            free(b);
        }
    }
    free(cells);
    free(suite);
}

Test(runner, failing_cell_is_recorded_and_others_finish) {
    /* a model whose fit fails (a failure no check before the run can see: the binarize test plugin's failfit) */
    char stext[2048];
    snprintf(stext, sizeof stext, "%s", suite_text("[8]"));
    char *at = strstr(stext, "attacks:");
    cr_assert_not_null(at);
    char tail[512];
    snprintf(tail, sizeof tail, "%s", at);
    snprintf(at, sizeof stext - (size_t)(at - stext), "  - method: failfit\n    bits: [8]\nplugins: ['%s']\n%s",
             HL_BINARIZE_PLUGIN, tail);
    char *suite = write_suite(stext);
    const char *rd = tmp_dir("fail");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.ran, 16);
    cr_assert_eq(sum.failed, 4, "failfit/8b train and attack cells for 2 seeds (failed %lld)", (long long)sum.failed);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    for (int64_t i = 0; i < n; i++) {
        char *err = NULL;
        hl_cell_state cs = hl_store_cell_state(rd, cells[i].key, NULL, &err);
        bool bad = strstr(cells[i].label, "failfit/8b") != NULL;
        cr_assert_eq(cs, bad ? HL_CELL_STATE_FAILED : HL_CELL_STATE_DONE, "%s", cells[i].label);
        if (bad) cr_assert(err && strlen(err) > 0);
        if (bad && cells[i].kind == HL_CELL_TRAIN) cr_assert(strstr(err, "always fails to fit"), "%s", err);
        free(err);
    }
    /* re-running retries the failed cells only */
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK);
    cr_assert_eq(sum.ran, 4);
    cr_assert_eq(sum.skipped, 12);
    /* status lists the states */
    const char *out = tmp_dir("status.txt");
    fflush(stdout);
    int saved = dup(1), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    char *argv[] = {(char *)rd};
    int rc = hl_cmd_status(1, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(fd);
    close(saved);
    cr_assert_eq(rc, 0);
    size_t len = 0;
    char *text = (char *)hl_test_read_file(out, &len);
    cr_assert(strstr(text, "16 cells: 12 done, 4 failed, 0 pending"), "%s", text);
    cr_assert(strstr(text, "failed   train  "), "%s", text);
    cr_assert(strstr(text, "lsh/8b/seed0/noise"), "%s", text);
    free(text);
    free(cells);
    free(suite);
}

Test(runner, shards_cover_every_cell_once) {
    char *suite = write_suite(suite_text("[8]"));
    const char *a = tmp_dir("shard0"), *b = tmp_dir("shard1");
    hl_run_summary s0, s1;
    cr_assert_eq(run(suite, a, "0/2", false, &s0), HL_OK, "%s", hl_error_last());
    cr_assert_eq(run(suite, b, "1/2", false, &s1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s0.ran + s1.ran, 12);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(a, &cells, &n);
    cr_assert_eq(n, 12);
    for (int64_t i = 0; i < n; i++) {
        int in_a = hl_store_cell_state(a, cells[i].key, NULL, NULL) == HL_CELL_STATE_DONE;
        int in_b = hl_store_cell_state(b, cells[i].key, NULL, NULL) == HL_CELL_STATE_DONE;
        cr_assert_eq(in_a + in_b, 1, "%s in %d shards", cells[i].label, in_a + in_b);
    }
    free(cells);
    free(suite);
}

Test(runner, dry_run_runs_nothing) {
    char *suite = write_suite(suite_text("[8]"));
    const char *rd = tmp_dir("dry");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, true, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.ran, 0);
    cr_assert_eq(sum.selected, 12);
    cr_assert_neq(access(rd, F_OK), 0, "dry run created the run directory");
    free(suite);
}

Test(runner, bad_suite_refused_with_position) {
    char *suite = write_suite("name: bad\n"
                              "dataset: synthetic\n"
                              "hashers:\n"
                              "  - method: lsh\n"
                              "    bits: [8]\n"
                              "    params: {nonsense: 1}\n"
                              "  - method: itg\n"
                              "    bits: [8]\n");
    const char *rd = tmp_dir("bad");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_EINVAL);
    const char *e = hl_error_last();
    cr_assert(strstr(e, "s.yaml:6:") && strstr(e, "nonsense"), "%s", e);
    cr_assert(strstr(e, "s.yaml:7:13:") && strstr(e, "itg"), "%s", e);
    cr_assert_neq(access(rd, F_OK), 0, "nothing may be written for a bad suite");
    free(suite);
}

/* SIGINT between cells (test hook HASHLAB_TEST_KILL_SIGNAL=INT): clean stop, finished cells kept, exit 130; the
 * next run finishes the rest. */
Test(runner, interrupt_stops_cleanly_and_resumes) {
    char *suite = write_suite(suite_text("[8]"));
    const char *rd = tmp_dir("sigint");
    setenv("HASHLAB_TEST_KILL_AFTER", "3", 1);
    setenv("HASHLAB_TEST_KILL_SIGNAL", "INT", 1);
    char *argv[] = {suite, "--quiet", "--output", (char *)rd};
    int rc = hl_cmd_run(4, argv);
    unsetenv("HASHLAB_TEST_KILL_AFTER");
    unsetenv("HASHLAB_TEST_KILL_SIGNAL");
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    cr_assert_eq(rc, 130);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(hl_store_cell_state(rd, cells[i].key, NULL, NULL), i < 3 ? HL_CELL_STATE_DONE : HL_CELL_STATE_PENDING,
                     "%s", cells[i].label);
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.skipped, 3);
    cr_assert_eq(sum.ran, 9);
    cr_assert(!sum.interrupted);
    free(cells);
    free(suite);
}

Test(runner, only_pulls_in_train_cells_and_cli_usage) {
    char *suite = write_suite(suite_text("[8]"));
    const char *rd = tmp_dir("only");
    char *argv[] = {suite, "--quiet", "--only", "itq/*/noise*", "--output", (char *)rd};
    cr_assert_eq(hl_cmd_run(6, argv), 0);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(hl_store_cell_state(rd, cells[i].key, NULL, NULL),
                     strncmp(cells[i].label, "itq/", 4) == 0 ? HL_CELL_STATE_DONE : HL_CELL_STATE_PENDING, "%s",
                     cells[i].label);
    /* plan.json lists every cell of the suite, not only the selected ones (the report's notion of "the suite") */
    char (*plan)[65] = NULL;
    int64_t np = 0;
    cr_assert_eq(hl_plan_read(rd, &plan, &np), HL_OK, "%s", hl_error_last());
    cr_assert_eq(np, n);
    for (int64_t i = 0; i < n; i++) cr_assert(hl_plan_has((const char (*)[65])plan, np, cells[i].key), "%s", cells[i].label);
    free(plan);
    char *bad[] = {suite, "--shard", "2/2"};
    cr_assert_eq(hl_cmd_run(3, bad), 2);
    char *none[] = {"--quiet"};
    cr_assert_eq(hl_cmd_run(1, none), 2);
    char *st[] = {"--bogus"};
    cr_assert_eq(hl_cmd_status(1, st), 2);
    free(cells);
    free(suite);
}

Test(runner, store_lock_refuses_second_run) {
    const char *rd = tmp_dir("locked");
    hl_store a, b;
    cr_assert_eq(hl_store_open(&a, rd, 0, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_store_open(&b, rd, 0, 1), HL_EIO);
    cr_assert(strstr(hl_error_last(), "another hashlab run"), "%s", hl_error_last());
    hl_store_close(&a);
    cr_assert_eq(hl_store_open(&b, rd, 0, 1), HL_OK, "%s", hl_error_last());
    hl_store_close(&b);
    /* Shards of one cluster job share the directory; the same shard twice is refused. */
    hl_store s0, s1, s1b;
    cr_assert_eq(hl_store_open(&s0, rd, 0, 2), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_store_open(&s1, rd, 1, 2), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_store_open(&s1b, rd, 1, 2), HL_EIO);
    hl_store_close(&s0);
    hl_store_close(&s1);
    cr_assert_eq(hl_store_cell_state(rd, "0123", NULL, NULL), HL_CELL_STATE_PENDING);
}

/* Entry names, the attack `bits` filter, attack_queries and the targeted path (noise is a targeted baseline): labels
 * and report rows use the names, filtered attacks make no cells, targeted cells carry every targeted metric within
 * range (the floor never above the ceiling for a random baseline that does not move codes much) and n_t. */
Test(runner, names_bits_filter_targeted_metrics) {
    char *suite = write_suite("name: tgt\n"
                              "dataset: synthetic\n"
                              "synthetic: {n: 600, c: 1, h: 8, w: 8, classes: 4}\n"
                              "protocol: cifar10:40/100\n"
                              "threads: 1\n"
                              "attack_queries: 25\n"
                              "hashers:\n"
                              "  - method: lsh\n"
                              "    bits: [8, 16]\n"
                              "  - method: lsh\n"
                              "    name: lsh-raw\n"
                              "    bits: [16]\n"
                              "    params: {center: false}\n"
                              "  - method: itq\n"
                              "    bits: [8]\n"
                              "    attack: false\n"
                              "attacks:\n"
                              "  - method: noise\n"
                              "    name: noise-t\n"
                              "    targeted: true\n"
                              "    bits: [16]\n"
                              "  - method: noise\n"
                              "    eps: 4/255\n");
    const char *rd = tmp_dir("run_tgt");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    /* 4 train cells; noise 4/255 on the 3 lsh models (itq has attack: false), noise-t only on the 16-bit ones */
    cr_assert_eq(sum.cells, 4 + 3 + 2);
    cr_assert_eq(sum.failed, 0);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    int targeted = 0;
    for (int64_t i = 0; i < n; i++) {
        hl_config *t = result_of(rd, cells[i].key);
        if (cells[i].kind == HL_CELL_ATTACK) {
            cr_assert_str_eq(hl_config_get(t, "queries")->text, "25");
            const char *an = hl_config_get(t, "attack")->text;
            cr_assert_str_eq(hl_config_get(t, "attack_method")->text, "noise");
            if (!strcmp(an, "noise-t")) {
                targeted++;
                cr_assert_eq(cells[i].bits, 16);
                cr_assert(strstr(cells[i].label, "/noise-t:linf:8/255"), "%s", cells[i].label);
                cr_assert_str_eq(hl_config_get(t, "n_t")->text, "9");
                const hl_config *m = hl_config_get(t, "metrics");
                static const char *const tm[] = {"t-mAP@all", "t-mAP@all(float)", "t-mAP@all(clean)",
                                                 "t-mAP@all(anchor)", "TSR@H<=0", "TSR@H<=2", "TSR@10-maj",
                                                 "TSR@100-maj", "forwards_per_query", "mAP@1000(float)"};
                for (size_t k = 0; k < HL_ARRAY_LEN(tm); k++) {
                    double v = -1;
                    cr_assert_eq(hl_config_get_double(m, tm[k], &v), HL_OK, "%s lacks %s", cells[i].label, tm[k]);
                    if (strcmp(tm[k], "forwards_per_query")) cr_assert(v >= 0 && v <= 1, "%s = %g", tm[k], v);
                }
                double floor_ = 0, ceil_ = 0;
                hl_config_get_double(m, "t-mAP@all(clean)", &floor_);
                hl_config_get_double(m, "t-mAP@all(anchor)", &ceil_);
                cr_assert(floor_ < ceil_, "floor %g ceiling %g", floor_, ceil_);
            } else {
                cr_assert_str_eq(an, "noise");
                cr_assert_null(hl_config_get(hl_config_get(t, "metrics"), "t-mAP@all"));
            }
        } else {
            const char *mn = hl_config_get(t, "method")->text;
            cr_assert(!strcmp(mn, "lsh") || !strcmp(mn, "lsh-raw") || !strcmp(mn, "itq"), "%s", mn);
            cr_assert_str_eq(hl_config_get(t, "hasher_method")->text, strcmp(mn, "itq") ? "lsh" : "itq");
            /* unsupervised methods learn from the train list through a label-less view */
            cr_assert_str_eq(hl_config_get(t, "fit_on")->text, "train (labels hidden)");
        }
        hl_config_free(t);
    }
    cr_assert_eq(targeted, 2);
    /* the report has the targeted table, rows by entry name */
    if (sum.report_status == HL_OK) {
        size_t len = 0;
        char *md = (char *)hl_test_read_file(hl_test_path(rd, "report/tables.md"), &len);
        cr_assert(md && strstr(md, "Targeted attacks, 16 bits") && strstr(md, "lsh-raw") && strstr(md, "noise-t"));
        cr_assert(strstr(md, "Training data: train (labels hidden): itq, lsh, lsh-raw."), "%s", md);
        free(md);
        cr_assert_eq(access(hl_test_path(rd, "report/tables_targeted_16b.csv"), F_OK), 0);
    }
    free(cells);
    free(suite);
}

/* Two entries of one method with a shared bit length and no names would merge into one report row: refused. */
Test(runner, duplicate_entry_names_refused) {
    char *suite = write_suite("name: dup\n"
                              "dataset: synthetic\n"
                              "hashers:\n"
                              "  - method: lsh\n"
                              "    bits: [8, 16]\n"
                              "  - method: lsh\n"
                              "    bits: [16]\n");
    hl_suite *s = NULL;
    cr_assert_eq(hl_suite_load(&s, suite), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), ":6:5: hashers: entries 1 and 2 are both named 'lsh'"), "%s", hl_error_last());
    free(suite);
}

/* Transfer: the adversarial images of `transfer.attacks` crafted on each 16-bit model are scored on every attacked
 * 16-bit model (sources 3 models × 2 attack entries named by name and by threat label, targets 3 models: 18 transfer
 * cells; the 8-bit models and the 4/255 entry are not transferred); the diagonal reproduces the white-box cell's
 * scores exactly; the report has a transfer matrix per attack (and a t-mAP one for the targeted attack) of 3 × 3.
 * In a sharded run, a transfer cell whose target model belongs to the other shard waits, and a later unsharded run
 * completes it. A transfer entry that names no attack is refused with its position. */
Test(runner, transfer_matrix_diagonal_is_white_box) {
    const char *text = "name: xfer\n"
                       "dataset: synthetic\n"
                       "synthetic: {n: 600, c: 1, h: 8, w: 8, classes: 4}\n"
                       "protocol: cifar10:40/100\n"
                       "threads: 1\n"
                       "attack_queries: 20\n"
                       "hashers:\n"
                       "  - method: lsh\n"
                       "    bits: [8, 16]\n"
                       "  - method: lsh\n"
                       "    name: lsh-raw\n"
                       "    bits: [16]\n"
                       "    params: {center: false}\n"
                       "  - method: itq\n"
                       "    bits: [16]\n"
                       "attacks:\n"
                       "  - method: noise\n"
                       "    eps: 16/255\n"
                       "  - method: noise\n"
                       "    eps: 4/255\n"
                       "  - method: noise\n"
                       "    name: noise-t\n"
                       "    targeted: true\n"
                       "transfer:\n"
                       "  attacks: [\"noise:linf:16/255\", noise-t]\n"
                       "  bits: [16]\n";
    char *suite = write_suite(text);
    const char *a = tmp_dir("xfer_a"), *b = tmp_dir("xfer_b");
    hl_run_summary s0, s1, s2;
    /* sharded: each shard does what its own models allow, the rest waits */
    cr_assert_eq(run(suite, b, "0/2", false, &s0), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s0.failed, 0);
    cr_assert(s0.waiting > 0, "a sharded run should leave cross-shard transfer cells waiting");
    cr_assert_eq(run(suite, b, "1/2", false, &s1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(run(suite, b, NULL, false, &s2), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s2.failed, 0);
    cr_assert_eq(s2.waiting, 0);
    cr_assert_eq(s0.ran + s1.ran + s2.ran, s2.cells, "every cell ran exactly once over the three runs");
    /* unsharded, in another directory */
    cr_assert_eq(run(suite, a, NULL, false, &s0), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s0.failed, 0);
    cr_assert_eq(s0.waiting, 0);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(a, &cells, &n);
    int ntrain = 0, nattack = 0, nxfer = 0, diag = 0;
    for (int64_t i = 0; i < n; i++) {
        ntrain += cells[i].kind == HL_CELL_TRAIN, nattack += cells[i].kind == HL_CELL_ATTACK;
        if (cells[i].kind != HL_CELL_TRANSFER) continue;
        nxfer++;
        const hl_cell *src = &cells[cells[i].parent], *tgt = &cells[cells[i].target];
        cr_assert_eq(src->kind, HL_CELL_ATTACK);
        cr_assert_eq(tgt->kind, HL_CELL_TRAIN);
        cr_assert_eq(src->bits, 16);
        cr_assert_eq(tgt->bits, 16);
        cr_assert(strstr(cells[i].label, "=>"), "%s", cells[i].label);
        hl_config *t = result_of(a, cells[i].key);
        cr_assert_str_eq(hl_config_get(t, "kind")->text, "transfer");
        cr_assert_str_eq(hl_config_get(t, "status")->text, "done");
        bool targeted = strstr(cells[i].label, "noise-t") != NULL;
        cr_assert_eq(hl_config_get(hl_config_get(t, "metrics"), "t-mAP@all") != NULL, targeted, "%s", cells[i].label);
        if (src->parent == cells[i].target) { /* the diagonal: the attack's own victim */
            diag++;
            hl_config *w = result_of(a, src->key);
            const char *names[] = {"mAP@1000", "mAP@1000(clean)", "t-mAP@all", "t-mAP@all(clean)", "TSR@10-maj"};
            for (int k = 0; k < 5; k++) {
                double x, y;
                if (k >= 2 && !targeted) continue;
                cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), names[k], &x), HL_OK, "%s", names[k]);
                cr_assert_eq(hl_config_get_double(hl_config_get(w, "metrics"), names[k], &y), HL_OK, "%s", names[k]);
                cr_assert_eq(x, y, "%s %s: transfer %g, white-box %g", cells[i].label, names[k], x, y);
            }
            hl_config_free(w);
        }
        hl_config_free(t);
    }
    cr_assert_eq(ntrain, 4);
    cr_assert_eq(nattack, 4 * 3);
    cr_assert_eq(nxfer, 3 * 2 * 3);
    cr_assert_eq(diag, 3 * 2);
    size_t len = 0;
    char *md = (char *)hl_test_read_file(hl_test_path(a, "report/tables.md"), &len);
    cr_assert(md && strstr(md, "Transfer: noise at linf eps 16/255") && strstr(md, "Transfer: noise-t at linf eps 8/255"),
              "%s", md ? md : "(no report)");
    cr_assert(strstr(md, "t-mAP@all (relevance by the target label)"), "%s", md);
    free(md);
    /* the matrix: 3 rows × 3 target columns */
    char *csv = (char *)hl_test_read_file(hl_test_path(a, "report/tables_transfer_noise_linf_16_255_map.csv"), &len);
    cr_assert_not_null(csv);
    int lines = 0;
    for (char *q = csv; *q; q++) lines += *q == '\n';
    cr_assert(strstr(csv, "itq 16b") && strstr(csv, "lsh-raw 16b") && strstr(csv, "lsh 16b"), "%s", csv);
    cr_assert(!strstr(csv, "lsh 8b"), "%s", csv);
    cr_assert(lines >= 4, "%s", csv);
    free(csv);
    free(cells);
    free(suite);
    /* a pattern that names nothing */
    char *bad = write_suite("name: x\ndataset: synthetic\nhashers:\n  - method: lsh\n    bits: [8]\nattacks:\n"
                            "  - method: noise\ntransfer:\n  attacks: [pgd]\n");
    hl_suite *s = NULL;
    cr_assert_eq(hl_suite_load(&s, bad), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "s.yaml:9:13: transfer.attacks: 'pgd' names no attack entry"), "%s",
              hl_error_last());
    free(bad);
}

/* The issue-6/7 machinery through the lab, tiny: a semi-supervised hasher (abml) learns from train + the unlabelled
 * rest of the database, an unsupervised one (hashgan) from the train list with labels hidden, each records it
 * (fit_on) and writes its generator's sample grid into its cell; ProS-GAN is fitted once per victim and cached next
 * to the model: the unbounded entry fits it, the clipped entry (same params) loads it; a re-run after deleting an
 * attack cell's result loads the cache instead of fitting again. */
Test(runner, semi_unsupervised_fit_on_and_cached_attack_fit) {
    char *suite = write_suite("name: adv\n"
                              "dataset: synthetic\n"
                              "synthetic: {n: 400, c: 1, h: 28, w: 28, classes: 4}\n"
                              "protocol: cifar10:20/80\n"
                              "threads: 1\n"
                              "attack_queries: 8\n"
                              "hashers:\n"
                              "  - method: abml\n"
                              "    bits: [8]\n"
                              "    params: {epochs: 1, batch: 32}\n"
                              "  - method: hashgan\n"
                              "    bits: [8]\n"
                              "    attack: false\n"
                              "    params: {epochs: 1, batch: 32}\n"
                              "attacks:\n"
                              "  - method: prosgan\n"
                              "    targeted: true\n"
                              "    norm: none\n"
                              "    params: {proto_steps: 10, gan_epochs: 1, width: 8, d_width: 8, res_blocks: 1, feat: 16,\n"
                              "             proto_hidden: 16}\n"
                              "  - method: prosgan\n"
                              "    targeted: true\n"
                              "    eps: 8/255\n"
                              "    params: {proto_steps: 10, gan_epochs: 1, width: 8, d_width: 8, res_blocks: 1, feat: 16,\n"
                              "             proto_hidden: 16}\n");
    const char *rd = tmp_dir("run_adv");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.cells, 2 + 2);
    cr_assert_eq(sum.failed, 0);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    int fitted = 0, loaded = 0;
    const char *fit_attack_key = NULL;
    for (int64_t i = 0; i < n; i++) {
        hl_config *t = result_of(rd, cells[i].key);
        const char *m = hl_config_get(t, "method")->text;
        char dir[1300];
        hl_store_cell_dir(rd, cells[i].key, dir, sizeof dir);
        if (cells[i].kind == HL_CELL_TRAIN) {
            cr_assert_str_eq(hl_config_get(t, "fit_on")->text, !strcmp(m, "abml") ? "train+unlabelled"
                                                                                 : "train (labels hidden)");
            cr_assert_eq(access(hl_test_path(dir, "samples/G_epoch_001.png"), F_OK), 0, "%s: no sample grid", m);
        } else {
            const char *state = hl_config_path(t, "attack_fit.state")->text;
            fitted += !strcmp(state, "fitted"), loaded += !strcmp(state, "loaded");
            if (!strcmp(state, "fitted")) fit_attack_key = cells[i].key;
            cr_assert_not_null(hl_config_get(hl_config_get(t, "metrics"), "perceptibility"));
        }
        hl_config_free(t);
    }
    cr_assert_eq(fitted, 1);
    cr_assert_eq(loaded, 1);
    /* re-run the fitting cell: it now loads the cached fit */
    char dir[1300];
    hl_store_cell_dir(rd, fit_attack_key, dir, sizeof dir);
    cr_assert_eq(unlink(hl_test_path(dir, "result.json")), 0);
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.ran, 1);
    hl_config *t = result_of(rd, fit_attack_key);
    cr_assert_str_eq(hl_config_path(t, "attack_fit.state")->text, "loaded");
    hl_config_free(t);
    free(cells);
    free(suite);
}

/* The suite's report formats are the ones written at the end of a run. */
Test(runner, suite_report_formats_are_used) {
    char text[2048];
    snprintf(text, sizeof text, "%sreport: {formats: [md]}\n", suite_text("[8]"));
    char *suite = write_suite(text);
    const char *rd = tmp_dir("formats");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.report_status, HL_OK, "%s", hl_error_last());
    struct stat sb;
    cr_assert(stat(hl_test_path(rd, "report/tables.md"), &sb) == 0, "tables.md missing");
    cr_assert(stat(hl_test_path(rd, "report/tables.tex"), &sb) != 0, "tables.tex written although not asked for");
    cr_assert(stat(hl_test_path(rd, "report/tables_clean.csv"), &sb) != 0, "csv written although not asked for");
    free(suite);
}

/* A model whose output has no gradient path to its input (the binarize test plugin) is attacked without a crash: the
 * PGD steps cannot move it, its adversarial scores equal the clean ones, and the result says why (zero_grad_fraction
 * 1 and a note), through the real CLI. */
Test(runner, victim_without_input_gradient_is_attacked_and_flagged) {
    char text[2048];
    snprintf(text, sizeof text,
             "name: nograd\n"
             "dataset: synthetic\n"
             "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
             "protocol: cifar10:30/60\n"
             "threads: 1\n"
             "plugins: ['%s']\n"
             "hashers:\n"
             "  - method: binarize\n"
             "    bits: [8]\n"
             "  - method: itq\n"
             "    bits: [8]\n"
             "attacks:\n"
             "  - method: pgd\n"
             "    eps: 8/255\n"
             "    steps: 5\n"
             "    step_size: 2/255\n"
             "    random_start: false\n",
             HL_BINARIZE_PLUGIN);
    char *suite = write_suite(text);
    const char *rd = tmp_dir("nograd");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --output %s --quiet >/dev/null 2>&1", HL_BUILD_DIR, suite, rd);
    cr_assert_eq(system(cmd), 0, "hashlab run failed (crashed?): %s", cmd);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    cr_assert_eq(n, 4);
    const hl_cell *ac = cell_by_label(cells, n, "binarize/8b/seed0/pgd:linf:8/255");
    hl_config *t = result_of(rd, ac->key);
    cr_assert_str_eq(hl_config_get(t, "status")->text, "done");
    double zg = -1, adv = -1, clean = -2;
    cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), "zero_grad_fraction", &zg), HL_OK);
    cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), "mAP@1000", &adv), HL_OK);
    cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), "mAP@1000(clean)", &clean), HL_OK);
    cr_assert(zg == 1.0, "zero_grad_fraction %g", zg);
    cr_assert(adv == clean, "nothing moved: mAP %g vs clean %g", adv, clean);
    const hl_config *note = hl_config_get(t, "note");
    cr_assert(note && strstr(note->text, "input gradient was zero in 100%") && strstr(note->text, "not show robustness"),
              "note: %s", note ? note->text : "(none)");
    /* the sanity flags: zero gradients, no progress of the objective, and even the whole pixel box does not reach the
     * floor (the ε = 1 probe); a linear model raises none */
    char *flags = NULL;
    cr_assert_eq(hl_config_canonical_json(hl_config_path(t, "sanity.flags"), &flags), HL_OK);
    cr_assert_str_eq(flags, "[\"zero_gradients\",\"loss_not_improving\",\"unbounded_not_at_floor\"]");
    free(flags);
    hl_config_free(t);
    t = result_of(rd, cell_by_label(cells, n, "itq/8b/seed0/pgd:linf:8/255")->key);
    cr_assert_eq(hl_config_canonical_json(hl_config_path(t, "sanity.flags"), &flags), HL_OK);
    cr_assert_str_eq(flags, "[]", "itq: %s", flags);
    free(flags);
    hl_config_free(t);
    /* hashlab status shows them */
    snprintf(cmd, sizeof cmd, "%s/hashlab status %s 2>&1", HL_BUILD_DIR, rd);
    FILE *ps = popen(cmd, "r");
    char out[8192];
    size_t got = fread(out, 1, sizeof out - 1, ps);
    out[got] = 0;
    cr_assert_eq(pclose(ps), 0);
    cr_assert(strstr(out, "FLAGS: zero_gradients, loss_not_improving, unbounded_not_at_floor") && strstr(out, "1 with sanity flags"), "%s",
              out);
    free(cells);
    free(suite);
}
