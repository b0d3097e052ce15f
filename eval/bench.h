/* eval/bench.h — benchmark workloads run by `hashlab bench ...` (specification: ../shared/BENCH.md).
 * Benchmarks are commands, never timed tests: they report medians of repeated timed runs after a warm-up. */
#ifndef HL_BENCH_H
#define HL_BENCH_H

#include "core/common.h"
#include "core/tensor.h"

typedef struct hl_bench_engine_opts {
    int threads;    /* 0: all cores */
    hl_device dev;
    int batch;      /* 64 */
    int iters;      /* steps per timed repetition (default 10) */
    int reps;       /* timed repetitions, median reported (default 5) */
    int warmup;     /* untimed steps first (default 3) */
} hl_bench_engine_opts;

typedef struct hl_bench_engine_result {
    double train_img_per_s, attack_img_per_s, forward_img_per_s;
    double attack_invariant_img_per_s, forward_invariant_img_per_s; /* batch-invariant mode (core/ctx.h) */
    double peak_rss_mb;
    int threads;
    hl_device dev;
    float final_loss; /* last training loss (sanity: finite and decreasing) */
} hl_bench_engine_result;

void hl_bench_engine_defaults(hl_bench_engine_opts *o);
/* ref-cnn (3×32×32, batch 64): train_step, attack_step, forward; see BENCH.md. */
hl_status hl_bench_engine(const hl_bench_engine_opts *o, hl_bench_engine_result *out);

/* Peak resident set size of this process in MiB (getrusage). */
double hl_bench_peak_rss_mb(void);

#endif
