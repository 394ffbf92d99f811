/* Eigen-problems of symmetric-definite pencils R a = mu (lambda I + U U^T) a whose right matrix is
 * a low-rank update of the identity (eig_lowrank.h): every TCA/JDA/BDA round solves one, with R
 * the centred scatter F^T H F (fixed for the whole fit) and U = F^T E / sqrt(||M||_F) (rank
 * q <= C + 1, rebuilt from the pseudo-labels each round).
 *
 * tl_eig_pencil_lowrank (any R): the closed-form inverse square root of the right matrix turns
 * the pencil into a standard problem for LAPACK (see its comment). Its dense tridiagonal
 * reduction of the r x r matrix is most of a JDA round on 800 SURF features.
 *
 * tl_eig_pencil_diag (R = diag(d), i.e. the pencil written in R's eigenbasis W, which the caller
 * computes once for all rounds): an exact eigenvector b of diag(d) b = mu (lambda b + U U^T b)
 * satisfies (diag(d) - x I) b = mu U (U^T b) with x = lambda mu, so on the coordinates i whose
 * d_i lies below the wanted eigenvalues ("tail", i >= h) it is b_T = mu (d_T - x)^{-1} U_T y,
 * y = U^T b: a combination of the q columns of (d_T - x)^{-1} U_T. As x ranges over the wanted
 * interval [d_{k+q}, d_1] (interlacing: lambda mu_i <= d_i and lambda mu_k >= d_{k+q}), these
 * vectors are smooth functions of x (d_T <= rho d_{k+q} < x), so a few shifts sigma_j across the
 * interval span them all to working accuracy (rational Krylov: (d_T - sigma_j)^{-1} U_T, the
 * shifts spaced geometrically in their distance to the tail's top, sigma_j - d_h =
 * (d_k+q - d_h) ((d_1 - d_h) / (d_k+q - d_h))^(u_j^1.5), u_j = (j + 1/2) / m, i.e. closer
 * together where the wanted eigenvalues come nearest the tail). The subspace "head unit vectors e_1..e_h + the m q tail vectors" thus
 * holds the k wanted eigenvectors, and Rayleigh-Ritz on it (a dense problem of order h + m q,
 * solved by tl_eig_pencil_lowrank, since the projected right matrix is again lambda I + low
 * rank) returns them. On the 12 SURF pencils (r = 800, k = 100, q = 11) the head is ~155 and the
 * subspace ~310, residuals <= 9e-16 relative. The split trades a head coordinate (one dimension)
 * against a shift (q dimensions): measured on the 12 SURF tasks (92 rounds), rho = 0.75 with 12
 * shifts (head ~200, subspace ~340) gave residuals up to 1.7e-15, rho = 0.85 with 14 shifts up to
 * 8.6e-16 in ~10 % less time per round, rho = 0.9 needs 15 (13: 1.5e-14, 14: 4.8e-15); numpy
 * prototype on C->A with rho = 0.75: 12 shifts 1.3e-15, 10 shifts 1.3e-13, 8 shifts 2e-11,
 * log-Chebyshev shifts needed 14 for 3.5e-14.
 * Nothing is taken on trust: each Ritz pair's residual ||d.b - mu (lambda b + U U^T b)|| is
 * computed exactly (O(r q) per pair) and must be below tol relative to the pencil's scale, and
 * Sylvester's law of inertia counts the pencil's eigenvalues above x = mu_k (1 - 1e-9): by the
 * Haynsworth formula for diag(d) - x lambda I - x U U^T,
 *     #{mu > x} = #{d_i > x lambda} - #{eigenvalues <= 0 of I/x - U^T (diag(d) - x lambda)^{-1} U},
 * a q x q matrix, which must be k: no eigenvalue above the k-th was missed. When either fails, or
 * the subspace would be more than 3/4 of r, it returns TL_ERR_UNSUPPORTED and the caller solves
 * the round densely. Cost per round on SURF: a (r - h) x m q QR and the ~350-order dense problem,
 * instead of the 800-order one. */
#include <lapacke.h>
#include <math.h>

#include "eig_lowrank.h"
#include "la_internal.h"

