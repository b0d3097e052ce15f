/* tests/core/test_backbone_imagenet.c — core/nn/backbone.h's ImageNet kinds (alexnet, vgg11, vgg16, resnet18,
 * resnet50): state_dict names, shapes and parameter counts against torchvision's (tests/data/torchvision/<name>.txt,
 * written from torchvision.models.<name>().state_dict()), output shapes on small inputs, too-small inputs refused,
 * the ImageNet normalisation and gray-to-RGB replication inside the forward, the input gradient (attacks), stages and
 * freezing, and loading a torchvision-style file (bare names, an `fc` the backbone does not declare). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/checkpoint.h"
#include "core/nn/backbone.h"
#include "core/optim.h"
#include "test_common.h"

typedef struct model {
    hl_params p;
    hl_backbone bb;
} model;

/* hl_backbone_reset draws ~10 M normals per second per thread (11 M for resnet18, 129 M for VGG-11), too slow for
 * tests that only need finite, non-degenerate activations: they get `quick` values from a 64-bit LCG instead,
 * weights U(−1/√fan_in, 1/√fan_in), biases 0.01, batch-norm weights 1 and biases 0. (reset: its own test.) */
static void quick_init(hl_params *p, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < hl_params_count(p); i++) {
        hl_tensor *t = hl_params_at(p, i);
        int64_t n = hl_tensor_numel(t);
        if (t->ndim < 2) {
            hl_tensor_fill(t, strstr(hl_params_name(p, i), "bn") || strstr(hl_params_name(p, i), "downsample.1")
                                  ? (strstr(hl_params_name(p, i), ".weight") ? 1.0f : 0.0f)
                                  : 0.01f);
            continue;
        }
        const float b = 1.0f / sqrtf((float)(n / t->shape[0]));
        for (int64_t j = 0; j < n; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            t->data[j] = b * ((float)(s >> 40) * (2.0f / 16777216.0f) - 1.0f);
        }
    }
}

static void make(model *m, const char *prefix, const char *kind, int c, int h, int w, uint64_t seed) {
    hl_params_init(&m->p);
    cr_assert_eq(hl_backbone_init(&m->bb, &m->p, prefix, kind, c, h, w), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_params_alloc(&m->p), HL_OK, "%s", hl_error_last());
    quick_init(&m->p, seed);
}

static hl_tensor *input(hl_ctx *ctx, int B, int c, int h, int w, uint64_t seed) {
    hl_tensor *x = hl_tensor_new(ctx, 4, HL_SHAPE(B, c, h, w));
    hl_rng r = hl_rng_make(seed, 3);
    hl_rng_uniform(&r, x->data, hl_tensor_numel(x), 0.0f, 1.0f);
    return x;
}

/* ---- torchvision's names -------------------------------------------------------------------------------------- */

typedef struct tv_entry {
    char name[96];
    int ndim;
    int64_t shape[4];
} tv_entry;

/* Reads tests/data/torchvision/<kind>.txt ("name d0,d1,..." per line, '#' comments). */
static int read_tv(const char *kind, tv_entry *e, int cap) {
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/torchvision/%s.txt", HL_TEST_DATA_DIR, kind);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        cr_assert_lt(n, cap);
        char dims[128] = "";
        cr_assert(sscanf(line, "%95s %127s", e[n].name, dims) >= 1, "%s: bad line %s", path, line);
        e[n].ndim = 0;
        for (char *t = strtok(dims, ","); t && dims[0]; t = strtok(NULL, ",")) e[n].shape[e[n].ndim++] = atoll(t);
        n++;
    }
    fclose(f);
    return n;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Entries of a torchvision state_dict the backbone does not declare: the last classifier layer, the ResNet's fc,
 * BatchNorm's num_batches_tracked. */
static bool tv_ignored(const char *name) {
    return !strncmp(name, "classifier.6.", 13) || !strncmp(name, "fc.", 3) || ends_with(name, "num_batches_tracked");
}

static bool tv_is_buffer(const char *name) { return ends_with(name, "running_mean") || ends_with(name, "running_var"); }

