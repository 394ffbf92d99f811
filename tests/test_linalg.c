/* linalg: BLAS wrappers against the naive references (transposes, sub-views with ld > cols),
 * eigen-problems (eigenvalues vs numpy/scipy golden fixtures, residuals, subsets = slices of the
 * full decomposition, generalised B-orthonormality), SVD, Cholesky, solves, inverse, matrix
 * powers, distances, kernels and the median heuristic (vs sklearn/scipy), argument errors with
 * their messages, and out-of-memory injection on every allocating routine.
 * Eigenvectors are compared through residuals and projectors only (sign and order freedom).
 * Fixtures: tests/golden/linalg_*.txt, made by tests/golden/make_linalg.py. */
#include <limits.h>

#include "golden_fixture.h"
#include "harness.h"
#include "internal/testing.h"
#include "oom_alloc.h"
#include "tl.h"
#include "linalg/eig_lowrank.h"
#include "linalg/rowspace.h"

/* ---------------------------------------------------------------- helpers */


/* A rows x cols view inside a zeroed (rows x (cols + pad)) buffer: ld > cols. Free with free(). */
static tl_mat padded(size_t rows, size_t cols, size_t pad) {
    tl_mat m = {rows, cols, cols + pad, calloc(rows * (cols + pad) + 1, sizeof(double))};
    return m;
}

static void fill_normal(tl_mat m, tl_rng *r) {
    for (size_t i = 0; i < m.rows; i++)
        for (size_t j = 0; j < m.cols; j++) TL_AT(m, i, j) = tl_rng_normal(r);
}

static double max_abs_diff(tl_mat a, tl_mat b) {
    if (a.rows != b.rows || a.cols != b.cols || !a.data || !b.data) return INFINITY;
    double d = 0;
    for (size_t i = 0; i < a.rows; i++)
        for (size_t j = 0; j < a.cols; j++) d = fmax(d, fabs(TL_AT(a, i, j) - TL_AT(b, i, j)));
    return d;
}

/* max |(M - I)_ij| */
static double dist_identity(tl_mat m) {
    double d = 0;
    for (size_t i = 0; i < m.rows; i++)
        for (size_t j = 0; j < m.cols; j++) d = fmax(d, fabs(TL_AT(m, i, j) - (i == j)));
    return d;
}

/* Copy with a fresh contiguous buffer (test-side, plain malloc). */
static tl_mat dup(tl_mat a) {
    tl_mat m = tl_mat_view(malloc(a.rows * a.cols * sizeof(double) + 1), a.rows, a.cols);
    tl_mat_copy(m, a);
    return m;
}

/* random SPD n x n: M M^T + n I */
static tl_mat rand_spd(size_t n, tl_rng *r) {
    tl_mat M = tl_mat_view(malloc(n * n * sizeof(double)), n, n);
    fill_normal(M, r);
    tl_mat A = tl_mat_view(malloc(n * n * sizeof(double)), n, n);
    tl_gemm_naive(TL_NOTRANS, TL_TRANS, 1.0, M, M, 0.0, A);
    for (size_t i = 0; i < n; i++) TL_AT(A, i, i) += (double)n;
    free(M.data);
    return A;
}

/* max_j ||A v_j - w_j B v_j|| (B NULL: identity) */
static double eig_residual(tl_mat A, const tl_mat *B, const double *w, tl_mat V) {
    double worst = 0;
    for (size_t j = 0; j < V.cols; j++) {
        double s = 0;
        for (size_t i = 0; i < A.rows; i++) {
            double av = 0, bv = 0;
            for (size_t p = 0; p < A.cols; p++) {
                av += TL_AT(A, i, p) * TL_AT(V, p, j);
                bv += (B ? TL_AT(*B, i, p) : (double)(i == p)) * TL_AT(V, p, j);
            }
            s += (av - w[j] * bv) * (av - w[j] * bv);
        }
        worst = fmax(worst, sqrt(s));
    }
    return worst;
}

/* P = V V^T (n x n), caller frees */
static tl_mat projector(tl_mat V) {
    tl_mat P = tl_mat_view(malloc(V.rows * V.rows * sizeof(double) + 1), V.rows, V.rows);
    tl_gemm_naive(TL_NOTRANS, TL_TRANS, 1.0, V, V, 0.0, P);
    return P;
}

/* ---------------------------------------------------------------- BLAS */

TEST(gemm_hand_computed) {
    double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8}, c[4] = {0}, c2[4] = {0};
    tl_mat A = tl_mat_view(a, 2, 2), B = tl_mat_view(b, 2, 2), C = tl_mat_view(c, 2, 2);
    CHECK_OK(tl_gemm_naive(TL_NOTRANS, TL_NOTRANS, 1.0, A, B, 0.0, C));
    CHECK(c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50);
    CHECK_OK(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, A, B, 0.0, tl_mat_view(c2, 2, 2)));
    CHECK(c2[0] == 19 && c2[1] == 22 && c2[2] == 43 && c2[3] == 50);
    /* A^T B = [[1,3],[2,4]] [[5,6],[7,8]] = [[26,30],[38,44]] */
    CHECK_OK(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, A, B, 0.0, tl_mat_view(c2, 2, 2)));
    CHECK(c2[0] == 26 && c2[1] == 30 && c2[2] == 38 && c2[3] == 44);
}

TEST(gemm_vs_naive_transposes_subviews) {
    tl_rng r;
    tl_rng_seed(&r, 11);
    const size_t m = 13, n = 9, k = 7;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            tl_mat A = padded(ta ? k : m, ta ? m : k, 3), B = padded(tb ? n : k, tb ? k : n, 5);
            tl_mat C1 = padded(m, n, 4), C2 = padded(m, n, 4);
            fill_normal(A, &r);
            fill_normal(B, &r);
            fill_normal(C1, &r);
            tl_mat_copy(C2, C1);
            /* sentinels in the padding of C must survive */
            for (size_t i = 0; i < m; i++) C1.data[i * C1.ld + n] = 777.0;
            CHECK_OK(tl_gemm((tl_trans)ta, (tl_trans)tb, 1.3, A, B, 0.7, C1));
            CHECK_OK(tl_gemm_naive((tl_trans)ta, (tl_trans)tb, 1.3, A, B, 0.7, C2));
            CHECK_MSG(max_abs_diff(C1, C2) < 1e-12, "ta=%d tb=%d diff %g", ta, tb,
                      max_abs_diff(C1, C2));
            int sentinel_ok = 1;
            for (size_t i = 0; i < m; i++) sentinel_ok &= C1.data[i * C1.ld + n] == 777.0;
            CHECK(sentinel_ok);
            /* beta = 0 ignores NaN already in C (BLAS semantics) */
            tl_mat_fill(C1, NAN);
            CHECK_OK(tl_gemm((tl_trans)ta, (tl_trans)tb, 1.3, A, B, 0.0, C1));
            CHECK_OK(tl_gemm_naive((tl_trans)ta, (tl_trans)tb, 1.3, A, B, 0.0, C2));
            CHECK(max_abs_diff(C1, C2) < 1e-12);
            free(A.data), free(B.data), free(C1.data), free(C2.data);
        }
}

