/* hashers/gnn.c — directed kNN graph, in-degree selection and the GraphSAGE-mean layer; see gnn.h. */
#include "hashers/gnn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KNN_BLOCK = 256 };

/* Inserts (c, j) into a row's k best, sorted by cosine descending; scanning j upwards and replacing only on a
 * strictly larger cosine sends ties to the lower index. */
static void knn_insert(float *bc, int32_t *bj, int k, int *have, float c, int32_t j) {
    if (*have == k && c <= bc[k - 1]) return;
    int p = *have < k ? (*have)++ : k - 1;
    while (p > 0 && bc[p - 1] < c) {
        bc[p] = bc[p - 1], bj[p] = bj[p - 1];
        p--;
    }
    bc[p] = c, bj[p] = j;
}

hl_status hl_knn_graph_build(hl_knn_graph *g, const float *F, int64_t n, int d, int k) {
    memset(g, 0, sizeof *g);
    if (n < 2 || n > INT32_MAX || k < 1 || d < 1)
        return hl_error_set(HL_EINVAL, "kNN graph: %lld nodes of %d features with k = %d (need n >= 2, k >= 1)",
                            (long long)n, d, k);
    if (k > n - 1) k = (int)(n - 1);
    float *C = malloc((size_t)KNN_BLOCK * (size_t)n * sizeof *C);
    g->nbr = malloc((size_t)n * (size_t)k * sizeof *g->nbr);
    if (!C || !g->nbr) {
        free(C);
        hl_knn_graph_free(g);
        return hl_error_set(HL_ENOMEM, "kNN graph: out of memory for %lld nodes", (long long)n);
    }
    g->n = n, g->k = k;
    for (int64_t i0 = 0; i0 < n; i0 += KNN_BLOCK) {
        int64_t m = HL_MIN((int64_t)KNN_BLOCK, n - i0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, d, 1.0f, F + i0 * d, d, F, d, 0.0f, C,
                    (int)n);
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < m; r++) {
            float bc[256], *bcp = k <= 256 ? bc : malloc((size_t)k * sizeof *bcp);
            HL_ASSERT(bcp, "kNN graph: out of memory for k = %d", k);
            int32_t *bj = g->nbr + (i0 + r) * k;
            int have = 0;
            const float *c = C + r * n;
            for (int64_t j = 0; j < n; j++)
                if (j != i0 + r) knn_insert(bcp, bj, k, &have, c[j], (int32_t)j);
            if (bcp != bc) free(bcp);
        }
    }
    free(C);
    return HL_OK;
}

void hl_knn_graph_free(hl_knn_graph *g) {
    if (!g) return;
    free(g->nbr);
    memset(g, 0, sizeof *g);
}

void hl_knn_indegree(const hl_knn_graph *g, int64_t *deg) {
    memset(deg, 0, (size_t)g->n * sizeof *deg);
    for (int64_t e = 0; e < g->n * g->k; e++) deg[g->nbr[e]]++;
}

typedef struct cand_t {
    int64_t deg, key, node;
} cand_t;

