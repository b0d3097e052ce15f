/* tests/lab/test_yaml.c — YAML loader: positions, kinds, refusals with exact messages, schema validation of files. */
#include <stdlib.h>
#include <string.h>

#include "core/config_schema.h"
#include "lab/yaml_load.h"
#include "test_common.h"

#define FIX(name) HL_TEST_DATA_DIR "/yaml/" name

static const hl_param_spec metric_specs[] = {
    {.name = "R", .type = HL_PARAM_INT, .def = "100", .range = "[1, inf)", .doc = "retrieval depth"},
    {.name = "radius", .type = HL_PARAM_INT, .def = "2", .range = "[0, 64]", .doc = "Hamming radius"},
};
static const hl_param_spec hasher_specs[] = {
    {.name = "method", .type = HL_PARAM_STRING, .doc = "registered hasher"},
    {.name = "bits", .type = HL_PARAM_INT, .def = "32", .range = "[8, 64]", .doc = "code length"},
    {.name = "params", .type = HL_PARAM_MAP, .def = "{}", .doc = "method parameters"},
};
static const hl_param_spec suite_specs[] = {
    {.name = "name", .type = HL_PARAM_STRING, .doc = "suite name"},
    {.name = "seed", .type = HL_PARAM_INT, .def = "0", .range = "[0, inf)", .doc = "seed"},
    {.name = "lr", .type = HL_PARAM_FLOAT, .def = "1e-3", .range = "(0, 1]", .doc = "learning rate"},
    {.name = "eps", .type = HL_PARAM_FRACTION, .def = "8/255", .range = "[0, 1]", .doc = "budget"},
    {.name = "half", .type = HL_PARAM_FRACTION, .def = "1/2", .doc = "a half"},
    {.name = "neg", .type = HL_PARAM_FRACTION, .def = "0", .range = "[-1, 1]", .doc = "negative"},
    {.name = "verbose", .type = HL_PARAM_BOOL, .def = "false", .doc = "chatty"},
    {.name = "quiet", .type = HL_PARAM_BOOL, .def = "false", .doc = "silent"},
    {.name = "norm", .type = HL_PARAM_ENUM, .def = "linf", .choices = "linf|l2", .doc = "norm"},
    {.name = "bits", .type = HL_PARAM_INT_LIST, .def = "[32]", .range = "[8, 64]", .doc = "code lengths"},
    {.name = "rates", .type = HL_PARAM_FLOAT_LIST, .def = "[]", .doc = "rates"},
    {.name = "tags", .type = HL_PARAM_STRING_LIST, .def = "[]", .doc = "tags"},
    {.name = "nothing", .type = HL_PARAM_STRING, .def = "~", .doc = "optional"},
    {.name = "empty", .type = HL_PARAM_INT, .def = "null", .doc = "optional"},
    {.name = "quoted", .type = HL_PARAM_STRING, .def = "", .doc = "a string"},
    {.name = "metrics", .type = HL_PARAM_MAP, .def = "{}", .doc = "metrics", .fields = metric_specs, .n_fields = 2},
    {.name = "hashers", .type = HL_PARAM_MAP_LIST, .def = "[]", .doc = "hashers", .fields = hasher_specs,
     .n_fields = 3},
};
#define N_SUITE ((int)HL_ARRAY_LEN(suite_specs))

static hl_config *load_ok(const char *path) {
    hl_config *r = NULL;
    cr_assert_eq(hl_yaml_load_file(path, &r), HL_OK, "%s", hl_error_last());
    return r;
}

static void expect_pos(const hl_config *root, const char *path, int line, int col) {
    const hl_config *n = hl_config_path(root, path);
    cr_assert(n, "no node at %s", path);
    cr_assert(n->line == line && n->col == col, "%s at %d:%d, want %d:%d", path, n->line, n->col, line, col);
    cr_assert_str_eq(n->file, FIX("good.yaml"));
}

