/* Kernel sums over rows held by several processes (issue 17): the exact RBF MMD and its
 * permutation test need sums over every pair of rows, including pairs whose rows sit on different
 * processes, so the blocks travel. In round q, process q broadcasts its block of source rows and
 * its block of target rows (dense, or CSR as it was read); every process pairs its own rows with
 * them, then drops them. A process holds its own rows and one other block at a time, never the
 * whole set; each process receives every other block once, the same volume as a ring.
 *
 * Which process sums a pair of blocks (r, q): the cross-domain sum S_st needs every ordered pair,
 * so process r sums k(its source, q's target) for every q; the within-domain sums are symmetric,
 * so the unordered pair {r, q} is summed (twice its value) by one of the two: r when q is fewer
 * than P/2 places after it around the ring; at exactly P/2 places (P even) the lower rank sums the
 * source pair and the upper the target pair. Each process then does about 1/P of the
 * single-process work (with P = 2, 4 of the 8 block pairs each). With one process there is one round,
 * its own, and the sums are the single-process code's, bit for bit. */
#include <string.h>

#include "measure/measure_internal.h"

#define TLM_ROUND_BLOCK_ELEMS ((size_t)1 << 21) /* 16 MB per densified kernel tile side */
#define TLM_ROUND_KBLOCK ((size_t)512)

/* A block as broadcast: the header, then the dense rows or the CSR arrays. */
typedef struct {
    uint64_t sparse, nnz, cols;
} blk_head;

typedef struct {
    double *dense, *values;
    size_t *indptr;
    int32_t *indices;
} blk_store;

static void store_free(blk_store *s) {
    tl_free(s->dense);
    tl_free(s->values);
    tl_free(s->indptr);
    tl_free(s->indices);
    memset(s, 0, sizeof *s);
}

/* Process root's block X (rows rows) onto every process: *out views `own` (root) or s (others). */
static tl_status bcast_block(const tl_comm *c, int root, tl_xmat own, size_t rows, blk_store *s,
                             tl_xmat *out) {
    tl_status st = TL_OK;
    const bool me = c->rank == root;
    blk_head h = {0, 0, 0};
    if (me) h = (blk_head){own.sparse, own.sparse ? own.csr.nnz : 0, tl_xmat_cols(own)};
    TL_TRY(c->bcast(c->user, &h, sizeof h, root));
    const size_t d = (size_t)h.cols, nnz = (size_t)h.nnz;
    size_t cells;
    if (!h.sparse) {
        TL_CHECK(tl_size_mul(rows, d, &cells) == 0, TL_ERR_NOMEM,
                 "the block of process %d: %zu x %zu overflows", root, rows, d);
        /* the root sends a contiguous copy when its rows are strided (or a view of a CSR) */
        if (me && !own.sparse && (own.dense.ld == d || rows <= 1)) {
            TL_TRY(c->bcast(c->user, own.dense.data, cells * sizeof(double), root));
            *out = own;
            goto done;
        }
        TL_ALLOC(s->dense, cells ? cells : 1);
        if (me) TL_TRY(tl_xmat_rows_dense(own, 0, rows, tl_mat_view(s->dense, rows, d)));
        TL_TRY(c->bcast(c->user, s->dense, cells * sizeof(double), root));
        *out = me ? own : tl_xmat_from_dense(tl_mat_view(s->dense, rows, d));
        goto done;
    }
    if (me) {
        TL_TRY(c->bcast(c->user, (void *)own.csr.indptr, (rows + 1) * sizeof(size_t), root));
        TL_TRY(c->bcast(c->user, (void *)own.csr.indices, nnz * sizeof(int32_t), root));
        TL_TRY(c->bcast(c->user, (void *)own.csr.values, nnz * sizeof(double), root));
        *out = own;
        goto done;
    }
    TL_ALLOC(s->indptr, rows + 1);
    TL_ALLOC(s->indices, nnz ? nnz : 1);
    TL_ALLOC(s->values, nnz ? nnz : 1);
    TL_TRY(c->bcast(c->user, s->indptr, (rows + 1) * sizeof(size_t), root));
    TL_TRY(c->bcast(c->user, s->indices, nnz * sizeof(int32_t), root));
    TL_TRY(c->bcast(c->user, s->values, nnz * sizeof(double), root));
    *out = tl_xmat_from_csr((tl_csr){rows, d, nnz, s->indptr, s->indices, s->values});
done:
    return st;
}

