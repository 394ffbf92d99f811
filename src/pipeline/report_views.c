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

void tlx_view_fix_signs(double *out, size_t m) {
    for (int a = 0; a < 2; a++) {
        double big = 0;
        for (size_t i = 0; i < m; i++)
            if (fabs(out[2 * i + a]) > fabs(big)) big = out[2 * i + a];
        if (big < 0)
            for (size_t i = 0; i < m; i++) out[2 * i + a] = -out[2 * i + a];
    }
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
    }
    tlx_view_fix_signs(out, m);
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

/* One picked row of X as a sparse list: its stored entries (CSR) or its non-zeros (dense). */
typedef struct {
    const int32_t *idx; /* NULL: dense, cols entries in val */
    const double *val;
    size_t n;
} prow;

static prow pick_row(tl_xmat X, size_t k) {
    size_t i = view_row(k, tl_xmat_rows(X));
    prow r;
    if (X.sparse) {
        r.idx = X.csr.indices + X.csr.indptr[i];
        r.val = X.csr.values + X.csr.indptr[i];
        r.n = X.csr.indptr[i + 1] - X.csr.indptr[i];
    } else {
        r.idx = NULL;
        r.val = &TL_AT(X.dense, i, 0);
        r.n = X.dense.cols;
    }
    return r;
}

static double prow_dot(prow a, prow b) {
    double s = 0;
    if (!a.idx && !b.idx) {
        for (size_t l = 0; l < a.n; l++) s += a.val[l] * b.val[l];
    } else if (!a.idx || !b.idx) { /* sparse . dense */
        prow sp = a.idx ? a : b, de = a.idx ? b : a;
        for (size_t l = 0; l < sp.n; l++) s += sp.val[l] * de.val[sp.idx[l]];
    } else { /* both sorted by column: a merge */
        size_t x = 0, y = 0;
        while (x < a.n && y < b.n) {
            if (a.idx[x] < b.idx[y]) x++;
            else if (a.idx[x] > b.idx[y]) y++;
            else s += a.val[x++] * b.val[y++];
        }
    }
    return s;
}

/* G (m, m) = the Gram matrix of the picked rows of A then B (same width) from sparse dot
 * products: no row is densified, so a sparse domain of any width costs O(m^2 nnz per row). */
static tl_status gram_sparse(tl_xmat A, tl_xmat B, tl_mat *G) {
    tl_status st = TL_OK;
    size_t ma = view_rows(tl_xmat_rows(A)), m = ma + view_rows(tl_xmat_rows(B));
    TL_TRY(tl_mat_alloc(G, m, m));
    for (size_t i = 0; i < m; i++) {
        prow a = i < ma ? pick_row(A, i) : pick_row(B, i - ma);
        for (size_t j = i; j < m; j++) {
            prow b = j < ma ? pick_row(A, j) : pick_row(B, j - ma);
            TL_AT(*G, i, j) = TL_AT(*G, j, i) = prow_dot(a, b);
        }
    }
done:
    return st;
}

/* out (m, 2) from a Gram matrix G (m, m) of m rows (destroyed): the rows centred in Gram space
 * (G - r 1^T - 1 r^T + mean(r), r the row means: exactly the Gram matrix of the centred rows) on
 * their two leading principal axes, U sqrt(lambda), each axis' sign fixed as pca2's. */
static tl_status pca2_gram(tl_mat G, double *out) {
    tl_status st = TL_OK;
    tl_mat V = {0, 0, 0, NULL};
    double *rm = NULL, w[2], mu = 0;
    size_t m = G.rows, q = m < 2 ? m : 2;
    memset(out, 0, m * 2 * sizeof *out);
    if (m < 2) return TL_OK;
    TL_CALLOC(rm, m);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < m; j++) rm[i] += TL_AT(G, i, j) / (double)m;
        mu += rm[i] / (double)m;
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) TL_AT(G, i, j) += mu - rm[i] - rm[j];
    TL_TRY(tl_mat_alloc(&V, m, q));
    TL_TRY(tl_eig_sym(G, TL_EIG_LARGEST, q, w, V));
    for (size_t a = 0; a < q; a++)
        for (size_t i = 0; i < m; i++) out[2 * i + a] = TL_AT(V, i, a) * sqrt(w[a] > 0 ? w[a] : 0);
    tlx_view_fix_signs(out, m);
