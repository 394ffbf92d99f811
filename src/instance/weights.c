/* Importance weighting front end: parameters and their checks, method names, the shared input
 * checks, kernel resolution (median heuristic on the pooled sample), kernel centres and design
 * matrices for KLIEP/uLSIF, the discriminative density ratio, and the final rescaling of every
 * method's weights to mean 1 (so a learner's C keeps its meaning whichever method produced them).
 *
 * Design matrices are built for speed from structure, never by approximating: when the centres
 * are all the target rows (b = nt) the target design K(Xt, Xt) is symmetric, so one SYRK and the
 * exponentials of one triangle suffice; for width selection the squared distances to the centres
 * are computed once, and because the candidate widths double (gamma_{k+1} = 2 gamma_k),
 * exp(-gamma_{k+1} D) = exp(-gamma_k D)^2 turns every width after the first into one
 * multiplication per entry (relative rounding 2^k eps after k squarings, ~1e-14 at k = 8).
 *
 * Discriminative density ratio (Bickel, Brueckner & Scheffer, ICML 2007): a probabilistic
 * classifier of "target vs source" gives p(t|x) / p(s|x) = (nt / ns) p_t(x) / p_s(x), hence
 * w(x) = (ns / nt) p(t|x) / p(s|x). The classifier is sklearn's / libtl's L2 logistic regression
 * (two-class softmax, C, unpenalised intercept) in its equivalent binary form, solved by
 * domain_clf.c (dual coordinate descent warm start + truncated Newton). */
#include <cblas.h>
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
    p.widths = 0;
    p.folds = 5;
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
    TL_CHECK(p->widths <= TLI_MAX_WIDTHS, TL_ERR_INVALID_ARG,
             "%s: widths = %zu must be at most %d", nm, p->widths, TLI_MAX_WIDTHS);
    TL_CHECK(p->folds >= 2 && p->folds <= 1000, TL_ERR_INVALID_ARG,
             "%s: folds = %zu must be in [2, 1000]", nm, p->folds);
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

/* Rows [r0, r0 + nb) of D = ||X_i - C_l||^2: ||x||^2 + ||c||^2 - 2 x.c, one GEMM; cn (b) the
 * centres' squared norms, xn (nb) and buf (nb, d; sparse X only) work. */
static tl_status sqdist_block(tl_xmat X, size_t r0, size_t nb, tl_mat C, const double *cn,
                              double *xn, double *buf, tl_mat D) {
    tl_status st = TL_OK;
    size_t b = C.rows;
    tl_mat Xb = tlm_rows(X, r0, nb, NULL, buf), Db = tl_mat_rows(D, r0, nb);
    tl_row_sqnorms(Xb, xn);
    TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, -2.0, Xb, C, 0.0, Db));
    for (size_t i = 0; i < nb; i++) {
        double *r = Db.data + i * Db.ld;
        for (size_t l = 0; l < b; l++) {
            double v = xn[i] + cn[l] + r[l];
            r[l] = v > 0.0 ? v : 0.0; /* rounding */
        }
    }
done:
    return st;
}

/* Both domains' distance designs as row-block tasks on our threads (tl_parallel_tasks): OpenBLAS
 * stays single-threaded for the whole fit, so its idle workers are never left spinning (they
 * sched_yield for a while after every threaded call) beside the candidates' threads. */
#define SQD_BLOCK 128
typedef struct {
    tl_xmat X[2];
    tl_mat D[2], C;
    const double *cn;
    size_t nblk0, d;
    double *xn, *buf; /* (threads, SQD_BLOCK), (threads, SQD_BLOCK * d) when sparse */
} sqd_job;

static tl_status sqd_task(void *v, size_t task, size_t thread) {
    sqd_job *j = v;
    size_t s = task < j->nblk0 ? 0 : 1, r0 = (s ? task - j->nblk0 : task) * SQD_BLOCK;
    size_t n = tl_xmat_rows(j->X[s]), nb = n - r0 < SQD_BLOCK ? n - r0 : SQD_BLOCK;
    return sqdist_block(j->X[s], r0, nb, j->C, j->cn, j->xn + thread * SQD_BLOCK,
                        j->buf ? j->buf + thread * SQD_BLOCK * j->d : NULL, j->D[s]);
}

