/* reports/report_internal.h — shared between reports/report.c (reading cells, tables, mAP figures) and
 * reports/report_figures.c (PR curves, adversarial example grids). Not a public API: use reports/report.h. */
#ifndef HL_REPORTS_REPORT_INTERNAL_H
#define HL_REPORTS_REPORT_INTERNAL_H

#include <stddef.h>

#include "core/common.h"
#include "core/config.h"
#include "reports/plot.h"
#include "reports/table.h"

/* One parsed RUNDIR/cells/KEY/result.json; strings are borrowed from root. */
typedef struct hl_report_cell {
    hl_config *root;
    const hl_config *metrics; /* NULL when absent */
    bool attack, done;
    bool transfer;              /* a transfer cell (kept apart from train and attack cells: hl_report_cells.x) */
    const char *method, *error, *attack_name, *norm, *eps_text;
    const char *target_method;  /* transfer cells: the model that scored the images */
    int64_t target_bits;
    int64_t bits, seed;
    double eps; /* NAN when eps_text is not a number or fraction */
    char *dir;  /* heap: RUNDIR/cells/KEY */
    double clean_attacked;  /* train cells: the clean score over the attacked queries only (the mean of its
                             * per_query.csv's AP at the attacked query positions); NaN when unknown */
    char *flags, *evidence; /* heap: the attack cell's sanity flags (its own and across cells, reports/sanity.h) and
                             * the cross-cell evidence; NULL when it raised none */
} hl_report_cell;

typedef struct hl_report_cells {
    hl_report_cell *c;
    int n, cap;
    int64_t attacked_queries; /* how many queries the attack cells attack (0: none; -1: they differ) */
} hl_report_cells;

/* ---- shared by the table builders (report.c, report_attack.c, report_transfer.c) ---- */

/* Conventions sentence and seed count for a caption: lead, where (dataset, protocol), ties, zero-relevant, tail. */
void hl_report_caption(const hl_report_cells *cs, bool attack, const char *lead, const char *tail, char *buf,
                       size_t n);
/* A scalar at a dotted path of a result tree, or dflt. */
const char *hl_report_str(const hl_config *map, const char *path, const char *dflt);

/* ---- what the report adds to the cells it read (reports/report_annotate.c) ---- */
/* Like for like: every train cell's clean score over exactly the attacked queries (the mean of its per_query.csv's
 * AP at the attack cells' query positions) into c->clean_attacked (NaN when unknown), and cs->attacked_queries. */
hl_status hl_report_clean_over_attacked(hl_report_cells *cs);
/* The sanity flags of every done attack cell (its own and across cells, reports/sanity.h) into c->flags and
 * c->evidence. */
hl_status hl_report_sanity_flags(hl_report_cells *cs);
/* tables.md's "Sanity checks" section (heap), NULL when no cell raised a flag. */
hl_status hl_report_sanity_md(const hl_report_cells *cs, char **out);

/* ", DATASET (PROTOCOL)" when every cell agrees (for figure titles), else "". */
void hl_report_where(const hl_report_cells *cs, char *buf, size_t n);
/* Metric `name` of a done cell; false when absent or not a number. */
bool hl_report_metric(const hl_report_cell *c, const char *name, double *v);
/* One row per distinct method of the cells of one kind (and bits, when bits > 0), sorted. */
hl_status hl_report_add_method_rows(hl_table *t, const hl_report_cells *cs, bool attack, int64_t bits);
/* Feeds metric `name` of cell c to (row, col) as a sample, or its failure to the cell's note. */
hl_status hl_report_feed(hl_table *t, int row, int col, const hl_report_cell *c, const char *name);
/* Appends "seed S <what>: <text>" to the note of (row, col). */
hl_status hl_report_note(hl_table *t, int row, int col, const hl_report_cell *c, const char *what, const char *text);
/* hl_report_feed for a headline column (the attack's score): a cell with sanity flags also gets the note
 * "seed S sanity: FLAGS", a footnote mark pointing at the report's "Sanity checks" section. */
hl_status hl_report_feed_headline(hl_table *t, int row, int col, const hl_report_cell *c, const char *name);

