/* tests/eval/test_codes_io.c — .npy arrays to codes and labels (METRICS.md "Codes, labels, relevance"): every
 * accepted dtype and encoding, packbits order with K not a multiple of 8, and every bad-value case. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/codes_io.h"
#include "test_common.h"

static const char *tmp_path(const char *name) {
    static char path[512];
    static const char *dir;
    if (!dir) dir = hl_test_tmpdir();
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* An in-memory array over `data` (not owned: do not free). */
static hl_npy arr(hl_npy_dtype t, int ndim, int64_t d0, int64_t d1, void *data) {
    hl_npy a;
    memset(&a, 0, sizeof a);
    a.dtype = t;
    a.ndim = ndim;
    a.shape[0] = d0;
    a.shape[1] = ndim > 1 ? d1 : 0;
    a.numel = ndim > 1 ? d0 * d1 : d0;
    a.nbytes = (size_t)a.numel * hl_npy_itemsize(t);
    a.data = data;
    return a;
}

static void assert_bits(const hl_codes *c, int64_t n, int k, const int *want) {
    cr_assert(c->n == n && c->bits == k, "codes %lld x %d, want %lld x %d", (long long)c->n, c->bits, (long long)n, k);
    for (int64_t i = 0; i < n; i++)
        for (int b = 0; b < k; b++)
            cr_assert_eq(hl_codes_bit(c, i, b), want[i * k + b], "row %lld bit %d", (long long)i, b);
}

static const int WANT[6] = {1, 0, 0, 1, 1, 0};

Test(codes_io, pm1_and_01_in_every_dtype) {
    hl_codes c;
    int8_t i8[6] = {1, -1, -1, 1, 1, -1};
    hl_npy a = arr(HL_NPY_I8, 2, 2, 3, i8);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK, "%s", hl_error_last());
    assert_bits(&c, 2, 3, WANT);
    hl_codes_free(&c);
    int16_t i16[6] = {1, 0, 0, 1, 1, 0};
    a = arr(HL_NPY_I16, 2, 2, 3, i16);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    assert_bits(&c, 2, 3, WANT);
    hl_codes_free(&c);
    int32_t i32[6] = {1, -1, -1, 1, 1, -1};
    a = arr(HL_NPY_I32, 2, 2, 3, i32);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    assert_bits(&c, 2, 3, WANT);
    hl_codes_free(&c);
    int64_t i64[6] = {1, 0, 0, 1, 1, 0};
    a = arr(HL_NPY_I64, 2, 2, 3, i64);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    assert_bits(&c, 2, 3, WANT);
    hl_codes_free(&c);
    float f32[6] = {1, -1, -1, 1, 1, -1};
    a = arr(HL_NPY_F32, 2, 2, 3, f32);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    assert_bits(&c, 2, 3, WANT);
    hl_codes_free(&c);
    double f64[6] = {1, -0.0, 0, 1, 1, 0}; /* −0.0 is 0 */
    a = arr(HL_NPY_F64, 2, 2, 3, f64);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    assert_bits(&c, 2, 3, WANT);
    hl_codes_free(&c);
    uint8_t b1[6] = {1, 0, 0, 1, 1, 0};
    a = arr(HL_NPY_BOOL, 2, 2, 3, b1);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    assert_bits(&c, 2, 3, WANT);
    hl_codes_free(&c);
    /* All ones is valid under both encodings. */
    int8_t ones[4] = {1, 1, 1, 1};
    a = arr(HL_NPY_I8, 2, 2, 2, ones);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    cr_assert(hl_codes_bit(&c, 1, 1) == 1);
    hl_codes_free(&c);
    /* More than 64 bits: a 2-word code; bit 64 and 69 set. */
    int8_t wide[70];
    for (int k = 0; k < 70; k++) wide[k] = (int8_t)(k == 64 || k == 69 || k == 3 ? 1 : -1);
    a = arr(HL_NPY_I8, 2, 1, 70, wide);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 0, "x"), HL_OK);
    cr_assert(c.words == 2 && c.w[0] == (1u << 3) && c.w[1] == ((1u << 0) | (1u << 5)));
    hl_codes_free(&c);
}

