/* tests/reports/test_report_html.c — the self-contained report page (reports/report_html.h).
 *
 * report_html: the page's text — doctype and charset, the contents listing exactly the sections present, each table
 * as its exact hl_table_write_html fragment, the figure's percent-encoded src and escaped alt text, the sanity text
 * as paragraphs and list items, the suite and versions in <details><pre>, nothing external; the minimal page; a
 * failing write naming the path.
 * report_html_browser: the same page loaded by a real browser (headless Chromium, if `chromium` or
 * `chromium-browser` is on PATH; otherwise the test is skipped, visibly): the DOM it builds holds both tables
 * (every row the file has: the markup parsed as written), their captions, the data's "<b>" as text, and the img
 * element; the screenshot shows the figure (its magenta pixels, i.e. the relative, percent-encoded src loaded);
 * Chromium's log has no console message, uncaught error or failed load concerning the page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io/image.h"
#include "reports/report_html.h"
#include "test_common.h"

enum { FIG_W = 160, FIG_H = 100 };

static const hl_table_col_opts PCT = {.precision = 2, .percent = true, .better = HL_TABLE_HIGHER};

static const char *SANITY = "## Sanity checks\n\nWarnings raised on attacked models;\na flagged score may overstate "
                            "robustness.\n\n- `itq/32b`: **eps_not_monotone** (4/255 > 8/255)\n"
                            "- `lsh/32b`: **gradient_free_beats_white_box**\n";
static const char *SUITE = "name: demo <x>\nbits: [16, 32]\nattacks: [{method: pgd, eps: 8/255}]\n";

/* Two small tables: clean (a row group, a note) and attacked (a row named with HTML specials). */
static void make_tables(hl_table **t) {
    cr_assert_eq(hl_table_create(&t[0], "Clean retrieval", "mAP@1000 (%), mean ± std over 2 seeds"), HL_OK);
    int g = hl_table_add_col_group(t[0], "16 bits");
    int c = hl_table_add_col(t[0], g, "mAP", PCT);
    int sup = hl_table_add_row_group(t[0], "supervised");
    int r0 = hl_table_add_row(t[0], sup, "DSH"), r1 = hl_table_add_row(t[0], -1, "LSH");
    cr_assert_eq(hl_table_add_samples(t[0], r0, c, (double[]){0.71, 0.73}, 2), HL_OK);
    cr_assert_eq(hl_table_set_note(t[0], r1, c, "diverged"), HL_OK);

    cr_assert_eq(hl_table_create(&t[1], "Under attack: PGD", "mAP@1000 (%) of the adversarial queries"), HL_OK);
    c = hl_table_add_col(t[1], -1, "8/255", (hl_table_col_opts){.precision = 2, .percent = true,
                                                                .better = HL_TABLE_LOWER});
    r0 = hl_table_add_row(t[1], -1, "DSH <b>&\"'");
    r1 = hl_table_add_row(t[1], -1, "ITQ");
    cr_assert_eq(hl_table_add_sample(t[1], r0, c, 0.12), HL_OK);
    cr_assert_eq(hl_table_add_sample(t[1], r1, c, 0.30), HL_OK);
}

/* dir/"fig 1.png" (solid magenta, FIG_W × FIG_H) and dir/report.html with the two tables, that figure, the sanity,
 * suite and versions texts; returns the page's path (heap). */
static char *write_page(const char *dir, hl_table **t) {
    static uint8_t px[FIG_W * FIG_H * 3];
    for (int i = 0; i < FIG_W * FIG_H; i++) px[3 * i] = 255, px[3 * i + 1] = 0, px[3 * i + 2] = 255;
    cr_assert_eq(hl_image_write_png(hl_test_path(dir, "fig 1.png"), px, FIG_W, FIG_H, 3), HL_OK, "%s",
                 hl_error_last());
    make_tables(t);
    const hl_table *tabs[] = {t[0], t[1]};
    hl_report_html_figure figs[] = {{"fig 1.png", "Magenta & co"}};
    hl_report_html_in in = {.title = "hashlab report: demo <x>",
                            .conventions = "mAP@1000; ties by database index; \"zero relevant\" counts as 0.",
                            .tables = tabs,
                            .ntables = 2,
                            .figures = figs,
                            .nfigures = 1,
                            .sanity_md = SANITY,
                            .suite_yaml = SUITE,
                            .versions = "hashlab 0.1.0\nOpenBLAS 0.3.21\n"};
    char *path = hl_test_path_alloc(dir, "report.html");
    cr_assert_eq(hl_report_html_write(path, &in), HL_OK, "%s", hl_error_last());
    return path;
}

