/* tests/lab/test_image_list_suite.c — suites on image lists in DeepHash-pytorch's layout (lab/suite_data.h): a
 * multi-label set of 96 PNG and JPEG images with 4 overlapping labels, written here, run end to end through the
 * CLI's entry (DPSH, untargeted PGD, targeted PGD, ProS-GAN, the report); its stored codes re-scored by hand with
 * set relevance (mAP, t-mAP); the second run decodes nothing; the list content is in the keys. Then the multi-label
 * metrics on a hand-made case, and every refusal of a bad dataset entry at its file:line:col. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/lists.h"
#include "core/io/image.h"
#include "eval/attack_metrics.h"
#include "eval/codes_io.h"
#include "eval/targets.h"
#include "test_run.h"

enum { NIMG = 96, NQ = 16, S = 24, L = 4 };
static const int SETS[8] = {0x1, 0x2, 0x4, 0x8, 0x3, 0x6, 0xC, 0x9}; /* {0} {1} {2} {3} {0,1} {1,2} {2,3} {0,3} */
static int set_of(int i) { return SETS[(i * 5 + i / 8) % 8]; }

/* Image i: dark noise, and for each label k of its set a coloured 8×8 patch in quadrant k. */
static void write_image(const char *dir, int i) {
    static const uint8_t col[L][3] = {{230, 40, 40}, {40, 220, 60}, {50, 60, 230}, {230, 220, 40}};
    uint8_t px[S * S * 3];
    uint32_t h = 2166136261u ^ (uint32_t)i;
    for (int p = 0; p < S * S * 3; p++) {
        h = h * 16777619u ^ (uint32_t)p;
        px[p] = (uint8_t)(20 + (h >> 24) % 50);
    }
    for (int k = 0; k < L; k++) {
        if (!((set_of(i) >> k) & 1)) continue;
        int y0 = (k / 2) * 12 + 2, x0 = (k % 2) * 12 + 2;
        for (int y = y0; y < y0 + 8; y++)
            for (int x = x0; x < x0 + 8; x++)
                for (int c = 0; c < 3; c++) px[(y * S + x) * 3 + c] = col[k][c];
    }
    char name[64];
    snprintf(name, sizeof name, "images/%03d.%s", i, i % 2 ? "jpg" : "png");
    const char *p = hl_test_path(dir, name);
    if (i % 2) cr_assert_eq(hl_image_write_jpeg(p, px, S, S, 3, 92), HL_OK, "%s", hl_error_last());
    else cr_assert_eq(hl_image_write_png(p, px, S, S, 3), HL_OK, "%s", hl_error_last());
}

static void list_line(FILE *f, int i) {
    fprintf(f, "images/%03d.%s", i, i % 2 ? "jpg" : "png");
    for (int k = 0; k < L; k++) fprintf(f, " %d", (set_of(i) >> k) & 1);
    fputc('\n', f);
}

/* DIR/toy4/{train,test,database}.txt + DIR/toy4/images: queries 0..15, database 16..95, train = the even ones of the
 * database (train ⊂ database, as DeepHash-pytorch's lists). */
static const char *make_set(void) {
    const char *d = tmp_dir("toy4");
    mkdir(d, 0755);
    mkdir(hl_test_path(d, "images"), 0755);
    for (int i = 0; i < NIMG; i++) write_image(d, i);
    FILE *q = fopen(hl_test_path(d, "test.txt"), "w"), *db = fopen(hl_test_path(d, "database.txt"), "w"),
         *tr = fopen(hl_test_path(d, "train.txt"), "w");
    for (int i = 0; i < NIMG; i++) {
        list_line(i < NQ ? q : db, i);
        if (i >= NQ && i % 2 == 0) list_line(tr, i);
    }
    fclose(q), fclose(db), fclose(tr);
    setenv("HASHLAB_CACHE_DIR", tmp_dir("cache"), 1);
    return d;
}

