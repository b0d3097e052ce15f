/* core/lr_schedule.h — learning-rate schedules as closed forms of the epoch (PyTorch's _get_closed_form_lr).
 *
 * hl_lr_at(s, lr0, t) for epoch t >= 0 (negative t is treated as 0):
 *   CONSTANT   lr0
 *   STEP       lr0 · γ^⌊t / step_size⌋                                         (StepLR)
 *   MULTISTEP  lr0 · γ^(number of milestones <= t)                              (MultiStepLR; repeats count twice)
 *   COSINE     eta_min + (lr0 − eta_min)·(1 + cos(π·t / T_max)) / 2             (CosineAnnealingLR; periodic past T_max
 *                                                                               like PyTorch's closed form)
 *   LINEAR     lr0 · (f0 + (f1 − f0)·min(t, N)/N)                              (LinearLR: start/end factor over N)
 *   LOGSPACE   logspace(log10 lr0, log10 lr_end, T)[min(t, T−1)]
 *              = lr0 · (lr_end/lr0)^(t/(T−1))   (T = 1: lr0)                    (ADSH/DDSH: geometric interpolation)
 *
 * Typical use, once per epoch:  hl_optim_set_lr(o, (float)hl_lr_at(&sched, base_lr, epoch));
 */
#ifndef HL_LR_SCHEDULE_H
#define HL_LR_SCHEDULE_H

#include "core/common.h"

#define HL_LR_MAX_MILESTONES 16

typedef enum hl_lr_kind {
    HL_LR_CONSTANT,
    HL_LR_STEP,
    HL_LR_MULTISTEP,
    HL_LR_COSINE,
    HL_LR_LINEAR,
    HL_LR_LOGSPACE,
    HL_LR_KIND_COUNT
} hl_lr_kind;

typedef struct hl_lr_schedule {
    hl_lr_kind kind;
    float gamma;                          /* STEP, MULTISTEP */
    int step_size;                        /* STEP */
    int milestones[HL_LR_MAX_MILESTONES]; /* MULTISTEP, non-decreasing */
    int n_milestones;
    int t_max;                            /* COSINE */
    float eta_min;                        /* COSINE */
    float start_factor, end_factor;       /* LINEAR */
    int total_iters;                      /* LINEAR (N), LOGSPACE (T) */
    float lr_end;                         /* LOGSPACE, absolute */
} hl_lr_schedule;

/* Constructors (the multistep one copies at most HL_LR_MAX_MILESTONES milestones; check with hl_lr_check). */
hl_lr_schedule hl_lr_constant(void);
hl_lr_schedule hl_lr_step(int step_size, float gamma);
hl_lr_schedule hl_lr_multistep(int n, const int *milestones, float gamma);
hl_lr_schedule hl_lr_cosine(int t_max, float eta_min);
hl_lr_schedule hl_lr_linear(float start_factor, float end_factor, int total_iters);
hl_lr_schedule hl_lr_logspace(float lr_end, int total);

/* HL_EINVAL with a message for invalid settings (step_size < 1, unsorted or too many milestones, t_max < 1,
 * total < 1, lr_end <= 0, non-finite or negative factors). */
hl_status hl_lr_check(const hl_lr_schedule *s);
/* "constant", "step", "multistep", "cosine", "linear", "logspace"; HL_LR_KIND_COUNT if unknown. */
hl_lr_kind hl_lr_kind_from_name(const char *name);
const char *hl_lr_kind_name(hl_lr_kind kind);

/* Learning rate at `epoch` for base rate lr0 (s must pass hl_lr_check; LOGSPACE needs lr0 > 0). */
double hl_lr_at(const hl_lr_schedule *s, double lr0, int epoch);

#endif
