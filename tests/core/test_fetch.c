/* tests/core/test_fetch.c — hl_fetch against a tiny HTTP/1.1 server on 127.0.0.1 (a thread in the test process)
 * serving synthetic tar.gz archives built here with libarchive: success, corrupt archive, resume, ignored Range,
 * 404, redirects, unsafe entries, size checks, no second download. */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/data/fetch.h"
#include "core/io/atomic.h"
#include "core/rng.h"
#include "test_common.h"
#include "test_http.h"

/* ---- synthetic archives ---- */

#define TOP "cifar-10-batches-bin"
#define NFILES 3
static const char *const names[NFILES] = {"data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"};
static const int64_t sizes[NFILES] = {40000, 30000, 3073};

typedef struct entry {
    const char *path;
    int type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK */
    int64_t size;     /* regular files: pseudo-random bytes keyed by the path's index */
    const char *link; /* symlinks */
} entry;

static void fill(unsigned char *p, int64_t n, uint64_t key) {
    uint32_t w[4];
    for (int64_t i = 0; i < n; i++) {
        if (i % 16 == 0) hl_philox(key, 7, (uint64_t)i / 16, w);
        p[i] = (unsigned char)(w[(i % 16) / 4] >> (8 * (i % 4)));
    }
}

/* tar.gz (pax restricted + gzip) of the entries; *len set; caller frees. */
static unsigned char *make_tgz(const entry *es, int n, size_t *len) {
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    struct archive *a = archive_write_new();
    cr_assert(buf && a);
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK, "%s", archive_error_string(a));
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, es[i].path);
        archive_entry_set_filetype(e, (unsigned)es[i].type);
        archive_entry_set_perm(e, es[i].type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, es[i].type == AE_IFREG ? es[i].size : 0);
        if (es[i].type == AE_IFLNK) archive_entry_set_symlink(e, es[i].link);
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
        if (es[i].type == AE_IFREG) {
            unsigned char *d = malloc((size_t)es[i].size + 1);
            fill(d, es[i].size, (uint64_t)i);
            cr_assert_eq(archive_write_data(a, d, (size_t)es[i].size), (la_ssize_t)es[i].size);
            free(d);
        }
        archive_entry_free(e);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK, "%s", archive_error_string(a));
    archive_write_free(a);
    return buf;
}

/* The fake CIFAR-10 folder: the directory, then names[] with sizes[] (entry index i + 1 keys file i's bytes). */
static unsigned char *make_cifar_tgz(size_t *len) {
    entry es[NFILES + 1] = {{TOP, AE_IFDIR, 0, NULL}};
    char paths[NFILES][64];
    for (int i = 0; i < NFILES; i++) {
        snprintf(paths[i], sizeof paths[i], TOP "/%s", names[i]);
        es[i + 1] = (entry){paths[i], AE_IFREG, sizes[i], NULL};
    }
    return make_tgz(es, NFILES + 1, len);
}

/* This test process's scratch directory (one per process: Criterion runs each test in its own). */
static const char *tmp_base(void) {
    static const char *base;
    if (!base) base = hl_test_tmpdir();
    return base;
}

static void md5_of(const unsigned char *p, size_t n, char out[33]) {
    char path[1024];
    snprintf(path, sizeof path, "%s/src.bin", tmp_base());
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(p, 1, n, f) == n && fclose(f) == 0);
    cr_assert_eq(hl_fetch_md5_file(path, out), HL_OK, "%s", hl_error_last());
}

/* ---- fixture ---- */

typedef struct fx {
    server srv;
    unsigned char *tgz;
    size_t len;
    char md5[33], url[128], root[1024], top[1100], arc[1100], part[1100];
    hl_fetch_opts o;
    hl_fetch_report rep;
} fx;

