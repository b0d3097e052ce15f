/* core/data/dataset_impl.h — internal helpers shared by the dataset loaders (not part of the public API). */
#ifndef HL_DATASET_IMPL_H
#define HL_DATASET_IMPL_H

#include "core/data/dataset.h"

/* Heap copy of n class names (each string copied), as hl_dataset_free expects; NULL when out of memory. */
char **hl_dataset_names_dup(const char *const *src, int n);

/* The data search path of hl_dataset_open: root (if non-empty), $HASHLAB_DATA (if set), "data", ~/.cache/hashlab
 * (in home, when there is a home folder), /usr/share/datasets; absent ones are NULL. */
#define HL_DATASET_NROOTS 5
void hl_dataset_search_roots(const char *root, char home[1024], const char *roots[HL_DATASET_NROOTS]);

/* ---- image lists (core/data/image_list.c) ---------------------------------------------------------------------- */

/* One parsed list file: "path l1 … lL" lines (format: image_list.c). Paths point into `text`. Shared with the streamed
 * reader (core/data/image_stream.c: hashlab embed / encode), which reads lists whose label fields are optional. */
typedef struct hl_list_file {
    char *path_of_list; /* the list's path (owned copy, for messages) */
    char *text;         /* the file's bytes, NUL-terminated in place (owned) */
    int64_t n, cap;
    int nlabels;        /* label fields per line (0: a plain list of paths, only from hl_list_file_read_opt) */
    char **path;        /* [n] image paths as written */
    int64_t *line;      /* [n] 1-based line numbers */
    uint8_t *bits;      /* [n, nlabels] 0/1 */
} hl_list_file;

hl_status hl_list_file_read(hl_list_file *out, const char *list_path);
/* As hl_list_file_read; labels_optional: lines may have no label fields (a plain list of paths, nlabels 0), but every
 * line must still have as many as the first. */
hl_status hl_list_file_read_opt(hl_list_file *out, const char *list_path, bool labels_optional);
void hl_list_file_free(hl_list_file *l); /* NULL-safe; leaves *l zeroed */

/* One image to decode: the path as opened and where a list names it (for messages). */
typedef struct hl_img_src {
    const char *path; /* root joined (borrowed) */
    const char *list; /* the list file (borrowed) */
    int64_t line;     /* 1-based */
} hl_img_src;

/* "root/p", or p when absolute or root is NULL/empty; NULL when out of memory (heap string, free()). */
char *hl_list_join(const char *root, const char *p);
/* The folder of a list file ("." when it has none). */
void hl_list_dir_of(const char *list_path, char *buf, size_t n);

/* Pixels [n, channels, size, size] of src[0..n) into d->pixels (d->n, c, h, w set): with cache_dir NULL decoded into
 * memory; else through the cache of dataset.h (mapped: d->map). Errors name the list, line and image. */
hl_status hl_images_load(hl_dataset *d, const hl_img_src *src, int64_t n, int size, int channels,
                         const char *cache_dir);
/* Decodes src[0..n) into dst (planar uint8 [n, channels, size, size]): parallel, chunked, progress and stop requests
 * as dataset.h says. */
hl_status hl_images_decode(const hl_img_src *src, int64_t n, int size, int channels, uint8_t *dst);
/* Decodes src[0..n) into dst (planar uint8 [n, channels, h, w]) in one parallel pass, without progress reports or stop
 * checks (callers go batch by batch: core/data/image_stream.c): converted to `channels` (1 or 3) and resized to h × w,
 * or, with exact, each image must be h × w already (HL_EMISMATCH otherwise, naming it). The first failing image in
 * order is reported ("LIST:LINE: PATH: reason"). hl_images_decode is this, chunk by chunk, at size × size. */
hl_status hl_images_decode_hw(const hl_img_src *src, int64_t n, int h, int w, bool exact, int channels, uint8_t *dst);

#endif
