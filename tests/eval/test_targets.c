/* tests/eval/test_targets.c — target labels and DHTA anchors (METRICS.md "Targets and protocol artifacts"). */
#include <string.h>

#include "eval/targets.h"
#include "test_common.h"

static hl_labels classes(const int64_t *ids, int64_t n, int L) {
    hl_labels l;
    cr_assert_eq(hl_labels_from_class_ids(&l, ids, n, L), HL_OK);
    return l;
}

Test(targets, differ_from_own_set_are_uniform_and_seeded) {
    /* Database: classes 0..3 (class 3 only twice); queries of classes 0 and 3 and one class absent from the db. */
    int64_t dbi[20], qi[600];
    for (int j = 0; j < 20; j++) dbi[j] = j < 18 ? j % 3 : 3;
    for (int i = 0; i < 600; i++) qi[i] = i % 2 ? 0 : 3;
    hl_labels db = classes(dbi, 20, 5), q = classes(qi, 600, 5), t, t2;
    cr_assert_eq(hl_targets_draw(&t, &q, &db, 7), HL_OK, "%s", hl_error_last());
    int count[2][5] = {{0}};
    for (int i = 0; i < 600; i++) {
        int c = hl_labels_class(&t, i);
        cr_assert(c >= 0 && c <= 3, "target %d of query %d is not a database label set", c, i);
        cr_assert_neq(c, (int)qi[i], "query %d got its own label as target", i);
        count[i % 2][c]++;
    }
    /* Each query class has 3 possible targets, 100 draws each expected; binomial sd ≈ 8.2, 5 sd bounds. */
    for (int c = 1; c <= 3; c++) cr_assert(count[1][c] > 59 && count[1][c] < 141, "class 0 -> %d: %d", c, count[1][c]);
    for (int c = 0; c <= 2; c++) cr_assert(count[0][c] > 59 && count[0][c] < 141, "class 3 -> %d: %d", c, count[0][c]);
    /* The same seed gives the same targets; a query's target does not depend on how many queries there are. */
    hl_labels q10 = classes(qi, 10, 5);
    cr_assert_eq(hl_targets_draw(&t2, &q10, &db, 7), HL_OK);
    cr_assert(memcmp(t.bits, t2.bits, (size_t)10 * t.words * sizeof *t.bits) == 0);
    hl_labels_free(&t2);
    hl_labels one = classes((int64_t[]){2, 2, 2}, 3, 5);
    cr_assert_eq(hl_targets_draw(&t2, &q10, &one, 7), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "1 distinct label set"), "%s", hl_error_last());
    hl_labels_free(&one);
    hl_labels_free(&q10);
    hl_labels_free(&t);
    hl_labels_free(&q);
    hl_labels_free(&db);
}

Test(targets, anchors_carry_the_target_and_vote) {
    /* Database rows 0..5 of classes 0 0 1 1 1 2. */
    hl_labels db = classes((int64_t[]){0, 0, 1, 1, 1, 2}, 6, 3), t = classes((int64_t[]){1, 2}, 2, 3);
    int64_t anchors[2 * 3], shortc = -1;
    cr_assert_eq(hl_targets_anchors(anchors, &shortc, &t, &db, 3, 5), HL_OK);
    for (int a = 0; a < 3; a++) cr_assert(anchors[a] >= 2 && anchors[a] <= 4, "anchor %lld", (long long)anchors[a]);
    cr_assert(anchors[0] != anchors[1] && anchors[1] != anchors[2] && anchors[0] != anchors[2]);
    cr_assert_eq(anchors[3], 5);
    cr_assert(anchors[4] == -1 && anchors[5] == -1, "only one item carries class 2");
    cr_assert_eq(shortc, 1);
    /* Majority vote of 4-bit codes, ties -> +1 (bit 1). */
    hl_codes c, code;
    cr_assert_eq(hl_codes_create(&c, 3, 4), HL_OK);
    const float x[3][4] = {{1, 1, -1, -1}, {1, -1, -1, 1}, {-1, 1, -1, -1}};
    hl_codes_pack(&c, &x[0][0]);
    int64_t a2[2 * 2] = {0, 1, 0, -1}; /* row 0: two codes (tie on bits 1 and 3 -> 1); row 1: one code */
    cr_assert_eq(hl_targets_anchor_code(&code, &c, a2, 2, 2), HL_OK);
    const int want[2][4] = {{1, 1, 0, 1}, {1, 1, 0, 0}};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) cr_assert_eq(hl_codes_bit(&code, i, k), want[i][k], "row %d bit %d", i, k);
    hl_codes_free(&c);
    hl_codes_free(&code);
    hl_labels_free(&db);
    hl_labels_free(&t);
}
