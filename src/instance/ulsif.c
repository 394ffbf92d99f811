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
 * is all double. On AVX-512 that step is one fused kernel (ulsif_clip_avx512.c: the product tile
 * in registers, clipped and dotted as it finishes, the design rows streamed in single precision).
 * The distances to the centres are computed once for all widths (row blocks on our threads,
 * OpenBLAS single-threaded throughout); workers claim the widths (each exponentiating its own
 * design into its own buffers: squaring the previous width's design, as KLIEP does, would chain
 * the widths) and, once none is left, score the other workers' lambdas, so the last widths leave
 * no core idle (see ulsif_sched). The chosen width's H and h are kept for the final fit. */
#include <cblas.h>
#include <pthread.h>
#include <math.h>
#include <string.h>

#include "instance/instance_internal.h"

#define ULSIF_NLAMBDA 9

/* One width's leave-one-out ingredients, read-only while its lambdas are scored (by any thread). */
typedef struct {
    tl_mat H, V, Ys, Yt; /* (b, b) x 2, (n, b) x 2 */
    float *Vf;           /* (b, b) V in single, for the full-product path (SGEMM) */
    float *VTf;          /* (b, bp) V^T in single, zero past b, bp = b rounded up to 16 (AVX-512) */
    float *K2f, *N2f;    /* (n, bp) the held-out pairs' design rows in single, zero past b */
    double *e, *h, *ht;  /* (b) */
} loo_width;

/* One thread's scratch for scoring a lambda. */
typedef struct {
    tl_mat R, G, Z;          /* (n, b) x 3 */
    float *Rf, *Gf;          /* (n, b) x 2: the full-product path in single */
    double *d, *q, *zero;    /* (b); zero: b zeros */
    double *sv, *wde, *wnu;  /* (n) */
    unsigned char *ok;       /* (n) */
} loo_scratch;

static void loo_width_free(loo_width *w) {
    tl_mat_free(&w->H);
    tl_mat_free(&w->V);
    tl_mat_free(&w->Ys);
    tl_mat_free(&w->Yt);
    tl_free(w->Vf);
    tl_free(w->VTf);
    tl_free(w->K2f);
    tl_free(w->N2f);
    tl_free(w->e);
    tl_free(w->h);
    tl_free(w->ht);
    memset(w, 0, sizeof *w);
}

static tl_status loo_width_alloc(loo_width *w, size_t b, size_t n) {
    tl_status st = TL_OK;
    memset(w, 0, sizeof *w);
    TL_TRY(tl_mat_alloc(&w->H, b, b));
    TL_TRY(tl_mat_alloc(&w->V, b, b));
    TL_TRY(tl_mat_alloc(&w->Ys, n, b));
    TL_TRY(tl_mat_alloc(&w->Yt, n, b));
    TL_ALLOC(w->Vf, b * b);
    TL_ALLOC(w->VTf, b * ((b + 15) & ~(size_t)15));
    TL_ALLOC(w->K2f, n * ((b + 15) & ~(size_t)15));
    TL_ALLOC(w->N2f, n * ((b + 15) & ~(size_t)15));
    TL_ALLOC(w->e, b);
    TL_ALLOC(w->h, b);
    TL_ALLOC(w->ht, b);
done:
    if (st != TL_OK) loo_width_free(w);
    return st;
}

static void loo_scratch_free(loo_scratch *s) {
    tl_mat_free(&s->R);
    tl_mat_free(&s->G);
    tl_mat_free(&s->Z);
    tl_free(s->Rf);
    tl_free(s->Gf);
    tl_free(s->d);
    tl_free(s->q);
    tl_free(s->zero);
    tl_free(s->sv);
    tl_free(s->wde);
    tl_free(s->wnu);
    tl_free(s->ok);
    memset(s, 0, sizeof *s);
}

