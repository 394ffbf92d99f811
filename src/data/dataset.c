/* The dataset type: features (dense row-major tl_mat, or CSR for sparse text data such as the
 * Amazon 5000-d bag-of-words), optional integer labels, optional sample weights and a name (the
 * spec or file it came from, used in every message about it).
 *
 * Why it is built this way: an opaque handle owns its arrays so invariants (CSR indices sorted
 * and in range, label/weight arrays of length rows) hold after construction; learners read
 * features through the tl_xmat view and never need to know which storage a file produced.
 * Sparse storage is kept as long as possible (svmlight files are ~1% dense) and converted only
 * on request (tl_dataset_densify). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "internal/check.h"

static tl_status tl_dataset_new(tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    TL_CALLOC(ds, 1);
    ds->index_base = -1;
    *out = ds;
done:
    return st;
}

void tl_dataset_free(tl_dataset *ds) {
    if (!ds) return;
    if (!ds->borrowed) tl_mat_free(&ds->X);
    tl_free(ds->indptr);
    tl_free(ds->indices);
    tl_free(ds->values);
    tl_free(ds->y);
    tl_free(ds->t);
    tl_free(ds->w);
    tl_free(ds->name);
    tl_dataset_clear_names(ds);
    tl_free(ds);
}

tl_status tl_dataset_adopt_dense(tl_mat X, int *y, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    *out = NULL;
    TL_TRY(tl_dataset_new(&ds));
    ds->X = X;
    ds->X.ld = X.cols;
    ds->rows = X.rows;
    ds->cols = X.cols;
    ds->y = y;
    X.data = NULL;
    y = NULL;
    *out = ds;
    ds = NULL;
done:
    tl_free(X.data);
    tl_free(y);
    tl_dataset_free(ds);
    return st;
}

tl_status tl_dataset_adopt_csr(size_t rows, size_t cols, size_t *indptr, int32_t *indices,
                               double *values, int *y, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    *out = NULL;
    TL_TRY(tl_dataset_new(&ds));
    ds->sparse = true;
    ds->rows = rows;
    ds->cols = cols;
    ds->indptr = indptr;
    ds->indices = indices;
    ds->values = values;
    ds->nnz = indptr[rows];
    ds->y = y;
    indptr = NULL;
    indices = NULL;
    values = NULL;
    y = NULL;
    *out = ds;
    ds = NULL;
done:
    tl_free(indptr);
    tl_free(indices);
    tl_free(values);
    tl_free(y);
    tl_dataset_free(ds);
    return st;
}

tl_status tl_dataset_create_dense(size_t n, size_t d, bool with_labels, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_mat X = {0, 0, 0, NULL};
    int *y = NULL;
    *out = NULL;
    TL_TRY(tl_mat_alloc(&X, n, d));
    if (with_labels) TL_CALLOC(y, n);
    st = tl_dataset_adopt_dense(X, y, out);
    X.data = NULL;
    y = NULL;
done:
    tl_mat_free(&X);
    tl_free(y);
    return st;
}

tl_status tl_dataset_wrap_dense(tl_mat X, const int *y, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    TL_CHECK(out != NULL, TL_ERR_INVALID_ARG, "dataset wrap dense: NULL output");
    *out = NULL;
    TL_CHECK(X.data != NULL || X.rows == 0 || X.cols == 0, TL_ERR_INVALID_ARG,
             "dataset wrap dense: matrix %zu x %zu has no data", X.rows, X.cols);
    TL_CHECK(X.ld == X.cols || X.rows <= 1, TL_ERR_INVALID_ARG,
             "dataset wrap dense: rows must be contiguous (ld %zu, cols %zu): copy with "
             "tl_dataset_from_dense", X.ld, X.cols);
    TL_TRY(tl_dataset_new(&ds));
    ds->X = X;
    ds->X.ld = X.cols;
    ds->rows = X.rows;
    ds->cols = X.cols;
    ds->borrowed = true;
    if (y) {
        TL_ALLOC(ds->y, X.rows ? X.rows : 1);
        memcpy(ds->y, y, X.rows * sizeof *y);
    }
    *out = ds;
    ds = NULL;
done:
    tl_dataset_free(ds);
    return st;
}

tl_status tl_dataset_own_rows(tl_dataset *ds) {
    tl_status st = TL_OK;
    tl_mat X = {0, 0, 0, NULL};
    if (!ds || !ds->borrowed) return TL_OK;
    TL_TRY(tl_mat_clone(&X, ds->X));
    ds->X = X;
    ds->borrowed = false;
done:
    return st;
}

tl_status tl_dataset_from_dense(tl_mat X, const int *y, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    *out = NULL;
    TL_CHECK(X.data != NULL || X.rows == 0 || X.cols == 0, TL_ERR_INVALID_ARG,
             "dataset from dense: matrix %zu x %zu has no data", X.rows, X.cols);
    TL_CHECK(X.ld >= X.cols || X.rows <= 1, TL_ERR_INVALID_ARG,
             "dataset from dense: ld %zu < cols %zu", X.ld, X.cols);
    TL_TRY(tl_dataset_create_dense(X.rows, X.cols, y != NULL, &ds));
    if (X.rows && X.cols) TL_TRY(tl_mat_copy(ds->X, X));
    if (y) memcpy(ds->y, y, X.rows * sizeof *y);
    *out = ds;
    ds = NULL;
done:
    tl_dataset_free(ds);
    return st;
}

tl_status tl_csr_validate(tl_csr X) {
    if (!X.indptr) {
        if (X.rows == 0 && X.nnz == 0) return TL_OK;
        return tl_fail(TL_ERR_FORMAT, "CSR: indptr is NULL");
    }
    if (X.indptr[0] != 0)
        return tl_fail(TL_ERR_FORMAT, "CSR: indptr[0] = %zu, expected 0", X.indptr[0]);
    if (X.indptr[X.rows] != X.nnz)
        return tl_fail(TL_ERR_FORMAT, "CSR: indptr[%zu] = %zu, expected nnz = %zu", X.rows,
                       X.indptr[X.rows], X.nnz);
    if (X.nnz > 0 && (!X.indices || !X.values))
        return tl_fail(TL_ERR_FORMAT, "CSR: %zu entries but indices or values are NULL", X.nnz);
    if (X.cols > (size_t)INT32_MAX + 1)
        return tl_fail(TL_ERR_FORMAT, "CSR: %zu columns exceed the int32 index range", X.cols);
    for (size_t i = 0; i < X.rows; i++) {
        size_t a = X.indptr[i], b = X.indptr[i + 1];
        if (b < a || b > X.nnz)
            return tl_fail(TL_ERR_FORMAT, "CSR: row %zu: indptr decreases or exceeds nnz", i);
        for (size_t k = a; k < b; k++) {
            int32_t j = X.indices[k];
            if (j < 0 || (size_t)j >= X.cols)
                return tl_fail(TL_ERR_FORMAT,
                               "CSR: row %zu: column index %ld out of range [0, %zu)", i, (long)j,
                               X.cols);
            if (k > a && j <= X.indices[k - 1])
                return tl_fail(
                    TL_ERR_FORMAT,
                    "CSR: row %zu: column indices not strictly increasing (%ld after %ld)", i,
                    (long)j, (long)X.indices[k - 1]);
        }
    }
    return TL_OK;
}

tl_status tl_dataset_from_csr(tl_csr X, const int *y, tl_dataset **out) {
    tl_status st = TL_OK;
    size_t *indptr = NULL;
    int32_t *indices = NULL;
    double *values = NULL;
    int *yy = NULL;
    *out = NULL;
    TL_TRY(tl_csr_validate(X));
    TL_CHECK(X.rows < SIZE_MAX, TL_ERR_NOMEM, "CSR: too many rows");
    TL_ALLOC(indptr, X.rows + 1);
    TL_ALLOC(indices, X.nnz);
    TL_ALLOC(values, X.nnz);
    if (X.indptr)
        memcpy(indptr, X.indptr, (X.rows + 1) * sizeof *indptr);
    else
        indptr[0] = 0;
    if (X.nnz) {
        memcpy(indices, X.indices, X.nnz * sizeof *indices);
        memcpy(values, X.values, X.nnz * sizeof *values);
    }
    if (y) {
        TL_ALLOC(yy, X.rows);
        memcpy(yy, y, X.rows * sizeof *yy);
    }
    st = tl_dataset_adopt_csr(X.rows, X.cols, indptr, indices, values, yy, out);
    indptr = NULL;
    indices = NULL;
    values = NULL;
    yy = NULL;
done:
    tl_free(indptr);
    tl_free(indices);
    tl_free(values);
    tl_free(yy);
    return st;
}

static tl_status tl_dup_str(const char *s, char **out) {
    tl_status st = TL_OK;
    char *p = NULL;
    size_t n = strlen(s);
    TL_ALLOC(p, n + 1);
    memcpy(p, s, n + 1);
    *out = p;
done:
    return st;
}

/* Copies labels, weights and name from src to dst (rows equal). */
static tl_status tl_dataset_copy_meta(const tl_dataset *src, tl_dataset *dst) {
    tl_status st = TL_OK;
    if (src->y) TL_TRY(tl_dataset_set_labels(dst, src->y));
    if (src->t) TL_TRY(tl_dataset_set_targets(dst, src->t));
    if (src->w) TL_TRY(tl_dataset_set_weights(dst, src->w));
    if (src->name) TL_TRY(tl_dataset_set_name(dst, src->name));
    TL_TRY(tl_dataset_copy_extras(src, dst));
done:
    return st;
}

