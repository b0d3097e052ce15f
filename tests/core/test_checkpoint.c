/* tests/core/test_checkpoint.c — safetensors format (exact bytes, validation, fuzzing), atomic writes, checkpoints. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io/atomic.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "test_common.h"

/* ---- helpers --------------------------------------------------------------------------------------------------- */

/* Number of directory entries other than . and .. */
static int dir_entries(const char *dir, int *n_tmp) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    *n_tmp = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (strstr(e->d_name, ".tmp-")) (*n_tmp)++;
    }
    closedir(d);
    return n;
}

static void rm_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = hl_test_path_alloc(dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

/* A file image: 8-byte length, header JSON (as given), `data_len` bytes of data (value 0x3F800000 = 1.0f LE). */
static unsigned char *image(const char *json, size_t data_len, size_t *len) {
    size_t n = strlen(json);
    *len = 8 + n + data_len;
    unsigned char *b = calloc(*len + 1, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, n);
    for (size_t i = 0; i + 4 <= data_len; i += 4) memcpy(b + 8 + n + i, &(float){1.0f}, 4);
    return b;
}

static hl_status open_json(const char *json, size_t data_len) {
    size_t len;
    unsigned char *b = image(json, data_len, &len);
    hl_safetensors *st = NULL;
    hl_status s = hl_safetensors_open_mem(&st, b, len);
    cr_assert(s == HL_OK ? st != NULL : st == NULL);
    hl_safetensors_close(st);
    free(b);
    return s;
}

/* Writes the two-tensor + metadata example used below to a memory image. */
static unsigned char *small_image(size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    hl_st_entry e[2] = {{"b", 1, HL_SHAPE(2), (const float[]){1.0f, -2.5f}}, {"a", 0, NULL, (const float[]){3.0f}}};
    const char *k[] = {"k"}, *v[] = {"v\"q"};
    cr_assert_eq(hl_safetensors_write(f, e, 2, k, v, 1), HL_OK, "%s", hl_error_last());
    fclose(f);
    *len = n;
    return (unsigned char *)buf;
}

/* ---- safetensors ----------------------------------------------------------------------------------------------- */

Test(safetensors, writer_exact_bytes) {
    size_t len;
    unsigned char *b = small_image(&len);
    const char *want = "{\"__metadata__\":{\"k\":\"v\\\"q\"},\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    uint64_t N = 0;
    for (int i = 7; i >= 0; i--) N = N << 8 | b[i];
    size_t wl = strlen(want);
    cr_assert_eq(N % 8, 0, "header padded to a multiple of 8");
    cr_assert_eq(N, (wl + 7) / 8 * 8);
    cr_assert(memcmp(b + 8, want, wl) == 0, "header: %.*s", (int)N, b + 8);
    for (size_t i = wl; i < N; i++) cr_assert_eq(b[8 + i], ' ', "padding is spaces");
    cr_assert_eq(len, 8 + N + 12);
    /* Data: a = 3.0, b = [1.0, −2.5], little-endian IEEE-754. */
    const unsigned char d[12] = {0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0};
    cr_assert(memcmp(b + 8 + N, d, 12) == 0);
    free(b);
}

Test(safetensors, read_back) {
    size_t len;
    unsigned char *b = small_image(&len);
    hl_safetensors *st = NULL;
    cr_assert_eq(hl_safetensors_open_mem(&st, b, len), HL_OK, "%s", hl_error_last());
    cr_assert_eq(st->n, 2);
    cr_assert_str_eq(hl_safetensors_meta(st, "k"), "v\"q");
    cr_assert_null(hl_safetensors_meta(st, "x"));
    const hl_st_tensor *tb = hl_safetensors_find(st, "b"), *ta = hl_safetensors_find(st, "a");
    cr_assert(ta && tb && !hl_safetensors_find(st, "c"));
    cr_assert(tb->ndim == 1 && tb->shape[0] == 2 && tb->numel == 2 && ta->ndim == 0 && ta->numel == 1);
    float x[2];
    cr_assert_eq(hl_safetensors_read_f32(st, tb, x, 2), HL_OK);
    cr_assert(x[0] == 1.0f && x[1] == -2.5f);
    cr_assert_eq(hl_safetensors_read_f32(st, tb, x, 1), HL_EMISMATCH);
    hl_safetensors_close(st);
    free(b);
}

Test(safetensors, every_truncation_fails_cleanly) {
    size_t len;
    unsigned char *b = small_image(&len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *c = malloc(n ? n : 1); /* exact-size copy so ASan sees any over-read */
        memcpy(c, b, n);
        hl_safetensors *st = NULL;
        hl_status s = hl_safetensors_open_mem(&st, c, n);
        cr_assert_eq(s, HL_EFORMAT, "truncated to %zu of %zu bytes: status %d", n, len, s);
        cr_assert_null(st);
        free(c);
    }
    free(b);
}

/* Random 1-4 byte corruptions anywhere in the image: any status, never a crash; accepted files read cleanly. */
Test(safetensors, random_byte_flips_never_crash) {
    size_t len;
    unsigned char *b = small_image(&len);
    hl_rng r = hl_rng_make(2024, 9);
    int accepted = 0;
    for (int it = 0; it < 4000; it++) {
        unsigned char *c = malloc(len);
        memcpy(c, b, len);
        int k = 1 + (int)hl_rng_below(&r, 4);
        for (int j = 0; j < k; j++) {
            size_t pos = (size_t)hl_rng_below(&r, it % 2 ? 40 + 8 : len); /* half the flips hit the header start */
            c[pos] = (unsigned char)(it % 3 == 0 ? hl_rng_u32(&r) : c[pos] ^ (1u << hl_rng_below(&r, 8)));
        }
        hl_safetensors *st = NULL;
        hl_status s = hl_safetensors_open_mem(&st, c, len);
        if (s == HL_OK) {
            accepted++;
            for (int i = 0; i < st->n; i++) {
                float x[64];
                if (st->t[i].numel <= 64) (void)hl_safetensors_read_f32(st, &st->t[i], x, st->t[i].numel);
            }
            hl_safetensors_close(st);
        } else {
            cr_assert(s == HL_EFORMAT || s == HL_EUNSUPPORTED, "status %d: %s", s, hl_error_last());
            cr_assert(hl_error_last()[0], "a failure sets a message");
        }
        free(c);
    }
    cr_assert(accepted > 0 && accepted < 4000, "accepted %d", accepted); /* flips in the data keep the file valid */
    free(b);
}

Test(safetensors, header_validation) {
    const char *one = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    cr_assert_eq(open_json(one, 8), HL_OK, "%s", hl_error_last());
    cr_assert_eq(open_json("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   \n ", 8), HL_OK);
    cr_assert_eq(open_json("{}", 0), HL_OK);
    cr_assert_eq(open_json("{\"__metadata__\":null}", 0), HL_OK);
    cr_assert_eq(open_json(one, 12), HL_EFORMAT, "data section larger than the tensors");
    cr_assert(strstr(hl_error_last(), "cover 8 bytes but the data section has 12"), "%s", hl_error_last());
    struct {
        const char *json;
        size_t data;
        hl_status want;
        const char *why;
    } cases[] = {
        {"", 0, HL_EFORMAT, "empty header"},
        {"[1,2]", 0, HL_EFORMAT, "not an object"},
        {"{\"a\":1}", 0, HL_EFORMAT, "tensor entry not an object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, HL_EFORMAT, "unterminated object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}x", 8, HL_EFORMAT, "trailing garbage"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, HL_EFORMAT, "size disagrees with shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, HL_EFORMAT, "begin > end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, HL_EFORMAT, "gap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, HL_EFORMAT, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, HL_EFORMAT, "duplicate name"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, HL_EFORMAT, "negative dim"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, HL_EFORMAT, "fractional dim"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8e0]}}", 8, HL_EFORMAT, "exponent offset"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
         HL_EFORMAT, "element count overflow"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551616]}}", 8, HL_EFORMAT,
         "offset beyond u64"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, HL_EFORMAT, "one offset"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, HL_EFORMAT, "no shape"},
        {"{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, HL_EFORMAT, "numeric dtype"},
        {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, HL_EUNSUPPORTED, "unknown dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, HL_EUNSUPPORTED,
         "9 dims"},
        {"{\"__metadata__\":{\"k\":1}}", 0, HL_EFORMAT, "non-string metadata"},
        {"{\"__metadata__\":[\"k\"]}", 0, HL_EFORMAT, "metadata array"},
        {"{\"a\\x\":1}", 0, HL_EFORMAT, "bad escape"},
        {"{\"a\\ud800\":1}", 0, HL_EFORMAT, "lone high surrogate"},
        {"{\"a\\udc00\":1}", 0, HL_EFORMAT, "lone low surrogate"},
        {"{\"a\\ud800\\u0041\":1}", 0, HL_EFORMAT, "high surrogate + non-surrogate"},
        {"{\"__metadata__\":{\"k\\/\\b\\f\\r\\t\\\\\":\"v\"}}", 0, HL_OK, "all simple escapes"},
        {"{\"a\\u0000\":1}", 0, HL_EFORMAT, "NUL in a name"},
        {"{\"a\\u12\":1}", 0, HL_EFORMAT, "short \\u escape"},
        {"{\"a\tb\":1}", 0, HL_EFORMAT, "raw control character"},
        {"{\"a\xff\":1}", 0, HL_EFORMAT, "invalid UTF-8"},
        {"{\"a\xc0\xaf\":1}", 0, HL_EFORMAT, "overlong UTF-8"},
        {"{\"__metadata__\":{\"k\":\"v\"},}", 0, HL_EFORMAT, "trailing comma"},
        {"{\"__metadata__\":{\"k\":\"v\" \"j\":\"w\"}}", 0, HL_EFORMAT, "missing comma"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, HL_EFORMAT, "leading zero"},
        {"{\"a\":tru}", 0, HL_EFORMAT, "bad literal"},
        {" {}", 0, HL_EFORMAT, "header must start with '{'"},
    };
    for (size_t i = 0; i < HL_ARRAY_LEN(cases); i++) {
        hl_status s = open_json(cases[i].json, cases[i].data);
        cr_assert_eq(s, cases[i].want, "%s: status %d (%s)", cases[i].why, s, hl_error_last());
    }
    /* Deep nesting inside a tensor entry's unknown key: rejected at the depth limit, no stack overflow. */
    char deep[4096];
    size_t k = (size_t)snprintf(deep, sizeof deep, "{\"a\":{\"x\":");
    for (int i = 0; i < 1000; i++) deep[k++] = '[';
    deep[k] = 0;
    cr_assert_eq(open_json(deep, 0), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "nesting"), "%s", hl_error_last());
}

