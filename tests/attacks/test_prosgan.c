/* tests/attacks/test_prosgan.c — attacks/prosgan.c.
 *   prosgan_loss: the stage-1 loss and L_ham on hand-worked cases (value and gradient) and against central finite
 *     differences;
 *   prosgan_api: refusal before fit and without target labels, no victim pass in perturb, untargeted options
 *     refused; fits and runs on 32×32×3, 16×16×3 and 12×12×1 images, a side not divisible by 4 refused;
 *   prosgan_e2e: a victim trained here (synthetic 28×28×1, 10 classes, 1,000 training / 500 database / 100 query
 *     images, 16 bits), a fit with the defaults except gan_epochs 3, rec_weight 50: prototype codes retrieve their
 *     targets, the attack raises t-mAP far above its clean floor in the box (norm none), the 8/255 clip holds, the
 *     sample grids are written, save/load reproduces the images bit for bit.
 * Measured (1 thread): victim mAP@all 0.481; t-mAP@all clean floor 0.120, prototype codes 0.529 (top-10 majority
 * 0.65 vs 0.02 for clean queries), adversarial 0.352 (mAP w.r.t. the true labels 0.481 -> 0.209, pert_rmse 0.080),
 * clipped to 8/255 0.176; fit 8.4 s CPU, attack 0.8 ms per image. Whole file ~9 s CPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attacks/attack.h"
#include "attacks/prosgan.h"
#include "core/job.h"
#include "core/nn/layers.h"
#include "core/optim.h"
#include "core/tape.h"
#include "eval/attack_metrics.h"
#include "eval/targets.h"
#include "test_victim.h"

enum { K = 16, CLASSES = 10, S = 28, NTR = 1000, NDB = 500, NQ = 100, NSET = NTR + NDB + NQ };

/* ---- the test-local victim ("tiny", as in test_pgd.c): x [B,1,28,28] → conv3×3 s2 (1→8) → relu → conv3×3 s2
 * (8→16) → relu → flatten (784) → linear → K outputs, trained (Adam 3e-3, 800 steps of 32) to regress tanh(u) onto
 * one random ±1 code per class (a hash-centre objective). DPSH from scratch (hashers/dpsh.c, cnn-small) was tried
 * first: on this synthetic set a few epochs collapse to chance mAP, so the test uses this smooth, reliable victim. */


typedef struct world {
    hl_dataset set;
    hl_hasher *h;
    hl_ctx *ctx;
    int64_t tr[NTR], db_idx[NDB], q_idx[NQ];
    hl_codes db, clean;
    hl_labels dbl, ql, tl;
} world;

static void world_make(world *w) {
    memset(w, 0, sizeof *w);
    hl_test_synthetic(&w->set, NSET, 1, S, CLASSES, 7);
    for (int i = 0; i < NTR; i++) w->tr[i] = i;
    for (int i = 0; i < NDB; i++) w->db_idx[i] = NTR + i;
    for (int i = 0; i < NQ; i++) w->q_idx[i] = NTR + NDB + i;
    hl_dataset_info info = hl_dataset_info_of(&w->set);
    cr_assert((w->h = hl_test_victim(&info, K, 11, 800)) != NULL);
    double t0 = hl_time_s();
    cr_assert_eq(hl_hasher_fit(w->h, &w->set, w->tr, NTR, true), HL_OK, "%s", hl_error_last());
    fprintf(stderr, "prosgan test: victim trained in %.1f s\n", hl_time_s() - t0);
    w->ctx = hl_test_ctx();
    cr_assert_eq(hl_hasher_encode(&w->db, w->h, w->ctx, &w->set, w->db_idx, NDB, 64), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode(&w->clean, w->h, w->ctx, &w->set, w->q_idx, NQ, 64), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labels_subset(&w->dbl, &w->set.labels, w->db_idx, NDB), HL_OK);
    cr_assert_eq(hl_labels_subset(&w->ql, &w->set.labels, w->q_idx, NQ), HL_OK);
    cr_assert_eq(hl_targets_draw(&w->tl, &w->ql, &w->dbl, 5), HL_OK, "%s", hl_error_last());
}

