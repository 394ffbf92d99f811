/* Shared machinery of the domain measures and of instance weighting: input checks, dense row blocks
 * of dense or CSR matrices, pooling two domains, the pooled median-heuristic bandwidth, and kernel
 * sums sum_j k(a_i, b_j) computed block by block.
 *
 * Why blockwise: MMD and KMM's kappa need sums over all n x m kernel values, but never the matrix
 * itself; a pair of row blocks at a time keeps memory at O(block^2 + block * d) whatever n is,
 * while each block product still runs through one GEMM (tl_kernel_matrix / tl_sqdist). Sparse
 * inputs are densified one block at a time, so a 5000-d bag-of-words costs a few MB per block. */
#include <math.h>
#include <string.h>

#include "measure/measure_internal.h"

#define TLM_KBLOCK 512                       /* rows per kernel block (both sides) */
#define TLM_DENSE_BLOCK_ELEMS ((size_t)1 << 21) /* 16 MB per densified block */
#define TLM_MEDIAN_ROWS ((size_t)2000)
#define TLM_MEDIAN_ELEMS ((size_t)1 << 23)   /* 64 MB for the pooled median sample */

tl_status tlm_xvalidate(tl_xmat X, const char *fn, const char *what) {
    tl_status st = TL_OK;
    if (!X.sparse) {
        tl_mat M = X.dense;
        TL_CHECK(M.rows == 0 || M.cols == 0 || M.data, TL_ERR_INVALID_ARG, "%s: %s has no data",
                 fn, what);
        TL_CHECK(M.rows <= 1 || M.ld >= M.cols, TL_ERR_SHAPE, "%s: %s has ld %zu < cols %zu", fn,
                 what, M.ld, M.cols);
        for (size_t i = 0; i < M.rows; i++) {
            const double *r = M.data + i * M.ld;
            for (size_t j = 0; j < M.cols; j++)
                TL_CHECK(isfinite(r[j]), TL_ERR_NONFINITE, "%s: %s row %zu column %zu is %s", fn,
                         what, i + 1, j + 1, isnan(r[j]) ? "NaN" : "Inf");
        }
        goto done;
    }
    const tl_csr *c = &X.csr;
    TL_CHECK(c->rows == 0 || c->indptr, TL_ERR_INVALID_ARG, "%s: %s (CSR) has no indptr", fn,
             what);
    if (c->rows == 0) goto done;
    TL_CHECK(c->indptr[0] == 0 && c->indptr[c->rows] == c->nnz, TL_ERR_FORMAT,
             "%s: %s (CSR) indptr does not span 0..nnz = %zu", fn, what, c->nnz);
    TL_CHECK(c->nnz == 0 || (c->indices && c->values), TL_ERR_INVALID_ARG,
             "%s: %s (CSR) has no indices or values", fn, what);
    for (size_t i = 0; i < c->rows; i++) {
        TL_CHECK(c->indptr[i] <= c->indptr[i + 1], TL_ERR_FORMAT,
                 "%s: %s (CSR) indptr decreases at row %zu", fn, what, i + 1);
        for (size_t k = c->indptr[i]; k < c->indptr[i + 1]; k++) {
            TL_CHECK(c->indices[k] >= 0 && (size_t)c->indices[k] < c->cols, TL_ERR_FORMAT,
                     "%s: %s (CSR) row %zu has column index %d outside [0, %zu)", fn, what, i + 1,
                     (int)c->indices[k], c->cols);
            TL_CHECK(k == c->indptr[i] || c->indices[k] > c->indices[k - 1], TL_ERR_FORMAT,
                     "%s: %s (CSR) row %zu has column indices out of order", fn, what, i + 1);
            TL_CHECK(isfinite(c->values[k]), TL_ERR_NONFINITE,
                     "%s: %s row %zu column %d is %s", fn, what, i + 1, (int)c->indices[k] + 1,
                     isnan(c->values[k]) ? "NaN" : "Inf");
        }
    }
done:
    return st;
}

