/* Linear SVM, one-vs-rest, L2-regularised squared hinge loss, solved in the dual by coordinate
 * descent (Hsieh, Chang, Lin, Keerthi, Sathiya 2008, "A dual coordinate descent method for
 * large-scale linear SVM"; liblinear's default solver `-s 1`, which sklearn's LinearSVC wraps).
 *
 * Primal per binary problem: min_w 0.5 ||w||^2 + sum_i C_i max(0, 1 - y_i w.x_i)^2 with
 * C_i = C w_i and, when fit_intercept, liblinear's bias feature x_{i,d} = 1 (so the bias is
 * regularised, exactly like LinearSVC with intercept_scaling = 1).
 * Dual: min_a 0.5 a^T (Q + D) a - e^T a, a >= 0, Q_ij = y_i y_j x_i.x_j, D_ii = 1 / (2 C_i).
 * Each coordinate step: G = y_i w.x_i - 1 + D_ii a_i, a_i <- max(a_i - G / (Q_ii + D_ii), 0),
 * w += (a_i - a_i_old) y_i x_i, so one epoch costs O(nnz). The coordinates are visited in a random
 * permutation drawn from the seed each epoch; liblinear's shrinking drops coordinates at the bound
 * whose gradient exceeds the previous epoch's largest projected gradient. It stops when the spread
 * of the projected gradient (max - min) is <= tol over the whole set, or after max_iter epochs.
 * Zero-weight samples (C_i = 0) have a_i = 0 at the optimum and are left out.
 *
 * Warm start (C = auto's grid, tlp_fit_info.init): the dual variables of the same rows fitted
 * with a smaller C stay feasible (a >= 0, no upper bound for the squared hinge), so the solver
 * starts from them with w = sum_i a_i y_i x_i rebuilt; D_ii changes with C and the first epoch's
 * gradients see the new D. The final model of a fit is always a cold start, so C = auto gives
 * the same model as passing the chosen C.
 *
 * Dense rows go through BLAS ddot/daxpy; CSR rows are used natively (the 5000-d bag-of-words
 * Amazon reviews). Two classes train one problem (class 1 positive); c > 2 train c problems. */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "internal/check.h"
#include "learn/learn_internal.h"

static inline double row_dot(tl_xmat X, size_t i, const double *w) {
    if (!X.sparse) {
        return cblas_ddot((int)X.dense.cols, X.dense.data + i * X.dense.ld, 1, w, 1);
    }
    const tl_csr *A = &X.csr;
    double s = 0;
    for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) s += A->values[q] * w[A->indices[q]];
    return s;
}

static inline void row_axpy(tl_xmat X, size_t i, double a, double *w) {
    if (!X.sparse) {
        cblas_daxpy((int)X.dense.cols, a, X.dense.data + i * X.dense.ld, 1, w, 1);
        return;
    }
    const tl_csr *A = &X.csr;
    for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) w[A->indices[q]] += a * A->values[q];
}

/* One binary problem. sgn (n) = +-1; idx (l) the samples with C_i > 0; Dii (n); QD (n) = ||x_i||^2
 * + bias^2 + Dii; w (d + 1) out (last entry = bias weight). alpha (n): with warm, the starting
 * dual variables (w is rebuilt from them), else zeroed; the solution on return. Returns the
 * epochs run; *converged is false when max_iter epochs ran without meeting eps. */
static int dcd_solve(tl_xmat X, const signed char *sgn, const double *Dii, const double *QD,
                     size_t *idx, size_t l, double bias, int max_iter, double eps, tl_rng *rng,
                     bool warm, double *alpha, double *w, bool *converged) {
    const size_t d = tlp_xcols(X);
    memset(w, 0, (d + 1) * sizeof(double));
    if (warm) {
        for (size_t s = 0; s < l; s++) {
            size_t i = idx[s];
            if (alpha[i] != 0) {
                double a = alpha[i] * sgn[i];
                row_axpy(X, i, a, w);
                w[d] += a * bias;
            }
        }
    } else {
        for (size_t s = 0; s < l; s++) alpha[idx[s]] = 0;
    }
    size_t active = l;
    double PGmax_old = INFINITY; /* no upper bound for the squared hinge: no PGmin_old */
    *converged = false;
    int iter = 0;
    while (iter < max_iter) {
        iter++;
        double PGmax_new = -INFINITY, PGmin_new = INFINITY;
        for (size_t s = 0; s < active; s++) {
            size_t j = s + tl_rng_below(rng, active - s), t = idx[s];
            idx[s] = idx[j];
            idx[j] = t;
        }
        for (size_t s = 0; s < active; s++) {
            size_t i = idx[s];
            double yi = sgn[i];
            double G = yi * (row_dot(X, i, w) + w[d] * bias) - 1.0 + alpha[i] * Dii[i];
            double PG = 0;
            if (alpha[i] == 0) {
                if (G > PGmax_old) { /* shrink: at the bound and likely to stay there */
                    active--;
                    size_t t = idx[s];
                    idx[s] = idx[active];
                    idx[active] = t;
                    s--;
                    continue;
                }
                if (G < 0) PG = G;
            } else {
                PG = G;
            }
            if (PG > PGmax_new) PGmax_new = PG;
            if (PG < PGmin_new) PGmin_new = PG;
            if (fabs(PG) > 1e-12) {
                double old = alpha[i];
                alpha[i] = fmax(old - G / QD[i], 0.0);
                double delta = (alpha[i] - old) * yi;
                row_axpy(X, i, delta, w);
                w[d] += delta * bias;
            }
        }
        if (PGmax_new - PGmin_new <= eps) {
            if (active == l) {
                *converged = true;
                break;
            }
            active = l; /* check convergence on the whole set before stopping */
            PGmax_old = INFINITY;
            continue;
        }
        PGmax_old = PGmax_new > 0 ? PGmax_new : INFINITY;
    }
    return iter;
}

