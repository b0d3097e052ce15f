/* core/io/file.c — see file.h. */
#include "core/io/file.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

hl_status hl_file_open_read(const char *path, FILE **out, int64_t *size) {
    *out = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return hl_error_set(errno == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return hl_error_set(HL_EIO, "%s: not a regular file", path);
    }
    *out = f;
    *size = (int64_t)sb.st_size;
    return HL_OK;
}
