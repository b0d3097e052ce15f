/* tests/reports/test_report.c — hl_report_build on a hand-made run directory.
 *
 * The fake run: methods itq and lsh × 16/32 bits × seeds 0, 1 (train cells, done), a failed train cell (lsh, 32
 * bits, seed 2), and the attack "noise" (linf) at ε = 4/255 and 8/255 on the 32-bit models of both seeds. The
 * result.json texts are written by make_run() below with fixed metric values. Train cells carry "pr_radius" (r =
 * 0..bits) except lsh at 16 bits (as an older run would; seed 1 of itq has a null at r = 0); attack cells carry
 * "seconds_per_query" except lsh at ε = 8/255, and an adv_examples.png (a tiny PNG whose width tells the cell
 * apart) except lsh seed 0 at ε = 8/255, so its grid comes from seed 1. make_run(.., true) writes none of these
 * additions (an older run).
 *
 * Golden file: tests/data/report/tables.md is the exact tables.md of that run (checked by hand: means, stds, bold,
 * the failure note, captions). After an intended change to the report or the table writers, regenerate it with
 *     HL_UPDATE_GOLDEN=1 build/tests/test_reports --filter report/full_run_matches_golden
 * and review the diff before committing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "core/io/image.h"
#include "reports/plan.h"
#include "reports/report.h"
#include "test_common.h"

static void mkdir_p(const char *p) {
    cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p, strerror(errno));
}

static const char *CONV = "{\"radius\":2,\"ties\":\"index\",\"topk\":\"1000\",\"zero_relevant\":\"count\"}";

/* The cell key of a fixture cell: the SHA-256 of its name (a real run's keys are 64-hex too, reports/result.h). */
static const char *key_of(const char *name) {
    static char keys[4][65];
    static int next;
    char *k = keys[next++ % 4];
    hl_sha256_hex(name, strlen(name), k);
    return k;
}

/* result.json of cell `name` exactly as given (malformed files). */
static void write_cell_raw(const char *run, const char *name, const char *json) {
    char dir[2400];
    snprintf(dir, sizeof dir, "%s/cells/%s", run, key_of(name));
    mkdir_p(dir);
    hl_test_write_file(hl_test_path(dir, "result.json"), json, strlen(json));
}

/* result.json of cell `name`: json (an object) with the fields every stored result has put first: "key", "label"
 * and, for attack cells, "train_key". */
static void write_cell(const char *run, const char *name, const char *json) {
    char *js = malloc(strlen(json) + 512);
    cr_assert(js && json[0] == '{');
    int n = sprintf(js, "{\"key\":\"%s\",\"label\":\"%s\",", key_of(name), name);
    if (strstr(json, "\"kind\":\"attack\"")) n += sprintf(js + n, "\"train_key\":\"%s\",", key_of("train-of-attack"));
    strcpy(js + n, json + 1);
    write_cell_raw(run, name, js);
    free(js);
}

/* "pr_radius":{...}, for r = 0..bits: precision 0.9 − 0.4·r/bits − 0.1·m, recall (r/bits)^0.5 (null at r = 0 when
 * hole). */
static void pr_json(char *buf, size_t n, int bits, int m, bool hole) {
    size_t j = (size_t)snprintf(buf, n, "\"pr_radius\":{\"precision\":[");
    for (int r = 0; r <= bits; r++) {
        if (hole && r == 0) j += (size_t)snprintf(buf + j, n - j, "null,");
        else j += (size_t)snprintf(buf + j, n - j, "%.17g%s", 0.9 - 0.4 * r / bits - 0.1 * m, r < bits ? "," : "");
    }
    j += (size_t)snprintf(buf + j, n - j, "],\"recall\":[");
    for (int r = 0; r <= bits; r++) j += (size_t)snprintf(buf + j, n - j, "%.17g%s", sqrt((double)r / bits), r < bits ? "," : "");
    snprintf(buf + j, n - j, "]},");
}

