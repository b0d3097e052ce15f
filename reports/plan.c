/* reports/plan.c — RUNDIR/plan.json (contract: reports/plan.h). */
#include "reports/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/io/atomic.h"
#include "core/io/json.h"
#include "core/strbuf.h"

static bool is_key(const char *k) {
    if (!k || strlen(k) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f'))) return false;
    return true;
}

static bool is_kind(const char *k) {
    return k && (!strcmp(k, "train") || !strcmp(k, "attack") || !strcmp(k, "transfer"));
}

hl_status hl_plan_write(const char *rundir, int64_t n, const char *const *keys, const char *const *kinds) {
    HL_ASSERT(rundir && n >= 0 && (n == 0 || (keys && kinds)), "hl_plan_write: bad arguments");
    hl_strbuf b = {0};
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", rundir, HL_PLAN_FILE) >= (int)sizeof path)
        return hl_error_set(HL_EINVAL, "%s: path too long", rundir);
    hl_strbuf_puts(&b, "{\"format\": \"hashlab-plan-1\", \"cells\": [");
    for (int64_t i = 0; i < n; i++) {
        if (!is_key(keys[i]) || !is_kind(kinds[i])) {
            free(b.p);
            return hl_error_set(HL_EINVAL, "%s: cell %lld: bad key '%s' or kind '%s'", path, (long long)i,
                                keys[i] ? keys[i] : "(null)", kinds[i] ? kinds[i] : "(null)");
        }
        hl_strbuf_puts(&b, i ? ",\n  {\"key\": \"" : "\n  {\"key\": \"");
        hl_strbuf_puts(&b, keys[i]);
        hl_strbuf_puts(&b, "\", \"kind\": \"");
        hl_strbuf_puts(&b, kinds[i]);
        hl_strbuf_puts(&b, "\"}");
    }
    hl_strbuf_puts(&b, "\n]}\n");
    if (b.oom) {
        free(b.p);
        return hl_error_set(HL_ENOMEM, "%s: out of memory", path);
    }
    hl_status st = hl_atomic_write_file(path, b.p, b.n);
    free(b.p);
    return st;
}

static int cmp_key(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

hl_status hl_plan_read(const char *rundir, char (**keys)[65], int64_t *n) {
    HL_ASSERT(rundir && keys && n, "hl_plan_read: bad arguments");
    *keys = NULL, *n = 0;
    hl_status st = HL_OK;
    hl_config *root = NULL;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", rundir, HL_PLAN_FILE) >= (int)sizeof path)
        return hl_error_set(HL_EINVAL, "%s: path too long", rundir);
    HL_TRY(hl_json_load_file(path, &root));
    const char *format;
    HL_TRY(hl_config_get_string(root, "format", &format));
    if (strcmp(format, "hashlab-plan-1")) {
        st = hl_error_set(HL_EFORMAT, "%s: unknown plan format '%s' (this hashlab reads hashlab-plan-1)", path, format);
        goto done;
    }
    const hl_config *cells = hl_config_path(root, "cells");
    if (!cells || cells->kind != HL_CONFIG_SEQ) {
        st = hl_error_set(HL_EFORMAT, "%s: 'cells' is missing or not a list", path);
        goto done;
    }
    if (!(*keys = malloc((size_t)(cells->n ? cells->n : 1) * sizeof **keys))) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t i = 0; i < cells->n; i++) {
        const char *k;
        HL_TRY(hl_config_get_string(cells->items[i], "key", &k));
        if (!is_key(k)) {
            const hl_config *kn = hl_config_path(cells->items[i], "key");
            st = hl_error_set(HL_EFORMAT, "%s:%d:%d: cells[%lld].key: not a cell key (64 hex digits): '%s'", path,
                              kn->line, kn->col, (long long)i, k);
            goto done;
        }
        memcpy((*keys)[i], k, 65);
    }
    *n = cells->n;
    qsort(*keys, (size_t)*n, sizeof **keys, cmp_key);
done:
    hl_config_free(root);
    if (st < 0) free(*keys), *keys = NULL, *n = 0;
    return st;
}

bool hl_plan_has(const char (*keys)[65], int64_t n, const char *key) {
    return n > 0 && bsearch(key, keys, (size_t)n, sizeof *keys, cmp_key) != NULL;
}
