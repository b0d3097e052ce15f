/* core/io/checkpoint.c — hl_params <-> safetensors with metadata; see checkpoint.h. */
#include "core/io/checkpoint.h"
#include "core/version.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/safetensors.h"


/* ---- metadata map ---------------------------------------------------------------------------------------------- */

void hl_ckpt_meta_init(hl_ckpt_meta *m) { memset(m, 0, sizeof *m); }

void hl_ckpt_meta_free(hl_ckpt_meta *m) {
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        free(m->key[i]);
        free(m->val[i]);
    }
    free(m->key);
    free(m->val);
    hl_ckpt_meta_init(m);
}

const char *hl_ckpt_meta_get(const hl_ckpt_meta *m, const char *key) {
    for (int i = 0; m && i < m->n; i++)
        if (strcmp(m->key[i], key) == 0) return m->val[i];
    return NULL;
}

static char *dupstr(const char *s) {
    char *d = malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

hl_status hl_ckpt_meta_set(hl_ckpt_meta *m, const char *key, const char *val) {
    HL_ASSERT(key && val, "NULL metadata key or value");
    char *v = dupstr(val);
    if (!v) return hl_error_set(HL_ENOMEM, "out of memory");
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->key[i], key) == 0) {
            free(m->val[i]);
            m->val[i] = v;
            return HL_OK;
        }
    if (m->n == m->cap) {
        int nc = m->cap ? 2 * m->cap : 8;
        char **k2 = realloc(m->key, (size_t)nc * sizeof *k2);
        if (k2) m->key = k2;
        char **v2 = k2 ? realloc(m->val, (size_t)nc * sizeof *v2) : NULL;
        if (v2) m->val = v2;
        if (!k2 || !v2) {
            free(v);
            return hl_error_set(HL_ENOMEM, "out of memory");
        }
        m->cap = nc;
    }
    char *k = dupstr(key);
    if (!k) {
        free(v);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    m->key[m->n] = k;
    m->val[m->n++] = v;
    return HL_OK;
}

hl_status hl_ckpt_meta_set_int(hl_ckpt_meta *m, const char *key, long long val) {
    char b[32];
    snprintf(b, sizeof b, "%lld", val);
    return hl_ckpt_meta_set(m, key, b);
}

/* ---- save ------------------------------------------------------------------------------------------------------ */

static bool reserved_key(const char *k) {
    return strcmp(k, HL_CKPT_KEY_FORMAT) == 0 || strcmp(k, HL_CKPT_KEY_VERSION) == 0 ||
           strncmp(k, HL_OPTIM_STATE_PREFIX, strlen(HL_OPTIM_STATE_PREFIX)) == 0;
}

