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
 *     pooled or copied;
 *   - on dense rows every pass is fused and threaded: the Hessian-vector product reads each row
 *     once (x.s, then the row is added from L1), the gradient and the preconditioner share one
 *     pass, and the rows are split in contiguous ranges on tl_parallel_tasks's threads (OpenBLAS kept
 *     serial by the caller) whose partial sums are added in range order. The two GEMVs per
 *     product they replace read X twice; on SURF (2081 x 800) 8.7 -> 6.8 ms.
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
    int dense;  /* both blocks dense: the passes over the rows run on T threads */
    size_t T;
    double *acc; /* (T, 2 (d + 1)) the threads' accumulators */
    int simd;
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

/* ------------------------------------------------- dense passes on several threads */

/* What a pass over the dense rows computes. */
enum { PASS_HV, PASS_GRAD, PASS_MARGINS };

/* Hessian-vector row: returns a = sd + x.s and adds (Di a) x to out (d). */
TLI_INLINE double hv_row_body(const double *x, const double *s, size_t d, double sd, double Di,
                              double *out) {
    size_t d4 = 0;
    double a = 0.0;
#if TLI_VEC
    d4 = d & ~(size_t)3;
    tli_v4 v0 = {0.0, 0.0, 0.0, 0.0}, xv, sv;
    for (size_t j = 0; j < d4; j += 4) {
        memcpy(&xv, x + j, sizeof xv);
        memcpy(&sv, s + j, sizeof sv);
        v0 += xv * sv;
    }
    double t4[4];
    memcpy(t4, &v0, sizeof v0);
    a = (t4[0] + t4[1]) + (t4[2] + t4[3]);
#endif
    for (size_t j = d4; j < d; j++) a += x[j] * s[j];
    a += sd;
    const double c = Di * a;
    if (c != 0.0) {
#if TLI_VEC
        const tli_v4 cv = {c, c, c, c};
        for (size_t j = 0; j < d4; j += 4) {
            tli_v4 o;
            memcpy(&xv, x + j, sizeof xv);
            memcpy(&o, out + j, sizeof o);
            o += cv * xv;
            memcpy(out + j, &o, sizeof o);
        }
#endif
        for (size_t j = d4; j < d; j++) out[j] += c * x[j];
    }
    return a;
}

/* Gradient row: g (d) += ui x, M (d) += Di x .* x. */
TLI_INLINE void grad_row_body(const double *x, size_t d, double ui, double Di, double *g,
                              double *M) {
    size_t d4 = 0;
#if TLI_VEC
    d4 = d & ~(size_t)3;
    const tli_v4 uv = {ui, ui, ui, ui}, dv = {Di, Di, Di, Di};
    for (size_t j = 0; j < d4; j += 4) {
        tli_v4 xv, gv, mv;
        memcpy(&xv, x + j, sizeof xv);
        memcpy(&gv, g + j, sizeof gv);
        memcpy(&mv, M + j, sizeof mv);
        gv += uv * xv;
        mv += dv * (xv * xv);
        memcpy(g + j, &gv, sizeof gv);
        memcpy(M + j, &mv, sizeof mv);
    }
#endif
    for (size_t j = d4; j < d; j++) {
        g[j] += ui * x[j];
        M[j] += Di * (x[j] * x[j]);
    }
}

/* Rows [r0, r1) of the pooled (source then target) dense rows: PASS_HV writes t (n) = X~ s and
 * adds H's data part applied to s into acc (d + 1); PASS_GRAD adds X~^T u into acc (d + 1) and
 * the diagonal sum_i D_i x_ij^2 into acc + d + 1 (d + 1), the intercept's entries last;
 * PASS_MARGINS writes t = X~ s only. */
TLI_INLINE void dense_rows_body(const dclf_prob *P, int mode, size_t r0, size_t r1,
                                const double *s, double *t, const double *u, double *acc) {
    const size_t d = P->d;
    double *g = acc, *M = acc + d + 1;
    for (size_t i = r0; i < r1; i++) {
        int k = i >= P->m[0];
        const tl_mat A = P->X[k].dense;
        const double *x = A.data + (i - (k ? P->m[0] : 0)) * A.ld;
        if (mode == PASS_GRAD) {
            grad_row_body(x, d, u[i], P->D[i], g, M);
            g[d] += u[i];
            M[d] += P->D[i];
        } else if (mode == PASS_HV) {
            double a = hv_row_body(x, s, d, s[d], P->D[i], g);
            t[i] = a;
            g[d] += P->D[i] * a;
        } else { /* PASS_MARGINS: no accumulation */
            t[i] = hv_row_body(x, s, d, s[d], 0.0, g);
        }
    }
}

static void dense_rows_portable(const dclf_prob *P, int mode, size_t r0, size_t r1,
                                const double *s, double *t, const double *u, double *acc) {
    dense_rows_body(P, mode, r0, r1, s, t, u, acc);
}
#if TLI_AVX2
TLI_TARGET_AVX2 static void dense_rows_avx2(const dclf_prob *P, int mode, size_t r0, size_t r1,
                                            const double *s, double *t, const double *u,
                                            double *acc) {
    dense_rows_body(P, mode, r0, r1, s, t, u, acc);
}
#endif

