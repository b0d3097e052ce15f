/* lab/model_open.h — a trained hasher outside the suite that trained it (hashlab encode): from a train cell's
 * directory (runs/<suite>/cells/<key>/, holding result.json and model.safetensors) or from a bare model.safetensors.
 *
 * Cell directory: result.json must be a train cell's ("kind": "train") that finished ("status": "done"); it gives the
 * method ("hasher_method"), bits, seed and resolved params ("hasher_params"), and the input shape ("input": [C, H, W],
 * written since hashlab 0.1's encode; for cells written before, the checkpoint's metadata, else the suite's dataset:
 * cifar10/cifar100 3×32×32, fashion-mnist/mnist 1×28×28, synthetic from the run's suite.resolved.json). When the cell
 * sits in a run directory (../../plugins.json), the run's plugins are loaded first, as `hashlab status` does.
 * Bare file: the checkpoint's metadata (hashers/hasher.h, hl_hasher_spec_from_checkpoint); a file written before the
 * metadata held the params and input shape is refused, naming the cell directory as the way to load it.
 */
#ifndef HL_LAB_MODEL_OPEN_H
#define HL_LAB_MODEL_OPEN_H

#include "hashers/hasher.h"

/* *out: the loaded hasher (fitted; hl_hasher_free); spec: what it was rebuilt from (hl_hasher_spec_free);
 * ckpt (n bytes): the checkpoint's path. */
hl_status hl_model_open(hl_hasher **out, hl_hasher_spec *spec, char *ckpt, size_t n, const char *model,
                        hl_device dev);

#endif
