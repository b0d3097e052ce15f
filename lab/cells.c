/* lab/cells.c — the train and attack cell executors of lab/runner.c (see runner.h for what each writes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io/atomic.h"
#include "core/io/npy.h"
#include "core/job.h"
#include "eval/targets.h"
#include "eval/attack_metrics.h"
#include "eval/codes_io.h"
#include "attacks/auto.h"
#include "defences/defence.h"
#include "lab/runner_impl.h"
#include "lab/sanity.h"
#include "core/hash.h"
#include "core/io/grid.h"

#define ENCODE_BATCH 256 /* images per encoding batch of CIFAR-sized images (hl_batch_for_pixels scales it down) */
#define encode_batch(rs) hl_batch_for_pixels(ENCODE_BATCH, hl_dataset_image_size(&(rs)->data))
#define GRID_EXAMPLES 8

hl_status hl_run_put_node(hl_config *m, const char *key, hl_config *v) {
    if (!v) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    hl_config_map_remove(m, key);
    return hl_config_map_put(m, key, 0, 0, v);
}

hl_status hl_run_put_str(hl_config *m, const char *key, const char *v) {
    hl_config *n = hl_config_new(HL_CONFIG_SCALAR, v, "", 0, 0);
    if (n) n->quoted = true;
    return hl_run_put_node(m, key, n);
}

hl_status hl_run_put_int(hl_config *m, const char *key, int64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return hl_run_put_node(m, key, hl_config_new(HL_CONFIG_SCALAR, buf, "", 0, 0));
}

hl_status hl_run_put_num(hl_config *m, const char *key, double v) {
    char buf[40];
    if (!isfinite(v)) return hl_run_put_node(m, key, hl_config_new(HL_CONFIG_NULL, NULL, "", 0, 0));
    return hl_run_put_node(m, key, hl_config_new(HL_CONFIG_SCALAR, hl_config_format_double(v, buf, sizeof buf), "", 0, 0));
}

hl_status hl_run_put_clone(hl_config *m, const char *key, const hl_config *v) {
    return hl_run_put_node(m, key, v ? hl_config_clone(v) : hl_config_new(HL_CONFIG_NULL, NULL, "", 0, 0));
}

hl_status hl_run_attack_opts(const hl_config *e, uint64_t seed, hl_attack_opts *o) {
    hl_status st = HL_OK;
    const char *norm = NULL;
    hl_fraction eps, step;
    int64_t steps = 0;
    bool rs = false, tg = false;
    hl_attack_opts_default(o);
    HL_TRY(hl_config_get_string(e, "norm", &norm));
    HL_TRY(hl_norm_parse(norm, &o->threat.norm));
    HL_TRY(hl_config_get_fraction(e, "eps", &eps));
    HL_TRY(hl_config_get_fraction(e, "step_size", &step));
    HL_TRY(hl_config_get_int(e, "steps", &steps));
    HL_TRY(hl_config_get_bool(e, "random_start", &rs));
    HL_TRY(hl_config_get_bool(e, "targeted", &tg));
    o->threat.eps = eps, o->step = step, o->steps = (int)steps, o->random_start = rs, o->targeted = tg;
    o->seed = seed;
done:
    return st;
}

hl_status hl_run_defence_opts(const hl_config *e, uint64_t seed, hl_defence_opts *o) {
    hl_status st = HL_OK;
    const char *norm = NULL;
    int64_t steps = 0;
    hl_defence_opts_default(o);
    HL_TRY(hl_config_get_string(e, "norm", &norm));
    HL_TRY(hl_norm_parse(norm, &o->threat.norm));
    HL_TRY(hl_config_get_fraction(e, "eps", &o->threat.eps));
    HL_TRY(hl_config_get_fraction(e, "step_size", &o->step));
    HL_TRY(hl_config_get_int(e, "steps", &steps));
    HL_TRY(hl_config_get_bool(e, "random_start", &o->random_start));
    o->steps = steps, o->seed = seed;
done:
    return st;
}

static hl_status stop_check(void) {
    return hl_run_stopping() ? hl_error_set(HL_EINTR, "interrupted between the cell's steps (a fit's state is kept "
                                            "until the cell is done)")
                             : HL_OK;
}

/* Retrieval metrics under the suite's names into map m (prefix: "" or the "(clean)" suffix for mAP only). */
static hl_status put_retrieval(const hl_run_state *rs, hl_config *m, const hl_retrieval_result *r) {
    hl_status st = HL_OK;
    HL_TRY(hl_run_put_num(m, rs->map_name, r->map));
    HL_TRY(hl_run_put_num(m, rs->p_name, r->p_at_radius));
    HL_TRY(hl_run_put_num(m, rs->r_name, r->r_at_radius));
    HL_TRY(hl_run_put_num(m, "mean_tie_bucket", r->mean_tie_bucket));
done:
    return st;
}

static hl_status put_timings(hl_config *res, double fit, double enc, double att, double score) {
    hl_status st = HL_OK;
    hl_config *t = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!t) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    if ((st = hl_run_put_num(t, "fit_s", fit)) < 0 || (st = hl_run_put_num(t, "encode_s", enc)) < 0 ||
        (st = hl_run_put_num(t, "attack_s", att)) < 0 || (st = hl_run_put_num(t, "score_s", score)) < 0) {
        hl_config_free(t);
        return st;
    }
    return hl_run_put_node(res, "timings", t);
}

static hl_status put_num_seq(hl_config *m, const char *key, const double *v, int64_t n);

/* An iterative attack's trace (attacks/attack.h) as result.json's "trace": {"loss": mean objective per scoring,
 * "improved": share of the n attacked queries whose best iterate improved}; nothing for an attack without one. */
static hl_status put_trace(hl_config *res, const hl_attack *a, int64_t n) {
    hl_status st = HL_OK;
    int64_t L = a->trace_len;
    if (L == 0) return HL_OK;
    double *loss = malloc((size_t)L * sizeof *loss), *imp = malloc((size_t)L * sizeof *imp);
    hl_config *t = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!loss || !imp || !t) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
    for (int64_t i = 0; i < L; i++) {
        loss[i] = a->trace_loss_n[i] ? a->trace_loss_sum[i] / (double)a->trace_loss_n[i] : NAN;
        imp[i] = n > 0 ? (double)a->trace_improved[i] / (double)n : NAN;
    }
    HL_TRY(put_num_seq(t, "loss", loss, L));
    HL_TRY(put_num_seq(t, "improved", imp, L));
    st = hl_run_put_node(res, "trace", t);
    t = NULL;
