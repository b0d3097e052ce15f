/* core/cpu/reduce.c — CPU kernels of the reduce family (see core/kern/reduce.h for the contracts).
 *
 * Forward, x [P,R,Q]:
 *   Q = 1  each output is a contiguous run of R values: one SIMD reduction per p (parallel over p);
 *   Q > 1  outputs are rows: tasks of (p, block of HL_RED_QB columns) sweep r and update the block in registers /
 *          a stack buffer, so the reads are contiguous and the columns vectorise.
 * Backward, x viewed as [d0,d1,d2,d3] with reduced axes: the output index of x[i0,i1,i2,i3] is Σ i_d·os_d where
 * os_d = 0 on a reduced axis (the broadcast), so one parallel sweep over x with a contiguous innermost loop.
 */
#include "core/kern/reduce.h"
#include "core/common.h"

#include <math.h>

#define HL_RED_PAR_MIN 32768
#define HL_RED_QB 256

typedef enum { RED_SUM, RED_MAX, RED_LSE } red_kind;

/* One output run: x points at x[p,0,0]; reduce R values with stride Q (Q = 1: contiguous). */
static float reduce_run(red_kind kind, int64_t R, const float *x, float scale) {
    if (kind == RED_SUM) {
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t r = 0; r < R; r++) acc += x[r];
        return acc * scale;
    }
    float m = x[0];
    for (int64_t r = 1; r < R; r++) m = x[r] > m ? x[r] : m;
    if (kind == RED_MAX || isinf(m)) return m; /* all −inf (or an +inf): lse = m */
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t r = 0; r < R; r++) acc += expf(x[r] - m);
    return m + logf(acc);
}

/* One (p, q-block) task of the Q > 1 case: columns q0..q0+w of output row p. */
static void reduce_block(red_kind kind, int64_t R, int64_t Q, const float *x, int64_t w, float scale, float *y) {
    float m[HL_RED_QB], s[HL_RED_QB];
    for (int64_t j = 0; j < w; j++) m[j] = kind == RED_SUM ? 0.0f : x[j];
    if (kind == RED_SUM) {
        for (int64_t r = 0; r < R; r++) {
            const float *xr = x + r * Q;
#pragma omp simd
            for (int64_t j = 0; j < w; j++) m[j] += xr[j];
        }
        for (int64_t j = 0; j < w; j++) y[j] = m[j] * scale;
        return;
    }
    for (int64_t r = 1; r < R; r++) {
        const float *xr = x + r * Q;
#pragma omp simd
        for (int64_t j = 0; j < w; j++) m[j] = xr[j] > m[j] ? xr[j] : m[j];
    }
    if (kind == RED_MAX) {
        for (int64_t j = 0; j < w; j++) y[j] = m[j];
        return;
    }
    for (int64_t j = 0; j < w; j++) s[j] = 0.0f;
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x + r * Q;
#pragma omp simd
        for (int64_t j = 0; j < w; j++) s[j] += expf(xr[j] - m[j]);
    }
    for (int64_t j = 0; j < w; j++) y[j] = isinf(m[j]) ? m[j] : m[j] + logf(s[j]);
}

static void reduce_prq(red_kind kind, int64_t P, int64_t R, int64_t Q, float scale, const float *x, float *y) {
    const int64_t work = P * R * Q;
    if (Q == 1) {
#pragma omp parallel for schedule(static) if (work > HL_RED_PAR_MIN && P > 1)
        for (int64_t p = 0; p < P; p++) y[p] = reduce_run(kind, R, x + p * R, scale);
        return;
    }
    const int64_t nqb = (Q + HL_RED_QB - 1) / HL_RED_QB, tasks = P * nqb;
#pragma omp parallel for schedule(static) if (work > HL_RED_PAR_MIN && tasks > 1)
    for (int64_t t = 0; t < tasks; t++) {
        const int64_t p = t / nqb, q0 = (t % nqb) * HL_RED_QB, w = HL_MIN(HL_RED_QB, Q - q0);
        reduce_block(kind, R, Q, x + p * R * Q + q0, w, scale, y + p * Q + q0);
    }
}

static void cpu_sum(int64_t P, int64_t R, int64_t Q, float scale, const float *x, float *y) {
    reduce_prq(RED_SUM, P, R, Q, scale, x, y);
}
static void cpu_max(int64_t P, int64_t R, int64_t Q, const float *x, float *y) {
    reduce_prq(RED_MAX, P, R, Q, 1.0f, x, y);
}
static void cpu_logsumexp(int64_t P, int64_t R, int64_t Q, const float *x, float *y) {
    reduce_prq(RED_LSE, P, R, Q, 1.0f, x, y);
}

