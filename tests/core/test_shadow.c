/* tests/core/test_shadow.c — the shadow device (core/shadow/shadow.h): host access to its memory dies, its allocator
 * accounts and reuses, and a small training run (conv, batch norm, max-pool, dropout, rotation with a learned angle,
 * linear, tanh, MSE, Adam; then a training checkpoint) gives the CPU's numbers bit for bit. */
#include "test_common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/checkpoint.h"
#include "core/io/train_state.h"
#include "core/nn/init.h"
#include "core/nn/layers.h"
#include "core/optim.h"
#include "core/shadow/shadow.h"
#include "core/tape.h"

static hl_tensor *shadow_tensor(int64_t n) {
    hl_tensor *t = NULL;
    cr_assert_eq(hl_tensor_create(&t, 1, HL_SHAPE(n), HL_DEVICE_SHADOW), HL_OK, "%s", hl_error_last());
    cr_assert(hl_shadow_owns(t->data), "a shadow tensor's data lies in the shadow range");
    return t;
}

Test(shadow, host_read_of_device_memory_dies, .signal = SIGSEGV) {
    hl_tensor *t = shadow_tensor(16);
    volatile float v = t->data[3]; /* a missing transfer: must fault */
    (void)v;
}

Test(shadow, host_write_of_device_memory_dies, .signal = SIGSEGV) {
    hl_tensor *t = shadow_tensor(16);
    t->data[0] = 1.0f;
}

Test(shadow, memcpy_instead_of_a_transfer_dies, .signal = SIGSEGV) {
    hl_ctx *ctx = NULL;
    cr_assert_eq(hl_ctx_create(&ctx, HL_DEVICE_SHADOW, 0), HL_OK);
    hl_tensor *t = hl_tensor_zeros(ctx, 1, HL_SHAPE(8)); /* step-arena data is shadow memory too */
    float host[8];
    memcpy(host, t->data, sizeof host);
    volatile float sink = host[0] + host[7]; /* keep the copy from being optimised away */
    (void)sink;
}

Test(shadow, host_memory_in_a_device_kernel_aborts, .signal = SIGABRT) {
    float host[4] = {0};
    hl_kernels_for(HL_DEVICE_SHADOW)->base->fill(4, 1.0f, host); /* a CPU buffer handed to a device kernel */
}

Test(shadow, transfers_and_host_views_work) {
    hl_ctx *ctx = NULL;
    cr_assert_eq(hl_ctx_create(&ctx, HL_DEVICE_SHADOW, 0), HL_OK);
    const float v[5] = {1, -2, 3.5f, 0, 7};
    hl_tensor *t = hl_tensor_from(ctx, 1, HL_SHAPE(5), v);
    cr_assert(hl_shadow_owns(t->data));
    const float *h = hl_tensor_host(ctx, t);
    cr_assert(!hl_shadow_owns(h) && memcmp(h, v, sizeof v) == 0, "a host view is a host copy of the data");
    hl_tensor *u = shadow_tensor(5);
    hl_tensor_upload(u, v);
    float back[5];
    hl_tensor_download(u, back);
    cr_assert(memcmp(back, v, sizeof v) == 0);
    hl_tensor_free(u);
    hl_ctx_free(ctx);
}

Test(shadow, allocator_accounts_and_reuses) {
    const size_t before = hl_shadow_bytes_in_use();
    void *a = hl_shadow_alloc(10), *b = hl_shadow_alloc(5000), *c = hl_shadow_alloc(0);
    cr_assert(a && b && c && a != b && b != c);
    cr_assert_eq(hl_shadow_bytes_in_use() - before, (size_t)(4096 + 8192 + 4096), "page-granular accounting");
    hl_shadow_free(b);
    void *d = hl_shadow_alloc(8000); /* fits the freed block exactly: first fit reuses it */
    cr_assert_eq(d, b, "a freed block is reused");
    hl_shadow_free(a);
    hl_shadow_free(c);
    hl_shadow_free(d);
    cr_assert_eq(hl_shadow_bytes_in_use(), before);
    cr_assert(!hl_shadow_owns(&before));
}

/* ---- a small training run on a device, its losses and final parameters read back ---------------------------- */

enum { TB = 6, TC = 1, TH = 8, TW = 8, TK = 5, TSTEPS = 4 };

typedef struct run_out {
    float loss[TSTEPS];
    float *params, *buffers; /* host copies of the slabs */
    float *moment1;
    int64_t slab, buf;
} run_out;

typedef struct tiny_net {
    hl_params p;
    hl_conv2d_layer conv;
    hl_batchnorm_layer bn;
    hl_linear_layer fc;
    hl_tensor *angle; /* [TB] learned rotation angles (a parameter, so the angle gradient is exercised) */
} tiny_net;

