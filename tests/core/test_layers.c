/* tests/core/test_layers.c — layers: declared names/shapes, PyTorch default init, forward against reference loops,
 * gradients landing in the parameter slab, freezing. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn/layers.h"
#include "test_common.h"

Test(layers, declarations_and_names) {
    hl_params p;
    hl_params_init(&p);
    hl_linear_layer fc;
    hl_conv2d_layer cv;
    hl_conv_transpose2d_layer ct;
    hl_batchnorm_layer bn;
    hl_instancenorm_layer in, in2;
    hl_linear_layer_init(&fc, &p, "fc", 5, 3, true);
    hl_conv2d_layer_init(&cv, &p, "features.0", 3, 8, 3, 2, 1, 1, false);
    hl_conv_transpose2d_layer_init(&ct, &p, "up", 8, 4, 4, 2, 1, 0, 1, true);
    hl_batchnorm_layer_init(&bn, &p, "bn", 8, true);
    hl_instancenorm_layer_init(&in, &p, "in", 4, true);
    hl_instancenorm_layer_init(&in2, &p, "in2", 4, false);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    cr_assert_eq(hl_params_find(&p, "fc.weight"), fc.w);
    cr_assert_eq(hl_params_find(&p, "fc.bias"), fc.b);
    cr_assert(fc.w->shape[0] == 3 && fc.w->shape[1] == 5);
    cr_assert_eq(hl_params_find(&p, "features.0.weight"), cv.w);
    cr_assert_null(cv.b);
    cr_assert_null(hl_params_find(&p, "features.0.bias"));
    cr_assert(cv.w->ndim == 4 && cv.w->shape[0] == 8 && cv.w->shape[1] == 3 && cv.w->shape[2] == 3);
    cr_assert(cv.opts.stride[0] == 2 && cv.opts.pad[1] == 1 && cv.opts.dilation[0] == 1);
    cr_assert(ct.w->shape[0] == 8 && ct.w->shape[1] == 4, "conv-transpose weight is [C, O, k, k]");
    cr_assert_eq(hl_params_find(&p, "bn.running_mean"), bn.running_mean);
    cr_assert_eq(hl_params_find(&p, "bn.running_var"), bn.running_var);
    cr_assert(bn.momentum == 0.1f && bn.eps == 1e-5f);
    for (int c = 0; c < 8; c++) cr_assert(bn.running_mean->data[c] == 0.0f && bn.running_var->data[c] == 1.0f);
    cr_assert(!hl_tensor_requires_grad(bn.running_mean), "buffers are not trained");
    cr_assert(in.w && in.b && !in2.w && !in2.b);
    /* fc.w 15 + fc.b 3 + conv 8·3·9 + ct.w 8·4·16 + ct.b 4 + bn 16 + in 8 */
    cr_assert_eq(hl_params_numel(&p), 15 + 3 + 216 + 512 + 4 + 16 + 8);
    cr_assert_eq(hl_params_count(&p), 9);
    cr_assert_eq(hl_params_buffer_count(&p), 2);
    hl_params_free(&p);
}