static bool relevant(int a, int b) { return (a & b) != 0; }

/* AP@all by hand: database item j ranked by (Hamming distance, j); zero-relevant queries count 0. */
static double ap_by_hand(const hl_codes *q, int64_t i, int qset, const hl_codes *db, const int *dbset, bool first_only) {
    int64_t n = db->n, order[NIMG];
    int dist[NIMG];
    for (int64_t j = 0; j < n; j++) {
        dist[j] = 0;
        for (int k = 0; k < q->bits; k++) dist[j] += hl_codes_bit(q, i, k) != hl_codes_bit(db, j, k);
        order[j] = j;
    }
    for (int64_t a = 1; a < n; a++) /* insertion sort: stable */
        for (int64_t b = a; b > 0 && dist[order[b - 1]] > dist[order[b]]; b--) {
            int64_t t = order[b];
            order[b] = order[b - 1], order[b - 1] = t;
        }
    int lowest = qset & -qset;
    double sum = 0;
    int hits = 0;
    for (int64_t r = 0; r < n; r++)
        if (first_only ? relevant(lowest, dbset[order[r]]) : relevant(qset, dbset[order[r]]))
            sum += (double)++hits / (double)(r + 1);
    return hits ? sum / hits : 0;
}

static hl_config *result(const char *rd, const hl_cell *c) {
    hl_config *t = result_of(rd, c->key);
    const hl_config *e = hl_config_get(t, "error");
    cr_assert_str_eq(hl_config_get(t, "status")->text, "done", "%s: %s", c->label, e ? e->text : "");
    return t;
}

static double metric(const hl_config *t, const char *name) {
    double v = NAN;
    cr_assert_eq(hl_config_get_double(hl_config_get(t, "metrics"), name, &v), HL_OK, "no %s", name);
    return v;
}

static void codes(const char *rd, const hl_cell *c, const char *file, hl_codes *out) {
    char p[1300];
    snprintf(p, sizeof p, "%s/cells/%s/%s", rd, c->key, file);
    cr_assert_eq(hl_codes_npy_read(p, 0, out), HL_OK, "%s", hl_error_last());
}

static char *suite_text(const char *d, const char *out) {
    static char s[4096];
    snprintf(s, sizeof s,
             "name: toy_lists\n"
             "dataset: {image_list: %s, image_size: 24}\n"
             "seeds: [0]\n"
             "threads: 1\n"
             "attack_queries: 8\n"
             "metrics: {topk: all}\n"
             "hashers:\n"
             "  - method: dpsh\n"
             "    bits: [16]\n"
             "    params: {epochs: 6, batch: 8, lr_schedule: constant}\n"
             "attacks:\n"
             "  - method: pgd\n"
             "    eps: 16/255\n"
             "    steps: 10\n"
             "    step_size: 4/255\n"
             "  - method: pgd\n"
             "    name: dhta\n"
             "    targeted: true\n"
             "    eps: 32/255\n"
             "    steps: 20\n"
             "  - method: prosgan\n"
             "    targeted: true\n"
             "    norm: none\n"
             "    params: {proto_steps: 30, gan_epochs: 1, batch: 8, width: 8, d_width: 8, res_blocks: 0, feat: 16,\n"
             "             proto_hidden: 32, grid: 0}\n"
             "report: {formats: [md, csv]}\n"
             "output: %s\n",
             d, out);
    return s;
}