static void world_free(world *w) {
    hl_codes_free(&w->db), hl_codes_free(&w->clean);
    hl_labels_free(&w->dbl), hl_labels_free(&w->ql), hl_labels_free(&w->tl);
    hl_hasher_free(w->h);
    hl_ctx_free(w->ctx);
    hl_dataset_free(&w->set);
}

static double map_with(world *w, const hl_codes *q, const hl_labels *ql) {
    hl_retrieval_opts ro;
    hl_retrieval_defaults(&ro);
    hl_retrieval_result res;
    cr_assert_eq(hl_retrieval_eval(q, ql, &w->db, &w->dbl, &ro, &res, NULL), HL_OK, "%s", hl_error_last());
    return res.map;
}

static hl_attack *make_attack(const char *const *kv, hl_norm norm) {
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.targeted = true;
    o.threat = hl_threat_make(norm, 8, 255);
    hl_config *c = kv ? hl_test_params(kv) : NULL;
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create(&a, "prosgan", c, &o), HL_OK, "%s", hl_error_last());
    hl_config_free(c);
    return a;
}

/* ---- loss pieces ---- */

/* Hand case, B = N = K = L = 2:  h_p = [[0.5, −0.5], [0.2, 0.4]], b_1 = (1, 1), b_2 = (1, −1), S = I,
 * ŷ = [[0.8, 0.1], [0.3, 0.6]], y = I.
 *   θ = ½ h_p bᵀ = [[0, 0.5], [0.3, −0.1]];  softplus: 0.6931472, 0.9740770, 0.8543552, 0.6443967
 *   likelihood = (0.6931472 + 0.9740770 + 0.8543552 + (0.6443967 + 0.1)) / 4 = 0.8164940
 *   MSE(ŷ, y) = (0.04 + 0.01 + 0.09 + 0.16) / 4 = 0.075
 *   quantisation = ((0.5² + 0.5²) + (0.8² + 0.6²)) / (10⁴·2) = 0.000075        L = 0.8915690
 * dL/dh_ik = Σ_j (σ(θ_ij) − S_ij)·½b_jk/4 − 2(sign(h_ik) − h_ik)/(2·10⁴):
 *   row 1: σ(0) − 1 = −0.5, σ(0.5) = 0.6224593:  ((−0.5 + 0.6224593)/8, (−0.5 − 0.6224593)/8) − (0.5, −0.5)·10⁻⁴
 *          = (0.0152574, −0.1402574);  row 2: σ(0.3) = 0.5744425, σ(−0.1) − 1 = −0.5249792:
 *          ((0.5744425 − 0.5249792)/8, (0.5744425 + 0.5249792)/8) − (0.8, 0.6)·10⁻⁴ = (0.0061029, 0.1373677)
 * dL/dŷ = 2(ŷ − y)/4 = (−0.1, 0.05, 0.15, −0.2). */
Test(prosgan_loss, proto_loss_hand_case) {
    hl_ctx *ctx = hl_test_ctx();
    const float hpv[4] = {0.5f, -0.5f, 0.2f, 0.4f}, yhv[4] = {0.8f, 0.1f, 0.3f, 0.6f}, y[4] = {1, 0, 0, 1};
    const float codes[4] = {1, 1, 1, -1}, sim[4] = {1, 0, 0, 1};
    hl_tensor *hp = hl_test_tensor_of(2, HL_SHAPE(2, 2), hpv), *yh = hl_test_tensor_of(2, HL_SHAPE(2, 2), yhv);
    hl_tensor_set_requires_grad(hp, true), hl_tensor_set_requires_grad(yh, true);
    hl_tensor *L = hl_prosgan_proto_loss(ctx, hp, yh, y, codes, sim, 2);
    cr_assert_float_eq(L->data[0], 0.8915690, 1e-6, "L %.7f", (double)L->data[0]);
    hl_backward(ctx, L);
    const float ghp[4] = {0.0152574f, -0.1402574f, 0.0061029f, 0.1373677f}, gyh[4] = {-0.1f, 0.05f, 0.15f, -0.2f};
    hl_test_assert_close(hp->grad, ghp, 4, 1e-6f, 1e-5f, "dL/dh_p");
    hl_test_assert_close(yh->grad, gyh, 4, 1e-6f, 1e-5f, "dL/dyhat");
    hl_tensor_free(hp), hl_tensor_free(yh);
    hl_ctx_free(ctx);
}

