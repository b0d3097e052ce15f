/* defences/pgd_at.c — PGD adversarial training (Madry et al., ICLR 2018) for deep hashing, the baseline defence.
 *
 * Inner: minimise mean(h ⊙ c) over the ε-ball, h = tanh(u) of the adversarial image, c = sign of its clean code — the
 * untargeted hashing objective (HAG's inner product) — by PGD (defence.h). Outer: the method's own loss on x_adv,
 * with clean_weight·(the method's loss on x) beside it.
 * Follows the paper: min_θ E max_δ L(θ, x + δ) with PGD inner steps from a random start. Our choices (no hashing
 * paper fixes them): the inner objective above, and `clean_weight` 0 (Madry's pure adversarial training; 0.5 gives
 * the common clean + adversarial mixture).
 */
#include "defences/defence.h"

static const hl_param_spec pgd_at_params[] = {
    {.name = "clean_weight", .type = HL_PARAM_FLOAT, .def = "0", .range = "[0, 100]",
     .doc = "weight of the method's loss on the clean images (0: train on adversarial images only, as Madry et al.)"},
    {.name = "adv_weight", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 100]",
     .doc = "weight of the method's loss on the adversarial images"},
};

static hl_status pgd_at_init(hl_defence *self, const hl_config *cfg) {
    hl_status st = HL_OK;
    HL_TRY(hl_config_get_double(cfg, "clean_weight", &self->clean_weight));
    HL_TRY(hl_config_get_double(cfg, "adv_weight", &self->method_adv_weight));
done:
    return st;
}

/* away from the clean code */
static double pgd_at_inner(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                           float *grad) {
    (void)self, (void)r;
    return hl_defence_code_product(u, c, B, K, 1.0, grad);
}

const hl_defence_class hl_defence_pgd_at = {
    .abi = HL_DEFENCE_ABI,
    .name = "pgd-at",
    .summary = "PGD adversarial training (Madry et al., ICLR'18): the method's loss on PGD images pushed away from "
               "their clean codes",
    .cite = "@inproceedings{madry2018towards,\n  author = {Aleksander Madry and Aleksandar Makelov and Ludwig Schmidt and Dimitris Tsipras and Adrian Vladu},\n  title = {Towards Deep Learning Models Resistant to Adversarial Attacks},\n  booktitle = {International Conference on Learning Representations (ICLR)},\n  year = {2018}\n}\n",
    .params = pgd_at_params,
    .n_params = (int)HL_ARRAY_LEN(pgd_at_params),
    .size = sizeof(hl_defence),
    .init = pgd_at_init,
    .inner = pgd_at_inner,
};
