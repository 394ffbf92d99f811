/* Symmetric (A v = l v) and generalised symmetric-definite (A v = l B v) eigen-problems through
 * LAPACK. Every pair with vectors: dsyevd (divide and conquer). A few of n pairs (PCA/TCA/JDA):
 * MRRR on an index range IL..IU (Dhillon & Parlett 2004; dsytrd + dstemr + dormtr, dsyevr as the
 * fallback), and dsygvx (Cholesky reduction of B, then bisection + inverse iteration) for the
 * generalised problem: the range saves the back-transformation of the pairs not wanted.
 *
 * The upper triangle of the row-major input is copied into a contiguous workspace (inputs are not
 * modified, LAPACK destroys its input), which read column-major is the lower triangle of the same
 * symmetric matrix, so the column-major LAPACK routine runs with uplo = 'L' and no transposition.
 * Workspaces come from tl_malloc after a LAPACK workspace query (the _work interfaces), so an
 * injected allocator sees every byte. LAPACK returns ascending eigenvalues; TL_EIG_LARGEST is
 * reversed to descending while the column-major Z is scattered into the row-major V. */
#include <lapacke.h>
#include <math.h>

#include "la_internal.h"

/* Checks shapes and k; returns the number of pairs k and the LAPACK index range il..iu. */
static tl_status eig_args(const char *fn, tl_mat A, const tl_mat *B, tl_eig_which which, size_t k,
                          const double *w, tl_mat V, size_t *kout, int *il, int *iu) {
    tl_status st = TL_OK;
    TL_TRY(tl_la_check_view(A, fn, "A"));
    TL_CHECK(A.rows == A.cols, TL_ERR_SHAPE, "%s: A is %zu x %zu, must be square", fn, A.rows,
             A.cols);
    size_t n = A.rows;
    if (B) {
        TL_TRY(tl_la_check_view(*B, fn, "B"));
        TL_CHECK(B->rows == n && B->cols == n, TL_ERR_SHAPE,
                 "%s: B is %zu x %zu but A is %zu x %zu", fn, B->rows, B->cols, n, n);
    }
    if (which == TL_EIG_ALL) {
        k = n;
        *il = 1;
        *iu = (int)n;
    } else if (which == TL_EIG_SMALLEST || which == TL_EIG_LARGEST) {
        TL_CHECK(k >= 1 && k <= n, TL_ERR_INVALID_ARG,
                 "%s: k = %zu eigenpairs requested from a %zu x %zu matrix (need 1 <= k <= %zu)",
                 fn, k, n, n, n);
        *il = which == TL_EIG_SMALLEST ? 1 : (int)(n - k + 1);
        *iu = which == TL_EIG_SMALLEST ? (int)k : (int)n;
    } else {
        TL_CHECK(0, TL_ERR_INVALID_ARG, "%s: which = %d is not TL_EIG_ALL/SMALLEST/LARGEST", fn,
                 (int)which);
    }
    TL_CHECK(k == 0 || w, TL_ERR_INVALID_ARG, "%s: eigenvalue output w is NULL", fn);
    if (V.data) {
        TL_TRY(tl_la_check_view(V, fn, "V"));
        TL_CHECK(V.rows == n && V.cols == k, TL_ERR_SHAPE,
                 "%s: V is %zu x %zu, expected %zu x %zu (n x k)", fn, V.rows, V.cols, n, k);
    }
    *kout = k;
done:
    return st;
}

/* dst (n, n) contiguous <- upper triangle of src (lower left as zero); TL_ERR_NONFINITE if any
 * read entry is NaN/Inf (LAPACK's behaviour on them is undefined). */
static tl_status copy_upper(const char *fn, const char *what, tl_mat src, double *dst) {
    size_t n = src.rows;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            double v = TL_AT(src, i, j);
            if (!isfinite(v))
                return tl_fail(TL_ERR_NONFINITE, "%s: %s has %s at row %zu, column %zu", fn, what,
                               isnan(v) ? "NaN" : "Inf", i + 1, j + 1);
            dst[i * n + j] = v;
        }
    return TL_OK;
}

