/* core/kern/loss.h — raw kernels of the fused-loss op family (signatures). CPU instance: core/cpu/loss.c.
 *
 * Every loss reduces to a scalar that the forward kernel WRITES to `loss` (a device pointer to one float), so the
 * value never leaves the device. Backward kernels read the upstream gradient of that scalar from `gout` (a device
 * pointer to one float: the loss tensor's grad) themselves, and ACCUMULATE (+=) into their gradient outputs.
 * A gradient output may be NULL: that input wants no gradient and the kernel skips it.
 * Sizes: B rows, L classes per row, n elements. Sums are accumulated in double.
 */
#ifndef HL_KERN_LOSS_H
#define HL_KERN_LOSS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_loss {
    /* Softmax cross-entropy over rows. z, t [B,L]. lse [B] receives logsumexp(z_b) (saved for the backward);
     * loss = (1/B) Σ_b (S_b·lse_b − Σ_l t_bl·z_bl), S_b = Σ_l t_bl (= mean_b −Σ_l t·log softmax(z)). */
    void (*softmax_ce_fwd)(int64_t B, int64_t L, const float *z, const float *t, float *lse, float *loss);
    /* dz += g/B · (S_b·softmax(z_b) − t_b), g = gout[0], softmax from the saved lse. */
    void (*softmax_ce_bwd)(int64_t B, int64_t L, const float *z, const float *t, const float *lse,
                           const float *gout, float *dz);
    /* loss = (1/n) Σ softplus(z) − t·z, softplus stable for any |z|. */
    void (*bce_logits_fwd)(int64_t n, const float *z, const float *t, float *loss);
    /* dz += g/n · (σ(z) − t). */
    void (*bce_logits_bwd)(int64_t n, const float *z, const float *t, const float *gout, float *dz);
    /* loss = (1/n) Σ (a − b)². */
    void (*mse_fwd)(int64_t n, const float *a, const float *b, float *loss);
    /* da += 2g/n · (a − b), db −= 2g/n · (a − b); da or db may be NULL. */
    void (*mse_bwd)(int64_t n, const float *a, const float *b, const float *gout, float *da, float *db);
    /* loss = (1/n) Σ |a − b|. */
    void (*l1_fwd)(int64_t n, const float *a, const float *b, float *loss);
    /* da += g/n · sign(a − b), db −= the same; sign(0) = 0. da or db may be NULL. */
    void (*l1_bwd)(int64_t n, const float *a, const float *b, const float *gout, float *da, float *db);
} hl_kern_loss;

extern const hl_kern_loss hl_cpu_loss;

#endif
