/* lab/overrides.h — a suite changed from the command line, Hydra-style (users' documentation: suites/README.md,
 * "Overrides and sweeps"):
 *
 *     hashlab run suite.yaml --set-file fast.yaml hashers.dpsh.params.epochs=5 'seeds=[0,1]' attacks.pgd.eps=4/255,8/255
 *
 *     hl_overrides ov = {.set_files = files, .nset_files = 1, .items = items, .nitems = 3};
 *     hl_suite *s;
 *     if ((st = hl_overrides_load_suite(&s, "suite.yaml", &ov, NULL)) < 0) return st;  // every problem, one report
 *
 * Order: the suite file; then each --set-file fragment in order, a YAML mapping merged over the suite (maps merge key
 * by key, recursively; lists and scalars replace); then the PATH=VALUE overrides in command-line order; then the
 * sweeps (below) in command-line order. Validation is the file's (lab/suite.h, plus the runner's check of methods and
 * parameters), on the merged tree.
 *
 * PATH: dotted keys ("metrics.topk"); `[i]` (or `.i`) indexes a list, i == its length appending a new element; in
 * the `hashers` and `attacks` lists a segment that is not an index selects the entry whose `name:` (default: its
 * `method`) it is: hashers.dpsh.params.epochs, attacks.pgd.eps, attacks[1].steps. A selector naming no entry is an
 * error with a did-you-mean (hl_registry_miss); one naming several is an error (select by index). A key that does not
 * exist is added, so that the schema refuses a misspelt one, at the override; missing maps on the way are added. A
 * leading '+' (Hydra's "add") is accepted and changes nothing.
 * VALUE: YAML, parsed by libyaml as in a suite file (so `5`, `16/255`, `true`, `[0, 1]`, `{epochs: 5}`, `''` read as
 * they would there; nothing after '=' is null).
 * Sweeps: a comma at the top level of VALUE (outside brackets, braces and quotes) separates values.
 *   - For a key whose value is a list in the suite format (seeds, bits, transfer.bits, report.formats, plugins, ...)
 *     the values are that list: seeds=0,1 is seeds=[0,1].
 *   - For any other key inside a hasher or attack entry, the entry is replaced, in place, by one copy per value. The
 *     copies are renamed NAME@KEY=VALUE (KEY the last key of PATH, VALUE as typed, '/' as '_': "dpsh@epochs=5") only
 *     when the reports could not tell them apart otherwise (hashers: the same name; attacks: the same name, norm and
 *     eps), so attacks.pgd.eps=4/255,8/255 keeps the name pgd. A sweep applies to every entry its selector names
 *     (entries sharing a name, and the copies NAME@... of an earlier sweep), so two sweeps make every combination.
 *   - Elsewhere a sweep is an error (the suite has one dataset, split and set of report options).
 *
 * Positions: the nodes an override makes come from the pseudo file "<override N 'TEXT'>" (N: its 1-based rank among
 * the PATH=VALUE overrides, TEXT as given, cut at 100 bytes), line 1, the column where the key or value starts in
 * TEXT; so every problem it causes — a bad path here, an unknown key, a type, a range, a parameter of the method in
 * validation — is reported at the override by the FILE:LINE:COL machinery:
 *     <override 1 'hashers.dpsh.params.epocs=5'>:1:21: unknown key 'epocs' in hasher 'dpsh'; did you mean 'epochs'? ...
 * A fragment's nodes keep the fragment's file:line:col.
 *
 * Recording: hl_overrides_write_run_files keeps the suite file as given (RUNDIR/suite.yaml, the runner's), and adds
 * RUNDIR/overrides.txt (one "--set-file set-file-K.yaml" or PATH=VALUE per line, in order; the fragments copied as
 * RUNDIR/set-file-K.yaml) and the lists "overrides" and "set_files" in suite.resolved.json. Cell keys depend only on
 * the resolved values: `epochs=5` on the command line and `epochs: 5` in the file make the same cells.
 */
#ifndef HL_LAB_OVERRIDES_H
#define HL_LAB_OVERRIDES_H

#include "lab/suite.h"

typedef struct hl_overrides {
    const char *const *set_files; /* --set-file paths, in order (borrowed) */
    int nset_files;
    const char *const *items;     /* "PATH=VALUE" as given, in order (borrowed) */
    int nitems;
} hl_overrides;

/* True when ov is NULL or holds nothing. */
bool hl_overrides_empty(const hl_overrides *ov);

/* Applies ov (NULL: nothing) to *root (a suite tree as loaded; a null root, an empty file, becomes a map). Every
 * problem of an override (path syntax, unknown or ambiguous selector, a path through a value, a sweep where none is
 * possible, a VALUE that is not YAML) is added to errs at the override and that override changes nothing. Returns < 0
 * only when a fragment cannot be read or parsed (its message) or memory runs out. */
hl_status hl_overrides_apply(hl_config **root, const hl_overrides *ov, hl_config_errors *errs);

/* Loads the suite file at path, applies ov and makes the suite in one validation pass (hl_suite_from_config_with):
 * HL_EINVAL with every problem — the overrides', the suite keys', and with `check` (the runner's) the entries' — as
 * one sorted FILE:LINE:COL report. With `check`, the suite's `plugins:` are loaded (lab/plugin.h) before it runs, so
 * that it finds their classes; a plugin path given in an override is relative to the current directory. */
hl_status hl_overrides_load_suite(hl_suite **out, const char *path, const hl_overrides *ov, hl_suite_check_fn check);

/* The grid a run directory holds: RUNDIR/suite.yaml with RUNDIR/overrides.txt applied when there is one. */
hl_status hl_overrides_load_rundir(hl_suite **out, const char *rundir);

/* Writes RUNDIR/suite.resolved.json (resolved, plus "overrides": [PATH=VALUE...] and "set_files": [paths as given]
 * when ov has any: they never enter a cell key), and, when ov has any, RUNDIR/overrides.txt and the fragments' copies
 * RUNDIR/set-file-K.yaml; without overrides an overrides.txt of an earlier run is removed. Every write is atomic. */
hl_status hl_overrides_write_run_files(const char *rundir, const hl_config *resolved, const hl_overrides *ov);

#endif
