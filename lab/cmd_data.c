/* lab/cmd_data.c — `hashlab data fetch cifar10|cifar100` (core/data/fetch.h) and `hashlab data info NAME`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/dataset.h"
#include "core/data/lists.h"
#include "core/data/fetch.h"
#include "lab/commands.h"

static void usage(FILE *f) {
    fprintf(f, "usage: hashlab data fetch cifar10|cifar100 [--root DIR] [--url URL --md5 HEX] [--force] [--retries N] "
               "[--no-progress]\n"
               "       hashlab data info NAME [--root DIR]      (NAME: cifar10 cifar100 fashion-mnist mnist, or the image-list\n"
               "                                               sets nus-wide flickr25k coco imagenet100: no image decoded)\n"
               "  --root DIR   where datasets live (default: $HASHLAB_DATA, else ~/.cache/hashlab)\n"
               "  --url, --md5 a mirror of the archive and its MD5 (both together; or set HASHLAB_FETCH_URL_CIFAR10\n"
               "               and HASHLAB_FETCH_MD5_CIFAR10, ..._CIFAR100, which `hashlab run --fetch` uses too)\n"
               "  --force      download and unpack again even if the dataset is present\n");
}

static int data_fetch(int argc, char **argv) {
    if (argc < 1 || argv[0][0] == '-') {
        usage(stderr);
        return 2;
    }
    const char *name = argv[0], *root = NULL, *url = NULL, *md5 = NULL;
    const hl_fetch_source *src = hl_fetch_source_find(name);
    if (!src) {
        fprintf(stderr,
                "hashlab data fetch: unknown dataset '%s' (known: %s; Fashion-MNIST comes from "
                "`apt-get install dataset-fashion-mnist`)\n",
                name, hl_fetch_source_names());
        return 2;
    }
    hl_fetch_opts o;
    char rootbuf[1024];
    bool force = false, progress = true;
    int retries = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--force") == 0)
            force = true;
        else if (strcmp(a, "--no-progress") == 0)
            progress = false;
        else if ((strcmp(a, "--root") == 0 || strcmp(a, "--url") == 0 || strcmp(a, "--md5") == 0) && (!v || !v[0])) {
            fprintf(stderr, "hashlab data fetch: %s needs a value\n", a);
            return 2;
        } else if (strcmp(a, "--root") == 0)
            root = argv[++i];
        else if (strcmp(a, "--url") == 0)
            url = argv[++i];
        else if (strcmp(a, "--md5") == 0)
            md5 = argv[++i];
        else if (strcmp(a, "--retries") == 0) {
            if ((retries = (int)hl_cli_parse_int(a, v, 0, 100)) < 0) return 2;
            i++;
        } else {
            fprintf(stderr, "hashlab data fetch: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!url != !md5) {
        fprintf(stderr, "hashlab data fetch: --url and --md5 go together (a mirror must come with its checksum)\n");
        return 2;
    }
    if (!root) {
        if (hl_fetch_default_root(rootbuf, sizeof rootbuf) < 0) {
            fprintf(stderr, "hashlab: %s\n", hl_error_last());
            return 1;
        }
        root = rootbuf;
    }
    hl_fetch_opts_for(&o, src, root); /* official URL + MD5, sizes always checked */
    if (url) {
        o.url = url;
        o.md5 = md5;
    } else if (hl_fetch_mirror_from_env(&o, src, NULL) < 0) { /* HASHLAB_FETCH_URL_<NAME> + _MD5_<NAME> */
        fprintf(stderr, "hashlab data fetch: %s\n", hl_error_last());
        return 2;
    }
    o.force = force;
    o.progress = progress;
    o.retries = retries;
    hl_fetch_report rep;
    if (hl_fetch(&o, &rep) < 0) {
        fprintf(stderr, "hashlab: data fetch %s: %s\n", name, hl_error_last());
        return 1;
    }
    if (rep.already_present)
        printf("%s: already present at %s (use --force to fetch it again)\n", name, rep.path);
    else
        printf("%s: ready at %s (%s%s)\n", name, rep.path,
               rep.archive_reused ? "unpacked from the verified " : "downloaded and verified ", rep.archive_path);
    return 0;
}

