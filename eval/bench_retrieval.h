/* eval/bench_retrieval.h — the `hashlab bench retrieval` workload (../shared/BENCH.md).
 *
 * Workload (seeded, counter-based, so query i and item j do not depend on Q, N or the thread count): C classes,
 * each with a random centre code; item i of a set gets class philox(seed, set's label stream, i) mod C and its
 * centre with each bit flipped with probability 1/4. Codes are generated as ±1 floats ("codes already in memory").
 * Timed: packing both sets (hl_codes_pack) + one hl_retrieval_eval giving mAP@R and P@H≤2 (stable ties, zero
 * relevant counted as 0), or with a device hl_retrieval_eval_on (transfers included). The floor: Σ popcount(q XOR j) over all pairs with the same popcount kernel as the scan
 * (hl_rscan_floor), codes already packed. Both figures are medians over `reps` timed runs after one warm-up.
 */
#ifndef HL_BENCH_RETRIEVAL_H
#define HL_BENCH_RETRIEVAL_H

#include "core/codes.h"
#include "core/labels.h"
#include "core/tensor.h"

typedef struct hl_bench_retrieval_opts {
    int64_t queries;  /* Q, default 10,000 */
    int64_t database; /* N, default 50,000 */
    int bits;         /* K, default 64 */
    int64_t topk;     /* R, default 1000 (<= 0: all) */
    int classes;      /* default 10 */
    int threads;      /* 0: all cores */
    int reps;         /* timed repetitions, default 3 */
    uint64_t seed;    /* default 1 */
    hl_device dev;    /* cpu (default: the host path, hl_retrieval_eval) or a device (hl_retrieval_eval_on: codes
                       * uploaded and scored there; the floor stays the host's) */
    const char *save_workload; /* NULL, or a directory to write q_codes.npy, db_codes.npy (uint8 packbits (n,
                                  ceil(K/8))), q_labels.npy, db_labels.npy (int64 class ids) into */
} hl_bench_retrieval_opts;

typedef struct hl_bench_retrieval_result {
    double seconds;       /* median wall time of pack + eval */
    double floor_seconds; /* median wall time of the floor pass */
    double map, p_h2;
    double peak_rss_mb;
    int64_t queries, database, topk;
    int bits, threads;
    hl_device dev;
} hl_bench_retrieval_result;

void hl_bench_retrieval_defaults(hl_bench_retrieval_opts *o);
hl_status hl_bench_retrieval(const hl_bench_retrieval_opts *o, hl_bench_retrieval_result *out);

/* The workload's ±1 codes [n, K] and class ids [n] of one set (0: queries, 1: database). */
void hl_bench_retrieval_workload(uint64_t seed, int set, int64_t n, int bits, int classes, float *x, int64_t *cls);

#endif
