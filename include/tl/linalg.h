/* libtl linear algebra: the tl_mat view and thin wrappers over CBLAS + LAPACKE (products,
 * symmetric and generalised eigen-problems, SVD, Cholesky, solves, SPD inverse square roots),
 * pairwise squared distances and kernel matrices computed blockwise through BLAS.
 *
 * All matrices are row-major, one sample per row. A tl_mat never owns its data unless it came
 * from tl_mat_alloc (then release it with tl_mat_free). Outputs are caller-allocated views of the
 * documented shape unless a function says it allocates. */
#ifndef TL_LINALG_H
#define TL_LINALG_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row-major view: element (i, j) is data[i * ld + j]; ld >= cols. */
typedef struct {
    size_t rows;  /* rows */
    size_t cols;  /* columns */
    size_t ld;    /* leading dimension: the step from one row to the next (>= cols) */
    double *data; /* element (0, 0) */
} tl_mat;

/* Element (i, j) of a tl_mat, as an lvalue. */
#define TL_AT(m, i, j) ((m).data[(size_t)(i) * (m).ld + (size_t)(j)])

tl_mat tl_mat_view(double *data, size_t rows, size_t cols);          /* ld = cols */
tl_mat tl_mat_rows(tl_mat m, size_t row0, size_t nrows);             /* sub-view of rows */
tl_mat tl_mat_cols(tl_mat m, size_t col0, size_t ncols);             /* sub-view of columns */
/* Allocate a zeroed rows x cols matrix (ld = cols). Overflow-checked. */
tl_status tl_mat_alloc(tl_mat *m, size_t rows, size_t cols);
void tl_mat_free(tl_mat *m);                                          /* NULL-safe; zeroes m */
tl_status tl_mat_copy(tl_mat dst, tl_mat src);                        /* same shape */
tl_status tl_mat_clone(tl_mat *dst, tl_mat src);                      /* allocates dst */
void tl_mat_fill(tl_mat m, double v);
/* TL_ERR_NONFINITE naming the first bad (row, col) if any entry is NaN/Inf. */
tl_status tl_mat_check_finite(tl_mat m, const char *what);

/* The BLAS libtl was linked with, as it describes itself (OpenBLAS: "OpenBLAS 0.3.26 DYNAMIC_ARCH
 * NO_AFFINITY Haswell MAX_THREADS=64"); a static string. */
const char *tl_blas_info(void);

/* ---- BLAS products ---- */
/* Whether a product uses a matrix as it is or transposed. */
typedef enum {
    TL_NOTRANS = 0, /* A */
    TL_TRANS = 1    /* A^T */
} tl_trans;
/* C = alpha * op(A) op(B) + beta * C; shapes are checked (TL_ERR_SHAPE). */
tl_status tl_gemm(tl_trans ta, tl_trans tb, double alpha, tl_mat A, tl_mat B, double beta,
                  tl_mat C);
/* y = alpha * op(A) x + beta * y */
tl_status tl_gemv(tl_trans ta, double alpha, tl_mat A, const double *x, double beta, double *y);
/* C = alpha * A A^T + beta * C (trans = NOTRANS) or alpha * A^T A + beta * C (TRANS); C is
 * symmetric and both triangles are filled on return. */
tl_status tl_syrk(tl_trans t, double alpha, tl_mat A, double beta, tl_mat C);

/* ---- eigen-problems ---- */
/* Which eigenpairs a solver returns. */
typedef enum {
    TL_EIG_ALL = 0,      /* every eigenpair, ascending */
    TL_EIG_SMALLEST = 1, /* the k smallest, ascending */
    TL_EIG_LARGEST = 2   /* the k largest, descending */
} tl_eig_which;

/* Symmetric A (n, n) (only the upper triangle is read; A is not modified).
 * w (k) eigenvalues; V (n, k) eigenvectors as columns, unit 2-norm. k = n for TL_EIG_ALL.
 * Uses dsyevr with an index range, so only the requested pairs are computed. V may have data NULL
 * to skip eigenvectors. */
tl_status tl_eig_sym(tl_mat A, tl_eig_which which, size_t k, double *w, tl_mat V);
/* Generalised symmetric-definite A v = lambda B v, B SPD (n, n); A, B not modified.
 * Returned V columns are B-orthonormal (as LAPACK dsygvx returns them); call
 * tl_mat_normalize_cols afterwards for unit 2-norm columns. */
