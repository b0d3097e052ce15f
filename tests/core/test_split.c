/* tests/core/test_split.c — hashing protocols: exact counts, disjointness, determinism, errors, hashes, manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/split.h"
#include "test_common.h"

/* Label-only dataset (no pixels): single-label from ids, or multi-label when ids == NULL (rows set by the caller). */
static void ds_make(hl_dataset *d, int64_t n, int C, const int64_t *ids) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "synthetic-labels");
    snprintf(d->source, sizeof d->source, "test \"generated\"");
    d->n = n;
    d->c = d->h = d->w = 1;
    if (ids) {
        d->class_id = malloc((size_t)(n ? n : 1) * sizeof *d->class_id);
        memcpy(d->class_id, ids, (size_t)n * sizeof *ids);
        cr_assert_eq(hl_labels_from_class_ids(&d->labels, ids, n, C), HL_OK, "%s", hl_error_last());
    } else {
        cr_assert_eq(hl_labels_create(&d->labels, n, C), HL_OK);
    }
}

static void ds_free(hl_dataset *d) {
    free(d->class_id);
    free(d->pixels);
    hl_labels_free(&d->labels);
    memset(d, 0, sizeof *d);
}

/* n samples, class of sample i = (i * 7 + i / 13) % C (mixed order, equal-ish class sizes). */
static void ds_classes(hl_dataset *d, int64_t n, int C) {
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    for (int64_t i = 0; i < n; i++) ids[i] = (i * 7 + i / 13) % C;
    ds_make(d, n, C, ids);
    free(ids);
}

static int64_t count_class(const hl_dataset *d, const hl_index_list *l, int64_t k) {
    int64_t c = 0;
    for (int64_t j = 0; j < l->n; j++) c += d->class_id[l->idx[j]] == k;
    return c;
}

/* Independent of hl_split_check: sorted, in range, relations as the protocol says, unlabelled = database \ train. */
static void verify_split(const hl_split *s, const hl_dataset *d) {
    uint8_t *m = calloc((size_t)d->n, 1);
    const hl_index_list *ls[4] = {&s->query, &s->train, &s->database, &s->unlabelled};
    for (int l = 0; l < 4; l++)
        for (int64_t j = 0; j < ls[l]->n; j++) {
            int64_t i = ls[l]->idx[j];
            cr_assert(i >= 0 && i < d->n);
            if (j) cr_assert(ls[l]->idx[j - 1] < i, "list %d not strictly ascending at %lld", l, (long long)j);
            m[i] |= (uint8_t)(1u << l);
        }
    for (int64_t i = 0; i < d->n; i++) {
        bool q = m[i] & 1, t = m[i] & 2, db = m[i] & 4, u = m[i] & 8;
        cr_assert(!(q && (t || db)), "sample %lld is a query and train/database", (long long)i);
        cr_assert(q || t || db, "sample %lld is in no list", (long long)i);
        cr_assert_eq(u, db && !t, "unlabelled != database \\ train at %lld", (long long)i);
        if (s->train_rel == HL_SPLIT_TRAIN_DISJOINT) cr_assert(!(t && db));
        if (s->train_rel == HL_SPLIT_TRAIN_IN_DB) cr_assert(!t || db);
        if (s->train_rel == HL_SPLIT_TRAIN_IS_DB) cr_assert_eq(t, db);
    }
    free(m);
}

static void expect_counts(const hl_dataset *d, const char *proto, int64_t q, int64_t t, int64_t db, int64_t u) {
    hl_split s;
    cr_assert_eq(hl_split_make(&s, d, proto, 5), HL_OK, "%s: %s", proto, hl_error_last());
    cr_assert(s.query.n == q && s.train.n == t && s.database.n == db && s.unlabelled.n == u,
              "%s: %lld/%lld/%lld/%lld, want %lld/%lld/%lld/%lld", proto, (long long)s.query.n, (long long)s.train.n,
              (long long)s.database.n, (long long)s.unlabelled.n, (long long)q, (long long)t, (long long)db,
              (long long)u);
    verify_split(&s, d);
    cr_assert_eq(s.query_without_labels, 0);
    hl_split_free(&s);
}

