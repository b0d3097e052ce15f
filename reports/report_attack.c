/* reports/report_attack.c — the attack-side tables of the report (report_internal.h): per bit length the attack
 * table, the perceptibility-and-cost table and the targeted table, and the robustness summary over bit lengths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_internal.h"

static int cmp_setting(const void *a, const void *b) {
    const hl_report_setting *x = a, *y = b;
    int c = strcmp(x->attack, y->attack);
    if (!c) c = strcmp(x->norm, y->norm);
    if (!c && x->eps != y->eps && !isnan(x->eps) && !isnan(y->eps)) c = x->eps < y->eps ? -1 : 1;
    if (!c) c = strcmp(x->eps_text, y->eps_text);
    return c;
}

/* The row group of a setting: "pgd, linf, ε=8/255", or "prosgan, no ε-ball" for norm none; −1 without memory. */
static int add_setting_group(hl_table *t, const hl_report_setting *a) {
    char name[256];
    if (!strcmp(a->norm, "none")) snprintf(name, sizeof name, "%s, no ε-ball", a->attack);
    else snprintf(name, sizeof name, "%s, %s, ε=%s", a->attack, a->norm, a->eps_text);
    return hl_table_add_row_group(t, name);
}

/* The ms/query column: unranked, no std, every value with 3 significant digits (times span orders of magnitude). */
static const hl_table_col_opts MS_OPTS = {.precision = 3, .sig = 3, .hide_std = true};

static int find_setting(const hl_report_setting *s, int n, const hl_report_cell *c) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].attack, c->attack_name) && !strcmp(s[i].norm, c->norm) && !strcmp(s[i].eps_text, c->eps_text))
            return i;
    return -1;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* How a column is fed from a cell. */
typedef enum col_kind {
    COL_PLAIN,    /* the metric as stored */
    COL_HEADLINE, /* the metric, with the cell's sanity flags as a note */
    COL_MS,       /* seconds_per_query × 1000 */
    COL_DROP      /* relative drop (clean - adv) / clean of the map metric */
} col_kind;

typedef struct col_spec {
    const char *name, *metric; /* metric NULL: the map name (adv) or its "(clean)" */
    hl_table_col_opts opts;
    col_kind kind;
    bool targeted_only; /* only for targeted settings */
} col_spec;

/* Feeds column spec cs of cell c to (row, col). */
static hl_status feed(hl_table *t, int row, int col, const hl_report_cell *c, const col_spec *sp) {
    hl_report_topk_names nm;
    hl_report_metric_names(c, &nm);
    char clean[80];
    snprintf(clean, sizeof clean, "%s(clean)", nm.map);
    const char *metric = sp->metric ? (!strcmp(sp->metric, "(clean)") ? clean : sp->metric) : nm.map;
    double a, b;
    switch (sp->kind) {
    case COL_HEADLINE:
        return hl_report_feed_headline(t, row, col, c, metric);
    case COL_MS:
        if (c->done && hl_report_metric(c, "seconds_per_query", &a)) return hl_table_add_sample(t, row, col, 1000 * a);
        return hl_report_feed(t, row, col, c, "seconds_per_query");
    case COL_DROP:
        if (c->done && hl_report_metric(c, clean, &a) && hl_report_metric(c, nm.map, &b) && a > 0)
            return hl_table_add_sample(t, row, col, (a - b) / a);
        return c->done ? HL_OK : hl_report_feed(t, row, col, c, nm.map);
    default:
        return hl_report_feed(t, row, col, c, metric);
    }
}

/* A per-bit-length table with the attack settings as row groups (set[0..ns), those with `targeted` when
 * targeted_only) and the victims as rows; columns from specs (a targeted_only column is empty for untargeted rows);
 * best marked within each setting. */