/* L_ham = 1 − mean(tanh(f)·t), f = [[0.5, −1], [2, 0]], t = [[1, 1], [−1, 1]]:
 *   1 − (0.4621172 − 0.7615942 − 0.9640276 + 0)/4 = 1.3158761;  dL/df = −t(1 − tanh²f)/4
 *   = (−0.1966119, −0.1049936, 0.0176627, −0.25). */
Test(prosgan_loss, ham_loss_hand_case) {
    hl_ctx *ctx = hl_test_ctx();
    const float fv[4] = {0.5f, -1, 2, 0}, t[4] = {1, 1, -1, 1};
    hl_tensor *f = hl_test_tensor_of(2, HL_SHAPE(2, 2), fv);
    hl_tensor_set_requires_grad(f, true);
    hl_tensor *L = hl_prosgan_ham_loss(ctx, f, t);
    cr_assert_float_eq(L->data[0], 1.3158761, 1e-6, "L %.7f", (double)L->data[0]);
    hl_backward(ctx, L);
    const float g[4] = {-0.1966119f, -0.1049936f, 0.0176627f, -0.25f};
    hl_test_assert_close(f->grad, g, 4, 1e-6f, 1e-5f, "dL_ham/df");
    hl_tensor_free(f);
    hl_ctx_free(ctx);
}

enum { FB = 3, FN = 7, FK = 5, FL = 4 };
typedef struct fd_case {
    float y[FB * FL], codes[FN * FK], sim[FB * FN], t[FB * FK];
} fd_case;

static hl_tensor *proto_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    fd_case *c = user;
    return hl_prosgan_proto_loss(ctx, in[0], in[1], c->y, c->codes, c->sim, FN);
}

static hl_tensor *ham_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    return hl_prosgan_ham_loss(ctx, in[0], ((fd_case *)user)->t);
}

/* Central differences (hl_test_gradcheck) on a random case: B = 3, N = 7, K = 5, L = 4, multi-label S. */
Test(prosgan_loss, gradients_match_finite_differences) {
    fd_case c;
    hl_rng r = hl_rng_make(9, 1);
    for (int i = 0; i < FB * FL; i++) c.y[i] = (float)(hl_rng_u32(&r) & 1);
    for (int i = 0; i < FN * FK; i++) c.codes[i] = hl_rng_u32(&r) & 1 ? 1.0f : -1.0f;
    for (int i = 0; i < FB * FN; i++) c.sim[i] = (float)(hl_rng_u32(&r) & 1);
    for (int i = 0; i < FB * FK; i++) c.t[i] = hl_rng_u32(&r) & 1 ? 1.0f : -1.0f;
    hl_tensor *hp = hl_test_tensor(2, HL_SHAPE(FB, FK), 3, -0.95f, 0.95f);
    hl_tensor *yh = hl_test_tensor(2, HL_SHAPE(FB, FL), 4, 0.05f, 0.95f);
    for (int i = 0; i < FB * FK; i++) /* away from sign's jump at 0 */
        if (fabsf(hp->data[i]) < 0.05f) hp->data[i] = 0.3f;
    hl_gradcheck_opts go = {.eps = 1e-3f, .atol = 1e-4f, .rtol = 1e-2f};
    hl_test_gradcheck("proto loss", proto_fn, 2, (hl_tensor *[]){hp, yh}, &c, go);
    hl_tensor *f = hl_test_tensor(2, HL_SHAPE(FB, FK), 5, -2.0f, 2.0f);
    hl_test_gradcheck("ham loss", ham_fn, 1, (hl_tensor *[]){f}, &c, go);
    hl_tensor_free(hp), hl_tensor_free(yh), hl_tensor_free(f);
}

/* ---- API ---- */

