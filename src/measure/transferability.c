/* Transferability scores (formulas and references in tl/transferability.h): LogME, LEEP, NCE,
 * H-score, and Kendall's tau-b to compare a score's ranking of source models with the accuracy
 * they reach after fine-tuning.
 *
 * Why built this way: all four scores need only the target samples pushed through the source
 * model once (features for LogME and H-score, source-class probabilities for LEEP and NCE), so
 * they live here, below the neural-network code, on plain double matrices. LogME follows the
 * authors' reference algorithm (You et al. 2021, fixed-point updates of alpha and beta with the
 * eigen-decomposition of F^T F shared by all classes, at most 11 iterations, stop when
 * alpha/beta moves by less than 1 %, the 1e-5 guards in the evidence), so its values match theirs
 * to rounding; H-score uses the pseudo-inverse through the eigen-decomposition of the feature
 * covariance (eigenvalues below 1e-10 of the largest are dropped) and never forms the inverse.
 * Everything is O(n d^2 + d^3) time and O(d^2 + n) extra memory; with fewer samples than
 * features (a flattened conv layer: thousands of features) both scores take their eigenpairs from
 * the n x n Gram matrix instead, O(n^2 d + n^3), as the LogME authors' code does for N <= D. */
#include <math.h>
#include <string.h>

#include "internal/check.h"
#include "tl/data.h"
#include "tl/transferability.h"

static tl_status check_xy(tl_mat X, const int *y, const char *fn, const char *what) {
    tl_status st = TL_OK;
    TL_CHECK(y && (X.data || X.rows == 0), TL_ERR_INVALID_ARG, "%s: NULL argument", fn);
    TL_CHECK(X.rows >= 2, TL_ERR_EMPTY, "%s: needs at least 2 samples, got %zu", fn, X.rows);
    TL_CHECK(X.cols >= 1, TL_ERR_SHAPE, "%s: %s has no columns", fn, what);
    TL_CHECK(X.ld >= X.cols, TL_ERR_SHAPE, "%s: ld %zu < cols %zu", fn, X.ld, X.cols);
    TL_CHECK_INT(X.rows, "rows");
    TL_CHECK_INT(X.cols, "columns");
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++)
            TL_CHECK(isfinite(TL_AT(X, i, j)), TL_ERR_NONFINITE, "%s: %s row %zu column %zu is %s",
                     fn, what, i + 1, j + 1, isnan(TL_AT(X, i, j)) ? "NaN" : "Inf");
done:
    return st;
}

/* class index of each label, number of classes */
static tl_status class_index(const int *y, size_t n, const char *fn, int **cls, size_t **counts,
                             size_t *c, size_t **yi) {
    tl_status st = TL_OK;
    *yi = NULL;
    TL_TRY(tl_labels_unique(y, n, cls, counts, c));
    TL_CHECK(*c >= 2, TL_ERR_LABEL, "%s: the labels hold %zu class; a score needs at least 2", fn, *c);
    TL_ALLOC(*yi, n);
    for (size_t i = 0; i < n; i++) (*yi)[i] = (size_t)tl_labels_index(*cls, *c, y[i]);
done:
    return st;
}

