/* core/io/file.h — opening input files with the checks every loader needs. */
#ifndef HL_IO_FILE_H
#define HL_IO_FILE_H

#include <stdio.h>

#include "core/common.h"

/* Opens `path` for binary reading and checks it is a regular file; *size receives its length in bytes.
 * Errors: HL_ENOTFOUND (missing), HL_EIO (cannot open, not a regular file), each naming the path; *out is then NULL
 * and nothing is left open. */
hl_status hl_file_open_read(const char *path, FILE **out, int64_t *size);

#endif
