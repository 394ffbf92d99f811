/* CORAL, correlation alignment (Sun, Feng & Saenko, AAAI 2016):
 *   Cs = cov(Xs) + eps I, Ct = cov(Xt) + eps I (unbiased, as MATLAB cov);
 *   source x -> x Cs^{-1/2} Ct^{1/2} (no centring, as the authors' code), target unchanged.
 * A domain with at least as many samples as features gets its power from the d x d scatter's
 * eigen-decomposition (tl_sym_pow). With fewer samples than features (DeCAF: 4096-d, 157 or 295
 * images) the covariance is eps I plus a rank-r term: with the centred rows Xc = U S V^T (from the
 * n x n Gram Xc Xc^T = U S^2 U^T, V = Xc^T U S^-1),
 *   (Xc^T Xc / (n-1) + eps I)^p = eps^p I + V diag((s^2/(n-1) + eps)^p - eps^p) V^T
 * exactly, so the two d x d eigen-decompositions (2 x ~9 d^3 flops, tens of seconds at d = 4096)
 * become n x n ones, and the map Cs^{-1/2} Ct^{1/2} is formed from the factors without forming
 * a low-rank power as a d x d matrix: two d x d x r products whichever domains are low-rank
 * (forming them first cost a third product, or a d x d x d one when only the source was). eps = 0 with n < d leaves Cs singular; that
 * case keeps the dense path, which clamps tiny eigenvalues.
 * eps is by default relative (coral_eps_relative): eps times the domain's mean feature variance,
 * so CORAL does the same on L2-normalised rows (variances near 1e-3, where an absolute 1 swamps
 * the covariance and CORAL does nearly nothing) as on the z-scored ones the authors used. */
#include <math.h>
#include <string.h>

#include "feature_internal.h"

/* Low-rank power of one domain's covariance: *alpha = eps^p and VD (d, r) = V diag(dg), V (d, r)
 * with the power as alpha I + VD V^T. X (n, d), n < d. */
static tl_status cov_pow_lowrank(tl_mat X, double eps, double pw, double *alpha, tl_mat *V,
                                 tl_mat *VD) {
    tl_status st = TL_OK;
    size_t n = X.rows, d = X.cols;
    tl_mat Xc = {0, 0, 0, NULL}, G = {0, 0, 0, NULL}, U = {0, 0, 0, NULL};
    double *m = NULL, *s2 = NULL;
    TL_ALLOC(m, d);
    tl_mat none = {0, d, d, NULL};
    tlf_col_mean(X, none, m);
    TL_TRY(tl_mat_alloc(&Xc, n, d));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) TL_AT(Xc, i, j) = TL_AT(X, i, j) - m[j];
    TL_TRY(tl_mat_alloc(&G, n, n));
    TL_TRY(tl_syrk(TL_NOTRANS, 1.0, Xc, 0.0, G));
    TL_ALLOC(s2, n);
    TL_TRY(tl_mat_alloc(&U, n, n));
    TL_TRY(tl_eig_sym(G, TL_EIG_LARGEST, n, s2, U));
    size_t r = 0;
    while (r < n && s2[r] > 1e-12 * s2[0] && s2[r] > 0) r++;
    *alpha = pow(eps, pw);
    if (r == 0) goto done; /* one distinct sample: the covariance is eps I */
    TL_TRY(tl_mat_alloc(V, d, r));
    TL_TRY(tl_mat_alloc(VD, d, r));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Xc, tl_mat_cols(U, 0, r), 0.0, *V));
    for (size_t j = 0; j < r; j++) {
        double is = 1.0 / sqrt(s2[j]);
        double dg = pow(s2[j] / (double)(n - 1) + eps, pw) - *alpha;
        for (size_t i = 0; i < d; i++) {
            TL_AT(*V, i, j) *= is;
            TL_AT(*VD, i, j) = TL_AT(*V, i, j) * dg;
        }
    }
done:
    tl_free(m);
    tl_free(s2);
    tl_mat_free(&Xc);
    tl_mat_free(&G);
    tl_mat_free(&U);
    return st;
}

/* The power (cov(X) + eps I)^pw: dense into P (d, d), or, when lowrank, as *alpha I + VD V^T
 * through cov_pow_lowrank (P is then left untouched). */
static tl_status cov_pow(tl_mat X, double eps, double pw, bool lowrank, double *alpha, tl_mat *V,
                         tl_mat *VD, tl_mat P) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL};
    double *m = NULL;
    size_t d = X.cols;
    if (lowrank) {
        TL_TRY(cov_pow_lowrank(X, eps, pw, alpha, V, VD));
        goto done;
    }
    TL_ALLOC(m, d);
    TL_TRY(tl_mat_alloc(&C, d, d));
    tl_mat none = {0, d, d, NULL};
    tlf_col_mean(X, none, m);
    TL_TRY(tlf_scatter(X, none, m, C));
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) TL_AT(C, i, j) /= (double)(X.rows - 1);
    for (size_t i = 0; i < d; i++) TL_AT(C, i, i) += eps;
    TL_TRY(tl_sym_pow(C, pw, 1e-12, P));
done:
    tl_free(m);
    tl_mat_free(&C);
    return st;
}

