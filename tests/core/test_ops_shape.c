/* tests/core/test_ops_shape.c — reshape (views, −1 inference), flatten, transpose (every axis pair), concat (any
 * axis, more inputs than a node holds), slice (any axis): values against hand numbers / index loops, and gradient
 * checks for every input. */
#include <stdio.h>
#include <stdlib.h>

#include "test_common.h"

/* ---- reshape / flatten ------------------------------------------------------------------------------------------ */

Test(shape, reshape_view_and_infer) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(3, HL_SHAPE(2, 3, 4), 101, -1, 1);
    hl_tensor *y = hl_reshape(ctx, x, 2, HL_SHAPE(-1, 6));
    cr_assert(y->ndim == 2 && y->shape[0] == 4 && y->shape[1] == 6, "-1 inferred as 4");
    cr_assert_eq(y->data, x->data, "reshape is a view");
    cr_assert(hl_tensor_is_contiguous(y));
    y = hl_reshape(ctx, x, 4, HL_SHAPE(1, 24, 1, 1));
    cr_assert(y->shape[1] == 24 && hl_tensor_numel(y) == 24);
    hl_tensor *one = hl_test_tensor_of(1, HL_SHAPE(1), (float[]){3.0f});
    y = hl_reshape(ctx, one, 0, NULL);
    cr_assert(y->ndim == 0 && y->data[0] == 3.0f, "[1] -> 0-dim");
    hl_tensor *x4 = hl_test_tensor(4, HL_SHAPE(2, 3, 2, 2), 102, 0, 1);
    hl_tensor *f = hl_flatten(ctx, x4);
    cr_assert(f->ndim == 2 && f->shape[0] == 2 && f->shape[1] == 12, "flatten");
    hl_test_assert_close(f->data, x4->data, 24, 0, 0, "flatten keeps the order");
    hl_tensor_free(x4);
    hl_tensor_free(x);
    hl_tensor_free(one);
    hl_ctx_free(ctx);
}

static hl_tensor *reshape_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    /* reshape, then a non-trivial consumer so the view's gradient is routed through another op */
    hl_tensor *r = hl_reshape(ctx, in[0], 2, HL_SHAPE(3, -1));
    return hl_transpose(ctx, r, 0, 1);
}
static hl_tensor *flatten_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    (void)user;
    return hl_flatten(ctx, in[0]);
}

Test(shape, reshape_flatten_grad) {
    hl_tensor *x = hl_test_tensor(3, HL_SHAPE(2, 3, 2), 103, -1, 1);
    hl_test_gradcheck("reshape", reshape_fn, 1, &x, NULL, (hl_gradcheck_opts){0});
    hl_tensor *x4 = hl_test_tensor(4, HL_SHAPE(2, 2, 1, 3), 104, -1, 1);
    hl_test_gradcheck("flatten", flatten_fn, 1, &x4, NULL, (hl_gradcheck_opts){0});
    hl_tensor_free(x);
    hl_tensor_free(x4);
}

/* ---- transpose ---------------------------------------------------------------------------------------------------- */

Test(shape, transpose_2d_by_hand) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    hl_tensor *y = hl_transpose(ctx, x, 1, 0);
    cr_assert(y->shape[0] == 3 && y->shape[1] == 2);
    hl_test_assert_close(y->data, (float[]){1, 4, 2, 5, 3, 6}, 6, 0, 0, "transpose 2-D");
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

Test(shape, transpose_all_pairs_4d) {
    hl_ctx *ctx = hl_test_ctx();
    const int64_t s[4] = {2, 3, 4, 5};
    hl_tensor *x = hl_test_tensor(4, s, 105, -1, 1);
    for (int d0 = 0; d0 < 4; d0++)
        for (int d1 = 0; d1 < 4; d1++) {
            hl_tensor *y = hl_transpose(ctx, x, d0, d1);
            int64_t ys[4] = {s[0], s[1], s[2], s[3]};
            ys[d0] = s[d1];
            ys[d1] = s[d0];
            for (int d = 0; d < 4; d++) cr_assert_eq(y->shape[d], ys[d]);
            /* y[j] with j = x's index i with coordinates d0, d1 swapped */
            int64_t i[4];
            for (i[0] = 0; i[0] < s[0]; i[0]++)
                for (i[1] = 0; i[1] < s[1]; i[1]++)
                    for (i[2] = 0; i[2] < s[2]; i[2]++)
                        for (i[3] = 0; i[3] < s[3]; i[3]++) {
                            int64_t j[4] = {i[0], i[1], i[2], i[3]};
                            j[d0] = i[d1];
                            j[d1] = i[d0];
                            int64_t xi = ((i[0] * s[1] + i[1]) * s[2] + i[2]) * s[3] + i[3];
                            int64_t yi = ((j[0] * ys[1] + j[1]) * ys[2] + j[2]) * ys[3] + j[3];
                            cr_assert_eq(y->data[yi], x->data[xi], "transpose(%d,%d)", d0, d1);
                        }
        }
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}

