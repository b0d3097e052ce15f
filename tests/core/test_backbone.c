/* tests/core/test_backbone.c — core/nn/backbone.h: output shapes for 1×28×28, 3×32×32 and 1×8×8 inputs, PyTorch
 * state_dict names, gradients reaching every parameter, pretrained-weight loading (with and without the prefix,
 * F16 conversion, shape mismatch and missing tensors leave the model unchanged). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/checkpoint.h"
#include "core/nn/backbone.h"
#include "test_common.h"

static const char *const kinds[] = {"cnn-small", "cnn-medium", "resnet-small"};
static const int feats[] = {512, 512, 128};

typedef struct model {
    hl_params p;
    hl_backbone bb;
} model;

static void make(model *m, const char *prefix, const char *kind, int c, int h, int w, uint64_t seed) {
    hl_params_init(&m->p);
    cr_assert_eq(hl_backbone_init(&m->bb, &m->p, prefix, kind, c, h, w), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_params_alloc(&m->p), HL_OK, "%s", hl_error_last());
    hl_rng r = hl_rng_make(seed, 7);
    hl_backbone_reset(&m->bb, &r);
}

static hl_tensor *input(hl_ctx *ctx, int B, int c, int h, int w, uint64_t seed) {
    hl_tensor *x = hl_tensor_new(ctx, 4, HL_SHAPE(B, c, h, w));
    hl_rng r = hl_rng_make(seed, 3);
    hl_rng_uniform(&r, x->data, hl_tensor_numel(x), 0.0f, 1.0f);
    return x;
}

Test(backbone, output_shapes_every_kind_and_size) {
    static const int sizes[][3] = {{1, 28, 28}, {3, 32, 32}, {1, 8, 8}, {3, 9, 13}};
    hl_ctx *ctx = hl_test_ctx();
    for (int k = 0; k < 3; k++) {
        for (int s = 0; s < 4; s++) {
            model m;
            make(&m, "backbone", kinds[k], sizes[s][0], sizes[s][1], sizes[s][2], 1);
            cr_assert_eq(m.bb.features, feats[k]);
            for (int train = 0; train <= 1; train++) {
                hl_ctx_reset(ctx);
                hl_ctx_set_train(ctx, train);
                hl_tensor *f = hl_backbone_forward(ctx, &m.bb, input(ctx, 3, sizes[s][0], sizes[s][1], sizes[s][2], 2));
                cr_assert(f->ndim == 2 && f->shape[0] == 3 && f->shape[1] == feats[k], "%s %dx%dx%d", kinds[k],
                          sizes[s][0], sizes[s][1], sizes[s][2]);
                for (int64_t i = 0; i < hl_tensor_numel(f); i++) cr_assert(isfinite(f->data[i]));
            }
            hl_params_free(&m.p);
        }
    }
    hl_ctx_free(ctx);
}

/* The split forward (backbone.h) runs the full forward's ops: equal bit for bit after every splittable stage, in
 * eval and train mode (batch statistics; cnn-medium's dropout draws from the same ctx seed), with the feature map
 * of the documented shape; the last stage and the ImageNet kinds do not split. */
