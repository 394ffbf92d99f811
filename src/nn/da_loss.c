/* Losses for domain adaptation and multi-task steps of the trainer (trainer.c). Each returns the
 * loss and ADDS scale x its gradient into the buffers given (NULL: not wanted), so several losses
 * sum into one output gradient or one tap. All sums in double.
 *
 *   weighted cross-entropy   L = (1/B) sum_i w_i (logsumexp(z_i) - z_i,y_i)
 *   entropy (minimisation)   L = (1/B) sum_i w_i H(softmax z_i),  dH/dz_j = -p_j (log p_j + H)
 *   Deep CORAL (Sun & Saenko, ECCV-W 2016)
 *                            L = ||C_s - C_t||_F^2 / (4 d^2),  C = Xc^T Xc / (n - 1), Xc centred;
 *                            dL/dXs = Xc_s (C_s - C_t) / (d^2 (n_s - 1)), dL/dXt the same with -,
 *                            the covariances by BLAS (dsyrk).
 *   MK-MMD (Long et al., DAN, ICML 2015; Gretton et al., NIPS 2012): the kernel is a family of
 *     RBF kernels k(a, b) = sum_u exp(-||a - b||^2 / s_u), s_u = s mul^(u - floor(m/2)),
 *     u = 0..m-1, around a base width s = the mean squared distance of the pairs the estimate
 *     uses (as the reference DAN code; the width is a constant to the gradient, as that code
 *     detaches it).
 *       quadratic: the biased estimate over all pairs, mean K_ss + mean K_tt - 2 mean K_st,
 *         O(n^2 d) (the DAN reference code's mmd_rbf_noaccelerate);
 *       linear: DAN's linear-time unbiased estimate over quads (x_2i, x_2i+1, y_2i, y_2i+1),
 *         mean of k(x,x') + k(y,y') - k(x,y') - k(x',y), O(n d), ns == nt, s from those pairs.
 *   CDAN (Long et al., NeurIPS 2018): the multilinear map T(f, g) = g (x) f, (B, K d), fed to
 *     the domain discriminator; CDAN+E weights each sample by w = 1 + exp(-H(g)), normalised per
 *     domain as the reference code does (weights of each domain sum to B/2, so a weighted mean
 *     over the batch equals that code's sum w bce / sum w). The weights are constants to the
 *     gradient here (the reference code also sends a reversed gradient into the entropy; we
 *     follow the paper's formula, in which they are weights). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

static void softmax_row(const float *z, size_t K, double *p) {
    double mx = z[0];
    for (size_t k = 1; k < K; k++)
        if (z[k] > mx) mx = z[k];
    double s = 0.0;
    for (size_t k = 0; k < K; k++) s += (p[k] = exp((double)z[k] - mx));
    for (size_t k = 0; k < K; k++) p[k] /= s;
}

double tl_nn_loss_xent(const float *logits, const int *y, const float *w, size_t B, size_t K,
                       double scale, float *dlogits, size_t *correct) {
    double total = 0.0;
    size_t hits = 0;
    for (size_t i = 0; i < B; i++) {
        const float *z = logits + i * K;
        size_t am = 0;
        double mx = z[0];
        for (size_t k = 1; k < K; k++)
            if (z[k] > mx) {
                mx = z[k];
                am = k;
            }
        hits += (size_t)y[i] == am;
        double se = 0.0;
        for (size_t k = 0; k < K; k++) se += exp((double)z[k] - mx);
        const double lse = log(se) + mx, wi = w ? w[i] : 1.0;
        total += wi * (lse - z[y[i]]);
        if (dlogits) {
            const double c = scale * wi / (double)B;
            for (size_t k = 0; k < K; k++) {
                const double p = exp((double)z[k] - lse);
                dlogits[i * K + k] += (float)(c * (p - ((size_t)y[i] == k)));
            }
        }
    }
    if (correct) *correct = hits;
    return total / (double)B;
}

double tl_nn_loss_entropy(const float *logits, const float *w, size_t B, size_t K, double scale,
                          float *dlogits) {
    double total = 0.0, p[256], *pp = p;
    if (K > 256) pp = tl_malloc(K * sizeof *pp);
    if (!pp) return NAN;
    for (size_t i = 0; i < B; i++) {
        softmax_row(logits + i * K, K, pp);
        double H = 0.0;
        for (size_t k = 0; k < K; k++)
            if (pp[k] > 0) H -= pp[k] * log(pp[k]);
        const double wi = w ? w[i] : 1.0;
        total += wi * H;
        if (dlogits) {
            const double c = scale * wi / (double)B;
            for (size_t k = 0; k < K; k++)
                if (pp[k] > 0) dlogits[i * K + k] += (float)(-c * pp[k] * (log(pp[k]) + H));
        }
    }
    if (pp != p) tl_free(pp);
    return total / (double)B;
}

/* Centred copy Xc (n, d) of X and its covariance C (d, d) = Xc^T Xc / (n - 1). */
static void centred_cov(const float *X, size_t n, size_t d, double *Xc, double *C) {
    for (size_t j = 0; j < d; j++) {
        double m = 0.0;
        for (size_t i = 0; i < n; i++) m += X[i * d + j];
        m /= (double)n;
        for (size_t i = 0; i < n; i++) Xc[i * d + j] = X[i * d + j] - m;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0 / (double)(n - 1), Xc,
                (int)d, 0.0, C, (int)d);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < a; b++) C[a * d + b] = C[b * d + a];
}

