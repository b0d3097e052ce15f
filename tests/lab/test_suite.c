/* tests/lab/test_suite.c — suites: validation with positions, resolution, cell expansion, keys, shards. */
#include <string.h>

#include "lab/suite.h"
#include "lab/yaml_load.h"
#include "test_common.h"

static const char *good =
    "name: quick\n"
    "dataset: synthetic\n"
    "synthetic: {n: 500, classes: 4}\n"
    "seeds: [0, 1]\n"
    "hashers:\n"
    "  - method: lsh\n"
    "    bits: [16, 32]\n"
    "attacks:\n"
    "  - method: noise\n"
    "    eps: 8/255\n";

static hl_status load(const char *text, hl_suite **s) {
    hl_config *root = NULL;
    hl_status st = hl_yaml_load_string("s.yaml", text, &root);
    if (st < 0) return st;
    return hl_suite_from_config(s, root);
}

static void expand(const char *text, hl_cell **cells, int64_t *n) {
    hl_suite *s = NULL;
    cr_assert_eq(load(text, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, "abc123", cells, n), HL_OK, "%s", hl_error_last());
    hl_suite_free(s);
}

Test(suite, loads_resolves_and_expands) {
    hl_suite *s = NULL;
    cr_assert_eq(load(good, &s), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(s->name, "quick");
    cr_assert_str_eq(s->protocol, "cifar10"); /* default */
    cr_assert_eq(s->nseeds, 2);
    cr_assert_eq(s->nhashers, 1);
    cr_assert_eq(s->hashers[0].nbits, 2);
    cr_assert_eq(s->nattacks, 1);
    hl_cell *c = NULL;
    int64_t n = 0;
    cr_assert_eq(hl_suite_expand(s, "abc123", &c, &n), HL_OK, "%s", hl_error_last());
    cr_assert_eq(n, 8, "2 bits x 2 seeds train cells + as many attack cells");
    cr_assert_str_eq(c[0].label, "lsh/16b/seed0");
    cr_assert_str_eq(c[3].label, "lsh/32b/seed1");
    cr_assert_str_eq(c[4].label, "lsh/16b/seed0/noise:linf:8/255");
    cr_assert_eq(c[4].kind, HL_CELL_ATTACK);
    cr_assert_eq(c[4].parent, 0);
    for (int64_t i = 0; i < n; i++) {
        cr_assert_eq(strlen(c[i].key), 64);
        for (int64_t j = 0; j < i; j++) cr_assert_str_neq(c[i].key, c[j].key, "cells %lld and %lld share a key", (long long)i, (long long)j);
    }
    free(c);
    hl_suite_free(s);
}

/* Keys depend on what determines the result, not on spelling, key order or scoring options. */
Test(suite, keys_are_content_addresses) {
    hl_cell *a, *b, *c, *d;
    int64_t na, nb, nc, nd;
    expand(good, &a, &na);
    expand("seeds: [0, 1]\n"
           "name: quick\n"
           "synthetic: {classes: 4, n: 500}\n"
           "dataset: synthetic\n"
           "metrics: {topk: all, ties: expected}\n"
           "attacks:\n"
           "  - {eps: 16/510, method: noise, norm: linf}\n"
           "hashers:\n"
           "  - {bits: [16, 32], method: lsh, params: {}}\n",
           &b, &nb);
    cr_assert_eq(na, nb);
    for (int64_t i = 0; i < na; i++) cr_assert_str_eq(a[i].key, b[i].key, "cell %lld", (long long)i);
    /* A different ε changes only the attack cells; a different seed list changes the train cells too. */
    char *other = strdup(good);
    strcpy(strstr(other, "8/255"), "4/255\n");
    expand(other, &c, &nc);
    for (int64_t i = 0; i < 4; i++) cr_assert_str_eq(a[i].key, c[i].key);
    for (int64_t i = 4; i < 8; i++) cr_assert_str_neq(a[i].key, c[i].key);
    free(other);
    hl_suite *s = NULL;
    cr_assert_eq(load(good, &s), HL_OK);
    cr_assert_eq(hl_suite_expand(s, "another-split", &d, &nd), HL_OK);
    cr_assert_str_neq(a[0].key, d[0].key, "the split hash is part of the key");
    hl_suite_free(s);
    free(a);
    free(b);
    free(c);
    free(d);
}

Test(suite, every_problem_reported_with_its_position) {
    hl_suite *s = NULL;
    hl_status st = load("name: q\n"
                        "dataset: cifar11\n"
                        "hasher:\n"
                        "  - method: lsh\n"
                        "attacks:\n"
                        "  - method: noise\n"
                        "    norm: l3\n"
                        "    steps: -1\n",
                        &s);
    cr_assert_eq(st, HL_EINVAL);
    const char *m = hl_error_last();
    cr_assert(strstr(m, "s.yaml:2:10: ") && strstr(m, "'cifar11' is not allowed"), "%s", m);
    cr_assert(strstr(m, "s.yaml:3:1: ") && strstr(m, "unknown key 'hasher'") && strstr(m, "did you mean 'hashers'"), "%s", m);
    cr_assert(strstr(m, "s.yaml:7:11: ") && strstr(m, "'l3' is not allowed (allowed: linf, l2, none)"), "%s", m);
    cr_assert(strstr(m, "s.yaml:8:12: ") && strstr(m, "out of range"), "%s", m);
    cr_assert(strstr(m, "missing required key 'hashers'"), "%s", m);
    cr_assert_null(s);

    st = load("name: q\ndataset: mnist\nmetrics: {topk: some}\nhashers: [{method: lsh, bits: [8]}]\n", &s);
    cr_assert_eq(st, HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "s.yaml:3:17: metrics.topk: expected a positive integer or all, got 'some'"),
              "%s", hl_error_last());
    st = load("name: q\ndataset: mnist\nhashers: []\n", &s);
    cr_assert_eq(st, HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "hashers: the list is empty"), "%s", hl_error_last());
}

