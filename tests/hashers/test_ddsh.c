/* tests/hashers/test_ddsh.c — DDSH (hashers/ddsh.h, hashers/ddsh.c): the soft similarity, the loss and the
 * feature-learning gradient on a 4-point case worked by hand and by central differences, the bit BQP against the
 * residual it stands for, the discrete step never raising a bit's objective and keeping the bit balance (random
 * cases), the heuristic's quality, and the class: flags, determinism, save/load, training on synthetic images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/rng.h"
#include "eval/retrieval.h"
#include "hashers/ddsh.h"
#include "hashers/deep.h"
#include "test_hashers.h"

/* The hand-worked case (c = 2 bits, n = 4: Ω = {ω1 class A, ω2 class B}, Γ = {γ1 class A, γ2 class C}).
 * 0/1 block over the n×m = 4×2 pairs: ω1 [1 0], ω2 [0 1], γ1 [1 0], γ2 [0 0] → 3 similar, 5 dissimilar, r = 0.6:
 *   S_Ω = [[1, −.6], [−.6, 1]],  S_Γ = [[1, −.6], [−.6, −.6]]
 * B_Ω = [[1, 1], [1, −1]]  → B_Ω B_Ωᵀ = [[2, 0], [0, 2]],  c·S_Ω = [[2, −1.2], [−1.2, 2]]
 *   Ω term: 0² + 1.2² + 1.2² + 0² = 2.88
 * B_Γ = [[1, 1], [−1, 1]]  → B_Γ B_Ωᵀ = [[2, 0], [0, −2]], c·S_Γ = [[2, −1.2], [−1.2, −1.2]]
 *   Γ term: 0² + 1.2² + 1.2² + 0.8² = 3.52;  L = 6.40 */
static const float hand_So[4] = {1, -0.6f, -0.6f, 1}, hand_Sg[4] = {1, -0.6f, -0.6f, -0.6f};
static const float hand_Bo[4] = {1, 1, 1, -1}, hand_Bg[4] = {1, 1, -1, 1};

/* The soft similarity of the hand case from labels (deep.h's helpers, as ddsh_fit calls them on the n×m block). */
Test(ddsh_math, soft_similarity_block) {
    const int64_t all_ids[4] = {0, 1, 0, 2}, omega_ids[2] = {0, 1}; /* ω1 A, ω2 B, γ1 A, γ2 C */
    hl_labels all, omega;
    cr_assert_eq(hl_labels_from_class_ids(&all, all_ids, 4, 3), HL_OK);
    cr_assert_eq(hl_labels_from_class_ids(&omega, omega_ids, 2, 3), HL_OK);
    float S[8];
    hl_deep_similarity(S, &all, &omega);
    double r = hl_deep_soft_similarity(S, 4, 2);
    cr_assert(fabs(r - 0.6) < 1e-12, "r = %g, by hand 3/5", r);
    hl_test_assert_close(S, hand_So, 4, 1e-6f, 0, "S_Ω rows");
    hl_test_assert_close(S + 4, hand_Sg, 4, 1e-6f, 0, "S_Γ rows");
    hl_labels_free(&all), hl_labels_free(&omega);
}

Test(ddsh_math, loss_by_hand) {
    double L = hl_ddsh_loss(hand_Sg, hand_Bg, 2, hand_So, hand_Bo, 2, 2);
    cr_assert(fabs(L - 6.40) < 1e-5, "L = %.6f, by hand 6.40", L);
    /* Ω term alone (no Γ rows) */
    L = hl_ddsh_loss(hand_Sg, hand_Bg, 0, hand_So, hand_Bo, 2, 2);
    cr_assert(fabs(L - 2.88) < 1e-5, "Ω term %.6f, by hand 2.88", L);
}

/* γ1 with u = [0, atanh 0.5] → a = [0, 0.5], S row [1, −.6]:
 *   e1 = aᵀb1 − 2·1 = 0.5 − 2 = −1.5,  e2 = aᵀb2 + 1.2 = −0.5 + 1.2 = 0.7;  loss part 2.25 + 0.49 = 2.74
 *   dL/da = 2(e1·b1 + e2·b2) = 2·[−0.8, −2.2] = [−1.6, −4.4]
 *        (= −2c·S_I B_Ω + 2a·B_ΩᵀB_Ω = −4·[0.4, 1.6] + [0, 2])
 *   dL/du = dL/da ⊙ (1 − a²) = [−1.6, −4.4·0.75] = [−1.6, −3.3] */
