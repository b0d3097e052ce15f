/* tests/core/test_npy.c — .npy files written byte by byte (versions 1.0/2.0/3.0, every dtype, big-endian, Fortran
 * order), malformed files (truncated, bad magic, absurd shapes, bad headers), writer layout and round trips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/npy.h"
#include "core/rng.h"
#include "test_common.h"

/* Bytes of a .npy file: magic, version major.0, header length (u16 for v1, u32 otherwise), header text, data. */
static size_t make_npy(unsigned char *buf, int major, const char *header, const void *data, size_t n) {
    size_t hl = strlen(header), off = 0;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    off = 8;
    buf[off++] = (unsigned char)(hl & 0xFF);
    buf[off++] = (unsigned char)(hl >> 8);
    if (major >= 2) {
        buf[off++] = (unsigned char)(hl >> 16);
        buf[off++] = (unsigned char)(hl >> 24);
    }
    memcpy(buf + off, header, hl);
    off += hl;
    if (n) memcpy(buf + off, data, n);
    return off + n;
}

/* One scratch directory per test process. */
static const char *tmpdir(void) {
    static const char *d;
    if (!d) d = hl_test_tmpdir();
    return d;
}

static char *write_bytes(const char *name, const void *buf, size_t n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir(), name);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
    return path;
}

/* Reads a hand-made file, asserting success. */
static void read_ok(int major, const char *header, const void *data, size_t n, hl_npy *a) {
    unsigned char buf[4096];
    size_t len = make_npy(buf, major, header, data, n);
    char *path = write_bytes("a.npy", buf, len);
    hl_status st = hl_npy_read(path, a);
    cr_assert_eq(st, HL_OK, "%s: %s", header, hl_error_last());
}

/* Expects an error whose message holds the path and `needle`. */
static void read_fails(const void *buf, size_t len, hl_status code, const char *needle) {
    char *path = write_bytes("bad.npy", buf, len);
    hl_npy a;
    hl_status st = hl_npy_read(path, &a);
    cr_assert_eq(st, code, "expected %s, got %s (%s)", hl_status_name(code), hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), path), "message does not name the path: %s", hl_error_last());
    cr_assert(strstr(hl_error_last(), needle), "message lacks '%s': %s", needle, hl_error_last());
    cr_assert_null(a.data);
    /* The memory parser agrees. */
    cr_assert_eq(hl_npy_parse(buf, len, "mem", &a), code, "%s", hl_error_last());
}

Test(npy, v1_float32_2d) {
    float v[6] = {1.5f, -2, 0, 3.25f, 1e-3f, -7};
    hl_npy a;
    read_ok(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n", v, sizeof v, &a);
    cr_assert_eq(a.dtype, HL_NPY_F32);
    cr_assert_eq(a.ndim, 2);
    cr_assert(a.shape[0] == 2 && a.shape[1] == 3 && a.numel == 6 && a.nbytes == 24);
    for (int i = 0; i < 6; i++) cr_assert_eq(hl_npy_f64_at(&a, i), (double)v[i]);
    hl_npy_free(&a);
    cr_assert_null(a.data);
    hl_npy_free(NULL);
}

Test(npy, v2_header_any_order_quotes_spaces_trailing_commas) {
    int16_t v[3] = {-300, 7, 32767};
    hl_npy a;
    read_ok(2, "{ \"shape\" :( 3 , ) ,'fortran_order':False,\t'descr' : \"<i2\" ,}\n", v, sizeof v, &a);
    cr_assert_eq(a.dtype, HL_NPY_I16);
    cr_assert(a.ndim == 1 && a.shape[0] == 3);
    for (int i = 0; i < 3; i++) cr_assert_eq(hl_npy_f64_at(&a, i), v[i]);
    hl_npy_free(&a);
    /* No trailing comma, no final newline, Python 2 longs, 0-d scalar. */
    double s = 2.5;
    read_ok(1, "{'descr':'<f8','fortran_order':False,'shape':()}", &s, 8, &a);
    cr_assert(a.ndim == 0 && a.numel == 1 && hl_npy_f64_at(&a, 0) == 2.5);
    hl_npy_free(&a);
    uint8_t u[4] = {1, 2, 3, 4};
    read_ok(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 2L), }\n", u, 4, &a);
    cr_assert(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 2 && hl_npy_f64_at(&a, 3) == 4);
    hl_npy_free(&a);
    /* Empty array: a zero extent. */
    read_ok(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }\n", NULL, 0, &a);
    cr_assert(a.numel == 0 && a.nbytes == 0 && a.data != NULL);
    hl_npy_free(&a);
}

