/* reports/report_html.h — the report as one self-contained HTML5 page, written next to the figures it shows.
 *
 *     const hl_table *tabs[] = {clean, attack32};
 *     hl_report_html_figure figs[] = {{"map_vs_bits.png", "Clean mAP vs code length"}};
 *     hl_report_html_in in = {.title = "hashlab report: fashion_robust", .conventions = "mAP@1000, ties by index…",
 *                             .tables = tabs, .ntables = 2, .figures = figs, .nfigures = 1};
 *     HL_TRY(hl_report_html_write("RUNDIR/report/index.html", &in));
 *
 * The page, in order: <!DOCTYPE html>, <html lang="en">, a <head> with <meta charset="utf-8">, a viewport <meta>,
 * <title> and one inline <style> (booktabs-like tables: rules above and below the table and under the header, no
 * vertical lines, numbers right-aligned with tabular figures); then <h1> title, the conventions as a <p>, a
 * <nav id="contents"> listing the sections present, and the sections, each a <section id="…"> with an <h2>:
 *   tables   "Tables"                each table's hl_table_write_html fragment, in the order given;
 *   figures  "Figures"               <figure class="hl-figure"><img src="FILE" alt="CAPTION"><figcaption>;
 *   examples "Adversarial examples"  the same, for the example grids;
 *   sanity   "Sanity checks"         sanity_md line by line: lines starting with "#" (Markdown headings) are
 *                                    left out, the page has its own heading; consecutive lines starting with "- "
 *                                    form a <ul> of <li> (the "- " removed); other non-blank lines form <p>
 *                                    paragraphs, a blank line ending one. No other Markdown is interpreted: `code`
 *                                    and **bold** show as written;
 *   suite    "Suite"                 <details><summary>…</summary><pre>suite_yaml</pre></details>;
 *   versions "Versions"              the same for versions.
 * A section is present when it has content: ntables > 0, nfigures > 0, nexamples > 0, or a non-NULL, non-empty
 * text. No scripts and no external resources: the images are relative links (FILE percent-encoded as a URL path:
 * bytes other than A-Z a-z 0-9 - . _ ~ / become %XX), so the page shows them when it lies in their directory.
 * An image's alt text is its caption, or its file name when the caption is NULL or empty. Every text from `in` is
 * HTML-escaped (& < > " ' as in the table writer); titles and captions may be NULL (""). The output ends in '\n'.
 */
#ifndef HL_REPORTS_REPORT_HTML_H
#define HL_REPORTS_REPORT_HTML_H

#include "core/common.h"
#include "reports/table.h"

typedef struct hl_report_html_figure {
    const char *file;    /* relative to the page, e.g. "pr_32b.png" (not NULL) */
    const char *caption; /* NULL or plain text */
} hl_report_html_figure;

typedef struct hl_report_html_in {
    const char *title;       /* e.g. "hashlab report: fashion_robust"; NULL = "hashlab report" */
    const char *conventions; /* NULL or a paragraph of plain text */
    const hl_table *const *tables;
    int ntables;
    const hl_report_html_figure *figures;
    int nfigures;
    const hl_report_html_figure *examples; /* adversarial example grids */
    int nexamples;
    const char *sanity_md;  /* NULL or Markdown-ish text (above) */
    const char *suite_yaml; /* NULL or the resolved suite text */
    const char *versions;   /* NULL or plain text (hashlab version, BLAS, compiler) */
} hl_report_html_in;

/* Writes the page atomically to path (core/io/atomic.h: path holds the old file or the complete new one).
 * HL_EIO (cannot create, write or rename) or HL_ENOMEM, with a message naming path. Negative counts, or a NULL
 * array with a positive count, are programming errors (HL_ASSERT). */
hl_status hl_report_html_write(const char *path, const hl_report_html_in *in);

#endif
