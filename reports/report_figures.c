/* reports/report_figures.c — the report's PR curves and adversarial example grids (contracts: report_internal.h). */
#include "reports/report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/io/atomic.h"
#include "core/io/file.h"

void hl_report_safe_name(const char *s, char *out, size_t n) {
    size_t j = 0;
    for (; *s && j + 1 < n; s++) {
        char c = *s;
        out[j++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ? c : '_';
    }
    if (n) out[j] = 0;
}

hl_status hl_report_plot_both(const char *dir, const char *stem, const hl_plot_spec *spec, int *figures) {
    hl_status st = HL_OK;
    char path[4096];
    static const char *const ext[2] = {".png", ".pdf"};
    for (int e = 0; e < 2; e++) {
        if (snprintf(path, sizeof path, "%s/%s%s", dir, stem, ext[e]) >= (int)sizeof path) {
            st = hl_error_set(HL_EINVAL, "%s: path too long", dir);
            goto done;
        }
        HL_TRY(hl_plot_lines(path, HL_PLOT_AUTO, spec));
        (*figures)++;
    }
done:
    return st;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- PR curves ---- */

/* The precision and recall lists of a done train cell, or false when it has no pr_radius. */
static hl_status pr_lists(const hl_report_cell *c, const hl_config **p, const hl_config **r, bool *has) {
    const hl_config *pr = hl_config_get(c->root, "pr_radius");
    *has = false;
    if (!pr || pr->kind == HL_CONFIG_NULL) return HL_OK;
    if (pr->kind != HL_CONFIG_MAP)
        return hl_config_error(pr, HL_EFORMAT, "pr_radius: expected an object {\"precision\": [...], \"recall\": [...]}");
    *p = hl_config_get(pr, "precision");
    *r = hl_config_get(pr, "recall");
    if (!*p || !*r || (*p)->kind != HL_CONFIG_SEQ || (*r)->kind != HL_CONFIG_SEQ)
        return hl_config_error(pr, HL_EFORMAT, "pr_radius: needs the lists 'precision' and 'recall'");
    if ((*p)->n != (*r)->n || (*p)->n == 0)
        return hl_config_error(pr, HL_EFORMAT, "pr_radius: precision and recall need the same non-zero length (got "
                               "%lld and %lld)", (long long)(*p)->n, (long long)(*r)->n);
    *has = true;
    return HL_OK;
}

/* Element i of a pr list: false when null or non-finite; HL_EFORMAT for a non-number. */
static hl_status pr_value(const hl_config *list, int64_t i, double *v, bool *ok) {
    const hl_config *e = hl_config_at(list, i);
    *ok = false;
    if (e->kind == HL_CONFIG_NULL) return HL_OK;
    if (e->kind != HL_CONFIG_SCALAR || e->quoted || !hl_config_parse_double(e->text, v))
        return hl_config_error(e, HL_EFORMAT, "pr_radius: expected a number or null");
    *ok = isfinite(*v);
    return HL_OK;
}

/* One PR figure for `bits`; nothing when no cell of that length has pr_radius. */
static hl_status pr_figure(const hl_report_cells *cs, int64_t bits, const char *dir, int *figures) {
    hl_status st = HL_OK;
    const char *ms[HL_PLOT_MAX_SERIES];
    int nm = 0;
    int64_t len = 0;
    double *acc = NULL; /* per method: sum_p, sum_r, n_p, n_r (each len) */
    const hl_config *p, *r;
    bool has;
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (c->attack || !c->done || c->bits != bits) continue;
        HL_TRY(pr_lists(c, &p, &r, &has));
        if (!has) continue;
        len = HL_MAX(len, p->n);
        bool seen = false;
        for (int j = 0; j < nm; j++) seen |= !strcmp(ms[j], c->method);
        if (!seen && nm < HL_PLOT_MAX_SERIES) ms[nm++] = c->method;
    }
    if (!nm) goto done;
    qsort(ms, (size_t)nm, sizeof *ms, cmp_str);
    if (!(acc = calloc((size_t)(nm * 4) * (size_t)len, sizeof *acc))) {
        st = hl_error_set(HL_ENOMEM, "report: out of memory");
        goto done;
    }
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (c->attack || !c->done || c->bits != bits) continue;
        HL_TRY(pr_lists(c, &p, &r, &has));
        int m = -1;
        for (int j = 0; j < nm; j++)
            if (!strcmp(ms[j], c->method)) m = j;
        if (!has || m < 0) continue;
        double *a = acc + (size_t)m * 4 * (size_t)len, v;
        bool ok;
        for (int64_t k = 0; k < p->n; k++) {
            HL_TRY(pr_value(p, k, &v, &ok));
            if (ok) a[k] += v, a[2 * len + k] += 1;
            HL_TRY(pr_value(r, k, &v, &ok));
            if (ok) a[len + k] += v, a[3 * len + k] += 1;
        }
    }
    hl_plot_spec s = {.x_label = "recall (%)", .y_label = "precision (%)", .legend = true,
                      .legend_at = HL_PLOT_OUTSIDE_RIGHT, .grid = true, .x_min = -2, .x_max = 102, .y_min = -2,
                      .y_max = 102, .n_series = nm};
    char title[400], stem[64], where[200];
    hl_report_where(cs, where, sizeof where);
    snprintf(title, sizeof title, "Precision–recall by Hamming radius r = 0..%lld, %lld bits%s", (long long)(len - 1),
             (long long)bits, where);
    s.title = title;
    for (int m = 0; m < nm; m++) {
        double *a = acc + (size_t)m * 4 * (size_t)len;
        for (int64_t k = 0; k < len; k++) { /* means in place: precision into a[0..len), recall into a[len..2len) */
            a[k] = a[2 * len + k] > 0 ? 100 * a[k] / a[2 * len + k] : NAN; /* in %, as the tables */
            a[len + k] = a[3 * len + k] > 0 ? 100 * a[len + k] / a[3 * len + k] : NAN;
        }
        s.series[m] = (hl_plot_series){.label = ms[m], .n = len, .x = a + len, .y = a, .marker = true};
    }
    snprintf(stem, sizeof stem, "pr_%lldb", (long long)bits);
    HL_TRY(hl_report_plot_both(dir, stem, &s, figures));
done:
    free(acc);
    return st;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

hl_status hl_report_pr_figures(const hl_report_cells *cs, const char *dir, int *figures) {
    hl_status st = HL_OK;
    int64_t bits[64];
    int nb = 0;
    for (int i = 0; i < cs->n; i++) {
        if (cs->c[i].attack) continue;
        bool seen = false;
        for (int j = 0; j < nb; j++) seen |= bits[j] == cs->c[i].bits;
        if (!seen && nb < (int)HL_ARRAY_LEN(bits)) bits[nb++] = cs->c[i].bits;
    }
    qsort(bits, (size_t)nb, sizeof *bits, cmp_i64);
    for (int b = 0; b < nb; b++) HL_TRY(pr_figure(cs, bits[b], dir, figures));
done:
    return st;
}

/* ---- adversarial example grids ---- */

static int cmp_example(const void *a, const void *b) {
    const hl_report_cell *x = *(const hl_report_cell *const *)a, *y = *(const hl_report_cell *const *)b;
    int c = strcmp(x->method, y->method);
    if (!c) c = (x->bits > y->bits) - (x->bits < y->bits);
    if (!c) c = strcmp(x->attack_name, y->attack_name);
    if (!c) c = strcmp(x->norm, y->norm);
    if (!c && x->eps != y->eps && !isnan(x->eps) && !isnan(y->eps)) c = x->eps < y->eps ? -1 : 1;
    if (!c) c = strcmp(x->eps_text, y->eps_text);
    return c;
}

static bool same_entry(const hl_report_cell *x, const hl_report_cell *y) {
    return x->bits == y->bits && !strcmp(x->method, y->method) && !strcmp(x->attack_name, y->attack_name) &&
           !strcmp(x->norm, y->norm) && !strcmp(x->eps_text, y->eps_text);
}

static bool is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static hl_status copy_file(const char *from, const char *to) {
    hl_status st = HL_OK;
    FILE *f = NULL;
    int64_t n = 0;
    unsigned char *buf = NULL;
    HL_TRY(hl_file_open_read(from, &f, &n));
    if (!(buf = malloc(n ? (size_t)n : 1))) { st = hl_error_set(HL_ENOMEM, "%s: out of memory", from); goto done; }
    if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        st = hl_error_set(HL_EIO, "%s: read failed: %s", from, ferror(f) ? strerror(errno) : "file shrank");
        goto done;
    }
    st = hl_atomic_write_file(to, buf, (size_t)n);
done:
    if (f) fclose(f);
    free(buf);
    return st;
}

