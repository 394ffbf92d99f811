/* uLSIF, unconstrained least-squares importance fitting (Kanamori, Hido & Sugiyama, JMLR 2009).
 * w(x) = sum_l alpha_l k(x, c_l) over b target centres, fitted by least squares to the true ratio:
 *   alpha = (H + lambda I)^{-1} h,  H = Phi_s^T Phi_s / ns (b x b),  h = mean of Phi_t's rows,
 * then alpha = max(0, alpha) and w = Phi_s alpha: one b x b solve, O(ns b^2).
 * lambda < 0 selects lambda from logspace(-3, 1, 9) by the closed-form leave-one-out score of the
 * authors' reference (uLSIF.m): with n = min(ns, nt) paired samples held out together,
 *   C = H + lambda (ns-1)/ns I, B0 = C^{-1} h 1^T + C^{-1} Phi_s2 diag(h^T C^{-1} Phi_s2 ./ t),
 *   B1 = C^{-1} Phi_t2 + C^{-1} Phi_s2 diag(1^T (Phi_t2 .* C^{-1} Phi_s2) ./ t),
 *   t = ns - 1^T (Phi_s2 .* C^{-1} Phi_s2),  A = max(0, (ns-1) / (ns (nt-1)) (nt B0 - B1)),
 *   score = mean((Phi_s2 . A)^2) / 2 - mean(Phi_t2 . A)   (column-wise dot products),
 * where Phi_s2, Phi_t2 are the transposed designs of the first n source and target rows. */
#include <math.h>
#include <string.h>

#include "instance/instance_internal.h"

#define ULSIF_NLAMBDA 9

/* LOO score of one lambda. Ps2, Pt2 (n, b) rows of the designs; work as documented inside. */
static tl_status loo_score(tl_mat H, const double *h, double lambda, size_t ns, size_t nt,
                           tl_mat Ps2, tl_mat Pt2, double *score) {
    tl_status st = TL_OK;
    size_t b = H.rows, n = Ps2.rows;
    tl_mat Ci = {0, 0, 0, NULL}, G = {0, 0, 0, NULL}, Gn = {0, 0, 0, NULL};
    double *beta = NULL;
    TL_TRY(tl_mat_clone(&Ci, H));
    for (size_t l = 0; l < b; l++) TL_AT(Ci, l, l) += lambda * (double)(ns - 1) / (double)ns;
    TL_TRY(tl_inv(Ci));
    TL_ALLOC(beta, b);
    TL_TRY(tl_gemv(TL_NOTRANS, 1.0, Ci, h, 0.0, beta));
    TL_TRY(tl_mat_alloc(&G, n, b));
    TL_TRY(tl_mat_alloc(&Gn, n, b));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ps2, Ci, 0.0, G));  /* rows: C^-1 phi_s(j) */
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Pt2, Ci, 0.0, Gn)); /* rows: C^-1 phi_t(j) */
    double f = (double)(ns - 1) / ((double)ns * (double)(nt - 1)), sde = 0.0, snu = 0.0;
    for (size_t j = 0; j < n; j++) {
        const double *ps = Ps2.data + j * Ps2.ld, *pt = Pt2.data + j * Pt2.ld;
        const double *g = G.data + j * G.ld, *gn = Gn.data + j * Gn.ld;
        double t = (double)ns, bk = 0.0, tk = 0.0;
        for (size_t l = 0; l < b; l++) {
            t -= ps[l] * g[l];
            bk += beta[l] * ps[l];
            tk += pt[l] * g[l];
        }
        double wde = 0.0, wnu = 0.0;
        for (size_t l = 0; l < b; l++) {
            double b0 = beta[l] + g[l] * bk / t, b1 = gn[l] + g[l] * tk / t;
            double al = f * ((double)nt * b0 - b1);
            if (al < 0.0) al = 0.0;
            wde += ps[l] * al;
            wnu += pt[l] * al;
        }
        sde += wde * wde;
        snu += wnu;
    }
    *score = sde / (2.0 * (double)n) - snu / (double)n;
done:
    tl_mat_free(&Ci);
    tl_mat_free(&G);
    tl_mat_free(&Gn);
    tl_free(beta);
    return st;
}

tl_status tli_ulsif(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL}, Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL};
    tl_mat H = {0, 0, 0, NULL}, A = {0, 0, 0, NULL};
    double *h = NULL, *alpha = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    TL_TRY(tli_centres(Xt, p->centers, p->seed, &C));
    size_t b = C.rows;
    TL_TRY(tl_mat_alloc(&Ps, ns, b));
    TL_TRY(tl_mat_alloc(&Pt, nt, b));
    TL_TRY(tli_kernel_design(k, Xs, C, Ps));
    TL_TRY(tli_kernel_design(k, Xt, C, Pt));
    TL_TRY(tl_mat_alloc(&H, b, b));
    TL_TRY(tl_syrk(TL_TRANS, 1.0 / (double)ns, Ps, 0.0, H));
    TL_CALLOC(h, b);
    for (size_t j = 0; j < nt; j++)
        for (size_t l = 0; l < b; l++) h[l] += TL_AT(Pt, j, l) / (double)nt;
    double lambda = p->lambda;
    if (lambda < 0) {
        TL_CHECK(ns >= 2 && nt >= 2, TL_ERR_EMPTY,
                 "ulsif: leave-one-out selection of lambda needs at least 2 source and 2 target "
                 "samples (have %zu and %zu); give lambda >= 0",
                 ns, nt);
        size_t n = ns < nt ? ns : nt;
        double best = INFINITY;
        for (int i = 0; i < ULSIF_NLAMBDA; i++) {
            double lam = pow(10.0, -3.0 + 0.5 * i), sc = INFINITY;
            TL_TRY(loo_score(H, h, lam, ns, nt, tl_mat_rows(Ps, 0, n), tl_mat_rows(Pt, 0, n),
                             &sc));
            tl_log(p->ctx, TL_LOG_DEBUG, "ulsif: lambda %g LOO score %g", lam, sc);
            if (sc < best) {
                best = sc;
                lambda = lam;
            }
        }
        tl_log(p->ctx, TL_LOG_INFO, "ulsif: lambda %g chosen by leave-one-out", lambda);
    }
    TL_TRY(tl_mat_clone(&A, H));
    for (size_t l = 0; l < b; l++) TL_AT(A, l, l) += lambda;
    TL_ALLOC(alpha, b);
    memcpy(alpha, h, b * sizeof *alpha);
    st = tl_solve_spd(A, tl_mat_view(alpha, b, 1));
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "ulsif (lambda = %g; a larger lambda regularises more)", lambda);
        goto done;
    }
    for (size_t l = 0; l < b; l++)
        if (alpha[l] < 0) alpha[l] = 0;
    TL_TRY(tl_gemv(TL_NOTRANS, 1.0, Ps, alpha, 0.0, w));
done:
    tl_mat_free(&C);
    tl_mat_free(&Ps);
    tl_mat_free(&Pt);
    tl_mat_free(&H);
    tl_mat_free(&A);
    tl_free(h);
    tl_free(alpha);
    return st;
}
