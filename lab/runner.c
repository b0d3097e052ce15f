/* lab/runner.c — `hashlab run`: validation, data, split, selection, the cell loop, the store; see runner.h. */
#include "lab/runner.h"

#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config_schema.h"
#include "core/io/atomic.h"
#include "core/io/npy.h"
#include "core/io/train_state.h"
#include "core/job.h"
#include "defences/defence.h"
#include "core/version.h"
#include "eval/codes_io.h"
#include "eval/targets.h"
#include "hashers/deep.h"
#include "hashers/labeler.h"
#include "lab/overrides.h"
#include "lab/plugin.h"
#include "lab/run_data.h"
#include "lab/runner_impl.h"
#include "reports/plan.h"
#include "reports/report.h"

void hl_run_request_stop(void) { hl_job_request_stop(); }
bool hl_run_stopping(void) { return hl_job_stop_requested(); }

/* First Ctrl-C: stop at the next safe point (the work checkpoints and unwinds). Second: leave at once — everything
 * that counts as done was written atomically, so nothing half-written is ever taken as done. */
static void on_signal(int sig) {
    if (hl_job_stop_requested()) {
        static const char msg[] = "\nhashlab: second interrupt: exiting now (finished cells and saved checkpoints "
                                  "are kept)\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(sig == SIGTERM ? 143 : 130);
    }
    hl_job_request_stop();
    static const char msg[] = "\nhashlab: interrupt: stopping at the next safe point (a few seconds); press Ctrl-C "
                              "again to exit at once\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
}

void hl_run_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void hl_run_opts_default(hl_run_opts *o) {
    memset(o, 0, sizeof *o);
    o->threads = -1;
    o->progress = HL_PROGRESS_NORMAL;
}

/* Every hasher and attack entry against its class: existence, params schema, attack options; all at once, on the raw
 * tree in the suite's own validation pass (hl_suite_check_fn): an entry not of the shape needed is the schema's. */
/* A hasher entry's `defence:`: the class exists, the hasher is trainable, params and inner-attack options valid. */
static void validate_defence(const hl_config *dn, const hl_hasher_class *hc, hl_config_errors *errs) {
    if (!dn || dn->kind != HL_CONFIG_MAP) return; /* absent, or the schema's problem */
    const hl_config *mnode = hl_config_get(dn, "method");
    if (!mnode || mnode->kind != HL_CONFIG_SCALAR) return;
    const hl_defence_class *dc = hl_defence_class_find(mnode->text);
    if (!dc) {
        hl_config_errors_add(errs, mnode->file, mnode->line, mnode->col, "%s", hl_error_last());
        return;
    }
    if (!(hc->flags & HL_HASHER_TRAINABLE)) {
        char names[400] = "";
        for (int i = 0; i < hl_hasher_class_count(); i++)
            if (hl_hasher_class_at(i)->flags & HL_HASHER_TRAINABLE)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "",
                         hl_hasher_class_at(i)->name);
        hl_config_errors_add(errs, mnode->file, mnode->line, mnode->col,
                             "defence '%s' trains its hasher adversarially, but '%s' is not trainable by mini-batches "
                             "(trainable: %s)", dc->name, hc->name, names);
    }
    char what[120];
    snprintf(what, sizeof what, "defence '%s'", dc->name);
    const hl_config *params = hl_config_get(dn, "params");
    if (params && params->kind == HL_CONFIG_MAP &&
        hl_config_validate(params, dc->params, dc->n_params, false, what, errs) > 0)
        return;
    hl_config *r = NULL;
    hl_defence_opts o;
    hl_defence *d = NULL;
    if (hl_suite_defence_resolve(dn, &r) < 0) { /* the schema reports the entry's own problems */
        hl_error_clear();
        return;
    }
    if (hl_run_defence_opts(r, 0, &o) < 0 || hl_defence_create(&d, dc->name, hl_config_get(r, "params"), &o) < 0)
        hl_config_errors_add(errs, dn->file, dn->line, dn->col, "%s", hl_error_last());
    hl_defence_free(d);
    hl_config_free(r);
}

/* A hasher entry's `labeler:` and `labeled:`: the labeler class exists, its keys are valid, the hasher is supervised
 * (a semi-supervised one uses the unlabelled images itself, an unsupervised one no labels); `labeled` only on hashers
 * that read labels. A labeler without `method` is lab/suite.c's to report. */
static void validate_labeler(const hl_config *e, const hl_hasher_class *hc, hl_config_errors *errs) {
    const hl_config *ln = hl_config_get(e, "labeler"), *cn = hl_config_get(e, "labeled");
    if (cn && cn->kind == HL_CONFIG_SCALAR && !(hc->flags & HL_HASHER_SUPERVISED))
        hl_config_errors_add(errs, cn->file, cn->line, cn->col, "labeled: '%s' never reads labels (it trains on the "
                             "protocol's train list with its labels hidden); remove `labeled`", hc->name);
    if (!ln || ln->kind != HL_CONFIG_MAP) return; /* absent, or the schema's problem */
    const hl_config *mnode = hl_config_get(ln, "method");
    if (!mnode || mnode->kind != HL_CONFIG_SCALAR) return; /* lab/suite.c reports it */
    const hl_labeler_class *lc = hl_labeler_class_find(mnode->text);
    if (!lc) {
        hl_config_errors_add(errs, mnode->file, mnode->line, mnode->col, "%s", hl_error_last());
        hl_error_clear();
    } else {
        char what[80];
        snprintf(what, sizeof what, "labeler '%s'", lc->name);
        hl_config_validate(ln, lc->params, lc->n_params, false, what, errs);
    }
    if ((hc->flags & HL_HASHER_SUPERVISED) && !(hc->flags & HL_HASHER_SEMI_SUPERVISED)) return;
    char names[400] = "";
    for (int i = 0; i < hl_hasher_class_count(); i++) {
        unsigned f = hl_hasher_class_at(i)->flags;
        if ((f & HL_HASHER_SUPERVISED) && !(f & HL_HASHER_SEMI_SUPERVISED))
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "",
                     hl_hasher_class_at(i)->name);
    }
    hl_config_errors_add(errs, mnode->file, mnode->line, mnode->col,
                         "labeler '%s' adds pseudo-labelled images to a supervised hasher's training set, but '%s' is "
                         "%s (supervised: %s)", mnode->text, hc->name,
                         (hc->flags & HL_HASHER_SEMI_SUPERVISED) ? "semi-supervised (it uses the unlabelled images itself)"
                                                                 : "unsupervised (it reads no labels)",
                         names);
}

