/* core/ops/conv.c — conv2d and conv_transpose2d by im2col + GEMM, one GEMM per cache-sized chunk of the batch.
 *
 * conv2d, with col = im2col(x) [C·kh·kw, B·Ho·Wo] and W viewed as [O, C·kh·kw]:
 *     forward   Yc [O, B·Ho·Wo] = W·col,            y = NCHW(Yc) + bias
 *     backward  G = channel-major(dy) [O, B·Ho·Wo]
 *               dW += G·colᵀ                      (col recomputed from x, chunk by chunk: x is kept anyway)
 *               dx += col2im(Wᵀ·G)
 *               dbias += Σ_{b,h,w} dy
 * The backward recomputes im2col rather than keeping the forward's: the column matrix is kh·kw times the input, which
 * at ImageNet sizes is most of a step's memory (resnet18, batch 16, 224×224: about 0.9 GB of 2.2 GB), while redoing
 * it costs about 2% of the step. When a chunk holds one image (ImageNet sizes; see below), the image's NCHW blocks
 * of y and dy already are channel-major [O, Ho·Wo] matrices, so the GEMMs read and write them in place (no
 * from_cmajor / to_cmajor copies), and a pointwise convolution (1×1, stride 1, no padding) uses x's block [C, H·W]
 * as its column matrix (no im2col, and dx += Wᵀ·G in one GEMM instead of col2im).
 * hl_conv2d_relu applies the ReLU to y in place and masks dy in place in the backward (hl_kern_ew.relu_mask), so the
 * pre-activation and its gradient never exist: two fewer activation-sized buffers per convolution (VGG-11 at 224,
 * batch 16: about 0.9 GB) and two fewer passes over them.
 * conv_transpose2d is the adjoint of the conv2d that maps its output [B,O,Ho,Wo] back to its input [B,C,H,W]
 * with the same stride/padding/dilation; W [C,O,kh,kw] is viewed as [C, O·kh·kw]:
 *     forward   Xc = channel-major(x) [C, B·H·W],   y = col2im(Wᵀ·Xc) + bias
 *     backward  colg = im2col(dy) [O·kh·kw, B·H·W]
 *               dx += NCHW(W·colg),  dW += Xc·colgᵀ  (Xc saved),  dbias += Σ dy
 * Chunking: the batch is processed in chunks of G images, each chunk one GEMM with N = G·H·W columns, G chosen so
 * a chunk's column matrix and GEMM output (~2 MiB) stay in cache while they are produced and consumed. Measured
 * (tests/bench/conv_lab.c, ref-cnn layers, batch 64, 1 thread) this beats both one whole-batch GEMM, whose
 * [O, B·H·W] output must round-trip through memory to be scattered to NCHW (conv2 forward 8.6 vs 14.6 ms), and B
 * per-image GEMMs, too small for OpenBLAS on 8×8 images (conv3 forward 8.2 vs 10.4 ms). The transpose's saved Xc is
 * kept whole, as consecutive chunk blocks: the chunk starting at image b0 sits at offset b0·C·H·W.
 * Batch-invariant mode (ctx->batch_invariant, core/ctx.h): the chunking stays, but the chunk's GEMM becomes one
 * product per image (gemm_batched), straight between the chunk's column matrix and the image's NCHW block
 * ([O, Ho·Wo] of y, dy, or [C, H·W] of x, dx, which are contiguous), so an image's result never depends on the other
 * images of the batch or on the thread count.
 * Gradients that are not wanted are not computed: a frozen victim (attack) skips dW/dbias, an input image that does
 * not require grad skips Wᵀ·G and col2im.
 */
#include "core/ops/op_impl.h"
#include "core/ops/ops.h"

#define HL_CONV_CHUNK_BYTES (2 << 20)

/* n floats of the op's own temporary memory (core/ctx.h hl_ctx_scratch: shared by every op of the step) / of the
 * step arena (what the backward reads). */
static float *temp(hl_ctx *ctx, int slot, int64_t n) { return hl_ctx_scratch(ctx, slot, (size_t)n * sizeof(float)); }
static float *scratch(hl_ctx *ctx, int64_t n) { return hl_ctx_dev_alloc(ctx, (size_t)n * sizeof(float)); }