Test(backbone, split_forward_equals_forward_bit_for_bit) {
    static const int maps[3][3][3] = {{{32, 14, 14}, {64, 7, 7}, {128, 3, 3}},
                                      {{32, 14, 14}, {64, 7, 7}, {128, 3, 3}},
                                      {{32, 28, 28}, {32, 28, 28}, {64, 14, 14}}};
    hl_ctx *ctx = hl_test_ctx();
    for (int k = 0; k < 3; k++) {
        model m;
        make(&m, "backbone", kinds[k], 1, 28, 28, 4);
        for (int train = 0; train <= 1; train++) {
            hl_ctx_reset(ctx);
            hl_ctx_set_train(ctx, train);
            hl_ctx_set_seed(ctx, 11);
            hl_tensor *x = input(ctx, 3, 1, 28, 28, 5);
            const float *f = hl_backbone_forward(ctx, &m.bb, x)->data;
            for (int s = 0; s < 3; s++) {
                cr_assert(hl_backbone_splits(m.bb.kind, s));
                hl_ctx_set_seed(ctx, 11);
                hl_tensor *h = hl_backbone_forward_to(ctx, &m.bb, x, s);
                int shape[3];
                hl_backbone_map_shape(&m.bb, s, shape);
                cr_assert(h->ndim == 4 && h->shape[0] == 3 && h->shape[1] == maps[k][s][0] &&
                              h->shape[2] == maps[k][s][1] && h->shape[3] == maps[k][s][2],
                          "%s after stage %d", kinds[k], s);
                cr_assert(shape[0] == maps[k][s][0] && shape[1] == maps[k][s][1] && shape[2] == maps[k][s][2]);
                hl_tensor *g = hl_backbone_forward_from(ctx, &m.bb, h, s);
                cr_assert_eq(memcmp(g->data, f, (size_t)hl_tensor_numel(g) * sizeof *f), 0,
                             "%s split after %d, train %d", kinds[k], s, train);
            }
        }
        cr_assert_not(hl_backbone_splits(m.bb.kind, 3));
        cr_assert_not(hl_backbone_splits(m.bb.kind, -1));
        hl_params_free(&m.p);
        make(&m, "backbone", kinds[k], 3, 9, 13, 4); /* odd sizes: floors (max pool) and ceilings (stride 2) */
        hl_ctx_reset(ctx);
        hl_ctx_set_train(ctx, 0);
        hl_tensor *x = input(ctx, 2, 3, 9, 13, 6);
        for (int s = 0; s < 3; s++) {
            int shape[3];
            hl_backbone_map_shape(&m.bb, s, shape);
            hl_tensor *h = hl_backbone_forward_to(ctx, &m.bb, x, s);
            cr_assert(shape[0] == h->shape[1] && shape[1] == h->shape[2] && shape[2] == h->shape[3],
                      "%s 9x13 after stage %d", kinds[k], s);
            cr_assert_eq(hl_backbone_forward_from(ctx, &m.bb, h, s)->shape[1], feats[k]);
        }
        hl_params_free(&m.p);
    }
    cr_assert_not(hl_backbone_splits(HL_BACKBONE_RESNET18, 0));
    cr_assert_not(hl_backbone_splits(HL_BACKBONE_VGG11, 0));
    hl_ctx_free(ctx);
}

Test(backbone, unknown_name_and_small_input_are_errors) {
    hl_params p;
    hl_backbone bb;
    hl_params_init(&p);
    cr_assert_eq(hl_backbone_init(&bb, &p, "backbone", "cnn-smal", 1, 28, 28), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "cnn-smal") && strstr(hl_error_last(), HL_BACKBONE_NAMES), "%s",
              hl_error_last());
    cr_assert_eq(hl_backbone_init(&bb, &p, "backbone", "cnn-small", 1, 7, 28), HL_EINVAL);
    cr_assert_eq(hl_backbone_kind_from_name("resnet-small"), HL_BACKBONE_RESNET_SMALL);
    cr_assert_eq(hl_backbone_kind_from_name("vgg"), HL_BACKBONE_KIND_COUNT);
    cr_assert_eq(hl_params_count(&p), 0);
    hl_params_free(&p);
}

