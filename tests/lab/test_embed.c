/* tests/lab/test_embed.c — `hashlab embed` (lab/cmd_embed.c) on image lists the tests write: the features equal
 * hl_backbone_forward called directly on the same images (cnn-small and resnet-small, weights written by the test,
 * own size and resized, RGB and gray, labelled lists and plain lists of paths), any batch size gives the same rows,
 * and every error: missing image, malformed list, unknown backbone, unknown layer, mixed sizes, weights of another
 * shape, usage. Also the streamed image-list reader (core/data/image_stream.h) and the .npy writer in pieces. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/data/dataset.h"
#include "core/job.h"
#include "core/data/image_stream.h"
#include "core/io/checkpoint.h"
#include "core/io/image.h"
#include "core/io/npy.h"
#include "core/nn/backbone.h"
#include "eval/codes_io.h"
#include "lab/commands.h"
#include "test_cli.h"
#include "test_common.h"

static const char *dir;

static const char *P(const char *name) {
    static char bufs[16][1100];
    static int k;
    char *b = bufs[k++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

/* n random images img/<i>.png of c channels, h × w (sizes[i] overrides h = w when given), and two lists: labelled
 * (3 labels, multi-hot) list.txt and plain paths.txt. */
static void write_images(int n, int c, int h, int w, const int *sizes) {
    dir = hl_test_tmpdir();
    mkdir(P("img"), 0755);
    FILE *lf = fopen(P("list.txt"), "w"), *pf = fopen(P("paths.txt"), "w");
    cr_assert(lf && pf);
    hl_rng r = hl_rng_make(11, 1);
    for (int i = 0; i < n; i++) {
        int hh = sizes ? sizes[i] : h, ww = sizes ? sizes[i] : w;
        uint8_t *px = malloc((size_t)hh * ww * c);
        for (int q = 0; q < hh * ww * c; q++) px[q] = (uint8_t)(hl_rng_u32(&r) >> 24);
        char name[64];
        snprintf(name, sizeof name, "img/%d.png", i);
        cr_assert_eq(hl_image_write_png(P(name), px, ww, hh, c), HL_OK, "%s", hl_error_last());
        free(px);
        fprintf(lf, "%s %d %d %d\n", name, i % 2, (i / 2) % 2, i % 3 == 0);
        fprintf(pf, "%s\n", name);
    }
    fclose(lf);
    fclose(pf);
}

typedef struct model {
    hl_params p;
    hl_backbone bb;
} model;

static void make_model(model *m, const char *prefix, const char *kind, int c, int h, int w, uint64_t seed) {
    hl_params_init(&m->p);
    cr_assert_eq(hl_backbone_init(&m->bb, &m->p, prefix, kind, c, h, w), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_params_alloc(&m->p), HL_OK);
    hl_rng r = hl_rng_make(seed, 7);
    hl_backbone_reset(&m->bb, &r);
    /* non-trivial batch-norm running statistics, so eval mode is visible */
    for (int i = 0; i < hl_params_buffer_count(&m->p); i++) {
        hl_tensor *t = hl_params_buffer_at(&m->p, i);
        const char *nm = hl_params_buffer_name(&m->p, i);
        for (int64_t j = 0; j < hl_tensor_numel(t); j++) {
            if (strstr(nm, "running_mean")) t->data[j] = 0.05f * (float)(j % 7) - 0.1f;
            else if (strstr(nm, "running_var")) t->data[j] = 0.5f + 0.1f * (float)(j % 5);
        }
    }
}

/* Features of images (the dataset loader's pixels at size s, or their own size) through the model, directly. */
static float *direct(model *m, const char *list, int c, int s, int64_t *n_out) {
    hl_dataset d;
    cr_assert_eq(hl_dataset_load_image_list(&d, list, NULL, s, c), HL_OK, "%s", hl_error_last());
    int64_t n = d.n, D = hl_dataset_image_size(&d), F = m->bb.features;
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    float *x = malloc((size_t)(n * D) * sizeof *x), *f = malloc((size_t)(n * F) * sizeof *f);
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    hl_dataset_read(&d, idx, n, x);
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, false);
    hl_ctx_set_batch_invariant(ctx, true);
    hl_no_grad_begin(ctx);
    hl_tensor *xt = hl_tensor_from(ctx, 4, HL_SHAPE(n, d.c, d.h, d.w), x);
    hl_tensor *ft = hl_backbone_forward(ctx, &m->bb, xt);
    hl_no_grad_end(ctx);
    memcpy(f, ft->data, (size_t)(n * F) * sizeof *f);
    hl_ctx_free(ctx);
    hl_dataset_free(&d);
    free(idx);
    free(x);
    *n_out = n;
    return f;
}

