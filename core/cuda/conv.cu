/* core/cuda/conv.cu — CUDA kernels of the conv family (contracts and layouts in core/kern/conv.h).
 *
 * im2col: one thread per column entry col[(c,i,j), b·Ho·Wo + oh·Wo + ow] = x[b, c, oh·sh − ph + i·dh,
 * ow·sw − pw + j·dw] (0 outside). col2im is written as a GATHER (Caffe's formulation): one thread per input pixel
 * (b,c,h,w) adds every column entry that im2col copied from it — tap (i,j) hits the pixel from output row
 * oh = (h + ph − i·dh)/sh when that division is exact and 0 <= oh < Ho (likewise for columns). No atomics:
 * deterministic. bias_bwd: one block per channel, double accumulation over B·HW.
 */
#include "core/cuda/common.cuh"

__global__ static void k_im2col(hl_conv_geom g, const float *x, float *col) {
    const int64_t HoWo = g.Ho * g.Wo, N = g.B * HoWo, total = g.C * g.kh * g.kw * N;
    HL_CUDA_FOR(t, total) {
        const int64_t row = t / N, q = t % N;
        const int64_t j = row % g.kw, i = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
        const int64_t b = q / HoWo, oh = (q % HoWo) / g.Wo, ow = q % g.Wo;
        const int64_t ih = oh * g.sh - g.ph + i * g.dh, iw = ow * g.sw - g.pw + j * g.dw;
        col[t] = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? x[((b * g.C + c) * g.H + ih) * g.W + iw] : 0.0f;
    }
}

__global__ static void k_col2im(hl_conv_geom g, const float *col, float *x) {
    const int64_t HoWo = g.Ho * g.Wo, N = g.B * HoWo, total = g.B * g.C * g.H * g.W;
    HL_CUDA_FOR(t, total) {
        const int64_t w = t % g.W, h = (t / g.W) % g.H, c = (t / (g.W * g.H)) % g.C, b = t / (g.W * g.H * g.C);
        float s = 0.0f;
        for (int64_t i = 0; i < g.kh; i++) {
            const int64_t nh = h + g.ph - i * g.dh;
            if (nh < 0 || nh % g.sh != 0) continue;
            const int64_t oh = nh / g.sh;
            if (oh >= g.Ho) continue;
            for (int64_t j = 0; j < g.kw; j++) {
                const int64_t nw = w + g.pw - j * g.dw;
                if (nw < 0 || nw % g.sw != 0) continue;
                const int64_t ow = nw / g.sw;
                if (ow >= g.Wo) continue;
                s += col[((c * g.kh + i) * g.kw + j) * N + b * HoWo + oh * g.Wo + ow];
            }
        }
        x[t] += s;
    }
}

/* y [C, B·HW] = x [B,C,HW]: thread per y element. */
__global__ static void k_to_cmajor(int64_t B, int64_t C, int64_t HW, const float *x, float *y) {
    HL_CUDA_FOR(t, B * C * HW) {
        const int64_t k = t % HW, b = (t / HW) % B, c = t / (HW * B);
        y[t] = x[(b * C + c) * HW + k];
    }
}

/* y [B,C,HW] (=|+=) x [C, B·HW] + bias[c]: thread per y element. */
__global__ static void k_from_cmajor(int64_t B, int64_t C, int64_t HW, const float *x, const float *bias,
                                     bool accumulate, float *y) {
    HL_CUDA_FOR(t, B * C * HW) {
        const int64_t k = t % HW, c = (t / HW) % C, b = t / (HW * C);
        const float v = x[(c * B + b) * HW + k] + (bias ? bias[c] : 0.0f);
        y[t] = accumulate ? y[t] + v : v;
    }
}

__global__ static void k_bias_add(int64_t B, int64_t C, int64_t HW, const float *bias, float *y) {
    HL_CUDA_FOR(t, B * C * HW) y[t] += bias[(t / HW) % C];
}

/* db[c] += Σ_{b,hw} dy[b,c,hw]: block c (grid-stride over channels), threads stride over B·HW. */
__global__ static void k_bias_bwd(int64_t B, int64_t C, int64_t HW, const float *dy, float *db) {
    for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
        double s = 0.0;
        for (int64_t q = threadIdx.x; q < B * HW; q += blockDim.x) s += dy[((q / HW) * C + c) * HW + q % HW];
        s = hl_cuda_block_sum(s);
        if (threadIdx.x == 0) db[c] += (float)s;
    }
}

static void cuda_im2col(hl_conv_geom g, const float *x, float *col) {
    const int64_t total = g.C * g.kh * g.kw * g.B * g.Ho * g.Wo;
    if (total <= 0) return;
    k_im2col<<<hl_cuda_blocks(total), HL_CUDA_THREADS>>>(g, x, col);
    HL_CUDA_LAUNCH();
}

static void cuda_col2im(hl_conv_geom g, const float *col, float *x) {
    HL_ASSERT(g.sh >= 1 && g.sw >= 1, "conv: stride %dx%d", g.sh, g.sw);
    const int64_t total = g.B * g.C * g.H * g.W;
    if (total <= 0) return;
    k_col2im<<<hl_cuda_blocks(total), HL_CUDA_THREADS>>>(g, col, x);
    HL_CUDA_LAUNCH();
}

static void cuda_to_cmajor(int64_t B, int64_t C, int64_t HW, const float *x, float *y) {
    if (B * C * HW <= 0) return;
    k_to_cmajor<<<hl_cuda_blocks(B * C * HW), HL_CUDA_THREADS>>>(B, C, HW, x, y);
    HL_CUDA_LAUNCH();
}

static void cuda_from_cmajor(int64_t B, int64_t C, int64_t HW, const float *x, const float *bias, bool accumulate,
                             float *y) {
    if (B * C * HW <= 0) return;
    k_from_cmajor<<<hl_cuda_blocks(B * C * HW), HL_CUDA_THREADS>>>(B, C, HW, x, bias, accumulate, y);
    HL_CUDA_LAUNCH();
}

static void cuda_bias_add(int64_t B, int64_t C, int64_t HW, const float *bias, float *y) {
    if (B * C * HW <= 0) return;
    k_bias_add<<<hl_cuda_blocks(B * C * HW), HL_CUDA_THREADS>>>(B, C, HW, bias, y);
    HL_CUDA_LAUNCH();
}

static void cuda_bias_bwd(int64_t B, int64_t C, int64_t HW, const float *dy, float *db) {
    if (C <= 0) return;
    k_bias_bwd<<<(unsigned)HL_MIN(C, (int64_t)65535), HL_CUDA_THREADS>>>(B, C, HW, dy, db);
    HL_CUDA_LAUNCH();
}

const hl_kern_conv hl_cuda_conv = {
    .im2col = cuda_im2col,
    .col2im = cuda_col2im,
    .to_cmajor = cuda_to_cmajor,
    .from_cmajor = cuda_from_cmajor,
    .bias_add = cuda_bias_add,
    .bias_bwd = cuda_bias_bwd,
};