tl_status tl_dataset_clone(const tl_dataset *ds, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *c = NULL;
    *out = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "dataset clone: NULL dataset");
    if (ds->sparse)
        TL_TRY(tl_dataset_from_csr(tl_dataset_csr(ds), NULL, &c));
    else
        TL_TRY(tl_dataset_from_dense(ds->X, NULL, &c));
    TL_TRY(tl_dataset_copy_meta(ds, c));
    *out = c;
    c = NULL;
done:
    tl_dataset_free(c);
    return st;
}

size_t tl_dataset_rows(const tl_dataset *ds) { return ds ? ds->rows : 0; }
size_t tl_dataset_cols(const tl_dataset *ds) { return ds ? ds->cols : 0; }
bool tl_dataset_is_sparse(const tl_dataset *ds) { return ds && ds->sparse; }

size_t tl_dataset_nnz(const tl_dataset *ds) {
    if (!ds) return 0;
    return ds->sparse ? ds->nnz : ds->rows * ds->cols;
}

tl_mat tl_dataset_dense(tl_dataset *ds) {
    tl_mat m = {0, 0, 0, NULL};
    if (!ds) return m;
    if (ds->sparse) {
        m.rows = ds->rows;
        m.cols = ds->cols;
        m.ld = ds->cols;
        return m;
    }
    return ds->X;
}