tl_status tlm_check_pair(tl_xmat Xs, tl_xmat Xt, size_t min_rows, const char *fn) {
    tl_status st = TL_OK;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    TL_CHECK(ns > 0, TL_ERR_EMPTY, "%s: the source domain has no samples", fn);
    TL_CHECK(nt > 0, TL_ERR_EMPTY, "%s: the target domain has no samples", fn);
    TL_CHECK(ns >= min_rows, TL_ERR_EMPTY,
             "%s: the source domain has %zu sample%s, at least %zu are needed", fn, ns,
             ns == 1 ? "" : "s", min_rows);
    TL_CHECK(nt >= min_rows, TL_ERR_EMPTY,
             "%s: the target domain has %zu sample%s, at least %zu are needed", fn, nt,
             nt == 1 ? "" : "s", min_rows);
    TL_CHECK(tl_xmat_cols(Xs) == tl_xmat_cols(Xt), TL_ERR_SHAPE,
             "%s: the source has %zu features but the target has %zu; both domains must share "
             "one feature space",
             fn, tl_xmat_cols(Xs), tl_xmat_cols(Xt));
    TL_CHECK(tl_xmat_cols(Xs) > 0, TL_ERR_EMPTY, "%s: the domains have no features", fn);
    TL_TRY(tlm_xvalidate(Xs, fn, "source"));
    TL_TRY(tlm_xvalidate(Xt, fn, "target"));
done:
    return st;
}

tl_mat tlm_rows(tl_xmat X, size_t r0, size_t nb, const double *center, double *buf) {
    size_t d = tl_xmat_cols(X);
    if (!X.sparse && !center) return tl_mat_rows(X.dense, r0, nb);
    tl_mat out = tl_mat_view(buf, nb, d);
    (void)tl_xmat_rows_dense(X, r0, nb, out); /* shapes agree by construction */
    if (center)
        for (size_t i = 0; i < nb; i++)
            for (size_t j = 0; j < d; j++) buf[i * d + j] -= center[j];
    return out;
}

size_t tlm_block_rows(size_t cols, size_t elems, size_t cap) {
    size_t b = cols ? elems / cols : cap;
    if (b > cap) b = cap;
    return b ? b : 1;
}

void tlm_pooled_free(tlm_pooled *p) {
    if (!p) return;
    tl_free(p->dense);
    tl_free(p->indptr);
    tl_free(p->indices);
    tl_free(p->values);
    memset(p, 0, sizeof *p);
}

tl_status tlm_pool(tl_xmat Xs, tl_xmat Xt, tlm_pooled *out) {
    tl_status st = TL_OK;
    memset(out, 0, sizeof *out);
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), d = tl_xmat_cols(Xs), n = ns + nt, cells;
    TL_CHECK(tl_xmat_cols(Xt) == d, TL_ERR_SHAPE, "pooling domains: %zu vs %zu features", d,
             tl_xmat_cols(Xt));
    if (Xs.sparse && Xt.sparse) {
        size_t nnz = Xs.csr.nnz + Xt.csr.nnz;
        TL_ALLOC(out->indptr, n + 1);
        TL_ALLOC(out->indices, nnz);
        TL_ALLOC(out->values, nnz);
        out->indptr[0] = 0;
        const tl_csr *parts[2] = {&Xs.csr, &Xt.csr};
        size_t r = 0, q = 0;
        for (int p = 0; p < 2; p++) {
            const tl_csr *c = parts[p];
            if (c->nnz) {
                memcpy(out->indices + q, c->indices, c->nnz * sizeof(int32_t));
                memcpy(out->values + q, c->values, c->nnz * sizeof(double));
            }
            for (size_t i = 0; i < c->rows; i++) out->indptr[++r] = q + c->indptr[i + 1];
            q += c->nnz;
        }
        out->X = tl_xmat_from_csr((tl_csr){n, d, nnz, out->indptr, out->indices, out->values});
        goto done;
    }
    TL_CHECK(tl_size_mul(n, d, &cells) == 0, TL_ERR_NOMEM, "pooling domains: %zu x %zu overflows",
             n, d);
    TL_ALLOC(out->dense, cells);
    tl_mat P = tl_mat_view(out->dense, n, d);
    TL_TRY(tl_xmat_rows_dense(Xs, 0, ns, tl_mat_rows(P, 0, ns)));
    TL_TRY(tl_xmat_rows_dense(Xt, 0, nt, tl_mat_rows(P, ns, nt)));
    out->X = tl_xmat_from_dense(P);
