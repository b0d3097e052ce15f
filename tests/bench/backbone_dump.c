/* tests/bench/backbone_dump.c — helper of tests/bench/backbone_torch.py: one eval-mode forward (and input gradient)
 * of a hashlab backbone with weights from a safetensors file, for comparison with torchvision.
 *   backbone_dump KIND WEIGHTS.safetensors X.npy R.npy FEATURES.npy GRAD.npy
 * X float32 [B, C, H, W] in [0, 1]; R float32 [B, F] the cotangent; writes the features [B, F] and the gradient of
 * Σ R ⊙ features with respect to X [B, C, H, W]. Not built by CMake: backbone_torch.py compiles it against a build
 * directory's libhl_core.a (the command is in that script). */
#include <stdio.h>
#include <string.h>

#include "core/ctx.h"
#include "core/io/npy.h"
#include "core/nn/backbone.h"
#include "core/tape.h"

static int fail(const char *what) {
    fprintf(stderr, "backbone_dump: %s: %s\n", what, hl_error_last());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: backbone_dump KIND WEIGHTS.safetensors X.npy R.npy FEATURES.npy GRAD.npy\n");
        return 2;
    }
    hl_threads_init();
    hl_npy x, r;
    if (hl_npy_read(argv[3], &x) < 0 || x.dtype != HL_NPY_F32 || x.ndim != 4) return fail(argv[3]);
    if (hl_npy_read(argv[4], &r) < 0 || r.dtype != HL_NPY_F32 || r.ndim != 2) return fail(argv[4]);
    hl_params p;
    hl_backbone bb;
    hl_params_init(&p);
    if (hl_backbone_init(&bb, &p, "", argv[1], (int)x.shape[1], (int)x.shape[2], (int)x.shape[3]) < 0 ||
        hl_params_alloc(&p) < 0)
        return fail(argv[1]);
    int copied = 0;
    if (hl_backbone_load_weights(&bb, &p, argv[2], &copied) < 0) return fail(argv[2]);
    hl_ctx *ctx;
    if (hl_ctx_create(&ctx, HL_DEVICE_CPU, 0) < 0) return fail("ctx");
    hl_ctx_set_train(ctx, false);
    hl_tensor *xt = hl_tensor_from(ctx, 4, x.shape, x.data);
    hl_tensor_set_requires_grad(xt, true);
    hl_tensor *f = hl_backbone_forward(ctx, &bb, xt);
    if (f->shape[0] != r.shape[0] || f->shape[1] != r.shape[1]) {
        fprintf(stderr, "backbone_dump: R is [%lld, %lld], the features [%lld, %lld]\n", (long long)r.shape[0],
                (long long)r.shape[1], (long long)f->shape[0], (long long)f->shape[1]);
        return 1;
    }
    if (hl_npy_write(argv[5], HL_NPY_F32, 2, f->shape, f->data) < 0) return fail(argv[5]);
    hl_backward_seed(ctx, f, r.data);
    if (hl_npy_write(argv[6], HL_NPY_F32, 4, x.shape, xt->grad) < 0) return fail(argv[6]);
    printf("%s: %d tensors loaded, features [%lld, %lld]\n", argv[1], copied, (long long)f->shape[0],
           (long long)f->shape[1]);
    hl_ctx_free(ctx);
    hl_params_free(&p);
    hl_npy_free(&x), hl_npy_free(&r);
    return 0;
}
