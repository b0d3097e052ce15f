/* core/nn/params.h — a model's named parameters in one contiguous slab, gradients in a parallel slab.
 *
 * Two phases:
 *   1. declare:  hl_tensor *w = hl_params_add(&p, "conv1.weight", 4, HL_SHAPE(O, C, 3, 3));
 *                hl_tensor *rm = hl_params_add_buffer(&p, "bn1.running_var", 1, HL_SHAPE(C), 1.0f);
 *      Each tensor header is allocated on its own, so the returned pointer is stable for the life of the set (layers
 *      keep it). Its data is NULL until phase 2.
 *   2. hl_params_alloc(&p): one 64-byte-aligned zeroed slab for all parameter data, one for all gradients, one for
 *      all buffers (filled with their declared initial values). Every parameter is flagged PARAM | LEAF |
 *      REQUIRES_GRAD and points into the slabs; buffers are LEAF only (no grad, never optimised, but saved in
 *      checkpoints).
 *
 * Layout: parameters in declaration order, each starting at a multiple of HL_PARAMS_ALIGN floats (the gap is zero
 * and stays zero: optimizers step over it harmlessly). An optimizer keeps its moments in slabs of the same size, so
 * element i of the data, grad and moment slabs belong to the same parameter (hl_params_offset gives a tensor's
 * start). Slabs live on the set's device (p->dev, CPU unless hl_params_set_device chose another before alloc):
 * there, tensor data is touched only by kernels and transfers (core/kern/base.h); hl_params_upload and
 * hl_params_download move whole slabs between the device and host arrays (initialisers, checkpoints).
 *
 * Names are arbitrary strings (PyTorch state_dict style, "layer1.0.conv1.weight"); tensor->name holds at most the
 * first 31 bytes, the full name is hl_params_name(). A name may be declared once across parameters and buffers.
 *
 * Errors: declaring a duplicate name, declaring after alloc or allocating twice are programming errors (HL_ASSERT).
 * Running out of memory while declaring makes hl_params_add return NULL and is reported (sticky) by
 * hl_params_alloc, so model constructors can declare everything and check one status.
 *
 * Usage:
 *     hl_params p; hl_params_init(&p);
 *     ... declare ...
 *     if ((st = hl_params_alloc(&p)) < 0) goto done;
 *     hl_params_set_requires_grad(&p, false);   // freeze (victim during attacks, D during a GAN G-step)
 *     hl_params_free(&p);
 */
#ifndef HL_NN_PARAMS_H
#define HL_NN_PARAMS_H

#include "core/tensor.h"

#define HL_PARAMS_ALIGN 16 /* floats (64 bytes) */

typedef struct hl_params_entry {
    hl_tensor *t;   /* stable, individually allocated header */
    char *name;     /* full name (heap) */
    int64_t offset; /* start in its slab, in floats; -1 before alloc */
    float init;     /* buffers: initial value written by alloc */
} hl_params_entry;

typedef struct hl_params {
    hl_params_entry *par; /* parameters, declaration order */
    int n_par, cap_par;
    hl_params_entry *buf; /* buffers (batch-norm running statistics) */
    int n_buf, cap_buf;
    float *data;          /* parameter slab [slab_len] */
    float *grad;          /* gradient slab [slab_len] */
    float *bufdata;       /* buffer slab [buf_len] */
    int64_t slab_len;     /* floats in data/grad, padding included */
    int64_t buf_len;      /* floats in bufdata, padding included */
    hl_device dev;        /* where the slabs live (HL_DEVICE_CPU after hl_params_init) */
    bool allocated;
    hl_status sticky;     /* first error while declaring (HL_OK if none) */
} hl_params;

void hl_params_init(hl_params *p);
/* Frees slabs, headers and names; p is left empty (re-initialised). NULL-safe. */
void hl_params_free(hl_params *p);

/* Declares a parameter / buffer (ndim 0..4, every dim >= 1). Returns the stable header, NULL on out-of-memory. */
hl_tensor *hl_params_add(hl_params *p, const char *name, int ndim, const int64_t *shape);
hl_tensor *hl_params_add_buffer(hl_params *p, const char *name, int ndim, const int64_t *shape, float init);

/* Chooses the device of the slabs; before hl_params_alloc only. */
void hl_params_set_device(hl_params *p, hl_device dev);
/* The kernel table of the set's device. */
const struct hl_kernels *hl_params_kernels(const hl_params *p);
/* Allocates and wires the slabs (see above). Returns the sticky declaration error if there was one. */
hl_status hl_params_alloc(hl_params *p);

/* Parameter or buffer by full name; NULL if absent. */
hl_tensor *hl_params_find(const hl_params *p, const char *name);

static inline int hl_params_count(const hl_params *p) { return p->n_par; }
static inline int hl_params_buffer_count(const hl_params *p) { return p->n_buf; }
static inline hl_tensor *hl_params_at(const hl_params *p, int i) { return p->par[i].t; }
static inline const char *hl_params_name(const hl_params *p, int i) { return p->par[i].name; }
static inline hl_tensor *hl_params_buffer_at(const hl_params *p, int i) { return p->buf[i].t; }
static inline const char *hl_params_buffer_name(const hl_params *p, int i) { return p->buf[i].name; }
/* Start of parameter i in the data/grad slabs (floats). Valid after alloc. */
static inline int64_t hl_params_offset(const hl_params *p, int i) { return p->par[i].offset; }

/* Number of parameter floats (sum of numel, padding excluded) / buffer floats. */
int64_t hl_params_numel(const hl_params *p);
int64_t hl_params_buffer_numel(const hl_params *p);

/* Zeroes the whole gradient slab. */
void hl_params_zero_grad(hl_params *p);
/* Freezes (false) or unfreezes (true) every parameter: backward then skips their gradient kernels and optimizers
 * skip them. Gradients are kept. */
void hl_params_set_requires_grad(hl_params *p, bool on);
/* Same for the parameters whose name starts with `prefix` (e.g. "backbone."). Returns how many matched. */
int hl_params_set_requires_grad_prefix(hl_params *p, const char *prefix, bool on);

/* Copies parameter and buffer values from src to dst (same names in the same order with the same shapes, e.g. two
 * instances of one architecture). HL_EMISMATCH naming the first difference otherwise; dst unchanged then. */
hl_status hl_params_copy(hl_params *dst, const hl_params *src);

/* Whole-slab transfers between the set's device and host arrays: `which` is 0 for the parameter slab [slab_len],
 * 1 for the buffer slab [buf_len], 2 for the gradient slab [slab_len]. */
void hl_params_download(const hl_params *p, int which, float *host);
void hl_params_upload(hl_params *p, int which, const float *host);
#endif
