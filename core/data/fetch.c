/* core/data/fetch.c — download (libcurl, resumable), MD5 check (OpenSSL EVP), safe unpack (libarchive); see fetch.h. */
#include "core/data/fetch.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 1024
#define CIFAR_BATCH_BYTES 30730000 /* 10,000 × (1 label + 3072 pixels) */

/* clang-format off */
static const hl_fetch_source hl_fetch_sources[] = {
    {"cifar10", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530",
     "cifar-10-binary.tar.gz", "cifar-10-batches-bin", 6,
     {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
      "test_batch.bin"},
     {CIFAR_BATCH_BYTES, CIFAR_BATCH_BYTES, CIFAR_BATCH_BYTES, CIFAR_BATCH_BYTES, CIFAR_BATCH_BYTES,
      CIFAR_BATCH_BYTES}},
    /* 50,000 / 10,000 × (1 coarse + 1 fine label + 3072 pixels) */
    {"cifar100", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8",
     "cifar-100-binary.tar.gz", "cifar-100-binary", 2, {"train.bin", "test.bin"}, {153700000, 30740000}},
};
/* clang-format on */

const hl_fetch_source *hl_fetch_source_find(const char *name) {
    for (size_t i = 0; name && i < HL_ARRAY_LEN(hl_fetch_sources); i++)
        if (strcmp(name, hl_fetch_sources[i].name) == 0) return &hl_fetch_sources[i];
    return NULL;
}

const char *hl_fetch_source_names(void) { return "cifar10 cifar100"; }

void hl_fetch_opts_for(hl_fetch_opts *o, const hl_fetch_source *s, const char *root) {
    HL_ASSERT(o && s, "NULL options or source");
    memset(o, 0, sizeof *o);
    o->url = s->url;
    o->md5 = s->md5;
    o->root = root;
    o->archive = s->archive;
    o->top = s->top;
    o->files = s->files;
    o->sizes = s->sizes;
    o->n_files = s->n_files;
    o->check_sizes = true;
    o->progress = true;
    o->retries = 3;
    o->retry_wait_s = 2.0;
}

static bool valid_md5(const char *s);

hl_status hl_fetch_mirror_from_env(hl_fetch_opts *o, const hl_fetch_source *s, bool *used) {
    HL_ASSERT(o && s, "NULL options or source");
    char uvar[64], mvar[64], up[32];
    size_t k = 0;
    for (; s->name[k] && k < sizeof up - 1; k++)
        up[k] = (char)(s->name[k] >= 'a' && s->name[k] <= 'z' ? s->name[k] - 'a' + 'A' : s->name[k]);
    up[k] = 0;
    snprintf(uvar, sizeof uvar, "HASHLAB_FETCH_URL_%s", up);
    snprintf(mvar, sizeof mvar, "HASHLAB_FETCH_MD5_%s", up);
    const char *url = getenv(uvar), *md5 = getenv(mvar);
    bool has_url = url && url[0], has_md5 = md5 && md5[0];
    if (used) *used = false;
    if (!has_url && !has_md5) return HL_OK;
    if (!has_url || !has_md5)
        return hl_error_set(HL_EINVAL, "%s is set but %s is not: a mirror of %s needs both (its URL and the MD5 of "
                            "its archive)", has_url ? uvar : mvar, has_url ? mvar : uvar, s->name);
    if (!valid_md5(md5)) return hl_error_set(HL_EINVAL, "%s: '%s' is not an MD5 (32 hex digits)", mvar, md5);
    o->url = url;
    o->md5 = md5;
    if (used) *used = true;
    return HL_OK;
}

hl_status hl_fetch_default_root(char *buf, size_t n) {
    const char *env = getenv("HASHLAB_DATA");
    if (env && env[0]) {
        if ((size_t)snprintf(buf, n, "%s", env) >= n) return hl_error_set(HL_EINVAL, "HASHLAB_DATA: path too long");
        return HL_OK;
    }
    const char *home = getenv("HOME");
    if (!home || !home[0]) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !home[0])
        return hl_error_set(HL_ENOTFOUND, "no data root: neither $HASHLAB_DATA nor $HOME is set (use --root DIR)");
    if ((size_t)snprintf(buf, n, "%s/.cache/hashlab", home) >= n)
        return hl_error_set(HL_EINVAL, "%s/.cache/hashlab: path too long", home);
    return HL_OK;
}

