/* lab/cmd_bench_retrieval.c — `hashlab bench retrieval [--queries Q] [--database N] [--bits K] [--topk R|all]
 * [--threads T] [--reps N] [--seed S] [--save-workload DIR] [--json]` (the workloads: README, Benchmarks). */
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "eval/bench_retrieval.h"
#include "lab/commands.h"

static const char bench_retrieval_usage[] =
    "usage: hashlab bench retrieval [--queries Q] [--database N] [--bits K] [--topk R|all] [--threads T]\n"
    "                               [--reps N] [--seed S] [--device cpu|cuda|shadow] [--save-workload DIR] [--json]\n"
    "  defaults: Q 10000, N 50000, K 64, R 1000, 10 classes, threads: all cores, 3 timed repetitions\n"
    "  --device: cpu scores on the host (eval/retrieval.c); cuda or shadow on the device (transfers timed too)\n"
    "  --save-workload DIR writes q_codes.npy, db_codes.npy (uint8, numpy.packbits) and q_labels.npy,\n"
    "  db_labels.npy (int64 class ids) for tests/bench/retrieval_peers.py\n";

int hl_cmd_bench_retrieval(int argc, char **argv) {
    hl_bench_retrieval_opts o;
    hl_bench_retrieval_defaults(&o);
    o.threads = hl_threads_get();
    int json = 0;
    long long v;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            json = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", bench_retrieval_usage);
            return 0;
        }
        if (!val) {
            fprintf(stderr, "hashlab bench retrieval: %s needs a value\n%s", a, bench_retrieval_usage);
            return 2;
        }
        i++;
        if (strcmp(a, "--queries") == 0) {
            if ((v = hl_cli_parse_int(a, val, 1, 100000000)) < 0) return 2;
            o.queries = v;
        } else if (strcmp(a, "--database") == 0) {
            if ((v = hl_cli_parse_int(a, val, 1, 2000000000)) < 0) return 2;
            o.database = v;
        } else if (strcmp(a, "--bits") == 0) {
            if ((v = hl_cli_parse_int(a, val, 1, 32767)) < 0) return 2;
            o.bits = (int)v;
        } else if (strcmp(a, "--topk") == 0) {
            if (strcmp(val, "all") == 0) o.topk = 0;
            else if ((v = hl_cli_parse_int(a, val, 1, 2000000000)) < 0) return 2;
            else o.topk = v;
        } else if (strcmp(a, "--threads") == 0) {
            if ((v = hl_cli_parse_int(a, val, 1, 1024)) < 0) return 2;
            o.threads = (int)v;
        } else if (strcmp(a, "--reps") == 0) {
            if ((v = hl_cli_parse_int(a, val, 1, 1000)) < 0) return 2;
            o.reps = (int)v;
        } else if (strcmp(a, "--seed") == 0) {
            if ((v = hl_cli_parse_int(a, val, 0, 0x7fffffffffffffffLL)) < 0) return 2;
            o.seed = (uint64_t)v;
        } else if (strcmp(a, "--device") == 0) {
            if ((o.dev = hl_device_from_name(val)) == HL_DEVICE_COUNT) {
                fprintf(stderr, "hashlab bench retrieval: --device must be cpu, cuda or shadow, got '%s'\n", val);
                return 2;
            }
        } else if (strcmp(a, "--save-workload") == 0) {
            o.save_workload = val;
        } else {
            fprintf(stderr, "hashlab bench retrieval: unknown option '%s'\n%s", a, bench_retrieval_usage);
            return 2;
        }
    }
    hl_threads_set(o.threads);
    hl_bench_retrieval_result r;
    if (hl_bench_retrieval(&o, &r) < 0) {
        fprintf(stderr, "hashlab: bench retrieval: %s\n", hl_error_last());
        return 1;
    }
    if (json) {
        printf("{\"seconds\": %.6f, \"floor_seconds\": %.6f, \"map\": %.12f, \"p_h2\": %.12f, \"peak_rss_mb\": %.1f, "
               "\"queries\": %lld, \"database\": %lld, \"bits\": %d, \"topk\": %lld, \"threads\": %d, "
               "\"device\": \"%s\"}\n",
               r.seconds, r.floor_seconds, r.map, r.p_h2, r.peak_rss_mb, (long long)r.queries, (long long)r.database,
               r.bits, (long long)r.topk, r.threads, hl_device_name(o.dev));
    } else {
        printf("hashlab bench retrieval — Q %lld, N %lld, K %d, R %lld, %d thread%s, device %s, median of %d runs\n",
               (long long)r.queries, (long long)r.database, r.bits, (long long)r.topk, r.threads,
               r.threads == 1 ? "" : "s", hl_device_name(o.dev), o.reps);
        printf("  mAP@R + P@H<=2 (packing included)  %9.4f s\n", r.seconds);
        printf("  floor: XOR+popcount of all pairs    %9.4f s   (ratio %.2f)\n", r.floor_seconds,
               r.floor_seconds > 0 ? r.seconds / r.floor_seconds : 0.0);
        printf("  mAP@%lld %.6f   P@H<=2 %.6f   peak RSS %.1f MiB\n", (long long)r.topk, r.map, r.p_h2,
               r.peak_rss_mb);
    }
    return 0;
}