Test(ddsh_math, gradient_by_hand) {
    float u[2] = {0, (float)atanh(0.5)}, G[2];
    double part = hl_ddsh_feature_grad(hand_Sg, u, 1, hand_Bo, 2, 2, G);
    cr_assert(fabs(part - 2.74) < 1e-5, "loss part %.6f, by hand 2.74", part);
    cr_assert(fabs(G[0] + 1.6) < 1e-5 && fabs(G[1] + 3.3) < 1e-5, "G = [%.6f, %.6f], by hand [-1.6, -3.3]", G[0],
              G[1]);
}

/* Random ±1 codes / soft similarity of the given shapes. */
static void rand_codes(hl_rng *r, float *B, int64_t n) {
    for (int64_t i = 0; i < n; i++) B[i] = (hl_rng_u32(r) & 1) ? 1.0f : -1.0f;
}
static void rand_sim(hl_rng *r, float *S, int64_t n, float neg) {
    for (int64_t i = 0; i < n; i++) S[i] = (hl_rng_u32(r) % 3 == 0) ? 1.0f : -neg;
}

/* dL/du of the full loss L (B_Γ = tanh(u)) by central differences against hl_ddsh_feature_grad, which also must
 * return exactly L's Γ part. */
Test(ddsh_math, gradient_finite_differences) {
    enum { g = 4, m = 3, c = 5 };
    float Sg[g * m], So[m * m], Bo[m * c], u[g * c], a[g * c], G[g * c];
    hl_rng r = hl_rng_make(7, 1);
    rand_sim(&r, Sg, g * m, 0.4f), rand_sim(&r, So, m * m, 0.4f), rand_codes(&r, Bo, m * c);
    hl_rng_uniform(&r, u, g * c, -1.5f, 1.5f);
    double part = hl_ddsh_feature_grad(Sg, u, g, Bo, m, c, G);
    for (int i = 0; i < g * c; i++) a[i] = tanhf(u[i]);
    double full = hl_ddsh_loss(Sg, a, g, So, Bo, m, c), omega = hl_ddsh_loss(Sg, a, 0, So, Bo, m, c);
    cr_assert(fabs(part - (full - omega)) < 1e-4 * full, "Γ part %.8g vs L − Ω term %.8g", part, full - omega);
    const float eps = 1e-2f;
    for (int i = 0; i < g * c; i++) {
        double Lp, Lm;
        float keep = u[i];
        u[i] = keep + eps, a[i] = tanhf(u[i]), Lp = hl_ddsh_loss(Sg, a, g, So, Bo, m, c);
        u[i] = keep - eps, a[i] = tanhf(u[i]), Lm = hl_ddsh_loss(Sg, a, g, So, Bo, m, c);
        u[i] = keep, a[i] = tanhf(keep);
        double num = (Lp - Lm) / ((double)(keep + eps) - (double)(keep - eps));
        cr_assert(fabs(G[i] - num) <= 2e-3 + 2e-3 * fabs(num), "dL/du[%d]: analytic %.6f, central difference %.6f", i,
                  G[i], num);
    }
}

/* ‖R_Ω − z zᵀ‖² + ‖R_Γ − b^k_Γ zᵀ‖² with the residual R formed explicitly (bits 0..k−1 of B_Ω, B_Γ). */
static double residual_objective(int g, int m, int c, int k, const float *Sg, const float *So, const float *Bg,
                                 const float *Bo, const float *z) {
    double f = 0;
    for (int pass = 0; pass < 2; pass++) {
        int rows = pass ? m : g;
        const float *S = pass ? So : Sg, *B = pass ? Bo : Bg;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < m; j++) {
                double R = (double)c * S[i * m + j];
                for (int l = 0; l < k; l++) R -= (double)B[i * c + l] * Bo[j * c + l];
                double bi = pass ? z[i] : B[i * c + k];
                double e = R - bi * z[j];
                f += e * e;
            }
    }
    return f;
}

/* T = S_Γᵀ B_Γ [m, c], Gm = B_Γᵀ B_Γ [c, c]. */
static void gram_terms(int g, int m, int c, const float *Sg, const float *Bg, double *T, double *Gm) {
    for (int i = 0; i < m; i++)
        for (int k = 0; k < c; k++) {
            double s = 0;
            for (int j = 0; j < g; j++) s += (double)Sg[j * m + i] * Bg[j * c + k];
            T[i * c + k] = s;
        }
    for (int l = 0; l < c; l++)
        for (int k = 0; k < c; k++) {
            double s = 0;
            for (int j = 0; j < g; j++) s += (double)Bg[j * c + l] * Bg[j * c + k];
            Gm[l * c + k] = s;
        }
}

