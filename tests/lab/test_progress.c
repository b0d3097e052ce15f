/* tests/lab/test_progress.c — progress lines and bars, with a fake clock and an in-memory stream. */
#include <stdlib.h>
#include <string.h>

#include "lab/progress.h"
#include "test_common.h"

static double fake_now;
static double fake_clock(void) { return fake_now; }

typedef struct capture {
    char *buf;
    size_t len;
    FILE *f;
} capture;

static hl_progress_opts capture_opts(capture *c, int tty, hl_progress_mode mode) {
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    cr_assert_not_null(c->f);
    fake_now = 100.0;
    return (hl_progress_opts){.out = c->f, .tty = tty, .mode = mode, .clock = fake_clock};
}

static const char *captured(capture *c) {
    fflush(c->f);
    return c->buf;
}

/* Plain lines: one every 10 s of work, then the final line. 100 units over 30 s = 3.3/s. */
Test(progress, plain_lines_every_ten_seconds) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 0, HL_PROGRESS_NORMAL);
    hl_progress p;
    hl_progress_begin(&p, &o, "train adsh/32b seed 0", 100, "batches");
    for (int s = 1; s <= 30; s++) {
        fake_now = 100.0 + s;
        hl_progress_update(&p, s * 100 / 30);
    }
    hl_progress_end(&p, true);
    cr_assert_str_eq(captured(&c),
                     "[progress] train adsh/32b seed 0: 33/100 batches (33%), 3.3/s, ETA 0:20\n"
                     "[progress] train adsh/32b seed 0: 66/100 batches (66%), 3.3/s, ETA 0:10\n"
                     "[progress] train adsh/32b seed 0: 100/100 batches (100%), 3.3/s, ETA 0:00\n"
                     "[progress] train adsh/32b seed 0: done, 100 batches in 0:30 (3.3/s)\n");
    fclose(c.f);
    free(c.buf);
}

Test(progress, terminal_bar_with_rate_and_eta) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 1, HL_PROGRESS_NORMAL);
    o.width = 10;
    hl_progress p;
    hl_progress_begin(&p, &o, "attack pgd", 200, "queries");
    fake_now = 104.0;
    hl_progress_update(&p, 100);
    const char *s = captured(&c);
    cr_assert(strstr(s, "\rattack pgd  [#####-----]  50%  100/200 queries  25.0/s  ETA 0:04") != NULL, "got: %s", s);
    /* Updates closer together than redraw_s do not redraw. */
    size_t before = c.len;
    fake_now = 104.05;
    hl_progress_update(&p, 101);
    captured(&c);
    cr_assert_eq(c.len, before);
    hl_progress_end(&p, false);
    cr_assert(strstr(captured(&c), "attack pgd: FAILED, 101 queries in 0:04") != NULL);
    fclose(c.f);
    free(c.buf);
}

Test(progress, quiet_prints_only_the_end_and_unknown_total_has_no_bar) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 0, HL_PROGRESS_QUIET);
    hl_progress p;
    hl_progress_begin(&p, &o, "encode", 0, "images");
    for (int s = 1; s <= 50; s++) {
        fake_now = 100.0 + s;
        hl_progress_update(&p, s * 10);
    }
    hl_progress_end(&p, true);
    cr_assert_str_eq(captured(&c), "[progress] encode: done, 500 images in 0:50 (10.0/s)\n");
    fclose(c.f);
    free(c.buf);

    o = capture_opts(&c, 0, HL_PROGRESS_NORMAL);
    hl_progress_begin(&p, &o, "encode", 0, "images");
    fake_now = 111.0;
    hl_progress_update(&p, 55);
    cr_assert_str_eq(captured(&c), "[progress] encode: 55 images, 5.0/s\n");
    fclose(c.f);
    free(c.buf);
}

Test(progress, durations) {
    char b[32];
    cr_assert_str_eq(hl_progress_format_duration(0, b, sizeof b), "0:00");
    cr_assert_str_eq(hl_progress_format_duration(65.4, b, sizeof b), "1:05");
    cr_assert_str_eq(hl_progress_format_duration(3723, b, sizeof b), "1:02:03");
    cr_assert_str_eq(hl_progress_format_duration(-1, b, sizeof b), "?");
    cr_assert_str_eq(hl_progress_format_duration(1.0 / 0.0, b, sizeof b), "?");
}

