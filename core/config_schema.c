/* core/config_schema.c — parameter schemas: collected validation errors, defaults/resolution, schema tables. */
#include "core/config_schema.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ---- error list ---- */

void hl_config_errors_add(hl_config_errors *e, const char *file, int line, int col, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->n == e->cap) {
        int64_t cap = e->cap ? 2 * e->cap : 8;
        hl_config_error_item *it = realloc(e->items, (size_t)cap * sizeof *it);
        if (!it) {
            e->oom = true;
            return;
        }
        e->items = it;
        e->cap = cap;
    }
    hl_config_error_item *x = &e->items[e->n];
    x->file = dup_str(file);
    x->msg = dup_str(msg);
    x->line = line;
    x->col = col;
    x->seq = e->n;
    if (!x->file || !x->msg) {
        free(x->file);
        free(x->msg);
        e->oom = true;
        return;
    }
    e->n++;
}

static int cmp_err(const void *pa, const void *pb) {
    const hl_config_error_item *a = pa, *b = pb;
    int c = strcmp(a->file, b->file);
    if (c) return c;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    if (a->col != b->col) return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

hl_status hl_config_errors_finish(hl_config_errors *e, char **text) {
    if (text) *text = NULL;
    if (e->oom) return hl_error_set(HL_ENOMEM, "out of memory collecting configuration errors");
    if (!e->n) return HL_OK;
    qsort(e->items, (size_t)e->n, sizeof *e->items, cmp_err);
    int64_t kept = 0; /* one problem found twice (the copies of a swept entry share their values) is reported once */
    for (int64_t i = 0; i < e->n; i++) {
        bool dup = false;
        for (int64_t j = kept - 1; j >= 0 && !dup; j--) {
            const hl_config_error_item *a = &e->items[i], *b = &e->items[j];
            if (strcmp(a->file, b->file) || a->line != b->line || a->col != b->col) break;
            dup = !strcmp(a->msg, b->msg);
        }
        if (dup) {
            free(e->items[i].file);
            free(e->items[i].msg);
        } else {
            e->items[kept++] = e->items[i];
        }
    }
    e->n = kept;
    size_t cap = 64;
    int64_t shown = HL_MIN(e->n, (int64_t)HL_CONFIG_MAX_ERRORS);
    for (int64_t i = 0; i < shown; i++) cap += strlen(e->items[i].file) + strlen(e->items[i].msg) + 40;
    char *s = malloc(cap);
    if (!s) return hl_error_set(HL_ENOMEM, "out of memory formatting configuration errors");
    size_t k = 0;
    for (int64_t i = 0; i < shown; i++)
        k += (size_t)snprintf(s + k, cap - k, "%s%s:%d:%d: %s", i ? "\n" : "", e->items[i].file, e->items[i].line,
                              e->items[i].col, e->items[i].msg);
    if (e->n > shown)
        snprintf(s + k, cap - k, "\n... and %lld more error%s", (long long)(e->n - shown), e->n - shown > 1 ? "s" : "");
    hl_status st = hl_error_set(HL_EINVAL, "%s", s);
    if (text) *text = s;
    else free(s);
    return st;
}

void hl_config_errors_free(hl_config_errors *e) {
    for (int64_t i = 0; i < e->n; i++) {
        free(e->items[i].file);
        free(e->items[i].msg);
    }
    free(e->items);
    memset(e, 0, sizeof *e);
}

/* ---- helpers ---- */

const hl_param_spec *hl_param_find(const hl_param_spec *specs, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(specs[i].name, name) == 0) return &specs[i];
    return NULL;
}

const char *hl_param_type_name(hl_param_type t) {
    static const char *const names[] = {"int",       "float",      "bool",        "string",   "enum", "int list",
                                        "float list", "string list", "fraction", "map",  "map list"};
    return (unsigned)t < HL_ARRAY_LEN(names) ? names[t] : "?";
}

