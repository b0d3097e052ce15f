/* tests/core/test_optim_state.c — optimizer state in checkpoints: bit-exact resume of SGD/Adam/AdamW/RMSprop runs,
 * in-memory export/import, and the load errors (kind / hyper-parameter mismatch, missing state, model-only file,
 * truncation), none of which may change the model or the optimizer.
 *
 * Training problem: a tiny model (weight [3,4], bias [4], scalar, one buffer); the gradient is a fixed nonlinear
 * function of the parameters, g = a ⊙ (p − 0.5) + 0.3·sin(3p), so a run is fully determined by its state. The bias is
 * frozen for the first two steps (so tensors have different step counts), the weight has a 0.1× lr group, and the
 * learning rate is changed by a "schedule" before the save (so the current lr must be restored). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/optim.h"
#include "test_common.h"

/* ---- helpers --------------------------------------------------------------------------------------------------- */

typedef struct tm {
    hl_params p;
    hl_tensor *w, *b, *s, *rm;
    hl_optim *o;
} tm;

static void tm_make(tm *m, const hl_optim_config *c, bool with_bias, uint64_t seed) {
    hl_params_init(&m->p);
    m->w = hl_params_add(&m->p, "fc.weight", 2, HL_SHAPE(3, 4));
    m->b = with_bias ? hl_params_add(&m->p, "fc.bias", 1, HL_SHAPE(4)) : NULL;
    m->s = hl_params_add(&m->p, "scale", 0, NULL);
    m->rm = hl_params_add_buffer(&m->p, "bn.running_mean", 1, HL_SHAPE(4), 0.0f);
    cr_assert_eq(hl_params_alloc(&m->p), HL_OK);
    hl_rng r = hl_rng_make(seed, 3);
    for (int i = 0; i < m->p.n_par; i++)
        hl_rng_normal(&r, m->p.par[i].t->data, hl_tensor_numel(m->p.par[i].t), 0.0f, 1.0f);
    hl_rng_uniform(&r, m->rm->data, 4, 0.0f, 1.0f);
    cr_assert_eq(hl_optim_create(&m->o, &m->p, c), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_optim_set_group(m->o, "fc.weight", 0.1f, 2.0f), 1);
}

static void tm_free(tm *m) {
    hl_optim_free(m->o);
    hl_params_free(&m->p);
}

static void tm_step(tm *m) {
    hl_optim_zero_grad(m->o);
    for (int i = 0; i < m->p.n_par; i++) {
        const hl_tensor *t = m->p.par[i].t;
        float *g = m->p.grad + m->p.par[i].offset;
        for (int64_t j = 0; j < hl_tensor_numel(t); j++) {
            float v = t->data[j];
            g[j] = (1.0f + 0.5f * (float)j) * (v - 0.5f) + 0.3f * sinf(3.0f * v);
        }
    }
    m->rm->data[0] += 0.25f; /* a buffer that changes during training */
    hl_optim_step(m->o);
}

/* The phase before the save: N steps with the bias frozen for the first two and an lr change after the third. */
static void tm_warmup(tm *m, int n) {
    if (m->b) hl_params_set_requires_grad_prefix(&m->p, "fc.bias", false);
    for (int s = 0; s < n; s++) {
        if (s == 2 && m->b) hl_params_set_requires_grad_prefix(&m->p, "fc.bias", true);
        if (s == 3) hl_optim_set_lr(m->o, hl_optim_get_lr(m->o) * 0.5f);
        tm_step(m);
    }
    if (m->b) hl_params_set_requires_grad_prefix(&m->p, "fc.bias", true); /* not checkpointed: the model's config */
}

static bool bits_eq(const float *a, const float *b, int64_t n) { return !n || memcmp(a, b, (size_t)n * 4) == 0; }

