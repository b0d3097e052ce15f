/* tests/core/test_ops_warp.c — affine warp (PyTorch affine_grid + grid_sample, bilinear, zeros, align_corners =
 * False) and rotation: exact permutations (identity, whole-pixel shifts, 90°/180° turns), hand-computed bilinear
 * values, a literal PyTorch-formula reference loop, backward values and gradchecks. */
#include "test_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const float ID[6] = {1, 0, 0, 0, 1, 0};

/* 1×1×H×W image holding `v`. */
static hl_tensor *img(int H, int W, const float *v) { return hl_test_tensor_of(4, HL_SHAPE(1, 1, H, W), v); }

/* The reference: PyTorch's formulas verbatim, in float, normalised coordinates (independent of the kernel's
 * pixel-space form). affine_grid: x_n = (2j+1)/W − 1; grid_sample: ix = ((x_s + 1)·W − 1)/2, bilinear, zeros. */
static void ref_warp(int B, int C, int H, int W, const float *th, const float *x, float *y) {
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    const float *t = th + 6 * b, *xp = x + ((size_t)b * C + c) * H * W;
                    float xn = (2.0f * j + 1.0f) / W - 1.0f, yn = (2.0f * i + 1.0f) / H - 1.0f;
                    float xs = t[0] * xn + t[1] * yn + t[2], ys = t[3] * xn + t[4] * yn + t[5];
                    float ix = ((xs + 1.0f) * W - 1.0f) / 2.0f, iy = ((ys + 1.0f) * H - 1.0f) / 2.0f;
                    int x0 = (int)floorf(ix), y0 = (int)floorf(iy);
                    float fx = ix - x0, fy = iy - y0, v = 0.0f;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) {
                            int yy = y0 + dy, xx = x0 + dx;
                            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                            v += (dy ? fy : 1 - fy) * (dx ? fx : 1 - fx) * xp[yy * W + xx];
                        }
                    y[(((size_t)b * C + c) * H + i) * W + j] = v;
                }
}

Test(warp, identity_is_exact) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 3, 4, 5), 1, -1.0f, 1.0f);
    float th[12];
    for (int k = 0; k < 12; k++) th[k] = ID[k % 6];
    hl_tensor *y = hl_affine_warp(ctx, x, th);
    cr_assert_eq(y->ndim, 4);
    for (int d = 0; d < 4; d++) cr_assert_eq(y->shape[d], x->shape[d]);
    hl_test_assert_close(y->data, x->data, hl_tensor_numel(x), 0, 0, "identity");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* θ = ½·I on [[1,2],[3,4]]: output (i,j) samples pixel (¼ + ½i, ¼ + ½j), e.g. (0,0):
 * (¾·¾)·1 + (¾·¼)·2 + (¼·¾)·3 + (¼·¼)·4 = 1.75. PyTorch gives [[1.75, 2.25], [2.75, 3.25]]. */
Test(warp, zoom_in_bilinear_values) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = img(2, 2, (float[]){1, 2, 3, 4});
    hl_tensor *y = hl_affine_warp(ctx, x, (float[]){0.5f, 0, 0, 0, 0.5f, 0});
    hl_test_assert_close(y->data, (float[]){1.75f, 2.25f, 2.75f, 3.25f}, 4, 1e-6f, 0, "zoom in");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* θ = 2·I on a 2×2 image: every sample point is (−½ or 1.5) in each axis, so three of its four taps fall outside
 * and read zero: output = ¼·image. Backward of Σy: every pixel is read once with weight ¼. */
Test(warp, zoom_out_zero_padding_and_backward) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = img(2, 2, (float[]){1, 2, 3, 4});
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y = hl_affine_warp(ctx, x, (float[]){2, 0, 0, 0, 2, 0});
    hl_test_assert_close(y->data, (float[]){0.25f, 0.5f, 0.75f, 1.0f}, 4, 1e-6f, 0, "zoom out");
    hl_backward_seed(ctx, y, (float[]){1, 1, 1, 1});
    hl_test_assert_close(x->grad, (float[]){0.25f, 0.25f, 0.25f, 0.25f}, 4, 1e-6f, 0, "zoom out grad");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* One pixel on a 4×4 image is 2/W = ½ in normalised units. Sample 0: θ2 = +½ -> output (i,j) reads (i, j+1): the
 * picture moves LEFT, last column zero. Sample 1: θ5 = −½ -> output (i,j) reads (i−1, j): moves DOWN, first row
 * zero. Backward of Σy: pixels never read (column 0, resp. row 3) get 0, the others 1. */
