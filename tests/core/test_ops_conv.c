/* tests/core/test_ops_conv.c — hl_conv2d and hl_conv_transpose2d: hand-computed values, a direct (non-im2col)
 * reference loop over stride/padding/dilation/non-square configs, the adjoint identity <conv(x), y> = <x, convT(y)>,
 * gradient checks for x, w and bias, and skipped gradients for frozen or constant inputs. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

#include <math.h>
#include <string.h>

typedef struct conv_cfg {
    int B, C, H, W, O, kh, kw;
    hl_conv_opts o;
} conv_cfg;

/* Initializer of an hl_conv_opts: stride, pad, dilation, out_pad, each (h, w). */
#define OPTS(sh, sw, ph, pw, dh, dw, oph, opw) {{(sh), (sw)}, {(ph), (pw)}, {(dh), (dw)}, {(oph), (opw)}}

static int conv_out(int n, int k, int s, int p, int d) { return (n + 2 * p - d * (k - 1) - 1) / s + 1; }
static int convT_out(int n, int k, int s, int p, int d, int op) { return (n - 1) * s - 2 * p + d * (k - 1) + op + 1; }

/* Direct conv2d: y[b,o,oh,ow] = bias[o] + Σ_{c,i,j} w[o,c,i,j]·x[b,c, oh·s − p + i·d, ow·s − p + j·d]. */
static void ref_conv(const conv_cfg *c, const float *x, const float *w, const float *bias, float *y) {
    const int Ho = conv_out(c->H, c->kh, c->o.stride[0], c->o.pad[0], c->o.dilation[0]);
    const int Wo = conv_out(c->W, c->kw, c->o.stride[1], c->o.pad[1], c->o.dilation[1]);
    for (int b = 0; b < c->B; b++)
        for (int o = 0; o < c->O; o++)
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    double s = bias ? bias[o] : 0.0;
                    for (int ci = 0; ci < c->C; ci++)
                        for (int i = 0; i < c->kh; i++)
                            for (int j = 0; j < c->kw; j++) {
                                int ih = oh * c->o.stride[0] - c->o.pad[0] + i * c->o.dilation[0];
                                int iw = ow * c->o.stride[1] - c->o.pad[1] + j * c->o.dilation[1];
                                if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                                s += (double)w[((o * c->C + ci) * c->kh + i) * c->kw + j] *
                                     x[((b * c->C + ci) * c->H + ih) * c->W + iw];
                            }
                    y[((b * c->O + o) * Ho + oh) * Wo + ow] = (float)s;
                }
}

/* Direct conv_transpose2d (scatter form): every x[b,c,h,w] adds x·w[c,o,i,j] to y[b,o, h·s − p + i·d, …]. */
static void ref_convT(const conv_cfg *c, const float *x, const float *w, const float *bias, float *y) {
    const int Ho = convT_out(c->H, c->kh, c->o.stride[0], c->o.pad[0], c->o.dilation[0], c->o.out_pad[0]);
    const int Wo = convT_out(c->W, c->kw, c->o.stride[1], c->o.pad[1], c->o.dilation[1], c->o.out_pad[1]);
    for (int b = 0; b < c->B; b++)
        for (int o = 0; o < c->O; o++)
            for (int k = 0; k < Ho * Wo; k++) y[(b * c->O + o) * Ho * Wo + k] = bias ? bias[o] : 0.0f;
    for (int b = 0; b < c->B; b++)
        for (int ci = 0; ci < c->C; ci++)
            for (int h = 0; h < c->H; h++)
                for (int ww = 0; ww < c->W; ww++)
                    for (int o = 0; o < c->O; o++)
                        for (int i = 0; i < c->kh; i++)
                            for (int j = 0; j < c->kw; j++) {
                                int oh = h * c->o.stride[0] - c->o.pad[0] + i * c->o.dilation[0];
                                int ow = ww * c->o.stride[1] - c->o.pad[1] + j * c->o.dilation[1];
                                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
                                y[((b * c->O + o) * Ho + oh) * Wo + ow] +=
                                    w[((ci * c->O + o) * c->kh + i) * c->kw + j] *
                                    x[((b * c->C + ci) * c->H + h) * c->W + ww];
                            }
}