tl_status tl_logme(tl_mat F, const int *y, double *out) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t *cnt = NULL, *yi = NULL, c = 0;
    tl_mat A = {0}, V = {0};
    double *s = NULL, *fty = NULL, *tmp = NULL, *m = NULL, *fm = NULL, *yv = NULL;
    TL_TRY(check_xy(F, y, "logme", "features"));
    TL_CHECK(out, TL_ERR_INVALID_ARG, "logme: out is NULL");
    const size_t n = F.rows, d = F.cols;
    TL_TRY(class_index(y, n, "logme", &cls, &cnt, &c, &yi));
    /* eigenpairs of F^T F: from the d x d matrix, or, with fewer samples than features, from the
       n x n Gram F F^T = U S U^T (v = F^T u / sqrt(s)); the other d - r eigenvalues are 0 and,
       as F^T y has no component along them, enter only gamma (0) and the log-determinant */
    size_t rk = d;
    TL_ALLOC(s, d);
    if (n >= d) {
        TL_TRY(tl_mat_alloc(&A, d, d));
        TL_TRY(tl_mat_alloc(&V, d, d));
        TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, F, F, 0.0, A));
        TL_TRY(tl_eig_sym(A, TL_EIG_ALL, d, s, V));
        for (size_t k = 0; k < d; k++)
            if (s[k] < 0) s[k] = 0;
    } else {
        tl_mat U = {0};
        TL_TRY(tl_mat_alloc(&A, n, n));
        TL_TRY(tl_syrk(TL_NOTRANS, 1.0, F, 0.0, A));
        st = tl_mat_alloc(&U, n, n);
        if (st == TL_OK) st = tl_eig_sym(A, TL_EIG_LARGEST, n, s, U); /* descending */
        rk = 0;
        while (st == TL_OK && rk < n && s[rk] > 1e-12 * s[0] && s[rk] > 0) rk++;
        if (st == TL_OK && rk > 0) st = tl_mat_alloc(&V, d, rk);
        if (st == TL_OK && rk > 0)
            st = tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, F, tl_mat_cols(U, 0, rk), 0.0, V);
        tl_mat_free(&U);
        if (st != TL_OK) goto done;
        for (size_t k = 0; k < rk; k++) {
            const double is = 1.0 / sqrt(s[k]);
            for (size_t j = 0; j < d; j++) TL_AT(V, j, k) *= is;
        }
        for (size_t k = rk; k < d; k++) s[k] = 0;
    }
    TL_ALLOC(fty, d);
    TL_ALLOC(tmp, d);
    TL_ALLOC(m, d);
    TL_ALLOC(fm, n);
    TL_ALLOC(yv, n);
    const double eps = 1e-5, N = (double)n, D = (double)d;
    double total = 0.0;
    for (size_t k = 0; k < c; k++) {
        for (size_t i = 0; i < n; i++) yv[i] = yi[i] == k ? 1.0 : 0.0;
        TL_TRY(tl_gemv(TL_TRANS, 1.0, F, yv, 0.0, fty));  /* F^T y */
        if (rk) TL_TRY(tl_gemv(TL_TRANS, 1.0, V, fty, 0.0, tmp)); /* V^T F^T y */
        double alpha = 1.0, beta = 1.0, lam = 1.0, alpha_de = 0.0, beta_de = 0.0;
        for (int it = 0; it < 11; it++) {
            double gamma = 0.0;
            for (size_t j = 0; j < rk; j++) gamma += s[j] / (s[j] + lam);
            for (size_t j = 0; j < rk; j++) fty[j] = tmp[j] * beta / (alpha + beta * s[j]);
            if (rk) TL_TRY(tl_gemv(TL_NOTRANS, 1.0, V, fty, 0.0, m)); /* m = V (...) */
            else memset(m, 0, d * sizeof *m);
            alpha_de = 0.0;
            for (size_t j = 0; j < d; j++) alpha_de += m[j] * m[j];
            alpha = gamma / (alpha_de + eps);
            TL_TRY(tl_gemv(TL_NOTRANS, 1.0, F, m, 0.0, fm));
            beta_de = 0.0;
            for (size_t i = 0; i < n; i++) beta_de += (yv[i] - fm[i]) * (yv[i] - fm[i]);
            beta = (N - gamma) / (beta_de + eps);
            const double new_lam = alpha / beta;
            if (fabs(new_lam - lam) / lam < 0.01) break;
            lam = new_lam;
        }
        double logdet = (double)(d - rk) * log(alpha);
        for (size_t j = 0; j < rk; j++) logdet += log(alpha + beta * s[j]);
        const double ev = D / 2.0 * log(alpha) + N / 2.0 * log(beta) - 0.5 * logdet -
                          beta / 2.0 * (beta_de + eps) - alpha / 2.0 * (alpha_de + eps) -
                          N / 2.0 * log(2.0 * M_PI);
        total += ev / N;
    }
    *out = total / (double)c;
    TL_CHECK(isfinite(*out), TL_ERR_LINALG, "logme: the evidence is not finite (constant features?)");
done:
    tl_free(cls);
    tl_free(cnt);
    tl_free(yi);
    tl_mat_free(&A);
    tl_mat_free(&V);
    tl_free(s);
    tl_free(fty);
    tl_free(tmp);
    tl_free(m);
    tl_free(fm);
    tl_free(yv);
    return st;
}

