/* core/data/lists.c — DeepHash-pytorch's three image lists as one dataset and split, named sets; see lists.h. */
#include "core/data/lists.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/dataset_impl.h"

enum { F_DB, F_TEST, F_TRAIN, NFILES }; /* the union's order */
static const char *const file_names[NFILES] = {"database.txt", "test.txt", "train.txt"};

static const hl_lists_known known[] = {
    {"nus-wide", {"nuswide_21", "NUS-WIDE", "nus-wide"},
     "NUS-WIDE (21 most frequent concepts): images from the NUS-WIDE site "
     "(https://lms.comp.nus.edu.sg/wp-content/uploads/2019/research/nuswide/NUS-WIDE.html, research use) or the "
     "NUS-WIDE.tar.gz linked from https://github.com/TreezzZ/DSDH_PyTorch; lists: data/nuswide_21/ of "
     "https://github.com/swuxyj/DeepHash-pytorch (or its code.py)"},
    {"flickr25k", {"mirflickr", "flickr25k", "MIRFLICKR-25K"},
     "MIRFLICKR-25K: mirflickr25k.zip and its annotations from https://press.liacs.nl/mirflickr/mirdownload.html "
     "(accept its terms of use); lists: data/mirflickr/code.py of https://github.com/swuxyj/DeepHash-pytorch"},
    {"coco", {"coco", "COCO_2014", NULL},
     "MS-COCO 2014 train+val images from https://cocodataset.org (Flickr terms of use); lists: data/coco of "
     "https://github.com/thuml/HashNet (pytorch/data), as DeepHash-pytorch uses them"},
    {"imagenet100", {"imagenet", "imagenet100", NULL},
     "ImageNet ILSVRC-2012 (an account and its terms at https://image-net.org); the 100-class lists: data/imagenet of "
     "https://github.com/thuml/HashNet (pytorch/data) and https://github.com/swuxyj/DeepHash-pytorch"},
};

const hl_lists_known *hl_lists_known_find(const char *name) {
    for (size_t i = 0; name && i < HL_ARRAY_LEN(known); i++)
        if (!strcmp(name, known[i].name)) return &known[i];
    return NULL;
}

const char *hl_lists_known_names(void) { return "nus-wide, flickr25k, coco, imagenet100"; }

static bool readable(const char *dir, const char *file) {
    char p[2048];
    return snprintf(p, sizeof p, "%s/%s", dir, file) < (int)sizeof p && access(p, R_OK) == 0;
}

static bool has_lists(const char *dir) {
    for (int f = 0; f < NFILES; f++)
        if (!readable(dir, file_names[f])) return false;
    return true;
}

hl_status hl_lists_find(const char *name, const char *root, char *dir, size_t n) {
    const hl_lists_known *k = hl_lists_known_find(name);
    if (!k) return hl_error_set(HL_EINVAL, "'%s' is not an image-list set (known: %s)", name, hl_lists_known_names());
    char home[1024], tried[3072] = "";
    const char *roots[HL_DATASET_NROOTS];
    size_t tl = 0;
    hl_dataset_search_roots(root, home, roots);
    for (int r = 0; r < HL_DATASET_NROOTS; r++) {
        for (int s = 0; roots[r] && s < 3 && k->folders[s]; s++) {
            char d[1100];
            if (snprintf(d, sizeof d, "%s/%s", roots[r], k->folders[s]) >= (int)sizeof d) continue;
            if (has_lists(d)) {
                if ((size_t)snprintf(dir, n, "%s", d) >= n) return hl_error_set(HL_EINVAL, "%s: path too long", d);
                return HL_OK;
            }
            int w = snprintf(tried + tl, sizeof tried - tl, "%s%s", tl ? ", " : "", d);
            if (w > 0) tl = HL_MIN(tl + (size_t)w, sizeof tried - 1);
        }
    }
    return hl_error_set(HL_ENOTFOUND,
                        "dataset '%s' not found; looked in: %s\n"
                        "  expected: one of those folders holding train.txt, test.txt and database.txt (DeepHash-pytorch "
                        "lists: one image per line, \"relative/path.jpg l1 ... lL\" with 0/1 labels) and the images at the "
                        "paths the lists name, relative to that folder; or a suite entry dataset: {image_list: DIR, "
                        "root: IMAGES_DIR} for lists and images kept apart\n"
                        "  source: %s\n"
                        "  hashlab does not download it: the data is large and its providers' terms must be accepted",
                        name, tried, k->about);
}

