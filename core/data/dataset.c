/* core/data/dataset.c — hl_dataset lifetime, batch reads, opening a dataset by name; see dataset.h.
 * The loaders live beside it: cifar.c, idx.c, image_list.c, synthetic.c. */
#include "core/data/dataset.h"
#include "core/data/dataset_impl.h"
#include "core/data/lists.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/mman.h>
#include <unistd.h>

void hl_dataset_free(hl_dataset *d) {
    if (!d) return;
    if (d->class_names) /* [labels.nlabels]: loaders attach names only once the labels exist */
        for (int i = 0; i < d->labels.nlabels; i++) free(d->class_names[i]);
    free(d->class_names);
    if (d->map) munmap(d->map, d->map_len);
    else free(d->pixels);
    hl_labels_free(&d->labels);
    free(d->class_id);
    memset(d, 0, sizeof *d);
}

hl_dataset hl_dataset_unlabelled_view(const hl_dataset *d) {
    hl_dataset v = *d;
    memset(&v.labels, 0, sizeof v.labels);
    v.class_id = NULL;
    v.class_names = NULL;
    return v;
}

void hl_dataset_read(const hl_dataset *d, const int64_t *idx, int64_t m, float *out) {
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 255.0f;
    const int64_t sz = hl_dataset_image_size(d);
    for (int64_t i = 0; i < m; i++)
        HL_ASSERT(idx[i] >= 0 && idx[i] < d->n, "sample index %lld outside [0, %lld)", (long long)idx[i],
                  (long long)d->n);
#pragma omp parallel for schedule(static) if (m * sz > (1 << 20))
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *s = d->pixels + idx[i] * sz;
        float *o = out + i * sz;
        for (int64_t k = 0; k < sz; k++) o[k] = lut[s[k]];
    }
}

/* ---- open by name ---------------------------------------------------------------------------------------------- */

typedef struct known_dataset {
    const char *name;
    int cifar;              /* 10 or 100 for CIFAR, 0 for an IDX folder */
    const char *subdirs[3]; /* candidate folders under each search root, holding the files directly */
    const char *probe[2];   /* a file whose presence marks the folder (either name) */
    const char *fix;        /* how to get it */
} known_dataset;

static const known_dataset known[] = {
    {"cifar10", 10,
     {"cifar-10-batches-bin", "cifar10/cifar-10-batches-bin", "cifar10"},
     {"data_batch_1.bin", NULL},
     "get it with `hashlab data fetch cifar10` (or unpack cifar-10-binary.tar.gz into one of these places)"},
    {"cifar100", 100,
     {"cifar-100-binary", "cifar100/cifar-100-binary", "cifar100"},
     {"train.bin", NULL},
     "get it with `hashlab data fetch cifar100` (or unpack cifar-100-binary.tar.gz into one of these places)"},
    {"fashion-mnist", 0,
     {"fashion-mnist", NULL, NULL},
     {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"},
     "get it with `apt-get install dataset-fashion-mnist` (installs /usr/share/datasets/fashion-mnist)"},
    {"mnist", 0,
     {"mnist", NULL, NULL},
     {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"},
     "put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
     "t10k-labels-idx1-ubyte.gz) into a folder `mnist` in one of these places"},
};

static bool file_exists(const char *dir, const char *file) {
    char p[2048];
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) return false;
    return access(p, R_OK) == 0;
}

void hl_dataset_search_roots(const char *root, char home[1024], const char *roots[HL_DATASET_NROOTS]) {
    const char *h = getenv("HOME"), *env = getenv("HASHLAB_DATA");
    home[0] = 0;
    if (!h || !*h) { /* as hl_fetch_default_root: $HOME, else the passwd entry */
        const struct passwd *pw = getpwuid(getuid());
        h = pw ? pw->pw_dir : NULL;
    }
    if (h && *h) snprintf(home, 1024, "%s/.cache/hashlab", h);
    roots[0] = root && *root ? root : NULL;
    roots[1] = env && *env ? env : NULL;
    roots[2] = "data";
    roots[3] = home[0] ? home : NULL;
    roots[4] = "/usr/share/datasets";
}

hl_status hl_dataset_open(hl_dataset *out, const char *name, const char *root) {
    memset(out, 0, sizeof *out);
    const known_dataset *k = NULL;
    for (size_t i = 0; i < HL_ARRAY_LEN(known); i++)
        if (name && strcmp(name, known[i].name) == 0) k = &known[i];
    if (!k && name && hl_lists_known_find(name)) { /* an image-list set: lists.h */
        char dir[1024];
        hl_status st = hl_lists_find(name, root, dir, sizeof dir);
        if (st < 0) return st;
        hl_lists_opts o = {.dir = dir, .name = name, .size = 224, .channels = 3, .cache = true};
        return hl_dataset_load_lists(out, NULL, &o);
    }
    if (!k)
        return hl_error_set(HL_EINVAL, "unknown dataset '%s' (known: cifar10, cifar100, fashion-mnist, mnist, %s)",
                            name ? name : "(null)", hl_lists_known_names());

    char home[1024];
    const char *roots[HL_DATASET_NROOTS];
    hl_dataset_search_roots(root, home, roots);

    /* The list of places is cut (with "...") where it would push the fix out of the 1023-byte message. */
    char tried[1024] = "";
    size_t tl = 0, cap = sizeof tried - strlen(k->fix) - strlen(k->name) - 64;
    for (int r = 0; r < HL_DATASET_NROOTS; r++) {
        if (!roots[r] || !*roots[r]) continue;
        for (int s = 0; s < 3 && k->subdirs[s]; s++) {
            char dir[1024];
            if (snprintf(dir, sizeof dir, "%s/%s", roots[r], k->subdirs[s]) >= (int)sizeof dir) continue;
            if (file_exists(dir, k->probe[0]) || (k->probe[1] && file_exists(dir, k->probe[1]))) {
                hl_status st = k->cifar ? hl_dataset_load_cifar(out, dir, k->cifar, "all")
                                        : hl_dataset_load_mnist_dir(out, dir, k->name);
                if (st < 0) return hl_error_wrap("dataset '%s' found in %s but unreadable", k->name, dir);
                return HL_OK;
            }
            int w = snprintf(tried + tl, cap - tl, "%s%s", tl ? ", " : "", dir);
            if (w > 0) tl = HL_MIN(tl + (size_t)w, cap - 1);
            if (tl == cap - 1) memcpy(tried + cap - 4, "...", 4);
        }
    }
    return hl_error_set(HL_ENOTFOUND, "dataset '%s' not found; looked in: %s; %s", k->name, tried, k->fix);
}

char **hl_dataset_names_dup(const char *const *src, int n) {
    char **d = calloc((size_t)n, sizeof *d);
    for (int i = 0; d && i < n; i++) {
        d[i] = malloc(strlen(src[i]) + 1);
        if (!d[i]) {
            for (int j = 0; j < i; j++) free(d[j]);
            free(d);
            return NULL;
        }
        strcpy(d[i], src[i]);
    }
    return d;
}