Test(conv, hand_computed_stride_pad_dilation) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(1, 1, 3, 3), (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
    hl_tensor *w = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 2), (float[]){1, 2, 3, 4});
    hl_tensor *b = hl_test_tensor_of(1, HL_SHAPE(1), (float[]){0.5f});
    /* stride 2, pad 1, dilation 2: Ho = (3 + 2 − 2 − 1)/2 + 1 = 2; output (oh,ow) reads rows 2oh − 1 + {0, 2} and
     * cols 2ow − 1 + {0, 2}, so the only in-image tap is pixel (1,1) = 5, seen by w[1,1]=4, w[1,0]=3, w[0,1]=2,
     * w[0,0]=1 for outputs (0,0), (0,1), (1,0), (1,1). */
    hl_tensor *y = hl_conv2d(ctx, x, w, b, HL_CONV_OPTS(2, 1, 2));
    cr_assert(y->ndim == 4 && y->shape[0] == 1 && y->shape[1] == 1 && y->shape[2] == 2 && y->shape[3] == 2);
    hl_test_assert_close(y->data, (float[]){20.5f, 15.5f, 10.5f, 5.5f}, 4, 1e-6f, 0, "s2 p1 d2");
    /* stride 1, no padding: a plain 2×2 correlation, [37 47; 67 77] + 0.5. */
    y = hl_conv2d(ctx, x, w, b, HL_CONV_OPTS(1, 0, 1));
    hl_test_assert_close(y->data, (float[]){37.5f, 47.5f, 67.5f, 77.5f}, 4, 1e-6f, 0, "s1 p0 d1");
    /* No bias. */
    y = hl_conv2d(ctx, x, w, NULL, HL_CONV_OPTS(1, 0, 1));
    hl_test_assert_close(y->data, (float[]){37, 47, 67, 77}, 4, 1e-6f, 0, "no bias");
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

Test(conv, transpose_hand_computed) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 2), (float[]){1, 2, 3, 4});
    hl_tensor *w = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 2), (float[]){1, 2, 3, 4});
    hl_tensor *b = hl_test_tensor_of(1, HL_SHAPE(1), (float[]){1});
    /* Stride 1: each pixel stamps x·w at its position; e.g. the centre gets 1·4 + 2·3 + 3·2 + 4·1 = 20. */
    hl_tensor *y = hl_conv_transpose2d(ctx, x, w, b, HL_CONV_OPTS(1, 0, 1));
    cr_assert(y->shape[2] == 3 && y->shape[3] == 3);
    hl_test_assert_close(y->data, (float[]){2, 5, 5, 7, 21, 17, 10, 25, 17}, 9, 1e-6f, 0, "convT s1");
    /* Stride 2 with a box kernel: each pixel becomes a 2×2 block. */
    hl_tensor *box = hl_test_tensor_of(4, HL_SHAPE(1, 1, 2, 2), (float[]){1, 1, 1, 1});
    y = hl_conv_transpose2d(ctx, x, box, NULL, HL_CONV_OPTS(2, 0, 1));
    cr_assert(y->shape[2] == 4 && y->shape[3] == 4);
    hl_test_assert_close(y->data, (float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 16, 0, 0, "convT s2");
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
    hl_tensor_free(box);
    hl_ctx_free(ctx);
}

static const conv_cfg conv_cfgs[] = {
    {2, 2, 5, 6, 3, 3, 2, OPTS(1, 1, 1, 0, 1, 1, 0, 0)},
    {1, 3, 7, 6, 2, 3, 3, OPTS(2, 3, 1, 2, 1, 1, 0, 0)},
    {2, 1, 6, 7, 2, 2, 3, OPTS(1, 2, 2, 1, 2, 2, 0, 0)},
    {1, 2, 5, 5, 2, 1, 1, OPTS(2, 2, 0, 0, 1, 1, 0, 0)},
    {1, 2, 4, 9, 2, 3, 3, OPTS(3, 1, 2, 3, 1, 3, 0, 0)},
};