/* Expects HL_EINVAL with a message holding the name and `needle`. */
static void bad(hl_npy a, int packed, hl_status code, const char *needle) {
    hl_codes c;
    hl_status st = hl_codes_from_npy(&c, &a, packed, "Q.npy");
    cr_assert_eq(st, code, "want %s got %s: %s", hl_status_name(code), hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "Q.npy") && strstr(hl_error_last(), needle), "message lacks '%s': %s", needle,
              hl_error_last());
    cr_assert_null(c.w);
}

Test(codes_io, bad_values_name_row_and_column) {
    float h[6] = {1, -1, -1, 1, 0.5f, -1};
    bad(arr(HL_NPY_F32, 2, 2, 3, h), 0, HL_EINVAL, "row 1, column 1: value 0.5 is not a binary code value");
    int32_t two[6] = {1, 0, 0, 1, 0, 2};
    bad(arr(HL_NPY_I32, 2, 2, 3, two), 0, HL_EINVAL, "row 1, column 2: value 2 ");
    double nan[6] = {1, 0, 0, 1, NAN, 0};
    bad(arr(HL_NPY_F64, 2, 2, 3, nan), 0, HL_EINVAL, "row 1, column 1: value nan");
    double inf[6] = {1, 0, 0, INFINITY, 1, 0};
    bad(arr(HL_NPY_F64, 2, 2, 3, inf), 0, HL_EINVAL, "row 1, column 0: value inf");
    int8_t mix[6] = {1, 0, 1, 1, -1, 1}; /* 0 at (0,1), then −1 at (1,1) */
    bad(arr(HL_NPY_I8, 2, 2, 3, mix), 0, HL_EINVAL, "row 1, column 1: value -1 mixes");
    bad(arr(HL_NPY_I8, 2, 2, 3, mix), 0, HL_EINVAL, "0 at row 0, column 1");
    int8_t mix2[6] = {-1, 1, 1, 1, 1, 0};
    bad(arr(HL_NPY_I8, 2, 2, 3, mix2), 0, HL_EINVAL, "row 1, column 2: value 0 mixes");
    uint8_t packedish[4] = {1, 0, 0xB3, 0x80};
    bad(arr(HL_NPY_U8, 2, 2, 2, packedish), 0, HL_EINVAL, "--packed-bits");
    /* Shapes. */
    int8_t v[4] = {1, 1, 1, 1};
    bad(arr(HL_NPY_I8, 1, 4, 0, v), 0, HL_EMISMATCH, "2-D array");
    bad(arr(HL_NPY_I8, 2, 4, 0, v), 0, HL_EMISMATCH, "1 or more columns");
    hl_npy three = arr(HL_NPY_I8, 2, 1, 2, v);
    three.ndim = 3;
    three.shape[2] = 2;
    bad(three, 0, HL_EMISMATCH, "(1, 2, 2)");
}

Test(codes_io, packbits_msb_first_k_not_multiple_of_8) {
    /* K = 10: row 0 bits 1011001110 -> bytes 10110011 = 0xB3, 10000000 = 0x80; row 1 bits 0000000001 -> 0x00 0x40. */
    uint8_t p[4] = {0xB3, 0x80, 0x00, 0x40};
    hl_codes c;
    hl_npy a = arr(HL_NPY_U8, 2, 2, 2, p);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 10, "x"), HL_OK, "%s", hl_error_last());
    const int want[20] = {1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_bits(&c, 2, 10, want);
    hl_codes_free(&c);
    /* K = 8 exactly, K = 1. */
    uint8_t q[2] = {0x81, 0x80};
    a = arr(HL_NPY_U8, 2, 2, 1, q);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 8, "x"), HL_OK);
    cr_assert(hl_codes_bit(&c, 0, 0) && hl_codes_bit(&c, 0, 7) && !hl_codes_bit(&c, 0, 1) && hl_codes_bit(&c, 1, 0));
    hl_codes_free(&c);
    uint8_t one[2] = {0x80, 0x00};
    a = arr(HL_NPY_U8, 2, 2, 1, one);
    cr_assert_eq(hl_codes_from_npy(&c, &a, 1, "x"), HL_OK, "%s", hl_error_last());
    cr_assert(c.bits == 1 && hl_codes_bit(&c, 0, 0) == 1 && hl_codes_bit(&c, 1, 0) == 0);
    hl_codes_free(&c);
    /* Bad: padding bits set (K = 9 with bit 9 set), wrong width, wrong dtype. */
    uint8_t r[4] = {0xFF, 0xC0, 0x00, 0x00};
    bad(arr(HL_NPY_U8, 2, 2, 2, r), 9, HL_EINVAL, "row 0: padding bits after bit 8 are not zero");
    bad(arr(HL_NPY_U8, 2, 2, 2, r), 17, HL_EMISMATCH, "need 3 bytes per row, the array has 2");
    int8_t s[4] = {0};
    bad(arr(HL_NPY_I8, 2, 2, 2, s), 16, HL_EINVAL, "must be uint8");
}

