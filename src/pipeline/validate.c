/* Label-free validation criteria (tl/validate.h): prediction entropy, soft neighbourhood density
 * (Saito et al. 2021), importance-weighted cross-validation (Sugiyama et al. 2007) and deep
 * embedded validation with its control variate (You et al. 2019), each with the collapse flag.
 * MixVal (Hu et al. 2023). Straight transcriptions of the papers' formulas (tests/golden/make_validate.py holds the numpy
 * versions the tests compare against); SND's n x n similarity rows are formed one row at a time,
 * so memory stays O(n k). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "tl/validate.h"

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

double tl_validate_collapse_share(size_t n_classes) {
    double mid = n_classes ? 0.5 * (1 + 1.0 / (double)n_classes) : 1;
    return mid > TL_COLLAPSE_SHARE ? mid : TL_COLLAPSE_SHARE;
}

double tl_validate_top_share(const int *pred, size_t n) {
    if (!pred || n == 0) return 0;
    int *c = tl_malloc(n * sizeof *c);
    if (!c) return NAN;
    memcpy(c, pred, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_int);
    size_t best = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        run = (i > 0 && c[i] == c[i - 1]) ? run + 1 : 1;
        if (run > best) best = run;
    }
    tl_free(c);
    return (double)best / (double)n;
}

static tl_status check_probs(tl_mat P, const char *what) {
    tl_status st = TL_OK;
    TL_CHECK(P.data && P.rows > 0 && P.cols > 0, TL_ERR_INVALID_ARG, "%s: no target rows", what);
    for (size_t i = 0; i < P.rows; i++)
        for (size_t j = 0; j < P.cols; j++) {
            double v = P.data[i * P.ld + j];
            TL_CHECK(isfinite(v) && v >= 0, TL_ERR_INVALID_ARG,
                     "%s: probability (%zu, %zu) = %g is not a finite nonnegative number", what, i,
                     j, v);
        }
done:
    return st;
}

/* The collapse from pred (n), or from the argmax of each row of P when pred is NULL. */
static tl_status collapse(tl_mat P, const int *pred, size_t n, tl_criterion *out) {
    tl_status st = TL_OK;
    int *am = NULL;
    if (!pred && P.data && P.rows) {
        TL_ALLOC(am, P.rows);
        for (size_t i = 0; i < P.rows; i++) {
            size_t b = 0;
            for (size_t j = 1; j < P.cols; j++)
                if (P.data[i * P.ld + j] > P.data[i * P.ld + b]) b = j;
            am[i] = (int)b;
        }
        pred = am;
        n = P.rows;
    }
    out->top_share = tl_validate_top_share(pred, n);
    TL_CHECK(!isnan(out->top_share), TL_ERR_NOMEM, "out of memory counting the predictions");
    out->collapsed = out->top_share > TL_COLLAPSE_SHARE;
done:
    tl_free(am);
    return st;
}

static double row_entropy(const double *p, size_t k) {
    double s = 0, h = 0;
    for (size_t j = 0; j < k; j++) s += p[j];
    if (!(s > 0)) return NAN;
    for (size_t j = 0; j < k; j++) {
        double q = p[j] / s;
        if (q > 0) h -= q * log(q);
    }
    return h;
}

tl_status tl_validate_entropy(tl_mat P, const int *pred, tl_criterion *out) {
    tl_status st;
    TL_TRY(check_probs(P, "entropy"));
    double h = 0;
    for (size_t i = 0; i < P.rows; i++) h += row_entropy(P.data + i * P.ld, P.cols);
    out->value = h / (double)P.rows;
    st = collapse(P, pred, P.rows, out);
done:
    return st;
}

tl_status tl_validate_snd(tl_mat P, double tau, const int *pred, tl_criterion *out) {
    tl_status st;
    double *F = NULL, *row = NULL;
    TL_TRY(check_probs(P, "SND"));
    TL_CHECK(P.rows >= 2, TL_ERR_INVALID_ARG, "SND: needs at least 2 target rows (got %zu)",
             P.rows);
    TL_CHECK(isfinite(tau) && tau > 0, TL_ERR_INVALID_ARG, "SND: temperature %g is not > 0", tau);
    size_t n = P.rows, k = P.cols;
    TL_ALLOC(F, n * k);
    TL_ALLOC(row, n);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < k; j++) s += P.data[i * P.ld + j] * P.data[i * P.ld + j];
        s = s > 1e-24 ? 1 / sqrt(s) : 0; /* torch's F.normalize: x / max(||x||, eps) */
        for (size_t j = 0; j < k; j++) F[i * k + j] = P.data[i * P.ld + j] * s;
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double mx = -INFINITY;
        for (size_t r = 0; r < n; r++) {
            double d = 0;
            if (r == i) d = -1;
            else
                for (size_t j = 0; j < k; j++) d += F[i * k + j] * F[r * k + j];
            row[r] = d / tau;
            if (row[r] > mx) mx = row[r];
        }
        double z = 0;
        for (size_t r = 0; r < n; r++) z += exp(row[r] - mx);
        double lz = log(z), h = 0;
        for (size_t r = 0; r < n; r++) {
            double lp = row[r] - mx - lz, p = exp(lp);
            if (p > 0) h -= p * lp;
        }
        total += h;
    }
    out->value = total / (double)n;
    st = collapse(P, pred, n, out);