/* Joint (c, z) of target class and source class: soft (LEEP) or hard argmax (NCE), / n. */
static tl_status joint_table(tl_mat P, const size_t *yi, size_t c, bool hard, double *J) {
    memset(J, 0, c * P.cols * sizeof *J);
    for (size_t i = 0; i < P.rows; i++) {
        const double *p = P.data + i * P.ld;
        if (hard) {
            size_t am = 0;
            for (size_t z = 1; z < P.cols; z++)
                if (p[z] > p[am]) am = z;
            J[yi[i] * P.cols + am] += 1.0;
        } else {
            for (size_t z = 0; z < P.cols; z++) J[yi[i] * P.cols + z] += p[z];
        }
    }
    for (size_t k = 0; k < c * P.cols; k++) J[k] /= (double)P.rows;
    return TL_OK;
}

tl_status tl_leep(tl_mat P, const int *y, double *out) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t *cnt = NULL, *yi = NULL, c = 0;
    double *J = NULL, *pz = NULL;
    TL_TRY(check_xy(P, y, "leep", "probabilities"));
    TL_CHECK(out, TL_ERR_INVALID_ARG, "leep: out is NULL");
    for (size_t i = 0; i < P.rows; i++) {
        double sum = 0.0;
        for (size_t z = 0; z < P.cols; z++) {
            TL_CHECK(TL_AT(P, i, z) >= 0, TL_ERR_INVALID_ARG,
                     "leep: row %zu has a negative probability (pass softmax outputs)", i + 1);
            sum += TL_AT(P, i, z);
        }
        TL_CHECK(fabs(sum - 1.0) <= 1e-3, TL_ERR_INVALID_ARG,
                 "leep: row %zu sums to %g, not 1 (pass softmax outputs)", i + 1, sum);
    }
    TL_TRY(class_index(y, P.rows, "leep", &cls, &cnt, &c, &yi));
    const size_t Z = P.cols;
    TL_ALLOC(J, c * Z);
    TL_CALLOC(pz, Z);
    joint_table(P, yi, c, false, J);
    for (size_t k = 0; k < c; k++)
        for (size_t z = 0; z < Z; z++) pz[z] += J[k * Z + z];
    double total = 0.0;
    for (size_t i = 0; i < P.rows; i++) {
        double e = 0.0;
        for (size_t z = 0; z < Z; z++)
            if (pz[z] > 0) e += J[yi[i] * Z + z] / pz[z] * TL_AT(P, i, z);
        total += log(e > 0 ? e : 1e-300);
    }
    *out = total / (double)P.rows;
done:
    tl_free(cls);
    tl_free(cnt);
    tl_free(yi);
    tl_free(J);
    tl_free(pz);
    return st;
}

tl_status tl_nce(tl_mat P, const int *y, double *out) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t *cnt = NULL, *yi = NULL, c = 0;
    double *J = NULL;
    TL_TRY(check_xy(P, y, "nce", "probabilities"));
    TL_CHECK(out, TL_ERR_INVALID_ARG, "nce: out is NULL");
    TL_TRY(class_index(y, P.rows, "nce", &cls, &cnt, &c, &yi));
    const size_t Z = P.cols;
    TL_ALLOC(J, c * Z);
    joint_table(P, yi, c, true, J);
    double total = 0.0;
    for (size_t z = 0; z < Z; z++) {
        double pz = 0.0;
        for (size_t k = 0; k < c; k++) pz += J[k * Z + z];
        for (size_t k = 0; k < c; k++)
            if (J[k * Z + z] > 0) total += J[k * Z + z] * log(J[k * Z + z] / pz);
    }
    *out = total;
done:
    tl_free(cls);
    tl_free(cnt);
    tl_free(yi);
    tl_free(J);
    return st;
}

