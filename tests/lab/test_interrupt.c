/* tests/lab/test_interrupt.c — Ctrl-C during `hashlab run`, as a user presses it: a real SIGINT sent to the CLI
 * while a deep hasher trains. The first stops at the next safe point with the fit's state saved, says what is kept
 * and how to resume, and exits 130; the re-run resumes and gives the same codes and scores as a run that was never
 * interrupted. A second SIGINT exits at once, and nothing half-written is taken as done. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hashers/deep.h"
#include "test_run.h"

/* DPSH on synthetic 28×28 images, 300 training images: 8 epochs of ~0.5 s each on one thread, so a SIGINT sent when
 * epoch 2's line appears arrives mid-fit. */
static const char SUITE[] = "name: intr\n"
                            "dataset: synthetic\n"
                            "synthetic: {n: 1400, c: 1, h: 28, w: 28, classes: 10, noise: 0.3}\n"
                            "protocol: cifar10-1:100/300\n"
                            "seeds: [0]\n"
                            "threads: 1\n"
                            "attack_queries: 20\n"
                            "hashers:\n"
                            "  - method: dpsh\n"
                            "    bits: [16]\n"
                            "    params: {epochs: 8, batch: 32}\n"
                            "attacks: []\n"
                            "report: {formats: [json]}\n";

typedef struct child {
    pid_t pid;
    FILE *err; /* the child's stdout and stderr */
} child;