static const conv_cfg convT_cfgs[] = {
    {2, 2, 3, 4, 3, 3, 3, OPTS(2, 2, 1, 1, 1, 1, 1, 0)},
    {1, 3, 4, 3, 2, 2, 3, OPTS(1, 2, 0, 1, 2, 1, 0, 1)},
    {1, 1, 3, 3, 2, 3, 2, OPTS(3, 3, 0, 0, 1, 1, 2, 1)},
    {2, 2, 2, 3, 2, 1, 1, OPTS(2, 1, 0, 0, 1, 1, 1, 0)},
};

static hl_tensor *conv_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    return hl_conv2d(ctx, in[0], in[1], in[2], ((const conv_cfg *)user)->o);
}
static hl_tensor *convT_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    return hl_conv_transpose2d(ctx, in[0], in[1], in[2], ((const conv_cfg *)user)->o);
}

static void check_config(const conv_cfg *c, bool transpose, int idx) {
    const int Ho = transpose ? convT_out(c->H, c->kh, c->o.stride[0], c->o.pad[0], c->o.dilation[0], c->o.out_pad[0])
                             : conv_out(c->H, c->kh, c->o.stride[0], c->o.pad[0], c->o.dilation[0]);
    const int Wo = transpose ? convT_out(c->W, c->kw, c->o.stride[1], c->o.pad[1], c->o.dilation[1], c->o.out_pad[1])
                             : conv_out(c->W, c->kw, c->o.stride[1], c->o.pad[1], c->o.dilation[1]);
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(c->B, c->C, c->H, c->W), 100 + idx, -1, 1);
    hl_tensor *w = transpose ? hl_test_tensor(4, HL_SHAPE(c->C, c->O, c->kh, c->kw), 200 + idx, -1, 1)
                             : hl_test_tensor(4, HL_SHAPE(c->O, c->C, c->kh, c->kw), 200 + idx, -1, 1);
    hl_tensor *b = hl_test_tensor(1, HL_SHAPE(c->O), 300 + idx, -1, 1);
    char what[64];
    snprintf(what, sizeof what, "%s config %d", transpose ? "conv_transpose2d" : "conv2d", idx);

    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *y = transpose ? hl_conv_transpose2d(ctx, x, w, b, c->o) : hl_conv2d(ctx, x, w, b, c->o);
    cr_assert(y->shape[0] == c->B && y->shape[1] == c->O && y->shape[2] == Ho && y->shape[3] == Wo,
              "%s: output %lldx%lld, want %dx%d", what, (long long)y->shape[2], (long long)y->shape[3], Ho, Wo);
    float *want = malloc((size_t)(c->B * c->O * Ho * Wo) * sizeof *want);
    (transpose ? ref_convT : ref_conv)(c, x->data, w->data, b->data, want);
    hl_test_assert_close(y->data, want, c->B * c->O * Ho * Wo, 1e-5f, 1e-5f, what);
    free(want);
    hl_ctx_free(ctx);

    hl_test_gradcheck(what, transpose ? convT_fn : conv_fn, 3, (hl_tensor *[]){x, w, b}, (void *)c,
                      (hl_gradcheck_opts){0});
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
}

Test(conv, conv2d_configs_values_and_grads) {
    for (size_t i = 0; i < HL_ARRAY_LEN(conv_cfgs); i++) check_config(&conv_cfgs[i], false, (int)i);
}

Test(conv, conv_transpose2d_configs_values_and_grads) {
    for (size_t i = 0; i < HL_ARRAY_LEN(convT_cfgs); i++) check_config(&convT_cfgs[i], true, (int)i);
}

