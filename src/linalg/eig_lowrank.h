/* Symmetric-definite pencils whose right matrix is a low-rank update of the identity,
 *     R a = mu (lambda I + U U^T) a,     R (r, r) symmetric, U (r, q), lambda > 0,
 * the eigen-problem of every TCA/JDA/BDA round (src/feature/mmd.c): R is the centred scatter,
 * fixed across the rounds, and U changes with the pseudo-labels. Internal to libtl (feature code
 * includes it; it is not installed). See eig_lowrank.c for the methods and why. */
#ifndef TL_LINALG_EIG_LOWRANK_H
#define TL_LINALG_EIG_LOWRANK_H

#include <stdbool.h>

#include "tl/linalg.h"

/* The k largest pairs of the pencil with any symmetric R, through the closed-form inverse square
 * root of lambda I + U U^T and a dense standard eigen-problem (tl_eig_sym). w (k) descending,
 * V (r, k) unit 2-norm columns (the directions of the pencil's eigenvectors). */
tl_status tl_eig_pencil_lowrank(tl_mat R, tl_mat U, double lambda, size_t k, double *w, tl_mat V);

/* The same for a diagonal R = diag(d), d (r) descending (R given in its eigenbasis), by a
 * Rayleigh-Ritz step on a subspace that holds the wanted eigenvectors to working accuracy,
 * checked before it is returned: every pair's relative residual is at most tol (<= 0: 1e-14)
 * and an inertia count confirms that no eigenvalue above the k-th was missed. When the subspace
 * would not be much smaller than r, or the check fails, returns TL_ERR_UNSUPPORTED without a
 * message and leaves the problem to tl_eig_pencil_lowrank. w (k) descending, B (r, k) unit
 * columns. */
tl_status tl_eig_pencil_diag(const double *d, tl_mat U, double lambda, size_t k, double tol,
                             double *w, tl_mat B);

/* Whether tl_eig_pencil_diag can accept an r x r pencil with U (r, q) and k pairs at all (its
 * smallest subspace, k + q head coordinates and the tail vectors, within its share of r): the
 * caller's eigen-decomposition of R only pays when it can. */
bool tl_eig_pencil_diag_fits(size_t r, size_t q, size_t k);

/* Naive reference for the tests: L = lambda I + U U^T formed, LAPACK's generalised solver
 * (tl_eig_sym_gen), columns scaled to unit norm. */
tl_status tl_eig_pencil_naive(tl_mat R, tl_mat U, double lambda, size_t k, double *w, tl_mat V);

#endif
