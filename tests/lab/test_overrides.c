/* tests/lab/test_overrides.c — command-line overrides (lab/overrides.h): PATH=VALUE and --set-file change the
 * resolved suite and its cells exactly as the same values in the file would (same keys), every problem is reported at
 * the override that causes it, comma sweeps expand entries, the run records its overrides and `hashlab status` finds
 * the same grid; and one validation pass reports the suite's keys and the methods' parameters together. Tiny
 * synthetic suites, mostly --dry-run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/overrides.h"
#include "test_run.h"

static const char *const BASE = "name: ov\n"
                                "dataset: synthetic\n"
                                "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
                                "protocol: cifar10-1:30/60\n"
                                "threads: 1\n"
                                "hashers:\n"
                                "  - method: lsh\n"
                                "    bits: [8]\n"
                                "  - method: itq\n"
                                "    bits: [8]\n"
                                "    params: {iters: 5}\n"
                                "attacks:\n"
                                "  - method: noise\n"
                                "    eps: 8/255\n";

static char *write_file(const char *name, const char *text) {
    const char *dir = tmp_dir("ovfiles");
    mkdir(dir, 0755);
    char *p = hl_test_path_alloc(dir, name);
    hl_test_write_file(p, text, strlen(text));
    return p;
}

/* The suite file with overrides (items, NULL-terminated) and fragments (files, NULL-terminated), no method check. */
static hl_status load_with(const char *path, const char *const *items, const char *const *files, hl_suite **s) {
    hl_overrides ov = {0};
    while (items && items[ov.nitems]) ov.nitems++;
    while (files && files[ov.nset_files]) ov.nset_files++;
    ov.items = items, ov.set_files = files;
    return hl_overrides_load_suite(s, path, &ov, NULL);
}

/* hl_run_suite in process (quiet, plan to /dev/null) with overrides. */
static hl_status run_with(const char *suite, const char *outdir, bool dry, const char *const *items,
                          hl_run_summary *sum) {
    hl_run_opts o;
    hl_overrides ov = {0};
    while (items && items[ov.nitems]) ov.nitems++;
    ov.items = items;
    hl_run_opts_default(&o);
    o.suite_path = suite;
    o.output = outdir;
    o.progress = HL_PROGRESS_QUIET;
    o.dry_run = dry;
    o.overrides = &ov;
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    o.out = devnull;
    return hl_run_suite(&o, sum);
}

static void expand_ok(hl_suite *s, hl_cell **cells, int64_t *n) {
    cr_assert_eq(hl_suite_expand(s, "split-hash", cells, n), HL_OK, "%s", hl_error_last());
}

Test(overrides, values_change_the_resolved_suite_and_the_cells) {
    char *path = write_file("s.yaml", BASE);
    static const char *const items[] = {"hashers.itq.params.iters=7", "seeds=[0,1]", "attacks[0].eps=16/255",
                                        "+metrics.topk=all", "hashers.lsh.bits=[8, 16]", NULL};
    hl_suite *s = NULL;
    cr_assert_eq(load_with(path, items, NULL, &s), HL_OK, "%s", hl_error_last());
    int64_t iters = 0;
    const char *topk = NULL;
    cr_assert_eq(hl_config_get_int(s->hashers[1].node, "params.iters", &iters), HL_OK);
    cr_assert_eq(iters, 7);
    cr_assert_eq(s->nseeds, 2);
    cr_assert_eq(hl_config_get_string(s->resolved, "metrics.topk", &topk), HL_OK);
    cr_assert_str_eq(topk, "all", "a key the file does not have is added");
    cr_assert_str_eq(hl_config_get(s->attacks[0].node, "eps")->text, "16/255");
    hl_cell *c = NULL;
    int64_t n = 0;
    expand_ok(s, &c, &n);
    cr_assert_eq(n, 12, "(2 lsh bits + 1 itq) x 2 seeds train cells, as many attack cells");
    cell_by_label(c, n, "lsh/16b/seed1/noise:linf:16/255");
    free(c);
    hl_suite_free(s);
    /* the plan of `hashlab run --dry-run` with the overrides */
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --dry-run --output %s 'seeds=[0,1]' 'attacks[0].eps=16/255' 2>&1",
             HL_BUILD_DIR, path, tmp_dir("plan"));
    cr_assert_eq(run_capture(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "plan for ov (8 cells, 8 selected)") && strstr(out, "itq/8b/seed1/noise:linf:16/255"), "%s",
              out);
    free(path);
}

