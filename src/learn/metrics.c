/* Classification metrics: accuracy, balanced accuracy (mean recall over the classes present in y,
 * as sklearn.metrics.balanced_accuracy_score), macro-F1 (unweighted mean of per-class F1 over the
 * union of classes in y and pred, F1 = 2 TP / (2 TP + FP + FN)), the confusion matrix over given
 * sorted classes, and the two-class ROC AUC by the rank statistic (Mann-Whitney U): with average
 * ranks for tied scores, AUC = (R_pos - P (P + 1) / 2) / (P N), which counts ties as one half.
 * Labels are mapped to sorted class indices by binary search, so everything is O(n log n). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "learn/learn_internal.h"

double tl_accuracy(const int *y, const int *pred, size_t n) {
    if (n == 0 || !y || !pred) return 0.0;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) ok += y[i] == pred[i];
    return (double)ok / (double)n;
}

/* Per-class counts over the classes of `cls` (sorted, c): true (y), predicted, correct. */
static void class_counts(const int *y, const int *pred, size_t n, const int *cls, size_t c,
                         size_t *ny, size_t *np, size_t *tp) {
    memset(ny, 0, c * sizeof(size_t));
    memset(np, 0, c * sizeof(size_t));
    memset(tp, 0, c * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        long a = tlp_find(cls, c, y[i]), b = tlp_find(cls, c, pred[i]);
        if (a >= 0) ny[a]++;
        if (b >= 0) np[b]++;
        if (a >= 0 && y[i] == pred[i]) tp[a]++;
    }
}

tl_status tl_balanced_accuracy(const int *y, const int *pred, size_t n, double *out) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t c = 0, *cnt = NULL;
    TL_CHECK(out != NULL, TL_ERR_INVALID_ARG, "balanced accuracy: output is NULL");
    TL_CHECK(n > 0, TL_ERR_EMPTY, "balanced accuracy: no samples");
    TL_CHECK(y && pred, TL_ERR_INVALID_ARG, "balanced accuracy: labels are NULL");
    TL_TRY(tlp_unique(y, n, &cls, &c));
    size_t ncnt = 3 * c;
    TL_CALLOC(cnt, ncnt);
    class_counts(y, pred, n, cls, c, cnt, cnt + c, cnt + 2 * c);
    double s = 0;
    for (size_t k = 0; k < c; k++) s += (double)cnt[2 * c + k] / (double)cnt[k];
    *out = s / (double)c;
done:
    tl_free(cls);
    tl_free(cnt);
    return st;
}

tl_status tl_macro_f1(const int *y, const int *pred, size_t n, double *out) {
    tl_status st = TL_OK;
    int *both = NULL, *cls = NULL;
    size_t c = 0, *cnt = NULL;
    TL_CHECK(out != NULL, TL_ERR_INVALID_ARG, "macro-F1: output is NULL");
    TL_CHECK(n > 0, TL_ERR_EMPTY, "macro-F1: no samples");
    TL_CHECK(y && pred, TL_ERR_INVALID_ARG, "macro-F1: labels are NULL");
    TL_ALLOC(both, 2 * n);
    memcpy(both, y, n * sizeof(int));
    memcpy(both + n, pred, n * sizeof(int));
    TL_TRY(tlp_unique(both, 2 * n, &cls, &c));
    size_t ncnt = 3 * c;
    TL_CALLOC(cnt, ncnt);
    class_counts(y, pred, n, cls, c, cnt, cnt + c, cnt + 2 * c);
    double s = 0;
    for (size_t k = 0; k < c; k++) {
        size_t tp = cnt[2 * c + k], fn = cnt[k] - tp, fp = cnt[c + k] - tp;
        size_t den = 2 * tp + fp + fn;
        s += den ? 2.0 * (double)tp / (double)den : 0.0;
    }
    *out = s / (double)c;
done:
    tl_free(both);
    tl_free(cls);
    tl_free(cnt);
    return st;
}

