/* tests/common/test_common.h — helpers shared by the Criterion tests: tensors, closeness, gradient checks.
 *
 * Gradient check (hl_test_gradcheck): for an op y = f(inputs), with a fixed random cotangent r (numel(y) values in
 * [−1,1]), compares the tape's gradient of L = Σ r ⊙ y w.r.t. every element of every checked input against the
 * central difference (L(v+ε) − L(v−ε)) / 2ε, computed in float32 forward passes with the sums in double.
 * Pass: |analytic − numeric| <= atol + rtol·|numeric|.
 * Defaults: ε = 1e-3, atol = 2e-3, rtol = 1e-2 — float32 round-off in L is ~1e-6, so the difference quotient
 * carries ~1e-3 of noise at ε = 1e-3; curvature error is O(ε²).
 * Kinks (relu at 0, max ties, abs at 0, clamp bounds): with kink_tol > 0, an element whose one-sided slopes
 * (L(v+ε) − L(v))/ε and (L(v) − L(v−ε))/ε differ by more than kink_tol is skipped (the finite difference straddles
 * a non-differentiable point); at most max_skip_frac of the elements may be skipped. Smooth ops keep kink_tol = 0,
 * so nothing is skipped for them.
 */
#ifndef HL_TEST_COMMON_H
#define HL_TEST_COMMON_H

#include <criterion/criterion.h>

#include "core/ctx.h"
#include "core/kernels.h"
#include "core/ops/ops.h"
#include "core/tape.h"

/* CPU ctx for tests (aborts the test on failure). */
hl_ctx *hl_test_ctx(void);
/* Heap tensor filled with uniform values in [lo, hi) from a seeded stream. */
hl_tensor *hl_test_tensor(int ndim, const int64_t *shape, uint64_t seed, float lo, float hi);
/* Heap tensor holding `vals` (numel floats). */
hl_tensor *hl_test_tensor_of(int ndim, const int64_t *shape, const float *vals);

/* Asserts |got − want| <= atol + rtol·|want| elementwise, reporting the first failing index. */
void hl_test_assert_close(const float *got, const float *want, int64_t n, float atol, float rtol, const char *what);

typedef hl_tensor *(*hl_test_op_fn)(hl_ctx *ctx, hl_tensor **in, void *user);

typedef struct hl_gradcheck_opts {
    float eps, atol, rtol; /* 0 -> defaults above */
    float kink_tol;        /* 0: no kink skipping */
    double max_skip_frac;  /* 0 -> 0.2 */
    unsigned skip_mask;    /* bit i set: input i is not checked (not differentiable, e.g. a target) */
    bool eval_mode;        /* run f with ctx->train = false */
} hl_gradcheck_opts;

/* Checks the gradient of f w.r.t. every input not in skip_mask. Inputs are heap tensors (hl_test_tensor); their
 * requires-grad flags are set here. The ctx RNG is re-seeded before every evaluation, so stochastic ops (dropout)
 * see the same mask each time. */
void hl_test_gradcheck(const char *what, hl_test_op_fn f, int n_in, hl_tensor **in, void *user,
                       hl_gradcheck_opts opts);

/* Checks core/ctx.h's batch-invariant promise for an op y = f(x) that maps a batch x [B, sample...] to y [B, ...]:
 * in batch-invariant eval mode, sample s's output and its input gradient (for a seed gradient fixed per sample) are
 * bit-identical whether s is computed alone or at any position of batches of 2, 5 and 17 samples, with 1 or 2
 * threads. `ndim`/`sample` give one sample's shape (without B). f must not depend on the batch otherwise. */
void hl_test_batch_invariance(const char *what, int ndim, const int64_t *sample, hl_test_op_fn f, void *user);

/* Creates a unique temporary directory (mkdtemp) and returns its path, owned by test_common (do not free it).
 * The directory and its contents are removed, and the path freed, when the test process exits normally. */
const char *hl_test_tmpdir(void);

/* "a/b" in one of 8 rotating static buffers (valid until 8 more calls); fails the test if longer than 1023. */
char *hl_test_path(const char *a, const char *b);

/* Heap "a/b" (the caller frees it). */
char *hl_test_path_alloc(const char *a, const char *b);
/* Whole file into a heap buffer with a NUL appended (len = file size); fails the test if unreadable. */
unsigned char *hl_test_read_file(const char *path, size_t *len);
/* Writes n bytes to path (replacing it); fails the test on error. */
void hl_test_write_file(const char *path, const void *b, size_t n);

#endif
