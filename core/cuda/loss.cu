/* core/cuda/loss.cu — CUDA kernels of the fused-loss family (contracts in core/kern/loss.h).
 *
 * Forward: ONE block of LOSS_THREADS threads strides over the rows / elements, accumulates its terms in double and
 * sums them with a fixed tree (hl_cuda_block_sum), then writes the scalar to the device: no scratch memory, no
 * atomics, deterministic, and safe when several host threads share the device. (A single block reads at a fraction
 * of the device bandwidth; losses here are over codes and logits, and even an image-sized MSE is well under a ms.)
 * Backward: one thread per element; gout is read on the device.
 */
#include "core/cuda/common.cuh"

#include <math.h>

#define LOSS_THREADS 512

/* Softmax CE, row b: lse_b = m + log Σ exp(z − m) (double), term Σ_l t_l·(lse − z_l). */
__global__ static void k_softmax_ce_fwd(int64_t B, int64_t L, const float *z, const float *t, float *lse,
                                        float *loss) {
    double acc = 0.0;
    for (int64_t b = threadIdx.x; b < B; b += blockDim.x) {
        const float *zb = z + b * L, *tb = t + b * L;
        float m = zb[0];
        for (int64_t l = 1; l < L; l++) m = zb[l] > m ? zb[l] : m;
        double se = 0.0;
        for (int64_t l = 0; l < L; l++) se += exp((double)zb[l] - (double)m);
        const double lb = (double)m + log(se);
        double row = 0.0;
        for (int64_t l = 0; l < L; l++) row += (double)tb[l] * (lb - (double)zb[l]);
        lse[b] = (float)lb;
        acc += row;
    }
    acc = hl_cuda_block_sum(acc);
    if (threadIdx.x == 0) loss[0] = (float)(acc / (double)B);
}

__global__ static void k_softmax_ce_bwd(int64_t B, int64_t L, const float *z, const float *t, const float *lse,
                                        const float *gout, float *dz) {
    const float gb = gout[0] / (float)B;
    HL_CUDA_FOR(b, B) {
        const float *zb = z + b * L, *tb = t + b * L;
        float *db = dz + b * L;
        float s = 0.0f;
        for (int64_t l = 0; l < L; l++) s += tb[l];
        const float lb = lse[b];
        for (int64_t l = 0; l < L; l++) db[l] += gb * (s * expf(zb[l] - lb) - tb[l]);
    }
}

typedef enum { LOSS_BCE, LOSS_MSE, LOSS_L1 } loss_kind;

__global__ static void k_mean_fwd(loss_kind kind, int64_t n, const float *a, const float *b, float *loss) {
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const double av = a[i], bv = b[i];
        if (kind == LOSS_BCE) acc += (av > 0.0 ? av : 0.0) + log1p(exp(-fabs(av))) - bv * av; /* a = z, b = t */
        else if (kind == LOSS_MSE) acc += (av - bv) * (av - bv);
        else acc += fabs(av - bv);
    }
    acc = hl_cuda_block_sum(acc);
    if (threadIdx.x == 0) loss[0] = (float)(acc / (double)n);
}

__global__ static void k_bce_bwd(int64_t n, const float *z, const float *t, const float *gout, float *dz) {
    const float gn = gout[0] / (float)n;
    HL_CUDA_FOR(i, n) {
        const float e = expf(-fabsf(z[i]));
        const float sig = z[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        dz[i] += gn * (sig - t[i]);
    }
}

/* MSE: term 2g/n·(a − b); L1: g/n·sign(a − b), sign(0) = 0. da += term, db −= term. */
__global__ static void k_pair_bwd(loss_kind kind, int64_t n, const float *a, const float *b, const float *gout,
                                  float *da, float *db) {
    const float s = (kind == LOSS_MSE ? 2.0f * gout[0] : gout[0]) / (float)n;
    HL_CUDA_FOR(i, n) {
        const float term = kind == LOSS_MSE ? s * (a[i] - b[i]) : s * (float)((a[i] > b[i]) - (a[i] < b[i]));
        if (da) da[i] += term;
        if (db) db[i] -= term;
    }
}

static void cuda_softmax_ce_fwd(int64_t B, int64_t L, const float *z, const float *t, float *lse, float *loss) {
    HL_ASSERT(B >= 1 && L >= 1, "softmax_ce: B = %lld, L = %lld", (long long)B, (long long)L);
    k_softmax_ce_fwd<<<1, LOSS_THREADS>>>(B, L, z, t, lse, loss);
    HL_CUDA_LAUNCH();
}

static void cuda_softmax_ce_bwd(int64_t B, int64_t L, const float *z, const float *t, const float *lse,
                                const float *gout, float *dz) {
    if (B <= 0 || !dz) return;
    k_softmax_ce_bwd<<<hl_cuda_blocks(B), HL_CUDA_THREADS>>>(B, L, z, t, lse, gout, dz);
    HL_CUDA_LAUNCH();
}

static void mean_fwd(loss_kind kind, int64_t n, const float *a, const float *b, float *loss) {
    HL_ASSERT(n >= 1, "loss over %lld elements", (long long)n);
    k_mean_fwd<<<1, LOSS_THREADS>>>(kind, n, a, b, loss);
    HL_CUDA_LAUNCH();
}

static void cuda_bce_logits_fwd(int64_t n, const float *z, const float *t, float *loss) {
    mean_fwd(LOSS_BCE, n, z, t, loss);
}

static void cuda_bce_logits_bwd(int64_t n, const float *z, const float *t, const float *gout, float *dz) {
    if (n <= 0 || !dz) return;
    k_bce_bwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, z, t, gout, dz);
    HL_CUDA_LAUNCH();
}

static void cuda_mse_fwd(int64_t n, const float *a, const float *b, float *loss) { mean_fwd(LOSS_MSE, n, a, b, loss); }

static void cuda_mse_bwd(int64_t n, const float *a, const float *b, const float *gout, float *da, float *db) {
    if (n <= 0 || (!da && !db)) return;
    k_pair_bwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(LOSS_MSE, n, a, b, gout, da, db);
    HL_CUDA_LAUNCH();
}

static void cuda_l1_fwd(int64_t n, const float *a, const float *b, float *loss) { mean_fwd(LOSS_L1, n, a, b, loss); }

static void cuda_l1_bwd(int64_t n, const float *a, const float *b, const float *gout, float *da, float *db) {
    if (n <= 0 || (!da && !db)) return;
    k_pair_bwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(LOSS_L1, n, a, b, gout, da, db);
    HL_CUDA_LAUNCH();
}

const hl_kern_loss hl_cuda_loss = {
    .softmax_ce_fwd = cuda_softmax_ce_fwd,
    .softmax_ce_bwd = cuda_softmax_ce_bwd,
    .bce_logits_fwd = cuda_bce_logits_fwd,
    .bce_logits_bwd = cuda_bce_logits_bwd,
    .mse_fwd = cuda_mse_fwd,
    .mse_bwd = cuda_mse_bwd,
    .l1_fwd = cuda_l1_fwd,
    .l1_bwd = cuda_l1_bwd,
};
