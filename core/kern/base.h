/* core/kern/base.h — raw kernels every family uses: memory fill/copy, BLAS-1 and GEMM.
 * All pointers are device pointers of the table's device; sizes in elements. */
#ifndef HL_KERN_BASE_H
#define HL_KERN_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hl_kern_base {
    void (*fill)(int64_t n, float v, float *y);                       /* y = v */
    void (*copy)(int64_t n, const float *x, float *y);                /* y = x */
    void (*axpy)(int64_t n, float a, const float *x, float *y);       /* y += a·x */
    void (*scale)(int64_t n, float a, float *y);                      /* y *= a */
    /* Row-major C[M,N] = alpha · op(A) · op(B) + beta · C, op(A) is [M,K] (A stored [K,M] if ta), op(B) [K,N]
     * (B stored [N,K] if tb); lda/ldb/ldc are row strides of the stored matrices. */
    void (*gemm)(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                 const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
    /* Strided batched GEMM: `batch` independent products, matrix i at A + i·sa, B + i·sb, C + i·sc (a stride may
     * be 0: a shared operand). Each product's result depends only on its own operands and the shapes, never on
     * `batch`, i or the thread count (CPU: products in parallel, each on one thread; batch-invariant ops rely on
     * it, see core/ctx.h). */
    void (*gemm_batched)(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                         int64_t lda, int64_t sa, const float *B, int64_t ldb, int64_t sb, float beta, float *C,
                         int64_t ldc, int64_t sc, int64_t batch);
    /* Batched matrix-vector products with a shared matrix A [M,N] (row-major, row stride lda):
     *     y_i = alpha·A·x_i + beta·y_i   (x_i [N], y_i [M])     or, when ta,   y_i = alpha·Aᵀ·x_i + beta·y_i   (x_i [M], y_i [N])
     * for i < batch, x_i at x + i·sx, y_i at y + i·sy. Like gemm_batched, each product's result depends only on its
     * own operands and the shapes (CPU: A is cut into blocks of outputs fixed by M and N alone, which stay in cache
     * while the whole batch passes over them, and every product runs on one thread). */
    void (*gemv_batched)(bool ta, int64_t M, int64_t N, float alpha, const float *A, int64_t lda, const float *x,
                         int64_t sx, float beta, float *y, int64_t sy, int64_t batch);
    /* Device memory: `bytes` (0 allowed) of 64-byte aligned memory of this device, contents undefined; NULL on failure
     * with the reason in hl_error_last(). dev_free(NULL) is a no-op. Memory of one device is touched only by that
     * device's kernels and the transfers below (the shadow device, core/shadow/, enforces it on the CPU). */
    void *(*dev_alloc)(size_t bytes);
    void (*dev_free)(void *p);
    /* Host <-> device transfers (memcpy on the CPU). */
    void (*to_host)(int64_t n, const float *dev_src, float *host_dst);
    void (*from_host)(int64_t n, const float *host_src, float *dev_dst);
    /* The same for `bytes` bytes of any type (codes, labels, counts). */
    void (*bytes_to_host)(size_t bytes, const void *dev_src, void *host_dst);
    void (*bytes_from_host)(size_t bytes, const void *host_src, void *dev_dst);
} hl_kern_base;

extern const hl_kern_base hl_cpu_base;

#endif
