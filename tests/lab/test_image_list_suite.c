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
