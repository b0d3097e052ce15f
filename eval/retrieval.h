/* eval/retrieval.h — retrieval metrics on packed codes, exactly as ../shared/METRICS.md defines them.
 *
 * Ranking: database items by Hamming distance ascending, ties broken by database index ascending (stable), unless
 * ties = HL_TIES_EXPECTED (exact expected AP under a uniformly random order within each distance bucket) or
 * HL_TIES_RANDOM (the database order is shuffled with tie_seed first, then stable).
 * AP@R: relevant items of the top R at 1-based positions p_1 < … < p_n: AP = (1/n) Σ i / p_i, 0 if n = 0.
 * R = all (topk <= 0) is the whole database. mAP@R: mean over all queries (zero_relevant = AS_ZERO: a query with no
 * relevant item in its top R counts as 0) or over the queries that have one (SKIP).
 * P@H≤r / R@H≤r: precision / recall among items with d <= radius (precision 0 for an empty ball, recall 0 for a
 * query with no relevant item in the database), mean over queries. P@N / R@N at rank N.
 *
 * Implementation contract: no sort per query and no Q×N matrix: per query one XOR+popcount pass over the database
 * into a distance histogram with relevant counts per bucket, then the AP from the buckets (plus one more pass over
 * the items of the buckets the cut-off needs). Parallel over queries (OpenMP), per-thread scratch of O(N) bytes.
 * Results do not depend on the thread count.
 */
#ifndef HL_RETRIEVAL_H
#define HL_RETRIEVAL_H

#include "core/codes.h"
#include "core/labels.h"
#include "core/tensor.h"

typedef enum hl_ties { HL_TIES_INDEX, HL_TIES_EXPECTED, HL_TIES_RANDOM, HL_TIES_COUNT } hl_ties;
typedef enum hl_zero_rel { HL_ZERO_REL_AS_ZERO, HL_ZERO_REL_SKIP, HL_ZERO_REL_COUNT } hl_zero_rel;

typedef struct hl_retrieval_opts {
    int64_t topk;              /* R; <= 0 means all */
    int radius;                /* r for P@H≤r, R@H≤r (default 2) */
    hl_ties ties;              /* default HL_TIES_INDEX */
    uint64_t tie_seed;         /* HL_TIES_RANDOM */
    hl_zero_rel zero_relevant;  /* default HL_ZERO_REL_AS_ZERO ("count" in suites) */
    int64_t at_n;              /* N for P@N / R@N (0: skip) */
} hl_retrieval_opts;

void hl_retrieval_defaults(hl_retrieval_opts *o); /* topk all, radius 2, ties index, zero_relevant as-zero, at_n 0 */

typedef struct hl_retrieval_result {
    double map;                /* mAP@R under the options */
    double p_at_radius, r_at_radius;
    double p_at_n, r_at_n;     /* when at_n > 0 */
    int64_t queries, database; /* sizes */
    int bits;
    int64_t topk;              /* the R used (database size for all) */
    int64_t zero_relevant;     /* queries with no relevant item in their top R */
    int64_t unlabelled_queries;/* queries whose label set is empty (never relevant to anything) */
    double mean_tie_bucket;    /* mean size of the distance bucket holding the R-th item (tie statistics) */
} hl_retrieval_result;

/* Scores queries q (labels ql) against database db (labels dbl). per_query_ap: NULL or [q->n] AP values (a skipped
 * query gets NaN). Errors (HL_EINVAL / HL_EMISMATCH): different bit lengths or label counts, row counts that do not
 * match their labels, an empty database. */
hl_status hl_retrieval_eval(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                            const hl_retrieval_opts *o, hl_retrieval_result *out, double *per_query_ap);

/* hl_retrieval_eval on a device (eval/retrieval_device.c over the device's retrieval kernels, core/kern/retrieval.h):
 * codes and labels are uploaded, distances, relevance, distance buckets and the stable-tie AP terms are computed
 * there, and the per-query metrics are formed on the host from the buckets (ties: expected with the same formula as
 * the host path). Results equal hl_retrieval_eval's up to the order of floating-point sums (|Δ| < 1e-12; on the
 * CPU and shadow devices the per-query AP sums run in database order). Device scratch: 3 bytes per (query, item)
 * pair of a chunk of up to 1024 queries. HL_EDEVICE when dev is not available; CUDA takes codes of at most 767
 * bits. */
hl_status hl_retrieval_eval_on(hl_device dev, const hl_codes *q, const hl_labels *ql, const hl_codes *db,
                               const hl_labels *dbl, const hl_retrieval_opts *o, hl_retrieval_result *out,
                               double *per_query_ap);

/* Top-k database indices per query in the stable order (distance, then index): idx [q->n, k]; dist (may be NULL)
 * the matching distances. k > database size is clamped (the tail is filled with −1). */
hl_status hl_retrieval_topk(const hl_codes *q, const hl_codes *db, int64_t k, int64_t *idx, int *dist);

/* PR curves, mean over queries. By radius: for r = 0..K, precision and recall of the ball d <= r (points [K+1]).
 * By rank: at ranks ranks[0..m) (stable order), precision and recall. Arrays are caller-owned. */
hl_status hl_retrieval_pr_radius(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                                 double *precision, double *recall);
hl_status hl_retrieval_pr_rank(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl,
                               const int64_t *ranks, int m, double *precision, double *recall);

#endif
