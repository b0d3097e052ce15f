/* eval/codes_io.h — codes and labels from/to .npy arrays, as ../shared/METRICS.md "Codes, labels, relevance" says.
 *
 * Codes, unpacked (packed_bits = 0): a 2-D array (N, K), K >= 1, of int8/int16/int32/int64/float32/float64 (also
 * uint8..uint64 and bool, which can only hold {0,1}). Values must ALL be in {−1,+1} or ALL in {0,1}: +1 / 1 -> bit 1,
 * −1 / 0 -> bit 0 (the sign convention of core/codes.h). An array holding only 1s is valid under both. Any other
 * value (0.5, 2, NaN, ±inf, −0.0 is 0) or a mix of 0 and −1 is HL_EINVAL naming the first bad row and column.
 * Codes, packed (packed_bits = K > 0): uint8 (N, ceil(K/8)) in numpy packbits order (bitorder 'big'): code bit k is
 * bit 7 − k % 8 (MSB first) of byte k / 8. The padding bits after bit K−1 in the last byte must be 0 (as packbits
 * writes them); otherwise HL_EINVAL naming the row (usually a wrong K).
 *
 * Labels: 1-D integer class ids (N,) -> one-hot rows (an integral float array is accepted too; a negative,
 * non-integral or NaN id is HL_EINVAL naming the row); 2-D multi-hot (N, L) of any dtype, nonzero = label present
 * (NaN is HL_EINVAL). Label count L: for 1-D, max id + 1 (1 for an empty array); for 2-D, the column count. Two files
 * scored together need the same L: hl_labels_npy_width gives each one's L, and the caller converts both with the
 * larger of the 1-D widths (a 2-D file's width is fixed; a 1-D id >= a 2-D width is an error).
 *
 * Every error message starts with the array's name (the path for the *_read functions).
 */
#ifndef HL_EVAL_CODES_IO_H
#define HL_EVAL_CODES_IO_H

#include "core/codes.h"
#include "core/io/npy.h"
#include "core/labels.h"

/* Largest class id accepted from a 1-D label file (guards against allocating a huge one-hot matrix). */
#define HL_LABELS_MAX_CLASSES (1 << 24)

hl_status hl_codes_from_npy(hl_codes *out, const hl_npy *a, int packed_bits, const char *name);
hl_status hl_codes_npy_read(const char *path, int packed_bits, hl_codes *out);
/* Writes codes as int8 ±1 (N, K), or (packed) uint8 (N, ceil(K/8)) in packbits order. */
hl_status hl_codes_npy_write(const char *path, const hl_codes *c, bool packed);

/* The label count L the array implies (validates shape and values as described above). */
hl_status hl_labels_npy_width(const hl_npy *a, const char *name, int *nlabels);
/* Converts with L = nlabels (0: the array's own width). For 2-D arrays nlabels must be 0 or the column count. */
hl_status hl_labels_from_npy(hl_labels *out, const hl_npy *a, int nlabels, const char *name);
hl_status hl_labels_npy_read(const char *path, int nlabels, hl_labels *out);
/* Writes labels as multi-hot uint8 (N, L). */
hl_status hl_labels_npy_write(const char *path, const hl_labels *l);

#endif
