/* core/kern/retrieval.h — raw kernels of retrieval scoring on a device (signatures). CPU instance:
 * core/cpu/retrieval.c, CUDA: core/cuda/retrieval.cu; the driver is eval/retrieval_device.c.
 *
 * For a chunk of nq queries against a database of ndb items (all device memory):
 *   codes   q [nq, words], db [ndb, words]: packed codes, 64 bits per word (core/codes.h)
 *   labels  ql [nq, lwords], dbl [ndb, lwords]: label bitsets (core/labels.h); item j is relevant to query i when
 *           their rows share a bit
 *   dist    [nq, ndb] uint16 Hamming distances; rel [nq, ndb] uint8 0/1
 *   cnt, rcnt  [nq, K + 1] int64: items / relevant items at distance b
 * The ranking is eval/retrieval.h's: distance ascending, ties by database position ascending (a caller wanting
 * another tie order permutes the database first). */
#ifndef HL_KERN_RETRIEVAL_H
#define HL_KERN_RETRIEVAL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hl_kern_retrieval {
    /* dist[i, j] = popcount(q_i XOR db_j) (written). */
    void (*hamming)(int64_t nq, int64_t ndb, int words, const uint64_t *q, const uint64_t *db, uint16_t *dist);
    /* rel[i, j] = (ql_i AND dbl_j) != 0 (written). */
    void (*relevance)(int64_t nq, int64_t ndb, int lwords, const uint64_t *ql, const uint64_t *dbl, uint8_t *rel);
    /* cnt[i, b] = #{j : dist[i, j] = b}, rcnt[i, b] = #{j : dist[i, j] = b, rel[i, j]} for b = 0..K (written). */
    void (*buckets)(int64_t nq, int64_t ndb, int K, const uint16_t *dist, const uint8_t *rel, int64_t *cnt,
                    int64_t *rcnt);
    /* Stable-tie AP terms from the buckets: item j of query i has rank p = (items at a smaller distance) + (items at
     * the same distance and a smaller position) + 1; a relevant one has relevant rank r likewise among the relevant
     * items. ap[i] = Σ r/p over the relevant items with p <= R (double), nr[i] = their number, nn[i] = the number of
     * relevant items with p <= N (written; R, N >= 0). */
    void (*ap_index)(int64_t nq, int64_t ndb, int K, int64_t R, int64_t N, const uint16_t *dist, const uint8_t *rel,
                     const int64_t *cnt, const int64_t *rcnt, double *ap, int64_t *nr, int64_t *nn);
} hl_kern_retrieval;

extern const hl_kern_retrieval hl_cpu_retrieval;

#endif
