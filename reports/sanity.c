/* reports/sanity.c — cross-cell sanity flags; see reports/sanity.h. */
#include "reports/sanity.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *str_at(const hl_config *root, const char *path, const char *dflt) {
    const hl_config *n = hl_config_path(root, path);
    return n && n->kind == HL_CONFIG_SCALAR ? n->text : dflt;
}

static void own_flags(const hl_config *root, hl_sanity_fact *x) {
    const hl_config *fl = hl_config_path(root, "sanity.flags");
    size_t k = 0;
    for (int64_t i = 0; fl && fl->kind == HL_CONFIG_SEQ && i < hl_config_len(fl); i++) {
        const hl_config *e = hl_config_at(fl, i);
        if (e->kind == HL_CONFIG_SCALAR && k < sizeof x->flags)
            k += (size_t)snprintf(x->flags + k, sizeof x->flags - k, "%s%s", k ? ", " : "", e->text);
    }
}

/* A train cell: its code checks (lab/sanity.h), with the measures as evidence; no ε, so no check across cells. */
static bool train_fact_of(const hl_config *root, hl_sanity_fact *f) {
    hl_sanity_fact x = {0};
    double v;
    x.model = str_at(root, "method", "?");
    x.attack = "clean", x.norm = "-", x.eps_text = "-", x.kind = "train";
    x.eps = NAN;
    x.bits = hl_config_parse_double(str_at(root, "bits", ""), &v) ? (int64_t)v : 0;
    x.seed = hl_config_parse_double(str_at(root, "seed", ""), &v) ? (int64_t)v : 0;
    char name[80];
    snprintf(name, sizeof name, "mAP@%s", str_at(root, "conventions.topk", "1000"));
    const hl_config *m = hl_config_get(hl_config_get(root, "metrics"), name);
    x.score = m && m->kind == HL_CONFIG_SCALAR && hl_config_parse_double(m->text, &v) ? v : NAN;
    own_flags(root, &x);
    double d = NAN, mb = NAN;
    hl_config_parse_double(str_at(root, "sanity.codes.distinct_frac", "nan"), &d);
    hl_config_parse_double(str_at(root, "sanity.codes.mean_balance", "nan"), &mb);
    if (x.flags[0])
        snprintf(x.evidence, sizeof x.evidence, "database codes %.1f%% distinct, %s of %lld bits constant, mean bit "
                 "balance %.3f", 100 * d, str_at(root, "sanity.codes.constant_bits", "?"), (long long)x.bits, mb);
    *f = x;
    return true;
}

static void add(hl_sanity_fact *f, const char *flag, const char *evidence);

bool hl_sanity_fact_of(const hl_config *root, hl_sanity_fact *f) {
    if (strcmp(str_at(root, "status", ""), "done")) return false;
    const char *kind = str_at(root, "kind", "");
    if (!strcmp(kind, "train")) return train_fact_of(root, f);
    if (strcmp(kind, "attack")) return false;
    hl_sanity_fact x = {0};
    x.model = str_at(root, "method", "?");
    x.attack = str_at(root, "attack", "?");
    x.norm = str_at(root, "norm", "?");
    x.eps_text = str_at(root, "eps", "?");
    x.kind = str_at(root, "attack_kind", "");
    hl_fraction fr;
    const char *why;
    x.eps = hl_config_parse_fraction(x.eps_text, &fr, &why) == HL_OK ? fr.value : NAN;
    double v;
    x.bits = hl_config_parse_double(str_at(root, "bits", ""), &v) ? (int64_t)v : 0;
    x.seed = hl_config_parse_double(str_at(root, "seed", ""), &v) ? (int64_t)v : 0;
    bool tg = false;
    x.targeted = hl_config_parse_bool(str_at(root, "attack_config.targeted", "false"), &tg) && tg;
    char name[80];
    if (x.targeted) snprintf(name, sizeof name, "t-mAP@all");
    else snprintf(name, sizeof name, "mAP@%s", str_at(root, "conventions.topk", "1000"));
    const hl_config *m = hl_config_get(hl_config_get(root, "metrics"), name);
    x.score = m && m->kind == HL_CONFIG_SCALAR && hl_config_parse_double(m->text, &v) ? v : NAN;
    own_flags(root, &x);
    /* attack_raised_map: an untargeted attack whose adversarial queries retrieve better than the clean ones */
    char cname[96];
    snprintf(cname, sizeof cname, "%s(clean)", name);
    const hl_config *cm = hl_config_get(hl_config_get(root, "metrics"), cname);
    double clean = cm && cm->kind == HL_CONFIG_SCALAR && hl_config_parse_double(cm->text, &v) ? v : NAN;
    if (!x.targeted && !isnan(x.score) && !isnan(clean) && x.score > clean + HL_SANITY_RAISE_TOL) {
        char ev[160];
        snprintf(ev, sizeof ev, "mAP %.2f under the attack, %.2f clean on the same queries", 100 * x.score,
                 100 * clean);
        add(&x, "attack_raised_map", ev);
    }
    *f = x;
    return true;
}

