/* reports/report.c — the report of a run directory: read every cells/ * /result.json, aggregate over seeds into
 * tables (reports/table.h) and figures (reports/plot.h), write RUNDIR/report/ (layout and schema: report.h).
 *
 * Files written (each atomically): tables.md and tables.tex (all tables, one after the other), tables.json (a JSON
 * array of the tables), tables_clean.csv, tables_attack_<bits>b.csv and, for bit lengths with targeted attacks,
 * tables_targeted_<bits>b.csv, and tables_summary.csv (the paper table: clean mAP and every attack setting run at all
 * attacked bit lengths, one column each) (CSV: one file per table); figures
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
#include "reports/plot.h"
#include "reports/report_internal.h"
#include "reports/table.h"

typedef hl_report_cell rcell;
typedef hl_report_cells rcells;

static void cells_free(rcells *cs) {
    for (int i = 0; i < cs->n; i++) {
        hl_config_free(cs->c[i].root);
        free(cs->c[i].dir);
    }
    free(cs->c);
    memset(cs, 0, sizeof *cs);
}

static const char *opt_str(const hl_config *map, const char *path, const char *dflt) {
    const hl_config *n = hl_config_path(map, path);
    return n && n->kind == HL_CONFIG_SCALAR ? n->text : dflt;
}

static hl_status read_cell(const char *path, rcell *c) {
    hl_status st = HL_OK;
    const char *kind, *status;
    memset(c, 0, sizeof *c);
    HL_TRY(hl_json_load_file(path, &c->root));
    if (c->root->kind != HL_CONFIG_MAP) {
        st = hl_config_error(c->root, HL_EFORMAT, "result.json must hold an object");
        goto done;
    }
    HL_TRY(hl_config_get_string(c->root, "kind", &kind));
    HL_TRY(hl_config_get_string(c->root, "status", &status));
    if (strcmp(kind, "train") != 0 && strcmp(kind, "attack") != 0 && strcmp(kind, "transfer") != 0) {
        st = hl_config_error(hl_config_get(c->root, "kind"), HL_EFORMAT,
                             "kind: expected train, attack or transfer, got '%s'", kind);
        goto done;
    }
    if (strcmp(status, "done") != 0 && strcmp(status, "failed") != 0) {
        st = hl_config_error(hl_config_get(c->root, "status"), HL_EFORMAT,
                             "status: expected done or failed, got '%s'", status);
        goto done;
    }
    c->transfer = !strcmp(kind, "transfer");
    c->attack = kind[0] == 'a' || c->transfer;
    c->done = status[0] == 'd';
    HL_TRY(hl_config_get_string(c->root, "method", &c->method));
    HL_TRY(hl_config_get_int_range(c->root, "bits", 1, 1 << 20, &c->bits));
    HL_TRY(hl_config_get_int(c->root, "seed", &c->seed));
    c->error = opt_str(c->root, "error", "failed (no message)");
    c->metrics = hl_config_get(c->root, "metrics");
    if (c->done && (!c->metrics || c->metrics->kind != HL_CONFIG_MAP)) {
        st = hl_config_error(c->root, HL_EFORMAT, "a done cell needs a 'metrics' object");
        goto done;
    }
    if (c->transfer) {
        HL_TRY(hl_config_get_string(c->root, "target_method", &c->target_method));
        HL_TRY(hl_config_get_int_range(c->root, "target_bits", 1, 1 << 20, &c->target_bits));
    }
    if (c->attack) {
        HL_TRY(hl_config_get_string(c->root, "attack", &c->attack_name));
        c->norm = opt_str(c->root, "norm", opt_str(c->root, "attack_config.norm", "?"));
        c->eps_text = opt_str(c->root, "eps", opt_str(c->root, "attack_config.eps", "?"));
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

/* Reads RUNDIR/cells/ * /result.json in name order. */
static hl_status read_cells(const char *rundir, rcells *cs) {
    hl_status st = HL_OK;
    char *dpath = NULL, **names = NULL, path[4096];
    int nn = 0, capn = 0;
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
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (cs->n == cs->cap) {
            int cap = cs->cap ? 2 * cs->cap : 16;
            rcell *nc = realloc(cs->c, (size_t)cap * sizeof *nc);
            if (!nc) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
            cs->c = nc;
            cs->cap = cap;
        }
        if ((st = read_cell(path, &cs->c[cs->n])) < 0) {
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
    if (cs->n == 0) st = hl_error_set(HL_ENOTFOUND, "%s: no cell has a result.json (has the suite run yet?)", dpath);
done:
    if (d) closedir(d);
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
    free(dpath);
    return st;
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
        const char *x = opt_str(cs->c[i].root, path, NULL);
        if (!x) continue;
        if (!v) v = x;
        else if (strcmp(v, x) != 0) return "mixed";
    }
    return v;
}

