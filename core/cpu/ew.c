/* core/cpu/ew.c — CPU kernels of the ew family: elementwise arithmetic with broadcasting, unary maps, and the
 * broadcast-gradient reduction (contracts in core/kern/ew.h).
 *
 * Structure:
 *   - row functions (fwd_row, bwd_row, unary_range, unary_bwd_range): one plain loop per case, no strides inside,
 *     so gcc -O3 vectorises them; an operand that is constant along the row is hoisted into a scalar;
 *   - the flat kernels split [0, n) statically over OpenMP threads (only above EW_PAR_MIN elements);
 *   - the broadcast kernels run a "plan": the outer dims of the geometry are split into *kept* dims (each index
 *     owns distinct elements of the written array: run in parallel) and *reduced* dims (the written operand is
 *     stretched along them: looped sequentially inside one work item, so no two threads ever add into the same
 *     element and the summation order is fixed — results do not depend on the thread count). The innermost dim
 *     is a row; when there are few kept rows and the row is long (a scalar operand, [B,K] + [K] with tiny B) and
 *     the row does not reduce, rows are further cut into EW_CHUNK pieces so all threads get work.
 */
#include "core/kern/ew.h"

#include <math.h>

#include "core/common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define EW_PAR_MIN 65536       /* cheap maps (add, mul, relu, ...): threads only above this many elements */
#define EW_PAR_MIN_TRANS 16384 /* maps calling expf/logf/tanhf/powf cost ~10x more per element */
#define EW_CHUNK 8192          /* row piece when rows are too few to share out */

/* This thread's share [*lo, *hi) of n items under a static split (the whole range outside a parallel region). */
static inline void ew_range(int64_t n, int64_t *lo, int64_t *hi) {
#ifdef _OPENMP
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const int64_t t = 0, nt = 1;
#endif
    const int64_t q = n / nt, r = n % nt;
    *lo = t * q + HL_MIN(t, r);
    *hi = *lo + q + (t < r ? 1 : 0);
}

/* ---- binary rows ------------------------------------------------------------------------------------------------ */

/* y[j] = EXPR(av, bv) for j < n; ia/ib (0 or 1) are the operands' strides along the row: 0 = one value for the
 * whole row (the stretched operand of a bias add, a scalar operand). */
#define EW_ROW2(EXPR)                                                                                                 \
    do {                                                                                                              \
        if (ia && ib) {                                                                                               \
            for (int64_t j = 0; j < n; j++) {                                                                         \
                const float av = a[j], bv = b[j];                                                                     \
                y[j] = (EXPR);                                                                                        \
            }                                                                                                         \
        } else if (ia) {                                                                                              \
            const float bv = b[0];                                                                                    \
            for (int64_t j = 0; j < n; j++) {                                                                         \
                const float av = a[j];                                                                                \
                y[j] = (EXPR);                                                                                        \
            }                                                                                                         \
        } else if (ib) {                                                                                              \
            const float av = a[0];                                                                                    \
            for (int64_t j = 0; j < n; j++) {                                                                         \
                const float bv = b[j];                                                                                \
                y[j] = (EXPR);                                                                                        \
            }                                                                                                         \
        } else {                                                                                                      \
            const float av = a[0], bv = b[0], v = (EXPR);                                                             \
            for (int64_t j = 0; j < n; j++) y[j] = v;                                                                 \
        }                                                                                                             \
    } while (0)

static void fwd_row(hl_ew_binop op, int64_t n, const float *a, int ia, const float *b, int ib, float *y) {
    switch (op) {
    case HL_EW_ADD: EW_ROW2(av + bv); break;
    case HL_EW_SUB: EW_ROW2(av - bv); break;
    case HL_EW_MUL: EW_ROW2(av * bv); break;
    case HL_EW_DIV: EW_ROW2(av / bv); break;
    default: HL_ASSERT(0, "ew: unknown binary op %d", (int)op);
    }
}

/* Backward roles: the gradient of one operand x given dy, x's own value xv and the other operand's value ov.
 *   SCALE: alpha·dy (add: alpha = 1; sub's b: alpha = −1; sum_to)    MUL: dy·ov
 *   DIVA:  dy/ov (x = a, o = b)                                       DIVB: −dy·ov/xv² (x = b, o = a) */
typedef enum ew_role { EW_R_SCALE, EW_R_MUL, EW_R_DIVA, EW_R_DIVB } ew_role;

