/* Heterogeneous mappings (tl/feature.h): source and target rows of different widths mapped into
 * one shared space, each domain by its own linear map z = x W[dom] - offset (then optionally
 * L2-normalised). Fitted on labelled source rows, a few labelled target rows per class and the
 * unlabelled target rows, which are pseudo-labelled over a few rounds.
 *
 * CDSPP (Wang & Breckon, "Cross-domain structure preserving projection for heterogeneous domain
 * adaptation", Pattern Recognition 123, 2022; the authors' CDLPP.m / HDA_CDLPP.m). With W the
 * same-class indicator within each domain, Wc the one across domains, D the degrees and
 *   A_s = Xs^T (Ds - Ws + lambda Dc_s) Xs + alpha I,  A_t likewise,  B = Xs^T Wc Xt,
 * the projections [Ps; Pt] are the top eigenvectors of [0 B; B^T 0] p = mu blkdiag(A_s, A_t) p.
 * Every matrix here is a sum over classes, so nothing n x n is formed: with S_k the class sums of
 * domain k's rows, Xs^T Ws Xs = S_s^T S_s and B = S_s^T S_t. Writing A_k = R_k^2 (R_k = A_k^{1/2}),
 * the pencil becomes [0 K; K^T 0] with K = R_s^{-1} B R_t^{-1}, whose eigenpairs are K's singular
 * triplets: Ps = R_s^{-1} u, Pt = R_t^{-1} v, exactly, in closed form. The eigenvectors with a
 * non-zero eigenvalue lie in the span of the rows (push-through identity), so each domain is
 * first reduced to an orthonormal basis of its rows' span (Gram matrix eigen-decomposition when
 * rows < width): a 4096-wide DeCAF target with 300 rows costs a 300 x 300 problem, not 4896^2.
 * Pseudo-labels: the authors' nearest class mean on centred, L2-normalised projections, with the
 * most confident share 1 - p of each predicted class kept, p = 1 - round/rounds.
 *
 * CDLS (Tsai, Yeh & Wang, "Learning cross-domain landmarks for heterogeneous domain adaptation",
 * CVPR 2016; the authors' CDLS.m and construct_*.m). The shared space is the target's PCA space
 * (Pt, m columns); the source map is the ridge regression
 *   Ps = (Xs^T H_ss Xs + rho I)^{-1} (Xs^T H_sl Xl + Xs^T H_su Xu) Pt
 * whose correspondence matrices H match the weighted means, class means and same-class pairs of
 * the two domains; it is solved in the dual, Ps = Xs^T (H_ss Xs Xs^T + rho I)^{-1} R, an ns x ns
 * system. With delta < 1 the landmark weights alpha (source rows) and beta (unlabelled target
 * rows) follow from the authors' QP (0 <= w <= 1, a share delta of each class), solved here by
 * projected gradient with an exact projection onto each class's box-and-sum set. Deviations from
 * the authors' code, each for a stated reason: pseudo-labels come from the nearest class mean
 * (source and labelled target class means averaged) instead of a weighted SVM, which libtl's
 * feature module does not depend on; the QP's pair term counts same-class pairs only (the
 * authors' matrix also adds the diagonal of other classes' pairs, which their objective does
 * not contain); the global MMD's beta-beta block is b0^2 K (the authors' a0 b0 is not the
 * expansion of their objective). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_internal.h"
#include "internal/check.h"
#include "tl/data.h"

struct tl_hetero {
    tl_hetero_params p;
    size_t d_in[2];  /* source, target widths */
    size_t d_out;
    tl_mat W[2];     /* (d_in[k], d_out) */
    double *offset;  /* (d_out), subtracted after the projection; NULL: none */
    int *pseudo;     /* (n_pseudo) the unlabelled rows' last pseudo-labels */
    size_t n_pseudo;
};

static const char *const hetero_names[] = {"cdspp", "cdls"};

const char *tl_hetero_method_name(tl_hetero_method m) {
    return (int)m >= 0 && (size_t)m < 2 ? hetero_names[m] : "unknown";
}

tl_hetero_params tl_hetero_params_default(tl_hetero_method m) {
    tl_hetero_params p;
    memset(&p, 0, sizeof p);
    p.method = m;
    p.iters = 5;
    p.delta = 1;
    p.l2_embed = true;
    p.lambda = 0.5;
    if (m == TL_HETERO_CDSPP) {
        p.dim = 10;  /* the authors' Office+Caltech setting (one per class) */
        p.alpha = 10;
    } else {
        p.dim = 100; /* the authors' PCA dimension */
        p.alpha = 0.5;
    }
    return p;
}

tl_status tl_hetero_params_check(const tl_hetero_params *p) {
    tl_status st = TL_OK;
    TL_CHECK(p, TL_ERR_INVALID_ARG, "hetero: NULL parameters");
    TL_CHECK(p->method == TL_HETERO_CDSPP || p->method == TL_HETERO_CDLS, TL_ERR_INVALID_ARG,
             "hetero: unknown method %d", (int)p->method);
    TL_CHECK(p->dim >= 1, TL_ERR_INVALID_ARG, "%s: dim must be at least 1",
             tl_hetero_method_name(p->method));
    TL_CHECK(isfinite(p->alpha) && p->alpha > 0, TL_ERR_INVALID_ARG,
             "%s: alpha must be a positive number (got %g)", tl_hetero_method_name(p->method),
             p->alpha);
    TL_CHECK(isfinite(p->lambda) && p->lambda >= 0, TL_ERR_INVALID_ARG,
             "%s: lambda must be >= 0 (got %g)", tl_hetero_method_name(p->method), p->lambda);
    TL_CHECK(p->iters >= 1 && p->iters <= 1000, TL_ERR_INVALID_ARG,
             "%s: iters must be in [1, 1000] (got %d)", tl_hetero_method_name(p->method), p->iters);
    TL_CHECK(isfinite(p->delta) && p->delta > 0 && p->delta <= 1, TL_ERR_INVALID_ARG,
             "%s: delta must be in (0, 1] (got %g)", tl_hetero_method_name(p->method), p->delta);
done:
    return st;
}

void tl_hetero_free(tl_hetero *h) {
    if (!h) return;
    tl_mat_free(&h->W[0]);
    tl_mat_free(&h->W[1]);
    tl_free(h->offset);
    tl_free(h->pseudo);
    tl_free(h);
}

