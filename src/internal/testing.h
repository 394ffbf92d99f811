/* Private entry points for libtl's own tests, fuzz targets and benchmarks: the naive references
 * the optimised kernels are checked against (CONVENTIONS, Numerics: "keep a naive reference next
 * to each optimised kernel, used by the tests"), and the readers' in-memory parsers, which are the
 * fuzz targets' entry points (the file readers call them on the bytes they read).
 *
 * The functions are defined in the library (tests and fuzzers link them from libtl.a) but declared
 * only here, not in include/: `make install` installs what users need, and whatever is installed is
 * a promise kept for good. The parsers' shapes follow what a fuzzer needs (a raw tl_mat and its
 * dimensions for .npy and IDX, no labels), not what a user loading data from memory would want;
 * a public in-memory loader would be designed for that (one call for every format, like
 * tl_dataset_load). Tests, fuzz targets and bench/ compile with -Isrc and include
 * "internal/testing.h". */
#ifndef TL_INTERNAL_TESTING_H
#define TL_INTERNAL_TESTING_H

#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/linalg.h"

/* ---- naive references (tests) ---- */
/* C = alpha * op(A) op(B) + beta * C by a triple loop; the same shape checks as tl_gemm
 * (src/linalg/blas.c). */
tl_status tl_gemm_naive(tl_trans ta, tl_trans tb, double alpha, tl_mat A, tl_mat B, double beta,
                        tl_mat C);
/* K (n, m) = k(X_i, Y_j) pair by pair; X (n, d), Y (m, d) (src/linalg/kernel.c). */
tl_status tl_kernel_matrix_naive(const tl_kernel *k, tl_mat X, tl_mat Y, tl_mat K);
/* O(nq * nr * d) exact k-NN: idx (nq, k), dist2 (nq, k) or NULL, ascending, ties by lower
 * reference index; tl_knn_search returns the same, bit for bit (src/learn/knn.c). ref (nr, d),
 * query (nq, d). */
tl_status tl_knn_search_naive(tl_mat ref, tl_mat query, size_t k, size_t *idx, double *dist2);

/* ---- in-memory parsers (fuzz targets, tests; the readers' own path) ---- */
/* buf (len bytes, need not be NUL-terminated); `name` is used in messages in place of a path. */
tl_status tl_parse_csv(const char *buf, size_t len, const char *name, const tl_load_opts *opts,
                       tl_dataset **out);
tl_status tl_parse_svmlight(const char *buf, size_t len, const char *name,
                            const tl_load_opts *opts, tl_dataset **out);
/* X_out allocated (tl_mat_alloc); 1-D arrays come back n x 1. */
tl_status tl_parse_npy(const unsigned char *buf, size_t len, const char *name, tl_mat *X_out,
                       size_t *ndim_out);
/* buf a whole IDX file, plain or gzip-compressed. X_out allocated (tl_mat_alloc): dims[0] rows
 * of the product of the other dimensions (1 for a 1-D file); dims_out the IDX dimensions (ndim_out
 * of them, the rest 0). */
tl_status tl_parse_idx(const unsigned char *buf, size_t len, const char *name, tl_mat *X_out,
                       size_t dims_out[4], size_t *ndim_out);

#endif