/* f(z) = zᵀQz + pᵀz differs from the bit's residual loss by a constant: checked on all 2^m vectors. */
Test(ddsh_math, bit_problem_is_the_residual) {
    enum { g = 7, m = 6, c = 4 };
    float Sg[g * m], So[m * m], Bg[g * c], Bo[m * c], z[m];
    double T[m * c], Gm[c * c], Q[m * m], p[m];
    hl_rng r = hl_rng_make(3, 2);
    rand_sim(&r, Sg, g * m, 0.5f), rand_sim(&r, So, m * m, 0.5f), rand_codes(&r, Bg, g * c), rand_codes(&r, Bo, m * c);
    gram_terms(g, m, c, Sg, Bg, T, Gm);
    for (int k = 0; k < c; k++) {
        hl_ddsh_bit_problem(m, c, k, So, Bo, T, Gm, Q, p);
        for (int i = 0; i < m; i++) cr_assert_eq(Q[i * m + i], 0.0, "Q has a zero diagonal");
        double off = 0;
        for (int v = 0; v < (1 << m); v++) {
            for (int i = 0; i < m; i++) z[i] = (v >> i) & 1 ? 1.0f : -1.0f;
            double d = residual_objective(g, m, c, k, Sg, So, Bg, Bo, z) - hl_ddsh_bqp_objective(m, Q, p, z);
            if (v == 0) off = d;
            cr_assert(fabs(d - off) < 1e-6 * (1 + fabs(off)), "bit %d, z #%d: residual − f = %.9g, not %.9g", k, v, d,
                      off);
        }
    }
}

/* H − 1 = round((m + 1)/2) − 1 real variables set: the +1 count of the heuristic's output. */
static int balanced_ones(int m) { return (m + 2) / 2 - 1; }

/* One random bit problem of the DDSH shape (soft similarity, ±1 codes, k earlier bits) or, when `dense`, a random
 * symmetric Q with zero diagonal and a random p. */
static void random_problem(hl_rng *r, int m, bool dense, double *Q, double *p) {
    if (dense) {
        for (int i = 0; i < m; i++) {
            Q[i * m + i] = 0;
            for (int j = 0; j < i; j++) Q[i * m + j] = Q[j * m + i] = 4.0 * hl_rng_uniform_at(9, 9, hl_rng_u32(r)) - 2;
            p[i] = 20.0 * hl_rng_uniform_at(9, 8, hl_rng_u32(r)) - 10;
        }
        return;
    }
    int g = 3 + (int)hl_rng_below(r, 20), c = 2 + (int)hl_rng_below(r, 10), k = (int)hl_rng_below(r, (uint64_t)c);
    float *Sg = malloc((size_t)(g * m) * sizeof *Sg), *So = malloc((size_t)(m * m) * sizeof *So);
    float *Bg = malloc((size_t)(g * c) * sizeof *Bg), *Bo = malloc((size_t)(m * c) * sizeof *Bo);
    double *T = malloc((size_t)(m * c) * sizeof *T), *Gm = malloc((size_t)(c * c) * sizeof *Gm);
    float neg = 0.1f + 0.8f * hl_rng_uniform_at(9, 7, hl_rng_u32(r));
    rand_sim(r, Sg, g * m, neg), rand_sim(r, So, m * m, neg), rand_codes(r, Bg, g * c), rand_codes(r, Bo, m * c);
    for (int i = 0; i < m; i++) So[i * m + i] = 1;
    gram_terms(g, m, c, Sg, Bg, T, Gm);
    hl_ddsh_bit_problem(m, c, k, So, Bo, T, Gm, Q, p);
    free(Sg), free(So), free(Bg), free(Bo), free(T), free(Gm);
}

/* The discrete step never raises the bit's objective against the previous codes of that bit (the guard), and its
 * output is either the previous codes or balanced: exactly H − 1 = round((m+1)/2) − 1 entries +1. The heuristic's
 * own output is always balanced. */
