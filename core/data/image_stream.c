/* core/data/image_stream.c — image lists read range by range (see image_stream.h); the parser and the per-image
 * loader are image_list.c's (dataset_impl.h). */
#include "core/data/image_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/dataset_impl.h"
#include "core/io/image.h"

struct hl_image_stream {
    char *text; /* the list file; entry paths point into it */
    hl_list_entries e;
    char list_path[1024], root[1024];
};

hl_status hl_image_stream_open(hl_image_stream **out, const char *list_path, const char *root) {
    hl_status st = HL_OK;
    *out = NULL;
    hl_image_stream *s = calloc(1, sizeof *s);
    if (!s) return hl_error_set(HL_ENOMEM, "%s: out of memory", list_path);
    snprintf(s->list_path, sizeof s->list_path, "%s", list_path);
    if (root) {
        snprintf(s->root, sizeof s->root, "%s", root);
    } else { /* the list's own folder */
        const char *slash = strrchr(list_path, '/');
        if (!slash) snprintf(s->root, sizeof s->root, ".");
        else if (slash == list_path) snprintf(s->root, sizeof s->root, "/");
        else snprintf(s->root, sizeof s->root, "%.*s", (int)(slash - list_path), list_path);
    }
    HL_TRY(hl__list_read_text(list_path, &s->text));
    HL_TRY(hl__list_parse(&s->e, s->text, list_path, true));
    *out = s, s = NULL;
done:
    hl_image_stream_free(s);
    return st;
}

void hl_image_stream_free(hl_image_stream *s) {
    if (!s) return;
    hl__list_entries_free(&s->e);
    free(s->text);
    free(s);
}

int64_t hl_image_stream_count(const hl_image_stream *s) { return s->e.n; }
int hl_image_stream_nlabels(const hl_image_stream *s) { return s->e.nlabels; }
const char *hl_image_stream_path(const hl_image_stream *s, int64_t i) { return s->e.path[i]; }
int64_t hl_image_stream_line(const hl_image_stream *s, int64_t i) { return s->e.line[i]; }

hl_status hl_image_stream_labels(const hl_image_stream *s, hl_labels *out) {
    memset(out, 0, sizeof *out);
    const int L = s->e.nlabels;
    if (L == 0) return hl_error_set(HL_EINVAL, "%s: the list has no labels (only paths)", s->list_path);
    hl_status st = hl_labels_create(out, s->e.n, L);
    if (st < 0) return st;
    for (int64_t i = 0; i < s->e.n; i++)
        for (int k = 0; k < L; k++)
            if (s->e.bits[i * L + k]) hl_labels_set(out, i, k);
    return HL_OK;
}

hl_status hl_image_stream_probe(const hl_image_stream *s, int64_t i, int *c, int *h, int *w) {
    HL_ASSERT(i >= 0 && i < s->e.n, "image %lld of %lld", (long long)i, (long long)s->e.n);
    char full[4096];
    const char *p = s->e.path[i];
    if (p[0] != '/' && s->root[0]) {
        if (snprintf(full, sizeof full, "%s/%s", s->root, p) >= (int)sizeof full)
            return hl_error_set(HL_EINVAL, "%s:%lld: path too long", s->list_path, (long long)s->e.line[i]);
        p = full;
    }
    hl_image im = {0};
    hl_status st = hl_image_load(&im, p, 0);
    if (st < 0) return hl_error_wrap("%s:%lld", s->list_path, (long long)s->e.line[i]);
    *c = im.c, *h = im.h, *w = im.w;
    hl_image_free(&im);
    return HL_OK;
}

hl_status hl_image_stream_read(const hl_image_stream *s, int64_t first, int64_t n, int c, int h, int w, bool exact,
                               float *out) {
    HL_ASSERT(first >= 0 && n >= 0 && first + n <= s->e.n, "images [%lld, %lld) of %lld", (long long)first,
              (long long)(first + n), (long long)s->e.n);
    HL_ASSERT((c == 1 || c == 3) && h >= 1 && w >= 1, "image shape %dx%dx%d", c, h, w);
    const int64_t sz = (int64_t)c * h * w;
    uint8_t *px = malloc((size_t)HL_MAX(1, n * sz));
    if (!px) return hl_error_set(HL_ENOMEM, "%s: out of memory for %lld images of %lld bytes", s->list_path,
                                 (long long)n, (long long)sz);
    int64_t bad = n;
    hl_status bad_st = HL_OK;
    char bad_msg[1024] = "";
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t j = 0; j < n; j++) {
        int64_t b;
#pragma omp atomic read
        b = bad;
        if (b < j) continue;
        hl_status st = hl__list_load_one(&s->e, first + j, s->root, s->list_path, h, w, exact, c, px + j * sz);
        if (st < 0) {
#pragma omp critical(hl_image_stream_error)
            if (j < bad) {
                snprintf(bad_msg, sizeof bad_msg, "%s", hl_error_last());
                bad_st = st;
#pragma omp atomic write
                bad = j;
            }
        }
    }
    if (bad < n) {
        free(px);
        return hl_error_set(bad_st, "%s", bad_msg);
    }
    for (int64_t q = 0; q < n * sz; q++) out[q] = (float)px[q] / 255.0f;
    free(px);
    return HL_OK;
}
