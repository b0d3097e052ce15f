/* tests/attacks/test_auto.c — the `auto` ensemble: each query's output is, bit for bit, the output of the member the
 * ensemble kept, run alone with the documented settings; the kept member scores at least every other member on that
 * query (never worse than a member, by construction); a caller's judge is asked per batch with the right query
 * positions and its preference is followed; the result does not depend on the batch; under L2 the L∞-only member does
 * not run and the record says so; cost counters add up. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "attacks/auto.h"
#include "eval/attack_metrics.h"
#include "test_victim.h"

enum { NT = 200, NQ = 12, CC = 3, SS = 16, DD = CC * SS * SS, K = 16 };

typedef struct fixture {
    hl_dataset set;
    hl_hasher *h;
    hl_ctx *ctx;
    float x[NQ * DD];
    hl_codes clean;
} fixture;

static void setup(fixture *f) {
    hl_synth_opts so = {.n = NT + NQ, .c = CC, .h = SS, .w = SS, .classes = 4, .seed = 3, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(&f->set, &so), HL_OK, "%s", hl_error_last());
    hl_dataset_info info = hl_dataset_info_of(&f->set);
    f->h = hl_test_victim(&info, K, 11, 300);
    int64_t tr[NT], q[NQ];
    for (int i = 0; i < NT; i++) tr[i] = i;
    for (int i = 0; i < NQ; i++) q[i] = NT + i;
    cr_assert_eq(hl_hasher_fit(f->h, &f->set, tr, NT, true), HL_OK, "%s", hl_error_last());
    hl_dataset_read(&f->set, q, NQ, f->x);
    f->ctx = hl_test_ctx();
    cr_assert_eq(hl_hasher_encode_images(&f->clean, f->h, f->ctx, f->x, NQ, 0), HL_OK);
}

static void teardown(fixture *f) {
    hl_codes_free(&f->clean);
    hl_ctx_free(f->ctx);
    hl_hasher_free(f->h);
    hl_dataset_free(&f->set);
}

static hl_attack_opts opts(hl_norm norm, int64_t num, int64_t den) {
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.threat = hl_threat_make(norm, num, den);
    o.seed = 5;
    return o;
}

/* A member run alone with the settings attacks/auto.c documents (version 1, untargeted). */
static void member_alone(fixture *f, const char *name, float *out) {
    hl_attack_opts o = opts(HL_NORM_LINF, 8, 255);
    hl_config *p = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0);
    o.random_start = true;
    if (!strcmp(name, "apgd")) o.steps = 100;
    if (!strcmp(name, "pgd")) {
        o.steps = 100, o.step = (hl_fraction){8, 1020, 8.0 / 1020};
        hl_config_map_put(p, "loss", 0, 0, hl_config_new(HL_CONFIG_SCALAR, "hag", "", 0, 0));
        hl_config_map_put(p, "sharpen", 0, 0, hl_config_new(HL_CONFIG_SCALAR, "none", "", 0, 0));
    }
    if (!strcmp(name, "square")) o.steps = 1000;
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create(&a, name, p, &o), HL_OK, "%s", hl_error_last());
    hl_attack_goal g = {.source = &f->clean};
    cr_assert_eq(hl_attack_run(a, f->h, f->ctx, f->x, out, NQ, &g, 4), HL_OK, "%s", hl_error_last());
    hl_attack_free(a);
    hl_config_free(p);
}

/* Bits flipped from the clean code by the 8-bit version of each image. */
static void flipped(fixture *f, const float *xa, int *s) {
    static float q[NQ * DD];
    hl_codes c;
    hl_attack_quantize8(q, xa, NQ * DD);
    cr_assert_eq(hl_hasher_encode_images(&c, f->h, f->ctx, q, NQ, 0), HL_OK);
    for (int i = 0; i < NQ; i++) s[i] = hl_hamming(hl_codes_row(&c, i), hl_codes_row(&f->clean, i), c.words);
    hl_codes_free(&c);
}

