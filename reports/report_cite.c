/* reports/report_cite.c — report/methods.bib: the BibTeX entries of every method and attack in the report, as each
 * class declares them (`cite` in hashers/hasher.h and attacks/attack.h) and the lab stores them in result.json
 * ("cite"), and the citation keys per method name for the LaTeX captions. Entries are kept once per key, in the order
 * first met (cells sorted by key); a method or attack without a citation has none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/atomic.h"
#include "core/strbuf.h"
#include "reports/report_internal.h"

/* The key of the entry starting at s ("@type{key,"), into out; false when s is not an entry. */
static bool entry_key(const char *s, char *out, size_t n) {
    const char *b = strchr(s, '{'), *c = b ? strchr(b, ',') : NULL;
    if (*s != '@' || !b || !c || (size_t)(c - b - 1) >= n || c == b + 1) return false;
    snprintf(out, n, "%.*s", (int)(c - b - 1), b + 1);
    return true;
}

/* Splits a cite text into its entries (each starts at a line beginning with '@'); calls f for each. */
typedef struct bib {
    hl_strbuf text;
    char (*keys)[128];
    int n, cap;
} bib;

static bool has_key(const bib *b, const char *k) {
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->keys[i], k)) return true;
    return false;
}

static hl_status add_entries(bib *b, const char *cite, hl_report_citekeys *ck, const char *method) {
    for (const char *s = cite; s && *s;) {
        const char *next = strstr(s + 1, "\n@");
        size_t len = next ? (size_t)(next + 1 - s) : strlen(s);
        char key[128];
        if (entry_key(s, key, sizeof key)) {
            if (!has_key(b, key)) {
                if (b->n == b->cap) {
                    int cap = b->cap ? 2 * b->cap : 16;
                    char(*nk)[128] = realloc(b->keys, (size_t)cap * sizeof *nk);
                    if (!nk) return hl_error_set(HL_ENOMEM, "report: out of memory");
                    b->keys = nk, b->cap = cap;
                }
                snprintf(b->keys[b->n++], sizeof b->keys[0], "%s", key);
                if (b->text.n) hl_strbuf_puts(&b->text, "\n");
                hl_strbuf_put(&b->text, s, len);
                if (len && s[len - 1] != '\n') hl_strbuf_puts(&b->text, "\n");
            }
            if (ck && method) {
                int m = 0;
                while (m < ck->n && strcmp(ck->name[m], method)) m++;
                if (m == ck->n && m < HL_REPORT_MAX_CITED) snprintf(ck->name[ck->n++], sizeof ck->name[0], "%s", method);
                if (m < ck->n && !strstr(ck->keys[m], key)) {
                    size_t l = strlen(ck->keys[m]);
                    snprintf(ck->keys[m] + l, sizeof ck->keys[m] - l, "%s%s", l ? "," : "", key);
                }
            }
        }
        s = next ? next + 1 : NULL;
    }
    return HL_OK;
}

hl_status hl_report_bib(const hl_report_cells *cs, const char *path, hl_report_citekeys *ck, int *written) {
    hl_status st = HL_OK;
    bib b = {0};
    if (ck) memset(ck, 0, sizeof *ck);
    *written = 0;
    for (int i = 0; i < cs->n; i++) {
        const hl_report_cell *c = &cs->c[i];
        const hl_config *cite = hl_config_get(c->root, "cite");
        if (!c->done || !cite || cite->kind != HL_CONFIG_SCALAR) continue;
        HL_TRY(add_entries(&b, cite->text, ck, c->attack ? c->attack_name : c->method));
    }
    if (b.text.oom) HL_TRY(hl_error_set(HL_ENOMEM, "report: out of memory"));
    if (b.n) {
        HL_TRY(hl_atomic_write_file(path, b.text.p, b.text.n));
        *written = 1;
    }
done:
    free(b.text.p);
    free(b.keys);
    return st;
}

/* " Methods: dpsh~\\cite{li2016dpsh}, pgd~\\cite{...}." for the methods and attacks a table shows (its rows, and its
 * row and column groups named "ATTACK, ..." or "ATTACK"), as raw LaTeX after its caption. */
hl_status hl_report_cite_table(hl_table *t, const hl_report_citekeys *ck) {
    hl_strbuf b = {0};
    for (int k = 0; k < ck->n; k++) {
        const char *nm = ck->name[k];
        size_t l = strlen(nm);
        bool shown = hl_table_find_row(t, -1, nm) >= 0;
        for (int g = 0; g < t->nrow_groups && !shown; g++) {
            shown = hl_table_find_row(t, g, nm) >= 0 ||
                    (!strncmp(t->row_groups[g], nm, l) && (t->row_groups[g][l] == ',' || !t->row_groups[g][l]));
        }
        for (int g = 0; g < t->ncol_groups && !shown; g++)
            shown = !strncmp(t->col_groups[g], nm, l) && (t->col_groups[g][l] == ',' || !t->col_groups[g][l]);
        for (int c = 0; c < t->ncols && !shown; c++) /* summary columns "pgd 8/255 (%)" */
            shown = !strncmp(t->cols[c].name, nm, l) && t->cols[c].name[l] == ' ';
        if (!shown) continue;
        hl_strbuf_puts(&b, b.n ? ", " : " Methods: ");
        for (const char *p = nm; *p; p++) { /* names are [a-z0-9_-]: escape the underscore */
            if (*p == '_') hl_strbuf_puts(&b, "\\_");
            else hl_strbuf_put(&b, p, 1);
        }
        hl_strbuf_puts(&b, "~\\cite{"), hl_strbuf_puts(&b, ck->keys[k]), hl_strbuf_puts(&b, "}");
    }
    if (b.n) hl_strbuf_puts(&b, ".");
    hl_status st = b.oom ? hl_error_set(HL_ENOMEM, "report: out of memory") : hl_table_set_latex_cite(t, b.p ? b.p : "");
    free(b.p);
    return st;
}

