/* Order statistics shared by the modules (defined in src/linalg/kernel.c): the k-th smallest
 * value and numpy's median, both reordering the array in place. The median heuristic of the
 * kernels and the guard's one-pass MMD take their medians from here, so both give the value
 * tl_kernel_median_gamma gives. */
#ifndef TL_INTERNAL_SELECT_H
#define TL_INTERNAL_SELECT_H

#include <stddef.h>

/* k-th smallest (0-based) of a (n > k); a is partially reordered. */
double tli_select_kth(double *a, size_t n, size_t k);
/* Median of a (n >= 1): the mean of the two middle values when n is even; a is reordered. */
double tli_median_inplace(double *a, size_t n);

#endif
