/* hashers/hasher.c — the hasher driver: create/free by name, fit, forward with shape checks, encode, save/load. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/checkpoint.h"
#include "core/io/json.h"
#include "core/kernels.h"
#include "core/ops/ops.h"
#include "hashers/hasher.h"

#include "core/job.h"

hl_dataset_info hl_dataset_info_of(const hl_dataset *d) {
    return (hl_dataset_info){.c = d->c, .h = d->h, .w = d->w, .nlabels = d->labels.nlabels};
}

hl_status hl_hasher_create(hl_hasher **out, const char *name, const hl_config *params, const hl_dataset_info *info,
                           int bits, uint64_t seed) {
    const hl_hasher_class *cls = hl_hasher_class_find(name);
    *out = NULL;
    if (!cls) return hl_error_code();
    return hl_hasher_create_class(out, cls, params, info, bits, seed);
}

hl_status hl_hasher_create_class(hl_hasher **out, const hl_hasher_class *cls, const hl_config *params,
                                 const hl_dataset_info *info, int bits, uint64_t seed) {
    return hl_hasher_create_on(out, cls, params, info, bits, seed, HL_DEVICE_CPU);
}

hl_status hl_hasher_create_on(hl_hasher **out, const hl_hasher_class *cls, const hl_config *params,
                              const hl_dataset_info *info, int bits, uint64_t seed, hl_device dev) {
    hl_status st = HL_OK;
    hl_config *empty = NULL, *resolved = NULL;
    hl_hasher *h = NULL;
    char what[96];
    *out = NULL;
    HL_ASSERT(cls && cls->size >= sizeof(hl_hasher) && cls->init && cls->forward, "incomplete hasher class");
    if (bits < 1 || bits > 4096) return hl_error_set(HL_EINVAL, "hasher '%s': bits must be in [1, 4096], got %d",
                                                     cls->name, bits);
    if (dev != HL_DEVICE_CPU && !(cls->flags & HL_HASHER_DEVICE))
        return hl_error_set(HL_EUNSUPPORTED, "hasher '%s' does not run on device '%s' yet (it computes on host memory "
                            "without explicit transfers); run it with --device cpu", cls->name, hl_device_name(dev));
    if (!hl_device_available(dev))
        return hl_error_set(HL_EDEVICE, "hasher '%s': device '%s' is not available", cls->name, hl_device_name(dev));
    if (info->c < 1 || info->h < 1 || info->w < 1 || info->nlabels < 0)
        return hl_error_set(HL_EINVAL, "hasher '%s': invalid image shape %dx%dx%d", cls->name, info->c, info->h,
                            info->w);
    if (!params) {
        if (!(empty = hl_config_new(HL_CONFIG_MAP, NULL, "<default>", 0, 0)))
            return hl_error_set(HL_ENOMEM, "out of memory");
        params = empty;
    }
    snprintf(what, sizeof what, "hasher '%s'", cls->name);
    HL_TRY(hl_config_check(params, cls->params, cls->n_params, false, what, NULL));
    HL_TRY(hl_config_resolve(params, cls->params, cls->n_params, &resolved));
    if (!(h = calloc(1, cls->size))) {
        st = hl_error_set(HL_ENOMEM, "hasher '%s': out of memory", cls->name);
        goto done;
    }
    h->cls = cls, h->bits = bits, h->seed = seed, h->info = *info, h->cfg = resolved;
    resolved = NULL;
    hl_params_init(&h->params);
    hl_params_set_device(&h->params, dev);
    h->dev = dev;
    if ((st = cls->init(h, h->cfg, info, bits, seed)) < 0) {
        hl_error_wrap("hasher '%s'", cls->name);
        goto done;
    }
    *out = h, h = NULL;
done:
    hl_hasher_free(h);
    hl_config_free(resolved);
    hl_config_free(empty);
    return st;
}

void hl_hasher_free(hl_hasher *h) {
    if (!h) return;
    if (h->cls->fini) h->cls->fini(h);
    hl_params_free(&h->params);
    hl_config_free(h->cfg);
    free(h);
}

/* After a fit: every parameter and buffer is finite, else the fit failed ("... diverged"), naming the tensor. */
static hl_status check_finite(const hl_hasher *h) {
    const hl_params *p = &h->params;
    if (!p->allocated) return HL_OK;
    float *host = malloc((size_t)(p->slab_len + p->buf_len) * sizeof *host); /* the slabs, read through a transfer */
    if (!host) return hl_error_set(HL_ENOMEM, "hasher '%s': out of memory checking the parameters", h->cls->name);
    hl_params_download(p, 0, host);
    hl_params_download(p, 1, host + p->slab_len);
    hl_status st = HL_OK;
    for (int i = 0; i < p->n_par + p->n_buf && st == HL_OK; i++) {
        const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
        const float *v = host + (i < p->n_par ? 0 : p->slab_len) + e->offset;
        int64_t n = hl_tensor_numel(e->t);
        for (int64_t j = 0; j < n; j++)
            if (!isfinite(v[j])) {
                st = hl_error_set(HL_ENUMERIC, "hasher '%s': the fit left %s in '%s' (element %lld): training "
                                  "diverged; lower lr", h->cls->name, isnan(v[j]) ? "NaN" : "Inf", e->name,
                                  (long long)j);
                break;
            }
    }
    free(host);
    return st;
}

