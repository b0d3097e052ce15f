/* core/nn/backbone_weights.c — hl_backbone_load_weights (backbone.h): pretrained weights from a safetensors file. */
#include "core/nn/backbone.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/safetensors.h"

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (man << 13);
    else
        bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Tensor t of the file into dst (n floats), F32, F16 or BF16 (little-endian host assumed for the 16-bit kinds). */
static hl_status read_any(hl_safetensors *st, const hl_st_tensor *t, float *dst, int64_t n, const char *path) {
    if (strcmp(t->dtype, "F32") == 0) return hl_safetensors_read_f32(st, t, dst, n);
    bool bf = strcmp(t->dtype, "BF16") == 0;
    if (!bf && strcmp(t->dtype, "F16") != 0)
        return hl_error_set(HL_EUNSUPPORTED, "%s: tensor '%s' has dtype %s (F32, F16 or BF16 expected)", path,
                            t->name, t->dtype);
    size_t bytes = (size_t)(t->end - t->begin);
    uint16_t *raw = malloc(bytes ? bytes : 1);
    if (!raw) return hl_error_set(HL_ENOMEM, "out of memory reading '%s'", t->name);
    hl_status s = HL_OK;
    if (st->mem)
        memcpy(raw, st->mem + st->data_start + t->begin, bytes);
    else if (bytes && (fseeko(st->f, (off_t)(st->data_start + t->begin), SEEK_SET) != 0 ||
                       fread(raw, 1, bytes, st->f) != bytes))
        s = hl_error_set(HL_EIO, "%s: cannot read tensor '%s'", path, t->name);
    for (int64_t i = 0; s == HL_OK && i < n; i++) {
        if (bf) {
            uint32_t b = (uint32_t)raw[i] << 16;
            memcpy(&dst[i], &b, sizeof b);
        } else
            dst[i] = half_to_float(raw[i]);
    }
    free(raw);
    return s;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* The backbone's entries of p (parameters then buffers): names starting with "<prefix>." (all when no prefix). */
static bool mine(const hl_backbone *bb, const char *name) {
    size_t n = strlen(bb->prefix);
    return n == 0 || (strncmp(name, bb->prefix, n) == 0 && name[n] == '.');
}

hl_status hl_backbone_load_weights(hl_backbone *bb, hl_params *p, const char *path, int *copied) {
    hl_status st = HL_OK;
    hl_safetensors *f = NULL;
    int total = p->n_par + p->n_buf, n = 0;
    const hl_st_tensor **src = calloc((size_t)(total ? total : 1), sizeof *src);
    float **tmp = calloc((size_t)(total ? total : 1), sizeof *tmp);
    size_t plen = strlen(bb->prefix);
    if (copied) *copied = 0;
    if (!src || !tmp) {
        st = hl_error_set(HL_ENOMEM, "out of memory");
        goto done;
    }
    HL_ASSERT(p->allocated, "hl_backbone_load_weights: parameters not allocated");
    HL_TRY(hl_safetensors_open(&f, path));
    /* Pass 1: find and check every tensor, converting into temporaries (nothing changes on error). */
    for (int i = 0; i < total; i++) {
        const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
        if (!mine(bb, e->name)) continue;
        const hl_st_tensor *t = hl_safetensors_find(f, e->name);
        if (!t && plen) t = hl_safetensors_find(f, e->name + plen + 1);
        char a[128], b[128];
        shape_str(b, sizeof b, e->t->ndim, e->t->shape);
        if (!t) {
            st = hl_error_set(HL_EMISMATCH,
                              "%s: backbone tensor '%s' %s is missing from the file (looked for '%s'%s%s)", path,
                              e->name, b, e->name, plen ? " and " : "", plen ? e->name + plen + 1 : "");
            goto done;
        }
        bool same = t->ndim == e->t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == e->t->shape[d];
        if (!same) {
            shape_str(a, sizeof a, t->ndim, t->shape);
            st = hl_error_set(HL_EMISMATCH, "%s: tensor '%s' has shape %s, backbone tensor '%s' needs %s", path,
                              t->name, a, e->name, b);
            goto done;
        }
        int64_t numel = hl_tensor_numel(e->t);
        if (!(tmp[i] = malloc((size_t)(numel ? numel : 1) * sizeof(float)))) {
            st = hl_error_set(HL_ENOMEM, "out of memory");
            goto done;
        }
        HL_TRY(read_any(f, t, tmp[i], numel, path));
        src[i] = t;
    }
    /* Pass 2: copy. */
    for (int i = 0; i < total; i++) {
        if (!src[i]) continue;
        const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
        hl_tensor_upload(e->t, tmp[i]);
        n++;
    }
    if (copied) *copied = n;
done:
    if (f) hl_safetensors_close(f);
    for (int i = 0; tmp && i < total; i++) free(tmp[i]);
    free(tmp);
    free(src);
    return st;
}
