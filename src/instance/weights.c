/* Importance weighting front end: parameters and their checks, method names, the shared input
 * checks, kernel resolution (median heuristic on the pooled sample), kernel centres and design
 * matrices for KLIEP/uLSIF, the discriminative density ratio, and the final rescaling of every
 * method's weights to mean 1 (so a learner's C keeps its meaning whichever method produced them).
 *
 * Discriminative density ratio (Bickel, Brueckner & Scheffer, ICML 2007): a probabilistic
 * classifier of "target vs source" gives p(t|x) / p(s|x) = (nt / ns) p_t(x) / p_s(x), hence
 * w(x) = (ns / nt) p(t|x) / p(s|x). The classifier is the project's L2 logistic regression. */
#include <math.h>
#include <string.h>

#include "instance/instance_internal.h"

tl_weight_params tl_weight_params_default(tl_weight_method m) {
    tl_weight_params p;
    memset(&p, 0, sizeof p);
    p.method = m;
    p.kernel = tl_kernel_default(TL_KERNEL_RBF);
    p.B = 1000.0;
    p.eps = 0.0;
    p.centers = 100;
    p.lambda = 1e-3;
    p.C = 1.0;
    p.max_iter = 1000;
    p.tol = 1e-6;
    p.seed = 42;
    p.ctx = NULL;
    return p;
}

tl_status tl_weight_params_check(const tl_weight_params *p) {
    tl_status st = TL_OK;
    TL_CHECK(p, TL_ERR_INVALID_ARG, "weights: parameters are NULL");
    TL_CHECK((int)p->method >= TL_WEIGHT_KMM && (int)p->method <= TL_WEIGHT_DOMAIN_CLF,
             TL_ERR_INVALID_ARG, "weights: unknown method %d", (int)p->method);
    const char *nm = tl_weight_method_name(p->method);
    if (p->method != TL_WEIGHT_DOMAIN_CLF) {
        TL_CHECK(p->kernel.type == TL_KERNEL_LINEAR || p->kernel.type == TL_KERNEL_RBF ||
                     p->kernel.type == TL_KERNEL_POLY,
                 TL_ERR_INVALID_ARG, "%s: unknown kernel type %d", nm, (int)p->kernel.type);
        TL_CHECK(isfinite(p->kernel.gamma), TL_ERR_INVALID_ARG, "%s: kernel gamma = %g is not "
                 "finite", nm, p->kernel.gamma);
        if (p->kernel.type == TL_KERNEL_POLY)
            TL_CHECK(p->kernel.degree >= 1 && isfinite(p->kernel.coef0), TL_ERR_INVALID_ARG,
                     "%s: poly kernel needs degree >= 1 and a finite coef0", nm);
        if (p->method != TL_WEIGHT_KMM)
            TL_CHECK(p->kernel.type == TL_KERNEL_RBF, TL_ERR_INVALID_ARG,
                     "%s: the kernel must be rbf (a density-ratio model needs non-negative basis "
                     "functions)", nm);
    }
    TL_CHECK(isfinite(p->B) && p->B > 0, TL_ERR_INVALID_ARG,
             "%s: B = %g must be positive and finite", nm, p->B);
    TL_CHECK(isfinite(p->eps) && p->eps < 1e6, TL_ERR_INVALID_ARG, "%s: eps = %g is not finite",
             nm, p->eps);
    TL_CHECK(p->centers >= 1 && p->centers <= 100000, TL_ERR_INVALID_ARG,
             "%s: centers = %zu must be in [1, 100000]", nm, p->centers);
    TL_CHECK(isfinite(p->lambda), TL_ERR_INVALID_ARG, "%s: lambda = %g is not finite", nm,
             p->lambda);
    TL_CHECK(isfinite(p->C) && p->C > 0, TL_ERR_INVALID_ARG,
             "%s: C = %g must be positive and finite", nm, p->C);
    TL_CHECK(p->max_iter >= 1, TL_ERR_INVALID_ARG, "%s: max_iter = %d must be at least 1", nm,
             p->max_iter);
    TL_CHECK(isfinite(p->tol) && p->tol > 0, TL_ERR_INVALID_ARG,
             "%s: tol = %g must be positive and finite", nm, p->tol);
done:
    return st;
}

static const char *const method_names[] = {"kmm", "kliep", "ulsif", "domain-clf"};

tl_status tl_weight_method_parse(const char *name, tl_weight_method *out) {
    if (!name || !out) return tl_fail(TL_ERR_INVALID_ARG, "weight method: NULL argument");
    for (int i = 0; i < 4; i++)
        if (strcmp(name, method_names[i]) == 0) {
            *out = (tl_weight_method)i;
            return TL_OK;
        }
    if (strcmp(name, "domain_clf") == 0 || strcmp(name, "dclf") == 0) {
        *out = TL_WEIGHT_DOMAIN_CLF;
        return TL_OK;
    }
    return tl_fail(TL_ERR_INVALID_ARG,
                   "unknown weighting method '%s' (expected kmm, kliep, ulsif or domain-clf)",
                   name);
}

const char *tl_weight_method_name(tl_weight_method m) {
    return (int)m >= 0 && (int)m < 4 ? method_names[m] : "unknown";
}

