/* core/io/json.c — strict recursive-descent JSON reader into an hl_config tree (see json.h). */
#include "core/io/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/file.h"

typedef struct jp {
    const char *name;
    const unsigned char *s;
    size_t len, pos, line_start;
    int line;
} jp;

static int col_of(const jp *p, size_t pos) {
    return (int)(pos - p->line_start) + 1;
}

static hl_status jerr(const jp *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static hl_status jerr(const jp *p, size_t pos, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hl_error_set(HL_EFORMAT, "%s:%d:%d: %s", p->name, p->line, col_of(p, pos), msg);
}

/* "'x'" for printable ASCII, "byte 0xNN" otherwise. */
static const char *show_byte(unsigned char c, char *buf, size_t n) {
    if (c >= 0x20 && c < 0x7f) snprintf(buf, n, "'%c'", c);
    else snprintf(buf, n, "byte 0x%02X", c);
    return buf;
}

static void skip_ws(jp *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == '\n') {
            p->pos++;
            p->line++;
            p->line_start = p->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else {
            break;
        }
    }
}

static hl_config *new_node(const jp *p, hl_config_kind kind, const char *text, size_t pos) {
    hl_config *c = hl_config_new(kind, text, p->name, p->line, col_of(p, pos));
    if (!c) hl_error_set(HL_ENOMEM, "%s: out of memory parsing JSON", p->name);
    return c;
}

/* ---- strings ---- */

typedef struct sbuf {
    char *b;
    size_t n, cap;
} sbuf;

static bool sb_put(sbuf *b, const char *src, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->n + n + 1) cap *= 2;
        char *nb = realloc(b->b, cap);
        if (!nb) return false;
        b->b = nb;
        b->cap = cap;
    }
    memcpy(b->b + b->n, src, n);
    b->n += n;
    b->b[b->n] = 0;
    return true;
}

static int hex4(const jp *p, size_t at) {
    if (at + 4 > p->len) return -1;
    int v = 0;
    for (size_t i = at; i < at + 4; i++) {
        unsigned char c = p->s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t utf8_encode(unsigned cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the well-formed UTF-8 sequence at pos (lead byte >= 0x80), or 0 if malformed/truncated. */
static size_t utf8_len(const jp *p, size_t pos) {
    const unsigned char *s = p->s + pos;
    size_t avail = p->len - pos, n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) n = 3, lo = s[0] == 0xE0 ? 0xA0 : 0x80, hi = s[0] == 0xED ? 0x9F : 0xBF;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) n = 4, lo = s[0] == 0xF0 ? 0x90 : 0x80, hi = s[0] == 0xF4 ? 0x8F : 0xBF;
    else return 0;
    if (avail < n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

/* At an opening quote: decodes the string into *out (heap) and moves past the closing quote. */
static hl_status parse_string(jp *p, char **out) {
    hl_status st = HL_OK;
    sbuf b = {0};
    size_t start = p->pos++;
    *out = NULL;
    if (!sb_put(&b, "", 0)) goto oom;
    for (;;) {
        if (p->pos >= p->len) {
            st = jerr(p, start, "unterminated string");
            goto done;
        }
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            char sb[16];
            st = jerr(p, p->pos, "control character %s in a string (escape it)", show_byte(c, sb, sizeof sb));
            goto done;
        }
        if (c >= 0x80) {
            size_t n = utf8_len(p, p->pos);
            if (!n) {
                st = jerr(p, p->pos, "invalid UTF-8 in a string");
                goto done;
            }
            if (!sb_put(&b, (const char *)p->s + p->pos, n)) goto oom;
            p->pos += n;
            continue;
        }
        if (c != '\\') {
            if (!sb_put(&b, (const char *)&c, 1)) goto oom;
            p->pos++;
            continue;
        }
        size_t esc = p->pos;
        if (p->pos + 1 >= p->len) {
            st = jerr(p, start, "unterminated string");
            goto done;
        }
        unsigned char e = p->s[p->pos + 1];
        const char *simple = NULL;
        switch (e) {
        case '"': simple = "\""; break;
        case '\\': simple = "\\"; break;
        case '/': simple = "/"; break;
        case 'b': simple = "\b"; break;
        case 'f': simple = "\f"; break;
        case 'n': simple = "\n"; break;
        case 'r': simple = "\r"; break;
        case 't': simple = "\t"; break;
        default: break;
        }
        if (simple) {
            if (!sb_put(&b, simple, 1)) goto oom;
            p->pos += 2;
            continue;
        }
        if (e != 'u') {
            char sb[16];
            st = jerr(p, esc, "invalid escape: backslash followed by %s", show_byte(e, sb, sizeof sb));
            goto done;
        }
        int u = hex4(p, p->pos + 2);
        if (u < 0) {
            st = jerr(p, esc, "\\u needs 4 hex digits");
            goto done;
        }
        unsigned cp = (unsigned)u;
        p->pos += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            st = jerr(p, esc, "lone low surrogate \\u%04X", cp);
            goto done;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int lo = p->pos + 1 < p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u' ? hex4(p, p->pos + 2) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                st = jerr(p, esc, "high surrogate \\u%04X not followed by a low surrogate", cp);
                goto done;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
            p->pos += 6;
        }
        if (cp == 0) {
            st = jerr(p, esc, "\\u0000 is not supported (strings cannot hold NUL)");
            goto done;
        }
        char enc[4];
        if (!sb_put(&b, enc, utf8_encode(cp, enc))) goto oom;
    }
    *out = b.b;
    b.b = NULL;
    goto done;
oom:
    st = hl_error_set(HL_ENOMEM, "%s: out of memory parsing JSON", p->name);
done:
    free(b.b);
    return st;
}

/* ---- numbers and literals ---- */

static bool is_digit(const jp *p, size_t i) {
    return i < p->len && p->s[i] >= '0' && p->s[i] <= '9';
}

static hl_status parse_number(jp *p, hl_config **out) {
    hl_status st = HL_OK;
    size_t start = p->pos, i = p->pos;
    char *text = NULL;
    if (i < p->len && p->s[i] == '-') i++;
    if (!is_digit(p, i)) {
        st = jerr(p, start, "invalid number: expected a digit");
        goto done;
    }
    if (p->s[i] == '0') {
        i++;
        if (is_digit(p, i)) {
            st = jerr(p, start, "invalid number: leading zero");
            goto done;
        }
    } else {
        while (is_digit(p, i)) i++;
    }
    if (i < p->len && p->s[i] == '.') {
        i++;
        if (!is_digit(p, i)) {
            st = jerr(p, start, "invalid number: expected a digit after '.'");
            goto done;
        }
        while (is_digit(p, i)) i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (!is_digit(p, i)) {
            st = jerr(p, start, "invalid number: expected a digit in the exponent");
            goto done;
        }
        while (is_digit(p, i)) i++;
    }
    text = malloc(i - start + 1);
    if (!text) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory parsing JSON", p->name);
        goto done;
    }
    memcpy(text, p->s + start, i - start);
    text[i - start] = 0;
    if (!(*out = new_node(p, HL_CONFIG_SCALAR, text, start))) {
        st = HL_ENOMEM;
        goto done;
    }
    p->pos = i;
done:
    free(text);
    return st;
}

