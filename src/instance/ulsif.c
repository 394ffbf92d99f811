/* uLSIF, unconstrained least-squares importance fitting (Kanamori, Hido & Sugiyama, JMLR 2009).
 * w(x) = sum_l alpha_l k(x, c_l) over b target centres, fitted by least squares to the true ratio:
 *   alpha = (H + lambda I)^{-1} h,  H = Phi_s^T Phi_s / ns (b x b),  h = mean of Phi_t's rows,
 * then alpha = max(0, alpha) and w = Phi_s alpha: one b x b solve, O(ns b^2).
 *
 * Model selection is the authors' reference (uLSIF.m): lambda < 0 selects lambda from
 * logspace(-3, 1, 9), widths >= 2 selects the kernel width from a grid (weights.c), jointly when
 * both, by the closed-form leave-one-out score where the first n = min(ns, nt) source and target
 * rows are held out together:
 *   C = H + lambda (ns-1)/ns I, B0 = C^{-1} h 1^T + C^{-1} Phi_s2 diag(h^T C^{-1} Phi_s2 ./ t),
 *   B1 = C^{-1} Phi_t2 + C^{-1} Phi_s2 diag(1^T (Phi_t2 .* C^{-1} Phi_s2) ./ t),
 *   t = ns - 1^T (Phi_s2 .* C^{-1} Phi_s2),  A = max(0, (ns-1) / (ns (nt-1)) (nt B0 - B1)),
 *   score = mean((Phi_s2 . A)^2) / 2 - mean(Phi_t2 . A)   (column-wise dot products),
 * where Phi_s2, Phi_t2 are the transposed designs of those rows; the smallest score wins (the
 * first in width-major, lambda-minor order on ties, as uLSIF.m's two min calls).
 *
 * Speed: uLSIF.m inverts C for every lambda and multiplies C^{-1} into both
 * designs. Here H = V diag(e) V^T is decomposed once per width, so C^{-1} = V diag(d) V^T with
 * d = 1 / (e + lambda'), and with Ys = Phi_s2 V, Yt = Phi_t2 V (two GEMMs per width) every scalar
 * of the score is an O(b) sum in the eigenbasis: t_j = ns - sum d ys_j^2, h^T C^{-1} phi_s(j) =
 * sum d ht ys_j, phi_t(j)^T C^{-1} phi_s(j) = sum d yt_j ys_j (ht = V^T h). The columns of
 * nt B0 - B1 are C^{-1} m_j with m_j = nt h - phi_t(j) + s_j phi_s(j), s_j = (nt h^T C^{-1} phi_s(j)
 * - phi_t(j)^T C^{-1} phi_s(j)) / t_j, i.e. V (d .* (nt ht - yt_j + s_j ys_j)): one b x b x n
 * GEMM per lambda where uLSIF.m needs an inverse and two, and the clipping and the two dot
 * products are one pass over it. Often that GEMM is not needed at all: the Gaussian H has few
 * eigenvalues above lambda, so C^{-1} is I / lambda' plus a low-rank part, and a rank-r GEMM with
 * a rigorous bound on the rest proves for most held-out pairs that no entry of A_j is clipped;
 * their two dot products are then exact O(b) sums in the eigenbasis, and only the pairs left
 * unproven go through the b x b product (cert_body): the proof or the product, row by row. When
 * most rows clip (small lambda, a wide kernel) the product is taken for every row at once, in
 * single precision (SGEMM, twice the rate of DGEMM) with the clipping and the dot products
 * accumulated in double: those scores move by ~1e-7 relative, far below the gaps between
 * candidates (tests/test_instance.c checks every score against uLSIF.m to 1e-5), and the final fit
 * is all double. The distances to the centres are computed once for all widths (row blocks
 * on our threads, OpenBLAS single-threaded throughout), and the widths are independent tasks on
 * the threads (tli_parallel, dynamic: their costs differ), each exponentiating its own design
 * into its thread's buffers: squaring the previous width's design (as KLIEP does) would chain
 * the widths and leave a thread idle behind the slowest. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "instance/instance_internal.h"

#define ULSIF_NLAMBDA 9

typedef struct {
    tl_mat H, V, Ys, Yt, R, G, Z;  /* (b, b) x 2, (n, b) x 5 */
    float *Vf, *Rf, *Gf;           /* (b, b), (n, b) x 2: the full-product path in single */
    double *e, *h, *ht, *d, *q, *zero; /* (b); zero: b zeros */
    double *sv, *wde, *wnu;        /* (n) */
    unsigned char *ok;             /* (n) */
} loo_ws;