/* The `k` largest eigenpairs of R a = mu L a with L = lambda I + U U^T (U (r, q), q <= C + 1),
 * through the standard problem C = L^{-1/2} R L^{-1/2}. L's low rank gives its inverse square root
 * in closed form: with U = Q S P^T (thin, from the q x q eigen-decomposition of U^T U),
 *     L^{-1/2} = lambda^{-1/2} I + Q D Q^T,   D = diag((lambda + s^2)^{-1/2} - lambda^{-1/2}),
 * so C = R / lambda + (Q D') Y^T + Y (Q D')^T + (Q D) (Q^T Y) (Q D)^T with Y = R Q, D' = D /
 * sqrt(lambda): O(r^2 q) work instead of the Cholesky factorisation and the two triangular
 * sweeps (dpotrf + dsygst, ~4/3 r^3) a general-B solver spends every JDA round, followed by
 * dsyevr (MRRR) asking only k pairs. Eigenvectors map back by a = L^{-1/2} v (the same
 * directions dsygvx returns), then get unit 2-norm. w (k) descending, V (r, k). */
/* all_pairs: the standard problem's every pair by divide and conquer (dsyevd), of which the k
 * largest are kept: cheaper than MRRR on an index range once k is over about a quarter of r
 * (MRRR's bisection for the wanted eigenvalues costs O(r k) steps; measured at r = 333, k = 100:
 * 9 ms against 11). */
static tl_status pencil_lowrank(tl_mat R, tl_mat U, double lambda, size_t k, double *w, tl_mat V,
                                bool all_pairs);

tl_status tl_eig_pencil_lowrank(tl_mat R, tl_mat U, double lambda, size_t k, double *w, tl_mat V) {
    return pencil_lowrank(R, U, lambda, k, w, V, false);
}