Test(layers, default_init_matches_pytorch_bounds) {
    hl_params p;
    hl_params_init(&p);
    hl_linear_layer fc;
    hl_conv2d_layer cv;
    hl_conv_transpose2d_layer ct;
    hl_batchnorm_layer bn;
    hl_linear_layer_init(&fc, &p, "fc", 400, 300, true);
    hl_conv2d_layer_init(&cv, &p, "cv", 16, 64, 5, 1, 2, 1, true);
    hl_conv_transpose2d_layer_init(&ct, &p, "ct", 64, 9, 4, 2, 1, 0, 1, true);
    hl_batchnorm_layer_init(&bn, &p, "bn", 6, true);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_rng r = hl_rng_make(11, 0);
    hl_nn_init_default(&fc, &r);
    hl_nn_init_default(&cv, &r);
    hl_nn_init_default(&ct, &r);
    bn.running_var->data[0] = 5.0f;
    hl_nn_init_default(&bn, &r);
    struct {
        hl_tensor *w, *b;
        double fan_in;
    } L[3] = {{fc.w, fc.b, 400}, {cv.w, cv.b, 16 * 25}, {ct.w, ct.b, 9 * 16}};
    for (int l = 0; l < 3; l++) {
        double bound = 1.0 / sqrt(L[l].fan_in), s2 = 0, mx = 0;
        int64_t n = hl_tensor_numel(L[l].w);
        for (int64_t i = 0; i < n; i++) {
            double v = L[l].w->data[i];
            cr_assert(fabs(v) <= bound * (1 + 1e-6), "layer %d weight %g outside ±%g", l, v, bound);
            s2 += v * v;
            mx = fmax(mx, fabs(v));
        }
        /* U(−b, b) has std b/√3; n >= 1152, so 10% is > 3σ of the estimate. */
        double std = sqrt(s2 / n);
        cr_assert(fabs(std / (bound / sqrt(3.0)) - 1) < 0.1, "layer %d std %g, want %g", l, std, bound / sqrt(3.0));
        cr_assert(mx > 0.95 * bound, "layer %d: weights do not fill the range", l);
        for (int64_t i = 0; i < hl_tensor_numel(L[l].b); i++)
            cr_assert(fabs(L[l].b->data[i]) <= bound * (1 + 1e-6), "layer %d bias outside ±%g", l, bound);
        cr_assert(L[l].b->data[0] != L[l].b->data[1]);
    }
    for (int c = 0; c < 6; c++)
        cr_assert(bn.w->data[c] == 1.0f && bn.b->data[c] == 0.0f && bn.running_var->data[c] == 1.0f &&
                  bn.running_mean->data[c] == 0.0f);
    cr_assert_eq(r.counter, 4, "one sub-stream per layer");

    /* Determinism: same seed -> same values; a layer's values do not depend on the previous layer's size. */
    hl_params q;
    hl_params_init(&q);
    hl_linear_layer fc2;
    hl_conv2d_layer cv2;
    hl_linear_layer_init(&fc2, &q, "fc", 7, 2, true); /* different first layer */
    hl_conv2d_layer_init(&cv2, &q, "cv", 16, 64, 5, 1, 2, 1, true);
    cr_assert_eq(hl_params_alloc(&q), HL_OK);
    hl_rng r2 = hl_rng_make(11, 0);
    hl_nn_init_default(&fc2, &r2);
    hl_nn_init_default(&cv2, &r2);
    cr_assert(memcmp(cv.w->data, cv2.w->data, (size_t)hl_tensor_numel(cv.w) * 4) == 0);
    cr_assert(memcmp(cv.b->data, cv2.b->data, 64 * 4) == 0);
    hl_params_free(&p);
    hl_params_free(&q);
}

/* ---- forward against reference loops --------------------------------------------------------------------------- */

static void fill(hl_tensor *t, uint64_t seed) {
    hl_rng r = hl_rng_make(seed, 3);
    hl_rng_uniform(&r, t->data, hl_tensor_numel(t), -1, 1);
}

Test(layers, linear_forward_and_parameter_grads) {
    hl_params p;
    hl_params_init(&p);
    hl_linear_layer fc;
    hl_linear_layer_init(&fc, &p, "fc", 3, 2, true);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    const float w[6] = {1, 2, 3, -1, 0.5f, 0}, b[2] = {0.25f, -1};
    memcpy(fc.w->data, w, sizeof w);
    memcpy(fc.b->data, b, sizeof b);
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_tensor_from(ctx, 2, HL_SHAPE(2, 3), (const float[]){1, 0, -1, 2, 1, 1});
    hl_tensor *y = hl_linear_layer_forward(ctx, &fc, x);
    /* y = x·wᵀ + b: row 0 = [1−3+.25, −1+0−1] ; row 1 = [2+2+3+.25, −2+.5−1] */
    hl_test_assert_close(y->data, (const float[]){-1.75f, -2.0f, 7.25f, -2.5f}, 4, 1e-6f, 0, "linear");
    /* L = Σ y: dL/dw[o,i] = Σ_b x[b,i] = [3, 1, 0] per row, dL/db = B = 2 — accumulated into the grad slab. */
    hl_backward(ctx, hl_sum(ctx, y, HL_AXES_ALL, false));
    hl_test_assert_close(fc.w->grad, (const float[]){3, 1, 0, 3, 1, 0}, 6, 1e-6f, 0, "dw");
    hl_test_assert_close(fc.b->grad, (const float[]){2, 2}, 2, 1e-6f, 0, "db");
    cr_assert_eq(fc.w->grad, p.grad + hl_params_offset(&p, 0));
    /* Frozen: backward leaves the slab alone. */
    hl_params_zero_grad(&p);
    hl_params_set_requires_grad(&p, false);
    hl_ctx_reset(ctx);
    hl_tensor *x2 = hl_tensor_from(ctx, 2, HL_SHAPE(2, 3), (const float[]){1, 0, -1, 2, 1, 1});
    hl_tensor_set_requires_grad(x2, true);
    hl_backward(ctx, hl_sum(ctx, hl_linear_layer_forward(ctx, &fc, x2), HL_AXES_ALL, false));
    for (int64_t i = 0; i < p.slab_len; i++) cr_assert_eq(p.grad[i], 0.0f, "frozen parameter got a gradient");
    /* dL/dx[b,i] = Σ_o w[o,i] = [0, 2.5, 3] */
    hl_test_assert_close(x2->grad, (const float[]){0, 2.5f, 3, 0, 2.5f, 3}, 6, 1e-6f, 0, "dx");
    hl_ctx_free(ctx);
    hl_params_free(&p);
}

