/* lab/overrides.c — --set-file fragments, PATH=VALUE overrides and sweeps over a suite tree; see overrides.h. */
#include "lab/overrides.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io/atomic.h"
#include "hashers/hasher.h"
#include "lab/plugin.h"
#include "lab/store.h"
#include "lab/yaml_load.h"

#define OV_MAX_SEGS 32
#define OV_MAX_PARTS 256

typedef struct ov_seg {
    char key[128];
    int64_t index;  /* bracketed or numeric */
    bool bracket;   /* written [i] */
    bool numeric;   /* digits only: an index where the node is a list */
    int col, end;   /* 1-based column of the segment; offset just past it in the text */
} ov_seg;

typedef struct ov_item {
    const char *text;
    char name[160]; /* "<override N 'TEXT'>" */
    ov_seg segs[OV_MAX_SEGS];
    int nseg;
    int path_start;         /* 0, or 1 after a leading '+' */
    const char *value;      /* after the first '=' */
    int value_col;          /* 1-based column of value[0] */
    int nparts;             /* top-level comma-separated values */
    bool sweep;             /* nparts > 1 for a key that is not a list: entries are copied */
    int off[OV_MAX_PARTS], len[OV_MAX_PARTS];
} ov_item;

bool hl_overrides_empty(const hl_overrides *ov) { return !ov || (ov->nset_files == 0 && ov->nitems == 0); }

