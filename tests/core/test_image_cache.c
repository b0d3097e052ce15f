/* tests/core/test_image_cache.c — the decoded-image cache of image lists (core/data/dataset.h,
 * hl_dataset_load_image_list_cached) and DeepHash-pytorch's three lists as one dataset (core/data/lists.h): the cache
 * is written once and mapped afterwards (no decode: hl_image_list_decoded), invalidated by a changed image or list
 * line and not by a relabelling, rebuilt when corrupt, bypassed when unwritable; the union stores a shared image once
 * and recognises the train relation; every malformed set is refused naming the file, line and image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/data/lists.h"
#include "core/io/image.h"
#include "core/job.h"
#include "test_common.h"

/* Image i: 20 × 16 RGB, a gradient keyed by i (distinct per image); JPEG for odd i, PNG for even. */
static void write_image(const char *dir, int i, int salt) {
    uint8_t px[20 * 16 * 3];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 20; x++)
            for (int c = 0; c < 3; c++) px[(y * 20 + x) * 3 + c] = (uint8_t)(17 * i + 9 * x + 5 * y + 60 * c + salt);
    char name[64];
    snprintf(name, sizeof name, "img/%02d.%s", i, i % 2 ? "jpg" : "png");
    const char *p = hl_test_path(dir, name);
    if (i % 2) cr_assert_eq(hl_image_write_jpeg(p, px, 20, 16, 3, 95), HL_OK, "%s", hl_error_last());
    else cr_assert_eq(hl_image_write_png(p, px, 20, 16, 3), HL_OK, "%s", hl_error_last());
}

static void line(FILE *f, int i, int labels) {
    fprintf(f, "img/%02d.%s", i, i % 2 ? "jpg" : "png");
    for (int k = 0; k < 4; k++) fprintf(f, " %d", (labels >> k) & 1);
    fputc('\n', f);
}

/* dir/img/00..n-1 and dir/list.txt naming them with labels (i % 5 + 1). */
static const char *make_list(int n) {
    const char *d = hl_test_tmpdir();
    mkdir(hl_test_path(d, "img"), 0755);
    for (int i = 0; i < n; i++) write_image(d, i, 0);
    FILE *f = fopen(hl_test_path(d, "list.txt"), "w");
    for (int i = 0; i < n; i++) line(f, i, i % 5 + 1);
    fclose(f);
    return d;
}

static int64_t count_files(const char *dir) {
    char cmd[1200], out[64];
    snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p && fgets(out, sizeof out, p));
    pclose(p);
    return atoll(out);
}

static hl_dataset load(const char *d, const char *cache) {
    hl_dataset ds;
    cr_assert_eq(hl_dataset_load_image_list_cached(&ds, hl_test_path(d, "list.txt"), NULL, 12, 3, cache), HL_OK, "%s",
                 hl_error_last());
    return ds;
}

Test(image_cache, written_once_then_mapped_and_equal_to_a_plain_decode) {
    const char *d = make_list(12), *cache = hl_test_path(d, "cache");
    hl_dataset plain, a, b;
    cr_assert_eq(hl_dataset_load_image_list(&plain, hl_test_path(d, "list.txt"), NULL, 12, 3), HL_OK);
    cr_assert_null(plain.map);
    int64_t n0 = hl_image_list_decoded();
    a = load(d, cache);
    cr_assert_eq(hl_image_list_decoded() - n0, 12, "cold: every image decoded");
    cr_assert_not_null(a.map, "pixels come from the cache file's mapping");
    cr_assert_eq(count_files(cache), 1, "one cache file, no temporary left");
    b = load(d, cache);
    cr_assert_eq(hl_image_list_decoded() - n0, 12, "warm: nothing decoded");
    cr_assert_not_null(b.map);
    const size_t bytes = (size_t)12 * 3 * 12 * 12;
    cr_assert(a.n == 12 && b.n == 12 && b.c == 3 && b.h == 12 && b.w == 12);
    cr_assert(!memcmp(plain.pixels, a.pixels, bytes) && !memcmp(plain.pixels, b.pixels, bytes));
    cr_assert_eq(b.labels.nlabels, 4);
    for (int i = 0; i < 12; i++)
        for (int k = 0; k < 4; k++) cr_assert_eq(hl_labels_has(&b.labels, i, k), (((i % 5 + 1) >> k) & 1) != 0);
    b.pixels[5] ^= 0xff; /* private mapping: a write stays in this process */
    hl_dataset_free(&b);
    hl_dataset c = load(d, cache);
    cr_assert_eq(c.pixels[5], plain.pixels[5], "the file is unchanged by writes to a mapping");
    hl_dataset_free(&c);
    hl_dataset_free(&a);
    hl_dataset_free(&plain);
}

