/* tests/hashers/test_resume.c — every deep hasher's fit stops at a stop request after an epoch, saves its state in
 * the workdir, and a fresh instance resumes from it to exactly the model (parameters, batch-norm statistics, learned
 * codes) of an uninterrupted fit; stale states are set aside, a stop between steps keeps the last finished epoch. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/job.h"
#include "hashers/deep.h"
#include "test_hashers.h"

#define N_ALL 72
#define N_FIT 56

typedef struct method_case {
    const char *name;
    const char *kv[12];
} method_case;

/* Small configurations that still exercise each method's cross-epoch state (banks, GANs, stages, A-Net). */
static const method_case CASES[] = {
    {"dpsh", {"epochs", "3", "batch", "16", NULL}},
    {"adsh", {"epochs", "3", "batch", "8", "num_samples", "24", "inner_epochs", "1", NULL}},
    {"ddsh", {"epochs", "3", "batch", "8", "inner", "1", "sample_columns", "16", NULL}},
    {"nmlayer", {"epochs", "6", "batch", "16", "active_every", "1", "lr_schedule", "constant", NULL}},
    {"abml", {"epochs", "3", "batch", "16", NULL}},
    {"ssah", {"epochs", "3", "batch", "16", NULL}},
    {"hashgan", {"epochs", "3", "batch", "16", NULL}},
    {"bthash", {"epochs", "3", "batch", "16", NULL}},
};

/* Stops the fit after `stop_at` finished epochs (the fit's progress report comes right before the state is saved). */
static int64_t stop_at;
static void stop_hook(void *user, const char *phase, int64_t done, int64_t total, const char *detail) {
    (void)user, (void)total, (void)detail;
    if (!strcmp(phase, "fit") && done == stop_at) hl_job_request_stop();
}

static hl_status fit(hl_hasher *h, const hl_dataset *d, const int64_t *idx) {
    unsigned f = h->cls->flags;
    if (f & HL_HASHER_SEMI_SUPERVISED) return hl_hasher_fit_semi(h, d, idx, N_FIT / 2, idx + N_FIT / 2, N_FIT / 2);
    return hl_hasher_fit(h, d, idx, N_FIT, (f & HL_HASHER_SUPERVISED) != 0);
}

/* Parameters, buffers and every code of the whole set (learned codes where the method has them). */
typedef struct snapshot {
    float *par, *buf;
    int64_t npar, nbuf;
    hl_codes codes;
} snapshot;

static snapshot snap(hl_hasher *h, const hl_dataset *d, const int64_t *idx) {
    snapshot s = {.npar = h->params.slab_len, .nbuf = h->params.buf_len};
    s.par = malloc((size_t)(s.npar + 1) * sizeof *s.par);
    s.buf = malloc((size_t)(s.nbuf + 1) * sizeof *s.buf);
    cr_assert(s.par && s.buf);
    memcpy(s.par, h->params.data, (size_t)s.npar * sizeof *s.par);
    if (s.nbuf) memcpy(s.buf, h->params.bufdata, (size_t)s.nbuf * sizeof *s.buf);
    hl_ctx *ctx = hl_test_ctx();
    cr_assert_eq(hl_hasher_encode_database(&s.codes, h, ctx, d, idx, N_ALL, 32), HL_OK, "%s", hl_error_last());
    hl_ctx_free(ctx);
    return s;
}

static void snap_free(snapshot *s) {
    free(s->par), free(s->buf);
    hl_codes_free(&s->codes);
}

static void assert_same(const snapshot *a, const snapshot *b, const char *what) {
    cr_assert_eq(a->npar, b->npar);
    cr_assert_eq(a->nbuf, b->nbuf);
    for (int64_t i = 0; i < a->npar; i++)
        if (memcmp(&a->par[i], &b->par[i], sizeof(float)))
            cr_assert_fail("%s: parameter float %lld differs: %.9g vs %.9g", what, (long long)i, a->par[i], b->par[i]);
    cr_assert(a->nbuf == 0 || !memcmp(a->buf, b->buf, (size_t)a->nbuf * sizeof(float)), "%s: buffers differ", what);
    cr_assert(!memcmp(a->codes.w, b->codes.w, (size_t)(a->codes.n * a->codes.words) * sizeof *a->codes.w),
              "%s: codes differ", what);
}

static char *workdir(const char *method, const char *tag) {
    char name[128];
    snprintf(name, sizeof name, "%s_%s", method, tag);
    char *p = hl_test_path_alloc(hl_test_tmpdir(), name);
    cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
    return p;
}