static void ov_error(hl_config_errors *errs, const ov_item *o, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ov_error(hl_config_errors *errs, const ov_item *o, int col, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hl_config_errors_add(errs, o->name, 1, col, "%s", msg);
}

/* ---- parsing PATH=VALUE ---- */

/* The path up to and including segment i, as written ("hashers.dpsh"). */
static const char *path_to(const ov_item *o, int i, char *buf, size_t n) {
    int a = o->path_start, b = o->segs[i].end;
    snprintf(buf, n, "%.*s", b - a, o->text + a);
    return buf;
}

static bool parse_path(ov_item *o, int plen, hl_config_errors *errs) {
    const char *t = o->text;
    int pos = o->path_start;
    while (pos < plen) {
        if (o->nseg == OV_MAX_SEGS) {
            ov_error(errs, o, pos + 1, "the path is deeper than %d keys", OV_MAX_SEGS);
            return false;
        }
        ov_seg *s = &o->segs[o->nseg];
        if (t[pos] == '[') {
            int start = pos + 1, q = start;
            while (q < plen && isdigit((unsigned char)t[q])) q++;
            if (q == start || q >= plen || t[q] != ']' || q - start > 12) {
                ov_error(errs, o, pos + 1, "expected [INDEX] with a non-negative integer INDEX");
                return false;
            }
            *s = (ov_seg){.bracket = true, .numeric = true, .index = strtoll(t + start, NULL, 10), .col = pos + 1,
                          .end = q + 1};
            snprintf(s->key, sizeof s->key, "%.*s", q - start, t + start);
            pos = q + 1;
        } else {
            if (o->nseg > 0) {
                if (t[pos] != '.') {
                    ov_error(errs, o, pos + 1, "expected '.' or '[' after '%.*s'", pos - o->path_start,
                             t + o->path_start);
                    return false;
                }
                pos++;
            }
            int start = pos;
            while (pos < plen && t[pos] != '.' && t[pos] != '[' && t[pos] != ']') pos++;
            if (pos == start || (pos < plen && t[pos] == ']') || pos - start >= (int)sizeof s->key) {
                ov_error(errs, o, start + 1, pos == start ? "empty key in the path" : "bad key in the path");
                return false;
            }
            *s = (ov_seg){.col = start + 1, .end = pos};
            snprintf(s->key, sizeof s->key, "%.*s", pos - start, t + start);
            s->numeric = pos - start <= 12;
            for (int k = start; k < pos && s->numeric; k++) s->numeric = isdigit((unsigned char)t[k]);
            if (s->numeric) s->index = strtoll(s->key, NULL, 10);
        }
        o->nseg++;
    }
    if (o->nseg == 0) {
        ov_error(errs, o, 1, "expected PATH=VALUE, e.g. hashers.dpsh.params.epochs=5 (no PATH before '=')");
        return false;
    }
    return true;
}

/* Splits VALUE at top-level commas (outside [] {} and quotes), trimming spaces. */
static bool split_value(ov_item *o, hl_config_errors *errs) {
    const char *v = o->value;
    int depth = 0, start = 0;
    char q = 0;
    bool tok_start = true; /* a quote opens a quoted scalar only where a value starts */
    o->nparts = 0;
    for (int i = 0;; i++) {
        char c = v[i];
        if (c == 0 || (c == ',' && depth == 0 && !q)) {
            if (o->nparts == OV_MAX_PARTS) {
                ov_error(errs, o, o->value_col + i, "a sweep of more than %d values", OV_MAX_PARTS);
                return false;
            }
            int a = start, b = i;
            while (a < b && v[a] == ' ') a++;
            while (b > a && v[b - 1] == ' ') b--;
            o->off[o->nparts] = a, o->len[o->nparts] = b - a, o->nparts++;
            if (!c) break;
            start = i + 1, tok_start = true;
            continue;
        }
        if (q) {
            if (c == q && q == '\'' && v[i + 1] == '\'') i++;
            else if (c == q) q = 0;
            else if (q == '"' && c == '\\' && v[i + 1]) i++;
            continue;
        }
        if ((c == '\'' || c == '"') && tok_start) q = c;
        else if (c == '[' || c == '{') depth++;
        else if ((c == ']' || c == '}') && depth > 0) depth--;
        if (c != ' ') tok_start = c == '[' || c == '{' || c == ',' || c == ':';
    }
    for (int k = 0; k < o->nparts && o->nparts > 1; k++)
        if (!o->len[k]) {
            ov_error(errs, o, o->value_col + o->off[k], "empty value in the sweep '%s'", v);
            return false;
        }
    return true;
}

/* True when PATH names a key whose value is a list in the suite format (seeds, hashers[i].bits, report.formats...). */
static bool path_is_list(const ov_item *o) {
    int n = 0;
    const hl_param_spec *specs = hl_suite_schema(&n);
    bool element = false;
    for (int i = 0; i < o->nseg; i++) {
        if (element) { /* the index or selector after a list of maps */
            element = false;
            continue;
        }
        const hl_param_spec *sp = specs && !o->segs[i].bracket ? hl_param_find(specs, n, o->segs[i].key) : NULL;
        if (!sp) return false;
        if (i == o->nseg - 1)
            return sp->type == HL_PARAM_INT_LIST || sp->type == HL_PARAM_FLOAT_LIST || sp->type == HL_PARAM_STRING_LIST;
        if (sp->type != HL_PARAM_MAP && sp->type != HL_PARAM_MAP_LIST) return false;
        element = sp->type == HL_PARAM_MAP_LIST;
        specs = sp->fields, n = sp->n_fields;
    }
    return false;
}

static bool parse_item(ov_item *o, int number, const char *text, hl_config_errors *errs) {
    memset(o, 0, sizeof *o);
    o->text = text;
    snprintf(o->name, sizeof o->name, "<override %d '%.100s%s'>", number, text, strlen(text) > 100 ? "..." : "");
    const char *eq = strchr(text, '=');
    if (strchr(text, '\n') || strchr(text, '\r')) {
        ov_error(errs, o, 1, "an override is one line: PATH=VALUE");
        return false;
    }
    if (!eq) {
        ov_error(errs, o, 1, "expected PATH=VALUE, e.g. hashers.dpsh.params.epochs=5");
        return false;
    }
    o->path_start = text[0] == '+';
    o->value = eq + 1;
    o->value_col = (int)(eq - text) + 2;
    if (!parse_path(o, (int)(eq - text), errs) || !split_value(o, errs)) return false;
    o->sweep = o->nparts > 1 && !path_is_list(o);
    return true;
}

static void shift_cols(hl_config *n, int d) {
    if (n->line == 1) n->col += d;
    if (n->key && n->key_line == 1) n->key_col += d;
    for (int64_t i = 0; i < n->n; i++) shift_cols(n->items[i], d);
}

/* Value `part` of an override as a tree positioned in the override's text (*out NULL after a problem, added). */
static hl_status parse_part(const ov_item *o, int part, hl_config **out, hl_config_errors *errs) {
    *out = NULL;
    char *text = malloc((size_t)o->len[part] + 1);
    if (!text) return hl_error_set(HL_ENOMEM, "out of memory parsing an override");
    memcpy(text, o->value + o->off[part], (size_t)o->len[part]);
    text[o->len[part]] = 0;
    int base = o->value_col + o->off[part];
    hl_status st = hl_yaml_load_string(o->name, text, out);
    free(text);
    if (st == HL_ENOMEM) return st;
    if (st < 0) { /* "NAME:L:C: problem": at the override's column */
        const char *m = hl_error_last();
        size_t nl = strlen(o->name);
        int l = 0, c = 0, used = 0;
        if (!strncmp(m, o->name, nl) && m[nl] == ':' && sscanf(m + nl + 1, "%d:%d: %n", &l, &c, &used) == 2 && used)
            ov_error(errs, o, base + c - 1, "VALUE is not YAML: %s", m + nl + 1 + used);
        else
            ov_error(errs, o, base, "VALUE is not YAML: %s", m);
        hl_error_clear();
        return HL_OK;
    }
    shift_cols(*out, base - 1);
    return HL_OK;
}

/* ---- the tree ---- */

static hl_config *child_of(hl_config *map, const char *key) {
    for (int64_t k = 0; k < map->n; k++)
        if (!strcmp(map->items[k]->key, key)) return map->items[k];
    return NULL;
}

/* Puts v (detached; taken) under key, in the place of an existing value. */
static hl_status put_in_map(hl_config *map, const char *key, int key_line, int key_col, hl_config *v) {
    for (int64_t k = 0; k < map->n; k++) {
        if (strcmp(map->items[k]->key, key)) continue;
        size_t n = strlen(key) + 1;
        char *kc = malloc(n);
        if (!kc) {
            hl_config_free(v);
            return hl_error_set(HL_ENOMEM, "out of memory applying overrides");
        }
        memcpy(kc, key, n);
        free(v->key);
        v->key = kc, v->key_line = key_line, v->key_col = key_col, v->parent = map;
        hl_config *old = map->items[k];
        map->items[k] = v; /* same key at the same place: the map's key index stays right */
        old->parent = NULL;
        hl_config_free(old);
        return HL_OK;
    }
    return hl_config_map_put(map, key, key_line, key_col, v);
}

/* Puts v (detached; taken) at index i of seq (i == its length: appended). */
static hl_status put_in_seq(hl_config *seq, int64_t i, hl_config *v) {
    if (i == seq->n) return hl_config_seq_push(seq, v);
    hl_config *old = seq->items[i];
    free(v->key);
    v->key = NULL, v->parent = seq;
    seq->items[i] = v;
    old->parent = NULL;
    hl_config_free(old);
    return HL_OK;
}

/* The name an entry is selected by: `name:` when a non-empty value, else `method`. */
static const char *entry_name(const hl_config *e) {
    const hl_config *n = hl_config_get(e, "name"), *m = hl_config_get(e, "method");
    if (n && n->kind == HL_CONFIG_SCALAR && n->text[0]) return n->text;
    return m && m->kind == HL_CONFIG_SCALAR ? m->text : "";
}

/* `hashers` or `attacks` at the top of the suite: lists whose entries are selected by name. */
static bool is_entry_list(const hl_config *n) {
    return n->kind == HL_CONFIG_SEQ && n->parent && !n->parent->parent && n->key &&
           (!strcmp(n->key, "hashers") || !strcmp(n->key, "attacks"));
}

/* Entries of an entry list that segment si selects: its name, or (many) the copies NAME@... of an earlier sweep.
 * The first cap indices into idx (ascending); returns how many, 0 after a problem (added): none, or (not many)
 * several. */
static int select_entries(const ov_item *o, int si, const hl_config *list, bool many, int64_t *idx, int cap,
                          hl_config_errors *errs) {
    const ov_seg *s = &o->segs[si];
    const char *kind = !strcmp(list->key, "hashers") ? "hasher entry" : "attack entry";
    int k = 0;
    size_t kl = strlen(s->key);
    for (int64_t i = 0; i < list->n; i++)
        if (!strcmp(entry_name(list->items[i]), s->key) && k++ < cap) idx[k - 1] = i;
    for (int64_t i = 0; many && !k && i < list->n; i++) /* else the copies of an earlier sweep */
        for (int64_t j = i; j < list->n; j++) {
            const char *nm = entry_name(list->items[j]);
            if (!strncmp(nm, s->key, kl) && nm[kl] == '@' && k++ < cap) idx[k - 1] = j;
        }
    char where[300];
    path_to(o, si - 1, where, sizeof where);
    if (k == 0) {
        const char **names = calloc((size_t)(list->n ? list->n : 1), sizeof *names);
        int nn = 0;
        for (int64_t i = 0; names && i < list->n; i++) {
            const char *nm = entry_name(list->items[i]);
            bool seen = false;
            for (int j = 0; j < nn && !seen; j++) seen = !strcmp(names[j], nm);
            if (!seen && nm[0]) names[nn++] = nm;
        }
        hl_registry_miss(kind, s->key, names, nn);
        ov_error(errs, o, s->col, "%s: %s (entries are selected by `name:`, default the method, or by index: %s[0])",
                 where, hl_error_last(), where);
        hl_error_clear();
        free(names);
        return 0;
    }
    if (k > 1 && !many) {
        ov_error(errs, o, s->col, "%s: '%s' names %d entries (%s[%lld] and %s[%lld]%s); select one by index, e.g. "
                 "%s[%lld]", where, s->key, k, where, (long long)idx[0], where, (long long)idx[1],
                 k > 2 ? ", ..." : "", where, (long long)idx[0]);
        return 0;
    }
    return k;
}

/* A new empty map or list for segment si's value, positioned at the segment. */
static hl_config *container_for(const ov_item *o, int si) {
    const ov_seg *next = &o->segs[si + 1];
    return hl_config_new(next->bracket ? HL_CONFIG_SEQ : HL_CONFIG_MAP, NULL, o->name, 1, o->segs[si].col);
}

/* Sets v (taken) at segments [first, nseg) below node, adding what is missing. false after a problem (added). */
static bool set_at(const ov_item *o, hl_config *node, int first, hl_config *v, hl_config_errors *errs, hl_status *st) {
    char where[300];
    hl_config *cur = node;
    for (int i = first; i < o->nseg; i++) {
        const ov_seg *s = &o->segs[i];
        bool last = i == o->nseg - 1;
        if (cur->kind == HL_CONFIG_MAP) {
            if (s->bracket) {
                ov_error(errs, o, s->col, "%s is a map: [i] selects in lists", i ? path_to(o, i - 1, where, sizeof where)
                                                                                     : "the suite");
                goto fail;
            }
            if (last) {
                *st = put_in_map(cur, s->key, 1, s->col, v);
                return *st == HL_OK;
            }
            hl_config *c = child_of(cur, s->key);
            if (!c || c->kind == HL_CONFIG_NULL) {
                hl_config *made = container_for(o, i);
                if (!made || (*st = put_in_map(cur, s->key, 1, s->col, made)) < 0) goto oom;
                c = child_of(cur, s->key);
            }
            cur = c;
        } else if (cur->kind == HL_CONFIG_SEQ) {
            int64_t ix = s->index, two[2];
            if (!s->numeric) {
                if (!is_entry_list(cur)) {
                    ov_error(errs, o, s->col, "%s is a list: select an element by index, e.g. %s[0]",
                             path_to(o, i - 1, where, sizeof where), where);
                    goto fail;
                }
                if (!select_entries(o, i, cur, false, two, 2, errs)) goto fail;
                ix = two[0];
            }
            if (ix > cur->n) {
                ov_error(errs, o, s->col, "%s has %lld element%s: index %lld is out of range (%lld appends one)",
                         path_to(o, i - 1, where, sizeof where), (long long)cur->n, cur->n == 1 ? "" : "s",
                         (long long)ix, (long long)cur->n);
                goto fail;
            }
            if (last) {
                *st = put_in_seq(cur, ix, v);
                return *st == HL_OK;
            }
            if (ix == cur->n || cur->items[ix]->kind == HL_CONFIG_NULL) {
                hl_config *made = container_for(o, i);
                if (!made || (*st = put_in_seq(cur, ix, made)) < 0) goto oom;
            }
            cur = cur->items[ix];
        } else {
            break;
        }
        if (cur->kind == HL_CONFIG_SCALAR) {
            ov_error(errs, o, s->col, "%s is a value ('%.60s'), not a map or a list", path_to(o, i, where, sizeof where),
                     cur->text);
            goto fail;
        }
    }
    ov_error(errs, o, 1, "the suite is not a map of settings");
fail:
    hl_config_free(v);
    return false;
oom:
    hl_config_free(v);
    if (*st == HL_OK) *st = hl_error_set(HL_ENOMEM, "out of memory applying overrides");
    return false;
}

/* Two entries the reports could not tell apart: hashers by name; attacks by name, norm and eps. */
static bool same_row(const hl_config *a, const hl_config *b, bool attacks) {
    if (strcmp(entry_name(a), entry_name(b))) return false;
    if (!attacks) return true;
    static const char *const keys[] = {"norm", "eps"};
    for (int k = 0; k < 2; k++) {
        const hl_config *x = hl_config_get(a, keys[k]), *y = hl_config_get(b, keys[k]);
        const char *tx = x && x->kind == HL_CONFIG_SCALAR ? x->text : "", *ty = y && y->kind == HL_CONFIG_SCALAR ? y->text : "";
        if (strcmp(tx, ty)) return false;
    }
    return true;
}

/* Replaces entry ix of list by one copy per value (vals[0..np), not taken), renamed when needed. */
static hl_status expand_entry(const ov_item *o, hl_config *list, int64_t ix, hl_config **vals, hl_config_errors *errs) {
    hl_status st = HL_OK;
    int np = o->nparts;
    hl_config **copies = calloc((size_t)np, sizeof *copies);
    if (!copies) return hl_error_set(HL_ENOMEM, "out of memory expanding a sweep");
    hl_config *e = list->items[ix];
    for (int j = 0; j < np; j++) {
        hl_config *v = hl_config_clone(vals[j]);
        if (!v || !(copies[j] = hl_config_clone(e))) {
            hl_config_free(v);
            st = hl_error_set(HL_ENOMEM, "out of memory expanding a sweep");
            goto done;
        }
        if (!set_at(o, copies[j], 2, v, errs, &st)) goto done; /* the same problem for every copy: once */
    }
    bool apart = true, attacks = !strcmp(list->key, "attacks");
    for (int j = 0; j < np && apart; j++)
        for (int l = 0; l < j && apart; l++) apart = !same_row(copies[j], copies[l], attacks);
    int last = o->nseg - 1;
    while (last > 2 && o->segs[last].bracket) last--;
    const char *key = o->segs[last].key; /* the swept key: "epochs" of hashers.dpsh.params.epochs */
    for (int j = 0; j < np && !apart; j++) {
        char name[512];
        int k = snprintf(name, sizeof name, "%s@%s=%.*s", entry_name(e), key, o->len[j], o->value + o->off[j]);
        for (int c = 0; c < k && c < (int)sizeof name; c++)
            if (name[c] == '/') name[c] = '_'; /* a '/' would split the cell labels */
        hl_config *n = hl_config_new(HL_CONFIG_SCALAR, name, o->name, 1, o->value_col + o->off[j]);
        if (!n) {
            st = hl_error_set(HL_ENOMEM, "out of memory expanding a sweep");
            goto done;
        }
        n->quoted = true;
        if ((st = put_in_map(copies[j], "name", 1, o->value_col + o->off[j], n)) < 0) goto done;
    }
    hl_config **items = realloc(list->items, (size_t)(list->n + np) * sizeof *items);
    if (!items) {
        st = hl_error_set(HL_ENOMEM, "out of memory expanding a sweep");
        goto done;
    }
    list->items = items;
    list->cap = list->n + np;
    memmove(items + ix + np, items + ix + 1, (size_t)(list->n - ix - 1) * sizeof *items);
    for (int j = 0; j < np; j++) {
        items[ix + j] = copies[j];
        copies[j]->parent = list;
        copies[j] = NULL;
    }
    list->n += np - 1;
    e->parent = NULL;
    hl_config_free(e);
done:
    for (int j = 0; j < np; j++) hl_config_free(copies[j]);
    free(copies);
    return st;
}

/* One override: a value set at its path, a list for a list key, or a sweep over entries. */
static hl_status apply_item(const ov_item *o, hl_config *root, hl_config_errors *errs) {
    hl_status st = HL_OK;
    int np = o->nparts;
    bool list = np > 1 && !o->sweep;
    hl_config **vals = calloc((size_t)np, sizeof *vals), *seq = NULL;
    int64_t *idx = NULL;
    if (!vals) return hl_error_set(HL_ENOMEM, "out of memory applying overrides");
    for (int j = 0; j < np; j++) {
        HL_TRY(parse_part(o, j, &vals[j], errs));
        if (!vals[j]) goto done;
    }
    if (np == 1) {
        set_at(o, root, 0, vals[0], errs, &st);
        vals[0] = NULL;
        goto done;
    }
    if (list) {
        if (!(seq = hl_config_new(HL_CONFIG_SEQ, NULL, o->name, 1, o->value_col)))
            HL_TRY(hl_error_set(HL_ENOMEM, "out of memory applying overrides"));
        for (int j = 0; j < np; j++) {
            st = hl_config_seq_push(seq, vals[j]);
            vals[j] = NULL;
            if (st < 0) goto done;
        }
        set_at(o, root, 0, seq, errs, &st);
        seq = NULL;
        goto done;
    }
    hl_config *entries = o->nseg >= 3 && !o->segs[0].bracket ? child_of(root, o->segs[0].key) : NULL;
    if (!entries || !is_entry_list(entries)) {
        ov_error(errs, o, o->value_col, "a sweep (values separated by commas) is for a key inside a hasher or attack "
                 "entry, e.g. hashers.dpsh.params.epochs=5,10, or a list key, e.g. seeds=0,1; to give a value with a "
                 "comma, quote it: \"'a,b'\"");
        goto done;
    }
    idx = malloc((size_t)(entries->n ? entries->n : 1) * sizeof *idx);
    if (!idx) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory applying overrides"));
    int k = 1;
    if (o->segs[1].numeric) {
        idx[0] = o->segs[1].index;
        if (idx[0] >= entries->n) {
            ov_error(errs, o, o->segs[1].col, "%s has %lld entries: index %lld is out of range", o->segs[0].key,
                     (long long)entries->n, (long long)idx[0]);
            goto done;
        }
    } else if (!(k = select_entries(o, 1, entries, true, idx, (int)entries->n, errs))) {
        goto done;
    }
    for (int j = k - 1; j >= 0; j--) HL_TRY(expand_entry(o, entries, idx[j], vals, errs));
done:
    for (int j = 0; j < np; j++) hl_config_free(vals[j]);
    free(vals);
    free(idx);
    hl_config_free(seq);
    return st;
}

/* Deep merge of map src into map dst: maps key by key, anything else replaces (copied, with its positions). */
static hl_status merge(hl_config *dst, const hl_config *src) {
    for (int64_t i = 0; i < src->n; i++) {
        const hl_config *e = src->items[i];
        hl_config *d = child_of(dst, e->key);
        if (d && d->kind == HL_CONFIG_MAP && e->kind == HL_CONFIG_MAP) {
            hl_status st = merge(d, e);
            if (st < 0) return st;
            continue;
        }
        hl_config *c = hl_config_clone(e);
        if (!c) return hl_error_set(HL_ENOMEM, "out of memory merging a --set-file fragment");
        hl_status st = put_in_map(dst, e->key, e->key_line, e->key_col, c);
        if (st < 0) return st;
    }
    return HL_OK;
}

hl_status hl_overrides_apply(hl_config **rootp, const hl_overrides *ov, hl_config_errors *errs) {
    hl_status st = HL_OK;
    hl_config *root = *rootp, *frag = NULL;
    ov_item *items = NULL;
    bool *ok = NULL;
    if (hl_overrides_empty(ov)) return HL_OK;
    if (root->kind == HL_CONFIG_NULL) { /* an empty suite file */
        hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, root->file, root->line, root->col);
        if (!m) return hl_error_set(HL_ENOMEM, "out of memory applying overrides");
        hl_config_free(root);
        *rootp = root = m;
    }
    if (root->kind != HL_CONFIG_MAP) return HL_OK; /* the suite's schema says what is wrong */
    for (int i = 0; i < ov->nset_files; i++) {
        HL_TRY(hl_yaml_load_file(ov->set_files[i], &frag));
        if (frag->kind == HL_CONFIG_MAP) HL_TRY(merge(root, frag));
        else if (frag->kind != HL_CONFIG_NULL)
            hl_config_errors_add(errs, frag->file, frag->line, frag->col, "--set-file: expected a mapping of suite "
                                 "keys (name: ..., hashers: [...]), got a %s", hl_config_kind_name(frag->kind));
        hl_config_free(frag);
        frag = NULL;
    }
    items = calloc((size_t)(ov->nitems ? ov->nitems : 1), sizeof *items);
    ok = calloc((size_t)(ov->nitems ? ov->nitems : 1), sizeof *ok);
    if (!items || !ok) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory applying overrides"));
    for (int i = 0; i < ov->nitems; i++) ok[i] = parse_item(&items[i], i + 1, ov->items[i], errs);
    for (int pass = 0; pass < 2; pass++) /* values first, then sweeps (which copy entries as the values left them) */
        for (int i = 0; i < ov->nitems; i++)
            if (ok[i] && items[i].sweep == (pass == 1)) HL_TRY(apply_item(&items[i], root, errs));
done:
    hl_config_free(frag);
    free(items);
    free(ok);
    return st;
}