Test(image_cache, a_changed_image_or_line_decodes_again_a_relabelling_does_not) {
    const char *d = make_list(10), *cache = hl_test_path(d, "cache");
    hl_dataset a = load(d, cache);
    int64_t n0 = hl_image_list_decoded();
    /* relabel every line: same images, new labels, no decode */
    FILE *f = fopen(hl_test_path(d, "list.txt"), "w");
    for (int i = 0; i < 10; i++) line(f, i, 8);
    fclose(f);
    hl_dataset b = load(d, cache);
    cr_assert_eq(hl_image_list_decoded(), n0, "labels are not in the key");
    cr_assert(hl_labels_has(&b.labels, 0, 3) && !hl_labels_has(&b.labels, 0, 0), "the new labels are read");
    hl_dataset_free(&b);
    /* one image rewritten (new content and modification time) */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    write_image(d, 3, 40);
    b = load(d, cache);
    cr_assert_eq(hl_image_list_decoded() - n0, 10, "a changed image: the list is decoded again");
    const size_t img = (size_t)3 * 12 * 12;
    cr_assert(memcmp(a.pixels + 3 * img, b.pixels + 3 * img, img), "image 3 has its new pixels");
    cr_assert(!memcmp(a.pixels + 4 * img, b.pixels + 4 * img, img), "the others are as before");
    hl_dataset_free(&b);
    /* a line added */
    f = fopen(hl_test_path(d, "list.txt"), "a");
    line(f, 0, 1);
    fclose(f);
    n0 = hl_image_list_decoded();
    b = load(d, cache);
    cr_assert_eq(b.n, 11);
    cr_assert_eq(hl_image_list_decoded() - n0, 11, "another list: decoded");
    cr_assert_eq(count_files(cache), 3, "one file per key");
    hl_dataset_free(&b);
    hl_dataset_free(&a);
}

Test(image_cache, a_corrupt_cache_file_is_rebuilt_an_unwritable_cache_decodes_in_memory) {
    const char *d = make_list(6), *cache = hl_test_path(d, "cache");
    hl_dataset a = load(d, cache);
    hl_dataset_free(&a);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "for f in '%s'/*.u8; do truncate -s 5000 \"$f\"; done", cache);
    cr_assert_eq(system(cmd), 0);
    int64_t n0 = hl_image_list_decoded();
    a = load(d, cache);
    cr_assert_eq(hl_image_list_decoded() - n0, 6, "a truncated cache file is decoded again");
    cr_assert_not_null(a.map);
    hl_dataset_free(&a);
    /* a cache "folder" that is a file: decoded into memory */
    hl_test_write_file(hl_test_path(d, "notadir"), "x", 1);
    a = load(d, hl_test_path(d, "notadir/cache"));
    cr_assert_null(a.map);
    cr_assert_eq(a.n, 6);
    hl_dataset b;
    cr_assert_eq(hl_dataset_load_image_list(&b, hl_test_path(d, "list.txt"), NULL, 12, 3), HL_OK);
    cr_assert(!memcmp(a.pixels, b.pixels, (size_t)6 * 3 * 12 * 12));
    hl_dataset_free(&a);
    hl_dataset_free(&b);
}

Test(image_cache, missing_or_corrupt_images_name_the_list_line_and_path) {
    const char *d = make_list(8), *cache = hl_test_path(d, "cache");
    hl_dataset ds;
    unlink(hl_test_path(d, "img/05.jpg"));
    cr_assert_eq(hl_dataset_load_image_list_cached(&ds, hl_test_path(d, "list.txt"), NULL, 12, 3, cache), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "list.txt:6:") && strstr(hl_error_last(), "img/05.jpg"), "%s", hl_error_last());
    hl_test_write_file(hl_test_path(d, "img/05.jpg"), "\xff\xd8\xff\xe0 not really a jpeg", 22);
    cr_assert_eq(hl_dataset_load_image_list_cached(&ds, hl_test_path(d, "list.txt"), NULL, 12, 3, cache), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "list.txt:6:") && strstr(hl_error_last(), "img/05.jpg") &&
              strstr(hl_error_last(), "corrupt JPEG"), "%s", hl_error_last());
    cr_assert_eq(count_files(cache), 0, "nothing half-written is left in the cache");
    hl_error_clear();
}

Test(image_cache, a_stop_request_interrupts_decoding_and_keeps_nothing) {
    const char *d = make_list(4), *cache = hl_test_path(d, "cache");
    hl_dataset ds;
    hl_job_request_stop();
    cr_assert_eq(hl_dataset_load_image_list_cached(&ds, hl_test_path(d, "list.txt"), NULL, 12, 3, cache), HL_EINTR);
    cr_assert_eq(count_files(cache), 0);
    hl_job_clear_stop();
    ds = load(d, cache);
    cr_assert_eq(ds.n, 4);
    hl_dataset_free(&ds);
}

