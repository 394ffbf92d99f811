/* Kernel mean matching (Huang, Smola, Gretton, Borgwardt & Schoelkopf, NIPS 2007):
 *   minimise 0.5 b^T K b - kappa^T b   s.t.  0 <= b_i <= B,  |sum_i b_i - ns| <= ns eps,
 *   K_ij = k(xs_i, xs_j) (ns x ns),  kappa_i = (ns / nt) sum_j k(xs_i, xt_j).
 *
 * The QP is badly conditioned (an RBF Gram matrix has a long tail of tiny eigenvalues) and its
 * optimum has many b_i at 0: first-order methods need thousands of matrix-vector products to reach
 * cvxopt's optimum (correlation 0.99 after ~1000 FISTA iterations on Fashion-MNIST), while an
 * interior-point method needs ~20 dense factorisations. We combine the two strengths:
 *  1. a short FISTA warm start (projected gradient with Nesterov momentum and gradient restart,
 *     O'Donoghue & Candes 2015; the projection onto box intersect slab is exact, by bisection on
 *     the multiplier of the sum constraint), 100 iterations of one DSYMV each, which finds which
 *     b_i sit at 0 or B nearly right;
 *  2. block principal pivoting (Judice & Pires 1994 for the box-constrained QP / LCP): on the free
 *     set F, solve K_FF b_F = kappa_F - K_FU B - nu 1 exactly (Cholesky), with nu the multiplier of
 *     the sum constraint when it would be violated; move every variable violating its bound or its
 *     dual sign to the other set; repeat. When the count of violations stops falling for 3 rounds,
 *     single exchanges (Murty's least-index rule) guarantee termination. It converges in a handful
 *     of factorisations to the exact KKT point, the optimum cvxopt approaches.
 * Memory: K is computed once, its upper triangle (with its diagonal saved apart) serves every
 * DSYMV, and K_FF is written into K's lower triangle for an in-place Cholesky, so the solver needs
 * ns^2 doubles and O(ns) more: 800 MB at ns = 10 000. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "instance/instance_internal.h"

#define KMM_WARM_ITERS 100
#define KMM_BPP_MAX 60
#define KMM_MAX_NS ((size_t)40000) /* 12.8 GB kernel: beyond this KMM is not the right tool */

/* ---- projection onto {0 <= x <= B, lo <= sum x <= hi} ---- */

static double clip_sum(const double *z, size_t n, double mu, double B) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = z[i] - mu;
        s += v < 0.0 ? 0.0 : v > B ? B : v;
    }
    return s;
}

