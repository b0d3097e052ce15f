/* core/nn/params.c — parameter slabs; see params.h. */
#include "core/nn/params.h"

#include "core/kernels.h"

#include <stdlib.h>
#include <string.h>

void hl_params_init(hl_params *p) { memset(p, 0, sizeof *p); }

static void free_entries(hl_params_entry *e, int n) {
    for (int i = 0; i < n; i++) {
        free(e[i].t);
        free(e[i].name);
    }
    free(e);
}

const hl_kernels *hl_params_kernels(const hl_params *p) { return hl_kernels_for(p->dev); }

void hl_params_set_device(hl_params *p, hl_device dev) {
    HL_ASSERT(!p->allocated, "hl_params_set_device after hl_params_alloc");
    p->dev = dev;
}

void hl_params_free(hl_params *p) {
    if (!p) return;
    free_entries(p->par, p->n_par);
    free_entries(p->buf, p->n_buf);
    const hl_kern_base *k = hl_params_kernels(p)->base;
    k->dev_free(p->data);
    k->dev_free(p->grad);
    k->dev_free(p->bufdata);
    hl_params_init(p);
}

static const hl_params_entry *find_entry(const hl_params *p, const char *name) {
    for (int i = 0; i < p->n_par; i++)
        if (strcmp(p->par[i].name, name) == 0) return &p->par[i];
    for (int i = 0; i < p->n_buf; i++)
        if (strcmp(p->buf[i].name, name) == 0) return &p->buf[i];
    return NULL;
}

hl_tensor *hl_params_find(const hl_params *p, const char *name) {
    const hl_params_entry *e = find_entry(p, name);
    return e ? e->t : NULL;
}

static hl_tensor *add_entry(hl_params *p, bool is_buf, const char *name, int ndim, const int64_t *shape, float init) {
    HL_ASSERT(name && name[0], "parameter name must be non-empty");
    HL_ASSERT(!p->allocated, "'%s' declared after hl_params_alloc", name);
    HL_ASSERT(!find_entry(p, name), "parameter name '%s' declared twice", name);
    HL_ASSERT(ndim >= 0 && ndim <= HL_MAX_DIMS, "'%s': ndim %d out of range", name, ndim);
    for (int i = 0; i < ndim; i++) HL_ASSERT(shape[i] >= 1, "'%s': dim %d has size %lld", name, i, (long long)shape[i]);
    if (p->sticky < 0) return NULL;

    hl_params_entry **arr = is_buf ? &p->buf : &p->par;
    int *n = is_buf ? &p->n_buf : &p->n_par, *cap = is_buf ? &p->cap_buf : &p->cap_par;
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 16;
        hl_params_entry *g = realloc(*arr, (size_t)nc * sizeof *g);
        if (!g) goto oom;
        *arr = g;
        *cap = nc;
    }
    hl_tensor *t = calloc(1, sizeof *t);
    char *nm = malloc(strlen(name) + 1);
    if (!t || !nm) {
        free(t);
        free(nm);
        goto oom;
    }
    strcpy(nm, name);
    hl_tensor_wrap(t, NULL, ndim, shape, HL_DEVICE_CPU);
    hl_tensor_set_name(t, name);
    (*arr)[(*n)++] = (hl_params_entry){t, nm, -1, init};
    return t;
oom:
    p->sticky = hl_error_set(HL_ENOMEM, "out of memory declaring parameter '%s'", name);
    return NULL;
}

hl_tensor *hl_params_add(hl_params *p, const char *name, int ndim, const int64_t *shape) {
    return add_entry(p, false, name, ndim, shape, 0.0f);
}

hl_tensor *hl_params_add_buffer(hl_params *p, const char *name, int ndim, const int64_t *shape, float init) {
    return add_entry(p, true, name, ndim, shape, init);
}

static int64_t round_up(int64_t n) { return (n + HL_PARAMS_ALIGN - 1) / HL_PARAMS_ALIGN * HL_PARAMS_ALIGN; }

/* Assigns offsets; returns the slab length (>= HL_PARAMS_ALIGN so the slab is never a zero-size allocation). */
static int64_t layout(hl_params_entry *e, int n) {
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        e[i].offset = off;
        off += round_up(hl_tensor_numel(e[i].t));
    }
    return off ? off : HL_PARAMS_ALIGN;
}

/* n floats (a multiple of 16) of zeroed device memory. */
static float *slab_alloc(const hl_kern_base *k, int64_t n) {
    float *s = k->dev_alloc((size_t)n * sizeof(float));
    if (s) k->fill(n, 0.0f, s);
    return s;
}