size_t tl_hetero_dim(const tl_hetero *h) { return h ? h->d_out : 0; }
size_t tl_hetero_input_dim(const tl_hetero *h, size_t dom) {
    return h && dom < 2 ? h->d_in[dom] : 0;
}
tl_hetero_method tl_hetero_get_method(const tl_hetero *h) {
    return h ? h->p.method : TL_HETERO_CDSPP;
}
const int *tl_hetero_pseudo_labels(const tl_hetero *h, size_t *n) {
    if (n) *n = h ? h->n_pseudo : 0;
    return h && h->n_pseudo ? h->pseudo : NULL;
}

/* ---- small helpers ---- */

static void l2_rows(tl_mat Z) {
    for (size_t i = 0; i < Z.rows; i++) {
        double s = 0, *z = &TL_AT(Z, i, 0);
        for (size_t j = 0; j < Z.cols; j++) s += z[j] * z[j];
        if (s > 0) {
            s = 1 / sqrt(s);
            for (size_t j = 0; j < Z.cols; j++) z[j] *= s;
        }
    }
}

/* Rows A (na, d) then B (nb, d) stacked into a new (na + nb, d) matrix. */
static tl_status stack_rows(tl_mat A, tl_mat B, tl_mat *out) {
    tl_status st = TL_OK;
    TL_TRY(tl_mat_alloc(out, A.rows + B.rows, A.cols));
    for (size_t i = 0; i < A.rows; i++) memcpy(&TL_AT(*out, i, 0), &TL_AT(A, i, 0), A.cols * 8);
    for (size_t i = 0; i < B.rows; i++)
        memcpy(&TL_AT(*out, A.rows + i, 0), &TL_AT(B, i, 0), B.cols * 8);
done:
    return st;
}

/* An orthonormal basis Q (d, r) of the span of X's rows and the rows' coordinates Y = X Q
 * (n, r). When n >= d the basis is the identity: Q is left empty (data NULL) and Y is a copy of
 * X. Otherwise G = X X^T = U diag(l) U^T, Q = X^T U l^{-1/2}, Y = U l^{1/2}, keeping the
 * eigenvalues above 1e-10 of the largest. */
static tl_status row_basis(tl_mat X, tl_mat *Q, tl_mat *Y) {
    tl_status st = TL_OK;
    tl_mat G = {0, 0, 0, NULL}, U = {0, 0, 0, NULL};
    double *w = NULL;
    size_t n = X.rows, d = X.cols;
    memset(Q, 0, sizeof *Q);
    if (n >= d) {
        TL_TRY(tl_mat_clone(Y, X));
        goto done;
    }
    TL_TRY(tl_mat_alloc(&G, n, n));
    TL_TRY(tl_syrk(TL_NOTRANS, 1.0, X, 0.0, G));
    TL_ALLOC(w, n);
    TL_TRY(tl_mat_alloc(&U, n, n));
    TL_TRY(tl_eig_sym(G, TL_EIG_LARGEST, n, w, U));
    size_t r = 0;
    while (r < n && w[r] > 1e-10 * w[0] && w[r] > 0) r++;
    TL_CHECK(r > 0, TL_ERR_INVALID_ARG, "hetero: the rows are all zero");
    TL_TRY(tl_mat_alloc(Y, n, r));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r; j++) TL_AT(*Y, i, j) = TL_AT(U, i, j) * sqrt(w[j]);
    /* Q = X^T (U l^{-1/2}) */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r; j++) TL_AT(U, i, j) /= sqrt(w[j]);
    TL_TRY(tl_mat_alloc(Q, d, r));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, X, tl_mat_cols(U, 0, r), 0.0, *Q));
done:
    tl_mat_free(&G);
    tl_mat_free(&U);
    tl_free(w);
    if (st != TL_OK) {
        tl_mat_free(Q);
        tl_mat_free(Y);
    }
    return st;
}

/* W (d, k) = Q P, or a copy of P when Q is the identity (data NULL). */
static tl_status lift(tl_mat Q, tl_mat P, tl_mat *W) {
    tl_status st = TL_OK;
    if (!Q.data) return tl_mat_clone(W, P);
    TL_TRY(tl_mat_alloc(W, Q.rows, P.cols));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Q, P, 0.0, *W));
done:
    return st;
}

/* Class indices of labels y (n) among cls (c); TL_ERR_LABEL naming `what` for a label the
 * source lacks. */
static tl_status class_index(const int *y, size_t n, const int *cls, size_t c, const char *what,
                             int *out) {
    for (size_t i = 0; i < n; i++) {
        long q = tl_labels_index(cls, c, y[i]);
        if (q < 0)
            return tl_fail(TL_ERR_LABEL,
                           "hetero: %s row %zu has label %d, which no source row has", what, i,
                           y[i]);
        out[i] = (int)q;
    }
    return TL_OK;
}

/* Nearest class mean on the rows of Z (n, k) (already centred and L2-normalised): means of the
 * rows Zm (m, k) with classes cm (-1: skipped) and weights wm (NULL: 1), each class's mean
 * L2-normalised; pred (n) and the softmax of minus the distances' winning share prob (n). */
static tl_status nearest_mean(tl_mat Zm, const int *cm, const double *wm, size_t c, tl_mat Z,
                              int *pred, double *prob) {
    tl_status st = TL_OK;
    tl_mat M = {0, 0, 0, NULL}, D = {0, 0, 0, NULL};
    double *cnt = NULL;
    size_t k = Z.cols;
    TL_TRY(tl_mat_alloc(&M, c, k));
    TL_CALLOC(cnt, c);
    for (size_t i = 0; i < Zm.rows; i++) {
        if (cm[i] < 0) continue;
        double w = wm ? wm[i] : 1;
        for (size_t j = 0; j < k; j++) TL_AT(M, cm[i], j) += w * TL_AT(Zm, i, j);
        cnt[cm[i]] += w;
    }
    l2_rows(M);
    TL_TRY(tl_mat_alloc(&D, Z.rows, c));
    TL_TRY(tl_sqdist(Z, M, D));
    for (size_t i = 0; i < Z.rows; i++) {
        double best = HUGE_VAL, sum = 0;
        int arg = 0;
        for (size_t q = 0; q < c; q++) {
            if (cnt[q] <= 0) continue;
            double dq = sqrt(TL_AT(D, i, q));
            if (dq < best) best = dq, arg = (int)q;
        }
        for (size_t q = 0; q < c; q++)
            if (cnt[q] > 0) sum += exp(-(sqrt(TL_AT(D, i, q)) - best));
        pred[i] = arg;
        prob[i] = 1 / sum;
    }
done:
    tl_mat_free(&M);
    tl_mat_free(&D);
    tl_free(cnt);
    return st;
}