Test(backbone_imagenet, torchvision_names_shapes_and_parameter_counts) {
    /* torchvision's parameter counts without the last classifier layer / fc (11,689,512 − 513,000 for resnet18) */
    static const struct {
        const char *kind;
        int64_t params;
        int features;
    } want[] = {{"alexnet", 57003840, 4096},  {"vgg11", 128766336, 4096},  {"vgg16", 134260544, 4096},
                {"resnet18", 11176512, 512}, {"resnet50", 23508032, 2048}};
    tv_entry *tv = malloc(400 * sizeof *tv);
    for (size_t k = 0; k < HL_ARRAY_LEN(want); k++) {
        hl_params p; /* declared only: nothing allocated, so vgg16 costs nothing */
        hl_backbone bb;
        hl_params_init(&p);
        cr_assert_eq(hl_backbone_init(&bb, &p, "", want[k].kind, 3, 224, 224), HL_OK, "%s", hl_error_last());
        cr_assert_eq(bb.features, want[k].features, "%s", want[k].kind);
        cr_assert_eq(hl_params_numel(&p), want[k].params, "%s: %lld parameters", want[k].kind,
                     (long long)hl_params_numel(&p));
        int n = read_tv(want[k].kind, tv, 400), ip = 0, ib = 0;
        for (int i = 0; i < n; i++) { /* file order = ours, parameters and buffers each in their own order */
            if (tv_ignored(tv[i].name)) {
                cr_assert_null(hl_params_find(&p, tv[i].name), "%s: %s is declared", want[k].kind, tv[i].name);
                continue;
            }
            bool buf = tv_is_buffer(tv[i].name);
            cr_assert_lt(buf ? ib : ip, buf ? hl_params_buffer_count(&p) : hl_params_count(&p), "%s: %s missing",
                         want[k].kind, tv[i].name);
            const char *ours = buf ? hl_params_buffer_name(&p, ib) : hl_params_name(&p, ip);
            const hl_tensor *t = buf ? hl_params_buffer_at(&p, ib++) : hl_params_at(&p, ip++);
            cr_assert_str_eq(ours, tv[i].name, "%s: declaration order", want[k].kind);
            cr_assert_eq(t->ndim, tv[i].ndim, "%s: %s", want[k].kind, tv[i].name);
            for (int d = 0; d < t->ndim; d++) cr_assert_eq(t->shape[d], tv[i].shape[d], "%s: %s", want[k].kind, ours);
        }
        cr_assert_eq(ip, hl_params_count(&p), "%s: parameters torchvision does not have", want[k].kind);
        cr_assert_eq(ib, hl_params_buffer_count(&p), "%s: buffers torchvision does not have", want[k].kind);
        hl_params_free(&p);
    }
    free(tv);
}

/* torchvision's initialisation of a ResNet: conv weights N(0, 2/fan_out) (kaiming_normal, mode fan_out, relu),
 * batch norm weight 1 and bias 0, running statistics 0 and 1; the same seed gives the same values. */
Test(backbone_imagenet, reset_follows_torchvision) {
    model a, b;
    for (int k = 0; k < 2; k++) {
        model *m = k ? &b : &a;
        hl_params_init(&m->p);
        cr_assert_eq(hl_backbone_init(&m->bb, &m->p, "backbone", "resnet18", 3, 32, 32), HL_OK);
        cr_assert_eq(hl_params_alloc(&m->p), HL_OK);
        hl_rng r = hl_rng_make(5, 7);
        hl_backbone_reset(&m->bb, &r);
    }
    cr_assert_eq(memcmp(a.p.data, b.p.data, (size_t)a.p.slab_len * sizeof(float)), 0, "same seed, same values");
    static const struct {
        const char *name;
        double fan_out;
    } convs[] = {{"backbone.conv1.weight", 64 * 49}, {"backbone.layer3.0.conv2.weight", 256 * 9},
                 {"backbone.layer4.0.downsample.0.weight", 512}};
    for (size_t i = 0; i < HL_ARRAY_LEN(convs); i++) {
        const hl_tensor *t = hl_params_find(&a.p, convs[i].name);
        double s2 = 0, m = 0;
        int64_t n = hl_tensor_numel(t);
        for (int64_t j = 0; j < n; j++) m += t->data[j], s2 += (double)t->data[j] * t->data[j];
        double sd = sqrt(s2 / n), want = sqrt(2.0 / convs[i].fan_out);
        cr_assert(fabs(sd - want) < 0.05 * want && fabs(m / n) < 0.05 * want, "%s: std %g, want %g", convs[i].name,
                  sd, want);
    }
    const hl_tensor *w = hl_params_find(&a.p, "backbone.layer2.1.bn2.weight"),
                    *v = hl_params_find(&a.p, "backbone.layer2.1.bn2.running_var");
    for (int j = 0; j < 128; j++) cr_assert(w->data[j] == 1.0f && v->data[j] == 1.0f);
    hl_params_free(&a.p), hl_params_free(&b.p);
}

