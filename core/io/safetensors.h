/* core/io/safetensors.h — reader and writer of the safetensors format (huggingface/safetensors), F32 tensors.
 *
 * File layout:
 *     u64 little-endian N | N bytes of UTF-8 JSON header | data section
 *     header = {"__metadata__": {"key": "value", ...},
 *               "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
 *   Offsets are bytes relative to the data section; data is raw little-endian, row-major.
 *
 * Writer (as the reference implementation): tensors sorted by name (bytewise) and laid out contiguously in that
 * order, "__metadata__" first (its keys sorted, omitted when empty), no whitespace, header padded with spaces so N is
 * a multiple of 8. Names must be unique, non-empty UTF-8 without NUL.
 *
 * Reader: validates everything before handing out a tensor, and never crashes on any input —
 *   - N <= 100 MB and 8 + N <= file size; header valid UTF-8 and JSON (strict grammar, nesting <= 64, trailing
 *     whitespace allowed), an object; duplicate keys rejected;
 *   - each tensor: dtype a known safetensors dtype (unknown -> HL_EUNSUPPORTED), shape an array of <= 8
 *     non-negative integers, data_offsets [begin, end] with begin <= end and end − begin == numel·dtype size (no
 *     overflow); sorted by begin the tensors tile the data section exactly (no gap, no overlap, last end == data size);
 *   - "__metadata__" null or an object of string values.
 *   Violations are HL_EFORMAT (message names the file, the tensor and the offending value). Reading a tensor whose
 *   dtype is not F32 is HL_EUNSUPPORTED. Unknown keys inside a tensor entry are ignored (forward compatibility).
 *
 *     hl_safetensors *st;
 *     if ((s = hl_safetensors_open(&st, path)) < 0) return s;
 *     const hl_st_tensor *t = hl_safetensors_find(st, "fc.weight");
 *     hl_safetensors_read_f32(st, t, dst, numel);
 *     hl_safetensors_close(st);
 */
#ifndef HL_IO_SAFETENSORS_H
#define HL_IO_SAFETENSORS_H

#include <stdio.h>

#include "core/common.h"

#define HL_ST_MAX_DIMS 8
#define HL_ST_MAX_HEADER (100u * 1000u * 1000u)

typedef struct hl_st_tensor {
    char *name;
    char dtype[8];      /* "F32", "F16", "I64", ... */
    int dtype_size;     /* bytes per element */
    int ndim;
    int64_t shape[HL_ST_MAX_DIMS];
    int64_t numel;
    uint64_t begin, end; /* byte offsets in the data section */
} hl_st_tensor;

typedef struct hl_safetensors {
    hl_st_tensor *t; /* sorted by name */
    int n;
    char **meta_key, **meta_val;
    int n_meta;
    uint64_t data_start, data_len; /* absolute offset of the data section, its size */
    FILE *f;                /* file source, or */
    const unsigned char *mem; /* memory source (borrowed) */
    char *path;             /* for messages */
} hl_safetensors;

hl_status hl_safetensors_open(hl_safetensors **out, const char *path);
/* Parses a file image in memory; buf is borrowed and must outlive the reader. */
hl_status hl_safetensors_open_mem(hl_safetensors **out, const void *buf, size_t len);
void hl_safetensors_close(hl_safetensors *st);

const hl_st_tensor *hl_safetensors_find(const hl_safetensors *st, const char *name);
/* Metadata value for key, NULL if absent. */
const char *hl_safetensors_meta(const hl_safetensors *st, const char *key);
/* Reads tensor t (dtype F32, numel == n) into dst (host floats). */
hl_status hl_safetensors_read_f32(hl_safetensors *st, const hl_st_tensor *t, float *dst, int64_t n);

/* One tensor to write: ndim 0..8 dims (0-dim = scalar), data = numel host floats. */
typedef struct hl_st_entry {
    const char *name;
    int ndim;
    const int64_t *shape;
    const float *data;
} hl_st_entry;

/* Writes a complete safetensors image to f (at its current position). meta: n_meta key/value strings. */
hl_status hl_safetensors_write(FILE *f, const hl_st_entry *e, int n, const char *const *meta_keys,
                               const char *const *meta_vals, int n_meta);
/* Same into `path`, atomically (core/io/atomic.h). */
hl_status hl_safetensors_save(const char *path, const hl_st_entry *e, int n, const char *const *meta_keys,
                              const char *const *meta_vals, int n_meta);

#endif
