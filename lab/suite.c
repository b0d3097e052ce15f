/* lab/suite.c — suite schema, validation, expansion into keyed cells, shards; see suite.h. */
#include "lab/suite.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_schema.h"
#include "core/data/split.h"
#include "core/hash.h"
#include "lab/plugin.h"
#include "lab/suite_data.h"
#include "lab/yaml_load.h"
#include "defences/defence.h"
#include "hashers/labeler.h"
#include "reports/table.h"

#define N_OF(a) ((int)HL_ARRAY_LEN(a))

static const hl_param_spec synthetic_fields[] = {
    {"n", HL_PARAM_INT, "2000", "[2, inf)", NULL, "number of images", NULL, 0, false},
    {"c", HL_PARAM_INT, "1", "[1, 64]", NULL, "channels", NULL, 0, false},
    {"h", HL_PARAM_INT, "28", "[8, 4096]", NULL, "height", NULL, 0, false},
    {"w", HL_PARAM_INT, "28", "[8, 4096]", NULL, "width", NULL, 0, false},
    {"classes", HL_PARAM_INT, "10", "[2, 65536]", NULL, "classes", NULL, 0, false},
    {"noise", HL_PARAM_FLOAT, "0.3", "[0, 1]", NULL, "background noise amplitude", NULL, 0, false},
    {"seed", HL_PARAM_INT, "0", "[0, inf)", NULL, "generator seed", NULL, 0, false},
};

static const hl_param_spec defence_fields[] = {
    {"method", HL_PARAM_STRING, NULL, NULL, NULL, "registered defence (hashlab list): pgd-at, atrdh, cgat, saat", NULL,
     0, false},
    {"norm", HL_PARAM_ENUM, "linf", NULL, "linf|l2", "the inner attack's norm", NULL, 0, false},
    {"eps", HL_PARAM_FRACTION, "8/255", "(0, inf)", NULL, "the inner attack's radius on [0,1] pixels", NULL, 0, false},
    {"steps", HL_PARAM_INT, "7", "[1, 1000]", NULL, "the inner attack's PGD steps", NULL, 0, false},
    {"step_size", HL_PARAM_FRACTION, "2/255", "(0, inf)", NULL, "the inner attack's step", NULL, 0, false},
    {"random_start", HL_PARAM_BOOL, "true", NULL, NULL, "the inner attack starts at a random point of the ball", NULL,
     0, false},
    {"params", HL_PARAM_MAP, "{}", NULL, NULL, "the defence's weights (hashlab list DEFENCE)", NULL, 0, false},
};

static const hl_param_spec hasher_fields[] = {
    {"method", HL_PARAM_STRING, NULL, NULL, NULL, "registered hasher name (hashlab list)", NULL, 0, false},
    {"name", HL_PARAM_STRING, "", NULL, NULL, "row name in reports and labels (default: the method), e.g. dpsh-untrained",
     NULL, 0, false},
    {"bits", HL_PARAM_INT_LIST, NULL, "[1, 4096]", NULL, "code lengths to train", NULL, 0, false},
    {"attack", HL_PARAM_BOOL, "true", NULL, NULL, "run the suite's attacks on these models (false: clean scores only, "
     "e.g. for a baseline)", NULL, 0, false},
    {"params", HL_PARAM_MAP, "{}", NULL, NULL, "method-specific keys (hashlab list METHOD)", NULL, 0, false},
    {"defence", HL_PARAM_MAP, "null", NULL, NULL,
     "adversarial training of a trainable hasher: {method, norm, eps, steps, step_size, random_start, params}",
     defence_fields, N_OF(defence_fields), false},
    {"labeled", HL_PARAM_INT, "null", "[1, inf)", NULL,
     "labelled train images of this entry (overrides the suite's `labeled`; suites/README.md)", NULL, 0, false},
    {"labeler", HL_PARAM_MAP, "null", NULL, NULL,
     "pseudo-labels for a supervised hasher: {method: gnn, ...} (hashlab list gnn)", NULL, 0, false},
};

static const hl_param_spec attack_fields[] = {
    {"method", HL_PARAM_STRING, NULL, NULL, NULL, "registered attack name (hashlab list)", NULL, 0, false},
    {"name", HL_PARAM_STRING, "", NULL, NULL, "column name in reports and labels (default: the method), e.g. dhta",
     NULL, 0, false},
    {"bits", HL_PARAM_INT_LIST, "[]", "[1, 4096]", NULL, "attack only models of these code lengths ([] = all)", NULL,
     0, false},
    {"norm", HL_PARAM_ENUM, "linf", NULL, "linf|l2|none",
     "threat model norm; none = no eps-ball (pixel box only) for attacks that bound themselves (prosgan)", NULL, 0,
     false},
    {"eps", HL_PARAM_FRACTION, "8/255", "[0, inf)", NULL, "radius on [0,1] pixels (8/255 is exact)", NULL, 0, false},
    {"steps", HL_PARAM_INT, "20", "[0, 100000]", NULL, "iterations", NULL, 0, false},
    {"step_size", HL_PARAM_FRACTION, "2/255", "[0, inf)", NULL, "per-iteration step", NULL, 0, false},
    {"random_start", HL_PARAM_BOOL, "true", NULL, NULL, "start from a random point in the ball", NULL, 0, false},
    {"targeted", HL_PARAM_BOOL, "false", NULL, NULL, "aim at the suite's shared target labels", NULL, 0, false},
    {"params", HL_PARAM_MAP, "{}", NULL, NULL, "attack-specific keys (hashlab list METHOD)", NULL, 0, false},
};

static const hl_param_spec metrics_fields[] = {
    {"topk", HL_PARAM_STRING, "1000", NULL, NULL, "R of mAP@R: an integer or all", NULL, 0, false},
    {"radius", HL_PARAM_INT, "2", "[0, 4096]", NULL, "r of P@H<=r and R@H<=r", NULL, 0, false},
    {"ties", HL_PARAM_ENUM, "index", NULL, "index|expected|random", "tie convention of the ranking", NULL, 0, false},
    {"zero_relevant", HL_PARAM_ENUM, "count", NULL, "count|skip", "queries with no relevant item", NULL, 0, false},
};

