/* core/tensor.h — the tensor record: float32, 0 to 4 dims (NCHW), shape + strides, device, flags, name.
 *
 * Data and grad are memory of the tensor's device (`dev`): on a device other than the CPU, host code never reads or
 * writes them directly but through the transfers below (hl_tensor_host, hl_tensor_upload, base->to_host); the
 * shadow device turns every forgotten transfer into a crash.
 *
 * Where the memory comes from decides the lifetime:
 *   - hl_tensor_new(ctx, ...)      data (and later grad) in the ctx's step arena; dies at hl_ctx_reset().
 *   - hl_tensor_create(&t, ...)    heap header + data, freed by hl_tensor_free(); survives resets (an attack's δ,
 *                                  a dataset batch buffer). hl_tensor_set_requires_grad() gives it a heap grad.
 *   - hl_tensor_wrap(&t, ...)      a header over memory someone else owns (the parameter slab of a model).
 * `grad` is NULL until backward needs it; for arena tensors backward allocates it from the arena (zeroed).
 *
 * Ops produce contiguous row-major outputs and require contiguous inputs (HL_ASSERT); `stride` is kept so views and
 * a later strided kernel set have a place. A 0-dim tensor is a scalar (numel 1), the shape of every loss.
 */
#ifndef HL_TENSOR_H
#define HL_TENSOR_H

#include "core/common.h"

#define HL_MAX_DIMS 4

/* HL_DEVICE_SHADOW: the CPU kernels on memory the host cannot read (core/shadow/shadow.h), for finding missing
 * transfers without a GPU. */
typedef enum hl_device { HL_DEVICE_CPU, HL_DEVICE_CUDA, HL_DEVICE_SHADOW, HL_DEVICE_COUNT } hl_device;
const char *hl_device_name(hl_device d);
/* "cpu", "cuda", "shadow" -> the device; HL_DEVICE_COUNT for any other name. */
hl_device hl_device_from_name(const char *name);

enum {
    HL_T_REQUIRES_GRAD = 1u << 0, /* backward accumulates into grad */
    HL_T_PARAM = 1u << 1,         /* lives in a model's parameter slab */
    HL_T_LEAF = 1u << 2,          /* not produced by a recorded op */
    HL_T_OWNS_DATA = 1u << 3,     /* heap tensor: hl_tensor_free frees data */
    HL_T_OWNS_GRAD = 1u << 4,     /* heap tensor: hl_tensor_free frees grad */
    HL_T_HEAP = 1u << 5           /* header itself is heap-allocated */
};

typedef struct hl_tensor {
    float *data;
    float *grad;
    int ndim;
    int64_t shape[HL_MAX_DIMS];
    int64_t stride[HL_MAX_DIMS]; /* in elements */
    hl_device dev;
    uint32_t flags;
    char name[32];
} hl_tensor;

typedef struct hl_ctx hl_ctx;

/* Arena tensor (uninitialised data). shape has ndim entries, each >= 1 (0-dim: shape may be NULL). */
hl_tensor *hl_tensor_new(hl_ctx *ctx, int ndim, const int64_t *shape);
hl_tensor *hl_tensor_zeros(hl_ctx *ctx, int ndim, const int64_t *shape);
/* Arena tensor with the same shape as `like`. */
hl_tensor *hl_tensor_new_like(hl_ctx *ctx, const hl_tensor *like);
/* Arena tensor filled from host data (n = numel floats copied). */
hl_tensor *hl_tensor_from(hl_ctx *ctx, int ndim, const int64_t *shape, const float *src);
/* Arena 0-dim tensor holding v. */
hl_tensor *hl_tensor_scalar(hl_ctx *ctx, float v);

/* Shape literal helper: HL_SHAPE(B, C, H, W) -> (const int64_t[]){B, C, H, W}. */
#define HL_SHAPE(...) ((const int64_t[]){__VA_ARGS__})

/* Heap tensor, zero-filled, owned by the caller (free with hl_tensor_free). */
hl_status hl_tensor_create(hl_tensor **out, int ndim, const int64_t *shape, hl_device dev);
void hl_tensor_free(hl_tensor *t);
/* Initialise a header `t` over `data` owned elsewhere (no allocation, flags = LEAF). */
void hl_tensor_wrap(hl_tensor *t, float *data, int ndim, const int64_t *shape, hl_device dev);

/* Marks a leaf as requiring grad (or not). A heap tensor gets a zeroed heap grad buffer on first request;
 * an arena tensor gets its grad lazily during backward. */
void hl_tensor_set_requires_grad(hl_tensor *t, bool on);
static inline bool hl_tensor_requires_grad(const hl_tensor *t) { return (t->flags & HL_T_REQUIRES_GRAD) != 0; }
/* Zero t->grad if it exists. */
void hl_tensor_zero_grad(hl_tensor *t);

int64_t hl_tensor_numel(const hl_tensor *t);
bool hl_tensor_is_contiguous(const hl_tensor *t);
bool hl_tensor_same_shape(const hl_tensor *a, const hl_tensor *b);
/* Writes "[2, 3, 4]" (+ " 'name'" if named) into buf. Returns buf. */
char *hl_tensor_shape_str(const hl_tensor *t, char *buf, size_t n);
void hl_tensor_set_name(hl_tensor *t, const char *name);
/* Fills contiguous strides from shape. */
void hl_tensor_init_strides(hl_tensor *t);
/* Host <-> device transfers of a whole tensor (numel floats; host must not alias device memory). */
void hl_tensor_upload(hl_tensor *t, const float *host);
void hl_tensor_download(const hl_tensor *t, float *host);
/* A host view of t's data for reading: t->data itself on the CPU (no copy), else a copy in ctx's host arena, valid
 * until the next hl_ctx_reset (later writes to t are not reflected). The one way host code reads a device tensor. */
const float *hl_tensor_host(hl_ctx *ctx, const hl_tensor *t);
/* Same for t's gradient (NULL if t has none). */
const float *hl_tensor_host_grad(hl_ctx *ctx, const hl_tensor *t);
/* Random fills of t's data on its device from the cursor r, which advances by numel(t): element j gets value
 * r->counter + j of r's stream, the same numbers hl_rng_uniform / hl_rng_normal give on the host (core/rng.h). */
struct hl_rng;
void hl_tensor_rand_uniform(hl_tensor *t, struct hl_rng *r, float lo, float hi);
void hl_tensor_rand_normal(hl_tensor *t, struct hl_rng *r, float mean, float std);
/* Copies data (same numel) from src to dst on any devices. */
void hl_tensor_copy_data(hl_tensor *dst, const hl_tensor *src);
void hl_tensor_fill(hl_tensor *t, float v);

/* Assert helpers that print the shapes of the tensors involved. */
#define HL_ASSERT_SHAPE(cond, a, b)                                                                                   \
    do {                                                                                                              \
        if (!(cond)) {                                                                                                \
            char hl__sa[96], hl__sb[96];                                                                              \
            hl_abort(__FILE__, __LINE__, #cond, "shapes %s and %s", hl_tensor_shape_str((a), hl__sa, 96),             \
                     (b) ? hl_tensor_shape_str((b), hl__sb, 96) : "-");                                               \
        }                                                                                                             \
    } while (0)
#define HL_ASSERT_T(cond, t)                                                                                          \
    do {                                                                                                              \
        if (!(cond)) {                                                                                                \
            char hl__sa[96];                                                                                          \
            hl_tensor_shape_str((t), hl__sa, 96);                                                                     \
            hl_abort(__FILE__, __LINE__, #cond, "tensor %s", hl__sa);                                                 \
        }                                                                                                             \
    } while (0)

#endif