/* "mAP@1000" / "P@H<=2" of a cell's conventions. */
typedef struct hl_report_topk_names {
    char map[64], prec[64];
} hl_report_topk_names;
void hl_report_metric_names(const hl_report_cell *c, hl_report_topk_names *nm);

extern const hl_table_col_opts hl_report_pct_hi, hl_report_pct_lo, hl_report_plain2;

/* An attack setting (attack name, norm, ε) at one bit length: a column group of the attack tables. */
#define HL_REPORT_MAX_SETTINGS 64 /* attack settings per bit length (more are left out) */
typedef struct hl_report_setting {
    const char *attack, *norm, *eps_text;
    double eps;
    bool targeted;
    int group;
    double spq_min; /* smallest positive seconds_per_query of the setting's cells (0: none) */
} hl_report_setting;

/* ---- figures from tables (reports/report_sweep.c) ---- */
/* Line chart of column cols[j] at x[j] (labels xl) for every row of t: mean in the table's unit, ± std bars with two
 * or more seeds; nothing drawn (*drawn false) when no point is finite. Writes DIR/STEM.{png,pdf}. */
hl_status hl_report_plot_table(const hl_table *t, const int *cols, const double *x, const char *const *xl, int nx,
                               hl_plot_spec *spec, const char *dir, const char *stem, int *figures, bool *drawn);
/* mAP vs ε of one attack (settings set[0..n) at `bits`), from ε = 0 (clean over the attacked queries). */
hl_status hl_report_sweep_figure(const hl_report_cells *cs, int64_t bits, const hl_report_setting *set, int n,
                                 const char *map_name, const char *where, const char *dir, const char *stem,
                                 int *figures, bool *drawn);

/* Attack table of one bit length; fills set[0..*nset) with its settings (sorted), each with its column group. */
hl_status hl_report_attack_table(const hl_report_cells *cs, int64_t bits, const char *map_name, hl_table **out,
                                 hl_report_setting *set, int *nset);
/* Perceptibility and cost of each setting at one bit length (not ranked). */
hl_status hl_report_percept_table(const hl_report_cells *cs, int64_t bits, const hl_report_setting *set, int ns,
                                  hl_table **out);
/* Targeted attacks of one bit length: t-mAP floor, adv, float, ceiling, TSRs, passes. */
hl_status hl_report_targeted_table(const hl_report_cells *cs, int64_t bits, const hl_report_setting *set, int ns,
                                   hl_table **out);
/* The paper table: clean and, per setting common to every bit length, mAP(adv) or t-mAP; *out NULL when none. */
hl_status hl_report_summary_table(const hl_report_cells *cs, const char *map_name, const int64_t *abits, int nab,
                                  hl_report_setting (*sets)[HL_REPORT_MAX_SETTINGS], const int *nsets,
                                  hl_table **out);

/* Ranking at one bit length, when it has more than one untargeted attack at its headline threat (the `auto` ensemble's,
 * else the norm and ε most of its untargeted settings share): the victims sorted by their worst case (per seed, the
 * lowest score over those attacks; mean over seeds), with rank, clean score over the attacked queries, worst case
 * and relative drop. *out NULL when there is nothing to rank. */
hl_status hl_report_rank_table(const hl_report_cells *cs, int64_t bits, const char *map_name,
                               const hl_report_setting *set, int ns, hl_table **out);

/* The defence table at one bit length and its clean-vs-worst-case scatter figure figdir/defence_scatter_<bits>b.{png,pdf}
 * (reports/report_defence.c has the columns); *out NULL when no train cell at that length holds a defended model. */
hl_status hl_report_defence_table(const hl_report_cells *cs, int64_t bits, const char *map_name,
                                  const hl_report_setting *set, int ns, const char *where, const char *figdir,
                                  int *figures, hl_table **out);

/* Transfer matrices from the transfer cells xs: for every transferred attack setting (attack name, norm, ε), a table
 * "Transfer: ATTACK" with one row per source model (the attack's victim) and one column per target model (the model
 * that scores the source's 8-bit adversarial images), values mAP@R of the adversarial queries in % (map_name); for a
 * targeted attack a second table of t-mAP@all. Model names carry their bit length ("dpsh 32b"). Means over seeds;
 * no best marking (the diagonal is the white-box attack). Appends up to max − *n tables to out (csv file names to
 * csv); the caller frees them. */
