/* attacks/threat.c — ε-ball and pixel-box projection and checking (see threat.h). */
#include <math.h>
#include <string.h>

#include "attacks/threat.h"

const char *hl_norm_name(hl_norm n) {
    HL_ASSERT(n >= 0 && n < HL_NORM_COUNT, "norm %d", (int)n);
    return n == HL_NORM_LINF ? "linf" : n == HL_NORM_L2 ? "l2" : "none";
}

hl_status hl_norm_parse(const char *s, hl_norm *out) {
    for (int n = 0; n < HL_NORM_COUNT; n++)
        if (s && strcmp(s, hl_norm_name((hl_norm)n)) == 0) {
            *out = (hl_norm)n;
            return HL_OK;
        }
    return hl_error_set(HL_EINVAL, "unknown norm '%s' (known: linf, l2, none)", s ? s : "");
}

hl_threat hl_threat_make(hl_norm norm, int64_t eps_num, int64_t eps_den) {
    HL_ASSERT(eps_den > 0 && eps_num >= 0, "eps %lld/%lld", (long long)eps_num, (long long)eps_den);
    return (hl_threat){.norm = norm,
                       .eps = {.num = eps_num, .den = eps_den, .value = (double)eps_num / (double)eps_den},
                       .lo = 0.0f, .hi = 1.0f};
}

double hl_threat_distance(hl_norm norm, const float *x, const float *x_adv, int64_t d) {
    double m = 0;
    for (int64_t j = 0; j < d; j++) {
        double t = fabs((double)x_adv[j] - (double)x[j]);
        m = norm != HL_NORM_L2 ? (t > m ? t : m) : m + t * t;
    }
    return norm != HL_NORM_L2 ? m : sqrt(m);
}

void hl_threat_project(const hl_threat *t, const float *x, float *x_adv, int64_t n, int64_t d) {
    float eps = (float)t->eps.value;
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * d;
        float *ai = x_adv + i * d;
        if (t->norm == HL_NORM_NONE) {
            for (int64_t j = 0; j < d; j++) ai[j] = fminf(fmaxf(ai[j], t->lo), t->hi);
        } else if (t->norm == HL_NORM_LINF) {
            for (int64_t j = 0; j < d; j++) {
                float lo = fmaxf(t->lo, xi[j] - eps), hi = fminf(t->hi, xi[j] + eps);
                ai[j] = fminf(fmaxf(ai[j], lo), hi);
            }
        } else {
            double norm = hl_threat_distance(HL_NORM_L2, xi, ai, d);
            /* Shrink slightly below ε so that float rounding of x + δ cannot land outside the ball. */
            double s = norm > t->eps.value ? t->eps.value / norm * (1.0 - 1e-7) : 1.0;
            for (int64_t j = 0; j < d; j++) {
                float v = xi[j] + (float)(s * ((double)ai[j] - (double)xi[j]));
                ai[j] = fminf(fmaxf(v, t->lo), t->hi);
            }
        }
    }
}

hl_status hl_threat_check(const hl_threat *t, const float *x, const float *x_adv, int64_t n, int64_t d, double tol) {
    char eps[64];
    for (int64_t i = 0; i < n; i++) {
        const float *ai = x_adv + i * d;
        for (int64_t j = 0; j < d; j++)
            if (!(ai[j] >= t->lo - tol && ai[j] <= t->hi + tol))
                return hl_error_set(HL_EINVAL, "image %lld pixel %lld: value %g outside [%g, %g]", (long long)i,
                                    (long long)j, (double)ai[j], (double)t->lo, (double)t->hi);
        if (t->norm == HL_NORM_NONE) continue;
        double dist = hl_threat_distance(t->norm, x + i * d, ai, d);
        if (!(dist <= t->eps.value + tol))
            return hl_error_set(HL_EINVAL, "image %lld: %s distance %g exceeds eps %s (%g)", (long long)i,
                                t->norm == HL_NORM_LINF ? "L∞" : "L2", dist, hl_fraction_format(&t->eps, eps, sizeof eps),
                                t->eps.value);
    }
    return HL_OK;
}