static double dot(const float *a, const float *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* conv_transpose2d is the adjoint of conv2d with the same weights: <conv(x), y> = <x, convT(y)>, with out_pad
 * chosen so that convT(y) has x's shape. Sizes large enough for the kernels' multi-threaded paths. */
Test(conv, transpose_is_adjoint) {
    static const conv_cfg cfgs[] = {
        {4, 8, 16, 16, 8, 3, 3, OPTS(1, 1, 1, 1, 1, 1, 0, 0)},
        {3, 5, 13, 11, 6, 3, 2, OPTS(2, 3, 1, 0, 1, 2, 0, 0)},
        {2, 4, 17, 9, 3, 5, 3, OPTS(3, 2, 2, 1, 2, 1, 0, 0)},
    };
    hl_ctx *ctx = hl_test_ctx();
    for (size_t t = 0; t < HL_ARRAY_LEN(cfgs); t++) {
        conv_cfg c = cfgs[t];
        const int Ho = conv_out(c.H, c.kh, c.o.stride[0], c.o.pad[0], c.o.dilation[0]);
        const int Wo = conv_out(c.W, c.kw, c.o.stride[1], c.o.pad[1], c.o.dilation[1]);
        hl_tensor *x = hl_test_tensor(4, HL_SHAPE(c.B, c.C, c.H, c.W), 1 + t, -1, 1);
        hl_tensor *w = hl_test_tensor(4, HL_SHAPE(c.O, c.C, c.kh, c.kw), 2 + t, -1, 1);
        hl_tensor *y = hl_test_tensor(4, HL_SHAPE(c.B, c.O, Ho, Wo), 3 + t, -1, 1);
        hl_conv_opts oT = c.o;
        for (int a = 0; a < 2; a++)
            oT.out_pad[a] = ((a ? c.W : c.H) + 2 * c.o.pad[a] - c.o.dilation[a] * ((a ? c.kw : c.kh) - 1) - 1) %
                            c.o.stride[a];
        hl_tensor *cx = hl_conv2d(ctx, x, w, NULL, c.o);
        hl_tensor *ty = hl_conv_transpose2d(ctx, y, w, NULL, oT);
        cr_assert(hl_tensor_same_shape(ty, x), "config %zu: convT(y) does not have x's shape", t);
        double lhs = dot(cx->data, y->data, hl_tensor_numel(y)), rhs = dot(x->data, ty->data, hl_tensor_numel(x));
        cr_assert(fabs(lhs - rhs) <= 1e-4 * (1.0 + fabs(lhs)), "config %zu: <conv x, y> %.8g vs <x, convT y> %.8g", t,
                  lhs, rhs);
        /* Also the same identity through conv2d's own backward: dL/dx of L = <conv(x), y> is convT(y). */
        hl_tensor_set_requires_grad(x, true);
        hl_tensor_zero_grad(x);
        hl_backward_seed(ctx, hl_conv2d(ctx, x, w, NULL, c.o), y->data);
        hl_test_assert_close(x->grad, ty->data, hl_tensor_numel(x), 1e-4f, 1e-4f, "conv2d backward = convT");
        hl_ctx_reset(ctx);
        hl_tensor_free(x);
        hl_tensor_free(w);
        hl_tensor_free(y);
    }
    hl_ctx_free(ctx);
}

/* Only wanted gradients are computed: frozen weights (attack) and a constant image (first layer of training). */
Test(conv, skips_unwanted_gradients) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 3, 6, 6), 1, -1, 1);
    hl_tensor *w = hl_test_tensor(4, HL_SHAPE(4, 3, 3, 3), 2, -1, 1);
    hl_tensor *b = hl_test_tensor(1, HL_SHAPE(4), 3, -1, 1);
    float *seed = calloc(2 * 4 * 6 * 6, sizeof *seed);
    for (int i = 0; i < 2 * 4 * 6 * 6; i++) seed[i] = 1.0f;
    hl_tensor_set_requires_grad(x, true);
    hl_backward_seed(ctx, hl_conv2d(ctx, x, w, b, HL_CONV_OPTS(1, 1, 1)), seed);
    cr_assert(x->grad != NULL && w->grad == NULL && b->grad == NULL, "frozen weights got a gradient buffer");
    hl_ctx_reset(ctx);
    hl_tensor_set_requires_grad(x, false);
    hl_tensor_set_requires_grad(w, true);
    hl_tensor_set_requires_grad(b, true);
    hl_tensor_zero_grad(x);
    hl_backward_seed(ctx, hl_conv_transpose2d(ctx, hl_conv2d(ctx, x, w, b, HL_CONV_OPTS(1, 1, 1)), w, NULL,
                                              HL_CONV_OPTS(1, 1, 1)),
                     seed);
    for (int i = 0; i < hl_tensor_numel(x); i++) cr_assert(x->grad[i] == 0.0f, "constant input received a gradient");
    /* dbias of the conv = Σ over (b,h,w) of the gradient reaching the conv output. Nonzero here. */
    cr_assert(fabsf(b->grad[0]) > 0.0f);
    free(seed);
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
    hl_ctx_free(ctx);
}