static void fx_init(fx *f, unsigned char *tgz, size_t len) {
    memset(f, 0, sizeof *f);
    f->tgz = tgz;
    f->len = len;
    md5_of(tgz, len, f->md5);
    server_start(&f->srv, tgz, len);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/data.tar.gz", f->srv.port);
    static int seq;
    snprintf(f->root, sizeof f->root, "%s/data%d/root", tmp_base(), seq++); /* created by hl_fetch */
    snprintf(f->top, sizeof f->top, "%s/" TOP, f->root);
    snprintf(f->arc, sizeof f->arc, "%s/c10.tar.gz", f->root);
    snprintf(f->part, sizeof f->part, "%s/c10.tar.gz.part", f->root);
    f->o = (hl_fetch_opts){.url = f->url,
                           .md5 = f->md5,
                           .root = f->root,
                           .archive = "c10.tar.gz",
                           .top = TOP,
                           .files = names,
                           .sizes = sizes,
                           .n_files = NFILES,
                           .check_sizes = true,
                           .connect_timeout_s = 2,
                           .low_speed_time_s = 3};
}

static void fx_init_cifar(fx *f) {
    size_t len;
    unsigned char *tgz = make_cifar_tgz(&len);
    fx_init(f, tgz, len);
}

static void fx_done(fx *f) {
    server_stop(&f->srv);
    free(f->tgz);
}

static bool exists(const char *p) {
    struct stat sb;
    return lstat(p, &sb) == 0;
}

static int64_t fsize(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* The unpacked files hold exactly the bytes that went into the archive. */
static void assert_unpacked(const fx *f) {
    for (int i = 0; i < NFILES; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", f->top, names[i]);
        FILE *fp = fopen(p, "rb");
        cr_assert(fp, "%s missing", p);
        unsigned char *got = malloc((size_t)sizes[i] + 1), *want = malloc((size_t)sizes[i]);
        size_t n = fread(got, 1, (size_t)sizes[i] + 1, fp);
        fclose(fp);
        cr_assert_eq((int64_t)n, sizes[i], "%s: %zu bytes", p, n);
        fill(want, sizes[i], (uint64_t)(i + 1));
        cr_assert(memcmp(got, want, n) == 0, "%s: wrong contents", p);
        free(got);
        free(want);
    }
}

/* Nothing but the lock file (and what `allow` names) is left in root: no temp dir, no .part. */
static void assert_root_holds(const fx *f, bool top, bool arc) {
    cr_assert_eq(exists(f->top), top, "%s %s", f->top, top ? "missing" : "left in place");
    cr_assert_eq(exists(f->arc), arc, "%s %s", f->arc, arc ? "missing" : "left in place");
    cr_assert(!exists(f->part), "%s left behind", f->part);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c hashlab-unpack", f->root);
    FILE *p = popen(cmd, "r");
    int n = -1;
    cr_assert(p && fscanf(p, "%d", &n) == 1);
    pclose(p);
    cr_assert_eq(n, 0, "a temporary unpack directory was left in %s", f->root);
}

/* ---- tests ---- */

Test(fetch, md5_known_answer_and_sources) {
    char p[1024], md5[33];
    snprintf(p, sizeof p, "%s/abc", tmp_base());
    cr_assert_eq(hl_atomic_write_file(p, "abc", 3), HL_OK);
    cr_assert_eq(hl_fetch_md5_file(p, md5), HL_OK);
    cr_assert_str_eq(md5, "900150983cd24fb0d6963f7d28e17f72"); /* RFC 1321 test suite: MD5("abc") */
    snprintf(p, sizeof p, "%s/missing", tmp_base());
    cr_assert_eq(hl_fetch_md5_file(p, md5), HL_ENOTFOUND);
    const hl_fetch_source *c10 = hl_fetch_source_find("cifar10"), *c100 = hl_fetch_source_find("cifar100");
    cr_assert(c10 && c100 && !hl_fetch_source_find("cifar1000"));
    cr_assert_str_eq(c10->md5, "c32a1d4ab5d03f1284b67883e8d87530");
    cr_assert_str_eq(c100->md5, "03b5dce01913d631647c71ecec9e9cb8");
    cr_assert_eq(c10->n_files, 6);
    for (int i = 0; i < 6; i++) cr_assert_eq(c10->sizes[i], 10000 * (1 + 3072));
    cr_assert_eq(c100->sizes[0], 50000 * (2 + 3072));
    cr_assert_eq(c100->sizes[1], 10000 * (2 + 3072));
    hl_fetch_opts o;
    hl_fetch_opts_for(&o, c100, "/x");
    cr_assert(o.check_sizes && o.progress && o.n_files == 2 && strcmp(o.top, "cifar-100-binary") == 0);
    char root[1024];
    setenv("HASHLAB_DATA", "/some/where", 1);
    cr_assert_eq(hl_fetch_default_root(root, sizeof root), HL_OK);
    cr_assert_str_eq(root, "/some/where");
    unsetenv("HASHLAB_DATA");
    setenv("HOME", "/home/h", 1);
    cr_assert_eq(hl_fetch_default_root(root, sizeof root), HL_OK);
    cr_assert_str_eq(root, "/home/h/.cache/hashlab");
}

Test(fetch, success_then_no_second_download, .timeout = 10) {
    fx f;
    size_t len;
    unsigned char *tgz = make_cifar_tgz(&len);
    fx_init(&f, tgz, len);
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert_eq(f.rep.requests, 1);
    cr_assert_eq(atomic_load(&f.srv.requests), 1);
    cr_assert_eq(f.srv.range[0], -1, "the first request must not be a Range request");
    cr_assert_eq(f.rep.bytes_downloaded, (int64_t)len);
    cr_assert(!f.rep.already_present && !f.rep.resumed);
    cr_assert_str_eq(f.rep.path, f.top);
    assert_unpacked(&f);
    assert_root_holds(&f, true, true);
    cr_assert_eq(fsize(f.arc), (int64_t)len);

    /* again: already present, nothing downloaded */
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert(f.rep.already_present);
    cr_assert_eq(f.rep.requests, 0);
    cr_assert_eq(atomic_load(&f.srv.requests), 1);

    /* dataset folder deleted, verified archive still there: unpacked again without downloading */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f.top);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert(f.rep.archive_reused && !f.rep.already_present);
    cr_assert_eq(atomic_load(&f.srv.requests), 1);
    assert_unpacked(&f);

    /* --force downloads again */
    f.o.force = true;
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert_eq(f.rep.requests, 1);
    cr_assert_eq(atomic_load(&f.srv.requests), 2);
    assert_unpacked(&f);
    assert_root_holds(&f, true, true);
    fx_done(&f);
}