tl_csr tl_dataset_csr(const tl_dataset *ds) {
    tl_csr c = {0, 0, 0, NULL, NULL, NULL};
    if (!ds || !ds->sparse) return c;
    c.rows = ds->rows;
    c.cols = ds->cols;
    c.nnz = ds->nnz;
    c.indptr = ds->indptr;
    c.indices = ds->indices;
    c.values = ds->values;
    return c;
}

tl_xmat tl_dataset_features(const tl_dataset *ds) {
    if (ds && ds->sparse) return tl_xmat_from_csr(tl_dataset_csr(ds));
    tl_mat m = {0, 0, 0, NULL};
    return tl_xmat_from_dense(ds ? ds->X : m);
}

int *tl_dataset_labels(tl_dataset *ds) { return ds ? ds->y : NULL; }
const int *tl_dataset_labels_const(const tl_dataset *ds) { return ds ? ds->y : NULL; }
bool tl_dataset_has_labels(const tl_dataset *ds) { return ds && ds->y; }
const double *tl_dataset_weights(const tl_dataset *ds) { return ds ? ds->w : NULL; }

tl_status tl_dataset_set_weights(tl_dataset *ds, const double *w) {
    tl_status st = TL_OK;
    double *nw = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "set weights: NULL dataset");
    if (w) {
        for (size_t i = 0; i < ds->rows; i++)
            TL_CHECK(isfinite(w[i]) && w[i] >= 0, TL_ERR_INVALID_ARG,
                     "%s: sample weight %zu is %g (weights must be finite and >= 0)",
                     tl_dataset_name(ds), i + 1, w[i]);
        TL_ALLOC(nw, ds->rows);
        memcpy(nw, w, ds->rows * sizeof *nw);
    }
    tl_free(ds->w);
    ds->w = nw;
    nw = NULL;
