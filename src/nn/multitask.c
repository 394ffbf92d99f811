/* Multi-task learning with a shared representation (Caruana, "Multitask learning", Machine
 * Learning 28, 1997): one trunk network and, on its last layer, one head per task. Each step
 * draws a batch of every task, stacks them into one batch of the trunk, and the loss is
 *     L = sum_k w_k * (1/B_k) sum_{i in batch k} xent(head_k(trunk(x_i)), y_i),
 * so the trunk's gradient is the weighted sum of what every task asks of the shared features and
 * each head learns only from its own task's rows.
 *
 * Why built this way: the step-level trainer (trainer.c) already runs several named heads on one
 * trunk layer and adds each head's input gradient into the trunk, so a task is a head and its loss
 * is written only into its own rows of that head's output gradient (rows of other tasks get
 * zero, so they move neither that head nor the trunk through it). Every head runs forward on the
 * whole stacked batch - wasted work for T - 1 of T row blocks, negligible for the small heads
 * multi-task networks use (a dense layer on the shared features), and it keeps the trainer
 * unchanged. A head with batch normalisation would take its statistics over all tasks' rows. One
 * task trained by the same loop is the single-task network the multi-task one is compared with,
 * so the comparison differs in nothing but the sharing.
 *
 * Data-parallel (train.comm, `mpirun -np N tl train --tasks ...`): every process holds a block of
 * each task's rows; the sample orders are drawn over global row numbers, so each process keeps
 * its rows of every global batch, scales its losses to its share of each task's batch mean, and
 * the step's gradient block is summed once (nn_trainer_backward_sum); batch norm in the trunk and
 * heads uses the global batch (bn_sync.c). Rank 0 writes the checkpoint (the trunk, the heads,
 * every task's sample order and position). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/util.h"
#include "nn/nn_internal.h"
#include "tl/io.h"

#define MTL_MAX_TASKS 8
#define MTL_NAME_MAX 32

struct tl_nn_mtl {
    tl_nn *trunk;
    size_t nt;
    char name[MTL_MAX_TASKS][MTL_NAME_MAX];
    tl_nn *head[MTL_MAX_TASKS];
};

static bool name_ok(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n >= MTL_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        const char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

void tl_nn_mtl_free(tl_nn_mtl *m) {
    if (!m) return;
    tl_nn_free(m->trunk);
    for (size_t k = 0; k < m->nt; k++) tl_nn_free(m->head[k]);
    tl_free(m);
}

/* A head of arch on the trunk's output; name for messages. */
static tl_status make_head(const tl_nn *trunk, const char *task, const char *arch, uint64_t seed,
                           tl_nn **out) {
    const nn_shape s = trunk->nl ? trunk->layers[trunk->nl - 1].out : trunk->in;
    tl_status st = tl_nn_create(arch, s.c, s.h, s.w, seed, out);
    if (st != TL_OK) tl_fail_prefix(st, "task %s: head on the trunk's output (%zux%zux%zu)", task, s.c, s.h, s.w);
    return st;
}

tl_status tl_nn_mtl_create(const char *trunk_arch, size_t c, size_t h, size_t w, size_t ntasks,
                           const char *const *names, const char *const *heads, uint64_t seed,
                           tl_nn_mtl **out) {
    tl_status st = TL_OK;
    tl_nn_mtl *m = NULL;
    TL_CHECK(trunk_arch && names && heads && out, TL_ERR_INVALID_ARG, "nn_mtl_create: NULL argument");
    *out = NULL;
    TL_CHECK(ntasks >= 1 && ntasks <= MTL_MAX_TASKS, TL_ERR_INVALID_ARG,
             "multi-task: %zu tasks (1..%d)", ntasks, MTL_MAX_TASKS);
    for (size_t k = 0; k < ntasks; k++) {
        TL_CHECK(name_ok(names[k]), TL_ERR_INVALID_ARG,
                 "task %zu: name '%s' must be 1..%d characters of A-Z a-z 0-9 _ . -", k + 1,
                 names[k] ? names[k] : "(null)", MTL_NAME_MAX - 1);
        for (size_t j = 0; j < k; j++)
            TL_CHECK(strcmp(names[j], names[k]) != 0, TL_ERR_INVALID_ARG, "task '%s' is given twice", names[k]);
        TL_CHECK(heads[k], TL_ERR_INVALID_ARG, "task %s: no head architecture", names[k]);
    }
    TL_CALLOC(m, 1);
    st = tl_nn_create(trunk_arch, c, h, w, seed, &m->trunk);
    if (st != TL_OK) {
        tl_fail_prefix(st, "multi-task trunk");
        goto done;
    }
    for (size_t k = 0; k < ntasks; k++) {
        snprintf(m->name[k], MTL_NAME_MAX, "%s", names[k]);
        TL_TRY(make_head(m->trunk, names[k], heads[k], seed + 1000003u * (k + 1), &m->head[k]));
        m->nt++;
    }
    *out = m;
    m = NULL;
done:
    tl_nn_mtl_free(m);
    return st;
}

