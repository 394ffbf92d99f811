/* The statistical methods on rows held by several processes (tl_adapt_params.comm, the domain
 * distances' comm; issue 17): each process holds a block of the source rows and a block of the
 * target rows, the blocks of processes 0, 1, ... end to end being the data, and the method runs
 * the one-process code on its blocks, joining the processes only where a quantity spans every
 * row (src/feature, src/measure):
 *   sums     column sums, scatters, F^T E, E^T E, class counts (tli_job_sum), then broadcast
 *            from process 0, so every process continues from bit-identical values (an
 *            all-reduce need not give every process the same bits: its order of additions may
 *            differ between them) and the eigen-problems, solved on every process, agree;
 *   rows     the few rows every process needs whole: the Nystrom pool (tli_job_pool, a sum in
 *            which each process fills the rows it holds, exact since the others add zeros), the
 *            source embedding and labels for the pseudo-label learner (tli_job_gather_rows).
 * With one process (comm NULL or size 1) every helper is the identity. */
#include <string.h>

#include "internal/blocks.h"
#include "internal/check.h"

bool tli_job_split(const tli_job *j) { return j->c && j->c->size > 1; }

tl_status tli_job_sum(const tli_job *j, double *buf, size_t n, bool same_bits) {
    tl_status st = TL_OK;
    if (!tli_job_split(j) || n == 0) return TL_OK;
    TL_TRY(j->c->sum(j->c->user, buf, n));
    if (same_bits) TL_TRY(j->c->bcast(j->c->user, buf, n * sizeof *buf, 0));
done:
    if (st != TL_OK) tl_fail_prefix(st, "summing %zu values over %d processes", n, j->c->size);
    return st;
}

tl_status tli_job_start(tli_job *j, const tl_comm *c, size_t ns, size_t nt) {
    tl_status st = TL_OK;
    double *cnt = NULL;
    memset(j, 0, sizeof *j);
    j->c = c;
    j->Ns = ns;
    j->Nt = nt;
    if (!tli_job_split(j)) return TL_OK;
    size_t P = (size_t)c->size;
    TL_CHECK(c->rank >= 0 && c->rank < c->size && c->sum && c->bcast && c->gather,
             TL_ERR_INVALID_ARG, "process %d of %d, or a missing collective", c->rank,
             c->size);
    TL_CALLOC(cnt, 2 * P);
    cnt[c->rank] = (double)ns;
    cnt[P + (size_t)c->rank] = (double)nt;
    TL_TRY(c->sum(c->user, cnt, 2 * P));
    TL_ALLOC(j->rows_s, P);
    TL_ALLOC(j->rows_t, P);
    j->Ns = j->Nt = 0;
    for (size_t r = 0; r < P; r++) {
        j->rows_s[r] = (size_t)cnt[r];
        j->rows_t[r] = (size_t)cnt[P + r];
        if (r < (size_t)c->rank) {
            j->s0 += j->rows_s[r];
            j->t0 += j->rows_t[r];
        }
        j->Ns += j->rows_s[r];
        j->Nt += j->rows_t[r];
    }
done:
    tl_free(cnt);
    if (st != TL_OK) tli_job_end(j);
    return st;
}

void tli_job_end(tli_job *j) {
    tl_free(j->rows_s);
    tl_free(j->rows_t);
    j->rows_s = j->rows_t = NULL;
}

bool tli_job_local(const tli_job *j, size_t g, size_t ns, size_t nt, bool *target,
                   size_t *row) {
    if (g < j->Ns) {
        *target = false;
        *row = g - j->s0;
        return g >= j->s0 && g - j->s0 < ns;
    }
    *target = true;
    *row = g - j->Ns - j->t0;
    return g - j->Ns >= j->t0 && g - j->Ns - j->t0 < nt;
}

tl_status tli_job_pool(const tli_job *j, tl_mat Xs, tl_mat Xt, const size_t *idx, tl_mat P) {
    tl_status st = TL_OK;
    size_t d = P.cols;
    for (size_t i = 0; i < P.rows; i++) {
        bool tg;
        size_t r;
        const double *x = NULL;
        if (tli_job_local(j, idx[i], Xs.rows, Xt.rows, &tg, &r))
            x = tg ? &TL_AT(Xt, r, 0) : &TL_AT(Xs, r, 0);
        if (x)
            memcpy(&TL_AT(P, i, 0), x, d * sizeof(double));
        else
            memset(&TL_AT(P, i, 0), 0, d * sizeof(double));
    }
    if (tli_job_split(j)) {
        TL_CHECK(P.ld == P.cols, TL_ERR_INVALID_ARG, "the landmark pool is not contiguous");
        TL_TRY(tli_job_sum(j, P.data, P.rows * d, false)); /* exact: one term per row */
    }
done:
    return st;
}

tl_status tli_job_gather(const tli_job *j, const size_t *rows, const void *mine, size_t row_bytes,
                         void *all) {
    tl_status st = TL_OK;
    size_t *bytes = NULL, P = (size_t)j->c->size;
    TL_ALLOC(bytes, P);
    for (size_t r = 0; r < P; r++)
        TL_CHECK(tl_size_mul(rows[r], row_bytes, &bytes[r]) == 0, TL_ERR_NOMEM,
                 "%zu rows of %zu bytes overflow", rows[r], row_bytes);
    TL_TRY(j->c->gather(j->c->user, mine, all, bytes));
done:
    tl_free(bytes);
    return st;
}

tl_status tli_job_gather_rows(const tli_job *j, tl_mat Z, tl_mat *all) {
    tl_status st = TL_OK;
    TL_TRY(tl_mat_alloc(all, j->Ns, Z.cols));
    TL_CHECK(Z.ld == Z.cols && all->ld == all->cols, TL_ERR_INVALID_ARG,
             "the embedding to gather is not contiguous");
    TL_TRY(tli_job_gather(j, j->rows_s, Z.data, Z.cols * sizeof(double), all->data));
done:
    return st;
}
