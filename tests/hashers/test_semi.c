/* tests/hashers/test_semi.c — the semi-supervised and unsupervised fit plumbing: the label-less dataset view, the
 * batcher over it, and what hl_hasher_fit_semi hands each kind of method (recorded by probe classes defined here):
 *   semi-supervised class with fit_semi: labelled images with labels + unlabelled images through a view without any
 *                                         label rows or class ids (the hidden labels cannot be read);
 *   supervised class without fit_semi:   plain fit on the labelled images, labels visible;
 *   unsupervised class:                  plain fit through the label-less view, labels_visible false.
 * Plus the errors: unlabelled index out of range, a supervised fit on a label-less dataset. */
#include <string.h>

#include "core/data/batch.h"
#include "hashers/hasher.h"
#include "test_hashers.h"

/* What the probe's fit / fit_semi saw. */
static struct seen {
    int fit_calls, semi_calls;
    bool labels_visible, train_has_labels, unl_has_labels, unl_has_class_ids;
    int64_t n, nu;
    const uint8_t *train_pixels, *unl_pixels;
} g_seen;

struct probe {
    hl_hasher base;
};

static hl_status probe_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                            uint64_t seed) {
    (void)self, (void)cfg, (void)info, (void)bits, (void)seed;
    return HL_OK;
}

static hl_status probe_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    (void)self, (void)idx;
    g_seen.fit_calls++;
    g_seen.labels_visible = labels;
    g_seen.train_has_labels = hl_dataset_has_labels(train);
    g_seen.n = n;
    g_seen.train_pixels = train->pixels;
    return HL_OK;
}

static hl_status probe_fit_semi(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n,
                                const hl_dataset *unl, const int64_t *uidx, int64_t nu) {
    (void)self, (void)idx, (void)uidx;
    g_seen.semi_calls++;
    g_seen.train_has_labels = hl_dataset_has_labels(train);
    g_seen.unl_has_labels = hl_dataset_has_labels(unl) || unl->labels.n != 0;
    g_seen.unl_has_class_ids = unl->class_id != NULL || unl->class_names != NULL;
    g_seen.n = n, g_seen.nu = nu;
    g_seen.train_pixels = train->pixels, g_seen.unl_pixels = unl->pixels;
    return HL_OK;
}

static hl_tensor *probe_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    (void)self;
    return hl_tensor_new(ctx, 2, HL_SHAPE(x->shape[0], 4));
}

static const hl_hasher_class k_semi = {.abi = HL_HASHER_ABI, .name = "semi_probe", .summary = "probe",
                                       .size = sizeof(struct probe),
                                       .flags = HL_HASHER_SUPERVISED | HL_HASHER_SEMI_SUPERVISED,
                                       .init = probe_init, .fit = probe_fit, .fit_semi = probe_fit_semi,
                                       .forward = probe_forward};
static const hl_hasher_class k_sup = {.abi = HL_HASHER_ABI, .name = "sup_probe", .summary = "probe",
                                      .size = sizeof(struct probe), .flags = HL_HASHER_SUPERVISED,
                                      .init = probe_init, .fit = probe_fit, .forward = probe_forward};
static const hl_hasher_class k_unsup = {.abi = HL_HASHER_ABI, .name = "unsup_probe", .summary = "probe",
                                        .size = sizeof(struct probe), .init = probe_init, .fit = probe_fit,
                                        .forward = probe_forward};

static hl_hasher *make(const hl_hasher_class *cls, const hl_dataset *d) {
    hl_dataset_info info = hl_dataset_info_of(d);
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create_class(&h, cls, NULL, &info, 4, 1), HL_OK, "%s", hl_error_last());
    memset(&g_seen, 0, sizeof g_seen);
    return h;
}

static const int64_t k_lab[] = {0, 1, 2, 3, 4, 5}, k_unl[] = {6, 7, 8, 9};

Test(semi, unlabelled_view_shares_pixels_and_hides_labels) {
    hl_dataset d;
    hl_test_synthetic(&d, 10, 1, 8, 3, 5);
    hl_dataset v = hl_dataset_unlabelled_view(&d);
    cr_assert(hl_dataset_has_labels(&d));
    cr_assert(!hl_dataset_has_labels(&v));
    cr_assert_eq(v.labels.n, 0);
    cr_assert_eq(v.labels.nlabels, 0);
    cr_assert_null(v.class_id);
    cr_assert_null(v.class_names);
    cr_assert_eq(v.pixels, d.pixels);
    cr_assert_eq(v.n, d.n);
    cr_assert_str_eq(v.name, d.name);
    hl_dataset_info info = hl_dataset_info_of(&v);
    cr_assert_eq(info.nlabels, 0);
    hl_dataset_free(&d);
}