static const char *common_field(const rcells *cs, const char *key) {
    const char *v = NULL;
    for (int i = 0; i < cs->n; i++) {
        const char *x = opt_str(cs->c[i].root, key, NULL);
        if (!x) continue;
        if (!v) v = x;
        else if (strcmp(v, x) != 0) return NULL;
    }
    return v;
}

/* Conventions sentence and seed count for captions, into buf. */
static void caption_of(const rcells *cs, bool attack, const char *lead, const char *tail, char *buf, size_t n) {
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
static bool metric(const rcell *c, const char *name, double *v) {
    const hl_config *m = c->metrics ? hl_config_get(c->metrics, name) : NULL;
    return m && m->kind == HL_CONFIG_SCALAR && !m->quoted && hl_config_parse_double(m->text, v);
}

/* Appends "seed S failed: error" to the note of (row, col). */
static hl_status add_fail_note(hl_table *t, int row, int col, const rcell *c) {
    const char *old = t->rows[row].cells[col].note;
    size_t n = (old ? strlen(old) + 2 : 0) + strlen(c->error) + 48;
    char *s = malloc(n);
    if (!s) return hl_error_set(HL_ENOMEM, "report: out of memory");
    snprintf(s, n, "%s%sseed %lld failed: %s", old ? old : "", old ? "; " : "", (long long)c->seed, c->error);
    hl_status st = hl_table_set_note(t, row, col, s);
    free(s);
    return st;
}

static int row_of(hl_table *t, const char *method) {
    int r = hl_table_find_row(t, -1, method);
    return r >= 0 ? r : hl_table_add_row(t, -1, method);
}

/* One row per distinct method of the cells of one kind (and bits, when bits > 0), sorted. */
static hl_status add_method_rows(hl_table *t, const rcells *cs, bool attack, int64_t bits) {
    strset ms;
    methods_of(cs, attack, bits, &ms);
    for (int i = 0; i < ms.n; i++)
        if (row_of(t, ms.v[i]) < 0) return hl_error_set(HL_ENOMEM, "report: out of memory");
    return HL_OK;
}

/* Feeds metric `name` of every cell in `sel` to column col (samples) or its failure to the note. */
static hl_status feed(hl_table *t, int row, int col, const rcell *c, const char *name) {
    double v;
    if (!c->done) return add_fail_note(t, row, col, c);
    if (metric(c, name, &v)) return hl_table_add_sample(t, row, col, v);
    return HL_OK;
}

/* ---- tables ---- */

typedef struct topk_names {
    char map[64], prec[64];
} topk_names;

static void metric_names(const rcell *c, topk_names *nm) {
    const char *topk = opt_str(c->root, "conventions.topk", "1000"), *r = opt_str(c->root, "conventions.radius", "2");
    snprintf(nm->map, sizeof nm->map, "mAP@%s", topk);
    snprintf(nm->prec, sizeof nm->prec, "P@H<=%s", r);
}

static const hl_table_col_opts PCT_HI = {.precision = 2, .percent = true, .better = HL_TABLE_HIGHER};
static const hl_table_col_opts PCT_LO = {.precision = 2, .percent = true, .better = HL_TABLE_LOWER};
static const hl_table_col_opts PLAIN2 = {.precision = 2};

/* " Training data: train: ddsh, dpsh; database: adsh; train+unlabelled: abml, ssah." from the train cells' fit_on
 * (the lab records which images each method learned from); empty when no cell says. */
static void fit_on_sentence(const rcells *cs, char *buf, size_t n) {
    strset kinds = {.n = 0};
    buf[0] = 0;
    for (int i = 0; i < cs->n; i++)
        if (!cs->c[i].attack) {
            const char *f = opt_str(cs->c[i].root, "fit_on", NULL);
            if (f) strset_add(&kinds, f);
        }
    if (!kinds.n) return;
    size_t len = (size_t)snprintf(buf, n, " Training data:");
    for (int k = 0; k < kinds.n && len < n; k++) {
        strset ms = {.n = 0};
        for (int i = 0; i < cs->n; i++) {
            const char *f = cs->c[i].attack ? NULL : opt_str(cs->c[i].root, "fit_on", NULL);
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
    snprintf(lead, sizeof lead, "%s and P@H≤%s in %%", map_name, radius);
    caption_of(cs, false, lead, "higher is better, best in bold", cap, sizeof cap);
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
        if (gi < 0 || hl_table_add_col(t, gi, cmap, PCT_HI) < 0 || hl_table_add_col(t, gi, cprec, PCT_HI) < 0) {
            st = hl_error_set(HL_ENOMEM, "report: out of memory");
            goto done;
        }
    }
    HL_TRY(add_method_rows(t, cs, false, 0));
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (c->attack) continue;
        topk_names nm;
        metric_names(c, &nm);
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)c->bits);
        int gi = hl_table_find_col_group(t, g), r = hl_table_find_row(t, -1, c->method);
        HL_TRY(feed(t, r, hl_table_find_col(t, gi, cmap), c, nm.map));
        HL_TRY(feed(t, r, hl_table_find_col(t, gi, cprec), c, nm.prec));
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
typedef struct asetting {
    const char *attack, *norm, *eps_text;
    double eps;
    bool targeted;
    int group;
    double spq_min; /* smallest positive seconds_per_query of the setting's cells (0: none) */
} asetting;

static int cmp_setting(const void *a, const void *b) {
    const asetting *x = a, *y = b;
    int c = strcmp(x->attack, y->attack);
    if (!c) c = strcmp(x->norm, y->norm);
    if (!c && x->eps != y->eps && !isnan(x->eps) && !isnan(y->eps)) c = x->eps < y->eps ? -1 : 1;
    if (!c) c = strcmp(x->eps_text, y->eps_text);
    return c;
}

/* The s/query column: unranked, no std, decimals giving 3 significant digits to the smallest positive value (so every
 * mean, which is at least that, shows >= 3 significant digits with one number of decimals per column). */
static hl_table_col_opts spq_opts(double min) {
    int p = min > 0 ? 2 - (int)floor(log10(min)) : 3;
    return (hl_table_col_opts){.precision = HL_MIN(HL_MAX(p, 0), 9), .hide_std = true};
}

static int find_setting(const asetting *s, int n, const rcell *c) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].attack, c->attack_name) && !strcmp(s[i].norm, c->norm) && !strcmp(s[i].eps_text, c->eps_text))
            return i;
    return -1;
}

