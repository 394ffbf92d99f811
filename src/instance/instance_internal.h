/* Private interface of src/instance: one fit function per weighting method, called by
 * tl_weights_fit (weights.c) after the shared checks (valid parameters, a non-empty source and
 * target sharing one feature space, finite values) and with the kernel bandwidth resolved. Each
 * writes unnormalised non-negative weights w (ns); weights.c rescales them to mean 1. */
#ifndef TL_INSTANCE_INTERNAL_H
#define TL_INSTANCE_INTERNAL_H

#include "measure/measure_internal.h"
#include "internal/parallel.h"
#include "tl/instance.h"

/* The kernel with gamma resolved (median heuristic on the pooled sample for RBF, 1/d for poly). */
tl_status tli_resolve_kernel(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, tl_kernel *k);

tl_status tli_kmm(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                  double *w /* (ns) */);

/* The fitted ratio as a function, so new samples can be weighted: a kernel expansion
 * r(x) = sum_l alpha_l k(x, c_l) (KLIEP, uLSIF) or the domain classifier's odds
 * r(x) = prior p(t|x) / max(p(s|x), 1e-12) with p(t|x) = sigmoid(v.x + v_d) (domain-clf). */
typedef struct {
    int kind;        /* 0 none, 1 kernel expansion, 2 logistic odds */
    tl_kernel k;     /* kind 1: the kernel, gamma resolved */
    tl_mat C;        /* kind 1: (b, d) centres */
    double *alpha;   /* kind 1: (b) non-negative coefficients */
    double *v;       /* kind 2: (d + 1) weights then intercept */
    double prior;    /* kind 2: ns / nt */
} tli_ratio;
void tli_ratio_free(tli_ratio *r);
/* Makes r the kernel expansion of k with centres *C and coefficients *alpha, taking both over
 * (they are left empty). */
void tli_ratio_take_kernel(tli_ratio *r, const tl_kernel *k, tl_mat *C, double **alpha);

/* info (never NULL) receives the gamma (and uLSIF's lambda) the fit settled on; ratio (may be
 * NULL) receives the fitted function. */
tl_status tli_kliep(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w /* (ns) */, tl_weight_info *info, tli_ratio *ratio);
tl_status tli_ulsif(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w /* (ns) */, tl_weight_info *info, tli_ratio *ratio);
/* tl_weights_fit_info that also hands over the fitted function (ratio may be NULL). The weights
 * are rescaled to mean 1; *scale (may be NULL) receives the factor applied, so that
 * scale * r(x) weights a new sample on the same scale. */
tl_status tli_weights_fit(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w,
                          tl_weight_info *info, tli_ratio *ratio, double *scale);

/* Kernel centres for KLIEP/uLSIF: b = min(centers, nt) target rows, all of them in order when
 * b == nt, otherwise a seeded uniform sample. C (b, d) allocated with tl_mat_alloc. */
tl_status tli_centres(tl_xmat Xt, size_t centers, uint64_t seed, tl_mat *C);
/* Phi (rows(X), b) = k(X_i, C_j), X densified block by block. */
tl_status tli_kernel_design(const tl_kernel *k, tl_xmat X, tl_mat C, tl_mat Phi);
/* Phi (b, b) = k(C_i, C_j) for RBF k, symmetric: one SYRK, the exponential on one triangle. */
tl_status tli_kernel_design_self(const tl_kernel *k, tl_mat C, tl_mat Phi);
/* Ds (ns, b) = ||Xs_i - C_l||^2 and Dt (nt, b) likewise (clamped at 0), as row-block tasks on up
 * to `threads` threads with OpenBLAS single-threaded: for the model-selection paths, which then
 * run their candidates on threads. */
tl_status tli_sqdist_designs(size_t threads, tl_xmat Xs, tl_xmat Xt, tl_mat C, tl_mat Ds,
                             tl_mat Dt);
/* K = exp(-gamma D) (same shape; K may not alias D); tli_square: K = K .* K in place, the RBF
 * design of twice the gamma. */
void tli_rbf_from_sqdist(tl_mat D, double gamma, tl_mat K);
void tli_square(tl_mat K);

/* Width selection (params.widths >= 2): candidate gammas g (widths) = gamma * 2^(k - (widths-1)/2),
 * each exactly twice the one before. */
#define TLI_MAX_WIDTHS 32
void tli_width_grid(double gamma, size_t widths, double *g);
/* KLIEP's cross-validation order of the target rows: perm (nt) = a shuffle of 0..nt-1 by tl_rng
 * seeded with seed + 1 (tl_rng_shuffle); the row at position p is in fold floor(p * folds / nt),
 * so fold f holds positions [tli_fold_start(f), tli_fold_start(f + 1)). */
void tli_cv_order(size_t nt, uint64_t seed, size_t *perm);
size_t tli_fold_start(size_t f, size_t folds, size_t nt);

/* Independent model-selection candidates (KLIEP's width x fold fits, uLSIF's widths) run as tasks
 * of tl_parallel_tasks (internal/parallel.h), each on one thread with OpenBLAS single-threaded:
 * the products inside one candidate are too small for BLAS threads to pay, the candidates are
 * not. */
/* Threads for the tasks: ctx->threads when set, else OpenBLAS's thread count; at most ntasks. */
size_t tli_threads(const tl_weight_params *p, size_t ntasks);
/* OpenBLAS single-threaded from here (returns the count to restore with tli_blas_restore): a fit
 * whose parallel work runs on tl_parallel_tasks's threads keeps BLAS serial throughout, since OpenBLAS's
 * workers spin (sched_yield) for a while after each threaded call, beside our threads. Take
 * tli_threads first: it reads OpenBLAS's count when ctx->threads is unset. */
