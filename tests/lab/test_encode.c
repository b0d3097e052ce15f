/* tests/lab/test_encode.c — `hashlab encode` (lab/cmd_encode.c, lab/model_open.c): from a tiny suite's train cell,
 * the codes of the database and query images (written as PNG files and listed) are the cell's own db_codes.npy and
 * query_codes.npy, and `hashlab score` on them gives the cell's mAP; the same from the bare model.safetensors (its
 * metadata), packed; resized images; cells and checkpoints written before the metadata existed; a plugin's hasher
 * (--plugin); every refusal (attack or failed cell, old bare file, wrong --image-size, usage). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/split.h"
#include "core/io/checkpoint.h"
#include "core/io/image.h"
#include "core/io/json.h"
#include "eval/codes_io.h"
#include "hashers/hasher.h"
#include "lab/commands.h"
#include "lab/plugin.h"
#include "test_cli.h"
#include "test_common.h"
#include "test_run.h"

static const char *dir;

static const char *P(const char *name) {
    static char bufs[16][1100];
    static int k;
    char *b = bufs[k++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

/* Images idx[0..n) of d as PNG files img/<i>.png (upscaled to `size` when size > d->h), listed with their labels
 * (multi-hot) in `list`. */
static void write_list(const hl_dataset *d, const int64_t *idx, int64_t n, const char *list, int size) {
    mkdir(P("img"), 0755);
    FILE *f = fopen(P(list), "w");
    cr_assert_not_null(f);
    const int c = d->c, h = d->h, w = d->w;
    uint8_t *px = malloc((size_t)c * h * w), *big = malloc((size_t)c * size * size + 1);
    for (int64_t j = 0; j < n; j++) {
        const uint8_t *src = d->pixels + idx[j] * (int64_t)c * h * w;
        for (int q = 0; q < h * w; q++)
            for (int ch = 0; ch < c; ch++) px[q * c + ch] = src[ch * h * w + q]; /* planar -> interleaved */
        char name[64];
        snprintf(name, sizeof name, "img/%lld.png", (long long)idx[j]);
        if (size > h) {
            cr_assert_eq(hl_image_resize(px, w, h, c, big, size, size), HL_OK);
            cr_assert_eq(hl_image_write_png(P(name), big, size, size, c), HL_OK, "%s", hl_error_last());
        } else {
            cr_assert_eq(hl_image_write_png(P(name), px, w, h, c), HL_OK, "%s", hl_error_last());
        }
        fprintf(f, "%s", name);
        for (int k = 0; k < d->labels.nlabels; k++) fprintf(f, " %d", hl_labels_has(&d->labels, idx[j], k));
        fprintf(f, "\n");
    }
    fclose(f);
    free(px);
    free(big);
}

static void assert_same_codes(const char *got_path, int packed_bits, const char *want_path) {
    hl_codes a = {0}, b = {0};
    cr_assert_eq(hl_codes_npy_read(got_path, packed_bits, &a), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_codes_npy_read(want_path, 0, &b), HL_OK, "%s", hl_error_last());
    cr_assert(a.n == b.n && a.bits == b.bits, "%s: %lld x %d codes, %s: %lld x %d", got_path, (long long)a.n, a.bits,
              want_path, (long long)b.n, b.bits);
    for (int64_t i = 0; i < a.n; i++)
        cr_assert_eq(memcmp(hl_codes_row(&a, i), hl_codes_row(&b, i), (size_t)a.words * 8), 0,
                     "%s row %lld differs from %s", got_path, (long long)i, want_path);
    hl_codes_free(&a);
    hl_codes_free(&b);
}

static double json_number(const char *text, const char *key) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(text, pat);
    cr_assert_not_null(p, "no %s in %s", key, text);
    return strtod(p + strlen(pat), NULL);
}

static const char suite_yaml[] = "name: tiny_encode\n"
                                 "dataset: synthetic\n"
                                 "synthetic: {n: 600, c: 1, h: 16, w: 16, classes: 4}\n"
                                 "protocol: cifar10:40/100\n"
                                 "seeds: [0]\n"
                                 "threads: 1\n"
                                 "hashers:\n"
                                 "  - method: dpsh\n"
                                 "    bits: [16]\n"
                                 "    params: {epochs: 2, batch: 32}\n";

