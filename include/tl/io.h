/* libtl's containers - the bottom of the model stack: each model writes itself into them and
 * reads itself back, so they never need to know the models.
 *
 * .tlm: a small versioned file of key/value metadata and named tensors, shared by every fitted
 * model (feature mappings, neural networks). Layout (little-endian):
 *   magic "TLM1" | u32 version | u32 n_meta | u32 n_tensors | meta entries | tensor entries | u32 crc
 *   meta:   u32 key_len, key bytes, u32 val_len, val bytes
 *   tensor: u32 name_len, name, u8 dtype (0 = f64, 1 = f32, 2 = i32), u8 ndim, u64 dims[ndim], data
 *   crc: CRC-32 (zlib) of every byte before it.
 * Files are written through tl_wfile (tl/core.h: a temporary name renamed into place). Readers
 * check magic, version, bounds of every length, and the checksum, and name the file in every
 * error.
 *
 * safetensors: the format PyTorch exports, read strictly (tl_safetensors_*, below); a network
 * imports and exports it with tl_nn_import_safetensors / tl_nn_export_safetensors (tl/nn.h). */
#ifndef TL_IO_H
#define TL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_TLM_VERSION 1u /* the .tlm format version this library writes */

/* A tensor's element type. */
typedef enum {
    TL_DTYPE_F64 = 0, /* double */
    TL_DTYPE_F32 = 1, /* float */
    TL_DTYPE_I32 = 2  /* int32_t */
} tl_dtype;

typedef struct tl_tlm tl_tlm; /* an in-memory container */

tl_status tl_tlm_create(tl_tlm **out); /* an empty container */
void tl_tlm_free(tl_tlm *m);           /* NULL-safe */
/* Copies key and value. Replaces an existing key. */
tl_status tl_tlm_set_meta(tl_tlm *m, const char *key, const char *value);
/* NULL when absent. */
const char *tl_tlm_get_meta(const tl_tlm *m, const char *key);
/* Numbers as metadata (src/io/tlm_meta.c): reals written as the shortest decimal that reads
 * back exactly, in the "C" locale whatever the process's; counts as decimal integers. The getters are strict, for a model file is user input: an error
 * naming `name` (the file) and the key when the entry is missing, is not a finite number in
 * [lo, hi], or is not a decimal count <= max. */
tl_status tl_tlm_set_num(tl_tlm *m, const char *key, double v);
tl_status tl_tlm_set_count(tl_tlm *m, const char *key, unsigned long long v);
tl_status tl_tlm_get_num(const tl_tlm *m, const char *name, const char *key, double lo, double hi,
                         double *out);
tl_status tl_tlm_get_count(const tl_tlm *m, const char *name, const char *key,
                           unsigned long long max, unsigned long long *out);
/* Copies the data: ndim <= 8, dims[ndim]. */
tl_status tl_tlm_add_tensor(tl_tlm *m, const char *name, tl_dtype dtype, size_t ndim,
                            const size_t *dims, const void *data);
/* Borrowed pointers valid while m lives. TL_ERR_NOT_FOUND naming the tensor when absent. */
tl_status tl_tlm_get_tensor(const tl_tlm *m, const char *name, tl_dtype *dtype, size_t *ndim,
                            const size_t **dims, const void **data);
size_t tl_tlm_tensor_count(const tl_tlm *m);
const char *tl_tlm_tensor_name(const tl_tlm *m, size_t i);
tl_status tl_tlm_save(const tl_tlm *m, const char *path);
tl_status tl_tlm_load(const char *path, tl_tlm **out);
tl_status tl_tlm_parse(const unsigned char *buf, size_t len, const char *name, tl_tlm **out);
/* Nesting, so one file can hold several models (a pipeline: its scalers, mapping and learner):
 * merge copies every entry of src into dst with `prefix` put before its key or name; extract
 * makes a new container of the entries of src whose key or name starts with `prefix`, with the
 * prefix taken off. */
tl_status tl_tlm_merge(tl_tlm *dst, const tl_tlm *src, const char *prefix);
tl_status tl_tlm_extract(const tl_tlm *src, const char *prefix, tl_tlm **out);

/* ---- safetensors (reader) ---- */
/* A parsed safetensors file: an 8-byte little-endian header length, a JSON header
 * {"NAME": {"dtype": "F32", "shape": [...], "data_offsets": [BEGIN, END]}, ...,
 *  "__metadata__": {"k": "v"}}, then the data. The parser is strict: every length and offset is
 * bounds-checked, offsets must match dtype x shape, duplicate names are refused. */
typedef struct tl_safetensors tl_safetensors;
tl_status tl_safetensors_load(const char *path, tl_safetensors **out); /* reads and parses path */
tl_status tl_safetensors_parse(const unsigned char *buf, size_t len, const char *name,
                               tl_safetensors **out); /* copies what it needs */
void tl_safetensors_free(tl_safetensors *s);            /* NULL-safe */
size_t tl_safetensors_count(const tl_safetensors *s);   /* tensors in the file */
/* Tensor i: name, dtype string ("F32", "F64", "I64", ...), ndim, dims. */
void tl_safetensors_info(const tl_safetensors *s, size_t i, const char **name, const char **dtype,
                         size_t *ndim, const size_t **dims);
/* Tensor i converted to float32 into out (prod(dims)); F32, F64, F16, BF16 are converted, other
 * dtypes are TL_ERR_UNSUPPORTED. */
tl_status tl_safetensors_get_f32(const tl_safetensors *s, size_t i, float *out);
const char *tl_safetensors_meta(const tl_safetensors *s, const char *key); /* NULL when absent */

#ifdef __cplusplus
}
#endif
#endif
