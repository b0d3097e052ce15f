/* reports/result.c — the strict result.json reader; contract in result.h. */
#include "reports/result.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/io/json.h"

bool hl_result_is_key(const char *s) {
    size_t i = 0;
    for (; s && s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return i == 64;
}

void hl_result_free(hl_result *r) {
    if (!r) return;
    hl_config_free(r->root);
    r->root = NULL;
}

/* The value of `key`, which must be a string (quoted scalar); NULL after setting the error otherwise. */
static const char *need_str(const char *path, const hl_config *root, const char *key) {
    const hl_config *n = hl_config_get(root, key);
    if (!n) {
        hl_error_set(HL_EFORMAT, "%s:%d:%d: '%s' is missing", path, root->line, root->col, key);
        return NULL;
    }
    if (n->kind != HL_CONFIG_SCALAR || !n->quoted) {
        hl_error_set(HL_EFORMAT, "%s:%d:%d: '%s' must be a string", path, n->line, n->col, key);
        return NULL;
    }
    return n->text;
}

static bool need_int(const char *path, const hl_config *root, const char *key, int64_t lo) {
    const hl_config *n = hl_config_get(root, key);
    int64_t v;
    if (!n) return hl_error_set(HL_EFORMAT, "%s:%d:%d: '%s' is missing", path, root->line, root->col, key), false;
    if (n->kind != HL_CONFIG_SCALAR || n->quoted || !hl_config_parse_int(n->text, &v) || v < lo)
        return hl_error_set(HL_EFORMAT, "%s:%d:%d: '%s' must be an integer >= %lld", path, n->line, n->col, key,
                            (long long)lo),
               false;
    return true;
}

/* A metric value: null (undefined) or a plain number that is finite as a double. */
static bool finite_or_null(const hl_config *n) {
    double v;
    if (n->kind == HL_CONFIG_NULL) return true;
    return n->kind == HL_CONFIG_SCALAR && !n->quoted && hl_config_parse_double(n->text, &v) && isfinite(v);
}

static hl_status bad_value(const char *path, const hl_config *n, const char *what) {
    char name[256];
    hl_config_name(n, name, sizeof name);
    return hl_error_set(HL_EFORMAT, "%s:%d:%d: %s: %s must be a finite number or null, got %s%s%s", path, n->line,
                        n->col, name, what, n->kind == HL_CONFIG_SCALAR ? (n->quoted ? "the string '" : "'") : "a ",
                        n->kind == HL_CONFIG_SCALAR ? n->text : hl_config_kind_name(n->kind),
                        n->kind == HL_CONFIG_SCALAR ? "'" : "");
}

static hl_status check_done(const char *path, const hl_config *root) {
    const hl_config *m = hl_config_get(root, "metrics"), *pr = hl_config_get(root, "pr_radius");
    if (!m || m->kind != HL_CONFIG_MAP || hl_config_len(m) == 0)
        return hl_error_set(HL_EFORMAT, "%s:%d:%d: a done cell needs a non-empty 'metrics' object", path,
                            m ? m->line : root->line, m ? m->col : root->col);
    for (int64_t i = 0; i < hl_config_len(m); i++)
        if (!finite_or_null(hl_config_at(m, i))) return bad_value(path, hl_config_at(m, i), "a metric");
    if (!pr) return HL_OK;
    if (pr->kind != HL_CONFIG_MAP)
        return hl_error_set(HL_EFORMAT, "%s:%d:%d: 'pr_radius' must be an object", path, pr->line, pr->col);
    const hl_config *pp = hl_config_get(pr, "precision"), *rr = hl_config_get(pr, "recall");
    if (!pp || !rr || pp->kind != HL_CONFIG_SEQ || rr->kind != HL_CONFIG_SEQ || hl_config_len(pp) == 0 ||
        hl_config_len(pp) != hl_config_len(rr))
        return hl_error_set(HL_EFORMAT, "%s:%d:%d: pr_radius: precision and recall need the same non-zero length",
                            path, pr->line, pr->col);
    for (int64_t i = 0; i < hl_config_len(pr); i++) {
        const hl_config *a = hl_config_at(pr, i);
        if (a->kind != HL_CONFIG_SEQ)
            return hl_error_set(HL_EFORMAT, "%s:%d:%d: pr_radius.%s must be a list", path, a->line, a->col, a->key);
        for (int64_t j = 0; j < hl_config_len(a); j++)
            if (!finite_or_null(hl_config_at(a, j))) return bad_value(path, hl_config_at(a, j), "a PR point");
    }
    return HL_OK;
}

/* The name of the directory holding path ("" when there is none). */
static void dir_name(const char *path, char *buf, size_t n) {
    const char *end = strrchr(path, '/');
    buf[0] = '\0';
    if (!end) return;
    const char *start = end;
    while (start > path && start[-1] != '/') start--;
    size_t len = (size_t)(end - start);
    if (len >= n) len = n - 1;
    memcpy(buf, start, len);
    buf[len] = '\0';
}

static hl_status validate(const char *path, const hl_config *root, const char *key, const char *kind, bool *done) {
    const char *k, *s, *ck;
    char dkey[128];
    if (root->kind != HL_CONFIG_MAP) return hl_error_set(HL_EFORMAT, "%s: must hold a JSON object", path);
    if (!(k = need_str(path, root, "kind"))) return HL_EFORMAT;
    const hl_config *kn = hl_config_get(root, "kind"), *sn = hl_config_get(root, "status");
    if (strcmp(k, "train") && strcmp(k, "attack") && strcmp(k, "transfer"))
        return hl_error_set(HL_EFORMAT, "%s:%d:%d: kind '%s' (expected train, attack or transfer)", path, kn->line,
                            kn->col, k);
    if (!(ck = need_str(path, root, "key"))) return HL_EFORMAT;
    if (!key) dir_name(path, dkey, sizeof dkey), key = dkey;
    if (!hl_result_is_key(ck)) return hl_error_set(HL_EFORMAT, "%s: key '%s' is not a 64-hex cell key", path, ck);
    if (strcmp(ck, key))
        return hl_error_set(HL_EFORMAT, "%s: holds the result of cell %.12s…, not of this cell %.12s… (copied from "
                            "another cell?)", path, ck, key);
    if (kind && strcmp(k, kind))
        return hl_error_set(HL_EFORMAT, "%s:%d:%d: holds a %s result where this cell is a %s cell", path, kn->line,
                            kn->col, k, kind);
    if (!(s = need_str(path, root, "status"))) return HL_EFORMAT;
    if (strcmp(s, "done") && strcmp(s, "failed"))
        return hl_error_set(HL_EFORMAT, "%s:%d:%d: status '%s' (expected done or failed)", path, sn->line, sn->col, s);
    if (!need_str(path, root, "label") || !need_str(path, root, "method")) return HL_EFORMAT;
    if (!need_int(path, root, "bits", 1) || !need_int(path, root, "seed", 0)) return HL_EFORMAT;
    if (strcmp(k, "train")) {
        const char *tk;
        if (!need_str(path, root, "attack") || !need_str(path, root, "eps") || !need_str(path, root, "norm") ||
            !(tk = need_str(path, root, "train_key")))
            return HL_EFORMAT;
        if (!hl_result_is_key(tk))
            return hl_error_set(HL_EFORMAT, "%s: train_key '%s' is not a 64-hex cell key", path, tk);
    }
    if (!strcmp(k, "transfer") && (!need_str(path, root, "target_method") || !need_int(path, root, "target_bits", 1)))
        return HL_EFORMAT;
    *done = !strcmp(s, "done");
    if (!*done) return need_str(path, root, "error") ? HL_OK : HL_EFORMAT;
    return check_done(path, root);
}

hl_status hl_result_read(const char *path, const char *key, const char *kind, hl_result *out) {
    struct stat sb;
    memset(out, 0, sizeof *out);
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return HL_ENOTFOUND;
        return hl_error_set(HL_EIO, "%s: cannot stat: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) return hl_error_set(HL_EFORMAT, "%s: not a regular file", path);
    hl_config *root = NULL;
    hl_status st = hl_json_load_file(path, &root);
    if (st == HL_EFORMAT && !strstr(hl_error_last(), path)) hl_error_wrap("%s", path);
    if (st < 0) return st;
    bool done = false;
    if ((st = validate(path, root, key, kind, &done)) < 0) {
        hl_config_free(root);
        return st;
    }
    out->root = root;
    out->done = done;
    return HL_OK;
}
