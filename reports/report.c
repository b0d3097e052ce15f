/* reports/report.c — the report of a run directory: read every cells/ * /result.json, aggregate over seeds into
 * tables (reports/table.h) and figures (reports/plot.h), write RUNDIR/report/ (layout and schema: report.h).
 *
 * Files written (each atomically): tables.md and tables.tex (all tables, one after the other), tables.json (a JSON
 * array of the tables), tables_clean.csv, tables_attack_<bits>b.csv and, for bit lengths with targeted attacks,
 * tables_targeted_<bits>b.csv, tables_percept_<bits>b.csv, tables_summary.csv (the paper table: clean mAP and every
 * attack setting run at all attacked bit lengths, one column each) and tables_transfer_*.csv (CSV: one file per
 * table; the attack-side tables are built in report_attack.c, the transfer matrices in report_transfer.c); figures
 * map_vs_bits.{png,pdf} (clean mAP vs bits, one line per method) and, for every (bits, attack, norm) with >= 2
 * numeric ε, mAP(adv) vs ε: map_vs_eps.{png,pdf} when there is one such sweep, else
 * map_vs_eps_<attack>_<norm>_<bits>b.{png,pdf}; PR curves pr_<bits>b.{png,pdf} and the adversarial example grids
 * examples/<grid>.png, listed at the end of tables.md (both in report_figures.c, contracts in report_internal.h).
 * Nothing else is copied; stale files of an older report stay.
 * Rows are methods (sorted), clean column groups bit lengths (ascending), attack column groups (attack, norm, ε)
 * sorted by name, norm and ε value; one attack table per bit length.
 * Best-marking directions: mAP and P@H≤r higher (clean); mAP clean/adv higher (robustness of the hashing method);
 * t-mAP(adv) and TSR lower; PSNR, L-inf and s/query (which describe the attack, not the method) unranked; s/query
 * (metrics.seconds_per_query; missing: a missing cell) hides the std and shows 3 significant digits (spq_opts).
 * Failed cells contribute no sample and a note "seed S failed: ERROR" on every column of their group.
 * Captions: metric names from the cells' conventions (topk, radius; "mixed" -> mAP@R / r), ties and zero-relevant
 * conventions, dataset and protocol when all cells agree, and the number of distinct seeds. */
#include "reports/report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/io/atomic.h"
#include "core/io/json.h"
#include "core/version.h"
#include "reports/plan.h"
#include "reports/plot.h"
#include "core/strbuf.h"
#include "reports/report_html.h"
#include "reports/report_internal.h"
#include "reports/result.h"
#include "reports/sanity.h"
#include "reports/table.h"

typedef hl_report_cell rcell;
typedef hl_report_cells rcells;

static void cells_free(rcells *cs) {
    for (int i = 0; i < cs->n; i++) {
        hl_config_free(cs->c[i].root);
        free(cs->c[i].dir);
        free(cs->c[i].flags);
        free(cs->c[i].evidence);
    }
    free(cs->c);
    memset(cs, 0, sizeof *cs);
}

const char *hl_report_str(const hl_config *map, const char *path, const char *dflt) {
    const hl_config *n = hl_config_path(map, path);
    return n && n->kind == HL_CONFIG_SCALAR ? n->text : dflt;
}

/* One cell through the strict reader (reports/result.h: the runner and `hashlab status` use it too), then its fields
 * (their presence and types are guaranteed by it). */
