/* tests/hashers/test_lsh.c — LSH: forward values by hand, codes shape, determinism by seed, gradients w.r.t. the
 * input, encode from a dataset vs from float images, save/load round trip and mismatches. */
#include <stdlib.h>
#include <string.h>

#include "hashers/hasher.h"
#include "test_common.h"

/* n images 1×4×4 with pixel (i, j) = (i * 37 + j * 11) % 256, labels i % 3. */
static void make_set(hl_dataset *d, int64_t n) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "test");
    d->n = n, d->c = 1, d->h = 4, d->w = 4;
    d->pixels = malloc((size_t)(n * 16));
    d->class_id = malloc((size_t)n * sizeof *d->class_id);
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < 16; j++) d->pixels[i * 16 + j] = (uint8_t)((i * 37 + j * 11) % 256);
        d->class_id[i] = i % 3;
    }
    cr_assert_eq(hl_labels_from_class_ids(&d->labels, d->class_id, n, 3), HL_OK);
}

static hl_hasher *make(int bits, uint64_t seed, hl_dataset *d, bool fit) {
    hl_hasher *h = NULL;
    hl_dataset_info info = hl_dataset_info_of(d);
    cr_assert_eq(hl_hasher_create(&h, "lsh", NULL, &info, bits, seed), HL_OK, "%s", hl_error_last());
    if (fit) {
        int64_t idx[20];
        for (int i = 0; i < 20; i++) idx[i] = i;
        cr_assert_eq(hl_hasher_fit(h, d, idx, 20, false), HL_OK, "%s", hl_error_last());
    }
    return h;
}

