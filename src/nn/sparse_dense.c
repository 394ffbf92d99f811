/* Dense layer on a CSR slice, by a compact transposed block of the weights (dense.c's sparse path).
 *
 * Why: W is (N, IN) as PyTorch's nn.Linear keeps it, so the nonzeros of a bag-of-words row (92 of
 * the Amazon reviews' 5000) address W a column at a time: a scalar load per (nonzero, unit), and
 * for dW a scalar read-modify-write. Here the U distinct columns a slice uses (about 1 500 for 32
 * reviews) are copied once, transposed, into Wc (U, Np) (Np: N rounded up to 16), so that each
 * nonzero then adds v * Wc[u] into its output row - one vectorised loop over the N units; the
 * weight gradient is built the same way in Wc (dWc[u] += v * dy[i]) and added into dW's U columns
 * once. Each column of W is read once per slice, not once per nonzero.
 *
 * Same floats as the scalar kernels it replaces: y[i][n] = b[n] + (even + odd), where even/odd sum
 * v * W[n][k] over the row's nonzeros at even/odd positions in order (the two accumulators of the
 * old loop); dW[n][k] += the products v * dy[i][n] summed over rows i in order, starting from
 * dW[n][k] when it is 0 (the per-step gradient buffers are). No FMA contraction (-std=c11). */
#include <math.h>
#include <string.h>

#include "internal/check.h"
#include "nn/nn_internal.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define NN_SP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#pragma GCC optimize("O3")
#else
#define NN_SP_CLONES
#endif

size_t nn_sparse_np(size_t N) { return (N + 15) / 16 * 16; }

size_t nn_sparse_compact(const int32_t *idx, size_t nnz, size_t in, int32_t *map, int32_t *key,
                         int32_t *uid) {
    for (size_t t = 0; t < nnz; t++) map[idx[t]] = 0; /* map is -1 outside this call */
    size_t U = 0;
    for (size_t k = 0; k < in; k++)
        if (map[k] >= 0) {
            map[k] = (int32_t)U;
            key[U++] = (int32_t)k;
        }
    for (size_t t = 0; t < nnz; t++) uid[t] = map[idx[t]];
    for (size_t u = 0; u < U; u++) map[key[u]] = -1;
    return U;
}

/* Wc[u][n0 + j] = W[n0 + j][key[u]], 16 units at a time so each u writes one 64-byte run. */
NN_SP_CLONES
static void gather_t(const float *restrict W, size_t N, size_t in, const int32_t *restrict key, size_t U,
                     float *restrict Wc, size_t Np) {
    size_t n0 = 0;
    for (; n0 + 16 <= N; n0 += 16)
        for (size_t u = 0; u < U; u++) {
            const float *w = W + n0 * in + key[u];
            float *o = Wc + u * Np + n0;
            for (size_t j = 0; j < 16; j++) o[j] = w[j * in];
        }
    for (; n0 < N; n0++)
        for (size_t u = 0; u < U; u++) Wc[u * Np + n0] = W[n0 * in + key[u]];
}

NN_SP_CLONES
static void row_forward(const float *restrict Wc, size_t Np, size_t N, const float *restrict b,
                        const size_t *ptr, const int32_t *restrict uid, const float *restrict val,
                        size_t B, float *restrict y, float *restrict odd) {
    const size_t Ne = N & ~(size_t)1; /* the old kernel's pairs of units; an odd last unit alone */
    for (size_t i = 0; i < B; i++) {
        float *restrict ev = y + i * N;
        for (size_t n = 0; n < N; n++) ev[n] = odd[n] = 0.0f;
        for (size_t t = ptr[i]; t < ptr[i + 1]; t++) {
            const float v = val[t], *restrict w = Wc + (size_t)uid[t] * Np;
            float *restrict acc = ((t - ptr[i]) & 1) ? odd : ev;
            for (size_t n = 0; n < Ne; n++) acc[n] += v * w[n];
        }
        for (size_t n = 0; n < Ne; n++) ev[n] = b[n] + (ev[n] + odd[n]);
        if (Ne < N) {
            float a = 0.0f;
            for (size_t t = ptr[i]; t < ptr[i + 1]; t++) a += val[t] * Wc[(size_t)uid[t] * Np + Ne];
            ev[Ne] = b[Ne] + a;
        }
    }
}

void nn_sparse_forward(const float *W, const float *b, size_t N, size_t in, const size_t *ptr,
                       const int32_t *uid, const float *val, size_t B, const int32_t *key, size_t U,
                       float *Wc, float *y) {
    const size_t Np = nn_sparse_np(N);
    gather_t(W, N, in, key, U, Wc, Np);
    row_forward(Wc, Np, N, b, ptr, uid, val, B, y, Wc + U * Np);
}

