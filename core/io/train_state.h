/* core/io/train_state.h — resumable training: everything a training loop carries from one epoch to the next, saved
 * after every epoch and restored by the next run, so that an interrupted fit continues bit for bit.
 *
 * A loop registers what it carries, then asks where to start, then saves after each epoch:
 *
 *     hl_train_state ts;
 *     hl_train_state_init(&ts, h->workdir, "fit_state.safetensors", "dpsh 32b", E, fingerprint);
 *     hl_train_state_params(&ts, "model", &self->params);   // parameters and buffers (batch-norm statistics)
 *     hl_train_state_optim(&ts, "opt", t.opt);              // moments, per-tensor step counts, current lr
 *     hl_train_state_blob(&ts, "U", U, n * K * sizeof *U);  // host state: codes, counters, RNG structs
 *     int64_t e0;
 *     HL_TRY(hl_train_state_resume(&ts, &e0));              // 0 when there is no state file
 *     for (int64_t e = e0; e < E; e++) {
 *         ... one epoch ...
 *         HL_TRY(hl_train_state_epoch_end(&ts, e + 1));     // saves; HL_EINTR when a stop was requested
 *     }
 *     hl_train_state_free(&ts);
 *
 * What makes a resumed run equal to an uninterrupted one: the state after epoch e is a function of what is
 * registered (plus things that are functions of (seed, epoch): batch orders and augmentation, core/data/batch.h).
 * So a loop must register every value it carries across epochs — parameters, buffers, optimizer state, host arrays
 * and every hl_rng it keeps drawing from. Work inside an epoch is never saved: a stop request mid-epoch (hl_job_check
 * between steps) drops that epoch's partial work and the run resumes at its start.
 *
 * File: safetensors (F32 tensors; byte blobs are padded to whole floats and stored bit for bit), atomically
 * replaced after every epoch (core/io/atomic.h), so a crash at any moment leaves the previous epoch's state or the
 * new one, never a mix. Metadata: "format" = HL_TRAIN_STATE_FORMAT, "what", "done" (epochs finished), "total",
 * "fingerprint" (the caller's hash of the training configuration), per blob "blob.<name>.bytes", per optimizer its
 * "optim.*" keys prefixed "<name>:" (core/optim.h).
 * resume checks the format, `total` and `fingerprint` and every registered item's name and size before changing
 * anything; a file that does not match (another configuration, a changed method) is HL_EMISMATCH naming what
 * differs — the caller decides whether to start over (the lab does, with a warning). A disabled state (dir NULL)
 * saves and restores nothing; epoch_end still checks for stop requests.
 */
#ifndef HL_IO_TRAIN_STATE_H
#define HL_IO_TRAIN_STATE_H

#include "core/nn/params.h"
#include "core/optim.h"

#define HL_TRAIN_STATE_FORMAT "hashlab-train-state-1"
#define HL_TRAIN_STATE_MAX 64

typedef enum hl_train_item_kind { HL_TRAIN_PARAMS, HL_TRAIN_OPTIM, HL_TRAIN_BLOB } hl_train_item_kind;

typedef struct hl_train_item {
    hl_train_item_kind kind;
    char name[32];
    hl_params *params; /* PARAMS */
    hl_optim *optim;   /* OPTIM */
    void *data;        /* BLOB */
    size_t bytes;
} hl_train_item;

typedef struct hl_train_state {
    bool on;             /* a directory was given */
    char path[1280];
    char what[96];       /* "dpsh 32b": messages */
    char fingerprint[80];
    char unit[24];       /* what `done` counts, for messages: "epoch" (default) */
    int64_t total;       /* epochs planned */
    hl_train_item item[HL_TRAIN_STATE_MAX];
    int n;
    double t_saved;      /* seconds spent saving (reported by the caller if it likes) */
} hl_train_state;

/* dir NULL or "": disabled. file: the name inside dir. fingerprint: any string (NULL = ""). */
void hl_train_state_init(hl_train_state *s, const char *dir, const char *file, const char *what, int64_t total,
                         const char *fingerprint);
/* What a step of `done` is called in messages ("epoch" by default; "chunk of queries", ...). */
void hl_train_state_set_unit(hl_train_state *s, const char *unit);
/* Registration (names unique per state, [A-Za-z0-9_]+, < 32 bytes; at most HL_TRAIN_STATE_MAX items: both are
 * programming errors, HL_ASSERT). The registered memory must stay valid until the last save / resume. */
void hl_train_state_params(hl_train_state *s, const char *name, hl_params *p);
void hl_train_state_optim(hl_train_state *s, const char *name, hl_optim *o);
void hl_train_state_blob(hl_train_state *s, const char *name, void *data, size_t bytes);

/* *done = epochs finished by the saved state (0 when disabled or no file), everything registered restored. Logs
 * "dpsh 32b: resuming after epoch 4/8 (PATH)". HL_EMISMATCH / HL_EFORMAT as above; nothing is changed then. */
hl_status hl_train_state_resume(hl_train_state *s, int64_t *done);
/* Saves the registered state as "done epochs finished" (nothing when disabled). */
hl_status hl_train_state_save(hl_train_state *s, int64_t done);
/* hl_train_state_save, then hl_job_check(): HL_EINTR when a stop was requested, with the message
 * "interrupted after epoch D/T of WHAT (state saved)". */
hl_status hl_train_state_epoch_end(hl_train_state *s, int64_t done);
/* Epochs finished and planned of the state file at path (HL_ENOTFOUND when there is none; HL_EFORMAT when it is
 * not a training state). For messages ("kept: epoch 4/8"). */
hl_status hl_train_state_peek(const char *path, int64_t *done, int64_t *total);
/* Bytes of blob `name` in the state file at path (HL_ENOTFOUND when there is no file or no such blob): lets a
 * caller size a buffer that exists only after the first save (an attack's trace) before registering it. */
hl_status hl_train_state_peek_blob(const char *path, const char *name, size_t *bytes);
/* Deletes the state file (nothing when disabled or absent). */
void hl_train_state_remove(const hl_train_state *s);

#endif