/* Model values, buffers, moments, step counts and lr all bit-identical. */
static void assert_same_state(const tm *a, const tm *b, const char *what) {
    cr_assert(bits_eq(a->p.data, b->p.data, a->p.slab_len), "%s: parameters differ", what);
    cr_assert(bits_eq(a->p.bufdata, b->p.bufdata, a->p.buf_len), "%s: buffers differ", what);
    for (int k = 1; k <= 2; k++) {
        const float *ma = hl_optim_moment(a->o, k), *mb = hl_optim_moment(b->o, k);
        cr_assert_eq(ma == NULL, mb == NULL);
        if (ma) cr_assert(bits_eq(ma, mb, a->p.slab_len), "%s: moment %d differs", what, k);
    }
    cr_assert_eq(hl_optim_steps(a->o), hl_optim_steps(b->o), "%s", what);
    float la = hl_optim_get_lr(a->o), lb = hl_optim_get_lr(b->o);
    cr_assert(memcmp(&la, &lb, 4) == 0, "%s: lr %.9g vs %.9g", what, (double)la, (double)lb);
}

/* Copies a safetensors file dropping tensor `drop_t` and metadata key `drop_k` (either may be NULL). */
static void copy_without(const char *from, const char *to, const char *drop_t, const char *drop_k) {
    hl_safetensors *sf = NULL;
    cr_assert_eq(hl_safetensors_open(&sf, from), HL_OK, "%s", hl_error_last());
    hl_st_entry *e = calloc((size_t)sf->n + 1, sizeof *e);
    float **bufs = calloc((size_t)sf->n + 1, sizeof *bufs);
    const char **k = calloc((size_t)sf->n_meta + 1, sizeof *k), **v = calloc((size_t)sf->n_meta + 1, sizeof *v);
    int n = 0, nm = 0;
    bool dropped_t = !drop_t, dropped_k = !drop_k;
    for (int i = 0; i < sf->n; i++) {
        if (drop_t && !strcmp(sf->t[i].name, drop_t)) {
            dropped_t = true;
            continue;
        }
        bufs[n] = malloc((size_t)sf->t[i].numel * 4 + 4);
        cr_assert_eq(hl_safetensors_read_f32(sf, &sf->t[i], bufs[n], sf->t[i].numel), HL_OK);
        e[n] = (hl_st_entry){sf->t[i].name, sf->t[i].ndim, sf->t[i].shape, bufs[n]};
        n++;
    }
    for (int i = 0; i < sf->n_meta; i++) {
        if (drop_k && !strcmp(sf->meta_key[i], drop_k)) {
            dropped_k = true;
            continue;
        }
        k[nm] = sf->meta_key[i];
        v[nm++] = sf->meta_val[i];
    }
    cr_assert(dropped_t && dropped_k, "nothing named %s / %s", drop_t ? drop_t : "-", drop_k ? drop_k : "-");
    cr_assert_eq(hl_safetensors_save(to, e, n, k, v, nm), HL_OK, "%s", hl_error_last());
    for (int i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    free(e);
    free(k);
    free(v);
    hl_safetensors_close(sf);
}

static hl_optim_config cfg(hl_optim_kind k, float lr) {
    hl_optim_config c = hl_optim_defaults(k);
    c.lr = lr;
    return c;
}

/* ---- bit-exact resume ------------------------------------------------------------------------------------------ */

/* N steps, save, M more -> A; fresh model + optimizer loaded from the file, M more -> B; A == B bit-exactly. */
static void resume_case(const char *what, hl_optim_config c) {
    char *dir = (char *)hl_test_tmpdir(); /* heap; removed at exit */
    char *path = hl_test_path_alloc(dir, "train.safetensors");
    enum { N = 5, M = 4 };
    tm a, b;
    tm_make(&a, &c, true, 1);
    tm_make(&b, &c, true, 2); /* different values everywhere: all of it must come from the file */
    tm_warmup(&a, N);
    hl_ckpt_meta meta = {0};
    cr_assert_eq(hl_ckpt_meta_set_int(&meta, "epoch", 7), HL_OK);
    cr_assert_eq(hl_ckpt_meta_set(&meta, "optim.kind", "caller keys in the reserved prefix are dropped"), HL_OK);
    cr_assert_eq(hl_checkpoint_save_train(path, &a.p, a.o, &meta), HL_OK, "%s: %s", what, hl_error_last());
    for (int s = 0; s < M; s++) tm_step(&a);

    hl_ckpt_meta got = {0};
    cr_assert_eq(hl_checkpoint_load_train(path, &b.p, b.o, &got), HL_OK, "%s: %s", what, hl_error_last());
    cr_assert_eq(hl_optim_steps(b.o), N, "%s", what);
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "epoch"), "7");
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "optim.kind"), hl_optim_kind_name(c.kind));
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "optim.fc.bias.step"), "3", "frozen for two of five steps");
    cr_assert_str_eq(hl_ckpt_meta_get(&got, "optim.fc.weight.lr_mult"), "0.100000001");
    for (int s = 0; s < M; s++) tm_step(&b);
    assert_same_state(&a, &b, what);

    /* The file is plain safetensors with PyTorch-like state names. */
    hl_safetensors *sf = NULL;
    cr_assert_eq(hl_safetensors_open(&sf, path), HL_OK);
    const char *slot = c.kind == HL_OPTIM_SGD ? "momentum_buffer" : c.kind == HL_OPTIM_RMSPROP ? "square_avg" : "exp_avg";
    char nm[64];
    snprintf(nm, sizeof nm, "optim.fc.weight.%s", slot);
    bool has_tensors = c.kind != HL_OPTIM_SGD || c.momentum != 0.0f;
    cr_assert_eq(hl_safetensors_find(sf, nm) != NULL, has_tensors, "%s: %s", what, nm);
    int want = 4 + (has_tensors ? 3 : 0) * (c.kind == HL_OPTIM_SGD ? 1 : c.kind == HL_OPTIM_RMSPROP ? 1 + (c.momentum > 0) : 2);
    cr_assert_eq(sf->n, want, "%s: %d tensors", what, sf->n);
    hl_safetensors_close(sf);

    /* Plain (model-only) loading of a training checkpoint works and ignores the optimizer tensors. */
    tm e;
    tm_make(&e, &c, true, 3);
    cr_assert_eq(hl_checkpoint_load(path, &e.p, NULL), HL_OK, "%s: %s", what, hl_error_last());
    cr_assert_eq(hl_optim_steps(e.o), 0);
    hl_ckpt_meta_free(&meta);
    hl_ckpt_meta_free(&got);
    tm_free(&a);
    tm_free(&b);
    tm_free(&e);
    free(path);
}