tl_status tl_hscore(tl_mat F, const int *y, double *out) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t *cnt = NULL, *yi = NULL, c = 0;
    tl_mat Fc = {0}, C = {0}, V = {0}, M = {0}, W = {0};
    double *w = NULL, *mu = NULL;
    TL_TRY(check_xy(F, y, "hscore", "features"));
    TL_CHECK(out, TL_ERR_INVALID_ARG, "hscore: out is NULL");
    const size_t n = F.rows, d = F.cols;
    TL_TRY(class_index(y, n, "hscore", &cls, &cnt, &c, &yi));
    /* centred features and their covariance (n - 1 normalisation) */
    TL_TRY(tl_mat_alloc(&Fc, n, d));
    TL_CALLOC(mu, d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) mu[j] += TL_AT(F, i, j);
    for (size_t j = 0; j < d; j++) mu[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) TL_AT(Fc, i, j) = TL_AT(F, i, j) - mu[j];
    if (n <= d) {
        /* fewer samples than features: with Fc Fc^T = U diag(g) U^T, the covariance's nonzero
           eigenpairs are w = g / (n - 1), v = Fc^T u / sqrt(g), and M v = sqrt(g) x (scaled class
           sums of u), so tr(pinv(C) Cg) = (n - 1) sum_k sum_r sc_r^2 (sum_{i in r} u_ik)^2 over
           the kept eigenvalues: an n x n problem instead of d x d */
        TL_TRY(tl_mat_alloc(&C, n, n));
        TL_TRY(tl_syrk(TL_NOTRANS, 1.0, Fc, 0.0, C));
        TL_TRY(tl_mat_alloc(&V, n, n));
        TL_ALLOC(w, n);
        TL_TRY(tl_eig_sym(C, TL_EIG_LARGEST, n, w, V));
        TL_CHECK(w[0] > 0, TL_ERR_LINALG, "hscore: the features are constant");
        TL_TRY(tl_mat_alloc(&W, c, n));
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < n; k++) TL_AT(W, yi[i], k) += TL_AT(V, i, k);
        double tr = 0.0;
        for (size_t k = 0; k < n && w[k] > 1e-10 * w[0]; k++)
            for (size_t r = 0; r < c; r++) {
                const double sc2 = (double)cnt[r] / (double)(n - 1) / ((double)cnt[r] * (double)cnt[r]);
                tr += sc2 * TL_AT(W, r, k) * TL_AT(W, r, k);
            }
        *out = tr * (double)(n - 1);
        goto done;
    }
    TL_TRY(tl_mat_alloc(&C, d, d));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0 / (double)(n - 1), Fc, Fc, 0.0, C));
    TL_TRY(tl_mat_alloc(&V, d, d));
    TL_ALLOC(w, d);
    TL_TRY(tl_eig_sym(C, TL_EIG_ALL, d, w, V));
    /* class means minus the overall mean, weighted by sqrt(n_c / (n - 1)): M (c, d) */
    TL_TRY(tl_mat_alloc(&M, c, d));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) TL_AT(M, yi[i], j) += TL_AT(Fc, i, j);
    for (size_t k = 0; k < c; k++) {
        const double sc = sqrt((double)cnt[k] / (double)(n - 1)) / (double)cnt[k];
        for (size_t j = 0; j < d; j++) TL_AT(M, k, j) *= sc;
    }
    /* tr(pinv(C) Cg) = sum_k (1 / w_k) || M v_k ||^2 over the kept eigenvalues */
    TL_TRY(tl_mat_alloc(&W, c, d));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, M, V, 0.0, W));
    double wmax = 0.0;
    for (size_t k = 0; k < d; k++) wmax = fmax(wmax, w[k]);
    TL_CHECK(wmax > 0, TL_ERR_LINALG, "hscore: the features are constant");
    double tr = 0.0;
    for (size_t k = 0; k < d; k++) {
        if (w[k] <= 1e-10 * wmax) continue;
        double s2 = 0.0;
        for (size_t r = 0; r < c; r++) s2 += TL_AT(W, r, k) * TL_AT(W, r, k);
        tr += s2 / w[k];
    }
    *out = tr;
done:
    tl_free(cls);
    tl_free(cnt);
    tl_free(yi);
    tl_mat_free(&Fc);
    tl_mat_free(&C);
    tl_mat_free(&V);
    tl_mat_free(&M);
    tl_mat_free(&W);
    tl_free(w);
    tl_free(mu);
    return st;
}

tl_status tl_kendall_tau(const double *a, const double *b, size_t n, double *out) {
    if (!a || !b || !out) return tl_fail(TL_ERR_INVALID_ARG, "kendall_tau: NULL argument");
    if (n < 2) return tl_fail(TL_ERR_EMPTY, "kendall_tau: needs at least 2 pairs, got %zu", n);
    double conc = 0, disc = 0, ta = 0, tb = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const double da = a[i] - a[j], db = b[i] - b[j];
            if (da == 0 && db == 0) continue;
            if (da == 0) ta++;
            else if (db == 0) tb++;
            else if ((da > 0) == (db > 0)) conc++;
            else disc++;
        }
    const double den = sqrt((conc + disc + ta) * (conc + disc + tb));
    if (den == 0) return tl_fail(TL_ERR_INVALID_ARG, "kendall_tau: one list is constant");
    *out = (conc - disc) / den;
    return TL_OK;
}
