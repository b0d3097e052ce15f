/* lab/cmd_bench_lists.c — `hashlab bench lists`: what preparing an image-list dataset costs (core/data/lists.h and
 * the decoded-image cache of core/data/dataset.h). It writes N JPEGs of S × S pixels (smooth colour fields with
 * noise, quality 90) and DeepHash-pytorch lists over them (5% queries, the rest the database, every fifth database
 * image also in train, 21 random labels), then times:
 *   generate      writing the JPEGs (not part of preparing; for scale)
 *   no cache      decoding + resizing into memory (hl_lists_opts.cache false)
 *   cold cache    the same into a new cache file (posix_fallocate, mmap, fsync, rename)
 *   warm cache    a second load: stat() of every image, the key, mapping the file (nothing decoded)
 *   read pixels   one pass over the mapped pixels (what an epoch touches; from the page cache here)
 *   content hash  SHA-256 of every image file's bytes: what a content-keyed cache would pay on every load
 * Everything stays in --dir (default a new folder under $TMPDIR or /tmp, removed afterwards unless --keep). */
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/data/dataset_impl.h"
#include "core/data/lists.h"
#include "core/io/image.h"
#include "core/rng.h"
#include "lab/commands.h"

static const char usage[] =
    "usage: hashlab bench lists [--images N] [--source-size S] [--image-size P] [--threads T] [--dir DIR] [--keep]\n"
    "                           [--json]\n"
    "  defaults: N 10000 JPEGs of S 256 x 256 pixels, resized to P 224; threads: all cores; DIR: a new folder under\n"
    "  $TMPDIR (or /tmp), removed afterwards unless --keep (the cache file alone is N x 3 x P x P bytes: 1.5 GB)\n";

static float unit(uint64_t i, uint64_t k) { return hl_rng_uniform_at(i, 0x4C495354ull, k); }

static hl_status write_set(const char *dir, int64_t n, int s) {
    char p[1200], err[1024] = "";
    snprintf(p, sizeof p, "%s/images", dir);
    if (mkdir(p, 0755) != 0) return hl_error_set(HL_EIO, "%s: cannot create", p);
    int failed = 0;
    hl_status st = HL_OK;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; i++) {
        int f;
#pragma omp atomic read
        f = failed;
        if (f) continue;
        uint8_t *px = malloc((size_t)s * s * 3);
        float a = unit((uint64_t)i, 0) * 6, b = unit((uint64_t)i, 1) * 6, c = unit((uint64_t)i, 2) * 255;
        uint32_t x32 = 2463534242u ^ (uint32_t)(i * 2654435761u); /* xorshift32 noise */
        char name[1300];
        snprintf(name, sizeof name, "%s/images/%06lld.jpg", dir, (long long)i);
        for (int y = 0; px && y < s; y++)
            for (int x = 0; x < s; x++)
                for (int ch = 0; ch < 3; ch++) {
                    x32 ^= x32 << 13, x32 ^= x32 >> 17, x32 ^= x32 << 5;
                    float v = c + 80 * sinf(a * (float)x / (float)s + (float)ch) +
                              60 * cosf(b * (float)y / (float)s - (float)ch) + 24 * ((float)(x32 >> 8) / 16777216.0f - 0.5f);
                    px[((size_t)y * s + x) * 3 + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
        hl_status e = px ? hl_image_write_jpeg(name, px, s, s, 3, 90) : hl_error_set(HL_ENOMEM, "out of memory");
        free(px);
        if (e < 0) {
#pragma omp critical(bench_lists_err)
            if (!failed) {
                snprintf(err, sizeof err, "%s", hl_error_last());
                st = e;
#pragma omp atomic write
                failed = 1;
            }
        }
    }
    if (failed) return hl_error_set(st, "%s", err);
    FILE *f[3];
    const char *names[3] = {"test.txt", "database.txt", "train.txt"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[k]);
        if (!(f[k] = fopen(p, "w"))) return hl_error_set(HL_EIO, "%s: cannot create", p);
    }
    int64_t nq = HL_MAX(1, n / 20);
    for (int64_t i = 0; i < n; i++) {
        char line[256];
        int k = snprintf(line, sizeof line, "images/%06lld.jpg", (long long)i), any = 0;
        for (int l = 0; l < 21; l++) {
            int on = hl_rng_uniform_at((uint64_t)i, 0x4C41424Cull, (uint64_t)l) < 0.12f || (l == 20 && !any);
            any |= on;
            k += snprintf(line + k, sizeof line - (size_t)k, " %d", on);
        }
        fprintf(i < nq ? f[0] : f[1], "%s\n", line);
        if (i >= nq && (i - nq) % 5 == 0) fprintf(f[2], "%s\n", line);
    }
    for (int k = 0; k < 3; k++)
        if (fclose(f[k]) != 0) st = hl_error_set(HL_EIO, "%s/%s: write error", dir, names[k]);
    return st;
}

