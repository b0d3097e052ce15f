/* lab/model_open.c — a trained hasher from a cell directory or a bare checkpoint; see model_open.h. */
#include "lab/model_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io/json.h"
#include "lab/plugin.h"

/* [C, H, W] from a config list; false when it is not three positive ints. */
static bool shape_of(const hl_config *n, hl_dataset_info *info) {
    int64_t v[3];
    if (!n || n->kind != HL_CONFIG_SEQ || hl_config_len(n) != 3) return false;
    for (int k = 0; k < 3; k++)
        if (hl_config_as_int(hl_config_at(n, k), &v[k]) < 0 || v[k] < 1 || v[k] > 1 << 16) return false;
    info->c = (int)v[0], info->h = (int)v[1], info->w = (int)v[2];
    return true;
}

/* Cells written before result.json had "input": the checkpoint's metadata, else the suite's dataset. */
static hl_status legacy_shape(const char *dir, const char *ckpt, const hl_config *res, hl_dataset_info *info) {
    hl_hasher_spec sp;
    if (hl_hasher_spec_from_checkpoint(&sp, ckpt) >= 0) {
        info->c = sp.info.c, info->h = sp.info.h, info->w = sp.info.w;
        hl_hasher_spec_free(&sp);
        return HL_OK;
    }
    const hl_config *ds = hl_config_get(res, "dataset");
    const char *name = ds && ds->kind == HL_CONFIG_SCALAR ? ds->text : "";
    if (!strcmp(name, "cifar10") || !strcmp(name, "cifar100")) {
        info->c = 3, info->h = info->w = 32;
        return HL_OK;
    }
    if (!strcmp(name, "fashion-mnist") || !strcmp(name, "mnist")) {
        info->c = 1, info->h = info->w = 28;
        return HL_OK;
    }
    if (!strcmp(name, "synthetic")) {
        char p[1200];
        hl_config *suite = NULL;
        int64_t c, h, w;
        snprintf(p, sizeof p, "%s/../../suite.resolved.json", dir);
        bool ok = hl_json_load_file(p, &suite) >= 0 && hl_config_get_int(suite, "synthetic.c", &c) >= 0 &&
                  hl_config_get_int(suite, "synthetic.h", &h) >= 0 && hl_config_get_int(suite, "synthetic.w", &w) >= 0;
        hl_config_free(suite);
        if (ok) {
            info->c = (int)c, info->h = (int)h, info->w = (int)w;
            return HL_OK;
        }
    }
    return hl_error_set(HL_EFORMAT, "%s/result.json: no \"input\" image shape (a cell written by an older hashlab) and "
                        "none can be inferred for dataset '%s'; re-run the cell to record it", dir, name);
}

static hl_status from_cell(hl_hasher_spec *spec, char *ckpt, size_t n, const char *dir) {
    hl_status st = HL_OK;
    hl_config *res = NULL;
    char p[1200];
    int64_t bits = 0, seed = 0;
    const char *kind = "", *status = "", *method = NULL;
    memset(spec, 0, sizeof *spec);
    snprintf(p, sizeof p, "%s/result.json", dir);
    if (access(p, F_OK) != 0)
        return hl_error_set(HL_ENOTFOUND, "%s: not a cell directory (no result.json)", dir);
    HL_TRY(hl_json_load_file(p, &res));
    if (res->kind != HL_CONFIG_MAP) HL_TRY(hl_error_set(HL_EFORMAT, "%s: not a JSON object", p));
    hl_config_get_string(res, "kind", &kind);
    hl_config_get_string(res, "status", &status);
    if (strcmp(kind, "train") != 0)
        HL_TRY(hl_error_set(HL_EINVAL, "%s: a%s %s cell, not a train cell: give the train cell it attacked%s%s", dir,
                            kind[0] == 'a' ? "n" : "", kind[0] ? kind : "(unknown kind)",
                            hl_config_get(res, "train_key") ? " (train_key " : "",
                            hl_config_get(res, "train_key") ? "in its result.json)" : ""));
    if (strcmp(status, "done") != 0)
        HL_TRY(hl_error_set(HL_EINVAL, "%s: the cell did not finish (status '%s'): it has no trained model", dir,
                            status));
    if (hl_config_get_string(res, "hasher_method", &method) < 0 || hl_config_get_int(res, "bits", &bits) < 0 ||
        hl_config_get_int(res, "seed", &seed) < 0 || bits < 1 || bits > 4096 || seed < 0)
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: needs \"hasher_method\" (a string), \"bits\" (1..4096) and \"seed\" "
                            "(>= 0)", p));
    const hl_config *params = hl_config_get(res, "hasher_params");
    if (params && params->kind != HL_CONFIG_MAP && params->kind != HL_CONFIG_NULL)
        HL_TRY(hl_error_set(HL_EFORMAT, "%s: hasher_params is not an object", p));
    if (snprintf(ckpt, n, "%s/model.safetensors", dir) >= (int)n)
        HL_TRY(hl_error_set(HL_EINVAL, "%s: path too long", dir));
    if (access(ckpt, R_OK) != 0) HL_TRY(hl_error_set(HL_ENOTFOUND, "%s: missing (the cell's trained model)", ckpt));
    snprintf(spec->method, sizeof spec->method, "%s", method);
    spec->bits = (int)bits, spec->seed = (uint64_t)seed;
    if (params && params->kind == HL_CONFIG_MAP && !(spec->params = hl_config_clone(params)))
        HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    if (!shape_of(hl_config_get(res, "input"), &spec->info)) HL_TRY(legacy_shape(dir, ckpt, res, &spec->info));
    int64_t nl = 0;
    if (hl_config_get(res, "labels") && hl_config_get_int(res, "labels", &nl) >= 0 && nl >= 0 && nl <= INT32_MAX)
        spec->info.nlabels = (int)nl;
    /* A run's plugins (a plugin hasher's cell). */
    snprintf(p, sizeof p, "%s/../../plugins.json", dir);
    if (access(p, F_OK) == 0) {
        snprintf(p, sizeof p, "%s/../..", dir);
        HL_TRY(hl_plugins_load_list(p));
    }
done:
    hl_config_free(res);
    if (st < 0) hl_hasher_spec_free(spec);
    return st;
}

hl_status hl_model_open(hl_hasher **out, hl_hasher_spec *spec, char *ckpt, size_t n, const char *model,
                        hl_device dev) {
    struct stat sb;
    *out = NULL;
    memset(spec, 0, sizeof *spec);
    if (stat(model, &sb) != 0) return hl_error_set(HL_ENOTFOUND, "%s: no such cell directory or model file", model);
    hl_status st;
    if (S_ISDIR(sb.st_mode)) {
        if ((st = from_cell(spec, ckpt, n, model)) < 0) return st;
    } else {
        if (snprintf(ckpt, n, "%s", model) >= (int)n) return hl_error_set(HL_EINVAL, "%s: path too long", model);
        if ((st = hl_hasher_spec_from_checkpoint(spec, model)) < 0) return st;
    }
    if (!hl_hasher_class_find(spec->method)) {
        char why[1024];
        snprintf(why, sizeof why, "%s", hl_error_last());
        st = hl_error_set(HL_ENOTFOUND, "%s: %s (a plugin's hasher? load it with --plugin PATH or $%s)", model, why,
                          HL_PLUGIN_ENV);
        hl_hasher_spec_free(spec);
        return st;
    }
    spec->dev = dev;
    if ((st = hl_hasher_load_spec(out, spec, ckpt)) < 0) hl_hasher_spec_free(spec);
    return st;
}
