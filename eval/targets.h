/* eval/targets.h — protocol artifacts of targeted attacks (METRICS.md "Targets and protocol artifacts"), generated
 * once per suite and shared by every attack so tables compare like with like.
 *
 * Target labels: for attacked query i, a label set drawn uniformly from the DISTINCT label sets of the database that
 * differ from the query's own set. Draw i uses the counter-based RNG keyed by (seed, i), so a query's target does
 * not depend on how many queries are attacked or in which order.
 *
 * Anchor items (DHTA, n_t = 9; P2P is n_t = 1): n_t distinct database items "carrying the target label": items
 * whose label set equals the target set; if fewer than n_t exist, items sharing at least one label with it are
 * added (in a seeded random order); if still fewer, the anchor list is padded with −1 and the count is reported.
 * The anchor code is then the component-wise majority vote of the anchors' codes, ties → +1 (hl_targets_anchor_code).
 */
#ifndef HL_TARGETS_H
#define HL_TARGETS_H

#include "core/codes.h"
#include "core/labels.h"

/* targets: filled with m rows (the caller frees with hl_labels_free). Fails (HL_EINVAL) when the database holds
 * only one distinct label set (no target can differ from every query's own). */
hl_status hl_targets_draw(hl_labels *targets, const hl_labels *queries, const hl_labels *database, uint64_t seed);

/* anchors [m, n_t] database indices (−1 padding); short: number of queries with fewer than n_t anchors. */
hl_status hl_targets_anchors(int64_t *anchors, int64_t *short_count, const hl_labels *targets, const hl_labels *database,
                             int n_t, uint64_t seed);

/* out row i = majority vote over the codes db rows anchors[i, 0..n_t) (−1 entries skipped); ties → bit 1 (+1). */
hl_status hl_targets_anchor_code(hl_codes *out, const hl_codes *db, const int64_t *anchors, int64_t m, int n_t);

#endif