done:
    hl_config_free(t);
    free(loss), free(imp);
    return st;
}

/* A sequence of numbers (non-finite: null) under key. */
static hl_status put_num_seq(hl_config *m, const char *key, const double *v, int64_t n) {
    hl_status st = HL_OK;
    char buf[40];
    hl_config *seq = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0);
    if (!seq) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    for (int64_t i = 0; i < n; i++) {
        hl_config *x = isfinite(v[i])
                           ? hl_config_new(HL_CONFIG_SCALAR, hl_config_format_double(v[i], buf, sizeof buf), "", 0, 0)
                           : hl_config_new(HL_CONFIG_NULL, NULL, "", 0, 0);
        if (!x) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
        HL_TRY(hl_config_seq_push(seq, x));
    }
    st = hl_run_put_node(m, key, seq);
    seq = NULL;
done:
    hl_config_free(seq);
    return st;
}

/* "pr_radius": {"precision": [K+1], "recall": [K+1]} of queries q against the database, r = 0..K. */
static hl_status put_pr_radius(const hl_run_state *rs, hl_config *res, const hl_codes *q, const hl_codes *db) {
    hl_status st = HL_OK;
    int64_t k1 = (int64_t)q->bits + 1;
    double *pr = malloc((size_t)(2 * k1) * sizeof *pr);
    hl_config *node = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!pr || !node) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for the PR curve"));
    HL_TRY(hl_retrieval_pr_radius(q, &rs->qlab, db, &rs->dblab, pr, pr + k1));
    HL_TRY(put_num_seq(node, "precision", pr, k1));
    HL_TRY(put_num_seq(node, "recall", pr + k1, k1));
    st = hl_run_put_node(res, "pr_radius", node);
    node = NULL;
done:
    hl_config_free(node);
    free(pr);
    return st;
}

/* DIR/per_query.csv, atomically: header `query,index,<cols>,labels`; row i = qpos[i] (the query's position in the
 * query list; qpos NULL: i), its data index didx[qpos], then cols[j][i] as %.9g, then its label names joined by '|'
 * (the dataset's class names, or label numbers), so a report can break results down by class. */
static hl_status write_per_query(const hl_run_state *rs, const char *dir, const char *cols_header, int64_t n,
                                 const int64_t *qpos, const int64_t *didx, const double *const *cols, int ncols) {
    hl_status st = HL_OK;
    char p[1400];
    hl_atomic_file af = {0};
    snprintf(p, sizeof p, "%s/per_query.csv", dir);
    HL_TRY(hl_atomic_write_begin(&af, p));
    fprintf(af.f, "query,index,%s,labels\n", cols_header);
    for (int64_t i = 0; i < n; i++) {
        int64_t qp = qpos ? qpos[i] : i;
        fprintf(af.f, "%lld,%lld", (long long)qp, (long long)didx[qp]);
        for (int j = 0; j < ncols; j++) fprintf(af.f, ",%.9g", cols[j][i]);
        fputc(',', af.f);
        bool first = true;
        for (int l = 0; l < rs->qlab.nlabels; l++) {
            if (!hl_labels_has(&rs->qlab, qp, l)) continue;
            const char *nm = rs->data.class_names ? rs->data.class_names[l] : NULL;
            if (!first) fputc('|', af.f);
            first = false;
            if (nm) { /* names go through as they are, minus the characters the CSV and the separator use */
                for (const char *c = nm; *c; c++) fputc(*c == ',' || *c == '|' || *c == '\n' || *c == '"' ? '_' : *c, af.f);
            } else {
                fprintf(af.f, "%d", l);
            }
        }
        fputc('\n', af.f);
    }
    st = hl_atomic_write_commit(&af);
done:
    return st;
}

/* DIR/adv_images.npy: uint8 [n, c, h, w] = round(x·255) of 8-bit quantised images x in [0, 1]. */
static hl_status write_adv_images(const hl_run_state *rs, const char *dir, const float *x, int64_t n) {
    hl_status st = HL_OK;
    char p[1400];
    int64_t shape[4] = {n, rs->data.c, rs->data.h, rs->data.w}, nd = n * rs->data.c * rs->data.h * rs->data.w;
    uint8_t *u = malloc((size_t)(nd > 0 ? nd : 1));
    if (!u) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld adversarial images", (long long)n));
    for (int64_t i = 0; i < nd; i++) {
        float v = x[i] * 255.0f;
        u[i] = (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : lrintf(v));
    }
    snprintf(p, sizeof p, "%s/adv_images.npy", dir);
    HL_TRY(hl_npy_write(p, HL_NPY_U8, 4, shape, u));
done:
    free(u);
    return st;
}

static bool class_has_param(const hl_hasher_class *cls, const char *name) {
    for (int i = 0; i < cls->n_params; i++)
        if (!strcmp(cls->params[i].name, name)) return true;
    return false;
}

/* result.json's "input": the image shape [C, H, W] the hasher takes, and "labels": the data's label count. */
static hl_status put_input_shape(hl_config *res, const hl_dataset_info *info) {
    hl_config *seq = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0);
    const int dims[3] = {info->c, info->h, info->w};
    char t[16];
    if (!seq) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    for (int k = 0; k < 3; k++) {
        snprintf(t, sizeof t, "%d", dims[k]);
        hl_config *v = hl_config_new(HL_CONFIG_SCALAR, t, "", 0, 0);
        hl_status st = v ? hl_config_seq_push(seq, v)
                         : hl_error_set(HL_ENOMEM, "out of memory building result.json");
        if (st < 0) {
            hl_config_free(seq);
            return st;
        }
    }
    hl_status st = hl_run_put_node(res, "input", seq);
    return st < 0 ? st : hl_run_put_int(res, "labels", info->nlabels);
}

/* Hasher of cell c (train cell or an attack cell's train cell), created with the suite's params. A method with a
 * `backbone` key that the entry leaves empty gets the suite's `backbone`. */
