/* core/kernels.h — the per-device table of raw kernels.
 *
 * Ops (core/ops/) never loop over tensor data themselves: they call raw kernels through ctx->k, a table with one
 * sub-table per op family. Each family declares its kernel signatures in core/kern/<family>.h; each device provides
 * an instance per family (CPU: core/cpu/<family>.c, CUDA: core/cuda/<family>.cu in the CUDA issue) and the device's
 * table.c assembles them. Raw kernels take plain pointers and sizes (device memory for that device), never tensors,
 * and record nothing. Backward kernels ACCUMULATE (+=) into their gradient outputs unless their doc says otherwise.
 *
 * Every table is complete: tests/core/test_device_ops.c calls every entry of every available device (the retrieval
 * family: tests/eval/test_retrieval_device.c, through eval/retrieval_device.c). Devices:
 * cpu (core/cpu/), cuda (core/cuda/, built with -DHASHLAB_CUDA=ON) and shadow (core/shadow/: the CPU kernels on
 * memory the host cannot touch, for finding missing transfers without a GPU).
 */
#ifndef HL_KERNELS_H
#define HL_KERNELS_H

#include "core/tensor.h"
#include "core/kern/base.h"
#include "core/kern/ew.h"
#include "core/kern/conv.h"
#include "core/kern/pool.h"
#include "core/kern/norm.h"
#include "core/kern/reduce.h"
#include "core/kern/shape.h"
#include "core/kern/loss.h"
#include "core/kern/warp.h"
#include "core/kern/optim.h"
#include "core/kern/retrieval.h"
#include "core/kern/rng.h"

typedef struct hl_kernels hl_kernels;
struct hl_kernels {
    const char *name;
    hl_device dev;
    const hl_kern_base *base;     /* fill, copy, axpy, scale, gemm */
    const hl_kern_ew *ew;         /* elementwise arithmetic and activations */
    const hl_kern_conv *conv;     /* im2col / col2im and conv helpers */
    const hl_kern_pool *pool;     /* max / avg / global pooling */
    const hl_kern_norm *norm;     /* batch / instance norm, dropout */
    const hl_kern_reduce *reduce; /* sum / mean / max / logsumexp over axes */
    const hl_kern_shape *shape;   /* transpose, concat, slice */
    const hl_kern_loss *loss;     /* fused losses */
    const hl_kern_warp *warp;     /* bilinear affine warp, rotation angle gradient */
    const hl_kern_optim *optim;   /* optimizer updates */
    const hl_kern_retrieval *retrieval; /* Hamming distances, relevance, distance buckets, stable-tie AP */
    const hl_kern_rng *rng;       /* counter-based random fills */
};

/* The kernel table of a device, or NULL if that device is not built in. */
const hl_kernels *hl_kernels_for(hl_device dev);
/* True if the device is built in and present. */
bool hl_device_available(hl_device dev);

#endif