static void train_cell(const char *run, const char *method, int bits, int seed, double map, double p2, bool pr) {
    char key[64], js[8192], prj[4096] = "";
    snprintf(key, sizeof key, "%s%02d%d", method, bits, seed);
    if (pr) pr_json(prj, sizeof prj, bits, method[0] == 'l', !strcmp(method, "itq") && seed == 1);
    snprintf(js, sizeof js,
             "{\"bits\":%d,\"conventions\":%s,\"database\":640,\"dataset\":\"synthetic\",\"kind\":\"train\","
             "\"method\":\"%s\",\"metrics\":{\"P@H<=2\":%.17g,\"R@H<=2\":0.1,\"mAP@1000\":%.17g,"
             "\"mean_tie_bucket\":3.5},%s\"protocol\":\"cifar10\",\"queries\":100,\"seed\":%d,\"status\":\"done\","
             "\"timings\":{\"fit_s\":0.5}}",
             bits, CONV, method, p2, map, prj, seed);
    write_cell(run, key, js);
    if (pr) { /* per-query APs (newer runs): the 50 attacked queries score map + 0.03, the other 50 map − 0.03 */
        char dir[2400], csv[8192];
        size_t n = (size_t)snprintf(csv, sizeof csv, "query,index,ap,labels\n");
        for (int q = 0; q < 100; q++)
            n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%d,%.17g,%d\n", q, 1000 + q, map + (q < 50 ? 0.03 : -0.03),
                                  q % 4);
        snprintf(dir, sizeof dir, "%s/cells/%s", run, key_of(key));
        hl_test_write_file(hl_test_path(dir, "per_query.csv"), csv, n);
    }
}

/* spq <= 0: no seconds_per_query; png_w > 0: an adv_examples.png of png_w × 3 pixels. */
static void attack_cell(const char *run, const char *method, int seed, int eps, double clean, double adv, double psnr,
                        double spq, int png_w) {
    char key[64], js[2048], spqj[64] = "";
    snprintf(key, sizeof key, "atk-%s-%d-%d", method, seed, eps);
    if (spq > 0) snprintf(spqj, sizeof spqj, ",\"seconds_per_query\":%.17g", spq);
    snprintf(js, sizeof js,
             "{\"attack\":\"noise\",\"attack_config\":{\"eps\":\"%d/255\",\"norm\":\"linf\"},\"bits\":32,"
             "\"conventions\":%s,\"dataset\":\"synthetic\",\"eps\":\"%d/255\",\"kind\":\"attack\","
             "\"method\":\"%s\",\"metrics\":{\"linf_255\":%d,\"mAP@1000\":%.17g,\"mAP@1000(clean)\":%.17g,\"psnr\":%.17g,"
             "\"pert_rmse\":0.01,\"ssim\":0.9%s},\"norm\":\"linf\",\"protocol\":\"cifar10\",\"queries\":50,"
             "\"seed\":%d,\"status\":\"done\"}",
             eps, CONV, eps, method, eps, adv, clean, psnr, spqj, seed);
    write_cell(run, key, js);
    char cdir[2400], csv[8192];
    size_t n = (size_t)snprintf(csv, sizeof csv, "query,index,ap_clean,ap_adv,labels\n");
    for (int q = 0; q < 50; q++)
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%d,%.17g,%.17g,%d\n", q, 1000 + q, clean, adv, q % 4);
    snprintf(cdir, sizeof cdir, "%s/cells/%s", run, key_of(key));
    hl_test_write_file(hl_test_path(cdir, "per_query.csv"), csv, n);
    if (png_w > 0) {
        uint8_t px[3 * 16 * 3];
        for (int i = 0; i < 3 * png_w * 3; i++) px[i] = (uint8_t)(i * 37 + seed);
        char dir[2400];
        snprintf(dir, sizeof dir, "%s/cells/%s", run, key_of(key));
        cr_assert_eq(hl_image_write_png(hl_test_path(dir, "adv_examples.png"), px, png_w, 3, 3), HL_OK, "%s",
                     hl_error_last());
    }
}

