/* attacks/auto.h — what the `auto` ensemble (attacks/auto.c) records for the lab after hl_attack_run: its members,
 * their cost, which member gave each query its worst case, and every member's score per query.
 *
 *     HL_TRY(hl_attack_run(a, victim, ctx, x, xa, n, &goal, 64));   // goal.judge: the lab's per-query AP
 *     const hl_auto_record *r = hl_auto_record_of(a);                // NULL unless a is an `auto` attack
 *     for (int m = 0; m < r->n_members; m++) printf("%s won %lld\n", r->member[m], (long long)r->wins[m]);
 */
#ifndef HL_ATTACKS_AUTO_H
#define HL_ATTACKS_AUTO_H

#include "attacks/attack.h"

#define HL_AUTO_MAX_MEMBERS 4

typedef struct hl_auto_record {
    const char *version;                          /* the members' settings version ("1") */
    int n_members;                                /* members in their fixed order (run or not) */
    const char *member[HL_AUTO_MAX_MEMBERS];      /* "apgd", "pgd", "square" */
    const char *settings[HL_AUTO_MAX_MEMBERS];    /* one line each: "100 steps, eta0 2eps, random start" */
    bool ran[HL_AUTO_MAX_MEMBERS];                /* false: the member does not apply here (square under L2) */
    bool gradient_free[HL_AUTO_MAX_MEMBERS];      /* the member never uses the victim's gradients */
    int64_t forwards[HL_AUTO_MAX_MEMBERS];        /* victim passes of the member, its judging forward included */
    int64_t backwards[HL_AUTO_MAX_MEMBERS];
    int64_t zero_grads[HL_AUTO_MAX_MEMBERS];
    double seconds[HL_AUTO_MAX_MEMBERS];          /* wall time in the member (its judging included) */
    int64_t wins[HL_AUTO_MAX_MEMBERS];            /* queries whose kept candidate is the member's */
    int64_t n;                                    /* queries recorded: positions 0 .. n−1 of the hl_attack_run call */
    const int8_t *winner;                         /* [n] index of the member whose candidate was kept */
    const double *score;                          /* [n × n_members] the judge's score of each member's candidate
                                                   * (higher = stronger; NaN where the member did not run) */
} hl_auto_record;

/* The record of an `auto` attack (valid until the attack is freed or runs again), NULL for any other attack. */
const hl_auto_record *hl_auto_record_of(const hl_attack *a);

/* hl_attack_keep's part for an ensemble (nothing for other attacks): the record (per member counters, seconds, wins;
 * per query winners and scores, sized for n queries) and every member's own counters and trace (prefix "<p>m<i>_"). */
hl_status hl_auto_keep(hl_attack *a, hl_train_state *ts, const char *prefix, int64_t n);

#endif