hl_status hl_report_transfer_tables(const hl_report_cells *xs, const char *map_name, hl_table **out, char (*csv)[96],
                                    int max, int *n);

/* Writes `spec` as DIR/STEM.png and DIR/STEM.pdf; adds the files written to *figures. */
hl_status hl_report_plot_both(const char *dir, const char *stem, const hl_plot_spec *spec, int *figures);

/* s with every byte outside [A-Za-z0-9-] replaced by '_', into out (truncated to n - 1 bytes). */
void hl_report_safe_name(const char *s, char *out, size_t n);

/* PR curves: for every bit length with at least one done train cell holding "pr_radius", DIR/pr_<bits>b.{png,pdf}:
 * precision (y) against recall (x) by Hamming radius r = 0..K, one series per method (sorted; at most
 * HL_PLOT_MAX_SERIES), each point the element-wise mean over the seeds that have a finite value at that radius
 * (a JSON null counts as missing; an index nobody has breaks the line). Cells without pr_radius (older runs) are
 * skipped. A pr_radius that is not {"precision": [numbers], "recall": [numbers]} with equal, non-zero lengths is
 * HL_EFORMAT naming the file and position. */
hl_status hl_report_pr_figures(const hl_report_cells *cs, const char *dir, int *figures);

/* Citations (reports/report_cite.c): the keys per method or attack name ("dpsh" -> "li2016dpsh"). */
#define HL_REPORT_MAX_CITED 64
typedef struct hl_report_citekeys {
    char name[HL_REPORT_MAX_CITED][96];
    char keys[HL_REPORT_MAX_CITED][256]; /* comma-separated BibTeX keys */
    int n;
} hl_report_citekeys;
/* Writes the BibTeX entries the done cells of cs carry (result.json "cite") once each to path (atomically; nothing
 * when none, *written 0) and fills ck (may be NULL) with each method's and attack's keys. */
hl_status hl_report_bib(const hl_report_cells *cs, const char *path, hl_report_citekeys *ck, int *written);

/* The raw LaTeX " Methods: name~\\cite{keys}, ..." for the methods and attacks table t shows (its rows, row and
 * column groups named "ATTACK, ..." and summary columns "ATTACK ..."), set as t's LaTeX citation. */
hl_status hl_report_cite_table(hl_table *t, const hl_report_citekeys *ck);
/* report/index.html (reports/report_page.c): tabs[0..nt), the *.png in dir and dir/examples, the sanity section, the
 * run's suite.yaml and versions. */
hl_status hl_report_page(const char *rundir, const char *dir, const hl_report_cells *cs, const hl_table *const *tabs,
                         int nt, const char *map_name, const char *sanity);

/* report/results.csv (reports/report_tidy.c): every metric of every done cell of cs and xs (transfer), one row per
 * (cell, metric), plus per-class rows from the per-query files; suite is the suite's name. Written atomically. */
hl_status hl_report_results_csv(const hl_report_cells *cs, const hl_report_cells *xs, const char *suite,
                                const char *path);

/* Attack traces (reports/report_trace.c): per attack setting with traces, DIR/trace_*.{png,pdf} (mean objective per
 * scoring) and DIR/improved_*.{png,pdf} (share of queries improved), one series per method. */
hl_status hl_report_trace_figures(const hl_report_cells *cs, const char *dir, int *figures);

/* Adversarial example grids: for every (method, bits, attack, norm, ε) of the done attack cells, copies the
 * adv_examples.png of the lowest-seed cell that has one to DIR/examples/<method>_<bits>b_<attack>_<norm>_<eps>.png
 * (eps "8/255" -> "8-255"; other names through hl_report_safe_name), atomically, creating DIR/examples when needed.
 * *md receives (heap, caller frees) the Markdown section listing them ("## Adversarial examples", a one-line
 * explanation, one image link per grid, sorted by method, bits, attack, norm, ε), or NULL when there is none.
 * *copied counts the files copied. Errors: HL_EIO (cannot read, create the folder or write), HL_ENOMEM. */
hl_status hl_report_examples(const hl_report_cells *cs, const char *dir, char **md, int *copied);

#endif
