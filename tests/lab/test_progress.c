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
