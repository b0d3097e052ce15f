/* lab/progress.c — progress bars and periodic log lines; see progress.h. */
#include "lab/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void hl_progress_defaults(hl_progress_opts *o) {
    if (!o->out) o->out = stderr;
    if (o->redraw_s <= 0) o->redraw_s = 0.1;
    if (o->log_every_s <= 0) o->log_every_s = 10.0;
    if (!o->clock) o->clock = hl_time_s;
    if (o->width <= 0) o->width = 20;
    if (o->tty < 0) o->tty = isatty(fileno(o->out)) ? 1 : 0;
    if (o->columns <= 0) {
        struct winsize ws;
        const char *env = getenv("COLUMNS");
        int fd = fileno(o->out);
        if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) o->columns = ws.ws_col;
        else if (env && atoi(env) > 0) o->columns = atoi(env);
        else o->columns = 80;
    }
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

/* ---- A run of a suite ------------------------------------------------------------------------------------------ */

enum { CELL_NOT_RUN, CELL_PLANNED, CELL_RUNNING, CELL_FINISHED }; /* hl_suite_progress_cell.state */

hl_status hl_suite_progress_init(hl_suite_progress *p, const hl_progress_opts *o, int64_t ncells) {
    memset(p, 0, sizeof *p);
    if (o) p->o = *o;
    else p->o.tty = -1;
    hl_progress_defaults(&p->o);
    p->cur = -1;
    p->ncells = ncells > 0 ? ncells : 0;
    p->cells = calloc((size_t)(p->ncells ? p->ncells : 1), sizeof *p->cells);
    if (!p->cells) return hl_error_set(HL_ENOMEM, "out of memory for the progress of %lld cells", (long long)ncells);
    for (int64_t i = 0; i < p->ncells; i++) p->cells[i].group = -1;
    p->t_line = p->t_draw = p->o.clock();
    return HL_OK;
}

static int64_t group_find(const hl_suite_progress *p, hl_cell_kind kind, const char *name) {
    for (int64_t g = 0; name && g < p->ngroups; g++)
        if (p->groups[g].kind == kind && !strncmp(p->groups[g].name, name, sizeof p->groups[g].name - 1)) return g;
    return -1;
}

/* The group's index, added when new; −1 for no name; HL_ENOMEM as a negative status through *st. */
static int64_t group_get(hl_suite_progress *p, hl_cell_kind kind, const char *name, hl_status *st) {
    *st = HL_OK;
    if (!name) return -1;
    int64_t g = group_find(p, kind, name);
    if (g >= 0) return g;
    if (p->ngroups == p->cap_groups) {
        int64_t cap = p->cap_groups ? 2 * p->cap_groups : 16;
        hl_suite_progress_group *ng = realloc(p->groups, (size_t)cap * sizeof *ng);
        if (!ng) {
            *st = hl_error_set(HL_ENOMEM, "out of memory for progress cost groups");
            return -1;
        }
        p->groups = ng, p->cap_groups = cap;
    }
    hl_suite_progress_group *e = &p->groups[p->ngroups];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    snprintf(e->name, sizeof e->name, "%s", name);
    return p->ngroups++;
}

static void add_sample(hl_suite_progress *p, hl_cell_kind kind, int64_t g, double seconds) {
    if (!(seconds >= 0) || !isfinite(seconds) || (unsigned)kind >= HL_CELL_KIND_COUNT) return;
    p->kind_n[kind]++, p->kind_s[kind] += seconds;
    if (g >= 0) p->groups[g].n++, p->groups[g].seconds += seconds;
}

hl_status hl_suite_progress_set_cell(hl_suite_progress *p, int64_t i, hl_cell_kind kind, const char *group,
                                     bool will_run) {
    HL_ASSERT(i >= 0 && i < p->ncells, "cell %lld of %lld", (long long)i, (long long)p->ncells);
    hl_status st;
    p->cells[i].kind = kind;
    p->cells[i].group = group_get(p, kind, group, &st);
    p->cells[i].state = will_run ? CELL_PLANNED : CELL_NOT_RUN;
    return st;
}

hl_status hl_suite_progress_add_cost(hl_suite_progress *p, hl_cell_kind kind, const char *group, double seconds) {
    hl_status st;
    int64_t g = group_get(p, kind, group, &st);
    if (st < 0) return st;
    add_sample(p, kind, g, seconds);
    return HL_OK;
}

static double estimate_of(const hl_suite_progress *p, hl_cell_kind kind, int64_t g) {
    if (g >= 0 && p->groups[g].n > 0) return p->groups[g].seconds / (double)p->groups[g].n;
    if ((unsigned)kind < HL_CELL_KIND_COUNT && p->kind_n[kind] > 0) return p->kind_s[kind] / (double)p->kind_n[kind];
    return -1;
}

