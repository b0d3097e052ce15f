/* core/cuda/common.cuh — shared by the CUDA kernel files: the C headers under C linkage, error checks, launch
 * geometry and a deterministic single-block reduction.
 *
 * Errors. Raw kernels return void (core/kernels.h), so a failing CUDA or cuBLAS call cannot return an hl_status.
 * HL_CUDA_CHECK / HL_CUBLAS_CHECK log "CUDA error at file:line: call: reason" through hl_msg (HL_LOG_ERROR), set
 * the thread's error (hl_error_set(HL_EDEVICE, ...), readable with hl_error_last()) and record the FIRST failure
 * as a sticky process-wide status. The sticky status surfaces at the sync points:
 *   - to_host (the only kernel whose result the host reads) fills its destination with NaN when a failure has been
 *     recorded, so a loss read back becomes NaN and the training loop's NaN check stops with an error;
 *   - hl_cuda_status() (core/cuda/cuda.h) returns HL_OK or the recorded failure (with its message set again), for
 *     callers that want to check explicitly after a step.
 * Kernel launches are checked with HL_CUDA_LAUNCH() (cudaGetLastError right after the launch: bad configurations);
 * faults inside a kernel are asynchronous and are caught by the next checked call (usually the to_host memcpy).
 *
 * Streams: every kernel and copy runs on the legacy default stream, so launches from any host thread are ordered
 * and no extra synchronisation is needed. Reductions to one value run in one block (no global scratch memory, no
 * atomics: deterministic and safe when several host threads share the device).
 */
#ifndef HL_CUDA_COMMON_CUH
#define HL_CUDA_COMMON_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>

/* The C headers use C11's _Noreturn, which C++ does not know. */
#ifndef _Noreturn
#define _Noreturn __attribute__((__noreturn__))
#define HL_CUDA_UNDEF_NORETURN
#endif
extern "C" {
#include "core/common.h"
#include "core/cuda/cuda.h"
#include "core/kernels.h"
}
#ifdef HL_CUDA_UNDEF_NORETURN
#undef _Noreturn
#undef HL_CUDA_UNDEF_NORETURN
#endif

/* Checked calls: log file:line and the reason, record the first failure (see top). Evaluate to true on success. */
bool hl_cuda_check_(cudaError_t err, const char *call, const char *file, int line);
bool hl_cublas_check_(cublasStatus_t st, const char *call, const char *file, int line);
#define HL_CUDA_CHECK(call) hl_cuda_check_((call), #call, __FILE__, __LINE__)
#define HL_CUBLAS_CHECK(call) hl_cublas_check_((call), #call, __FILE__, __LINE__)
/* After a <<<...>>> launch: reports an invalid launch configuration (faults inside kernels surface later). */
#define HL_CUDA_LAUNCH() hl_cuda_check_(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

/* The family instances (one per core/cuda/<family>.cu), assembled by table.cu. */
extern const hl_kern_base hl_cuda_base;
extern const hl_kern_ew hl_cuda_ew;
extern const hl_kern_conv hl_cuda_conv;
extern const hl_kern_pool hl_cuda_pool;
extern const hl_kern_norm hl_cuda_norm;
extern const hl_kern_reduce hl_cuda_reduce;
extern const hl_kern_shape hl_cuda_shape;
extern const hl_kern_loss hl_cuda_loss;
extern const hl_kern_warp hl_cuda_warp;
extern const hl_kern_optim hl_cuda_optim;
extern const hl_kern_retrieval hl_cuda_retrieval;
extern const hl_kern_rng hl_cuda_rng;

/* True once a CUDA or cuBLAS failure has been recorded. */
bool hl_cuda_failed(void);
/* The calling thread's cuBLAS handle (created on first use, on the default stream; NULL if creation failed). */
cublasHandle_t hl_cuda_blas(void);

/* Grid-stride launch geometry: 256 threads, at most 65535·8 blocks (the loops cover the rest). */
#define HL_CUDA_THREADS 256
static inline unsigned hl_cuda_blocks(int64_t n) {
    int64_t b = (n + HL_CUDA_THREADS - 1) / HL_CUDA_THREADS;
    if (b < 1) b = 1;
    if (b > 65535 * 8) b = 65535 * 8;
    return (unsigned)b;
}
#define HL_CUDA_FOR(i, n)                                                                                             \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)blockDim.x * gridDim.x)

/* Sum of one double per thread over the block (blockDim.x a power of two <= 1024, every thread calls it); the
 * result is valid in thread 0. Fixed tree order: deterministic. */
__device__ static inline double hl_cuda_block_sum(double v) {
    __shared__ double buf[1024];
    buf[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
        __syncthreads();
    }
    const double r = buf[0];
    __syncthreads(); /* buf may be reused by the next call */
    return r;
}

/* Philox-4x32-10 exactly as hl_philox (core/rng.c): the four words of block `counter` of (seed, stream). */
__device__ static inline void hl_cuda_philox(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* Same for the maximum of floats (NaN-ignoring fmaxf: a NaN input is handled by the callers where it matters). */
__device__ static inline float hl_cuda_block_max(float v) {
    __shared__ float buf[1024];
    buf[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) buf[threadIdx.x] = fmaxf(buf[threadIdx.x], buf[threadIdx.x + s]);
        __syncthreads();
    }
    const float r = buf[0];
    __syncthreads();
    return r;
}

#endif