Test(npy, v3_utf8_header) {
    uint8_t v[2] = {200, 3};
    hl_npy a;
    read_ok(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }    \n", v, 2, &a);
    cr_assert(a.dtype == HL_NPY_U8 && hl_npy_f64_at(&a, 0) == 200 && hl_npy_f64_at(&a, 1) == 3);
    hl_npy_free(&a);
}

/* Each dtype: the value −2 (or 2 unsigned, true for bool) followed by 1, written little-endian by hand. */
Test(npy, every_dtype_little_endian) {
    static const struct {
        const char *descr;
        hl_npy_dtype t;
        int size;
        double v0;
    } cases[] = {{"|b1", HL_NPY_BOOL, 1, 1},  {"|u1", HL_NPY_U8, 1, 2},   {"|i1", HL_NPY_I8, 1, -2},
                 {"<u2", HL_NPY_U16, 2, 2},   {"<i2", HL_NPY_I16, 2, -2}, {"<u4", HL_NPY_U32, 4, 2},
                 {"<i4", HL_NPY_I32, 4, -2},  {"=u8", HL_NPY_U64, 8, 2},  {"<i8", HL_NPY_I64, 8, -2},
                 {"<f4", HL_NPY_F32, 4, -2},  {"<f8", HL_NPY_F64, 8, -2}, {"|?", HL_NPY_BOOL, 1, 1}};
    for (size_t c = 0; c < HL_ARRAY_LEN(cases); c++) {
        unsigned char data[16] = {0};
        int s = cases[c].size;
        if (cases[c].t == HL_NPY_F32) {
            float f[2] = {-2, 1};
            memcpy(data, f, 8);
        } else if (cases[c].t == HL_NPY_F64) {
            double f[2] = {-2, 1};
            memcpy(data, f, 16);
        } else {
            /* two's complement little-endian of v0, then 1 */
            int64_t v = (int64_t)cases[c].v0;
            for (int k = 0; k < s; k++) data[k] = (unsigned char)((uint64_t)v >> (8 * k));
            data[s] = 1;
        }
        char header[128];
        snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }\n", cases[c].descr);
        hl_npy a;
        read_ok(1, header, data, (size_t)(2 * s), &a);
        cr_assert_eq(a.dtype, cases[c].t, "%s", cases[c].descr);
        cr_assert_eq(hl_npy_itemsize(a.dtype), (size_t)s);
        cr_assert_eq(hl_npy_f64_at(&a, 0), cases[c].v0, "%s: %g", cases[c].descr, hl_npy_f64_at(&a, 0));
        cr_assert_eq(hl_npy_f64_at(&a, 1), 1.0, "%s", cases[c].descr);
        int64_t iv;
        cr_assert(hl_npy_i64_at(&a, 0, &iv) && iv == (int64_t)cases[c].v0, "%s", cases[c].descr);
        double *d;
        cr_assert_eq(hl_npy_to_f64(&a, &d), HL_OK);
        cr_assert(d[0] == cases[c].v0 && d[1] == 1.0);
        free(d);
        hl_npy_free(&a);
    }
}

