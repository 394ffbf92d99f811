/* Exact t-SNE to two dimensions (van der Maaten & Hinton, JMLR 2008) for the report's optional
 * second view (tl_run_opts.report_tsne): the rows are the view's own, at most
 * 2 x TL_REPORT_VIEW_ROWS, so the O(m^2) exact form costs well under a second and needs no
 * Barnes-Hut tree. PCA shows the directions of largest variance; t-SNE shows which rows are
 * neighbours, so whether the mapping brought the target's classes next to the source's.
 *
 * The steps are the reference implementation's (tsne.py, and scikit-learn's exact method):
 * squared distances from one BLAS Gram product (or, for sparse rows, the Gram matrix of their
 * sparse products: tlx_tsne2_gram); per row a bisection on the Gaussian's precision
 * until the conditional distribution's perplexity is TLX_TSNE_PERPLEXITY (less for few rows);
 * P symmetrised; the map started from N(0, 1e-4) drawn with the run's seed; gradient descent
 * with momentum and per-coordinate gains, P exaggerated 12-fold for the first quarter of the
 * iterations. Every loop runs in a fixed order on one thread, so a seed gives the same picture
 * bit for bit. Each axis' sign is then fixed as the PCA view's (largest coordinate positive). */
#include <math.h>
#include <string.h>

#include "internal/check.h"
#include "pipeline_internal.h"

#define EXAGGERATION 12.0
#define P_FLOOR 1e-12

/* Row i's conditional P (p, m) from its squared distances D (m): bisection on beta = 1 / 2s^2
 * for entropy log(perp). */
static void row_affinities(const double *D, size_t m, size_t i, double perp, double *p) {
    double lo = 0, hi = INFINITY, beta = 1, target = log(perp), dmin = INFINITY;
    for (size_t j = 0; j < m; j++)
        if (j != i && D[j] < dmin) dmin = D[j];
    for (int it = 0; it < 200; it++) {
        double sum = 0, dsum = 0;
        for (size_t j = 0; j < m; j++) {
            p[j] = j == i ? 0 : exp(-(D[j] - dmin) * beta);
            sum += p[j];
            dsum += (D[j] - dmin) * p[j];
        }
        double h = log(sum) + beta * dsum / sum; /* the entropy, in nats */
        if (fabs(h - target) < 1e-6) break;
        if (h > target) { /* too flat: a larger precision */
            lo = beta;
            beta = isinf(hi) ? 2 * beta : 0.5 * (beta + hi);
        } else {
            hi = beta;
            beta = 0.5 * (beta + lo);
        }
    }
    double sum = 0;
    for (size_t j = 0; j < m; j++) sum += p[j];
    for (size_t j = 0; j < m; j++) p[j] = sum > 0 ? p[j] / sum : (j == i ? 0 : 1.0 / (double)(m - 1));
}

tl_status tlx_tsne2(tl_mat X, size_t iters, uint64_t seed, double *out) {
    tl_status st = TL_OK;
    tl_mat G = {0, 0, 0, NULL};
    memset(out, 0, 2 * X.rows * sizeof *out);
    if (X.rows < 3) return TL_OK;
    TL_TRY(tl_mat_alloc(&G, X.rows, X.rows));
    TL_TRY(tl_syrk(TL_NOTRANS, 1.0, X, 0.0, G));
    TL_TRY(tlx_tsne2_gram(G, iters, seed, out));
done:
    tl_mat_free(&G);
    return st;
}

tl_status tlx_tsne2_gram(tl_mat G, size_t iters, uint64_t seed, double *out) {
    tl_status st = TL_OK;
    double *P = NULL, *num = NULL, *grad = NULL, *upd = NULL, *gain = NULL, *sq = NULL;
    size_t m = G.rows;
    memset(out, 0, 2 * m * sizeof *out);
    if (m < 3) return TL_OK; /* nothing to lay out: two points are a line */
    size_t mm = m * m;       /* m <= 2 * TL_REPORT_VIEW_ROWS: no overflow */
    TL_ALLOC(sq, m);
    TL_ALLOC(P, mm);
    for (size_t i = 0; i < m; i++) sq[i] = TL_AT(G, i, i);
    for (size_t i = 0; i < m; i++) /* squared distances in place (row j < i already done) */
        for (size_t j = 0; j < m; j++) {
            double d = j < i ? TL_AT(G, j, i) : sq[i] + sq[j] - 2 * TL_AT(G, i, j);
            TL_AT(G, i, j) = d > 0 && i != j ? d : 0;
        }
    double perp = TLX_TSNE_PERPLEXITY;
    if (perp > (double)(m - 1) / 3) perp = fmax(1.0, (double)(m - 1) / 3);
    for (size_t i = 0; i < m; i++) row_affinities(&TL_AT(G, i, 0), m, i, perp, P + i * m);
    for (size_t i = 0; i < m; i++) /* symmetric, summing to 1 */
        for (size_t j = i; j < m; j++) {
            double v = fmax((P[i * m + j] + P[j * m + i]) / (2.0 * (double)m), P_FLOOR);
            P[i * m + j] = P[j * m + i] = i == j ? 0 : v;
        }
    TL_ALLOC(num, mm);
    TL_CALLOC(grad, 2 * m);
    TL_CALLOC(upd, 2 * m);
    TL_ALLOC(gain, 2 * m);
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    for (size_t i = 0; i < 2 * m; i++) out[i] = 1e-4 * tl_rng_normal(&rng), gain[i] = 1;
    double eta = fmax((double)m / EXAGGERATION / 4.0, 50.0);
    size_t early = iters / 4;
    for (size_t it = 0; it < iters; it++) {
        double ex = it < early ? EXAGGERATION : 1.0, mom = it < early ? 0.5 : 0.8, z = 0;
        for (size_t i = 0; i < m; i++) { /* the Student-t kernel, once per pair */
            num[i * m + i] = 0;
            for (size_t j = i + 1; j < m; j++) {
                double dx = out[2 * i] - out[2 * j], dy = out[2 * i + 1] - out[2 * j + 1];
                double q = 1.0 / (1.0 + dx * dx + dy * dy);
                num[i * m + j] = num[j * m + i] = q;
                z += 2 * q;
            }
        }
        for (size_t i = 0; i < m; i++) {
            double gx = 0, gy = 0;
            for (size_t j = 0; j < m; j++) {
                double q = num[i * m + j], f = (ex * P[i * m + j] - q / z) * q;
                gx += f * (out[2 * i] - out[2 * j]);
                gy += f * (out[2 * i + 1] - out[2 * j + 1]);
            }
            grad[2 * i] = 4 * gx;
            grad[2 * i + 1] = 4 * gy;
        }
        double mean[2] = {0, 0};
        for (size_t k = 0; k < 2 * m; k++) {
            /* the gains grow where the gradient keeps flipping the step's direction */
            gain[k] = (grad[k] > 0) != (upd[k] > 0) ? gain[k] + 0.2 : fmax(gain[k] * 0.8, 0.01);
            upd[k] = mom * upd[k] - eta * gain[k] * grad[k];
            out[k] += upd[k];
            mean[k % 2] += out[k] / (double)m;
        }
        for (size_t k = 0; k < 2 * m; k++) out[k] -= mean[k % 2];
    }
    tlx_view_fix_signs(out, m);
done:
    tl_free(sq);
    tl_free(P);
    tl_free(num);
    tl_free(grad);
    tl_free(upd);
    tl_free(gain);
    return st;
}
