/* Sparse views of dense rows for tl auto's probes (auto.c).
 *
 * Why: on bag-of-words data (Amazon reviews: 5000 count columns, a few percent of them non-zero)
 * the candidate's space is handed over dense, and every probe - the two-fold logistic
 * regressions, the full one, the common reverse validation's - then multiplies the whole dense
 * matrix by a 2-column weight block at each L-BFGS step: most of tl auto's time, spent on zeros.
 * The logistic regression has a CSR path computing the same objective; this builds its input.
 * A matrix denser than TLX_CSR_MAX_DENSITY stays dense (the CSR form would be slower there). */
#include <string.h>

#include "internal/check.h"
#include "pipeline_internal.h"

void tlx_csr_free(tlx_csr *c) {
    if (!c) return;
    tl_free(c->indptr);
    tl_free(c->indices);
    tl_free(c->values);
    memset(c, 0, sizeof *c);
}

bool tlx_csr_worth(tl_mat X) {
    size_t nz = 0, cells = X.rows * X.cols;
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) nz += X.data[i * X.ld + j] != 0;
    return cells && (double)nz <= TLX_CSR_MAX_DENSITY * (double)cells;
}

tl_status tlx_csr_rows(tl_mat X, const size_t *rows, size_t m, tlx_csr *out) {
    tl_status st = TL_OK;
    memset(out, 0, sizeof *out);
    TL_CHECK(X.cols <= (size_t)INT32_MAX, TL_ERR_INVALID_ARG,
             "a sparse view of %zu columns exceeds 32-bit column indices", X.cols);
    size_t nz = 0;
    for (size_t i = 0; i < m; i++) {
        const double *x = X.data + (rows ? rows[i] : i) * X.ld;
        for (size_t j = 0; j < X.cols; j++) nz += x[j] != 0;
    }
    TL_ALLOC(out->indptr, m + 1);
    TL_ALLOC(out->indices, nz ? nz : 1);
    TL_ALLOC(out->values, nz ? nz : 1);
    size_t q = 0;
    out->indptr[0] = 0;
    for (size_t i = 0; i < m; i++) {
        const double *x = X.data + (rows ? rows[i] : i) * X.ld;
        for (size_t j = 0; j < X.cols; j++)
            if (x[j] != 0) out->indices[q] = (int32_t)j, out->values[q++] = x[j];
        out->indptr[i + 1] = q;
    }
    out->X = tl_xmat_from_csr((tl_csr){m, X.cols, nz, out->indptr, out->indices, out->values});
done:
    if (st != TL_OK) tlx_csr_free(out);
    return st;
}
