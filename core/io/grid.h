/* core/io/grid.h — image grids as PNG: adversarial-example figures ("clean | perturbation | adversarial").
 *
 *     // 4 examples, MNIST-sized, perturbation shown ×10 around mid-grey, each pixel as a 4×4 block:
 *     st = hl_grid_attack_examples("out/examples.png", clean, adv, 4, 1, 28, 28, 10.0f, 4);
 *
 * Images are planar float [n, c, h, w] (the tensor layout) with values in [0, 1]; values outside are clipped, and a
 * NaN or ±Inf value is an error (HL_ENUMERIC) rather than a silently black pixel. c = 1 gives an 8-bit grey PNG,
 * c = 3 an 8-bit RGB PNG. A value v becomes the byte round(v · 255) (round half away from zero).
 *
 * Layout: cell k (k = 0 .. n−1) is at row k / cols, column k % cols; each image is enlarged by nearest-neighbour
 * upscaling (every pixel becomes an upscale × upscale block), and cells are separated by HL_GRID_GUTTER white
 * (255) pixels, with no gutter around the outside. So the PNG is
 *     width  = cols·w·upscale + (cols − 1)·HL_GRID_GUTTER,   height = rows·h·upscale + (rows − 1)·HL_GRID_GUTTER,
 * and the pixel of image k at (y, x) covers the block whose top-left corner is
 *     (row·(h·upscale + GUTTER) + y·upscale,  col·(w·upscale + GUTTER) + x·upscale).
 * Cells beyond n (when rows·cols > n) are white.
 *
 * The PNG is written with libpng through hl_image_write_png (core/io/image.h), which contains libpng's longjmp
 * error handling and writes atomically (core/io/atomic.h): on failure `path` is untouched.
 * Errors: HL_EINVAL (bad sizes: n < 1, c not 1 or 3, h/w/rows/cols/upscale < 1, rows·cols < n, a side over
 * HL_GRID_MAX_SIDE), HL_ENUMERIC (non-finite pixel, or non-finite amp), HL_ENOMEM, HL_EIO (cannot write `path`).
 */
#ifndef HL_IO_GRID_H
#define HL_IO_GRID_H

#include "core/common.h"

#define HL_GRID_GUTTER 2
#define HL_GRID_MAX_SIDE 16384

/* Writes n images [n, c, h, w] as a rows × cols grid (layout above). */
hl_status hl_grid_write_png(const char *path, const float *images, int64_t n, int c, int h, int w, int rows,
                            int cols, int upscale);

/* Attack-paper figure: one row per example i (n rows, 3 columns):
 *     clean_i | clip(amp · (adv_i − clean_i) + 0.5, 0, 1) | adv_i
 * clean and adv are [n, c, h, w] in [0, 1]. amp > 0 (e.g. 1/(2ε) makes a full-budget L∞ perturbation span [0, 1]);
 * a zero perturbation shows as mid-grey (0.5 -> byte 128). Same errors as hl_grid_write_png, plus HL_EINVAL for
 * amp <= 0. */
hl_status hl_grid_attack_examples(const char *path, const float *clean, const float *adv, int64_t n, int c, int h,
                                  int w, float amp, int upscale);

#endif