/* ---- A run of a suite (hl_suite_progress) ---- */

/* Lines of the captured text that contain `needle`. */
static int count_lines(const char *s, const char *needle) {
    int n = 0;
    for (const char *l = s; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char *line = strndup(l, len);
        if (strstr(line, needle)) n++;
        free(line);
        l = e ? e + 1 : NULL;
    }
    return n;
}

/* One train cell: a fit at 10 s per epoch, then two encodings at their own rates. Every phase (and every repeat of
 * a phase) restarts the rate and ETA: the epochs' slow rate never shows in the encoding's ETA. */
Test(suite_progress, phase_changes_restart_the_rate_and_eta) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 0, HL_PROGRESS_NORMAL);
    hl_suite_progress p;
    cr_assert_eq(hl_suite_progress_init(&p, &o, 1), HL_OK);
    cr_assert_eq(hl_suite_progress_set_cell(&p, 0, HL_CELL_TRAIN, "dpsh", true), HL_OK);
    hl_suite_progress_cell_begin(&p, 0, "train dpsh/32b/seed0");
    hl_suite_progress_phase(&p, "fit", 0, 0, NULL); /* the lab's marker */
    fake_now = 110.0;
    hl_suite_progress_phase(&p, "fit", 1, 4, "loss 0.5000");
    fake_now = 120.0;
    hl_suite_progress_phase(&p, "fit", 2, 4, "loss 0.4213");
    fake_now = 121.0;
    hl_suite_progress_phase(&p, "encode", 0, 0, NULL); /* marker */
    fake_now = 126.0;
    hl_suite_progress_phase(&p, "encode", 1000, 4000, NULL); /* 5 s after the last line: no line */
    fake_now = 131.0;
    hl_suite_progress_phase(&p, "encode", 2000, 4000, NULL); /* 1000 more in 5 s */
    fake_now = 133.0;
    hl_suite_progress_phase(&p, "encode", 100, 400, NULL); /* a second encoding: began at the previous report */
    fake_now = 141.0;
    hl_suite_progress_phase(&p, "encode", 200, 400, NULL); /* 100 more images in 8 s */
    cr_assert_str_eq(captured(&c),
                     "[progress] cell 1/1 train dpsh/32b/seed0: fit epoch 1/4 loss 0.5000 (25%), 10.0 s/epoch, "
                     "ETA 0:30; suite ETA ?\n"
                     "[progress] cell 1/1 train dpsh/32b/seed0: fit epoch 2/4 loss 0.4213 (50%), 10.0 s/epoch, "
                     "ETA 0:20; suite ETA ?\n"
                     "[progress] cell 1/1 train dpsh/32b/seed0: encode 2000/4000 images (50%), 200/s, ETA 0:10; "
                     "suite ETA ?\n"
                     "[progress] cell 1/1 train dpsh/32b/seed0: encode 200/400 images (50%), 12.5/s, ETA 0:16; "
                     "suite ETA ?\n");
    fake_now = 142.0;
    hl_suite_progress_phase(&p, "score", 0, 0, NULL);
    fake_now = 145.0;
    hl_suite_progress_cell_end(&p, HL_PROGRESS_DONE);
    cr_assert(strstr(captured(&c), "[progress] cell 1/1 train dpsh/32b/seed0: done in 45.0s (fit 21.0s, encode 21.0s, "
                                   "score 3.0s); done 1, failed 0, skipped 0; suite ETA 0:00\n"),
              "%s", captured(&c));
    hl_suite_progress_free(&p);
    fclose(c.f);
    free(c.buf);
}