static void loo_ws_free(loo_ws *w) {
    tl_mat_free(&w->H);
    tl_mat_free(&w->V);
    tl_mat_free(&w->Ys);
    tl_mat_free(&w->Yt);
    tl_mat_free(&w->R);
    tl_mat_free(&w->G);
    tl_mat_free(&w->Z);
    tl_free(w->e);
    tl_free(w->h);
    tl_free(w->ht);
    tl_free(w->d);
    tl_free(w->q);
    tl_free(w->zero);
    tl_free(w->sv);
    tl_free(w->wde);
    tl_free(w->wnu);
    tl_free(w->ok);
    tl_free(w->Vf);
    tl_free(w->Rf);
    tl_free(w->Gf);
    memset(w, 0, sizeof *w);
}

static tl_status loo_ws_alloc(loo_ws *w, size_t b, size_t n) {
    tl_status st = TL_OK;
    memset(w, 0, sizeof *w);
    TL_TRY(tl_mat_alloc(&w->H, b, b));
    TL_TRY(tl_mat_alloc(&w->V, b, b));
    TL_TRY(tl_mat_alloc(&w->Ys, n, b));
    TL_TRY(tl_mat_alloc(&w->Yt, n, b));
    TL_TRY(tl_mat_alloc(&w->R, n, b));
    TL_TRY(tl_mat_alloc(&w->G, n, b));
    TL_TRY(tl_mat_alloc(&w->Z, n, b));
    TL_ALLOC(w->e, b);
    TL_ALLOC(w->h, b);
    TL_ALLOC(w->ht, b);
    TL_ALLOC(w->d, b);
    TL_ALLOC(w->q, b);
    TL_CALLOC(w->zero, b);
    TL_ALLOC(w->sv, n);
    TL_ALLOC(w->wde, n);
    TL_ALLOC(w->wnu, n);
    TL_ALLOC(w->ok, n);
    TL_ALLOC(w->Vf, b * b);
    TL_ALLOC(w->Rf, n * b);
    TL_ALLOC(w->Gf, n * b);
done:
    if (st != TL_OK) loo_ws_free(w);
    return st;
}

static void col_mean(tl_mat K, double *m) {
    for (size_t l = 0; l < K.cols; l++) m[l] = 0.0;
    for (size_t j = 0; j < K.rows; j++)
        for (size_t l = 0; l < K.cols; l++) m[l] += TL_AT(K, j, l);
    for (size_t l = 0; l < K.cols; l++) m[l] /= (double)K.rows;
}

/* Per lambda, rows [0, n): t_j, the two C^{-1}-weighted dot products and s_j in the eigenbasis,
 * then R_j = d .* (nt ht - yt_j + s_j ys_j). Ys, Yt, R (n, b) with ld = b. */
TLI_INLINE void rows_R_body(size_t n, size_t b, double ns, double nt, const double *d,
                            const double *ht, const double *Ys, const double *Yt, double *R,
                            double *sv) {
    size_t b4 = 0;
#if TLI_VEC
    b4 = b & ~(size_t)3;
#endif
    for (size_t j = 0; j < n; j++) {
        const double *ys = Ys + j * b, *yt = Yt + j * b;
        double *r = R + j * b;
        double yq = 0.0, bk = 0.0, tk = 0.0;
#if TLI_VEC
        tli_v4 vq = {0.0, 0.0, 0.0, 0.0}, vb = vq, vk = vq, x, y, dd, hh;
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&x, ys + l, sizeof x);
            memcpy(&dd, d + l, sizeof dd);
            memcpy(&hh, ht + l, sizeof hh);
            memcpy(&y, yt + l, sizeof y);
            tli_v4 q = dd * x;
            vq += x * q;
            vb += hh * q;
            vk += y * q;
        }
        double t4[3][4];
        memcpy(t4[0], &vq, sizeof vq);
        memcpy(t4[1], &vb, sizeof vb);
        memcpy(t4[2], &vk, sizeof vk);
        yq = (t4[0][0] + t4[0][1]) + (t4[0][2] + t4[0][3]);
        bk = (t4[1][0] + t4[1][1]) + (t4[1][2] + t4[1][3]);
        tk = (t4[2][0] + t4[2][1]) + (t4[2][2] + t4[2][3]);