Test(yaml, good_tree_positions_and_kinds) {
    hl_config *r = load_ok(FIX("good.yaml"));
    cr_assert_eq(r->kind, HL_CONFIG_MAP);
    cr_assert_eq(r->line, 2);
    cr_assert_eq(r->col, 1);
    cr_assert_eq(hl_config_len(r), 17);
    expect_pos(r, "name", 2, 7);
    expect_pos(r, "eps", 5, 6);
    expect_pos(r, "bits", 11, 7);
    expect_pos(r, "bits.2", 11, 16);
    expect_pos(r, "tags.1", 15, 5);
    expect_pos(r, "metrics", 20, 3);
    expect_pos(r, "metrics.radius", 21, 11);
    expect_pos(r, "hashers.1.params.iters", 26, 21);
    const hl_config *m = hl_config_get(r, "metrics");
    cr_assert(m->key_line == 19 && m->key_col == 1);
    cr_assert_eq(hl_config_get(r, "nothing")->kind, HL_CONFIG_NULL);
    cr_assert_eq(hl_config_get(r, "empty")->kind, HL_CONFIG_NULL);
    cr_assert(hl_config_get(r, "quoted")->quoted);
    cr_assert(!hl_config_get(r, "seed")->quoted);
    cr_assert(hl_config_path(r, "tags.1")->quoted);
    cr_assert_str_eq(hl_config_path(r, "tags.1")->text, "needs gpu");
    cr_assert_str_eq(hl_config_at(r, 0)->key, "name");

    int64_t seed, *bits = NULL, nb = 0;
    hl_fraction eps, neg;
    bool v, q;
    cr_assert_eq(hl_config_get_int(r, "seed", &seed), HL_OK);
    cr_assert_eq(seed, 7);
    cr_assert_eq(hl_config_get_fraction(r, "eps", &eps), HL_OK);
    cr_assert(eps.value == 8.0 / 255.0 && eps.num == 8 && eps.den == 255);
    cr_assert_eq(hl_config_get_fraction(r, "neg", &neg), HL_OK);
    cr_assert(neg.value == -0.75 && neg.num == -3 && neg.den == 4);
    cr_assert_eq(hl_config_get_bool(r, "verbose", &v), HL_OK);
    cr_assert_eq(hl_config_get_bool(r, "quiet", &q), HL_OK);
    cr_assert(v && !q);
    cr_assert_eq(hl_config_get_int_list(r, "bits", &bits, &nb), HL_OK);
    cr_assert(nb == 3 && bits[0] == 16 && bits[2] == 64);
    free(bits);
    int64_t iters;
    cr_assert_eq(hl_config_get_int(r, "hashers.1.params.iters", &iters), HL_OK);
    cr_assert_eq(iters, 50);
    cr_assert_eq(hl_config_check(r, suite_specs, N_SUITE, false, "suite", NULL), HL_OK, "%s", hl_error_last());
    hl_config_free(r);
}

Test(yaml, good_resolved_canonical_json) {
    hl_config *r = load_ok(FIX("good.yaml")), *res = NULL;
    cr_assert_eq(hl_config_resolve(r, suite_specs, N_SUITE, &res), HL_OK, "%s", hl_error_last());
    char *js = NULL;
    cr_assert_eq(hl_config_canonical_json(res, &js), HL_OK);
    cr_assert_str_eq(js, "{\"bits\":[16,32,64],\"empty\":null,\"eps\":\"8/255\",\"half\":\"1/2\","
                         "\"hashers\":[{\"bits\":32,\"method\":\"lsh\",\"params\":{}},"
                         "{\"bits\":32,\"method\":\"itq\",\"params\":{\"iters\":50}}],"
                         "\"lr\":0.001,\"metrics\":{\"R\":1000,\"radius\":2},\"name\":\"quick\",\"neg\":\"-3/4\","
                         "\"norm\":\"linf\",\"nothing\":null,\"quiet\":false,\"quoted\":\"123\",\"rates\":[0.1,0.25],"
                         "\"seed\":7,\"tags\":[\"fast\",\"needs gpu\"],\"verbose\":true}");
    free(js);
    hl_config_free(res);
    hl_config_free(r);
}

