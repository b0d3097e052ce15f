/* core/data/image_cache.c — decoded image lists cached as memory-mapped uint8 files; see dataset.h
 * (hl_dataset_load_image_list_cached) for the format, the key and the guarantees.
 *
 * Header (little-endian, HEADER bytes, zero-padded): "HLIMGCACHE\0\0\0\0\0\0" (16 bytes), u32 version, u32 header
 * size, u64 n, u32 c, u32 h, u32 w, u32 0, the key as 64 hex characters. The pixels follow at offset HEADER, so a
 * mapping hands out a page-aligned pixel array.
 */
#include "core/data/dataset.h"
#include "core/data/dataset_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io/atomic.h"

enum { HEADER = 4096, VERSION = 1 };
static const char MAGIC[16] = "HLIMGCACHE";
/* Bump when decoding or resizing changes its output (core/io/image.c): old cache files then stop matching. */
#define KEY_TAG "hashlab-image-cache/1 resize:bilinear-aa/1"

hl_status hl_image_cache_dir(char *buf, size_t n) {
    const char *env = getenv("HASHLAB_CACHE_DIR"), *home = getenv("HOME");
    if (env && *env) {
        if ((size_t)snprintf(buf, n, "%s", env) >= n) return hl_error_set(HL_EINVAL, "HASHLAB_CACHE_DIR: path too long");
        return HL_OK;
    }
    if (!home || !*home) {
        const struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return hl_error_set(HL_ENOTFOUND, "no home folder for the image cache: set HASHLAB_CACHE_DIR");
    if ((size_t)snprintf(buf, n, "%s/.cache/hashlab/lists", home) >= n)
        return hl_error_set(HL_EINVAL, "%s/.cache/hashlab/lists: path too long", home);
    return HL_OK;
}

static hl_status mkdir_p(const char *path) {
    char p[1024];
    if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p) return hl_error_set(HL_EINVAL, "%s: path too long", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return hl_error_set(HL_EIO, "%s: cannot create the folder: %s", p, strerror(errno));
        if (!c) break;
        *s = c;
    }
    return HL_OK;
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_u(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void header_fill(uint8_t *h, int64_t n, int c, int s, const char key[65]) {
    memset(h, 0, HEADER);
    memcpy(h, MAGIC, 16);
    put_u32(h + 16, VERSION);
    put_u32(h + 20, HEADER);
    put_u64(h + 24, (uint64_t)n);
    put_u32(h + 32, (uint32_t)c);
    put_u32(h + 36, (uint32_t)s);
    put_u32(h + 40, (uint32_t)s);
    memcpy(h + 48, key, 64);
}

static bool header_ok(const uint8_t *h, int64_t n, int c, int s, const char key[65]) {
    return !memcmp(h, MAGIC, 16) && get_u(h + 16, 4) == VERSION && get_u(h + 20, 4) == HEADER &&
           get_u(h + 24, 8) == (uint64_t)n && get_u(h + 32, 4) == (uint64_t)c && get_u(h + 36, 4) == (uint64_t)s &&
           get_u(h + 40, 4) == (uint64_t)s && !memcmp(h + 48, key, 64);
}

/* The cache key of dataset.h: paths, sizes and mtimes of every image (stat()ed in parallel; a missing image is the
 * error, naming its list and line). */
static hl_status cache_key(const hl_img_src *src, int64_t n, int size, int channels, char hex[65]) {
    struct stat *sb = malloc((size_t)(n ? n : 1) * sizeof *sb);
    int *err = calloc((size_t)(n ? n : 1), sizeof *err);
    if (!sb || !err) {
        free(sb), free(err);
        return hl_error_set(HL_ENOMEM, "out of memory for %lld image stats", (long long)n);
    }
#pragma omp parallel for schedule(static) if (n > 2048)
    for (int64_t i = 0; i < n; i++)
        if (stat(src[i].path, &sb[i]) != 0) err[i] = errno ? errno : EIO;
    hl_status st = HL_OK;
    for (int64_t i = 0; i < n && st == HL_OK; i++) {
        if (err[i])
            st = hl_error_set(err[i] == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s:%lld: %s: %s", src[i].list,
                              (long long)src[i].line, src[i].path,
                              err[i] == ENOENT ? "no such image file" : strerror(err[i]));
        else if (!S_ISREG(sb[i].st_mode))
            st = hl_error_set(HL_EIO, "%s:%lld: %s: not a regular file", src[i].list, (long long)src[i].line,
                              src[i].path);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = st == HL_OK ? EVP_MD_CTX_new() : NULL;
    if (st == HL_OK) {
        char head[160];
        int hn = snprintf(head, sizeof head, "%s size=%d channels=%d n=%lld\n", KEY_TAG, size, channels, (long long)n);
        int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, head, (size_t)hn);
        for (int64_t i = 0; ok && i < n; i++) {
            uint8_t rec[24];
            put_u64(rec, (uint64_t)sb[i].st_size);
            put_u64(rec + 8, (uint64_t)sb[i].st_mtim.tv_sec);
            put_u64(rec + 16, (uint64_t)sb[i].st_mtim.tv_nsec);
            ok = EVP_DigestUpdate(ctx, src[i].path, strlen(src[i].path) + 1) && EVP_DigestUpdate(ctx, rec, sizeof rec);
        }
        ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
        if (!ok) st = hl_error_set(HL_ERR, "image cache: SHA-256 (OpenSSL EVP) failed");
        for (unsigned i = 0; ok && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    EVP_MD_CTX_free(ctx);
    free(sb), free(err);
    return st;
}

/* Maps a cache file that matches (HL_OK), or HL_ENOTFOUND when there is none or it does not match. */
static hl_status cache_map(hl_dataset *d, const char *path, int64_t n, int c, int s, const char key[65]) {
    const size_t want = (size_t)HEADER + (size_t)n * (size_t)c * (size_t)s * (size_t)s;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HL_ENOTFOUND;
    struct stat sb;
    void *m = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == want)
        m = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        hl_msg(HL_LOG_WARN, "image cache %s does not match its images (size): decoding again", path);
        return HL_ENOTFOUND;
    }
    if (!header_ok(m, n, c, s, key)) {
        munmap(m, want);
        hl_msg(HL_LOG_WARN, "image cache %s does not match its images (header): decoding again", path);
        return HL_ENOTFOUND;
    }
    d->map = m;
    d->map_len = want;
    d->pixels = (uint8_t *)m + HEADER;
    return HL_OK;
}

/* Decodes into a new cache file at path, atomically. HL_EIO when the file cannot be made (the caller decodes into
 * memory); decoding errors and stop requests as they are. */
static hl_status cache_write(const hl_img_src *src, int64_t n, int c, int s, const char *dir, const char *path,
                             const char key[65], bool *unwritable) {
    *unwritable = true;
    hl_status st = mkdir_p(dir);
    if (st < 0) return st;
    hl_atomic_file af;
    if ((st = hl_atomic_write_begin(&af, path)) < 0) return st;
    const size_t len = (size_t)HEADER + (size_t)n * (size_t)c * (size_t)s * (size_t)s;
    int fd = fileno(af.f), e = posix_fallocate(fd, 0, (off_t)len);
    void *m = MAP_FAILED;
    if (e) {
        st = hl_error_set(HL_EIO, "%s: cannot reserve %.1f MB: %s", path, (double)len / 1e6, strerror(e));
        goto fail;
    }
    m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        st = hl_error_set(HL_EIO, "%s: cannot map %.1f MB: %s", path, (double)len / 1e6, strerror(errno));
        goto fail;
    }
    *unwritable = false;
    if ((st = hl_images_decode(src, n, s, c, (uint8_t *)m + HEADER)) < 0) goto fail;
    header_fill(m, n, c, s, key); /* last: a file without its header never matches */
    if (msync(m, len, MS_SYNC) != 0) {
        st = hl_error_set(HL_EIO, "%s: msync: %s", path, strerror(errno));
        *unwritable = true;
        goto fail;
    }
    munmap(m, len);
    if ((st = hl_atomic_write_commit(&af)) < 0) *unwritable = true;
    return st;
fail:
    if (m != MAP_FAILED) munmap(m, len);
    hl_atomic_write_abort(&af);
    return st;
}

hl_status hl_images_load(hl_dataset *d, const hl_img_src *src, int64_t n, int size, int channels,
                         const char *cache_dir) {
    const int64_t sz = (int64_t)channels * size * size;
    hl_status st = HL_OK;
    d->n = n;
    d->c = channels;
    d->h = d->w = size;
    if (cache_dir) {
        char key[65], path[1200];
        HL_TRY(cache_key(src, n, size, channels, key));
        if ((size_t)snprintf(path, sizeof path, "%s/%s.u8", cache_dir, key) >= sizeof path)
            return hl_error_set(HL_EINVAL, "%s: cache folder path too long", cache_dir);
        if (cache_map(d, path, n, channels, size, key) == HL_OK) {
            hl_msg(HL_LOG_DEBUG, "%lld images from the cache %s", (long long)n, path);
            return HL_OK;
        }
        bool unwritable = false;
        st = cache_write(src, n, channels, size, cache_dir, path, key, &unwritable);
        if (st == HL_OK) {
            if (cache_map(d, path, n, channels, size, key) == HL_OK) return HL_OK;
            return hl_error_set(HL_EIO, "%s: written but unreadable", path);
        }
        if (!unwritable) return st; /* a bad image or a stop request */
        hl_msg(HL_LOG_WARN, "image cache not written (%s); decoding into memory", hl_error_last());
        hl_error_clear();
        st = HL_OK;
    }
    d->pixels = malloc((size_t)(n > 0 ? n * sz : 1));
    if (!d->pixels)
        return hl_error_set(HL_ENOMEM, "out of memory for %lld images of %lld bytes", (long long)n, (long long)sz);
    return hl_images_decode(src, n, size, channels, d->pixels);
done:
    return st;
}