void tli_project_box_slab(const double *z, size_t n, double B, double lo, double hi, double *x) {
    double s0 = clip_sum(z, n, 0.0, B), mu = 0.0;
    if (s0 > hi || s0 < lo) {
        /* s(mu) = sum clip(z - mu, 0, B) falls monotonically in mu: bracket the root of
         * s(mu) = target, bisect, then solve exactly on the free set of the bracket */
        double target = s0 > hi ? hi : lo, a, b;
        double zmin = z[0], zmax = z[0];
        for (size_t i = 1; i < n; i++) {
            if (z[i] < zmin) zmin = z[i];
            if (z[i] > zmax) zmax = z[i];
        }
        if (s0 > hi) {
            a = 0.0;
            b = zmax; /* s(zmax) = 0 <= hi */
        } else {
            a = zmin - B; /* s = n B >= lo */
            b = 0.0;
        }
        for (int it = 0; it < 200 && b - a > 1e-15 * (fabs(a) + fabs(b) + 1e-300); it++) {
            double m = 0.5 * (a + b);
            if (clip_sum(z, n, m, B) > target)
                a = m;
            else
                b = m;
        }
        mu = 0.5 * (a + b);
        /* exact: sum over free (0 < z - mu < B) of (z - mu) + B * #upper = target */
        double sf = 0.0, nf = 0.0, nu = 0.0;
        for (size_t i = 0; i < n; i++) {
            double v = z[i] - mu;
            if (v >= B)
                nu += 1.0;
            else if (v > 0.0) {
                sf += z[i];
                nf += 1.0;
            }
        }
        if (nf > 0) {
            double me = (sf + B * nu - target) / nf;
            if (me >= a - 1e-12 * (fabs(a) + 1) && me <= b + 1e-12 * (fabs(b) + 1)) mu = me;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double v = z[i] - mu;
        x[i] = v < 0.0 ? 0.0 : v > B ? B : v;
    }
}

/* ---- the QP solver ---- */

static void symv(const tli_qp *q, const double *x, double *y) {
    cblas_dsymv(CblasRowMajor, CblasUpper, (int)q->n, 1.0, q->Kd, (int)q->n, x, 1, 0.0, y, 1);
}

static double objective(const tli_qp *q, const double *x, const double *Kx) {
    double f = 0.0;
    for (size_t i = 0; i < q->n; i++) f += x[i] * (0.5 * Kx[i] - q->kappa[i]);
    return f;
}

/* Largest eigenvalue of K by power iteration (a few digits suffice: it sets FISTA's step). */
static double lambda_max(const tli_qp *q, double *v, double *w) {
    size_t n = q->n;
    for (size_t i = 0; i < n; i++) v[i] = 1.0 / sqrt((double)n);
    double lam = 0.0;
    for (int it = 0; it < 30; it++) {
        symv(q, v, w);
        double r = 0.0, nw = 0.0;
        for (size_t i = 0; i < n; i++) {
            r += v[i] * w[i];
            nw += w[i] * w[i];
        }
        nw = sqrt(nw);
        if (!(nw > 0)) break;
        for (size_t i = 0; i < n; i++) v[i] = w[i] / nw;
        if (it > 3 && fabs(r - lam) <= 1e-4 * fabs(r)) {
            lam = r;
            break;
        }
        lam = r;
    }
    return lam;
}

/* FISTA with gradient restart from b (feasible after projection); iters DSYMVs. */
static tl_status fista(const tli_qp *q, double *b, int iters, double *work /* 5n */) {
    size_t n = q->n;
    double *xp = work, *y = work + n, *g = work + 2 * n, *xn = work + 3 * n, *tmp = work + 4 * n;
    double L = 1.05 * lambda_max(q, g, tmp);
    if (!(L > 0)) L = 1.0;
    tli_project_box_slab(b, n, q->B, q->lo, q->hi, xn);
    memcpy(b, xn, n * sizeof *b);
    memcpy(xp, b, n * sizeof *b);
    double t = 1.0;
    for (int it = 0; it < iters; it++) {
        if (it % 64 == 0) {
            tl_status cs = tl_cancel_check(q->ctx, "kmm: solver iteration %d of %d", it + 1, iters);
            if (cs != TL_OK) return cs;
        }
        double tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t)), m = (t - 1.0) / tn;
        for (size_t i = 0; i < n; i++) y[i] = b[i] + m * (b[i] - xp[i]);
        symv(q, y, g);
        for (size_t i = 0; i < n; i++) tmp[i] = y[i] - (g[i] - q->kappa[i]) / L;
        tli_project_box_slab(tmp, n, q->B, q->lo, q->hi, xn);
        double gd = 0.0, step = 0.0, xmax = 1.0;
        for (size_t i = 0; i < n; i++) {
            gd += (g[i] - q->kappa[i]) * (xn[i] - b[i]);
            double dlt = fabs(xn[i] - b[i]);
            if (dlt > step) step = dlt;
            if (fabs(xn[i]) > xmax) xmax = fabs(xn[i]);
        }
        if (gd > 0) tn = 1.0; /* momentum points uphill: restart */
        memcpy(xp, b, n * sizeof *b);
        memcpy(b, xn, n * sizeof *b);
        t = tn;
        if (step <= 1e-3 * q->tol * xmax) break;
    }
    return TL_OK;
}

enum { FREE = 0, LOW = 1, UP = 2 };

/* One block-principal-pivoting solve for the current sets: writes b and nu; K's lower triangle
 * is overwritten with the factor of K_FF and its diagonal restored afterwards. */
