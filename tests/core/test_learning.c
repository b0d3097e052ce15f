/* tests/core/test_learning.c — the engine learns: a small CNN on a seeded synthetic 8-class problem must go from
 * chance (untrained: < 40% held-out accuracy) to >= 90% held-out accuracy within 200 Adam steps (about a second on
 * one core).
 *
 * Data: 1×12×12 images; class c = (quadrant q = c % 4, orientation o = c / 4) draws a 1×4 bar (horizontal if o = 0,
 * vertical if o = 1) of intensity 0.9 in quadrant q at a random offset, on uniform noise in [0, 0.7). Chance is
 * 12.5%; position and orientation are the only signal, so the net must learn oriented spatial features through
 * conv, batch norm, pool and the classifier. Everything is seeded: the result is deterministic for a given thread
 * count (ctest runs with 1 thread).
 * Net: conv3x3(1→8, p1) → BN → ReLU → maxpool2 → conv3x3(8→16, p1) → ReLU → maxpool2 → flatten → linear(144→4).
 */
#include <math.h>
#include <string.h>

#include "core/nn/layers.h"
#include "core/optim.h"
#include "test_common.h"

enum { S = 12, NCLASS = 8, BATCH = 32, STEPS = 200, NTEST = 400 };

static void make_sample(uint64_t idx, uint64_t stream, float *img, float *onehot, int *label) {
    hl_rng r = hl_rng_make(2024, stream * 1000003u + idx);
    int c = (int)hl_rng_below(&r, NCLASS);
    hl_rng_uniform(&r, img, S * S, 0.0f, 0.7f);
    int q = c % 4, vertical = c / 4;
    int oy = (q / 2) * 6 + (int)hl_rng_below(&r, 3), ox = (q % 2) * 6 + (int)hl_rng_below(&r, 3);
    for (int i = 0; i < 4; i++) img[(oy + (vertical ? i : 0)) * S + ox + (vertical ? 0 : i)] = 0.9f;
    if (onehot) {
        memset(onehot, 0, NCLASS * sizeof *onehot);
        onehot[c] = 1.0f;
    }
    *label = c;
}

typedef struct net {
    hl_params p;
    hl_conv2d_layer c1, c2;
    hl_batchnorm_layer bn1;
    hl_linear_layer fc;
} net;

static hl_tensor *forward(hl_ctx *ctx, net *m, hl_tensor *x) {
    hl_tensor *h = hl_conv2d_layer_forward(ctx, &m->c1, x);
    h = hl_maxpool2d(ctx, hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &m->bn1, h)), 2, 2, 0);
    h = hl_maxpool2d(ctx, hl_relu(ctx, hl_conv2d_layer_forward(ctx, &m->c2, h)), 2, 2, 0);
    return hl_linear_layer_forward(ctx, &m->fc, hl_flatten(ctx, h));
}

/* Held-out accuracy in eval mode (batch norm on running statistics). */
static double heldout_accuracy(hl_ctx *ctx, net *m, float *xb, int *labels) {
    for (int i = 0; i < NTEST; i++) make_sample((uint64_t)i, 2, xb + i * S * S, NULL, &labels[i]);
    hl_ctx_reset(ctx);
    hl_ctx_set_train(ctx, false);
    hl_no_grad_begin(ctx);
    hl_tensor *logits = forward(ctx, m, hl_tensor_from(ctx, 4, HL_SHAPE(NTEST, 1, S, S), xb));
    hl_no_grad_end(ctx);
    hl_ctx_set_train(ctx, true);
    int correct = 0;
    for (int i = 0; i < NTEST; i++) {
        int best = 0;
        for (int c = 1; c < NCLASS; c++)
            if (logits->data[i * NCLASS + c] > logits->data[i * NCLASS + best]) best = c;
        correct += best == labels[i];
    }
    return (double)correct / NTEST;
}

Test(learning, small_cnn_learns_synthetic_patterns, .timeout = 120) {
    net m;
    hl_params_init(&m.p);
    hl_conv2d_layer_init(&m.c1, &m.p, "c1", 1, 8, 3, 1, 1, 1, true);
    hl_batchnorm_layer_init(&m.bn1, &m.p, "bn1", 8, true);
    hl_conv2d_layer_init(&m.c2, &m.p, "c2", 8, 16, 3, 1, 1, 1, true);
    hl_linear_layer_init(&m.fc, &m.p, "fc", 16 * 3 * 3, NCLASS, true);
    cr_assert_eq(hl_params_alloc(&m.p), HL_OK, "%s", hl_error_last());
    hl_rng r = hl_rng_make(7, 1);
    hl_nn_init_default_conv2d(&m.c1, &r);
    hl_nn_init_default_batchnorm(&m.bn1, &r);
    hl_nn_init_default_conv2d(&m.c2, &r);
    hl_nn_init_default_linear(&m.fc, &r);
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    oc.lr = 0.01f;
    hl_optim *opt = NULL;
    cr_assert_eq(hl_optim_create(&opt, &m.p, &oc), HL_OK, "%s", hl_error_last());

    hl_ctx *ctx = hl_test_ctx();
    static float xb[NTEST * S * S], yb[NTEST * NCLASS];
    int labels[NTEST];
    float first_loss = 0, last_loss = 0;
    double acc0 = heldout_accuracy(ctx, &m, xb, labels);
    for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < BATCH; i++)
            make_sample((uint64_t)(step * BATCH + i), 1, xb + i * S * S, yb + i * NCLASS, &labels[i]);
        hl_ctx_reset(ctx);
        hl_tensor *x = hl_tensor_from(ctx, 4, HL_SHAPE(BATCH, 1, S, S), xb);
        hl_tensor *y = hl_tensor_from(ctx, 2, HL_SHAPE(BATCH, NCLASS), yb);
        hl_tensor *loss = hl_softmax_ce(ctx, forward(ctx, &m, x), y);
        hl_backward(ctx, loss);
        hl_optim_step(opt);
        hl_optim_zero_grad(opt);
        cr_assert(isfinite(loss->data[0]), "loss is not finite at step %d", step);
        if (step == 0) first_loss = loss->data[0];
        last_loss = loss->data[0];
    }

    double acc = heldout_accuracy(ctx, &m, xb, labels);
    cr_log_info("learning: loss %.3f -> %.3f, held-out accuracy %.1f%% untrained -> %.1f%% trained", first_loss,
                last_loss, 100 * acc0, 100 * acc);
    cr_assert(acc0 < 0.40, "untrained accuracy %.1f%% is not near chance: the task is too easy", 100 * acc0);
    cr_assert(last_loss < 0.5f * first_loss, "loss did not halve: %.3f -> %.3f", first_loss, last_loss);
    cr_assert(acc >= 0.90, "held-out accuracy %.1f%% < 90%%", 100 * acc);
    hl_ctx_free(ctx);
    hl_optim_free(opt);
    hl_params_free(&m.p);
}