static char *read_text(const char *path) {
    size_t n;
    return (char *)hl_test_read_file(path, &n);
}

static int count(const char *s, const char *what) {
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

Test(report_html, page_text) {
    const char *dir = hl_test_tmpdir();
    hl_table *t[2];
    char *path = write_page(dir, t);
    char *s = read_text(path);
    const char *start = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    cr_assert(strncmp(s, start, strlen(start)) == 0, "page start:\n%.200s", s);
    size_t len = strlen(s);
    cr_assert(len > 8 && strcmp(s + len - 8, "</html>\n") == 0, "page end");
    cr_assert(strstr(s, "<title>hashlab report: demo &lt;x&gt;</title>"));
    cr_assert(strstr(s, "<h1>hashlab report: demo &lt;x&gt;</h1>"));
    cr_assert(strstr(s, "<p class=\"conventions\">mAP@1000; ties by database index; &quot;zero relevant&quot; counts "
                        "as 0.</p>"));
    /* contents: the sections present, in order, and no examples section */
    cr_assert(strstr(s, "<ol>\n<li><a href=\"#tables\">Tables</a></li>\n<li><a href=\"#figures\">Figures</a></li>\n"
                        "<li><a href=\"#sanity\">Sanity checks</a></li>\n<li><a href=\"#suite\">Suite</a></li>\n"
                        "<li><a href=\"#versions\">Versions</a></li>\n</ol>"),
              "contents:\n%s", s);
    const char *ids[] = {"tables", "figures", "sanity", "suite", "versions"};
    for (size_t i = 0; i < HL_ARRAY_LEN(ids); i++) {
        char want[64];
        snprintf(want, sizeof want, "<section id=\"%s\">\n<h2>", ids[i]);
        cr_assert_eq(count(s, want), 1, "section %s", ids[i]);
    }
    cr_assert_null(strstr(s, "id=\"examples\""));
    /* both tables, exactly as the table writer writes them */
    for (int i = 0; i < 2; i++) {
        char *frag;
        cr_assert_eq(hl_table_to_string(t[i], HL_TABLE_HTML, &frag), HL_OK);
        cr_assert(strstr(s, frag), "table %d not in the page:\n%s", i, frag);
        free(frag);
    }
    cr_assert_eq(count(s, "<figure class=\"hl-table\">"), 2);
    cr_assert(strstr(s, "<figure class=\"hl-figure\">\n<img src=\"fig%201.png\" alt=\"Magenta &amp; co\">\n"
                        "<figcaption>Magenta &amp; co</figcaption>\n</figure>"));
    /* sanity: the heading line left out, a paragraph, a list */
    cr_assert(strstr(s, "<h2>Sanity checks</h2>\n<p>Warnings raised on attacked models;\na flagged score may overstate "
                        "robustness.</p>\n<ul>\n<li>`itq/32b`: **eps_not_monotone** (4/255 &gt; 8/255)</li>\n"
                        "<li>`lsh/32b`: **gradient_free_beats_white_box**</li>\n</ul>\n</section>"),
              "sanity:\n%s", s);
    cr_assert_null(strstr(s, "## Sanity"));
    cr_assert(strstr(s, "<pre>name: demo &lt;x&gt;\nbits: [16, 32]\nattacks: [{method: pgd, eps: 8/255}]\n</pre>"));
    cr_assert(strstr(s, "<pre>hashlab 0.1.0\nOpenBLAS 0.3.21\n</pre>"));
    /* self-contained: one inline style, no scripts, no external resources */
    cr_assert_eq(count(s, "<style>"), 1);
    cr_assert_null(strstr(s, "<script"));
    cr_assert_null(strstr(s, "<link"));
    cr_assert_null(strstr(s, "http:"));
    cr_assert_null(strstr(s, "https:"));
    cr_assert_null(strstr(s, "url("));
    cr_assert_null(strstr(s, "<b>"), "data's <b> unescaped");
    free(s);
    free(path);
    hl_table_free(t[0]);
    hl_table_free(t[1]);
}

Test(report_html, minimal_page_and_errors) {
    const char *dir = hl_test_tmpdir();
    const char *path = hl_test_path(dir, "empty.html");
    hl_report_html_in in = {0};
    cr_assert_eq(hl_report_html_write(path, &in), HL_OK, "%s", hl_error_last());
    char *s = read_text(path);
    cr_assert(strstr(s, "<title>hashlab report</title>") && strstr(s, "<h1>hashlab report</h1>"));
    cr_assert_null(strstr(s, "<nav"), "no contents without sections");
    cr_assert_null(strstr(s, "<section"));
    cr_assert(strstr(s, "<main>\n</main>\n</body>\n</html>\n"));
    free(s);

    /* blank texts and a figure without a caption: alt falls back to the file name; sanity of headings only */
    hl_report_html_figure ex[] = {{"grids/ex 32b#1.png", NULL}};
    in = (hl_report_html_in){.examples = ex, .nexamples = 1, .sanity_md = "# only a heading\n", .suite_yaml = ""};
    cr_assert_eq(hl_report_html_write(path, &in), HL_OK, "%s", hl_error_last());
    s = read_text(path);
    cr_assert(strstr(s, "<li><a href=\"#examples\">Adversarial examples</a></li>\n<li><a href=\"#sanity\">"), "%s",
              s);
    cr_assert_null(strstr(s, "#suite"), "an empty suite text is no section");
    cr_assert(strstr(s, "<img src=\"grids/ex%2032b%231.png\" alt=\"grids/ex 32b#1.png\">\n</figure>"), "%s", s);
    cr_assert(strstr(s, "<h2>Sanity checks</h2>\n</section>"), "%s", s);
    free(s);

    cr_assert_eq(hl_report_html_write("/nonexistent-dir/report.html", &in), HL_EIO);
    cr_assert(strstr(hl_error_last(), "/nonexistent-dir/report.html"), "message names the path: %s",
              hl_error_last());
}

/* ---- the browser ---- */

/* The first of `chromium`, `chromium-browser` that is an executable file on PATH, into buf; false if none. */
static bool find_chromium(char *buf, size_t n) {
    const char *names[] = {"chromium", "chromium-browser"};
    const char *path = getenv("PATH");
    for (size_t k = 0; k < HL_ARRAY_LEN(names) && path; k++)
        for (const char *p = path; *p;) {
            size_t len = strcspn(p, ":");
            snprintf(buf, n, "%.*s/%s", (int)len, p, names[k]);
            struct stat st;
            if (len && stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return true;
            p += len + (p[len] == ':');
        }
    return false;
}

/* "file://" + the absolute path, percent-encoded as the page encodes its src. */
static void file_url(const char *path, char *buf, size_t n) {
    size_t j = (size_t)snprintf(buf, n, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p && j + 4 < n; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
            buf[j++] = (char)*p;
        else
            j += (size_t)snprintf(buf + j, n - j, "%%%02X", *p);
    }
    buf[j] = '\0';
    cr_assert(j + 4 < n, "path too long");
}

/* Runs headless Chromium on url with `args` (stdout to out, stderr to err), a private profile under dir, 60 s at
 * most; fails the test on a non-zero exit. */
static void run_chromium(const char *exe, const char *dir, const char *args, const char *url, const char *out,
                         const char *err) {
    char cmd[8192];
    cr_assert(!strchr(dir, '\'') && !strchr(url, '\''), "quote in the temporary path");
    snprintf(cmd, sizeof cmd,
             "XDG_CONFIG_HOME='%s/xdg' XDG_CACHE_HOME='%s/xdg' timeout 60 '%s' --headless --no-sandbox "
             "--disable-gpu --user-data-dir='%s/chromium-profile' --enable-logging=stderr --log-level=0 %s '%s' "
             ">'%s' 2>'%s'",
             dir, dir, exe, dir, args, url, out, err);
    int rc = system(cmd);
    cr_assert(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "chromium failed (%d; 124 = timed out): %s\n%s",
              WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, cmd, read_text(err));
}

/* Fails on a log line about the page: any console message from it, an uncaught error, a failed page load, or an
 * ERROR line naming the page's directory. Chromium's own noise (dbus, GPU, sandbox warnings) passes. */
static void check_log(const char *err_path, const char *dir) {
    char *log = read_text(err_path);
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        bool about_page = strstr(line, dir) != NULL;
        cr_assert(!strstr(line, "Uncaught"), "uncaught error: %s", line);
        cr_assert(!strstr(line, "Page load failed") && !strstr(line, "Failed to load"), "load failed: %s", line);
        cr_assert(!(about_page && (strstr(line, ":CONSOLE") || strstr(line, "ERROR:"))), "about the page: %s", line);
    }
    free(log);
}

Test(report_html_browser, chromium_renders_page) {
    char exe[4096];
    if (!find_chromium(exe, sizeof exe)) {
        fprintf(stderr, "SKIPPED: report_html_browser: no chromium or chromium-browser on PATH "
                        "(scripts/install-deps.sh --bench installs it)\n");
        cr_skip_test("no chromium or chromium-browser on PATH");
    }
    const char *dir = hl_test_tmpdir();
    hl_table *t[2];
    char *page = write_page(dir, t), url[4096];
    file_url(page, url, sizeof url);
    char *dom_path = hl_test_path_alloc(dir, "dom.html"), *err1 = hl_test_path_alloc(dir, "dom.err");
    char *shot = hl_test_path_alloc(dir, "shot.png"), *err2 = hl_test_path_alloc(dir, "shot.err");
    char *out2 = hl_test_path_alloc(dir, "shot.out");

    /* the DOM */
    run_chromium(exe, dir, "--dump-dom", url, dom_path, err1);
    check_log(err1, dir);
    char *dom = read_text(dom_path), *file = read_text(page);
    cr_assert(strstr(dom, "</html>"), "empty DOM (page not loaded?):\n%s", dom);
    cr_assert_eq(count(dom, "<table>"), 2, "tables in the DOM:\n%s", dom);
    cr_assert_eq(count(dom, "<tr"), count(file, "<tr"), "the browser restructured the rows:\n%s", dom);
    cr_assert_eq(count(dom, "<td"), count(file, "<td"), "the browser restructured the cells:\n%s", dom);
    /* captions (the DOM serialiser escapes & < > in text, not quotes) */
    cr_assert(strstr(dom, "<caption><strong>Clean retrieval</strong>. mAP@1000 (%), mean ± std over 2 seeds"
                          "</caption>"), "%s", dom);
    cr_assert(strstr(dom, "<caption><strong>Under attack: PGD</strong>. mAP@1000 (%) of the adversarial queries"
                          "</caption>"), "%s", dom);
    cr_assert(strstr(dom, "<th scope=\"row\">DSH &lt;b&gt;&amp;\"'</th>"), "the data's <b> is text:\n%s", dom);
    cr_assert_null(strstr(dom, "<b>"));
    cr_assert(strstr(dom, "<img src=\"fig%201.png\" alt=\"Magenta &amp; co\">"), "%s", dom);
    cr_assert_null(strstr(dom, "<script"));

    /* the screenshot: the figure is drawn at its natural size */
    char args[4200];
    snprintf(args, sizeof args, "--hide-scrollbars --force-color-profile=srgb --window-size=1200,2000 "
                                "--screenshot='%s'", shot);
    run_chromium(exe, dir, args, url, out2, err2);
    check_log(err2, dir);
    struct stat st;
    cr_assert_eq(stat(shot, &st), 0, "no screenshot %s", shot);
    cr_assert_gt(st.st_size, 10000, "screenshot of %lld bytes", (long long)st.st_size);
    hl_image im;
    cr_assert_eq(hl_image_load(&im, shot, 3), HL_OK, "%s", hl_error_last());
    cr_assert(im.w == 1200 && im.h == 2000, "screenshot %dx%d", im.w, im.h);
    long magenta = 0;
    for (long i = 0; i < (long)im.w * im.h; i++) {
        const uint8_t *p = &im.px[3 * i];
        magenta += p[0] >= 250 && p[1] <= 5 && p[2] >= 250;
    }
    cr_assert(magenta >= FIG_W * FIG_H * 9 / 10 && magenta <= FIG_W * FIG_H * 11 / 10,
              "%ld magenta pixels on screen, the figure has %d: the image did not load or is scaled", magenta,
              FIG_W * FIG_H);
    hl_image_free(&im);

    free(dom);
    free(file);
    free(page);
    free(dom_path);
    free(err1);
    free(shot);
    free(err2);
    free(out2);
    hl_table_free(t[0]);
    hl_table_free(t[1]);
}