static void add(hl_sanity_fact *f, const char *flag, const char *evidence) {
    if (!strstr(f->flags, flag)) {
        size_t k = strlen(f->flags);
        snprintf(f->flags + k, sizeof f->flags - k, "%s%s", k ? ", " : "", flag);
    }
    size_t k = strlen(f->evidence);
    snprintf(f->evidence + k, sizeof f->evidence - k, "%s%s", k ? "; " : "", evidence);
}

static bool same_model(const hl_sanity_fact *a, const hl_sanity_fact *b) {
    return !strcmp(a->model, b->model) && a->bits == b->bits && a->seed == b->seed && a->targeted == b->targeted &&
           !strcmp(a->norm, b->norm);
}

/* a stronger than b by more than the tolerance (lower mAP, or higher t-mAP) */
static bool stronger(const hl_sanity_fact *a, const hl_sanity_fact *b) {
    return a->targeted ? a->score > b->score + HL_SANITY_CROSS_TOL : a->score < b->score - HL_SANITY_CROSS_TOL;
}

void hl_sanity_cross(hl_sanity_fact *f, int n) {
    char ev[256];
    for (int j = 0; j < n; j++) {
        if (isnan(f[j].score) || isnan(f[j].eps)) continue;
        /* eps_not_monotone: a smaller-ε cell of the same entry is stronger */
        for (int i = 0; i < n; i++) {
            if (i == j || !same_model(&f[i], &f[j]) || strcmp(f[i].attack, f[j].attack) || isnan(f[i].score) ||
                !(f[i].eps < f[j].eps) || !stronger(&f[i], &f[j]))
                continue;
            snprintf(ev, sizeof ev, "%s %.2f at eps %s is weaker than %.2f at eps %s",
                     f[j].targeted ? "t-mAP" : "mAP", 100 * f[j].score, f[j].eps_text, 100 * f[i].score,
                     f[i].eps_text);
            add(&f[j], "eps_not_monotone", ev);
        }
        /* gradient_free_beats_white_box: on the gradient cells of one threat */
        if (strcmp(f[j].kind, "gradient")) continue;
        int best = j;
        for (int i = 0; i < n; i++)
            if (same_model(&f[i], &f[j]) && f[i].eps == f[j].eps && !strcmp(f[i].kind, "gradient") &&
                !isnan(f[i].score) && stronger(&f[i], &f[best]))
                best = i;
        for (int i = 0; i < n; i++) {
            if (!same_model(&f[i], &f[j]) || f[i].eps != f[j].eps || strcmp(f[i].kind, "gradient-free") ||
                isnan(f[i].score) || !stronger(&f[i], &f[best]))
                continue;
            snprintf(ev, sizeof ev, "gradient-free %s reaches %.2f, the best gradient attack (%s) %.2f", f[i].attack,
                     100 * f[i].score, f[best].attack, 100 * f[best].score);
            add(&f[j], "gradient_free_beats_white_box", ev);
        }
    }
}