static hl_status setting_table(const hl_report_cells *cs, int64_t bits, const hl_report_setting *set, int ns,
                               bool targeted_only, const col_spec *specs, int nspec, const char *title,
                               const char *label, const char *cap, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    int groups[HL_REPORT_MAX_SETTINGS], cols[16];
    HL_TRY(hl_table_create(&t, title, cap));
    HL_TRY(hl_table_set_label(t, label));
    hl_table_set_best_per_row_group(t, true);
    for (int j = 0; j < nspec; j++)
        if ((cols[j] = hl_table_add_col(t, -1, specs[j].name, specs[j].opts)) < 0)
            HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int k = 0; k < ns; k++) {
        groups[k] = -1;
        if (targeted_only && !set[k].targeted) continue;
        if ((groups[k] = add_setting_group(t, &set[k])) < 0) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    }
    /* rows: each setting's victims, sorted by name */
    const char **names = malloc((size_t)HL_MAX(cs->n, 1) * sizeof *names);
    if (!names) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int k = 0; k < ns; k++) {
        int m = 0;
        for (int i = 0; i < cs->n && groups[k] >= 0; i++) {
            const hl_report_cell *c = &cs->c[i];
            if (!c->attack || c->bits != bits || find_setting(set, ns, c) != k) continue;
            bool seen = false;
            for (int j = 0; j < m && !seen; j++) seen = !strcmp(names[j], c->method);
            if (!seen) names[m++] = c->method;
        }
        qsort(names, (size_t)m, sizeof *names, cmp_name);
        for (int j = 0; j < m; j++)
            if (hl_table_add_row(t, groups[k], names[j]) < 0) {
                free(names);
                HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
            }
    }
    free(names);
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (!c->attack || c->bits != bits) continue;
        int k = find_setting(set, ns, c);
        if (k < 0 || groups[k] < 0) continue;
        int r = hl_table_find_row(t, groups[k], c->method);
        for (int j = 0; j < nspec; j++)
            if (!specs[j].targeted_only || set[k].targeted) HL_TRY(feed(t, r, cols[j], c, &specs[j]));
    }
done:
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

hl_status hl_report_attack_table(const hl_report_cells *cs, int64_t bits, const char *map_name, hl_table **out,
                                 hl_report_setting *set, int *nset) {
    int ns = 0;
    char cap[1400], lead[300], title[64], label[64], cclean[80], cadv[80];
    double v;
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (!c->attack || c->bits != bits) continue;
        int k = find_setting(set, ns, c);
        if (k < 0 && ns < HL_REPORT_MAX_SETTINGS) {
            set[ns] =
                (hl_report_setting){.attack = c->attack_name, .norm = c->norm, .eps_text = c->eps_text, .eps = c->eps};
            k = ns++;
        }
        if (k >= 0 && c->done && hl_report_metric(c, "t-mAP@all", &v)) set[k].targeted = true;
        if (k >= 0 && c->done && hl_report_metric(c, "seconds_per_query", &v) && v > 0 &&
            (!set[k].spq_min || v < set[k].spq_min))
            set[k].spq_min = v;
    }
    qsort(set, (size_t)ns, sizeof *set, cmp_setting);
    *nset = ns;
    bool any_targeted = false;
    for (int k = 0; k < ns; k++) any_targeted |= set[k].targeted;
    char nq[48] = "";
    if (cs->attacked_queries > 0) snprintf(nq, sizeof nq, "%lld ", (long long)cs->attacked_queries);
    snprintf(lead, sizeof lead,
             "%s in %% of the %sattacked queries before (clean) and after (adv) each attack, and its relative drop "
             "(clean - adv) / clean",
             map_name, nq);
    hl_report_caption(cs, true, lead,
                      any_targeted
                          ? "adv: higher is better (more robust), t-mAP and TSR@H≤2 (targeted rows): lower is better; "
                            "best in bold within each attack; PSNR (dB) and L-inf (×1/255) on the 8-bit quantised "
                            "adversarial images and ms/query (attack time per query, mean over seeds) not ranked"
                          : "adv: higher is better (more robust), best in bold within each attack; PSNR (dB) and L-inf "
                            "(×1/255) on the 8-bit quantised adversarial images and ms/query (attack time per query, "
                            "mean over seeds) not ranked",
                      cap, sizeof cap);
    snprintf(title, sizeof title, "Attacks, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:attack-%lldb", (long long)bits);
    snprintf(cclean, sizeof cclean, "%s clean (%%)", map_name);
    snprintf(cadv, sizeof cadv, "%s adv (%%)", map_name);
    const hl_table_col_opts plain = {.precision = 2, .percent = true};
    col_spec specs[8];
    int n = 0;
    specs[n++] = (col_spec){cclean, "(clean)", plain, COL_PLAIN, false};
    specs[n++] = (col_spec){cadv, NULL, hl_report_pct_hi, COL_HEADLINE, false};
    specs[n++] = (col_spec){"drop (%)", NULL, hl_report_pct_lo, COL_DROP, false};
    if (any_targeted) {
        specs[n++] = (col_spec){"t-mAP adv (%)", "t-mAP@all", hl_report_pct_lo, COL_HEADLINE, true};
        specs[n++] = (col_spec){"TSR@H≤2 (%)", "TSR@H<=2", hl_report_pct_lo, COL_PLAIN, true};
    }
    specs[n++] = (col_spec){"PSNR", "psnr", hl_report_plain2, COL_PLAIN, false};
    specs[n++] = (col_spec){"L-inf", "linf_255", hl_report_plain2, COL_PLAIN, false};
    specs[n++] = (col_spec){"ms/query", NULL, MS_OPTS, COL_MS, false};
    return setting_table(cs, bits, set, ns, false, specs, n, title, label, cap, out);
}

