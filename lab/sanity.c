/* lab/sanity.c — the judge of candidates and the sanity checks of one attack cell; see lab/sanity.h. */
#include "lab/sanity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/auto.h"
#include "attacks/victim.h"
#include "core/rng.h"
#include "eval/attack_metrics.h"
#include "hashers/deep.h"

#define TOL_FLOAT_8BIT 0.02 /* float vs 8-bit score */
#define TOL_FLOOR 0.05      /* ε = 1 probe vs the floor / ceiling */
#define TOL_GRADFREE 0.01   /* gradient-free member vs the best gradient member */
#define PROBE_QUERIES 32
#define FLOOR_CODES 8       /* random codes per probe query for the floor */
#define EXACT_MAX_BITS 8    /* queries with more individually flippable bits are left out of the exact bound */
#define PROBE_STREAM 0x70726f6265ULL /* "probe" */

hl_status hl_lab_judge_score(void *user, int64_t first, const hl_codes *codes, double *s) {
    const hl_lab_judge *j = user;
    const hl_labels *L = j->labels;
    if (first < 0 || first + codes->n > L->n)
        return hl_error_set(HL_EMISMATCH, "judge: queries %lld..%lld outside the %lld labelled ones", (long long)first,
                            (long long)(first + codes->n), (long long)L->n);
    hl_labels rows = {.n = codes->n, .nlabels = L->nlabels, .words = L->words, .bits = L->bits + first * L->words};
    hl_retrieval_result r;
    hl_status st = hl_retrieval_eval(codes, &rows, j->db, j->dblab, &j->opts, &r, s);
    if (st < 0) return st;
    if (!j->targeted)
        for (int64_t i = 0; i < codes->n; i++) s[i] = -s[i];
    return HL_OK;
}

static hl_status put_flag_list(hl_config *s, const char *const *raised, int nr, const hl_cell *c) {
    hl_status st = HL_OK;
    hl_config *flags = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0);
    if (!flags) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    for (int i = 0; i < nr; i++) {
        hl_config *f = hl_config_new(HL_CONFIG_SCALAR, raised[i], "", 0, 0);
        if (!f) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
        f->quoted = true;
        HL_TRY(hl_config_seq_push(flags, f));
        hl_msg(HL_LOG_WARN, "cell %s: sanity flag %s", c->label, raised[i]);
    }
    st = hl_run_put_node(s, "flags", flags);
    flags = NULL;
done:
    hl_config_free(flags);
    return st;
}

static hl_config *new_map(void) { return hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0); }

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b, b = t;
    }
    return a < 0 ? -a : a;
}

/* ---- ε = 1 probe ---- */