static hl_status check_shape(const hl_hasher *h, const hl_dataset *d) {
    if (d->c != h->info.c || d->h != h->info.h || d->w != h->info.w)
        return hl_error_set(HL_EINVAL, "hasher '%s': dataset '%s' has images %dx%dx%d, the hasher was built for "
                            "%dx%dx%d", h->cls->name, d->name, d->c, d->h, d->w, h->info.c, h->info.h, h->info.w);
    return HL_OK;
}

hl_status hl_hasher_fit(hl_hasher *h, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels_visible) {
    hl_status st = HL_OK;
    if (n < 1) return hl_error_set(HL_EINVAL, "hasher '%s': fit needs at least one training image", h->cls->name);
    if ((h->cls->flags & HL_HASHER_SUPERVISED) && !labels_visible)
        return hl_error_set(HL_EINVAL, "hasher '%s' is supervised but the protocol hides the training labels",
                            h->cls->name);
    if ((h->cls->flags & HL_HASHER_SUPERVISED) && !hl_dataset_has_labels(train))
        return hl_error_set(HL_EINVAL, "hasher '%s' is supervised but dataset '%s' has no labels", h->cls->name,
                            train->name);
    HL_TRY(check_shape(h, train));
    if (h->hook && !(h->cls->flags & HL_HASHER_TRAINABLE))
        return hl_error_set(HL_EINVAL, "hasher '%s' cannot be trained adversarially (its class is not trainable by "
                            "mini-batches: HL_HASHER_TRAINABLE)", h->cls->name);
    h->fit_forwards = h->fit_backwards = 0;
    if (h->cls->fit && (st = h->cls->fit(h, train, idx, n, labels_visible)) < 0) {
        hl_error_wrap("hasher '%s': fit", h->cls->name);
        goto done;
    }
    HL_TRY(check_finite(h));
    h->fitted = true;
done:
    return st;
}

hl_status hl_hasher_fit_semi(hl_hasher *h, const hl_dataset *d, const int64_t *idx, int64_t n, const int64_t *uidx,
                             int64_t nu) {
    hl_status st = HL_OK;
    const hl_hasher_class *cls = h->cls;
    hl_dataset hidden = hl_dataset_unlabelled_view(d);
    if (!cls->fit_semi || !(cls->flags & HL_HASHER_SEMI_SUPERVISED)) {
        if (cls->flags & HL_HASHER_SUPERVISED) return hl_hasher_fit(h, d, idx, n, true);
        return hl_hasher_fit(h, &hidden, idx, n, false);
    }
    if (n < 1 || nu < 0)
        return hl_error_set(HL_EINVAL, "hasher '%s': semi-supervised fit needs labelled images (got %lld) and "
                            "nu >= 0 (got %lld)", cls->name, (long long)n, (long long)nu);
    HL_TRY(check_shape(h, d));
    for (int64_t j = 0; j < nu; j++)
        if (uidx[j] < 0 || uidx[j] >= d->n)
            return hl_error_set(HL_EINVAL, "hasher '%s': unlabelled index %lld outside [0, %lld)", cls->name,
                                (long long)uidx[j], (long long)d->n);
    if ((st = cls->fit_semi(h, d, idx, n, &hidden, uidx, nu)) < 0) {
        hl_error_wrap("hasher '%s': fit", cls->name);
        goto done;
    }
    HL_TRY(check_finite(h));
    h->fitted = true;
done:
    return st;
}

