/* reports/report_tidy.c — report/results.csv: every stored number in tidy form, one row per (cell, metric), for
 * pandas / R / a spreadsheet instead of the wide paper tables.
 *
 * Columns: suite,method,name,bits,seed,attack,norm,eps,targeted,queries,metric,value
 *   method   the hasher class (result.json hasher_method), name the suite entry's name (result.json method); for a
 *            transfer cell, the model that scores the images
 *   attack, norm, eps, targeted   empty for train cells; a transfer cell's attack is "ATTACK from SOURCE bits" naming
 *            the model the images were crafted on
 *   queries  how many queries the cell's numbers are over
 *   value    the number with 17 significant digits, empty for a stored null (undefined)
 * Per-class rows follow each cell's metrics, from its per_query.csv (its last column lists each query's label names;
 * a multi-label query counts in each of its classes): metric "M[class=NAME]" for the mean over the queries of class
 * NAME of the per-query column behind M — a train cell's AP (M = mAP@R), an attack cell's adversarial and clean AP
 * (mAP@R, mAP@R(clean)) and targeted AP (t-mAP@all). Older runs without the labels column get no per-class rows.
 * RFC 4180 quoting (a field with , " CR or LF is quoted, quotes doubled), CRLF line ends; written atomically. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/atomic.h"
#include "core/strbuf.h"
#include "reports/report_internal.h"

static const char *str_of(const hl_config *root, const char *path, const char *dflt) {
    const hl_config *n = hl_config_path(root, path);
    return n && n->kind == HL_CONFIG_SCALAR ? n->text : dflt;
}

static void field(hl_strbuf *b, const char *s, bool last) {
    if (strpbrk(s, ",\"\r\n")) {
        hl_strbuf_puts(b, "\"");
        for (const char *p = s; *p; p++) {
            if (*p == '"') hl_strbuf_puts(b, "\"");
            hl_strbuf_put(b, p, 1);
        }
        hl_strbuf_puts(b, "\"");
    } else {
        hl_strbuf_puts(b, s);
    }
    hl_strbuf_puts(b, last ? "\r\n" : ",");
}

/* The identifying columns of a cell (everything before metric), into fields[0..10). */
typedef struct cell_id {
    char f[10][160];
} cell_id;

static void id_of(const hl_report_cell *c, const char *suite, cell_id *id) {
    memset(id, 0, sizeof *id);
    snprintf(id->f[0], sizeof id->f[0], "%s", suite);
    if (c->transfer) {
        snprintf(id->f[1], sizeof id->f[1], "%s", str_of(c->root, "target_hasher_method", c->target_method));
        snprintf(id->f[2], sizeof id->f[2], "%s", c->target_method);
        snprintf(id->f[3], sizeof id->f[3], "%lld", (long long)c->target_bits);
        snprintf(id->f[5], sizeof id->f[5], "%s from %s %lldb", c->attack_name, c->method, (long long)c->bits);
    } else {
        snprintf(id->f[1], sizeof id->f[1], "%s", str_of(c->root, "hasher_method", c->method));
        snprintf(id->f[2], sizeof id->f[2], "%s", c->method);
        snprintf(id->f[3], sizeof id->f[3], "%lld", (long long)c->bits);
        if (c->attack) snprintf(id->f[5], sizeof id->f[5], "%s", c->attack_name);
    }
    snprintf(id->f[4], sizeof id->f[4], "%lld", (long long)c->seed);
    if (c->attack) {
        snprintf(id->f[6], sizeof id->f[6], "%s", c->norm);
        snprintf(id->f[7], sizeof id->f[7], "%s", c->eps_text);
        snprintf(id->f[8], sizeof id->f[8], "%s", str_of(c->root, "attack_config.targeted", "false"));
    }
    snprintf(id->f[9], sizeof id->f[9], "%s", str_of(c->root, "queries", ""));
}

static void row(hl_strbuf *b, const cell_id *id, const char *metric, double v) {
    char num[40] = "";
    for (int k = 0; k < 10; k++) field(b, id->f[k], false);
    field(b, metric, false);
    if (isfinite(v)) snprintf(num, sizeof num, "%.17g", v);
    field(b, num, true);
}

