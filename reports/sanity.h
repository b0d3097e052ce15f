/* reports/sanity.h — the sanity checks across attack cells, computed from the results store alone (so `hashlab
 * status` and the report agree and a report can always be rebuilt); the per-cell checks are written by the lab into
 * each result.json's "sanity" (lab/sanity.h). Every flag is a warning, shown as a mark with a footnote in the report's
 * tables and listed by `hashlab status`; docs/sanity.md explains each one.
 *
 * A fact is one done attack cell: its model (hasher entry name, bits, seed), attack entry (name, norm, ε, targeted),
 * the kind of attack ("gradient", "gradient-free", "ensemble", "baseline", "fitted"; result.json's attack_kind) and
 * its headline score (mAP@R of the 8-bit adversarial queries, or t-mAP@all when targeted).
 *   eps_not_monotone               within one model and attack entry name (norm, targeted), a larger ε gives a weaker
 *                                  result than a smaller one beyond 0.01 (1 point): higher mAP, or lower t-mAP.
 *                                  Raised on the larger-ε cell.
 *   gradient_free_beats_white_box  at one model and threat (norm, ε, targeted), a gradient-free attack cell beats the
 *                                  best gradient attack cell beyond 0.01. Raised on the gradient cells (their numbers
 *                                  overstate robustness). The `auto` ensemble checks its own members (lab).
 *   attack_raised_map              (one cell, from its own metrics) an untargeted attack's adversarial queries score
 *                                  more than 0.005 above the same queries' clean score: the attack's objective does
 *                                  not track mAP on this model at this ε; its row shows no robustness to report.
 */
#ifndef HL_REPORTS_SANITY_H
#define HL_REPORTS_SANITY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

#define HL_SANITY_CROSS_TOL 0.01
#define HL_SANITY_RAISE_TOL 0.005 /* attack_raised_map: any rise beyond half a point is suspect */

typedef struct hl_sanity_fact {
    const char *model, *attack, *norm, *eps_text, *kind; /* borrowed from the result's tree */
    int64_t bits, seed;
    double eps;          /* NaN when eps_text is not a number */
    bool targeted;
    double score;        /* headline score; NaN when absent */
    char flags[256];     /* the cell's own flags (result.json) then the cross-cell ones, ", "-separated */
    char evidence[768];  /* what the cross-cell flags measured, "; "-separated */
} hl_sanity_fact;

/* Fills f from a result.json tree; false (f untouched) unless it is a done attack or train cell (a train cell has
 * kind "train", attack "clean", eps NaN, its code flags and their measures as evidence). */
bool hl_sanity_fact_of(const hl_config *root, hl_sanity_fact *f);
/* Adds the cross-cell flags and evidence to facts f[0..n). */
void hl_sanity_cross(hl_sanity_fact *f, int n);

#endif
