/* The training loop: seeded shuffling, a held-out validation split with early stopping, image
 * augmentation (random crop with zero padding, horizontal flip), learning-rate schedules, the
 * optimiser step, NaN/Inf detection that rolls back to the last good epoch, per-epoch metrics to
 * a callback and a CSV file (through tl_wfile), and progress reports through tl_ctx.
 *
 * Why built this way: every buffer the loop touches (batch, labels, workspace, snapshots,
 * optimiser state) is allocated before the first step, so a step does no allocation and its
 * memory is known up front. Snapshots of all tensors (parameters and running statistics) give
 * both the "last good" model for a NaN stop and the "best" model for early stopping; a copy of a
 * small CNN's tensors costs far less than an epoch. Sample order, split, augmentation and
 * dropout all derive from p->seed, so a run reproduces exactly for a given seed and thread
 * count. */
#include <errno.h>
#include <math.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "internal/util.h"
#include "nn/nn_internal.h"

tl_nn_train_params tl_nn_train_params_default(void) {
    tl_nn_train_params p;
    memset(&p, 0, sizeof p);
    p.epochs = 10;
    p.batch_size = 64;
    p.optimizer = TL_NN_SGD;
    p.lr = 0.01;
    p.momentum = 0.9;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    p.schedule = TL_NN_SCHED_CONSTANT;
    p.step_epochs = 10;
    p.step_gamma = 0.1;
    p.loss = TL_NN_LOSS_XENT;
    p.shuffle = true;
    p.seed = 42;
    return p;
}

tl_status tl_nn_train_params_check(const tl_nn_train_params *p) {
    if (!p) return tl_fail(TL_ERR_INVALID_ARG, "training parameters: NULL");
#define NEED(cond, ...)                                                                            \
    if (!(cond)) return tl_fail(TL_ERR_INVALID_ARG, __VA_ARGS__)
    NEED(p->epochs >= 1 && p->epochs <= 1000000, "epochs = %zu: must be in 1..1e6", p->epochs);
    NEED(p->batch_size >= 1 && p->batch_size <= 65536, "batch size = %zu: must be in 1..65536",
         p->batch_size);
    NEED(p->optimizer == TL_NN_SGD || p->optimizer == TL_NN_ADAMW, "unknown optimizer %d",
         (int)p->optimizer);
    NEED(p->lr > 0 && p->lr <= 1e6, "learning rate = %g: must be in (0, 1e6]", p->lr);
    NEED(p->momentum >= 0 && p->momentum < 1, "momentum = %g: must be in [0, 1)", p->momentum);
    NEED(!p->nesterov || p->momentum > 0, "Nesterov momentum needs momentum > 0");
    NEED(p->beta1 >= 0 && p->beta1 < 1, "beta1 = %g: must be in [0, 1)", p->beta1);
    NEED(p->beta2 >= 0 && p->beta2 < 1, "beta2 = %g: must be in [0, 1)", p->beta2);
    NEED(p->eps > 0 && p->eps < 1, "eps = %g: must be in (0, 1)", p->eps);
    NEED(p->weight_decay >= 0 && p->weight_decay <= 1e3, "weight decay = %g: must be in [0, 1000]",
         p->weight_decay);
    NEED(p->schedule == TL_NN_SCHED_CONSTANT || p->schedule == TL_NN_SCHED_STEP ||
             p->schedule == TL_NN_SCHED_COSINE,
         "unknown schedule %d", (int)p->schedule);
    NEED(p->step_epochs >= 1, "step epochs = %zu: must be >= 1", p->step_epochs);
    NEED(p->step_gamma > 0 && p->step_gamma <= 1, "step gamma = %g: must be in (0, 1]", p->step_gamma);
    NEED(p->min_lr >= 0 && p->min_lr <= p->lr, "min lr = %g: must be in [0, lr]", p->min_lr);
    NEED(p->warmup_epochs >= 0 && p->warmup_epochs <= (double)p->epochs,
         "warm-up = %g epochs: must be in [0, epochs]", p->warmup_epochs);
    NEED(p->loss == TL_NN_LOSS_XENT || p->loss == TL_NN_LOSS_MSE, "unknown loss %d", (int)p->loss);
    NEED(p->label_smoothing >= 0 && p->label_smoothing < 1, "label smoothing = %g: must be in [0, 1)",
         p->label_smoothing);
    NEED(p->label_smoothing == 0 || p->loss == TL_NN_LOSS_XENT,
         "label smoothing applies to the cross-entropy loss only");
    NEED(p->val_fraction >= 0 && p->val_fraction < 1, "validation fraction = %g: must be in [0, 1)",
         p->val_fraction);
    NEED(p->patience == 0 || p->val_fraction > 0,
         "early stopping (patience %zu) needs a validation split", p->patience);
    NEED(p->crop_pad <= 64, "crop padding = %zu: must be at most 64", p->crop_pad);
    NEED(p->l2sp_alpha >= 0 && p->l2sp_alpha <= 1e6, "L2-SP alpha = %g: must be in [0, 1e6]",
         p->l2sp_alpha);
    NEED(p->l2sp_beta >= 0 && p->l2sp_beta <= 1e6, "L2-SP beta = %g: must be in [0, 1e6]",
         p->l2sp_beta);
#undef NEED
    return TL_OK;
}