#endif
        for (size_t l = b4; l < b; l++) {
            double q = d[l] * ys[l];
            yq += ys[l] * q;
            bk += ht[l] * q;
            tk += yt[l] * q;
        }
        double s = (nt * bk - tk) / (ns - yq);
        sv[j] = s;
#if TLI_VEC
        tli_v4 vs = {s, s, s, s}, vn = {nt, nt, nt, nt};
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&x, ys + l, sizeof x);
            memcpy(&dd, d + l, sizeof dd);
            memcpy(&hh, ht + l, sizeof hh);
            memcpy(&y, yt + l, sizeof y);
            tli_v4 v = dd * (vn * hh - y + vs * x);
            memcpy(r + l, &v, sizeof v);
        }
#endif
        for (size_t l = b4; l < b; l++) r[l] = d[l] * (nt * ht[l] - yt[l] + s * ys[l]);
    }
}

/* The clipped LOO ratios A_j = max(0, G_j) against both held-out rows: returns
 * sum_j (phi_s(j).A_j)^2 in *sde and sum_j phi_t(j).A_j in *snu, for the single-precision product
 * Gf (n, b); the clipping and the two dot products accumulate in double. */
TLI_INLINE void rows_score_f_body(size_t n, size_t b, const float *G, const double *Ks, size_t lds,
                                  const double *Kt, size_t ldt, double *sde, double *snu) {
    size_t b4 = 0;
    double a = 0.0, c = 0.0;
#if TLI_VEC
    b4 = b & ~(size_t)3;
    const tli_v4 zero = {0.0, 0.0, 0.0, 0.0}, half = {0.5, 0.5, 0.5, 0.5};
    const tli_v4i absmask = {0x7fffffffffffffffLL, 0x7fffffffffffffffLL, 0x7fffffffffffffffLL,
                             0x7fffffffffffffffLL};
#endif
    for (size_t j = 0; j < n; j++) {
        const float *g = G + j * b;
        const double *ps = Ks + j * lds, *pt = Kt + j * ldt;
        double wde = 0.0, wnu = 0.0;
#if TLI_VEC
        tli_v4 vd = zero, vn = zero, x, y;
        tli_f4 gf;
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&gf, g + l, sizeof gf);
            memcpy(&x, ps + l, sizeof x);
            memcpy(&y, pt + l, sizeof y);
            tli_v4 gv = __builtin_convertvector(gf, tli_v4);
            tli_v4 al = (gv + (tli_v4)((tli_v4i)gv & absmask)) * half; /* max(0, g), exact */
            vd += x * al;
            vn += y * al;
        }
        double t4[2][4];
        memcpy(t4[0], &vd, sizeof vd);
        memcpy(t4[1], &vn, sizeof vn);
        wde = (t4[0][0] + t4[0][1]) + (t4[0][2] + t4[0][3]);
        wnu = (t4[1][0] + t4[1][1]) + (t4[1][2] + t4[1][3]);
#endif
        for (size_t l = b4; l < b; l++) {
            double al = g[l] > 0.0f ? (double)g[l] : 0.0;
            wde += ps[l] * al;
            wnu += pt[l] * al;
        }
        a += wde * wde;
        c += wnu;
    }
    *sde = a;
    *snu = c;
}

/* Certified rows, where the clipping provably does nothing. With C^{-1} = I / lp + V diag(delta) V^T
 * (delta_l = d_l - 1/lp = -e_l d_l / lp), G_j = V R_j = m_j / lp + V (delta .* yh_j) where
 * m_j = nt h - phi_t(j) + s_j phi_s(j) and delta_l yh_jl = -(e_l / lp) R_jl. The directions with
 * e_l <= 1e-2 lp have |delta_l| <= 1e-2 / lp: their part is bounded entrywise by its 2-norm
 * eps_j = sqrt(sum_tail (e_l R_jl / lp)^2) (V orthonormal); the few others are T_j (a GEMM of rank r,
 * given). When m_j / lp + T_j > eps_j + a rounding slack (1e-9 of the terms' size) in every entry,
 * every entry of G_j is positive, A_j = f G_j, and the two dot products are exact in the
 * eigenbasis: phi_s(j).A_j = f ys_j.R_j, phi_t(j).A_j = f yt_j.R_j. Rows [j0, j1); q_l = (e_l/lp)^2
 * on the tail, 0 on the top; returns the rows certified (ok[j] = 1, wde[j], wnu[j] set). */
