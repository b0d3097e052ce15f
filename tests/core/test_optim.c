/* tests/core/test_optim.c — optimizers against PyTorch trajectories, freezing, groups, config checks.
 *
 * Trajectories: parameter p = [1, −2], loss ½·Σ a·p² with a = [1, 3] (gradient a ⊙ p), three steps. The expected
 * values were produced by torch.optim (1.13) on the same problem; the first step of each is also derivable by hand:
 *   SGD lr .1:                p1 = p0 − .1·a·p0 = [0.9, −1.4]
 *   SGD Nesterov .9, wd .1:   d = a·p0 + .1·p0 = [1.1, −6.2]; buf = d; p1 = p0 − .1·(d + .9·d) = [0.791, −0.822]
 *   Adam lr .1:               m̂ = g, v̂ = g² => p1 = p0 − .1·g/(|g| + eps) ≈ [0.9, −1.9]
 *   AdamW lr .1, wd .1:       p0·(1 − .01) − .1·sign(g) = [0.89, −1.88]
 *   RMSprop lr .01, α .99:    v = .01·g² => p1 = p0 − .01·g/(.1·|g|) = [0.9, −1.9]
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/optim.h"
#include "test_common.h"

static const float A[2] = {1.0f, 3.0f};

static void run(const char *what, hl_optim_config c, const float want[3][2]) {
    hl_params p;
    hl_params_init(&p);
    hl_tensor *w = hl_params_add(&p, "w", 1, HL_SHAPE(2));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    w->data[0] = 1.0f;
    w->data[1] = -2.0f;
    hl_optim *o = NULL;
    cr_assert_eq(hl_optim_create(&o, &p, &c), HL_OK, "%s: %s", what, hl_error_last());
    for (int s = 0; s < 3; s++) {
        hl_optim_zero_grad(o);
        for (int i = 0; i < 2; i++) w->grad[i] = A[i] * w->data[i];
        hl_optim_step(o);
        char lbl[64];
        snprintf(lbl, sizeof lbl, "%s step %d", what, s + 1);
        hl_test_assert_close(w->data, want[s], 2, 1e-6f, 2e-6f, lbl);
        for (int64_t i = 2; i < p.slab_len; i++) cr_assert_eq(p.data[i], 0.0f, "%s: padding stays zero", what);
    }
    cr_assert_eq(hl_optim_steps(o), 3);
    hl_optim_free(o);
    hl_params_free(&p);
}

static hl_optim_config cfg(hl_optim_kind k, float lr) {
    hl_optim_config c = hl_optim_defaults(k);
    c.lr = lr;
    return c;
}

Test(optim, sgd_trajectories) {
    run("sgd", cfg(HL_OPTIM_SGD, 0.1f), (const float[3][2]){{0.899999976f, -1.39999998f}, {0.810000002f, -0.979999959f},
                                                            {0.728999972f, -0.68599999f}});
    hl_optim_config c = cfg(HL_OPTIM_SGD, 0.1f);
    c.momentum = 0.9f;
    run("sgd momentum", c, (const float[3][2]){{0.899999976f, -1.39999998f}, {0.719999969f, -0.440000027f},
                                                {0.485999972f, 0.555999875f}});
    c.dampening = 0.5f;
    c.weight_decay = 0.01f;
    run("sgd momentum dampening wd", c, (const float[3][2]){{0.898999989f, -1.398f}, {0.762700498f, -0.645801008f},
                                                             {0.601514578f, 0.128371119f}});
    c = cfg(HL_OPTIM_SGD, 0.1f);
    c.momentum = 0.9f;
    c.nesterov = true;
    c.weight_decay = 0.1f;
    run("sgd nesterov wd", c, (const float[3][2]){{0.791000009f, -0.822000027f}, {0.536581039f, 0.16435796f},
                                                   {0.273767501f, 0.72593528f}});
}

Test(optim, adam_trajectories) {
    run("adam", cfg(HL_OPTIM_ADAM, 0.1f), (const float[3][2]){{0.900000036f, -1.89999998f}, {0.800412238f, -1.80016649f},
                                                              {0.701586306f, -1.70062339f}});
    hl_optim_config c = cfg(HL_OPTIM_ADAM, 0.1f);
    c.weight_decay = 0.1f;
    run("adam L2", c, (const float[3][2]){{0.899999976f, -1.89999998f}, {0.800412178f, -1.80016649f},
                                          {0.701586246f, -1.70062339f}});
    c = cfg(HL_OPTIM_ADAM, 0.05f);
    c.beta1 = 0.5f;
    c.beta2 = 0.9f;
    c.eps = 1e-3f;
    run("adam betas eps", c, (const float[3][2]){{0.950049937f, -1.95000827f}, {0.900477111f, -1.90019846f},
                                                 {0.851515293f, -1.85067713f}});
}

Test(optim, adamw_trajectory) {
    hl_optim_config c = cfg(HL_OPTIM_ADAMW, 0.1f);
    c.weight_decay = 0.1f;
    run("adamw", c, (const float[3][2]){{0.890000045f, -1.88f}, {0.781571925f, -1.76140893f},
                                        {0.67510128f, -1.64436865f}});
}

Test(optim, rmsprop_trajectories) {
    run("rmsprop", cfg(HL_OPTIM_RMSPROP, 0.01f), (const float[3][2]){{0.900000036f, -1.89999998f},
                                                                      {0.832917988f, -1.83094335f},
                                                                      {0.779982269f, -1.7753495f}});
    hl_optim_config c = cfg(HL_OPTIM_RMSPROP, 0.01f);
    c.momentum = 0.9f;
    c.weight_decay = 0.1f;
    c.alpha = 0.9f;
    run("rmsprop momentum wd", c, (const float[3][2]){{0.968377233f, -1.96837723f}, {0.917327523f, -1.91714919f},
                                                       {0.853019595f, -1.852247f}});
}

/* Frozen tensors are not stepped and keep their moments; a tensor unfrozen later starts its own step count, so its
 * first Adam step is again ≈ lr·sign(g) (bias correction with t = 1), as with PyTorch's per-parameter state. */
