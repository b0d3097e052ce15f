/* tests/reports/test_plot.c — PLplot line charts: PNG decodes at 800×600 with the palette colours, PDF framing,
 * format selection, NaN breaks, spec validation, unwritable paths and PLplot's fatal path (no exit). */
#include <math.h>
#include <plplot.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "reports/plot.h"
#include "test_common.h"

typedef struct rgba_img {
    int w, h;
    uint8_t *px; /* RGBA */
} rgba_img;

/* Decodes a PNG file into RGBA with libpng's simplified API (fails the test if it cannot). */
static rgba_img read_png(const char *path) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&im, path), "%s: %s", path, im.message);
    im.format = PNG_FORMAT_RGBA;
    rgba_img r = {(int)im.width, (int)im.height, malloc(PNG_IMAGE_SIZE(im))};
    cr_assert(png_image_finish_read(&im, NULL, r.px, 0, NULL), "%s: %s", path, im.message);
    return r;
}

static bool has_colour(const rgba_img *im, int r, int g, int b) {
    for (int64_t i = 0; i < (int64_t)im->w * im->h; i++) {
        const uint8_t *p = im->px + 4 * i;
        if (p[0] == r && p[1] == g && p[2] == b) return true;
    }
    return false;
}

static int count_colours(const rgba_img *im) {
    int n = 0;
    uint32_t seen[64];
    for (int64_t i = 0; i < (int64_t)im->w * im->h && n < 64; i++) {
        const uint8_t *p = im->px + 4 * i;
        uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        int j = 0;
        while (j < n && seen[j] != v) j++;
        if (j == n) seen[n++] = v;
    }
    return n;
}

static const double rec[] = {0.05, 0.2, 0.4, 0.6, 0.8, 1.0};
static const double pr_a[] = {0.98, 0.95, 0.9, 0.8, 0.6, 0.3};
static const double pr_b[] = {0.9, 0.85, 0.7, 0.55, 0.4, 0.2};
static const double pr_c[] = {0.7, 0.6, 0.5, 0.4, 0.3, 0.15};

static hl_plot_spec pr_spec(void) {
    hl_plot_spec s = {.title = "PR curves (radius 2)", .x_label = "recall", .y_label = "precision", .legend = true,
                      .legend_at = HL_PLOT_BOTTOM_LEFT, .grid = true, .n_series = 3};
    s.series[0] = (hl_plot_series){"DPSH 32 bits", 6, rec, pr_a, true, NULL};
    s.series[1] = (hl_plot_series){"HashNet 32 bits", 6, rec, pr_b, true, NULL};
    s.series[2] = (hl_plot_series){"LSH", 6, rec, pr_c, false, NULL};
    return s;
}

