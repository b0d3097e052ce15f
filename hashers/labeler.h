/* hashers/labeler.h — labelers: methods that give labels to some unlabelled images before a supervised hasher trains,
 * so that it trains on a larger labelled set (a suite's hasher entry `labeler: {method: gnn, ...}`).
 *
 * The contract keeps the hidden labels out of reach. A labeler's run() gets
 *   - the pixels of every image through a label-less view of the dataset (hl_dataset_unlabelled_view: no label rows,
 *     no class ids, no class names), so it has no pointer to any label it is not given;
 *   - the labelled images lidx[0..nl) with their label rows llabels (row i = image lidx[i]), copied out by the caller;
 *   - the unlabelled images uidx[0..nu) (index list only).
 * It returns the images it labelled, in order, with the label sets it gave them, and how many after each round. How
 * good those labels are is for the caller to find out (the lab compares them with the hidden labels after the fit
 * and reports it in result.json; a labeler never sees the answer).
 *
 *     hl_labeler_result r;
 *     HL_TRY(hl_labeler_apply(cls, params, &data, train, nt, unl, nu, "cnn-small", seed, &r));   // view + labelled rows
 *     hl_dataset fit;  int64_t *fidx, nf;
 *     HL_TRY(hl_labeler_fit_set(&fit, &fidx, &nf, &data, train, nt, &r));   // labelled ∪ labelled-by-r, r's labels
 *     HL_TRY(hl_hasher_fit(h, &fit, fidx, nf, true));
 *     hl_labeler_fit_set_free(&fit), free(fidx), hl_labeler_result_free(&r);
 *
 * Built-in labelers: `gnn` (hashers/labeler_gnn.c). The registry is this header's; the suite validates a `labeler`
 * map against the class's params (which include `method`).
 */
#ifndef HL_LABELER_H
#define HL_LABELER_H

#include "core/config_schema.h"
#include "core/data/dataset.h"

typedef struct hl_labeler_input {
    const hl_dataset *pixels;  /* label-less view: hl_dataset_has_labels(pixels) is false */
    const int64_t *lidx;       /* [nl] labelled images (dataset indices) */
    int64_t nl;
    const hl_labels *llabels;  /* nl rows: the labels of lidx[i] (nlabels = the dataset's label count) */
    bool single_label;         /* every image carries exactly one label (softmax) or a set (multi-label) */
    const int64_t *uidx;       /* [nu] unlabelled images */
    int64_t nu;
    const char *backbone;      /* network for features ("" = cnn-small), as the host hasher's */
    uint64_t seed;
} hl_labeler_input;

typedef struct hl_labeler_result {
    int64_t n;          /* images labelled (a subset of uidx) */
    int64_t *idx;       /* [n] their dataset indices, in the order labelled */
    hl_labels labels;   /* [n] rows: the label sets given */
    int rounds;
    int64_t *round_end; /* [rounds] idx[0..round_end[r]) were labelled by the end of round r */
} hl_labeler_result;

void hl_labeler_result_free(hl_labeler_result *r); /* NULL-safe; leaves *r zeroed */

typedef struct hl_labeler_class {
    const char *name;            /* the `method:` of a `labeler:` map, [a-z0-9_]+ */
    const char *summary;
    const char *version;         /* NULL = "1"; bumped when results change (part of the cell keys) */
    const hl_param_spec *params; /* every key of the `labeler:` map, `method` included */
    int n_params;
    /* cfg: the resolved map (defaults filled in). Fills *out (zeroed on entry). */
    hl_status (*run)(const hl_config *cfg, const hl_labeler_input *in, hl_labeler_result *out);
} hl_labeler_class;

/* By name, or NULL with HL_ENOTFOUND "unknown labeler 'gnm' (known: gnn; did you mean 'gnn'?)". */
const hl_labeler_class *hl_labeler_class_find(const char *name);
int hl_labeler_class_count(void);
const hl_labeler_class *hl_labeler_class_at(int i);

/* Validates `labeler` (a map; its problems with positions) against the class's params, resolves it and runs the
 * class on `in`. HL_EINVAL when in->pixels carries labels (a labeler must get the label-less view), when nl < 1 or
 * the index lists point outside the dataset. */
hl_status hl_labeler_run(const hl_labeler_class *cls, const hl_config *labeler, const hl_labeler_input *in,
                         hl_labeler_result *out);

/* The caller's side, from a labelled dataset d: copies the labels of lidx out, makes the label-less view, and runs
 * the class (hl_labeler_run) — the labeler never gets d itself. */
hl_status hl_labeler_apply(const hl_labeler_class *cls, const hl_config *labeler, const hl_dataset *d,
                           const int64_t *lidx, int64_t nl, const int64_t *uidx, int64_t nu, const char *backbone,
                           uint64_t seed, hl_labeler_result *out);

/* The enlarged labelled set for the host hasher: *out shares d's pixels (not owned) and has label rows only for the
 * images lidx (their own labels) and r->idx (the labels r gave); every other row is empty and class ids are −1
 * there (single-label sets), so the hidden labels are not in it. *idx (malloc'd, free()) = lidx ∪ r->idx, ascending;
 * *n its length. Free *out with hl_labeler_fit_set_free (never hl_dataset_free). */
hl_status hl_labeler_fit_set(hl_dataset *out, int64_t **idx, int64_t *n, const hl_dataset *d, const int64_t *lidx,
                             int64_t nl, const hl_labeler_result *r);
void hl_labeler_fit_set_free(hl_dataset *fit);

#endif
