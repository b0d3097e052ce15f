/* core/io/image.c — PNG/JPEG decoding, resizing, PNG writing; see image.h.
 *
 * setjmp discipline: each library run happens in a *_run(job) function that calls setjmp and returns -1 when the
 * library longjmps back. Everything the run allocates or reports lives in the job struct, which sits in the caller's
 * frame, so nothing the longjmp skips over needs to be volatile and the caller frees it all in one place.
 */
#include "core/io/image.h"
#include "core/io/file.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include "core/io/atomic.h"

hl_image_format hl_image_sniff(const uint8_t *buf, size_t n) {
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (n >= 8 && memcmp(buf, png_magic, 8) == 0) return HL_IMAGE_PNG;
    if (n >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) return HL_IMAGE_JPEG;
    return HL_IMAGE_UNKNOWN;
}

void hl_image_free(hl_image *im) {
    if (!im) return;
    free(im->px);
    memset(im, 0, sizeof *im);
}

static bool size_ok(uint64_t w, uint64_t h) {
    return w >= 1 && h >= 1 && w <= HL_IMAGE_MAX_SIDE && h <= HL_IMAGE_MAX_SIDE &&
           w * h <= (uint64_t)HL_IMAGE_MAX_PIXELS;
}

/* ---- PNG ------------------------------------------------------------------------------------------------------- */

typedef struct png_job {
    png_structp p;
    png_infop info;
    const uint8_t *buf;
    size_t n, pos;
    uint8_t *px;
    png_bytep *rows;
    int w, h, c;
    char err[200];
} png_job;

static void png_read_cb(png_structp p, png_bytep dst, size_t len) {
    png_job *j = png_get_io_ptr(p);
    if (len > j->n - j->pos) png_error(p, "truncated file");
    memcpy(dst, j->buf + j->pos, len);
    j->pos += len;
}

static void png_error_cb(png_structp p, png_const_charp msg) {
    png_job *j = png_get_error_ptr(p);
    if (!j->err[0]) snprintf(j->err, sizeof j->err, "%s", msg);
    png_longjmp(p, 1);
}

static void png_warn_cb(png_structp p, png_const_charp msg) {
    (void)p;
    (void)msg;
}

static int png_run(png_job *j) {
    if (setjmp(png_jmpbuf(j->p))) return -1;
    png_set_read_fn(j->p, j, png_read_cb);
    png_set_user_limits(j->p, HL_IMAGE_MAX_SIDE, HL_IMAGE_MAX_SIDE);
    png_read_info(j->p, j->info);
    png_uint_32 w = png_get_image_width(j->p, j->info), h = png_get_image_height(j->p, j->info);
    if (!size_ok(w, h)) {
        snprintf(j->err, sizeof j->err, "image of %u x %u pixels is too large", (unsigned)w, (unsigned)h);
        return -1;
    }
    png_set_expand(j->p);
    png_set_strip_16(j->p);
    png_set_strip_alpha(j->p);
    png_set_interlace_handling(j->p);
    png_read_update_info(j->p, j->info);
    int c = png_get_channels(j->p, j->info);
    size_t rowbytes = png_get_rowbytes(j->p, j->info);
    if ((c != 1 && c != 3) || rowbytes != (size_t)w * (size_t)c) {
        snprintf(j->err, sizeof j->err, "unexpected layout after conversion (%d channels)", c);
        return -1;
    }
    j->px = malloc((size_t)h * rowbytes);
    j->rows = malloc((size_t)h * sizeof *j->rows);
    if (!j->px || !j->rows) {
        snprintf(j->err, sizeof j->err, "out of memory for %u x %u pixels", (unsigned)w, (unsigned)h);
        return -1;
    }
    for (png_uint_32 y = 0; y < h; y++) j->rows[y] = j->px + (size_t)y * rowbytes;
    png_read_image(j->p, j->rows);
    png_read_end(j->p, NULL);
    j->w = (int)w;
    j->h = (int)h;
    j->c = c;
    return 0;
}

