/* lab/run_data.c — the run's dataset: open, fetch on demand, or the exact commands that get it; see run_data.h. */
#include "lab/run_data.h"

#include <stdio.h>
#include <string.h>

#include "core/data/fetch.h"
#include "core/data/lists.h"
#include "core/job.h"

/* s as one shell word: as it is when it has only safe characters, else in single quotes. */
static const char *shell_word(const char *s, char *buf, size_t n) {
    bool plain = s[0] != 0;
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+,=-", *p) != NULL;
    if (plain) {
        snprintf(buf, n, "%s", s);
        return buf;
    }
    size_t k = 0;
    if (n < 3) return s;
    buf[k++] = '\'';
    for (const char *p = s; *p && k + 6 < n; p++) {
        if (*p == '\'') memcpy(buf + k, "'\\''", 4), k += 4;
        else buf[k++] = *p;
    }
    buf[k++] = '\'';
    buf[k] = 0;
    return buf;
}

/* Where `hashlab data fetch` must put the dataset for this run to find it. */
static hl_status fetch_root(const char *data_root, char *buf, size_t n) {
    if (data_root && data_root[0]) {
        if ((size_t)snprintf(buf, n, "%s", data_root) >= n) return hl_error_set(HL_EINVAL, "data_root: path too long");
        return HL_OK;
    }
    return hl_fetch_default_root(buf, n);
}

/* The loader's "dataset 'X' not found; looked in: A, B" (its own advice, "; get it with ..." or "; put the four
 * ...", cut), then tail; the head is shortened with "..." so that the whole fits an error message (1023 bytes). */
static hl_status not_found(const char *tail) {
    char head[1024];
    snprintf(head, sizeof head, "%s", hl_error_last());
    char *fix = strstr(head, "; get it with ");
    if (!fix) fix = strstr(head, "; put the four");
    if (fix) *fix = 0;
    size_t room = 1000 - HL_MIN(strlen(tail), (size_t)900);
    if (strlen(head) > room) memcpy(head + room - 3, "...", 4);
    return hl_error_set(HL_ENOTFOUND, "%s%s", head, tail);
}

hl_status hl_run_data_open(hl_dataset *out, const char *name, const char *data_root, const char *suite_path,
                           bool fetch, bool progress) {
    hl_status st = hl_dataset_open(out, name, data_root);
    if (st != HL_ENOTFOUND) return st;
    const hl_fetch_source *src = hl_fetch_source_find(name);
    char tail[6144];
    if (!src) { /* fashion-mnist, mnist: the loader's message says where they come from */
        if (!fetch) return st;
        snprintf(tail, sizeof tail, "\n  --fetch downloads only %s; %s", hl_fetch_source_names(),
                 strcmp(name, "fashion-mnist") == 0
                     ? "Fashion-MNIST comes from a Debian package: sudo apt-get install dataset-fashion-mnist "
                       "(installs /usr/share/datasets/fashion-mnist)"
                     : "MNIST comes from files: put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                       "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into a folder `mnist` in one of "
                       "the places above");
        return not_found(tail);
    }
    char root[1024], qroot[1100], qsuite[1100], up[32];
    size_t k = 0;
    for (; src->name[k] && k < sizeof up - 1; k++)
        up[k] = (char)(src->name[k] >= 'a' && src->name[k] <= 'z' ? src->name[k] - 'a' + 'A' : src->name[k]);
    up[k] = 0;
    if (fetch_root(data_root, root, sizeof root) < 0) return hl_error_wrap("dataset '%s' not found", name);
    if (!fetch) {
        shell_word(root, qroot, sizeof qroot);
        shell_word(suite_path ? suite_path : "SUITE.yaml", qsuite, sizeof qsuite);
        snprintf(tail, sizeof tail,
                 "\n  fetch it into %s, where this run looks for it:\n      hashlab data fetch %s --root %s\n"
                 "  or let the run fetch it:\n      hashlab run %s --fetch        (or HASHLAB_FETCH=1 hashlab run %s)\n"
                 "  (behind a proxy, a mirror: HASHLAB_FETCH_URL_%s and HASHLAB_FETCH_MD5_%s; or unpack %s into "
                 "%s)",
                 root, name, qroot, qsuite, qsuite, up, up, src->archive, root);
        return not_found(tail);
    }
    hl_error_clear();
    hl_fetch_opts o;
    hl_fetch_opts_for(&o, src, root);
    bool mirror = false;
    if (hl_fetch_mirror_from_env(&o, src, &mirror) < 0) return st = hl_error_wrap("fetching %s", name);
    o.progress = progress;
    if (progress)
        hl_msg(HL_LOG_INFO, "dataset '%s' not found: fetching it (--fetch) into %s from %s%s", name, root, o.url,
               mirror ? " (mirror)" : "");
    hl_fetch_report rep;
    if ((st = hl_fetch(&o, &rep)) < 0) return hl_error_wrap("fetching %s into %s", name, root);
    if (progress) hl_msg(HL_LOG_INFO, "%s ready at %s", name, rep.path);
    if ((st = hl_dataset_open(out, name, root)) < 0) return hl_error_wrap("%s fetched into %s", name, root);
    return HL_OK;
}

/* Decoding progress on stderr (an hl_progress task, begun at the first report of a long decode). */
typedef struct decode_progress {
    hl_progress p;
    hl_progress_opts o;
    char label[128];
    bool begun;
} decode_progress;

static void on_decode(void *user, const char *phase, int64_t done, int64_t total, const char *detail) {
    (void)detail;
    decode_progress *d = user;
    if (strcmp(phase, "decode") || total < 1000) return;
    if (!d->begun) hl_progress_begin(&d->p, &d->o, d->label, total, "images");
    d->begun = true;
    hl_progress_update(&d->p, done);
}

hl_status hl_run_data_open_lists(hl_dataset *out, hl_split *split, const hl_suite_lists *l, const char *name,
                                 const char *data_root, hl_progress_mode mode, bool labels_only) {
    char dir[1024];
    memset(out, 0, sizeof *out);
    if (l->dir[0]) {
        snprintf(dir, sizeof dir, "%s", l->dir);
    } else {
        hl_status st = hl_lists_find(l->set, data_root, dir, sizeof dir);
        if (st < 0) return st;
    }
    hl_lists_opts lo = {.dir = dir, .root = l->root, .name = name, .size = l->image_size, .channels = l->channels,
                        .cache = true, .labels_only = labels_only};
    decode_progress d = {0};
    d.o.mode = mode;
    hl_progress_defaults(&d.o);
    snprintf(d.label, sizeof d.label, "decode %s (%dx%d, once: cached)", name, l->image_size, l->image_size);
    if (mode != HL_PROGRESS_QUIET) hl_job_set_progress(on_decode, &d);
    hl_status st = hl_dataset_load_lists(out, split, &lo);
    if (mode != HL_PROGRESS_QUIET) hl_job_set_progress(NULL, NULL);
    if (d.begun) hl_progress_end(&d.p, st == HL_OK);
    return st;
}