int hl_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    int *buf = malloc(3 * (lb + 1) * sizeof *buf);
    HL_ASSERT(buf, "out of memory in edit distance");
    int *prev2 = buf, *prev = buf + lb + 1, *row = buf + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            v = HL_MIN(v, prev[j] + 1);
            v = HL_MIN(v, row[j - 1] + 1);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = HL_MIN(v, prev2[j - 2] + 1);
            row[j] = v;
        }
        int *t = prev2;
        prev2 = prev, prev = row, row = t;
    }
    int d = prev[lb];
    free(buf);
    return d;
}

/* Closest spec name: edit distance <= max(2, len/3), else a name that is a prefix of the key or vice versa. */
static const char *suggest(const char *key, const hl_param_spec *specs, int n) {
    const char *best = NULL;
    int bd = 1 << 30;
    for (int i = 0; i < n; i++) {
        int d = hl_edit_distance(key, specs[i].name);
        if (d < bd) bd = d, best = specs[i].name;
    }
    int lim = HL_MAX(2, (int)strlen(key) / 3);
    if (best && bd <= lim) return best;
    for (int i = 0; i < n; i++) {
        size_t a = strlen(key), b = strlen(specs[i].name), m = HL_MIN(a, b);
        if (m >= 2 && strncmp(key, specs[i].name, m) == 0) return specs[i].name;
    }
    return NULL;
}

typedef struct range {
    double lo, hi;
    bool lo_open, hi_open;
} range;

static double bound(const char *s) {
    while (*s == ' ') s++;
    if (!strncmp(s, "inf", 3) || !strncmp(s, "+inf", 4)) return INFINITY;
    if (!strncmp(s, "-inf", 4)) return -INFINITY;
    hl_fraction f;
    const char *why;
    char b[64];
    size_t k = strcspn(s, ",)]");
    HL_ASSERT(k < sizeof b, "range bound too long: %s", s);
    memcpy(b, s, k);
    while (k && b[k - 1] == ' ') k--;
    b[k] = 0;
    HL_ASSERT(hl_config_parse_fraction(b, &f, &why) == HL_OK, "bad range bound '%s'", b);
    return f.value;
}

static range parse_range(const char *r) {
    range g = {-INFINITY, INFINITY, false, false};
    if (!r) return g;
    size_t len = strlen(r);
    const char *comma = strchr(r, ',');
    HL_ASSERT(len >= 5 && (r[0] == '[' || r[0] == '(') && (r[len - 1] == ']' || r[len - 1] == ')') && comma,
              "malformed range '%s'", r);
    g.lo_open = r[0] == '(';
    g.hi_open = r[len - 1] == ')';
    g.lo = bound(r + 1);
    g.hi = bound(comma + 1);
    return g;
}

static bool in_range(double v, const range *g) {
    return (g->lo_open ? v > g->lo : v >= g->lo) && (g->hi_open ? v < g->hi : v <= g->hi);
}

static bool nullable(const hl_param_spec *s) { return s->def && *s->def && hl_config_is_null_text(s->def); }

/* Adds the last error (set by hl_config_as_* for node) without its "FILE:L:C: " prefix. */
static void add_last(hl_config_errors *e, const hl_config *node) {
    char where[512];
    int k = snprintf(where, sizeof where, "%s:%d:%d: ", node->file, node->line, node->col);
    const char *m = hl_error_last();
    if (k > 0 && strncmp(m, where, (size_t)k) == 0) m += k;
    hl_config_errors_add(e, node->file, node->line, node->col, "%s", m);
}

static const char *got(const hl_config *n, char *buf, size_t sz) {
    if (n->kind == HL_CONFIG_SCALAR) snprintf(buf, sz, "'%.120s'", n->text);
    else snprintf(buf, sz, "%s", n->kind == HL_CONFIG_NULL ? "null" : n->kind == HL_CONFIG_MAP ? "a map" : "a list");
    return buf;
}

static void kind_error(hl_config_errors *e, const hl_config *n, const char *expected) {
    char name[256], g[160];
    hl_config_name(n, name, sizeof name);
    hl_config_errors_add(e, n->file, n->line, n->col, "%s%sexpected %s, got %s", name, *name ? ": " : "", expected,
                         got(n, g, sizeof g));
}