Test(ddsh_math, bqp_step_monotone_and_balanced) {
    enum { MMAX = 40 };
    double Q[MMAX * MMAX], p[MMAX];
    float prev[MMAX], z[MMAX], y[MMAX];
    hl_rng r = hl_rng_make(5, 3);
    int cases = 0, accepted_n = 0;
    for (int t = 0; t < 600; t++) {
        int m = 1 + (int)hl_rng_below(&r, MMAX);
        random_problem(&r, m, t % 3 == 0, Q, p);
        /* previous codes: random, or a balanced heuristic solution of a nearby problem (the usual case) */
        rand_codes(&r, prev, m);
        bool acc = false;
        cr_assert_eq(hl_ddsh_bqp_balanced(m, Q, p, 1e4, y), HL_OK, "%s", hl_error_last());
        int ones = 0;
        for (int i = 0; i < m; i++) ones += y[i] > 0;
        cr_assert_eq(ones, balanced_ones(m), "m = %d: heuristic set %d of %d, want %d", m, ones, m, balanced_ones(m));
        cr_assert_eq(hl_ddsh_bit_update(m, Q, p, 1e4, prev, z, &acc), HL_OK);
        double f_new = hl_ddsh_bqp_objective(m, Q, p, z), f_prev = hl_ddsh_bqp_objective(m, Q, p, prev);
        cr_assert(f_new <= f_prev, "case %d (m = %d): objective rose %.9g -> %.9g", t, m, f_prev, f_new);
        if (acc)
            cr_assert_eq(memcmp(z, y, (size_t)m * sizeof *z), 0, "accepted = the heuristic's solution");
        else
            cr_assert_eq(memcmp(z, prev, (size_t)m * sizeof *z), 0, "rejected = the previous codes");
        cases++, accepted_n += acc;
    }
    fprintf(stderr, "ddsh bqp: heuristic accepted in %d of %d random cases\n", accepted_n, cases);
    cr_assert(accepted_n > cases / 2, "the heuristic should usually beat random previous codes (%d/%d)", accepted_n,
              cases);
}

/* On the method's own size (m = 100: 50 of 100 set) the heuristic beats random balanced codes, and on small problems
 * it comes close to the best balanced vector found by exhaustive search. */
Test(ddsh_math, bqp_heuristic_quality) {
    enum { m = 100 };
    static double Q[m * m], p[m];
    float z[m], w[m];
    hl_rng r = hl_rng_make(8, 4);
    for (int t = 0; t < 5; t++) {
        random_problem(&r, m, false, Q, p);
        cr_assert_eq(hl_ddsh_bqp_balanced(m, Q, p, 1e4, z), HL_OK, "%s", hl_error_last());
        int ones = 0;
        for (int i = 0; i < m; i++) ones += z[i] > 0;
        cr_assert_eq(ones, 50, "m = 100: %d set, want 50", ones);
        double fz = hl_ddsh_bqp_objective(m, Q, p, z), mean = 0;
        int64_t perm[m];
        for (int s = 0; s < 200; s++) {
            hl_rng_permutation(&r, perm, m);
            for (int i = 0; i < m; i++) w[perm[i]] = i < 50 ? 1.0f : -1.0f;
            mean += hl_ddsh_bqp_objective(m, Q, p, w) / 200;
        }
        cr_assert(fz < mean, "heuristic %.6g vs random balanced mean %.6g", fz, mean);
    }
    /* exhaustive check on m = 10 (C(10,5) = 252 balanced vectors) */
    enum { ms = 10 };
    double Qs[ms * ms], ps[ms];
    float zs[ms], ws[ms];
    int hits = 0, trials = 100;
    double gap = 0;
    for (int t = 0; t < trials; t++) {
        random_problem(&r, ms, t % 2, Qs, ps);
        cr_assert_eq(hl_ddsh_bqp_balanced(ms, Qs, ps, 1e4, zs), HL_OK);
        double fz = hl_ddsh_bqp_objective(ms, Qs, ps, zs), best = INFINITY, worst = -INFINITY;
        for (int v = 0; v < (1 << ms); v++) {
            if (__builtin_popcount((unsigned)v) != balanced_ones(ms)) continue;
            for (int i = 0; i < ms; i++) ws[i] = (v >> i) & 1 ? 1.0f : -1.0f;
            double f = hl_ddsh_bqp_objective(ms, Qs, ps, ws);
            best = fmin(best, f), worst = fmax(worst, f);
        }
        cr_assert(fz >= best - 1e-9, "below the exhaustive optimum?");
        hits += fz <= best + 1e-9 * (1 + fabs(best));
        gap += worst > best ? (fz - best) / (worst - best) / trials : 0;
    }
    fprintf(stderr, "ddsh bqp m=10: optimal in %d of %d, mean relative gap %.4f\n", hits, trials, gap);
    cr_assert(gap < 0.2, "mean relative gap %.4f", gap);
}