/* A `plugins:` value the loader can read (else the schema reports it). */
static bool plugin_list_ok(const hl_config *pl) {
    if (!pl || pl->kind == HL_CONFIG_NULL) return false;
    if (pl->kind == HL_CONFIG_SCALAR) return true;
    if (pl->kind != HL_CONFIG_SEQ) return false;
    for (int64_t i = 0; i < pl->n; i++)
        if (pl->items[i]->kind != HL_CONFIG_SCALAR) return false;
    return true;
}

hl_status hl_overrides_load_suite(hl_suite **out, const char *path, const hl_overrides *ov, hl_suite_check_fn check) {
    *out = NULL;
    hl_config *root = NULL;
    hl_config_errors errs = {0};
    hl_status st = hl_yaml_load_file(path, &root);
    if (st < 0) return st;
    if ((st = hl_overrides_apply(&root, ov, &errs)) < 0) goto fail;
    const hl_config *pl = hl_config_get(root, "plugins");
    if (check && plugin_list_ok(pl) && (st = hl_plugins_load_config(pl)) < 0) goto fail;
    return hl_suite_from_config_with(out, root, &errs, check);
fail:
    hl_config_errors_free(&errs);
    hl_config_free(root);
    return st;
}

/* ---- the record in a run directory ---- */

