/* lab/suite_data.h — a suite's `dataset` beyond a name: image-list sets (core/data/lists.h), internal to lab/suite.c
 * and the runner. Users' documentation: suites/README.md ("Image lists").
 *
 *     dataset: {image_list: DIR, image_size: 224, channels: 3, root: IMAGES_DIR, name: NAME}
 *     dataset: nus-wide          # flickr25k | coco | imagenet100: a named set in the data search path, 224 × 224 RGB
 *     protocol: lists            # the lists' own split: query = test.txt, train = train.txt, database = database.txt
 *
 * The mapping form: DIR holds DeepHash-pytorch's train.txt, test.txt and database.txt; `root` (default DIR) is where
 * the lists' relative image paths resolve; `name` (default DIR's last component) names the dataset in results and
 * reports. DIR and root are taken from the directory `hashlab run` runs in when relative, as data_root is. Checked
 * when the suite loads, each at its file:line:col: unknown keys and types (the schema), a missing DIR or list files
 * (saying which files a DIR must hold), channels other than 1 or 3.
 *
 * Protocols: an image-list dataset defaults to `protocol: lists` and accepts lists or random:Q/T (over the union of
 * the three lists); the stratified cifar10* protocols need single-label data and are refused; `protocol: lists` with
 * any other dataset is refused.
 *
 * Keys: the resolved `dataset` (the mapping with its defaults, or the set's name) is in every train cell's key, and so
 * is the content hash of the three list files (hl_lists_hash, key "lists"): editing a list — a label, a line — makes
 * new cells. A named set's lists are found (and hashed) when the suite loads; when they are not on this machine the
 * suite still loads (its keys then lack the hash) and `hashlab run` stops with the places looked.
 */
#ifndef HL_LAB_SUITE_DATA_H
#define HL_LAB_SUITE_DATA_H

#include "lab/suite.h"

/* The `dataset` spec of the mapping form. */
const hl_param_spec *hl_suite_dataset_map_spec(void);

/* True when the raw `dataset` node names an image-list set (a mapping, or a named set). */
bool hl_suite_dataset_is_lists(const hl_config *dataset);

/* Problems of the raw tree's dataset and protocol that the schema cannot express (above), added to errs at their
 * nodes. Replaces the protocol's syntax check for image-list datasets and `protocol: lists`. */
void hl_suite_check_dataset(const hl_config *root, hl_config_errors *errs);

/* Fills s->dataset and s->lists from the resolved tree (valid suite keys), the lists' hash included; an image-list
 * dataset without a `protocol` key gets protocol "lists" in the resolved tree. Problems go to errs. */
hl_status hl_suite_fill_dataset(hl_suite *s, hl_config_errors *errs);

#endif