Test(backbone, pytorch_state_dict_names) {
    model a, b, c;
    make(&a, "backbone", "cnn-small", 1, 28, 28, 1);
    cr_assert_eq(hl_params_count(&a.p), 10); /* 3 convs and fc1 (weight, bias) + bn_fc1 (weight, bias) */
    cr_assert_eq(hl_params_buffer_count(&a.p), 2);
    const char *an[] = {"backbone.conv1.weight", "backbone.conv1.bias", "backbone.conv3.weight", "backbone.fc1.bias",
                        "backbone.bn_fc1.weight", "backbone.bn_fc1.running_var"};
    for (int i = 0; i < 6; i++) cr_assert_not_null(hl_params_find(&a.p, an[i]), "%s", an[i]);
    hl_tensor *fc = hl_params_find(&a.p, "backbone.fc1.weight");
    cr_assert(fc->shape[0] == 512 && fc->shape[1] == 128 * 3 * 3);
    cr_assert_eq(hl_params_numel(&a.p), 32 * 9 + 32 + 64 * 32 * 9 + 64 + 128 * 64 * 9 + 128 + 512 * 1152 + 512 + 2 * 512);

    make(&b, "backbone", "cnn-medium", 3, 32, 32, 1);
    cr_assert_eq(hl_params_count(&b.p), 6 * 2 + 6 * 2 + 2 + 2); /* convs, bns, fc1, bn_fc1 */
    cr_assert_eq(hl_params_buffer_count(&b.p), 14);
    const char *bn[] = {"backbone.conv1_1.weight", "backbone.bn1_2.bias", "backbone.conv3_2.weight",
                        "backbone.bn3_2.running_var", "backbone.fc1.weight", "backbone.bn_fc1.running_mean"};
    for (int i = 0; i < 6; i++) cr_assert_not_null(hl_params_find(&b.p, bn[i]), "%s", bn[i]);
    cr_assert_eq(hl_params_find(&b.p, "backbone.fc1.weight")->shape[1], 128 * 4 * 4);

    make(&c, "", "resnet-small", 3, 32, 32, 1);
    cr_assert_eq(c.bb.nconv, 15);
    cr_assert_eq(c.bb.nbn, 15);
    const char *cn[] = {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.1.bn2.bias",
                        "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "layer3.1.conv2.weight",
                        "layer3.0.downsample.1.weight"};
    for (int i = 0; i < 8; i++) cr_assert_not_null(hl_params_find(&c.p, cn[i]), "%s", cn[i]);
    cr_assert_null(hl_params_find(&c.p, "conv1.bias"), "torchvision's ResNet convolutions have no bias");
    cr_assert_null(hl_params_find(&c.p, "layer1.0.downsample.0.weight"));
    cr_assert_null(hl_params_find(&c.p, "layer2.1.downsample.0.weight"));
    hl_tensor *d = hl_params_find(&c.p, "layer3.0.downsample.0.weight");
    cr_assert(d->shape[0] == 128 && d->shape[1] == 64 && d->shape[2] == 1 && d->shape[3] == 1);
    hl_params_free(&a.p), hl_params_free(&b.p), hl_params_free(&c.p);
}

/* Largest |grad| of parameter i. */
static float grad_max(const hl_params *p, int i) {
    const hl_tensor *t = hl_params_at(p, i);
    float mx = 0;
    for (int64_t j = 0; j < hl_tensor_numel(t); j++) mx = fmaxf(mx, fabsf(t->grad[j]));
    return mx;
}

/* In eval mode every parameter gets a gradient; in train mode too, except the biases of convolutions right before a
 * batch norm (batch statistics remove a per-channel constant: their gradient is exactly 0 in PyTorch as well). */
Test(backbone, gradient_reaches_every_parameter) {
    hl_ctx *ctx = hl_test_ctx();
    for (int k = 0; k < 3; k++) {
        for (int train = 0; train <= 1; train++) {
            model m;
            make(&m, "backbone", kinds[k], 1, 16, 16, 5);
            hl_ctx_reset(ctx);
            hl_ctx_set_train(ctx, train);
            hl_params_zero_grad(&m.p);
            hl_tensor *f = hl_backbone_forward(ctx, &m.bb, input(ctx, 4, 1, 16, 16, 6));
            int64_t n = hl_tensor_numel(f);
            float *seed = malloc((size_t)n * sizeof *seed);
            hl_rng r = hl_rng_make(9, 1);
            hl_rng_uniform(&r, seed, n, -1.0f, 1.0f);
            hl_backward_seed(ctx, f, seed);
            free(seed);
            for (int i = 0; i < hl_params_count(&m.p); i++) {
                const char *name = hl_params_name(&m.p, i);
                bool pre_bn_bias = train && k == 1 && strstr(name, ".conv") && strstr(name, ".bias");
                if (pre_bn_bias) continue;
                cr_assert(grad_max(&m.p, i) > 1e-7f, "%s (%s): no gradient reaches %s", kinds[k],
                          train ? "train" : "eval", name);
            }
            hl_params_free(&m.p);
        }
    }
    hl_ctx_free(ctx);
}

/* Every parameter and buffer of src equals dst's (same names). */
static bool same_values(const hl_params *a, const hl_params *b) {
    for (int i = 0; i < a->n_par + a->n_buf; i++) {
        const hl_params_entry *e = i < a->n_par ? &a->par[i] : &a->buf[i - a->n_par];
        const hl_tensor *t = hl_params_find(b, e->name);
        if (!t || memcmp(t->data, e->t->data, (size_t)hl_tensor_numel(t) * sizeof(float)) != 0) return false;
    }
    return true;
}