/* ---- files ---- */

static hl_status join(char *out, const char *a, const char *b) {
    if ((size_t)snprintf(out, PATH_LEN, "%s/%s", a, b) >= PATH_LEN)
        return hl_error_set(HL_EINVAL, "%s/%s: path too long", a, b);
    return HL_OK;
}

static int64_t file_size(const char *path) { /* -1 if missing or not a regular file */
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (int64_t)sb.st_size : -1;
}

static bool is_dir(const char *path) { /* follows symlinks */
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static hl_status mkdir_p(const char *path) {
    char p[PATH_LEN];
    size_t n = strlen(path);
    if (n >= sizeof p) return hl_error_set(HL_EINVAL, "%s: path too long", path);
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        p[i] = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return hl_error_set(HL_EIO, "%s: cannot create: %s", p, strerror(errno));
        if (!is_dir(p)) return hl_error_set(HL_EIO, "%s: exists and is not a directory", p);
        p[i] = i < n ? '/' : 0;
    }
    return HL_OK;
}

/* Removes path and everything below it (never follows symlinks). Best effort. */
static void rm_rf(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char *child = malloc(PATH_LEN);
        while (child && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            if ((size_t)snprintf(child, PATH_LEN, "%s/%s", path, e->d_name) < PATH_LEN) rm_rf(child);
        }
        free(child);
        closedir(d);
    }
    rmdir(path);
}

/* Every expected file under dir is a regular file (with its size when check_sizes). */
static hl_status check_files(const hl_fetch_opts *o, const char *dir) {
    char p[PATH_LEN];
    hl_status st;
    if (!is_dir(dir)) return hl_error_set(HL_ENOTFOUND, "%s: no such directory", dir);
    for (int i = 0; i < o->n_files; i++) {
        if ((st = join(p, dir, o->files[i])) < 0) return st;
        int64_t got = file_size(p);
        if (got < 0) return hl_error_set(HL_ENOTFOUND, "%s: missing", p);
        int64_t want = o->check_sizes && o->sizes ? o->sizes[i] : -1;
        if (want >= 0 && got != want)
            return hl_error_set(HL_EFORMAT, "%s: expected %lld bytes, found %lld", p, (long long)want, (long long)got);
    }
    return HL_OK;
}