static hl_status parse_literal(jp *p, hl_config **out) {
    static const char *const words[3] = {"true", "false", "null"};
    for (int w = 0; w < 3; w++) {
        size_t n = strlen(words[w]);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, words[w], n) == 0) {
            *out = new_node(p, w == 2 ? HL_CONFIG_NULL : HL_CONFIG_SCALAR, words[w], p->pos);
            if (!*out) return HL_ENOMEM;
            p->pos += n;
            return HL_OK;
        }
    }
    return jerr(p, p->pos, "invalid literal (expected true, false or null)");
}

/* ---- containers ---- */

static hl_status parse_value(jp *p, int depth, hl_config **out);

static hl_status parse_array(jp *p, int depth, hl_config **out) {
    hl_status st = HL_OK;
    hl_config *seq = new_node(p, HL_CONFIG_SEQ, NULL, p->pos), *v = NULL;
    if (!seq) return HL_ENOMEM;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        goto done;
    }
    for (;;) {
        HL_TRY(parse_value(p, depth + 1, &v));
        st = hl_config_seq_push(seq, v);
        v = NULL;
        if (st < 0) goto done;
        skip_ws(p);
        if (p->pos >= p->len) {
            st = jerr(p, p->pos, "unexpected end of input in an array (expected ',' or ']')");
            goto done;
        }
        unsigned char c = p->s[p->pos];
        if (c == ']') {
            p->pos++;
            break;
        }
        if (c != ',') {
            char sb[16];
            st = jerr(p, p->pos, "expected ',' or ']' in an array, got %s", show_byte(c, sb, sizeof sb));
            goto done;
        }
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ']') {
            st = jerr(p, p->pos, "trailing comma in an array");
            goto done;
        }
    }
done:
    if (st < 0) {
        hl_config_free(seq);
        seq = NULL;
    }
    *out = seq;
    return st;
}

