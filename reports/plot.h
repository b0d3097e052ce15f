/* reports/plot.h — line charts (PR curves, mAP vs ε, t-mAP vs bits) as PNG or PDF, drawn with PLplot's cairo
 * drivers ("pngcairo", "pdfcairo").
 *
 *     double r[] = {0.1, 0.5, 0.9}, p[] = {0.95, 0.8, 0.4};
 *     hl_plot_spec s = {.title = "PR, 32 bits", .x_label = "recall", .y_label = "precision", .legend = true,
 *                       .grid = true, .n_series = 1,
 *                       .series = {{.label = "DPSH", .n = 3, .x = r, .y = p, .marker = true}}};
 *     if ((st = hl_plot_lines("out/pr.pdf", HL_PLOT_AUTO, &s)) < 0) ...
 *
 * Output:
 *   - PNG: 800 × 600 pixels, RGB(A) as cairo writes it, white background. PDF: one A5-landscape page
 *     (595 × 420 pt), fonts and lines as vectors.
 *   - The file is written atomically (core/io/atomic.h): PLplot writes the hidden temp file "<dir>/.<base>.tmp-…",
 *     which is renamed over `path` only after PLplot has finished without error; on any failure `path` is untouched
 *     and the temp file removed.
 *   - Colours: the Okabe–Ito colour-blind-safe palette (blue, vermillion, bluish green, reddish purple, orange, sky
 *     blue, black); series 8–12 reuse the colours with dashed lines. Markers (when on) cycle through circle, square,
 *     triangle, diamond, ... so curves stay distinguishable in grey print.
 *
 * Ranges: an axis whose range is unset (lo == hi, e.g. both 0 in a zeroed spec) is fitted to the finite data of all
 * series plus a 4% margin each side (a flat series gets ±0.5, or ±5% of |value|); with log_x the fit and margin
 * are in log10 space. A set range is used exactly.
 *
 * Non-finite values: a point whose x or y is NaN or ±Inf (or, with log_x, whose x <= 0) is skipped, and the line
 * is broken there (the points on either side are not joined). A chart whose series have no plottable point at all
 * is still drawn (empty axes, range [0, 1] where unset). This is deliberate: sweeps with a missing entry should
 * still produce a figure.
 *
 * Custom x ticks (e.g. ε as "k/255"): when n_x_ticks > 0, the x axis is labelled only at x_tick_at[i] with
 * x_tick_labels[i] (ticks outside the range are ignored) and the vertical grid lines, if any, follow those ticks.
 *
 * Errors: HL_EINVAL (bad spec: NULL or empty path, unknown extension with HL_PLOT_AUTO, more than
 * HL_PLOT_MAX_SERIES series, n < 0, NULL arrays with n > 0, NaN/Inf or inverted set range, log_x with a set range
 * that is not > 0), HL_EIO (the temp file cannot be created, e.g. the directory does not exist or is read-only, or
 * the rename fails), HL_EUNSUPPORTED (this PLplot lacks the cairo driver), HL_ERR (PLplot reported a failure; its
 * message is kept). PLplot's fatal errors (which would print and call exit()) are caught by an exit handler
 * (plsexit) that longjmps back before PLplot prints or exits; its non-fatal aborts (plsabort, plsError) are
 * recorded and become HL_ERR. PLplot's plain warnings may still be printed to stderr.
 *
 * Threads: PLplot's state is process-global (a table of streams plus the current one and the handlers), so
 * hl_plot_lines must not run in two threads at once. Each call makes a fresh stream (plmkstrm), always ends it
 * (plend1), and restores the stream that was current before, so it does not disturb other PLplot use.
 */
#ifndef HL_REPORTS_PLOT_H
#define HL_REPORTS_PLOT_H

#include "core/common.h"

#define HL_PLOT_MAX_SERIES 12
#define HL_PLOT_MAX_TICKS 32

typedef enum hl_plot_format { HL_PLOT_AUTO = 0, HL_PLOT_PNG, HL_PLOT_PDF } hl_plot_format;

/* Where the legend goes (inside the plot area). */
typedef enum hl_plot_corner {
    HL_PLOT_TOP_RIGHT = 0, HL_PLOT_TOP_LEFT, HL_PLOT_BOTTOM_LEFT, HL_PLOT_BOTTOM_RIGHT,
    HL_PLOT_OUTSIDE_RIGHT /* right of the plot area (which narrows to make room): never covers a data point */
} hl_plot_corner;

typedef struct hl_plot_series {
    const char *label;  /* legend text (NULL or "": not in the legend) */
    int64_t n;          /* number of points (0 allowed) */
    const double *x, *y;/* n values each, drawn in the given order */
    bool marker;        /* draw a marker at each point as well as the line */
    const double *err;  /* NULL, or n half-widths: a vertical error bar y ± err at each point (a non-finite or
                         * non-positive err draws none); the fitted y range includes the bars */
} hl_plot_series;

typedef struct hl_plot_spec {
    const char *title, *x_label, *y_label; /* NULL: none */
    double x_min, x_max, y_min, y_max;     /* min == max: fit to the data (see above) */
    bool log_x;                            /* logarithmic x axis (base 10) */
    bool legend;                           /* legend box (inside the plot) listing the labelled series */
    hl_plot_corner legend_at;              /* its corner (default top right) */
    bool grid;                             /* light grey grid lines at the major ticks */
    int n_x_ticks;                         /* 0: automatic numeric ticks; else <= HL_PLOT_MAX_TICKS custom ticks */
    const double *x_tick_at;               /* n_x_ticks positions (data units) */
    const char *const *x_tick_labels;      /* n_x_ticks labels */
    int n_series;                          /* <= HL_PLOT_MAX_SERIES */
    hl_plot_series series[HL_PLOT_MAX_SERIES];
} hl_plot_spec;

/* Format for `path`'s extension: ".png" -> HL_PLOT_PNG, ".pdf" -> HL_PLOT_PDF (case-insensitive), else
 * HL_PLOT_AUTO (meaning: unknown). */
hl_plot_format hl_plot_format_of(const char *path);

/* Draws `spec` into `path` (format HL_PLOT_PNG / HL_PLOT_PDF, or HL_PLOT_AUTO: from the extension). See above for
 * ranges, non-finite values, atomicity and errors. */
hl_status hl_plot_lines(const char *path, hl_plot_format format, const hl_plot_spec *spec);

#endif