/* The same values on the command line, in a fragment or in the file: the same cells, and a run made with overrides
 * is found done by the file that says the same (and by `hashlab status`, directory or suite). */
Test(overrides, an_override_and_the_file_make_the_same_cells) {
    char *path = write_file("s.yaml", BASE);
    char text[2048];
    snprintf(text, sizeof text, "%s", BASE);
    strcpy(strstr(text, "threads: 1\n"), "threads: 1\nseeds: [0, 1]\nhashers:\n  - method: lsh\n    bits: [8, 16]\n"
                                         "  - method: itq\n    bits: [8]\n    params: {iters: 7}\nattacks:\n"
                                         "  - {method: noise, eps: 4/255}\n");
    char *same = write_file("same.yaml", text);
    char *frag = write_file("frag.yaml", "hashers:\n  - method: lsh\n    bits: [8, 16]\n  - method: itq\n"
                                         "    bits: [8]\n");
    static const char *const items[] = {"seeds=0,1", "hashers.itq.params.iters=7", "attacks.noise.eps=4/255", NULL};
    const char *const files[] = {frag, NULL};
    hl_suite *a = NULL, *b = NULL;
    cr_assert_eq(load_with(path, items, files, &a), HL_OK, "%s", hl_error_last());
    cr_assert_eq(load_with(same, NULL, NULL, &b), HL_OK, "%s", hl_error_last());
    hl_cell *ca = NULL, *cb = NULL;
    int64_t na = 0, nb = 0;
    expand_ok(a, &ca, &na);
    expand_ok(b, &cb, &nb);
    cr_assert_eq(na, nb);
    cr_assert_eq(na, 12);
    for (int64_t i = 0; i < na; i++) {
        cr_assert_str_eq(ca[i].label, cb[i].label);
        cr_assert_str_eq(ca[i].key, cb[i].key, "cell %s", ca[i].label);
    }
    free(ca), free(cb);
    hl_suite_free(a), hl_suite_free(b);

    /* a run with the overrides records them; the file with the same values finds every cell done */
    const char *rd = tmp_dir("same_run");
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --quiet --output %s --set-file %s seeds=0,1 hashers.itq.params.iters=7 "
             "attacks.noise.eps=4/255 2>&1 | tail -1", HL_BUILD_DIR, path, rd, frag);
    run_capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "ran 12 cells (0 failed)"), "%s", out);
    hl_config *res = NULL;
    cr_assert_eq(hl_store_read_json(hl_test_path(rd, "suite.resolved.json"), &res), HL_OK, "%s", hl_error_last());
    const hl_config *ol = hl_config_get(res, "overrides"), *fl = hl_config_get(res, "set_files");
    cr_assert(ol && hl_config_len(ol) == 3 && !strcmp(hl_config_at(ol, 1)->text, "hashers.itq.params.iters=7"));
    cr_assert(fl && hl_config_len(fl) == 1 && !strcmp(hl_config_at(fl, 0)->text, frag));
    hl_config_free(res);
    size_t len = 0;
    char *rec = (char *)hl_test_read_file(hl_test_path(rd, "overrides.txt"), &len);
    cr_assert(strstr(rec, "--set-file set-file-1.yaml\nseeds=0,1\nhashers.itq.params.iters=7\n"), "%s", rec);
    free(rec);
    cr_assert_eq(access(hl_test_path(rd, "set-file-1.yaml"), F_OK), 0);
    hl_suite *back = NULL;
    cr_assert_eq(hl_overrides_load_rundir(&back, rd), HL_OK, "%s", hl_error_last());
    expand_ok(back, &ca, &na);
    cr_assert_eq(na, 12, "the run directory's grid: suite.yaml with overrides.txt");
    free(ca);
    hl_suite_free(back);
    snprintf(cmd, sizeof cmd, "%s/hashlab status %s 2>&1 | tail -1", HL_BUILD_DIR, rd);
    run_capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "12 cells: 12 done"), "status RUNDIR applies overrides.txt: %s", out);
    snprintf(cmd, sizeof cmd, "%s/hashlab status %s --set-file %s seeds=0,1 hashers.itq.params.iters=7 "
             "attacks.noise.eps=4/255 'output=%s' 2>&1 | tail -1", HL_BUILD_DIR, path, frag, rd);
    run_capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "12 cells: 12 done"), "status SUITE with the same overrides: %s", out);
    snprintf(cmd, sizeof cmd, "%s/hashlab status %s seeds=0 2>&1", HL_BUILD_DIR, rd);
    cr_assert_neq(run_capture(cmd, out, sizeof out), 0, "overrides go with a suite file, not a run directory");
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --quiet --output %s 2>&1 | tail -1", HL_BUILD_DIR, same, rd);
    run_capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "ran 0 cells (0 failed), skipped 12 done"), "%s", out);
    cr_assert_neq(access(hl_test_path(rd, "overrides.txt"), F_OK), 0, "a run without overrides removes the record");
    free(path), free(same), free(frag);
}