static tl_status parse_word(const char *s, const char *what, const char *const *words, size_t n,
                            int *out) {
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, words[i]) == 0) {
            *out = (int)i;
            return TL_OK;
        }
    char list[128] = "";
    for (size_t i = 0; i < n; i++) {
        strcat(list, i ? ", " : "");
        strcat(list, words[i]);
    }
    return tl_fail(TL_ERR_INVALID_ARG, "unknown %s '%s' (%s)", what, s ? s : "(null)", list);
}

tl_status tl_nn_optimizer_parse(const char *s, tl_nn_optimizer *out) {
    static const char *const w[] = {"sgd", "adamw"};
    int v;
    tl_status st = parse_word(s, "optimizer", w, 2, &v);
    if (st == TL_OK) *out = (tl_nn_optimizer)v;
    return st;
}

tl_status tl_nn_schedule_parse(const char *s, tl_nn_schedule *out) {
    static const char *const w[] = {"constant", "step", "cosine"};
    int v;
    tl_status st = parse_word(s, "schedule", w, 3, &v);
    if (st == TL_OK) *out = (tl_nn_schedule)v;
    return st;
}

tl_status tl_nn_loss_parse(const char *s, tl_nn_loss *out) {
    static const char *const w[] = {"xent", "mse"};
    int v;
    tl_status st = parse_word(s, "loss", w, 2, &v);
    if (st == TL_OK) *out = (tl_nn_loss)v;
    return st;
}

/* Copy sample src (C, H, W) into dst with a random crop of the zero-padded image and an optional
 * horizontal flip. */
static void augment(const float *src, float *dst, nn_shape s, size_t pad, bool flip, tl_rng *r) {
    long oy = 0, ox = 0;
    if (pad) {
        oy = (long)tl_rng_below(r, 2 * pad + 1) - (long)pad;
        ox = (long)tl_rng_below(r, 2 * pad + 1) - (long)pad;
    }
    const bool fl = flip && (tl_rng_u64(r) >> 63);
    for (size_t c = 0; c < s.c; c++) {
        const float *sp = src + c * s.h * s.w;
        float *dp = dst + c * s.h * s.w;
        for (size_t i = 0; i < s.h; i++) {
            long si = (long)i + oy;
            float *drow = dp + i * s.w;
            if (si < 0 || si >= (long)s.h) {
                memset(drow, 0, s.w * sizeof *drow);
                continue;
            }
            const float *srow = sp + (size_t)si * s.w;
            for (size_t j = 0; j < s.w; j++) {
                long sj = (long)(fl ? s.w - 1 - j : j) + ox;
                drow[j] = (sj < 0 || sj >= (long)s.w) ? 0.0f : srow[sj];
            }
        }
    }
}

static double batch_loss(tl_nn *nn, const tl_nn_train_params *p, const int *yb, size_t B,
                         float *dlogits, size_t *hits) {
    const size_t K = tl_nn_output_dim(nn);
    const float *z = nn->a[nn->nl];
    if (p->loss == TL_NN_LOSS_MSE) return nn_mse_onehot_loss(z, yb, B, K, dlogits, hits);
    return nn_xent_loss(z, yb, B, K, p->label_smoothing, dlogits, hits);
}

