/* core/kern/shape.h — raw kernels of the shape op family: axis swap and strided block copies (concat, slice).
 * CPU instance: core/cpu/shape.c. Reshape/flatten need no kernel (views; their backward is base->axpy).
 * With acc = false the kernels WRITE y; with acc = true they ACCUMULATE into it (the backward direction).
 */
#ifndef HL_KERN_SHAPE_H
#define HL_KERN_SHAPE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_shape {
    /* Swap of two axes: x [A,D0,M,D1,Z] -> y [A,D1,M,D0,Z], y[a,j,m,i,z] (=|+=) x[a,i,m,j,z]. Any two axes of a
     * row-major tensor map onto this form (A: axes before the first, M: between, Z: after the second). */
    void (*transpose)(int64_t A, int64_t D0, int64_t M, int64_t D1, int64_t Z, const float *x, float *y, bool acc);
    /* 2-D strided block: y[r·ldy + c] (=|+=) x[r·ldx + c] for r < rows, c < cols. Concat writes each input into a
     * column band of the output rows; slice reads a band (and the backwards swap x and y with acc = true). */
    void (*block_copy)(int64_t rows, int64_t cols, const float *x, int64_t ldx, float *y, int64_t ldy, bool acc);
} hl_kern_shape;

extern const hl_kern_shape hl_cpu_shape;

#endif