/* The authors' progressive selection: within each predicted class, the rows whose confidence is
 * at least the (floor(n_c p) + 1)-th smallest are kept (sel[i] = class) and the others dropped
 * (sel[i] = -1); p = 0 keeps every row. */
typedef struct {
    double p;
    size_t i;
} conf_row;
static int cmp_conf(const void *a, const void *b) {
    double x = ((const conf_row *)a)->p, y = ((const conf_row *)b)->p;
    return x < y ? -1 : x > y;
}
static tl_status select_confident(const int *pred, const double *prob, size_t n, size_t c,
                                  double p, int *sel) {
    tl_status st = TL_OK;
    conf_row *r = NULL;
    TL_ALLOC(r, n ? n : 1);
    for (size_t q = 0; q < c; q++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (pred[i] == (int)q) r[m].p = prob[i], r[m].i = i, m++;
        if (!m) continue;
        qsort(r, m, sizeof *r, cmp_conf);
        size_t at = (size_t)floor((double)m * p) + 1;
        if (at > m) at = m;
        double thr = r[at - 1].p;
        for (size_t t = 0; t < m; t++) sel[r[t].i] = r[t].p >= thr ? (int)q : -1;
    }
done:
    tl_free(r);
    return st;
}

/* Centre Z's rows by off (k) and L2-normalise them, in place. */
static void centre_l2(tl_mat Z, const double *off) {
    for (size_t i = 0; i < Z.rows; i++)
        for (size_t j = 0; j < Z.cols; j++) TL_AT(Z, i, j) -= off[j];
    l2_rows(Z);
}

/* ---- CDSPP ---- */

/* A (r, r) = sum_i deg_i y_i y_i^T - S^T S + alpha I over the rows of Y (n, r) whose class
 * cl[i] >= 0, deg_i = own[c] + lambda * other[c]; S (classes, r) the class sums. */
static tl_status cdspp_scatter(tl_mat Y, const int *cl, const double *own, const double *other,
                               double lambda, double alpha, tl_mat A, tl_mat S) {
    tl_status st = TL_OK;
    tl_mat Yw = {0, 0, 0, NULL};
    size_t n = Y.rows, r = Y.cols;
    TL_TRY(tl_mat_alloc(&Yw, n ? n : 1, r));
    tl_mat_fill(S, 0);
    for (size_t i = 0; i < n; i++) {
        if (cl[i] < 0) continue;
        double dg = sqrt(own[cl[i]] + lambda * other[cl[i]]);
        for (size_t j = 0; j < r; j++) {
            TL_AT(Yw, i, j) = dg * TL_AT(Y, i, j);
            TL_AT(S, cl[i], j) += TL_AT(Y, i, j);
        }
    }
    TL_TRY(tl_syrk(TL_TRANS, 1.0, tl_mat_rows(Yw, 0, n), 0.0, A));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, -1.0, S, S, 1.0, A));
    for (size_t j = 0; j < r; j++) TL_AT(A, j, j) += alpha;
done:
    tl_mat_free(&Yw);
    return st;
}

static tl_status fit_cdspp(tl_hetero *h, tl_mat Xs, const int *cs, tl_mat Xt, int *ct,
                           size_t nl, size_t c) {
    tl_status st = TL_OK;
    const tl_hetero_params *p = &h->p;
    tl_mat Qs = {0}, Ys = {0}, Qt = {0}, Yt = {0}, As = {0}, At = {0}, Ss = {0}, St = {0};
    tl_mat Ris = {0}, Rit = {0}, Gs = {0}, Gt = {0}, K = {0}, U = {0}, Vt = {0}, Ps = {0}, Pt = {0};
    tl_mat Zs = {0}, Zt = {0};
    double *ns_c = NULL, *nt_c = NULL, *sv = NULL, *prob = NULL;
    int *pred = NULL;
    size_t ns = Xs.rows, nt = Xt.rows, nu = nt - nl;
    TL_TRY(row_basis(Xs, &Qs, &Ys));
    TL_TRY(row_basis(Xt, &Qt, &Yt));
    size_t rs = Ys.cols, rt = Yt.cols, kk = rs < rt ? rs : rt;
    size_t dim = p->dim;
    if (dim > c) dim = c; /* the cross-domain term has rank <= classes */
    if (dim > kk) dim = kk;
    TL_CALLOC(ns_c, c);
    TL_CALLOC(nt_c, c);
    TL_ALLOC(sv, kk);
    TL_ALLOC(prob, nu ? nu : 1);
    TL_ALLOC(pred, nu ? nu : 1);
    for (size_t i = 0; i < ns; i++) ns_c[cs[i]] += 1;
    TL_TRY(tl_mat_alloc(&As, rs, rs));
    TL_TRY(tl_mat_alloc(&At, rt, rt));
    TL_TRY(tl_mat_alloc(&Ss, c, rs));
    TL_TRY(tl_mat_alloc(&St, c, rt));
    TL_TRY(tl_mat_alloc(&Ris, rs, rs));
    TL_TRY(tl_mat_alloc(&Rit, rt, rt));
    TL_TRY(tl_mat_alloc(&Gs, rs, c));
    TL_TRY(tl_mat_alloc(&Gt, rt, c));
    TL_TRY(tl_mat_alloc(&K, rs, rt));
    TL_TRY(tl_mat_alloc(&U, rs, kk));
    TL_TRY(tl_mat_alloc(&Vt, kk, rt));
    TL_TRY(tl_mat_alloc(&Ps, rs, dim));
    TL_TRY(tl_mat_alloc(&Pt, rt, dim));
    TL_TRY(tl_mat_alloc(&Zs, ns, dim));
    TL_TRY(tl_mat_alloc(&Zt, nt, dim));
    TL_CALLOC(h->offset, dim);
    for (int it = 1; it <= p->iters; it++) {
        memset(nt_c, 0, c * sizeof *nt_c);
        for (size_t i = 0; i < nt; i++)
            if (ct[i] >= 0) nt_c[ct[i]] += 1;
        TL_TRY(cdspp_scatter(Ys, cs, ns_c, nt_c, p->lambda, p->alpha, As, Ss));
        TL_TRY(cdspp_scatter(Yt, ct, nt_c, ns_c, p->lambda, p->alpha, At, St));
        /* A^{-1/2}: A is alpha I plus a positive semi-definite part */
        TL_TRY(tl_sym_pow(As, -0.5, 1e-12, Ris));
        TL_TRY(tl_sym_pow(At, -0.5, 1e-12, Rit));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, Ris, Ss, 0.0, Gs));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, Rit, St, 0.0, Gt));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, Gs, Gt, 0.0, K));
        TL_TRY(tl_svd(K, U, sv, Vt));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ris, tl_mat_cols(U, 0, dim), 0.0, Ps));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, Rit, tl_mat_rows(Vt, 0, dim), 0.0, Pt));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ys, Ps, 0.0, Zs));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Yt, Pt, 0.0, Zt));
        /* the offset: the mean of the rows the projection was fitted on */
        size_t cnt = ns;
        memset(h->offset, 0, dim * sizeof *h->offset);
        for (size_t i = 0; i < ns; i++)
            for (size_t j = 0; j < dim; j++) h->offset[j] += TL_AT(Zs, i, j);
        for (size_t i = 0; i < nt; i++) {
            if (ct[i] < 0) continue;
            cnt++;
            for (size_t j = 0; j < dim; j++) h->offset[j] += TL_AT(Zt, i, j);
        }
        for (size_t j = 0; j < dim; j++) h->offset[j] /= (double)cnt;
        if (it == p->iters || nu == 0) break;
        /* pseudo-label the unlabelled rows; keep the most confident share of each class */
        centre_l2(Zs, h->offset);
        centre_l2(Zt, h->offset);
        {
            tl_mat Zm = {0};
            int *cm = NULL;
            st = stack_rows(Zs, tl_mat_rows(Zt, 0, nt), &Zm);
            if (st == TL_OK) {
                cm = tl_malloc((ns + nt) * sizeof *cm);
                if (!cm) st = tl_fail(TL_ERR_NOMEM, "cdspp: out of memory");
            }
            if (st == TL_OK) {
                memcpy(cm, cs, ns * sizeof *cm);
                memcpy(cm + ns, ct, nt * sizeof *cm);
                st = nearest_mean(Zm, cm, NULL, c, tl_mat_rows(Zt, nl, nu), pred, prob);
            }
            tl_mat_free(&Zm);
            tl_free(cm);
            if (st != TL_OK) goto done;
        }
        double share = 1.0 - (double)it / (double)p->iters;
        TL_TRY(select_confident(pred, prob, nu, c, share < 0 ? 0 : share, ct + nl));
    }
    h->d_out = dim;
    TL_TRY(lift(Qs, Ps, &h->W[0]));
    TL_TRY(lift(Qt, Pt, &h->W[1]));
    /* sign: the first nonzero source coefficient of each direction made positive (the authors'
       convention; both domains flip together, so the space is the same) */
    for (size_t j = 0; j < dim; j++) {
        double first = 0;
        for (size_t i = 0; i < h->W[0].rows && first == 0; i++) first = TL_AT(h->W[0], i, j);
        if (first < 0) {
            for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < h->W[k].rows; i++) TL_AT(h->W[k], i, j) = -TL_AT(h->W[k], i, j);
            h->offset[j] = -h->offset[j];
        }
    }
    h->n_pseudo = nu;
    if (nu) {
        TL_ALLOC(h->pseudo, nu);
        for (size_t i = 0; i < nu; i++) h->pseudo[i] = ct[nl + i];
    }
