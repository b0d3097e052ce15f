/* eval/bench.h — benchmark workloads run by `hashlab bench ...` (specification: ../shared/BENCH.md).
 * Benchmarks are commands, never timed tests: they report medians of repeated timed runs after a warm-up. */
#ifndef HL_BENCH_H
#define HL_BENCH_H

#include "core/common.h"
#include "core/tensor.h"

typedef struct hl_bench_engine_opts {
    int threads;    /* 0: all cores */
    hl_device dev;
    const char *model; /* "ref-cnn" (default) or a backbone name (core/nn/backbone.h), e.g. resnet18, vgg11 */
    int size;       /* input H = W: 0 = the model's default (ref-cnn 32, backbones 224) */
    int batch;      /* 0 = the model's default (ref-cnn 64, backbones 16) */
    int iters;      /* steps per timed repetition (0 = default: ref-cnn 10, backbones 2) */
    int reps;       /* timed repetitions, median reported (0 = default: ref-cnn 5, backbones 3) */
    int warmup;     /* untimed steps first (-1 = default: ref-cnn 3, backbones 1) */
} hl_bench_engine_opts;

typedef struct hl_bench_engine_result {
    double train_img_per_s, attack_img_per_s, forward_img_per_s;
    double attack_invariant_img_per_s, forward_invariant_img_per_s; /* batch-invariant mode (core/ctx.h) */
    double peak_rss_mb;
    int threads;
    hl_device dev;
    float final_loss; /* last training loss (sanity: finite and decreasing) */
    char model[32];   /* what ran, with the defaults resolved */
    int c, size, batch, iters, reps, warmup;
} hl_bench_engine_result;

void hl_bench_engine_defaults(hl_bench_engine_opts *o);
/* train_step, attack_step, forward (plain and batch-invariant) of ref-cnn (3×32×32, batch 64; BENCH.md) or of a
 * backbone (3×224×224, batch 16) under a hashing head: backbone → linear(F → 48) → tanh, the same loss and steps;
 * backbone training runs in train mode (batch statistics, dropout), attacks and forwards in eval mode. HL_EINVAL for
 * an unknown model or a size the backbone refuses. */
hl_status hl_bench_engine(const hl_bench_engine_opts *o, hl_bench_engine_result *out);

/* Peak resident set size of this process in MiB (getrusage). */
double hl_bench_peak_rss_mb(void);

#endif