hl_status hl_lists_hash(const char *dir, char hex[65]) {
    static const int order[NFILES] = {F_TRAIN, F_TEST, F_DB};
    char missing[256] = "", p[1200];
    for (int i = 0; i < NFILES; i++)
        if (!readable(dir, file_names[order[i]]))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", missing[0] ? ", " : "",
                     file_names[order[i]]);
    if (missing[0])
        return hl_error_set(HL_ENOTFOUND, "%s: no %s (an image-list folder holds %s, DeepHash-pytorch's layout)", dir,
                            missing, HL_LISTS_FILES);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    hl_status st = HL_OK;
    unsigned char buf[1 << 16];
    for (int i = 0; ok && st == HL_OK && i < NFILES; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, file_names[order[i]]);
        FILE *f = fopen(p, "rb");
        if (!f) {
            st = hl_error_set(HL_EIO, "%s: cannot open", p);
            break;
        }
        uint8_t len[8];
        if (fseek(f, 0, SEEK_END) != 0) st = hl_error_set(HL_EIO, "%s: cannot seek", p);
        long sz = ftell(f);
        rewind(f);
        for (int b = 0; b < 8; b++) len[b] = (uint8_t)((uint64_t)(sz < 0 ? 0 : sz) >> (8 * b));
        ok = EVP_DigestUpdate(ctx, len, 8);
        size_t got;
        while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(ctx, buf, got);
        if (ferror(f)) st = hl_error_set(HL_EIO, "%s: read error", p);
        fclose(f);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (st < 0) return st;
    if (!ok) return hl_error_set(HL_ERR, "lists: SHA-256 (OpenSSL EVP) failed");
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return HL_OK;
}

/* ---- the union ------------------------------------------------------------------------------------------------ */

typedef struct uentry {
    const char *path;       /* as written (borrowed from a list file) */
    const uint8_t *bits;
    int file;               /* the file that listed it first */
    int64_t line;           /* there */
    int64_t lines[NFILES];  /* its line in each file (0: not listed there) */
} uentry;

typedef struct utable {
    int64_t *slot; /* [cap] union index + 1, 0 = empty */
    int64_t cap;
} utable;

static uint64_t str_hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of path: holding its union index + 1, or 0 (free). */
static int64_t *ut_find(const utable *t, const uentry *u, const char *path) {
    int64_t i = (int64_t)(str_hash(path) & (uint64_t)(t->cap - 1));
    while (t->slot[i] && strcmp(u[t->slot[i] - 1].path, path)) i = (i + 1) & (t->cap - 1);
    return &t->slot[i];
}

static const char *basename_of(const char *dir, char *buf, size_t n) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    const char *b = dir;
    for (size_t i = 0; i < len; i++)
        if (dir[i] == '/' && i + 1 < len) b = dir + i + 1;
    snprintf(buf, n, "%.*s", (int)(len - (size_t)(b - dir)), b);
    return buf;
}