/* Batches big enough to be split into several chunks (conv.c processes ~2 MiB of images at a time) must give the
 * same values and gradients as the images one by one, with all inputs trainable and with frozen weights. */
static void check_chunking(bool transpose) {
    const int64_t B = 5, C = 16, H = 32, O = 16;
    const hl_conv_opts o = HL_CONV_OPTS(1, 1, 1);
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(B, C, H, H), 11, -1, 1);
    hl_tensor *w = transpose ? hl_test_tensor(4, HL_SHAPE(C, O, 3, 3), 12, -1, 1)
                             : hl_test_tensor(4, HL_SHAPE(O, C, 3, 3), 12, -1, 1);
    hl_tensor *b = hl_test_tensor(1, HL_SHAPE(O), 13, -1, 1);
    hl_tensor *r = hl_test_tensor(4, HL_SHAPE(B, O, H, H), 14, -1, 1); /* same size out: k3 s1 p1 */
    const int64_t nx = C * H * H, ny = O * H * H, nw = hl_tensor_numel(w);
    hl_ctx *ctx = hl_test_ctx();
    for (int frozen = 0; frozen < 2; frozen++) {
        hl_tensor_set_requires_grad(x, true);
        hl_tensor_set_requires_grad(w, !frozen);
        hl_tensor_set_requires_grad(b, !frozen);
        hl_tensor_zero_grad(x);
        hl_tensor_zero_grad(w);
        hl_tensor_zero_grad(b);
        hl_tensor *y = transpose ? hl_conv_transpose2d(ctx, x, w, b, o) : hl_conv2d(ctx, x, w, b, o);
        hl_backward_seed(ctx, y, r->data);
        float *y_all = malloc((size_t)(B * ny) * sizeof(float)), *dx_all = malloc((size_t)(B * nx) * sizeof(float));
        float *dw_all = malloc((size_t)nw * sizeof(float)), db_all[16];
        memcpy(y_all, y->data, (size_t)(B * ny) * sizeof(float));
        memcpy(dx_all, x->grad, (size_t)(B * nx) * sizeof(float));
        if (!frozen) {
            memcpy(dw_all, w->grad, (size_t)nw * sizeof(float));
            memcpy(db_all, b->grad, (size_t)O * sizeof(float));
            hl_tensor_zero_grad(w);
            hl_tensor_zero_grad(b);
        }
        for (int64_t i = 0; i < B; i++) {
            hl_ctx_reset(ctx);
            hl_tensor *xi = hl_test_tensor_of(4, HL_SHAPE(1, C, H, H), x->data + i * nx);
            hl_tensor_set_requires_grad(xi, true);
            hl_tensor *yi = transpose ? hl_conv_transpose2d(ctx, xi, w, b, o) : hl_conv2d(ctx, xi, w, b, o);
            hl_backward_seed(ctx, yi, r->data + i * ny);
            hl_test_assert_close(yi->data, y_all + i * ny, ny, 1e-4f, 1e-4f, "chunked y");
            hl_test_assert_close(xi->grad, dx_all + i * nx, nx, 1e-4f, 1e-4f, "chunked dx");
            hl_tensor_free(xi);
        }
        if (!frozen) {
            hl_test_assert_close(w->grad, dw_all, nw, 1e-3f, 1e-4f, "chunked dw");
            hl_test_assert_close(b->grad, db_all, O, 1e-3f, 1e-4f, "chunked db");
        } else {
            cr_assert(w->grad == NULL || w->grad[0] == 0.0f, "frozen weights received a gradient");
        }
        free(y_all);
        free(dx_all);
        free(dw_all);
        hl_ctx_reset(ctx);
    }
    hl_ctx_free(ctx);
    hl_tensor_free(x);
    hl_tensor_free(w);
    hl_tensor_free(b);
    hl_tensor_free(r);
}