static tl_status loo_scratch_alloc(loo_scratch *s, size_t b, size_t n) {
    tl_status st = TL_OK;
    memset(s, 0, sizeof *s);
    TL_TRY(tl_mat_alloc(&s->R, n, b));
    TL_TRY(tl_mat_alloc(&s->G, n, b));
    TL_TRY(tl_mat_alloc(&s->Z, n, b));
    TL_ALLOC(s->Rf, n * b);
    TL_ALLOC(s->Gf, n * b);
    TL_ALLOC(s->d, b);
    TL_ALLOC(s->q, b);
    TL_CALLOC(s->zero, b);
    TL_ALLOC(s->sv, n);
    TL_ALLOC(s->wde, n);
    TL_ALLOC(s->wnu, n);
    TL_ALLOC(s->ok, n);
done:
    if (st != TL_OK) loo_scratch_free(s);
    return st;
}

static void col_mean(tl_mat K, double *m) {
    for (size_t l = 0; l < K.cols; l++) m[l] = 0.0;
    for (size_t j = 0; j < K.rows; j++)
        for (size_t l = 0; l < K.cols; l++) m[l] += TL_AT(K, j, l);
    for (size_t l = 0; l < K.cols; l++) m[l] /= (double)K.rows;
}

/* Per lambda, rows [0, n): t_j, the two C^{-1}-weighted dot products and s_j in the eigenbasis,
 * then R_j = d .* (nt ht - yt_j + s_j ys_j). Ys, Yt, R (n, b) with ld = b; with Rf non-NULL, R_j
 * goes there in single precision instead (the full-product path reads nothing else of it). */
TLI_INLINE void rows_R_body(size_t n, size_t b, double ns, double nt, const double *d,
                            const double *ht, const double *Ys, const double *Yt, double *R,
                            float *Rf, double *sv) {
    size_t b4 = 0;
#if TLI_VEC
    b4 = b & ~(size_t)3;
#endif
    for (size_t j = 0; j < n; j++) {
        const double *ys = Ys + j * b, *yt = Yt + j * b;
        double *r = Rf ? NULL : R + j * b;
        float *rf = Rf ? Rf + j * b : NULL;
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
            if (rf) {
                tli_f4 vf = __builtin_convertvector(v, tli_f4);
                memcpy(rf + l, &vf, sizeof vf);
            } else {
                memcpy(r + l, &v, sizeof v);
            }
        }
#endif
        for (size_t l = b4; l < b; l++) {
            double v = d[l] * (nt * ht[l] - yt[l] + s * ys[l]);
            if (rf)
                rf[l] = (float)v;
            else
                r[l] = v;
        }
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
                            float *Rf, double *sv) {
    rows_R_body(n, b, ns, nt, d, ht, Ys, Yt, R, Rf, sv);
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
                                        double *R, float *Rf, double *sv) {
    rows_R_body(n, b, ns, nt, d, ht, Ys, Yt, R, Rf, sv);
}
#endif

/* rows_R_body on rows [j0, j1) of a prepared width, the vector level chosen by simd. */
static void rows_R(int simd, size_t j0, size_t j1, size_t b, double ns, double nt, const double *d,
                   const loo_width *w, double *R, float *Rf, double *sv) {
    const double *Ys = w->Ys.data + j0 * b, *Yt = w->Yt.data + j0 * b;
    double *Rj = R ? R + j0 * b : NULL;
    float *Rfj = Rf ? Rf + j0 * b : NULL;
#if TLI_AVX2
    if (simd) {
        rows_R_avx2(j1 - j0, b, ns, nt, d, w->ht, Ys, Yt, Rj, Rfj, sv + j0);
        return;
    }
#else
    (void)simd;
#endif
    rows_R_portable(j1 - j0, b, ns, nt, d, w->ht, Ys, Yt, Rj, Rfj, sv + j0);
}

/* One width's ingredients from its designs Ks (ns, b), Kt (nt, b): H = Ks^T Ks / ns, h = mean of
 * Kt's rows, H = V diag(e) V^T, the eigenbasis rows Ys = K2 V, Yt = N2 V of the n held-out pairs,
 * ht = V^T h, V in single, and for the AVX-512 path V^T and the pairs' design rows in single,
 * zero-padded to a multiple of 16 columns (the fused step then streams half the bytes). */
