/* Orthonormal basis of the row space of a wide matrix through a Householder QR (LAPACK dgeqrf +
 * dorgqr): for A (n, d) with n <= d, Q (d, n) with orthonormal columns whose span contains every
 * row of A (A^T = Q R). The MMD methods use it to restrict a d-dimensional problem to the n
 * dimensions the samples span when there are fewer samples than features; a QR costs about
 * 4 n^2 (d - n/3) flops against the thin SVD's larger constant and serial bidiagonalisation, and
 * with no pivoting Q spans the row space even when A is rank-deficient (it then holds extra
 * orthonormal directions, which the callers' problems give eigenvalue 0).
 *
 * Layout: the row-major A (n, d) copied contiguously is, read column-major, A^T (d, n), exactly
 * what dgeqrf wants; dorgqr's column-major Q (d, n) is transposed into the row-major output. */
#include <lapacke.h>
#include <math.h>

#include "la_internal.h"

tl_status tl_row_space_basis(tl_mat A, tl_mat Q) {
    tl_status st = TL_OK;
    double *a = NULL, *tau = NULL, *work = NULL;
    TL_TRY(tl_la_check_view(A, "row_space_basis", "A"));
    TL_TRY(tl_la_check_view(Q, "row_space_basis", "Q"));
    size_t n = A.rows, d = A.cols;
    TL_CHECK(n <= d, TL_ERR_SHAPE, "row_space_basis: A is %zu x %zu; needs rows <= columns", n, d);
    TL_CHECK(Q.rows == d && Q.cols == n, TL_ERR_SHAPE,
             "row_space_basis: Q is %zu x %zu, expected %zu x %zu", Q.rows, Q.cols, d, n);
    if (n == 0) goto done;
    TL_CALLOC(a, n * d); /* n <= d <= INT_MAX; TL_CALLOC checks the bytes */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double v = TL_AT(A, i, j);
            TL_CHECK(isfinite(v), TL_ERR_NONFINITE,
                     "row_space_basis: A has %s at row %zu, column %zu", isnan(v) ? "NaN" : "Inf",
                     i + 1, j + 1);
            a[i * d + j] = v;
        }
    TL_ALLOC(tau, n);
    lapack_int D = (lapack_int)d, N = (lapack_int)n, info;
    double wq = 0.0, wq2 = 0.0;
    info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, D, N, a, D, tau, &wq, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "row_space_basis: dgeqrf workspace query (info %d)", (int)info);
    info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, D, N, N, a, D, tau, &wq2, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "row_space_basis: dorgqr workspace query (info %d)", (int)info);
    if (wq2 > wq) wq = wq2;
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "row_space_basis: LAPACK workspace of %g doubles is out of range", wq);
    lapack_int lwork = (lapack_int)wq;
    TL_ALLOC(work, (size_t)lwork);
    info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, D, N, a, D, tau, work, lwork);
    TL_CHECK(info == 0, TL_ERR_LINALG, "row_space_basis: dgeqrf failed (info %d)", (int)info);
    info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, D, N, N, a, D, tau, work, lwork);
    TL_CHECK(info == 0, TL_ERR_LINALG, "row_space_basis: dorgqr failed (info %d)", (int)info);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < n; j++) TL_AT(Q, i, j) = a[j * d + i];
done:
    tl_free(a);
    tl_free(tau);
    tl_free(work);
    return st;
}