static hl_status parse_object(jp *p, int depth, hl_config **out) {
    hl_status st = HL_OK;
    hl_config *map = new_node(p, HL_CONFIG_MAP, NULL, p->pos), *v = NULL;
    char *key = NULL;
    if (!map) return HL_ENOMEM;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        goto done;
    }
    for (;;) {
        if (p->pos >= p->len) {
            st = jerr(p, p->pos, "unexpected end of input in an object (expected a key)");
            goto done;
        }
        if (p->s[p->pos] != '"') {
            char sb[16];
            st = jerr(p, p->pos, "expected a string key in an object, got %s", show_byte(p->s[p->pos], sb, sizeof sb));
            goto done;
        }
        int kline = p->line, kcol = col_of(p, p->pos);
        size_t kpos = p->pos;
        HL_TRY(parse_string(p, &key));
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            st = jerr(p, p->pos, "expected ':' after the key '%s'", key);
            goto done;
        }
        p->pos++;
        const hl_config *old = hl_config_get(map, key);
        if (old) {
            int l = p->line;
            size_t ls = p->line_start;
            p->line = kline; /* report at the key */
            p->line_start = kpos - (size_t)(kcol - 1);
            st = jerr(p, kpos, "duplicate key '%s' (first defined at %d:%d)", key, old->key_line, old->key_col);
            p->line = l;
            p->line_start = ls;
            goto done;
        }
        HL_TRY(parse_value(p, depth + 1, &v));
        st = hl_config_map_put(map, key, kline, kcol, v);
        v = NULL;
        free(key);
        key = NULL;
        if (st < 0) goto done;
        skip_ws(p);
        if (p->pos >= p->len) {
            st = jerr(p, p->pos, "unexpected end of input in an object (expected ',' or '}')");
            goto done;
        }
        unsigned char c = p->s[p->pos];
        if (c == '}') {
            p->pos++;
            break;
        }
        if (c != ',') {
            char sb[16];
            st = jerr(p, p->pos, "expected ',' or '}' in an object, got %s", show_byte(c, sb, sizeof sb));
            goto done;
        }
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == '}') {
            st = jerr(p, p->pos, "trailing comma in an object");
            goto done;
        }
    }
done:
    free(key);
    if (st < 0) {
        hl_config_free(map);
        map = NULL;
    }
    *out = map;
    return st;
}

static hl_status parse_value(jp *p, int depth, hl_config **out) {
    *out = NULL;
    skip_ws(p);
    if (p->pos >= p->len) return jerr(p, p->pos, "unexpected end of input (expected a value)");
    unsigned char c = p->s[p->pos];
    if ((c == '[' || c == '{') && depth >= HL_JSON_MAX_DEPTH)
        return jerr(p, p->pos, "nesting deeper than %d levels", HL_JSON_MAX_DEPTH);
    if (c == '{') return parse_object(p, depth, out);
    if (c == '[') return parse_array(p, depth, out);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, out);
    if (c == 't' || c == 'f' || c == 'n') return parse_literal(p, out);
    if (c == '"') {
        char *s = NULL;
        size_t start = p->pos;
        int line = p->line;
        hl_status st = parse_string(p, &s);
        if (st < 0) return st;
        *out = hl_config_new(HL_CONFIG_SCALAR, s, p->name, line, col_of(p, start));
        free(s);
        if (!*out) return hl_error_set(HL_ENOMEM, "%s: out of memory parsing JSON", p->name);
        (*out)->quoted = true;
        return HL_OK;
    }
    char sb[16];
    return jerr(p, p->pos, "unexpected %s (expected a value)", show_byte(c, sb, sizeof sb));
}

hl_status hl_json_parse(const char *name, const char *text, size_t len, hl_config **root) {
    HL_ASSERT(root && (text || len == 0), "hl_json_parse needs text and an output");
    jp p = {.name = name ? name : "<json>", .s = (const unsigned char *)(text ? text : ""), .len = len, .line = 1};
    hl_config *v = NULL;
    hl_status st = HL_OK;
    *root = NULL;
    if (len >= 3 && memcmp(p.s, "\xEF\xBB\xBF", 3) == 0) p.pos = p.line_start = 3; /* BOM: columns count after it */
    HL_TRY(parse_value(&p, 0, &v));
    skip_ws(&p);
    if (p.pos < p.len) {
        char sb[16];
        st = jerr(&p, p.pos, "unexpected %s after the JSON value", show_byte(p.s[p.pos], sb, sizeof sb));
        goto done;
    }
    *root = v;
    v = NULL;
done:
    hl_config_free(v);
    return st;
}

hl_status hl_json_load_file(const char *path, hl_config **root) {
    hl_status st = HL_OK;
    FILE *f = NULL;
    int64_t size = 0;
    char *buf = NULL;
    *root = NULL;
    HL_TRY(hl_file_open_read(path, &f, &size));
    if (size > HL_JSON_MAX_FILE_BYTES) {
        st = hl_error_set(HL_EFORMAT, "%s: JSON file too large (%lld bytes)", path, (long long)size);
        goto done;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory reading %lld bytes", path, (long long)size);
        goto done;
    }
    if (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = hl_error_set(HL_EIO, "%s: read failed: %s", path, ferror(f) ? strerror(errno) : "file shrank");
        goto done;
    }
    st = hl_json_parse(path, buf, (size_t)size, root);
done:
    if (f) fclose(f);
    free(buf);
    return st;
}
