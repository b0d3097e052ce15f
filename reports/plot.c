/* reports/plot.c — line charts with PLplot's cairo drivers; see plot.h. */
#include "reports/plot.h"

#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/io/atomic.h"

#define PNG_W 800
#define PNG_H 600
#define PDF_W 595 /* A5 landscape, points */
#define PDF_H 420
#define MARGIN 0.04

/* cmap0: 0 background, 1 axes/text, 2 grid, 3.. Okabe–Ito (yellow left out: too pale on white). */
enum { COL_BG = 0, COL_FG = 1, COL_GRID = 2, COL_SERIES = 3, N_PALETTE = 7 };
static const PLINT cmap_r[] = {255, 0, 210, 0, 213, 0, 204, 230, 86, 0};
static const PLINT cmap_g[] = {255, 0, 210, 114, 94, 158, 121, 159, 180, 0};
static const PLINT cmap_b[] = {255, 0, 210, 178, 0, 115, 167, 0, 233, 0};
/* Hershey marker glyphs: circle, square, triangle, diamond, star, and their filled forms. */
static const char *const markers[] = {"#(840)", "#(841)", "#(842)", "#(843)", "#(844)", "#(850)",
                                      "#(851)", "#(852)", "#(853)", "#(854)", "#(840)", "#(841)"};

typedef struct range {
    double x0, x1, y0, y1; /* world window (log10 for a log x axis) */
} range;

/* PLplot error capture (process-global like PLplot itself). */
static jmp_buf g_jmp;
static char g_plmsg[2048]; /* plsError target: plabort writes here instead of stderr */
static PLINT g_plcode;
static char g_fatal[512];
static int g_aborted;

static int on_plexit(const char *msg) {
    snprintf(g_fatal, sizeof g_fatal, "%s", msg && msg[0] ? msg : "fatal error");
    longjmp(g_jmp, 1);
}

static void on_plabort(const char *msg) {
    if (!g_aborted) snprintf(g_fatal, sizeof g_fatal, "%s", msg ? msg : "aborted");
    g_aborted = 1;
}

hl_plot_format hl_plot_format_of(const char *path) {
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/')) return HL_PLOT_AUTO;
    if (strcasecmp(dot, ".png") == 0) return HL_PLOT_PNG;
    if (strcasecmp(dot, ".pdf") == 0) return HL_PLOT_PDF;
    return HL_PLOT_AUTO;
}

static bool point_ok(const hl_plot_spec *s, double x, double y) {
    return isfinite(x) && isfinite(y) && (!s->log_x || x > 0);
}

static hl_status check_spec(const char *path, const hl_plot_spec *s) {
    if (s->n_series < 0 || s->n_series > HL_PLOT_MAX_SERIES)
        return hl_error_set(HL_EINVAL, "%s: %d series (at most %d)", path, s->n_series, HL_PLOT_MAX_SERIES);
    for (int i = 0; i < s->n_series; i++) {
        const hl_plot_series *e = &s->series[i];
        if (e->n < 0 || (e->n > 0 && (!e->x || !e->y)) || e->n > INT32_MAX)
            return hl_error_set(HL_EINVAL, "%s: series %d: bad point count or missing arrays", path, i);
    }
    const double r[4] = {s->x_min, s->x_max, s->y_min, s->y_max};
    for (int a = 0; a < 2; a++) {
        if (!isfinite(r[2 * a]) || !isfinite(r[2 * a + 1]) || r[2 * a] > r[2 * a + 1])
            return hl_error_set(HL_EINVAL, "%s: %c range [%g, %g] is not finite and ordered", path, a ? 'y' : 'x',
                                r[2 * a], r[2 * a + 1]);
    }
    if (s->log_x && s->x_min < s->x_max && s->x_min <= 0)
        return hl_error_set(HL_EINVAL, "%s: log x axis needs x_min > 0 (got %g)", path, s->x_min);
    if (s->n_x_ticks < 0 || s->n_x_ticks > HL_PLOT_MAX_TICKS ||
        (s->n_x_ticks > 0 && (!s->x_tick_at || !s->x_tick_labels)))
        return hl_error_set(HL_EINVAL, "%s: bad custom x ticks (%d, at most %d)", path, s->n_x_ticks,
                            HL_PLOT_MAX_TICKS);
    for (int i = 0; i < s->n_x_ticks; i++)
        if (!s->x_tick_labels[i]) return hl_error_set(HL_EINVAL, "%s: x tick label %d is NULL", path, i);
    return HL_OK;
}

