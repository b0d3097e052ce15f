/* core/strbuf.c — see strbuf.h. */
#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

void hl_strbuf_put(hl_strbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void hl_strbuf_puts(hl_strbuf *b, const char *s) { hl_strbuf_put(b, s, strlen(s)); }
