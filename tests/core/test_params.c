/* tests/core/test_params.c — parameter slabs: layout, lookup, buffers, freeze, copy; initialisers' statistics. */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "core/nn/init.h"
#include "core/nn/params.h"
#include "core/ops/op_impl.h"
#include "test_common.h"

Test(params, slab_layout_and_lookup) {
    hl_params p;
    hl_params_init(&p);
    hl_tensor *w = hl_params_add(&p, "layer1.0.conv1.weight_with_a_long_name", 4, HL_SHAPE(4, 3, 3, 3)); /* 108 */
    hl_tensor *b = hl_params_add(&p, "layer1.0.conv1.bias", 1, HL_SHAPE(4));
    hl_tensor *s = hl_params_add(&p, "scale", 0, NULL);
    hl_tensor *rv = hl_params_add_buffer(&p, "bn.running_var", 1, HL_SHAPE(5), 1.0f);
    hl_tensor *rm = hl_params_add_buffer(&p, "bn.running_mean", 1, HL_SHAPE(5), 0.0f);
    cr_assert(w && b && s && rv && rm);
    cr_assert_null(w->data, "no data before alloc");
    cr_assert_eq(hl_params_alloc(&p), HL_OK);

    /* Offsets: 0, 112 (108 rounded up to 16), 128; slab 144 floats. */
    cr_assert_eq(hl_params_count(&p), 3);
    cr_assert_eq(hl_params_buffer_count(&p), 2);
    cr_assert_eq(w->data, p.data);
    cr_assert_eq(b->data, p.data + 112);
    cr_assert_eq(s->data, p.data + 128);
    cr_assert_eq(b->grad, p.grad + 112);
    cr_assert_eq(hl_params_offset(&p, 1), 112);
    cr_assert_eq(p.slab_len, 144);
    cr_assert_eq(hl_params_numel(&p), 108 + 4 + 1);
    cr_assert_eq(hl_params_buffer_numel(&p), 10);
    cr_assert_eq((uintptr_t)p.data % 64, 0);
    cr_assert_eq((uintptr_t)p.grad % 64, 0);
    cr_assert_eq((uintptr_t)b->data % 64, 0, "every tensor starts 64-byte aligned");

    cr_assert_eq(w->flags, HL_T_PARAM | HL_T_LEAF | HL_T_REQUIRES_GRAD);
    cr_assert_eq(rv->flags, HL_T_LEAF);
    cr_assert_null(rv->grad);
    for (int i = 0; i < 108; i++) cr_assert_eq(w->data[i], 0.0f);
    for (int i = 0; i < 5; i++) cr_assert(rv->data[i] == 1.0f && rm->data[i] == 0.0f, "buffer initial values");

    cr_assert_eq(hl_params_find(&p, "layer1.0.conv1.weight_with_a_long_name"), w, "full names beyond 31 bytes");
    cr_assert_eq(hl_params_find(&p, "bn.running_mean"), rm);
    cr_assert_null(hl_params_find(&p, "layer1.0.conv1"));
    cr_assert_str_eq(hl_params_name(&p, 0), "layer1.0.conv1.weight_with_a_long_name");
    cr_assert_eq(strlen(w->name), 31, "tensor->name holds the first 31 bytes");
    cr_assert_str_eq(hl_params_buffer_name(&p, 0), "bn.running_var");

    /* zero_grad clears the whole slab. */
    for (int64_t i = 0; i < p.slab_len; i++) p.grad[i] = 1.0f;
    hl_params_zero_grad(&p);
    for (int64_t i = 0; i < p.slab_len; i++) cr_assert_eq(p.grad[i], 0.0f);
    hl_params_free(&p);
    cr_assert_eq(p.n_par, 0);
    hl_params_free(&p); /* idempotent */
}