/* One scalar of a scalar or list type (elem = the scalar type). Returns the number of errors added. */
static int check_scalar(const hl_config *n, const hl_param_spec *s, hl_param_type elem, hl_config_errors *e) {
    double v = 0;
    int64_t iv;
    bool b;
    const char *str;
    hl_fraction f;
    hl_status st = HL_OK;
    switch (elem) {
    case HL_PARAM_INT: st = hl_config_as_int(n, &iv), v = (double)iv; break;
    case HL_PARAM_FLOAT: st = hl_config_as_double(n, &v); break;
    case HL_PARAM_FRACTION: st = hl_config_as_fraction(n, &f), v = f.value; break;
    case HL_PARAM_BOOL: st = hl_config_as_bool(n, &b); break;
    default: st = hl_config_as_string(n, &str); break;
    }
    if (st < 0) {
        add_last(e, n);
        return 1;
    }
    char name[256];
    hl_config_name(n, name, sizeof name);
    if (elem == HL_PARAM_INT || elem == HL_PARAM_FLOAT || elem == HL_PARAM_FRACTION) {
        range g = parse_range(s->range);
        if (!in_range(v, &g)) {
            hl_config_errors_add(e, n->file, n->line, n->col, "%s%s%s is out of range %s", name, *name ? ": " : "",
                                 n->text, s->range);
            return 1;
        }
    }
    if (elem == HL_PARAM_ENUM) {
        const char *c = s->choices;
        HL_ASSERT(c, "enum parameter '%s' has no choices", s->name);
        size_t len = strlen(str);
        for (const char *p = c; *p;) {
            size_t k = strcspn(p, "|");
            if (k == len && strncmp(p, str, k) == 0) return 0;
            p += k + (p[k] == '|');
        }
        char allowed[512] = "", best[128] = "", dym[160] = "";
        size_t a = 0;
        for (const char *p = c; *p && a + 2 < sizeof allowed; p++)
            a += (size_t)snprintf(allowed + a, sizeof allowed - a, *p == '|' ? ", " : "%c", *p);
        int bd = 1 << 30; /* the closest choice, when close enough to be a typo: "fashion_mnist" -> "fashion-mnist" */
        for (const char *p = c; *p;) {
            size_t k = strcspn(p, "|");
            char choice[128];
            snprintf(choice, sizeof choice, "%.*s", (int)HL_MIN(k, sizeof choice - 1), p);
            int dd = hl_edit_distance(str, choice);
            if (dd < bd) bd = dd, snprintf(best, sizeof best, "%s", choice);
            p += k + (p[k] == '|');
        }
        if (best[0] && bd <= 2 + (int)strlen(best) / 4) snprintf(dym, sizeof dym, "; did you mean '%s'?", best);
        hl_config_errors_add(e, n->file, n->line, n->col, "%s%s'%s' is not allowed (allowed: %s)%s", name,
                             *name ? ": " : "", str, allowed, dym);
        return 1;
    }
    return 0;
}

static int validate_map(const hl_config *node, const hl_param_spec *specs, int n, bool allow_extra, const char *what,
                        hl_config_errors *e);