static tl_status loo_prepare(tl_mat Ks, tl_mat Kt, size_t n, int simd, loo_width *w) {
    tl_status st = TL_OK;
    size_t ns = Ks.rows, b = Ks.cols;
    tl_mat K2 = tl_mat_rows(Ks, 0, n), N2 = tl_mat_rows(Kt, 0, n);
    TL_TRY(tl_syrk(TL_TRANS, 1.0 / (double)ns, Ks, 0.0, w->H));
    col_mean(Kt, w->h);
    TL_TRY(tl_eig_sym(w->H, TL_EIG_ALL, b, w->e, w->V));
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, K2, w->V, 0.0, w->Ys)); /* rows: V^T phi_s(j) */
    TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, N2, w->V, 0.0, w->Yt)); /* rows: V^T phi_t(j) */
    TL_TRY(tl_gemv(TL_TRANS, 1.0, w->V, w->h, 0.0, w->ht));
    for (size_t l = 0; l < b * b; l++) w->Vf[l] = (float)w->V.data[l];
    const size_t bp = (b + 15) & ~(size_t)15;
    for (size_t k = 0; k < b; k++)
        for (size_t l = 0; l < bp; l++) w->VTf[k * bp + l] = l < b ? w->Vf[l * b + k] : 0.0f;
    for (size_t j = 0; simd >= 2 && j < n; j++) /* the fused path reads these */
        for (size_t l = 0; l < bp; l++) {
            w->K2f[j * bp + l] = l < b ? (float)TL_AT(K2, j, l) : 0.0f;
            w->N2f[j * bp + l] = l < b ? (float)TL_AT(N2, j, l) : 0.0f;
        }
done:
    return st;
}

/* The leave-one-out score of one lambda for a prepared width (w, its designs Ks, Kt; n held-out
 * pairs), in the scratch s. A lambda for which H + lambda' I is not positive definite scores
 * +inf. Reads nothing but w, Ks, Kt: any thread may score any width's lambdas. */
