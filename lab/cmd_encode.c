/* lab/cmd_encode.c — `hashlab encode`: a trained hasher's codes (from a train cell's directory or a bare
 * model.safetensors, lab/model_open.h) for every image of an image list, in the formats `hashlab score` reads
 * (eval/codes_io.h), written atomically. Exit 0 on success, 1 when the work fails, 2 on bad usage, 130 when
 * interrupted (nothing is written then). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "eval/codes_io.h"
#include "lab/commands.h"
#include "lab/list_pass.h"
#include "lab/model_open.h"
#include "lab/plugin.h"
#include "lab/runner.h"

static const char encode_usage[] =
    "usage: hashlab encode --model CELL_DIR|MODEL.safetensors --images LIST --out CODES.npy\n"
    "                      [--format npy-int8|npy-packed] [--root DIR] [--image-size S|HxW] [--batch B]\n"
    "                      [--threads T] [--device cpu|cuda|shadow] [--plugin PATH]... [--labels-out L.npy] [--quiet]\n"
    "  writes a trained hasher's codes of every listed image, in list order, as `hashlab score` reads them:\n"
    "    npy-int8 (default): int8 (n, K) in {-1, +1}, like a cell's db_codes.npy / query_codes.npy\n"
    "    npy-packed: uint8 (n, ceil(K/8)), numpy.packbits order (score it with --packed-bits K)\n"
    "  --model: a train cell's directory (runs/SUITE/cells/KEY: result.json says the method, bits, params and input\n"
    "        shape) or a model.safetensors written by this hashlab (its metadata says the same)\n"
    "  LIST: one image per line, \"relative/path.jpg [l1 ... lL]\" (labels optional; paths relative to --root, else\n"
    "        to the list's folder); PNG or JPEG, converted to the model's channels and resized to its input size\n"
    "        (bilinear, antialiased when shrinking: as the dataset loader does); --image-size, if given, must be that\n"
    "        size\n"
    "  --plugin: a plugin's hasher (a .so or a directory of them; also $" HL_PLUGIN_ENV "); a cell in a run\n"
    "        directory loads the run's plugins itself\n"
    "  --labels-out: the list's labels as uint8 multi-hot (n, L) .npy, for `hashlab score`\n"
    "  --batch: images per forward (default: 256 of 3x32x32 or as many values, e.g. 5 at 3x224x224; memory grows\n"
    "        with it); an image's code does not depend on it\n"
    "  defaults: --format npy-int8 --device cpu; eval mode\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "hashlab encode: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n%s", encode_usage);
    return 2;
}

typedef struct encode_state {
    hl_hasher *h;
    hl_ctx *ctx;
    hl_codes *codes; /* [n, K] */
    int batch;
} encode_state;

static hl_status encode_batch(void *user, const float *x, int64_t first, int64_t b) {
    encode_state *e = user;
    hl_codes part = {0};
    hl_status st = hl_hasher_encode_images(&part, e->h, e->ctx, x, b, e->batch);
    if (st < 0) return st;
    memcpy(e->codes->w + first * e->codes->words, part.w, (size_t)b * (size_t)part.words * sizeof *part.w);
    hl_codes_free(&part);
    return HL_OK;
}

static int load_plugin(const char *path) {
    hl_config *node = hl_config_new(HL_CONFIG_SCALAR, path, "--plugin", 0, 0);
    hl_status st = node ? hl_plugins_load_config(node) : hl_error_set(HL_ENOMEM, "out of memory");
    hl_config_free(node);
    return st;
}