static hl_status read_text(const char *path, char **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return hl_error_set(errno == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf) return hl_error_set(HL_ENOMEM, "%s: out of memory reading", path);
    if (bad) {
        free(buf);
        return hl_error_set(HL_EIO, "%s: read error", path);
    }
    buf[n] = 0;
    *out = buf;
    return HL_OK;
}

hl_status hl_overrides_load_rundir(hl_suite **out, const char *rundir) {
    *out = NULL;
    char p[4200], suite[4200];
    char *text = NULL, **paths = NULL;
    const char **files = NULL, **items = NULL;
    snprintf(suite, sizeof suite, "%s/suite.yaml", rundir);
    snprintf(p, sizeof p, "%s/overrides.txt", rundir);
    hl_status st = read_text(p, &text);
    if (st == HL_ENOTFOUND) {
        hl_error_clear();
        return hl_overrides_load_suite(out, suite, NULL, NULL);
    }
    if (st < 0) return st;
    int nlines = 1, nf = 0, ni = 0;
    for (const char *c = text; *c; c++) nlines += *c == '\n';
    files = calloc((size_t)nlines, sizeof *files), items = calloc((size_t)nlines, sizeof *items);
    paths = calloc((size_t)nlines, sizeof *paths);
    if (!files || !items || !paths) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory reading %s", p));
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (!line[0] || line[0] == '#') continue;
        if (!strncmp(line, "--set-file ", 11)) {
            const char *f = line + 11;
            size_t n = strlen(rundir) + strlen(f) + 2;
            if (!(paths[nf] = malloc(n))) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory reading %s", p));
            if (f[0] == '/') snprintf(paths[nf], n, "%s", f);
            else snprintf(paths[nf], n, "%s/%s", rundir, f);
            files[nf] = paths[nf];
            nf++;
        } else {
            items[ni++] = line;
        }
    }
    hl_overrides ov = {.set_files = files, .nset_files = nf, .items = items, .nitems = ni};
    st = hl_overrides_load_suite(out, suite, &ov, NULL);
