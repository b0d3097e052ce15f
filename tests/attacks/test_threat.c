/* tests/attacks/test_threat.c — projection values by hand (L∞, L2, pixel box), the check's messages, and the
 * attack driver catching an attack that exceeds its ε. */
#include <math.h>
#include <string.h>

#include "attacks/attack.h"
#include "test_common.h"

Test(threat, norms) {
    hl_norm n;
    cr_assert_eq(hl_norm_parse("l2", &n), HL_OK);
    cr_assert_eq(n, HL_NORM_L2);
    cr_assert_str_eq(hl_norm_name(HL_NORM_LINF), "linf");
    cr_assert_eq(hl_norm_parse("l3", &n), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "unknown norm 'l3' (known: linf, l2, none)");
    cr_assert_eq(hl_norm_parse("none", &n), HL_OK);
    cr_assert_eq(n, HL_NORM_NONE);
    hl_threat t = hl_threat_make(HL_NORM_LINF, 8, 255);
    cr_assert_eq(t.eps.value, 8.0 / 255.0);
    cr_assert_eq(t.lo, 0.0f);
    cr_assert_eq(t.hi, 1.0f);
}

Test(threat, project_linf_by_hand) {
    hl_threat t = hl_threat_make(HL_NORM_LINF, 1, 10); /* ε = 0.1 */
    float x[6] = {0.5f, 0.5f, 0.05f, 0.95f, 0.3f, 0.0f};
    float a[6] = {0.7f, 0.45f, -0.2f, 1.2f, 0.25f, 0.2f};
    hl_threat_project(&t, x, a, 2, 3);
    float want[6] = {0.6f, 0.45f, 0.0f, 1.0f, 0.25f, 0.1f};
    hl_test_assert_close(a, want, 6, 1e-7f, 0, "linf projection");
    cr_assert_eq(hl_threat_check(&t, x, a, 2, 3, HL_THREAT_TOL), HL_OK, "%s", hl_error_last());
}

Test(threat, project_l2_by_hand) {
    hl_threat t = hl_threat_make(HL_NORM_L2, 1, 2); /* ε = 0.5 */
    float x[2] = {0.5f, 0.5f}, a[2] = {0.5f + 0.3f * 5, 0.5f + 0.4f * 5}; /* δ = (1.5, 2.0), ‖δ‖ = 2.5 */
    hl_threat_project(&t, x, a, 1, 2);
    /* scaled to norm 0.5: δ = (0.3, 0.4) -> (0.8, 0.9), inside the box */
    float want[2] = {0.8f, 0.9f};
    hl_test_assert_close(a, want, 2, 1e-6f, 0, "l2 projection");
    float x2[2] = {0.9f, 0.1f}, b[2] = {1.3f, 0.1f}; /* ‖δ‖ = 0.4 <= ε: only the box clips 1.3 -> 1 */
    hl_threat_project(&t, x2, b, 1, 2);
    cr_assert_float_eq(b[0], 1.0f, 1e-7);
    cr_assert_float_eq(b[1], 0.1f, 1e-7);
    float inside[2] = {0.6f, 0.6f};
    hl_threat_project(&t, x, inside, 1, 2);
    cr_assert_eq(inside[0], 0.6f, "inside the ball and box: unchanged");
    cr_assert_eq(hl_threat_check(&t, x, a, 1, 2, HL_THREAT_TOL), HL_OK, "%s", hl_error_last());
}

Test(threat, check_messages) {
    hl_threat t = hl_threat_make(HL_NORM_LINF, 8, 255);
    float x[4] = {0.5f, 0.5f, 0.5f, 0.5f}, a[4] = {0.5f, 0.5f, 0.5f, 0.5f + 11.0f / 255.0f};
    cr_assert_eq(hl_threat_check(&t, x, a, 2, 2, HL_THREAT_TOL), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "image 1: L∞ distance 0.0431") == hl_error_last(), "%s", hl_error_last());
    cr_assert(strstr(hl_error_last(), "exceeds eps 8/255 (0.0313725"), "%s", hl_error_last());
    a[3] = 0.5f + 8.0f / 255.0f; /* exactly ε (float rounding within tolerance) */
    cr_assert_eq(hl_threat_check(&t, x, a, 2, 2, HL_THREAT_TOL), HL_OK, "%s", hl_error_last());
    a[1] = -0.01f;
    x[1] = 0.0f;
    cr_assert_eq(hl_threat_check(&t, x, a, 2, 2, HL_THREAT_TOL), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "image 0 pixel 1: value -0.01 outside [0, 1]");
    hl_threat t2 = hl_threat_make(HL_NORM_L2, 1, 10);
    float y[2] = {0, 0}, b[2] = {0.06f, 0.08f}; /* ‖δ‖ = 0.1 */
    cr_assert_eq(hl_threat_check(&t2, y, b, 1, 2, HL_THREAT_TOL), HL_OK, "%s", hl_error_last());
    b[1] = 0.09f;
    cr_assert_eq(hl_threat_check(&t2, y, b, 1, 2, HL_THREAT_TOL), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "image 0: L2 distance 0.108"), "%s", hl_error_last());
}