static int data_info(int argc, char **argv) {
    if (argc < 1 || argv[0][0] == '-') {
        usage(stderr);
        return 2;
    }
    const char *name = argv[0], *root = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc && argv[i + 1][0])
            root = argv[++i];
        else if (strcmp(argv[i], "--root") == 0) {
            fprintf(stderr, "hashlab data info: --root needs a value\n");
            return 2;
        } else {
            fprintf(stderr, "hashlab data info: unknown option '%s' (known: --root DIR)\n", argv[i]);
            return 2;
        }
    }
    hl_dataset d = {0};
    hl_split sp = {0};
    hl_status st;
    if (hl_lists_known_find(name)) { /* an image-list set: its lists only (no image decoded) */
        char dir[1024];
        st = hl_lists_find(name, root, dir, sizeof dir);
        hl_lists_opts lo = {.dir = dir, .name = name, .size = 224, .channels = 3, .labels_only = true};
        if (st == HL_OK) st = hl_dataset_load_lists(&d, &sp, &lo);
    } else {
        st = hl_dataset_open(&d, name, root);
    }
    if (st < 0) {
        fprintf(stderr, "hashlab: data info %s: %s\n", name, hl_error_last());
        return 1;
    }
    int L = d.labels.nlabels;
    int64_t *count = calloc((size_t)L + 1, sizeof *count), unlabelled = 0;
    if (!count) {
        fprintf(stderr, "hashlab: out of memory\n");
        hl_dataset_free(&d);
        return 1;
    }
    for (int64_t i = 0; i < d.n; i++) {
        int k = 0;
        for (int l = 0; l < L; l++)
            if (hl_labels_has(&d.labels, i, l)) count[l]++, k++;
        unlabelled += k == 0;
    }
    printf("%s\n  found at   %s\n  samples    %lld\n  shape      %d x %d x %d (c x h x w, uint8, read as float32 in "
           "[0,1])\n  classes    %d (%s)\n",
           d.name[0] ? d.name : name, d.source, (long long)d.n, d.c, d.h, d.w, L,
           hl_dataset_single_label(&d) ? "single-label" : "multi-label");
    if (unlabelled) printf("  unlabelled %lld\n", (long long)unlabelled);
    if (sp.protocol[0])
        printf("  lists      %lld queries (test.txt), %lld train (train.txt), %lld database (database.txt), train %s\n",
               (long long)sp.query.n, (long long)sp.train.n, (long long)sp.database.n,
               sp.train_rel == HL_SPLIT_TRAIN_IS_DB ? "= database" : sp.train_rel == HL_SPLIT_TRAIN_IN_DB
                                                                    ? "inside the database" : "apart from the database");
    if (L <= 20) {
        printf("  per class ");
        for (int l = 0; l < L; l++) {
            if (d.class_names && d.class_names[l])
                printf(" %s:%lld", d.class_names[l], (long long)count[l]);
            else
                printf(" %d:%lld", l, (long long)count[l]);
        }
        printf("\n");
    } else {
        int64_t lo = count[0], hi = count[0];
        for (int l = 1; l < L; l++) lo = HL_MIN(lo, count[l]), hi = HL_MAX(hi, count[l]);
        printf("  per class  %lld to %lld samples\n", (long long)lo, (long long)hi);
    }
    free(count);
    hl_split_free(&sp);
    hl_dataset_free(&d);
    return 0;
}

int hl_cmd_data(int argc, char **argv) {
    if (argc >= 1 && strcmp(argv[0], "fetch") == 0) return data_fetch(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "info") == 0) return data_info(argc - 1, argv + 1);
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 1) fprintf(stderr, "hashlab data: unknown action '%s' (known: fetch info)\n", argv[0]);
    usage(stderr);
    return 2;
}
