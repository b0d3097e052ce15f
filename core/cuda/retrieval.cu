/* core/cuda/retrieval.cu — CUDA retrieval kernels (contract in core/kern/retrieval.h).
 *   hamming, relevance  one thread per (query, item) pair.
 *   buckets             one block per query, counters in shared memory (2·(K+1) int32, atomics), then written.
 *   ap_index            one warp per query, walking the database in chunks of 32 items in position order: the items
 *                       of a chunk at the same distance find each other with __match_any_sync, an item's rank in its
 *                       bucket is the bucket's counter plus its lower lanes in the group, and the group's leader
 *                       advances the counter (per-warp counters in dynamic shared memory, 2·(K+1) int32). Sums in
 *                       double per lane, reduced by shuffles: equal to the CPU up to summation order.
 */
#include "core/cuda/common.cuh"

__global__ static void k_hamming(int64_t nq, int64_t ndb, int words, const uint64_t *q, const uint64_t *db,
                                 uint16_t *dist) {
    HL_CUDA_FOR(t, nq * ndb) {
        const int64_t i = t / ndb, j = t % ndb;
        int d = 0;
        for (int w = 0; w < words; w++) d += __popcll(q[i * words + w] ^ db[j * words + w]);
        dist[t] = (uint16_t)d;
    }
}

__global__ static void k_relevance(int64_t nq, int64_t ndb, int lwords, const uint64_t *ql, const uint64_t *dbl,
                                   uint8_t *rel) {
    HL_CUDA_FOR(t, nq * ndb) {
        const int64_t i = t / ndb, j = t % ndb;
        uint64_t a = 0;
        for (int w = 0; w < lwords; w++) a |= ql[i * lwords + w] & dbl[j * lwords + w];
        rel[t] = a != 0;
    }
}

__global__ static void k_buckets(int64_t ndb, int K, const uint16_t *dist, const uint8_t *rel, int64_t *cnt,
                                 int64_t *rcnt) {
    extern __shared__ int sh[]; /* [2·(K+1)] */
    int *c = sh, *r = sh + K + 1;
    const int64_t i = blockIdx.x;
    for (int b = threadIdx.x; b <= K; b += blockDim.x) c[b] = r[b] = 0;
    __syncthreads();
    for (int64_t j = threadIdx.x; j < ndb; j += blockDim.x) {
        const int b = dist[i * ndb + j];
        atomicAdd(c + b, 1);
        if (rel[i * ndb + j]) atomicAdd(r + b, 1);
    }
    __syncthreads();
    for (int b = threadIdx.x; b <= K; b += blockDim.x) cnt[i * (K + 1) + b] = c[b], rcnt[i * (K + 1) + b] = r[b];
}

#define AP_WARPS 4 /* queries per block */

__global__ static void k_ap_index(int64_t nq, int64_t ndb, int K, int64_t R, int64_t N, const uint16_t *dist,
                                  const uint8_t *rel, const int64_t *cnt, const int64_t *rcnt, double *ap,
                                  int64_t *nr, int64_t *nn) {
    extern __shared__ int64_t sp[]; /* per warp [2·(K+1)]: next rank offset per bucket, items then relevant items */
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t i = (int64_t)blockIdx.x * AP_WARPS + warp;
    if (i >= nq) return; /* whole warps leave together: no shuffle below is left waiting */
    int64_t *pos = sp + (int64_t)warp * 2 * (K + 1), *rpos = pos + K + 1;
    if (lane == 0) {
        int64_t s = 0, rs = 0;
        for (int b = 0; b <= K; b++) {
            pos[b] = s, rpos[b] = rs;
            s += cnt[i * (K + 1) + b], rs += rcnt[i * (K + 1) + b];
        }
    }
    __syncwarp();
    const unsigned lt = (1u << lane) - 1u;
    double sum = 0.0;
    int64_t a = 0, n = 0;
    for (int64_t j0 = 0; j0 < ndb; j0 += 32) {
        const int64_t j = j0 + lane;
        const bool in = j < ndb;
        const int b = in ? dist[i * ndb + j] : K + 1; /* K + 1: a bucket no real item has */
        const bool rl = in && rel[i * ndb + j];
        const unsigned group = __match_any_sync(0xffffffffu, b);
        const unsigned rgroup = group & __ballot_sync(0xffffffffu, rl);
        int64_t p = 0, r = 0;
        if (in) p = pos[b] + __popc(group & lt) + 1;
        if (rl) r = rpos[b] + __popc(rgroup & lt) + 1;
        __syncwarp();
        if (in && (group & lt) == 0) { /* the group's leader advances the bucket's counters */
            pos[b] += __popc(group);
            rpos[b] += __popc(rgroup);
        }
        __syncwarp();
        if (rl) {
            if (p <= R) sum += (double)r / (double)p, a++;
            n += p <= N;
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        sum += __shfl_down_sync(0xffffffffu, sum, o);
        a += __shfl_down_sync(0xffffffffu, a, o);
        n += __shfl_down_sync(0xffffffffu, n, o);
    }
    if (lane == 0) ap[i] = sum, nr[i] = a, nn[i] = n;
}

static void cuda_hamming(int64_t nq, int64_t ndb, int words, const uint64_t *q, const uint64_t *db, uint16_t *dist) {
    if (nq * ndb <= 0) return;
    k_hamming<<<hl_cuda_blocks(nq * ndb), HL_CUDA_THREADS>>>(nq, ndb, words, q, db, dist);
    HL_CUDA_LAUNCH();
}

static void cuda_relevance(int64_t nq, int64_t ndb, int lwords, const uint64_t *ql, const uint64_t *dbl,
                           uint8_t *rel) {
    if (nq * ndb <= 0) return;
    k_relevance<<<hl_cuda_blocks(nq * ndb), HL_CUDA_THREADS>>>(nq, ndb, lwords, ql, dbl, rel);
    HL_CUDA_LAUNCH();
}

static void cuda_buckets(int64_t nq, int64_t ndb, int K, const uint16_t *dist, const uint8_t *rel, int64_t *cnt,
                         int64_t *rcnt) {
    if (nq <= 0) return;
    k_buckets<<<(unsigned)nq, HL_CUDA_THREADS, (size_t)(2 * (K + 1)) * sizeof(int)>>>(ndb, K, dist, rel, cnt, rcnt);
    HL_CUDA_LAUNCH();
}

static void cuda_ap_index(int64_t nq, int64_t ndb, int K, int64_t R, int64_t N, const uint16_t *dist,
                          const uint8_t *rel, const int64_t *cnt, const int64_t *rcnt, double *ap, int64_t *nr,
                          int64_t *nn) {
    if (nq <= 0) return;
    const size_t shmem = (size_t)AP_WARPS * 2 * (K + 1) * sizeof(int64_t); /* K = 4096: 256 KiB is too much */
    if (shmem > 48 * 1024) {
        hl_cuda_check_(cudaErrorInvalidValue, "ap_index: codes longer than 767 bits", __FILE__, __LINE__);
        return;
    }
    k_ap_index<<<(unsigned)((nq + AP_WARPS - 1) / AP_WARPS), 32 * AP_WARPS, shmem>>>(nq, ndb, K, R, N, dist, rel, cnt,
                                                                                    rcnt, ap, nr, nn);
    HL_CUDA_LAUNCH();
}

const hl_kern_retrieval hl_cuda_retrieval = {
    .hamming = cuda_hamming,
    .relevance = cuda_relevance,
    .buckets = cuda_buckets,
    .ap_index = cuda_ap_index,
};
