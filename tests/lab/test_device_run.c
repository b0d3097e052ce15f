/* tests/lab/test_device_run.c — a suite on the shadow device (core/shadow/shadow.h: the CPU's kernels on memory the
 * host cannot touch, so a missing transfer crashes) gives the CPU run's results bit for bit: DPSH (a deep hasher,
 * also with the CgAT defence), LSH and ITQ trained, encoded and attacked by PGD, the `auto` ensemble and noise.
 * Methods not yet ported to devices are refused with a clear error, never run on host memory they cannot read. */
#include <unistd.h>

#include "test_run.h"

static const char SUITE[] = "name: devtoy\n"
                            "dataset: synthetic\n"
                            "synthetic: {n: 700, c: 1, h: 12, w: 12, classes: 4, noise: 0.3}\n"
                            "protocol: cifar10-1:40/300\n"
                            "seeds: [0]\n"
                            "threads: 1\n"
                            "attack_queries: 24\n"
                            "device: %s\n"
                            "hashers:\n"
                            "  - method: dpsh\n"
                            "    bits: [16]\n"
                            "    params: {epochs: 2, batch: 32}\n"
                            "  - method: dpsh\n"
                            "    bits: [16]\n"
                            "    params: {epochs: 1, batch: 32}\n"
                            "    defence: {method: cgat, steps: 2}\n"
                            "  - method: lsh\n"
                            "    bits: [16]\n"
                            "  - method: itq\n"
                            "    bits: [16]\n"
                            "attacks:\n"
                            "  - {method: pgd, norm: linf, eps: 8/255, steps: 3}\n"
                            "  - {method: auto, norm: linf, eps: 8/255}\n"
                            "  - {method: noise, norm: linf, eps: 8/255}\n"
                            "report: {formats: [json]}\n";

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    cr_assert(b && fread(b, 1, (size_t)len, f) == (size_t)len, "%s", path);
    fclose(f);
    b[len] = 0;
    *n = (size_t)len;
    return b;
}

static void same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = read_all(a, &na), *y = read_all(b, &nb);
    cr_assert(na == nb && memcmp(x, y, na) == 0, "%s and %s differ", a, b);
    free(x);
    free(y);
}

static char *metrics_of(const char *rd, const char *key, const char **device) {
    hl_config *r = result_of(rd, key);
    const hl_config *dv = hl_config_get(r, "device");
    cr_assert_not_null(dv, "result.json records the device");
    *device = strcmp(dv->text, "shadow") == 0 ? "shadow" : strcmp(dv->text, "cpu") == 0 ? "cpu" : "?";
    hl_config *m = (hl_config *)hl_config_get(r, "metrics");
    cr_assert_not_null(m);
    hl_config_map_remove(m, "seconds_per_query"); /* a timing */
    char *j = NULL;
    cr_assert_eq(hl_config_canonical_json(m, &j), HL_OK);
    hl_config_free(r);
    return j;
}

Test(device_run, shadow_run_equals_the_cpu_run, .timeout = 900) {
    char text[2048];
    const char *dirs[2] = {tmp_dir("dev_cpu"), tmp_dir("dev_shadow")}, *devs[2] = {"cpu", "shadow"};
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text, SUITE, devs[i]);
        hl_run_summary sum;
        cr_assert_eq(run(write_suite(text), dirs[i], NULL, false, &sum), HL_OK, "%s: %s", devs[i], hl_error_last());
        cr_assert_eq(sum.failed, 0, "%s: %lld cells failed", devs[i], (long long)sum.failed);
        cr_assert_eq(sum.ran, 16);
    }
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(dirs[0], &cells, &n); /* the device is not in the keys: both runs have these cells */
    cr_assert_eq(n, 16);
    for (int64_t i = 0; i < n; i++) {
        char cd[2][1200];
        for (int k = 0; k < 2; k++) hl_store_cell_dir(dirs[k], cells[i].key, cd[k], sizeof cd[k]);
        const char *dev0, *dev1;
        char *m0 = metrics_of(dirs[0], cells[i].key, &dev0), *m1 = metrics_of(dirs[1], cells[i].key, &dev1);
        cr_assert(!strcmp(dev0, "cpu") && !strcmp(dev1, "shadow"), "%s: devices %s, %s", cells[i].label, dev0, dev1);
        cr_assert_str_eq(m0, m1, "%s: metrics differ between the CPU and the shadow device", cells[i].label);
        free(m0);
        free(m1);
        static const char *const files[] = {"query_codes.npy", "db_codes.npy", "model.safetensors", "adv_codes.npy",
                                            "per_query.csv"};
        for (size_t f = 0; f < HL_ARRAY_LEN(files); f++) {
            char a[1300], b[1300];
            snprintf(a, sizeof a, "%s/%s", cd[0], files[f]);
            snprintf(b, sizeof b, "%s/%s", cd[1], files[f]);
            if (access(a, F_OK) == 0) same_file(a, b);
        }
    }
    free(cells);
}

Test(device_run, unported_methods_are_refused_on_a_device) {
    const char *text = "name: devrefuse\n"
                       "dataset: synthetic\n"
                       "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 4}\n"
                       "protocol: cifar10-1:20/100\n"
                       "seeds: [0]\n"
                       "threads: 1\n"
                       "device: shadow\n"
                       "hashers:\n"
                       "  - method: adsh\n"
                       "    bits: [8]\n"
                       "    params: {epochs: 1, inner_epochs: 1}\n"
                       "report: {formats: [json]}\n";
    const char *rd = tmp_dir("dev_refuse");
    hl_run_summary sum;
    (void)run(write_suite(text), rd, NULL, false, &sum);
    cr_assert_eq(sum.failed, 1, "the ADSH cell fails instead of running on memory it cannot read");
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    hl_config *r = result_of(rd, cells[0].key);
    const hl_config *e = hl_config_get(r, "error");
    cr_assert(e && strstr(e->text, "does not run on device 'shadow' yet"), "error: %s", e ? e->text : "(none)");
    hl_config_free(r);
    free(cells);
}