Test(fetch, redirect_followed, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:%d/redirect", f.srv.port);
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert_eq(atomic_load(&f.srv.requests), 2);
    assert_unpacked(&f);
    fx_done(&f);
}

Test(fetch, corrupted_archive_refused, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    size_t len = f.len;
    char good[33];
    memcpy(good, f.md5, 33);
    f.tgz[len / 2] ^= 0x40; /* the server now serves a corrupted copy; o.md5 is still the good sum */
    char bad[33];
    md5_of(f.tgz, len, bad);
    hl_status st = hl_fetch(&f.o, &f.rep);
    cr_assert_eq(st, HL_EMISMATCH, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), good) && strstr(hl_error_last(), bad), "message must name both sums: %s",
              hl_error_last());
    assert_root_holds(&f, false, false);
    fx_done(&f);
}

Test(fetch, resume_after_interrupted_transfer, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    size_t len = f.len;
    f.srv.drop_first = 1;
    f.srv.drop_after = len / 3;
    hl_status st = hl_fetch(&f.o, &f.rep);
    cr_assert_eq(st, HL_EIO, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "rerun to resume"), "%s", hl_error_last());
    cr_assert_eq(fsize(f.part), (int64_t)(len / 3));
    cr_assert(!exists(f.top) && !exists(f.arc));

    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert_eq(atomic_load(&f.srv.requests), 2);
    cr_assert_eq(f.srv.range[1], (int64_t)(len / 3), "second request: Range start %lld", (long long)f.srv.range[1]);
    cr_assert(f.rep.resumed && !f.rep.range_ignored);
    cr_assert_eq(f.rep.bytes_downloaded, (int64_t)(len - len / 3));
    assert_unpacked(&f);
    assert_root_holds(&f, true, true);
    fx_done(&f);
}