/* Images per chunk when one image needs `floats_per_image` floats of chunk scratch. */
static int64_t chunk_images(int64_t B, int64_t floats_per_image) {
    int64_t g = HL_CONV_CHUNK_BYTES / (int64_t)sizeof(float) / HL_MAX(floats_per_image, 1);
    return HL_MAX(1, HL_MIN(g, B));
}

static void check_opts(hl_conv_opts o, bool transpose) {
    for (int a = 0; a < 2; a++) {
        HL_ASSERT(o.stride[a] >= 1 && o.dilation[a] >= 1 && o.pad[a] >= 0,
                  "conv: stride %d, dilation %d must be >= 1 and pad %d >= 0", o.stride[a], o.dilation[a], o.pad[a]);
        if (transpose)
            HL_ASSERT(o.out_pad[a] >= 0 && (o.out_pad[a] < o.stride[a] || o.out_pad[a] < o.dilation[a]),
                      "conv_transpose2d: out_pad %d must be smaller than stride %d or dilation %d", o.out_pad[a],
                      o.stride[a], o.dilation[a]);
        else
            HL_ASSERT(o.out_pad[a] == 0, "conv2d: out_pad %d must be 0 (conv_transpose2d only)", o.out_pad[a]);
    }
}

/* Geometry of the conv2d from an image [B,C,H,W] to output pixels Ho×Wo. */
static hl_conv_geom geom(int64_t B, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t Ho, int64_t Wo,
                         hl_conv_opts o) {
    return (hl_conv_geom){.B = B, .C = C, .H = H, .W = W, .kh = kh, .kw = kw, .Ho = Ho, .Wo = Wo,
                          .sh = o.stride[0], .sw = o.stride[1], .ph = o.pad[0], .pw = o.pad[1],
                          .dh = o.dilation[0], .dw = o.dilation[1]};
}

enum { IA_RELU = 6 }; /* iattr[0..5]: stride, pad, dilation (h, w); iattr[6]: the conv2d's output went through a ReLU */

static void save_opts(hl_node *n, hl_conv_opts o) {
    for (int a = 0; a < 2; a++) {
        n->iattr[a] = o.stride[a];
        n->iattr[2 + a] = o.pad[a];
        n->iattr[4 + a] = o.dilation[a];
    }
}

static hl_conv_opts load_opts(const hl_node *n) {
    hl_conv_opts o = {{1, 1}, {0, 0}, {1, 1}, {0, 0}};
    for (int a = 0; a < 2; a++) {
        o.stride[a] = (int)n->iattr[a];
        o.pad[a] = (int)n->iattr[2 + a];
        o.dilation[a] = (int)n->iattr[4 + a];
    }
    return o;
}

/* x [B,C,H,W]; w [O,C,kh,kw] (conv2d) or [C,O,kh,kw] (transpose); bias [O] or NULL. */
static void check_conv_inputs(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, bool transpose) {
    HL_CHECK_INPUT(ctx, x);
    HL_CHECK_INPUT(ctx, w);
    HL_ASSERT_SHAPE(x->ndim == 4 && w->ndim == 4 && x->shape[1] == w->shape[transpose ? 0 : 1], x, w);
    const int64_t O = w->shape[transpose ? 1 : 0];
    if (bias) {
        HL_CHECK_INPUT(ctx, bias);
        HL_ASSERT_SHAPE(bias->ndim == 1 && bias->shape[0] == O, bias, w);
    }
}

/* ---- conv2d ------------------------------------------------------------------------------------------------------ */

/* A 1×1 convolution with stride 1 and no padding: image b's column matrix is x_b [C, H·W] itself. */
static bool is_pointwise(int64_t kh, int64_t kw, hl_conv_opts o) {
    return kh == 1 && kw == 1 && o.stride[0] == 1 && o.stride[1] == 1 && o.pad[0] == 0 && o.pad[1] == 0;
}