Test(warp, translate_one_pixel_zero_fill) {
    hl_ctx *ctx = hl_test_ctx();
    float v[32], want[32], gwant[32];
    for (int k = 0; k < 32; k++) v[k] = (float)(k % 16 + 1);
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(2, 1, 4, 4), v);
    hl_tensor_set_requires_grad(x, true);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            want[i * 4 + j] = j < 3 ? v[i * 4 + j + 1] : 0.0f;
            want[16 + i * 4 + j] = i > 0 ? v[16 + (i - 1) * 4 + j] : 0.0f;
            gwant[i * 4 + j] = j > 0 ? 1.0f : 0.0f;
            gwant[16 + i * 4 + j] = i < 3 ? 1.0f : 0.0f;
        }
    hl_tensor *y = hl_affine_warp(ctx, x, (float[]){1, 0, 0.5f, 0, 1, 0, 1, 0, 0, 0, 1, -0.5f});
    hl_test_assert_close(y->data, want, 32, 0, 0, "shift");
    float ones[32];
    for (int k = 0; k < 32; k++) ones[k] = 1.0f;
    hl_backward_seed(ctx, y, ones);
    hl_test_assert_close(x->grad, gwant, 32, 0, 0, "shift grad");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* 4×4 image 1..16 (row 0 on top). Counter-clockwise on screen by 90° is numpy's rot90: the right column becomes
 * the top row. 180° reverses both axes; −90° (clockwise) makes the left column the top row, read bottom-up. */
Test(warp, rotate_square_exact_permutations) {
    hl_ctx *ctx = hl_test_ctx();
    float v[48];
    for (int k = 0; k < 48; k++) v[k] = (float)(k % 16 + 1);
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(3, 1, 4, 4), v);
    const float want[48] = {
        4,  8,  12, 16, 3,  7,  11, 15, 2,  6,  10, 14, 1,  5,  9,  13, /* +90° (ccw) */
        16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  /* 180° */
        13, 9,  5,  1,  14, 10, 6,  2,  15, 11, 7,  3,  16, 12, 8,  4,  /* −90° (cw) */
    };
    const float a = (float)(HL_PI / 2);
    hl_tensor *y = hl_rotate(ctx, x, (float[]){a, 2 * a, -a});
    /* cos((float)π/2) ≈ −4e-8, not 0: sample points sit ~1e-7 px off the grid, hence the small tolerance. */
    hl_test_assert_close(y->data, want, 48, 1e-4f, 0, "rotations");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Non-square 2×4 landscape [[1,2,3,4],[5,6,7,8]] rotated 90° ccw about its centre is the 4×2 portrait
 * [[4,8],[3,7],[2,6],[1,5]] centred in the same 2×4 frame: its middle rows land in columns 1..2, the rest is
 * outside, and columns 0 and 3 of the frame are empty. (A rotation in normalised coordinates would shear here.) */
Test(warp, rotate_non_square_is_true_rotation) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = img(2, 4, (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    hl_tensor *y = hl_rotate(ctx, x, (float[]){(float)(HL_PI / 2)});
    hl_test_assert_close(y->data, (float[]){0, 3, 7, 0, 0, 2, 6, 0}, 8, 1e-4f, 0, "rotate 2x4");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Zero angle is the identity, bit for bit. */
Test(warp, rotate_zero_is_identity) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(1, 2, 3, 5), 3, 0.0f, 1.0f);
    hl_tensor *y = hl_rotate(ctx, x, (float[]){0.0f});
    hl_test_assert_close(y->data, x->data, hl_tensor_numel(x), 0, 0, "rotate 0");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

/* Two samples, two channels, odd sizes: a rotation+zoom+shift and a general affine map, against the reference. */
static const float TH2[12] = {0.8457f, -0.2616f, 0.07f, 0.2616f, 0.8457f, -0.11f,
                              1.1f,    0.2f,    -0.13f, -0.15f, 0.95f,   0.21f};

Test(warp, matches_pytorch_formula_reference) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 2, 5, 7), 4, -1.0f, 1.0f);
    float want[140];
    ref_warp(2, 2, 5, 7, TH2, x->data, want);
    hl_tensor *y = hl_affine_warp(ctx, x, TH2);
    hl_test_assert_close(y->data, want, 140, 1e-5f, 0, "vs reference");
    /* Not a trivial map: most outputs differ from the input. */
    int moved = 0;
    for (int k = 0; k < 140; k++) moved += fabsf(y->data[k] - x->data[k]) > 1e-3f;
    cr_assert_gt(moved, 100);
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