#define MAX_SETTINGS 64    /* attack settings per bit length (more are left out) */
#define MAX_ATTACK_BITS 16 /* attack tables (more bit lengths are left out) */
#define MAX_TRANSFER_TABLES 32

static hl_status attack_table(const rcells *cs, int64_t bits, const char *map_name, hl_table **out, asetting *set,
                              int *nset) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    int ns = 0;
    char cap[1024], lead[256], title[64], label[64], cclean[80], cadv[80], gname[256];
    double v;
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (!c->attack || c->bits != bits) continue;
        int k = find_setting(set, ns, c);
        if (k < 0 && ns < MAX_SETTINGS) {
            set[ns] = (asetting){.attack = c->attack_name, .norm = c->norm, .eps_text = c->eps_text, .eps = c->eps};
            k = ns++;
        }
        if (k >= 0 && c->done && metric(c, "t-mAP@all", &v)) set[k].targeted = true;
        if (k >= 0 && c->done && metric(c, "seconds_per_query", &v) && v > 0 && (!set[k].spq_min || v < set[k].spq_min))
            set[k].spq_min = v;
    }
    qsort(set, (size_t)ns, sizeof *set, cmp_setting);
    bool any_targeted = false;
    for (int k = 0; k < ns; k++) any_targeted |= set[k].targeted;
    snprintf(lead, sizeof lead, "%s in %% of the attacked queries before (clean) and after (adv) the attack", map_name);
    caption_of(cs, true, lead,
               any_targeted ? "mAP: higher is better (more robust), t-mAP and TSR: lower is better, best in bold; PSNR "
                              "(dB) and L-inf (×1/255) on the 8-bit quantised adversarial images and attack cost "
                              "s/query (seconds per attacked query, mean over seeds), not ranked"
                            : "mAP: higher is better (more robust), best in bold; PSNR (dB) and L-inf (×1/255) on the "
                              "8-bit quantised adversarial images and attack cost s/query (seconds per attacked "
                              "query, mean over seeds), not ranked",
               cap, sizeof cap);
    snprintf(title, sizeof title, "Attacks, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:attack-%lldb", (long long)bits);
    HL_TRY(hl_table_create(&t, title, cap));
    HL_TRY(hl_table_set_label(t, label));
    hl_table_set_latex_wide(t, true);
    snprintf(cclean, sizeof cclean, "%s clean (%%)", map_name);
    snprintf(cadv, sizeof cadv, "%s adv (%%)", map_name);
    for (int k = 0; k < ns; k++) {
        if (!strcmp(set[k].norm, "none")) snprintf(gname, sizeof gname, "%s, no ε-ball", set[k].attack);
        else snprintf(gname, sizeof gname, "%s, %s, ε=%s", set[k].attack, set[k].norm, set[k].eps_text);
        int g = set[k].group = hl_table_add_col_group(t, gname);
        bool ok = g >= 0 && hl_table_add_col(t, g, cclean, PCT_HI) >= 0 && hl_table_add_col(t, g, cadv, PCT_HI) >= 0;
        if (ok && set[k].targeted)
            ok = hl_table_add_col(t, g, "t-mAP adv (%)", PCT_LO) >= 0 && hl_table_add_col(t, g, "TSR@H≤2 (%)", PCT_LO) >= 0;
        ok = ok && hl_table_add_col(t, g, "PSNR", PLAIN2) >= 0 && hl_table_add_col(t, g, "L-inf", PLAIN2) >= 0;
        ok = ok && hl_table_add_col(t, g, "s/query", spq_opts(set[k].spq_min)) >= 0;
        if (!ok) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
    }
    HL_TRY(add_method_rows(t, cs, true, bits));
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (!c->attack || c->bits != bits) continue;
        int k = find_setting(set, ns, c), r = hl_table_find_row(t, -1, c->method);
        if (k < 0) continue; /* beyond MAX_SETTINGS */
        topk_names nm;
        metric_names(c, &nm);
        char clean_key[80];
        snprintf(clean_key, sizeof clean_key, "%s(clean)", nm.map);
        int g = set[k].group;
        HL_TRY(feed(t, r, hl_table_find_col(t, g, cclean), c, clean_key));
        HL_TRY(feed(t, r, hl_table_find_col(t, g, cadv), c, nm.map));
        if (set[k].targeted) {
            HL_TRY(feed(t, r, hl_table_find_col(t, g, "t-mAP adv (%)"), c, "t-mAP@all"));
            HL_TRY(feed(t, r, hl_table_find_col(t, g, "TSR@H≤2 (%)"), c, "TSR@H<=2"));
        }
        HL_TRY(feed(t, r, hl_table_find_col(t, g, "PSNR"), c, "psnr"));
        HL_TRY(feed(t, r, hl_table_find_col(t, g, "L-inf"), c, "linf_255"));
        HL_TRY(feed(t, r, hl_table_find_col(t, g, "s/query"), c, "seconds_per_query"));
    }