static int check_value(const hl_config *v, const hl_param_spec *s, const char *what, hl_config_errors *e) {
    if (v->kind == HL_CONFIG_NULL && nullable(s)) return 0;
    switch (s->type) {
    case HL_PARAM_INT_LIST:
    case HL_PARAM_FLOAT_LIST:
    case HL_PARAM_STRING_LIST: {
        hl_param_type el = s->type == HL_PARAM_INT_LIST     ? HL_PARAM_INT
                           : s->type == HL_PARAM_FLOAT_LIST ? HL_PARAM_FLOAT
                                                            : HL_PARAM_STRING;
        if (v->kind == HL_CONFIG_SCALAR) return check_scalar(v, s, el, e);
        if (v->kind != HL_CONFIG_SEQ) {
            kind_error(e, v, "a list");
            return 1;
        }
        int k = 0;
        for (int64_t i = 0; i < v->n; i++) k += check_scalar(v->items[i], s, el, e);
        return k;
    }
    case HL_PARAM_MAP:
    case HL_PARAM_MAP_LIST: {
        char sub[512];
        if (what) snprintf(sub, sizeof sub, "'%s' of %s", s->name, what);
        else snprintf(sub, sizeof sub, "'%s'", s->name);
        if (s->type == HL_PARAM_MAP) {
            if (v->kind != HL_CONFIG_MAP) {
                kind_error(e, v, "a map");
                return 1;
            }
            return s->fields ? validate_map(v, s->fields, s->n_fields, false, sub, e) : 0;
        }
        if (v->kind != HL_CONFIG_SEQ) {
            kind_error(e, v, "a list of maps");
            return 1;
        }
        int k = 0;
        for (int64_t i = 0; i < v->n; i++) {
            if (v->items[i]->kind != HL_CONFIG_MAP) {
                kind_error(e, v->items[i], "a map");
                k++;
            } else if (s->fields) {
                k += validate_map(v->items[i], s->fields, s->n_fields, false, sub, e);
            }
        }
        return k;
    }
    default: return check_scalar(v, s, s->type, e);
    }
}

static int validate_map(const hl_config *node, const hl_param_spec *specs, int n, bool allow_extra, const char *what,
                        hl_config_errors *e) {
    const char *in = what ? " in " : "", *w = what ? what : "";
    if (node->kind != HL_CONFIG_MAP) {
        char g[160];
        hl_config_errors_add(e, node->file, node->line, node->col, "expected a map of settings%s%s, got %s", in, w,
                             got(node, g, sizeof g));
        return 1;
    }
    int k = 0;
    for (int64_t i = 0; i < node->n; i++) {
        const hl_config *v = node->items[i];
        const hl_param_spec *s = hl_param_find(specs, n, v->key);
        if (s) {
            k += check_value(v, s, what, e);
            continue;
        }
        if (allow_extra) continue;
        char valid[700] = "";
        size_t a = 0;
        for (int j = 0; j < n && a + 4 < sizeof valid; j++)
            a += (size_t)snprintf(valid + a, sizeof valid - a, "%s%s", j ? ", " : "", specs[j].name);
        const char *sug = suggest(v->key, specs, n);
        char dym[160] = "";
        if (sug) snprintf(dym, sizeof dym, "; did you mean '%s'?", sug);
        hl_config_errors_add(e, v->file, v->key_line, v->key_col, "unknown key '%s'%s%s%s (valid: %s)", v->key, in, w,
                             dym, n ? valid : "none");
        k++;
    }
    for (int j = 0; j < n; j++)
        if (!specs[j].def && !hl_config_get(node, specs[j].name)) {
            hl_config_errors_add(e, node->file, node->line, node->col, "missing required key '%s'%s%s", specs[j].name,
                                 in, w);
            k++;
        }
    return k;
}

int hl_config_validate(const hl_config *node, const hl_param_spec *specs, int n, bool allow_extra, const char *what,
                       hl_config_errors *errs) {
    return validate_map(node, specs, n, allow_extra, what, errs);
}

hl_status hl_config_check(const hl_config *node, const hl_param_spec *specs, int n, bool allow_extra,
                          const char *what, char **report) {
    hl_config_errors e = {0};
    hl_config_validate(node, specs, n, allow_extra, what, &e);
    hl_status st = hl_config_errors_finish(&e, report);
    hl_config_errors_free(&e);
    return st;
}

/* ---- resolution ---- */

#define DEF_FILE "<default>"

