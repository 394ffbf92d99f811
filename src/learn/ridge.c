/* Ridge classifier (sklearn's RidgeClassifier) and ridge regression (sklearn's Ridge, for real
 * regression targets): regress targets in {-1, +1} (one column per class, or a single column for
 * two classes with class 1 positive), or the real targets themselves, by weighted ridge regression
 *     min_W sum_i w_i ||y_i - W^T (x_i - mu) - ybar||^2 + alpha ||W||^2
 * where, with fit_intercept, mu and ybar are the weighted means of X and Y (the intercept is not
 * penalised: b = ybar - mu^T W). Rows are centred and scaled by sqrt(w_i), giving Xs and Ys.
 *   d <= n (primal): (Xs^T Xs + alpha I) W = Xs^T Ys, accumulated over 512-row blocks (densified
 *                    and centred on the fly, DSYRK + DGEMM), then Cholesky (LAPACKE dposv).
 *   n <  d (dual):   (Xs Xs^T + alpha I) A = Ys, W = Xs^T A (the kernel form sklearn also uses).
 * Both are the same solution; the smaller system is factored. For CSR input in the dual case the
 * Gram matrix is formed sparsely (row i scattered into a dense buffer, dotted with the sparse rows
 * j >= i: O(n nnz / 2), no densified copy) and centred afterwards:
 *     (Xs Xs^T)_ij = s_i s_j (x_i.x_j - x_i.mu - x_j.mu + mu.mu),   W = X^T (S A) - mu 1^T (S A),
 * which for the 2000 x 5000 bag-of-words sets is far cheaper than a dense 2000 x 2000 x 5000 SYRK. */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal/check.h"
#include "learn/learn_internal.h"

#define RIDGE_BLOCK 512

/* out (nb, d) = sqrt(w_i) (x_i - mu) for rows [r0, r0 + nb); T (nb, t) likewise for the targets
 * Y (n, t). */
static void scaled_block(tl_xmat X, const double *Y, const double *w, const double *mu,
                         const double *ybar, size_t t, size_t r0, size_t nb, double *B, double *T) {
    size_t d = tlp_xcols(X);
    tlp_xdense_block(X, r0, nb, tl_mat_view(B, nb, d));
    for (size_t i = 0; i < nb; i++) {
        double s = sqrt(w[r0 + i]), *b = B + i * d, *tt = T + i * t;
        for (size_t j = 0; j < d; j++) b[j] = s * (b[j] - mu[j]);
        for (size_t k = 0; k < t; k++) {
            tt[k] = s * (Y[(r0 + i) * t + k] - ybar[k]);
        }
    }
}

/* Dual solve for CSR X (n < d): fills Wt (d, t); info from dposv. */
static tl_status sparse_dual(const tl_csr *A, const double *Y, const double *w, const double *mu,
                             const double *ybar, size_t t, double alpha, double *Wt,
                             lapack_int *info) {
    tl_status st = TL_OK;
    size_t n = A->rows, d = A->cols;
    double *K = NULL, *T = NULL, *v = NULL, *buf = NULL, *s = NULL;
    size_t nn, nt;
    TL_CHECK(tl_size_mul(n, n, &nn) == 0 && tl_size_mul(n, t, &nt) == 0, TL_ERR_NOMEM,
             "ridge: %zu^2 overflows", n);
    TL_ALLOC(K, nn); /* only the upper triangle is written and read */
    TL_ALLOC(T, nt);
    TL_ALLOC(v, n);
    TL_ALLOC(s, n);
    TL_CALLOC(buf, d);
    double mm = 0;
    for (size_t j = 0; j < d; j++) mm += mu[j] * mu[j];
    for (size_t i = 0; i < n; i++) {
        double a = 0;
        for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++)
            a += A->values[q] * mu[A->indices[q]];
        v[i] = a;
        s[i] = sqrt(w[i]);
        for (size_t k = 0; k < t; k++) T[i * t + k] = s[i] * (Y[i * t + k] - ybar[k]);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) buf[A->indices[q]] = A->values[q];
        for (size_t j = i; j < n; j++) {
            double dotp = 0;
            for (size_t q = A->indptr[j]; q < A->indptr[j + 1]; q++)
                dotp += A->values[q] * buf[A->indices[q]];
            K[i * n + j] = s[i] * s[j] * (dotp - v[i] - v[j] + mm);
        }
        for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) buf[A->indices[q]] = 0;
        K[i * n + i] += alpha;
    }
    *info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, (lapack_int)t, K, (lapack_int)n, T,
                          (lapack_int)t);
    if (*info != 0) goto done;
    /* Wt = X^T (S A) - mu (1^T S A) */
    memset(Wt, 0, d * t * sizeof(double));
    double *colsum = buf; /* reuse (zeroed): t <= d entries since t <= n < d */
    for (size_t k = 0; k < t; k++) colsum[k] = 0;
    for (size_t i = 0; i < n; i++) {
        const double *ai = T + i * t;
        for (size_t k = 0; k < t; k++) colsum[k] += s[i] * ai[k];
        for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) {
            double xv = A->values[q] * s[i], *wr = Wt + (size_t)A->indices[q] * t;
            for (size_t k = 0; k < t; k++) wr[k] += xv * ai[k];
        }
    }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < t; k++) Wt[j * t + k] -= mu[j] * colsum[k];