double tl_nn_loss_coral(const float *xs, size_t ns, const float *xt, size_t nt, size_t d,
                        double scale, float *gs, float *gt) {
    double *Xs = NULL, *Xt = NULL, *Cs = NULL, *Ct = NULL, *G = NULL, loss = NAN;
    if (ns < 2 || nt < 2 || d < 1 || d > TL_INT_MAX_DIM || ns > TL_INT_MAX_DIM || nt > TL_INT_MAX_DIM)
        return NAN;
    const size_t nm = ns > nt ? ns : nt;
    Xs = tl_malloc(ns * d * sizeof *Xs);
    Xt = tl_malloc(nt * d * sizeof *Xt);
    Cs = tl_malloc(d * d * sizeof *Cs);
    Ct = tl_malloc(d * d * sizeof *Ct);
    G = tl_malloc(nm * d * sizeof *G);
    if (!Xs || !Xt || !Cs || !Ct || !G) goto done;
    centred_cov(xs, ns, d, Xs, Cs);
    centred_cov(xt, nt, d, Xt, Ct);
    double f = 0.0;
    for (size_t k = 0; k < d * d; k++) {
        Cs[k] -= Ct[k]; /* Cs now holds D = C_s - C_t */
        f += Cs[k] * Cs[k];
    }
    const double dd = (double)d * (double)d;
    loss = f / (4.0 * dd);
    if (gs) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ns, (int)d, (int)d,
                    scale / (dd * (double)(ns - 1)), Xs, (int)d, Cs, (int)d, 0.0, G, (int)d);
        for (size_t k = 0; k < ns * d; k++) gs[k] += (float)G[k];
    }
    if (gt) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nt, (int)d, (int)d,
                    -scale / (dd * (double)(nt - 1)), Xt, (int)d, Cs, (int)d, 0.0, G, (int)d);
        for (size_t k = 0; k < nt * d; k++) gt[k] += (float)G[k];
    }
done:
    tl_free(Xs);
    tl_free(Xt);
    tl_free(Cs);
    tl_free(Ct);
    tl_free(G);
    return loss;
}

static double sqdist(const float *a, const float *b, size_t d) {
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        const double t = (double)a[j] - b[j];
        s += t * t;
    }
    return s;
}

typedef struct {
    double inv[32]; /* 1 / s_u */
    size_t m;
} mk_kernel;

static void mk_init(mk_kernel *k, double base, size_t m, double mul) {
    k->m = m;
    if (!(base > 0)) base = 1.0; /* identical points: any width */
    double s = base / pow(mul, (double)(m / 2));
    for (size_t u = 0; u < m; u++, s *= mul) k->inv[u] = 1.0 / s;
}

/* c k(a, b) added to *val; gsc c dk/da into ga, gsc c dk/db into gb (either may be NULL). */
static void mk_pair(const mk_kernel *k, const float *a, const float *b, size_t d, double c,
                    double gsc, double *val, float *ga, float *gb) {
    const double D = sqdist(a, b, d);
    double kv = 0.0, dk = 0.0; /* dk: d k / d D */
    for (size_t u = 0; u < k->m; u++) {
        const double e = exp(-D * k->inv[u]);
        kv += e;
        dk -= e * k->inv[u];
    }
    *val += c * kv;
    if (ga || gb) {
        const double f = 2.0 * gsc * c * dk; /* dk/da = dk/dD * 2 (a - b) */
        for (size_t j = 0; j < d; j++) {
            const double t = f * ((double)a[j] - b[j]);
            if (ga) ga[j] += (float)t;
            if (gb) gb[j] -= (float)t;
        }
    }
}