static void conv2d_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    const hl_kernels *k = ctx->k;
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t O = w->shape[0], kh = w->shape[2], kw = w->shape[3], Ho = n->out->shape[2], Wo = n->out->shape[3];
    const int64_t CKK = C * kh * kw, HoWo = Ho * Wo;
    const hl_conv_opts o = load_opts(n);
    /* hl_conv2d_relu: through the ReLU first, in place (nothing reads the output's gradient after its producer) */
    if (n->iattr[IA_RELU]) k->ew->relu_mask(hl_numel(n->out), n->out->data, n->out->grad);
    const float *dy = n->out->grad;
    if (hl_wants_grad(bias)) k->conv->bias_bwd(B, O, HoWo, dy, hl_grad(ctx, bias));
    const bool want_w = hl_wants_grad(w), want_x = hl_wants_grad(x);
    if (!want_w && !want_x) return;
    float *dw = want_w ? hl_grad(ctx, w) : NULL, *dx = want_x ? hl_grad(ctx, x) : NULL;
    const int64_t G = chunk_images(B, (CKK + O) * HoWo);
    const bool single = G == 1, direct = single && is_pointwise(kh, kw, o); /* see hl_conv2d */
    float *Gc = single ? NULL : temp(ctx, 0, O * G * HoWo);                              /* [O, g·Ho·Wo] */
    float *col = want_w && !direct ? temp(ctx, 1, CKK * G * HoWo) : NULL;               /* im2col(x), again */
    float *dcol = want_x && (!direct || ctx->batch_invariant) ? temp(ctx, 2, CKK * G * HoWo) : NULL;
    for (int64_t b0 = 0; b0 < B; b0 += G) {
        const int64_t g = HL_MIN(G, B - b0), N = g * HoWo;
        const float *gm = dy + b0 * O * HoWo; /* [O, N]: a single image's NCHW block is already channel-major */
        if (!single && (want_w || !ctx->batch_invariant)) {
            k->conv->to_cmajor(g, O, HoWo, dy + b0 * O * HoWo, Gc);
            gm = Gc;
        }
        if (want_w) {
            const float *cm = x->data + b0 * C * H * W;
            if (!direct) {
                k->conv->im2col(geom(g, C, H, W, kh, kw, Ho, Wo, o), cm, col);
                cm = col;
            }
            k->base->gemm(false, true, O, CKK, N, 1.0f, gm, N, cm, N, 1.0f, dw, CKK);
        }
        if (!want_x) continue;
        if (ctx->batch_invariant) /* dcol_b [CKK, HoWo] = Wᵀ·dy_b, dy_b the image's NCHW block [O, HoWo] */
            k->base->gemm_batched(true, false, CKK, HoWo, O, 1.0f, w->data, CKK, 0, dy + b0 * O * HoWo, HoWo,
                                  O * HoWo, 0.0f, dcol, N, HoWo, g);
        else if (direct) { /* dx_b [C, HW] += Wᵀ·dy_b: col2im of a pointwise conv is the identity */
            k->base->gemm(true, false, CKK, N, O, 1.0f, w->data, CKK, gm, N, 1.0f, dx + b0 * C * H * W, N);
            continue;
        } else
            k->base->gemm(true, false, CKK, N, O, 1.0f, w->data, CKK, gm, N, 0.0f, dcol, N);
        k->conv->col2im(geom(g, C, H, W, kh, kw, Ho, Wo, o), dcol, dx + b0 * C * H * W);
    }
}
static const hl_op_desc conv2d_desc = {"conv2d", conv2d_backward};

