/* core/data/dataset.h — image datasets in memory: 8-bit pixels, multi-hot labels, read as float32 in [0,1].
 *
 * Every real source is 8-bit, so pixels are kept as uint8 [n, c, h, w] (CIFAR-10 at 60,000 × 3 × 32 × 32 is 184 MB,
 * not 737 MB as float) and converted to float32 in [0,1] (value / 255) when a batch is read. Normalisation (mean/std)
 * belongs to the model, never to the dataset. Labels are label SETS (core/labels.h); single-label sets also keep
 * their class ids.
 *
 * Loaders (each fills a zeroed hl_dataset; on error nothing is leaked and the message names the path and reason):
 *   hl_dataset_load_cifar        CIFAR-10 / CIFAR-100 binary version (cifar-10-batches-bin/, cifar-100-binary/)
 *   hl_dataset_load_idx          IDX image + label files (MNIST family), raw or gzip-compressed (zlib)
 *   hl_dataset_load_image_list   "relative/path.jpg l1 l2 … lL" lists (NUS-WIDE/COCO/FLICKR style), PNG + JPEG
 *   hl_dataset_load_image_list_cached   the same, decoded once into a memory-mapped cache file (below)
 *   hl_dataset_load_lists        DeepHash-pytorch's train/test/database.txt as one dataset + split (core/data/lists.h)
 *   hl_dataset_synthetic         seeded class-conditional patterns of any size / channels / class count
 *   hl_dataset_open              by name with the default search path (see below)
 *
 * Sample order is the source's order (CIFAR: data_batch_1..5 then test_batch; IDX/Fashion-MNIST: train then t10k),
 * so a seeded split (core/data/split.h) names the same images everywhere.
 */
#ifndef HL_DATASET_H
#define HL_DATASET_H

#include "core/labels.h"

typedef struct hl_dataset {
    char name[64];        /* "cifar10", "fashion-mnist", "synthetic", the list file's stem, ... */
    char source[1024];    /* where it was loaded from (for manifests and messages) */
    int64_t n;            /* samples */
    int c, h, w;          /* channels, height, width */
    uint8_t *pixels;      /* [n, c, h, w], owned: malloc'd, or inside `map` (then never free()d) */
    void *map;            /* non-NULL: pixels lie in this private read-write mapping of a cache file (copy-on-write:
                           * writes never reach the file), unmapped by hl_dataset_free */
    size_t map_len;       /* bytes mapped at map */
    hl_labels labels;     /* [n, L] label sets */
    int64_t *class_id;    /* [n] for single-label sets, NULL for multi-label ones */
    char **class_names;   /* [L] or NULL */
} hl_dataset;

void hl_dataset_free(hl_dataset *d); /* NULL-safe; leaves *d zeroed */

/* A view of d without its labels, for unsupervised and semi-supervised fits: the same pixels (shared, not owned),
 * no label rows (labels zeroed: n = 0, bits NULL), no class ids, no class names. A method handed this view cannot
 * read the labels it hides. Never hl_dataset_free a view; it is valid while d is. */
hl_dataset hl_dataset_unlabelled_view(const hl_dataset *d);
static inline bool hl_dataset_has_labels(const hl_dataset *d) { return d->labels.bits != NULL; }

/* Images idx[0..m) as float32 [m, c, h, w] in [0,1] (pixel / 255). */
void hl_dataset_read(const hl_dataset *d, const int64_t *idx, int64_t m, float *out);
static inline int64_t hl_dataset_image_size(const hl_dataset *d) { return (int64_t)d->c * d->h * d->w; }
static inline bool hl_dataset_single_label(const hl_dataset *d) { return d->class_id != NULL; }

/* which = 10 or 100; part = "train", "test" or "all" (train then test). CIFAR-100 uses the fine labels (100). */
hl_status hl_dataset_load_cifar(hl_dataset *out, const char *dir, int which, const char *part);
/* IDX (magic 0x00000803 images [n, h, w] uint8, 0x00000801 labels [n] uint8); ".gz" files are inflated. */
hl_status hl_dataset_load_idx(hl_dataset *out, const char *images_path, const char *labels_path);
/* Fashion-MNIST / MNIST directory with the four standard files (train-images-idx3-ubyte[.gz], ...): train (60,000)
 * then t10k (10,000) = 70,000 samples. */
