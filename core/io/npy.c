/* core/io/npy.c — .npy reader/writer; see npy.h. */
#include "core/io/npy.h"
#include "core/io/file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/atomic.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "hashlab's .npy code assumes a little-endian host");

static const char NPY_MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static const struct {
    char kind;
    int size;
    const char *name;
} npy_types[HL_NPY_DTYPE_COUNT] = {
    [HL_NPY_BOOL] = {'b', 1, "bool"},    [HL_NPY_U8] = {'u', 1, "uint8"},     [HL_NPY_I8] = {'i', 1, "int8"},
    [HL_NPY_U16] = {'u', 2, "uint16"},   [HL_NPY_I16] = {'i', 2, "int16"},    [HL_NPY_U32] = {'u', 4, "uint32"},
    [HL_NPY_I32] = {'i', 4, "int32"},    [HL_NPY_U64] = {'u', 8, "uint64"},   [HL_NPY_I64] = {'i', 8, "int64"},
    [HL_NPY_F32] = {'f', 4, "float32"},  [HL_NPY_F64] = {'f', 8, "float64"},
};

size_t hl_npy_itemsize(hl_npy_dtype t) {
    HL_ASSERT(t >= 0 && t < HL_NPY_DTYPE_COUNT, "dtype %d", (int)t);
    return (size_t)npy_types[t].size;
}

const char *hl_npy_dtype_name(hl_npy_dtype t) {
    HL_ASSERT(t >= 0 && t < HL_NPY_DTYPE_COUNT, "dtype %d", (int)t);
    return npy_types[t].name;
}

void hl_npy_free(hl_npy *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ==== header ====================================================================================================== */

typedef struct hparse {
    const char *p, *end, *name;
} hparse;

static void hskip(hparse *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r')) h->p++;
}

static hl_status hbad(const hparse *h, const char *what) {
    return hl_error_set(HL_EFORMAT, "%s: malformed .npy header: %s", h->name, what);
}

/* A quoted string without escapes into buf. */
static hl_status hstring(hparse *h, char *buf, size_t cap) {
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return hbad(h, "expected a quoted string");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\') return hbad(h, "escape sequences are not supported in keys or descr");
        if (*h->p == '\0') return hbad(h, "a NUL byte inside a string"); /* "<f4\0junk" is not "<f4" */
        if (n + 1 >= cap) return hbad(h, "string too long");
        buf[n++] = *h->p++;
    }
    if (h->p >= h->end) return hbad(h, "unterminated string");
    h->p++;
    buf[n] = 0;
    return HL_OK;
}

static bool hword(hparse *h, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n) != 0) return false;
    h->p += n;
    return true;
}

static hl_status hshape(hparse *h, hl_npy *a) {
    if (h->p >= h->end || *h->p != '(') return hbad(h, "'shape' must be a tuple");
    h->p++;
    a->ndim = 0;
    for (;;) {
        hskip(h);
        if (h->p < h->end && *h->p == ')') break;
        if (h->p >= h->end || *h->p < '0' || *h->p > '9') return hbad(h, "shape entries must be non-negative integers");
        if (a->ndim == HL_NPY_MAX_DIMS)
            return hl_error_set(HL_EUNSUPPORTED, "%s: more than %d dimensions", h->name, HL_NPY_MAX_DIMS);
        int64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            int d = *h->p++ - '0';
            if (v > (INT64_MAX - d) / 10)
                return hl_error_set(HL_EFORMAT, "%s: absurd shape: an extent exceeds 2^63", h->name);
            v = v * 10 + d;
        }
        if (h->p < h->end && (*h->p == 'L' || *h->p == 'l')) h->p++; /* Python 2 long literal: (3L, 4L) */
        a->shape[a->ndim++] = v;
        hskip(h);
        if (h->p < h->end && *h->p == ',') {
            h->p++;
            continue;
        }
        if (h->p < h->end && *h->p == ')') break;
        return hbad(h, "expected ',' or ')' in the shape");
    }
    h->p++;
    return HL_OK;
}