size_t tl_nn_mtl_tasks(const tl_nn_mtl *m) { return m ? m->nt : 0; }
const char *tl_nn_mtl_task_name(const tl_nn_mtl *m, size_t k) { return m && k < m->nt ? m->name[k] : NULL; }
tl_nn *tl_nn_mtl_trunk(tl_nn_mtl *m) { return m ? m->trunk : NULL; }
tl_nn *tl_nn_mtl_head(tl_nn_mtl *m, size_t k) { return m && k < m->nt ? m->head[k] : NULL; }

tl_status tl_nn_mtl_task_find(const tl_nn_mtl *m, const char *name, size_t *k) {
    if (!m || !name || !k) return tl_fail(TL_ERR_INVALID_ARG, "nn_mtl_task_find: NULL argument");
    char list[MTL_MAX_TASKS * MTL_NAME_MAX + 16] = "";
    size_t len = 0;
    for (size_t j = 0; j < m->nt; j++) {
        if (strcmp(m->name[j], name) == 0) {
            *k = j;
            return TL_OK;
        }
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", m->name[j]);
    }
    return tl_fail(TL_ERR_NOT_FOUND, "no task named '%s' (the tasks: %s)", name, list);
}

/* Copy every tensor of src into dst from tensor `from` on (same architecture: the same count and
 * sizes, checked). */
static tl_status copy_tensors(tl_nn *dst, size_t from, const tl_nn *src, const char *what) {
    if (dst->nt - from != src->nt)
        return tl_fail(TL_ERR_SHAPE, "%s: %zu tensors against %zu", what, dst->nt - from, src->nt);
    for (size_t i = 0; i < src->nt; i++)
        if (dst->t[from + i].size != src->t[i].size)
            return tl_fail(TL_ERR_SHAPE, "%s: tensor %s has %zu values, %s %zu", what, dst->t[from + i].name,
                           dst->t[from + i].size, src->t[i].name, src->t[i].size);
    for (size_t i = 0; i < src->nt; i++)
        memcpy(dst->t[from + i].data, src->t[i].data, src->t[i].size * sizeof(float));
    return TL_OK;
}

tl_status tl_nn_mtl_task_network(const tl_nn_mtl *m, size_t k, tl_nn **out) {
    tl_status st = TL_OK;
    tl_nn *nn = NULL;
    char *arch = NULL;
    TL_CHECK(m && out && k < m->nt, TL_ERR_INVALID_ARG, "nn_mtl_task_network: NULL argument or task %zu", k);
    *out = NULL;
    const char *ta = tl_nn_arch(m->trunk), *ha = tl_nn_arch(m->head[k]);
    const size_t n = strlen(ta) + strlen(ha) + 2;
    TL_ALLOC(arch, n);
    snprintf(arch, n, "%s,%s", ta, ha);
    st = tl_nn_create(arch, m->trunk->in.c, m->trunk->in.h, m->trunk->in.w, 0, &nn);
    if (st != TL_OK) {
        tl_fail_prefix(st, "task %s as one network", m->name[k]);
        goto done;
    }
    TL_CHECK(nn->nt == m->trunk->nt + m->head[k]->nt, TL_ERR_SHAPE,
             "task %s as one network: %zu tensors, the trunk and head have %zu", m->name[k], nn->nt,
             m->trunk->nt + m->head[k]->nt);
    for (size_t i = 0; i < m->trunk->nt; i++)
        memcpy(nn->t[i].data, m->trunk->t[i].data, m->trunk->t[i].size * sizeof(float));
    TL_TRY(copy_tensors(nn, m->trunk->nt, m->head[k], m->name[k]));
    nn->in_shift = m->trunk->in_shift;
    nn->in_scale = m->trunk->in_scale;
    TL_TRY(tl_nn_set_labels(nn, m->head[k]->labels, tl_nn_output_dim(nn)));
    if (m->head[k]->label_names) TL_TRY(tl_nn_set_label_names(nn, m->head[k]->label_names));
    *out = nn;
    nn = NULL;
done:
    tl_free(arch);
    tl_nn_free(nn);
    return st;
}

