/* core/cuda/table.cu — the CUDA kernel table, device detection, error bookkeeping, cuBLAS handles and the device
 * allocator (see core/cuda/cuda.h and common.cuh for the contracts). */
#include "core/cuda/common.cuh"

#include <stdio.h>

/* ---- errors ----------------------------------------------------------------------------------------------------- */

static int cuda_failed_flag;     /* 0, then 1 forever after the first failure (set with a CAS) */
static char cuda_first_msg[512]; /* the first failure's message, written once by the thread that set the flag */

static void cuda_record(const char *what, const char *call, const char *file, int line, const char *reason) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s error at %s:%d: %s: %s", what, file, line, call, reason);
    hl_msg(HL_LOG_ERROR, "%s", msg);
    hl_error_set(HL_EDEVICE, "%s", msg);
    if (__sync_bool_compare_and_swap(&cuda_failed_flag, 0, 2)) { /* 2: message being written */
        snprintf(cuda_first_msg, sizeof cuda_first_msg, "%s", msg);
        __sync_synchronize();
        cuda_failed_flag = 1;
    }
}

bool hl_cuda_check_(cudaError_t err, const char *call, const char *file, int line) {
    if (err == cudaSuccess) return true;
    cuda_record("CUDA", call, file, line, cudaGetErrorString(err));
    return false;
}

bool hl_cublas_check_(cublasStatus_t st, const char *call, const char *file, int line) {
    if (st == CUBLAS_STATUS_SUCCESS) return true;
    cuda_record("cuBLAS", call, file, line, cublasGetStatusString(st));
    return false;
}

bool hl_cuda_failed(void) { return __atomic_load_n(&cuda_failed_flag, __ATOMIC_ACQUIRE) != 0; }

hl_status hl_cuda_status(void) {
    const int f = __atomic_load_n(&cuda_failed_flag, __ATOMIC_ACQUIRE);
    if (f == 0) return HL_OK;
    return hl_error_set(HL_EDEVICE, "%s", f == 1 ? cuda_first_msg : "CUDA failure (being recorded)");
}

hl_status hl_cuda_sync(void) {
    HL_CUDA_CHECK(cudaDeviceSynchronize());
    return hl_cuda_status();
}

/* ---- device detection ------------------------------------------------------------------------------------------- */

static int cuda_present_state; /* 0 unknown, 1 present, -1 absent */

bool hl_cuda_present(void) {
    int s = __atomic_load_n(&cuda_present_state, __ATOMIC_ACQUIRE);
    if (s == 0) {
        int n = 0;
        const cudaError_t err = cudaGetDeviceCount(&n); /* no driver / no device: an error code, never an abort */
        if (err != cudaSuccess || n < 1) {
            hl_msg(HL_LOG_DEBUG, "cuda: no device (%s)", err != cudaSuccess ? cudaGetErrorString(err) : "0 devices");
            (void)cudaGetLastError(); /* clear the runtime's last error: absence is not a failure */
            s = -1;
        } else {
            s = 1;
        }
        __atomic_store_n(&cuda_present_state, s, __ATOMIC_RELEASE);
    }
    return s > 0;
}

/* ---- cuBLAS ----------------------------------------------------------------------------------------------------- */

/* One handle per host thread (cuBLAS handles are not meant to be shared between threads); never destroyed: the
 * driver reclaims it at exit. */
static thread_local cublasHandle_t cuda_blas_handle;
static thread_local bool cuda_blas_tried;

cublasHandle_t hl_cuda_blas(void) {
    if (!cuda_blas_tried) {
        cuda_blas_tried = true;
        if (!HL_CUBLAS_CHECK(cublasCreate(&cuda_blas_handle))) {
            cuda_blas_handle = NULL;
        } else {
            /* Full FP32 (no TF32 tensor-core rounding), so results stay within float tolerances of the CPU. */
            HL_CUBLAS_CHECK(cublasSetMathMode(cuda_blas_handle, CUBLAS_DEFAULT_MATH));
            HL_CUBLAS_CHECK(cublasSetPointerMode(cuda_blas_handle, CUBLAS_POINTER_MODE_HOST));
        }
    }
    return cuda_blas_handle;
}

/* ---- device memory ---------------------------------------------------------------------------------------------- */

hl_status hl_cuda_malloc(size_t bytes, void **out) {
    *out = NULL;
    if (!hl_cuda_present()) return hl_error_set(HL_EDEVICE, "cuda: no CUDA device present");
    void *p = NULL;
    const cudaError_t err = cudaMalloc(&p, bytes ? bytes : 1);
    if (err != cudaSuccess) {
        (void)cudaGetLastError(); /* an allocation failure is not sticky: the caller gets a status */
        return hl_error_set(err == cudaErrorMemoryAllocation ? HL_ENOMEM : HL_EDEVICE,
                            "cuda: cudaMalloc of %zu bytes failed: %s", bytes, cudaGetErrorString(err));
    }
    *out = p;
    return HL_OK;
}

void hl_cuda_free(void *p) {
    if (p) HL_CUDA_CHECK(cudaFree(p));
}

void *hl_cuda_alloc_hook(size_t bytes) {
    void *p = NULL;
    return hl_cuda_malloc(bytes, &p) == HL_OK ? p : NULL;
}

void hl_cuda_free_hook(void *p) { hl_cuda_free(p); }

/* ---- the table -------------------------------------------------------------------------------------------------- */

static const hl_kernels cuda_kernels = {
    .name = "cuda",
    .dev = HL_DEVICE_CUDA,
    .base = &hl_cuda_base,
    .ew = &hl_cuda_ew,
    .conv = &hl_cuda_conv,
    .pool = &hl_cuda_pool,
    .norm = &hl_cuda_norm,
    .reduce = &hl_cuda_reduce,
    .shape = &hl_cuda_shape,
    .loss = &hl_cuda_loss,
    .warp = &hl_cuda_warp,
    .optim = &hl_cuda_optim,
    .retrieval = &hl_cuda_retrieval,
    .rng = &hl_cuda_rng,
};

const hl_kernels *hl_cuda_kernels_get(void) { return &cuda_kernels; }
