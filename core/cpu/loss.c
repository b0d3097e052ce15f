/* core/cpu/loss.c — CPU kernels of the fused-loss family (see core/kern/loss.h for the contracts).
 *
 * Forward sums run in double (a loss is a mean of many small terms); the gout scalar is read directly, which is
 * legal here because CPU "device" memory is host memory. Loops are parallel only when the work is large, so small
 * losses stay single-threaded (and bit-identical across thread counts). */
#include "core/kern/loss.h"

#include <math.h>

#define LOSS_PAR_MIN 65536 /* elements below which a loop stays serial */

/* ---- softmax cross-entropy ------------------------------------------------------------------------------------ */
/* Row b: lse = m + log Σ_l exp(z_l − m) with m = max_l z_l (no overflow for any z), and
 *   −Σ_l t_l·log softmax(z)_l = Σ_l t_l·(lse − z_l),
 * evaluated as written (in double) rather than as S·lse − Σ t·z, which cancels badly for large logits. */
static void cpu_softmax_ce_fwd(int64_t B, int64_t L, const float *z, const float *t, float *lse, float *loss) {
    double acc = 0.0;
#pragma omp parallel for reduction(+ : acc) schedule(static) if (B * L > LOSS_PAR_MIN)
    for (int64_t b = 0; b < B; b++) {
        const float *zb = z + b * L, *tb = t + b * L;
        float m = zb[0];
        for (int64_t l = 1; l < L; l++) m = zb[l] > m ? zb[l] : m;
        double se = 0.0;
        for (int64_t l = 0; l < L; l++) se += exp((double)zb[l] - (double)m);
        double lb = (double)m + log(se);
        double row = 0.0;
        for (int64_t l = 0; l < L; l++) row += (double)tb[l] * (lb - (double)zb[l]);
        lse[b] = (float)lb;
        acc += row;
    }
    loss[0] = (float)(acc / (double)B);
}

/* With S_b = Σ_l t_bl, loss_b = S_b·lse_b − Σ_l t_bl·z_bl, and ∂lse/∂z_l = softmax_l = exp(z_l − lse), so
 *   ∂loss/∂z_bl = (S_b·p_bl − t_bl) / B.
 * For a normalised target (S_b = 1) this is the familiar (p − t)/B; a target that does not sum to 1 scales the
 * softmax term by its mass, which keeps the gradient exact for any non-negative target. */
static void cpu_softmax_ce_bwd(int64_t B, int64_t L, const float *z, const float *t, const float *lse,
                               const float *gout, float *dz) {
    const float gb = gout[0] / (float)B;
#pragma omp parallel for schedule(static) if (B * L > LOSS_PAR_MIN)
    for (int64_t b = 0; b < B; b++) {
        const float *zb = z + b * L, *tb = t + b * L;
        float *db = dz + b * L;
        float s = 0.0f;
        for (int64_t l = 0; l < L; l++) s += tb[l];
        const float lb = lse[b];
        for (int64_t l = 0; l < L; l++) db[l] += gb * (s * expf(zb[l] - lb) - tb[l]);
    }
}

/* ---- binary cross-entropy with logits ------------------------------------------------------------------------- */
/* BCE(σ(z), t) = −t·log σ(z) − (1 − t)·log(1 − σ(z)) = softplus(z) − t·z, and
 * softplus(z) = max(z, 0) + log1p(exp(−|z|)) never overflows. */
static void cpu_bce_logits_fwd(int64_t n, const float *z, const float *t, float *loss) {
    double acc = 0.0;
#pragma omp parallel for reduction(+ : acc) schedule(static) if (n > LOSS_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        double zi = (double)z[i];
        double sp = (zi > 0.0 ? zi : 0.0) + log1p(exp(-fabs(zi)));
        acc += sp - (double)t[i] * zi;
    }
    loss[0] = (float)(acc / (double)n);
}

/* d/dz (softplus(z) − t·z) = σ(z) − t; σ evaluated on the side where exp does not overflow. */
static void cpu_bce_logits_bwd(int64_t n, const float *z, const float *t, const float *gout, float *dz) {
    const float gn = gout[0] / (float)n;
#pragma omp parallel for schedule(static) if (n > LOSS_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float e = expf(-fabsf(z[i]));
        float sig = z[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        dz[i] += gn * (sig - t[i]);
    }
}

/* ---- mean squared error --------------------------------------------------------------------------------------- */
static void cpu_mse_fwd(int64_t n, const float *a, const float *b, float *loss) {
    double acc = 0.0;
#pragma omp parallel for reduction(+ : acc) schedule(static) if (n > LOSS_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        acc += d * d;
    }
    loss[0] = (float)(acc / (double)n);
}

static void cpu_mse_bwd(int64_t n, const float *a, const float *b, const float *gout, float *da, float *db) {
    const float s = 2.0f * gout[0] / (float)n;
    if (da) {
#pragma omp parallel for simd schedule(static) if (n > LOSS_PAR_MIN)
        for (int64_t i = 0; i < n; i++) da[i] += s * (a[i] - b[i]);
    }
    if (db) {
#pragma omp parallel for simd schedule(static) if (n > LOSS_PAR_MIN)
        for (int64_t i = 0; i < n; i++) db[i] -= s * (a[i] - b[i]);
    }
}

/* ---- mean absolute error -------------------------------------------------------------------------------------- */
static void cpu_l1_fwd(int64_t n, const float *a, const float *b, float *loss) {
    double acc = 0.0;
#pragma omp parallel for reduction(+ : acc) schedule(static) if (n > LOSS_PAR_MIN)
    for (int64_t i = 0; i < n; i++) acc += fabs((double)a[i] - (double)b[i]);
    loss[0] = (float)(acc / (double)n);
}

/* sign(a − b) with sign(0) = 0: equal elements get no gradient (PyTorch's l1_loss convention). */
static void cpu_l1_bwd(int64_t n, const float *a, const float *b, const float *gout, float *da, float *db) {
    const float s = gout[0] / (float)n;
    if (da) {
#pragma omp parallel for simd schedule(static) if (n > LOSS_PAR_MIN)
        for (int64_t i = 0; i < n; i++) da[i] += s * (float)((a[i] > b[i]) - (a[i] < b[i]));
    }
    if (db) {
#pragma omp parallel for simd schedule(static) if (n > LOSS_PAR_MIN)
        for (int64_t i = 0; i < n; i++) db[i] -= s * (float)((a[i] > b[i]) - (a[i] < b[i]));
    }
}

const hl_kern_loss hl_cpu_loss = {
    .softmax_ce_fwd = cpu_softmax_ce_fwd,
    .softmax_ce_bwd = cpu_softmax_ce_bwd,
    .bce_logits_fwd = cpu_bce_logits_fwd,
    .bce_logits_bwd = cpu_bce_logits_bwd,
    .mse_fwd = cpu_mse_fwd,
    .mse_bwd = cpu_mse_bwd,
    .l1_fwd = cpu_l1_fwd,
    .l1_bwd = cpu_l1_bwd,
};