done:;
    tl_mat *all[] = {&Qs, &Ys, &Qt, &Yt, &As, &At, &Ss, &St, &Ris, &Rit,
                     &Gs, &Gt, &K,  &U,  &Vt, &Ps, &Pt, &Zs, &Zt};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tl_mat_free(all[i]);
    tl_free(ns_c);
    tl_free(nt_c);
    tl_free(sv);
    tl_free(prob);
    tl_free(pred);
    return st;
}

/* ---- CDLS ---- */

/* The correspondence matrices of the authors' construct_correspondence_*: source rows with
 * classes cs (ns) and weights al, labelled target rows with classes cl (nl), unlabelled rows
 * with pseudo-classes cu (nu; -1: none yet, counted only in the marginal term) and weights be.
 *   Hss(i,i') = al_i al_i' / A0^2 + [same class] ac^2 al_i al_i' + [i = i'] ec (sb + nl_c) al_i
 *   Hsl(i,l)  = al_i / (A0 B0) + [same class] (ac bc + ec) al_i
 *   Hsu(i,j)  = al_i be_j / (A0 B0) + [same class] (ac bc + ec) al_i be_j
 * A0 = sum al, B0 = sum be + nl; per class sa = sum al, sb = sum be, ac = 1/sa,
 * bc = 1/(sb + nl_c), ec = 1/(sa sb + sb nl_c + nl_c sa) (0 where a sum is 0). */
typedef struct {
    double *ac, *bc, *ec, *sa, *sb, *nlc; /* (c) each */
} cdls_cls;

static void cdls_class_sums(const int *cs, const double *al, size_t ns, const int *cl, size_t nl,
                            const int *cu, const double *be, size_t nu, size_t c, cdls_cls *k) {
    for (size_t q = 0; q < c; q++) k->sa[q] = k->sb[q] = k->nlc[q] = 0;
    for (size_t i = 0; i < ns; i++) k->sa[cs[i]] += al[i];
    for (size_t i = 0; i < nl; i++) k->nlc[cl[i]] += 1;
    for (size_t i = 0; i < nu; i++)
        if (cu[i] >= 0) k->sb[cu[i]] += be[i];
    for (size_t q = 0; q < c; q++) {
        double den = k->sa[q] * k->sb[q] + k->sb[q] * k->nlc[q] + k->nlc[q] * k->sa[q];
        k->ac[q] = k->sa[q] > 0 ? 1 / k->sa[q] : 0;
        k->bc[q] = k->sb[q] + k->nlc[q] > 0 ? 1 / (k->sb[q] + k->nlc[q]) : 0;
        k->ec[q] = den > 0 ? 1 / den : 0;
    }
}