/* ---- the class ---- */

static void synthetic(hl_dataset *d, int64_t n, uint64_t seed) { hl_test_synthetic(d, n, 1, 12, 5, seed); }

static hl_hasher *make(const hl_dataset *d, const char *const *kv, int bits) {
    return hl_test_make_hasher("ddsh", d, kv, bits, 3);
}

/* Flags; encoding before fit is refused; m clamped to n − 2 on a tiny set; the fit is deterministic in the seed;
 * a save/load round trip gives the same codes. */
Test(ddsh, flags_fit_determinism_save_load) {
    hl_dataset d;
    synthetic(&d, 40, 2);
    const char *kv[] = {"epochs", "2", "inner", "1", "batch", "8", NULL}; /* m = 100 > 38: clamped */
    hl_hasher *a = make(&d, kv, 8), *b = make(&d, kv, 8), *c = make(&d, kv, 8);
    unsigned want = HL_HASHER_SUPERVISED | HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT | HL_HASHER_TRAINABLE |
                    HL_HASHER_DEVICE;
    cr_assert_eq(a->cls->flags, want);
    hl_ctx *ctx = hl_test_ctx();
    hl_codes ca, cb, cc;
    int64_t idx[30];
    for (int i = 0; i < 30; i++) idx[i] = i;
    cr_assert_eq(hl_hasher_encode(&ca, a, ctx, &d, NULL, 0, 0), HL_EINVAL);
    cr_assert_eq(hl_hasher_fit(a, &d, idx, 30, false), HL_EINVAL, "supervised: labels required");
    cr_assert_eq(hl_hasher_fit(a, &d, idx, 30, true), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_fit(b, &d, idx, 30, true), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode(&ca, a, ctx, &d, NULL, 0, 16), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode(&cb, b, ctx, &d, NULL, 0, 16), HL_OK);
    cr_assert_eq(memcmp(ca.w, cb.w, 40 * sizeof(uint64_t)), 0, "deterministic in the seed");
    const char *path = hl_test_path(hl_test_tmpdir(), "ddsh.safetensors");
    cr_assert_eq(hl_hasher_save(a, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_load(c, path), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_hasher_encode(&cc, c, ctx, &d, NULL, 0, 16), HL_OK);
    cr_assert_eq(memcmp(ca.w, cc.w, 40 * sizeof(uint64_t)), 0, "round trip");
    hl_codes_free(&ca), hl_codes_free(&cb), hl_codes_free(&cc);
    hl_hasher_free(a), hl_hasher_free(b), hl_hasher_free(c);
    hl_ctx_free(ctx);
    hl_dataset_free(&d);
}

/* Trains on 400 synthetic images (5 classes, 1×12×12; database = the training set) and queries 100 others: mAP
 * (R = all) of sign(F(x)) codes, against the untrained network (epochs 0). Default keys but the batch (32: more steps
 * on so few images) and a constant rate (10 outer iterations are too few for the step schedule). */
static double train_map(int64_t epochs, double *secs) {
    hl_dataset d;
    synthetic(&d, 500, 7);
    char ep[16];
    snprintf(ep, sizeof ep, "%lld", (long long)epochs);
    const char *kv[] = {"epochs", ep, "batch", "32", "lr_schedule", "constant", NULL};
    double map = hl_test_fit_map(make(&d, kv, 16), &d, 400, 100, secs);
    hl_dataset_free(&d);
    return map;
}

Test(ddsh, learns_synthetic) {
    double s0, s1;
    double m0 = train_map(0, &s0), m1 = train_map(10, &s1);
    fprintf(stderr, "ddsh synthetic (400 train = database / 100 queries, 5 classes, 16 bits): mAP untrained %.4f, "
                    "after 10 outer iterations (x3 inner) %.4f (fit %.2f s)\n", m0, m1, s1);
    cr_assert(m1 > 0.8, "mAP after training %.4f", m1);
    cr_assert(m1 > m0 + 0.5, "mAP %.4f vs untrained %.4f", m1, m0);
}