static hl_status probe(hl_run_state *rs, const hl_cell_sanity_in *in, hl_config *ev, bool *flag) {
    hl_status st = HL_OK;
    const hl_attack_class *cls = in->a->cls;
    const hl_attack_opts *ao = in->ao;
    const bool tg = ao->targeted;
    const int64_t d = hl_dataset_image_size(&rs->data), P = HL_MIN((int64_t)PROBE_QUERIES, in->n);
    hl_config *p = new_map();
    hl_attack *pa = NULL;
    hl_codes codes = {0}, src = {0}, tgt = {0}, rnd = {0};
    hl_labels lab = {0}, tl = {0}, rlab = {0};
    int64_t *idx = NULL, *ids = NULL, *ridx = NULL;
    float *xs = NULL, *xa = NULL, *rf = NULL;
    const char *skip = NULL;
    if (!p) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    if (cls->flags & HL_ATTACK_BASELINE) skip = "a baseline, not an optimiser";
    else if (cls->flags & (HL_ATTACK_NEEDS_FIT | HL_ATTACK_UNBOUNDED)) skip = "an attack fitted on its victim";
    else if (ao->threat.norm == HL_NORM_NONE) skip = "norm none has no budget to enlarge";
    else if (!(ao->threat.eps.value > 0)) skip = "eps 0";
    else if (P == 0) skip = "no attacked queries";
    if (skip) {
        HL_TRY(hl_run_put_str(p, "skipped", skip));
        goto put;
    }
    hl_attack_opts po = *ao;
    if (ao->threat.norm == HL_NORM_LINF) po.threat.eps = (hl_fraction){.num = 1, .den = 1, .value = 1.0};
    else {
        int64_t r = (int64_t)ceil(sqrt((double)d));
        po.threat.eps = (hl_fraction){.num = r, .den = 1, .value = (double)r};
    }
    /* step × (big ε / ε), as an exact fraction */
    int64_t num = ao->step.num * po.threat.eps.num * ao->threat.eps.den,
            den = ao->step.den * po.threat.eps.den * ao->threat.eps.num, g = gcd64(num, den);
    if (g > 0) num /= g, den /= g;
    po.step = (hl_fraction){.num = num, .den = den, .value = ao->step.value * po.threat.eps.value / ao->threat.eps.value};
    HL_TRY(hl_attack_create(&pa, cls->name, hl_config_get(in->sa->node, "params"), &po));
    idx = malloc((size_t)P * sizeof *idx), ids = malloc((size_t)P * sizeof *ids);
    xs = malloc((size_t)(P * d) * sizeof *xs), xa = malloc((size_t)(P * d) * sizeof *xa);
    if (!idx || !ids || !xs || !xa) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for the eps = 1 probe"));
    for (int64_t i = 0; i < P; i++) {
        idx[i] = i * in->n / P;
        ids[i] = rs->aq[idx[i]];
        memcpy(xs + i * d, in->x + idx[i] * d, (size_t)d * sizeof *xs);
    }
    HL_TRY(hl_labels_subset(&lab, in->lab, idx, P));
    HL_TRY(hl_codes_subset(&src, in->clean, idx, P));
    if (tg) {
        HL_TRY(hl_codes_subset(&tgt, in->tcodes, idx, P));
        HL_TRY(hl_labels_subset(&tl, in->tl, idx, P));
    }
    hl_lab_judge jd = {.db = in->db, .dblab = &rs->dblab, .labels = tg ? &tl : &lab, .opts = rs->ropts, .targeted = tg};
    if (tg) jd.opts.topk = 0;
    hl_attack_judge judge = {.score = hl_lab_judge_score, .user = &jd};
    hl_attack_goal goal = {.query_id = ids, .source = &src, .target = tg ? &tgt : NULL,
                           .target_labels = tg ? &tl : NULL, .judge = &judge};
    double t0 = hl_time_s();
    HL_TRY(hl_attack_run(pa, in->victim, rs->ctx, xs, xa, P, &goal, hl_batch_for_pixels(64, d)));
    double secs = hl_time_s() - t0;
    hl_attack_quantize8(xa, xa, P * d);
    HL_TRY(hl_hasher_encode_images(&codes, in->victim, rs->ctx, xa, P, hl_batch_for_pixels(64, d)));
    hl_retrieval_result r, rr;
    HL_TRY(hl_retrieval_eval(&codes, jd.labels, in->db, &rs->dblab, &jd.opts, &r, NULL));
    double bound;
    if (tg) {
        HL_TRY(hl_retrieval_eval(&tgt, &tl, in->db, &rs->dblab, &jd.opts, &rr, NULL));
        bound = rr.map;
        HL_TRY(hl_run_put_num(p, "ceiling", bound));
        *flag = r.map < bound - TOL_FLOOR;
    } else {
        /* the floor: FLOOR_CODES random codes per probe query, with its labels */
        int K = in->db->bits;
        int64_t R = P * FLOOR_CODES;
        rf = malloc((size_t)(R * K) * sizeof *rf), ridx = malloc((size_t)R * sizeof *ridx);
        if (!rf || !ridx) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for the eps = 1 probe"));
        hl_rng rng = hl_rng_make(ao->seed, PROBE_STREAM);
        for (int64_t i = 0; i < R * K; i++) rf[i] = (hl_rng_u32(&rng) & 1) ? 1.0f : -1.0f;
        for (int64_t i = 0; i < R; i++) ridx[i] = i / FLOOR_CODES;
        HL_TRY(hl_codes_create(&rnd, R, K));
        hl_codes_pack(&rnd, rf);
        HL_TRY(hl_labels_subset(&rlab, &lab, ridx, R));
        HL_TRY(hl_retrieval_eval(&rnd, &rlab, in->db, &rs->dblab, &jd.opts, &rr, NULL));
        bound = rr.map;
        HL_TRY(hl_run_put_num(p, "floor", bound));
        *flag = r.map > bound + TOL_FLOOR;
    }
    HL_TRY(hl_run_put_str(p, "eps", po.threat.norm == HL_NORM_LINF ? "1" : "ceil(sqrt(d))"));
    HL_TRY(hl_run_put_num(p, "eps_value", po.threat.eps.value));
    HL_TRY(hl_run_put_int(p, "queries", P));
    HL_TRY(hl_run_put_num(p, "score", r.map));
    HL_TRY(hl_run_put_num(p, "tolerance", TOL_FLOOR));
    HL_TRY(hl_run_put_num(p, "forwards_per_query", (double)pa->forwards / (double)P));
    HL_TRY(hl_run_put_num(p, "seconds", secs));
put:
    st = hl_run_put_node(ev, "probe", p);
    p = NULL;
done:
    hl_config_free(p);
    hl_attack_free(pa);
    hl_codes_free(&codes), hl_codes_free(&src), hl_codes_free(&tgt), hl_codes_free(&rnd);
    hl_labels_free(&lab), hl_labels_free(&tl), hl_labels_free(&rlab);
    free(idx), free(ids), free(ridx), free(xs), free(xa), free(rf);
    return st;
}

