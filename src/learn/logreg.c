/* Multinomial logistic regression with L2 penalty and sample weights, fitted by L-BFGS.
 *
 * Objective (sklearn's LogisticRegression(multi_class='multinomial', solver='lbfgs')):
 *     0.5 ||W||^2 + C sum_i w_i CE_i,   CE_i = logsumexp(z_i) - z_i[y_i],  z_i = W^T x_i + b
 * with the intercept b not penalised. It is minimised in the scaled form
 *     f = (1 / sum w) sum_i w_i CE_i + ||W||^2 / (2 C sum w)
 * (same minimiser), so that `tol` bounds max |grad f| independently of n and C, like sklearn's
 * gtol. Gradient: dW = X^T G / sum w + W / (C sum w), db = 1^T G / sum w with
 * G_i = w_i (softmax(z_i) - onehot(y_i)). The forward pass Z = X W + b and X^T G are one GEMM each
 * for dense X and O(nnz c) loops for CSR X. Two classes use the same softmax (the solution has
 * w_0 = -w_1, so probabilities match sklearn's binary multinomial model).
 *
 * L-BFGS (Nocedal & Wright, Numerical Optimization, Alg. 7.4/7.5): 10 correction pairs, two-loop
 * recursion with the initial scaling s'y / y'y, and a backtracking Armijo line search with
 * safeguarded quadratic interpolation (the objective is convex, so s'y > 0 holds and pairs with
 * s'y <= 0 from rounding are simply skipped). Stops when max |grad| <= tol, when the relative
 * decrease of f falls below 64 eps, when the line search cannot decrease f, or after max_iter;
 * only the last is reported as not converged (sklearn's ConvergenceWarning condition). A warm
 * start (C = auto's grid) begins from the previous C's weights.
 *
 * Rows held by several processes (p->comm, issue 17): each process evaluates the loss and the data
 * part of the gradient on its rows, the sums are added over the processes and process 0's bits
 * broadcast, and the penalty is added after; every process then takes the same L-BFGS steps on the
 * same numbers, so they end with one model, the one-process model to rounding (the sums are added
 * in another order, so the iterates can part in the last bits; the tests bound the difference). */
#include <float.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "internal/blocks.h"
#include "internal/check.h"
#include "learn/learn_internal.h"

#define LBFGS_MEM 10
#define LBFGS_MAXLS 50

typedef struct {
    size_t d, c;
    double *Wt; /* (d, c) */
    double *b;  /* (c) */
} logreg_model;

typedef struct {
    tl_xmat X;
    const int *yi;
    const double *w;
    size_t n, d, c;
    bool intercept;
    double inv_sw, inv_csw; /* 1 / sum w, 1 / (C sum w) */
    double *Z;              /* (n, c) logits, then G */
    const tli_job *job;     /* rows held by several processes, or NULL */
    double *buf;            /* (p + 1) their sums: the gradient's data part, then the loss */
} lr_problem;

/* g[0 .. dc) := beta g + X^T G / sum w; g[dc .. dc + c) := 1^T G / sum w (with an intercept);
 * this process's rows (n >= 1: the fit refuses none). */
static void lr_grad_data(lr_problem *P, double *g, double beta) {
    const size_t n = P->n, d = P->d, c = P->c, dc = d * c;
    if (!P->X.sparse) {
        tl_mat X = P->X.dense;
        int lda = (int)(X.ld < d ? d : X.ld);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)c, (int)n, P->inv_sw,
                    X.data, lda, P->Z, (int)c, beta, g, (int)c);
    } else {
        if (beta == 0.0) memset(g, 0, dc * sizeof(double));
        const tl_csr *A = &P->X.csr;
        for (size_t i = 0; i < n; i++) {
            const double *gi = P->Z + i * c;
            for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) {
                double v = A->values[q] * P->inv_sw;
                double *gr = g + (size_t)A->indices[q] * c;
                for (size_t k = 0; k < c; k++) gr[k] += v * gi[k];
            }
        }
    }
    if (P->intercept) {
        double *gb = g + dc;
        memset(gb, 0, c * sizeof(double));
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < c; k++) gb[k] += P->Z[i * c + k];
        for (size_t k = 0; k < c; k++) gb[k] *= P->inv_sw;
    }
}

