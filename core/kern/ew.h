/* core/kern/ew.h — raw kernels of the ew op family (elementwise arithmetic with broadcasting, activations).
 * CPU instance: core/cpu/ew.c.
 *
 * Binary ops come in two shapes:
 *   - flat:      a, b, y all hold n elements (same shape) — one vectorisable loop;
 *   - broadcast: y is contiguous over g.shape (1..4 dims); a and b are read at a[Σ i_d·sa[d]], b[Σ i_d·sb[d]],
 *                where a stride is 0 on a dimension the operand is stretched along (numpy broadcasting).
 * Ops pass a *collapsed* geometry (size-1 dims dropped, adjacent dims merged where both operands allow it), so
 * [B,C,H,W] ⊙ [1,C,1,1] arrives as shape [B, C, H·W] with sb = (0, 1, 0), and [B,K] + [K] as [B,K], sb = (0, 1).
 * Any geometry whose strides are an operand's contiguous strides with zeros on stretched dims is valid (so the
 * innermost stride of an operand is 0 or 1).
 *
 * Gradients of a broadcast operand are summed over its stretched dimensions (binary_bwd_bcast, sum_to). Every
 * backward kernel ACCUMULATES (+=) into its gradient output. Results do not depend on the thread count.
 */
#ifndef HL_KERN_EW_H
#define HL_KERN_EW_H

#include <stdbool.h>
#include <stdint.h>

#define HL_EW_MAX_DIMS 4

typedef enum hl_ew_binop {
    HL_EW_ADD, /* y = a + b;  ∂a = dy,   ∂b = dy */
    HL_EW_SUB, /* y = a − b;  ∂a = dy,   ∂b = −dy */
    HL_EW_MUL, /* y = a · b;  ∂a = dy·b, ∂b = dy·a */
    HL_EW_DIV  /* y = a / b;  ∂a = dy/b, ∂b = −dy·a/b² */
} hl_ew_binop;

/* Broadcast geometry of a binary op: output index space and the element strides of both operands over it. */
typedef struct hl_ew_bcast {
    int ndim;                       /* 1..HL_EW_MAX_DIMS */
    int64_t shape[HL_EW_MAX_DIMS];  /* output shape; y is contiguous */
    int64_t sa[HL_EW_MAX_DIMS];     /* strides of a (0 = stretched) */
    int64_t sb[HL_EW_MAX_DIMS];     /* strides of b (0 = stretched) */
} hl_ew_bcast;

/* Unary maps y = f(x; p0, p1) with their gradients (dx += dy·f'(x)); backward may read x and/or y. */
typedef enum hl_ew_unop {
    HL_EW_AFFINE,     /* y = p0·x + p1 (scale, add_scalar);         f' = p0 */
    HL_EW_POW,        /* y = powf(x, p0) (x·x for p0 = 2);          f' = p0·x^(p0−1), 0 when p0 = 0 */
    HL_EW_CLAMP,      /* y = min(max(x, p0), p1), NaN propagates;    f' = 1 on [p0, p1] (bounds included), else 0 */
    HL_EW_ABS,        /* y = |x|;                                     f' = sign(x), 0 at 0 */
    HL_EW_EXP,        /* y = e^x;                                     f' = y */
    HL_EW_LOG,        /* y = ln x;                                    f' = 1/x */
    HL_EW_RELU,       /* y = max(x, 0), NaN propagates;              f' = [x > 0] */
    HL_EW_LEAKY_RELU, /* y = x > 0 ? x : p0·x;                        f' = x > 0 ? 1 : p0 */
    HL_EW_SIGMOID,    /* y = 1/(1 + e^−x), stable for both signs;    f' = y(1 − y) */
    HL_EW_TANH,       /* y = tanh(p0·x);                              f' = p0(1 − y²) */
    HL_EW_SOFTPLUS,   /* y = max(x,0) + log1p(e^−|x|);               f' = sigmoid(x) */
    HL_EW_SIGN,       /* y = sign(x) ∈ {−1, 0, +1};                   f' = 0 (unary_bwd adds nothing) */
    HL_EW_SIGN_STE,   /* y = x >= 0 ? +1 : −1;                        f' = 1 (straight-through) */
    HL_EW_UNOP_COUNT
} hl_ew_unop;

typedef struct hl_kern_ew {
    /* y[n] = a[n] op b[n]. */
    void (*binary)(hl_ew_binop op, int64_t n, const float *a, const float *b, float *y);
    /* y[g.shape] = a op b with broadcasting (see top). */
    void (*binary_bcast)(hl_ew_binop op, hl_ew_bcast g, const float *a, const float *b, float *y);
    /* Same-shape backward: da[n] += ∂y/∂a·dy, db[n] += ∂y/∂b·dy; da or db NULL = not wanted. da may equal db
     * (y = x op x). */
    void (*binary_bwd)(hl_ew_binop op, int64_t n, const float *a, const float *b, const float *dy, float *da,
                       float *db);
    /* Broadcast backward for one operand: which = 0 → dx is a's gradient (laid out like a, strides g.sa),
     * which = 1 → b's (strides g.sb). dx += the operand's partial times dy [g.shape], summed over the dims the
     * operand is stretched along. */
    void (*binary_bwd_bcast)(hl_ew_binop op, int which, hl_ew_bcast g, const float *a, const float *b,
                             const float *dy, float *dx);
    /* The broadcast-gradient reduction: dx[Σ i_d·g.sa[d]] += alpha·dy[i] over g.shape (g.sb is ignored), i.e. an
     * out-shaped gradient summed into an in-shaped one. E.g. bias gradient of [B,C,H·W] + [1,C,1]: g.shape =
     * (B, C, H·W), g.sa = (0, 1, 0) gives dx[c] += alpha·Σ_{b,hw} dy[b,c,hw]. */
    void (*sum_to)(hl_ew_bcast g, float alpha, const float *dy, float *dx);
    /* y[n] = f(x[n]; p0, p1) (see hl_ew_unop). */
    void (*unary)(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, float *y);
    /* dx[n] += f'(x)·dy; x is the forward input, y the forward output (both always passed). */
    void (*unary_bwd)(hl_ew_unop op, int64_t n, float p0, float p1, const float *x, const float *y,
                      const float *dy, float *dx);
    /* g[n] = y > 0 ? g : 0, in place: the gradient through a ReLU that an op applied to its own output y (fused
     * conv2d / batch norm + ReLU, core/ops/ops.h); the same as HL_EW_RELU's f' = [x > 0], since y > 0 ⇔ x > 0. */
    void (*relu_mask)(int64_t n, const float *y, float *g);
} hl_kern_ew;

extern const hl_kern_ew hl_cpu_ew;

#endif