done:
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    *nset = ns;
    return st;
}

/* Targeted attacks at one bit length: per targeted setting, t-mAP@all of the clean queries (floor), of the 8-bit
 * adversarial queries (headline) and of the float ones, of the target codes themselves (ceiling), the targeted
 * success rates and the victim passes per query. `set` holds the settings found by attack_table. */
static const hl_table_col_opts PCT_PLAIN = {.precision = 2, .percent = true};

/* Perceptibility and cost per attack setting at one bit length (rows: victims). Not ranked: a smaller perturbation
 * or a cheaper attack is not "better" without its success next to it (the attack and targeted tables). */
static hl_status percept_table(const rcells *cs, int64_t bits, const asetting *set, int ns, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    char cap[1024], title[80], label[64], gname[256];
    static const hl_table_col_opts P4 = {.precision = 4}, P1 = {.precision = 1};
    static const struct { const char *col, *metric; const hl_table_col_opts *o; } cols[] = {
        {"perceptibility", "perceptibility", &P4}, {"PSNR", "psnr", &PLAIN2},   {"SSIM", "ssim", &P4},
        {"L-inf", "linf_255", &PLAIN2},            {"s/query", "seconds_per_query", &P4},
        {"fwd/query", "forwards_per_query", &P1},  {"bwd/query", "backwards_per_query", &P1},
    };
    caption_of(cs, true, "Perceptibility and cost of each attack on the 8-bit quantised adversarial images: "
               "perceptibility = sqrt of the mean per-image MSE on [0, 1] pixels (ProS-GAN's measure), PSNR (dB), "
               "SSIM (Gaussian window 11, σ 1.5), L-inf (×1/255); attack seconds per query and the victim's forward "
               "and backward passes per query (a fitted attack's one-off fit is in result.json, not here)",
               "not ranked", cap, sizeof cap);
    snprintf(title, sizeof title, "Perceptibility and cost, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:percept-%lldb", (long long)bits);
    HL_TRY(hl_table_create(&t, title, cap));
    HL_TRY(hl_table_set_label(t, label));
    hl_table_set_latex_wide(t, true);
    int groups[MAX_SETTINGS];
    for (int k = 0; k < ns; k++) {
        if (!strcmp(set[k].norm, "none")) snprintf(gname, sizeof gname, "%s, no ε-ball", set[k].attack);
        else snprintf(gname, sizeof gname, "%s, %s, ε=%s", set[k].attack, set[k].norm, set[k].eps_text);
        int g = groups[k] = hl_table_add_col_group(t, gname);
        if (g < 0) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
        for (size_t j = 0; j < HL_ARRAY_LEN(cols); j++)
            if (hl_table_add_col(t, g, cols[j].col, *cols[j].o) < 0) {
                st = hl_error_set(HL_ENOMEM, "report: out of memory");
                goto done;
            }
    }
    HL_TRY(add_method_rows(t, cs, true, bits));
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (!c->attack || c->bits != bits) continue;
        int k = find_setting(set, ns, c), r = hl_table_find_row(t, -1, c->method);
        if (k < 0) continue;
        for (size_t j = 0; j < HL_ARRAY_LEN(cols); j++)
            HL_TRY(feed(t, r, hl_table_find_col(t, groups[k], cols[j].col), c, cols[j].metric));
    }