static void assert_has(const char *m, const char *want) { cr_assert(strstr(m, want), "want '%s' in:\n%s", want, m); }

Test(overrides, problems_are_reported_at_the_override) {
    char *path = write_file("s.yaml", BASE);
    /* through the runner: the methods' parameters are checked too, and the exit status says so */
    static const char *const bad[] = {"hashers.itq.params.itres=5", "hashers.lhs.bits=8", "seeds=[0,x]", "name.x=1",
                                      "attacks[3].eps=1/255", "name=[", "protocol=cifar10_1", NULL};
    hl_run_summary sum;
    const char *rd = tmp_dir("bad");
    cr_assert_eq(run_with(path, rd, false, bad, &sum), HL_EINVAL);
    const char *m = hl_error_last();
    assert_has(m, "<override 1 'hashers.itq.params.itres=5'>:1:20: unknown key 'itres' in hasher 'itq'; did you "
                  "mean 'iters'?");
    assert_has(m, "<override 2 'hashers.lhs.bits=8'>:1:9: hashers: unknown hasher entry 'lhs' (known: lsh, itq; did "
                  "you mean 'lsh'?)");
    assert_has(m, "<override 3 'seeds=[0,x]'>:1:10: seeds[1]: expected an integer, got 'x'");
    assert_has(m, "<override 4 'name.x=1'>:1:1: name is a value ('ov'), not a map or a list");
    assert_has(m, "<override 5 'attacks[3].eps=1/255'>:1:8: attacks has 1 element: index 3 is out of range");
    assert_has(m, "<override 6 'name=['>:1:6: VALUE is not YAML");
    assert_has(m, "<override 7 'protocol=cifar10_1'>:1:10: protocol: unknown split protocol 'cifar10_1'");
    assert_has(m, "did you mean 'cifar10-1'?");
    cr_assert_neq(access(rd, F_OK), 0, "nothing is written");
    /* an entry selected by a name two entries share */
    char text[2048];
    snprintf(text, sizeof text, "%s  - method: noise\n    eps: 4/255\n", BASE);
    char *two = write_file("two.yaml", text);
    static const char *const amb[] = {"attacks.noise.bits=[8]", NULL};
    hl_suite *s = NULL;
    cr_assert_eq(load_with(two, amb, NULL, &s), HL_EINVAL);
    assert_has(hl_error_last(), "<override 1 'attacks.noise.bits=[8]'>:1:9: attacks: 'noise' names 2 entries "
                                "(attacks[0] and attacks[1]); select one by index");
    /* entries that clash (one row of every table) because of an override: reported at the override */
    static const char *const clash[] = {"attacks[1].eps=8/255", NULL};
    cr_assert_eq(load_with(two, clash, NULL, &s), HL_EINVAL);
    assert_has(hl_error_last(), "<override 1 'attacks[1].eps=8/255'>:1:16: attacks: entries 1 and 2 are both 'noise' "
                                "at linf eps 8/255");
    /* the CLI: non-zero exit, the override named */
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --dry-run hashers.lsh.params.centre=false 2>&1", HL_BUILD_DIR, path);
    cr_assert_neq(run_capture(cmd, out, sizeof out), 0);
    assert_has(out, "<override 1 'hashers.lsh.params.centre=false'>:1:20: unknown key 'centre' in hasher 'lsh'; did "
                    "you mean 'center'?");
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --dry-run seeds 2>&1", HL_BUILD_DIR, path);
    cr_assert_eq(WEXITSTATUS(run_capture(cmd, out, sizeof out)), 2, "not PATH=VALUE: bad usage");
    free(path), free(two);
}