static hl_status png_decode(hl_image *out, const uint8_t *buf, size_t n, const char *name) {
    png_job j = {.buf = buf, .n = n};
    j.p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &j, png_error_cb, png_warn_cb);
    if (j.p) j.info = png_create_info_struct(j.p);
    if (!j.p || !j.info) {
        png_destroy_read_struct(j.p ? &j.p : NULL, NULL, NULL);
        return hl_error_set(HL_ENOMEM, "%s: out of memory for the PNG decoder", name);
    }
    int rc = png_run(&j);
    png_destroy_read_struct(&j.p, &j.info, NULL);
    free(j.rows);
    if (rc < 0) {
        free(j.px);
        return hl_error_set(HL_EFORMAT, "%s: corrupt PNG: %s", name, j.err[0] ? j.err : "decoding failed");
    }
    *out = (hl_image){.w = j.w, .h = j.h, .c = j.c, .px = j.px};
    return HL_OK;
}

/* ---- JPEG ------------------------------------------------------------------------------------------------------ */

typedef struct jpg_job {
    struct jpeg_error_mgr em; /* first member: libjpeg hands back &em as cinfo->err */
    jmp_buf jb;
    struct jpeg_decompress_struct d;
    const uint8_t *buf;
    size_t n;
    uint8_t *px, *row;
    int w, h, c;
    char err[JMSG_LENGTH_MAX + 64];
} jpg_job;

static void jpg_error_exit(j_common_ptr ci) {
    jpg_job *j = (jpg_job *)(void *)ci->err;
    if (!j->err[0]) ci->err->format_message(ci, j->err);
    longjmp(j->jb, 1);
}

/* Warnings that mean the data is damaged become errors; trace messages and benign warnings are dropped. */
static void jpg_emit(j_common_ptr ci, int level) {
    if (level >= 0) return;
    int code = ci->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE) jpg_error_exit(ci);
}

static int jpg_run(jpg_job *j) {
    if (setjmp(j->jb)) return -1;
    jpeg_create_decompress(&j->d);
    jpeg_mem_src(&j->d, (unsigned char *)j->buf, (unsigned long)j->n);
    jpeg_read_header(&j->d, TRUE);
    if (!size_ok(j->d.image_width, j->d.image_height)) {
        snprintf(j->err, sizeof j->err, "image of %u x %u pixels is too large", (unsigned)j->d.image_width,
                 (unsigned)j->d.image_height);
        return -1;
    }
    J_COLOR_SPACE in = j->d.jpeg_color_space;
    j->d.out_color_space = in == JCS_GRAYSCALE               ? JCS_GRAYSCALE
                           : in == JCS_CMYK || in == JCS_YCCK ? JCS_CMYK
                                                              : JCS_RGB;
    jpeg_start_decompress(&j->d);
    int w = (int)j->d.output_width, h = (int)j->d.output_height, oc = j->d.output_components;
    int c = oc == 1 ? 1 : 3;
    j->px = malloc((size_t)w * h * c);
    j->row = malloc((size_t)w * oc);
    if (!j->px || !j->row) {
        snprintf(j->err, sizeof j->err, "out of memory for %d x %d pixels", w, h);
        return -1;
    }
    bool inverted = j->d.saw_Adobe_marker; /* Adobe CMYK stores 255 - ink */
    while (j->d.output_scanline < (JDIMENSION)h) {
        int y = (int)j->d.output_scanline;
        JSAMPROW r = oc == c ? (JSAMPROW)(j->px + (size_t)y * w * c) : j->row;
        jpeg_read_scanlines(&j->d, &r, 1);
        if (oc == 4) {
            uint8_t *d = j->px + (size_t)y * w * 3;
            for (int x = 0; x < w; x++) {
                unsigned k = r[4 * x + 3];
                if (!inverted) k = 255 - k;
                for (int ch = 0; ch < 3; ch++) {
                    unsigned v = r[4 * x + ch];
                    if (!inverted) v = 255 - v;
                    d[3 * x + ch] = (uint8_t)((v * k + 127) / 255);
                }
            }
        }
    }
    jpeg_finish_decompress(&j->d);
    j->w = w;
    j->h = h;
    j->c = c;
    return 0;
}