Test(encode, cell_codes_and_map_reproduced_from_the_images) {
    char *suite = write_suite(suite_yaml);
    const char *rd = tmp_dir("run");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.failed, 0);
    hl_cell *cells = NULL;
    int64_t ncells = 0;
    cells_of(rd, &cells, &ncells);
    cr_assert_eq(ncells, 1);
    char cell[1200];
    snprintf(cell, sizeof cell, "%s/cells/%s", rd, cells[0].key);
    hl_config *res = result_of(rd, cells[0].key);
    double map = 0;
    cr_assert_eq(hl_config_get_double(res, "metrics.mAP@1000", &map), HL_OK);
    const hl_config *in = hl_config_get(res, "input");
    cr_assert(in && hl_config_len(in) == 3 && !strcmp(hl_config_at(in, 0)->text, "1") &&
              !strcmp(hl_config_at(in, 1)->text, "16"), "result.json records the input shape");

    /* the suite's data and split, rebuilt; the database and query images as PNG lists */
    dir = hl_test_tmpdir();
    hl_dataset d;
    hl_synth_opts so = {.n = 600, .c = 1, .h = 16, .w = 16, .classes = 4, .seed = 0, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(&d, &so), HL_OK);
    hl_split sp;
    cr_assert_eq(hl_split_make(&sp, &d, "cifar10:40/100", 0), HL_OK, "%s", hl_error_last());
    char hex[65];
    cr_assert_eq(hl_split_hash(&sp, hex), HL_OK);
    cr_assert_str_eq(hex, hl_config_get(res, "split_hash")->text, "the test rebuilt another split");
    write_list(&d, sp.database.idx, sp.database.n, "db.txt", 16);
    write_list(&d, sp.query.idx, sp.query.n, "q.txt", 16);

    int rc = cli_run(hl_cmd_encode, "--model", cell, "--images", P("db.txt"), "--out", P("db.npy"), "--labels-out",
                     P("dbl.npy"), "--batch", "100", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    cr_assert(strstr(cli_err, "takes 1x16x16 images") && strstr(cli_err, "460 images"), "%s", cli_err);
    assert_same_codes(P("db.npy"), 0, hl_test_path(cell, "db_codes.npy"));
    rc = cli_run(hl_cmd_encode, "--model", cell, "--images", P("q.txt"), "--out", P("q.npy"), "--labels-out",
                 P("ql.npy"), "--image-size", "16", "--threads", "2", "--quiet", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_same_codes(P("q.npy"), 0, hl_test_path(cell, "query_codes.npy"));
    /* the model loaded onto the shadow device (memory the host cannot touch) encodes the same codes */
    rc = cli_run(hl_cmd_encode, "--model", cell, "--images", P("q.txt"), "--out", P("q_shadow.npy"), "--device",
                 "shadow", "--quiet", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_same_codes(P("q_shadow.npy"), 0, hl_test_path(cell, "query_codes.npy"));

    /* hashlab score on them: the cell's mAP */
    rc = cli_run(hl_cmd_score, "--query-codes", P("q.npy"), "--db-codes", P("db.npy"), "--query-labels", P("ql.npy"),
                 "--db-labels", P("dbl.npy"), "--topk", "1000", "--json", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    cr_assert_float_eq(json_number(cli_out, "mAP@1000"), map, 1e-12, "score %s, cell %.15g", cli_out, map);
    cr_assert(map > 0.3, "a trained model (mAP %g), so the comparison means something", map);

    /* the bare model file (metadata only, no result.json next to it), packed codes */
    mkdir(P("bare"), 0755);
    size_t len;
    unsigned char *blob = hl_test_read_file(hl_test_path(cell, "model.safetensors"), &len);
    hl_test_write_file(P("bare/model.safetensors"), blob, len);
    free(blob);
    rc = cli_run(hl_cmd_encode, "--model", P("bare/model.safetensors"), "--images", P("db.txt"), "--out",
                 P("dbp.npy"), "--format", "npy-packed", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    cr_assert(strstr(cli_err, "--packed-bits 16"), "%s", cli_err);
    assert_same_codes(P("dbp.npy"), 16, hl_test_path(cell, "db_codes.npy"));

    /* images of another size are resized to the model's input (and said so) */
    write_list(&d, sp.query.idx, 10, "big.txt", 24);
    rc = cli_run(hl_cmd_encode, "--model", cell, "--images", P("big.txt"), "--out", P("big.npy"), NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    cr_assert(strstr(cli_err, "resized to it (the first is 1x24x24)"), "%s", cli_err);
    hl_codes b = {0};
    cr_assert_eq(hl_codes_npy_read(P("big.npy"), 0, &b), HL_OK);
    cr_assert(b.n == 10 && b.bits == 16);
    hl_codes_free(&b);
    /* --image-size must be the model's */
    rc = cli_run(hl_cmd_encode, "--model", cell, "--images", P("q.txt"), "--out", P("x.npy"), "--image-size", "24",
                 NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "takes 16x16 images") && strstr(cli_err, "--image-size 24"), "%s", cli_err);
    cr_assert(access(P("x.npy"), F_OK) != 0);

    hl_split_free(&sp);
    hl_dataset_free(&d);
    hl_config_free(res);
    free(cells);
    free(suite);
}

/* An untrained dpsh saved as hashlab wrote checkpoints before they held the input shape and params. */
static hl_hasher *legacy_model(const char *path) {
    hl_dataset_info info = {.c = 1, .h = 16, .w = 16, .nlabels = 4};
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, "dpsh", NULL, &info, 8, 3), HL_OK, "%s", hl_error_last());
    hl_ckpt_meta m;
    hl_ckpt_meta_init(&m);
    hl_ckpt_meta_set(&m, HL_CKPT_KEY_METHOD, "dpsh");
    hl_ckpt_meta_set_int(&m, HL_CKPT_KEY_BITS, 8);
    hl_ckpt_meta_set(&m, "seed", "3");
    cr_assert_eq(hl_checkpoint_save(path, &h->params, &m), HL_OK, "%s", hl_error_last());
    hl_ckpt_meta_free(&m);
    h->fitted = true;
    return h;
}

static void write_text(const char *path, const char *text) { hl_test_write_file(path, text, strlen(text)); }

Test(encode, legacy_cells_bare_files_and_refusals) {
    dir = hl_test_tmpdir();
    hl_dataset d;
    hl_synth_opts so = {.n = 30, .c = 1, .h = 16, .w = 16, .classes = 4, .seed = 5, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(&d, &so), HL_OK);
    int64_t idx[30];
    for (int i = 0; i < 30; i++) idx[i] = i;
    write_list(&d, idx, 30, "list.txt", 16);
    /* the codes the model gives these images, directly */
    mkdir(P("run"), 0755);
    mkdir(P("run/cells"), 0755);
    mkdir(P("run/cells/legacy"), 0755);
    hl_hasher *h = legacy_model(P("run/cells/legacy/model.safetensors"));
    float *x = malloc(30 * 256 * sizeof *x);
    hl_dataset_read(&d, idx, 30, x);
    hl_ctx *ctx = hl_test_ctx();
    hl_codes want = {0};
    cr_assert_eq(hl_hasher_encode_images(&want, h, ctx, x, 30, 7), HL_OK);
    cr_assert_eq(hl_codes_npy_write(P("want.npy"), &want, false), HL_OK);
    char *params = NULL;
    cr_assert_eq(hl_config_canonical_json(h->cfg, &params), HL_OK);

    /* the old bare file is refused: it cannot say its input shape and params */
    int rc = cli_run(hl_cmd_encode, "--model", P("run/cells/legacy/model.safetensors"), "--images", P("list.txt"),
                     "--out", P("c.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "older hashlab") && strstr(cli_err, "cell directory"), "%s", cli_err);
    /* its cell (result.json without "input": the shape comes from the run's synthetic dataset) loads */
    char text[4096];
    snprintf(text, sizeof text, "{\"kind\": \"train\", \"status\": \"done\", \"hasher_method\": \"dpsh\", \"bits\": 8, "
             "\"seed\": 3, \"dataset\": \"synthetic\", \"hasher_params\": %s}", params);
    write_text(P("run/cells/legacy/result.json"), text);
    write_text(P("run/suite.resolved.json"), "{\"dataset\": \"synthetic\", \"synthetic\": {\"c\": 1, \"h\": 16, "
               "\"w\": 16, \"n\": 30, \"classes\": 4}}");
    rc = cli_run(hl_cmd_encode, "--model", P("run/cells/legacy"), "--images", P("list.txt"), "--out", P("c.npy"), NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_same_codes(P("c.npy"), 0, P("want.npy"));
    /* without a dataset to infer the shape from: a clear refusal */
    snprintf(text, sizeof text, "{\"kind\": \"train\", \"status\": \"done\", \"hasher_method\": \"dpsh\", \"bits\": 8, "
             "\"seed\": 3, \"dataset\": \"mystery\", \"hasher_params\": %s}", params);
    write_text(P("run/cells/legacy/result.json"), text);
    rc = cli_run(hl_cmd_encode, "--model", P("run/cells/legacy"), "--images", P("list.txt"), "--out", P("c2.npy"),
                 NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "no \"input\" image shape") && strstr(cli_err, "'mystery'"), "%s", cli_err);

    /* a checkpoint written now holds everything: bare file accepted, same codes */
    cr_assert_eq(hl_hasher_save(h, P("new.safetensors")), HL_OK, "%s", hl_error_last());
    hl_hasher_spec spec;
    cr_assert_eq(hl_hasher_spec_from_checkpoint(&spec, P("new.safetensors")), HL_OK, "%s", hl_error_last());
    cr_assert(!strcmp(spec.method, "dpsh") && spec.bits == 8 && spec.seed == 3 && spec.info.c == 1 &&
              spec.info.h == 16 && spec.info.w == 16 && spec.info.nlabels == 4 && spec.params);
    hl_hasher_spec_free(&spec);
    rc = cli_run(hl_cmd_encode, "--model", P("new.safetensors"), "--images", P("list.txt"), "--out", P("n.npy"),
                 "--batch", "4", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_same_codes(P("n.npy"), 0, P("want.npy"));

    /* refusals */
    mkdir(P("run/cells/att"), 0755);
    write_text(P("run/cells/att/result.json"), "{\"kind\": \"attack\", \"status\": \"done\", \"train_key\": \"ab\"}");
    rc = cli_run(hl_cmd_encode, "--model", P("run/cells/att"), "--images", P("list.txt"), "--out", P("a.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "an attack cell, not a train cell") && strstr(cli_err, "train_key"), "%s", cli_err);
    mkdir(P("run/cells/failed"), 0755);
    write_text(P("run/cells/failed/result.json"), "{\"kind\": \"train\", \"status\": \"failed\", \"error\": \"x\"}");
    rc = cli_run(hl_cmd_encode, "--model", P("run/cells/failed"), "--images", P("list.txt"), "--out", P("a.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "did not finish"), "%s", cli_err);
    rc = cli_run(hl_cmd_encode, "--model", P("img"), "--images", P("list.txt"), "--out", P("a.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "not a cell directory"), "%s", cli_err);
    rc = cli_run(hl_cmd_encode, "--model", P("nothing"), "--images", P("list.txt"), "--out", P("a.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "no such cell directory or model file"), "%s", cli_err);
    rc = cli_run(hl_cmd_encode, "--model", P("img/0.png"), "--images", P("list.txt"), "--out", P("a.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "img/0.png"), "%s", cli_err);
    rc = cli_run(hl_cmd_encode, "--model", P("new.safetensors"), "--images", P("nolist.txt"), "--out", P("a.npy"),
                 NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "nolist.txt"), "%s", cli_err);
    cr_assert(access(P("a.npy"), F_OK) != 0);
    /* usage */
    cr_assert_eq(cli_run(hl_cmd_encode, "--model", P("new.safetensors"), "--images", P("list.txt"), NULL), 2);
    cr_assert(strstr(cli_err, "missing --out"), "%s", cli_err);
    cr_assert_eq(cli_run(hl_cmd_encode, "--model", P("new.safetensors"), "--images", P("list.txt"), "--out",
                         P("a.npy"), "--format", "csv", NULL), 2);
    cr_assert(strstr(cli_err, "--format must be npy-int8 or npy-packed"), "%s", cli_err);
    cr_assert_eq(cli_run(hl_cmd_encode, "--help", NULL), 0);
    cr_assert(strstr(cli_out, "usage: hashlab encode"));

    hl_codes_free(&want);
    hl_ctx_free(ctx);
    free(x);
    free(params);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(encode, plugin_hasher_needs_its_plugin) {
    dir = hl_test_tmpdir();
    hl_dataset d;
    hl_synth_opts so = {.n = 12, .c = 1, .h = 8, .w = 8, .classes = 3, .seed = 2, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(&d, &so), HL_OK);
    int64_t idx[12];
    for (int i = 0; i < 12; i++) idx[i] = i;
    write_list(&d, idx, 12, "list.txt", 8);
    cr_assert_eq(hl_plugin_load(HL_EXAMPLE_PLUGIN), HL_OK, "%s", hl_error_last());
    hl_dataset_info info = hl_dataset_info_of(&d);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, "toy", NULL, &info, 12, 1), HL_OK, "%s", hl_error_last());
    h->fitted = true;
    cr_assert_eq(hl_hasher_save(h, P("toy.safetensors")), HL_OK, "%s", hl_error_last());
    float x[12 * 64];
    hl_dataset_read(&d, idx, 12, x);
    hl_ctx *ctx = hl_test_ctx();
    hl_codes want = {0};
    cr_assert_eq(hl_hasher_encode_images(&want, h, ctx, x, 12, 5), HL_OK);
    cr_assert_eq(hl_codes_npy_write(P("want.npy"), &want, false), HL_OK);
    hl_hasher_free(h);
    hl_plugins_unload_all();
    unsetenv(HL_PLUGIN_ENV);
    int rc = cli_run(hl_cmd_encode, "--model", P("toy.safetensors"), "--images", P("list.txt"), "--out", P("c.npy"),
                     NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "unknown hasher 'toy'") && strstr(cli_err, "--plugin"), "%s", cli_err);
    rc = cli_run(hl_cmd_encode, "--plugin", HL_EXAMPLE_PLUGIN, "--model", P("toy.safetensors"), "--images",
                 P("list.txt"), "--out", P("c.npy"), NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_same_codes(P("c.npy"), 0, P("want.npy"));
    hl_codes_free(&want);
    hl_ctx_free(ctx);
    hl_plugins_unload_all();
    hl_dataset_free(&d);
}