typedef struct {
    int a, b;
} pair;

static hl_tensor *transpose_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    pair *p = user;
    return hl_transpose(ctx, in[0], p->a, p->b);
}

Test(shape, transpose_grad) {
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 3, 1, 4), 106, -1, 1);
    const pair ps[] = {{0, 1}, {1, 3}, {3, 0}, {2, 3}, {2, 2}};
    for (size_t k = 0; k < HL_ARRAY_LEN(ps); k++) {
        pair p = ps[k];
        hl_test_gradcheck("transpose", transpose_fn, 1, &x, &p, (hl_gradcheck_opts){0});
    }
    hl_tensor *x3 = hl_test_tensor(3, HL_SHAPE(3, 2, 5), 107, -1, 1);
    pair p = {0, 2};
    hl_test_gradcheck("transpose 3-D", transpose_fn, 1, &x3, &p, (hl_gradcheck_opts){0});
    hl_tensor_free(x);
    hl_tensor_free(x3);
}

/* ---- concat ------------------------------------------------------------------------------------------------------- */

Test(shape, concat_by_hand) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *a = hl_test_tensor_of(2, HL_SHAPE(2, 2), (float[]){1, 2, 3, 4});
    hl_tensor *b = hl_test_tensor_of(2, HL_SHAPE(2, 1), (float[]){5, 6});
    hl_tensor *c = hl_test_tensor_of(2, HL_SHAPE(1, 2), (float[]){7, 8});
    hl_tensor *y = hl_concat(ctx, 2, (hl_tensor *[]){a, b}, 1);
    cr_assert(y->shape[0] == 2 && y->shape[1] == 3);
    hl_test_assert_close(y->data, (float[]){1, 2, 5, 3, 4, 6}, 6, 0, 0, "concat axis 1");
    y = hl_concat(ctx, 2, (hl_tensor *[]){a, c}, 0);
    cr_assert(y->shape[0] == 3 && y->shape[1] == 2);
    hl_test_assert_close(y->data, (float[]){1, 2, 3, 4, 7, 8}, 6, 0, 0, "concat axis 0");
    y = hl_concat(ctx, 1, (hl_tensor *[]){c}, 1);
    hl_test_assert_close(y->data, (float[]){7, 8}, 2, 0, 0, "concat of one");
    hl_tensor_free(a);
    hl_tensor_free(b);
    hl_tensor_free(c);
    hl_ctx_free(ctx);
}

/* Six [2,k,3] inputs along axis 1 (more than a tape node holds), checked against a direct index loop. */
Test(shape, concat_many_axis1) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *xs[6];
    int64_t off[7] = {0};
    for (int k = 0; k < 6; k++) {
        xs[k] = hl_test_tensor(3, HL_SHAPE(2, k + 1, 3), 110 + (uint64_t)k, -1, 1);
        off[k + 1] = off[k] + k + 1;
    }
    hl_tensor *y = hl_concat(ctx, 6, xs, 1);
    cr_assert(y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 21 && y->shape[2] == 3);
    for (int k = 0; k < 6; k++)
        for (int64_t a = 0; a < 2; a++)
            for (int64_t j = 0; j <= k; j++)
                for (int64_t z = 0; z < 3; z++)
                    cr_assert_eq(y->data[(a * 21 + off[k] + j) * 3 + z], xs[k]->data[(a * (k + 1) + j) * 3 + z],
                                 "input %d", k);
    for (int k = 0; k < 6; k++) hl_tensor_free(xs[k]);
    hl_ctx_free(ctx);
}

typedef struct {
    int n, axis;
} cat_user;