Test(checkpoint_train, sgd_momentum_resumes_bit_exactly) {
    hl_optim_config c = cfg(HL_OPTIM_SGD, 0.05f);
    c.momentum = 0.9f;
    c.dampening = 0.1f;
    c.weight_decay = 1e-3f;
    resume_case("sgd momentum", c);
    c.dampening = 0.0f;
    c.nesterov = true;
    resume_case("sgd nesterov", c);
    resume_case("sgd plain", cfg(HL_OPTIM_SGD, 0.05f));
}

Test(checkpoint_train, adam_resumes_bit_exactly) {
    hl_optim_config c = cfg(HL_OPTIM_ADAM, 0.05f);
    c.weight_decay = 1e-2f;
    resume_case("adam", c);
}

Test(checkpoint_train, adamw_resumes_bit_exactly) { resume_case("adamw", cfg(HL_OPTIM_ADAMW, 0.05f)); }

Test(checkpoint_train, rmsprop_resumes_bit_exactly) {
    hl_optim_config c = cfg(HL_OPTIM_RMSPROP, 0.01f);
    resume_case("rmsprop", c);
    c.momentum = 0.8f;
    c.weight_decay = 1e-3f;
    resume_case("rmsprop momentum", c);
}

/* Control: restoring only the parameters (the old behaviour) does not reproduce an Adam run. */
Test(checkpoint_train, model_only_resume_diverges) {
    char *dir = (char *)hl_test_tmpdir(); /* heap; removed at exit */
    char *path = hl_test_path_alloc(dir, "m.safetensors");
    hl_optim_config c = cfg(HL_OPTIM_ADAM, 0.05f);
    tm a, b;
    tm_make(&a, &c, true, 1);
    tm_make(&b, &c, true, 2);
    tm_warmup(&a, 5);
    cr_assert_eq(hl_checkpoint_save(path, &a.p, NULL), HL_OK);
    tm_step(&a);
    cr_assert_eq(hl_checkpoint_load(path, &b.p, NULL), HL_OK);
    tm_step(&b);
    cr_assert(!bits_eq(a.p.data, b.p.data, a.p.slab_len));
    tm_free(&a);
    tm_free(&b);
    free(path);
}