/* *out = trace(cov(X)) / d: the mean of the columns' unbiased variances (0 for fewer than 2
 * rows). */
static tl_status mean_variance(tl_mat X, double *out) {
    tl_status st = TL_OK;
    double *m = NULL, t = 0.0;
    *out = 0.0;
    if (X.rows < 2 || X.cols == 0) return TL_OK;
    TL_ALLOC(m, X.cols);
    tl_mat none = {0, X.cols, X.cols, NULL};
    tlf_col_mean(X, none, m);
    for (size_t i = 0; i < X.rows; i++) /* row by row, as the matrix is stored */
        for (size_t j = 0; j < X.cols; j++) {
            double e = TL_AT(X, i, j) - m[j];
            t += e * e;
        }
    *out = t / ((double)(X.rows - 1) * (double)X.cols);
done:
    tl_free(m);
    return st;
}

tl_status tlf_fit_coral(tl_adapter *a, tl_mat Fs, tl_mat Ft) {
    tl_status st = TL_OK;
    tl_mat Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL}, Vs = {0, 0, 0, NULL},
           VDs = {0, 0, 0, NULL}, Vt = {0, 0, 0, NULL}, VDt = {0, 0, 0, NULL},
           T = {0, 0, 0, NULL}, M = {0, 0, 0, NULL};
    size_t d = a->d_feat;
    double eps_s = a->p.coral_eps, eps_t = a->p.coral_eps, as = 0.0, at = 0.0;
    if (a->p.coral_eps_relative) {
        double vs, vt;
        TL_TRY(mean_variance(Fs, &vs));
        TL_TRY(mean_variance(Ft, &vt));
        eps_s *= vs;
        eps_t *= vt;
        /* constant data: no scale to be relative to, so the absolute value */
        if (!(eps_s > 0)) eps_s = a->p.coral_eps;
        if (!(eps_t > 0)) eps_t = a->p.coral_eps;
    }
    bool lrs = eps_s > 0 && Fs.rows < d, lrt = eps_t > 0 && Ft.rows < d;
    if (!lrs) TL_TRY(tl_mat_alloc(&Ps, d, d));
    if (!lrt) TL_TRY(tl_mat_alloc(&Pt, d, d));
    TL_TRY(cov_pow(Fs, eps_s, -0.5, lrs, &as, &Vs, &VDs, Ps));
    TL_TRY(cov_pow(Ft, eps_t, 0.5, lrt, &at, &Vt, &VDt, Pt));
    TL_TRY(tl_mat_alloc(&a->W[0], d, d));
    /* W = Ps Pt with each factor either dense or alpha I + VD V^T; the low-rank factors are never
     * formed as d x d matrices, so each case costs the fewest d x d x r products */
    if (!lrs && !lrt) {
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ps, Pt, 0.0, a->W[0]));
    } else if (!lrs) { /* W = Ps (at I + VDt Vt^T) = at Ps + (Ps VDt) Vt^T */
        TL_TRY(tl_mat_copy(a->W[0], Ps));
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++) TL_AT(a->W[0], i, j) *= at;
        if (Vt.data) {
            TL_TRY(tl_mat_alloc(&T, d, Vt.cols));
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ps, VDt, 0.0, T));
            TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, T, Vt, 1.0, a->W[0]));
        }
    } else if (!lrt) { /* W = (as I + VDs Vs^T) Pt = as Pt + VDs (Vs^T Pt) */
        TL_TRY(tl_mat_copy(a->W[0], Pt));
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++) TL_AT(a->W[0], i, j) *= as;
        if (Vs.data) {
            TL_TRY(tl_mat_alloc(&T, Vs.cols, d));
            TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Vs, Pt, 0.0, T));
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, VDs, T, 1.0, a->W[0]));
        }
    } else { /* W = as at I + as VDt Vt^T + VDs (at Vs^T + (Vs^T VDt) Vt^T) */
        tl_mat_fill(a->W[0], 0.0);
        for (size_t i = 0; i < d; i++) TL_AT(a->W[0], i, i) = as * at;
        if (Vt.data) TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, as, VDt, Vt, 1.0, a->W[0]));
        if (Vs.data) {
            TL_TRY(tl_mat_alloc(&T, Vs.cols, d)); /* at Vs^T + M Vt^T, M = Vs^T VDt */
            for (size_t i = 0; i < Vs.cols; i++)
                for (size_t j = 0; j < d; j++) TL_AT(T, i, j) = at * TL_AT(Vs, j, i);
            if (Vt.data) {
                TL_TRY(tl_mat_alloc(&M, Vs.cols, Vt.cols));
                TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Vs, VDt, 0.0, M));
                TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, M, Vt, 1.0, T));
            }
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, VDs, T, 1.0, a->W[0]));
        }
    }
    a->per_domain = true; /* W[1] stays identity: the target is not transformed */
    a->d_out = d;
done:
    tl_mat_free(&Ps);
    tl_mat_free(&Pt);
    tl_mat_free(&Vs);
    tl_mat_free(&VDs);
    tl_mat_free(&Vt);
    tl_mat_free(&VDt);
    tl_mat_free(&T);
    tl_mat_free(&M);
    return st;
}
