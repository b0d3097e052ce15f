/* tests/hashers/test_nmlayer.c — NMLayer: the base loss and its gradient (by hand and against central differences),
 * grouping merges redundant neurons and merged weights are sums, the progressive schedule ends at K bits, the class
 * trains to a mAP far above the untrained network, save/load reproduces codes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/retrieval.h"
#include "hashers/hasher.h"
#include "hashers/nmlayer.h"
#include "test_hashers.h"

/* B = 3, N = 2, o = [[1, 1], [1, −1], [−1, −1]] (no quantisation error), items 0 and 1 similar, 2 alone.
 * θ = ½ oᵀo: θ_aa = 1, θ_01 = 0, θ_02 = −1, θ_12 = 0. Similar pairs (a,a), (0,1), (1,0): 5, weight w_s = 0.5/5 = 0.1;
 * dissimilar pairs (0,2), (2,0), (1,2), (2,1): 4, weight w_d = 0.5/4 = 0.125.
 * Terms softplus(θ) − Sθ: (a,a): log(1+e) − 1 = 0.3132617; (0,1): log 2 = 0.6931472 (S = 1, θ = 0);
 * (0,2): softplus(−1) = 0.3132617; (1,2): log 2.
 * L = 0.1·(3·0.3132617 + 2·0.6931472) + 0.125·(2·0.3132617 + 2·0.6931472) = 0.2326080 + 0.2516022 = 0.4842102.
 * ∂L/∂o_a = Σ_b w_ab (σ(θ_ab) − S_ab) o_b, σ(1) = 0.7310586, σ(0) = 0.5, σ(−1) = 0.2689414:
 *   a=0: 0.1·(−0.2689414·[1,1] − 0.5·[1,−1]) + 0.125·0.2689414·[−1,−1] = [−0.1105118, −0.0105118]
 *   a=1: 0.1·(−0.5·[1,1] − 0.2689414·[1,−1]) + 0.125·0.5·[−1,−1] = [−0.1393941, −0.0856059]
 *   a=2: 0.125·(0.2689414·[1,1] + 0.5·[1,−1]) + 0.1·0.2689414·[1,1] = [0.1230118, −0.0019882]
 * (σ(1) − 1 = −σ(−1)). */
Test(nmlayer_math, base_loss_by_hand) {
    const float o[6] = {1, 1, 1, -1, -1, -1};
    const float S[9] = {1, 1, 0, 1, 1, 0, 0, 0, 1};
    const float want[6] = {-0.1105118f, -0.0105118f, -0.1393941f, -0.0856059f, 0.1230118f, -0.0019882f};
    float g[6];
    double L = hl_nml_base_loss(o, S, 3, 2, 0.5, g);
    cr_assert(fabs(L - 0.4842102) < 1e-6, "L = %.7f, want 0.4842102", L);
    hl_test_assert_close(g, want, 6, 1e-6f, 1e-5f, "dL/do");
    /* quantisation: B = N = 1, o = 0.5, S = 1 (one similar pair, weight 1), η = 0.5: θ = 0.125,
     * L = softplus(0.125) − 0.125 + 0.5·(0.5 − 1)²
     * = 0.7575990; ∂L/∂o = (σ(0.125) − 1)·0.5 + 2·0.5·(0.5 − 1) = −0.7343953 */
    const float o1 = 0.5f, s1 = 1.0f;
    float g1;
    L = hl_nml_base_loss(&o1, &s1, 1, 1, 0.5, &g1);
    cr_assert(fabs(L - 0.7575990) < 1e-6, "L = %.7f, want 0.7575990", L);
    cr_assert(fabs(g1 + 0.7343953f) < 1e-6f, "dL/do = %.7f, want -0.7343953", g1);
}

/* The whole chain z → tanh → Â → loss against central differences, with a non-trivial Â (groups {0, 2}, {1},
 * {3, 4}) and a padded row stride (ld = 6 > N = 5: the padding column gets gradient 0). */
