/* tests/attacks/test_square.c — the gradient-free `square` attack: its window schedule by hand; it moves a victim that
 * has no input gradient (where PGD cannot), untargeted and targeted; it flips bits of the trained tiny CNN victim; its
 * result does not depend on the batch; L2 is refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "attacks/square.h"
#include "test_victim.h"
#include "tests/plugins/sign_pattern.h"

/* ---- a victim without input gradient: pixels binarised at 0.5 on the host, then a fixed ±1 projection ---- */

typedef struct binv {
    hl_hasher base;
    hl_tensor *W, *b;
} binv;

static hl_status binv_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                           uint64_t seed) {
    (void)cfg, (void)seed;
    binv *m = (binv *)self;
    return sign_pattern_init(&self->params, bits, (int64_t)info->c * info->h * info->w, 1.0f, &m->W, &m->b);
}

static hl_tensor *binv_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    binv *m = (binv *)self;
    hl_tensor *xb = hl_tensor_new(ctx, x->ndim, x->shape);
    for (int64_t i = 0; i < hl_tensor_numel(x); i++) xb->data[i] = x->data[i] >= 0.5f ? 1.0f : 0.0f;
    return hl_linear(ctx, hl_flatten(ctx, xb), m->W, m->b);
}

static const hl_hasher_class binv_class = {
    .abi = HL_HASHER_ABI, .name = "binv", .summary = "binarising test victim", .size = sizeof(binv),
    .flags = HL_HASHER_DIFFERENTIABLE, .init = binv_init, .forward = binv_forward,
};

enum { N = 24, K = 12, C = 1, S = 8, D = C * S * S };

static hl_attack *make(const char *name, int steps, bool targeted, uint64_t seed) {
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.threat = hl_threat_make(HL_NORM_LINF, 16, 255);
    o.step = (hl_fraction){4, 255, 4.0 / 255};
    o.steps = steps, o.targeted = targeted, o.seed = seed;
    hl_attack *a = NULL;
    cr_assert_eq(hl_attack_create(&a, name, NULL, &o), HL_OK, "%s", hl_error_last());
    return a;
}

static double mean_hamming(const hl_codes *a, const hl_codes *b) {
    double s = 0;
    for (int64_t i = 0; i < a->n; i++) s += hl_hamming(hl_codes_row(a, i), hl_codes_row(b, i), a->words);
    return s / (double)a->n;
}

Test(square, schedule_by_hand) {
    cr_assert_float_eq(hl_square_p(0.05f, 0, 10000), 0.05f, 1e-9);
    cr_assert_float_eq(hl_square_p(0.05f, 10, 10000), 0.05f, 1e-9);   /* "it > 10" halves */
    cr_assert_float_eq(hl_square_p(0.05f, 11, 10000), 0.025f, 1e-9);
    cr_assert_float_eq(hl_square_p(0.05f, 501, 10000), 0.05f / 16, 1e-9);
    cr_assert_float_eq(hl_square_p(0.05f, 9999, 10000), 0.05f / 512, 1e-12);
    cr_assert_float_eq(hl_square_p(0.8f, 5, 100), 0.1f, 1e-7); /* scaled: 5 of 100 = 500 of 10,000: 3 halvings */
    cr_assert_eq(hl_square_side(0.05f, 16, 16), 4);    /* round(sqrt(12.8)) */
    cr_assert_eq(hl_square_side(1e-6f, 16, 16), 1);
    cr_assert_eq(hl_square_side(1.0f, 16, 16), 15);    /* at most h - 1 */
}