/* ---- exact attack on a linear hasher ---- */

/* W [K, d] and b [K] of a hasher whose output is affine in its input: b = f(0), W[:, j] = f(e_j) − b, checked on the
 * clean queries (relative error 1e-3). */
static hl_status linear_form(hl_run_state *rs, hl_hasher *h, const float *x, int64_t n, float *W, float *b) {
    hl_status st = HL_OK;
    const int64_t d = hl_dataset_image_size(&rs->data), K = h->bits, B = 256;
    float *xs = calloc((size_t)(B * d), sizeof *xs), *f = malloc((size_t)(B * K) * sizeof *f);
    bool train = rs->ctx->train;
    if (!xs || !f) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for the linear form"));
    hl_ctx_set_train(rs->ctx, false);
    HL_TRY(hl_victim_forward(h, rs->ctx, xs, 1, false, b, NULL, NULL));
    hl_ctx_reset(rs->ctx);
    for (int64_t j0 = 0; j0 < d; j0 += B) {
        int64_t m = HL_MIN(B, d - j0);
        memset(xs, 0, (size_t)(m * d) * sizeof *xs);
        for (int64_t j = 0; j < m; j++) xs[j * d + j0 + j] = 1.0f;
        HL_TRY(hl_victim_forward(h, rs->ctx, xs, m, false, f, NULL, NULL));
        hl_ctx_reset(rs->ctx);
        for (int64_t j = 0; j < m; j++)
            for (int64_t k = 0; k < K; k++) W[k * d + j0 + j] = f[j * K + k] - b[k];
    }
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        int64_t m = HL_MIN(B, n - i0);
        HL_TRY(hl_victim_forward(h, rs->ctx, x + i0 * d, m, false, f, NULL, NULL));
        hl_ctx_reset(rs->ctx);
        for (int64_t i = 0; i < m; i++)
            for (int64_t k = 0; k < K; k++) {
                double v = b[k];
                for (int64_t j = 0; j < d; j++) v += (double)W[k * d + j] * x[(i0 + i) * d + j];
                if (fabs(v - f[i * K + k]) > 1e-3 * (1 + fabs(f[i * K + k])))
                    HL_TRY(hl_error_set(HL_EINVAL, "hasher '%s' declares itself linear but its output %lld of query "
                                        "%lld is %g, not W·x + b = %g", h->cls->name, (long long)k,
                                        (long long)(i0 + i), f[i * K + k], v));
            }
    }
