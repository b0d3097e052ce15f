/* defences/defence_math.c — centre and mainstay codes, the code-product term; see defence.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "defences/defence.h"

static int popcount_and(const uint64_t *a, const uint64_t *b, int words) {
    int k = 0;
    for (int w = 0; w < words; w++) k += __builtin_popcountll(a[w] & b[w]);
    return k;
}

static int popcount(const uint64_t *a, int words) {
    int k = 0;
    for (int w = 0; w < words; w++) k += __builtin_popcountll(a[w]);
    return k;
}

hl_status hl_defence_centres(const hl_labels *q, const hl_labels *items, const float *b, int K, bool weighted,
                             float *out) {
    if (q->nlabels != items->nlabels)
        return hl_error_set(HL_EMISMATCH, "centres: label sets of %d and %d labels", q->nlabels, items->nlabels);
    double *pos = malloc((size_t)K * sizeof *pos), *neg = malloc((size_t)K * sizeof *neg);
    if (!pos || !neg) {
        free(pos), free(neg);
        return hl_error_set(HL_ENOMEM, "out of memory for centre codes");
    }
    const int words = q->words;
    for (int64_t i = 0; i < q->n; i++) {
        const uint64_t *qi = hl_labels_row(q, i);
        double wp = 0, wn = 0, nq = sqrt((double)popcount(qi, words));
        memset(pos, 0, (size_t)K * sizeof *pos), memset(neg, 0, (size_t)K * sizeof *neg);
        for (int64_t j = 0; j < items->n; j++) {
            const uint64_t *lj = hl_labels_row(items, j);
            int common = popcount_and(qi, lj, words);
            const float *bj = b + j * K;
            if (common > 0) {
                double w = weighted ? (double)common / (nq * sqrt((double)popcount(lj, words))) : 1.0;
                wp += w;
                for (int k = 0; k < K; k++) pos[k] += w * (bj[k] >= 0 ? 1.0 : -1.0);
            } else {
                wn += 1;
                for (int k = 0; k < K; k++) neg[k] += bj[k] >= 0 ? 1.0 : -1.0;
            }
        }
        for (int k = 0; k < K; k++) {
            double v = (wp > 0 ? pos[k] / wp : 0) - (wn > 0 ? neg[k] / wn : 0);
            out[i * K + k] = v >= 0 ? 1.0f : -1.0f;
        }
    }
    free(pos), free(neg);
    return HL_OK;
}

double hl_defence_code_product(const float *u, const float *r, int64_t B, int K, double sign, float *grad) {
    double s = 0, inv = 1.0 / (double)(B * K);
    for (int64_t i = 0; i < B * K; i++) {
        double h = tanh((double)u[i]);
        s += h * r[i];
        if (grad) grad[i] += (float)(sign * (1 - h * h) * r[i] * inv);
    }
    return sign * s * inv;
}
