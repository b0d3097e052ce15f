/* tests/lab/test_run_progress.c — what `hashlab run` prints while it works when stderr is not a terminal: plain
 * lines naming the cell i/N and its phases, one line per finished cell, the same lines in log.txt, and a suite ETA
 * from the timings stored by an earlier run. Deterministic: the per-cell lines always appear, and
 * HASHLAB_TEST_PROGRESS_EVERY=0 (lab/runner.h) makes every phase report a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_run.h"

static const char *const SUITE = "name: progress\n"
                                 "dataset: synthetic\n"
                                 "synthetic: {n: 300, c: 1, h: 8, w: 8, classes: 3}\n"
                                 "protocol: cifar10-1:30/60\n"
                                 "threads: 1\n"
                                 "hashers:\n"
                                 "  - method: lsh\n"
                                 "    bits: [8, 16]\n"
                                 "attacks:\n"
                                 "  - method: noise\n"
                                 "    eps: 8/255\n";

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

Test(run_progress, plain_lines_name_the_cell_and_its_phases) {
    const char *rd = tmp_dir("progress_run");
    char *suite = write_suite(SUITE);
    char cmd[2400];
    static char out[1 << 16];
    snprintf(cmd, sizeof cmd, "HASHLAB_TEST_PROGRESS_EVERY=0 %s/hashlab run %s --output %s 2>&1", HL_BUILD_DIR, suite,
             rd);
    cr_assert_eq(run_capture(cmd, out, sizeof out), 0, "%s", out);
    /* the periodic lines (here: at every report), with the phase, its count, rate and ETA */
    cr_assert(strstr(out, "[progress] cell 1/4 train lsh/8b/seed0: encode 270/270 images (100%), "), "%s", out);
    cr_assert(strstr(out, "[progress] cell 3/4 attack lsh/8b/seed0/noise:linf:8/255: attack 30/30 queries (100%), "),
              "%s", out);
    /* one line per finished cell, with the time spent in each phase; nothing about steps */
    static const char *const ends[] = {
        "[progress] cell 1/4 train lsh/8b/seed0: done in ",
        "[progress] cell 2/4 train lsh/16b/seed0: done in ",
        "[progress] cell 3/4 attack lsh/8b/seed0/noise:linf:8/255: done in ",
        "[progress] cell 4/4 attack lsh/16b/seed0/noise:linf:8/255: done in ",
    };
    for (int k = 0; k < 4; k++) {
        const char *l = strstr(out, ends[k]);
        cr_assert(l, "%s\n---\n%s", ends[k], out);
        const char *e = strchr(l, '\n');
        char line[600];
        snprintf(line, sizeof line, "%.*s", (int)(e ? e - l : (long)strlen(l)), l);
        cr_assert(strstr(line, "encode ") && strstr(line, "score "), "%s", line);
        if (k >= 2) cr_assert(strstr(line, "attack ") && strstr(line, "sanity "), "%s", line);
        cr_assert(strstr(line, k < 3 ? "; suite ETA " : "; suite ETA 0:00"), "%s", line);
    }
    cr_assert(strstr(out, "; done 4, failed 0, skipped 0; suite ETA 0:00\n"), "%s", out);
    cr_assert_null(strstr(out, "steps"), "%s", out);
    /* log.txt gets the same plain lines */
    const char *log = read_text(hl_test_path(rd, "log.txt"));
    for (int k = 0; k < 4; k++) cr_assert(strstr(log, ends[k]), "%s", log);

    /* Again, with the first model and its attack forced: their estimates come from the timings stored above, so the
     * suite ETA is known from the first cell on. The done cells are skipped and cost nothing. */
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s --output %s --force 'lsh/8b/seed0' 2>&1", HL_BUILD_DIR, suite, rd);
    cr_assert_eq(run_capture(cmd, out, sizeof out), 0, "%s", out);
    const char *l = strstr(out, "[progress] cell 1/4 train lsh/8b/seed0: done in ");
    cr_assert(l, "%s", out);
    cr_assert(strstr(l, "; done 1, failed 0, skipped 0; suite ETA 0:0"), "%s", out);
    cr_assert(strstr(out, "[progress] cell 3/4 attack lsh/8b/seed0/noise:linf:8/255: done in "), "%s", out);
    cr_assert(strstr(out, "; done 2, failed 0, skipped 1; suite ETA 0:00\n"), "%s", out);
    cr_assert_null(strstr(out, "cell 2/4"), "%s", out);
    cr_assert_null(strstr(out, "suite ETA ?"), "%s", out);
    free(suite);
}
