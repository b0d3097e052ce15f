/* eval/retrieval_scan.h — internal to eval/retrieval*.c and eval/bench_retrieval.c: the per-query bucket scan
 * behind eval/retrieval.h.
 *
 * Pass 1 (hl_rscan_query): one XOR+popcount pass over the database writes dist[j] = d(q, j) (uint8 when K <= 255,
 * else uint16) — nothing else, so it runs at the speed of the bare popcount pass.
 * Pass 2 (hl_rscan_prepare): the smallest distance `top` whose ball d <= top holds the L items a metric needs is
 * found by counting dist <= t with vector compares (starting from the previous query's answer); the items of that
 * ball are collected in database order (the "hits"), their relevance looked up (a per-query table over the
 * database's distinct label rows when there are at most 256 of them — every single-label set — else the label
 * words), and the buckets b <= top counted from the hits alone: cnt[b] items and rel[b] relevant items at distance b.
 * Positions: the items of bucket b occupy ranks start[b] + 1 .. start[b] + cnt[b] (1-based) in database order, so
 * one walk over the hits with per-bucket counters gives every hit its exact stable rank.
 */
#ifndef HL_RETRIEVAL_SCAN_H
#define HL_RETRIEVAL_SCAN_H

#include "core/codes.h"
#include "core/labels.h"
#include "eval/retrieval.h"

#define HL_RSCAN_MAX_GROUPS 256
#define HL_RSCAN_MAX_BITS 32767 /* 2·K + 1 must fit the uint16 hit keys */
/* ties: random shuffles the database with hl_rng_permutation(hl_rng_make(tie_seed, HL_RETRIEVAL_TIES_STREAM)):
 * database item perm[t] takes position t, then ties are broken by position (stable). */
#define HL_RETRIEVAL_TIES_STREAM 0x7469u

typedef struct hl_rdb {     /* the database, prepared once per call; read-only and shared by the threads */
    const hl_codes *db;
    const hl_labels *dbl;   /* NULL: nothing is relevant (top-k) */
    int bits;
    bool dist16;            /* distances are uint16 (K > 255) */
    bool popcnt;            /* the CPU has POPCNT: use the kernels compiled for it */
    bool avx2;              /* the CPU has AVX2: vector counting and compaction */
    int ngroups;            /* > 0: distinct label rows, group[j] = row j's group; 0: per-item relevance */
    uint8_t *group;         /* [n] */
    uint64_t *glabels;      /* [ngroups, lwords] */
    int64_t *gsize;         /* [ngroups] items per group */
    double *inv;            /* [n + 1]: inv[p] = 1 / p (inv[0] = 0) */
    int32_t lut[256][8];    /* positions of the set bits of a byte (compaction) */
} hl_rdb;

typedef struct hl_rscan {   /* per-thread scratch; after hl_rscan_query + hl_rscan_prepare it describes one query */
    void *dist;             /* [n] uint8 or uint16, database order */
    int32_t *hits;          /* [n + 8] indices of the items with d <= top, ascending */
    uint16_t *hkey;         /* [n] 2·d + rel of hits[h] */
    int64_t nhits;
    int top;                /* buckets 0..top are valid */
    int guess;              /* the previous query's top: first guess for the next one */
    int64_t *cnt, *rel;     /* [K+1] items / relevant items at distance b (b <= top) */
    int64_t *start, *rstart;/* [K+2] items / relevant items at distance < b (b <= top + 1) */
    int64_t *seen, *rseen;  /* [K+1] walk counters (callers zero them for b <= the buckets they walk) */
    int64_t total_rel;      /* relevant items in the database */
    const uint64_t *qlab;   /* the query's label row */
    const double *inv;      /* the database's 1/p table */
    uint8_t rt[HL_RSCAN_MAX_GROUPS]; /* group g relevant to the query */
} hl_rscan;

