/* tests/lab/test_semi.c — semi-supervised suites: the `labeled` count (suite and entry), the `labeler` of a supervised
 * entry (validation with positions, naming, cell keys), and a small end-to-end run whose result.json records the
 * labelled count, what the hasher was fitted on and the labeler's added images and accuracy (measured by the lab). */
#include <math.h>

#include "lab/yaml_load.h"
#include "test_run.h"

static hl_status load(const char *text, hl_suite **s) {
    hl_config *root = NULL;
    hl_status st = hl_yaml_load_string("s.yaml", text, &root);
    if (st < 0) return st;
    return hl_suite_from_config(s, root);
}

/* Keys of the train cells of `text` (bits [8], one seed) into keys[i] for entry i. */
static void train_keys(const char *text, char keys[][65], int n) {
    hl_suite *s = NULL;
    hl_cell *c = NULL;
    int64_t nc = 0;
    cr_assert_eq(load(text, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, "abc", &c, &nc), HL_OK, "%s", hl_error_last());
    cr_assert_geq(nc, n);
    for (int i = 0; i < n; i++) memcpy(keys[i], c[i].key, 65);
    free(c);
    hl_suite_free(s);
}

#define HEAD "name: semi\ndataset: synthetic\nprotocol: cifar10-1:40/100\n"

Test(semi_suite, labeler_names_and_keys) {
    hl_suite *s = NULL;
    cr_assert_eq(load(HEAD "hashers:\n  - {method: dpsh, bits: [8]}\n"
                           "  - {method: dpsh, bits: [8], labeler: {method: gnn, rounds: 2}}\n"
                           "  - {method: dpsh, name: mine, bits: [8], labeler: {method: gnn}}\n", &s), HL_OK, "%s",
                 hl_error_last());
    cr_assert_str_eq(s->hashers[0].name, "dpsh");
    cr_assert_str_eq(s->hashers[1].name, "dpsh-gnn");
    cr_assert_str_eq(s->hashers[1].labeler, "gnn");
    cr_assert_str_eq(s->hashers[2].name, "mine");
    cr_assert_null(s->hashers[0].labeler);
    hl_suite_free(s);

    char a[3][65], b[3][65], c[1][65], d[2][65], e[2][65];
    train_keys(HEAD "hashers:\n  - {method: dpsh, bits: [8]}\n  - {method: lsh, bits: [8]}\n"
                    "  - {method: dpsh, bits: [8], labeler: {method: gnn}}\n", a, 3);
    /* the labeler's defaults written out, another order: the same key */
    train_keys(HEAD "hashers:\n  - {method: dpsh, bits: [8]}\n  - {method: lsh, bits: [8]}\n"
                    "  - {bits: [8], labeler: {k: 10, method: gnn, rounds: 3}, method: dpsh}\n", b, 3);
    for (int i = 0; i < 3; i++) cr_assert_str_eq(a[i], b[i], "entry %d", i);
    cr_assert_str_neq(a[0], a[2], "the labeler is part of the key");
    /* without any labeler entry the plain entry keeps its key */
    train_keys(HEAD "hashers:\n  - {method: dpsh, bits: [8]}\n", c, 1);
    cr_assert_str_eq(c[0], a[0]);
    /* another labeler setting: another key */
    train_keys(HEAD "hashers:\n  - {method: dpsh, bits: [8], labeler: {method: gnn, k: 5}}\n", d, 1);
    cr_assert_str_neq(d[0], a[2]);
    /* min_confidence came later: at its default (any spelling) it stays out of the key, so the results stored before
     * it existed keep theirs; any other value is another key */
    train_keys(HEAD "hashers:\n  - {method: dpsh, bits: [8], labeler: {method: gnn, min_confidence: 0.0}}\n", d, 1);
    cr_assert_str_eq(d[0], a[2], "min_confidence at its default changed the key");
    train_keys(HEAD "hashers:\n  - {method: dpsh, bits: [8], labeler: {method: gnn, min_confidence: 0.9}}\n", d, 1);
    cr_assert_str_neq(d[0], a[2]);
    /* `labeled` at the top applies to the supervised entry only (lsh never reads labels); an entry's own wins */
    train_keys(HEAD "labeled: 20\nhashers:\n  - {method: dpsh, bits: [8]}\n  - {method: lsh, bits: [8]}\n", d, 2);
    cr_assert_str_neq(d[0], a[0], "labeled is part of a supervised entry's key");
    cr_assert_str_eq(d[1], a[1], "an unsupervised entry ignores the suite's labeled");
    train_keys(HEAD "hashers:\n  - {method: dpsh, bits: [8], labeled: 20}\n  - {method: lsh, bits: [8]}\n", e, 2);
    cr_assert_str_eq(e[0], d[0], "the entry's labeled: 20 is the suite's labeled: 20");
}