static hl_status hdescr(const hparse *h, const char *d, hl_npy *a, bool *big) {
    const char *s = d;
    *big = false;
    if (*s == '<' || *s == '|' || *s == '=') s++;
    else if (*s == '>') {
        *big = true;
        s++;
    }
    char kind = s[0];
    if (kind == '?' && s[1] == 0) kind = 'b', s = "b1"; /* '?' is numpy's bool type character */
    char *end = NULL;
    long size = kind ? strtol(s + 1, &end, 10) : 0;
    if (kind && end && end != s + 1 && *end == 0)
        for (int t = 0; t < HL_NPY_DTYPE_COUNT; t++)
            if (npy_types[t].kind == kind && npy_types[t].size == size) {
                a->dtype = (hl_npy_dtype)t;
                if (size == 1) *big = false;
                return HL_OK;
            }
    return hl_error_set(HL_EUNSUPPORTED,
                        "%s: dtype '%s' is not supported (supported: bool, u1/i1, u2/i2, u4/i4, u8/i8, f4, f8)",
                        h->name, d);
}

/* Parses the dict into a's dtype and shape. */
static hl_status parse_header(const char *text, size_t n, const char *name, hl_npy *a, bool *fortran, bool *big) {
    hparse h = {text, text + n, name};
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    hl_status st;
    hskip(&h);
    if (h.p >= h.end || *h.p != '{') return hbad(&h, "expected '{'");
    h.p++;
    for (;;) {
        hskip(&h);
        if (h.p < h.end && *h.p == '}') break;
        char key[32], val[64];
        if ((st = hstring(&h, key, sizeof key)) < 0) return st;
        hskip(&h);
        if (h.p >= h.end || *h.p != ':') return hbad(&h, "expected ':' after a key");
        h.p++;
        hskip(&h);
        if (strcmp(key, "descr") == 0 && !seen_descr) {
            if (h.p < h.end && *h.p == '[')
                return hl_error_set(HL_EUNSUPPORTED, "%s: structured dtypes are not supported", name);
            if ((st = hstring(&h, val, sizeof val)) < 0) return st;
            if ((st = hdescr(&h, val, a, big)) < 0) return st;
            seen_descr = true;
        } else if (strcmp(key, "fortran_order") == 0 && !seen_fortran) {
            if (hword(&h, "True")) *fortran = true;
            else if (hword(&h, "False")) *fortran = false;
            else return hbad(&h, "'fortran_order' must be True or False");
            seen_fortran = true;
        } else if (strcmp(key, "shape") == 0 && !seen_shape) {
            if ((st = hshape(&h, a)) < 0) return st;
            seen_shape = true;
        } else {
            return hl_error_set(HL_EFORMAT, "%s: malformed .npy header: unexpected or repeated key '%s'", name, key);
        }
        hskip(&h);
        if (h.p < h.end && *h.p == ',') {
            h.p++;
            continue;
        }
        if (h.p < h.end && *h.p == '}') break;
        return hbad(&h, "expected ',' or '}'");
    }
    h.p++;
    hskip(&h);
    if (h.p != h.end) return hbad(&h, "text after the closing '}'");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return hl_error_set(HL_EFORMAT, "%s: malformed .npy header: missing '%s'", name,
                            !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    /* Element and byte counts (a zero extent makes the array empty, whatever the others). */
    int64_t numel = 1;
    bool empty = false;
    for (int d = 0; d < a->ndim; d++) empty |= a->shape[d] == 0;
    for (int d = 0; d < a->ndim && !empty; d++)
        if (__builtin_mul_overflow(numel, a->shape[d], &numel))
            return hl_error_set(HL_EFORMAT, "%s: absurd shape: the element count overflows", name);
    if (empty) numel = 0;
    size_t nbytes;
    if (__builtin_mul_overflow((size_t)numel, hl_npy_itemsize(a->dtype), &nbytes) || nbytes > (size_t)INT64_MAX)
        return hl_error_set(HL_EFORMAT, "%s: absurd shape: the byte count overflows", name);
    a->numel = numel;
    a->nbytes = nbytes;
    return HL_OK;
}

/* Magic + version + header length from the first bytes: *hstart = offset of the header text. */
static hl_status parse_prelude(const unsigned char *p, size_t n, const char *name, size_t *hstart, size_t *hlen) {
    if (n < 8 || memcmp(p, NPY_MAGIC, 6) != 0)
        return hl_error_set(HL_EFORMAT, "%s: not a .npy file (bad magic; expected \\x93NUMPY)", name);
    int major = p[6], minor = p[7];
    if (major < 1 || major > 3)
        return hl_error_set(HL_EUNSUPPORTED, "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)",
                            name, major, minor);
    size_t lenbytes = major == 1 ? 2 : 4;
    if (n < 8 + lenbytes) return hl_error_set(HL_EFORMAT, "%s: truncated: the .npy header length is missing", name);
    *hlen = major == 1 ? (size_t)p[8] | (size_t)p[9] << 8
                       : (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
    *hstart = 8 + lenbytes;
    return HL_OK;
}

/* Copies raw file data into a->data: byte swap and/or Fortran -> C transposition. */
static hl_status place_data(hl_npy *a, void *raw, bool fortran, bool big, const char *name) {
    size_t isz = hl_npy_itemsize(a->dtype);
    unsigned char *r = raw;
    if (big && isz > 1)
        for (size_t i = 0; i < a->nbytes; i += isz)
            for (size_t k = 0; k < isz / 2; k++) {
                unsigned char t = r[i + k];
                r[i + k] = r[i + isz - 1 - k];
                r[i + isz - 1 - k] = t;
            }
    if (!fortran || a->ndim < 2 || a->numel == 0) {
        a->data = raw;
        return HL_OK;
    }
    unsigned char *dst = malloc(a->nbytes);
    if (!dst) return hl_error_set(HL_ENOMEM, "%s: out of memory for %zu bytes", name, a->nbytes);
    int64_t fstride[HL_NPY_MAX_DIMS], idx[HL_NPY_MAX_DIMS] = {0}, off = 0;
    fstride[0] = 1;
    for (int d = 1; d < a->ndim; d++) fstride[d] = fstride[d - 1] * a->shape[d - 1];
    for (int64_t i = 0; i < a->numel; i++) {
        memcpy(dst + (size_t)i * isz, r + (size_t)off * isz, isz);
        for (int d = a->ndim - 1; d >= 0; d--) { /* next C-order multi-index */
            off += fstride[d];
            if (++idx[d] < a->shape[d]) break;
            off -= fstride[d] * a->shape[d];
            idx[d] = 0;
        }
    }
    free(raw);
    a->data = dst;
    return HL_OK;
}

hl_status hl_npy_parse(const void *buf, size_t n, const char *name, hl_npy *out) {
    memset(out, 0, sizeof *out);
    const unsigned char *p = buf;
    size_t hstart = 0, hlen = 0;
    bool fortran = false, big = false;
    hl_status st = parse_prelude(p, n, name, &hstart, &hlen);
    if (st < 0) return st;
    if (hlen > n - hstart)
        return hl_error_set(HL_EFORMAT, "%s: truncated: the .npy header needs %zu bytes, found %zu", name, hlen,
                            n - hstart);
    if ((st = parse_header((const char *)p + hstart, hlen, name, out, &fortran, &big)) < 0) goto done;
    size_t have = n - hstart - hlen;
    if (have != out->nbytes) {
        st = hl_error_set(HL_EFORMAT, "%s: %s: expected %zu data bytes, found %zu", name,
                          have < out->nbytes ? "truncated" : "trailing bytes", out->nbytes, have);
        goto done;
    }
    void *raw = malloc(out->nbytes ? out->nbytes : 1);
    if (!raw) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %zu bytes", name, out->nbytes);
        goto done;
    }
    if (out->nbytes) memcpy(raw, p + hstart + hlen, out->nbytes);
    if ((st = place_data(out, raw, fortran, big, name)) < 0) free(raw);
done:
    if (st < 0) hl_npy_free(out);
    return st;
}

hl_status hl_npy_read(const char *path, hl_npy *out) {
    memset(out, 0, sizeof *out);
    hl_status st = HL_OK;
    char *header = NULL;
    void *raw = NULL;
    bool fortran = false, big = false;
    FILE *f = NULL;
    int64_t fbytes = 0;
    if ((st = hl_file_open_read(path, &f, &fbytes)) < 0) return st;
    size_t fsize = (size_t)fbytes, hstart = 0, hlen = 0;
    unsigned char pre[12];
    size_t got = fread(pre, 1, sizeof pre, f);
    if ((st = parse_prelude(pre, got, path, &hstart, &hlen)) < 0) goto done;
    if (hlen > fsize - hstart) {
        st = hl_error_set(HL_EFORMAT, "%s: truncated: the .npy header needs %zu bytes, found %zu", path, hlen,
                          fsize - hstart);
        goto done;
    }
    if (!(header = malloc(hlen + 1))) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for the header", path);
        goto done;
    }
    if (fseek(f, (long)hstart, SEEK_SET) != 0 || fread(header, 1, hlen, f) != hlen) {
        st = hl_error_set(HL_EIO, "%s: read error in the header", path);
        goto done;
    }
    if ((st = parse_header(header, hlen, path, out, &fortran, &big)) < 0) goto done;
    size_t have = fsize - hstart - hlen;
    if (have != out->nbytes) {
        st = hl_error_set(HL_EFORMAT, "%s: %s: expected %zu data bytes, found %zu", path,
                          have < out->nbytes ? "truncated" : "trailing bytes", out->nbytes, have);
        goto done;
    }
    if (!(raw = malloc(out->nbytes ? out->nbytes : 1))) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %zu data bytes", path, out->nbytes);
        goto done;
    }
    if (fread(raw, 1, out->nbytes, f) != out->nbytes) {
        st = hl_error_set(HL_EIO, "%s: read error in the data", path);
        goto done;
    }
    if ((st = place_data(out, raw, fortran, big, path)) < 0) goto done;
    raw = NULL;