static void resume_case(const method_case *mc) {
    hl_dataset d;
    int64_t idx[N_ALL];
    for (int i = 0; i < N_ALL; i++) idx[i] = i;
    hl_test_synthetic(&d, N_ALL, 1, 28, 4, 11);
    int64_t E = strtoll(mc->kv[1], NULL, 10);

    /* uninterrupted, in a workdir of its own (the state file is written as it goes) */
    char *wa = workdir(mc->name, "whole");
    hl_hasher *a = hl_test_make_hasher(mc->name, &d, mc->kv, 16, 5);
    a->workdir = wa;
    cr_assert_eq(fit(a, &d, idx), HL_OK, "%s: %s", mc->name, hl_error_last());
    snapshot sa = snap(a, &d, idx);

    /* stopped after epoch 1 (then after epoch E-1 on a second try), resumed by fresh instances */
    char *wb = workdir(mc->name, "stopped");
    char *state = hl_test_path_alloc(wb, HL_DEEP_FIT_STATE);
    int64_t stops[2] = {1, E - 1};
    for (int k = 0; k < 2; k++) {
        hl_hasher *b = hl_test_make_hasher(mc->name, &d, mc->kv, 16, 5);
        b->workdir = wb;
        stop_at = stops[k];
        hl_job_set_progress(stop_hook, NULL);
        hl_status st = fit(b, &d, idx);
        hl_job_set_progress(NULL, NULL);
        hl_job_clear_stop();
        cr_assert_eq(st, HL_EINTR, "%s: stop after epoch %lld: %s (%s)", mc->name, (long long)stops[k],
                     hl_status_name(st), hl_error_last());
        cr_assert(strstr(hl_error_last(), "state saved"), "%s: %s", mc->name, hl_error_last());
        cr_assert_eq(access(state, F_OK), 0, "%s: no %s", mc->name, state);
        hl_hasher_free(b);
    }
    hl_hasher *c = hl_test_make_hasher(mc->name, &d, mc->kv, 16, 5);
    c->workdir = wb;
    cr_assert_eq(fit(c, &d, idx), HL_OK, "%s resumed: %s", mc->name, hl_error_last());
    snapshot sc = snap(c, &d, idx);
    assert_same(&sa, &sc, mc->name);

    /* a state of another configuration is set aside, and the fit starts over (same model as a fresh fit) */
    const char *other_kv[16];
    int j = 0;
    for (; mc->kv[j]; j++) other_kv[j] = mc->kv[j];
    other_kv[j++] = "lr", other_kv[j++] = "0.0005", other_kv[j] = NULL;
    hl_hasher *o = hl_test_make_hasher(mc->name, &d, other_kv, 16, 5);
    char *wo = workdir(mc->name, "other");
    o->workdir = wo;
    cr_assert_eq(fit(o, &d, idx), HL_OK, "%s: %s", mc->name, hl_error_last());
    snapshot so = snap(o, &d, idx);
    hl_hasher *f = hl_test_make_hasher(mc->name, &d, other_kv, 16, 5);
    f->workdir = wb; /* holds the first configuration's state */
    cr_assert_eq(fit(f, &d, idx), HL_OK, "%s: %s", mc->name, hl_error_last());
    snapshot sf = snap(f, &d, idx);
    assert_same(&so, &sf, mc->name);
    char *aside = hl_test_path_alloc(wb, HL_DEEP_FIT_STATE ".stale");
    cr_assert_eq(access(aside, F_OK), 0, "%s: the other configuration's state was not set aside", mc->name);

    snap_free(&sa), snap_free(&sc), snap_free(&so), snap_free(&sf);
    hl_hasher_free(a), hl_hasher_free(c), hl_hasher_free(o), hl_hasher_free(f);
    free(wa), free(wb), free(wo), free(state), free(aside);
    hl_dataset_free(&d);
}

/* Fine-tuning keys (hashers/deep.h): frozen stages and a backbone learning-rate multiplier are optimizer groups set
 * before the resume, so the saved optimizer state imports; SSAH re-enables every gradient in its A-step. */
static const method_case FINETUNE[] = {
    {"dpsh", {"epochs", "3", "batch", "16", "backbone", "resnet-small", "freeze_until", "layer1", "backbone_lr_mult",
              "0.5", NULL}},
    {"ssah", {"epochs", "3", "batch", "16", "backbone", "cnn-medium", "freeze_until", "conv2", NULL}},
};

Test(resume, dpsh) { resume_case(&CASES[0]); }
Test(resume, dpsh_frozen_stages_and_backbone_lr) { resume_case(&FINETUNE[0]); }
Test(resume, ssah_frozen_stages) { resume_case(&FINETUNE[1]); }
Test(resume, adsh) { resume_case(&CASES[1]); }
Test(resume, ddsh) { resume_case(&CASES[2]); }
Test(resume, nmlayer) { resume_case(&CASES[3]); }
Test(resume, abml) { resume_case(&CASES[4]); }
Test(resume, ssah) { resume_case(&CASES[5]); }
Test(resume, hashgan) { resume_case(&CASES[6]); }
Test(resume, bthash) { resume_case(&CASES[7]); }

/* A stop between optimizer steps (not at an epoch's end): HL_EINTR at once, the last finished epoch's state kept. */
static int64_t fit_reports;
static void stop_mid_hook(void *user, const char *phase, int64_t done, int64_t total, const char *detail) {
    (void)user, (void)done, (void)total, (void)detail;
    if (!strcmp(phase, "fit")) fit_reports++;
}

Test(resume, stop_between_steps_keeps_the_last_epoch) {
    hl_dataset d;
    int64_t idx[N_ALL];
    for (int i = 0; i < N_ALL; i++) idx[i] = i;
    hl_test_synthetic(&d, N_ALL, 1, 28, 4, 11);
    const char *kv[] = {"epochs", "2", "batch", "16", NULL};
    char *w = workdir("dpsh", "mid");
    hl_hasher *h = hl_test_make_hasher("dpsh", &d, kv, 16, 5);
    h->workdir = w;
    fit_reports = 0;
    hl_job_set_progress(stop_mid_hook, NULL);
    hl_job_request_stop(); /* pending before the first step: nothing finished, nothing saved */
    hl_status st = hl_hasher_fit(h, &d, idx, N_FIT, true);
    hl_job_set_progress(NULL, NULL);
    hl_job_clear_stop();
    cr_assert_eq(st, HL_EINTR, "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), "during epoch 1/2"), "%s", hl_error_last());
    cr_assert_eq(fit_reports, 0);
    char *state = hl_test_path_alloc(w, HL_DEEP_FIT_STATE);
    cr_assert_neq(access(state, F_OK), 0, "a state was saved without a finished epoch");
    cr_assert(!h->fitted);
    hl_hasher_free(h);
    free(state), free(w);
    hl_dataset_free(&d);
}