#define EW_T_SCALE(d, xv, ov) (alpha * (d))
#define EW_T_MUL(d, xv, ov) ((d) * (ov))
#define EW_T_DIVA(d, xv, ov) ((d) / (ov))
#define EW_T_DIVB(d, xv, ov) (-(d) * (ov) / ((xv) * (xv)))

/* dx[j·ix] += T(dy[j], x[j·ix], o[j·io]) for j < n. ix = 0: the row is a reduction (x stretched along it): the
 * terms are summed first (SIMD reduction, fixed order for a given build), then added to dx[0]. The arguments a term
 * does not use are never evaluated. */
#define EW_BWD_ROW(T)                                                                                                 \
    do {                                                                                                              \
        if (ix && io) {                                                                                               \
            for (int64_t j = 0; j < n; j++) dx[j] += T(dy[j], x[j], o[j]);                                            \
        } else if (ix) {                                                                                              \
            const float o0 = o[0];                                                                                    \
            (void)o0;                                                                                                 \
            for (int64_t j = 0; j < n; j++) dx[j] += T(dy[j], x[j], o0);                                              \
        } else {                                                                                                      \
            const float x0 = x[0];                                                                                    \
            float s = 0.0f;                                                                                           \
            (void)x0;                                                                                                 \
            if (io) {                                                                                                 \
                _Pragma("omp simd reduction(+ : s)") for (int64_t j = 0; j < n; j++) s += T(dy[j], x0, o[j]);        \
            } else {                                                                                                  \
                const float o0 = o[0];                                                                                \
                (void)o0;                                                                                             \
                _Pragma("omp simd reduction(+ : s)") for (int64_t j = 0; j < n; j++) s += T(dy[j], x0, o0);          \
            }                                                                                                         \
            dx[0] += s;                                                                                               \
        }                                                                                                             \
    } while (0)

static void bwd_row(ew_role role, float alpha, int64_t n, const float *dy, const float *x, int ix, const float *o,
                    int io, float *dx) {
    switch (role) {
    case EW_R_SCALE: EW_BWD_ROW(EW_T_SCALE); break;
    case EW_R_MUL: EW_BWD_ROW(EW_T_MUL); break;
    case EW_R_DIVA: EW_BWD_ROW(EW_T_DIVA); break;
    case EW_R_DIVB: EW_BWD_ROW(EW_T_DIVB); break;
    }
}

/* The role and sign of operand `which` (0 = a, 1 = b) of op. */
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

/* ---- flat binary kernels ---------------------------------------------------------------------------------------- */

static void cpu_binary(hl_ew_binop op, int64_t n, const float *a, const float *b, float *y) {
#pragma omp parallel if (n > EW_PAR_MIN)
    {
        int64_t lo, hi;
        ew_range(n, &lo, &hi);
        fwd_row(op, hi - lo, a + lo, 1, b + lo, 1, y + lo);
    }
}

static void cpu_binary_bwd(hl_ew_binop op, int64_t n, const float *a, const float *b, const float *dy, float *da,
                           float *db) {
    float alpha_a, alpha_b;
    const ew_role ra = ew_role_of(op, 0, &alpha_a), rb = ew_role_of(op, 1, &alpha_b);
#pragma omp parallel if (n > EW_PAR_MIN)
    {
        int64_t lo, hi;
        ew_range(n, &lo, &hi);
        if (da) bwd_row(ra, alpha_a, hi - lo, dy + lo, a + lo, 1, b + lo, 1, da + lo);
        if (db) bwd_row(rb, alpha_b, hi - lo, dy + lo, b + lo, 1, a + lo, 1, db + lo);
    }
}

/* ---- broadcast plan --------------------------------------------------------------------------------------------- */

/* Operands of a plan: 0 = the contiguous output (y, or dy), 1 and 2 = strided operands (a, b in the forward; the
 * operand x whose gradient is written, and the other operand o, in the backward). */
typedef struct ew_plan {
    int nk, nr;                      /* kept / reduced outer dims */
    int64_t kshape[HL_EW_MAX_DIMS - 1], rshape[HL_EW_MAX_DIMS - 1];
    int64_t kst[3][HL_EW_MAX_DIMS - 1], rst[3][HL_EW_MAX_DIMS - 1]; /* [operand][dim] */
    int64_t nkept, nred;             /* products of kept / reduced sizes */
    int64_t inner, chunk, nchunk;    /* row length; rows cut into nchunk pieces of chunk */
    int i1, i2;                      /* strides of operands 1, 2 along the row (0 or 1) */
    bool par;
} ew_plan;

