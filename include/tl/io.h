/* libtl model container (.tlm): a small versioned file of key/value metadata and named tensors,
 * shared by every fitted model (feature mappings, neural networks). Layout (little-endian):
 *   magic "TLM1" | u32 version | u32 n_meta | u32 n_tensors | meta entries | tensor entries | u32 crc
 *   meta:   u32 key_len, key bytes, u32 val_len, val bytes
 *   tensor: u32 name_len, name, u8 dtype (0 = f64, 1 = f32, 2 = i32), u8 ndim, u64 dims[ndim], data
 *   crc: CRC-32 (zlib) of every byte before it.
 * Files are written to a temporary name and renamed into place. Readers check magic, version,
 * bounds of every length, and the checksum, and name the file in every error. */
#ifndef TL_IO_H
#define TL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_TLM_VERSION 1u

typedef enum { TL_DTYPE_F64 = 0, TL_DTYPE_F32 = 1, TL_DTYPE_I32 = 2 } tl_dtype;

typedef struct tl_tlm tl_tlm; /* an in-memory container */

tl_status tl_tlm_create(tl_tlm **out);
void tl_tlm_free(tl_tlm *m);
/* Copies key and value. Replaces an existing key. */
tl_status tl_tlm_set_meta(tl_tlm *m, const char *key, const char *value);
/* NULL when absent. */
const char *tl_tlm_get_meta(const tl_tlm *m, const char *key);
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

#ifdef __cplusplus
}
#endif
#endif