Test(layers, conv2d_forward_matches_reference) {
    hl_params p;
    hl_params_init(&p);
    hl_conv2d_layer cv;
    const int B = 2, C = 3, O = 4, H = 7, W = 6, k = 3, s = 2, pd = 1;
    hl_conv2d_layer_init(&cv, &p, "cv", C, O, k, s, pd, 1, true);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    fill(cv.w, 1);
    fill(cv.b, 2);
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_tensor_new(ctx, 4, HL_SHAPE(B, C, H, W));
    fill(x, 3);
    hl_tensor *y = hl_conv2d_layer_forward(ctx, &cv, x);
    const int Ho = (H + 2 * pd - k) / s + 1, Wo = (W + 2 * pd - k) / s + 1;
    cr_assert(y->ndim == 4 && y->shape[0] == B && y->shape[1] == O && y->shape[2] == Ho && y->shape[3] == Wo);
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++)
            for (int i = 0; i < Ho; i++)
                for (int j = 0; j < Wo; j++) {
                    double acc = cv.b->data[o];
                    for (int c = 0; c < C; c++)
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++) {
                                int hi = i * s - pd + u, wj = j * s - pd + v;
                                if (hi < 0 || hi >= H || wj < 0 || wj >= W) continue;
                                acc += (double)cv.w->data[((o * C + c) * k + u) * k + v] *
                                       x->data[((b * C + c) * H + hi) * W + wj];
                            }
                    float got = y->data[((b * O + o) * Ho + i) * Wo + j];
                    cr_assert(fabs(got - acc) < 1e-5, "conv y[%d,%d,%d,%d] = %g, want %g", b, o, i, j, got, acc);
                }
    hl_ctx_free(ctx);
    hl_params_free(&p);
}

Test(layers, conv_transpose2d_forward_matches_reference) {
    hl_params p;
    hl_params_init(&p);
    hl_conv_transpose2d_layer ct;
    const int B = 2, C = 3, O = 2, H = 3, W = 4, k = 4, s = 2, pd = 1, op = 1;
    hl_conv_transpose2d_layer_init(&ct, &p, "ct", C, O, k, s, pd, op, 1, true);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    fill(ct.w, 4);
    fill(ct.b, 5);
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_tensor_new(ctx, 4, HL_SHAPE(B, C, H, W));
    fill(x, 6);
    hl_tensor *y = hl_conv_transpose2d_layer_forward(ctx, &ct, x);
    const int Ho = (H - 1) * s - 2 * pd + k + op, Wo = (W - 1) * s - 2 * pd + k + op;
    cr_assert(y->shape[0] == B && y->shape[1] == O && y->shape[2] == Ho && y->shape[3] == Wo);
    /* Scatter form: each input pixel adds w[c,o] ⊗ x at output (h·s − p + u, w·s − p + v). */
    double *ref = calloc((size_t)B * O * Ho * Wo, sizeof *ref);
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++)
            for (int i = 0; i < Ho * Wo; i++) ref[(b * O + o) * Ho * Wo + i] = ct.b->data[o];
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++)
                    for (int o = 0; o < O; o++)
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++) {
                                int oh = h * s - pd + u, ow = w * s - pd + v;
                                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
                                ref[((b * O + o) * Ho + oh) * Wo + ow] += (double)x->data[((b * C + c) * H + h) * W + w] *
                                                                          ct.w->data[((c * O + o) * k + u) * k + v];
                            }
    for (int i = 0; i < B * O * Ho * Wo; i++)
        cr_assert(fabs(y->data[i] - ref[i]) < 1e-5, "conv_transpose y[%d] = %g, want %g", i, y->data[i], ref[i]);
    free(ref);
    hl_ctx_free(ctx);
    hl_params_free(&p);
}

