/* CORAL distance (Sun & Saenko, "Deep CORAL", ECCV-W 2016): ||C_s - C_t||_F^2 / (4 d^2), with
 * C the sample covariance (denominator n - 1, numpy's np.cov) of each domain.
 *
 * Two routes with the same result, picked by cost:
 *  - d <= ns + nt (and d x d fits in 512 MB): accumulate C_s - C_t in one d x d matrix with SYRK
 *    on centred row blocks, O(n d^2);
 *  - wide data (bag-of-words): never form a d x d matrix. With centred Xs, Xt,
 *    ||C_s||^2 = ||Xs Xs^T||^2 / (ns-1)^2, <C_s, C_t> = ||Xs Xt^T||^2 / ((ns-1)(nt-1)), so the
 *    distance is a sum of squared Gram entries over pairs of row blocks, O(n^2 d).
 * Sparse rows are densified (and centred) one block at a time. */
#include <math.h>
#include <string.h>

#include "measure/measure_internal.h"

#define TLM_CORAL_MAX_D ((size_t)8192)
#define TLM_CORAL_BLOCK_ELEMS ((size_t)1 << 21)

static tl_status col_mean(tl_xmat X, double *mean) {
    size_t n = tl_xmat_rows(X), d = tl_xmat_cols(X);
    memset(mean, 0, d * sizeof *mean);
    if (X.sparse) {
        for (size_t k = 0; k < X.csr.nnz; k++) mean[X.csr.indices[k]] += X.csr.values[k];
    } else {
        for (size_t i = 0; i < n; i++) {
            const double *r = X.dense.data + i * X.dense.ld;
            for (size_t j = 0; j < d; j++) mean[j] += r[j];
        }
    }
    for (size_t j = 0; j < d; j++) mean[j] /= (double)n;
    return TL_OK;
}

/* C += alpha * Xc^T Xc over centred row blocks of X. */
static tl_status syrk_acc(tl_xmat X, const double *mean, double alpha, double *buf, size_t blk,
                          tl_mat C) {
    tl_status st = TL_OK;
    size_t n = tl_xmat_rows(X);
    for (size_t r0 = 0; r0 < n; r0 += blk) {
        size_t nb = n - r0 < blk ? n - r0 : blk;
        TL_TRY(tl_syrk(TL_TRANS, alpha, tlm_rows(X, r0, nb, mean, buf), 1.0, C));
    }
done:
    return st;
}

/* sum of squared entries of Ac Bc^T (centred rows), B NULL: A with itself (symmetry used). */
static tl_status gram_sq(tl_xmat A, const double *ma, const tl_xmat *B, const double *mb,
                         double *ba, double *bb, double *g, size_t blk, double *out) {
    tl_status st = TL_OK;
    bool sym = B == NULL;
    tl_xmat Bx = sym ? A : *B;
    const double *mbx = sym ? ma : mb;
    size_t na = tl_xmat_rows(A), nb = tl_xmat_rows(Bx);
    double tot = 0.0;
    for (size_t i0 = 0; i0 < na; i0 += blk) {
        size_t ni = na - i0 < blk ? na - i0 : blk;
        tl_mat Ai = tlm_rows(A, i0, ni, ma, ba);
        for (size_t j0 = sym ? i0 : 0; j0 < nb; j0 += blk) {
            size_t nj = nb - j0 < blk ? nb - j0 : blk;
            tl_mat Bj = (sym && j0 == i0) ? Ai : tlm_rows(Bx, j0, nj, mbx, bb);
            tl_mat G = tl_mat_view(g, ni, nj);
            TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, Ai, Bj, 0.0, G));
            double s = 0.0;
            for (size_t k = 0; k < ni * nj; k++) s += g[k] * g[k];
            tot += (sym && j0 != i0) ? 2.0 * s : s;
        }
    }
    *out = tot;
done:
    return st;
}

tl_status tl_coral_distance(tl_xmat Xs, tl_xmat Xt, double *out) {
    return tl_coral_distance_comm(NULL, Xs, Xt, out);
}

