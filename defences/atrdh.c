/* defences/atrdh.c — ATRDH, adversarial training for robust deep hashing (Wang et al., SIGIR 2021, "Targeted Attack
 * and Defense for Deep Hashing"; code: xunguangwang/Targeted-Attack-and-Defense-for-Deep-Hashing defense.py).
 *
 * Inner: a targeted attack — PGD minimising −mean(h ⊙ t) toward a target code t. Outer: the method's loss on the clean
 * images + the method's loss on the adversarial ones ("clean hashing loss + adversarial hashing loss").
 * Follows the paper in the objective and the losses. Our reconstruction: the paper's targets are the codes of its
 * PrototypeNet for a random target label; here t is the centre code (defence.h, CgAT's closed form over the codes the
 * method keeps) of a label set drawn uniformly among the training items' distinct label sets other than the item's
 * own, per item and epoch (seeded). With a single label set, t = −(its centre).
 */
#include "defences/defence.h"

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

#define ATRDH_STREAM 0x41545244ull /* "ATRD" */

static const hl_param_spec atrdh_params[] = {
    {.name = "adv_weight", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 100]",
     .doc = "weight of the method's loss on the adversarial images (paper: 1, beside the clean loss)"},
};

static hl_status atrdh_init(hl_defence *self, const hl_config *cfg) {
    self->clean_weight = 1;
    return hl_config_get_double(cfg, "adv_weight", &self->method_adv_weight);
}

static hl_status atrdh_references(hl_defence *self, const float *bank, const hl_labels *labels, int64_t n, int K,
                                  int64_t epoch, float *ref) {
    hl_status st = HL_OK;
    hl_labels sets = {0};
    int64_t *set_of = malloc((size_t)HL_MAX(n, 1) * sizeof *set_of), *first = malloc((size_t)HL_MAX(n, 1) * sizeof *first);
    float *cent = NULL;
    int64_t ns = 0;
    if (!set_of || !first) HL_TRY(hl_error_set(HL_ENOMEM, "atrdh: out of memory"));
    for (int64_t i = 0; i < n; i++) { /* distinct label sets, in order of first appearance */
        int64_t s = 0;
        for (; s < ns; s++)
            if (!memcmp(hl_labels_row(labels, first[s]), hl_labels_row(labels, i), (size_t)labels->words * 8)) break;
        if (s == ns) first[ns++] = i;
        set_of[i] = s;
    }
    HL_TRY(hl_labels_subset(&sets, labels, first, ns));
    if (!(cent = malloc((size_t)(ns * K) * sizeof *cent))) HL_TRY(hl_error_set(HL_ENOMEM, "atrdh: out of memory"));
    HL_TRY(hl_defence_centres(&sets, labels, bank, K, false, cent));
    hl_rng base = hl_rng_make(self->opts.seed, ATRDH_STREAM + (uint64_t)epoch);
    for (int64_t i = 0; i < n; i++) {
        float *t = ref + i * K;
        if (ns < 2) {
            for (int k = 0; k < K; k++) t[k] = -cent[set_of[i] * K + k];
            continue;
        }
        hl_rng r = hl_rng_split(&base, (uint64_t)i);
        int64_t s = (int64_t)hl_rng_below(&r, (uint64_t)(ns - 1));
        if (s >= set_of[i]) s++; /* any set but the item's own */
        memcpy(t, cent + s * K, (size_t)K * sizeof *t);
    }
done:
    hl_labels_free(&sets);
    free(set_of), free(first), free(cent);
    return st;
}

/* toward the target */
static double atrdh_inner(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                          float *grad) {
    (void)self, (void)c;
    return hl_defence_code_product(u, r, B, K, -1.0, grad);
}

const hl_defence_class hl_defence_atrdh = {
    .abi = HL_DEFENCE_ABI,
    .name = "atrdh",
    .summary = "ATRDH (Wang et al., SIGIR'21): the method's loss on clean and targeted-PGD images (targets: other "
               "classes' centre codes; the paper's PrototypeNet targets are reconstructed)",
    .cite = "@inproceedings{wang2021targeted,\n  author = {Xunguang Wang and Zheng Zhang and Guangming Lu and Yong Xu},\n  title = {Targeted Attack and Defense for Deep Hashing},\n  booktitle = {Proceedings of the 44th International ACM SIGIR Conference on Research and Development in Information Retrieval (SIGIR)},\n  year = {2021}\n}\n",
    .params = atrdh_params,
    .n_params = (int)HL_ARRAY_LEN(atrdh_params),
    .size = sizeof(hl_defence),
    .init = atrdh_init,
    .references = atrdh_references,
    .inner = atrdh_inner,
};
