/* Factorisations and solves: Cholesky (dpotrf), SPD solve (dpotrf + two triangular solves, i.e.
 * dposv), general solve (dgesv: LU with partial pivoting), inverse (dgetrf + dgetri) and the
 * symmetric matrix power A^p = V diag(max(l, eps l_max)^p) V^T used for CORAL whitening
 * (Sun et al. 2016: C_s^{-1/2} C_t^{1/2}).
 *
 * Layout: a row-major matrix read column-major is its transpose, so
 *  - Cholesky runs column-major with uplo = 'U' directly on the caller's storage: the
 *    column-major upper factor U (A = U^T U) is the row-major lower L (A = L L^T);
 *  - the inverse of A^T is (A^{-1})^T, so dgetrf/dgetri on the transposed reading yields A^{-1}
 *    row-major with no transposition;
 *  - the SPD solve uses row-major CBLAS dtrsm with B's own ld, so B is solved in place;
 *  - the general solve needs B column-major for dgesv, so A and B are transposed into workspace.
 * Inputs documented as unmodified are copied first (LAPACK overwrites its arguments). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>

#include "la_internal.h"

static tl_status check_square(const char *fn, tl_mat A) {
    tl_status st = tl_la_check_view(A, fn, "A");
    if (st != TL_OK) return st;
    if (A.rows != A.cols)
        return tl_fail(TL_ERR_SHAPE, "%s: A is %zu x %zu, must be square", fn, A.rows, A.cols);
    return TL_OK;
}

/* First non-finite entry of the row-major lower triangle (lower = 1) or of all of A. */
static tl_status check_finite_part(const char *fn, tl_mat A, int lower) {
    for (size_t i = 0; i < A.rows; i++)
        for (size_t j = 0; j < (lower ? i + 1 : A.cols); j++)
            if (!isfinite(TL_AT(A, i, j)))
                return tl_fail(TL_ERR_NONFINITE, "%s: A has %s at row %zu, column %zu", fn,
                               isnan(TL_AT(A, i, j)) ? "NaN" : "Inf", i + 1, j + 1);
    return TL_OK;
}

/* dpotrf on a row-major view (reads and writes its lower triangle). */
static tl_status potrf_lower(const char *fn, tl_mat A) {
    lapack_int info =
        LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)A.rows, A.data, tl_la_ld(A.ld));
    if (info > 0)
        return tl_fail(TL_ERR_LINALG, "%s: matrix is not positive definite (leading minor %d)", fn,
                       (int)info);
    if (info < 0) return tl_fail(TL_ERR_LINALG, "%s: dpotrf rejected argument %d", fn, (int)-info);
    return TL_OK;
}

tl_status tl_chol(tl_mat A) {
    tl_status st = TL_OK;
    TL_TRY(check_square("Cholesky", A));
    if (A.rows == 0) goto done;
    TL_TRY(check_finite_part("Cholesky", A, 1));
    TL_TRY(potrf_lower("Cholesky", A));
    for (size_t i = 0; i < A.rows; i++)
        for (size_t j = i + 1; j < A.cols; j++) TL_AT(A, i, j) = 0.0;
done:
    return st;
}

tl_status tl_solve_spd(tl_mat A, tl_mat B /* (n, m), overwritten by X */) {
    tl_status st = TL_OK;
    tl_mat L = {0, 0, 0, NULL};
    TL_TRY(check_square("solve_spd", A));
    TL_TRY(tl_la_check_view(B, "solve_spd", "B"));
    size_t n = A.rows;
    TL_CHECK(B.rows == n, TL_ERR_SHAPE, "solve_spd: A is %zu x %zu but B is %zu x %zu", n, n,
             B.rows, B.cols);
    if (n == 0) goto done;
    TL_TRY(check_finite_part("solve_spd", A, 1));
    TL_TRY(tl_mat_clone(&L, A));
    TL_TRY(potrf_lower("solve_spd", L));
    if (B.cols == 0) goto done;
    /* A X = B with A = L L^T: L Y = B, then L^T X = Y (what dpotrs does) */
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)n,
                (int)B.cols, 1.0, L.data, tl_la_ld(L.ld), B.data, tl_la_ld(B.ld));
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)n, (int)B.cols,
                1.0, L.data, tl_la_ld(L.ld), B.data, tl_la_ld(B.ld));
done:
    tl_mat_free(&L);
    return st;
}