/* True when the attack list has an untargeted `auto` entry. */
static bool has_untargeted_auto(const hl_config *attacks) {
    for (int64_t i = 0; attacks && attacks->kind == HL_CONFIG_SEQ && i < hl_config_len(attacks); i++) {
        const hl_config *e = hl_config_at(attacks, i), *m = hl_config_get(e, "method"), *t = hl_config_get(e, "targeted");
        bool tg = false;
        if (t && t->kind == HL_CONFIG_SCALAR) hl_config_parse_bool(t->text, &tg);
        if (m && m->kind == HL_CONFIG_SCALAR && !strcmp(m->text, "auto") && !tg) return true;
    }
    return false;
}

static void validate(const hl_config *raw, hl_config_errors *errs) {
    char what[160];
    const hl_config *raw_h = hl_config_get(raw, "hashers"), *raw_a = hl_config_get(raw, "attacks");
    for (int64_t i = 0; raw_h && raw_h->kind == HL_CONFIG_SEQ && i < hl_config_len(raw_h); i++) {
        const hl_config *e = hl_config_at(raw_h, i), *mnode = hl_config_get(e, "method");
        if (!mnode || mnode->kind != HL_CONFIG_SCALAR) continue;
        const hl_hasher_class *cls = hl_hasher_class_find(mnode->text);
        if (!cls) {
            hl_config_errors_add(errs, mnode->file, mnode->line, mnode->col, "%s", hl_error_last());
            continue;
        }
        const hl_config *params = hl_config_get(e, "params");
        snprintf(what, sizeof what, "hasher '%s'", cls->name);
        if (params && params->kind == HL_CONFIG_MAP)
            hl_config_validate(params, cls->params, cls->n_params, false, what, errs);
        validate_defence(hl_config_get(e, "defence"), cls, errs);
        validate_labeler(e, cls, errs);
        const hl_config *dn = hl_config_get(e, "defence");
        if (dn && dn->kind == HL_CONFIG_MAP && !has_untargeted_auto(raw_a))
            hl_config_errors_add(errs, dn->file, dn->line, dn->col,
                                 "defended models are always judged by the attack ensemble: add `- {method: auto, "
                                 "eps: 8/255}` to the suite's attacks (docs/defences.md)");
    }
    for (int64_t i = 0; raw_a && raw_a->kind == HL_CONFIG_SEQ && i < hl_config_len(raw_a); i++) {
        const hl_config *e = hl_config_at(raw_a, i), *mnode = hl_config_get(e, "method");
        if (!mnode || mnode->kind != HL_CONFIG_SCALAR) continue;
        const hl_attack_class *cls = hl_attack_class_find(mnode->text);
        if (!cls) {
            hl_config_errors_add(errs, mnode->file, mnode->line, mnode->col, "%s", hl_error_last());
            continue;
        }
        static const char *const fixed_keys[] = {"steps", "step_size", "random_start"};
        for (int k = 0; k < 3 && (cls->flags & HL_ATTACK_FIXED); k++) {
            const hl_config *kn = hl_config_get(e, fixed_keys[k]);
            if (kn)
                hl_config_errors_add(errs, kn->file, kn->line, kn->col,
                                     "attack '%s' is parameter-free: its members' steps and step sizes are fixed by "
                                     "its version (see `hashlab list %s`); remove `%s`", cls->name, cls->name,
                                     fixed_keys[k]);
        }
        const hl_config *params = hl_config_get(e, "params");
        snprintf(what, sizeof what, "attack '%s'", cls->name);
        if (params && params->kind == HL_CONFIG_MAP &&
            hl_config_validate(params, cls->params, cls->n_params, false, what, errs) > 0)
            continue;
        hl_config *entry = NULL; /* the entry resolved on its own */
        if (hl_suite_attack_resolve(e, &entry) < 0) {
            hl_error_clear();
            continue;
        }
        hl_attack_opts ao;
        hl_attack *a = NULL;
        /* ε on [0, 1] pixels above the sanity bound is almost always 8 meant as 8/255: refused unless the suite says
         * eps_unbounded_ok (a suite-level key, so it never changes a cell's key) */
        bool unbounded_ok = false;
        const hl_config *en = hl_config_get(e, "eps"), *uo = hl_config_get(raw, "eps_unbounded_ok");
        if (uo && hl_config_as_bool(uo, &unbounded_ok) < 0) hl_error_clear();
        if (en && !unbounded_ok && hl_run_attack_opts(entry, 0, &ao) == HL_OK) {
            double bound = ao.threat.norm == HL_NORM_LINF ? 64.0 / 255 : ao.threat.norm == HL_NORM_L2 ? 16.0 : INFINITY;
            if (ao.threat.eps.value > bound + 1e-12)
                hl_config_errors_add(errs, en->file, en->line, en->col,
                                     "eps %s is above the sanity bound for %s on [0, 1] pixels (%s)%s; set "
                                     "eps_unbounded_ok: true at the top of the suite to run it anyway",
                                     en->text, hl_norm_name(ao.threat.norm),
                                     ao.threat.norm == HL_NORM_LINF ? "64/255" : "16",
                                     ao.threat.norm == HL_NORM_LINF && ao.threat.eps.value >= 1
                                         ? ": did you mean a fraction of 255, such as 8/255?"
                                         : "");
        }
        if (hl_run_attack_opts(entry, 0, &ao) < 0 ||
            hl_attack_create(&a, cls->name, hl_config_get(entry, "params"), &ao) < 0)
            hl_config_errors_add(errs, e->file, e->line, e->col, "%s", hl_error_last());
        hl_attack_free(a);
        hl_config_free(entry);
    }
    hl_error_clear();
}