/* --set-file: maps merge key by key, lists replace; its own problems are reported at its own file:line:col. */
Test(overrides, set_file_merges_over_the_suite) {
    char *path = write_file("s.yaml", BASE);
    char *f1 = write_file("f1.yaml", "synthetic: {n: 360}\nattacks:\n  - method: noise\n    eps: 2/255\n");
    char *f2 = write_file("f2.yaml", "synthetic:\n  noise: 0.1\nmetrics: {radius: 1}\n");
    const char *const files[] = {f1, f2, NULL};
    static const char *const items[] = {"synthetic.n=330", NULL};
    hl_suite *s = NULL;
    cr_assert_eq(load_with(path, items, files, &s), HL_OK, "%s", hl_error_last());
    int64_t n = 0, h = 0, radius = 0;
    double noise = 0;
    cr_assert_eq(hl_config_get_int(s->resolved, "synthetic.n", &n), HL_OK);
    cr_assert_eq(hl_config_get_int(s->resolved, "synthetic.h", &h), HL_OK);
    cr_assert_eq(hl_config_get_double(s->resolved, "synthetic.noise", &noise), HL_OK);
    cr_assert_eq(hl_config_get_int(s->resolved, "metrics.radius", &radius), HL_OK);
    cr_assert(n == 330 && h == 8 && noise == 0.1 && radius == 1, "n %lld h %lld noise %g radius %lld", (long long)n,
              (long long)h, noise, (long long)radius);
    cr_assert_eq(s->nattacks, 1);
    cr_assert_str_eq(hl_config_get(s->attacks[0].node, "eps")->text, "2/255", "lists replace");
    cr_assert_eq(s->nhashers, 2, "what the fragments do not name stays");
    hl_suite_free(s);
    char *bad = write_file("bad.yaml", "synthetic:\n  nn: 5\n");
    const char *const bf[] = {bad, NULL};
    cr_assert_eq(load_with(path, NULL, bf, &s), HL_EINVAL);
    assert_has(hl_error_last(), "bad.yaml:2:3: unknown key 'nn' in 'synthetic' of suite; did you mean 'n'?");
    char *list = write_file("list.yaml", "- a\n- b\n");
    const char *const lf[] = {list, NULL};
    cr_assert_eq(load_with(path, NULL, lf, &s), HL_EINVAL);
    assert_has(hl_error_last(), "list.yaml:1:1: --set-file: expected a mapping of suite keys");
    free(path), free(f1), free(f2), free(bad), free(list);
}

