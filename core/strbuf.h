/* core/strbuf.h — a growable NUL-terminated byte buffer for building text (JSON headers, tables, messages).
 * Zero-initialised is empty and valid. Allocation failure is sticky: `oom` is set, later appends do nothing, and the
 * caller checks `oom` once at the end. The caller frees `p`. */
#ifndef HL_STRBUF_H
#define HL_STRBUF_H

#include "core/common.h"

typedef struct hl_strbuf {
    char *p;    /* NUL-terminated contents (NULL while empty) */
    size_t n;   /* bytes, excluding the NUL */
    size_t cap; /* allocated bytes */
    bool oom;   /* an allocation failed */
} hl_strbuf;

/* Appends n bytes of s. */
void hl_strbuf_put(hl_strbuf *b, const char *s, size_t n);
/* Appends the C string s. */
void hl_strbuf_puts(hl_strbuf *b, const char *s);

#endif