done:
    if (st != TL_OK) tlm_pooled_free(out);
    return st;
}

tl_status tlm_pooled_median_gamma(tl_xmat Xs, tl_xmat Xt, uint64_t seed, double *gamma) {
    tli_job one = {NULL, tl_xmat_rows(Xs), tl_xmat_rows(Xt), 0, 0, NULL, NULL};
    return tlm_pooled_median_gamma_job(&one, Xs, Xt, seed, gamma);
}

tl_status tlm_pooled_median_gamma_job(const tli_job *job, tl_xmat Xs, tl_xmat Xt, uint64_t seed,
                                      double *gamma) {
    tl_status st = TL_OK;
    size_t *idx = NULL;
    double *buf = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), d = tl_xmat_cols(Xs);
    size_t n = job->Ns + job->Nt;
    size_t s = tlm_block_rows(d, TLM_MEDIAN_ELEMS, TLM_MEDIAN_ROWS);
    if (s < 2) s = 2;
    if (s > n) s = n;
    TL_CHECK(n >= 2, TL_ERR_EMPTY, "median heuristic: %zu sample(s), at least 2 are needed", n);
    TL_ALLOC(idx, n);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    if (s < n) {
        /* partial Fisher-Yates: the first s entries are a uniform sample, then sorted */
        tl_rng rng;
        tl_rng_seed(&rng, seed);
        for (size_t i = 0; i < s; i++) {
            size_t j = i + tl_rng_below(&rng, n - i);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        for (size_t i = 1; i < s; i++) /* insertion sort keeps memory order (s <= 2000) */
            for (size_t j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
                size_t t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
            }
    }
    size_t cells;
    TL_CHECK(tl_size_mul(s, d, &cells) == 0, TL_ERR_NOMEM, "median heuristic: size overflow");
    TL_ALLOC(buf, cells);
    tl_mat S = tl_mat_view(buf, s, d);
    for (size_t i = 0; i < s; i++) {
        bool tg;
        size_t r;
        if (tli_job_local(job, idx[i], ns, nt, &tg, &r))
            TL_TRY(tl_xmat_rows_dense(tg ? Xt : Xs, r, 1, tl_mat_rows(S, i, 1)));
        else /* another process's row: it adds it, this one zeros */
            memset(&TL_AT(S, i, 0), 0, d * sizeof(double));
    }
    TL_TRY(tli_job_sum(job, buf, cells, false)); /* exact: one term per row */
    TL_TRY(tl_kernel_median_gamma(S, seed, gamma));
done:
    tl_free(idx);
    tl_free(buf);
    return st;
}

static double ipow(double b, int e) {
    double r = 1.0;
    for (; e > 0; e >>= 1, b *= b)
        if (e & 1) r *= b;
    return r;
}

/* One GEMM for the whole tile, then the element-wise kernel in place. (tl_kernel_matrix sizes its
 * GEMM blocks by output width, which for a 1024-row strip of a 10 000-wide matrix means 8-row
 * GEMMs that re-read all of B each time; the tiles here are at most ~1024 x 1024.) */