tl_status tlm_rounds(const tli_job *j, tl_xmat Xs, tl_xmat Xt, tlm_round_fn fn, void *user) {
    tl_status st = TL_OK;
    blk_store ss, stt;
    memset(&ss, 0, sizeof ss);
    memset(&stt, 0, sizeof stt);
    if (!tli_job_split(j)) return fn(user, 0, Xs, Xt);
    const tl_comm *c = j->c;
    for (int q = 0; q < c->size; q++) {
        tl_xmat Bs, Bt;
        TL_TRY(bcast_block(c, q, Xs, j->rows_s[q], &ss, &Bs));
        TL_TRY(bcast_block(c, q, Xt, j->rows_t[q], &stt, &Bt));
        TL_CHECK(tl_xmat_cols(Bs) == tl_xmat_cols(Xs) && tl_xmat_cols(Bt) == tl_xmat_cols(Xs),
                 TL_ERR_SHAPE, "process %d's rows have %zu features, this process's %zu", q,
                 tl_xmat_cols(Bs), tl_xmat_cols(Xs));
        TL_TRY(fn(user, q, Bs, Bt));
        store_free(&ss);
        store_free(&stt);
    }
done:
    store_free(&ss);
    store_free(&stt);
    if (st != TL_OK && tli_job_split(j))
        tl_fail_prefix(st, "passing the blocks of rows between %d processes", j->c->size);
    return st;
}

/* ---- exact kernel sums ---- */

typedef struct {
    const tli_job *j;
    const tlm_kspec *ks;
    tl_xmat Xs, Xt;
    double S[3]; /* S_ss, S_tt, S_st */
} sums_ctx;

static tl_status sums_round(void *user, int q, tl_xmat Bs, tl_xmat Bt) {
    tl_status st = TL_OK;
    sums_ctx *x = user;
    const int r = tli_job_split(x->j) ? x->j->c->rank : 0, P = tli_job_split(x->j) ? x->j->c->size : 1;
    double v;
    if (q == r) {
        TL_TRY(tlm_kernel_sums(x->ks, x->Xs, NULL, &v, NULL));
        x->S[0] += v;
        TL_TRY(tlm_kernel_sums(x->ks, x->Xt, NULL, &v, NULL));
        x->S[1] += v;
        TL_TRY(tlm_kernel_sums(x->ks, x->Xs, &x->Xt, &v, NULL));
        x->S[2] += v;
        goto done;
    }
    TL_TRY(tlm_kernel_sums(x->ks, x->Xs, &Bt, &v, NULL));
    x->S[2] += v;
    const int k = (q - r + P) % P; /* q is k places after r around the ring */
    if (2 * k < P || (2 * k == P && r < q)) { /* the source pair; halfway round: the lower rank */
        TL_TRY(tlm_kernel_sums(x->ks, x->Xs, &Bs, &v, NULL));
        x->S[0] += 2.0 * v;
    }
    if (2 * k < P || (2 * k == P && r > q)) { /* the target pair; halfway round: the upper rank */
        TL_TRY(tlm_kernel_sums(x->ks, x->Xt, &Bt, &v, NULL));
        x->S[1] += 2.0 * v;
    }
done:
    return st;
}

tl_status tlm_kernel_sums_job(const tli_job *j, const tlm_kspec *ks, tl_xmat Xs, tl_xmat Xt,
                              double S[3]) {
    tl_status st = TL_OK;
    sums_ctx x = {j, ks, Xs, Xt, {0.0, 0.0, 0.0}};
    TL_TRY(tlm_rounds(j, Xs, Xt, sums_round, &x));
    TL_TRY(tli_job_sum(j, x.S, 3, true));
    memcpy(S, x.S, sizeof x.S);
done:
    return st;
}