Test(split, fashion_sized_counts) {
    hl_dataset d;
    ds_classes(&d, 70000, 10); /* 7,000 per class */
    expect_counts(&d, "cifar10", 1000, 5000, 64000, 64000);
    expect_counts(&d, "cifar10-1", 1000, 5000, 69000, 64000);
    expect_counts(&d, "cifar10-2", 10000, 60000, 60000, 0);
    expect_counts(&d, "random:2100/10500", 2100, 10500, 67900, 57400);
    /* Per class: 100 query / 500 train; cifar10-2: 1,000 query. */
    hl_split s;
    cr_assert_eq(hl_split_make(&s, &d, "cifar10", 0), HL_OK);
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(count_class(&d, &s.query, k), 100);
        cr_assert_eq(count_class(&d, &s.train, k), 500);
        int64_t nk = 0;
        for (int64_t i = 0; i < d.n; i++) nk += d.class_id[i] == k;
        cr_assert_eq(count_class(&d, &s.database, k), nk - 600);
    }
    hl_split_free(&s);
    cr_assert_eq(hl_split_make(&s, &d, "cifar10-2", 0), HL_OK);
    for (int k = 0; k < 10; k++) cr_assert_eq(count_class(&d, &s.query, k), 1000);
    hl_split_free(&s);
    ds_free(&d);
}

Test(split, cifar_sized_counts) {
    hl_dataset d;
    ds_classes(&d, 60000, 10); /* 6,000 per class: DeepHash-pytorch's numbers */
    expect_counts(&d, "cifar10", 1000, 5000, 54000, 54000);
    expect_counts(&d, "cifar10-1", 1000, 5000, 59000, 54000);
    expect_counts(&d, "cifar10-2", 10000, 50000, 50000, 0);
    ds_free(&d);
}

Test(split, small_uneven_classes) {
    /* Classes 0, 1, 2 with 20, 15, 10 samples, interleaved. Q = 7 over 3 classes: 3, 2, 2; T = 8: 3, 3, 2. */
    int64_t ids[45], n0 = 0, n1 = 0, n2 = 0;
    for (int i = 0; i < 45; i++) {
        int k = i % 3;
        if (k == 2 && n2 == 10) k = 0;
        if (k == 1 && n1 == 15) k = 0;
        ids[i] = k;
        n0 += k == 0, n1 += k == 1, n2 += k == 2;
    }
    cr_assert(n0 == 20 && n1 == 15 && n2 == 10);
    hl_dataset d;
    ds_make(&d, 45, 3, ids);
    expect_counts(&d, "cifar10:7/8", 7, 8, 30, 30);
    expect_counts(&d, "cifar10-1:7/8", 7, 8, 38, 30);
    expect_counts(&d, "cifar10-2:7", 7, 38, 38, 0);
    hl_split s;
    cr_assert_eq(hl_split_make(&s, &d, "cifar10:7/8", 3), HL_OK);
    cr_assert_str_eq(s.protocol, "cifar10:7/8");
    int64_t wq[3] = {3, 2, 2}, wt[3] = {3, 3, 2}, wd[3] = {14, 10, 6};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(count_class(&d, &s.query, k), wq[k], "class %d", k);
        cr_assert_eq(count_class(&d, &s.train, k), wt[k], "class %d", k);
        cr_assert_eq(count_class(&d, &s.database, k), wd[k], "class %d", k);
    }
    hl_split_free(&s);
    /* Exactly enough: class 2 has 10 = 4 + 6 (Q = 12 → 4 each, T = 18 → 6 each). */
    expect_counts(&d, "cifar10:12/18", 12, 18, 15, 15);
    ds_free(&d);
}

Test(split, deterministic_and_seeded) {
    hl_dataset d;
    ds_classes(&d, 6000, 10);
    hl_split a, b, c;
    cr_assert_eq(hl_split_make(&a, &d, "cifar10:100/500", 11), HL_OK);
    cr_assert_eq(hl_split_make(&b, &d, "cifar10:100/500", 11), HL_OK);
    cr_assert_eq(hl_split_make(&c, &d, "cifar10:100/500", 12), HL_OK);
    cr_assert_eq(memcmp(a.query.idx, b.query.idx, 100 * sizeof(int64_t)), 0);
    cr_assert_eq(memcmp(a.train.idx, b.train.idx, 500 * sizeof(int64_t)), 0);
    cr_assert_neq(memcmp(a.query.idx, c.query.idx, 100 * sizeof(int64_t)), 0);
    char ha[65], hb[65], hc[65];
    hl_split_hash(&a, ha);
    hl_split_hash(&b, hb);
    hl_split_hash(&c, hc);
    cr_assert_str_eq(ha, hb);
    cr_assert_str_neq(ha, hc);
    /* The query set is a uniform draw per class: over 10 seeds each sample of class 0 (600) is picked ~10/60 times;
     * the first 10 indices of the class must not always be the ones picked (no "take the first q"). */
    int firsts = 0;
    for (int64_t j = 0; j < a.query.n; j++) firsts += a.query.idx[j] < 100;
    cr_assert_lt(firsts, 40, "queries concentrated at the start: %d of 100 below index 100", firsts);
    hl_split_free(&a);
    hl_split_free(&b);
    hl_split_free(&c);
    ds_free(&d);
}

