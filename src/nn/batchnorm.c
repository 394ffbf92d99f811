/* Batch normalisation (Ioffe & Szegedy 2015) over the channel axis, as PyTorch's BatchNorm1d/2d
 * (eps 1e-5, momentum 0.1): x (B, C, H, W), statistics per channel over B*H*W values.
 *   train: mu, var = batch mean and biased variance; y = w (x - mu) / sqrt(var + eps) + b;
 *          running_mean += 0.1 (mu - running_mean), running_var += 0.1 (var * m/(m-1) -
 *          running_var) with the unbiased variance, m = B*H*W (PyTorch's convention)
 *   eval:  the running statistics instead of the batch's.
 * Backward in training mode (xh = (x - mu) / sigma, m values per channel):
 *   dw += sum dy xh,  db += sum dy,  dx = w / (sigma m) (m dy - sum dy - xh sum dy xh)
 * and in eval mode dx = w dy / sqrt(running_var + eps). Frozen layers run in eval mode.
 * Sums are accumulated in double: a channel can hold B*H*W = 50 000 values per batch. With the
 * batch split over threads, each pass is cut in two around a reduction of per-channel partial
 * sums (see nn_internal.h), so every thread sees the statistics of the whole batch. */
#include <math.h>

#include "nn/nn_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

/* Sum of x[0..n) and of (x - c)^2: eight float lanes (vectorisable without reassociation
 * flags) flushed into double every 512 values, so rounding stays at float precision per block
 * while the total keeps double precision. */
static void sums(const float *restrict x, size_t n, float c, double *s1, double *s2) {
    float a[8] = {0}, b[8] = {0};
    double t1 = 0.0, t2 = 0.0;
    size_t i = 0;
    while (i + 8 <= n) {
        const size_t end = (n - i) / 8 * 8 < 512 ? i + (n - i) / 8 * 8 : i + 512;
        for (; i < end; i += 8)
            for (int k = 0; k < 8; k++) {
                const float v = x[i + (size_t)k];
                a[k] += v;
                b[k] += (v - c) * (v - c);
            }
        for (int k = 0; k < 8; k++) {
            t1 += a[k];
            t2 += b[k];
            a[k] = b[k] = 0.0f;
        }
    }
    for (; i < n; i++) {
        t1 += x[i];
        t2 += ((double)x[i] - c) * ((double)x[i] - c);
    }
    *s1 += t1;
    *s2 += t2;
}

/* sum of g and of g * (x - c), as above */
static void dsums(const float *restrict g, const float *restrict x, size_t n, float c, double *s1,
                  double *s2) {
    float a[8] = {0}, b[8] = {0};
    double t1 = 0.0, t2 = 0.0;
    size_t i = 0;
    while (i + 8 <= n) {
        const size_t end = (n - i) / 8 * 8 < 512 ? i + (n - i) / 8 * 8 : i + 512;
        for (; i < end; i += 8)
            for (int k = 0; k < 8; k++) {
                const float gv = g[i + (size_t)k];
                a[k] += gv;
                b[k] += gv * (x[i + (size_t)k] - c);
            }
        for (int k = 0; k < 8; k++) {
            t1 += a[k];
            t2 += b[k];
            a[k] = b[k] = 0.0f;
        }
    }
    for (; i < n; i++) {
        t1 += g[i];
        t2 += (double)g[i] * ((double)x[i] - c);
    }
    *s1 += t1;
    *s2 += t2;
}

#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1

void nn_bn_stats(const nn_layer *L, const float *x, const float *x0, size_t B, double *red) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    for (size_t c = 0; c < C; c++) {
        double s1 = 0.0, s2 = 0.0;
        const float pilot = x0[c * HW];
        for (size_t n = 0; n < B; n++) sums(x + (n * C + c) * HW, HW, pilot, &s1, &s2);
        red[2 * c] = s1;
        red[2 * c + 1] = s2;
    }
}

void nn_bn_set_stats(tl_nn *nn, nn_layer *L, size_t c, double mean, double var, double m) {
    float *rm = nn->t[L->rm].data, *rv = nn->t[L->rv].data;
    if (var < 0) var = 0;
    L->s_mean[c] = (float)mean;
    L->s_invstd[c] = (float)(1.0 / sqrt(var + BN_EPS));
    rm[c] = (float)((1.0 - BN_MOMENTUM) * rm[c] + BN_MOMENTUM * mean);
    const double unb = m > 1 ? var * m / (m - 1) : var;
    rv[c] = (float)((1.0 - BN_MOMENTUM) * rv[c] + BN_MOMENTUM * unb);
}

