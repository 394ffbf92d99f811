/* tl_mat views: construction, sub-views, owned allocation, copies and the finite check. The view
 * is a plain struct so it can be passed by value and sliced without allocating. */
#include <math.h>
#include <string.h>

#include "internal/check.h"
#include "tl/linalg.h"

tl_mat tl_mat_view(double *data, size_t rows, size_t cols) {
    tl_mat m = {rows, cols, cols, data};
    return m;
}

tl_mat tl_mat_rows(tl_mat m, size_t row0, size_t nrows) {
    tl_mat v = {nrows, m.cols, m.ld, m.data ? m.data + row0 * m.ld : NULL};
    return v;
}

tl_mat tl_mat_cols(tl_mat m, size_t col0, size_t ncols) {
    tl_mat v = {m.rows, ncols, m.ld, m.data ? m.data + col0 : NULL};
    return v;
}

tl_status tl_mat_alloc(tl_mat *m, size_t rows, size_t cols) {
    tl_status st = TL_OK;
    size_t n;
    m->rows = m->cols = m->ld = 0;
    m->data = NULL;
    TL_CHECK(tl_size_mul(rows, cols, &n) == 0, TL_ERR_NOMEM, "matrix %zu x %zu overflows", rows,
             cols);
    TL_CALLOC(m->data, n);
    m->rows = rows;
    m->cols = cols;
    m->ld = cols;
done:
    return st;
}

void tl_mat_free(tl_mat *m) {
    if (!m) return;
    tl_free(m->data);
    m->data = NULL;
    m->rows = m->cols = m->ld = 0;
}

tl_status tl_mat_copy(tl_mat dst, tl_mat src) {
    if (dst.rows != src.rows || dst.cols != src.cols)
        return tl_fail(TL_ERR_SHAPE, "copy: destination %zu x %zu, source %zu x %zu", dst.rows,
                       dst.cols, src.rows, src.cols);
    for (size_t i = 0; i < src.rows; i++)
        memmove(dst.data + i * dst.ld, src.data + i * src.ld, src.cols * sizeof(double));
    return TL_OK;
}

tl_status tl_mat_clone(tl_mat *dst, tl_mat src) {
    tl_status st = tl_mat_alloc(dst, src.rows, src.cols);
    if (st != TL_OK) return st;
    return tl_mat_copy(*dst, src);
}

void tl_mat_fill(tl_mat m, double v) {
    for (size_t i = 0; i < m.rows; i++)
        for (size_t j = 0; j < m.cols; j++) TL_AT(m, i, j) = v;
}

tl_status tl_mat_check_finite(tl_mat m, const char *what) {
    for (size_t i = 0; i < m.rows; i++)
        for (size_t j = 0; j < m.cols; j++)
            if (!isfinite(TL_AT(m, i, j)))
                return tl_fail(TL_ERR_NONFINITE, "%s: %s at row %zu, column %zu",
                               what ? what : "matrix", isnan(TL_AT(m, i, j)) ? "NaN" : "Inf",
                               i + 1, j + 1);
    return TL_OK;
}
