/* lab/cmd_embed.c — `hashlab embed`: a backbone's features (core/nn/backbone.h, the layer a hashing layer replaces)
 * for every image of an image list, as float32 [n, F] .npy written atomically. Exit 0 on success, 1 when the work
 * fails (message from hl_error_last()), 2 on bad usage, 130 when interrupted (nothing is written then). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/io/npy.h"
#include "core/kernels.h"
#include "core/nn/backbone.h"
#include "eval/codes_io.h"
#include "lab/commands.h"
#include "lab/list_pass.h"
#include "lab/runner.h"

static const char embed_usage[] =
    "usage: hashlab embed --backbone NAME --images LIST --out F.npy [--weights FILE.safetensors] [--layer features]\n"
    "                     [--image-size S|HxW] [--channels 1|3] [--root DIR] [--batch B] [--threads T]\n"
    "                     [--device cpu|cuda|shadow] [--seed S] [--labels-out L.npy] [--quiet]\n"
    "  writes the backbone's features of every listed image as float32 (n, F) .npy, in list order\n"
    "  LIST: one image per line, \"relative/path.jpg [l1 ... lL]\" (labels optional; paths relative to --root, else\n"
    "        to the list's folder); PNG or JPEG\n"
    "  --layer features (the default and only layer): the backbone's output, the layer a hashing layer replaces\n"
    "        (pooled output for ResNets, fc7 for AlexNet/VGG, the last hidden layer of the small CNNs)\n"
    "  --weights: safetensors with the backbone's tensors, named as PyTorch's state_dict (\"conv1.weight\") or\n"
    "        under \"backbone.\" (a hashlab model.safetensors); without it, a random initialisation from --seed\n"
    "  --image-size: images are resized to it (default 224 for the ImageNet backbones, else the first image's own\n"
    "        size, and images of other sizes are refused); --channels: default 3 for the ImageNet backbones, else\n"
    "        the first image's (1 for gray, 3 for colour)\n"
    "  --labels-out: the list's labels as uint8 multi-hot (n, L) .npy, for `hashlab score`\n"
    "  --batch: images per forward (default: 256 of 3x32x32 or as many values, e.g. 5 at 3x224x224; memory grows\n"
    "        with it); an image's features do not depend on it\n"
    "  defaults: --device cpu --seed 0; eval mode (batch norm running statistics, no dropout)\n";

/* The ImageNet backbones take 224 × 224 RGB by default (torchvision's convention); the others the data's own. */
static bool imagenet_backbone(const char *name) {
    static const char *const names[] = {"alexnet", "vgg11", "vgg16", "resnet18", "resnet50"};
    for (size_t i = 0; i < HL_ARRAY_LEN(names); i++)
        if (!strcmp(name, names[i])) return true;
    return false;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "hashlab embed: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n%s", embed_usage);
    return 2;
}

typedef struct embed_state {
    hl_ctx *ctx;
    const hl_backbone *bb;
    hl_npy_writer *w;
    float *host; /* [batch, F] */
} embed_state;

static hl_status embed_batch(void *user, const float *x, int64_t first, int64_t b) {
    (void)first;
    embed_state *e = user;
    const hl_backbone *bb = e->bb;
    hl_ctx_reset(e->ctx);
    hl_no_grad_begin(e->ctx);
    hl_tensor *xt = hl_tensor_from(e->ctx, 4, HL_SHAPE(b, bb->c, bb->h, bb->w), x);
    hl_tensor *f = hl_backbone_forward(e->ctx, bb, xt);
    hl_no_grad_end(e->ctx);
    e->ctx->k->base->to_host(b * bb->features, f->data, e->host);
    hl_ctx_reset(e->ctx);
    return hl_npy_write_append(e->w, e->host, (size_t)b * (size_t)bb->features * sizeof(float));
}

