/* lab/main.c — the hashlab command line: a table of subcommands, each parsing its own options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/kernels.h"
#include "core/version.h"
#include "eval/bench.h"
#include "lab/commands.h"


typedef int (*hl_cmd_fn)(int argc, char **argv);
typedef struct hl_cmd {
    const char *name, *args, *help;
    hl_cmd_fn run;
} hl_cmd;

static int cmd_help(int argc, char **argv);
static int cmd_bench(int argc, char **argv);

static int parse_int(const char *opt, const char *val, int lo, int hi) { return (int)hl_cli_parse_int(opt, val, lo, hi); }

static int parse_device(const char *val, hl_device *dev) {
    for (int d = 0; d < HL_DEVICE_COUNT; d++)
        if (val && strcmp(val, hl_device_name((hl_device)d)) == 0) {
            *dev = (hl_device)d;
            return 0;
        }
    fprintf(stderr, "hashlab: --device must be cpu, cuda or shadow, got '%s'\n", val ? val : "");
    return -1;
}

static int bench_engine(int argc, char **argv) {
    hl_bench_engine_opts o;
    hl_bench_engine_defaults(&o);
    o.threads = hl_threads_get(); /* global --threads / HASHLAB_THREADS / all cores */
    int json = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return cmd_bench(1, (char *[]){"--help"});
        if (strcmp(a, "--json") == 0) json = 1;
        else if (strcmp(a, "--threads") == 0) { if ((o.threads = parse_int(a, v, 1, 1024)) < 0) return 2; i++; }
        else if (strcmp(a, "--iters") == 0) { if ((o.iters = parse_int(a, v, 1, 100000)) < 0) return 2; i++; }
        else if (strcmp(a, "--reps") == 0) { if ((o.reps = parse_int(a, v, 1, 1000)) < 0) return 2; i++; }
        else if (strcmp(a, "--batch") == 0) { if ((o.batch = parse_int(a, v, 1, 4096)) < 0) return 2; i++; }
        else if (strcmp(a, "--size") == 0) { if ((o.size = parse_int(a, v, 1, 4096)) < 0) return 2; i++; }
        else if (strcmp(a, "--model") == 0 && v) { o.model = v; i++; }
        else if (strcmp(a, "--device") == 0) { if (parse_device(v, &o.dev) < 0) return 2; i++; }
        else {
            fprintf(stderr, "hashlab bench engine: unknown option '%s' (known: --model ref-cnn|resnet18|vgg11|... "
                            "--batch N --size N --threads N --device cpu|cuda|shadow --json --iters N --reps N)\n", a);
            return 2;
        }
    }
    hl_bench_engine_result r;
    if (hl_bench_engine(&o, &r) < 0) {
        fprintf(stderr, "hashlab: bench engine: %s\n", hl_error_last());
        return 1;
    }
    if (json) {
        printf("{\"model\": \"%s\", \"input\": \"%dx%dx%d\", \"batch\": %d, \"train_img_per_s\": %.2f, "
               "\"attack_img_per_s\": %.2f, \"forward_img_per_s\": %.2f, \"attack_invariant_img_per_s\": %.2f, "
               "\"forward_invariant_img_per_s\": %.2f, \"peak_rss_mb\": %.1f, \"threads\": %d, \"device\": \"%s\"}\n",
               r.model, r.c, r.size, r.size, r.batch, r.train_img_per_s, r.attack_img_per_s, r.forward_img_per_s,
               r.attack_invariant_img_per_s, r.forward_invariant_img_per_s, r.peak_rss_mb, r.threads,
               hl_device_name(r.dev));
    } else {
        printf("hashlab bench engine — %s %dx%dx%d, batch %d, %s, %d thread%s, median of %d x %d steps\n", r.model,
               r.c, r.size, r.size, r.batch, hl_device_name(r.dev), r.threads, r.threads == 1 ? "" : "s", r.reps,
               r.iters);
        printf("  train_step   %9.1f img/s   (forward + MSE + backward + SGD momentum 0.9)\n", r.train_img_per_s);
        printf("  attack_step  %9.1f img/s   (frozen weights, gradient w.r.t. the input only)\n", r.attack_img_per_s);
        printf("  forward      %9.1f img/s   (no grad)\n", r.forward_img_per_s);
        printf("  attack_step  %9.1f img/s   batch-invariant (as hashlab's attacks run)\n",
               r.attack_invariant_img_per_s);
        printf("  forward      %9.1f img/s   batch-invariant (as hashlab encodes)\n", r.forward_invariant_img_per_s);
        printf("  peak RSS     %9.1f MiB\n", r.peak_rss_mb);
        printf("  final train loss %.4f\n", (double)r.final_loss);
    }
    return 0;
}

