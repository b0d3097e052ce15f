/* core/config.c — config tree, lookup, scalar parsing, typed getters, canonical JSON. */
#include "core/config.h"
#include "core/strbuf.h"

#include <ctype.h>
#include <errno.h>
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

/* ---- construction ---- */

hl_config *hl_config_new(hl_config_kind kind, const char *text, const char *file, int line, int col) {
    hl_config *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->kind = kind;
    c->line = line;
    c->col = col;
    c->file = dup_str(file ? file : "");
    if (kind == HL_CONFIG_SCALAR) c->text = dup_str(text ? text : "");
    if (!c->file || (kind == HL_CONFIG_SCALAR && !c->text)) {
        hl_config_free(c);
        return NULL;
    }
    return c;
}

/* ---- the key index of large maps: lookups and duplicate checks in O(1), so a map with 40,000 keys loads in
 * milliseconds, not the tens of seconds a linear scan per key costs ---- */

static uint64_t key_hash(const char *k) {
    uint64_t h = 1469598103934665603ull;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

static void index_insert(hl_config *m, int64_t pos) {
    uint64_t mask = (uint64_t)m->index_cap - 1, s = key_hash(m->items[pos]->key) & mask;
    while (m->index[s]) s = (s + 1) & mask;
    m->index[s] = pos + 1;
}

/* (Re)builds the index for the current entries when the map is large enough; false on allocation failure (the map
 * then falls back to linear search: still correct). */
static bool index_build(hl_config *m) {
    free(m->index);
    m->index = NULL;
    m->index_cap = 0;
    if (m->n < HL_CONFIG_INDEX_MIN) return true;
    int64_t cap = 64;
    while (cap < 2 * (m->n + 1)) cap *= 2;
    if (!(m->index = calloc((size_t)cap, sizeof *m->index))) return false;
    m->index_cap = cap;
    for (int64_t i = 0; i < m->n; i++) index_insert(m, i);
    return true;
}

static hl_status push_item(hl_config *p, hl_config *v) {
    if (p->n == p->cap) {
        int64_t cap = p->cap ? 2 * p->cap : 4;
        hl_config **it = realloc(p->items, (size_t)cap * sizeof *it);
        if (!it) return hl_error_set(HL_ENOMEM, "out of memory growing a config node");
        p->items = it;
        p->cap = cap;
    }
    p->items[p->n++] = v;
    v->parent = p;
    if (p->kind == HL_CONFIG_MAP && p->n >= HL_CONFIG_INDEX_MIN) {
        if (p->index && 2 * (p->n + 1) <= p->index_cap) index_insert(p, p->n - 1);
        else index_build(p);
    }
    return HL_OK;
}

hl_status hl_config_map_put(hl_config *map, const char *key, int key_line, int key_col, hl_config *value) {
    HL_ASSERT(map && map->kind == HL_CONFIG_MAP && key && value && !value->parent, "map_put needs a map and a key");
    hl_status st = HL_OK;
    const hl_config *old = hl_config_get(map, key);
    if (old) {
        st = hl_error_set(HL_EINVAL, "%s:%d:%d: duplicate key '%s' (first defined at %d:%d)", map->file, key_line,
                          key_col, key, old->key_line, old->key_col);
        goto done;
    }
    free(value->key);
    value->key = dup_str(key);
    if (!value->key) {
        st = hl_error_set(HL_ENOMEM, "out of memory adding key '%s'", key);
        goto done;
    }
    value->key_line = key_line;
    value->key_col = key_col;
    st = push_item(map, value);
done:
    if (st < 0) hl_config_free(value);
    return st;
}

hl_status hl_config_seq_push(hl_config *seq, hl_config *value) {
    HL_ASSERT(seq && seq->kind == HL_CONFIG_SEQ && value && !value->parent, "seq_push needs a sequence");
    hl_status st = push_item(seq, value);
    if (st < 0) hl_config_free(value);
    return st;
}

bool hl_config_map_remove(hl_config *map, const char *key) {
    if (!map || map->kind != HL_CONFIG_MAP) return false;
    for (int64_t i = 0; i < map->n; i++)
        if (strcmp(map->items[i]->key, key) == 0) {
            hl_config *v = map->items[i];
            memmove(map->items + i, map->items + i + 1, (size_t)(map->n - i - 1) * sizeof *map->items);
            map->n--;
            v->parent = NULL;
            hl_config_free(v);
            if (map->index) index_build(map); /* positions moved */
            return true;
        }
    return false;
}

hl_config *hl_config_clone(const hl_config *node) {
    hl_config *c = hl_config_new(node->kind, node->text, node->file, node->line, node->col);
    if (!c) return NULL;
    c->quoted = node->quoted;
    c->key_line = node->key_line;
    c->key_col = node->key_col;
    if (node->key && !(c->key = dup_str(node->key))) goto fail;
    for (int64_t i = 0; i < node->n; i++) {
        hl_config *k = hl_config_clone(node->items[i]);
        if (!k) goto fail;
        if (push_item(c, k) < 0) {
            hl_config_free(k);
            goto fail;
        }
    }
    return c;
fail:
    hl_config_free(c);
    return NULL;
}

void hl_config_free(hl_config *node) {
    if (!node) return;
    for (int64_t i = 0; i < node->n; i++) {
        node->items[i]->parent = NULL;
        hl_config_free(node->items[i]);
    }
    free(node->items);
    free(node->index);
    free(node->key);
    free(node->text);
    free(node->file);
    free(node);
}

/* ---- lookup ---- */

const hl_config *hl_config_get(const hl_config *map, const char *key) {
    if (!map || map->kind != HL_CONFIG_MAP) return NULL;
    if (map->index) {
        uint64_t mask = (uint64_t)map->index_cap - 1;
        for (uint64_t s = key_hash(key) & mask; map->index[s]; s = (s + 1) & mask)
            if (strcmp(map->items[map->index[s] - 1]->key, key) == 0) return map->items[map->index[s] - 1];
        return NULL;
    }
    for (int64_t i = 0; i < map->n; i++)
        if (strcmp(map->items[i]->key, key) == 0) return map->items[i];
    return NULL;
}

const hl_config *hl_config_path(const hl_config *node, const char *path) {
    char seg[256];
    const char *p = path;
    while (node && *p) {
        size_t k = strcspn(p, ".");
        if (k >= sizeof seg) return NULL;
        memcpy(seg, p, k);
        seg[k] = 0;
        p += k + (p[k] == '.');
        if (node->kind == HL_CONFIG_SEQ) {
            int64_t i;
            if (!hl_config_parse_int(seg, &i) || i < 0 || i >= node->n) return NULL;
            node = node->items[i];
        } else {
            node = hl_config_get(node, seg);
        }
    }
    return node;
}

int64_t hl_config_len(const hl_config *node) {
    return node && (node->kind == HL_CONFIG_MAP || node->kind == HL_CONFIG_SEQ) ? node->n : 0;
}

const hl_config *hl_config_at(const hl_config *node, int64_t i) {
    HL_ASSERT(i >= 0 && i < hl_config_len(node), "index %lld out of range", (long long)i);
    return node->items[i];
}

const char *hl_config_kind_name(hl_config_kind kind) {
    switch (kind) {
    case HL_CONFIG_NULL: return "null";
    case HL_CONFIG_SCALAR: return "scalar";
    case HL_CONFIG_MAP: return "map";
    case HL_CONFIG_SEQ: return "list";
    }
    return "?";
}

char *hl_config_where(const hl_config *node, char *buf, size_t n) {
    snprintf(buf, n, "%s:%d:%d", node->file, node->line, node->col);
    return buf;
}

char *hl_config_name(const hl_config *node, char *buf, size_t n) {
    if (!node->parent) {
        if (n) buf[0] = 0;
        return buf;
    }
    hl_config_name(node->parent, buf, n);
    size_t len = strnlen(buf, n);
    if (len >= n) return buf;
    if (node->parent->kind == HL_CONFIG_MAP) {
        snprintf(buf + len, n - len, "%s%s", len ? "." : "", node->key);
    } else {
        int64_t i = 0;
        while (i < node->parent->n && node->parent->items[i] != node) i++;
        snprintf(buf + len, n - len, "[%lld]", (long long)i);
    }
    return buf;
}

hl_status hl_config_error(const hl_config *node, hl_status code, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hl_error_set(code, "%s:%d:%d: %s", node->file, node->line, node->col, msg);
}

/* ---- scalar parsing ---- */

bool hl_config_parse_int(const char *s, int64_t *out) {
    const char *p = s + (*s == '+' || *s == '-');
    if (!isdigit((unsigned char)*p)) return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE) return false;
    *out = v;
    return true;
}