Test(conv, conv2d_chunked_batch_matches_per_image) { check_chunking(false); }

/* Images big enough that a chunk holds one image (conv.c: its GEMMs then read and write the NCHW blocks in place, a
 * pointwise conv skips im2col and col2im, and the backward recomputes im2col): values, dx, dw and dbias against the
 * direct loops, in plain and batch-invariant mode, for a 3×3 conv, a pointwise conv and a strided 1×1 conv. */
Test(conv, conv2d_one_image_chunks_match_the_direct_loops) {
    static const conv_cfg cfgs[] = {
        {2, 8, 82, 82, 8, 3, 3, OPTS(1, 1, 1, 1, 1, 1, 0, 0)},
        {2, 32, 91, 91, 32, 1, 1, OPTS(1, 1, 0, 0, 1, 1, 0, 0)},
        {2, 32, 182, 182, 32, 1, 1, OPTS(2, 2, 0, 0, 1, 1, 0, 0)},
    };
    hl_ctx *ctx = hl_test_ctx();
    for (size_t k = 0; k < HL_ARRAY_LEN(cfgs); k++) {
        const conv_cfg *c = &cfgs[k];
        const int Ho = conv_out(c->H, c->kh, c->o.stride[0], c->o.pad[0], 1);
        const int64_t nx = (int64_t)c->B * c->C * c->H * c->W, ny = (int64_t)c->B * c->O * Ho * Ho;
        const int64_t nw = (int64_t)c->O * c->C * c->kh * c->kw;
        cr_assert_gt((int64_t)(c->C * c->kh * c->kw + c->O) * Ho * Ho, (2 << 20) / 4, "config %zu: not one image per "
                     "chunk", k);
        hl_tensor *x = hl_test_tensor(4, HL_SHAPE(c->B, c->C, c->H, c->W), 30 + k, -1, 1);
        hl_tensor *w = hl_test_tensor(4, HL_SHAPE(c->O, c->C, c->kh, c->kw), 40 + k, -1, 1);
        hl_tensor *b = hl_test_tensor(1, HL_SHAPE(c->O), 50 + k, -1, 1);
        hl_tensor *r = hl_test_tensor(4, HL_SHAPE(c->B, c->O, Ho, Ho), 60 + k, -1, 1);
        float *want_y = malloc((size_t)ny * sizeof *want_y), *want_dx = calloc((size_t)nx, sizeof *want_dx);
        double *dw = calloc((size_t)nw, sizeof *dw), db[64] = {0};
        ref_conv(c, x->data, w->data, b->data, want_y);
        for (int bi = 0; bi < c->B; bi++) /* adjoints by the same loops */
            for (int o = 0; o < c->O; o++)
                for (int oh = 0; oh < Ho; oh++)
                    for (int ow = 0; ow < Ho; ow++) {
                        const float g = r->data[((bi * c->O + o) * Ho + oh) * Ho + ow];
                        db[o] += g;
                        for (int ci = 0; ci < c->C; ci++)
                            for (int i = 0; i < c->kh; i++)
                                for (int j = 0; j < c->kw; j++) {
                                    int ih = oh * c->o.stride[0] - c->o.pad[0] + i;
                                    int iw = ow * c->o.stride[1] - c->o.pad[1] + j;
                                    if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                                    const int64_t xi = ((int64_t)(bi * c->C + ci) * c->H + ih) * c->W + iw;
                                    const int64_t wi = ((o * c->C + ci) * c->kh + i) * c->kw + j;
                                    dw[wi] += (double)g * x->data[xi];
                                    want_dx[xi] += g * w->data[wi];
                                }
                    }
        float *want_dw = malloc((size_t)nw * sizeof *want_dw), want_db[64];
        for (int64_t i = 0; i < nw; i++) want_dw[i] = (float)dw[i];
        for (int o = 0; o < c->O; o++) want_db[o] = (float)db[o];
        for (int inv = 0; inv <= 1; inv++) {
            hl_ctx_reset(ctx);
            hl_ctx_set_batch_invariant(ctx, inv);
            hl_tensor_set_requires_grad(x, true), hl_tensor_set_requires_grad(w, true);
            hl_tensor_set_requires_grad(b, true);
            hl_tensor_zero_grad(x), hl_tensor_zero_grad(w), hl_tensor_zero_grad(b);
            hl_tensor *y = hl_conv2d(ctx, x, w, b, c->o);
            hl_backward_seed(ctx, y, r->data);
            hl_test_assert_close(y->data, want_y, ny, 1e-4f, 1e-4f, "one-image chunks: y");
            hl_test_assert_close(x->grad, want_dx, nx, 1e-4f, 1e-4f, "one-image chunks: dx");
            hl_test_assert_close(w->grad, want_dw, nw, 2e-3f, 1e-4f, "one-image chunks: dw");
            hl_test_assert_close(b->grad, want_db, c->O, 2e-3f, 1e-4f, "one-image chunks: db");
        }
        hl_ctx_set_batch_invariant(ctx, false);
        free(want_y), free(want_dx), free(dw), free(want_dw);
        hl_tensor_free(x), hl_tensor_free(w), hl_tensor_free(b), hl_tensor_free(r);
    }
    hl_ctx_free(ctx);
}
Test(conv, conv_transpose2d_chunked_batch_matches_per_image) { check_chunking(true); }

