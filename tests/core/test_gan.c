/* tests/core/test_gan.c — GAN building blocks: generator / discriminator shapes, names and value range for 28×28×1
 * and 32×32×3, loss values on a hand case and their finite-difference gradients, and alternating D/G steps on a 2-D
 * toy distribution (the generator's samples move to the data; each step leaves the other network untouched). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/image.h"
#include "core/nn/gan.h"
#include "core/optim.h"
#include "test_common.h"

static void check_shape(const hl_tensor *t, int ndim, const int64_t *shape, const char *what) {
    cr_assert_eq(t->ndim, ndim, "%s: ndim %d", what, t->ndim);
    for (int i = 0; i < ndim; i++)
        cr_assert_eq(t->shape[i], shape[i], "%s: dim %d is %lld, want %lld", what, i, (long long)t->shape[i],
                     (long long)shape[i]);
}

/* G and D (image and pair) for one image size: shapes, names, outputs in (0,1), finite logits, train and eval. */
static void shapes_case(int c, int hw, int s0, int nup) {
    hl_ctx *ctx = hl_test_ctx();
    hl_params pg, pd, pp;
    hl_params_init(&pg), hl_params_init(&pd), hl_params_init(&pp);
    hl_gan_generator g;
    hl_gan_discriminator d, dp;
    const int B = 4, Z = 20, K = 12;
    cr_assert_eq(hl_gan_generator_init(&g, &pg, "G", Z, c, hw, hw, 0), HL_OK);
    cr_assert_eq(hl_gan_disc_init(&d, &pd, "D", c, hw, hw, 0, 0, 0), HL_OK);
    cr_assert_eq(hl_gan_disc_init(&dp, &pp, "D", c, hw, hw, 32, K, 64), HL_OK);
    cr_assert_eq(hl_params_alloc(&pg), HL_OK);
    cr_assert_eq(hl_params_alloc(&pd), HL_OK);
    cr_assert_eq(hl_params_alloc(&pp), HL_OK);
    cr_assert_eq(g.s0, s0);
    cr_assert_eq(g.n, nup);
    int ch0 = 64 << (nup - 1);
    char nm[64];
    check_shape(hl_params_find(&pg, "G.fc.weight"), 2, HL_SHAPE(ch0 * s0 * s0, Z), "G.fc.weight");
    cr_assert_not_null(hl_params_find(&pg, "G.bn0.running_var"));
    snprintf(nm, sizeof nm, "G.deconv%d.weight", nup);
    check_shape(hl_params_find(&pg, nm), 4, HL_SHAPE(64, c, 4, 4), nm);
    snprintf(nm, sizeof nm, "G.bn%d.weight", nup - 1);
    check_shape(hl_params_find(&pg, nm), 1, HL_SHAPE(64), nm);
    snprintf(nm, sizeof nm, "G.bn%d.weight", nup);
    cr_assert_null(hl_params_find(&pg, nm), "no batch norm on G's output layer");
    check_shape(hl_params_find(&pd, "D.conv1.weight"), 4, HL_SHAPE(64, c, 4, 4), "D.conv1.weight");
    cr_assert_null(hl_params_find(&pd, "D.bn1.weight"), "no batch norm on D's first layer");
    cr_assert_not_null(hl_params_find(&pd, "D.bn2.weight"));
    cr_assert_eq(d.features, ch0 * s0 * s0);
    check_shape(hl_params_find(&pd, "D.fc.weight"), 2, HL_SHAPE(1, ch0 * s0 * s0), "D.fc.weight");
    cr_assert_eq(dp.features, (32 << (nup - 1)) * s0 * s0);
    check_shape(hl_params_find(&pp, "D.fc1.weight"), 2, HL_SHAPE(64, dp.features + K), "D.fc1.weight");
    check_shape(hl_params_find(&pp, "D.fc2.weight"), 2, HL_SHAPE(1, 64), "D.fc2.weight");

    hl_rng r = hl_rng_make(5, 0);
    hl_gan_generator_reset(&g, &r);
    hl_gan_disc_reset(&d, &r);
    hl_gan_disc_reset(&dp, &r);
    /* DCGAN init: weights N(0, 0.02) — sample std of the big fc weight near 0.02; bn weights near 1. */
    const hl_tensor *fw = g.fc.w;
    double s2 = 0;
    for (int64_t i = 0; i < hl_tensor_numel(fw); i++) s2 += (double)fw->data[i] * fw->data[i];
    double sd = sqrt(s2 / (double)hl_tensor_numel(fw));
    cr_assert(fabs(sd - 0.02) < 0.002, "G.fc.weight std %g", sd);
    cr_assert(fabsf(g.bn0.w->data[0] - 1.0f) < 0.1f && g.bn0.b->data[0] == 0.0f);

    hl_tensor *zh = hl_test_tensor(2, HL_SHAPE(B, Z), 9, -2.0f, 2.0f);
    hl_tensor *ch = hl_test_tensor(2, HL_SHAPE(B, K), 10, -1.0f, 1.0f);
    for (int mode = 0; mode < 2; mode++) {
        hl_ctx_reset(ctx);
        hl_ctx_set_train(ctx, mode == 0);
        hl_tensor *x = hl_gan_generator_forward(ctx, &g, zh);
        check_shape(x, 4, HL_SHAPE(B, c, hw, hw), "G(z)");
        float lo = 1, hi = 0;
        for (int64_t i = 0; i < hl_tensor_numel(x); i++) {
            cr_assert(x->data[i] > 0.0f && x->data[i] < 1.0f, "G(z)[%lld] = %g outside (0,1)", (long long)i,
                      x->data[i]);
            lo = fminf(lo, x->data[i]), hi = fmaxf(hi, x->data[i]);
        }
        cr_assert(hi - lo > 1e-3f, "G(z) is constant");
        hl_tensor *l = hl_gan_disc_forward(ctx, &d, x, NULL);
        check_shape(l, 2, HL_SHAPE(B, 1), "D(x)");
        hl_tensor *lp = hl_gan_disc_forward(ctx, &dp, x, ch);
        check_shape(lp, 2, HL_SHAPE(B, 1), "D(x, b)");
        for (int i = 0; i < B; i++) cr_assert(isfinite(l->data[i]) && isfinite(lp->data[i]));
    }
    /* Gradient reaches z through G and D. */
    hl_ctx_reset(ctx);
    hl_ctx_set_train(ctx, true);
    hl_tensor_set_requires_grad(zh, true);
    hl_tensor *loss = hl_gan_g_loss(ctx, HL_GAN_LOSS_NS,
                                    hl_gan_disc_forward(ctx, &dp, hl_gan_generator_forward(ctx, &g, zh), ch));
    hl_backward(ctx, loss);
    double gz = 0;
    for (int i = 0; i < B * Z; i++) gz += fabsf(zh->grad[i]);
    cr_assert(gz > 0 && isfinite(gz), "no gradient to z");
    cr_assert_eq(hl_gan_disc_init(&d, &pd, "X", c, hw + 1, hw + 1, 0, 0, 0), HL_EINVAL);
    cr_assert_eq(hl_gan_generator_init(&g, &pg, "X", Z, c, 24, 24, 0), HL_EINVAL);
    hl_tensor_free(zh);
    hl_tensor_free(ch);
    hl_params_free(&pg), hl_params_free(&pd), hl_params_free(&pp);
    hl_ctx_free(ctx);
}

