/* core/cpu/base.c — CPU fill/copy/BLAS-1 (OpenMP loops) and GEMM (OpenBLAS); the only file that includes cblas.h. */
#include "core/kern/base.h"

#include <cblas.h>
#include <string.h>

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

static void cpu_gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                             int64_t lda, int64_t sa, const float *B, int64_t ldb, int64_t sb, float beta, float *C,
                             int64_t ldc, int64_t sc, int64_t batch) {
    for (int64_t i = 0; i < batch; i++)
        cpu_gemm(ta, tb, M, N, K, alpha, A + i * sa, lda, B + i * sb, ldb, beta, C + i * sc, ldc);
}

static void cpu_xfer(int64_t n, const float *src, float *dst) { memcpy(dst, src, (size_t)n * sizeof *dst); }

const hl_kern_base hl_cpu_base = {
    .fill = cpu_fill,
    .copy = cpu_copy,
    .axpy = cpu_axpy,
    .scale = cpu_scale,
    .gemm = cpu_gemm,
    .gemm_batched = cpu_gemm_batched,
    .to_host = cpu_xfer,
    .from_host = cpu_xfer,
};