/* A fresh run directory (under the test tmpdir) with the fake run described above. */
static const char *make_run(const char *name, bool old) {
    static char run[1200];
    snprintf(run, sizeof run, "%s", hl_test_path(hl_test_tmpdir(), name));
    mkdir_p(run);
    mkdir_p(hl_test_path(run, "cells"));
    const char *methods[2] = {"itq", "lsh"};
    for (int m = 0; m < 2; m++)
        for (int b = 0; b < 2; b++)
            for (int s = 0; s < 2; s++) {
                double map = 0.30 + 0.20 * m + 0.10 * b + 0.01 * s, p2 = 0.40 + 0.05 * m - 0.10 * b + 0.02 * s;
                train_cell(run, methods[m], 16 << b, s, map, p2, !old && !(m == 1 && b == 0));
            }
    write_cell(run, "lsh322-failed",
               "{\"bits\":32,\"conventions\":{\"radius\":2,\"ties\":\"index\",\"topk\":\"1000\",\"zero_relevant\":\"count\"},"
               "\"error\":\"diverged: NaN loss at epoch 3\",\"kind\":\"train\",\"method\":\"lsh\",\"seed\":2,"
               "\"status\":\"failed\"}");
    for (int m = 0; m < 2; m++)
        for (int s = 0; s < 2; s++)
            for (int e = 4; e <= 8; e += 4) {
                /* the attacked queries' clean score: the 32-bit train cell's per-query APs over them (map + 0.03) */
                double clean = 0.43 + 0.20 * m + 0.01 * s, adv = clean - 0.02 * e * (2 - m) - 0.005 * s;
                bool lsh8 = m == 1 && e == 8;
                double spq = old || lsh8 ? 0 : m == 0 ? 0.0123 + 0.001 * s : 0.25 + 0.05 * s;
                int png_w = old || (lsh8 && s == 0) ? 0 : 2 + 4 * m + 2 * s + (e == 8);
                attack_cell(run, methods[m], s, e, clean, adv, 40.0 - e - 0.1 * s, spq, png_w);
            }
    /* files that are not cells are ignored */
    hl_test_write_file(hl_test_path(run, "cells/README"), "x", 1);
    mkdir_p(hl_test_path(run, "cells/empty-cell"));
    return run;
}

static void check_golden(const char *got_path, const char *golden_name) {
    size_t n;
    unsigned char *got = hl_test_read_file(got_path, &n);
    char golden[1200];
    snprintf(golden, sizeof golden, "%s/report/%s", HL_TEST_DATA_DIR, golden_name);
    if (getenv("HL_UPDATE_GOLDEN")) {
        hl_test_write_file(golden, got, n);
    } else {
        size_t gn;
        unsigned char *want = hl_test_read_file(golden, &gn);
        size_t i = 0;
        while (i < n && i < gn && got[i] == want[i]) i++;
        cr_assert(i == n && n == gn, "%s differs from %s at byte %zu:\n%s", got_path, golden, i, (char *)got);
        free(want);
    }
    free(got);
}

static void check_png(const char *p) {
    size_t n;
    unsigned char *b = hl_test_read_file(p, &n);
    cr_assert(n > 1024, "%s: only %zu bytes", p, n);
    cr_assert(memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0, "%s: not a PNG", p);
    free(b);
}

static void check_pdf(const char *p) {
    size_t n;
    unsigned char *b = hl_test_read_file(p, &n);
    cr_assert(n > 1024, "%s: only %zu bytes", p, n);
    cr_assert(memcmp(b, "%PDF-", 5) == 0, "%s: not a PDF", p);
    free(b);
}

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* The four example grids are exact copies of the lowest-seed cell's adv_examples.png, and valid PNGs. */
static void check_examples(const char *run, const char *rep) {
    static const struct { const char *name, *cell; int w; } want[] = {
        {"itq_32b_noise_linf_4-255.png", "atk-itq-0-4", 2}, {"itq_32b_noise_linf_8-255.png", "atk-itq-0-8", 3},
        {"lsh_32b_noise_linf_4-255.png", "atk-lsh-0-4", 6}, {"lsh_32b_noise_linf_8-255.png", "atk-lsh-1-8", 9}};
    char ex[1400], cell[1400];
    snprintf(ex, sizeof ex, "%s/examples", rep);
    for (size_t i = 0; i < HL_ARRAY_LEN(want); i++) {
        snprintf(cell, sizeof cell, "%s/cells/%s", run, key_of(want[i].cell));
        size_t n, m;
        unsigned char *got = hl_test_read_file(hl_test_path(ex, want[i].name), &n);
        unsigned char *src = hl_test_read_file(hl_test_path(cell, "adv_examples.png"), &m);
        cr_assert(n == m && memcmp(got, src, n) == 0, "%s is not a copy of %s", want[i].name, want[i].cell);
        free(got);
        free(src);
        hl_image im = {0};
        cr_assert_eq(hl_image_load(&im, hl_test_path(ex, want[i].name), 3), HL_OK, "%s", hl_error_last());
        cr_assert(im.w == want[i].w && im.h == 3, "%s: %dx%d", want[i].name, im.w, im.h);
        hl_image_free(&im);
    }
}

