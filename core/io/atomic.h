/* core/io/atomic.h — all-or-nothing file writes: a temp file in the target's directory, then fsync + rename.
 *
 *     hl_atomic_file af;
 *     if ((st = hl_atomic_write_begin(&af, path)) < 0) return st;
 *     fwrite(..., af.f);                       // any stdio writes
 *     if (failed) { hl_atomic_write_abort(&af); return st; }
 *     return hl_atomic_write_commit(&af);      // flush, fsync, rename over path, fsync the directory
 *
 * Guarantees (POSIX): readers of `path` see either the old file (or none) or the complete new one, never a partial
 * file, also after a crash once commit has returned. The temp file "<dir>/.<base>.tmp-XXXXXX" is removed by
 * abort and by a failing commit; a crash between begin and commit can leave it behind (hidden name, never `path`).
 * Commit checks ferror/fflush/fsync/fclose/rename and reports the first failure as HL_EIO. The new file gets mode
 * 0644. begin/commit/abort are not thread-safe on one hl_atomic_file; distinct files are independent.
 */
#ifndef HL_IO_ATOMIC_H
#define HL_IO_ATOMIC_H

#include <stdio.h>

#include "core/common.h"

typedef struct hl_atomic_file {
    FILE *f;    /* write here between begin and commit/abort */
    char *path; /* final path (heap) */
    char *tmp;  /* temp path (heap) */
} hl_atomic_file;

hl_status hl_atomic_write_begin(hl_atomic_file *af, const char *path);
/* Always releases af (even on failure, when the temp file is removed and `path` is untouched). */
hl_status hl_atomic_write_commit(hl_atomic_file *af);
/* Closes and removes the temp file; `path` is untouched. Safe on a released or zeroed af. */
void hl_atomic_write_abort(hl_atomic_file *af);

/* Convenience: writes n bytes atomically. */
hl_status hl_atomic_write_file(const char *path, const void *buf, size_t n);

#endif