static hl_status content_hash(const char *dir, int64_t n, double *mb) {
    int bad = 0;
    double bytes = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : bytes)
    for (int64_t i = 0; i < n; i++) {
        char p[1300];
        unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        snprintf(p, sizeof p, "%s/images/%06lld.jpg", dir, (long long)i);
        FILE *f = fopen(p, "rb");
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = f && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        size_t got;
        while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(ctx, buf, got), bytes += (double)got;
        ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
        if (f) fclose(f);
        if (!ok) {
#pragma omp atomic write
            bad = 1;
        }
    }
    *mb = bytes / 1e6;
    return bad ? hl_error_set(HL_EIO, "%s/images: an image could not be read and hashed", dir) : HL_OK;
}

int hl_cmd_bench_lists(int argc, char **argv) {
    long long n = 10000, s = 256, p = 224, threads = 0, v;
    const char *dir_opt = NULL;
    bool keep = false, json = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) { json = true; continue; }
        if (!strcmp(a, "--keep")) { keep = true; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { printf("%s", usage); return 0; }
        if (!val) {
            fprintf(stderr, "hashlab bench lists: %s needs a value\n%s", a, usage);
            return 2;
        }
        i++;
        if (!strcmp(a, "--images")) { if ((v = hl_cli_parse_int(a, val, 20, 10000000)) < 0) return 2; n = v; }
        else if (!strcmp(a, "--source-size")) { if ((v = hl_cli_parse_int(a, val, 8, 4096)) < 0) return 2; s = v; }
        else if (!strcmp(a, "--image-size")) { if ((v = hl_cli_parse_int(a, val, 8, 4096)) < 0) return 2; p = v; }
        else if (!strcmp(a, "--threads")) { if ((v = hl_cli_parse_int(a, val, 1, 1024)) < 0) return 2; threads = v; }
        else if (!strcmp(a, "--dir")) dir_opt = val;
        else {
            fprintf(stderr, "hashlab bench lists: unknown option '%s'\n%s", a, usage);
            return 2;
        }
    }
    int nt = threads ? hl_threads_set((int)threads) : hl_threads_get();
    char dir[1024], cache[1100];
    if (dir_opt) {
        snprintf(dir, sizeof dir, "%s", dir_opt);
        if (mkdir(dir, 0755) != 0) {
            fprintf(stderr, "hashlab: bench lists: cannot create %s (it must not exist yet)\n", dir);
            return 1;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/hashlab-bench-lists-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "hashlab: bench lists: cannot create a folder under %s\n", tmp && *tmp ? tmp : "/tmp");
            return 1;
        }
    }
    snprintf(cache, sizeof cache, "%s/cache", dir);
    double t[6] = {0}, cpu[6] = {0}, mb = 0, sum = 0, c0 = 0;
    hl_dataset d = {0};
    hl_split sp = {0};
    hl_lists_opts o = {.dir = dir, .size = (int)p, .channels = 3, .cache = false, .cache_dir = cache};
    int rc = 1;
    double t0 = hl_time_s();
    c0 = (double)clock() / CLOCKS_PER_SEC;
    if (write_set(dir, n, (int)s) < 0) goto done;
    t[0] = hl_time_s() - t0, cpu[0] = (double)clock() / CLOCKS_PER_SEC - c0;
    t0 = hl_time_s(), c0 = (double)clock() / CLOCKS_PER_SEC;
    if (hl_dataset_load_lists(&d, &sp, &o) < 0) goto done;
    t[1] = hl_time_s() - t0, cpu[1] = (double)clock() / CLOCKS_PER_SEC - c0;
    hl_dataset_free(&d), hl_split_free(&sp);
    o.cache = true;
    int64_t dec0 = hl_image_list_decoded();
    t0 = hl_time_s(), c0 = (double)clock() / CLOCKS_PER_SEC;
    if (hl_dataset_load_lists(&d, &sp, &o) < 0) goto done;
    t[2] = hl_time_s() - t0, cpu[2] = (double)clock() / CLOCKS_PER_SEC - c0;
    hl_dataset_free(&d), hl_split_free(&sp);
    int64_t dec1 = hl_image_list_decoded();
    t0 = hl_time_s(), c0 = (double)clock() / CLOCKS_PER_SEC;
    if (hl_dataset_load_lists(&d, &sp, &o) < 0) goto done;
    t[3] = hl_time_s() - t0, cpu[3] = (double)clock() / CLOCKS_PER_SEC - c0;
    if (hl_image_list_decoded() != dec1 || !d.map) {
        hl_error_set(HL_ERR, "the warm load decoded images (%lld) or did not map the cache",
                     (long long)(hl_image_list_decoded() - dec1));
        goto done;
    }
    t0 = hl_time_s(), c0 = (double)clock() / CLOCKS_PER_SEC;
    const int64_t bytes = d.n * hl_dataset_image_size(&d);
    uint64_t acc = 0;
