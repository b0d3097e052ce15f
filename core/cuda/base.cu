/* core/cuda/base.cu — CUDA fill/copy/BLAS-1 (grid-stride kernels), GEMM (cuBLAS) and host <-> device transfers.
 *
 * GEMM: cuBLAS is column-major. A row-major matrix X [r,c] with row stride ld is, read column-major, Xᵀ [c,r] with
 * leading dimension ld. So row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: call cublasSgemm with the
 * operands swapped (B first), the same transpose flags, m = N, n = M. Sizes must fit in int (asserted).
 * Transfers: cudaMemcpy on the default stream (to_host waits for all queued work: it is the sync point).
 */
#include "core/cuda/common.cuh"

#include <math.h>
#include <limits.h>
#include <string.h>

__global__ static void k_fill(int64_t n, float v, float *y) {
    HL_CUDA_FOR(i, n) y[i] = v;
}

__global__ static void k_axpy(int64_t n, float a, const float *x, float *y) {
    HL_CUDA_FOR(i, n) y[i] += a * x[i];
}

__global__ static void k_scale(int64_t n, float a, float *y) {
    HL_CUDA_FOR(i, n) y[i] *= a;
}

/* C[i,j] = beta == 0 ? 0 : beta·C[i,j] over [M,N] with row stride ldc (the K = 0 product, as on the CPU). */
__global__ static void k_beta(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
    HL_CUDA_FOR(t, M * N) {
        const int64_t i = t / N, j = t % N;
        C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    }
}

static void cuda_fill(int64_t n, float v, float *y) {
    if (n <= 0) return;
    if (v == 0.0f) {
        HL_CUDA_CHECK(cudaMemsetAsync(y, 0, (size_t)n * sizeof *y, 0));
        return;
    }
    k_fill<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, v, y);
    HL_CUDA_LAUNCH();
}

static void cuda_copy(int64_t n, const float *x, float *y) {
    if (n <= 0 || x == y) return;
    HL_CUDA_CHECK(cudaMemcpyAsync(y, x, (size_t)n * sizeof *y, cudaMemcpyDeviceToDevice, 0));
}

static void cuda_axpy(int64_t n, float a, const float *x, float *y) {
    if (n <= 0) return;
    k_axpy<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, a, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_scale(int64_t n, float a, float *y) {
    if (n <= 0) return;
    k_scale<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, a, y);
    HL_CUDA_LAUNCH();
}

static int gemm_int(int64_t v, const char *what) {
    HL_ASSERT(v >= 0 && v <= INT_MAX, "cuda gemm: %s = %lld does not fit cuBLAS's int", what, (long long)v);
    return (int)v;
}

static void cuda_gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                              int64_t lda, int64_t sa, const float *B, int64_t ldb, int64_t sb, float beta, float *C,
                              int64_t ldc, int64_t sc, int64_t batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    if (K == 0) {
        for (int64_t b = 0; b < batch; b++) {
            k_beta<<<hl_cuda_blocks(M * N), HL_CUDA_THREADS>>>(M, N, beta, C + b * sc, ldc);
            HL_CUDA_LAUNCH();
        }
        return;
    }
    cublasHandle_t h = hl_cuda_blas();
    if (!h) return; /* creation failure already recorded */
    const cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int m = gemm_int(N, "N"), n = gemm_int(M, "M"), k = gemm_int(K, "K");
    const int la = gemm_int(lda, "lda"), lb = gemm_int(ldb, "ldb"), lc = gemm_int(ldc, "ldc");
    if (batch == 1) {
        HL_CUBLAS_CHECK(cublasSgemm(h, ob, oa, m, n, k, &alpha, B, lb, A, la, &beta, C, lc));
        return;
    }
    HL_CUBLAS_CHECK(cublasSgemmStridedBatched(h, ob, oa, m, n, k, &alpha, B, lb, (long long)sb, A, la, (long long)sa,
                                              &beta, C, lc, (long long)sc, gemm_int(batch, "batch")));
}

/* y_i = op(A)·x_i as the [1, out] row product x_iᵀ·op(A)ᵀ: a strided batched GEMM with M = 1. */
static void cuda_gemv_batched(bool ta, int64_t M, int64_t N, float alpha, const float *A, int64_t lda, const float *x,
                              int64_t sx, float beta, float *y, int64_t sy, int64_t batch) {
    const int64_t out = ta ? N : M, in = ta ? M : N;
    cuda_gemm_batched(false, !ta, 1, out, in, alpha, x, in, sx, A, lda, 0, beta, y, out, sy, batch);
}

static void cuda_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    cuda_gemm_batched(ta, tb, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

/* The sync point: cudaMemcpy to pageable host memory waits for every queued kernel. After any recorded failure the
 * destination is filled with NaN (see common.cuh), so a value read back cannot look valid. */
static void cuda_to_host(int64_t n, const float *dev_src, float *host_dst) {
    if (n <= 0) return;
    const bool ok = HL_CUDA_CHECK(cudaMemcpy(host_dst, dev_src, (size_t)n * sizeof *host_dst, cudaMemcpyDeviceToHost));
    if (!ok || hl_cuda_failed()) {
        for (int64_t i = 0; i < n; i++) host_dst[i] = NAN;
    }
}

static void cuda_from_host(int64_t n, const float *host_src, float *dev_dst) {
    if (n <= 0) return;
    HL_CUDA_CHECK(cudaMemcpy(dev_dst, host_src, (size_t)n * sizeof *dev_dst, cudaMemcpyHostToDevice));
}

/* Bytes: after a failure the destination is filled with 0xFF bytes (no NaN for integer data; never a valid count). */
static void cuda_bytes_to_host(size_t bytes, const void *dev_src, void *host_dst) {
    if (bytes == 0) return;
    const bool ok = HL_CUDA_CHECK(cudaMemcpy(host_dst, dev_src, bytes, cudaMemcpyDeviceToHost));
    if (!ok || hl_cuda_failed()) memset(host_dst, 0xFF, bytes);
}

static void cuda_bytes_from_host(size_t bytes, const void *host_src, void *dev_dst) {
    if (bytes == 0) return;
    HL_CUDA_CHECK(cudaMemcpy(dev_dst, host_src, bytes, cudaMemcpyHostToDevice));
}

const hl_kern_base hl_cuda_base = {
    .fill = cuda_fill,
    .copy = cuda_copy,
    .axpy = cuda_axpy,
    .scale = cuda_scale,
    .gemm = cuda_gemm,
    .gemm_batched = cuda_gemm_batched,
    .gemv_batched = cuda_gemv_batched,
    .dev_alloc = hl_cuda_alloc_hook,
    .dev_free = hl_cuda_free_hook,
    .to_host = cuda_to_host,
    .from_host = cuda_from_host,
    .bytes_to_host = cuda_bytes_to_host,
    .bytes_from_host = cuda_bytes_from_host,
};
