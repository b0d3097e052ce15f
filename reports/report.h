/* reports/report.h — building a report from a run directory, which is the ONLY thing reports read: any report can be
 * rebuilt (`hashlab report RUNDIR`) without re-running anything.
 *
 * ---- The results store (written by lab/runner.c, read here) ------------------------------------------------------
 *
 *   RUNDIR/suite.yaml               copy of the suite as run
 *   RUNDIR/suite.resolved.json      the resolved suite (canonical JSON)
 *   RUNDIR/split/manifest.json      split manifest (core/data/split.h), written once
 *   RUNDIR/artifacts/               protocol artifacts shared by every attack: attack_queries.npy (int64 positions
 *                                   in the query list), target_labels.npy (uint8 [m, L] multi-hot target label set
 *                                   per attacked query), anchor_indices.npy (int64 [m, 9] DHTA anchor positions in
 *                                   the database list, −1 = none); eval/targets.h defines how they are drawn
 *   RUNDIR/cells/KEY/result.json    one per finished or failed cell (KEY = 64-hex cell key, lab/suite.h)
 *   RUNDIR/cells/KEY/...            cell files: model.safetensors, db_codes.npy, query_codes.npy, per_query.csv,
 *                                   adv_examples.png, adv_codes.npy, adv_images.npy, ...
 *   RUNDIR/cells/KEY/per_query.csv  one row per query, AP@R as in metrics (%.9g; "nan" for a query skipped under
 *                                   zero_relevant = skip), written atomically; query = position in the query list
 *                                   (split order), index = dataset index, then the AP columns, then labels (the
 *                                   query's label names joined by '|'). Header:
 *                                     train cells:  query,index,ap,labels
 *                                     attack cells: query,index,ap_clean,ap_adv[,tap_adv][,winner,ap_M...],labels
 *                                                   (the attacked subset, m rows; tap_adv: targeted AP, targeted
 *                                                   attacks; winner and one ap_/tap_ column per member: the auto
 *                                                   ensemble)
 *                                   The mean of a column is the cell's mAP@R (clean: "mAP@R(clean)") under "count".
 *   RUNDIR/cells/KEY/adv_images.npy attack cells: ALL adversarial images of the attacked subset, 8-bit lossless:
 *                                   uint8 [m, c, h, w] = round(x·255) of the quantised images, rows in the order of
 *                                   per_query.csv (artifacts/attack_queries.npy).
 *   RUNDIR/log.txt                  the run log
 *   RUNDIR/report/                  this module's output: tables.{md,tex,json}, tables_*.csv, results.csv (tidy:
 *                                   one row per cell and metric, per-class rows), methods.bib, index.html (one
 *                                   page with everything), *.png, *.pdf, examples/
 *
 * result.json is canonical JSON (core/config.h hl_config_canonical_json: sorted keys, no whitespace) of:
 *   {
 *     "kind": "train" | "attack",
 *     "status": "done" | "failed",
 *     "error": "message"                    (failed only)
 *     "key": "<64 hex>", "label": "lsh/32b/seed0[/noise]",
 *     "method": "lsh", "bits": 32, "seed": 0,
 *     "hasher_params": {...resolved...},
 *     "dataset": "fashion-mnist", "protocol": "cifar10", "split_hash": "<hex>",
 *     "queries": 1000, "database": 64000,
 *     "conventions": {"topk": "1000" | "all", "radius": 2, "ties": "index", "zero_relevant": "count"},
 *     "metrics": {                          (done only; names as in docs/METRICS.md)
 *        train cells:  "mAP@1000" (or "mAP@all"), "P@H<=2", "R@H<=2", "mean_tie_bucket"
 *        attack cells: the same names computed on the adversarial queries, plus "mAP@1000(clean)" for the same
 *                      query subset, and "pert_rmse", "linf_255", "psnr", "ssim" (on the 8-bit quantised images);
 *                      targeted attacks add "t-mAP@all", "t-mAP@all(clean)", "t-mAP@all(float)",
 *                      "t-mAP@all(anchor)", "TSR@H<=0", "TSR@H<=2", "TSR@10-maj", "TSR@100-maj"; every attack cell
 *                      also "mAP@R(float)", "perceptibility", "forwards_per_query", "backwards_per_query",
 *                      "zero_grad_fraction" and "seconds_per_query" = timings.attack_s / m (a timing: differs between
 *                      runs); docs/METRICS.md defines them all
 *     },
 *     "sanity": {"flags": [...], evidence}  (attack cells: lab/sanity.h, docs/sanity.md)
 *     "ensemble": {"version", "members": [...]}   (the auto attack: attacks/auto.h)
 *     "trace": {"loss": [...], "improved": [...]} (iterative attacks)
 *     "cite": "BibTeX"                      (the class's citation, when it has one)
 *     "defence": {...resolved defence entry} (train, defended models: defences/defence.h), "defence_cite": "BibTeX"
 *     "fit_cost": {"seconds", "forwards_per_image", "backwards_per_image"[, "inner_forwards_per_image"]}
 *                                           (train, trainable hashers: network passes per training image)
 *     "sanity": {"flags": [...], "codes": {...}}   (train: the database codes' checks, lab/sanity.h)
 *     "reference": "centre" | "mainstay"    (attack cells of HL_ATTACK_REFERENCE attacks: what they push away from)
 *     "attack_kind": "gradient" | "gradient-free" | "ensemble" | "baseline" | "fitted"   (attack cells)
 *     "pr_radius": {"precision": [K+1], "recall": [K+1]}   (train cells: eval/retrieval.h hl_retrieval_pr_radius,
 *                      mean over the split's queries, entry r = the ball d <= r, r = 0..K with K = bits; recall is
 *                      non-decreasing in r and recall[K] = fraction of queries with a relevant database item)
 *     "attack": "noise", "attack_config": {...resolved entry: norm, eps "8/255", steps, ...},
 *     "train_key": "<hex>",                  (attack cells)
 *     "eps": "8/255", "norm": "linf",        (attack cells: ε as the suite wrote it — "48/255", "0.031" — where
 *                      attack_config has the canonical "16/85", "31/1000"; the report shows one spelling per value)
 *     "timings": {"fit_s": 1.2, "encode_s": 0.3, "attack_s": 0.0, "score_s": 0.1, "total_s": 1.9},
 *                      (total_s: the cell's wall clock, loading and saving included; the runner's suite ETA uses it)
 *     "versions": {"hashlab": "0.1.0"},
 *     "threads": 2, "finished_at": "2026-11-23T14:00:00Z",
 *     "device": "cpu"                        (cpu | cuda | shadow: where it ran; not in the key)
 *   }
 * Numbers are JSON numbers; the integer-valued ones (bits, seed, queries) are integers.
 *
 * ---- The report ---------------------------------------------------------------------------------------------------
 * Tables (reports/table.h), mean ± std over seeds, best in bold, the conventions in the caption:
 *   clean:   rows = methods, column groups = bits, columns = mAP@R, P@H≤r
 *   attacks: rows = methods, column groups = attack (method, norm, ε), columns = mAP@R(clean), mAP@R(adv),
 *            perceptibility (PSNR, linf_255) [and t-mAP / TSR for targeted attacks]; one table per bit length
 * Figures (reports/plot.h): mAP@R vs bits per method (clean), and mAP@R(adv) vs ε per method when a suite has
 * several ε for one attack; adversarial example grids are copied/linked from the cells (adv_examples.png).
 * Failed cells appear as missing cells with their error as a footnote.
 */
#ifndef HL_REPORT_H
#define HL_REPORT_H

#include "core/common.h"

typedef struct hl_report_summary {
    int64_t cells_done, cells_failed; /* result.json files read */
    int64_t cells_stale;              /* results in cells/ left out: not cells of the suite as last run (plan.json) */
    bool no_plan;                     /* the directory has no plan.json (older hashlab): every result was used */
    int tables, figures;              /* files written */
} hl_report_summary;

/* Reads RUNDIR/cells/ * /result.json of the cells in RUNDIR/plan.json (reports/plan.h; every result when there is
 * no plan) and writes RUNDIR/report/; tables.md ends with a "Left out" section counting the stale results. formats: NULL = all of md, tex, csv, json.
 * A malformed result.json is an error naming the file and the position. */
hl_status hl_report_build(const char *rundir, const char *const *formats, int nformats, hl_report_summary *out);

#endif