/* Trunk outputs of x (n rows) into f, then task k's head's accuracy / loss on f. */
static tl_status eval_on(tl_nn *trunk, tl_nn *head, const float *x, const int *y, size_t n,
                         double *acc, double *loss) {
    tl_status st = TL_OK;
    float *f = NULL;
    const size_t fd = nn_shape_size(head->in);
    TL_CHECK(n >= 1, TL_ERR_EMPTY, "multi-task evaluation: no rows");
    size_t cnt;
    TL_CHECK(tl_size_mul(n, fd, &cnt) == 0, TL_ERR_NOMEM, "multi-task evaluation: too many rows");
    TL_ALLOC(f, cnt);
    TL_TRY(tl_nn_forward(trunk, x, n, f));
    TL_TRY(tl_nn_evaluate(head, f, y, n, acc, loss));
done:
    tl_free(f);
    return st;
}

tl_status tl_nn_mtl_evaluate(tl_nn_mtl *m, size_t k, const float *x, const int *y, size_t n,
                             double *accuracy, double *loss) {
    if (!m || k >= m->nt || !x || !y)
        return tl_fail(TL_ERR_INVALID_ARG, "nn_mtl_evaluate: NULL argument or task %zu", k);
    tl_status st = eval_on(m->trunk, m->head[k], x, y, n, accuracy, loss);
    if (st != TL_OK) tl_fail_prefix(st, "task %s", m->name[k]);
    return st;
}

tl_nn_mtl_params tl_nn_mtl_params_default(void) {
    tl_nn_mtl_params p;
    memset(&p, 0, sizeof p);
    p.train = tl_nn_train_params_default();
    return p;
}

/* One task's state in the training loop. Data-parallel (train.comm): this process holds rows
 * [lo, lo + n) of the task's N; the order is drawn over global row numbers, so every process
 * draws what one process draws and keeps the rows of each batch it holds. */
typedef struct {
    int *yi;              /* (n) output indices of its head, for the rows held here */
    size_t *perm;         /* (N) global order: validation rows first, then training rows */
    size_t n, lo, N, nval, ntr, bs, cur, nl; /* nl: rows of the current batch held here */
    float *xv;            /* (nvl, d) validation rows held here */
    int *yv;              /* (nvl) their output indices */
    size_t nvl;
    double w;
} mtl_task;

/* A NaN or infinite loss or parameter in epoch ep: the parameters of the last epoch that ended
 * finite (good) back into block, r marked, TL_ERR_NONFINITE saying what happened. */
static tl_status stop_nonfinite(tl_nn_train_result *r, float *block, const float *good, size_t np,
                                size_t ep, double lr, const char *what) {
    memcpy(block, good, np * sizeof *good);
    r->nonfinite = true;
    r->epochs_run = ep;
    r->best_epoch = ep - 1;
    return tl_fail(TL_ERR_NONFINITE,
                   "multi-task training stopped: %s (lr %g); the model keeps the parameters from %s%.0zu",
                   what, lr, ep > 1 ? "the end of epoch " : "before training", ep > 1 ? ep - 1 : 0);
}

/* The checkpoint's sample order: every task's order end to end, then each task's position in
 * its training rows (a small task cycles through its rows at its own pace). */
