/* core/io/safetensors.c — safetensors reader/writer with a small strict JSON parser; see safetensors.h. */
#include "core/io/safetensors.h"
#include "core/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/io/atomic.h"

/* ==== UTF-8 ======================================================================================================= */

/* Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else
            return false;
        if (n - i < (size_t)len) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (int k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
        i += (size_t)len;
    }
    return true;
}

/* ==== JSON DOM ===================================================================================================== */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval jval;
struct jval {
    jtype type;
    bool is_uint; /* number: a non-negative integer literal that fits in u64 */
    uint64_t u;
    char *s;      /* string: decoded, NUL-terminated, no interior NUL */
    int n, cap;   /* array / object */
    jval *items;
    char **keys;  /* object keys (decoded) */
};

typedef struct jparser {
    const char *p, *end, *start;
    int depth;
    const char *err;
    size_t err_pos;
} jparser;

#define J_MAX_DEPTH 64

static void jfree(jval *v) {
    if (v->type == J_STR) free(v->s);
    if (v->type == J_ARR || v->type == J_OBJ) {
        for (int i = 0; i < v->n; i++) {
            jfree(&v->items[i]);
            if (v->keys) free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
    memset(v, 0, sizeof *v);
}

static bool jfail(jparser *jp, const char *msg) {
    if (!jp->err) {
        jp->err = msg;
        jp->err_pos = (size_t)(jp->p - jp->start);
    }
    return false;
}

static void skip_ws(jparser *jp) {
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')) jp->p++;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool hex4(jparser *jp, unsigned *out) {
    if (jp->end - jp->p < 4) return jfail(jp, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(jp->p[i]);
        if (h < 0) return jfail(jp, "bad \\u escape");
        v = v << 4 | (unsigned)h;
    }
    jp->p += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *d, unsigned cp) {
    static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (size_t i = n - 1; i > 0; i--, cp >>= 6) d[i] = (char)(0x80 | (cp & 0x3F));
    d[0] = (char)(lead[n] | cp);
    return n;
}

/* At '"'. The decoded string is never longer than the raw one (an escape of 6 or 12 bytes yields <= 3 or 4). */
static bool parse_string(jparser *jp, char **out) {
    jp->p++;
    const char *q = jp->p;
    while (q < jp->end && *q != '"') q += (*q == '\\' && q + 1 < jp->end) ? 2 : 1;
    if (q >= jp->end) return jfail(jp, "unterminated string");
    char *d = malloc((size_t)(q - jp->p) + 1);
    if (!d) return jfail(jp, "out of memory");
    size_t k = 0;
    while (*jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c < 0x20) {
            free(d);
            return jfail(jp, "control character in string");
        }
        if (c != '\\') {
            d[k++] = (char)c;
            jp->p++;
            continue;
        }
        jp->p++; /* the scan above guarantees a byte after '\\' before the closing quote */
        char e = *jp->p++;
        unsigned cp;
        static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(esc_in, e) : NULL;
        if (hit)
            d[k++] = esc_out[hit - esc_in];
        else if (e != 'u')
            jfail(jp, "bad escape in string");
        else if (hex4(jp, &cp)) {
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                jfail(jp, "lone low surrogate in \\u escape");
            else if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = 0xDC00; /* stays valid if hex4 fails (the error is then reported) */
                if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u')
                    jfail(jp, "lone high surrogate in \\u escape");
                else if ((jp->p += 2, hex4(jp, &lo)) && (lo < 0xDC00 || lo > 0xDFFF))
                    jfail(jp, "bad surrogate pair in \\u escape");
                else
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (!jp->err && cp == 0) jfail(jp, "NUL character in string");
            if (!jp->err) k += put_utf8(d + k, cp);
        }
        if (jp->err) {
            free(d);
            return false;
        }
        if (jp->p > q) { /* an escape ran past the closing quote found by the scan: malformed */
            free(d);
            return jfail(jp, "malformed escape");
        }
    }
    jp->p++;
    d[k] = 0;
    *out = d;
    return true;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; exact u64 for plain non-negative integers. */
static bool parse_number(jparser *jp, jval *v) {
    const char *p = jp->p;
    bool neg = false, integral = true, overflow = false;
    uint64_t u = 0;
    v->type = J_NUM;
    if (p < jp->end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= jp->end || *p < '0' || *p > '9') return jfail(jp, "bad number");
    if (*p == '0')
        p++;
    else
        while (p < jp->end && *p >= '0' && *p <= '9') {
            unsigned dgt = (unsigned)(*p - '0');
            if (u > (UINT64_MAX - dgt) / 10) overflow = true;
            u = u * 10 + dgt;
            p++;
        }
    if (p < jp->end && *p == '.') {
        integral = false;
        p++;
        if (p >= jp->end || *p < '0' || *p > '9') return jfail(jp, "bad number fraction");
        while (p < jp->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < jp->end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < jp->end && (*p == '+' || *p == '-')) p++;
        if (p >= jp->end || *p < '0' || *p > '9') return jfail(jp, "bad number exponent");
        while (p < jp->end && *p >= '0' && *p <= '9') p++;
    }
    v->is_uint = integral && !neg && !overflow;
    v->u = v->is_uint ? u : 0;
    jp->p = p;
    return true;
}

static bool parse_literal(jparser *jp, const char *lit, jval *v, jtype t) {
    size_t n = strlen(lit);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, lit, n) != 0) return jfail(jp, "unexpected character");
    jp->p += n;
    v->type = t;
    return true;
}