/* ---- forward ---------------------------------------------------------------------------------------------------- */

Test(backbone_imagenet, output_shapes_on_small_inputs) {
    static const struct {
        const char *kind;
        int c, h, w, f;
    } cases[] = {{"resnet18", 3, 32, 32, 512}, {"resnet18", 1, 28, 28, 512}, {"resnet50", 3, 32, 32, 2048},
                 {"alexnet", 3, 64, 64, 4096}, {"alexnet", 1, 63, 70, 4096}, {"vgg11", 3, 32, 32, 4096}};
    hl_ctx *ctx = hl_test_ctx();
    for (size_t k = 0; k < HL_ARRAY_LEN(cases); k++) {
        model m;
        make(&m, "backbone", cases[k].kind, cases[k].c, cases[k].h, cases[k].w, 1);
        for (int train = 0; train <= 1; train++) {
            hl_ctx_reset(ctx);
            hl_ctx_set_train(ctx, train);
            hl_tensor *f = hl_backbone_forward(ctx, &m.bb, input(ctx, 2, cases[k].c, cases[k].h, cases[k].w, 2));
            cr_assert(f->ndim == 2 && f->shape[0] == 2 && f->shape[1] == cases[k].f, "%s %dx%dx%d", cases[k].kind,
                      cases[k].c, cases[k].h, cases[k].w);
            double mx = 0;
            for (int64_t i = 0; i < hl_tensor_numel(f); i++) {
                cr_assert(isfinite(f->data[i]) && f->data[i] >= 0, "features are ReLU or pooled-ReLU outputs");
                mx = fmax(mx, f->data[i]);
            }
            cr_assert_gt(mx, 0, "%s: every feature is 0", cases[k].kind);
        }
        hl_params_free(&m.p);
    }
    hl_ctx_free(ctx);
}

Test(backbone_imagenet, too_small_inputs_are_refused_naming_the_minimum) {
    static const struct {
        const char *kind;
        int c, h, w;
        const char *needle;
    } bad[] = {{"alexnet", 3, 62, 224, "at least 63"}, {"alexnet", 3, 224, 32, "at least 63"},
               {"vgg11", 3, 31, 31, "at least 32"},   {"vgg16", 1, 32, 16, "at least 32"},
               {"resnet18", 3, 7, 32, "at least 8"},  {"resnet50", 2, 32, 32, "channels"},
               {"vgg16", 4, 224, 224, "channels"}};
    for (size_t k = 0; k < HL_ARRAY_LEN(bad); k++) {
        hl_params p;
        hl_backbone bb;
        hl_params_init(&p);
        cr_assert_eq(hl_backbone_init(&bb, &p, "backbone", bad[k].kind, bad[k].c, bad[k].h, bad[k].w), HL_EINVAL);
        cr_assert(strstr(hl_error_last(), bad[k].needle) && strstr(hl_error_last(), bad[k].kind), "%s",
                  hl_error_last());
        cr_assert_eq(hl_params_count(&p), 0, "nothing declared on error");
        hl_params_free(&p);
    }
    hl_params p;
    hl_backbone bb;
    hl_params_init(&p);
    cr_assert_eq(hl_backbone_init(&bb, &p, "backbone", "alexnet", 1, 63, 63), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_backbone_min_size(HL_BACKBONE_VGG16), 32);
    hl_params_free(&p);
}