/* Ascending LAPACK output (wl (k), z column-major (n, k)) -> caller's order in w, V. */
static void scatter(size_t n, size_t k, int descending, const double *wl, const double *z,
                    double *w, tl_mat V) {
    for (size_t c = 0; c < k; c++) {
        size_t s = descending ? k - 1 - c : c;
        w[c] = wl[s];
        if (V.data)
            for (size_t i = 0; i < n; i++) TL_AT(V, i, c) = z[s * n + i];
    }
}

/* k < n eigenpairs with vectors by MRRR on the index range: dsytrd (tridiagonal T = Q^T A Q),
 * dstemr (RANGE = 'I': MRRR computes just the wanted pairs of T in O(n k)), dormtr (Z <- Q Z).
 * dsyevr itself only takes its MRRR path for the full spectrum and falls back to bisection +
 * inverse iteration (dstebz + dstein) for an index range, which was a fifth of TCA's time on
 * SURF. a (n, n) column-major lower triangle, destroyed; wl (n) ascending, z (n, k). Returns
 * TL_ERR_LINALG (no message) when dstemr fails, so the caller can fall back to dsyevr. */
static tl_status eig_subset_mrrr(size_t n, double *a, int il, int iu, size_t k, double *wl,
                                 double *z) {
    tl_status st = TL_OK;
    double *d = NULL, *e = NULL, *tau = NULL, *work = NULL;
    lapack_int *isuppz = NULL, *iwork = NULL;
    lapack_int N = (lapack_int)n, m = 0, info, lwork, liwork, iwq = 0;
    lapack_logical tryrac = 1;
    double wq = 0.0, wq2 = 0.0, wq3 = 0.0;
    TL_ALLOC(d, n);
    TL_ALLOC(e, n);
    TL_ALLOC(tau, n);
    TL_ALLOC(isuppz, 2 * k);
    info = LAPACKE_dsytrd_work(LAPACK_COL_MAJOR, 'L', N, a, N, d, e, tau, &wq, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym: dsytrd workspace query failed (info %d)", (int)info);
    info = LAPACKE_dstemr_work(LAPACK_COL_MAJOR, 'V', 'I', N, d, e, 0.0, 0.0, il, iu, &m, wl, z, N,
                               (lapack_int)k, isuppz, &tryrac, &wq2, -1, &iwq, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym: dstemr workspace query failed (info %d)", (int)info);
    info = LAPACKE_dormtr_work(LAPACK_COL_MAJOR, 'L', 'L', 'N', N, (lapack_int)k, a, N, tau, z, N,
                               &wq3, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym: dormtr workspace query failed (info %d)", (int)info);
    if (wq2 > wq) wq = wq2;
    if (wq3 > wq) wq = wq3;
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "eig_sym: LAPACK workspace of %g doubles is out of range", wq);
    lwork = (lapack_int)wq;
    liwork = iwq > 1 ? iwq : 1;
    TL_ALLOC(work, (size_t)lwork);
    TL_ALLOC(iwork, (size_t)liwork);
    info = LAPACKE_dsytrd_work(LAPACK_COL_MAJOR, 'L', N, a, N, d, e, tau, work, lwork);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym: dsytrd failed (info %d)", (int)info);
    tryrac = 1;
    info = LAPACKE_dstemr_work(LAPACK_COL_MAJOR, 'V', 'I', N, d, e, 0.0, 0.0, il, iu, &m, wl, z, N,
                               (lapack_int)k, isuppz, &tryrac, work, lwork, iwork, liwork);
    if (info != 0 || (size_t)m != k) {
        st = TL_ERR_LINALG; /* silent: the caller retries with dsyevr */
        goto done;
    }
    info = LAPACKE_dormtr_work(LAPACK_COL_MAJOR, 'L', 'L', 'N', N, (lapack_int)k, a, N, tau, z, N,
                               work, lwork);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym: dormtr failed (info %d)", (int)info);
done:
    tl_free(d);
    tl_free(e);
    tl_free(tau);
    tl_free(work);
    tl_free(isuppz);
    tl_free(iwork);
    return st;
}

/* Every eigenpair by divide and conquer (dsyevd): 10-20 % faster than dsyevr's MRRR for the full
 * spectrum with vectors (n = 100 ... 1000 here). a (n, n) column-major lower triangle, overwritten
 * by the eigenvectors; wl (n) ascending. */
static tl_status eig_all_dc(size_t n, double *a, double *wl) {
    tl_status st = TL_OK;
    double *work = NULL, wq = 0.0;
    lapack_int *iwork = NULL, iwq = 0, N = (lapack_int)n, info;
    info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', N, a, N, wl, &wq, -1, &iwq, -1);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym: dsyevd workspace query failed (info %d)",
             (int)info);
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX && iwq >= 1, TL_ERR_NOMEM,
             "eig_sym: LAPACK workspace of %g doubles is out of range", wq);
    TL_ALLOC(work, (size_t)wq);
    TL_ALLOC(iwork, (size_t)iwq);
    info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', N, a, N, wl, work, (lapack_int)wq,
                               iwork, iwq);
    TL_CHECK(info == 0, TL_ERR_LINALG,
             "eig_sym: dsyevd failed to converge on the %zu x %zu matrix (info %d)", n, n,
             (int)info);