hl_status hl_cell_make_hasher(hl_run_state *rs, const hl_cell *c, hl_hasher **h, hl_config *res) {
    hl_status st = HL_OK;
    const hl_suite_hasher *sh = &rs->suite->hashers[c->hasher];
    hl_dataset_info info = hl_dataset_info_of(&rs->data);
    const hl_hasher_class *cls = hl_hasher_class_find(sh->method);
    if (!cls) return HL_ENOTFOUND; /* the message is set */
    const hl_config *given = hl_config_get(sh->node, "params");
    hl_config *params = given ? hl_config_clone(given) : hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!params) return hl_error_set(HL_ENOMEM, "out of memory");
    const hl_config *bb = hl_config_get(params, "backbone");
    if (class_has_param(cls, "backbone") && (!bb || (bb->kind == HL_CONFIG_SCALAR && !bb->text[0])))
        HL_TRY(hl_run_put_str(params, "backbone", rs->suite->backbone));
    HL_TRY(hl_hasher_create_on(h, cls, params, &info, (int)c->bits, (uint64_t)c->seed, rs->dev));
    HL_TRY(hl_run_put_clone(res, "hasher_params", (*h)->cfg));
    HL_TRY(put_input_shape(res, &info)); /* with hasher_params: what `hashlab encode CELL_DIR` rebuilds it from */
done:
    hl_config_free(params);
    return st;
}

/* Fits h on the split's view for its kind (result.json's fit_on says which):
 *   asymmetric (HL_HASHER_FIT_DATABASE, ADSH): the labelled database, as in their papers' protocol  "database"
 *   semi-supervised (HL_HASHER_SEMI_SUPERVISED): labelled train + unlabelled (database \ train) with its labels
 *     hidden (a label-less view)                                                                    "train+unlabelled"
 *   supervised: the labelled train list                                                             "train"
 *   unsupervised (LSH, ITQ, HashGAN): the train list through a label-less view                      "train (labels hidden)"
 * An entry with `labeled: N` (its own or the suite's) gets the train list of N labelled images (lab/cells_labeler.c)
 * and the rest of the database as unlabelled; asymmetric methods then fit on those N ("train (N labelled)": the
 * database's other labels are hidden in a semi-supervised protocol). An entry with a `labeler` fits on the train list
 * plus the images its labeler labelled (hl_cell_fit_labeler). *nfit: the images fitted on. */
#define HL_TRY_PUT(m, k, v)                                                                                           \
    do {                                                                                                              \
        hl_status put_st_ = hl_run_put_str((m), (k), (v));                                                            \
        if (put_st_ < 0) return put_st_;                                                                              \
    } while (0)

static hl_status fit_hasher(hl_run_state *rs, const hl_cell *c, hl_hasher *h, hl_config *res, int64_t *nfit) {
    const hl_split *sp = &rs->split;
    const hl_suite_hasher *sh = &rs->suite->hashers[c->hasher];
    const hl_index_list *tl = NULL, *ul = NULL;
    unsigned f = h->cls->flags;
    char what[96];
    hl_status st = hl_run_cell_lists(rs, sh->labeled, &tl, &ul);
    if (st < 0) return st;
    if (sh->labeler) return hl_cell_fit_labeler(rs, c, h, res, tl, ul, nfit);
    if (sh->labeled > 0 && (st = hl_run_put_int(res, "labeled", tl->n)) < 0) return st;
    *nfit = tl->n;
    if ((f & HL_HASHER_FIT_DATABASE) && sh->labeled <= 0) {
        HL_TRY_PUT(res, "fit_on", "database");
        *nfit = sp->database.n;
        return hl_hasher_fit(h, &rs->data, sp->database.idx, sp->database.n, true);
    }
    if (f & HL_HASHER_SEMI_SUPERVISED) {
        snprintf(what, sizeof what, "train (%lld labelled)+unlabelled", (long long)tl->n);
        HL_TRY_PUT(res, "fit_on", sh->labeled > 0 ? what : "train+unlabelled");
        return hl_hasher_fit_semi(h, &rs->data, tl->idx, tl->n, ul->idx, ul->n);
    }
    if (f & HL_HASHER_SUPERVISED) {
        snprintf(what, sizeof what, "train (%lld labelled)", (long long)tl->n);
        HL_TRY_PUT(res, "fit_on", sh->labeled > 0 ? what : "train");
        return hl_hasher_fit(h, &rs->data, tl->idx, tl->n, true);
    }
    HL_TRY_PUT(res, "fit_on", "train (labels hidden)");
    hl_dataset hidden = hl_dataset_unlabelled_view(&rs->data);
    return hl_hasher_fit(h, &hidden, sp->train.idx, sp->train.n, false);
}