static int cmp_cand(const void *a, const void *b) {
    const cand_t *x = a, *y = b;
    if (x->deg != y->deg) return x->deg > y->deg ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

int64_t hl_knn_select(const int64_t *deg, const uint8_t *cand, const int64_t *key, int64_t n, int64_t m, int64_t *out) {
    int64_t nc = 0;
    for (int64_t i = 0; i < n; i++) nc += cand[i] != 0;
    cand_t *c = malloc((size_t)(nc ? nc : 1) * sizeof *c);
    if (!c) {
        hl_error_set(HL_ENOMEM, "kNN selection: out of memory for %lld candidates", (long long)nc);
        return -1;
    }
    nc = 0;
    for (int64_t i = 0; i < n; i++)
        if (cand[i]) c[nc++] = (cand_t){deg[i], key[i], i};
    qsort(c, (size_t)nc, sizeof *c, cmp_cand);
    int64_t k = HL_MIN(m, nc);
    for (int64_t i = 0; i < k; i++) out[i] = c[i].node;
    free(c);
    return k;
}

double hl_gnn_confidence(const float *z, int C, bool softmax) {
    if (softmax) { /* max softmax = 1 / Σ_c exp(z_c − max z) */
        double mx = z[0], se = 0;
        for (int c = 1; c < C; c++) mx = fmax(mx, z[c]);
        for (int c = 0; c < C; c++) se += exp(z[c] - mx);
        return 1.0 / se;
    }
    double conf = 1.0;
    for (int c = 0; c < C; c++) conf = fmin(conf, 1.0 / (1.0 + exp(-fabs((double)z[c])))); /* max(σ, 1 − σ) = σ(|z|) */
    return conf;
}

void hl_gnn_mean(const hl_knn_graph *g, const float *H, int d, float *out) {
    const float w = 1.0f / (float)g->k;
#pragma omp parallel for schedule(static) if (g->n * d > 1 << 16)
    for (int64_t i = 0; i < g->n; i++) {
        float *o = out + i * d;
        memset(o, 0, (size_t)d * sizeof *o);
        for (int t = 0; t < g->k; t++) {
            const float *h = H + (int64_t)g->nbr[i * g->k + t] * d;
            for (int c = 0; c < d; c++) o[c] += h[c];
        }
        for (int c = 0; c < d; c++) o[c] *= w;
    }
}

void hl_gnn_mean_t(const hl_knn_graph *g, const float *G, int d, float *out) {
    const float w = 1.0f / (float)g->k;
    memset(out, 0, (size_t)(g->n * d) * sizeof *out);
    for (int64_t i = 0; i < g->n; i++) /* a scatter: sequential, so the sums never depend on threads */
        for (int t = 0; t < g->k; t++) {
            float *o = out + (int64_t)g->nbr[i * g->k + t] * d;
            const float *x = G + i * d;
            for (int c = 0; c < d; c++) o[c] += w * x[c];
        }
}

void hl_gnn_layer_forward(const hl_knn_graph *g, const float *H, int din, int dout, const float *Ws, const float *Wn,
                          const float *b, bool relu, float *AH, float *Y) {
    const int n = (int)g->n;
    hl_gnn_mean(g, H, din, AH);
    for (int64_t i = 0; i < g->n; i++) memcpy(Y + i * dout, b, (size_t)dout * sizeof *Y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dout, din, 1.0f, H, din, Ws, dout, 1.0f, Y, dout);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dout, din, 1.0f, AH, din, Wn, dout, 1.0f, Y, dout);
    if (relu)
        for (int64_t i = 0; i < g->n * dout; i++) Y[i] = Y[i] > 0 ? Y[i] : 0;
}

void hl_gnn_layer_backward(const hl_knn_graph *g, const float *H, const float *AH, const float *Y, int din, int dout,
                           const float *Ws, const float *Wn, bool relu, float *dY, float *dWs, float *dWn, float *db,
                           float *dH, float *scratch) {
    const int n = (int)g->n;
    if (relu)
        for (int64_t i = 0; i < g->n * dout; i++)
            if (!(Y[i] > 0)) dY[i] = 0;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, din, dout, n, 1.0f, H, din, dY, dout, 1.0f, dWs, dout);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, din, dout, n, 1.0f, AH, din, dY, dout, 1.0f, dWn, dout);
    for (int64_t i = 0; i < g->n; i++)
        for (int c = 0; c < dout; c++) db[c] += dY[i * dout + c];
    if (!dH) return;
    /* scratch = dP W_nᵀ, then dH = Aᵀ scratch + dP W_sᵀ */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, din, dout, 1.0f, dY, dout, Wn, dout, 0.0f, scratch, din);
    hl_gnn_mean_t(g, scratch, din, dH);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, din, dout, 1.0f, dY, dout, Ws, dout, 1.0f, dH, din);
}