done:
    tl_free(nw);
    return st;
}

tl_status tl_dataset_set_labels(tl_dataset *ds, const int *y) {
    tl_status st = TL_OK;
    int *ny = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "set labels: NULL dataset");
    if (y) {
        if (y == ds->y) goto done;
        TL_ALLOC(ny, ds->rows);
        memcpy(ny, y, ds->rows * sizeof *ny);
    }
    tl_free(ds->y);
    ds->y = ny;
    if (ny) { /* a dataset holds classes or regression targets, not both */
        tl_free(ds->t);
        ds->t = NULL;
    }
    ny = NULL;
done:
    tl_free(ny);
    return st;
}

const char *tl_dataset_name(const tl_dataset *ds) {
    return (ds && ds->name) ? ds->name : "";
}

tl_status tl_dataset_set_name(tl_dataset *ds, const char *name) {
    tl_status st = TL_OK;
    char *p = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "set name: NULL dataset");
    if (name) TL_TRY(tl_dup_str(name, &p));
    tl_free(ds->name);
    ds->name = p;
    p = NULL;
done:
    tl_free(p);
    return st;
}

tl_status tl_dataset_densify(tl_dataset *ds) {
    tl_status st = TL_OK;
    tl_mat X = {0, 0, 0, NULL};
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "densify: NULL dataset");
    if (!ds->sparse) goto done;
    TL_TRY(tl_mat_alloc(&X, ds->rows, ds->cols));
    for (size_t i = 0; i < ds->rows; i++)
        for (size_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
            TL_AT(X, i, (size_t)ds->indices[k]) = ds->values[k];
    tl_free(ds->indptr);
    tl_free(ds->indices);
    tl_free(ds->values);
    ds->indptr = NULL;
    ds->indices = NULL;
    ds->values = NULL;
    ds->nnz = 0;
    ds->sparse = false;
    ds->X = X;
    X.data = NULL;
done:
    tl_mat_free(&X);
    return st;
}

tl_status tl_dataset_set_cols(tl_dataset *ds, size_t d) {
    tl_status st = TL_OK;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "set cols: NULL dataset");
    if (d == ds->cols) goto done;
    TL_CHECK(ds->sparse, TL_ERR_UNSUPPORTED,
             "%s: cannot change the width of dense data (%zu columns) to %zu",
             tl_dataset_name(ds), ds->cols, d);
    TL_CHECK(d >= ds->cols, TL_ERR_SHAPE,
             "%s: cannot narrow sparse data from %zu to %zu columns", tl_dataset_name(ds),
             ds->cols, d);
    TL_CHECK(d <= (size_t)INT32_MAX + 1, TL_ERR_INVALID_ARG,
             "%s: %zu columns exceed the int32 index range", tl_dataset_name(ds), d);
    ds->cols = d;
done:
    return st;
}