Test(report, full_run_matches_golden) {
    const char *run = make_run("run", false);
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s.cells_done, 16);
    cr_assert_eq(s.cells_failed, 1);
    cr_assert_eq(s.tables, 9, "md, tex, json, index.html + 4 csv + results.csv, got %d", s.tables); /* clean, attack-32b, summary,
                                                                                        * percept-32b */
    cr_assert_eq(s.figures, 8, "map_vs_bits, map_vs_eps, pr_16b, pr_32b × png/pdf, got %d", s.figures);
    char rep[1300];
    snprintf(rep, sizeof rep, "%s/report", run);
    check_golden(hl_test_path(rep, "tables.md"), "tables.md");
    const char *files[] = {"tables.tex", "tables.json", "tables_clean.csv", "tables_attack_32b.csv",
                           "tables_summary.csv", "tables_percept_32b.csv"};
    for (size_t i = 0; i < HL_ARRAY_LEN(files); i++)
        cr_assert(exists(hl_test_path(rep, files[i])), "missing %s", files[i]);
    check_png(hl_test_path(rep, "map_vs_bits.png"));
    check_pdf(hl_test_path(rep, "map_vs_bits.pdf"));
    check_png(hl_test_path(rep, "map_vs_eps.png"));
    check_pdf(hl_test_path(rep, "map_vs_eps.pdf"));
    check_png(hl_test_path(rep, "pr_16b.png")); /* itq only: lsh's 16-bit cells have no pr_radius */
    check_pdf(hl_test_path(rep, "pr_16b.pdf"));
    check_png(hl_test_path(rep, "pr_32b.png"));
    check_pdf(hl_test_path(rep, "pr_32b.pdf"));
    check_examples(run, rep);
    /* tables.json is one array holding both tables */
    size_t n;
    char *js = (char *)hl_test_read_file(hl_test_path(rep, "tables.json"), &n);
    cr_assert(js[0] == '[' && strstr(js, "\"title\": \"Clean retrieval\"") && strstr(js, "\"title\": \"Attacks, 32 bits\""),
              "%s", js);
    free(js);
    /* LaTeX: both tables, the note, the caption conventions */
    char *tex = (char *)hl_test_read_file(hl_test_path(rep, "tables.tex"), &n);
    cr_assert(strstr(tex, "tab:clean") && strstr(tex, "tab:attack-32b") && strstr(tex, "diverged: NaN loss"), "%s", tex);
    free(tex);
    /* rebuilding gives the same bytes */
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_OK, "%s", hl_error_last());
    check_golden(hl_test_path(rep, "tables.md"), "tables.md");
}

Test(report, format_subset) {
    const char *run = make_run("subset", false);
    const char *fmts[] = {"csv", "latex"};
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, fmts, 2, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s.tables, 6); /* tex + clean, attack, summary and perceptibility csv + results.csv */
    char rep[1300];
    snprintf(rep, sizeof rep, "%s/report", run);
    cr_assert(exists(hl_test_path(rep, "tables.tex")) && exists(hl_test_path(rep, "tables_clean.csv")));
    cr_assert(!exists(hl_test_path(rep, "tables.md")) && !exists(hl_test_path(rep, "tables.json")));
    const char *bad[] = {"xlsx"};
    cr_assert_eq(hl_report_build(run, bad, 1, &s), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "xlsx"), "%s", hl_error_last());
    /* html: the one-page report, index.html, with every table and figure */
    const char *html[] = {"html"};
    cr_assert_eq(hl_report_build(run, html, 1, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s.tables, 1);
    size_t n;
    char *page = (char *)hl_test_read_file(hl_test_path(rep, "index.html"), &n);
    cr_assert(strstr(page, "<!DOCTYPE html>") && strstr(page, "Robustness summary") && strstr(page, "Attacks, 32 bits") &&
                  strstr(page, "src=\"map_vs_eps.png\"") && strstr(page, "src=\"examples/"),
              "%.3000s", page);
    free(page);
}