hl_status hl_fetch_md5_file(const char *path, char out[33]) {
    hl_status st = HL_OK;
    unsigned char md[EVP_MAX_MD_SIZE], *buf = malloc(1 << 20);
    unsigned int len = 0;
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!buf || !ctx) {
        st = hl_error_set(HL_ENOMEM, "out of memory");
        goto done;
    }
    if (!f) {
        st = hl_error_set(errno == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    if (!EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
        st = hl_error_set(HL_EUNSUPPORTED, "MD5 unavailable in this OpenSSL");
        goto done;
    }
    size_t n;
    while ((n = fread(buf, 1, 1 << 20, f)) > 0) EVP_DigestUpdate(ctx, buf, n);
    if (ferror(f)) {
        st = hl_error_set(HL_EIO, "%s: read error: %s", path, strerror(errno));
        goto done;
    }
    EVP_DigestFinal_ex(ctx, md, &len);
    for (unsigned i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
done:
    if (f) fclose(f);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return st;
}

/* ---- download ---- */

typedef struct dl_state {
    FILE *f;
    int64_t offset, written; /* bytes in the .part before this transfer; body bytes written by it */
    int write_errno;
    const hl_fetch_opts *o;
    bool tty, printed;
    double t0, last_t;
    int last_step; /* last 10 % step logged (non-tty) */
} dl_state;

static size_t dl_write(char *p, size_t size, size_t nmemb, void *user) {
    dl_state *s = user;
    size_t n = size * nmemb;
    if (fwrite(p, 1, n, s->f) != n) {
        s->write_errno = errno ? errno : EIO;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    s->written += (int64_t)n;
    return n;
}

static void dl_print(dl_state *s, int64_t now, int64_t total, bool final) {
    double t = hl_time_s(), el = t - s->t0, rate = el > 0 ? (double)(now - s->offset) / el / 1e6 : 0.0;
    if (s->tty) {
        if (!final && t - s->last_t < 0.2) return;
        if (total > 0)
            fprintf(stderr, "\r  %s %5.1f%%  %7.1f / %.1f MB  %6.1f MB/s ", s->o->archive,
                    100.0 * (double)now / (double)total, (double)now / 1e6, (double)total / 1e6, rate);
        else
            fprintf(stderr, "\r  %s %7.1f MB  %6.1f MB/s ", s->o->archive, (double)now / 1e6, rate);
        if (final) fputc('\n', stderr);
    } else {
        int step = total > 0 ? (int)(10 * now / total) : (int)(el / 30); /* every 10 %, or every 30 s without a size */
        if (!final && (step <= s->last_step || t - s->last_t < 1.0)) return;
        if (final && !s->printed) return;
        s->last_step = step;
        if (total > 0)
            fprintf(stderr, "  %s %3.0f%%  %.1f / %.1f MB  %.1f MB/s\n", s->o->archive,
                    100.0 * (double)now / (double)total, (double)now / 1e6, (double)total / 1e6, rate);
        else
            fprintf(stderr, "  %s %.1f MB  %.1f MB/s\n", s->o->archive, (double)now / 1e6, rate);
    }
    s->printed = true;
    s->last_t = t;
    fflush(stderr);
}

static int dl_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    dl_state *s = user;
    if (dlnow > 0) dl_print(s, s->offset + dlnow, dltotal > 0 ? s->offset + dltotal : 0, false);
    return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct dl_result {
    CURLcode rc;
    long http;     /* last response code (0 for file://) */
    int64_t total; /* full size when known (offset + content length), else -1 */
    char err[CURL_ERROR_SIZE];
} dl_result;

/* One transfer into part, appending from `offset` (0: truncate). Local failures are returned; curl outcomes go to r. */
static hl_status transfer(const hl_fetch_opts *o, const char *part, int64_t offset, hl_fetch_report *rep,
                          dl_result *r) {
    hl_status st = HL_OK;
    dl_state s = {.offset = offset, .o = o, .tty = isatty(STDERR_FILENO) == 1, .t0 = hl_time_s(), .last_step = -1};
    CURL *c = NULL;
    memset(r, 0, sizeof *r);
    r->total = -1;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return hl_error_set(HL_ERR, "libcurl initialisation failed: %s", curl_easy_strerror(curl_init_rc));
    if (!(s.f = fopen(part, offset > 0 ? "ab" : "wb")))
        return hl_error_set(HL_EIO, "%s: cannot open for writing: %s", part, strerror(errno));
    if (!(c = curl_easy_init())) {
        st = hl_error_set(HL_ERR, "libcurl: curl_easy_init failed");
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->err);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hashlab/" HASHLAB_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s > 0 ? o->connect_timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s > 0 ? o->low_speed_time_s : 60L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HL_FETCH_MAX_UNPACKED); /* no endless bodies */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (o->progress) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, dl_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
    }
    if (offset > 0) curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)offset);
    rep->requests++;
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http);
    curl_off_t cl = -1;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0) r->total = offset + cl;
    if (o->progress && s.written > 0) dl_print(&s, offset + s.written, r->total, true);
    if (r->rc == CURLE_WRITE_ERROR && s.write_errno)
        st = hl_error_set(HL_EIO, "%s: write failed: %s", part, strerror(s.write_errno));
done:
    rep->bytes_downloaded += s.written;
    if (fclose(s.f) != 0 && st == HL_OK && r->rc == CURLE_OK)
        st = hl_error_set(HL_EIO, "%s: write failed: %s", part, strerror(errno));
    if (c) curl_easy_cleanup(c);
    return st;
}

static bool retryable(const dl_result *r) {
    switch (r->rc) {
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_COULDNT_CONNECT: return true;
    case CURLE_HTTP_RETURNED_ERROR: return r->http >= 500;
    default: return false;
    }
}