hl_status hl_dataset_load_lists(hl_dataset *out, hl_split *split, const hl_lists_opts *o) {
    memset(out, 0, sizeof *out);
    if (split) memset(split, 0, sizeof *split);
    hl_status st = HL_OK;
    hl_list_file lf[NFILES];
    memset(lf, 0, sizeof lf);
    uentry *u = NULL;
    utable t = {0};
    int64_t *member[NFILES] = {0}, nu = 0, total = 0;
    hl_img_src *src = NULL;
    char **full = NULL, p[1200], nbuf[256], cdir[1024];
    const char *root = o->root && o->root[0] ? o->root : o->dir, *cache_dir = o->cache_dir;
    char hex[65];
    HL_TRY(hl_lists_hash(o->dir, hex)); /* says which lists are missing */
    for (int f = 0; f < NFILES; f++) {
        snprintf(p, sizeof p, "%s/%s", o->dir, file_names[f]);
        HL_TRY(hl_list_file_read(&lf[f], p));
        total += lf[f].n;
        if (lf[f].nlabels != lf[0].nlabels)
            HL_TRY(hl_error_set(HL_EFORMAT, "%s: %d labels per line, %s has %d: the three lists must agree", p,
                                lf[f].nlabels, lf[0].path_of_list, lf[0].nlabels));
    }
    const int L = lf[0].nlabels;
    t.cap = 16;
    while (t.cap < 2 * total) t.cap *= 2;
    t.slot = calloc((size_t)t.cap, sizeof *t.slot);
    u = malloc((size_t)total * sizeof *u);
    for (int f = 0; f < NFILES; f++) member[f] = malloc((size_t)lf[f].n * sizeof *member[f]);
    if (!t.slot || !u || !member[0] || !member[1] || !member[2])
        HL_TRY(hl_error_set(HL_ENOMEM, "%s: out of memory for %lld list entries", o->dir, (long long)total));
    for (int f = 0; f < NFILES; f++) {
        const hl_list_file *l = &lf[f];
        for (int64_t j = 0; j < l->n; j++) {
            const uint8_t *bits = l->bits + j * L;
            int64_t *slot = ut_find(&t, u, l->path[j]);
            if (!*slot) {
                u[nu] = (uentry){l->path[j], bits, f, l->line[j], {0}};
                u[nu].lines[f] = l->line[j];
                *slot = ++nu;
                member[f][j] = nu - 1;
                continue;
            }
            uentry *e = &u[*slot - 1];
            const char *where = lf[e->file].path_of_list;
            if (e->lines[f])
                HL_TRY(hl_error_set(HL_EFORMAT, "%s:%lld: %s is listed twice (first on line %lld)", l->path_of_list,
                                    (long long)l->line[j], l->path[j], (long long)e->lines[f]));
            e->lines[f] = l->line[j];
            if (f == F_TEST || (f == F_TRAIN && e->file == F_TEST))
                HL_TRY(hl_error_set(HL_EINVAL, "%s:%lld: %s is a query (%s) and also listed in %s:%lld: a query must "
                                    "be neither in the database nor trained on", f == F_TEST ? l->path_of_list : where,
                                    (long long)(f == F_TEST ? l->line[j] : e->line), l->path[j],
                                    file_names[F_TEST], f == F_TEST ? where : l->path_of_list,
                                    (long long)(f == F_TEST ? e->line : l->line[j])));
            if (memcmp(e->bits, bits, (size_t)L))
                HL_TRY(hl_error_set(HL_EFORMAT, "%s:%lld: %s has other labels than on %s:%lld", l->path_of_list,
                                    (long long)l->line[j], l->path[j], where, (long long)e->line));
            member[f][j] = *slot - 1;
        }
    }
    /* the train relation (members of train.txt that database.txt also lists) */
    int64_t nt = lf[F_TRAIN].n, nd = lf[F_DB].n, in_db = 0;
    for (int64_t j = 0; j < nt; j++) in_db += u[member[F_TRAIN][j]].file == F_DB;
    hl_split_train_rel rel = in_db == nt && nt == nd ? HL_SPLIT_TRAIN_IS_DB
                             : in_db == nt           ? HL_SPLIT_TRAIN_IN_DB
                             : in_db == 0            ? HL_SPLIT_TRAIN_DISJOINT
                                                     : (hl_split_train_rel)-1;
    if ((int)rel < 0)
        HL_TRY(hl_error_set(HL_EINVAL, "%s: %lld of the %lld images of train.txt are in database.txt: the training "
                            "images must all be in the database (DeepHash-pytorch's lists), or none of them",
                            o->dir, (long long)in_db, (long long)nt));
    /* the images */
    src = calloc((size_t)nu, sizeof *src);
    full = calloc((size_t)nu, sizeof *full);
    if (!src || !full) HL_TRY(hl_error_set(HL_ENOMEM, "%s: out of memory", o->dir));
    for (int64_t i = 0; i < nu; i++) {
        if (!(full[i] = hl_list_join(root, u[i].path))) HL_TRY(hl_error_set(HL_ENOMEM, "%s: out of memory", o->dir));
        src[i] = (hl_img_src){full[i], lf[u[i].file].path_of_list, u[i].line};
    }
    if (o->size < 1 || o->size > 4096 || (o->channels != 1 && o->channels != 3))
        HL_TRY(hl_error_set(HL_EINVAL, "%s: image size %d (1..4096) and channels %d (1 or 3) are not supported",
                            o->dir, o->size, o->channels));
    if (o->cache && !cache_dir) {
        if (hl_image_cache_dir(cdir, sizeof cdir) == HL_OK) {
            cache_dir = cdir;
        } else {
            hl_msg(HL_LOG_WARN, "%s: no image cache (%s); decoding into memory", o->dir, hl_error_last());
            hl_error_clear();
        }
    }
    if (o->labels_only) {
        out->n = nu, out->c = o->channels, out->h = out->w = o->size;
    } else {
        HL_TRY(hl_images_load(out, src, nu, o->size, o->channels, o->cache ? cache_dir : NULL));
    }
    HL_TRY(hl_labels_create(&out->labels, nu, L));
    for (int64_t i = 0; i < nu; i++)
        for (int k = 0; k < L; k++)
            if (u[i].bits[k]) hl_labels_set(&out->labels, i, k);
    snprintf(out->name, sizeof out->name, "%.63s",
             o->name && o->name[0] ? o->name : basename_of(o->dir, nbuf, sizeof nbuf));
    snprintf(out->source, sizeof out->source, "%s", o->dir);
    if (split)
        HL_TRY(hl_split_from_lists(split, out, "lists", rel, member[F_TEST], lf[F_TEST].n, member[F_TRAIN], nt,
                                   member[F_DB], nd));
done:
    for (int64_t i = 0; full && i < nu; i++) free(full[i]);
    free(full);
    free(src);
    for (int f = 0; f < NFILES; f++) {
        free(member[f]);
        hl_list_file_free(&lf[f]);
    }
    free(u);
    free(t.slot);
    if (st < 0) {
        hl_dataset_free(out);
        if (split) hl_split_free(split);
    }
    return st;
}
