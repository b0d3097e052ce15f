/* core/cuda/ew.cu — CUDA kernels of the ew family (contracts in core/kern/ew.h).
 *
 * Flat and unary kernels: one grid-stride thread per element. Broadcast forward: one thread per output element,
 * operand offsets from the output index (Σ i_d·s_d). Broadcast backward and sum_to: the written gradient's
 * elements are split off as "kept" dims (the operand is not stretched along them: each kept index owns one dx
 * element) and "reduced" dims (stride 0, size > 1). Each kept element is owned by one thread (nothing to reduce) or
 * one warp (lanes stride over the reduced index space, then a shuffle tree): no atomics, deterministic. The
 * summation order differs from the CPU's, so results agree to float round-off, not bit for bit.
 */
#include "core/cuda/common.cuh"

#include <math.h>

/* ---- elementwise maps ------------------------------------------------------------------------------------------- */

__device__ static inline float ew_fwd(hl_ew_binop op, float a, float b) {
    switch (op) {
    case HL_EW_ADD: return a + b;
    case HL_EW_SUB: return a - b;
    case HL_EW_MUL: return a * b;
    default: return a / b;
    }
}

/* Backward roles (as core/cpu/ew.c): gradient term of operand x from dy = d, x's value xv, the other operand ov.
 * SCALE: alpha·d   MUL: d·ov   DIVA: d/ov (x = a)   DIVB: −d·ov/xv² (x = b). */
typedef enum ew_role { EW_R_SCALE, EW_R_MUL, EW_R_DIVA, EW_R_DIVB } ew_role;

__device__ static inline float ew_term(ew_role r, float alpha, float d, float xv, float ov) {
    switch (r) {
    case EW_R_SCALE: return alpha * d;
    case EW_R_MUL: return d * ov;
    case EW_R_DIVA: return d / ov;
    default: return -d * ov / (xv * xv);
    }
}

static ew_role ew_role_of(hl_ew_binop op, int which, float *alpha) {
    *alpha = 1.0f;
    switch (op) {
    case HL_EW_ADD: return EW_R_SCALE;
    case HL_EW_SUB: *alpha = which ? -1.0f : 1.0f; return EW_R_SCALE;
    case HL_EW_MUL: return EW_R_MUL;
    case HL_EW_DIV: return which ? EW_R_DIVB : EW_R_DIVA;
    }
    HL_ASSERT(0, "ew: unknown binary op %d", (int)op);
}

__global__ static void k_binary(hl_ew_binop op, int64_t n, const float *a, const float *b, float *y) {
    HL_CUDA_FOR(i, n) y[i] = ew_fwd(op, a[i], b[i]);
}

__global__ static void k_binary_bwd(ew_role ra, float alpha_a, ew_role rb, float alpha_b, int64_t n, const float *a,
                                    const float *b, const float *dy, float *da, float *db) {
    HL_CUDA_FOR(i, n) {
        const float av = a[i], bv = b[i], d = dy[i];
        if (da) da[i] += ew_term(ra, alpha_a, d, av, bv);
        if (db) db[i] += ew_term(rb, alpha_b, d, bv, av);
    }
}

__global__ static void k_binary_bcast(hl_ew_binop op, hl_ew_bcast g, int64_t total, const float *a, const float *b,
                                      float *y) {
    HL_CUDA_FOR(t, total) {
        int64_t r = t, oa = 0, ob = 0;
        for (int d = g.ndim - 1; d >= 0; d--) {
            const int64_t i = r % g.shape[d];
            r /= g.shape[d];
            oa += i * g.sa[d];
            ob += i * g.sb[d];
        }
        y[t] = ew_fwd(op, a[oa], b[ob]);
    }
}

/* ---- broadcast reductions --------------------------------------------------------------------------------------- */

/* Kept / reduced split of a geometry; operand 0 = dy (contiguous), 1 = x (the written gradient's layout), 2 = o. */
typedef struct ew_split {
    int nk, nr;
    int64_t kshape[HL_EW_MAX_DIMS], rshape[HL_EW_MAX_DIMS];
    int64_t kst[3][HL_EW_MAX_DIMS], rst[3][HL_EW_MAX_DIMS];
    int64_t nkept, nred;
} ew_split;

static void ew_split_make(ew_split *p, const hl_ew_bcast *g, const int64_t *sx, const int64_t *so) {
    const int nd = g->ndim;
    HL_ASSERT(nd >= 1 && nd <= HL_EW_MAX_DIMS, "ew: broadcast geometry with %d dims", nd);
    int64_t cs[HL_EW_MAX_DIMS], total = 1;
    for (int d = nd - 1; d >= 0; d--) {
        HL_ASSERT(g->shape[d] >= 1, "ew: dim %d has size %lld", d, (long long)g->shape[d]);
        cs[d] = total;
        total *= g->shape[d];
    }
    p->nk = p->nr = 0;
    p->nkept = p->nred = 1;
    for (int d = 0; d < nd; d++) {
        const bool red = sx[d] == 0 && g->shape[d] > 1;
        const int k = red ? p->nr++ : p->nk++;
        int64_t *shp = red ? p->rshape : p->kshape;
        int64_t(*st)[HL_EW_MAX_DIMS] = red ? p->rst : p->kst;
        shp[k] = g->shape[d];
        st[0][k] = cs[d];
        st[1][k] = sx[d];
        st[2][k] = so[d];
        if (red) p->nred *= g->shape[d];
        else p->nkept *= g->shape[d];
    }
}

