/* reports/report_html.c — the report as one self-contained HTML5 page (layout in reports/report_html.h). */
#include "reports/report_html.h"

#include <string.h>

#include "core/io/atomic.h"

/* Booktabs-like tables (rules above and below, a thin rule under the header and above each row group, a trimmed
 * rule under each column group, no vertical lines), figures scaled to the page width. */
static const char CSS[] =
    "body { font: 15px/1.5 system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif;\n"
    "       color: #1a1a1a; background: #fff; max-width: 1100px; margin: 2em auto; padding: 0 1.5em; }\n"
    "h1 { font-size: 1.7em; margin: 0 0 .4em; }\n"
    "h2 { font-size: 1.3em; margin: 2.2em 0 .8em; padding-bottom: .2em; border-bottom: 1px solid #ccc; }\n"
    "nav ol { margin: .3em 0; padding-left: 1.5em; }\n"
    "a { color: #0b57d0; }\n"
    "figure { margin: 1.8em 0; }\n"
    ".hl-table { width: fit-content; max-width: 100%; margin: 1.8em auto; overflow-x: auto; }\n"
    ".hl-table table { border-collapse: collapse; margin: 0 auto; border-top: 2px solid #000;\n"
    "                  border-bottom: 2px solid #000; font-variant-numeric: tabular-nums; }\n"
    ".hl-table caption { caption-side: top; text-align: left; padding: 0 0 .6em; }\n"
    ".hl-table th, .hl-table td { border: none; padding: .25em .75em; vertical-align: baseline;\n"
    "                             white-space: nowrap; }\n"
    ".hl-table thead th { font-weight: 600; }\n"
    ".hl-table thead tr:last-child th { border-bottom: 1px solid #000; }\n"
    ".hl-table th.cgroup { text-align: center;\n"
    "                      background: linear-gradient(#000, #000) no-repeat center bottom / calc(100% - 1em) 1px; }\n"
    ".hl-table th[scope=\"row\"], .hl-table thead th:first-child { text-align: left; }\n"
    ".hl-table th[scope=\"row\"] { font-weight: normal; }\n"
    ".hl-table .num { text-align: right; }\n"
    ".hl-table .missing { color: #777; }\n"
    ".hl-table tr.group th { text-align: left; font-style: italic; font-weight: normal; border-top: 1px solid #000;\n"
    "                        padding-top: .45em; }\n"
    ".hl-table sup { font-size: .7em; line-height: 0; }\n"
    ".hl-table figcaption.notes ul { list-style: none; margin: .5em 0 0; padding: 0; font-size: .85em; }\n"
    ".hl-figure { text-align: center; }\n"
    ".hl-figure img { max-width: 100%; height: auto; }\n"
    ".hl-figure figcaption { font-size: .9em; color: #333; margin-top: .4em; }\n"
    "details { margin: .5em 0; }\n"
    "summary { cursor: pointer; }\n"
    "pre { background: #f6f6f6; padding: .8em 1em; overflow-x: auto; font-size: .85em; line-height: 1.4; }\n"
    "@media print { nav { display: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }\n";

static void put_esc(FILE *f, const char *s) {
    if (s) hl_table_html_escape(f, s, strlen(s));
}

/* s as a URL path: bytes other than RFC 3986's unreserved characters and '/' become %XX. */
static void put_url_path(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("-._~/", ch))
            fputc(ch, f);
        else
            fprintf(f, "%%%02X", ch);
    }
}

static bool has_text(const char *s) { return s && *s; }

/* The sections in page order: id, heading, and whether `in` fills it. */
enum { SEC_TABLES, SEC_FIGURES, SEC_EXAMPLES, SEC_SANITY, SEC_SUITE, SEC_VERSIONS, SEC_COUNT };
static const char *const sec_id[SEC_COUNT] = {"tables", "figures", "examples", "sanity", "suite", "versions"};
static const char *const sec_name[SEC_COUNT] = {"Tables",        "Figures", "Adversarial examples",
                                                "Sanity checks", "Suite",   "Versions"};

static bool sec_present(const hl_report_html_in *in, int s) {
    switch (s) {
    case SEC_TABLES: return in->ntables > 0;
    case SEC_FIGURES: return in->nfigures > 0;
    case SEC_EXAMPLES: return in->nexamples > 0;
    case SEC_SANITY: return has_text(in->sanity_md);
    case SEC_SUITE: return has_text(in->suite_yaml);
    default: return has_text(in->versions);
    }
}