/* Fits [lo, hi] to the data with a margin when unset (lo == hi). */
static void fit_axis(double *lo, double *hi, double dmin, double dmax, bool have) {
    if (*lo < *hi) return;
    if (!have) {
        *lo = 0, *hi = 1;
        return;
    }
    if (dmax > dmin) {
        double m = (dmax - dmin) * MARGIN;
        *lo = dmin - m, *hi = dmax + m;
    } else {
        double m = dmin != 0 ? fabs(dmin) * 0.05 : 0.5;
        *lo = dmin - m, *hi = dmin + m;
    }
}

static range compute_range(const hl_plot_spec *s) {
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    bool have = false;
    for (int i = 0; i < s->n_series; i++)
        for (int64_t j = 0; j < s->series[i].n; j++) {
            double x = s->series[i].x[j], y = s->series[i].y[j];
            if (!point_ok(s, x, y)) continue;
            if (s->log_x) x = log10(x);
            double e = s->series[i].err && isfinite(s->series[i].err[j]) && s->series[i].err[j] > 0
                           ? s->series[i].err[j] : 0;
            xmin = fmin(xmin, x), xmax = fmax(xmax, x), ymin = fmin(ymin, y - e), ymax = fmax(ymax, y + e);
            have = true;
        }
    range r = {s->x_min, s->x_max, s->y_min, s->y_max};
    if (s->log_x && r.x0 < r.x1) r.x0 = log10(r.x0), r.x1 = log10(r.x1);
    fit_axis(&r.x0, &r.x1, xmin, xmax, have);
    fit_axis(&r.y0, &r.y1, ymin, ymax, have);
    return r;
}

static void draw_custom_ticks(const hl_plot_spec *s, const range *r) {
    double tick = (r->y1 - r->y0) * 0.015;
    for (int i = 0; i < s->n_x_ticks; i++) {
        double x = s->x_tick_at[i];
        if (!isfinite(x) || (s->log_x && x <= 0)) continue;
        if (s->log_x) x = log10(x);
        if (x < r->x0 || x > r->x1) continue;
        if (s->grid) {
            plcol0(COL_GRID);
            pljoin(x, r->y0, x, r->y1);
        }
        plcol0(COL_FG);
        pljoin(x, r->y0, x, r->y0 + tick);
        pljoin(x, r->y1, x, r->y1 - tick);
        plmtex("b", 1.5, (x - r->x0) / (r->x1 - r->x0), 0.5, s->x_tick_labels[i]);
    }
}

/* Draws series i as polylines broken at unplottable points; xs/ys are scratch of n doubles. */
static void draw_series(const hl_plot_spec *s, int i, PLFLT *xs, PLFLT *ys) {
    const hl_plot_series *e = &s->series[i];
    plcol0(COL_SERIES + i % N_PALETTE);
    pllsty(i < N_PALETTE ? 1 : 3);
    plwidth(2.0);
    int64_t m = 0;
    for (int64_t j = 0; j <= e->n; j++) {
        bool ok = j < e->n && point_ok(s, e->x[j], e->y[j]);
        if (ok) {
            xs[m] = s->log_x ? log10(e->x[j]) : e->x[j];
            ys[m] = e->y[j];
            m++;
            continue;
        }
        if (m > 1) plline((PLINT)m, xs, ys);
        if (m > 0 && e->marker) {
            pllsty(1);
            plstring((PLINT)m, xs, ys, markers[i]);
            pllsty(i < N_PALETTE ? 1 : 3);
        }
        m = 0;
    }
    if (e->err) { /* error bars, one point at a time (a bar needs a plottable point and a positive width) */
        plwidth(2.0);
        for (int64_t j = 0; j < e->n; j++) {
            if (!point_ok(s, e->x[j], e->y[j]) || !isfinite(e->err[j]) || !(e->err[j] > 0)) continue;
            PLFLT x = s->log_x ? log10(e->x[j]) : e->x[j], lo = e->y[j] - e->err[j], hi = e->y[j] + e->err[j];
            plerry(1, &x, &lo, &hi);
        }
    }
    pllsty(1);
    plwidth(1.0);
}

