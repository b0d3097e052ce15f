/* attacks/square.h — the testable pieces of the `square` attack (attacks/square.c): its window schedule. */
#ifndef HL_SQUARE_H
#define HL_SQUARE_H

#include <stdint.h>

/* Share of the image covered by the window at proposal `it` of `steps`: p_init halved each time it / steps passes
 * 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 (of 10,000), as the paper's p_selection. */
float hl_square_p(float p_init, int64_t it, int64_t steps);
/* Window side for share p of an h × w image: round(sqrt(p·h·w)), at least 1 and at most h − 1. */
int hl_square_side(float p, int h, int w);

#endif