TLI_INLINE size_t cert_body(size_t j0, size_t j1, size_t b, double ilp, double f, double nt,
                            const double *h, const double *q, const double *R, const double *T, size_t ldT,
                            const double *Ys, const double *Yt, const double *sv, const double *Ks,
                            size_t lds, const double *Kt, size_t ldt, unsigned char *ok,
                            double *wde, double *wnu) {
    size_t b4 = 0, nok = 0;
#if TLI_VEC
    b4 = b & ~(size_t)3;
    const tli_v4 vnt = {nt, nt, nt, nt}, vil = {ilp, ilp, ilp, ilp};
#endif
    for (size_t j = j0; j < j1; j++) {
        const double *r = R + j * b, *t = T + j * ldT, *ys = Ys + j * b, *yt = Yt + j * b;
        const double *ps = Ks + j * lds, *pt = Kt + j * ldt;
        double s = sv[j], e2 = 0.0, mm = 0.0, tt = 0.0, as = fabs(s);
#if TLI_VEC
        tli_v4 ve = {0.0, 0.0, 0.0, 0.0}, vm = ve, vt = ve, x, y, z, w, hh;
        const tli_v4 vas = {as, as, as, as};
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&x, r + l, sizeof x);
            memcpy(&y, q + l, sizeof y);
            memcpy(&z, t + l, sizeof z);
            memcpy(&hh, h + l, sizeof hh);
            memcpy(&w, pt + l, sizeof w);
            ve += y * (x * x);
            vt += z * z;
            memcpy(&x, ps + l, sizeof x);
            tli_v4 ma = vnt * hh + w + vas * x; /* the terms' size, for the slack */
            vm += ma * ma;
        }
        double t4[3][4];
        memcpy(t4[0], &ve, sizeof ve);
        memcpy(t4[1], &vm, sizeof vm);
        memcpy(t4[2], &vt, sizeof vt);
        e2 = (t4[0][0] + t4[0][1]) + (t4[0][2] + t4[0][3]);
        mm = (t4[1][0] + t4[1][1]) + (t4[1][2] + t4[1][3]);
        tt = (t4[2][0] + t4[2][1]) + (t4[2][2] + t4[2][3]);
#endif
        for (size_t l = b4; l < b; l++) {
            double ma = nt * h[l] + pt[l] + as * ps[l];
            e2 += q[l] * (r[l] * r[l]);
            mm += ma * ma;
            tt += t[l] * t[l];
        }
        double thr = sqrt(e2) + 1e-9 * (sqrt(mm) * ilp + sqrt(tt));
        int good = 1;
#if TLI_VEC
        const tli_v4 vs = {s, s, s, s}, vthr = {thr, thr, thr, thr};
        tli_v4i all = {-1, -1, -1, -1};
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&x, ps + l, sizeof x);
            memcpy(&w, pt + l, sizeof w);
            memcpy(&hh, h + l, sizeof hh);
            memcpy(&z, t + l, sizeof z);
            tli_v4 gh = (vnt * hh - w + vs * x) * vil + z;
            all &= (tli_v4i)(gh > vthr);
        }
        long long lanes[4];
        memcpy(lanes, &all, sizeof lanes);
        good = lanes[0] && lanes[1] && lanes[2] && lanes[3];
#endif
        for (size_t l = b4; l < b && good; l++)
            if (!((nt * h[l] - pt[l] + s * ps[l]) * ilp + t[l] > thr)) good = 0;
        ok[j] = (unsigned char)good;
        if (!good) continue;
        double a = 0.0, c = 0.0;
#if TLI_VEC
        tli_v4 va = {0.0, 0.0, 0.0, 0.0}, vc = va;
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&x, r + l, sizeof x);
            memcpy(&y, ys + l, sizeof y);
            memcpy(&z, yt + l, sizeof z);
            va += y * x;
            vc += z * x;
        }
        double t2[2][4];
        memcpy(t2[0], &va, sizeof va);
        memcpy(t2[1], &vc, sizeof vc);
        a = (t2[0][0] + t2[0][1]) + (t2[0][2] + t2[0][3]);
        c = (t2[1][0] + t2[1][1]) + (t2[1][2] + t2[1][3]);
#endif
        for (size_t l = b4; l < b; l++) {
            a += ys[l] * r[l];
            c += yt[l] * r[l];
        }
        wde[j] = f * a;
        wnu[j] = f * c;
        nok++;
    }
    return nok;
}