/* ---- backward ----------------------------------------------------------------------------------------------------- */

/* Output strides (keepdim layout) of the 4-D input shape; 0 on reduced axes. */
static void out_strides(const int64_t shape[4], unsigned axes, int64_t os[4]) {
    int64_t s = 1;
    for (int d = 3; d >= 0; d--) {
        const bool red = (axes >> d) & 1u;
        os[d] = red ? 0 : s;
        if (!red) s *= shape[d];
    }
}

/* Sweeps x row by row (rows = d0·d1·d2, contiguous rows of d3); `kind` selects the per-element update. */
static void bcast_bwd(red_kind kind, const int64_t shape[4], unsigned axes, float scale, const float *x,
                      const float *y, const float *dy, float *dx) {
    int64_t os[4];
    out_strides(shape, axes, os);
    const int64_t D1 = shape[1], D2 = shape[2], D3 = shape[3], rows = shape[0] * D1 * D2;
#pragma omp parallel for schedule(static) if (rows * D3 > HL_RED_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i2 = r % D2, i1 = (r / D2) % D1, i0 = r / (D1 * D2);
        const int64_t ob = i0 * os[0] + i1 * os[1] + i2 * os[2];
        const float *gy = dy + ob;
        float *dr = dx + r * D3;
        if (kind == RED_SUM) {
            if (os[3] == 0) {
                const float g = scale * gy[0];
#pragma omp simd
                for (int64_t j = 0; j < D3; j++) dr[j] += g;
            } else {
#pragma omp simd
                for (int64_t j = 0; j < D3; j++) dr[j] += scale * gy[j];
            }
        } else { /* RED_LSE: dx = dy·exp(x − y) */
            const float *xr = x + r * D3, *yy = y + ob;
            if (os[3] == 0) {
                const float g = gy[0], m = yy[0];
#pragma omp simd
                for (int64_t j = 0; j < D3; j++) dr[j] += g * expf(xr[j] - m);
            } else {
#pragma omp simd
                for (int64_t j = 0; j < D3; j++) dr[j] += gy[j] * expf(xr[j] - yy[j]);
            }
        }
    }
}

static void cpu_sum_bwd(const int64_t shape[4], unsigned axes, float scale, const float *dy, float *dx) {
    bcast_bwd(RED_SUM, shape, axes, scale, NULL, NULL, dy, dx);
}

static void cpu_logsumexp_bwd(const int64_t shape[4], unsigned axes, const float *x, const float *y,
                              const float *dy, float *dx) {
    bcast_bwd(RED_LSE, shape, axes, 1.0f, x, y, dy, dx);
}

/* Each output searches its reduced box in row-major order and routes dy to the first element equal to the max
 * (the forward max is one of these floats exactly, so the comparison is exact). Outputs own disjoint boxes, so the
 * parallel loop writes disjoint dx elements. */
static void cpu_max_bwd(const int64_t shape[4], unsigned axes, const float *x, const float *y, const float *dy,
                        float *dx) {
    int64_t xs[4], lim[4], kshape[4];
    int64_t s = 1, nout = 1;
    for (int d = 3; d >= 0; d--) {
        const bool red = (axes >> d) & 1u;
        xs[d] = s;
        s *= shape[d];
        lim[d] = red ? shape[d] : 1;
        kshape[d] = red ? 1 : shape[d];
        nout *= kshape[d];
    }
    const int64_t box = s / nout;
#pragma omp parallel for schedule(static) if (nout * box > HL_RED_PAR_MIN && nout > 1)
    for (int64_t o = 0; o < nout; o++) {
        int64_t rem = o, base = 0;
        for (int d = 3; d >= 0; d--) {
            base += (rem % kshape[d]) * xs[d];
            rem /= kshape[d];
        }
        const float m = y[o];
        for (int64_t a = 0; a < lim[0]; a++)
            for (int64_t b = 0; b < lim[1]; b++)
                for (int64_t c = 0; c < lim[2]; c++) {
                    const float *xr = x + base + a * xs[0] + b * xs[1] + c * xs[2];
                    for (int64_t e = 0; e < lim[3]; e++)
                        if (xr[e * xs[3]] == m) {
                            dx[(xr - x) + e * xs[3]] += dy[o];
                            goto next;
                        }
                }
    next:;
    }
}

const hl_kern_reduce hl_cpu_reduce = {
    .sum = cpu_sum,
    .max = cpu_max,
    .logsumexp = cpu_logsumexp,
    .sum_bwd = cpu_sum_bwd,
    .max_bwd = cpu_max_bwd,
    .logsumexp_bwd = cpu_logsumexp_bwd,
};