Test(nmlayer_math, loss_gradient_finite_differences) {
    enum { B = 4, N = 5, LD = 6 };
    const int group[N] = {0, 1, 0, 2, 2};
    float A[N * N], Ah[N * N], z[B * LD], gz[B * LD], S[B * B];
    hl_nml_adjacency(group, N, A);
    hl_nml_normalise(A, N, Ah);
    cr_assert(fabsf(Ah[0 * N + 2] - 0.5f) < 1e-7f && Ah[1 * N + 1] == 1.0f && Ah[0 * N + 1] == 0.0f);
    hl_rng r = hl_rng_make(5, 1);
    hl_rng_uniform(&r, z, B * LD, -1.5f, 1.5f);
    const int cls[B] = {0, 1, 0, 2};
    for (int a = 0; a < B; a++)
        for (int b = 0; b < B; b++) S[a * B + b] = cls[a] == cls[b];
    const double etas[2] = {0.0, 0.3};
    for (int e = 0; e < 2; e++) {
        double L = hl_nml_loss_z(z, LD, Ah, S, B, N, etas[e], gz, NULL);
        cr_assert(isfinite(L));
        for (int k = 0; k < B * LD; k++) {
            const double eps = 1e-3;
            float zp[B * LD], zm[B * LD];
            memcpy(zp, z, sizeof z), memcpy(zm, z, sizeof z);
            zp[k] += (float)eps, zm[k] -= (float)eps;
            double num = (hl_nml_loss_z(zp, LD, Ah, S, B, N, etas[e], NULL, NULL) -
                          hl_nml_loss_z(zm, LD, Ah, S, B, N, etas[e], NULL, NULL)) /
                         ((double)zp[k] - zm[k]);
            if (k % LD == N) cr_assert_eq(gz[k], 0.0f, "padding column must get no gradient");
            cr_assert(fabs(gz[k] - num) <= 2e-4 + 1e-2 * fabs(num), "eta %g: dL/dz[%d] = %.6g, numeric %.6g",
                      etas[e], k, gz[k], num);
        }
    }
}

/* n samples of h = tanh(W f) for N = 6 neurons with W's rows 3 = row 1 and 5 = row 2 (two duplicated neurons):
 * the duplicates are perfectly correlated, so grouping down to 4 joins exactly {1, 3} and {2, 5}; merging then gives
 * those groups the sum of the two weight vectors and leaves the others untouched. */
Test(nmlayer_math, merges_duplicated_neurons) {
    enum { n = 256, F = 8, N = 6 };
    float W[N * F], bias[N], f[n * F], h[n * N], S[64 * 64];
    hl_rng r = hl_rng_make(9, 2);
    hl_rng_uniform(&r, W, N * F, -0.6f, 0.6f);
    hl_rng_uniform(&r, bias, N, -0.2f, 0.2f);
    hl_rng_uniform(&r, f, n * F, -1.0f, 1.0f);
    memcpy(W + 3 * F, W + 1 * F, F * sizeof *W), bias[3] = bias[1];
    memcpy(W + 5 * F, W + 2 * F, F * sizeof *W), bias[5] = bias[2];
    int cls[n];
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < N; i++) {
            double zz = bias[i];
            for (int k = 0; k < F; k++) zz += (double)W[i * F + k] * f[s * F + k];
            h[s * N + i] = tanhf((float)zz);
        }
        cls[s] = (f[s * F] > 0) + 2 * (f[s * F + 1] > 0); /* labels from the features */
    }
    for (int a = 0; a < 64; a++)
        for (int b = 0; b < 64; b++) S[a * 64 + b] = cls[a] == cls[b];
    double s[N] = {0}, ss[N * N] = {0}, rho[N * N], imp[N];
    hl_nml_moments_add(s, ss, h, n, N);
    hl_nml_correlation(s, ss, n, N, rho);
    cr_assert(fabs(rho[1 * N + 3] - 1) < 1e-6 && fabs(rho[2 * N + 5] - 1) < 1e-6, "duplicates: rho = %g, %g",
              rho[1 * N + 3], rho[2 * N + 5]);
    float A[N * N], Ah[N * N];
    const int ident[N] = {0, 1, 2, 3, 4, 5};
    hl_nml_adjacency(ident, N, A);
    hl_nml_normalise(A, N, Ah);
    hl_nml_importance(h, Ah, S, 64, N, 0.1, imp);
    int group[N];
    cr_assert_eq(hl_nml_group(rho, imp, N, N, group), N, "target N: nothing merged");
    for (int i = 0; i < N; i++) cr_assert_eq(group[i], i);
    int G = hl_nml_group(rho, imp, N, 4, group);
    cr_assert_eq(G, 4);
    /* groups numbered by smallest member: {0}, {1, 3}, {2, 5}, {4} */
    const int want[N] = {0, 1, 2, 1, 3, 2};
    for (int i = 0; i < N; i++)
        cr_assert_eq(group[i], want[i], "neuron %d in group %d, want %d (imp %g %g %g %g %g %g)", i, group[i],
                     want[i], imp[0], imp[1], imp[2], imp[3], imp[4], imp[5]);
    float Wm[4 * F], bm[4];
    hl_nml_merge_rows(W, bias, N, F, group, G, Wm, bm);
    for (int k = 0; k < F; k++) {
        cr_assert_eq(Wm[0 * F + k], W[0 * F + k]);
        cr_assert(fabsf(Wm[1 * F + k] - 2 * W[1 * F + k]) < 1e-7f, "merged weight = sum of the duplicates");
        cr_assert(fabsf(Wm[2 * F + k] - (W[2 * F + k] + W[5 * F + k])) < 1e-7f);
        cr_assert_eq(Wm[3 * F + k], W[4 * F + k]);
    }
    cr_assert(fabsf(bm[1] - 2 * bias[1]) < 1e-7f && bm[3] == bias[4]);
    /* under the merged graph each duplicate pair outputs one value: o = Â h averages the group */
    float A4[N * N], Ah4[N * N], o[N];
    hl_nml_adjacency(group, N, A4);
    hl_nml_normalise(A4, N, Ah4);
    hl_nml_apply(Ah4, h, 1, N, o);
    cr_assert(fabsf(o[1] - o[3]) < 1e-7f && fabsf(o[1] - h[1]) < 1e-6f && fabsf(o[0] - h[0]) < 1e-7f);
}

