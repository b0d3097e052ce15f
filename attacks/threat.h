/* attacks/threat.h — the threat model every attack is held to: an ε-ball (L∞ or L2) around the clean image,
 * intersected with the valid pixel box [lo, hi] (normally [0, 1]).
 *
 * ε is an exact fraction (core/config.h hl_fraction, "8/255"); comparisons use its double value. Images are
 * contiguous float rows of d values (one image = C·H·W values).
 *
 * Projection (what attacks call after each step):
 *   L∞: x_adv = clamp(x_adv, max(lo, x − ε), min(hi, x + ε)) per pixel — the exact projection.
 *   L2: δ = x_adv − x scaled by ε/‖δ‖ when ‖δ‖ > ε, then x + δ clamped to [lo, hi]. Clamping moves each pixel
 *       towards x (x is in the box), so the result stays in the ball.
 * Check (what the attack driver calls after every perturb): every pixel in [lo − tol, hi + tol] and the distance
 * to x at most ε + tol (HL_THREAT_TOL = 1e-6 absorbs float rounding); a violation is HL_EINVAL, e.g.
 *   "image 3: L∞ distance 0.0431373 exceeds eps 8/255 (0.0313725)"
 *   "image 0 pixel 17: value 1.5 outside [0, 1]"
 */
#ifndef HL_THREAT_H
#define HL_THREAT_H

#include "core/config.h"

#define HL_THREAT_TOL 1e-6

/* HL_NORM_NONE: no ε-ball, only the pixel box — for attacks without a budget of their own (ProS-GAN); their
 * perceptibility is reported instead. Its distance is the L∞ distance, and ε is ignored. */
typedef enum hl_norm { HL_NORM_LINF, HL_NORM_L2, HL_NORM_NONE, HL_NORM_COUNT } hl_norm;

typedef struct hl_threat {
    hl_norm norm;
    hl_fraction eps; /* radius, >= 0 */
    float lo, hi;    /* pixel box */
} hl_threat;

/* "linf" / "l2" / "none". */
const char *hl_norm_name(hl_norm n);
/* Parses "linf", "l2" or "none" (HL_EINVAL "unknown norm 'l3' (known: linf, l2, none)"). */
hl_status hl_norm_parse(const char *s, hl_norm *out);
/* {norm, eps num/den, box [0, 1]}. */
hl_threat hl_threat_make(hl_norm norm, int64_t eps_num, int64_t eps_den);

/* Projects n images x_adv [n, d] in place onto the threat set around x [n, d]. */
void hl_threat_project(const hl_threat *t, const float *x, float *x_adv, int64_t n, int64_t d);
/* Distance of one image to its clean version under t->norm. */
double hl_threat_distance(hl_norm norm, const float *x, const float *x_adv, int64_t d);
/* HL_OK when every image is within the threat set (with tolerance tol), else HL_EINVAL naming the first
 * offending image (see above). */
hl_status hl_threat_check(const hl_threat *t, const float *x, const float *x_adv, int64_t n, int64_t d, double tol);

#endif
