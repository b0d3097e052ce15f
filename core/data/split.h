/* core/data/split.h — hashing protocols: seeded query / train / database index lists, checks, manifests.
 *
 * Protocols (METRICS.md "Splits"; names as DeepHash-pytorch, so people can cite them). Q and T are TOTALS:
 *
 *   name          query  train                       database                      train vs database
 *   cifar10       1,000  5,000                       all the rest                  disjoint
 *   cifar10-1     1,000  5,000 drawn from database   all but the queries           train ⊂ database
 *   cifar10-2    10,000  = database                  all but the queries           train = database
 *   random:Q/T       Q   T drawn from database       all but the queries           train ⊂ database
 *
 * On CIFAR-10 (60,000 = 6,000 per class, train batches then test batch) this is 1,000/5,000/54,000,
 * 1,000/5,000/59,000 and 10,000/50,000/50,000; on Fashion-MNIST (70,000 = 7,000 per class) 1,000/5,000/64,000,
 * 1,000/5,000/69,000 and 10,000/60,000/60,000. Other totals: `cifar10:Q/T`, `cifar10-1:Q/T`, `cifar10-2:Q` (same
 * structure, e.g. `cifar10:50/100` on a small test set).
 *
 * Stratified protocols (cifar10*) need a single-label dataset (class_id != NULL) with C = labels.nlabels classes.
 * Exact rule: class k (0-based) gets q_k = ⌊Q/C⌋ + [k < Q mod C] queries and t_k = ⌊T/C⌋ + [k < T mod C] train
 * samples (10 classes: 100 and 500 per class; CIFAR-100: 10 and 50). The indices of class k, in dataset order, are
 * permuted by hl_rng_permutation with hl_rng_make(seed, HL_SPLIT_STREAM + k); the first q_k are queries, the next
 * t_k train, the rest database (plus train for cifar10-1; for cifar10-2 everything after the queries is
 * train = database). A class with fewer than q_k + t_k samples is an error naming the class and the counts.
 * random:Q/T works on any dataset (multi-label included): all n indices permuted with hl_rng_make(seed,
 * HL_SPLIT_STREAM_RANDOM); the first Q are queries, the next T train, and database = everything but the queries.
 *
 * Every list a protocol makes is sorted ascending (dataset order), so a list is a pure function of (dataset
 * labels, protocol, seed), and the database order used for tie-breaking (METRICS.md `ties: index`) is the dataset's.
 * Query ∩ database = ∅ always. Semi-supervised view: labelled = `train`, unlabelled = `unlabelled` = database \ train
 * (index list only; the hasher must not read its labels): cifar10 54,000, cifar10-1 54,000, cifar10-2 none.
 * Queries whose label set is empty (possible in multi-label sets) are counted (`query_without_labels`) and
 * reported with a warning; metrics decide what to do with them (METRICS.md `zero_relevant`).
 *
 * Hashes (SHA-256, OpenSSL EVP; lower-case hex): a list's hash is over its indices as little-endian int64 in list
 * order (numpy: hashlib.sha256(np.asarray(idx, '<i8').tobytes())). The split hash is over
 * u64le(|query|) ‖ query ‖ u64le(|train|) ‖ train ‖ u64le(|database|) ‖ database (each index as int64 LE) — only
 * the lists, so it is the same on every machine and thread count, and it is what a suite puts in a cell key.
 */
#ifndef HL_SPLIT_H
#define HL_SPLIT_H

#include "core/data/dataset.h"

#define HL_SPLIT_STREAM 0x53504C4954000000ull        /* "SPLIT": + class id */
#define HL_SPLIT_STREAM_RANDOM 0x53504C5452000000ull /* "SPLTR" */
#define HL_SPLIT_KNOWN "cifar10, cifar10-1, cifar10-2, cifar10:Q/T, cifar10-1:Q/T, cifar10-2:Q, random:Q/T"

typedef enum hl_split_train_rel {
    HL_SPLIT_TRAIN_DISJOINT, /* train ∩ database = ∅ (cifar10) */
    HL_SPLIT_TRAIN_IN_DB,    /* train ⊂ database (cifar10-1, random) */
    HL_SPLIT_TRAIN_IS_DB     /* train = database as sets (cifar10-2) */
} hl_split_train_rel;

