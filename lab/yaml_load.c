/* lab/yaml_load.c — libyaml event stream → hl_config. */
#include "lab/yaml_load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define HL_YAML_MAX_DEPTH 256

/* Builder state: a stack of open containers; for a map, the pending key (set after its key scalar). */
typedef struct frame {
    hl_config *node;
    char *key; /* map: key waiting for its value */
    int key_line, key_col;
} frame;

typedef struct builder {
    const char *name;
    frame st[HL_YAML_MAX_DEPTH];
    int depth;
    hl_config *root;
} builder;

static hl_status fmt_error(const char *name, yaml_mark_t m, const char *msg) {
    return hl_error_set(HL_EFORMAT, "%s:%zu:%zu: %s", name, m.line + 1, m.column + 1, msg);
}

static hl_status syntax_error(const char *name, const yaml_parser_t *p) {
    if (p->error == YAML_MEMORY_ERROR) return hl_error_set(HL_ENOMEM, "%s: out of memory parsing YAML", name);
    if (p->error == YAML_READER_ERROR)
        return hl_error_set(HL_EFORMAT, "%s: byte %zu: %s", name, p->problem_offset,
                            p->problem ? p->problem : "unreadable input");
    const char *prob = p->problem ? p->problem : "invalid YAML";
    if (p->context)
        return hl_error_set(HL_EFORMAT, "%s:%zu:%zu: %s (%s at %zu:%zu)", name, p->problem_mark.line + 1,
                            p->problem_mark.column + 1, prob, p->context, p->context_mark.line + 1,
                            p->context_mark.column + 1);
    return hl_error_set(HL_EFORMAT, "%s:%zu:%zu: %s", name, p->problem_mark.line + 1, p->problem_mark.column + 1,
                        prob);
}

/* Attaches a finished node to the open container (or makes it the root). Takes ownership of n. */
static hl_status attach(builder *b, hl_config *n) {
    if (b->depth == 0) {
        b->root = n;
        return HL_OK;
    }
    frame *f = &b->st[b->depth - 1];
    if (f->node->kind == HL_CONFIG_SEQ) return hl_config_seq_push(f->node, n);
    HL_ASSERT(f->key, "yaml builder: value without a key");
    hl_status st = hl_config_map_put(f->node, f->key, f->key_line, f->key_col, n);
    free(f->key);
    f->key = NULL;
    if (st == HL_EINVAL) { /* duplicate key: keep the message, report a format error */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", hl_error_last());
        st = hl_error_set(HL_EFORMAT, "%s", msg);
    }
    return st;
}

/* True if the open container is a map waiting for a key. */
static bool want_key(const builder *b) {
    return b->depth > 0 && b->st[b->depth - 1].node->kind == HL_CONFIG_MAP && !b->st[b->depth - 1].key;
}

static hl_status on_scalar(builder *b, const yaml_event_t *ev) {
    const char *text = (const char *)ev->data.scalar.value;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (want_key(b)) {
        frame *f = &b->st[b->depth - 1];
        f->key = malloc(strlen(text) + 1);
        if (!f->key) return hl_error_set(HL_ENOMEM, "%s: out of memory", b->name);
        strcpy(f->key, text);
        f->key_line = line;
        f->key_col = col;
        return HL_OK;
    }
    const char *tag = (const char *)ev->data.scalar.tag;
    bool is_str = tag && strcmp(tag, YAML_STR_TAG) == 0;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !is_str;
    hl_config_kind kind = plain && hl_config_is_null_text(text) ? HL_CONFIG_NULL : HL_CONFIG_SCALAR;
    hl_config *n = hl_config_new(kind, text, b->name, line, col);
    if (!n) return hl_error_set(HL_ENOMEM, "%s: out of memory", b->name);
    n->quoted = kind == HL_CONFIG_SCALAR && !plain;
    return attach(b, n);
}

