/* Thin CBLAS wrappers over tl_mat views: GEMM, GEMV, SYRK (both triangles filled), column
 * normalisation, and a naive triple-loop GEMM kept as the reference the tests compare against.
 *
 * Every wrapper checks shapes in words (TL_ERR_SHAPE naming both operands) and checks that each
 * dimension fits BLAS's int before narrowing, then calls OpenBLAS in row-major layout with the
 * view's own ld, so sub-views (ld > cols) are used in place without copies. Empty products are
 * handled here (C = beta C) rather than relying on BLAS's treatment of K = 0. */
#include <cblas.h>
#include <math.h>

#include "internal/testing.h"
#include "la_internal.h"

const char *tl_blas_info(void) {
#ifdef OPENBLAS_VERSION
    const char *c = openblas_get_config();
    return c ? c : "OpenBLAS";
#else
    return "CBLAS";
#endif
}

static int bad_trans(tl_trans t) { return t != TL_NOTRANS && t != TL_TRANS; }

/* C = beta * C, with beta == 0 writing exact zeros (BLAS semantics: C's NaNs are not kept). */
static void scale_mat(tl_mat C, double beta) {
    for (size_t i = 0; i < C.rows; i++)
        for (size_t j = 0; j < C.cols; j++)
            TL_AT(C, i, j) = beta == 0.0 ? 0.0 : beta * TL_AT(C, i, j);
}

/* Shared shape check of gemm and gemm_naive; *inner gets the contracted dimension. */
static tl_status gemm_check(const char *fn, tl_trans ta, tl_trans tb, tl_mat A, tl_mat B, tl_mat C,
                            size_t *inner) {
    tl_status st = TL_OK;
    TL_CHECK(!bad_trans(ta) && !bad_trans(tb), TL_ERR_INVALID_ARG,
             "%s: transpose flags must be TL_NOTRANS or TL_TRANS", fn);
    TL_TRY(tl_la_check_view(A, fn, "A"));
    TL_TRY(tl_la_check_view(B, fn, "B"));
    TL_TRY(tl_la_check_view(C, fn, "C"));
    size_t am = ta ? A.cols : A.rows, ak = ta ? A.rows : A.cols;
    size_t bk = tb ? B.cols : B.rows, bn = tb ? B.rows : B.cols;
    TL_CHECK(ak == bk, TL_ERR_SHAPE,
             "%s: op(A) is %zu x %zu but op(B) is %zu x %zu (inner dimensions differ)", fn, am, ak,
             bk, bn);
    TL_CHECK(C.rows == am && C.cols == bn, TL_ERR_SHAPE,
             "%s: C is %zu x %zu but op(A) op(B) is %zu x %zu", fn, C.rows, C.cols, am, bn);
    *inner = ak;
done:
    return st;
}

tl_status tl_gemm(tl_trans ta, tl_trans tb, double alpha, tl_mat A, tl_mat B, double beta,
                  tl_mat C) {
    tl_status st = TL_OK;
    size_t k = 0;
    TL_TRY(gemm_check("gemm", ta, tb, A, B, C, &k));
    if (C.rows == 0 || C.cols == 0) goto done;
    if (k == 0 || alpha == 0.0) {
        scale_mat(C, beta);
        goto done;
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)C.rows, (int)C.cols, (int)k, alpha, A.data, tl_la_ld(A.ld), B.data,
                tl_la_ld(B.ld), beta, C.data, tl_la_ld(C.ld));
done:
    return st;
}

tl_status tl_gemm_naive(tl_trans ta, tl_trans tb, double alpha, tl_mat A, tl_mat B, double beta,
                        tl_mat C) {
    tl_status st = TL_OK;
    size_t k = 0;
    TL_TRY(gemm_check("gemm_naive", ta, tb, A, B, C, &k));
    for (size_t i = 0; i < C.rows; i++)
        for (size_t j = 0; j < C.cols; j++) {
            double s = 0.0;
            for (size_t p = 0; p < k; p++) {
                double a = ta ? TL_AT(A, p, i) : TL_AT(A, i, p);
                double b = tb ? TL_AT(B, j, p) : TL_AT(B, p, j);
                s += a * b;
            }
            double c = beta == 0.0 ? 0.0 : beta * TL_AT(C, i, j);
            TL_AT(C, i, j) = alpha * s + c;
        }
done:
    return st;
}

