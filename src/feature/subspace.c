/* Subspace methods: PCA on the pooled domains, Subspace Alignment (Fernando et al. 2013) and the
 * Geodesic Flow Kernel (Gong et al. 2012); CORAL is in coral.c.
 *
 *   PCA:   V = top-k eigenvectors of the pooled covariance; x -> (x - m) V.
 *   SA:    Ps, Pt top-k PCA bases of each domain (centred per domain); source
 *          x -> (x - ms) Ps (Ps^T Pt), target x -> (x - mt) Pt.
 *   GFK:   principal angles from the SVD Ps^T Pt = U1 cos(theta) V^T; with A1 = Ps U1 and
 *          A2 = -(I - Ps Ps^T) Pt V / sin(theta) (= Rs U2 of the paper, so the null space Rs of
 *          Ps^T, D x (D-k), is never formed), G = [A1 A2] [L1 L2; L2 L3] [A1 A2]^T with
 *          L1 = (1 + sin 2t / 2t)/2, L2 = (cos 2t - 1)/(4t), L3 = (1 - sin 2t / 2t)/2 per angle
 *          (the closed form of int_0^1 Phi(t) Phi(t)^T dt). Each 2x2 block is PSD, so its
 *          symmetric square root gives a D x 2k factor L with G = L L^T: x -> x L has Euclidean
 *          distances equal to the G-distances GFK's 1-NN uses, at rank 2k instead of D.
 * Only the k leading directions are computed. Covariances are accumulated from centred row blocks
 * (no cancellation from an uncentred X^T X, no n x d copy) and solved for their top k pairs only
 * (tl_eig_sym's index range). With fewer samples than features the d x d problem would be mostly
 * null space: the centred rows S (n, d) give the n x n Gram G = S S^T instead, whose top pairs
 * G u = s^2 u give the directions v = S^T u / s (the right singular vectors of S: the same
 * subspace as a thin SVD of S, at n^2 d + O(n^3) flops instead of dgesdd's ~ 4 n^2 d + O(n^3), and
 * no n x d factor). Only when a wanted direction has (numerically) no variance, so that v would
 * be noise divided by noise, does the thin SVD decide. */
#include <math.h>
#include <string.h>

#include "feature_internal.h"

#define TLF_COV_BLOCK 2048

/* C (d, d) = sum over the rows x of A and B of (x - mean)(x - mean)^T. */
tl_status tlf_scatter(tl_mat A, tl_mat B, const double *mean, tl_mat C) {
    tl_status st = TL_OK;
    tl_mat T = {0, 0, 0, NULL};
    size_t d = C.cols, n = A.rows + B.rows;
    size_t blk = n < TLF_COV_BLOCK ? n : TLF_COV_BLOCK;
    tl_mat_fill(C, 0.0);
    if (!n) goto done;
    TL_TRY(tl_mat_alloc(&T, blk, d));
    for (int part = 0; part < 2; part++) {
        tl_mat X = part == 0 ? A : B;
        for (size_t r0 = 0; r0 < X.rows; r0 += blk) {
            size_t nb = X.rows - r0 < blk ? X.rows - r0 : blk;
            tl_mat Tv = tl_mat_rows(T, 0, nb);
            for (size_t i = 0; i < nb; i++)
                for (size_t j = 0; j < d; j++) TL_AT(Tv, i, j) = TL_AT(X, r0 + i, j) - mean[j];
            TL_TRY(tl_syrk(TL_TRANS, 1.0, Tv, 1.0, C));
        }
    }
done:
    tl_mat_free(&T);
    return st;
}

void tlf_col_mean(tl_mat A, tl_mat B, double *mean) {
    size_t d = A.cols, n = A.rows + B.rows;
    memset(mean, 0, d * sizeof *mean);
    for (size_t i = 0; i < A.rows; i++)
        for (size_t j = 0; j < d; j++) mean[j] += TL_AT(A, i, j);
    for (size_t i = 0; i < B.rows; i++)
        for (size_t j = 0; j < d; j++) mean[j] += TL_AT(B, i, j);
    for (size_t j = 0; j < d; j++) mean[j] /= (double)(n ? n : 1);
}

/* V (d, k) = the top k right singular vectors of the centred rows S (n, d), n < d, from the
 * Gram matrix (see the top comment). *ok false (V untouched) when s_k^2 is below the Gram's
 * rounding level relative to s_1^2, where S^T u / s is not a reliable direction. */