/* Model tensors + (os: optimizer state tensors and metadata); caller keys in the reserved namespaces are dropped. */
static hl_status save(const char *path, const hl_params *p, const hl_optim_state *os, const hl_ckpt_meta *meta) {
    HL_ASSERT(p->allocated, "hl_checkpoint_save: parameters not allocated");
    int n_os = os ? os->n : 0, nm_os = os ? os->n_meta : 0;
    int n = p->n_par + p->n_buf + n_os, nm_in = (meta ? meta->n : 0) + nm_os;
    hl_st_entry *e = malloc((size_t)(n + 1) * sizeof *e);
    const char **keys = malloc((size_t)(nm_in + 2) * sizeof *keys), **vals = malloc((size_t)(nm_in + 2) * sizeof *vals);
    float *host = NULL; /* host copy of the slabs [slab_len | buf_len] when they live on a device */
    hl_status st = HL_OK;
    if (!e || !keys || !vals ||
        (p->dev != HL_DEVICE_CPU && !(host = malloc((size_t)(p->slab_len + p->buf_len) * sizeof *host)))) {
        st = hl_error_set(HL_ENOMEM, "out of memory saving a checkpoint");
        goto done;
    }
    if (host) {
        hl_params_download(p, 0, host);
        hl_params_download(p, 1, host + p->slab_len);
    }
    for (int i = 0; i < p->n_par; i++) {
        const hl_tensor *t = p->par[i].t;
        e[i] = (hl_st_entry){p->par[i].name, t->ndim, t->shape, host ? host + p->par[i].offset : t->data};
    }
    for (int i = 0; i < p->n_buf; i++) {
        const hl_tensor *t = p->buf[i].t;
        e[p->n_par + i] = (hl_st_entry){p->buf[i].name, t->ndim, t->shape,
                                        host ? host + p->slab_len + p->buf[i].offset : t->data};
    }
    for (int i = 0; i < n_os; i++)
        e[p->n_par + p->n_buf + i] = (hl_st_entry){os->t[i].name, os->t[i].ndim, os->t[i].shape, os->t[i].data};
    int nm = 0;
    for (int i = 0; meta && i < meta->n; i++) {
        if (reserved_key(meta->key[i])) continue;
        keys[nm] = meta->key[i];
        vals[nm++] = meta->val[i];
    }
    for (int i = 0; i < nm_os; i++) {
        keys[nm] = os->key[i];
        vals[nm++] = os->val[i];
    }
    keys[nm] = HL_CKPT_KEY_FORMAT;
    vals[nm++] = HL_CKPT_FORMAT;
    keys[nm] = HL_CKPT_KEY_VERSION;
    vals[nm++] = HASHLAB_VERSION;
    st = hl_safetensors_save(path, e, n, keys, vals, nm);
done:
    free(host);
    free(e);
    free(keys);
    free(vals);
    return st;
}

hl_status hl_checkpoint_save(const char *path, const hl_params *p, const hl_ckpt_meta *meta) {
    return save(path, p, NULL, meta);
}

hl_status hl_checkpoint_save_train(const char *path, const hl_params *p, const hl_optim *o, const hl_ckpt_meta *meta) {
    HL_ASSERT(o && hl_optim_params(o) == p, "hl_checkpoint_save_train: the optimizer must be over these parameters");
    hl_optim_state os;
    hl_status st = hl_optim_state_export(o, &os);
    if (st < 0) return st;
    st = save(path, p, &os, meta);
    hl_optim_state_free(&os);
    return st;
}

/* ---- load ------------------------------------------------------------------------------------------------------ */

/* An error message under construction (at most ~1000 bytes, then "..."). */
typedef struct msgbuf {
    char s[1000];
    size_t n;
    int count;
} msgbuf;