hl_status hl_dataset_load_mnist_dir(hl_dataset *out, const char *dir, const char *name);

/* Image list: each line "relative/path.ext l1 l2 … lL" (0/1 multi-hot, L equal on every line); paths relative to
 * `root`; PNG and JPEG decoded and resized (bilinear, antialiased when shrinking) to size × size, `channels` 1 or 3.
 * Decoding runs in parallel (OpenMP) in chunks, reporting hl_job_progress("decode", done, n, NULL) after each and
 * stopping with HL_EINTR at a stop request (core/job.h); a missing or corrupt image is an error naming the list
 * file, its line and the image path ("LIST:LINE: PATH: reason"), the first in list order.
 * (core/data/image_stream.h reads the same lists a batch at a time, labels optional: hashlab embed / encode.) */
hl_status hl_dataset_load_image_list(hl_dataset *out, const char *list_path, const char *root, int size, int channels);

/* As hl_dataset_load_image_list, with the decoded pixels cached in cache_dir (NULL: hl_image_cache_dir()):
 *
 *   file   CACHE_DIR/<key>.u8: a 4096-byte header (magic "HLIMGCACHE", version, n, c, h, w, the key) and the pixels
 *          uint8 [n, c, size, size]; written atomically (a temp file in CACHE_DIR, fsync, rename), decoded straight
 *          into a shared mapping of the temp file (posix_fallocate first, so a full disk is an error, not SIGBUS).
 *   key    SHA-256 of: a format tag, size, channels, n and, for every image in order, the path as opened (root
 *          joined), its size in bytes and its modification time (ns). Not the image bytes: on 10,000 256×256 JPEGs
 *          (`hashlab bench lists`) hashing them costs 0.17 s of CPU (1% of decoding them, 19 s) but 8× the
 *          stat()-based key (0.02 s), on every load and from the page cache; on a cold disk it reads every image
 *          each run. A changed image changes its mtime. Labels are not in the key: they are read
 *          from the list every time, so a relabelled list reuses the cache, an added, removed, reordered or renamed
 *          image does not. Moving the data folder re-decodes (the paths are in the key).
 *   load   a valid cache file is memory-mapped (out->map; nothing decoded): a second load of a 10,000-image list
 *          costs the stat()s and the hashing of the paths. A cache file that does not match (truncated, other
 *          shape) is decoded again over it. When the cache cannot be written (read-only folder, no space) the images
 *          are decoded into memory with a warning.
 * The cache files can be deleted at any time. */
hl_status hl_dataset_load_image_list_cached(hl_dataset *out, const char *list_path, const char *root, int size,
                                            int channels, const char *cache_dir);

/* The folder of the decoded-image cache: $HASHLAB_CACHE_DIR if set and non-empty, else ~/.cache/hashlab/lists. */
hl_status hl_image_cache_dir(char *buf, size_t n);

/* Images decoded by the list loaders (and image streams) in this process so far (tests and benchmarks: a cache hit
 * decodes none). */
int64_t hl_image_list_decoded(void);

typedef struct hl_synth_opts {
    int64_t n;     /* samples */
    int c, h, w;   /* image shape (h, w >= 8) */
    int classes;   /* >= 2 */
    uint64_t seed;
    float noise;   /* background noise amplitude in [0, 1], e.g. 0.3 */
} hl_synth_opts;
/* Class-conditional patterns (per-class position/orientation/colour of a shape on noise) that a small CNN learns;
 * deterministic in (opts); sample i is a pure function of (seed, i), independent of n. */
hl_status hl_dataset_synthetic(hl_dataset *out, const hl_synth_opts *o);

/* By name: "cifar10", "cifar100", "fashion-mnist", "mnist", and the image-list sets "nus-wide", "flickr25k", "coco",
 * "imagenet100" (core/data/lists.h: 224 × 224 RGB, cached; train, test and database lists as one dataset). Looks in, in order: `root` if non-NULL, $HASHLAB_DATA,
 * ./data, ~/.cache/hashlab, /usr/share/datasets. A missing dataset is HL_ENOTFOUND with a message listing every
 * place looked and how to get it ("hashlab data fetch cifar10", "apt-get install dataset-fashion-mnist"). */
hl_status hl_dataset_open(hl_dataset *out, const char *name, const char *root);

#endif