Test(fetch, automatic_retry_resumes, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    size_t len = f.len;
    f.srv.drop_first = 2;
    f.srv.drop_after = len / 4; /* 1/4, then 1/4 more, then the rest */
    f.o.retries = 2;
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert_eq(atomic_load(&f.srv.requests), 3);
    cr_assert_eq(f.srv.range[1], (int64_t)(len / 4));
    cr_assert_eq(f.srv.range[2], (int64_t)(2 * (len / 4)));
    cr_assert_eq(f.rep.bytes_downloaded, (int64_t)len);
    assert_unpacked(&f);
    fx_done(&f);
}

Test(fetch, server_ignoring_range_restarts_from_zero, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    size_t len = f.len;
    f.srv.drop_first = 1;
    f.srv.drop_after = len / 2;
    f.srv.ignore_range = 1;
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_EIO);
    cr_assert_eq(fsize(f.part), (int64_t)(len / 2));
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert(f.rep.range_ignored && !f.rep.resumed);
    cr_assert_eq(f.rep.bytes_downloaded, (int64_t)len, "the restart downloads the whole file");
    cr_assert_eq(f.srv.range[1], (int64_t)(len / 2));
    assert_unpacked(&f);
    assert_root_holds(&f, true, true);
    fx_done(&f);
}

Test(fetch, complete_part_answered_416_verifies, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    size_t len = f.len;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", f.root);
    cr_assert_eq(system(cmd), 0);
    FILE *p = fopen(f.part, "wb"); /* a complete download that was never verified (killed before the rename) */
    cr_assert(p && fwrite(f.tgz, 1, len, p) == len && fclose(p) == 0);
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert_eq(f.srv.range[0], (int64_t)len);
    cr_assert_eq(f.rep.bytes_downloaded, 0);
    assert_unpacked(&f);
    fx_done(&f);
}

Test(fetch, http_404_is_a_clear_error, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    f.srv.status = 404;
    f.o.retries = 3; /* a 404 is not retried */
    hl_status st = hl_fetch(&f.o, &f.rep);
    cr_assert_eq(st, HL_ENOTFOUND, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "HTTP error 404") && strstr(hl_error_last(), f.url), "%s", hl_error_last());
    cr_assert_eq(atomic_load(&f.srv.requests), 1);
    assert_root_holds(&f, false, false);
    fx_done(&f);
}

Test(fetch, connection_refused_is_an_error, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    server_stop(&f.srv); /* nobody listens on the port any more */
    hl_status st = hl_fetch(&f.o, &f.rep);
    cr_assert_eq(st, HL_EIO, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "download failed"), "%s", hl_error_last());
    cr_assert(!exists(f.part));
    free(f.tgz);
}

/* An archive holding `bad` next to a good fake CIFAR folder is refused and nothing lands anywhere (also not at
 * root/evil or root/../evil, where "../evil" would go from the unpack directory or from root). */
static void check_refused(entry bad, const char *want_msg, const char *must_not_exist) {
    entry es[3] = {{TOP, AE_IFDIR, 0, NULL}, {TOP "/data_batch_1.bin", AE_IFREG, 100, NULL}, bad};
    size_t len;
    fx f;
    unsigned char *tgz = make_tgz(es, 3, &len);
    fx_init(&f, tgz, len);
    f.o.check_sizes = false;
    hl_status st = hl_fetch(&f.o, &f.rep);
    cr_assert_eq(st, HL_EFORMAT, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), want_msg), "message '%s' lacks '%s'", hl_error_last(), want_msg);
    char p[1200];
    snprintf(p, sizeof p, "%s/evil", f.root);
    cr_assert(!exists(p), "%s was written", p);
    snprintf(p, sizeof p, "%s/../evil", f.root);
    cr_assert(!exists(p), "%s was written", p);
    if (must_not_exist) cr_assert(!exists(must_not_exist), "%s was written", must_not_exist);
    assert_root_holds(&f, false, false);
    fx_done(&f);
}