static tl_status loo_score(const loo_width *w, tl_mat Ks, tl_mat Kt, size_t n, double lam,
                           loo_scratch *s, int simd, double *score) {
    tl_status st = TL_OK;
    size_t ns = Ks.rows, nt = Kt.rows, b = Ks.cols;
    tl_mat K2 = tl_mat_rows(Ks, 0, n), N2 = tl_mat_rows(Kt, 0, n);
    double f = (double)(ns - 1) / ((double)ns * (double)(nt - 1));
    TL_CHECK_INT(n * b, "leave-one-out rows x centres");
#if !TLI_AVX2
    (void)simd;
#endif
    double lp = lam * (double)(ns - 1) / (double)ns, emax = fabs(w->e[b - 1]);
    int pd = 1;
    for (size_t l = 0; l < b; l++) {
        double den = w->e[l] + lp;
        if (!(den > 1e-14 * (emax + lp))) pd = 0;
        s->d[l] = 1.0 / den;
    }
    if (!pd) {
        *score = INFINITY;
        goto done;
    }
    double sde = 0.0, snu = 0.0;
    /* the eigen-directions above 1e-2 lp; certification pays when they are few */
    size_t top = 0;
    while (top < b && w->e[b - 1 - top] > 1e-2 * lp) top++;
    int full = 2 * top > b;
    if (!full) {
        size_t tail = b - top, n0 = n < 16 ? n : 16;
        double ilp = 1.0 / lp;
        for (size_t l = 0; l < b; l++) s->q[l] = l < tail ? (w->e[l] * ilp) * (w->e[l] * ilp) : 0.0;
        tl_mat Vtop = tl_mat_cols(w->V, tail, top), Z = tl_mat_view(s->Z.data, n, top);
        size_t nok = 0;
        /* the first rows first: when they all need the clipping, the rest is skipped */
        for (size_t part = 0; part < 2 && !full; part++) {
            size_t j0 = part ? n0 : 0, j1 = part ? n : n0;
            if (j1 <= j0) continue;
            rows_R(simd, j0, j1, b, (double)ns, (double)nt, s->d, w, s->R.data, NULL, s->sv);
            for (size_t j = j0; j < j1; j++)
                for (size_t k = 0; k < top; k++)
                    Z.data[j * top + k] = -(w->e[tail + k] * ilp) * s->R.data[j * b + tail + k];
            if (top) {
                TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, tl_mat_rows(Z, j0, j1 - j0), Vtop, 0.0,
                               tl_mat_rows(s->G, j0, j1 - j0)));
            }
            /* no top directions: their part is 0, one row of zeros read for every row */
            const double *Tp = top ? s->G.data : s->zero;
            size_t ldT = top ? b : 0;
#if TLI_AVX2
            if (simd)
                nok += cert_avx2(j0, j1, b, ilp, f, (double)nt, w->h, s->q, s->R.data,
                                 Tp, ldT, w->Ys.data, w->Yt.data, s->sv, K2.data, K2.ld,
                                 N2.data, N2.ld, s->ok, s->wde, s->wnu);
            else
#endif
                nok += cert_portable(j0, j1, b, ilp, f, (double)nt, w->h, s->q, s->R.data,
                                     Tp, ldT, w->Ys.data, w->Yt.data, s->sv, K2.data, K2.ld,
                                     N2.data, N2.ld, s->ok, s->wde, s->wnu);
            if (part == 0 && nok == 0) full = 1;
        }
        if (!full) {
            /* the rows that may clip: exactly, G_j = f V R_j for those rows in one GEMM */
            size_t nbad = 0;
            for (size_t j = 0; j < n; j++)
                if (!s->ok[j]) memcpy(s->Z.data + nbad++ * b, s->R.data + j * b, b * sizeof(double));
            if (nbad) {
                tl_mat Rb = tl_mat_view(s->Z.data, nbad, b), Gb = tl_mat_view(s->G.data, nbad, b);
                TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, f, Rb, w->V, 0.0, Gb));
            }
            size_t kb = 0;
            for (size_t j = 0; j < n; j++) {
                if (!s->ok[j]) {
                    const double *g = s->G.data + kb++ * b, *ps = K2.data + j * K2.ld,
                                 *pt = N2.data + j * N2.ld;
                    double a = 0.0, c = 0.0;
                    for (size_t l = 0; l < b; l++) {
                        double al = g[l] > 0.0 ? g[l] : 0.0;
                        a += ps[l] * al;
                        c += pt[l] * al;
                    }
                    s->wde[j] = a;
                    s->wnu[j] = c;
                }
                sde += s->wde[j] * s->wde[j];
                snu += s->wnu[j];
            }
        }
    }
    if (full) /* R straight into single precision */
        rows_R(simd, 0, n, b, (double)ns, (double)nt, s->d, w, NULL, s->Rf, s->sv);
    if (full && simd >= 2) { /* the same, fused in registers (ulsif_clip_avx512.c) */
        size_t bp = (b + 15) & ~(size_t)15;
        tli_ulsif_clip_avx512(n, b, s->Rf, w->VTf, bp, (float)f, w->K2f, bp, w->N2f, bp,
                              s->wde, s->wnu, &sde, &snu);
    } else if (full) { /* rows: A_j unclipped, f V R_j, in single precision (see the top) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)b, (int)b, (float)f,
                    s->Rf, (int)b, w->Vf, (int)b, 0.0f, s->Gf, (int)b);
#if TLI_AVX2
        if (simd)
            rows_score_f_avx2(n, b, s->Gf, K2.data, K2.ld, N2.data, N2.ld, &sde, &snu);
        else
#endif
            rows_score_f_portable(n, b, s->Gf, K2.data, K2.ld, N2.data, N2.ld, &sde, &snu);
    }
    *score = sde / (2.0 * (double)n) - snu / (double)n;
done:
    return st;
}

/* The candidates on T workers (tl_parallel_tasks, one task per worker). A worker claims the next width,
 * computes its designs from the distances into its own buffers (W > 1; with one width the given
 * designs Ks[0], Kt[0]), prepares it (loo_prepare) and publishes it; then every worker scores the
 * published widths' lambdas, its own first, any other's once no width is left to claim, so the
 * last widths do not leave a core idle behind them (the widths differ in cost: a wide kernel keeps
 * many eigenvalues above lambda and needs the full products). A worker reuses its buffers only
 * after its width's claimed lambdas are all scored. Each score depends only on its width's data,
 * whoever computes it: the scores are the same for any T and any timing. */
typedef struct {
    size_t w, next, done; /* the width; its lambdas claimed, scored */
    int active;
} ulsif_slot;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next_w, preparing; /* widths claimed; claimed but not yet published */
    int abort;
    ulsif_slot *slot;         /* (T) */
    size_t nw_slots;          /* T */
    size_t n, L, W, b;
    const double *lams, *g;
    tl_mat Ds, Dt;            /* (ns, b), (nt, b) squared distances, W > 1 */
    tl_mat *Ks, *Kt;          /* (T) design buffers; [0] the given designs when W = 1 */
    loo_width *lw;            /* (T) */
    loo_scratch *ls;          /* (T) */
    int simd;
    double *scores;           /* (W, L) */
    double *Hs, *hs;          /* (W, b, b), (W, b): each width's H and h, for the final fit */
} ulsif_sched;

