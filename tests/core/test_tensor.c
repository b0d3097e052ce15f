/* tests/core/test_tensor.c — tensor records: shapes, strides, heap/arena lifetimes, errors. */
#include <signal.h>
#include <string.h>

#include "test_common.h"

Test(tensor, shapes_and_strides) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *t = hl_tensor_new(ctx, 4, HL_SHAPE(2, 3, 4, 5));
    cr_assert_eq(hl_tensor_numel(t), 120);
    cr_assert(t->stride[0] == 60 && t->stride[1] == 20 && t->stride[2] == 5 && t->stride[3] == 1);
    cr_assert(hl_tensor_is_contiguous(t));
    char buf[64];
    hl_tensor_set_name(t, "x");
    cr_assert_str_eq(hl_tensor_shape_str(t, buf, sizeof buf), "[2, 3, 4, 5] 'x'");
    hl_tensor *s = hl_tensor_scalar(ctx, 3.5f);
    cr_assert(s->ndim == 0 && hl_tensor_numel(s) == 1 && s->data[0] == 3.5f);
    hl_tensor *z = hl_tensor_zeros(ctx, 2, HL_SHAPE(3, 3));
    for (int i = 0; i < 9; i++) cr_assert_eq(z->data[i], 0.0f);
    hl_ctx_free(ctx);
}

Test(tensor, heap_requires_grad_allocates_grad) {
    hl_tensor *t = NULL;
    cr_assert_eq(hl_tensor_create(&t, 2, HL_SHAPE(2, 2), HL_DEVICE_CPU), HL_OK);
    cr_assert_null(t->grad);
    hl_tensor_set_requires_grad(t, true);
    cr_assert_not_null(t->grad);
    t->grad[3] = 5.0f;
    hl_tensor_zero_grad(t);
    cr_assert_eq(t->grad[3], 0.0f);
    hl_tensor_free(t);
    hl_tensor_free(NULL);
}

Test(tensor, unavailable_device_is_an_error) {
    hl_tensor *t = NULL;
    hl_ctx *ctx = NULL;
    if (hl_device_available(HL_DEVICE_CUDA)) return; /* nothing to check on a machine with a GPU build */
    cr_assert_eq(hl_ctx_create(&ctx, HL_DEVICE_CUDA, 0), HL_EDEVICE);
    cr_assert(strstr(hl_error_last(), "cuda") != NULL, "message: %s", hl_error_last());
    cr_assert_eq(hl_tensor_create(&t, 1, HL_SHAPE(4), HL_DEVICE_CUDA), HL_EDEVICE);
    cr_assert_null(t);
}

Test(error, set_wrap_and_names) {
    cr_assert_eq(hl_error_set(HL_EIO, "cannot open %s", "a.bin"), HL_EIO);
    hl_error_wrap("loading checkpoint");
    cr_assert_str_eq(hl_error_last(), "loading checkpoint: cannot open a.bin");
    cr_assert_eq(hl_error_code(), HL_EIO);
    cr_assert_str_eq(hl_status_name(HL_EFORMAT), "EFORMAT");
    hl_error_clear();
    cr_assert_str_eq(hl_error_last(), "");
}

Test(tensor, assert_prints_shapes, .signal = SIGABRT) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *a = hl_tensor_new(ctx, 2, HL_SHAPE(2, 3)), *b = hl_tensor_new(ctx, 2, HL_SHAPE(4, 5));
    HL_ASSERT_SHAPE(hl_tensor_same_shape(a, b), a, b);
}
