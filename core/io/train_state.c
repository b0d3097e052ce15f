/* core/io/train_state.c — resumable training state; see train_state.h. */
#include "core/io/train_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io/safetensors.h"
#include "core/job.h"
#include "core/tensor.h"

void hl_train_state_init(hl_train_state *s, const char *dir, const char *file, const char *what, int64_t total,
                         const char *fingerprint) {
    memset(s, 0, sizeof *s);
    s->on = dir && dir[0];
    if (s->on) snprintf(s->path, sizeof s->path, "%s/%s", dir, file);
    snprintf(s->what, sizeof s->what, "%s", what ? what : "training");
    snprintf(s->fingerprint, sizeof s->fingerprint, "%s", fingerprint ? fingerprint : "");
    s->total = total;
    snprintf(s->unit, sizeof s->unit, "epoch");
}

void hl_train_state_set_unit(hl_train_state *s, const char *unit) { snprintf(s->unit, sizeof s->unit, "%s", unit); }

static hl_train_item *add(hl_train_state *s, hl_train_item_kind kind, const char *name) {
    HL_ASSERT(s->n < HL_TRAIN_STATE_MAX, "hl_train_state: more than %d items", HL_TRAIN_STATE_MAX);
    HL_ASSERT(name && name[0] && strlen(name) < sizeof s->item[0].name, "hl_train_state: bad item name");
    for (const char *c = name; *c; c++)
        HL_ASSERT((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_',
                  "hl_train_state: item name '%s' is not [A-Za-z0-9_]+", name);
    for (int i = 0; i < s->n; i++)
        HL_ASSERT(strcmp(s->item[i].name, name), "hl_train_state: item '%s' registered twice", name);
    hl_train_item *it = &s->item[s->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    snprintf(it->name, sizeof it->name, "%s", name);
    return it;
}

void hl_train_state_params(hl_train_state *s, const char *name, hl_params *p) { add(s, HL_TRAIN_PARAMS, name)->params = p; }
void hl_train_state_optim(hl_train_state *s, const char *name, hl_optim *o) { add(s, HL_TRAIN_OPTIM, name)->optim = o; }
void hl_train_state_blob(hl_train_state *s, const char *name, void *data, size_t bytes) {
    hl_train_item *it = add(s, HL_TRAIN_BLOB, name);
    it->data = data;
    it->bytes = bytes;
}

/* ---- the list of tensors of a state: the same for save and resume -------------------------------------------- */

typedef struct slot {
    char name[320];
    int ndim;
    int64_t shape[HL_ST_MAX_DIMS];
    int64_t numel;
    float *dst;        /* where the values live (params, moments) or NULL for a blob */
    hl_train_item *blob;
    hl_params *dev;    /* a parameter slab on a device (dst is device memory): through hl_params_download/upload */
    int which;         /* dev's slab: 0 data, 1 buffers */
} slot;

typedef struct plan {
    slot *s;
    int n, cap;
    hl_optim_state *os; /* one per item (OPTIM items only) */
} plan;

static hl_status plan_add(plan *p, const char *name, int ndim, const int64_t *shape, float *dst, hl_train_item *blob) {
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        slot *ns = realloc(p->s, (size_t)cap * sizeof *ns);
        if (!ns) return hl_error_set(HL_ENOMEM, "out of memory");
        p->s = ns, p->cap = cap;
    }
    slot *t = &p->s[p->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i], t->numel *= shape[i];
    t->dst = dst;
    t->blob = blob;
    return HL_OK;
}

static void plan_free(plan *p, const hl_train_state *s) {
    for (int i = 0; p->os && i < s->n; i++) hl_optim_state_free(&p->os[i]);
    free(p->os);
    free(p->s);
    memset(p, 0, sizeof *p);
}

static hl_status plan_make(plan *p, hl_train_state *s) {
    hl_status st = HL_OK;
    char nm[320];
    memset(p, 0, sizeof *p);
    p->os = calloc((size_t)(s->n ? s->n : 1), sizeof *p->os);
    if (!p->os) return hl_error_set(HL_ENOMEM, "out of memory");
    for (int i = 0; i < s->n; i++) {
        hl_train_item *it = &s->item[i];
        if (it->kind == HL_TRAIN_PARAMS) {
            hl_params *dev = it->params->dev != HL_DEVICE_CPU ? it->params : NULL;
            snprintf(nm, sizeof nm, "%s.data", it->name);
            HL_TRY(plan_add(p, nm, 1, HL_SHAPE(it->params->slab_len), it->params->data, NULL));
            p->s[p->n - 1].dev = dev, p->s[p->n - 1].which = 0;
            if (it->params->buf_len > 0) {
                snprintf(nm, sizeof nm, "%s.buffers", it->name);
                HL_TRY(plan_add(p, nm, 1, HL_SHAPE(it->params->buf_len), it->params->bufdata, NULL));
                p->s[p->n - 1].dev = dev, p->s[p->n - 1].which = 1;
            }
        } else if (it->kind == HL_TRAIN_OPTIM) {
            HL_TRY(hl_optim_state_export(it->optim, &p->os[i]));
            for (int k = 0; k < p->os[i].n; k++) {
                const hl_optim_state_tensor *t = &p->os[i].t[k];
                snprintf(nm, sizeof nm, "%s:%s", it->name, t->name);
                HL_TRY(plan_add(p, nm, t->ndim, t->shape, t->data, NULL));
            }
        } else {
            snprintf(nm, sizeof nm, "blob.%s", it->name);
            HL_TRY(plan_add(p, nm, 1, HL_SHAPE((int64_t)((it->bytes + 3) / 4)), NULL, it));
        }
    }
done:
    return st;
}

/* ---- save ------------------------------------------------------------------------------------------------------ */

typedef struct metas {
    char **k, **v;
    int n, cap;
} metas;

static hl_status meta_add(metas *m, const char *k, const char *v) {
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 32;
        char **nk = realloc(m->k, (size_t)cap * sizeof *nk);
        if (!nk) return hl_error_set(HL_ENOMEM, "out of memory");
        m->k = nk;
        char **nv = realloc(m->v, (size_t)cap * sizeof *nv);
        if (!nv) return hl_error_set(HL_ENOMEM, "out of memory");
        m->v = nv, m->cap = cap;
    }
    m->k[m->n] = strdup(k);
    m->v[m->n] = strdup(v);
    if (!m->k[m->n] || !m->v[m->n]) {
        free(m->k[m->n]), free(m->v[m->n]);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    m->n++;
    return HL_OK;
}

static void metas_free(metas *m) {
    for (int i = 0; i < m->n; i++) free(m->k[i]), free(m->v[i]);
    free(m->k), free(m->v);
    memset(m, 0, sizeof *m);
}

hl_status hl_train_state_save(hl_train_state *s, int64_t done) {
    if (!s->on) return HL_OK;
    hl_status st = HL_OK;
    double t0 = hl_time_s();
    plan p = {0};
    metas m = {0};
    hl_st_entry *e = NULL;
    float **pad = NULL;
    char num[64], key[128];
    HL_TRY(plan_make(&p, s));
    HL_TRY(meta_add(&m, "format", HL_TRAIN_STATE_FORMAT));
    HL_TRY(meta_add(&m, "what", s->what));
    HL_TRY(meta_add(&m, "fingerprint", s->fingerprint));
    snprintf(num, sizeof num, "%" PRId64, done);
    HL_TRY(meta_add(&m, "done", num));
    snprintf(num, sizeof num, "%" PRId64, s->total);
    HL_TRY(meta_add(&m, "total", num));
    for (int i = 0; i < s->n; i++) {
        const hl_train_item *it = &s->item[i];
        if (it->kind == HL_TRAIN_BLOB) {
            snprintf(key, sizeof key, "blob.%s.bytes", it->name);
            snprintf(num, sizeof num, "%zu", it->bytes);
            HL_TRY(meta_add(&m, key, num));
        } else if (it->kind == HL_TRAIN_OPTIM) {
            for (int k = 0; k < p.os[i].n_meta; k++) {
                char pk[320];
                snprintf(pk, sizeof pk, "%s:%s", it->name, p.os[i].key[k]);
                HL_TRY(meta_add(&m, pk, p.os[i].val[k]));
            }
        }
    }
    e = calloc((size_t)(p.n ? p.n : 1), sizeof *e);
    pad = calloc((size_t)(p.n ? p.n : 1), sizeof *pad);
    if (!e || !pad) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory saving %s", s->path));
    for (int i = 0; i < p.n; i++) {
        const slot *t = &p.s[i];
        const float *data = t->dst;
        if (t->blob) { /* bytes, padded to whole floats, copied bit for bit */
            if (!(pad[i] = calloc((size_t)(t->numel ? t->numel : 1), sizeof(float))))
                HL_TRY(hl_error_set(HL_ENOMEM, "out of memory saving %s", s->path));
            if (t->blob->bytes) memcpy(pad[i], t->blob->data, t->blob->bytes);
            data = pad[i];
        } else if (t->dev) { /* a device slab: a host copy */
            if (!(pad[i] = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float))))
                HL_TRY(hl_error_set(HL_ENOMEM, "out of memory saving %s", s->path));
            hl_params_download(t->dev, t->which, pad[i]);
            data = pad[i];
        }
        e[i] = (hl_st_entry){.name = t->name, .ndim = t->ndim, .shape = t->shape, .data = data};
    }
    st = hl_safetensors_save(s->path, e, p.n, (const char *const *)m.k, (const char *const *)m.v, m.n);
    if (st < 0) hl_error_wrap("%s: saving the training state", s->what);
    else {
        double mb = 0;
        for (int i = 0; i < p.n; i++) mb += (double)p.s[i].numel * 4.0 / 1e6;
        hl_msg(HL_LOG_DEBUG, "%s: state after %s %lld saved (%.1f MB, %.3f s)", s->what, s->unit, (long long)done, mb,
               hl_time_s() - t0);
    }