Test(safetensors, escapes_and_non_f32) {
    /* Name "é😀\n" via escapes; an F16 tensor opens but reading it as F32 is unsupported. */
    const char *json = "{\"\\u00e9\\ud83d\\ude00\\n\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                       "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8],\"extra\":{\"k\":[1,true,null]}}}";
    size_t len;
    unsigned char *b = image(json, 8, &len);
    hl_safetensors *st = NULL;
    cr_assert_eq(hl_safetensors_open_mem(&st, b, len), HL_OK, "%s", hl_error_last());
    const hl_st_tensor *t = hl_safetensors_find(st, "\xc3\xa9\xf0\x9f\x98\x80\n");
    cr_assert_not_null(t);
    cr_assert_str_eq(t->dtype, "F16");
    float x[2];
    cr_assert_eq(hl_safetensors_read_f32(st, t, x, 2), HL_EUNSUPPORTED);
    cr_assert(strstr(hl_error_last(), "F16"), "%s", hl_error_last());
    cr_assert_eq(hl_safetensors_read_f32(st, hl_safetensors_find(st, "x"), x, 1), HL_OK);
    cr_assert_eq(x[0], 1.0f);
    hl_safetensors_close(st);
    free(b);
}

Test(safetensors, huge_header_length_is_rejected) {
    unsigned char b[16] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'};
    hl_safetensors *st = NULL;
    cr_assert_eq(hl_safetensors_open_mem(&st, b, sizeof b), HL_EFORMAT);
    b[7] = 0;
    b[0] = 9; /* 9 > 8 bytes available */
    cr_assert_eq(hl_safetensors_open_mem(&st, b, sizeof b), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "exceeds the file size"), "%s", hl_error_last());
}

