/* tests/lab/test_run_fetch.c — `hashlab run` and a missing dataset (lab/run_data.h), without the internet: the error
 * names the exact commands (the suite's data_root, else $HASHLAB_DATA or ~/.cache/hashlab, shell-quoted), --dry-run
 * never fetches, HASHLAB_FETCH=1 and --fetch fetch from the mirror in HASHLAB_FETCH_URL_CIFAR10 +
 * HASHLAB_FETCH_MD5_CIFAR10 — a tiny HTTP server on 127.0.0.1 (tests/common/test_http.h) serving a generated
 * archive in the real CIFAR-10 binary format (60,000 rows: 184 MB unpacked, under 1 MB as tar.gz) — and the run then
 * trains on it; Fashion-MNIST and MNIST say where they come from. Every test points HOME, HASHLAB_DATA and the
 * working directory at its own temporary directory, so a CIFAR-10 elsewhere on the machine is not found (the tests
 * that need it missing skip when /usr/share/datasets has it). */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data/fetch.h"
#include "test_http.h"
#include "test_run.h"

#define TOP "cifar-10-batches-bin"
enum { ROW = 3073, ROWS = 10000 };

/* name under this test's one temporary directory (tmp_dir makes a new directory each call), in one of 8 rotating
 * buffers. */
static const char *at(const char *name) {
    static const char *base;
    if (!base) base = hl_test_tmpdir();
    return hl_test_path(base, name);
}

/* This test's own HOME, no HASHLAB_DATA, no mirror, no HASHLAB_FETCH, its temporary directory as the working
 * directory; then skips when `name` is found anyway (in /usr/share/datasets). */
static void isolate(const char *name) {
    mkdir(at("home"), 0755);
    setenv("HOME", at("home"), 1);
    unsetenv("HASHLAB_DATA");
    unsetenv("HASHLAB_FETCH");
    unsetenv("HASHLAB_FETCH_URL_CIFAR10");
    unsetenv("HASHLAB_FETCH_MD5_CIFAR10");
    cr_assert_eq(chdir(at(".")), 0);
    hl_dataset d;
    if (hl_dataset_open(&d, name, NULL) == HL_OK) {
        hl_dataset_free(&d);
        cr_skip_test("%s is on this machine", name);
    }
    hl_error_clear();
}

static char *cifar_suite(const char *data_root) {
    char text[2048];
    snprintf(text, sizeof text,
             "name: fetched\ndataset: cifar10\ndata_root: \"%s\"\nprotocol: cifar10-1:100/100\nseeds: [0]\n"
             "hashers:\n  - method: lsh\n    bits: 8\nreport: {formats: [md]}\n",
             data_root);
    return write_suite(text);
}

/* `hashlab run ARGS` with stdout and stderr into out; returns the exit status. */
static int hashlab(const char *args, char *out, size_t n) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/hashlab run %s 2>&1", HL_BUILD_DIR, args);
    int rc = run_capture(cmd, out, n);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(run_fetch, missing_data_names_the_exact_commands) {
    isolate("cifar10");
    char root[1024], rd[1024];
    snprintf(root, sizeof root, "%s", at("my data")); /* a space: the command quotes it */
    snprintf(rd, sizeof rd, "%s", at("rd"));
    char *suite = cifar_suite(root);
    hl_run_summary sum;
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_ENOTFOUND, "%s", hl_error_last());
    char want[3000];
    const char *m = hl_error_last();
    snprintf(want, sizeof want, "hashlab data fetch cifar10 --root '%s'\n", root);
    cr_assert(strstr(m, "dataset 'cifar10' not found; looked in: ") && strstr(m, want), "%s\nlacks: %s", m, want);
    snprintf(want, sizeof want, "hashlab run %s --fetch", suite);
    cr_assert(strstr(m, want) && strstr(m, "HASHLAB_FETCH=1") && strstr(m, "HASHLAB_FETCH_URL_CIFAR10") &&
                  strstr(m, "HASHLAB_FETCH_MD5_CIFAR10"),
              "%s", m);
    cr_assert_neq(access(rd, F_OK), 0, "no run directory is created");
    cr_assert_neq(access(root, F_OK), 0, "nothing is fetched");
    free(suite);

    /* no data_root: where `hashlab data fetch` puts it by default, which the run searches: $HASHLAB_DATA, else
     * ~/.cache/hashlab */
    suite = write_suite("name: nodata\ndataset: cifar100\nhashers:\n  - method: lsh\n    bits: 8\n");
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_ENOTFOUND);
    snprintf(want, sizeof want, "hashlab data fetch cifar100 --root %s/.cache/hashlab\n", getenv("HOME"));
    cr_assert(strstr(hl_error_last(), want), "%s\nlacks: %s", hl_error_last(), want);
    setenv("HASHLAB_DATA", at("shared"), 1);
    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_ENOTFOUND);
    snprintf(want, sizeof want, "hashlab data fetch cifar100 --root %s\n", at("shared"));
    cr_assert(strstr(hl_error_last(), want) && strstr(hl_error_last(), "HASHLAB_FETCH_URL_CIFAR100"), "%s\nlacks: %s",
              hl_error_last(), want);
    free(suite);
}

