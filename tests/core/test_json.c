/* tests/core/test_json.c — the strict JSON reader (core/io/json.h): values and tree shape, escapes and UTF-8, error
 * positions, every truncation of a document failing cleanly, duplicate keys, the depth limit, files. */
#include <stdlib.h>
#include <string.h>

#include "core/io/json.h"
#include "test_common.h"

static hl_config *parse_ok(const char *s) {
    hl_config *root = NULL;
    cr_assert_eq(hl_json_parse("t.json", s, strlen(s), &root), HL_OK, "%s: %s", s, hl_error_last());
    cr_assert_not_null(root);
    return root;
}

/* Parsing fails with HL_EFORMAT and a message starting with `prefix` (e.g. "t.json:1:5: "). */
static void parse_bad(const char *s, size_t len, const char *prefix, const char *part) {
    hl_config *root = (hl_config *)1;
    cr_assert_eq(hl_json_parse("t.json", s, len, &root), HL_EFORMAT, "accepted '%.*s'", (int)len, s);
    cr_assert_null(root);
    cr_assert(strncmp(hl_error_last(), prefix, strlen(prefix)) == 0, "'%.*s': got '%s', want prefix '%s'", (int)len,
              s, hl_error_last(), prefix);
    if (part) cr_assert(strstr(hl_error_last(), part), "'%s' lacks '%s'", hl_error_last(), part);
}

Test(json, values_and_tree) {
    hl_config *r = parse_ok(" {\"a\": 1, \"b\": [true, false, null, -0.5e+3, \"x\"], \"c\": {}, \"d\": [], \"e\": \"\"}\n");
    cr_assert_eq(r->kind, HL_CONFIG_MAP);
    cr_assert_eq(r->n, 5);
    const char *keys[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) cr_assert_str_eq(r->items[i]->key, keys[i]);
    int64_t a;
    cr_assert_eq(hl_config_get_int(r, "a", &a), HL_OK);
    cr_assert_eq(a, 1);
    const hl_config *b = hl_config_get(r, "b");
    cr_assert_eq(b->kind, HL_CONFIG_SEQ);
    cr_assert_eq(b->n, 5);
    cr_assert_str_eq(b->items[0]->text, "true");
    cr_assert(!b->items[0]->quoted);
    bool t;
    cr_assert_eq(hl_config_as_bool(b->items[1], &t), HL_OK);
    cr_assert(!t);
    cr_assert_eq(b->items[2]->kind, HL_CONFIG_NULL);
    cr_assert_str_eq(b->items[3]->text, "-0.5e+3");
    double d;
    cr_assert_eq(hl_config_as_double(b->items[3], &d), HL_OK);
    cr_assert_eq(d, -500.0);
    cr_assert(b->items[4]->quoted);
    cr_assert_str_eq(b->items[4]->text, "x");
    cr_assert_eq(hl_config_get(r, "c")->kind, HL_CONFIG_MAP);
    cr_assert_eq(hl_config_get(r, "d")->kind, HL_CONFIG_SEQ);
    cr_assert_str_eq(hl_config_get(r, "e")->text, "");
    /* positions: value and key */
    cr_assert_eq(r->line, 1);
    cr_assert_eq(r->col, 2);
    cr_assert_eq(b->items[3]->col, 36);
    cr_assert_eq(hl_config_get(r, "b")->key_col, 11);
    cr_assert_str_eq(r->file, "t.json");
    /* a quoted number is a string, which the canonical JSON keeps */
    char *cj;
    cr_assert_eq(hl_config_canonical_json(r, &cj), HL_OK);
    cr_assert_str_eq(cj, "{\"a\":1,\"b\":[true,false,null,-500,\"x\"],\"c\":{},\"d\":[],\"e\":\"\"}");
    free(cj);
    hl_config_free(r);
    /* scalars at the top level, multi-line positions */
    r = parse_ok("\"top\"");
    cr_assert(r->quoted && strcmp(r->text, "top") == 0);
    hl_config_free(r);
    r = parse_ok("[\n  1,\n\t\"two\"\r\n]");
    cr_assert_eq(r->items[0]->line, 2);
    cr_assert_eq(r->items[0]->col, 3);
    cr_assert_eq(r->items[1]->line, 3);
    cr_assert_eq(r->items[1]->col, 2);
    hl_config_free(r);
    r = parse_ok("\xEF\xBB\xBF{}");
    cr_assert_eq(r->col, 1);
    hl_config_free(r);
}

