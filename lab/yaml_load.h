/* lab/yaml_load.h — YAML text → hl_config tree with 1-based line:col (the only code that calls libyaml).
 *
 *     hl_config *suite = NULL;
 *     if ((st = hl_yaml_load_file("suites/quick.yaml", &suite)) < 0) return st;   // message names file:line:col
 *     ...
 *     hl_config_free(suite);
 *
 * Mapping: mappings → HL_CONFIG_MAP (source order), sequences → HL_CONFIG_SEQ, plain scalars ~/null/Null/NULL and
 * empty plain scalars → HL_CONFIG_NULL, other scalars → HL_CONFIG_SCALAR (quoted = written quoted, literal/folded,
 * or tagged !!str). Each node's line:col is where it starts (libyaml's 0-based marks + 1); map entries also carry
 * their key's position. An empty document (or an empty file) gives an HL_CONFIG_NULL root at 1:1.
 *
 * Refused, with HL_EFORMAT and "NAME:LINE:COL: ..." messages:
 *   syntax errors        "NAME:L:C: <libyaml problem> (<libyaml context> at L0:C0)"
 *   duplicate keys       "NAME:L:C: duplicate key 'lr' (first defined at L0:C0)"
 *   anchors and aliases  "NAME:L:C: anchors and aliases (&name, *name) are not supported"
 *   non-scalar keys      "NAME:L:C: mapping keys must be scalars"
 *   several documents    "NAME:L:C: more than one YAML document (one suite per file)"
 * A missing or unreadable file is HL_ENOTFOUND / HL_EIO "PATH: cannot open: <strerror>".
 */
#ifndef HL_LAB_YAML_LOAD_H
#define HL_LAB_YAML_LOAD_H

#include "core/config.h"

/* Parses `text` (NUL-terminated) named `name` in positions. *root: hl_config_free. */
hl_status hl_yaml_load_string(const char *name, const char *text, hl_config **root);
/* Reads and parses the file at path (positions name it as given). */
hl_status hl_yaml_load_file(const char *path, hl_config **root);

#endif