double tl_nn_loss_mmd(const float *xs, size_t ns, const float *xt, size_t nt, size_t d,
                      size_t kernels, double mul, double width, bool linear, double scale, float *gs,
                      float *gt) {
    if (ns < 2 || nt < 2 || d < 1 || kernels < 1 || kernels > 32 || !(mul > 1) || !(width >= 0))
        return NAN;
    mk_kernel K;
    double val = 0.0;
    if (linear) {
        const size_t n = (ns < nt ? ns : nt) / 2 * 2, q = n / 2;
        double base = 0.0;
        for (size_t i = 0; i < q; i++) {
            const float *x1 = xs + 2 * i * d, *x2 = x1 + d, *y1 = xt + 2 * i * d, *y2 = y1 + d;
            base += sqdist(x1, x2, d) + sqdist(y1, y2, d) + sqdist(x1, y2, d) + sqdist(x2, y1, d);
        }
        mk_init(&K, width > 0 ? width : base / (4.0 * (double)q), kernels, mul);
        const double c = 1.0 / (double)q;
        for (size_t i = 0; i < q; i++) {
            const float *x1 = xs + 2 * i * d, *x2 = x1 + d, *y1 = xt + 2 * i * d, *y2 = y1 + d;
            float *gx1 = gs ? gs + 2 * i * d : NULL, *gx2 = gs ? gx1 + d : NULL;
            float *gy1 = gt ? gt + 2 * i * d : NULL, *gy2 = gt ? gy1 + d : NULL;
            mk_pair(&K, x1, x2, d, c, scale, &val, gx1, gx2);
            mk_pair(&K, y1, y2, d, c, scale, &val, gy1, gy2);
            mk_pair(&K, x1, y2, d, -c, scale, &val, gx1, gy2);
            mk_pair(&K, x2, y1, d, -c, scale, &val, gx2, gy1);
        }
        return val;
    }
    /* quadratic: the base width from every pair of the joint sample (ordered, off the diagonal) */
    const size_t N = ns + nt;
    double base = 0.0;
    for (size_t i = 0; i < N && width == 0; i++)
        for (size_t j = i + 1; j < N; j++) {
            const float *a = i < ns ? xs + i * d : xt + (i - ns) * d;
            const float *b = j < ns ? xs + j * d : xt + (j - ns) * d;
            base += 2.0 * sqdist(a, b, d);
        }
    mk_init(&K, width > 0 ? width : base / (double)(N * N - N), kernels, mul);
    const double css = 1.0 / ((double)ns * ns), ctt = 1.0 / ((double)nt * nt),
                 cst = -2.0 / ((double)ns * nt);
    double v = 0.0;
    /* symmetric: each unordered pair once with twice the weight, the diagonal (k = m) once */
    for (size_t i = 0; i < ns; i++) {
        v += css * (double)K.m;
        for (size_t j = i + 1; j < ns; j++)
            mk_pair(&K, xs + i * d, xs + j * d, d, 2.0 * css, scale, &v, gs ? gs + i * d : NULL,
                    gs ? gs + j * d : NULL);
    }
    for (size_t i = 0; i < nt; i++) {
        v += ctt * (double)K.m;
        for (size_t j = i + 1; j < nt; j++)
            mk_pair(&K, xt + i * d, xt + j * d, d, 2.0 * ctt, scale, &v, gt ? gt + i * d : NULL,
                    gt ? gt + j * d : NULL);
    }
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < nt; j++)
            mk_pair(&K, xs + i * d, xt + j * d, d, cst, scale, &v, gs ? gs + i * d : NULL,
                    gt ? gt + j * d : NULL);
    (void)val;
    return v;
}

void tl_nn_cdan_map(const float *f, const float *g, size_t B, size_t d, size_t K, float *out) {
    for (size_t i = 0; i < B; i++)
        for (size_t k = 0; k < K; k++) {
            const float gk = g[i * K + k];
            float *o = out + (i * K + k) * d;
            for (size_t j = 0; j < d; j++) o[j] = gk * f[i * d + j];
        }
}

void tl_nn_cdan_map_backward(const float *f, const float *g, const float *dout, size_t B, size_t d,
                             size_t K, float *df, float *dg) {
    for (size_t i = 0; i < B; i++)
        for (size_t k = 0; k < K; k++) {
            const float *o = dout + (i * K + k) * d;
            double sg = 0.0;
            for (size_t j = 0; j < d; j++) {
                if (df) df[i * d + j] += g[i * K + k] * o[j];
                sg += (double)f[i * d + j] * o[j];
            }
            if (dg) dg[i * K + k] += (float)sg;
        }
}

void nn_cdan_entropy_raw(const float *probs, size_t ns, size_t nt, size_t K, float *w, double sum[2]) {
    sum[0] = sum[1] = 0;
    for (size_t i = 0; i < ns + nt; i++) {
        double H = 0.0;
        for (size_t k = 0; k < K; k++) {
            const double p = probs[i * K + k];
            if (p > 0) H -= p * log(p);
        }
        w[i] = (float)(1.0 + exp(-H));
        sum[i >= ns] += w[i];
    }
}

void tl_nn_cdan_entropy_weights(const float *probs, size_t ns, size_t nt, size_t K, float *w) {
    const size_t B = ns + nt;
    double sum[2];
    nn_cdan_entropy_raw(probs, ns, nt, K, w, sum);
    for (size_t i = 0; i < B; i++) w[i] = (float)(w[i] / sum[i >= ns] * (double)B / 2.0);
}