static size_t ckpt_rows(const mtl_task *tk, size_t T) {
    size_t n = T;
    for (size_t k = 0; k < T; k++) n += tk[k].N;
    return n;
}
static void ckpt_pack(const mtl_task *tk, size_t T, size_t *all) {
    size_t at = 0;
    for (size_t k = 0; k < T; k++, at += tk[k - 1].N) memcpy(all + at, tk[k].perm, tk[k].N * sizeof *all);
    for (size_t k = 0; k < T; k++) all[at + k] = tk[k].cur;
}
static void ckpt_unpack(mtl_task *tk, size_t T, const size_t *all) {
    size_t at = 0;
    for (size_t k = 0; k < T; k++, at += tk[k - 1].N) memcpy(tk[k].perm, all + at, tk[k].N * sizeof *all);
    for (size_t k = 0; k < T; k++) tk[k].cur = all[at + k];
}

tl_status tl_nn_mtl_train(tl_nn_mtl *m, const tl_nn_mtl_params *p, const tl_nn_task_data *data,
                          tl_nn_train_result *res) {
    tl_status st = TL_OK;
    tl_nn_trainer *tr = NULL;
    mtl_task tk[MTL_MAX_TASKS];
    int *yb = NULL;
    float *good = NULL, *best = NULL;
    double *sl = NULL; /* per step of an epoch: weighted loss, hits (summed over the processes) */
    size_t *ckperm = NULL;
    char *slog = NULL;
    size_t slog_len = 0, slog_cap = 0, slog_sent = 0;
    tl_wfile *slog_stream = NULL;
    nn_ckpt ck = {0};
    tl_nn *nets[MTL_MAX_TASKS + 1];
    tl_nn_train_result r;
    memset(tk, 0, sizeof tk);
    memset(&r, 0, sizeof r);
    r.val_loss = r.val_acc = NAN;
    TL_CHECK(m && p && data, TL_ERR_INVALID_ARG, "nn_mtl_train: NULL argument");
    const tl_nn_train_params *tp = &p->train;
    TL_TRY(tl_nn_train_params_check(tp));
    TL_CHECK(tp->loss == TL_NN_LOSS_XENT && tp->label_smoothing == 0, TL_ERR_INVALID_ARG,
             "multi-task training takes the cross-entropy loss without label smoothing");
    const tl_nn_comm *cm = tp->comm && tp->comm->size > 1 ? tp->comm : NULL;
    const size_t T = m->nt, d = nn_shape_size(m->trunk->in);
    double wsum = 0;
    tl_rng rng;
    tl_rng_seed(&rng, tp->seed);
    size_t cap = 0, spe = 0;
    for (size_t k = 0; k < T; k++) {
        mtl_task *q = &tk[k];
        const tl_nn_task_data *D = &data[k];
        q->w = p->weights ? p->weights[k] : 1.0;
        TL_CHECK(q->w >= 0 && q->w <= 1e6, TL_ERR_INVALID_ARG, "task %s: loss weight %g not in [0, 1e6]",
                 m->name[k], q->w);
        wsum += q->w;
        TL_CHECK(D->x || !D->n, TL_ERR_INVALID_ARG, "task %s: no data", m->name[k]);
        TL_CHECK(D->y || !D->n, TL_ERR_INVALID_ARG, "task %s: no labels", m->name[k]);
        q->n = D->n;
        q->N = D->n;
        if (cm) TL_TRY(nn_comm_rows(cm, D->n, &q->lo, &q->N));
        for (size_t i = 0; i < D->n * d; i++)
            TL_CHECK(isfinite(D->x[i]), TL_ERR_NONFINITE, "task %s: sample %zu, value %zu is %f",
                     m->name[k], q->lo + i / d + 1, i % d + 1, (double)D->x[i]);
        TL_ALLOC(q->yi, D->n ? D->n : 1);
        st = nn_map_labels(m->head[k], D->y, D->n, q->yi);
        if (st != TL_OK) {
            tl_fail_prefix(st, "task %s (its head has %zu outputs)", m->name[k], tl_nn_output_dim(m->head[k]));
            goto done;
        }
        TL_ALLOC(q->perm, q->N ? q->N : 1);
        for (size_t i = 0; i < q->N; i++) q->perm[i] = i;
        q->nval = (size_t)floor(tp->val_fraction * (double)q->N);
        q->ntr = q->N - q->nval;
        TL_CHECK(q->ntr >= 2, TL_ERR_EMPTY, "task %s: %zu training rows (at least 2) after the validation split",
                 m->name[k], q->ntr);
        if (q->nval) {
            tl_rng_shuffle(&rng, q->perm, q->N);
            TL_ALLOC(q->xv, q->nval * d);
            TL_ALLOC(q->yv, q->nval);
            for (size_t i = 0; i < q->nval; i++) {
                const size_t g = q->perm[i];
                if (g < q->lo || g >= q->lo + q->n) continue;
                memcpy(q->xv + q->nvl * d, D->x + (g - q->lo) * d, d * sizeof(float));
                q->yv[q->nvl++] = q->yi[g - q->lo];
            }
        }
        q->bs = tp->batch_size < q->ntr ? tp->batch_size : q->ntr;
        q->cur = q->ntr; /* reshuffled at the first draw */
        cap += q->bs;
        const size_t s = (q->ntr + q->bs - 1) / q->bs;
        spe = s > spe ? s : spe;
    }
    TL_CHECK(wsum > 0, TL_ERR_INVALID_ARG, "multi-task: every task loss weight is 0");
    TL_TRY(tl_nn_trainer_create(m->trunk, tp, cap, &tr));
    TL_TRY(nn_sync_attach(m->trunk, cm));
    nets[0] = m->trunk;
    const char *at = m->trunk->layers[m->trunk->nl - 1].name;
    for (size_t k = 0; k < T; k++) {
        tl_nn *hn;
        TL_TRY(tl_nn_trainer_add_head(tr, m->name[k], at, tl_nn_arch(m->head[k]), 0, &hn));
        TL_TRY(copy_tensors(hn, 0, m->head[k], m->name[k])); /* the head's own initial values */
    }
    for (size_t k = 0; k < T; k++) { /* after every head is in: adding one moves the others */
        TL_TRY(tl_nn_trainer_head(tr, m->name[k], &nets[k + 1]));
        TL_TRY(nn_sync_attach(nets[k + 1], cm)); /* a head's batch norm over the global batch */
    }
    size_t np;
    float *block = tl_nn_trainer_params(tr, &np);
    TL_ALLOC(good, np);
    memcpy(good, block, np * sizeof *good);
    bool anyval = false;
    for (size_t k = 0; k < T; k++) anyval = anyval || tk[k].nval;
    if (anyval && tp->patience) {
        TL_ALLOC(best, np);
        memcpy(best, good, np * sizeof *best);
    }
    TL_ALLOC(yb, cap);
    TL_ALLOC(sl, 2 * spe);
    if (tp->step_log) {
        slog_cap = 64 + 32 * spe * tp->epochs;
        TL_ALLOC(slog, slog_cap);
        slog_len = (size_t)snprintf(slog, slog_cap, "step,loss\n");
    }
    const size_t ckn = ckpt_rows(tk, T);
    if (tp->checkpoint) TL_ALLOC(ckperm, ckn);
    size_t step = 0, since = 0, trained = 0, ep0 = 1;
    double best_val = INFINITY, t0 = tli_seconds();
    if (tp->checkpoint && access(tp->checkpoint, F_OK) == 0) { /* resume where it stopped */
        ck.rows = ckn;
        ck.perm = ckperm;
        TL_TRY(nn_ckpt_read_nets(tp->checkpoint, nets, T + 1, best, best ? np : 0, &ck));
        TL_CHECK(ck.seed == tp->seed && ck.epochs_done <= tp->epochs && ck.step == ck.epochs_done * spe,
                 TL_ERR_STATE, "%s: a checkpoint of another run (seed %llu, %llu epochs done) than "
                 "this multi-task one (seed %llu, %zu epochs): remove it to start afresh",
                 tp->checkpoint, (unsigned long long)ck.seed, (unsigned long long)ck.epochs_done,
                 (unsigned long long)tp->seed, tp->epochs);
        ckpt_unpack(tk, T, ckperm);
        ep0 = nn_ckpt_resume(&ck, tr, &rng, &step, &since, &best_val, &r);
        if (slog) slog_len = (size_t)snprintf(slog, slog_cap, "%s", ck.slog);
        memcpy(good, block, np * sizeof *good);
        tl_log(tp->ctx, TL_LOG_INFO, "resuming from %s after epoch %zu of %zu", tp->checkpoint,
               ep0 - 1, tp->epochs);
    }
    for (size_t ep = ep0; ep <= tp->epochs; ep++) {
        double sum = 0, lr = tp->lr;
        size_t hits = 0, seen = 0;
        for (size_t s = 0; s < spe; s++, step++) {
            float *in = tl_nn_trainer_input(tr);
            size_t B = 0;
            for (size_t k = 0; k < T; k++) { /* task k's rows, drawn without replacement */
                mtl_task *q = &tk[k];
                size_t *trr = q->perm + q->nval;
                q->nl = 0;
                for (size_t b = 0; b < q->bs; b++) {
                    if (q->cur == q->ntr) {
                        if (tp->shuffle || step == 0) tl_rng_shuffle(&rng, trr, q->ntr);
                        q->cur = 0;
                    }
                    const size_t g = trr[q->cur++];
                    if (g < q->lo || g >= q->lo + q->n) continue;
                    memcpy(in + B * d, data[k].x + (g - q->lo) * d, d * sizeof *in);
                    yb[B++] = q->yi[g - q->lo];
                    q->nl++;
                }
            }
            TL_TRY(tl_nn_trainer_forward(tr, in, B, tp->seed * 0xD1B54A32D192ED03ULL + step));
            double loss = 0;
            size_t off = 0, h = 0;
            for (size_t k = 0; k < T; k++) {
                const float *out;
                float *dout;
                size_t K, hk = 0;
                const mtl_task *q = &tk[k];
                TL_TRY(tl_nn_trainer_output(tr, m->name[k], &out, &dout, &K));
                /* this process's share of the task's global batch mean (all of it on one) */
                const double f = q->nl == q->bs ? 1.0 : (double)q->nl / (double)q->bs;
                if (q->nl)
                    loss += q->w * f *
                            tl_nn_loss_xent(out + off * K, yb + off, NULL, q->nl, K, q->w * f, dout + off * K, &hk);
                h += hk;
                seen += q->bs;
                off += q->nl;
            }
            sl[2 * s] = loss;
            sl[2 * s + 1] = (double)h;
            if (!cm && !isfinite(loss)) { /* data-parallel: checked on the sums at the epoch's end */
                char what[96];
                snprintf(what, sizeof what, "the loss became %s at epoch %zu, step %zu",
                         isnan(loss) ? "NaN" : "infinite", ep, s + 1);
                st = stop_nonfinite(&r, block, good, np, ep, lr, what);
                goto copy_out;
            }
            sum += loss;
            hits += h;
            TL_TRY(nn_trainer_backward_sum(tr, cm));
            lr = nn_schedule_lr(tp, step, spe);
            TL_TRY(tl_nn_trainer_step(tr, lr));
            trained += cap; /* the global batch: every task's bs rows */
        }
        if (cm) { /* the epoch's figures over all processes (one sum per epoch) */
            TL_TRY(cm->allreduce(cm->user, sl, 2 * spe, true));
            sum = 0;
            hits = 0;
            for (size_t s = 0; s < spe; s++) {
                sum += sl[2 * s];
                hits += (size_t)sl[2 * s + 1];
                if (!isfinite(sl[2 * s])) {
                    char what[96];
                    snprintf(what, sizeof what, "the loss became %s at epoch %zu, step %zu",
                             isnan(sl[2 * s]) ? "NaN" : "infinite", ep, s + 1);
                    st = stop_nonfinite(&r, block, good, np, ep, nn_schedule_lr(tp, step - spe + s, spe), what);
                    goto copy_out;
                }
            }
        }
        if (slog) { /* the weighted loss of each step's global batch */
            for (size_t s = 0; s < spe; s++) {
                int w = snprintf(slog + slog_len, slog_cap - slog_len, "%zu,%.9g\n", step - spe + s + 1, sl[2 * s]);
                if (w > 0 && (size_t)w < slog_cap - slog_len) slog_len += (size_t)w;
            }
            TL_TRY(nn_write_log(tp->step_log, slog, &slog_sent, &slog_stream));
        }
        if (!tl_nn_trainer_finite(tr)) {
            char what[96];
            snprintf(what, sizeof what, "a parameter became NaN or infinite in epoch %zu", ep);
            st = stop_nonfinite(&r, block, good, np, ep, lr, what);
            goto copy_out;
        }
        memcpy(good, block, np * sizeof *good);
        r.epochs_run = ep;
        r.train_loss = sum / (double)spe;
        r.train_acc = (double)hits / (double)seen;
        r.steps = step;
        double vl = NAN, va = NAN;
        bool stop = false;
        if (anyval) {
            double lsum = 0, csum = 0, v[2 * MTL_MAX_TASKS] = {0};
            size_t nv = 0;
            for (size_t k = 0; k < T; k++) {
                if (!tk[k].nvl) continue;
                tl_nn *hn;
                double a, l;
                TL_TRY(tl_nn_trainer_head(tr, m->name[k], &hn));
                TL_TRY(eval_on(m->trunk, hn, tk[k].xv, tk[k].yv, tk[k].nvl, &a, &l));
                v[2 * k] = cm ? l * (double)tk[k].nvl / (double)tk[k].nval : l;
                v[2 * k + 1] = a * (double)tk[k].nvl;
            }
            if (cm) TL_TRY(cm->allreduce(cm->user, v, 2 * T, true)); /* each process's share */
            for (size_t k = 0; k < T; k++) {
                if (!tk[k].nval) continue;
                lsum += tk[k].w * v[2 * k];
                csum += v[2 * k + 1];
                nv += tk[k].nval;
            }
            vl = lsum;
            va = csum / (double)nv;
        }
        if (nn_early_epoch(&r, ep, anyval, vl, va, tp->patience, &best_val, &since, &stop) && best)
            memcpy(best, block, np * sizeof *best);
        tl_log(tp->ctx, TL_LOG_INFO, "multi-task epoch %zu/%zu: loss %.4f, acc %.2f%%, val loss %.4f, acc %.2f%%",
               ep, tp->epochs, r.train_loss, 100 * r.train_acc, vl, 100 * va);
        if (tp->checkpoint && (!cm || cm->rank == 0)) { /* rank 0 writes it, atomically */
            ckpt_pack(tk, T, ckperm);
            nn_ckpt c = {ckn, tp->seed, ep, step, *nn_trainer_opt_steps(tr), since, rng, best_val,
                         r, NULL, slog, ckperm};
            TL_TRY(nn_ckpt_write_nets(tp->checkpoint, (const tl_nn *const *)nets, T + 1, best,
                                      best ? np : 0, &c));
        }
        if (stop) {
            r.stopped_early = true;
            break;
        }
    }
    if (best) memcpy(block, best, np * sizeof *best);
    r.seconds = tli_seconds() - t0;
    r.samples_per_s = r.seconds > 0 ? (double)trained / r.seconds : 0;
    if (slog_stream) {
        tl_wfile *ls = slog_stream;
        slog_stream = NULL;
        TL_TRY(tl_wfile_commit(ls));
    }
copy_out: /* the trained heads back into the model (the trunk keeps its own tensors) */
    for (size_t k = 0; k < T; k++) {
        tl_nn *hn;
        tl_status s2 = tl_nn_trainer_head(tr, m->name[k], &hn);
        if (s2 == TL_OK) s2 = copy_tensors(m->head[k], 0, hn, m->name[k]);
        if (s2 != TL_OK && st == TL_OK) st = s2;
    }
done:
    if (m) nn_sync_attach(m->trunk, NULL);
    tl_nn_trainer_free(tr);
    for (size_t k = 0; k < MTL_MAX_TASKS; k++) {
        tl_free(tk[k].yi);
        tl_free(tk[k].perm);
        tl_free(tk[k].xv);
        tl_free(tk[k].yv);
    }
    tl_free(yb);
    tl_free(good);
    tl_free(best);
    tl_free(sl);
    tl_free(slog);
    tl_wfile_abort(slog_stream);
    tl_free(ckperm);
    tl_free(ck.log);
    tl_free(ck.slog);
    if (res) *res = r;
    return st;
}