static size_t cert_portable(size_t j0, size_t j1, size_t b, double ilp, double f, double nt,
                            const double *h, const double *q, const double *R, const double *T, size_t ldT,
                            const double *Ys, const double *Yt, const double *sv, const double *Ks,
                            size_t lds, const double *Kt, size_t ldt, unsigned char *ok,
                            double *wde, double *wnu) {
    return cert_body(j0, j1, b, ilp, f, nt, h, q, R, T, ldT, Ys, Yt, sv, Ks, lds, Kt, ldt, ok, wde, wnu);
}
#if TLI_AVX2
TLI_TARGET_AVX2 static size_t cert_avx2(size_t j0, size_t j1, size_t b, double ilp, double f,
                                        double nt, const double *h, const double *q,
                                        const double *R, const double *T, size_t ldT, const double *Ys,
                                        const double *Yt, const double *sv, const double *Ks,
                                        size_t lds, const double *Kt, size_t ldt,
                                        unsigned char *ok, double *wde, double *wnu) {
    return cert_body(j0, j1, b, ilp, f, nt, h, q, R, T, ldT, Ys, Yt, sv, Ks, lds, Kt, ldt, ok, wde, wnu);
}
#endif

static void rows_R_portable(size_t n, size_t b, double ns, double nt, const double *d,
                            const double *ht, const double *Ys, const double *Yt, double *R,
                            double *sv) {
    rows_R_body(n, b, ns, nt, d, ht, Ys, Yt, R, sv);
}
static void rows_score_f_portable(size_t n, size_t b, const float *G, const double *Ks,
                                  size_t lds, const double *Kt, size_t ldt, double *sde,
                                  double *snu) {
    rows_score_f_body(n, b, G, Ks, lds, Kt, ldt, sde, snu);
}
#if TLI_AVX2
TLI_TARGET_AVX2 static void rows_score_f_avx2(size_t n, size_t b, const float *G, const double *Ks,
                                              size_t lds, const double *Kt, size_t ldt,
                                              double *sde, double *snu) {
    rows_score_f_body(n, b, G, Ks, lds, Kt, ldt, sde, snu);
}
TLI_TARGET_AVX2 static void rows_R_avx2(size_t n, size_t b, double ns, double nt, const double *d,
                                        const double *ht, const double *Ys, const double *Yt,
                                        double *R, double *sv) {
    rows_R_body(n, b, ns, nt, d, ht, Ys, Yt, R, sv);
}
#endif

/* Leave-one-out scores of one width for the L lambdas: Ks (ns, b), Kt (nt, b) the designs, n the
 * held-out pairs. A lambda for which H + lambda' I is not positive definite scores +inf. */
static tl_status loo_scores(tl_mat Ks, tl_mat Kt, size_t n, const double *lams, size_t L,
                            loo_ws *w, int simd, double *scores) {
    tl_status st = TL_OK;
    size_t ns = Ks.rows, nt = Kt.rows, b = Ks.cols;
    tl_mat K2 = tl_mat_rows(Ks, 0, n), N2 = tl_mat_rows(Kt, 0, n);
    TL_TRY(tl_syrk(TL_TRANS, 1.0 / (double)ns, Ks, 0.0, w->H));
    col_mean(Kt, w->h);
    TL_TRY(tl_eig_sym(w->H, TL_EIG_ALL, b, w->e, w->V));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, K2, w->V, 0.0, w->Ys)); /* rows: V^T phi_s(j) */
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, N2, w->V, 0.0, w->Yt)); /* rows: V^T phi_t(j) */
    TL_TRY(tl_gemv(TL_TRANS, 1.0, w->V, w->h, 0.0, w->ht));
    double f = (double)(ns - 1) / ((double)ns * (double)(nt - 1));
    int vf_ready = 0;
    TL_CHECK_INT(n * b, "leave-one-out rows x centres");
#if !TLI_AVX2
    (void)simd;
