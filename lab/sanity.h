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
 * Flags of a train cell, from its database codes (n items, K bits; p_k = share of +1 in bit k, balance_k =
 * min(p_k, 1 − p_k)), written to its result.json's "sanity" with the measures ("codes": distinct_frac, min_balance,
 * mean_balance, constant_bits, distinct_codes, label_sets):
 *   codes_collapsed      every code is the same, more than K/2 bits are constant, or the mean bit balance is below
 *                        0.05: retrieval with these codes is near chance
 *   low_code_diversity   fewer distinct database codes than HL_SANITY_MIN_CODES_PER_SET (2) per distinct label set
 *                        of the database (so classes must share codes), or a bit whose minority value is on fewer
 *                        than HL_SANITY_MIN_BALANCE (2%) of the items: codes are merging (too short a schedule, too
 *                        high a quantisation weight or lr). The threshold is relative to the classes on purpose: good
 *                        supervised codes over C classes are few (near one per class), so a fixed share of distinct
 *                        codes would flag exactly the best models.
 *
 * ε = 1 probe: the cell's attack (class, params, seed and steps) with the whole pixel box as its ball (L∞ ε = 1,
 * L2 ε = ⌈√d⌉) and its step size scaled by the same factor, on P = min(32, n) of the attacked queries (evenly spaced),
 * scored on its 8-bit images like the headline. Not run for baselines (HL_ATTACK_BASELINE), attacks fitted on the
 * victim and norm none; the evidence says why.
 *
 * Exact attack on a linear hasher (L∞): f(x) = Wx + b (W and b read off the hasher by forwarding 0 and the unit
 * images, then checked on the clean queries). Bit k of clean code c can flip on its own only if
 *     Σ_j |W_kj|·room_kj > c_k·f_k(x),  room_kj = min(ε, x_j − lo) when c_k·W_kj > 0, else min(ε, hi − x_j),
 * (the largest decrease of c_k·f_k over the box ∩ ball), and no attack flips a bit outside this set U. Two scores
 * bracket the optimum of each query:
 *   closed_form  achievable: the best score over the codes of the corner images that push one bit of U as far as the
 *                budget allows (y_j = clamp(x_j − ε·sign(c_k W_kj))) and of the corner that moves the whole linear
 *                objective (Σ_k c_k f_k down, or Σ_k t_k f_k up toward the target); every query
 *   bound        unbeatable: the best score over every code that flips any subset of U (queries with |U| <= 8; the
 *                others are left out and counted): bound <= any attack's mAP (targeted: >= its t-mAP)
 * Reported: the attack's score, closed_form and their gap over all queries; bound, the attack and closed_form over
 * the bounded queries; certified_queries, where the attack reaches the bound (provably optimal there). */
#ifndef HL_LAB_SANITY_H
#define HL_LAB_SANITY_H

#define HL_SANITY_MIN_CODES_PER_SET 2
#define HL_SANITY_MIN_BALANCE 0.02

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
/* The train cell's code checks (above) on its database codes into res "sanity"; warns for each flag raised. */
hl_status hl_cell_code_sanity(const hl_cell *c, const hl_codes *db, const hl_labels *dblab, hl_config *res);
hl_status hl_cell_sanity(hl_run_state *rs, const hl_cell *c, const hl_cell_sanity_in *in, hl_config *res);

/* "ensemble" of an `auto` cell into res (members, their scores, wins and cost per query) and its per-query columns:
 * cols[m] = member m's per-query score as AP (NaN where it did not run), winner[i] = the kept member. */
hl_status hl_cell_ensemble(const hl_attack *a, int64_t n, bool targeted, hl_config *res, double *cols,
                           double *winner);

#endif