static tl_status gram_basis(tl_mat S, size_t k, tl_mat V, bool *ok) {
    tl_status st = TL_OK;
    tl_mat G = {0, 0, 0, NULL}, U = {0, 0, 0, NULL};
    double *w = NULL;
    size_t n = S.rows;
    *ok = false;
    TL_TRY(tl_mat_alloc(&G, n, n));
    TL_TRY(tl_syrk(TL_NOTRANS, 1.0, S, 0.0, G));
    TL_ALLOC(w, k);
    TL_TRY(tl_mat_alloc(&U, n, k));
    TL_TRY(tl_eig_sym(G, TL_EIG_LARGEST, k, w, U));
    if (!(w[0] > 0.0) || !(w[k - 1] > 1e-10 * w[0])) goto done;
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, S, U, 0.0, V)); /* S^T U, then / s per column */
    for (size_t j = 0; j < k; j++) {
        double inv = 1.0 / sqrt(w[j]);
        for (size_t i = 0; i < V.rows; i++) TL_AT(V, i, j) *= inv;
    }
    *ok = true;
done:
    tl_mat_free(&G);
    tl_mat_free(&U);
    tl_free(w);
    return st;
}

tl_status tlf_pca_basis(tl_mat A, tl_mat B, size_t k, double *mean, tl_mat V) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL}, S = {0, 0, 0, NULL}, Vt = {0, 0, 0, NULL};
    double *w = NULL;
    size_t d = A.cols, n = A.rows + B.rows;
    TL_CHECK(V.rows == d && V.cols == k, TL_ERR_SHAPE,
             "pca basis: V is %zu x %zu, expected %zu x %zu", V.rows, V.cols, d, k);
    tlf_col_mean(A, B, mean);
    if (n >= d) {
        TL_TRY(tl_mat_alloc(&C, d, d));
        TL_TRY(tlf_scatter(A, B, mean, C));
        TL_ALLOC(w, k);
        TL_TRY(tl_eig_sym(C, TL_EIG_LARGEST, k, w, V));
    } else {
        TL_CHECK(k <= n, TL_ERR_INVALID_ARG,
                 "pca basis: %zu components requested from %zu samples", k, n);
        TL_TRY(tl_mat_alloc(&S, n, d));
        for (size_t i = 0; i < n; i++) {
            const double *x = i < A.rows ? &TL_AT(A, i, 0) : &TL_AT(B, i - A.rows, 0);
            for (size_t j = 0; j < d; j++) TL_AT(S, i, j) = x[j] - mean[j];
        }
        bool ok = false;
        if (k > 0) TL_TRY(gram_basis(S, k, V, &ok));
        if (ok) goto done;
        TL_ALLOC(w, n);
        TL_TRY(tl_mat_alloc(&Vt, n, d));
        tl_mat noU = {n, n, n, NULL};
        TL_TRY(tl_svd(S, noU, w, Vt));
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < k; j++) TL_AT(V, i, j) = TL_AT(Vt, j, i);
    }
done:
    tl_mat_free(&C);
    tl_mat_free(&S);
    tl_mat_free(&Vt);
    tl_free(w);
    return st;
}

static tl_mat no_rows(size_t d) {
    tl_mat E = {0, d, d, NULL};
    return E;
}

tl_status tlf_fit_pca(tl_adapter *a, tl_mat Fs, tl_mat Ft) {
    tl_status st = TL_OK;
    size_t d = a->d_feat, k = a->p.dim;
    TL_ALLOC(a->mean[0], d);
    TL_TRY(tl_mat_alloc(&a->W[0], d, k));
    TL_TRY(tlf_pca_basis(Fs, Ft, k, a->mean[0], a->W[0]));
    a->per_domain = false;
    a->d_out = k;
done:
    return st;
}