static const hl_param_spec transfer_fields[] = {
    {"attacks", HL_PARAM_STRING_LIST, "[]", NULL, NULL,
     "attacks whose adversarial images are scored on every other model: entry name, name:norm:eps or name:none", NULL,
     0, false},
    {"bits", HL_PARAM_INT_LIST, "[]", "[1, 4096]", NULL, "source and target models of these code lengths ([] = all)",
     NULL, 0, false},
};

static const hl_param_spec report_fields[] = {
    {"formats", HL_PARAM_STRING_LIST, "[md, tex, csv, json, html]", NULL, NULL, "table formats: md tex csv json html",
     NULL, 0, false},
};


static const hl_param_spec suite_spec[] = {
    {"name", HL_PARAM_STRING, NULL, NULL, NULL, "suite name (run directory runs/<name>)", NULL, 0, false},
    {"dataset", HL_PARAM_ENUM, NULL, NULL,
     "cifar10|cifar100|fashion-mnist|mnist|synthetic|nus-wide|flickr25k|coco|imagenet100",
     "dataset, or image lists {image_list: DIR, image_size, channels, root, name}", NULL, 0, false},
    {"data_root", HL_PARAM_STRING, "null", NULL, NULL, "where datasets are looked for first", NULL, 0, false},
    {"synthetic", HL_PARAM_MAP, "{}", NULL, NULL, "dataset: synthetic settings", synthetic_fields, N_OF(synthetic_fields),
     false},
    {"protocol", HL_PARAM_STRING, "cifar10", NULL, NULL,
     "split protocol (cifar10, cifar10-1, cifar10-2, random:Q/T; image lists: lists, their default)", NULL, 0, false},
    {"split_seed", HL_PARAM_INT, "0", "[0, inf)", NULL, "seed of the split", NULL, 0, false},
    {"labeled", HL_PARAM_INT, "null", "[1, inf)", NULL,
     "semi-supervised protocol: only this many train images are labelled (cifar10-1, random:Q/T)", NULL, 0, false},
    {"seeds", HL_PARAM_INT_LIST, "[0]", "[0, inf)", NULL, "training seeds", NULL, 0, false},
    {"attack_queries", HL_PARAM_STRING, "500", NULL, NULL,
     "queries attacked: the first N of the query list (a positive integer) or all", NULL, 0, false},
    {"backbone", HL_PARAM_STRING, "cnn-small", NULL, NULL, "network under the hashing layer", NULL, 0, false},
    {"device", HL_PARAM_ENUM, "cpu", NULL, "cpu|cuda|shadow",
     "where tensors live and kernels run (shadow: the CPU's kernels on memory the host cannot touch, a debugging "
     "device; not in the cell keys)", NULL, 0, false},
    {"threads", HL_PARAM_INT, "0", "[0, 1024]", NULL, "threads (0 = all cores)", NULL, 0, false},
    {"hashers", HL_PARAM_MAP_LIST, NULL, NULL, NULL, "methods to train", hasher_fields, N_OF(hasher_fields), false},
    {"attacks", HL_PARAM_MAP_LIST, "[]", NULL, NULL, "attacks on every trained hasher", attack_fields,
     N_OF(attack_fields), false},
    {"transfer", HL_PARAM_MAP, "{}", NULL, NULL, "transfer attacks (adversarial images scored on the other models)",
     transfer_fields, N_OF(transfer_fields), false},
    {"metrics", HL_PARAM_MAP, "{}", NULL, NULL, "evaluation conventions", metrics_fields, N_OF(metrics_fields), false},
    {"report", HL_PARAM_MAP, "{}", NULL, NULL, "report options", report_fields, N_OF(report_fields), false},
    {"output", HL_PARAM_STRING, "null", NULL, NULL, "run directory (default runs/<name>)", NULL, 0, false},
    {"plugins", HL_PARAM_STRING_LIST, "[]", NULL, NULL, "shared objects with extra hashers/attacks", NULL, 0, false},
    {"eps_unbounded_ok", HL_PARAM_BOOL, "false", NULL, NULL,
     "allow eps above the sanity bound (L-inf 64/255, L2 16 on [0,1] pixels): eps: 8 usually means 8/255", NULL, 0,
     false},
};

/* The suite's schema for this tree: `dataset` as a mapping (lab/suite_data.h) when the tree writes it as one. */
static const hl_param_spec *specs_for(const hl_config *root, hl_param_spec buf[N_OF(suite_spec)]) {
    const hl_config *d = hl_config_get(root, "dataset");
    if (!d || d->kind != HL_CONFIG_MAP) return suite_spec;
    memcpy(buf, suite_spec, sizeof suite_spec);
    for (int i = 0; i < N_OF(suite_spec); i++)
        if (!strcmp(buf[i].name, "dataset")) buf[i] = *hl_suite_dataset_map_spec();
    return buf;
}

void hl_suite_free(hl_suite *s) {
    if (!s) return;
    for (int64_t i = 0; i < s->nhashers; i++) free(s->hashers[i].bits);
    for (int64_t i = 0; i < s->nattacks; i++) free(s->attacks[i].bits);
    free(s->hashers);
    free(s->attacks);
    free(s->seeds);
    free(s->transfer);
    free(s->transfer_bits);
    hl_config_free(s->raw);
    hl_config_free(s->resolved);
    free(s);
}

/* Checks what the schema cannot express: `path` (metrics.topk, attack_queries) is a positive integer or "all". A
 * node of the wrong kind is the schema's to report. */
static void check_int_or_all(const hl_config *raw, const char *path, hl_config_errors *errs) {
    const hl_config *t = hl_config_path(raw, path);
    int64_t v = 0;
    if (!t || t->kind != HL_CONFIG_SCALAR) return;
    if (!strcmp(t->text, "all") || (hl_config_parse_int(t->text, &v) && v > 0)) return;
    hl_config_errors_add(errs, t->file, t->line, t->col, "%s: expected a positive integer or all, got '%s'", path,
                         t->text);
}

