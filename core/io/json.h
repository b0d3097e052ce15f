/* core/io/json.h — a strict JSON (RFC 8259) reader producing a config tree (core/config.h), so JSON files (result.json,
 * manifests, resolved suites) are read with the same typed getters and "FILE:LINE:COL: PATH: ..." messages as YAML.
 *
 *     hl_config *root;
 *     if ((st = hl_json_load_file("run/cells/ab12/result.json", &root)) < 0) return st;
 *     int64_t bits;
 *     st = hl_config_get_int(root, "bits", &bits);
 *     hl_config_free(root);
 *
 * Mapping: object -> HL_CONFIG_MAP (members in source order; each entry's key_line/key_col is where its key string
 * starts), array -> HL_CONFIG_SEQ, string -> quoted HL_CONFIG_SCALAR (decoded UTF-8), number -> plain scalar holding
 * the number's exact source text ("-1.50e+3"), true/false -> plain scalars "true"/"false", null -> HL_CONFIG_NULL
 * (as the YAML loader does; canonical JSON writes it back as null). Every node gets file = `name` and the 1-based
 * line:col where its value starts; columns count bytes.
 *
 * Strictness (everything else is HL_EFORMAT "NAME:LINE:COL: reason" at the offending byte):
 *   - exactly one value, surrounded only by JSON whitespace (space, tab, CR, LF); a leading UTF-8 BOM is skipped;
 *   - numbers as the RFC grammar says (no leading zeros, '+', '.5', '1.', hex, NaN, Infinity);
 *   - strings: escapes \" \\ \/ \b \f \n \r \t \uXXXX (surrogate pairs combined into one code point; lone or
 *     reversed surrogates refused; \u0000 refused because the tree holds C strings), no raw control characters
 *     (< 0x20), and the raw bytes must be well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF);
 *   - no NUL byte anywhere, no comments, no trailing commas, no duplicate keys in one object (the message names the
 *     key and where it was first defined);
 *   - nesting of arrays/objects at most HL_JSON_MAX_DEPTH deep.
 * Malformed input never crashes or reads past `len`; allocation failure is HL_ENOMEM.
 */
#ifndef HL_IO_JSON_H
#define HL_IO_JSON_H

#include <stddef.h>

#include "core/config.h"

#define HL_JSON_MAX_DEPTH 256
#define HL_JSON_MAX_FILE_BYTES ((int64_t)1 << 30) /* hl_json_load_file refuses larger files (HL_EFORMAT) */

/* Parses len bytes of `text` (need not be NUL-terminated). name is used for positions (NULL -> "<json>").
 * *root is the new tree (free with hl_config_free) or NULL on failure. */
hl_status hl_json_parse(const char *name, const char *text, size_t len, hl_config **root);

/* Reads and parses a whole file; positions name `path`. Errors: those of hl_file_open_read (HL_ENOTFOUND, HL_EIO),
 * read failures (HL_EIO), and those of hl_json_parse. */
hl_status hl_json_load_file(const char *path, hl_config **root);

#endif