static void net_init(tiny_net *n, hl_device dev) {
    hl_params_init(&n->p);
    hl_params_set_device(&n->p, dev);
    hl_conv2d_layer_init(&n->conv, &n->p, "conv", TC, 4, 3, 1, 1, 1, true);
    hl_batchnorm_layer_init(&n->bn, &n->p, "bn", 4, true);
    hl_linear_layer_init(&n->fc, &n->p, "fc", 4 * (TH / 2) * (TW / 2), TK, true);
    n->angle = hl_params_add(&n->p, "angle", 1, HL_SHAPE(TB));
    cr_assert_eq(hl_params_alloc(&n->p), HL_OK, "%s", hl_error_last());
    hl_rng r = hl_rng_make(5, 1);
    hl_nn_init_default_conv2d(&n->conv, &r);
    hl_nn_init_default_batchnorm(&n->bn, &r);
    hl_nn_init_default_linear(&n->fc, &r);
    hl_init_uniform(n->angle, &r, -0.5f, 0.5f);
}

static void train(hl_device dev, run_out *o, const char *ckpt) {
    tiny_net n;
    net_init(&n, dev);
    hl_optim *opt = NULL;
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    oc.lr = 1e-2f;
    cr_assert_eq(hl_optim_create(&opt, &n.p, &oc), HL_OK);
    hl_ctx *ctx = NULL;
    cr_assert_eq(hl_ctx_create(&ctx, dev, 0), HL_OK, "%s", hl_error_last());
    hl_ctx_set_seed(ctx, 9);
    float *x = malloc(TB * TC * TH * TW * sizeof *x), *t = malloc(TB * TK * sizeof *t);
    for (int s = 0; s < TSTEPS; s++) {
        hl_rng r = hl_rng_make(100 + (uint64_t)s, 2);
        hl_rng_uniform(&r, x, TB * TC * TH * TW, 0, 1);
        hl_rng_uniform(&r, t, TB * TK, -1, 1);
        hl_ctx_reset(ctx);
        hl_tensor *xt = hl_tensor_from(ctx, 4, HL_SHAPE(TB, TC, TH, TW), x);
        hl_tensor *h = hl_rotate_t(ctx, xt, n.angle);
        h = hl_relu(ctx, hl_batchnorm_layer_forward(ctx, &n.bn, hl_conv2d_layer_forward(ctx, &n.conv, h)));
        h = hl_dropout(ctx, hl_maxpool2d(ctx, h, 2, 2, 0), 0.25f);
        hl_tensor *u = hl_tanh(ctx, hl_linear_layer_forward(ctx, &n.fc, hl_flatten(ctx, h)));
        hl_tensor *loss = hl_mse(ctx, u, hl_tensor_from(ctx, 2, HL_SHAPE(TB, TK), t));
        hl_tensor_download(loss, &o->loss[s]);
        hl_backward(ctx, loss);
        hl_optim_step(opt);
        hl_optim_zero_grad(opt);
    }
    if (ckpt) cr_assert_eq(hl_checkpoint_save_train(ckpt, &n.p, opt, NULL), HL_OK, "%s", hl_error_last());
    o->slab = n.p.slab_len, o->buf = n.p.buf_len;
    o->params = malloc((size_t)o->slab * sizeof(float));
    o->buffers = malloc((size_t)o->buf * sizeof(float));
    o->moment1 = malloc((size_t)o->slab * sizeof(float));
    hl_params_download(&n.p, 0, o->params);
    hl_params_download(&n.p, 1, o->buffers);
    hl_params_kernels(&n.p)->base->to_host(o->slab, hl_optim_moment(opt, 1), o->moment1);
    free(x);
    free(t);
    hl_ctx_free(ctx);
    hl_optim_free(opt);
    hl_params_free(&n.p);
}

static void run_free(run_out *o) {
    free(o->params);
    free(o->buffers);
    free(o->moment1);
}

Test(shadow, training_run_equals_the_cpu_bit_for_bit) {
    run_out cpu, sh;
    train(HL_DEVICE_CPU, &cpu, NULL);
    train(HL_DEVICE_SHADOW, &sh, NULL);
    for (int s = 0; s < TSTEPS; s++)
        cr_assert(memcmp(&cpu.loss[s], &sh.loss[s], sizeof(float)) == 0, "step %d: loss %.9g on the CPU, %.9g on shadow",
                  s, cpu.loss[s], sh.loss[s]);
    cr_assert(cpu.loss[TSTEPS - 1] != cpu.loss[0], "the run trains (the loss moves)");
    cr_assert(memcmp(cpu.params, sh.params, (size_t)cpu.slab * sizeof(float)) == 0, "parameters differ");
    cr_assert(memcmp(cpu.buffers, sh.buffers, (size_t)cpu.buf * sizeof(float)) == 0, "batch-norm statistics differ");
    cr_assert(memcmp(cpu.moment1, sh.moment1, (size_t)cpu.slab * sizeof(float)) == 0, "Adam moments differ");
    run_free(&cpu);
    run_free(&sh);
}