done:
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

static hl_status targeted_table(const rcells *cs, int64_t bits, const asetting *set, int ns, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    char cap[1024], title[64], label[64], gname[256];
    static const struct { const char *col, *metric; int kind; } cols[] = {
        {"t-mAP clean (%)", "t-mAP@all(clean)", 0}, {"t-mAP adv (%)", "t-mAP@all", 1},
        {"t-mAP float (%)", "t-mAP@all(float)", 1}, {"t-mAP anchor (%)", "t-mAP@all(anchor)", 0},
        {"TSR@H≤0 (%)", "TSR@H<=0", 1},            {"TSR@H≤2 (%)", "TSR@H<=2", 1},
        {"TSR@10-maj (%)", "TSR@10-maj", 1},       {"passes/query", "forwards_per_query", 2},
    };
    caption_of(cs, true, "Targeted attacks: t-mAP@all (relevance judged by the target label) in % of the attacked "
               "queries for the clean queries (floor), the 8-bit quantised adversarial queries (headline) and the float "
               "ones, and the target code itself (ceiling); TSR@H≤r: share of adversarial codes within Hamming radius r "
               "of the target code; TSR@10-maj: share whose top 10 are in majority of the target label",
               "t-mAP adv, float and TSR: lower is better (more robust), best in bold; floor, ceiling and victim "
               "forward passes per query not ranked", cap, sizeof cap);
    snprintf(title, sizeof title, "Targeted attacks, %lld bits", (long long)bits);
    snprintf(label, sizeof label, "tab:targeted-%lldb", (long long)bits);
    HL_TRY(hl_table_create(&t, title, cap));
    HL_TRY(hl_table_set_label(t, label));
    hl_table_set_latex_wide(t, true);
    int groups[MAX_SETTINGS];
    for (int k = 0; k < ns; k++) {
        groups[k] = -1;
        if (!set[k].targeted) continue;
        if (!strcmp(set[k].norm, "none")) snprintf(gname, sizeof gname, "%s, no ε-ball", set[k].attack);
        else snprintf(gname, sizeof gname, "%s, %s, ε=%s", set[k].attack, set[k].norm, set[k].eps_text);
        int g = groups[k] = hl_table_add_col_group(t, gname);
        if (g < 0) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
        for (size_t j = 0; j < HL_ARRAY_LEN(cols); j++)
            if (hl_table_add_col(t, g, cols[j].col, cols[j].kind == 1 ? PCT_LO : cols[j].kind == 0 ? PCT_PLAIN
                                                                                                    : PLAIN2) < 0) {
                st = hl_error_set(HL_ENOMEM, "report: out of memory");
                goto done;
            }
    }
    HL_TRY(add_method_rows(t, cs, true, bits));
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        if (!c->attack || c->bits != bits) continue;
        int k = find_setting(set, ns, c), r = hl_table_find_row(t, -1, c->method);
        if (k < 0 || groups[k] < 0) continue;
        for (size_t j = 0; j < HL_ARRAY_LEN(cols); j++)
            HL_TRY(feed(t, r, hl_table_find_col(t, groups[k], cols[j].col), c, cols[j].metric));
    }
