/* core/cpu/retrieval.c — CPU retrieval kernels (contract in core/kern/retrieval.h): plain loops, parallel over queries
 * (each query's sums in one fixed order, so results do not depend on the thread count). The host scoring path,
 * eval/retrieval.c, is the fast one on the CPU; these are the device table's reference and the shadow device's. */
#include "core/kern/retrieval.h"

#include <stdlib.h>

#include "core/common.h"

static void cpu_hamming(int64_t nq, int64_t ndb, int words, const uint64_t *q, const uint64_t *db, uint16_t *dist) {
#pragma omp parallel for schedule(static) if (nq * ndb > 65536)
    for (int64_t i = 0; i < nq; i++)
        for (int64_t j = 0; j < ndb; j++) {
            int d = 0;
            for (int w = 0; w < words; w++) d += __builtin_popcountll(q[i * words + w] ^ db[j * words + w]);
            dist[i * ndb + j] = (uint16_t)d;
        }
}

static void cpu_relevance(int64_t nq, int64_t ndb, int lwords, const uint64_t *ql, const uint64_t *dbl, uint8_t *rel) {
#pragma omp parallel for schedule(static) if (nq * ndb > 65536)
    for (int64_t i = 0; i < nq; i++)
        for (int64_t j = 0; j < ndb; j++) {
            uint64_t a = 0;
            for (int w = 0; w < lwords; w++) a |= ql[i * lwords + w] & dbl[j * lwords + w];
            rel[i * ndb + j] = a != 0;
        }
}

static void cpu_buckets(int64_t nq, int64_t ndb, int K, const uint16_t *dist, const uint8_t *rel, int64_t *cnt,
                        int64_t *rcnt) {
#pragma omp parallel for schedule(static) if (nq * ndb > 65536)
    for (int64_t i = 0; i < nq; i++) {
        int64_t *c = cnt + i * (K + 1), *r = rcnt + i * (K + 1);
        for (int b = 0; b <= K; b++) c[b] = r[b] = 0;
        for (int64_t j = 0; j < ndb; j++) {
            const int b = dist[i * ndb + j];
            c[b]++;
            r[b] += rel[i * ndb + j];
        }
    }
}

static void cpu_ap_index(int64_t nq, int64_t ndb, int K, int64_t R, int64_t N, const uint16_t *dist,
                         const uint8_t *rel, const int64_t *cnt, const int64_t *rcnt, double *ap, int64_t *nr,
                         int64_t *nn) {
#pragma omp parallel
    {
        int64_t *pos = malloc((size_t)(2 * (K + 1)) * sizeof *pos), *rpos = pos + K + 1; /* next rank per bucket */
        HL_ASSERT(pos, "out of memory");
#pragma omp for schedule(static)
        for (int64_t i = 0; i < nq; i++) {
            const int64_t *c = cnt + i * (K + 1), *rc = rcnt + i * (K + 1);
            int64_t s = 0, rs = 0;
            for (int b = 0; b <= K; b++) pos[b] = s, rpos[b] = rs, s += c[b], rs += rc[b];
            double sum = 0.0;
            int64_t a = 0, n = 0;
            for (int64_t j = 0; j < ndb; j++) {
                const int b = dist[i * ndb + j];
                const int64_t p = ++pos[b];
                if (!rel[i * ndb + j]) continue;
                const int64_t r = ++rpos[b];
                if (p <= R) sum += (double)r / (double)p, a++;
                n += p <= N;
            }
            ap[i] = sum, nr[i] = a, nn[i] = n;
        }
        free(pos);
    }
}

const hl_kern_retrieval hl_cpu_retrieval = {
    .hamming = cpu_hamming,
    .relevance = cpu_relevance,
    .buckets = cpu_buckets,
    .ap_index = cpu_ap_index,
};