static void msg_add(msgbuf *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_add(msgbuf *m, const char *fmt, ...) {
    m->count++;
    if (m->n >= sizeof m->s - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(m->s + m->n, sizeof m->s - m->n, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    m->n += (size_t)k;
    if (m->n >= sizeof m->s - 1) {
        m->n = sizeof m->s - 1;
        memcpy(m->s + sizeof m->s - 4, "...", 4);
    }
}

static void shape_str(char *b, size_t n, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(b, n, "[");
    for (int i = 0; i < ndim && k < n; i++) k += (size_t)snprintf(b + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (k < n) snprintf(b + k, n - k, "]");
}

static hl_status copy_meta(const hl_safetensors *sf, hl_ckpt_meta *out) {
    hl_ckpt_meta_init(out);
    for (int i = 0; i < sf->n_meta; i++) {
        hl_status st = hl_ckpt_meta_set(out, sf->meta_key[i], sf->meta_val[i]);
        if (st < 0) {
            hl_ckpt_meta_free(out);
            return st;
        }
    }
    return HL_OK;
}

/* Checks one expected tensor against the file (marking the file tensor as used); returns it if it can be copied. */
static const hl_st_tensor *check_one(const hl_safetensors *sf, bool *used, const char *name, int ndim,
                                     const int64_t *shape, msgbuf *mb) {
    msgbuf *missing = &mb[0], *bad = &mb[1], *dtype = &mb[2];
    const hl_st_tensor *f = hl_safetensors_find(sf, name);
    if (!f) {
        msg_add(missing, "%s'%s'", missing->count ? ", " : "", name);
        return NULL;
    }
    used[f - sf->t] = true;
    if (strcmp(f->dtype, "F32") != 0) {
        msg_add(dtype, "%s'%s' is %s", dtype->count ? ", " : "", name, f->dtype);
        return NULL;
    }
    bool same = f->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = f->shape[d] == shape[d];
    if (!same) {
        char a[128], b[128];
        shape_str(a, sizeof a, f->ndim, f->shape);
        shape_str(b, sizeof b, ndim, shape);
        msg_add(bad, "%s'%s': checkpoint %s, model %s", bad->count ? "; " : "", name, a, b);
        return NULL;
    }
    return f;
}

/* o == NULL: model only (flags apply; optimizer-state tensors of a training checkpoint are ignored). o != NULL: model
 * and optimizer, strict. Everything is checked before anything is written. */
static hl_status load(const char *path, hl_params *p, hl_optim *o, hl_ckpt_meta *meta_out, unsigned flags) {
    HL_ASSERT(p->allocated, "hl_checkpoint_load: parameters not allocated");
    HL_ASSERT(!o || hl_optim_params(o) == p, "hl_checkpoint_load_train: the optimizer must be over these parameters");
    hl_safetensors *sf = NULL;
    hl_status st = hl_safetensors_open(&sf, path);
    if (st < 0) return st;
    const char *const *mk = (const char *const *)sf->meta_key, *const *mv = (const char *const *)sf->meta_val;
    hl_optim_state os = {0};
    hl_ckpt_meta meta = {0};
    const hl_st_tensor **src = NULL;
    msgbuf *mb = NULL;
    bool *used = NULL;
    float *stage = NULL, *host = NULL;
    int64_t stage_off = 0;
    if (o && ((st = hl_optim_state_check_meta(o, mk, mv, sf->n_meta, path)) < 0 ||
              (st = hl_optim_state_export(o, &os)) < 0))
        goto done;
    int nm = p->n_par + p->n_buf, n = nm + os.n;
    src = calloc((size_t)n + 1, sizeof *src);
    mb = calloc(4, sizeof *mb); /* missing, bad shape, dtype, unexpected */
    used = calloc((size_t)sf->n + 1, sizeof *used);
    if (!src || !mb || !used) {
        st = hl_error_set(HL_ENOMEM, "out of memory loading a checkpoint");
        goto done;
    }
    for (int i = 0; i < nm; i++) {
        const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
        src[i] = check_one(sf, used, e->name, e->t->ndim, e->t->shape, mb);
    }
    for (int i = 0; i < os.n; i++) src[nm + i] = check_one(sf, used, os.t[i].name, os.t[i].ndim, os.t[i].shape, mb);
    bool skip_optim = !o && hl_safetensors_meta(sf, HL_OPTIM_KEY_FORMAT);
    for (int i = 0; i < sf->n; i++) {
        if (used[i] || (skip_optim && strncmp(sf->t[i].name, HL_OPTIM_STATE_PREFIX, strlen(HL_OPTIM_STATE_PREFIX)) == 0))
            continue;
        msg_add(&mb[3], "%s'%s'", mb[3].count ? ", " : "", sf->t[i].name);
    }
    if (mb[2].count) {
        st = hl_error_set(HL_EUNSUPPORTED, "%s: only F32 tensors can be loaded: %s", path, mb[2].s);
        goto done;
    }
    if (mb[1].count) {
        st = hl_error_set(HL_EMISMATCH, "%s: %d shape mismatch(es): %s", path, mb[1].count, mb[1].s);
        goto done;
    }
    if (mb[0].count && (o || !(flags & HL_CKPT_ALLOW_MISSING))) {
        st = hl_error_set(HL_EMISMATCH, "%s: %d tensor(s) missing from the checkpoint: %s", path, mb[0].count, mb[0].s);
        goto done;
    }
    if (mb[3].count && (o || !(flags & HL_CKPT_ALLOW_UNEXPECTED))) {
        st = hl_error_set(HL_EMISMATCH, "%s: %d unexpected tensor(s) in the checkpoint: %s", path, mb[3].count, mb[3].s);
        goto done;
    }
    if (mb[0].count) hl_msg(HL_LOG_WARN, "%s: %d tensor(s) not in the checkpoint keep their values: %s", path, mb[0].count, mb[0].s);
    if (mb[3].count) hl_msg(HL_LOG_WARN, "%s: %d checkpoint tensor(s) ignored: %s", path, mb[3].count, mb[3].s);
    if (meta_out && (st = copy_meta(sf, &meta)) < 0) goto done;
    /* every tensor is read and checked (finite values only) into one staging buffer before any is copied */
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += src[i] ? src[i]->numel : 0;
    if (!(stage = malloc((size_t)HL_MAX(total, 1) * sizeof *stage))) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory staging %lld values", path, (long long)total);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!src[i]) continue;
        float *at = stage + stage_off;
        if ((st = hl_safetensors_read_f32(sf, src[i], at, src[i]->numel)) < 0) goto done;
        for (int64_t j = 0; j < src[i]->numel; j++)
            if (!isfinite(at[j])) {
                st = hl_error_set(HL_ENUMERIC, "%s: tensor '%s' holds a non-finite value (%s at element %lld): the "
                                  "model it was saved from had diverged, or the file is damaged", path, src[i]->name,
                                  isnan(at[j]) ? "NaN" : "Inf", (long long)j);
                goto done;
            }
        stage_off += src[i]->numel;
    }
    /* on a device, the slabs go through a host copy (downloaded first: tensors absent from the file keep their values) */
    if (p->dev != HL_DEVICE_CPU) {
        if (!(host = malloc((size_t)(p->slab_len + p->buf_len) * sizeof *host))) {
            st = hl_error_set(HL_ENOMEM, "%s: out of memory staging the parameters", path);
            goto done;
        }
        hl_params_download(p, 0, host);
        hl_params_download(p, 1, host + p->slab_len);
    }
    stage_off = 0;
    for (int i = 0; i < n; i++) {
        if (!src[i]) continue;
        float *dst = i >= nm            ? os.t[i - nm].data
                     : i < p->n_par    ? (host ? host + p->par[i].offset : p->par[i].t->data)
                                       : (host ? host + p->slab_len + p->buf[i - p->n_par].offset
                                               : p->buf[i - p->n_par].t->data);
        memcpy(dst, stage + stage_off, (size_t)src[i]->numel * sizeof *dst);
        stage_off += src[i]->numel;
    }
    if (host) {
        hl_params_upload(p, 0, host);
        hl_params_upload(p, 1, host + p->slab_len);
    }
    if (o) {
        hl_optim_state_store(o, &os);
        hl_optim_state_apply_meta(o, mk, mv, sf->n_meta);
    }
    if (meta_out) {
        *meta_out = meta;
        hl_ckpt_meta_init(&meta);
    }
done:
    free(stage);
    free(host);
    hl_ckpt_meta_free(&meta);
    hl_optim_state_free(&os);
    free(src);
    free(mb);
    free(used);
    hl_safetensors_close(sf);
    return st;
}

hl_status hl_checkpoint_load_ex(const char *path, hl_params *p, hl_ckpt_meta *meta_out, unsigned flags) {
    if (meta_out) hl_ckpt_meta_init(meta_out);
    return load(path, p, NULL, meta_out, flags);
}

hl_status hl_checkpoint_load(const char *path, hl_params *p, hl_ckpt_meta *meta_out) {
    return hl_checkpoint_load_ex(path, p, meta_out, 0);
}

hl_status hl_checkpoint_load_train(const char *path, hl_params *p, hl_optim *o, hl_ckpt_meta *meta_out) {
    HL_ASSERT(o, "hl_checkpoint_load_train: NULL optimizer");
    if (meta_out) hl_ckpt_meta_init(meta_out);
    return load(path, p, o, meta_out, 0);
}

hl_status hl_checkpoint_read_meta(const char *path, hl_ckpt_meta *meta_out) {
    hl_ckpt_meta_init(meta_out);
    hl_safetensors *sf = NULL;
    hl_status st = hl_safetensors_open(&sf, path);
    if (st < 0) return st;
    st = copy_meta(sf, meta_out);
    hl_safetensors_close(sf);
    return st;
}