/* PGD cannot move a victim without input gradient (every step's gradient is zero); square can, and it aims too. */
Test(square, moves_a_victim_without_gradient) {
    hl_dataset_info info = {.c = C, .h = S, .w = S, .nlabels = 2};
    hl_hasher *v = NULL;
    cr_assert_eq(hl_hasher_create_class(&v, &binv_class, NULL, &info, K, 0), HL_OK, "%s", hl_error_last());
    static float x[N * D], xa[N * D];
    hl_rng r = hl_rng_make(3, 1);
    hl_rng_uniform(&r, x, N * D, 0.0f, 1.0f);
    hl_ctx *ctx = hl_test_ctx();
    hl_codes clean, adv, target;
    cr_assert_eq(hl_hasher_encode_images(&clean, v, ctx, x, N, 0), HL_OK);
    hl_attack *pgd = make("pgd", 10, false, 1);
    cr_assert_eq(hl_attack_run(pgd, v, ctx, x, xa, N, NULL, 8), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode_images(&adv, v, ctx, xa, N, 0), HL_OK);
    cr_assert(pgd->zero_grads == pgd->backwards && mean_hamming(&clean, &adv) == 0.0, "PGD moved it?");
    hl_codes_free(&adv);
    hl_attack *sq = make("square", 100, false, 1);
    cr_assert_eq(hl_attack_run(sq, v, ctx, x, xa, N, NULL, 8), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode_images(&adv, v, ctx, xa, N, 0), HL_OK);
    double flipped = mean_hamming(&clean, &adv);
    cr_log_info("square, untargeted, 100 proposals at 16/255: %.2f of %d bits flipped", flipped, K);
    cr_assert(flipped >= 1.0, "square flipped %g bits", flipped);
    cr_assert_eq(sq->forwards, (int64_t)N * (100 + 2), "clean codes, the start, then one forward per proposal");
    hl_codes_free(&adv);
    /* targeted: the code of the next image as the target */
    cr_assert_eq(hl_codes_create(&target, N, K), HL_OK);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) hl_codes_set_bit(&target, i, k, hl_codes_bit(&clean, (i + 1) % N, k));
    hl_attack *sqt = make("square", 200, true, 1);
    cr_assert_eq(hl_attack_run(sqt, v, ctx, x, xa, N, &(hl_attack_goal){.target = &target}, 8), HL_OK, "%s",
                 hl_error_last());
    cr_assert_eq(hl_hasher_encode_images(&adv, v, ctx, xa, N, 0), HL_OK);
    double before = mean_hamming(&clean, &target), after = mean_hamming(&adv, &target);
    cr_log_info("square, targeted, 200 proposals: d_H to the target %.2f -> %.2f", before, after);
    cr_assert(after < before - 1.0, "d_H to the target %g -> %g", before, after);
    hl_codes_free(&adv), hl_codes_free(&clean), hl_codes_free(&target);
    hl_attack_free(pgd), hl_attack_free(sq), hl_attack_free(sqt);
    hl_ctx_free(ctx);
    hl_hasher_free(v);
}

/* On the attack tests' trained CNN victim it flips bits as well, with the same result whatever the batch. */
Test(square, flips_bits_of_a_trained_cnn_and_ignores_the_batch) {
    enum { NT = 200, NQ = 16, CC = 3, SS = 16, DD = CC * SS * SS };
    hl_dataset set;
    hl_synth_opts so = {.n = NT + NQ, .c = CC, .h = SS, .w = SS, .classes = 4, .seed = 3, .noise = 0.3f};
    cr_assert_eq(hl_dataset_synthetic(&set, &so), HL_OK, "%s", hl_error_last());
    hl_dataset_info info = hl_dataset_info_of(&set);
    hl_hasher *h = hl_test_victim(&info, 16, 11, 400);
    int64_t tr[NT], q[NQ];
    for (int i = 0; i < NT; i++) tr[i] = i;
    for (int i = 0; i < NQ; i++) q[i] = NT + i;
    cr_assert_eq(hl_hasher_fit(h, &set, tr, NT, true), HL_OK, "%s", hl_error_last());
    static float x[NQ * DD], a1[NQ * DD], a2[NQ * DD];
    hl_dataset_read(&set, q, NQ, x);
    hl_ctx *ctx = hl_test_ctx();
    hl_codes clean, adv;
    cr_assert_eq(hl_hasher_encode_images(&clean, h, ctx, x, NQ, 0), HL_OK);
    hl_attack *sq = make("square", 150, false, 7);
    cr_assert_eq(hl_attack_run(sq, h, ctx, x, a1, NQ, NULL, 16), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_run(sq, h, ctx, x, a2, NQ, NULL, 3), HL_OK, "%s", hl_error_last());
    cr_assert_eq(memcmp(a1, a2, sizeof a1), 0, "independent of the batch size");
    cr_assert_eq(hl_hasher_encode_images(&adv, h, ctx, a1, NQ, 0), HL_OK);
    double flipped = mean_hamming(&clean, &adv);
    cr_log_info("square on the tiny CNN, 150 proposals at 16/255: %.2f of 16 bits flipped", flipped);
    cr_assert(flipped >= 1.0, "%g bits flipped", flipped);
    /* L2 is not supported: refused with a message */
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.threat = hl_threat_make(HL_NORM_L2, 1, 1);
    hl_attack *bad = NULL;
    cr_assert_eq(hl_attack_create(&bad, "square", NULL, &o), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "only norm linf"), "%s", hl_error_last());
    hl_codes_free(&clean), hl_codes_free(&adv);
    hl_attack_free(sq);
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_dataset_free(&set);
}