tl_status tl_solve(tl_mat A, tl_mat B /* (n, m), overwritten by X */) {
    tl_status st = TL_OK;
    double *a = NULL, *b = NULL;
    lapack_int *ipiv = NULL;
    TL_TRY(check_square("solve", A));
    TL_TRY(tl_la_check_view(B, "solve", "B"));
    size_t n = A.rows, m = B.cols;
    TL_CHECK(B.rows == n, TL_ERR_SHAPE, "solve: A is %zu x %zu but B is %zu x %zu", n, n, B.rows,
             B.cols);
    if (n == 0) goto done;
    TL_TRY(check_finite_part("solve", A, 0));
    TL_ALLOC(a, n * n);
    TL_ALLOC(b, n * (m ? m : 1));
    TL_ALLOC(ipiv, n);
    for (size_t i = 0; i < n; i++) /* column-major copies */
        for (size_t j = 0; j < n; j++) a[j * n + i] = TL_AT(A, i, j);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) b[j * n + i] = TL_AT(B, i, j);
    lapack_int info = LAPACKE_dgesv_work(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)m, a,
                                         (lapack_int)n, ipiv, b, (lapack_int)n);
    TL_CHECK(info >= 0, TL_ERR_LINALG, "solve: dgesv rejected argument %d", (int)-info);
    TL_CHECK(info == 0, TL_ERR_LINALG, "solve: matrix is singular (U(%d,%d) is exactly zero)",
             (int)info, (int)info);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) TL_AT(B, i, j) = b[j * n + i];
done:
    tl_free(a);
    tl_free(b);
    tl_free(ipiv);
    return st;
}

tl_status tl_inv(tl_mat A) {
    tl_status st = TL_OK;
    tl_mat W = {0, 0, 0, NULL};
    lapack_int *ipiv = NULL;
    double *work = NULL;
    TL_TRY(check_square("inv", A));
    size_t n = A.rows;
    if (n == 0) goto done;
    TL_TRY(check_finite_part("inv", A, 0));
    /* factor a copy so A is left intact when it turns out singular */
    TL_TRY(tl_mat_clone(&W, A));
    TL_ALLOC(ipiv, n);
    lapack_int info = LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, W.data,
                                          (lapack_int)n, ipiv);
    TL_CHECK(info >= 0, TL_ERR_LINALG, "inv: dgetrf rejected argument %d", (int)-info);
    TL_CHECK(info == 0, TL_ERR_LINALG, "inv: matrix is singular (U(%d,%d) is exactly zero)",
             (int)info, (int)info);
    double wq = 0.0;
    info =
        LAPACKE_dgetri_work(LAPACK_COL_MAJOR, (lapack_int)n, W.data, (lapack_int)n, ipiv, &wq, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "inv: workspace query failed (info %d)", (int)info);
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "inv: LAPACK workspace of %g doubles is out of range", wq);
    lapack_int lwork = (lapack_int)wq;
    TL_ALLOC(work, (size_t)lwork);
    info = LAPACKE_dgetri_work(LAPACK_COL_MAJOR, (lapack_int)n, W.data, (lapack_int)n, ipiv, work,
                               lwork);
    TL_CHECK(info == 0, TL_ERR_LINALG, "inv: dgetri failed (info %d)", (int)info);
    TL_TRY(tl_mat_copy(A, W));
done:
    tl_mat_free(&W);
    tl_free(ipiv);
    tl_free(work);
    return st;
}

tl_status tl_sym_pow(tl_mat A, double p, double eps, tl_mat out /* (n, n) */) {
    tl_status st = TL_OK;
    double *w = NULL;
    tl_mat V = {0, 0, 0, NULL};
    TL_TRY(check_square("sym_pow", A));
    TL_TRY(tl_la_check_view(out, "sym_pow", "out"));
    size_t n = A.rows;
    TL_CHECK(out.rows == n && out.cols == n, TL_ERR_SHAPE,
             "sym_pow: out is %zu x %zu but A is %zu x %zu", out.rows, out.cols, n, n);
    TL_CHECK(isfinite(p), TL_ERR_INVALID_ARG, "sym_pow: exponent p = %g is not finite", p);
    if (n == 0) goto done;
    if (!(eps > 0.0)) eps = 1e-10;
    TL_ALLOC(w, n);
    TL_TRY(tl_mat_alloc(&V, n, n));
    TL_TRY(tl_eig_sym(A, TL_EIG_ALL, n, w, V));
    double wmax = w[n - 1];
    if (!(wmax > 0.0)) {
        /* no positive eigenvalue: a PSD A is then 0, and 0^p is 0 for p > 0, undefined else */
        TL_CHECK(p > 0.0, TL_ERR_LINALG,
                 "sym_pow: largest eigenvalue is %g, so A^%g is undefined (A is not positive "
                 "semi-definite with a positive eigenvalue)",
                 wmax, p);
        tl_mat_fill(out, 0.0);
        goto done;
    }
    double floor_ = eps * wmax;
    /* out = (V D^{1/2}) (V D^{1/2})^T with D = diag(l^p): syrk keeps out exactly symmetric */
    for (size_t j = 0; j < n; j++) w[j] = pow(w[j] > floor_ ? w[j] : floor_, 0.5 * p);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) TL_AT(V, i, j) *= w[j];
    TL_TRY(tl_syrk(TL_NOTRANS, 1.0, V, 0.0, out));
done:
    tl_free(w);
    tl_mat_free(&V);
    return st;
}