done:
    for (int i = 0; paths && i < nlines; i++) free(paths[i]);
    free(paths);
    free(files);
    free(items);
    free(text);
    return st;
}

static hl_status push_string(hl_config *seq, const char *s) {
    hl_config *n = hl_config_new(HL_CONFIG_SCALAR, s, "", 0, 0);
    if (!n) return hl_error_set(HL_ENOMEM, "out of memory recording overrides");
    n->quoted = true;
    return hl_config_seq_push(seq, n);
}

hl_status hl_overrides_write_run_files(const char *rundir, const hl_config *resolved, const hl_overrides *ov) {
    hl_status st = HL_OK;
    char p[4200], q[4200];
    char *text = NULL;
    hl_config *rec = NULL, *lo = NULL, *lf = NULL;
    hl_atomic_file af = {0};
    snprintf(p, sizeof p, "%s/suite.resolved.json", rundir);
    snprintf(q, sizeof q, "%s/overrides.txt", rundir);
    for (int k = ov ? ov->nset_files + 1 : 1;; k++) { /* fragments of an earlier run with more of them */
        char f[4200];
        snprintf(f, sizeof f, "%s/set-file-%d.yaml", rundir, k);
        if (unlink(f) != 0) break;
    }
    if (hl_overrides_empty(ov)) {
        if (unlink(q) != 0 && errno != ENOENT) return hl_error_set(HL_EIO, "%s: cannot remove: %s", q, strerror(errno));
        return hl_store_write_json(p, resolved);
    }
    rec = hl_config_clone(resolved);
    lo = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0), lf = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0);
    if (!rec || !lo || !lf) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory recording overrides"));
    for (int i = 0; i < ov->nitems; i++) HL_TRY(push_string(lo, ov->items[i]));
    for (int i = 0; i < ov->nset_files; i++) HL_TRY(push_string(lf, ov->set_files[i]));
    hl_config_map_remove(rec, "overrides");
    hl_config_map_remove(rec, "set_files");
    st = hl_config_map_put(rec, "overrides", 0, 0, lo);
    lo = NULL;
    if (st < 0) goto done;
    if (ov->nset_files) {
        st = hl_config_map_put(rec, "set_files", 0, 0, lf);
        lf = NULL;
        if (st < 0) goto done;
    }
    HL_TRY(hl_store_write_json(p, rec));
    for (int i = 0; i < ov->nset_files; i++) { /* the fragments as they are now: the record does not follow edits */
        HL_TRY(read_text(ov->set_files[i], &text));
        snprintf(p, sizeof p, "%s/set-file-%d.yaml", rundir, i + 1);
        HL_TRY(hl_atomic_write_file(p, text, strlen(text)));
        free(text);
        text = NULL;
    }
    HL_TRY(hl_atomic_write_begin(&af, q));
    fprintf(af.f, "# the command-line overrides of the last `hashlab run` into this directory, applied in this order\n"
                  "# over suite.yaml (hashlab status applies them again; lab/overrides.h)\n");
    for (int i = 0; i < ov->nset_files; i++)
        fprintf(af.f, "# --set-file %s, copied as:\n--set-file set-file-%d.yaml\n", ov->set_files[i], i + 1);
    for (int i = 0; i < ov->nitems; i++) fprintf(af.f, "%s\n", ov->items[i]);
    st = hl_atomic_write_commit(&af);
done:
    if (st < 0) hl_atomic_write_abort(&af);
    free(text);
    hl_config_free(rec);
    hl_config_free(lo);
    hl_config_free(lf);
    return st;
}