hl_status hl_cell_run_train(hl_run_state *rs, const hl_cell *c, hl_config *res) {
    hl_status st = HL_OK;
    hl_hasher *h = NULL;
    hl_defence *def = NULL;
    hl_codes db = {0}, q = {0};
    hl_config *m = NULL;
    double *ap = NULL;
    char dir[1200], p[1400];
    const hl_split *sp = &rs->split;
    double t0 = hl_time_s(), t_fit, t_enc, t_score;
    HL_TRY(hl_cell_make_hasher(rs, c, &h, res));
    hl_job_progress("fit", 0, 0, NULL); /* the lab's steps are progress phases (core/job.h) */
    /* The cell's folder exists before the fit: methods may write what a user watches during training there (GAN
     * sample grids). */
    hl_store_cell_dir(rs->store.dir, c->key, dir, sizeof dir);
    HL_TRY(hl_store_mkdirs(dir));
    h->workdir = dir;
    const hl_config *dn = hl_config_get(rs->suite->hashers[c->hasher].node, "defence");
    if (dn && dn->kind == HL_CONFIG_MAP) { /* adversarial training: the defence's hook in the hasher's fit */
        hl_defence_opts dopt;
        HL_TRY(hl_run_defence_opts(dn, (uint64_t)c->seed, &dopt));
        HL_TRY(hl_defence_create(&def, rs->suite->hashers[c->hasher].defence, hl_config_get(dn, "params"), &dopt));
        HL_TRY(hl_defence_attach(def, h));
        HL_TRY(hl_run_put_clone(res, "defence", dn));
        if (def->cls->cite) HL_TRY(hl_run_put_str(res, "defence_cite", def->cls->cite));
    }
    int64_t nfit = 0;
    HL_TRY(fit_hasher(rs, c, h, res, &nfit));
    t_fit = hl_time_s() - t0;
    if (h->cls->flags & HL_HASHER_TRAINABLE) { /* training cost, defended or not */
        hl_config *fc = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
        if (!fc) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
        st = hl_run_put_num(fc, "seconds", t_fit);
        if (st >= 0) st = hl_run_put_num(fc, "forwards_per_image", (double)h->fit_forwards / (double)HL_MAX(nfit, 1));
        if (st >= 0) st = hl_run_put_num(fc, "backwards_per_image", (double)h->fit_backwards / (double)HL_MAX(nfit, 1));
        if (st >= 0 && def) st = hl_run_put_num(fc, "inner_forwards_per_image",
                                                (double)def->inner_forwards / (double)HL_MAX(nfit, 1));
        if (st >= 0) st = hl_run_put_node(res, "fit_cost", fc);
        else hl_config_free(fc);
        if (st < 0) goto done;
    }
    if (def) hl_defence_detach(def, h);
    if (h->cls->cite) HL_TRY(hl_run_put_str(res, "cite", h->cls->cite)); /* the report's methods.bib */
    hl_job_progress("encode", 0, 0, NULL);
    HL_TRY(stop_check());
    t0 = hl_time_s();
    HL_TRY(hl_hasher_encode_database(&db, h, rs->ctx, &rs->data, sp->database.idx, sp->database.n,
                                     encode_batch(rs)));
    HL_TRY(hl_cell_code_sanity(c, &db, &rs->dblab, res));
    HL_TRY(stop_check());
    HL_TRY(hl_hasher_encode(&q, h, rs->ctx, &rs->data, sp->query.idx, sp->query.n, encode_batch(rs)));
    t_enc = hl_time_s() - t0;
    hl_job_progress("save", 0, 0, NULL);
    HL_TRY(stop_check());
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    HL_TRY(hl_hasher_save(h, p));
    snprintf(p, sizeof p, "%s/db_codes.npy", dir);
    HL_TRY(hl_codes_npy_write(p, &db, false));
    snprintf(p, sizeof p, "%s/query_codes.npy", dir);
    HL_TRY(hl_codes_npy_write(p, &q, false));
    hl_job_progress("score", 0, 0, NULL);
    t0 = hl_time_s();
    hl_retrieval_result r;
    ap = malloc((size_t)(q.n ? q.n : 1) * sizeof *ap);
    if (!ap) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld per-query APs", (long long)q.n));
    HL_TRY(hl_retrieval_eval(&q, &rs->qlab, &db, &rs->dblab, &rs->ropts, &r, ap));
    HL_TRY(put_pr_radius(rs, res, &q, &db));
    t_score = hl_time_s() - t0;
    const double *cols[1] = {ap};
    HL_TRY(write_per_query(rs, dir, "ap", q.n, NULL, sp->query.idx, cols, 1));
    m = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!m) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
    HL_TRY(put_retrieval(rs, m, &r));
    HL_TRY(hl_run_put_node(res, "metrics", m));
    m = NULL;
    HL_TRY(hl_run_put_int(res, "queries", q.n));
    HL_TRY(hl_run_put_int(res, "database", db.n));
    HL_TRY(put_timings(res, t_fit, t_enc, 0.0, t_score));
done:
    hl_config_free(m);
    free(ap);
    hl_codes_free(&db);
    hl_codes_free(&q);
    if (def && h) hl_defence_detach(def, h);
    hl_defence_free(def);
    hl_hasher_free(h);
    return st;
}

/* Target codes of a targeted attack cell: anchor votes over the database codes of the first n_t anchors of every
 * attacked query (artifacts written once per suite by the runner), with the target label sets. */
static hl_status load_targets(hl_run_state *rs, const hl_attack *a, const hl_codes *db, hl_labels *tl,
                              hl_codes *tcodes, int *n_t_out) {
    hl_status st = HL_OK;
    char p[1400];
    hl_npy an = {0};
    int64_t *anchors = NULL, n = rs->naq, n_t = HL_RUN_ANCHORS;
    const hl_config *nt = a->cfg ? hl_config_get(a->cfg, "n_t") : NULL;
    if (nt) HL_TRY(hl_config_get_int(a->cfg, "n_t", &n_t));
    if (n_t < 1 || n_t > HL_RUN_ANCHORS)
        HL_TRY(hl_error_set(HL_EINVAL, "attack '%s': n_t %lld outside [1, %d]", a->cls->name, (long long)n_t,
                            HL_RUN_ANCHORS));
    snprintf(p, sizeof p, "%s/artifacts/target_labels.npy", rs->store.dir);
    if (access(p, F_OK) != 0)
        HL_TRY(hl_error_set(HL_EINVAL, "targeted attack without target labels: the database has a single label set "
                            "(see log.txt)"));
    HL_TRY(hl_labels_npy_read(p, rs->dblab.nlabels, tl));
    snprintf(p, sizeof p, "%s/artifacts/anchor_indices.npy", rs->store.dir);
    HL_TRY(hl_npy_read(p, &an));
    if (tl->n != n || an.ndim != 2 || an.shape[0] != n || an.shape[1] != HL_RUN_ANCHORS)
        HL_TRY(hl_error_set(HL_EMISMATCH, "%s: expected [%lld, %d] anchors for %lld target labels", p, (long long)n,
                            HL_RUN_ANCHORS, (long long)tl->n));
    anchors = malloc((size_t)HL_MAX(1, n * n_t) * sizeof *anchors);
    if (!anchors) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for anchors"));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n_t; j++)
            if (!hl_npy_i64_at(&an, i * HL_RUN_ANCHORS + j, &anchors[i * n_t + j]) || anchors[i * n_t + j] < -1 ||
                anchors[i * n_t + j] >= db->n)
                HL_TRY(hl_error_set(HL_EFORMAT, "%s: entry [%lld, %lld] is not a database position in [-1, %lld)", p,
                                    (long long)i, (long long)j, (long long)db->n));
    HL_TRY(hl_targets_anchor_code(tcodes, db, anchors, n, (int)n_t));
    *n_t_out = (int)n_t;
done:
    free(anchors);
    hl_npy_free(&an);
    return st;
}