static void cdls_corr(const int *cs, const double *al, size_t ns, const int *cl, size_t nl,
                      const int *cu, const double *be, size_t nu, const cdls_cls *k, tl_mat Hss,
                      tl_mat Hsl, tl_mat Hsu) {
    double A0 = 0, B0 = (double)nl;
    for (size_t i = 0; i < ns; i++) A0 += al[i];
    for (size_t j = 0; j < nu; j++) B0 += be[j];
    double g = A0 > 0 ? 1 / A0 : 0, gb = A0 > 0 && B0 > 0 ? 1 / (A0 * B0) : 0;
    for (size_t i = 0; i < ns; i++) {
        int q = cs[i];
        for (size_t t = 0; t < ns; t++) {
            double v = g * g * al[i] * al[t];
            if (cs[t] == q) v += k->ac[q] * k->ac[q] * al[i] * al[t];
            if (t == i) v += k->ec[q] * (k->sb[q] + k->nlc[q]) * al[i];
            TL_AT(Hss, i, t) = v;
        }
        for (size_t l = 0; l < nl; l++)
            TL_AT(Hsl, i, l) =
                gb * al[i] + (cl[l] == q ? (k->ac[q] * k->bc[q] + k->ec[q]) * al[i] : 0);
        for (size_t j = 0; j < nu; j++)
            TL_AT(Hsu, i, j) = gb * al[i] * be[j] +
                               (cu[j] == q ? (k->ac[q] * k->bc[q] + k->ec[q]) * al[i] * be[j] : 0);
    }
}

/* Euclidean projection of v (m) onto {0 <= z <= 1, sum z = s} (0 <= s <= m), in place: z =
 * clip(v - tau, 0, 1) with tau found by bisection. */
static void project_box_sum(double *v, const size_t *idx, size_t m, double s) {
    if (!m) return;
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (size_t t = 0; t < m; t++) {
        if (v[idx[t]] < lo) lo = v[idx[t]];
        if (v[idx[t]] > hi) hi = v[idx[t]];
    }
    lo -= 1; /* every entry clipped to 1: sum m >= s */
    for (int it = 0; it < 100; it++) {
        double tau = 0.5 * (lo + hi), sum = 0;
        for (size_t t = 0; t < m; t++) {
            double z = v[idx[t]] - tau;
            sum += z < 0 ? 0 : z > 1 ? 1 : z;
        }
        if (sum > s) lo = tau;
        else hi = tau;
    }
    double tau = 0.5 * (lo + hi);
    for (size_t t = 0; t < m; t++) {
        double z = v[idx[t]] - tau;
        v[idx[t]] = z < 0 ? 0 : z > 1 ? 1 : z;
    }
}

/* The landmark QP (the authors' QP_choose_source_unlabel, corrected as the file comment says):
 * minimise 1/2 z^T H z + f^T z over z = [al (ns); be (nu)], 0 <= z <= 1, each class's share
 * sum = delta n_c (source classes cs; unlabelled rows by their pseudo-classes cu), on the linear
 * kernel of the rows in the shared space: E = [Zs; Zl; Zu]. Projected gradient, step 1/|H|. */
static tl_status cdls_landmarks(tl_mat E, const int *cs, size_t ns, const int *cl, size_t nl,
                                const int *cu, size_t nu, size_t c, double delta, double *al,
                                double *be) {
    tl_status st = TL_OK;
    size_t N = ns + nl + nu, n = ns + nu;
    tl_mat K = {0}, H = {0};
    double *f = NULL, *z = NULL, *gr = NULL, *nsc = NULL, *nuc = NULL, *nlc = NULL, ev[1];
    size_t *idx = NULL;
    TL_TRY(tl_mat_alloc(&K, N, N));
    TL_TRY(tl_syrk(TL_NOTRANS, 1.0, E, 0.0, K));
    TL_TRY(tl_mat_alloc(&H, n, n));
    TL_CALLOC(f, n);
    TL_ALLOC(z, n);
    TL_ALLOC(gr, n);
    TL_CALLOC(nsc, c);
    TL_CALLOC(nuc, c);
    TL_CALLOC(nlc, c);
    TL_ALLOC(idx, n);
    for (size_t i = 0; i < ns; i++) nsc[cs[i]] += 1;
    for (size_t i = 0; i < nl; i++) nlc[cl[i]] += 1;
    for (size_t i = 0; i < nu; i++) nuc[cu[i]] += 1;
    double a0 = 1 / ((double)ns * delta), b0 = 1 / ((double)nu * delta + (double)nl);
    /* row r of z: class and kernel index */
#define ZCLS(r) ((r) < ns ? cs[r] : cu[(r) - ns])
#define ZK(r) ((r) < ns ? (r) : nl + (r))
    for (size_t r = 0; r < n; r++) {
        int q = ZCLS(r);
        double ac = 1 / (nsc[q] * delta), bc = 1 / (nuc[q] * delta + nlc[q]);
        double tp1 = nsc[q] * delta, tp2 = nuc[q] * delta;
        double den = tp1 * tp2 + tp2 * nlc[q] + nlc[q] * tp1, ec = den > 0 ? 1 / den : 0;
        bool src = r < ns;
        size_t kr = ZK(r);
        for (size_t t = 0; t < n; t++) {
            int qt = ZCLS(t);
            bool srct = t < ns, same = qt == q;
            size_t kt = ZK(t);
            double kv = TL_AT(K, kr, kt), v;
            if (src && srct) v = a0 * a0 * kv + (same ? ac * ac * kv : 0);
            else if (!src && !srct) v = b0 * b0 * kv + (same ? bc * bc * kv : 0);
            else {
                v = -a0 * b0 * kv;
                if (same)
                    v += -ac * bc * kv +
                         ec * (0.5 * (TL_AT(K, kr, kr) + TL_AT(K, kt, kt)) - kv);
            }
            TL_AT(H, r, t) = v;
        }
        double fv = 0;
        for (size_t l = 0; l < nl; l++) {
            double kv = TL_AT(K, kr, ns + l);
            bool same = cl[l] == q;
            if (src) fv += -a0 * b0 * kv + (same ? -ac * bc * kv : 0);
            else fv += b0 * b0 * kv + (same ? bc * bc * kv : 0);
            if (same) fv += ec * (0.5 * (TL_AT(K, kr, kr) + TL_AT(K, ns + l, ns + l)) - kv);
        }
        f[r] = fv;
    }
#undef ZCLS
#undef ZK
    /* the step: 1 / the largest |eigenvalue| */
    double big = 0;
    TL_TRY(tl_eig_sym(H, TL_EIG_LARGEST, 1, ev, (tl_mat){n, 1, 1, NULL}));
    big = fabs(ev[0]);
    TL_TRY(tl_eig_sym(H, TL_EIG_SMALLEST, 1, ev, (tl_mat){n, 1, 1, NULL}));
    if (fabs(ev[0]) > big) big = fabs(ev[0]);
    double step = big > 0 ? 1 / big : 1;
    for (size_t r = 0; r < n; r++) z[r] = delta;
    for (int it = 0; it < 500; it++) {
        for (size_t r = 0; r < n; r++) gr[r] = f[r];
        TL_TRY(tl_gemv(TL_NOTRANS, 1.0, H, z, 1.0, gr));
        double moved = 0;
        for (size_t r = 0; r < n; r++) gr[r] = z[r] - step * gr[r];
        /* project each group (source class q, unlabelled class q) */
        for (size_t q = 0; q < c; q++)
            for (int side = 0; side < 2; side++) {
                size_t m = 0;
                for (size_t r = side ? ns : 0; r < (side ? n : ns); r++)
                    if ((side ? cu[r - ns] : cs[r]) == (int)q) idx[m++] = r;
                project_box_sum(gr, idx, m, delta * (double)m);
            }
        for (size_t r = 0; r < n; r++) {
            moved = fmax(moved, fabs(gr[r] - z[r]));
            z[r] = gr[r];
        }
        if (moved < 1e-9) break;
    }
    memcpy(al, z, ns * sizeof *al);
    memcpy(be, z + ns, nu * sizeof *be);
done:
    tl_mat_free(&K);
    tl_mat_free(&H);
    tl_free(f);
    tl_free(z);
    tl_free(gr);
    tl_free(nsc);
    tl_free(nuc);
    tl_free(nlc);
    tl_free(idx);
    return st;
}

