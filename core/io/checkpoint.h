/* core/io/checkpoint.h — model checkpoints: an hl_params (parameters AND buffers) as a safetensors file + metadata.
 *
 * The file is plain safetensors (core/io/safetensors.h), so PyTorch reads it with safetensors.torch.load_file();
 * tensor names are the hl_params names. Metadata ("__metadata__", string -> string) holds the caller's key/values
 * plus two keys the writer always sets:
 *     "format" = "hashlab-checkpoint-1",  "hashlab_version" = the library version.
 * Conventional caller keys: "method" (hasher name), "bits", "config_hash" (the cell key), anything else.
 *
 * Save is atomic (core/io/atomic.h): the previous file stays intact until the new one is complete on disk.
 *
 * Load checks before touching the model: the file parses (HL_EFORMAT otherwise), every parameter and buffer name is
 * present (missing -> HL_EMISMATCH listing the names), with the same shape (HL_EMISMATCH "'fc.weight': checkpoint
 * [10, 5], model [12, 5]"), dtype F32 (HL_EUNSUPPORTED otherwise), and the file holds no other tensors (unexpected ->
 * HL_EMISMATCH listing them). The _ex form relaxes the last two rules with flags (for partial loads such as a
 * pretrained backbone under a new head); relaxed problems are logged as warnings. Then every value is read into a
 * staging buffer and must be finite (HL_ENUMERIC "PATH: tensor 'fc.weight' holds a non-finite value (NaN at element
 * 7) ..."): a diverged model is never loaded and attacked. Only then is anything copied into the model, so a failed
 * load leaves it unchanged.
 *
 * Training checkpoints (resumable training): hl_checkpoint_save_train also stores an optimizer's state in the same
 * file — the tensors and "optim.*" metadata of hl_optim_state_export (core/optim.h: "optim.<param>.exp_avg", ...,
 * per-tensor step counts, kind, hyper-parameters, current lr). hl_checkpoint_load_train restores model AND optimizer
 * so that continuing gives bit-for-bit the run that was never interrupted. It checks everything before changing
 * anything: the file parses (HL_EFORMAT); it holds optimizer state at all (HL_EMISMATCH "... holds no optimizer
 * state" for a model-only checkpoint); the optimizer's kind, hyper-parameters and group multipliers equal the saved
 * ones (HL_EMISMATCH naming the difference; hl_optim_state_check_meta); every model and optimizer-state tensor is
 * present with its shape and no other tensor is (HL_EMISMATCH listing them; no ALLOW_ flags here). Usage:
 *     save:   hl_checkpoint_save_train(path, &model->params, optim, &meta);
 *     resume: build the model and the optimizer exactly as for a fresh run (same config, same hl_optim_set_group
 *             calls), then hl_checkpoint_load_train(path, &model->params, optim, &meta) and keep stepping.
 * The "optim." metadata prefix is reserved: caller keys starting with it are dropped by both savers. The plain
 * loaders accept a training checkpoint and ignore its optimizer-state tensors (evaluation of a training snapshot).
 */
#ifndef HL_IO_CHECKPOINT_H
#define HL_IO_CHECKPOINT_H

#include "core/nn/params.h"
#include "core/optim.h"

#define HL_CKPT_FORMAT "hashlab-checkpoint-1"
#define HL_CKPT_KEY_FORMAT "format"
#define HL_CKPT_KEY_VERSION "hashlab_version"
#define HL_CKPT_KEY_METHOD "method"
#define HL_CKPT_KEY_BITS "bits"
#define HL_CKPT_KEY_CONFIG_HASH "config_hash"

/* A small ordered string map (keys unique). Zero-initialised is valid and empty. */
typedef struct hl_ckpt_meta {
    int n, cap;
    char **key, **val;
} hl_ckpt_meta;

void hl_ckpt_meta_init(hl_ckpt_meta *m);
void hl_ckpt_meta_free(hl_ckpt_meta *m);
/* Adds or replaces key. */
hl_status hl_ckpt_meta_set(hl_ckpt_meta *m, const char *key, const char *val);
hl_status hl_ckpt_meta_set_int(hl_ckpt_meta *m, const char *key, long long val);
/* NULL if absent. */
const char *hl_ckpt_meta_get(const hl_ckpt_meta *m, const char *key);

/* meta may be NULL. */
hl_status hl_checkpoint_save(const char *path, const hl_params *p, const hl_ckpt_meta *meta);

enum {
    HL_CKPT_ALLOW_MISSING = 1u << 0,   /* model tensors absent from the file keep their values */
    HL_CKPT_ALLOW_UNEXPECTED = 1u << 1 /* file tensors unknown to the model are ignored */
};
/* meta_out (may be NULL) receives all the file's metadata on success (free with hl_ckpt_meta_free). */
hl_status hl_checkpoint_load(const char *path, hl_params *p, hl_ckpt_meta *meta_out);
hl_status hl_checkpoint_load_ex(const char *path, hl_params *p, hl_ckpt_meta *meta_out, unsigned flags);
/* Model + optimizer state (o must have been created over p), one atomic file; meta may be NULL. */
hl_status hl_checkpoint_save_train(const char *path, const hl_params *p, const hl_optim *o, const hl_ckpt_meta *meta);
/* Restores p and o from a hl_checkpoint_save_train file (o created over p, configured as the saved one). meta_out
 * (may be NULL) receives all the file's metadata, "optim.*" keys included. On error p, o and meta_out are unchanged
 * (meta_out empty), except after an I/O error while copying values. */
hl_status hl_checkpoint_load_train(const char *path, hl_params *p, hl_optim *o, hl_ckpt_meta *meta_out);
/* Reads only the metadata (cheap: the header). */
hl_status hl_checkpoint_read_meta(const char *path, hl_ckpt_meta *meta_out);

#endif