__device__ static inline void ew_offsets(int nd, const int64_t *shape, const int64_t (*st)[HL_EW_MAX_DIMS],
                                         int64_t r, int64_t off[3]) {
    for (int d = nd - 1; d >= 0; d--) {
        const int64_t i = r % shape[d];
        r /= shape[d];
        off[0] += i * st[0][d];
        off[1] += i * st[1][d];
        off[2] += i * st[2][d];
    }
}

/* dx[x offset of kept k] += Σ_r term(dy, x, o); LANES threads per kept element (1 or 32). */
template <int LANES>
__global__ static void k_bwd_bcast(ew_split p, ew_role role, float alpha, const float *dy, const float *x,
                                   const float *o, float *dx) {
    const int64_t gid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int64_t stride = (int64_t)blockDim.x * gridDim.x / LANES;
    const int lane = (int)(threadIdx.x % LANES);
    for (int64_t k = gid / LANES; k < p.nkept; k += stride) {
        int64_t ko[3] = {0, 0, 0};
        ew_offsets(p.nk, p.kshape, p.kst, k, ko);
        float s = 0.0f;
        for (int64_t r = lane; r < p.nred; r += LANES) {
            int64_t off[3] = {ko[0], ko[1], ko[2]};
            ew_offsets(p.nr, p.rshape, p.rst, r, off);
            s += ew_term(role, alpha, dy[off[0]], x ? x[off[1]] : 0.0f, o ? o[off[2]] : 0.0f);
        }
        if (LANES > 1) {
            for (int w = LANES / 2; w > 0; w >>= 1) s += __shfl_down_sync(0xffffffffu, s, w, LANES);
        }
        if (lane == 0) dx[ko[1]] += s;
    }
}

static void ew_run_bwd(const ew_split *p, ew_role role, float alpha, const float *dy, const float *x, const float *o,
                       float *dx) {
    if (p->nkept <= 0) return;
    if (p->nred == 1) {
        k_bwd_bcast<1><<<hl_cuda_blocks(p->nkept), HL_CUDA_THREADS>>>(*p, role, alpha, dy, x, o, dx);
    } else {
        k_bwd_bcast<32><<<hl_cuda_blocks(p->nkept * 32), HL_CUDA_THREADS>>>(*p, role, alpha, dy, x, o, dx);
    }
    HL_CUDA_LAUNCH();
}

/* ---- unary maps ------------------------------------------------------------------------------------------------- */

__device__ static inline float ew_sigmoid(float v) {
    const float e = expf(-fabsf(v)), r = 1.0f / (1.0f + e);
    return v >= 0.0f ? r : e * r;
}

__device__ static inline float ew_unary_f(hl_ew_unop op, float v, float p0, float p1) {
    switch (op) {
    case HL_EW_AFFINE: return p0 * v + p1;
    case HL_EW_POW: return p0 == 2.0f ? v * v : (p0 == 1.0f ? v : powf(v, p0));
    case HL_EW_CLAMP: return v < p0 ? p0 : (v > p1 ? p1 : v);
    case HL_EW_ABS: return fabsf(v);
    case HL_EW_EXP: return expf(v);
    case HL_EW_LOG: return logf(v);
    case HL_EW_RELU: return v < 0.0f ? 0.0f : v;
    case HL_EW_LEAKY_RELU: return (v > 0.0f ? v : 0.0f) + p0 * (v > 0.0f ? 0.0f : v);
    case HL_EW_SIGMOID: return ew_sigmoid(v);
    case HL_EW_TANH: return tanhf(p0 * v);
    case HL_EW_SOFTPLUS: return (v > 0.0f ? v : 0.0f) + log1pf(expf(-fabsf(v)));
    case HL_EW_SIGN: return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
    default: return v >= 0.0f ? 1.0f : -1.0f; /* HL_EW_SIGN_STE */
    }
}

/* dx term f'(x)·dy with v = x, u = y, d = dy (HL_EW_SIGN and p0 = 0 powers are skipped by the caller). */
__device__ static inline float ew_unary_g(hl_ew_unop op, float v, float u, float d, float p0, float p1) {
    switch (op) {
    case HL_EW_AFFINE: return p0 * d;
    case HL_EW_POW: return p0 == 2.0f ? 2.0f * v * d : (p0 == 1.0f ? d : d * p0 * powf(v, p0 - 1.0f));
    case HL_EW_CLAMP: return v >= p0 && v <= p1 ? d : 0.0f;
    case HL_EW_ABS: return v > 0.0f ? d : (v < 0.0f ? -d : 0.0f);
    case HL_EW_EXP: return d * u;
    case HL_EW_LOG: return d / v;
    case HL_EW_RELU: return v > 0.0f ? d : 0.0f;
    case HL_EW_LEAKY_RELU: return (v > 0.0f ? d : 0.0f) + p0 * (v > 0.0f ? 0.0f : d);
    case HL_EW_SIGMOID: return d * u * (1.0f - u);
    case HL_EW_TANH: return d * p0 * (1.0f - u * u);
    case HL_EW_SOFTPLUS: return d * ew_sigmoid(v);
    case HL_EW_SIGN: return 0.0f;
    default: return d; /* HL_EW_SIGN_STE */
    }
}