Test(prosgan_api, refuses_to_run_before_fit_and_without_targets) {
    world w;
    memset(&w, 0, sizeof w);
    hl_test_synthetic(&w.set, 40, 1, S, CLASSES, 7);
    hl_dataset_info info = hl_dataset_info_of(&w.set);
    cr_assert((w.h = hl_test_victim(&info, K, 11, 800)) != NULL);
    w.ctx = hl_test_ctx();
    hl_attack *a = make_attack(NULL, HL_NORM_NONE);
    float x[4 * S * S], xa[4 * S * S];
    int64_t q[4] = {0, 1, 2, 3};
    hl_dataset_read(&w.set, q, 4, x);
    hl_labels tl;
    cr_assert_eq(hl_labels_subset(&tl, &w.set.labels, q, 4), HL_OK);
    hl_attack_goal g = {.target_labels = &tl};
    cr_assert_eq(hl_attack_run(a, w.h, w.ctx, x, xa, 4, &g, 4), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "fitted"), "%s", hl_error_last());
    hl_codes pc;
    cr_assert_eq(hl_prosgan_prototype_codes(a, w.ctx, &tl, &pc), HL_EINVAL);
    /* loading a saved fit needs the networks declared first (hl_prosgan_prepare) */
    cr_assert_eq(hl_prosgan_prepare(a, w.h, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_prosgan_prepare(a, w.h, 2), HL_OK, "same shape again: %s", hl_error_last());
    hl_hasher *h8 = NULL;
    cr_assert((h8 = hl_test_victim(&info, 8, 11, 800)) != NULL);
    cr_assert_eq(hl_prosgan_prepare(a, h8, 1), HL_EMISMATCH, "another bit length must be refused");
    hl_hasher_free(h8);
    a->fitted = true; /* as after a load: untrained networks, but runnable */
    g.target_labels = NULL;
    cr_assert_lt(hl_attack_run(a, w.h, w.ctx, x, xa, 4, &g, 4), 0);
    cr_assert(strstr(hl_error_last(), "target_labels"), "%s", hl_error_last());
    g.target_labels = &tl;
    cr_assert_eq(hl_attack_run(a, w.h, w.ctx, x, xa, 4, &g, 4), HL_OK, "%s", hl_error_last());
    cr_assert_eq(a->forwards, 0);
    cr_assert_eq(a->backwards, 0);
    /* untargeted options are refused at create */
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    hl_attack *b = NULL;
    cr_assert_eq(hl_attack_create(&b, "prosgan", NULL, &o), HL_EINVAL);
    hl_labels_free(&tl);
    hl_attack_free(a);
    world_free(&w);
}

/* 48 synthetic images [c, hw, hw] of 4 classes, a fixed victim, 32 training images (tr) and 16 database images (q)
 * with their codes and labels. */
typedef struct small_world {
    hl_dataset set;
    hl_hasher *h;
    hl_ctx *ctx;
    int64_t tr[32], q[16];
    hl_codes db;
    hl_labels dbl;
} small_world;

static void small_world_make(small_world *w, int c, int hw) {
    hl_test_synthetic(&w->set, 48, c, hw, 4, 2);
    hl_dataset_info info = hl_dataset_info_of(&w->set);
    cr_assert((w->h = hl_test_victim(&info, 8, 1, 800)) != NULL);
    w->ctx = hl_test_ctx();
    for (int i = 0; i < 32; i++) w->tr[i] = i;
    for (int i = 0; i < 16; i++) w->q[i] = 32 + i;
    cr_assert_eq(hl_hasher_encode(&w->db, w->h, w->ctx, &w->set, w->q, 16, 16), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_labels_subset(&w->dbl, &w->set.labels, w->q, 16), HL_OK);
}

static void small_world_free(small_world *w) {
    hl_codes_free(&w->db), hl_labels_free(&w->dbl);
    hl_ctx_free(w->ctx);
    hl_hasher_free(w->h);
    hl_dataset_free(&w->set);
}

/* Other image shapes (H = W divisible by 4, 1 or 3 channels): a two-step fit on an untrained victim runs every
 * network (D included) and the attack keeps the box; a non-multiple of 4 is refused. */
