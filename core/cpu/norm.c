/* core/cpu/norm.c — CPU kernels of the norm family (see core/kern/norm.h for the contracts).
 *
 * Statistics are two-pass (mean, then Σ(x − mean)²) so a large mean does not cancel the variance. Channels with a
 * contiguous spatial run (S > 1) accumulate in double per channel; the 1-D case [B,C] (S = 1) walks rows and
 * accumulates C columns at a time so the reads stay contiguous.
 */
#include "core/kern/norm.h"
#include "core/rng.h"

#include <math.h>

#define HL_NORM_PAR_MIN 32768 /* elements below which OpenMP overhead dominates */
#define HL_NORM_CBLOCK 256    /* channels per task in the row-wise (S = 1) paths */

/* ---- statistics --------------------------------------------------------------------------------------------------- */

/* Per channel c of x [N,C,S], S > 1: mean[c], var[c] (biased), both in double. */
static void chan_moments(int64_t N, int64_t C, int64_t S, int64_t c, const float *x, double *mean, double *var) {
    double s1 = 0.0;
    for (int64_t n = 0; n < N; n++) {
        const float *row = x + (n * C + c) * S;
        double acc = 0.0;
#pragma omp simd reduction(+ : acc)
        for (int64_t s = 0; s < S; s++) acc += row[s];
        s1 += acc;
    }
    double M = (double)(N * S), mu = s1 / M, s2 = 0.0;
    for (int64_t n = 0; n < N; n++) {
        const float *row = x + (n * C + c) * S;
        double acc = 0.0;
#pragma omp simd reduction(+ : acc)
        for (int64_t s = 0; s < S; s++) {
            double d = (double)row[s] - mu;
            acc += d * d;
        }
        s2 += acc;
    }
    *mean = mu;
    *var = s2 / M;
}

static void cpu_stats(int64_t N, int64_t C, int64_t S, const float *x, float eps, float momentum, float *rmean,
                      float *rvar, float *mean, float *invstd) {
    const int64_t M = N * S;
    /* Unbiased correction M/(M − 1) for the running variance (M = 1 would divide by zero; the op rejects it). */
    const double unbias = M > 1 ? (double)M / (double)(M - 1) : 1.0;
    if (S > 1) {
#pragma omp parallel for schedule(static) if (N * C * S > HL_NORM_PAR_MIN)
        for (int64_t c = 0; c < C; c++) {
            double mu, var;
            chan_moments(N, C, S, c, x, &mu, &var);
            mean[c] = (float)mu;
            invstd[c] = (float)(1.0 / sqrt(var + (double)eps));
            if (rmean) {
                rmean[c] = (float)((1.0 - momentum) * rmean[c] + momentum * mu);
                rvar[c] = (float)((1.0 - momentum) * rvar[c] + momentum * var * unbias);
            }
        }
        return;
    }
    /* S = 1: x is [N,C]; column sums row by row, HL_NORM_CBLOCK channels per task. */
#pragma omp parallel for schedule(static) if (N * C > HL_NORM_PAR_MIN)
    for (int64_t cb = 0; cb < C; cb += HL_NORM_CBLOCK) {
        const int64_t ce = HL_MIN(C, cb + HL_NORM_CBLOCK), w = ce - cb;
        double s1[HL_NORM_CBLOCK] = {0}, s2[HL_NORM_CBLOCK] = {0};
        for (int64_t n = 0; n < N; n++) {
            const float *row = x + n * C + cb;
            for (int64_t j = 0; j < w; j++) s1[j] += row[j];
        }
        for (int64_t j = 0; j < w; j++) s1[j] /= (double)N;
        for (int64_t n = 0; n < N; n++) {
            const float *row = x + n * C + cb;
            for (int64_t j = 0; j < w; j++) {
                double d = (double)row[j] - s1[j];
                s2[j] += d * d;
            }
        }
        for (int64_t j = 0; j < w; j++) {
            const int64_t c = cb + j;
            double var = s2[j] / (double)N;
            mean[c] = (float)s1[j];
            invstd[c] = (float)(1.0 / sqrt(var + (double)eps));
            if (rmean) {
                rmean[c] = (float)((1.0 - momentum) * rmean[c] + momentum * s1[j]);
                rvar[c] = (float)((1.0 - momentum) * rvar[c] + momentum * var * unbias);
            }
        }
    }
}

static void cpu_stats_running(int64_t C, float eps, const float *rmean, const float *rvar, float *mean,
                              float *invstd) {
    for (int64_t c = 0; c < C; c++) {
        mean[c] = rmean[c];
        invstd[c] = (float)(1.0 / sqrt((double)rvar[c] + (double)eps));
    }
}

/* ---- normalisation ------------------------------------------------------------------------------------------------ */

/* Row r = n·C + c of [N,C,S]: y = x·a + b with a = invstd·γ, b = β − mean·a. */
static void cpu_normalize(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                          const float *invstd, const float *gamma, const float *beta, float *y) {
    const int64_t rows = N * C;
#pragma omp parallel for schedule(static) if (rows * S > HL_NORM_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t c = r % C, g = c % G;
        const float a = invstd[c] * (gamma ? gamma[g] : 1.0f);
        const float b = (beta ? beta[g] : 0.0f) - mean[c] * a;
        const float *xr = x + r * S;
        float *yr = y + r * S;
#pragma omp simd
        for (int64_t s = 0; s < S; s++) yr[s] = xr[s] * a + b;
    }
}

/* ---- backward ----------------------------------------------------------------------------------------------------- */