static int cmd_bench(int argc, char **argv) {
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: hashlab bench engine [--model ref-cnn|resnet18|vgg11|...] [--batch N] [--size N] [--threads N] "
               "[--device cpu|cuda|shadow] [--json] [--iters N] [--reps N]\n"
               "       hashlab bench retrieval [--queries Q] [--database N] [--bits K] [--topk R] [--threads T] "
               "[--json]\n"
               "       hashlab bench lists [--images N] [--source-size S] [--image-size P] [--threads T] [--dir DIR] "
               "[--keep] [--json]\n"
               "  workloads of the README's Benchmarks section; figures are medians of repeated timed runs after a warm-up\n");
        return 0;
    }
    if (argc >= 1 && strcmp(argv[0], "engine") == 0) return bench_engine(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "retrieval") == 0) return hl_cmd_bench_retrieval(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "lists") == 0) return hl_cmd_bench_lists(argc - 1, argv + 1);
    fprintf(stderr, "hashlab bench: unknown workload '%s' (known: engine retrieval lists)\n", argc >= 1 ? argv[0] : "");
    return 2;
}

static int cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("hashlab %s\n", HASHLAB_VERSION);
    return 0;
}

static const hl_cmd hl_cmds[] = {
    {"run", "SUITE.yaml [--dry-run] [--only PAT] [PATH=VALUE]...", "train, attack, score and report a suite "
     "(run --help)", hl_cmd_run},
    {"status", "RUNDIR | SUITE.yaml [PATH=VALUE]...", "progress of a run's grid of cells", hl_cmd_status},
    {"bench", "engine|retrieval|lists [options] [--json]", "run a benchmark workload (docs/bench.md)", cmd_bench},
    {"data", "fetch cifar10|cifar100 | info NAME", "download or inspect a dataset", hl_cmd_data},
    {"score", "--query-codes Q.npy --db-codes D.npy ...", "score codes from any framework (docs/METRICS.md)", hl_cmd_score},
    {"encode", "--model CELL_DIR|MODEL --images LIST --out C.npy", "a trained hasher's codes for any "
     "images (encode --help)", hl_cmd_encode},
    {"embed", "--backbone NAME --images LIST --out F.npy", "a backbone's features for any images (embed --help)",
     hl_cmd_embed},
    {"list", "[--plugin PATH]... [NAME]", "registered hashers and attacks, or one's parameters", hl_cmd_list},
    {"report", "RUNDIR [--format md,tex,csv,json]", "rebuild tables and figures from stored results", hl_cmd_report},
    {"version", "", "print the version", cmd_version},
    {"help", "", "this message", cmd_help},
};

static int cmd_help(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("usage: hashlab [--threads N] <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < HL_ARRAY_LEN(hl_cmds); i++)
        printf("  %-8s %-52s %s\n", hl_cmds[i].name, hl_cmds[i].args, hl_cmds[i].help);
    printf("\nenvironment: HASHLAB_THREADS (default: all cores), HASHLAB_LOG (error|warn|info|debug)\n");
    printf("documentation (in the hashlab repository): docs/METRICS.md (metric definitions), docs/attacks.md (attacks,\n"
           "the auto ensemble), docs/sanity.md (sanity flags), docs/embed.md (embed, encode), suites/README.md (suite\n"
           "format)\n");
    return 0;
}

/* OpenMP worker threads spin between parallel regions by default (libgomp). Between the engine's parallel kernels a
 * hasher does serial host work (losses, code updates, batch reads); on a small machine the spinning threads then
 * take the cores that work needs: DPSH training on 2 cores ran at 298 img/s spinning and 577 img/s passive (1
 * thread: 657). The runtime reads OMP_WAIT_POLICY once, before main, so hashlab sets it and re-executes itself once
 * when the user has not chosen; if the re-exec fails it simply goes on. */
static void prefer_passive_omp(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
    prefer_passive_omp(argv);
    if (argc < 2) {
        cmd_help(0, NULL);
        return 2;
    }
    /* Global options before the command: --threads N (also HASHLAB_THREADS; default all cores). */
    hl_threads_init();
    while (argc >= 3 && strcmp(argv[1], "--threads") == 0) {
        int n = parse_int("--threads", argv[2], 1, 1024);
        if (n < 0) return 2;
        hl_threads_set(n);
        argc -= 2;
        argv += 2;
    }
    if (argc < 2) {
        cmd_help(0, NULL);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) return cmd_help(0, NULL);
    if (strcmp(argv[1], "--version") == 0) return cmd_version(0, NULL);
    for (size_t i = 0; i < HL_ARRAY_LEN(hl_cmds); i++)
        if (strcmp(argv[1], hl_cmds[i].name) == 0) return hl_cmds[i].run(argc - 2, argv + 2);
    fprintf(stderr, "hashlab: unknown command '%s' (known:", argv[1]);
    for (size_t i = 0; i < HL_ARRAY_LEN(hl_cmds); i++) fprintf(stderr, " %s", hl_cmds[i].name);
    fprintf(stderr, ")\n");
    return 2;
}