Test(gan, shapes_28x28x1) { shapes_case(1, 28, 7, 2); }
Test(gan, shapes_32x32x3) { shapes_case(3, 32, 4, 3); }

/* ---- losses -------------------------------------------------------------------------------------------------- */

static hl_tensor *f_d_ns(hl_ctx *ctx, hl_tensor **in, void *u) {
    (void)u;
    return hl_gan_d_loss(ctx, HL_GAN_LOSS_NS, in[0], in[1]);
}
static hl_tensor *f_d_ls(hl_ctx *ctx, hl_tensor **in, void *u) {
    (void)u;
    return hl_gan_d_loss(ctx, HL_GAN_LOSS_LSGAN, in[0], in[1]);
}
static hl_tensor *f_g_ns(hl_ctx *ctx, hl_tensor **in, void *u) {
    (void)u;
    return hl_gan_g_loss(ctx, HL_GAN_LOSS_NS, in[0]);
}
static hl_tensor *f_g_ls(hl_ctx *ctx, hl_tensor **in, void *u) {
    (void)u;
    return hl_gan_g_loss(ctx, HL_GAN_LOSS_LSGAN, in[0]);
}

/* real logits (0, 1), fake logits (−1, 0); softplus(0) = ln 2 = 0.693147, softplus(−1) = 0.313262,
 * softplus(1) = 1.313262.
 *   NS D:  BCE(real, 1) = mean(softplus(−z)) = (0.693147 + 0.313262)/2 = 0.503204;
 *          BCE(fake, 0) = mean(softplus(z)) = (0.313262 + 0.693147)/2 = 0.503204;  L_D = 1.006409
 *   NS G:  mean(softplus(−fake)) = (1.313262 + 0.693147)/2 = 1.003204
 *   LS D:  ½·mean((real − 1)²) + ½·mean(fake²) = ½·(1 + 0)/2 + ½·(1 + 0)/2 = 0.5
 *   LS G:  ½·mean((fake − 1)²) = ½·(4 + 1)/2 = 1.25
 * Gradients (B = 2): NS D d/dreal = −sigmoid(−z)/2 = (−0.25, −0.134470), d/dfake = sigmoid(z)/2 = (0.134470, 0.25);
 * LS D d/dreal = (real − 1)/2 = (−0.5, 0), d/dfake = fake/2 = (−0.5, 0). */