/* f and grad at x = [Wt (d, c) | b (c) if intercept]. */
static tl_status lr_fg(lr_problem *P, const double *x, double *f, double *g) {
    tl_status st = TL_OK;
    const size_t n = P->n, d = P->d, c = P->c, dc = d * c;
    const double *Wt = x, *b = P->intercept ? x + dc : NULL;
    tl_mat Z = tl_mat_view(P->Z, n, c);
    TL_TRY(tlp_linear_scores(P->X, Wt, b, c, Z));
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        double *z = P->Z + i * c, mx = z[0], s = 0, wi = P->w[i];
        for (size_t k = 1; k < c; k++)
            if (z[k] > mx) mx = z[k];
        for (size_t k = 0; k < c; k++) s += exp(z[k] - mx);
        double lse = mx + log(s);
        loss += wi * (lse - z[P->yi[i]]);
        for (size_t k = 0; k < c; k++) z[k] = wi * exp(z[k] - lse);
        z[P->yi[i]] -= wi;
    }
    double reg = 0;
    for (size_t j = 0; j < dc; j++) reg += x[j] * x[j];
    if (P->job) { /* the data part summed over the processes, then the penalty */
        lr_grad_data(P, P->buf, 0.0);
        size_t np = dc + (P->intercept ? c : 0);
        P->buf[np] = loss;
        TL_TRY(tli_job_sum(P->job, P->buf, np + 1, true));
        *f = P->buf[np] * P->inv_sw + 0.5 * reg * P->inv_csw;
        for (size_t j = 0; j < np; j++) g[j] = P->buf[j] + (j < dc ? x[j] * P->inv_csw : 0.0);
        goto done;
    }
    *f = loss * P->inv_sw + 0.5 * reg * P->inv_csw;
    /* gWt = X^T G / sum w + Wt / (C sum w) */
    for (size_t j = 0; j < dc; j++) g[j] = x[j] * P->inv_csw;
    lr_grad_data(P, g, 1.0);
done:
    return st;
}

static double dot(const double *a, const double *b, size_t p) {
    double s = 0;
    for (size_t i = 0; i < p; i++) s += a[i] * b[i];
    return s;
}

