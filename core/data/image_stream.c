/* core/data/image_stream.c — image lists read range by range (see image_stream.h); the list reader and the decoder
 * are image_list.c's (dataset_impl.h: hl_list_file_read_opt with labels optional, hl_images_decode_hw). */
#include "core/data/image_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/dataset_impl.h"
#include "core/io/image.h"

struct hl_image_stream {
    hl_list_file lf; /* the parsed list (lf.path_of_list names it in messages) */
    char root[1024];
};

hl_status hl_image_stream_open(hl_image_stream **out, const char *list_path, const char *root) {
    hl_status st = HL_OK;
    *out = NULL;
    hl_image_stream *s = calloc(1, sizeof *s);
    if (!s) return hl_error_set(HL_ENOMEM, "%s: out of memory", list_path);
    if (root) snprintf(s->root, sizeof s->root, "%s", root);
    else hl_list_dir_of(list_path, s->root, sizeof s->root); /* the list's own folder */
    HL_TRY(hl_list_file_read_opt(&s->lf, list_path, true));
    *out = s, s = NULL;
done:
    hl_image_stream_free(s);
    return st;
}

void hl_image_stream_free(hl_image_stream *s) {
    if (!s) return;
    hl_list_file_free(&s->lf);
    free(s);
}

int64_t hl_image_stream_count(const hl_image_stream *s) { return s->lf.n; }
int hl_image_stream_nlabels(const hl_image_stream *s) { return s->lf.nlabels; }
const char *hl_image_stream_path(const hl_image_stream *s, int64_t i) { return s->lf.path[i]; }
int64_t hl_image_stream_line(const hl_image_stream *s, int64_t i) { return s->lf.line[i]; }

hl_status hl_image_stream_labels(const hl_image_stream *s, hl_labels *out) {
    memset(out, 0, sizeof *out);
    const int L = s->lf.nlabels;
    if (L == 0) return hl_error_set(HL_EINVAL, "%s: the list has no labels (only paths)", s->lf.path_of_list);
    hl_status st = hl_labels_create(out, s->lf.n, L);
    if (st < 0) return st;
    for (int64_t i = 0; i < s->lf.n; i++)
        for (int k = 0; k < L; k++)
            if (s->lf.bits[i * L + k]) hl_labels_set(out, i, k);
    return HL_OK;
}

hl_status hl_image_stream_probe(const hl_image_stream *s, int64_t i, int *c, int *h, int *w) {
    HL_ASSERT(i >= 0 && i < s->lf.n, "image %lld of %lld", (long long)i, (long long)s->lf.n);
    char *p = hl_list_join(s->root, s->lf.path[i]);
    if (!p) return hl_error_set(HL_ENOMEM, "%s: out of memory", s->lf.path_of_list);
    hl_image im = {0};
    hl_status st = hl_image_load(&im, p, 0);
    free(p);
    if (st < 0) return hl_error_wrap("%s:%lld", s->lf.path_of_list, (long long)s->lf.line[i]);
    *c = im.c, *h = im.h, *w = im.w;
    hl_image_free(&im);
    return HL_OK;
}

hl_status hl_image_stream_read(const hl_image_stream *s, int64_t first, int64_t n, int c, int h, int w, bool exact,
                               float *out) {
    HL_ASSERT(first >= 0 && n >= 0 && first + n <= s->lf.n, "images [%lld, %lld) of %lld", (long long)first,
              (long long)(first + n), (long long)s->lf.n);
    HL_ASSERT((c == 1 || c == 3) && h >= 1 && w >= 1, "image shape %dx%dx%d", c, h, w);
    const int64_t sz = (int64_t)c * h * w;
    hl_status st = HL_OK;
    uint8_t *px = malloc((size_t)HL_MAX(1, n * sz));
    hl_img_src *src = calloc((size_t)HL_MAX(1, n), sizeof *src);
    char **full = calloc((size_t)HL_MAX(1, n), sizeof *full);
    if (!px || !src || !full) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %lld images of %lld bytes", s->lf.path_of_list,
                          (long long)n, (long long)sz);
        goto done;
    }
    for (int64_t j = 0; j < n; j++) {
        if (!(full[j] = hl_list_join(s->root, s->lf.path[first + j]))) {
            st = hl_error_set(HL_ENOMEM, "%s: out of memory", s->lf.path_of_list);
            goto done;
        }
        src[j] = (hl_img_src){full[j], s->lf.path_of_list, s->lf.line[first + j]};
    }
    HL_TRY(hl_images_decode_hw(src, n, h, w, exact, c, px));
    for (int64_t q = 0; q < n * sz; q++) out[q] = (float)px[q] / 255.0f;
done:
    for (int64_t j = 0; full && j < n; j++) free(full[j]);
    free(full);
    free(src);
    free(px);
    return st;
}