/* Eval-mode loss and accuracy over rows idx[0..m) of x. */
static void eval_rows(tl_nn *nn, const tl_nn_train_params *p, const float *x, const int *yi,
                      const size_t *idx, size_t m, int *yb, double *loss, double *acc) {
    const size_t d = nn_shape_size(nn->in);
    double tot = 0.0;
    size_t hits = 0;
    nn->train = false;
    for (size_t i0 = 0; i0 < m; i0 += nn->cap) {
        const size_t B = m - i0 < nn->cap ? m - i0 : nn->cap;
        for (size_t b = 0; b < B; b++) {
            memcpy(nn->a[0] + b * d, x + idx[i0 + b] * d, d * sizeof(float));
            yb[b] = yi[idx[i0 + b]];
        }
        nn_forward_batch(nn, B);
        size_t h = 0;
        tot += batch_loss(nn, p, yb, B, NULL, &h) * (double)B;
        hits += h;
    }
    *loss = tot / (double)m;
    *acc = (double)hits / (double)m;
}

static void snapshot(tl_nn *nn, float *buf, bool save) {
    for (size_t i = 0; i < nn->nt; i++) {
        if (save) memcpy(buf, nn->t[i].data, nn->t[i].size * sizeof(float));
        else memcpy(nn->t[i].data, buf, nn->t[i].size * sizeof(float));
        buf += nn->t[i].size;
    }
}

/* The per-epoch CSV log; text is the whole log so far. A file is rewritten whole after every
 * epoch through tl_wfile, so it always holds the finished epochs and never a torn line. A stream
 * (a pipe, a terminal, a FIFO: tl_wfile writes those through) is opened once and kept in *stream
 * for the run - reopening a FIFO every epoch would wait for a reader that has gone - and gets each
 * new part as it comes (*sent: bytes of text already written there). */
tl_status nn_write_log(const char *path, const char *text, size_t *sent, tl_wfile **stream) {
    tl_status st = TL_OK;
    tl_wfile *w = NULL;
    const size_t len = strlen(text);
    if (!*stream) {
        TL_TRY(tl_wfile_open(path, &w));
        if (tl_wfile_is_stream(w)) {
            *stream = w;
            w = NULL;
        }
    }
    if (*stream) {
        TL_TRY(tl_wfile_write(*stream, text + *sent, len - *sent));
        *sent = len;
        TL_CHECK(fflush(tl_wfile_stream(*stream)) == 0, TL_ERR_IO, "%s: write failed: %s", path,
                 strerror(errno));
        goto done;
    }
    TL_TRY(tl_wfile_write(w, text, len));
    st = tl_wfile_commit(w);
    w = NULL;
done:
    tl_wfile_abort(w);
    return st;
}

void tl_nn_shard(size_t n, int rank, int size, size_t *lo, size_t *hi) {
    tl_block_range(n, rank, size, lo, hi);
}

/* A NaN or infinite loss at step s (0-based) of epoch ep: the model gets back the last good
 * parameters, r says so, and the error names the epoch and step. */
static tl_status loss_stop(tl_nn *nn, float *good, tl_nn_train_result *r, size_t ep, size_t s,
                           double loss, double lr) {
    snapshot(nn, good, false);
    r->nonfinite = true;
    r->epochs_run = ep;
    r->best_epoch = ep - 1;
    return tl_fail(TL_ERR_NONFINITE,
                   "training stopped: the loss became %s at epoch %zu, step %zu (lr %g); the model "
                   "keeps the parameters from %s%.0zu",
                   isnan(loss) ? "NaN" : "infinite", ep, s + 1, lr,
                   ep > 1 ? "the end of epoch " : "before training", ep > 1 ? ep - 1 : 0);
}

/* Data-parallel: the sum over the processes of n values of buf (nothing without comm). */
static tl_status sum_all(const tl_nn_comm *cm, void *buf, size_t n, bool dbl) {
    return cm ? cm->allreduce(cm->user, buf, n, dbl) : TL_OK;
}

/* Append "step,loss" lines for the steps of one epoch (sl: per step the loss sum and hits of
 * the global batch) to the step log text. */
