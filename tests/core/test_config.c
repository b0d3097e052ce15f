/* tests/core/test_config.c — config tree, typed getters, fractions, schemas (validate/resolve/format), canonical
 * JSON.
 * Trees are built with the construction API (the YAML front-end is tested in tests/lab/test_yaml.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_schema.h"
#include "test_common.h"

static hl_config *scalar(const char *t, int line, int col) {
    hl_config *n = hl_config_new(HL_CONFIG_SCALAR, t, "t.yaml", line, col);
    cr_assert(n);
    return n;
}

/* Map at (line, 1) whose i-th entry "k_i: v_i" has its key at (line+i, 1) and value at (line+i, 10). */
static hl_config *map_of(int line, int n, const char *const *kv) {
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "t.yaml", line, 1);
    for (int i = 0; i < n; i++)
        cr_assert_eq(hl_config_map_put(m, kv[2 * i], line + i, 1, scalar(kv[2 * i + 1], line + i, 10)), HL_OK);
    return m;
}

Test(config, build_lookup_names_and_positions) {
    hl_config *root = hl_config_new(HL_CONFIG_MAP, NULL, "t.yaml", 1, 1);
    hl_config *seq = hl_config_new(HL_CONFIG_SEQ, NULL, "t.yaml", 2, 10);
    static const char *const kv[] = {"lr", "abc"};
    cr_assert_eq(hl_config_seq_push(seq, map_of(3, 1, kv)), HL_OK);
    cr_assert_eq(hl_config_map_put(root, "hashers", 2, 1, seq), HL_OK);
    const hl_config *lr = hl_config_path(root, "hashers.0.lr");
    cr_assert(lr && lr->line == 3 && lr->col == 10);
    char buf[128];
    cr_assert_str_eq(hl_config_name(lr, buf, sizeof buf), "hashers[0].lr");
    cr_assert_str_eq(hl_config_where(lr, buf, sizeof buf), "t.yaml:3:10");
    cr_assert_null(hl_config_path(root, "hashers.1.lr"));
    cr_assert_null(hl_config_path(root, "hashers.x"));
    cr_assert_null(hl_config_path(root, "nope"));
    cr_assert_eq(hl_config_len(root), 1);
    cr_assert_eq(hl_config_len(lr), 0);
    int64_t v;
    cr_assert_eq(hl_config_get_int(root, "hashers.0.lr", &v), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:3:10: hashers[0].lr: expected an integer, got 'abc'");
    /* duplicate key: both positions */
    cr_assert_eq(hl_config_map_put(root, "hashers", 9, 3, scalar("x", 9, 12)), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:9:3: duplicate key 'hashers' (first defined at 2:1)");
    /* clone is deep and equal */
    hl_config *c = hl_config_clone(root);
    char *ja = NULL, *jb = NULL;
    cr_assert_eq(hl_config_canonical_json(root, &ja), HL_OK);
    cr_assert_eq(hl_config_canonical_json(c, &jb), HL_OK);
    cr_assert_str_eq(ja, "{\"hashers\":[{\"lr\":\"abc\"}]}");
    cr_assert_str_eq(ja, jb);
    cr_assert(hl_config_map_remove(c, "hashers"));
    cr_assert(!hl_config_map_remove(c, "hashers"));
    cr_assert_eq(hl_config_len(c), 0);
    free(ja);
    free(jb);
    hl_config_free(c);
    hl_config_free(root);
    hl_config_free(NULL);
}

Test(config, typed_getters_and_messages) {
    static const char *const kv[] = {"n", "42",    "neg", "-7",   "big", "99999999999999999999", "f",    "2.5e-3",
                                     "b", "yes",   "s",   "hi",   "e",   "1e",                   "frac", "8/255",
                                     "l", "[1,2]", "huge", "1e300", "nan", ".nan"};
    hl_config *m = map_of(1, 11, kv);
    int64_t i;
    double d;
    float f;
    bool b;
    const char *s;
    cr_assert_eq(hl_config_get_int(m, "n", &i), HL_OK);
    cr_assert_eq(i, 42);
    cr_assert_eq(hl_config_get_int(m, "neg", &i), HL_OK);
    cr_assert_eq(i, -7);
    cr_assert_eq(hl_config_get_int(m, "big", &i), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(),
                     "t.yaml:3:10: big: expected an integer, got '99999999999999999999' (out of the 64-bit range)");
    cr_assert_eq(hl_config_get_int(m, "f", &i), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:4:10: f: expected an integer, got '2.5e-3'");
    cr_assert_eq(hl_config_get_double(m, "f", &d), HL_OK);
    cr_assert(d == 2.5e-3);
    cr_assert_eq(hl_config_get_float(m, "f", &f), HL_OK);
    cr_assert(f == 2.5e-3f);
    cr_assert_eq(hl_config_get_float(m, "huge", &f), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:10:10: huge: expected a number, got '1e300' (too large for a float)");
    cr_assert_eq(hl_config_get_double(m, "nan", &d), HL_EINVAL);
    cr_assert_eq(hl_config_get_double(m, "e", &d), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:7:10: e: expected a number, got '1e'");
    cr_assert_eq(hl_config_get_double(m, "frac", &d), HL_OK);
    cr_assert(d == 8.0 / 255.0);
    cr_assert_eq(hl_config_get_bool(m, "b", &b), HL_OK);
    cr_assert(b);
    cr_assert_eq(hl_config_get_bool(m, "s", &b), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:6:10: s: expected true or false, got 'hi'");
    cr_assert_eq(hl_config_get_string(m, "s", &s), HL_OK);
    cr_assert_str_eq(s, "hi");
    cr_assert_eq(hl_config_get_string(m, "zzz", &s), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "t.yaml:1:1: missing key 'zzz'");
    cr_assert_eq(hl_config_get_int_range(m, "n", 0, 42, &i), HL_OK);
    cr_assert_eq(hl_config_get_int_range(m, "n", 1, 10, &i), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:1:10: n: 42 is out of range [1, 10]");
    cr_assert_eq(hl_config_get_double_range(m, "f", 0.1, 1, &d), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:4:10: f: 2.5e-3 is out of range [0.1, 1]");
    cr_assert_eq(hl_config_get_double_range(m, "f", 0, 1, &d), HL_OK);
    /* a scalar is a one-element list */
    int64_t *il = NULL, n = -1;
    cr_assert_eq(hl_config_get_int_list(m, "n", &il, &n), HL_OK);
    cr_assert(n == 1 && il[0] == 42);
    free(il);
    cr_assert_eq(hl_config_get_int_list(m, "s", &il, &n), HL_EINVAL);
    cr_assert(il == NULL && n == 0);
    hl_config_free(m);

    hl_config *root = hl_config_new(HL_CONFIG_MAP, NULL, "u.yaml", 1, 1);
    hl_config *seq = hl_config_new(HL_CONFIG_SEQ, NULL, "u.yaml", 1, 7);
    const char *items[] = {"0.5", "1/4", "3"};
    for (int k = 0; k < 3; k++) cr_assert_eq(hl_config_seq_push(seq, scalar(items[k], 1, 8 + 5 * k)), HL_OK);
    cr_assert_eq(hl_config_map_put(root, "xs", 1, 1, seq), HL_OK);
    double *dl = NULL;
    cr_assert_eq(hl_config_get_double_list(root, "xs", &dl, &n), HL_OK);
    cr_assert(n == 3 && dl[0] == 0.5 && dl[1] == 0.25 && dl[2] == 3.0);
    free(dl);
    char **sl = NULL;
    cr_assert_eq(hl_config_get_string_list(root, "xs", &sl, &n), HL_OK);
    cr_assert(n == 3 && !strcmp(sl[1], "1/4"));
    hl_config_strings_free(sl, n);
    cr_assert_eq(hl_config_get_int_list(root, "xs", &il, &n), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:1:8: xs[0]: expected an integer, got '0.5'");
    hl_config_free(root);
}

static void frac_ok(const char *s, int64_t num, int64_t den, double value, const char *fmt) {
    hl_fraction f;
    const char *why = NULL;
    char buf[64];
    cr_assert_eq(hl_config_parse_fraction(s, &f, &why), HL_OK, "'%s': %s", s, why);
    cr_assert(f.num == num && f.den == den, "'%s': %lld/%lld", s, (long long)f.num, (long long)f.den);
    cr_assert(f.value == value, "'%s': %.17g != %.17g", s, f.value, value);
    cr_assert_str_eq(hl_fraction_format(&f, buf, sizeof buf), fmt);
}

static void frac_bad(const char *s, const char *why_want) {
    hl_fraction f;
    const char *why = NULL;
    cr_assert_eq(hl_config_parse_fraction(s, &f, &why), HL_EINVAL, "'%s' accepted", s);
    cr_assert_str_eq(why, why_want, "'%s'", s);
}

Test(config, fractions_exact) {
    frac_ok("8/255", 8, 255, 8.0 / 255.0, "8/255");
    frac_ok("1/2", 1, 2, 0.5, "1/2");
    frac_ok("-3/4", -3, 4, -0.75, "-3/4");
    frac_ok("16/510", 8, 255, 8.0 / 255.0, "8/255");
    frac_ok("8 / 255", 8, 255, 8.0 / 255.0, "8/255");
    frac_ok("+6/3", 2, 1, 2.0, "2");
    frac_ok("0/5", 0, 1, 0.0, "0");
    frac_ok("3", 3, 1, 3.0, "3");
    frac_ok("0.5", 1, 2, 0.5, "1/2");
    frac_ok("-1.25e-2", -1, 80, -1.25e-2, "-1/80");
    frac_ok("2.5e2", 250, 1, 250.0, "250");
    frac_ok("0.0313725490196078431372549", 0, 0, 0.0313725490196078431372549, "0.03137254901960784");
    frac_ok("0e99999999999999999999", 0, 0, 0.0, "0");
    frac_bad("1/0", "denominator is zero");
    frac_bad("8/", "not a number or a fraction like 8/255");
    frac_bad("/3", "not a number or a fraction like 8/255");
    frac_bad("1/-2", "not a number or a fraction like 8/255");
    frac_bad("1.5/2", "not a number or a fraction like 8/255");
    frac_bad("1/2/3", "not a number or a fraction like 8/255");
    frac_bad("abc", "not a number or a fraction like 8/255");
    frac_bad("", "not a number or a fraction like 8/255");
    frac_bad("9007199254740993/2", "too large for exact arithmetic");

    hl_config *n = scalar("1/0", 4, 6);
    hl_fraction f;
    cr_assert_eq(hl_config_as_fraction(n, &f), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:4:6: expected a number or a fraction like 8/255, got '1/0' "
                                      "(denominator is zero)");
    hl_config_free(n);
    char buf[40];
    cr_assert_str_eq(hl_config_format_double(0.1, buf, sizeof buf), "0.1");
    cr_assert_str_eq(hl_config_format_double(1e-3, buf, sizeof buf), "0.001");
    cr_assert_str_eq(hl_config_format_double(1.0 / 3.0, buf, sizeof buf), "0.3333333333333333");
    cr_assert_str_eq(hl_config_format_double(0.1 + 0.2, buf, sizeof buf), "0.30000000000000004");
}

/* ε in labels and reports: a fraction as written (not reduced), a decimal as its shortest round-trip decimal. */
Test(config, fractions_as_written) {
    static const char *const cases[][2] = {
        {"8/255", "8/255"},   {"48/255", "48/255"}, {"16/510", "16/510"}, {"8 / 255", "8/255"}, {"+6/3", "6/3"},
        {"-3/4", "-3/4"},     {"0/5", "0/5"},       {"0.031", "0.031"},   {"0.0313725", "0.0313725"},
        {"0.5", "0.5"},       {"0.50", "0.5"},      {"1e-3", "0.001"},    {"-1.25e-2", "-0.0125"},
        {"2.5e2", "250"},     {"8", "8"},           {"0", "0"},           {"1e-05", "1e-05"},
        {"0.0313725490196078431372549", "0.03137254901960784"},
    };
    char buf[64];
    for (size_t i = 0; i < HL_ARRAY_LEN(cases); i++) {
        cr_assert_not_null(hl_fraction_format_written(cases[i][0], buf, sizeof buf), "'%s'", cases[i][0]);
        cr_assert_str_eq(buf, cases[i][1], "'%s'", cases[i][0]);
    }
    cr_assert_null(hl_fraction_format_written("1/0", buf, sizeof buf));
    cr_assert_str_eq(buf, "");
    cr_assert_null(hl_fraction_format_written("abc", buf, sizeof buf));
    cr_assert_null(hl_fraction_format_written(NULL, buf, sizeof buf));
}

/* ---- schemas ---- */

static const hl_param_spec adsh[] = {
    {.name = "lr", .type = HL_PARAM_FLOAT, .def = "1e-3", .range = "(0, 1]", .doc = "learning rate"},
    {.name = "epochs", .type = HL_PARAM_INT, .def = "3", .range = "[1, 1000]", .doc = "outer iterations"},
    {.name = "norm", .type = HL_PARAM_ENUM, .def = "linf", .choices = "linf|l2", .doc = "threat-model norm"},
    {.name = "eps", .type = HL_PARAM_FRACTION, .def = "8/255", .range = "[0, 1]", .doc = "budget on [0,1] pixels"},
    {.name = "bits", .type = HL_PARAM_INT_LIST, .def = "[16, 32, 64]", .range = "[8, 128]", .doc = "code lengths"},
    {.name = "method", .type = HL_PARAM_STRING, .doc = "registered name"},
    {.name = "shuffle", .type = HL_PARAM_BOOL, .def = "true", .doc = "shuffle batches"},
};
#define N_ADSH ((int)HL_ARRAY_LEN(adsh))

Test(config_schema, validate_collects_sorted_errors) {
    static const char *const kv[] = {"lr_rate", "0.01", "epochs", "0",  "norm",  "l3",
                                     "eps",     "8/",   "shuffle", "2", "bits", "[x]"};
    hl_config *m = map_of(5, 5, kv);
    hl_config *bits = hl_config_new(HL_CONFIG_SEQ, NULL, "t.yaml", 2, 9);
    cr_assert_eq(hl_config_seq_push(bits, scalar("16", 2, 10)), HL_OK);
    cr_assert_eq(hl_config_seq_push(bits, scalar("256", 2, 14)), HL_OK);
    cr_assert_eq(hl_config_map_put(m, "bits", 2, 3, bits), HL_OK);
    char *rep = NULL;
    cr_assert_eq(hl_config_check(m, adsh, N_ADSH, false, "hasher 'adsh'", &rep), HL_EINVAL);
    cr_assert_str_eq(rep, "t.yaml:2:14: bits[1]: 256 is out of range [8, 128]\n"
                          "t.yaml:5:1: unknown key 'lr_rate' in hasher 'adsh'; did you mean 'lr'? "
                          "(valid: lr, epochs, norm, eps, bits, method, shuffle)\n"
                          "t.yaml:5:1: missing required key 'method' in hasher 'adsh'\n"
                          "t.yaml:6:10: epochs: 0 is out of range [1, 1000]\n"
                          "t.yaml:7:10: norm: 'l3' is not allowed (allowed: linf, l2); did you mean 'l2'?\n"
                          "t.yaml:8:10: eps: expected a number or a fraction like 8/255, got '8/'\n"
                          "t.yaml:9:10: shuffle: expected true or false, got '2'");
    cr_assert_str_eq(hl_error_last(), rep);
    free(rep);
    /* allow_extra: unknown keys pass, the rest is still checked */
    hl_config_errors e = {0};
    cr_assert_eq(hl_config_validate(m, adsh, N_ADSH, true, NULL, &e), 6);
    hl_config_errors_free(&e);
    hl_config_free(m);
    /* not a map */
    hl_config *s = scalar("adsh", 3, 4);
    cr_assert_eq(hl_config_check(s, adsh, N_ADSH, false, "hasher 'adsh'", NULL), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t.yaml:3:4: expected a map of settings in hasher 'adsh', got 'adsh'");
    hl_config_free(s);
}

Test(config_schema, suggestions_and_error_cap) {
    cr_assert_eq(hl_edit_distance("kitten", "sitting"), 3);
    cr_assert_eq(hl_edit_distance("", "abc"), 3);
    cr_assert_eq(hl_edit_distance("lr", "lr"), 0);
    cr_assert_eq(hl_edit_distance("dsph", "dpsh"), 1, "a transposition is one edit");
    cr_assert_eq(hl_edit_distance("ab", "ba"), 1);
    static const char *const kv[] = {"epoch", "3", "method", "x", "zzzzzz", "1"};
    hl_config *m = map_of(1, 3, kv);
    char *rep = NULL;
    cr_assert_eq(hl_config_check(m, adsh, N_ADSH, false, NULL, &rep), HL_EINVAL);
    cr_assert_str_eq(rep, "t.yaml:1:1: unknown key 'epoch'; did you mean 'epochs'? "
                          "(valid: lr, epochs, norm, eps, bits, method, shuffle)\n"
                          "t.yaml:3:1: unknown key 'zzzzzz' (valid: lr, epochs, norm, eps, bits, method, shuffle)");
    free(rep);
    hl_config_free(m);

    hl_config *big = hl_config_new(HL_CONFIG_MAP, NULL, "t.yaml", 1, 1);
    for (int i = 0; i < 25; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%02d", i);
        cr_assert_eq(hl_config_map_put(big, k, 25 - i, 1, scalar("1", 25 - i, 6)), HL_OK);
    }
    static const hl_param_spec one[] = {{.name = "x", .type = HL_PARAM_INT, .def = "0"}};
    cr_assert_eq(hl_config_check(big, one, 1, false, NULL, &rep), HL_EINVAL);
    cr_assert(strncmp(rep, "t.yaml:1:1: unknown key 'k24' (valid: x)\nt.yaml:2:1: unknown key 'k23'", 70) == 0, "%s",
              rep);
    const char *tail = strrchr(rep, '\n');
    cr_assert_str_eq(tail, "\n... and 5 more errors");
    int lines = 0;
    for (const char *p = rep; *p; p++) lines += *p == '\n';
    cr_assert_eq(lines, 20);
    free(rep);
    hl_config_free(big);
}

Test(config_schema, resolve_fills_defaults_canonically) {
    static const char *const kv1[] = {"method", "adsh", "lr", "0.001", "eps", "0.5", "bits", "64", "extra", "k"};
    static const char *const kv2[] = {"extra", "k",      "eps", "1/2",  "lr",      "1e-3", "method",
                                      "adsh",  "epochs", "3",   "norm", "linf", "shuffle", "yes"};
    hl_config *a = map_of(1, 5, kv1), *b = map_of(1, 7, kv2), *ra = NULL, *rb = NULL;
    hl_config *bits_seq = hl_config_new(HL_CONFIG_SEQ, NULL, "t.yaml", 9, 7);
    cr_assert_eq(hl_config_seq_push(bits_seq, scalar("64", 9, 8)), HL_OK);
    cr_assert_eq(hl_config_map_put(b, "bits", 9, 1, bits_seq), HL_OK);
    cr_assert_eq(hl_config_check(a, adsh, N_ADSH, true, NULL, NULL), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_config_check(b, adsh, N_ADSH, true, NULL, NULL), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_config_resolve(a, adsh, N_ADSH, &ra), HL_OK);
    cr_assert_eq(hl_config_resolve(b, adsh, N_ADSH, &rb), HL_OK);
    char *ja = NULL, *jb = NULL;
    cr_assert_eq(hl_config_canonical_json(ra, &ja), HL_OK);
    cr_assert_eq(hl_config_canonical_json(rb, &jb), HL_OK);
    cr_assert_str_eq(ja, "{\"bits\":[64],\"epochs\":3,\"eps\":\"1/2\",\"extra\":\"k\",\"lr\":0.001,\"method\":\"adsh\","
                         "\"norm\":\"linf\",\"shuffle\":true}");
    cr_assert_str_eq(ja, jb);
    const hl_config *ep = hl_config_get(ra, "epochs");
    cr_assert_str_eq(ep->file, "<default>");
    cr_assert(ep->line == 0 && ep->col == 0);
    cr_assert_eq(hl_config_get(ra, "lr")->line, 2); /* present keys keep their positions */
    /* default list and fraction */
    static const char *const kv3[] = {"method", "m"};
    hl_config *c = map_of(1, 1, kv3), *rc = NULL;
    cr_assert_eq(hl_config_resolve(c, adsh, N_ADSH, &rc), HL_OK);
    int64_t *bits = NULL, n = 0;
    hl_fraction eps;
    cr_assert_eq(hl_config_get_int_list(rc, "bits", &bits, &n), HL_OK);
    cr_assert(n == 3 && bits[0] == 16 && bits[1] == 32 && bits[2] == 64);
    cr_assert_eq(hl_config_get_fraction(rc, "eps", &eps), HL_OK);
    cr_assert(eps.value == 8.0 / 255.0 && eps.num == 8 && eps.den == 255);
    free(bits);
    free(ja);
    free(jb);
    hl_config_free(a);
    hl_config_free(b);
    hl_config_free(c);
    hl_config_free(ra);
    hl_config_free(rb);
    hl_config_free(rc);
}

Test(config_schema, schema_table) {
    char *t = NULL;
    cr_assert_eq(hl_param_schema_format(adsh, N_ADSH, &t), HL_OK);
    cr_assert_str_eq(t, "name     type      default       range      doc\n"
                        "lr       float     1e-3          (0, 1]     learning rate\n"
                        "epochs   int       3             [1, 1000]  outer iterations\n"
                        "norm     enum      linf          linf|l2    threat-model norm\n"
                        "eps      fraction  8/255         [0, 1]     budget on [0,1] pixels\n"
                        "bits     int list  [16, 32, 64]  [8, 128]   code lengths\n"
                        "method   string    (required)    -          registered name\n"
                        "shuffle  bool      true          -          shuffle batches\n");
    free(t);
    cr_assert_str_eq(hl_param_type_name(HL_PARAM_MAP_LIST), "map list");
    cr_assert_eq(hl_param_find(adsh, N_ADSH, "eps"), &adsh[3]);
    cr_assert_null(hl_param_find(adsh, N_ADSH, "ep"));
}

Test(config, canonical_json_escapes_and_numbers) {
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "t", 1, 1);
    hl_config *q = scalar("a\"b\\c\x01", 1, 1);
    cr_assert_eq(hl_config_map_put(m, "z\"", 1, 1, q), HL_OK);
    cr_assert_eq(hl_config_map_put(m, "b", 2, 1, scalar("+007", 2, 1)), HL_OK);
    cr_assert_eq(hl_config_map_put(m, "a", 3, 1, scalar("1.50", 3, 1)), HL_OK);
    cr_assert_eq(hl_config_map_put(m, "c", 4, 1, hl_config_new(HL_CONFIG_NULL, NULL, "t", 4, 1)), HL_OK);
    hl_config *quoted = scalar("12", 5, 1);
    quoted->quoted = true;
    cr_assert_eq(hl_config_map_put(m, "d", 5, 1, quoted), HL_OK);
    cr_assert_eq(hl_config_map_put(m, "e", 6, 1, scalar("Off", 6, 1)), HL_OK);
    cr_assert_eq(hl_config_map_put(m, "f", 7, 1, scalar("caf\xc3\xa9", 7, 1)), HL_OK);
    char *js = NULL;
    cr_assert_eq(hl_config_canonical_json(m, &js), HL_OK);
    cr_assert_str_eq(js, "{\"a\":1.5,\"b\":7,\"c\":null,\"d\":\"12\",\"e\":false,\"f\":\"caf\xc3\xa9\","
                         "\"z\\\"\":\"a\\\"b\\\\c\\u0001\"}");
    free(js);
    hl_config_free(m);
}

/* Large maps are indexed (core/config.h, HL_CONFIG_INDEX_MIN): 100,000 keys go in, every lookup finds its entry, a
 * duplicate is refused with the first position, and removals keep the index right. The timeout guards against a
 * return of the per-key linear scan (minutes at this size; well under a second indexed, even under ASan). */
Test(config, large_map_is_indexed, .timeout = 60) {
    enum { N = 100000 };
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "big.yaml", 1, 1);
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(hl_config_map_put(m, key, i + 2, 3, hl_config_new(HL_CONFIG_SCALAR, key + 1, "big.yaml", i + 2, 7)),
                     HL_OK);
    }
    for (int i = 0; i < N; i += 7) {
        snprintf(key, sizeof key, "k%d", i);
        const hl_config *v = hl_config_get(m, key);
        cr_assert(v && !strcmp(v->key, key) && atoi(v->text) == i, "lookup of %s", key);
    }
    cr_assert_null(hl_config_get(m, "k100000"));
    cr_assert_eq(hl_config_map_put(m, "k99999", N + 2, 3, hl_config_new(HL_CONFIG_SCALAR, "x", "big.yaml", 0, 0)),
                 HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "duplicate key 'k99999' (first defined at 100001:3)"), "%s", hl_error_last());
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "k%d", i * 1000);
        cr_assert(hl_config_map_remove(m, key));
    }
    cr_assert_eq(hl_config_len(m), N - 50);
    cr_assert_null(hl_config_get(m, "k1000"));
    const hl_config *v = hl_config_get(m, "k1001");
    cr_assert(v && !strcmp(v->text, "1001"));
    cr_assert_eq(hl_config_map_put(m, "k1000", 1, 1, hl_config_new(HL_CONFIG_SCALAR, "back", "big.yaml", 0, 0)), HL_OK);
    cr_assert_str_eq(hl_config_get(m, "k1000")->text, "back");
    hl_config *c = hl_config_clone(m); /* a clone is indexed too */
    cr_assert(c && hl_config_get(c, "k77777") && !strcmp(hl_config_get(c, "k77777")->text, "77777"));
    hl_config_free(c);
    hl_config_free(m);
}