tl_status tl_eig_sym_gen(tl_mat A, tl_mat B, tl_eig_which which, size_t k, double *w, tl_mat V);
/* Scale each column of M to unit 2-norm (zero columns left as they are). */
void tl_mat_normalize_cols(tl_mat M);
/* Square M: copies the upper triangle onto the lower one (tiled, so both sides stay in cache). */
void tl_mat_mirror_upper(tl_mat M);

/* Thin SVD of A (m, n), r = min(m, n): A = U diag(s) Vt, U (m, r), s (r) descending, Vt (r, n).
 * U or Vt may have data NULL to skip them. A is not modified. */
tl_status tl_svd(tl_mat A, tl_mat U, double *s, tl_mat Vt);

/* Q (d, n) with orthonormal columns spanning (at least) the row space of A (n, d), n <= d, by a
 * Householder QR of A^T. A is not modified. */
tl_status tl_row_space_basis(tl_mat A, tl_mat Q);

/* Cholesky of SPD A (n, n) in place: lower triangle L with A = L L^T, upper triangle zeroed.
 * TL_ERR_LINALG if A is not positive definite. */
tl_status tl_chol(tl_mat A);
/* Solve A X = B for symmetric positive definite A (n, n), B (n, m) overwritten by X.
 * A is not modified. */
tl_status tl_solve_spd(tl_mat A, tl_mat B);
/* Solve A X = B for general square A (LU with pivoting), B overwritten by X; A not modified. */
tl_status tl_solve(tl_mat A, tl_mat B);
/* Inverse of a general square matrix, in place. */
tl_status tl_inv(tl_mat A);
/* out (n, n) = A^{p} for symmetric PSD A through its eigen-decomposition, eigenvalues below
 * eps * max eigenvalue clamped to eps * max (p = -0.5 gives the inverse square root used by
 * CORAL whitening, p = 0.5 the square root). */
tl_status tl_sym_pow(tl_mat A, double p, double eps, tl_mat out);

/* ---- distances and kernels (blockwise, memory bounded by the output) ---- */
/* D (n, m): D[i][j] = ||X_i - Y_j||^2 via ||x||^2 + ||y||^2 - 2 x.y (GEMM), clamped at 0.
 * X (n, d), Y (m, d). */
tl_status tl_sqdist(tl_mat X, tl_mat Y, tl_mat D);
/* y[i] = exp(x[i]), i < n, vectorised (a few ulp from libm's exp; see vexp.c). x may equal y. */
void tl_vexp(const double *x, double *y, size_t n);
/* y[i] = exp(scale * x[i]), i < n, in one pass (the same kernel as tl_vexp). x may equal y. */
void tl_vexp_scaled(const double *x, double scale, double *y, size_t n);
/* Row squared norms: out (n). */
void tl_row_sqnorms(tl_mat X, double *out);

/* A kernel's form. */
typedef enum {
    TL_KERNEL_LINEAR = 0, /* x.y */
    TL_KERNEL_RBF = 1,    /* exp(-gamma ||x - y||^2) */
    TL_KERNEL_POLY = 2    /* (gamma x.y + coef0)^degree */
} tl_kernel_type;
/* A kernel and its parameters. */
typedef struct {
    tl_kernel_type type; /* its form */
    double gamma;  /* RBF: exp(-gamma ||x-y||^2); POLY: (gamma x.y + coef0)^degree.
                      gamma <= 0 means: RBF uses the median heuristic, POLY uses 1/d */
    double coef0;  /* POLY, default 1 */
    int degree;    /* POLY, default 2 */
} tl_kernel;
tl_kernel tl_kernel_default(tl_kernel_type type); /* gamma by heuristic, coef0 1, degree 2 */
/* Parse "linear", "rbf", "poly" (TL_ERR_INVALID_ARG naming the word otherwise). */
tl_status tl_kernel_type_parse(const char *name, tl_kernel_type *out);
/* Median heuristic: gamma = 1 / median(||x_i - x_j||^2) over the pairs of (at most 2000, chosen by
 * the seeded rng) rows of X. If over half the pairs are duplicates (median 0) the median of the
 * non-zero distances is used; all rows identical is TL_ERR_INVALID_ARG. */
tl_status tl_kernel_median_gamma(tl_mat X, uint64_t seed, double *gamma);
/* K (n, m) = k(X_i, Y_j). gamma <= 0 must have been resolved by the caller (TL_ERR_INVALID_ARG).
 * Computed in row blocks through GEMM so no temporary larger than a block is allocated. */
tl_status tl_kernel_matrix(const tl_kernel *k, tl_mat X, tl_mat Y, tl_mat K);

#ifdef __cplusplus
}
#endif
#endif