Test(safetensors, writer_rejects_bad_names) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    const float v = 1.0f;
    hl_st_entry dup[2] = {{"w", 0, NULL, &v}, {"w", 0, NULL, &v}};
    cr_assert_eq(hl_safetensors_write(f, dup, 2, NULL, NULL, 0), HL_EINVAL);
    hl_st_entry empty[1] = {{"", 0, NULL, &v}};
    cr_assert_eq(hl_safetensors_write(f, empty, 1, NULL, NULL, 0), HL_EINVAL);
    hl_st_entry meta[1] = {{"__metadata__", 0, NULL, &v}};
    cr_assert_eq(hl_safetensors_write(f, meta, 1, NULL, NULL, 0), HL_EINVAL);
    fclose(f);
    cr_assert_eq(n, 0, "nothing written on invalid input");
    free(buf);
}

/* ---- atomic writes --------------------------------------------------------------------------------------------- */

Test(atomic, commit_replaces_and_leaves_no_temp) {
    const char *dir = hl_test_tmpdir();
    char *p = hl_test_path_alloc(dir, "out.json");
    cr_assert_eq(hl_atomic_write_file(p, "old", 3), HL_OK);
    hl_atomic_file af;
    cr_assert_eq(hl_atomic_write_begin(&af, p), HL_OK);
    fputs("new cont", af.f);
    fflush(af.f);
    int n_tmp;
    cr_assert_eq(dir_entries(dir, &n_tmp), 2);
    cr_assert_eq(n_tmp, 1, "temp file next to the target while writing");
    size_t len;
    unsigned char *c = hl_test_read_file(p, &len);
    cr_assert(len == 3 && memcmp(c, "old", 3) == 0, "target untouched before commit (never a half file)");
    free(c);
    fputs("ent", af.f);
    cr_assert_eq(hl_atomic_write_commit(&af), HL_OK, "%s", hl_error_last());
    cr_assert_null(af.tmp);
    c = hl_test_read_file(p, &len);
    cr_assert(len == 11 && memcmp(c, "new content", 11) == 0);
    free(c);
    cr_assert_eq(dir_entries(dir, &n_tmp), 1);
    cr_assert_eq(n_tmp, 0);
    free(p);
    rm_dir(dir);
}