tl_status tl_nn_mtl_save(const tl_nn_mtl *m, const char *path) {
    tl_status st = TL_OK;
    tl_tlm *c = NULL, *sub = NULL;
    char names[MTL_MAX_TASKS * MTL_NAME_MAX + 1] = "", prefix[MTL_NAME_MAX + 8];
    TL_CHECK(m && path, TL_ERR_INVALID_ARG, "nn_mtl_save: NULL argument");
    TL_TRY(tl_tlm_create(&c));
    TL_TRY(tl_tlm_set_meta(c, "kind", "nn-multitask"));
    TL_TRY(tl_tlm_set_meta(c, "libtl_version", tl_version()));
    size_t len = 0;
    for (size_t k = 0; k < m->nt; k++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", k ? "," : "", m->name[k]);
    TL_TRY(tl_tlm_set_meta(c, "tasks", names));
    TL_TRY(tl_tlm_create(&sub));
    TL_TRY(tl_nn_write(m->trunk, sub));
    TL_TRY(tl_tlm_merge(c, sub, "trunk."));
    for (size_t k = 0; k < m->nt; k++) {
        tl_tlm_free(sub);
        sub = NULL;
        TL_TRY(tl_tlm_create(&sub));
        TL_TRY(tl_nn_write(m->head[k], sub));
        snprintf(prefix, sizeof prefix, "head.%s.", m->name[k]);
        TL_TRY(tl_tlm_merge(c, sub, prefix));
    }
    TL_TRY(tl_tlm_save(c, path));
done:
    tl_tlm_free(sub);
    tl_tlm_free(c);
    return st;
}

tl_status tl_nn_mtl_load(const char *path, tl_nn_mtl **out) {
    tl_status st = TL_OK;
    tl_tlm *c = NULL, *sub = NULL;
    tl_nn_mtl *m = NULL;
    char what[MTL_NAME_MAX + 64], prefix[MTL_NAME_MAX + 8];
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "nn_mtl_load: NULL argument");
    *out = NULL;
    TL_TRY(tl_tlm_load(path, &c));
    const char *kind = tl_tlm_get_meta(c, "kind"), *tasks = tl_tlm_get_meta(c, "tasks");
    TL_CHECK(kind && strcmp(kind, "nn-multitask") == 0, TL_ERR_FORMAT,
             "%s: not a multi-task network (kind '%s')", path, kind ? kind : "(none)");
    TL_CHECK(tasks && tasks[0], TL_ERR_FORMAT, "%s: the model lacks its tasks metadata", path);
    TL_CALLOC(m, 1);
    snprintf(what, sizeof what, "%s (trunk)", path);
    TL_TRY(tl_tlm_extract(c, "trunk.", &sub));
    TL_TRY(tl_nn_read(sub, what, &m->trunk));
    for (const char *s = tasks; *s;) {
        const char *e = strchr(s, ',');
        const size_t n = e ? (size_t)(e - s) : strlen(s);
        TL_CHECK(m->nt < MTL_MAX_TASKS && n >= 1 && n < MTL_NAME_MAX, TL_ERR_FORMAT,
                 "%s: bad tasks metadata '%s'", path, tasks);
        memcpy(m->name[m->nt], s, n);
        m->name[m->nt][n] = '\0';
        TL_CHECK(name_ok(m->name[m->nt]), TL_ERR_FORMAT, "%s: bad task name '%s'", path, m->name[m->nt]);
        tl_tlm_free(sub);
        sub = NULL;
        snprintf(prefix, sizeof prefix, "head.%s.", m->name[m->nt]);
        TL_TRY(tl_tlm_extract(c, prefix, &sub));
        snprintf(what, sizeof what, "%s (head of task %s)", path, m->name[m->nt]);
        TL_TRY(tl_nn_read(sub, what, &m->head[m->nt]));
        const nn_shape o = m->trunk->nl ? m->trunk->layers[m->trunk->nl - 1].out : m->trunk->in;
        const nn_shape hi = m->head[m->nt]->in;
        m->nt++;
        TL_CHECK(o.c == hi.c && o.h == hi.h && o.w == hi.w, TL_ERR_FORMAT,
                 "%s: the trunk's output (%zux%zux%zu) is not the input of task %s's head (%zux%zux%zu)",
                 path, o.c, o.h, o.w, m->name[m->nt - 1], hi.c, hi.h, hi.w);
        s += n;
        if (*s == ',') s++;
    }
    *out = m;
    m = NULL;
done:
    tl_tlm_free(sub);
    tl_tlm_free(c);
    tl_nn_mtl_free(m);
    return st;
}