tl_status tli_resolve_kernel(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, tl_kernel *k) {
    tl_status st = TL_OK;
    *k = p->kernel;
    if (k->type == TL_KERNEL_RBF && k->gamma <= 0.0) {
        st = tlm_pooled_median_gamma(Xs, Xt, p->seed, &k->gamma);
        if (st != TL_OK) st = tl_fail_prefix(st, "%s", tl_weight_method_name(p->method));
    } else if (k->type == TL_KERNEL_POLY && k->gamma <= 0.0) {
        k->gamma = 1.0 / (double)tl_xmat_cols(Xs);
    }
    return st;
}

tl_status tli_centres(tl_xmat Xt, size_t centers, uint64_t seed, tl_mat *C) {
    tl_status st = TL_OK;
    size_t *idx = NULL;
    size_t nt = tl_xmat_rows(Xt), b = centers < nt ? centers : nt;
    TL_TRY(tl_mat_alloc(C, b, tl_xmat_cols(Xt)));
    TL_ALLOC(idx, nt);
    for (size_t i = 0; i < nt; i++) idx[i] = i;
    if (b < nt) {
        tl_rng rng;
        tl_rng_seed(&rng, seed);
        tl_rng_shuffle(&rng, idx, nt);
    }
    for (size_t i = 0; i < b; i++) TL_TRY(tl_xmat_rows_dense(Xt, idx[i], 1, tl_mat_rows(*C, i, 1)));
done:
    if (st != TL_OK) tl_mat_free(C);
    tl_free(idx);
    return st;
}

tl_status tli_kernel_design(const tl_kernel *k, tl_xmat X, tl_mat C, tl_mat Phi) {
    tl_status st = TL_OK;
    double *buf = NULL;
    size_t n = tl_xmat_rows(X), d = tl_xmat_cols(X);
    size_t blk = tlm_block_rows(d, (size_t)1 << 21, 1024);
    tlm_kspec ks;
    memset(&ks, 0, sizeof ks);
    ks.k = *k;
    if (X.sparse) TL_ALLOC(buf, blk * d);
    for (size_t r0 = 0; r0 < n; r0 += blk) { /* one GEMM per block of rows against all centres */
        size_t nb = n - r0 < blk ? n - r0 : blk;
        TL_TRY(tlm_kernel_block(&ks, tlm_rows(X, r0, nb, NULL, buf), C, tl_mat_rows(Phi, r0, nb)));
    }
done:
    tl_free(buf);
    return st;
}

/* Discriminative density ratio through a logistic domain classifier. */
static tl_status domain_clf(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w) {
    tl_status st = TL_OK;
    tlm_pooled pool;
    int *y = NULL;
    tl_learner *l = NULL;
    double *S = NULL;
    memset(&pool, 0, sizeof pool);
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), n = ns + nt;
    TL_TRY(tlm_pool(Xs, Xt, &pool));
    TL_ALLOC(y, n);
    for (size_t i = 0; i < n; i++) y[i] = i < ns ? 0 : 1;
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
    lp.C = p->C;
    lp.seed = p->seed;
    lp.max_iter = p->max_iter;
    TL_TRY(tl_learner_create(&lp, &l));
    st = tl_learner_fit(l, pool.X, y, NULL);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "domain-clf: source-vs-target classifier");
        goto done;
    }
    TL_ALLOC(S, 2 * ns);
    TL_TRY(tl_learner_scores(l, Xs, tl_mat_view(S, ns, 2)));
    double prior = (double)ns / (double)nt;
    for (size_t i = 0; i < ns; i++) {
        double ps = S[2 * i], pt = S[2 * i + 1];
        w[i] = prior * pt / (ps > 1e-12 ? ps : 1e-12);
    }
done:
    tlm_pooled_free(&pool);
    tl_free(y);
    tl_free(S);
    tl_learner_free(l);
    return st;
}

tl_status tl_weights_fit(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w) {
    tl_status st = TL_OK;
    TL_TRY(tl_weight_params_check(p));
    const char *nm = tl_weight_method_name(p->method);
    TL_CHECK(w, TL_ERR_INVALID_ARG, "%s: weight output is NULL", nm);
    TL_TRY(tlm_check_pair(Xs, Xt, 1, nm));
    size_t ns = tl_xmat_rows(Xs);
    tl_kernel k;
    if (p->method != TL_WEIGHT_DOMAIN_CLF) TL_TRY(tli_resolve_kernel(p, Xs, Xt, &k));
    switch (p->method) {
    case TL_WEIGHT_KMM: TL_TRY(tli_kmm(p, &k, Xs, Xt, w)); break;
    case TL_WEIGHT_KLIEP: TL_TRY(tli_kliep(p, &k, Xs, Xt, w)); break;
    case TL_WEIGHT_ULSIF: TL_TRY(tli_ulsif(p, &k, Xs, Xt, w)); break;
    case TL_WEIGHT_DOMAIN_CLF: TL_TRY(domain_clf(p, Xs, Xt, w)); break;
    }
    double s = 0.0;
    for (size_t i = 0; i < ns; i++) {
        TL_CHECK(isfinite(w[i]) && w[i] >= 0, TL_ERR_LINALG,
                 "%s: weight %zu came out as %g (numerical failure)", nm, i + 1, w[i]);
        s += w[i];
    }
    TL_CHECK(s > 0, TL_ERR_LINALG,
             "%s: every importance weight is zero: no source sample resembles the target under "
             "this kernel (try a smaller gamma or another method)",
             nm);
    for (size_t i = 0; i < ns; i++) w[i] *= (double)ns / s;
done:
    return st;
}
