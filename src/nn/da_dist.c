/* Deep domain adaptation over processes (issue 17) and its checkpoints: the parts of
 * tl_nn_da_train (da.c) whose losses span the whole global batch, and the state a deep-adaptation
 * run writes at the end of every epoch to resume from.
 *
 * Data-parallel: each process holds some rows of every global batch (source rows first, then
 * target rows, each at its place b of the batch, pos[]). DANN's loss is a sum over rows, so each
 * process computes its share (da.c). The statistical losses are not:
 *   DAN   (MK-MMD): pairs of rows, and a kernel width from all of them;
 *   CORAL: the two covariances of the whole batch.
 * Their features are small (global batch x width), so every process assembles the whole batch's
 * features - each fills the rows it holds into a zeroed (2 nb, m) buffer and one all-reduce sums
 * them, which is exact (x + 0 = x) - and computes the loss and its gradient on it with the
 * one-process code, the same bits on every process and the same as one process; each process
 * then keeps the gradient of its own rows. The loss is counted once (by process 0) in the step's
 * sums. Allreduce of the covariances instead would send d x d values a layer (more than the
 * batch's features for wide layers) and round differently from one process.
 *   CDAN: the discriminator's loss is a sum over rows (each process its share, as DANN); CDAN+E's
 * entropy weights are normalised per domain over the batch: the two sums are all-reduced.
 *
 * Checkpoints (checkpoint.c's format): the trunk's and the discriminator's tensors with their
 * optimiser state, the source order, the target order and its cursor (packed after the source
 * order as one array), the generator, the step, the early-stopping state, the step log. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nn/nn_internal.h"

/* The (2 nb, m) features of the global batch from this process's f (nls source rows, then nlt
 * target rows, row i at batch place pos[i]) into X, summed over the processes. */
static tl_status gather_batch(const tl_nn_comm *cm, const float *f, size_t m, size_t nls, size_t nlt,
                              size_t nb, const size_t *pos, float *X) {
    memset(X, 0, 2 * nb * m * sizeof *X);
    for (size_t i = 0; i < nls + nlt; i++)
        memcpy(X + ((i >= nls ? nb : 0) + pos[i]) * m, f + i * m, m * sizeof *X);
    return cm->allreduce(cm->user, X, 2 * nb * m, false);
}

tl_status nn_da_stat_loss(const tl_nn_comm *cm, const tl_nn_da_params *p, double lam, const float *f,
                          float *gf, size_t m, size_t nls, size_t nlt, size_t nb, const size_t *pos,
                          double *loss) {
    tl_status st = TL_OK;
    float *X = NULL, *G = NULL;
    const bool dan = p->method == TL_NN_DA_DAN;
    if (!cm) { /* one process: the batch is f itself, nb source rows then nb target rows */
        *loss = lam * (dan ? tl_nn_loss_mmd(f, nb, f + nb * m, nb, m, p->mmd_kernels, p->mmd_mul, 0,
                                            p->mmd_linear, lam, gf, gf + nb * m)
                           : tl_nn_loss_coral(f, nb, f + nb * m, nb, m, lam, gf, gf + nb * m));
        return TL_OK;
    }
    TL_ALLOC(X, 2 * nb * m);
    TL_CALLOC(G, 2 * nb * m);
    TL_TRY(gather_batch(cm, f, m, nls, nlt, nb, pos, X));
    const double v = dan ? tl_nn_loss_mmd(X, nb, X + nb * m, nb, m, p->mmd_kernels, p->mmd_mul, 0,
                                          p->mmd_linear, lam, G, G + nb * m)
                         : tl_nn_loss_coral(X, nb, X + nb * m, nb, m, lam, G, G + nb * m);
    for (size_t i = 0; i < nls + nlt; i++) {
        const float *g = G + ((i >= nls ? nb : 0) + pos[i]) * m;
        for (size_t j = 0; j < m; j++) gf[i * m + j] += g[j];
    }
    *loss = cm->rank == 0 ? lam * v : 0.0; /* summed over the processes with the step's figures */
done:
    tl_free(X);
    tl_free(G);
    return st;
}

tl_status nn_da_cdan_weights(const tl_nn_comm *cm, const float *P, size_t nls, size_t nlt, size_t nb,
                             size_t K, float *w) {
    if (!cm) {
        tl_nn_cdan_entropy_weights(P, nb, nb, K, w);
        return TL_OK;
    }
    double sum[2];
    nn_cdan_entropy_raw(P, nls, nlt, K, w, sum);
    tl_status st = cm->allreduce(cm->user, sum, 2, true);
    if (st != TL_OK) return st;
    for (size_t i = 0; i < nls + nlt; i++) w[i] = (float)(w[i] / sum[i >= nls] * (double)nb);
    return TL_OK;
}

tl_status nn_da_ckpt_write(const char *path, tl_nn *nn, tl_nn *head, const float *best, nn_ckpt *c,
                           tl_nn_da_method method, size_t NS, const size_t *tperm, size_t NT,
                           size_t tcur) {
    tl_status st = TL_OK;
    size_t *o = NULL, *perm = c->perm;
    TL_ALLOC(o, NS + NT + 2); /* one array: source order, target order, cursor, method + 1 */
    memcpy(o, perm, NS * sizeof *o);
    if (NT) memcpy(o + NS, tperm, NT * sizeof *o);
    o[NS + NT] = tcur;
    o[NS + NT + 1] = (size_t)method + 1;
    c->perm = o;
    c->rows = NS + NT + 2;
    const tl_nn *nets[2] = {nn, head}; /* the network, then the discriminator when there is one */
    st = nn_ckpt_write_nets(path, nets, head ? 2 : 1, best, nn->p_total, c);
    c->perm = perm;
done:
    tl_free(o);
    return st;
}

tl_status nn_da_ckpt_read(const char *path, tl_nn *nn, tl_nn *head, float *best, nn_ckpt *c,
                          tl_nn_da_method method, size_t *perm, size_t NS, size_t *tperm, size_t NT,
                          size_t *tcur) {
    tl_status st = TL_OK;
    size_t *o = NULL;
    TL_CALLOC(o, NS + NT + 2);
    c->rows = NS + NT + 2;
    c->perm = o;
    tl_nn *nets[2] = {nn, head};
    st = nn_ckpt_read_nets(path, nets, head ? 2 : 1, best, nn->p_total, c);
    c->perm = perm;
    /* the orders come before the tensors: another method's checkpoint, whose networks differ,
     * is named as such rather than by the first tensor that does not fit */
    const size_t was = o[NS + NT + 1];
    TL_CHECK(!was || was == (size_t)method + 1, TL_ERR_STATE, "%s: a checkpoint of %s adaptation, but this run is %s: remove it to "
             "start afresh", path, tl_nn_da_name((tl_nn_da_method)(was - 1)), tl_nn_da_name(method));
    if (st != TL_OK) goto done;
    TL_CHECK(o[NS + NT] <= NT && was, TL_ERR_FORMAT,
             "%s: not a deep-adaptation checkpoint (target cursor %zu of %zu rows)", path, o[NS + NT], NT);
    memcpy(perm, o, NS * sizeof *perm);
    if (NT) memcpy(tperm, o + NS, NT * sizeof *tperm);
    *tcur = o[NS + NT];
done:
    if (st != TL_OK) { /* the logs are the caller's only when the whole read succeeded */
        tl_free(c->log);
        tl_free(c->slog);
        c->log = c->slog = NULL;
    }
    tl_free(o);
    return st;
}

bool nn_da_ckpt_exists(const char *path) { return path && access(path, F_OK) == 0; }
