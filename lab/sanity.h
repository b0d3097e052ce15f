/* lab/sanity.h — internal to lab/cells.c: the judge the lab gives attacks that choose among candidates (the `auto`
 * ensemble), and the automatic sanity checks of one attack cell, written to result.json's "sanity" (the checks across
 * cells, eps_not_monotone and the like, are the report's: reports/sanity.h).
 *
 * Flags of one cell (each a warning shown by `hashlab status` and the report, never a silent pass):
 *   zero_gradients                  more than half of the attack's backward passes gave an exactly zero (or absent)
 *                                   input gradient: a gradient attack cannot move the model
 *   loss_not_improving              no query's objective (its code score) improved over the attack's steps
 *   float_8bit_disagree             the float and 8-bit adversarial scores differ by more than 0.02 (2 points)
 *   unbounded_not_at_floor          the ε = 1 probe (below) stays more than 0.05 above the floor (the mAP of random
 *                                   codes), or for a targeted attack more than 0.05 below the ceiling (the t-mAP of
 *                                   the target codes themselves)
 *   gradient_free_beats_white_box   (the `auto` ensemble) per query, its gradient-free member's score (AP, or
 *                                   targeted AP) beats the best gradient member's; the mean gain exceeds 0.01 and
 *                                   twice its standard error: the gradients mislead
 * Evidence for a linear hasher (class flag HL_HASHER_LINEAR, L∞): "exact", the gap to the exact attack (below).
 *
 * ε = 1 probe: the cell's attack (class, params, seed and steps) with the whole pixel box as its ball (L∞ ε = 1,
 * L2 ε = ⌈√d⌉) and its step size scaled by the same factor, on P = min(32, n) of the attacked queries (evenly spaced),
 * scored on its 8-bit images like the headline. Not run for baselines (HL_ATTACK_BASELINE), attacks fitted on the
 * victim and norm none; the evidence says why.
 *
 * Exact attack on a linear hasher (L∞): f(x) = Wx + b (W and b read off the hasher by forwarding 0 and the unit
 * images, then checked on the clean queries). Bit k of clean code c can flip alone iff
 *     Σ_j |W_kj|·room_kj > c_k·f_k(x),  room_kj = min(ε, x_j − lo) when c_k·W_kj > 0, else min(ε, hi − x_j),
 * (the largest decrease of c_k·f_k over the box ∩ ball). No attack flips a bit outside this set U, so the best AP over
 * the codes reachable by flipping any subset of U (every subset when |U| ≤ 8; queries with more are left out and
 * counted) bounds every attack: map_bound ≤ any attack's mAP (targeted: ≥ its t-mAP). The bound is attained (exact)
 * on a query whose best subset has at most one bit. Reported: the attack's score and the bound over the same queries,
 * the gap, the queries covered and those where the bound is exact. */
#ifndef HL_LAB_SANITY_H
#define HL_LAB_SANITY_H

#include "lab/runner_impl.h"

/* Judge of candidates (attacks/attack.h hl_attack_judge): −AP of the candidate codes with the queries' labels under
 * opts, or (targeted) their AP with the target labels; labels rows follow the run's query positions. */
typedef struct hl_lab_judge {
    const hl_codes *db;
    const hl_labels *dblab;
    const hl_labels *labels; /* [run's queries] true labels (untargeted) or target labels (targeted) */
    hl_retrieval_opts opts;  /* the table's (untargeted) or topk 0 (targeted: t-mAP@all) */
    bool targeted;
} hl_lab_judge;
hl_status hl_lab_judge_score(void *user, int64_t first, const hl_codes *codes, double *s);

/* What an attack cell measured, for its sanity checks. */
typedef struct hl_cell_sanity_in {
    const hl_suite_attack *sa;
    const hl_attack_opts *ao;
    const hl_attack *a;         /* the attack after its run (counters, trace, ensemble record) */
    hl_hasher *victim;
    const float *x;             /* clean attacked queries [n, d] */
    int64_t n;
    const hl_codes *clean, *db; /* clean codes of the queries, the database codes */
    const hl_labels *lab;       /* the queries' labels */
    const hl_codes *tcodes;     /* targeted: target codes [n] and target labels; NULL otherwise */
    const hl_labels *tl;
    const double *ap_adv;       /* [n] per-query AP of the 8-bit adversarial codes (untargeted) or NULL */
    const double *tap_adv;      /* [n] per-query targeted AP (t-mAP@all) or NULL */
    double map8, mapf;          /* headline score of the 8-bit and float adversarial images */
} hl_cell_sanity_in;

/* Runs the probe and the exact attack where they apply and writes "sanity" into res. */
hl_status hl_cell_sanity(hl_run_state *rs, const hl_cell *c, const hl_cell_sanity_in *in, hl_config *res);

/* "ensemble" of an `auto` cell into res (members, their scores, wins and cost per query) and its per-query columns:
 * cols[m] = member m's per-query score as AP (NaN where it did not run), winner[i] = the kept member. */
hl_status hl_cell_ensemble(const hl_attack *a, int64_t n, bool targeted, hl_config *res, double *cols,
                           double *winner);

#endif
