/* The domain classifier of the discriminative density ratio (weights.c, Bickel, Brueckner &
 * Scheffer, ICML 2007): an L2-penalised binary logistic regression of "target (1) vs source (0)"
 * with an unpenalised intercept, warm-started by dual coordinate descent and finished by a
 * truncated Newton method.
 *
 * Problem. sklearn's LogisticRegression(C, multinomial) on two classes (and libtl's softmax
 * logreg) minimises ||W||^2 / 2 + C sum_i CE_i over W = [w0 w1] (plus an unpenalised intercept).
 * CE depends on v = w1 - w0 only, and for a fixed v the penalty is smallest at w1 = -w0 = v / 2,
 * where it equals ||v||^2 / 4; so the multinomial optimum is the binary one
 *     f(v, b) = ||v||^2 / 2 + C' sum_i l_i(z_i),  z_i = v.x_i + b,  C' = 2 C,
 *     l_i(z) = log(1 + e^z) - t_i z   (t_i = 1 on target rows, 0 on source rows),
 * with the same probabilities p_i = sigma(z_i): one weight vector instead of two, and
 * p(t|x) / p(s|x) = e^z.
 *
 * Why two stages. On the Amazon reviews (unnormalised 5000-d counts, n = 4000 < d) the two
 * domains are almost separable: from v = 0 Newton's method spends its first ~8 iterations (two
 * thirds of the work) pushing margins outward by tens, each step cutting the gradient only ~2.5x,
 * before it reaches the region of fast local convergence. Dual coordinate descent (Yu, Huang & Lin,
 * "Dual coordinate descent methods for logistic regression and maximum entropy models", MLJ 2011;
 * liblinear -s 7) covers that phase in a few cheap epochs (one sparse dot product and one axpy per
 * row, a 1-d Newton solve per coordinate), but converges only linearly afterwards, and its bias is
 * a penalised feature (the dual of an unpenalised intercept carries an equality constraint that
 * coordinate descent cannot keep). So on sparse data: 10 dual CD epochs (bias feature 1, same C')
 * give (v, b), then Newton's method on the exact problem (b unpenalised) converges from there in
 * a few iterations (Amazon books->dvd: 5 Newton / 44 CG iterations instead of 11 / 145, 0.028 s
 * instead of 0.059 s in all; electronics->kitchen and the 8000-row test sets likewise). On dense
 * data (SURF, Fashion-MNIST, n >> d) the warm start did not pay (Newton from 0 was as fast or
 * faster), so Newton starts from v = 0 there.
 *
 * Newton stage: the direction from preconditioned conjugate gradients stopped at a relative
 * residual of 0.1 (truncated Newton, Nocedal & Wright, Numerical Optimization, Alg. 7.1; the
 * liblinear trust-region Newton of Lin, Weng & Keerthi, JMLR 2008, and its diagonal preconditioner,
 * Hsia, Chiang & Lin, ACML 2018), then Armijo backtracking. Hessian H = I (on v only) +
 * X~^T D X~, D_i = C' p_i (1 - p_i), X~ = [X 1]. Structural savings:
 *   - on CSR rows each Hessian-vector product is one fused pass: t_i = x~_i . s, then
 *     out += D_i t_i x~_i while the row is in cache;
 *   - CG accumulates X~ s from the products it computes anyway (X~ s = sum alpha_k X~ p_k), so
 *     the line search evaluates f(v + a s) from z + a X~ s in O(n + d) per trial, no data pass;
 *   - source and target rows are read where they are (dense or CSR, one block each): nothing is
 *     pooled or copied.
 * Stopping: the scaled gradient max |grad f| / (C' n) <= tol (the quantity sklearn's lbfgs tests
 * against its gtol and libtl's logreg against tol), and the last Newton step changed no source
 * weight (rescaled to mean 1) by more than DCLF_WSTEP = 0.02. The second test is needed because
 * the Hessian is badly conditioned: a point with a scaled gradient of 1e-6 can still be 0.04 away
 * from the optimal weights; after a step that moved no weight by more than 0.02 the remaining
 * error is about a tenth of that (the CG residual ratio times the step). Measured max |w - w*|
 * against the optimum solved to 1e-11: Amazon 0.0013 (sklearn's lbfgs: 0.0065), SURF counts
 * 0.0001 (sklearn 0.25), Fashion-MNIST 0.0025 (sklearn 0.037). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "instance/instance_internal.h"

#define DCLF_CG_MAX 1000 /* CG iterations per Newton step (exact arithmetic needs d + 1 at most) */
#define DCLF_LS_MAX 40   /* step halvings */
#define DCLF_ETA 0.1     /* CG stops at ||r|| <= eta ||g|| */
#define DCLF_WSTEP 2e-2  /* largest mean-1 weight change of the last Newton step at convergence */
#define DCD_INNER_MAX 100 /* 1-d Newton iterations per coordinate (liblinear's max_inner_iter) */