/* A fit resumed after epoch 2 first reports epoch 3: its rate counts from that first report, not from epoch 0. */
Test(suite_progress, resumed_fit_rate_counts_from_its_first_report) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 0, HL_PROGRESS_VERBOSE);
    hl_suite_progress p;
    cr_assert_eq(hl_suite_progress_init(&p, &o, 1), HL_OK);
    cr_assert_eq(hl_suite_progress_set_cell(&p, 0, HL_CELL_TRAIN, "dpsh", true), HL_OK);
    hl_suite_progress_cell_begin(&p, 0, "train dpsh/16b/seed0");
    hl_suite_progress_phase(&p, "fit", 0, 0, NULL);
    fake_now = 102.0;
    hl_suite_progress_phase(&p, "fit", 3, 20, "loss 0.2000");
    fake_now = 104.0;
    hl_suite_progress_phase(&p, "fit", 4, 20, "loss 0.1900");
    cr_assert(strstr(captured(&c), "fit epoch 4/20 loss 0.1900 (20%), 2.0 s/epoch, ETA 0:32;"), "%s", captured(&c));
    hl_suite_progress_free(&p);
    fclose(c.f);
    free(c.buf);
}

/* The terminal: an overall line and the cell's line, erased and redrawn in place; a phase's ETA is "?" until its
 * first count. */
Test(suite_progress, terminal_lines_and_unknown_eta) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 1, HL_PROGRESS_NORMAL);
    o.columns = 200;
    hl_suite_progress p;
    cr_assert_eq(hl_suite_progress_init(&p, &o, 16), HL_OK);
    for (int i = 0; i < 16; i++) cr_assert_eq(hl_suite_progress_set_cell(&p, i, HL_CELL_TRAIN, "dpsh", i >= 1), HL_OK);
    hl_suite_progress_mark(&p, 0, HL_PROGRESS_SKIPPED);
    hl_suite_progress_cell_begin(&p, 1, "train dpsh/32b/seed0");
    hl_suite_progress_phase(&p, "fit", 0, 8, NULL);
    cr_assert(strstr(captured(&c), "cell 2/16 (done 0, failed 0, skipped 1) · suite ETA ?\n"
                                   "train dpsh/32b/seed0 · fit epoch 0/8 · ETA ?"),
              "%s", captured(&c));
    fake_now = 130.0;
    hl_suite_progress_phase(&p, "fit", 3, 8, "loss 0.4213");
    const char *s = captured(&c);
    cr_assert(strstr(s, "\r\033[K\033[A\r\033[Kcell 2/16 (done 0, failed 0, skipped 1) · suite ETA ?\n"
                        "train dpsh/32b/seed0 · fit epoch 3/8 loss 0.4213 · ETA 0:50"),
              "%s", s);
    /* around a log line: erased, then drawn again */
    size_t before = c.len;
    hl_suite_progress_clear(&p);
    cr_assert_str_eq(captured(&c) + before, "\r\033[K\033[A\r\033[K");
    hl_suite_progress_redraw(&p);
    cr_assert(strstr(captured(&c) + before, "train dpsh/32b/seed0 · fit epoch 3/8"));
    /* the end: the live lines go, one permanent line stays */
    before = c.len;
    fake_now = 140.0;
    hl_suite_progress_cell_end(&p, HL_PROGRESS_FAILED);
    cr_assert_str_eq(captured(&c) + before, "\r\033[K\033[A\r\033[Kcell 2/16 train dpsh/32b/seed0: FAILED after 40.0s "
                                            "(fit 40.0s); done 0, failed 1, skipped 1; suite ETA ?\n");
    /* lines are cut to the terminal's width, counting characters */
    p.o.columns = 23;
    hl_suite_progress_cell_begin(&p, 2, "train dpsh/32b/seed1");
    s = captured(&c);
    cr_assert(strstr(s, "\ncell 3/16 (done 0, fai\ntrain dpsh/32b/seed1 ·"), "%s", s);
    cr_assert_eq(s[strlen(s) - 1], "·"[1], "the cut keeps whole characters");
    hl_suite_progress_free(&p);
    fclose(c.f);
    free(c.buf);
}

/* Estimates: the mean of the same kind and group (the store's timings and this run's cells), else of the kind, else
 * unknown; skipped cells cost nothing. */
