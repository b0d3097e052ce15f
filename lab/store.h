/* lab/store.h — the run directory on disk (layout and result.json schema: reports/report.h).
 *
 *     hl_store s;
 *     HL_TRY(hl_store_open(&s, "runs/quick", 0, 1)); // creates RUNDIR/{cells,artifacts,split}, locks, opens log.txt
 *     if (hl_store_cell_state("runs/quick", key, NULL) == HL_CELL_STATE_DONE) ...   // skip finished cells
 *     hl_store_log(&s, "cell %s: done", label);
 *     hl_store_close(&s);
 *
 * Locking: hl_store_open takes an exclusive flock(2) on RUNDIR/.lock (non-blocking) — per shard when the run is
 * sharded (RUNDIR/.lock-shard-I-of-N), so the shards of a cluster job can share one run directory (their cells are
 * disjoint; shared files are written atomically with identical content) while a second run of the same shard is
 * refused with HL_EIO "RUNDIR: another hashlab run is using this directory". The lock goes away with the process,
 * also when it is killed, so a crashed run never leaves a stale lock.
 * A cell's state comes from RUNDIR/cells/KEY/result.json through the one strict reader (reports/result.h), which
 * the report uses too: PENDING when there is no file, DONE / FAILED when the file is valid and says so, INVALID when
 * it is not (malformed JSON, a non-finite or non-numeric metric, another cell's key or kind, ...). The runner sets
 * an invalid file aside as result.json.bad (hl_store_set_aside) and runs the cell again. result.json is written
 * last and atomically.
 */
#ifndef HL_LAB_STORE_H
#define HL_LAB_STORE_H

#include <stdio.h>

#include "core/config.h"

typedef enum hl_cell_state {
    HL_CELL_STATE_PENDING,
    HL_CELL_STATE_DONE,
    HL_CELL_STATE_FAILED,
    HL_CELL_STATE_INVALID,
    HL_CELL_STATE_COUNT
} hl_cell_state;

typedef struct hl_store {
    char dir[1024]; /* RUNDIR */
    int lock_fd;    /* -1 when not locked */
    FILE *log;      /* RUNDIR/log.txt (append), or NULL */
} hl_store;

/* Creates RUNDIR and its subfolders (mkdir -p), takes the lock and opens log.txt for appending. */
hl_status hl_store_open(hl_store *s, const char *dir, int shard_index, int shard_count);
void hl_store_close(hl_store *s); /* releases the lock, closes the log; safe on a zeroed or closed store */

/* mkdir -p (mode 0755). */
hl_status hl_store_mkdirs(const char *path);
/* "RUNDIR/cells/KEY" into buf (returns buf). */
char *hl_store_cell_dir(const char *rundir, const char *key, char *buf, size_t n);
/* State of a cell from its result.json (kind: "train" / "attack" / "transfer", or NULL for any); error (may be NULL)
 * receives a copy (free()) of a failed cell's "error" or of the reason an invalid file was refused ("PATH: ..."). */
hl_cell_state hl_store_cell_state(const char *rundir, const char *key, const char *kind, char **error);
const char *hl_cell_state_name(hl_cell_state s); /* "pending", "done", "failed", "invalid" */
/* Renames an invalid RUNDIR/cells/KEY/result.json to result.json.bad (replacing an older one), so the cell runs
 * again and the file is kept for inspection. HL_EIO naming both paths when the rename fails. */
hl_status hl_store_set_aside(const char *rundir, const char *key);

/* Canonical JSON (hl_config_canonical_json) of tree, written atomically with a trailing newline. */
hl_status hl_store_write_json(const char *path, const hl_config *tree);
/* RUNDIR/by-label/<readable path> -> ../…/cells/KEY, a relative symlink replaced atomically, so people can browse a
 * run by label: "adsh/32b/seed0" -> adsh/32b/seed0/train, "adsh/32b/seed0/pgd:linf:8/255" ->
 * adsh/32b/seed0/pgd-linf-8-255, a transfer's "A=>B/16b/seed0" -> A/…-to-B-16b-seed0. Characters other than
 * [A-Za-z0-9._-] in a component become '-'. */
hl_status hl_store_label_link(const char *rundir, const char *label, const char *key, bool train);
/* Parses a JSON file strictly (core/io/json.h) into a tree. */
hl_status hl_store_read_json(const char *path, hl_config **out);

/* Appends one plain line (a newline is added) to log.txt, flushed. No-op without a log. */
void hl_store_log(hl_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
