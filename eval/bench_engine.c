/* eval/bench_engine.c — `hashlab bench engine`: the ref-cnn workload of BENCH.md, or a backbone under a hashing
 * head (`--model resnet18`, 3×224×224, batch 16).
 *
 *   ref-cnn:   conv3x3(3→32, pad 1) → ReLU → maxpool 2 → conv3x3(32→64, pad 1) → ReLU → maxpool 2
 *              → conv3x3(64→128, pad 1) → ReLU → maxpool 2 → flatten → linear(2048→512) → ReLU → linear(512→48)
 *              → tanh
 *   backbone:  backbone (core/nn/backbone.h, its ImageNet normalisation included) → linear(F→48) → tanh; train
 *              steps in train mode (batch statistics, dropout), attack and forward steps in eval mode
 *
 * train_step:  forward, loss = mean((u − t)²) against a fixed ±1 target t, backward, SGD momentum 0.9.
 * attack_step: weights frozen, loss = Σ u ⊙ t, backward to the input only (one PGD step's gradient).
 * forward:     no-grad forward.
 * attack_step and forward again in batch-invariant mode (core/ctx.h), as hashlab's attacks and encoding run them:
 * the *_invariant figures; the plain ones compare like with like against the PyTorch peer.
 * Each figure is the median over `reps` timed repetitions of `iters` steps, after `warmup` untimed steps.
 */
#include "eval/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/ctx.h"
#include "core/nn/backbone.h"
#include "core/nn/layers.h"
#include "core/optim.h"
#include "core/tape.h"

typedef struct ref_cnn {
    hl_params p;
    hl_conv2d_layer c1, c2, c3;
    hl_linear_layer f1, f2;
} ref_cnn;

static hl_status ref_cnn_init(ref_cnn *m, uint64_t seed, hl_device dev) {
    hl_params_init(&m->p);
    hl_params_set_device(&m->p, dev);
    hl_conv2d_layer_init(&m->c1, &m->p, "conv1", 3, 32, 3, 1, 1, 1, true);
    hl_conv2d_layer_init(&m->c2, &m->p, "conv2", 32, 64, 3, 1, 1, 1, true);
    hl_conv2d_layer_init(&m->c3, &m->p, "conv3", 64, 128, 3, 1, 1, 1, true);
    hl_linear_layer_init(&m->f1, &m->p, "fc1", 2048, 512, true);
    hl_linear_layer_init(&m->f2, &m->p, "fc2", 512, 48, true);
    hl_status st = hl_params_alloc(&m->p);
    if (st < 0) return st;
    hl_rng r = hl_rng_make(seed, 1);
    hl_nn_init_default_conv2d(&m->c1, &r);
    hl_nn_init_default_conv2d(&m->c2, &r);
    hl_nn_init_default_conv2d(&m->c3, &r);
    hl_nn_init_default_linear(&m->f1, &r);
    hl_nn_init_default_linear(&m->f2, &r);
    return HL_OK;
}

/* x [B,3,32,32] -> u [B,48] in (−1, 1). */
static hl_tensor *ref_cnn_forward(hl_ctx *ctx, const ref_cnn *m, hl_tensor *x) {
    hl_tensor *h = hl_maxpool2d(ctx, hl_relu(ctx, hl_conv2d_layer_forward(ctx, &m->c1, x)), 2, 2, 0);
    h = hl_maxpool2d(ctx, hl_relu(ctx, hl_conv2d_layer_forward(ctx, &m->c2, h)), 2, 2, 0);
    h = hl_maxpool2d(ctx, hl_relu(ctx, hl_conv2d_layer_forward(ctx, &m->c3, h)), 2, 2, 0);
    h = hl_relu(ctx, hl_linear_layer_forward(ctx, &m->f1, hl_flatten(ctx, h)));
    return hl_tanh(ctx, hl_linear_layer_forward(ctx, &m->f2, h));
}

/* A backbone under a 48-unit tanh head. */
typedef struct bb_net {
    hl_params p;
    hl_backbone bb;
    hl_linear_layer head;
} bb_net;

typedef enum { STEP_TRAIN, STEP_ATTACK, STEP_FORWARD } step_kind;