static double amax(const double *a, size_t p) {
    double m = 0;
    for (size_t i = 0; i < p; i++)
        if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

/* Minimise lr_fg over x (p), starting from x. *iters: iterations run; *converged: false when
 * max_iter ran out before a stopping test held. */
static tl_status lbfgs(lr_problem *P, double *x, size_t p, int max_iter, double gtol, int *iters,
                       bool *converged) {
    tl_status st = TL_OK;
    double *S = NULL, *Y = NULL, *g = NULL, *dir = NULL, *xn = NULL, *gn = NULL;
    double rho[LBFGS_MEM], al[LBFGS_MEM];
    size_t cells;
    TL_CHECK(tl_size_mul(p, LBFGS_MEM, &cells) == 0, TL_ERR_NOMEM, "logreg: size overflow");
    TL_ALLOC(S, cells);
    TL_ALLOC(Y, cells);
    TL_ALLOC(g, p);
    TL_ALLOC(dir, p);
    TL_ALLOC(xn, p);
    TL_ALLOC(gn, p);
    double f, fn;
    TL_TRY(lr_fg(P, x, &f, g));
    int head = 0, cnt = 0; /* ring buffer of correction pairs: newest at head - 1 */
    int it = 0;
    bool conv = false;
    for (;; it++) {
        if (amax(g, p) <= gtol) {
            conv = true;
            break;
        }
        if (it >= max_iter) break;
        /* two-loop recursion: dir = -H g */
        memcpy(dir, g, p * sizeof(double));
        for (int t = 0; t < cnt; t++) {
            int j = (head - 1 - t + LBFGS_MEM) % LBFGS_MEM;
            al[j] = rho[j] * dot(S + (size_t)j * p, dir, p);
            cblas_daxpy((int)p, -al[j], Y + (size_t)j * p, 1, dir, 1);
        }
        double gamma;
        if (cnt > 0) {
            int j = (head - 1 + LBFGS_MEM) % LBFGS_MEM;
            const double *yj = Y + (size_t)j * p;
            gamma = 1.0 / (rho[j] * dot(yj, yj, p));
        } else {
            gamma = 1.0 / sqrt(dot(g, g, p));
        }
        for (size_t i = 0; i < p; i++) dir[i] *= gamma;
        for (int t = cnt - 1; t >= 0; t--) {
            int j = (head - 1 - t + LBFGS_MEM) % LBFGS_MEM;
            double beta = rho[j] * dot(Y + (size_t)j * p, dir, p);
            cblas_daxpy((int)p, al[j] - beta, S + (size_t)j * p, 1, dir, 1);
        }
        for (size_t i = 0; i < p; i++) dir[i] = -dir[i];
        double gd = dot(g, dir, p);
        if (!(gd < 0)) { /* not a descent direction (rounding): restart from steepest descent */
            cnt = 0;
            double gn2 = sqrt(dot(g, g, p));
            for (size_t i = 0; i < p; i++) dir[i] = -g[i] / gn2;
            gd = -gn2;
        }
        /* backtracking Armijo line search */
        double step = 1.0;
        bool ok = false;
        for (int ls = 0; ls < LBFGS_MAXLS; ls++) {
            for (size_t i = 0; i < p; i++) xn[i] = x[i] + step * dir[i];
            TL_TRY(lr_fg(P, xn, &fn, gn));
            if (isfinite(fn) && fn <= f + 1e-4 * step * gd) {
                ok = true;
                break;
            }
            double nstep = 0.5 * step;
            if (isfinite(fn)) { /* minimiser of the quadratic through f, gd and fn */
                double den = 2.0 * (fn - f - gd * step);
                if (den > 0) nstep = -gd * step * step / den;
            }
            if (nstep < 0.1 * step) nstep = 0.1 * step;
            if (nstep > 0.5 * step) nstep = 0.5 * step;
            step = nstep;
        }
        if (!ok) { /* no decrease possible at this precision */
            conv = true;
            break;
        }
        int j = head;
        double sy = 0, yy = 0;
        for (size_t i = 0; i < p; i++) {
            double si = xn[i] - x[i], yv = gn[i] - g[i];
            S[(size_t)j * p + i] = si;
            Y[(size_t)j * p + i] = yv;
            sy += si * yv;
            yy += yv * yv;
        }
        if (sy > DBL_EPSILON * yy && sy > 0) {
            rho[j] = 1.0 / sy;
            head = (head + 1) % LBFGS_MEM;
            if (cnt < LBFGS_MEM) cnt++;
        }
        double fold = f;
        memcpy(x, xn, p * sizeof(double));
        memcpy(g, gn, p * sizeof(double));
        f = fn;
        double scale = fmax(fmax(fabs(fold), fabs(f)), 1.0);
        if ((fold - f) <= 64 * DBL_EPSILON * scale) {
            conv = true;
            it++;
            break;
        }
    }
    *iters = it;
    *converged = conv;
done:
    tl_free(S);
    tl_free(Y);
    tl_free(g);
    tl_free(dir);
    tl_free(xn);
    tl_free(gn);
    return st;
}

static void logreg_free(void *mp) {
    logreg_model *m = mp;
    if (!m) return;
    tl_free(m->Wt);
    tl_free(m->b);
    tl_free(m);
}

static tl_status logreg_fit(const tl_learner_params *p, tl_xmat X, const int *yi, const double *w,
                            size_t c, tlp_fit_info *info, void **out) {
    tl_status st = TL_OK;
    logreg_model *m = NULL;
    double *x = NULL;
    lr_problem P;
    tli_job job = {0};
    memset(&P, 0, sizeof P);
    size_t n = tlp_xrows(X), d = tlp_xcols(X), dc, np, nc;
    TL_CHECK_INT(n, "rows");
    TL_CHECK_INT(d, "columns");
    TL_CHECK(X.sparse || X.dense.ld <= TL_INT_MAX_DIM, TL_ERR_INVALID_ARG,
             "logreg: leading dimension exceeds the BLAS int range");
    TL_CHECK(tl_size_mul(d, c, &dc) == 0 && dc + c >= dc && tl_size_mul(n, c, &nc) == 0,
             TL_ERR_NOMEM, "logreg: model size overflows");
    np = dc + (p->fit_intercept ? c : 0);
    TL_CHECK_INT(np, "parameters");
    double sw = 0;
    for (size_t i = 0; i < n; i++) sw += w[i];
    if (p->comm && p->comm->size > 1) { /* every process's rows: sum w over them all */
        TL_TRY(tli_job_start(&job, p->comm, n, 0));
        TL_TRY(tli_job_sum(&job, &sw, 1, true));
        P.job = &job;
        TL_ALLOC(P.buf, np + 1);
    }
    P.X = X;
    P.yi = yi;
    P.w = w;
    P.n = n;
    P.d = d;
    P.c = c;
    P.intercept = p->fit_intercept;
    P.inv_sw = 1.0 / sw;
    P.inv_csw = 1.0 / (p->C * sw);
    TL_ALLOC(P.Z, nc);
    TL_CALLOC(x, np);
    const logreg_model *init = info->init;
    if (init && init->d == d && init->c == c) {
        memcpy(x, init->Wt, dc * sizeof(double));
        if (p->fit_intercept) memcpy(x + dc, init->b, c * sizeof(double));
    }
    TL_TRY(lbfgs(&P, x, np, p->max_iter, p->tol, &info->iterations, &info->converged));
    TL_CALLOC(m, 1);
    m->d = d;
    m->c = c;
    TL_ALLOC(m->Wt, dc);
    TL_CALLOC(m->b, c);
    memcpy(m->Wt, x, dc * sizeof(double));
    if (p->fit_intercept) memcpy(m->b, x + dc, c * sizeof(double));
    *out = m;
    m = NULL;
done:
    logreg_free(m);
    tl_free(x);
    tl_free(P.Z);
    tl_free(P.buf);
    tli_job_end(&job);
    return st;
}

/* S (n, c) = softmax(X Wt + b) */
static tl_status logreg_scores(const void *mp, tl_xmat X, tl_mat S) {
    const logreg_model *m = mp;
    tl_status st = tlp_linear_scores(X, m->Wt, m->b, m->c, S);
    if (st != TL_OK) return st;
    for (size_t i = 0; i < S.rows; i++) {
        double *z = S.data + i * S.ld, mx = z[0], s = 0;
        for (size_t k = 1; k < m->c; k++)
            if (z[k] > mx) mx = z[k];
        for (size_t k = 0; k < m->c; k++) s += (z[k] = exp(z[k] - mx));
        for (size_t k = 0; k < m->c; k++) z[k] /= s;
    }
    return TL_OK;
}

static tl_status logreg_write(const void *mp, tl_tlm *c) {
    const logreg_model *m = mp;
    return tlp_put_linear(c, m->Wt, m->b, m->d, m->c);
}

static tl_status logreg_read(const tl_learner_params *p, const tl_tlm *c, const char *name,
                             size_t d, size_t nc, void **out) {
    tl_status st = TL_OK;
    logreg_model *m = NULL;
    size_t dc;
    (void)p;
    TL_CHECK(tl_size_mul(d, nc, &dc) == 0, TL_ERR_FORMAT, "%s: model size overflows", name);
    TL_CALLOC(m, 1);
    m->d = d;
    m->c = nc;
    TL_ALLOC(m->Wt, dc ? dc : 1);
    TL_ALLOC(m->b, nc);
    TL_TRY(tlp_get_linear(c, name, d, nc, m->Wt, m->b));
    *out = m;
    m = NULL;
done:
    logreg_free(m);
    return st;
}

const tlp_learner_ops tlp_logreg_ops = {logreg_fit,   logreg_scores, NULL, logreg_free,
                                        logreg_write, logreg_read,   NULL, NULL}; /* classifier */