done:
    free(header);
    free(raw);
    fclose(f);
    if (st < 0) hl_npy_free(out);
    return st;
}

/* ==== element access =============================================================================================== */

double hl_npy_f64_at(const hl_npy *a, int64_t i) {
    HL_ASSERT(i >= 0 && i < a->numel, "element %lld outside [0, %lld)", (long long)i, (long long)a->numel);
    const unsigned char *p = (const unsigned char *)a->data + (size_t)i * hl_npy_itemsize(a->dtype);
    union {
        uint16_t u16;
        int16_t i16;
        uint32_t u32;
        int32_t i32;
        uint64_t u64;
        int64_t i64;
        float f32;
        double f64;
    } v;
    memcpy(&v, p, hl_npy_itemsize(a->dtype));
    switch (a->dtype) {
    case HL_NPY_BOOL: return *p != 0;
    case HL_NPY_U8: return *p;
    case HL_NPY_I8: return (int8_t)*p;
    case HL_NPY_U16: return v.u16;
    case HL_NPY_I16: return v.i16;
    case HL_NPY_U32: return v.u32;
    case HL_NPY_I32: return v.i32;
    case HL_NPY_U64: return (double)v.u64;
    case HL_NPY_I64: return (double)v.i64;
    case HL_NPY_F32: return v.f32;
    case HL_NPY_F64: return v.f64;
    default: HL_ASSERT(0, "dtype %d", (int)a->dtype);
    }
    return 0;
}

