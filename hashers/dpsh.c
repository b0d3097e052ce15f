/* hashers/dpsh.c — DPSH, Deep Supervised Hashing with Pairwise Labels (Li, Zhao, Kang, IJCAI 2016): the
 * pairwise-likelihood hashing network that adversarial-attack papers use as their standard victim.
 *
 * Network: u = hashnet(x) = head(backbone(x)) ∈ R^K, the pre-activation (no tanh); code b = sign(u).
 *
 * Loss, per mini-batch I (the DeepHash-pytorch form of the paper's objective; math in hashers/dpsh.h):
 *     a memory bank U [n, K] holds the latest outputs of all n training items (zeros before their first visit);
 *     the batch writes its rows U_I = u_I (as constants), then
 *     θ_ij = ½ u_iᵀ U_j over all j of the training list, S_ij = 1 when i and j share a label,
 *     L1 = mean_ij [ log(1 + e^−|θ_ij|) + max(θ_ij, 0) − S_ij θ_ij ]   (negative log-likelihood of S given θ)
 *     L2 = η · mean_i ‖u_i − sign(u_i)‖²                              (quantisation)
 *     L  = L1 + L2; dL/du on the host (hl_dpsh_loss, unit-tested), then one optimizer step.
 *
 * What follows the paper: the likelihood p(S_ij | B) = σ(Θ_ij)^S_ij (1 − σ(Θ_ij))^(1 − S_ij) with Θ_ij = ½ u_iᵀu_j
 * relaxed to real outputs, and the quantisation penalty η Σ_i ‖b_i − u_i‖² with b_i = sign(u_i) (the paper's
 * closed-form B-step), trained end to end. The paper (CNN-F pretrained on ImageNet, MatConvNet) sums the likelihood
 * over all n² pairs and the penalty over the n items; its η is 10 on CIFAR-10 and 100 on NUS-WIDE, mini-batch 128,
 * learning rate chosen in [1e-6, 1e-2] by validation. Written as means, the paper's weighting is L1 + (η_paper/n)·L2,
 * i.e. η = 10/5000 = 0.002 here for 5,000 training images — the quantisation term is a light regulariser.
 *
 * What is ours: means instead of sums (so lr does not scale with n and B); the memory bank of DeepHash-pytorch
 * (DPSH.py; the paper's MATLAB code keeps the same U) refreshed batch by batch; training from scratch (cnn-small by
 * default) with Adam: epochs 50, batch 64, lr 1e-3 (lr/10 at 1/3 and 2/3), weight decay 1e-5, η = 0.002 (the paper's
 * weighting for n = 5,000). Against collapse to a common code (the warning; seen here and in PyTorch with the
 * same network: the dissimilar pairs, 90% of all pairs, push the shared component of the ReLU features down until
 * every image gives one output — mAP at chance):
 *   - the backbone carries batch norm on its feature layer (core/nn/backbone.h, cnn-small): this is what makes DPSH
 *     learn from scratch (Fashion-MNIST, 32 bits: mAP@all 0.68 after 3 epochs, chance without it);
 *   - data-dependent start (ours): before the first epoch the outputs of all n training items are computed (eval
 *     mode), the head bias is shifted so that every bit's median over them is 0, and the bank starts from these
 *     outputs (not zeros);
 *   - optional bit-balance term γ·‖ū‖², ū = the batch mean of u (key `balance`, default 0 = off; it cost mAP once
 *     batch norm was in: 0.49 vs 0.68 at γ = 1 after 3 epochs).
 * Collapse check: after every epoch the code diversity of the bank (sign(U), hl_code_diversity_of) is logged with
 * the loss; collapsed codes give a warning line (hl_deep_log_epoch) and a final warning after training.
 * Few labels need a lower lr. With 1,000 labelled items (suites/fashion_semi.yaml, 16 steps per epoch) the default
 * lr 1e-3 walks into the zero-output saddle: every output → 0, so θ = 0 for all pairs and the loss sits at
 * log 2 + η·K (0.757 at 32 bits) with every bit constant, where the likelihood's gradient (∝ the bank U ≈ 0)
 * vanishes; the training loss first falls (0.726 at epoch 7) then rises into it (mAP@all 0.10 with 72 cosine epochs;
 * 0.52 ± 0.08 over 3 seeds with 50 step epochs, part-collapsed). Seed 0, 50 epochs: lr 1e-3 0.616, 3e-4 0.715,
 * 1e-4 0.735; η = 0.02 at 1e-3: 0.595. The suite's 1,000-label DPSH-likelihood entries (dpsh, dpsh-gnn, ssah) use
 * lr 1e-4; at 5,000 labels 1e-3 trains (the default is unchanged).
 * With epochs = 0 fit does nothing: the untrained network (the driver still marks the hasher fitted).
 */
#include "hashers/dpsh.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/tape.h"
#include "hashers/deep.h"