static void cpu_bwd_reduce(int64_t N, int64_t C, int64_t S, const float *x, const float *mean, const float *invstd,
                           const float *dy, float *sdy, float *sdyx) {
    if (S > 1) {
#pragma omp parallel for schedule(static) if (N * C * S > HL_NORM_PAR_MIN)
        for (int64_t c = 0; c < C; c++) {
            const float mu = mean[c];
            double a1 = 0.0, a2 = 0.0;
            for (int64_t n = 0; n < N; n++) {
                const float *xr = x + (n * C + c) * S, *gr = dy + (n * C + c) * S;
                double t1 = 0.0, t2 = 0.0;
#pragma omp simd reduction(+ : t1, t2)
                for (int64_t s = 0; s < S; s++) {
                    t1 += gr[s];
                    t2 += (double)gr[s] * (double)(xr[s] - mu);
                }
                a1 += t1;
                a2 += t2;
            }
            sdy[c] = (float)a1;
            sdyx[c] = (float)(a2 * invstd[c]);
        }
        return;
    }
#pragma omp parallel for schedule(static) if (N * C > HL_NORM_PAR_MIN)
    for (int64_t cb = 0; cb < C; cb += HL_NORM_CBLOCK) {
        const int64_t ce = HL_MIN(C, cb + HL_NORM_CBLOCK), w = ce - cb;
        double a1[HL_NORM_CBLOCK] = {0}, a2[HL_NORM_CBLOCK] = {0};
        for (int64_t n = 0; n < N; n++) {
            const float *xr = x + n * C + cb, *gr = dy + n * C + cb;
            for (int64_t j = 0; j < w; j++) {
                a1[j] += gr[j];
                a2[j] += (double)gr[j] * (double)(xr[j] - mean[cb + j]);
            }
        }
        for (int64_t j = 0; j < w; j++) {
            sdy[cb + j] = (float)a1[j];
            sdyx[cb + j] = (float)(a2[j] * invstd[cb + j]);
        }
    }
}

/* Train mode, with M = N·S and x̂ = (x − μ)·σ⁻¹, g = γ·dy:
 *   dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)) = γσ⁻¹·(dy − (Σdy + x̂·Σ dy·x̂)/M).
 * Eval mode: the statistics are constants, dx = γσ⁻¹·dy. */
static void cpu_bwd_dx(int64_t N, int64_t C, int64_t S, int64_t G, const float *x, const float *mean,
                       const float *invstd, const float *gamma, const float *dy, const float *sdy, const float *sdyx,
                       bool batch_stats, float *dx) {
    const int64_t rows = N * C;
    const float inv_m = 1.0f / (float)(N * S);
#pragma omp parallel for schedule(static) if (rows * S > HL_NORM_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t c = r % C;
        const float is = invstd[c], k = is * (gamma ? gamma[c % G] : 1.0f), mu = mean[c];
        const float *xr = x + r * S, *gr = dy + r * S;
        float *dr = dx + r * S;
        if (batch_stats) {
            const float m1 = sdy[c] * inv_m, m2 = sdyx[c] * inv_m;
#pragma omp simd
            for (int64_t s = 0; s < S; s++) dr[s] += k * (gr[s] - m1 - (xr[s] - mu) * is * m2);
        } else {
#pragma omp simd
            for (int64_t s = 0; s < S; s++) dr[s] += k * gr[s];
        }
    }
}

/* ---- dropout ------------------------------------------------------------------------------------------------------ */

/* Element g of a stream is word g % 4 of Philox block g / 4, mapped to [0,1) by its top 24 bits: exactly what
 * hl_rng_uniform_at computes (core/rng.c), but one Philox call serves four elements. */
static void cpu_dropout_fwd(int64_t n, float p, uint64_t seed, uint64_t stream, uint64_t counter, const float *x,
                            float *y, float *mask) {
    if (n <= 0) return;
    const float keep_scale = 1.0f / (1.0f - p);
    const uint64_t b0 = counter >> 2, b1 = (counter + (uint64_t)n - 1) >> 2;
    const int64_t nblocks = (int64_t)(b1 - b0) + 1;
#pragma omp parallel for schedule(static) if (n > HL_NORM_PAR_MIN)
    for (int64_t bi = 0; bi < nblocks; bi++) {
        const uint64_t blk = b0 + (uint64_t)bi;
        uint32_t w[4];
        hl_philox(seed, stream, blk, w);
        for (int k = 0; k < 4; k++) {
            const uint64_t g = blk * 4 + (uint64_t)k;
            if (g < counter || g >= counter + (uint64_t)n) continue;
            const int64_t i = (int64_t)(g - counter);
            const float u = (float)(w[k] >> 8) * (1.0f / 16777216.0f);
            const float m = u >= p ? keep_scale : 0.0f;
            y[i] = x[i] * m;
            if (mask) mask[i] = m;
        }
    }
}

static void cpu_dropout_bwd(int64_t n, const float *mask, const float *dy, float *dx) {
#pragma omp parallel for simd schedule(static) if (n > HL_NORM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] += mask[i] * dy[i];
}

const hl_kern_norm hl_cpu_norm = {
    .stats = cpu_stats,
    .stats_running = cpu_stats_running,
    .normalize = cpu_normalize,
    .bwd_reduce = cpu_bwd_reduce,
    .bwd_dx = cpu_bwd_dx,
    .dropout_fwd = cpu_dropout_fwd,
    .dropout_bwd = cpu_dropout_bwd,
};
