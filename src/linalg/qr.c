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
#include <string.h>

#include "la_internal.h"
#include "rowspace.h"

/* dst (rows, cols) contiguous <- A; TL_ERR_NONFINITE naming fn and the first NaN/Inf entry
 * (LAPACK's behaviour on them is undefined). */
static tl_status copy_finite(const char *fn, tl_mat A, double *dst) {
    for (size_t i = 0; i < A.rows; i++)
        for (size_t j = 0; j < A.cols; j++) {
            double v = TL_AT(A, i, j);
            if (!isfinite(v))
                return tl_fail(TL_ERR_NONFINITE, "%s: A has %s at row %zu, column %zu", fn,
                               isnan(v) ? "NaN" : "Inf", i + 1, j + 1);
            dst[i * A.cols + j] = v;
        }
    return TL_OK;
}

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
    TL_TRY(copy_finite("row_space_basis", A, a));
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

/* ---- the factored form (rowspace.h) ---- */

void tl_rowspace_free(tl_rowspace *f) {
    if (!f) return;
    tl_free(f->a);
    tl_free(f->tau);
    f->a = f->tau = NULL;
    f->n = f->d = 0;
}

tl_status tl_rowspace_factor(tl_mat A, tl_rowspace *f, tl_mat C) {
    tl_status st = TL_OK;
    double *work = NULL;
    memset(f, 0, sizeof *f);
    TL_TRY(tl_la_check_view(A, "rowspace_factor", "A"));
    TL_TRY(tl_la_check_view(C, "rowspace_factor", "C"));
    size_t n = A.rows, d = A.cols;
    TL_CHECK(n >= 1 && n <= d, TL_ERR_SHAPE,
             "rowspace_factor: A is %zu x %zu; needs 1 <= rows <= columns", n, d);
    TL_CHECK(C.rows == n && C.cols == n, TL_ERR_SHAPE,
             "rowspace_factor: C is %zu x %zu, expected %zu x %zu", C.rows, C.cols, n, n);
    f->n = n;
    f->d = d;
    TL_CALLOC(f->a, n * d); /* n <= d <= INT_MAX; TL_CALLOC checks the bytes */
    TL_TRY(copy_finite("rowspace_factor", A, f->a));
    TL_ALLOC(f->tau, n);
    lapack_int D = (lapack_int)d, N = (lapack_int)n, info;
    double wq = 0.0;
    info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, D, N, f->a, D, f->tau, &wq, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "rowspace_factor: dgeqrf workspace query (info %d)",
             (int)info);
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "rowspace_factor: LAPACK workspace of %g doubles is out of range", wq);
    TL_ALLOC(work, (size_t)wq);
    info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, D, N, f->a, D, f->tau, work, (lapack_int)wq);
    TL_CHECK(info == 0, TL_ERR_LINALG, "rowspace_factor: dgeqrf failed (info %d)", (int)info);
    /* A = R^T Q^T, so A Q = R^T: row i holds R's column i, R(j, i) = a[i d + j] for j <= i */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) TL_AT(C, i, j) = j <= i ? f->a[i * d + j] : 0.0;
done:
    tl_free(work);
    if (st != TL_OK) tl_rowspace_free(f);
    return st;
}

tl_status tl_rowspace_apply(const tl_rowspace *f, tl_mat V, tl_mat W) {
    tl_status st = TL_OK;
    double *work = NULL;
    TL_CHECK(f && f->a, TL_ERR_INVALID_ARG, "rowspace_apply: no factorisation");
    TL_TRY(tl_la_check_view(V, "rowspace_apply", "V"));
    size_t n = f->n, d = f->d, k = V.cols;
    TL_CHECK(V.rows == n && W.rows == d && W.cols == k && W.ld == k && W.data, TL_ERR_SHAPE,
             "rowspace_apply: V is %zu x %zu and W %zu x %zu (ld %zu), expected %zu x k and "
             "%zu x k contiguous", V.rows, V.cols, W.rows, W.cols, W.ld, n, d);
    if (k == 0) goto done;
    /* W^T = [V^T 0] Q^T: the row-major W read column-major is W^T (k, d), which dormqr
       multiplies by Q^T from the right in place */
    for (size_t i = 0; i < d; i++)
        for (size_t c = 0; c < k; c++) TL_AT(W, i, c) = i < n ? TL_AT(V, i, c) : 0.0;
    lapack_int K = (lapack_int)k, D = (lapack_int)d, N = (lapack_int)n, info;
    double wq = 0.0;
    info = LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'R', 'T', K, D, N, f->a, D, f->tau, W.data, K,
                               &wq, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "rowspace_apply: dormqr workspace query (info %d)",
             (int)info);
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "rowspace_apply: LAPACK workspace of %g doubles is out of range", wq);
    TL_ALLOC(work, (size_t)wq);
    info = LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'R', 'T', K, D, N, f->a, D, f->tau, W.data, K,
                               work, (lapack_int)wq);
    TL_CHECK(info == 0, TL_ERR_LINALG, "rowspace_apply: dormqr failed (info %d)", (int)info);
done:
    tl_free(work);
    return st;
}