static hl_status on_start(builder *b, const yaml_event_t *ev, hl_config_kind kind) {
    if (want_key(b)) return fmt_error(b->name, ev->start_mark, "mapping keys must be scalars");
    if (b->depth == HL_YAML_MAX_DEPTH) return fmt_error(b->name, ev->start_mark, "nesting too deep");
    hl_config *n = hl_config_new(kind, NULL, b->name, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1);
    if (!n) return hl_error_set(HL_ENOMEM, "%s: out of memory", b->name);
    b->st[b->depth++] = (frame){.node = n};
    return HL_OK;
}

static hl_status on_end(builder *b) {
    frame f = b->st[--b->depth];
    HL_ASSERT(!f.key, "yaml builder: mapping ended after a key");
    return attach(b, f.node);
}

static void builder_free(builder *b) {
    /* open containers are not attached yet: free them innermost first */
    for (int i = b->depth - 1; i >= 0; i--) {
        free(b->st[i].key);
        hl_config_free(b->st[i].node);
    }
    b->depth = 0;
    hl_config_free(b->root);
    b->root = NULL;
}

static bool has_anchor(const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return ev->data.scalar.anchor != NULL;
    case YAML_SEQUENCE_START_EVENT: return ev->data.sequence_start.anchor != NULL;
    case YAML_MAPPING_START_EVENT: return ev->data.mapping_start.anchor != NULL;
    default: return false;
    }
}

hl_status hl_yaml_load_string(const char *name, const char *text, hl_config **root) {
    hl_status st = HL_OK;
    yaml_parser_t p;
    yaml_event_t ev;
    bool have_ev = false, done_parsing = false;
    int docs = 0;
    builder *b = calloc(1, sizeof *b);
    *root = NULL;
    if (!b) return hl_error_set(HL_ENOMEM, "%s: out of memory", name);
    b->name = name;
    if (!yaml_parser_initialize(&p)) {
        free(b);
        return hl_error_set(HL_ENOMEM, "%s: cannot initialise the YAML parser", name);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    while (!done_parsing) {
        if (!yaml_parser_parse(&p, &ev)) {
            st = syntax_error(name, &p);
            goto done;
        }
        have_ev = true;
        if (ev.type == YAML_ALIAS_EVENT || has_anchor(&ev)) {
            st = fmt_error(name, ev.start_mark, "anchors and aliases (&name, *name) are not supported");
            goto done;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                st = fmt_error(name, ev.start_mark, "more than one YAML document (one suite per file)");
                goto done;
            }
            break;
        case YAML_SCALAR_EVENT: HL_TRY(on_scalar(b, &ev)); break;
        case YAML_SEQUENCE_START_EVENT: HL_TRY(on_start(b, &ev, HL_CONFIG_SEQ)); break;
        case YAML_MAPPING_START_EVENT: HL_TRY(on_start(b, &ev, HL_CONFIG_MAP)); break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: HL_TRY(on_end(b)); break;
        case YAML_STREAM_END_EVENT: done_parsing = true; break;
        default: break;
        }
        yaml_event_delete(&ev);
        have_ev = false;
    }
    if (!b->root) {
        b->root = hl_config_new(HL_CONFIG_NULL, NULL, name, 1, 1);
        if (!b->root) {
            st = hl_error_set(HL_ENOMEM, "%s: out of memory", name);
            goto done;
        }
    }
    *root = b->root;
    b->root = NULL;
done:
    if (have_ev) yaml_event_delete(&ev);
    yaml_parser_delete(&p);
    builder_free(b);
    free(b);
    return st;
}

hl_status hl_yaml_load_file(const char *path, hl_config **root) {
    hl_status st = HL_OK;
    char *buf = NULL;
    *root = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return hl_error_set(errno == ENOENT ? HL_ENOTFOUND : HL_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0, k;
    buf = malloc(cap);
    if (!buf) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory reading", path);
        goto done;
    }
    while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                st = hl_error_set(HL_ENOMEM, "%s: out of memory reading", path);
                goto done;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (ferror(f)) {
        st = hl_error_set(HL_EIO, "%s: read error: %s", path, strerror(errno));
        goto done;
    }
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        st = hl_error_set(HL_EFORMAT, "%s: contains a NUL byte (not a YAML text file)", path);
        goto done;
    }
    st = hl_yaml_load_string(path, buf, root);
done:
    fclose(f);
    free(buf);
    return st;
}
