/* core/data/fetch.h — download, verify and unpack a dataset archive (`hashlab data fetch cifar10|cifar100`).
 *
 * hl_fetch(o, rep) makes <root>/<top>/ hold the archive's contents, in these steps:
 *   1. Already there: if <root>/<top>/ exists and every expected file is present (with its size when check_sizes),
 *      nothing is downloaded (rep->already_present) unless o->force.
 *   2. Download (libcurl): bytes go to <root>/<archive>.part. A .part left by an interrupted run is continued with a
 *      Range request (CURLOPT_RESUME_FROM_LARGE). A server that ignores the Range (200 instead of 206) is handled by
 *      restarting from zero; 416 (range not satisfiable: the .part may already be complete) goes on to step 3.
 *      o->force discards a .part (and replaces a verified archive once the new one verifies). Redirects are followed
 *      (http/https only; file:// URLs work for local mirrors), HTTP status >= 400 is an error naming the URL and
 *      status, connect and low-speed timeouts apply, loopback never goes through a proxy. An interrupted transfer
 *      keeps the .part and is retried (resuming) up to o->retries times; the error says a rerun resumes. Progress
 *      (o->progress) goes to stderr: an updating line (percent, MB, MB/s, at most 5 updates/s) on a terminal, a
 *      plain line per 10 % (at most one a second) otherwise.
 *   3. Verify: the MD5 (OpenSSL EVP) of the complete file must equal o->md5. A mismatch deletes the .part and is
 *      HL_EMISMATCH naming both sums. Only a verified archive is renamed to <root>/<archive> (and kept: a later
 *      fetch re-verifies and reuses it instead of downloading, unless o->force).
 *   4. Unpack (libarchive, any tar flavour, gzip/bzip2/xz) into a fresh temp dir <root>/.hashlab-unpack-XXXXXX,
 *      refusing (HL_EFORMAT) absolute paths, ".." components, entries outside <top>/, anything but regular files and
 *      directories (symlinks, hard links, devices), duplicate entries and more than HL_FETCH_MAX_UNPACKED bytes.
 *   5. Check: every expected file exists in the temp <top>/ as a regular file, with its size when check_sizes
 *      (HL_EFORMAT "<path>: expected N bytes, found M"). Then the temp <top> is renamed into place (an old or
 *      incomplete <root>/<top> is first moved aside into the temp dir and deleted with it), so <root>/<top> is
 *      never half-written. On any error the temp dir is removed and <root>/<top> is untouched; a verified archive
 *      that fails steps 4-5 is deleted too (it would fail again).
 * One fetch per archive at a time: a second concurrent fetch into the same root fails (POSIX lock on
 * <root>/.<archive>.lock).
 *
 * Usage (tests, mirrors):
 *     hl_fetch_opts o = {.url = "http://127.0.0.1:8080/c.tar.gz", .md5 = "c32a...", .root = dir,
 *                        .archive = "c.tar.gz", .top = "cifar-10-batches-bin", .files = names, .n_files = 2};
 *     hl_fetch_report rep;
 *     if (hl_fetch(&o, &rep) < 0) fprintf(stderr, "%s\n", hl_error_last());
 * Official datasets: hl_fetch_opts_for(&o, hl_fetch_source_find("cifar10"), root).
 */
#ifndef HL_DATA_FETCH_H
#define HL_DATA_FETCH_H

#include "core/common.h"

#define HL_FETCH_MAX_UNPACKED ((int64_t)8 << 30) /* refuse downloads and unpacked archives above 8 GiB */
#define HL_FETCH_MAX_FILES 16

typedef struct hl_fetch_opts {
    const char *url;          /* http(s):// (or file://) URL of the archive */
    const char *md5;          /* expected MD5 of the archive, 32 hex digits (either case) */
    const char *root;         /* directory the archive and the dataset go to; created (with parents) if missing */
    const char *archive;      /* archive file name inside root, e.g. "cifar-10-binary.tar.gz" (no '/') */
    const char *top;          /* folder the archive unpacks to, e.g. "cifar-10-batches-bin" (no '/') */
    const char *const *files; /* [n_files] expected files, relative to top */
    const int64_t *sizes;     /* [n_files] their sizes in bytes (-1: any), used when check_sizes; NULL = all any */
    int n_files;
    bool force;             /* download and unpack again even if the dataset or a verified archive is present */
    bool check_sizes;       /* check `sizes` (the CLI always does; synthetic test archives may not) */
    bool progress;          /* progress and step lines on stderr */
    int retries;            /* automatic resumes after an interrupted transfer (0: none) */
    double retry_wait_s;    /* pause before each retry */
    long connect_timeout_s; /* 0 -> 30 */
    long low_speed_time_s;  /* abort when below 1 kB/s for this long; 0 -> 60 */
} hl_fetch_opts;

typedef struct hl_fetch_report {
    bool already_present;     /* the dataset was complete already: nothing downloaded or unpacked */
    bool archive_reused;      /* a verified <root>/<archive> was reused: nothing downloaded */
    bool resumed;             /* a Range request continued a partial download */
    bool range_ignored;       /* the server ignored a Range request (restarted from zero) */
    int requests;             /* transfers started */
    int64_t bytes_downloaded; /* body bytes received in this call */
    char path[1024];          /* <root>/<top> */
    char archive_path[1024];  /* <root>/<archive> */
} hl_fetch_report;

/* rep may be NULL; it is filled also on failure (as far as the fetch got). */
hl_status hl_fetch(const hl_fetch_opts *o, hl_fetch_report *rep);

/* The published datasets `hashlab data fetch` knows. */
typedef struct hl_fetch_source {
    const char *name; /* "cifar10", "cifar100" */
    const char *url, *md5, *archive, *top;
    int n_files;
    const char *files[HL_FETCH_MAX_FILES];
    int64_t sizes[HL_FETCH_MAX_FILES];
} hl_fetch_source;

/* NULL when unknown. */
const hl_fetch_source *hl_fetch_source_find(const char *name);
/* Space-separated names of the known sources ("cifar10 cifar100"). */
const char *hl_fetch_source_names(void);
/* Fills *o (zeroing it first) for source s into root: official URL and MD5, check_sizes on, progress on, 3 retries
 * 2 s apart. */
void hl_fetch_opts_for(hl_fetch_opts *o, const hl_fetch_source *s, const char *root);

/* The mirror override of source s, for machines behind a proxy or firewall: when HASHLAB_FETCH_URL_<NAME> and
 * HASHLAB_FETCH_MD5_<NAME> (NAME in upper case: CIFAR10, CIFAR100) are both set and non-empty, o->url and o->md5
 * point at them (the environment's strings) and *used (if non-NULL) is set; when neither is, *o is untouched. One
 * without the other, or an MD5 that is not 32 hex digits, is HL_EINVAL naming both variables (a mirror must come
 * with its checksum). `hashlab data fetch` (without --url) and `hashlab run --fetch` apply it. */
hl_status hl_fetch_mirror_from_env(hl_fetch_opts *o, const hl_fetch_source *s, bool *used);

/* Where `hashlab data fetch` puts datasets by default: $HASHLAB_DATA if set and non-empty, else ~/.cache/hashlab
 * ($HOME, else the passwd entry). One of the places hl_dataset_open searches (core/data/dataset.h). */
hl_status hl_fetch_default_root(char *buf, size_t n);

/* MD5 of a file as 32 lowercase hex digits + NUL (OpenSSL EVP). */
hl_status hl_fetch_md5_file(const char *path, char out[33]);

#endif