int hl_cmd_encode(int argc, char **argv) {
    const char *model = NULL, *images = NULL, *out = NULL, *root = NULL, *size = NULL, *labels_out = NULL;
    long long batch = 0, threads = 0;
    bool packed = false, quiet = false;
    hl_device dev = HL_DEVICE_CPU;
    const char *plugins[64];
    int nplugins = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s", encode_usage);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            quiet = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) return usage_error("unexpected argument '%s'", a);
        if (!v) return usage_error("%s needs a value", a);
        i++;
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--images")) images = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--root")) root = v;
        else if (!strcmp(a, "--image-size")) size = v;
        else if (!strcmp(a, "--labels-out")) labels_out = v;
        else if (!strcmp(a, "--batch")) { if ((batch = hl_cli_parse_int(a, v, 1, 65536)) < 0) return 2; }
        else if (!strcmp(a, "--threads")) { if ((threads = hl_cli_parse_int(a, v, 1, 1024)) < 0) return 2; }
        else if (!strcmp(a, "--format")) {
            if (!strcmp(v, "npy-int8")) packed = false;
            else if (!strcmp(v, "npy-packed")) packed = true;
            else return usage_error("--format must be npy-int8 or npy-packed, got '%s'", v);
        } else if (!strcmp(a, "--device")) {
            if ((dev = hl_device_from_name(v)) == HL_DEVICE_COUNT)
                return usage_error("--device must be cpu, cuda or shadow, got '%s'", v);
        } else if (!strcmp(a, "--plugin")) {
            if (nplugins == (int)HL_ARRAY_LEN(plugins)) return usage_error("too many --plugin options%s", "");
            plugins[nplugins++] = v;
        } else
            return usage_error("unknown option '%s'", a);
    }
    if (!model || !images || !out)
        return usage_error("missing %s", !model ? "--model" : !images ? "--images" : "--out");
    int sh = 0, sw = 0;
    if (size && !hl_list_pass_parse_size(size, &sh, &sw))
        return usage_error("--image-size needs S or HxW with sides in [1, 4096], got '%s'", size);
    if (threads > 0) hl_threads_set((int)threads);

    int rc = 1;
    hl_status st = HL_OK;
    hl_image_stream *s = NULL;
    hl_hasher *h = NULL;
    hl_hasher_spec spec = {0};
    hl_ctx *ctx = NULL;
    hl_codes codes = {0};
    hl_labels lab = {0};
    char ckpt[1200];
    for (int i = 0; i < nplugins; i++) HL_TRY(load_plugin(plugins[i]));
    HL_TRY(hl_plugins_load_env());
    HL_TRY(hl_model_open(&h, &spec, ckpt, sizeof ckpt, model, dev));
    const hl_dataset_info *in = &h->info;
    if (size && (sh != in->h || sw != in->w))
        HL_TRY(hl_error_set(HL_EINVAL, "%s takes %dx%d images (height x width); --image-size %s differs (images are "
                            "resized to the model's input size: leave --image-size out)", model, in->h, in->w, size));
    HL_TRY(hl_image_stream_open(&s, images, root));
    if (labels_out && hl_image_stream_nlabels(s) == 0)
        HL_TRY(hl_error_set(HL_EINVAL, "%s: --labels-out, but the list has no labels (only paths)", images));
    const int64_t n = hl_image_stream_count(s);
    if (!quiet) {
        int c0, h0, w0;
        HL_TRY(hl_image_stream_probe(s, 0, &c0, &h0, &w0));
        fprintf(stderr, "hashlab encode: %s %d-bit model (%s) takes %dx%dx%d images; ", h->cls->name, h->bits, ckpt,
                in->c, in->h, in->w);
        if (c0 == in->c && h0 == in->h && w0 == in->w) fprintf(stderr, "the first listed image has that shape\n");
        else fprintf(stderr, "listed images are converted and resized to it (the first is %dx%dx%d)\n", c0, h0, w0);
        if (h->cls->flags & HL_HASHER_FIT_DATABASE)
            fprintf(stderr, "hashlab encode: note: '%s' is asymmetric: a cell's database codes are the ones it learned "
                    "during its fit; these are its network's codes (as for queries)\n", h->cls->name);
    }
    HL_TRY(hl_ctx_create(&ctx, dev, 0));
    HL_TRY(hl_codes_create(&codes, n, h->bits));
    if (!batch) batch = hl_list_pass_default_batch(in->c, in->h, in->w);
    hl_run_install_signals(); /* Ctrl-C: stop after the current batch, write nothing */
    char label[96];
    snprintf(label, sizeof label, "encode %s/%db", h->cls->name, h->bits);
    encode_state es = {.h = h, .ctx = ctx, .codes = &codes, .batch = (int)batch};
    hl_list_pass_opts po = {.c = in->c, .h = in->h, .w = in->w, .batch = (int)HL_MIN(batch, n), .label = label,
                            .quiet = quiet};
    HL_TRY(hl_list_pass(s, &po, encode_batch, &es));
    HL_TRY(hl_codes_npy_write(out, &codes, packed));
    if (labels_out) {
        HL_TRY(hl_image_stream_labels(s, &lab));
        HL_TRY(hl_labels_npy_write(labels_out, &lab));
    }
    if (!quiet) {
        if (packed)
            fprintf(stderr, "hashlab encode: %lld images -> %s: uint8 (%lld, %d) packed %d-bit codes (score them with "
                    "--packed-bits %d)\n", (long long)n, out, (long long)n, (h->bits + 7) / 8, h->bits, h->bits);
        else
            fprintf(stderr, "hashlab encode: %lld images -> %s: int8 (%lld, %d) codes in {-1, +1}\n", (long long)n,
                    out, (long long)n, h->bits);
    }
    rc = 0;
done:
    if (rc) {
        if (st == HL_EINTR) {
            fprintf(stderr, "hashlab encode: interrupted: nothing written\n");
            rc = 130;
        } else {
            fprintf(stderr, "hashlab encode: %s\n", hl_error_last());
        }
    }
    hl_codes_free(&codes);
    hl_labels_free(&lab);
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_hasher_spec_free(&spec);
    hl_image_stream_free(s);
    return rc;
}