static hl_status load_data(hl_run_state *rs) {
    hl_status st = HL_OK;
    bool own_split = false;
    const hl_config *r = rs->suite->resolved;
    if (!strcmp(rs->suite->dataset, "synthetic")) {
        int64_t n, c, h, w, k, seed;
        double noise;
        HL_TRY(hl_config_get_int(r, "synthetic.n", &n));
        HL_TRY(hl_config_get_int(r, "synthetic.c", &c));
        HL_TRY(hl_config_get_int(r, "synthetic.h", &h));
        HL_TRY(hl_config_get_int(r, "synthetic.w", &w));
        HL_TRY(hl_config_get_int(r, "synthetic.classes", &k));
        HL_TRY(hl_config_get_int(r, "synthetic.seed", &seed));
        HL_TRY(hl_config_get_double(r, "synthetic.noise", &noise));
        hl_synth_opts so = {.n = n, .c = (int)c, .h = (int)h, .w = (int)w, .classes = (int)k, .seed = (uint64_t)seed,
                            .noise = (float)noise};
        HL_TRY(hl_dataset_synthetic(&rs->data, &so));
    } else if (rs->suite->lists.on) { /* image lists: their own split (protocol lists) or random:Q/T over them */
        const hl_config *root = hl_config_get(r, "data_root");
        const char *dir = root && root->kind == HL_CONFIG_SCALAR ? root->text : NULL;
        own_split = !strcmp(rs->suite->protocol, "lists");
        HL_TRY(hl_run_data_open_lists(&rs->data, own_split ? &rs->split : NULL, &rs->suite->lists, rs->suite->dataset,
                                      dir, rs->o->progress, rs->o->dry_run));
    } else {
        const hl_config *root = hl_config_get(r, "data_root");
        const char *dir = root && root->kind == HL_CONFIG_SCALAR ? root->text : NULL;
        HL_TRY(hl_run_data_open(&rs->data, rs->suite->dataset, dir, rs->o->suite_path, rs->o->fetch && !rs->o->dry_run,
                                rs->o->progress != HL_PROGRESS_QUIET));
    }
    if (!own_split) HL_TRY(hl_split_make(&rs->split, &rs->data, rs->suite->protocol, (uint64_t)rs->suite->split_seed));
    HL_TRY(hl_split_hash(&rs->split, rs->split_hash));
    HL_TRY(hl_labels_subset(&rs->qlab, &rs->data.labels, rs->split.query.idx, rs->split.query.n));
    HL_TRY(hl_labels_subset(&rs->dblab, &rs->data.labels, rs->split.database.idx, rs->split.database.n));
    const char *aqs = NULL;
    HL_TRY(hl_config_get_string(r, "attack_queries", &aqs));
    rs->naq = strcmp(aqs, "all") ? HL_MIN(rs->split.query.n, strtoll(aqs, NULL, 10)) : rs->split.query.n;
    rs->aq = malloc((size_t)(rs->naq ? rs->naq : 1) * sizeof *rs->aq);
    if (!rs->aq) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    for (int64_t i = 0; i < rs->naq; i++) rs->aq[i] = i;
done:
    return st;
}

/* Retrieval options and metric names from the suite's `metrics`. */
static hl_status conventions(hl_run_state *rs) {
    hl_status st = HL_OK;
    const hl_config *m = hl_config_get(rs->suite->resolved, "metrics");
    const char *topk, *ties, *zr;
    int64_t radius;
    hl_retrieval_defaults(&rs->ropts);
    HL_TRY(hl_config_get_string(m, "topk", &topk));
    HL_TRY(hl_config_get_int(m, "radius", &radius));
    HL_TRY(hl_config_get_string(m, "ties", &ties));
    HL_TRY(hl_config_get_string(m, "zero_relevant", &zr));
    rs->ropts.topk = strcmp(topk, "all") ? strtoll(topk, NULL, 10) : 0;
    rs->ropts.radius = (int)radius;
    rs->ropts.ties = !strcmp(ties, "expected") ? HL_TIES_EXPECTED : !strcmp(ties, "random") ? HL_TIES_RANDOM
                                                                                             : HL_TIES_INDEX;
    rs->ropts.zero_relevant = !strcmp(zr, "skip") ? HL_ZERO_REL_SKIP : HL_ZERO_REL_AS_ZERO;
    snprintf(rs->map_name, sizeof rs->map_name, "mAP@%s", topk);
    snprintf(rs->p_name, sizeof rs->p_name, "P@H<=%lld", (long long)radius);
    snprintf(rs->r_name, sizeof rs->r_name, "R@H<=%lld", (long long)radius);
done:
    return st;
}

