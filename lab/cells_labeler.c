/* lab/cells_labeler.c — labelled counts (`labeled:`) and labelers (`labeler:`) in train cells; see runner_impl.h.
 *
 * The lab is the only party that holds both the labeler's output and the hidden labels: it runs the labeler through
 * hl_labeler_apply (the labeler gets the label-less view and the labelled images' labels only), fits the host hasher
 * on the enlarged set, and only then compares the labeler's labels with the dataset's. Accuracy of a labelled image:
 * its given label set equals its true one (for single-label sets: the same class).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashers/labeler.h"
#include "lab/runner_impl.h"

hl_status hl_run_cell_lists(hl_run_state *rs, int64_t labeled, const hl_index_list **train,
                            const hl_index_list **unlabelled) {
    hl_status st = HL_OK;
    char proto[64];
    *train = &rs->split.train, *unlabelled = &rs->split.unlabelled;
    if (labeled <= 0) return HL_OK;
    for (int i = 0; i < rs->nlsplits; i++)
        if (rs->lcounts[i] == labeled) {
            *train = &rs->lsplits[i].train, *unlabelled = &rs->lsplits[i].unlabelled;
            return HL_OK;
        }
    HL_TRY(hl_split_protocol_with_train(rs->suite->protocol, labeled, proto));
    hl_split *ns = realloc(rs->lsplits, (size_t)(rs->nlsplits + 1) * sizeof *ns);
    if (ns) rs->lsplits = ns;
    int64_t *nc = realloc(rs->lcounts, (size_t)(rs->nlsplits + 1) * sizeof *nc);
    if (nc) rs->lcounts = nc;
    if (!ns || !nc) return hl_error_set(HL_ENOMEM, "out of memory");
    hl_split *sp = &rs->lsplits[rs->nlsplits];
    HL_TRY(hl_split_make(sp, &rs->data, proto, (uint64_t)rs->suite->split_seed));
    /* the same queries and database as the run's split (core/data/split.h says why); checked, not assumed */
    if (sp->query.n != rs->split.query.n || sp->database.n != rs->split.database.n ||
        memcmp(sp->query.idx, rs->split.query.idx, (size_t)sp->query.n * sizeof *sp->query.idx) ||
        memcmp(sp->database.idx, rs->split.database.idx, (size_t)sp->database.n * sizeof *sp->database.idx)) {
        hl_split_free(sp);
        return hl_error_set(HL_EMISMATCH, "split %s does not keep the queries and database of %s", proto,
                            rs->split.protocol);
    }
    rs->lcounts[rs->nlsplits++] = labeled;
    *train = &sp->train, *unlabelled = &sp->unlabelled;
done:
    return st;
}

void hl_run_cell_lists_free(hl_run_state *rs) {
    for (int i = 0; i < rs->nlsplits; i++) hl_split_free(&rs->lsplits[i]);
    free(rs->lsplits), free(rs->lcounts);
    rs->lsplits = NULL, rs->lcounts = NULL, rs->nlsplits = 0;
}

/* Share of r's images [b, e) whose given label set equals the true one (NaN when the range is empty). */
static double accuracy(const hl_labeler_result *r, const hl_labels *truth, int64_t b, int64_t e) {
    int64_t ok = 0;
    for (int64_t i = b; i < e; i++)
        ok += !memcmp(hl_labels_row(&r->labels, i), hl_labels_row(truth, r->idx[i]),
                      (size_t)truth->words * sizeof *truth->bits);
    return e > b ? (double)ok / (double)(e - b) : 0.0 / 0.0;
}

/* A sequence of nlabels counts: how many of r's images carry each label in `given` (r's labels, or with truth the
 * hidden ones of r's images). */
static hl_status label_counts(const hl_labeler_result *r, const hl_labels *truth, hl_config **out) {
    const hl_labels *l = truth ? truth : &r->labels;
    hl_config *seq = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0);
    if (!seq) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    char num[32];
    for (int c = 0; c < l->nlabels; c++) {
        int64_t k = 0;
        for (int64_t i = 0; i < r->n; i++) k += hl_labels_has(l, truth ? r->idx[i] : i, c);
        snprintf(num, sizeof num, "%lld", (long long)k);
        hl_config *v = hl_config_new(HL_CONFIG_SCALAR, num, "", 0, 0);
        if (!v || hl_config_seq_push(seq, v) < 0) {
            hl_config_free(v), hl_config_free(seq);
            return hl_error_set(HL_ENOMEM, "out of memory building result.json");
        }
    }
    *out = seq;
    return HL_OK;
}

