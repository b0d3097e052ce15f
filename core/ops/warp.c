/* core/ops/warp.c — differentiable affine image warp (PyTorch affine_grid + grid_sample, bilinear, zero padding,
 * align_corners = False) and rotation about the image centre built on it.
 *
 * The warp is linear in the image, y = A_θ·x, so its backward is the exact adjoint gx += A_θᵀ·gy (bilinear weights
 * scattered back to the source taps). θ is a constant: it is copied into an arena tensor [B,6] on the ctx's device
 * (the caller's host array may be reused before backward) and kept in node->saved[0]; only x is a tape input.
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

#include <math.h>

/* saved[0] = θ [B,6] on the device. */
static void affine_warp_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *th = n->saved[0];
    if (hl_wants_grad(x))
        ctx->k->warp->affine_bwd(x->shape[0], x->shape[1], x->shape[2], x->shape[3], th->data, n->out->grad,
                                 hl_grad(ctx, x));
}
static const hl_op_desc affine_warp_desc = {"affine_warp", affine_warp_backward};

/* x [B,C,H,W], theta host [B·6] -> [B,C,H,W]. Output pixel (i,j) (normalised (x_n, y_n)) reads the input at
 * θ_b·(x_n, y_n, 1) bilinearly; samples outside the image read zero. */
hl_tensor *hl_affine_warp(hl_ctx *ctx, hl_tensor *x, const float *theta) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT_T(x->ndim == 4, x);
    HL_ASSERT(theta != NULL, "hl_affine_warp: NULL theta");
    const int64_t B = x->shape[0];
    hl_tensor *th = hl_tensor_from(ctx, 2, HL_SHAPE(B, 6), theta);
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    ctx->k->warp->affine_fwd(B, x->shape[1], x->shape[2], x->shape[3], th->data, x->data, y->data);
    hl_node *n = hl_record(ctx, &affine_warp_desc, y, 1, (hl_tensor *[]){x});
    if (n) n->saved[0] = th;
    return y;
}

/* Rotation by a (radians), counter-clockwise as displayed (row 0 at the top, y pointing down), about the image
 * centre, as a true rotation in pixel space (torchvision's rotate; for non-square images the normalised-coordinate
 * recipe θ = [[cos, −sin, 0], [sin, cos, 0]] would shear).
 *
 * Derivation. Centred pixel coordinates u = x_n·W/2, v = y_n·H/2 (v down). Turning the picture counter-clockwise
 * on screen moves a source point (u, v) to (u cos a + v sin a, −u sin a + v cos a); the output pixel therefore
 * samples the source at the inverse rotation
 *     u_s = u cos a − v sin a,   v_s = u sin a + v cos a,
 * and back in normalised coordinates
 *     θ = [[cos a, −sin a·H/W, 0], [sin a·W/H, cos a, 0]]       (= [[cos, −sin, 0], [sin, cos, 0]] when H = W).
 * Check at a = 90°: the output's top-left corner (−1, −1) samples (1, −1), the source's top-right corner. */
hl_tensor *hl_rotate(hl_ctx *ctx, hl_tensor *x, const float *angles) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT_T(x->ndim == 4, x);
    HL_ASSERT(angles != NULL, "hl_rotate: NULL angles");
    const int64_t B = x->shape[0];
    const double hw = (double)x->shape[2] / (double)x->shape[3]; /* H/W */
    float *theta = hl_ctx_alloc(ctx, (size_t)B * 6 * sizeof *theta);
    for (int64_t b = 0; b < B; b++) {
        const double c = cos((double)angles[b]), s = sin((double)angles[b]);
        float *t = theta + b * 6;
        t[0] = (float)c;
        t[1] = (float)(-s * hw);
        t[2] = 0.0f;
        t[3] = (float)(s / hw);
        t[4] = (float)c;
        t[5] = 0.0f;
    }
    return hl_affine_warp(ctx, x, theta);
}

/* ---- rotation with a differentiable angle ---- */

/* dL/dθ of the warp for one sample (host loop, CPU memory; see hl_rotate_t in ops.h for the math). Mirrors
 * core/cpu/warp.c's pixel map and taps: pixel (i,j) samples at ix = (W/2)(θ0 x_n + θ1 y_n + θ2 + 1) − ½,
 * iy = (H/2)(θ3 x_n + θ4 y_n + θ5 + 1) − ½; out = Σ_k w_k x_k, and with fx, fy the fractional parts
 *     ∂out/∂ix = (1−fy)(x01 − x00) + fy(x11 − x10),   ∂out/∂iy = (1−fx)(x10 − x00) + fx(x11 − x01)
 * (taps outside the image read 0), ∂ix/∂θ0..2 = (W/2)(x_n, y_n, 1), ∂iy/∂θ3..5 = (H/2)(x_n, y_n, 1). */
