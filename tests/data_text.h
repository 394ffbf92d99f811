/* Helpers of the data tests: parse a CSV or svmlight text held in memory (named t.csv / t.svm in
 * messages), and read one cell of a dataset whether it is dense or sparse. */
#ifndef TL_TESTS_DATA_TEXT_H
#define TL_TESTS_DATA_TEXT_H

#include <string.h>

#include "internal/testing.h"
#include "tl.h"

static inline tl_status parse_csv(const char *text, const tl_load_opts *o, tl_dataset **ds) {
    return tl_parse_csv(text, strlen(text), "t.csv", o, ds);
}

static inline tl_status parse_svm(const char *text, const tl_load_opts *o, tl_dataset **ds) {
    return tl_parse_svmlight(text, strlen(text), "t.svm", o, ds);
}

/* X[i][j] of a dense or sparse dataset. */
static inline double at(tl_dataset *ds, size_t i, size_t j) {
    if (tl_dataset_is_sparse(ds)) {
        tl_csr c = tl_dataset_csr(ds);
        for (size_t k = c.indptr[i]; k < c.indptr[i + 1]; k++)
            if ((size_t)c.indices[k] == j) return c.values[k];
        return 0.0;
    }
    tl_mat X = tl_dataset_dense(ds);
    return TL_AT(X, i, j);
}

#endif
