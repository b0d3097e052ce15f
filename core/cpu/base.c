/* core/cpu/base.c — CPU fill/copy/BLAS-1 (OpenMP loops) and GEMM (OpenBLAS); the only file that includes cblas.h. */
#include "core/kern/base.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"


static void cpu_fill(int64_t n, float v, float *y) {
    if (v == 0.0f) {
        memset(y, 0, (size_t)n * sizeof *y);
        return;
    }
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] = v;
}

static void cpu_copy(int64_t n, const float *x, float *y) {
    if (x != y) memcpy(y, x, (size_t)n * sizeof *y);
}

static void cpu_axpy(int64_t n, float a, const float *x, float *y) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void cpu_scale(int64_t n, float a, float *y) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}

static void cpu_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                     const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M,
                (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

/* Products in parallel over the batch, each on one thread: inside an active OpenMP region the OpenMP build of
 * OpenBLAS runs single-threaded (its num_cpu_avail() returns 1 under omp_in_parallel()). The region is opened with
 * every thread even for a batch of one, so a product never runs on OpenBLAS's own threads and its summation order
 * never depends on how many there are. (With OpenBLAS's pthreads build a product may still be split over threads;
 * CMake prefers the OpenMP build, see CMakeLists.txt.) */
static void cpu_gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                             int64_t lda, int64_t sa, const float *B, int64_t ldb, int64_t sb, float beta, float *C,
                             int64_t ldc, int64_t sc, int64_t batch) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < batch; i++)
        cpu_gemm(ta, tb, M, N, K, alpha, A + i * sa, lda, B + i * sb, ldb, beta, C + i * sc, ldc);
}

#define HL_GEMV_BLOCK_FLOATS (64 * 1024) /* 256 KiB of A per block of outputs */

static void cpu_gemv_batched(bool ta, int64_t M, int64_t N, float alpha, const float *A, int64_t lda, const float *x,
                             int64_t sx, float beta, float *y, int64_t sy, int64_t batch) {
    const int64_t out = ta ? N : M, in = ta ? M : N;
    if (batch == 0 || out == 0) return;
    if (in == 0) {
        for (int64_t i = 0; i < batch; i++)
            for (int64_t o = 0; o < out; o++) y[i * sy + o] = beta == 0.0f ? 0.0f : beta * y[i * sy + o];
        return;
    }
    /* outputs [o0, o0 + ob): rows of A (y = A·x) or columns of A (y = Aᵀ·x); the partition depends on M, N only */
    const int64_t rb = HL_MAX(1, HL_GEMV_BLOCK_FLOATS / in);
#pragma omp parallel
    for (int64_t o0 = 0; o0 < out; o0 += rb) {
        const int64_t ob = HL_MIN(rb, out - o0);
        const float *Ab = ta ? A + o0 : A + o0 * lda;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < batch; i++)
            cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, (blasint)(ta ? M : ob), (blasint)(ta ? ob : N),
                        alpha, Ab, (blasint)lda, x + i * sx, 1, beta, y + i * sy + o0, 1);
    }
}

static void *cpu_dev_alloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + (bytes ? 0 : 64));
    if (!p) hl_error_set(HL_ENOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

static void cpu_xfer(int64_t n, const float *src, float *dst) { memcpy(dst, src, (size_t)n * sizeof *dst); }
static void cpu_xfer_bytes(size_t bytes, const void *src, void *dst) { memcpy(dst, src, bytes); }

const hl_kern_base hl_cpu_base = {
    .fill = cpu_fill,
    .copy = cpu_copy,
    .axpy = cpu_axpy,
    .scale = cpu_scale,
    .gemm = cpu_gemm,
    .gemm_batched = cpu_gemm_batched,
    .gemv_batched = cpu_gemv_batched,
    .dev_alloc = cpu_dev_alloc,
    .dev_free = free,
    .to_host = cpu_xfer,
    .from_host = cpu_xfer,
    .bytes_to_host = cpu_xfer_bytes,
    .bytes_from_host = cpu_xfer_bytes,
};