/* Scores the next unclaimed lambda of worker u's width with worker k's scratch; 0 when none. */
static int score_next(ulsif_sched *S, size_t u, size_t k, tl_status *st) {
    pthread_mutex_lock(&S->mu);
    ulsif_slot *sl = &S->slot[u];
    if (!sl->active || sl->next >= S->L || S->abort) {
        pthread_mutex_unlock(&S->mu);
        return 0;
    }
    size_t i = sl->next++, w = sl->w, dk = S->W > 1 ? u : 0;
    pthread_mutex_unlock(&S->mu);
    tl_status s = loo_score(&S->lw[u], S->Ks[dk], S->Kt[dk], S->n, S->lams[i], &S->ls[k], S->simd,
                            &S->scores[w * S->L + i]);
    pthread_mutex_lock(&S->mu);
    sl->done++;
    if (s != TL_OK) {
        S->abort = 1;
        if (*st == TL_OK) *st = s;
    }
    pthread_cond_broadcast(&S->cv);
    pthread_mutex_unlock(&S->mu);
    return 1;
}

static tl_status sched_worker(void *v, size_t k, size_t thread) {
    (void)thread; /* buffers belong to the worker k */
    ulsif_sched *S = v;
    tl_status st = TL_OK;
    for (;;) { /* own widths */
        pthread_mutex_lock(&S->mu);
        size_t w = S->abort || S->next_w >= S->W ? S->W : S->next_w++;
        if (w < S->W) S->preparing++;
        pthread_mutex_unlock(&S->mu);
        if (w == S->W) break;
        size_t dk = S->W > 1 ? k : 0;
        if (S->W > 1) {
            tli_rbf_from_sqdist(S->Ds, S->g[w], S->Ks[k]);
            tli_rbf_from_sqdist(S->Dt, S->g[w], S->Kt[k]);
        }
        st = loo_prepare(S->Ks[dk], S->Kt[dk], S->n, S->simd, &S->lw[k]);
        if (st == TL_OK) {
            memcpy(S->Hs + w * S->b * S->b, S->lw[k].H.data, S->b * S->b * sizeof(double));
            memcpy(S->hs + w * S->b, S->lw[k].h, S->b * sizeof(double));
        }
        pthread_mutex_lock(&S->mu);
        S->preparing--;
        if (st == TL_OK) {
            ulsif_slot sl = {w, 0, 0, 1};
            S->slot[k] = sl;
        } else {
            S->abort = 1;
        }
        pthread_cond_broadcast(&S->cv);
        pthread_mutex_unlock(&S->mu);
        if (st != TL_OK) return st;
        while (score_next(S, k, k, &st)) {
        }
        pthread_mutex_lock(&S->mu); /* the lambdas others claimed: scored before the buffers go */
        while (S->slot[k].done < S->slot[k].next) pthread_cond_wait(&S->cv, &S->mu);
        S->slot[k].active = 0;
        pthread_mutex_unlock(&S->mu);
        if (st != TL_OK) return st;
    }
    for (;;) { /* no width left to claim: the others' lambdas */
        int any = 0;
        for (size_t u = 0; u < S->nw_slots; u++) any |= score_next(S, u, k, &st);
        if (any) continue;
        pthread_mutex_lock(&S->mu);
        int avail = 0; /* published between the scan and the lock */
        for (size_t u = 0; u < S->nw_slots; u++)
            avail |= S->slot[u].active && S->slot[u].next < S->L;
        int wait = !avail && !S->abort && S->preparing > 0; /* a width about to be published */
        if (wait) pthread_cond_wait(&S->cv, &S->mu);
        pthread_mutex_unlock(&S->mu);
        if (!avail && !wait) break;
    }
    return st;
}