static int cmp_keys(const void *a, const void *b) { return strcmp(**(char **const *)a, **(char **const *)b); }

static bool no_duplicate_keys(jparser *jp, const jval *o) {
    if (o->n < 2) return true;
    char ***idx = malloc((size_t)o->n * sizeof *idx);
    if (!idx) return jfail(jp, "out of memory");
    for (int i = 0; i < o->n; i++) idx[i] = &o->keys[i];
    qsort(idx, (size_t)o->n, sizeof *idx, cmp_keys);
    bool ok = true;
    for (int i = 1; i < o->n && ok; i++) ok = strcmp(*idx[i - 1], *idx[i]) != 0;
    free(idx);
    return ok ? true : jfail(jp, "duplicate key in object");
}

static bool parse_value(jparser *jp, jval *v);

/* At '[' or '{'. */
static bool parse_container(jparser *jp, jval *v, bool obj) {
    if (++jp->depth > J_MAX_DEPTH) return jfail(jp, "nesting too deep");
    v->type = obj ? J_OBJ : J_ARR;
    jp->p++;
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == (obj ? '}' : ']')) {
        jp->p++;
        jp->depth--;
        return true;
    }
    for (;;) {
        if (v->n == v->cap) {
            if (v->cap > INT_MAX / 4) return jfail(jp, "too many elements");
            int nc = v->cap ? 2 * v->cap : 4;
            jval *it = realloc(v->items, (size_t)nc * sizeof *it);
            if (!it) return jfail(jp, "out of memory");
            v->items = it;
            if (obj) {
                char **ks = realloc(v->keys, (size_t)nc * sizeof *ks);
                if (!ks) return jfail(jp, "out of memory");
                v->keys = ks;
            }
            v->cap = nc;
        }
        jval *it = &v->items[v->n];
        memset(it, 0, sizeof *it);
        if (obj) {
            v->keys[v->n] = NULL;
            skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != '"') return jfail(jp, "expected a string key");
            if (!parse_string(jp, &v->keys[v->n])) return false;
            v->n++; /* counted now so jfree releases the key even if the value fails */
            skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':') return jfail(jp, "expected ':'");
            jp->p++;
        } else
            v->n++;
        if (!parse_value(jp, it)) return false;
        skip_ws(jp);
        if (jp->p >= jp->end) return jfail(jp, "unexpected end of input");
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p == (obj ? '}' : ']')) {
            jp->p++;
            break;
        }
        return jfail(jp, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    jp->depth--;
    return obj ? no_duplicate_keys(jp, v) : true;
}