static tl_status bpp_solve(const tli_qp *q, double *K, const double *diag, const unsigned char *state,
                           size_t *F, double *rhs /* 2n */, double *tmp, double *b, double *nu_out) {
    tl_status st = TL_OK;
    size_t n = q->n, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (state[i] == FREE) F[m++] = i;
        b[i] = state[i] == UP ? q->B : 0.0;
    }
    double nu = 0.0;
    if (m > 0) {
        symv(q, b, tmp); /* K_:U B */
        double *r1 = rhs, *r2 = rhs + m;
        for (size_t a = 0; a < m; a++) {
            r1[a] = q->kappa[F[a]] - tmp[F[a]];
            r2[a] = 1.0;
        }
        /* A tiny ridge makes the solve unique where K is singular: duplicated source rows give
         * identical kernel rows, and without it their weights would split arbitrarily (one at
         * 2, its twin at 0) where cvxopt's interior point splits them equally. 1e-8 of the mean
         * diagonal moves the objective by ~1e-11 relative. */
        double dmean = 0.0;
        for (size_t a = 0; a < m; a++) dmean += diag[F[a]];
        dmean /= (double)m;
        if (!(dmean > 0)) dmean = 1.0;
        double ridge = 1e-8 * dmean;
        for (int attempt = 0;; attempt++) {
            /* M = K_FF into the row-major lower triangle (with diagonal) of K's top-left m x m */
            /* M[a][c] = K[F[c]][F[a]] (c < a: strictly upper, never overwritten), in 64 x 64
             * tiles so that the strided side of the transposition stays in cache */
            for (size_t a0 = 0; a0 < m; a0 += 64) {
                size_t a1 = a0 + 64 < m ? a0 + 64 : m;
                for (size_t c0 = 0; c0 <= a0; c0 += 64)
                    for (size_t c = c0; c < c0 + 64 && c < a1; c++) {
                        const double *src = K + F[c] * n;
                        for (size_t a = a0 > c + 1 ? a0 : c + 1; a < a1; a++) K[a * n + c] = src[F[a]];
                    }
                for (size_t a = a0; a < a1; a++) K[a * n + a] = diag[F[a]] + ridge;
            }
            lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)m, K,
                                                  (lapack_int)n);
            if (info == 0) break;
            for (size_t a = 0; a < m; a++) K[a * n + a] = diag[a];
            TL_CHECK(info > 0 && attempt < 8, TL_ERR_LINALG,
                     "kmm: the kernel matrix of the %zu free samples is not positive definite even "
                     "with a ridge of %g (dpotrf info %d)",
                     m, ridge, (int)info);
            ridge *= 100.0;
            tl_log(q->ctx, TL_LOG_DEBUG, "kmm: K_FF not positive definite, ridge %g", ridge);
        }
        lapack_int info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)m, 2, K,
                                              (lapack_int)n, rhs, (lapack_int)m);
        for (size_t a = 0; a < m; a++) K[a * n + a] = diag[a]; /* restore the diagonal */
        TL_CHECK(info == 0, TL_ERR_LINALG, "kmm: dpotrs failed (info %d)", (int)info);
        double s = 0.0, sc = 0.0;
        for (size_t i = 0; i < n; i++)
            if (state[i] == UP) s += q->B;
        for (size_t a = 0; a < m; a++) {
            s += r1[a];
            sc += r2[a];
        }
        if ((s > q->hi || s < q->lo) && sc > 0) nu = (s - (s > q->hi ? q->hi : q->lo)) / sc;
        for (size_t a = 0; a < m; a++) b[F[a]] = r1[a] - nu * r2[a];
    }
    *nu_out = nu;
done:
    return st;
}