/* Perceptibility and cost per attack setting at one bit length. Not ranked: a smaller perturbation or a cheaper
 * attack is not "better" without its success next to it (the attack and targeted tables). */
hl_status hl_report_percept_table(const hl_report_cells *cs, int64_t bits, const hl_report_setting *set, int ns,
                                  hl_table **out) {
    char cap[1024], title[80], label[64];
    const hl_table_col_opts P4 = {.precision = 4}, P1 = {.precision = 1};
    const col_spec specs[] = {
        {"perceptibility", "perceptibility", P4, COL_PLAIN, false},
        {"PSNR", "psnr", hl_report_plain2, COL_PLAIN, false},
        {"SSIM", "ssim", P4, COL_PLAIN, false},
        {"L-inf", "linf_255", hl_report_plain2, COL_PLAIN, false},
        {"ms/query", NULL, MS_OPTS, COL_MS, false},
        {"fwd/query", "forwards_per_query", P1, COL_PLAIN, false},
        {"bwd/query", "backwards_per_query", P1, COL_PLAIN, false},
    };
    hl_report_caption(
        cs, true,
        "Perceptibility and cost of each attack on the 8-bit quantised adversarial images: "
        "perceptibility = sqrt of the mean per-image MSE on [0, 1] pixels (ProS-GAN's measure), PSNR (dB), "
        "SSIM (Gaussian window 11, σ 1.5), L-inf (×1/255); attack milliseconds per query and the victim's forward "
        "and backward passes per query (a fitted attack's one-off fit is in result.json, not here)",
        "not ranked", cap, sizeof cap);
    snprintf(title, sizeof title, "Perceptibility and cost, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:percept-%lldb", (long long)bits);
    return setting_table(cs, bits, set, ns, false, specs, (int)HL_ARRAY_LEN(specs), title, label, cap, out);
}

/* Targeted attacks at one bit length: per targeted setting, t-mAP@all of the clean queries (floor), of the 8-bit
 * adversarial queries (headline) and of the float ones, of the target codes themselves (ceiling), the targeted
 * success rates and the victim passes per query. `set` holds the settings found by attack_table. */