Test(npy, big_endian_converted) {
    hl_npy a;
    unsigned char i4[8] = {0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x01, 0x00, 0x00}; /* −2, 65536 */
    read_ok(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }\n", i4, 8, &a);
    cr_assert(hl_npy_f64_at(&a, 0) == -2 && hl_npy_f64_at(&a, 1) == 65536);
    hl_npy_free(&a);
    unsigned char f8[8] = {0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18}; /* pi */
    read_ok(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }\n", f8, 8, &a);
    cr_assert_eq(hl_npy_f64_at(&a, 0), 3.141592653589793);
    hl_npy_free(&a);
    unsigned char u2[4] = {0x01, 0x02, 0xAB, 0xCD};
    read_ok(1, "{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }\n", u2, 4, &a);
    cr_assert(hl_npy_f64_at(&a, 0) == 0x0102 && hl_npy_f64_at(&a, 1) == 0xABCD);
    hl_npy_free(&a);
    unsigned char f4[4] = {0xBF, 0xC0, 0x00, 0x00}; /* −1.5 */
    read_ok(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", f4, 4, &a);
    cr_assert_eq(hl_npy_f64_at(&a, 0), -1.5);
    hl_npy_free(&a);
}

Test(npy, fortran_order_transposed_to_c) {
    /* A = [[0,1,2],[3,4,5]] stored column-major: 0 3 1 4 2 5. */
    int32_t f[6] = {0, 3, 1, 4, 2, 5};
    hl_npy a;
    read_ok(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }\n", f, sizeof f, &a);
    for (int i = 0; i < 6; i++) cr_assert_eq(hl_npy_f64_at(&a, i), i, "element %d", i);
    hl_npy_free(&a);
    /* 3-D (2, 3, 4): element (i,j,k) = 100i + 10j + k at Fortran offset i + 2j + 6k. */
    double g[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) g[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    read_ok(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }\n", g, sizeof g, &a);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) cr_assert_eq(hl_npy_f64_at(&a, (i * 3 + j) * 4 + k), 100 * i + 10 * j + k);
    hl_npy_free(&a);
    /* Big-endian and Fortran together. */
    unsigned char be[8] = {0, 1, 0, 3, 0, 2, 0, 4}; /* (2,2) column-major 1 3 2 4 -> C 1 2 3 4 */
    read_ok(1, "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }\n", be, 8, &a);
    for (int i = 0; i < 4; i++) cr_assert_eq(hl_npy_f64_at(&a, i), i + 1);
    hl_npy_free(&a);
}

Test(npy, malformed_files_are_errors) {
    unsigned char buf[1024], data[64] = {0};
    const char *h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
    size_t n = make_npy(buf, 1, h, data, 24);
    read_fails(buf, n - 1, HL_EFORMAT, "truncated: expected 24 data bytes, found 23");
    read_fails(buf, n - 24, HL_EFORMAT, "truncated");
    read_fails(buf, 20, HL_EFORMAT, "truncated"); /* inside the header */
    read_fails(buf, 9, HL_EFORMAT, "truncated");  /* inside the header length */
    read_fails(buf, 0, HL_EFORMAT, "bad magic");
    n = make_npy(buf, 1, h, data, 25);
    read_fails(buf, n, HL_EFORMAT, "trailing bytes");
    /* a NUL inside descr would otherwise cut '<f4\0junk' to the valid '<f4' */
    n = make_npy(buf, 1, "{'descr': '<f4Xjunk', 'fortran_order': False, 'shape': (2, 3), }\n", data, 24);
    buf[10 + 14] = 0; /* the X (header after the 10-byte v1 preamble) */
    read_fails(buf, n, HL_EFORMAT, "a NUL byte inside a string");
    n = make_npy(buf, 1, h, data, 24);
    buf[1] = 'M';
    read_fails(buf, n, HL_EFORMAT, "bad magic");
    static const char zip[] = "PK\x03\x04 not numpy";
    read_fails(zip, sizeof zip, HL_EFORMAT, "bad magic");
    n = make_npy(buf, 4, h, data, 24);
    read_fails(buf, n, HL_EUNSUPPORTED, "version 4.0");
    /* Absurd shapes: overflowing products, an extent beyond 2^63, a huge array the file does not hold. */
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", data, 8);
    read_fails(buf, n, HL_EFORMAT, "absurd shape");
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976, 9), }\n", data, 8);
    read_fails(buf, n, HL_EFORMAT, "absurd shape");
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", data, 8);
    read_fails(buf, n, HL_EFORMAT, "absurd shape");
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }\n", data, 8);
    read_fails(buf, n, HL_EFORMAT, "truncated: expected 8000000000000 data bytes, found 8");
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }\n", data, 8);
    read_fails(buf, n, HL_EUNSUPPORTED, "more than 8 dimensions");
    /* A header length far beyond the file (v2: u32). */
    n = make_npy(buf, 2, h, data, 24);
    buf[11] = 0x7F;
    read_fails(buf, n, HL_EFORMAT, "truncated");
    /* Header syntax and content. */
    static const struct {
        const char *h;
        hl_status code;
        const char *needle;
    } bad[] = {
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", HL_EUNSUPPORTED, "'<c8' is not supported"},
        {"{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }\n", HL_EUNSUPPORTED, "not supported"},
        {"{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }\n", HL_EUNSUPPORTED, "not supported"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", HL_EUNSUPPORTED, "structured"},
        {"{'descr': '<f4', 'fortran_order': False, }\n", HL_EFORMAT, "missing 'shape'"},
        {"{'descr': '<f4', 'shape': (1,), }\n", HL_EFORMAT, "missing 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", HL_EFORMAT, "key 'x'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", HL_EFORMAT, "repeated key"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}\n", HL_EFORMAT, "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n", HL_EFORMAT, "non-negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}\n", HL_EFORMAT, "tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}\n", HL_EFORMAT, "expected ','"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}\n", HL_EFORMAT, "expected ','"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x\n", HL_EFORMAT, "after the closing"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}\n", HL_EUNSUPPORTED, "not supported"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'unterminated}\n", HL_EFORMAT, "unterminated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)\n", HL_EFORMAT, "expected ','"},
        {"'descr': '<f4'\n", HL_EFORMAT, "expected '{'"},
        {"", HL_EFORMAT, "expected '{'"},
    };
    for (size_t i = 0; i < HL_ARRAY_LEN(bad); i++) {
        n = make_npy(buf, 1, bad[i].h, data, 4);
        read_fails(buf, n, bad[i].code, bad[i].needle);
    }
    /* A missing file and a directory. */
    hl_npy a;
    cr_assert_eq(hl_npy_read("/nonexistent/x.npy", &a), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "/nonexistent/x.npy"));
    cr_assert_eq(hl_npy_read(tmpdir(), &a), HL_EIO);
}