#endif
    for (size_t i = 0; i < L; i++) {
        double lp = lams[i] * (double)(ns - 1) / (double)ns, emax = fabs(w->e[b - 1]);
        int pd = 1;
        for (size_t l = 0; l < b; l++) {
            double den = w->e[l] + lp;
            if (!(den > 1e-14 * (emax + lp))) pd = 0;
            w->d[l] = 1.0 / den;
        }
        if (!pd) {
            scores[i] = INFINITY;
            continue;
        }
        double sde = 0.0, snu = 0.0;
#if TLI_AVX2
        if (simd)
            rows_R_avx2(n, b, (double)ns, (double)nt, w->d, w->ht, w->Ys.data, w->Yt.data,
                        w->R.data, w->sv);
        else
#endif
            rows_R_portable(n, b, (double)ns, (double)nt, w->d, w->ht, w->Ys.data, w->Yt.data,
                            w->R.data, w->sv);
        /* the eigen-directions above 1e-2 lp; certification pays when they are few */
        size_t top = 0;
        while (top < b && w->e[b - 1 - top] > 1e-2 * lp) top++;
        int full = 2 * top > b;
        if (!full) {
            size_t tail = b - top, n0 = n < 16 ? n : 16;
            double ilp = 1.0 / lp;
            for (size_t l = 0; l < b; l++) w->q[l] = l < tail ? (w->e[l] * ilp) * (w->e[l] * ilp) : 0.0;
            tl_mat Vtop = tl_mat_cols(w->V, tail, top), Z = tl_mat_view(w->Z.data, n, top);
            for (size_t j = 0; j < n; j++)
                for (size_t k = 0; k < top; k++)
                    Z.data[j * top + k] = -(w->e[tail + k] * ilp) * w->R.data[j * b + tail + k];
            size_t nok = 0;
            /* the first rows first: when they all need the clipping, the rest is skipped */
            for (size_t part = 0; part < 2 && !full; part++) {
                size_t j0 = part ? n0 : 0, j1 = part ? n : n0;
                if (j1 <= j0) continue;
                if (top) {
                    TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, tl_mat_rows(Z, j0, j1 - j0), Vtop, 0.0,
                                   tl_mat_rows(w->G, j0, j1 - j0)));
                }
                /* no top directions: their part is 0, one row of zeros read for every row */
                const double *Tp = top ? w->G.data : w->zero;
                size_t ldT = top ? b : 0;
#if TLI_AVX2
                if (simd)
                    nok += cert_avx2(j0, j1, b, ilp, f, (double)nt, w->h, w->q, w->R.data,
                                     Tp, ldT, w->Ys.data, w->Yt.data, w->sv, K2.data, K2.ld,
                                     N2.data, N2.ld, w->ok, w->wde, w->wnu);
                else
#endif
                    nok += cert_portable(j0, j1, b, ilp, f, (double)nt, w->h, w->q, w->R.data,
                                         Tp, ldT, w->Ys.data, w->Yt.data, w->sv, K2.data, K2.ld,
                                         N2.data, N2.ld, w->ok, w->wde, w->wnu);
                if (part == 0 && nok == 0) full = 1;
            }
            if (!full) {
                /* the rows that may clip: exactly, G_j = f V R_j for those rows in one GEMM */
                size_t nbad = 0;
                for (size_t j = 0; j < n; j++)
                    if (!w->ok[j]) memcpy(w->Z.data + nbad++ * b, w->R.data + j * b, b * sizeof(double));
                if (nbad) {
                    tl_mat Rb = tl_mat_view(w->Z.data, nbad, b), Gb = tl_mat_view(w->G.data, nbad, b);
                    TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, f, Rb, w->V, 0.0, Gb));
                }
                size_t kb = 0;
                for (size_t j = 0; j < n; j++) {
                    if (!w->ok[j]) {
                        const double *g = w->G.data + kb++ * b, *ps = K2.data + j * K2.ld,
                                     *pt = N2.data + j * N2.ld;
                        double a = 0.0, c = 0.0;
                        for (size_t l = 0; l < b; l++) {
                            double al = g[l] > 0.0 ? g[l] : 0.0;
                            a += ps[l] * al;
                            c += pt[l] * al;
                        }
                        w->wde[j] = a;
                        w->wnu[j] = c;
                    }
                    sde += w->wde[j] * w->wde[j];
                    snu += w->wnu[j];
                }
            }
        }
        if (full) { /* rows: A_j unclipped, f V R_j, in single precision (see the top) */
            if (!vf_ready) {
                for (size_t l = 0; l < b * b; l++) w->Vf[l] = (float)w->V.data[l];
                vf_ready = 1;
            }
            for (size_t l = 0; l < n * b; l++) w->Rf[l] = (float)w->R.data[l];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)b, (int)b, (float)f,
                        w->Rf, (int)b, w->Vf, (int)b, 0.0f, w->Gf, (int)b);
#if TLI_AVX2
            if (simd)
                rows_score_f_avx2(n, b, w->Gf, K2.data, K2.ld, N2.data, N2.ld, &sde, &snu);
            else