Test(lsh, forward_matches_hand_computation) {
    hl_dataset d;
    make_set(&d, 30);
    hl_hasher *h = make(8, 7, &d, true);
    hl_tensor *W = hl_params_find(&h->params, "W");
    /* training mean of the first 20 images */
    double mu[16] = {0};
    for (int i = 0; i < 20; i++)
        for (int j = 0; j < 16; j++) mu[j] += d.pixels[i * 16 + j] / 255.0 / 20.0;
    float x[16];
    int64_t one = 25;
    hl_dataset_read(&d, &one, 1, x);
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *xt = hl_tensor_from(ctx, 4, HL_SHAPE(1, 1, 4, 4), x);
    hl_tensor *u = hl_hasher_forward(h, ctx, xt);
    cr_assert_eq(u->shape[0], 1);
    cr_assert_eq(u->shape[1], 8);
    for (int k = 0; k < 8; k++) {
        double want = 0;
        for (int j = 0; j < 16; j++) want += (double)W->data[k * 16 + j] * (x[j] - mu[j]);
        cr_assert_float_eq(u->data[k], want, 1e-4, "bit %d: %g vs %g", k, (double)u->data[k], want);
    }
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(lsh, codes_shape_and_determinism) {
    hl_dataset d;
    make_set(&d, 50);
    hl_ctx *ctx = hl_test_ctx();
    hl_hasher *a = make(70, 3, &d, true), *b = make(70, 3, &d, true), *c = make(70, 4, &d, true);
    hl_codes ca, cb, cc, cs;
    cr_assert_eq(hl_hasher_encode(&ca, a, ctx, &d, NULL, 0, 16), HL_OK, "%s", hl_error_last());
    cr_assert_eq(ca.n, 50);
    cr_assert_eq(ca.bits, 70);
    cr_assert_eq(ca.words, 2);
    cr_assert_eq(hl_hasher_encode(&cb, b, ctx, &d, NULL, 0, 7), HL_OK); /* other batch size: same codes */
    cr_assert_eq(memcmp(ca.w, cb.w, 50 * 2 * sizeof(uint64_t)), 0);
    cr_assert_eq(hl_hasher_encode(&cc, c, ctx, &d, NULL, 0, 0), HL_OK);
    cr_assert_neq(memcmp(ca.w, cc.w, 50 * 2 * sizeof(uint64_t)), 0, "another seed gives other hyperplanes");
    for (int64_t i = 0; i < 50; i++) cr_assert_eq(ca.w[i * 2 + 1] >> 6, 0u, "unused high bits are zero");
    /* a subset by index equals the matching rows */
    int64_t idx[3] = {40, 2, 17};
    cr_assert_eq(hl_hasher_encode(&cs, a, ctx, &d, idx, 3, 2), HL_OK);
    for (int r = 0; r < 3; r++) cr_assert_eq(memcmp(hl_codes_row(&cs, r), hl_codes_row(&ca, idx[r]), 16), 0);
    /* from float images */
    float *x = malloc(50 * 16 * sizeof *x);
    hl_codes cx;
    hl_dataset_read(&d, (int64_t[]){0, 1, 2, 3, 4}, 5, x);
    cr_assert_eq(hl_hasher_encode_images(&cx, a, ctx, x, 5, 2), HL_OK);
    cr_assert_eq(memcmp(cx.w, ca.w, 5 * 2 * sizeof(uint64_t)), 0);
    free(x);
    hl_codes_free(&ca), hl_codes_free(&cb), hl_codes_free(&cc), hl_codes_free(&cs), hl_codes_free(&cx);
    hl_hasher_free(a), hl_hasher_free(b), hl_hasher_free(c);
    hl_ctx_free(ctx);
    hl_dataset_free(&d);
}

Test(lsh, differentiable_in_x) {
    hl_dataset d;
    make_set(&d, 4);
    hl_hasher *h = make(4, 1, &d, false);
    cr_assert(h->cls->flags & HL_HASHER_DIFFERENTIABLE);
    hl_ctx *ctx = hl_test_ctx();
    hl_tensor *x = hl_test_tensor(4, HL_SHAPE(2, 1, 4, 4), 9, 0, 1);
    hl_tensor_set_requires_grad(x, true);
    hl_params_set_requires_grad(&h->params, false);
    hl_tensor *loss = hl_sum(ctx, hl_hasher_forward(h, ctx, x), 3u, false);
    hl_backward(ctx, loss);
    hl_tensor *W = hl_params_find(&h->params, "W");
    for (int j = 0; j < 16; j++) { /* d/dx_j Σ_k u_k = Σ_k W_kj, same for both images */
        float want = W->data[j] + W->data[16 + j] + W->data[32 + j] + W->data[48 + j];
        cr_assert_float_eq(x->grad[j], want, 1e-5);
        cr_assert_float_eq(x->grad[16 + j], want, 1e-5);
    }
    hl_tensor_free(x);
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(lsh, save_load_round_trip) {
    hl_dataset d;
    make_set(&d, 30);
    hl_ctx *ctx = hl_test_ctx();
    hl_hasher *a = make(24, 5, &d, true), *b = make(24, 6, &d, false), *c = make(16, 5, &d, false), *e = NULL;
    const char *path = hl_test_path(hl_test_tmpdir(), "lsh.safetensors");
    cr_assert_eq(hl_hasher_save(a, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_load(b, path), HL_OK, "%s", hl_error_last());
    hl_codes ca, cb;
    cr_assert_eq(hl_hasher_encode(&ca, a, ctx, &d, NULL, 0, 0), HL_OK);
    cr_assert_eq(hl_hasher_encode(&cb, b, ctx, &d, NULL, 0, 0), HL_OK);
    cr_assert_eq(memcmp(ca.w, cb.w, 30 * sizeof(uint64_t)), 0);
    cr_assert(b->fitted);
    cr_assert_eq(hl_hasher_load(c, path), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "checkpoint of 24 bits, expected 16"), "%s", hl_error_last());
    hl_dataset_info info = hl_dataset_info_of(&d);
    cr_assert_eq(hl_hasher_create(&e, "itq", NULL, &info, 16, 5), HL_OK);
    cr_assert_eq(hl_hasher_load(e, path), HL_EMISMATCH);
    cr_assert(strstr(hl_error_last(), "checkpoint of method 'lsh', expected 'itq'"), "%s", hl_error_last());
    hl_codes_free(&ca), hl_codes_free(&cb);
    hl_hasher_free(a), hl_hasher_free(b), hl_hasher_free(c), hl_hasher_free(e);
    hl_ctx_free(ctx);
    hl_dataset_free(&d);
}

Test(lsh, shape_mismatch_refused) {
    hl_dataset d, other;
    make_set(&d, 10);
    make_set(&other, 10);
    other.h = 2, other.w = 8;
    hl_hasher *h = make(8, 1, &d, false);
    hl_ctx *ctx = hl_test_ctx();
    hl_codes c;
    cr_assert_eq(hl_hasher_encode(&c, h, ctx, &other, NULL, 0, 0), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "hasher 'lsh': dataset 'test' has images 1x2x8, the hasher was built for 1x4x4");
    cr_assert_eq(hl_hasher_fit(h, &d, (int64_t[]){0}, 0, true), HL_EINVAL);
    hl_ctx_free(ctx);
    hl_hasher_free(h);
    hl_dataset_free(&d);
    hl_dataset_free(&other);
}
