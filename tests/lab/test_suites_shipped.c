/* tests/lab/test_suites_shipped.c — every suite in suites/ validates against the registered classes and expands into
 * its planned cells (a dry run: nothing trains). Suites whose dataset is not on this machine are still loaded and
 * schema-checked, and the test says which it could not plan. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/dataset.h"
#include "lab/runner.h"
#include "lab/suite.h"
#include "test_common.h"
#include "test_run.h"

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
    hl_run_summary sum;
    cr_assert_eq(run(path, tmp_dir("plan"), NULL, true, &sum), HL_OK, "%s: %s", path, hl_error_last());
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
        if (!strcmp(e->d_name, "fashion_semi.yaml") && cells >= 0) /* train cells only: 22 entries × 3 seeds at 32 bits,
                                                                     * 3 unsupervised × 3 bit lengths × 3 seeds,
                                                                     * hashgan-40ep at 64 bits × 3 seeds */
            cr_assert_eq(cells, 22 * 3 + 3 * 3 * 3 + 3);
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
    hl_run_summary sum;
    const char *rd = tmp_dir("cifar_run");
    cr_assert_eq(run(path, rd, NULL, false, &sum), HL_ENOTFOUND, "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), "dataset 'cifar10' not found") &&
              strstr(hl_error_last(), "hashlab data fetch cifar10"), "%s", hl_error_last());
    cr_assert_neq(access(rd, F_OK), 0, "no run directory is created");
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

/* The main job's suite (`make run`: quick.yaml, 500 of its 1,000 queries attacked) compares like with like: its
 * summary's clean column is each model's clean score over the attacked queries — the attack cells' "(clean)" — and
 * not its score over all queries; and its index.html loads in a real browser (headless chromium, when installed)
 * with every table and figure. Runs where Fashion-MNIST is installed (about 10 s on 2 cores). */
Test(suites, quick_compares_like_with_like_and_its_page_loads) {
    char path[1024];
    snprintf(path, sizeof path, "%s/quick.yaml", SUITES_DIR);
    hl_suite *s = NULL;
    cr_assert_eq(hl_suite_load(&s, path), HL_OK, "%s", hl_error_last());
    if (plan(path, s->dataset) < 0) {
        hl_suite_free(s);
        fprintf(stderr, "SKIPPED: suites::quick_compares_like_with_like: Fashion-MNIST is not installed\n");
        cr_skip_test("Fashion-MNIST is not installed");
    }
    hl_suite_free(s);
    hl_run_summary sum;
    const char *rd = tmp_dir("quick_run");
    cr_assert_eq(run(path, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.failed, 0);
    /* the summary's clean column against the attack cells' clean scores (results.csv holds both) */
    char p[1300], line[1024];
    snprintf(p, sizeof p, "%s/report/results.csv", rd);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    double att[2][3][4] = {{{0}}}; /* [lsh|itq][bits 16,32,64][seed 0..2, count] summed clean over the noise cells */
    int cnt[2][3] = {{0}};
    while (fgets(line, sizeof line, f)) {
        char method[32], name[32], attack[32], metric[64];
        int bits, seed;
        double v;
        if (sscanf(line, "quick,%31[^,],%31[^,],%d,%d,%31[^,],%*[^,],%*[^,],%*[^,],%*[^,],%63[^,],%lf", method, name,
                   &bits, &seed, attack, metric, &v) != 7 ||
            strcmp(metric, "mAP@1000(clean)"))
            continue;
        int m = !strcmp(name, "itq"), b = bits == 16 ? 0 : bits == 32 ? 1 : 2;
        att[m][b][seed] = v;
        cnt[m][b]++;
    }
    fclose(f);
    snprintf(p, sizeof p, "%s/report/tables_summary.csv", rd);
    f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    char head[4096];
    cr_assert_not_null(fgets(head, sizeof head, f));
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        int m = !strncmp(line, "itq,", 4) ? 1 : !strncmp(line, "lsh,", 4) ? 0 : -1;
        if (m < 0) continue;
        for (int b = 0; b < 3; b++) {
            char col[64];
            snprintf(col, sizeof col, "%d bits / clean (%%) mean", 16 << b);
            int k = 0, at = -1;
            for (const char *c = head; c; c = strchr(c, ','), c = c ? c + 1 : NULL, k++)
                if (!strncmp(c, col, strlen(col))) at = k;
            cr_assert(at >= 0, "no '%s' in %s", col, head);
            const char *c = line;
            for (int j = 0; j < at && c; j++) c = strchr(c, ','), c = c ? c + 1 : NULL;
            cr_assert_not_null(c);
            double shown = strtod(c, NULL), want = 0;
            cr_assert_eq(cnt[m][b], 3 * 3, "3 noise settings x 3 seeds");
            for (int sd = 0; sd < 3; sd++) want += att[m][b][sd];
            want = 100 * want / 3; /* each seed's attack cells share one clean score; the mean over seeds */
            cr_assert(fabs(shown - want) < 1e-6, "%s %d bits: summary clean %.8f, attacked queries' %.8f",
                      m ? "itq" : "lsh", 16 << b, shown, want);
            checked++;
        }
    }
    fclose(f);
    cr_assert_eq(checked, 6);
    /* the page, in a real browser */
    if (system("command -v chromium >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIPPED: suites::quick page check in chromium: chromium is not installed\n");
        return;
    }
    char cmd[4096], dom[1300];
    snprintf(dom, sizeof dom, "%s/dom.html", rd);
    snprintf(cmd, sizeof cmd,
             "timeout 90 chromium --headless --no-sandbox --disable-gpu --user-data-dir=%s/chrome "
             "--dump-dom file://%s/report/index.html > %s 2>/dev/null",
             rd, rd, dom);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    size_t len = 0;
    char *d = (char *)hl_test_read_file(dom, &len);
    int tables = 0, imgs = 0;
    for (const char *q = d; (q = strstr(q, "<table")); q++) tables++;
    for (const char *q = d; (q = strstr(q, "<img")); q++) imgs++;
    cr_assert(tables >= 6 && imgs >= 8 && strstr(d, "Robustness summary") && strstr(d, "Clean retrieval"),
              "tables %d, images %d", tables, imgs);
    free(d);
}