Test(warp, no_tape_node_without_grad) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(1, 1, 3, 3), 5, 0.0f, 1.0f);
    hl_tensor *y = hl_affine_warp(ctx, x, ID);
    cr_assert(!hl_tensor_requires_grad(y));
    cr_assert_eq(ctx->tape_len, 0);
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

static hl_tensor *f_warp(hl_ctx *ctx, hl_tensor **in, void *user) { return hl_affine_warp(ctx, in[0], user); }

/* The θs of TH2 put sample points strictly inside pixel cells (not on the grid), some taps outside the image. */
Test(warp, affine_gradcheck) {
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 2, 5, 6), 6, -1.0f, 1.0f);
    hl_test_gradcheck("affine_warp", f_warp, 1, (hl_tensor *[]){x}, (void *)TH2, (hl_gradcheck_opts){0});
    hl_tensor_free(x);
}

static hl_tensor *f_rotate(hl_ctx *ctx, hl_tensor **in, void *user) { return hl_rotate(ctx, in[0], user); }

Test(warp, rotate_gradcheck) {
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 1, 4, 6), 7, -1.0f, 1.0f);
    float angles[2] = {0.4f, -1.3f};
    hl_test_gradcheck("rotate", f_rotate, 1, (hl_tensor *[]){x}, angles, (hl_gradcheck_opts){0});
    hl_tensor_free(x);
}

/* Above the parallel threshold: forward against the reference, and the backward as the exact adjoint,
 * ⟨r, A x⟩ = ⟨Aᵀ r, x⟩, with a random cotangent r. */
Test(warp, large_forward_and_adjoint) {
    enum { B = 2, C = 3, H = 48, W = 64, N = B * C * H * W };
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(B, C, H, W), 8, -1.0f, 1.0f);
    hl_tensor *r = hl_test_tensor(4, HL_SHAPE(B, C, H, W), 9, -1.0f, 1.0f);
    hl_tensor_set_requires_grad(x, true);
    static float want[N];
    ref_warp(B, C, H, W, TH2, x->data, want);
    hl_tensor *y = hl_affine_warp(ctx, x, TH2);
    /* The float reference's coordinates carry ~1e-5 px of rounding at 64 px (as PyTorch's do); values ~1/px slope. */
    hl_test_assert_close(y->data, want, N, 1e-4f, 0, "large vs reference");
    hl_backward_seed(ctx, y, r->data);
    double lhs = 0, rhs = 0;
    for (int k = 0; k < N; k++) {
        lhs += (double)r->data[k] * y->data[k];
        rhs += (double)x->grad[k] * x->data[k];
    }
    cr_assert(fabs(lhs - rhs) <= 1e-4 * (fabs(lhs) + 1.0), "adjoint: <r,Ax> = %.8g vs <A^T r,x> = %.8g", lhs, rhs);
    hl_tensor_free(x);
    hl_tensor_free(r);
    hl_ctx_free(ctx);
}

/* ---- hl_rotate_t: the angle is a tensor and gets a gradient ---- */