done:
    tl_free(rm);
    tl_mat_free(&V);
    return st;
}

/* The picked rows of S then E laid out (before the mapping) into pca (m, 2) and, when tsne is
 * not NULL, t-SNE (m, 2). One width, dense: pca2 on the rows; one width with a sparse domain: the
 * Gram matrix of sparse products (pca2_gram, tlx_tsne2_gram); two widths (a heterogeneous
 * method): each domain on its own, its own axes. */
static tl_status layout_before(tl_xmat S, tl_xmat E, double *pca, double *tsne, uint64_t seed) {
    tl_status st = TL_OK;
    tl_mat P = {0, 0, 0, NULL}, G = {0, 0, 0, NULL};
    size_t ms = view_rows(tl_xmat_rows(S)), me = view_rows(tl_xmat_rows(E));
    if (tl_xmat_cols(S) != tl_xmat_cols(E)) { /* each in its own feature space */
        tl_mat none_s = {0, S.dense.cols, S.dense.cols, NULL},
               none_e = {0, E.dense.cols, E.dense.cols, NULL};
        TL_TRY(pick(S.dense, none_s, &P));
        if (tsne) TL_TRY(tlx_tsne2(P, TLX_TSNE_ITERS, seed, tsne));
        TL_TRY(pca2(P, pca));
        tl_mat_free(&P);
        TL_TRY(pick(E.dense, none_e, &P));
        if (tsne) TL_TRY(tlx_tsne2(P, TLX_TSNE_ITERS, seed, tsne + 2 * ms));
        TL_TRY(pca2(P, pca + 2 * ms));
        goto done;
    }
    if (!S.sparse && !E.sparse) {
        TL_TRY(pick(S.dense, E.dense, &P));
        if (tsne) TL_TRY(tlx_tsne2(P, TLX_TSNE_ITERS, seed, tsne)); /* before pca2 centres P */
        TL_TRY(pca2(P, pca));
        goto done;
    }
    TL_TRY(gram_sparse(S, E, &G));
    if (tsne) {
        TL_TRY(tl_mat_alloc(&P, ms + me, ms + me));
        TL_TRY(tl_mat_copy(P, G));
        TL_TRY(tlx_tsne2_gram(P, TLX_TSNE_ITERS, seed, tsne));
    }
    TL_TRY(pca2_gram(G, pca));
done:
    tl_mat_free(&P);
    tl_mat_free(&G);
    return st;
}

tl_status tlx_report_view(tl_report *r, tl_xmat S, const int *ys, tl_xmat E, const int *ye,
                          tl_mat Zs, tl_mat Ze, bool tsne, uint64_t seed) {
    tl_status st = TL_OK;
    tl_mat P = {0, 0, 0, NULL};
    size_t ns = tl_xmat_rows(S), ne = tl_xmat_rows(E);
    bool two = tl_xmat_cols(S) != tl_xmat_cols(E);
    if (ns == 0 || ne == 0 || (two && (S.sparse || E.sparse))) return TL_OK;
    size_t ms = view_rows(ns), m = ms + view_rows(ne);
    TL_ALLOC(r->view_domain, m);
    TL_ALLOC(r->view_class, m);
    for (size_t i = 0; i < m; i++) {
        bool src = i < ms;
        const int *y = src ? ys : ye;
        r->view_domain[i] = src ? 0 : 1;
        r->view_class[i] = y ? y[view_row(src ? i : i - ms, src ? ns : ne)] : -1;
    }
    TL_ALLOC(r->view_before, 2 * m);
    if (tsne) TL_ALLOC(r->tsne_before, 2 * m);
    TL_TRY(layout_before(S, E, r->view_before, r->tsne_before, seed));
    r->view_separate = two;
    if (Zs.data && Ze.data && Zs.rows == ns && Ze.rows == ne && Zs.cols == Ze.cols) {
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
        r->view_separate = false;
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
