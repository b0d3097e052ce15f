/* tests/core/test_lr_schedule.c — every schedule at epochs 0..11 against torch.optim.lr_scheduler (1.13) / numpy
 * values for lr0 = 0.1 (recorded from PyTorch; the closed forms are in lr_schedule.h). */
#include <math.h>
#include <string.h>

#include "core/lr_schedule.h"
#include "test_common.h"

static void expect(const char *what, const hl_lr_schedule *s, const double *want, int n) {
    cr_assert_eq(hl_lr_check(s), HL_OK, "%s: %s", what, hl_error_last());
    for (int e = 0; e < n; e++) {
        double got = hl_lr_at(s, 0.1, e);
        cr_assert(fabs(got - want[e]) <= 1e-12 + 1e-6 * fabs(want[e]), "%s epoch %d: got %.12g want %.12g", what, e,
                  got, want[e]);
    }
}

Test(lr_schedule, constant_and_step) {
    hl_lr_schedule c = hl_lr_constant();
    expect("constant", &c, (const double[]){0.1, 0.1, 0.1, 0.1}, 4);
    hl_lr_schedule s = hl_lr_step(3, 0.5f);
    expect("step", &s, (const double[]){0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125}, 12);
    cr_assert_float_eq(hl_lr_at(&s, 0.1, -4), 0.1, 1e-15, "negative epoch is epoch 0");
}

Test(lr_schedule, multistep_counts_repeated_milestones) {
    hl_lr_schedule s = hl_lr_multistep(4, (const int[]){2, 5, 5, 9}, 0.1f);
    expect("multistep", &s, (const double[]){0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4, 1e-4, 1e-4, 1e-5, 1e-5, 1e-5}, 12);
}

Test(lr_schedule, cosine) {
    hl_lr_schedule s = hl_lr_cosine(8, 0.001f);
    expect("cosine", &s,
           (const double[]){0.1, 0.0962320368593087, 0.0855017856687341, 0.06944282990207196, 0.0505,
                            0.03155717009792806, 0.0154982143312659, 0.004767963140691306, 0.001, 0.004767963140691307,
                            0.01549821433126591, 0.03155717009792807},
           12);
}

Test(lr_schedule, linear) {
    hl_lr_schedule s = hl_lr_linear(1.0f, 0.1f, 5);
    expect("linear", &s, (const double[]){0.1, 0.082, 0.064, 0.046, 0.028, 0.01, 0.01, 0.01}, 8);
}

Test(lr_schedule, logspace_is_geometric) {
    hl_lr_schedule s = hl_lr_logspace(1e-4f, 5); /* numpy.logspace(log10(.1), log10(1e-4), 5) */
    expect("logspace", &s,
           (const double[]){0.1, 0.01778279410038923, 0.0031622776601683794, 0.000562341325190349, 1e-4, 1e-4, 1e-4}, 7);
    hl_lr_schedule one = hl_lr_logspace(1e-4f, 1);
    cr_assert_float_eq(hl_lr_at(&one, 0.1, 3), 0.1, 1e-15);
}

Test(lr_schedule, invalid_settings_are_errors) {
    hl_lr_schedule s = hl_lr_step(0, 0.5f);
    cr_assert_eq(hl_lr_check(&s), HL_EINVAL);
    s = hl_lr_multistep(2, (const int[]){5, 3}, 0.1f);
    cr_assert_eq(hl_lr_check(&s), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "sorted"), "%s", hl_error_last());
    s = hl_lr_multistep(HL_LR_MAX_MILESTONES + 1, (const int[HL_LR_MAX_MILESTONES + 1]){0}, 0.1f);
    cr_assert_eq(hl_lr_check(&s), HL_EINVAL);
    s = hl_lr_cosine(0, 0.0f);
    cr_assert_eq(hl_lr_check(&s), HL_EINVAL);
    s = hl_lr_linear(1.0f, -0.5f, 3);
    cr_assert_eq(hl_lr_check(&s), HL_EINVAL);
    s = hl_lr_logspace(0.0f, 10);
    cr_assert_eq(hl_lr_check(&s), HL_EINVAL);
    s = hl_lr_logspace(1e-3f, 0);
    cr_assert_eq(hl_lr_check(&s), HL_EINVAL);
    cr_assert_eq(hl_lr_kind_from_name("cosine"), HL_LR_COSINE);
    cr_assert_eq(hl_lr_kind_from_name("poly"), HL_LR_KIND_COUNT);
    cr_assert_str_eq(hl_lr_kind_name(HL_LR_LOGSPACE), "logspace");
}