static void put_head(FILE *f, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    put_esc(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", CSS);
}

static void put_contents(FILE *f, const hl_report_html_in *in) {
    bool any = false;
    for (int s = 0; s < SEC_COUNT; s++) any |= sec_present(in, s);
    if (!any) return;
    fputs("<nav id=\"contents\" aria-label=\"Contents\">\n<strong>Contents</strong>\n<ol>\n", f);
    for (int s = 0; s < SEC_COUNT; s++)
        if (sec_present(in, s)) fprintf(f, "<li><a href=\"#%s\">%s</a></li>\n", sec_id[s], sec_name[s]);
    fputs("</ol>\n</nav>\n", f);
}

static void put_figures(FILE *f, const hl_report_html_figure *figs, int n) {
    for (int i = 0; i < n; i++) {
        const hl_report_html_figure *g = &figs[i];
        HL_ASSERT(g->file, "figure %d has no file", i);
        fputs("<figure class=\"hl-figure\">\n<img src=\"", f);
        put_url_path(f, g->file);
        fputs("\" alt=\"", f);
        put_esc(f, has_text(g->caption) ? g->caption : g->file);
        fputs("\">\n", f);
        if (has_text(g->caption)) {
            fputs("<figcaption>", f);
            put_esc(f, g->caption);
            fputs("</figcaption>\n", f);
        }
        fputs("</figure>\n", f);
    }
}

/* The sanity text: "#" lines dropped, runs of "- " lines as a <ul>, other runs of non-blank lines as a <p>. */
static void put_sanity(FILE *f, const char *s) {
    enum { NONE, LIST, PARA } state = NONE;
    while (*s) {
        size_t n = strcspn(s, "\n"), len = n;
        if (len && s[len - 1] == '\r') len--;
        size_t lead = strspn(s, " \t");
        bool blank = lead >= len, heading = !blank && s[lead] == '#';
        bool item = !blank && len - lead >= 2 && s[lead] == '-' && s[lead + 1] == ' ';
        if (state == LIST && !item) fputs("</ul>\n", f), state = NONE;
        if (state == PARA && (blank || item || heading)) fputs("</p>\n", f), state = NONE;
        if (item) {
            if (state == NONE) fputs("<ul>\n", f), state = LIST;
            fputs("<li>", f);
            hl_table_html_escape(f, s + lead + 2, len - lead - 2);
            fputs("</li>\n", f);
        } else if (!blank && !heading) {
            fputs(state == NONE ? "<p>" : "\n", f);
            state = PARA;
            hl_table_html_escape(f, s + lead, len - lead);
        }
        s += n + (s[n] == '\n');
    }
    if (state == LIST) fputs("</ul>\n", f);
    if (state == PARA) fputs("</p>\n", f);
}

static void put_details(FILE *f, const char *summary, const char *text) {
    fprintf(f, "<details>\n<summary>%s</summary>\n<pre>", summary);
    put_esc(f, text);
    fputs("</pre>\n</details>\n", f);
}

/* Everything after <body>. */
static hl_status put_body(FILE *f, const hl_report_html_in *in) {
    fputs("<header>\n<h1>", f);
    put_esc(f, in->title ? in->title : "hashlab report");
    fputs("</h1>\n", f);
    if (has_text(in->conventions)) {
        fputs("<p class=\"conventions\">", f);
        put_esc(f, in->conventions);
        fputs("</p>\n", f);
    }
    fputs("</header>\n", f);
    put_contents(f, in);
    fputs("<main>\n", f);
    for (int s = 0; s < SEC_COUNT; s++) {
        if (!sec_present(in, s)) continue;
        fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n", sec_id[s], sec_name[s]);
        switch (s) {
        case SEC_TABLES:
            for (int i = 0; i < in->ntables; i++) {
                hl_status st = hl_table_write_html(in->tables[i], f);
                if (st < 0) return st;
            }
            break;
        case SEC_FIGURES: put_figures(f, in->figures, in->nfigures); break;
        case SEC_EXAMPLES: put_figures(f, in->examples, in->nexamples); break;
        case SEC_SANITY: put_sanity(f, in->sanity_md); break;
        case SEC_SUITE: put_details(f, "The suite as run (resolved)", in->suite_yaml); break;
        default: put_details(f, "hashlab, libraries and compiler", in->versions); break;
        }
        fputs("</section>\n", f);
    }
    fputs("</main>\n</body>\n</html>\n", f);
    return HL_OK;
}

hl_status hl_report_html_write(const char *path, const hl_report_html_in *in) {
    HL_ASSERT(path && in, "hl_report_html_write: NULL argument");
    HL_ASSERT(in->ntables >= 0 && in->nfigures >= 0 && in->nexamples >= 0, "hl_report_html_write: negative count");
    HL_ASSERT((in->tables || !in->ntables) && (in->figures || !in->nfigures) && (in->examples || !in->nexamples),
              "hl_report_html_write: NULL array with a positive count");
    hl_atomic_file af;
    hl_status st = hl_atomic_write_begin(&af, path);
    if (st < 0) return st == HL_ENOMEM ? hl_error_wrap("%s", path) : st; /* the other messages name path */
    put_head(af.f, in->title ? in->title : "hashlab report");
    st = put_body(af.f, in);
    if (st < 0) {
        hl_atomic_write_abort(&af);
        return hl_error_wrap("%s", path);
    }
    return hl_atomic_write_commit(&af); /* checks the stream's error flag: HL_EIO naming path */
}