/* The fields every result.json has, before the cell runs. */
static hl_status result_header(hl_run_state *rs, const hl_cell *c, hl_config **out) {
    hl_status st = HL_OK;
    const hl_suite *s = rs->suite;
    const hl_config *hn = s->hashers[c->hasher].node, *m = hl_config_get(s->resolved, "metrics");
    hl_config *res = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0), *conv = NULL, *ver = NULL;
    if (!res) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    HL_TRY(hl_run_put_str(res, "kind", hl_cell_kind_name(c->kind)));
    HL_TRY(hl_run_put_str(res, "key", c->key));
    HL_TRY(hl_run_put_str(res, "label", c->label));
    HL_TRY(hl_run_put_str(res, "method", s->hashers[c->hasher].name));
    HL_TRY(hl_run_put_str(res, "hasher_method", s->hashers[c->hasher].method));
    HL_TRY(hl_run_put_int(res, "bits", c->bits));
    HL_TRY(hl_run_put_int(res, "seed", c->seed));
    HL_TRY(hl_run_put_clone(res, "hasher_params", hl_config_get(hn, "params")));
    HL_TRY(hl_run_put_str(res, "dataset", s->dataset));
    HL_TRY(hl_run_put_str(res, "protocol", rs->split.protocol));
    HL_TRY(hl_run_put_str(res, "split_hash", rs->split_hash));
    HL_TRY(hl_run_put_int(res, "queries", c->kind == HL_CELL_TRAIN ? rs->split.query.n : rs->naq));
    if (c->kind == HL_CELL_TRANSFER) {
        const hl_cell *t = &rs->cells[c->target];
        HL_TRY(hl_run_put_str(res, "source_key", rs->cells[c->parent].key));
        HL_TRY(hl_run_put_str(res, "target_key", t->key));
        HL_TRY(hl_run_put_str(res, "target_method", s->hashers[t->hasher].name));
        HL_TRY(hl_run_put_int(res, "target_bits", t->bits));
    }
    HL_TRY(hl_run_put_int(res, "database", rs->split.database.n));
    conv = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!conv) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
    HL_TRY(hl_run_put_str(conv, "topk", hl_config_get(m, "topk")->text));
    HL_TRY(hl_run_put_int(conv, "radius", rs->ropts.radius));
    HL_TRY(hl_run_put_str(conv, "ties", hl_config_get(m, "ties")->text));
    HL_TRY(hl_run_put_str(conv, "zero_relevant", hl_config_get(m, "zero_relevant")->text));
    HL_TRY(hl_run_put_node(res, "conventions", conv));
    conv = NULL;
    if (c->kind != HL_CELL_TRAIN) {
        const hl_config *an = s->attacks[c->attack].node;
        HL_TRY(hl_run_put_str(res, "attack", s->attacks[c->attack].name));
        HL_TRY(hl_run_put_str(res, "attack_method", s->attacks[c->attack].method));
        HL_TRY(hl_run_put_clone(res, "attack_config", an));
        const hl_cell *tc = &rs->cells[c->parent];
        if (c->kind == HL_CELL_TRANSFER) tc = &rs->cells[tc->parent];
        HL_TRY(hl_run_put_str(res, "train_key", tc->key));
        HL_TRY(hl_run_put_str(res, "eps", s->attacks[c->attack].eps_text)); /* as written; attack_config: canonical */
        HL_TRY(hl_run_put_str(res, "norm", hl_config_get(an, "norm")->text));
    }
    ver = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!ver) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
    HL_TRY(hl_run_put_str(ver, "hashlab", HASHLAB_VERSION));
    HL_TRY(hl_run_put_node(res, "versions", ver));
    ver = NULL;
    HL_TRY(hl_run_put_int(res, "threads", hl_threads_get()));
done:
    hl_config_free(conv);
    hl_config_free(ver);
    if (st < 0) hl_config_free(res);
    else *out = res;
    return st;
}

/* Removes DIR/attack_partial/ (the chunks of a finished attack cell). */
static void remove_partial(const char *dir) {
    char pd[1400], f[1500];
    snprintf(pd, sizeof pd, "%s/attack_partial", dir);
    for (int64_t k = 0;; k++) {
        snprintf(f, sizeof f, "%s/chunk_%04lld.npy", pd, (long long)k);
        if (unlink(f) != 0) break;
    }
    rmdir(pd);
}

