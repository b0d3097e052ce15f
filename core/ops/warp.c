/* core/ops/warp.c — differentiable affine image warp (PyTorch affine_grid + grid_sample, bilinear, zero padding,
 * align_corners = False) and rotation about the image centre built on it.
 *
 * The warp is linear in the image, y = A_θ·x, so its backward is the exact adjoint gx += A_θᵀ·gy (bilinear weights
 * scattered back to the source taps). θ is a constant: it is copied into an arena tensor [B,6] on the ctx's device
 * (the caller's host array may be reused before backward) and kept in node->saved[0]; only x is a tape input.
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"


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
static hl_tensor *affine_warp_dev(hl_ctx *ctx, hl_tensor *x, hl_tensor *th) {
    const int64_t B = x->shape[0];
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    ctx->k->warp->affine_fwd(B, x->shape[1], x->shape[2], x->shape[3], th->data, x->data, y->data);
    hl_node *n = hl_record(ctx, &affine_warp_desc, y, 1, (hl_tensor *[]){x});
    if (n) n->saved[0] = th;
    return y;
}

hl_tensor *hl_affine_warp(hl_ctx *ctx, hl_tensor *x, const float *theta) {
    HL_CHECK_INPUT(ctx, x);
    HL_ASSERT_T(x->ndim == 4, x);
    HL_ASSERT(theta != NULL, "hl_affine_warp: NULL theta");
    return affine_warp_dev(ctx, x, hl_tensor_from(ctx, 2, HL_SHAPE(x->shape[0], 6), theta));
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
    hl_tensor *a = hl_tensor_from(ctx, 1, HL_SHAPE(B), angles), *th = hl_tensor_new(ctx, 2, HL_SHAPE(B, 6));
    ctx->k->warp->rotate_theta(B, x->shape[2], x->shape[3], a->data, th->data);
    return affine_warp_dev(ctx, x, th);
}

/* ---- rotation with a differentiable angle ---- */

/* in = {x, angles}; saved[0] = θ [B,6]. */
static void rotate_t_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *a = n->in[1], *th = n->saved[0];
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    if (hl_wants_grad(x)) ctx->k->warp->affine_bwd(B, C, H, W, th->data, n->out->grad, hl_grad(ctx, x));
    if (hl_wants_grad(a)) ctx->k->warp->rotate_angle_bwd(B, C, H, W, th->data, a->data, x->data, n->out->grad,
                                                          hl_grad(ctx, a));
}
static const hl_op_desc rotate_t_desc = {"rotate_t", rotate_t_backward};

hl_tensor *hl_rotate_t(hl_ctx *ctx, hl_tensor *x, hl_tensor *angles) {
    HL_CHECK_INPUT(ctx, x);
    HL_CHECK_INPUT(ctx, angles);
    HL_ASSERT_T(x->ndim == 4, x);
    HL_ASSERT_T(hl_numel(angles) == x->shape[0], angles);
    const int64_t B = x->shape[0];
    hl_tensor *th = hl_tensor_new(ctx, 2, HL_SHAPE(B, 6));
    ctx->k->warp->rotate_theta(B, x->shape[2], x->shape[3], angles->data, th->data); /* exactly hl_rotate's θ */
    hl_tensor *y = hl_tensor_new_like(ctx, x);
    ctx->k->warp->affine_fwd(B, x->shape[1], x->shape[2], x->shape[3], th->data, x->data, y->data);
    hl_node *n = hl_record(ctx, &rotate_t_desc, y, 2, (hl_tensor *[]){x, angles});
    if (n) n->saved[0] = th;
    return y;
}