typedef struct {
    tl_xmat X[2]; /* source rows, target rows */
    size_t m[2];  /* their counts */
    size_t n, d;
    double Cp;  /* C' = 2 C */
    double *D;  /* (n) C' p (1 - p) */
    double *sc; /* (n) scratch of the dense products */
} dclf_prob;

/* ---------------------------------------------------------------- row access */

/* sum_q val[q] w[idx[q]] over one CSR row, four partial sums: the gathers are independent, so
 * this runs at load throughput rather than one add latency per entry. */
static double csr_dot(const double *val, const int32_t *idx, size_t len, const double *w) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t q = 0;
    for (; q + 4 <= len; q += 4) {
        s0 += val[q] * w[idx[q]];
        s1 += val[q + 1] * w[idx[q + 1]];
        s2 += val[q + 2] * w[idx[q + 2]];
        s3 += val[q + 3] * w[idx[q + 3]];
    }
    for (; q < len; q++) s0 += val[q] * w[idx[q]];
    return (s0 + s1) + (s2 + s3);
}

static double row_dot(tl_xmat X, size_t i, const double *w) {
    double s = 0;
    if (X.sparse) {
        const tl_csr *A = &X.csr;
        size_t q0 = A->indptr[i];
        s = csr_dot(A->values + q0, A->indices + q0, A->indptr[i + 1] - q0, w);
    } else if (X.dense.cols > 0) {
        s = cblas_ddot((int)X.dense.cols, X.dense.data + i * X.dense.ld, 1, w, 1);
    }
    return s;
}

static void row_axpy(tl_xmat X, size_t i, double c, double *w) {
    if (X.sparse) {
        const tl_csr *A = &X.csr;
        for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++)
            w[A->indices[q]] += c * A->values[q];
    } else if (X.dense.cols > 0) {
        cblas_daxpy((int)X.dense.cols, c, X.dense.data + i * X.dense.ld, 1, w, 1);
    }
}

/* out (rows of X) = X v + b */
static void block_mv(tl_xmat X, const double *v /* (d) */, double b, double *out) {
    size_t n = tl_xmat_rows(X);
    if (!X.sparse) {
        tl_mat A = X.dense;
        for (size_t i = 0; i < n; i++) out[i] = b;
        if (A.cols > 0 && n > 0)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)A.cols, 1.0, A.data,
                        (int)(A.ld < A.cols ? A.cols : A.ld), v, 1, 1.0, out, 1);
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = b + row_dot(X, i, v);
}

/* g (d) += X^T u, returns sum u */
static double block_mtv(tl_xmat X, const double *u /* (rows of X) */, double *g) {
    size_t n = tl_xmat_rows(X);
    double sb = 0;
    for (size_t i = 0; i < n; i++) sb += u[i];
    if (!X.sparse) {
        tl_mat A = X.dense;
        if (A.cols > 0 && n > 0)
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)A.cols, 1.0, A.data,
                        (int)(A.ld < A.cols ? A.cols : A.ld), u, 1, 1.0, g, 1);
        return sb;
    }
    for (size_t i = 0; i < n; i++)
        if (u[i] != 0.0) row_axpy(X, i, u[i], g);
    return sb;
}

