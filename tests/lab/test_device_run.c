/* tests/lab/test_device_run.c — a suite on the shadow device (core/shadow/shadow.h: the CPU's kernels on memory the
 * host cannot touch, so a missing transfer crashes) gives the CPU run's results bit for bit: DPSH (a deep hasher,
 * also with the CgAT defence), LSH and ITQ trained, encoded and attacked by PGD, the `auto` ensemble and noise.
 * Methods not yet ported to devices are refused with a clear error, never run on host memory they cannot read. */
#include <unistd.h>

#include "test_run.h"
#include "test_victim.h"

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

/* Every other built-in hasher (tiny settings) and ProS-GAN, 28×28 images so the GAN-based methods (ABML's mutual
 * learning, HashGAN) and ProS-GAN apply; the semi-supervised entries see 100 labels. */
static const char SUITE_ALL[] = "name: devall\n"
                                "dataset: synthetic\n"
                                "synthetic: {n: 700, c: 1, h: 28, w: 28, classes: 4, noise: 0.3}\n"
                                "protocol: cifar10-1:40/300\n"
                                "seeds: [0]\n"
                                "threads: 1\n"
                                "attack_queries: 8\n"
                                "device: %s\n"
                                "hashers:\n"
                                "  - {method: adsh, bits: [16], params: {epochs: 1, inner_epochs: 1, num_samples: 100}}\n"
                                "  - {method: ddsh, bits: [16], params: {epochs: 1}}\n"
                                "  - {method: nmlayer, bits: [16], params: {epochs: 2, start_bits: 24, stages: 1}}\n"
                                "  - {method: abml, labeled: 100, bits: [16], params: {epochs: 1}}\n"
                                "  - {method: ssah, labeled: 100, bits: [16], params: {epochs: 1}}\n"
                                "  - {method: hashgan, bits: [16], params: {epochs: 1}}\n"
                                "  - {method: bthash, bits: [16], params: {epochs: 1}}\n"
                                "attacks:\n"
                                "  - {method: pgd, norm: linf, eps: 8/255, steps: 2}\n"
                                "  - {method: prosgan, targeted: true, norm: none,\n"
                                "     params: {proto_steps: 20, gan_epochs: 1, batch: 16, width: 8, d_width: 8, feat: 16,\n"
                                "              proto_hidden: 16, res_blocks: 1, grid: 0}}\n"
                                "report: {formats: [json]}\n";

static void same_file(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = hl_test_read_file(a, &na), *y = hl_test_read_file(b, &nb);
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

/* Runs `suite` (a format with one %s: the device) on the CPU and on the shadow device into <tag>_cpu and
 * <tag>_shadow, then compares every cell: metrics, codes, models and per-query files bit for bit. */
static void cpu_equals_shadow(const char *suite, const char *tag, int64_t cells_expected) {
    char text[4096], d0[64], d1[64];
    snprintf(d0, sizeof d0, "%s_cpu", tag);
    snprintf(d1, sizeof d1, "%s_shadow", tag);
    const char *dirs[2] = {tmp_dir(d0), tmp_dir(d1)}, *devs[2] = {"cpu", "shadow"};
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text, suite, devs[i]);
        hl_run_summary sum;
        char *path = write_suite(text);
        cr_assert_eq(run(path, dirs[i], NULL, false, &sum), HL_OK, "%s: %s", devs[i], hl_error_last());
        free(path);
        cr_assert_eq(sum.failed, 0, "%s: %lld cells failed", devs[i], (long long)sum.failed);
        cr_assert_eq(sum.ran, cells_expected);
    }
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(dirs[0], &cells, &n); /* the device is not in the keys: both runs have these cells */
    cr_assert_eq(n, cells_expected);
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

Test(device_run, shadow_run_equals_the_cpu_run, .timeout = 900) { cpu_equals_shadow(SUITE, "dev", 16); }

Test(device_run, every_hasher_and_prosgan_equal_on_shadow, .timeout = 1200) {
    cpu_equals_shadow(SUITE_ALL, "devall", 7 * 3);
}

/* A class without HL_HASHER_DEVICE (the test victim, like a plugin that computes on host memory) is refused off the
 * CPU, and so is an attack without HL_ATTACK_DEVICE; both work on the CPU. */
static hl_status host_only_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x,
                                   hl_tensor *x_adv, const hl_attack_goal *goal) {
    (void)self, (void)victim, (void)ctx, (void)goal;
    memcpy(x_adv->data, x->data, (size_t)hl_tensor_numel(x) * sizeof(float));
    return HL_OK;
}

Test(device_run, unported_methods_are_refused_on_a_device) {
    hl_dataset_info info = {.c = 1, .h = 8, .w = 8, .nlabels = 4};
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_on(&h, &hl_test_tiny_class, NULL, &info, 8, 0, HL_DEVICE_SHADOW), HL_EUNSUPPORTED);
    cr_assert(strstr(hl_error_last(), "does not run on device 'shadow' yet"), "%s", hl_error_last());
    cr_assert_eq(hl_hasher_create_on(&h, &hl_test_tiny_class, NULL, &info, 8, 0, HL_DEVICE_CPU), HL_OK);
    hl_hasher_free(h);
    /* a built-in that declares the flag is created there */
    cr_assert_eq(hl_hasher_create_on(&h, hl_hasher_class_find("dpsh"), NULL, &info, 8, 0, HL_DEVICE_SHADOW), HL_OK,
                 "%s", hl_error_last());
    cr_assert_eq(h->dev, HL_DEVICE_SHADOW);
    cr_assert_eq(h->params.dev, HL_DEVICE_SHADOW);
    /* an attack class without HL_ATTACK_DEVICE */
    hl_attack_class cls = *hl_attack_class_find("noise");
    cls.name = "host-only";
    cls.flags &= ~(unsigned)HL_ATTACK_DEVICE;
    cls.perturb = host_only_perturb;
    hl_attack_opts ao;
    hl_attack_opts_default(&ao);
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create_class(&a, &cls, NULL, &ao), HL_OK, "%s", hl_error_last());
    hl_ctx *ctx = NULL;
    cr_assert_eq(hl_ctx_create(&ctx, HL_DEVICE_SHADOW, 0), HL_OK);
    float x[64] = {0}, xa[64];
    cr_assert_eq(hl_attack_run(a, h, ctx, x, xa, 1, NULL, 1), HL_EUNSUPPORTED);
    cr_assert(strstr(hl_error_last(), "attack 'host-only' does not run on device 'shadow' yet"), "%s",
              hl_error_last());
    hl_ctx_free(ctx);
    hl_attack_free(a);
    hl_hasher_free(h);
}