static tl_status fit_cdls(tl_hetero *h, tl_mat Xs, const int *cs, tl_mat Xl, const int *cl,
                          tl_mat Xu, size_t c) {
    tl_status st = TL_OK;
    const tl_hetero_params *p = &h->p;
    size_t ns = Xs.rows, nl = Xl.rows, nu = Xu.rows, nt = nl + nu, dt = Xl.cols;
    tl_mat Pt = {0}, Zt = {0}, G = {0}, Hss = {0}, Hsl = {0}, Hsu = {0}, R = {0}, M = {0}, Y = {0};
    tl_mat Zs = {0}, E = {0};
    double *mean = NULL, *al = NULL, *be = NULL, *wm = NULL, *prob = NULL;
    int *cu = NULL, *cm = NULL;
    cdls_cls k = {0};
    size_t m = p->dim;
    if (m > dt) m = dt;
    if (m + 1 > nt) m = nt > 1 ? nt - 1 : 1;
    /* the shared space: the target's principal directions (rows projected uncentred, as the
       authors' code does) */
    TL_ALLOC(mean, dt);
    TL_TRY(tl_mat_alloc(&Pt, dt, m));
    TL_TRY(tlf_pca_basis(Xl, Xu, m, mean, Pt));
    TL_TRY(tl_mat_alloc(&Zt, nt, m));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Xl, Pt, 0.0, tl_mat_rows(Zt, 0, nl)));
    if (nu) TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Xu, Pt, 0.0, tl_mat_rows(Zt, nl, nu)));
    TL_TRY(tl_mat_alloc(&G, ns, ns));
    TL_TRY(tl_syrk(TL_NOTRANS, 1.0, Xs, 0.0, G));
    TL_TRY(tl_mat_alloc(&Hss, ns, ns));
    TL_TRY(tl_mat_alloc(&Hsl, ns, nl));
    TL_TRY(tl_mat_alloc(&Hsu, ns, nu ? nu : 1));
    TL_TRY(tl_mat_alloc(&R, ns, m));
    TL_TRY(tl_mat_alloc(&M, ns, ns));
    TL_TRY(tl_mat_alloc(&Zs, ns, m));
    TL_ALLOC(al, ns);
    TL_ALLOC(be, nu ? nu : 1);
    TL_ALLOC(cu, nu ? nu : 1);
    TL_ALLOC(prob, nu ? nu : 1);
    TL_ALLOC(wm, ns + nt);
    TL_ALLOC(cm, ns + nt);
    TL_ALLOC(k.ac, c);
    TL_ALLOC(k.bc, c);
    TL_ALLOC(k.ec, c);
    TL_ALLOC(k.sa, c);
    TL_ALLOC(k.sb, c);
    TL_ALLOC(k.nlc, c);
    for (size_t i = 0; i < ns; i++) al[i] = 1;
    for (size_t j = 0; j < nu; j++) be[j] = 1, cu[j] = -1;
    for (int it = 1; it <= p->iters; it++) {
        cdls_class_sums(cs, al, ns, cl, nl, cu, be, nu, c, &k);
        cdls_corr(cs, al, ns, cl, nl, cu, be, nu, &k, Hss, Hsl, tl_mat_cols(Hsu, 0, nu));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Hsl, tl_mat_rows(Zt, 0, nl), 0.0, R));
        if (nu)
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, tl_mat_cols(Hsu, 0, nu),
                           tl_mat_rows(Zt, nl, nu), 1.0, R));
        /* Ps = Xs^T (Hss G + alpha I)^{-1} R: the ridge in the dual */
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Hss, G, 0.0, M));
        for (size_t i = 0; i < ns; i++) TL_AT(M, i, i) += p->alpha;
        tl_mat_free(&Y);
        TL_TRY(tl_mat_clone(&Y, R));
        TL_TRY(tl_solve(M, Y));
        if (it == p->iters || nu == 0) break;
        /* pseudo-labels: nearest class mean (source and labelled target means averaged) on
           L2-normalised rows of the shared space */
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, G, Y, 0.0, Zs));
        tl_mat_free(&E);
        TL_TRY(stack_rows(Zs, Zt, &E));
        l2_rows(E);
        for (size_t i = 0; i < ns; i++) cm[i] = cs[i], wm[i] = al[i] * k.ac[cs[i]];
        for (size_t i = 0; i < nl; i++)
            cm[ns + i] = cl[i], wm[ns + i] = k.nlc[cl[i]] > 0 ? 1 / k.nlc[cl[i]] : 0;
        for (size_t i = 0; i < nu; i++) cm[ns + nl + i] = -1, wm[ns + nl + i] = 0;
        TL_TRY(nearest_mean(E, cm, wm, c, tl_mat_rows(E, ns + nl, nu), cu, prob));
        if (p->delta < 1) {
            /* landmarks on the unnormalised rows, as the authors' QP */
            tl_mat_free(&E);
            TL_TRY(stack_rows(Zs, Zt, &E));
            TL_TRY(cdls_landmarks(E, cs, ns, cl, nl, cu, nu, c, p->delta, al, be));
        }
    }
    h->d_out = m;
    TL_TRY(tl_mat_alloc(&h->W[0], Xs.cols, m));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Xs, Y, 0.0, h->W[0]));
    h->W[1] = Pt;
    Pt.data = NULL;
    h->n_pseudo = cu && nu && cu[0] >= 0 ? nu : 0;
    if (h->n_pseudo) {
        TL_ALLOC(h->pseudo, nu);
        memcpy(h->pseudo, cu, nu * sizeof *cu);
    }