done:
    tl_free(K);
    tl_free(T);
    tl_free(v);
    tl_free(s);
    tl_free(buf);
    return st;
}

/* The weighted ridge solve of the targets Y (n, m->t) into the zeroed model m. */
static tl_status ridge_solve(const tl_learner_params *p, tl_xmat X, const double *Y,
                             const double *w, tlp_linmodel *m) {
    tl_status st = TL_OK;
    double *mu = NULL, *ybar = NULL, *A = NULL, *B = NULL, *T = NULL;
    size_t n = tlp_xrows(X), d = tlp_xcols(X), cells;
    size_t t = m->t;
    TL_CALLOC(mu, d);
    TL_CALLOC(ybar, t);
    if (p->fit_intercept) {
        double sw = 0;
        for (size_t i = 0; i < n; i++) {
            double wi = w[i];
            sw += wi;
            if (X.sparse) {
                for (size_t q = X.csr.indptr[i]; q < X.csr.indptr[i + 1]; q++)
                    mu[X.csr.indices[q]] += wi * X.csr.values[q];
            } else {
                const double *r = X.dense.data + i * X.dense.ld;
                for (size_t j = 0; j < d; j++) mu[j] += wi * r[j];
            }
            for (size_t k = 0; k < t; k++) ybar[k] += wi * Y[i * t + k];
        }
        for (size_t j = 0; j < d; j++) mu[j] /= sw;
        for (size_t k = 0; k < t; k++) ybar[k] /= sw;
    }
    lapack_int info;
    if (d <= n) {
        TL_CHECK(tl_size_mul(d, d, &cells) == 0, TL_ERR_NOMEM, "ridge: %zu^2 overflows", d);
        TL_ALLOC(A, cells);
        memset(A, 0, cells * sizeof(double));
        size_t bs = n < RIDGE_BLOCK ? n : RIDGE_BLOCK;
        TL_ALLOC(B, bs * d);
        TL_ALLOC(T, bs * t);
        /* m->Wt accumulates Xs^T Ys (d, t) */
        for (size_t r0 = 0; r0 < n; r0 += bs) {
            size_t nb = n - r0 < bs ? n - r0 : bs;
            scaled_block(X, Y, w, mu, ybar, t, r0, nb, B, T);
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)nb, 1.0, B, (int)d,
                        1.0, A, (int)d);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)t, (int)nb, 1.0, B,
                        (int)d, T, (int)t, 1.0, m->Wt, (int)t);
        }
        for (size_t j = 0; j < d; j++) A[j * d + j] += p->alpha;
        info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, (lapack_int)t, A,
                             (lapack_int)d, m->Wt, (lapack_int)t);
    } else if (X.sparse) {
        TL_TRY(sparse_dual(&X.csr, Y, w, mu, ybar, t, p->alpha, m->Wt, &info));
    } else {
        TL_CHECK(tl_size_mul(n, d, &cells) == 0, TL_ERR_NOMEM, "ridge: %zu x %zu overflows", n, d);
        TL_ALLOC(B, cells);
        TL_ALLOC(T, n * t);
        scaled_block(X, Y, w, mu, ybar, t, 0, n, B, T);
        TL_ALLOC(A, n * n); /* DSYRK with beta = 0 writes the upper triangle */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)d, 1.0, B, (int)d, 0.0,
                    A, (int)n);
        for (size_t i = 0; i < n; i++) A[i * n + i] += p->alpha;
        info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, (lapack_int)t, A,
                             (lapack_int)n, T, (lapack_int)t);
        if (info == 0)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)t, (int)n, 1.0, B,
                        (int)d, T, (int)t, 0.0, m->Wt, (int)t);
    }
    TL_CHECK(info == 0, TL_ERR_LINALG,
             "ridge: the %s system is not positive definite (info %d); use alpha > 0",
             d <= n ? "primal" : "dual", (int)info);
    for (size_t k = 0; k < t; k++) {
        double s = ybar[k];
        for (size_t j = 0; j < d; j++) s -= mu[j] * m->Wt[j * t + k];
        m->b[k] = s;
    }