tl_status tli_sqdist_designs(size_t threads, tl_xmat Xs, tl_xmat Xt, tl_mat C, tl_mat Ds,
                             tl_mat Dt) {
    tl_status st = TL_OK;
    double *cn = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), d = tl_xmat_cols(Xs);
    size_t n0 = (ns + SQD_BLOCK - 1) / SQD_BLOCK, n1 = (nt + SQD_BLOCK - 1) / SQD_BLOCK;
    size_t T = threads < n0 + n1 ? threads : n0 + n1;
    if (T < 1) T = 1;
    sqd_job j = {{Xs, Xt}, {Ds, Dt}, C, NULL, n0, d, NULL, NULL};
    TL_ALLOC(cn, C.rows);
    TL_ALLOC(j.xn, T * SQD_BLOCK);
    if (Xs.sparse || Xt.sparse) TL_ALLOC(j.buf, T * SQD_BLOCK * d);
    tl_row_sqnorms(C, cn);
    j.cn = cn;
    TL_TRY(tl_parallel_tasks(n0 + n1, T, sqd_task, &j));
done:
    tl_free(cn);
    tl_free(j.xn);
    tl_free(j.buf);
    return st;
}

void tli_rbf_from_sqdist(tl_mat D, double gamma, tl_mat K) {
    for (size_t i = 0; i < D.rows; i++) {
        const double *d = D.data + i * D.ld;
        double *k = K.data + i * K.ld;
        tl_vexp_scaled(d, -gamma, k, D.cols); /* a few ulp from exp (src/linalg/vexp.c) */
    }
}

void tli_square(tl_mat K) {
    for (size_t i = 0; i < K.rows; i++) {
        double *k = K.data + i * K.ld;
        for (size_t l = 0; l < K.cols; l++) k[l] *= k[l];
    }
}

tl_status tli_kernel_design_self(const tl_kernel *k, tl_mat C, tl_mat Phi) {
    tl_status st = TL_OK;
    double *cn = NULL;
    size_t n = C.rows;
    TL_CHECK(Phi.rows == n && Phi.cols == n, TL_ERR_SHAPE, "kernel design: %zu x %zu for %zu centres",
             Phi.rows, Phi.cols, n);
    if (n == 0) goto done;
    TL_CHECK_INT(n, "centres");
    TL_CHECK_INT(C.cols, "features");
    TL_CHECK_INT(C.ld, "leading dimension");
    TL_CHECK_INT(Phi.ld, "leading dimension");
    TL_ALLOC(cn, n);
    tl_row_sqnorms(C, cn);
    /* upper triangle of -2 C C^T (half the GEMM), the kernel on it, then a tiled mirror */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)C.cols, -2.0, C.data,
                (int)C.ld, 0.0, Phi.data, (int)Phi.ld);
    for (size_t i = 0; i < n; i++) {
        double *r = Phi.data + i * Phi.ld;
        r[i] = 1.0; /* exact self-similarity */
        for (size_t j = i + 1; j < n; j++) {
            double v = cn[i] + cn[j] + r[j];
            r[j] = v > 0.0 ? v : 0.0;
        }
        tl_vexp_scaled(r + i + 1, -k->gamma, r + i + 1, n - i - 1);
    }
    tl_mat_mirror_upper(Phi);
done:
    tl_free(cn);
    return st;
}

void tli_width_grid(double gamma, size_t widths, double *g) {
    double g0 = gamma * pow(2.0, -0.5 * (double)(widths - 1));
    for (size_t k = 0; k < widths; k++) g[k] = ldexp(g0, (int)k); /* exact doubling */
}

void tli_cv_order(size_t nt, uint64_t seed, size_t *perm) {
    tl_rng rng;
    for (size_t i = 0; i < nt; i++) perm[i] = i;
    tl_rng_seed(&rng, seed + 1);
    tl_rng_shuffle(&rng, perm, nt);
}

size_t tli_fold_start(size_t f, size_t folds, size_t nt) {
    /* position p is in fold floor(p * folds / nt), as KLIEP.m's cv_split: fold f starts at
     * ceil(f * nt / folds) */
    return (f * nt + folds - 1) / folds;
}

int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

int tli_blas_serial(void) {
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return saved;
}

void tli_blas_restore(int saved) { openblas_set_num_threads(saved > 0 ? saved : 1); }

static int simd_cap = 2; /* tli_simd_limit */

void tli_simd_limit(int level) { simd_cap = level; }

int tli_have_avx2(void) {
#if TLI_AVX2
    __builtin_cpu_init();
    return simd_cap >= 1 && __builtin_cpu_supports("avx2") != 0;
#else
    return 0;
#endif
}

int tli_have_avx512(void) {
#if TLI_AVX2
    __builtin_cpu_init();
    return simd_cap >= 2 && __builtin_cpu_supports("avx512f") != 0;
#else
    return 0;
#endif
}