int tli_blas_serial(void);
void tli_blas_restore(int saved);
/* The CPU runs AVX2 (x86 only; 0 elsewhere): selects the avx2 clones of the vector kernels. */
int tli_have_avx2(void);

/* The CPU runs AVX-512F (x86 only; 0 elsewhere): selects ulsif_clip_avx512.c. */
int tli_have_avx512(void);
/* For the tests: the widest vector code tli_have_avx2 / tli_have_avx512 may select from now on
 * (0 portable, 1 AVX2, 2 AVX-512: the default). Not thread-safe: set it between fits. */
void tli_simd_limit(int level);
/* uLSIF's leave-one-out full-product step, fused for AVX-512 (ulsif_clip_avx512.c): with
 * G = f R VT (R (n, b) single, VT (b, bp) single, bp = b rounded up to 16, zero past b),
 * wde[j] = Ks_j . max(0, G_j), wnu[j] = Kt_j . max(0, G_j) in double (Ks, Kt (n, bp) single,
 * zero past b), *sde = sum wde^2,
 * *snu = sum wnu. Only where tli_have_avx512(). */
void tli_ulsif_clip_avx512(size_t n, size_t b, const float *R, const float *VT, size_t bp,
                           float f, const float *Ks, size_t lds, const float *Kt, size_t ldt,
                           double *wde, double *wnu, double *sde, double *snu);

/* Portable 4-wide vectors (GCC/clang vector extension) for the inner loops of KLIEP and uLSIF:
 * compiled once for AVX2 (TLI_AVX2 clones) and once portably (pairs of SSE2 ops on x86), with no
 * FMA contraction in ISO C, so both clones round identically. */
#if defined(__GNUC__) || defined(__clang__)
#define TLI_VEC 1
typedef double tli_v4 __attribute__((vector_size(32)));
typedef long long tli_v4i __attribute__((vector_size(32)));
typedef float tli_f4 __attribute__((vector_size(16)));
#define TLI_INLINE static inline __attribute__((always_inline))
#if defined(__x86_64__) || defined(__i386__)
#define TLI_AVX2 1
#define TLI_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define TLI_AVX2 0
#endif
#else
#define TLI_VEC 0
#define TLI_AVX2 0
#define TLI_INLINE static inline
#endif

/* KLIEP's fused pass (kliep.c), exposed for the tests: over rows [r0, r1) of P (ld), with
 * y_j = max(P_j . a, 1e-300), returns sum_j log y_j and adds sum_j P_j / y_j to u (b): the
 * objective of alpha = a and the gradient direction Phi^T (1 ./ Phi a) in one read of P.
 * simd = 0 forces the portable code, 1 uses AVX2 where the CPU has it. */
double tli_kliep_pass(const double *P, size_t ld, size_t r0, size_t r1, size_t b, const double *a,
                      double *u, int simd);

/* Solver for KMM's QP, exposed for the tests:
 *   minimise 0.5 b^T K b - kappa^T b  subject to 0 <= b <= B, lo <= sum(b) <= hi
 * by a FISTA warm start and block principal pivoting (kmm.c). Kd (n, n) row-major: only its upper
 * triangle and diagonal are read; its strictly lower triangle is used as workspace (overwritten).
 * b (n) in: starting point, out: solution. */
typedef struct {
    size_t n;
    double *Kd;
    const double *kappa;
    double B, lo, hi;
    int max_iter;
    double tol;
    const tl_ctx *ctx;
} tli_qp;
tl_status tli_kmm_solve(const tli_qp *q, double *b, int *iters);
/* Euclidean projection of z (n) onto {0 <= x <= B, lo <= sum(x) <= hi} into x (n). */
void tli_project_box_slab(const double *z, size_t n, double B, double lo, double hi, double *x);

/* The domain classifier of the discriminative ratio (domain_clf.c): binary L2 logistic regression
 * of target (1) vs source (0) rows, minimising ||v||^2 / 2 + 2 C sum_i log-loss(v.x_i + b) with b
 * unpenalised (the optimum of the two-class softmax model with C; same probabilities):
 * warm_epochs of dual coordinate descent (0: start from v = 0; -1: TLI_DCLF_WARM_EPOCHS when
 * both blocks are CSR, else 0), then truncated Newton until max |grad| / (2 C n) <= tol and the
 * last step moved no mean-1 source weight by more than 0.02, or max_iter Newton steps.
 * v (d + 1): weights then intercept; z (ns + nt): margins v.x_i + b of the source rows then the
 * target rows, so p(t|x_i) / p(s|x_i) = e^{z_i}. */
#define TLI_DCLF_WARM_EPOCHS 10
#define TLI_DCLF_BLOCKS 8 /* at most this many threads share a dense pass over the rows */
typedef struct {
    double C, tol;
    int max_iter;    /* Newton iterations */
    uint64_t seed;   /* order of the dual coordinate descent */
    int warm_epochs; /* dual coordinate descent epochs before Newton, -1 auto */
    size_t threads;  /* dense passes over the rows (0: 1) */
} tli_dclf_opts;
tli_dclf_opts tli_dclf_opts_default(void); /* C 1, tol 1e-6, max_iter 1000, seed 42, auto */
typedef struct {
    int newton, cg; /* iterations done */
    int converged;  /* the stopping test passed */
    double gmax;    /* final max |grad| / (2 C n) */
    double f;       /* final objective / (2 C n) */
} tli_dclf_info;
tl_status tli_dclf_fit(tl_xmat Xs, tl_xmat Xt, const tli_dclf_opts *o, double *v /* (d + 1) */,
                       double *z /* (ns + nt) */, tli_dclf_info *info);

#endif