done:
    hl_ctx_set_train(rs->ctx, train);
    free(xs), free(f);
    return st;
}

/* The corner of the box ∩ ball that most decreases g·y: y_j = clamp(x_j − ε·sign(g_j), lo, hi). */
static void corner(const float *x, const double *g, int64_t d, double eps, double lo, double hi, float *y) {
    for (int64_t j = 0; j < d; j++) {
        double v = x[j] - (g[j] > 0 ? eps : g[j] < 0 ? -eps : 0);
        y[j] = (float)fmin(fmax(v, lo), hi);
    }
}

/* ±1 code of a linear hasher at y into c [K]. */
static void linear_code(const float *W, const float *b, const float *y, int64_t d, int K, float *c) {
    for (int k = 0; k < K; k++) {
        double v = b[k];
        for (int64_t j = 0; j < d; j++) v += (double)W[k * d + j] * y[j];
        c[k] = v >= 0 ? 1.0f : -1.0f;
    }
}

static hl_status exact_linear(hl_run_state *rs, const hl_cell_sanity_in *in, hl_config *ev) {
    hl_status st = HL_OK;
    const int64_t d = hl_dataset_image_size(&rs->data), n = in->n;
    const int K = in->db->bits, NS = 1 << EXACT_MAX_BITS, NC = K + 2;
    const bool tg = in->ao->targeted;
    const double eps = in->ao->threat.eps.value, lo = in->ao->threat.lo, hi = in->ao->threat.hi;
    float *W = malloc((size_t)(K * d) * sizeof *W), *b = malloc((size_t)K * sizeof *b);
    float *cf = malloc((size_t)K * sizeof *cf), *tf = malloc((size_t)K * sizeof *tf), *y = malloc((size_t)d * sizeof *y);
    float *cand = malloc((size_t)(HL_MAX(NS, NC) * K) * sizeof *cand);
    double *g = malloc((size_t)d * sizeof *g), *ap = malloc((size_t)HL_MAX(NS, NC) * sizeof *ap);
    int64_t *rep = malloc((size_t)HL_MAX(NS, NC) * sizeof *rep);
    hl_codes cc = {0};
    hl_labels cl = {0};
    hl_config *e = new_map();
    int U[64];
    if (!W || !b || !cf || !tf || !y || !cand || !g || !ap || !rep || !e)
        HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for the exact attack"));
    HL_TRY(linear_form(rs, in->victim, in->x, n, W, b));
    hl_retrieval_opts o = rs->ropts;
    if (tg) o.topk = 0;
    const hl_labels *L = tg ? in->tl : in->lab;
    const double *atk = tg ? in->tap_adv : in->ap_adv;
    int64_t covered = 0, certified = 0, flippable = 0, left_out = 0;
    double sum_bound = 0, sum_atk_cov = 0, sum_cf_cov = 0, sum_cf = 0, sum_atk = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *xi = in->x + i * d;
        hl_codes row = {.n = 1, .bits = K, .words = in->clean->words, .w = in->clean->w + i * in->clean->words};
        hl_codes_unpack(&row, cf);
        if (tg) {
            hl_codes trow = {.n = 1, .bits = K, .words = in->tcodes->words,
                             .w = in->tcodes->w + i * in->tcodes->words};
            hl_codes_unpack(&trow, tf);
        }
        /* the bits that can flip on their own: the largest decrease of c_k·f_k over the box ∩ ball exceeds it */
        int nu = 0;
        for (int k = 0; k < K; k++) {
            double margin = b[k], dec = 0;
            for (int64_t j = 0; j < d; j++) {
                double w = (double)cf[k] * W[k * d + j];
                margin += (double)W[k * d + j] * xi[j];
                dec += fabs(w) * (w > 0 ? fmin(eps, xi[j] - lo) : fmin(eps, hi - xi[j]));
            }
            if (dec > cf[k] * margin && nu < 64) U[nu++] = k;
        }
        flippable += nu;
        /* the closed-form attack: the images that push one flippable bit as far as the budget allows, and the one
         * that moves the whole linear objective (Σ c_k f_k down, or Σ t_k f_k up); each is a real image, so the
         * best of their codes is an achievable score */
        int nc = 0;
        for (int t = 0; t <= nu; t++) {
            for (int64_t j = 0; j < d; j++) {
                double v = 0;
                if (t < nu) v = (double)cf[U[t]] * W[(int64_t)U[t] * d + j];
                else
                    for (int k = 0; k < K; k++) v += (tg ? -(double)tf[k] : (double)cf[k]) * W[k * d + j];
                g[j] = v;
            }
            corner(xi, g, d, eps, lo, hi, y);
            linear_code(W, b, y, d, K, cand + (int64_t)nc * K);
            rep[nc++] = i;
        }
        HL_TRY(hl_codes_create(&cc, nc, K));
        hl_codes_pack(&cc, cand);
        HL_TRY(hl_labels_subset(&cl, L, rep, nc));
        hl_retrieval_result r;
        HL_TRY(hl_retrieval_eval(&cc, &cl, in->db, &rs->dblab, &o, &r, ap));
        double cfbest = ap[0];
        for (int t = 1; t < nc; t++) cfbest = tg ? fmax(cfbest, ap[t]) : fmin(cfbest, ap[t]);
        hl_codes_free(&cc);
        hl_labels_free(&cl);
        sum_cf += cfbest, sum_atk += atk ? atk[i] : NAN;
        if (nu > EXACT_MAX_BITS) {
            left_out++;
            continue;
        }
        /* the bound: the best score over every code that flips a subset of those bits (no attack reaches others) */
        int ns = 1 << nu;
        for (int sub = 0; sub < ns; sub++) {
            float *c = cand + (int64_t)sub * K;
            memcpy(c, cf, (size_t)K * sizeof *c);
            for (int t = 0; t < nu; t++)
                if (sub >> t & 1) c[U[t]] = -c[U[t]];
            rep[sub] = i;
        }
        HL_TRY(hl_codes_create(&cc, ns, K));
        hl_codes_pack(&cc, cand);
        HL_TRY(hl_labels_subset(&cl, L, rep, ns));
        HL_TRY(hl_retrieval_eval(&cc, &cl, in->db, &rs->dblab, &o, &r, ap));
        double bound = ap[0];
        for (int sub = 1; sub < ns; sub++) bound = tg ? fmax(bound, ap[sub]) : fmin(bound, ap[sub]);
        hl_codes_free(&cc);
        hl_labels_free(&cl);
        covered++;
        sum_bound += bound, sum_cf_cov += cfbest;
        if (atk) {
            sum_atk_cov += atk[i];
            certified += tg ? atk[i] >= bound - 1e-12 : atk[i] <= bound + 1e-12;
        }
    }
    double cov = covered ? (double)covered : NAN, all = n ? (double)n : NAN;
    HL_TRY(hl_run_put_num(e, "attack_score", sum_atk / all));
    HL_TRY(hl_run_put_num(e, "closed_form", sum_cf / all));
    HL_TRY(hl_run_put_num(e, "gap_to_closed_form", tg ? (sum_cf - sum_atk) / all : (sum_atk - sum_cf) / all));
    HL_TRY(hl_run_put_int(e, "queries", covered));
    HL_TRY(hl_run_put_num(e, "bound", sum_bound / cov));
    HL_TRY(hl_run_put_num(e, "attack_score_bounded", sum_atk_cov / cov));
    HL_TRY(hl_run_put_num(e, "closed_form_bounded", sum_cf_cov / cov));
    HL_TRY(hl_run_put_int(e, "certified_queries", certified));
    HL_TRY(hl_run_put_int(e, "left_out", left_out));
    HL_TRY(hl_run_put_num(e, "mean_flippable_bits", n ? (double)flippable / (double)n : NAN));
    st = hl_run_put_node(ev, "exact", e);
    e = NULL;