typedef struct {
    const dclf_prob *P;
    int mode;
    const double *s, *u;
    double *t, *acc; /* acc: (T, 2 (d + 1)) */
    size_t T;
    int simd;
} dense_pass;

static tl_status dense_task(void *v, size_t task, size_t thread) {
    (void)thread;
    const dense_pass *J = v;
    const size_t n = J->P->n, p = J->P->d + 1;
    size_t r0 = n * task / J->T, r1 = n * (task + 1) / J->T;
    double *acc = J->acc + task * 2 * p;
    memset(acc, 0, 2 * p * sizeof(double));
#if TLI_AVX2
    if (J->simd) {
        dense_rows_avx2(J->P, J->mode, r0, r1, J->s, J->t, J->u, acc);
        return TL_OK;
    }
#endif
    dense_rows_portable(J->P, J->mode, r0, r1, J->s, J->t, J->u, acc);
    return TL_OK;
}

/* One pass over every (dense) row, split in P->T ranges on as many threads; out (d + 1, unless
 * PASS_MARGINS) and, for PASS_GRAD, M (d + 1) receive the sums of the ranges' accumulators in
 * range order, so the result does not depend on the threads' timing. */
static tl_status dense_pass_run(const dclf_prob *P, int mode, const double *s, double *t,
                                const double *u, double *out, double *M) {
    tl_status st = TL_OK;
    const size_t p = P->d + 1;
    dense_pass J = {P, mode, s, u, t, P->acc, P->T, P->simd};
    TL_TRY(tl_parallel_tasks(P->T, P->T, dense_task, &J));
    for (size_t j = 0; out && j < p; j++) {
        double a = 0.0, m = 0.0;
        for (size_t k = 0; k < P->T; k++) {
            a += P->acc[k * 2 * p + j];
            m += P->acc[k * 2 * p + p + j];
        }
        out[j] = a;
        if (M) M[j] = m;
    }
done:
    return st;
}

/* z (n) = X~ v: the margins of every row. */
static tl_status margins(const dclf_prob *P, const double *v, double *z) {
    if (P->dense) return dense_pass_run(P, PASS_MARGINS, v, z, NULL, NULL, NULL);
    block_mv(P->X[0], v, v[P->d], z);
    block_mv(P->X[1], v, v[P->d], z + P->m[0]);
    return TL_OK;
}

/* M (d + 1) = diag(H): 1 + sum_i D_i x_ij^2, and sum_i D_i on the intercept; one serial pass
 * (the all-dense case has it from its gradient pass). */
static void precond_rows(const dclf_prob *P, double *M) {
    const size_t d = P->d;
    memset(M, 0, d * sizeof(double));
    double mb = 0;
    size_t off = 0;
    for (int k = 0; k < 2; k++) {
        tl_xmat X = P->X[k];
        const double *D = P->D + off;
        for (size_t i = 0; i < P->m[k]; i++) {
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
        off += P->m[k];
    }
    for (size_t j = 0; j < d; j++) M[j] += 1.0;
    M[d] = mb;
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
    P.dense = !Xs.sparse && !Xt.sparse && d > 0;
    P.T = o->threads > 1 ? o->threads : 1;
    if (P.T > TLI_DCLF_BLOCKS) P.T = TLI_DCLF_BLOCKS;
    if (P.T > n) P.T = n;
    P.simd = tli_have_avx2();
    if (P.dense) TL_ALLOC(P.acc, P.T * 2 * p);
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
    TL_TRY(margins(&P, v, z));
    double f = 0.5 * dotp(v, v, d) + Cp * loss_at(&P, z, z, 0.0);
    for (;;) {
        /* gradient and curvature weights */
        double *u = P.sc; /* C' (p - t) */
        for (size_t i = 0; i < n; i++) {
            double e = exp(-fabs(z[i])), pi = z[i] >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            u[i] = Cp * (pi - (i >= P.m[0] ? 1.0 : 0.0));
            P.D[i] = Cp * pi * (1.0 - pi);
        }
        if (P.dense) { /* the gradient and M = diag(H) in one threaded pass */
            TL_TRY(dense_pass_run(&P, PASS_GRAD, NULL, NULL, u, g, M));
            for (size_t j = 0; j < d; j++) {
                g[j] += v[j];
                M[j] += 1.0;
            }
        } else {
            memcpy(g, v, d * sizeof(double));
            g[d] = block_mtv(Xs, u, g) + block_mtv(Xt, u + P.m[0], g);
        }
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
        /* diagonal preconditioner M = diag(H): 1 + sum_i D_i x_ij^2, sum_i D_i (intercept);
         * the dense pass above has it already */
        if (!P.dense) precond_rows(&P, M);
        if (!(M[d] > 1e-300)) M[d] = 1e-300;
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
            if (P.dense)
                TL_TRY(dense_pass_run(&P, PASS_HV, q, xq, NULL, hp, NULL));
            else
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
    TL_TRY(margins(&P, v, z));
    inf.f = f / (Cp * (double)n);
    if (info) *info = inf;
done:
    tl_free(work);
    tl_free(P.acc);
    return st;
}