hl_status hl_report_targeted_table(const hl_report_cells *cs, int64_t bits, const hl_report_setting *set, int ns,
                                   hl_table **out) {
    char cap[1024], title[64], label[64];
    const hl_table_col_opts plain = {.precision = 2, .percent = true};
    const col_spec specs[] = {
        {"t-mAP clean (%)", "t-mAP@all(clean)", plain, COL_PLAIN, false},
        {"t-mAP adv (%)", "t-mAP@all", hl_report_pct_lo, COL_HEADLINE, false},
        {"t-mAP float (%)", "t-mAP@all(float)", hl_report_pct_lo, COL_PLAIN, false},
        {"t-mAP anchor (%)", "t-mAP@all(anchor)", plain, COL_PLAIN, false},
        {"TSR@H≤0 (%)", "TSR@H<=0", hl_report_pct_lo, COL_PLAIN, false},
        {"TSR@H≤2 (%)", "TSR@H<=2", hl_report_pct_lo, COL_PLAIN, false},
        {"TSR@10-maj (%)", "TSR@10-maj", hl_report_pct_lo, COL_PLAIN, false},
        {"passes/query", "forwards_per_query", hl_report_plain2, COL_PLAIN, false},
    };
    hl_report_caption(
        cs, true,
        "Targeted attacks: t-mAP@all (relevance judged by the target label) in % of the attacked "
        "queries for the clean queries (floor), the 8-bit quantised adversarial queries (headline) and the float "
        "ones, and the target code itself (ceiling); TSR@H≤r: share of adversarial codes within Hamming radius r "
        "of the target code; TSR@10-maj: share whose top 10 are in majority of the target label",
        "t-mAP adv, float and TSR: lower is better (more robust), best in bold within each attack; floor, ceiling "
        "and victim forward passes per query not ranked",
        cap, sizeof cap);
    snprintf(title, sizeof title, "Targeted attacks, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:targeted-%lldb", (long long)bits);
    return setting_table(cs, bits, set, ns, true, specs, (int)HL_ARRAY_LEN(specs), title, label, cap, out);
}

/* The paper table: rows methods, one column group per bit length with the clean mAP and, for every attack setting
 * run at every attacked bit length (sets[b][0..nsets[b]) of attack_table), mAP(adv) for untargeted settings or
 * t-mAP@all for targeted ones. Returns *out NULL when no setting is common to all bit lengths. */
static bool same_setting(const hl_report_setting *a, const hl_report_setting *b) {
    return !strcmp(a->attack, b->attack) && !strcmp(a->norm, b->norm) && !strcmp(a->eps_text, b->eps_text);
}

/* Summary column of an attack setting: "pgd 8/255 (%)", "dhta 8/255 t-mAP (%)", "pgd L2 1/2 (%)",
 * "prosgan unbounded t-mAP (%)" (norm none). */
static void summary_col(const hl_report_setting *a, char *buf, size_t n) {
    const char *t = a->targeted ? " t-mAP" : "";
    if (!strcmp(a->norm, "none"))
        snprintf(buf, n, "%s unbounded%s (%%)", a->attack, t);
    else if (!strcmp(a->norm, "l2"))
        snprintf(buf, n, "%s L2 %s%s (%%)", a->attack, a->eps_text, t);
    else
        snprintf(buf, n, "%s %s%s (%%)", a->attack, a->eps_text, t);
}

/* The worst-case column: for each (model, bit length, seed) the lowest headline score of its done untargeted attack
 * cells at wc's norm and ε. */