Test(gan, loss_values_hand_case) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *real = hl_test_tensor_of(2, HL_SHAPE(2, 1), (float[]){0.0f, 1.0f});
    hl_tensor *fake = hl_test_tensor_of(2, HL_SHAPE(2, 1), (float[]){-1.0f, 0.0f});
    const float want[4] = {1.006409f, 1.003204f, 0.5f, 1.25f};
    float got[4];
    got[0] = hl_gan_d_loss(ctx, HL_GAN_LOSS_NS, real, fake)->data[0];
    got[1] = hl_gan_g_loss(ctx, HL_GAN_LOSS_NS, fake)->data[0];
    got[2] = hl_gan_d_loss(ctx, HL_GAN_LOSS_LSGAN, real, fake)->data[0];
    got[3] = hl_gan_g_loss(ctx, HL_GAN_LOSS_LSGAN, fake)->data[0];
    hl_test_assert_close(got, want, 4, 1e-5f, 1e-5f, "gan losses");
    hl_ctx_reset(ctx);
    hl_tensor_set_requires_grad(real, true), hl_tensor_set_requires_grad(fake, true);
    hl_tensor *l = hl_gan_d_loss(ctx, HL_GAN_LOSS_NS, real, fake);
    cr_assert_eq(l->ndim, 0, "scalar loss");
    hl_backward(ctx, l);
    hl_test_assert_close(real->grad, (float[]){-0.25f, -0.134470f}, 2, 1e-5f, 1e-4f, "NS d/dreal");
    hl_test_assert_close(fake->grad, (float[]){0.134470f, 0.25f}, 2, 1e-5f, 1e-4f, "NS d/dfake");
    hl_tensor_zero_grad(real), hl_tensor_zero_grad(fake);
    hl_ctx_reset(ctx);
    hl_backward(ctx, hl_gan_d_loss(ctx, HL_GAN_LOSS_LSGAN, real, fake));
    hl_test_assert_close(real->grad, (float[]){-0.5f, 0.0f}, 2, 1e-6f, 1e-5f, "LS d/dreal");
    hl_test_assert_close(fake->grad, (float[]){-0.5f, 0.0f}, 2, 1e-6f, 1e-5f, "LS d/dfake");
    cr_assert_eq(hl_gan_loss_from_name("lsgan"), HL_GAN_LOSS_LSGAN);
    cr_assert_eq(hl_gan_loss_from_name("ns"), HL_GAN_LOSS_NS);
    cr_assert_eq(hl_gan_loss_from_name("wgan"), HL_GAN_LOSS_KIND_COUNT);
    hl_tensor_free(real), hl_tensor_free(fake);
    hl_ctx_free(ctx);
}