/* The decisions, against a server whose archive never verifies (the wanted MD5 is another one): --dry-run --fetch
 * and HASHLAB_FETCH=0 send no request; HASHLAB_FETCH=1 fetches (and fails on the MD5); a mirror needs both
 * variables. */
Test(run_fetch, when_it_fetches, .timeout = 60) {
    isolate("cifar10");
    static const unsigned char junk[] = "not an archive";
    server srv;
    server_start(&srv, junk, sizeof junk);
    char url[128], args[2048], out[16384];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/c10.tar.gz", srv.port);
    setenv("HASHLAB_FETCH_URL_CIFAR10", url, 1);
    setenv("HASHLAB_FETCH_MD5_CIFAR10", "0123456789abcdef0123456789abcdef", 1);
    char root[1024];
    snprintf(root, sizeof root, "%s", at("data"));
    char *suite = cifar_suite(root);

    snprintf(args, sizeof args, "%s --dry-run --fetch --output %s", suite, at("rd"));
    cr_assert_eq(hashlab(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "plan for fetched") && strstr(out, "hashlab data fetch cifar10 --root"), "%s", out);
    cr_assert_eq(atomic_load(&srv.requests), 0, "a dry run fetched");

    setenv("HASHLAB_FETCH", "0", 1);
    snprintf(args, sizeof args, "%s --output %s", suite, at("rd"));
    cr_assert_eq(hashlab(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "hashlab data fetch cifar10 --root"), "%s", out);
    cr_assert_eq(atomic_load(&srv.requests), 0, "HASHLAB_FETCH=0 fetched");

    setenv("HASHLAB_FETCH", "1", 1);
    cr_assert_eq(hashlab(args, out, sizeof out), 1, "%s", out);
    cr_assert_eq(atomic_load(&srv.requests), 1, "HASHLAB_FETCH=1 did not fetch:\n%s", out);
    cr_assert(strstr(out, "fetching cifar10 into") && strstr(out, "MD5 mismatch"), "%s", out);
    cr_assert_neq(access(at("rd"), F_OK), 0, "no run directory is created");

    unsetenv("HASHLAB_FETCH_MD5_CIFAR10");
    cr_assert_eq(hashlab(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "HASHLAB_FETCH_URL_CIFAR10 is set but HASHLAB_FETCH_MD5_CIFAR10 is not"), "%s", out);
    cr_assert_eq(atomic_load(&srv.requests), 1);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/hashlab data fetch cifar10 --root %s 2>&1", HL_BUILD_DIR, root);
    cr_assert_neq(run_capture(cmd, out, sizeof out), 0);
    cr_assert(strstr(out, "HASHLAB_FETCH_URL_CIFAR10 is set but HASHLAB_FETCH_MD5_CIFAR10 is not"), "%s", out);
    server_stop(&srv);
    free(suite);
}

/* The real CIFAR-10 binary layout — 5 training batches and a test batch of 10,000 rows <label><3072 pixels> — with
 * labels cycling 0..9 and every pixel of a row 25 × its label (tar.gz, fast deflate: well under 1 MB). */
static unsigned char *make_cifar10_tgz(size_t *len) {
    const char *path = at("c10.tar.gz");
    struct archive *a = archive_write_new();
    cr_assert(a);
    archive_write_add_filter_gzip(a);
    archive_write_set_filter_option(a, "gzip", "compression-level", "1");
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK, "%s", archive_error_string(a));
    static const char *const names[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    unsigned char *rows = malloc((size_t)1000 * ROW);
    cr_assert(rows);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, TOP);
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
    for (int f = 0; f < 6; f++) {
        char p[64];
        snprintf(p, sizeof p, TOP "/%s", names[f]);
        archive_entry_clear(e);
        archive_entry_set_pathname(e, p);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)ROWS * ROW);
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
        for (int r0 = 0; r0 < ROWS; r0 += 1000) {
            for (int r = 0; r < 1000; r++) {
                int label = (r0 + r + f) % 10;
                rows[(size_t)r * ROW] = (unsigned char)label;
                memset(rows + (size_t)r * ROW + 1, 25 * label, ROW - 1);
            }
            cr_assert_eq(archive_write_data(a, rows, (size_t)1000 * ROW), (la_ssize_t)1000 * ROW);
        }
    }
    archive_entry_free(e);
    free(rows);
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK, "%s", archive_error_string(a));
    archive_write_free(a);
    return hl_test_read_file(path, len);
}