/* eps text as a file-name part: '/' -> '-', '.' kept, else as hl_report_safe_name ("8/255" -> "8-255"). */
static void eps_name(const char *s, char *out, size_t n) {
    hl_report_safe_name(s, out, n);
    for (size_t j = 0; out[j]; j++)
        if (s[j] == '/' || s[j] == '.') out[j] = s[j] == '/' ? '-' : '.';
}

/* Markdown-escapes s into out (truncated). */
static void md_escape(const char *s, char *out, size_t n) {
    size_t j = 0;
    for (; *s && j + 2 < n; s++) {
        if (strchr("\\|*_`[]<>~$", *s)) out[j++] = '\\';
        out[j++] = *s;
    }
    out[j] = 0;
}

/* Appends text to the heap buffer *b (length *len). */
static hl_status append(char **b, size_t *len, const char *text) {
    size_t l = strlen(text);
    char *nb = realloc(*b, *len + l + 1);
    if (!nb) return hl_error_set(HL_ENOMEM, "report: out of memory");
    memcpy(nb + *len, text, l + 1);
    *b = nb;
    *len += l;
    return HL_OK;
}

hl_status hl_report_examples(const hl_report_cells *cs, const char *dir, char **md, int *copied) {
    hl_status st = HL_OK;
    const hl_report_cell **ex = NULL;
    int n = 0;
    char *text = NULL, src[4096], dst[4096], line[4096];
    size_t len = 0;
    *md = NULL;
    *copied = 0;
    if (cs->n && !(ex = malloc((size_t)cs->n * sizeof *ex))) return hl_error_set(HL_ENOMEM, "report: out of memory");
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        if (!c->attack || !c->done || !c->dir) continue;
        if (snprintf(src, sizeof src, "%s/adv_examples.png", c->dir) >= (int)sizeof src || !is_file(src)) continue;
        int k = 0;
        while (k < n && !same_entry(ex[k], c)) k++;
        if (k == n) ex[n++] = c;
        else if (c->seed < ex[k]->seed) ex[k] = c;
    }
    if (!n) goto done;
    qsort(ex, (size_t)n, sizeof *ex, cmp_example);
    if (snprintf(dst, sizeof dst, "%s/examples", dir) >= (int)sizeof dst) {
        st = hl_error_set(HL_EINVAL, "%s: path too long", dir);
        goto done;
    }
    if (mkdir(dst, 0755) != 0 && errno != EEXIST) {
        st = hl_error_set(HL_EIO, "%s: cannot create the examples directory: %s", dst, strerror(errno));
        goto done;
    }
    HL_TRY(append(&text, &len, "## Adversarial examples\n\n*Each grid comes from the lowest-seed cell of the setting; "
                               "one row per attacked query, columns: clean | perturbation ×10 + 0.5 | adversarial.*\n\n"));
    for (int k = 0; k < n; k++) {
        const hl_report_cell *c = ex[k];
        char m[128], a[128], nrm[64], eps[64], name[512], em[256], ea[256], en[128], ee[128];
        hl_report_safe_name(c->method, m, sizeof m);
        hl_report_safe_name(c->attack_name, a, sizeof a);
        hl_report_safe_name(c->norm, nrm, sizeof nrm);
        eps_name(c->eps_text, eps, sizeof eps);
        snprintf(name, sizeof name, "%s_%lldb_%s_%s_%s.png", m, (long long)c->bits, a, nrm, eps);
        if (snprintf(src, sizeof src, "%s/adv_examples.png", c->dir) >= (int)sizeof src ||
            snprintf(dst, sizeof dst, "%s/examples/%s", dir, name) >= (int)sizeof dst) {
            st = hl_error_set(HL_EINVAL, "%s: path too long", dir);
            goto done;
        }
        HL_TRY(copy_file(src, dst));
        (*copied)++;
        md_escape(c->method, em, sizeof em);
        md_escape(c->attack_name, ea, sizeof ea);
        md_escape(c->norm, en, sizeof en);
        md_escape(c->eps_text, ee, sizeof ee);
        snprintf(line, sizeof line, "- %s, %lld bits, %s, %s, ε=%s (seed %lld): ![%s %lldb %s %s ε=%s](examples/%s)\n",
                 em, (long long)c->bits, ea, en, ee, (long long)c->seed, em, (long long)c->bits, ea, en, ee, name);
        HL_TRY(append(&text, &len, line));
    }
    *md = text;
    text = NULL;
done:
    free(text);
    free(ex);
    return st;
}