done:
    hl_config_free(e);
    hl_codes_free(&cc);
    hl_labels_free(&cl);
    free(W), free(b), free(cf), free(tf), free(y), free(cand), free(g), free(ap), free(rep);
    return st;
}

/* ---- the ensemble ---- */

/* Mean of member m's per-query scores as a score (mAP, or t-mAP when targeted); NaN when it did not run. */
static double member_score(const hl_auto_record *r, int m, bool targeted) {
    double s = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < r->n; i++) {
        double v = r->score[i * r->n_members + m];
        if (isfinite(v)) s += targeted ? v : -v, k++;
    }
    return k ? s / (double)k : NAN;
}

hl_status hl_cell_ensemble(const hl_attack *a, int64_t n, bool targeted, hl_config *res, double *cols,
                           double *winner) {
    hl_status st = HL_OK;
    const hl_auto_record *r = hl_auto_record_of(a);
    hl_config *e = new_map(), *ms = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0), *m = NULL;
    if (!r) goto done;
    if (!e || !ms) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
    if (r->n != n) HL_TRY(hl_error_set(HL_EMISMATCH, "auto recorded %lld queries, expected %lld", (long long)r->n,
                                       (long long)n));
    HL_TRY(hl_run_put_str(e, "version", r->version));
    for (int k = 0; k < r->n_members; k++) {
        if (!(m = new_map())) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory building result.json"));
        HL_TRY(hl_run_put_str(m, "name", r->member[k]));
        HL_TRY(hl_run_put_str(m, "settings", r->settings[k]));
        HL_TRY(hl_run_put_node(m, "ran", hl_config_new(HL_CONFIG_SCALAR, r->ran[k] ? "true" : "false", "", 0, 0)));
        HL_TRY(hl_run_put_node(m, "gradient_free",
                               hl_config_new(HL_CONFIG_SCALAR, r->gradient_free[k] ? "true" : "false", "", 0, 0)));
        HL_TRY(hl_run_put_num(m, targeted ? "t-mAP@all" : "map", member_score(r, k, targeted)));
        HL_TRY(hl_run_put_num(m, "wins", n ? (double)r->wins[k] / (double)n : NAN));
        HL_TRY(hl_run_put_num(m, "forwards_per_query", n ? (double)r->forwards[k] / (double)n : NAN));
        HL_TRY(hl_run_put_num(m, "backwards_per_query", n ? (double)r->backwards[k] / (double)n : NAN));
        HL_TRY(hl_run_put_num(m, "seconds_per_query", n ? r->seconds[k] / (double)n : NAN));
        HL_TRY(hl_config_seq_push(ms, m));
        m = NULL;
        for (int64_t i = 0; i < n; i++) {
            double v = r->score[i * r->n_members + k];
            cols[k * n + i] = targeted ? v : -v;
        }
    }
    for (int64_t i = 0; i < n; i++) winner[i] = r->winner[i];
    HL_TRY(hl_run_put_node(e, "members", ms));
    ms = NULL;
    st = hl_run_put_node(res, "ensemble", e);
    e = NULL;