/* Suite-level checks the schema cannot express, each at the offending node's position: the protocol's syntax (with
 * a did-you-mean from core/data/split.c; image lists and `protocol: lists`: lab/suite_data.c) and the report
 * formats. */
static void check_protocol_and_formats(const hl_config *root, hl_config_errors *errs) {
    const hl_config *p = hl_config_get(root, "protocol"), *f = hl_config_path(root, "report.formats");
    bool lists = hl_suite_dataset_is_lists(hl_config_get(root, "dataset"));
    if (p && p->kind == HL_CONFIG_SCALAR && !lists && strcmp(p->text, "lists") &&
        hl_split_protocol_check(p->text, NULL) < 0)
        hl_config_errors_add(errs, p->file, p->line, p->col, "protocol: %s", hl_error_last());
    for (int64_t i = 0; f && f->kind == HL_CONFIG_SEQ && i < hl_config_len(f); i++) {
        const hl_config *e = hl_config_at(f, i);
        hl_table_format fmt;
        if (e->kind != HL_CONFIG_SCALAR) continue; /* the schema's */
        if (hl_table_format_parse(e->text, &fmt) < 0) {
            hl_config_errors_add(errs, e->file, e->line, e->col, "report.formats[%lld]: unknown format '%s' (known: md, "
                                 "tex, csv, json, html)", (long long)i, e->text);
            continue;
        }
        for (int64_t j = 0; j < i; j++) {
            const hl_config *g0 = hl_config_at(f, j);
            hl_table_format g;
            if (g0->kind == HL_CONFIG_SCALAR && hl_table_format_parse(g0->text, &g) == HL_OK && g == fmt) {
                hl_config_errors_add(errs, e->file, e->line, e->col, "report.formats[%lld]: '%s' is listed twice "
                                     "(first at line %d)", (long long)i, e->text, g0->line);
                break;
            }
        }
    }
    hl_error_clear();
}

/* `path` (a list of integers under node) holds no value twice. */
static void check_unique_ints(const hl_config *node, const char *path, const char *name, hl_config_errors *errs) {
    const hl_config *l = node ? hl_config_path(node, path) : NULL;
    if (!l || l->kind != HL_CONFIG_SEQ) return;
    for (int64_t i = 1; i < hl_config_len(l); i++)
        for (int64_t j = 0; j < i; j++) {
            const hl_config *a = hl_config_at(l, i), *b = hl_config_at(l, j);
            int64_t va, vb;
            if (hl_config_as_int(a, &va) == HL_OK && hl_config_as_int(b, &vb) == HL_OK && va == vb) {
                hl_config_errors_add(errs, a->file, a->line, a->col, "%s: %lld is listed twice (first at line %d, "
                                     "column %d): it would make the same cells twice", name, (long long)va, b->line,
                                     b->col);
                break;
            }
        }
    hl_error_clear();
}

/* A `labeler` map names its method (the runner checks the class and its keys); `labeled` (top level and per entry)
 * needs a protocol whose database does not depend on the train list: each given value is checked against the
 * suite's protocol at its own position (core/data/split.h). */
static void check_labeled(const hl_config *root, hl_config_errors *errs) {
    const hl_config *p = hl_config_get(root, "protocol"), *hs = hl_config_get(root, "hashers");
    const char *proto = p && p->kind == HL_CONFIG_SCALAR ? p->text : "cifar10";
    char canon[64];
    if (hl_split_protocol_check(proto, canon) < 0) { /* the protocol's own problem, reported by its check */
        hl_error_clear();
        return;
    }
    for (int64_t i = 0; hs && hs->kind == HL_CONFIG_SEQ && i < hl_config_len(hs); i++) {
        const hl_config *ln = hl_config_get(hl_config_at(hs, i), "labeler"), *m = ln ? hl_config_get(ln, "method") : NULL;
        if (ln && ln->kind == HL_CONFIG_MAP && (!m || m->kind != HL_CONFIG_SCALAR)) /* the class checks the rest */
            hl_config_errors_add(errs, ln->file, ln->line, ln->col, "labeler: missing required key 'method' (e.g. "
                                 "{method: gnn})");
    }
    for (int64_t i = -1; i < (hs && hs->kind == HL_CONFIG_SEQ ? hl_config_len(hs) : 0); i++) {
        const hl_config *l = hl_config_get(i < 0 ? root : hl_config_at(hs, i), "labeled");
        int64_t v;
        if (!l || l->kind != HL_CONFIG_SCALAR || hl_config_as_int(l, &v) < 0 || v < 1) { /* absent or the schema's */
            hl_error_clear();
            continue;
        }
        char with[64];
        if (hl_split_protocol_with_train(proto, v, with) < 0)
            hl_config_errors_add(errs, l->file, l->line, l->col, "labeled: %s", hl_error_last());
    }
    hl_error_clear();
}

static void check_duplicates(const hl_config *root, hl_config_errors *errs) {
    char name[64];
    const hl_config *hs = hl_config_get(root, "hashers"), *as = hl_config_get(root, "attacks");
    check_unique_ints(root, "seeds", "seeds", errs);
    check_unique_ints(root, "transfer.bits", "transfer.bits", errs);
    for (int64_t i = 0; hs && hs->kind == HL_CONFIG_SEQ && i < hl_config_len(hs); i++) {
        snprintf(name, sizeof name, "hashers[%lld].bits", (long long)i);
        check_unique_ints(hl_config_at(hs, i), "bits", name, errs);
    }
    for (int64_t i = 0; as && as->kind == HL_CONFIG_SEQ && i < hl_config_len(as); i++) {
        snprintf(name, sizeof name, "attacks[%lld].bits", (long long)i);
        check_unique_ints(hl_config_at(as, i), "bits", name, errs);
    }
}

static bool lists_overlap(const int64_t *a, int64_t na, const int64_t *b, int64_t nb) {
    for (int64_t i = 0; i < na; i++)
        for (int64_t j = 0; j < nb; j++)
            if (a[i] == b[j]) return true;
    return false;
}

/* Where to report a clash of raw entries a and b (b the later): at a value of theirs that came from elsewhere than
 * the entry itself (a command-line override, a fragment: lab/overrides.h), which is what made them clash; else b. */