Test(backbone, load_weights_round_trip_with_and_without_prefix) {
    const char *dir = hl_test_tmpdir();
    for (int k = 0; k < 3; k++) {
        model src, bare, dst;
        make(&src, "backbone", kinds[k], 3, 32, 32, 1);
        /* batch-norm buffers get non-default values, so the round trip covers them */
        for (int i = 0; i < hl_params_buffer_count(&src.p); i++) {
            hl_tensor *t = hl_params_buffer_at(&src.p, i);
            for (int64_t j = 0; j < hl_tensor_numel(t); j++) t->data[j] = 0.5f + 0.01f * (float)j;
        }
        make(&bare, "", kinds[k], 3, 32, 32, 1);
        for (int i = 0; i < src.p.n_par + src.p.n_buf; i++) { /* same layers, names without the prefix */
            const hl_params_entry *a = i < src.p.n_par ? &src.p.par[i] : &src.p.buf[i - src.p.n_par];
            hl_tensor *t = hl_params_find(&bare.p, a->name + strlen("backbone."));
            cr_assert_not_null(t, "%s", a->name);
            memcpy(t->data, a->t->data, (size_t)hl_tensor_numel(t) * sizeof(float));
        }
        char *with = hl_test_path_alloc(dir, "with.safetensors");
        char *without = hl_test_path_alloc(dir, "without.safetensors");
        cr_assert_eq(hl_checkpoint_save(with, &src.p, NULL), HL_OK, "%s", hl_error_last());
        cr_assert_eq(hl_checkpoint_save(without, &bare.p, NULL), HL_OK, "%s", hl_error_last());
        int expect = hl_params_count(&src.p) + hl_params_buffer_count(&src.p);
        const char *files[] = {with, without};
        for (int f = 0; f < 2; f++) {
            make(&dst, "backbone", kinds[k], 3, 32, 32, 2);
            cr_assert(!same_values(&src.p, &dst.p));
            int copied = -1;
            cr_assert_eq(hl_backbone_load_weights(&dst.bb, &dst.p, files[f], &copied), HL_OK, "%s", hl_error_last());
            cr_assert_eq(copied, expect, "%s: %d of %d copied", kinds[k], copied, expect);
            cr_assert(same_values(&src.p, &dst.p), "%s: values differ after loading %s", kinds[k], files[f]);
            hl_params_free(&dst.p);
        }
        free(with), free(without);
        hl_params_free(&src.p), hl_params_free(&bare.p);
    }
}

/* A hash network's file (backbone + head) loads into the backbone: tensors it does not have are ignored. */
Test(backbone, load_weights_ignores_extra_tensors) {
    const char *dir = hl_test_tmpdir();
    model src, dst;
    hl_params_init(&src.p);
    cr_assert_eq(hl_backbone_init(&src.bb, &src.p, "backbone", "cnn-small", 1, 28, 28), HL_OK);
    hl_linear_layer head;
    hl_linear_layer_init(&head, &src.p, "head", 512, 16, true);
    cr_assert_eq(hl_params_alloc(&src.p), HL_OK);
    hl_rng r = hl_rng_make(3, 7);
    hl_backbone_reset(&src.bb, &r);
    hl_nn_init_default_linear(&head, &r);
    char *path = hl_test_path_alloc(dir, "net.safetensors");
    cr_assert_eq(hl_checkpoint_save(path, &src.p, NULL), HL_OK, "%s", hl_error_last());
    make(&dst, "backbone", "cnn-small", 1, 28, 28, 4);
    int copied = 0;
    cr_assert_eq(hl_backbone_load_weights(&dst.bb, &dst.p, path, &copied), HL_OK, "%s", hl_error_last());
    cr_assert_eq(copied, 12); /* 10 parameters + 2 batch-norm buffers */
    cr_assert(same_values(&dst.p, &src.p));
    free(path);
    hl_params_free(&src.p), hl_params_free(&dst.p);
}