typedef struct bench_state {
    hl_ctx *ctx;
    bool is_ref;
    ref_cnn net;
    bb_net bnet;
    hl_params *p; /* the model's parameters */
    hl_optim *opt;
    hl_tensor *x, *t;
    float last_loss;
} bench_state;

static hl_tensor *model_forward(bench_state *s, hl_tensor *x) {
    if (s->is_ref) return ref_cnn_forward(s->ctx, &s->net, x);
    return hl_tanh(s->ctx, hl_linear_layer_forward(s->ctx, &s->bnet.head, hl_backbone_forward(s->ctx, &s->bnet.bb, x)));
}

static void run_step(bench_state *s, step_kind kind) {
    hl_ctx *ctx = s->ctx;
    hl_ctx_reset(ctx);
    if (!s->is_ref) hl_ctx_set_train(ctx, kind == STEP_TRAIN); /* ref-cnn has no mode-dependent layer */
    if (kind == STEP_TRAIN) {
        hl_tensor *loss = hl_mse(ctx, model_forward(s, s->x), s->t);
        hl_backward(ctx, loss);
        hl_optim_step(s->opt);
        hl_optim_zero_grad(s->opt);
        s->last_loss = hl_tensor_host(ctx, loss)[0]; /* a transfer: on a GPU, the step's sync point */
    } else if (kind == STEP_ATTACK) {
        hl_tensor_zero_grad(s->x);
        hl_tensor *loss = hl_sum(ctx, hl_mul(ctx, model_forward(s, s->x), s->t), HL_AXES_ALL, false);
        hl_backward(ctx, loss);
        (void)hl_tensor_host_grad(ctx, s->x); /* an attack reads the input gradient (no copy on the CPU) */
    } else {
        hl_no_grad_begin(ctx);
        (void)hl_tensor_host(ctx, model_forward(s, s->x)); /* encoding reads the codes (no copy on the CPU) */
        hl_no_grad_end(ctx);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double time_steps(bench_state *s, step_kind kind, const hl_bench_engine_result *o) {
    for (int i = 0; i < o->warmup; i++) run_step(s, kind);
    double *rates = malloc((size_t)o->reps * sizeof *rates);
    HL_ASSERT(rates, "out of memory");
    for (int r = 0; r < o->reps; r++) {
        double t0 = hl_time_s();
        for (int i = 0; i < o->iters; i++) run_step(s, kind);
        rates[r] = (double)o->iters * o->batch / (hl_time_s() - t0);
    }
    qsort(rates, (size_t)o->reps, sizeof *rates, cmp_double);
    double med = o->reps % 2 ? rates[o->reps / 2] : 0.5 * (rates[o->reps / 2 - 1] + rates[o->reps / 2]);
    free(rates);
    return med;
}

void hl_bench_engine_defaults(hl_bench_engine_opts *o) {
    *o = (hl_bench_engine_opts){.threads = 0, .dev = HL_DEVICE_CPU, .model = "ref-cnn", .warmup = -1};
}

/* The backbone net for inputs [3, size, size] (declared, allocated, initialised from seed). */
static hl_status bb_net_init(bb_net *m, const char *name, int size, uint64_t seed, hl_device dev) {
    hl_status st = HL_OK;
    hl_params_set_device(&m->p, dev);
    HL_TRY(hl_backbone_init(&m->bb, &m->p, "backbone", name, 3, size, size));
    hl_linear_layer_init(&m->head, &m->p, "head", m->bb.features, 48, true);
    HL_TRY(hl_params_alloc(&m->p));
    hl_rng r = hl_rng_make(seed, 1);
    hl_backbone_reset(&m->bb, &r);
    hl_nn_init_default_linear(&m->head, &r);
done:
    return st;
}

double hl_bench_peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

hl_status hl_bench_engine(const hl_bench_engine_opts *o, hl_bench_engine_result *out) {
    hl_status st = HL_OK;
    bench_state s = {0};
    const char *model = o->model && o->model[0] ? o->model : "ref-cnn";
    s.is_ref = !strcmp(model, "ref-cnn");
    if (!s.is_ref && hl_backbone_kind_from_name(model) == HL_BACKBONE_KIND_COUNT)
        return hl_error_set(HL_EINVAL, "unknown model '%s' (known: ref-cnn|%s)", model, HL_BACKBONE_NAMES);
    *out = (hl_bench_engine_result){.dev = o->dev, .c = 3};
    snprintf(out->model, sizeof out->model, "%s", model);
    out->size = o->size > 0 ? o->size : s.is_ref ? 32 : 224;
    out->batch = o->batch > 0 ? o->batch : s.is_ref ? 64 : 16;
    out->iters = o->iters > 0 ? o->iters : s.is_ref ? 10 : 2;
    out->reps = o->reps > 0 ? o->reps : s.is_ref ? 5 : 3;
    out->warmup = o->warmup >= 0 ? o->warmup : s.is_ref ? 3 : 1;
    if (s.is_ref && out->size != 32)
        return hl_error_set(HL_EINVAL, "ref-cnn takes 32x32 inputs (--size %d)", out->size);
    const int B = out->batch, S = out->size;
    hl_params_init(&s.net.p);
    hl_params_init(&s.bnet.p);
    out->threads = hl_threads_set(o->threads);
    HL_TRY(hl_ctx_create(&s.ctx, o->dev, (size_t)64 << 20));
    if (s.is_ref) {
        HL_TRY(ref_cnn_init(&s.net, 1, o->dev));
        s.p = &s.net.p;
    } else {
        HL_TRY(bb_net_init(&s.bnet, model, S, 1, o->dev));
        s.p = &s.bnet.p;
    }
    hl_optim_config oc = hl_optim_defaults(HL_OPTIM_SGD);
    oc.lr = 0.01f;
    oc.momentum = 0.9f;
    HL_TRY(hl_optim_create(&s.opt, s.p, &oc));
    HL_TRY(hl_tensor_create(&s.x, 4, HL_SHAPE(B, 3, S, S), o->dev));
    HL_TRY(hl_tensor_create(&s.t, 2, HL_SHAPE(B, 48), o->dev));
    {   /* inputs and targets drawn on the host, uploaded once */
        const int64_t nx = hl_tensor_numel(s.x), nt = hl_tensor_numel(s.t);
        float *hx = malloc((size_t)HL_MAX(nx, nt) * sizeof *hx);
        if (!hx) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
        hl_rng r = hl_rng_make(2, 1);
        hl_rng_uniform(&r, hx, nx, 0.0f, 1.0f);
        hl_tensor_upload(s.x, hx);
        for (int64_t i = 0; i < nt; i++) hx[i] = hl_rng_uniform_at(3, 1, (uint64_t)i) < 0.5f ? -1.0f : 1.0f;
        hl_tensor_upload(s.t, hx);
        free(hx);
    }

    out->train_img_per_s = time_steps(&s, STEP_TRAIN, out);
    out->final_loss = s.last_loss;
    if (!(s.last_loss == s.last_loss)) {
        st = hl_error_set(HL_ENUMERIC, "training loss became NaN in the benchmark");
        goto done;
    }
    /* Attack: freeze the weights, the input requires grad. */
    hl_params_set_requires_grad(s.p, false);
    hl_tensor_set_requires_grad(s.x, true);
    out->attack_img_per_s = time_steps(&s, STEP_ATTACK, out);
    hl_ctx_set_batch_invariant(s.ctx, true); /* as the attack driver runs (core/ctx.h) */
    out->attack_invariant_img_per_s = time_steps(&s, STEP_ATTACK, out);
    hl_ctx_set_batch_invariant(s.ctx, false);
    hl_tensor_set_requires_grad(s.x, false);
    out->forward_img_per_s = time_steps(&s, STEP_FORWARD, out);
    hl_ctx_set_batch_invariant(s.ctx, true); /* as encoding runs */
    out->forward_invariant_img_per_s = time_steps(&s, STEP_FORWARD, out);
    out->peak_rss_mb = hl_bench_peak_rss_mb();
done:
    hl_optim_free(s.opt);
    hl_params_free(&s.net.p);
    hl_params_free(&s.bnet.p);
    hl_tensor_free(s.x);
    hl_tensor_free(s.t);
    hl_ctx_free(s.ctx);
    return st;
}
