/* Fully connected layer y = x W^T + b, as PyTorch's nn.Linear: x (B, IN), W (N, IN), b (N).
 * Forward and backward are one sgemm each (plus the bias):
 *   y  = x W^T + 1 b^T          dW += dy^T x          db += 1^T dy          dx = dy W
 * Row-major CBLAS calls on one thread's slice of the batch; each thread adds its weight
 * gradients into its own buffers (summed after the backward pass).
 *
 * Sparse input (bag-of-words rows, such as the 5000-d Amazon reviews with about 2% nonzeros):
 * when a wide slice (IN >= NN_SPARSE_MIN_IN) has at most one value in NN_SPARSE_DIV nonzero, its
 * nonzeros are listed (CSR, in the thread's scratch) and y and dW are computed from them alone,
 * through a transposed copy of the columns of W the slice uses (sparse_dense.c): the work falls
 * with the density instead of being B*IN*N. A caller holding the rows as CSR already (deep DA's
 * batches) hands them over with nn_dense_sparse_give and the dense rows are neither written nor
 * scanned. dx (dense anyway) stays a product. The GEMM path is the reference the tests compare
 * the sparse one to. */
#include <cblas.h>
#include <string.h>

#include "nn/nn_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

size_t nn_dense_sparse_cap(const nn_layer *L, size_t slice) {
    const size_t in = nn_shape_size(L->in);
    if (L->kind != NN_DENSE || in < NN_SPARSE_MIN_IN || in / NN_SPARSE_DIV > (size_t)-1 / slice) return 0;
    return slice * (in / NN_SPARSE_DIV);
}

/* The nonzeros of x (B, IN) into sc's CSR; false when sc has no room (too dense, or no sparse
 * scratch), and the caller takes the GEMM path. A NaN is a nonzero, so it still propagates.
 * The CSR is tagged with (L, x, B): backward, on the activations its forward left, reuses it. */
static bool csr_build(const float *x, size_t B, size_t in, nn_scratch *sc) {
    const size_t cap = sc->sp_cap < B * (in / NN_SPARSE_DIV) ? sc->sp_cap : B * (in / NN_SPARSE_DIV);
    size_t nz = 0;
    sc->sp_ptr[0] = 0;
    for (size_t i = 0; i < B; i++) {
        const float *r = x + i * in;
        size_t k = 0;
        for (; k + 16 <= in; k += 16) { /* skip all-zero blocks of 16 without a branch each */
            uint32_t any = 0;
            for (size_t j = 0; j < 16; j++) {
                uint32_t u;
                memcpy(&u, r + k + j, sizeof u);
                any |= u << 1; /* a +-0 has no bit left */
            }
            if (!any) continue;
            for (size_t j = k; j < k + 16; j++)
                if (r[j] != 0.0f) {
                    if (nz == cap) return false;
                    sc->sp_idx[nz] = (int32_t)j;
                    sc->sp_val[nz++] = r[j];
                }
        }
        for (; k < in; k++)
            if (r[k] != 0.0f) {
                if (nz == cap) return false;
                sc->sp_idx[nz] = (int32_t)k;
                sc->sp_val[nz++] = r[k];
            }
        sc->sp_ptr[i + 1] = nz;
    }
    return true;
}

static bool csr_of(const nn_layer *L, const float *x, size_t B, nn_scratch *sc, bool reuse) {
    const size_t in = nn_shape_size(L->in);
    if (!sc || !sc->sp_cap || in < NN_SPARSE_MIN_IN) return false;
    if (sc->sp_given) { /* a CSR the caller set (nn_dense_sparse_give) for this input: used once */
        reuse = reuse || sc->sp_given == x;
        sc->sp_given = NULL;
    }
    if (reuse && sc->sp_of == L && sc->sp_x == x && sc->sp_B == B) return true;
    const bool ok = csr_build(x, B, in, sc);
    sc->sp_of = ok ? L : NULL;
    sc->sp_x = x;
    sc->sp_B = B;
    if (ok) sc->sp_U = nn_sparse_compact(sc->sp_idx, sc->sp_ptr[B], in, sc->sp_map, sc->sp_key, sc->sp_uid);
    return ok;
}