done:
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

/* The paper table: rows methods, one column group per bit length with the clean mAP and, for every attack setting
 * run at every attacked bit length (sets[b][0..nsets[b]) of attack_table), mAP(adv) for untargeted settings or
 * t-mAP@all for targeted ones. Returns *out NULL when no setting is common to all bit lengths. */
static bool same_setting(const asetting *a, const asetting *b) {
    return !strcmp(a->attack, b->attack) && !strcmp(a->norm, b->norm) && !strcmp(a->eps_text, b->eps_text);
}

/* Summary column of an attack setting: "pgd 8/255 (%)", "dhta 8/255 t-mAP (%)", "pgd L2 1/2 (%)",
 * "prosgan unbounded t-mAP (%)" (norm none). */
static void summary_col(const asetting *a, char *buf, size_t n) {
    const char *t = a->targeted ? " t-mAP" : "";
    if (!strcmp(a->norm, "none")) snprintf(buf, n, "%s unbounded%s (%%)", a->attack, t);
    else if (!strcmp(a->norm, "l2")) snprintf(buf, n, "%s L2 %s%s (%%)", a->attack, a->eps_text, t);
    else snprintf(buf, n, "%s %s%s (%%)", a->attack, a->eps_text, t);
}

static hl_status summary_table(const rcells *cs, const char *map_name, const int64_t *abits, int nab,
                               asetting (*sets)[MAX_SETTINGS], const int *nsets, hl_table **out) {
    hl_status st = HL_OK;
    hl_table *t = NULL;
    char cap[1024], lead[512], col[256];
    int common[MAX_SETTINGS], nc = 0;
    *out = NULL;
    if (nab == 0) return HL_OK;
    for (int k = 0; k < nsets[0]; k++) {
        bool all = true;
        for (int b = 1; b < nab && all; b++) {
            bool found = false;
            for (int j = 0; j < nsets[b] && !found; j++) found = same_setting(&sets[0][k], &sets[b][j]);
            all = found;
        }
        if (all) common[nc++] = k;
    }
    if (!nc) return HL_OK;
    snprintf(lead, sizeof lead, "Clean %s and, per attack, %s of the adversarial queries (untargeted; higher "
             "is more robust) or t-mAP@all (targeted; lower is more robust), in %%", map_name, map_name);
    caption_of(cs, true, lead, "8-bit quantised adversarial images; best in bold", cap, sizeof cap);
    HL_TRY(hl_table_create(&t, "Robustness summary", cap));
    HL_TRY(hl_table_set_label(t, "tab:summary"));
    hl_table_set_latex_wide(t, true);
    for (int b = 0; b < nab; b++) {
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)abits[b]);
        int gi = hl_table_add_col_group(t, g);
        bool ok = gi >= 0 && hl_table_add_col(t, gi, "clean (%)", PCT_HI) >= 0;
        for (int j = 0; ok && j < nc; j++) {
            const asetting *a = &sets[0][common[j]];
            summary_col(a, col, sizeof col);
            ok = hl_table_add_col(t, gi, col, a->targeted ? PCT_LO : PCT_HI) >= 0;
        }
        if (!ok) { st = hl_error_set(HL_ENOMEM, "report: out of memory"); goto done; }
    }
    HL_TRY(add_method_rows(t, cs, false, 0)); /* every method, the clean-only baselines too */
    for (int i = 0; i < cs->n; i++) {
        const rcell *c = &cs->c[i];
        char g[32];
        snprintf(g, sizeof g, "%lld bits", (long long)c->bits);
        int gi = hl_table_find_col_group(t, g), r = hl_table_find_row(t, -1, c->method);
        if (gi < 0 || r < 0) continue; /* bit lengths or methods without attacks */
        topk_names nm;
        metric_names(c, &nm);
        if (!c->attack) {
            HL_TRY(feed(t, r, hl_table_find_col(t, gi, "clean (%)"), c, nm.map));
            continue;
        }
        for (int j = 0; j < nc; j++) {
            const asetting *a = &sets[0][common[j]];
            if (strcmp(a->attack, c->attack_name) || strcmp(a->norm, c->norm) || strcmp(a->eps_text, c->eps_text))
                continue;
            summary_col(a, col, sizeof col);
            HL_TRY(feed(t, r, hl_table_find_col(t, gi, col), c, a->targeted ? "t-mAP@all" : nm.map));
        }
    }