/* Eval-mode features of x (host floats [B, C, H, W]) into a fresh array. */
static float *features(hl_ctx *ctx, const model *m, int B, int c, int h, int w, const float *x) {
    hl_ctx_reset(ctx);
    hl_ctx_set_train(ctx, false);
    hl_tensor *f = hl_backbone_forward(ctx, &m->bb, hl_tensor_from(ctx, 4, HL_SHAPE(B, c, h, w), x));
    float *out = malloc((size_t)hl_tensor_numel(f) * sizeof *out);
    memcpy(out, f->data, (size_t)hl_tensor_numel(f) * sizeof *out);
    return out;
}

static double max_abs_diff(const float *a, const float *b, int64_t n) {
    double d = 0;
    for (int64_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

/* The forward normalises with ImageNet's mean/std: an image equal to the mean is all-zero after it, so conv1 sees
 * zeros and its weights cannot matter; an image mean_c + t·std_c is the constant t in every channel after it, so
 * swapping conv1's input channels cannot matter. On a random image both changes do. A gray image gives exactly the
 * features of the RGB image (g, g, g). */
Test(backbone_imagenet, normalisation_and_gray_replication_inside_the_forward) {
    enum { S = 32, B = 2, HW = S * S };
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    hl_ctx *ctx = hl_test_ctx();
    model a, b;
    make(&a, "", "resnet18", 3, S, S, 1);
    make(&b, "", "resnet18", 3, S, S, 1);
    float *xm = malloc(B * 3 * HW * sizeof *xm), *xt = malloc(B * 3 * HW * sizeof *xt);
    float *xr = malloc(B * 3 * HW * sizeof *xr), *gray = malloc(B * HW * sizeof *gray);
    for (int i = 0; i < B * 3 * HW; i++) {
        int c = (i / HW) % 3;
        xm[i] = mean[c];
        xt[i] = mean[c] + 0.7f * std[c];
    }
    hl_rng r = hl_rng_make(4, 1);
    hl_rng_uniform(&r, xr, B * 3 * HW, 0.0f, 1.0f);
    hl_rng_uniform(&r, gray, B * HW, 0.0f, 1.0f);
    float *fa_m = features(ctx, &a, B, 3, S, S, xm);
    float *fa_r = features(ctx, &a, B, 3, S, S, xr);
    /* b: conv1 weights redrawn for channel 0 only, then channels 0 and 1 swapped */
    hl_tensor *w = hl_params_find(&b.p, "conv1.weight");
    const int64_t per = 7 * 7;
    for (int64_t o = 0; o < 64; o++) {
        float *wo = w->data + o * 3 * per;
        for (int64_t j = 0; j < per; j++) wo[j] += 0.05f * (float)((j * 7 + o) % 5 - 2);
    }
    float *fb_r = features(ctx, &b, B, 3, S, S, xr);
    cr_assert_gt(max_abs_diff(fa_r, fb_r, B * 512), 1e-3, "conv1's weights matter on a random image");
    float *fb_m = features(ctx, &b, B, 3, S, S, xm), *fb_t0 = features(ctx, &b, B, 3, S, S, xt);
    cr_assert_lt(max_abs_diff(fa_m, fb_m, B * 512), 1e-6, "the mean image is zero");
    for (int64_t o = 0; o < 64; o++)
        for (int64_t j = 0; j < per; j++) {
            float *wo = w->data + o * 3 * per, t = wo[j];
            wo[j] = wo[per + j], wo[per + j] = t;
        }
    float *fb_t = features(ctx, &b, B, 3, S, S, xt);
    double scale = 0;
    for (int i = 0; i < B * 512; i++) scale = fmax(scale, fabs(fb_t0[i]));
    cr_assert_lt(max_abs_diff(fb_t0, fb_t, B * 512), 1e-4 * scale + 1e-6, "mean + t·std is the same in every channel");
    float *fb_r2 = features(ctx, &b, B, 3, S, S, xr);
    cr_assert_gt(max_abs_diff(fb_r, fb_r2, B * 512), 1e-3, "the swap matters otherwise");
    /* gray replication */
    model g;
    make(&g, "", "resnet18", 1, S, S, 1);
    float *rgb = malloc(B * 3 * HW * sizeof *rgb);
    for (int i = 0; i < B * 3 * HW; i++) rgb[i] = gray[(i / (3 * HW)) * HW + i % HW];
    float *f1 = features(ctx, &g, B, 1, S, S, gray), *f3 = features(ctx, &a, B, 3, S, S, rgb);
    cr_assert_eq(memcmp(f1, f3, B * 512 * sizeof *f1), 0, "a gray image is its RGB replication, bit for bit");
    free(xm), free(xt), free(xr), free(gray), free(rgb);
    free(fa_m), free(fa_r), free(fb_r), free(fb_r2), free(fb_t), free(fb_m), free(fb_t0), free(f1), free(f3);
    hl_params_free(&a.p), hl_params_free(&b.p), hl_params_free(&g.p);
    hl_ctx_free(ctx);
}

/* Σ r ⊙ f(x) (eval mode) in double, and its input gradient into grad (numel(x) floats). */
static double probe(hl_ctx *ctx, const model *m, const float *x, const float *r, int B, int c, int s, float *grad) {
    hl_ctx_reset(ctx);
    hl_ctx_set_train(ctx, false);
    hl_tensor *xt = hl_tensor_from(ctx, 4, HL_SHAPE(B, c, s, s), x);
    hl_tensor_set_requires_grad(xt, true);
    hl_tensor *f = hl_backbone_forward(ctx, &m->bb, xt);
    double L = 0;
    for (int64_t i = 0; i < hl_tensor_numel(f); i++) L += (double)r[i] * f->data[i];
    hl_backward_seed(ctx, f, r);
    memcpy(grad, xt->grad, (size_t)hl_tensor_numel(xt) * sizeof *grad);
    return L;
}

/* Attacks need d features / d pixels through the normalisation. With every bias and batch-norm shift set to 0 (and
 * running means 0) an eval-mode backbone is a positively homogeneous function of the normalised image n (ReLU, max
 * and average pooling, zero padding, convolutions and linear maps without bias), so Euler's identity
 * ⟨∂L/∂n, n⟩ = L holds exactly on the linear piece around n — a finite-difference-free check of the whole tape.
 * With n = (x − mean)/std, ∂L/∂n = std ⊙ ∂L/∂x: Σ_i std_c(i)·g_i·(x_i − mean_c(i))/std_c(i) = Σ_i g_i·(x_i − mean_c)
 * must equal L, which fails for a missing 1/std or mean in the gradient, or any wrong backward. For a 1-channel
 * image the gradient must be the sum over channels of the gradient of its RGB replication. (torchvision agreement of
 * features and input gradients: tests/bench/backbone_torch.py.) */
Test(backbone_imagenet, input_gradient_through_the_normalisation) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f};
    static const struct {
        const char *kind;
        int s, f;
    } cases[] = {{"resnet18", 32, 512}, {"alexnet", 64, 4096}};
    hl_ctx *ctx = hl_test_ctx();
    for (size_t k = 0; k < HL_ARRAY_LEN(cases); k++) {
        const int B = 2, s = cases[k].s, HW = s * s, n3 = B * 3 * HW;
        model m, g;
        make(&m, "", cases[k].kind, 3, s, s, 3);
        make(&g, "", cases[k].kind, 1, s, s, 3);
        for (int i = 0; i < m.p.n_par; i++)
            if (strstr(m.p.par[i].name, ".bias")) hl_tensor_fill(m.p.par[i].t, 0.0f);
        for (int i = 0; i < m.p.n_buf; i++)
            if (strstr(m.p.buf[i].name, "running_mean")) hl_tensor_fill(m.p.buf[i].t, 0.0f);
        cr_assert_eq(hl_params_copy(&g.p, &m.p), HL_OK, "%s", hl_error_last());
        hl_params_set_requires_grad(&m.p, false), hl_params_set_requires_grad(&g.p, false); /* as attacks run */
        float *x = malloc(n3 * sizeof *x), *gx = malloc(n3 * sizeof *gx), *r = malloc(B * cases[k].f * sizeof *r);
        float *gray = malloc(B * HW * sizeof *gray), *gg = malloc(B * HW * sizeof *gg);
        hl_rng q = hl_rng_make(8, 2);
        hl_rng_uniform(&q, gray, B * HW, 0.0f, 1.0f);
        hl_rng_uniform(&q, r, B * cases[k].f, -1.0f, 1.0f);
        for (int i = 0; i < n3; i++) x[i] = gray[(i / (3 * HW)) * HW + i % HW];
        double L = probe(ctx, &m, x, r, B, 3, s, gx), euler = 0, gmax = 0;
        for (int i = 0; i < n3; i++) {
            euler += (double)gx[i] * ((double)x[i] - mean[(i / HW) % 3]);
            gmax = fmax(gmax, fabs(gx[i]));
        }
        cr_assert_gt(gmax, 0, "%s: no gradient reaches the input", cases[k].kind);
        cr_assert(fabs(euler - L) <= 1e-4 * fabs(L) + 1e-9, "%s: <dL/dx, x - mean> = %.9g, L = %.9g", cases[k].kind,
                  euler, L);
        double Lg = probe(ctx, &g, gray, r, B, 1, s, gg);
        cr_assert_eq(Lg, L, "%s: a gray image and its RGB replication", cases[k].kind);
        for (int i = 0; i < B * HW; i++) {
            const float *c3 = gx + (i / HW) * 3 * HW + i % HW;
            double sum = (double)c3[0] + c3[HW] + c3[2 * HW];
            cr_assert(fabs(gg[i] - sum) <= 1e-5 * gmax, "%s: gray gradient %d: %g, sum over channels %g",
                      cases[k].kind, i, gg[i], sum);
        }
        free(x), free(gx), free(r), free(gray), free(gg);
        hl_params_free(&m.p), hl_params_free(&g.p);
    }
    hl_ctx_free(ctx);
}