static const hl_config *clash_at(const hl_config *a, const hl_config *b, const char *const *keys, int nkeys) {
    const hl_config *e[2] = {b, a};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < nkeys; k++) {
            const hl_config *v = hl_config_get(e[i], keys[k]);
            if (v && strcmp(v->file, e[i]->file)) return v;
        }
    return b;
}

/* Two hasher entries with one name and a common bit length would be one row of every table: refused (the same for
 * attack entries with one name, norm and ε on a common bit length); every clash is reported (where clash_at says). */
static void check_names(const hl_suite *s, hl_config_errors *errs) {
    static const char *const hkeys[] = {"name", "method", "bits"}, *const akeys[] = {"name", "method", "norm", "eps",
                                                                                     "bits"};
    const hl_config *rh = hl_config_get(s->raw, "hashers"), *ra = hl_config_get(s->raw, "attacks");
    for (int64_t i = 0; i < s->nhashers; i++)
        for (int64_t j = 0; j < i; j++)
            if (!strcmp(s->hashers[i].name, s->hashers[j].name) &&
                lists_overlap(s->hashers[i].bits, s->hashers[i].nbits, s->hashers[j].bits, s->hashers[j].nbits)) {
                const hl_config *n = clash_at(hl_config_at(rh, j), hl_config_at(rh, i), hkeys, 3);
                hl_config_errors_add(errs, n->file, n->line, n->col,
                                     "hashers: entries %lld and %lld are both named '%s' and share a bit length; "
                                     "give one a `name:`", (long long)j + 1, (long long)i + 1, s->hashers[i].name);
                break;
            }
    for (int64_t i = 0; i < s->nattacks; i++)
        for (int64_t j = 0; j < i; j++) {
            const hl_suite_attack *a = &s->attacks[i], *b = &s->attacks[j];
            const char *na = hl_config_get(a->node, "norm")->text, *nb = hl_config_get(b->node, "norm")->text;
            const char *ea = hl_config_get(a->node, "eps")->text, *eb = hl_config_get(b->node, "eps")->text;
            bool bits = !a->nbits || !b->nbits || lists_overlap(a->bits, a->nbits, b->bits, b->nbits);
            if (!strcmp(a->name, b->name) && !strcmp(na, nb) && !strcmp(ea, eb) && bits) {
                const hl_config *n = clash_at(hl_config_at(ra, j), hl_config_at(ra, i), akeys, 5);
                hl_config_errors_add(errs, n->file, n->line, n->col,
                                     "attacks: entries %lld and %lld are both '%s' at %s eps %s on a common bit "
                                     "length; give one a `name:`", (long long)j + 1, (long long)i + 1, a->name, na,
                                     a->eps_text[0] ? a->eps_text : ea);
                break;
            }
        }
}

/* "name:linf:8/255" / "name:none": an attack entry's threat label (what follows the train label in a cell label),
 * ε as written (eps_text). */
static hl_status threat_label(const hl_suite_attack *a, char *buf, size_t n) {
    const char *norm = NULL;
    hl_fraction eps;
    char e[64];
    hl_status st = hl_config_get_string(a->node, "norm", &norm);
    if (st == HL_OK) st = hl_config_get_fraction(a->node, "eps", &eps);
    if (st < 0) return st;
    if (!strcmp(norm, "none")) snprintf(buf, n, "%s:none", a->name);
    else snprintf(buf, n, "%s:%s:%s", a->name, norm, a->eps_text[0] ? a->eps_text : hl_fraction_format(&eps, e, 64));
    return HL_OK;
}

/* True when transfer pattern p (an entry name, or a full threat label) names attack entry a; the label's ε may be
 * written another way with the same value (16/85 for 48/255, 1/2 for 0.5). */
static bool transfer_names(const char *p, const hl_suite_attack *a) {
    char lab[160];
    if (!strcmp(p, a->name)) return true;
    if (threat_label(a, lab, sizeof lab) < 0) return false;
    if (!strcmp(p, lab)) return true;
    const char *pc = strrchr(p, ':'), *lc = strrchr(lab, ':'), *why;
    hl_fraction x, y;
    return pc && lc && pc - p == lc - lab && !strncmp(p, lab, (size_t)(pc - p)) &&
           hl_config_parse_fraction(pc + 1, &x, &why) == HL_OK && hl_config_parse_fraction(lc + 1, &y, &why) == HL_OK &&
           x.value == y.value;
}

/* transfer: {attacks, bits}; every pattern must name at least one attack entry (each one that does not is added to
 * errs). */
static hl_status load_transfer(hl_suite *s, hl_config_errors *errs) {
    hl_status st = HL_OK;
    const hl_config *t = hl_config_get(s->resolved, "transfer"), *al = t ? hl_config_get(t, "attacks") : NULL;
    int64_t n = al ? hl_config_len(al) : 0;
    if (t) HL_TRY(hl_config_get_int_list(t, "bits", &s->transfer_bits, &s->ntransfer_bits));
    if (!n) return HL_OK;
    if (!(s->transfer = calloc((size_t)n, sizeof *s->transfer))) return hl_error_set(HL_ENOMEM, "out of memory");
    s->ntransfer = n;
    for (int64_t i = 0; i < n; i++) {
        const hl_config *e = hl_config_at(al, i);
        HL_TRY(hl_config_as_string(e, &s->transfer[i]));
        bool found = false;
        for (int64_t a = 0; a < s->nattacks && !found; a++) found = transfer_names(s->transfer[i], &s->attacks[a]);
        if (!found) {
            const hl_config *raw = hl_config_at(hl_config_path(s->raw, "transfer.attacks"), i), *at = raw ? raw : e;
            hl_config_errors_add(errs, at->file, at->line, at->col, "transfer.attacks: '%s' names no attack entry (use "
                                 "an entry's name, or name:norm:eps such as pgd:linf:8/255, or name:none)",
                                 s->transfer[i]);
        }
    }
done:
    return st;
}

static bool in_list(const int64_t *v, int64_t n, int64_t x) {
    if (!n) return true;
    for (int64_t i = 0; i < n; i++)
        if (v[i] == x) return true;
    return false;
}

