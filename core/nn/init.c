/* core/nn/init.c — initialisers; see init.h. */
#include "core/nn/init.h"

#include "core/kernels.h"

#include <math.h>

float hl_init_gain(hl_nonlin nl, float param) {
    switch (nl) {
    case HL_NONLIN_LINEAR:
    case HL_NONLIN_SIGMOID: return 1.0f;
    case HL_NONLIN_TANH: return 5.0f / 3.0f;
    case HL_NONLIN_RELU: return (float)sqrt(2.0);
    case HL_NONLIN_LEAKY_RELU: return (float)sqrt(2.0 / (1.0 + (double)param * param));
    default: HL_ASSERT(0, "unknown nonlinearity %d", (int)nl);
    }
}

void hl_init_fans(const hl_tensor *t, int64_t *fan_in, int64_t *fan_out) {
    HL_ASSERT_T(t->ndim >= 2, t); /* fans are undefined for fewer than 2 dimensions */
    int64_t rf = 1;
    for (int i = 2; i < t->ndim; i++) rf *= t->shape[i];
    *fan_in = t->shape[1] * rf;
    *fan_out = t->shape[0] * rf;
}

static double kaiming_std(const hl_tensor *t, float a, hl_fan_mode mode, hl_nonlin nl) {
    int64_t fi, fo;
    hl_init_fans(t, &fi, &fo);
    HL_ASSERT(mode == HL_FAN_IN || mode == HL_FAN_OUT, "bad fan mode %d", (int)mode);
    return (double)hl_init_gain(nl, a) / sqrt((double)(mode == HL_FAN_IN ? fi : fo));
}

static double xavier_std(const hl_tensor *t, float gain) {
    int64_t fi, fo;
    hl_init_fans(t, &fi, &fo);
    return (double)gain * sqrt(2.0 / (double)(fi + fo));
}

void hl_init_kaiming_normal(hl_tensor *t, hl_rng *r, float a, hl_fan_mode mode, hl_nonlin nl) {
    hl_init_normal(t, r, 0.0f, (float)kaiming_std(t, a, mode, nl));
}

void hl_init_kaiming_uniform(hl_tensor *t, hl_rng *r, float a, hl_fan_mode mode, hl_nonlin nl) {
    float b = (float)(sqrt(3.0) * kaiming_std(t, a, mode, nl));
    hl_init_uniform(t, r, -b, b);
}

void hl_init_xavier_normal(hl_tensor *t, hl_rng *r, float gain) { hl_init_normal(t, r, 0.0f, (float)xavier_std(t, gain)); }

void hl_init_xavier_uniform(hl_tensor *t, hl_rng *r, float gain) {
    float b = (float)(sqrt(3.0) * xavier_std(t, gain));
    hl_init_uniform(t, r, -b, b);
}

/* Drawn on the tensor's device by its rng kernels: the same numbers as hl_rng_normal / hl_rng_uniform on the host. */
void hl_init_normal(hl_tensor *t, hl_rng *r, float mean, float std) {
    HL_ASSERT_T(t->data, t);
    hl_tensor_rand_normal(t, r, mean, std);
}

void hl_init_uniform(hl_tensor *t, hl_rng *r, float lo, float hi) {
    HL_ASSERT_T(t->data, t);
    hl_tensor_rand_uniform(t, r, lo, hi);
}

void hl_init_constant(hl_tensor *t, float v) {
    HL_ASSERT_T(t->data, t);
    hl_tensor_fill(t, v);
}