double hl_suite_progress_estimate(const hl_suite_progress *p, hl_cell_kind kind, const char *group) {
    return estimate_of(p, kind, group_find(p, kind, group));
}

/* Seconds left over the cells with an estimate; *unknown = how many have none, *known (may be NULL) how many have. */
static double suite_left(const hl_suite_progress *p, double now, int64_t *unknown, int64_t *known) {
    double left = 0;
    int64_t k = 0;
    *unknown = 0;
    for (int64_t i = 0; i < p->ncells; i++) {
        const hl_suite_progress_cell *c = &p->cells[i];
        if (c->state != CELL_PLANNED && c->state != CELL_RUNNING) continue;
        double e = estimate_of(p, c->kind, c->group);
        if (e < 0) {
            (*unknown)++;
            continue;
        }
        left += c->state == CELL_RUNNING ? HL_MAX(0.0, e - (now - p->t_cell)) : e;
        k++;
    }
    if (known) *known = k;
    return left;
}

double hl_suite_progress_eta(const hl_suite_progress *p) {
    int64_t unknown;
    double left = suite_left(p, p->o.clock(), &unknown, NULL);
    return unknown ? -1 : left;
}

static char *suite_eta_text(const hl_suite_progress *p, double now, char *buf, size_t n) {
    int64_t unknown, known;
    char d[32];
    double left = suite_left(p, now, &unknown, &known);
    hl_progress_format_duration(left, d, sizeof d);
    if (!unknown) snprintf(buf, n, "suite ETA %s", d);
    else if (known > 0)
        snprintf(buf, n, "suite ETA ? (%s + %lld untimed cell%s)", d, (long long)unknown, unknown > 1 ? "s" : "");
    else snprintf(buf, n, "suite ETA ?");
    return buf;
}

/* Short durations with a tenth ("9.3s"), longer ones as m:ss / h:mm:ss. */
static char *short_duration(double s, char *buf, size_t n) {
    if (s >= 0 && s < 59.95) snprintf(buf, n, "%.1fs", s);
    else hl_progress_format_duration(s, buf, n);
    return buf;
}

static const char *phase_unit(const char *phase, bool plural) {
    if (!strcmp(phase, "encode")) return plural ? "images" : "image";
    if (!strcmp(phase, "attack")) return plural ? "queries" : "query";
    if (!strcmp(phase, "fit")) return plural ? "epochs" : "epoch";
    return NULL;
}

/* "fit epoch 3/8 loss 0.4213", "encode 12000/64000 images", "attack 128/500 queries", "score". */
static char *phase_text(const hl_suite_progress *p, char *buf, size_t n) {
    const char *unit = phase_unit(p->phase, true);
    int k;
    if (!strcmp(p->phase, "fit") && p->total > 0)
        k = snprintf(buf, n, "fit epoch %lld/%lld", (long long)p->done, (long long)p->total);
    else if (p->total > 0)
        k = snprintf(buf, n, "%s %lld/%lld%s%s", p->phase, (long long)p->done, (long long)p->total, unit ? " " : "",
                     unit ? unit : "");
    else if (p->done > 0)
        k = snprintf(buf, n, "%s %lld%s%s", p->phase, (long long)p->done, unit ? " " : "", unit ? unit : "");
    else k = snprintf(buf, n, "%s", p->phase);
    if (p->detail[0] && k >= 0 && (size_t)k < n) snprintf(buf + k, n - (size_t)k, " %s", p->detail);
    return buf;
}

/* The current phase's rate (units per second, 0 before the first count) and ETA text. */
static double phase_rate(const hl_suite_progress *p, double now) {
    if (p->reports >= 2 && now > p->t_first && p->done > p->done_first)
        return (double)(p->done - p->done_first) / (now - p->t_first);
    double dt = now - p->t_phase;
    return dt > 0 && p->done > 0 ? (double)p->done / dt : 0.0;
}

static char *phase_eta(const hl_suite_progress *p, double now, char *buf, size_t n) {
    double r = phase_rate(p, now);
    return hl_progress_format_duration(r > 0 ? (double)(p->total - p->done) / r : -1, buf, n);
}

static char *rate_text(const hl_suite_progress *p, double r, char *buf, size_t n) {
    const char *unit = phase_unit(p->phase, false);
    if (r <= 0) snprintf(buf, n, "?/s");
    else if (r < 1 && unit) snprintf(buf, n, "%.1f s/%s", 1 / r, unit);
    else snprintf(buf, n, r >= 100 ? "%.0f/s" : r >= 1 ? "%.1f/s" : "%.3f/s", r);
    return buf;
}