/* Targeted scores into m (tap [n]: each query's targeted AP of the 8-bit codes): t-mAP@all of the 8-bit (headline) and float adversarial codes, of the clean queries (the
 * floor) and of the target codes themselves (the ceiling), TSR within radius 0 and 2 of the target code and
 * TSR@k-majority for k = 10, 100. */
static hl_status put_targeted(const hl_run_state *rs, hl_config *m, const hl_codes *adv, const hl_codes *adv_f,
                              const hl_codes *clean, const hl_codes *tcodes, const hl_labels *tl,
                              const hl_codes *db, double *tap) {
    hl_status st = HL_OK;
    hl_retrieval_opts o = rs->ropts;
    hl_retrieval_result r;
    double v;
    o.topk = 0;
    HL_TRY(hl_retrieval_eval(adv, tl, db, &rs->dblab, &o, &r, tap)); /* = hl_attack_tmap, per query */
    HL_TRY(hl_run_put_num(m, "t-mAP@all", r.map));
    HL_TRY(hl_attack_tmap(adv_f, tl, db, &rs->dblab, &o, &r));
    HL_TRY(hl_run_put_num(m, "t-mAP@all(float)", r.map));
    HL_TRY(hl_attack_tmap(clean, tl, db, &rs->dblab, &o, &r));
    HL_TRY(hl_run_put_num(m, "t-mAP@all(clean)", r.map));
    HL_TRY(hl_attack_tmap(tcodes, tl, db, &rs->dblab, &o, &r));
    HL_TRY(hl_run_put_num(m, "t-mAP@all(anchor)", r.map));
    HL_TRY(hl_attack_tsr_radius(adv, tcodes, 0, &v));
    HL_TRY(hl_run_put_num(m, "TSR@H<=0", v));
    HL_TRY(hl_attack_tsr_radius(adv, tcodes, 2, &v));
    HL_TRY(hl_run_put_num(m, "TSR@H<=2", v));
    HL_TRY(hl_attack_tsr_majority(adv, tl, db, &rs->dblab, 10, &v));
    HL_TRY(hl_run_put_num(m, "TSR@10-maj", v));
    HL_TRY(hl_attack_tsr_majority(adv, tl, db, &rs->dblab, 100, &v));
    HL_TRY(hl_run_put_num(m, "TSR@100-maj", v));
done:
    return st;
}

/* An attack that learns from its victim (HL_ATTACK_NEEDS_FIT, ProS-GAN) is fitted once per victim and cached next
 * to the victim's model like a checkpoint: TRAIN_CELL/attack_fits/<method>-<first 16 hex of SHA-256 of the canonical
 * JSON of {method, params}>.safetensors. Entries that differ only in their threat model (ProS-GAN unbounded and
 * clipped to 8/255) share one fit; a re-run or another attack cell loads it. result.json's attack_fit says which
 * file and whether this cell fitted it (fit_s in timings) or loaded it. */
static hl_status fit_attack(hl_run_state *rs, const hl_suite_attack *sa, const char *tdir, hl_attack *a,
                            hl_hasher *h, const hl_codes *db, hl_config *res) {
    hl_status st = HL_OK;
    hl_config *k = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0), *info = NULL;
    char *json = NULL, hex[65], dir[1300], path[1500];
    const hl_config *params = hl_config_get(sa->node, "params");
    if (!k) return hl_error_set(HL_ENOMEM, "out of memory");
    HL_TRY(hl_run_put_str(k, "method", sa->method));
    HL_TRY(hl_run_put_node(k, "params", params ? hl_config_clone(params) : hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0)));
    HL_TRY(hl_config_canonical_json(k, &json));
    hl_sha256_hex(json, strlen(json), hex);
    snprintf(dir, sizeof dir, "%s/attack_fits", tdir);
    snprintf(path, sizeof path, "%s/%s-%.16s.safetensors", dir, sa->method, hex);
    char state[200];
    snprintf(state, sizeof state, "%s-%.16s.fit_state.safetensors", sa->method, hex);
    if (!(info = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0))) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    HL_TRY(hl_run_put_str(info, "file", path + strlen(tdir) + 1));
    if (access(path, F_OK) == 0) {
        HL_TRY(hl_attack_load(a, h, path));
        HL_TRY(hl_run_put_str(info, "state", "loaded"));
    } else {
        HL_TRY(hl_store_mkdirs(dir));
        hl_attack_fit_data fd = {.train = &rs->data, .idx = rs->split.train.idx, .n = rs->split.train.n,
                                 .db_codes = db, .db_labels = &rs->dblab, .seed = a->opts.seed, .workdir = dir, .state_file = state};
        hl_msg(HL_LOG_INFO, "fitting attack '%s' on its victim (%lld training images); cached in %s", sa->name,
               (long long)fd.n, path);
        HL_TRY(hl_attack_fit(a, h, rs->ctx, &fd));
        HL_TRY(hl_attack_save(a, path));
        char sp[1600];
        snprintf(sp, sizeof sp, "%s/%s", dir, state);
        unlink(sp); /* the fit is saved: its resumable state is no longer needed */
        HL_TRY(hl_run_put_str(info, "state", "fitted"));
        HL_TRY(hl_run_put_num(info, "fit_forwards_per_image", (double)a->forwards / (double)fd.n));
        a->forwards = a->backwards = a->zero_grads = 0; /* the per-query counters are for the attack itself */
    }
    HL_TRY(hl_run_put_node(res, "attack_fit", info));
    info = NULL;
done:
    hl_config_free(info);
    hl_config_free(k);
    free(json);
    return st;
}

