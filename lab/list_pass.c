/* lab/list_pass.c — an image list through a callback in batches; see list_pass.h. */
#include "lab/list_pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "lab/progress.h"

hl_status hl_list_pass(const hl_image_stream *s, const hl_list_pass_opts *o, hl_list_pass_fn fn, void *user) {
    HL_ASSERT(o->batch >= 1 && o->c >= 1 && o->h >= 1 && o->w >= 1, "list pass: batch %d, shape %dx%dx%d", o->batch,
              o->c, o->h, o->w);
    hl_status st = HL_OK;
    const int64_t n = hl_image_stream_count(s), d = (int64_t)o->c * o->h * o->w;
    const int64_t B = HL_MIN((int64_t)o->batch, n);
    float *x = malloc((size_t)HL_MAX(1, B * d) * sizeof *x);
    hl_progress pr;
    hl_progress_opts po = {.tty = -1, .mode = HL_PROGRESS_NORMAL};
    if (!x) return hl_error_set(HL_ENOMEM, "out of memory for a batch of %lld images of %dx%dx%d", (long long)B, o->c,
                                o->h, o->w);
    if (!o->quiet) hl_progress_begin(&pr, &po, o->label ? o->label : "images", n, "images");
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        const int64_t b = HL_MIN(B, n - i0);
        HL_TRY(hl_job_check());
        HL_TRY(hl_image_stream_read(s, i0, b, o->c, o->h, o->w, o->exact, x));
        HL_TRY(fn(user, x, i0, b));
        if (!o->quiet) hl_progress_update(&pr, i0 + b);
    }
done:
    if (!o->quiet) hl_progress_end(&pr, st >= 0);
    free(x);
    return st;
}

bool hl_list_pass_parse_size(const char *text, int *h, int *w) {
    char *end;
    if (!text || !*text || *text == '-' || *text == '+') return false;
    long a = strtol(text, &end, 10), b = a;
    if (end == text) return false;
    if (*end == 'x' || *end == 'X') {
        const char *t = end + 1;
        if (*t == '-' || *t == '+') return false;
        b = strtol(t, &end, 10);
        if (end == t) return false;
    }
    if (*end || a < 1 || a > 4096 || b < 1 || b > 4096) return false;
    *h = (int)a, *w = (int)b;
    return true;
}
