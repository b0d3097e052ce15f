/* core/data/image_list.c — "path l1 … lL" image lists (NUS-WIDE / COCO / FLICKR style); see dataset.h.
 *
 * Lines are split on spaces and tabs: the first field is the image path (so paths cannot contain spaces), then L
 * label fields, each "0" or "1". L is set by the first non-blank line and must be the same on every line. Trailing
 * spaces, CRLF line ends and a UTF-8 byte-order mark are tolerated, blank lines skipped. Relative paths are taken
 * from `root`, or from the list's own folder when root is NULL; absolute paths are used as they are. Images are
 * decoded by core/io/image.h (format by magic bytes) in parallel and resized to size × size (aspect ratio not kept).
 * The first failing image in list order is reported, with the list path and line number. Decoding goes in chunks
 * of DECODE_CHUNK images (one parallel loop each); between chunks the loop reports progress and honours stop requests.
 * The reader and the decoder are shared with core/data/image_stream.c (streamed reads for hashlab embed / encode)
 * through dataset_impl.h; there, label fields are optional (hl_list_file_read_opt: a plain list of paths is accepted)
 * and images may be required to have an exact size instead of being resized (hl_images_decode_hw).
 */
#include "core/data/dataset.h"
#include "core/data/dataset_impl.h"
#include "core/io/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/image.h"
#include "core/job.h"

enum { LIST_MAX_SIZE = 4096, DECODE_CHUNK = 512 };
#define LIST_MAX_FILE ((int64_t)1 << 31)

static int64_t g_decoded; /* hl_image_list_decoded */

int64_t hl_image_list_decoded(void) {
    int64_t v;
#pragma omp atomic read
    v = g_decoded;
    return v;
}

void hl_list_file_free(hl_list_file *l) {
    if (!l) return;
    free(l->path_of_list);
    free(l->text);
    free(l->path);
    free(l->line);
    free(l->bits);
    memset(l, 0, sizeof *l);
}

static hl_status read_text(const char *path, char **out) {
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

static hl_status entries_grow(hl_list_file *e, const char *list_path) {
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

/* Parses e->text in place (paths are NUL-terminated inside it). */
static hl_status parse_list(hl_list_file *e, const char *list_path, bool labels_optional) {
    hl_status st = HL_OK;
    char **tok = NULL, *text = e->text;
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
    return st;
}

hl_status hl_list_file_read_opt(hl_list_file *out, const char *list_path, bool labels_optional) {
    memset(out, 0, sizeof *out);
    hl_status st = HL_OK;
    out->path_of_list = malloc(strlen(list_path) + 1);
    if (!out->path_of_list) return hl_error_set(HL_ENOMEM, "%s: out of memory", list_path);
    strcpy(out->path_of_list, list_path);
    HL_TRY(read_text(list_path, &out->text));
    HL_TRY(parse_list(out, list_path, labels_optional));
done:
    if (st < 0) hl_list_file_free(out);
    return st;
}

hl_status hl_list_file_read(hl_list_file *out, const char *list_path) {
    return hl_list_file_read_opt(out, list_path, false);
}

char *hl_list_join(const char *root, const char *p) {
    bool join = p[0] != '/' && root && *root;
    size_t n = (join ? strlen(root) + 1 : 0) + strlen(p) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    if (join) snprintf(s, n, "%s/%s", root, p);
    else memcpy(s, p, n);
    return s;
}

void hl_list_dir_of(const char *list_path, char *buf, size_t n) {
    const char *slash = strrchr(list_path, '/');
    if (!slash) snprintf(buf, n, ".");
    else if (slash == list_path) snprintf(buf, n, "/");
    else snprintf(buf, n, "%.*s", (int)(slash - list_path), list_path);
}

/* Decodes, resizes (exact: checks the size instead) and stores image s as planar [c, h, w]; errors
 * "LIST:LINE: PATH: reason". */
static hl_status load_one(const hl_img_src *s, int h, int w, bool exact, int channels, uint8_t *dst) {
    hl_image im = {0};
    uint8_t *rs = NULL;
    hl_status st = hl_image_load(&im, s->path, channels);
    if (st < 0) goto done;
    if (exact && (im.w != w || im.h != h)) {
        st = hl_error_set(HL_EMISMATCH, "%s: %dx%d pixels (height x width), but the first image listed is %dx%d: "
                          "images of mixed sizes need a size to resize them to (--image-size)", s->path, im.h, im.w,
                          h, w);
        goto done;
    }
    rs = malloc((size_t)h * w * channels);
    if (!rs) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", s->path);
        goto done;
    }
    HL_TRY(hl_image_resize(im.px, im.w, im.h, channels, rs, w, h));
    const int64_t plane = (int64_t)h * w;
    for (int64_t q = 0; q < plane; q++)
        for (int ch = 0; ch < channels; ch++) dst[ch * plane + q] = rs[q * channels + ch];
done:
    if (st < 0) hl_error_wrap("%s:%lld", s->list, (long long)s->line);
    free(rs);
    hl_image_free(&im);
    return st;
}

hl_status hl_images_decode_hw(const hl_img_src *src, int64_t n, int h, int w, bool exact, int channels, uint8_t *dst) {
    const int64_t sz = (int64_t)channels * h * w;
    int64_t bad = n;
    hl_status bad_st = HL_OK;
    char bad_msg[1500] = "";
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; i++) {
        int64_t b;
#pragma omp atomic read
        b = bad;
        if (b < i) continue;
        hl_status s = load_one(&src[i], h, w, exact, channels, dst + i * sz);
        if (s < 0) {
#pragma omp critical(hl_image_list_error)
            if (i < bad) {
                snprintf(bad_msg, sizeof bad_msg, "%s", hl_error_last());
                bad_st = s;
#pragma omp atomic write
                bad = i;
            }
        } else {
#pragma omp atomic update
            g_decoded++;
        }
    }
    if (bad < n) return hl_error_set(bad_st, "%s", bad_msg);
    return HL_OK;
}