static void assert_features(const char *path, const float *want, int64_t n, int64_t F) {
    hl_npy a;
    cr_assert_eq(hl_npy_read(path, &a), HL_OK, "%s", hl_error_last());
    cr_assert(a.dtype == HL_NPY_F32 && a.ndim == 2 && a.shape[0] == n && a.shape[1] == F,
              "%s: %s (%lld, %lld), expected float32 (%lld, %lld)", path, hl_npy_dtype_name(a.dtype),
              (long long)a.shape[0], (long long)a.shape[1], (long long)n, (long long)F);
    const float *got = a.data;
    double scale = 0;
    for (int64_t i = 0; i < n * F; i++) scale = fmax(scale, fabs(want[i]));
    cr_assert(scale > 1e-3, "features are all ~0: the comparison would prove nothing");
    for (int64_t i = 0; i < n * F; i++)
        cr_assert(fabs(got[i] - want[i]) <= 1e-6 * scale, "%s: row %lld col %lld: %g, direct forward %g", path,
                  (long long)(i / F), (long long)(i % F), got[i], want[i]);
    hl_npy_free(&a);
}

Test(embed, equals_direct_forward_cnn_small_rgb_with_weights) {
    write_images(7, 3, 16, 16, NULL);
    model m;
    make_model(&m, "backbone", "cnn-small", 3, 16, 16, 3);
    cr_assert_eq(hl_checkpoint_save(P("w.safetensors"), &m.p, NULL), HL_OK, "%s", hl_error_last());
    int64_t n;
    float *want = direct(&m, P("list.txt"), 3, 16, &n);
    /* batches of 3, 3, 1; own size (16 x 16, exact), labels out */
    int rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--weights", P("w.safetensors"), "--images",
                     P("list.txt"), "--out", P("f.npy"), "--batch", "3", "--labels-out", P("l.npy"), NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_features(P("f.npy"), want, n, 512);
    cr_assert(strstr(cli_err, "7 images"), "%s", cli_err);
    /* batch size does not matter; a plain list of paths gives the same rows */
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--weights", P("w.safetensors"), "--images", P("paths.txt"),
                 "--out", P("f2.npy"), "--batch", "64", "--quiet", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    cr_assert_str_empty(cli_err, "--quiet printed: %s", cli_err);
    assert_features(P("f2.npy"), want, n, 512);
    /* on the shadow device (memory the host cannot touch): the same bytes */
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--weights", P("w.safetensors"), "--images", P("list.txt"),
                 "--out", P("f_shadow.npy"), "--batch", "3", "--device", "shadow", "--quiet", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    size_t la, lb;
    unsigned char *fa = hl_test_read_file(P("f.npy"), &la), *fb = hl_test_read_file(P("f_shadow.npy"), &lb);
    cr_assert(la == lb && memcmp(fa, fb, la) == 0, "embed on the shadow device differs from the CPU");
    free(fa), free(fb);
    /* labels as the list says: row i = (i % 2, (i / 2) % 2, i % 3 == 0) */
    hl_labels l;
    cr_assert_eq(hl_labels_npy_read(P("l.npy"), 0, &l), HL_OK, "%s", hl_error_last());
    cr_assert(l.n == 7 && l.nlabels == 3);
    for (int i = 0; i < 7; i++)
        cr_assert(hl_labels_has(&l, i, 0) == (i % 2) && hl_labels_has(&l, i, 1) == ((i / 2) % 2) &&
                  hl_labels_has(&l, i, 2) == (i % 3 == 0), "row %d", i);
    hl_labels_free(&l);
    /* the plain list has no labels to write */
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("paths.txt"), "--out", P("f3.npy"),
                 "--labels-out", P("l3.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "no labels"), "%s", cli_err);
    cr_assert(access(P("f3.npy"), F_OK) != 0, "nothing is written on failure");
    free(want);
    hl_params_free(&m.p);
}

Test(embed, equals_direct_forward_resnet_small_resized_bare_names) {
    write_images(5, 3, 16, 16, NULL);
    model m;
    make_model(&m, "", "resnet-small", 3, 24, 24, 4); /* torchvision-style bare names: "conv1.weight" */
    cr_assert_eq(hl_checkpoint_save(P("w.safetensors"), &m.p, NULL), HL_OK, "%s", hl_error_last());
    int64_t n;
    float *want = direct(&m, P("list.txt"), 3, 24, &n); /* 16 -> 24, as the dataset loader resizes */
    int rc = cli_run(hl_cmd_embed, "--backbone", "resnet-small", "--weights", P("w.safetensors"), "--images",
                     P("list.txt"), "--out", P("f.npy"), "--image-size", "24", "--batch", "2", "--threads", "2", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_features(P("f.npy"), want, n, 128);
    /* "HxW" form */
    rc = cli_run(hl_cmd_embed, "--backbone", "resnet-small", "--weights", P("w.safetensors"), "--images",
                 P("list.txt"), "--out", P("g.npy"), "--image-size", "24x24", "--quiet", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    assert_features(P("g.npy"), want, n, 128);
    free(want);
    hl_params_free(&m.p);
}

Test(embed, gray_images_random_init_seeded) {
    write_images(4, 1, 16, 16, NULL);
    model m;
    make_model(&m, "backbone", "cnn-small", 1, 16, 16, 9);
    hl_rng r = hl_rng_make(9, 7); /* what embed does without --weights: the backbone's own init from --seed */
    hl_backbone_reset(&m.bb, &r);
    int64_t n;
    float *want = direct(&m, P("list.txt"), 1, 16, &n);
    int rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"),
                     "--seed", "9", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    cr_assert(strstr(cli_err, "randomly initialised"), "%s", cli_err);
    assert_features(P("f.npy"), want, n, 512); /* 1 channel: the gray files' own */
    /* --channels 3 replicates gray into RGB: another network input, still [n, 512] */
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f3.npy"),
                 "--channels", "3", "--quiet", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    hl_npy a;
    cr_assert_eq(hl_npy_read(P("f3.npy"), &a), HL_OK);
    cr_assert(a.shape[0] == 4 && a.shape[1] == 512);
    hl_npy_free(&a);
    free(want);
    hl_params_free(&m.p);
}

Test(embed, mixed_sizes_need_image_size) {
    const int sizes[] = {16, 16, 20, 16};
    write_images(4, 3, 0, 0, sizes);
    int rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "list.txt:3") && strstr(cli_err, "img/2.png") && strstr(cli_err, "--image-size"),
              "%s", cli_err);
    cr_assert(access(P("f.npy"), F_OK) != 0, "nothing is written on failure");
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"),
                 "--image-size", "16", "--quiet", NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
}

Test(embed, errors) {
    write_images(3, 3, 16, 16, NULL);
    /* a missing image: list, line and path */
    FILE *f = fopen(P("missing.txt"), "w");
    fprintf(f, "img/0.png\nimg/1.png\nimg/nope.png\n");
    fclose(f);
    int rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("missing.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "missing.txt:3") && strstr(cli_err, "nope.png"), "%s", cli_err);
    cr_assert(access(P("f.npy"), F_OK) != 0);
    /* a malformed list: a label that is not 0/1 (e.g. a path with a space), and an inconsistent label count */
    f = fopen(P("bad.txt"), "w");
    fprintf(f, "img/0.png 0 1\nmy image.png 1\n");
    fclose(f);
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("bad.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "bad.txt:2") && strstr(cli_err, "'image.png'"), "%s", cli_err);
    f = fopen(P("bad2.txt"), "w");
    fprintf(f, "img/0.png\nimg/1.png 1 0\n");
    fclose(f);
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("bad2.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "bad2.txt:2") && strstr(cli_err, "2 labels, expected 0"), "%s", cli_err);
    f = fopen(P("empty.txt"), "w");
    fclose(f);
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("empty.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "no images listed"), "%s", cli_err);
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("absent.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "absent.txt"), "%s", cli_err);
    /* unknown backbone: the known names */
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-smal", "--images", P("list.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "unknown backbone 'cnn-smal'") && strstr(cli_err, "cnn-small"), "%s", cli_err);
    /* unknown layer: usage, with the known layers */
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"), "--layer",
                 "fc8", NULL);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(cli_err, "unknown layer 'fc8' (known layers: features)"), "%s", cli_err);
    /* weights of another shape (a 1-channel model for RGB images): both shapes named, nothing written */
    model m;
    make_model(&m, "backbone", "cnn-small", 1, 16, 16, 1);
    cr_assert_eq(hl_checkpoint_save(P("w1.safetensors"), &m.p, NULL), HL_OK);
    hl_params_free(&m.p);
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"), "--weights",
                 P("w1.safetensors"), NULL);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(cli_err, "conv1.weight") && strstr(cli_err, "w1.safetensors"), "%s", cli_err);
    cr_assert(access(P("f.npy"), F_OK) != 0);
    /* an output folder that does not exist */
    rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("no/such/f.npy"),
                 NULL);
    cr_assert_eq(rc, 1);
    /* usage */
    cr_assert_eq(cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), NULL), 2);
    cr_assert(strstr(cli_err, "missing --out"), "%s", cli_err);
    cr_assert_eq(cli_run(hl_cmd_embed, "--images", P("list.txt"), "--out", P("f.npy"), NULL), 2);
    cr_assert_eq(cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"),
                         "--image-size", "0", NULL), 2);
    cr_assert_eq(cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"),
                         "--image-size", "12x", NULL), 2);
    cr_assert_eq(cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"),
                         "--channels", "2", NULL), 2);
    cr_assert_eq(cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"),
                         "--batch", "0", NULL), 2);
    cr_assert_eq(cli_run(hl_cmd_embed, "--bogus", "1", NULL), 2);
    cr_assert(strstr(cli_err, "unknown option '--bogus'"), "%s", cli_err);
    cr_assert_eq(cli_run(hl_cmd_embed, "--help", NULL), 0);
    cr_assert(strstr(cli_out, "usage: hashlab embed"));
    cr_assert(access(P("f.npy"), F_OK) != 0);
}