Test(codes_io, write_read_round_trip) {
    hl_codes c, back;
    cr_assert_eq(hl_codes_create(&c, 5, 77), HL_OK);
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 77; k++) hl_codes_set_bit(&c, i, k, (i * 31 + k * 7) % 3 == 0);
    for (int packed = 0; packed < 2; packed++) {
        const char *p = tmp_path(packed ? "c_packed.npy" : "c.npy");
        cr_assert_eq(hl_codes_npy_write(p, &c, packed), HL_OK, "%s", hl_error_last());
        hl_npy a;
        cr_assert_eq(hl_npy_read(p, &a), HL_OK);
        cr_assert_eq(a.dtype, packed ? HL_NPY_U8 : HL_NPY_I8);
        cr_assert_eq(a.shape[1], packed ? 10 : 77);
        hl_npy_free(&a);
        cr_assert_eq(hl_codes_npy_read(p, packed ? 77 : 0, &back), HL_OK, "%s", hl_error_last());
        cr_assert(back.n == 5 && back.bits == 77 && memcmp(back.w, c.w, 5 * 2 * sizeof(uint64_t)) == 0);
        hl_codes_free(&back);
    }
    cr_assert_eq(hl_codes_npy_read("/nonexistent.npy", 0, &back), HL_ENOTFOUND);
    hl_codes_free(&c);
}

Test(codes_io, labels_class_ids_and_multi_hot) {
    hl_labels l;
    int64_t ids[4] = {2, 0, 1, 2};
    hl_npy a = arr(HL_NPY_I64, 1, 4, 0, ids);
    int w;
    cr_assert_eq(hl_labels_npy_width(&a, "L", &w), HL_OK);
    cr_assert_eq(w, 3);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 0, "L"), HL_OK, "%s", hl_error_last());
    cr_assert(l.n == 4 && l.nlabels == 3);
    for (int i = 0; i < 4; i++) cr_assert_eq(hl_labels_class(&l, i), ids[i]);
    hl_labels_free(&l);
    /* Widened to the other file's label count. */
    cr_assert_eq(hl_labels_from_npy(&l, &a, 10, "L"), HL_OK);
    cr_assert(l.nlabels == 10 && hl_labels_class(&l, 0) == 2);
    hl_labels_free(&l);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 2, "L"), HL_EMISMATCH);
    /* uint8 and integral floats are class ids too. */
    uint8_t u[3] = {0, 4, 4};
    a = arr(HL_NPY_U8, 1, 3, 0, u);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 0, "L"), HL_OK);
    cr_assert(l.nlabels == 5 && hl_labels_class(&l, 1) == 4);
    hl_labels_free(&l);
    float fi[2] = {1, 3};
    a = arr(HL_NPY_F32, 1, 2, 0, fi);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 0, "L"), HL_OK);
    cr_assert(l.nlabels == 4 && hl_labels_class(&l, 1) == 3);
    hl_labels_free(&l);
    /* Multi-hot: any dtype, nonzero = 1 (0.3 and −2 count). */
    float mh[6] = {1, 0, 0.3f, 0, 0, -2};
    a = arr(HL_NPY_F32, 2, 2, 3, mh);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 0, "L"), HL_OK);
    cr_assert(l.nlabels == 3 && hl_labels_count(&l, 0) == 2 && hl_labels_has(&l, 0, 2) && hl_labels_has(&l, 1, 2));
    hl_labels_free(&l);
    int32_t mz[4] = {0, 0, 1, 1};
    a = arr(HL_NPY_I32, 2, 2, 2, mz);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 0, "L"), HL_OK);
    cr_assert(hl_labels_count(&l, 0) == 0 && hl_labels_count(&l, 1) == 2); /* an unlabelled row is allowed */
    hl_labels_free(&l);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 3, "L"), HL_EMISMATCH);      /* 2-D width is fixed */
    cr_assert(strstr(hl_error_last(), "2 label columns, expected 3"));
    /* Empty 1-D: one label, no rows. */
    a = arr(HL_NPY_I64, 1, 0, 0, ids);
    cr_assert_eq(hl_labels_from_npy(&l, &a, 0, "L"), HL_OK);
    cr_assert(l.n == 0 && l.nlabels == 1);
    hl_labels_free(&l);
}