typedef struct hl_index_list {
    int64_t n;
    int64_t *idx; /* [n] dataset sample indices, owned */
} hl_index_list;

typedef struct hl_split {
    char protocol[64]; /* canonical name, e.g. "cifar10-1", "random:2100/10500" */
    uint64_t seed;
    hl_split_train_rel train_rel;
    int64_t n_dataset;               /* samples in the dataset the split indexes */
    hl_index_list query, train, database;
    hl_index_list unlabelled;        /* database \ train, in database order */
    int64_t query_without_labels;    /* queries with an empty label set (set by make / check) */
} hl_split;

/* What hl_split_check found (all zero for a protocol-made split, except query_without_labels). */
typedef struct hl_split_report {
    int64_t out_of_range;         /* indices outside [0, n) in any list */
    int64_t duplicates;           /* repeated indices within a list (summed over lists) */
    int64_t query_train;          /* |query ∩ train| */
    int64_t query_database;       /* |query ∩ database| */
    int64_t train_database;       /* |train ∩ database| */
    int64_t query_without_labels; /* queries with an empty label set */
} hl_split_report;

/* Makes the split `protocol` of d with `seed` (see above), then checks it. Unknown names, a multi-label dataset
 * with a stratified protocol, too few samples in a class, or an empty database are HL_EINVAL. */
hl_status hl_split_make(hl_split *out, const hl_dataset *d, const char *protocol, uint64_t seed);
/* Checks the syntax of a protocol name without data (HL_EINVAL "unknown split protocol 'x' (known: ...)", plus
 * "; did you mean 'cifar10-1'?" for a misspelt name); canon (may be NULL) receives the canonical name. What needs
 * the data (class counts) is hl_split_make's. */
hl_status hl_split_protocol_check(const char *protocol, char canon[64]);
/* The protocol with its train count replaced by t (a suite's `labeled: t`, lab/suite.h): "cifar10-1" or
 * "cifar10-1:Q/T" -> "cifar10-1:Q/t", "random:Q/T" -> "random:Q/t" (canonical, into out). For these two protocols the
 * database is every sample but the queries, and the queries do not depend on T, so the split of the result has the
 * same queries and database as the protocol's own; its train list is the first t of the same seeded order (per
 * class, or overall for random): a subset of the protocol's train list when t <= T, a superset otherwise. cifar10
 * (database = the rest after train) and cifar10-2 (train = database) are HL_EINVAL: changing their train count
 * changes the database. */
hl_status hl_split_protocol_with_train(const char *protocol, int64_t t, char out[64]);
/* A split from given lists (e.g. shipped list files), copied in the given order; `protocol` is a free label.
 * unlabelled = database \ train. Checked against d like a made split. */
hl_status hl_split_from_lists(hl_split *out, const hl_dataset *d, const char *protocol, hl_split_train_rel rel,
                              const int64_t *query, int64_t nq, const int64_t *train, int64_t nt,
                              const int64_t *database, int64_t nd);
void hl_split_free(hl_split *s); /* NULL-safe; leaves *s zeroed */

/* Fills rep (may be NULL) and fails (HL_EINVAL, naming the first offending index and list) on an index out of range,
 * a duplicate within a list, query ∩ train or query ∩ database non-empty, or train vs database not as train_rel
 * says. Queries without labels are counted, never an error. */
hl_status hl_split_check(const hl_split *s, const hl_dataset *d, hl_split_report *rep);

/* SHA-256 hex (64 chars + NUL) of one index list / of the whole split, as defined above. */
hl_status hl_split_hash_list(const int64_t *idx, int64_t n, char hex[65]);
hl_status hl_split_hash(const hl_split *s, char hex[65]);

/* JSON manifest, written atomically: format, protocol, seed, train relation, dataset {name, source, n, labels},
 * class names (if any), counts {query, train, database, unlabelled}, per_label counts of each list (samples carrying
 * label l; = per-class counts for single-label sets), the check report (duplicates, overlaps,
 * query_without_labels) and sha256 {query, train, database, unlabelled, split}. Fails if the check fails. */
hl_status hl_split_write_manifest(const hl_split *s, const hl_dataset *d, const char *path);

#endif
