/* lab/cmd_score.c — `hashlab score`: retrieval metrics (docs/METRICS.md) of codes and labels saved as .npy by any
 * framework. Exit 0 on success, 1 when the files are unusable (shapes, counts, bits, values), 2 on bad usage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/codes_io.h"
#include "eval/retrieval.h"
#include "lab/commands.h"

static const char score_usage[] =
    "usage: hashlab score --query-codes Q.npy --db-codes D.npy --query-labels LQ.npy --db-labels LD.npy\n"
    "                     [--topk N|all] [--radius R] [--ties index|expected|random] [--tie-seed S]\n"
    "                     [--zero-relevant count|skip] [--packed-bits K] [--at-n N] [--json]\n"
    "  codes: (N, K) int8..int64/float32/float64 in {-1,+1} or {0,1}; with --packed-bits K, uint8 (N, ceil(K/8))\n"
    "         from numpy.packbits (both code files)\n"
    "  labels: (N,) integer class ids or (N, L) multi-hot (nonzero = label); relevant = shares a label\n"
    "  --tie-seed only with --ties random; --at-n N adds P@N and R@N\n"
    "  defaults: --topk all --radius 2 --ties index --zero-relevant count\n";

static int bad_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "hashlab score: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n%s", score_usage);
    return 2;
}

static void json_num(const char *key, double v, bool comma) {
    if (isfinite(v)) printf("\"%s\": %.15g%s", key, v, comma ? ", " : "");
    else printf("\"%s\": null%s", key, comma ? ", " : "");
}

static void fail(void) {
    fprintf(stderr, "hashlab score: %s\n", hl_error_last());
}

int hl_cmd_score(int argc, char **argv) {
    const char *qc = NULL, *dc = NULL, *ql = NULL, *dl = NULL;
    hl_retrieval_opts o;
    memset(&o, 0, sizeof o); /* the CLI's own defaults (= hl_retrieval_defaults) */
    o.topk = 0, o.radius = 2, o.ties = HL_TIES_INDEX, o.zero_relevant = HL_ZERO_REL_AS_ZERO;
    long long packed = 0, v;
    bool json = false, seed_given = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) { json = true; continue; }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { printf("%s", score_usage); return 0; }
        if (strncmp(a, "--", 2) != 0) return bad_usage("unexpected argument '%s'", a);
        if (!val) return bad_usage("%s needs a value", a);
        i++;
        if (strcmp(a, "--query-codes") == 0) qc = val;
        else if (strcmp(a, "--db-codes") == 0) dc = val;
        else if (strcmp(a, "--query-labels") == 0) ql = val;
        else if (strcmp(a, "--db-labels") == 0) dl = val;
        else if (strcmp(a, "--topk") == 0) {
            if (strcmp(val, "all") == 0) o.topk = 0;
            else if ((v = hl_cli_parse_int(a, val, 1, INT64_MAX)) < 0) return 2;
            else o.topk = v;
        } else if (strcmp(a, "--radius") == 0) {
            if ((v = hl_cli_parse_int(a, val, 0, 1 << 20)) < 0) return 2;
            o.radius = (int)v;
        } else if (strcmp(a, "--ties") == 0) {
            if (strcmp(val, "index") == 0) o.ties = HL_TIES_INDEX;
            else if (strcmp(val, "expected") == 0) o.ties = HL_TIES_EXPECTED;
            else if (strcmp(val, "random") == 0) o.ties = HL_TIES_RANDOM;
            else return bad_usage("--ties must be index, expected or random, got '%s'", val);
        } else if (strcmp(a, "--tie-seed") == 0) {
            if ((v = hl_cli_parse_int(a, val, 0, INT64_MAX)) < 0) return 2;
            o.tie_seed = (uint64_t)v;
            seed_given = true;
        } else if (strcmp(a, "--zero-relevant") == 0) {
            if (strcmp(val, "count") == 0) o.zero_relevant = HL_ZERO_REL_AS_ZERO;
            else if (strcmp(val, "skip") == 0) o.zero_relevant = HL_ZERO_REL_SKIP;
            else return bad_usage("--zero-relevant must be count or skip, got '%s'", val);
        } else if (strcmp(a, "--packed-bits") == 0) {
            if ((packed = hl_cli_parse_int(a, val, 1, 1 << 20)) < 0) return 2;
        } else if (strcmp(a, "--at-n") == 0) {
            if ((v = hl_cli_parse_int(a, val, 1, INT64_MAX)) < 0) return 2;
            o.at_n = v;
        } else
            return bad_usage("unknown option '%s'", a);
    }
    if (!qc || !dc || !ql || !dl)
        return bad_usage("missing %s", !qc ? "--query-codes" : !dc ? "--db-codes" : !ql ? "--query-labels"
                                                                                        : "--db-labels");
    if (seed_given && o.ties != HL_TIES_RANDOM) return bad_usage("--tie-seed only applies with --ties random%s", "");

    int rc = 1;
    hl_codes q = {0}, d = {0};
    hl_npy lqa = {0}, lda = {0};
    hl_labels lq = {0}, ld = {0};
    hl_retrieval_result r;
    if (hl_codes_npy_read(qc, (int)packed, &q) < 0 || hl_codes_npy_read(dc, (int)packed, &d) < 0) goto done;
    if (q.bits != d.bits) {
        hl_error_set(HL_EMISMATCH, "%s holds %d-bit codes but %s holds %d-bit codes", qc, q.bits, dc, d.bits);
        goto done;
    }
    int wq, wd, nl;
    if (hl_npy_read(ql, &lqa) < 0 || hl_npy_read(dl, &lda) < 0) goto done;
    if (hl_labels_npy_width(&lqa, ql, &wq) < 0 || hl_labels_npy_width(&lda, dl, &wd) < 0) goto done;
    if (lqa.ndim == 2 && lda.ndim == 2 && wq != wd) {
        hl_error_set(HL_EMISMATCH, "%s has %d label columns but %s has %d", ql, wq, dl, wd);
        goto done;
    }
    nl = lqa.ndim == 2 ? wq : lda.ndim == 2 ? wd : HL_MAX(wq, wd);
    if (hl_labels_from_npy(&lq, &lqa, nl, ql) < 0 || hl_labels_from_npy(&ld, &lda, nl, dl) < 0) goto done;
    if (q.n != lq.n || d.n != ld.n) {
        bool qbad = q.n != lq.n;
        hl_error_set(HL_EMISMATCH, "%s holds %lld codes but %s holds %lld label rows", qbad ? qc : dc,
                     (long long)(qbad ? q.n : d.n), qbad ? ql : dl, (long long)(qbad ? lq.n : ld.n));
        goto done;
    }
    if (d.n == 0) {
        hl_error_set(HL_EINVAL, "%s: the database is empty", dc);
        goto done;
    }
    if (q.n == 0) { /* an mAP over no query is undefined, not 0 */
        hl_error_set(HL_EINVAL, "%s: no query codes (0 rows): nothing to score", qc);
        goto done;
    }
    if (hl_retrieval_eval(&q, &lq, &d, &ld, &o, &r, NULL) < 0) goto done;

    char rname[32], pname[32], recname[32], pn[32], rn[32];
    if (o.topk > 0) snprintf(rname, sizeof rname, "mAP@%lld", (long long)o.topk);
    else snprintf(rname, sizeof rname, "mAP@all");
    snprintf(pname, sizeof pname, "P@H<=%d", o.radius);
    snprintf(recname, sizeof recname, "R@H<=%d", o.radius);
    snprintf(pn, sizeof pn, "P@%lld", (long long)o.at_n);
    snprintf(rn, sizeof rn, "R@%lld", (long long)o.at_n);
    static const char *const ties_name[] = {"index", "expected", "random"};
    const char *zr = o.zero_relevant == HL_ZERO_REL_SKIP ? "skip" : "count";
    if (json) {
        printf("{");
        json_num(rname, r.map, true);
        json_num(pname, r.p_at_radius, true);
        json_num(recname, r.r_at_radius, true);
        if (o.at_n > 0) {
            json_num(pn, r.p_at_n, true);
            json_num(rn, r.r_at_n, true);
        }
        printf("\"queries\": %lld, \"database\": %lld, \"bits\": %d, \"labels\": %d, \"topk\": %lld, ",
               (long long)r.queries, (long long)r.database, r.bits, nl, (long long)r.topk);
        printf("\"ties\": \"%s\", ", ties_name[o.ties]);
        if (o.ties == HL_TIES_RANDOM) printf("\"tie_seed\": %llu, ", (unsigned long long)o.tie_seed);
        printf("\"zero_relevant\": \"%s\", \"zero_relevant_queries\": %lld, \"unlabelled_queries\": %lld, ", zr,
               (long long)r.zero_relevant, (long long)r.unlabelled_queries);
        json_num("mean_tie_bucket", r.mean_tie_bucket, false);
        printf("}\n");
    } else {
        printf("hashlab score: %lld queries x %lld database items, %d-bit codes, %d labels\n", (long long)r.queries,
               (long long)r.database, r.bits, nl);
        printf("  %-12s %.6f\n", rname, r.map);
        printf("  %-12s %.6f\n", pname, r.p_at_radius);
        printf("  %-12s %.6f\n", recname, r.r_at_radius);
        if (o.at_n > 0) {
            printf("  %-12s %.6f\n", pn, r.p_at_n);
            printf("  %-12s %.6f\n", rn, r.r_at_n);
        }
        printf("  queries with no relevant item in the top %lld: %lld (%s); unlabelled queries: %lld\n",
               (long long)r.topk, (long long)r.zero_relevant, o.zero_relevant == HL_ZERO_REL_SKIP ? "skipped"
                                                                                                 : "counted as AP 0",
               (long long)r.unlabelled_queries);
        printf("  mean size of the distance bucket holding the R-th item: %.2f\n", r.mean_tie_bucket);
        printf("Conventions (docs/METRICS.md): ranked by Hamming distance, ties %s; mAP@R over %s; relevant = shares a "
               "label; P/R@H<=%d averaged over queries (precision 0 for an empty ball).\n",
               o.ties == HL_TIES_INDEX      ? "broken by database index (ties: index)"
               : o.ties == HL_TIES_EXPECTED ? "averaged exactly over random orders (ties: expected)"
                                            : "broken by a seeded shuffle (ties: random)",
               o.zero_relevant == HL_ZERO_REL_SKIP ? "queries with a relevant item in the top R (zero_relevant: skip)"
                                                   : "all queries, none relevant in the top R = 0 (zero_relevant: count)",
               o.radius);
    }
    rc = 0;
done:
    if (rc) fail();
    hl_codes_free(&q);
    hl_codes_free(&d);
    hl_npy_free(&lqa);
    hl_npy_free(&lda);
    hl_labels_free(&lq);
    hl_labels_free(&ld);
    return rc;
}