static hl_tensor *conv2d_impl(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o, bool relu) {
    check_conv_inputs(ctx, x, w, bias, false);
    check_opts(o, false);
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t O = w->shape[0], kh = w->shape[2], kw = w->shape[3];
    /* The dilated kernel must fit in the padded image. */
    HL_ASSERT_SHAPE(H + 2 * o.pad[0] >= o.dilation[0] * (kh - 1) + 1, x, w);
    HL_ASSERT_SHAPE(W + 2 * o.pad[1] >= o.dilation[1] * (kw - 1) + 1, x, w);
    const int64_t Ho = (H + 2 * o.pad[0] - o.dilation[0] * (kh - 1) - 1) / o.stride[0] + 1;
    const int64_t Wo = (W + 2 * o.pad[1] - o.dilation[1] * (kw - 1) - 1) / o.stride[1] + 1;
    const int64_t CKK = C * kh * kw, HoWo = Ho * Wo;
    hl_tensor *in[3] = {x, w, bias};
    const int64_t G = chunk_images(B, (CKK + O) * HoWo);
    /* One image per chunk (ImageNet-sized images): its GEMM writes straight into y's NCHW block, and a pointwise
     * conv reads x's block as its column matrix; no copy either way. */
    const bool single = G == 1, direct = single && is_pointwise(kh, kw, o);
    float *colbuf = direct ? NULL : temp(ctx, 0, CKK * G * HoWo);
    float *Yc = single ? NULL : temp(ctx, 1, O * G * HoWo); /* [O, g·Ho·Wo] */
    hl_tensor *y = hl_tensor_new(ctx, 4, HL_SHAPE(B, O, Ho, Wo));
    for (int64_t b0 = 0; b0 < B; b0 += G) {
        const int64_t g = HL_MIN(G, B - b0), N = g * HoWo;
        const float *col = x->data + b0 * C * H * W;
        if (!direct) {
            ctx->k->conv->im2col(geom(g, C, H, W, kh, kw, Ho, Wo, o), col, colbuf);
            col = colbuf;
        }
        if (ctx->batch_invariant) { /* y_b [O, HoWo] = W·col_b */
            ctx->k->base->gemm_batched(false, false, O, HoWo, CKK, 1.0f, w->data, CKK, 0, col, N, HoWo, 0.0f,
                                       y->data + b0 * O * HoWo, HoWo, O * HoWo, g);
        } else if (single) {
            ctx->k->base->gemm(false, false, O, N, CKK, 1.0f, w->data, CKK, col, N, 0.0f, y->data + b0 * O * HoWo, N);
        } else {
            ctx->k->base->gemm(false, false, O, N, CKK, 1.0f, w->data, CKK, col, N, 0.0f, Yc, N);
            ctx->k->conv->from_cmajor(g, O, HoWo, Yc, bias ? bias->data : NULL, false, y->data + b0 * O * HoWo);
        }
    }
    if ((ctx->batch_invariant || single) && bias) ctx->k->conv->bias_add(B, O, HoWo, bias->data, y->data);
    if (relu) ctx->k->ew->unary(HL_EW_RELU, hl_numel(y), 0.0f, 0.0f, y->data, y->data);
    hl_node *n = hl_record(ctx, &conv2d_desc, y, 3, in);
    if (n) {
        save_opts(n, o);
        n->iattr[IA_RELU] = relu;
    }
    return y;
}

hl_tensor *hl_conv2d(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o) {
    return conv2d_impl(ctx, x, w, bias, o, false);
}

hl_tensor *hl_conv2d_relu(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o) {
    return conv2d_impl(ctx, x, w, bias, o, true);
}

/* ---- conv_transpose2d -------------------------------------------------------------------------------------------- */
static void conv_transpose2d_backward(hl_ctx *ctx, const hl_node *n) {
    hl_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    const hl_kernels *k = ctx->k;
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t O = w->shape[1], kh = w->shape[2], kw = w->shape[3], Ho = n->out->shape[2], Wo = n->out->shape[3];
    const int64_t OKK = O * kh * kw, HW = H * W;
    const hl_conv_opts o = load_opts(n);
    const float *dy = n->out->grad;
    if (hl_wants_grad(bias)) k->conv->bias_bwd(B, O, Ho * Wo, dy, hl_grad(ctx, bias));
    const bool want_w = hl_wants_grad(w), want_x = hl_wants_grad(x);
    if (!want_w && !want_x) return;
    const float *Xc_all = n->aux; /* [C, B·H·W] in chunk blocks, saved by the forward */
    HL_ASSERT(!want_w || Xc_all, "conv_transpose2d: w started requiring grad after the forward");
    float *dw = want_w ? hl_grad(ctx, w) : NULL, *dx = want_x ? hl_grad(ctx, x) : NULL;
    const int64_t G = chunk_images(B, (C + OKK) * HW);
    float *colg = temp(ctx, 0, OKK * G * HW);                /* [O·kh·kw, g·H·W] */
    float *dXc = want_x ? temp(ctx, 1, C * G * HW) : NULL; /* [C, g·H·W] */
    for (int64_t b0 = 0; b0 < B; b0 += G) {
        const int64_t g = HL_MIN(G, B - b0), N = g * HW;
        /* The adjoint conv2d: image dy [g,O,Ho,Wo] -> H×W pixels. */
        k->conv->im2col(geom(g, O, Ho, Wo, kh, kw, H, W, o), dy + b0 * O * Ho * Wo, colg);
        if (want_x && ctx->batch_invariant) { /* dx_b [C, HW] += W·colg_b */
            k->base->gemm_batched(false, false, C, HW, OKK, 1.0f, w->data, OKK, 0, colg, N, HW, 1.0f,
                                  dx + b0 * C * HW, HW, C * HW, g);
        } else if (want_x) {
            k->base->gemm(false, false, C, N, OKK, 1.0f, w->data, OKK, colg, N, 0.0f, dXc, N);
            k->conv->from_cmajor(g, C, HW, dXc, NULL, true, dx + b0 * C * HW);
        }
        if (want_w) k->base->gemm(false, true, C, OKK, N, 1.0f, Xc_all + b0 * C * HW, N, colg, N, 1.0f, dw, OKK);
    }
}
static const hl_op_desc conv_transpose2d_desc = {"conv_transpose2d", conv_transpose2d_backward};