done:
    tl_free(work);
    tl_free(iwork);
    return st;
}

tl_status tl_eig_sym(tl_mat A, tl_eig_which which, size_t k, double *w, tl_mat V) {
    tl_status st = TL_OK;
    double *a = NULL, *wl = NULL, *z = NULL, *work = NULL;
    lapack_int *isuppz = NULL, *iwork = NULL;
    int il = 0, iu = 0;
    TL_TRY(eig_args("eig_sym", A, NULL, which, k, w, V, &k, &il, &iu));
    size_t n = A.rows;
    if (n == 0) goto done;
    int want_v = V.data != NULL;
    char jobz = want_v ? 'V' : 'N', range = which == TL_EIG_ALL ? 'A' : 'I';
    double dummy_z = 0.0;
    size_t nn = n * n; /* n <= INT_MAX, so n * n fits size_t; TL_CALLOC checks the bytes */
    TL_CALLOC(a, nn);
    TL_TRY(copy_upper("eig_sym", "A", A, a));
    TL_ALLOC(wl, n); /* LAPACK uses all n entries of W as workspace */
    if (want_v && k == n && n > 1) { /* the vectors come back in a: no z */
        TL_TRY(eig_all_dc(n, a, wl));
        scatter(n, k, which == TL_EIG_LARGEST, wl, a, w, V);
        goto done;
    }
    if (want_v) TL_ALLOC(z, n * k);
    if (want_v && k < n && n > 1) {
        st = eig_subset_mrrr(n, a, il, iu, k, wl, z);
        if (st == TL_OK) {
            scatter(n, k, which == TL_EIG_LARGEST, wl, z, w, V);
            goto done;
        }
        if (st == TL_ERR_NOMEM) goto done;
        /* MRRR on the range declined or failed (rare): dsyevr below, on a fresh copy of A */
        TL_TRY(copy_upper("eig_sym", "A", A, a));
    }
    TL_ALLOC(isuppz, 2 * n);
    lapack_int m = 0, info, liwork = -1, lwork = -1, iwq = 0;
    double wq = 0.0;
    double abstol = 2.0 * LAPACKE_dlamch('S');
    info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, jobz, range, 'L', (lapack_int)n, a, (lapack_int)n,
                               0.0, 0.0, il, iu, abstol, &m, wl, want_v ? z : &dummy_z,
                               want_v ? (lapack_int)n : 1, isuppz, &wq, lwork, &iwq, liwork);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym: workspace query failed (info %d)", (int)info);
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "eig_sym: LAPACK workspace of %g doubles is out of range", wq);
    lwork = (lapack_int)wq;
    liwork = iwq > 1 ? iwq : 1;
    TL_ALLOC(work, (size_t)lwork);
    TL_ALLOC(iwork, (size_t)liwork);
    info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, jobz, range, 'L', (lapack_int)n, a, (lapack_int)n,
                               0.0, 0.0, il, iu, abstol, &m, wl, want_v ? z : &dummy_z,
                               want_v ? (lapack_int)n : 1, isuppz, work, lwork, iwork, liwork);
    TL_CHECK(info == 0, TL_ERR_LINALG,
             "eig_sym: dsyevr failed to converge on the %zu x %zu matrix (info %d)", n, n,
             (int)info);
    TL_CHECK((size_t)m == k, TL_ERR_LINALG, "eig_sym: dsyevr returned %d eigenpairs, expected %zu",
             (int)m, k);
    scatter(n, k, which == TL_EIG_LARGEST, wl, z, w, V);