double hl_dpsh_loss(const float *u, int64_t B, int K, const float *U, int64_t n, const float *S, double eta,
                    float *theta, float *G, hl_dpsh_loss_parts *parts) {
    /* θ [B, n] = ½ u Uᵀ */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)n, K, 0.5f, u, K, U, K, 0.0f, theta, (int)n);
    double l1 = 0, l2 = 0, inv = 1.0 / ((double)B * (double)n);
    for (int64_t i = 0; i < B; i++) {
        double row = 0;
        float *t = theta + i * n;
        const float *s = S + i * n;
        for (int64_t j = 0; j < n; j++) {
            double th = t[j];
            row += log1p(exp(-fabs(th))) + (th > 0 ? th : 0) - s[j] * th;
            t[j] = (float)((1.0 / (1.0 + exp(-th)) - s[j]) * inv); /* dL1/dθ_ij, in place */
        }
        l1 += row;
    }
    l1 *= inv;
    if (G) /* dL1/du_i = Σ_j dL1/dθ_ij · ½ U_j */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, K, (int)n, 0.5f, theta, (int)n, U, K, 0.0f, G,
                    K);
    for (int64_t i = 0; i < B * K; i++) {
        double e = u[i] - (u[i] >= 0 ? 1.0 : -1.0);
        l2 += e * e;
        if (G) G[i] += (float)(2 * eta / (double)B * e);
    }
    l2 *= eta / (double)B;
    if (parts) parts->likelihood = l1, parts->quantisation = l2;
    return l1 + l2;
}

typedef struct dpsh {
    hl_hasher base;
    hl_deep_opts o;
    hl_hashnet net;
    double eta, balance;
} dpsh;

/* Bit-balance term (ours): γ·‖ū‖² with ū = mean_i u_i over the batch; adds 2γ·ū/B to every row of G [B, K]. */
static double balance_term(const float *u, int64_t B, int K, double gamma, float *G) {
    double loss = 0;
    for (int k = 0; k < K; k++) {
        double mu = 0;
        for (int64_t i = 0; i < B; i++) mu += u[i * K + k];
        mu /= (double)B;
        loss += gamma * mu * mu;
        for (int64_t i = 0; i < B; i++) G[i * K + k] += (float)(2 * gamma * mu / (double)B);
    }
    return loss;
}

static const hl_param_spec dpsh_params[] = {
    HL_DEEP_PARAMS("50", "64", "1e-3", "adam", "1e-5"),
    {.name = "eta", .type = HL_PARAM_FLOAT, .def = "0.002", .range = "[0, 1000]",
     .doc = "quantisation weight η in L1 + η·mean_i‖u_i − sign(u_i)‖² (paper: 10 on CIFAR-10 with sums, i.e. "
            "η/n = 0.002 in this mean form for n = 5,000; ours the same 0.002)"},
    {.name = "balance", .type = HL_PARAM_FLOAT, .def = "0", .range = "[0, 1000]",
     .doc = "weight γ of the bit-balance term γ·‖mean_batch u‖² (ours, against collapse to a common code; 0 = off)"},
};

static hl_status dpsh_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                           uint64_t seed) {
    hl_status st = HL_OK;
    dpsh *m = (dpsh *)self;
    HL_TRY(hl_deep_opts_read(&m->o, cfg));
    HL_TRY(hl_config_get_double(cfg, "eta", &m->eta));
    HL_TRY(hl_config_get_double(cfg, "balance", &m->balance));
    HL_TRY(hl_hashnet_init(&m->net, &self->params, &m->o, info, bits, seed));
done:
    return st;
}