Test(gan, loss_gradients_finite_differences) {
    hl_tensor *real = hl_test_tensor(2, HL_SHAPE(6, 1), 21, -3.0f, 3.0f);
    hl_tensor *fake = hl_test_tensor(2, HL_SHAPE(5, 1), 22, -3.0f, 3.0f);
    hl_test_gradcheck("gan d_loss ns", f_d_ns, 2, (hl_tensor *[]){real, fake}, NULL, (hl_gradcheck_opts){0});
    hl_test_gradcheck("gan d_loss lsgan", f_d_ls, 2, (hl_tensor *[]){real, fake}, NULL, (hl_gradcheck_opts){0});
    hl_test_gradcheck("gan g_loss ns", f_g_ns, 1, (hl_tensor *[]){fake}, NULL, (hl_gradcheck_opts){0});
    hl_test_gradcheck("gan g_loss lsgan", f_g_ls, 1, (hl_tensor *[]){fake}, NULL, (hl_gradcheck_opts){0});
    hl_tensor_free(real), hl_tensor_free(fake);
}

/* ---- alternating steps on a 2-D toy distribution -------------------------------------------------------------- */

typedef struct mlp {
    hl_params p;
    hl_linear_layer l1, l2;
} mlp;

static void mlp_make(mlp *m, const char *prefix, int in, int hidden, int out, uint64_t seed) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%s.fc1", prefix), snprintf(b, sizeof b, "%s.fc2", prefix);
    hl_params_init(&m->p);
    hl_linear_layer_init(&m->l1, &m->p, a, in, hidden, true);
    hl_linear_layer_init(&m->l2, &m->p, b, hidden, out, true);
    cr_assert_eq(hl_params_alloc(&m->p), HL_OK);
    hl_rng r = hl_rng_make(seed, 3);
    hl_nn_init_default(&m->l1, &r);
    hl_nn_init_default(&m->l2, &r);
}

static hl_tensor *mlp_forward(hl_ctx *ctx, const mlp *m, hl_tensor *x, bool leaky) {
    hl_tensor *h = hl_linear_layer_forward(ctx, &m->l1, x);
    h = leaky ? hl_leaky_relu(ctx, h, 0.2f) : hl_relu(ctx, h);
    return hl_linear_layer_forward(ctx, &m->l2, h);
}

/* Mean distance of n generator samples to (2, 2). */
static double mean_dist(hl_ctx *ctx, const mlp *g, uint64_t seed, int n) {
    float *z = malloc((size_t)n * 2 * sizeof *z);
    hl_rng r = hl_rng_make(seed, 77);
    hl_rng_normal(&r, z, 2 * n, 0.0f, 1.0f);
    hl_ctx_reset(ctx);
    hl_no_grad_begin(ctx);
    hl_tensor *x = mlp_forward(ctx, g, hl_tensor_from(ctx, 2, HL_SHAPE(n, 2), z), false);
    hl_no_grad_end(ctx);
    double s = 0;
    for (int i = 0; i < n; i++) s += hypot(x->data[2 * i] - 2.0, x->data[2 * i + 1] - 2.0);
    free(z);
    return s / n;
}

static bool slab_equal(const hl_params *p, const float *copy) {
    return memcmp(p->data, copy, (size_t)p->slab_len * sizeof(float)) == 0;
}

/* data N((2,2), 0.1²), G: z ∈ R² ~ N(0, I) -> MLP(2-16-2), D: MLP(2-32-1) with LeakyReLU; Adam lr 2e-3,
 * betas (0.5, 0.999), batch 64, 300 alternating D/G steps, non-saturating loss (then LSGAN). */