static void sleep_s(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Downloads o->url into part (resuming a non-empty part). HL_OK means the transfer completed (or the server
 * answered 416 to the resume: the part may already be complete); the caller verifies the MD5. */
static hl_status download(const hl_fetch_opts *o, const char *part, hl_fetch_report *rep) {
    hl_status st;
    dl_result r;
    bool restarted = false;
    for (int attempt = 0;; attempt++) {
        int64_t off = file_size(part);
        if (off < 0) off = 0;
        if (o->progress) {
            if (off > 0)
                hl_msg(HL_LOG_INFO, "resuming %s at %.1f MB", o->url, (double)off / 1e6);
            else
                hl_msg(HL_LOG_INFO, "downloading %s", o->url);
        }
        if ((st = transfer(o, part, off, rep, &r)) < 0) return st;
        rep->resumed = off > 0;
        if (r.rc == CURLE_OK || (off > 0 && r.rc == CURLE_HTTP_RETURNED_ERROR && r.http == 416)) return HL_OK;
        if (off > 0 && r.rc == CURLE_RANGE_ERROR && !restarted) {
            if (o->progress) hl_msg(HL_LOG_INFO, "the server ignored the Range request; restarting from zero");
            rep->range_ignored = true;
            restarted = true;
            unlink(part);
            attempt--;
            continue;
        }
        if (retryable(&r) && attempt < o->retries) {
            if (o->progress)
                hl_msg(HL_LOG_WARN, "%s: %s; retrying (%d of %d)", o->url, r.err[0] ? r.err : curl_easy_strerror(r.rc),
                       attempt + 1, o->retries);
            sleep_s(o->retry_wait_s);
            continue;
        }
        break;
    }
    int64_t have = file_size(part);
    if (have <= 0) unlink(part); /* an empty .part is worth nothing */
    if (r.rc == CURLE_HTTP_RETURNED_ERROR)
        return hl_error_set(r.http == 404 || r.http == 410 ? HL_ENOTFOUND : HL_EIO, "%s: HTTP error %ld%s", o->url,
                            r.http, r.http == 404 ? " (not found: check the URL)" : "");
    const char *why = r.err[0] ? r.err : curl_easy_strerror(r.rc);
    if (have > 0 && retryable(&r)) {
        if (r.total > 0)
            return hl_error_set(HL_EIO,
                                "%s: transfer interrupted after %lld of %lld bytes (%s); %s is kept, rerun to resume",
                                o->url, (long long)have, (long long)r.total, why, part);
        return hl_error_set(HL_EIO, "%s: transfer interrupted after %lld bytes (%s); %s is kept, rerun to resume",
                            o->url, (long long)have, why, part);
    }
    return hl_error_set(HL_EIO, "%s: download failed: %s", o->url, why);
}

/* ---- unpack ---- */

/* Normalises an archive entry name into out (drops "." components and repeated '/'); refuses absolute paths, ".."
 * and anything outside top/. */
static hl_status entry_path(const char *arc, const char *name, const char *top, char *out) {
    if (!name || !name[0]) return hl_error_set(HL_EFORMAT, "%s: archive entry with an empty name", arc);
    if (name[0] == '/')
        return hl_error_set(HL_EFORMAT, "%s: refusing archive entry with an absolute path '%s'", arc, name);
    size_t n = 0;
    for (const char *p = name; *p;) {
        const char *q = strchr(p, '/');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return hl_error_set(HL_EFORMAT, "%s: refusing archive entry with '..' in its path '%s'", arc, name);
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (n + len + 2 > PATH_LEN) return hl_error_set(HL_EFORMAT, "%s: archive entry name too long", arc);
            if (n) out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len + (q != NULL);
    }
    out[n] = 0;
    size_t tl = strlen(top);
    if (n == 0) return hl_error_set(HL_EFORMAT, "%s: archive entry '%s' names no file", arc, name);
    if (strncmp(out, top, tl) != 0 || (out[tl] != 0 && out[tl] != '/'))
        return hl_error_set(HL_EFORMAT, "%s: archive entry '%s' is outside the expected folder '%s/'", arc, name, top);
    return HL_OK;
}

static hl_status unpack_file(struct archive *a, const char *arc, const char *dst, int64_t *total) {
    hl_status st = HL_OK;
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    if (fd < 0)
        return hl_error_set(errno == EEXIST ? HL_EFORMAT : HL_EIO, "%s: cannot create %s: %s", arc, dst,
                            errno == EEXIST ? "duplicate archive entry" : strerror(errno));
    const void *buf;
    size_t size;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
        *total += (int64_t)size;
        if (*total > HL_FETCH_MAX_UNPACKED) {
            st = hl_error_set(HL_EFORMAT, "%s: unpacks to more than %lld bytes; refused", arc,
                              (long long)HL_FETCH_MAX_UNPACKED);
            goto done;
        }
        for (size_t w = 0; w < size;) {
            ssize_t k = pwrite(fd, (const char *)buf + w, size - w, (off_t)(off + (la_int64_t)w));
            if (k < 0) {
                st = hl_error_set(HL_EIO, "%s: write failed: %s", dst, strerror(errno));
                goto done;
            }
            w += (size_t)k;
        }
    }
    if (r != ARCHIVE_EOF) st = hl_error_set(HL_EFORMAT, "%s: corrupt archive: %s", arc, archive_error_string(a));
done:
    if (close(fd) != 0 && st == HL_OK) st = hl_error_set(HL_EIO, "%s: write failed: %s", dst, strerror(errno));
    return st;
}

