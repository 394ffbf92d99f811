/* What the report page draws besides the scores (tl_run_opts.report_views): the confusion
 * matrices of the transfer and of the no-transfer learner on the scored rows, and a 2-D view of
 * the source and the scored rows before and after the mapping.
 *
 * The view is a PCA to two axes of the pooled rows (an even subsample of each domain, at most
 * TL_REPORT_VIEW_ROWS, so the page stays small and the cost bounded): before the mapping the
 * rows as the learner would see them without transfer, after it the same rows mapped, each
 * projected on its own two leading axes (the mapped space is not the raw one). The axes come
 * from the smaller of the two Gram forms (d x d covariance or m x m Gram, top two pairs only),
 * and each axis' sign is fixed so that its largest coordinate is positive: the same run draws
 * the same picture. With tl_run_opts.report_tsne the same rows are also laid out by t-SNE
 * (report_tsne.c), before and after the mapping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "method_internal.h"
#include "pipeline_internal.h"
#include "tl/instance.h"

#define VIEW_MAX_CLASSES 64 /* more classes than this: no confusion matrix (unreadable) */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static size_t class_index(const int *cls, size_t k, int v) {
    const int *p = bsearch(&v, cls, k, sizeof *cls, cmp_int);
    return (size_t)(p - cls);
}

tl_status tlx_report_confusion(tl_report *r, const int *y, const int *pred, const int *base,
                               size_t n) {
    tl_status st = TL_OK;
    int *all = NULL;
    if (!y || !pred || !base || n == 0) return TL_OK;
    TL_ALLOC(all, 3 * n);
    memcpy(all, y, n * sizeof *all);
    memcpy(all + n, pred, n * sizeof *all);
    memcpy(all + 2 * n, base, n * sizeof *all);
    qsort(all, 3 * n, sizeof *all, cmp_int);
    size_t k = 0;
    for (size_t i = 0; i < 3 * n; i++)
        if (i == 0 || all[i] != all[k - 1]) all[k++] = all[i];
    if (k > VIEW_MAX_CLASSES) goto done;
    TL_ALLOC(r->classes, k);
    memcpy(r->classes, all, k * sizeof *all);
    TL_CALLOC(r->confusion, k * k);
    TL_CALLOC(r->confusion_baseline, k * k);
    r->n_classes = k;
    for (size_t i = 0; i < n; i++) {
        size_t t = class_index(r->classes, k, y[i]);
        r->confusion[t * k + class_index(r->classes, k, pred[i])]++;
        r->confusion_baseline[t * k + class_index(r->classes, k, base[i])]++;
    }
done:
    tl_free(all);
    return st;
}

/* out (m, 2) = the rows of X (m, d) centred, on their two leading principal axes. */
static tl_status pca2(tl_mat X, double *out) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL}, V = {0, 0, 0, NULL};
    double *mean = NULL, w[2];
    size_t m = X.rows, d = X.cols, q = d < 2 ? d : 2;
    memset(out, 0, m * 2 * sizeof *out);
    if (m < 2 || q == 0) return TL_OK;
    TL_CALLOC(mean, d);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++) mean[j] += TL_AT(X, i, j) / (double)m;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++) TL_AT(X, i, j) -= mean[j];
    bool cov = d <= m;
    if (!cov) q = m < 2 ? m : 2;
    size_t g = cov ? d : m;
    TL_TRY(tl_mat_alloc(&C, g, g));
    TL_TRY(tl_syrk(cov ? TL_TRANS : TL_NOTRANS, 1.0, X, 0.0, C));
    TL_TRY(tl_mat_alloc(&V, g, q));
    TL_TRY(tl_eig_sym(C, TL_EIG_LARGEST, q, w, V));
    for (size_t a = 0; a < q; a++) {
        for (size_t i = 0; i < m; i++) {
            double s = 0;
            if (cov)
                for (size_t j = 0; j < d; j++) s += TL_AT(X, i, j) * TL_AT(V, j, a);
            else
                s = TL_AT(V, i, a) * sqrt(w[a] > 0 ? w[a] : 0);
            out[2 * i + a] = s;
        }
        double big = 0;
        for (size_t i = 0; i < m; i++)
            if (fabs(out[2 * i + a]) > fabs(big)) big = out[2 * i + a];
        if (big < 0)
            for (size_t i = 0; i < m; i++) out[2 * i + a] = -out[2 * i + a];
    }
done:
    tl_free(mean);
    tl_mat_free(&C);
    tl_mat_free(&V);
    return st;
}

/* The view's k-th of m rows picked evenly from n (m = min(n, TL_REPORT_VIEW_ROWS)). */
static size_t view_rows(size_t n) { return n < TL_REPORT_VIEW_ROWS ? n : TL_REPORT_VIEW_ROWS; }
static size_t view_row(size_t k, size_t n) { return k * n / view_rows(n); }

/* P (m, width) = the picked rows of A, then of B. */
static tl_status pick(tl_mat A, tl_mat B, tl_mat *P) {
    tl_status st = TL_OK;
    size_t ma = view_rows(A.rows), mb = view_rows(B.rows);
    TL_TRY(tl_mat_alloc(P, ma + mb, A.cols));
    for (size_t k = 0; k < ma; k++)
        memcpy(&TL_AT(*P, k, 0), &TL_AT(A, view_row(k, A.rows), 0), A.cols * sizeof(double));
    for (size_t k = 0; k < mb; k++)
        memcpy(&TL_AT(*P, ma + k, 0), &TL_AT(B, view_row(k, B.rows), 0), B.cols * sizeof(double));
done:
    return st;
}