static tl_status pencil_lowrank(tl_mat R, tl_mat U, double lambda, size_t k, double *w, tl_mat V,
                                bool all_pairs) {
    tl_status st = TL_OK;
    size_t r = R.rows, q = U.cols;
    tl_mat G = {0, 0, 0, NULL}, P = {0, 0, 0, NULL}, Q = {0, 0, 0, NULL}, Y = {0, 0, 0, NULL},
           A1 = {0, 0, 0, NULL}, B1 = {0, 0, 0, NULL}, QG = {0, 0, 0, NULL},
           Cm = {0, 0, 0, NULL}, T = {0, 0, 0, NULL}, Va = {0, 0, 0, NULL};
    double *s2 = NULL, *dg = NULL, *wa = NULL;
    /* U^T U = P diag(s^2) P^T; Q = U P S^{-1} for the directions with s^2 > 0 */
    TL_TRY(tl_mat_alloc(&G, q, q));
    TL_TRY(tl_syrk(TL_TRANS, 1.0, U, 0.0, G));
    TL_ALLOC(s2, q);
    TL_TRY(tl_mat_alloc(&P, q, q));
    TL_TRY(tl_eig_sym(G, TL_EIG_LARGEST, q, s2, P));
    size_t qq = 0;
    while (qq < q && s2[qq] > 1e-14 * s2[0] && s2[qq] > 0) qq++;
    TL_TRY(tl_mat_alloc(&Cm, r, r));
    TL_TRY(tl_mat_copy(Cm, R));
    double il = 1.0 / lambda, isl = 1.0 / sqrt(lambda);
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < r; j++) TL_AT(Cm, i, j) *= il;
    if (qq > 0) {
        TL_TRY(tl_mat_alloc(&Q, r, qq));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, U, tl_mat_cols(P, 0, qq), 0.0, Q));
        TL_ALLOC(dg, qq);
        for (size_t j = 0; j < qq; j++) {
            double sj = sqrt(s2[j]);
            for (size_t i = 0; i < r; i++) TL_AT(Q, i, j) /= sj;
            dg[j] = 1.0 / sqrt(lambda + s2[j]) - isl;
        }
        TL_TRY(tl_mat_alloc(&Y, r, qq));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, R, Q, 0.0, Y)); /* Y = R Q */
        /* Cm += [Q D', Y] [Y, Q D']^T */
        TL_TRY(tl_mat_alloc(&A1, r, 2 * qq));
        TL_TRY(tl_mat_alloc(&B1, r, 2 * qq));
        for (size_t i = 0; i < r; i++)
            for (size_t j = 0; j < qq; j++) {
                double qd = TL_AT(Q, i, j) * dg[j] * isl;
                TL_AT(A1, i, j) = qd;
                TL_AT(A1, i, qq + j) = TL_AT(Y, i, j);
                TL_AT(B1, i, j) = TL_AT(Y, i, j);
                TL_AT(B1, i, qq + j) = qd;
            }
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, A1, B1, 1.0, Cm));
        /* Cm += (Q D) (Q^T Y) (Q D)^T */
        tl_mat Gq = {qq, qq, qq, G.data}; /* reuse G's storage */
        TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Q, Y, 0.0, Gq));
        for (size_t i = 0; i < r; i++)
            for (size_t j = 0; j < qq; j++) TL_AT(Q, i, j) *= dg[j]; /* Q <- Q D */
        TL_TRY(tl_mat_alloc(&QG, r, qq));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Q, Gq, 0.0, QG));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, QG, Q, 1.0, Cm));
    }
    if (all_pairs && k < r) {
        TL_ALLOC(wa, r);
        TL_TRY(tl_mat_alloc(&Va, r, r));
        TL_TRY(tl_eig_sym(Cm, TL_EIG_LARGEST, r, wa, Va)); /* descending */
        for (size_t c = 0; c < k; c++) w[c] = wa[c];
        TL_TRY(tl_mat_copy(V, tl_mat_cols(Va, 0, k)));
    } else {
        TL_TRY(tl_eig_sym(Cm, TL_EIG_LARGEST, k, w, V));
    }
    /* a = L^{-1/2} v = v / sqrt(lambda) + Q D Q^T v; Q now holds Q D, so (Q D)^T v is scaled
       back by D^{-1} to Q^T v before the product */
    if (qq > 0) {
        TL_TRY(tl_mat_alloc(&T, qq, k));
        TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Q, V, 0.0, T)); /* D Q^T V */
        for (size_t j = 0; j < qq; j++) {
            double inv = dg[j] != 0.0 ? 1.0 / dg[j] : 0.0;
            for (size_t c = 0; c < k; c++) TL_AT(T, j, c) *= inv;
        }
        for (size_t i = 0; i < r; i++)
            for (size_t c = 0; c < k; c++) TL_AT(V, i, c) *= isl;
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Q, T, 1.0, V));
    }
    tl_mat_normalize_cols(V);
done:
    tl_mat_free(&G);
    tl_mat_free(&P);
    tl_mat_free(&Q);
    tl_mat_free(&Y);
    tl_mat_free(&A1);
    tl_mat_free(&B1);
    tl_mat_free(&QG);
    tl_mat_free(&Cm);
    tl_mat_free(&T);
    tl_mat_free(&Va);
    tl_free(s2);
    tl_free(dg);
    tl_free(wa);
    return st;
}


#define TL_EIGD_RHO 0.85  /* tail: d_i <= RHO * d_{k+q} */
#define TL_EIGD_SHIFTS 14 /* rational Krylov shifts */
#define TL_EIGD_MAX_FRAC 0.75 /* subspace larger than this share of r: not worth it */

/* Number of the pencil's eigenvalues above x > 0 (see the header comment). K (q, q) is work. */
static tl_status pencil_count_above(const double *d, tl_mat U, double lambda, double x, tl_mat K,
                                    size_t *count) {
    tl_status st = TL_OK;
    size_t r = U.rows, q = U.cols, above = 0;
    double *kw = NULL;
    tl_mat_fill(K, 0.0);
    for (size_t i = 0; i < r; i++) {
        double den = d[i] - x * lambda;
        if (!(den != 0.0)) { /* x lambda on a pole: the count is ill-defined there */
            st = TL_ERR_UNSUPPORTED;
            goto done;
        }
        above += d[i] > x * lambda;
        const double *u = U.data + i * U.ld;
        double s = 1.0 / den;
        for (size_t a = 0; a < q; a++)
            for (size_t b = a; b < q; b++) TL_AT(K, a, b) -= s * u[a] * u[b];
    }
    for (size_t a = 0; a < q; a++) TL_AT(K, a, a) += 1.0 / x;
    TL_ALLOC(kw, q);
    TL_TRY(tl_eig_sym(K, TL_EIG_ALL, q, kw, (tl_mat){q, q, q, NULL}));
    size_t nonpos = 0;
    for (size_t a = 0; a < q; a++) nonpos += kw[a] <= 0.0;
    *count = above >= nonpos ? above - nonpos : 0;
done:
    tl_free(kw);
    return st;
}