tl_status tli_kmm_solve(const tli_qp *q, double *b, int *iters) {
    tl_status st = TL_OK;
    size_t n = q->n;
    double *work = NULL, *diag = NULL, *g = NULL, *rhs = NULL, *best = NULL;
    size_t *F = NULL;
    unsigned char *state = NULL;
    double *K = q->Kd; /* strictly lower triangle used as workspace */
    TL_CHECK(q->Kd, TL_ERR_INVALID_ARG, "kmm solver: K is NULL");
    TL_CHECK(n >= 1 && n <= (size_t)INT32_MAX, TL_ERR_INVALID_ARG, "kmm solver: n = %zu", n);
    TL_CHECK(q->B > 0 && q->lo <= q->hi && q->lo <= q->B * (double)n && q->hi >= 0,
             TL_ERR_INVALID_ARG,
             "kmm: the constraints are infeasible (B = %g, sum of weights in [%g, %g] for %zu "
             "samples)",
             q->B, q->lo, q->hi, n);
    TL_ALLOC(work, 5 * n);
    TL_ALLOC(diag, n);
    TL_ALLOC(g, n);
    TL_ALLOC(rhs, 2 * n);
    TL_ALLOC(best, n);
    TL_ALLOC(F, n);
    TL_ALLOC(state, n);
    for (size_t i = 0; i < n; i++) diag[i] = K[i * n + i];
    int warm = q->max_iter < KMM_WARM_ITERS ? q->max_iter : KMM_WARM_ITERS;
    TL_TRY(fista(q, b, warm, work));
    memcpy(best, b, n * sizeof *b);
    /* initial sets from the warm start */
    symv(q, b, g);
    double kmax = 1.0;
    for (size_t i = 0; i < n; i++) {
        g[i] -= q->kappa[i];
        if (fabs(q->kappa[i]) > kmax) kmax = fabs(q->kappa[i]);
    }
    double tb = 1e-9 * (q->B > 1 ? q->B : 1);
    for (size_t i = 0; i < n; i++)
        state[i] = (b[i] <= tb && g[i] > 0) ? LOW : (b[i] >= q->B - tb && g[i] < 0) ? UP : FREE;
    size_t best_ninf = (size_t)-1;
    int stall = 0, it;
    bool solved = false;
    double tol_b = q->tol * 1e-3, tol_g = q->tol * 1e-3 * kmax;
    for (it = 0; it < KMM_BPP_MAX; it++) {
        TL_TRY(tl_cancel_check(q->ctx, "kmm: pivoting round %d", it + 1));
        double nu = 0.0, *trial = work;
        TL_TRY(bpp_solve(q, K, diag, state, F, rhs, work + n, trial, &nu));
        symv(q, trial, g);
        double bscale = 1.0;
        for (size_t i = 0; i < n; i++) {
            g[i] += nu - q->kappa[i];
            if (fabs(trial[i]) > bscale) bscale = fabs(trial[i]);
        }
        size_t ninf = 0, last = (size_t)-1;
        for (size_t i = 0; i < n; i++) {
            bool bad = (state[i] == FREE && (trial[i] < -tol_b * bscale ||
                                             trial[i] > q->B + tol_b * bscale)) ||
                       (state[i] == LOW && g[i] < -tol_g) || (state[i] == UP && g[i] > tol_g);
            if (bad) {
                ninf++;
                last = i;
            }
        }
        tl_log(q->ctx, TL_LOG_DEBUG, "kmm: pivoting round %d, %zu infeasible", it + 1, ninf);
        if (ninf == 0) {
            memcpy(b, trial, n * sizeof *b);
            solved = true;
            break;
        }
        if (ninf < best_ninf) {
            best_ninf = ninf;
            stall = 0;
        } else {
            stall++;
        }
        for (size_t i = 0; i < n; i++) {
            if (stall >= 3 && i != last) continue; /* Murty's rule: one exchange */
            if (state[i] == FREE && trial[i] < -tol_b * bscale)
                state[i] = LOW;
            else if (state[i] == FREE && trial[i] > q->B + tol_b * bscale)
                state[i] = UP;
            else if ((state[i] == LOW && g[i] < -tol_g) || (state[i] == UP && g[i] > tol_g))
                state[i] = FREE;
        }
    }
    if (!solved) {
        /* keep the better of the warm start and the last pivoting point made feasible */
        double *p = work + 2 * n, *Kp = work + 3 * n;
        tli_project_box_slab(work, n, q->B, q->lo, q->hi, p);
        symv(q, p, Kp);
        symv(q, best, g);
        if (objective(q, p, Kp) < objective(q, best, g))
            memcpy(b, p, n * sizeof *b);
        else
            memcpy(b, best, n * sizeof *b);
        tl_log(q->ctx, TL_LOG_WARN, "kmm: pivoting did not settle in %d rounds; returning the "
                                    "best feasible point found", KMM_BPP_MAX);
    }
    /* rounding: exact solves may leave b a hair outside the box */
    for (size_t i = 0; i < n; i++) b[i] = b[i] < 0 ? 0 : b[i] > q->B ? q->B : b[i];
    if (iters) *iters = warm + it + 1;
done:
    tl_free(work);
    tl_free(diag);
    tl_free(g);
    tl_free(rhs);
    tl_free(best);
    tl_free(F);
    tl_free(state);
    return st;
}