/* Default text → node: "{}", "[a, b]", null text, or a scalar. */
static hl_config *default_node(const char *def) {
    if (!strcmp(def, "{}")) return hl_config_new(HL_CONFIG_MAP, NULL, DEF_FILE, 0, 0);
    if (*def && hl_config_is_null_text(def)) return hl_config_new(HL_CONFIG_NULL, NULL, DEF_FILE, 0, 0);
    size_t len = strlen(def);
    if (def[0] != '[') return hl_config_new(HL_CONFIG_SCALAR, def, DEF_FILE, 0, 0);
    HL_ASSERT(def[len - 1] == ']', "malformed default list '%s'", def);
    hl_config *seq = hl_config_new(HL_CONFIG_SEQ, NULL, DEF_FILE, 0, 0);
    const char *p = def + 1;
    while (seq && *p && *p != ']') {
        while (*p == ' ') p++;
        size_t k = strcspn(p, ",]");
        size_t t = k;
        while (t && p[t - 1] == ' ') t--;
        char item[256];
        HL_ASSERT(t < sizeof item, "default list item too long in '%s'", def);
        memcpy(item, p, t);
        item[t] = 0;
        if (t || p[k] == ',') {
            hl_config *x = hl_config_new(HL_CONFIG_SCALAR, item, DEF_FILE, 0, 0);
            if (!x || hl_config_seq_push(seq, x) < 0) {
                hl_config_free(seq);
                return NULL;
            }
        }
        p += k + (p[k] == ',');
    }
    return seq;
}

static hl_status set_text(hl_config *n, const char *t) {
    char *d = dup_str(t);
    if (!d) return hl_error_set(HL_ENOMEM, "out of memory resolving a config");
    free(n->text);
    n->text = d;
    return HL_OK;
}

/* Rewrites a scalar of type t canonically in place. */
static hl_status canon_scalar(hl_config *n, hl_param_type t) {
    char buf[64];
    int64_t i;
    bool b;
    hl_fraction f;
    const char *why;
    switch (t) {
    case HL_PARAM_INT:
        HL_ASSERT(hl_config_parse_int(n->text, &i), "resolve: '%s' is not an int (validate first)", n->text);
        snprintf(buf, sizeof buf, "%" PRId64, i);
        break;
    case HL_PARAM_FLOAT:
        HL_ASSERT(hl_config_parse_fraction(n->text, &f, &why) == HL_OK, "resolve: bad number '%s'", n->text);
        hl_config_format_double(f.value, buf, sizeof buf);
        break;
    case HL_PARAM_FRACTION:
        HL_ASSERT(hl_config_parse_fraction(n->text, &f, &why) == HL_OK, "resolve: bad fraction '%s'", n->text);
        hl_fraction_format(&f, buf, sizeof buf);
        if (f.den > 1) n->quoted = true; /* "8/255" as a JSON string */
        break;
    case HL_PARAM_BOOL:
        HL_ASSERT(hl_config_parse_bool(n->text, &b), "resolve: '%s' is not a bool", n->text);
        snprintf(buf, sizeof buf, "%s", b ? "true" : "false");
        break;
    default: n->quoted = true; return HL_OK;
    }
    return set_text(n, buf);
}

static hl_status resolve_value(hl_config *v, const hl_param_spec *s);

static hl_status resolve_map(hl_config *m, const hl_param_spec *specs, int n) {
    hl_status st = HL_OK;
    HL_ASSERT(m->kind == HL_CONFIG_MAP, "resolve: not a map (validate first)");
    for (int64_t i = 0; i < m->n; i++) {
        const hl_param_spec *s = hl_param_find(specs, n, m->items[i]->key);
        if (s) HL_TRY(resolve_value(m->items[i], s));
    }
    for (int j = 0; j < n; j++) {
        if (hl_config_get(m, specs[j].name)) continue;
        HL_ASSERT(specs[j].def, "resolve: required key '%s' missing (validate first)", specs[j].name);
        hl_config *d = default_node(specs[j].def);
        if (!d) return hl_error_set(HL_ENOMEM, "out of memory resolving defaults");
        HL_TRY(hl_config_map_put(m, specs[j].name, 0, 0, d));
        HL_TRY(resolve_value(m->items[m->n - 1], &specs[j]));
    }
done:
    return st;
}

/* Wraps a scalar into a one-element list in place (the node keeps its key and position). */
static hl_status scalar_to_list(hl_config *v) {
    hl_config *x = hl_config_new(HL_CONFIG_SCALAR, v->text, v->file, v->line, v->col);
    if (!x) return hl_error_set(HL_ENOMEM, "out of memory resolving a config");
    x->quoted = v->quoted;
    free(v->text);
    v->text = NULL;
    v->kind = HL_CONFIG_SEQ;
    return hl_config_seq_push(v, x);
}