static hl_status worst_case(hl_table *t, const hl_report_cells *cs, const hl_report_setting *wc, const char *wcol) {
    double v;
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (!c->attack || !c->done || strcmp(c->norm, wc->norm) || strcmp(c->eps_text, wc->eps_text) ||
            hl_report_metric(c, "t-mAP@all", &v))
            continue;
        bool first = true; /* the first such cell of its (model, bits, seed) computes the minimum */
        for (int j = 0; j < i && first; j++) {
            const hl_report_cell *o = &cs->c[j];
            first = !(o->attack && o->done && !strcmp(o->method, c->method) && o->bits == c->bits &&
                      o->seed == c->seed && !strcmp(o->norm, wc->norm) && !strcmp(o->eps_text, wc->eps_text) &&
                      !hl_report_metric(o, "t-mAP@all", &v));
        }
        if (!first) continue;
        hl_report_topk_names nm;
        hl_report_metric_names(c, &nm);
        double lo = INFINITY;
        for (int j = i; j < cs->n; j++) {
            const hl_report_cell *o = &cs->c[j];
            if (o->attack && o->done && !strcmp(o->method, c->method) && o->bits == c->bits && o->seed == c->seed &&
                !strcmp(o->norm, wc->norm) && !strcmp(o->eps_text, wc->eps_text) &&
                !hl_report_metric(o, "t-mAP@all", &v) && hl_report_metric(o, nm.map, &v) && v < lo)
                lo = v;
        }
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)c->bits);
        int gi = hl_table_find_col_group(t, g), r = hl_table_find_row(t, -1, c->method);
        if (gi >= 0 && r >= 0 && isfinite(lo)) {
            hl_status st = hl_table_add_sample(t, r, hl_table_find_col(t, gi, wcol), lo);
            if (st < 0) return st;
        }
    }
    return HL_OK;
}

hl_status hl_report_summary_table(const hl_report_cells *cs, const char *map_name, const int64_t *abits, int nab,
                                  hl_report_setting (*sets)[HL_REPORT_MAX_SETTINGS], const int *nsets, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    char cap[1024], lead[512], col[256];
    int common[HL_REPORT_MAX_SETTINGS], nc = 0;
    *out = NULL;
    if (nab == 0) return HL_OK;
    for (int k = 0; k < nsets[0]; k++) {
        bool all = true;
        for (int b = 1; b < nab && all; b++) {
            bool found = false;
            for (int j = 0; j < nsets[b] && !found; j++)
                found = same_setting(&sets[0][k], &sets[b][j]);
            all = found;
        }
        if (all) common[nc++] = k;
    }
    if (!nc) return HL_OK;
    /* the worst case: per model and seed, the lowest score over the untargeted attacks at one threat (the `auto`
     * ensemble's if the summary has one, else the ε most of its untargeted settings share) */
    const hl_report_setting *wc = NULL;
    int best_count = 0;
    for (int j = 0; j < nc; j++) {
        const hl_report_setting *a = &sets[0][common[j]];
        if (a->targeted || !strcmp(a->norm, "none")) continue;
        int count = 0;
        for (int i = 0; i < nc; i++) {
            const hl_report_setting *o = &sets[0][common[i]];
            count += !o->targeted && !strcmp(o->norm, a->norm) && !strcmp(o->eps_text, a->eps_text);
        }
        if (!strcmp(a->attack, "auto")) count += 1000;
        if (count > best_count) best_count = count, wc = a;
    }
    char wcol[160] = "";
    if (wc) snprintf(wcol, sizeof wcol, "worst case %s %s (%%)", wc->norm, wc->eps_text);
    snprintf(lead, sizeof lead,
             "Clean %s and, per attack, %s of the adversarial queries (untargeted; higher "
             "is more robust) or t-mAP@all (targeted; lower is more robust), in %%",
             map_name, map_name);
    char tail[600], clean_col[64], nq[120] = "";
    if (cs->attacked_queries > 0)
        snprintf(nq, sizeof nq, "every number is over the same %lld attacked queries (clean included); ",
                 (long long)cs->attacked_queries);
    snprintf(clean_col, sizeof clean_col, "clean (%%)");
    snprintf(tail, sizeof tail, "%s8-bit quantised adversarial images; best in bold%s%s%s%s", nq,
             wc ? "; worst case: per model and seed the lowest score over every untargeted attack at " : "",
             wc ? wc->norm : "", wc ? " ε=" : "", wc ? wc->eps_text : "");
    hl_report_caption(cs, true, lead, tail, cap, sizeof cap);
    HL_TRY(hl_table_create(&t, "Robustness summary", cap));
    HL_TRY(hl_table_set_label(t, "tab:summary"));
    hl_table_set_latex_wide(t, true);
    for (int b = 0; b < nab; b++) {
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)abits[b]);
        int gi = hl_table_add_col_group(t, g);
        bool ok = gi >= 0 && hl_table_add_col(t, gi, clean_col, hl_report_pct_hi) >= 0;
        for (int j = 0; ok && j < nc; j++) {
            const hl_report_setting *a = &sets[0][common[j]];
            summary_col(a, col, sizeof col);
            ok = hl_table_add_col(t, gi, col, a->targeted ? hl_report_pct_lo : hl_report_pct_hi) >= 0;
        }
        if (ok && wc) ok = hl_table_add_col(t, gi, wcol, hl_report_pct_hi) >= 0;
        if (!ok) {
            st = hl_error_set(HL_ENOMEM, "report: out of memory");
            goto done;
        }
    }
    HL_TRY(hl_report_add_method_rows(t, cs, false, 0)); /* every method, the clean-only baselines too */
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)c->bits);
        int gi = hl_table_find_col_group(t, g), r = hl_table_find_row(t, -1, c->method);
        if (gi < 0 || r < 0) continue; /* bit lengths or methods without attacks */
        hl_report_topk_names nm;
        hl_report_metric_names(c, &nm);
        if (!c->attack) {
            /* like for like: the clean score over the attacked queries only */
            int cc = hl_table_find_col(t, gi, clean_col);
            if (!c->done) HL_TRY(hl_report_feed(t, r, cc, c, nm.map));
            else if (isfinite(c->clean_attacked)) HL_TRY(hl_table_add_sample(t, r, cc, c->clean_attacked));
            else HL_TRY(hl_report_note(t, r, cc, c, "clean score over the attacked queries unknown",
                                       "no per_query.csv"));
            continue;
        }
        for (int j = 0; j < nc; j++) {
            const hl_report_setting *a = &sets[0][common[j]];
            if (strcmp(a->attack, c->attack_name) || strcmp(a->norm, c->norm) || strcmp(a->eps_text, c->eps_text))
                continue;
            summary_col(a, col, sizeof col);
            HL_TRY(hl_report_feed_headline(t, r, hl_table_find_col(t, gi, col), c, a->targeted ? "t-mAP@all" : nm.map));
        }
    }
    if (wc) HL_TRY(worst_case(t, cs, wc, wcol));
