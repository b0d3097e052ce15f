/* attacks/noise.c — the random-noise baseline at the attack's ε: L∞: x + U(−ε, ε) per pixel; L2: x + ε·g/‖g‖
 * with g a standard Gaussian direction per image; then projected onto the pixel box (and the ball). Seeded by
 * (opts.seed, query id) through core/rng.h, so an image's noise does not depend on the batch it runs in. */
#include <math.h>
#include <stdlib.h>

#include "attacks/attack.h"

#define NOISE_STREAM 0x6e6f697365ULL /* "noise" */

static hl_status noise_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x,
                               hl_tensor *x_adv, const hl_attack_goal *goal) {
    (void)victim, (void)ctx;
    const hl_threat *t = &self->opts.threat;
    int64_t b = x->shape[0], d = hl_tensor_numel(x) / b;
    float eps = (float)t->eps.value;
    hl_rng base = hl_rng_make(self->opts.seed, NOISE_STREAM);
    for (int64_t i = 0; i < b; i++) {
        hl_rng r = hl_rng_split(&base, (uint64_t)goal->query_id[i]);
        const float *xi = x->data + i * d;
        float *ai = x_adv->data + i * d;
        if (t->norm == HL_NORM_LINF) {
            hl_rng_uniform(&r, ai, d, -eps, eps);
        } else {
            hl_rng_normal(&r, ai, d, 0.0f, 1.0f);
            double nn = 0;
            for (int64_t j = 0; j < d; j++) nn += (double)ai[j] * ai[j];
            float s = nn > 0 ? (float)(t->eps.value / sqrt(nn)) : 0.0f;
            for (int64_t j = 0; j < d; j++) ai[j] *= s;
        }
        for (int64_t j = 0; j < d; j++) ai[j] += xi[j];
    }
    hl_threat_project(t, x->data, x_adv->data, b, d);
    return HL_OK;
}

const hl_attack_class hl_attack_noise = {
    .abi = HL_ATTACK_ABI,
    .name = "noise",
    .summary = "random noise at the same eps (L-inf: uniform per pixel; L2: a Gaussian direction of norm eps)",
    .size = sizeof(hl_attack),
    .flags = HL_ATTACK_UNTARGETED | HL_ATTACK_TARGETED | HL_ATTACK_BLACKBOX | HL_ATTACK_BASELINE |
             HL_ATTACK_DEVICE,
    .perturb = noise_perturb,
};
