/* core/cpu/conv.c — CPU kernels of the conv family: im2col / col2im and the NCHW <-> channel-major copies.
 * Loops are parallelised over (batch, channel) planes, which never share output memory, so no atomics are needed.
 * Small problems (the tests) stay single-threaded: OpenMP start-up costs more than they do. */
#include "core/kern/conv.h"

#include <string.h>

#define HL_CONV_PAR_MIN 32768 /* elements below which loops run on one thread */

/* Output columns ow ∈ [*lo, *hi) of a row whose input column ow·s + off lies inside [0, W). */
static inline void valid_range(int64_t W, int64_t Wo, int s, int64_t off, int64_t *lo, int64_t *hi) {
    int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t b = W - 1 - off < 0 ? 0 : (W - 1 - off) / s + 1;
    if (b > Wo) b = Wo;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* Row (c,i,j) of col, segment of image b:
 *     col[(c,i,j), b·Ho·Wo + oh·Wo + ow] = x[b, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]   (0 outside the image). */
static void cpu_im2col(hl_conv_geom g, const float *x, float *col) {
    const int64_t HoWo = g.Ho * g.Wo, N = g.B * HoWo;
#pragma omp parallel for collapse(2) schedule(static) if (g.C * g.kh * g.kw * N > HL_CONV_PAR_MIN)
    for (int64_t c = 0; c < g.C; c++) {
        for (int64_t b = 0; b < g.B; b++) {
            const float *xp = x + (b * g.C + c) * g.H * g.W;
            for (int64_t i = 0; i < g.kh; i++) {
                for (int64_t j = 0; j < g.kw; j++) {
                    float *out = col + ((c * g.kh + i) * g.kw + j) * N + b * HoWo;
                    const int64_t off = j * g.dw - g.pw;
                    int64_t lo, hi;
                    valid_range(g.W, g.Wo, g.sw, off, &lo, &hi);
                    for (int64_t oh = 0; oh < g.Ho; oh++, out += g.Wo) {
                        const int64_t ih = oh * g.sh - g.ph + i * g.dh;
                        if (ih < 0 || ih >= g.H) {
                            memset(out, 0, (size_t)g.Wo * sizeof *out);
                            continue;
                        }
                        const float *xr = xp + ih * g.W + off;
                        for (int64_t ow = 0; ow < lo; ow++) out[ow] = 0.0f;
                        if (g.sw == 1)
                            memcpy(out + lo, xr + lo, (size_t)(hi - lo) * sizeof *out);
                        else
                            for (int64_t ow = lo; ow < hi; ow++) out[ow] = xr[ow * g.sw];
                        for (int64_t ow = hi; ow < g.Wo; ow++) out[ow] = 0.0f;
                    }
                }
            }
        }
    }
}

/* The adjoint of im2col: every col entry is added back to the input pixel it was copied from. */
static void cpu_col2im(hl_conv_geom g, const float *col, float *x) {
    const int64_t HoWo = g.Ho * g.Wo, N = g.B * HoWo;
#pragma omp parallel for collapse(2) schedule(static) if (g.C * g.kh * g.kw * N > HL_CONV_PAR_MIN)
    for (int64_t b = 0; b < g.B; b++) {
        for (int64_t c = 0; c < g.C; c++) {
            float *xp = x + (b * g.C + c) * g.H * g.W;
            for (int64_t i = 0; i < g.kh; i++) {
                for (int64_t j = 0; j < g.kw; j++) {
                    const float *in = col + ((c * g.kh + i) * g.kw + j) * N + b * HoWo;
                    const int64_t off = j * g.dw - g.pw;
                    int64_t lo, hi;
                    valid_range(g.W, g.Wo, g.sw, off, &lo, &hi);
                    for (int64_t oh = 0; oh < g.Ho; oh++, in += g.Wo) {
                        const int64_t ih = oh * g.sh - g.ph + i * g.dh;
                        if (ih < 0 || ih >= g.H) continue;
                        float *xr = xp + ih * g.W + off;
                        if (g.sw == 1)
                            for (int64_t ow = lo; ow < hi; ow++) xr[ow] += in[ow];
                        else
                            for (int64_t ow = lo; ow < hi; ow++) xr[ow * g.sw] += in[ow];
                    }
                }
            }
        }
    }
}

static void cpu_to_cmajor(int64_t B, int64_t C, int64_t HW, const float *x, float *y) {
#pragma omp parallel for collapse(2) schedule(static) if (B * C * HW > HL_CONV_PAR_MIN)
    for (int64_t c = 0; c < C; c++)
        for (int64_t b = 0; b < B; b++) memcpy(y + (c * B + b) * HW, x + (b * C + c) * HW, (size_t)HW * sizeof *y);
}

static void cpu_from_cmajor(int64_t B, int64_t C, int64_t HW, const float *x, const float *bias, bool accumulate,
                            float *y) {
#pragma omp parallel for collapse(2) schedule(static) if (B * C * HW > HL_CONV_PAR_MIN)
    for (int64_t b = 0; b < B; b++) {
        for (int64_t c = 0; c < C; c++) {
            const float *src = x + (c * B + b) * HW;
            float *dst = y + (b * C + c) * HW;
            const float bc = bias ? bias[c] : 0.0f;
            if (accumulate)
                for (int64_t k = 0; k < HW; k++) dst[k] += src[k] + bc;
            else
                for (int64_t k = 0; k < HW; k++) dst[k] = src[k] + bc;
        }
    }
}

static void cpu_bias_add(int64_t B, int64_t C, int64_t HW, const float *bias, float *y) {
#pragma omp parallel for collapse(2) schedule(static) if (B * C * HW > HL_CONV_PAR_MIN)
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++) {
            float *dst = y + (b * C + c) * HW;
            const float bc = bias[c];
            for (int64_t k = 0; k < HW; k++) dst[k] += bc;
        }
}

static void cpu_bias_bwd(int64_t B, int64_t C, int64_t HW, const float *dy, float *db) {
#pragma omp parallel for schedule(static) if (B * C * HW > HL_CONV_PAR_MIN)
    for (int64_t c = 0; c < C; c++) {
        float s = 0.0f;
        for (int64_t b = 0; b < B; b++) {
            const float *src = dy + (b * C + c) * HW;
#pragma omp simd reduction(+ : s)
            for (int64_t k = 0; k < HW; k++) s += src[k];
        }
        db[c] += s;
    }
}

const hl_kern_conv hl_cpu_conv = {
    .im2col = cpu_im2col,
    .col2im = cpu_col2im,
    .to_cmajor = cpu_to_cmajor,
    .from_cmajor = cpu_from_cmajor,
    .bias_add = cpu_bias_add,
    .bias_bwd = cpu_bias_bwd,
};