Test(yaml, canonical_json_independent_of_key_order_and_spelling) {
    hl_config *a = load_ok(FIX("order_a.yaml")), *b = load_ok(FIX("order_b.yaml"));
    static const hl_param_spec specs[] = {
        {.name = "seed", .type = HL_PARAM_INT, .def = "0"},
        {.name = "lr", .type = HL_PARAM_FLOAT, .def = "0.1"},
        {.name = "eps", .type = HL_PARAM_FRACTION, .def = "0"},
        {.name = "norm", .type = HL_PARAM_ENUM, .def = "l2", .choices = "linf|l2"},
        {.name = "metrics", .type = HL_PARAM_MAP, .def = "{}", .fields = metric_specs, .n_fields = 2},
        {.name = "steps", .type = HL_PARAM_INT, .def = "10"},
    };
    hl_config *ra = NULL, *rb = NULL;
    cr_assert_eq(hl_config_resolve(a, specs, 6, &ra), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_config_resolve(b, specs, 6, &rb), HL_OK, "%s", hl_error_last());
    char *ja = NULL, *jb = NULL, *raw_a = NULL, *raw_b = NULL;
    cr_assert_eq(hl_config_canonical_json(ra, &ja), HL_OK);
    cr_assert_eq(hl_config_canonical_json(rb, &jb), HL_OK);
    cr_assert_str_eq(ja, "{\"eps\":\"8/255\",\"lr\":0.001,\"metrics\":{\"R\":1000,\"radius\":2},\"norm\":\"linf\","
                         "\"seed\":7,\"steps\":10}");
    cr_assert_str_eq(ja, jb);
    /* unresolved: key order still irrelevant, spelling is not normalised for strings/fractions */
    cr_assert_eq(hl_config_canonical_json(a, &raw_a), HL_OK);
    cr_assert_eq(hl_config_canonical_json(b, &raw_b), HL_OK);
    cr_assert_str_eq(raw_a, "{\"eps\":\"8/255\",\"lr\":0.001,\"metrics\":{\"R\":1000,\"radius\":2},\"norm\":\"linf\","
                            "\"seed\":7}");
    cr_assert_str_eq(raw_b, "{\"eps\":\"16/510\",\"lr\":0.001,\"metrics\":{\"R\":1000,\"radius\":2},"
                            "\"norm\":\"linf\",\"seed\":7}");
    free(ja);
    free(jb);
    free(raw_a);
    free(raw_b);
    hl_config_free(ra);
    hl_config_free(rb);
    hl_config_free(a);
    hl_config_free(b);
}

Test(yaml, bad_suite_reports_every_error_sorted) {
    hl_config *r = load_ok(FIX("bad.yaml"));
    char *rep = NULL;
    cr_assert_eq(hl_config_check(r, suite_specs, N_SUITE, false, "suite", &rep), HL_EINVAL);
    const char *f = FIX("bad.yaml");
    char want[4096];
    snprintf(want, sizeof want,
             "%s:2:7: seed: expected an integer, got 'abc'\n"
             "%s:3:1: unknown key 'lr_rate' in suite; did you mean 'lr'? (valid: name, seed, lr, eps, half, neg, "
             "verbose, quiet, norm, bits, rates, tags, nothing, empty, quoted, metrics, hashers)\n"
             "%s:4:6: eps: expected a number or a fraction like 8/255, got '8/0' (denominator is zero)\n"
             "%s:5:10: verbose: expected true or false, got 'maybe'\n"
             "%s:6:7: norm: 'l3' is not allowed (allowed: linf, l2); did you mean 'l2'?\n"
             "%s:7:12: bits[1]: expected an integer, got 'x'\n"
             "%s:7:15: bits[2]: 128 is out of range [8, 64]\n"
             "%s:9:6: metrics.R: -5 is out of range [1, inf)\n"
             "%s:10:3: unknown key 'radiuss' in 'metrics' of suite; did you mean 'radius'? (valid: R, radius)\n"
             "%s:13:5: missing required key 'method' in 'hashers' of suite\n"
             "%s:13:11: hashers[1].bits: 72 is out of range [8, 64]",
             f, f, f, f, f, f, f, f, f, f, f);
    cr_assert_str_eq(rep, want);
    cr_assert_eq(strncmp(hl_error_last(), want, 200), 0);
    free(rep);
    hl_config_free(r);
}