TEST(gemm_shapes_rejected) {
    double buf[64] = {0};
    tl_mat A = tl_mat_view(buf, 3, 4), B = tl_mat_view(buf, 5, 2), C = tl_mat_view(buf, 3, 2);
    CHECK_STATUS(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1, A, B, 0, C), TL_ERR_SHAPE);
    CHECK_ERR_HAS("op(A) is 3 x 4 but op(B) is 5 x 2");
    CHECK_STATUS(tl_gemm_naive(TL_NOTRANS, TL_NOTRANS, 1, A, B, 0, C), TL_ERR_SHAPE);
    tl_mat B2 = tl_mat_view(buf, 4, 2), Cbad = tl_mat_view(buf, 2, 2);
    CHECK_STATUS(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1, A, B2, 0, Cbad), TL_ERR_SHAPE);
    CHECK_ERR_HAS("C is 2 x 2 but op(A) op(B) is 3 x 2");
    tl_mat Abad = {3, 4, 2, buf}; /* ld < cols */
    CHECK_STATUS(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1, Abad, B2, 0, C), TL_ERR_SHAPE);
    CHECK_ERR_HAS("ld 2 < cols");
    tl_mat Ahuge = {(size_t)INT_MAX + 10, 4, 4, buf}; /* never dereferenced */
    CHECK_STATUS(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1, Ahuge, B2, 0, C), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("int range");
    CHECK_STATUS(tl_gemm((tl_trans)7, TL_NOTRANS, 1, A, B2, 0, C), TL_ERR_INVALID_ARG);
    /* empty inner dimension: C = beta C */
    double c[2] = {2, 3};
    tl_mat E1 = tl_mat_view(buf, 2, 0), E2 = tl_mat_view(buf, 0, 1);
    CHECK_OK(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1, E1, E2, 0.5, tl_mat_view(c, 2, 1)));
    CHECK(c[0] == 1 && c[1] == 1.5);
}

TEST(gemv_vs_naive) {
    tl_rng r;
    tl_rng_seed(&r, 5);
    tl_mat A = padded(6, 4, 2);
    fill_normal(A, &r);
    for (int t = 0; t < 2; t++) {
        size_t nx = t ? 6 : 4, ny = t ? 4 : 6;
        double x[6], y[6], yref[6];
        for (size_t i = 0; i < 6; i++) x[i] = tl_rng_normal(&r), y[i] = yref[i] = tl_rng_normal(&r);
        CHECK_OK(tl_gemv((tl_trans)t, 0.9, A, x, -0.4, y));
        tl_mat X = tl_mat_view(x, nx, 1), Y = tl_mat_view(yref, ny, 1);
        CHECK_OK(tl_gemm_naive((tl_trans)t, TL_NOTRANS, 0.9, A, X, -0.4, Y));
        CHECK(max_abs_diff(tl_mat_view(y, ny, 1), Y) < 1e-13);
    }
    CHECK_STATUS(tl_gemv(TL_NOTRANS, 1, A, NULL, 0, NULL), TL_ERR_INVALID_ARG);
    free(A.data);
}

TEST(syrk_both_triangles) {
    tl_rng r;
    tl_rng_seed(&r, 6);
    tl_mat A = padded(5, 8, 3);
    fill_normal(A, &r);
    for (int t = 0; t < 2; t++) {
        size_t n = t ? 8 : 5;
        tl_mat C = padded(n, n, 2), Cref = padded(n, n, 0);
        /* symmetric starting C for beta */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++) TL_AT(C, i, j) = TL_AT(C, j, i) = tl_rng_normal(&r);
        tl_mat_copy(Cref, C);
        CHECK_OK(tl_syrk((tl_trans)t, 2.0, A, 0.5, C));
        CHECK_OK(tl_gemm_naive((tl_trans)t, (tl_trans)!t, 2.0, A, A, 0.5, Cref));
        CHECK_MSG(max_abs_diff(C, Cref) < 1e-12, "t=%d diff %g", t, max_abs_diff(C, Cref));
        free(C.data), free(Cref.data);
    }
    double c[16];
    CHECK_STATUS(tl_syrk(TL_NOTRANS, 1, A, 0, tl_mat_view(c, 4, 4)), TL_ERR_SHAPE);
    CHECK_ERR_HAS("expected 5 x 5");
    free(A.data);
}

TEST(normalize_cols) {
    double v[] = {3, 0, 1, 4, 0, 1, 0, 0, 1};
    tl_mat M = tl_mat_view(v, 3, 3);
    tl_mat_normalize_cols(M);
    CHECK_NEAR(v[0], 0.6, 1e-15);
    CHECK_NEAR(v[3], 0.8, 1e-15);
    CHECK(v[1] == 0 && v[4] == 0 && v[7] == 0); /* zero column left alone */
    CHECK_NEAR(v[2], 1 / sqrt(3.0), 1e-15);
}

/* ---------------------------------------------------------------- eigen */

TEST(eig_sym_golden_and_residuals) {
    golden g;
    if (golden_load(&g, "linalg_eig.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat S = gmat(&g, "S"), wS = gmat(&g, "wS");
    size_t n = S.rows;
    CHECK(n == 8);
    tl_mat S0 = dup(S);
    double w[8];
    tl_mat V = padded(n, n, 2);
    CHECK_OK(tl_eig_sym(S, TL_EIG_ALL, 0, w, V));
    for (size_t i = 0; i < n; i++) CHECK_NEAR(w[i], wS.data[i], 1e-12);
    CHECK(eig_residual(S, NULL, w, V) < 1e-12);
    tl_mat VtV = tl_mat_view(malloc(n * n * sizeof(double)), n, n);
    tl_gemm_naive(TL_TRANS, TL_NOTRANS, 1, V, V, 0, VtV);
    CHECK(dist_identity(VtV) < 1e-12);
    CHECK(max_abs_diff(S, S0) == 0); /* input untouched */
    /* only the upper triangle is read */
    tl_mat Su = dup(S);
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++) TL_AT(Su, i, j) = NAN;
    double w2[8];
    CHECK_OK(tl_eig_sym(Su, TL_EIG_ALL, 0, w2, tl_mat_view(NULL, n, n)));
    for (size_t i = 0; i < n; i++) CHECK_NEAR(w2[i], wS.data[i], 1e-12);
    free(V.data), free(VtV.data), free(S0.data), free(Su.data);
    golden_free(&g);
}

TEST(eig_subsets_match_full) {
    tl_rng r;
    tl_rng_seed(&r, 21);
    const size_t n = 12, k = 4;
    tl_mat A = padded(n, n, 1);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) TL_AT(A, i, j) = TL_AT(A, j, i) = tl_rng_normal(&r);
    double wall[12], ws[4], wl[4];
    tl_mat Vall = padded(n, n, 0), Vs = padded(n, k, 3), Vl = padded(n, k, 0);
    CHECK_OK(tl_eig_sym(A, TL_EIG_ALL, 0, wall, Vall));
    for (size_t i = 1; i < n; i++) CHECK(wall[i] >= wall[i - 1]);
    CHECK_OK(tl_eig_sym(A, TL_EIG_SMALLEST, k, ws, Vs));
    CHECK_OK(tl_eig_sym(A, TL_EIG_LARGEST, k, wl, Vl));
    for (size_t i = 0; i < k; i++) {
        CHECK_NEAR(ws[i], wall[i], 1e-12);         /* ascending */
        CHECK_NEAR(wl[i], wall[n - 1 - i], 1e-12); /* descending */
    }
    CHECK(eig_residual(A, NULL, ws, Vs) < 1e-12);
    CHECK(eig_residual(A, NULL, wl, Vl) < 1e-12);
    /* subspaces: projector onto the k columns equals the projector of the matching slice */
    tl_mat Ps = projector(Vs), Pl = projector(Vl);
    tl_mat Pa = projector(tl_mat_cols(Vall, 0, k)), Pb = projector(tl_mat_cols(Vall, n - k, k));
    CHECK(max_abs_diff(Ps, Pa) < 1e-10);
    CHECK(max_abs_diff(Pl, Pb) < 1e-10);
    CHECK(max_abs_diff(Ps, Pb) > 0.1); /* the check can tell subspaces apart */
    /* eigenvalues only */
    double wn[4];
    CHECK_OK(tl_eig_sym(A, TL_EIG_LARGEST, k, wn, tl_mat_view(NULL, 0, 0)));
    for (size_t i = 0; i < k; i++) CHECK_NEAR(wn[i], wl[i], 1e-12);
    free(A.data), free(Vall.data), free(Vs.data), free(Vl.data);
    free(Ps.data), free(Pl.data), free(Pa.data), free(Pb.data);
}

