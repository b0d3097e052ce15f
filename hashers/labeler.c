/* hashers/labeler.c — the labeler registry, the checked run, and the caller's side (label-less view in, enlarged
 * labelled set out); see labeler.h. */
#include "hashers/labeler.h"

#include <stdlib.h>
#include <string.h>

#include "hashers/hasher.h"

extern const hl_labeler_class hl_labeler_gnn;

static const hl_labeler_class *const k_labelers[] = {&hl_labeler_gnn};

int hl_labeler_class_count(void) { return (int)HL_ARRAY_LEN(k_labelers); }

const hl_labeler_class *hl_labeler_class_at(int i) {
    HL_ASSERT(i >= 0 && i < hl_labeler_class_count(), "labeler index %d", i);
    return k_labelers[i];
}

const hl_labeler_class *hl_labeler_class_find(const char *name) {
    const char *names[HL_ARRAY_LEN(k_labelers)];
    for (int i = 0; i < hl_labeler_class_count(); i++) {
        if (name && !strcmp(name, k_labelers[i]->name)) return k_labelers[i];
        names[i] = k_labelers[i]->name;
    }
    hl_registry_miss("labeler", name ? name : "", names, hl_labeler_class_count());
    return NULL;
}

void hl_labeler_result_free(hl_labeler_result *r) {
    if (!r) return;
    free(r->idx);
    hl_labels_free(&r->labels);
    free(r->round_end);
    memset(r, 0, sizeof *r);
}

static hl_status check_list(const char *what, const int64_t *idx, int64_t n, int64_t size) {
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= size)
            return hl_error_set(HL_EINVAL, "labeler: %s index %lld (position %lld) outside [0, %lld)", what,
                                (long long)idx[i], (long long)i, (long long)size);
    return HL_OK;
}

hl_status hl_labeler_run(const hl_labeler_class *cls, const hl_config *labeler, const hl_labeler_input *in,
                         hl_labeler_result *out) {
    hl_status st = HL_OK;
    hl_config *resolved = NULL;
    char what[80];
    memset(out, 0, sizeof *out);
    if (hl_dataset_has_labels(in->pixels) || in->pixels->class_id || in->pixels->class_names)
        return hl_error_set(HL_EINVAL, "labeler '%s' must get a label-less view of the images "
                            "(hl_dataset_unlabelled_view), not a labelled dataset", cls->name);
    if (in->nl < 1 || !in->llabels || in->llabels->n != in->nl)
        return hl_error_set(HL_EINVAL, "labeler '%s': %lld labelled images with %lld label rows", cls->name,
                            (long long)in->nl, (long long)(in->llabels ? in->llabels->n : 0));
    HL_TRY(check_list("labelled", in->lidx, in->nl, in->pixels->n));
    HL_TRY(check_list("unlabelled", in->uidx, in->nu, in->pixels->n));
    snprintf(what, sizeof what, "labeler '%s'", cls->name);
    HL_TRY(hl_config_check(labeler, cls->params, cls->n_params, false, what, NULL));
    HL_TRY(hl_config_resolve(labeler, cls->params, cls->n_params, &resolved));
    if ((st = cls->run(resolved, in, out)) < 0) {
        hl_labeler_result_free(out);
        if (st != HL_EINTR) hl_error_wrap("labeler '%s'", cls->name);
    }
done:
    hl_config_free(resolved);
    return st;
}

hl_status hl_labeler_apply(const hl_labeler_class *cls, const hl_config *labeler, const hl_dataset *d,
                           const int64_t *lidx, int64_t nl, const int64_t *uidx, int64_t nu, const char *backbone,
                           uint64_t seed, hl_labeler_result *out) {
    hl_status st = HL_OK;
    hl_labels ll = {0};
    memset(out, 0, sizeof *out);
    if (!hl_dataset_has_labels(d)) return hl_error_set(HL_EINVAL, "labeler: dataset '%s' has no labels", d->name);
    HL_TRY(check_list("labelled", lidx, nl, d->n));
    HL_TRY(hl_labels_subset(&ll, &d->labels, lidx, nl));
    hl_dataset view = hl_dataset_unlabelled_view(d);
    hl_labeler_input in = {.pixels = &view, .lidx = lidx, .nl = nl, .llabels = &ll,
                           .single_label = hl_dataset_single_label(d), .uidx = uidx, .nu = nu,
                           .backbone = backbone ? backbone : "", .seed = seed};
    st = hl_labeler_run(cls, labeler, &in, out);
done:
    hl_labels_free(&ll);
    return st;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

hl_status hl_labeler_fit_set(hl_dataset *out, int64_t **idx, int64_t *n, const hl_dataset *d, const int64_t *lidx,
                             int64_t nl, const hl_labeler_result *r) {
    hl_status st = HL_OK;
    int64_t m = nl + r->n, *all = NULL;
    uint8_t *seen = calloc((size_t)(d->n ? d->n : 1), 1);
    *out = hl_dataset_unlabelled_view(d);
    *idx = NULL, *n = 0;
    HL_TRY(hl_labels_create(&out->labels, d->n, d->labels.nlabels));
    if (hl_dataset_single_label(d)) {
        if (!(out->class_id = malloc((size_t)(d->n ? d->n : 1) * sizeof *out->class_id)))
            HL_TRY(hl_error_set(HL_ENOMEM, "labeler: out of memory"));
        for (int64_t i = 0; i < d->n; i++) out->class_id[i] = -1;
    }
    if (!seen || !(all = malloc((size_t)(m ? m : 1) * sizeof *all))) HL_TRY(hl_error_set(HL_ENOMEM, "labeler: out of memory"));
    for (int64_t j = 0; j < m; j++) {
        int64_t i = j < nl ? lidx[j] : r->idx[j - nl];
        const hl_labels *src = j < nl ? &d->labels : &r->labels;
        int64_t row = j < nl ? i : j - nl;
        if (i < 0 || i >= d->n) HL_TRY(hl_error_set(HL_EINVAL, "labeler: index %lld outside the dataset", (long long)i));
        if (seen[i]++)
            HL_TRY(hl_error_set(HL_EINVAL, "labeler: image %lld labelled twice (a labeler may only label unlabelled "
                                "images)", (long long)i));
        memcpy(out->labels.bits + i * out->labels.words, hl_labels_row(src, row),
               (size_t)out->labels.words * sizeof *out->labels.bits);
        if (out->class_id) out->class_id[i] = hl_labels_class(&out->labels, i);
        all[j] = i;
    }
    qsort(all, (size_t)m, sizeof *all, cmp_i64);
    *idx = all, *n = m, all = NULL;
done:
    free(all), free(seen);
    if (st < 0) hl_labeler_fit_set_free(out);
    return st;
}

void hl_labeler_fit_set_free(hl_dataset *fit) {
    if (!fit) return;
    hl_labels_free(&fit->labels);
    free(fit->class_id);
    memset(fit, 0, sizeof *fit);
}