/* reduce1: outer dims along which operand 1 is stretched (stride 0, size > 1) are reduced dims (operand 1's
 * gradient is written); otherwise every outer dim is kept (the contiguous output is written). */
static void ew_plan_make(ew_plan *p, const hl_ew_bcast *g, const int64_t *s1, const int64_t *s2, bool reduce1) {
    const int nd = g->ndim;
    HL_ASSERT(nd >= 1 && nd <= HL_EW_MAX_DIMS, "ew: broadcast geometry with %d dims", nd);
    int64_t cs[HL_EW_MAX_DIMS], total = 1;
    for (int d = nd - 1; d >= 0; d--) {
        HL_ASSERT(g->shape[d] >= 1, "ew: dim %d has size %lld", d, (long long)g->shape[d]);
        cs[d] = total;
        total *= g->shape[d];
    }
    p->inner = g->shape[nd - 1];
    p->i1 = s1[nd - 1] != 0;
    p->i2 = s2[nd - 1] != 0;
    HL_ASSERT(p->inner == 1 || ((s1[nd - 1] == 0 || s1[nd - 1] == 1) && (s2[nd - 1] == 0 || s2[nd - 1] == 1)),
              "ew: inner strides %lld, %lld (must be 0 or 1)", (long long)s1[nd - 1], (long long)s2[nd - 1]);
    p->nk = p->nr = 0;
    p->nkept = p->nred = 1;
    for (int d = 0; d < nd - 1; d++) {
        const bool red = reduce1 && s1[d] == 0 && g->shape[d] > 1;
        int64_t *shp = red ? p->rshape : p->kshape;
        int64_t(*st)[HL_EW_MAX_DIMS - 1] = red ? p->rst : p->kst;
        const int k = red ? p->nr++ : p->nk++;
        shp[k] = g->shape[d];
        st[0][k] = cs[d];
        st[1][k] = s1[d];
        st[2][k] = s2[d];
        if (red) p->nred *= g->shape[d];
        else p->nkept *= g->shape[d];
    }
    /* Cut rows only when the written operand is not reduced along them (each piece owns its elements). */
    const bool can_cut = !reduce1 || p->i1 || p->inner == 1;
    p->chunk = p->inner;
    p->nchunk = 1;
    if (can_cut && total > EW_PAR_MIN && p->nkept < 64 && p->inner > 2 * EW_CHUNK) {
        p->chunk = EW_CHUNK;
        p->nchunk = (p->inner + EW_CHUNK - 1) / EW_CHUNK;
    }
    p->par = total > EW_PAR_MIN && p->nkept * p->nchunk > 1;
}

/* Adds the offsets of linear index r over a list of nd dims (row-major) to off[0..2]. */
static inline void ew_offsets(int nd, const int64_t *shape, const int64_t st[3][HL_EW_MAX_DIMS - 1], int64_t r,
                              int64_t off[3]) {
    for (int d = nd - 1; d >= 0; d--) {
        const int64_t i = r % shape[d];
        r /= shape[d];
        off[0] += i * st[0][d];
        off[1] += i * st[1][d];
        off[2] += i * st[2][d];
    }
}

/* What a plan's rows do: the forward of op (writes operand 0), or a backward role (writes operand 1's grad). */
typedef struct ew_job {
    bool fwd;
    hl_ew_binop op;
    ew_role role;
    float alpha;
} ew_job;

/* Runs every row of the plan: p0, p1, p2 are the operands' base pointers, w the written array (laid out like
 * operand 0 in the forward, like operand 1 in the backward). Work items = kept rows × row pieces (parallel); the
 * reduced rows of an item run in order inside it. */
static void ew_run(const ew_plan *p, const ew_job *job, const float *p0, const float *p1, const float *p2, float *w) {
    const int64_t items = p->nkept * p->nchunk;
#pragma omp parallel for schedule(static) if (p->par)
    for (int64_t it = 0; it < items; it++) {
        const int64_t kr = it / p->nchunk, j0 = (it % p->nchunk) * p->chunk;
        const int64_t n = HL_MIN(p->chunk, p->inner - j0);
        int64_t ko[3] = {0, 0, 0};
        ew_offsets(p->nk, p->kshape, p->kst, kr, ko);
        for (int64_t rr = 0; rr < p->nred; rr++) {
            int64_t o[3] = {ko[0], ko[1], ko[2]};
            ew_offsets(p->nr, p->rshape, p->rst, rr, o);
            const float *r0 = p0 + o[0] + j0, *r1 = p1 + o[1] + j0 * p->i1, *r2 = p2 + o[2] + j0 * p->i2;
            if (job->fwd) fwd_row(job->op, n, r1, p->i1, r2, p->i2, w + o[0] + j0);
            else bwd_row(job->role, job->alpha, n, r0, r1, p->i1, r2, p->i2, w + o[1] + j0 * p->i1);
        }
    }
}