/* The bucket holding the rank-R item (1 <= R <= n): b, the items before it (start[b]) and the items taken from it
 * (1..cnt[b]). */
typedef struct hl_rcut {
    int b;
    int64_t before, take;
} hl_rcut;

hl_status hl_rdb_init(hl_rdb *d, const hl_codes *db, const hl_labels *dbl);
void hl_rdb_free(hl_rdb *d);
hl_status hl_rscan_init(hl_rscan *s, const hl_rdb *d);
void hl_rscan_free(hl_rscan *s);

/* Pass 1 for query code qcode ([words]) with label row qlab ([lwords]; NULL when d->dbl is NULL). */
void hl_rscan_query(hl_rscan *s, const hl_rdb *d, const uint64_t *qcode, const uint64_t *qlab);
/* The same for two queries at once (one sweep over the database for one- and two-word codes). */
void hl_rscan_query2(hl_rscan *sa, hl_rscan *sb, const hl_rdb *d, const uint64_t *qa, const uint64_t *qla,
                     const uint64_t *qb, const uint64_t *qlb);
/* Pass 2: top = max(the distance of the rank-L item (1 <= L <= n), min(rmin, K)); hits, hkey, cnt, rel, start,
 * rstart as described above. */
void hl_rscan_prepare(hl_rscan *s, const hl_rdb *d, int64_t L, int rmin);
/* Needs the rank-R item within the prepared buckets. */
hl_rcut hl_rscan_cut(const hl_rscan *s, int64_t R);

/* The floor of BENCH.md: Σ over all (query, item) pairs of popcount(q XOR j) with the scalar POPCNT instruction pass 1
 * uses (four accumulators for one-word codes), parallel over queries. */
uint64_t hl_rscan_floor(const hl_codes *q, const hl_codes *db);

/* eval/retrieval_ap.c. AP@R under stable ties from the hits (top >= c.b): walks them with the per-bucket counters;
 * *nrel = relevant items in the top R. When cn is not NULL also *nrel_n = relevant items in the top N of cut cn
 * (top >= cn->b). */
double hl_rap_index(hl_rscan *s, hl_rcut c, const hl_rcut *cn, int64_t *nrel, int64_t *nrel_n);
/* Exact expected AP@R under uniformly random order within buckets, from the buckets alone (formula in the .c). */
double hl_rap_expected(const hl_rscan *s, const hl_rdb *d, hl_rcut c);

/* ---- shared by eval/retrieval.c and eval/retrieval_device.c ---- */

/* One query's metrics before the means. */
typedef struct hl_rqres {
    double ap, p_r, r_r, p_n, r_n, tie;
    bool zero, unlabelled;
} hl_rqres;

/* The argument checks of hl_retrieval_eval (codes, labels, sizes). */
hl_status hl_retrieval_check(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl);
bool hl_retrieval_empty_row(const hl_labels *l, int64_t i);
/* ties: random — the database shuffled with tie_seed (see HL_RETRIEVAL_TIES_STREAM). */
hl_status hl_retrieval_shuffle_db(const hl_codes *db, const hl_labels *dbl, uint64_t seed, hl_codes *pdb,
                                  hl_labels *pdbl);
/* One query's metrics from its buckets (s: cnt, rel, start, rstart, total_rel for buckets up to the rank of R and N
 * and the radius), given its stable-tie AP, relevant items in the top R and in the top N (used unless ties are
 * expected, which are computed here from the buckets). */
void hl_retrieval_query_metrics(const hl_rscan *s, const hl_rdb *d, const hl_retrieval_opts *o, int64_t R, int64_t N,
                                double ap_stable, int64_t nrel, int64_t nrel_n, bool unlabelled, hl_rqres *out);
/* The means of per-query results in query order (out's sizes already set). */
void hl_retrieval_means(const hl_rqres *res, int64_t nq, const hl_retrieval_opts *o, hl_retrieval_result *out,
                        double *per_query_ap);

#endif
