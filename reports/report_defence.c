/* reports/report_defence.c — the defence table and the clean-vs-robust scatter (contracts in report_internal.h).
 *
 * At a bit length whose train cells include defended models (result.json "defence"), every defended model and the
 * undefended model of the same hasher method (its "base": the undefended entry named like the method, else the first
 * undefended one) get a row:
 *   clean (%)           the clean score over the attacked queries (the attack cells' "(clean)" metric)
 *   one column per untargeted attack at the headline threat (the `auto` ensemble's norm and ε, else the most common)
 *   worst case (%)      per seed the lowest of those, mean over seeds
 *   clean cost (pts)    base clean − clean, per seed (positive: the defence costs clean accuracy)
 *   robust gain (pts)   worst − base worst, per seed (positive: the defence helps against the worst attack)
 *   fit (min), passes/img   training wall time and network passes per training image (result.json fit_cost)
 * The scatter (report/defence_scatter_<bits>b.{png,pdf}) puts each row at (clean, worst case): up and right is
 * better.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_internal.h"

#define DEF_SEEDS 32
#define DEF_ATTACKS 12

typedef struct def_row {
    const char *name, *hasher, *defence; /* defence NULL for a base */
    int base;                            /* row index of the base (-1: none, or this is one) */
    int64_t seed[DEF_SEEDS];
    double clean[DEF_SEEDS], worst[DEF_SEEDS], att[DEF_ATTACKS][DEF_SEEDS];
    double fit_s[DEF_SEEDS], passes[DEF_SEEDS];
    int n;
} def_row;

static int seed_slot(def_row *r, int64_t seed) {
    for (int s = 0; s < r->n; s++)
        if (r->seed[s] == seed) return s;
    if (r->n == DEF_SEEDS) return -1;
    int s = r->n++;
    r->seed[s] = seed, r->clean[s] = r->worst[s] = r->fit_s[s] = r->passes[s] = NAN;
    for (int a = 0; a < DEF_ATTACKS; a++) r->att[a][s] = NAN;
    return s;
}

static int find_row(def_row *rows, int nr, const char *name) {
    for (int r = 0; r < nr; r++)
        if (!strcmp(rows[r].name, name)) return r;
    return -1;
}

static const hl_report_setting *headline(const hl_report_setting *set, int ns) {
    const hl_report_setting *wc = NULL;
    int best = 0;
    for (int k = 0; k < ns; k++) {
        if (set[k].targeted || !strcmp(set[k].norm, "none")) continue;
        int count = 0;
        for (int j = 0; j < ns; j++)
            count += !set[j].targeted && !strcmp(set[j].norm, set[k].norm) && !strcmp(set[j].eps_text, set[k].eps_text);
        int score = count + (!strcmp(set[k].attack, "auto") ? 1000 : 0);
        if (score > best) best = score, wc = &set[k];
    }
    return wc;
}

static double finite_mean(const double *v, int n) {
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) s += v[i], k++;
    return k ? s / k : NAN;
}

static double seed_of(const def_row *r, const double *v, int64_t seed) {
    for (int s = 0; s < r->n; s++)
        if (r->seed[s] == seed) return v[s];
    return NAN;
}