done:
    hl_config_free(e), hl_config_free(ms), hl_config_free(m);
    return st;
}

/* gradient_free_beats_white_box of an ensemble; evidence into ev. Per query q, d_q = the gradient-free member's score
 * minus the best gradient member's on that query (scores: higher = stronger); flagged when the mean of d exceeds
 * TOL_GRADFREE and twice its standard error (a gain beyond the noise of the query sample). */
static hl_status gradient_free_check(const hl_auto_record *r, bool targeted, hl_config *ev, bool *flag) {
    hl_status st = HL_OK;
    double s = 0, s2 = 0;
    int64_t k = 0;
    int free_m = -1;
    for (int m = 0; m < r->n_members; m++)
        if (r->ran[m] && r->gradient_free[m]) free_m = m;
    for (int64_t i = 0; i < r->n && free_m >= 0; i++) {
        double best = -INFINITY, v = r->score[i * r->n_members + free_m];
        for (int m = 0; m < r->n_members; m++)
            if (r->ran[m] && !r->gradient_free[m] && isfinite(r->score[i * r->n_members + m]))
                best = fmax(best, r->score[i * r->n_members + m]);
        if (!isfinite(v) || !isfinite(best)) continue;
        s += v - best, s2 += (v - best) * (v - best), k++;
    }
    double mean = k ? s / (double)k : NAN, se = k > 1 ? sqrt(fmax(0, (s2 - s * mean) / (double)(k - 1)) / (double)k) : NAN;
    *flag = k > 1 && mean > TOL_GRADFREE && mean > 2 * se;
    (void)targeted;
    hl_config *g = new_map();
    if (!g) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    HL_TRY(hl_run_put_num(g, "mean_gain", mean));
    HL_TRY(hl_run_put_num(g, "standard_error", se));
    HL_TRY(hl_run_put_int(g, "queries", k));
    HL_TRY(hl_run_put_num(g, "tolerance", TOL_GRADFREE));
    st = hl_run_put_node(ev, "gradient_free", g);
    g = NULL;
done:
    hl_config_free(g);
    return st;
}