static tl_status svm_fit(const tl_learner_params *p, tl_xmat X, const int *yi, const double *w,
                         size_t c, tlp_fit_info *info, void **out) {
    tl_status st = TL_OK;
    tlp_linmodel *m = NULL;
    signed char *sgn = NULL;
    double *Dii = NULL, *QD = NULL, *alpha = NULL, *wv = NULL;
    size_t *idx = NULL;
    size_t n = tlp_xrows(X), d = tlp_xcols(X), l = 0;
    const double bias = p->fit_intercept ? 1.0 : 0.0;
    TL_CHECK_INT(d, "columns");
    const tlp_linmodel *init = info->init;
    bool warm = init && init->alpha && init->n == n && init->t == (c == 2 ? 1 : c);
    TL_TRY(tlp_linmodel_create(d, c, &m));
    if (info->keep_state) {
        size_t cells;
        TL_CHECK(tl_size_mul(n, m->t, &cells) == 0, TL_ERR_NOMEM, "svm: %zu x %zu overflows", n,
                 m->t);
        TL_CALLOC(m->alpha, cells);
        m->n = n;
    }
    TL_ALLOC(sgn, n);
    TL_ALLOC(Dii, n);
    TL_ALLOC(QD, n);
    TL_ALLOC(alpha, n);
    TL_ALLOC(idx, n);
    TL_ALLOC(wv, d + 1);
    for (size_t i = 0; i < n; i++) {
        if (!(w[i] > 0)) continue;
        double sq;
        if (X.sparse) {
            sq = 0;
            for (size_t q = X.csr.indptr[i]; q < X.csr.indptr[i + 1]; q++)
                sq += X.csr.values[q] * X.csr.values[q];
        } else {
            const double *r = X.dense.data + i * X.dense.ld;
            sq = cblas_ddot((int)d, r, 1, r, 1);
        }
        Dii[i] = 0.5 / (p->C * w[i]);
        QD[i] = sq + bias * bias + Dii[i];
        idx[l++] = i;
    }
    tl_rng rng;
    tl_rng_seed(&rng, p->seed);
    info->converged = true;
    info->iterations = 0;
    for (size_t k = 0; k < m->t; k++) {
        size_t pos = m->t == 1 ? 1 : k; /* the positive class */
        for (size_t i = 0; i < n; i++) sgn[i] = (size_t)yi[i] == pos ? 1 : -1;
        /* restart from index order; the shuffles continue the seeded stream */
        for (size_t i = 0, s = 0; i < n; i++)
            if (w[i] > 0) idx[s++] = i;
        if (warm) memcpy(alpha, init->alpha + k * n, n * sizeof(double));
        bool conv;
        int it = dcd_solve(X, sgn, Dii, QD, idx, l, bias, p->max_iter, p->tol, &rng, warm, alpha,
                           wv, &conv);
        info->converged &= conv;
        if (it > info->iterations) info->iterations = it;
        if (m->alpha) {
            double *ak = m->alpha + k * n;
            for (size_t i = 0; i < n; i++) ak[i] = w[i] > 0 ? alpha[i] : 0;
        }
        for (size_t j = 0; j < d; j++) m->Wt[j * m->t + k] = wv[j];
        m->b[k] = wv[d] * bias;
    }
    *out = m;
    m = NULL;
done:
    tlp_linmodel_free(m);
    tl_free(sgn);
    tl_free(Dii);
    tl_free(QD);
    tl_free(alpha);
    tl_free(idx);
    tl_free(wv);
    return st;
}

const tlp_learner_ops tlp_svm_ops = {svm_fit,           tlp_linmodel_decision, NULL,
                                     tlp_linmodel_free, tlp_linmodel_write,    tlp_linmodel_read,
                                     NULL,              NULL}; /* a classifier only */