hl_tensor *hl_hasher_forward(hl_hasher *h, hl_ctx *ctx, hl_tensor *x) {
    HL_ASSERT_T(x->ndim == 4 && x->shape[1] == h->info.c && x->shape[2] == h->info.h && x->shape[3] == h->info.w, x);
    HL_ASSERT(ctx->dev == h->dev, "hasher '%s' lives on %s, the ctx is on %s", h->cls->name, hl_device_name(h->dev),
              hl_device_name(ctx->dev));
    hl_tensor *u = h->cls->forward(h, ctx, x);
    HL_ASSERT(u, "hasher '%s': forward returned NULL", h->cls->name);
    HL_ASSERT_SHAPE(u->ndim == 2 && u->shape[0] == x->shape[0] && u->shape[1] == h->bits, u, x);
    return u;
}

/* Encodes n images: rows come from `set` (by idx) or from `x`. */
static hl_status encode(hl_codes *out, hl_hasher *h, hl_ctx *ctx, const hl_dataset *set, const int64_t *idx,
                        const float *x, int64_t n, int batch) {
    hl_status st = HL_OK;
    int64_t d = (int64_t)h->info.c * h->info.h * h->info.w;
    float *buf = NULL, *u = NULL;
    int64_t *seq = NULL;
    bool train = ctx->train, invariant = ctx->batch_invariant;
    memset(out, 0, sizeof *out);
    if ((h->cls->flags & HL_HASHER_NEEDS_FIT) && !h->fitted)
        return hl_error_set(HL_EINVAL, "hasher '%s' must be fitted (or loaded) before encoding", h->cls->name);
    if (set) HL_TRY(check_shape(h, set));
    if (batch <= 0) batch = 256;
    HL_TRY(hl_codes_create(out, n, h->bits));
    if (!(buf = malloc((size_t)HL_MAX(1, HL_MIN(n, batch)) * (size_t)d * sizeof *buf)) ||
        !(u = malloc((size_t)HL_MAX(1, HL_MIN(n, batch)) * (size_t)h->bits * sizeof *u)) ||
        !(seq = malloc((size_t)HL_MAX(1, HL_MIN(n, batch)) * sizeof *seq))) {
        st = hl_error_set(HL_ENOMEM, "hasher '%s': out of memory while encoding", h->cls->name);
        goto done;
    }
    hl_ctx_set_train(ctx, false);
    hl_ctx_set_batch_invariant(ctx, true); /* an image's code does not depend on its batch (core/ctx.h) */
    for (int64_t i0 = 0; i0 < n; i0 += batch) {
        int64_t b = HL_MIN((int64_t)batch, n - i0);
        const float *src = x ? x + i0 * d : buf;
        if (!x) {
            const int64_t *ix = idx ? idx + i0 : seq;
            if (!idx)
                for (int64_t j = 0; j < b; j++) seq[j] = i0 + j;
            hl_dataset_read(set, ix, b, buf);
        }
        hl_no_grad_begin(ctx);
        hl_tensor *xt = hl_tensor_from(ctx, 4, HL_SHAPE(b, h->info.c, h->info.h, h->info.w), src);
        hl_tensor *ut = hl_hasher_forward(h, ctx, xt);
        hl_no_grad_end(ctx);
        hl_codes c = {.n = b, .bits = out->bits, .words = out->words, .w = out->w + i0 * out->words};
        ctx->k->base->to_host(b * h->bits, ut->data, u);
        hl_codes_pack(&c, u);
        hl_ctx_reset(ctx);
        hl_job_progress("encode", i0 + b, n, NULL);
        if (i0 + b < n) HL_TRY(hl_job_check()); /* Ctrl-C: encoding is cheap to redo, nothing is kept */
    }
done:
    hl_ctx_set_train(ctx, train);
    hl_ctx_set_batch_invariant(ctx, invariant);
    if (st < 0) hl_codes_free(out);
    free(buf);
    free(u);
    free(seq);
    return st;
}

hl_status hl_hasher_encode(hl_codes *out, hl_hasher *h, hl_ctx *ctx, const hl_dataset *set, const int64_t *idx,
                           int64_t n, int batch) {
    return encode(out, h, ctx, set, idx, NULL, idx ? n : set->n, batch);
}