/* Unpacks arc into dir (see fetch.h for what is refused). */
static hl_status unpack(const char *arc, const char *dir, const char *top) {
    hl_status st = HL_OK;
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char rel[PATH_LEN], dst[PATH_LEN], parent[PATH_LEN];
    int64_t total = 0;
    if (!a) return hl_error_set(HL_ENOMEM, "out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, arc, 1 << 16) != ARCHIVE_OK) {
        st = hl_error_set(HL_EFORMAT, "%s: cannot read archive: %s", arc, archive_error_string(a));
        goto done;
    }
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            st = hl_error_set(HL_EFORMAT, "%s: corrupt archive: %s", arc, archive_error_string(a));
            goto done;
        }
        const char *name = archive_entry_pathname(e);
        HL_TRY(entry_path(arc, name, top, rel));
        mode_t type = archive_entry_filetype(e);
        if (archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR)) {
            st = hl_error_set(HL_EFORMAT,
                              "%s: refusing archive entry '%s': only regular files and directories are allowed", arc,
                              name);
            goto done;
        }
        HL_TRY(join(dst, dir, rel));
        if (type == AE_IFDIR) {
            HL_TRY(mkdir_p(dst));
            continue;
        }
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > HL_FETCH_MAX_UNPACKED) {
            st = hl_error_set(HL_EFORMAT, "%s: entry '%s' is larger than %lld bytes; refused", arc, name,
                              (long long)HL_FETCH_MAX_UNPACKED);
            goto done;
        }
        memcpy(parent, dst, sizeof parent);
        *strrchr(parent, '/') = 0;
        HL_TRY(mkdir_p(parent));
        HL_TRY(unpack_file(a, arc, dst, &total));
    }
done:
    archive_read_free(a);
    return st;
}

/* ---- the whole fetch ---- */

static bool plain_name(const char *s) { return s && s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, ".."); }

static bool valid_md5(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!strchr("0123456789abcdefABCDEF", s[n])) return false;
    return n == 32;
}