/* Writes s cut to the terminal's width (counting UTF-8 characters, not bytes). */
static void put_cut(const hl_suite_progress *p, const char *s) {
    int max = p->o.columns - 1, chars = 0;
    size_t i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > max) break;
    }
    fwrite(s, 1, i, p->o.out);
}

static void erase(hl_suite_progress *p) {
    if (p->drawn == 2) fputs("\r\033[K\033[A\r\033[K", p->o.out);
    else if (p->drawn == 1) fputs("\r\033[K", p->o.out);
    p->drawn = 0;
}

static void overall_text(const hl_suite_progress *p, double now, char *buf, size_t n) {
    char eta[96], wait[48] = "";
    if (p->n_waiting) snprintf(wait, sizeof wait, ", waiting %lld", (long long)p->n_waiting);
    snprintf(buf, n, "cell %lld/%lld (done %lld, failed %lld, skipped %lld%s) · %s", (long long)p->cur + 1,
             (long long)p->ncells, (long long)p->n_done, (long long)p->n_failed, (long long)p->n_skipped, wait,
             suite_eta_text(p, now, eta, sizeof eta));
}

static void draw(hl_suite_progress *p, double now) {
    char line[640], ph[160], eta[32];
    erase(p);
    overall_text(p, now, line, sizeof line);
    put_cut(p, line);
    fputc('\n', p->o.out);
    if (p->total > 0)
        snprintf(line, sizeof line, "%s · %s · ETA %s", p->label, phase_text(p, ph, sizeof ph),
                 phase_eta(p, now, eta, sizeof eta));
    else snprintf(line, sizeof line, "%s · %s", p->label, phase_text(p, ph, sizeof ph));
    put_cut(p, line);
    fflush(p->o.out);
    p->drawn = 2;
    p->t_draw = now;
}

static void plain_line(hl_suite_progress *p, double now) {
    char ph[160], eta[32], rate[40], suite[96];
    fprintf(p->o.out, "[progress] cell %lld/%lld %s: %s", (long long)p->cur + 1, (long long)p->ncells, p->label,
            phase_text(p, ph, sizeof ph));
    if (p->total > 0) {
        double r = phase_rate(p, now);
        fprintf(p->o.out, " (%d%%), %s, ETA %s", (int)(100 * p->done / p->total), rate_text(p, r, rate, sizeof rate),
                phase_eta(p, now, eta, sizeof eta));
    } else {
        fprintf(p->o.out, " for %s", short_duration(now - p->t_phase, eta, sizeof eta));
    }
    fprintf(p->o.out, "; %s\n", suite_eta_text(p, now, suite, sizeof suite));
    fflush(p->o.out);
    p->t_line = now;
}

/* Draws or logs when due (changed: a new phase or cell). */
static void tick(hl_suite_progress *p, double now, bool changed) {
    if (p->o.mode == HL_PROGRESS_QUIET) return;
    if (p->o.tty) {
        if (changed || now - p->t_draw >= p->o.redraw_s) draw(p, now);
    } else if (p->o.mode == HL_PROGRESS_VERBOSE ? changed || now - p->t_line >= p->o.redraw_s
                                                 : now - p->t_line >= p->o.log_every_s) {
        plain_line(p, now);
    }
}

static void spend(hl_suite_progress *p, const char *name, double s) {
    if (!(s > 0)) s = 0;
    for (int k = 0; k < p->nspent; k++)
        if (!strcmp(p->spent[k].name, name)) {
            p->spent[k].s += s;
            return;
        }
    if (p->nspent == HL_SUITE_PROGRESS_SPENT) return;
    snprintf(p->spent[p->nspent].name, sizeof p->spent[0].name, "%s", name);
    p->spent[p->nspent++].s = s;
}

/* Ends the current phase at t and begins `phase` there. */
static void enter(hl_suite_progress *p, const char *phase, int64_t total, double t, bool marker) {
    if (p->phase[0]) spend(p, p->phase, t - p->t_phase);
    snprintf(p->phase, sizeof p->phase, "%s", phase);
    p->detail[0] = 0;
    p->done = 0, p->total = total > 0 ? total : 0;
    p->marker = marker;
    p->t_phase = t;
    p->reports = 0;
}

void hl_suite_progress_cell_begin(hl_suite_progress *p, int64_t i, const char *label) {
    HL_ASSERT(i >= 0 && i < p->ncells, "cell %lld of %lld", (long long)i, (long long)p->ncells);
    double now = p->o.clock();
    p->cur = i;
    p->cells[i].state = CELL_RUNNING;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->t_cell = p->t_event = now;
    p->nspent = 0;
    p->phase[0] = 0;
    enter(p, "setup", 0, now, false);
    tick(p, now, true);
}