tl_status tlx_report_view(tl_report *r, tl_mat S, const int *ys, tl_mat E, const int *ye,
                          tl_mat Zs, tl_mat Ze, bool tsne, uint64_t seed) {
    tl_status st = TL_OK;
    tl_mat P = {0, 0, 0, NULL};
    if (!S.data || !E.data || S.cols != E.cols || S.rows == 0 || E.rows == 0) return TL_OK;
    size_t ms = view_rows(S.rows), m = ms + view_rows(E.rows);
    TL_ALLOC(r->view_domain, m);
    TL_ALLOC(r->view_class, m);
    for (size_t i = 0; i < m; i++) {
        bool src = i < ms;
        const int *y = src ? ys : ye;
        r->view_domain[i] = src ? 0 : 1;
        r->view_class[i] = y ? y[view_row(src ? i : i - ms, src ? S.rows : E.rows)] : -1;
    }
    TL_TRY(pick(S, E, &P));
    if (tsne) { /* before pca2, which centres P in place (t-SNE reads distances only) */
        TL_ALLOC(r->tsne_before, 2 * m);
        TL_TRY(tlx_tsne2(P, TLX_TSNE_ITERS, seed, r->tsne_before));
    }
    TL_ALLOC(r->view_before, 2 * m);
    TL_TRY(pca2(P, r->view_before));
    tl_mat_free(&P);
    if (Zs.data && Ze.data && Zs.rows == S.rows && Ze.rows == E.rows && Zs.cols == Ze.cols) {
        TL_TRY(pick(Zs, Ze, &P));
        if (tsne) {
            TL_ALLOC(r->tsne_after, 2 * m);
            TL_TRY(tlx_tsne2(P, TLX_TSNE_ITERS, seed, r->tsne_after));
        }
        TL_ALLOC(r->view_after, 2 * m);
        TL_TRY(pca2(P, r->view_after));
    }
    r->n_view = m;
done:
    tl_mat_free(&P);
    if (st != TL_OK) {
        tl_free(r->view_before);
        tl_free(r->view_after);
        tl_free(r->view_domain);
        tl_free(r->view_class);
        tl_free(r->tsne_before);
        tl_free(r->tsne_after);
        r->tsne_before = r->tsne_after = NULL;
        r->view_before = r->view_after = NULL;
        r->view_domain = r->view_class = NULL;
        r->n_view = 0;
    }
    return st;
}

/* The weights' view. The classifier is the library's own discriminative ratio (domain-clf, its
 * published settings) on every row. Its weights come on the mean-1 scale, r = c e^z with z the
 * classifier's margin, so p(t|x) = r / (k + r) for one unknown k = c; k is the root of
 * sum over all rows of p(t|x_i) = nt, which the optimum satisfies exactly (the intercept is not
 * penalised, so its gradient, sum_i p_i - nt, is zero there): found by bisection on log k. */
tl_status tlx_report_weights(tl_report *r, tl_xmat Fs, tl_xmat Ft, const double *w, size_t ns,
                             uint64_t seed, const tl_ctx *ctx) {
    tl_status st = TL_OK;
    double *rs = NULL, *rt = NULL;
    tl_weighter *wt = NULL;
    size_t nt = tl_xmat_rows(Ft);
    if (!w || ns == 0 || ns != tl_xmat_rows(Fs) || nt == 0) return TL_OK;
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    p.seed = seed;
    p.ctx = ctx;
    TL_ALLOC(rs, ns);
    TL_ALLOC(rt, nt);
    st = tl_weighter_fit(&p, Fs, Ft, &wt);
    if (st == TL_OK) st = tl_weighter_weights(wt, Fs, rs);
    if (st == TL_OK) st = tl_weighter_weights(wt, Ft, rt);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "the report's domain classifier");
        goto done;
    }
    double lo = -60, hi = 60; /* log k */
    for (int it = 0; it < 200 && hi - lo > 1e-13; it++) {
        double k = exp(0.5 * (lo + hi)), sum = 0;
        for (size_t i = 0; i < ns; i++) sum += rs[i] / (k + rs[i]);
        for (size_t i = 0; i < nt; i++) sum += rt[i] / (k + rt[i]);
        if (sum > (double)nt) lo = 0.5 * (lo + hi); /* too many target calls: a larger k */
        else hi = 0.5 * (lo + hi);
    }
    double k = exp(0.5 * (lo + hi));
    size_t m = view_rows(ns);
    TL_ALLOC(r->wview_weight, m);
    TL_ALLOC(r->wview_target_prob, m);
    for (size_t j = 0; j < m; j++) {
        size_t i = view_row(j, ns);
        r->wview_weight[j] = w[i];
        r->wview_target_prob[j] = rs[i] / (k + rs[i]);
    }
    r->n_wview = m;
done:
    tl_free(rs);
    tl_free(rt);
    tl_weighter_free(wt);
    if (st != TL_OK) {
        tl_free(r->wview_weight);
        tl_free(r->wview_target_prob);
        r->wview_weight = r->wview_target_prob = NULL;
        r->n_wview = 0;
    }
    return st;
}

tl_status tlx_report_curve(tl_report *r, const tl_model *m) {
    tl_status st = TL_OK;
    size_t n = 0;
    const double *c = tlx_model_curve(m, &n);
    if (!c || !n) return TL_OK;
    bool dom = false;
    for (size_t e = 0; e < n; e++) dom |= isfinite(c[5 * e + 4]);
    TL_ALLOC(r->curve, 4 * n);
    if (dom) TL_ALLOC(r->curve_domain, n);
    for (size_t e = 0; e < n; e++) {
        memcpy(r->curve + 4 * e, c + 5 * e, 4 * sizeof *c);
        if (dom) r->curve_domain[e] = c[5 * e + 4];
    }
    r->n_curve = n;
done:
    if (st != TL_OK) {
        tl_free(r->curve);
        r->curve = NULL;
    }
    return st;
}