#endif
                rows_score_f_portable(n, b, w->Gf, K2.data, K2.ld, N2.data, N2.ld, &sde, &snu);
        }
        scores[i] = sde / (2.0 * (double)n) - snu / (double)n;
    }
done:
    return st;
}

/* The width candidates as tasks, scheduled dynamically (their costs differ: a wide kernel leaves
 * many eigenvalues above lambda and needs the full products): each computes its width's designs
 * from the distances into its thread's own buffers and scores the L lambdas there. With one width
 * (W = 1) the designs are given (Ks[0], Kt[0]). */
typedef struct {
    size_t n, L, W;
    const double *lams, *g;
    tl_mat Ds, Dt; /* (ns, b), (nt, b) squared distances, W > 1 */
    tl_mat *Ks, *Kt; /* (threads) design buffers */
    loo_ws *ws;      /* (threads) */
    int simd;
    double *scores; /* (W, L) */
} ulsif_cv;

static tl_status cv_task(void *v, size_t task, size_t thread) {
    ulsif_cv *cv = v;
    if (cv->W > 1) {
        tli_rbf_from_sqdist(cv->Ds, cv->g[task], cv->Ks[thread]);
        tli_rbf_from_sqdist(cv->Dt, cv->g[task], cv->Kt[thread]);
    }
    return loo_scores(cv->Ks[thread], cv->Kt[thread], cv->n, cv->lams, cv->L, &cv->ws[thread],
                      cv->simd, cv->scores + task * cv->L);
}