done:
    tl_free(a);
    tl_free(wl);
    tl_free(z);
    tl_free(work);
    tl_free(isuppz);
    tl_free(iwork);
    return st;
}

tl_status tl_eig_sym_gen(tl_mat A, tl_mat B, tl_eig_which which, size_t k, double *w, tl_mat V) {
    tl_status st = TL_OK;
    double *a = NULL, *b = NULL, *wl = NULL, *z = NULL, *work = NULL;
    lapack_int *iwork = NULL, *ifail = NULL;
    int il = 0, iu = 0;
    TL_TRY(eig_args("eig_sym_gen", A, &B, which, k, w, V, &k, &il, &iu));
    size_t n = A.rows;
    if (n == 0) goto done;
    int want_v = V.data != NULL;
    char jobz = want_v ? 'V' : 'N', range = which == TL_EIG_ALL ? 'A' : 'I';
    double dummy_z = 0.0;
    size_t nn = n * n;
    TL_CALLOC(a, nn);
    TL_CALLOC(b, nn);
    TL_TRY(copy_upper("eig_sym_gen", "A", A, a));
    TL_TRY(copy_upper("eig_sym_gen", "B", B, b));
    TL_ALLOC(wl, n);
    if (want_v) TL_ALLOC(z, n * k);
    TL_ALLOC(iwork, 5 * n);
    TL_ALLOC(ifail, n);
    lapack_int m = 0, info, lwork = -1;
    double wq = 0.0;
    /* 2 * safe minimum: the abstol LAPACK recommends for the most accurate eigenvalues */
    double abstol = 2.0 * LAPACKE_dlamch('S');
    info = LAPACKE_dsygvx_work(LAPACK_COL_MAJOR, 1, jobz, range, 'L', (lapack_int)n, a,
                               (lapack_int)n, b, (lapack_int)n, 0.0, 0.0, il, iu, abstol, &m, wl,
                               want_v ? z : &dummy_z, want_v ? (lapack_int)n : 1, &wq, lwork, iwork,
                               ifail);
    TL_CHECK(info == 0, TL_ERR_LINALG, "eig_sym_gen: workspace query failed (info %d)", (int)info);
    TL_CHECK(wq >= 1.0 && wq < (double)INT_MAX, TL_ERR_NOMEM,
             "eig_sym_gen: LAPACK workspace of %g doubles is out of range", wq);
    lwork = (lapack_int)wq;
    TL_ALLOC(work, (size_t)lwork);
    info = LAPACKE_dsygvx_work(LAPACK_COL_MAJOR, 1, jobz, range, 'L', (lapack_int)n, a,
                               (lapack_int)n, b, (lapack_int)n, 0.0, 0.0, il, iu, abstol, &m, wl,
                               want_v ? z : &dummy_z, want_v ? (lapack_int)n : 1, work, lwork,
                               iwork, ifail);
    TL_CHECK(info >= 0, TL_ERR_LINALG, "eig_sym_gen: dsygvx rejected argument %d", (int)-info);
    TL_CHECK(info <= (lapack_int)n, TL_ERR_LINALG,
             "eig_sym_gen: B is not positive definite (leading minor %d of %zu)",
             (int)(info - (lapack_int)n), n);
    TL_CHECK(info == 0, TL_ERR_LINALG,
             "eig_sym_gen: %d eigenvectors of the %zu x %zu problem failed to converge", (int)info,
             n, n);
    TL_CHECK((size_t)m == k, TL_ERR_LINALG,
             "eig_sym_gen: dsygvx returned %d eigenpairs, expected %zu", (int)m, k);
    scatter(n, k, which == TL_EIG_LARGEST, wl, z, w, V);
done:
    tl_free(a);
    tl_free(b);
    tl_free(wl);
    tl_free(z);
    tl_free(work);
    tl_free(iwork);
    tl_free(ifail);
    return st;
}