Test(fetch, dotdot_entry_refused, .timeout = 10) {
    check_refused((entry){"../evil", AE_IFREG, 10, NULL}, "'..'", NULL);
    check_refused((entry){TOP "/../../evil", AE_IFREG, 10, NULL}, "'..'", NULL);
    check_refused((entry){TOP "/../evil", AE_IFREG, 10, NULL}, "'..'", NULL);
}

Test(fetch, absolute_entry_refused, .timeout = 10) {
    char evil[1024];
    snprintf(evil, sizeof evil, "%s/abs-evil", tmp_base());
    check_refused((entry){evil, AE_IFREG, 10, NULL}, "absolute path", evil);
}

Test(fetch, links_and_strays_refused, .timeout = 10) {
    check_refused((entry){TOP "/link", AE_IFLNK, 0, "/etc/passwd"}, "only regular files and directories", NULL);
    check_refused((entry){"other/file", AE_IFREG, 10, NULL}, "outside the expected folder", NULL);
}

Test(fetch, wrong_sizes_refused, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    int64_t want[NFILES] = {40000, 30001, 3073};
    f.o.sizes = want;
    hl_status st = hl_fetch(&f.o, &f.rep);
    cr_assert_eq(st, HL_EFORMAT, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "data_batch_2.bin: expected 30001 bytes, found 30000"), "%s", hl_error_last());
    assert_root_holds(&f, false, false);
    /* missing expected file */
    const char *more[NFILES + 1] = {names[0], names[1], names[2], "batches.meta.txt"};
    f.o.files = more;
    f.o.n_files = NFILES + 1;
    f.o.check_sizes = false;
    st = hl_fetch(&f.o, &f.rep);
    cr_assert_eq(st, HL_ENOTFOUND, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "batches.meta.txt: missing"), "%s", hl_error_last());
    assert_root_holds(&f, false, false);
    fx_done(&f);
}

Test(fetch, incomplete_dataset_replaced, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    char cmd[4000], stray[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && echo x > '%s/data_batch_1.bin' && touch '%s/stray'", f.top, f.top,
             f.top);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last());
    cr_assert(!f.rep.already_present);
    snprintf(stray, sizeof stray, "%s/stray", f.top);
    cr_assert(!exists(stray), "the old incomplete folder was not replaced");
    assert_unpacked(&f);
    assert_root_holds(&f, true, true);
    fx_done(&f);
}

Test(fetch, bad_md5_argument, .timeout = 10) {
    hl_fetch_opts o = {.url = "http://127.0.0.1:1/x", .md5 = "xyz", .root = tmp_base(), .archive = "a.tgz", .top = "t"};
    cr_assert_eq(hl_fetch(&o, NULL), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "32 hex digits"), "%s", hl_error_last());
}

Test(fetch, concurrent_fetch_refused, .timeout = 10) {
    fx f;
    fx_init_cifar(&f);
    char cmd[1200], lock[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", f.root);
    cr_assert_eq(system(cmd), 0);
    snprintf(lock, sizeof lock, "%s/.c10.tar.gz.lock", f.root);
    int ready[2], go[2];
    cr_assert(pipe(ready) == 0 && pipe(go) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) { /* another process holding the lock, as a running fetch would */
        int fd = open(lock, O_RDWR | O_CREAT, 0644);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        char c = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0) _exit(1);
        _exit(0);
    }
    char c = 0;
    cr_assert(read(ready[0], &c, 1) == 1 && c == 'y');
    hl_status st = hl_fetch(&f.o, &f.rep);
    cr_assert(write(go[1], &c, 1) == 1);
    waitpid(pid, NULL, 0);
    cr_assert_eq(st, HL_EIO, "got %s: %s", hl_status_name(st), hl_error_last());
    cr_assert(strstr(hl_error_last(), "another fetch"), "%s", hl_error_last());
    cr_assert_eq(atomic_load(&f.srv.requests), 0);
    cr_assert_eq(hl_fetch(&f.o, &f.rep), HL_OK, "%s", hl_error_last()); /* the lock is free again */
    fx_done(&f);
}