static hl_status jpg_decode(hl_image *out, const uint8_t *buf, size_t n, const char *name) {
    jpg_job *j = calloc(1, sizeof *j);
    if (!j) return hl_error_set(HL_ENOMEM, "%s: out of memory for the JPEG decoder", name);
    j->buf = buf;
    j->n = n;
    j->d.err = jpeg_std_error(&j->em);
    j->em.error_exit = jpg_error_exit;
    j->em.emit_message = jpg_emit;
    int rc = jpg_run(j);
    jpeg_destroy_decompress(&j->d);
    free(j->row);
    hl_status st = HL_OK;
    if (rc < 0) {
        free(j->px);
        st = hl_error_set(HL_EFORMAT, "%s: corrupt JPEG: %s", name, j->err[0] ? j->err : "decoding failed");
    } else {
        *out = (hl_image){.w = j->w, .h = j->h, .c = j->c, .px = j->px};
    }
    free(j);
    return st;
}

/* ---- decode / load --------------------------------------------------------------------------------------------- */

static hl_status convert_channels(hl_image *im, int channels, const char *name) {
    if (im->c == channels) return HL_OK;
    size_t np = (size_t)im->w * im->h;
    uint8_t *d = malloc(np * channels);
    if (!d) return hl_error_set(HL_ENOMEM, "%s: out of memory for %d x %d pixels", name, im->w, im->h);
    const uint8_t *s = im->px;
    if (channels == 3)
        for (size_t i = 0; i < np; i++) d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = s[i];
    else
        for (size_t i = 0; i < np; i++)
            d[i] = (uint8_t)((19595u * s[3 * i] + 38470u * s[3 * i + 1] + 7471u * s[3 * i + 2] + 32768u) >> 16);
    free(im->px);
    im->px = d;
    im->c = channels;
    return HL_OK;
}

hl_status hl_image_decode(hl_image *out, const uint8_t *buf, size_t n, int channels, const char *name) {
    HL_ASSERT(channels == 0 || channels == 1 || channels == 3, "image channels must be 0, 1 or 3, got %d", channels);
    memset(out, 0, sizeof *out);
    hl_status st;
    switch (hl_image_sniff(buf, n)) {
    case HL_IMAGE_PNG: st = png_decode(out, buf, n, name); break;
    case HL_IMAGE_JPEG: st = jpg_decode(out, buf, n, name); break;
    default: {
        char hex[3 * 8 + 1] = "";
        for (size_t i = 0; i < HL_MIN(n, (size_t)8); i++) snprintf(hex + 3 * i, 4, " %02x", buf[i]);
        return hl_error_set(HL_EFORMAT, "%s: not a PNG or JPEG file (%zu bytes, starting with%s)", name, n,
                            n ? hex : " nothing");
    }
    }
    if (st < 0) return st;
    st = channels ? convert_channels(out, channels, name) : HL_OK;
    if (st < 0) hl_image_free(out);
    return st;
}

hl_status hl_image_load(hl_image *out, const char *path, int channels) {
    memset(out, 0, sizeof *out);
    hl_status st = HL_OK;
    uint8_t *buf = NULL;
    FILE *f = NULL;
    int64_t fsize = 0;
    if ((st = hl_file_open_read(path, &f, &fsize)) < 0) return st;
    if (fsize > HL_IMAGE_MAX_FILE) {
        st = hl_error_set(HL_EFORMAT, "%s: %lld bytes is too large for an image", path, (long long)fsize);
        goto done;
    }
    size_t n = (size_t)fsize;
    buf = malloc(n ? n : 1);
    if (!buf) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory for %zu bytes", path, n);
        goto done;
    }
    if (fread(buf, 1, n, f) != n) {
        st = hl_error_set(HL_EIO, "%s: read error", path);
        goto done;
    }
    st = hl_image_decode(out, buf, n, channels, path);
done:
    free(buf);
    fclose(f);
    return st;
}

/* ---- resize ---------------------------------------------------------------------------------------------------- */

/* Triangle filter weight of input x for an output centred at `center` (filter widened by fs >= 1). */
static double tri_weight(int x, double center, double fs) {
    double d = fabs((x - center + 0.5) / fs);
    return d < 1.0 ? 1.0 - d : 0.0;
}

/* Taps of a separable triangle filter for in -> out samples: output i reads input lo[i] .. lo[i] + k - 1 with
 * weights w[i·k ..]; unused trailing weights are 0. NULL when out of memory. */