NN_SP_CLONES
static void dwc_accumulate(float *restrict dWc, size_t Np, size_t N, const size_t *ptr,
                           const int32_t *restrict uid, const float *restrict val, const float *restrict dy,
                           size_t B) {
    for (size_t i = 0; i < B; i++) {
        const float *restrict g = dy + i * N;
        for (size_t t = ptr[i]; t < ptr[i + 1]; t++) {
            const float v = val[t];
            float *restrict d = dWc + (size_t)uid[t] * Np;
            for (size_t n = 0; n < N; n++) d[n] += g[n] * v;
        }
    }
}

NN_SP_CLONES
static void scatter_t(const float *restrict dWc, size_t Np, size_t N, size_t in, const int32_t *restrict key,
                      size_t U, float *restrict dW) {
    size_t n0 = 0;
    for (; n0 + 16 <= N; n0 += 16)
        for (size_t u = 0; u < U; u++) {
            const float *s = dWc + u * Np + n0;
            float *d = dW + n0 * in + key[u];
            for (size_t j = 0; j < 16; j++) d[j * in] += s[j];
        }
    for (; n0 < N; n0++)
        for (size_t u = 0; u < U; u++) dW[n0 * in + key[u]] += dWc[u * Np + n0];
}

void nn_sparse_backward_dw(size_t N, size_t in, const size_t *ptr, const int32_t *uid, const float *val,
                           const float *dy, size_t B, const int32_t *key, size_t U, float *dWc, float *dW) {
    const size_t Np = nn_sparse_np(N);
    memset(dWc, 0, U * Np * sizeof *dWc);
    dwc_accumulate(dWc, Np, N, ptr, uid, val, dy, B);
    scatter_t(dWc, Np, N, in, key, U, dW);
}

/* ---- a trainer's batch given as CSR rows (nn_rows, used by da.c) ---- */

/* Whether net's input a[0] is read by its first layer alone, a wide dense layer with a sparse
 * path: then a batch's CSR can be handed to that layer and a[0] need not hold the rows. */
static bool input_sparse_only(const tl_nn *nn) {
    if (!nn->nl || nn->want_input_grad) return false;
    const nn_layer *L = &nn->layers[0];
    if (L->kind != NN_DENSE || L->src != 0 || nn_shape_size(L->in) < NN_SPARSE_MIN_IN) return false;
    for (size_t i = 1; i < nn->nl; i++)
        if (nn->layers[i].src == 0 || (nn->layers[i].kind == NN_ADD && nn->layers[i].skip == 0)) return false;
    return true;
}

void nn_rows_free(nn_rows *r) {
    if (!r) return;
    tl_free(r->ptr);
    tl_free(r->idx);
    tl_free(r->val);
    memset(r, 0, sizeof *r);
}

tl_status nn_rows_from_dense(const tl_nn *nn, const float *x, size_t n, size_t d, nn_rows *out) {
    tl_status st = TL_OK;
    memset(out, 0, sizeof *out);
    if (!input_sparse_only(nn) || nn_shape_size(nn->layers[0].in) != d) return TL_OK;
    size_t nnz = 0;
    for (size_t e = 0; e < n * d; e++) nnz += x[e] != 0.0f; /* NaN counts: it must propagate */
    if (nnz > n * (d / NN_SPARSE_DIV)) return TL_OK; /* denser than the sparse path takes */
    TL_ALLOC(out->ptr, n + 1);
    TL_ALLOC(out->idx, nnz ? nnz : 1);
    TL_ALLOC(out->val, nnz ? nnz : 1);
    out->ptr[0] = 0;
    for (size_t i = 0, t = 0; i < n; i++) {
        const float *r = x + i * d;
        for (size_t k = 0; k < d; k++)
            if (r[k] != 0.0f) {
                out->idx[t] = (int32_t)k;
                out->val[t++] = r[k];
            }
        out->ptr[i + 1] = t;
        if (t - out->ptr[i] > out->maxrow) out->maxrow = t - out->ptr[i];
    }
    out->n = n;
    out->d = d;
done:
    if (st != TL_OK) nn_rows_free(out);
    return st;
}

size_t nn_rows_threads(const tl_nn *nn, const nn_rows *r, size_t batch, size_t T) {
    if (T <= 1 || !r->n || !nn->nl) return T;
    const nn_layer *L = &nn->layers[0];
    const double in = (double)nn_shape_size(L->in), units = (double)nn_shape_size(L->out);
    const double nnz_row = (double)r->ptr[r->n] / (double)r->n;
    const double rest = (double)nn->p_total - in * units; /* the other layers' weights, dense */
    /* forward, backward and the weight gradient: about 6 flops a weight and row */
    const double work = 6.0 * (double)batch * (nnz_row * units + (rest > 0 ? rest : 0));
    return work / (double)T < NN_WORK_PER_GRAD * (double)nn->p_total ? 1 : T;
}

