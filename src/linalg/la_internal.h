/* Private helpers of the linalg module: validating a tl_mat view before it reaches BLAS/LAPACK
 * (ld >= cols, data present, every dimension inside LAPACK's int) and the leading-dimension
 * argument BLAS wants (never 0). Kept header-only so each wrapper file stays self-contained.
 *
 * Layout trick used throughout: a row-major matrix M stored with stride ld is, read column-major
 * with the same stride, its transpose M^T. Symmetric inputs are therefore handed to LAPACK as
 * column-major without any copy (the row-major upper triangle is the column-major lower one),
 * which avoids LAPACKE's row-major path (it transposes through malloc, bypassing tl_malloc). */
#ifndef TL_LINALG_LA_INTERNAL_H
#define TL_LINALG_LA_INTERNAL_H

#include <limits.h>

#include "internal/check.h"
#include "tl/linalg.h"

/* TL_OK if m is usable as an input/output view; otherwise a message naming fn and what. */
static inline tl_status tl_la_check_view(tl_mat m, const char *fn, const char *what) {
    if (m.rows > 0 && m.ld < m.cols)
        return tl_fail(TL_ERR_SHAPE, "%s: %s is %zu x %zu with ld %zu < cols", fn, what, m.rows,
                       m.cols, m.ld);
    if (m.rows > 0 && m.cols > 0 && !m.data)
        return tl_fail(TL_ERR_INVALID_ARG, "%s: %s (%zu x %zu) has no data", fn, what, m.rows,
                       m.cols);
    if (m.rows > (size_t)INT_MAX || m.cols > (size_t)INT_MAX || m.ld > (size_t)INT_MAX)
        return tl_fail(TL_ERR_INVALID_ARG,
                       "%s: %s is %zu x %zu (ld %zu), beyond the BLAS/LAPACK int range", fn, what,
                       m.rows, m.cols, m.ld);
    return TL_OK;
}

/* Leading dimension for BLAS/LAPACK: they reject 0 even for empty matrices. */
static inline int tl_la_ld(size_t ld) { return ld ? (int)ld : 1; }

/* Blockwise Gram driver (dist.c), shared by tl_sqdist and tl_kernel_matrix:
 * for each block of rows of X, Kb = alpha * Xb Y^T by GEMM written straight into K's rows, then
 * finish(Kb, row0, xn, yn, same, ctx) transforms the block while it is still in cache. With
 * want_norms, xn (rows of the block) and yn (m) hold the squared row norms. `same` is nonzero when
 * X and Y are the same view (the diagonal is then a self-distance). Temporaries: yn (m) and
 * xn (block); nothing of size n x m beyond K itself. Shapes must have been checked. */
typedef void (*tl_la_finish_fn)(tl_mat Kb, size_t row0, const double *xn, const double *yn,
                                int same, void *ctx);
tl_status tl_la_gram_blocks(tl_mat X, tl_mat Y, tl_mat K, double alpha, int want_norms,
                            tl_la_finish_fn finish, void *ctx);

#endif