Test(suite_progress, suite_eta_from_per_kind_costs) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 0, HL_PROGRESS_QUIET);
    hl_suite_progress p;
    cr_assert_eq(hl_suite_progress_init(&p, &o, 5), HL_OK);
    cr_assert_eq(hl_suite_progress_set_cell(&p, 0, HL_CELL_TRAIN, "dpsh", true), HL_OK);
    cr_assert_eq(hl_suite_progress_set_cell(&p, 1, HL_CELL_TRAIN, "lsh", false), HL_OK); /* done: costs nothing */
    cr_assert_eq(hl_suite_progress_set_cell(&p, 2, HL_CELL_ATTACK, "dpsh/pgd", true), HL_OK);
    cr_assert_eq(hl_suite_progress_set_cell(&p, 3, HL_CELL_ATTACK, "lsh/pgd", true), HL_OK);
    cr_assert_eq(hl_suite_progress_set_cell(&p, 4, HL_CELL_TRANSFER, "lsh", true), HL_OK);
    cr_assert_lt(hl_suite_progress_eta(&p), 0); /* nothing known yet */
    cr_assert_eq(hl_suite_progress_add_cost(&p, HL_CELL_TRAIN, "dpsh", 100), HL_OK);
    cr_assert_eq(hl_suite_progress_add_cost(&p, HL_CELL_TRAIN, "dpsh", 60), HL_OK);
    cr_assert_eq(hl_suite_progress_add_cost(&p, HL_CELL_TRAIN, "lsh", 2), HL_OK);
    cr_assert_eq(hl_suite_progress_add_cost(&p, HL_CELL_ATTACK, "lsh/pgd", 10), HL_OK);
    cr_assert_float_eq(hl_suite_progress_estimate(&p, HL_CELL_TRAIN, "dpsh"), 80.0, 1e-9);
    cr_assert_float_eq(hl_suite_progress_estimate(&p, HL_CELL_TRAIN, "itq"), 54.0, 1e-9); /* train mean */
    cr_assert_float_eq(hl_suite_progress_estimate(&p, HL_CELL_ATTACK, "dpsh/pgd"), 10.0, 1e-9);
    cr_assert_lt(hl_suite_progress_estimate(&p, HL_CELL_TRANSFER, "lsh"), 0);
    cr_assert_lt(hl_suite_progress_eta(&p), 0); /* the transfer cell has no estimate */
    hl_suite_progress_mark(&p, 4, HL_PROGRESS_WAITING); /* it will not run */
    cr_assert_float_eq(hl_suite_progress_eta(&p), 80.0 + 10 + 10, 1e-9);
    hl_suite_progress_cell_begin(&p, 0, "train dpsh/32b/seed0");
    fake_now = 130.0;
    cr_assert_float_eq(hl_suite_progress_eta(&p), 50.0 + 10 + 10, 1e-9); /* 30 s of its 80 spent */
    fake_now = 300.0;
    cr_assert_float_eq(hl_suite_progress_eta(&p), 0.0 + 10 + 10, 1e-9); /* over its estimate: 0 left, not less */
    hl_suite_progress_cell_end(&p, HL_PROGRESS_DONE);                    /* 200 s: a new sample */
    cr_assert_float_eq(hl_suite_progress_estimate(&p, HL_CELL_TRAIN, "dpsh"), 120.0, 1e-9);
    hl_suite_progress_mark(&p, 1, HL_PROGRESS_SKIPPED);
    cr_assert(strstr(captured(&c), "train dpsh/32b/seed0: done in 3:20 (setup 3:20); done 1, failed 0, skipped 0; suite ETA 0:20\n"),
              "%s", captured(&c));
    /* a failed cell is no cost sample */
    hl_suite_progress_cell_begin(&p, 2, "attack dpsh/32b/seed0/pgd");
    fake_now = 301.0;
    hl_suite_progress_cell_end(&p, HL_PROGRESS_FAILED);
    cr_assert_float_eq(hl_suite_progress_estimate(&p, HL_CELL_ATTACK, "dpsh/pgd"), 10.0, 1e-9);
    cr_assert_float_eq(hl_suite_progress_eta(&p), 10.0, 1e-9);
    hl_suite_progress_free(&p);
    fclose(c.f);
    free(c.buf);
}

/* Not a terminal: a 45 s encoding reported every second gives a line every 10 s (4), with the phase's name, and the
 * cell's line at the end; the suite ETA is "?" with what is known when some cells have no estimate. QUIET keeps only
 * the cell's line. */
