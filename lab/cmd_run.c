/* lab/cmd_run.c — `hashlab run SUITE`: exit 0 when every selected cell is done, 1 when a cell failed or the run
 * could not start, 2 on bad usage, 130 when interrupted (SIGINT/SIGTERM). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tensor.h"
#include "lab/commands.h"
#include "lab/overrides.h"
#include "lab/runner.h"
#include "lab/suite.h"

static const char run_usage[] =
    "usage: hashlab run SUITE.yaml [--dry-run] [--only PATTERN] [--force PATTERN] [--shard i/n] [--fail-fast]\n"
    "                  [--quiet] [--verbose] [--threads N] [--device D] [--output DIR] [--fetch]\n"
    "                  [--set-file FRAGMENT.yaml]... [PATH=VALUE]...\n"
    "  --dry-run     print every cell (state, kind, key prefix, label) and run nothing (never fetches)\n"
    "  --only P      cells whose label matches the shell pattern P (e.g. 'itq/*', '*/noise')\n"
    "  --force P     run the cells matching P again even when done, with every cell computed from them (the old\n"
    "                result is kept as result.json.forced)\n"
    "  --shard i/n   the i-th of n shards (train cells round-robin, attacks with their train cell)\n"
    "  --fail-fast   stop at the first failed cell\n"
    "  --threads N   threads (0 = all cores; default: the suite's)\n"
    "  --device D    cpu, cuda or shadow (default: the suite's `device`; the same as the override device=D; shadow\n"
    "                runs the CPU's kernels on memory the host cannot touch, to find missing transfers: docs/devices.md)\n"
    "  --output DIR  run directory (default: the suite's output, else runs/<name>)\n"
    "  --fetch       download a missing dataset hashlab knows (cifar10, cifar100) into the suite's data_root, else\n"
    "                $HASHLAB_DATA or ~/.cache/hashlab (also: HASHLAB_FETCH=1; a mirror: HASHLAB_FETCH_URL_CIFAR10\n"
    "                and HASHLAB_FETCH_MD5_CIFAR10)\n"
    "  --set-file F  a YAML mapping merged over the suite (maps merge, lists and values replace); repeatable\n"
    "  PATH=VALUE    override: hashers.dpsh.params.epochs=5 'seeds=[0,1]' 'attacks[0].eps=16/255' (entries of\n"
    "                hashers/attacks by name or [i]); a comma sweeps: attacks.pgd.eps=4/255,8/255 (suites/README.md)\n"
    "  --quiet       progress: only one line per finished cell\n"
    "  --verbose     progress without a terminal: a line at every phase too, not only every 10 s\n"
    "Done cells are skipped; failed and missing ones run. Ctrl-C stops within seconds, keeping every finished\n"
    "epoch of a fit and every 64 finished queries of an attack (exit 130; run again to resume); a second Ctrl-C\n"
    "exits at once.\n";

static int run_main(int argc, char **argv, const char **files, const char **items) {
    static char device_item[64]; /* "device=D" for --device */
    hl_run_opts o;
    hl_overrides ov = {.set_files = files, .items = items};
    hl_run_opts_default(&o);
    o.overrides = &ov;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { printf("%s", run_usage); return 0; }
        else if (!strcmp(a, "--dry-run")) o.dry_run = true;
        else if (!strcmp(a, "--fail-fast")) o.fail_fast = true;
        else if (!strcmp(a, "--fetch")) o.fetch = true;
        else if (!strcmp(a, "--quiet")) o.progress = HL_PROGRESS_QUIET;
        else if (!strcmp(a, "--verbose")) o.progress = HL_PROGRESS_VERBOSE;
        else if (!strcmp(a, "--only") || !strcmp(a, "--force") || !strcmp(a, "--output") || !strcmp(a, "--shard") ||
                 !strcmp(a, "--threads") || !strcmp(a, "--set-file") || !strcmp(a, "--device")) {
            if (!val) {
                fprintf(stderr, "hashlab run: %s needs a value\n%s", a, run_usage);
                return 2;
            }
            i++;
            if (!strcmp(a, "--only")) o.only = val;
            else if (!strcmp(a, "--force")) o.force = val;
            else if (!strcmp(a, "--output")) o.output = val;
            else if (!strcmp(a, "--set-file")) files[ov.nset_files++] = val;
            else if (!strcmp(a, "--device")) {
                if (hl_device_from_name(val) == HL_DEVICE_COUNT) {
                    fprintf(stderr, "hashlab run: --device must be cpu, cuda or shadow, got '%s'\n", val);
                    return 2;
                }
                snprintf(device_item, sizeof device_item, "device=%s", val);
                items[ov.nitems++] = device_item;
            }
            else if (!strcmp(a, "--shard")) {
                if (hl_shard_parse(val, &o.shard_index, &o.shard_count) < 0) {
                    fprintf(stderr, "hashlab run: %s\n", hl_error_last());
                    return 2;
                }
            } else {
                long long t = hl_cli_parse_int("--threads", val, 0, 1024);
                if (t < 0) return 2;
                o.threads = (int)t;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "hashlab run: unknown option '%s'\n%s", a, run_usage);
            return 2;
        } else if (o.suite_path && strchr(a, '=')) {
            items[ov.nitems++] = a;
        } else if (o.suite_path) {
            fprintf(stderr, "hashlab run: unexpected argument '%s' (an override is PATH=VALUE)\n%s", a, run_usage);
            return 2;
        } else o.suite_path = a;
    }
    if (!o.suite_path) {
        fprintf(stderr, "hashlab run: missing SUITE.yaml\n%s", run_usage);
        return 2;
    }
    const char *fetch_env = getenv("HASHLAB_FETCH");
    if (fetch_env && fetch_env[0] && strcmp(fetch_env, "0") != 0) o.fetch = true;
    hl_run_install_signals();
    hl_run_summary sum;
    if (hl_run_suite(&o, &sum) < 0) {
        fprintf(stderr, "hashlab run: %s\n", hl_error_last());
        return 1;
    }
    if (sum.interrupted) return 130;
    return sum.failed > 0 || (sum.report_status < 0 && sum.report_status != HL_EUNSUPPORTED) ? 1 : 0;
}

int hl_cmd_run(int argc, char **argv) {
    const char **files = calloc((size_t)argc + 1, sizeof *files), **items = calloc((size_t)argc + 1, sizeof *items);
    int rc = 1;
    if (files && items) rc = run_main(argc, argv, files, items);
    else fprintf(stderr, "hashlab run: out of memory\n");
    free(files);
    free(items);
    return rc;
}
