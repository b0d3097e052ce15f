/* core/data/lists.h — image-list datasets in DeepHash-pytorch's layout (NUS-WIDE, FLICKR-25K, MS-COCO, ImageNet-100):
 * a folder holding three lists, loaded as ONE dataset plus the split the lists define.
 *
 *     DIR/train.txt      training images       one image per line: "relative/path.jpg l1 l2 … lL", L labels 0/1
 *     DIR/test.txt       queries               (multi-hot; the list format of core/data/image_list.c)
 *     DIR/database.txt   retrieval database    (DeepHash-pytorch: contains the training images)
 *
 * Relative image paths resolve against `root` (default DIR): DeepHash-pytorch keeps the lists in its repository
 * (data/nuswide_21/) and the images elsewhere (its config's data_path, e.g. /dataset/NUS-WIDE/), so root is that
 * data_path.
 *
 * The dataset is the union of the three files: database.txt's images in file order, then test.txt's, then
 * train.txt's, each image (the same path string) stored once, so train ⊂ database is recognised and the decoded
 * pixels are not duplicated. Problems, each naming FILE:LINE and the image path: an image listed twice in one file; an
 * image with other labels in another file; a query (test.txt) that is also in database.txt or train.txt (a query
 * must not retrieve itself, nor be trained on). All three lists must have the same number of labels L.
 *
 * Split (core/data/split.h, hl_split_from_lists, protocol "lists", seed 0): query = test.txt, train = train.txt,
 * database = database.txt, each in file order (database order = dataset order: the tie order of `ties: index`).
 * Train relation, from the lists: "equal" when train and database hold the same images, "subset" when every training
 * image is in the database (DeepHash-pytorch's lists), "disjoint" when none is; a partial overlap is HL_EINVAL.
 *
 * Named sets (hl_lists_find): the folder is looked for in the data search path of core/data/dataset.h (root,
 * $HASHLAB_DATA, ./data, ~/.cache/hashlab, /usr/share/datasets) under DeepHash-pytorch's folder names, and must hold
 * the three lists, with the images at the paths the lists name (relative to that folder):
 *     nus-wide     nuswide_21/, NUS-WIDE/, nus-wide/       21 concepts; 2,100 queries, 10,500 train in a database of
 *                                                          193,734 (paths images/NNN_..._m.jpg)
 *     flickr25k    mirflickr/, flickr25k/, MIRFLICKR-25K/  38 labels; 1,000 queries, 4,000 train, database 20,000
 *                                                          (train not in the database; paths imN.jpg)
 *     coco         coco/, COCO_2014/                       80 categories; 5,000 queries, 10,000 train in a database
 *                                                          of 117,218 (HashNet's split)
 *     imagenet100  imagenet/, imagenet100/                 100 classes (one label each); 5,000 queries (validation
 *                                                          images), 13,000 train in the database (paths image/...)
 * (counts and paths as in DeepHash-pytorch's lists and its data/SET/code.py). hashlab downloads none of them: they
 * are large and need their providers' terms accepted; a missing set is HL_ENOTFOUND with the places looked, the
 * layout and the source.
 */
#ifndef HL_DATA_LISTS_H
#define HL_DATA_LISTS_H

#include "core/data/split.h"

#define HL_LISTS_FILES "train.txt, test.txt and database.txt"

typedef struct hl_lists_opts {
    const char *dir;       /* the folder holding the three lists */
    const char *root;      /* where relative image paths resolve (NULL or "": dir) */
    const char *name;      /* the dataset's name (NULL or "": dir's last component) */
    int size, channels;    /* images resized to size × size (1..4096), channels 1 or 3 */
    bool cache;            /* decode once into the image cache (dataset.h: hl_dataset_load_image_list_cached) */
    const char *cache_dir; /* NULL: hl_image_cache_dir() */
    bool labels_only;      /* no image is opened: pixels NULL, n, c, h, w set (a dry run's plan) */
} hl_lists_opts;

/* Checks that dir holds the three lists (HL_ENOTFOUND naming the missing files and what is expected) and hashes their
 * content: SHA-256 over, for train.txt, test.txt and database.txt in that order, u64le(byte length) ‖ bytes. */
hl_status hl_lists_hash(const char *dir, char hex[65]);

/* The union dataset (above) into *out, and, when split is non-NULL, the lists' split. */
hl_status hl_dataset_load_lists(hl_dataset *out, hl_split *split, const hl_lists_opts *o);

/* Named sets. */
typedef struct hl_lists_known {
    const char *name;        /* "nus-wide" */
    const char *folders[3];  /* folder names looked for under each search root */
    const char *about;       /* what it is and where it comes from (for HL_ENOTFOUND) */
} hl_lists_known;

/* The named set, or NULL. */
const hl_lists_known *hl_lists_known_find(const char *name);
/* "nus-wide, flickr25k, coco, imagenet100". */
const char *hl_lists_known_names(void);
/* The folder of named set `name` (the first search root × folder holding all three lists) into dir. HL_ENOTFOUND:
 * every place looked, the expected layout and where to get the data; HL_EINVAL: not a named set. */
hl_status hl_lists_find(const char *name, const char *root, char *dir, size_t n);

#endif