static bool parse_value(jparser *jp, jval *v) {
    skip_ws(jp);
    if (jp->p >= jp->end) return jfail(jp, "unexpected end of input");
    switch (*jp->p) {
    case '{': return parse_container(jp, v, true);
    case '[': return parse_container(jp, v, false);
    case '"':
        v->type = J_STR;
        return parse_string(jp, &v->s);
    case 't': return parse_literal(jp, "true", v, J_BOOL);
    case 'f': return parse_literal(jp, "false", v, J_BOOL);
    case 'n': return parse_literal(jp, "null", v, J_NULL);
    default: return parse_number(jp, v);
    }
}

static const jval *jget(const jval *o, const char *key) {
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) return &o->items[i];
    return NULL;
}

/* ==== reader ======================================================================================================= */

static const struct {
    const char *name;
    int size;
} dtypes[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2},
              {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4},     {"F32", 4},     {"F64", 8}, {"I64", 8},
              {"U64", 8}};

static bool host_is_le(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static void bswap32(void *buf, int64_t n) {
    unsigned char *b = buf;
    for (int64_t i = 0; i < n; i++, b += 4) {
        unsigned char t0 = b[0], t1 = b[1];
        b[0] = b[3];
        b[1] = b[2];
        b[2] = t1;
        b[3] = t0;
    }
}

static const char *src_name(const hl_safetensors *st) { return st->path ? st->path : "<memory>"; }

void hl_safetensors_close(hl_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n; i++) free(st->t[i].name);
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_key[i]);
        free(st->meta_val[i]);
    }
    free(st->t);
    free(st->meta_key);
    free(st->meta_val);
    if (st->f) fclose(st->f);
    free(st->path);
    free(st);
}

static hl_status parse_tensor(hl_safetensors *st, char **name, const jval *v, hl_st_tensor *t) {
    const char *src = src_name(st);
    if (v->type != J_OBJ) return hl_error_set(HL_EFORMAT, "%s: tensor '%s': entry is not an object", src, *name);
    const jval *dt = jget(v, "dtype"), *sh = jget(v, "shape"), *off = jget(v, "data_offsets");
    if (!dt || dt->type != J_STR) return hl_error_set(HL_EFORMAT, "%s: tensor '%s': missing or non-string dtype", src, *name);
    if (!sh || sh->type != J_ARR) return hl_error_set(HL_EFORMAT, "%s: tensor '%s': missing or non-array shape", src, *name);
    if (!off || off->type != J_ARR || off->n != 2 || !off->items[0].is_uint || !off->items[1].is_uint)
        return hl_error_set(HL_EFORMAT, "%s: tensor '%s': data_offsets must be [begin, end] integers", src, *name);
    t->dtype_size = 0;
    for (size_t i = 0; i < HL_ARRAY_LEN(dtypes); i++)
        if (strcmp(dt->s, dtypes[i].name) == 0) {
            t->dtype_size = dtypes[i].size;
            strcpy(t->dtype, dtypes[i].name);
        }
    if (!t->dtype_size) return hl_error_set(HL_EUNSUPPORTED, "%s: tensor '%s': unknown dtype '%.16s'", src, *name, dt->s);
    if (sh->n > HL_ST_MAX_DIMS)
        return hl_error_set(HL_EUNSUPPORTED, "%s: tensor '%s': %d dimensions (at most %d supported)", src, *name, sh->n,
                            HL_ST_MAX_DIMS);
    t->ndim = sh->n;
    int64_t numel = 1;
    const int64_t lim = INT64_MAX / 8;
    for (int i = 0; i < sh->n; i++) {
        const jval *d = &sh->items[i];
        if (!d->is_uint || d->u > (uint64_t)lim)
            return hl_error_set(HL_EFORMAT, "%s: tensor '%s': shape entry %d is not a valid size", src, *name, i);
        t->shape[i] = (int64_t)d->u;
        if (t->shape[i] != 0 && numel > lim / t->shape[i])
            return hl_error_set(HL_EFORMAT, "%s: tensor '%s': element count overflows", src, *name);
        numel *= t->shape[i];
    }
    t->numel = numel;
    t->begin = off->items[0].u;
    t->end = off->items[1].u;
    if (t->begin > t->end || t->end - t->begin != (uint64_t)numel * (uint64_t)t->dtype_size)
        return hl_error_set(HL_EFORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] do not hold %lld elements of %s",
                            src, *name, (unsigned long long)t->begin, (unsigned long long)t->end, (long long)numel,
                            t->dtype);
    t->name = *name; /* steal */
    *name = NULL;
    return HL_OK;
}