void hl_suite_progress_phase(hl_suite_progress *p, const char *phase, int64_t done, int64_t total,
                             const char *detail) {
    if (p->cur < 0 || !phase || !phase[0]) return;
    double now = p->o.clock();
    bool changed = false;
    if (total < 0) total = 0;
    if (done < 0) done = 0;
    if (done == 0) { /* a marker: the lab's step begins now */
        enter(p, phase, total, now, true);
        changed = true;
    } else if (!strcmp(phase, p->phase)) {
        if (p->total > 0 && (p->done >= p->total || done < p->done || total != p->total)) {
            /* the same phase again (the second of two encodings) */
            enter(p, phase, total, p->t_event, false);
            changed = true;
        }
    } else {
        bool open = p->total > 0 ? p->done < p->total : p->marker;
        if (open) { /* nested work: the current phase goes on */
            p->t_event = now;
            tick(p, now, false);
            return;
        }
        enter(p, phase, total, p->t_event, false);
        changed = true;
    }
    p->done = done, p->total = total;
    if (p->total > 0 && p->done > p->total) p->done = p->total;
    if (p->done > 0 && p->reports++ == 0) p->done_first = p->done, p->t_first = now;
    snprintf(p->detail, sizeof p->detail, "%s", detail ? detail : "");
    p->t_event = now;
    tick(p, now, changed);
}

void hl_suite_progress_cell_end(hl_suite_progress *p, hl_progress_outcome outcome) {
    if (p->cur < 0) return;
    double now = p->o.clock(), secs = now - p->t_cell;
    hl_suite_progress_cell *c = &p->cells[p->cur];
    spend(p, p->phase, now - p->t_phase);
    c->state = CELL_FINISHED;
    if (outcome == HL_PROGRESS_DONE) {
        p->n_done++;
        add_sample(p, c->kind, c->group, secs);
    } else if (outcome == HL_PROGRESS_FAILED) {
        p->n_failed++;
    }
    char d[32], ph[400] = "", suite[96];
    size_t k = 0;
    for (int j = 0; j < p->nspent && k < sizeof ph; j++) {
        if (!strcmp(p->spent[j].name, "setup") && p->spent[j].s < 0.05) continue;
        int w = snprintf(ph + k, sizeof ph - k, "%s%s %s", k ? ", " : " (", p->spent[j].name,
                         short_duration(p->spent[j].s, d, sizeof d));
        if (w > 0) k += (size_t)w;
    }
    if (k && k + 1 < sizeof ph) strcat(ph, ")");
    if (p->o.tty) erase(p);
    const char *how = outcome == HL_PROGRESS_DONE     ? "done in"
                      : outcome == HL_PROGRESS_FAILED ? "FAILED after"
                                                      : "interrupted after";
    fprintf(p->o.out, "%scell %lld/%lld %s: %s %s%s", p->o.tty ? "" : "[progress] ", (long long)p->cur + 1,
            (long long)p->ncells, p->label, how, short_duration(secs, d, sizeof d), ph);
    p->cur = -1;
    if (outcome != HL_PROGRESS_INTERRUPTED)
        fprintf(p->o.out, "; done %lld, failed %lld, skipped %lld; %s", (long long)p->n_done, (long long)p->n_failed,
                (long long)p->n_skipped, suite_eta_text(p, now, suite, sizeof suite));
    fputc('\n', p->o.out);
    fflush(p->o.out);
    p->t_line = now;
}

void hl_suite_progress_mark(hl_suite_progress *p, int64_t i, hl_progress_outcome outcome) {
    HL_ASSERT(i >= 0 && i < p->ncells, "cell %lld of %lld", (long long)i, (long long)p->ncells);
    p->cells[i].state = CELL_FINISHED;
    if (outcome == HL_PROGRESS_SKIPPED) p->n_skipped++;
    else if (outcome == HL_PROGRESS_WAITING) p->n_waiting++;
    else if (outcome == HL_PROGRESS_FAILED) p->n_failed++;
    else if (outcome == HL_PROGRESS_DONE) p->n_done++;
}

void hl_suite_progress_clear(hl_suite_progress *p) {
    if (!p->o.tty || !p->drawn) return;
    erase(p);
    fflush(p->o.out);
}

void hl_suite_progress_redraw(hl_suite_progress *p) {
    if (p->o.tty && p->cur >= 0 && p->o.mode != HL_PROGRESS_QUIET) draw(p, p->o.clock());
}

void hl_suite_progress_forget(hl_suite_progress *p) { p->drawn = 0; }

void hl_suite_progress_free(hl_suite_progress *p) {
    if (p->cells && p->o.out) hl_suite_progress_clear(p);
    free(p->cells);
    free(p->groups);
    memset(p, 0, sizeof *p);
    p->cur = -1;
}