Test(report, malformed_result_names_file_and_position) {
    const char *run = make_run("bad", false);
    write_cell_raw(run, "zz-bad", "{\"kind\": \"train\",\n  \"status\": \"done\",, \"bits\": 32}");
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_EFORMAT);
    char want[1300];
    snprintf(want, sizeof want, "%s/cells/%s/result.json:2:20: ", run, key_of("zz-bad"));
    cr_assert(strstr(hl_error_last(), want), "got '%s', want '%s'", hl_error_last(), want);
    cr_assert(strstr(hl_error_last(), "1 invalid result.json file,") && strstr(hl_error_last(), "hashlab run"), "%s",
              hl_error_last());
    cr_assert(!exists(hl_test_path(run, "report")), "no report from a run with an invalid result");
    /* well-formed JSON with a bad field: also file:line:col */
    write_cell_raw(run, "zz-bad", "{\"kind\": \"training\", \"status\": \"done\", \"method\": \"x\", \"bits\": 8, \"seed\": 0}");
    cr_assert(hl_report_build(run, NULL, 0, &s) < 0);
    snprintf(want, sizeof want, "%s/cells/%s/result.json:1:10: ", run, key_of("zz-bad"));
    cr_assert(strstr(hl_error_last(), want), "got '%s', want '%s'", hl_error_last(), want);
    cr_assert(strstr(hl_error_last(), "training"), "%s", hl_error_last());
    write_cell(run, "zz-bad", "{\"kind\": \"train\", \"status\": \"done\", \"method\": \"x\", \"seed\": 0}");
    cr_assert(hl_report_build(run, NULL, 0, &s) < 0);
    snprintf(want, sizeof want, "%s/result.json:1:1: 'bits' is missing", key_of("zz-bad"));
    cr_assert(strstr(hl_error_last(), want), "%s", hl_error_last());
}

Test(report, empty_or_missing_cells) {
    const char *run = hl_test_path(hl_test_tmpdir(), "empty");
    mkdir_p(run);
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "cells") && strstr(hl_error_last(), "run directory"), "%s", hl_error_last());
    mkdir_p(hl_test_path(run, "cells"));
    mkdir_p(hl_test_path(run, "cells/abc"));
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "no cell has a result.json"), "%s", hl_error_last());
    cr_assert(!exists(hl_test_path(run, "report")), "nothing is written for an empty run");
}

Test(report, older_run_without_pr_cost_or_examples) {
    const char *run = make_run("old", true);
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s.figures, 4, "no PR figures, got %d", s.figures);
    char rep[1300];
    snprintf(rep, sizeof rep, "%s/report", run);
    cr_assert(!exists(hl_test_path(rep, "pr_16b.png")) && !exists(hl_test_path(rep, "pr_32b.pdf")));
    cr_assert(!exists(hl_test_path(rep, "examples")), "no examples folder without grids");
    size_t n;
    char *md = (char *)hl_test_read_file(hl_test_path(rep, "tables.md"), &n);
    cr_assert(!strstr(md, "Adversarial examples"), "%s", md);
    /* the ms/query column is there, with missing cells; the summary's clean scores over the attacked queries are
     * unknown without per-query files, and say so */
    cr_assert(strstr(md, "| ms/query |") && strstr(md, " – |"), "%s", md);
    cr_assert(strstr(md, "clean score over the attacked queries unknown: no per\\_query.csv"), "%s", md);
    free(md);
}

Test(report, malformed_pr_radius_names_file_and_position) {
    const char *run = make_run("badpr", false);
    write_cell(run, "zz-pr",
               "{\"bits\":16,\"kind\":\"train\",\"method\":\"itq\",\"metrics\":{\"mAP@1000\":0.5},\"pr_radius\":{\"precision\":[1,0.5],"
               "\"recall\":[0,0.5,1]},\"seed\":7,\"status\":\"done\"}");
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_EFORMAT);
    char where[100];
    snprintf(where, sizeof where, "%s/result.json:1:", key_of("zz-pr"));
    cr_assert(strstr(hl_error_last(), where) && strstr(hl_error_last(), "same non-zero length"), "%s",
              hl_error_last());
    write_cell(run, "zz-pr",
               "{\"bits\":16,\"kind\":\"train\",\"method\":\"itq\",\"metrics\":{\"mAP@1000\":0.5},\"pr_radius\":{\"precision\":[1,\"x\"],"
               "\"recall\":[0,1]},\"seed\":7,\"status\":\"done\"}");
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), where) && strstr(hl_error_last(), "number or null"), "%s", hl_error_last());
}