static hl_status read_cell(const char *path, rcell *c) {
    hl_status st = HL_OK;
    const char *kind, *status;
    hl_result r;
    memset(c, 0, sizeof *c);
    HL_TRY(hl_result_read(path, NULL, NULL, &r));
    c->root = r.root;
    HL_TRY(hl_config_get_string(c->root, "kind", &kind));
    HL_TRY(hl_config_get_string(c->root, "status", &status));
    c->transfer = !strcmp(kind, "transfer");
    c->attack = kind[0] == 'a' || c->transfer;
    c->done = status[0] == 'd';
    HL_TRY(hl_config_get_string(c->root, "method", &c->method));
    HL_TRY(hl_config_get_int_range(c->root, "bits", 1, 1 << 20, &c->bits));
    HL_TRY(hl_config_get_int(c->root, "seed", &c->seed));
    c->error = hl_report_str(c->root, "error", "failed (no message)");
    c->metrics = hl_config_get(c->root, "metrics");
    if (c->transfer) {
        HL_TRY(hl_config_get_string(c->root, "target_method", &c->target_method));
        HL_TRY(hl_config_get_int_range(c->root, "target_bits", 1, 1 << 20, &c->target_bits));
    }
    if (c->attack) {
        HL_TRY(hl_config_get_string(c->root, "attack", &c->attack_name));
        c->norm = hl_report_str(c->root, "norm", hl_report_str(c->root, "attack_config.norm", "?"));
        c->eps_text = hl_report_str(c->root, "eps", hl_report_str(c->root, "attack_config.eps", "?"));
        hl_fraction f;
        const char *why;
        c->eps = hl_config_parse_fraction(c->eps_text, &f, &why) == HL_OK ? f.value : NAN;
    }
done:
    if (st < 0) {
        hl_config_free(c->root);
        c->root = NULL;
    }
    return st;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads RUNDIR/cells/ * /result.json in name order, only the cells of the plan when RUNDIR has one (reports/plan.h):
 * *stale counts the results left out, *no_plan says there was none. */
static hl_status read_cells(const char *rundir, rcells *cs, int64_t *stale, bool *no_plan) {
    hl_status st = HL_OK;
    char (*plan)[65] = NULL;
    int64_t nplan = 0;
    *stale = 0, *no_plan = false;
    if ((st = hl_plan_read(rundir, &plan, &nplan)) == HL_ENOTFOUND) {
        hl_error_clear();
        st = HL_OK, *no_plan = true;
    }
    if (st < 0) return st;
    char *dpath = NULL, **names = NULL, path[4096];
    int nn = 0, capn = 0, nbad = 0;
    hl_strbuf bad = {0};
    DIR *d = NULL;
    size_t dl = strlen(rundir) + 8;
    if (!(dpath = malloc(dl))) return hl_error_set(HL_ENOMEM, "report: out of memory");
    snprintf(dpath, dl, "%s/cells", rundir);
    if (!(d = opendir(dpath))) {
        st = hl_error_set(errno == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s: cannot open the cells directory: %s "
                          "(is '%s' a run directory?)", dpath, strerror(errno), rundir);
        goto done;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (nn == capn) {
            capn = capn ? 2 * capn : 16;
            char **nb = realloc(names, (size_t)capn * sizeof *nb);
            if (!nb) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
            names = nb;
        }
        size_t l = strlen(e->d_name) + 1;
        if (!(names[nn] = malloc(l))) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
        memcpy(names[nn++], e->d_name, l);
    }
    if (nn) qsort(names, (size_t)nn, sizeof *names, cmp_str);
    for (int i = 0; i < nn; i++) {
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s/result.json", dpath, names[i]) >= (int)sizeof path) continue;
        if (lstat(path, &sb) != 0) continue; /* no result: a pending cell (anything else goes to the reader) */
        if (!*no_plan && !hl_plan_has((const char (*)[65])plan, nplan, names[i])) { /* not a cell of the suite now */
            ++*stale;
            continue;
        }
        if (cs->n == cs->cap) {
            int cap = cs->cap ? 2 * cs->cap : 16;
            rcell *nc = realloc(cs->c, (size_t)cap * sizeof *nc);
            if (!nc) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
            cs->c = nc;
            cs->cap = cap;
        }
        if ((st = read_cell(path, &cs->c[cs->n])) == HL_EFORMAT) { /* collect every invalid file, then refuse */
            if (nbad++ < 3) hl_strbuf_puts(&bad, "\n  "), hl_strbuf_puts(&bad, hl_error_last());
            st = HL_OK;
            continue;
        }
        if (st < 0) {
            if (!strstr(hl_error_last(), path)) hl_error_wrap("%s", path);
            goto done;
        }
        size_t dl2 = strlen(dpath) + strlen(names[i]) + 2;
        if (!(cs->c[cs->n].dir = malloc(dl2))) {
            hl_config_free(cs->c[cs->n].root);
            st = hl_error_set(HL_ENOMEM, "report: out of memory");
            goto done;
        }
        snprintf(cs->c[cs->n].dir, dl2, "%s/%s", dpath, names[i]);
        cs->n++;
    }
    if (nbad)
        st = hl_error_set(HL_EFORMAT, "%s: %d invalid result.json file%s, so no report: `hashlab run` sets them aside "
                          "(result.json.bad) and runs those cells again%s%s", dpath, nbad, nbad == 1 ? "" : "s",
                          bad.p ? bad.p : "", nbad > 3 ? "\n  ..." : "");
    else if (cs->n == 0)
        st = hl_error_set(HL_ENOTFOUND, "%s: no cell has a result.json (has the suite run yet?)%s", dpath,
                          *stale ? "; every result there is stale (not a cell of the suite as last run, plan.json)" : "");
done:
    free(plan);
    free(bad.p);
    if (d) closedir(d);
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
    free(dpath);
    return st;
}

/* True when text is a fraction in its canonical (reduced) form: "16/85", "31/1000", "8". */
static bool eps_canonical(const char *text) {
    hl_fraction f;
    const char *why;
    char buf[64];
    return hl_config_parse_fraction(text, &f, &why) == HL_OK && !strcmp(hl_fraction_format(&f, buf, sizeof buf), text);
}

/* ε as written ("48/255", "0.031") in every cell of one attack and norm with the same ε value: results written
 * before result.json said ε as written carry the canonical text ("16/85", "31/1000") under the same cell keys, so
 * a run directory may hold both; the tables and figures would otherwise split one setting in two. */
static void unify_eps_texts(rcells *cs) {
    for (int i = 0; i < cs->n; i++) {
        rcell *a = &cs->c[i];
        if (!a->attack || isnan(a->eps)) continue;
        for (int j = 0; j < cs->n; j++) {
            rcell *b = &cs->c[j];
            if (b->attack && b->eps == a->eps && strcmp(a->eps_text, b->eps_text) != 0 &&
                !strcmp(a->attack_name, b->attack_name) && !strcmp(a->norm, b->norm) && eps_canonical(b->eps_text) &&
                !eps_canonical(a->eps_text))
                b->eps_text = a->eps_text; /* borrowed from a's tree, which lives as long as b's */
        }
    }
}

/* Moves the transfer cells of cs into xs (they have their own tables; every other table reads train and attack
 * cells only). */
static hl_status split_transfer(rcells *cs, rcells *xs) {
    int k = 0;
    for (int i = 0; i < cs->n; i++) {
        if (!cs->c[i].transfer) {
            cs->c[k++] = cs->c[i];
            continue;
        }
        if (xs->n == xs->cap) {
            int cap = xs->cap ? 2 * xs->cap : 16;
            rcell *nc = realloc(xs->c, (size_t)cap * sizeof *nc);
            if (!nc) {
                for (int j = i; j < cs->n; j++) cs->c[k++] = cs->c[j]; /* keep everything owned by cs */
                cs->n = k;
                return hl_error_set(HL_ENOMEM, "report: out of memory");
            }
            xs->c = nc, xs->cap = cap;
        }
        xs->c[xs->n++] = cs->c[i];
    }
    cs->n = k;
    return HL_OK;
}

/* ---- small sets of strings and numbers ---- */

typedef struct strset {
    const char *v[256];
    int n;
} strset;

static void strset_add(strset *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0) return;
    if (s->n < (int)HL_ARRAY_LEN(s->v)) s->v[s->n++] = x;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct bits of the cells of one kind, ascending. */
static int distinct_bits(const rcells *cs, bool attack, int64_t *out, int max) {
    int n = 0;
    for (int i = 0; i < cs->n; i++) {
        if (cs->c[i].attack != attack) continue;
        bool seen = false;
        for (int j = 0; j < n; j++) seen |= out[j] == cs->c[i].bits;
        if (!seen && n < max) out[n++] = cs->c[i].bits;
    }
    qsort(out, (size_t)n, sizeof *out, cmp_i64);
    return n;
}

/* Sorted distinct methods of the cells of one kind (and bits, when bits > 0). */
static void methods_of(const rcells *cs, bool attack, int64_t bits, strset *m) {
    m->n = 0;
    for (int i = 0; i < cs->n; i++)
        if (cs->c[i].attack == attack && (bits <= 0 || cs->c[i].bits == bits)) strset_add(m, cs->c[i].method);
    qsort(m->v, (size_t)m->n, sizeof *m->v, cmp_str);
}

/* The value of conventions.KEY shared by all cells, "mixed" when they differ, NULL when no cell has it. */
static const char *common_conv(const rcells *cs, const char *key) {
    char path[64];
    const char *v = NULL;
    snprintf(path, sizeof path, "conventions.%s", key);
    for (int i = 0; i < cs->n; i++) {
        const char *x = hl_report_str(cs->c[i].root, path, NULL);
        if (!x) continue;
        if (!v) v = x;
        else if (strcmp(v, x) != 0) return "mixed";
    }
    return v;
}

static const char *common_field(const rcells *cs, const char *key) {
    const char *v = NULL;
    for (int i = 0; i < cs->n; i++) {
        const char *x = hl_report_str(cs->c[i].root, key, NULL);
        if (!x) continue;
        if (!v) v = x;
        else if (strcmp(v, x) != 0) return NULL;
    }
    return v;
}

void hl_report_where(const rcells *cs, char *buf, size_t n) {
    const char *ds = common_field(cs, "dataset"), *pr = common_field(cs, "protocol");
    buf[0] = 0;
    if (ds) snprintf(buf, n, ", %s%s%s%s", ds, pr ? " (" : "", pr ? pr : "", pr ? ")" : "");
}

/* Conventions sentence and seed count for captions, into buf. */
void hl_report_caption(const rcells *cs, bool attack, const char *lead, const char *tail, char *buf, size_t n) {
    const char *ties = common_conv(cs, "ties"), *zr = common_conv(cs, "zero_relevant");
    const char *ds = common_field(cs, "dataset"), *proto = common_field(cs, "protocol");
    strset seeds = {.n = 0};
    char sbuf[32][24];
    for (int i = 0; i < cs->n && seeds.n < 32; i++) {
        if (cs->c[i].attack != attack) continue;
        snprintf(sbuf[seeds.n], sizeof sbuf[0], "%lld", (long long)cs->c[i].seed);
        int before = seeds.n;
        strset_add(&seeds, sbuf[before]);
    }
    char where[256] = "", tie[96] = "", zero[96] = "";
    if (ds) snprintf(where, sizeof where, " on %s%s%s%s", ds, proto ? " (" : "", proto ? proto : "", proto ? " protocol)" : "");
    if (ties) snprintf(tie, sizeof tie, strcmp(ties, "index") == 0 ? "; Hamming ties broken by database index"
                                        : "; ties: %s", ties);
    if (zr) snprintf(zero, sizeof zero, "%s", strcmp(zr, "count") == 0 ? "; queries with no relevant item count as 0"
                                         : strcmp(zr, "skip") == 0 ? "; queries with no relevant item are skipped"
                                                                   : "; queries with no relevant item: mixed");
    snprintf(buf, n, "%s%s%s%s; %s; mean ± std over %d seed%s.", lead, where, tie, zero, tail, seeds.n,
             seeds.n == 1 ? "" : "s");
}

/* Metric of a done cell, or false when absent / not a number. */
bool hl_report_metric(const rcell *c, const char *name, double *v) {
    const hl_config *m = c->metrics ? hl_config_get(c->metrics, name) : NULL;
    return m && m->kind == HL_CONFIG_SCALAR && !m->quoted && hl_config_parse_double(m->text, v);
}

/* Appends "seed S <what>: <text>" to the note of (row, col). */
hl_status hl_report_note(hl_table *t, int row, int col, const rcell *c, const char *what, const char *text) {
    const char *old = t->rows[row].cells[col].note;
    size_t n = (old ? strlen(old) + 2 : 0) + strlen(what) + strlen(text) + 48;
    char *s = malloc(n);
    if (!s) return hl_error_set(HL_ENOMEM, "report: out of memory");
    snprintf(s, n, "%s%sseed %lld %s: %s", old ? old : "", old ? "; " : "", (long long)c->seed, what, text);
    hl_status st = hl_table_set_note(t, row, col, s);
    free(s);
    return st;
}

static int row_of(hl_table *t, const char *method) {
    int r = hl_table_find_row(t, -1, method);
    return r >= 0 ? r : hl_table_add_row(t, -1, method);
}

/* One row per distinct method of the cells of one kind (and bits, when bits > 0), sorted. */
hl_status hl_report_add_method_rows(hl_table *t, const rcells *cs, bool attack, int64_t bits) {
    strset ms;
    methods_of(cs, attack, bits, &ms);
    for (int i = 0; i < ms.n; i++)
        if (row_of(t, ms.v[i]) < 0) return hl_error_set(HL_ENOMEM, "report: out of memory");
    return HL_OK;
}

/* Feeds metric `name` of every cell in `sel` to column col (samples) or its failure to the note. */
hl_status hl_report_feed(hl_table *t, int row, int col, const rcell *c, const char *name) {
    double v;
    if (!c->done) return hl_report_note(t, row, col, c, "failed", c->error);
    if (hl_report_metric(c, name, &v)) return hl_table_add_sample(t, row, col, v);
    /* null: stored as undefined (e.g. PSNR of unchanged images); said in the note, so a mean over fewer seeds than
     * the caption's is never silent. (An absent metric is an older run's: the cell shows as missing.) */
    const hl_config *m = c->metrics ? hl_config_get(c->metrics, name) : NULL;
    if (m && m->kind == HL_CONFIG_NULL) return hl_report_note(t, row, col, c, "undefined", name);
    return HL_OK;
}

hl_status hl_report_feed_headline(hl_table *t, int row, int col, const rcell *c, const char *name) {
    hl_status st = hl_report_feed(t, row, col, c, name);
    if (st < 0 || !c->done || !c->flags || row < 0 || col < 0) return st;
    return hl_report_note(t, row, col, c, "sanity", c->flags);
}

/* ---- tables ---- */

void hl_report_metric_names(const rcell *c, hl_report_topk_names *nm) {
    const char *topk = hl_report_str(c->root, "conventions.topk", "1000"), *r = hl_report_str(c->root, "conventions.radius", "2");
    snprintf(nm->map, sizeof nm->map, "mAP@%s", topk);
    snprintf(nm->prec, sizeof nm->prec, "P@H<=%s", r);
}

const hl_table_col_opts hl_report_pct_hi = {.precision = 2, .percent = true, .better = HL_TABLE_HIGHER};
const hl_table_col_opts hl_report_pct_lo = {.precision = 2, .percent = true, .better = HL_TABLE_LOWER};
const hl_table_col_opts hl_report_plain2 = {.precision = 2};

/* " Training data: train: ddsh, dpsh; database: adsh; train+unlabelled: abml, ssah." from the train cells' fit_on
 * (the lab records which images each method learned from); empty when no cell says. */
static void fit_on_sentence(const rcells *cs, char *buf, size_t n) {
    strset kinds = {.n = 0};
    buf[0] = 0;
    for (int i = 0; i < cs->n; i++)
        if (!cs->c[i].attack) {
            const char *f = hl_report_str(cs->c[i].root, "fit_on", NULL);
            if (f) strset_add(&kinds, f);
        }
    if (!kinds.n) return;
    size_t len = (size_t)snprintf(buf, n, " Training data:");
    for (int k = 0; k < kinds.n && len < n; k++) {
        strset ms = {.n = 0};
        for (int i = 0; i < cs->n; i++) {
            const char *f = cs->c[i].attack ? NULL : hl_report_str(cs->c[i].root, "fit_on", NULL);
            if (f && strcmp(f, kinds.v[k]) == 0) strset_add(&ms, cs->c[i].method);
        }
        qsort(ms.v, (size_t)ms.n, sizeof *ms.v, cmp_str);
        len += (size_t)snprintf(buf + len, n - len, "%s %s:", k ? ";" : "", kinds.v[k]);
        for (int j = 0; j < ms.n && len < n; j++)
            len += (size_t)snprintf(buf + len, n - len, "%s %s", j ? "," : "", ms.v[j]);
    }
    if (len < n) snprintf(buf + len, n - len, ".");
}

static hl_status clean_table(const rcells *cs, const char *map_name, const char *radius, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    int64_t bits[64];
    int nb = distinct_bits(cs, false, bits, 64);
    char cap[2048], lead[256], cmap[80], cprec[80], fit[1024];
    const char *nq = NULL; /* the train cells' query count (every query of the split), when they agree */
    for (int i = 0; i < cs->n; i++) {
        const char *x = cs->c[i].attack ? NULL : hl_report_str(cs->c[i].root, "queries", NULL);
        if (x && !nq) nq = x;
        else if (x && strcmp(x, nq)) {
            nq = NULL;
            break;
        }
    }
    snprintf(lead, sizeof lead, "%s and P@H≤%s in %% over %s%s queries", map_name, radius, nq ? "all " : "the",
             nq ? nq : "");
    hl_report_caption(cs, false, lead, "higher is better, best in bold", cap, sizeof cap);
    fit_on_sentence(cs, fit, sizeof fit);
    if (strlen(cap) + strlen(fit) < sizeof cap) strcat(cap, fit);
    HL_TRY(hl_table_create(&t, "Clean retrieval", cap));
    HL_TRY(hl_table_set_label(t, "tab:clean"));
    snprintf(cmap, sizeof cmap, "%s (%%)", map_name);
    snprintf(cprec, sizeof cprec, "P@H≤%s (%%)", radius);
    for (int b = 0; b < nb; b++) {
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)bits[b]);
        int gi = hl_table_add_col_group(t, g);
        if (gi < 0 || hl_table_add_col(t, gi, cmap, hl_report_pct_hi) < 0 ||
            hl_table_add_col(t, gi, cprec, hl_report_pct_hi) < 0) {
            st = hl_error_set(HL_ENOMEM, "report: out of memory");
            goto done;
        }
    }
    HL_TRY(hl_report_add_method_rows(t, cs, false, 0));
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (c->attack) continue;
        hl_report_topk_names nm;
        hl_report_metric_names(c, &nm);
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)c->bits);
        int gi = hl_table_find_col_group(t, g), r = hl_table_find_row(t, -1, c->method);
        HL_TRY(hl_report_feed(t, r, hl_table_find_col(t, gi, cmap), c, nm.map));
        HL_TRY(hl_report_feed(t, r, hl_table_find_col(t, gi, cprec), c, nm.prec));
    }
