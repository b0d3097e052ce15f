/* reports/result.h — the one strict reader of a cell's result.json (schema: reports/report.h). The runner (is a cell
 * done?), `hashlab status` and the report all read results through it, so they can never disagree about a file.
 *
 *     hl_result r;
 *     st = hl_result_read("runs/x/cells/KEY/result.json", "KEY", "train", &r);
 *     if (st == HL_ENOTFOUND) ...          // no result yet: the cell is pending
 *     else if (st == HL_EFORMAT) ...       // invalid: hl_error_last() = "PATH: reason"; the runner re-runs the cell
 *     else if (st == HL_OK) ... r.done, r.root ...; hl_result_free(&r);
 *
 * A file is valid when all of these hold (anything else is HL_EFORMAT naming the path and the first reason):
 *   - it is a regular file holding strict JSON (core/io/json.h: no NaN, Infinity, comments, duplicate keys ...)
 *     whose top level is an object;
 *   - "kind" is train, attack or transfer, and equals the expected kind when one is given;
 *   - "key" is the 64-hex cell key and equals the expected key (the cell directory's name): a result copied from
 *     another cell is refused;
 *   - "status" is done or failed; "label", "method" are strings; "bits" an integer >= 1; "seed" an integer >= 0;
 *   - failed: "error" is a string;
 *   - done: "metrics" is a non-empty object whose every value is a finite number or null (hashlab writes null for
 *     an undefined metric, e.g. a perceptibility over no query); a string, an object, or a number that overflows a
 *     double (1e999) is refused; "pr_radius", when present, holds "precision" and "recall" lists of one non-zero
 *     length, of finite numbers or null;
 *   - attack and transfer cells: "attack", "eps", "norm" are strings and "train_key" is a 64-hex key; transfer
 *     cells: "target_method" a string and "target_bits" an integer >= 1.
 */
#ifndef HL_REPORTS_RESULT_H
#define HL_REPORTS_RESULT_H

#include <stdbool.h>

#include "core/config.h"

typedef struct hl_result {
    hl_config *root; /* the parsed file (owned) */
    bool done;       /* status done (else failed) */
} hl_result;

/* Reads and validates `path`. key: the expected cell key (NULL: the name of the directory holding path). kind:
 * "train" / "attack" / "transfer", or NULL for any. HL_ENOTFOUND when there is no file (nothing else is set),
 * HL_EFORMAT "PATH: reason" when it is invalid, HL_EIO / HL_ENOMEM as reading goes. */
hl_status hl_result_read(const char *path, const char *key, const char *kind, hl_result *out);
void hl_result_free(hl_result *r); /* NULL-safe, idempotent */

/* True when s is a cell key: exactly 64 lowercase hex digits. */
bool hl_result_is_key(const char *s);

#endif