#pragma omp parallel for reduction(+ : acc) schedule(static)
    for (int64_t i = 0; i < bytes; i++) acc += d.pixels[i];
    sum = (double)acc;
    t[4] = hl_time_s() - t0, cpu[4] = (double)clock() / CLOCKS_PER_SEC - c0;
    t0 = hl_time_s(), c0 = (double)clock() / CLOCKS_PER_SEC;
    if (content_hash(dir, n, &mb) < 0) goto done;
    t[5] = hl_time_s() - t0, cpu[5] = (double)clock() / CLOCKS_PER_SEC - c0;
    rc = 0;
    if (json) {
        printf("{\"images\": %lld, \"source_size\": %lld, \"image_size\": %lld, \"threads\": %d, \"jpeg_mb\": %.1f, "
               "\"cache_mb\": %.1f, \"decoded_cold\": %lld, \"generate_s\": %.3f, \"no_cache_s\": %.3f, "
               "\"cold_cache_s\": %.3f, \"warm_cache_s\": %.4f, \"read_pixels_s\": %.4f, \"content_hash_s\": %.3f, "
               "\"cpu_s\": [%.3f, %.3f, %.3f, %.4f, %.4f, %.3f]}\n",
               n, s, p, nt, mb, (double)bytes / 1e6, (long long)(dec1 - dec0), t[0], t[1], t[2], t[3], t[4], t[5],
               cpu[0], cpu[1], cpu[2], cpu[3], cpu[4], cpu[5]);
    } else {
        printf("hashlab bench lists — %lld JPEGs of %lldx%lld (%.1f MB) -> %lldx%lld RGB, %d thread%s, in %s\n", n, s, s,
               mb, p, p, nt, nt == 1 ? "" : "s", dir);
        printf("                                         wall s      CPU s  (all threads)\n");
        printf("  generate the JPEGs (for scale)      %9.3f  %9.3f\n", t[0], cpu[0]);
        printf("  decode + resize, no cache           %9.3f  %9.3f   %.2f ms CPU per image\n", t[1], cpu[1],
               1e3 * cpu[1] / (double)n);
        printf("  decode + resize into a cold cache   %9.3f  %9.3f   %.1f MB cache file\n", t[2], cpu[2],
               (double)bytes / 1e6);
        printf("  warm cache: stat + key + mmap       %9.4f  %9.4f   nothing decoded\n", t[3], cpu[3]);
        printf("  one pass over the mapped pixels     %9.4f  %9.4f   checksum %.0f\n", t[4], cpu[4], sum);
        printf("  SHA-256 of every image file         %9.3f  %9.3f   what a content-keyed cache pays per load\n",
               t[5], cpu[5]);
    }
done:
    if (rc) fprintf(stderr, "hashlab: bench lists: %s\n", hl_error_last());
    hl_dataset_free(&d);
    hl_split_free(&sp);
    if (!keep) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (!strchr(dir, '\'') && system(cmd) != 0) fprintf(stderr, "hashlab: bench lists: could not remove %s\n", dir);
    }
    return rc;
}