done:
    tl_free(F);
    tl_free(row);
    return st;
}

static tl_status check_weighted(const double *loss, const double *w, size_t m, const char *what) {
    tl_status st = TL_OK;
    TL_CHECK(loss && w && m > 0, TL_ERR_INVALID_ARG, "%s: no validation rows", what);
    for (size_t i = 0; i < m; i++) {
        TL_CHECK(isfinite(loss[i]), TL_ERR_INVALID_ARG, "%s: loss %zu = %g is not finite", what, i,
                 loss[i]);
        TL_CHECK(isfinite(w[i]) && w[i] >= 0, TL_ERR_INVALID_ARG,
                 "%s: weight %zu = %g is not a finite nonnegative number", what, i, w[i]);
    }
done:
    return st;
}

static tl_status collapse_pred(const int *pred, size_t n, tl_criterion *out) {
    out->top_share = tl_validate_top_share(pred, n);
    if (isnan(out->top_share)) return tl_fail(TL_ERR_NOMEM, "out of memory counting predictions");
    out->collapsed = out->top_share > TL_COLLAPSE_SHARE;
    return TL_OK;
}

tl_status tl_validate_iwcv(const double *loss, const double *w, size_t m, const int *pred,
                           size_t n, tl_criterion *out) {
    tl_status st;
    TL_TRY(check_weighted(loss, w, m, "IWCV"));
    double s = 0;
    for (size_t i = 0; i < m; i++) s += w[i] * loss[i];
    out->value = s / (double)m;
    st = collapse_pred(pred, n, out);
done:
    return st;
}

tl_status tl_validate_dev(const double *loss, const double *w, size_t m, const int *pred,
                          size_t n, tl_criterion *out) {
    tl_status st;
    TL_TRY(check_weighted(loss, w, m, "DEV"));
    double mL = 0, mW = 0;
    for (size_t i = 0; i < m; i++) {
        mL += w[i] * loss[i];
        mW += w[i];
    }
    mL /= (double)m;
    mW /= (double)m;
    double cov = 0, var = 0;
    for (size_t i = 0; i < m; i++) {
        cov += (w[i] * loss[i] - mL) * (w[i] - mW);
        var += (w[i] - mW) * (w[i] - mW);
    }
    cov /= (double)m;
    var /= (double)m;
    double eta = var > 0 ? -cov / var : 0;
    out->value = mL + eta * mW - eta;
    st = collapse_pred(pred, n, out);
done:
    return st;
}

tl_status tl_validate_mixval(tl_mat Z, const int *pred, const size_t *partner, double lambda,
                             tl_predict_fn predict, void *user, tl_criterion *out) {
    tl_status st = TL_OK;
    tl_mat M = {0};
    int *pm = NULL;
    size_t *src = NULL;
    TL_CHECK(Z.data && Z.rows > 0 && pred && partner && predict, TL_ERR_INVALID_ARG,
             "MixVal: needs target rows, their predictions, partners and a predictor");
    TL_CHECK(isfinite(lambda) && lambda > 0.5 && lambda < 1, TL_ERR_INVALID_ARG,
             "MixVal: lambda %g is not in (0.5, 1)", lambda);
    size_t n = Z.rows, m = 0;
    for (size_t i = 0; i < n; i++) {
        TL_CHECK(partner[i] < n, TL_ERR_INVALID_ARG, "MixVal: partner[%zu] = %zu is not < %zu", i,
                 partner[i], n);
        m += partner[i] != i;
    }
    TL_CHECK(m > 0, TL_ERR_INVALID_ARG, "MixVal: every row is its own partner");
    TL_TRY(tl_mat_alloc(&M, m, Z.cols));
    TL_ALLOC(pm, m);
    TL_ALLOC(src, m);
    m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = partner[i];
        if (j == i) continue;
        for (size_t c = 0; c < Z.cols; c++)
            M.data[m * M.ld + c] = lambda * Z.data[i * Z.ld + c] + (1 - lambda) * Z.data[j * Z.ld + c];
        src[m++] = i;
    }
    if (predict(user, M, pm) != 0) { /* the predictor's own message, if any, follows */
        st = tl_fail_prefix(TL_ERR_INVALID_ARG, "MixVal: the predictor failed");
        goto done;
    }
    size_t hit[2] = {0, 0}, cnt[2] = {0, 0};
    for (size_t k = 0; k < m; k++) {
        size_t i = src[k];
        int inter = pred[i] != pred[partner[i]];
        cnt[inter]++;
        hit[inter] += pm[k] == pred[i];
    }
    double sum = 0;
    int parts = 0;
    for (int q = 0; q < 2; q++)
        if (cnt[q]) {
            sum += (double)hit[q] / (double)cnt[q];
            parts++;
        }
    out->value = sum / parts;
    st = collapse_pred(pred, n, out);
done:
    tl_mat_free(&M);
    tl_free(pm);
    tl_free(src);
    return st;
}