static void toy_case(hl_gan_loss_kind kind, double *d0, double *d1) {
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, true);
    mlp g, d;
    mlp_make(&g, "G", 2, 16, 2, 1);
    mlp_make(&d, "D", 2, 32, 1, 2);
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    oc.lr = 2e-3f, oc.beta1 = 0.5f;
    hl_optim *og = NULL, *od = NULL;
    cr_assert_eq(hl_optim_create(&og, &g.p, &oc), HL_OK);
    cr_assert_eq(hl_optim_create(&od, &d.p, &oc), HL_OK);
    float *gcopy = malloc((size_t)g.p.slab_len * sizeof(float)), *dcopy = malloc((size_t)d.p.slab_len * sizeof(float));
    enum { B = 64, STEPS = 300 };
    float real[2 * B], z[2 * B];
    hl_rng r = hl_rng_make(123, 0);
    *d0 = mean_dist(ctx, &g, 999, 512);
    for (int it = 0; it < STEPS; it++) {
        /* D-step: G's output detached; G must not change. */
        hl_rng_normal(&r, real, 2 * B, 2.0f, 0.1f);
        hl_rng_normal(&r, z, 2 * B, 0.0f, 1.0f);
        memcpy(gcopy, g.p.data, (size_t)g.p.slab_len * sizeof(float));
        memcpy(dcopy, d.p.data, (size_t)d.p.slab_len * sizeof(float));
        hl_ctx_reset(ctx);
        hl_tensor *fake = hl_detach(ctx, mlp_forward(ctx, &g, hl_tensor_from(ctx, 2, HL_SHAPE(B, 2), z), false));
        hl_tensor *xr = hl_tensor_from(ctx, 2, HL_SHAPE(B, 2), real);
        hl_tensor *ld = hl_gan_d_loss(ctx, kind, mlp_forward(ctx, &d, xr, true), mlp_forward(ctx, &d, fake, true));
        hl_backward(ctx, ld);
        hl_optim_step(od);
        hl_optim_zero_grad(od);
        cr_assert(slab_equal(&g.p, gcopy), "D-step %d changed G", it);
        cr_assert(!slab_equal(&d.p, dcopy), "D-step %d did not change D", it);
        /* G-step: D frozen; D must not change and must get no gradient. */
        hl_rng_normal(&r, z, 2 * B, 0.0f, 1.0f);
        memcpy(gcopy, g.p.data, (size_t)g.p.slab_len * sizeof(float));
        memcpy(dcopy, d.p.data, (size_t)d.p.slab_len * sizeof(float));
        cr_assert_eq(hl_gan_freeze(&d.p, NULL, true), 4);
        hl_ctx_reset(ctx);
        hl_tensor *x = mlp_forward(ctx, &g, hl_tensor_from(ctx, 2, HL_SHAPE(B, 2), z), false);
        hl_tensor *lg = hl_gan_g_loss(ctx, kind, mlp_forward(ctx, &d, x, true));
        hl_backward(ctx, lg);
        for (int64_t i = 0; i < d.p.slab_len; i++) cr_assert(d.p.grad[i] == 0.0f, "frozen D got a gradient");
        hl_optim_step(og);
        hl_optim_zero_grad(og);
        hl_optim_step(od); /* a step of the frozen D's optimizer must be a no-op */
        cr_assert_eq(hl_gan_freeze(&d.p, "D.", false), 4);
        cr_assert(slab_equal(&d.p, dcopy), "G-step %d changed D", it);
        cr_assert(!slab_equal(&g.p, gcopy), "G-step %d did not change G", it);
    }
    *d1 = mean_dist(ctx, &g, 999, 512);
    free(gcopy), free(dcopy);
    hl_optim_free(og), hl_optim_free(od);
    hl_params_free(&g.p), hl_params_free(&d.p);
    hl_ctx_free(ctx);
}

Test(gan, toy_2d_non_saturating) {
    double d0, d1;
    toy_case(HL_GAN_LOSS_NS, &d0, &d1);
    cr_log_info("toy NS: mean distance to (2,2) %.3f -> %.3f", d0, d1);
    cr_assert(d0 > 2.0, "generator should start near the origin (distance %g)", d0);
    cr_assert(d1 < 0.5 * d0, "mean distance %g -> %g: did not halve", d0, d1);
}

Test(gan, toy_2d_lsgan) {
    double d0, d1;
    toy_case(HL_GAN_LOSS_LSGAN, &d0, &d1);
    cr_log_info("toy LSGAN: mean distance to (2,2) %.3f -> %.3f", d0, d1);
    cr_assert(d0 > 2.0, "generator should start near the origin (distance %g)", d0);
    cr_assert(d1 < 0.5 * d0, "mean distance %g -> %g: did not halve", d0, d1);
}