/* out (d + 1) = (H - I) s = [X^T (D .* xs); sum D .* xs], with xs (n) = X~ s. */
static void hess_vec(const dclf_prob *P, const double *s /* (d + 1) */, double *out,
                     double *xs /* (n) */) {
    const size_t d = P->d;
    memset(out, 0, (d + 1) * sizeof(double));
    double ob = 0;
    size_t off = 0;
    for (int k = 0; k < 2; k++) {
        tl_xmat X = P->X[k];
        size_t m = P->m[k];
        const double *D = P->D + off;
        double *t = xs + off;
        if (!X.sparse) { /* two GEMVs */
            block_mv(X, s, s[d], t);
            double *u = P->sc + off;
            for (size_t i = 0; i < m; i++) u[i] = D[i] * t[i];
            ob += block_mtv(X, u, out);
        } else { /* one fused pass over the rows */
            const tl_csr *A = &X.csr;
            for (size_t i = 0; i < m; i++) {
                size_t q0 = A->indptr[i], q1 = A->indptr[i + 1];
                double a = s[d] + csr_dot(A->values + q0, A->indices + q0, q1 - q0, s);
                t[i] = a;
                double u = D[i] * a;
                ob += u;
                if (u != 0.0)
                    for (size_t q = q0; q < q1; q++) out[A->indices[q]] += A->values[q] * u;
            }
        }
        off += m;
    }
    out[d] = ob;
}

/* log(1 + e^z) */
static double softplus(double z) { return (z > 0 ? z : 0.0) + log1p(exp(-fabs(z))); }

/* sum_i l_i(z_i + a xs_i) */
static double loss_at(const dclf_prob *P, const double *z, const double *xs, double a) {
    double L = 0;
    for (size_t i = 0; i < P->n; i++) {
        double zi = z[i] + a * xs[i];
        L += softplus(zi) - (i >= P->m[0] ? zi : 0.0);
    }
    return L;
}

/* C' sum_i (sigma(z_i + a xs_i) - t_i) xs_i: the loss part of d/da f(v + a s) */
static double slope_at(const dclf_prob *P, const double *z, const double *xs, double a) {
    double S = 0;
    for (size_t i = 0; i < P->n; i++) {
        double zi = z[i] + a * xs[i], e = exp(-fabs(zi));
        double pi = zi >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        S += (pi - (i >= P->m[0] ? 1.0 : 0.0)) * xs[i];
    }
    return P->Cp * S;
}

static double dotp(const double *a, const double *b, size_t p) {
    double s = 0;
    for (size_t i = 0; i < p; i++) s += a[i] * b[i];
    return s;
}

/* ---------------------------------------------------------------- dual coordinate descent */

/* `epochs` passes of liblinear's solve_l2r_lr_dual over the rows in a seeded random order, on
 * min ||v||^2 / 2 + b^2 / 2 + C' sum_i log(1 + exp(-y_i (v.x_i + b))), y = -1 source, +1 target
 * (the bias as a feature of value 1). Dual: min_a a'Qa / 2 + sum_i a_i log a_i + (C' - a_i)
 * log(C' - a_i), 0 < a_i < C', v = sum_i y_i a_i x_i; a_i and C' - a_i are both kept (liblinear's
 * pairs) so neither loses digits to cancellation. v (d + 1) receives (v, b). */