Test(atomic, abort_keeps_old_file_and_removes_temp) {
    const char *dir = hl_test_tmpdir();
    char *p = hl_test_path_alloc(dir, "ckpt.safetensors"), *q = hl_test_path_alloc(dir, "never.bin");
    cr_assert_eq(hl_atomic_write_file(p, "old", 3), HL_OK);
    hl_atomic_file af;
    cr_assert_eq(hl_atomic_write_begin(&af, p), HL_OK);
    fputs("half of a new fi", af.f);
    hl_atomic_write_abort(&af);
    hl_atomic_write_abort(&af); /* idempotent */
    size_t len;
    unsigned char *c = hl_test_read_file(p, &len);
    cr_assert(len == 3 && memcmp(c, "old", 3) == 0);
    free(c);
    cr_assert_eq(hl_atomic_write_begin(&af, q), HL_OK);
    fputs("partial", af.f);
    hl_atomic_write_abort(&af);
    cr_assert_neq(access(q, F_OK), 0, "aborted new file never appears");
    int n_tmp;
    cr_assert_eq(dir_entries(dir, &n_tmp), 1);
    cr_assert_eq(n_tmp, 0);
    free(p);
    free(q);
    rm_dir(dir);
}

Test(atomic, missing_directory_is_an_io_error) {
    hl_atomic_file af;
    cr_assert_eq(hl_atomic_write_begin(&af, "/nonexistent-hashlab-dir/x.bin"), HL_EIO);
    cr_assert(strstr(hl_error_last(), "/nonexistent-hashlab-dir/x.bin"), "%s", hl_error_last());
    cr_assert_eq(hl_atomic_write_file("/nonexistent-hashlab-dir/y.bin", "a", 1), HL_EIO);
}

