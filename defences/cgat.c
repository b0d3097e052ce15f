/* defences/cgat.c — CgAT, center-guided adversarial training (Wang, Lin & Li, WWW 2023, "CgAT: Center-Guided
 * Adversarial Training for Deep Hashing-Based Retrieval"; code: xunguangwang/CgAT central_adv_train.py).
 *
 * Every epoch each training item gets the centre code of its label set y (defence.h): c_y = sign(mean of the codes of
 * the items sharing a label with y − mean of the codes of the others) — the code's hash_center_code, which weights the
 * two sums by the other group's size, i.e. compares their means. Inner: PGD minimising mean(h ⊙ c_y) (the code's
 * adv_loss, descended), pushing the code away from its centre. Outer: the method's loss on the clean images
 * − w·mean(h_adv ⊙ c_y) (w = 1 in the paper).
 * Follows the code, except: the centres come from the codes the method keeps for its training items (DPSH's U, ADSH's
 * V), refreshed once per epoch (the code refreshes the bank every batch and recomputes centres per batch); h = tanh(u)
 * (the code's models end in tanh).
 */
#include "defences/defence.h"

#include <stdlib.h>

static const hl_param_spec cgat_params[] = {
    {.name = "weight", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 100]",
     .doc = "w in L_method(x) − w·mean(h_adv ⊙ centre) (paper: 1)"},
};

typedef struct cgat {
    hl_defence base;
    double w;
} cgat;

static hl_status cgat_init(hl_defence *self, const hl_config *cfg) {
    self->clean_weight = 1, self->method_adv_weight = 0;
    return hl_config_get_double(cfg, "weight", &((cgat *)self)->w);
}

static hl_status cgat_references(hl_defence *self, const float *bank, const hl_labels *labels, int64_t n, int K,
                                 int64_t epoch, float *ref) {
    (void)self, (void)epoch, (void)n;
    return hl_defence_centres(labels, labels, bank, K, false, ref);
}

static double cgat_inner(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                         float *grad) {
    (void)self, (void)c;
    return hl_defence_code_product(u, r, B, K, 1.0, grad);
}

static double cgat_outer(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                         float *grad) {
    (void)c;
    return hl_defence_code_product(u, r, B, K, -((const cgat *)self)->w, grad);
}

const hl_defence_class hl_defence_cgat = {
    .abi = HL_DEFENCE_ABI,
    .name = "cgat",
    .summary = "CgAT (Wang et al., WWW'23): PGD away from each item's class centre code, trained to keep codes at it",
    .cite = "@inproceedings{wang2023cgat,\n  author = {Xunguang Wang and Yiqun Lin and Xiaomeng Li},\n  title = {{CgAT}: Center-Guided Adversarial Training for Deep Hashing-Based Retrieval},\n  booktitle = {Proceedings of the ACM Web Conference (WWW)},\n  year = {2023}\n}\n",
    .params = cgat_params,
    .n_params = (int)HL_ARRAY_LEN(cgat_params),
    .size = sizeof(cgat),
    .init = cgat_init,
    .references = cgat_references,
    .inner = cgat_inner,
    .outer = cgat_outer,
};