tl_status tli_ulsif(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w, tl_weight_info *info) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL}, Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL};
    tl_mat Ds = {0, 0, 0, NULL}, Dt = {0, 0, 0, NULL}, H = {0, 0, 0, NULL};
    tl_mat Ks[TLI_MAX_WIDTHS], Kt[TLI_MAX_WIDTHS];
    loo_ws *lw = NULL; /* (T) one workspace per thread */
    double *h = NULL, *alpha = NULL, *sc = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), T = 0;
    int blas_saved = 0; /* > 0: OpenBLAS's thread count to restore */
    memset(Ks, 0, sizeof Ks);
    memset(Kt, 0, sizeof Kt);
    tl_kernel kk = *k;
    TL_TRY(tli_centres(Xt, p->centers, p->seed, &C));
    size_t b = C.rows, W = p->widths >= 2 ? p->widths : 1;
    double lambda = p->lambda, lams[ULSIF_NLAMBDA], g[TLI_MAX_WIDTHS];
    size_t L = 1;
    if (lambda < 0) {
        L = ULSIF_NLAMBDA;
        for (size_t i = 0; i < L; i++) lams[i] = pow(10.0, -3.0 + 0.5 * (double)i);
    } else {
        lams[0] = lambda;
    }
    TL_ALLOC(h, b);
    TL_ALLOC(alpha, b);
    TL_TRY(tl_mat_alloc(&Ps, ns, b));
    if (W > 1 || L > 1) {
        TL_CHECK(ns >= 2 && nt >= 2, TL_ERR_EMPTY,
                 "ulsif: leave-one-out selection of %s needs at least 2 source and 2 target "
                 "samples (have %zu and %zu); give lambda >= 0 and widths = 0",
                 W > 1 ? "the kernel width" : "lambda", ns, nt);
        size_t n = ns < nt ? ns : nt, kb = W, lb = L;
        double best = INFINITY;
        size_t nthr = tli_threads(p, W), nthr_d = tli_threads(p, 2 * TLI_MAX_WIDTHS);
        blas_saved = tli_blas_serial();
        TL_ALLOC(sc, W * L);
        TL_CALLOC(lw, nthr);
        for (T = 0; T < nthr; T++) TL_TRY(loo_ws_alloc(&lw[T], b, n));
        for (size_t t = 0; t < (W > 1 ? T : 1); t++) {
            TL_TRY(tl_mat_alloc(&Ks[t], ns, b));
            TL_TRY(tl_mat_alloc(&Kt[t], nt, b));
        }
        if (W > 1) { /* the distances once, for every width */
            TL_TRY(tl_mat_alloc(&Ds, ns, b));
            TL_TRY(tl_mat_alloc(&Dt, nt, b));
            TL_TRY(tli_sqdist_designs(nthr_d, Xs, Xt, C, Ds, Dt));
            tli_width_grid(k->gamma, W, g);
        } else {
            g[0] = k->gamma;
            TL_TRY(tli_kernel_design(&kk, Xs, C, Ks[0]));
            if (b == nt)
                TL_TRY(tli_kernel_design_self(&kk, C, Kt[0]));
            else
                TL_TRY(tli_kernel_design(&kk, Xt, C, Kt[0]));
        }
        ulsif_cv cv = {n, L, W, lams, g, Ds, Dt, Ks, Kt, lw, tli_have_avx2(), sc};
        TL_TRY(tli_parallel(W, W > 1 ? T : 1, cv_task, &cv));
        for (size_t kw = 0; kw < W; kw++)
            for (size_t i = 0; i < L; i++) {
                double v = sc[kw * L + i];
                tl_log(p->ctx, TL_LOG_DEBUG, "ulsif: gamma %.17g lambda %.17g LOO score %.17g", g[kw],
                       lams[i], v);
                if (v < best) {
                    best = v;
                    kb = kw;
                    lb = i;
                }
            }
        TL_CHECK(kb < W, TL_ERR_LINALG,
                 "ulsif: no candidate has a finite leave-one-out score (H + lambda I is singular "
                 "for every lambda); give lambda > 0");
        kk.gamma = g[kb];
        lambda = lams[lb];
        tl_log(p->ctx, TL_LOG_INFO, "ulsif: gamma %g, lambda %g chosen by leave-one-out (score %g, "
               "%zu threads)", kk.gamma, lambda, best, T);
        if (W > 1) {
            tli_rbf_from_sqdist(Ds, kk.gamma, Ps);
            tli_rbf_from_sqdist(Dt, kk.gamma, Kt[0]);
        } else { /* the one width's design is the final one */
            tl_mat t = Ps;
            Ps = Ks[0];
            Ks[0] = t;
        }
        col_mean(Kt[0], h);
    } else if (b == nt) {
        /* h = means of the symmetric K(Xt, Xt): one SYRK and one triangle of exponentials */
        TL_TRY(tli_kernel_design(&kk, Xs, C, Ps));
        TL_TRY(tl_mat_alloc(&Pt, nt, b));
        TL_TRY(tli_kernel_design_self(&kk, C, Pt));
        col_mean(Pt, h);
    } else {
        TL_TRY(tli_kernel_design(&kk, Xs, C, Ps));
        TL_TRY(tl_mat_alloc(&Pt, nt, b));
        TL_TRY(tli_kernel_design(&kk, Xt, C, Pt));
        col_mean(Pt, h);
    }
    for (size_t t = 0; t < T; t++) loo_ws_free(&lw[t]);
    for (size_t i = 0; i < TLI_MAX_WIDTHS; i++) {
        tl_mat_free(&Ks[i]);
        tl_mat_free(&Kt[i]);
    }
    tl_mat_free(&Pt);
    tl_mat_free(&Dt);
    tl_mat_free(&Ds);
    TL_TRY(tl_mat_alloc(&H, b, b));
    TL_TRY(tl_syrk(TL_TRANS, 1.0 / (double)ns, Ps, 0.0, H));
    for (size_t l = 0; l < b; l++) TL_AT(H, l, l) += lambda;
    memcpy(alpha, h, b * sizeof *alpha);
    st = tl_chol(H); /* in place: H is not needed after the solve */
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "ulsif (lambda = %g; a larger lambda regularises more)", lambda);
        goto done;
    }
    TL_CHECK_INT(b, "centres");
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)b, H.data, (int)H.ld,
                alpha, 1); /* L y = h */
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)b, H.data, (int)H.ld, alpha,
                1); /* L^T alpha = y */
    for (size_t l = 0; l < b; l++)
        if (alpha[l] < 0) alpha[l] = 0;
    TL_TRY(tl_gemv(TL_NOTRANS, 1.0, Ps, alpha, 0.0, w));
    info->gamma = kk.gamma;
    info->lambda = lambda;
done:
    if (blas_saved > 0) tli_blas_restore(blas_saved);
    for (size_t t = 0; lw && t < T; t++) loo_ws_free(&lw[t]);
    tl_free(lw);
    for (size_t i = 0; i < TLI_MAX_WIDTHS; i++) {
        tl_mat_free(&Ks[i]);
        tl_mat_free(&Kt[i]);
    }
    tl_mat_free(&C);
    tl_mat_free(&Ps);
    tl_mat_free(&Pt);
    tl_mat_free(&Ds);
    tl_mat_free(&Dt);
    tl_mat_free(&H);
    tl_free(h);
    tl_free(alpha);
    tl_free(sc);
    return st;
}