/* mean (d) := the global column mean from this process's local mean of nl rows (n in all). */
static tl_status job_mean(const tli_job *j, double *mean, size_t d, size_t nl, size_t n) {
    if (!tli_job_split(j)) return TL_OK;
    for (size_t c = 0; c < d; c++) mean[c] *= (double)nl;
    tl_status st = tli_job_sum(j, mean, d, true);
    for (size_t c = 0; c < d; c++) mean[c] /= (double)n;
    return st;
}

tl_status tl_coral_distance_comm(const tl_comm *comm, tl_xmat Xs, tl_xmat Xt, double *out) {
    tl_status st = TL_OK;
    double *ms = NULL, *mt = NULL, *ba = NULL, *bb = NULL, *g = NULL;
    tl_mat C = {0, 0, 0, NULL};
    tli_job job = {0};
    TL_CHECK(out, TL_ERR_INVALID_ARG, "coral distance: output is NULL");
    *out = NAN;
    /* one process: each domain's 2 rows checked here; several: over every process's rows below */
    TL_TRY(tlm_check_pair(Xs, Xt, comm && comm->size > 1 ? 1 : 2, "coral distance"));
    TL_TRY(tli_job_start(&job, comm, tl_xmat_rows(Xs), tl_xmat_rows(Xt)));
    size_t ns = job.Ns, nt = job.Nt, d = tl_xmat_cols(Xs); /* every process's rows */
    TL_CHECK(ns >= 2 && nt >= 2, TL_ERR_EMPTY,
             "coral distance: each domain needs at least 2 samples (source %zu, target %zu)", ns,
             nt);
    TL_ALLOC(ms, d);
    TL_ALLOC(mt, d);
    TL_TRY(col_mean(Xs, ms));
    TL_TRY(col_mean(Xt, mt));
    TL_TRY(job_mean(&job, ms, d, tl_xmat_rows(Xs), ns));
    TL_TRY(job_mean(&job, mt, d, tl_xmat_rows(Xt), nt));
    double as = 1.0 / (double)(ns - 1), at = 1.0 / (double)(nt - 1), dist;
    TL_CHECK(!tli_job_split(&job) || (d <= ns + nt && d <= TLM_CORAL_MAX_D), TL_ERR_UNSUPPORTED,
             "coral distance on %d processes: %zu features for %zu rows needs the pairwise form, "
             "which is not distributed", job.c ? job.c->size : 1, d, ns + nt);
    if (d <= ns + nt && d <= TLM_CORAL_MAX_D) {
        size_t blk = tlm_block_rows(d, TLM_CORAL_BLOCK_ELEMS, 4096);
        TL_ALLOC(ba, blk * d);
        TL_TRY(tl_mat_alloc(&C, d, d));
        TL_TRY(syrk_acc(Xs, ms, as, ba, blk, C));
        TL_TRY(syrk_acc(Xt, mt, -at, ba, blk, C));
        TL_TRY(tli_job_sum(&job, C.data, d * d, true));
        double s = 0.0;
        for (size_t k = 0; k < d * d; k++) s += C.data[k] * C.data[k];
        dist = s;
    } else {
        size_t blk = tlm_block_rows(d, TLM_CORAL_BLOCK_ELEMS, 512);
        TL_ALLOC(ba, blk * d);
        TL_ALLOC(bb, blk * d);
        TL_ALLOC(g, blk * blk);
        double ss, tt, stv;
        TL_TRY(gram_sq(Xs, ms, NULL, NULL, ba, bb, g, blk, &ss));
        TL_TRY(gram_sq(Xt, mt, NULL, NULL, ba, bb, g, blk, &tt));
        TL_TRY(gram_sq(Xs, ms, &Xt, mt, ba, bb, g, blk, &stv));
        dist = ss * as * as + tt * at * at - 2.0 * stv * as * at;
        if (dist < 0) dist = 0; /* rounding */
    }
    *out = dist / (4.0 * (double)d * (double)d);
done:
    tl_free(ms);
    tl_free(mt);
    tl_free(ba);
    tl_free(bb);
    tl_free(g);
    tl_mat_free(&C);
    tli_job_end(&job);
    return st;
}