static child spawn_run(const char *suite, const char *rd) {
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    char bin[1200];
    snprintf(bin, sizeof bin, "%s/hashlab", HL_BUILD_DIR);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(fd[1], 2);
        dup2(fd[1], 1);
        close(fd[0]), close(fd[1]);
        execl(bin, bin, "run", suite, "--output", rd, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    return (child){.pid = pid, .err = fdopen(fd[0], "r")};
}

/* Reads the child's stderr until a line contains `needle` (then returns true) or the stream ends; everything read
 * is appended to log. */
static bool wait_line(child *c, const char *needle, char *log, size_t cap) {
    char line[2048];
    while (fgets(line, sizeof line, c->err)) {
        strncat(log, line, cap - strlen(log) - 1);
        if (strstr(line, needle)) return true;
    }
    return false;
}

static int finish(child *c, char *log, size_t cap) {
    char line[2048];
    while (fgets(line, sizeof line, c->err)) strncat(log, line, cap - strlen(log) - 1);
    fclose(c->err);
    int status = 0;
    cr_assert_eq(waitpid(c->pid, &status, 0), c->pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_cli(const char *suite, const char *rd, char *log, size_t cap) {
    child c = spawn_run(suite, rd);
    return finish(&c, log, cap);
}

static unsigned char *read_all(const char *path, size_t *n) {
    unsigned char *b = hl_test_read_file(path, n);
    cr_assert_not_null(b, "%s", path);
    return b;
}

Test(interrupt, sigint_mid_fit_resumes_to_the_uninterrupted_result, .timeout = 300) {
    char *suite = write_suite(SUITE);
    const char *whole = tmp_dir("whole"), *rd = tmp_dir("stopped");
    static char log[1 << 16];

    /* the reference: never interrupted */
    log[0] = 0;
    cr_assert_eq(run_cli(suite, whole, log, sizeof log), 0, "%s", log);

    /* Ctrl-C while epoch 3 trains */
    log[0] = 0;
    child c = spawn_run(suite, rd);
    cr_assert(wait_line(&c, "epoch 2/8", log, sizeof log), "no epoch line: %s", log);
    kill(c.pid, SIGINT);
    int rc = finish(&c, log, sizeof log);
    cr_assert_eq(rc, 130, "exit %d: %s", rc, log);
    cr_assert(strstr(log, "interrupted") && strstr(log, "resume"), "%s", log);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    const hl_cell *tc = cell_by_label(cells, n, "dpsh/16b/seed0");
    char dir[1200], state[1300];
    hl_store_cell_dir(rd, tc->key, dir, sizeof dir);
    snprintf(state, sizeof state, "%s/%s", dir, HL_DEEP_FIT_STATE);
    cr_assert_eq(access(state, F_OK), 0, "no saved fit state: %s", log);
    cr_assert_neq(hl_store_cell_state(rd, tc->key, NULL, NULL), HL_CELL_STATE_DONE);

    /* the re-run resumes from the saved epoch and ends where the uninterrupted run ended */
    log[0] = 0;
    cr_assert_eq(run_cli(suite, rd, log, sizeof log), 0, "%s", log);
    cr_assert(strstr(log, "resuming after epoch"), "%s", log);
    cr_assert(!strstr(log, "epoch 1/8"), "the resumed fit started over: %s", log);
    cr_assert_eq(hl_store_cell_state(rd, tc->key, NULL, NULL), HL_CELL_STATE_DONE);
    cr_assert_neq(access(state, F_OK), 0, "the fit state outlived the done cell");
    const char *files[] = {"db_codes.npy", "query_codes.npy", "model.safetensors"};
    char wdir[1200];
    hl_store_cell_dir(whole, tc->key, wdir, sizeof wdir);
    for (int i = 0; i < 3; i++) {
        size_t na, nb;
        unsigned char *a = read_all(hl_test_path(wdir, files[i]), &na), *b = read_all(hl_test_path(dir, files[i]), &nb);
        cr_assert(na == nb && !memcmp(a, b, na), "%s differs from the uninterrupted run's", files[i]);
        free(a), free(b);
    }
    hl_config *ra = result_of(whole, tc->key), *rb = result_of(rd, tc->key);
    cr_assert_str_eq(hl_config_path(ra, "metrics.mAP@1000")->text, hl_config_path(rb, "metrics.mAP@1000")->text);
    hl_config_free(ra), hl_config_free(rb);
    free(cells);
    free(suite);
}

Test(interrupt, second_sigint_exits_at_once_and_nothing_half_written_counts, .timeout = 300) {
    char *suite = write_suite(SUITE);
    const char *rd = tmp_dir("twice");
    static char log[1 << 16];
    log[0] = 0;
    setenv("HASHLAB_TEST_STOP_DELAY_MS", "20000", 1); /* the stopped run waits, so the second SIGINT meets it */
    child c = spawn_run(suite, rd);
    unsetenv("HASHLAB_TEST_STOP_DELAY_MS");
    cr_assert(wait_line(&c, "epoch 1/8", log, sizeof log), "no epoch line: %s", log);
    kill(c.pid, SIGINT);
    cr_assert(wait_line(&c, "stopping at the next safe point", log, sizeof log), "%s", log);
    kill(c.pid, SIGINT);
    int rc = finish(&c, log, sizeof log);
    cr_assert_eq(rc, 130, "exit %d: %s", rc, log);
    cr_assert(strstr(log, "second interrupt"), "%s", log);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    for (int64_t i = 0; i < n; i++)
        cr_assert_neq(hl_store_cell_state(rd, cells[i].key, NULL, NULL), HL_CELL_STATE_DONE, "%s", cells[i].label);
    log[0] = 0;
    cr_assert_eq(run_cli(suite, rd, log, sizeof log), 0, "%s", log);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(hl_store_cell_state(rd, cells[i].key, NULL, NULL), HL_CELL_STATE_DONE, "%s", cells[i].label);
    free(cells);
    free(suite);
}

/* An attack cell (the `auto` ensemble: its record and members' traces are part of the state) stopped after its first
 * chunk of 64 queries resumes there and ends with the uninterrupted cell's images, codes, per-query table and scores. */
static const char ATTACK_SUITE[] = "name: intr_attack\n"
                                   "dataset: synthetic\n"
                                   "synthetic: {n: 800, c: 1, h: 12, w: 12, classes: 4, noise: 0.3}\n"
                                   "protocol: cifar10-1:160/200\n"
                                   "seeds: [0]\n"
                                   "threads: 1\n"
                                   "attack_queries: 150\n"
                                   "hashers:\n"
                                   "  - method: lsh\n"
                                   "    bits: [16]\n"
                                   "attacks:\n"
                                   "  - {method: auto, norm: linf, eps: 8/255}\n"
                                   "report: {formats: [json]}\n";

Test(interrupt, attack_cell_resumes_after_its_last_saved_chunk, .timeout = 300) {
    char *suite = write_suite(ATTACK_SUITE);
    const char *whole = tmp_dir("attack_whole"), *rd = tmp_dir("attack_stopped");
    hl_run_summary sum;
    cr_assert_eq(run(suite, whole, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert_eq(sum.failed, 0);
    setenv("HASHLAB_TEST_STOP_AFTER_CHUNK", "1", 1);
    hl_status st = run(suite, rd, NULL, false, &sum);
    unsetenv("HASHLAB_TEST_STOP_AFTER_CHUNK");
    cr_assert_eq(st, HL_OK, "%s", hl_error_last());
    cr_assert(sum.interrupted);
    hl_cell *cells = NULL;
    int64_t n = 0;
    cells_of(rd, &cells, &n);
    const hl_cell *ac = NULL;
    for (int64_t i = 0; i < n; i++)
        if (cells[i].kind == HL_CELL_ATTACK) ac = &cells[i];
    cr_assert_not_null(ac);
    char dir[1200], wdir[1200];
    hl_store_cell_dir(rd, ac->key, dir, sizeof dir);
    hl_store_cell_dir(whole, ac->key, wdir, sizeof wdir);
    cr_assert_eq(access(hl_test_path(dir, "attack_state.safetensors"), F_OK), 0);
    cr_assert_eq(access(hl_test_path(dir, "attack_partial/chunk_0000.npy"), F_OK), 0);
    cr_assert_neq(access(hl_test_path(dir, "attack_partial/chunk_0001.npy"), F_OK), 0, "ran past the stop");
    cr_assert_neq(hl_store_cell_state(rd, ac->key, NULL, NULL), HL_CELL_STATE_DONE);

    cr_assert_eq(run(suite, rd, NULL, false, &sum), HL_OK, "%s", hl_error_last());
    cr_assert(!sum.interrupted);
    cr_assert_eq(hl_store_cell_state(rd, ac->key, NULL, NULL), HL_CELL_STATE_DONE);
    cr_assert_neq(access(hl_test_path(dir, "attack_state.safetensors"), F_OK), 0, "state left behind");
    cr_assert_neq(access(hl_test_path(dir, "attack_partial"), F_OK), 0, "chunks left behind");
    const char *files[] = {"adv_codes.npy", "adv_images.npy", "per_query.csv"};
    for (int i = 0; i < 3; i++) {
        size_t na, nb;
        unsigned char *a = read_all(hl_test_path(wdir, files[i]), &na), *b = read_all(hl_test_path(dir, files[i]), &nb);
        cr_assert(na == nb && !memcmp(a, b, na), "%s differs from the uninterrupted run's", files[i]);
        free(a), free(b);
    }
    hl_config *ra = result_of(whole, ac->key), *rb = result_of(rd, ac->key);
    const char *same[] = {"metrics.mAP@1000", "metrics.forwards_per_query", "metrics.backwards_per_query",
                          "ensemble.members", "sanity.flags", "trace"};
    for (int i = 0; i < 6; i++) {
        const hl_config *x = hl_config_path(ra, same[i]), *y = hl_config_path(rb, same[i]);
        cr_assert((x == NULL) == (y == NULL), "%s", same[i]);
        if (!x) continue;
        char *jx = NULL, *jy = NULL;
        cr_assert_eq(hl_config_canonical_json(x, &jx), HL_OK);
        cr_assert_eq(hl_config_canonical_json(y, &jy), HL_OK);
        if (!strcmp(same[i], "ensemble.members")) { /* wall times differ; everything else must not */
            cr_assert_eq(hl_config_len(x), hl_config_len(y));
            const char *keys[] = {"name", "ran", "map", "wins", "forwards_per_query", "backwards_per_query"};
            for (int64_t k = 0; k < hl_config_len(x); k++)
                for (int j = 0; j < 6; j++) {
                    const hl_config *u = hl_config_get(hl_config_at(x, k), keys[j]);
                    const hl_config *v = hl_config_get(hl_config_at(y, k), keys[j]);
                    cr_assert(u && v && !strcmp(u->text, v->text), "member %lld %s", (long long)k, keys[j]);
                }
        } else {
            cr_assert_str_eq(jx, jy, "%s", same[i]);
        }
        free(jx), free(jy);
    }
    hl_config_free(ra), hl_config_free(rb);
    free(cells);
    free(suite);
}