int hl_cmd_embed(int argc, char **argv) {
    const char *backbone = NULL, *weights = NULL, *images = NULL, *out = NULL, *layer = "features", *root = NULL,
               *size = NULL, *labels_out = NULL;
    long long batch = 0, threads = 0, channels = 0, seed = 0;
    hl_device dev = HL_DEVICE_CPU;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s", embed_usage);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            quiet = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) return usage_error("unexpected argument '%s'", a);
        if (!v) return usage_error("%s needs a value", a);
        i++;
        if (!strcmp(a, "--backbone")) backbone = v;
        else if (!strcmp(a, "--weights")) weights = v;
        else if (!strcmp(a, "--images")) images = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--layer")) layer = v;
        else if (!strcmp(a, "--root")) root = v;
        else if (!strcmp(a, "--image-size")) size = v;
        else if (!strcmp(a, "--labels-out")) labels_out = v;
        else if (!strcmp(a, "--batch")) { if ((batch = hl_cli_parse_int(a, v, 1, 65536)) < 0) return 2; }
        else if (!strcmp(a, "--threads")) { if ((threads = hl_cli_parse_int(a, v, 1, 1024)) < 0) return 2; }
        else if (!strcmp(a, "--seed")) { if ((seed = hl_cli_parse_int(a, v, 0, INT64_MAX)) < 0) return 2; }
        else if (!strcmp(a, "--channels")) {
            if (strcmp(v, "1") && strcmp(v, "3")) return usage_error("--channels must be 1 or 3, got '%s'", v);
            channels = atoi(v);
        } else if (!strcmp(a, "--device")) {
            if ((dev = hl_device_from_name(v)) == HL_DEVICE_COUNT)
                return usage_error("--device must be cpu, cuda or shadow, got '%s'", v);
        } else
            return usage_error("unknown option '%s'", a);
    }
    if (!backbone || !images || !out)
        return usage_error("missing %s", !backbone ? "--backbone" : !images ? "--images" : "--out");
    if (strcmp(layer, "features") != 0)
        return usage_error("unknown layer '%s' (known layers: features)", layer);
    int h = 0, w = 0;
    if (size && !hl_list_pass_parse_size(size, &h, &w))
        return usage_error("--image-size needs S or HxW with sides in [1, 4096], got '%s'", size);
    if (threads > 0) hl_threads_set((int)threads);

    int rc = 1;
    hl_status st = HL_OK;
    hl_image_stream *s = NULL;
    hl_params p;
    hl_backbone bb;
    hl_ctx *ctx = NULL;
    hl_npy_writer wr = {0};
    bool writing = false;
    float *host = NULL;
    hl_labels lab = {0};
    hl_params_init(&p);
    HL_TRY(hl_image_stream_open(&s, images, root));
    if (labels_out && hl_image_stream_nlabels(s) == 0)
        HL_TRY(hl_error_set(HL_EINVAL, "%s: --labels-out, but the list has no labels (only paths)", images));
    const int64_t n = hl_image_stream_count(s);
    int c = (int)channels;
    bool exact = false;
    if (imagenet_backbone(backbone)) {
        if (!c) c = 3;
        if (!size) h = w = 224;
    } else if (!c || !size) {
        int c0, h0, w0;
        HL_TRY(hl_image_stream_probe(s, 0, &c0, &h0, &w0));
        if (!c) c = c0;
        if (!size) h = h0, w = w0, exact = true;
    }
    HL_TRY(hl_backbone_init(&bb, &p, "backbone", backbone, c, h, w));
    hl_params_set_device(&p, dev); /* the weights live where the network runs */
    HL_TRY(hl_params_alloc(&p));
    hl_rng r = hl_rng_make((uint64_t)seed, 7);
    hl_backbone_reset(&bb, &r);
    int copied = 0;
    if (weights) HL_TRY(hl_backbone_load_weights(&bb, &p, weights, &copied));
    else if (!quiet)
        fprintf(stderr, "hashlab embed: no --weights: features of a randomly initialised %s (seed %lld)\n", backbone,
                seed);
    HL_TRY(hl_ctx_create(&ctx, dev, 0));
    hl_ctx_set_train(ctx, false);
    hl_ctx_set_batch_invariant(ctx, true);
    if (!batch) batch = hl_list_pass_default_batch(c, h, w);
    const int64_t B = HL_MIN(batch, n), F = bb.features;
    if (!(host = malloc((size_t)B * (size_t)F * sizeof *host)))
        HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for a batch of %lld feature rows", (long long)B));
    HL_TRY(hl_npy_write_begin(&wr, out, HL_NPY_F32, 2, HL_SHAPE(n, F)));
    writing = true;
    hl_run_install_signals(); /* Ctrl-C: stop after the current batch, write nothing */
    char label[96];
    snprintf(label, sizeof label, "embed %s", backbone);
    embed_state es = {.ctx = ctx, .bb = &bb, .w = &wr, .host = host};
    hl_list_pass_opts po = {.c = c, .h = h, .w = w, .exact = exact, .batch = (int)B, .label = label, .quiet = quiet};
    st = hl_list_pass(s, &po, embed_batch, &es);
    if (st < 0) goto done;
    writing = false;
    HL_TRY(hl_npy_write_commit(&wr));
    if (labels_out) {
        HL_TRY(hl_image_stream_labels(s, &lab));
        HL_TRY(hl_labels_npy_write(labels_out, &lab));
    }
    if (!quiet)
        fprintf(stderr, "hashlab embed: %lld images -> %s: float32 (%lld, %lld), %s features of %dx%dx%d inputs%s%s\n",
                (long long)n, out, (long long)n, (long long)F, backbone, c, h, w, weights ? ", weights " : "",
                weights ? weights : "");
    rc = 0;
done:
    if (writing) hl_npy_write_abort(&wr);
    if (rc) {
        if (st == HL_EINTR) {
            fprintf(stderr, "hashlab embed: interrupted: nothing written\n");
            rc = 130;
        } else {
            fprintf(stderr, "hashlab embed: %s\n", hl_error_last());
        }
    }
    free(host);
    hl_labels_free(&lab);
    hl_ctx_free(ctx);
    hl_params_free(&p);
    hl_image_stream_free(s);
    return rc;
}