tl_status tli_ulsif(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w, tl_weight_info *info, tli_ratio *ratio) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL}, Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL};
    tl_mat Ds = {0, 0, 0, NULL}, Dt = {0, 0, 0, NULL}, H = {0, 0, 0, NULL};
    tl_mat Ks[TLI_MAX_WIDTHS], Kt[TLI_MAX_WIDTHS];
    loo_width *lw = NULL;   /* (T) one prepared width per worker */
    loo_scratch *ls = NULL; /* (T) */
    ulsif_slot *slots = NULL;
    double *h = NULL, *alpha = NULL, *sc = NULL, *Hs = NULL, *hs = NULL;
    size_t kbest = 0; /* the chosen width, whose H (without lambda) and h the selection kept */
    int have_H = 0;
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
        size_t nthr = tli_threads(p, W * L), nthr_d = tli_threads(p, 2 * TLI_MAX_WIDTHS);
        if (nthr > TLI_MAX_WIDTHS) nthr = TLI_MAX_WIDTHS;
        blas_saved = tli_blas_serial();
        TL_ALLOC(sc, W * L);
        TL_ALLOC(Hs, W * b * b);
        TL_ALLOC(hs, W * b);
        TL_CALLOC(lw, nthr);
        TL_CALLOC(ls, nthr);
        TL_CALLOC(slots, nthr);
        for (T = 0; T < nthr;) { /* T counts the workers to free, a failed one included */
            T++;
            TL_TRY(loo_width_alloc(&lw[T - 1], b, n));
            TL_TRY(loo_scratch_alloc(&ls[T - 1], b, n));
        }
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
        ulsif_sched S;
        memset(&S, 0, sizeof S);
        TL_CHECK(pthread_mutex_init(&S.mu, NULL) == 0, TL_ERR_NOMEM, "ulsif: cannot create a mutex");
        if (pthread_cond_init(&S.cv, NULL) != 0) {
            pthread_mutex_destroy(&S.mu);
            TL_CHECK(0, TL_ERR_NOMEM, "ulsif: cannot create a condition variable");
        }
        S.slot = slots;
        S.nw_slots = T;
        S.n = n, S.L = L, S.W = W, S.b = b;
        S.lams = lams, S.g = g, S.Ds = Ds, S.Dt = Dt, S.Ks = Ks, S.Kt = Kt, S.lw = lw, S.ls = ls;
        S.simd = tli_have_avx512() ? 2 : tli_have_avx2(); /* 2 AVX-512, 1 AVX2, 0 portable */
        S.scores = sc, S.Hs = Hs, S.hs = hs;
        st = tl_parallel_tasks(T, T, sched_worker, &S);
        pthread_cond_destroy(&S.cv);
        pthread_mutex_destroy(&S.mu);
        if (st != TL_OK) goto done;
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
        } else { /* the one width's design is the final one */
            tl_mat t = Ps;
            Ps = Ks[0];
            Ks[0] = t;
        }
        kbest = kb; /* its h and H (without lambda), as the fit below would compute them */
        memcpy(h, hs + kb * b, b * sizeof *h);
        have_H = 1;
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
    for (size_t t = 0; t < T; t++) {
        loo_width_free(&lw[t]);
        loo_scratch_free(&ls[t]);
    }
    for (size_t i = 0; i < TLI_MAX_WIDTHS; i++) {
        tl_mat_free(&Ks[i]);
        tl_mat_free(&Kt[i]);
    }
    tl_mat_free(&Pt);
    tl_mat_free(&Dt);
    tl_mat_free(&Ds);
    TL_TRY(tl_mat_alloc(&H, b, b));
    if (have_H) /* bit for bit the SYRK below, on the same design */
        memcpy(H.data, Hs + kbest * b * b, b * b * sizeof(double));
    else
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
    if (ratio) tli_ratio_take_kernel(ratio, &kk, &C, &alpha); /* the function behind w */
done:
    if (blas_saved > 0) tli_blas_restore(blas_saved);
    for (size_t t = 0; lw && t < T; t++) {
        loo_width_free(&lw[t]);
        loo_scratch_free(&ls[t]);
    }
    tl_free(lw);
    tl_free(ls);
    tl_free(slots);
    tl_free(Hs);
    tl_free(hs);
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
