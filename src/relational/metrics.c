/* Scores of probabilistic predictions of ground atoms, as the relational literature reports them:
 * AUC-ROC (the Mann-Whitney statistic, ties counted half), AUC-PR interpolated as Davis &
 * Goadrich, "The relationship between precision-recall and ROC curves" (ICML 2006) - the
 * AUCCalculator BoostSRL calls - and the conditional log-likelihood with probabilities clipped at
 * 1e-6. Linear interpolation of precision between two thresholds' points is wrong (precision is
 * not linear in recall); Davis & Goadrich step through each true positive added between them with
 * the false positives growing at the local rate, which is what auc_pr does. */
#include <math.h>
#include <stdlib.h>

#include "rel_internal.h"

typedef struct {
    double p;
    int y;
} scored;

static int cmp_desc(const void *a, const void *b) {
    double x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return x > y ? -1 : x < y;
}

static scored *sorted(const double *p, const int *y, size_t n) {
    scored *s = tl_malloc((n ? n : 1) * sizeof *s);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        s[i].p = p[i];
        s[i].y = y[i] != 0;
    }
    qsort(s, n, sizeof *s, cmp_desc);
    return s;
}

double tl_rel_auc_roc(const double *p, const int *y, size_t n) {
    if (!p || !y || !n) return NAN;
    scored *s = sorted(p, y, n);
    if (!s) return NAN;
    double npos = 0, nneg = 0, area = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].y) npos++;
        else nneg++;
    }
    size_t i;
    /* sum over positives of (negatives strictly below + half the tied ones) */
    double below = nneg;
    i = 0;
    while (i < n) {
        size_t j = i;
        double tp = 0, fp = 0;
        while (j < n && s[j].p == s[i].p) {
            if (s[j].y) tp++;
            else fp++;
            j++;
        }
        below -= fp;
        area += tp * (below + 0.5 * fp);
        i = j;
    }
    tl_free(s);
    if (npos == 0 || nneg == 0) return NAN;
    return area / (npos * nneg);
}

double tl_rel_auc_pr(const double *p, const int *y, size_t n) {
    if (!p || !y || !n) return NAN;
    scored *s = sorted(p, y, n);
    if (!s) return NAN;
    double P = 0;
    for (size_t i = 0; i < n; i++) P += s[i].y;
    if (P == 0) {
        tl_free(s);
        return NAN;
    }
    /* the (TP, FP) point of each distinct threshold, then the interpolated area */
    double area = 0, tpA = 0, fpA = 0, prev_r = 0, prev_p = -1;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        double tpB = tpA, fpB = fpA;
        while (j < n && s[j].p == s[i].p) {
            if (s[j].y) tpB++;
            else fpB++;
            j++;
        }
        if (tpB > tpA) {
            double skew = (fpB - fpA) / (tpB - tpA);
            for (double x = 1; x <= tpB - tpA; x++) {
                double tp = tpA + x, fp = fpA + skew * x;
                double r = tp / P, pr = tp / (tp + fp);
                if (prev_p < 0) {
                    /* the curve starts at recall 0 with the first point's precision */
                    prev_p = pr;
                    prev_r = 0;
                }
                area += (r - prev_r) * (pr + prev_p) / 2;
                prev_r = r;
                prev_p = pr;
            }
        }
        tpA = tpB;
        fpA = fpB;
        i = j;
    }
    tl_free(s);
    return area;
}

double tl_rel_cll(const double *p, const int *y, size_t n) {
    if (!p || !y || !n) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double q = p[i] < 1e-6 ? 1e-6 : p[i] > 1 - 1e-6 ? 1 - 1e-6 : p[i];
        s += y[i] ? log(q) : log(1 - q);
    }
    return s / (double)n;
}