Test(backbone, load_weights_mismatch_changes_nothing) {
    const char *dir = hl_test_tmpdir();
    model src, dst, ref;
    make(&src, "backbone", "cnn-small", 1, 28, 28, 1);
    char *path = hl_test_path_alloc(dir, "small28.safetensors");
    cr_assert_eq(hl_checkpoint_save(path, &src.p, NULL), HL_OK, "%s", hl_error_last());

    /* 32×32 input: fc1.weight is [512, 2048], the file's [512, 1152] */
    make(&dst, "backbone", "cnn-small", 1, 32, 32, 2);
    make(&ref, "backbone", "cnn-small", 1, 32, 32, 2);
    int copied = 7;
    cr_assert_eq(hl_backbone_load_weights(&dst.bb, &dst.p, path, &copied), HL_EMISMATCH);
    const char *msg = hl_error_last();
    cr_assert(strstr(msg, path) && strstr(msg, "fc1.weight") && strstr(msg, "[512, 1152]") &&
                  strstr(msg, "[512, 2048]"),
              "%s", msg);
    cr_assert_eq(copied, 0);
    cr_assert(same_values(&ref.p, &dst.p), "a failed load changed the model");
    hl_params_free(&dst.p), hl_params_free(&ref.p);

    /* cnn-medium needs tensors the file lacks */
    make(&dst, "backbone", "cnn-medium", 1, 28, 28, 2);
    make(&ref, "backbone", "cnn-medium", 1, 28, 28, 2);
    cr_assert_eq(hl_backbone_load_weights(&dst.bb, &dst.p, path, NULL), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "missing") && strstr(hl_error_last(), "backbone.conv1_1.weight"), "%s",
              hl_error_last());
    cr_assert(same_values(&ref.p, &dst.p));

    cr_assert_lt(hl_backbone_load_weights(&dst.bb, &dst.p, hl_test_path(dir, "absent.safetensors"), NULL), 0);
    free(path);
    hl_params_free(&src.p), hl_params_free(&dst.p), hl_params_free(&ref.p);
}

/* Writes a one-tensor safetensors file by hand with dtype F16 or BF16. */
static void write_16bit(const char *path, const char *dtype, const char *name, const int64_t *shape, int ndim,
                        const uint16_t *v, int64_t n) {
    char json[512], sh[128] = "";
    size_t k = 0;
    for (int i = 0; i < ndim; i++)
        k += (size_t)snprintf(sh + k, sizeof sh - k, "%s%lld", i ? "," : "", (long long)shape[i]);
    int len = snprintf(json, sizeof json, "{\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[0,%lld]}}", name,
                       dtype, sh, (long long)(2 * n));
    while (len % 8) json[len++] = ' ';
    json[len] = 0;
    size_t total = 8 + (size_t)len + (size_t)(2 * n);
    unsigned char *b = calloc(total, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)len >> (8 * i));
    memcpy(b + 8, json, (size_t)len);
    memcpy(b + 8 + len, v, (size_t)(2 * n));
    hl_test_write_file(path, b, total);
    free(b);
}

/* F16 and BF16 tensors are converted (a parameter set with only a linear layer under "backbone.fc1" plays the role
 * of a backbone whose other layers are absent: its prefix matches only that tensor). */
Test(backbone, load_weights_converts_f16_and_bf16) {
    const char *dir = hl_test_tmpdir();
    hl_params p;
    hl_params_init(&p);
    hl_backbone bb;
    memset(&bb, 0, sizeof bb);
    strcpy(bb.prefix, "backbone.fc1");
    hl_tensor *w = hl_params_add(&p, "backbone.fc1.weight", 2, HL_SHAPE(2, 2));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    /* F16: 1.0 = 0x3C00, −2.0 = 0xC000, 0.5 = 0x3800, 2^-24 (smallest subnormal) = 0x0001 */
    const uint16_t h[4] = {0x3C00, 0xC000, 0x3800, 0x0001};
    char *path = hl_test_path_alloc(dir, "h.safetensors");
    write_16bit(path, "F16", "weight", HL_SHAPE(2, 2), 2, h, 4); /* without the prefix */
    int copied = 0;
    cr_assert_eq(hl_backbone_load_weights(&bb, &p, path, &copied), HL_OK, "%s", hl_error_last());
    cr_assert_eq(copied, 1);
    const float want[4] = {1.0f, -2.0f, 0.5f, 5.9604645e-8f};
    hl_test_assert_close(w->data, want, 4, 0, 1e-6f, "F16");
    /* BF16: 1.5 = 0x3FC0, −0.25 = 0xBE80, 3.0 = 0x4040, 0 */
    const uint16_t bf[4] = {0x3FC0, 0xBE80, 0x4040, 0x0000};
    write_16bit(path, "BF16", "backbone.fc1.weight", HL_SHAPE(2, 2), 2, bf, 4);
    cr_assert_eq(hl_backbone_load_weights(&bb, &p, path, &copied), HL_OK, "%s", hl_error_last());
    const float want2[4] = {1.5f, -0.25f, 3.0f, 0.0f};
    hl_test_assert_close(w->data, want2, 4, 0, 0, "BF16");
    free(path);
    hl_params_free(&p);
}
