/* tests/lab/test_score.c — `hashlab score` end to end on small .npy files: hand-worked metrics in JSON and table
 * form, label-count harmonisation, packed codes, every error (exit 1) and usage (exit 2) case. Calls hl_cmd_score
 * directly with stdout/stderr redirected to files; one test runs the built binary. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io/npy.h"
#include "lab/commands.h"
#include "test_common.h"

static const char *dir;
static char out_text[16384], err_text[16384];

static const char *P(const char *name) {
    static char bufs[16][512];
    static int k;
    char *b = bufs[k++ % 16];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

static void slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

/* Runs hl_cmd_score on a NULL-terminated argument list; stdout/stderr land in out_text/err_text. */
static int score(const char *first, ...) {
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(P("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(P("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = hl_cmd_score(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(fo), close(fe), close(so), close(se);
    slurp(P("stdout.txt"), out_text, sizeof out_text);
    slurp(P("stderr.txt"), err_text, sizeof err_text);
    return rc;
}

static void save(const char *name, hl_npy_dtype t, int ndim, int64_t d0, int64_t d1, const void *data) {
    int64_t shape[2] = {d0, d1};
    cr_assert_eq(hl_npy_write(P(name), t, ndim, shape, data), HL_OK, "%s", hl_error_last());
}

/* JSON value of "key" in out_text (asserts it is present). */
static double json_val(const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(out_text, pat);
    cr_assert(p, "key %s missing in %s", key, out_text);
    return strtod(p + strlen(pat), NULL);
}

/* The hand example (4-bit codes, bit k = character k):
 *   queries  q0 0000 label 0, q1 1111 label 2;
 *   database j0 0000 (1), j1 1000 (0), j2 0100 (1), j3 1100 (0), j4 1110 (0).
 * q0: ranking j0 j1 j2 j3 j4 (d 0 1 1 2 3), relevant at 2, 4, 5: AP@all = (1/2 + 2/4 + 3/5)/3 = 8/15;
 *     top 2 = j0 j1: AP@2 = 1/2. Ball d <= 2 = j0..j3: P = 2/4, R = 2/3.
 * q1: no relevant item: AP 0; ball d <= 2 = j3 (d 2), j4 (d 1): P = 0, R = 0.
 * mAP@all = 4/15 (count) or 8/15 (skip); mAP@2 = 1/4; P@H<=2 = 1/4; R@H<=2 = 1/3. */
static void fixtures(void) {
    dir = hl_test_tmpdir();
    int8_t q[8] = {-1, -1, -1, -1, 1, 1, 1, 1};         /* ±1 int8 */
    float d[20] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0,  /* {0,1} float32 */
                   1, 1, 0, 0, 1, 1, 1, 0};
    int64_t lq[2] = {0, 2};                             /* L = 3 */
    int32_t ld[5] = {1, 0, 1, 0, 0};                    /* L = 2: widened to 3 */
    save("q.npy", HL_NPY_I8, 2, 2, 4, q);
    save("d.npy", HL_NPY_F32, 2, 5, 4, d);
    save("lq.npy", HL_NPY_I64, 1, 2, 0, lq);
    save("ld.npy", HL_NPY_I32, 1, 5, 0, ld);
    float ldm[15] = {0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0}; /* the same as multi-hot (5, 3) */
    save("ld_multi.npy", HL_NPY_F32, 2, 5, 3, ldm);
    uint8_t qp[2] = {0x00, 0xF0}, dp[5] = {0x00, 0x80, 0x40, 0xC0, 0xE0}; /* packbits of the same codes */
    save("qp.npy", HL_NPY_U8, 2, 2, 1, qp);
    save("dp.npy", HL_NPY_U8, 2, 5, 1, dp);
}

#define BASE "--query-codes", P("q.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq.npy"), "--db-labels"

Test(score, json_hand_example) {
    fixtures();
    cr_assert_eq(score(BASE, P("ld.npy"), "--json", NULL), 0, "%s", err_text);
    cr_assert_float_eq(json_val("mAP@all"), 4.0 / 15.0, 1e-12, "%s", out_text);
    cr_assert_float_eq(json_val("P@H<=2"), 0.25, 1e-12);
    cr_assert_float_eq(json_val("R@H<=2"), 1.0 / 3.0, 1e-12);
    cr_assert_eq(json_val("queries"), 2);
    cr_assert_eq(json_val("database"), 5);
    cr_assert_eq(json_val("bits"), 4);
    cr_assert_eq(json_val("labels"), 3);
    cr_assert_eq(json_val("zero_relevant_queries"), 1);
    cr_assert(strstr(out_text, "\"ties\": \"index\"") && strstr(out_text, "\"zero_relevant\": \"count\""), "%s",
              out_text);
    cr_assert(strstr(out_text, "\"mean_tie_bucket\": "));
    cr_assert(out_text[0] == '{' && strstr(out_text, "}\n"));
    /* skip, top 2, radius 0, P@N. */
    cr_assert_eq(score(BASE, P("ld.npy"), "--json", "--zero-relevant", "skip", NULL), 0, "%s", err_text);
    cr_assert_float_eq(json_val("mAP@all"), 8.0 / 15.0, 1e-12);
    cr_assert(strstr(out_text, "\"zero_relevant\": \"skip\""));
    cr_assert_eq(score(BASE, P("ld.npy"), "--json", "--topk", "2", "--radius", "0", "--at-n", "3", NULL), 0, "%s",
                 err_text);
    cr_assert_float_eq(json_val("mAP@2"), 0.25, 1e-12);
    /* Ball d <= 0: q0 holds j0 (irrelevant): P 0, R 0; q1 is empty. */
    cr_assert_float_eq(json_val("P@H<=0"), 0.0, 1e-12);
    cr_assert_float_eq(json_val("R@H<=0"), 0.0, 1e-12);
    /* P@3: q0 top 3 = j0 j1 j2 -> 1/3; q1 0 -> 1/6. R@3: q0 1/3, q1 0 -> 1/6. */
    cr_assert_float_eq(json_val("P@3"), 1.0 / 6.0, 1e-12);
    cr_assert_float_eq(json_val("R@3"), 1.0 / 6.0, 1e-12);
    cr_assert_eq(json_val("topk"), 2);
    /* Expected ties and a seeded shuffle run and say so. */
    cr_assert_eq(score(BASE, P("ld.npy"), "--json", "--ties", "expected", NULL), 0, "%s", err_text);
    cr_assert(strstr(out_text, "\"ties\": \"expected\""));
    double expected = json_val("mAP@all");
    /* Only the order of j1 (relevant) and j2 in q0's d = 1 bucket is random: AP(q0) is 8/15 (j1 first) or
     * (1/3 + 2/4 + 3/5)/3 = 43/90 (j2 first), each with probability 1/2; AP(q1) = 0. */
    cr_assert_float_eq(expected, (8.0 / 15.0 + 43.0 / 90.0) / 2 / 2, 1e-12, "%.15f", expected);
    cr_assert_eq(score(BASE, P("ld.npy"), "--json", "--ties", "random", "--tie-seed", "7", NULL), 0, "%s", err_text);
    cr_assert(strstr(out_text, "\"ties\": \"random\"") && strstr(out_text, "\"tie_seed\": 7"));
}

Test(score, multi_hot_labels_and_packed_codes_agree) {
    fixtures();
    cr_assert_eq(score(BASE, P("ld_multi.npy"), "--json", NULL), 0, "%s", err_text);
    cr_assert_float_eq(json_val("mAP@all"), 4.0 / 15.0, 1e-12);
    cr_assert_eq(json_val("labels"), 3);
    cr_assert_eq(score("--query-codes", P("qp.npy"), "--db-codes", P("dp.npy"), "--query-labels", P("lq.npy"),
                       "--db-labels", P("ld.npy"), "--packed-bits", "4", "--json", NULL),
                 0, "%s", err_text);
    cr_assert_float_eq(json_val("mAP@all"), 4.0 / 15.0, 1e-12);
    cr_assert_float_eq(json_val("R@H<=2"), 1.0 / 3.0, 1e-12);
    cr_assert_eq(json_val("bits"), 4);
}

Test(score, human_table_states_conventions) {
    fixtures();
    cr_assert_eq(score(BASE, P("ld.npy"), NULL), 0, "%s", err_text);
    cr_assert(strstr(out_text, "mAP@all") && strstr(out_text, "0.266667"), "%s", out_text);
    cr_assert(strstr(out_text, "P@H<=2") && strstr(out_text, "0.250000"));
    cr_assert(strstr(out_text, "R@H<=2") && strstr(out_text, "0.333333"));
    cr_assert(strstr(out_text, "2 queries x 5 database items, 4-bit codes"));
    cr_assert(strstr(out_text, "Conventions") && strstr(out_text, "ties: index") &&
              strstr(out_text, "zero_relevant: count"), "%s", out_text);
    cr_assert_eq(score(BASE, P("ld.npy"), "--zero-relevant", "skip", "--ties", "expected", NULL), 0);
    cr_assert(strstr(out_text, "zero_relevant: skip") && strstr(out_text, "ties: expected"), "%s", out_text);
}

/* Exit 1 with a message holding `needle`. */
static void fails(int rc, const char *needle) {
    cr_assert_eq(rc, 1, "exit %d, stderr: %s", rc, err_text);
    cr_assert(strstr(err_text, needle), "stderr lacks '%s': %s", needle, err_text);
    cr_assert_eq(out_text[0], 0, "nothing on stdout on failure: %s", out_text);
}

Test(score, file_errors_exit_1) {
    fixtures();
    /* Missing file. */
    fails(score(BASE, P("nope.npy"), NULL), "nope.npy: cannot open");
    /* Bits differ. */
    int8_t q6[12] = {1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1};
    save("q6.npy", HL_NPY_I8, 2, 2, 6, q6);
    fails(score("--query-codes", P("q6.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq.npy"), "--db-labels",
                P("ld.npy"), NULL),
          "6-bit codes but");
    /* Counts differ: 3 query labels for 2 codes; 4 database labels for 5 codes. */
    int64_t l3[3] = {0, 1, 2};
    save("lq3.npy", HL_NPY_I64, 1, 3, 0, l3);
    fails(score("--query-codes", P("q.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq3.npy"), "--db-labels",
                P("ld.npy"), NULL),
          "holds 2 codes but");
    fails(score(BASE, P("lq3.npy"), NULL), "holds 5 codes but");
    /* Non-binary value, mixed encodings, wrong shape. */
    float dh[20] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0.5f, 0, 1, 1, 1, 0};
    save("dh.npy", HL_NPY_F32, 2, 5, 4, dh);
    fails(score("--query-codes", P("q.npy"), "--db-codes", P("dh.npy"), "--query-labels", P("lq.npy"), "--db-labels",
                P("ld.npy"), NULL),
          "row 3, column 2: value 0.5");
    int8_t qm[8] = {-1, 0, 1, 1, 1, 1, 1, 1};
    save("qm.npy", HL_NPY_I8, 2, 2, 4, qm);
    fails(score("--query-codes", P("qm.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq.npy"), "--db-labels",
                P("ld.npy"), NULL),
          "mixes");
    save("q1d.npy", HL_NPY_I8, 1, 8, 0, q6);
    fails(score("--query-codes", P("q1d.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq.npy"), "--db-labels",
                P("ld.npy"), NULL),
          "2-D array");
    /* Multi-hot label files of different widths. */
    float l2[6] = {1, 0, 0, 1, 0, 0}, l5[10] = {0};
    save("lq_w3.npy", HL_NPY_F32, 2, 2, 3, l2);
    save("ld_w2.npy", HL_NPY_F32, 2, 5, 2, l5);
    fails(score("--query-codes", P("q.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq_w3.npy"), "--db-labels",
                P("ld_w2.npy"), NULL),
          "3 label columns but");
    /* A class id beyond a multi-hot width. */
    fails(score("--query-codes", P("q.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq.npy"), "--db-labels",
                P("ld_w2.npy"), NULL),
          "outside the 2 labels");
    /* Packed: not uint8, wrong width for K. */
    fails(score(BASE, P("ld.npy"), "--packed-bits", "4", NULL), "must be uint8");
    fails(score("--query-codes", P("qp.npy"), "--db-codes", P("dp.npy"), "--query-labels", P("lq.npy"), "--db-labels",
                P("ld.npy"), "--packed-bits", "12", NULL),
          "need 2 bytes per row");
    /* Not a .npy file; an empty database. */
    FILE *f = fopen(P("junk.npy"), "wb");
    fputs("hello", f);
    fclose(f);
    fails(score(BASE, P("junk.npy"), NULL), "bad magic");
    save("d0.npy", HL_NPY_F32, 2, 0, 4, dh);
    save("ld0.npy", HL_NPY_I64, 1, 0, 0, l3);
    fails(score("--query-codes", P("q.npy"), "--db-codes", P("d0.npy"), "--query-labels", P("lq.npy"), "--db-labels",
                P("ld0.npy"), NULL),
          "database is empty");
    /* No query at all: refused (an mAP over nothing is undefined), not scored 0 with exit 0. */
    save("q0.npy", HL_NPY_F32, 2, 0, 4, dh);
    save("lq0.npy", HL_NPY_I64, 1, 0, 0, l3);
    fails(score("--query-codes", P("q0.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq0.npy"), "--db-labels",
                P("ld.npy"), NULL),
          "no query codes");
}

static void usage(int rc, const char *needle) {
    cr_assert_eq(rc, 2, "exit %d, stderr: %s", rc, err_text);
    cr_assert(strstr(err_text, needle), "stderr lacks '%s': %s", needle, err_text);
}

Test(score, bad_usage_exit_2) {
    fixtures();
    usage(score(NULL), "missing --query-codes");
    usage(score("--query-codes", P("q.npy"), "--db-codes", P("d.npy"), "--query-labels", P("lq.npy"), NULL),
          "missing --db-labels");
    usage(score(BASE, P("ld.npy"), "--bogus", "1", NULL), "unknown option '--bogus'");
    usage(score(BASE, P("ld.npy"), "stray", NULL), "unexpected argument 'stray'");
    usage(score(BASE, P("ld.npy"), "--topk", "0", NULL), "--topk needs an integer");
    usage(score(BASE, P("ld.npy"), "--topk", "ten", NULL), "--topk needs an integer");
    /* beyond int64: refused, not clamped to 9223372036854775807 */
    usage(score(BASE, P("ld.npy"), "--topk", "99999999999999999999", NULL), "got '99999999999999999999'");
    usage(score(BASE, P("ld.npy"), "--tie-seed", "-99999999999999999999", NULL), "--tie-seed needs an integer");
    usage(score(BASE, P("ld.npy"), "--at-n", "9223372036854775808", NULL), "--at-n needs an integer");
    usage(score(BASE, P("ld.npy"), "--radius", "-1", NULL), "--radius needs an integer");
    usage(score(BASE, P("ld.npy"), "--ties", "stable", NULL), "--ties must be");
    usage(score(BASE, P("ld.npy"), "--zero-relevant", "drop", NULL), "--zero-relevant must be");
    usage(score(BASE, P("ld.npy"), "--packed-bits", "0", NULL), "--packed-bits needs");
    usage(score(BASE, P("ld.npy"), "--tie-seed", "3", NULL), "--tie-seed only applies");
    usage(score(BASE, P("ld.npy"), "--radius", NULL), "--radius needs a value");
    cr_assert_eq(score("--help", NULL), 0);
    cr_assert(strstr(out_text, "usage: hashlab score"));
}

Test(score, binary_end_to_end) {
    fixtures();
    const char *bin = HL_BUILD_DIR "/hashlab";
    cr_assert(access(bin, X_OK) == 0, "%s not built (tests/CMakeLists.txt makes test_lab depend on it)", bin);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' score --query-codes '%s' --db-codes '%s' --query-labels '%s' --db-labels '%s' --json > '%s' 2>&1",
             bin, P("q.npy"), P("d.npy"), P("lq.npy"), P("ld.npy"), P("bin.txt"));
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    slurp(P("bin.txt"), out_text, sizeof out_text);
    cr_assert_float_eq(json_val("mAP@all"), 4.0 / 15.0, 1e-12, "%s", out_text);
    snprintf(cmd, sizeof cmd, "'%s' score --query-codes x.npy > /dev/null 2>&1", bin);
    st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "usage status %d", st);
    snprintf(cmd, sizeof cmd,
             "'%s' score --query-codes '%s' --db-codes '%s' --query-labels '%s' --db-labels '%s' > /dev/null 2>&1",
             bin, P("q.npy"), P("d.npy"), P("lq.npy"), P("nope.npy"));
    st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "failure status %d", st);
}
