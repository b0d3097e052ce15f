/* tests/lab/test_suite_weights.c — a hasher entry's pretrained-weights file (`params.pretrained`, or its alias
 * `init_from`) is part of its train cells' keys by content: new bytes under the same path make new cells (and new
 * attack cells under them), the same bytes give the same keys again; an entry without weights keeps the key it had;
 * a file that cannot be read is a suite problem reported at the key's file:line:col. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/suite.h"
#include "lab/yaml_load.h"
#include "test_common.h"

/* The suite with `params_line` ("" or e.g. "{pretrained: PATH}") on the dpsh entry. */
static hl_status load(const char *params, hl_suite **s) {
    char text[2048];
    snprintf(text, sizeof text,
             "name: w\n"
             "dataset: synthetic\n"
             "hashers:\n"
             "  - method: dpsh\n"
             "    bits: [16]\n"
             "%s%s%s"
             "attacks:\n"
             "  - method: noise\n",
             params[0] ? "    params: " : "", params, params[0] ? "\n" : "");
    hl_config *root = NULL;
    hl_status st = hl_yaml_load_string("s.yaml", text, &root);
    if (st < 0) return st;
    return hl_suite_from_config(s, root);
}

/* Keys of the train cell and its attack cell. */
static void keys(const char *params, char train[65], char attack[65]) {
    hl_suite *s = NULL;
    hl_cell *c = NULL;
    int64_t n = 0;
    cr_assert_eq(load(params, &s), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, "split", &c, &n), HL_OK, "%s", hl_error_last());
    cr_assert_eq(n, 2);
    memcpy(train, c[0].key, 65), memcpy(attack, c[1].key, 65);
    free(c);
    hl_suite_free(s);
}

Test(suite_weights, the_weights_file_content_is_part_of_the_key) {
    char *path = hl_test_path_alloc(hl_test_tmpdir(), "w.safetensors"), params[1200], alias[1200];
    snprintf(params, sizeof params, "{pretrained: %s}", path);
    snprintf(alias, sizeof alias, "{init_from: %s}", path);
    char t0[65], a0[65], t1[65], a1[65], t2[65], a2[65], t3[65], a3[65], ta[65], aa[65], tb[65], ab[65];
    keys("", t0, a0);
    hl_test_write_file(path, "weights A", 9);
    keys(params, t1, a1);
    keys(alias, ta, aa);
    hl_test_write_file(path, "weights B", 9); /* same path, new content */
    keys(params, t2, a2);
    keys(alias, tb, ab);
    hl_test_write_file(path, "weights A", 9);
    keys(params, t3, a3);
    cr_assert_str_neq(t1, t0);
    cr_assert_str_neq(t2, t1, "new weights under the same name must make a new train cell");
    cr_assert_str_neq(a2, a1, "... and new attack cells under it");
    cr_assert_str_neq(tb, ta, "the alias init_from too");
    cr_assert_str_eq(t3, t1, "the same bytes give the same key");
    cr_assert_str_eq(a3, a1);
    /* an entry without weights keeps the keys it had before weights were keyed (computed by that version) */
    char u[65], v[65];
    keys("{epochs: 3}", u, v);
    cr_assert_str_eq(u, "845b7c6cdcd01ce1aaeb31fdbe924f8aeeae0e1f4c128599e259732fdaa0d913");
    cr_assert_str_eq(v, "79cf1eb40cedc89c312ab7cedd669786dc779069266ce073f8110ec47b0818e6");
    free(path);
}

Test(suite_weights, an_unreadable_weights_file_is_a_suite_problem_at_the_key) {
    hl_suite *s = NULL;
    cr_assert_eq(load("{epochs: 2, pretrained: /nonexistent/r18.safetensors}", &s), HL_EINVAL);
    const char *m = hl_error_last();
    cr_assert(strstr(m, "s.yaml:6:") && strstr(m, "pretrained") && strstr(m, "/nonexistent/r18.safetensors") &&
                  strstr(m, "No such file"),
              "%s", m);
    cr_assert_null(s);
}