/* ---- this process's rows of the pooled kernel matrix ---- */

typedef struct {
    const tli_job *j;
    const tlm_kspec *ks;
    tl_xmat Xs, Xt; /* this process's rows */
    tl_mat K;       /* (ns + nt local, Ns + Nt) */
    double *ba, *bb;
} strip_ctx;

/* Rows [i0, i0 + n) of [A; B] (na rows of A) as a dense view: chunks never straddle A and B. */
static tl_mat pooled_rows(tl_xmat A, tl_xmat B, size_t i0, size_t n, double *buf) {
    size_t na = tl_xmat_rows(A);
    return i0 < na ? tlm_rows(A, i0, n, NULL, buf) : tlm_rows(B, i0 - na, n, NULL, buf);
}

/* the next chunk of [A; B] from i0: at most blk rows, not crossing the end of A */
static size_t chunk(size_t i0, size_t na, size_t n, size_t blk) {
    size_t end = i0 < na ? na : n;
    return end - i0 < blk ? end - i0 : blk;
}

static tl_status strip_round(void *user, int q, tl_xmat Bs, tl_xmat Bt) {
    tl_status st = TL_OK;
    strip_ctx *x = user;
    const tli_job *j = x->j;
    const bool own = q == (tli_job_split(j) ? j->c->rank : 0);
    size_t na = tl_xmat_rows(x->Xs), n = na + tl_xmat_rows(x->Xt);
    size_t ma = tl_xmat_rows(Bs), m = ma + tl_xmat_rows(Bt), d = tl_xmat_cols(x->Xs);
    size_t blk = tlm_block_rows(d, TLM_ROUND_BLOCK_ELEMS, TLM_ROUND_KBLOCK);
    /* global columns of process q's source and target rows */
    size_t cs = 0, ct = j->Ns;
    if (tli_job_split(j))
        for (int p = 0; p < q; p++) {
            cs += j->rows_s[p];
            ct += j->rows_t[p];
        }
    for (size_t i0 = 0; i0 < n; i0 += chunk(i0, na, n, blk)) {
        size_t ni = chunk(i0, na, n, blk);
        tl_mat Ai = pooled_rows(x->Xs, x->Xt, i0, ni, x->ba);
        for (size_t j0 = 0; j0 < m; j0 += chunk(j0, ma, m, blk)) {
            size_t nj = chunk(j0, ma, m, blk);
            /* the same rows on both sides: the same view, so the diagonal is exact */
            tl_mat Bj = own && j0 == i0 ? Ai : pooled_rows(Bs, Bt, j0, nj, x->bb);
            size_t col = j0 < ma ? cs + j0 : ct + (j0 - ma);
            tl_mat Kb = {ni, nj, x->K.ld, x->K.data + i0 * x->K.ld + col};
            TL_TRY(tlm_kernel_block(x->ks, Ai, Bj, Kb));
        }
    }
done:
    return st;
}

tl_status tlm_kernel_strip(const tli_job *j, const tlm_kspec *ks, tl_xmat Xs, tl_xmat Xt,
                           tl_mat *K) {
    tl_status st = TL_OK;
    size_t d = tl_xmat_cols(Xs), blk = tlm_block_rows(d, TLM_ROUND_BLOCK_ELEMS, TLM_ROUND_KBLOCK);
    strip_ctx x = {j, ks, Xs, Xt, {0, 0, 0, NULL}, NULL, NULL};
    memset(K, 0, sizeof *K);
    TL_TRY(tl_mat_alloc(&x.K, tl_xmat_rows(Xs) + tl_xmat_rows(Xt), j->Ns + j->Nt));
    if (Xs.sparse || Xt.sparse) TL_ALLOC(x.ba, blk * d);
    TL_ALLOC(x.bb, blk * d); /* remote blocks may be CSR whatever this process holds */
    TL_TRY(tlm_rounds(j, Xs, Xt, strip_round, &x));
    *K = x.K;
    x.K.data = NULL;
done:
    tl_mat_free(&x.K);
    tl_free(x.ba);
    tl_free(x.bb);
    return st;
}