/* ---- stages and freezing ---------------------------------------------------------------------------------------- */

Test(backbone_imagenet, stage_names_and_did_you_mean) {
    int i = 7;
    cr_assert_eq(hl_backbone_stage_find(HL_BACKBONE_RESNET18, "", &i), HL_OK);
    cr_assert_eq(i, -1);
    cr_assert_eq(hl_backbone_stage_find(HL_BACKBONE_RESNET50, "layer3", &i), HL_OK);
    cr_assert_eq(i, 3);
    cr_assert_eq(hl_backbone_stage_find(HL_BACKBONE_VGG16, "fc6", &i), HL_OK);
    cr_assert_eq(i, 1);
    cr_assert_eq(hl_backbone_stage_find(HL_BACKBONE_RESNET18, "layr2", &i), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "resnet18 has no stage 'layr2' (stages: conv1|layer1|layer2|layer3|layer4; did "
                                      "you mean 'layer2'?)");
    cr_assert_eq(hl_backbone_stage_find(HL_BACKBONE_ALEXNET, "layer4", &i), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "features|fc6|fc7") && !strstr(hl_error_last(), "did you mean"), "%s",
              hl_error_last());
    int n;
    const hl_backbone_stage *s = hl_backbone_stages(HL_BACKBONE_ALEXNET, &n);
    cr_assert(n == 3 && !strcmp(s[2].prefixes[0], "classifier.4."));
}