/* ---- in-memory export / import --------------------------------------------------------------------------------- */

Test(checkpoint_train, in_memory_export_import) {
    hl_optim_config c = cfg(HL_OPTIM_ADAMW, 0.02f);
    tm a, b;
    tm_make(&a, &c, true, 1);
    tm_make(&b, &c, true, 2);
    tm_warmup(&a, 4);
    hl_optim_state s;
    cr_assert_eq(hl_optim_state_export(a.o, &s), HL_OK);
    cr_assert_eq(s.n, 6);
    cr_assert_str_eq(s.t[0].name, "optim.fc.weight.exp_avg");
    cr_assert_str_eq(s.t[1].name, "optim.fc.weight.exp_avg_sq");
    cr_assert(s.t[0].ndim == 2 && s.t[0].shape[0] == 3 && s.t[0].shape[1] == 4 && s.t[0].numel == 12);
    cr_assert(s.t[4].ndim == 0 && s.t[4].numel == 1, "scalar parameter, scalar state");
    memcpy(b.p.data, a.p.data, (size_t)a.p.slab_len * 4);
    memcpy(b.p.bufdata, a.p.bufdata, (size_t)a.p.buf_len * 4);
    cr_assert_eq(hl_optim_state_import(b.o, &s), HL_OK, "%s", hl_error_last());
    hl_optim_state_free(&s);
    tm_step(&a);
    tm_step(&b);
    assert_same_state(&a, &b, "in-memory import");

    /* An SGD optimizer refuses AdamW state, unchanged. */
    hl_optim_config sc = cfg(HL_OPTIM_SGD, 0.1f);
    sc.momentum = 0.9f;
    tm d;
    tm_make(&d, &sc, true, 3);
    cr_assert_eq(hl_optim_state_export(a.o, &s), HL_OK);
    cr_assert_eq(hl_optim_state_import(d.o, &s), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "kind mismatch"), "%s", hl_error_last());
    /* A missing tensor is named. */
    s.n--;
    cr_assert_eq(hl_optim_state_import(b.o, &s), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "missing") && strstr(hl_error_last(), "'optim.scale.exp_avg_sq'"), "%s",
              hl_error_last());
    s.n++;
    hl_optim_state_free(&s);
    tm_free(&a);
    tm_free(&b);
    tm_free(&d);
}

/* ---- errors: nothing changes ----------------------------------------------------------------------------------- */

typedef struct snap {
    float *data, *buf, *m1, *m2, lr;
    int64_t steps;
} snap;

static snap snap_take(const tm *m) {
    snap s = {0};
    size_t n = (size_t)m->p.slab_len * 4;
    s.data = malloc(n);
    memcpy(s.data, m->p.data, n);
    s.buf = malloc((size_t)m->p.buf_len * 4);
    memcpy(s.buf, m->p.bufdata, (size_t)m->p.buf_len * 4);
    const float *m1 = hl_optim_moment(m->o, 1), *m2 = hl_optim_moment(m->o, 2);
    if (m1) memcpy(s.m1 = malloc(n), m1, n);
    if (m2) memcpy(s.m2 = malloc(n), m2, n);
    s.lr = hl_optim_get_lr(m->o);
    s.steps = hl_optim_steps(m->o);
    return s;
}