done:
    if (st < 0) {
        hl_table_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

/* ---- output ---- */

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

/* Line chart of one column per x point (cols[j]) for every row: mean of the row's samples, NaN when missing. */
static hl_status plot_table(const hl_table *t, const int *cols, const double *x, const char *const *xl, int nx,
                            hl_plot_spec *spec, const char *dir, const char *stem, int *figures) {
    double y[HL_PLOT_MAX_SERIES][HL_PLOT_MAX_TICKS];
    spec->n_series = HL_MIN(t->nrows, HL_PLOT_MAX_SERIES);
    spec->n_x_ticks = nx;
    spec->x_tick_at = x;
    spec->x_tick_labels = xl;
    for (int s = 0; s < spec->n_series; s++) {
        int r = t->row_order[s];
        for (int j = 0; j < nx; j++) {
            hl_table_cell_view v;
            hl_table_cell_get(t, r, cols[j], &v);
            y[s][j] = v.n ? v.mean : NAN;
        }
        spec->series[s] = (hl_plot_series){.label = t->rows[r].name, .n = nx, .x = x, .y = y[s], .marker = true};
    }
    return hl_report_plot_both(dir, stem, spec, figures);
}

hl_status hl_report_build(const char *rundir, const char *const *formats, int nformats, hl_report_summary *out) {
    HL_ASSERT(rundir && (formats || nformats == 0) && nformats >= 0, "hl_report_build: bad arguments");
    hl_status st = HL_OK;
    rcells cs = {0}, xs = {0};
    hl_table *tabs[3 * MAX_ATTACK_BITS + 2 + MAX_TRANSFER_TABLES] = {0};
    char csv[3 * MAX_ATTACK_BITS + 2 + MAX_TRANSFER_TABLES][96];
    asetting sets[MAX_ATTACK_BITS][MAX_SETTINGS];
    int nsets[MAX_ATTACK_BITS] = {0}, nt = 0;
    int64_t abits[MAX_ATTACK_BITS];
    bool want[HL_TABLE_FORMAT_COUNT] = {false};
    hl_report_summary sum = {0};
    char dir[4096], path[4096], *examples_md = NULL;
    if (out) memset(out, 0, sizeof *out);
    if (!formats) for (int f = 0; f < HL_TABLE_FORMAT_COUNT; f++) want[f] = true;
    for (int i = 0; i < nformats; i++) {
        hl_table_format f;
        HL_TRY(hl_table_format_parse(formats[i], &f));
        want[f] = true;
    }
    HL_TRY(read_cells(rundir, &cs));
    for (int i = 0; i < cs.n; i++) cs.c[i].done ? sum.cells_done++ : sum.cells_failed++;
    HL_TRY(split_transfer(&cs, &xs));
    HL_TRY(join_path(dir, sizeof dir, rundir, "report"));
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        st = hl_error_set(HL_EIO, "%s: cannot create the report directory: %s", dir, strerror(errno));
        goto done;
    }
    const char *topk = common_conv(&cs, "topk"), *radius = common_conv(&cs, "radius");
    char map_name[64];
    snprintf(map_name, sizeof map_name, "mAP@%s", topk && strcmp(topk, "mixed") ? topk : "R");
    if (!radius || !strcmp(radius, "mixed")) radius = "r";

    int64_t tbits[64];
    int ntb = distinct_bits(&cs, false, tbits, 64);
    if (ntb) {
        snprintf(csv[nt], sizeof csv[nt], "tables_clean.csv");
        HL_TRY(clean_table(&cs, map_name, radius, &tabs[nt++]));
    }
    int nab = distinct_bits(&cs, true, abits, MAX_ATTACK_BITS);
    for (int b = 0; b < nab; b++) {
        snprintf(csv[nt], sizeof csv[nt], "tables_attack_%lldb.csv", (long long)abits[b]);
        HL_TRY(attack_table(&cs, abits[b], map_name, &tabs[nt++], sets[b], &nsets[b]));
    }
    HL_TRY(summary_table(&cs, map_name, abits, nab, sets, nsets, &tabs[nt]));
    if (tabs[nt]) snprintf(csv[nt++], sizeof csv[0], "tables_summary.csv");
    for (int b = 0; b < nab; b++) {
        bool any = false;
        for (int k = 0; k < nsets[b]; k++) any |= sets[b][k].targeted;
        if (!any) continue;
        snprintf(csv[nt], sizeof csv[nt], "tables_targeted_%lldb.csv", (long long)abits[b]);
        HL_TRY(targeted_table(&cs, abits[b], sets[b], nsets[b], &tabs[nt++]));
    }

    for (int b = 0; b < nab; b++) {
        snprintf(csv[nt], sizeof csv[nt], "tables_percept_%lldb.csv", (long long)abits[b]);
        HL_TRY(percept_table(&cs, abits[b], sets[b], nsets[b], &tabs[nt++]));
    }
    HL_TRY(hl_report_transfer_tables(&xs, map_name, tabs, csv, (int)HL_ARRAY_LEN(tabs), &nt));

    /* adversarial example grids (copied first: tables.md lists them) */
    int ncopied;
    HL_TRY(hl_report_examples(&cs, dir, &examples_md, &ncopied));

    /* tables */
    for (int f = 0; f < HL_TABLE_FORMAT_COUNT; f++) {
        if (!want[f]) continue;
        if (f == HL_TABLE_CSV) {
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

    /* figures: mAP vs bits */
    char ylab[96], xlab[96];
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
        snprintf(ylab, sizeof ylab, "%s (clean)", map_name);
        hl_plot_spec s = {.title = "Clean retrieval vs code length", .x_label = "bits", .y_label = ylab,
                          .legend = true, .legend_at = HL_PLOT_BOTTOM_RIGHT, .grid = true, .log_x = true};
        HL_TRY(plot_table(tabs[0], cols, x, xl, ntb, &s, dir, "map_vs_bits", &sum.figures));
    }
    /* figures: mAP(adv) vs eps, for each (bits, attack, norm) with >= 2 numeric eps */
    int nqual = 0, pass;
    for (pass = 0; pass < 2; pass++) {
        for (int b = 0; b < nab; b++) {
            const hl_table *t = tabs[b + (ntb ? 1 : 0)];
            for (int k = 0; k < nsets[b];) {
                int e = k;
                double x[HL_PLOT_MAX_TICKS];
                int cols[HL_PLOT_MAX_TICKS], nx = 0;
                const char *xl[HL_PLOT_MAX_TICKS];
                char cadv[80];
                snprintf(cadv, sizeof cadv, "%s adv (%%)", map_name);
                while (e < nsets[b] && !strcmp(sets[b][e].attack, sets[b][k].attack) &&
                       !strcmp(sets[b][e].norm, sets[b][k].norm)) {
                    if (isfinite(sets[b][e].eps) && nx < HL_PLOT_MAX_TICKS) {
                        x[nx] = sets[b][e].eps;
                        xl[nx] = sets[b][e].eps_text;
                        cols[nx++] = hl_table_find_col(t, sets[b][e].group, cadv);
                    }
                    e++;
                }
                if (nx >= 2 && pass == 0) nqual++;
                if (nx >= 2 && pass == 1) {
                    char stem[256], a[96], nrm[32];
                    hl_report_safe_name(sets[b][k].attack, a, sizeof a);
                    hl_report_safe_name(sets[b][k].norm, nrm, sizeof nrm);
                    if (nqual == 1) snprintf(stem, sizeof stem, "map_vs_eps");
                    else snprintf(stem, sizeof stem, "map_vs_eps_%s_%s_%lldb", a, nrm, (long long)abits[b]);
                    char title[256];
                    snprintf(title, sizeof title, "%s (%s), %lld bits", sets[b][k].attack, sets[b][k].norm,
                             (long long)abits[b]);
                    snprintf(ylab, sizeof ylab, "%s (adversarial)", map_name);
                    snprintf(xlab, sizeof xlab, "ε");
                    hl_plot_spec s = {.title = title, .x_label = xlab, .y_label = ylab, .legend = true, .grid = true};
                    HL_TRY(plot_table(t, cols, x, xl, nx, &s, dir, stem, &sum.figures));
                }
                k = e;
            }
        }
    }
    /* figures: PR curves by Hamming radius */
    HL_TRY(hl_report_pr_figures(&cs, dir, &sum.figures));
    if (out) *out = sum;
done:
    free(examples_md);
    for (int i = 0; i < nt; i++) hl_table_free(tabs[i]);
    cells_free(&cs);
    cells_free(&xs);
    return st;
}