hl_status hl_hasher_encode_database(hl_codes *out, hl_hasher *h, hl_ctx *ctx, const hl_dataset *set,
                                    const int64_t *idx, int64_t n, int batch) {
    if (!h->cls->learned_codes || !h->fitted) return hl_hasher_encode(out, h, ctx, set, idx, n, batch);
    hl_status st = HL_OK;
    int64_t m = idx ? n : set->n, nmiss = 0;
    int64_t *all = NULL, *miss = NULL;
    uint8_t *have = calloc((size_t)HL_MAX(1, m), 1);
    hl_codes rest = {0};
    memset(out, 0, sizeof *out);
    if (!have || !(all = malloc((size_t)HL_MAX(1, m) * sizeof *all)) ||
        !(miss = malloc((size_t)HL_MAX(1, m) * sizeof *miss)))
        HL_TRY(hl_error_set(HL_ENOMEM, "hasher '%s': out of memory while encoding", h->cls->name));
    for (int64_t i = 0; i < m; i++) all[i] = idx ? idx[i] : i;
    HL_TRY(hl_codes_create(out, m, h->bits));
    HL_TRY(h->cls->learned_codes(h, all, m, out, have));
    for (int64_t i = 0; i < m; i++)
        if (!have[i]) miss[nmiss++] = i;
    if (nmiss) {
        for (int64_t j = 0; j < nmiss; j++) all[j] = idx ? idx[miss[j]] : miss[j];
        HL_TRY(hl_hasher_encode(&rest, h, ctx, set, all, nmiss, batch));
        for (int64_t j = 0; j < nmiss; j++)
            memcpy(out->w + miss[j] * out->words, rest.w + j * rest.words, (size_t)out->words * sizeof *out->w);
    }
done:
    if (st < 0) hl_codes_free(out);
    hl_codes_free(&rest);
    free(have);
    free(all);
    free(miss);
    return st;
}

hl_status hl_hasher_encode_images(hl_codes *out, hl_hasher *h, hl_ctx *ctx, const float *x, int64_t n, int batch) {
    return encode(out, h, ctx, NULL, NULL, x, n, batch);
}

hl_status hl_hasher_save(const hl_hasher *h, const char *path) {
    hl_status st = HL_OK;
    hl_ckpt_meta m;
    char seed[32], input[96];
    char *params = NULL;
    hl_ckpt_meta_init(&m);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)h->seed);
    snprintf(input, sizeof input, "[%d, %d, %d]", h->info.c, h->info.h, h->info.w);
    HL_TRY(hl_ckpt_meta_set(&m, HL_CKPT_KEY_METHOD, h->cls->name));
    HL_TRY(hl_ckpt_meta_set_int(&m, HL_CKPT_KEY_BITS, h->bits));
    HL_TRY(hl_ckpt_meta_set(&m, "seed", seed));
    HL_TRY(hl_ckpt_meta_set(&m, HL_HASHER_KEY_VERSION, h->cls->version ? h->cls->version : "1"));
    HL_TRY(hl_ckpt_meta_set(&m, HL_HASHER_KEY_INPUT, input));
    HL_TRY(hl_ckpt_meta_set_int(&m, HL_HASHER_KEY_LABELS, h->info.nlabels));
    HL_TRY(hl_config_canonical_json(h->cfg, &params));
    HL_TRY(hl_ckpt_meta_set(&m, HL_HASHER_KEY_PARAMS, params));
    HL_TRY(hl_checkpoint_save(path, &h->params, &m));
done:
    free(params);
    hl_ckpt_meta_free(&m);
    return st;
}

void hl_hasher_spec_free(hl_hasher_spec *s) {
    if (!s) return;
    hl_config_free(s->params);
    memset(s, 0, sizeof *s);
}