/* Without correlation the importance decides: the two least important neurons join first. */
Test(nmlayer_math, least_important_merge_first) {
    enum { N = 5 };
    double rho[N * N] = {0}, imp[N] = {1.0, 0.05, 1.2, 0.9, 0.1};
    for (int i = 0; i < N; i++) rho[i * N + i] = 1;
    int group[N];
    cr_assert_eq(hl_nml_group(rho, imp, N, 4, group), 4);
    cr_assert_eq(group[1], group[4]);
    cr_assert(group[0] != group[1] && group[2] != group[1] && group[3] != group[1]);
}

Test(nmlayer_math, schedule_reaches_k) {
    cr_assert_eq(hl_nml_stage_bits(64, 32, 2, 0), 64);
    cr_assert_eq(hl_nml_stage_bits(64, 32, 2, 1), 48);
    cr_assert_eq(hl_nml_stage_bits(64, 32, 2, 2), 32);
    const int Ks[] = {1, 8, 12, 16, 24, 32, 48, 64, 128};
    for (size_t k = 0; k < HL_ARRAY_LEN(Ks); k++)
        for (int stages = 1; stages <= 5; stages++)
            for (int start = Ks[k]; start <= 3 * Ks[k]; start += 1 + Ks[k] / 4) {
                cr_assert_eq(hl_nml_stage_bits(start, Ks[k], stages, 0), start);
                cr_assert_eq(hl_nml_stage_bits(start, Ks[k], stages, stages), Ks[k]);
                for (int s = 1; s <= stages; s++) {
                    int a = hl_nml_stage_bits(start, Ks[k], stages, s - 1);
                    int b = hl_nml_stage_bits(start, Ks[k], stages, s);
                    cr_assert(b <= a && b >= Ks[k], "start %d K %d stages %d: N_%d = %d after %d", start, Ks[k],
                              stages, s, b, a);
                }
            }
}

/* ---- the class ---- */

static hl_config *params_of(int n, const char *const *kv) {
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, NULL, 0, 0);
    for (int i = 0; i < n; i++)
        cr_assert_eq(hl_config_map_put(m, kv[2 * i], 0, 0, hl_config_new(HL_CONFIG_SCALAR, kv[2 * i + 1], NULL, 0, 0)),
                     HL_OK);
    return m;
}

static double map_of(hl_hasher *h, const hl_dataset *d, const int64_t *db, int64_t ndb, const int64_t *q, int64_t nq,
                     hl_codes *keep_q) {
    return hl_test_hasher_map(h, d, db, ndb, q, nq, keep_q);
}

/* Synthetic 1×12×12 images of 4 classes, noise 0.2 (400 train = database, 100 queries), 12 epochs of batch 16
 * (constant lr, other keys at their defaults), K = 8 bits from a 16-bit code in two stages (16 → 12 → 8): the
 * network ends with exactly K outputs, the training head's rows beyond K are zero, the final head holds the merged
 * rows, the mAP@all is far above the untrained network's, and a checkpoint reloads to the same codes. */