static void draw_legend(const hl_plot_spec *s) {
    PLINT opt[HL_PLOT_MAX_SERIES], tcol[HL_PLOT_MAX_SERIES], lcol[HL_PLOT_MAX_SERIES], lsty[HL_PLOT_MAX_SERIES];
    PLINT snum[HL_PLOT_MAX_SERIES];
    PLFLT lwid[HL_PLOT_MAX_SERIES], sscale[HL_PLOT_MAX_SERIES];
    const char *text[HL_PLOT_MAX_SERIES], *sym[HL_PLOT_MAX_SERIES];
    int k = 0;
    for (int i = 0; i < s->n_series; i++) {
        const hl_plot_series *e = &s->series[i];
        if (!e->label || !e->label[0]) continue;
        opt[k] = PL_LEGEND_LINE | (e->marker ? PL_LEGEND_SYMBOL : 0);
        tcol[k] = COL_FG;
        text[k] = e->label;
        lcol[k] = COL_SERIES + i % N_PALETTE;
        lsty[k] = i < N_PALETTE ? 1 : 3;
        lwid[k] = 2.0;
        sscale[k] = 1.0;
        snum[k] = 1;
        sym[k] = markers[i];
        k++;
    }
    if (!k) return;
    static const PLINT pos[] = {
        PL_POSITION_TOP | PL_POSITION_RIGHT, PL_POSITION_TOP | PL_POSITION_LEFT,
        PL_POSITION_BOTTOM | PL_POSITION_LEFT, PL_POSITION_BOTTOM | PL_POSITION_RIGHT};
    bool outside = s->legend_at == HL_PLOT_OUTSIDE_RIGHT;
    int corner = (int)s->legend_at >= 0 && (int)s->legend_at < 4 ? (int)s->legend_at : 0;
    PLFLT w, h;
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             outside ? PL_POSITION_RIGHT | PL_POSITION_OUTSIDE : pos[corner] | PL_POSITION_INSIDE,
             0.02, outside ? 0.0 : 0.02,
             0.08, COL_BG, COL_FG, 1, 0, 0, k, opt, 1.0, 0.8, 2.0, 0.0, tcol, text, NULL, NULL, NULL, NULL, lcol,
             lsty, lwid, lcol, sscale, snum, sym);
}

/* Every PLplot drawing call; runs on the fresh current stream (errors longjmp out via on_plexit). */
static void draw(const hl_plot_spec *s, const range *r, PLFLT *xs, PLFLT *ys) {
    pladv(0);
    if (s->legend && s->legend_at == HL_PLOT_OUTSIDE_RIGHT) { /* room on the right; smaller text for long titles */
        plschr(0.0, 0.85);
        plvpor(0.09, 0.74, 0.12, 0.90);
    } else {
        plvsta();
    }
    plwind(r->x0, r->x1, r->y0, r->y1);
    const char *xl = s->log_x ? "l" : "";
    char xo[16], xg[16];
    if (s->grid) {
        plcol0(COL_GRID);
        plwidth(0.5);
        snprintf(xg, sizeof xg, "g%s", s->n_x_ticks ? "" : xl);
        plbox(s->n_x_ticks ? "" : xg, 0, 0, "g", 0, 0);
        plwidth(1.0);
    }
    plcol0(COL_FG);
    snprintf(xo, sizeof xo, "bc%s%s", s->n_x_ticks ? "" : "nst", s->n_x_ticks ? "" : xl);
    plbox(xo, 0, 0, "bcnstv", 0, 0);
    if (s->n_x_ticks) draw_custom_ticks(s, r);
    plcol0(COL_FG);
    pllab(s->x_label ? s->x_label : "", s->y_label ? s->y_label : "", s->title ? s->title : "");
    for (int i = 0; i < s->n_series; i++) draw_series(s, i, xs, ys);
    if (s->legend) draw_legend(s);
}

/* Whether this PLplot build has driver `dev` (checked once per device; a missing driver would make plinit prompt
 * on stdin for another one). */
