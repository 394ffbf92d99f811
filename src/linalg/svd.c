/* Thin SVD A = U diag(s) Vt through LAPACK dgesdd (divide and conquer, the fastest of LAPACK's
 * SVD drivers for dense matrices; what numpy.linalg.svd uses).
 *
 * Layout: the row-major A (m, n) copied contiguously is, read column-major, A^T (n, m). dgesdd on
 * A^T = U' S V'^T gives A = V' S U'^T, and the column-major outputs land exactly where the
 * row-major ones belong: V'^T (r, m) column-major is U (m, r) row-major, and U' (n, r)
 * column-major is Vt (r, n) row-major. So LAPACK writes straight into the caller's U and Vt (with
 * their own ld) and the only copy is the one A needs because dgesdd destroys its input. */
#include <lapacke.h>
#include <math.h>

#include "la_internal.h"

tl_status tl_svd(tl_mat A, tl_mat U, double *s /* (min(m, n)) */, tl_mat Vt) {
    tl_status st = TL_OK;
    double *a = NULL, *work = NULL;
    lapack_int *iwork = NULL;
    tl_mat tmpU = {0, 0, 0, NULL}, tmpVt = {0, 0, 0, NULL};
    TL_TRY(tl_la_check_view(A, "svd", "A"));
    size_t m = A.rows, n = A.cols, r = m < n ? m : n;
    TL_CHECK(r == 0 || s, TL_ERR_INVALID_ARG, "svd: singular value output s is NULL");
    if (U.data) {
        TL_TRY(tl_la_check_view(U, "svd", "U"));
        TL_CHECK(U.rows == m && U.cols == r, TL_ERR_SHAPE,
                 "svd: U is %zu x %zu, expected %zu x %zu for A %zu x %zu", U.rows, U.cols, m, r, m,
                 n);
    }
    if (Vt.data) {
        TL_TRY(tl_la_check_view(Vt, "svd", "Vt"));
        TL_CHECK(Vt.rows == r && Vt.cols == n, TL_ERR_SHAPE,
                 "svd: Vt is %zu x %zu, expected %zu x %zu for A %zu x %zu", Vt.rows, Vt.cols, r, n,
                 m, n);
    }
    if (r == 0) goto done;
    int want = U.data || Vt.data;
    char jobz = want ? 'S' : 'N';
    /* dgesdd computes both factors or neither: a scratch one for the factor not asked for */
    if (want && !U.data) TL_TRY(tl_mat_alloc(&tmpU, m, r));
    if (want && !Vt.data) TL_TRY(tl_mat_alloc(&tmpVt, r, n));
    tl_mat u = U.data ? U : tmpU, vt = Vt.data ? Vt : tmpVt;

    size_t mn = m * n; /* m, n <= INT_MAX: the product fits size_t */
    TL_CALLOC(a, mn);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double v = TL_AT(A, i, j);
            TL_CHECK(isfinite(v), TL_ERR_NONFINITE, "svd: A has %s at row %zu, column %zu",
                     isnan(v) ? "NaN" : "Inf", i + 1, j + 1);
            a[i * n + j] = v;
        }
    TL_ALLOC(iwork, 8 * r);
    /* column-major problem: A^T is (n, m), its U' (n, r) is our Vt, its V'^T (r, m) our U */
    double dummy = 0.0, wq = 0.0;
    double *pu = want ? vt.data : &dummy, *pvt = want ? u.data : &dummy;
    lapack_int ldu = want ? tl_la_ld(vt.ld) : 1, ldvt = want ? tl_la_ld(u.ld) : 1;
    lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, (lapack_int)n, (lapack_int)m, a,
                                          (lapack_int)n, s, pu, ldu, pvt, ldvt, &wq, -1, iwork);
    TL_CHECK(info == 0, TL_ERR_LINALG, "svd: workspace query failed (info %d)", (int)info);
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "svd: LAPACK workspace of %g doubles is out of range", wq);
    lapack_int lwork = (lapack_int)wq;
    TL_ALLOC(work, (size_t)lwork);
    info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, (lapack_int)n, (lapack_int)m, a,
                               (lapack_int)n, s, pu, ldu, pvt, ldvt, work, lwork, iwork);
    TL_CHECK(info >= 0, TL_ERR_LINALG, "svd: dgesdd rejected argument %d", (int)-info);
    TL_CHECK(info == 0, TL_ERR_LINALG,
             "svd: dgesdd did not converge on the %zu x %zu matrix (info %d)", m, n, (int)info);
done:
    tl_free(a);
    tl_free(work);
    tl_free(iwork);
    tl_mat_free(&tmpU);
    tl_mat_free(&tmpVt);
    return st;
}
