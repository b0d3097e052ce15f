/* core/config.h — configuration tree with source positions, typed getters, exact fractions, canonical JSON.
 *
 * A config is a tree of hl_config nodes: maps (ordered key → value entries), sequences, scalars (text) and nulls.
 * Every node records the file and the 1-based line:col where it starts; a map entry also records where its key
 * starts. Front-ends (lab/yaml_load.c, tests, built-in defaults) build trees with the construction API below.
 *
 *     const hl_config *h = hl_config_path(root, "hashers.0");          // seq elements by index
 *     int64_t epochs;  double lr;  hl_fraction eps;
 *     if ((st = hl_config_get_int_range(h, "epochs", 1, 100000, &epochs)) < 0) return st;
 *     if ((st = hl_config_get_fraction(root, "attack.eps", &eps)) < 0) return st;   // "8/255": eps.value == 8.0/255.0
 *
 * Typed getters fail with HL_EINVAL (wrong type, out of range) or HL_ENOTFOUND (missing key) and a message
 * "FILE:LINE:COL: PATH: expected an integer, got 'abc'", where PATH names the node from the root
 * ("hashers[0].params.lr"); a missing key is reported at the position of the map that lacks it.
 *
 * Scalar syntax (plain, i.e. unquoted, scalars; quoted scalars are strings, never numbers, bools or nulls — except
 * that the number getters also read quoted numbers):
 *   int       [+-]?[0-9]+ (fits int64)
 *   float     an int, or [+-]?(D.D|D.|.D|D)([eE][+-]?D) with D = digits; finite only (.inf/.nan are refused)
 *   fraction  an int, a float, or P/Q with integers |P|,Q <= 2^53, Q > 0, spaces allowed around '/'
 *   bool      true/false, yes/no, on/off (lower, Capitalised or UPPER case)
 *   null      ~, null, Null, NULL, or nothing (these become HL_CONFIG_NULL nodes in the YAML loader)
 * A scalar where a list is expected is read as a one-element list (`bits: 64` == `bits: [64]`).
 */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include <stdio.h>

#include "core/common.h"

typedef enum hl_config_kind { HL_CONFIG_NULL, HL_CONFIG_SCALAR, HL_CONFIG_MAP, HL_CONFIG_SEQ } hl_config_kind;

typedef struct hl_config hl_config;
struct hl_config {
    hl_config_kind kind;
    char *key;             /* map entries: the key; otherwise NULL */
    char *text;            /* scalars: the text ("" allowed); otherwise NULL */
    bool quoted;           /* scalar was quoted / block / tagged !!str: always a string */
    char *file;            /* source name ("suites/quick.yaml", "<default>") */
    int line, col;         /* where the value starts, 1-based (0 when synthesised) */
    int key_line, key_col; /* map entries: where the key starts */
    hl_config *parent;     /* NULL at the root */
    hl_config **items;     /* maps: entries in source order (each has ->key); seqs: elements */
    int64_t n, cap;
    int64_t *index;        /* maps of HL_CONFIG_INDEX_MIN+ entries: open-addressing hash of key -> position + 1 */
    int64_t index_cap;     /* slots in index (a power of two, at least twice n), 0 without an index */
};
#define HL_CONFIG_INDEX_MIN 16 /* below this many entries a map is searched linearly */

/* Exact rational with its double. den == 0 marks a decimal with too many digits for an exact int64 ratio: only
 * `value` is meaningful then. `value` is the correctly rounded double of num/den ("8/255" → 8.0/255.0). */
typedef struct hl_fraction {
    int64_t num, den; /* lowest terms, den > 0 (or den == 0, see above) */
    double value;
} hl_fraction;

/* ---- construction (all nodes heap-allocated; a node belongs to at most one parent) ---- */

/* New detached node; `text` is copied (scalars only, NULL → ""); file NULL → "". Returns NULL on allocation
 * failure. */
hl_config *hl_config_new(hl_config_kind kind, const char *text, const char *file, int line, int col);
/* Appends `key: value` to a map, taking ownership of `value` (freed here on failure). A key already present is an
 * HL_EINVAL "FILE:L:C: duplicate key 'k' (first defined at L0:C0)" at the new key's position. */
hl_status hl_config_map_put(hl_config *map, const char *key, int key_line, int key_col, hl_config *value);
/* Appends to a sequence, taking ownership of `value` (freed here on failure). */
hl_status hl_config_seq_push(hl_config *seq, hl_config *value);
/* Removes and frees the entry `key` of a map; returns whether it was present. */
bool hl_config_map_remove(hl_config *map, const char *key);
/* Deep copy (detached; key kept). NULL on allocation failure. */
hl_config *hl_config_clone(const hl_config *node);
/* Frees a detached node and its subtree. NULL-safe. */
void hl_config_free(hl_config *node);

/* ---- lookup ---- */