bool hl_npy_i64_at(const hl_npy *a, int64_t i, int64_t *v) {
    HL_ASSERT(i >= 0 && i < a->numel, "element %lld outside [0, %lld)", (long long)i, (long long)a->numel);
    const unsigned char *p = a->data;
    if (a->dtype == HL_NPY_I64) {
        memcpy(v, p + (size_t)i * 8, 8);
        return true;
    }
    if (a->dtype == HL_NPY_U64) {
        uint64_t u;
        memcpy(&u, p + (size_t)i * 8, 8);
        *v = (int64_t)u;
        return u <= (uint64_t)INT64_MAX;
    }
    double x = hl_npy_f64_at(a, i);
    if (!(x == floor(x) && x >= -9223372036854775808.0 && x < 9223372036854775808.0)) return false;
    *v = (int64_t)x;
    return true;
}

hl_status hl_npy_to_f64(const hl_npy *a, double **out) {
    *out = malloc((size_t)(a->numel ? a->numel : 1) * sizeof **out);
    if (!*out) return hl_error_set(HL_ENOMEM, "out of memory for %lld doubles", (long long)a->numel);
    for (int64_t i = 0; i < a->numel; i++) (*out)[i] = hl_npy_f64_at(a, i);
    return HL_OK;
}

/* ==== writer ====================================================================================================== */