Test(params, freeze_and_unfreeze) {
    hl_params p;
    hl_params_init(&p);
    hl_tensor *a = hl_params_add(&p, "backbone.w", 2, HL_SHAPE(2, 2));
    hl_tensor *h = hl_params_add(&p, "head.w", 2, HL_SHAPE(2, 2));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_params_set_requires_grad(&p, false);
    cr_assert(!hl_tensor_requires_grad(a) && !hl_tensor_requires_grad(h));
    cr_assert(a->flags & HL_T_PARAM, "other flags untouched");
    cr_assert_eq(hl_params_set_requires_grad_prefix(&p, "head.", true), 1);
    cr_assert(!hl_tensor_requires_grad(a) && hl_tensor_requires_grad(h));
    hl_params_set_requires_grad(&p, true);
    cr_assert(hl_tensor_requires_grad(a));
    cr_assert_eq(a->grad, p.grad, "grad pointer kept");
    hl_params_free(&p);
}

Test(params, frozen_params_get_no_gradient_through_the_tape) {
    hl_params p;
    hl_params_init(&p);
    hl_tensor *w = hl_params_add(&p, "w", 1, HL_SHAPE(3));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_params_set_requires_grad(&p, false);
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_tensor_from(ctx, 1, HL_SHAPE(3), (const float[]){1, 2, 3});
    cr_assert_eq(ctx->tape_len, 0);
    (void)w;
    (void)x;
    /* With no input requiring grad nothing can be recorded: hl_needs_grad is the gate every op uses. */
    cr_assert(!hl_needs_grad(ctx, 2, (hl_tensor *[]){w, x}));
    hl_params_set_requires_grad(&p, true);
    cr_assert(hl_needs_grad(ctx, 2, (hl_tensor *[]){w, x}));
    hl_ctx_free(ctx);
    hl_params_free(&p);
}

Test(params, copy_between_instances) {
    hl_params a, b, c;
    hl_params_init(&a);
    hl_params_init(&b);
    hl_params_init(&c);
    hl_params_add(&a, "w", 2, HL_SHAPE(2, 3));
    hl_params_add_buffer(&a, "rm", 1, HL_SHAPE(2), 0.0f);
    hl_params_add(&b, "w", 2, HL_SHAPE(2, 3));
    hl_params_add_buffer(&b, "rm", 1, HL_SHAPE(2), 0.0f);
    hl_params_add(&c, "w", 2, HL_SHAPE(3, 2));
    hl_params_add_buffer(&c, "rm", 1, HL_SHAPE(2), 0.0f);
    cr_assert(hl_params_alloc(&a) == HL_OK && hl_params_alloc(&b) == HL_OK && hl_params_alloc(&c) == HL_OK);
    for (int i = 0; i < 6; i++) a.par[0].t->data[i] = (float)i + 0.5f;
    a.buf[0].t->data[1] = 7.0f;
    cr_assert_eq(hl_params_copy(&b, &a), HL_OK);
    for (int i = 0; i < 6; i++) cr_assert_eq(b.par[0].t->data[i], (float)i + 0.5f);
    cr_assert_eq(b.buf[0].t->data[1], 7.0f);
    cr_assert_eq(hl_params_copy(&c, &a), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "[3, 2]") && strstr(hl_error_last(), "[2, 3]"), "%s", hl_error_last());
    cr_assert_eq(c.par[0].t->data[0], 0.0f, "destination unchanged on mismatch");
    hl_params_free(&a);
    hl_params_free(&b);
    hl_params_free(&c);
}

Test(params, duplicate_name_aborts, .signal = SIGABRT) {
    hl_params p;
    hl_params_init(&p);
    hl_params_add(&p, "w", 1, HL_SHAPE(2));
    hl_params_add_buffer(&p, "w", 1, HL_SHAPE(2), 0.0f);
}

Test(params, declare_after_alloc_aborts, .signal = SIGABRT) {
    hl_params p;
    hl_params_init(&p);
    hl_params_add(&p, "w", 1, HL_SHAPE(2));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    hl_params_add(&p, "v", 1, HL_SHAPE(2));
}

Test(params, empty_set_allocates) {
    hl_params p;
    hl_params_init(&p);
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    cr_assert_eq(hl_params_numel(&p), 0);
    hl_params_zero_grad(&p);
    hl_params_free(&p);
}