tl_status tl_confusion(const int *y, const int *pred, size_t n, const int *classes, size_t c,
                       size_t *M /* (c, c) */) {
    tl_status st = TL_OK;
    size_t cells;
    TL_CHECK(c > 0 && classes && M, TL_ERR_INVALID_ARG, "confusion: no classes or no output");
    TL_CHECK(n == 0 || (y && pred), TL_ERR_INVALID_ARG, "confusion: labels are NULL");
    for (size_t k = 1; k < c; k++)
        TL_CHECK(classes[k - 1] < classes[k], TL_ERR_INVALID_ARG,
                 "confusion: classes must be sorted and distinct (position %zu)", k + 1);
    TL_CHECK(tl_size_mul(c, c, &cells) == 0, TL_ERR_NOMEM, "confusion: %zu classes overflow", c);
    memset(M, 0, cells * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        long a = tlp_find(classes, c, y[i]), b = tlp_find(classes, c, pred[i]);
        TL_CHECK(a >= 0, TL_ERR_LABEL, "confusion: true label %d of sample %zu is not a class",
                 y[i], i + 1);
        TL_CHECK(b >= 0, TL_ERR_LABEL,
                 "confusion: predicted label %d of sample %zu is not a class", pred[i], i + 1);
        M[(size_t)a * c + (size_t)b]++;
    }
done:
    return st;
}

typedef struct {
    double s;
    size_t i;
} scored;

static int cmp_scored(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->s < y->s) return -1;
    if (x->s > y->s) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Samples labelled `positive` are positives, every other label a negative. */
tl_status tl_auc(const int *y, const double *score, size_t n, int positive, double *out) {
    tl_status st = TL_OK;
    scored *v = NULL;
    TL_CHECK(out != NULL, TL_ERR_INVALID_ARG, "AUC: output is NULL");
    TL_CHECK(n > 0, TL_ERR_EMPTY, "AUC: no samples");
    TL_CHECK(y && score, TL_ERR_INVALID_ARG, "AUC: labels or scores are NULL");
    size_t P = 0;
    for (size_t i = 0; i < n; i++) {
        TL_CHECK(isfinite(score[i]), TL_ERR_NONFINITE, "AUC: score %zu is %s", i + 1,
                 isnan(score[i]) ? "NaN" : "Inf");
        P += y[i] == positive;
    }
    TL_CHECK(P > 0 && P < n, TL_ERR_LABEL,
             "AUC: needs both classes, but y has %s samples of class %d", P ? "only" : "no",
             positive);
    TL_ALLOC(v, n);
    for (size_t i = 0; i < n; i++) v[i] = (scored){score[i], i};
    qsort(v, n, sizeof *v, cmp_scored);
    double rpos = 0; /* sum of (1-based, tie-averaged) ranks of the positives */
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && v[b].s == v[a].s) b++;
        double rank = 0.5 * ((double)a + 1 + (double)b); /* mean of ranks a+1 .. b */
        for (size_t t = a; t < b; t++)
            if (y[v[t].i] == positive) rpos += rank;
        a = b;
    }
    double Pd = (double)P, Nd = (double)(n - P);
    *out = (rpos - Pd * (Pd + 1) / 2) / (Pd * Nd);
done:
    tl_free(v);
    return st;
}

tl_status tl_regression_scores(const double *t, const double *v, size_t n, double *rmse,
                               double *mae, double *r2) {
    if (!t || !v || n == 0)
        return tl_fail(TL_ERR_INVALID_ARG, "regression scores: no values to score (n = %zu)", n);
    double se = 0, ae = 0, mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += t[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = v[i] - t[i];
        se += e * e;
        ae += fabs(e);
        ss += (t[i] - mean) * (t[i] - mean);
    }
    if (rmse) *rmse = sqrt(se / (double)n);
    if (mae) *mae = ae / (double)n;
    if (r2) *r2 = ss > 0 ? 1.0 - se / ss : NAN;
    return TL_OK;
}