Test(split, errors) {
    int64_t ids[45];
    for (int i = 0; i < 45; i++) ids[i] = i < 20 ? 0 : i < 35 ? 1 : 2; /* 20, 15, 10 */
    hl_dataset d;
    ds_make(&d, 45, 3, ids);
    hl_split s;
    /* Q = 30 → 10 per class, T = 12 → 4 per class: class 2 has 10 < 14. */
    cr_assert_eq(hl_split_make(&s, &d, "cifar10:30/12", 0), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "class 2 has 10 samples, needs at least 14 (10 query + 4 train)"), "%s",
              hl_error_last());
    cr_assert_eq(s.query.idx, NULL, "nothing left allocated");
    cr_assert_eq(hl_split_make(&s, &d, "cifar10", 0), HL_EINVAL); /* 1,000 + 5,000 of 45 */
    cr_assert(strstr(hl_error_last(), "needs 1000 query + 5000 train samples, dataset has 45"), "%s", hl_error_last());
    cr_assert_eq(hl_split_make(&s, &d, "random:9223372036854775807/9223372036854775807", 0), HL_EINVAL);
    const char *bad[] = {"cifar11", "cifar10-3", "random", "random:5", "random:5/x", "random:-1/2", "cifar10:1/2/3",
                         "cifar10-2:4/4", "", "CIFAR10", "cifar10:", "random:99999999999999999999/1"};
    for (size_t i = 0; i < HL_ARRAY_LEN(bad); i++) {
        cr_assert_eq(hl_split_make(&s, &d, bad[i], 0), HL_EINVAL, "'%s' accepted", bad[i]);
        cr_assert(strstr(hl_error_last(), "unknown split protocol"), "%s", hl_error_last());
        cr_assert(strstr(hl_error_last(), "known: cifar10, cifar10-1, cifar10-2"), "%s", hl_error_last());
    }
    cr_assert_eq(hl_split_make(&s, &d, "random:40/6", 0), HL_EINVAL); /* 46 > 45 */
    cr_assert(strstr(hl_error_last(), "needs 40 query + 6 train samples, dataset has 45"), "%s", hl_error_last());
    cr_assert_eq(hl_split_make(&s, &d, "random:45/0", 0), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "empty database"), "%s", hl_error_last());
    d.class_id[7] = 3; /* outside [0, 3) */
    cr_assert_eq(hl_split_make(&s, &d, "cifar10:3/3", 0), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "sample 7 has class id 3"), "%s", hl_error_last());
    ds_free(&d);
    /* Stratified protocol on a multi-label dataset. */
    ds_make(&d, 10, 4, NULL);
    cr_assert_eq(hl_split_make(&s, &d, "cifar10-1", 0), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "multi-label (use random:Q/T)"), "%s", hl_error_last());
    ds_free(&d);
}

Test(split, random_multilabel_counts_empty_queries) {
    /* 500 samples, 70 labels (two words); row i has labels {i % 70, (3i) % 70} except every 9th row: none. */
    hl_dataset d;
    ds_make(&d, 500, 70, NULL);
    for (int64_t i = 0; i < 500; i++)
        if (i % 9) {
            hl_labels_set(&d.labels, i, (int)(i % 70));
            hl_labels_set(&d.labels, i, (int)((3 * i) % 70));
        }
    hl_split s;
    cr_assert_eq(hl_split_make(&s, &d, "random:100/150", 9), HL_OK, "%s", hl_error_last());
    cr_assert(s.query.n == 100 && s.train.n == 150 && s.database.n == 400 && s.unlabelled.n == 250);
    cr_assert_eq(s.train_rel, HL_SPLIT_TRAIN_IN_DB);
    verify_split(&s, &d);
    int64_t empty = 0;
    for (int64_t j = 0; j < s.query.n; j++) empty += s.query.idx[j] % 9 == 0;
    cr_assert_gt(empty, 0);
    cr_assert_eq(s.query_without_labels, empty);
    hl_split_report r;
    cr_assert_eq(hl_split_check(&s, &d, &r), HL_OK);
    cr_assert_eq(r.query_without_labels, empty);
    cr_assert_eq(r.train_database, 150);
    hl_split_free(&s);
    ds_free(&d);
}

