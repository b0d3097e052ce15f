/* core/io/image.h — 8-bit image decoding (PNG via libpng, JPEG via libjpeg-turbo), resizing, PNG and JPEG writing.
 *
 * Decoded images are interleaved uint8 [h, w, c] with c = 1 (gray) or 3 (RGB), whatever the file holds:
 *   - PNG: gray, gray+alpha, RGB, RGBA and palette images of any bit depth; palettes and low bit depths are
 *     expanded, 16-bit samples are reduced to their high byte, alpha (and tRNS) is dropped (no compositing);
 *     interlaced files are supported. The whole file is checked (CRCs of critical chunks, through IEND).
 *   - JPEG: grayscale, YCbCr/RGB and CMYK/YCCK (Adobe-inverted CMYK handled) baseline or progressive. A premature
 *     end of file or corrupt entropy data ("bad Huffman code", "premature end of data segment") is an error, not
 *     a gray-filled image; other libjpeg warnings (e.g. extraneous bytes before a marker) are ignored.
 *   - The format is chosen by the magic bytes (89 'P' 'N' 'G' 0D 0A 1A 0A, or FF D8 FF), never by the name.
 *   - Channel conversion: gray -> RGB replicates; RGB -> gray is ITU-R 601 luma in fixed point,
 *     (19595 R + 38470 G + 7471 B + 32768) >> 16, the same as PIL's convert("L").
 *   - Limits: each side <= HL_IMAGE_MAX_SIDE and w·h <= HL_IMAGE_MAX_PIXELS, files <= HL_IMAGE_MAX_FILE bytes.
 * libpng and libjpeg report errors by longjmp; that is contained in image.c (every libpng/libjpeg call runs inside
 * a frame that owns no heap memory of its own), so callers see only hl_status values with a message such as
 * "a/b.png: corrupt PNG: IDAT: CRC error".
 *
 * Resizing (hl_image_resize) is separable bilinear resampling with pixel centres at (i + 0.5)·scale. When shrinking
 * the triangle filter is widened by the scale factor (support = scale input pixels each side), which averages every
 * covered input pixel (antialiasing), as PIL's Image.resize(..., BILINEAR) does; when enlarging it is plain bilinear
 * interpolation with edge clamping. Same size is the identity. Results are rounded to nearest and clamped to [0,255].
 */
#ifndef HL_IO_IMAGE_H
#define HL_IO_IMAGE_H

#include "core/common.h"

#define HL_IMAGE_MAX_SIDE 32768
#define HL_IMAGE_MAX_PIXELS ((int64_t)1 << 27)
#define HL_IMAGE_MAX_FILE ((int64_t)1 << 30)

typedef struct hl_image {
    int w, h, c;  /* c = 1 or 3 */
    uint8_t *px;  /* [h, w, c], owned */
} hl_image;

typedef enum hl_image_format { HL_IMAGE_UNKNOWN = 0, HL_IMAGE_PNG, HL_IMAGE_JPEG } hl_image_format;

/* Format from the first bytes of a file (n may be short: then HL_IMAGE_UNKNOWN). */
hl_image_format hl_image_sniff(const uint8_t *buf, size_t n);

/* Decodes a PNG or JPEG held in memory into `channels` (1 or 3) channels, or (0) as many as the file holds (1 for
 * gray, 3 otherwise). `name` (a path) prefixes messages.
 * Errors: HL_EFORMAT (unknown format, corrupt or truncated data, too large), HL_ENOMEM. */
hl_status hl_image_decode(hl_image *out, const uint8_t *buf, size_t n, int channels, const char *name);
/* Reads and decodes a file. A missing file is HL_ENOTFOUND, an unreadable one HL_EIO. */
hl_status hl_image_load(hl_image *out, const char *path, int channels);
void hl_image_free(hl_image *im); /* NULL-safe; leaves *im zeroed */

/* Resizes interleaved src [sh, sw, c] into dst [dh, dw, c] (all sizes >= 1, any c >= 1; see above). Needs
 * sh·dw·c floats of scratch: HL_ENOMEM (dst untouched) when that cannot be had. */
hl_status hl_image_resize(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw, int dh);

/* Writes interleaved 8-bit px [h, w, c] (c = 1 gray, 3 RGB, 4 RGBA) as a PNG, atomically (core/io/atomic.h). */
hl_status hl_image_write_png(const char *path, const uint8_t *px, int w, int h, int c);
/* Writes interleaved 8-bit px [h, w, c] (c = 1 gray, 3 RGB) as a baseline JPEG of `quality` (1..100; libjpeg's
 * scale, 4:2:0 chroma for RGB), atomically (test data, benchmarks). */
hl_status hl_image_write_jpeg(const char *path, const uint8_t *px, int w, int h, int c, int quality);

#endif
