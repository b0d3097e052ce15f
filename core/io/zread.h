/* core/io/zread.h — strict reading of a file that may be gzip-compressed (IDX files of the MNIST family, ...).
 *
 * A file that starts with the gzip magic (1f 8b) is inflated; anything else is read as it is. Unlike zlib's gzread,
 * which silently ignores whatever follows a gzip stream, the reader accepts only what RFC 1952 allows: one or more
 * complete gzip members back to back. Bytes after the last member that do not start another one are an error
 * ("PATH: N bytes of trailing data after the gzip stream, at offset X"), and so are a stream cut before its end marker
 * ("truncated") and corrupt data (zlib's message). A clean end of data is a short read, not an error.
 *
 *     hl_zread *z;  HL_TRY(hl_zread_open(&z, path));
 *     int64_t got = hl_zread_read(z, buf, n);   // -1: error set (HL_EFORMAT, HL_EIO)
 *     hl_zread_close(z);
 */
#ifndef HL_IO_ZREAD_H
#define HL_IO_ZREAD_H

#include <stdbool.h>

#include "core/common.h"

typedef struct hl_zread hl_zread;

/* HL_ENOTFOUND / HL_EIO "PATH: cannot open: reason"; HL_ENOMEM. */
hl_status hl_zread_open(hl_zread **out, const char *path);
/* Up to n bytes into dst: n unless the data ends first; -1 on an error (message set, naming the path). */
int64_t hl_zread_read(hl_zread *z, void *dst, int64_t n);
/* Whether the file is gzip-compressed. */
bool hl_zread_is_gzip(const hl_zread *z);
void hl_zread_close(hl_zread *z); /* NULL-safe */

#endif