/* Attack entry a's adversarial images are transferred from models of `bits` bits. */
static bool transfer_source(const hl_suite *s, int64_t a, int64_t bits) {
    if (!in_list(s->transfer_bits, s->ntransfer_bits, bits)) return false;
    for (int64_t i = 0; i < s->ntransfer; i++)
        if (transfer_names(s->transfer[i], &s->attacks[a])) return true;
    return false;
}

bool hl_suite_attack_applies(const hl_suite_attack *a, int64_t bits) {
    if (!a->nbits) return true;
    for (int64_t i = 0; i < a->nbits; i++)
        if (a->bits[i] == bits) return true;
    return false;
}

/* Every problem of the suite's own keys (schema, then what the schema cannot express) into errs; returns how many. */
static int64_t suite_key_problems(const hl_config *root, hl_config_errors *errs) {
    int64_t before = errs->n;
    hl_param_spec buf[N_OF(suite_spec)];
    hl_config_validate(root, specs_for(root, buf), N_OF(suite_spec), false, "suite", errs);
    hl_suite_check_dataset(root, errs);
    check_int_or_all(root, "metrics.topk", errs);
    check_int_or_all(root, "attack_queries", errs);
    check_protocol_and_formats(root, errs);
    check_labeled(root, errs);
    check_duplicates(root, errs);
    const hl_config *hs = hl_config_get(root, "hashers");
    if (hs && hs->kind == HL_CONFIG_SEQ && hl_config_len(hs) == 0)
        hl_config_errors_add(errs, hs->file, hs->line, hs->col, "hashers: the list is empty");
    return errs->n - before + (errs->oom ? 1 : 0);
}

/* weights_sha256 of every hasher entry whose params name a weights file (`pretrained`, else its alias `init_from`);
 * a file that cannot be read is a problem at that key. */
static void hash_weights(hl_suite *s, hl_config_errors *errs) {
    static const char *const keys[] = {"pretrained", "init_from"};
    const hl_config *raw = hl_config_get(s->raw, "hashers");
    for (int64_t i = 0; i < s->nhashers; i++) {
        const hl_config *params = hl_config_get(s->hashers[i].node, "params");
        const hl_config *rparams = hl_config_get(hl_config_at(raw, i), "params");
        for (int k = 0; k < 2 && !s->hashers[i].weights_sha256[0]; k++) {
            const hl_config *v = params ? hl_config_get(params, keys[k]) : NULL;
            if (!v || v->kind != HL_CONFIG_SCALAR || !v->text || !v->text[0]) continue; /* the hasher checks types */
            if (hl_sha256_file(v->text, s->hashers[i].weights_sha256) < 0) {
                const hl_config *at = rparams ? hl_config_get(rparams, keys[k]) : NULL;
                if (!at) at = v;
                hl_config_errors_add(errs, at->file, at->line, at->col, "hashers: entry %lld: %s: %s (the weights "
                                     "file is part of the cell's key)", (long long)i + 1, keys[k], hl_error_last());
                hl_error_clear();
                s->hashers[i].weights_sha256[0] = 0;
            }
        }
    }
}

/* The resolved suite and its lists, from a root whose suite keys are valid; clashes of names and transfer patterns
 * naming nothing go to errs. */
static hl_status fill(hl_suite *s, hl_config_errors *errs) {
    hl_status st = HL_OK;
    hl_param_spec buf[N_OF(suite_spec)];
    HL_TRY(hl_config_resolve(s->raw, specs_for(s->raw, buf), N_OF(suite_spec), &s->resolved));
    const hl_config *r = s->resolved;
    HL_TRY(hl_config_get_string(r, "name", &s->name));
    HL_TRY(hl_suite_fill_dataset(s, errs)); /* dataset, lists; protocol lists by default for image lists */
    HL_TRY(hl_config_get_string(r, "protocol", &s->protocol));
    HL_TRY(hl_config_get_string(r, "backbone", &s->backbone));
    HL_TRY(hl_config_get_int(r, "split_seed", &s->split_seed));
    HL_TRY(hl_config_get_int_list(r, "seeds", &s->seeds, &s->nseeds));
    const hl_config *lab_node = hl_config_get(r, "labeled");
    if (lab_node && lab_node->kind == HL_CONFIG_SCALAR) HL_TRY(hl_config_get_int(r, "labeled", &s->labeled));
    const hl_config *out_node = hl_config_get(r, "output");
    if (out_node && out_node->kind == HL_CONFIG_SCALAR) s->output = out_node->text;

    const hl_config *hs = hl_config_get(r, "hashers"), *as = hl_config_get(r, "attacks");
    s->nhashers = hl_config_len(hs);
    s->nattacks = as ? hl_config_len(as) : 0;
    s->hashers = calloc((size_t)(s->nhashers ? s->nhashers : 1), sizeof *s->hashers);
    s->attacks = calloc((size_t)(s->nattacks ? s->nattacks : 1), sizeof *s->attacks);
    if (!s->hashers || !s->attacks) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory loading a suite"));
    for (int64_t i = 0; i < s->nhashers; i++) {
        hl_suite_hasher *h = &s->hashers[i];
        h->node = hl_config_at(hs, i);
        HL_TRY(hl_config_get_string(h->node, "method", &h->method));
        HL_TRY(hl_config_get_string(h->node, "name", &h->name));
        if (!h->name[0]) h->name = h->method;
        HL_TRY(hl_config_get_int_list(h->node, "bits", &h->bits, &h->nbits));
        HL_TRY(hl_config_get_bool(h->node, "attack", &h->attack));
        const hl_config *dn = hl_config_get(h->node, "defence"), *ln = hl_config_get(h->node, "labeler");
        const hl_config *cn = hl_config_get(h->node, "labeled");
        const hl_hasher_class *hc = hl_hasher_class_find(h->method);
        hl_error_clear();
        h->labeled = hc && !(hc->flags & HL_HASHER_SUPERVISED) ? 0 : s->labeled; /* unsupervised: never labels */
        if (cn && cn->kind == HL_CONFIG_SCALAR) HL_TRY(hl_config_get_int(h->node, "labeled", &h->labeled));
        if (dn && dn->kind == HL_CONFIG_MAP) HL_TRY(hl_config_get_string(dn, "method", &h->defence));
        if (ln && ln->kind == HL_CONFIG_MAP) {
            const hl_config *m = hl_config_get(ln, "method"); /* present: check_labeled */
            if (m && m->kind == HL_CONFIG_SCALAR) h->labeler = m->text;
        }
        if (h->name == h->method && (h->defence || h->labeler)) { /* unnamed: "dpsh-cgat", "dpsh-gnn" */
            snprintf(h->auto_name, sizeof h->auto_name, "%s%s%s%s%s", h->method, h->defence ? "-" : "",
                     h->defence ? h->defence : "", h->labeler ? "-" : "", h->labeler ? h->labeler : "");
            h->name = h->auto_name;
        }
    }
    for (int64_t i = 0; i < s->nattacks; i++) {
        hl_suite_attack *a = &s->attacks[i];
        a->node = hl_config_at(as, i);
        HL_TRY(hl_config_get_string(a->node, "method", &a->method));
        HL_TRY(hl_config_get_string(a->node, "name", &a->name));
        if (!a->name[0]) a->name = a->method;
        HL_TRY(hl_config_get_int_list(a->node, "bits", &a->bits, &a->nbits));
        const hl_config *e = hl_config_get(hl_config_at(hl_config_get(s->raw, "attacks"), i), "eps");
        if (!e || e->kind != HL_CONFIG_SCALAR) e = hl_config_get(a->node, "eps"); /* the default */
        hl_fraction_format_written(e ? e->text : NULL, a->eps_text, sizeof a->eps_text);
    }
    check_names(s, errs);
    hash_weights(s, errs);
    HL_TRY(load_transfer(s, errs));
done:
    return st;
}