static void expect_load_error(const char *fixture, hl_status code, const char *msg_after_path) {
    hl_config *r = (hl_config *)1;
    char want[1024];
    snprintf(want, sizeof want, "%s%s", fixture, msg_after_path);
    cr_assert_eq(hl_yaml_load_file(fixture, &r), code, "%s: %s", fixture, hl_error_last());
    cr_assert_null(r);
    cr_assert_str_eq(hl_error_last(), want);
}

Test(yaml, refusals_with_positions) {
    expect_load_error(FIX("syntax.yaml"), HL_EFORMAT,
                      ":3:2: did not find expected ',' or ']' (while parsing a flow sequence at 2:4)");
    expect_load_error(FIX("dup.yaml"), HL_EFORMAT, ":3:1: duplicate key 'lr' (first defined at 1:1)");
    expect_load_error(FIX("anchor.yaml"), HL_EFORMAT, ":1:7: anchors and aliases (&name, *name) are not supported");
    expect_load_error(FIX("multidoc.yaml"), HL_EFORMAT, ":2:1: more than one YAML document (one suite per file)");
    expect_load_error(FIX("seqkey.yaml"), HL_EFORMAT, ":1:3: mapping keys must be scalars");
    expect_load_error(FIX("tab.yaml"), HL_EFORMAT,
                      ":2:1: found a tab character that violates indentation (while scanning a plain scalar at 1:4)");
    expect_load_error(FIX("no_such_file.yaml"), HL_ENOTFOUND, ": cannot open: No such file or directory");
}

Test(yaml, strings_and_empty_documents) {
    hl_config *r = NULL;
    cr_assert_eq(hl_yaml_load_file(FIX("empty.yaml"), &r), HL_OK, "%s", hl_error_last());
    cr_assert(r->kind == HL_CONFIG_NULL && r->line == 1 && r->col == 1);
    hl_config_free(r);

    cr_assert_eq(hl_yaml_load_string("t", "a: !!str 12\nb: |\n  x\nc: 'on'\nd: on\ne: \"\"\n", &r), HL_OK);
    cr_assert(hl_config_get(r, "a")->quoted && hl_config_get(r, "b")->quoted);
    cr_assert_str_eq(hl_config_get(r, "b")->text, "x\n");
    bool t;
    cr_assert_eq(hl_config_get_bool(r, "c", &t), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "t:4:4: c: expected true or false, got 'on'");
    cr_assert_eq(hl_config_get_bool(r, "d", &t), HL_OK);
    cr_assert(t);
    cr_assert_eq(hl_config_get(r, "e")->kind, HL_CONFIG_SCALAR);
    char *js = NULL;
    cr_assert_eq(hl_config_canonical_json(r, &js), HL_OK);
    cr_assert_str_eq(js, "{\"a\":\"12\",\"b\":\"x\\n\",\"c\":\"on\",\"d\":true,\"e\":\"\"}");
    free(js);
    hl_config_free(r);

    cr_assert_eq(hl_yaml_load_string("s", "[1, {a: 2}]", &r), HL_OK);
    cr_assert(r->kind == HL_CONFIG_SEQ && hl_config_len(r) == 2);
    cr_assert_eq(hl_config_path(r, "1.a")->col, 9);
    hl_config_free(r);

    cr_assert_eq(hl_yaml_load_string("s", "a: [1, 2]\nb: x\n", &r), HL_OK);
    int64_t v;
    cr_assert_eq(hl_config_get_int(r, "c", &v), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "s:1:1: missing key 'c'");
    cr_assert_eq(hl_config_get_int(r, "a", &v), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "s:1:4: a: expected an integer, got a list");
    hl_config_free(r);
}