/* Random corruption of a valid file never crashes: every truncation and 3000 random byte edits either parse or
 * fail with an error. */
Test(npy, corruption_never_crashes) {
    unsigned char buf[256], data[48];
    for (int i = 0; i < 48; i++) data[i] = (unsigned char)(i * 37);
    size_t n = make_npy(buf, 1, "{'descr': '<i4', 'fortran_order': True, 'shape': (3, 4), }\n", data, 48);
    hl_npy a;
    for (size_t len = 0; len < n; len++) cr_assert_lt(hl_npy_parse(buf, len, "t", &a), 0, "length %zu", len);
    cr_assert_eq(hl_npy_parse(buf, n, "t", &a), HL_OK);
    hl_npy_free(&a);
    hl_rng r = hl_rng_make(5, 0);
    int ok = 0;
    for (int it = 0; it < 3000; it++) {
        unsigned char m[256];
        memcpy(m, buf, n);
        int edits = 1 + (int)hl_rng_below(&r, 3);
        for (int e = 0; e < edits; e++) m[hl_rng_below(&r, n)] = (unsigned char)hl_rng_u32(&r);
        if (hl_npy_parse(m, n, "t", &a) == HL_OK) {
            ok++;
            cr_assert_eq(a.nbytes, (size_t)a.numel * hl_npy_itemsize(a.dtype));
            for (int64_t i = 0; i < a.numel; i++) (void)hl_npy_f64_at(&a, i);
            hl_npy_free(&a);
        }
    }
    cr_assert_gt(ok, 0); /* edits in the data bytes still parse */
}

