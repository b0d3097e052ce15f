/* lab/list_pass.h — every image of an image list through a model, batch by batch (hashlab embed, hashlab encode):
 * decoded and resized a batch at a time (core/data/image_stream.h, so memory does not grow with the list), handed to
 * a callback as float32 [b, C, H, W] in [0, 1], with a progress bar or log lines on stderr (lab/progress.h) and a stop
 * check between batches (core/job.h: Ctrl-C, when the command installed the lab's signal handlers, ends the pass
 * with HL_EINTR "interrupted" after the batch being computed).
 */
#ifndef HL_LAB_LIST_PASS_H
#define HL_LAB_LIST_PASS_H

#include "core/data/image_stream.h"

typedef struct hl_list_pass_opts {
    int c, h, w;        /* the shape images are given in */
    bool exact;         /* images must already be h × w (else HL_EMISMATCH naming the first other one) */
    int batch;          /* images per callback (>= 1) */
    const char *label;  /* progress label, e.g. "embed resnet18" */
    bool quiet;         /* no progress output */
} hl_list_pass_opts;

/* fn(user, x, first, b): images first .. first + b - 1 of the list as x [b, C, H, W] (valid during the call). */
typedef hl_status (*hl_list_pass_fn)(void *user, const float *x, int64_t first, int64_t b);

hl_status hl_list_pass(const hl_image_stream *s, const hl_list_pass_opts *o, hl_list_pass_fn fn, void *user);

/* The default batch for images [C, H, W]: 256 images of 3×32×32 (the lab's encoding batch), or as many of other
 * images as hold the same number of values (at least 1): 5 at 3×224×224, where a ResNet-50 forward keeps about
 * 140 MB of activations per image until its batch is done. */
#define HL_LIST_PASS_VALUES (256 * 3 * 32 * 32)
static inline int hl_list_pass_default_batch(int c, int h, int w) {
    int64_t b = HL_LIST_PASS_VALUES / ((int64_t)c * h * w);
    return (int)(b < 1 ? 1 : b > 256 ? 256 : b);
}

/* Parses "S" or "HxW" (1 .. 4096 each) into *h, *w; false when malformed. */
bool hl_list_pass_parse_size(const char *text, int *h, int *w);

#endif