Test(nmlayer, trains_reduces_to_k_and_reloads) {
    hl_synth_opts so = {.n = 500, .c = 1, .h = 12, .w = 12, .classes = 4, .seed = 3, .noise = 0.2f};
    hl_dataset d = {0};
    cr_assert_eq(hl_dataset_synthetic(&d, &so), HL_OK, "%s", hl_error_last());
    int64_t tr[400], q[100];
    for (int i = 0; i < 400; i++) tr[i] = i;
    for (int i = 0; i < 100; i++) q[i] = 400 + i;
    const char *kv[] = {"epochs", "12", "batch", "16", "active_every", "5", "lr_schedule", "constant"};
    hl_config *p = params_of(4, kv);
    hl_dataset_info info = hl_dataset_info_of(&d);
    const int K = 8;
    hl_hasher *h = NULL, *h2 = NULL;
    cr_assert_eq(hl_hasher_create(&h, "nmlayer", p, &info, K, 1), HL_OK, "%s", hl_error_last());
    double t0 = hl_time_s();
    cr_assert_eq(hl_hasher_fit(h, &d, tr, 400, true), HL_OK, "%s", hl_error_last());
    double secs = hl_time_s() - t0;
    hl_tensor *hw = hl_params_find(&h->params, "head.weight"), *fw = hl_params_find(&h->params, "final.weight");
    cr_assert(hw && fw && hw->shape[0] == 2 * K && fw->shape[0] == K, "head [2K, F] and final [K, F]");
    int64_t F = hw->shape[1];
    for (int64_t i = K * F; i < hw->shape[0] * F; i++)
        cr_assert_eq(hw->data[i], 0.0f, "head rows >= K must be merged away");
    cr_assert_eq(memcmp(hw->data, fw->data, (size_t)(K * F) * sizeof(float)), 0, "final = the K merged rows");
    hl_ctx *ctx = hl_test_ctx();
    float img[2 * 144];
    hl_dataset_read(&d, q, 2, img);
    hl_tensor *x = hl_tensor_from(ctx, 4, HL_SHAPE(2, 1, 12, 12), img);
    hl_tensor *u = hl_hasher_forward(h, ctx, x);
    cr_assert(u->ndim == 2 && u->shape[0] == 2 && u->shape[1] == K);
    hl_ctx_free(ctx);
    hl_codes cq, cq2;
    double trained = map_of(h, &d, tr, 400, q, 100, &cq);
    /* untrained: the same class with epochs 0 */
    const char *kv0[] = {"epochs", "0"};
    hl_config *p0 = params_of(1, kv0);
    hl_hasher *h0 = NULL;
    cr_assert_eq(hl_hasher_create(&h0, "nmlayer", p0, &info, K, 1), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_fit(h0, &d, tr, 400, true), HL_OK, "%s", hl_error_last());
    double untrained = map_of(h0, &d, tr, 400, q, 100, NULL);
    fprintf(stderr, "nmlayer %d bits (16 -> 12 -> 8): mAP@all %.3f trained (%.2f s) vs %.3f untrained\n", K, trained,
            secs, untrained);
    /* measured: 0.604 trained vs 0.257 untrained */
    cr_assert(trained > 0.45 && trained > untrained + 0.25, "mAP %.3f trained vs %.3f untrained", trained, untrained);
    /* save / load into a fresh instance */
    const char *path = hl_test_path(hl_test_tmpdir(), "nml.safetensors");
    cr_assert_eq(hl_hasher_save(h, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_create(&h2, "nmlayer", p, &info, K, 2), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_load(h2, path), HL_OK, "%s", hl_error_last());
    double reloaded = map_of(h2, &d, tr, 400, q, 100, &cq2);
    cr_assert_eq(reloaded, trained);
    cr_assert_eq(cq.n, cq2.n);
    cr_assert_eq(memcmp(cq.w, cq2.w, (size_t)(cq.n * cq.words) * sizeof *cq.w), 0, "reloaded codes differ");
    hl_codes_free(&cq), hl_codes_free(&cq2);
    hl_hasher_free(h), hl_hasher_free(h2), hl_hasher_free(h0);
    hl_config_free(p), hl_config_free(p0);
    hl_dataset_free(&d);
}

/* A bad start: fewer start bits than K is refused at create. */
Test(nmlayer, start_below_k_refused) {
    const char *kv[] = {"start_bits", "6"};
    hl_config *p = params_of(1, kv);
    hl_dataset_info info = {1, 16, 16, 4};
    hl_hasher *h = NULL;
    cr_assert_lt(hl_hasher_create(&h, "nmlayer", p, &info, 8, 1), 0);
    cr_assert(strstr(hl_error_last(), "start_bits"), "%s", hl_error_last());
    hl_config_free(p);
}