/* ---- the conv networks in one alternating step; gradients through the pair discriminator ---------------------- */

/* 28×28×1, width 8: G(z = [code 6, noise 10]) and pair D(x, code); one D-step and one G-step with separate
 * optimizers: each step changes its own network only (D's batch-norm running statistics are buffers, not checked). */
Test(gan, conv_alternating_step_separation) {
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, true);
    hl_params pg, pd;
    hl_params_init(&pg), hl_params_init(&pd);
    hl_gan_generator g;
    hl_gan_discriminator d;
    enum { B = 8, K = 6, Z = 16 };
    cr_assert_eq(hl_gan_generator_init(&g, &pg, "G", Z, 1, 28, 28, 8), HL_OK);
    cr_assert_eq(hl_gan_disc_init(&d, &pd, "D", 1, 28, 28, 8, K, 16), HL_OK);
    cr_assert_eq(hl_params_alloc(&pg), HL_OK);
    cr_assert_eq(hl_params_alloc(&pd), HL_OK);
    hl_rng r = hl_rng_make(8, 1);
    hl_gan_generator_reset(&g, &r);
    hl_gan_disc_reset(&d, &r);
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    hl_optim *og = NULL, *od = NULL;
    cr_assert_eq(hl_optim_create(&og, &pg, &oc), HL_OK);
    cr_assert_eq(hl_optim_create(&od, &pd, &oc), HL_OK);
    hl_tensor *real = hl_test_tensor(4, HL_SHAPE(B, 1, 28, 28), 31, 0.0f, 1.0f);
    hl_tensor *code = hl_test_tensor(2, HL_SHAPE(B, K), 32, -1.0f, 1.0f);
    hl_tensor *z = hl_test_tensor(2, HL_SHAPE(B, Z), 33, -1.0f, 1.0f);
    size_t ng = (size_t)pg.slab_len * sizeof(float), nd = (size_t)pd.slab_len * sizeof(float);
    float *g0 = malloc(ng), *d0 = malloc(nd);
    memcpy(g0, pg.data, ng), memcpy(d0, pd.data, nd);
    /* D-step */
    hl_ctx_reset(ctx);
    hl_tensor *fake = hl_detach(ctx, hl_gan_generator_forward(ctx, &g, z));
    hl_backward(ctx, hl_gan_d_loss(ctx, HL_GAN_LOSS_NS, hl_gan_disc_forward(ctx, &d, real, code),
                                   hl_gan_disc_forward(ctx, &d, fake, code)));
    for (int64_t i = 0; i < pg.slab_len; i++) cr_assert(pg.grad[i] == 0.0f, "G got a gradient in the D-step");
    hl_optim_step(od), hl_optim_zero_grad(od);
    cr_assert(memcmp(pg.data, g0, ng) == 0, "D-step changed G");
    cr_assert(memcmp(pd.data, d0, nd) != 0, "D-step did not change D");
    /* G-step */
    memcpy(d0, pd.data, nd);
    hl_gan_freeze(&pd, NULL, true);
    hl_ctx_reset(ctx);
    hl_backward(ctx, hl_gan_g_loss(ctx, HL_GAN_LOSS_NS,
                                   hl_gan_disc_forward(ctx, &d, hl_gan_generator_forward(ctx, &g, z), code)));
    for (int64_t i = 0; i < pd.slab_len; i++) cr_assert(pd.grad[i] == 0.0f, "frozen D got a gradient");
    hl_optim_step(og), hl_optim_zero_grad(og);
    hl_optim_step(od);
    hl_gan_freeze(&pd, NULL, false);
    cr_assert(memcmp(pd.data, d0, nd) == 0, "G-step changed D");
    cr_assert(memcmp(pg.data, g0, ng) != 0, "G-step did not change G");
    free(g0), free(d0);
    hl_tensor_free(real), hl_tensor_free(code), hl_tensor_free(z);
    hl_optim_free(og), hl_optim_free(od);
    hl_params_free(&pg), hl_params_free(&pd);
    hl_ctx_free(ctx);
}