/* Runs one cell and writes its result.json (unless interrupted). Returns the cell's status. */
static hl_status run_cell(hl_run_state *rs, const hl_cell *c) {
    hl_config *res = NULL;
    hl_status st = result_header(rs, c, &res), wst;
    if (st < 0) return st;
    double t_cell = hl_time_s();
    hl_run_progress_cell_begin(rs, c);
    st = c->kind == HL_CELL_TRAIN    ? hl_cell_run_train(rs, c, res)
         : c->kind == HL_CELL_ATTACK ? hl_cell_run_attack(rs, c, res)
                                     : hl_cell_run_transfer(rs, c, res);
    hl_config *timings = (hl_config *)hl_config_get(res, "timings"); /* the cell's wall clock, for suite ETAs */
    if (st >= 0 && timings) st = hl_run_put_num(timings, "total_s", hl_time_s() - t_cell);
    hl_run_progress_cell_end(rs, c, hl_run_stopping() && st < 0 ? HL_PROGRESS_INTERRUPTED
                                    : st >= 0                   ? HL_PROGRESS_DONE
                                                                : HL_PROGRESS_FAILED);
    if (hl_run_stopping() && st < 0) { /* nothing of this cell is written; say what its work left behind */
        char why[600], fs[1300], kept[1500] = "";
        snprintf(why, sizeof why, "%s", hl_error_last());
        int64_t done = 0, total = 0;
        hl_store_cell_dir(rs->store.dir, c->key, fs, sizeof fs);
        strncat(fs, "/" HL_DEEP_FIT_STATE, sizeof fs - strlen(fs) - 1);
        if (c->kind == HL_CELL_TRAIN && hl_train_state_peek(fs, &done, &total) == HL_OK)
            snprintf(kept, sizeof kept, "; kept: its fit after epoch %lld/%lld in %s", (long long)done,
                     (long long)total, fs);
        hl_store_cell_dir(rs->store.dir, c->key, fs, sizeof fs);
        strncat(fs, "/" HL_RUN_ATTACK_STATE, sizeof fs - strlen(fs) - 1);
        if (c->kind == HL_CELL_ATTACK && hl_train_state_peek(fs, &done, &total) == HL_OK)
            snprintf(kept, sizeof kept, "; kept: %lld of %lld chunks of its queries (%s)", (long long)done,
                     (long long)total, fs);
        hl_error_clear();
        snprintf(rs->stopped, sizeof rs->stopped, "%s %s stopped: %s%s", hl_cell_kind_name(c->kind), c->label, why,
                 kept);
        const char *delay = getenv("HASHLAB_TEST_STOP_DELAY_MS"); /* TEST-ONLY hook (runner.h) */
        if (delay) {
            long ms = strtol(delay, NULL, 10);
            struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        hl_config_free(res);
        return HL_OK;
    }
    char *err = st < 0 ? strdup(hl_error_last()) : NULL;
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32], path[1400], dir[1200];
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if ((wst = hl_run_put_str(res, "status", st < 0 ? "failed" : "done")) >= 0 && st < 0) {
        hl_config_map_remove(res, "metrics");
        wst = hl_run_put_str(res, "error", err ? err : "unknown error");
        hl_msg(HL_LOG_ERROR, "cell %s failed: %s", c->label, err ? err : "");
        hl_store_log(&rs->store, "cell %s failed: %s", c->label, err ? err : "");
    }
    if (wst >= 0) wst = hl_run_put_str(res, "finished_at", stamp);
    if (wst >= 0) wst = hl_run_put_str(res, "device", hl_device_name(rs->dev)); /* provenance; not in the key */
    hl_store_cell_dir(rs->store.dir, c->key, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/result.json", dir);
    if (wst >= 0) wst = hl_store_mkdirs(dir);
    if (wst >= 0) wst = hl_store_write_json(path, res);
    if (wst >= 0 && st >= 0) { /* done: the resumable states of its fit or attack are not needed */
        char fs[1400];
        snprintf(fs, sizeof fs, "%s/%s", dir, c->kind == HL_CELL_TRAIN ? HL_DEEP_FIT_STATE : HL_RUN_ATTACK_STATE);
        unlink(fs);
        if (c->kind == HL_CELL_ATTACK) remove_partial(dir);
    }
    if (wst >= 0 && st >= 0 && hl_store_label_link(rs->store.dir, c->label, c->key, c->kind == HL_CELL_TRAIN) < 0) {
        hl_msg(HL_LOG_WARN, "cell %s: no by-label link: %s", c->label, hl_error_last()); /* a convenience only */
        hl_error_clear();
    }
    if (wst < 0) { /* the cell's outcome is lost: say why (the next run does the cell again) */
        hl_msg(HL_LOG_ERROR, "cell %s failed: cannot write its result: %s", c->label, hl_error_last());
        hl_store_log(&rs->store, "cell %s failed: cannot write its result: %s", c->label, hl_error_last());
    }
    free(err);
    hl_config_free(res);
    return wst < 0 ? wst : (st < 0 ? st : HL_OK);
}

/* The checks that need the data's shape (ITQ's bits against the image size, a backbone against the image size, ...):
 * every hasher entry is created once per bit length for this data, before anything runs; every failure is reported
 * at its `bits` entry, all at once. */
static hl_status check_with_data(hl_run_state *rs) {
    hl_config_errors errs = {0};
    const hl_config *raw = hl_config_get(rs->suite->raw, "hashers");
    for (int64_t i = 0; i < rs->ncells; i++) {
        const hl_cell *c = &rs->cells[i];
        if (c->kind != HL_CELL_TRAIN) continue;
        bool first = true; /* one check per (entry, bits): the seed does not change the shapes */
        for (int64_t j = 0; j < i && first; j++)
            first = !(rs->cells[j].kind == HL_CELL_TRAIN && rs->cells[j].hasher == c->hasher &&
                      rs->cells[j].bits == c->bits);
        if (!first) continue;
        hl_hasher *h = NULL;
        hl_config *scratch = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
        if (!scratch) return hl_error_set(HL_ENOMEM, "out of memory");
        if (hl_cell_make_hasher(rs, c, &h, scratch) < 0) {
            const hl_config *e = hl_config_at(raw, c->hasher), *bits = hl_config_get(e, "bits"), *at = bits;
            for (int64_t k = 0; bits && bits->kind == HL_CONFIG_SEQ && k < hl_config_len(bits); k++) {
                int64_t v;
                if (hl_config_as_int(hl_config_at(bits, k), &v) == HL_OK && v == c->bits) at = hl_config_at(bits, k);
            }
            if (!at) at = e;
            hl_config_errors_add(&errs, at->file, at->line, at->col, "%lld bits on %s: %s", (long long)c->bits,
                                 rs->suite->dataset, hl_error_last());
            hl_error_clear();
        }
        hl_hasher_free(h);
        hl_config_free(scratch);
        /* the entry's labelled count and labeler against the data: enough samples per class, images to label */
        const hl_suite_hasher *sh = &rs->suite->hashers[c->hasher];
        const hl_index_list *tl = NULL, *ul = NULL;
        const hl_config *e = hl_config_at(raw, c->hasher), *ln = hl_config_get(e, "labeler");
        const hl_config *cn = hl_config_get(e, "labeled"), *at = cn ? cn : hl_config_get(rs->suite->raw, "labeled");
        if (!at) at = e;
        if (hl_run_cell_lists(rs, sh->labeled, &tl, &ul) < 0) {
            hl_config_errors_add(&errs, at->file, at->line, at->col, "labeled: %s", hl_error_last());
            hl_error_clear();
        } else if (sh->labeler && ul->n == 0) {
            hl_config_errors_add(&errs, ln->file, ln->line, ln->col, "labeler: protocol %s leaves no unlabelled image "
                                 "(database \\ train is empty) to label", rs->split.protocol);
        }
    }
    hl_status st = hl_config_errors_finish(&errs, NULL);
    hl_config_errors_free(&errs);
    return st;
}

static const char *rundir_of(const hl_run_opts *o, const hl_suite *s, char *buf, size_t n) {
    if (o->output) snprintf(buf, n, "%s", o->output);
    else if (s->output) snprintf(buf, n, "%s", s->output);
    else snprintf(buf, n, "runs/%s", s->name);
    return buf;
}

/* suite.yaml, suite.resolved.json, split manifest, attack queries. */
/* Target labels and DHTA anchors for the attacked queries (eval/targets.h), generated once per suite and shared by
 * every targeted attack: artifacts/target_labels.npy (uint8 [m, L] multi-hot, row i for attacked query i) and
 * artifacts/anchor_indices.npy (int64 [m, HL_RUN_ANCHORS], positions in the database list, −1 = none). Seeded by the
 * split seed. A database with a single label set has no possible target: logged, no files. */
/* Rows of an existing artifact (−1 if unreadable): `attack_queries` may change between runs of one directory. */
static int64_t artifact_rows(const char *path) {
    hl_npy a;
    if (hl_npy_read(path, &a) < 0) {
        hl_error_clear();
        return -1;
    }
    int64_t n = a.ndim >= 1 ? a.shape[0] : -1;
    hl_npy_free(&a);
    return n;
}

static hl_status write_target_artifacts(hl_run_state *rs) {
    char p[1400], q[1400];
    snprintf(p, sizeof p, "%s/artifacts/target_labels.npy", rs->store.dir);
    snprintf(q, sizeof q, "%s/artifacts/anchor_indices.npy", rs->store.dir);
    if (access(p, F_OK) == 0 && access(q, F_OK) == 0 && artifact_rows(q) == rs->naq) return HL_OK;
    hl_labels sub = {0}, targets = {0};
    int64_t *anchors = NULL, short_count = 0;
    hl_status st = hl_labels_subset(&sub, &rs->qlab, rs->aq, rs->naq);
    if (st < 0) return st;
    st = hl_targets_draw(&targets, &sub, &rs->dblab, (uint64_t)rs->suite->split_seed);
    if (st == HL_EINVAL) {
        hl_store_log(&rs->store, "no target-label artifacts: %s", hl_error_last());
        st = HL_OK;
        goto done;
    }
    if (st < 0) goto done;
    anchors = malloc((size_t)(rs->naq ? rs->naq : 1) * HL_RUN_ANCHORS * sizeof *anchors);
    if (!anchors) {
        st = hl_error_set(HL_ENOMEM, "out of memory for anchor indices");
        goto done;
    }
    HL_TRY(hl_targets_anchors(anchors, &short_count, &targets, &rs->dblab, HL_RUN_ANCHORS,
                              (uint64_t)rs->suite->split_seed));
    if (short_count) hl_store_log(&rs->store, "%lld targets have fewer than %d anchor items", (long long)short_count,
                                  HL_RUN_ANCHORS);
    HL_TRY(hl_labels_npy_write(p, &targets));
    int64_t shape[2] = {rs->naq, HL_RUN_ANCHORS};
    HL_TRY(hl_npy_write(q, HL_NPY_I64, 2, shape, anchors));
done:
    free(anchors);
    hl_labels_free(&sub);
    hl_labels_free(&targets);
    return st;
}

/* RUNDIR/plan.json: every cell of the suite, whatever --only or --shard selected (reports/plan.h). */
static hl_status write_plan(hl_run_state *rs) {
    int64_t n = rs->ncells;
    const char **keys = malloc((size_t)(n ? n : 1) * sizeof *keys), **kinds = malloc((size_t)(n ? n : 1) * sizeof *kinds);
    hl_status st = HL_OK;
    if (!keys || !kinds) st = hl_error_set(HL_ENOMEM, "out of memory");
    for (int64_t i = 0; st == HL_OK && i < n; i++)
        keys[i] = rs->cells[i].key, kinds[i] = hl_cell_kind_name(rs->cells[i].kind);
    if (st == HL_OK) st = hl_plan_write(rs->store.dir, n, keys, kinds);
    free(keys);
    free(kinds);
    return st;
}

static hl_status write_run_files(hl_run_state *rs) {
    hl_status st = HL_OK;
    char p[1400];
    FILE *f = fopen(rs->o->suite_path, "rb");
    char *buf = NULL;
    size_t len = 0;
    if (!f) return hl_error_set(HL_EIO, "%s: cannot open", rs->o->suite_path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)(sz > 0 ? sz : 1));
    if (buf) len = fread(buf, 1, (size_t)(sz > 0 ? sz : 0), f);
    fclose(f);
    if (!buf) return hl_error_set(HL_ENOMEM, "out of memory");
    snprintf(p, sizeof p, "%s/suite.yaml", rs->store.dir);
    HL_TRY(hl_atomic_write_file(p, buf, len));
    HL_TRY(hl_overrides_write_run_files(rs->store.dir, rs->suite->resolved, rs->o->overrides));
    HL_TRY(hl_plugins_write_list(rs->store.dir));
    snprintf(p, sizeof p, "%s/split/manifest.json", rs->store.dir);
    if (access(p, F_OK) != 0) HL_TRY(hl_split_write_manifest(&rs->split, &rs->data, p));
    snprintf(p, sizeof p, "%s/artifacts/attack_queries.npy", rs->store.dir);
    int64_t shape[1] = {rs->naq};
    if (access(p, F_OK) != 0 || artifact_rows(p) != rs->naq) HL_TRY(hl_npy_write(p, HL_NPY_I64, 1, shape, rs->aq));
    HL_TRY(write_target_artifacts(rs));
    HL_TRY(write_plan(rs));
done:
    free(buf);
    return st;
}

