/* core/cpu/shape.c — CPU kernels of the shape family (see core/kern/shape.h for the contracts). */
#include "core/kern/shape.h"

#include <string.h>

#define HL_SHAPE_PAR_MIN 32768

/* y[a,j,m,i,z] (=|+=) x[a,i,m,j,z]. Tasks are output rows (a, j); with Z > 1 the innermost loop is a contiguous
 * run of Z on both sides, with Z = 1 the writes are contiguous and the reads strided by M·D1. */
static void cpu_transpose(int64_t A, int64_t D0, int64_t M, int64_t D1, int64_t Z, const float *x, float *y,
                          bool acc) {
    const int64_t tasks = A * D1;
#pragma omp parallel for schedule(static) if (tasks * D0 * M * Z > HL_SHAPE_PAR_MIN)
    for (int64_t t = 0; t < tasks; t++) {
        const int64_t a = t / D1, j = t % D1;
        for (int64_t m = 0; m < M; m++) {
            float *yr = y + ((t * M + m) * D0) * Z;                 /* y[a,j,m,0,0] */
            const float *xr = x + (((a * D0) * M + m) * D1 + j) * Z; /* x[a,0,m,j,0] */
            const int64_t xs = M * D1 * Z;                           /* x stride of i */
            for (int64_t i = 0; i < D0; i++) {
                const float *xi = xr + i * xs;
                float *yi = yr + i * Z;
                if (acc) {
#pragma omp simd
                    for (int64_t z = 0; z < Z; z++) yi[z] += xi[z];
                } else {
#pragma omp simd
                    for (int64_t z = 0; z < Z; z++) yi[z] = xi[z];
                }
            }
        }
    }
}

static void cpu_block_copy(int64_t rows, int64_t cols, const float *x, int64_t ldx, float *y, int64_t ldy,
                           bool acc) {
#pragma omp parallel for schedule(static) if (rows * cols > HL_SHAPE_PAR_MIN && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        if (acc) {
#pragma omp simd
            for (int64_t c = 0; c < cols; c++) yr[c] += xr[c];
        } else {
            memcpy(yr, xr, (size_t)cols * sizeof *yr);
        }
    }
}

const hl_kern_shape hl_cpu_shape = {
    .transpose = cpu_transpose,
    .block_copy = cpu_block_copy,
};
