/* core/data/image_list.c — "path l1 … lL" image lists (NUS-WIDE / COCO / FLICKR style); see dataset.h.
 *
 * Lines are split on spaces and tabs: the first field is the image path (so paths cannot contain spaces), then L
 * label fields, each "0" or "1". L is set by the first non-blank line and must be the same on every line. Trailing
 * spaces, CRLF line ends and a UTF-8 byte-order mark are tolerated, blank lines skipped. Relative paths are taken
 * from `root`, or from the list's own folder when root is NULL; absolute paths are used as they are. Images are
 * decoded by core/io/image.h (format by magic bytes) in parallel and resized to size × size (aspect ratio not kept).
 * The first failing image in list order is reported, with the list path and line number.
 * The parser and the one-image loader are shared with core/data/image_stream.c (streamed reads for hashlab embed /
 * encode) through dataset_impl.h; there, label fields are optional (a plain list of paths is accepted).
 */
#include "core/data/dataset.h"
#include "core/data/dataset_impl.h"
#include "core/io/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/image.h"

enum { LIST_MAX_SIZE = 4096 };
#define LIST_MAX_FILE ((int64_t)1 << 31)

typedef hl_list_entries list_entries;

void hl__list_entries_free(list_entries *e) {
    free(e->path);
    free(e->line);
    free(e->bits);
    memset(e, 0, sizeof *e);
}

hl_status hl__list_read_text(const char *path, char **out) {
    *out = NULL;
    FILE *f = NULL;
    int64_t fsize = 0;
    hl_status st = hl_file_open_read(path, &f, &fsize);
    if (st < 0) return st;
    char *buf = NULL;
    if (fsize > LIST_MAX_FILE) {
        st = hl_error_set(HL_EFORMAT, "%s: %lld bytes; a list file may have at most %lld", path, (long long)fsize,
                          (long long)LIST_MAX_FILE);
        goto done;
    }
    buf = malloc((size_t)fsize + 1);
    if (!buf) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(buf, 1, (size_t)fsize, f) != (size_t)fsize) {
        st = hl_error_set(HL_EIO, "%s: read error", path);
        goto done;
    }
    buf[fsize] = 0;
    if (memchr(buf, 0, (size_t)fsize)) {
        st = hl_error_set(HL_EFORMAT, "%s: contains NUL bytes: not a text image list", path);
        goto done;
    }
    *out = buf;
    buf = NULL;
done:
    free(buf);
    fclose(f);
    return st;
}

static bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }

static hl_status entries_grow(list_entries *e, const char *list_path) {
    int64_t nc = e->cap ? 2 * e->cap : 1024;
    const size_t nb = (size_t)nc * (size_t)(e->nlabels ? e->nlabels : 1);
    char **p = realloc(e->path, (size_t)nc * sizeof *p);
    if (p) e->path = p;
    int64_t *l = p ? realloc(e->line, (size_t)nc * sizeof *l) : NULL;
    if (l) e->line = l;
    uint8_t *b = l ? realloc(e->bits, nb) : NULL;
    if (b) e->bits = b;
    if (!b) return hl_error_set(HL_ENOMEM, "%s: out of memory for %lld entries", list_path, (long long)nc);
    e->cap = nc;
    return HL_OK;
}