Test(npy, writer_layout_matches_numpy) {
    const char *dir = tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/w.npy", dir);
    float v[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    cr_assert_eq(hl_npy_write(path, HL_NPY_F32, 2, shape, v), HL_OK, "%s", hl_error_last());
    FILE *f = fopen(path, "rb");
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* What numpy < 1.24 writes for np.arange(1, 7, dtype='<f4').reshape(2, 3): 128-byte header. */
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    cr_assert_eq(n, 128 + 24);
    cr_assert(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    cr_assert_eq(buf[8] | buf[9] << 8, 118);
    cr_assert(memcmp(buf + 10, dict, strlen(dict)) == 0);
    for (size_t i = 10 + strlen(dict); i < 127; i++) cr_assert_eq(buf[i], ' ');
    cr_assert_eq(buf[127], '\n');
    cr_assert(memcmp(buf + 128, v, 24) == 0);
    /* 1-D uses "(n,)", 1-byte types '|', 0-d "()"; data always start at a multiple of 64. */
    int64_t s1 = 5;
    uint8_t u[5] = {1, 2, 3, 4, 5};
    cr_assert_eq(hl_npy_write(path, HL_NPY_U8, 1, &s1, u), HL_OK);
    memset(buf, 0, sizeof buf);
    f = fopen(path, "rb");
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    size_t hl = (size_t)(buf[8] | buf[9] << 8);
    cr_assert_eq((10 + hl) % 64, 0);
    cr_assert(strstr((char *)buf + 10, "'descr': '|u1'") && strstr((char *)buf + 10, "'shape': (5,)"));
    cr_assert_eq(n, 10 + hl + 5);
    /* Many dimensions with a long header still align and round-trip. */
    int64_t s8[8] = {1, 2, 1, 3, 1, 1, 2, 1};
    double d[12];
    for (int i = 0; i < 12; i++) d[i] = i * 0.5 - 2;
    cr_assert_eq(hl_npy_write(path, HL_NPY_F64, 8, s8, d), HL_OK);
    hl_npy a;
    cr_assert_eq(hl_npy_read(path, &a), HL_OK, "%s", hl_error_last());
    cr_assert(a.ndim == 8 && a.numel == 12);
    for (int i = 0; i < 8; i++) cr_assert_eq(a.shape[i], s8[i]);
    cr_assert(memcmp(a.data, d, sizeof d) == 0);
    hl_npy_free(&a);
    double sc = 4.0;
    cr_assert_eq(hl_npy_write(path, HL_NPY_F64, 0, NULL, &sc), HL_OK);
    cr_assert_eq(hl_npy_read(path, &a), HL_OK);
    cr_assert(a.ndim == 0 && a.numel == 1 && hl_npy_f64_at(&a, 0) == 4.0);
    hl_npy_free(&a);
    /* A failed write (missing directory) leaves nothing behind and names the path. */
    cr_assert_lt(hl_npy_write("/nonexistent/dir/w.npy", HL_NPY_F64, 0, NULL, &sc), 0);
}

Test(npy, round_trip_every_dtype) {
    char path[512];
    snprintf(path, sizeof path, "%s/rt.npy", tmpdir());
    unsigned char data[3 * 4 * 8];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 29 + 7);
    for (int t = 0; t < HL_NPY_DTYPE_COUNT; t++) {
        if (t == HL_NPY_F32 || t == HL_NPY_F64) { /* finite values so NaN payloads do not matter */
            for (int i = 0; i < 12; i++) {
                if (t == HL_NPY_F32) ((float *)(void *)data)[i] = (float)i / 3.0f - 1.0f;
                else ((double *)(void *)data)[i] = (double)i / 3.0 - 1.0;
            }
        }
        if (t == HL_NPY_BOOL)
            for (int i = 0; i < 12; i++) data[i] = (unsigned char)(i % 2);
        int64_t shape[2] = {3, 4};
        cr_assert_eq(hl_npy_write(path, (hl_npy_dtype)t, 2, shape, data), HL_OK, "%s", hl_error_last());
        hl_npy a;
        cr_assert_eq(hl_npy_read(path, &a), HL_OK, "%s: %s", hl_npy_dtype_name((hl_npy_dtype)t), hl_error_last());
        cr_assert_eq(a.dtype, t);
        cr_assert(a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 4);
        cr_assert(memcmp(a.data, data, a.nbytes) == 0, "%s", hl_npy_dtype_name((hl_npy_dtype)t));
        hl_npy_free(&a);
    }
}

Test(npy, exact_integer_access) {
    char path[512];
    snprintf(path, sizeof path, "%s/i.npy", tmpdir());
    uint64_t u[2] = {UINT64_MAX, 9007199254740993ull};
    int64_t s = 2;
    cr_assert_eq(hl_npy_write(path, HL_NPY_U64, 1, &s, u), HL_OK);
    hl_npy a;
    cr_assert_eq(hl_npy_read(path, &a), HL_OK);
    int64_t v;
    cr_assert_not(hl_npy_i64_at(&a, 0, &v));
    cr_assert(hl_npy_i64_at(&a, 1, &v) && v == 9007199254740993ll);
    hl_npy_free(&a);
    double d[4] = {3.0, 3.5, NAN, 1e300};
    s = 4;
    cr_assert_eq(hl_npy_write(path, HL_NPY_F64, 1, &s, d), HL_OK);
    cr_assert_eq(hl_npy_read(path, &a), HL_OK);
    cr_assert(hl_npy_i64_at(&a, 0, &v) && v == 3);
    cr_assert_not(hl_npy_i64_at(&a, 1, &v));
    cr_assert_not(hl_npy_i64_at(&a, 2, &v));
    cr_assert_not(hl_npy_i64_at(&a, 3, &v));
    hl_npy_free(&a);
}
