/* core/cuda/reduce.cu — CUDA kernels of the reduce family (contracts in core/kern/reduce.h).
 *
 * Forward, x [P,R,Q]:
 *   Q = 1  one block per output p (grid-stride): threads stride over the contiguous run of R values; sums in double
 *          with a fixed tree (deterministic); max by a block max tree, logsumexp = m + log Σ exp(x − m) in double;
 *   Q > 1  one thread per output (p,q) walking r (reads coalesced across q), float accumulation like the CPU.
 * NaN: the CPU's max keeps x[first] when it is NaN and ignores later NaNs; the Q = 1 block path uses fmaxf (NaNs
 * ignored unless all values are NaN). Only NaN inputs can tell them apart.
 * Backward: one thread per x element for sum/logsumexp (the output index is Σ i_d·os_d, os_d = 0 on reduced axes);
 * max_bwd: one thread per output searching its reduced box in row-major order (the CPU's first-maximum rule), so
 * the routing is identical to the CPU's.
 */
#include "core/cuda/common.cuh"

#include <math.h>

typedef enum { RED_SUM, RED_MAX, RED_LSE } red_kind;

__global__ static void k_reduce_runs(red_kind kind, int64_t P, int64_t R, float scale, const float *x, float *y) {
    for (int64_t p = blockIdx.x; p < P; p += gridDim.x) {
        const float *xp = x + p * R;
        if (kind == RED_SUM) {
            double s = 0.0;
            for (int64_t r = threadIdx.x; r < R; r += blockDim.x) s += xp[r];
            s = hl_cuda_block_sum(s);
            if (threadIdx.x == 0) y[p] = (float)s * scale;
            continue;
        }
        float m = -INFINITY;
        for (int64_t r = threadIdx.x; r < R; r += blockDim.x) m = fmaxf(m, xp[r]);
        m = hl_cuda_block_max(m);
        if (kind == RED_MAX || isinf(m)) {
            if (threadIdx.x == 0) y[p] = m;
            continue;
        }
        double s = 0.0;
        for (int64_t r = threadIdx.x; r < R; r += blockDim.x) s += exp((double)xp[r] - (double)m);
        s = hl_cuda_block_sum(s);
        if (threadIdx.x == 0) y[p] = (float)((double)m + log(s));
    }
}

__global__ static void k_reduce_cols(red_kind kind, int64_t P, int64_t R, int64_t Q, float scale, const float *x,
                                     float *y) {
    HL_CUDA_FOR(t, P * Q) {
        const int64_t p = t / Q, q = t % Q;
        const float *xp = x + p * R * Q + q;
        if (kind == RED_SUM) {
            float s = 0.0f;
            for (int64_t r = 0; r < R; r++) s += xp[r * Q];
            y[t] = s * scale;
            continue;
        }
        float m = xp[0];
        for (int64_t r = 1; r < R; r++) m = xp[r * Q] > m ? xp[r * Q] : m;
        if (kind == RED_MAX || isinf(m)) {
            y[t] = m;
            continue;
        }
        float s = 0.0f;
        for (int64_t r = 0; r < R; r++) s += expf(xp[r * Q] - m);
        y[t] = m + logf(s);
    }
}

