/* The row space of a wide matrix kept as its Householder QR factors (qr.c), for a problem that is
 * solved in the coordinates of that basis and mapped back only at the end: the MMD methods
 * (src/feature/mmd.c) with fewer samples than features. Internal to libtl (not installed).
 *
 * Why not tl_row_space_basis + products: with A^T = Q R, the samples' coordinates in the basis Q
 * are A Q = R^T, read off the factorisation, so the explicit Q (dorgqr, ~ the QR's own cost) and
 * the products A Q (2 n^2 d) are not needed; the solution's few columns are mapped back by
 * applying the reflectors (dormqr). The basis is the one tl_row_space_basis returns. */
#ifndef TL_LINALG_ROWSPACE_H
#define TL_LINALG_ROWSPACE_H

#include "tl/linalg.h"

typedef struct {
    size_t n, d;  /* A was n x d, n <= d */
    double *a;    /* (d, n) column-major: dgeqrf's reflectors below R */
    double *tau;  /* (n) */
} tl_rowspace;

/* Factors A (n, d), n <= d, and writes C (n, n) = A Q, lower triangular (R^T). A is not
 * modified; f is freed by tl_rowspace_free, also after an error. */
tl_status tl_rowspace_factor(tl_mat A, tl_rowspace *f, tl_mat C);

/* W (d, k) = Q V for V (n, k): coordinates in the basis back to the d features. W must be
 * contiguous (ld == k). */
tl_status tl_rowspace_apply(const tl_rowspace *f, tl_mat V, tl_mat W);

void tl_rowspace_free(tl_rowspace *f);

#endif
