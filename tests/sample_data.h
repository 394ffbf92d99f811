/* Synthetic samples shared by the tests. */
#ifndef TL_TESTS_SAMPLE_DATA_H
#define TL_TESTS_SAMPLE_DATA_H

#include "tl/core.h"
#include "tl/linalg.h"

/* n x d Gaussian sample (scale * N(0, 1)), mean shift in the first column, owned by the caller
 * (free()). */
tl_mat gauss(size_t n, size_t d, double shift, double scale, tl_rng *r);

#endif
