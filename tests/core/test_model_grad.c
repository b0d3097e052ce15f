/* tests/core/test_model_grad.c — gradient checks of whole composed graphs, not single ops: the tape must chain
 * every op's backward correctly (shapes, accumulation, saved tensors) through a CNN block, a GAN-style
 * conv-transpose generator and an attack-style input gradient. Same checker and tolerances as the op tests. */
#include "test_common.h"

/* x [2,2,6,6] → conv3x3(2→3, p1) → batchnorm(train) → leaky_relu → maxpool2 → flatten → linear(27→4) → tanh(2·) →
 * mse against t. Inputs: x, conv w, conv b, bn γ, bn β, linear w, linear b, target (not checked). */
static hl_tensor *cnn_block(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    hl_tensor *h = hl_conv2d(ctx, in[0], in[1], in[2], HL_CONV_OPTS(1, 1, 1));
    h = hl_batchnorm(ctx, h, in[3], in[4], NULL, NULL, 0.1f, 1e-5f);
    h = hl_maxpool2d(ctx, hl_leaky_relu(ctx, h, 0.2f), 2, 2, 0);
    h = hl_tanh_scaled(ctx, hl_linear(ctx, hl_flatten(ctx, h), in[5], in[6]), 2.0f);
    return hl_mse(ctx, h, in[7]);
}

Test(model_grad, cnn_block_all_parameters_and_input) {
    hl_tensor *in[8] = {
        hl_test_tensor(4, HL_SHAPE(2, 2, 6, 6), 1, -1.0f, 1.0f), hl_test_tensor(4, HL_SHAPE(3, 2, 3, 3), 2, -0.5f, 0.5f),
        hl_test_tensor(1, HL_SHAPE(3), 3, -0.1f, 0.1f),          hl_test_tensor(1, HL_SHAPE(3), 4, 0.5f, 1.5f),
        hl_test_tensor(1, HL_SHAPE(3), 5, -0.2f, 0.2f),          hl_test_tensor(2, HL_SHAPE(4, 27), 6, -0.3f, 0.3f),
        hl_test_tensor(1, HL_SHAPE(4), 7, -0.1f, 0.1f),          hl_test_tensor(2, HL_SHAPE(2, 4), 8, -1.0f, 1.0f)};
    hl_test_gradcheck("cnn block", cnn_block, 8, in, NULL,
                      (hl_gradcheck_opts){.kink_tol = 0.05f, .skip_mask = 1u << 7, .max_skip_frac = 0.1});
    for (int i = 0; i < 8; i++) hl_tensor_free(in[i]);
}

/* z [2,4] → linear(4→2·3·3) → reshape [2,2,3,3] → conv_transpose(2→3, k4, s2, p1) → instancenorm → sigmoid →
 * concat with itself scaled → mean. Inputs: z, linear w, linear b, convT w, convT b. */
static hl_tensor *generator(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    hl_tensor *h = hl_reshape(ctx, hl_linear(ctx, in[0], in[1], in[2]), 4, HL_SHAPE(2, 2, 3, 3));
    h = hl_conv_transpose2d(ctx, h, in[3], in[4], HL_CONV_OPTS(2, 1, 1));
    h = hl_sigmoid(ctx, hl_instancenorm(ctx, h, NULL, NULL, 1e-5f));
    hl_tensor *parts[2] = {h, hl_mul(ctx, h, h)};
    return hl_sum(ctx, hl_concat(ctx, 2, parts, 1), HL_AXIS(1) | HL_AXIS(3), false);
}

Test(model_grad, gan_generator) {
    hl_tensor *in[5] = {hl_test_tensor(2, HL_SHAPE(2, 4), 11, -1.0f, 1.0f),
                        hl_test_tensor(2, HL_SHAPE(18, 4), 12, -0.5f, 0.5f),
                        hl_test_tensor(1, HL_SHAPE(18), 13, -0.1f, 0.1f),
                        hl_test_tensor(4, HL_SHAPE(2, 3, 4, 4), 14, -0.5f, 0.5f),
                        hl_test_tensor(1, HL_SHAPE(3), 15, -0.1f, 0.1f)};
    hl_test_gradcheck("generator", generator, 5, in, NULL, (hl_gradcheck_opts){0});
    for (int i = 0; i < 5; i++) hl_tensor_free(in[i]);
}

/* Attack-style: only the perturbation δ is checked; the victim's weights are constants (skip_mask) and get no
 * gradient buffer filled. loss = Σ tanh(conv(rotate(x + δ))) ⊙ t. */
static hl_tensor *attack_loss(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    static const float angles[2] = {0.3f, -0.2f};
    hl_tensor *xa = hl_clamp(ctx, hl_add(ctx, in[0], in[1]), 0.0f, 1.0f);
    hl_tensor *h = hl_tanh(ctx, hl_conv2d(ctx, hl_rotate(ctx, xa, angles), in[2], NULL, HL_CONV_OPTS(2, 0, 1)));
    return hl_sum(ctx, hl_mul(ctx, hl_global_avgpool(ctx, h), in[3]), HL_AXES_ALL, false);
}

Test(model_grad, attack_input_gradient_only) {
    hl_tensor *in[4] = {hl_test_tensor(4, HL_SHAPE(2, 1, 7, 7), 21, 0.2f, 0.8f),
                        hl_test_tensor(4, HL_SHAPE(2, 1, 7, 7), 22, -0.03f, 0.03f),
                        hl_test_tensor(4, HL_SHAPE(3, 1, 3, 3), 23, -0.5f, 0.5f),
                        hl_test_tensor(2, HL_SHAPE(2, 3), 24, -1.0f, 1.0f)};
    hl_test_gradcheck("attack", attack_loss, 4, in, NULL,
                      (hl_gradcheck_opts){.skip_mask = (1u << 0) | (1u << 2) | (1u << 3), .kink_tol = 0.05f});
    cr_assert_null(in[2]->grad, "frozen victim weights must not get a gradient buffer");
    for (int i = 0; i < 4; i++) hl_tensor_free(in[i]);
}