/* Frozen stages (conv1, layer1, layer2 of resnet18) keep bit-identical weights and running statistics through a
 * training step with weight decay and momentum while layer3/layer4 change; the frozen parameters get no gradient. */
Test(backbone_imagenet, freeze_until_keeps_frozen_stages_bit_identical) {
    hl_ctx *ctx = hl_test_ctx();
    model m;
    make(&m, "backbone", "resnet18", 3, 32, 32, 5);
    int until;
    cr_assert_eq(hl_backbone_stage_find(m.bb.kind, "layer2", &until), HL_OK);
    int frozen = hl_backbone_freeze(&m.bb, &m.p, until);
    cr_assert_eq(frozen, 3 + 2 * 6 + 2 * 6 + 3, "conv1 + bn1, layer1 (2 blocks of 2 conv + bn), layer2 (the same + "
                 "downsample): %d tensors", frozen);
    for (int i = 0; i < m.bb.nbn; i++) cr_assert_eq(m.bb.bn[i].frozen, i < 1 + 4 + 5, "bn %d", i);
    float *before = malloc((size_t)(m.p.slab_len + m.p.buf_len) * sizeof *before);
    memcpy(before, m.p.data, (size_t)m.p.slab_len * sizeof *before);
    memcpy(before + m.p.slab_len, m.p.bufdata, (size_t)m.p.buf_len * sizeof *before);
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_SGD);
    oc.lr = 0.1f, oc.momentum = 0.9f, oc.weight_decay = 1e-3f;
    hl_optim *opt;
    cr_assert_eq(hl_optim_create(&opt, &m.p, &oc), HL_OK);
    hl_ctx_set_train(ctx, true);
    for (int step = 0; step < 2; step++) {
        hl_ctx_reset(ctx);
        hl_tensor *f = hl_backbone_forward(ctx, &m.bb, input(ctx, 4, 3, 32, 32, 10 + step));
        hl_backward(ctx, hl_mean(ctx, hl_mul(ctx, f, f), HL_AXES_ALL, false));
        hl_optim_step(opt);
        hl_optim_zero_grad(opt);
    }
    for (int i = 0; i < m.p.n_par + m.p.n_buf; i++) {
        const hl_params_entry *e = i < m.p.n_par ? &m.p.par[i] : &m.p.buf[i - m.p.n_par];
        const float *old = (i < m.p.n_par ? before : before + m.p.slab_len) + e->offset;
        bool same = memcmp(old, e->t->data, (size_t)hl_tensor_numel(e->t) * sizeof(float)) == 0;
        bool is_frozen = strncmp(e->name, "backbone.layer3", 15) != 0 && strncmp(e->name, "backbone.layer4", 15) != 0;
        if (is_frozen) cr_assert(same, "frozen %s changed", e->name);
        else if (!strstr(e->name, "num_batches")) cr_assert(!same, "trainable %s did not change", e->name);
    }
    free(before);
    hl_optim_free(opt);
    hl_params_free(&m.p);
    hl_ctx_free(ctx);
}