hl_status hl_npy_write_begin(hl_npy_writer *w, const char *path, hl_npy_dtype dtype, int ndim,
                             const int64_t *shape) {
    HL_ASSERT(dtype >= 0 && dtype < HL_NPY_DTYPE_COUNT, "dtype %d", (int)dtype);
    HL_ASSERT(ndim >= 0 && ndim <= HL_NPY_MAX_DIMS, "ndim %d", ndim);
    memset(w, 0, sizeof *w);
    size_t nbytes = hl_npy_itemsize(dtype);
    char dims[HL_NPY_MAX_DIMS * 22 + 4] = "";
    size_t dl = 0;
    for (int d = 0; d < ndim; d++) {
        HL_ASSERT(shape[d] >= 0, "extent %lld", (long long)shape[d]);
        dl += (size_t)snprintf(dims + dl, sizeof dims - dl, d ? ", %lld" : "%lld", (long long)shape[d]);
        HL_ASSERT(!__builtin_mul_overflow(nbytes, (size_t)shape[d], &nbytes), "array too large");
    }
    if (ndim == 1) dims[dl++] = ',', dims[dl] = 0;
    char dict[sizeof dims + 96];
    int len = snprintf(dict, sizeof dict, "{'descr': '%c%c%d', 'fortran_order': False, 'shape': (%s), }",
                       npy_types[dtype].size == 1 ? '|' : '<', npy_types[dtype].kind, npy_types[dtype].size, dims);
    /* numpy's _wrap_header: pad with spaces so magic + version + length + header + '\n' is a multiple of 64. */
    int major = 1;
    size_t lenbytes = 2, hlen = (size_t)len + 1;
    size_t pad = 64 - (6 + 2 + lenbytes + hlen) % 64;
    if (hlen + pad > 65535) {
        major = 2, lenbytes = 4;
        pad = 64 - (6 + 2 + lenbytes + hlen) % 64;
    }
    size_t total = hlen + pad;
    unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, 0};
    for (size_t k = 0; k < lenbytes; k++) pre[8 + k] = (unsigned char)(total >> (8 * k));
    hl_status st = hl_atomic_write_begin(&w->af, path);
    if (st < 0) return st;
    fwrite(pre, 1, 8 + lenbytes, w->af.f);
    fwrite(dict, 1, (size_t)len, w->af.f);
    for (size_t k = 0; k < pad; k++) fputc(' ', w->af.f);
    fputc('\n', w->af.f);
    w->expected = nbytes;
    return HL_OK;
}

hl_status hl_npy_write_append(hl_npy_writer *w, const void *data, size_t nbytes) {
    HL_ASSERT(w->af.f && w->written + nbytes <= w->expected, "npy writer: %zu + %zu bytes, the array holds %zu",
              w->written, nbytes, w->expected);
    if (nbytes && fwrite(data, 1, nbytes, w->af.f) != nbytes) {
        hl_status st = hl_error_set(HL_EIO, "%s: write failed: %s", w->af.path, strerror(errno));
        hl_npy_write_abort(w);
        return st;
    }
    w->written += nbytes;
    return HL_OK;
}

hl_status hl_npy_write_commit(hl_npy_writer *w) {
    HL_ASSERT(w->af.f && w->written == w->expected, "npy writer: %zu bytes written, the array holds %zu", w->written,
              w->expected);
    return hl_atomic_write_commit(&w->af);
}

void hl_npy_write_abort(hl_npy_writer *w) { hl_atomic_write_abort(&w->af); }

hl_status hl_npy_write(const char *path, hl_npy_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    hl_npy_writer w;
    hl_status st = hl_npy_write_begin(&w, path, dtype, ndim, shape);
    if (st < 0) return st;
    if ((st = hl_npy_write_append(&w, data, w.expected)) < 0) return st;
    return hl_npy_write_commit(&w);
}