/* ---- KMM ---- */

/* The upper triangle (with diagonal) of K (n, n, ld = n) = kernel of X with itself, by tiles of
 * at most 1024 x 1024 (dense rows are views, CSR rows densified per tile); the strictly lower
 * triangle is not touched (the solver's workspace, so its pages are not even faulted in yet). */
static tl_status gram_upper(const tl_kernel *k, tl_xmat X, double *K) {
    tl_status st = TL_OK;
    double *ba = NULL, *bb = NULL;
    size_t n = tl_xmat_rows(X), d = tl_xmat_cols(X);
    size_t blk = tlm_block_rows(d, (size_t)1 << 21, 1024);
    tlm_kspec ks;
    memset(&ks, 0, sizeof ks);
    ks.k = *k;
    if (X.sparse) {
        TL_ALLOC(ba, blk * d);
        TL_ALLOC(bb, blk * d);
    }
    for (size_t i0 = 0; i0 < n; i0 += blk) {
        size_t ni = n - i0 < blk ? n - i0 : blk;
        tl_mat Ai = tlm_rows(X, i0, ni, NULL, ba);
        for (size_t j0 = i0; j0 < n; j0 += blk) {
            size_t nj = n - j0 < blk ? n - j0 : blk;
            tl_mat Bj = j0 == i0 ? Ai : tlm_rows(X, j0, nj, NULL, bb);
            tl_mat Kb = {ni, nj, n, K + i0 * n + j0};
            TL_TRY(tlm_kernel_block(&ks, Ai, Bj, Kb));
        }
    }
done:
    tl_free(ba);
    tl_free(bb);
    return st;
}

tl_status tli_kmm(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                  double *w) {
    tl_status st = TL_OK;
    double *K = NULL; /* (ns, ns): not zeroed, only its upper triangle is ever written first */
    double *kappa = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    TL_CHECK(ns <= KMM_MAX_NS, TL_ERR_INVALID_ARG,
             "kmm: %zu source samples would need a %zu x %zu kernel matrix (%.1f GB); subsample "
             "the source to at most %zu, or use kliep, ulsif or domain-clf",
             ns, ns, ns, 8e-9 * (double)ns * (double)ns, KMM_MAX_NS);
    double eps = p->eps > 0 ? p->eps : (sqrt((double)ns) - 1.0) / sqrt((double)ns);
    TL_CHECK(1.0 - eps <= p->B, TL_ERR_INVALID_ARG,
             "kmm: B = %g is below 1 - eps = %g, so no weights can average to within eps of 1",
             p->B, 1.0 - eps);
    TL_ALLOC(K, ns * ns); /* ns <= KMM_MAX_NS: no overflow */
    tl_progress(p->ctx, "kmm kernel", 0.0);
    TL_TRY(gram_upper(k, Xs, K));
    TL_ALLOC(kappa, ns);
    tlm_kspec ks;
    memset(&ks, 0, sizeof ks);
    ks.k = *k;
    TL_TRY(tlm_kernel_sums(&ks, Xs, &Xt, NULL, kappa));
    for (size_t i = 0; i < ns; i++) kappa[i] *= (double)ns / (double)nt;
    tl_progress(p->ctx, "kmm solve", 0.5);
    tli_qp q;
    memset(&q, 0, sizeof q);
    q.n = ns;
    q.Kd = K;
    q.kappa = kappa;
    q.B = p->B;
    q.lo = (double)ns * (1.0 - eps);
    q.hi = (double)ns * (1.0 + eps);
    if (q.lo < 0) q.lo = 0;
    q.max_iter = p->max_iter;
    q.tol = p->tol;
    q.ctx = p->ctx;
    for (size_t i = 0; i < ns; i++) w[i] = 1.0;
    int iters = 0;
    TL_TRY(tli_kmm_solve(&q, w, &iters));
    tl_log(p->ctx, TL_LOG_INFO, "kmm: %zu source samples, %d solver iterations", ns, iters);
    tl_progress(p->ctx, "kmm", 1.0);
done:
    tl_free(K);
    tl_free(kappa);
    return st;
}