/* Same angles → bit-identical values to hl_rotate (same θ, same kernel), and the same gradient w.r.t. the image. */
Test(warp, rotate_t_matches_rotate) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(3, 2, 7, 9), 11, 0.0f, 1.0f);
    const float ang[3] = {0.0f, 0.37f, -2.1f};
    hl_tensor *a = hl_test_tensor_of(1, HL_SHAPE(3), ang);
    hl_tensor *r = hl_test_tensor(4, HL_SHAPE(3, 2, 7, 9), 12, -1.0f, 1.0f);
    hl_tensor_set_requires_grad(x, true);
    hl_tensor *y1 = hl_rotate(ctx, x, ang);
    hl_backward_seed(ctx, y1, r->data);
    int64_t N = hl_tensor_numel(x);
    float *g1 = malloc((size_t)N * sizeof *g1), *v1 = malloc((size_t)N * sizeof *v1);
    memcpy(g1, x->grad, (size_t)N * sizeof *g1);
    memcpy(v1, y1->data, (size_t)N * sizeof *v1); /* y1 dies at the reset */
    memset(x->grad, 0, (size_t)N * sizeof *g1);
    hl_ctx_reset(ctx);
    hl_tensor *y2 = hl_rotate_t(ctx, x, a);
    cr_assert_eq(memcmp(v1, y2->data, (size_t)N * sizeof(float)), 0, "rotate_t values differ from rotate");
    hl_backward_seed(ctx, y2, r->data);
    hl_test_assert_close(x->grad, g1, N, 0, 0, "rotate_t image gradient");
    free(g1), free(v1);
    hl_tensor_free(x), hl_tensor_free(a), hl_tensor_free(r);
    hl_ctx_free(ctx);
}

static hl_tensor *f_rotate_t(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_rotate_t(ctx, in[0], in[1]);
}

/* Both gradients (image and angles) against central differences, square and non-square images, angles away from
 * multiples of 90° (where samples sit on pixel lines and bilinear sampling has kinks). A few samples may still cross
 * a pixel line inside ±ε: kink skipping is on for that (the image gradient is linear, so it never skips there). */
Test(warp, rotate_t_gradcheck_image_and_angle) {
    hl_gradcheck_opts o = {.kink_tol = 0.05f};
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(3, 2, 6, 6), 13, 0.0f, 1.0f);
    hl_tensor *a = hl_test_tensor_of(1, HL_SHAPE(3), (float[]){0.31f, -0.77f, 1.93f});
    hl_test_gradcheck("rotate_t square", f_rotate_t, 2, (hl_tensor *[]){x, a}, NULL, o);
    hl_tensor_free(x), hl_tensor_free(a);
    x = hl_test_tensor(4, HL_SHAPE(2, 1, 5, 8), 14, 0.0f, 1.0f);
    a = hl_test_tensor_of(1, HL_SHAPE(2), (float[]){0.52f, -0.23f});
    hl_test_gradcheck("rotate_t non-square", f_rotate_t, 2, (hl_tensor *[]){x, a}, NULL, o);
    hl_tensor_free(x), hl_tensor_free(a);
}

/* The angle gradient is a real signal: rotating a bar image towards its target orientation lowers the MSE, and
 * the gradient at a = 0.3 has the sign of a. Worked check: with target = rotate(x, 0), L(a) = mean (rot(x,a) − x)²
 * grows away from 0, so dL/da > 0 at a = 0.3 and < 0 at a = −0.3. */
Test(warp, rotate_t_angle_gradient_sign) {
    hl_ctx *ctx = hl_test_ctx();
    enum { S = 9 };
    float v[2 * S * S] = {0};
    for (int i = 0; i < S; i++) v[4 * S + i] = v[S * S + 4 * S + i] = 1.0f; /* a horizontal bar in both images */
    hl_tensor *x = hl_test_tensor_of(4, HL_SHAPE(2, 1, S, S), v);
    hl_tensor *a = hl_test_tensor_of(1, HL_SHAPE(2), (float[]){0.3f, -0.3f});
    hl_tensor_set_requires_grad(a, true);
    hl_tensor *tgt = hl_tensor_from(ctx, 4, HL_SHAPE(2, 1, S, S), x->data);
    hl_tensor *l = hl_mse(ctx, hl_rotate_t(ctx, x, a), tgt);
    hl_backward(ctx, l);
    cr_assert(a->grad[0] > 1e-3f && a->grad[1] < -1e-3f, "dL/da = %g, %g", a->grad[0], a->grad[1]);
    hl_tensor_free(x), hl_tensor_free(a);
    hl_ctx_free(ctx);
}