/* ---- checkpoints ----------------------------------------------------------------------------------------------- */

typedef struct model {
    hl_params p;
    hl_tensor *w, *b, *s, *rm, *rv;
} model;

/* conv-like weight [4,3,2,2], bias [4], scalar, batch-norm buffers [4]. wide: a different weight shape. */
static void model_make(model *m, bool wide, bool with_bias) {
    hl_params_init(&m->p);
    m->w = hl_params_add(&m->p, "features.0.weight", 4, wide ? HL_SHAPE(4, 3, 3, 3) : HL_SHAPE(4, 3, 2, 2));
    m->b = with_bias ? hl_params_add(&m->p, "features.0.bias", 1, HL_SHAPE(4)) : NULL;
    m->s = hl_params_add(&m->p, "scale", 0, NULL);
    m->rm = hl_params_add_buffer(&m->p, "bn.running_mean", 1, HL_SHAPE(4), 0.0f);
    m->rv = hl_params_add_buffer(&m->p, "bn.running_var", 1, HL_SHAPE(4), 1.0f);
    cr_assert_eq(hl_params_alloc(&m->p), HL_OK);
}

static void model_fill(model *m, uint64_t seed) {
    hl_rng r = hl_rng_make(seed, 1);
    hl_rng_normal(&r, m->p.data, m->p.slab_len, 0.0f, 1.0f);
    hl_rng_uniform(&r, m->p.bufdata, m->p.buf_len, 0.0f, 2.0f);
    /* Awkward values must survive bit-exactly. */
    m->w->data[0] = -0.0f;
    m->w->data[1] = 1e-42f; /* denormal */
    m->w->data[2] = -3.4028235e38f;
    m->w->data[3] = 3.4028235e38f;
}

/* Bit-exact equality of every parameter and buffer (slab padding is not part of the model). */
static bool same_values(const model *a, const model *b) {
    for (int i = 0; i < a->p.n_par; i++)
        if (memcmp(a->p.par[i].t->data, b->p.par[i].t->data, (size_t)hl_tensor_numel(a->p.par[i].t) * 4) != 0) return false;
    for (int i = 0; i < a->p.n_buf; i++)
        if (memcmp(a->p.buf[i].t->data, b->p.buf[i].t->data, (size_t)hl_tensor_numel(a->p.buf[i].t) * 4) != 0) return false;
    return true;
}

Test(checkpoint, round_trip_is_bit_exact_with_metadata) {
    const char *dir = hl_test_tmpdir();
    char *path = hl_test_path_alloc(dir, "m.safetensors");
    model a, b;
    model_make(&a, false, true);
    model_make(&b, false, true);
    model_fill(&a, 1);
    model_fill(&b, 2);
    cr_assert(!same_values(&a, &b));
    hl_ckpt_meta meta;
    hl_ckpt_meta_init(&meta);
    cr_assert_eq(hl_ckpt_meta_set(&meta, HL_CKPT_KEY_METHOD, "adsh"), HL_OK);
    cr_assert_eq(hl_ckpt_meta_set_int(&meta, HL_CKPT_KEY_BITS, 48), HL_OK);
    cr_assert_eq(hl_ckpt_meta_set(&meta, HL_CKPT_KEY_CONFIG_HASH, "9f86d081884c7d65"), HL_OK);
    cr_assert_eq(hl_ckpt_meta_set(&meta, "note", "quote \" backslash \\ newline \n tab \t é"), HL_OK);
    cr_assert_eq(hl_ckpt_meta_set(&meta, "format", "caller cannot override"), HL_OK);
    cr_assert_eq(hl_ckpt_meta_set(&meta, HL_CKPT_KEY_BITS, "64"), HL_OK); /* replace */
    cr_assert_eq(meta.n, 5);
    cr_assert_eq(hl_checkpoint_save(path, &a.p, &meta), HL_OK, "%s", hl_error_last());
    hl_ckpt_meta got = {0};
    cr_assert_eq(hl_checkpoint_load(path, &b.p, &got), HL_OK, "%s", hl_error_last());
    cr_assert(same_values(&a, &b), "parameters and buffers restored bit-exactly");
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "method"), "adsh");
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "bits"), "64");
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "config_hash"), "9f86d081884c7d65");
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "note"), "quote \" backslash \\ newline \n tab \t é");
    cr_assert_str_eq(hl_ckpt_meta_get(&got, HL_CKPT_KEY_FORMAT), HL_CKPT_FORMAT);
    cr_assert_not_null(hl_ckpt_meta_get(&got, HL_CKPT_KEY_VERSION));
    hl_ckpt_meta only = {0};
    cr_assert_eq(hl_checkpoint_read_meta(path, &only), HL_OK);
    cr_assert_eq(only.n, got.n);
    int n_tmp;
    cr_assert_eq(dir_entries(dir, &n_tmp), 1, "no temp file left");
    /* Saving again over an existing file works (atomic replace). */
    cr_assert_eq(hl_checkpoint_save(path, &b.p, NULL), HL_OK);
    hl_ckpt_meta_free(&meta);
    hl_ckpt_meta_free(&got);
    hl_ckpt_meta_free(&only);
    hl_params_free(&a.p);
    hl_params_free(&b.p);
    free(path);
    rm_dir(dir);
}