done:;
    tl_mat *all[] = {&Pt, &Zt, &G, &Hss, &Hsl, &Hsu, &R, &M, &Y, &Zs, &E};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tl_mat_free(all[i]);
    tl_free(mean);
    tl_free(al);
    tl_free(be);
    tl_free(wm);
    tl_free(prob);
    tl_free(cu);
    tl_free(cm);
    tl_free(k.ac);
    tl_free(k.bc);
    tl_free(k.ec);
    tl_free(k.sa);
    tl_free(k.sb);
    tl_free(k.nlc);
    return st;
}

/* ---- the public fit, transform, save and load ---- */

tl_status tl_hetero_fit(const tl_hetero_params *p, tl_mat Xs, const int *ys, tl_mat Xl,
                        const int *yl, tl_mat Xu, tl_hetero **out) {
    tl_status st = TL_OK;
    tl_hetero *h = NULL;
    tl_mat Xt = {0};
    int *cls = NULL, *cs = NULL, *ct = NULL;
    size_t c = 0;
    TL_CHECK(out, TL_ERR_INVALID_ARG, "hetero_fit: NULL output");
    *out = NULL;
    TL_TRY(tl_hetero_params_check(p));
    const char *nm = tl_hetero_method_name(p->method);
    TL_CHECK(Xs.rows > 0 && ys, TL_ERR_EMPTY, "%s: needs labelled source rows", nm);
    TL_CHECK(Xl.rows > 0 && yl, TL_ERR_EMPTY,
             "%s: needs a few labelled target rows (none were given): they are what ties the "
             "two feature spaces together",
             nm);
    TL_CHECK(Xu.rows == 0 || Xu.cols == Xl.cols, TL_ERR_SHAPE,
             "%s: the unlabelled target rows have %zu features, the labelled ones %zu", nm, Xu.cols,
             Xl.cols);
    TL_CHECK(Xs.cols > 0 && Xl.cols > 0, TL_ERR_SHAPE, "%s: a domain has no features", nm);
    TL_CHECK_INT(Xs.cols, "source features");
    TL_CHECK_INT(Xl.cols, "target features");
    TL_TRY(tl_mat_check_finite(Xs, "hetero: source rows"));
    TL_TRY(tl_mat_check_finite(Xl, "hetero: labelled target rows"));
    TL_TRY(tl_mat_check_finite(Xu, "hetero: unlabelled target rows"));
    TL_TRY(tl_labels_unique(ys, Xs.rows, &cls, NULL, &c));
    TL_CHECK(c >= 2, TL_ERR_LABEL, "%s: the source has %zu class; at least 2 are needed", nm, c);
    TL_ALLOC(cs, Xs.rows);
    TL_ALLOC(ct, Xl.rows + Xu.rows);
    TL_TRY(class_index(ys, Xs.rows, cls, c, "source", cs));
    TL_TRY(class_index(yl, Xl.rows, cls, c, "labelled target", ct));
    for (size_t i = 0; i < Xu.rows; i++) ct[Xl.rows + i] = -1;
    TL_CALLOC(h, 1);
    h->p = *p;
    h->d_in[0] = Xs.cols;
    h->d_in[1] = Xl.cols;
    if (p->method == TL_HETERO_CDSPP) {
        TL_TRY(stack_rows(Xl, Xu.rows ? Xu : (tl_mat){0, Xl.cols, Xl.cols, NULL}, &Xt));
        TL_TRY(fit_cdspp(h, Xs, cs, Xt, ct, Xl.rows, c));
    } else {
        TL_TRY(fit_cdls(h, Xs, cs, Xl, ct, Xu, c));
    }
    for (size_t i = 0; i < h->n_pseudo; i++) h->pseudo[i] = h->pseudo[i] >= 0 ? cls[h->pseudo[i]] : -1;
    *out = h;
    h = NULL;
done:
    tl_hetero_free(h);
    tl_mat_free(&Xt);
    tl_free(cls);
    tl_free(cs);
    tl_free(ct);
    return st;
}

tl_status tl_hetero_transform(const tl_hetero *h, size_t dom, tl_mat X, tl_mat *out) {
    tl_status st = TL_OK;
    tl_mat O = {0};
    TL_CHECK(h && out, TL_ERR_INVALID_ARG, "hetero_transform: NULL model or output");
    TL_CHECK(dom < 2, TL_ERR_INVALID_ARG,
             "%s: domain %zu is neither the source (0) nor the target (1)",
             tl_hetero_method_name(h->p.method), dom);
    TL_CHECK(X.cols == h->d_in[dom], TL_ERR_SHAPE,
             "%s: the %s rows have %zu features, the map was fitted on %zu",
             tl_hetero_method_name(h->p.method), dom ? "target" : "source", X.cols, h->d_in[dom]);
    TL_CHECK(X.rows == 0 || (X.data && X.ld >= X.cols), TL_ERR_INVALID_ARG,
             "hetero_transform: X is not a valid matrix");
    TL_TRY(tl_mat_check_finite(X, "hetero_transform: X"));
    TL_TRY(tl_mat_alloc(&O, X.rows, h->d_out));
    if (X.rows) TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, X, h->W[dom], 0.0, O));
    if (h->offset)
        for (size_t i = 0; i < O.rows; i++)
            for (size_t j = 0; j < O.cols; j++) TL_AT(O, i, j) -= h->offset[j];
    if (h->p.l2_embed) l2_rows(O);
    *out = O;
    O.data = NULL;
done:
    tl_mat_free(&O);
    return st;
}

static tl_status put_mat(tl_tlm *c, const char *name, tl_mat A) {
    size_t dims[2] = {A.rows, A.cols}; /* A is contiguous (allocated here) */
    return tl_tlm_add_tensor(c, name, TL_DTYPE_F64, 2, dims, A.data);
}