static hl_status resolve_value(hl_config *v, const hl_param_spec *s) {
    hl_status st = HL_OK;
    if (v->kind == HL_CONFIG_NULL) return HL_OK;
    switch (s->type) {
    case HL_PARAM_INT_LIST:
    case HL_PARAM_FLOAT_LIST:
    case HL_PARAM_STRING_LIST: {
        hl_param_type el = s->type == HL_PARAM_INT_LIST     ? HL_PARAM_INT
                           : s->type == HL_PARAM_FLOAT_LIST ? HL_PARAM_FLOAT
                                                            : HL_PARAM_STRING;
        if (v->kind == HL_CONFIG_SCALAR) HL_TRY(scalar_to_list(v));
        for (int64_t i = 0; i < v->n; i++) HL_TRY(canon_scalar(v->items[i], el));
        break;
    }
    case HL_PARAM_MAP:
        if (s->fields) HL_TRY(resolve_map(v, s->fields, s->n_fields));
        break;
    case HL_PARAM_MAP_LIST:
        for (int64_t i = 0; s->fields && i < v->n; i++) HL_TRY(resolve_map(v->items[i], s->fields, s->n_fields));
        break;
    default: HL_TRY(canon_scalar(v, s->type));
    }
done:
    return st;
}

hl_status hl_config_resolve(const hl_config *node, const hl_param_spec *specs, int n, hl_config **out) {
    hl_status st = HL_OK;
    *out = NULL;
    hl_config *c = hl_config_clone(node);
    if (!c) return hl_error_set(HL_ENOMEM, "out of memory copying a config");
    char *key = c->key; /* resolve a detached copy as a root */
    c->key = NULL;
    free(key);
    HL_TRY(resolve_map(c, specs, n));
    *out = c;
    c = NULL;
done:
    hl_config_free(c);
    return st;
}

/* ---- schema table ---- */

hl_status hl_param_schema_format(const hl_param_spec *specs, int n, char **out) {
    static const char *const head[5] = {"name", "type", "default", "range", "doc"};
    size_t w[4];
    for (int c = 0; c < 4; c++) w[c] = strlen(head[c]);
    const char *cell[4];
    size_t cap = 256;
    for (int i = 0; i < n; i++) {
        cell[0] = specs[i].name;
        cell[1] = hl_param_type_name(specs[i].type);
        cell[2] = specs[i].def ? specs[i].def : "(required)";
        cell[3] = specs[i].range ? specs[i].range : specs[i].choices ? specs[i].choices : "-";
        for (int c = 0; c < 4; c++) w[c] = HL_MAX(w[c], strlen(cell[c]));
        cap += strlen(specs[i].doc ? specs[i].doc : "");
    }
    cap += (size_t)(n + 1) * (w[0] + w[1] + w[2] + w[3] + 16);
    char *s = malloc(cap);
    if (!s) return hl_error_set(HL_ENOMEM, "out of memory formatting a schema");
    size_t k = 0;
    for (int i = -1; i < n; i++) {
        const char *doc = i < 0 ? head[4] : specs[i].doc ? specs[i].doc : "";
        if (i < 0) {
            for (int c = 0; c < 4; c++) cell[c] = head[c];
        } else {
            cell[0] = specs[i].name;
            cell[1] = hl_param_type_name(specs[i].type);
            cell[2] = specs[i].def ? specs[i].def : "(required)";
            cell[3] = specs[i].range ? specs[i].range : specs[i].choices ? specs[i].choices : "-";
        }
        for (int c = 0; c < 4; c++) k += (size_t)snprintf(s + k, cap - k, "%-*s  ", (int)w[c], cell[c]);
        k += (size_t)snprintf(s + k, cap - k, "%s", doc);
        while (k && s[k - 1] == ' ') k--;
        s[k++] = '\n';
        s[k] = 0;
    }
    *out = s;
    return HL_OK;
}