/* Batch-invariant mode (core/ctx.h): an image's output and input gradient do not depend on the batch, the image's
 * place in it or the thread count; odd sizes, and images large enough that a batch spans several chunks. The
 * transpose runs with a weight that wants a gradient (the forward then keeps its channel-major input). */
typedef struct conv_inv_arg {
    hl_tensor *w, *b;
    hl_conv_opts o;
    bool transpose;
} conv_inv_arg;

static hl_tensor *conv_inv_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    conv_inv_arg *a = user;
    return a->transpose ? hl_conv_transpose2d(ctx, in[0], a->w, a->b, a->o) : hl_conv2d(ctx, in[0], a->w, a->b, a->o);
}

Test(conv, batch_invariant) {
    conv_inv_arg small = {hl_test_tensor(4, HL_SHAPE(5, 3, 3, 3), 1, -1, 1), hl_test_tensor(1, HL_SHAPE(5), 2, -1, 1),
                      OPTS(2, 2, 1, 1, 1, 1, 0, 0), false};
    hl_test_batch_invariance("conv2d 3x9x7 -> 5, stride 2", 3, HL_SHAPE(3, 9, 7), conv_inv_fn, &small);
    conv_inv_arg big = {hl_test_tensor(4, HL_SHAPE(16, 8, 3, 3), 3, -1, 1), NULL, OPTS(1, 1, 1, 1, 1, 1, 0, 0), false};
    hl_test_batch_invariance("conv2d 8x30x30 -> 16 (chunked)", 3, HL_SHAPE(8, 30, 30), conv_inv_fn, &big);
    conv_inv_arg tr = {hl_test_tensor(4, HL_SHAPE(4, 3, 4, 4), 4, -1, 1), hl_test_tensor(1, HL_SHAPE(3), 5, -1, 1),
                   OPTS(2, 2, 1, 1, 1, 1, 0, 0), true};
    hl_tensor_set_requires_grad(tr.w, true);
    hl_test_batch_invariance("conv_transpose2d 4x5x6 -> 3, stride 2", 3, HL_SHAPE(4, 5, 6), conv_inv_fn, &tr);
    hl_tensor *ts[] = {small.w, small.b, big.w, tr.w, tr.b};
    for (int i = 0; i < 5; i++) hl_tensor_free(ts[i]);
}