static hl_tensor *concat_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    cat_user *u = user;
    return hl_concat(ctx, u->n, in, u->axis);
}

Test(shape, concat_grad) {
    for (int axis = 0; axis < 4; axis++) {
        hl_tensor *in[3];
        for (int k = 0; k < 3; k++) {
            int64_t s[4] = {2, 2, 1, 3};
            s[axis] = k + 1;
            in[k] = hl_test_tensor(4, s, 120 + (uint64_t)(axis * 3 + k), -1, 1);
        }
        cat_user u = {3, axis};
        hl_test_gradcheck("concat", concat_fn, 3, in, &u, (hl_gradcheck_opts){0});
        /* only the middle input differentiable */
        hl_test_gradcheck("concat middle", concat_fn, 3, in, &u, (hl_gradcheck_opts){.skip_mask = 0x5});
        for (int k = 0; k < 3; k++) hl_tensor_free(in[k]);
    }
    hl_tensor *many[6];
    for (int k = 0; k < 6; k++) many[k] = hl_test_tensor(2, HL_SHAPE(k + 1, 2), 130 + (uint64_t)k, -1, 1);
    cat_user u = {6, 0};
    hl_test_gradcheck("concat six", concat_fn, 6, many, &u, (hl_gradcheck_opts){0});
    for (int k = 0; k < 6; k++) hl_tensor_free(many[k]);
}

/* ---- slice -------------------------------------------------------------------------------------------------------- */

Test(shape, slice_values) {
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor_of(2, HL_SHAPE(3, 4), (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    hl_tensor *y = hl_slice(ctx, x, 1, 1, 3);
    cr_assert(y->shape[0] == 3 && y->shape[1] == 2);
    hl_test_assert_close(y->data, (float[]){1, 2, 5, 6, 9, 10}, 6, 0, 0, "slice axis 1");
    y = hl_slice(ctx, x, 0, 2, 3);
    cr_assert(y->shape[0] == 1 && y->shape[1] == 4);
    hl_test_assert_close(y->data, (float[]){8, 9, 10, 11}, 4, 0, 0, "slice axis 0");
    /* 4-D, last axis, against an index loop */
    hl_tensor *x4 = hl_test_tensor(4, HL_SHAPE(2, 3, 2, 5), 140, -1, 1);
    y = hl_slice(ctx, x4, 3, 2, 5);
    for (int64_t r = 0; r < 12; r++)
        for (int64_t j = 0; j < 3; j++) cr_assert_eq(y->data[r * 3 + j], x4->data[r * 5 + 2 + j]);
    y = hl_slice(ctx, x4, 2, 1, 2);
    for (int64_t r = 0; r < 6; r++)
        for (int64_t j = 0; j < 5; j++) cr_assert_eq(y->data[r * 5 + j], x4->data[(r * 2 + 1) * 5 + j]);
    hl_tensor_free(x);
    hl_tensor_free(x4);
    hl_ctx_free(ctx);
}

typedef struct {
    int axis;
    int64_t start, end;
} slice_user;

static hl_tensor *slice_fn(hl_ctx *ctx, hl_tensor **in, void *user) {
    slice_user *u = user;
    return hl_slice(ctx, in[0], u->axis, u->start, u->end);
}

/* Gradient w.r.t. x: dy in the band, zero outside (checked numerically, and the zeros exactly). */
Test(shape, slice_grad) {
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(3, 4, 2, 5), 150, -1, 1);
    const slice_user us[] = {{0, 1, 3}, {1, 0, 1}, {2, 1, 2}, {3, 1, 4}};
    for (size_t k = 0; k < HL_ARRAY_LEN(us); k++) {
        slice_user u = us[k];
        hl_test_gradcheck("slice", slice_fn, 1, &x, &u, (hl_gradcheck_opts){0});
    }
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor_zero_grad(x);
    hl_backward(ctx, hl_sum(ctx, hl_slice(ctx, x, 1, 1, 3), HL_AXES_ALL, false));
    for (int64_t i = 0; i < hl_tensor_numel(x); i++) {
        int64_t c = (i / 10) % 4;
        cr_assert_eq(x->grad[i], (c >= 1 && c < 3) ? 1.0f : 0.0f, "dx[%lld]", (long long)i);
    }
    hl_tensor_free(x);
    hl_ctx_free(ctx);
}
