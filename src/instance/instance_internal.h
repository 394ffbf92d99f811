/* Private interface of src/instance: one fit function per weighting method, called by
 * tl_weights_fit (weights.c) after the shared checks (valid parameters, a non-empty source and
 * target sharing one feature space, finite values) and with the kernel bandwidth resolved. Each
 * writes unnormalised non-negative weights w (ns); weights.c rescales them to mean 1. */
#ifndef TL_INSTANCE_INTERNAL_H
#define TL_INSTANCE_INTERNAL_H

#include "measure/measure_internal.h"
#include "tl/instance.h"

/* The kernel with gamma resolved (median heuristic on the pooled sample for RBF, 1/d for poly). */
tl_status tli_resolve_kernel(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, tl_kernel *k);

tl_status tli_kmm(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                  double *w /* (ns) */);
tl_status tli_kliep(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w /* (ns) */);
tl_status tli_ulsif(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w /* (ns) */);

/* Kernel centres for KLIEP/uLSIF: b = min(centers, nt) target rows, all of them in order when
 * b == nt, otherwise a seeded uniform sample. C (b, d) allocated with tl_mat_alloc. */
tl_status tli_centres(tl_xmat Xt, size_t centers, uint64_t seed, tl_mat *C);
/* Phi (rows(X), b) = k(X_i, C_j), X densified block by block. */
tl_status tli_kernel_design(const tl_kernel *k, tl_xmat X, tl_mat C, tl_mat Phi);

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

#endif