/* The streamed reader gives the dataset loader's pixels (value / 255), range by range; labels as listed. */
Test(embed, image_stream_matches_dataset_loader) {
    write_images(6, 3, 16, 16, NULL);
    hl_dataset d;
    cr_assert_eq(hl_dataset_load_image_list(&d, P("list.txt"), NULL, 12, 3), HL_OK, "%s", hl_error_last());
    hl_image_stream *s;
    cr_assert_eq(hl_image_stream_open(&s, P("list.txt"), NULL), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_image_stream_count(s), 6);
    cr_assert_eq(hl_image_stream_nlabels(s), 3);
    cr_assert_str_eq(hl_image_stream_path(s, 4), "img/4.png");
    cr_assert_eq(hl_image_stream_line(s, 4), 5);
    int c, h, w;
    cr_assert_eq(hl_image_stream_probe(s, 0, &c, &h, &w), HL_OK);
    cr_assert(c == 3 && h == 16 && w == 16);
    const int64_t D = 3 * 12 * 12;
    float *x = malloc(4 * D * sizeof *x), *want = malloc(4 * D * sizeof *want);
    int64_t idx[4] = {2, 3, 4, 5};
    cr_assert_eq(hl_image_stream_read(s, 2, 4, 3, 12, 12, false, x), HL_OK, "%s", hl_error_last());
    hl_dataset_read(&d, idx, 4, want);
    cr_assert_eq(memcmp(x, want, 4 * D * sizeof *x), 0, "streamed pixels differ from the dataset loader's");
    cr_assert_eq(hl_image_stream_read(s, 0, 1, 3, 12, 12, true, x), HL_EMISMATCH, "exact refuses another size");
    hl_labels l;
    cr_assert_eq(hl_image_stream_labels(s, &l), HL_OK);
    for (int64_t i = 0; i < 6; i++)
        for (int k = 0; k < 3; k++) cr_assert_eq(hl_labels_has(&l, i, k), hl_labels_has(&d.labels, i, k));
    hl_labels_free(&l);
    hl_image_stream_free(s);
    /* the suite loader still requires labels */
    hl_dataset_free(&d);
    cr_assert_eq(hl_dataset_load_image_list(&d, P("paths.txt"), NULL, 12, 3), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "no labels after the path"), "%s", hl_error_last());
    free(x);
    free(want);
}