/* Batches over the view carry the same images as over the dataset, and no labels. */
Test(semi, batcher_over_view_has_images_and_no_labels) {
    hl_dataset d;
    hl_test_synthetic(&d, 10, 1, 8, 3, 5);
    hl_dataset v = hl_dataset_unlabelled_view(&d);
    hl_batcher a, b;
    hl_batcher_opts o = {.batch = 4, .seed = 3, .shuffle = true};
    cr_assert_eq(hl_batcher_init(&a, &d, k_unl, 4, &o), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_batcher_init(&b, &v, k_unl, 4, &o), HL_OK, "%s", hl_error_last());
    hl_batch x, y;
    cr_assert(hl_batcher_next(&a, &x));
    cr_assert(hl_batcher_next(&b, &y));
    cr_assert_eq(x.m, 4);
    cr_assert_eq(y.m, 4);
    cr_assert_not_null(x.labels);
    cr_assert_null(y.labels);
    cr_assert_null(y.class_id);
    cr_assert_eq(memcmp(x.index, y.index, 4 * sizeof *x.index), 0);
    cr_assert_eq(memcmp(x.images, y.images, 4 * 64 * sizeof(float)), 0);
    hl_batcher_free(&a), hl_batcher_free(&b);
    hl_dataset_free(&d);
}

Test(semi, semi_supervised_class_gets_a_label_less_view_for_unlabelled) {
    hl_dataset d;
    hl_test_synthetic(&d, 10, 1, 8, 3, 5);
    hl_hasher *h = make(&k_semi, &d);
    cr_assert_eq(hl_hasher_fit_semi(h, &d, k_lab, 6, k_unl, 4), HL_OK, "%s", hl_error_last());
    cr_assert_eq(g_seen.semi_calls, 1);
    cr_assert_eq(g_seen.fit_calls, 0);
    cr_assert(g_seen.train_has_labels);
    cr_assert(!g_seen.unl_has_labels);
    cr_assert(!g_seen.unl_has_class_ids);
    cr_assert_eq(g_seen.n, 6);
    cr_assert_eq(g_seen.nu, 4);
    cr_assert_eq(g_seen.unl_pixels, d.pixels); /* a view, not a copy */
    cr_assert(h->fitted);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(semi, supervised_class_without_fit_semi_fits_the_labelled_images) {
    hl_dataset d;
    hl_test_synthetic(&d, 10, 1, 8, 3, 5);
    hl_hasher *h = make(&k_sup, &d);
    cr_assert_eq(hl_hasher_fit_semi(h, &d, k_lab, 6, k_unl, 4), HL_OK, "%s", hl_error_last());
    cr_assert_eq(g_seen.fit_calls, 1);
    cr_assert_eq(g_seen.semi_calls, 0);
    cr_assert(g_seen.labels_visible);
    cr_assert(g_seen.train_has_labels);
    cr_assert_eq(g_seen.n, 6);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(semi, unsupervised_class_never_sees_labels) {
    hl_dataset d;
    hl_test_synthetic(&d, 10, 1, 8, 3, 5);
    hl_hasher *h = make(&k_unsup, &d);
    cr_assert_eq(hl_hasher_fit_semi(h, &d, k_lab, 6, k_unl, 4), HL_OK, "%s", hl_error_last());
    cr_assert_eq(g_seen.fit_calls, 1);
    cr_assert(!g_seen.labels_visible);
    cr_assert(!g_seen.train_has_labels);
    cr_assert_eq(g_seen.train_pixels, d.pixels);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

Test(semi, errors) {
    hl_dataset d;
    hl_test_synthetic(&d, 10, 1, 8, 3, 5);
    hl_hasher *h = make(&k_semi, &d);
    const int64_t bad[] = {6, 10};
    cr_assert_eq(hl_hasher_fit_semi(h, &d, k_lab, 6, bad, 2), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "unlabelled index 10 outside [0, 10)"), "%s", hl_error_last());
    cr_assert_eq(g_seen.semi_calls, 0);
    cr_assert(!h->fitted);
    hl_hasher_free(h);
    /* a supervised method cannot be fitted on a dataset without labels, even when told they are visible */
    h = make(&k_sup, &d);
    hl_dataset v = hl_dataset_unlabelled_view(&d);
    cr_assert_eq(hl_hasher_fit(h, &v, k_lab, 6, true), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "is supervised but dataset"), "%s", hl_error_last());
    cr_assert_eq(g_seen.fit_calls, 0);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}
