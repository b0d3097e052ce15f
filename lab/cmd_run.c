/* lab/cmd_run.c — `hashlab run SUITE`: exit 0 when every selected cell is done, 1 when a cell failed or the run
 * could not start, 2 on bad usage, 130 when interrupted (SIGINT/SIGTERM). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/commands.h"
#include "lab/runner.h"
#include "lab/suite.h"

static const char run_usage[] =
    "usage: hashlab run SUITE.yaml [--dry-run] [--only PATTERN] [--force PATTERN] [--shard i/n] [--fail-fast]\n"
    "                  [--quiet] [--verbose] [--threads N] [--output DIR] [--fetch]\n"
    "  --dry-run     print every cell (state, kind, key prefix, label) and run nothing (never fetches)\n"
    "  --only P      cells whose label matches the shell pattern P (e.g. 'itq/*', '*/noise')\n"
    "  --force P     run the cells matching P again even when done, with every cell computed from them (the old\n"
    "                result is kept as result.json.forced)\n"
    "  --shard i/n   the i-th of n shards (train cells round-robin, attacks with their train cell)\n"
    "  --fail-fast   stop at the first failed cell\n"
    "  --threads N   threads (0 = all cores; default: the suite's)\n"
    "  --output DIR  run directory (default: the suite's output, else runs/<name>)\n"
    "  --fetch       download a missing dataset hashlab knows (cifar10, cifar100) into the suite's data_root, else\n"
    "                $HASHLAB_DATA or ~/.cache/hashlab (also: HASHLAB_FETCH=1; a mirror: HASHLAB_FETCH_URL_CIFAR10\n"
    "                and HASHLAB_FETCH_MD5_CIFAR10)\n"
    "  --quiet       progress: only one line per finished cell\n"
    "  --verbose     progress without a terminal: a line at every phase too, not only every 10 s\n"
    "Done cells are skipped; failed and missing ones run. Ctrl-C stops after the current step (exit 130).\n";

int hl_cmd_run(int argc, char **argv) {
    hl_run_opts o;
    hl_run_opts_default(&o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { printf("%s", run_usage); return 0; }
        else if (!strcmp(a, "--dry-run")) o.dry_run = true;
        else if (!strcmp(a, "--fail-fast")) o.fail_fast = true;
        else if (!strcmp(a, "--fetch")) o.fetch = true;
        else if (!strcmp(a, "--quiet")) o.progress = HL_PROGRESS_QUIET;
        else if (!strcmp(a, "--verbose")) o.progress = HL_PROGRESS_VERBOSE;
        else if (!strcmp(a, "--only") || !strcmp(a, "--force") || !strcmp(a, "--output") || !strcmp(a, "--shard") ||
                 !strcmp(a, "--threads")) {
            if (!val) {
                fprintf(stderr, "hashlab run: %s needs a value\n%s", a, run_usage);
                return 2;
            }
            i++;
            if (!strcmp(a, "--only")) o.only = val;
            else if (!strcmp(a, "--force")) o.force = val;
            else if (!strcmp(a, "--output")) o.output = val;
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
        } else if (o.suite_path) {
            fprintf(stderr, "hashlab run: unexpected argument '%s'\n%s", a, run_usage);
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