done:
    for (int i = 0; pad && i < p.n; i++) free(pad[i]);
    free(pad);
    free(e);
    metas_free(&m);
    plan_free(&p, s);
    s->t_saved += hl_time_s() - t0;
    return st;
}

hl_status hl_train_state_epoch_end(hl_train_state *s, int64_t done) {
    hl_status st = hl_train_state_save(s, done);
    if (st < 0) return st;
    if (hl_job_stop_requested())
        return hl_error_set(HL_EINTR, "interrupted after %s %lld/%lld of %s (%s)", s->unit, (long long)done,
                            (long long)s->total, s->what, s->on ? "state saved: the next run resumes there" : "");
    return HL_OK;
}

/* ---- resume ---------------------------------------------------------------------------------------------------- */

static int64_t parse_i64(const char *v, bool *ok) {
    char *end = NULL;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    *ok = v && *v && end && !*end && errno == 0;
    return (int64_t)x;
}

hl_status hl_train_state_resume(hl_train_state *s, int64_t *done) {
    hl_status st = HL_OK;
    hl_safetensors *sf = NULL;
    plan p = {0};
    float **stage = NULL;
    const hl_st_tensor **src = NULL;
    char **ok_k = NULL, **ok_v = NULL;
    *done = 0;
    if (!s->on || access(s->path, F_OK) != 0) return HL_OK;
    HL_TRY(hl_safetensors_open(&sf, s->path));
    const char *fmt = hl_safetensors_meta(sf, "format");
    if (!fmt || strcmp(fmt, HL_TRAIN_STATE_FORMAT))
        HL_TRY(hl_error_set(HL_EMISMATCH, "%s: not a training state (format '%s', expected '%s')", s->path,
                            fmt ? fmt : "none", HL_TRAIN_STATE_FORMAT));
    bool ok1, ok2;
    int64_t d = parse_i64(hl_safetensors_meta(sf, "done"), &ok1), tot = parse_i64(hl_safetensors_meta(sf, "total"), &ok2);
    if (!ok1 || !ok2 || d < 0 || d > tot)
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: bad 'done'/'total' metadata", s->path));
    if (tot != s->total)
        HL_TRY(hl_error_set(HL_EMISMATCH, "%s: saved for %lld epochs, this run has %lld", s->path, (long long)tot,
                            (long long)s->total));
    const char *fp = hl_safetensors_meta(sf, "fingerprint");
    if (!fp || strcmp(fp, s->fingerprint))
        HL_TRY(hl_error_set(HL_EMISMATCH, "%s: saved by another training configuration (fingerprint %.16s, this run "
                            "%.16s)", s->path, fp ? fp : "none", s->fingerprint));
    HL_TRY(plan_make(&p, s));
    /* every registered item, with its size, before anything changes */
    for (int i = 0; i < s->n; i++) {
        const hl_train_item *it = &s->item[i];
        if (it->kind == HL_TRAIN_BLOB) {
            char key[128];
            snprintf(key, sizeof key, "blob.%s.bytes", it->name);
            bool okb;
            int64_t b = parse_i64(hl_safetensors_meta(sf, key), &okb);
            if (!okb || (size_t)b != it->bytes)
                HL_TRY(hl_error_set(HL_EMISMATCH, "%s: '%s' holds %s bytes, this run keeps %zu", s->path, it->name,
                                    okb ? hl_safetensors_meta(sf, key) : "no", it->bytes));
        } else if (it->kind == HL_TRAIN_OPTIM) { /* its metadata, prefix stripped, checked by the optimizer */
            size_t pl = strlen(it->name) + 1;
            int n = 0;
            free(ok_k), free(ok_v);
            ok_k = calloc((size_t)sf->n_meta + 1, sizeof *ok_k);
            ok_v = calloc((size_t)sf->n_meta + 1, sizeof *ok_v);
            if (!ok_k || !ok_v) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
            for (int k = 0; k < sf->n_meta; k++)
                if (!strncmp(sf->meta_key[k], it->name, pl - 1) && sf->meta_key[k][pl - 1] == ':')
                    ok_k[n] = sf->meta_key[k] + pl, ok_v[n] = sf->meta_val[k], n++;
            HL_TRY(hl_optim_state_check_meta(it->optim, (const char *const *)ok_k, (const char *const *)ok_v, n,
                                             s->path));
        }
    }
    stage = calloc((size_t)(p.n ? p.n : 1), sizeof *stage);
    src = calloc((size_t)(p.n ? p.n : 1), sizeof *src);
    if (!stage || !src) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    for (int i = 0; i < p.n; i++) {
        src[i] = hl_safetensors_find(sf, p.s[i].name);
        if (!src[i] || src[i]->numel != p.s[i].numel)
            HL_TRY(hl_error_set(HL_EMISMATCH, "%s: tensor '%s' %s (expected %lld values)", s->path, p.s[i].name,
                                src[i] ? "has another size" : "is missing", (long long)p.s[i].numel));
    }
    if (sf->n != p.n)
        HL_TRY(hl_error_set(HL_EMISMATCH, "%s: holds %d tensors, this run keeps %d", s->path, sf->n, p.n));
    for (int i = 0; i < p.n; i++) {
        if (!(stage[i] = malloc((size_t)(p.s[i].numel ? p.s[i].numel : 1) * sizeof(float))))
            HL_TRY(hl_error_set(HL_ENOMEM, "out of memory reading %s", s->path));
        HL_TRY(hl_safetensors_read_f32(sf, src[i], stage[i], p.s[i].numel));
    }
    /* everything read: now change the state */
    for (int i = 0; i < p.n; i++) {
        if (p.s[i].blob) {
            if (p.s[i].blob->bytes) memcpy(p.s[i].blob->data, stage[i], p.s[i].blob->bytes);
        } else if (p.s[i].dev) {
            hl_params_upload(p.s[i].dev, p.s[i].which, stage[i]);
        } else if (p.s[i].numel) {
            memcpy(p.s[i].dst, stage[i], (size_t)p.s[i].numel * sizeof(float));
        }
    }
    for (int i = 0; i < s->n; i++) /* moments exported as host copies go back to the device */
        if (s->item[i].kind == HL_TRAIN_OPTIM) hl_optim_state_store(s->item[i].optim, &p.os[i]);
    for (int i = 0; i < s->n; i++) {
        hl_train_item *it = &s->item[i];
        if (it->kind != HL_TRAIN_OPTIM) continue;
        size_t pl = strlen(it->name) + 1;
        int n = 0;
        for (int k = 0; k < sf->n_meta; k++)
            if (!strncmp(sf->meta_key[k], it->name, pl - 1) && sf->meta_key[k][pl - 1] == ':')
                ok_k[n] = sf->meta_key[k] + pl, ok_v[n] = sf->meta_val[k], n++;
        hl_optim_state_apply_meta(it->optim, (const char *const *)ok_k, (const char *const *)ok_v, n);
    }
    *done = d;
    hl_msg(HL_LOG_INFO, "%s: resuming after %s %lld/%lld (%s)", s->what, s->unit, (long long)d, (long long)s->total,
           s->path);
done:
    for (int i = 0; stage && i < p.n; i++) free(stage[i]);
    free(stage);
    free(src);
    free(ok_k), free(ok_v);
    plan_free(&p, s);
    hl_safetensors_close(sf);
    return st;
}

