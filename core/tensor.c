/* core/tensor.c — tensor headers, arena and heap allocation, shape helpers. */
#include "core/ctx.h"
#include "core/kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t hl_tensor_numel(const hl_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

void hl_tensor_init_strides(hl_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        t->stride[i] = s;
        s *= t->shape[i];
    }
}

bool hl_tensor_is_contiguous(const hl_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

bool hl_tensor_same_shape(const hl_tensor *a, const hl_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

char *hl_tensor_shape_str(const hl_tensor *t, char *buf, size_t n) {
    if (!t) {
        snprintf(buf, n, "(null)");
        return buf;
    }
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (k < n) k += (size_t)snprintf(buf + k, n - k, "]");
    if (t->name[0] && k < n) snprintf(buf + k, n - k, " '%s'", t->name);
    return buf;
}

void hl_tensor_set_name(hl_tensor *t, const char *name) {
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
}

static void hl__set_shape(hl_tensor *t, int ndim, const int64_t *shape) {
    HL_ASSERT(ndim >= 0 && ndim <= HL_MAX_DIMS, "ndim %d out of range 0..%d", ndim, HL_MAX_DIMS);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        HL_ASSERT(shape[i] >= 1, "dimension %d has size %lld", i, (long long)shape[i]);
        t->shape[i] = shape[i];
    }
    for (int i = ndim; i < HL_MAX_DIMS; i++) t->shape[i] = 1;
    hl_tensor_init_strides(t);
}

hl_tensor *hl_tensor_new(hl_ctx *ctx, int ndim, const int64_t *shape) {
    hl_tensor *t = hl_arena_alloc(&ctx->arena, sizeof *t);
    memset(t, 0, sizeof *t);
    hl__set_shape(t, ndim, shape);
    t->dev = ctx->dev;
    t->flags = HL_T_LEAF;
    t->data = hl_arena_alloc(&ctx->dev_arena, (size_t)hl_tensor_numel(t) * sizeof(float));
    return t;
}

hl_tensor *hl_tensor_zeros(hl_ctx *ctx, int ndim, const int64_t *shape) {
    hl_tensor *t = hl_tensor_new(ctx, ndim, shape);
    ctx->k->base->fill(hl_tensor_numel(t), 0.0f, t->data);
    return t;
}

hl_tensor *hl_tensor_new_like(hl_ctx *ctx, const hl_tensor *like) { return hl_tensor_new(ctx, like->ndim, like->shape); }

hl_tensor *hl_tensor_from(hl_ctx *ctx, int ndim, const int64_t *shape, const float *src) {
    hl_tensor *t = hl_tensor_new(ctx, ndim, shape);
    ctx->k->base->from_host(hl_tensor_numel(t), src, t->data);
    return t;
}

hl_tensor *hl_tensor_scalar(hl_ctx *ctx, float v) { return hl_tensor_from(ctx, 0, NULL, &v); }

hl_status hl_tensor_create(hl_tensor **out, int ndim, const int64_t *shape, hl_device dev) {
    *out = NULL;
    const hl_kernels *k = hl_kernels_for(dev);
    if (!k || !hl_device_available(dev))
        return hl_error_set(HL_EDEVICE, "device '%s' is not available (%s)", hl_device_name(dev),
                            k ? "no device present" : "not built in");
    hl_tensor *t = calloc(1, sizeof *t);
    if (!t) return hl_error_set(HL_ENOMEM, "out of memory allocating a tensor header");
    hl__set_shape(t, ndim, shape);
    t->dev = dev;
    int64_t n = hl_tensor_numel(t);
    t->data = k->base->dev_alloc((size_t)n * sizeof(float));
    if (!t->data) {
        free(t);
        return hl_error_set(HL_ENOMEM, "out of memory allocating a tensor of %lld floats", (long long)n);
    }
    k->base->fill(n, 0.0f, t->data);
    t->flags = HL_T_LEAF | HL_T_OWNS_DATA | HL_T_HEAP;
    *out = t;
    return HL_OK;
}

void hl_tensor_free(hl_tensor *t) {
    if (!t) return;
    const hl_kern_base *k = hl_kernels_for(t->dev)->base;
    if (t->flags & HL_T_OWNS_DATA) k->dev_free(t->data);
    if (t->flags & HL_T_OWNS_GRAD) k->dev_free(t->grad);
    if (t->flags & HL_T_HEAP) free(t);
}

void hl_tensor_wrap(hl_tensor *t, float *data, int ndim, const int64_t *shape, hl_device dev) {
    memset(t, 0, sizeof *t);
    hl__set_shape(t, ndim, shape);
    t->data = data;
    t->dev = dev;
    t->flags = HL_T_LEAF;
}

void hl_tensor_set_requires_grad(hl_tensor *t, bool on) {
    if (!on) {
        t->flags &= ~(uint32_t)HL_T_REQUIRES_GRAD;
        return;
    }
    t->flags |= HL_T_REQUIRES_GRAD;
    if ((t->flags & HL_T_HEAP) && !t->grad) {
        const hl_kern_base *k = hl_kernels_for(t->dev)->base;
        t->grad = k->dev_alloc((size_t)hl_tensor_numel(t) * sizeof(float));
        HL_ASSERT(t->grad, "out of memory allocating a gradient");
        k->fill(hl_tensor_numel(t), 0.0f, t->grad);
        t->flags |= HL_T_OWNS_GRAD;
    }
}

void hl_tensor_zero_grad(hl_tensor *t) {
    if (t->grad) hl_kernels_for(t->dev)->base->fill(hl_tensor_numel(t), 0.0f, t->grad);
}

void hl_tensor_upload(hl_tensor *t, const float *host) {
    hl_kernels_for(t->dev)->base->from_host(hl_tensor_numel(t), host, t->data);
}

void hl_tensor_download(const hl_tensor *t, float *host) {
    hl_kernels_for(t->dev)->base->to_host(hl_tensor_numel(t), t->data, host);
}

static const float *host_view(hl_ctx *ctx, const hl_tensor *t, const float *p) {
    if (!p || t->dev == HL_DEVICE_CPU) return p;
    const int64_t n = hl_tensor_numel(t);
    float *h = hl_arena_alloc(&ctx->arena, (size_t)n * sizeof *h);
    hl_kernels_for(t->dev)->base->to_host(n, p, h);
    return h;
}

const float *hl_tensor_host(hl_ctx *ctx, const hl_tensor *t) { return host_view(ctx, t, t->data); }
const float *hl_tensor_host_grad(hl_ctx *ctx, const hl_tensor *t) { return host_view(ctx, t, t->grad); }

void hl_tensor_copy_data(hl_tensor *dst, const hl_tensor *src) {
    HL_ASSERT_SHAPE(hl_tensor_numel(dst) == hl_tensor_numel(src), dst, src);
    const int64_t n = hl_tensor_numel(src);
    if (dst->dev == src->dev) {
        hl_kernels_for(dst->dev)->base->copy(n, src->data, dst->data);
    } else if (dst->dev == HL_DEVICE_CPU) {
        hl_kernels_for(src->dev)->base->to_host(n, src->data, dst->data);
    } else if (src->dev == HL_DEVICE_CPU) {
        hl_kernels_for(dst->dev)->base->from_host(n, src->data, dst->data);
    } else { /* two devices: through the host */
        float *h = malloc((size_t)n * sizeof *h);
        HL_ASSERT(h, "out of memory staging a copy of %lld floats", (long long)n);
        hl_kernels_for(src->dev)->base->to_host(n, src->data, h);
        hl_kernels_for(dst->dev)->base->from_host(n, h, dst->data);
        free(h);
    }
}

void hl_tensor_rand_uniform(hl_tensor *t, hl_rng *r, float lo, float hi) {
    const int64_t n = hl_tensor_numel(t);
    hl_kernels_for(t->dev)->rng->uniform(n, r->seed, r->stream, r->counter, lo, hi, t->data);
    r->counter += (uint64_t)n;
}

void hl_tensor_rand_normal(hl_tensor *t, hl_rng *r, float mean, float std) {
    const int64_t n = hl_tensor_numel(t);
    hl_kernels_for(t->dev)->rng->normal(n, r->seed, r->stream, r->counter, mean, std, t->data);
    r->counter += (uint64_t)n;
}

void hl_tensor_fill(hl_tensor *t, float v) { hl_kernels_for(t->dev)->base->fill(hl_tensor_numel(t), v, t->data); }