/* ---- broadcast binary kernels ----------------------------------------------------------------------------------- */

static void cpu_binary_bcast(hl_ew_binop op, hl_ew_bcast g, const float *a, const float *b, float *y) {
    ew_plan p;
    ew_plan_make(&p, &g, g.sa, g.sb, false);
    const ew_job job = {.fwd = true, .op = op};
    ew_run(&p, &job, y, a, b, y);
}

static void cpu_binary_bwd_bcast(hl_ew_binop op, int which, hl_ew_bcast g, const float *a, const float *b,
                                 const float *dy, float *dx) {
    HL_ASSERT(which == 0 || which == 1, "ew: operand %d", which);
    ew_job job = {.fwd = false};
    job.role = ew_role_of(op, which, &job.alpha);
    const int64_t *sx = which ? g.sb : g.sa, *so = which ? g.sa : g.sb;
    const float *x = which ? b : a, *o = which ? a : b;
    ew_plan p;
    ew_plan_make(&p, &g, sx, so, true);
    ew_run(&p, &job, dy, x, o, dx);
}

static void cpu_sum_to(hl_ew_bcast g, float alpha, const float *dy, float *dx) {
    /* Operand 2 is unused by the SCALE role: give it stride 0 everywhere (reads, if any, stay at dy[0]). */
    const int64_t zero[HL_EW_MAX_DIMS] = {0, 0, 0, 0};
    const ew_job job = {.fwd = false, .role = EW_R_SCALE, .alpha = alpha};
    ew_plan p;
    ew_plan_make(&p, &g, g.sa, zero, true);
    ew_run(&p, &job, dy, dx, dy, dx);
}

/* ---- unary maps ------------------------------------------------------------------------------------------------- */

static bool ew_unop_transcendental(hl_ew_unop op) {
    return op == HL_EW_POW || op == HL_EW_EXP || op == HL_EW_LOG || op == HL_EW_SIGMOID || op == HL_EW_TANH ||
           op == HL_EW_SOFTPLUS;
}

#define EW_MAP(EXPR)                                                                                                  \
    for (int64_t i = 0; i < n; i++) {                                                                                 \
        const float v = x[i];                                                                                         \
        y[i] = (EXPR);                                                                                                \
    }

/* sigmoid(v) without overflow: e = e^−|v| ∈ (0, 1]; 1/(1 + e) for v >= 0, e/(1 + e) for v < 0. */
static inline float ew_sigmoid(float v) {
    const float e = expf(-fabsf(v)), r = 1.0f / (1.0f + e);
    return v >= 0.0f ? r : e * r;
}

static void unary_range(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, float *y) {
    switch (op) {
    case HL_EW_AFFINE: EW_MAP(p0 * v + p1); break;
    case HL_EW_POW:
        if (p0 == 2.0f) EW_MAP(v * v)
        else if (p0 == 1.0f) EW_MAP(v)
        else EW_MAP(powf(v, p0))
        break;
    case HL_EW_CLAMP: EW_MAP(v < p0 ? p0 : (v > p1 ? p1 : v)); break;
    case HL_EW_ABS: EW_MAP(fabsf(v)); break;
    case HL_EW_EXP: EW_MAP(expf(v)); break;
    case HL_EW_LOG: EW_MAP(logf(v)); break;
    case HL_EW_RELU: EW_MAP(v < 0.0f ? 0.0f : v); break;
    case HL_EW_LEAKY_RELU: /* = v > 0 ? v : p0·v, written select-then-add so gcc if-converts and vectorises it */
        EW_MAP((v > 0.0f ? v : 0.0f) + p0 * (v > 0.0f ? 0.0f : v));
        break;
    case HL_EW_SIGMOID: EW_MAP(ew_sigmoid(v)); break;
    case HL_EW_TANH: EW_MAP(tanhf(p0 * v)); break;
    case HL_EW_SOFTPLUS: EW_MAP((v > 0.0f ? v : 0.0f) + log1pf(expf(-fabsf(v)))); break;
    case HL_EW_SIGN: EW_MAP(v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f)); break;
    case HL_EW_SIGN_STE: EW_MAP(v >= 0.0f ? 1.0f : -1.0f); break;
    default: HL_ASSERT(0, "ew: unknown unary op %d", (int)op);
    }
}