hl_status hl_train_state_peek(const char *path, int64_t *done, int64_t *total) {
    hl_safetensors *sf = NULL;
    if (access(path, F_OK) != 0) return hl_error_set(HL_ENOTFOUND, "%s: no training state", path);
    hl_status st = hl_safetensors_open(&sf, path);
    if (st < 0) return st;
    bool ok1, ok2;
    const char *fmt = hl_safetensors_meta(sf, "format");
    *done = parse_i64(hl_safetensors_meta(sf, "done"), &ok1);
    *total = parse_i64(hl_safetensors_meta(sf, "total"), &ok2);
    if (!fmt || strcmp(fmt, HL_TRAIN_STATE_FORMAT) || !ok1 || !ok2)
        st = hl_error_set(HL_EFORMAT, "%s: not a training state", path);
    hl_safetensors_close(sf);
    return st;
}

hl_status hl_train_state_peek_blob(const char *path, const char *name, size_t *bytes) {
    hl_safetensors *sf = NULL;
    char key[128];
    bool ok;
    if (access(path, F_OK) != 0) return hl_error_set(HL_ENOTFOUND, "%s: no training state", path);
    hl_status st = hl_safetensors_open(&sf, path);
    if (st < 0) return st;
    snprintf(key, sizeof key, "blob.%s.bytes", name);
    int64_t b = parse_i64(hl_safetensors_meta(sf, key), &ok);
    hl_safetensors_close(sf);
    if (!ok || b < 0) return hl_error_set(HL_ENOTFOUND, "%s: no blob '%s'", path, name);
    *bytes = (size_t)b;
    return HL_OK;
}

void hl_train_state_remove(const hl_train_state *s) {
    if (s->on) unlink(s->path);
}
