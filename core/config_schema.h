/* core/config_schema.h — declared parameter schemas: validation with positions, defaults, schema tables.
 *
 * Every hasher/attack plugin (and the suite format itself) declares its keys as an hl_param_spec array:
 *
 *     static const hl_param_spec adsh_params[] = {
 *         {.name = "lr", .type = HL_PARAM_FLOAT, .def = "1e-3", .range = "(0, 1]", .doc = "Adam learning rate"},
 *         {.name = "epochs", .type = HL_PARAM_INT, .def = "3", .range = "[1, inf)", .doc = "outer iterations"},
 *         {.name = "norm", .type = HL_PARAM_ENUM, .def = "linf", .choices = "linf|l2", .doc = "threat-model norm"},
 *         {.name = "method", .type = HL_PARAM_STRING, .doc = "required: no default"},
 *     };
 *
 * Specs:
 *   def      default as YAML-like text: a scalar ("1e-3", "8/255", "true", "linf"), a flat flow list ("[16, 32]"),
 *            "{}" (empty map), "" (empty string), or "~"/"null" (optional: a null value is accepted; resolve
 *            fills in null).
 *            NULL = required key.
 *   range    numbers, fractions and the elements of number lists: "[lo, hi]", "(lo, hi)", mixed brackets, with
 *            "inf"/"-inf" for open ends; NULL = any finite value. A malformed range is a programming error.
 *   choices  HL_PARAM_ENUM: the allowed values separated by '|'.
 *   fields   HL_PARAM_MAP / HL_PARAM_MAP_LIST: nested specs validated (no extra keys) and resolved recursively;
 *            NULL = any map contents (validated elsewhere, e.g. a hasher's params by that hasher's schema).
 *
 * Errors are collected, not returned one at a time: hl_config_validate appends every problem of a tree to an
 * hl_config_errors list (so a suite validator can check the suite keys, every hasher and every attack, then report
 * all at once). hl_config_errors_finish sorts them by file:line:col, drops repeats (the same message at the same
 * position), keeps the first HL_CONFIG_MAX_ERRORS (then
 * "... and N more errors"), and returns one line per error, e.g.
 *
 *     s.yaml:4:5: unknown key 'lr_rate' in hasher 'adsh'; did you mean 'lr'? (valid: lr, epochs, norm, method)
 *     s.yaml:5:13: epochs: expected an integer, got 'abc'
 *     s.yaml:6:11: norm: 'l3' is not allowed (allowed: linf, l2)
 *     s.yaml:7:10: lr: 2 is out of range (0, 1]
 *     s.yaml:3:3: missing required key 'method' in hasher 'adsh'      <- at the position of the map
 */
#ifndef HL_CONFIG_SCHEMA_H
#define HL_CONFIG_SCHEMA_H

#include "core/config.h"

typedef enum hl_param_type {
    HL_PARAM_INT,
    HL_PARAM_FLOAT,
    HL_PARAM_BOOL,
    HL_PARAM_STRING,
    HL_PARAM_ENUM,
    HL_PARAM_INT_LIST,
    HL_PARAM_FLOAT_LIST,
    HL_PARAM_STRING_LIST,
    HL_PARAM_FRACTION,
    HL_PARAM_MAP,
    HL_PARAM_MAP_LIST
} hl_param_type;

typedef struct hl_param_spec hl_param_spec;
struct hl_param_spec {
    const char *name;
    hl_param_type type;
    const char *def;     /* default text; NULL = required */
    const char *range;   /* "[0, 1]", "(0, inf)"; NULL = unbounded */
    const char *choices; /* enum: "linf|l2" */
    const char *doc;     /* one line */
    const hl_param_spec *fields; /* map / map list: nested schema (NULL: anything) */
    int n_fields;
    /* Where a resolved map (defaults filled in) enters a cell key: true leaves this key out while its value is the
     * default, so a key added to a class later, whose default keeps the earlier behaviour, keeps the stored results'
     * keys (lab/suite.c, a labeler's map). */
    bool key_omits_default;
};

#define HL_CONFIG_MAX_ERRORS 20

typedef struct hl_config_error_item {
    char *file;
    int line, col;
    char *msg;   /* without the position */
    int64_t seq; /* insertion order (ties at one position keep it) */
} hl_config_error_item;

typedef struct hl_config_errors {
    hl_config_error_item *items;
    int64_t n, cap;
    bool oom;
} hl_config_errors; /* zero-initialise; release with hl_config_errors_free */

/* Appends "msg" at (file, line, col). */
void hl_config_errors_add(hl_config_errors *e, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Sorted report (see above). HL_OK with *text = NULL when there are no errors; else HL_EINVAL, *text the full
 * report (malloc'd, free(); pass text = NULL not to get it) and the last error set to the report (truncated to
 * hl_error_set's 8191 bytes). */
hl_status hl_config_errors_finish(hl_config_errors *e, char **text);
void hl_config_errors_free(hl_config_errors *e);

/* Checks `node` (must be a map, else one error at its position) against specs: unknown keys (unless allow_extra),
 * wrong types, out-of-range values, disallowed enum values, missing required keys; recurses into `fields`.
 * `what` names the map in messages ("hasher 'adsh'"; NULL: no " in ..." part). Returns the number of errors
 * added. */
int hl_config_validate(const hl_config *node, const hl_param_spec *specs, int n, bool allow_extra, const char *what,
                       hl_config_errors *errs);
/* Validate + finish: HL_OK, or HL_EINVAL with the sorted report as the last error (and in *report unless NULL). */
hl_status hl_config_check(const hl_config *node, const hl_param_spec *specs, int n, bool allow_extra,
                          const char *what, char **report);

/* Resolved copy of a valid map (validate first; asserts on what validation rejects): every spec'd key present
 * (defaults filled in, at position <default>:0:0), typed scalars rewritten canonically (ints "%lld", floats the
 * shortest round-trip decimal, fractions reduced "p/q", bools true/false, a scalar for a list a one-element list,
 * strings/enums marked quoted), nested `fields` resolved, extra keys copied. Same resolved config ⇒ same
 * hl_config_canonical_json, whatever the key order or spelling (1e-3 vs 0.001, 0.5 vs 1/2). *out: hl_config_free. */
hl_status hl_config_resolve(const hl_config *node, const hl_param_spec *specs, int n, hl_config **out);

/* Spec lookup by name (NULL if absent) and type name ("int", "float list", "enum", ...). */
const hl_param_spec *hl_param_find(const hl_param_spec *specs, int n, const char *name);
const char *hl_param_type_name(hl_param_type t);

/* Aligned table for `hashlab list NAME`: a header "name  type  default  range  doc" and one row per spec (default
 * "(required)" when NULL; range column shows the range or the enum choices "linf|l2"; "-" when none), columns
 * separated by two spaces, no trailing spaces. *out malloc'd (free()). */
hl_status hl_param_schema_format(const hl_param_spec *specs, int n, char **out);

/* Edit distance (bytes): insertions, deletions, substitutions and transpositions of adjacent bytes ("dsph" ->
 * "dpsh" is 1) each count 1 (optimal string alignment); used for "did you mean" suggestions. */
int hl_edit_distance(const char *a, const char *b);

#endif