/* hl_conv2d_relu is relu(hl_conv2d(...)) bit for bit, values and every gradient, for chunked and one-image batches
 * and in batch-invariant mode. */
Test(conv, conv2d_relu_equals_relu_of_conv2d) {
    static const conv_cfg cfgs[] = {{3, 4, 9, 7, 5, 3, 3, OPTS(2, 1, 1, 1, 1, 1, 0, 0)},
                                    {2, 8, 82, 82, 8, 3, 3, OPTS(1, 1, 1, 1, 1, 1, 0, 0)},
                                    {2, 32, 91, 91, 32, 1, 1, OPTS(1, 1, 0, 0, 1, 1, 0, 0)}};
    hl_ctx *ctx = hl_test_ctx();
    for (size_t k = 0; k < HL_ARRAY_LEN(cfgs); k++)
        for (int inv = 0; inv <= 1; inv++) {
            const conv_cfg *c = &cfgs[k];
            hl_tensor *x = hl_test_tensor(4, HL_SHAPE(c->B, c->C, c->H, c->W), 70 + k, -1, 1);
            hl_tensor *w = hl_test_tensor(4, HL_SHAPE(c->O, c->C, c->kh, c->kw), 80 + k, -1, 1);
            hl_tensor *b = hl_test_tensor(1, HL_SHAPE(c->O), 90 + k, -1, 1);
            float *got[4] = {0}, *want[4] = {0};
            int64_t len[4] = {0, hl_tensor_numel(x), hl_tensor_numel(w), c->O};
            for (int fused = 0; fused <= 1; fused++) {
                hl_ctx_reset(ctx);
                hl_ctx_set_batch_invariant(ctx, inv);
                hl_tensor *in[3] = {x, w, b};
                for (int i = 0; i < 3; i++) hl_tensor_set_requires_grad(in[i], true), hl_tensor_zero_grad(in[i]);
                hl_tensor *y = fused ? hl_conv2d_relu(ctx, x, w, b, c->o) : hl_relu(ctx, hl_conv2d(ctx, x, w, b, c->o));
                len[0] = hl_tensor_numel(y);
                hl_tensor *r = hl_test_tensor(y->ndim, y->shape, 99, -1, 1);
                hl_backward_seed(ctx, y, r->data);
                float **dst = fused ? got : want;
                const float *src[4] = {y->data, x->grad, w->grad, b->grad};
                for (int i = 0; i < 4; i++) {
                    dst[i] = malloc((size_t)len[i] * sizeof(float));
                    memcpy(dst[i], src[i], (size_t)len[i] * sizeof(float));
                }
                hl_tensor_free(r);
            }
            int zeros = 0;
            for (int64_t i = 0; i < len[0]; i++) zeros += want[0][i] == 0.0f;
            cr_assert(zeros > 0 && zeros < len[0], "the ReLU must cut some outputs");
            static const char *what[4] = {"y", "dx", "dw", "db"};
            for (int i = 0; i < 4; i++) {
                cr_assert_eq(memcmp(got[i], want[i], (size_t)len[i] * sizeof(float)), 0, "config %zu: %s differs",
                             k, what[i]);
                free(got[i]), free(want[i]);
            }
            hl_tensor_free(x), hl_tensor_free(w), hl_tensor_free(b);
        }
    hl_ctx_set_batch_invariant(ctx, false);
    hl_ctx_free(ctx);
}