bool tl_eig_pencil_diag_fits(size_t r, size_t q, size_t k) {
    size_t dim = k + q + TL_EIGD_SHIFTS * q;
    return k + q < r && (double)dim <= TL_EIGD_MAX_FRAC * (double)r;
}

tl_status tl_eig_pencil_diag(const double *d, tl_mat U, double lambda, size_t k, double tol,
                             double *w, tl_mat B) {
    tl_status st = TL_OK;
    size_t r = U.rows, q = U.cols;
    tl_mat A = {0, 0, 0, NULL}, Qt = {0, 0, 0, NULL}, AB = {0, 0, 0, NULL},
           UB = {0, 0, 0, NULL}, Y = {0, 0, 0, NULL}, S = {0, 0, 0, NULL},
           K = {0, 0, 0, NULL}, UtB = {0, 0, 0, NULL}, LB = {0, 0, 0, NULL};
    double *t = NULL;
    if (tol <= 0) tol = 1e-14;
    TL_CHECK(B.rows == r && B.cols == k && k >= 1 && w, TL_ERR_SHAPE,
             "eig_pencil_diag: B is %zu x %zu, expected %zu x %zu", B.rows, B.cols, r, k);
    if (k + q >= r || !(d[k + q - 1] > 0.0) || !(lambda > 0.0)) return TL_ERR_UNSUPPORTED;
    /* head: the coordinates down to the first d_i <= RHO * d_{k+q} */
    double lo = d[k + q - 1], hi = d[0];
    size_t h = k + q;
    while (h < r && d[h] > TL_EIGD_RHO * lo) h++;
    size_t m = TL_EIGD_SHIFTS, mq = m * q, nt = r - h, dim = h + mq;
    if (h >= r || mq > nt || (double)dim > TL_EIGD_MAX_FRAC * (double)r) return TL_ERR_UNSUPPORTED;
    /* tail vectors (d_T - sigma_j)^{-1} U_T, stored as rows for tl_row_space_basis */
    TL_TRY(tl_mat_alloc(&A, mq, nt));
    double top = d[h], span = log((hi - top) / (lo - top));
    for (size_t j = 0; j < m; j++) {
        double uj = ((double)j + 0.5) / (double)m;
        double sigma = top + (lo - top) * exp(span * pow(uj, 1.5));
        for (size_t i = 0; i < nt; i++) {
            double s = 1.0 / (d[h + i] - sigma);
            const double *u = U.data + (h + i) * U.ld;
            for (size_t a = 0; a < q; a++) TL_AT(A, j * q + a, i) = s * u[a];
        }
    }
    TL_TRY(tl_mat_alloc(&Qt, nt, mq));
    TL_TRY(tl_row_space_basis(A, Qt)); /* (nt, mq) orthonormal columns */
    tl_mat_free(&A);
    /* the projected pencil: diag(d_H) (+) Qt^T diag(d_T) Qt, and [U_H; Qt^T U_T] */
    TL_TRY(tl_mat_alloc(&AB, dim, dim));
    tl_mat_fill(AB, 0.0);
    for (size_t i = 0; i < h; i++) TL_AT(AB, i, i) = d[i];
    TL_TRY(tl_mat_alloc(&S, nt, mq));
    for (size_t i = 0; i < nt; i++)
        for (size_t a = 0; a < mq; a++) TL_AT(S, i, a) = d[h + i] * TL_AT(Qt, i, a);
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Qt, S, 0.0,
                   (tl_mat){mq, mq, AB.ld, &TL_AT(AB, h, h)}));
    for (size_t a = 0; a < mq; a++) /* symmetric up to rounding: use one triangle */
        for (size_t b = a + 1; b < mq; b++) TL_AT(AB, h + b, h + a) = TL_AT(AB, h + a, h + b);
    TL_TRY(tl_mat_alloc(&UB, dim, q));
    for (size_t i = 0; i < h; i++)
        for (size_t a = 0; a < q; a++) TL_AT(UB, i, a) = TL_AT(U, i, a);
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Qt, tl_mat_rows(U, h, nt), 0.0,
                   tl_mat_rows(UB, h, mq)));
    TL_TRY(tl_mat_alloc(&Y, dim, k));
    TL_TRY(pencil_lowrank(AB, UB, lambda, k, w, Y, 4 * k >= dim));
    /* Ritz vectors: B = [Y_H; Qt Y_T] */
    for (size_t i = 0; i < h; i++)
        for (size_t c = 0; c < k; c++) TL_AT(B, i, c) = TL_AT(Y, i, c);
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Qt, tl_mat_rows(Y, h, mq), 0.0,
                   tl_mat_rows(B, h, nt)));
    tl_mat_normalize_cols(B);
    /* check 1: residuals, relative to the pencil's scale ||diag(d)|| + mu ||lambda I + U U^T||
       (the dense path's residuals on SURF are ~1e-15 of it) */
    double dmax = fmax(fabs(d[0]), fabs(d[r - 1]));
    TL_TRY(tl_mat_alloc(&K, q, q));
    TL_TRY(tl_syrk(TL_TRANS, 1.0, U, 0.0, K));
    TL_ALLOC(t, q);
    TL_TRY(tl_eig_sym(K, TL_EIG_LARGEST, 1, t, (tl_mat){q, 1, 1, NULL}));
    double uf = t[0]; /* ||U||_2^2 */
    TL_TRY(tl_mat_alloc(&UtB, q, k));
    TL_TRY(tl_mat_alloc(&LB, r, k));
    TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, U, B, 0.0, UtB));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, U, UtB, 0.0, LB)); /* U U^T B */
    for (size_t c = 0; c < k; c++) {
        double res = 0.0, mu = w[c];
        for (size_t i = 0; i < r; i++) {
            double b = TL_AT(B, i, c), e = d[i] * b - mu * (lambda * b + TL_AT(LB, i, c));
            res += e * e;
        }
        if (!(sqrt(res) <= tol * (dmax + fabs(mu) * (lambda + uf)))) {
            st = TL_ERR_UNSUPPORTED;
            goto done;
        }
    }
    /* check 2: exactly k eigenvalues above mu_k (1 - 1e-9) */
    if (!(w[k - 1] > 0.0)) {
        st = TL_ERR_UNSUPPORTED;
        goto done;
    }
    size_t cnt = 0;
    st = pencil_count_above(d, U, lambda, w[k - 1] * (1.0 - 1e-9), K, &cnt);
    if (st == TL_OK && cnt != k) st = TL_ERR_UNSUPPORTED;
done:
    tl_mat_free(&A);
    tl_mat_free(&Qt);
    tl_mat_free(&AB);
    tl_mat_free(&UB);
    tl_mat_free(&Y);
    tl_mat_free(&S);
    tl_mat_free(&K);
    tl_mat_free(&UtB);
    tl_mat_free(&LB);
    tl_free(t);
    return st;
}

tl_status tl_eig_pencil_naive(tl_mat R, tl_mat U, double lambda, size_t k, double *w, tl_mat V) {
    tl_status st = TL_OK;
    tl_mat L = {0, 0, 0, NULL};
    size_t r = R.rows;
    TL_TRY(tl_mat_alloc(&L, r, r));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, U, U, 0.0, L));
    for (size_t i = 0; i < r; i++) TL_AT(L, i, i) += lambda;
    TL_TRY(tl_eig_sym_gen(R, L, TL_EIG_LARGEST, k, w, V));
    tl_mat_normalize_cols(V);
done:
    tl_mat_free(&L);
    return st;
}