/* Parses the list text in place (paths are NUL-terminated inside `text`). */
hl_status hl__list_parse(list_entries *e, char *text, const char *list_path, bool labels_optional) {
    memset(e, 0, sizeof *e);
    hl_status st = HL_OK;
    char **tok = NULL;
    int tcap = 0;
    int64_t lineno = 0, first_line = 0;
    if ((unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf)
        text += 3; /* UTF-8 byte-order mark */
    for (char *s = text; *s;) {
        char *eol = strchr(s, '\n');
        char *next = eol ? eol + 1 : s + strlen(s);
        if (eol) *eol = 0;
        lineno++;
        int nf = 0;
        for (char *p = s;;) {
            while (is_space(*p)) p++;
            if (!*p) break;
            if (nf == tcap) {
                int nc = tcap ? 2 * tcap : 64;
                char **t = realloc(tok, (size_t)nc * sizeof *t);
                if (!t) {
                    st = hl_error_set(HL_ENOMEM, "%s: out of memory", list_path);
                    goto done;
                }
                tok = t;
                tcap = nc;
            }
            tok[nf++] = p;
            while (*p && !is_space(*p)) p++;
            if (*p) *p++ = 0;
        }
        s = next;
        if (nf == 0) continue;
        if (first_line == 0) {
            if (nf < 2 && !labels_optional) {
                st = hl_error_set(HL_EFORMAT, "%s:%lld: no labels after the path (expected \"path l1 ... lL\")",
                                  list_path, (long long)lineno);
                goto done;
            }
            e->nlabels = nf - 1;
            first_line = lineno;
        }
        if (nf - 1 != e->nlabels) {
            st = hl_error_set(HL_EFORMAT, "%s:%lld: %d labels, expected %d (as on line %lld)%s", list_path,
                              (long long)lineno, nf - 1, e->nlabels, (long long)first_line,
                              labels_optional ? ": every line has the same number of labels, or none has any" : "");
            goto done;
        }
        if (e->n == e->cap) HL_TRY(entries_grow(e, list_path));
        for (int k = 1; k < nf; k++) {
            if (strcmp(tok[k], "0") != 0 && strcmp(tok[k], "1") != 0) {
                st = hl_error_set(HL_EFORMAT, "%s:%lld: label %d is '%.32s', expected 0 or 1", list_path,
                                  (long long)lineno, k, tok[k]);
                goto done;
            }
            e->bits[e->n * e->nlabels + k - 1] = tok[k][0] == '1';
        }
        e->path[e->n] = tok[0];
        e->line[e->n++] = lineno;
    }
    if (e->n == 0) st = hl_error_set(HL_EFORMAT, "%s: no images listed", list_path);
done:
    free(tok);
    if (st < 0) hl__list_entries_free(e);
    return st;
}

/* Decodes, resizes and stores image i as planar [c, h, w] (exact: another size is an error, not resized). */
hl_status hl__list_load_one(const list_entries *e, int64_t i, const char *root, const char *list_path, int h, int w,
                            bool exact, int channels, uint8_t *dst) {
    char full[4096];
    const char *p = e->path[i];
    const long long line = (long long)e->line[i];
    if (p[0] != '/' && root && *root) {
        if (snprintf(full, sizeof full, "%s/%s", root, p) >= (int)sizeof full)
            return hl_error_set(HL_EINVAL, "%s:%lld: path too long", list_path, line);
        p = full;
    }
    hl_image im = {0};
    uint8_t *rs = NULL;
    hl_status st = hl_image_load(&im, p, channels);
    if (st < 0) goto done;
    if (exact && (im.w != w || im.h != h)) {
        st = hl_error_set(HL_EMISMATCH, "%s: %dx%d pixels (height x width), but the first image listed is %dx%d: "
                          "images of mixed sizes need a size to resize them to (--image-size)", p, im.h, im.w, h, w);
        goto done;
    }
    rs = malloc((size_t)h * w * channels);
    if (!rs) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", p);
        goto done;
    }
    HL_TRY(hl_image_resize(im.px, im.w, im.h, channels, rs, w, h));
    const int64_t plane = (int64_t)h * w;
    for (int64_t q = 0; q < plane; q++)
        for (int ch = 0; ch < channels; ch++) dst[ch * plane + q] = rs[q * channels + ch];
done:
    if (st < 0) hl_error_wrap("%s:%lld", list_path, line);
    free(rs);
    hl_image_free(&im);
    return st;
}

hl_status hl_dataset_load_image_list(hl_dataset *out, const char *list_path, const char *root, int size, int channels) {
    memset(out, 0, sizeof *out);
    if (size < 1 || size > LIST_MAX_SIZE || (channels != 1 && channels != 3))
        return hl_error_set(HL_EINVAL, "%s: image size %d (1..%d) and channels %d (1 or 3) are not supported",
                            list_path, size, LIST_MAX_SIZE, channels);
    char *text = NULL, dirbuf[1024];
    list_entries e = {0};
    hl_status st = HL_OK;
    HL_TRY(hl__list_read_text(list_path, &text));
    HL_TRY(hl__list_parse(&e, text, list_path, false));
    if (!root) {
        const char *slash = strrchr(list_path, '/');
        snprintf(dirbuf, sizeof dirbuf, "%.*s", slash ? (int)(slash - list_path) : 1, slash ? list_path : ".");
        if (slash == list_path) snprintf(dirbuf, sizeof dirbuf, "/");
        root = dirbuf;
    }
    const int64_t n = e.n, sz = (int64_t)channels * size * size;
    out->pixels = malloc((size_t)(n * sz));
    if (!out->pixels) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %lld images of %lld bytes", list_path, (long long)n,
                          (long long)sz);
        goto done;
    }
    int64_t bad = n;
    hl_status bad_st = HL_OK;
    char bad_msg[1024] = "";
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t i = 0; i < n; i++) {
        int64_t b;
#pragma omp atomic read
        b = bad;
        if (b < i) continue;
        hl_status s = hl__list_load_one(&e, i, root, list_path, size, size, false, channels, out->pixels + i * sz);
        if (s < 0) {
#pragma omp critical(hl_image_list_error)
            if (i < bad) {
                snprintf(bad_msg, sizeof bad_msg, "%s", hl_error_last());
                bad_st = s;
#pragma omp atomic write
                bad = i;
            }
        }
    }
    if (bad < n) {
        st = hl_error_set(bad_st, "%s", bad_msg);
        goto done;
    }
    HL_TRY(hl_labels_create(&out->labels, n, e.nlabels));
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < e.nlabels; k++)
            if (e.bits[i * e.nlabels + k]) hl_labels_set(&out->labels, i, k);
    out->n = n;
    out->c = channels;
    out->h = out->w = size;
    const char *base = strrchr(list_path, '/');
    base = base ? base + 1 : list_path;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out->name, sizeof out->name, "%.*s", len, base);
    snprintf(out->source, sizeof out->source, "%s", list_path);
done:
    hl__list_entries_free(&e);
    free(text);
    if (st < 0) hl_dataset_free(out);
    return st;
}