static void step_log_add(char *slog, size_t cap, size_t *len, const double *sl, size_t steps,
                         size_t first_step, size_t B, size_t used) {
    for (size_t s = 0; s < steps; s++) {
        const size_t nb = used - s * B < B ? used - s * B : B;
        int w = snprintf(slog + *len, cap - *len, "%zu,%.9g\n", first_step + s + 1, sl[2 * s] / (double)nb);
        if (w > 0 && (size_t)w < cap - *len) *len += (size_t)w;
    }
}

tl_status tl_nn_train(tl_nn *nn, const tl_nn_train_params *p, const float *x, const int *y,
                      size_t n, tl_nn_train_result *res) {
    tl_status st = TL_OK;
    int *yi = NULL, *yb = NULL;
    size_t *perm = NULL, *va_loc = NULL;
    double *sl = NULL;  /* per step of an epoch: loss sum, hits (summed over the processes) */
    char *slog = NULL;  /* the step log so far */
    size_t slog_len = 0, slog_cap = 0, slog_sent = 0;
    tl_wfile *slog_stream = NULL;
    nn_ckpt ck = {0};
    float *good = NULL, *best = NULL;
    char *log = NULL;
    size_t log_len = 0, log_cap = 0, log_sent = 0;
    tl_wfile *log_stream = NULL; /* the log when it is a stream, open for the run */
    tl_nn_trainer *trn = NULL;
    tl_nn_train_result r;
    memset(&r, 0, sizeof r);
    r.val_loss = r.val_acc = NAN;
    TL_CHECK(nn && x && y, TL_ERR_INVALID_ARG, "nn_train: NULL argument");
    TL_TRY(tl_nn_train_params_check(p));
    TL_CHECK(n >= 1, TL_ERR_EMPTY, "nn_train: no training samples");
    /* data-parallel: this process holds rows [lo, lo + n) of N; indices below are global */
    const tl_nn_comm *cm = p->comm && p->comm->size > 1 ? p->comm : NULL;
    size_t lo = 0, N = n;
    if (cm) { /* the rows of the processes before this one come first */
        TL_TRY(nn_comm_rows(cm, n, &lo, &N));
        TL_CHECK(!p->rows_total || p->rows_total == N, TL_ERR_SHAPE,
                 "nn_train: the processes hold %zu rows together, but rows_total says %zu", N,
                 p->rows_total);
        TL_CHECK(!p->crop_pad && !p->flip, TL_ERR_UNSUPPORTED,
                 "data-parallel training does not augment (crop/flip) yet: train without them");
    }
    const size_t d = nn_shape_size(nn->in), K = tl_nn_output_dim(nn);
    TL_CHECK((p->crop_pad == 0 && !p->flip) || (nn->in.h > 1 || nn->in.w > 1), TL_ERR_INVALID_ARG,
             "augmentation (crop/flip) needs image inputs, but the input is %zux%zux%zu",
             nn->in.c, nn->in.h, nn->in.w);
    for (size_t i = 0; i < n * d; i++)
        TL_CHECK(isfinite(x[i]), TL_ERR_NONFINITE, "nn_train: sample %zu, value %zu is %f",
                 i / d + 1, i % d + 1, (double)x[i]);
    TL_ALLOC(yi, n);
    TL_TRY(nn_map_labels(nn, y, n, yi));
    tl_ctx_apply_threads(p->ctx);

    /* split */
    tl_rng rng;
    tl_rng_seed(&rng, p->seed);
    TL_ALLOC(perm, N);
    for (size_t i = 0; i < N; i++) perm[i] = i;
    const size_t nval = (size_t)floor(p->val_fraction * (double)N);
    const size_t ntr = N - nval;
    TL_CHECK(ntr >= 1, TL_ERR_EMPTY, "nn_train: the validation split leaves no training samples");
    if (nval) tl_rng_shuffle(&rng, perm, N);
    size_t *tr = perm + nval, *va = perm, nva_loc = nval;
    if (cm && nval) { /* the validation rows this process holds, as local indices */
        TL_ALLOC(va_loc, nval);
        nva_loc = 0;
        for (size_t i = 0; i < nval; i++)
            if (va[i] >= lo && va[i] < lo + n) va_loc[nva_loc++] = va[i] - lo;
    }

    const size_t B = p->batch_size < ntr ? p->batch_size : ntr;
    /* the loop is steps of the trainer (trainer.c): forward, loss, backward, optimiser step */
    TL_TRY(tl_nn_trainer_create(nn, p, B, &trn));
    TL_TRY(nn_sync_attach(nn, cm));
    TL_ALLOC(yb, nn->cap);
    size_t total = 0;
    for (size_t i = 0; i < nn->nt; i++) total += nn->t[i].size;
    TL_ALLOC(good, total);
    snapshot(nn, good, true);
    if (p->patience) {
        TL_ALLOC(best, total);
        snapshot(nn, best, true);
    }
    if (p->log_csv) {
        log_cap = 128 + 160 * (p->epochs + 1);
        TL_ALLOC(log, log_cap);
        log_len = (size_t)snprintf(log, log_cap,
                                   "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_s\n");
    }

    /* a final batch of one sample would give batch norm a zero variance: leave it out */
    size_t steps_per_epoch = (ntr + B - 1) / B;
    size_t used = ntr;
    if (ntr % B == 1 && steps_per_epoch > 1) {
        steps_per_epoch--;
        used = ntr - 1;
    }
    const size_t total_steps = steps_per_epoch * p->epochs;
    double best_val = INFINITY, t_start = tli_seconds(), t_report = 0.0;
    size_t since_best = 0, step = 0, trained = 0, ep0 = 1;
    char stage[160];
    TL_ALLOC(sl, 2 * steps_per_epoch);
    if (p->step_log) {
        slog_cap = 64 + 32 * total_steps;
        TL_ALLOC(slog, slog_cap);
        slog_len = (size_t)snprintf(slog, slog_cap, "step,loss\n");
    }
    if (p->checkpoint && access(p->checkpoint, F_OK) == 0) { /* resume where it stopped */
        ck.rows = N;
        ck.perm = perm;
        TL_TRY(nn_ckpt_read(p->checkpoint, nn, best, best ? total : 0, &ck));
        TL_CHECK(ck.seed == p->seed && ck.epochs_done <= p->epochs &&
                     ck.step == ck.epochs_done * steps_per_epoch,
                 TL_ERR_STATE, "%s: a checkpoint of another run (%llu rows, seed %llu, %llu epochs "
                 "done) than this one (%zu rows, seed %llu, %zu epochs): remove it to start afresh",
                 p->checkpoint, (unsigned long long)ck.rows, (unsigned long long)ck.seed,
                 (unsigned long long)ck.epochs_done, N, (unsigned long long)p->seed, p->epochs);
        ep0 = nn_ckpt_resume(&ck, trn, &rng, &step, &since_best, &best_val, &r);
        if (log) log_len = (size_t)snprintf(log, log_cap, "%s", ck.log);
        if (slog) slog_len = (size_t)snprintf(slog, slog_cap, "%s", ck.slog);
        snapshot(nn, good, true);
        tl_log(p->ctx, TL_LOG_INFO, "resuming from %s after epoch %zu of %zu", p->checkpoint,
               ep0 - 1, p->epochs);
    }
    for (size_t ep = ep0; ep <= p->epochs; ep++) {
        const double t_ep = tli_seconds();
        if (p->shuffle) tl_rng_shuffle(&rng, tr, ntr);
        double sum_loss = 0.0, lr = p->lr;
        size_t hits_ep = 0, seen = 0;
        for (size_t s = 0; s < steps_per_epoch; s++, step++) {
            TL_TRY(tl_cancel_check(p->ctx, "training: epoch %zu of %zu, batch %zu of %zu", ep,
                                   p->epochs, s + 1, steps_per_epoch));
            const size_t b0 = s * B, nb = used - b0 < B ? used - b0 : B;
            size_t nl = 0; /* the rows of the global batch this process holds */
            for (size_t b = 0; b < nb; b++) {
                const size_t gi = tr[b0 + b];
                if (gi < lo || gi >= lo + n) continue;
                const float *src = x + (gi - lo) * d;
                float *dst = nn->a[0] + nl * d;
                if (p->crop_pad || p->flip) augment(src, dst, nn->in, p->crop_pad, p->flip, &rng);
                else memcpy(dst, src, d * sizeof(float));
                yb[nl++] = yi[gi - lo];
            }
            TL_TRY(tl_nn_trainer_forward(trn, nn->a[0], nl, p->seed * 0xD1B54A32D192ED03ULL + step));
            size_t h = 0;
            double loss = 0.0;
            if (nl) loss = batch_loss(nn, p, yb, nl, nn->g[nn->nl], &h);
            if (nl && nl < nb) { /* this process's share of the global batch's mean */
                const float f = (float)((double)nl / (double)nb);
                float *g = nn->g[nn->nl];
                for (size_t e = 0; e < nl * K; e++) g[e] *= f;
            }
            sl[2 * s] = loss * (double)nl;
            sl[2 * s + 1] = (double)h;
            if (!cm && !isfinite(loss)) { /* data-parallel: checked on the sums at the epoch's end */
                st = loss_stop(nn, good, &r, ep, s, loss, lr);
                goto done;
            }
            sum_loss += loss * (double)nl;
            hits_ep += h;
            seen += nl;
            TL_TRY(nn_trainer_backward_sum(trn, cm)); /* and the step's one all-reduce */
            lr = nn_schedule_lr(p, step, steps_per_epoch);
            TL_TRY(tl_nn_trainer_step(trn, lr));
            trained += nb;
            const double t = tli_seconds();
            if (p->ctx && p->ctx->progress && (t - t_report > 0.2 || step + 1 == total_steps)) {
                t_report = t;
                snprintf(stage, sizeof stage, "epoch %zu/%zu loss %.4f acc %.1f%% %.0f samples/s", ep,
                         p->epochs, sum_loss / (double)seen, 100.0 * (double)hits_ep / (double)seen,
                         (double)trained / (t - t_start));
                tl_progress(p->ctx, stage, (double)(step + 1) / (double)total_steps);
            }
        }
        if (cm) { /* the epoch's figures over all processes (one sum per epoch) */
            TL_TRY(sum_all(cm, sl, 2 * steps_per_epoch, true));
            sum_loss = 0.0;
            hits_ep = 0;
            seen = used;
            for (size_t s = 0; s < steps_per_epoch; s++) {
                sum_loss += sl[2 * s];
                hits_ep += (size_t)sl[2 * s + 1];
                if (!isfinite(sl[2 * s])) {
                    st = loss_stop(nn, good, &r, ep, s, sl[2 * s], lr);
                    goto done;
                }
            }
        }
        if (slog) {
            step_log_add(slog, slog_cap, &slog_len, sl, steps_per_epoch, step - steps_per_epoch, B, used);
            TL_TRY(nn_write_log(p->step_log, slog, &slog_sent, &slog_stream));
        }
        /* a finite loss can still come with an update that overflowed */
        for (size_t t = 0; t < nn->nt; t++)
            for (size_t k = 0; k < nn->t[t].size; k++)
                if (!isfinite(nn->t[t].data[k])) {
                    snapshot(nn, good, false);
                    r.nonfinite = true;
                    r.epochs_run = ep;
                    r.best_epoch = ep - 1;
                    st = tl_fail(TL_ERR_NONFINITE,
                                 "training stopped: %s became NaN or infinite in epoch %zu (lr %g); "
                                 "the model keeps the parameters from %s%.0zu",
                                 nn->t[t].name, ep, lr, ep > 1 ? "the end of epoch " : "before training",
                                 ep > 1 ? ep - 1 : 0);
                    goto done;
                }
        tl_nn_epoch e;
        e.epoch = ep;
        e.lr = lr;
        e.train_loss = sum_loss / (double)seen;
        e.train_acc = (double)hits_ep / (double)seen;
        e.val_loss = e.val_acc = e.domain_loss = NAN;
        const double t_train = tli_seconds() - t_ep;
        e.samples_per_s = (double)seen / t_train;
        if (nval && !cm) eval_rows(nn, p, x, yi, va, nval, yb, &e.val_loss, &e.val_acc);
        if (nval && cm) { /* each process scores the validation rows it holds; summed */
            double v[2] = {0.0, 0.0};
            if (nva_loc) {
                eval_rows(nn, p, x, yi, va_loc, nva_loc, yb, &v[0], &v[1]);
                v[0] *= (double)nva_loc;
                v[1] *= (double)nva_loc;
            }
            TL_TRY(sum_all(cm, v, 2, true));
            e.val_loss = v[0] / (double)nval;
            e.val_acc = v[1] / (double)nval;
        }
        e.seconds = tli_seconds() - t_ep;
        r.epochs_run = ep;
        r.train_loss = e.train_loss;
        r.train_acc = e.train_acc;
        r.steps = step;
        snapshot(nn, good, true);
        bool stop = false;
        if (nn_early_epoch(&r, ep, nval > 0, e.val_loss, e.val_acc, p->patience, &best_val,
                           &since_best, &stop) && best)
            snapshot(nn, best, true);
        {
            char val[64] = "";
            if (nval) snprintf(val, sizeof val, ", val loss %.4f, acc %.2f%%", e.val_loss, 100 * e.val_acc);
            tl_log(p->ctx, TL_LOG_INFO, "epoch %zu/%zu: lr %.4g, train loss %.4f, acc %.2f%%%s, %.1f s, "
                   "%.0f samples/s", ep, p->epochs, e.lr, e.train_loss, 100 * e.train_acc, val,
                   e.seconds, e.samples_per_s);
        }
        if (log) {
            int w = snprintf(log + log_len, log_cap - log_len, "%zu,%.6g,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f\n",
                             ep, e.lr, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.seconds,
                             e.samples_per_s);
            if (w > 0 && (size_t)w < log_cap - log_len) log_len += (size_t)w;
            TL_TRY(nn_write_log(p->log_csv, log, &log_sent, &log_stream));
        }
        if (p->checkpoint && (!cm || cm->rank == 0)) {
            nn_ckpt c = {N, p->seed, ep, step, *nn_trainer_opt_steps(trn), since_best, rng, best_val,
                         r, log, slog, perm};
            TL_TRY(nn_ckpt_write(p->checkpoint, nn, best, total, &c));
        }
        if (p->on_epoch) p->on_epoch(p->user, &e);
        if (stop) {
            r.stopped_early = true;
            break;
        }
    }
    if (best) snapshot(nn, best, false);
    if (log_stream) {
        tl_wfile *ls = log_stream;
        log_stream = NULL;
        TL_TRY(tl_wfile_commit(ls));
    }
    if (slog_stream) {
        tl_wfile *ls = slog_stream;
        slog_stream = NULL;
        TL_TRY(tl_wfile_commit(ls));
    }
    r.seconds = tli_seconds() - t_start;
    r.samples_per_s = r.seconds > 0 ? (double)trained / r.seconds : 0.0;
    (void)K;
done:
    if (nn) nn_sync_attach(nn, NULL);
    tl_nn_trainer_free(trn);
    if (nn) nn->train = false;
    if (res) *res = r;
    tl_free(yi);
    tl_free(yb);
    tl_free(perm);
    tl_free(good);
    tl_free(best);
    tl_free(log);
    tl_wfile_abort(log_stream);
    tl_free(va_loc);
    tl_free(sl);
    tl_free(slog);
    tl_free(ck.log);
    tl_free(ck.slog);
    tl_wfile_abort(slog_stream);
    return st;
}

tl_status tl_nn_train_split(const tl_nn_train_params *p, size_t n, size_t *val_rows, size_t *nval) {
    tl_status st = TL_OK;
    size_t *perm = NULL;
    TL_CHECK(p && nval, TL_ERR_INVALID_ARG, "nn_train_split: NULL argument");
    TL_TRY(tl_nn_train_params_check(p));
    /* the same draw as tl_nn_train: a seeded shuffle, the first nval rows held out */
    *nval = (size_t)floor(p->val_fraction * (double)n);
    if (*nval == 0 || !val_rows) goto done;
    TL_ALLOC(perm, n);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    tl_rng rng;
    tl_rng_seed(&rng, p->seed);
    tl_rng_shuffle(&rng, perm, n);
    memcpy(val_rows, perm, *nval * sizeof *val_rows);
done:
    tl_free(perm);
    return st;
}