hl_status hl_params_alloc(hl_params *p) {
    HL_ASSERT(!p->allocated, "hl_params_alloc called twice");
    if (p->sticky < 0) return p->sticky;
    p->slab_len = layout(p->par, p->n_par);
    p->buf_len = layout(p->buf, p->n_buf);
    const hl_kernels *kt = hl_params_kernels(p);
    HL_ASSERT(kt, "hl_params_alloc: device '%s' is not built in", hl_device_name(p->dev));
    const hl_kern_base *k = kt->base;
    p->data = slab_alloc(k, p->slab_len);
    p->grad = slab_alloc(k, p->slab_len);
    p->bufdata = slab_alloc(k, p->buf_len);
    if (!p->data || !p->grad || !p->bufdata) {
        k->dev_free(p->data);
        k->dev_free(p->grad);
        k->dev_free(p->bufdata);
        p->data = p->grad = p->bufdata = NULL;
        return hl_error_set(HL_ENOMEM, "out of memory allocating parameter slabs (%lld + %lld floats)",
                            (long long)p->slab_len, (long long)p->buf_len);
    }
    for (int i = 0; i < p->n_par; i++) {
        hl_tensor *t = p->par[i].t;
        t->data = p->data + p->par[i].offset;
        t->grad = p->grad + p->par[i].offset;
        t->flags = HL_T_PARAM | HL_T_LEAF | HL_T_REQUIRES_GRAD;
        t->dev = p->dev;
    }
    for (int i = 0; i < p->n_buf; i++) {
        hl_tensor *t = p->buf[i].t;
        t->data = p->bufdata + p->buf[i].offset;
        t->grad = NULL;
        t->flags = HL_T_LEAF;
        t->dev = p->dev;
        k->fill(hl_tensor_numel(t), p->buf[i].init, t->data);
    }
    p->allocated = true;
    return HL_OK;
}

int64_t hl_params_numel(const hl_params *p) {
    int64_t n = 0;
    for (int i = 0; i < p->n_par; i++) n += hl_tensor_numel(p->par[i].t);
    return n;
}

int64_t hl_params_buffer_numel(const hl_params *p) {
    int64_t n = 0;
    for (int i = 0; i < p->n_buf; i++) n += hl_tensor_numel(p->buf[i].t);
    return n;
}

void hl_params_zero_grad(hl_params *p) {
    if (p->grad) hl_params_kernels(p)->base->fill(p->slab_len, 0.0f, p->grad);
}

void hl_params_set_requires_grad(hl_params *p, bool on) { hl_params_set_requires_grad_prefix(p, "", on); }

int hl_params_set_requires_grad_prefix(hl_params *p, const char *prefix, bool on) {
    size_t lp = strlen(prefix);
    int matched = 0;
    for (int i = 0; i < p->n_par; i++) {
        if (strncmp(p->par[i].name, prefix, lp) != 0) continue;
        hl_tensor *t = p->par[i].t;
        if (on)
            t->flags |= HL_T_REQUIRES_GRAD;
        else
            t->flags &= ~(uint32_t)HL_T_REQUIRES_GRAD;
        matched++;
    }
    return matched;
}

static hl_status check_same(const hl_params_entry *d, int nd, const hl_params_entry *s, int ns, const char *what) {
    if (nd != ns) return hl_error_set(HL_EMISMATCH, "params copy: %d %s in the destination, %d in the source", nd, what, ns);
    for (int i = 0; i < nd; i++) {
        char a[96], b[96];
        if (strcmp(d[i].name, s[i].name) != 0)
            return hl_error_set(HL_EMISMATCH, "params copy: %s %d is '%s' in the destination, '%s' in the source",
                                what, i, d[i].name, s[i].name);
        if (!hl_tensor_same_shape(d[i].t, s[i].t))
            return hl_error_set(HL_EMISMATCH, "params copy: '%s' has shape %s in the destination, %s in the source",
                                d[i].name, hl_tensor_shape_str(d[i].t, a, sizeof a), hl_tensor_shape_str(s[i].t, b, sizeof b));
    }
    return HL_OK;
}

hl_status hl_params_copy(hl_params *dst, const hl_params *src) {
    HL_ASSERT(dst->allocated && src->allocated, "hl_params_copy needs allocated parameter sets");
    hl_status st = check_same(dst->par, dst->n_par, src->par, src->n_par, "parameters");
    if (st == HL_OK) st = check_same(dst->buf, dst->n_buf, src->buf, src->n_buf, "buffers");
    if (st < 0) return st;
    /* Same names and shapes in the same order => identical layouts. */
    if (dst->dev == src->dev) {
        const hl_kern_base *k = hl_params_kernels(dst)->base;
        k->copy(src->slab_len, src->data, dst->data);
        k->copy(src->buf_len, src->bufdata, dst->bufdata);
        return HL_OK;
    }
    float *h = malloc((size_t)HL_MAX(src->slab_len, src->buf_len) * sizeof *h);
    if (!h) return hl_error_set(HL_ENOMEM, "params copy: out of memory staging %lld floats", (long long)src->slab_len);
    for (int w = 0; w < 2; w++) {
        hl_params_download(src, w, h);
        hl_params_upload(dst, w, h);
    }
    free(h);
    return HL_OK;
}

static float *slab_of(const hl_params *p, int which, int64_t *n) {
    HL_ASSERT(p->allocated && which >= 0 && which <= 2, "params transfer: slab %d of an unallocated set", which);
    *n = which == 1 ? p->buf_len : p->slab_len;
    return which == 0 ? p->data : which == 1 ? p->bufdata : p->grad;
}

void hl_params_download(const hl_params *p, int which, float *host) {
    int64_t n;
    const float *s = slab_of(p, which, &n);
    hl_params_kernels(p)->base->to_host(n, s, host);
}

void hl_params_upload(hl_params *p, int which, const float *host) {
    int64_t n;
    float *s = slab_of(p, which, &n);
    hl_params_kernels(p)->base->from_host(n, host, s);
}