done:
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

/* ---- output ---- */

/* ---- ranking by worst case ---- */

#define RANK_SEEDS 32
typedef struct rank_row {
    const char *method;
    int64_t seed[RANK_SEEDS];
    double worst[RANK_SEEDS], clean[RANK_SEEDS]; /* per seed: the lowest attacked score, the clean one */
    int n;
    double mean_worst, mean_clean;
} rank_row;

static int cmp_rank(const void *a, const void *b) {
    const rank_row *x = a, *y = b;
    if (x->mean_worst != y->mean_worst) return x->mean_worst > y->mean_worst ? -1 : 1;
    return strcmp(x->method, y->method);
}

hl_status hl_report_rank_table(const hl_report_cells *cs, int64_t bits, const char *map_name,
                               const hl_report_setting *set, int ns, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    rank_row *rows = NULL;
    int nr = 0, best_count = 0;
    const hl_report_setting *wc = NULL;
    double v;
    *out = NULL;
    for (int k = 0; k < ns; k++) { /* the headline threat */
        if (set[k].targeted || !strcmp(set[k].norm, "none")) continue;
        int count = 0;
        for (int j = 0; j < ns; j++)
            count += !set[j].targeted && !strcmp(set[j].norm, set[k].norm) && !strcmp(set[j].eps_text, set[k].eps_text);
        int score = count + (!strcmp(set[k].attack, "auto") ? 1000 : 0);
        if (score > best_count) best_count = score, wc = &set[k];
    }
    if (!wc || best_count % 1000 < 2) return HL_OK; /* one attack: nothing to rank by */
    int nattacks = best_count % 1000;
    if (!(rows = calloc((size_t)HL_MAX(cs->n, 1), sizeof *rows))) return hl_error_set(HL_ENOMEM, "report: out of memory");
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (!c->attack || !c->done || c->bits != bits || strcmp(c->norm, wc->norm) || strcmp(c->eps_text, wc->eps_text) ||
            hl_report_metric(c, "t-mAP@all", &v))
            continue;
        hl_report_topk_names nm;
        hl_report_metric_names(c, &nm);
        char clean[80];
        snprintf(clean, sizeof clean, "%s(clean)", nm.map);
        double adv, cl;
        if (!hl_report_metric(c, nm.map, &adv) || !hl_report_metric(c, clean, &cl)) continue;
        int r = 0;
        while (r < nr && strcmp(rows[r].method, c->method)) r++;
        if (r == nr) rows[nr++].method = c->method;
        int slot = 0;
        while (slot < rows[r].n && rows[r].seed[slot] != c->seed) slot++;
        if (slot == rows[r].n) {
            if (rows[r].n == RANK_SEEDS) continue; /* more seeds than a table shows */
            rows[r].n++;
            rows[r].seed[slot] = c->seed, rows[r].worst[slot] = INFINITY, rows[r].clean[slot] = cl;
        }
        rows[r].worst[slot] = fmin(rows[r].worst[slot], adv);
    }
    for (int r = 0; r < nr; r++) {
        rows[r].mean_worst = hl_table_mean(rows[r].worst, rows[r].n);
        rows[r].mean_clean = hl_table_mean(rows[r].clean, rows[r].n);
    }
    if (nr < 2) goto done;
    qsort(rows, (size_t)nr, sizeof *rows, cmp_rank);
    char title[80], label[64], cap[1200], lead[400], wcol[120], ccol[96];
    snprintf(title, sizeof title, "Ranking by worst-case robustness, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:rank-%lldb", (long long)bits);
    snprintf(lead, sizeof lead,
             "Victims ranked by their worst case: per seed the lowest %s over the %d untargeted attacks at %s ε=%s, "
             "mean over seeds; clean %s and the relative drop (clean - worst) / clean over the same attacked queries",
             map_name, nattacks, wc->norm, wc->eps_text, map_name);
    hl_report_caption(cs, true, lead, "rank 1 is the most robust", cap, sizeof cap);
    HL_TRY(hl_table_create(&t, title, cap));
    HL_TRY(hl_table_set_label(t, label));
    snprintf(wcol, sizeof wcol, "worst case (%%)");
    snprintf(ccol, sizeof ccol, "clean (%%)");
    const hl_table_col_opts rank_o = {.precision = 0, .hide_std = true}, pct = {.precision = 2, .percent = true};
    int c_rank = hl_table_add_col(t, -1, "rank", rank_o), c_clean = hl_table_add_col(t, -1, ccol, pct),
        c_worst = hl_table_add_col(t, -1, wcol, hl_report_pct_hi),
        c_drop = hl_table_add_col(t, -1, "drop (%)", hl_report_pct_lo);
    if (c_rank < 0 || c_clean < 0 || c_worst < 0 || c_drop < 0) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    for (int r = 0; r < nr; r++) {
        int row = hl_table_add_row(t, -1, rows[r].method);
        if (row < 0) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
        /* rank: 1 + the number of victims with a strictly better mean worst case (ties share a rank) */
        int rank = 1;
        for (int j = 0; j < nr; j++) rank += rows[j].mean_worst > rows[r].mean_worst;
        HL_TRY(hl_table_add_sample(t, row, c_rank, rank));
        for (int s = 0; s < rows[r].n; s++) {
            HL_TRY(hl_table_add_sample(t, row, c_clean, rows[r].clean[s]));
            HL_TRY(hl_table_add_sample(t, row, c_worst, rows[r].worst[s]));
            if (rows[r].clean[s] > 0)
                HL_TRY(hl_table_add_sample(t, row, c_drop, (rows[r].clean[s] - rows[r].worst[s]) / rows[r].clean[s]));
        }
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