hl_status hl_hasher_spec_from_checkpoint(hl_hasher_spec *out, const char *path) {
    hl_status st = HL_OK;
    hl_ckpt_meta m;
    hl_config *shape = NULL;
    int64_t v[3];
    memset(out, 0, sizeof *out);
    hl_ckpt_meta_init(&m);
    HL_TRY(hl_checkpoint_read_meta(path, &m));
    const char *method = hl_ckpt_meta_get(&m, HL_CKPT_KEY_METHOD), *bits = hl_ckpt_meta_get(&m, HL_CKPT_KEY_BITS),
               *seed = hl_ckpt_meta_get(&m, "seed"), *input = hl_ckpt_meta_get(&m, HL_HASHER_KEY_INPUT),
               *params = hl_ckpt_meta_get(&m, HL_HASHER_KEY_PARAMS),
               *labels = hl_ckpt_meta_get(&m, HL_HASHER_KEY_LABELS);
    if (!method || !bits)
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: not a hashlab hasher checkpoint (its metadata has no %s)", path,
                            !method ? "method" : "bits"));
    if (!input || !params)
        HL_TRY(hl_error_set(HL_EUNSUPPORTED, "%s: a '%s' checkpoint written by an older hashlab: its metadata lacks "
                            "the hasher's %s, which rebuilding it needs; give its cell directory instead (the "
                            "folder holding it and result.json)", path, method, !params ? "params" : "input shape"));
    snprintf(out->method, sizeof out->method, "%s", method);
    int64_t b = 0, sd = 0, nl = 0;
    if (!hl_config_parse_int(bits, &b) || b < 1 || b > 4096 ||
        (seed && (!hl_config_parse_int(seed, &sd) || sd < 0)) ||
        (labels && (!hl_config_parse_int(labels, &nl) || nl < 0 || nl > INT32_MAX)))
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: invalid bits, seed or labels in the metadata ('%s', '%s', '%s')", path,
                            bits, seed ? seed : "", labels ? labels : ""));
    HL_TRY(hl_json_parse(path, input, strlen(input), &shape));
    if (shape->kind != HL_CONFIG_SEQ || hl_config_len(shape) != 3)
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: metadata '%s' is '%s', expected [C, H, W]", path, HL_HASHER_KEY_INPUT,
                            input));
    for (int k = 0; k < 3; k++)
        if (hl_config_as_int(hl_config_at(shape, k), &v[k]) < 0 || v[k] < 1 || v[k] > 1 << 16)
            HL_TRY(hl_error_set(HL_EFORMAT, "%s: metadata '%s' is '%s', expected [C, H, W]", path,
                                HL_HASHER_KEY_INPUT, input));
    HL_TRY(hl_json_parse(path, params, strlen(params), &out->params));
    if (out->params->kind != HL_CONFIG_MAP)
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: metadata '%s' is not a JSON object", path, HL_HASHER_KEY_PARAMS));
    out->bits = (int)b, out->seed = (uint64_t)sd;
    out->info = (hl_dataset_info){.c = (int)v[0], .h = (int)v[1], .w = (int)v[2], .nlabels = (int)nl};
done:
    hl_config_free(shape);
    hl_ckpt_meta_free(&m);
    if (st < 0) hl_hasher_spec_free(out);
    return st;
}

hl_status hl_hasher_load_spec(hl_hasher **out, const hl_hasher_spec *spec, const char *path) {
    hl_status st = HL_OK;
    hl_config *params = NULL;
    *out = NULL;
    const hl_hasher_class *cls = hl_hasher_class_find(spec->method);
    if (!cls) return hl_error_wrap("%s", path);
    if (spec->params && !(params = hl_config_clone(spec->params))) return hl_error_set(HL_ENOMEM, "out of memory");
    /* Every weight comes from the checkpoint: a pretrained-weights file named in the params (maybe gone since) is
     * not read. */
    static const char *const weight_keys[] = {"init_from", "pretrained"};
    for (size_t k = 0; params && k < HL_ARRAY_LEN(weight_keys); k++) {
        hl_config *e = (hl_config *)hl_config_get(params, weight_keys[k]);
        if (e && e->kind == HL_CONFIG_SCALAR && e->text[0]) {
            hl_config_map_remove(params, weight_keys[k]);
            hl_config *blank = hl_config_new(HL_CONFIG_SCALAR, "", "", 0, 0);
            if (blank) blank->quoted = true;
            if (!blank || hl_config_map_put(params, weight_keys[k], 0, 0, blank) < 0) {
                hl_config_free(blank);
                HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
            }
        }
    }
    if ((st = hl_hasher_create_on(out, cls, params, &spec->info, spec->bits, spec->seed, spec->dev)) < 0) {
        hl_error_wrap("%s", path);
        goto done;
    }
    if ((st = hl_hasher_load(*out, path)) < 0) {
        hl_hasher_free(*out);
        *out = NULL;
    }
done:
    hl_config_free(params);
    return st;
}

hl_status hl_hasher_load(hl_hasher *h, const char *path) {
    hl_status st = HL_OK;
    hl_ckpt_meta m;
    hl_ckpt_meta_init(&m);
    HL_TRY(hl_checkpoint_read_meta(path, &m));
    const char *method = hl_ckpt_meta_get(&m, HL_CKPT_KEY_METHOD), *bits = hl_ckpt_meta_get(&m, HL_CKPT_KEY_BITS);
    if (!method || strcmp(method, h->cls->name) != 0) {
        st = hl_error_set(HL_EMISMATCH, "%s: checkpoint of method '%s', expected '%s'", path,
                          method ? method : "(none)", h->cls->name);
        goto done;
    }
    if (!bits || atoi(bits) != h->bits) {
        st = hl_error_set(HL_EMISMATCH, "%s: checkpoint of %s bits, expected %d", path, bits ? bits : "(unknown)",
                          h->bits);
        goto done;
    }
    hl_ckpt_meta_free(&m);
    HL_TRY(hl_checkpoint_load(path, &h->params, NULL));
    h->fitted = true;
done:
    hl_ckpt_meta_free(&m);
    return st;
}
