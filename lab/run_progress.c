/* lab/run_progress.c — the runner's progress plumbing: reporters, cost samples from the store, the core/job.h and
 * hl_msg hooks (see runner_impl.h; rendering in lab/progress.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/job.h"
#include "lab/runner_impl.h"

/* The cost group of a cell: cells of one group cost about the same. */
static const char *group_of(const hl_run_state *rs, const hl_cell *c, char *buf, size_t n) {
    const hl_suite *s = rs->suite;
    if (c->kind == HL_CELL_TRAIN) snprintf(buf, n, "%s", s->hashers[c->hasher].name);
    else if (c->kind == HL_CELL_ATTACK)
        snprintf(buf, n, "%s/%s", s->hashers[c->hasher].name, s->attacks[c->attack].name);
    else snprintf(buf, n, "%s", s->hashers[rs->cells[c->target].hasher].name);
    return buf;
}

/* Seconds a finished cell took, from its result.json's timings (total_s, else the sum of the parts); < 0: none. */
static double recorded_seconds(const hl_config *res) {
    const hl_config *t = hl_config_get(res, "timings");
    double v, sum = 0;
    bool any = false;
    if (!t) return -1;
    if (hl_config_as_double(hl_config_get(t, "total_s"), &v) == HL_OK && isfinite(v)) return v;
    static const char *const parts[] = {"fit_s", "encode_s", "attack_s", "score_s"};
    for (size_t k = 0; k < HL_ARRAY_LEN(parts); k++) {
        const hl_config *x = hl_config_get(t, parts[k]);
        if (x && hl_config_as_double(x, &v) == HL_OK && isfinite(v)) sum += v, any = true;
    }
    hl_error_clear();
    return any ? sum : -1;
}

/* Cost samples from every finished cell of the suite in the store (selected or not). */
static hl_status store_costs(hl_run_state *rs) {
    hl_status st = HL_OK;
    char p[1400], g[300];
    for (int64_t i = 0; i < rs->ncells; i++) {
        const hl_cell *c = &rs->cells[i];
        hl_config *res = NULL;
        hl_store_cell_dir(rs->store.dir, c->key, p, sizeof p - 16);
        strcat(p, "/result.json");
        if (access(p, F_OK) != 0) continue;
        if (hl_store_read_json(p, &res) < 0) { /* the loop reports invalid results */
            hl_error_clear();
            continue;
        }
        const hl_config *status = hl_config_get(res, "status");
        double secs = status && status->text && !strcmp(status->text, "done") ? recorded_seconds(res) : -1;
        hl_config_free(res);
        for (int k = 0; secs >= 0 && k < rs->nprog; k++)
            HL_TRY(hl_suite_progress_add_cost(&rs->prog[k], c->kind, group_of(rs, c, g, sizeof g), secs));
    }
done:
    return st;
}

/* After Ctrl-C the signal handler has written its message below the terminal lines: they stay, new ones go below. */
static void check_stop(hl_run_state *rs) {
    if (rs->nprog > 0 && hl_run_stopping() && !rs->prog_stop_seen) {
        rs->prog_stop_seen = true;
        hl_suite_progress_forget(&rs->prog[0]);
    }
}

static void on_progress(void *user, const char *phase, int64_t done, int64_t total, const char *detail) {
    hl_run_state *rs = user;
    check_stop(rs);
    for (int k = 0; k < rs->nprog; k++) hl_suite_progress_phase(&rs->prog[k], phase, done, total, detail);
}

static void on_msg(void *user, bool before) {
    hl_run_state *rs = user;
    if (rs->nprog < 1) return;
    check_stop(rs);
    if (before) hl_suite_progress_clear(&rs->prog[0]);
    else hl_suite_progress_redraw(&rs->prog[0]);
}

hl_status hl_run_progress_start(hl_run_state *rs, const bool *sel, const bool *forced) {
    hl_status st = HL_OK;
    int64_t nsel = 0;
    char g[300];
    rs->prog_pos = malloc((size_t)(rs->ncells ? rs->ncells : 1) * sizeof *rs->prog_pos);
    if (!rs->prog_pos) return hl_error_set(HL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < rs->ncells; i++) rs->prog_pos[i] = sel[i] ? nsel++ : -1;
    hl_progress_opts po[2];
    memset(po, 0, sizeof po);
    po[0].out = stderr, po[0].tty = -1, po[0].mode = rs->o->progress;
    po[1].out = rs->store.log, po[1].tty = 0, po[1].mode = rs->o->progress;
    const char *every = getenv("HASHLAB_TEST_PROGRESS_EVERY"); /* TEST-ONLY hook (runner.h) */
    for (int k = 0; k < (rs->store.log ? 2 : 1); k++) {
        HL_TRY(hl_suite_progress_init(&rs->prog[k], &po[k], nsel));
        rs->nprog = k + 1;
        if (every) rs->prog[k].o.log_every_s = HL_MAX(0.0, strtod(every, NULL));
    }
    for (int64_t i = 0; i < rs->ncells; i++) {
        if (!sel[i]) continue;
        const hl_cell *c = &rs->cells[i];
        bool run = forced[i] || hl_store_cell_state(rs->store.dir, c->key, hl_cell_kind_name(c->kind), NULL) !=
                                    HL_CELL_STATE_DONE;
        for (int k = 0; k < rs->nprog; k++)
            HL_TRY(hl_suite_progress_set_cell(&rs->prog[k], rs->prog_pos[i], c->kind, group_of(rs, c, g, sizeof g),
                                              run));
    }
    HL_TRY(store_costs(rs));
    hl_job_set_progress(on_progress, rs);
    hl_msg_set_hook(on_msg, rs);
done:
    return st;
}

void hl_run_progress_stop(hl_run_state *rs) {
    if (rs->nprog > 0) {
        hl_job_set_progress(NULL, NULL);
        hl_msg_set_hook(NULL, NULL);
    }
    for (int k = 0; k < rs->nprog; k++) hl_suite_progress_free(&rs->prog[k]);
    rs->nprog = 0;
    free(rs->prog_pos);
    rs->prog_pos = NULL;
}

void hl_run_progress_cell_begin(hl_run_state *rs, const hl_cell *c) {
    int64_t i = rs->prog_pos ? rs->prog_pos[c - rs->cells] : -1;
    char label[300];
    snprintf(label, sizeof label, "%s %s", hl_cell_kind_name(c->kind), c->label);
    for (int k = 0; k < rs->nprog && i >= 0; k++) hl_suite_progress_cell_begin(&rs->prog[k], i, label);
}

void hl_run_progress_cell_end(hl_run_state *rs, const hl_cell *c, hl_progress_outcome outcome) {
    (void)c;
    check_stop(rs);
    for (int k = 0; k < rs->nprog; k++) hl_suite_progress_cell_end(&rs->prog[k], outcome);
}

void hl_run_progress_mark(hl_run_state *rs, const hl_cell *c, hl_progress_outcome outcome) {
    int64_t i = rs->prog_pos ? rs->prog_pos[c - rs->cells] : -1;
    for (int k = 0; k < rs->nprog && i >= 0; k++) hl_suite_progress_mark(&rs->prog[k], i, outcome);
}
