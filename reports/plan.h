/* reports/plan.h — RUNDIR/plan.json: the cells of the suite as of the last `hashlab run` into a run directory.
 *
 * A run directory keeps every result it ever computed: a result of other code (a method's bumped version, a rebuilt
 * plugin) or of other settings stays in cells/ under its own key and is never deleted. Such a result is not a cell of
 * the suite any more; counted by the report it would be a phantom extra "seed" averaged into the suite's numbers
 * (e.g. one ADSH before and after a fix, reported as n = 2). So `hashlab run` writes the keys of every cell of the
 * suite it runs (the whole suite, whatever --only or --shard selected; shards write identical files), atomically,
 * before it runs any cell, and the report uses only results whose key is in the plan (reports/report.c).
 *
 *     {"format": "hashlab-plan-1", "cells": [{"key": "<64 hex>", "kind": "train|attack|transfer"}, ...]}
 *
 * The last run defines the suite: running a suite with overrides into the same directory makes those cells the
 * suite's, and of two suites sharing a directory (fashion_robust and its superset fashion_full) the report shows the
 * one run last. A directory written before plans existed has no plan.json: the report then uses every result and says so.
 */
#ifndef HL_REPORTS_PLAN_H
#define HL_REPORTS_PLAN_H

#include "core/common.h"

#define HL_PLAN_FILE "plan.json"

/* Writes RUNDIR/plan.json atomically: n cells, keys[i] 64 lowercase hex digits, kinds[i] "train", "attack" or
 * "transfer". Errors: HL_EINVAL (a malformed key or kind), HL_EIO, HL_ENOMEM. */
hl_status hl_plan_write(const char *rundir, int64_t n, const char *const *keys, const char *const *kinds);

/* Reads RUNDIR/plan.json into *keys (a sorted array of n NUL-terminated 64-hex keys; free with free()). HL_ENOTFOUND
 * when the directory has no plan; a malformed file is HL_EFORMAT with "FILE:LINE:COL: ...". */
hl_status hl_plan_read(const char *rundir, char (**keys)[65], int64_t *n);

/* True if key is in the sorted keys of a plan. */
bool hl_plan_has(const char (*keys)[65], int64_t n, const char *key);

#endif
