/* core/data/dataset_impl.h — internal helpers shared by the dataset loaders (not part of the public API). */
#ifndef HL_DATASET_IMPL_H
#define HL_DATASET_IMPL_H

#include "core/data/dataset.h"

/* Heap copy of n class names (each string copied), as hl_dataset_free expects; NULL when out of memory. */
char **hl_dataset_names_dup(const char *const *src, int n);

#endif