static hl_gan_discriminator *pair_d_for_check;

static hl_tensor *f_pair_d(hl_ctx *ctx, hl_tensor **in, void *u) {
    (void)u;
    return hl_gan_disc_forward(ctx, pair_d_for_check, in[0], in[1]);
}

/* Gradient of the pair discriminator's logits w.r.t. the image and the code (eval mode: running statistics). */
Test(gan, pair_discriminator_input_gradients) {
    hl_params p;
    hl_params_init(&p);
    hl_gan_discriminator d;
    cr_assert_eq(hl_gan_disc_init(&d, &p, "D", 1, 28, 28, 4, 5, 8), HL_OK);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_rng r = hl_rng_make(4, 2);
    hl_gan_disc_reset(&d, &r);
    /* larger weights than DCGAN's 0.02 so the logit moves measurably with each input */
    for (int64_t i = 0; i < p.slab_len; i++) p.data[i] *= 10.0f;
    pair_d_for_check = &d;
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 1, 28, 28), 41, 0.0f, 1.0f);
    hl_tensor *b = hl_test_tensor(2, HL_SHAPE(2, 5), 42, -1.0f, 1.0f);
    hl_test_gradcheck("pair D", f_pair_d, 2, (hl_tensor *[]){x, b}, NULL,
                      (hl_gradcheck_opts){.eval_mode = true, .kink_tol = 0.01f});
    hl_tensor_free(x), hl_tensor_free(b);
    hl_params_free(&p);
}

/* The sample grid: 10 samples of a 28×28 generator in 4 columns -> 3 rows, 2× upscale with 2-pixel gutters:
 * width 4·56 + 3·2 = 230, height 3·56 + 2·2 = 172; pixel (0, 0) is sample 0's first pixel; G's weights and running
 * statistics are untouched (it runs in eval mode on its own ctx); a bad count is refused. */
Test(gan, write_samples_grid) {
    hl_params pg;
    hl_params_init(&pg);
    hl_gan_generator g;
    enum { Z = 5, N = 10 };
    cr_assert_eq(hl_gan_generator_init(&g, &pg, "G", Z, 1, 28, 28, 8), HL_OK);
    cr_assert_eq(hl_params_alloc(&pg), HL_OK);
    hl_rng r = hl_rng_make(3, 1);
    hl_gan_generator_reset(&g, &r);
    size_t nb = (size_t)pg.slab_len * sizeof(float);
    float *p0 = malloc(nb), z[N * Z];
    memcpy(p0, pg.data, nb);
    hl_rng_uniform(&r, z, N * Z, -1.0f, 1.0f);
    char path[1024];
    snprintf(path, sizeof path, "%s/samples.png", hl_test_tmpdir());
    cr_assert_eq(hl_gan_write_samples(&g, z, N, 4, path), HL_OK, "%s", hl_error_last());
    cr_assert(memcmp(pg.data, p0, nb) == 0, "writing samples changed G");
    hl_image im;
    cr_assert_eq(hl_image_load(&im, path, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(im.w, 230);
    cr_assert_eq(im.h, 172);
    /* the first sample's first pixel, computed directly */
    hl_ctx *ctx = hl_test_ctx();
    hl_ctx_set_train(ctx, false);
    hl_tensor *zt = hl_tensor_new(ctx, 2, HL_SHAPE(1, Z));
    memcpy(zt->data, z, sizeof(float) * Z);
    hl_tensor *x = hl_gan_generator_forward(ctx, &g, zt);
    int want = (int)lroundf(x->data[0] * 255.0f);
    cr_assert(abs((int)im.px[0] - want) <= 1, "pixel %d, want %d", im.px[0], want);
    cr_assert_eq(im.px[1], im.px[0]); /* 2× upscale */
    cr_assert_eq(im.px[56], 255);     /* gutter */
    free(im.px);
    cr_assert_eq(hl_gan_write_samples(&g, z, 0, 4, path), HL_EINVAL);
    hl_ctx_free(ctx);
    free(p0);
    hl_params_free(&pg);
}