Test(layers, batchnorm_train_updates_running_stats_and_eval_uses_them) {
    hl_params p;
    hl_params_init(&p);
    hl_batchnorm_layer bn;
    hl_batchnorm_layer_init(&bn, &p, "bn", 2, true);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_rng r = hl_rng_make(1, 1);
    hl_nn_init_default(&bn, &r);
    bn.w->data[1] = 2.0f;
    bn.b->data[1] = 0.5f;
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, true);
    /* x [4,2]: channel 0 = {1,2,3,4} (mean 2.5, biased var 1.25, unbiased 5/3), channel 1 = {0,0,2,2} (mean 1, var 1,
     * unbiased 4/3). */
    hl_tensor *x = hl_tensor_from(ctx, 2, HL_SHAPE(4, 2), (const float[]){1, 0, 2, 0, 3, 2, 4, 2});
    hl_tensor *y = hl_batchnorm_layer_forward(ctx, &bn, x);
    const float inv0 = 1.0f / sqrtf(1.25f + 1e-5f), inv1 = 1.0f / sqrtf(1.0f + 1e-5f);
    const float want[8] = {-1.5f * inv0, 2 * -inv1 + 0.5f, -0.5f * inv0, 2 * -inv1 + 0.5f,
                           0.5f * inv0,  2 * inv1 + 0.5f,  1.5f * inv0,  2 * inv1 + 0.5f};
    hl_test_assert_close(y->data, want, 8, 1e-5f, 1e-5f, "bn train");
    hl_test_assert_close(bn.running_mean->data, (const float[]){0.25f, 0.1f}, 2, 1e-6f, 1e-6f, "running mean");
    hl_test_assert_close(bn.running_var->data, (const float[]){0.9f + 0.1f * 5.0f / 3.0f, 0.9f + 0.1f * 4.0f / 3.0f}, 2,
                         1e-6f, 1e-6f, "running var (unbiased)");
    hl_ctx_set_train(ctx, false);
    hl_tensor *ye = hl_batchnorm_layer_forward(ctx, &bn, x);
    float rm0 = bn.running_mean->data[0], rv0 = bn.running_var->data[0];
    cr_assert_float_eq(ye->data[0], (1 - rm0) / sqrtf(rv0 + 1e-5f), 1e-5, "eval uses running stats");
    cr_assert_float_eq(bn.running_mean->data[0], rm0, 0, "eval does not update");
    hl_ctx_free(ctx);
    hl_params_free(&p);
}

Test(layers, instancenorm_forward) {
    hl_params p;
    hl_params_init(&p);
    hl_instancenorm_layer in;
    hl_instancenorm_layer_init(&in, &p, "in", 2, true);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_rng r = hl_rng_make(1, 1);
    hl_nn_init_default(&in, &r);
    in.b->data[1] = 1.0f;
    hl_ctx *ctx = hl_test_ctx();
    /* x [1,2,2,2]: channel 0 = {1,2,3,4} (mean 2.5, var 1.25); channel 1 = {5,5,7,7} (mean 6, var 1). */
    hl_tensor *x = hl_tensor_from(ctx, 4, HL_SHAPE(1, 2, 2, 2), (const float[]){1, 2, 3, 4, 5, 5, 7, 7});
    hl_tensor *y = hl_instancenorm_layer_forward(ctx, &in, x);
    const float i0 = 1.0f / sqrtf(1.25f + 1e-5f), i1 = 1.0f / sqrtf(1.0f + 1e-5f);
    hl_test_assert_close(y->data, (const float[]){-1.5f * i0, -0.5f * i0, 0.5f * i0, 1.5f * i0, 1 - i1, 1 - i1, 1 + i1, 1 + i1},
                         8, 1e-5f, 1e-5f, "instancenorm");
    hl_ctx_free(ctx);
    hl_params_free(&p);
}

Test(layers, wrong_input_channels_abort, .signal = SIGABRT) {
    hl_params p;
    hl_params_init(&p);
    hl_conv2d_layer cv;
    hl_conv2d_layer_init(&cv, &p, "cv", 3, 4, 3, 1, 1, 1, true);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_ctx *ctx = hl_test_ctx();
    hl_conv2d_layer_forward(ctx, &cv, hl_tensor_zeros(ctx, 4, HL_SHAPE(1, 2, 5, 5)));
}