__global__ static void k_unary(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, float *y) {
    HL_CUDA_FOR(i, n) y[i] = ew_unary_f(op, x[i], p0, p1);
}

__global__ static void k_unary_bwd(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, const float *y,
                                   const float *dy, float *dx) {
    HL_CUDA_FOR(i, n) dx[i] += ew_unary_g(op, x[i], y[i], dy[i], p0, p1);
}

/* ---- table entries ---------------------------------------------------------------------------------------------- */

static void cuda_binary(hl_ew_binop op, int64_t n, const float *a, const float *b, float *y) {
    if (n <= 0) return;
    k_binary<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(op, n, a, b, y);
    HL_CUDA_LAUNCH();
}

static void cuda_binary_bcast(hl_ew_binop op, hl_ew_bcast g, const float *a, const float *b, float *y) {
    HL_ASSERT(g.ndim >= 1 && g.ndim <= HL_EW_MAX_DIMS, "ew: broadcast geometry with %d dims", g.ndim);
    int64_t total = 1;
    for (int d = 0; d < g.ndim; d++) total *= g.shape[d];
    if (total <= 0) return;
    k_binary_bcast<<<hl_cuda_blocks(total), HL_CUDA_THREADS>>>(op, g, total, a, b, y);
    HL_CUDA_LAUNCH();
}

static void cuda_binary_bwd(hl_ew_binop op, int64_t n, const float *a, const float *b, const float *dy, float *da,
                            float *db) {
    if (n <= 0 || (!da && !db)) return;
    float alpha_a, alpha_b;
    const ew_role ra = ew_role_of(op, 0, &alpha_a), rb = ew_role_of(op, 1, &alpha_b);
    k_binary_bwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(ra, alpha_a, rb, alpha_b, n, a, b, dy, da, db);
    HL_CUDA_LAUNCH();
}

static void cuda_binary_bwd_bcast(hl_ew_binop op, int which, hl_ew_bcast g, const float *a, const float *b,
                                  const float *dy, float *dx) {
    HL_ASSERT(which == 0 || which == 1, "ew: operand %d", which);
    float alpha;
    const ew_role role = ew_role_of(op, which, &alpha);
    ew_split p;
    ew_split_make(&p, &g, which ? g.sb : g.sa, which ? g.sa : g.sb);
    ew_run_bwd(&p, role, alpha, dy, which ? b : a, which ? a : b, dx);
}

static void cuda_sum_to(hl_ew_bcast g, float alpha, const float *dy, float *dx) {
    const int64_t zero[HL_EW_MAX_DIMS] = {0, 0, 0, 0};
    ew_split p;
    ew_split_make(&p, &g, g.sa, zero);
    ew_run_bwd(&p, EW_R_SCALE, alpha, dy, NULL, NULL, dx);
}

static void cuda_unary(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, float *y) {
    HL_ASSERT((unsigned)op < HL_EW_UNOP_COUNT, "ew: unknown unary op %d", (int)op);
    if (n <= 0) return;
    k_unary<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(op, n, p0, p1, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_unary_bwd(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, const float *y,
                           const float *dy, float *dx) {
    HL_ASSERT((unsigned)op < HL_EW_UNOP_COUNT, "ew: unknown unary op %d", (int)op);
    if (n <= 0 || op == HL_EW_SIGN || (op == HL_EW_POW && p0 == 0.0f)) return;
    k_unary_bwd<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(op, n, p0, p1, x, y, dy, dx);
    HL_CUDA_LAUNCH();
}

__global__ static void k_relu_mask(int64_t n, const float *y, float *g) {
    HL_CUDA_FOR(i, n) g[i] = y[i] > 0.0f ? g[i] : 0.0f;
}

static void cuda_relu_mask(int64_t n, const float *y, float *g) {
    if (n <= 0) return;
    k_relu_mask<<<hl_cuda_blocks(n), HL_CUDA_THREADS>>>(n, y, g);
    HL_CUDA_LAUNCH();
}

const hl_kern_ew hl_cuda_ew = {
    .binary = cuda_binary,
    .binary_bcast = cuda_binary_bcast,
    .binary_bwd = cuda_binary_bwd,
    .binary_bwd_bcast = cuda_binary_bwd_bcast,
    .sum_to = cuda_sum_to,
    .unary = cuda_unary,
    .unary_bwd = cuda_unary_bwd,
    .relu_mask = cuda_relu_mask,
};