Test(json, escapes_and_utf8) {
    hl_config *r = parse_ok("[\"q\\\"b\\\\s\\/ \\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", \"\\ud83d\\ude00\", \"é€😀\"]");
    cr_assert_str_eq(r->items[0]->text, "q\"b\\s/ \b\f\n\r\t");
    cr_assert_str_eq(r->items[1]->text, "\xC3\xA9\xE2\x82\xAC");
    cr_assert_str_eq(r->items[2]->text, "\xF0\x9F\x98\x80");
    cr_assert_str_eq(r->items[3]->text, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    hl_config_free(r);
    parse_bad("\"\\ud83d\"", 8, "t.json:1:2: ", "high surrogate");
    parse_bad("\"\\ude00\\ud83d\"", 14, "t.json:1:2: ", "lone low surrogate");
    parse_bad("\"\\ud83d\\u0041\"", 14, "t.json:1:2: ", "low surrogate");
    parse_bad("\"\\u0000\"", 8, "t.json:1:2: ", "NUL");
    parse_bad("\"\\u12G4\"", 8, "t.json:1:2: ", "4 hex digits");
    parse_bad("\"ab\\x\"", 6, "t.json:1:4: ", "invalid escape");
    parse_bad("\"a\tb\"", 5, "t.json:1:3: ", "control character");
    parse_bad("\"\xC3\"", 3, "t.json:1:2: ", "UTF-8");          /* truncated sequence */
    parse_bad("\"\xC0\xAF\"", 4, "t.json:1:2: ", "UTF-8");      /* overlong */
    parse_bad("\"\xED\xA0\x80\"", 5, "t.json:1:2: ", "UTF-8");  /* encoded surrogate */
    parse_bad("\"\xF4\x90\x80\x80\"", 6, "t.json:1:2: ", "UTF-8"); /* above U+10FFFF */
    parse_bad("\"a\0b\"", 5, "t.json:1:3: ", "control character");
}

Test(json, grammar_errors_with_positions) {
    parse_bad("", 0, "t.json:1:1: ", "unexpected end");
    parse_bad("  \n ", 4, "t.json:2:2: ", "unexpected end");
    parse_bad("{\"a\": 1,}", 9, "t.json:1:9: ", "trailing comma");
    parse_bad("[1, 2,]", 7, "t.json:1:7: ", "trailing comma");
    parse_bad("[1 2]", 5, "t.json:1:4: ", "expected ',' or ']'");
    parse_bad("{\"a\" 1}", 7, "t.json:1:6: ", "expected ':'");
    parse_bad("{a: 1}", 6, "t.json:1:2: ", "string key");
    parse_bad("{\n  \"x\": 01\n}", 13, "t.json:2:8: ", "leading zero");
    parse_bad("[+1]", 4, "t.json:1:2: ", "unexpected '+'");
    parse_bad("[.5]", 4, "t.json:1:2: ", NULL);
    parse_bad("[1.]", 4, "t.json:1:2: ", "after '.'");
    parse_bad("[1e]", 4, "t.json:1:2: ", "exponent");
    parse_bad("[-]", 3, "t.json:1:2: ", "digit");
    parse_bad("[NaN]", 5, "t.json:1:2: ", NULL);
    parse_bad("[tru]", 5, "t.json:1:2: ", "literal");
    parse_bad("[nul", 4, "t.json:1:2: ", "literal");
    parse_bad("{} {}", 5, "t.json:1:4: ", "after the JSON value");
    parse_bad("// c\n{}", 7, "t.json:1:1: ", NULL);
    parse_bad("{}\0", 3, "t.json:1:3: ", "0x00");
    parse_bad("\"abc", 4, "t.json:1:1: ", "unterminated");
}

Test(json, duplicate_keys) {
    parse_bad("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", 25, "t.json:3:2: ", "duplicate key 'a' (first defined at 1:2)");
    hl_config *r = parse_ok("{\"a\": {\"a\": 1}, \"b\": [{\"a\": 2}, {\"a\": 3}]}"); /* same key, different objects */
    hl_config_free(r);
}

Test(json, every_truncation_fails_cleanly) {
    const char *doc = "{\"kind\": \"train\", \"bits\": [16, 32], \"x\": -1.25e-3, \"s\": \"\\u00e9\\ud83d\\ude00\xC3\xA9\","
                      " \"n\": null, \"t\": true, \"o\": {\"f\": false}}";
    size_t n = strlen(doc);
    hl_config *r = parse_ok(doc);
    hl_config_free(r);
    for (size_t len = 0; len < n; len++) {
        /* a heap copy of exactly len bytes, so reading past it would be caught by ASan/valgrind */
        char *cut = malloc(len ? len : 1);
        memcpy(cut, doc, len);
        hl_config *root = (hl_config *)1;
        hl_status st = hl_json_parse("cut.json", cut, len, &root);
        cr_assert_eq(st, HL_EFORMAT, "prefix of %zu bytes: status %d", len, (int)st);
        cr_assert_null(root);
        cr_assert(strncmp(hl_error_last(), "cut.json:1:", 11) == 0, "%zu: %s", len, hl_error_last());
        free(cut);
    }
}

Test(json, depth_limit) {
    char buf[2 * (HL_JSON_MAX_DEPTH + 1) + 1];
    for (int depth = HL_JSON_MAX_DEPTH; depth <= HL_JSON_MAX_DEPTH + 1; depth++) {
        int k = 0;
        for (int i = 0; i < depth; i++) buf[k++] = '[';
        for (int i = 0; i < depth; i++) buf[k++] = ']';
        hl_config *root = NULL;
        hl_status st = hl_json_parse("deep.json", buf, (size_t)k, &root);
        if (depth == HL_JSON_MAX_DEPTH) {
            cr_assert_eq(st, HL_OK, "%s", hl_error_last());
            hl_config_free(root);
        } else {
            cr_assert_eq(st, HL_EFORMAT);
            char want[64];
            snprintf(want, sizeof want, "deep.json:1:%d: nesting deeper than %d", depth, HL_JSON_MAX_DEPTH);
            cr_assert(strncmp(hl_error_last(), want, strlen(want)) == 0, "%s", hl_error_last());
        }
    }
    /* far deeper input is refused without recursing further */
    size_t big = 100000;
    char *d = malloc(big);
    memset(d, '{', big);
    hl_config *root = NULL;
    cr_assert_eq(hl_json_parse("deep.json", d, big, &root), HL_EFORMAT);
    free(d);
}

Test(json, load_file) {
    const char *p = hl_test_path(hl_test_tmpdir(), "r.json");
    const char *doc = "{\n  \"bits\": 32,\n  \"bits\": 64\n}\n";
    hl_test_write_file(p, doc, strlen(doc));
    hl_config *root = (hl_config *)1;
    cr_assert_eq(hl_json_load_file(p, &root), HL_EFORMAT);
    cr_assert_null(root);
    char want[1200];
    snprintf(want, sizeof want, "%s:3:3: duplicate key 'bits'", p);
    cr_assert(strncmp(hl_error_last(), want, strlen(want)) == 0, "%s", hl_error_last());
    hl_test_write_file(p, "{\"bits\": 32}", 12);
    cr_assert_eq(hl_json_load_file(p, &root), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(root->items[0]->file, p);
    hl_config_free(root);
    cr_assert_eq(hl_json_load_file(hl_test_path(hl_test_tmpdir(), "missing.json"), &root), HL_ENOTFOUND);
    cr_assert_null(root);
}