static void reduce_prq(red_kind kind, int64_t P, int64_t R, int64_t Q, float scale, const float *x, float *y) {
    if (P * Q <= 0) return;
    HL_ASSERT(R >= 1, "reduce: empty reduced axis (R = %lld)", (long long)R);
    if (Q == 1) k_reduce_runs<<<(unsigned)HL_MIN(P, (int64_t)65535), HL_CUDA_THREADS>>>(kind, P, R, scale, x, y);
    else k_reduce_cols<<<hl_cuda_blocks(P * Q), HL_CUDA_THREADS>>>(kind, P, R, Q, scale, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_sum(int64_t P, int64_t R, int64_t Q, float scale, const float *x, float *y) {
    reduce_prq(RED_SUM, P, R, Q, scale, x, y);
}
static void cuda_max(int64_t P, int64_t R, int64_t Q, const float *x, float *y) {
    reduce_prq(RED_MAX, P, R, Q, 1.0f, x, y);
}
static void cuda_logsumexp(int64_t P, int64_t R, int64_t Q, const float *x, float *y) {
    reduce_prq(RED_LSE, P, R, Q, 1.0f, x, y);
}

/* ---- backward ---------------------------------------------------------------------------------------------------- */

typedef struct red_geom {
    int64_t shape[4], os[4]; /* input shape; output (keepdim) strides, 0 on reduced axes */
    int64_t n;
} red_geom;

static red_geom red_geom_make(const int64_t shape[4], unsigned axes) {
    red_geom g;
    int64_t s = 1;
    g.n = 1;
    for (int d = 3; d >= 0; d--) {
        const bool red = (axes >> d) & 1u;
        g.shape[d] = shape[d];
        g.os[d] = red ? 0 : s;
        if (!red) s *= shape[d];
        g.n *= shape[d];
    }
    return g;
}

__device__ static inline int64_t red_out(const red_geom &g, int64_t i) {
    int64_t o = 0;
    for (int d = 3; d >= 0; d--) {
        o += (i % g.shape[d]) * g.os[d];
        i /= g.shape[d];
    }
    return o;
}

__global__ static void k_sum_bwd(red_geom g, float scale, const float *dy, float *dx) {
    HL_CUDA_FOR(i, g.n) dx[i] += scale * dy[red_out(g, i)];
}

__global__ static void k_lse_bwd(red_geom g, const float *x, const float *y, const float *dy, float *dx) {
    HL_CUDA_FOR(i, g.n) {
        const int64_t o = red_out(g, i);
        dx[i] += dy[o] * expf(x[i] - y[o]);
    }
}

typedef struct red_box {
    int64_t xs[4], lim[4], kshape[4];
    int64_t nout;
} red_box;

__global__ static void k_max_bwd(red_box b, const float *x, const float *y, const float *dy, float *dx) {
    HL_CUDA_FOR(o, b.nout) {
        int64_t rem = o, base = 0;
        for (int d = 3; d >= 0; d--) {
            base += (rem % b.kshape[d]) * b.xs[d];
            rem /= b.kshape[d];
        }
        const float m = y[o];
        bool done = false;
        for (int64_t i0 = 0; i0 < b.lim[0] && !done; i0++)
            for (int64_t i1 = 0; i1 < b.lim[1] && !done; i1++)
                for (int64_t i2 = 0; i2 < b.lim[2] && !done; i2++)
                    for (int64_t i3 = 0; i3 < b.lim[3]; i3++) {
                        const int64_t i = base + i0 * b.xs[0] + i1 * b.xs[1] + i2 * b.xs[2] + i3 * b.xs[3];
                        if (x[i] == m) {
                            dx[i] += dy[o];
                            done = true;
                            break;
                        }
                    }
    }
}

static void cuda_sum_bwd(const int64_t shape[4], unsigned axes, float scale, const float *dy, float *dx) {
    const red_geom g = red_geom_make(shape, axes);
    if (g.n <= 0) return;
    k_sum_bwd<<<hl_cuda_blocks(g.n), HL_CUDA_THREADS>>>(g, scale, dy, dx);
    HL_CUDA_LAUNCH();
}

static void cuda_logsumexp_bwd(const int64_t shape[4], unsigned axes, const float *x, const float *y,
                               const float *dy, float *dx) {
    const red_geom g = red_geom_make(shape, axes);
    if (g.n <= 0) return;
    k_lse_bwd<<<hl_cuda_blocks(g.n), HL_CUDA_THREADS>>>(g, x, y, dy, dx);
    HL_CUDA_LAUNCH();
}

static void cuda_max_bwd(const int64_t shape[4], unsigned axes, const float *x, const float *y, const float *dy,
                         float *dx) {
    red_box b;
    int64_t s = 1;
    b.nout = 1;
    for (int d = 3; d >= 0; d--) {
        const bool red = (axes >> d) & 1u;
        b.xs[d] = s;
        s *= shape[d];
        b.lim[d] = red ? shape[d] : 1;
        b.kshape[d] = red ? 1 : shape[d];
        b.nout *= b.kshape[d];
    }
    if (b.nout <= 0 || s <= 0) return;
    k_max_bwd<<<hl_cuda_blocks(b.nout), HL_CUDA_THREADS>>>(b, x, y, dy, dx);
    HL_CUDA_LAUNCH();
}

const hl_kern_reduce hl_cuda_reduce = {
    .sum = cuda_sum,
    .max = cuda_max,
    .logsumexp = cuda_logsumexp,
    .sum_bwd = cuda_sum_bwd,
    .max_bwd = cuda_max_bwd,
    .logsumexp_bwd = cuda_logsumexp_bwd,
};
