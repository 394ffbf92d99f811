/* Pairwise squared Euclidean distances D_ij = ||x_i||^2 + ||y_j||^2 - 2 x_i . y_j, with the cross
 * term from one GEMM per block of rows, and the blockwise Gram driver it shares with the kernel
 * matrices (kernel.c).
 *
 * Why blockwise: the GEMM writes -2 X_b Y^T directly into the output rows, and the cheap
 * element-wise finish (add norms, clamp, exponentiate) runs on that block while it is still in
 * cache, so the only temporaries are the row norms: O(block + m), never another n x m array.
 * The expansion loses digits when x ~ y, so results are clamped at 0 and the diagonal of a
 * self-distance matrix (X and Y the same view) is set to exactly 0. */
#include <cblas.h>
#include <math.h>

#include "la_internal.h"

/* ~512 KB of output per block: large enough for GEMM efficiency, small enough to stay in L2. */
#define TL_GRAM_BLOCK_ELEMS ((size_t)1 << 16)
/* GEMM on very thin row blocks re-packs all of Y per block; 256 rows amortise that. The block
 * only sizes the norm buffer (the product goes straight into K), so memory is unaffected. */
#define TL_GRAM_MIN_ROWS ((size_t)256)

void tl_row_sqnorms(tl_mat X, double *out /* (n) */) {
    int blas_ok = X.cols <= (size_t)INT_MAX;
    for (size_t i = 0; i < X.rows; i++) {
        const double *x = X.data + i * X.ld;
        if (blas_ok) {
            out[i] = X.cols ? cblas_ddot((int)X.cols, x, 1, x, 1) : 0.0;
        } else {
            double s = 0.0;
            for (size_t j = 0; j < X.cols; j++) s += x[j] * x[j];
            out[i] = s;
        }
    }
}

tl_status tl_la_gram_blocks(tl_mat X, tl_mat Y, tl_mat K, double alpha, int want_norms,
                            tl_la_finish_fn finish, void *ctx) {
    tl_status st = TL_OK;
    double *xn = NULL, *yn = NULL;
    size_t n = X.rows, m = Y.rows;
    if (n == 0 || m == 0) goto done;
    size_t block = TL_GRAM_BLOCK_ELEMS / m;
    if (block < TL_GRAM_MIN_ROWS) block = TL_GRAM_MIN_ROWS;
    if (block > n) block = n;
    int same = X.data == Y.data && X.rows == Y.rows && X.cols == Y.cols && X.ld == Y.ld;
    if (want_norms) {
        TL_ALLOC(xn, block);
        TL_ALLOC(yn, m);
        tl_row_sqnorms(Y, yn);
    }
    /* X Y^T with Y = X is symmetric: SYRK does half the work of GEMM */
    if (same) TL_TRY(tl_syrk(TL_NOTRANS, alpha, X, 0.0, K));
    for (size_t r0 = 0; r0 < n; r0 += block) {
        size_t nb = n - r0 < block ? n - r0 : block;
        tl_mat Xb = tl_mat_rows(X, r0, nb), Kb = tl_mat_rows(K, r0, nb);
        if (!same) TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, alpha, Xb, Y, 0.0, Kb));
        if (want_norms) tl_row_sqnorms(Xb, xn);
        if (finish) finish(Kb, r0, xn, yn, same, ctx);
    }
done:
    tl_free(xn);
    tl_free(yn);
    return st;
}

/* Kb holds -2 X_b Y^T: add the norms and clamp rounding negatives to 0. */
static void sqdist_finish(tl_mat Kb, size_t row0, const double *xn, const double *yn, int same,
                          void *ctx) {
    (void)ctx;
    for (size_t i = 0; i < Kb.rows; i++) {
        double *k = Kb.data + i * Kb.ld;
        for (size_t j = 0; j < Kb.cols; j++) {
            double d = xn[i] + yn[j] + k[j];
            k[j] = d > 0.0 ? d : 0.0;
        }
        if (same) k[row0 + i] = 0.0;
    }
}

tl_status tl_sqdist(tl_mat X /* (n, d) */, tl_mat Y /* (m, d) */, tl_mat D /* (n, m) */) {
    tl_status st = TL_OK;
    TL_TRY(tl_la_check_view(X, "sqdist", "X"));
    TL_TRY(tl_la_check_view(Y, "sqdist", "Y"));
    TL_TRY(tl_la_check_view(D, "sqdist", "D"));
    TL_CHECK(X.cols == Y.cols, TL_ERR_SHAPE,
             "sqdist: X is %zu x %zu but Y is %zu x %zu (feature counts differ)", X.rows, X.cols,
             Y.rows, Y.cols);
    TL_CHECK(D.rows == X.rows && D.cols == Y.rows, TL_ERR_SHAPE,
             "sqdist: D is %zu x %zu, expected %zu x %zu", D.rows, D.cols, X.rows, Y.rows);
    TL_TRY(tl_la_gram_blocks(X, Y, D, -2.0, 1, sqdist_finish, NULL));
done:
    return st;
}