bool nn_dense_sparse_give(const nn_layer *L, const float *x, size_t B, nn_scratch *sc, const size_t *ptr,
                          const int32_t *idx, const float *val) {
    const size_t in = nn_shape_size(L->in), nnz = ptr[B] - ptr[0];
    if (!sc || !sc->sp_cap || L->kind != NN_DENSE || in < NN_SPARSE_MIN_IN) return false;
    const size_t cap = sc->sp_cap < B * (in / NN_SPARSE_DIV) ? sc->sp_cap : B * (in / NN_SPARSE_DIV);
    if (nnz > cap) return false;
    for (size_t i = 0; i <= B; i++) sc->sp_ptr[i] = ptr[i] - ptr[0];
    memcpy(sc->sp_idx, idx + ptr[0], nnz * sizeof *idx);
    memcpy(sc->sp_val, val + ptr[0], nnz * sizeof *val);
    sc->sp_of = L;
    sc->sp_x = x;
    sc->sp_B = B;
    sc->sp_given = x;
    sc->sp_U = nn_sparse_compact(sc->sp_idx, nnz, in, sc->sp_map, sc->sp_key, sc->sp_uid);
    return true;
}

void nn_dense_forward_gemm(const tl_nn *nn, const nn_layer *L, const float *x /* (B, IN) */,
                           float *y /* (B, N) */, size_t B) {
    const size_t in = nn_shape_size(L->in), N = L->units;
    const float *W = nn->t[L->w].data, *b = nn->t[L->b].data;
    for (size_t i = 0; i < B; i++) memcpy(y + i * N, b, N * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)N, (int)in, 1.0f, x, (int)in,
                W, (int)in, 1.0f, y, (int)N);
}

void nn_dense_forward(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B,
                      nn_scratch *sc) {
    const size_t in = nn_shape_size(L->in), N = L->units;
    if (!csr_of(L, x, B, sc, false)) {
        nn_dense_forward_gemm(nn, L, x, y, B);
        return;
    }
    nn_sparse_forward(nn->t[L->w].data, nn->t[L->b].data, N, in, sc->sp_ptr, sc->sp_uid, sc->sp_val, B,
                      sc->sp_key, sc->sp_U, sc->sp_wc, y);
}

static void dense_db(const float *dy, size_t B, size_t N, float *db) {
    for (size_t i = 0; i < B; i++) {
        const float *r = dy + i * N;
        for (size_t j = 0; j < N; j++) db[j] += r[j];
    }
}

void nn_dense_backward_gemm(const tl_nn *nn, const nn_layer *L, const float *x /* (B, IN) */,
                            const float *dy /* (B, N) */, float *dx /* (B, IN) or NULL */, size_t B,
                            float *dW /* (N, IN) or NULL */, float *db /* (N) */) {
    const size_t in = nn_shape_size(L->in), N = L->units;
    const nn_tensor *W = &nn->t[L->w];
    if (dW) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)N, (int)in, (int)B, 1.0f, dy,
                    (int)N, x, (int)in, 1.0f, dW, (int)in);
        dense_db(dy, B, N, db);
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)N, 1.0f, dy,
                    (int)N, W->data, (int)in, 0.0f, dx, (int)in);
}

void nn_dense_backward(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy,
                       float *dx, size_t B, float *dW, float *db, nn_scratch *sc) {
    const size_t in = nn_shape_size(L->in), N = L->units;
    if (!dW || !csr_of(L, x, B, sc, true)) {
        nn_dense_backward_gemm(nn, L, x, dy, dx, B, dW, db);
        return;
    }
    nn_sparse_backward_dw(N, in, sc->sp_ptr, sc->sp_uid, sc->sp_val, dy, B, sc->sp_key, sc->sp_U, sc->sp_wc,
                          dW);
    dense_db(dy, B, N, db);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)N, 1.0f, dy,
                    (int)N, nn->t[L->w].data, (int)in, 0.0f, dx, (int)in);
}