hl_status hl_suite_from_config_with(hl_suite **out, hl_config *root, hl_config_errors *errs,
                                    hl_suite_check_fn check) {
    *out = NULL;
    hl_status st = HL_OK;
    hl_config_errors local = {0};
    if (!errs) errs = &local;
    hl_suite *s = calloc(1, sizeof *s);
    if (!s) {
        hl_config_free(root);
        hl_config_errors_free(errs);
        return hl_error_set(HL_ENOMEM, "out of memory loading a suite");
    }
    s->raw = root;
    bool keys_ok = suite_key_problems(root, errs) == 0;
    if (check) check(root, errs);
    if (keys_ok) HL_TRY(fill(s, errs));
    st = hl_config_errors_finish(errs, NULL);
done:
    hl_config_errors_free(errs);
    if (st < 0) {
        hl_suite_free(s);
        return st;
    }
    *out = s;
    return HL_OK;
}

hl_status hl_suite_from_config(hl_suite **out, hl_config *root) {
    return hl_suite_from_config_with(out, root, NULL, NULL);
}

hl_status hl_suite_load(hl_suite **out, const char *path) {
    *out = NULL;
    hl_config *root = NULL;
    hl_status st = hl_yaml_load_file(path, &root);
    if (st < 0) return st;
    return hl_suite_from_config(out, root);
}

const hl_param_spec *hl_suite_schema(int *n) {
    *n = N_OF(suite_spec);
    return suite_spec;
}

/* A map validated against `fields` on its own (its problems are the schema's to report) and resolved. */
static hl_status resolve_alone(const hl_config *node, const hl_param_spec *fields, int n, const char *what,
                               hl_config **out) {
    *out = NULL;
    hl_config_errors errs = {0};
    int bad = hl_config_validate(node, fields, n, false, NULL, &errs);
    hl_config_errors_free(&errs);
    if (bad) return hl_error_set(HL_EINVAL, "the %s entry has problems of its own", what);
    return hl_config_resolve(node, fields, n, out);
}

hl_status hl_suite_attack_resolve(const hl_config *entry, hl_config **out) {
    return resolve_alone(entry, attack_fields, N_OF(attack_fields), "attack", out);
}

hl_status hl_suite_defence_resolve(const hl_config *defence, hl_config **out) {
    return resolve_alone(defence, defence_fields, N_OF(defence_fields), "defence", out);
}

/* Puts a copy of `src` (or a string scalar `text`) under `key` in map `m`. */
static hl_status put_clone(hl_config *m, const char *key, const hl_config *src) {
    hl_config *c = hl_config_clone(src);
    if (!c) return hl_error_set(HL_ENOMEM, "out of memory building a cell key");
    return hl_config_map_put(m, key, 0, 0, c);
}

static hl_status put_text(hl_config *m, const char *key, const char *text) {
    hl_config *c = hl_config_new(HL_CONFIG_SCALAR, text, "", 0, 0);
    if (!c) return hl_error_set(HL_ENOMEM, "out of memory building a cell key");
    c->quoted = true;
    return hl_config_map_put(m, key, 0, 0, c);
}

static hl_status put_int(hl_config *m, const char *key, int64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    hl_config *c = hl_config_new(HL_CONFIG_SCALAR, buf, "", 0, 0);
    if (!c) return hl_error_set(HL_ENOMEM, "out of memory building a cell key");
    return hl_config_map_put(m, key, 0, 0, c);
}

/* SHA-256 of the canonical JSON of map m; frees m. */
static hl_status key_of(hl_config *m, char key[65]) {
    char *json = NULL;
    hl_status st = hl_config_canonical_json(m, &json);
    if (st == HL_OK) hl_sha256_hex(json, strlen(json), key);
    free(json);
    hl_config_free(m);
    return st;
}

/* What the key knows of the code computing a cell: "plugin:<sha256 of the .so>" for a class a plugin provides,
 * "v<version>" for a built-in whose version is not "1" (a class bumps it when its results change), nothing otherwise
 * (so the keys of built-ins at version 1 are those of runs made before versions existed). A class not registered
 * (yet) contributes nothing either: validation reports unknown methods. */
static void code_id(const void *cls, const char *version, char *buf, size_t n) {
    const hl_plugin *p = cls ? hl_plugin_of(cls) : NULL;
    buf[0] = 0;
    if (p) snprintf(buf, n, "plugin:%s%s%s", p->sha256, version ? ":v" : "", version ? version : "");
    else if (version && strcmp(version, "1")) snprintf(buf, n, "v%s", version);
}