Test(auto, output_is_the_kept_member_and_never_worse_than_any) {
    fixture f;
    setup(&f);
    static float xa[NQ * DD], xb[NQ * DD], alone[3][NQ * DD];
    static const char *const names[3] = {"apgd", "pgd", "square"};
    hl_attack_opts o = opts(HL_NORM_LINF, 8, 255);
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create(&a, "auto", NULL, &o), HL_OK, "%s", hl_error_last());
    hl_attack_goal g = {.source = &f.clean};
    cr_assert_eq(hl_attack_run(a, f.h, f.ctx, f.x, xa, NQ, &g, 4), HL_OK, "%s", hl_error_last());
    const hl_auto_record *r = hl_auto_record_of(a);
    cr_assert_not_null(r);
    cr_assert_eq(r->n, NQ);
    cr_assert_eq(r->n_members, 3);
    int s_auto[NQ], s_m[3][NQ];
    flipped(&f, xa, s_auto);
    int64_t fw = 0, wins = 0;
    for (int m = 0; m < 3; m++) {
        cr_assert_str_eq(r->member[m], names[m]);
        cr_assert(r->ran[m]);
        member_alone(&f, names[m], alone[m]);
        flipped(&f, alone[m], s_m[m]);
        fw += r->forwards[m];
        wins += r->wins[m];
    }
    cr_assert_eq(fw, a->forwards, "the members' passes add up to the ensemble's");
    cr_assert_eq(wins, NQ);
    cr_assert_eq(r->backwards[2], 0, "square uses no gradient");
    for (int i = 0; i < NQ; i++) {
        int w = r->winner[i];
        cr_assert(w >= 0 && w < 3);
        cr_assert_eq(memcmp(xa + i * DD, alone[w] + i * DD, DD * sizeof(float)), 0,
                     "query %d: the output is member %s's own", i, names[w]);
        for (int m = 0; m < 3; m++) {
            cr_assert_eq(r->score[i * 3 + m], (double)s_m[m][i], "query %d member %s: recorded score", i, names[m]);
            cr_assert(s_auto[i] >= s_m[m][i], "query %d: ensemble %d bits below member %s's %d", i, s_auto[i],
                      names[m], s_m[m][i]);
            if (m < w) cr_assert(s_m[m][i] < s_m[w][i], "query %d: an earlier member ties and must be kept", i);
        }
    }
    /* the batch does not matter */
    cr_assert_eq(hl_attack_run(a, f.h, f.ctx, f.x, xb, NQ, &g, 5), HL_OK, "%s", hl_error_last());
    cr_assert_eq(memcmp(xa, xb, sizeof xa), 0, "independent of the batch size");
    hl_attack_free(a);
    teardown(&f);
}

/* A judge that prefers later candidates: called once per member and batch, with the batch's first query position. */
typedef struct judge_log {
    int calls;
    int64_t first[64], n[64];
} judge_log;

static hl_status prefer_later(void *user, int64_t first, const hl_codes *codes, double *s) {
    judge_log *l = user;
    l->first[l->calls] = first, l->n[l->calls] = codes->n;
    for (int64_t i = 0; i < codes->n; i++) s[i] = (double)(l->calls % 3); /* 0, 1, 2 for the three members */
    l->calls++;
    return HL_OK;
}

Test(auto, follows_the_callers_judge) {
    fixture f;
    setup(&f);
    static float xa[NQ * DD], sq[NQ * DD];
    hl_attack_opts o = opts(HL_NORM_LINF, 8, 255);
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create(&a, "auto", NULL, &o), HL_OK, "%s", hl_error_last());
    judge_log log = {0};
    hl_attack_judge j = {.score = prefer_later, .user = &log};
    hl_attack_goal g = {.source = &f.clean, .judge = &j};
    cr_assert_eq(hl_attack_run(a, f.h, f.ctx, f.x, xa, NQ, &g, 5), HL_OK, "%s", hl_error_last());
    cr_assert_eq(log.calls, 9, "3 batches (5, 5, 2) x 3 members");
    for (int c = 0; c < 9; c++) {
        cr_assert_eq(log.first[c], (c / 3) * 5, "call %d", c);
        cr_assert_eq(log.n[c], c / 3 == 2 ? 2 : 5);
    }
    const hl_auto_record *r = hl_auto_record_of(a);
    cr_assert_eq(r->wins[2], NQ, "the judge preferred square everywhere");
    member_alone(&f, "square", sq);
    cr_assert_eq(memcmp(xa, sq, sizeof xa), 0, "and its output is square's");
    hl_attack_free(a);
    teardown(&f);
}

Test(auto, l2_runs_without_square_and_says_so) {
    fixture f;
    setup(&f);
    static float xa[NQ * DD];
    hl_attack_opts o = opts(HL_NORM_L2, 1, 2);
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create(&a, "auto", NULL, &o), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_run(a, f.h, f.ctx, f.x, xa, NQ, &(hl_attack_goal){.source = &f.clean}, 6), HL_OK, "%s",
                 hl_error_last());
    const hl_auto_record *r = hl_auto_record_of(a);
    cr_assert(r->ran[0] && r->ran[1] && !r->ran[2]);
    cr_assert_eq(r->wins[2], 0);
    cr_assert_eq(r->forwards[2], 0);
    for (int i = 0; i < NQ; i++) cr_assert(isnan(r->score[i * 3 + 2]), "query %d: square has no score", i);
    cr_assert_null(hl_auto_record_of(NULL));
    hl_attack_free(a);
    /* targeted needs its target codes, like every targeted attack */
    o = opts(HL_NORM_LINF, 8, 255);
    o.targeted = true;
    cr_assert_eq(hl_attack_create(&a, "auto", NULL, &o), HL_OK, "%s", hl_error_last());
    cr_assert_lt(hl_attack_run(a, f.h, f.ctx, f.x, xa, NQ, &(hl_attack_goal){.source = &f.clean}, 6), 0);
    hl_attack_free(a);
    teardown(&f);
}