Test(suite, shards_cover_every_cell_once_and_keep_attacks_with_their_training) {
    hl_cell *c;
    int64_t n;
    expand(good, &c, &n);
    for (int count = 1; count <= 5; count++) {
        for (int64_t i = 0; i < n; i++) {
            int owners = 0;
            for (int k = 0; k < count; k++) owners += hl_cell_in_shard(c, i, k, count);
            cr_assert_eq(owners, 1, "cell %lld in %d shards of %d", (long long)i, owners, count);
            if (c[i].kind == HL_CELL_ATTACK)
                for (int k = 0; k < count; k++)
                    cr_assert_eq(hl_cell_in_shard(c, i, k, count), hl_cell_in_shard(c, c[i].parent, k, count));
        }
    }
    int i = -1, cnt = -1;
    cr_assert_eq(hl_shard_parse("2/4", &i, &cnt), HL_OK);
    cr_assert(i == 2 && cnt == 4);
    cr_assert_eq(hl_shard_parse("4/4", &i, &cnt), HL_EINVAL);
    cr_assert_eq(hl_shard_parse("x", &i, &cnt), HL_EINVAL);
    cr_assert_eq(hl_shard_parse("1/0", &i, &cnt), HL_EINVAL);
    cr_assert(hl_cell_matches(&c[4], "lsh/16b/*/noise*"));
    cr_assert(hl_cell_matches(&c[4], "*:8/255"));
    cr_assert(!hl_cell_matches(&c[0], "*/noise*"));
    cr_assert(hl_cell_matches(&c[0], NULL));
    free(c);
}

/* Values the schema cannot judge are still refused before anything runs, at their position: an unknown protocol, an
 * unknown or repeated report format, and a seed or a bit length given twice (which would make the same cells twice). */
Test(suite, protocol_formats_and_duplicates_refused_with_position) {
    static const struct {
        const char *yaml, *want;
    } bad[] = {
        {"name: q\ndataset: mnist\nprotocol: bogus\nhashers: [{method: lsh, bits: [8]}]\n",
         "s.yaml:3:11: protocol: unknown split protocol 'bogus'"},
        {"name: q\ndataset: mnist\nprotocol: cifar10:12\nhashers: [{method: lsh, bits: [8]}]\n",
         "s.yaml:3:11: protocol: unknown split protocol 'cifar10:12'"},
        {"name: q\ndataset: mnist\nreport: {formats: [md, nan, pdf]}\nhashers: [{method: lsh, bits: [8]}]\n",
         "s.yaml:3:24: report.formats[1]: unknown format 'nan'"},
        {"name: q\ndataset: mnist\nreport: {formats: [md, markdown]}\nhashers: [{method: lsh, bits: [8]}]\n",
         "s.yaml:3:24: report.formats[1]: 'markdown' is listed twice"},
        {"name: q\ndataset: mnist\nseeds: [0, 1, 0]\nhashers: [{method: lsh, bits: [8]}]\n",
         "s.yaml:3:15: seeds: 0 is listed twice (first at line 3, column 9)"},
        {"name: q\ndataset: mnist\nhashers:\n  - method: lsh\n    bits: [16, 32, 16]\n",
         "s.yaml:5:20: hashers[0].bits: 16 is listed twice"},
        {"name: q\ndataset: mnist\nhashers: [{method: lsh, bits: [8]}]\nattacks:\n  - method: noise\n"
         "    bits: [8, 8]\n",
         "s.yaml:6:15: attacks[0].bits: 8 is listed twice"},
    };
    for (size_t i = 0; i < HL_ARRAY_LEN(bad); i++) {
        hl_suite *s = NULL;
        cr_assert_eq(load(bad[i].yaml, &s), HL_EINVAL, "case %zu was accepted", i);
        cr_assert(strstr(hl_error_last(), bad[i].want), "case %zu: got '%s', want '%s'", i, hl_error_last(),
                  bad[i].want);
        cr_assert_null(s);
    }
    hl_suite *s = NULL;
    cr_assert_eq(load("name: q\ndataset: mnist\nprotocol: 'random:10/20'\nreport: {formats: [md, latex]}\n"
                      "hashers: [{method: lsh, bits: [8, 16]}]\n", &s), HL_OK, "%s", hl_error_last());
    hl_suite_free(s);
}