/* The keys of a resolved map whose spec says key_omits_default and whose value equals the default (numerically for
 * numbers, so "0" and "0.0" agree), removed. */
static void drop_keyless_defaults(hl_config *map, const hl_param_spec *specs, int n) {
    for (int i = 0; i < n; i++) {
        const hl_config *v = specs[i].key_omits_default && specs[i].def ? hl_config_get(map, specs[i].name) : NULL;
        if (!v || v->kind != HL_CONFIG_SCALAR) continue;
        double a, b;
        bool same = (specs[i].type == HL_PARAM_INT || specs[i].type == HL_PARAM_FLOAT)
                        ? hl_config_parse_double(v->text, &a) && hl_config_parse_double(specs[i].def, &b) && a == b
                        : !strcmp(v->text, specs[i].def);
        if (same) hl_config_map_remove(map, specs[i].name);
    }
}

static hl_status train_key(const hl_suite *s, const char *split_hash, int64_t h, int64_t bits, int64_t seed,
                           char key[65]) {
    hl_status st = HL_OK;
    const hl_config *r = s->resolved;
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!m) return hl_error_set(HL_ENOMEM, "out of memory building a cell key");
    HL_TRY(put_text(m, "kind", "train"));
    HL_TRY(put_clone(m, "dataset", hl_config_get(r, "dataset")));
    if (!s->lists.on && !strcmp(s->dataset, "synthetic"))
        HL_TRY(put_clone(m, "synthetic", hl_config_get(r, "synthetic")));
    if (s->lists.sha256[0]) HL_TRY(put_text(m, "lists", s->lists.sha256)); /* the three list files' content */
    HL_TRY(put_clone(m, "protocol", hl_config_get(r, "protocol")));
    HL_TRY(put_clone(m, "split_seed", hl_config_get(r, "split_seed")));
    HL_TRY(put_text(m, "split", split_hash));
    HL_TRY(put_clone(m, "backbone", hl_config_get(r, "backbone")));
    HL_TRY(put_clone(m, "method", hl_config_get(s->hashers[h].node, "method")));
    HL_TRY(put_clone(m, "name", hl_config_get(s->hashers[h].node, "name")));
    HL_TRY(put_clone(m, "params", hl_config_get(s->hashers[h].node, "params")));
    if (s->hashers[h].weights_sha256[0]) /* only entries with weights carry it: other keys are unchanged */
        HL_TRY(put_text(m, "weights_sha256", s->hashers[h].weights_sha256));
    const hl_config *dn = hl_config_get(s->hashers[h].node, "defence");
    if (dn && dn->kind == HL_CONFIG_MAP) { /* only defended entries carry it: undefended keys are unchanged */
        HL_TRY(put_clone(m, "defence", dn));
        const hl_defence_class *dc = hl_defence_class_find(s->hashers[h].defence);
        hl_error_clear();
        char dcode[120];
        code_id(dc, dc ? dc->version : NULL, dcode, sizeof dcode);
        if (dcode[0]) HL_TRY(put_text(m, "defence_code", dcode));
    }
    if (s->hashers[h].labeled > 0) HL_TRY(put_int(m, "labeled", s->hashers[h].labeled)); /* only when set */
    const hl_config *ln = hl_config_get(s->hashers[h].node, "labeler");
    if (ln && ln->kind == HL_CONFIG_MAP) { /* resolved by its class (defaults in), so spelling never changes keys */
        const hl_labeler_class *lc = s->hashers[h].labeler ? hl_labeler_class_find(s->hashers[h].labeler) : NULL;
        hl_config *lr = NULL;
        hl_config_errors le = {0};
        if (lc && hl_config_validate(ln, lc->params, lc->n_params, false, NULL, &le) == 0 &&
            hl_config_resolve(ln, lc->params, lc->n_params, &lr) == HL_OK)
            drop_keyless_defaults(lr, lc->params, lc->n_params), st = hl_config_map_put(m, "labeler", 0, 0, lr);
        else
            st = put_clone(m, "labeler", ln);
        hl_config_errors_free(&le);
        hl_error_clear();
        if (st < 0) goto done;
        char lcode[120];
        code_id(NULL, lc ? lc->version : NULL, lcode, sizeof lcode);
        if (lcode[0]) HL_TRY(put_text(m, "labeler_code", lcode));
    }
    HL_TRY(put_int(m, "bits", bits));
    HL_TRY(put_int(m, "seed", seed));
    const hl_hasher_class *hc = hl_hasher_class_find(s->hashers[h].method);
    hl_error_clear();
    char code[120];
    code_id(hc, hc ? hc->version : NULL, code, sizeof code);
    if (code[0]) HL_TRY(put_text(m, "code", code));
    return key_of(m, key);
done:
    hl_config_free(m);
    return st;
}

static hl_status attack_key(const hl_suite *s, const char *parent_key, int64_t a, char key[65]) {
    hl_status st = HL_OK;
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!m) return hl_error_set(HL_ENOMEM, "out of memory building a cell key");
    HL_TRY(put_text(m, "kind", "attack"));
    HL_TRY(put_text(m, "train", parent_key));
    HL_TRY(put_clone(m, "attack_queries", hl_config_get(s->resolved, "attack_queries")));
    HL_TRY(put_clone(m, "attack", s->attacks[a].node));
    const hl_attack_class *ac = hl_attack_class_find(s->attacks[a].method);
    hl_error_clear();
    char code[120];
    code_id(ac, ac ? ac->version : NULL, code, sizeof code);
    if (code[0]) HL_TRY(put_text(m, "code", code));
    return key_of(m, key);
done:
    hl_config_free(m);
    return st;
}

/* "lsh/32b/seed0/noise:linf:8/255": the threat is part of the label so attack entries that differ only in it
 * stay distinguishable in progress lines, logs and --only patterns. */