Test(image_list_suite, runs_end_to_end_with_set_relevance_and_a_reused_cache, .timeout = 300) {
    const char *d = make_set(), *rd = tmp_dir("run");
    char *path = write_suite(suite_text(d, rd));
    hl_run_summary sum;
    int64_t dec0 = hl_image_list_decoded();
    cr_assert_eq(run(path, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_image_list_decoded() - dec0, NIMG, "each image decoded once (train ⊂ database stored once)");
    cr_assert_eq(sum.cells, 1 + 3);
    cr_assert_eq(sum.failed, 0);

    /* the lists' split */
    hl_config *man = NULL;
    cr_assert_eq(hl_store_read_json(hl_test_path(rd, "split/manifest.json"), &man), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(hl_config_get(man, "protocol")->text, "lists");
    cr_assert_str_eq(hl_config_get(man, "train_relation")->text, "subset");
    int64_t v[3];
    cr_assert(hl_config_get_int(man, "counts.query", &v[0]) == HL_OK && hl_config_get_int(man, "counts.train", &v[1]) ==
              HL_OK && hl_config_get_int(man, "counts.database", &v[2]) == HL_OK);
    cr_assert(v[0] == NQ && v[1] == 40 && v[2] == NIMG - NQ, "%lld/%lld/%lld", (long long)v[0], (long long)v[1],
              (long long)v[2]);
    cr_assert_str_eq(hl_config_path(man, "dataset.name")->text, "toy4");
    hl_config_free(man);

    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    const hl_cell *tc = cell_by_label(cells, n, "dpsh/16b/seed0");
    int dbset[NIMG];
    for (int j = 0; j < NIMG - NQ; j++) dbset[j] = set_of(NQ + j);

    /* clean mAP@all: the stored codes scored by hand with set relevance */
    hl_config *t = result(rd, tc);
    cr_assert_str_eq(hl_config_get(t, "dataset")->text, "toy4");
    hl_codes q, db, adv;
    codes(rd, tc, "query_codes.npy", &q);
    codes(rd, tc, "db_codes.npy", &db);
    double sum_set = 0, sum_first = 0;
    for (int i = 0; i < NQ; i++) {
        sum_set += ap_by_hand(&q, i, set_of(i), &db, dbset, false);
        sum_first += ap_by_hand(&q, i, set_of(i), &db, dbset, true);
    }
    double got = metric(t, "mAP@all");
    fprintf(stderr, "image lists: clean mAP@all %.4f (by hand %.4f; first label only %.4f)\n", got, sum_set / NQ,
            sum_first / NQ);
    cr_assert(fabs(got - sum_set / NQ) < 1e-9, "mAP@all %.12f, by hand %.12f", got, sum_set / NQ);
    cr_assert(fabs(got - sum_first / NQ) > 1e-6, "the case must tell set relevance from single-label relevance");
    cr_assert(got > 0.6, "DPSH learns the patches: mAP@all %.3f", got);
    hl_config_free(t);

    /* targeted PGD: t-mAP@all of the stored adversarial codes against the shared target label sets, by hand */
    hl_labels tl;
    cr_assert_eq(hl_labels_npy_read(hl_test_path(rd, "artifacts/target_labels.npy"), 0, &tl), HL_OK);
    cr_assert(tl.n == 8 && tl.nlabels == L);
    int tset[8];
    for (int i = 0; i < 8; i++) {
        tset[i] = 0;
        for (int k = 0; k < L; k++) tset[i] |= hl_labels_has(&tl, i, k) << k;
        bool in_db = false;
        for (int j = 0; j < NIMG - NQ; j++) in_db |= dbset[j] == tset[i];
        cr_assert(in_db && tset[i] != set_of(i), "target %d: a database label set other than the query's own", i);
    }
    const hl_cell *dc = cell_by_label(cells, n, "dpsh/16b/seed0/dhta:linf:32/255");
    t = result(rd, dc);
    codes(rd, dc, "adv_codes.npy", &adv);
    double tsum = 0;
    for (int i = 0; i < 8; i++) tsum += ap_by_hand(&adv, i, tset[i], &db, dbset, false);
    double tmap = metric(t, "t-mAP@all"), floor_ = metric(t, "t-mAP@all(clean)");
    fprintf(stderr, "image lists: DHTA t-mAP@all %.4f (by hand %.4f, clean floor %.4f)\n", tmap, tsum / 8, floor_);
    cr_assert(fabs(tmap - tsum / 8) < 1e-9, "t-mAP@all %.12f, by hand %.12f", tmap, tsum / 8);
    cr_assert(tmap > floor_ + 0.1, "the targeted attack moves the codes towards the targets");
    hl_config_free(t);
    hl_codes_free(&adv);

    /* untargeted PGD lowers mAP; ProS-GAN (multi-hot label input) runs */
    t = result(rd, cell_by_label(cells, n, "dpsh/16b/seed0/pgd:linf:16/255"));
    fprintf(stderr, "image lists: PGD mAP@all %.4f -> %.4f\n", metric(t, "mAP@all(clean)"), metric(t, "mAP@all"));
    cr_assert(metric(t, "mAP@all") < metric(t, "mAP@all(clean)") - 0.01, "PGD lowers mAP");
    hl_config_free(t);
    t = result(rd, cell_by_label(cells, n, "dpsh/16b/seed0/prosgan:none"));
    cr_assert(isfinite(metric(t, "t-mAP@all")));
    hl_config_free(t);
    size_t len = 0;
    unsigned char *md = hl_test_read_file(hl_test_path(rd, "report/tables.md"), &len);
    cr_assert(strstr((char *)md, "toy4") && strstr((char *)md, "dhta"), "the report names the dataset");
    free(md);

    /* run again: everything done, nothing decoded (the cache is mapped) */
    dec0 = hl_image_list_decoded();
    cr_assert_eq(run(path, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.ran, 0);
    cr_assert_eq(hl_image_list_decoded(), dec0, "the second load decodes nothing");

    /* the lists' content is in the keys: relabelling one training image (in train.txt and database.txt) makes a new
     * model cell, with the same split */
    hl_suite *s = NULL;
    hl_cell *k1 = NULL, *k2 = NULL;
    int64_t n1 = 0, n2 = 0;
    cr_assert_eq(hl_suite_load(&s, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, "split", &k1, &n1), HL_OK);
    hl_suite_free(s);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "sed -i 's|^\\(images/016.png\\) [01]|\\1 1|' '%s/train.txt' '%s/database.txt'", d, d);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(hl_suite_load(&s, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_suite_expand(s, "split", &k2, &n2), HL_OK);
    cr_assert_eq(n1, n2);
    cr_assert_str_neq(k1[0].key, k2[0].key, "a changed list makes a new key");
    hl_suite_free(s);
    free(k1), free(k2);
    hl_codes_free(&q), hl_codes_free(&db);
    hl_labels_free(&tl);
    free(cells);
    free(path);
}

/* ---- multi-label metrics on a hand-made case ---------------------------------------------------------------------
 * K = 4 bits, L = 3 labels. Database (position: code, labels): d0 0001 {2}, d1 0000 {1}, d2 0011 {0,2}, d3 0111 {2},
 * d4 0001 {0}. Relevant = sharing a label; ranks by (Hamming distance, position).
 *   q0 0000 {0,1}: d1 (0) d0 (1) d4 (1) d2 (2) d3 (3) -> relevant 1 0 1 1 0: AP = (1/1 + 2/3 + 3/4) / 3 = 29/36
 *   q1 1111 {2}:   d3 (1) d2 (2) d0 (3) d4 (3) d1 (4) -> relevant 1 1 1 0 0: AP = 1
 *   mAP@all = 65/72. With q0 reduced to its first label {0}: d4 and d2 only, AP = (1/3 + 2/4) / 2 = 5/12.
 * Targeted: adversarial a0 = 0001 aimed at {2}, a1 = 0000 aimed at {0,1}:
 *   a0: d0 (0) d4 (0) d1 (1) d2 (1) d3 (2) -> relevant to {2}: 1 0 0 1 1: AP = (1 + 2/4 + 3/5) / 3 = 0.7
 *   a1: as q0 -> 29/36;  t-mAP@all = (0.7 + 29/36) / 2 = 271/360
 *   TSR@3-majority: a0's top 3 hold 1 item carrying {2}: no; a1's top 3 hold 2 of 3 sharing {0,1}: yes -> 1/2. */
static void codes_of(hl_codes *c, const char *const *bits, int n) {
    cr_assert_eq(hl_codes_create(c, n, 4), HL_OK);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) hl_codes_set_bit(c, i, k, bits[i][k] == '1');
}

static void labels_of(hl_labels *l, const int *sets, int n) {
    cr_assert_eq(hl_labels_create(l, n, 3), HL_OK);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            if ((sets[i] >> k) & 1) hl_labels_set(l, i, k);
}

Test(image_list_metrics, set_relevance_hand_case) {
    hl_codes db, q, adv;
    hl_labels dbl, ql, q_first, tl;
    codes_of(&db, (const char *const[]){"0001", "0000", "0011", "0111", "0001"}, 5);
    codes_of(&q, (const char *const[]){"0000", "1111"}, 2);
    codes_of(&adv, (const char *const[]){"0001", "0000"}, 2);
    labels_of(&dbl, (const int[]){4, 2, 5, 4, 1}, 5);
    labels_of(&ql, (const int[]){3, 4}, 2);
    labels_of(&q_first, (const int[]){1, 4}, 2);
    labels_of(&tl, (const int[]){4, 3}, 2);
    hl_retrieval_opts o;
    hl_retrieval_defaults(&o);
    o.topk = 0;
    o.ties = HL_TIES_INDEX;
    hl_retrieval_result r;
    double ap[2];
    cr_assert_eq(hl_retrieval_eval(&q, &ql, &db, &dbl, &o, &r, ap), HL_OK, "%s", hl_error_last());
    cr_assert(fabs(ap[0] - 29.0 / 36) < 1e-12 && fabs(ap[1] - 1) < 1e-12, "AP %.12f %.12f", ap[0], ap[1]);
    cr_assert(fabs(r.map - 65.0 / 72) < 1e-12, "mAP %.12f", r.map);
    cr_assert_eq(hl_retrieval_eval(&q, &q_first, &db, &dbl, &o, &r, ap), HL_OK);
    cr_assert(fabs(ap[0] - 5.0 / 12) < 1e-12, "first label only: AP %.12f", ap[0]);
    cr_assert_eq(hl_attack_tmap(&adv, &tl, &db, &dbl, &o, &r), HL_OK, "%s", hl_error_last());
    cr_assert(fabs(r.map - 271.0 / 360) < 1e-12, "t-mAP %.12f", r.map);
    double tsr = -1;
    cr_assert_eq(hl_attack_tsr_majority(&adv, &tl, &db, &dbl, 3, &tsr), HL_OK);
    cr_assert(fabs(tsr - 0.5) < 1e-12, "TSR@3-majority %.12f", tsr);
    /* targets of multi-label queries: another database label set; anchors carry exactly it, then share a label */
    hl_labels t;
    cr_assert_eq(hl_targets_draw(&t, &ql, &dbl, 3), HL_OK);
    for (int i = 0; i < 2; i++) {
        int ts = 0;
        for (int k = 0; k < 3; k++) ts |= hl_labels_has(&t, i, k) << k;
        cr_assert(ts == 4 || ts == 2 || ts == 5 || ts == 1, "target %d is a database set", ts);
        cr_assert(ts != (i == 0 ? 3 : 4), "target of query %d is its own set", i);
    }
    int64_t anchors[4], shortc = 0;
    hl_labels t5;
    labels_of(&t5, (const int[]){5}, 1); /* {0,2}: d2 carries it; d0, d3, d4 share a label */
    cr_assert_eq(hl_targets_anchors(anchors, &shortc, &t5, &dbl, 4, 1), HL_OK);
    cr_assert_eq(anchors[0], 2, "the item with exactly the target set comes first");
    for (int a = 1; a < 4; a++) cr_assert(anchors[a] == 0 || anchors[a] == 3 || anchors[a] == 4, "%lld", (long long)anchors[a]);
    cr_assert_eq(shortc, 0);
    hl_labels_free(&t5), hl_labels_free(&t);
    hl_codes_free(&db), hl_codes_free(&q), hl_codes_free(&adv);
    hl_labels_free(&dbl), hl_labels_free(&ql), hl_labels_free(&q_first), hl_labels_free(&tl);
}

/* ---- refusals ------------------------------------------------------------------------------------------------- */

static const char *suite_error(const char *dataset, const char *extra) {
    char text[2048];
    snprintf(text, sizeof text, "name: bad\ndataset: %s\n%shashers:\n  - method: lsh\n    bits: [8]\n", dataset, extra);
    char *p = write_suite(text);
    hl_suite *s = NULL;
    hl_status st = hl_suite_load(&s, p);
    hl_suite_free(s);
    free(p);
    cr_assert_eq(st, HL_EINVAL, "%s: loaded", dataset);
    static char msg[8192];
    snprintf(msg, sizeof msg, "%s", hl_error_last());
    hl_error_clear();
    return msg;
}

#define HAS(m, s) cr_assert(strstr((m), (s)), "expected '%s' in: %s", (s), (m))

Test(image_list_suite_check, bad_entries_are_refused_at_their_position) {
    const char *d = tmp_dir("lists");
    mkdir(d, 0755);
    char ds[1400];
    const char *m;
    snprintf(ds, sizeof ds, "{image_list: %s/nowhere}", d);
    m = suite_error(ds, "");
    HAS(m, "s.yaml:2:23: dataset.image_list:");
    HAS(m, "no such folder");
    HAS(m, "train.txt, test.txt and database.txt");
    hl_test_write_file(hl_test_path(d, "train.txt"), "a.png 1 0\n", 10);
    snprintf(ds, sizeof ds, "{image_list: %s}", d);
    m = suite_error(ds, "");
    HAS(m, "s.yaml:2:23: dataset.image_list:");
    HAS(m, "no test.txt, database.txt");
    hl_test_write_file(hl_test_path(d, "test.txt"), "b.png 0 1\n", 10);
    hl_test_write_file(hl_test_path(d, "database.txt"), "a.png 1 0\n", 10);
    snprintf(ds, sizeof ds, "{image_list: %s, imagesize: 64}", d);
    m = suite_error(ds, "");
    HAS(m, "unknown key 'imagesize'");
    HAS(m, "did you mean 'image_size'");
    snprintf(ds, sizeof ds, "{image_list: %s, channels: 2, root: %s/missing}", d, d);
    m = suite_error(ds, "");
    HAS(m, "dataset.channels: 2");
    HAS(m, "dataset.root:");
    HAS(m, "missing: no such folder");
    snprintf(ds, sizeof ds, "{image_list: %s}", d);
    m = suite_error(ds, "protocol: cifar10-1\n");
    HAS(m, "s.yaml:3:11: protocol: cifar10-1 is stratified by class");
    HAS(m, "use lists");
    m = suite_error(ds, "protocol: list\n");
    HAS(m, "protocol: unknown 'list': image lists take lists");
    m = suite_error("cifar10", "protocol: lists\n");
    HAS(m, "s.yaml:3:11: protocol: lists takes the split from an image list");
    HAS(m, "dataset 'cifar10' has none");
    m = suite_error("nuswide", "");
    HAS(m, "nus-wide");
    /* valid: the name defaults to the folder, the protocol to lists; random:Q/T is accepted */
    char text[2048];
    snprintf(text, sizeof text, "name: ok\ndataset: {image_list: %s}\nhashers:\n  - method: lsh\n    bits: [8]\n", d);
    char *p = write_suite(text);
    hl_suite *s = NULL;
    cr_assert_eq(hl_suite_load(&s, p), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(s->dataset, "lists");
    cr_assert_str_eq(s->protocol, "lists");
    cr_assert(s->lists.on && s->lists.image_size == 224 && s->lists.channels == 3 && strlen(s->lists.sha256) == 64);
    hl_suite_free(s);
    free(p);
    snprintf(text, sizeof text, "name: ok\ndataset: {image_list: %s, name: mine}\nprotocol: random:1/1\n"
             "hashers:\n  - method: lsh\n    bits: [8]\n", d);
    p = write_suite(text);
    cr_assert_eq(hl_suite_load(&s, p), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(s->dataset, "mine");
    cr_assert_str_eq(s->protocol, "random:1/1");
    hl_suite_free(s);
    free(p);
}

/* A named set that is not on this machine: the suite loads (no hash), the plan is printed without keys, and the run
 * stops before anything is written with the places looked, the layout and the source. */
Test(image_list_suite_check, a_missing_named_set_stops_the_run_with_the_places_looked) {
    const char *home = tmp_dir("home");
    mkdir(home, 0755);
    setenv("HOME", home, 1);
    setenv("HASHLAB_DATA", tmp_dir("data"), 1);
    char *p = write_suite("name: nus\ndataset: nus-wide\ndata_root: /nonexistent-root\nhashers:\n  - method: lsh\n"
                          "    bits: [8]\n");
    hl_suite *s = NULL;
    cr_assert_eq(hl_suite_load(&s, p), HL_OK, "%s", hl_error_last());
    cr_assert(s->lists.on && !s->lists.dir[0] && !s->lists.sha256[0]);
    cr_assert_str_eq(s->protocol, "lists");
    hl_suite_free(s);
    hl_run_summary sum;
    const char *rd = tmp_dir("nus_run");
    cr_assert_eq(run(p, rd, NULL, true, &sum), HL_OK, "dry run: %s", hl_error_last());
    cr_assert_eq(run(p, rd, NULL, false, &sum), HL_ENOTFOUND);
    const char *m = hl_error_last();
    HAS(m, "dataset 'nus-wide' not found");
    HAS(m, "/nonexistent-root/nuswide_21");
    HAS(m, "/.cache/hashlab/NUS-WIDE");
    HAS(m, "data/nus-wide");
    HAS(m, "database.txt");
    HAS(m, "DeepHash-pytorch");
    HAS(m, "does not download");
    cr_assert_neq(access(rd, F_OK), 0, "no run directory");
    free(p);
}

/* random:Q/T over the union of the three lists, planned (dry run: no image opened) and checked for shapes. */
Test(image_list_suite_check, random_protocol_over_the_union_plans_without_decoding) {
    const char *d = make_set(), *rd = tmp_dir("plan");
    char text[2048];
    snprintf(text, sizeof text, "name: r\ndataset: {image_list: %s, image_size: 16}\nprotocol: random:10/30\n"
             "hashers:\n  - method: lsh\n    bits: [8, 16]\n", d);
    char *p = write_suite(text);
    hl_run_summary sum;
    int64_t dec0 = hl_image_list_decoded();
    cr_assert_eq(run(p, rd, NULL, true, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.cells, 2);
    cr_assert_eq(hl_image_list_decoded(), dec0, "a dry run opens no image");
    cr_assert_eq(run(p, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.failed, 0);
    hl_config *man = NULL;
    cr_assert_eq(hl_store_read_json(hl_test_path(rd, "split/manifest.json"), &man), HL_OK);
    int64_t q = 0, n = 0;
    cr_assert(hl_config_get_int(man, "counts.query", &q) == HL_OK && hl_config_get_int(man, "dataset.n", &n) == HL_OK);
    cr_assert(q == 10 && n == NIMG, "the union of the lists: %lld images", (long long)n);
    hl_config_free(man);
    free(p);
}