Test(run_fetch, fetch_then_run, .timeout = 300) {
    isolate("cifar10");
    size_t len;
    unsigned char *tgz = make_cifar10_tgz(&len);
    cr_assert_lt(len, (size_t)4 << 20, "the archive is %zu bytes", len);
    char md5[33];
    cr_assert_eq(hl_fetch_md5_file(at("c10.tar.gz"), md5), HL_OK);
    server srv;
    server_start(&srv, tgz, len);
    char url[128], args[2048], out[32768];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/c10.tar.gz", srv.port);
    setenv("HASHLAB_FETCH_URL_CIFAR10", url, 1);
    setenv("HASHLAB_FETCH_MD5_CIFAR10", md5, 1);
    char root[1024], rd[1024];
    snprintf(root, sizeof root, "%s", at("data root"));
    snprintf(rd, sizeof rd, "%s", at("rd"));
    char *suite = cifar_suite(root);

    snprintf(args, sizeof args, "%s --output '%s' --fetch", suite, rd);
    cr_assert_eq(hashlab(args, out, sizeof out), 0, "%s", out);
    cr_assert_eq(atomic_load(&srv.requests), 1);
    cr_assert(strstr(out, "fetching it (--fetch) into") && strstr(out, "(mirror)") && strstr(out, "ready at"), "%s",
              out);
    cr_assert_eq(access(hl_test_path(root, TOP "/test_batch.bin"), R_OK), 0, "not unpacked into the data_root");
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    cr_assert_eq(n, 1);
    hl_config *r = result_of(rd, cells[0].key);
    const char *status = NULL, *dataset = NULL;
    cr_assert_eq(hl_config_get_string(r, "status", &status), HL_OK);
    cr_assert_eq(hl_config_get_string(r, "dataset", &dataset), HL_OK);
    cr_assert(!strcmp(status, "done") && !strcmp(dataset, "cifar10"), "%s on %s", status, dataset);
    hl_config_free(r);
    free(cells);

    /* the data is there now: --fetch or not, nothing is downloaded again */
    cr_assert_eq(hashlab(args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, "%s --output '%s'", suite, rd);
    cr_assert_eq(hashlab(args, out, sizeof out), 0, "%s", out);
    cr_assert_eq(atomic_load(&srv.requests), 1);
    server_stop(&srv);
    free(tgz);
    free(suite);
}

/* Datasets hashlab does not download: --fetch says where they come from. */
Test(run_fetch, debian_and_file_datasets_say_where_they_come_from) {
    isolate("mnist");
    char *suite = write_suite("name: m\ndataset: mnist\nhashers:\n  - method: lsh\n    bits: 8\n");
    hl_run_opts o;
    hl_run_opts_default(&o);
    o.suite_path = suite;
    o.output = at("rd");
    o.progress = HL_PROGRESS_QUIET;
    o.fetch = true;
    hl_run_summary sum;
    cr_assert_eq(hl_run_suite(&o, &sum), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "--fetch downloads only cifar10 cifar100; MNIST comes from files: put "
                                      "train-images-idx3-ubyte.gz"),
              "%s", hl_error_last());
    free(suite);
    hl_dataset d;
    if (hl_dataset_open(&d, "fashion-mnist", NULL) == HL_OK) { /* installed here: checked where it is not */
        hl_dataset_free(&d);
        return;
    }
    suite = write_suite("name: f\ndataset: fashion-mnist\nhashers:\n  - method: lsh\n    bits: 8\n");
    o.suite_path = suite;
    cr_assert_eq(hl_run_suite(&o, &sum), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "Fashion-MNIST comes from a Debian package: sudo apt-get install "
                                      "dataset-fashion-mnist"),
              "%s", hl_error_last());
    o.fetch = false;
    cr_assert_eq(hl_run_suite(&o, &sum), HL_ENOTFOUND);
    cr_assert(strstr(hl_error_last(), "apt-get install dataset-fashion-mnist"), "%s", hl_error_last());
    free(suite);
}