/* Per-class means of the per-query columns (cols[k] named names[k]) of a cell's per_query.csv. */
static hl_status per_class(hl_strbuf *b, const hl_report_cell *c, const cell_id *id, const char *const *cols,
                           const char *const *metrics, int ncols) {
    hl_status st = HL_OK;
    char p[4200], *line = NULL, **cls = NULL;
    size_t cap = 0;
    int at[8], labels_col = -1, ncls = 0, ccap = 0;
    double *sum = NULL;
    int64_t *cnt = NULL;
    snprintf(p, sizeof p, "%s/per_query.csv", c->dir);
    FILE *f = fopen(p, "r");
    if (!f) return HL_OK; /* no per-query file: no per-class rows */
    for (int k = 0; k < ncols; k++) at[k] = -1;
    if (getline(&line, &cap, f) > 0) {
        int k = 0;
        for (char *t = strtok(line, ",\r\n"); t; t = strtok(NULL, ",\r\n"), k++) {
            if (!strcmp(t, "labels")) labels_col = k;
            for (int j = 0; j < ncols; j++)
                if (!strcmp(t, cols[j])) at[j] = k;
        }
    }
    if (labels_col < 0) goto done;
    while (getline(&line, &cap, f) > 0) {
        char *fields[64];
        int nf = 0;
        for (char *s = line, *e; s && nf < 64; s = e ? e + 1 : NULL) {
            e = strchr(s, ',');
            if (e) *e = 0;
            fields[nf++] = s;
        }
        if (labels_col >= nf) HL_TRY(hl_error_set(HL_EFORMAT, "%s: a row with %d fields", p, nf));
        char *lab = fields[labels_col];
        lab[strcspn(lab, "\r\n")] = 0;
        for (char *s = lab, *e; s && *s; s = e ? e + 1 : NULL) {
            e = strchr(s, '|');
            if (e) *e = 0;
            int k = 0;
            while (k < ncls && strcmp(cls[k], s)) k++;
            if (k == ncls) {
                if (ncls == ccap) {
                    ccap = ccap ? 2 * ccap : 16;
                    char **nc = realloc(cls, (size_t)ccap * sizeof *nc);
                    double *ns = realloc(sum, (size_t)(ccap * ncols) * sizeof *ns);
                    if (nc) cls = nc;
                    if (ns) sum = ns;
                    int64_t *nn = realloc(cnt, (size_t)(ccap * ncols) * sizeof *nn);
                    if (nn) cnt = nn;
                    if (!nc || !ns || !nn) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
                }
                if (!(cls[ncls] = strdup(s))) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
                for (int j = 0; j < ncols; j++) sum[ncls * ncols + j] = 0, cnt[ncls * ncols + j] = 0;
                ncls++;
            }
            for (int j = 0; j < ncols; j++) {
                if (at[j] < 0 || at[j] >= nf) continue;
                char *end;
                double v = strtod(fields[at[j]], &end);
                if (end != fields[at[j]] && isfinite(v)) sum[k * ncols + j] += v, cnt[k * ncols + j]++;
            }
        }
    }
    for (int k = 0; k < ncls; k++)
        for (int j = 0; j < ncols; j++) {
            if (at[j] < 0 || !cnt[k * ncols + j]) continue;
            char name[300];
            snprintf(name, sizeof name, "%s[class=%s]", metrics[j], cls[k]);
            row(b, id, name, sum[k * ncols + j] / (double)cnt[k * ncols + j]);
        }
done:
    for (int k = 0; k < ncls; k++) free(cls[k]);
    free(cls), free(sum), free(cnt), free(line);
    fclose(f);
    return st;
}

static hl_status cell_rows(hl_strbuf *b, const hl_report_cell *c, const char *suite) {
    if (!c->done || !c->metrics) return HL_OK;
    cell_id id;
    id_of(c, suite, &id);
    for (int64_t i = 0; i < hl_config_len(c->metrics); i++) {
        const hl_config *m = hl_config_at(c->metrics, i);
        double v = NAN;
        if (m->kind == HL_CONFIG_SCALAR && !hl_config_parse_double(m->text, &v)) continue;
        row(b, &id, m->key, v);
    }
    if (c->transfer) return HL_OK;
    hl_report_topk_names nm;
    hl_report_metric_names(c, &nm);
    char clean[80];
    snprintf(clean, sizeof clean, "%s(clean)", nm.map);
    if (!c->attack) {
        const char *cols[] = {"ap"}, *ms[] = {nm.map};
        return per_class(b, c, &id, cols, ms, 1);
    }
    const char *cols[] = {"ap_adv", "ap_clean", "tap_adv"}, *ms[] = {nm.map, clean, "t-mAP@all"};
    return per_class(b, c, &id, cols, ms, 3);
}

hl_status hl_report_results_csv(const hl_report_cells *cs, const hl_report_cells *xs, const char *suite,
                                const char *path) {
    hl_status st = HL_OK;
    hl_strbuf b = {0};
    hl_strbuf_puts(&b, "suite,method,name,bits,seed,attack,norm,eps,targeted,queries,metric,value\r\n");
    for (int i = 0; i < cs->n; i++) HL_TRY(cell_rows(&b, &cs->c[i], suite));
    for (int i = 0; i < xs->n; i++) HL_TRY(cell_rows(&b, &xs->c[i], suite));
    if (b.oom) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory for %s", path));
    st = hl_atomic_write_file(path, b.p ? b.p : "", b.n);
done:
    free(b.p);
    return st;
}