Test(suite_progress, plain_lines_every_ten_seconds) {
    for (int quiet = 0; quiet < 2; quiet++) {
        capture c;
        hl_progress_opts o = capture_opts(&c, 0, quiet ? HL_PROGRESS_QUIET : HL_PROGRESS_NORMAL);
        hl_suite_progress p;
        cr_assert_eq(hl_suite_progress_init(&p, &o, 3), HL_OK);
        cr_assert_eq(hl_suite_progress_set_cell(&p, 0, HL_CELL_TRAIN, "lsh", true), HL_OK);
        cr_assert_eq(hl_suite_progress_set_cell(&p, 1, HL_CELL_TRAIN, "lsh", true), HL_OK);
        cr_assert_eq(hl_suite_progress_set_cell(&p, 2, HL_CELL_ATTACK, "lsh/pgd", true), HL_OK);
        hl_suite_progress_cell_begin(&p, 0, "train lsh/32b/seed0");
        hl_suite_progress_phase(&p, "encode", 0, 0, NULL);
        for (int s = 1; s <= 45; s++) {
            fake_now = 100.0 + s;
            hl_suite_progress_phase(&p, "encode", s * 1000, 45000, NULL);
        }
        hl_suite_progress_cell_end(&p, HL_PROGRESS_DONE);
        const char *s = captured(&c);
        cr_assert_eq(count_lines(s, "[progress] cell 1/3 train lsh/32b/seed0: encode "), quiet ? 0 : 4, "%s", s);
        if (!quiet)
            cr_assert(strstr(s, "[progress] cell 1/3 train lsh/32b/seed0: encode 10000/45000 images (22%), 1000/s, "
                                "ETA 0:35; suite ETA ?\n"),
                      "%s", s);
        cr_assert(strstr(s, "[progress] cell 1/3 train lsh/32b/seed0: done in 45.0s (encode 45.0s); done 1, failed 0, "
                            "skipped 0; suite ETA ? (0:45 + 1 untimed cell)\n"),
                  "%s", s);
        hl_suite_progress_free(&p);
        fclose(c.f);
        free(c.buf);
    }
}

/* Work nested in an unfinished phase (an ensemble's encodings inside an attack batch, the sanity checks' attacks
 * inside the lab's "sanity" step) leaves the phase, its rate and its ETA alone. */
Test(suite_progress, nested_work_keeps_the_phase) {
    capture c;
    hl_progress_opts o = capture_opts(&c, 0, HL_PROGRESS_VERBOSE);
    hl_suite_progress p;
    cr_assert_eq(hl_suite_progress_init(&p, &o, 1), HL_OK);
    cr_assert_eq(hl_suite_progress_set_cell(&p, 0, HL_CELL_ATTACK, "dpsh/auto", true), HL_OK);
    hl_suite_progress_cell_begin(&p, 0, "attack dpsh/32b/seed0/auto");
    fake_now = 110.0;
    hl_suite_progress_phase(&p, "attack", 100, 500, NULL);
    fake_now = 111.0;
    hl_suite_progress_phase(&p, "encode", 64, 64, NULL);
    fake_now = 120.0;
    hl_suite_progress_phase(&p, "attack", 200, 500, NULL);
    hl_suite_progress_phase(&p, "sanity", 0, 0, NULL);
    fake_now = 125.0;
    hl_suite_progress_phase(&p, "attack", 32, 64, NULL);
    fake_now = 130.0;
    hl_suite_progress_cell_end(&p, HL_PROGRESS_DONE);
    const char *s = captured(&c);
    cr_assert(strstr(s, "attack 200/500 queries (40%), 10.0/s, ETA 0:30;"), "%s", s);
    cr_assert_eq(count_lines(s, "encode 64/64"), 0, "%s", s);
    cr_assert(strstr(s, ": sanity for 5.0s;"), "%s", s);
    cr_assert(strstr(s, "done in 30.0s (attack 20.0s, sanity 10.0s);"), "%s", s);
    hl_suite_progress_free(&p);
    fclose(c.f);
    free(c.buf);
}