static void snap_check(snap *s, const tm *m, const char *what) {
    int64_t n = m->p.slab_len;
    cr_assert(bits_eq(s->data, m->p.data, n), "%s: parameters changed by a failed load", what);
    cr_assert(bits_eq(s->buf, m->p.bufdata, m->p.buf_len), "%s: buffers changed by a failed load", what);
    if (s->m1) cr_assert(bits_eq(s->m1, hl_optim_moment(m->o, 1), n), "%s: moment 1 changed", what);
    if (s->m2) cr_assert(bits_eq(s->m2, hl_optim_moment(m->o, 2), n), "%s: moment 2 changed", what);
    cr_assert(s->lr == hl_optim_get_lr(m->o) && s->steps == hl_optim_steps(m->o), "%s: lr/steps changed", what);
}

static void snap_free(snap *s) {
    free(s->data);
    free(s->buf);
    free(s->m1);
    free(s->m2);
}

/* Expects load_train(path) into m to fail with `want` and a message containing `needle`, changing nothing. */
static void expect_fail(const char *path, tm *m, hl_status want, const char *needle, const char *what) {
    snap s = snap_take(m);
    hl_ckpt_meta got = {0};
    hl_status st = hl_checkpoint_load_train(path, &m->p, m->o, &got);
    cr_assert_eq(st, want, "%s: status %d (%s)", what, st, hl_error_last());
    cr_assert(strstr(hl_error_last(), needle), "%s: '%s' not in: %s", what, needle, hl_error_last());
    cr_assert_eq(got.n, 0, "%s: meta_out empty on failure", what);
    snap_check(&s, m, what);
    snap_free(&s);
}

