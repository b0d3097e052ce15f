/* core/kern/norm.h — raw kernels of the norm op family: batch / instance norm and dropout. CPU instance:
 * core/cpu/norm.c.
 *
 * Layout: both norms view x as [N,C,S] (row-major) and normalise per "channel" c over its N·S values:
 *   batch norm    x [B,C] or [B,C,H,W]:  N = B, C = C,   S = H·W (1 for 1-D)
 *   instance norm x [B,C,H,W]:           N = 1, C = B·C, S = H·W
 * The affine parameters are indexed gamma[c % G], beta[c % G] with G = the number of affine channels (G = C for
 * batch norm, G = C of the image for instance norm, where the B·C channels repeat the C affine ones).
 * x̂ = (x − mean[c])·invstd[c], invstd = 1/sqrt(var + eps). All pointers are device pointers; kernels that produce
 * statistics or outputs WRITE them, the dx kernels ACCUMULATE (+=).
 */
#ifndef HL_KERN_NORM_H
#define HL_KERN_NORM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_norm {
    /* Batch statistics of x [N,C,S]: mean[c] and invstd[c] = 1/sqrt(biased var + eps) (written, [C]).
     * If rmean/rvar are non-NULL (both [C]), updates them in place: r = (1 − momentum)·r + momentum·stat with the
     * UNBIASED variance var·M/(M − 1), M = N·S > 1 (PyTorch's running statistics). */
    void (*stats)(int64_t N, int64_t C, int64_t S, const float *x, float eps, float momentum, float *rmean,
                  float *rvar, float *mean, float *invstd);
    /* Eval-mode statistics: mean = rmean, invstd = 1/sqrt(rvar + eps) (written, [C]). */
    void (*stats_running)(int64_t C, float eps, const float *rmean, const float *rvar, float *mean, float *invstd);
    /* y[n,c,s] = x̂·gamma[c % G] + beta[c % G] (written); gamma NULL means 1, beta NULL means 0. */
    void (*normalize)(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                      const float *invstd, const float *gamma, const float *beta, float *y);
    /* Per-channel sums of the upstream gradient: sdy[c] = Σ_{n,s} dy, sdyx[c] = Σ_{n,s} dy·x̂ (written, [C]).
     * They are dbeta and dgamma per channel, and the two batch-statistics terms of dx. */
    void (*bwd_reduce)(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                       const float *dy, float *sdy, float *sdyx);
    /* dx += gamma[c % G]·invstd[c]·(dy − (sdy[c] + x̂·sdyx[c])/(N·S))   when batch_stats (train mode: the gradient
     *                                                                     flows through mean and variance);
     * dx += gamma[c % G]·invstd[c]·dy                                     otherwise (fixed running statistics).
     * gamma NULL means 1; sdy/sdyx are only read when batch_stats. */
    void (*bwd_dx)(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                   const float *invstd, const float *gamma, const float *dy, const float *sdy, const float *sdyx,
                   bool batch_stats, float *dx);
    /* Inverted dropout over n elements: element i draws u = uniform(seed, stream, counter + i) (the value of
     * hl_rng_uniform_at, core/rng.h), keeps it when u >= p with factor 1/(1 − p), else zeroes it: y = x·m (written),
     * m stored in mask when mask is non-NULL. 0 <= p <= 1 (p = 1 zeroes everything: u < 1). */
    void (*dropout_fwd)(int64_t n, float p, uint64_t seed, uint64_t stream, uint64_t counter, const float *x,
                        float *y, float *mask);
    /* dx += mask ⊙ dy. */
    void (*dropout_bwd)(int64_t n, const float *mask, const float *dy, float *dx);
} hl_kern_norm;

extern const hl_kern_norm hl_cpu_norm;

#endif