tl_status tl_hetero_write(const tl_hetero *h, tl_tlm *c) {
    tl_status st = TL_OK;
    TL_CHECK(h && c, TL_ERR_INVALID_ARG, "hetero_write: NULL model or container");
    TL_TRY(tl_tlm_set_meta(c, "model", "tl_hetero"));
    TL_TRY(tl_tlm_set_meta(c, "libtl_version", tl_version()));
    TL_TRY(tl_tlm_set_meta(c, "method", tl_hetero_method_name(h->p.method)));
    TL_TRY(tl_tlm_set_count(c, "dim", h->p.dim));
    TL_TRY(tl_tlm_set_num(c, "alpha", h->p.alpha));
    TL_TRY(tl_tlm_set_num(c, "lambda", h->p.lambda));
    TL_TRY(tl_tlm_set_num(c, "delta", h->p.delta));
    TL_TRY(tl_tlm_set_count(c, "iters", (unsigned long long)h->p.iters));
    TL_TRY(tl_tlm_set_meta(c, "l2_embed", h->p.l2_embed ? "1" : "0"));
    TL_TRY(tl_tlm_set_count(c, "input_dim_source", h->d_in[0]));
    TL_TRY(tl_tlm_set_count(c, "input_dim_target", h->d_in[1]));
    TL_TRY(tl_tlm_set_count(c, "output_dim", h->d_out));
    TL_TRY(put_mat(c, "proj_source", h->W[0]));
    TL_TRY(put_mat(c, "proj_target", h->W[1]));
    if (h->offset) {
        size_t dims[1] = {h->d_out};
        TL_TRY(tl_tlm_add_tensor(c, "offset", TL_DTYPE_F64, 1, dims, h->offset));
    }
done:
    return st;
}

/* Copies the f64 tensor `key` of shape (rows, cols) (cols 0: a vector of rows) into *out. */
static tl_status get_f64(const tl_tlm *c, const char *name, const char *key, size_t rows,
                         size_t cols, double **out) {
    tl_status st = TL_OK;
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    const void *data;
    *out = NULL;
    st = tl_tlm_get_tensor(c, key, &dt, &nd, &dims, &data);
    if (st != TL_OK) return tl_fail_prefix(st, "%s", name);
    TL_CHECK(dt == TL_DTYPE_F64, TL_ERR_FORMAT, "%s: tensor '%s' is not float64", name, key);
    if (cols == 0)
        TL_CHECK(nd == 1 && dims[0] == rows, TL_ERR_FORMAT,
                 "%s: tensor '%s' should be a vector of %zu", name, key, rows);
    else
        TL_CHECK(nd == 2 && dims[0] == rows && dims[1] == cols, TL_ERR_FORMAT,
                 "%s: tensor '%s' should be %zu x %zu", name, key, rows, cols);
    size_t n = cols ? rows * cols : rows;
    TL_ALLOC(*out, n ? n : 1);
    memcpy(*out, data, n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        TL_CHECK(isfinite((*out)[i]), TL_ERR_FORMAT, "%s: tensor '%s' holds a non-finite value",
                 name, key);
done:
    if (st != TL_OK) {
        tl_free(*out);
        *out = NULL;
    }
    return st;
}

#define TLH_MAX_DIM (1ull << 31)

tl_status tl_hetero_read(const tl_tlm *c, const char *name, tl_hetero **out) {
    tl_status st = TL_OK;
    tl_hetero *h = NULL;
    double *buf = NULL;
    TL_CHECK(c && out, TL_ERR_INVALID_ARG, "hetero_read: NULL container or output");
    *out = NULL;
    if (!name) name = "hetero";
    const char *model = tl_tlm_get_meta(c, "model"), *meth = tl_tlm_get_meta(c, "method"),
               *l2 = tl_tlm_get_meta(c, "l2_embed");
    TL_CHECK(model && strcmp(model, "tl_hetero") == 0, TL_ERR_FORMAT,
             "%s: does not hold a heterogeneous mapping", name);
    TL_CHECK(meth && l2, TL_ERR_FORMAT, "%s: model lacks metadata 'method' or 'l2_embed'", name);
    int mi = -1;
    for (int i = 0; i < 2; i++)
        if (strcmp(meth, hetero_names[i]) == 0) mi = i;
    TL_CHECK(mi >= 0, TL_ERR_FORMAT, "%s: unknown heterogeneous method '%s'", name, meth);
    TL_CHECK(strcmp(l2, "0") == 0 || strcmp(l2, "1") == 0, TL_ERR_FORMAT,
             "%s: metadata 'l2_embed' is '%s', not 0 or 1", name, l2);
    TL_CALLOC(h, 1);
    h->p = tl_hetero_params_default((tl_hetero_method)mi);
    h->p.l2_embed = l2[0] == '1';
    unsigned long long u, ds, dt, dout;
    TL_TRY(tl_tlm_get_count(c, name, "dim", TLH_MAX_DIM, &u));
    h->p.dim = (size_t)u;
    TL_TRY(tl_tlm_get_count(c, name, "iters", 1000, &u));
    h->p.iters = (int)u;
    TL_TRY(tl_tlm_get_num(c, name, "alpha", 0, HUGE_VAL, &h->p.alpha));
    TL_TRY(tl_tlm_get_num(c, name, "lambda", 0, HUGE_VAL, &h->p.lambda));
    TL_TRY(tl_tlm_get_num(c, name, "delta", 0, 1, &h->p.delta));
    TL_TRY(tl_hetero_params_check(&h->p));
    TL_TRY(tl_tlm_get_count(c, name, "input_dim_source", TLH_MAX_DIM, &ds));
    TL_TRY(tl_tlm_get_count(c, name, "input_dim_target", TLH_MAX_DIM, &dt));
    TL_TRY(tl_tlm_get_count(c, name, "output_dim", TLH_MAX_DIM, &dout));
    TL_CHECK(ds && dt && dout, TL_ERR_FORMAT, "%s: a zero width in the model", name);
    h->d_in[0] = (size_t)ds;
    h->d_in[1] = (size_t)dt;
    h->d_out = (size_t)dout;
    TL_TRY(get_f64(c, name, "proj_source", h->d_in[0], h->d_out, &buf));
    h->W[0] = (tl_mat){h->d_in[0], h->d_out, h->d_out, buf};
    TL_TRY(get_f64(c, name, "proj_target", h->d_in[1], h->d_out, &buf));
    h->W[1] = (tl_mat){h->d_in[1], h->d_out, h->d_out, buf};
    buf = NULL;
    if (tl_tlm_get_tensor(c, "offset", NULL, NULL, NULL, NULL) == TL_OK)
        TL_TRY(get_f64(c, name, "offset", h->d_out, 0, &h->offset));
    else
        tl_error_clear();
    *out = h;
    h = NULL;
done:
    tl_hetero_free(h);
    return st;
}