Test(optim, frozen_tensors_and_per_tensor_steps) {
    hl_params p;
    hl_params_init(&p);
    hl_tensor *a = hl_params_add(&p, "a", 1, HL_SHAPE(3));
    hl_tensor *b = hl_params_add(&p, "b", 1, HL_SHAPE(3));
    hl_tensor *c = hl_params_add(&p, "c", 1, HL_SHAPE(3));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_optim *o = NULL;
    hl_optim_config cf = cfg(HL_OPTIM_ADAM, 0.1f);
    cr_assert_eq(hl_optim_create(&o, &p, &cf), HL_OK);
    b->flags &= ~(uint32_t)HL_T_REQUIRES_GRAD;
    for (int s = 0; s < 5; s++) {
        for (int64_t i = 0; i < p.slab_len; i++) p.grad[i] = 0.0f;
        for (int i = 0; i < 3; i++) a->grad[i] = b->grad[i] = c->grad[i] = 1.0f;
        hl_optim_step(o);
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_float_eq(a->data[i], -0.5f, 1e-5, "a stepped 5 times by lr·sign(g)");
        cr_assert_float_eq(c->data[i], -0.5f, 1e-5);
        cr_assert_eq(b->data[i], 0.0f, "frozen b untouched");
    }
    const float *m1 = hl_optim_moment(o, 1);
    cr_assert_eq(m1[hl_params_offset(&p, 1)], 0.0f, "frozen b has no moment");
    hl_params_set_requires_grad(&p, true);
    hl_optim_step(o); /* b's first step: −lr·g/(|g|+eps) exactly as a fresh Adam */
    for (int i = 0; i < 3; i++) {
        cr_assert_float_eq(b->data[i], -0.1f, 1e-6, "b: %g", b->data[i]);
        cr_assert_float_eq(a->data[i], -0.6f, 1e-5);
    }
    cr_assert_eq(hl_optim_steps(o), 6);
    hl_optim_free(o);
    hl_params_free(&p);
}