hl_status hl_cell_sanity(hl_run_state *rs, const hl_cell *c, const hl_cell_sanity_in *in, hl_config *res) {
    hl_status st = HL_OK;
    const hl_attack *a = in->a;
    hl_config *s = new_map();
    const char *raised[8];
    int nr = 0;
    bool f;
    if (!s) return hl_error_set(HL_ENOMEM, "out of memory building result.json");
    double zg = a->backwards > 0 ? (double)a->zero_grads / (double)a->backwards : NAN;
    if (zg > 0.5) raised[nr++] = "zero_gradients";
    double l0 = NAN, l1 = NAN;
    int64_t improved = 0;
    if (!(a->cls->flags & HL_ATTACK_BASELINE) && a->trace_len > 1 && a->trace_loss_n[0] > 0) {
        int64_t last = a->trace_len - 1; /* the last scoring that still had images (early stop may empty the end) */
        while (last > 0 && a->trace_loss_n[last] == 0) last--;
        l0 = a->trace_loss_sum[0] / (double)a->trace_loss_n[0];
        l1 = a->trace_loss_sum[last] / (double)a->trace_loss_n[last];
        for (int64_t t = 0; t < a->trace_len; t++) improved += a->trace_improved[t];
        if (improved == 0) raised[nr++] = "loss_not_improving";
    }
    if (fabs(in->map8 - in->mapf) > TOL_FLOAT_8BIT) raised[nr++] = "float_8bit_disagree";
    f = false;
    HL_TRY(probe(rs, in, s, &f));
    if (f) raised[nr++] = "unbounded_not_at_floor";
    const hl_auto_record *r = hl_auto_record_of(a);
    if (r) {
        f = false;
        HL_TRY(gradient_free_check(r, in->ao->targeted, s, &f));
        if (f) raised[nr++] = "gradient_free_beats_white_box";
    }
    if ((in->victim->cls->flags & HL_HASHER_LINEAR) && in->ao->threat.norm == HL_NORM_LINF)
        HL_TRY(exact_linear(rs, in, s));
    HL_TRY(put_flag_list(s, raised, nr, c));
    HL_TRY(hl_run_put_num(s, "zero_grad_fraction", zg));
    HL_TRY(hl_run_put_num(s, "loss_first", l0));
    HL_TRY(hl_run_put_num(s, "loss_last", l1));
    HL_TRY(hl_run_put_int(s, "improvements", improved));
    HL_TRY(hl_run_put_num(s, "float_8bit_map_gap", fabs(in->map8 - in->mapf)));
    st = hl_run_put_node(res, "sanity", s);
    s = NULL;
done:
    hl_config_free(s);
    return st;
}