/* A transfer cell runs once its source attack cell and its target model are done (they may belong to another shard,
 * or have failed). */
static bool transfer_ready(const hl_run_state *rs, const hl_cell *c) {
    return hl_store_cell_state(rs->store.dir, rs->cells[c->parent].key, "attack", NULL) == HL_CELL_STATE_DONE &&
           hl_store_cell_state(rs->store.dir, rs->cells[c->target].key, "train", NULL) == HL_CELL_STATE_DONE;
}

static void run_state_free(hl_run_state *rs) {
    hl_run_progress_stop(rs);
    hl_store_close(&rs->store);
    if (rs->ctx) hl_ctx_free(rs->ctx);
    free(rs->aq);
    free(rs->cells);
    hl_labels_free(&rs->qlab);
    hl_labels_free(&rs->dblab);
    hl_split_free(&rs->split);
    hl_run_cell_lists_free(rs);
    hl_dataset_free(&rs->data);
    hl_suite_free(rs->suite);
}

hl_status hl_run_suite(const hl_run_opts *o, hl_run_summary *sum) {
    hl_status st = HL_OK;
    hl_run_state rs;
    bool *sel = NULL, *forced = NULL;
    FILE *out = o->out ? o->out : stdout;
    memset(&rs, 0, sizeof rs);
    memset(sum, 0, sizeof *sum);
    rs.o = o;
    rs.store.lock_fd = -1;
    hl_job_clear_stop();
    HL_TRY(hl_plugins_load_env());
    /* the suite with its overrides, its plugins, and every problem of its keys and entries in one report */
    HL_TRY(hl_overrides_load_suite(&rs.suite, o->suite_path, o->overrides, validate));
    HL_TRY(conventions(&rs));
    int64_t threads = 0;
    HL_TRY(hl_config_get_int(rs.suite->resolved, "threads", &threads));
    /* --threads, else the suite's `threads`, else (0 = unset) HASHLAB_THREADS or all cores. */
    if (o->threads >= 0) hl_threads_set(o->threads);
    else if (threads > 0) hl_threads_set((int)threads);
    else hl_threads_init();
    bool no_data = false; /* --dry-run without the dataset: the plan, with what needs the data marked */
    if ((st = load_data(&rs)) == HL_ENOTFOUND && o->dry_run) {
        fprintf(out, "note: %s\n      the plan below has no cell keys or states: they need the data's split\n",
                hl_error_last());
        hl_error_clear();
        st = HL_OK, no_data = true;
        snprintf(rs.split_hash, sizeof rs.split_hash, "%s", "unknown");
    }
    if (st < 0) goto done;
    HL_TRY(hl_suite_expand(rs.suite, rs.split_hash, &rs.cells, &rs.ncells));
    if (!no_data) HL_TRY(check_with_data(&rs));
    rundir_of(o, rs.suite, sum->rundir, sizeof sum->rundir);
    sum->cells = rs.ncells;
    sel = calloc((size_t)(rs.ncells ? rs.ncells : 1), sizeof *sel);
    if (!sel) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    /* --force: the matching cells and every cell computed from them (cells come parents first) */
    forced = calloc((size_t)(rs.ncells ? rs.ncells : 1), sizeof *forced);
    if (!forced) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    int64_t nforced = 0;
    for (int64_t i = 0; o->force && i < rs.ncells; i++) {
        const hl_cell *c = &rs.cells[i];
        forced[i] = hl_cell_matches(c, o->force) || (c->parent >= 0 && forced[c->parent]) ||
                    (c->kind == HL_CELL_TRANSFER && c->target >= 0 && forced[c->target]);
        nforced += forced[i];
    }
    if (o->force && o->force[0] && nforced == 0)
        HL_TRY(hl_error_set(HL_EINVAL, "--force '%s' matches no cell of %s (labels look like %s)", o->force,
                            rs.suite->name, rs.ncells ? rs.cells[rs.ncells - 1].label : "none"));
    for (int64_t i = 0; i < rs.ncells; i++) {
        bool in = (o->shard_count <= 0 || hl_cell_in_shard(rs.cells, i, o->shard_index, o->shard_count)) &&
                  hl_cell_matches(&rs.cells[i], o->only);
        in = in || (forced[i] && (o->shard_count <= 0 || hl_cell_in_shard(rs.cells, i, o->shard_index, o->shard_count)));
        if (in) sel[i] = true;
        for (int64_t j = rs.cells[i].parent; in && j >= 0; j = rs.cells[j].parent) sel[j] = true;
    }
    for (int64_t i = 0; i < rs.ncells; i++) sum->selected += sel[i];
    if (o->only && o->only[0] && sum->selected == 0)
        HL_TRY(hl_error_set(HL_EINVAL, "--only '%s' matches no cell of %s (labels look like %s; `hashlab run %s --dry-run` "
                            "lists them)", o->only, rs.suite->name, rs.ncells ? rs.cells[rs.ncells - 1].label : "none",
                            o->suite_path));
    if (o->dry_run) {
        fprintf(out, "plan for %s (%lld cells, %lld selected) into %s\n", rs.suite->name, (long long)rs.ncells,
                (long long)sum->selected, sum->rundir);
        for (int64_t i = 0; i < rs.ncells; i++) {
            if (!sel[i]) continue;
            if (no_data) {
                fprintf(out, "  %-8s %-8s %-12s  %s\n", "?", hl_cell_kind_name(rs.cells[i].kind), "(needs data)",
                        rs.cells[i].label);
                continue;
            }
            hl_cell_state cs =
                hl_store_cell_state(sum->rundir, rs.cells[i].key, hl_cell_kind_name(rs.cells[i].kind), NULL);
            fprintf(out, "  %-8s %-8s %.12s  %s\n", hl_cell_state_name(cs), hl_cell_kind_name(rs.cells[i].kind),
                    rs.cells[i].key, rs.cells[i].label);
        }
        goto done;
    }
    HL_TRY(hl_store_open(&rs.store, sum->rundir, o->shard_index, o->shard_count));
    HL_TRY(write_run_files(&rs));
    const char *device = NULL;
    HL_TRY(hl_config_get_string(rs.suite->resolved, "device", &device));
    rs.dev = hl_device_from_name(device); /* the schema's enum: always a known name */
    HL_TRY(hl_ctx_create(&rs.ctx, rs.dev, 0));
    if (rs.dev != HL_DEVICE_CPU) hl_store_log(&rs.store, "device: %s", hl_device_name(rs.dev));
    const char *kill_env = getenv("HASHLAB_TEST_KILL_AFTER");
    const char *kill_sig = getenv("HASHLAB_TEST_KILL_SIGNAL");
    int64_t kill_after = kill_env ? strtoll(kill_env, NULL, 10) : 0;
    hl_store_log(&rs.store, "run %s: %lld cells, %lld selected", rs.suite->name, (long long)rs.ncells,
                 (long long)sum->selected);
    HL_TRY(hl_run_progress_start(&rs, sel, forced));
    for (int64_t i = 0; i < rs.ncells && !hl_run_stopping(); i++) {
        if (!sel[i]) continue;
        char *why = NULL;
        hl_cell_state cs = hl_store_cell_state(rs.store.dir, rs.cells[i].key, hl_cell_kind_name(rs.cells[i].kind), &why);
        if (forced[i] && cs != HL_CELL_STATE_PENDING) { /* --force: keep the old result beside, run it again */
            char cd[1200], from[1300], to[1300];
            hl_store_cell_dir(rs.store.dir, rs.cells[i].key, cd, sizeof cd);
            snprintf(from, sizeof from, "%s/result.json", cd);
            snprintf(to, sizeof to, "%s/result.json.forced", cd);
            if (rename(from, to) == 0) {
                hl_store_log(&rs.store, "cell %s: forced, previous result kept as result.json.forced",
                             rs.cells[i].label);
                cs = HL_CELL_STATE_PENDING;
            }
        }
        if (cs == HL_CELL_STATE_DONE) {
            sum->skipped++;
            hl_run_progress_mark(&rs, &rs.cells[i], HL_PROGRESS_SKIPPED);
            continue;
        }
        if (cs == HL_CELL_STATE_INVALID) { /* keep the file for inspection, run the cell again */
            hl_msg(HL_LOG_WARN, "cell %s: invalid result, set aside as result.json.bad and run again: %s",
                   rs.cells[i].label, why);
            hl_store_log(&rs.store, "cell %s: invalid result set aside: %s", rs.cells[i].label, why);
            sum->invalid++;
            hl_status ast = hl_store_set_aside(rs.store.dir, rs.cells[i].key);
            free(why);
            if (ast < 0) {
                hl_msg(HL_LOG_ERROR, "cell %s failed: %s", rs.cells[i].label, hl_error_last());
                hl_store_log(&rs.store, "cell %s failed: %s", rs.cells[i].label, hl_error_last());
                sum->ran++, sum->failed++;
                hl_run_progress_mark(&rs, &rs.cells[i], HL_PROGRESS_FAILED);
                if (o->fail_fast) break;
                continue;
            }
        } else {
            free(why);
        }
        if (rs.cells[i].kind == HL_CELL_TRANSFER && !transfer_ready(&rs, &rs.cells[i])) {
            sum->waiting++;
            hl_run_progress_mark(&rs, &rs.cells[i], HL_PROGRESS_WAITING);
            continue;
        }
        rs.stopped[0] = 0;
        hl_status cst = run_cell(&rs, &rs.cells[i]);
        if (rs.stopped[0]) break; /* stopped mid-cell: nothing recorded (a cell that finished is recorded) */
        sum->ran++;
        if (cst < 0) sum->failed++;
        if (kill_after > 0 && sum->ran == kill_after) /* TEST-ONLY hook (runner.h) */
            raise(kill_sig && !strcmp(kill_sig, "INT") ? SIGINT : SIGKILL);
        if (cst < 0 && o->fail_fast) break;
    }
    sum->interrupted = hl_run_stopping();
    if (sum->waiting) {
        hl_msg(HL_LOG_WARN, "%lld transfer cells wait for models or attacks that are not done (other shards, or "
               "failed cells); run again without --shard once every shard has finished", (long long)sum->waiting);
        hl_store_log(&rs.store, "%lld transfer cells waiting", (long long)sum->waiting);
    }
    hl_store_log(&rs.store, "ran %lld cells (%lld failed), skipped %lld done%s", (long long)sum->ran,
                 (long long)sum->failed, (long long)sum->skipped, sum->interrupted ? ", interrupted" : "");
    fprintf(out, "%s: ran %lld cells (%lld failed), skipped %lld done%s%s\n", sum->rundir, (long long)sum->ran,
            (long long)sum->failed, (long long)sum->skipped, sum->invalid ? ", re-ran invalid results" : "",
            sum->interrupted ? ", interrupted" : "");
    if (sum->interrupted) { /* what is kept, and how to go on */
        fprintf(out, "interrupted: the %lld cells finished in this run are kept", (long long)sum->ran);
        if (rs.stopped[0]) fprintf(out, "; %s", rs.stopped);
        fprintf(out, "\nresume with the same command (hashlab run %s ...): done cells are skipped, an interrupted fit "
                "continues from its last saved epoch\n", o->suite_path);
        hl_store_log(&rs.store, "interrupted%s%s", rs.stopped[0] ? ": " : "", rs.stopped);
    }
    if (!sum->interrupted) {
        hl_report_summary rep;
        char **fmts = NULL;
        int64_t nf = 0;
        sum->report_status = hl_config_get_string_list(rs.suite->resolved, "report.formats", &fmts, &nf);
        if (sum->report_status == HL_OK) /* the suite's formats (validated with the suite); [] = all */
            sum->report_status = hl_report_build(sum->rundir, nf ? (const char *const *)fmts : NULL, (int)nf, &rep);
        hl_config_strings_free(fmts, nf);
        if (sum->report_status == HL_EUNSUPPORTED) {
            hl_msg(HL_LOG_WARN, "report not built: %s", hl_error_last());
            hl_error_clear();
        } else if (sum->report_status < 0) {
            hl_msg(HL_LOG_ERROR, "report: %s", hl_error_last());
            hl_store_log(&rs.store, "report failed: %s", hl_error_last());
        }
    }
done:
    free(sel);
    free(forced);
    run_state_free(&rs);
    return st;
}