static bool have_device(const char *dev) {
    static int known[2]; /* pngcairo, pdfcairo: 0 unknown, 1 yes, -1 no */
    int slot = strcmp(dev, "pngcairo") == 0 ? 0 : 1;
    if (known[slot]) return known[slot] > 0;
    static const char *menu[256], *names[256];
    int n = (int)HL_ARRAY_LEN(names);
    const char **pm = menu, **pn = names;
    plgDevs(&pm, &pn, &n);
    known[slot] = -1;
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], dev) == 0) known[slot] = 1;
    return known[slot] > 0;
}

/* Runs one figure on a new PLplot stream. Holds the only setjmp; owns no heap memory, so a longjmp from PLplot's
 * exit handler loses nothing. Returns 0 or -1 (message in g_fatal / g_plmsg). */
static int run_plplot(const char *dev, const char *file, int w, int h, const hl_plot_spec *s, const range *r,
                      PLFLT *xs, PLFLT *ys) {
    static PLINT old, strm;
    static volatile int made, ended, fatal;
    plgstrm(&old);
    made = ended = fatal = 0;
    g_aborted = 0;
    g_plcode = 0;
    g_plmsg[0] = g_fatal[0] = 0;
    plsexit(on_plexit);
    plsabort(on_plabort);
    if (setjmp(g_jmp) != 0) {
        fatal = 1;
    } else if (!have_device(dev)) {
        snprintf(g_fatal, sizeof g_fatal, "this PLplot has no \"%s\" driver", dev);
        fatal = 2;
    } else {
        plmkstrm(&strm);
        if (strm < 0) {
            snprintf(g_fatal, sizeof g_fatal, "no free PLplot stream");
            fatal = 1;
        } else {
            made = 1;
            plsError(&g_plcode, g_plmsg);
            plsdev(dev);
            plsfnam(file);
            plspage(0, 0, w, h, 0, 0);
            plscmap0(cmap_r, cmap_g, cmap_b, (PLINT)HL_ARRAY_LEN(cmap_r));
            plinit();
            draw(s, r, xs, ys);
            ended = 1;
            plend1();
        }
    }
    if (made && !ended && setjmp(g_jmp) == 0) { /* best effort: end the broken stream (it frees it) */
        ended = 1;
        plend1();
    }
    plsexit(NULL);
    plsabort(NULL);
    plsstrm(old);
    return fatal == 2 ? -2 : fatal || g_aborted || g_plcode ? -1 : 0;
}

hl_status hl_plot_lines(const char *path, hl_plot_format format, const hl_plot_spec *spec) {
    HL_ASSERT(spec, "NULL spec");
    hl_status st = HL_OK;
    hl_atomic_file af = {0};
    PLFLT *xs = NULL, *ys = NULL;
    if (!path || !path[0]) return hl_error_set(HL_EINVAL, "plot: empty output path");
    if (format == HL_PLOT_AUTO) format = hl_plot_format_of(path);
    if (format != HL_PLOT_PNG && format != HL_PLOT_PDF)
        return hl_error_set(HL_EINVAL, "%s: cannot tell the figure format (use .png or .pdf)", path);
    HL_TRY(check_spec(path, spec));
    int64_t nmax = 1;
    for (int i = 0; i < spec->n_series; i++) nmax = HL_MAX(nmax, spec->series[i].n);
    xs = malloc((size_t)nmax * sizeof *xs);
    ys = malloc((size_t)nmax * sizeof *ys);
    if (!xs || !ys) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    range r = compute_range(spec);
    HL_TRY(hl_atomic_write_begin(&af, path));
    bool png = format == HL_PLOT_PNG;
    int rc = run_plplot(png ? "pngcairo" : "pdfcairo", af.tmp, png ? PNG_W : PDF_W, png ? PNG_H : PDF_H, spec, &r,
                        xs, ys);
    if (rc < 0) {
        const char *m = g_fatal[0] ? g_fatal : g_plmsg;
        while (*m == '\n' || *m == '*' || *m == ' ') m++;
        st = hl_error_set(rc == -2 ? HL_EUNSUPPORTED : HL_ERR, "%s: PLplot failed: %.400s", path,
                          m[0] ? m : "unknown error");
        hl_atomic_write_abort(&af);
        goto done;
    }
    st = hl_atomic_write_commit(&af);
done:
    free(xs);
    free(ys);
    return st;
}
