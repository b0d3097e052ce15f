/* lab/run_data.h — the dataset of `hashlab run`: opened by name (core/data/dataset.h), fetched when missing and
 * the run allows it (`--fetch`, HASHLAB_FETCH=1: lab/cmd_run.c), or refused with the exact commands that get it.
 *
 *     hl_status st = hl_run_data_open(&data, "cifar10", data_root, "suites/cifar_robust.yaml", fetch, progress);
 *
 * The fetch root is where `hashlab data fetch` would put the dataset so that this run finds it: the suite's
 * data_root when set (searched first), else hl_fetch_default_root ($HASHLAB_DATA, else ~/.cache/hashlab), which the
 * loader searches too.
 *   - found: loaded as hl_dataset_open(out, name, data_root) does (errors of a found but unreadable dataset as they
 *     are: nothing is fetched over it).
 *   - missing, fetch, and a source core/data/fetch.h knows (cifar10, cifar100): fetched into the fetch root — from
 *     the official URL, or the mirror in HASHLAB_FETCH_URL_<NAME> + HASHLAB_FETCH_MD5_<NAME> — with hl_fetch's
 *     progress on stderr when progress (resumable, MD5-verified, unpacked atomically), then loaded from there. A
 *     failed fetch returns its error prefixed "fetching NAME into DIR".
 *   - missing, not fetched: HL_ENOTFOUND with the places looked and the exact commands, e.g.
 *         dataset 'cifar10' not found; looked in: ...
 *           fetch it into DIR, where this run looks for it:
 *               hashlab data fetch cifar10 --root DIR
 *           or let the run fetch it:
 *               hashlab run SUITE --fetch        (or HASHLAB_FETCH=1 hashlab run SUITE)
 *     DIR and SUITE shell-quoted when they need it.
 *   - missing, a dataset hashlab does not download (fashion-mnist: the Debian package dataset-fashion-mnist;
 *     mnist: four files put in place): HL_ENOTFOUND saying where it comes from (with fetch: that --fetch cannot
 *     get it). */
#ifndef HL_LAB_RUN_DATA_H
#define HL_LAB_RUN_DATA_H

#include "core/data/split.h"
#include "lab/progress.h"
#include "lab/suite.h"

hl_status hl_run_data_open(hl_dataset *out, const char *name, const char *data_root, const char *suite_path,
                           bool fetch, bool progress);

/* A suite's image-list dataset (lab/suite_data.h, core/data/lists.h): its image_list folder, or the named set the
 * suite found (looked for again in data_root and the search path when the suite did not find it, for HL_ENOTFOUND's
 * places and source), through the image cache; name: the suite's dataset name. split non-NULL (protocol lists): the
 * lists' own split. labels_only: no image is opened (dry runs). While images are decoded (a cold cache, at least
 * 1,000 images) a progress task "decode NAME" runs on stderr unless mode is HL_PROGRESS_QUIET. */
hl_status hl_run_data_open_lists(hl_dataset *out, hl_split *split, const hl_suite_lists *l, const char *name,
                                 const char *data_root, hl_progress_mode mode, bool labels_only);

#endif