tl_status nn_rows_reserve(nn_rows *batch, size_t rows, size_t maxrow, size_t d) {
    tl_status st = TL_OK;
    memset(batch, 0, sizeof *batch);
    size_t cap;
    TL_CHECK(tl_size_mul(rows, maxrow, &cap) == 0, TL_ERR_NOMEM, "nn: sparse batch size overflows");
    TL_ALLOC(batch->ptr, rows + 1);
    TL_ALLOC(batch->idx, cap ? cap : 1);
    TL_ALLOC(batch->val, cap ? cap : 1);
    batch->ptr[0] = 0;
    batch->d = d;
    batch->maxrow = maxrow;
done:
    if (st != TL_OK) nn_rows_free(batch);
    return st;
}

void nn_rows_append(nn_rows *batch, const nn_rows *from, size_t i) {
    const size_t t0 = from->ptr[i], m = from->ptr[i + 1] - t0, at = batch->ptr[batch->n];
    memcpy(batch->idx + at, from->idx + t0, m * sizeof *batch->idx);
    memcpy(batch->val + at, from->val + t0, m * sizeof *batch->val);
    batch->ptr[++batch->n] = at + m;
}

void nn_rows_give(tl_nn *nn, const nn_rows *batch, float *x) {
    const size_t n = batch->n, d = batch->d, T = nn->nthreads ? nn->nthreads : 1;
    bool ok = input_sparse_only(nn) && x == nn->a[0] && n <= nn->cap;
    for (size_t k = 0; ok && k < T; k++) {
        const size_t b0 = n * k / T, nb = n * (k + 1) / T - b0;
        ok = !nb || nn_dense_sparse_give(&nn->layers[0], x + b0 * d, nb, &nn->scr[k], batch->ptr + b0,
                                         batch->idx, batch->val);
    }
    if (ok) return;
    for (size_t k = 0; k < T && k < NN_MAX_THREADS; k++) nn->scr[k].sp_given = NULL;
    for (size_t i = 0; i < n; i++) nn_rows_dense_row(batch, i, x + i * d); /* the dense rows after all */
}

tl_status nn_rows_from_csr(tl_csr X, size_t d, const char *what, nn_rows *out) {
    tl_status st = TL_OK;
    memset(out, 0, sizeof *out);
    TL_CHECK(X.indptr && (X.nnz == 0 || (X.indices && X.values)), TL_ERR_INVALID_ARG,
             "nn: the %s rows: NULL CSR arrays", what);
    TL_CHECK(X.cols == d, TL_ERR_SHAPE, "nn: the %s rows have %zu features; the network takes %zu", what,
             X.cols, d);
    TL_CHECK(X.indptr[0] == 0 && X.indptr[X.rows] == X.nnz, TL_ERR_INVALID_ARG,
             "nn: the %s rows: indptr runs from %zu to %zu for %zu stored values", what, X.indptr[0],
             X.indptr[X.rows], X.nnz);
    TL_ALLOC(out->ptr, X.rows + 1);
    TL_ALLOC(out->idx, X.nnz ? X.nnz : 1);
    TL_ALLOC(out->val, X.nnz ? X.nnz : 1);
    out->ptr[0] = 0;
    for (size_t i = 0; i < X.rows; i++) {
        TL_CHECK(X.indptr[i + 1] >= X.indptr[i] && X.indptr[i + 1] <= X.nnz, TL_ERR_INVALID_ARG,
                 "nn: the %s rows: indptr[%zu] = %zu out of order", what, i + 1, X.indptr[i + 1]);
        for (size_t t = X.indptr[i]; t < X.indptr[i + 1]; t++) {
            TL_CHECK(X.indices[t] >= 0 && (size_t)X.indices[t] < d &&
                         (t == X.indptr[i] || X.indices[t] > X.indices[t - 1]),
                     TL_ERR_INVALID_ARG, "nn: the %s rows: row %zu, column index %d out of range or order",
                     what, i + 1, (int)X.indices[t]);
            TL_CHECK(isfinite(X.values[t]), TL_ERR_NONFINITE, "nn_da_train: %s sample %zu, value %d is %f",
                     what, i + 1, (int)X.indices[t] + 1, X.values[t]);
            out->idx[t] = X.indices[t];
            out->val[t] = (float)X.values[t];
        }
        out->ptr[i + 1] = X.indptr[i + 1];
        if (X.indptr[i + 1] - X.indptr[i] > out->maxrow) out->maxrow = X.indptr[i + 1] - X.indptr[i];
    }
    out->n = X.rows;
    out->d = d;
done:
    if (st != TL_OK) nn_rows_free(out);
    return st;
}

void nn_rows_dense_row(const nn_rows *r, size_t i, float *x) {
    memset(x, 0, r->d * sizeof *x);
    for (size_t t = r->ptr[i]; t < r->ptr[i + 1]; t++) x[r->idx[t]] = r->val[t];
}