done:
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

/* One attack setting (a column group of an attack table). */
#define MAX_ATTACK_BITS 16 /* attack tables (more bit lengths are left out) */
#define MAX_TRANSFER_TABLES 32

static hl_status join_path(char *buf, size_t n, const char *dir, const char *name) {
    if (snprintf(buf, n, "%s/%s", dir, name) >= (int)n) return hl_error_set(HL_EINVAL, "%s: path too long", dir);
    return HL_OK;
}

/* Writes all tables in one file (md, tex: one after the other, blank line between; json: an array). */
static hl_status save_combined(hl_table **ts, int nt, hl_table_format fmt, const char *path, const char *tail) {
    hl_status st = HL_OK;
    char *all = NULL, *one = NULL;
    size_t len = 0;
    bool json = fmt == HL_TABLE_JSON;
    if (!(all = malloc(3))) return hl_error_set(HL_ENOMEM, "report: out of memory");
    len = (size_t)snprintf(all, 3, "%s", json ? "[\n" : "");
    for (int i = 0; i < nt; i++) {
        HL_TRY(hl_table_to_string(ts[i], fmt, &one));
        size_t l = strlen(one);
        while (json && l && one[l - 1] == '\n') l--;
        char *na = realloc(all, len + l + 4);
        if (!na) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
        all = na;
        if (i && !json) all[len++] = '\n';
        memcpy(all + len, one, l);
        len += l;
        if (json) len += (size_t)snprintf(all + len, 3, "%s", i + 1 < nt ? ",\n" : "\n");
        free(one);
        one = NULL;
    }
    if (json) {
        char *na = realloc(all, len + 3);
        if (!na) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
        all = na;
        all[len++] = ']', all[len++] = '\n';
    } else if (tail) { /* md: a final section after a blank line */
        size_t l = strlen(tail);
        char *na = realloc(all, len + l + 2);
        if (!na) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
        all = na;
        all[len++] = '\n';
        memcpy(all + len, tail, l);
        len += l;
    }
    st = hl_atomic_write_file(path, all, len);
done:
    free(one);
    free(all);
    return st;
}