/* Float syntax check: [+-]?(D.D|D.|.D|D)([eE][+-]?D)? */
static bool float_syntax(const char *s) {
    const char *p = s + (*s == '+' || *s == '-');
    int digits = 0;
    while (isdigit((unsigned char)*p)) p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) p++, digits++;
    }
    if (!digits) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '+' || *p == '-');
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) p++;
    }
    return *p == 0;
}

bool hl_config_parse_double(const char *s, double *out) {
    if (!float_syntax(s)) return false;
    double v = strtod(s, NULL);
    if (!isfinite(v)) return false;
    *out = v;
    return true;
}

bool hl_config_parse_bool(const char *s, bool *out) {
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const f[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    for (size_t i = 0; i < HL_ARRAY_LEN(t); i++) {
        if (strcmp(s, t[i]) == 0) return *out = true, true;
        if (strcmp(s, f[i]) == 0) return *out = false, true;
    }
    return false;
}

bool hl_config_is_null_text(const char *s) {
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int64_t gcd64(int64_t a, int64_t b) {
    if (a < 0) a = -a;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

#define HL_EXACT_MAX 9007199254740992LL /* 2^53 */

/* Exact ratio of a decimal "[+-]?D.DeX" when it fits int64 (den = 10^k, k <= 18); den = 0 otherwise. */
static void decimal_ratio(const char *s, hl_fraction *f) {
    int neg = *s == '-';
    const char *p = s + (*s == '+' || *s == '-');
    int64_t num = 0;
    int scale = 0, ok = 1, frac = 0; /* value = num * 10^(-scale) */
    for (; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            frac = 1;
            continue;
        }
        if (num > (INT64_MAX - 9) / 10) ok = 0;
        else num = num * 10 + (*p - '0');
        scale += frac;
    }
    if (*p) {
        long ex = strtol(p + 1, NULL, 10); /* saturates at LONG_MIN/MAX */
        if (ex > 400 || ex < -400) ok = 0;
        else scale -= (int)ex;
    }
    while (ok && scale < 0) {
        if (num > INT64_MAX / 10) ok = 0;
        else num *= 10, scale++;
    }
    int64_t den = 1;
    for (int i = 0; ok && i < scale; i++) {
        if (den > INT64_MAX / 10) ok = 0;
        else den *= 10;
    }
    if (!ok) {
        f->num = 0;
        f->den = 0;
        return;
    }
    int64_t g = gcd64(num, den);
    f->num = (neg ? -num : num) / g;
    f->den = den / g;
}

hl_status hl_config_parse_fraction(const char *s, hl_fraction *out, const char **why) {
    const char *slash = strchr(s, '/');
    if (!slash) {
        if (!hl_config_parse_double(s, &out->value)) {
            *why = "not a number or a fraction like 8/255";
            return HL_EINVAL;
        }
        decimal_ratio(s, out);
        return HL_OK;
    }
    char a[64], b[64];
    size_t la = (size_t)(slash - s), lb = strlen(slash + 1);
    while (la && s[la - 1] == ' ') la--;
    const char *bs = slash + 1;
    while (*bs == ' ') bs++, lb--;
    if (la >= sizeof a || lb >= sizeof b) {
        *why = "too large for exact arithmetic";
        return HL_EINVAL;
    }
    memcpy(a, s, la);
    a[la] = 0;
    memcpy(b, bs, lb);
    b[lb] = 0;
    int64_t p, q;
    if (!hl_config_parse_int(a, &p) || !isdigit((unsigned char)b[0]) || !hl_config_parse_int(b, &q)) {
        *why = "not a number or a fraction like 8/255";
        return HL_EINVAL;
    }
    if (q == 0) {
        *why = "denominator is zero";
        return HL_EINVAL;
    }
    if (p > HL_EXACT_MAX || p < -HL_EXACT_MAX || q > HL_EXACT_MAX) {
        *why = "too large for exact arithmetic";
        return HL_EINVAL;
    }
    out->value = (double)p / (double)q;
    int64_t g = gcd64(p, q);
    out->num = p / g;
    out->den = q / g;
    return HL_OK;
}

char *hl_config_format_double(double x, char *buf, size_t n) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    return buf;
}

char *hl_fraction_format(const hl_fraction *f, char *buf, size_t n) {
    if (f->den == 0) return hl_config_format_double(f->value, buf, n);
    if (f->den == 1) snprintf(buf, n, "%" PRId64, f->num);
    else snprintf(buf, n, "%" PRId64 "/%" PRId64, f->num, f->den);
    return buf;
}

char *hl_fraction_format_written(const char *text, char *buf, size_t n) {
    hl_fraction f;
    const char *why;
    if (n) buf[0] = 0;
    if (!text || hl_config_parse_fraction(text, &f, &why) < 0) return NULL;
    const char *slash = strchr(text, '/');
    if (!slash) return hl_config_format_double(f.value, buf, n);
    int64_t p = 0, q = 0; /* as parsed: integers, checked above */
    sscanf(text, "%" SCNd64, &p);
    sscanf(slash + 1, "%" SCNd64, &q);
    snprintf(buf, n, "%" PRId64 "/%" PRId64, p, q);
    return buf;
}

/* ---- typed reads ---- */

/* "FILE:L:C: PATH: expected X, got 'text'" (or "got a map"). */
static hl_status type_error(const hl_config *node, const char *expected, const char *why) {
    char name[256], got[160];
    hl_config_name(node, name, sizeof name);
    if (node->kind == HL_CONFIG_SCALAR) snprintf(got, sizeof got, "'%.120s'", node->text);
    else if (node->kind == HL_CONFIG_NULL) snprintf(got, sizeof got, "null");
    else snprintf(got, sizeof got, "%s", node->kind == HL_CONFIG_MAP ? "a map" : "a list");
    return hl_config_error(node, HL_EINVAL, "%s%sexpected %s, got %s%s%s%s", name, *name ? ": " : "", expected, got,
                           why ? " (" : "", why ? why : "", why ? ")" : "");
}

hl_status hl_config_as_int(const hl_config *node, int64_t *out) {
    if (node->kind != HL_CONFIG_SCALAR || !hl_config_parse_int(node->text, out)) {
        int64_t dummy;
        bool big = node->kind == HL_CONFIG_SCALAR && float_syntax(node->text) && !strpbrk(node->text, ".eE") &&
                   !hl_config_parse_int(node->text, &dummy);
        return type_error(node, "an integer", big ? "out of the 64-bit range" : NULL);
    }
    return HL_OK;
}

hl_status hl_config_as_double(const hl_config *node, double *out) {
    hl_fraction f;
    const char *why = NULL;
    if (node->kind != HL_CONFIG_SCALAR || hl_config_parse_fraction(node->text, &f, &why) < 0)
        return type_error(node, "a number", NULL);
    *out = f.value;
    return HL_OK;
}

hl_status hl_config_as_float(const hl_config *node, float *out) {
    double d = 0;
    hl_status st = hl_config_as_double(node, &d);
    if (st < 0) return st;
    if (fabs(d) > 3.4028234663852886e38) return type_error(node, "a number", "too large for a float");
    *out = (float)d;
    return HL_OK;
}

hl_status hl_config_as_bool(const hl_config *node, bool *out) {
    if (node->kind != HL_CONFIG_SCALAR || node->quoted || !hl_config_parse_bool(node->text, out))
        return type_error(node, "true or false", NULL);
    return HL_OK;
}

hl_status hl_config_as_string(const hl_config *node, const char **out) {
    if (node->kind != HL_CONFIG_SCALAR) return type_error(node, "a string", NULL);
    *out = node->text;
    return HL_OK;
}

hl_status hl_config_as_fraction(const hl_config *node, hl_fraction *out) {
    const char *why = NULL;
    if (node->kind != HL_CONFIG_SCALAR) return type_error(node, "a number or a fraction like 8/255", NULL);
    if (hl_config_parse_fraction(node->text, out, &why) < 0) {
        bool plain = strcmp(why, "not a number or a fraction like 8/255") == 0;
        return type_error(node, "a number or a fraction like 8/255", plain ? NULL : why);
    }
    return HL_OK;
}

/* ---- getters by path ---- */

static hl_status find(const hl_config *map, const char *path, const hl_config **out) {
    *out = hl_config_path(map, path);
    if (!*out) return hl_config_error(map, HL_ENOTFOUND, "missing key '%s'", path);
    return HL_OK;
}

#define HL_GETTER(fn, as, T)                                                                                          \
    hl_status fn(const hl_config *map, const char *path, T *out) {                                                    \
        const hl_config *n;                                                                                           \
        hl_status st = find(map, path, &n);                                                                           \
        return st < 0 ? st : as(n, out);                                                                              \
    }
HL_GETTER(hl_config_get_int, hl_config_as_int, int64_t)
HL_GETTER(hl_config_get_double, hl_config_as_double, double)
HL_GETTER(hl_config_get_float, hl_config_as_float, float)
HL_GETTER(hl_config_get_bool, hl_config_as_bool, bool)
HL_GETTER(hl_config_get_string, hl_config_as_string, const char *)
HL_GETTER(hl_config_get_fraction, hl_config_as_fraction, hl_fraction)

static hl_status range_error(const hl_config *n, const char *val, const char *lo, const char *hi) {
    char name[256];
    hl_config_name(n, name, sizeof name);
    return hl_config_error(n, HL_EINVAL, "%s%s%s is out of range [%s, %s]", name, *name ? ": " : "", val, lo, hi);
}

hl_status hl_config_get_int_range(const hl_config *map, const char *path, int64_t lo, int64_t hi, int64_t *out) {
    const hl_config *n;
    hl_status st = find(map, path, &n);
    if (st < 0 || (st = hl_config_as_int(n, out)) < 0) return st;
    if (*out < lo || *out > hi) {
        char a[32], b[32], c[32];
        snprintf(a, sizeof a, "%" PRId64, *out);
        snprintf(b, sizeof b, "%" PRId64, lo);
        snprintf(c, sizeof c, "%" PRId64, hi);
        return range_error(n, a, b, c);
    }
    return HL_OK;
}

hl_status hl_config_get_double_range(const hl_config *map, const char *path, double lo, double hi, double *out) {
    const hl_config *n;
    hl_status st = find(map, path, &n);
    if (st < 0 || (st = hl_config_as_double(n, out)) < 0) return st;
    if (!(*out >= lo && *out <= hi)) {
        char b[32], c[32];
        hl_config_format_double(lo, b, sizeof b);
        hl_config_format_double(hi, c, sizeof c);
        return range_error(n, n->text, b, c);
    }
    return HL_OK;
}

/* Elements of a list value (a scalar is its own one-element list). */
static hl_status list_items(const hl_config *map, const char *path, const hl_config *const **items, int64_t *n,
                            const hl_config **one) {
    const hl_config *v;
    hl_status st = find(map, path, &v);
    if (st < 0) return st;
    if (v->kind == HL_CONFIG_SEQ) {
        *items = (const hl_config *const *)v->items;
        *n = v->n;
    } else if (v->kind == HL_CONFIG_SCALAR) {
        *one = v;
        *items = one;
        *n = 1;
    } else {
        return type_error(v, "a list", NULL);
    }
    return HL_OK;
}

#define HL_LIST_GETTER(fn, as, T)                                                                                     \
    hl_status fn(const hl_config *map, const char *path, T **out, int64_t *n) {                                       \
        const hl_config *const *it = NULL, *one = NULL;                                                               \
        *out = NULL;                                                                                                  \
        *n = 0;                                                                                                       \
        int64_t k = 0;                                                                                                \
        hl_status st = list_items(map, path, &it, &k, &one);                                                          \
        if (st < 0) return st;                                                                                        \
        T *v = malloc((size_t)(k ? k : 1) * sizeof *v);                                                               \
        if (!v) return hl_error_set(HL_ENOMEM, "out of memory reading list '%s'", path);                              \
        for (int64_t i = 0; i < k; i++)                                                                               \
            if ((st = as(it[i], &v[i])) < 0) {                                                                        \
                free(v);                                                                                              \
                return st;                                                                                            \
            }                                                                                                         \
        *out = v;                                                                                                     \
        *n = k;                                                                                                       \
        return HL_OK;                                                                                                 \
    }
HL_LIST_GETTER(hl_config_get_int_list, hl_config_as_int, int64_t)
HL_LIST_GETTER(hl_config_get_double_list, hl_config_as_double, double)

hl_status hl_config_get_string_list(const hl_config *map, const char *path, char ***out, int64_t *n) {
    const hl_config *const *it = NULL, *one = NULL;
    int64_t k = 0;
    *out = NULL;
    *n = 0;
    hl_status st = list_items(map, path, &it, &k, &one);
    if (st < 0) return st;
    char **v = calloc((size_t)(k ? k : 1), sizeof *v);
    if (!v) return hl_error_set(HL_ENOMEM, "out of memory reading list '%s'", path);
    for (int64_t i = 0; i < k; i++) {
        const char *s = NULL;
        if ((st = hl_config_as_string(it[i], &s)) < 0) goto done;
        if (!(v[i] = dup_str(s))) {
            st = hl_error_set(HL_ENOMEM, "out of memory reading list '%s'", path);
            goto done;
        }
    }
    *out = v;
    *n = k;
done:
    if (st < 0) hl_config_strings_free(v, k);
    return st;
}

void hl_config_strings_free(char **s, int64_t n) {
    if (!s) return;
    for (int64_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* ---- canonical JSON ---- */

static void put_json_string(hl_strbuf *b, const char *s) {
    hl_strbuf_put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char e[8];
        if (*c == '"' || *c == '\\') {
            e[0] = '\\';
            e[1] = (char)*c;
            hl_strbuf_put(b, e, 2);
        } else if (*c == '\n' || *c == '\t' || *c == '\r') {
            e[0] = '\\';
            e[1] = *c == '\n' ? 'n' : *c == '\t' ? 't' : 'r';
            hl_strbuf_put(b, e, 2);
        } else if (*c < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", *c);
            hl_strbuf_put(b, e, 6);
        } else {
            hl_strbuf_put(b, (const char *)c, 1);
        }
    }
    hl_strbuf_put(b, "\"", 1);
}

static int cmp_key(const void *a, const void *b) {
    return strcmp((*(const hl_config *const *)a)->key, (*(const hl_config *const *)b)->key);
}

static void json_node(hl_strbuf *b, const hl_config *n) {
    char num[40];
    int64_t i;
    double d;
    bool t;
    switch (n->kind) {
    case HL_CONFIG_NULL: hl_strbuf_put(b, "null", 4); break;
    case HL_CONFIG_SCALAR:
        if (n->quoted) put_json_string(b, n->text);
        else if (hl_config_parse_int(n->text, &i)) {
            snprintf(num, sizeof num, "%" PRId64, i);
            hl_strbuf_put(b, num, strlen(num));
        } else if (hl_config_parse_double(n->text, &d)) {
            hl_config_format_double(d, num, sizeof num);
            hl_strbuf_put(b, num, strlen(num));
        } else if (hl_config_parse_bool(n->text, &t)) {
            hl_strbuf_put(b, t ? "true" : "false", t ? 4 : 5);
        } else {
            put_json_string(b, n->text);
        }
        break;
    case HL_CONFIG_SEQ:
        hl_strbuf_put(b, "[", 1);
        for (int64_t k = 0; k < n->n; k++) {
            if (k) hl_strbuf_put(b, ",", 1);
            json_node(b, n->items[k]);
        }
        hl_strbuf_put(b, "]", 1);
        break;
    case HL_CONFIG_MAP: {
        const hl_config **s = malloc((size_t)(n->n ? n->n : 1) * sizeof *s);
        if (!s) {
            b->oom = true;
            return;
        }
        if (n->n) memcpy(s, n->items, (size_t)n->n * sizeof *s);
        qsort(s, (size_t)n->n, sizeof *s, cmp_key);
        hl_strbuf_put(b, "{", 1);
        for (int64_t k = 0; k < n->n; k++) {
            if (k) hl_strbuf_put(b, ",", 1);
            put_json_string(b, s[k]->key);
            hl_strbuf_put(b, ":", 1);
            json_node(b, s[k]);
        }
        hl_strbuf_put(b, "}", 1);
        free(s);
        break;
    }
    }
}

hl_status hl_config_canonical_json(const hl_config *node, char **out) {
    hl_strbuf b = {0};
    *out = NULL;
    json_node(&b, node);
    if (b.oom || !b.p) {
        free(b.p);
        return hl_error_set(HL_ENOMEM, "out of memory writing canonical JSON");
    }
    *out = b.p;
    return HL_OK;
}
