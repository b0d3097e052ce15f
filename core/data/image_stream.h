/* core/data/image_stream.h — an image list read range by range, for work that passes every listed image once through
 * a model (hashlab embed, hashlab encode) without holding the whole decoded list in memory.
 *
 * The list format is hl_dataset_load_image_list's (core/data/dataset.h: "relative/path.jpg l1 … lL" lines, paths
 * relative to `root`, or to the list's own folder when root is NULL), except that label fields are optional: a plain
 * list of paths is accepted, and a labelled list keeps its labels (every line has as many label fields as the first,
 * 0 or 1 each). Images are decoded (PNG/JPEG, core/io/image.h), converted to the channels asked for (gray → RGB
 * replicates, RGB → gray is ITU-R 601 luma) and resized as the dataset loader does (bilinear, antialiased when
 * shrinking, aspect ratio not kept) — or, with `exact`, required to be of the size asked for.
 *
 *     hl_image_stream *s;
 *     HL_TRY(hl_image_stream_open(&s, "db.txt", NULL));
 *     int c, h, w;  HL_TRY(hl_image_stream_probe(s, 0, &c, &h, &w));      // the first image's own shape
 *     for (i0 = 0; i0 < hl_image_stream_count(s); i0 += B)
 *         HL_TRY(hl_image_stream_read(s, i0, b, c, h, w, false, x));        // x [b, c, h, w] in [0, 1]
 *     hl_image_stream_free(s);
 *
 * Reads decode in parallel (OpenMP); the first failing image in list order is reported ("LIST:LINE: PATH: reason").
 */
#ifndef HL_DATA_IMAGE_STREAM_H
#define HL_DATA_IMAGE_STREAM_H

#include "core/labels.h"

typedef struct hl_image_stream hl_image_stream;

/* Reads and parses the list (every line checked now; images are decoded by the reads). HL_ENOTFOUND for a missing
 * list, HL_EFORMAT naming list:line for a malformed one, "no images listed" for an empty one. */
hl_status hl_image_stream_open(hl_image_stream **out, const char *list_path, const char *root);
void hl_image_stream_free(hl_image_stream *s); /* NULL-safe */

int64_t hl_image_stream_count(const hl_image_stream *s);
/* Label fields per line; 0 for a plain list of paths. */
int hl_image_stream_nlabels(const hl_image_stream *s);
/* The list's labels as label sets [n, L] (HL_EINVAL when the list has none). */
hl_status hl_image_stream_labels(const hl_image_stream *s, hl_labels *out);
/* Image i's path as listed, and its 1-based line in the list. */
const char *hl_image_stream_path(const hl_image_stream *s, int64_t i);
int64_t hl_image_stream_line(const hl_image_stream *s, int64_t i);

/* Image i's own shape: channels (1 for gray files, 3 otherwise), height, width. */
hl_status hl_image_stream_probe(const hl_image_stream *s, int64_t i, int *c, int *h, int *w);

/* Images first .. first + n - 1 as float32 [n, c, h, w] in [0, 1] (pixel / 255, the dataset's convention), c 1 or 3,
 * resized to h × w — or, with exact, each image must be h × w already (HL_EMISMATCH otherwise, naming it and telling
 * the user to choose a size). 0 <= first, first + n <= count (asserted). */
hl_status hl_image_stream_read(const hl_image_stream *s, int64_t first, int64_t n, int c, int h, int w, bool exact,
                               float *out);

#endif
