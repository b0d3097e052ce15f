/* defences/saat.c — SAAT, semantic-aware adversarial training (IEEE TIFS 2023; code: xandery-geek/SAAT
 * adv_training.py, adv_attack.py generate_mainstay_code).
 *
 * Every epoch each training item gets the mainstay code of its label set y (defence.h): sign(Σ_j cos(y, y_j)·b_j /
 * Σ_j cos(y, y_j) − mean of the codes of the items sharing no label with y). Inner: PGD minimising mean(h ⊙ m) (away
 * from the mainstay). Outer: the method's loss on the clean images + λ·(−mean(h_adv ⊙ m)) + μ·mean((h_adv −
 * sign h_adv)²), λ = 1, μ = 1e-4 (the code's defaults).
 * Follows the code, except: mainstays from the codes the method keeps for its items, refreshed once per epoch (the
 * code refreshes its bank every batch); h = tanh(u).
 */
#include "defences/defence.h"

#include <math.h>

static const hl_param_spec saat_params[] = {
    {.name = "lambda", .type = HL_PARAM_FLOAT, .def = "1", .range = "[0, 100]",
     .doc = "λ, the weight of −mean(h_adv ⊙ mainstay) (code default 1)"},
    {.name = "mu", .type = HL_PARAM_FLOAT, .def = "1e-4", .range = "[0, 100]",
     .doc = "μ, the weight of the adversarial codes' quantisation mean((h_adv − sign h_adv)²) (code default 1e-4)"},
};

typedef struct saat {
    hl_defence base;
    double lambda, mu;
} saat;

static hl_status saat_init(hl_defence *self, const hl_config *cfg) {
    hl_status st = HL_OK;
    saat *s = (saat *)self;
    self->clean_weight = 1, self->method_adv_weight = 0;
    HL_TRY(hl_config_get_double(cfg, "lambda", &s->lambda));
    HL_TRY(hl_config_get_double(cfg, "mu", &s->mu));
done:
    return st;
}

static hl_status saat_references(hl_defence *self, const float *bank, const hl_labels *labels, int64_t n, int K,
                                 int64_t epoch, float *ref) {
    (void)self, (void)epoch, (void)n;
    return hl_defence_centres(labels, labels, bank, K, true, ref);
}

static double saat_inner(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                         float *grad) {
    (void)self, (void)c;
    return hl_defence_code_product(u, r, B, K, 1.0, grad);
}

/* −λ·mean(h ⊙ m) + μ·mean((h − sign h)²); d/du of the second: 2(h − sign h)(1 − h²)/(B·K) (sign held constant) */
static double saat_outer(const hl_defence *self, const float *u, const float *r, const float *c, int64_t B, int K,
                         float *grad) {
    (void)c;
    const saat *s = (const saat *)self;
    double v = hl_defence_code_product(u, r, B, K, -s->lambda, grad), q = 0, inv = 1.0 / (double)(B * K);
    for (int64_t i = 0; i < B * K; i++) {
        double h = tanh((double)u[i]), e = h - (h >= 0 ? 1.0 : -1.0);
        q += e * e;
        grad[i] += (float)(s->mu * 2 * e * (1 - h * h) * inv);
    }
    return v + s->mu * q * inv;
}

const hl_defence_class hl_defence_saat = {
    .abi = HL_DEFENCE_ABI,
    .name = "saat",
    .summary = "SAAT (TIFS'23): PGD away from each item's semantic mainstay code, trained to keep codes at it",
    .cite = "@article{yuan2023saat,\n  author = {Xu Yuan and Zheng Zhang and Xunguang Wang and Lin Wu},\n  title = {Semantic-Aware Adversarial Training for Reliable Deep Hashing Retrieval},\n  journal = {IEEE Transactions on Information Forensics and Security},\n  volume = {18},\n  pages = {4681--4694},\n  year = {2023}\n}\n",
    .params = saat_params,
    .n_params = (int)HL_ARRAY_LEN(saat_params),
    .size = sizeof(saat),
    .init = saat_init,
    .references = saat_references,
    .inner = saat_inner,
    .outer = saat_outer,
};