tl_status tl_dataset_subset(const tl_dataset *ds, const size_t *idx, size_t n, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *s = NULL;
    size_t *indptr = NULL;
    int32_t *indices = NULL;
    double *values = NULL;
    *out = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "subset: NULL dataset");
    TL_CHECK(idx != NULL || n == 0, TL_ERR_INVALID_ARG, "subset: NULL index array");
    for (size_t k = 0; k < n; k++)
        TL_CHECK(idx[k] < ds->rows, TL_ERR_INVALID_ARG,
                 "%s: subset index %zu is %zu, beyond the %zu rows", tl_dataset_name(ds), k,
                 idx[k], ds->rows);
    if (ds->sparse) {
        size_t nnz = 0;
        for (size_t k = 0; k < n; k++) {
            size_t r = ds->indptr[idx[k] + 1] - ds->indptr[idx[k]];
            TL_CHECK(nnz + r >= nnz, TL_ERR_NOMEM, "subset: entry count overflows");
            nnz += r;
        }
        TL_CHECK(n < SIZE_MAX, TL_ERR_NOMEM, "subset: too many rows");
        TL_ALLOC(indptr, n + 1);
        TL_ALLOC(indices, nnz);
        TL_ALLOC(values, nnz);
        indptr[0] = 0;
        for (size_t k = 0; k < n; k++) {
            size_t a = ds->indptr[idx[k]], b = ds->indptr[idx[k] + 1], o = indptr[k];
            memcpy(indices + o, ds->indices + a, (b - a) * sizeof *indices);
            memcpy(values + o, ds->values + a, (b - a) * sizeof *values);
            indptr[k + 1] = o + (b - a);
        }
        st = tl_dataset_adopt_csr(n, ds->cols, indptr, indices, values, NULL, &s);
        indptr = NULL;
        indices = NULL;
        values = NULL;
        if (st != TL_OK) goto done;
    } else {
        TL_TRY(tl_dataset_create_dense(n, ds->cols, false, &s));
        for (size_t k = 0; k < n; k++)
            memcpy(s->X.data + k * s->X.ld, ds->X.data + idx[k] * ds->X.ld,
                   ds->cols * sizeof(double));
    }
    if (ds->y) {
        TL_ALLOC(s->y, n);
        for (size_t k = 0; k < n; k++) s->y[k] = ds->y[idx[k]];
    }
    if (ds->t) {
        TL_ALLOC(s->t, n ? n : 1);
        for (size_t k = 0; k < n; k++) s->t[k] = ds->t[idx[k]];
    }
    if (ds->w) {
        TL_ALLOC(s->w, n);
        for (size_t k = 0; k < n; k++) s->w[k] = ds->w[idx[k]];
    }
    if (ds->name) TL_TRY(tl_dataset_set_name(s, ds->name));
    TL_TRY(tl_dataset_copy_extras(ds, s));
    *out = s;
    s = NULL;
done:
    tl_free(indptr);
    tl_free(indices);
    tl_free(values);
    tl_dataset_free(s);
    return st;
}

tl_status tl_dataset_check_finite(const tl_dataset *ds) {
    if (!ds) return tl_fail(TL_ERR_INVALID_ARG, "check finite: NULL dataset");
    const char *nm = ds->name ? ds->name : "dataset";
    if (ds->sparse) {
        for (size_t i = 0; i < ds->rows; i++)
            for (size_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
                if (!isfinite(ds->values[k]))
                    return tl_fail(TL_ERR_NONFINITE, "%s: %s at row %zu, column %zu", nm,
                                   isnan(ds->values[k]) ? "NaN" : "Inf", i + 1,
                                   (size_t)ds->indices[k] + 1);
        return TL_OK;
    }
    for (size_t i = 0; i < ds->rows; i++) {
        const double *r = ds->X.data + i * ds->X.ld;
        for (size_t j = 0; j < ds->cols; j++)
            if (!isfinite(r[j]))
                return tl_fail(TL_ERR_NONFINITE, "%s: %s at row %zu, column %zu", nm,
                               isnan(r[j]) ? "NaN" : "Inf", i + 1, j + 1);
    }
    if (ds->w)
        for (size_t i = 0; i < ds->rows; i++)
            if (!isfinite(ds->w[i]))
                return tl_fail(TL_ERR_NONFINITE, "%s: non-finite weight at row %zu", nm, i + 1);
    return TL_OK;
}

/* ---- labels ---- */
static int tl_cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

tl_status tl_labels_unique(const int *y, size_t n, int **classes, size_t **counts,
                           size_t *nclasses) {
    tl_status st = TL_OK;
    int *c = NULL;
    size_t *cnt = NULL;
    *classes = NULL;
    if (counts) *counts = NULL;
    *nclasses = 0;
    TL_CHECK(y != NULL || n == 0, TL_ERR_INVALID_ARG, "labels unique: NULL labels");
    TL_ALLOC(c, n);
    if (n) memcpy(c, y, n * sizeof *c);
    qsort(c, n, sizeof *c, tl_cmp_int);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || c[m - 1] != c[i]) c[m++] = c[i];
    if (m && m < n) {
        int *shrunk = tl_realloc(c, m * sizeof *c);
        if (shrunk) c = shrunk;
    }
    if (counts) {
        TL_CALLOC(cnt, m);
        for (size_t i = 0; i < n; i++) cnt[tl_labels_index(c, m, y[i])]++;
        *counts = cnt;
        cnt = NULL;
    }
    *classes = c;
    *nclasses = m;
    c = NULL;
done:
    tl_free(c);
    tl_free(cnt);
    return st;
}