Test(split, check_catches_bad_lists) {
    int64_t ids[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    hl_dataset d;
    ds_make(&d, 10, 2, ids);
    hl_split s;
    int64_t q[] = {0, 1}, t[] = {2, 3}, db[] = {2, 3, 4, 5, 6, 7, 8, 9}, dup[] = {2, 3, 4, 4, 5};
    int64_t oor[] = {2, 3, 10}, qdb[] = {1, 2, 3, 4}, dbx[] = {4, 5, 6};
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IN_DB, q, 2, t, 2, db, 8), HL_OK, "%s",
                 hl_error_last());
    cr_assert_eq(s.unlabelled.n, 6);
    cr_assert_eq(s.unlabelled.idx[0], 4);
    hl_split_free(&s);
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IN_DB, q, 2, t, 2, dup, 5), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "index 4 appears twice in database"), "%s", hl_error_last());
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IN_DB, q, 2, t, 2, oor, 3), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "index 10 (position 2 of database) outside [0, 10)"), "%s", hl_error_last());
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IN_DB, q, 2, t, 2, qdb, 4), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "1 indices are both query and database (first: 1)"), "%s", hl_error_last());
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IN_DB, q, 2, q, 2, dbx, 3), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "both query and train"), "%s", hl_error_last());
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IN_DB, q, 2, t, 2, dbx, 3), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "train must lie inside the database, but index 2"), "%s", hl_error_last());
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_DISJOINT, q, 2, t, 2, db, 8), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "disjoint, but index 2 is in both (2 such"), "%s", hl_error_last());
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IS_DB, q, 2, t, 2, db, 8), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "train must equal the database"), "%s", hl_error_last());
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_DISJOINT, q, 2, t, 2, dbx, 3), HL_OK);
    cr_assert_eq(s.unlabelled.n, 3);
    /* A split checked against another dataset. */
    hl_dataset e;
    ds_make(&e, 8, 2, ids);
    cr_assert_eq(hl_split_check(&s, &e, NULL), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "made for 10 samples"), "%s", hl_error_last());
    ds_free(&e);
    hl_split_free(&s);
    hl_split_free(&s); /* zeroed: harmless */
    hl_split_free(NULL);
    ds_free(&d);
}

/* Expected values computed once with Python's hashlib from the definitions in split.h, independently of this C code:
 *   hashlib.sha256(np.asarray([0, 1, 2, 300, 70000], '<i8').tobytes()).hexdigest()
 *   split: lists q=[3, 1], t=[0], db=[0, 2, 4]:  sha256(b''.join(struct.pack('<q', v) for v in
 *          [2, 3, 1, 1, 0, 3, 0, 2, 4])).hexdigest()       (count, indices, for each list) */
#define HASH_LIST "f3da553a173c6a0248720698748ec2bee89a26c9368b12b2c7dfd6fa1d4d9b4a"
#define HASH_SPLIT "8df8ca6cbfbf1c4ceea4bd5ec096417729d1d5dd4498a0516b72fac7e7c2005f"
/* The split cifar10:6/6 (seed 2024) of 36 samples with class (i * 7 + i / 13) % 3 is query [6 15 20 21 22 30],
 * train [1 3 13 18 27 31], database = the other 24. These lists were reproduced by a Python re-implementation of
 * Philox-4x32-10 + hl_rng_below + Fisher-Yates keyed as split.h says (stream HL_SPLIT_STREAM + class) and hashed
 * with hashlib as above. The value pins the stratified selection and the hash layout on every machine. */
#define HASH_SMALL "1bdb04e41e0435f6c1a13552c721202c012053ea6e0b5cdd73a28dac9c613192"

