/* Batch normalisation synchronised across the processes of a data-parallel run (SyncBN): every
 * process normalises its rows with the mean and variance of the whole global batch, and the
 * backward pass uses the global sums of dy and dy * xhat, so a step on P processes computes what
 * one process computes on the same global batch.
 *
 * Forward: each process has, per channel, m_r values, their sum s1_r and their sum of squares
 * about its own pilot p_r (batchnorm.c; the pilot removes cancellation). Two sums over the
 * processes: first (m_r, s1_r) gives the global mean mu; then each process moves its sum of
 * squares to mu, sum (x - mu)^2 = s2_r + 2 (p_r - mu)(s1_r - m_r p_r) + m_r (p_r - mu)^2, and the
 * second sum gives the global variance. Every process then holds the same doubles, so the
 * running statistics stay identical everywhere. A process with no rows in the batch (B = 0)
 * still takes part, with zeros. Backward: the per-channel sums are additive, one sum. */
#include <string.h>

#include "internal/check.h"
#include "nn/nn_internal.h"

tl_status nn_sync_attach(tl_nn *nn, const tl_nn_comm *comm) {
    tl_status st = TL_OK;
    tl_free(nn->sync_buf);
    nn->sync_buf = NULL;
    nn->comm = NULL;
    if (!comm || comm->size <= 1) return TL_OK; /* one process: nothing to sum */
    size_t C = 1;
    for (size_t i = 0; i < nn->nl; i++)
        if (nn->layers[i].kind == NN_BN && nn->layers[i].in.c > C) C = nn->layers[i].in.c;
    TL_CALLOC(nn->sync_buf, 2 * C + 1);
    nn->comm = comm;
done:
    return st;
}

static void sum_all(const tl_nn *nn, double *buf, size_t n) {
    /* an error here is MPI's own; its default handler has ended the job before we return */
    (void)nn->comm->allreduce(nn->comm->user, buf, n, true);
}

void nn_bn_sync_finish(tl_nn *nn, nn_layer *L, const float *x0, double *tot, size_t B) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    double *buf = nn->sync_buf;
    const double mr = (double)(B * HW);
    buf[0] = mr;
    for (size_t c = 0; c < C; c++) buf[1 + c] = B ? tot[2 * c] : 0.0;
    sum_all(nn, buf, C + 1);
    const double M = buf[0];
    double *mu = buf + 1 + C; /* the global means, kept while the squares are summed in buf */
    for (size_t c = 0; c < C; c++) mu[c] = M > 0 ? buf[1 + c] / M : 0.0;
    for (size_t c = 0; c < C; c++) {
        if (!B) {
            buf[c] = 0.0;
            continue;
        }
        const double p = x0[c * HW], s1 = tot[2 * c], d = p - mu[c];
        buf[c] = tot[2 * c + 1] + 2.0 * d * (s1 - mr * p) + mr * d * d;
    }
    sum_all(nn, buf, C);
    for (size_t c = 0; c < C; c++) nn_bn_set_stats(nn, L, c, mu[c], M > 0 ? buf[c] / M : 0.0, M);
    nn->sync_B = HW ? (size_t)(M / (double)HW + 0.5) : 0;
}

void nn_bn_sync_grad(tl_nn *nn, const nn_layer *L, double *tot, size_t B) {
    if (!B) memset(tot, 0, 2 * L->in.c * sizeof *tot);
    sum_all(nn, tot, 2 * L->in.c);
}

tl_status nn_comm_rows(const tl_nn_comm *cm, size_t n, size_t *lo, size_t *total) {
    tl_status st = TL_OK;
    double *c = NULL;
    const size_t P = (size_t)cm->size;
    TL_CALLOC(c, P);
    c[cm->rank] = (double)n;
    TL_TRY(cm->allreduce(cm->user, c, P, true));
    *lo = *total = 0;
    for (size_t r = 0; r < P; r++) {
        if (r < (size_t)cm->rank) *lo += (size_t)c[r];
        *total += (size_t)c[r];
    }
done:
    tl_free(c);
    return st;
}