hl_status hl_images_decode(const hl_img_src *src, int64_t n, int size, int channels, uint8_t *dst) {
    const int64_t sz = (int64_t)channels * size * size;
    hl_job_progress("decode", 0, n, NULL);
    for (int64_t c0 = 0; c0 < n; c0 += DECODE_CHUNK) {
        hl_status st = hl_job_check();
        if (st < 0) return st;
        const int64_t c1 = HL_MIN(n, c0 + DECODE_CHUNK);
        st = hl_images_decode_hw(src + c0, c1 - c0, size, size, false, channels, dst + c0 * sz);
        if (st < 0) return st;
        hl_job_progress("decode", c1, n, NULL);
    }
    return HL_OK;
}

static hl_status check_shape(const char *what, int size, int channels) {
    if (size < 1 || size > LIST_MAX_SIZE || (channels != 1 && channels != 3))
        return hl_error_set(HL_EINVAL, "%s: image size %d (1..%d) and channels %d (1 or 3) are not supported", what,
                            size, LIST_MAX_SIZE, channels);
    return HL_OK;
}

static hl_status load_list(hl_dataset *out, const char *list_path, const char *root, int size, int channels,
                           bool cached, const char *cache_dir) {
    memset(out, 0, sizeof *out);
    hl_status st = check_shape(list_path, size, channels);
    if (st < 0) return st;
    hl_list_file e = {0};
    int64_t n = 0;
    hl_img_src *src = NULL;
    char **full = NULL, dirbuf[1024], cdir[1024];
    HL_TRY(hl_list_file_read(&e, list_path));
    if (!root) {
        hl_list_dir_of(list_path, dirbuf, sizeof dirbuf);
        root = dirbuf;
    }
    if (cached && !cache_dir) {
        if (hl_image_cache_dir(cdir, sizeof cdir) == HL_OK) {
            cache_dir = cdir;
        } else {
            hl_msg(HL_LOG_WARN, "%s: no image cache (%s); decoding into memory", list_path, hl_error_last());
            hl_error_clear();
            cached = false;
        }
    }
    n = e.n;
    src = calloc((size_t)n, sizeof *src);
    full = calloc((size_t)n, sizeof *full);
    if (!src || !full) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %lld entries", list_path, (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        if (!(full[i] = hl_list_join(root, e.path[i]))) {
            st = hl_error_set(HL_ENOMEM, "%s: out of memory", list_path);
            goto done;
        }
        src[i] = (hl_img_src){full[i], list_path, e.line[i]};
    }
    HL_TRY(hl_images_load(out, src, n, size, channels, cached ? cache_dir : NULL));
    HL_TRY(hl_labels_create(&out->labels, n, e.nlabels));
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < e.nlabels; k++)
            if (e.bits[i * e.nlabels + k]) hl_labels_set(&out->labels, i, k);
    const char *base = strrchr(list_path, '/');
    base = base ? base + 1 : list_path;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out->name, sizeof out->name, "%.*s", len, base);
    snprintf(out->source, sizeof out->source, "%s", list_path);
done:
    for (int64_t i = 0; full && i < n; i++) free(full[i]);
    free(full);
    free(src);
    hl_list_file_free(&e);
    if (st < 0) hl_dataset_free(out);
    return st;
}

hl_status hl_dataset_load_image_list(hl_dataset *out, const char *list_path, const char *root, int size, int channels) {
    return load_list(out, list_path, root, size, channels, false, NULL);
}

hl_status hl_dataset_load_image_list_cached(hl_dataset *out, const char *list_path, const char *root, int size,
                                            int channels, const char *cache_dir) {
    return load_list(out, list_path, root, size, channels, true, cache_dir);
}