/* ---- weights ---------------------------------------------------------------------------------------------------- */

/* A torchvision-style file: bare names, the classifier's `fc` the backbone does not declare, random values. */
Test(backbone_imagenet, load_weights_from_a_torchvision_style_file) {
    const char *dir = hl_test_tmpdir();
    hl_params src;
    hl_backbone sb;
    hl_params_init(&src);
    cr_assert_eq(hl_backbone_init(&sb, &src, "", "resnet18", 3, 32, 32), HL_OK);
    hl_linear_layer fc;
    hl_linear_layer_init(&fc, &src, "fc", 512, 1000, true);
    cr_assert_eq(hl_params_alloc(&src), HL_OK);
    hl_rng r = hl_rng_make(11, 1);
    hl_rng_uniform(&r, src.data, src.slab_len, -1.0f, 1.0f);
    hl_rng_uniform(&r, src.bufdata, src.buf_len, 0.5f, 1.5f);
    char *path = hl_test_path_alloc(dir, "resnet18.safetensors");
    cr_assert_eq(hl_checkpoint_save(path, &src, NULL), HL_OK, "%s", hl_error_last());
    model dst;
    make(&dst, "backbone", "resnet18", 1, 28, 28, 2); /* the input size does not change a ResNet's tensors */
    int copied = 0;
    cr_assert_eq(hl_backbone_load_weights(&dst.bb, &dst.p, path, &copied), HL_OK, "%s", hl_error_last());
    cr_assert_eq(copied, hl_params_count(&dst.p) + hl_params_buffer_count(&dst.p));
    for (int i = 0; i < dst.p.n_par + dst.p.n_buf; i++) {
        const hl_params_entry *e = i < dst.p.n_par ? &dst.p.par[i] : &dst.p.buf[i - dst.p.n_par];
        const hl_tensor *t = hl_params_find(&src, e->name + strlen("backbone."));
        cr_assert_not_null(t, "%s", e->name);
        cr_assert_eq(memcmp(t->data, e->t->data, (size_t)hl_tensor_numel(t) * sizeof(float)), 0, "%s", e->name);
    }
    free(path);
    hl_params_free(&src), hl_params_free(&dst.p);
}
