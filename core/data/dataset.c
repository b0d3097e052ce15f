/* core/data/dataset.c — STUB: replaced by the real implementation. */
#include "core/data/dataset.h"

void hl_dataset_free(hl_dataset *d) {
    (void)d; 
    HL_ASSERT(0, "hl_dataset_free: not implemented yet");
}

void hl_dataset_read(const hl_dataset *d, const int64_t *idx, int64_t m, float *out) {
    (void)d; (void)idx; (void)m; (void)out; 
    HL_ASSERT(0, "hl_dataset_read: not implemented yet");
}

hl_status hl_dataset_load_cifar(hl_dataset *out, const char *dir, int which, const char *part) {
    (void)out; (void)dir; (void)which; (void)part; 
    HL_ASSERT(0, "hl_dataset_load_cifar: not implemented yet");
    return HL_ERR;
}

hl_status hl_dataset_load_idx(hl_dataset *out, const char *images_path, const char *labels_path) {
    (void)out; (void)images_path; (void)labels_path; 
    HL_ASSERT(0, "hl_dataset_load_idx: not implemented yet");
    return HL_ERR;
}

hl_status hl_dataset_load_mnist_dir(hl_dataset *out, const char *dir, const char *name) {
    (void)out; (void)dir; (void)name; 
    HL_ASSERT(0, "hl_dataset_load_mnist_dir: not implemented yet");
    return HL_ERR;
}

hl_status hl_dataset_load_image_list(hl_dataset *out, const char *list_path, const char *root, int size, int channels) {
    (void)out; (void)list_path; (void)root; (void)size; (void)channels; 
    HL_ASSERT(0, "hl_dataset_load_image_list: not implemented yet");
    return HL_ERR;
}

hl_status hl_dataset_synthetic(hl_dataset *out, const hl_synth_opts *o) {
    (void)out; (void)o; 
    HL_ASSERT(0, "hl_dataset_synthetic: not implemented yet");
    return HL_ERR;
}

hl_status hl_dataset_open(hl_dataset *out, const char *name, const char *root) {
    (void)out; (void)name; (void)root; 
    HL_ASSERT(0, "hl_dataset_open: not implemented yet");
    return HL_ERR;
}