Test(prosgan_api, fits_and_runs_on_other_image_shapes) {
    const int shapes[3][2] = {{3, 32}, {3, 16}, {1, 12}};
    for (int s = 0; s < 3; s++) {
        int c = shapes[s][0], hw = shapes[s][1];
        small_world w;
        small_world_make(&w, c, hw);
        hl_dataset set = w.set;
        hl_hasher *h = w.h;
        hl_ctx *ctx = w.ctx;
        int64_t *tr = w.tr, *q = w.q;
        hl_codes db = w.db;
        hl_labels dbl = w.dbl;
        const char *kv[] = {"proto_steps", "2", "gan_epochs", "1", "batch", "8", "width", "8", "d_width", "4", NULL};
        hl_attack *a = make_attack(kv, HL_NORM_NONE);
        hl_attack_fit_data fd = {.train = &set, .idx = tr, .n = 32, .db_codes = &db, .db_labels = &dbl, .seed = 1};
        cr_assert_eq(hl_attack_fit(a, h, ctx, &fd), HL_OK, "%dx%dx%d: %s", c, hw, hw, hl_error_last());
        cr_assert_eq(a->forwards, 32 + 32);
        int64_t d = (int64_t)c * hw * hw;
        float *x = malloc((size_t)(16 * d) * sizeof *x), *xa = malloc((size_t)(16 * d) * sizeof *xa);
        hl_dataset_read(&set, q, 16, x);
        hl_attack_goal g = {.target_labels = &dbl};
        cr_assert_eq(hl_attack_run(a, h, ctx, x, xa, 16, &g, 5), HL_OK, "%s", hl_error_last());
        for (int64_t i = 0; i < 16 * d; i++) cr_assert(xa[i] >= 0.0f && xa[i] <= 1.0f && isfinite(xa[i]));
        free(x), free(xa);
        hl_attack_free(a);
        small_world_free(&w);
    }
    hl_dataset set;
    hl_test_synthetic(&set, 4, 1, 10, 2, 2);
    hl_dataset_info info = hl_dataset_info_of(&set);
    hl_hasher *h = NULL;
    cr_assert((h = hl_test_victim(&info, 8, 1, 800)) != NULL);
    hl_attack *a = make_attack(NULL, HL_NORM_NONE);
    cr_assert_eq(hl_prosgan_prepare(a, h, 0), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "divisible by 4"), "%s", hl_error_last());
    hl_attack_free(a);
    hl_hasher_free(h);
    hl_dataset_free(&set);
}

/* ---- end to end ---- */

/* Victim trained here (clean mAP@all 0.48, 10 classes); fit on its 1,000 training images with the defaults except
 * gan_epochs 3 (93 G steps) and rec_weight 50 (pinned; the default 10 gives t-mAP 0.397 at pert_rmse 0.145 here);
 * the numbers are in the file's header. */