static tl_status dcd_warm(const dclf_prob *P, int epochs, uint64_t seed, double *v) {
    tl_status st = TL_OK;
    const size_t n = P->n, d = P->d, ns = P->m[0];
    const double C = P->Cp;
    double *al = NULL, *xx = NULL;
    size_t *idx = NULL;
    TL_ALLOC(al, 2 * n);
    TL_ALLOC(xx, n);
    TL_ALLOC(idx, n);
    memset(v, 0, (d + 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        tl_xmat X = P->X[i >= ns];
        size_t r = i >= ns ? i - ns : i;
        double yi = i >= ns ? 1.0 : -1.0, a0 = fmin(0.001 * C, 1e-8);
        al[2 * i] = a0;
        al[2 * i + 1] = C - a0;
        xx[i] = 1.0; /* the bias feature */
        if (X.sparse) {
            const tl_csr *A = &X.csr;
            for (size_t q = A->indptr[r]; q < A->indptr[r + 1]; q++)
                xx[i] += A->values[q] * A->values[q];
        } else if (d > 0) {
            const double *x = X.dense.data + r * X.dense.ld;
            xx[i] += cblas_ddot((int)d, x, 1, x, 1);
        }
        row_axpy(X, r, yi * a0, v);
        v[d] += yi * a0;
        idx[i] = i;
    }
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    double innereps = 1e-2;
    for (int ep = 0; ep < epochs; ep++) {
        tl_rng_shuffle(&rng, idx, n);
        size_t newton = 0;
        for (size_t s = 0; s < n; s++) {
            size_t i = idx[s], r = i >= ns ? i - ns : i;
            tl_xmat X = P->X[i >= ns];
            double yi = i >= ns ? 1.0 : -1.0;
            double a = xx[i], b = yi * (row_dot(X, r, v) + v[d]);
            /* minimise g(z) = z log z + (C - z) log(C - z) + a (z - z0)^2 / 2 + sign b (z - z0)
             * over the member of the pair that moves away from its bound */
            size_t i1 = 2 * i, i2 = 2 * i + 1;
            double sign = 1.0;
            if (0.5 * a * (al[i2] - al[i1]) + b < 0) {
                i1 = 2 * i + 1;
                i2 = 2 * i;
                sign = -1.0;
            }
            double z0 = al[i1], zz = z0;
            if (C - zz < 0.5 * C) zz *= 0.1;
            double gp = a * (zz - z0) + sign * b + log(zz / (C - zz));
            int inner = 0;
            while (inner <= DCD_INNER_MAX && fabs(gp) >= innereps) {
                double gpp = a + C / (C - zz) / zz, tz = zz - gp / gpp;
                zz = tz <= 0 ? zz * 0.1 : tz < C ? tz : 0.5 * (zz + C); /* stay inside (0, C) */
                gp = a * (zz - z0) + sign * b + log(zz / (C - zz));
                inner++;
            }
            newton += (size_t)inner;
            if (inner > 0) {
                al[i1] = zz;
                al[i2] = C - zz;
                double c = sign * (zz - z0) * yi;
                row_axpy(X, r, c, v);
                v[d] += c;
            }
        }
        if (newton <= n / 10) innereps = fmax(1e-8, 0.1 * innereps);
    }
done:
    tl_free(al);
    tl_free(xx);
    tl_free(idx);
    return st;
}

/* ---------------------------------------------------------------- Newton */

/* Largest change of a mean-1 source weight e^{z_i} / mean e^z made by the step z <- z + dz. */
static double weight_step(const double *z /* new */, const double *dz, size_t ns) {
    double zm = -INFINITY, sw = 0, dw = 0;
    for (size_t i = 0; i < ns; i++)
        if (z[i] > zm) zm = z[i];
    for (size_t i = 0; i < ns; i++) sw += exp(z[i] - zm);
    for (size_t i = 0; i < ns; i++) {
        double c = exp(z[i] - zm) / sw * (double)ns * fabs(1.0 - exp(-dz[i]));
        if (c > dw) dw = c;
    }
    return dw;
}

tli_dclf_opts tli_dclf_opts_default(void) {
    tli_dclf_opts o;
    memset(&o, 0, sizeof o);
    o.C = 1.0;
    o.tol = 1e-6;
    o.max_iter = 1000;
    o.seed = 42;
    o.warm_epochs = -1;
    return o;
}

tl_status tli_dclf_fit(tl_xmat Xs, tl_xmat Xt, const tli_dclf_opts *o, double *v /* (d + 1) */,
                       double *z /* (ns + nt) */, tli_dclf_info *info) {
    tl_status st = TL_OK;
    double *work = NULL;
    dclf_prob P;
    memset(&P, 0, sizeof P);
    tli_dclf_info inf;
    memset(&inf, 0, sizeof inf);
    P.X[0] = Xs;
    P.X[1] = Xt;
    P.m[0] = tl_xmat_rows(Xs);
    P.m[1] = tl_xmat_rows(Xt);
    P.n = P.m[0] + P.m[1];
    P.d = tl_xmat_cols(Xs);
    P.Cp = 2.0 * o->C;
    const size_t n = P.n, d = P.d, p = d + 1;
    TL_CHECK(isfinite(2.0 * o->C) && o->C > 0 && isfinite(o->tol) && o->tol > 0 &&
                 o->max_iter >= 1 && o->warm_epochs >= -1,
             TL_ERR_INVALID_ARG, "domain-clf: C = %g, tol = %g, max_iter = %d, warm_epochs = %d",
             o->C, o->tol, o->max_iter, o->warm_epochs);
    TL_CHECK(tl_xmat_cols(Xt) == d, TL_ERR_SHAPE, "domain-clf: %zu source vs %zu target features",
             d, tl_xmat_cols(Xt));
    for (int k = 0; k < 2; k++) {
        TL_CHECK_INT(P.m[k], "rows");
        if (!P.X[k].sparse) TL_CHECK_INT(P.X[k].dense.ld, "leading dimension");
    }
    TL_CHECK_INT(d, "features");
    /* D, sc, xq, xs (n each) | g, M, r, y, q, s, hp (p each) */
    size_t cells;
    TL_CHECK(tl_size_mul(n, 4, &cells) == 0 && cells + 7 * p >= cells, TL_ERR_NOMEM,
             "domain-clf: size overflow");
    TL_ALLOC(work, cells + 7 * p);
    P.D = work;
    P.sc = work + n;
    double *xq = work + 2 * n, *xs = work + 3 * n, *g = xs + n, *M = g + p, *r = M + p,
           *y = r + p, *q = y + p, *s = q + p, *hp = s + p;
    const double Cp = P.Cp, gscale = 1.0 / (Cp * (double)n);
    double last_dw = 0.0; /* the weights moved by the last step (none yet: 0 at v = 0) */
    int epochs = o->warm_epochs;
    if (epochs < 0) epochs = Xs.sparse && Xt.sparse ? TLI_DCLF_WARM_EPOCHS : 0;
    if (epochs > 0) {
        TL_TRY(dcd_warm(&P, epochs, o->seed, v));
        last_dw = INFINITY;
    } else {
        memset(v, 0, p * sizeof(double));
    }
    block_mv(Xs, v, v[d], z);
    block_mv(Xt, v, v[d], z + P.m[0]);
    double f = 0.5 * dotp(v, v, d) + Cp * loss_at(&P, z, z, 0.0);
    for (;;) {
        /* gradient and curvature weights */
        double *u = P.sc; /* C' (p - t) */
        for (size_t i = 0; i < n; i++) {
            double e = exp(-fabs(z[i])), pi = z[i] >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            u[i] = Cp * (pi - (i >= P.m[0] ? 1.0 : 0.0));
            P.D[i] = Cp * pi * (1.0 - pi);
        }
        memcpy(g, v, d * sizeof(double));
        g[d] = block_mtv(Xs, u, g) + block_mtv(Xt, u + P.m[0], g);
        double gmax = 0;
        for (size_t j = 0; j < p; j++)
            if (fabs(g[j]) > gmax) gmax = fabs(g[j]);
        inf.gmax = gmax * gscale;
        if (inf.gmax <= o->tol && last_dw <= DCLF_WSTEP) {
            inf.converged = 1;
            break;
        }
        if (inf.newton >= o->max_iter) break;
        inf.newton++;
        /* diagonal preconditioner M = diag(H): 1 + sum_i D_i x_ij^2, sum_i D_i (intercept) */
        memset(M, 0, d * sizeof(double));
        double mb = 0;
        size_t off = 0;
        for (int k = 0; k < 2; k++) {
            tl_xmat X = P.X[k];
            const double *D = P.D + off;
            for (size_t i = 0; i < P.m[k]; i++) {
                mb += D[i];
                if (X.sparse) {
                    const tl_csr *A = &X.csr;
                    for (size_t qq = A->indptr[i]; qq < A->indptr[i + 1]; qq++)
                        M[A->indices[qq]] += D[i] * A->values[qq] * A->values[qq];
                } else {
                    const double *xr = X.dense.data + i * X.dense.ld;
                    for (size_t j = 0; j < d; j++) M[j] += D[i] * xr[j] * xr[j];
                }
            }
            off += P.m[k];
        }
        for (size_t j = 0; j < d; j++) M[j] += 1.0;
        M[d] = mb > 1e-300 ? mb : 1e-300;
        /* PCG on H s = -g until ||r|| <= eta ||g||; xs accumulates X~ s */
        double gnorm = sqrt(dotp(g, g, p));
        for (size_t j = 0; j < p; j++) {
            s[j] = 0.0;
            r[j] = -g[j];
            y[j] = r[j] / M[j];
            q[j] = y[j];
        }
        memset(xs, 0, n * sizeof(double));
        double ry = dotp(r, y, p);
        for (int cg = 0; cg < DCLF_CG_MAX; cg++) {
            inf.cg++;
            hess_vec(&P, q, hp, xq);
            for (size_t j = 0; j < d; j++) hp[j] += q[j];
            double qhq = dotp(q, hp, p);
            if (!(qhq > 0)) break;
            double alpha = ry / qhq;
            for (size_t j = 0; j < p; j++) {
                s[j] += alpha * q[j];
                r[j] -= alpha * hp[j];
            }
            for (size_t i = 0; i < n; i++) xs[i] += alpha * xq[i];
            if (sqrt(dotp(r, r, p)) <= DCLF_ETA * gnorm) break;
            for (size_t j = 0; j < p; j++) y[j] = r[j] / M[j];
            double ry2 = dotp(r, y, p), beta = ry2 / ry;
            ry = ry2;
            for (size_t j = 0; j < p; j++) q[j] = y[j] + beta * q[j];
        }
        /* Armijo backtracking from the Newton step, f(a) in O(n + d) per trial. Near the optimum
         * the decrease falls below the rounding of f; a step whose slope phi'(a) = grad f(v + a s)
         * . s is still <= 0 is then accepted instead (phi is convex, so phi decreases on [0, a]) */
        double gs = dotp(g, s, p), vv = dotp(v, v, d), vs = dotp(v, s, d), ss = dotp(s, s, d);
        if (!(gs < 0)) break; /* no descent left at this precision */
        double a = 1.0, fn = f;
        int ok = 0;
        for (int ls = 0; ls < DCLF_LS_MAX; ls++) {
            fn = 0.5 * (vv + 2 * a * vs + a * a * ss) + Cp * loss_at(&P, z, xs, a);
            if (fn <= f + 1e-4 * a * gs || slope_at(&P, z, xs, a) + vs + a * ss <= 0) {
                ok = 1;
                break;
            }
            a *= 0.5;
        }
        if (!ok) break;
        for (size_t j = 0; j < p; j++) v[j] += a * s[j];
        for (size_t i = 0; i < n; i++) {
            xs[i] *= a;
            z[i] += xs[i];
        }
        f = fn;
        last_dw = weight_step(z, xs, P.m[0]);
    }
    /* exact margins of the final model (z was updated incrementally) */
    block_mv(Xs, v, v[d], z);
    block_mv(Xt, v, v[d], z + P.m[0]);
    inf.f = f / (Cp * (double)n);
    if (info) *info = inf;
done:
    tl_free(work);
    return st;
}