/* A buggy attack: adds 2ε everywhere and forgets to project. */
static hl_status greedy_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x,
                                hl_tensor *x_adv, const hl_attack_goal *goal) {
    (void)victim, (void)ctx, (void)goal;
    for (int64_t i = 0; i < hl_tensor_numel(x); i++)
        x_adv->data[i] = x->data[i] + 2.0f * (float)self->opts.threat.eps.value;
    return HL_OK;
}

static const hl_attack_class greedy = {.abi = HL_ATTACK_ABI, .name = "greedy", .summary = "buggy",
                                       .size = sizeof(hl_attack), .flags = HL_ATTACK_UNTARGETED,
                                       .perturb = greedy_perturb};

Test(threat, driver_catches_over_eps_attack) {
    hl_dataset_info info = {.c = 1, .h = 2, .w = 2, .nlabels = 2};
    hl_hasher *v = NULL;
    hl_attack *a = NULL;
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    cr_assert_eq(hl_hasher_create(&v, "lsh", NULL, &info, 8, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_attack_create_class(&a, &greedy, NULL, &o), HL_OK, "%s", hl_error_last());
    hl_ctx *ctx = hl_test_ctx();
    float x[5 * 4], adv[5 * 4];
    for (int i = 0; i < 20; i++) x[i] = 0.25f;
    cr_assert_eq(hl_attack_run(a, v, ctx, x, adv, 5, NULL, 2), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "attack 'greedy' violated its threat model: image 0: L∞ distance 0.0627") ==
                  hl_error_last(), "%s", hl_error_last());
    /* the victim's parameters are unfrozen again and the ctx back in its mode */
    cr_assert(hl_tensor_requires_grad(hl_params_at(&v->params, 0)));
    cr_assert(ctx->train);
    hl_attack_free(a);
    o.targeted = true;
    cr_assert_eq(hl_attack_create_class(&a, &greedy, NULL, &o), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "attack 'greedy' has no targeted mode");
    hl_ctx_free(ctx);
    hl_hasher_free(v);
}

/* norm none: no ε-ball, only the pixel box — projection clamps to [0, 1] and leaves everything else, the check
 * accepts any distance but still refuses a pixel outside the box; its distance is the L∞ one. Attacks that do not
 * bound themselves refuse it. */
Test(threat, norm_none_is_the_pixel_box_only) {
    hl_threat t = hl_threat_make(HL_NORM_NONE, 8, 255);
    const float x[4] = {0.5f, 0.5f, 0.0f, 1.0f};
    float a[4] = {0.9f, -0.2f, 0.7f, 1.3f};
    hl_threat_project(&t, x, a, 1, 4);
    cr_assert_eq(a[0], 0.9f);
    cr_assert_eq(a[1], 0.0f);
    cr_assert_eq(a[2], 0.7f);
    cr_assert_eq(a[3], 1.0f);
    cr_assert_eq(hl_threat_check(&t, x, a, 1, 4, HL_THREAT_TOL), HL_OK, "%s", hl_error_last());
    cr_assert_float_eq(hl_threat_distance(HL_NORM_NONE, x, a, 4), 0.7, 1e-6);
    a[1] = -0.5f;
    cr_assert_eq(hl_threat_check(&t, x, a, 1, 4, HL_THREAT_TOL), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "outside [0, 1]"), "%s", hl_error_last());
    hl_attack_opts o;
    hl_attack_opts_default(&o);
    o.threat = t;
    hl_attack *at = NULL;
    cr_assert_eq(hl_attack_create(&at, "pgd", NULL, &o), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "needs an eps-ball"), "%s", hl_error_last());
}
