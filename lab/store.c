/* lab/store.c — run directory, lock, cell states, JSON files; see store.h. */
#include "lab/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/io/atomic.h"
#include "core/io/json.h"
#include "reports/result.h"

hl_status hl_store_mkdirs(const char *path) {
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return hl_error_set(HL_EINVAL, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return hl_error_set(HL_EIO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return hl_error_set(HL_EIO, "%s: not a directory", path);
    return HL_OK;
}

hl_status hl_store_open(hl_store *s, const char *dir, int shard_index, int shard_count) {
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    hl_status st = HL_OK;
    char p[1200];
    if (snprintf(s->dir, sizeof s->dir, "%s", dir) >= (int)sizeof s->dir)
        return hl_error_set(HL_EINVAL, "%s: path too long", dir);
    static const char *const sub[] = {"", "/cells", "/artifacts", "/split"};
    for (size_t i = 0; i < HL_ARRAY_LEN(sub); i++) {
        snprintf(p, sizeof p, "%s%s", dir, sub[i]);
        HL_TRY(hl_store_mkdirs(p));
    }
    if (shard_count > 1)
        snprintf(p, sizeof p, "%s/.lock-shard-%d-of-%d", dir, shard_index, shard_count);
    else
        snprintf(p, sizeof p, "%s/.lock", dir);
    s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        st = hl_error_set(HL_EIO, "%s: cannot open: %s", p, strerror(errno));
        goto done;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        st = hl_error_set(HL_EIO, "%s: another hashlab run is using this directory", dir);
        goto done;
    }
    snprintf(p, sizeof p, "%s/log.txt", dir);
    s->log = fopen(p, "a");
    if (!s->log) st = hl_error_set(HL_EIO, "%s: cannot open: %s", p, strerror(errno));
done:
    if (st < 0) hl_store_close(s);
    return st;
}

void hl_store_close(hl_store *s) {
    if (s->log) fclose(s->log);
    s->log = NULL;
    if (s->lock_fd >= 0) close(s->lock_fd); /* closing releases the flock */
    s->lock_fd = -1;
}

char *hl_store_cell_dir(const char *rundir, const char *key, char *buf, size_t n) {
    snprintf(buf, n, "%s/cells/%s", rundir, key);
    return buf;
}

hl_cell_state hl_store_cell_state(const char *rundir, const char *key, const char *kind, char **error) {
    if (error) *error = NULL;
    char p[1200];
    hl_result r;
    snprintf(p, sizeof p, "%s/cells/%s/result.json", rundir, key);
    hl_status st = hl_result_read(p, key, kind, &r);
    if (st == HL_ENOTFOUND) return HL_CELL_STATE_PENDING;
    if (st < 0) {
        if (error) *error = strdup(hl_error_last());
        hl_error_clear();
        return HL_CELL_STATE_INVALID;
    }
    hl_cell_state s = r.done ? HL_CELL_STATE_DONE : HL_CELL_STATE_FAILED;
    if (!r.done && error) *error = strdup(hl_config_get(r.root, "error")->text);
    hl_result_free(&r);
    return s;
}

const char *hl_cell_state_name(hl_cell_state s) {
    static const char *const names[HL_CELL_STATE_COUNT] = {"pending", "done", "failed", "invalid"};
    return s >= 0 && s < HL_CELL_STATE_COUNT ? names[s] : "?";
}

hl_status hl_store_set_aside(const char *rundir, const char *key) {
    char p[1200], q[1210];
    snprintf(p, sizeof p, "%s/cells/%s/result.json", rundir, key);
    snprintf(q, sizeof q, "%s.bad", p);
    if (rename(p, q) == 0) return HL_OK;
    int e = errno;
    struct stat sb;
    if (lstat(q, &sb) == 0) { /* an older .bad of another type (file vs directory) is in the way: move it away too */
        char r[1220];
        snprintf(r, sizeof r, "%s.%ld", q, (long)time(NULL));
        if (rename(q, r) == 0 && rename(p, q) == 0) return HL_OK;
        e = errno;
    }
    return hl_error_set(HL_EIO, "%s: cannot set it aside as %s: %s", p, q, strerror(e));
}

hl_status hl_store_write_json(const char *path, const hl_config *tree) {
    char *json = NULL;
    hl_status st = hl_config_canonical_json(tree, &json);
    if (st < 0) return st;
    size_t n = strlen(json);
    char *buf = realloc(json, n + 2);
    if (!buf) {
        free(json);
        return hl_error_set(HL_ENOMEM, "%s: out of memory", path);
    }
    buf[n] = '\n';
    buf[n + 1] = '\0';
    st = hl_atomic_write_file(path, buf, n + 1);
    free(buf);
    return st;
}

hl_status hl_store_read_json(const char *path, hl_config **out) {
    return hl_json_load_file(path, out);
}

void hl_store_log(hl_store *s, const char *fmt, ...) {
    if (!s || !s->log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->log, fmt, ap);
    va_end(ap);
    fputc('\n', s->log);
    fflush(s->log);
}

hl_status hl_store_label_link(const char *rundir, const char *label, const char *key, bool train) {
    char rel[1024], path[3000], tmp[3100], target[3100], dir[3000];
    size_t k = 0;
    int slashes = 0; /* the label's first three components (method/bits/seed) are folders, the rest one name */
    const char *arrow = strstr(label, "=>");
    for (const char *c = label; *c && k + 8 < sizeof rel; c++) {
        if (arrow && c == arrow) {
            k += (size_t)snprintf(rel + k, sizeof rel - k, "-to-");
            c++; /* skip '>' */
        } else if (*c == '/' && slashes < 3 && (!arrow || c < arrow)) {
            slashes++;
            rel[k++] = '/';
        } else {
            bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                      *c == '_' || *c == '-';
            rel[k++] = ok ? *c : '-';
        }
    }
    rel[k] = 0;
    if (train) snprintf(rel + k, sizeof rel - k, "/train");
    int up = 1; /* by-label, then one per folder of rel */
    for (const char *c = rel; *c; c++) up += *c == '/';
    snprintf(path, sizeof path, "%s/by-label/%s", rundir, rel);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    hl_status st = hl_store_mkdirs(dir);
    if (st < 0) return st;
    size_t t = 0;
    for (int i = 0; i < up; i++) t += (size_t)snprintf(target + t, sizeof target - t, "../");
    snprintf(target + t, sizeof target - t, "cells/%s", key);
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
        st = hl_error_set(HL_EIO, "%s: cannot link to %s: %s", path, target, strerror(errno));
        unlink(tmp);
        return st;
    }
    return HL_OK;
}