tl_status tl_gemv(tl_trans ta, double alpha, tl_mat A, const double *x /* (op(A).cols) */,
                  double beta, double *y /* (op(A).rows) */) {
    tl_status st = TL_OK;
    TL_CHECK(!bad_trans(ta), TL_ERR_INVALID_ARG,
             "gemv: transpose flag must be TL_NOTRANS or TL_TRANS");
    TL_TRY(tl_la_check_view(A, "gemv", "A"));
    size_t nx = ta ? A.rows : A.cols, ny = ta ? A.cols : A.rows;
    TL_CHECK(nx == 0 || x, TL_ERR_INVALID_ARG, "gemv: x (%zu) is NULL", nx);
    TL_CHECK(ny == 0 || y, TL_ERR_INVALID_ARG, "gemv: y (%zu) is NULL", ny);
    if (ny == 0) goto done;
    if (nx == 0 || alpha == 0.0) {
        for (size_t i = 0; i < ny; i++) y[i] = beta == 0.0 ? 0.0 : beta * y[i];
        goto done;
    }
    cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, (int)A.rows, (int)A.cols, alpha,
                A.data, tl_la_ld(A.ld), x, 1, beta, y, 1);
done:
    return st;
}

tl_status tl_syrk(tl_trans t, double alpha, tl_mat A, double beta, tl_mat C) {
    tl_status st = TL_OK;
    TL_CHECK(!bad_trans(t), TL_ERR_INVALID_ARG,
             "syrk: transpose flag must be TL_NOTRANS or TL_TRANS");
    TL_TRY(tl_la_check_view(A, "syrk", "A"));
    TL_TRY(tl_la_check_view(C, "syrk", "C"));
    size_t n = t ? A.cols : A.rows, k = t ? A.rows : A.cols;
    TL_CHECK(C.rows == n && C.cols == n, TL_ERR_SHAPE, "syrk: C is %zu x %zu, expected %zu x %zu",
             C.rows, C.cols, n, n);
    if (n == 0) goto done;
    if (k == 0 || alpha == 0.0) {
        scale_mat(C, beta);
        goto done;
    }
    /* BLAS fills the upper triangle (reading only its beta * C part); mirror it below. */
    cblas_dsyrk(CblasRowMajor, CblasUpper, t ? CblasTrans : CblasNoTrans, (int)n, (int)k, alpha,
                A.data, tl_la_ld(A.ld), beta, C.data, tl_la_ld(C.ld));
    tl_mat_mirror_upper(C);
done:
    return st;
}

void tl_mat_mirror_upper(tl_mat M) {
    /* 32 x 32 tiles: a column walk of the upper triangle would touch a new page per entry */
    const size_t T = 32, n = M.rows;
    for (size_t i0 = 0; i0 < n; i0 += T)
        for (size_t j0 = 0; j0 <= i0; j0 += T)
            for (size_t i = i0; i < i0 + T && i < n; i++)
                for (size_t j = j0; j < j0 + T && j < i; j++) TL_AT(M, i, j) = TL_AT(M, j, i);
}

void tl_mat_normalize_cols(tl_mat M) {
    if (!M.data || M.rows == 0) return;
    int blas_ok = M.rows <= (size_t)INT_MAX && M.ld <= (size_t)INT_MAX;
    for (size_t j = 0; j < M.cols; j++) {
        double *col = M.data + j;
        double nrm;
        if (blas_ok) {
            nrm = cblas_dnrm2((int)M.rows, col, (int)M.ld); /* scaled, no overflow */
        } else {
            double s = 0.0;
            for (size_t i = 0; i < M.rows; i++) s += col[i * M.ld] * col[i * M.ld];
            nrm = sqrt(s);
        }
        if (!(nrm > 0.0) || !isfinite(nrm)) continue; /* zero (or broken) column: left as is */
        double inv = 1.0 / nrm;
        for (size_t i = 0; i < M.rows; i++) col[i * M.ld] *= inv;
    }
}