Test(optim, groups_lr_and_zero_grad) {
    hl_params p;
    hl_params_init(&p);
    hl_tensor *bb = hl_params_add(&p, "backbone.w", 1, HL_SHAPE(2));
    hl_tensor *hd = hl_params_add(&p, "head.w", 1, HL_SHAPE(2));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_optim *o = NULL;
    hl_optim_config c = cfg(HL_OPTIM_SGD, 1.0f);
    cr_assert_eq(hl_optim_create(&o, &p, &c), HL_OK);
    cr_assert_eq(hl_optim_set_group(o, "backbone.", 0.1f, 1.0f), 1);
    for (int i = 0; i < 2; i++) bb->grad[i] = hd->grad[i] = 1.0f;
    hl_optim_step(o);
    cr_assert_float_eq(bb->data[0], -0.1f, 1e-7);
    cr_assert_float_eq(hd->data[0], -1.0f, 1e-7);
    hl_optim_set_lr(o, 0.5f);
    cr_assert_float_eq(hl_optim_get_lr(o), 0.5f, 0);
    hl_optim_step(o);
    cr_assert_float_eq(bb->data[1], -0.15f, 1e-7);
    cr_assert_float_eq(hd->data[1], -1.5f, 1e-7);
    hl_optim_zero_grad(o);
    cr_assert(bb->grad[0] == 0.0f && hd->grad[1] == 0.0f);
    cr_assert_null(hl_optim_moment(o, 1), "plain SGD keeps no moments");
    hl_optim_free(o);
    hl_params_free(&p);
}

Test(optim, config_errors_and_names) {
    hl_params p;
    hl_params_init(&p);
    hl_params_add(&p, "w", 1, HL_SHAPE(2));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_optim *o = (hl_optim *)&p;
    hl_optim_config c = cfg(HL_OPTIM_SGD, 0.1f);
    c.nesterov = true;
    cr_assert_eq(hl_optim_create(&o, &p, &c), HL_EINVAL, "Nesterov without momentum");
    cr_assert_null(o);
    cr_assert(strstr(hl_error_last(), "Nesterov"), "%s", hl_error_last());
    c = cfg(HL_OPTIM_ADAM, -1.0f);
    cr_assert_eq(hl_optim_config_check(&c), HL_EINVAL);
    c = cfg(HL_OPTIM_ADAM, 0.1f);
    c.beta2 = 1.0f;
    cr_assert_eq(hl_optim_config_check(&c), HL_EINVAL);
    c = cfg(HL_OPTIM_ADAMW, NAN);
    cr_assert_eq(hl_optim_config_check(&c), HL_EINVAL);
    cr_assert_eq(hl_optim_kind_from_name("adamw"), HL_OPTIM_ADAMW);
    cr_assert_eq(hl_optim_kind_from_name("adagrad"), HL_OPTIM_KIND_COUNT);
    cr_assert_str_eq(hl_optim_kind_name(HL_OPTIM_RMSPROP), "rmsprop");
    hl_optim_config d = hl_optim_defaults(HL_OPTIM_ADAMW);
    cr_assert(d.lr == 1e-3f && d.weight_decay == 1e-2f && d.beta1 == 0.9f && d.beta2 == 0.999f && d.eps == 1e-8f);
    hl_params_free(&p);
}

/* A large slab (parallel path when threads > 1) gives the same result as the per-element rule. */
Test(optim, large_slab_matches_elementwise_rule) {
    hl_params p;
    hl_params_init(&p);
    hl_tensor *w = hl_params_add(&p, "w", 2, HL_SHAPE(300, 1000));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_rng r = hl_rng_make(5, 5);
    hl_rng_uniform(&r, w->data, 300000, -1, 1);
    hl_rng_uniform(&r, w->grad, 300000, -1, 1);
    float p0[4], g0[4];
    for (int i = 0; i < 4; i++) {
        p0[i] = w->data[i * 99991];
        g0[i] = w->grad[i * 99991];
    }
    hl_optim *o = NULL;
    hl_optim_config c = cfg(HL_OPTIM_ADAMW, 0.01f);
    cr_assert_eq(hl_optim_create(&o, &p, &c), HL_OK);
    hl_optim_step(o);
    for (int i = 0; i < 4; i++) {
        float want = p0[i] * (1.0f - 0.01f * 0.01f) - 0.01f * g0[i] / (fabsf(g0[i]) + 1e-8f);
        cr_assert_float_eq(w->data[i * 99991], want, 1e-6, "element %d", i * 99991);
    }
    hl_optim_free(o);
    hl_params_free(&p);
}