hl_tensor *hl_conv_transpose2d(hl_ctx *ctx, hl_tensor *x, hl_tensor *w, hl_tensor *bias, hl_conv_opts o) {
    check_conv_inputs(ctx, x, w, bias, true);
    check_opts(o, true);
    const int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t O = w->shape[1], kh = w->shape[2], kw = w->shape[3];
    const int64_t Ho = (H - 1) * o.stride[0] - 2 * o.pad[0] + o.dilation[0] * (kh - 1) + o.out_pad[0] + 1;
    const int64_t Wo = (W - 1) * o.stride[1] - 2 * o.pad[1] + o.dilation[1] * (kw - 1) + o.out_pad[1] + 1;
    HL_ASSERT_SHAPE(Ho >= 1 && Wo >= 1, x, w); /* padding larger than the output */
    const int64_t OKK = O * kh * kw, HW = H * W;
    hl_tensor *in[3] = {x, w, bias};
    const bool save = hl_needs_grad(ctx, 3, in) && hl_wants_grad(w); /* Xc is needed only for dW */
    const int64_t G = chunk_images(B, (C + OKK) * HW);
    float *Xc_all = save ? scratch(ctx, C * B * HW) : temp(ctx, 1, C * G * HW); /* [C, g·H·W] per chunk */
    float *col = temp(ctx, 0, OKK * G * HW);                                    /* [O·kh·kw, g·H·W] */
    hl_tensor *y = hl_tensor_zeros(ctx, 4, HL_SHAPE(B, O, Ho, Wo));
    for (int64_t b0 = 0; b0 < B; b0 += G) {
        const int64_t g = HL_MIN(G, B - b0), N = g * HW;
        float *Xc = save ? Xc_all + b0 * C * HW : Xc_all;
        if (save || !ctx->batch_invariant) ctx->k->conv->to_cmajor(g, C, HW, x->data + b0 * C * HW, Xc);
        if (ctx->batch_invariant) /* col_b [OKK, HW] = Wᵀ·x_b */
            ctx->k->base->gemm_batched(true, false, OKK, HW, C, 1.0f, w->data, OKK, 0, x->data + b0 * C * HW, HW,
                                       C * HW, 0.0f, col, N, HW, g);
        else
            ctx->k->base->gemm(true, false, OKK, N, C, 1.0f, w->data, OKK, Xc, N, 0.0f, col, N);
        ctx->k->conv->col2im(geom(g, O, Ho, Wo, kh, kw, H, W, o), col, y->data + b0 * O * Ho * Wo);
    }
    if (bias) ctx->k->conv->bias_add(B, O, Ho * Wo, bias->data, y->data);
    hl_node *n = hl_record(ctx, &conv_transpose2d_desc, y, 3, in);
    if (n) {
        save_opts(n, o);
        n->aux = save ? Xc_all : NULL;
    }
    return y;
}
