/* core/data/split.c — hashing protocols, split checks, hashes and manifests; see split.h. */
#include "core/data/split.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_schema.h"
#include "core/io/atomic.h"
#include "core/rng.h"

enum { KIND_CIFAR10, KIND_CIFAR10_1, KIND_CIFAR10_2, KIND_RANDOM };
enum { ROLE_DB = 0, ROLE_QUERY = 1, ROLE_TRAIN = 2 };
enum { IN_Q = 1, IN_T = 2, IN_D = 4 };

static const char *split_kind_names[] = {"cifar10", "cifar10-1", "cifar10-2", "random"};
static const char *split_rel_names[] = {"disjoint", "subset", "equal"};

/* Strict non-negative integer: digits only, no sign, no overflow. */
static bool split_parse_count(const char *s, const char *end, int64_t *out) {
    if (s == end) return false;
    int64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9') return false;
        if (v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

static hl_status split_parse(const char *proto, int *kind, int64_t *q, int64_t *t, char canon[64]) {
    static const int64_t dq[] = {1000, 1000, 10000}, dt[] = {5000, 5000, 0};
    const char *colon = strchr(proto, ':');
    size_t base = colon ? (size_t)(colon - proto) : strlen(proto);
    *kind = -1;
    for (int k = 0; k < 4; k++)
        if (strlen(split_kind_names[k]) == base && !strncmp(proto, split_kind_names[k], base)) *kind = k;
    if (*kind < 0 || (*kind == KIND_RANDOM && !colon)) goto unknown;
    if (!colon) {
        *q = dq[*kind];
        *t = dt[*kind];
        snprintf(canon, 64, "%s", split_kind_names[*kind]);
        return HL_OK;
    }
    const char *a = colon + 1, *slash = strchr(a, '/'), *end = a + strlen(a);
    if (*kind == KIND_CIFAR10_2) {
        *t = 0;
        if (slash || !split_parse_count(a, end, q)) goto unknown;
        snprintf(canon, 64, "cifar10-2:%lld", (long long)*q);
        return HL_OK;
    }
    if (!slash || !split_parse_count(a, slash, q) || !split_parse_count(slash + 1, end, t)) goto unknown;
    snprintf(canon, 64, "%s:%lld/%lld", split_kind_names[*kind], (long long)*q, (long long)*t);
    return HL_OK;
unknown:
    if (*kind < 0) { /* a misspelt name ("cifar-10", "cifar10_1", "Random:10/20"): the closest, totals kept */
        char low[64];
        int best = -1, bd = 1 << 30;
        snprintf(low, sizeof low, "%.*s", (int)HL_MIN(base, sizeof low - 1), proto);
        for (char *c = low; *c; c++) *c = (char)tolower((unsigned char)*c);
        for (int k = 0; k < 4; k++) {
            int d = hl_edit_distance(low, split_kind_names[k]);
            if (d < bd) bd = d, best = k;
        }
        if (bd <= HL_MAX(2, (int)strlen(low) / 3))
            return hl_error_set(HL_EINVAL, "unknown split protocol '%s' (known: %s); did you mean '%s%s'?", proto,
                                HL_SPLIT_KNOWN, split_kind_names[best], colon ? colon : best == KIND_RANDOM ? ":Q/T" : "");
    }
    return hl_error_set(HL_EINVAL, "unknown split protocol '%s' (known: %s)", proto, HL_SPLIT_KNOWN);
}

hl_status hl_split_protocol_check(const char *protocol, char canon[64]) {
    int kind;
    int64_t q, t;
    char buf[64];
    return split_parse(protocol, &kind, &q, &t, canon ? canon : buf);
}

hl_status hl_split_protocol_with_train(const char *protocol, int64_t t, char out[64]) {
    int kind;
    int64_t q, t0;
    char canon[64];
    hl_status st = split_parse(protocol, &kind, &q, &t0, canon);
    if (st < 0) return st;
    if (kind != KIND_CIFAR10_1 && kind != KIND_RANDOM)
        return hl_error_set(HL_EINVAL, "protocol %s: a labelled count needs a protocol whose database is every sample "
                            "but the queries (cifar10-1, random:Q/T); in %s the database depends on the train list",
                            canon, canon);
    if (t < 1) return hl_error_set(HL_EINVAL, "protocol %s: labelled count %lld must be >= 1", canon, (long long)t);
    snprintf(out, 64, "%s:%lld/%lld", split_kind_names[kind], (long long)q, (long long)t);
    return HL_OK;
}

static const char *split_class_name(const hl_dataset *d, int64_t k, char *buf, size_t n) {
    if (d->class_names && d->class_names[k]) snprintf(buf, n, "class %lld (%s)", (long long)k, d->class_names[k]);
    else snprintf(buf, n, "class %lld", (long long)k);
    return buf;
}

/* role[i] for every sample of a stratified protocol. */
static hl_status split_roles_stratified(const hl_dataset *d, const char *proto, int64_t q, int64_t t, uint64_t seed,
                                        uint8_t *role) {
    hl_status st = HL_OK;
    int64_t C = d->labels.nlabels, n = d->n;
    int64_t *start = calloc((size_t)C + 1, sizeof *start), *fill = calloc((size_t)C, sizeof *fill);
    int64_t *members = malloc((size_t)(n ? n : 1) * sizeof *members), *perm = NULL;
    if (!start || !fill || !members) {
        st = hl_error_set(HL_ENOMEM, "split %s: out of memory for %lld samples", proto, (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t k = d->class_id[i];
        if (k < 0 || k >= C) {
            st = hl_error_set(HL_EINVAL, "split %s of '%s': sample %lld has class id %lld outside [0, %lld)", proto,
                              d->name, (long long)i, (long long)k, (long long)C);
            goto done;
        }
        start[k + 1]++;
    }
    for (int64_t k = 0; k < C; k++) start[k + 1] += start[k];
    for (int64_t i = 0; i < n; i++) members[start[d->class_id[i]] + fill[d->class_id[i]]++] = i;
    int64_t maxc = 0;
    for (int64_t k = 0; k < C; k++) maxc = HL_MAX(maxc, start[k + 1] - start[k]);
    perm = malloc((size_t)(maxc ? maxc : 1) * sizeof *perm);
    if (!perm) {
        st = hl_error_set(HL_ENOMEM, "split %s: out of memory", proto);
        goto done;
    }
    for (int64_t k = 0; k < C; k++) {
        int64_t qk = q / C + (k < q % C), tk = t / C + (k < t % C), nk = start[k + 1] - start[k];
        if (nk < qk + tk) {
            char cn[160];
            st = hl_error_set(HL_EINVAL,
                              "split %s of '%s': %s has %lld samples, needs at least %lld (%lld query + %lld train)",
                              proto, d->name, split_class_name(d, k, cn, sizeof cn), (long long)nk,
                              (long long)(qk + tk), (long long)qk, (long long)tk);
            goto done;
        }
        hl_rng r = hl_rng_make(seed, HL_SPLIT_STREAM + (uint64_t)k);
        hl_rng_permutation(&r, perm, nk);
        for (int64_t j = 0; j < nk; j++)
            role[members[start[k] + perm[j]]] = j < qk ? ROLE_QUERY : j < qk + tk ? ROLE_TRAIN : ROLE_DB;
    }
done:
    free(start);
    free(fill);
    free(members);
    free(perm);
    return st;
}

static hl_status split_roles_random(const hl_dataset *d, const char *proto, int64_t q, int64_t t, uint64_t seed,
                                    uint8_t *role) {
    int64_t *perm = malloc((size_t)(d->n ? d->n : 1) * sizeof *perm);
    if (!perm) return hl_error_set(HL_ENOMEM, "split %s: out of memory", proto);
    hl_rng r = hl_rng_make(seed, HL_SPLIT_STREAM_RANDOM);
    hl_rng_permutation(&r, perm, d->n);
    for (int64_t j = 0; j < d->n; j++) role[perm[j]] = j < q ? ROLE_QUERY : j < q + t ? ROLE_TRAIN : ROLE_DB;
    free(perm);
    return HL_OK;
}

/* l = samples i (ascending) whose role is in the mask (bit r = role r). */
static hl_status split_collect(hl_index_list *l, const uint8_t *role, int64_t n, unsigned mask) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) m += (mask >> role[i]) & 1u;
    l->idx = malloc((size_t)(m ? m : 1) * sizeof *l->idx);
    if (!l->idx) return hl_error_set(HL_ENOMEM, "split: out of memory for a list of %lld indices", (long long)m);
    l->n = 0;
    for (int64_t i = 0; i < n; i++)
        if ((mask >> role[i]) & 1u) l->idx[l->n++] = i;
    return HL_OK;
}

static hl_status split_dataset_ok(const hl_dataset *d, const char *proto) {
    if (d->n < 0 || d->labels.n != d->n || !d->labels.bits)
        return hl_error_set(HL_EINVAL, "split %s of '%s': dataset has %lld samples but %lld label rows", proto,
                            d->name, (long long)d->n, (long long)d->labels.n);
    return HL_OK;
}

static void split_log(const hl_split *s, const hl_dataset *d) {
    hl_msg(HL_LOG_DEBUG, "split %s (seed %llu) of '%s': %lld query / %lld train / %lld database", s->protocol,
           (unsigned long long)s->seed, d->name, (long long)s->query.n, (long long)s->train.n,
           (long long)s->database.n);
    if (s->query_without_labels > 0)
        hl_msg(HL_LOG_WARN, "split %s of '%s': %lld of %lld queries have no label", s->protocol, d->name,
               (long long)s->query_without_labels, (long long)s->query.n);
}

hl_status hl_split_make(hl_split *out, const hl_dataset *d, const char *protocol, uint64_t seed) {
    hl_status st = HL_OK;
    uint8_t *role = NULL;
    int kind = -1;
    int64_t q = 0, t = 0;
    memset(out, 0, sizeof *out);
    HL_TRY(split_parse(protocol, &kind, &q, &t, out->protocol));
    HL_TRY(split_dataset_ok(d, out->protocol));
    out->seed = seed;
    out->n_dataset = d->n;
    out->train_rel = kind == KIND_CIFAR10 ? HL_SPLIT_TRAIN_DISJOINT
                     : kind == KIND_CIFAR10_2 ? HL_SPLIT_TRAIN_IS_DB : HL_SPLIT_TRAIN_IN_DB;
    if (kind != KIND_RANDOM && !d->class_id) {
        st = hl_error_set(HL_EINVAL,
                          "split %s is stratified by class and needs a single-label dataset; '%s' is multi-label "
                          "(use random:Q/T)", out->protocol, d->name);
        goto done;
    }
    if (q > d->n || t > d->n - q) {
        st = hl_error_set(HL_EINVAL, "split %s of '%s': needs %lld query + %lld train samples, dataset has %lld",
                          out->protocol, d->name, (long long)q, (long long)t, (long long)d->n);
        goto done;
    }
    role = malloc((size_t)(d->n ? d->n : 1));
    if (!role) {
        st = hl_error_set(HL_ENOMEM, "split %s: out of memory for %lld samples", out->protocol, (long long)d->n);
        goto done;
    }
    if (kind == KIND_RANDOM) HL_TRY(split_roles_random(d, out->protocol, q, t, seed, role));
    else HL_TRY(split_roles_stratified(d, out->protocol, q, t, seed, role));
    const unsigned Q = 1u << ROLE_QUERY, T = 1u << ROLE_TRAIN, D = 1u << ROLE_DB;
    HL_TRY(split_collect(&out->query, role, d->n, Q));
    HL_TRY(split_collect(&out->train, role, d->n, kind == KIND_CIFAR10_2 ? T | D : T));
    HL_TRY(split_collect(&out->database, role, d->n, kind == KIND_CIFAR10 ? D : T | D));
    HL_TRY(split_collect(&out->unlabelled, role, d->n, kind == KIND_CIFAR10_2 ? 0u : D));
    if (out->database.n == 0) {
        st = hl_error_set(HL_EINVAL, "split %s of '%s' (%lld samples) leaves an empty database", out->protocol,
                          d->name, (long long)d->n);
        goto done;
    }
    hl_split_report rep;
    HL_TRY(hl_split_check(out, d, &rep));
    out->query_without_labels = rep.query_without_labels;
    split_log(out, d);
done:
    free(role);
    if (st < 0) hl_split_free(out);
    return st;
}

static hl_status split_copy(hl_index_list *l, const int64_t *src, int64_t n) {
    if (n < 0 || (n > 0 && !src)) return hl_error_set(HL_EINVAL, "split: list of %lld indices", (long long)n);
    l->idx = malloc((size_t)(n ? n : 1) * sizeof *l->idx);
    if (!l->idx) return hl_error_set(HL_ENOMEM, "split: out of memory for a list of %lld indices", (long long)n);
    if (n) memcpy(l->idx, src, (size_t)n * sizeof *src);
    l->n = n;
    return HL_OK;
}

hl_status hl_split_from_lists(hl_split *out, const hl_dataset *d, const char *protocol, hl_split_train_rel rel,
                              const int64_t *query, int64_t nq, const int64_t *train, int64_t nt,
                              const int64_t *database, int64_t nd) {
    hl_status st = HL_OK;
    uint8_t *in_train = NULL;
    memset(out, 0, sizeof *out);
    snprintf(out->protocol, sizeof out->protocol, "%s", protocol ? protocol : "lists");
    HL_TRY(split_dataset_ok(d, out->protocol));
    out->train_rel = rel;
    out->n_dataset = d->n;
    HL_TRY(split_copy(&out->query, query, nq));
    HL_TRY(split_copy(&out->train, train, nt));
    HL_TRY(split_copy(&out->database, database, nd));
    hl_split_report rep;
    HL_TRY(hl_split_check(out, d, &rep));
    out->query_without_labels = rep.query_without_labels;
    in_train = calloc((size_t)(d->n ? d->n : 1), 1);
    out->unlabelled.idx = malloc((size_t)(nd ? nd : 1) * sizeof *out->unlabelled.idx);
    if (!in_train || !out->unlabelled.idx) {
        st = hl_error_set(HL_ENOMEM, "split %s: out of memory", out->protocol);
        goto done;
    }
    for (int64_t j = 0; j < nt; j++) in_train[train[j]] = 1;
    for (int64_t j = 0; j < nd; j++)
        if (!in_train[database[j]]) out->unlabelled.idx[out->unlabelled.n++] = database[j];
    split_log(out, d);
done:
    free(in_train);
    if (st < 0) hl_split_free(out);
    return st;
}

void hl_split_free(hl_split *s) {
    if (!s) return;
    free(s->query.idx);
    free(s->train.idx);
    free(s->database.idx);
    free(s->unlabelled.idx);
    memset(s, 0, sizeof *s);
}

hl_status hl_split_check(const hl_split *s, const hl_dataset *d, hl_split_report *rep) {
    hl_split_report r = {0};
    hl_status st = split_dataset_ok(d, s->protocol);
    if (st < 0) return st;
    if (s->n_dataset != d->n)
        return hl_error_set(HL_EMISMATCH, "split %s was made for %lld samples, dataset '%s' has %lld", s->protocol,
                            (long long)s->n_dataset, d->name, (long long)d->n);
    uint8_t *mark = calloc((size_t)(d->n ? d->n : 1), 1);
    if (!mark) return hl_error_set(HL_ENOMEM, "split %s: out of memory", s->protocol);
    const hl_index_list *lists[3] = {&s->query, &s->train, &s->database};
    static const char *names[3] = {"query", "train", "database"};
    char first[256] = "";
    for (int l = 0; l < 3; l++) {
        for (int64_t j = 0; j < lists[l]->n; j++) {
            int64_t i = lists[l]->idx[j];
            if (i < 0 || i >= d->n) {
                if (!r.out_of_range++)
                    snprintf(first, sizeof first, "index %lld (position %lld of %s) outside [0, %lld)",
                             (long long)i, (long long)j, names[l], (long long)d->n);
                continue;
            }
            if (mark[i] & (1u << l)) {
                if (!r.duplicates++ && !r.out_of_range)
                    snprintf(first, sizeof first, "index %lld appears twice in %s (again at position %lld)",
                             (long long)i, names[l], (long long)j);
            }
            mark[i] |= (uint8_t)(1u << l);
            if (l == 0 && hl_labels_count(&d->labels, i) == 0) r.query_without_labels++;
        }
    }
    int64_t first_qt = -1, first_qd = -1, first_rel = -1, rel_bad = 0;
    for (int64_t i = 0; i < d->n; i++) {
        unsigned m = mark[i];
        if ((m & IN_Q) && (m & IN_T) && !r.query_train++) first_qt = i;
        if ((m & IN_Q) && (m & IN_D) && !r.query_database++) first_qd = i;
        r.train_database += (m & IN_T) && (m & IN_D);
        bool bad = s->train_rel == HL_SPLIT_TRAIN_DISJOINT ? (m & IN_T) && (m & IN_D)
                   : s->train_rel == HL_SPLIT_TRAIN_IN_DB  ? (m & IN_T) && !(m & IN_D)
                                                           : !(m & IN_T) != !(m & IN_D);
        if (bad && !rel_bad++) first_rel = i;
    }
    free(mark);
    if (rep) *rep = r;
    if (first[0]) return hl_error_set(HL_EINVAL, "split %s of '%s': %s (%lld out of range, %lld duplicates)",
                                      s->protocol, d->name, first, (long long)r.out_of_range,
                                      (long long)r.duplicates);
    if (r.query_database)
        return hl_error_set(HL_EINVAL, "split %s of '%s': %lld indices are both query and database (first: %lld)",
                            s->protocol, d->name, (long long)r.query_database, (long long)first_qd);
    if (r.query_train)
        return hl_error_set(HL_EINVAL, "split %s of '%s': %lld indices are both query and train (first: %lld)",
                            s->protocol, d->name, (long long)r.query_train, (long long)first_qt);
    if (first_rel >= 0) {
        static const char *what[] = {"train and database must be disjoint, but index %lld is in both",
                                     "train must lie inside the database, but index %lld is train only",
                                     "train must equal the database, but index %lld is in only one of them"};
        char msg[160];
        snprintf(msg, sizeof msg, what[s->train_rel], (long long)first_rel);
        return hl_error_set(HL_EINVAL, "split %s of '%s': %s (%lld such indices)", s->protocol, d->name, msg,
                            (long long)rel_bad);
    }
    return HL_OK;
}

/* Feeds indices to the digest as little-endian int64. */
static int split_digest_indices(EVP_MD_CTX *ctx, const int64_t *idx, int64_t n) {
    unsigned char buf[8 * 512];
    for (int64_t j0 = 0; j0 < n; j0 += 512) {
        int64_t m = HL_MIN(n - j0, 512);
        for (int64_t j = 0; j < m; j++) {
            uint64_t v = (uint64_t)idx[j0 + j];
            for (int b = 0; b < 8; b++) buf[8 * j + b] = (unsigned char)(v >> (8 * b));
        }
        if (!EVP_DigestUpdate(ctx, buf, (size_t)m * 8)) return 0;
    }
    return 1;
}

static hl_status split_digest(const hl_index_list *const *lists, int nlists, bool counts, char hex[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (int l = 0; ok && l < nlists; l++) {
        if (counts) {
            int64_t n = lists[l]->n;
            ok = split_digest_indices(ctx, &n, 1);
        }
        ok = ok && split_digest_indices(ctx, lists[l]->idx, lists[l]->n);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok) return hl_error_set(HL_ERR, "split: SHA-256 (OpenSSL EVP) failed");
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return HL_OK;
}

hl_status hl_split_hash_list(const int64_t *idx, int64_t n, char hex[65]) {
    hl_index_list l = {n, (int64_t *)idx};
    const hl_index_list *p = &l;
    return split_digest(&p, 1, false, hex);
}

hl_status hl_split_hash(const hl_split *s, char hex[65]) {
    const hl_index_list *lists[3] = {&s->query, &s->train, &s->database};
    return split_digest(lists, 3, true, hex);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

hl_status hl_split_write_manifest(const hl_split *s, const hl_dataset *d, const char *path) {
    hl_status st;
    hl_split_report r;
    char hx[5][65];
    const hl_index_list *lists[4] = {&s->query, &s->train, &s->database, &s->unlabelled};
    static const char *names[4] = {"query", "train", "database", "unlabelled"};
    if ((st = hl_split_check(s, d, &r)) < 0) return hl_error_wrap("%s: not writing the manifest", path);
    for (int l = 0; l < 4; l++)
        if ((st = hl_split_hash_list(lists[l]->idx, lists[l]->n, hx[l])) < 0) return st;
    if ((st = hl_split_hash(s, hx[4])) < 0) return st;
    int L = d->labels.nlabels;
    int64_t *per = calloc((size_t)4 * (size_t)L, sizeof *per);
    if (!per) return hl_error_set(HL_ENOMEM, "%s: out of memory", path);
    for (int l = 0; l < 4; l++)
        for (int64_t j = 0; j < lists[l]->n; j++) {
            const uint64_t *row = hl_labels_row(&d->labels, lists[l]->idx[j]);
            for (int w = 0; w < d->labels.words; w++)
                for (uint64_t b = row[w]; b; b &= b - 1)
                    per[(size_t)l * (size_t)L + (size_t)(w * 64 + __builtin_ctzll(b))]++;
        }
    hl_atomic_file af;
    if ((st = hl_atomic_write_begin(&af, path)) < 0) {
        free(per);
        return st;
    }
    FILE *f = af.f;
    fprintf(f, "{\n  \"format\": \"hashlab-split/1\",\n  \"protocol\": ");
    json_str(f, s->protocol);
    fprintf(f, ",\n  \"seed\": %llu,\n  \"train_relation\": \"%s\",\n  \"dataset\": {\"name\": ",
            (unsigned long long)s->seed, split_rel_names[s->train_rel]);
    json_str(f, d->name);
    fprintf(f, ", \"source\": ");
    json_str(f, d->source);
    fprintf(f, ", \"n\": %lld, \"labels\": %d, \"single_label\": %s},\n", (long long)d->n, L,
            d->class_id ? "true" : "false");
    if (d->class_names) {
        fprintf(f, "  \"class_names\": [");
        for (int k = 0; k < L; k++) {
            if (k) fputs(", ", f);
            json_str(f, d->class_names[k] ? d->class_names[k] : "");
        }
        fprintf(f, "],\n");
    }
    fprintf(f, "  \"counts\": {\"query\": %lld, \"train\": %lld, \"database\": %lld, \"unlabelled\": %lld},\n",
            (long long)s->query.n, (long long)s->train.n, (long long)s->database.n, (long long)s->unlabelled.n);
    fprintf(f, "  \"per_label\": {");
    for (int l = 0; l < 4; l++) {
        fprintf(f, "%s\n    \"%s\": [", l ? "," : "", names[l]);
        for (int k = 0; k < L; k++)
            fprintf(f, "%s%lld", k ? ", " : "", (long long)per[(size_t)l * (size_t)L + (size_t)k]);
        fputc(']', f);
    }
    fprintf(f, "\n  },\n  \"checks\": {\"out_of_range\": %lld, \"duplicates\": %lld, \"query_train\": %lld, "
               "\"query_database\": %lld, \"train_database\": %lld, \"query_without_labels\": %lld},\n",
            (long long)r.out_of_range, (long long)r.duplicates, (long long)r.query_train, (long long)r.query_database,
            (long long)r.train_database, (long long)r.query_without_labels);
    fprintf(f, "  \"sha256\": {");
    for (int l = 0; l < 4; l++) fprintf(f, "\"%s\": \"%s\", ", names[l], hx[l]);
    fprintf(f, "\"split\": \"%s\"}\n}\n", hx[4]);
    free(per);
    return hl_atomic_write_commit(&af);
}