done:
    tl_free(mu);
    tl_free(ybar);
    tl_free(A);
    tl_free(B);
    tl_free(T);
    return st;
}

/* The classifier: targets +1 / -1 per score column (column 0 of a two-class model is class 1). */
static tl_status ridge_fit(const tl_learner_params *p, tl_xmat X, const int *yi, const double *w,
                           size_t c, tlp_fit_info *fi, void **out) {
    (void)fi; /* a direct solve: converged, no iterations */
    tl_status st = TL_OK;
    tlp_linmodel *m = NULL;
    double *Y = NULL;
    size_t n = tlp_xrows(X), d = tlp_xcols(X), cells;
    TL_CHECK_INT(n, "rows");
    TL_CHECK_INT(d, "columns");
    TL_TRY(tlp_linmodel_create(d, c, &m));
    size_t t = m->t;
    TL_CHECK(tl_size_mul(n, t, &cells) == 0, TL_ERR_NOMEM, "ridge: %zu x %zu overflows", n, t);
    TL_ALLOC(Y, cells);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < t; k++)
            Y[i * t + k] = t == 1 ? (yi[i] == 1 ? 1.0 : -1.0) : ((size_t)yi[i] == k ? 1.0 : -1.0);
    TL_TRY(ridge_solve(p, X, Y, w, m));
    *out = m;
    m = NULL;
done:
    tlp_linmodel_free(m);
    tl_free(Y);
    return st;
}

/* Ridge regression (sklearn's Ridge with sample_weight): one column, the real targets. */
static tl_status ridge_fit_reg(const tl_learner_params *p, tl_xmat X, const double *tv,
                               const double *w, tlp_fit_info *fi, void **out) {
    (void)fi;
    tl_status st = TL_OK;
    tlp_linmodel *m = NULL;
    TL_CHECK_INT(tlp_xrows(X), "rows");
    TL_CHECK_INT(tlp_xcols(X), "columns");
    TL_TRY(tlp_linmodel_create(tlp_xcols(X), 1, &m));
    TL_TRY(ridge_solve(p, X, tv, w, m));
    *out = m;
    m = NULL;
done:
    tlp_linmodel_free(m);
    return st;
}

static tl_status ridge_predict_reg(const void *mp, tl_xmat X, double *out) {
    const tlp_linmodel *m = mp;
    return tlp_linear_scores(X, m->Wt, m->b, 1, tl_mat_view(out, tlp_xrows(X), 1));
}

const tlp_learner_ops tlp_ridge_ops = {ridge_fit,         tlp_linmodel_decision, NULL,
                                       tlp_linmodel_free, tlp_linmodel_write,    tlp_linmodel_read,
                                       ridge_fit_reg,     ridge_predict_reg};