/* ---- initialisers ---------------------------------------------------------------------------------------------- */

static void stats(const float *x, int64_t n, double *mean, double *std, float *mn, float *mx) {
    double s = 0, s2 = 0;
    *mn = INFINITY;
    *mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        s += x[i];
        s2 += (double)x[i] * x[i];
        *mn = fminf(*mn, x[i]);
        *mx = fmaxf(*mx, x[i]);
    }
    *mean = s / n;
    *std = sqrt(s2 / n - *mean * *mean);
}

/* Weight [O=256, C=64, 3, 3]: fan_in 576, fan_out 2304, n = 147456. The std of a sample mean is std/√n ≈ std/384,
 * so |mean| < 0.02·std is a > 7σ bound; the sample std is within 1% (σ of the estimate ≈ 0.2%). */
#define NO 256
#define NC 64
#define NN ((int64_t)NO * NC * 9)

typedef struct init_case {
    const char *name;
    int kind;               /* 0 normal-like, 1 uniform-like */
    double want_std;        /* population std */
    double bound;           /* uniform: support half-width */
} init_case;

static hl_tensor *weight(void) {
    hl_tensor *t = NULL;
    cr_assert_eq(hl_tensor_create(&t, 4, HL_SHAPE(NO, NC, 3, 3), HL_DEVICE_CPU), HL_OK);
    return t;
}

static void check(const hl_tensor *t, init_case c) {
    double mean, std;
    float mn, mx;
    stats(t->data, NN, &mean, &std, &mn, &mx);
    cr_assert(fabs(mean) < 0.02 * c.want_std, "%s: mean %g (std %g)", c.name, mean, c.want_std);
    cr_assert(fabs(std / c.want_std - 1.0) < 0.01, "%s: std %g, want %g", c.name, std, c.want_std);
    if (c.kind == 1) {
        cr_assert(mn >= -c.bound * (1 + 1e-6) && mx <= c.bound * (1 + 1e-6), "%s: range [%g, %g] outside ±%g", c.name, mn, mx, c.bound);
        cr_assert(mn < -0.999 * c.bound && mx > 0.999 * c.bound, "%s: range [%g, %g] does not fill ±%g", c.name, mn,
                  mx, c.bound);
    } else {
        cr_assert(mx > 3.5 * c.want_std && mn < -3.5 * c.want_std, "%s: no tails [%g, %g]", c.name, mn, mx);
    }
}

Test(params, fans_and_gains) {
    hl_tensor *t = weight();
    int64_t fi, fo;
    hl_init_fans(t, &fi, &fo);
    cr_assert(fi == 576 && fo == 2304);
    cr_assert_float_eq(hl_init_gain(HL_NONLIN_RELU, 0), sqrtf(2.0f), 1e-6);
    cr_assert_float_eq(hl_init_gain(HL_NONLIN_TANH, 0), 5.0f / 3.0f, 1e-6);
    cr_assert_float_eq(hl_init_gain(HL_NONLIN_LEAKY_RELU, 0.2f), sqrtf(2.0f / 1.04f), 1e-6);
    cr_assert_float_eq(hl_init_gain(HL_NONLIN_LINEAR, 0), 1.0f, 0);
    cr_assert_float_eq(hl_init_gain(HL_NONLIN_SIGMOID, 0), 1.0f, 0);
    hl_tensor_free(t);
}