static float *resize_taps(int in, int out, int **lo_out, int *k_out) {
    double scale = (double)in / out, fs = scale > 1.0 ? scale : 1.0, support = fs; /* triangle support is 1 */
    int k = (int)ceil(support) * 2 + 1;
    float *w = calloc((size_t)out * k, sizeof *w);
    int *lo = malloc((size_t)out * sizeof *lo);
    if (!w || !lo) {
        free(w);
        free(lo);
        return NULL;
    }
    for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale, sum = 0;
        int x0 = (int)(center - support + 0.5), x1 = (int)(center + support + 0.5);
        if (x0 < 0) x0 = 0;
        if (x1 > in) x1 = in;
        if (x1 - x0 > k) x1 = x0 + k;
        for (int x = x0; x < x1; x++) sum += tri_weight(x, center, fs);
        for (int x = x0; x < x1; x++)
            w[(size_t)i * k + (x - x0)] = (float)(sum > 0 ? tri_weight(x, center, fs) / sum : 0);
        lo[i] = x0;
    }
    *lo_out = lo;
    *k_out = k;
    return w;
}

hl_status hl_image_resize(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw, int dh) {
    HL_ASSERT(sw >= 1 && sh >= 1 && dw >= 1 && dh >= 1 && c >= 1, "resize %dx%d -> %dx%d (c %d)", sw, sh, dw, dh, c);
    if (sw == dw && sh == dh) {
        memcpy(dst, src, (size_t)sw * sh * c);
        return HL_OK;
    }
    hl_status st = HL_OK;
    int *xlo = NULL, *ylo = NULL, kx = 0, ky = 0;
    float *wx = resize_taps(sw, dw, &xlo, &kx), *wy = resize_taps(sh, dh, &ylo, &ky);
    float *mid = malloc((size_t)sh * dw * c * sizeof *mid);
    if (!wx || !wy || !mid) {
        st = hl_error_set(HL_ENOMEM, "out of memory resizing %dx%d to %dx%d", sw, sh, dw, dh);
        goto done;
    }
    for (int y = 0; y < sh; y++) /* horizontal pass: [sh, sw, c] -> [sh, dw, c] */
        for (int x = 0; x < dw; x++) {
            const float *w = wx + (size_t)x * kx;
            int n = HL_MIN(kx, sw - xlo[x]);
            for (int ch = 0; ch < c; ch++) {
                float acc = 0;
                const uint8_t *s = src + ((size_t)y * sw + xlo[x]) * c + ch;
                for (int t = 0; t < n; t++) acc += w[t] * s[(size_t)t * c];
                mid[((size_t)y * dw + x) * c + ch] = acc;
            }
        }
    for (int y = 0; y < dh; y++) /* vertical pass: [sh, dw, c] -> [dh, dw, c] */
        for (int x = 0; x < dw * c; x++) {
            const float *w = wy + (size_t)y * ky;
            int n = HL_MIN(ky, sh - ylo[y]);
            float acc = 0;
            for (int t = 0; t < n; t++) acc += w[t] * mid[(size_t)(ylo[y] + t) * dw * c + x];
            float v = floorf(acc + 0.5f);
            dst[(size_t)y * dw * c + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
done:
    free(wx);
    free(wy);
    free(xlo);
    free(ylo);
    free(mid);
    return st;
}

/* ---- PNG writing ----------------------------------------------------------------------------------------------- */

typedef struct png_wjob {
    png_structp p;
    png_infop info;
    FILE *f;
    const uint8_t *px;
    int w, h, c;
    char err[200];
} png_wjob;

static void png_werror_cb(png_structp p, png_const_charp msg) {
    png_wjob *j = png_get_error_ptr(p);
    if (!j->err[0]) snprintf(j->err, sizeof j->err, "%s", msg);
    png_longjmp(p, 1);
}

static int png_write_run(png_wjob *j) {
    if (setjmp(png_jmpbuf(j->p))) return -1;
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_init_io(j->p, j->f);
    png_set_IHDR(j->p, j->info, (png_uint_32)j->w, (png_uint_32)j->h, 8, types[j->c], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(j->p, j->info);
    for (int y = 0; y < j->h; y++) png_write_row(j->p, (png_const_bytep)(j->px + (size_t)y * j->w * j->c));
    png_write_end(j->p, NULL);
    return 0;
}

hl_status hl_image_write_png(const char *path, const uint8_t *px, int w, int h, int c) {
    HL_ASSERT(c == 1 || c == 3 || c == 4, "PNG channels must be 1, 3 or 4, got %d", c);
    if (!size_ok((uint64_t)(w < 0 ? 0 : w), (uint64_t)(h < 0 ? 0 : h)))
        return hl_error_set(HL_EINVAL, "%s: cannot write a %d x %d image", path, w, h);
    hl_atomic_file af;
    hl_status st = hl_atomic_write_begin(&af, path);
    if (st < 0) return st;
    png_wjob j = {.f = af.f, .px = px, .w = w, .h = h, .c = c};
    j.p = png_create_write_struct(PNG_LIBPNG_VER_STRING, &j, png_werror_cb, png_warn_cb);
    if (j.p) j.info = png_create_info_struct(j.p);
    if (!j.p || !j.info) {
        png_destroy_write_struct(j.p ? &j.p : NULL, NULL);
        hl_atomic_write_abort(&af);
        return hl_error_set(HL_ENOMEM, "%s: out of memory for the PNG encoder", path);
    }
    int rc = png_write_run(&j);
    png_destroy_write_struct(&j.p, &j.info);
    if (rc < 0) {
        hl_atomic_write_abort(&af);
        return hl_error_set(HL_EIO, "%s: PNG encoding failed: %s", path, j.err[0] ? j.err : "unknown error");
    }
    return hl_atomic_write_commit(&af);
}

/* ---- JPEG writing ---------------------------------------------------------------------------------------------- */

typedef struct jpg_wjob {
    struct jpeg_error_mgr em; /* first member, as in jpg_job */
    jmp_buf jb;
    struct jpeg_compress_struct ci;
    FILE *f;
    const uint8_t *px;
    int w, h, c, quality;
    char err[JMSG_LENGTH_MAX + 64];
} jpg_wjob;

static void jpg_werror_exit(j_common_ptr ci) {
    jpg_wjob *j = (jpg_wjob *)(void *)ci->err;
    if (!j->err[0]) ci->err->format_message(ci, j->err);
    longjmp(j->jb, 1);
}

static int jpg_write_run(jpg_wjob *j) {
    if (setjmp(j->jb)) return -1;
    jpeg_create_compress(&j->ci);
    jpeg_stdio_dest(&j->ci, j->f);
    j->ci.image_width = (JDIMENSION)j->w;
    j->ci.image_height = (JDIMENSION)j->h;
    j->ci.input_components = j->c;
    j->ci.in_color_space = j->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&j->ci);
    jpeg_set_quality(&j->ci, j->quality, TRUE);
    jpeg_start_compress(&j->ci, TRUE);
    while (j->ci.next_scanline < j->ci.image_height) {
        JSAMPROW row = (JSAMPROW)(j->px + (size_t)j->ci.next_scanline * j->w * j->c);
        jpeg_write_scanlines(&j->ci, &row, 1);
    }
    jpeg_finish_compress(&j->ci);
    return 0;
}

hl_status hl_image_write_jpeg(const char *path, const uint8_t *px, int w, int h, int c, int quality) {
    HL_ASSERT(c == 1 || c == 3, "JPEG channels must be 1 or 3, got %d", c);
    HL_ASSERT(quality >= 1 && quality <= 100, "JPEG quality %d outside [1, 100]", quality);
    if (!size_ok((uint64_t)(w < 0 ? 0 : w), (uint64_t)(h < 0 ? 0 : h)) || w > 65500 || h > 65500)
        return hl_error_set(HL_EINVAL, "%s: cannot write a %d x %d JPEG", path, w, h);
    hl_atomic_file af;
    hl_status st = hl_atomic_write_begin(&af, path);
    if (st < 0) return st;
    jpg_wjob *j = calloc(1, sizeof *j);
    if (!j) {
        hl_atomic_write_abort(&af);
        return hl_error_set(HL_ENOMEM, "%s: out of memory for the JPEG encoder", path);
    }
    *j = (jpg_wjob){.f = af.f, .px = px, .w = w, .h = h, .c = c, .quality = quality};
    j->ci.err = jpeg_std_error(&j->em);
    j->em.error_exit = jpg_werror_exit;
    int rc = jpg_write_run(j);
    jpeg_destroy_compress(&j->ci);
    if (rc < 0) {
        st = hl_error_set(HL_EIO, "%s: JPEG encoding failed: %s", path, j->err[0] ? j->err : "unknown error");
        free(j);
        hl_atomic_write_abort(&af);
        return st;
    }
    free(j);
    return hl_atomic_write_commit(&af);
}