/* dx[i] += EXPR(v = x[i], u = y[i], d = dy[i]); unused loads are dropped by the compiler. */
#define EW_GRAD(EXPR)                                                                                                 \
    for (int64_t i = 0; i < n; i++) {                                                                                 \
        const float v = x[i], u = y[i], d = dy[i];                                                                    \
        (void)v;                                                                                                      \
        (void)u;                                                                                                      \
        dx[i] += (EXPR);                                                                                              \
    }

static void unary_bwd_range(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, const float *y,
                            const float *dy, float *dx) {
    switch (op) {
    case HL_EW_AFFINE: EW_GRAD(p0 * d); break;
    case HL_EW_POW:
        if (p0 == 0.0f) break; /* x^0 = 1: zero gradient, also at x = 0 (not 0·x^−1 = NaN) */
        if (p0 == 2.0f) EW_GRAD(2.0f * v * d)
        else if (p0 == 1.0f) EW_GRAD(d)
        else EW_GRAD(d * p0 * powf(v, p0 - 1.0f))
        break;
    case HL_EW_CLAMP: EW_GRAD(v >= p0 && v <= p1 ? d : 0.0f); break;
    case HL_EW_ABS: EW_GRAD(v > 0.0f ? d : (v < 0.0f ? -d : 0.0f)); break;
    case HL_EW_EXP: EW_GRAD(d * u); break;
    case HL_EW_LOG: EW_GRAD(d / v); break;
    case HL_EW_RELU: EW_GRAD(v > 0.0f ? d : 0.0f); break;
    case HL_EW_LEAKY_RELU: EW_GRAD((v > 0.0f ? d : 0.0f) + p0 * (v > 0.0f ? 0.0f : d)); break; /* see forward */
    case HL_EW_SIGMOID: EW_GRAD(d * u * (1.0f - u)); break;
    case HL_EW_TANH: EW_GRAD(d * p0 * (1.0f - u * u)); break;
    case HL_EW_SOFTPLUS: EW_GRAD(d * ew_sigmoid(v)); break;
    case HL_EW_SIGN: break; /* zero gradient */
    case HL_EW_SIGN_STE: EW_GRAD(d); break;
    default: HL_ASSERT(0, "ew: unknown unary op %d", (int)op);
    }
    (void)p1;
}

static void cpu_unary(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, float *y) {
    const int64_t par_min = ew_unop_transcendental(op) ? EW_PAR_MIN_TRANS : EW_PAR_MIN;
#pragma omp parallel if (n > par_min)
    {
        int64_t lo, hi;
        ew_range(n, &lo, &hi);
        unary_range(op, hi - lo, p0, p1, x + lo, y + lo);
    }
}

static void cpu_unary_bwd(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, const float *y,
                          const float *dy, float *dx) {
    if (op == HL_EW_SIGN) return;
    const int64_t par_min = ew_unop_transcendental(op) ? EW_PAR_MIN_TRANS : EW_PAR_MIN;
#pragma omp parallel if (n > par_min)
    {
        int64_t lo, hi;
        ew_range(n, &lo, &hi);
        unary_bwd_range(op, hi - lo, p0, p1, x + lo, y + lo, dy + lo, dx + lo);
    }
}

static void cpu_relu_mask(int64_t n, const float *y, float *g) {
#pragma omp parallel for simd schedule(static) if (n > EW_PAR_MIN)
    for (int64_t i = 0; i < n; i++) g[i] = y[i] > 0.0f ? g[i] : 0.0f;
}

const hl_kern_ew hl_cpu_ew = {
    .binary = cpu_binary,
    .binary_bcast = cpu_binary_bcast,
    .binary_bwd = cpu_binary_bwd,
    .binary_bwd_bcast = cpu_binary_bwd_bcast,
    .sum_to = cpu_sum_to,
    .unary = cpu_unary,
    .unary_bwd = cpu_unary_bwd,
    .relu_mask = cpu_relu_mask,
};
