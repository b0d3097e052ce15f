/* core/io/zread.c — strict gzip-or-raw reader; contract in zread.h. */
#include "core/io/zread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ZREAD_CHUNK (1 << 16)

struct hl_zread {
    FILE *f;
    char *path;
    bool gz, end;
    z_stream z;
    int64_t consumed; /* compressed bytes fed to zlib and used (offset of the next unread byte) */
    unsigned char in[ZREAD_CHUNK];
};

hl_status hl_zread_open(hl_zread **out, const char *path) {
    *out = NULL;
    hl_zread *z = calloc(1, sizeof *z);
    if (!z || !(z->path = strdup(path))) {
        free(z);
        return hl_error_set(HL_ENOMEM, "%s: out of memory", path);
    }
    if (!(z->f = fopen(path, "rb"))) {
        int e = errno;
        hl_zread_close(z);
        return hl_error_set(e == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    unsigned char magic[2];
    size_t k = fread(magic, 1, 2, z->f);
    z->gz = k == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    rewind(z->f);
    if (z->gz && inflateInit2(&z->z, 16 + MAX_WBITS) != Z_OK) {
        hl_zread_close(z);
        return hl_error_set(HL_ENOMEM, "%s: cannot start zlib", path);
    }
    *out = z;
    return HL_OK;
}

bool hl_zread_is_gzip(const hl_zread *z) { return z->gz; }

/* Tops up the input so at least `want` bytes are available (fewer at the end of the file). -1 on a read error. */
static int fill(hl_zread *z, unsigned want) {
    if (z->z.avail_in >= want) return 0;
    if (z->z.avail_in && z->z.next_in != z->in) memmove(z->in, z->z.next_in, z->z.avail_in);
    z->z.next_in = z->in;
    size_t k = fread(z->in + z->z.avail_in, 1, sizeof z->in - z->z.avail_in, z->f);
    if (ferror(z->f)) {
        hl_error_set(HL_EIO, "%s: read error: %s", z->path, strerror(errno));
        return -1;
    }
    z->z.avail_in += (uInt)k;
    return 0;
}

int64_t hl_zread_read(hl_zread *z, void *dst, int64_t n) {
    int64_t got = 0;
    if (!z->gz) {
        while (got < n) {
            size_t k = fread((char *)dst + got, 1, (size_t)HL_MIN(n - got, (int64_t)1 << 30), z->f);
            if (ferror(z->f)) return hl_error_set(HL_EIO, "%s: read error: %s", z->path, strerror(errno)), -1;
            if (k == 0) break;
            got += (int64_t)k;
        }
        return got;
    }
    while (got < n && !z->end) {
        if (fill(z, 1) < 0) return -1;
        if (z->z.avail_in == 0)
            return hl_error_set(HL_EFORMAT, "%s: truncated: gzip stream ends before its end marker", z->path), -1;
        uInt before = z->z.avail_in, room = (uInt)HL_MIN(n - got, (int64_t)1 << 30);
        z->z.next_out = (Bytef *)dst + got;
        z->z.avail_out = room;
        int r = inflate(&z->z, Z_NO_FLUSH);
        got += room - z->z.avail_out;
        z->consumed += before - z->z.avail_in;
        if (r == Z_STREAM_END) {
            /* another member may follow; anything else after the stream is an error */
            if (fill(z, 2) < 0) return -1;
            if (z->z.avail_in == 0) {
                z->end = true;
                break;
            }
            if (z->z.avail_in < 2 || z->z.next_in[0] != 0x1f || z->z.next_in[1] != 0x8b) {
                long size = (fseek(z->f, 0, SEEK_END) == 0) ? ftell(z->f) : -1;
                return hl_error_set(HL_EFORMAT, "%s: %lld bytes of trailing data after the gzip stream, at offset %lld",
                                    z->path, (long long)(size - z->consumed), (long long)z->consumed),
                       -1;
            }
            inflateReset(&z->z);
            continue;
        }
        if (r == Z_BUF_ERROR && z->z.avail_in == 0) continue; /* needs more input: fill() decides */
        if (r != Z_OK && r != Z_BUF_ERROR)
            return hl_error_set(HL_EFORMAT, "%s: corrupt gzip data: %s", z->path, z->z.msg ? z->z.msg : zError(r)), -1;
    }
    return got;
}

void hl_zread_close(hl_zread *z) {
    if (!z) return;
    if (z->gz) inflateEnd(&z->z);
    if (z->f) fclose(z->f);
    free(z->path);
    free(z);
}
