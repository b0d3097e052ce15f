/* attacks/centre_pgd.c — `centre-pgd`, the adaptive attack on centre-based defences (CgAT, SAAT): PGD pushing a
 * query's code away from its class centre (or mainstay) code over the database, instead of away from its own clean
 * code. CgAT and SAAT train every code to stay at that centre, so this is the attack that targets what they protect
 * (their papers attack their models the same way: CgAT's hash_adv with the centre code, SAAT's mainstay attack).
 *
 * The lab computes the references (flag HL_ATTACK_REFERENCE): for query q with label set y, the centre
 * sign(mean_{database items sharing a label with y} b_j − mean_{the others} b_j), or with `reference: mainstay` SAAT's
 * cosine-weighted version (defences/defence.h), and passes them as goal->source. The perturbation is `pgd`'s, as a
 * member attack with this entry's options (steps, step size, random start) and loss: ip (mean(h ⊙ c), CgAT's and
 * SAAT's inner objective, the default) or hag.
 */
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"

static const hl_param_spec centre_params[] = {
    {.name = "reference", .type = HL_PARAM_ENUM, .def = "centre", .choices = "centre|mainstay",
     .doc = "the code pushed away from: the class centre (CgAT) or the semantic mainstay (SAAT) of the query's labels"},
    {.name = "loss", .type = HL_PARAM_ENUM, .def = "ip", .choices = "ip|hag",
     .doc = "pgd's untargeted objective against the reference: ip = mean(h*c) (the defences' own), hag"},
};

typedef struct centre_pgd {
    hl_attack base;
    hl_attack *pgd; /* the member doing the steps */
} centre_pgd;

static hl_status centre_init(hl_attack *self, const hl_config *cfg) {
    hl_status st = HL_OK;
    centre_pgd *c = (centre_pgd *)self;
    const char *loss = NULL;
    HL_TRY(hl_config_get_string(cfg, "loss", &loss));
    hl_config *p = hl_config_new(HL_CONFIG_MAP, NULL, "<centre-pgd>", 0, 0), *v = NULL;
    if (!p || !(v = hl_config_new(HL_CONFIG_SCALAR, loss, "<centre-pgd>", 0, 0))) {
        hl_config_free(p);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    if ((st = hl_config_map_put(p, "loss", 0, 0, v)) >= 0) st = hl_attack_create(&c->pgd, "pgd", p, &self->opts);
    hl_config_free(p);
done:
    return st;
}

static void centre_fini(hl_attack *self) { hl_attack_free(((centre_pgd *)self)->pgd); }

static hl_status centre_perturb(hl_attack *self, hl_hasher *victim, hl_ctx *ctx, const hl_tensor *x,
                                hl_tensor *x_adv, const hl_attack_goal *goal) {
    hl_attack *m = ((centre_pgd *)self)->pgd;
    if (!goal || !goal->source)
        return hl_error_set(HL_EINVAL, "centre-pgd needs its reference codes as goal->source (the lab computes them)");
    int64_t f0 = m->forwards, b0 = m->backwards, z0 = m->zero_grads;
    /* the member's trace is reset before every batch, and the batch's part added to the attack's own: the attack's
     * accumulators alone hold the job's state (what hl_attack_keep saves) */
    for (int64_t t = 0; t < m->trace_len; t++) m->trace_loss_sum[t] = 0, m->trace_loss_n[t] = 0, m->trace_improved[t] = 0;
    hl_status st = m->cls->perturb(m, victim, ctx, x, x_adv, goal);
    self->forwards += m->forwards - f0, self->backwards += m->backwards - b0, self->zero_grads += m->zero_grads - z0;
    if (st >= 0 && m->trace_len > 0) {
        if ((st = hl_attack_trace_reserve(self, m->trace_len)) < 0) return st;
        for (int64_t t = 0; t < m->trace_len; t++) {
            self->trace_loss_sum[t] += m->trace_loss_sum[t];
            self->trace_loss_n[t] += m->trace_loss_n[t];
            self->trace_improved[t] += m->trace_improved[t];
        }
    }
    return st;
}

const hl_attack_class hl_attack_centre_pgd = {
    .abi = HL_ATTACK_ABI,
    .name = "centre-pgd",
    .summary = "adaptive PGD against centre-based defences: away from the query's class centre (CgAT) or mainstay "
               "(SAAT) code over the database",
    .params = centre_params,
    .n_params = (int)HL_ARRAY_LEN(centre_params),
    .size = sizeof(centre_pgd),
    .flags = HL_ATTACK_UNTARGETED | HL_ATTACK_REFERENCE | HL_ATTACK_DEVICE,
    .init = centre_init,
    .fini = centre_fini,
    .perturb = centre_perturb,
};