Test(semi_suite, labeled_needs_a_protocol_that_keeps_the_database) {
    hl_suite *s = NULL;
    cr_assert_eq(load("name: x\ndataset: synthetic\nprotocol: cifar10:40/100\nlabeled: 20\nhashers:\n"
                      "  - {method: dpsh, bits: [8], labeled: 10}\n"
                      "  - {method: dpsh, name: b, bits: [8], labeler: {k: 3}}\n", &s), HL_EINVAL);
    const char *e = hl_error_last();
    cr_assert(strstr(e, "s.yaml:4:10: labeled: protocol cifar10:40/100: a labelled count needs a protocol"), "%s", e);
    cr_assert(strstr(e, "s.yaml:6:40: labeled:"), "%s", e);
    cr_assert(strstr(e, "s.yaml:7:49: labeler: missing required key 'method'"), "%s", e);
    cr_assert_eq(load("name: x\ndataset: synthetic\nprotocol: random:40/100\nlabeled: 0\nhashers:\n"
                      "  - {method: dpsh, bits: [8]}\n", &s), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "s.yaml:4:10: labeled: 0 is out of range"), "%s", hl_error_last());
}

Test(semi_suite, labeler_validation_with_positions) {
    char *suite = write_suite(HEAD "hashers:\n"
                                   "  - {method: itq, bits: [8], labeler: {method: gnn}}\n"        /* line 5 */
                                   "  - {method: abml, bits: [8], labeler: {method: gnn}}\n"       /* line 6 */
                                   "  - {method: dpsh, bits: [8], labeler: {method: gnm}}\n"       /* line 7 */
                                   "  - {method: ddsh, bits: [8], labeler: {method: gnn, round: 2}}\n" /* line 8 */
                                   "  - {method: lsh, bits: [8], labeled: 20}\n");                 /* line 9 */
    hl_run_summary sum;
    cr_assert_eq(run(suite, tmp_dir("semibad"), NULL, true, &sum), HL_EINVAL);
    const char *e = hl_error_last();
    cr_assert(strstr(e, "s.yaml:5:") && strstr(e, "but 'itq' is unsupervised"), "%s", e);
    cr_assert(strstr(e, "s.yaml:6:") && strstr(e, "but 'abml' is semi-supervised"), "%s", e);
    cr_assert(strstr(e, "(supervised: adsh, ddsh, dpsh, nmlayer)"), "%s", e);
    cr_assert(strstr(e, "s.yaml:7:") && strstr(e, "unknown labeler 'gnm' (known: gnn; did you mean 'gnn'?)"), "%s", e);
    cr_assert(strstr(e, "s.yaml:8:") && strstr(e, "unknown key 'round' in labeler 'gnn'; did you mean 'rounds'?"), "%s",
              e);
    cr_assert(strstr(e, "s.yaml:9:") && strstr(e, "'lsh' never reads labels"), "%s", e);
    free(suite);
}

static double num(const hl_config *r, const char *path) {
    const hl_config *n = hl_config_path(r, path);
    cr_assert(n && n->kind == HL_CONFIG_SCALAR, "no number at %s", path);
    return strtod(n->text, NULL);
}

Test(semi_suite, labeler_and_labeled_end_to_end, .timeout = 300) {
    char *suite = write_suite("name: semirun\n"
                              "dataset: synthetic\n"
                              "synthetic: {n: 480, c: 1, h: 12, w: 12, classes: 4, noise: 0.3}\n"
                              "protocol: cifar10-1:40/80\n"
                              "seeds: [0]\n"
                              "threads: 1\n"
                              "metrics: {topk: all}\n"
                              "report: {formats: [json]}\n"
                              "hashers:\n"
                              "  - method: dpsh\n"
                              "    bits: [8]\n"
                              "    labeled: 40\n"
                              "    params: {epochs: 2, batch: 16}\n"
                              "    labeler: {method: gnn, k: 5, rounds: 2, per_round: 30, epochs: 40, feature_epochs: 6,\n"
                              "              feature_batch: 8, feature_dim: 16, hidden: 16}\n"
                              "  - method: adsh\n"
                              "    bits: [8]\n"
                              "    labeled: 40\n"
                              "    params: {epochs: 1, batch: 16, num_samples: 20, inner_epochs: 1}\n");
    const char *rd = tmp_dir("semirun");
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.failed, 0);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    hl_config *r = result_of(rd, cell_by_label(cells, n, "dpsh-gnn/8b/seed0")->key);
    cr_assert_eq(num(r, "labeled"), 40);
    cr_assert_eq(num(r, "labeler.added"), 60);
    cr_assert_str_eq(hl_config_path(r, "labeler.method")->text, "gnn");
    cr_assert_eq(hl_config_len(hl_config_path(r, "labeler.per_round")), 2);
    double acc = num(r, "labeler.accuracy");
    cr_assert(acc > 0.45 && acc <= 1, "labeler accuracy %.3f (chance 0.25)", acc); /* the lab measured it */
    cr_assert_str_eq(hl_config_path(r, "fit_on")->text, "train (40 labelled) + 60 labelled by gnn");
    cr_assert_eq(num(r, "labeler.config.k"), 5);
    hl_config_free(r);
    r = result_of(rd, cell_by_label(cells, n, "adsh/8b/seed0")->key);
    cr_assert_str_eq(hl_config_path(r, "fit_on")->text, "train (40 labelled)", "an asymmetric method under a "
                     "labelled count fits on the labelled images, not the database");
    cr_assert_eq(num(r, "labeled"), 40);
    hl_config_free(r);
    free(cells);
    free(suite);
}
