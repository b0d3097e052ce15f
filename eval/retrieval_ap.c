/* eval/retrieval_ap.c — AP@R from the distance buckets of one query: stable ties (exact positions from one walk
 * over the items the cut-off needs) and the exact expectation under random tie order (buckets alone).
 *
 * Notation: bucket b holds m = cnt[b] items, r = rel[b] of them relevant; S = start[b] items and A = rstart[b]
 * relevant items rank before it. The top R takes every bucket b < B and the first t = take items of bucket B.
 *
 * Expected AP (ties: expected). Within each bucket the order is uniformly random, independently across buckets.
 *   A bucket taken whole: the item at within-bucket position u (p = S + u) is relevant with probability r/m; given
 *   that, the other r − 1 relevant items are spread uniformly over the other m − 1 positions, so the expected number
 *   of relevant items before it in the bucket is (u − 1)(r − 1)/(m − 1) and its relevant rank is i = A + 1 + that.
 *   Hence E[Σ_bucket i/p] = (r/m) · [(A + 1)·H1 + (r − 1)/(m − 1) · H2] with H1 = Σ_{u=1..m} 1/(S + u) and
 *   H2 = Σ_{u=1..m} (u − 1)/(S + u) (the second term is 0 when m = 1). Summing over the whole buckets gives
 *   EF = E[F], F = Σ i/p over the relevant items of buckets < B (and of B when t = m).
 *   AP = (F + G) / n with n = A_B + X, where X ~ Hypergeometric(m, r, t) counts the relevant items among the t taken
 *   from B and G = Σ i/p over them. F depends only on the orders inside buckets < B, X and G only on the order
 *   inside B, so E[F / n] = EF · E[1/n]. Given X = x, the x relevant items are uniform over the t taken positions,
 *   so E[G | X = x] = (x/t) · [(A_B + 1)·H1' + (x − 1)/(t − 1) · H2'] with H1', H2' the sums above over u = 1..t
 *   and S = S_B. Therefore
 *       E[AP] = Σ_x P(X = x) · (EF + E[G | X = x]) / (A_B + x),   terms with A_B + x = 0 (AP = 0) left out.
 *   The hypergeometric weights come from the ratio recurrence started at the mode (the largest weight, so nothing
 *   overflows) and are normalised by their sum. Cost O(R) per query (the sums), no sort, no enumeration.
 */
#include "eval/retrieval_scan.h"

#include <string.h>

double hl_rap_index(hl_rscan *s, hl_rcut c, const hl_rcut *cn, int64_t *nrel, int64_t *nrel_n) {
    const int bmax = cn && cn->b > c.b ? cn->b : c.b;
    int64_t *seen = s->seen, *rseen = s->rseen;
    const int64_t *start = s->start, *rstart = s->rstart;
    const uint16_t *hkey = s->hkey;
    const double *inv = s->inv;
    memset(seen, 0, (size_t)(bmax + 1) * sizeof *seen);
    memset(rseen, 0, (size_t)(bmax + 1) * sizeof *rseen);
    const int64_t R = c.before + c.take, N = cn ? cn->before + cn->take : 0, nh = s->nhits;
    double sum[2] = {0.0, 0.0}; /* two chains of additions (hits alternate), so they overlap */
    int64_t nr = 0, nn = 0;
    /* Branch-free (relevance is close to a coin flip per hit): hit h of bucket b sits at rank p = start[b] + (its
     * position among the bucket's hits); a relevant one in the top R adds i/p, i = rstart[b] + its relevant rank.
     * Hits beyond bmax (prepared for a larger radius) are skipped. */
    for (int64_t h = 0; h < nh; h++) {
        const int k = hkey[h], b = k >> 1, r = k & 1;
        if (b > bmax) continue;
        const int64_t p = start[b] + ++seen[b], i = rstart[b] + (rseen[b] += r);
        const int64_t in = r & (p <= R);
        sum[h & 1] += (double)(i * in) * inv[p];
        nr += in;
        nn += r & (p <= N);
    }
    *nrel = nr;
    if (nrel_n) *nrel_n = nn;
    return nr ? (sum[0] + sum[1]) / (double)nr : 0.0;
}

/* H1 = Σ_{u=1..m} 1/(S+u), H2 = Σ_{u=1..m} (u−1)/(S+u). */
static void bucket_sums(const double *inv, int64_t S, int64_t m, double *h1, double *h2) {
    double a = 0.0, b = 0.0;
    for (int64_t u = 1; u <= m; u++) {
        const double v = inv[S + u];
        a += v;
        b += (double)(u - 1) * v;
    }
    *h1 = a;
    *h2 = b;
}

/* E[Σ i/p] over a bucket taken whole (see the header comment). */
static double bucket_expect(const double *inv, int64_t S, int64_t A, int64_t m, int64_t r) {
    double h1, h2;
    bucket_sums(inv, S, m, &h1, &h2);
    const double slope = m > 1 ? (double)(r - 1) / (double)(m - 1) : 0.0;
    return (double)r / (double)m * ((double)(A + 1) * h1 + slope * h2);
}

double hl_rap_expected(const hl_rscan *s, const hl_rdb *d, hl_rcut c) {
    const double *inv = d->inv;
    const bool whole = c.take == s->cnt[c.b];
    const int last = whole ? c.b : c.b - 1;
    double ef = 0.0;
    for (int b = 0; b <= last; b++)
        if (s->rel[b]) ef += bucket_expect(inv, s->start[b], s->rstart[b], s->cnt[b], s->rel[b]);
    const int64_t A = s->rstart[c.b];
    if (whole || s->rel[c.b] == 0) {
        const int64_t n = whole ? A + s->rel[c.b] : A;
        return n ? ef / (double)n : 0.0;
    }
    const int64_t m = s->cnt[c.b], r = s->rel[c.b], t = c.take;
    double h1, h2;
    bucket_sums(inv, c.before, t, &h1, &h2);
    const int64_t xlo = t - (m - r) > 0 ? t - (m - r) : 0, xhi = r < t ? r : t;
    int64_t mode = (t + 1) * (r + 1) / (m + 2);
    mode = mode < xlo ? xlo : mode > xhi ? xhi : mode;
    double wsum = 0.0, esum = 0.0;
    /* value of one x: (EF + E[G | X = x]) / (A + x), 0 when A + x = 0 */
#define HL_XVAL(x)                                                                                                    \
    (A + (x) == 0 ? 0.0                                                                                               \
                  : (ef + (double)(x) / (double)t *                                                                   \
                              ((double)(A + 1) * h1 + (t > 1 ? (double)((x) - 1) / (double)(t - 1) : 0.0) * h2)) /    \
                        (double)(A + (x)))
    double w = 1.0;
    for (int64_t x = mode; x <= xhi && w > 0.0; x++) { /* upwards: P(x+1)/P(x) = (r−x)(t−x) / ((x+1)(m−r−t+x+1)) */
        wsum += w;
        esum += w * HL_XVAL(x);
        w *= (double)(r - x) * (double)(t - x) / ((double)(x + 1) * (double)(m - r - t + x + 1));
    }
    w = 1.0;
    for (int64_t x = mode; x > xlo;) { /* downwards: P(x−1)/P(x) = x(m−r−t+x) / ((r−x+1)(t−x+1)) */
        w *= (double)x * (double)(m - r - t + x) / ((double)(r - x + 1) * (double)(t - x + 1));
        x--;
        if (w == 0.0) break;
        wsum += w;
        esum += w * HL_XVAL(x);
    }
#undef HL_XVAL
    return esum / wsum;
}