Test(shadow, training_checkpoint_moves_between_devices) {
    char path[512];
    snprintf(path, sizeof path, "%s/shadow_train.safetensors", hl_test_tmpdir());
    run_out sh;
    train(HL_DEVICE_SHADOW, &sh, path); /* saved from shadow memory through transfers */
    tiny_net n;                         /* loaded into a CPU model and optimizer */
    net_init(&n, HL_DEVICE_CPU);
    hl_optim *opt = NULL;
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    oc.lr = 1e-2f;
    cr_assert_eq(hl_optim_create(&opt, &n.p, &oc), HL_OK);
    cr_assert_eq(hl_checkpoint_load_train(path, &n.p, opt, NULL), HL_OK, "%s", hl_error_last());
    cr_assert(memcmp(n.p.data, sh.params, (size_t)sh.slab * sizeof(float)) == 0, "parameters survive the trip");
    cr_assert(memcmp(n.p.bufdata, sh.buffers, (size_t)sh.buf * sizeof(float)) == 0, "buffers survive the trip");
    cr_assert(memcmp(hl_optim_moment(opt, 1), sh.moment1, (size_t)sh.slab * sizeof(float)) == 0, "moments survive");
    /* and back onto a shadow model */
    tiny_net m;
    net_init(&m, HL_DEVICE_SHADOW);
    hl_optim *opt2 = NULL;
    cr_assert_eq(hl_optim_create(&opt2, &m.p, &oc), HL_OK);
    cr_assert_eq(hl_checkpoint_load_train(path, &m.p, opt2, NULL), HL_OK, "%s", hl_error_last());
    float *back = malloc((size_t)sh.slab * sizeof *back);
    hl_params_download(&m.p, 0, back);
    cr_assert(memcmp(back, sh.params, (size_t)sh.slab * sizeof(float)) == 0, "loaded onto the shadow device");
    hl_params_kernels(&m.p)->base->to_host(sh.slab, hl_optim_moment(opt2, 1), back);
    cr_assert(memcmp(back, sh.moment1, (size_t)sh.slab * sizeof(float)) == 0, "moments loaded onto the shadow device");
    cr_assert_eq(hl_optim_steps(opt2), TSTEPS);
    free(back);
    hl_optim_free(opt);
    hl_optim_free(opt2);
    hl_params_free(&n.p);
    hl_params_free(&m.p);
    run_free(&sh);
}

/* The per-epoch training state (core/io/train_state.h) of a model and optimizer on the shadow device: saved through
 * transfers, and a resume writes the saved values back into device memory. */
Test(shadow, training_state_resumes_on_the_device) {
    tiny_net n;
    net_init(&n, HL_DEVICE_SHADOW);
    hl_optim *opt = NULL;
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_ADAM);
    cr_assert_eq(hl_optim_create(&opt, &n.p, &oc), HL_OK);
    /* one step so the moments are not zero */
    hl_ctx *ctx = NULL;
    cr_assert_eq(hl_ctx_create(&ctx, HL_DEVICE_SHADOW, 0), HL_OK);
    hl_tensor *w = n.fc.w;
    hl_tensor *loss = hl_sum(ctx, hl_mul(ctx, w, w), 0xF, false);
    hl_backward(ctx, loss);
    hl_optim_step(opt);
    const int64_t L = n.p.slab_len;
    float *want = malloc((size_t)L * sizeof *want), *want_m = malloc((size_t)L * sizeof *want_m);
    float *got = malloc((size_t)L * sizeof *got);
    hl_params_download(&n.p, 0, want);
    hl_params_kernels(&n.p)->base->to_host(L, hl_optim_moment(opt, 1), want_m);
    hl_train_state ts;
    hl_train_state_init(&ts, hl_test_tmpdir(), "shadow_state.safetensors", "shadow test", 3, "fp");
    hl_train_state_params(&ts, "model", &n.p);
    hl_train_state_optim(&ts, "opt", opt);
    cr_assert_eq(hl_train_state_save(&ts, 1), HL_OK, "%s", hl_error_last());
    /* change everything, then resume */
    hl_optim_step(opt);
    hl_tensor_fill(w, 0.25f);
    int64_t done = 0;
    cr_assert_eq(hl_train_state_resume(&ts, &done), HL_OK, "%s", hl_error_last());
    cr_assert_eq(done, 1);
    hl_params_download(&n.p, 0, got);
    cr_assert(memcmp(got, want, (size_t)L * sizeof *got) == 0, "parameters restored into device memory");
    hl_params_kernels(&n.p)->base->to_host(L, hl_optim_moment(opt, 1), got);
    cr_assert(memcmp(got, want_m, (size_t)L * sizeof *got) == 0, "moments restored into device memory");
    cr_assert_eq(hl_optim_steps(opt), 1);
    hl_train_state_remove(&ts);
    free(want), free(want_m), free(got);
    hl_ctx_free(ctx);
    hl_optim_free(opt);
    hl_params_free(&n.p);
}