static void bad_labels(hl_npy a, hl_status code, const char *needle) {
    hl_labels l;
    hl_status st = hl_labels_from_npy(&l, &a, 0, "LQ.npy");
    cr_assert_eq(st, code, "want %s got %s: %s", hl_status_name(code), hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "LQ.npy") && strstr(hl_error_last(), needle), "message lacks '%s': %s", needle,
              hl_error_last());
    cr_assert_null(l.bits);
}

Test(codes_io, bad_labels) {
    int64_t neg[3] = {0, -1, 2};
    bad_labels(arr(HL_NPY_I64, 1, 3, 0, neg), HL_EINVAL, "row 1: class id -1");
    double frac[2] = {1, 2.5};
    bad_labels(arr(HL_NPY_F64, 1, 2, 0, frac), HL_EINVAL, "row 1: class id 2.5");
    float nan1[2] = {NAN, 1};
    bad_labels(arr(HL_NPY_F32, 1, 2, 0, nan1), HL_EINVAL, "row 0");
    int64_t huge[1] = {INT64_C(1) << 40};
    bad_labels(arr(HL_NPY_I64, 1, 1, 0, huge), HL_EINVAL, "row 0");
    float nan2[4] = {1, 0, 0, NAN};
    bad_labels(arr(HL_NPY_F32, 2, 2, 2, nan2), HL_EINVAL, "row 1, column 1: NaN");
    bad_labels(arr(HL_NPY_F32, 2, 2, 0, nan2), HL_EMISMATCH, "1 to");
    hl_npy three = arr(HL_NPY_F32, 2, 1, 2, nan2);
    three.ndim = 3;
    three.shape[2] = 2;
    bad_labels(three, HL_EMISMATCH, "got shape (1, 2, 2)");
    hl_npy scalar = arr(HL_NPY_F32, 0, 0, 0, nan2);
    scalar.numel = 1;
    bad_labels(scalar, HL_EMISMATCH, "got shape ()");
}

Test(codes_io, labels_write_read_round_trip) {
    hl_labels l, back;
    cr_assert_eq(hl_labels_create(&l, 4, 70), HL_OK);
    hl_labels_set(&l, 0, 69);
    hl_labels_set(&l, 0, 1);
    hl_labels_set(&l, 2, 64);
    const char *p = tmp_path("l.npy");
    cr_assert_eq(hl_labels_npy_write(p, &l), HL_OK);
    cr_assert_eq(hl_labels_npy_read(p, 0, &back), HL_OK, "%s", hl_error_last());
    cr_assert(back.n == 4 && back.nlabels == 70 && memcmp(back.bits, l.bits, 4 * 2 * sizeof(uint64_t)) == 0);
    hl_labels_free(&back);
    hl_labels_free(&l);
}