/* Value of `key` in a map (exact key), or NULL (also when `map` is not a map). Borrowed. */
const hl_config *hl_config_get(const hl_config *map, const char *key);
/* Dotted path from `node`: map keys and seq indices ("hashers.0.params.lr"). NULL if any step is missing. */
const hl_config *hl_config_path(const hl_config *node, const char *path);
/* Number of entries (map) or elements (seq); 0 for scalars and nulls. */
int64_t hl_config_len(const hl_config *node);
/* i-th entry/element (maps: the entry's ->key names it). */
const hl_config *hl_config_at(const hl_config *node, int64_t i);
const char *hl_config_kind_name(hl_config_kind kind); /* "null", "scalar", "map", "list" */

/* "FILE:LINE:COL" of a node into buf (returns buf). */
char *hl_config_where(const hl_config *node, char *buf, size_t n);
/* Path of a node from its root: "hashers[0].params.lr" ("" for the root). Returns buf. */
char *hl_config_name(const hl_config *node, char *buf, size_t n);
/* Sets "FILE:LINE:COL: <message>" as the last error and returns code. */
hl_status hl_config_error(const hl_config *node, hl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- scalar parsing (no node, no error message; return false if `s` is not of the form) ---- */
bool hl_config_parse_int(const char *s, int64_t *out);
bool hl_config_parse_double(const char *s, double *out);
bool hl_config_parse_bool(const char *s, bool *out);
bool hl_config_is_null_text(const char *s);
/* Fills *out and returns HL_OK, or returns HL_EINVAL with a reason (without position) in *why (static text):
 * "denominator is zero", "not a number or a fraction like 8/255", "too large for exact arithmetic". */
hl_status hl_config_parse_fraction(const char *s, hl_fraction *out, const char **why);
/* "8/255", "-3/4", "2" (den 1), or the shortest round-trip decimal when den == 0. Returns buf. */
char *hl_fraction_format(const hl_fraction *f, char *buf, size_t n);
/* A fraction's text as the user wrote it, for labels and reports (canonical JSON and cell keys keep
 * hl_fraction_format's reduced form): "P/Q" unreduced ("48/255", not "16/85"; spaces and a '+' dropped), a decimal
 * or an integer as its shortest round-trip decimal ("0.031" rather than "31/1000", "0.5", "8", "1e-3" -> "0.001").
 * Returns buf, or NULL (buf "") when text is not a fraction. */
char *hl_fraction_format_written(const char *text, char *buf, size_t n);
/* Shortest "%.{15,16,17}g" text that reads back as exactly x. Returns buf. */
char *hl_config_format_double(double x, char *buf, size_t n);

/* ---- typed reads of a node ---- */
hl_status hl_config_as_int(const hl_config *node, int64_t *out);
hl_status hl_config_as_double(const hl_config *node, double *out); /* also reads fractions */
hl_status hl_config_as_float(const hl_config *node, float *out);   /* fails if it overflows float */
hl_status hl_config_as_bool(const hl_config *node, bool *out);
hl_status hl_config_as_string(const hl_config *node, const char **out); /* borrowed; any scalar */
hl_status hl_config_as_fraction(const hl_config *node, hl_fraction *out);

/* ---- typed getters by dotted path from a map ---- */
hl_status hl_config_get_int(const hl_config *map, const char *path, int64_t *out);
hl_status hl_config_get_double(const hl_config *map, const char *path, double *out);
hl_status hl_config_get_float(const hl_config *map, const char *path, float *out);
hl_status hl_config_get_bool(const hl_config *map, const char *path, bool *out);
hl_status hl_config_get_string(const hl_config *map, const char *path, const char **out);
hl_status hl_config_get_fraction(const hl_config *map, const char *path, hl_fraction *out);
/* Inclusive ranges: "FILE:L:C: PATH: 0 is out of range [1, 1000]". */
hl_status hl_config_get_int_range(const hl_config *map, const char *path, int64_t lo, int64_t hi, int64_t *out);
hl_status hl_config_get_double_range(const hl_config *map, const char *path, double lo, double hi, double *out);
/* Lists (a scalar counts as one element). *out is malloc'd (free(); hl_config_strings_free for strings; the
 * strings are copies); *n may be 0 (then *out may be NULL). */
hl_status hl_config_get_int_list(const hl_config *map, const char *path, int64_t **out, int64_t *n);
hl_status hl_config_get_double_list(const hl_config *map, const char *path, double **out, int64_t *n);
hl_status hl_config_get_string_list(const hl_config *map, const char *path, char ***out, int64_t *n);
void hl_config_strings_free(char **s, int64_t n);

/* ---- canonical JSON ----
 * Deterministic JSON of a tree, for content-addressed keys: map keys sorted bytewise (source order ignored), no
 * whitespace, strings escaped (", \, \n \t \r, other control chars as \u00XX; UTF-8 passed through). Plain
 * scalars that read as ints are written as canonical ints, other numbers as the shortest round-trip decimal,
 * bools as true/false, nulls as null; every other scalar (and every quoted one) as a string.
 * *out is malloc'd (free()). */
hl_status hl_config_canonical_json(const hl_config *node, char **out);

#endif
