/* core/io/atomic.c — temp file + fsync + rename; see atomic.h. */
#include "core/io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(hl_atomic_file *af) {
    free(af->path);
    free(af->tmp);
    af->f = NULL;
    af->path = af->tmp = NULL;
}

hl_status hl_atomic_write_begin(hl_atomic_file *af, const char *path) {
    memset(af, 0, sizeof *af);
    HL_ASSERT(path && path[0], "empty path");
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0; /* directory part including '/' */
    const char *base = path + dlen;
    if (!base[0]) return hl_error_set(HL_EINVAL, "%s: not a file path", path);
    size_t n = strlen(path) + 16;
    af->path = malloc(strlen(path) + 1);
    af->tmp = malloc(n);
    if (!af->path || !af->tmp) {
        release(af);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    strcpy(af->path, path);
    snprintf(af->tmp, n, "%.*s.%s.tmp-XXXXXX", (int)dlen, path, base);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        hl_status st = hl_error_set(HL_EIO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        release(af);
        return st;
    }
    (void)fchmod(fd, 0644);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        hl_status st = hl_error_set(HL_EIO, "%s: fdopen failed: %s", path, strerror(errno));
        close(fd);
        unlink(af->tmp);
        release(af);
        return st;
    }
    return HL_OK;
}

void hl_atomic_write_abort(hl_atomic_file *af) {
    if (!af) return;
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    release(af);
}

/* fsync of the directory makes the rename itself durable. Failure to open the directory is not an error (some file
 * systems do not allow it); a failing fsync is. */
static hl_status sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (slash) {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(len + 1);
        if (!dir) return HL_OK;
        memcpy(dir, path, len);
        dir[len] = 0;
    }
    int fd = open(dir ? dir : ".", O_RDONLY);
    hl_status st = HL_OK;
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
            st = hl_error_set(HL_EIO, "%s: fsync of the directory failed: %s", path, strerror(errno));
        close(fd);
    }
    free(dir);
    return st;
}

hl_status hl_atomic_write_commit(hl_atomic_file *af) {
    HL_ASSERT(af && af->f, "hl_atomic_write_commit without begin");
    hl_status st = HL_OK;
    const char *what = NULL;
    if (ferror(af->f))
        what = "write";
    else if (fflush(af->f) != 0)
        what = "flush";
    else if (fsync(fileno(af->f)) != 0)
        what = "fsync";
    int err = errno;
    if (fclose(af->f) != 0 && !what) {
        what = "close";
        err = errno;
    }
    af->f = NULL;
    if (!what && rename(af->tmp, af->path) != 0) {
        what = "rename";
        err = errno;
    }
    if (what) {
        st = hl_error_set(HL_EIO, "%s: %s failed: %s", af->path, what, strerror(err));
        unlink(af->tmp);
        release(af);
        return st;
    }
    st = sync_dir(af->path);
    release(af);
    return st;
}

hl_status hl_atomic_write_file(const char *path, const void *buf, size_t n) {
    hl_atomic_file af;
    hl_status st = hl_atomic_write_begin(&af, path);
    if (st < 0) return st;
    if (n && fwrite(buf, 1, n, af.f) != n) {
        st = hl_error_set(HL_EIO, "%s: write failed: %s", path, strerror(errno));
        hl_atomic_write_abort(&af);
        return st;
    }
    return hl_atomic_write_commit(&af);
}
