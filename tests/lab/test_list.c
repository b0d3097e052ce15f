/* tests/lab/test_list.c — `hashlab list`: the listing of hashers and attacks, one class's parameter table, misses
 * and usage errors. Calls hl_cmd_list with stdout/stderr redirected to files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attacks/attack.h"
#include "defences/defence.h"
#include "hashers/labeler.h"
#include "lab/commands.h"
#include "test_common.h"

static char out_text[8192], err_text[8192];

static void slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

static int list(int argc, char **argv) {
    const char *o = hl_test_path(hl_test_tmpdir(), "out.txt"), *e = hl_test_path(hl_test_tmpdir(), "err.txt");
    fflush(stdout), fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1), dup2(fe, 2);
    int rc = hl_cmd_list(argc, argv);
    fflush(stdout), fflush(stderr);
    dup2(so, 1), dup2(se, 2);
    close(fo), close(fe), close(so), close(se);
    slurp(o, out_text, sizeof out_text);
    slurp(e, err_text, sizeof err_text);
    return rc;
}

/* The listing holds every registered class (built from the registries, so adding a method needs no edit here),
 * sorted, names padded to the widest name of all classes, with lsh's line spelled out as the format's witness. */
Test(list, all) {
    unsetenv("HASHLAB_PLUGIN_PATH");
    cr_assert_eq(list(0, NULL), 0, "%s", err_text);
    char want[8192];
    size_t n = 0;
    int width = 0;
    for (int i = 0; i < hl_hasher_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_hasher_class_at(i)->name));
    for (int i = 0; i < hl_attack_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_attack_class_at(i)->name));
    for (int i = 0; i < hl_defence_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_defence_class_at(i)->name));
    for (int i = 0; i < hl_labeler_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_labeler_class_at(i)->name));
    n += (size_t)snprintf(want + n, sizeof want - n, "hashers:\n");
    for (int i = 0; i < hl_hasher_class_count(); i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "  %-*s  %s\n", width, hl_hasher_class_at(i)->name,
                              hl_hasher_class_at(i)->summary);
    n += (size_t)snprintf(want + n, sizeof want - n, "attacks:\n");
    for (int i = 0; i < hl_attack_class_count(); i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "  %-*s  %s\n", width, hl_attack_class_at(i)->name,
                              hl_attack_class_at(i)->summary);
    n += (size_t)snprintf(want + n, sizeof want - n, "defences (a hasher entry's `defence:`, trainable hashers only):\n");
    for (int i = 0; i < hl_defence_class_count(); i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "  %-*s  %s\n", width, hl_defence_class_at(i)->name,
                              hl_defence_class_at(i)->summary);
    n += (size_t)snprintf(want + n, sizeof want - n, "labelers (a hasher entry's `labeler:`, supervised hashers only):\n");
    for (int i = 0; i < hl_labeler_class_count(); i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "  %-*s  %s\n", width, hl_labeler_class_at(i)->name,
                              hl_labeler_class_at(i)->summary);
    cr_assert_str_eq(out_text, want);
    char lsh[256];
    snprintf(lsh, sizeof lsh, "\n  %-*s  LSH (Charikar, STOC'02): signs of random Gaussian projections of the centred "
             "pixels\n", width, "lsh");
    cr_assert(strstr(out_text, lsh), "%s", out_text);
    cr_assert(hl_hasher_class_count() >= 6 && hl_attack_class_count() >= 2);
}

Test(list, one_hasher) {
    unsetenv("HASHLAB_PLUGIN_PATH");
    char *argv[] = {"lsh"};
    cr_assert_eq(list(1, argv), 0, "%s", err_text);
    cr_assert_str_eq(out_text,
                     "hasher lsh: LSH (Charikar, STOC'02): signs of random Gaussian projections of the centred "
                     "pixels\n"
                     "\n"
                     "name    type  default  range  doc\n"
                     "center  bool  true     -      subtract the training mean before projecting (set by fit)\n");
    char *argv2[] = {"noise"};
    cr_assert_eq(list(1, argv2), 0, "%s", err_text);
    cr_assert(strstr(out_text, "attack noise: random noise") == out_text, "%s", out_text);
    cr_assert(strstr(out_text, "no parameters\n"), "%s", out_text);
    char *argv3[] = {"gnn"};
    cr_assert_eq(list(1, argv3), 0, "%s", err_text);
    cr_assert(strstr(out_text, "labeler gnn: progressive representative labelling") == out_text, "%s", out_text);
    cr_assert(strstr(out_text, "\nper_round "), "%s", out_text);
}

Test(list, errors) {
    unsetenv("HASHLAB_PLUGIN_PATH");
    char *argv[] = {"lhs"};
    cr_assert_eq(list(1, argv), 1);
    cr_assert_str_eq(err_text,
                     "hashlab list: unknown hasher, attack, defence or labeler 'lhs' (known: abml, adsh, bthash, ddsh, dpsh, hashgan, itq, lsh, nmlayer, ssah, apgd, auto, centre-pgd, noise, pgd, prosgan, square, atrdh, cgat, pgd-at, saat, gnn; did you mean 'lsh'?)\n");
    char *argv2[] = {"lsh", "itq"};
    cr_assert_eq(list(2, argv2), 2);
    cr_assert(strstr(err_text, "hashlab list: unexpected argument 'itq'"), "%s", err_text);
    char *argv3[] = {"--plugin", "/nonexistent.so"};
    cr_assert_eq(list(2, argv3), 1);
    cr_assert_str_eq(err_text, "hashlab list: --plugin:0:0: /nonexistent.so: cannot open plugin: No such file or "
                               "directory\n");
}