tl_status tlm_kernel_block(const tlm_kspec *ks, tl_mat A, tl_mat B, tl_mat K) {
    tl_status st = TL_OK;
    double *an = NULL, *bn = NULL, *tmp = NULL;
    tl_kernel_type type = ks->k.type;
    bool same = A.data == B.data && A.rows == B.rows && A.ld == B.ld;
    TL_CHECK(A.cols == B.cols && K.rows == A.rows && K.cols == B.rows, TL_ERR_SHAPE,
             "kernel block: shapes %zu x %zu, %zu x %zu -> %zu x %zu", A.rows, A.cols, B.rows,
             B.cols, K.rows, K.cols);
    if (A.rows == 0 || B.rows == 0) goto done;
    if (type == TL_KERNEL_LINEAR) {
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, A, B, 0.0, K));
        goto done;
    }
    if (type == TL_KERNEL_POLY) {
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, ks->k.gamma, A, B, 0.0, K));
        for (size_t i = 0; i < K.rows; i++) {
            double *k = K.data + i * K.ld;
            for (size_t j = 0; j < K.cols; j++) k[j] = ipow(k[j] + ks->k.coef0, ks->k.degree);
        }
        goto done;
    }
    TL_ALLOC(an, A.rows);
    TL_ALLOC(bn, B.rows);
    tl_row_sqnorms(A, an);
    tl_row_sqnorms(B, bn);
    TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, -2.0, A, B, 0.0, K));
    size_t ng = ks->ngam > 1 ? ks->ngam : 1;
    const double *gam = ks->ngam > 1 ? ks->gammas : &ks->k.gamma;
    double inv = 1.0 / (double)ng;
    if (ng > 1) TL_ALLOC(tmp, 2 * K.cols); /* a row of distances, a row of one width's kernel */
    for (size_t i = 0; i < K.rows; i++) {
        double *k = K.data + i * K.ld, *dr = ng > 1 ? tmp : k;
        for (size_t j = 0; j < K.cols; j++) {
            double dd = an[i] + bn[j] + k[j];
            dr[j] = dd < 0.0 ? 0.0 : dd; /* rounding */
        }
        if (same) dr[i] = 0.0; /* exact self-distance */
        if (ng == 1) {
            tl_vexp_scaled(k, -gam[0], k, K.cols);
            continue;
        }
        memset(k, 0, K.cols * sizeof *k);
        for (size_t g = 0; g < ng; g++) {
            tl_vexp_scaled(dr, -gam[g], tmp + K.cols, K.cols);
            for (size_t j = 0; j < K.cols; j++) k[j] += tmp[K.cols + j];
        }
        for (size_t j = 0; j < K.cols; j++) k[j] *= inv;
    }
done:
    tl_free(an);
    tl_free(bn);
    tl_free(tmp);
    return st;
}

tl_status tlm_kernel_sums(const tlm_kspec *ks, tl_xmat A, const tl_xmat *B, double *total,
                          double *rowsum /* (rows(A)) */) {
    tl_status st = TL_OK;
    double *ba = NULL, *bb = NULL, *kb = NULL;
    bool sym = B == NULL;
    tl_xmat Bx = sym ? A : *B;
    size_t na = tl_xmat_rows(A), nb = tl_xmat_rows(Bx), d = tl_xmat_cols(A);
    size_t blk = tlm_block_rows(d, TLM_DENSE_BLOCK_ELEMS, TLM_KBLOCK);
    if (rowsum) memset(rowsum, 0, na * sizeof *rowsum);
    double tot = 0.0;
    if (A.sparse) TL_ALLOC(ba, blk * d);
    if (Bx.sparse) TL_ALLOC(bb, blk * d);
    TL_ALLOC(kb, blk * blk);
    for (size_t i0 = 0; i0 < na; i0 += blk) {
        size_t ni = na - i0 < blk ? na - i0 : blk;
        tl_mat Ai = tlm_rows(A, i0, ni, NULL, ba);
        for (size_t j0 = sym ? i0 : 0; j0 < nb; j0 += blk) {
            size_t nj = nb - j0 < blk ? nb - j0 : blk;
            tl_mat Bj = (sym && j0 == i0) ? Ai : tlm_rows(Bx, j0, nj, NULL, bb);
            tl_mat K = tl_mat_view(kb, ni, nj);
            TL_TRY(tlm_kernel_block(ks, Ai, Bj, K));
            double bs = 0.0;
            for (size_t i = 0; i < ni; i++) {
                const double *k = kb + i * nj;
                double r = 0.0;
                for (size_t j = 0; j < nj; j++) r += k[j];
                if (rowsum) rowsum[i0 + i] += r;
                bs += r;
            }
            if (sym && j0 != i0) {
                /* the mirrored block (j, i): its row sums are this block's column sums */
                if (rowsum)
                    for (size_t i = 0; i < ni; i++) {
                        const double *k = kb + i * nj;
                        for (size_t j = 0; j < nj; j++) rowsum[j0 + j] += k[j];
                    }
                bs *= 2.0;
            }
            tot += bs;
        }
    }
    if (total) *total = tot;
done:
    tl_free(ba);
    tl_free(bb);
    tl_free(kb);
    return st;
}