hl_status hl_cell_run_attack(hl_run_state *rs, const hl_cell *c, hl_config *res) {
    hl_status st = HL_OK;
    hl_hasher *h = NULL;
    hl_attack *a = NULL;
    hl_codes db = {0}, clean = {0}, adv = {0}, adv_f = {0}, tcodes = {0}, refc = {0};
    hl_labels lab = {0}, tl = {0};
    hl_config *m = NULL;
    float *x = NULL, *xa = NULL;
    double *ap = NULL;
    int64_t *qidx = NULL, n = rs->naq, d = hl_dataset_image_size(&rs->data);
    int n_t = 0;
    char tdir[1200], dir[1200], p[1400];
    const hl_cell *tc = &rs->cells[c->parent];
    const hl_suite_attack *sa = &rs->suite->attacks[c->attack];
    double t0, t_fit = 0, t_enc = 0, t_att, t_score;

    if (hl_store_cell_state(rs->store.dir, tc->key, "train", NULL) != HL_CELL_STATE_DONE)
        HL_TRY(hl_error_set(HL_EINVAL, "its train cell %s is not done", tc->label));
    hl_store_cell_dir(rs->store.dir, tc->key, tdir, sizeof tdir);
    HL_TRY(hl_cell_make_hasher(rs, tc, &h, res));
    snprintf(p, sizeof p, "%s/model.safetensors", tdir);
    HL_TRY(hl_hasher_load(h, p));
    snprintf(p, sizeof p, "%s/db_codes.npy", tdir);
    HL_TRY(hl_codes_npy_read(p, 0, &db));
    if (db.n != rs->split.database.n || db.bits != h->bits)
        HL_TRY(hl_error_set(HL_EMISMATCH, "%s: %lld codes of %d bits, expected %lld of %d", p, (long long)db.n,
                            db.bits, (long long)rs->split.database.n, h->bits));
    hl_attack_opts ao;
    HL_TRY(hl_run_attack_opts(sa->node, (uint64_t)c->seed, &ao));
    HL_TRY(hl_attack_create(&a, sa->method, hl_config_get(sa->node, "params"), &ao));
    if (ao.targeted) {
        HL_TRY(load_targets(rs, a, &db, &tl, &tcodes, &n_t));
        HL_TRY(hl_run_put_int(res, "n_t", n_t));
    }
    if (a->cls->flags & HL_ATTACK_NEEDS_FIT) {
        hl_job_progress("fit", 0, 0, NULL);
        t0 = hl_time_s();
        HL_TRY(fit_attack(rs, sa, tdir, a, h, &db, res));
        t_fit = hl_time_s() - t0;
    }
    hl_job_progress("encode", 0, 0, NULL);

    qidx = malloc((size_t)(n ? n : 1) * sizeof *qidx);
    size_t nd = (size_t)(n * d > 0 ? n * d : 1);
    x = malloc(nd * sizeof *x);
    xa = malloc(nd * sizeof *xa);
    if (!qidx || !x || !xa) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld attack images", (long long)n));
    for (int64_t i = 0; i < n; i++) qidx[i] = rs->split.query.idx[rs->aq[i]];
    hl_dataset_read(&rs->data, qidx, n, x);
    t0 = hl_time_s();
    HL_TRY(hl_hasher_encode_images(&clean, h, rs->ctx, x, n, encode_batch(rs)));
    t_enc += hl_time_s() - t0;
    HL_TRY(stop_check());
    HL_TRY(hl_labels_subset(&lab, &rs->qlab, rs->aq, n));
    hl_lab_judge jd = {.db = &db, .dblab = &rs->dblab, .labels = ao.targeted ? &tl : &lab, .opts = rs->ropts,
                       .targeted = ao.targeted};
    if (ao.targeted) jd.opts.topk = 0;
    hl_attack_judge judge = {.score = hl_lab_judge_score, .user = &jd};
    if (a->cls->flags & HL_ATTACK_REFERENCE) HL_TRY(hl_cell_reference_codes(a, &lab, &db, &rs->dblab, &refc, res));
    hl_attack_goal goal = {.query_id = rs->aq, .target = ao.targeted ? &tcodes : NULL,
                           .source = refc.w ? &refc : &clean, .target_labels = ao.targeted ? &tl : NULL,
                           .judge = &judge};
    hl_store_cell_dir(rs->store.dir, c->key, dir, sizeof dir);
    HL_TRY(hl_store_mkdirs(dir));
    HL_TRY(hl_cell_attack_chunks(rs, c, dir, a, h, x, xa, n, &goal, &t_att));
    hl_job_progress("encode", 0, 0, NULL);
    HL_TRY(stop_check());
    t0 = hl_time_s();
    HL_TRY(hl_hasher_encode_images(&adv_f, h, rs->ctx, xa, n, encode_batch(rs)));
    hl_attack_quantize8(xa, xa, n * d); /* the headline scores are on what survives saving as 8-bit images */
    HL_TRY(hl_hasher_encode_images(&adv, h, rs->ctx, xa, n, encode_batch(rs)));
    t_enc += hl_time_s() - t0;
    hl_job_progress("score", 0, 0, NULL);

    t0 = hl_time_s();
    hl_retrieval_result ra, rf, rc;
    ap = malloc((size_t)(n ? (3 + HL_AUTO_MAX_MEMBERS) * n : 1) * sizeof *ap); /* [clean | adv | tadv | members..] */
    if (!ap) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld per-query APs", (long long)n));
    HL_TRY(hl_retrieval_eval(&adv, &lab, &db, &rs->dblab, &rs->ropts, &ra, ap + n));
    HL_TRY(hl_retrieval_eval(&adv_f, &lab, &db, &rs->dblab, &rs->ropts, &rf, NULL));
    HL_TRY(hl_retrieval_eval(&clean, &lab, &db, &rs->dblab, &rs->ropts, &rc, ap));
    hl_percept pc;
    HL_TRY(hl_attack_percept_batch(x, xa, n, rs->data.c, rs->data.h, rs->data.w, &pc, NULL));
    m = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!m) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
    if (ao.targeted) HL_TRY(put_targeted(rs, m, &adv, &adv_f, &clean, &tcodes, &tl, &db, ap + 2 * n));
    t_score = hl_time_s() - t0;
    hl_job_progress("save", 0, 0, NULL);

    snprintf(p, sizeof p, "%s/adv_codes.npy", dir);
    HL_TRY(hl_codes_npy_write(p, &adv, false));
    HL_TRY(write_adv_images(rs, dir, xa, n));
    /* per query: AP clean and adversarial (targeted: and the targeted AP); an ensemble adds the member it kept and
     * each member's AP (targeted AP when targeted) */
    const double *cols[4 + HL_AUTO_MAX_MEMBERS] = {ap, ap + n, ap + 2 * n};
    char header[400] = "ap_clean,ap_adv";
    int ncols = 2;
    if (ao.targeted) strcat(header, ",tap_adv"), ncols = 3;
    const hl_auto_record *rec = hl_auto_record_of(a);
    if (rec) {
        HL_TRY(hl_cell_ensemble(a, n, ao.targeted, res, ap + 4 * n, ap + 3 * n));
        strcat(header, ",winner");
        cols[ncols++] = ap + 3 * n;
        for (int k = 0; k < rec->n_members; k++) {
            size_t hl = strlen(header);
            snprintf(header + hl, sizeof header - hl, ",%s_%s", ao.targeted ? "tap" : "ap", rec->member[k]);
            cols[ncols++] = ap + (4 + k) * n;
        }
    }
    HL_TRY(write_per_query(rs, dir, header, n, rs->aq, rs->split.query.idx, cols, ncols));
    snprintf(p, sizeof p, "%s/adv_examples.png", dir);
    HL_TRY(hl_grid_attack_examples(p, x, xa, HL_MIN(n, GRID_EXAMPLES), rs->data.c, rs->data.h, rs->data.w, 10.0f,
                                   rs->data.h < 64 ? 2 : 1));
    hl_job_progress("sanity", 0, 0, NULL);

    char name[64];
    HL_TRY(put_retrieval(rs, m, &ra));
    snprintf(name, sizeof name, "%s(clean)", rs->map_name);
    HL_TRY(hl_run_put_num(m, name, rc.map));
    snprintf(name, sizeof name, "%s(float)", rs->map_name);
    HL_TRY(hl_run_put_num(m, name, rf.map));
    HL_TRY(hl_run_put_num(m, "pert_rmse", pc.pert_rmse));
    /* ProS-GAN's perceptibility (methods.md §7.3): sqrt of the mean over images of the per-image MSE, on [0, 1] */
    double se = 0;
    for (int64_t i = 0; i < n * d; i++) se += ((double)xa[i] - (double)x[i]) * ((double)xa[i] - (double)x[i]);
    HL_TRY(hl_run_put_num(m, "perceptibility", n * d > 0 ? sqrt(se / (double)(n * d)) : NAN));
    HL_TRY(hl_run_put_num(m, "linf_255", pc.linf_255));
    HL_TRY(hl_run_put_num(m, "psnr", pc.psnr));
    HL_TRY(hl_run_put_num(m, "ssim", pc.ssim));
    HL_TRY(hl_run_put_num(m, "seconds_per_query", n > 0 ? t_att / (double)n : NAN));
    HL_TRY(hl_run_put_num(m, "forwards_per_query", n > 0 ? (double)a->forwards / (double)n : NAN));
    HL_TRY(hl_run_put_num(m, "backwards_per_query", n > 0 ? (double)a->backwards / (double)n : NAN));
    /* a gradient attack on a model without useful input gradients: say so, it is not robustness */
    double zg = a->backwards > 0 ? (double)a->zero_grads / (double)a->backwards : NAN;
    HL_TRY(hl_run_put_num(m, "zero_grad_fraction", zg));
    if (zg > 0.5) {
        char note[300];
        snprintf(note, sizeof note, "the victim's input gradient was zero in %.0f%% of the attack's steps: a gradient "
                 "attack cannot move it, so its scores here do not show robustness", 100 * zg);
        HL_TRY(hl_run_put_str(res, "note", note));
        hl_msg(HL_LOG_WARN, "cell %s: %s", c->label, note);
    }
    HL_TRY(hl_run_put_node(res, "metrics", m));
    m = NULL;
    if (a->cls->cite) HL_TRY(hl_run_put_str(res, "cite", a->cls->cite)); /* the report's methods.bib */
    /* what kind of attack this is, for the report's checks across cells (reports/sanity.h) */
    unsigned af = a->cls->flags;
    HL_TRY(hl_run_put_str(res, "attack_kind", af & HL_ATTACK_FIXED      ? "ensemble"
                                              : af & HL_ATTACK_BASELINE ? "baseline"
                                              : af & HL_ATTACK_NEEDS_FIT ? "fitted"
                                              : af & HL_ATTACK_BLACKBOX  ? "gradient-free"
                                                                         : "gradient"));
    HL_TRY(put_trace(res, a, n));
    double tmap8 = NAN, tmapf = NAN;
    if (ao.targeted) {
        HL_TRY(hl_config_get_double(hl_config_get(res, "metrics"), "t-mAP@all", &tmap8));
        HL_TRY(hl_config_get_double(hl_config_get(res, "metrics"), "t-mAP@all(float)", &tmapf));
    }
    hl_cell_sanity_in si = {.sa = sa, .ao = &ao, .a = a, .victim = h, .x = x, .n = n, .clean = &clean, .db = &db,
                            .lab = &lab, .tcodes = ao.targeted ? &tcodes : NULL, .tl = ao.targeted ? &tl : NULL,
                            .ap_adv = ap + n, .tap_adv = ao.targeted ? ap + 2 * n : NULL,
                            .map8 = ao.targeted ? tmap8 : ra.map, .mapf = ao.targeted ? tmapf : rf.map};
    HL_TRY(hl_cell_sanity(rs, c, &si, res));
    HL_TRY(hl_run_put_int(res, "queries", n));
    HL_TRY(hl_run_put_int(res, "database", db.n));
    HL_TRY(put_timings(res, t_fit, t_enc, t_att, t_score));