Test(params, initialisers_statistics) {
    hl_tensor *t = weight();
    const double fi = 576, fo = 2304;
    hl_rng r = hl_rng_make(42, 3);

    hl_init_kaiming_normal(t, &r, 0, HL_FAN_IN, HL_NONLIN_RELU);
    check(t, (init_case){"kaiming_normal relu fan_in", 0, sqrt(2.0) / sqrt(fi), 0});
    hl_init_kaiming_normal(t, &r, 0.2f, HL_FAN_OUT, HL_NONLIN_LEAKY_RELU);
    check(t, (init_case){"kaiming_normal leaky fan_out", 0, sqrt(2.0 / 1.04) / sqrt(fo), 0});
    hl_init_kaiming_uniform(t, &r, 0, HL_FAN_IN, HL_NONLIN_TANH);
    double s = 5.0 / 3.0 / sqrt(fi);
    check(t, (init_case){"kaiming_uniform tanh", 1, s, sqrt(3.0) * s});
    hl_init_kaiming_uniform(t, &r, sqrtf(5.0f), HL_FAN_IN, HL_NONLIN_LEAKY_RELU); /* PyTorch's default: ±1/√fan_in */
    check(t, (init_case){"kaiming_uniform a=sqrt5", 1, 1.0 / sqrt(fi) / sqrt(3.0), 1.0 / sqrt(fi)});
    hl_init_xavier_normal(t, &r, 1.0f);
    check(t, (init_case){"xavier_normal", 0, sqrt(2.0 / (fi + fo)), 0});
    hl_init_xavier_uniform(t, &r, 2.0f);
    s = 2.0 * sqrt(2.0 / (fi + fo));
    check(t, (init_case){"xavier_uniform gain 2", 1, s, sqrt(3.0) * s});
    hl_init_uniform(t, &r, -0.5f, 0.5f);
    check(t, (init_case){"uniform", 1, 1.0 / sqrt(12.0), 0.5});

    hl_init_normal(t, &r, 3.0f, 0.25f);
    double mean, std;
    float mn, mx;
    stats(t->data, NN, &mean, &std, &mn, &mx);
    cr_assert(fabs(mean - 3.0) < 0.005 && fabs(std - 0.25) < 0.0025, "normal(3, .25): mean %g std %g", mean, std);

    hl_init_constant(t, -1.5f);
    for (int64_t i = 0; i < NN; i++) cr_assert_eq(t->data[i], -1.5f);
    hl_tensor_free(t);
}

Test(params, initialisers_are_deterministic_per_seed_and_stream) {
    hl_tensor *a = weight(), *b = weight();
    hl_rng r1 = hl_rng_make(7, 1), r2 = hl_rng_make(7, 1), r3 = hl_rng_make(7, 2);
    hl_init_kaiming_normal(a, &r1, 0, HL_FAN_IN, HL_NONLIN_RELU);
    hl_init_kaiming_normal(b, &r2, 0, HL_FAN_IN, HL_NONLIN_RELU);
    cr_assert(memcmp(a->data, b->data, (size_t)NN * sizeof(float)) == 0, "same seed/stream -> same values");
    cr_assert_eq(r1.counter, (uint64_t)NN, "cursor advanced by numel");
    hl_init_kaiming_normal(b, &r3, 0, HL_FAN_IN, HL_NONLIN_RELU);
    int same = 0;
    for (int64_t i = 0; i < NN; i++) same += a->data[i] == b->data[i];
    cr_assert(same < 10, "different stream -> different values (%d equal)", same);
    /* A fill continues the stream: two halves equal one whole. */
    hl_rng r4 = hl_rng_make(7, 1);
    hl_tensor *h = NULL;
    cr_assert_eq(hl_tensor_create(&h, 1, HL_SHAPE(NN / 2), HL_DEVICE_CPU), HL_OK);
    float std = (float)(sqrt(2.0) / sqrt(576.0));
    hl_init_normal(h, &r4, 0.0f, std);
    for (int64_t i = 0; i < NN / 2; i++) cr_assert_eq(h->data[i], a->data[i]);
    hl_init_normal(h, &r4, 0.0f, std);
    for (int64_t i = 0; i < NN / 2; i++) cr_assert_eq(h->data[i], a->data[NN / 2 + i]);
    hl_tensor_free(a);
    hl_tensor_free(b);
    hl_tensor_free(h);
}

Test(params, fans_of_a_vector_abort, .signal = SIGABRT) {
    hl_tensor *t = NULL;
    cr_assert_eq(hl_tensor_create(&t, 1, HL_SHAPE(4), HL_DEVICE_CPU), HL_OK);
    hl_rng r = hl_rng_make(1, 1);
    hl_init_kaiming_normal(t, &r, 0, HL_FAN_IN, HL_NONLIN_RELU);
}