/* A metric stored as null (undefined) is not averaged silently: the table's note says which seed had none. */
Test(report, null_metric_is_noted) {
    const char *run = make_run("nullmetric", false);
    attack_cell(run, "itq", 1, 4, 0.41, 0.33, NAN, 0.0133, 0); /* psnr "nan" in the text: made a JSON null below */
    char p[2400];
    snprintf(p, sizeof p, "%s/cells/%s/result.json", run, key_of("atk-itq-1-4"));
    size_t n;
    char *js = (char *)hl_test_read_file(p, &n), *at = strstr(js, "\"psnr\":nan");
    cr_assert_not_null(at, "%s", js);
    char *fixed = malloc(n + 2);
    cr_assert_not_null(fixed);
    snprintf(fixed, n + 2, "%.*snull%s", (int)(at + 7 - js), js, at + 10); /* "nan" -> null */
    hl_test_write_file(p, fixed, strlen(fixed));
    free(fixed);
    free(js);
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_OK, "%s", hl_error_last());
    char rep[1300];
    snprintf(rep, sizeof rep, "%s/report/tables.md", run);
    char *md = (char *)hl_test_read_file(rep, &n);
    cr_assert(strstr(md, "seed 1 undefined: psnr"), "%s", md);
    free(md);
}

/* With a plan.json (written by `hashlab run`), a result whose key is not in it (other code or settings) is left out:
 * not averaged in as another seed, counted, and said at the end of tables.md. Without a plan every result is used. */
Test(report, stale_results_outside_the_plan_are_left_out) {
    const char *run = make_run("stale", false);
    const char *methods[2] = {"itq", "lsh"};
    char names[32][64];
    int n = 0;
    for (int m = 0; m < 2; m++)
        for (int b = 0; b < 2; b++)
            for (int sd = 0; sd < 2; sd++)
                if (!(m == 0 && b == 1 && sd == 1)) /* itq 32 bits seed 1: stale */
                    snprintf(names[n++], sizeof names[0], "%s%02d%d", methods[m], 16 << b, sd);
    snprintf(names[n++], sizeof names[0], "lsh322-failed");
    for (int m = 0; m < 2; m++)
        for (int sd = 0; sd < 2; sd++)
            for (int e = 4; e <= 8; e += 4) snprintf(names[n++], sizeof names[0], "atk-%s-%d-%d", methods[m], sd, e);
    char keys[32][65];
    const char *kp[32], *kinds[32];
    for (int i = 0; i < n; i++) {
        hl_sha256_hex(names[i], strlen(names[i]), keys[i]);
        kp[i] = keys[i], kinds[i] = strncmp(names[i], "atk-", 4) ? "train" : "attack";
    }
    cr_assert_eq(hl_plan_write(run, n, kp, kinds), HL_OK, "%s", hl_error_last());
    hl_report_summary s;
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s.cells_done, 15);
    cr_assert_eq(s.cells_stale, 1);
    cr_assert(!s.no_plan);
    char rep[1300];
    snprintf(rep, sizeof rep, "%s/report", run);
    size_t len;
    char *csv = (char *)hl_test_read_file(hl_test_path(rep, "tables_clean.csv"), &len);
    /* itq at 32 bits: seed 0 alone, mAP 0.40 (make_run: 0.30 + 0.10·b + 0.01·seed), n = 1 */
    cr_assert(strstr(csv, "\nitq,") && strstr(strstr(csv, "\nitq,"), ",40,,1,"), "%s", csv);
    free(csv);
    char *md = (char *)hl_test_read_file(hl_test_path(rep, "tables.md"), &len);
    cr_assert(strstr(md, "## Left out\n\n1 result in cells/ is not a cell of the suite as last run"), "%s", md);
    free(md);
    /* a malformed plan is refused with its position, no report */
    const char *bad = "{\"format\": \"hashlab-plan-1\", \"cells\": [{\"key\": \"xyz\"}]}";
    hl_test_write_file(hl_test_path(run, "plan.json"), bad, strlen(bad));
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "plan.json:1:") && strstr(hl_error_last(), "xyz"), "%s", hl_error_last());
    /* no plan: every result (the stale one too), flagged */
    cr_assert_eq(remove(hl_test_path(run, "plan.json")), 0);
    cr_assert_eq(hl_report_build(run, NULL, 0, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s.cells_done, 16);
    cr_assert(s.no_plan && s.cells_stale == 0);
}
