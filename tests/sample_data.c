/* Synthetic samples shared by the tests (see sample_data.h). */
#include "sample_data.h"

#include <stdlib.h>

tl_mat gauss(size_t n, size_t d, double shift, double scale, tl_rng *r) {
    tl_mat m = tl_mat_view(malloc(n * d * sizeof(double) + 8), n, d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) TL_AT(m, i, j) = scale * tl_rng_normal(r) + (j == 0 ? shift : 0);
    return m;
}