Test(overrides, comma_sweeps_expand_entries) {
    char *path = write_file("s.yaml", BASE);
    /* ε sweep: copies keep the name (the threat tells them apart); a swept hasher param: renamed copies; a second
     * sweep of the same entry: every combination; a list key: the list itself */
    static const char *const items[] = {"attacks.noise.eps=2/255, 4/255,8/255", "hashers.itq.params.iters=5,10",
                                        "hashers.itq.bits=8,16", "hashers.itq.attack=true,false", "seeds=0,1", NULL};
    hl_suite *s = NULL;
    cr_assert_eq(load_with(path, items, NULL, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(s->nattacks, 3);
    for (int i = 0; i < 3; i++) cr_assert_str_eq(s->attacks[i].name, "noise");
    cr_assert_eq(s->nseeds, 2);
    cr_assert_eq(s->nhashers, 5);
    static const char *const names[] = {"lsh", "itq@iters=5@attack=true", "itq@iters=5@attack=false",
                                        "itq@iters=10@attack=true", "itq@iters=10@attack=false"};
    for (int i = 0; i < 5; i++) cr_assert_str_eq(s->hashers[i].name, names[i]);
    cr_assert_eq(s->hashers[2].nbits, 2, "bits=8,16 is the list [8, 16]");
    cr_assert(!s->hashers[2].attack && s->hashers[3].attack);
    int64_t iters = 0;
    cr_assert_eq(hl_config_get_int(s->hashers[4].node, "params.iters", &iters), HL_OK);
    cr_assert_eq(iters, 10);
    hl_cell *c = NULL;
    int64_t n = 0;
    expand_ok(s, &c, &n);
    /* train: (1 + 4 x 2 bits) x 2 seeds = 18; attacks: (1 + 2 x 2) attacked models x 2 seeds x 3 eps = 30 */
    cr_assert_eq(n, 48);
    cell_by_label(c, n, "itq@iters=10@attack=true/16b/seed1/noise:linf:2/255");
    free(c);
    hl_suite_free(s);
    /* a sweep of a suite-level value has nothing to copy: an error at the override */
    static const char *const bad[] = {"split_seed=0,1", NULL};
    cr_assert_eq(load_with(path, bad, NULL, &s), HL_EINVAL);
    assert_has(hl_error_last(), "<override 1 'split_seed=0,1'>:1:12: a sweep (values separated by commas) is for a "
                                "key inside a hasher or attack entry");
    /* the plan shows the copies */
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --dry-run --output %s hashers.itq.params.iters=5,10 2>&1",
             HL_BUILD_DIR, path, tmp_dir("sweep_plan"));
    cr_assert_eq(run_capture(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "plan for ov (6 cells, 6 selected)") && strstr(out, "itq@iters=10/8b/seed0/noise:linf:8/255"),
              "%s", out);
    free(path);
}

/* One pass: a suite key's problem, a method's parameter, an unknown method and an attack option come out together,
 * each at its file:line:col, with the did-you-means (dataset, protocol, method, parameter). */
Test(overrides, one_validation_pass_reports_suite_and_method_problems) {
    char *path = write_file("bad.yaml", "name: bad\n"
                                        "dataset: fashion_mnist\n"
                                        "protocol: cifar-10\n"
                                        "hashers:\n"
                                        "  - method: itq\n"
                                        "    bits: [8]\n"
                                        "    params: {iter: 5}\n"
                                        "  - method: lhs\n"
                                        "    bits: [8]\n"
                                        "attacks:\n"
                                        "  - method: auto\n"
                                        "    steps: 5\n");
    hl_run_summary sum;
    cr_assert_eq(run_with(path, tmp_dir("onepass"), true, NULL, &sum), HL_EINVAL);
    const char *m = hl_error_last();
    assert_has(m, "bad.yaml:2:10: dataset: 'fashion_mnist' is not allowed");
    assert_has(m, "did you mean 'fashion-mnist'?");
    assert_has(m, "bad.yaml:3:11: protocol: unknown split protocol 'cifar-10'");
    assert_has(m, "did you mean 'cifar10'?");
    assert_has(m, "bad.yaml:7:14: unknown key 'iter' in hasher 'itq'; did you mean 'iters'?");
    assert_has(m, "bad.yaml:8:13: unknown hasher 'lhs'");
    assert_has(m, "did you mean 'lsh'?");
    assert_has(m, "bad.yaml:12:12: attack 'auto' is parameter-free");
    free(path);
}