/* ---- three lists ------------------------------------------------------------------------------------------------ */

/* The lists of a set of 10 images: database 0..7 (train 0..3 inside it), test 8, 9. Labels i % 5 + 1. */
static const char *make_set(void) {
    const char *d = make_list(10);
    FILE *f = fopen(hl_test_path(d, "database.txt"), "w");
    for (int i = 0; i < 8; i++) line(f, i, i % 5 + 1);
    fclose(f);
    f = fopen(hl_test_path(d, "train.txt"), "w");
    for (int i = 3; i >= 0; i--) line(f, i, i % 5 + 1);
    fclose(f);
    f = fopen(hl_test_path(d, "test.txt"), "w");
    for (int i = 8; i < 10; i++) line(f, i, i % 5 + 1);
    fclose(f);
    return d;
}

static hl_status load_set(const char *d, hl_dataset *ds, hl_split *sp) {
    hl_lists_opts o = {.dir = d, .size = 12, .channels = 3, .cache = true, .cache_dir = hl_test_path(d, "cache")};
    return hl_dataset_load_lists(ds, sp, &o);
}

static void rewrite(const char *d, const char *file, const char *text) {
    hl_test_write_file(hl_test_path(d, file), text, strlen(text));
}

Test(lists, union_split_and_train_relation) {
    const char *d = make_set();
    hl_dataset ds;
    hl_split sp;
    cr_assert_eq(load_set(d, &ds, &sp), HL_OK, "%s", hl_error_last());
    cr_assert_eq(ds.n, 10, "the train images are stored once");
    cr_assert_not_null(ds.map);
    char base[256];
    snprintf(base, sizeof base, "%s", strrchr(d, '/') + 1);
    cr_assert_str_eq(ds.name, base, "named after the folder");
    cr_assert_str_eq(sp.protocol, "lists");
    cr_assert_eq(sp.train_rel, HL_SPLIT_TRAIN_IN_DB);
    cr_assert(sp.query.n == 2 && sp.train.n == 4 && sp.database.n == 8 && sp.unlabelled.n == 4);
    for (int j = 0; j < 8; j++) cr_assert_eq(sp.database.idx[j], j, "dataset order = database.txt's");
    cr_assert(sp.query.idx[0] == 8 && sp.query.idx[1] == 9);
    cr_assert(sp.train.idx[0] == 3 && sp.train.idx[3] == 0, "train in train.txt's order");
    /* the pixels of union index i are image i */
    hl_dataset one;
    cr_assert_eq(hl_dataset_load_image_list(&one, hl_test_path(d, "list.txt"), NULL, 12, 3), HL_OK);
    cr_assert(!memcmp(one.pixels, ds.pixels, (size_t)10 * 3 * 12 * 12));
    hl_dataset_free(&one);
    hl_split_free(&sp);
    hl_dataset_free(&ds);
    /* train = database; train disjoint from the database */
    /* labels i % 5 + 1 as bits l0 l1 l2 l3: 1 0 0 0, 0 1 0 0, 1 1 0 0, 0 0 1 0, 1 0 1 0, then again */
    rewrite(d, "train.txt", "img/00.png 1 0 0 0\nimg/01.jpg 0 1 0 0\nimg/02.png 1 1 0 0\nimg/03.jpg 0 0 1 0\n"
                            "img/04.png 1 0 1 0\nimg/05.jpg 1 0 0 0\nimg/06.png 0 1 0 0\nimg/07.jpg 1 1 0 0\n");
    cr_assert_eq(load_set(d, &ds, &sp), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sp.train_rel, HL_SPLIT_TRAIN_IS_DB);
    hl_split_free(&sp), hl_dataset_free(&ds);
    rewrite(d, "database.txt", "img/04.png 1 0 1 0\nimg/05.jpg 1 0 0 0\nimg/06.png 0 1 0 0\nimg/07.jpg 1 1 0 0\n");
    rewrite(d, "train.txt", "img/00.png 1 0 0 0\nimg/01.jpg 0 1 0 0\n");
    cr_assert_eq(load_set(d, &ds, &sp), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sp.train_rel, HL_SPLIT_TRAIN_DISJOINT);
    cr_assert_eq(ds.n, 8);
    hl_split_free(&sp), hl_dataset_free(&ds);
}