hl_status hl_report_defence_table(const hl_report_cells *cs, int64_t bits, const char *map_name,
                                  const hl_report_setting *set, int ns, const char *where, const char *figdir,
                                  int *figures, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    def_row *rows = NULL;
    int nr = 0;
    *out = NULL;
    const hl_report_setting *wc = headline(set, ns);
    if (!wc) return HL_OK;
    const hl_report_setting *cols[DEF_ATTACKS];
    int na = 0;
    for (int k = 0; k < ns && na < DEF_ATTACKS; k++)
        if (!set[k].targeted && !strcmp(set[k].norm, wc->norm) && !strcmp(set[k].eps_text, wc->eps_text))
            cols[na++] = &set[k];
    if (!(rows = calloc((size_t)HL_MAX(cs->n, 1), sizeof *rows))) return hl_error_set(HL_ENOMEM, "report: out of memory");
    /* the train cells: defended models and every undefended one (bases are picked below) */
    bool any_defended = false;
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (c->attack || c->transfer || !c->done || c->bits != bits) continue;
        const char *dm = hl_report_str(c->root, "defence.method", NULL);
        int r = find_row(rows, nr, c->method);
        if (r < 0) {
            r = nr++;
            rows[r].name = c->method, rows[r].defence = dm, rows[r].base = -1;
            rows[r].hasher = hl_report_str(c->root, "hasher_method", c->method);
        }
        any_defended |= dm != NULL;
        int s = seed_slot(&rows[r], c->seed);
        if (s < 0) continue;
        const char *fs = hl_report_str(c->root, "fit_cost.seconds", NULL), *fp = hl_report_str(c->root, "fit_cost.forwards_per_image", NULL);
        if (fs) rows[r].fit_s[s] = strtod(fs, NULL);
        if (fp) rows[r].passes[s] = strtod(fp, NULL);
    }
    if (!any_defended) goto done;
    /* the attack cells at the headline threat */
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        double adv, cl;
        if (!c->attack || !c->done || c->bits != bits || strcmp(c->norm, wc->norm) || strcmp(c->eps_text, wc->eps_text))
            continue;
        int r = find_row(rows, nr, c->method), a = 0;
        while (a < na && strcmp(cols[a]->attack, c->attack_name)) a++;
        if (r < 0 || a == na) continue;
        hl_report_topk_names nm;
        hl_report_metric_names(c, &nm);
        char clean[80];
        snprintf(clean, sizeof clean, "%s(clean)", nm.map);
        if (!hl_report_metric(c, nm.map, &adv)) continue;
        int s = seed_slot(&rows[r], c->seed);
        if (s < 0) continue;
        rows[r].att[a][s] = adv;
        if (hl_report_metric(c, clean, &cl)) rows[r].clean[s] = cl;
        rows[r].worst[s] = isnan(rows[r].worst[s]) ? adv : fmin(rows[r].worst[s], adv);
    }
    /* bases: per hasher method, the undefended row named like it, else the first undefended one */
    for (int r = 0; r < nr; r++) {
        if (!rows[r].defence) continue;
        int b = -1;
        for (int j = 0; j < nr; j++)
            if (!rows[j].defence && !strcmp(rows[j].hasher, rows[r].hasher) &&
                (b < 0 || !strcmp(rows[j].name, rows[r].hasher)))
                b = j;
        rows[r].base = b;
    }
    char title[80], label[64], cap[1400], lead[600];
    snprintf(title, sizeof title, "Defences, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:defence-%lldb", (long long)bits);
    snprintf(lead, sizeof lead,
             "Adversarially trained models (rows with a defence) and the undefended model of the same hasher: clean "
             "%s and %s under every untargeted attack at %s ε=%s over the same attacked queries, their worst case, "
             "the clean cost and the robust gain in points against the undefended model (positive cost: clean "
             "accuracy lost; positive gain: more robust), and the training cost (wall minutes, network passes per "
             "training image)", map_name, map_name, wc->norm, wc->eps_text);
    hl_report_caption(cs, true, lead, "best in bold", cap, sizeof cap);
    HL_TRY(hl_table_create(&t, title, cap));
    HL_TRY(hl_table_set_label(t, label));
    const hl_table_col_opts pts_hi = {.precision = 2, .better = HL_TABLE_HIGHER},
                            pts_lo = {.precision = 2, .better = HL_TABLE_LOWER}, one = {.precision = 1};
    int c_clean = hl_table_add_col(t, -1, "clean (%)", hl_report_pct_hi), c_att[DEF_ATTACKS];
    for (int a = 0; a < na; a++) {
        char nm[96];
        snprintf(nm, sizeof nm, "%s (%%)", cols[a]->attack);
        c_att[a] = hl_table_add_col(t, -1, nm, hl_report_pct_hi);
    }
    int c_worst = hl_table_add_col(t, -1, "worst case (%)", hl_report_pct_hi),
        c_cost = hl_table_add_col(t, -1, "clean cost (pts)", pts_lo),
        c_gain = hl_table_add_col(t, -1, "robust gain (pts)", pts_hi), c_fit = hl_table_add_col(t, -1, "fit (min)", one),
        c_pass = hl_table_add_col(t, -1, "passes/img", one);
    if (c_clean < 0 || c_worst < 0 || c_cost < 0 || c_gain < 0 || c_fit < 0 || c_pass < 0)
        HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    hl_plot_spec sp = {.x_label = "clean mAP (%)", .y_label = "worst-case mAP (%)", .legend = true,
                       .legend_at = HL_PLOT_OUTSIDE_RIGHT, .grid = true};
    double px[HL_PLOT_MAX_SERIES], py[HL_PLOT_MAX_SERIES];
    char ptitle[200];
    snprintf(ptitle, sizeof ptitle, "Clean vs worst case (%s %s), %lld bits%s", wc->norm, wc->eps_text, (long long)bits,
             where);
    sp.title = ptitle;
    for (int pass = 0; pass < 2; pass++) /* bases first, then their defended models */
        for (int r = 0; r < nr; r++) {
            const def_row *x = &rows[r];
            bool is_base = false;
            for (int j = 0; j < nr; j++) is_base |= rows[j].base == r;
            if (pass == 0 ? !is_base : !x->defence) continue;
            int row = hl_table_add_row(t, -1, x->name);
            if (row < 0) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
            const def_row *b = x->base >= 0 ? &rows[x->base] : NULL;
            for (int s = 0; s < x->n; s++) {
                if (isfinite(x->clean[s])) HL_TRY(hl_table_add_sample(t, row, c_clean, x->clean[s]));
                for (int a = 0; a < na; a++)
                    if (isfinite(x->att[a][s])) HL_TRY(hl_table_add_sample(t, row, c_att[a], x->att[a][s]));
                if (isfinite(x->worst[s])) HL_TRY(hl_table_add_sample(t, row, c_worst, x->worst[s]));
                if (isfinite(x->fit_s[s])) HL_TRY(hl_table_add_sample(t, row, c_fit, x->fit_s[s] / 60));
                if (isfinite(x->passes[s])) HL_TRY(hl_table_add_sample(t, row, c_pass, x->passes[s]));
                if (!b) continue;
                double bc = seed_of(b, b->clean, x->seed[s]), bw = seed_of(b, b->worst, x->seed[s]);
                if (isfinite(bc) && isfinite(x->clean[s])) HL_TRY(hl_table_add_sample(t, row, c_cost, 100 * (bc - x->clean[s])));
                if (isfinite(bw) && isfinite(x->worst[s])) HL_TRY(hl_table_add_sample(t, row, c_gain, 100 * (x->worst[s] - bw)));
            }
            double mc = finite_mean(x->clean, x->n), mw = finite_mean(x->worst, x->n);
            if (sp.n_series < HL_PLOT_MAX_SERIES && isfinite(mc) && isfinite(mw)) {
                int k = sp.n_series++;
                px[k] = 100 * mc, py[k] = 100 * mw;
                sp.series[k] = (hl_plot_series){.label = x->name, .n = 1, .x = &px[k], .y = &py[k], .marker = true};
            }
        }
    if (figdir && sp.n_series > 0) {
        char stem[64];
        snprintf(stem, sizeof stem, "defence_scatter_%lldb", (long long)bits);
        HL_TRY(hl_report_plot_both(figdir, stem, &sp, figures));
    }
done:
    free(rows);
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}