static void expect_pdf(const char *path) {
    size_t n;
    unsigned char *b = hl_test_read_file(path, &n);
    cr_assert_gt(n, 1024, "PDF only %zu bytes", n);
    cr_assert(memcmp(b, "%PDF-", 5) == 0, "no %%PDF- header");
    size_t e = n;
    while (e > 0 && (b[e - 1] == '\n' || b[e - 1] == '\r')) e--;
    cr_assert(e >= 5 && memcmp(b + e - 5, "%%EOF", 5) == 0, "no %%%%EOF trailer");
    free(b);
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* No temp files left next to the output. */
static int dir_entries(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    cr_assert(p && fscanf(p, "%d", &n) == 1);
    pclose(p);
    return n;
}

Test(plot, png_pr_curves) {
    const char *dir = hl_test_tmpdir();
    char *path = hl_test_path(dir, "pr.png");
    hl_plot_spec s = pr_spec();
    cr_assert_eq(hl_plot_lines(path, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    rgba_img im = read_png(path);
    cr_assert_eq(im.w, 800);
    cr_assert_eq(im.h, 600);
    cr_assert_geq(count_colours(&im), 8, "image looks blank");
    const uint8_t *corner = im.px;
    cr_assert(corner[0] == 255 && corner[1] == 255 && corner[2] == 255, "background not white");
    /* Okabe–Ito blue, vermillion and bluish green for series 0, 1, 2 (solid 2-pt lines keep exact pixels). */
    cr_assert(has_colour(&im, 0, 114, 178), "series 0 colour missing");
    cr_assert(has_colour(&im, 213, 94, 0), "series 1 colour missing");
    cr_assert(has_colour(&im, 0, 158, 115), "series 2 colour missing");
    cr_assert(!has_colour(&im, 204, 121, 167), "colour of an absent series 3 present");
    free(im.px);
    cr_assert_eq(dir_entries(dir), 1, "temp files left behind");
}

Test(plot, pdf_and_formats) {
    const char *dir = hl_test_tmpdir();
    hl_plot_spec s = pr_spec();
    char *pdf = hl_test_path(dir, "pr.pdf");
    cr_assert_eq(hl_plot_lines(pdf, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    expect_pdf(pdf);
    /* explicit format wins over the name; upper-case extensions are recognised */
    char *named = hl_test_path(dir, "figure.bin");
    cr_assert_eq(hl_plot_lines(named, HL_PLOT_PDF, &s), HL_OK, "%s", hl_error_last());
    expect_pdf(named);
    char *upper = hl_test_path(dir, "FIG.PNG");
    cr_assert_eq(hl_plot_lines(upper, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    rgba_img im = read_png(upper);
    cr_assert(im.w == 800 && im.h == 600);
    free(im.px);
    cr_assert_eq(hl_plot_format_of("a/b.pdf"), HL_PLOT_PDF);
    cr_assert_eq(hl_plot_format_of("a.png/b"), HL_PLOT_AUTO);
    cr_assert_eq(hl_plot_format_of("noext"), HL_PLOT_AUTO);
    char *bad = hl_test_path(dir, "fig.svg");
    cr_assert_eq(hl_plot_lines(bad, HL_PLOT_AUTO, &s), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "fig.svg"), "%s", hl_error_last());
    cr_assert(!exists(bad));
}

/* mAP vs ε with k/255 tick labels; t-mAP vs bits on a log axis. */
Test(plot, custom_ticks_and_log_axis) {
    const char *dir = hl_test_tmpdir();
    const double eps[] = {0, 2 / 255.0, 4 / 255.0, 8 / 255.0, 16 / 255.0}, map[] = {0.8, 0.6, 0.4, 0.2, 0.05};
    const char *labels[] = {"0", "2/255", "4/255", "8/255", "16/255"};
    hl_plot_spec s = {.title = "mAP vs #ge", .x_label = "#ge (L-inf)", .y_label = "mAP", .grid = true,
                      .legend = true, .y_min = 0, .y_max = 1, .n_x_ticks = 5, .x_tick_at = eps,
                      .x_tick_labels = labels, .n_series = 1};
    s.series[0] = (hl_plot_series){"PGD-20", 5, eps, map, true, NULL};
    char *p1 = hl_test_path(dir, "eps.png");
    cr_assert_eq(hl_plot_lines(p1, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    rgba_img im = read_png(p1);
    cr_assert(im.w == 800 && im.h == 600 && has_colour(&im, 0, 114, 178));
    free(im.px);
    expect_pdf((hl_plot_lines(hl_test_path(dir, "eps.pdf"), HL_PLOT_AUTO, &s), hl_test_path(dir, "eps.pdf")));

    const double bits[] = {16, 32, 64, 128}, tmap[] = {0.3, 0.45, 0.55, 0.6};
    const char *bit_labels[] = {"16", "32", "64", "128"};
    hl_plot_spec l = {.title = "t-mAP vs bits", .x_label = "bits", .y_label = "t-mAP", .log_x = true, .grid = true,
                      .n_x_ticks = 4, .x_tick_at = bits, .x_tick_labels = bit_labels, .n_series = 1};
    l.series[0] = (hl_plot_series){"targeted", 4, bits, tmap, true, NULL};
    char *p2 = hl_test_path(dir, "bits.png");
    cr_assert_eq(hl_plot_lines(p2, HL_PLOT_AUTO, &l), HL_OK, "%s", hl_error_last());
    im = read_png(p2);
    cr_assert(im.w == 800 && im.h == 600 && has_colour(&im, 0, 114, 178));
    free(im.px);
}

/* Non-finite points are skipped and break the line: with every other point NaN and no markers, nothing of the
 * series is drawn; the same series without NaN is drawn. An all-NaN chart is still written. */
Test(plot, nan_points_break_the_line) {
    const char *dir = hl_test_tmpdir();
    const double x[] = {0.1, 0.3, 0.5, 0.7, 0.9}, y_nan[] = {0.2, NAN, 0.5, INFINITY, 0.8},
                 y_ok[] = {0.2, 0.35, 0.5, 0.65, 0.8};
    hl_plot_spec s = {.x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1, .n_series = 1};
    s.series[0] = (hl_plot_series){"s", 5, x, y_nan, false, NULL};
    char *p = hl_test_path(dir, "nan.png");
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    rgba_img im = read_png(p);
    cr_assert(!has_colour(&im, 0, 114, 178), "a line was drawn across non-finite points");
    free(im.px);
    s.series[0].y = y_ok;
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    im = read_png(p);
    cr_assert(has_colour(&im, 0, 114, 178), "finite series not drawn");
    free(im.px);

    const double all_nan[] = {NAN, NAN};
    hl_plot_spec e = {.n_series = 1};
    e.series[0] = (hl_plot_series){"none", 2, x, all_nan, true, NULL};
    cr_assert_eq(hl_plot_lines(hl_test_path(dir, "empty.pdf"), HL_PLOT_AUTO, &e), HL_OK, "%s", hl_error_last());
    expect_pdf(hl_test_path(dir, "empty.pdf"));
}

Test(plot, invalid_specs) {
    const char *dir = hl_test_tmpdir();
    char *p = hl_test_path(dir, "bad.png");
    hl_plot_spec s = pr_spec();
    s.n_series = HL_PLOT_MAX_SERIES + 1;
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_EINVAL);
    s = pr_spec();
    s.y_min = 1, s.y_max = 0;
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_EINVAL);
    s = pr_spec();
    s.x_min = NAN;
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_EINVAL);
    s = pr_spec();
    s.log_x = true, s.x_min = 0, s.x_max = 1;
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_EINVAL);
    s = pr_spec();
    s.series[1].x = NULL;
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_EINVAL);
    s = pr_spec();
    s.n_x_ticks = 2;
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_EINVAL);
    cr_assert_eq(hl_plot_lines("", HL_PLOT_PNG, &s), HL_EINVAL);
    cr_assert(!exists(p));
}

Test(plot, unwritable_path) {
    hl_plot_spec s = pr_spec();
    char *p = hl_test_path(hl_test_tmpdir(), "no/such/dir/x.png");
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_EIO);
    cr_assert(strstr(hl_error_last(), "no/such/dir/x.png"), "%s", hl_error_last());
    cr_assert(!exists(p));
}

/* Streams are made and ended per figure (more figures than PLplot's 100 stream slots), and the caller's current
 * stream is restored. */
Test(plot, streams_released) {
    const char *dir = hl_test_tmpdir();
    hl_plot_spec s = pr_spec();
    s.legend = false;
    PLINT before, after;
    plgstrm(&before);
    for (int i = 0; i < 105; i++)
        cr_assert_eq(hl_plot_lines(hl_test_path(dir, "s.pdf"), HL_PLOT_AUTO, &s), HL_OK, "%d: %s", i,
                     hl_error_last());
    plgstrm(&after);
    cr_assert_eq(before, after);
    expect_pdf(hl_test_path(dir, "s.pdf"));
}

/* PLplot's fatal path: with no file descriptor left for PLplot's own fopen of the temp file, PLplot gives up with
 * plexit(), which would end the process; the exit handler turns it into HL_ERR and the output is untouched. */
Test(plot, plplot_fatal_error_is_a_status) {
    const char *dir = hl_test_tmpdir();
    hl_plot_spec s = pr_spec();
    char *ok = hl_test_path(dir, "warm.png"); /* loads the drivers first (they need descriptors too) */
    cr_assert_eq(hl_plot_lines(ok, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    char *p = hl_test_path(dir, "fatal.png");
    struct rlimit old;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    cr_assert_geq(lowest, 0);
    close(lowest);
    struct rlimit lim = {(rlim_t)lowest + 1, old.rlim_max}; /* room for the temp file's descriptor only */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    hl_status st = hl_plot_lines(p, HL_PLOT_AUTO, &s);
    setrlimit(RLIMIT_NOFILE, &old);
    cr_assert_eq(st, HL_ERR, "got %d: %s", st, hl_error_last());
    cr_assert(strstr(hl_error_last(), "PLplot failed"), "%s", hl_error_last());
    cr_assert(!exists(p));
    cr_assert_eq(dir_entries(dir), 1, "temp file left behind");
    /* PLplot still works afterwards */
    cr_assert_eq(hl_plot_lines(p, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    rgba_img im = read_png(p);
    cr_assert(im.w == 800 && im.h == 600);
    free(im.px);
}

static int64_t count_colour(const rgba_img *im, int r, int g, int b) {
    int64_t k = 0;
    for (int64_t i = 0; i < (int64_t)im->w * im->h; i++) {
        const unsigned char *p = im->px + 4 * i;
        k += abs(p[0] - r) < 40 && abs(p[1] - g) < 40 && abs(p[2] - b) < 40;
    }
    return k;
}

/* Error bars (mean ± std over seeds) add ink in the series colour (same fixed axes), with the legend outside the plot
 * area; a non-finite half-width draws no bar. */
Test(plot, error_bars_and_legend_outside) {
    const char *dir = hl_test_tmpdir();
    const double x[] = {0, 1, 2, 3}, y[] = {0.8, 0.6, 0.4, 0.2}, err[] = {0.15, 0.15, NAN, 0.15};
    hl_plot_spec s = {.title = "bars", .x_label = "x", .y_label = "y", .legend = true, .y_min = 0, .y_max = 1,
                      .legend_at = HL_PLOT_OUTSIDE_RIGHT, .n_series = 1};
    s.series[0] = (hl_plot_series){.label = "with bars", .n = 4, .x = x, .y = y, .err = NULL};
    char *p0 = hl_test_path(dir, "nobars.png"), *p1 = hl_test_path(dir, "bars.png");
    cr_assert_eq(hl_plot_lines(p0, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    s.series[0].err = err;
    cr_assert_eq(hl_plot_lines(p1, HL_PLOT_AUTO, &s), HL_OK, "%s", hl_error_last());
    expect_pdf((hl_plot_lines(hl_test_path(dir, "bars.pdf"), HL_PLOT_AUTO, &s), hl_test_path(dir, "bars.pdf")));
    rgba_img a = read_png(p0), b = read_png(p1);
    int64_t ka = count_colour(&a, 0, 114, 178), kb = count_colour(&b, 0, 114, 178);
    cr_assert(ka > 0 && kb > ka + 100, "series pixels without bars %lld, with bars %lld", (long long)ka, (long long)kb);
    free(a.px), free(b.px);
}
