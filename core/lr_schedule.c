/* core/lr_schedule.c — closed-form learning-rate schedules; see lr_schedule.h. */
#include "core/lr_schedule.h"

#include <math.h>
#include <string.h>

static const char *const kind_names[HL_LR_KIND_COUNT] = {"constant", "step", "multistep", "cosine", "linear", "logspace"};

const char *hl_lr_kind_name(hl_lr_kind kind) { return kind >= 0 && kind < HL_LR_KIND_COUNT ? kind_names[kind] : "?"; }

hl_lr_kind hl_lr_kind_from_name(const char *name) {
    for (int k = 0; k < HL_LR_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) return (hl_lr_kind)k;
    return HL_LR_KIND_COUNT;
}

hl_lr_schedule hl_lr_constant(void) { return (hl_lr_schedule){.kind = HL_LR_CONSTANT}; }
hl_lr_schedule hl_lr_step(int step_size, float gamma) {
    return (hl_lr_schedule){.kind = HL_LR_STEP, .step_size = step_size, .gamma = gamma};
}
hl_lr_schedule hl_lr_cosine(int t_max, float eta_min) {
    return (hl_lr_schedule){.kind = HL_LR_COSINE, .t_max = t_max, .eta_min = eta_min};
}
hl_lr_schedule hl_lr_linear(float start_factor, float end_factor, int total_iters) {
    return (hl_lr_schedule){.kind = HL_LR_LINEAR, .start_factor = start_factor, .end_factor = end_factor,
                            .total_iters = total_iters};
}
hl_lr_schedule hl_lr_logspace(float lr_end, int total) {
    return (hl_lr_schedule){.kind = HL_LR_LOGSPACE, .lr_end = lr_end, .total_iters = total};
}

hl_lr_schedule hl_lr_multistep(int n, const int *milestones, float gamma) {
    hl_lr_schedule s = {.kind = HL_LR_MULTISTEP, .gamma = gamma, .n_milestones = n};
    for (int i = 0; i < n && i < HL_LR_MAX_MILESTONES; i++) s.milestones[i] = milestones[i];
    return s;
}

hl_status hl_lr_check(const hl_lr_schedule *s) {
    switch (s->kind) {
    case HL_LR_CONSTANT: return HL_OK;
    case HL_LR_STEP:
        if (s->step_size < 1) return hl_error_set(HL_EINVAL, "lr schedule step: step_size %d must be >= 1", s->step_size);
        if (!(s->gamma >= 0.0f) || !isfinite(s->gamma)) return hl_error_set(HL_EINVAL, "lr schedule step: invalid gamma %g", s->gamma);
        return HL_OK;
    case HL_LR_MULTISTEP:
        if (s->n_milestones < 0 || s->n_milestones > HL_LR_MAX_MILESTONES)
            return hl_error_set(HL_EINVAL, "lr schedule multistep: %d milestones (0..%d allowed)", s->n_milestones,
                                HL_LR_MAX_MILESTONES);
        for (int i = 0; i < s->n_milestones; i++)
            if (s->milestones[i] < 0 || (i > 0 && s->milestones[i] < s->milestones[i - 1]))
                return hl_error_set(HL_EINVAL, "lr schedule multistep: milestones must be non-negative and sorted "
                                    "(milestone %d is %d)", i, s->milestones[i]);
        if (!(s->gamma >= 0.0f) || !isfinite(s->gamma))
            return hl_error_set(HL_EINVAL, "lr schedule multistep: invalid gamma %g", s->gamma);
        return HL_OK;
    case HL_LR_COSINE:
        if (s->t_max < 1) return hl_error_set(HL_EINVAL, "lr schedule cosine: T_max %d must be >= 1", s->t_max);
        if (!isfinite(s->eta_min) || s->eta_min < 0.0f) return hl_error_set(HL_EINVAL, "lr schedule cosine: invalid eta_min %g", s->eta_min);
        return HL_OK;
    case HL_LR_LINEAR:
        if (s->total_iters < 1) return hl_error_set(HL_EINVAL, "lr schedule linear: total_iters %d must be >= 1", s->total_iters);
        if (!(s->start_factor >= 0.0f && s->end_factor >= 0.0f) || !isfinite(s->start_factor) || !isfinite(s->end_factor))
            return hl_error_set(HL_EINVAL, "lr schedule linear: invalid factors %g, %g", s->start_factor, s->end_factor);
        return HL_OK;
    case HL_LR_LOGSPACE:
        if (s->total_iters < 1) return hl_error_set(HL_EINVAL, "lr schedule logspace: total %d must be >= 1", s->total_iters);
        if (!(s->lr_end > 0.0f) || !isfinite(s->lr_end)) return hl_error_set(HL_EINVAL, "lr schedule logspace: lr_end %g must be > 0", s->lr_end);
        return HL_OK;
    default: return hl_error_set(HL_EINVAL, "unknown lr schedule kind %d", (int)s->kind);
    }
}

double hl_lr_at(const hl_lr_schedule *s, double lr0, int epoch) {
    int t = epoch < 0 ? 0 : epoch;
    switch (s->kind) {
    case HL_LR_CONSTANT: return lr0;
    case HL_LR_STEP:
        HL_ASSERT(s->step_size >= 1, "step schedule with step_size %d", s->step_size);
        return lr0 * pow((double)s->gamma, (double)(t / s->step_size));
    case HL_LR_MULTISTEP: {
        int k = 0;
        for (int i = 0; i < s->n_milestones && i < HL_LR_MAX_MILESTONES; i++) k += s->milestones[i] <= t;
        return lr0 * pow((double)s->gamma, (double)k);
    }
    case HL_LR_COSINE:
        HL_ASSERT(s->t_max >= 1, "cosine schedule with T_max %d", s->t_max);
        return s->eta_min + (lr0 - s->eta_min) * (1.0 + cos(HL_PI * t / s->t_max)) / 2.0;
    case HL_LR_LINEAR: {
        HL_ASSERT(s->total_iters >= 1, "linear schedule with total_iters %d", s->total_iters);
        double f = s->start_factor + ((double)s->end_factor - s->start_factor) * HL_MIN(t, s->total_iters) / s->total_iters;
        return lr0 * f;
    }
    case HL_LR_LOGSPACE: {
        HL_ASSERT(s->total_iters >= 1 && s->lr_end > 0.0f && lr0 > 0.0, "logspace schedule: T %d, lr0 %g, lr_end %g",
                  s->total_iters, lr0, s->lr_end);
        if (s->total_iters == 1) return lr0;
        int i = HL_MIN(t, s->total_iters - 1);
        double a = log10(lr0), b = log10((double)s->lr_end);
        return pow(10.0, a + (b - a) * i / (s->total_iters - 1));
    }
    default: HL_ASSERT(0, "unknown lr schedule kind %d", (int)s->kind);
    }
}