Test(split, hashes) {
    char hex[65];
    int64_t l[] = {0, 1, 2, 300, 70000};
    cr_assert_eq(hl_split_hash_list(l, 5, hex), HL_OK);
    cr_assert_str_eq(hex, HASH_LIST);
    int64_t ids[5] = {0, 1, 0, 1, 0}, q[] = {3, 1}, t[] = {0}, db[] = {0, 2, 4};
    hl_dataset d;
    ds_make(&d, 5, 2, ids);
    hl_split s;
    cr_assert_eq(hl_split_from_lists(&s, &d, "lists", HL_SPLIT_TRAIN_IN_DB, q, 2, t, 1, db, 3), HL_OK);
    cr_assert_eq(hl_split_hash(&s, hex), HL_OK);
    cr_assert_str_eq(hex, HASH_SPLIT);
    hl_split_free(&s);
    ds_free(&d);

    ds_classes(&d, 36, 3);
    cr_assert_eq(hl_split_make(&s, &d, "cifar10:6/6", 2024), HL_OK, "%s", hl_error_last());
    char buf[1024];
    int o = 0;
    const hl_index_list *ls[3] = {&s.query, &s.train, &s.database};
    for (int k = 0; k < 3; k++) {
        o += snprintf(buf + o, sizeof buf - (size_t)o, "[");
        for (int64_t j = 0; j < ls[k]->n; j++)
            o += snprintf(buf + o, sizeof buf - (size_t)o, "%lld,", (long long)ls[k]->idx[j]);
        o += snprintf(buf + o, sizeof buf - (size_t)o, "] ");
    }
    hl_split_hash(&s, hex);
    cr_assert_str_eq(hex, HASH_SMALL, "lists %s", buf);
    hl_split_free(&s);
    ds_free(&d);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    char *s = calloc(1 << 16, 1);
    size_t n = fread(s, 1, (1 << 16) - 1, f);
    s[n] = 0;
    fclose(f);
    return s;
}

Test(split, manifest) {
    hl_dataset d;
    ds_classes(&d, 3000, 3);
    char *names[3] = {"cat", "dog", "q\"uote"};
    d.class_names = names;
    hl_split s;
    cr_assert_eq(hl_split_make(&s, &d, "cifar10-1:30/60", 77), HL_OK);
    d.labels.bits[s.query.idx[0]] = 0; /* now one query has no label */
    char path[512], hq[65], hs[65];
    char *dir = (char *)hl_test_tmpdir();
    snprintf(path, sizeof path, "%s/split.json", dir);
    cr_assert_eq(hl_split_write_manifest(&s, &d, path), HL_OK, "%s", hl_error_last());
    char *m = slurp(path);
    hl_split_hash_list(s.query.idx, s.query.n, hq);
    hl_split_hash(&s, hs);
    char want[256];
    cr_assert(strstr(m, "\"protocol\": \"cifar10-1:30/60\""), "%s", m);
    cr_assert(strstr(m, "\"seed\": 77"));
    cr_assert(strstr(m, "\"train_relation\": \"subset\""));
    cr_assert(strstr(m, "\"source\": \"test \\\"generated\\\"\", \"n\": 3000, \"labels\": 3, \"single_label\": true"),
              "%s", m);
    cr_assert(strstr(m, "\"class_names\": [\"cat\", \"dog\", \"q\\\"uote\"]"), "%s", m);
    cr_assert(strstr(m, "\"counts\": {\"query\": 30, \"train\": 60, \"database\": 2970, \"unlabelled\": 2910}"), "%s",
              m);
    cr_assert(strstr(m, "\"train\": [20, 20, 20]"), "%s", m);
    cr_assert(strstr(m, "\"query_without_labels\": 1}"), "%s", m);
    snprintf(want, sizeof want, "\"sha256\": {\"query\": \"%s\"", hq);
    cr_assert(strstr(m, want), "%s", m);
    snprintf(want, sizeof want, "\"split\": \"%s\"}", hs);
    cr_assert(strstr(m, want), "%s", m);
    int64_t q0 = d.class_id[s.query.idx[0]], qc[3] = {10, 10, 10};
    qc[q0]--;
    snprintf(want, sizeof want, "\"query\": [%lld, %lld, %lld]", (long long)qc[0], (long long)qc[1], (long long)qc[2]);
    cr_assert(strstr(m, want), "want %s in %s", want, m);
    free(m);
    /* A bad split is not written. */
    s.train.idx[0] = s.query.idx[1];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    cr_assert_eq(hl_split_write_manifest(&s, &d, path), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "not writing the manifest"), "%s", hl_error_last());
    cr_assert_null(fopen(path, "rb"));

    hl_split_free(&s);
    d.class_names = NULL;
    ds_free(&d);
}