static hl_status dpsh_fit(hl_hasher *self, const hl_dataset *train, const int64_t *idx, int64_t n, bool labels) {
    hl_status st = HL_OK;
    dpsh *m = (dpsh *)self;
    int K = self->bits;
    int64_t B = m->o.batch, E = m->o.epochs;
    hl_batcher bt = {0};
    hl_deep_trainer t = {0};
    hl_labels tl = {0};
    float *U = NULL, *S = NULL, *theta = NULL, *G = NULL, *xall = NULL;
    int64_t *pos = NULL, *bpos = NULL;
    hl_code_diversity div = {0};
    (void)labels; /* the driver refuses this supervised fit without visible labels */
    if (E == 0) return HL_OK;
    HL_TRY(hl_labels_subset(&tl, &train->labels, idx, n));
    U = calloc((size_t)(n * K), sizeof *U);
    S = malloc((size_t)(B * n) * sizeof *S);
    theta = malloc((size_t)(B * n) * sizeof *theta);
    G = malloc((size_t)(2 * B * K) * sizeof *G); /* [2B, K]: clean and (with a fit hook) adversarial rows */
    pos = malloc((size_t)train->n * sizeof *pos);
    bpos = malloc((size_t)B * sizeof *bpos);
    if (self->hook) xall = malloc((size_t)(2 * B) * (size_t)hl_dataset_image_size(train) * sizeof *xall);
    if (!U || !S || !theta || !G || !pos || !bpos || (self->hook && !xall)) {
        st = hl_error_set(HL_ENOMEM, "dpsh: out of memory for %lld training items", (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < train->n; i++) pos[i] = -1;
    for (int64_t i = 0; i < n; i++) pos[idx[i]] = i;
    hl_batcher_opts bo = hl_deep_batcher_opts(self, &m->o);
    HL_TRY(hl_deep_centre_bits(&m->base, &m->net, train, idx, n, U));
    HL_TRY(hl_batcher_init(&bt, train, idx, n, &bo));
    HL_TRY(hl_deep_trainer_begin(&t, self, &m->o));
    hl_train_state_blob(&t.state, "U", U, (size_t)(n * K) * sizeof *U);
    hl_train_state_blob(&t.state, "diversity", &div, sizeof div);
    int64_t e0;
    HL_TRY(hl_deep_trainer_resume(&t, &e0));
    for (int64_t e = e0; e < E; e++) {
        hl_deep_trainer_epoch(&t, e);
        HL_TRY(hl_deep_hook_epoch(&t, U, &tl, n, e));
        hl_batcher_start(&bt, e);
        hl_batch b;
        double loss_sum = 0;
        int64_t seen = 0;
        while (hl_batcher_next(&bt, &b)) {
            int64_t rows = b.m;
            const float *xin = b.images;
            for (int64_t i = 0; i < b.m; i++) bpos[i] = pos[b.index[i]];
            if (t.hook) {
                HL_TRY(hl_deep_hook_batch(&t, b.images, bpos, b.m, xall, &rows));
                xin = xall;
            }
            hl_ctx_reset(t.ctx);
            hl_tensor *x = hl_tensor_from(t.ctx, 4, HL_SHAPE(rows, train->c, train->h, train->w), xin);
            hl_tensor *u = hl_hashnet_forward(t.ctx, &m->net, x); /* [rows, K]: clean, then adversarial rows */
            const float *uh = hl_tensor_host(t.ctx, u); /* the loss is the method's own host math */
            for (int64_t i = 0; i < b.m; i++) memcpy(U + bpos[i] * K, uh + i * K, (size_t)K * sizeof *U);
            hl_deep_similarity(S, b.labels, &tl);
            double loss = hl_dpsh_loss(uh, b.m, K, U, n, S, m->eta, theta, G, NULL);
            if (m->balance > 0) loss += balance_term(uh, b.m, K, m->balance, G);
            if (t.hook) { /* the same loss on the adversarial rows (targets of the clean ones), then the hook's term */
                loss *= t.hook->clean_weight;
                loss += t.hook->method_adv_weight *
                        hl_dpsh_loss(uh + b.m * K, b.m, K, U, n, S, m->eta, theta, G + b.m * K, NULL);
                loss += hl_deep_hook_loss(&t, uh, bpos, b.m, K, G);
            }
            if ((st = hl_deep_trainer_step(&t, u, G)) < 0) {
                if (st != HL_EINTR) hl_error_wrap("epoch %lld", (long long)(e + 1));
                goto done;
            }
            loss_sum += loss * (double)b.m;
            seen += b.m;
        }
        div = hl_code_diversity_of(U, n, K);
        hl_deep_log_epoch(self, e, E, loss_sum / (double)HL_MAX(seen, 1), &div, &t);
        HL_TRY(hl_deep_trainer_epoch_end(&t, e));
    }
    if (div.collapsed)
        hl_msg(HL_LOG_WARN, "dpsh %db: training ended with COLLAPSED codes (%d of %d bits constant, mean bit balance "
               "%.3f): retrieval with them is near chance; lower eta (now %g) or lr", K, div.constant_bits, K,
               div.mean_balance, m->eta);
    HL_TRY(hl_deep_recalibrate_bn(self, &m->net, &m->o, train, idx, n));
done:
    hl_deep_trainer_end(&t);
    hl_batcher_free(&bt);
    hl_labels_free(&tl);
    free(U), free(S), free(theta), free(G), free(pos), free(bpos), free(xall);
    return st;
}

static hl_tensor *dpsh_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    return hl_hashnet_forward(ctx, &((dpsh *)self)->net, x);
}

const hl_hasher_class hl_hasher_dpsh = {
    .abi = HL_HASHER_ABI,
    .name = "dpsh",
    .version = "2", /* 2: the step schedule's milestones are ⌈E/3⌉, ⌈2E/3⌉ (hashers/deep.c) */
    .summary = "DPSH (Li, Wang & Kang, IJCAI'16): pairwise-label likelihood + quantisation, the standard attack "
               "victim",
    .cite = "@inproceedings{li2016dpsh,\n  author = {Wu-Jun Li and Sheng Wang and Wang-Cheng Kang},\n  title = {Feature Learning Based Deep Supervised Hashing with Pairwise Labels},\n  booktitle = {Proceedings of the Twenty-Fifth International Joint Conference on Artificial Intelligence (IJCAI)},\n  pages = {1711--1717},\n  year = {2016}\n}\n",
    .params = dpsh_params,
    .n_params = (int)HL_ARRAY_LEN(dpsh_params),
    .size = sizeof(dpsh),
    .flags = HL_HASHER_SUPERVISED | HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT | HL_HASHER_TRAINABLE |
             HL_HASHER_DEVICE,
    .init = dpsh_init,
    .fit = dpsh_fit,
    .forward = dpsh_forward,
};
