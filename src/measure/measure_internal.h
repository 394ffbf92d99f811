/* Private helpers of src/measure, shared with src/instance (which sits above it): validation of a
 * source/target pair of feature matrices, row blocks of dense or CSR data as dense views, pooling
 * two domains into one matrix, the median-heuristic bandwidth of the pooled sample, and kernel sums
 * computed block by block (never an n x m kernel matrix), with an optional average over several RBF
 * bandwidths. Kept private so the public contract stays tl/measure.h. */
#ifndef TL_MEASURE_INTERNAL_H
#define TL_MEASURE_INTERNAL_H

#include <stdbool.h>

#include "internal/blocks.h"
#include "internal/check.h"
#include "tl/data.h"
#include "tl/linalg.h"
#include "tl/measure.h"

/* Most RBF bandwidths one kernel spec may average. */
#define TLM_MAX_BANDWIDTHS 32

/* A kernel for the blockwise sums: the tl_kernel itself, or (ngam > 1) the mean of RBF kernels at
 * gammas[0 .. ngam). */
typedef struct {
    tl_kernel k;
    double gammas[TLM_MAX_BANDWIDTHS];
    size_t ngam;
} tlm_kspec;

/* Structure (CSR indptr monotone, indices in range and increasing; dense data present, ld >= cols)
 * and finiteness of X. `fn` and `what` name the caller and the argument in messages. */
tl_status tlm_xvalidate(tl_xmat X, const char *fn, const char *what);
/* Both matrices valid, with at least min_rows rows each (TL_ERR_EMPTY otherwise, naming the domain)
 * and the same feature count (TL_ERR_SHAPE naming both). */
tl_status tlm_check_pair(tl_xmat Xs, tl_xmat Xt, size_t min_rows, const char *fn);

/* Rows [r0, r0 + nb) of X as a dense view: a view into X when dense, otherwise densified into buf
 * (at least nb * cols(X) doubles). `center` (cols) or NULL is subtracted from every row (then the
 * rows are always copied into buf). */
tl_mat tlm_rows(tl_xmat X, size_t r0, size_t nb, const double *center, double *buf);
/* Rows per block so that one densified block stays within about `elems` doubles (>= 1). */
size_t tlm_block_rows(size_t cols, size_t elems, size_t cap);

/* Xs rows followed by Xt rows as one matrix with owned storage: CSR if both are CSR, dense
 * otherwise. Release with tlm_pooled_free. */
typedef struct {
    tl_xmat X;
    double *dense;
    size_t *indptr;
    int32_t *indices;
    double *values;
} tlm_pooled;
tl_status tlm_pool(tl_xmat Xs, tl_xmat Xt, tlm_pooled *out);
void tlm_pooled_free(tlm_pooled *p);

/* Median-heuristic gamma (tl_kernel_median_gamma) on the pooled rows of Xs and Xt; when there are
 * more than 2000 rows (or a 2000-row dense sample would exceed 64 MB), a seeded uniform sample of
 * the pooled rows is used. Xt may be a 0-row matrix (then only Xs). */
tl_status tlm_pooled_median_gamma(tl_xmat Xs, tl_xmat Xt, uint64_t seed, double *gamma);
/* The same over the blocks of several processes (j: src/internal/blocks.h): the same rows drawn
 * from the global row numbers, each filled by the process holding it. */
tl_status tlm_pooled_median_gamma_job(const tli_job *j, tl_xmat Xs, tl_xmat Xt, uint64_t seed,
                                      double *gamma);

/* K (nA, nB) = kernel between dense blocks A (nA, d) and B (nB, d). A and B the same view gives an
 * exact diagonal (self-similarity 1 for RBF). */
tl_status tlm_kernel_block(const tlm_kspec *ks, tl_mat A, tl_mat B, tl_mat K);
/* Blockwise kernel sums between the rows of A and of B (B NULL: A with itself, using symmetry):
 * *total (may be NULL) = sum_ij k(a_i, b_j); rowsum (nA, may be NULL) receives sum_j k(a_i, b_j). */
tl_status tlm_kernel_sums(const tlm_kspec *ks, tl_xmat A, const tl_xmat *B, double *total,
                          double *rowsum);

/* Rows held by several processes (kernel_rounds.c): process q's blocks of source and target rows
 * are broadcast in round q = 0 .. P-1 and fn(user, q, its source rows, its target rows) runs on
 * every process (the process's own rows in its own round). One process: fn(user, 0, Xs, Xt). */
typedef tl_status (*tlm_round_fn)(void *user, int q, tl_xmat Bs, tl_xmat Bt);
tl_status tlm_rounds(const tli_job *j, tl_xmat Xs, tl_xmat Xt, tlm_round_fn fn, void *user);
/* S = {S_ss, S_tt, S_st}: the kernel sums over every pair of rows of all the processes (each
 * process passes its own rows), the same on every process. */
tl_status tlm_kernel_sums_job(const tli_job *j, const tlm_kspec *ks, tl_xmat Xs, tl_xmat Xt,
                              double S[3]);
/* *K (ns + nt, Ns + Nt), allocated: the rows of the pooled kernel matrix for this process's rows
 * (its source rows, then its target rows), columns in global order (every source row, then every
 * target row). Diagonal entries are exact (self-distance 0). */
tl_status tlm_kernel_strip(const tli_job *j, const tlm_kspec *ks, tl_xmat Xs, tl_xmat Xt,
                           tl_mat *K);

#endif