TEST(eig_bad_args) {
    double a[9] = {2, 0, 0, 0, 3, 0, 0, 0, 4}, w[4], v[16];
    tl_mat A = tl_mat_view(a, 3, 3);
    CHECK_STATUS(tl_eig_sym(A, TL_EIG_LARGEST, 0, w, tl_mat_view(v, 3, 0)), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("k = 0");
    CHECK_STATUS(tl_eig_sym(A, TL_EIG_SMALLEST, 4, w, tl_mat_view(v, 3, 4)), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("1 <= k <= 3");
    CHECK_STATUS(tl_eig_sym(tl_mat_view(a, 3, 2), TL_EIG_ALL, 0, w, tl_mat_view(NULL, 0, 0)),
                 TL_ERR_SHAPE);
    CHECK_ERR_HAS("must be square");
    CHECK_STATUS(tl_eig_sym(A, TL_EIG_SMALLEST, 2, w, tl_mat_view(v, 3, 3)), TL_ERR_SHAPE);
    CHECK_ERR_HAS("V is 3 x 3, expected 3 x 2");
    CHECK_STATUS(tl_eig_sym(A, (tl_eig_which)9, 1, w, tl_mat_view(NULL, 0, 0)), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_eig_sym_gen(A, tl_mat_view(a, 2, 2), TL_EIG_ALL, 0, w, tl_mat_view(NULL, 0, 0)),
                 TL_ERR_SHAPE);
    CHECK_ERR_HAS("B is 2 x 2 but A is 3 x 3");
    a[4] = NAN;
    CHECK_STATUS(tl_eig_sym(A, TL_EIG_ALL, 0, w, tl_mat_view(NULL, 0, 0)), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("row 2, column 2");
    a[4] = 3;
    /* diagonal: eigenvalues exactly known */
    CHECK_OK(tl_eig_sym(A, TL_EIG_LARGEST, 2, w, tl_mat_view(v, 3, 2)));
    CHECK_NEAR(w[0], 4, 1e-14);
    CHECK_NEAR(w[1], 3, 1e-14);
    CHECK_NEAR(fabs(v[0 * 2 + 0]) + fabs(v[1 * 2 + 0]) + fabs(v[2 * 2 + 0]), 1, 1e-14);
    CHECK_NEAR(fabs(v[2 * 2 + 0]), 1, 1e-14); /* eigenvector of 4 is e3 */
}

TEST(eig_gen_golden) {
    golden g;
    if (golden_load(&g, "linalg_eig.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat A = gmat(&g, "A"), B = gmat(&g, "B"), wAB = gmat(&g, "wAB");
    size_t n = A.rows;
    tl_mat A0 = dup(A), B0 = dup(B);
    double w[8];
    tl_mat V = padded(n, n, 3);
    CHECK_OK(tl_eig_sym_gen(A, B, TL_EIG_ALL, 0, w, V));
    for (size_t i = 0; i < n; i++) CHECK_NEAR(w[i], wAB.data[i], 1e-10);
    CHECK(eig_residual(A, &B, w, V) < 1e-10);
    /* B-orthonormal: V^T B V = I */
    tl_mat BV = padded(n, n, 0), VBV = padded(n, n, 0);
    tl_gemm_naive(TL_NOTRANS, TL_NOTRANS, 1, B, V, 0, BV);
    tl_gemm_naive(TL_TRANS, TL_NOTRANS, 1, V, BV, 0, VBV);
    CHECK(dist_identity(VBV) < 1e-10);
    CHECK(max_abs_diff(A, A0) == 0 && max_abs_diff(B, B0) == 0);
    /* largest 3, descending; then unit-norm columns, residual still zero */
    double wl[3];
    tl_mat Vl = padded(n, 3, 1);
    CHECK_OK(tl_eig_sym_gen(A, B, TL_EIG_LARGEST, 3, wl, Vl));
    for (size_t i = 0; i < 3; i++) CHECK_NEAR(wl[i], wAB.data[n - 1 - i], 1e-10);
    CHECK(eig_residual(A, &B, wl, Vl) < 1e-10);
    double nrm0 = 0;
    for (size_t i = 0; i < n; i++) nrm0 += TL_AT(Vl, i, 0) * TL_AT(Vl, i, 0);
    CHECK(fabs(nrm0 - 1) > 1e-3); /* B-normalised, not unit, before */
    tl_mat_normalize_cols(Vl);
    for (size_t j = 0; j < 3; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += TL_AT(Vl, i, j) * TL_AT(Vl, i, j);
        CHECK_NEAR(s, 1, 1e-13);
    }
    CHECK(eig_residual(A, &B, wl, Vl) < 1e-10);
    /* smallest 2 == first two */
    double ws[2];
    CHECK_OK(tl_eig_sym_gen(A, B, TL_EIG_SMALLEST, 2, ws, tl_mat_view(NULL, 0, 0)));
    CHECK_NEAR(ws[0], wAB.data[0], 1e-10);
    CHECK_NEAR(ws[1], wAB.data[1], 1e-10);
    /* B not positive definite */
    tl_mat Bbad = dup(B);
    TL_AT(Bbad, 2, 2) = -100;
    CHECK_STATUS(tl_eig_sym_gen(A, Bbad, TL_EIG_ALL, 0, w, tl_mat_view(NULL, 0, 0)), TL_ERR_LINALG);
    CHECK_ERR_HAS("B is not positive definite (leading minor 3");
    CHECK_STATUS(tl_eig_sym_gen(A, B, TL_EIG_LARGEST, 9, w, tl_mat_view(NULL, 0, 0)),
                 TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("k = 9");
    free(A0.data), free(B0.data), free(V.data), free(BV.data), free(VBV.data), free(Vl.data);
    free(Bbad.data);
    golden_free(&g);
}

/* ---------------------------------------------------------------- SVD */

static void svd_case(tl_mat A, const double *sref) {
    size_t m = A.rows, n = A.cols, r = m < n ? m : n;
    tl_mat Ap = padded(m, n, 2);
    tl_mat_copy(Ap, A);
    tl_mat U = padded(m, r, 3), Vt = padded(r, n, 1);
    double s[8], s2[8];
    CHECK_OK(tl_svd(Ap, U, s, Vt));
    for (size_t i = 0; i < r; i++) CHECK_NEAR(s[i], sref[i], 1e-12);
    /* reconstruction U diag(s) Vt */
    tl_mat US = padded(m, r, 0), R = padded(m, n, 0);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < r; j++) TL_AT(US, i, j) = TL_AT(U, i, j) * s[j];
    tl_gemm_naive(TL_NOTRANS, TL_NOTRANS, 1, US, Vt, 0, R);
    CHECK(max_abs_diff(R, A) < 1e-12);
    tl_mat I1 = padded(r, r, 0), I2 = padded(r, r, 0);
    tl_gemm_naive(TL_TRANS, TL_NOTRANS, 1, U, U, 0, I1);
    tl_gemm_naive(TL_NOTRANS, TL_TRANS, 1, Vt, Vt, 0, I2);
    CHECK(dist_identity(I1) < 1e-12 && dist_identity(I2) < 1e-12);
    CHECK(max_abs_diff(Ap, A) == 0);
    /* values only, and one factor only */
    CHECK_OK(tl_svd(Ap, tl_mat_view(NULL, 0, 0), s2, tl_mat_view(NULL, 0, 0)));
    for (size_t i = 0; i < r; i++) CHECK_NEAR(s2[i], sref[i], 1e-12);
    tl_mat U2 = padded(m, r, 0);
    CHECK_OK(tl_svd(Ap, U2, s2, tl_mat_view(NULL, 0, 0)));
    tl_mat P1 = projector(U), P2 = projector(U2);
    CHECK(max_abs_diff(P1, P2) < 1e-10);
    free(Ap.data), free(U.data), free(Vt.data), free(US.data), free(R.data);
    free(I1.data), free(I2.data), free(U2.data), free(P1.data), free(P2.data);
}

TEST(svd_golden_reconstruction) {
    golden g;
    if (golden_load(&g, "linalg_svd.txt") != 0) {
        CHECK(0);
        return;
    }
    svd_case(gmat(&g, "T"), gmat(&g, "sT").data); /* tall 7 x 5 */
    svd_case(gmat(&g, "W"), gmat(&g, "sW").data); /* wide 4 x 6 */
    double s[4], u[40];
    CHECK_STATUS(tl_svd(gmat(&g, "W"), tl_mat_view(u, 4, 5), s, tl_mat_view(NULL, 0, 0)),
                 TL_ERR_SHAPE);
    CHECK_ERR_HAS("U is 4 x 5, expected 4 x 4");
    golden_free(&g);
}

TEST(vexp_matches_libm) {
    tl_rng r;
    tl_rng_seed(&r, 3);
    enum { N = 20000 };
    static double x[N], y[N];
    for (size_t i = 0; i < N; i++) x[i] = -745.0 + 1454.0 * tl_rng_uniform(&r);
    x[0] = 0.0, x[1] = -1e-300, x[2] = 1e-18, x[3] = -708.4, x[4] = 709.7, x[5] = -744.4;
    x[6] = -1000.0, x[7] = 1000.0, x[8] = NAN, x[9] = -INFINITY, x[10] = INFINITY;
    tl_vexp(x, y, N);
    double worst = 0.0;
    for (size_t i = 11; i < N; i++) {
        double e = exp(x[i]);
        if (e < 2.3e-308) { /* subnormal results: absolute error within one subnormal step */
            CHECK(fabs(y[i] - e) <= 1e-323);
            continue;
        }
        double rel = fabs(y[i] - e) / e;
        if (rel > worst) worst = rel;
    }
    CHECK_MSG(worst < 4e-16, "tl_vexp: worst relative error %g", worst);
    CHECK(y[0] == 1.0);
    CHECK(fabs(y[3] - exp(-708.4)) <= 4e-16 * exp(-708.4));
    CHECK(y[6] == 0.0 && isinf(y[7]) && isnan(y[8]) && y[9] == 0.0 && isinf(y[10]));
    /* in place */
    double z[3] = {-1.0, 0.5, -30.0};
    tl_vexp(z, z, 3);
    CHECK(fabs(z[0] - exp(-1.0)) <= 4e-16 * exp(-1.0) && fabs(z[2] - exp(-30.0)) <= 4e-16 * exp(-30.0));
}

/* exp(scale * x) in one pass: the same kernel as tl_vexp on the scaled value, in place too. */
TEST(vexp_scaled_and_mirror) {
    enum { N = 1001 };
    static double x[N], y[N];
    tl_rng r;
    tl_rng_seed(&r, 5);
    for (size_t i = 0; i < N; i++) x[i] = 2000.0 * tl_rng_uniform(&r);
    const double g = -0.0371;
    tl_vexp_scaled(x, g, y, N);
    double worst = 0.0;
    for (size_t i = 0; i < N; i++) {
        double e = exp(g * x[i]);
        if (e < 2.3e-308) continue;
        worst = fmax(worst, fabs(y[i] - e) / e);
    }
    CHECK_MSG(worst < 4e-16, "tl_vexp_scaled: worst relative error %g", worst);
    tl_vexp_scaled(x, g, x, N); /* in place */
    CHECK(memcmp(x, y, sizeof x) == 0);
    /* the tiled mirror: odd sizes around the 32-row tiles, a leading dimension wider than n */
    const size_t ns[] = {1, 31, 32, 33, 70};
    for (int t = 0; t < 5; t++) {
        size_t n = ns[t], ld = n + 3;
        tl_mat M = tl_mat_view(malloc(n * ld * sizeof(double)), n, n);
        M.ld = ld;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) TL_AT(M, i, j) = j >= i ? (double)(i * 1000 + j) : -1.0;
        tl_mat_mirror_upper(M);
        int ok = 1;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                ok &= TL_AT(M, i, j) == (double)(i < j ? i * 1000 + j : j * 1000 + i);
        CHECK_MSG(ok, "tl_mat_mirror_upper: n = %zu", n);
        free(M.data);
    }
}

TEST(row_space_basis) {
    tl_rng r;
    tl_rng_seed(&r, 5);
    const size_t n = 5, d = 9;
    for (int rank_def = 0; rank_def < 2; rank_def++) {
        tl_mat A = padded(n, d, 2), Q = padded(d, n, 1);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) TL_AT(A, i, j) = tl_rng_normal(&r);
        if (rank_def) /* row 4 = row 0 + row 1, row 3 = 2 row 2: rank 3 */
            for (size_t j = 0; j < d; j++) {
                TL_AT(A, 4, j) = TL_AT(A, 0, j) + TL_AT(A, 1, j);
                TL_AT(A, 3, j) = 2.0 * TL_AT(A, 2, j);
            }
        CHECK_OK(tl_row_space_basis(A, Q));
        double orth = 0.0, resid = 0.0;
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++) {
                double s2 = 0.0;
                for (size_t i = 0; i < d; i++) s2 += TL_AT(Q, i, a) * TL_AT(Q, i, b);
                double e = fabs(s2 - (a == b ? 1.0 : 0.0));
                if (e > orth) orth = e;
            }
        for (size_t i = 0; i < n; i++) { /* a_i - Q Q^T a_i = 0: every row lies in span(Q) */
            double c[5] = {0};
            for (size_t b = 0; b < n; b++)
                for (size_t j = 0; j < d; j++) c[b] += TL_AT(A, i, j) * TL_AT(Q, j, b);
            for (size_t j = 0; j < d; j++) {
                double v = TL_AT(A, i, j);
                for (size_t b = 0; b < n; b++) v -= TL_AT(Q, j, b) * c[b];
                if (fabs(v) > resid) resid = fabs(v);
            }
        }
        CHECK(orth < 1e-12);
        CHECK(resid < 1e-12);
        free(A.data), free(Q.data);
    }
    tl_mat T = padded(4, 3, 0), Qb = padded(3, 4, 0);
    CHECK_STATUS(tl_row_space_basis(T, Qb), TL_ERR_SHAPE);
    CHECK_ERR_HAS("needs rows <= columns");
    free(T.data), free(Qb.data);
}

/* The factored form (linalg/rowspace.h) against the explicit basis: A Q = the factor C (lower
 * triangular), Q V = tl_rowspace_apply, on a full-rank and a rank-deficient A; plus the shape
 * errors and out-of-memory at every allocation. */
TEST(rowspace_factor) {
    tl_rng r;
    tl_rng_seed(&r, 6);
    const size_t n = 5, d = 9, k = 3;
    for (int rank_def = 0; rank_def < 2; rank_def++) {
        tl_mat A = padded(n, d, 2), Q = padded(d, n, 0), C = padded(n, n, 1), V = padded(n, k, 1);
        tl_mat W = padded(d, k, 0);
        fill_normal(A, &r);
        fill_normal(V, &r);
        if (rank_def)
            for (size_t j = 0; j < d; j++) TL_AT(A, 4, j) = TL_AT(A, 0, j) - TL_AT(A, 3, j);
        tl_rowspace f;
        CHECK_OK(tl_row_space_basis(A, Q));
        CHECK_OK(tl_rowspace_factor(A, &f, C));
        double ec = 0.0, ew = 0.0, upper = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t b = 0; b < n; b++) {
                double s2 = 0.0;
                for (size_t j = 0; j < d; j++) s2 += TL_AT(A, i, j) * TL_AT(Q, j, b);
                ec = fmax(ec, fabs(s2 - TL_AT(C, i, b)));
                if (b > i) upper = fmax(upper, fabs(TL_AT(C, i, b)));
            }
        CHECK_OK(tl_rowspace_apply(&f, V, W));
        for (size_t j = 0; j < d; j++)
            for (size_t c = 0; c < k; c++) {
                double s2 = 0.0;
                for (size_t b = 0; b < n; b++) s2 += TL_AT(Q, j, b) * TL_AT(V, b, c);
                ew = fmax(ew, fabs(s2 - TL_AT(W, j, c)));
            }
        CHECK_MSG(ec < 1e-12, "A Q against the factor: %g", ec);
        CHECK(upper == 0.0);
        CHECK_MSG(ew < 1e-12, "Q V: %g", ew);
        tl_mat Wbad = padded(d, k, 1); /* ld != k */
        CHECK_STATUS(tl_rowspace_apply(&f, V, Wbad), TL_ERR_SHAPE);
        tl_rowspace_free(&f);
        tl_rowspace_free(&f); /* twice: harmless */
        free(A.data), free(Q.data), free(C.data), free(V.data), free(W.data), free(Wbad.data);
    }
    tl_mat T = padded(4, 3, 0), Cb = padded(4, 4, 0);
    tl_rowspace f;
    CHECK_STATUS(tl_rowspace_factor(T, &f, Cb), TL_ERR_SHAPE);
    CHECK_ERR_HAS("needs 1 <= rows <= columns");
    free(T.data), free(Cb.data);
    tl_mat A = padded(n, d, 0), C = padded(n, n, 0), V = padded(n, k, 0), W = padded(d, k, 0);
    fill_normal(A, &r);
    fill_normal(V, &r);
    int fails = 0;
    for (long budget = 0; budget < 16; budget++) {
        tl_allocator_set(&oom_allocator);
        oom_left = budget;
        tl_status st = tl_rowspace_factor(A, &f, C);
        if (st == TL_OK) st = tl_rowspace_apply(&f, V, W);
        tl_rowspace_free(&f);
        oom_left = -1;
        tl_allocator_set(NULL);
        if (st == TL_OK) break;
        CHECK_MSG(st == TL_ERR_NOMEM, "budget %ld: status %d", budget, (int)st);
        fails++;
    }
    CHECK(fails >= 3);
    free(A.data), free(C.data), free(V.data), free(W.data);
}

/* ---------------------------------------------------------------- factorisations, solves */

TEST(cholesky) {
    golden g;
    if (golden_load(&g, "linalg_eig.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat A = gmat(&g, "A"), Lref = gmat(&g, "L");
    size_t n = A.rows;
    tl_mat L = padded(n, n, 2);
    tl_mat_copy(L, A);
    CHECK_OK(tl_chol(L));
    CHECK(max_abs_diff(L, Lref) < 1e-12); /* numpy's L, upper zeroed */
    tl_mat LLt = padded(n, n, 0);
    tl_gemm_naive(TL_NOTRANS, TL_TRANS, 1, L, L, 0, LLt);
    CHECK(max_abs_diff(LLt, A) < 1e-12);
    double d[16] = {1, 0, 0, 0, 0, 2, 0, 0, 0, 0, -3, 0, 0, 0, 0, 4};
    CHECK_STATUS(tl_chol(tl_mat_view(d, 4, 4)), TL_ERR_LINALG);
    CHECK_ERR_HAS("Cholesky: matrix is not positive definite (leading minor 3)");
    CHECK_STATUS(tl_chol(tl_mat_view(d, 4, 3)), TL_ERR_SHAPE);
    free(L.data), free(LLt.data);
    golden_free(&g);
}

TEST(solves_and_inverse) {
    golden g;
    if (golden_load(&g, "linalg_eig.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat A = gmat(&g, "A"), R = gmat(&g, "R"), G = gmat(&g, "G");
    tl_mat A0 = dup(A), G0 = dup(G);
    /* SPD solve, B a sub-view with ld > cols */
    tl_mat X = padded(8, 3, 4);
    tl_mat_copy(X, R);
    CHECK_OK(tl_solve_spd(A, X));
    CHECK(max_abs_diff(X, gmat(&g, "X_spd")) < 1e-12);
    CHECK(max_abs_diff(A, A0) == 0);
    /* general solve */
    tl_mat Xg = padded(6, 3, 1);
    tl_mat_copy(Xg, tl_mat_rows(R, 0, 6));
    CHECK_OK(tl_solve(G, Xg));
    CHECK(max_abs_diff(Xg, gmat(&g, "X_gen")) < 1e-12);
    CHECK(max_abs_diff(G, G0) == 0);
    /* inverse in place, in a padded view */
    tl_mat Gi = padded(6, 6, 2), GGi = padded(6, 6, 0);
    tl_mat_copy(Gi, G);
    CHECK_OK(tl_inv(Gi));
    CHECK(max_abs_diff(Gi, gmat(&g, "G_inv")) < 1e-12);
    tl_gemm_naive(TL_NOTRANS, TL_NOTRANS, 1, G, Gi, 0, GGi);
    CHECK(dist_identity(GGi) < 1e-12);
    /* singular */
    double s[9] = {1, 2, 3, 2, 4, 6, 1, 0, 1}, s0[9], b[3] = {1, 1, 1};
    memcpy(s0, s, sizeof s);
    CHECK_STATUS(tl_inv(tl_mat_view(s, 3, 3)), TL_ERR_LINALG);
    CHECK_ERR_HAS("singular");
    CHECK(memcmp(s, s0, sizeof s) == 0); /* left intact */
    CHECK_STATUS(tl_solve(tl_mat_view(s, 3, 3), tl_mat_view(b, 3, 1)), TL_ERR_LINALG);
    CHECK_ERR_HAS("singular");
    CHECK_STATUS(tl_solve_spd(tl_mat_view(s, 3, 3), tl_mat_view(b, 3, 1)), TL_ERR_LINALG);
    CHECK_ERR_HAS("not positive definite");
    CHECK_STATUS(tl_solve(A, tl_mat_view(b, 3, 1)), TL_ERR_SHAPE);
    CHECK_ERR_HAS("A is 8 x 8 but B is 3 x 1");
    free(A0.data), free(G0.data), free(X.data), free(Xg.data), free(Gi.data), free(GGi.data);
    golden_free(&g);
}

TEST(sym_pow) {
    golden g;
    if (golden_load(&g, "linalg_eig.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat A = gmat(&g, "A");
    size_t n = A.rows;
    tl_mat P = padded(n, n, 1), PP = padded(n, n, 0), PPA = padded(n, n, 0);
    CHECK_OK(tl_sym_pow(A, -0.5, 0, P));
    CHECK(max_abs_diff(P, gmat(&g, "A_mhalf")) < 1e-10);
    tl_gemm_naive(TL_NOTRANS, TL_NOTRANS, 1, P, P, 0, PP);
    tl_gemm_naive(TL_NOTRANS, TL_NOTRANS, 1, PP, A, 0, PPA);
    CHECK(dist_identity(PPA) < 1e-10); /* (A^{-1/2})^2 A = I */
    CHECK_OK(tl_sym_pow(A, 0.5, 0, P));
    CHECK(max_abs_diff(P, gmat(&g, "A_half")) < 1e-10);
    /* clamping: A = 4 u u^T (rank 1), eps 1e-6 -> floor 4e-6 */
    double u[3] = {1 / sqrt(2.0), 0, 1 / sqrt(2.0)}, a[9], p[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) a[i * 3 + j] = 4 * u[i] * u[j];
    CHECK_OK(tl_sym_pow(tl_mat_view(a, 3, 3), -0.5, 1e-6, tl_mat_view(p, 3, 3)));
    double pu[3] = {0}, e2[3] = {0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) pu[i] += p[i * 3 + j] * u[j], e2[i] += p[i * 3 + j] * (j == 1);
    for (int i = 0; i < 3; i++) CHECK_NEAR(pu[i], 0.5 * u[i], 1e-9); /* 4^{-1/2} on u */
    CHECK_NEAR(e2[1], 1 / sqrt(4e-6), 1e-9);                         /* floor^{-1/2} off u */
    /* zero matrix: no positive eigenvalue */
    double z[4] = {0};
    CHECK_STATUS(tl_sym_pow(tl_mat_view(z, 2, 2), -0.5, 0, tl_mat_view(p, 2, 2)), TL_ERR_LINALG);
    CHECK_ERR_HAS("largest eigenvalue");
    CHECK_STATUS(tl_sym_pow(A, -0.5, 0, tl_mat_view(p, 3, 3)), TL_ERR_SHAPE);
    free(P.data), free(PP.data), free(PPA.data);
    golden_free(&g);
}

/* ---------------------------------------------------------------- distances, kernels */

static void sqdist_naive(tl_mat X, tl_mat Y, tl_mat D) {
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < Y.rows; j++) {
            double s = 0;
            for (size_t p = 0; p < X.cols; p++)
                s += (TL_AT(X, i, p) - TL_AT(Y, j, p)) * (TL_AT(X, i, p) - TL_AT(Y, j, p));
            TL_AT(D, i, j) = s;
        }
}

TEST(sqdist_vs_naive) {
    tl_rng r;
    tl_rng_seed(&r, 31);
    /* (n, m) = (37, 23): one block; (20, 9000): several row blocks */
    size_t shapes[2][2] = {{37, 23}, {20, 9000}};
    for (int s = 0; s < 2; s++) {
        size_t n = shapes[s][0], m = shapes[s][1], d = 5;
        tl_mat X = padded(n, d, 2), Y = padded(m, d, 1), D = padded(n, m, 3), Dr = padded(n, m, 0);
        fill_normal(X, &r);
        fill_normal(Y, &r);
        CHECK_OK(tl_sqdist(X, Y, D));
        sqdist_naive(X, Y, Dr);
        CHECK_MSG(max_abs_diff(D, Dr) < 1e-11, "n=%zu m=%zu diff %g", n, m, max_abs_diff(D, Dr));
        free(X.data), free(Y.data), free(D.data), free(Dr.data);
    }
    /* self-distances: exact zero diagonal, nothing negative */
    tl_mat X = padded(15, 3, 0), D = padded(15, 15, 0);
    fill_normal(X, &r);
    for (size_t j = 0; j < 3; j++) TL_AT(X, 1, j) = TL_AT(X, 0, j) * (1 + 1e-15) + 1e6;
    for (size_t j = 0; j < 3; j++) TL_AT(X, 0, j) = TL_AT(X, 1, j);
    CHECK_OK(tl_sqdist(X, X, D));
    int ok = 1;
    for (size_t i = 0; i < 15; i++) {
        ok &= TL_AT(D, i, i) == 0.0;
        for (size_t j = 0; j < 15; j++) ok &= TL_AT(D, i, j) >= 0.0;
    }
    CHECK(ok);
    double nrm[15], ref = 0;
    tl_row_sqnorms(X, nrm);
    for (size_t j = 0; j < 3; j++) ref += TL_AT(X, 4, j) * TL_AT(X, 4, j);
    CHECK_NEAR(nrm[4], ref, 1e-15);
    CHECK_STATUS(tl_sqdist(X, tl_mat_view(D.data, 2, 2), D), TL_ERR_SHAPE);
    CHECK_ERR_HAS("feature counts differ");
    free(X.data), free(D.data);
}

/* Large offsets make ||x||^2 + ||y||^2 - 2 x.y lose every digit for x = y: the result must still
 * be clamped (no negative distance, no RBF value above 1) and exactly 0 / 1 on a self diagonal. */
TEST(rounding_clamps) {
    tl_rng r;
    tl_rng_seed(&r, 33);
    const size_t n = 60, d = 5;
    tl_mat X = padded(n, d, 0), D = padded(n, n, 0), K = padded(n, n, 0);
    fill_normal(X, &r);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) TL_AT(X, i, j) = 1e4 + 1e-3 * TL_AT(X, i, j);
    tl_mat Xc = dup(X); /* same values, another view */
    tl_kernel k = tl_kernel_default(TL_KERNEL_RBF);
    k.gamma = 1e3;
    int ok_self = 1, ok_nonneg = 1, ok_le1 = 1, ok_selfk = 1;
    CHECK_OK(tl_sqdist(X, X, D));
    for (size_t i = 0; i < n; i++) ok_self &= TL_AT(D, i, i) == 0.0;
    CHECK_OK(tl_sqdist(X, Xc, D));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) ok_nonneg &= TL_AT(D, i, j) >= 0.0;
    CHECK_OK(tl_kernel_matrix(&k, X, Xc, K));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) ok_le1 &= TL_AT(K, i, j) <= 1.0;
    CHECK_OK(tl_kernel_matrix(&k, X, X, K));
    for (size_t i = 0; i < n; i++) ok_selfk &= TL_AT(K, i, i) == 1.0;
    CHECK(ok_self);
    CHECK(ok_nonneg);
    CHECK(ok_le1);
    CHECK(ok_selfk);
    free(X.data), free(D.data), free(K.data), free(Xc.data);
}

TEST(kernels_golden) {
    golden g;
    if (golden_load(&g, "linalg_kernel.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat X = gmat(&g, "X"), Y = gmat(&g, "Y");
    double gamma = 0, gamma7 = 0;
    CHECK_OK(tl_kernel_median_gamma(X, 1, &gamma));
    CHECK_NEAR(gamma, gmat(&g, "gamma").data[0], 1e-12); /* 66 pairs: mean of the middle two */
    CHECK_OK(tl_kernel_median_gamma(tl_mat_rows(X, 0, 7), 1, &gamma7));
    CHECK_NEAR(gamma7, gmat(&g, "gamma7").data[0], 1e-12); /* 21 pairs */
    double gseed = 0;
    CHECK_OK(tl_kernel_median_gamma(X, 999, &gseed));
    CHECK(gseed == gamma); /* n <= 2000: every row, seed irrelevant */

    tl_kernel k = tl_kernel_default(TL_KERNEL_RBF);
    k.gamma = gamma;
    tl_mat K = padded(12, 5, 2), Kxx = padded(12, 12, 0);
    CHECK_OK(tl_kernel_matrix(&k, X, Y, K));
    CHECK(max_abs_diff(K, gmat(&g, "K_rbf")) < 1e-12);
    CHECK_OK(tl_kernel_matrix(&k, X, X, Kxx));
    CHECK(max_abs_diff(Kxx, gmat(&g, "K_rbf_xx")) < 1e-12);
    int diag1 = 1;
    for (size_t i = 0; i < 12; i++) diag1 &= TL_AT(Kxx, i, i) == 1.0;
    CHECK(diag1);
    tl_kernel kp = tl_kernel_default(TL_KERNEL_POLY);
    kp.gamma = 0.3;
    kp.degree = 3;
    CHECK_OK(tl_kernel_matrix(&kp, X, Y, K));
    CHECK(max_abs_diff(K, gmat(&g, "K_poly")) < 1e-12);
    CHECK_OK(tl_kernel_matrix_naive(&kp, X, Y, K));
    CHECK(max_abs_diff(K, gmat(&g, "K_poly")) < 1e-12);
    tl_kernel kl = tl_kernel_default(TL_KERNEL_LINEAR);
    CHECK_OK(tl_kernel_matrix(&kl, X, Y, K));
    CHECK(max_abs_diff(K, gmat(&g, "K_lin")) < 1e-12);
    CHECK_OK(tl_kernel_matrix_naive(&k, X, Y, K));
    CHECK(max_abs_diff(K, gmat(&g, "K_rbf")) < 1e-12);
    free(K.data), free(Kxx.data);
    golden_free(&g);
}

TEST(kernels_vs_naive_blocks) {
    tl_rng r;
    tl_rng_seed(&r, 41);
    const size_t n = 30, m = 9000, d = 4; /* 9000 columns -> 8-row blocks */
    tl_mat X = padded(n, d, 1), Y = padded(m, d, 2), K = padded(n, m, 1), Kr = padded(n, m, 0);
    fill_normal(X, &r);
    fill_normal(Y, &r);
    tl_kernel ks[3] = {tl_kernel_default(TL_KERNEL_LINEAR), tl_kernel_default(TL_KERNEL_RBF),
                       tl_kernel_default(TL_KERNEL_POLY)};
    ks[1].gamma = 0.2;
    ks[2].gamma = 0.25;
    ks[2].degree = 3;
    ks[2].coef0 = 0.5;
    for (int t = 0; t < 3; t++) {
        CHECK_OK(tl_kernel_matrix(&ks[t], X, Y, K));
        CHECK_OK(tl_kernel_matrix_naive(&ks[t], X, Y, Kr));
        CHECK_MSG(max_abs_diff(K, Kr) < 1e-11, "kernel %d diff %g", t, max_abs_diff(K, Kr));
    }
    free(X.data), free(Y.data), free(K.data), free(Kr.data);
}

TEST(kernel_args) {
    tl_kernel_type t = TL_KERNEL_LINEAR;
    CHECK_OK(tl_kernel_type_parse("rbf", &t));
    CHECK(t == TL_KERNEL_RBF);
    CHECK_OK(tl_kernel_type_parse("Poly", &t));
    CHECK(t == TL_KERNEL_POLY);
    CHECK_OK(tl_kernel_type_parse("linear", &t));
    CHECK(t == TL_KERNEL_LINEAR);
    CHECK_STATUS(tl_kernel_type_parse("gauss", &t), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("\"gauss\"");
    CHECK_STATUS(tl_kernel_type_parse("rbfx", &t), TL_ERR_INVALID_ARG);
    tl_kernel k = tl_kernel_default(TL_KERNEL_POLY);
    CHECK(k.gamma <= 0 && k.coef0 == 1 && k.degree == 2);
    double x[8] = {0}, kk[16];
    tl_mat X = tl_mat_view(x, 4, 2);
    CHECK_STATUS(tl_kernel_matrix(&k, X, X, tl_mat_view(kk, 4, 4)), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("gamma");
    k.gamma = 1;
    k.degree = 0;
    CHECK_STATUS(tl_kernel_matrix(&k, X, X, tl_mat_view(kk, 4, 4)), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("degree");
    k.degree = 2;
    CHECK_STATUS(tl_kernel_matrix(&k, X, X, tl_mat_view(kk, 4, 3)), TL_ERR_SHAPE);
    CHECK_ERR_HAS("K is 4 x 3, expected 4 x 4");
    CHECK_STATUS(tl_kernel_matrix(&k, X, tl_mat_view(x, 2, 4), tl_mat_view(kk, 4, 2)),
                 TL_ERR_SHAPE);
    double g = 0;
    CHECK_STATUS(tl_kernel_median_gamma(tl_mat_view(x, 1, 2), 0, &g), TL_ERR_EMPTY);
    CHECK_STATUS(tl_kernel_median_gamma(X, 0, &g), TL_ERR_INVALID_ARG); /* identical rows */
    CHECK_ERR_HAS("identical");
    /* more than half the pairs at distance 0: median over the positive ones */
    double z[10] = {0, 0, 0, 0, 0, 0, 0, 0, 3, 0}; /* 4 zero rows + (3,0): 6 zero pairs, 4 of 9 */
    CHECK_OK(tl_kernel_median_gamma(tl_mat_view(z, 5, 2), 0, &g));
    CHECK_NEAR(g, 1.0 / 9.0, 1e-15);
    x[0] = NAN;
    CHECK_STATUS(tl_kernel_median_gamma(X, 0, &g), TL_ERR_NONFINITE);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

TEST(median_gamma_sampled) {
    tl_rng r;
    tl_rng_seed(&r, 51);
    const size_t n = 2600, d = 3;
    tl_mat X = padded(n, d, 1);
    fill_normal(X, &r);
    /* first and second halves differ in scale: a sample biased to either end misses the median */
    for (size_t i = n / 2; i < n; i++)
        for (size_t j = 0; j < d; j++) TL_AT(X, i, j) *= 3.0;
    double g1 = 0, g2 = 0, g3 = 0;
    CHECK_OK(tl_kernel_median_gamma(X, 7, &g1));
    CHECK_OK(tl_kernel_median_gamma(X, 7, &g2));
    CHECK_OK(tl_kernel_median_gamma(X, 8, &g3));
    CHECK(g1 == g2); /* reproducible for a seed */
    CHECK(g1 != g3); /* a different sample */
    /* full-data median: the 2000-row sample must land close */
    size_t np = n * (n - 1) / 2, q = 0;
    double *pd = malloc(np * sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < d; p++)
                s += (TL_AT(X, i, p) - TL_AT(X, j, p)) * (TL_AT(X, i, p) - TL_AT(X, j, p));
            pd[q++] = s;
        }
    qsort(pd, np, sizeof(double), cmp_dbl);
    double full = 1.0 / (0.5 * (pd[np / 2 - 1] + pd[np / 2]));
    CHECK_MSG(fabs(g1 / full - 1) < 0.03, "sampled %g vs full %g", g1, full);
    free(pd), free(X.data);
}

/* ---------------------------------------------------------------- out of memory */


/* ---------------------------------------------------------------- pencils lambda I + U U^T */

/* The largest distance of a column of B from the span of A's columns (unit columns, not
 * orthogonal in general: the pencil's eigenvectors are L-orthogonal), by least squares through
 * the Gram matrix: ||b - A (A^T A)^{-1} A^T b||. A subspace comparison, free of the sign and of
 * the mixing of nearly equal eigenvalues. */
static double pencil_vec_gap(tl_mat A, tl_mat B) {
    size_t n = A.rows, k = A.cols;
    tl_mat G, P, T;
    tl_mat_alloc(&G, k, k);
    tl_mat_alloc(&P, k, B.cols);
    tl_mat_alloc(&T, n, B.cols);
    tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, A, A, 0.0, G);
    tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, A, B, 0.0, P);
    tl_solve_spd(G, P);
    tl_mat_copy(T, B);
    tl_gemm(TL_NOTRANS, TL_NOTRANS, -1.0, A, P, 1.0, T);
    double g = 0;
    for (size_t c = 0; c < T.cols; c++) {
        double s2 = 0;
        for (size_t i = 0; i < n; i++) s2 += TL_AT(T, i, c) * TL_AT(T, i, c);
        g = fmax(g, sqrt(s2));
    }
    tl_mat_free(&G);
    tl_mat_free(&P);
    tl_mat_free(&T);
    return g;
}

/* The JDA round's pencil R a = mu (lambda I + U U^T) a: the closed-form path on a full R and the
 * Rayleigh-Ritz path on a diagonal R (with a flat spectrum like the SURF scatter: a few large
 * eigenvalues, then a slow decay) against LAPACK's generalised solver on the formed matrices. */
TEST(eig_pencil_lowrank_and_diag_vs_naive) {
    tl_rng r;
    tl_rng_seed(&r, 21);
    size_t n = 400, q = 6, k = 60;
    double *d = malloc(n * sizeof *d), *w1 = malloc(k * sizeof *w1), *w2 = malloc(k * sizeof *w2);
    tl_mat R, U, V1, V2;
    CHECK_OK(tl_mat_alloc(&R, n, n));
    CHECK_OK(tl_mat_alloc(&U, n, q));
    CHECK_OK(tl_mat_alloc(&V1, n, k));
    CHECK_OK(tl_mat_alloc(&V2, n, k));
    for (size_t i = 0; i < n; i++) d[i] = 60.0 * exp(-(double)i / 3.0) + 4.0 * exp(-(double)i / 150.0);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < q; a++) TL_AT(U, i, a) = 0.4 * tl_rng_normal(&r);
    /* diagonal R: the Rayleigh-Ritz path accepts, and agrees with the naive solver */
    tl_mat_fill(R, 0.0);
    for (size_t i = 0; i < n; i++) TL_AT(R, i, i) = d[i];
    CHECK_OK(tl_eig_pencil_naive(R, U, 0.8, k, w1, V1));
    CHECK_OK(tl_eig_pencil_diag(d, U, 0.8, k, 0, w2, V2));
    double ev = 0;
    for (size_t c = 0; c < k; c++) ev = fmax(ev, fabs(w1[c] - w2[c]) / w1[0]);
    CHECK_MSG(ev < 1e-12, "eigenvalues differ by %g", ev);
    CHECK_MSG(pencil_vec_gap(V1, V2) < 1e-10, "eigenvectors %g from the naive subspace",
              pencil_vec_gap(V1, V2));
    /* and so does the closed-form path, on the diagonal R and on a rotated (full) one */
    CHECK_OK(tl_eig_pencil_lowrank(R, U, 0.8, k, w2, V2));
    ev = 0;
    for (size_t c = 0; c < k; c++) ev = fmax(ev, fabs(w1[c] - w2[c]) / w1[0]);
    CHECK_MSG(ev < 1e-12, "closed form: eigenvalues differ by %g", ev);
    CHECK(pencil_vec_gap(V1, V2) < 1e-10);
    tl_mat G, Qr, RQ, U2;
    CHECK_OK(tl_mat_alloc(&G, n, n));
    CHECK_OK(tl_mat_alloc(&Qr, n, n));
    CHECK_OK(tl_mat_alloc(&RQ, n, n));
    CHECK_OK(tl_mat_alloc(&U2, n, q));
    fill_normal(G, &r);
    CHECK_OK(tl_row_space_basis(G, Qr)); /* a random orthogonal n x n */
    CHECK_OK(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Qr, R, 0.0, RQ));
    CHECK_OK(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, RQ, Qr, 0.0, G)); /* Q diag(d) Q^T */
    CHECK_OK(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Qr, U, 0.0, U2));
    CHECK_OK(tl_eig_pencil_naive(G, U2, 0.8, k, w1, V1));
    CHECK_OK(tl_eig_pencil_lowrank(G, U2, 0.8, k, w2, V2));
    ev = 0;
    for (size_t c = 0; c < k; c++) ev = fmax(ev, fabs(w1[c] - w2[c]) / w1[0]);
    CHECK_MSG(ev < 1e-12, "full R: eigenvalues differ by %g", ev);
    CHECK(pencil_vec_gap(V1, V2) < 1e-10);
    /* declined, without a message: a subspace that would be most of the problem (k close to
       n), and a residual tolerance nothing meets */
    tl_mat V3;
    CHECK_OK(tl_mat_alloc(&V3, n, 350));
    double *w3 = malloc(350 * sizeof *w3);
    CHECK_STATUS(tl_eig_pencil_diag(d, U, 0.8, 350, 0, w3, V3), TL_ERR_UNSUPPORTED);
    CHECK_STATUS(tl_eig_pencil_diag(d, U, 0.8, k, 1e-30, w2, V2), TL_ERR_UNSUPPORTED);
    free(w3);
    tl_mat_free(&V3);
    tl_mat_free(&G);
    tl_mat_free(&Qr);
    tl_mat_free(&RQ);
    tl_mat_free(&U2);
    tl_mat_free(&R);
    tl_mat_free(&U);
    tl_mat_free(&V1);
    tl_mat_free(&V2);
    free(d);
    free(w1);
    free(w2);
}

TEST(out_of_memory) {
    tl_rng r;
    tl_rng_seed(&r, 61);
    const size_t n = 10;
    tl_mat A = rand_spd(n, &r), B = rand_spd(n, &r);
    tl_mat Xs = padded(2100, 2, 0), V = padded(n, 3, 0), O = padded(n, n, 0), Rhs = padded(n, 2, 0);
    fill_normal(Xs, &r);
    double w[10];
    tl_kernel k = tl_kernel_default(TL_KERNEL_RBF);
    k.gamma = 0.5;
    for (int f = 0; f < 10; f++) {
        int fails = 0, succeeded = 1;
        for (long budget = 0; budget < 64; budget++) {
            tl_allocator_set(&oom_allocator);
            oom_left = budget;
            tl_status st = TL_OK;
            double g;
            switch (f) {
            case 0: st = tl_eig_sym(A, TL_EIG_LARGEST, 3, w, V); break;
            case 1: st = tl_eig_sym_gen(A, B, TL_EIG_SMALLEST, 3, w, V); break;
            case 2: st = tl_svd(A, O, w, tl_mat_view(NULL, 0, 0)); break;
            case 3: st = tl_solve_spd(A, Rhs); break;
            case 4: st = tl_solve(A, Rhs); break;
            case 5:
                tl_mat_copy(O, A);
                st = tl_inv(O);
                break;
            case 6: st = tl_sym_pow(A, -0.5, 0, O); break;
            case 7: st = tl_kernel_median_gamma(Xs, 3, &g); break;
            case 8: st = tl_sqdist(A, B, O); break;
            default: st = tl_kernel_matrix(&k, A, B, O); break;
            }
            oom_left = -1;
            tl_allocator_set(NULL);
            if (st == TL_OK) {
                succeeded = 1;
                break;
            }
            succeeded = 0;
            CHECK_MSG(st == TL_ERR_NOMEM, "routine %d budget %ld: status %d (%s)", f, budget,
                      (int)st, tl_error_message());
            fails++;
        }
        CHECK_MSG(succeeded, "routine %d never succeeded", f);
        CHECK_MSG(fails > 0, "routine %d allocates nothing?", f);
    }
    free(A.data), free(B.data), free(Xs.data), free(V.data), free(O.data), free(Rhs.data);
}

int main(void) {
    RUN(gemm_hand_computed);
    RUN(gemm_vs_naive_transposes_subviews);
    RUN(gemm_shapes_rejected);
    RUN(gemv_vs_naive);
    RUN(syrk_both_triangles);
    RUN(normalize_cols);
    RUN(eig_sym_golden_and_residuals);
    RUN(eig_subsets_match_full);
    RUN(eig_bad_args);
    RUN(eig_gen_golden);
    RUN(svd_golden_reconstruction);
    RUN(row_space_basis);
    RUN(rowspace_factor);
    RUN(vexp_matches_libm);
    RUN(vexp_scaled_and_mirror);
    RUN(cholesky);
    RUN(solves_and_inverse);
    RUN(sym_pow);
    RUN(sqdist_vs_naive);
    RUN(rounding_clamps);
    RUN(kernels_golden);
    RUN(kernels_vs_naive_blocks);
    RUN(kernel_args);
    RUN(median_gamma_sampled);
    RUN(eig_pencil_lowrank_and_diag_vs_naive);
    RUN(out_of_memory);
    return tl_test_summary();
}