Test(checkpoint_train, mismatches_are_clear_errors_and_change_nothing) {
    char *dir = (char *)hl_test_tmpdir(); /* heap; removed at exit */
    char *path = hl_test_path_alloc(dir, "t.safetensors"), *p2 = hl_test_path_alloc(dir, "edit.safetensors");
    hl_optim_config ac = cfg(HL_OPTIM_ADAM, 0.05f);
    tm a;
    tm_make(&a, &ac, true, 1);
    tm_warmup(&a, 3);
    cr_assert_eq(hl_checkpoint_save_train(path, &a.p, a.o, NULL), HL_OK);

    /* Kind mismatch. */
    hl_optim_config sc = cfg(HL_OPTIM_SGD, 0.05f);
    sc.momentum = 0.9f;
    tm s;
    tm_make(&s, &sc, true, 2);
    tm_warmup(&s, 1);
    expect_fail(path, &s, HL_EMISMATCH, "optimizer kind mismatch: saved adam state, optimizer is sgd", "kind");
    tm w;
    hl_optim_config wc = cfg(HL_OPTIM_ADAMW, 0.05f);
    tm_make(&w, &wc, true, 2);
    expect_fail(path, &w, HL_EMISMATCH, "saved adam state, optimizer is adamw", "adam vs adamw");

    /* Same kind, other hyper-parameters / group multipliers. */
    hl_optim_config bc = ac;
    bc.beta2 = 0.99f;
    tm h;
    tm_make(&h, &bc, true, 2);
    expect_fail(path, &h, HL_EMISMATCH, "beta2: saved 0.999000013, optimizer 0.99", "beta2");
    tm g;
    tm_make(&g, &ac, true, 2);
    hl_optim_set_group(g.o, "fc.weight", 1.0f, 1.0f);
    expect_fail(path, &g, HL_EMISMATCH, "'fc.weight' lr_mult: saved 0.100000001, optimizer 1", "group");

    /* Model without the bias: the file has state for a parameter it lacks. */
    tm nb;
    tm_make(&nb, &ac, false, 2);
    expect_fail(path, &nb, HL_EMISMATCH, "parameter(s) the model does not have: 'fc.bias'", "unknown param");

    /* Missing state tensor / missing step count. */
    tm f;
    tm_make(&f, &ac, true, 2);
    tm_warmup(&f, 2);
    copy_without(path, p2, "optim.fc.bias.exp_avg_sq", NULL);
    expect_fail(p2, &f, HL_EMISMATCH, "missing from the checkpoint: 'optim.fc.bias.exp_avg_sq'", "missing tensor");
    copy_without(path, p2, NULL, "optim.scale.step");
    expect_fail(p2, &f, HL_EMISMATCH, "optimizer state missing for 1 parameter(s): 'scale'", "missing step");
    copy_without(path, p2, NULL, "optim.lr");
    expect_fail(p2, &f, HL_EFORMAT, "'optim.lr'", "missing lr");
    copy_without(path, p2, "fc.weight", NULL);
    expect_fail(p2, &f, HL_EMISMATCH, "'fc.weight'", "missing model tensor");

    /* A model-only checkpoint through the train loader. */
    cr_assert_eq(hl_checkpoint_save(p2, &a.p, NULL), HL_OK);
    expect_fail(p2, &f, HL_EMISMATCH, "holds no optimizer state", "model-only");
    /* ... and the plain loader still rejects unknown non-"optim." tensors in a model-only file. */
    cr_assert_eq(hl_checkpoint_load(p2, &nb.p, NULL), HL_EMISMATCH);

    /* The train loader still works after all that, and the target resumes a's run. */
    cr_assert_eq(hl_checkpoint_load_train(path, &f.p, f.o, NULL), HL_OK, "%s", hl_error_last());
    tm_step(&a);
    tm_step(&f);
    assert_same_state(&a, &f, "after failed loads");
    tm *all[] = {&a, &s, &w, &h, &g, &nb, &f};
    for (size_t i = 0; i < HL_ARRAY_LEN(all); i++) tm_free(all[i]);
    free(path);
    free(p2);
}

Test(checkpoint_train, truncated_file_at_every_length_fails_and_changes_nothing) {
    char *dir = (char *)hl_test_tmpdir(); /* heap; removed at exit */
    char *path = hl_test_path_alloc(dir, "t.safetensors"), *cut = hl_test_path_alloc(dir, "cut.safetensors");
    hl_optim_config c = cfg(HL_OPTIM_RMSPROP, 0.01f);
    c.momentum = 0.5f;
    tm a, b;
    tm_make(&a, &c, true, 1);
    tm_make(&b, &c, true, 2);
    tm_warmup(&a, 3);
    tm_warmup(&b, 1);
    cr_assert_eq(hl_checkpoint_save_train(path, &a.p, a.o, NULL), HL_OK);
    size_t len;
    unsigned char *img = hl_test_read_file(path, &len);
    snap s = snap_take(&b);
    for (size_t n = 0; n < len; n++) {
        hl_test_write_file(cut, img, n);
        hl_ckpt_meta m = {0};
        hl_status st = hl_checkpoint_load_train(cut, &b.p, b.o, &m);
        cr_assert_eq(st, HL_EFORMAT, "truncated to %zu of %zu: status %d (%s)", n, len, st, hl_error_last());
        cr_assert_eq(m.n, 0);
        if (n % 97 == 0 || n + 1 == len) snap_check(&s, &b, "truncated");
    }
    snap_check(&s, &b, "truncated");
    snap_free(&s);
    hl_test_write_file(cut, img, len);
    cr_assert_eq(hl_checkpoint_load_train(cut, &b.p, b.o, NULL), HL_OK);
    tm_step(&a);
    tm_step(&b);
    assert_same_state(&a, &b, "after truncations");
    free(img);
    tm_free(&a);
    tm_free(&b);
    free(path);
    free(cut);
}