static int cmp_by_offset(const void *a, const void *b) {
    const hl_st_tensor *x = *(const hl_st_tensor *const *)a, *y = *(const hl_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_by_name(const void *a, const void *b) {
    return strcmp(((const hl_st_tensor *)a)->name, ((const hl_st_tensor *)b)->name);
}

static hl_status parse_meta(hl_safetensors *st, jval *m) {
    if (m->type == J_NULL) return HL_OK;
    if (m->type != J_OBJ) return hl_error_set(HL_EFORMAT, "%s: __metadata__ is not an object", src_name(st));
    st->meta_key = calloc((size_t)m->n + 1, sizeof *st->meta_key);
    st->meta_val = calloc((size_t)m->n + 1, sizeof *st->meta_val);
    if (!st->meta_key || !st->meta_val) return hl_error_set(HL_ENOMEM, "out of memory reading metadata");
    for (int i = 0; i < m->n; i++) {
        if (m->items[i].type != J_STR)
            return hl_error_set(HL_EFORMAT, "%s: __metadata__ value of '%s' is not a string", src_name(st), m->keys[i]);
        st->meta_key[i] = m->keys[i];
        st->meta_val[i] = m->items[i].s;
        m->keys[i] = NULL;
        m->items[i].s = NULL;
        st->n_meta = i + 1;
    }
    return HL_OK;
}

/* Parses and validates the N-byte header; data_start/data_len are set. */
static hl_status parse_header(hl_safetensors *st, const char *hdr, size_t N) {
    const char *src = src_name(st);
    if (!utf8_valid((const unsigned char *)hdr, N)) return hl_error_set(HL_EFORMAT, "%s: header is not valid UTF-8", src);
    if (N == 0 || hdr[0] != '{') return hl_error_set(HL_EFORMAT, "%s: header does not start with '{'", src);
    jparser jp = {hdr, hdr + N, hdr, 0, NULL, 0};
    jval root = {0};
    hl_status st_ = HL_OK;
    hl_st_tensor **order = NULL;
    if (!parse_value(&jp, &root)) {
        st_ = hl_error_set(HL_EFORMAT, "%s: header JSON: %s at byte %zu", src, jp.err, jp.err_pos);
        goto done;
    }
    skip_ws(&jp);
    if (jp.p != jp.end) {
        st_ = hl_error_set(HL_EFORMAT, "%s: header JSON: trailing characters at byte %zu", src, (size_t)(jp.p - hdr));
        goto done;
    }
    st->t = calloc((size_t)root.n + 1, sizeof *st->t);
    if (!st->t) {
        st_ = hl_error_set(HL_ENOMEM, "out of memory reading a safetensors header");
        goto done;
    }
    for (int i = 0; i < root.n; i++) {
        if (strcmp(root.keys[i], "__metadata__") == 0) {
            if ((st_ = parse_meta(st, &root.items[i])) < 0) goto done;
            continue;
        }
        if ((st_ = parse_tensor(st, &root.keys[i], &root.items[i], &st->t[st->n])) < 0) goto done;
        st->n++;
    }
    /* Sorted by offset, the tensors must tile [0, data_len) exactly. */
    order = malloc((size_t)(st->n + 1) * sizeof *order);
    if (!order) {
        st_ = hl_error_set(HL_ENOMEM, "out of memory reading a safetensors header");
        goto done;
    }
    for (int i = 0; i < st->n; i++) order[i] = &st->t[i];
    qsort(order, (size_t)st->n, sizeof *order, cmp_by_offset);
    uint64_t pos = 0;
    for (int i = 0; i < st->n; i++) {
        if (order[i]->begin != pos) {
            st_ = hl_error_set(HL_EFORMAT, "%s: tensor '%s' starts at byte %llu of the data, expected %llu (gap or overlap)",
                               src, order[i]->name, (unsigned long long)order[i]->begin, (unsigned long long)pos);
            goto done;
        }
        pos = order[i]->end;
    }
    if (pos != st->data_len) {
        st_ = hl_error_set(HL_EFORMAT, "%s: tensors cover %llu bytes but the data section has %llu (truncated or padded)",
                           src, (unsigned long long)pos, (unsigned long long)st->data_len);
        goto done;
    }
    qsort(st->t, (size_t)st->n, sizeof *st->t, cmp_by_name);
done:
    free(order);
    jfree(&root);
    return st_;
}

static hl_status finish_open(hl_safetensors *st, const unsigned char len8[8], uint64_t size,
                             hl_status (*read_hdr)(hl_safetensors *, char *, size_t)) {
    uint64_t N = 0;
    for (int i = 7; i >= 0; i--) N = N << 8 | len8[i];
    const char *src = src_name(st);
    if (N > HL_ST_MAX_HEADER)
        return hl_error_set(HL_EFORMAT, "%s: header length %llu exceeds the %u-byte limit", src, (unsigned long long)N,
                            HL_ST_MAX_HEADER);
    if (N > size - 8)
        return hl_error_set(HL_EFORMAT, "%s: header length %llu exceeds the file size %llu (truncated?)", src,
                            (unsigned long long)N, (unsigned long long)size);
    st->data_start = 8 + N;
    st->data_len = size - 8 - N;
    char *hdr = malloc((size_t)N + 1);
    if (!hdr) return hl_error_set(HL_ENOMEM, "out of memory reading a %llu-byte header", (unsigned long long)N);
    hl_status s = read_hdr(st, hdr, (size_t)N);
    if (s == HL_OK) s = parse_header(st, hdr, (size_t)N);
    free(hdr);
    return s;
}

static hl_status read_hdr_file(hl_safetensors *st, char *hdr, size_t N) {
    if (N && fread(hdr, 1, N, st->f) != N) return hl_error_set(HL_EIO, "%s: cannot read the header", st->path);
    return HL_OK;
}

static hl_status read_hdr_mem(hl_safetensors *st, char *hdr, size_t N) {
    if (N) memcpy(hdr, st->mem + 8, N);
    return HL_OK;
}

hl_status hl_safetensors_open(hl_safetensors **out, const char *path) {
    *out = NULL;
    hl_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = malloc(strlen(path) + 1))) {
        free(st);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    strcpy(st->path, path);
    hl_status s;
    unsigned char len8[8];
    st->f = fopen(path, "rb");
    if (!st->f) {
        s = hl_error_set(errno == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    off_t size = -1;
    if (fseeko(st->f, 0, SEEK_END) == 0) size = ftello(st->f);
    if (size < 0 || fseeko(st->f, 0, SEEK_SET) != 0) {
        s = hl_error_set(HL_EIO, "%s: cannot determine the file size", path);
        goto fail;
    }
    if (size < 8) {
        s = hl_error_set(HL_EFORMAT, "%s: %lld bytes is too short for a safetensors file", path, (long long)size);
        goto fail;
    }
    if (fread(len8, 1, 8, st->f) != 8) {
        s = hl_error_set(HL_EIO, "%s: cannot read the header length", path);
        goto fail;
    }
    if ((s = finish_open(st, len8, (uint64_t)size, read_hdr_file)) < 0) goto fail;
    *out = st;
    return HL_OK;
fail:
    hl_safetensors_close(st);
    return s;
}

hl_status hl_safetensors_open_mem(hl_safetensors **out, const void *buf, size_t len) {
    *out = NULL;
    hl_safetensors *st = calloc(1, sizeof *st);
    if (!st) return hl_error_set(HL_ENOMEM, "out of memory");
    st->mem = buf;
    if (len < 8) {
        hl_safetensors_close(st);
        return hl_error_set(HL_EFORMAT, "<memory>: %zu bytes is too short for a safetensors file", len);
    }
    hl_status s = finish_open(st, st->mem, (uint64_t)len, read_hdr_mem);
    if (s < 0) {
        hl_safetensors_close(st);
        return s;
    }
    *out = st;
    return HL_OK;
}

const hl_st_tensor *hl_safetensors_find(const hl_safetensors *st, const char *name) {
    int lo = 0, hi = st->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(name, st->t[mid].name);
        if (c == 0) return &st->t[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *hl_safetensors_meta(const hl_safetensors *st, const char *key) {
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_key[i], key) == 0) return st->meta_val[i];
    return NULL;
}

hl_status hl_safetensors_read_f32(hl_safetensors *st, const hl_st_tensor *t, float *dst, int64_t n) {
    const char *src = src_name(st);
    if (strcmp(t->dtype, "F32") != 0)
        return hl_error_set(HL_EUNSUPPORTED, "%s: tensor '%s' has dtype %s; only F32 is supported", src, t->name, t->dtype);
    if (n != t->numel)
        return hl_error_set(HL_EMISMATCH, "%s: tensor '%s' has %lld elements, %lld requested", src, t->name,
                            (long long)t->numel, (long long)n);
    size_t bytes = (size_t)(t->end - t->begin);
    if (st->mem)
        memcpy(dst, st->mem + st->data_start + t->begin, bytes);
    else if (bytes) {
        if (fseeko(st->f, (off_t)(st->data_start + t->begin), SEEK_SET) != 0 || fread(dst, 1, bytes, st->f) != bytes)
            return hl_error_set(HL_EIO, "%s: cannot read tensor '%s' (file changed or truncated?)", src, t->name);
    }
    if (!host_is_le()) bswap32(dst, n);
    return HL_OK;
}

/* ==== writer ======================================================================================================= */

static void sb_fmt_u(hl_strbuf *b, uint64_t v) {
    char t[24];
    int k = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    hl_strbuf_put(b, t, (size_t)k);
}

/* JSON string with serde_json's escapes. */
static void sb_json_str(hl_strbuf *b, const char *s) {
    hl_strbuf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                        : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        char u[8];
        if (!esc && c < 0x20) {
            snprintf(u, sizeof u, "\\u%04x", c);
            esc = u;
        }
        if (esc)
            hl_strbuf_puts(b, esc);
        else
            hl_strbuf_put(b, (const char *)&c, 1);
    }
    hl_strbuf_put(b, "\"", 1);
}

static int cmp_entry_ptr(const void *a, const void *b) {
    return strcmp((*(const hl_st_entry *const *)a)->name, (*(const hl_st_entry *const *)b)->name);
}
typedef struct kv_ref {
    const char *k, *v;
} kv_ref;
static int cmp_kv(const void *a, const void *b) { return strcmp(((const kv_ref *)a)->k, ((const kv_ref *)b)->k); }

static int64_t entry_numel(const hl_st_entry *t) {
    int64_t m = 1;
    for (int d = 0; d < t->ndim; d++) m *= t->shape[d];
    return m;
}

static bool valid_name(const char *s) { return s && s[0] && utf8_valid((const unsigned char *)s, strlen(s)); }

hl_status hl_safetensors_write(FILE *f, const hl_st_entry *e, int n, const char *const *meta_keys,
                               const char *const *meta_vals, int n_meta) {
    HL_ASSERT(n >= 0 && n_meta >= 0, "negative counts");
    const hl_st_entry **ord = malloc((size_t)(n + 1) * sizeof *ord);
    kv_ref *meta = malloc((size_t)(n_meta + 1) * sizeof *meta);
    hl_strbuf b = {0};
    hl_status st = HL_OK;
    if (!ord || !meta) {
        st = hl_error_set(HL_ENOMEM, "out of memory writing safetensors");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        ord[i] = &e[i];
        if (!valid_name(e[i].name) || strcmp(e[i].name, "__metadata__") == 0) {
            st = hl_error_set(HL_EINVAL, "safetensors: invalid tensor name '%s'", e[i].name ? e[i].name : "(null)");
            goto done;
        }
        if (e[i].ndim < 0 || e[i].ndim > HL_ST_MAX_DIMS) {
            st = hl_error_set(HL_EINVAL, "safetensors: tensor '%s' has %d dimensions", e[i].name, e[i].ndim);
            goto done;
        }
        for (int d = 0; d < e[i].ndim; d++) HL_ASSERT(e[i].shape[d] >= 0, "tensor '%s': negative dimension", e[i].name);
    }
    for (int i = 0; i < n_meta; i++) {
        meta[i] = (kv_ref){meta_keys[i], meta_vals[i]};
        if (!valid_name(meta_keys[i]) || !meta_vals[i] || !utf8_valid((const unsigned char *)meta_vals[i], strlen(meta_vals[i]))) {
            st = hl_error_set(HL_EINVAL, "safetensors: invalid metadata entry '%s'", meta_keys[i] ? meta_keys[i] : "(null)");
            goto done;
        }
    }
    qsort(ord, (size_t)n, sizeof *ord, cmp_entry_ptr);
    qsort(meta, (size_t)n_meta, sizeof *meta, cmp_kv);
    for (int i = 1; i < n; i++)
        if (strcmp(ord[i - 1]->name, ord[i]->name) == 0) {
            st = hl_error_set(HL_EINVAL, "safetensors: tensor name '%s' appears twice", ord[i]->name);
            goto done;
        }
    for (int i = 1; i < n_meta; i++)
        if (strcmp(meta[i - 1].k, meta[i].k) == 0) {
            st = hl_error_set(HL_EINVAL, "safetensors: metadata key '%s' appears twice", meta[i].k);
            goto done;
        }

    hl_strbuf_put(&b, "{", 1);
    if (n_meta > 0) {
        hl_strbuf_puts(&b, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) hl_strbuf_put(&b, ",", 1);
            sb_json_str(&b, meta[i].k);
            hl_strbuf_put(&b, ":", 1);
            sb_json_str(&b, meta[i].v);
        }
        hl_strbuf_put(&b, "}", 1);
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        const hl_st_entry *t = ord[i];
        if (i || n_meta > 0) hl_strbuf_put(&b, ",", 1);
        sb_json_str(&b, t->name);
        hl_strbuf_puts(&b, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d) hl_strbuf_put(&b, ",", 1);
            sb_fmt_u(&b, (uint64_t)t->shape[d]);
        }
        hl_strbuf_puts(&b, "],\"data_offsets\":[");
        sb_fmt_u(&b, off);
        hl_strbuf_put(&b, ",", 1);
        off += (uint64_t)entry_numel(t) * 4u;
        sb_fmt_u(&b, off);
        hl_strbuf_puts(&b, "]}");
    }
    hl_strbuf_put(&b, "}", 1);
    while (!b.oom && b.n % 8) hl_strbuf_put(&b, " ", 1);
    if (b.oom) {
        st = hl_error_set(HL_ENOMEM, "out of memory building a safetensors header");
        goto done;
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)b.n >> (8 * i));
    bool ok = fwrite(len8, 1, 8, f) == 8 && fwrite(b.p, 1, b.n, f) == b.n;
    bool le = host_is_le();
    for (int i = 0; i < n && ok; i++) {
        const hl_st_entry *t = ord[i];
        int64_t m = entry_numel(t);
        if (le) {
            ok = m == 0 || fwrite(t->data, sizeof(float), (size_t)m, f) == (size_t)m;
            continue;
        }
        float chunk[1024];
        for (int64_t j = 0; j < m && ok; j += 1024) {
            int64_t c = HL_MIN(1024, m - j);
            memcpy(chunk, t->data + j, (size_t)c * sizeof(float));
            bswap32(chunk, c);
            ok = fwrite(chunk, sizeof(float), (size_t)c, f) == (size_t)c;
        }
    }
    if (!ok) st = hl_error_set(HL_EIO, "safetensors: write failed: %s", strerror(errno));
done:
    free(ord);
    free(meta);
    free(b.p);
    return st;
}

hl_status hl_safetensors_save(const char *path, const hl_st_entry *e, int n, const char *const *meta_keys,
                              const char *const *meta_vals, int n_meta) {
    hl_atomic_file af;
    hl_status st = hl_atomic_write_begin(&af, path);
    if (st < 0) return st;
    st = hl_safetensors_write(af.f, e, n, meta_keys, meta_vals, n_meta);
    if (st < 0) {
        hl_error_wrap("%s", path);
        hl_atomic_write_abort(&af);
        return st;
    }
    return hl_atomic_write_commit(&af);
}
