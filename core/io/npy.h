/* core/io/npy.h — numpy .npy arrays: read (format 1.0, 2.0, 3.0) and write (1.0, or 2.0 when the header needs it).
 *
 * File layout (numpy NEP 1 / numpy.lib.format): "\x93NUMPY", major, minor, header length (little-endian u16 for
 * 1.x, u32 for 2.x and 3.x), then the header, a Python dict literal (latin-1 for 1.x/2.x, UTF-8 for 3.x)
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n', then the raw data.
 *
 * Reading:
 *   - The dict is parsed as Python literal syntax: keys in any order, single or double quotes, any whitespace, an
 *     optional trailing comma (also inside the shape tuple). Exactly the three keys must be present (as numpy
 *     requires); a structured dtype (a list descr), another key, a duplicate key or other syntax is HL_EFORMAT.
 *   - dtypes: b1 (bool) u1 i1 u2 i2 u4 i4 u8 i8 f4 f8 with byte order '<', '|' or '=' (little-endian; hashlab runs
 *     on little-endian hosts only) or '>' (big-endian: bytes are swapped on read, so `data` is always native).
 *     Anything else (complex, float16, strings, objects) is HL_EUNSUPPORTED naming the descr.
 *   - fortran_order True is CONVERTED: the data are transposed on read, so `data` is always C order (row-major)
 *     with the shape as written in the header.
 *   - Up to HL_NPY_MAX_DIMS dimensions; a shape whose element or byte count overflows is HL_EFORMAT.
 *   - The data size is checked against the file size before anything is allocated: missing bytes are
 *     "PATH: truncated: expected N data bytes, found M"; bytes after the data are also HL_EFORMAT.
 *   - Every error message starts with the path.
 *
 * Writing: C order, little-endian, descr as numpy writes it ('|b1', '|u1', '|i1', '<i4', '<f8', ...), header padded
 * with spaces + '\n' so the data start at a multiple of 64 bytes (numpy's ARRAY_ALIGN, same padding rule as
 * numpy's _wrap_header); version 1.0 unless the header exceeds 65535 bytes, then 2.0. The file is written
 * atomically (core/io/atomic.h).
 */
#ifndef HL_IO_NPY_H
#define HL_IO_NPY_H

#include "core/common.h"
#include "core/io/atomic.h"

#define HL_NPY_MAX_DIMS 8

typedef enum hl_npy_dtype {
    HL_NPY_BOOL, /* b1: one byte, 0 = false, anything else = true */
    HL_NPY_U8,   /* u1 */
    HL_NPY_I8,   /* i1 */
    HL_NPY_U16,
    HL_NPY_I16,
    HL_NPY_U32,
    HL_NPY_I32,
    HL_NPY_U64,
    HL_NPY_I64,
    HL_NPY_F32,
    HL_NPY_F64,
    HL_NPY_DTYPE_COUNT
} hl_npy_dtype;

typedef struct hl_npy {
    hl_npy_dtype dtype;
    int ndim;                       /* 0 (a scalar) .. HL_NPY_MAX_DIMS */
    int64_t shape[HL_NPY_MAX_DIMS]; /* unused entries 0 */
    int64_t numel;                  /* product of the shape (1 for a scalar) */
    size_t nbytes;                  /* numel · itemsize */
    void *data;                     /* owned; native byte order, C order; non-NULL after a successful read */
} hl_npy;

size_t hl_npy_itemsize(hl_npy_dtype t);
/* numpy's name: "bool", "uint8", "int8", ..., "float32", "float64". */
const char *hl_npy_dtype_name(hl_npy_dtype t);
static inline bool hl_npy_is_float(hl_npy_dtype t) { return t == HL_NPY_F32 || t == HL_NPY_F64; }

/* Reads path into *out (zeroed first; free with hl_npy_free). */
hl_status hl_npy_read(const char *path, hl_npy *out);
/* Same from a memory buffer; `name` stands in for the path in error messages. */
hl_status hl_npy_parse(const void *buf, size_t n, const char *name, hl_npy *out);
void hl_npy_free(hl_npy *a); /* NULL-safe; leaves *a zeroed */

/* Element i (flat, C order) as a double (bool -> 0/1; 64-bit integers beyond 2^53 are rounded). */
double hl_npy_f64_at(const hl_npy *a, int64_t i);
/* Element i as an exact int64: false for a NaN, non-integral or out-of-range float, or a uint64 above INT64_MAX. */
bool hl_npy_i64_at(const hl_npy *a, int64_t i, int64_t *v);
/* All elements as doubles: *out is a malloc'ed array of numel values (the caller frees it). */
hl_status hl_npy_to_f64(const hl_npy *a, double **out);

/* Writes a C-order array of `dtype` with the given shape (ndim 0..HL_NPY_MAX_DIMS, each extent >= 0) from `data`
 * (numel · itemsize bytes, native order). */
hl_status hl_npy_write(const char *path, hl_npy_dtype dtype, int ndim, const int64_t *shape, const void *data);

/* The same written in pieces (arrays too large to hold in memory, e.g. hashlab embed's features), still atomically:
 * begin writes the header of the whole array; append adds the next nbytes of data (C order); commit checks that
 * exactly the array's bytes were appended (asserted) and renames the file into place; abort (or a failed append,
 * which aborts itself) leaves `path` untouched.
 *     hl_npy_writer w;  HL_TRY(hl_npy_write_begin(&w, "f.npy", HL_NPY_F32, 2, (int64_t[]){n, F}));
 *     for (...) if ((st = hl_npy_write_append(&w, rows, b * F * sizeof(float))) < 0) goto done;   // aborted
 *     st = hl_npy_write_commit(&w);                                      // on other failures: hl_npy_write_abort */
typedef struct hl_npy_writer {
    hl_atomic_file af;
    size_t expected, written; /* data bytes */
} hl_npy_writer;
hl_status hl_npy_write_begin(hl_npy_writer *w, const char *path, hl_npy_dtype dtype, int ndim, const int64_t *shape);
hl_status hl_npy_write_append(hl_npy_writer *w, const void *data, size_t nbytes);
hl_status hl_npy_write_commit(hl_npy_writer *w);
void hl_npy_write_abort(hl_npy_writer *w); /* safe after a commit or a failed append */

#endif