Test(checkpoint, truncated_file_at_every_length_fails_and_leaves_model_untouched) {
    const char *dir = hl_test_tmpdir();
    char *path = hl_test_path_alloc(dir, "m.safetensors"), *cut = hl_test_path_alloc(dir, "cut.safetensors");
    model a, b, ref;
    model_make(&a, false, true);
    model_make(&b, false, true);
    model_make(&ref, false, true);
    model_fill(&a, 1);
    model_fill(&b, 2);
    model_fill(&ref, 2);
    cr_assert_eq(hl_checkpoint_save(path, &a.p, NULL), HL_OK);
    size_t len;
    unsigned char *img = hl_test_read_file(path, &len);
    for (size_t n = 0; n < len; n++) {
        hl_test_write_file(cut, img, n);
        hl_ckpt_meta m = {0};
        hl_status s = hl_checkpoint_load(cut, &b.p, &m);
        cr_assert_eq(s, HL_EFORMAT, "truncated to %zu of %zu: status %d (%s)", n, len, s, hl_error_last());
        cr_assert(same_values(&b, &ref), "model changed by a failed load at length %zu", n);
        cr_assert_eq(m.n, 0);
    }
    hl_test_write_file(cut, img, len);
    cr_assert_eq(hl_checkpoint_load(cut, &b.p, NULL), HL_OK);
    cr_assert(same_values(&a, &b));
    free(img);
    hl_params_free(&a.p);
    hl_params_free(&b.p);
    hl_params_free(&ref.p);
    free(path);
    free(cut);
    rm_dir(dir);
}

Test(checkpoint, corrupt_header_json) {
    const char *dir = hl_test_tmpdir();
    char *path = hl_test_path_alloc(dir, "m.safetensors");
    model a;
    model_make(&a, false, true);
    model_fill(&a, 1);
    cr_assert_eq(hl_checkpoint_save(path, &a.p, NULL), HL_OK);
    size_t len;
    unsigned char *img = hl_test_read_file(path, &len);
    unsigned char *colon = memchr(img + 8, ':', len - 8);
    *colon = ';';
    hl_test_write_file(path, img, len);
    cr_assert_eq(hl_checkpoint_load(path, &a.p, NULL), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "header JSON") && strstr(hl_error_last(), path), "%s", hl_error_last());
    free(img);
    hl_params_free(&a.p);
    free(path);
    rm_dir(dir);
}