size_t tli_threads(const tl_weight_params *p, size_t ntasks) {
    int t = p->ctx && p->ctx->threads > 0 ? p->ctx->threads : tl_parallel_default_threads();
    size_t n = t > 1 ? (size_t)t : 1;
    if (n > 64) n = 64;
    return n < ntasks ? n : (ntasks ? ntasks : 1);
}

/* Discriminative density ratio through a logistic domain classifier: the binary form of the
 * two-class softmax model (same optimum and probabilities, domain_clf.c), whose margins z give
 * p(t|x) / p(s|x) = e^z directly; the probabilities are still formed and p(s|x) floored at 1e-12
 * as with the softmax scores, so extreme margins saturate the same way. */
static tl_status domain_clf(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w,
                            tli_ratio *ratio) {
    tl_status st = TL_OK;
    double *v = NULL, *z = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), d = tl_xmat_cols(Xs);
    tli_dclf_opts o = tli_dclf_opts_default();
    o.C = p->C;
    o.tol = p->tol;
    o.max_iter = p->max_iter;
    o.seed = p->seed;
    o.threads = tli_threads(p, TLI_DCLF_BLOCKS);
    TL_ALLOC(v, d + 1);
    TL_ALLOC(z, ns + nt);
    int blas_saved = tli_blas_serial(); /* the dense passes run on tl_parallel_tasks's threads */
    st = tli_dclf_fit(Xs, Xt, &o, v, z, NULL);
    tli_blas_restore(blas_saved);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "domain-clf: source-vs-target classifier");
        goto done;
    }
    double prior = (double)ns / (double)nt;
    for (size_t i = 0; i < ns; i++) {
        double e = exp(-fabs(z[i])), pt = z[i] >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e),
               ps = z[i] >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
        w[i] = prior * pt / (ps > 1e-12 ? ps : 1e-12);
    }
    if (ratio) {
        ratio->kind = 2;
        ratio->v = v;
        v = NULL;
        ratio->prior = prior;
    }
done:
    tl_free(v);
    tl_free(z);
    return st;
}

void tli_ratio_free(tli_ratio *r) {
    if (!r) return;
    tl_mat_free(&r->C);
    tl_free(r->alpha);
    tl_free(r->v);
    memset(r, 0, sizeof *r);
}

void tli_ratio_take_kernel(tli_ratio *r, const tl_kernel *k, tl_mat *C, double **alpha) {
    r->kind = 1;
    r->k = *k;
    r->C = *C;
    C->data = NULL;
    r->alpha = *alpha;
    *alpha = NULL;
}

tl_status tl_weights_fit(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w) {
    return tli_weights_fit(p, Xs, Xt, w, NULL, NULL, NULL);
}

tl_status tl_weights_fit_info(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w,
                              tl_weight_info *info) {
    return tli_weights_fit(p, Xs, Xt, w, info, NULL, NULL);
}

tl_status tli_weights_fit(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w,
                          tl_weight_info *info, tli_ratio *ratio, double *scale) {
    tl_status st = TL_OK;
    tl_weight_info got = {0.0, 0.0};
    TL_TRY(tl_weight_params_check(p));
    const char *nm = tl_weight_method_name(p->method);
    TL_CHECK(w, TL_ERR_INVALID_ARG, "%s: weight output is NULL", nm);
    TL_TRY(tlm_check_pair(Xs, Xt, 1, nm));
    size_t ns = tl_xmat_rows(Xs);
    tl_kernel k;
    if (p->method != TL_WEIGHT_DOMAIN_CLF) TL_TRY(tli_resolve_kernel(p, Xs, Xt, &k));
    switch (p->method) {
    case TL_WEIGHT_KMM:
        TL_TRY(tli_kmm(p, &k, Xs, Xt, w));
        got.gamma = k.gamma;
        break;
    case TL_WEIGHT_KLIEP: TL_TRY(tli_kliep(p, &k, Xs, Xt, w, &got, ratio)); break;
    case TL_WEIGHT_ULSIF: TL_TRY(tli_ulsif(p, &k, Xs, Xt, w, &got, ratio)); break;
    case TL_WEIGHT_DOMAIN_CLF: TL_TRY(domain_clf(p, Xs, Xt, w, ratio)); break;
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
    if (info) *info = got;
    if (scale) *scale = (double)ns / s;
done:
    if (st != TL_OK) tli_ratio_free(ratio);
    return st;
}