static void warp_theta_grad(int64_t C, int64_t H, int64_t W, const float *th, const float *x, const float *gy,
                            double g[6]) {
    const double h = (double)H, w = (double)W;
    const double t0 = th[0], t1 = th[1], t2 = th[2], t3 = th[3], t4 = th[4], t5 = th[5];
    /* the CPU kernel's pixel map (core/cpu/warp.c, warp_pixel_map), evaluated the same way so the taps agree */
    const double m[6] = {t0, t1 * w / h, 0.5 * w * (t2 + 1.0 - t0 - t1) - 0.5,
                         t3 * h / w, t4, 0.5 * h * (t5 + 1.0 - t3 - t4) - 0.5};
    for (int k = 0; k < 6; k++) g[k] = 0.0;
    for (int64_t i = 0; i < H; i++) {
        for (int64_t j = 0; j < W; j++) {
            const double xn = (2.0 * (double)j + 1.0) / w - 1.0, yn = (2.0 * (double)i + 1.0) / h - 1.0;
            const double cj = (double)j + 0.5, ci = (double)i + 0.5;
            const double ix = m[0] * cj + m[1] * ci + m[2];
            const double iy = m[3] * cj + m[4] * ci + m[5];
            if (!(ix > -1.0 && ix < w && iy > -1.0 && iy < h)) continue;
            const double fx0 = floor(ix), fy0 = floor(iy);
            const int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
            const double fx = ix - fx0, fy = iy - fy0;
            double dix = 0.0, diy = 0.0;
            for (int64_t c = 0; c < C; c++) {
                const float *xp = x + c * H * W;
                const double gv = gy[c * H * W + i * W + j];
                if (gv == 0.0) continue;
                double v[4];
                for (int k = 0; k < 4; k++) {
                    const int64_t yy = y0 + (k >> 1), xx = x0 + (k & 1);
                    v[k] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? xp[yy * W + xx] : 0.0;
                }
                dix += gv * ((1.0 - fy) * (v[1] - v[0]) + fy * (v[3] - v[2]));
                diy += gv * ((1.0 - fx) * (v[2] - v[0]) + fx * (v[3] - v[1]));
            }
            g[0] += 0.5 * w * xn * dix, g[1] += 0.5 * w * yn * dix, g[2] += 0.5 * w * dix;
            g[3] += 0.5 * h * xn * diy, g[4] += 0.5 * h * yn * diy, g[5] += 0.5 * h * diy;
        }
    }
}

/* in = {x, angles}; saved[0] = θ [B,6]. */
static void rotate_t_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *a = n->in[1], *th = n->saved[0];
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    if (hl_wants_grad(x)) ctx->k->warp->affine_bwd(B, C, H, W, th->data, n->out->grad, hl_grad(ctx, x));
    if (!hl_wants_grad(a)) return;
    float *ga = hl_grad(ctx, a);
    const double hw = (double)H / (double)W;
    for (int64_t b = 0; b < B; b++) {
        double g[6];
        warp_theta_grad(C, H, W, th->data + b * 6, x->data + b * C * H * W, n->out->grad + b * C * H * W, g);
        const double c = cos((double)a->data[b]), s = sin((double)a->data[b]);
        /* dθ/da = [[−s, −c·H/W, 0], [c·W/H, −s, 0]] */
        ga[b] += (float)(-s * g[0] - c * hw * g[1] + c / hw * g[3] - s * g[4]);
    }
}
static const hl_op_desc rotate_t_desc = {"rotate_t", rotate_t_backward};

hl_tensor *hl_rotate_t(hl_ctx *ctx, hl_tensor *x, hl_tensor *angles) {
    HL_CHECK_INPUT(ctx, x);
    HL_CHECK_INPUT(ctx, angles);
    HL_ASSERT_T(x->ndim == 4, x);
    HL_ASSERT_T(hl_numel(angles) == x->shape[0], angles);
    HL_ASSERT(ctx->dev == HL_DEVICE_CPU, "hl_rotate_t: the angle gradient has a CPU implementation only");
    const int64_t B = x->shape[0];
    const double hw = (double)x->shape[2] / (double)x->shape[3]; /* H/W */
    hl_tensor *th = hl_tensor_new(ctx, 2, HL_SHAPE(B, 6));
    for (int64_t b = 0; b < B; b++) { /* exactly hl_rotate's θ */
        const double c = cos((double)angles->data[b]), s = sin((double)angles->data[b]);
        float *t = th->data + b * 6;
        t[0] = (float)c;
        t[1] = (float)(-s * hw);
        t[2] = 0.0f;
        t[3] = (float)(s / hw);
        t[4] = (float)c;
        t[5] = 0.0f;
    }
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    ctx->k->warp->affine_fwd(B, x->shape[1], x->shape[2], x->shape[3], th->data, x->data, y->data);
    hl_node *n = hl_record(ctx, &rotate_t_desc, y, 2, (hl_tensor *[]){x, angles});
    if (n) n->saved[0] = th;
    return y;
}