void nn_bn_finish(tl_nn *nn, nn_layer *L, const float *x0, const double *tot, size_t B) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    const double m = (double)(B * HW);
    for (size_t c = 0; c < C; c++) {
        /* sum and sum of squares about a pilot value (the batch's first element of the channel),
         * which removes the cancellation of E[x^2] - E[x]^2 for data far from 0 */
        const double pilot = x0[c * HW], mean = tot[2 * c] / m, dm = mean - pilot;
        nn_bn_set_stats(nn, L, c, mean, tot[2 * c + 1] / m - dm * dm, m);
    }
}

/* mean and 1/std of channel c in the mode given */
static void bn_moments(const tl_nn *nn, const nn_layer *L, size_t c, bool train, double *mean,
                       double *invstd) {
    if (train) {
        *mean = L->s_mean[c];
        *invstd = L->s_invstd[c];
    } else {
        *mean = nn->t[L->rm].data[c];
        *invstd = 1.0 / sqrt((double)nn->t[L->rv].data[c] + BN_EPS);
    }
}

void nn_bn_apply(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B, bool train) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    const float *w = nn->t[L->w].data, *b = nn->t[L->b].data;
    for (size_t c = 0; c < C; c++) {
        double mean, invstd;
        bn_moments(nn, L, c, train, &mean, &invstd);
        const float scale = (float)(w[c] * invstd), shift = (float)(b[c] - w[c] * mean * invstd);
        for (size_t n = 0; n < B; n++) {
            const float *restrict p = x + (n * C + c) * HW;
            float *restrict q = y + (n * C + c) * HW;
            for (size_t k = 0; k < HW; k++) q[k] = p[k] * scale + shift;
        }
    }
}

void nn_bn_eval_affine(const tl_nn *nn, const nn_layer *L, size_t c, float *scale, float *shift) {
    const float *w = nn->t[L->w].data, *b = nn->t[L->b].data;
    double mean, invstd;
    bn_moments(nn, L, c, false, &mean, &invstd);
    *scale = (float)(w[c] * invstd);
    *shift = (float)(b[c] - w[c] * mean * invstd);
}

void nn_bn_grad_sums(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy, size_t B,
                     bool train, double *red) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    for (size_t c = 0; c < C; c++) {
        double mean, invstd, sdy = 0.0, sdyx = 0.0;
        bn_moments(nn, L, c, train, &mean, &invstd);
        for (size_t n = 0; n < B; n++)
            dsums(dy + (n * C + c) * HW, x + (n * C + c) * HW, HW, (float)mean, &sdy, &sdyx);
        sdyx += ((double)(float)mean - mean) * sdy; /* centre exactly on the double mean */
        red[2 * c] = sdy;
        red[2 * c + 1] = sdyx * invstd;
    }
}

void nn_bn_grad_finish(tl_nn *nn, const nn_layer *L, double *tot, bool train) {
    (void)train;
    nn_tensor *wt = &nn->t[L->w], *bt = &nn->t[L->b];
    for (size_t c = 0; c < L->in.c; c++) {
        wt->grad[c] += (float)tot[2 * c + 1];
        bt->grad[c] += (float)tot[2 * c];
    }
}

void nn_bn_dx(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy, float *dx,
              size_t B, bool train, const double *tot, size_t Btotal) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    const float *wt = nn->t[L->w].data;
    for (size_t c = 0; c < C; c++) {
        double mean, invstd;
        bn_moments(nn, L, c, train, &mean, &invstd);
        const double w = wt[c];
        if (train) {
            const double m = (double)(Btotal * HW);
            const float k1 = (float)(w * invstd), k2 = (float)(w * invstd * tot[2 * c] / m);
            const float k3 = (float)(w * invstd * tot[2 * c + 1] / m);
            const float mf = (float)mean, isf = (float)invstd;
            for (size_t n = 0; n < B; n++) {
                const float *restrict p = x + (n * C + c) * HW, *restrict g = dy + (n * C + c) * HW;
                float *restrict d = dx + (n * C + c) * HW;
                for (size_t k = 0; k < HW; k++) d[k] = k1 * g[k] - k2 - k3 * ((p[k] - mf) * isf);
            }
        } else {
            const float k1 = (float)(w * invstd);
            for (size_t n = 0; n < B; n++) {
                const float *restrict g = dy + (n * C + c) * HW;
                float *restrict d = dx + (n * C + c) * HW;
                for (size_t k = 0; k < HW; k++) d[k] = k1 * g[k];
            }
        }
    }
}