hl_status hl_report_build(const char *rundir, const char *const *formats, int nformats, hl_report_summary *out) {
    HL_ASSERT(rundir && (formats || nformats == 0) && nformats >= 0, "hl_report_build: bad arguments");
    hl_status st = HL_OK;
    rcells cs = {0}, xs = {0};
    hl_table *tabs[5 * MAX_ATTACK_BITS + 2 + MAX_TRANSFER_TABLES] = {0};
    char csv[5 * MAX_ATTACK_BITS + 2 + MAX_TRANSFER_TABLES][96];
    hl_report_setting sets[MAX_ATTACK_BITS][HL_REPORT_MAX_SETTINGS];
    int nsets[MAX_ATTACK_BITS] = {0}, nt = 0;
    int64_t abits[MAX_ATTACK_BITS];
    bool want[HL_TABLE_FORMAT_COUNT] = {false};
    hl_report_summary sum = {0};
    char dir[4096], path[4096], *examples_md = NULL, *sanity = NULL, *sanity_copy = NULL;
    static hl_report_citekeys citekeys;
    hl_strbuf nofig = {0}; /* figures with nothing to draw, said in tables.md */
    if (out) memset(out, 0, sizeof *out);
    if (!formats) for (int f = 0; f < HL_TABLE_FORMAT_COUNT; f++) want[f] = true;
    for (int i = 0; i < nformats; i++) {
        hl_table_format f;
        HL_TRY(hl_table_format_parse(formats[i], &f));
        want[f] = true;
    }
    HL_TRY(read_cells(rundir, &cs, &sum.cells_stale, &sum.no_plan));
    unify_eps_texts(&cs);
    for (int i = 0; i < cs.n; i++) cs.c[i].done ? sum.cells_done++ : sum.cells_failed++;
    HL_TRY(split_transfer(&cs, &xs));
    HL_TRY(hl_report_sanity_flags(&cs));
    HL_TRY(hl_report_clean_over_attacked(&cs));
    HL_TRY(join_path(dir, sizeof dir, rundir, "report"));
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        st = hl_error_set(HL_EIO, "%s: cannot create the report directory: %s", dir, strerror(errno));
        goto done;
    }
    const char *topk = common_conv(&cs, "topk"), *radius = common_conv(&cs, "radius");
    char map_name[64];
    snprintf(map_name, sizeof map_name, "mAP@%s", topk && strcmp(topk, "mixed") ? topk : "R");
    if (!radius || !strcmp(radius, "mixed")) radius = "r";

    /* figure titles name the data: ", fashion-mnist (cifar10-1)" */
    char where[200];
    hl_report_where(&cs, where, sizeof where);
    int64_t tbits[64];
    int ntb = distinct_bits(&cs, false, tbits, 64);
    if (ntb) {
        snprintf(csv[nt], sizeof csv[nt], "tables_clean.csv");
        HL_TRY(clean_table(&cs, map_name, radius, &tabs[nt++]));
    }
    int nab = distinct_bits(&cs, true, abits, MAX_ATTACK_BITS);
    for (int b = 0; b < nab; b++) {
        snprintf(csv[nt], sizeof csv[nt], "tables_attack_%lldb.csv", (long long)abits[b]);
        HL_TRY(hl_report_attack_table(&cs, abits[b], map_name, &tabs[nt++], sets[b], &nsets[b]));
    }
    HL_TRY(hl_report_summary_table(&cs, map_name, abits, nab, sets, nsets, &tabs[nt]));
    if (tabs[nt]) snprintf(csv[nt++], sizeof csv[0], "tables_summary.csv");
    for (int b = 0; b < nab; b++) {
        HL_TRY(hl_report_rank_table(&cs, abits[b], map_name, sets[b], nsets[b], &tabs[nt]));
        if (tabs[nt]) snprintf(csv[nt++], sizeof csv[0], "tables_rank_%lldb.csv", (long long)abits[b]);
    }
    for (int b = 0; b < nab; b++) {
        HL_TRY(hl_report_defence_table(&cs, abits[b], map_name, sets[b], nsets[b], where, dir, &sum.figures, &tabs[nt]));
        if (tabs[nt]) snprintf(csv[nt++], sizeof csv[0], "tables_defence_%lldb.csv", (long long)abits[b]);
    }
    for (int b = 0; b < nab; b++) {
        bool any = false;
        for (int k = 0; k < nsets[b]; k++) any |= sets[b][k].targeted;
        if (!any) continue;
        snprintf(csv[nt], sizeof csv[nt], "tables_targeted_%lldb.csv", (long long)abits[b]);
        HL_TRY(hl_report_targeted_table(&cs, abits[b], sets[b], nsets[b], &tabs[nt++]));
    }

    for (int b = 0; b < nab; b++) {
        snprintf(csv[nt], sizeof csv[nt], "tables_percept_%lldb.csv", (long long)abits[b]);
        HL_TRY(hl_report_percept_table(&cs, abits[b], sets[b], nsets[b], &tabs[nt++]));
    }
    HL_TRY(hl_report_transfer_tables(&xs, map_name, tabs, csv, (int)HL_ARRAY_LEN(tabs), &nt));

    /* adversarial example grids (copied first: tables.md lists them) */
    int ncopied;
    HL_TRY(hl_report_examples(&cs, dir, &examples_md, &ncopied));
    HL_TRY(hl_report_sanity_md(&cs, &sanity));
    if (sanity && !(sanity_copy = strdup(sanity))) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    if (sanity && examples_md) {
        size_t a = strlen(sanity), b = strlen(examples_md);
        char *both = malloc(a + b + 2);
        if (!both) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
        memcpy(both, sanity, a), both[a] = '\n', memcpy(both + a + 1, examples_md, b + 1);
        free(examples_md);
        examples_md = both;
    } else if (sanity) {
        examples_md = sanity;
        sanity = NULL;
    }

    /* figures: mAP vs bits */
    char ylab[96];
    if (ntb && ntb <= HL_PLOT_MAX_TICKS) {
        double x[HL_PLOT_MAX_TICKS];
        int cols[HL_PLOT_MAX_TICKS];
        char lb[HL_PLOT_MAX_TICKS][24];
        const char *xl[HL_PLOT_MAX_TICKS];
        for (int b = 0; b < ntb; b++) {
            char g[32];
            snprintf(g, sizeof g, "%lld bits", (long long)tbits[b]);
            snprintf(lb[b], sizeof lb[b], "%lld", (long long)tbits[b]);
            x[b] = (double)tbits[b];
            xl[b] = lb[b];
            cols[b] = hl_table_find_col(tabs[0], hl_table_find_col_group(tabs[0], g), tabs[0]->cols[0].name);
        }
        snprintf(ylab, sizeof ylab, "%s clean (%%)", map_name);
        char title[300];
        snprintf(title, sizeof title, "Clean retrieval vs code length%s", where);
        hl_plot_spec s = {.title = title, .x_label = "bits", .y_label = ylab, .legend = true, .grid = true,
                          .log_x = true};
        bool drawn;
        HL_TRY(hl_report_plot_table(tabs[0], cols, x, xl, ntb, &s, dir, "map_vs_bits", &sum.figures, &drawn));
        if (!drawn) hl_strbuf_puts(&nofig, "- map_vs_bits: no train cell has a score\n");
    }
    /* figures: mAP(adv) vs eps, for each (bits, attack, norm) with >= 2 numeric eps, from ε = 0 (clean) */
    int nqual = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < nab; b++)
            for (int k = 0; k < nsets[b];) {
                int e = k, nx = 0;
                while (e < nsets[b] && !strcmp(sets[b][e].attack, sets[b][k].attack) &&
                       !strcmp(sets[b][e].norm, sets[b][k].norm))
                    nx += isfinite(sets[b][e++].eps);
                if (nx >= 2 && pass == 0) nqual++;
                if (nx >= 2 && pass == 1) {
                    char stem[256], a[96], nrm[32];
                    hl_report_safe_name(sets[b][k].attack, a, sizeof a);
                    hl_report_safe_name(sets[b][k].norm, nrm, sizeof nrm);
                    if (nqual == 1) snprintf(stem, sizeof stem, "map_vs_eps");
                    else snprintf(stem, sizeof stem, "map_vs_eps_%s_%s_%lldb", a, nrm, (long long)abits[b]);
                    bool drawn;
                    HL_TRY(hl_report_sweep_figure(&cs, abits[b], sets[b] + k, e - k, map_name, where, dir, stem, &sum.figures,
                                        &drawn));
                    if (!drawn) {
                        hl_strbuf_puts(&nofig, "- "), hl_strbuf_puts(&nofig, stem);
                        hl_strbuf_puts(&nofig, ": no attack cell of the sweep has a score\n");
                    }
                }
                k = e;
            }
    /* figures: PR curves by Hamming radius */
    HL_TRY(hl_report_pr_figures(&cs, dir, &sum.figures));
    /* figures: the attacks' traces */
    HL_TRY(hl_report_trace_figures(&cs, dir, &sum.figures));
    /* figures with nothing to draw: said at the end of tables.md instead of an empty plot; then the stale results */
    if (nofig.n || sum.cells_stale) {
        hl_strbuf tail = {0};
        if (nofig.n) hl_strbuf_puts(&tail, "## Figures not drawn\n\n"), hl_strbuf_put(&tail, nofig.p, nofig.n);
        if (sum.cells_stale) {
            char line[400];
            bool one = sum.cells_stale == 1;
            snprintf(line, sizeof line, "%s## Left out\n\n%lld result%s in cells/ %s of the suite as last run "
                     "(other code, e.g. a method's version, other settings, or another suite sharing the directory; "
                     "plan.json): kept on disk, not in these tables.\n", nofig.n ? "\n" : "", (long long)sum.cells_stale, one ? "" : "s",
                     one ? "is not a cell" : "are not cells");
            hl_strbuf_puts(&tail, line);
        }
        if (examples_md) hl_strbuf_puts(&tail, "\n"), hl_strbuf_puts(&tail, examples_md);
        if (tail.oom) {
            free(tail.p);
            HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
        }
        free(examples_md);
        examples_md = tail.p;
    }
    /* citations: methods.bib (the LaTeX captions cite its keys) */
    int bib_written = 0;
    HL_TRY(join_path(path, sizeof path, dir, "methods.bib"));
    HL_TRY(hl_report_bib(&cs, path, &citekeys, &bib_written));
    sum.tables += bib_written;
    for (int i = 0; i < nt; i++) HL_TRY(hl_report_cite_table(tabs[i], &citekeys));

    /* tables */
    for (int f = 0; f < HL_TABLE_FORMAT_COUNT; f++) {
        if (!want[f] || f == HL_TABLE_HTML) continue; /* html: the report page, index.html, below */
        if (f == HL_TABLE_CSV) {
            hl_config *resolved = NULL;
            const char *suite = "";
            HL_TRY(join_path(path, sizeof path, rundir, "suite.resolved.json"));
            if (hl_json_load_file(path, &resolved) < 0) hl_error_clear();
            else suite = hl_report_str(resolved, "name", "");
            HL_TRY(join_path(path, sizeof path, dir, "results.csv"));
            st = hl_report_results_csv(&cs, &xs, suite, path);
            hl_config_free(resolved);
            if (st < 0) goto done;
            sum.tables++;
            for (int i = 0; i < nt; i++) {
                HL_TRY(join_path(path, sizeof path, dir, csv[i]));
                HL_TRY(hl_table_save(tabs[i], HL_TABLE_CSV, path));
                sum.tables++;
            }
            continue;
        }
        char name[32];
        snprintf(name, sizeof name, "tables%s", hl_table_format_ext((hl_table_format)f));
        HL_TRY(join_path(path, sizeof path, dir, name));
        HL_TRY(save_combined(tabs, nt, (hl_table_format)f, path, f == HL_TABLE_MD ? examples_md : NULL));
        sum.tables++;
    }

    /* the HTML page: every table, figure, example grid, the sanity flags, the suite and the versions */
    if (want[HL_TABLE_HTML]) {
        HL_TRY(hl_report_page(rundir, dir, &cs, (const hl_table *const *)tabs, nt, map_name, sanity_copy));
        sum.tables++;
    }
    if (out) *out = sum;
done:
    free(examples_md);
    free(sanity);
    free(sanity_copy);
    free(nofig.p);
    for (int i = 0; i < nt; i++) hl_table_free(tabs[i]);
    cells_free(&cs);
    cells_free(&xs);
    return st;
}