Test(embed, npy_writer_in_pieces) {
    dir = hl_test_tmpdir();
    float v[12];
    for (int i = 0; i < 12; i++) v[i] = (float)i - 3.5f;
    hl_npy_writer w;
    cr_assert_eq(hl_npy_write_begin(&w, P("a.npy"), HL_NPY_F32, 2, HL_SHAPE(4, 3)), HL_OK);
    cr_assert_eq(hl_npy_write_append(&w, v, 5 * sizeof(float)), HL_OK);
    cr_assert(access(P("a.npy"), F_OK) != 0, "not visible before commit");
    cr_assert_eq(hl_npy_write_append(&w, v + 5, 7 * sizeof(float)), HL_OK);
    cr_assert_eq(hl_npy_write_commit(&w), HL_OK);
    hl_npy a;
    cr_assert_eq(hl_npy_read(P("a.npy"), &a), HL_OK, "%s", hl_error_last());
    cr_assert(a.ndim == 2 && a.shape[0] == 4 && a.shape[1] == 3 && !memcmp(a.data, v, sizeof v));
    hl_npy_free(&a);
    /* abort leaves nothing */
    cr_assert_eq(hl_npy_write_begin(&w, P("b.npy"), HL_NPY_F32, 1, HL_SHAPE(2)), HL_OK);
    hl_npy_write_abort(&w);
    cr_assert(access(P("b.npy"), F_OK) != 0);
}

