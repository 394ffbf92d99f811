/* tl_xmat: one view type over dense or CSR features, so learners and measures accept both
 * storages. tl_xmat_rows_dense scatters a block of CSR rows into a dense block, which lets
 * BLAS-based code (distances, kernels) process sparse data blockwise with memory bounded by the
 * block, never densifying the whole matrix. */
#include <string.h>

#include "internal/check.h"
#include "tl/data.h"

tl_xmat tl_xmat_from_dense(tl_mat X) {
    tl_xmat x;
    memset(&x, 0, sizeof x);
    x.sparse = false;
    x.dense = X;
    return x;
}

tl_xmat tl_xmat_from_csr(tl_csr X) {
    tl_xmat x;
    memset(&x, 0, sizeof x);
    x.sparse = true;
    x.csr = X;
    return x;
}

size_t tl_xmat_rows(tl_xmat X) { return X.sparse ? X.csr.rows : X.dense.rows; }
size_t tl_xmat_cols(tl_xmat X) { return X.sparse ? X.csr.cols : X.dense.cols; }

tl_status tl_xmat_rows_dense(tl_xmat X, size_t row0, size_t n, tl_mat out) {
    size_t rows = tl_xmat_rows(X), cols = tl_xmat_cols(X);
    if (row0 > rows || n > rows - row0)
        return tl_fail(TL_ERR_SHAPE, "xmat rows: rows [%zu, %zu) outside a %zu-row matrix", row0,
                       row0 + n, rows);
    if (out.rows != n || out.cols != cols)
        return tl_fail(TL_ERR_SHAPE, "xmat rows: output is %zu x %zu, expected %zu x %zu",
                       out.rows, out.cols, n, cols);
    if (n == 0 || cols == 0) return TL_OK;
    if (!X.sparse) return tl_mat_copy(out, tl_mat_rows(X.dense, row0, n));
    const tl_csr *c = &X.csr;
    for (size_t i = 0; i < n; i++) {
        double *r = out.data + i * out.ld;
        memset(r, 0, cols * sizeof *r);
        for (size_t k = c->indptr[row0 + i]; k < c->indptr[row0 + i + 1]; k++)
            r[c->indices[k]] = c->values[k];
    }
    return TL_OK;
}