done:
    hl_config_free(m);
    free(qidx);
    free(x);
    free(xa);
    free(ap);
    hl_labels_free(&lab);
    hl_labels_free(&tl);
    hl_codes_free(&db);
    hl_codes_free(&clean);
    hl_codes_free(&adv);
    hl_codes_free(&adv_f);
    hl_codes_free(&refc);
    hl_codes_free(&tcodes);
    hl_attack_free(a);
    hl_hasher_free(h);
    return st;
}

/* Transfer: the source attack cell's stored 8-bit adversarial images (adv_images.npy: what the white-box cell scored
 * as its headline) encoded by the target model and scored against the target's database codes: mAP@R of the
 * adversarial and of the clean attacked queries, and for a targeted attack t-mAP@all (adversarial and clean floor)
 * and TSR@10/100-majority against the shared target labels. The diagonal (target = the attack's own victim)
 * reproduces the white-box cell's scores exactly. */
hl_status hl_cell_run_transfer(hl_run_state *rs, const hl_cell *c, hl_config *res) {
    hl_status st = HL_OK;
    const hl_cell *src = &rs->cells[c->parent], *tc = &rs->cells[c->target];
    const hl_suite_attack *sa = &rs->suite->attacks[src->attack];
    hl_hasher *h = NULL;
    hl_codes db = {0}, clean = {0}, adv = {0};
    hl_labels lab = {0}, tl = {0};
    hl_npy im = {0};
    hl_config *m = NULL, *scratch = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    float *x = NULL, *xa = NULL;
    int64_t *qidx = NULL, n = rs->naq, d = hl_dataset_image_size(&rs->data);
    char sdir[1200], tdir[1200], p[1400], name[64];
    double t0 = hl_time_s(), t_enc, t_score, v;
    bool targeted = false;
    if (!scratch) return hl_error_set(HL_ENOMEM, "out of memory");
    HL_TRY(hl_config_get_bool(sa->node, "targeted", &targeted));
    hl_store_cell_dir(rs->store.dir, src->key, sdir, sizeof sdir);
    hl_store_cell_dir(rs->store.dir, tc->key, tdir, sizeof tdir);
    HL_TRY(hl_cell_make_hasher(rs, tc, &h, scratch));
    HL_TRY(hl_run_put_clone(res, "target_hasher_params", hl_config_get(scratch, "hasher_params")));
    snprintf(p, sizeof p, "%s/model.safetensors", tdir);
    HL_TRY(hl_hasher_load(h, p));
    snprintf(p, sizeof p, "%s/db_codes.npy", tdir);
    HL_TRY(hl_codes_npy_read(p, 0, &db));
    if (db.n != rs->split.database.n || db.bits != h->bits)
        HL_TRY(hl_error_set(HL_EMISMATCH, "%s: %lld codes of %d bits, expected %lld of %d", p, (long long)db.n,
                            db.bits, (long long)rs->split.database.n, h->bits));
    snprintf(p, sizeof p, "%s/adv_images.npy", sdir);
    HL_TRY(hl_npy_read(p, &im));
    if (im.dtype != HL_NPY_U8 || im.ndim != 4 || im.shape[0] != n || im.shape[1] != rs->data.c ||
        im.shape[2] != rs->data.h || im.shape[3] != rs->data.w)
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: expected uint8 [%lld, %d, %d, %d] adversarial images", p, (long long)n,
                            rs->data.c, rs->data.h, rs->data.w));
    hl_job_progress("encode", 0, 0, NULL);
    size_t nd = (size_t)(n * d > 0 ? n * d : 1);
    x = malloc(nd * sizeof *x), xa = malloc(nd * sizeof *xa), qidx = malloc((size_t)(n ? n : 1) * sizeof *qidx);
    if (!x || !xa || !qidx) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for %lld images", (long long)n));
    const uint8_t *u = im.data;
    for (int64_t i = 0; i < n * d; i++) xa[i] = (float)u[i] / 255.0f;
    for (int64_t i = 0; i < n; i++) qidx[i] = rs->split.query.idx[rs->aq[i]];
    hl_dataset_read(&rs->data, qidx, n, x);
    HL_TRY(hl_hasher_encode_images(&adv, h, rs->ctx, xa, n, encode_batch(rs)));
    HL_TRY(hl_hasher_encode_images(&clean, h, rs->ctx, x, n, encode_batch(rs)));
    t_enc = hl_time_s() - t0;
    hl_job_progress("score", 0, 0, NULL);
    HL_TRY(stop_check());
    t0 = hl_time_s();
    HL_TRY(hl_labels_subset(&lab, &rs->qlab, rs->aq, n));
    if (!(m = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0))) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    hl_retrieval_result ra, rc;
    HL_TRY(hl_retrieval_eval(&adv, &lab, &db, &rs->dblab, &rs->ropts, &ra, NULL));
    HL_TRY(hl_retrieval_eval(&clean, &lab, &db, &rs->dblab, &rs->ropts, &rc, NULL));
    HL_TRY(hl_run_put_num(m, rs->map_name, ra.map));
    snprintf(name, sizeof name, "%s(clean)", rs->map_name);
    HL_TRY(hl_run_put_num(m, name, rc.map));
    if (targeted) {
        hl_retrieval_opts o = rs->ropts;
        hl_retrieval_result r;
        o.topk = 0;
        snprintf(p, sizeof p, "%s/artifacts/target_labels.npy", rs->store.dir);
        HL_TRY(hl_labels_npy_read(p, rs->dblab.nlabels, &tl));
        if (tl.n != n) HL_TRY(hl_error_set(HL_EMISMATCH, "%s: %lld target labels for %lld attacked queries", p,
                                           (long long)tl.n, (long long)n));
        HL_TRY(hl_attack_tmap(&adv, &tl, &db, &rs->dblab, &o, &r));
        HL_TRY(hl_run_put_num(m, "t-mAP@all", r.map));
        HL_TRY(hl_attack_tmap(&clean, &tl, &db, &rs->dblab, &o, &r));
        HL_TRY(hl_run_put_num(m, "t-mAP@all(clean)", r.map));
        HL_TRY(hl_attack_tsr_majority(&adv, &tl, &db, &rs->dblab, 10, &v));
        HL_TRY(hl_run_put_num(m, "TSR@10-maj", v));
        HL_TRY(hl_attack_tsr_majority(&adv, &tl, &db, &rs->dblab, 100, &v));
        HL_TRY(hl_run_put_num(m, "TSR@100-maj", v));
    }
    t_score = hl_time_s() - t0;
    HL_TRY(hl_run_put_node(res, "metrics", m));
    m = NULL;
    HL_TRY(put_timings(res, 0.0, t_enc, 0.0, t_score));
done:
    hl_config_free(m);
    hl_config_free(scratch);
    hl_npy_free(&im);
    free(x);
    free(xa);
    free(qidx);
    hl_labels_free(&lab);
    hl_labels_free(&tl);
    hl_codes_free(&db);
    hl_codes_free(&clean);
    hl_codes_free(&adv);
    hl_hasher_free(h);
    return st;
}