/* A stop request (Ctrl-C: core/job.h) ends the pass before the next batch: exit 130, nothing written. */
Test(embed, interrupted_writes_nothing) {
    write_images(3, 3, 16, 16, NULL);
    hl_job_request_stop();
    int rc = cli_run(hl_cmd_embed, "--backbone", "cnn-small", "--images", P("list.txt"), "--out", P("f.npy"),
                     "--batch", "1", NULL);
    hl_job_clear_stop();
    cr_assert_eq(rc, 130, "%s", cli_err);
    cr_assert(strstr(cli_err, "interrupted: nothing written"), "%s", cli_err);
    cr_assert(access(P("f.npy"), F_OK) != 0);
    /* the built binary knows both commands */
    const char *bin = HL_BUILD_DIR "/hashlab";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' help | grep -q '^  embed ' && '%s' help | grep -q '^  encode ' && "
             "'%s' embed --backbone cnn-small --images '%s' --out '%s' --quiet", bin, bin, bin, P("list.txt"),
             P("b.npy"));
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status %d", cmd, st);
    hl_npy a;
    cr_assert_eq(hl_npy_read(P("b.npy"), &a), HL_OK, "%s", hl_error_last());
    cr_assert(a.shape[0] == 3 && a.shape[1] == 512);
    hl_npy_free(&a);
}

/* An ImageNet backbone takes 224 x 224 RGB by default: gray 40 x 40 images are replicated and resized. */
Test(embed, imagenet_backbone_defaults_to_224_rgb) {
    write_images(2, 1, 40, 40, NULL);
    model m;
    make_model(&m, "backbone", "resnet18", 3, 224, 224, 5);
    cr_assert_eq(hl_checkpoint_save(P("w.safetensors"), &m.p, NULL), HL_OK, "%s", hl_error_last());
    int64_t n;
    float *want = direct(&m, P("list.txt"), 3, 224, &n);
    int rc = cli_run(hl_cmd_embed, "--backbone", "resnet18", "--weights", P("w.safetensors"), "--images",
                     P("list.txt"), "--out", P("f.npy"), NULL);
    cr_assert_eq(rc, 0, "%s", cli_err);
    cr_assert(strstr(cli_err, "3x224x224"), "%s", cli_err);
    assert_features(P("f.npy"), want, n, 512);
    free(want);
    hl_params_free(&m.p);
}
