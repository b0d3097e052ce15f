/* core/cuda/shape.cu — CUDA kernels of the shape family (contracts in core/kern/shape.h): one thread per element
 * of y, so writes are coalesced and every element is written (or accumulated) exactly once. */
#include "core/cuda/common.cuh"

/* y[a,j,m,i,z] (=|+=) x[a,i,m,j,z], t = the linear index into y [A,D1,M,D0,Z]. */
__global__ static void k_transpose(int64_t A, int64_t D0, int64_t M, int64_t D1, int64_t Z, const float *x, float *y,
                                   bool acc) {
    HL_CUDA_FOR(t, A * D1 * M * D0 * Z) {
        const int64_t z = t % Z, i = (t / Z) % D0, m = (t / (Z * D0)) % M, j = (t / (Z * D0 * M)) % D1;
        const int64_t a = t / (Z * D0 * M * D1);
        const float v = x[(((a * D0 + i) * M + m) * D1 + j) * Z + z];
        y[t] = acc ? y[t] + v : v;
    }
}

__global__ static void k_block_copy(int64_t rows, int64_t cols, const float *x, int64_t ldx, float *y, int64_t ldy,
                                    bool acc) {
    HL_CUDA_FOR(t, rows * cols) {
        const int64_t r = t / cols, c = t % cols;
        const float v = x[r * ldx + c];
        float *d = y + r * ldy + c;
        *d = acc ? *d + v : v;
    }
}

static void cuda_transpose(int64_t A, int64_t D0, int64_t M, int64_t D1, int64_t Z, const float *x, float *y,
                           bool acc) {
    const int64_t n = A * D0 * M * D1 * Z;
    if (n <= 0) return;
    k_transpose<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(A, D0, M, D1, Z, x, y, acc);
    HL_CUDA_LAUNCH();
}

static void cuda_block_copy(int64_t rows, int64_t cols, const float *x, int64_t ldx, float *y, int64_t ldy,
                            bool acc) {
    if (rows * cols <= 0) return;
    k_block_copy<<<hl_cuda_blocks(rows * cols), HL_CUDA_THREADS>>>(rows, cols, x, ldx, y, ldy, acc);
    HL_CUDA_LAUNCH();
}

const hl_kern_shape hl_cuda_shape = {
    .transpose = cuda_transpose,
    .block_copy = cuda_block_copy,
};