static hl_status attack_label(const hl_suite *s, int64_t a, const char *train_label, char *buf, size_t n) {
    char t[160];
    hl_status st = threat_label(&s->attacks[a], t, sizeof t);
    if (st < 0) return st;
    snprintf(buf, n, "%s/%s", train_label, t);
    return HL_OK;
}

static hl_status transfer_key(const char *source_key, const char *target_key, char key[65]) {
    hl_status st = HL_OK;
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    if (!m) return hl_error_set(HL_ENOMEM, "out of memory building a cell key");
    HL_TRY(put_text(m, "kind", "transfer"));
    HL_TRY(put_text(m, "source", source_key));
    HL_TRY(put_text(m, "target", target_key));
    return key_of(m, key);
done:
    hl_config_free(m);
    return st;
}

hl_status hl_suite_expand(const hl_suite *s, const char *split_hash, hl_cell **cells, int64_t *n) {
    *cells = NULL;
    *n = 0;
    int64_t ntrain = 0, nattack = 0;
    for (int64_t h = 0; h < s->nhashers; h++) {
        ntrain += s->hashers[h].nbits * s->nseeds;
        for (int64_t b = 0; b < s->hashers[h].nbits && s->hashers[h].attack; b++)
            for (int64_t a = 0; a < s->nattacks; a++)
                nattack += hl_suite_attack_applies(&s->attacks[a], s->hashers[h].bits[b]) ? s->nseeds : 0;
    }
    /* transfer: sources = attack cells of a transfer attack at a transfer bit length; targets (per seed) = the
     * attacked models at a transfer bit length */
    int64_t nsource = 0, ntarget = 0;
    for (int64_t h = 0; h < s->nhashers; h++)
        for (int64_t b = 0; b < s->hashers[h].nbits && s->hashers[h].attack; b++) {
            ntarget += in_list(s->transfer_bits, s->ntransfer_bits, s->hashers[h].bits[b]);
            for (int64_t a = 0; a < s->nattacks; a++)
                nsource += hl_suite_attack_applies(&s->attacks[a], s->hashers[h].bits[b]) &&
                           transfer_source(s, a, s->hashers[h].bits[b]) ? s->nseeds : 0;
        }
    int64_t ntransfer = s->ntransfer ? nsource * ntarget : 0;
    int64_t total = ntrain + nattack + ntransfer;
    hl_cell *c = calloc((size_t)(total ? total : 1), sizeof *c);
    if (!c) return hl_error_set(HL_ENOMEM, "out of memory expanding %lld cells", (long long)total);
    hl_status st = HL_OK;
    int64_t k = 0;
    for (int64_t h = 0; h < s->nhashers; h++)
        for (int64_t b = 0; b < s->hashers[h].nbits; b++)
            for (int64_t si = 0; si < s->nseeds; si++, k++) {
                hl_cell *t = &c[k];
                *t = (hl_cell){.kind = HL_CELL_TRAIN, .hasher = h, .attack = -1, .bits = s->hashers[h].bits[b],
                               .seed = s->seeds[si], .parent = -1, .target = -1, .train_index = k};
                snprintf(t->label, sizeof t->label, "%s/%lldb/seed%lld", s->hashers[h].name, (long long)t->bits,
                         (long long)t->seed);
                HL_TRY(train_key(s, split_hash, h, t->bits, t->seed, t->key));
            }
    for (int64_t t = 0; t < ntrain; t++)
        for (int64_t a = 0; a < s->nattacks; a++) {
            if (!s->hashers[c[t].hasher].attack || !hl_suite_attack_applies(&s->attacks[a], c[t].bits)) continue;
            hl_cell *x = &c[k++];
            *x = c[t];
            x->kind = HL_CELL_ATTACK;
            x->attack = a;
            x->parent = t;
            x->target = -1;
            HL_TRY(attack_label(s, a, c[t].label, x->label, sizeof x->label));
            HL_TRY(attack_key(s, c[t].key, a, x->key));
        }
    for (int64_t x = ntrain; x < ntrain + nattack && ntransfer; x++) {
        if (!transfer_source(s, c[x].attack, c[x].bits)) continue;
        for (int64_t t = 0; t < ntrain; t++) {
            if (!s->hashers[c[t].hasher].attack || c[t].seed != c[x].seed ||
                !in_list(s->transfer_bits, s->ntransfer_bits, c[t].bits))
                continue;
            hl_cell *y = &c[k++];
            *y = c[x];
            y->kind = HL_CELL_TRANSFER;
            y->parent = x;
            y->target = t;
            snprintf(y->label, sizeof y->label, "%s=>%s", c[x].label, c[t].label);
            HL_TRY(transfer_key(c[x].key, c[t].key, y->key));
        }
    }
    HL_ASSERT(k == total, "expanded %lld cells, counted %lld", (long long)k, (long long)total);
done:
    if (st < 0) {
        free(c);
        return st;
    }
    *cells = c;
    *n = total;
    return HL_OK;
}

hl_status hl_shard_parse(const char *text, int *index, int *count) {
    char *end = NULL;
    long i = strtol(text ? text : "", &end, 10);
    if (end == text || *end != '/')
        return hl_error_set(HL_EINVAL, "--shard '%s': expected i/n, e.g. 0/4", text ? text : "");
    const char *p = end + 1;
    long c = strtol(p, &end, 10);
    if (end == p || *end != 0 || c < 1 || i < 0 || i >= c)
        return hl_error_set(HL_EINVAL, "--shard '%s': expected i/n with 0 <= i < n", text);
    *index = (int)i;
    *count = (int)c;
    return HL_OK;
}

bool hl_cell_in_shard(const hl_cell *cells, int64_t i, int index, int count) {
    const hl_cell *c = &cells[i];
    while (c->parent >= 0) c = &cells[c->parent]; /* attack -> train, transfer -> attack -> train */
    return c->train_index % count == index;
}

const char *hl_cell_kind_name(hl_cell_kind k) {
    return k == HL_CELL_TRAIN ? "train" : k == HL_CELL_ATTACK ? "attack" : k == HL_CELL_TRANSFER ? "transfer" : "?";
}

bool hl_cell_matches(const hl_cell *c, const char *pattern) { return !pattern || fnmatch(pattern, c->label, 0) == 0; }
