/* lab/progress.c — progress bars and periodic log lines; see progress.h. */
#include "lab/progress.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

void hl_progress_defaults(hl_progress_opts *o) {
    if (!o->out) o->out = stderr;
    if (o->redraw_s <= 0) o->redraw_s = 0.1;
    if (o->log_every_s <= 0) o->log_every_s = 10.0;
    if (!o->clock) o->clock = hl_time_s;
    if (o->width <= 0) o->width = 20;
    if (o->tty < 0) o->tty = isatty(fileno(o->out)) ? 1 : 0;
}

char *hl_progress_format_duration(double seconds, char *buf, size_t n) {
    if (!(seconds >= 0) || !isfinite(seconds)) {
        snprintf(buf, n, "?");
        return buf;
    }
    long s = (long)(seconds + 0.5), h = s / 3600, m = (s / 60) % 60;
    if (h > 0)
        snprintf(buf, n, "%ld:%02ld:%02ld", h, m, s % 60);
    else
        snprintf(buf, n, "%ld:%02ld", m, s % 60);
    return buf;
}

/* Rate in units per second since the start (0 before any time has passed). */
static double rate(const hl_progress *p, double now) {
    double dt = now - p->t_start;
    return dt > 0 ? (double)p->done / dt : 0.0;
}

static void draw_bar(hl_progress *p, double now) {
    char eta[32] = "?";
    double r = rate(p, now);
    fprintf(p->o.out, "\r%s  ", p->label);
    if (p->total > 0) {
        int fill = (int)((double)p->o.width * (double)p->done / (double)p->total);
        fputc('[', p->o.out);
        for (int i = 0; i < p->o.width; i++) fputc(i < fill ? '#' : '-', p->o.out);
        if (r > 0) hl_progress_format_duration((double)(p->total - p->done) / r, eta, sizeof eta);
        fprintf(p->o.out, "] %3d%%  %lld/%lld %s  %.1f/s  ETA %s\033[K", (int)(100 * p->done / p->total),
                (long long)p->done, (long long)p->total, p->unit, r, eta);
    } else {
        fprintf(p->o.out, "%lld %s  %.1f/s\033[K", (long long)p->done, p->unit, r);
    }
    fflush(p->o.out);
}

static void log_line(hl_progress *p, double now) {
    char eta[32] = "?";
    double r = rate(p, now);
    if (p->total > 0) {
        if (r > 0) hl_progress_format_duration((double)(p->total - p->done) / r, eta, sizeof eta);
        fprintf(p->o.out, "[progress] %s: %lld/%lld %s (%d%%), %.1f/s, ETA %s\n", p->label, (long long)p->done,
                (long long)p->total, p->unit, (int)(100 * p->done / p->total), r, eta);
    } else {
        fprintf(p->o.out, "[progress] %s: %lld %s, %.1f/s\n", p->label, (long long)p->done, p->unit, r);
    }
    fflush(p->o.out);
}

void hl_progress_begin(hl_progress *p, const hl_progress_opts *o, const char *label, int64_t total, const char *unit) {
    memset(p, 0, sizeof *p);
    if (o) p->o = *o;
    else p->o.tty = -1;
    hl_progress_defaults(&p->o);
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "items");
    p->total = total > 0 ? total : 0;
    p->t_start = p->t_last_draw = p->o.clock();
    p->active = true;
    if (p->o.mode != HL_PROGRESS_QUIET && p->o.tty) draw_bar(p, p->t_start);
}

void hl_progress_update(hl_progress *p, int64_t done) {
    HL_ASSERT(p->active, "hl_progress_update without hl_progress_begin");
    if (done < p->done) done = p->done;
    if (p->total > 0 && done > p->total) done = p->total;
    p->done = done;
    if (p->o.mode == HL_PROGRESS_QUIET) return;
    double now = p->o.clock();
    double every = p->o.tty || p->o.mode == HL_PROGRESS_VERBOSE ? p->o.redraw_s : p->o.log_every_s;
    if (now - p->t_last_draw < every) return;
    p->t_last_draw = now;
    if (p->o.tty)
        draw_bar(p, now);
    else
        log_line(p, now);
}

void hl_progress_end(hl_progress *p, bool ok) {
    if (!p->active) return;
    double now = p->o.clock(), dt = now - p->t_start;
    char dur[32];
    hl_progress_format_duration(dt, dur, sizeof dur);
    if (p->o.tty && p->o.mode != HL_PROGRESS_QUIET) fputs("\r\033[K", p->o.out);
    fprintf(p->o.out, "%s%s: %s, %lld %s in %s (%.1f/s)\n", p->o.tty ? "" : "[progress] ", p->label,
            ok ? "done" : "FAILED", (long long)p->done, p->unit, dur, dt > 0 ? (double)p->done / dt : 0.0);
    fflush(p->o.out);
    p->active = false;
}