long tl_labels_index(const int *classes, size_t c, int v) {
    size_t lo = 0, hi = c;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (classes[mid] < v)
            lo = mid + 1;
        else if (classes[mid] > v)
            hi = mid;
        else
            return (long)mid;
    }
    return -1;
}

tl_status tl_dataset_concat(const tl_dataset *a, const tl_dataset *b, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *s = NULL;
    size_t *indptr = NULL;
    int32_t *indices = NULL;
    double *values = NULL;
    TL_CHECK(a && b && out, TL_ERR_INVALID_ARG, "concat: NULL argument");
    *out = NULL;
    TL_CHECK(a->cols == b->cols, TL_ERR_SHAPE, "concat: '%s' has %zu features, '%s' has %zu",
             tl_dataset_name(a), a->cols, tl_dataset_name(b), b->cols);
    TL_TRY(tl_classes_compatible(a, b));
    size_t n = a->rows + b->rows;
    TL_CHECK(n >= a->rows, TL_ERR_NOMEM, "concat: row count overflows");
    if (a->sparse && b->sparse) {
        size_t nnz = a->nnz + b->nnz;
        TL_ALLOC(indptr, n + 1);
        TL_ALLOC(indices, nnz ? nnz : 1);
        TL_ALLOC(values, nnz ? nnz : 1);
        if (a->nnz) {
            memcpy(indices, a->indices, a->nnz * sizeof *indices);
            memcpy(values, a->values, a->nnz * sizeof *values);
        }
        if (b->nnz) {
            memcpy(indices + a->nnz, b->indices, b->nnz * sizeof *indices);
            memcpy(values + a->nnz, b->values, b->nnz * sizeof *values);
        }
        for (size_t i = 0; i <= a->rows; i++) indptr[i] = a->indptr[i];
        for (size_t i = 1; i <= b->rows; i++) indptr[a->rows + i] = a->nnz + b->indptr[i];
        st = tl_dataset_adopt_csr(n, a->cols, indptr, indices, values, NULL, &s);
        indptr = NULL;
        indices = NULL;
        values = NULL;
        if (st != TL_OK) goto done;
    } else {
        TL_TRY(tl_dataset_create_dense(n, a->cols, false, &s));
        const tl_dataset *parts[2] = {a, b};
        for (int q = 0; q < 2; q++) {
            size_t off = q ? a->rows : 0;
            TL_TRY(tl_xmat_rows_dense(tl_dataset_features(parts[q]), 0, parts[q]->rows,
                                      tl_mat_rows(s->X, off, parts[q]->rows)));
        }
    }
    if (a->y && b->y) {
        TL_ALLOC(s->y, n ? n : 1);
        memcpy(s->y, a->y, a->rows * sizeof *s->y);
        memcpy(s->y + a->rows, b->y, b->rows * sizeof *s->y);
    }
    if (a->t && b->t) {
        TL_ALLOC(s->t, n ? n : 1);
        memcpy(s->t, a->t, a->rows * sizeof *s->t);
        memcpy(s->t + a->rows, b->t, b->rows * sizeof *s->t);
    }
    if (a->w || b->w) {
        TL_ALLOC(s->w, n ? n : 1);
        for (size_t i = 0; i < a->rows; i++) s->w[i] = a->w ? a->w[i] : 1.0;
        for (size_t i = 0; i < b->rows; i++) s->w[a->rows + i] = b->w ? b->w[i] : 1.0;
    }
    if (a->name) TL_TRY(tl_dataset_set_name(s, a->name));
    TL_TRY(tl_dataset_copy_extras(a->class_names ? a : b, s));
    if (a->index_base != b->index_base) s->index_base = -1;
    if (a->shape_nd != b->shape_nd ||
        memcmp(a->shape, b->shape, a->shape_nd * sizeof a->shape[0]) != 0)
        s->shape_nd = 0;
    *out = s;
    s = NULL;
done:
    tl_free(indptr);
    tl_free(indices);
    tl_free(values);
    tl_dataset_free(s);
    return st;
}