static const hl_labels *g_sort_labels;
static int cmp_label_rows(const void *a, const void *b) {
    return memcmp(hl_labels_row(g_sort_labels, *(const int64_t *)a), hl_labels_row(g_sort_labels, *(const int64_t *)b),
                  (size_t)g_sort_labels->words * sizeof(uint64_t));
}

/* Distinct label rows of l (0 when it has none, or out of memory). */
static int64_t distinct_label_sets(const hl_labels *l) {
    if (!l || l->n == 0) return 0;
    int64_t *ix = malloc((size_t)l->n * sizeof *ix), k = 1;
    if (!ix) return 0;
    for (int64_t i = 0; i < l->n; i++) ix[i] = i;
    g_sort_labels = l;
    qsort(ix, (size_t)l->n, sizeof *ix, cmp_label_rows);
    for (int64_t i = 1; i < l->n; i++) k += cmp_label_rows(&ix[i - 1], &ix[i]) != 0;
    free(ix);
    return k;
}

hl_status hl_cell_code_sanity(const hl_cell *c, const hl_codes *db, const hl_labels *dblab, hl_config *res) {
    hl_status st = HL_OK;
    hl_config *s = new_map(), *m = new_map();
    float *u = malloc((size_t)HL_MAX(1, db->n * db->bits) * sizeof *u);
    const char *raised[2];
    int nr = 0;
    if (!s || !m || !u) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory checking the codes"));
    hl_codes_unpack(db, u);
    hl_code_diversity d = hl_code_diversity_of(u, db->n, db->bits);
    int64_t sets = distinct_label_sets(dblab), distinct = (int64_t)llround(d.distinct_frac * (double)db->n);
    if (d.collapsed) raised[nr++] = "codes_collapsed";
    else if (db->n >= 2 && ((sets > 0 && distinct < HL_SANITY_MIN_CODES_PER_SET * sets) ||
                            d.min_balance < HL_SANITY_MIN_BALANCE))
        raised[nr++] = "low_code_diversity";
    if (nr)
        hl_msg(HL_LOG_WARN, "cell %s: database codes: %lld distinct (%.2f%%) for %lld label sets, %d of %d bits "
               "constant, bit balance min %.3f mean %.3f", c->label, (long long)distinct, 100 * d.distinct_frac,
               (long long)sets, d.constant_bits, d.bits, d.min_balance, d.mean_balance);
    HL_TRY(put_flag_list(s, raised, nr, c));
    HL_TRY(hl_run_put_num(m, "distinct_frac", d.distinct_frac));
    HL_TRY(hl_run_put_num(m, "min_balance", d.min_balance));
    HL_TRY(hl_run_put_num(m, "mean_balance", d.mean_balance));
    HL_TRY(hl_run_put_int(m, "constant_bits", d.constant_bits));
    HL_TRY(hl_run_put_int(m, "distinct_codes", distinct));
    HL_TRY(hl_run_put_int(m, "label_sets", sets));
    HL_TRY(hl_run_put_node(s, "codes", m));
    m = NULL;
    st = hl_run_put_node(res, "sanity", s);
    s = NULL;
done:
    hl_config_free(s);
    hl_config_free(m);
    free(u);
    return st;
}