tl_status tlf_fit_sa(tl_adapter *a, tl_mat Fs, tl_mat Ft) {
    tl_status st = TL_OK;
    tl_mat Ps = {0, 0, 0, NULL}, M = {0, 0, 0, NULL};
    size_t d = a->d_feat, k = a->p.dim;
    TL_ALLOC(a->mean[0], d);
    TL_ALLOC(a->mean[1], d);
    TL_TRY(tl_mat_alloc(&Ps, d, k));
    TL_TRY(tl_mat_alloc(&a->W[1], d, k));
    TL_TRY(tlf_pca_basis(Fs, no_rows(d), k, a->mean[0], Ps));
    TL_TRY(tlf_pca_basis(Ft, no_rows(d), k, a->mean[1], a->W[1]));
    TL_TRY(tl_mat_alloc(&M, k, k));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Ps, a->W[1], 0.0, M)); /* Ps^T Pt */
    TL_TRY(tl_mat_alloc(&a->W[0], d, k));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ps, M, 0.0, a->W[0]));
    a->per_domain = true;
    a->d_out = k;
done:
    tl_mat_free(&Ps);
    tl_mat_free(&M);
    return st;
}

tl_status tlf_fit_gfk(tl_adapter *a, tl_mat Fs, tl_mat Ft) {
    tl_status st = TL_OK;
    tl_mat Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL}, M = {0, 0, 0, NULL},
           U1 = {0, 0, 0, NULL}, Vt = {0, 0, 0, NULL}, A1 = {0, 0, 0, NULL},
           A2 = {0, 0, 0, NULL}, T = {0, 0, 0, NULL};
    double *g = NULL, *mean = NULL;
    size_t d = a->d_feat, k = a->p.dim;
    TL_ALLOC(mean, d);
    TL_TRY(tl_mat_alloc(&Ps, d, k));
    TL_TRY(tl_mat_alloc(&Pt, d, k));
    TL_TRY(tlf_pca_basis(Fs, no_rows(d), k, mean, Ps));
    TL_TRY(tlf_pca_basis(Ft, no_rows(d), k, mean, Pt));
    TL_TRY(tl_mat_alloc(&M, k, k));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Ps, Pt, 0.0, M));
    TL_TRY(tl_mat_alloc(&U1, k, k));
    TL_TRY(tl_mat_alloc(&Vt, k, k));
    TL_ALLOC(g, k);
    TL_TRY(tl_svd(M, U1, g, Vt));
    TL_TRY(tl_mat_alloc(&A1, d, k));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ps, U1, 0.0, A1));
    /* A2 = Pt V - Ps (Ps^T Pt V), then scaled column-wise by -1/sin(theta) */
    TL_TRY(tl_mat_alloc(&A2, d, k));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, Pt, Vt, 0.0, A2));
    TL_TRY(tl_mat_alloc(&T, k, k));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Ps, A2, 0.0, T));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, -1.0, Ps, T, 1.0, A2));
    TL_TRY(tl_mat_alloc(&a->W[0], d, 2 * k));
    for (size_t j = 0; j < k; j++) {
        double c = g[j] > 1.0 ? 1.0 : g[j];
        double th = acos(c), s = sin(th);
        double b1 = 1.0, b2 = 0.0, b4 = 0.0;
        if (th > 1e-20) {
            double r = sin(2 * th) / (2 * th);
            b1 = 0.5 * (1 + r);
            b2 = 0.5 * (cos(2 * th) - 1) / (2 * th);
            b4 = 0.5 * (1 - r);
        }
        double inv = s > 1e-12 ? -1.0 / s : 0.0;
        /* symmetric square root of the PSD block [b1 b2; b2 b4] */
        double det = b1 * b4 - b2 * b2, sd = det > 0 ? sqrt(det) : 0.0;
        double tr = b1 + b4 + 2 * sd, q = tr > 0 ? 1.0 / sqrt(tr) : 0.0;
        double s11 = (b1 + sd) * q, s12 = b2 * q, s22 = (b4 + sd) * q;
        for (size_t i = 0; i < d; i++) {
            double x1 = TL_AT(A1, i, j), x2 = TL_AT(A2, i, j) * inv;
            TL_AT(a->W[0], i, j) = x1 * s11 + x2 * s12;
            TL_AT(a->W[0], i, k + j) = x1 * s12 + x2 * s22;
        }
    }
    a->per_domain = false; /* GFK's 1-NN compares raw samples under G: no centring */
    a->d_out = 2 * k;
done:
    tl_free(g);
    tl_free(mean);
    tl_mat_free(&Ps);
    tl_mat_free(&Pt);
    tl_mat_free(&M);
    tl_mat_free(&U1);
    tl_mat_free(&Vt);
    tl_mat_free(&A1);
    tl_mat_free(&A2);
    tl_mat_free(&T);
    return st;
}