hl_status hl_fetch(const hl_fetch_opts *o, hl_fetch_report *rep) {
    hl_fetch_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    HL_ASSERT(o && o->url && o->md5 && o->root && o->root[0], "hl_fetch needs url, md5 and root");
    HL_ASSERT(plain_name(o->archive) && plain_name(o->top), "archive and top must be plain names");
    HL_ASSERT(o->n_files >= 0 && (o->n_files == 0 || o->files), "bad expected-file list");
    hl_status st = HL_OK;
    char arc[PATH_LEN], part[PATH_LEN], lock[PATH_LEN], tmp[PATH_LEN] = "", staged[PATH_LEN], old[PATH_LEN] = "",
                                                        md5[33];
    char want[33], name[PATH_LEN];
    int lock_fd = -1;
    bool verified = false;
    if (!valid_md5(o->md5)) return hl_error_set(HL_EINVAL, "MD5 '%s' is not 32 hex digits", o->md5);
    for (int i = 0; i < 33; i++)
        want[i] = (char)(o->md5[i] >= 'A' && o->md5[i] <= 'F' ? o->md5[i] - 'A' + 'a' : o->md5[i]);
    HL_TRY(join(rep->path, o->root, o->top));
    HL_TRY(join(arc, o->root, o->archive));
    memcpy(rep->archive_path, arc, sizeof arc);
    if ((size_t)snprintf(part, sizeof part, "%s.part", arc) >= sizeof part)
        return hl_error_set(HL_EINVAL, "%s: path too long", arc);
    snprintf(name, sizeof name, ".%s.lock", o->archive);
    HL_TRY(join(lock, o->root, name));
    HL_TRY(mkdir_p(o->root));

    if ((lock_fd = open(lock, O_RDWR | O_CREAT, 0644)) < 0) {
        st = hl_error_set(HL_EIO, "%s: cannot create lock file: %s", lock, strerror(errno));
        goto done;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(lock_fd, F_SETLK, &fl) != 0) {
        st = hl_error_set(HL_EIO, "%s: another fetch of %s is running into %s", lock, o->archive, o->root);
        goto done;
    }

    if (!o->force && is_dir(rep->path)) {
        if (check_files(o, rep->path) == HL_OK) {
            rep->already_present = true;
            goto done;
        }
        if (o->progress) hl_msg(HL_LOG_WARN, "%s is incomplete (%s); fetching it again", rep->path, hl_error_last());
        hl_error_clear();
    }
    if (o->force) unlink(part);             /* a verified archive is replaced only once the new download verifies */
    if (!o->force && file_size(arc) >= 0) { /* a verified archive from an earlier fetch */
        if (o->progress) hl_msg(HL_LOG_INFO, "verifying the MD5 of %s", arc);
        HL_TRY(hl_fetch_md5_file(arc, md5));
        if (strcmp(md5, want) == 0) {
            rep->archive_reused = true;
        } else {
            if (o->progress) hl_msg(HL_LOG_WARN, "%s: MD5 %s, expected %s; downloading it again", arc, md5, want);
            unlink(arc);
        }
    }
    if (!rep->archive_reused) {
        HL_TRY(download(o, part, rep));
        if (o->progress) hl_msg(HL_LOG_INFO, "verifying the MD5 of %s", part);
        HL_TRY(hl_fetch_md5_file(part, md5));
        if (strcmp(md5, want) != 0) {
            unlink(part);
            st = hl_error_set(HL_EMISMATCH,
                              "%s: MD5 mismatch: expected %s, got %s (corrupt or wrong file; deleted, rerun "
                              "to download again)",
                              o->url, want, md5);
            goto done;
        }
        if (rename(part, arc) != 0) {
            st = hl_error_set(HL_EIO, "%s: cannot rename to %s: %s", part, arc, strerror(errno));
            goto done;
        }
    }
    verified = true;

    if (o->progress) hl_msg(HL_LOG_INFO, "unpacking %s", arc);
    HL_TRY(join(tmp, o->root, ".hashlab-unpack-XXXXXX"));
    if (!mkdtemp(tmp)) {
        st = hl_error_set(HL_EIO, "%s: cannot create a temporary directory: %s", tmp, strerror(errno));
        tmp[0] = 0;
        goto done;
    }
    HL_TRY(unpack(arc, tmp, o->top));
    HL_TRY(join(staged, tmp, o->top));
    if (!is_dir(staged)) {
        st = hl_error_set(HL_EFORMAT, "%s: does not contain the folder %s/", arc, o->top);
        goto done;
    }
    if ((st = check_files(o, staged)) < 0) {
        hl_error_wrap("%s: unexpected contents", arc);
        goto done;
    }
    struct stat sb;
    if (lstat(rep->path, &sb) == 0) { /* move the old or incomplete copy aside; it is deleted with tmp */
        HL_TRY(join(old, tmp, ".old"));
        if (rename(rep->path, old) != 0) {
            st = hl_error_set(HL_EIO, "%s: cannot move aside: %s", rep->path, strerror(errno));
            goto done;
        }
    }
    if (rename(staged, rep->path) != 0) {
        st = hl_error_set(HL_EIO, "%s: cannot rename to %s: %s", staged, rep->path, strerror(errno));
        if (old[0]) rename(old, rep->path); /* put the old copy back */
        goto done;
    }
done:
    if (st < 0 && verified && (st == HL_EFORMAT || st == HL_ENOTFOUND)) unlink(arc); /* a bad archive is not reused */
    if (tmp[0]) rm_rf(tmp);
    if (lock_fd >= 0) close(lock_fd);
    return st;
}