Test(checkpoint, wrong_shape_missing_and_unexpected_names) {
    const char *dir = hl_test_tmpdir();
    char *path = hl_test_path_alloc(dir, "m.safetensors");
    model a, wide, nobias;
    model_make(&a, false, true);
    model_make(&wide, true, true);
    model_make(&nobias, false, false);
    model_fill(&a, 1);
    cr_assert_eq(hl_checkpoint_save(path, &a.p, NULL), HL_OK);

    cr_assert_eq(hl_checkpoint_load(path, &wide.p, NULL), HL_EMISMATCH);
    const char *e = hl_error_last();
    cr_assert(strstr(e, "'features.0.weight': checkpoint [4, 3, 2, 2], model [4, 3, 3, 3]"), "%s", e);

    /* The file has a bias the model lacks. */
    cr_assert_eq(hl_checkpoint_load(path, &nobias.p, NULL), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "unexpected") && strstr(hl_error_last(), "'features.0.bias'"), "%s",
              hl_error_last());
    cr_assert_eq(hl_checkpoint_load_ex(path, &nobias.p, NULL, HL_CKPT_ALLOW_UNEXPECTED), HL_OK);
    cr_assert(memcmp(nobias.w->data, a.w->data, 48 * 4) == 0);

    /* The model has a bias the file lacks. */
    char *p2 = hl_test_path_alloc(dir, "nobias.safetensors");
    cr_assert_eq(hl_checkpoint_save(p2, &nobias.p, NULL), HL_OK);
    cr_assert_eq(hl_checkpoint_load(p2, &a.p, NULL), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "missing") && strstr(hl_error_last(), "'features.0.bias'"), "%s",
              hl_error_last());
    float bias0 = a.b->data[0];
    cr_assert_eq(hl_checkpoint_load_ex(p2, &a.p, NULL, HL_CKPT_ALLOW_MISSING), HL_OK);
    cr_assert_eq(a.b->data[0], bias0, "missing tensor keeps its value");

    char *p3 = hl_test_path_alloc(dir, "absent.safetensors");
    cr_assert_eq(hl_checkpoint_load(p3, &a.p, NULL), HL_ENOTFOUND);
    hl_params_free(&a.p);
    hl_params_free(&wide.p);
    hl_params_free(&nobias.p);
    free(path);
    free(p2);
    free(p3);
    rm_dir(dir);
}

Test(checkpoint, wrong_dtype_is_unsupported) {
    const char *dir = hl_test_tmpdir();
    char *path = hl_test_path_alloc(dir, "f16.safetensors");
    hl_params p;
    hl_params_init(&p);
    hl_tensor *w = hl_params_add(&p, "w", 1, HL_SHAPE(2));
    cr_assert_eq(hl_params_alloc(&p), HL_OK);
    size_t len;
    unsigned char *img = image("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, &len);
    hl_test_write_file(path, img, len);
    cr_assert_eq(hl_checkpoint_load(path, &p, NULL), HL_EUNSUPPORTED);
    cr_assert(strstr(hl_error_last(), "'w' is F16"), "%s", hl_error_last());
    cr_assert_eq(w->data[0], 0.0f);
    free(img);
    hl_params_free(&p);
    free(path);
    rm_dir(dir);
}

/* A checkpoint holding a NaN or an infinity (a diverged model, a damaged file) is refused, naming the file, the tensor
 * and the element, and the model keeps its values. */
Test(checkpoint, non_finite_values_are_refused) {
    const char *dir = hl_test_tmpdir();
    char *path = hl_test_path_alloc(dir, "nan.safetensors");
    static const float bad[2] = {NAN, -INFINITY};
    static const char *const word[2] = {"NaN", "Inf"};
    for (int k = 0; k < 2; k++) {
        model a, b, b0;
        model_make(&a, false, true);
        model_make(&b, false, true);
        model_make(&b0, false, true);
        model_fill(&a, 1);
        model_fill(&b, 2);
        model_fill(&b0, 2);
        a.rv->data[3] = bad[k]; /* in a buffer: buffers are checked too */
        cr_assert_eq(hl_checkpoint_save(path, &a.p, NULL), HL_OK, "%s", hl_error_last());
        cr_assert_eq(hl_checkpoint_load(path, &b.p, NULL), HL_ENUMERIC);
        cr_assert(strstr(hl_error_last(), path) && strstr(hl_error_last(), "'bn.running_var'") &&
                      strstr(hl_error_last(), word[k]) && strstr(hl_error_last(), "element 3"),
                  "%s", hl_error_last());
        cr_assert(same_values(&b, &b0), "a refused load changes nothing");
        hl_params_free(&a.p);
        hl_params_free(&b.p);
        hl_params_free(&b0.p);
    }
    free(path);
    rm_dir(dir);
}