static void refused(const char *d, hl_status want, const char *a, const char *b) {
    hl_dataset ds;
    hl_split sp;
    cr_assert_eq(load_set(d, &ds, &sp), want, "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), a) && (!b || strstr(hl_error_last(), b)), "%s", hl_error_last());
    cr_assert_null(ds.pixels);
    cr_assert_null(sp.query.idx);
}

Test(lists, malformed_sets_are_refused_naming_file_line_and_image) {
    const char *d = make_set();
    rewrite(d, "train.txt", "img/00.png 1 0 0 0\nimg/00.png 1 0 0 0\n");
    refused(d, HL_EFORMAT, "train.txt:2: img/00.png is listed twice (first on line 1)", NULL);
    rewrite(d, "train.txt", "img/00.png 0 0 0 1\n");
    refused(d, HL_EFORMAT, "train.txt:1: img/00.png has other labels than on", "database.txt:1");
    rewrite(d, "train.txt", "img/09.jpg 1 0 0 0\n");
    refused(d, HL_EINVAL, "test.txt:2: img/09.jpg is a query", "train.txt:1");
    rewrite(d, "train.txt", "img/00.png 1 0 0 0\nimg/08.png 0 0 1 1\n");
    refused(d, HL_EINVAL, "test.txt:1: img/08.png is a query", NULL);
    rewrite(d, "test.txt", "img/08.png 0 0 1 1\nimg/02.png 1 1 0 0\n");
    rewrite(d, "train.txt", "img/00.png 1 0 0 0\n");
    refused(d, HL_EINVAL, "test.txt:2: img/02.png is a query (test.txt) and also listed in", "database.txt:3");
    rewrite(d, "test.txt", "img/08.png 0 0 1\n");
    refused(d, HL_EFORMAT, "3 labels per line", "must agree");
    rewrite(d, "test.txt", "img/08.png 0 0 1 1\n");
    rewrite(d, "train.txt", "img/00.png 1 0 0 0\nimg/09.jpg 1 0 0 0\n");
    refused(d, HL_EINVAL, "1 of the 2 images of train.txt are in database.txt", NULL);
    unlink(hl_test_path(d, "train.txt"));
    refused(d, HL_ENOTFOUND, "no train.txt", "train.txt, test.txt and database.txt");
    rewrite(d, "train.txt", "img/00.png 1 0 0 0\n");
    unlink(hl_test_path(d, "img/06.png"));
    refused(d, HL_ENOTFOUND, "database.txt:7: ", "img/06.png: no such image file");
}

Test(lists, content_hash_and_a_named_set_that_is_missing) {
    const char *d = make_set();
    char h1[65], h2[65];
    cr_assert_eq(hl_lists_hash(d, h1), HL_OK);
    rewrite(d, "test.txt", "img/08.png 0 0 1 1\nimg/09.jpg 1 0 0 1\n"); /* one label changed */
    cr_assert_eq(hl_lists_hash(d, h2), HL_OK);
    cr_assert_str_neq(h1, h2);
    /* nus-wide nowhere: every place looked, the layout, the source, no download */
    setenv("HASHLAB_DATA", hl_test_path(d, "data"), 1);
    setenv("HOME", hl_test_path(d, "home"), 1);
    char dir[1024];
    cr_assert_eq(hl_lists_find("nus-wide", hl_test_path(d, "root"), dir, sizeof dir), HL_ENOTFOUND);
    const char *m = hl_error_last();
    cr_assert(strstr(m, "root/nuswide_21") && strstr(m, "data/NUS-WIDE") && strstr(m, "home/.cache/hashlab/nus-wide") &&
              strstr(m, "/usr/share/datasets/nuswide_21") && strstr(m, "train.txt, test.txt and database.txt") &&
              strstr(m, "DeepHash-pytorch") && strstr(m, "does not download"), "%s", m);
    hl_dataset ds;
    cr_assert_eq(hl_dataset_open(&ds, "coco", hl_test_path(d, "root")), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "cocodataset.org"), "%s", hl_error_last());
    /* and found: HASHLAB_DATA/flickr25k holding the lists (relative image paths from there) */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/data' && ln -s '%s' '%s/data/flickr25k'", d, d, d);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(hl_lists_find("flickr25k", NULL, dir, sizeof dir), HL_OK, "%s", hl_error_last());
    cr_assert_str_eq(dir, hl_test_path(d, "data/flickr25k"));
    setenv("HASHLAB_CACHE_DIR", hl_test_path(d, "cache"), 1);
    cr_assert_eq(hl_dataset_open(&ds, "flickr25k", NULL), HL_OK, "%s", hl_error_last());
    cr_assert(ds.n == 10 && ds.h == 224 && ds.c == 3);
    cr_assert_str_eq(ds.name, "flickr25k");
    hl_dataset_free(&ds);
}
