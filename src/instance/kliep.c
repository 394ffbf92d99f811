/* KLIEP, the Kullback-Leibler importance estimation procedure (Sugiyama, Nakajima, Kashima, von
 * Buenau & Kawanabe, NIPS 2007 / AISM 2008). The ratio w(x) = p_t(x) / p_s(x) is modelled as
 * sum_l alpha_l k(x, c_l) over b kernel centres c_l taken from the target, and fitted by
 *   maximise  sum_j log (Phi_t alpha)_j   s.t.  mean_i (Phi_s alpha)_i = 1,  alpha >= 0,
 * with Phi_t (nt, b), Phi_s (ns, b) the kernel design matrices. The algorithm is the authors'
 * reference (KLIEP.m): projected gradient ascent
 *   alpha <- alpha + eps Phi_t^T (1 ./ Phi_t alpha),
 *   then projection: alpha += bv (1 - bv.alpha) / (bv.bv), alpha = max(0, alpha),
 *   alpha /= bv.alpha  (bv = mean of Phi_s's rows),
 * over step sizes eps = 10^3, 10^2, ..., 10^-3, each for at most max_iter steps while the
 * objective mean(log(Phi_t alpha)) still improves. The bandwidth is the median heuristic on the
 * pooled sample unless given (the paper's likelihood cross-validation over widths is left to the
 * caller). Cost O((ns + nt) b d) for the design matrices plus O(nt b) per step. */
#include <math.h>
#include <string.h>

#include "instance/instance_internal.h"

/* alpha projected onto {alpha >= 0, bv.alpha = 1}, as KLIEP.m does; returns mean log(Phi_t a). */
static double kliep_project(double *alpha, const double *bv, double c, size_t b, tl_mat Pt,
                            double *Pta) {
    double ba = 0.0;
    for (size_t l = 0; l < b; l++) ba += bv[l] * alpha[l];
    for (size_t l = 0; l < b; l++) {
        alpha[l] += bv[l] * (1.0 - ba) / c;
        if (alpha[l] < 0.0) alpha[l] = 0.0;
    }
    ba = 0.0;
    for (size_t l = 0; l < b; l++) ba += bv[l] * alpha[l];
    if (ba > 0)
        for (size_t l = 0; l < b; l++) alpha[l] /= ba;
    (void)tl_gemv(TL_NOTRANS, 1.0, Pt, alpha, 0.0, Pta);
    double s = 0.0;
    for (size_t j = 0; j < Pt.rows; j++) s += log(Pta[j] > 1e-300 ? Pta[j] : 1e-300);
    return s / (double)Pt.rows;
}

tl_status tli_kliep(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL}, Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL};
    double *bv = NULL, *alpha = NULL, *anew = NULL, *Pta = NULL, *Ptn = NULL, *inv = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    TL_TRY(tli_centres(Xt, p->centers, p->seed, &C));
    size_t b = C.rows;
    TL_TRY(tl_mat_alloc(&Ps, ns, b));
    TL_TRY(tl_mat_alloc(&Pt, nt, b));
    TL_TRY(tli_kernel_design(k, Xs, C, Ps));
    TL_TRY(tli_kernel_design(k, Xt, C, Pt));
    TL_ALLOC(bv, b);
    TL_ALLOC(alpha, b);
    TL_ALLOC(anew, b);
    TL_ALLOC(Pta, nt);
    TL_ALLOC(Ptn, nt);
    TL_ALLOC(inv, nt);
    for (size_t l = 0; l < b; l++) bv[l] = 0.0;
    for (size_t i = 0; i < ns; i++)
        for (size_t l = 0; l < b; l++) bv[l] += TL_AT(Ps, i, l);
    double c = 0.0;
    for (size_t l = 0; l < b; l++) {
        bv[l] /= (double)ns;
        c += bv[l] * bv[l];
    }
    TL_CHECK(c > 0, TL_ERR_LINALG,
             "kliep: every kernel value between the source and the centres underflows to 0 "
             "(gamma = %g is too large for this data)",
             k->gamma);
    for (size_t l = 0; l < b; l++) alpha[l] = 1.0;
    double score = kliep_project(alpha, bv, c, b, Pt, Pta);
    size_t steps = 0;
    for (int e = 3; e >= -3; e--) {
        double epsilon = pow(10.0, e);
        for (int it = 0; it < p->max_iter; it++) {
            for (size_t j = 0; j < nt; j++) inv[j] = 1.0 / (Pta[j] > 1e-300 ? Pta[j] : 1e-300);
            memcpy(anew, alpha, b * sizeof *anew);
            TL_TRY(tl_gemv(TL_TRANS, epsilon, Pt, inv, 1.0, anew));
            double sn = kliep_project(anew, bv, c, b, Pt, Ptn);
            if (!(sn > score)) break;
            score = sn;
            memcpy(alpha, anew, b * sizeof *alpha);
            memcpy(Pta, Ptn, nt * sizeof *Pta);
            steps++;
        }
    }
    TL_TRY(tl_gemv(TL_NOTRANS, 1.0, Ps, alpha, 0.0, w));
    tl_log(p->ctx, TL_LOG_INFO, "kliep: %zu centres, %zu accepted steps, mean log ratio %g", b,
           steps, score);
done:
    tl_mat_free(&C);
    tl_mat_free(&Ps);
    tl_mat_free(&Pt);
    tl_free(bv);
    tl_free(alpha);
    tl_free(anew);
    tl_free(Pta);
    tl_free(Ptn);
    tl_free(inv);
    return st;
}