Test(prosgan_e2e, fit_attack_save_load_and_threat_models, .timeout = 300) {
    world w;
    world_make(&w);
    double clean_map = map_with(&w, &w.clean, &w.ql), floor_tmap = map_with(&w, &w.clean, &w.tl);
    const char *kv[] = {"gan_epochs", "3", "rec_weight", "50", NULL};
    hl_attack *a = make_attack(kv, HL_NORM_NONE);
    const char *dir = hl_test_tmpdir();
    hl_attack_fit_data fd = {.train = &w.set, .idx = w.tr, .n = NTR, .db_codes = &w.db, .db_labels = &w.dbl,
                             .seed = 3, .workdir = dir};
    double t0 = hl_time_s(), c0 = (double)clock() / CLOCKS_PER_SEC;
    cr_assert_eq(hl_attack_fit(a, w.h, w.ctx, &fd), HL_OK, "%s", hl_error_last());
    double fit_s = hl_time_s() - t0, fit_cpu = (double)clock() / CLOCKS_PER_SEC - c0;
    /* victim passes: n clean forwards for the training codes + 31 G steps × 32 images × 3 epochs */
    cr_assert_eq(a->forwards, NTR + 3 * (NTR / 32) * 32);
    cr_assert_eq(a->backwards, 3 * (NTR / 32) * 32);
    cr_assert(access(hl_test_path(dir, "prosgan_epoch003.png"), F_OK) == 0, "no sample grid for epoch 3");

    /* stage 1: prototype codes of the target labels retrieve the target class */
    hl_codes proto;
    cr_assert_eq(hl_prosgan_prototype_codes(a, w.ctx, &w.tl, &proto), HL_OK, "%s", hl_error_last());
    double ptmap = map_with(&w, &proto, &w.tl), pmaj = 0;
    double cmaj = 0, fmaj = 0; /* top-10 majority of the clean codes w.r.t. their true labels / the targets */
    cr_assert_eq(hl_attack_tsr_majority(&proto, &w.tl, &w.db, &w.dbl, 10, &pmaj), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_tsr_majority(&w.clean, &w.ql, &w.db, &w.dbl, 10, &cmaj), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_tsr_majority(&w.clean, &w.tl, &w.db, &w.dbl, 10, &fmaj), HL_OK, "%s", hl_error_last());

    /* stage 2: the attack, norm none (box only) */
    float *x = malloc(NQ * S * S * sizeof *x), *xa = malloc(NQ * S * S * sizeof *xa);
    float *xb = malloc(NQ * S * S * sizeof *xb), *xc = malloc(NQ * S * S * sizeof *xc);
    hl_dataset_read(&w.set, w.q_idx, NQ, x);
    hl_attack_goal g = {.target_labels = &w.tl};
    int64_t fw = a->forwards;
    double r0 = (double)clock() / CLOCKS_PER_SEC;
    cr_assert_eq(hl_attack_run(a, w.h, w.ctx, x, xa, NQ, &g, 32), HL_OK, "%s", hl_error_last());
    double run_ms = 1e3 * ((double)clock() / CLOCKS_PER_SEC - r0) / NQ;
    cr_assert_eq(a->forwards, fw, "perturb must not call the victim");
    float lo = 1, hi = 0;
    for (int i = 0; i < NQ * S * S; i++) lo = fminf(lo, xa[i]), hi = fmaxf(hi, xa[i]);
    cr_assert(lo >= 0.0f && hi <= 1.0f, "box [%g, %g]", (double)lo, (double)hi);
    hl_codes adv, advl;
    cr_assert_eq(hl_hasher_encode_images(&adv, w.h, w.ctx, xa, NQ, 64), HL_OK, "%s", hl_error_last());
    double tmap = map_with(&w, &adv, &w.tl), amap = map_with(&w, &adv, &w.ql);
    hl_percept pc;
    cr_assert_eq(hl_attack_percept_batch(x, xa, NQ, 1, S, S, &pc, NULL), HL_OK);

    /* save, load into a fresh attack (the driver prepares its networks for the victim first): the same images, bit
     * for bit at the same batch size; another batch size changes only GEMM rounding (every op is per image) */
    const char *path = hl_test_path(dir, "prosgan.safetensors");
    cr_assert_eq(hl_attack_save(a, path), HL_OK, "%s", hl_error_last());
    hl_attack *b = make_attack(kv, HL_NORM_NONE);
    cr_assert_eq(hl_attack_load(b, w.h, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_run(b, w.h, w.ctx, x, xb, NQ, &g, 32), HL_OK, "%s", hl_error_last());
    cr_assert(memcmp(xa, xb, NQ * S * S * sizeof *xa) == 0, "loaded attack differs");
    cr_assert_eq(hl_attack_run(b, w.h, w.ctx, x, xb, NQ, &g, 7), HL_OK, "%s", hl_error_last());
    hl_test_assert_close(xb, xa, NQ * S * S, 1e-5f, 0.0f, "batch 7 vs 32 (GEMM rounding only)");

    /* the optional L∞ clip (eps 8/255): same fit, the driver checks the ball; we check it too */
    hl_attack *c = make_attack(kv, HL_NORM_LINF);
    cr_assert_eq(hl_attack_load(c, w.h, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_run(c, w.h, w.ctx, x, xc, NQ, &g, 32), HL_OK, "%s", hl_error_last());
    float linf = 0;
    for (int i = 0; i < NQ * S * S; i++) {
        linf = fmaxf(linf, fabsf(xc[i] - x[i]));
        cr_assert(xc[i] >= 0.0f && xc[i] <= 1.0f);
    }
    cr_assert_leq(linf, 8.0f / 255.0f + 1e-6f, "linf %g", (double)linf);
    cr_assert_eq(hl_hasher_encode_images(&advl, w.h, w.ctx, xc, NQ, 64), HL_OK, "%s", hl_error_last());
    double tmapl = map_with(&w, &advl, &w.tl);

    fprintf(stderr,
            "prosgan e2e: victim mAP %.4f (top-10 majority %.2f); t-mAP@all clean floor %.4f (top-10 majority %.2f), "
            "prototype %.4f (top-10 majority %.2f), "
            "adversarial %.4f (mAP w.r.t. true labels %.4f, pert_rmse %.4f, linf %.0f/255), clipped to 8/255 %.4f; "
            "fit %.1f s wall, %.1f s CPU; attack %.2f ms CPU per image\n",
            clean_map, cmaj, floor_tmap, fmaj, ptmap, pmaj, tmap, amap, pc.pert_rmse, pc.linf_255, tmapl, fit_s,
            fit_cpu, run_ms);
    cr_assert_gt(ptmap, floor_tmap + 0.2, "prototype t-mAP %.4f vs floor %.4f", ptmap, floor_tmap);
    cr_assert_gt(pmaj, fmaj + 0.25, "prototype top-10 majority %.2f vs clean floor %.2f", pmaj, fmaj);
    cr_assert_gt(tmap, floor_tmap + 0.12, "adversarial t-mAP %.4f vs floor %.4f", tmap, floor_tmap);
    cr_assert_lt(amap, clean_map - 0.1, "mAP w.r.t. true labels %.4f vs clean %.4f", amap, clean_map);
    cr_assert_lt(pc.pert_rmse, 0.15, "pert_rmse %.4f", pc.pert_rmse);
    hl_codes_free(&proto), hl_codes_free(&adv), hl_codes_free(&advl);
    free(x), free(xa), free(xb), free(xc);
    hl_attack_free(a), hl_attack_free(b), hl_attack_free(c);
    world_free(&w);
}

/* ---- resumable fit ---- */

static int64_t pg_stop_at;
static void pg_stop_hook(void *user, const char *phase, int64_t done, int64_t total, const char *detail) {
    (void)user, (void)total, (void)detail;
    if (!strcmp(phase, "fit") && done == pg_stop_at) hl_job_request_stop();
}

/* Stage 2 stopped after its first epoch and resumed by a fresh attack gives the generator of an uninterrupted fit,
 * bit for bit. */
Test(prosgan_api, interrupted_fit_resumes_to_the_same_generator) {
    small_world w;
    small_world_make(&w, 1, 12);
    hl_hasher *h = w.h;
    hl_ctx *ctx = w.ctx;
    const char *kv[] = {"proto_steps", "2", "gan_epochs", "3", "batch", "8", "width", "8", "d_width", "4", NULL};
    const char *dir = hl_test_tmpdir();
    hl_attack_fit_data fd = {.train = &w.set, .idx = w.tr, .n = 32, .db_codes = &w.db, .db_labels = &w.dbl,
                             .seed = 1, .workdir = dir, .state_file = "whole.fit_state"};
    hl_attack *a = make_attack(kv, HL_NORM_NONE);
    cr_assert_eq(hl_attack_fit(a, h, ctx, &fd), HL_OK, "%s", hl_error_last());
    fd.state_file = "stopped.fit_state";
    hl_attack *b = make_attack(kv, HL_NORM_NONE);
    pg_stop_at = 1;
    hl_job_set_progress(pg_stop_hook, NULL);
    hl_status st = hl_attack_fit(b, h, ctx, &fd);
    hl_job_set_progress(NULL, NULL);
    hl_job_clear_stop();
    cr_assert_eq(st, HL_EINTR, "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), "epoch 1/3"), "%s", hl_error_last());
    hl_attack *c = make_attack(kv, HL_NORM_NONE);
    cr_assert_eq(hl_attack_fit(c, h, ctx, &fd), HL_OK, "%s", hl_error_last());
    const hl_params *pa = &a->params, *pc = &c->params;
    cr_assert_eq(pa->slab_len, pc->slab_len);
    cr_assert(!memcmp(pa->data, pc->data, (size_t)pa->slab_len * sizeof(float)), "resumed generator differs");
    hl_attack_free(a), hl_attack_free(b), hl_attack_free(c);
    small_world_free(&w);
}
