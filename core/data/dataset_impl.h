/* core/data/dataset_impl.h — internal helpers shared by the dataset loaders (not part of the public API). */
#ifndef HL_DATASET_IMPL_H
#define HL_DATASET_IMPL_H

#include "core/data/dataset.h"

/* Heap copy of n class names (each string copied), as hl_dataset_free expects; NULL when out of memory. */
char **hl_dataset_names_dup(const char *const *src, int n);

/* ---- image lists (core/data/image_list.c), shared with the streamed reader (core/data/image_stream.c) ---- */

typedef struct hl_list_entries {
    int64_t n, cap;
    int nlabels;   /* label fields per line (0: a plain list of paths, only with labels_optional) */
    char **path;   /* into the list buffer */
    int64_t *line; /* 1-based line number */
    uint8_t *bits; /* [n, nlabels] 0/1 */
} hl_list_entries;

void hl__list_entries_free(hl_list_entries *e);
/* The whole list file as a NUL-terminated string (*out malloc'ed); refuses NUL bytes and files over 2 GiB. */
hl_status hl__list_read_text(const char *path, char **out);
/* Parses `text` in place ("path l1 ... lL" lines, dataset.h). labels_optional: lines may have no label fields (a
 * plain list of paths); every line must still have as many as the first. */
hl_status hl__list_parse(hl_list_entries *e, char *text, const char *list_path, bool labels_optional);
/* Decodes entry i (paths relative to root), converts it to `channels` (1 or 3) and resizes it to h x w (exact: an
 * image of another size is HL_EMISMATCH instead), into planar dst [channels, h, w]. Errors name list:line. */
hl_status hl__list_load_one(const hl_list_entries *e, int64_t i, const char *root, const char *list_path, int h, int w,
                            bool exact, int channels, uint8_t *dst);

#endif