/* result.json's "labeler" node. */
static hl_status labeler_node(const hl_labeler_result *r, const hl_labels *truth, const char *method,
                              const hl_config *cfg, double secs, hl_config **out) {
    hl_status st = HL_OK;
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0), *seq = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0);
    if (!m || !seq) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
    HL_TRY(hl_run_put_str(m, "method", method));
    HL_TRY(hl_run_put_clone(m, "config", cfg));
    HL_TRY(hl_run_put_int(m, "added", r->n));
    HL_TRY(hl_run_put_num(m, "accuracy", accuracy(r, truth, 0, r->n)));
    hl_config *cnt = NULL;
    HL_TRY(label_counts(r, NULL, &cnt));
    HL_TRY(hl_run_put_node(m, "given_per_label", cnt));
    HL_TRY(label_counts(r, truth, &cnt));
    HL_TRY(hl_run_put_node(m, "true_per_label", cnt));
    for (int k = 0; k < r->rounds; k++) {
        int64_t b = k ? r->round_end[k - 1] : 0, e = r->round_end[k];
        hl_config *one = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
        if (!one) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
        if ((st = hl_run_put_int(one, "added", e - b)) < 0 || (st = hl_run_put_num(one, "accuracy", accuracy(r, truth, b, e))) < 0 ||
            (st = hl_config_seq_push(seq, one)) < 0) {
            hl_config_free(one);
            goto done;
        }
    }
    HL_TRY(hl_run_put_node(m, "per_round", seq));
    seq = NULL;
    HL_TRY(hl_run_put_num(m, "seconds", secs));
    *out = m, m = NULL;
done:
    hl_config_free(m);
    hl_config_free(seq);
    return st;
}

hl_status hl_cell_fit_labeler(hl_run_state *rs, const hl_cell *c, hl_hasher *h, hl_config *res,
                              const hl_index_list *train, const hl_index_list *unlabelled, int64_t *nfit) {
    hl_status st = HL_OK;
    const hl_suite_hasher *sh = &rs->suite->hashers[c->hasher];
    const hl_config *ln = hl_config_get(sh->node, "labeler");
    const hl_labeler_class *lc = hl_labeler_class_find(sh->labeler);
    hl_labeler_result r = {0};
    hl_dataset fit = {0};
    hl_config *node = NULL, *resolved = NULL;
    int64_t *fidx = NULL, nf = 0;
    char fit_on[160];
    if (!lc) return hl_error_code();
    /* the features come from the host's own backbone where it has one, else the suite's */
    const hl_config *bb = hl_config_get(h->cfg, "backbone");
    const char *backbone = bb && bb->kind == HL_CONFIG_SCALAR && bb->text[0] ? bb->text : rs->suite->backbone;
    double t0 = hl_time_s();
    HL_TRY(hl_labeler_apply(lc, ln, &rs->data, train->idx, train->n, unlabelled->idx, unlabelled->n, backbone,
                            (uint64_t)c->seed, &r));
    double secs = hl_time_s() - t0;
    HL_TRY(hl_labeler_fit_set(&fit, &fidx, &nf, &rs->data, train->idx, train->n, &r));
    snprintf(fit_on, sizeof fit_on, "train (%lld labelled) + %lld labelled by %s", (long long)train->n, (long long)r.n,
             lc->name);
    HL_TRY(hl_run_put_str(res, "fit_on", fit_on));
    HL_TRY(hl_run_put_int(res, "labeled", train->n));
    HL_TRY(hl_hasher_fit(h, &fit, fidx, nf, true));
    *nfit = nf;
    /* only now, with the fit done, are the labels given compared with the hidden ones */
    HL_TRY(hl_config_resolve(ln, lc->params, lc->n_params, &resolved));
    HL_TRY(labeler_node(&r, &rs->data.labels, lc->name, resolved, secs, &node));
    HL_TRY(hl_run_put_node(res, "labeler", node));
    node = NULL;
    hl_msg(HL_LOG_INFO, "%s: labeler %s labelled %lld images (accuracy %.1f%%)", c->label, lc->name, (long long)r.n,
           100 * accuracy(&r, &rs->data.labels, 0, r.n));
done:
    hl_config_free(node);
    hl_config_free(resolved);
    hl_labeler_fit_set_free(&fit);
    free(fidx);
    hl_labeler_result_free(&r);
    return st;
}
