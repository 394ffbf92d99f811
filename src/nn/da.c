/* Deep domain adaptation on the step-level trainer (trainer.c): a network trained on labelled
 * source rows and unlabelled target rows at once, each step one batch of each domain, the
 * source's cross-entropy plus an adaptation loss on a feature layer:
 *   DANN  (Ganin et al., JMLR 2016): a domain discriminator (a head "grl,<disc>") on the
 *         feature layer, cross-entropy source 0 / target 1; the gradient reversal's coefficient
 *         follows lambda (2 / (1 + exp(-10 p)) - 1) over the progress p (or stays lambda);
 *   DAN   (Long et al., ICML 2015): lambda MK-MMD^2 of the two halves of the feature batch
 *         (linear-time estimate by default);
 *   CORAL (Sun & Saenko, 2016): lambda ||C_s - C_t||_F^2 / (4 d^2);
 *   CDAN  (Long et al., NeurIPS 2018): the discriminator reads the multilinear map of the
 *         features and the (detached) class probabilities; CDAN+E weights each sample by
 *         1 + exp(-H(p)).
 * Optional entropy minimisation of the target predictions. Early stopping on held-out source
 * rows (the target has no labels); a NaN or infinite loss or parameter stops the run with the
 * last good parameters (those of the last epoch that ended finite).
 * Reverse validation (Zhong et al., ECML 2010; the DANN paper's model selection): train on
 * 90 % of the source and the target, label the target with that network, train the same
 * initial network back from the pseudo-labelled target to the source rows (unlabelled), and
 * score it on the 10 % of source rows held out: a risk that needs no target label. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/parallel.h"
#include "internal/util.h"
#include "nn/nn_internal.h"

#define DA_LAYERS_MAX 4 /* feature layers one DAN / CORAL run adapts */

tl_nn_da_params tl_nn_da_params_default(void) {
    tl_nn_da_params p;
    memset(&p, 0, sizeof p);
    p.method = TL_NN_DA_DANN;
    p.lambda = 1.0;
    p.lambda_schedule = true;
    p.disc = "dense:2";
    p.mmd_kernels = 5;
    p.mmd_mul = 2.0;
    p.mmd_linear = true;
    p.train = tl_nn_train_params_default();
    return p;
}

tl_status tl_nn_da_parse(const char *s, tl_nn_da_method *out) {
    static const char *const w[] = {"none", "dann", "dan", "coral", "cdan", "cdan-e"};
    for (size_t i = 0; s && i < sizeof w / sizeof *w; i++)
        if (strcmp(s, w[i]) == 0) {
            *out = (tl_nn_da_method)i;
            return TL_OK;
        }
    return tl_fail(TL_ERR_INVALID_ARG, "unknown adaptation '%s' (none, dann, dan, coral, cdan, cdan-e)",
                   s ? s : "(null)");
}

const char *tl_nn_da_name(tl_nn_da_method m) {
    static const char *const w[] = {"none", "dann", "dan", "coral", "cdan", "cdan-e"};
    return (unsigned)m < sizeof w / sizeof *w ? w[m] : "?";
}

/* DAN's grid reaches a half-decade below 0.1: over the 12 Amazon pairs reverse validation chose
 * 0.1, the lowest of {0.1, 0.316, 1, 3.16}, on 10 (a choice at the grid's edge), 3.16 on none. */
const double *tl_nn_da_lambda_grid(tl_nn_da_method m, size_t *n) {
    static const double dann[] = {0.01, 0.0316, 0.1, 0.316, 1}, dan[] = {0.0316, 0.1, 0.316, 1},
                        coral[] = {3000, 10000, 30000, 100000}, cdan[] = {0.1, 0.316, 1};
    switch (m) {
    case TL_NN_DA_DAN: *n = sizeof dan / sizeof *dan; return dan;
    case TL_NN_DA_CORAL: *n = sizeof coral / sizeof *coral; return coral;
    case TL_NN_DA_CDAN:
    case TL_NN_DA_CDAN_E: *n = sizeof cdan / sizeof *cdan; return cdan;
    default: *n = sizeof dann / sizeof *dann; return dann;
    }
}

tl_status tl_nn_da_params_check(const tl_nn_da_params *p) {
    if (!p) return tl_fail(TL_ERR_INVALID_ARG, "adaptation parameters: NULL");
    if ((unsigned)p->method > TL_NN_DA_CDAN_E)
        return tl_fail(TL_ERR_INVALID_ARG, "unknown adaptation %d", (int)p->method);
    if (!(p->lambda >= 0 && p->lambda <= 1e6))
        return tl_fail(TL_ERR_INVALID_ARG, "adaptation weight lambda = %g: must be in [0, 1e6]", p->lambda);
    if (!(p->entropy >= 0 && p->entropy <= 1e6))
        return tl_fail(TL_ERR_INVALID_ARG, "entropy weight = %g: must be in [0, 1e6]", p->entropy);
    if (p->method == TL_NN_DA_DAN && (p->mmd_kernels < 1 || p->mmd_kernels > 32 || !(p->mmd_mul > 1)))
        return tl_fail(TL_ERR_INVALID_ARG, "MK-MMD: %zu kernels (1..32), multiplier %g (> 1)",
                       p->mmd_kernels, p->mmd_mul);
    return tl_nn_train_params_check(&p->train);
}

/* Softmax rows of z (B, K) into P. */
static void softmax_rows(const float *z, size_t B, size_t K, float *P) {
    for (size_t i = 0; i < B; i++) {
        const float *r = z + i * K;
        double mx = r[0], s = 0;
        for (size_t k = 1; k < K; k++) mx = r[k] > mx ? r[k] : mx;
        for (size_t k = 0; k < K; k++) s += exp((double)r[k] - mx);
        for (size_t k = 0; k < K; k++) P[i * K + k] = (float)(exp((double)r[k] - mx) / s);
    }
}

/* A NaN or infinite loss (source `loss`, adaptation `la`) at step s (0-based) of epoch ep: the
 * network gets back the last good parameters, r says so, the error names epoch, step, lambda. */
static tl_status da_loss_stop(tl_nn *nn, const float *good, tl_nn_train_result *r,
                              tl_nn_da_method m, size_t ep, size_t s, double loss, double la,
                              double lam, double lr) {
    memcpy(nn->pblock, good, nn->p_total * sizeof *good);
    r->nonfinite = true;
    r->epochs_run = ep;
    r->best_epoch = ep - 1;
    return tl_fail(TL_ERR_NONFINITE,
                   "adaptation (%s) stopped: the %s loss became %s at epoch %zu, step %zu "
                   "(lambda %g, lr %g); the model keeps the parameters from %s%.0zu",
                   tl_nn_da_name(m), isfinite(loss) ? "adaptation" : "source",
                   isnan(isfinite(loss) ? la : loss) ? "NaN" : "infinite", ep, s + 1, lam, lr,
                   ep > 1 ? "the end of epoch " : "before training", ep > 1 ? ep - 1 : 0);
}

/* xs, xt dense rows, or (xs, xt NULL) cs, ct CSR rows: tl_nn_da_train and tl_nn_da_train_csr */
static tl_status da_train(tl_nn *nn, const tl_nn_da_params *p, const float *xs, const tl_csr *cs, const int *ys,
                          size_t ns, const float *xt, const tl_csr *ct, size_t nt, tl_nn_train_result *res) {
    tl_status st = TL_OK;
    tl_nn_trainer *tr = NULL;
    tli_thread_scope one_thread = {0}; /* set when one thread is worth more than several */
    int *yi = NULL, *yb = NULL, *yv = NULL;
    size_t *perm = NULL, *tperm = NULL, *pos = NULL; /* pos: batch places of this process's rows */
    float *good = NULL, *best = NULL, *xv = NULL, *P = NULL, *Tm = NULL, *w = NULL;
    double *sl = NULL; /* per step of an epoch: source loss sum, hits, adaptation loss share */
    char *slog = NULL;
    size_t slog_len = 0, slog_cap = 0, slog_sent = 0;
    tl_wfile *slog_stream = NULL;
    nn_rows rs = {0}, rt = {0}, rb = {0}; /* sparse rows: source, target, a batch */
    tl_nn_train_result r;
    memset(&r, 0, sizeof r);
    r.val_loss = r.val_acc = NAN;
    TL_CHECK(nn && (xs || cs) && ys && (xt || ct || nt == 0), TL_ERR_INVALID_ARG, "nn_da_train: NULL argument");
    TL_TRY(tl_nn_da_params_check(p));
    const tl_nn_train_params *tp = &p->train;
    const bool adapt = p->method != TL_NN_DA_NONE && (p->lambda > 0 || p->entropy > 0);
    TL_CHECK(ns >= 2, TL_ERR_EMPTY, "nn_da_train: %zu source rows (at least 2)", ns);
    TL_CHECK(!adapt || nt >= 2, TL_ERR_EMPTY, "adaptation (%s): %zu unlabelled target rows (at least 2)",
             tl_nn_da_name(p->method), nt);
    /* data-parallel: this process holds source rows [ls, ls + ns) of NS and target rows
     * [lt, lt + nt) of NT; the sample order is drawn over the global indices, so every process
     * takes the steps one process would take and keeps the rows of each batch it holds */
    const tl_nn_comm *cm = tp->comm && tp->comm->size > 1 ? tp->comm : NULL;
    size_t ls = 0, lt = 0, NS = ns, NT = nt;
    if (cm) { /* every method: the losses that span the batch are da_dist.c's */
        TL_TRY(nn_comm_rows(cm, ns, &ls, &NS));
        TL_TRY(nn_comm_rows(cm, nt, &lt, &NT));
    }
    const size_t d = nn_shape_size(nn->in), K = tl_nn_output_dim(nn);
    if (cs) { /* checked as they are converted */
        TL_TRY(nn_rows_from_csr(*cs, d, "source", &rs));
        if (adapt) TL_TRY(nn_rows_from_csr(*ct, d, "target", &rt));
    }
    for (size_t i = 0; !cs && i < ns * d; i++)
        TL_CHECK(isfinite(xs[i]), TL_ERR_NONFINITE, "nn_da_train: source sample %zu, value %zu is %f",
                 i / d + 1, i % d + 1, (double)xs[i]);
    for (size_t i = 0; !cs && adapt && i < nt * d; i++)
        TL_CHECK(isfinite(xt[i]), TL_ERR_NONFINITE, "nn_da_train: target sample %zu, value %zu is %f",
                 i / d + 1, i % d + 1, (double)xt[i]);
    TL_ALLOC(yi, ns);
    TL_TRY(nn_map_labels(nn, ys, ns, yi));
    /* the feature layers: one, or for DAN and CORAL a list whose losses add up (DAN adapts
     * fc6-fc8 of AlexNet, the classifier's output among them; Deep CORAL its output fc8) */
    size_t feat[DA_LAYERS_MAX], nfeat = 0;
    if (p->layer && p->layer[0]) {
        char list[DA_LAYERS_MAX * NN_NAME_MAX], *save = NULL;
        TL_CHECK(strlen(p->layer) < sizeof list, TL_ERR_INVALID_ARG, "adaptation layer list too long");
        snprintf(list, sizeof list, "%s", p->layer);
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            TL_CHECK(nfeat < DA_LAYERS_MAX, TL_ERR_INVALID_ARG, "adaptation layers '%s': at most %d",
                     p->layer, DA_LAYERS_MAX);
            st = tl_nn_layer_find(nn, tok, &feat[nfeat++]);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "adaptation layer");
                goto done;
            }
        }
        TL_CHECK(nfeat > 0, TL_ERR_INVALID_ARG, "adaptation layers '%s': no layer named", p->layer);
        TL_CHECK(nfeat == 1 || !adapt || p->method == TL_NN_DA_DAN || p->method == TL_NN_DA_CORAL,
                 TL_ERR_INVALID_ARG, "adaptation (%s) reads one feature layer; a list (%s) is for "
                 "dan and coral", tl_nn_da_name(p->method), p->layer);
    } else {
        st = tl_nn_embed_layer(nn, &feat[nfeat++]);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "adaptation (%s)", tl_nn_da_name(p->method));
            goto done;
        }
    }
    char featname[DA_LAYERS_MAX][NN_NAME_MAX];
    for (size_t l = 0; l < nfeat; l++) snprintf(featname[l], NN_NAME_MAX, "%s", nn->layers[feat[l]].name);
    const size_t fd = nn_shape_size(nn->layers[feat[0]].out);

    /* the source split, drawn as tl_nn_train draws it */
    tl_rng rng;
    tl_rng_seed(&rng, tp->seed);
    TL_ALLOC(perm, NS);
    for (size_t i = 0; i < NS; i++) perm[i] = i;
    const size_t nval = (size_t)floor(tp->val_fraction * (double)NS), ntr = NS - nval;
    TL_CHECK(ntr >= 2, TL_ERR_EMPTY, "nn_da_train: the validation split leaves %zu source rows", ntr);
    if (nval) tl_rng_shuffle(&rng, perm, NS);
    size_t *trr = perm + nval;
    const size_t bs = tp->batch_size < ntr ? tp->batch_size : ntr;
    /* bag-of-words rows go to the first layer as CSR: no dense copy or scan of a batch */
    if (!cs) TL_TRY(nn_rows_from_dense(nn, xs, ns, d, &rs));
    if (!cs && rs.n && adapt) TL_TRY(nn_rows_from_dense(nn, xt, nt, d, &rt));
    if (rs.n && (!adapt || rt.n))
        TL_TRY(nn_rows_reserve(&rb, adapt ? 2 * bs : bs, rs.maxrow > rt.maxrow ? rs.maxrow : rt.maxrow, d));
    tl_ctx c1 = tp->ctx ? *tp->ctx : tl_ctx_default();
    tl_nn_train_params tp1 = *tp; /* the trainer's settings: one thread when that is faster */
    tl_ctx_apply_threads(tp->ctx);
    if (rs.n && nn_rows_threads(nn, &rs, adapt ? 2 * bs : bs, nn_threads()) == 1) {
        one_thread = tli_threads_enter_n(1); /* restored when the training ends */
        c1.threads = 1;
        tp1.ctx = &c1;
    }
    TL_TRY(tl_nn_trainer_create(nn, &tp1, adapt ? 2 * bs : bs, &tr));
    TL_TRY(nn_sync_attach(nn, cm));
    const char *head = NULL;
    tl_nn *hn = NULL; /* the discriminator */
    if (adapt && (p->method == TL_NN_DA_DANN || p->method == TL_NN_DA_CDAN || p->method == TL_NN_DA_CDAN_E)) {
        const char *disc = p->disc && p->disc[0] ? p->disc : "dense:2";
        char arch[512];
        TL_CHECK(strlen(disc) < sizeof arch - 8, TL_ERR_INVALID_ARG, "discriminator too long");
        snprintf(arch, sizeof arch, "grl,%s", disc);
        head = "domain";
        if (p->method == TL_NN_DA_DANN) {
            TL_TRY(tl_nn_trainer_add_head(tr, head, featname[0], arch, tp->seed + 7, NULL));
        } else {
            TL_TRY(tl_nn_trainer_add_input_head(tr, head, fd * K, 1, 1, arch, tp->seed + 7, NULL));
            TL_ALLOC(Tm, 2 * bs * fd * K);
            TL_ALLOC(w, 2 * bs);
        }
        TL_TRY(tl_nn_trainer_head(tr, head, &hn));
        TL_TRY(nn_sync_attach(hn, cm));
        TL_CHECK(tl_nn_output_dim(hn) == 2, TL_ERR_SHAPE,
                 "the domain discriminator '%s' has %zu outputs; it needs 2 (source, target)", disc,
                 tl_nn_output_dim(hn));
    }
    if (adapt) {
        TL_ALLOC(tperm, NT);
        for (size_t i = 0; i < NT; i++) tperm[i] = i;
        tl_rng_shuffle(&rng, tperm, NT);
        TL_ALLOC(P, 2 * bs * K);
        if (cm) TL_ALLOC(pos, 2 * bs);
    }
    TL_ALLOC(yb, 2 * bs);
    TL_ALLOC(good, nn->p_total);
    memcpy(good, nn->pblock, nn->p_total * sizeof *good);
    size_t nvl = 0; /* the held-out source rows this process holds */
    if (nval) {
        TL_ALLOC(xv, nval * d);
        TL_ALLOC(yv, nval);
        for (size_t i = 0; i < nval; i++) {
            if (perm[i] < ls || perm[i] >= ls + ns) continue;
            if (cs) nn_rows_dense_row(&rs, perm[i] - ls, xv + nvl * d);
            else memcpy(xv + nvl * d, xs + (perm[i] - ls) * d, d * sizeof *xv);
            yv[nvl++] = ys[perm[i] - ls];
        }
        if (tp->patience) {
            TL_ALLOC(best, nn->p_total);
            memcpy(best, good, nn->p_total * sizeof *best);
        }
    }
    size_t spe = (ntr + bs - 1) / bs, used = ntr;
    if (ntr % bs == 1 && spe > 1) {
        spe--;
        used = ntr - 1;
    }
    const size_t total = spe * tp->epochs;
    size_t step = 0, tcur = 0, since = 0, trained = 0, ep0 = 1;
    double best_val = INFINITY, t0 = tli_seconds();
    TL_ALLOC(sl, 3 * spe);
    if (tp->step_log) {
        slog_cap = 64 + 32 * total;
        TL_ALLOC(slog, slog_cap);
        slog_len = (size_t)snprintf(slog, slog_cap, "step,loss\n");
    }
    if (nn_da_ckpt_exists(tp->checkpoint)) { /* resume where it stopped (da_dist.c) */
        nn_ckpt ck = {0};
        TL_TRY(nn_da_ckpt_read(tp->checkpoint, nn, hn, best, &ck, p->method, perm, NS, tperm,
                               adapt ? NT : 0, &tcur));
        const bool same = ck.seed == tp->seed && ck.epochs_done <= tp->epochs && ck.step == ck.epochs_done * spe;
        if (same && slog) slog_len = (size_t)snprintf(slog, slog_cap, "%s", ck.slog);
        tl_free(ck.log);
        tl_free(ck.slog);
        TL_CHECK(same, TL_ERR_STATE, "%s: a checkpoint of another run (seed %llu, %llu epochs done) "
                 "than this one (seed %llu, %zu epochs): remove it to start afresh", tp->checkpoint,
                 (unsigned long long)ck.seed, (unsigned long long)ck.epochs_done,
                 (unsigned long long)tp->seed, tp->epochs);
        ep0 = nn_ckpt_resume(&ck, tr, &rng, &step, &since, &best_val, &r);
        memcpy(good, nn->pblock, nn->p_total * sizeof *good);
        tl_log(tp->ctx, TL_LOG_INFO, "%s: resuming from %s after epoch %zu of %zu", tl_nn_da_name(p->method),
               tp->checkpoint, ep0 - 1, tp->epochs);
    }
    for (size_t ep = ep0; ep <= tp->epochs; ep++) {
        if (tp->shuffle) tl_rng_shuffle(&rng, trr, ntr);
        double sum = 0, lr = tp->lr, dsum = 0; /* dsum: the adaptation losses / lambda */
        size_t hits = 0, seen = 0, dsteps = 0;
        const double t_ep = tli_seconds();
        for (size_t s = 0; s < spe; s++, step++) {
            const size_t b0 = s * bs, nb = used - b0 < bs ? used - b0 : bs;
            float *in = tl_nn_trainer_input(tr);
            size_t nls = 0, nlt = 0; /* the batch's source and target rows this process holds */
            rb.n = 0;
            for (size_t b = 0; b < nb; b++) {
                const size_t g = trr[b0 + b];
                if (g < ls || g >= ls + ns) continue;
                if (pos) pos[nls] = b;
                if (rb.ptr) nn_rows_append(&rb, &rs, g - ls);
                else memcpy(in + nls * d, xs + (g - ls) * d, d * sizeof *in);
                yb[nls++] = yi[g - ls];
            }
            size_t B = nls;
            if (adapt) { /* as many target rows, drawn without replacement, reshuffled each pass */
                for (size_t b = 0; b < nb; b++) {
                    if (tcur == NT) {
                        tl_rng_shuffle(&rng, tperm, NT);
                        tcur = 0;
                    }
                    const size_t g = tperm[tcur++];
                    if (g < lt || g >= lt + nt) continue;
                    if (pos) pos[nls + nlt] = b;
                    if (rb.ptr) nn_rows_append(&rb, &rt, g - lt);
                    else memcpy(in + (nls + nlt) * d, xt + (g - lt) * d, d * sizeof *in);
                    nlt++;
                }
                B = nls + nlt;
            }
            if (rb.ptr) nn_rows_give(nn, &rb, in);
            /* each process's losses are its share of the global batch's means */
            const double fs = (double)nls / (double)nb, ft = (double)nlt / (double)nb,
                         fb = (double)B / (double)(adapt ? 2 * nb : nb);
            const double prog = (double)step / (double)total;
            const double lam = p->lambda * (p->lambda_schedule ? tl_nn_dann_lambda(prog) : 1.0);
            tl_nn_trainer_set_grl(tr, lam);
            TL_TRY(tl_nn_trainer_forward(tr, in, B, tp->seed * 0xD1B54A32D192ED03ULL + step));
            const float *out;
            float *dout;
            TL_TRY(tl_nn_trainer_output(tr, NULL, &out, &dout, NULL));
            size_t h = 0;
            double loss = nls ? tl_nn_loss_xent(out, yb, NULL, nls, K, fs, dout, &h) : 0.0, la = 0;
            if (adapt && p->entropy > 0 && nlt)
                la += ft * p->entropy *
                      tl_nn_loss_entropy(out + nls * K, NULL, nlt, K, ft * p->entropy, dout + nls * K);
            if (adapt && p->lambda > 0) {
                for (size_t b = 0; b < B; b++) yb[b] = b >= nls; /* domain labels */
                const float *f;
                float *gf;
                switch (p->method) {
                case TL_NN_DA_DANN: {
                    const float *dz;
                    float *ddz;
                    TL_TRY(tl_nn_trainer_output(tr, head, &dz, &ddz, NULL));
                    if (B) la += fb * lam * tl_nn_loss_xent(dz, yb, NULL, B, 2, fb, ddz, NULL);
                    break;
                }
                case TL_NN_DA_DAN:
                case TL_NN_DA_CORAL:
                    for (size_t l = 0; l < nfeat; l++) {
                        size_t m;
                        double v;
                        TL_TRY(tl_nn_trainer_tap(tr, featname[l], &f, &gf, &m));
                        TL_TRY(nn_da_stat_loss(cm, p, lam, f, gf, m, nls, nlt, nb, pos, &v));
                        la += v;
                    }
                    break;
                default: { /* CDAN, CDAN+E */
                    const float *dz, *dT;
                    float *ddz;
                    TL_TRY(tl_nn_trainer_tap(tr, featname[0], &f, &gf, NULL));
                    softmax_rows(out, B, K, P);
                    tl_nn_cdan_map(f, P, B, fd, K, Tm);
                    TL_TRY(tl_nn_trainer_head_forward(tr, head, Tm));
                    TL_TRY(tl_nn_trainer_output(tr, head, &dz, &ddz, NULL));
                    if (p->method == TL_NN_DA_CDAN_E) TL_TRY(nn_da_cdan_weights(cm, P, nls, nlt, nb, K, w));
                    if (B) /* each process its share of the batch mean (fb = 1: one process) */
                        la += fb * lam * tl_nn_loss_xent(dz, yb, p->method == TL_NN_DA_CDAN_E ? w : NULL,
                                                         B, 2, fb, ddz, NULL);
                    TL_TRY(tl_nn_trainer_head_backward(tr, head, &dT)); /* reversed by the grl */
                    tl_nn_cdan_map_backward(f, P, dT, B, fd, K, gf, NULL);
                    break;
                }
                }
                if (!cm && lam > 0) dsum += la / lam, dsteps++; /* the epoch's curve */
            }
            sl[3 * s] = loss * (double)nls;
            sl[3 * s + 1] = (double)h;
            sl[3 * s + 2] = la;
            if (!cm && (!isfinite(loss) || !isfinite(la))) { /* data-parallel: on the sums below */
                st = da_loss_stop(nn, good, &r, p->method, ep, s, loss, la, lam, lr);
                goto done;
            }
            sum += loss * (double)nls;
            hits += h;
            seen += nls;
            /* over processes: trunk's and heads' gradients summed (one all-reduce, or the
             * buckets of TL_MPI_GRADS) */
            TL_TRY(nn_trainer_backward_sum(tr, cm));
            lr = nn_schedule_lr(tp, step, spe);
            TL_TRY(tl_nn_trainer_step(tr, lr));
            trained += adapt ? 2 * nb : nb;
        }
        if (cm) { /* the epoch's figures over all processes */
            TL_TRY(cm->allreduce(cm->user, sl, 3 * spe, true));
            sum = 0;
            hits = 0;
            seen = used;
            for (size_t s = 0; s < spe; s++) {
                sum += sl[3 * s];
                hits += (size_t)sl[3 * s + 1];
                if (!isfinite(sl[3 * s]) || !isfinite(sl[3 * s + 2])) {
                    const double lp = (double)(step - spe + s) / (double)total;
                    st = da_loss_stop(nn, good, &r, p->method, ep, s, sl[3 * s], sl[3 * s + 2],
                                      p->lambda * (p->lambda_schedule ? tl_nn_dann_lambda(lp) : 1.0),
                                      nn_schedule_lr(tp, step - spe + s, spe));
                    goto done;
                }
            }
        }
        if (slog) { /* the source loss plus the adaptation loss of each step's global batch */
            for (size_t s = 0; s < spe; s++) {
                const size_t nb = used - s * bs < bs ? used - s * bs : bs;
                int wr = snprintf(slog + slog_len, slog_cap - slog_len, "%zu,%.9g\n", step - spe + s + 1,
                                  sl[3 * s] / (double)nb + sl[3 * s + 2]);
                if (wr > 0 && (size_t)wr < slog_cap - slog_len) slog_len += (size_t)wr;
            }
            TL_TRY(nn_write_log(tp->step_log, slog, &slog_sent, &slog_stream));
        }
        if (!tl_nn_trainer_finite(tr)) {
            memcpy(nn->pblock, good, nn->p_total * sizeof *good);
            r.nonfinite = true;
            r.epochs_run = ep;
            r.best_epoch = ep - 1;
            st = tl_fail(TL_ERR_NONFINITE,
                         "adaptation (%s) stopped: a parameter became NaN or infinite in epoch %zu "
                         "(lr %g); the model keeps the parameters from %s%.0zu",
                         tl_nn_da_name(p->method), ep, lr, ep > 1 ? "the end of epoch " : "before training",
                         ep > 1 ? ep - 1 : 0);
            goto done;
        }
        memcpy(good, nn->pblock, nn->p_total * sizeof *good);
        r.epochs_run = ep;
        r.train_loss = sum / (double)seen;
        r.train_acc = (double)hits / (double)seen;
        r.steps = step;
        bool stop = false;
        double vl = NAN, va = NAN;
        if (nval) {
            if (!cm) TL_TRY(tl_nn_evaluate(nn, xv, yv, nval, &va, &vl));
            else { /* each process scores the held-out rows it holds; summed */
                double v[2] = {0, 0};
                if (nvl) {
                    TL_TRY(tl_nn_evaluate(nn, xv, yv, nvl, &v[1], &v[0]));
                    v[0] *= (double)nvl;
                    v[1] *= (double)nvl;
                }
                TL_TRY(cm->allreduce(cm->user, v, 2, true));
                vl = v[0] / (double)nval;
                va = v[1] / (double)nval;
            }
        }
        if (nn_early_epoch(&r, ep, nval > 0, vl, va, tp->patience, &best_val, &since, &stop) && best)
            memcpy(best, nn->pblock, nn->p_total * sizeof *best);
        {
            char val[64] = "";
            if (nval) snprintf(val, sizeof val, ", source val loss %.4f, acc %.2f%%", vl, 100 * va);
            tl_log(tp->ctx, TL_LOG_INFO, "%s epoch %zu/%zu: source loss %.4f, acc %.2f%%%s",
                   tl_nn_da_name(p->method), ep, tp->epochs, r.train_loss, 100 * r.train_acc, val);
        }
        if (tp->on_epoch) { /* the learning curve (tl finetune --da --report) */
            const double sec = tli_seconds() - t_ep;
            tl_nn_epoch e = {ep, lr, r.train_loss, r.train_acc, vl, va, sec,
                             sec > 0 ? (double)(adapt ? 2 * seen : seen) / sec : 0,
                             dsteps ? dsum / (double)dsteps : NAN};
            tp->on_epoch(tp->user, &e);
        }
        if (tp->checkpoint && (!cm || cm->rank == 0)) { /* rank 0 writes it, atomically */
            nn_ckpt c = {NS, tp->seed, ep, step, *nn_trainer_opt_steps(tr), since, rng, best_val, r,
                         NULL, slog, perm};
            TL_TRY(nn_da_ckpt_write(tp->checkpoint, nn, hn, best, &c, p->method, NS, tperm,
                                    adapt ? NT : 0, tcur));
        }
        if (stop) {
            r.stopped_early = true;
            break;
        }
    }
    if (best) memcpy(nn->pblock, best, nn->p_total * sizeof *best);
    r.seconds = tli_seconds() - t0;
    r.samples_per_s = r.seconds > 0 ? (double)trained / r.seconds : 0;
    if (slog_stream) {
        tl_wfile *ls2 = slog_stream;
        slog_stream = NULL;
        TL_TRY(tl_wfile_commit(ls2));
    }
done:
    tli_threads_leave(one_thread);
    if (nn) nn_sync_attach(nn, NULL);
    tl_nn_trainer_free(tr);
    if (res) *res = r;
    tl_free(sl);
    tl_free(slog);
    tl_wfile_abort(slog_stream);
    tl_free(yi);
    tl_free(yb);
    tl_free(yv);
    tl_free(perm);
    tl_free(tperm);
    tl_free(pos);
    tl_free(good);
    tl_free(best);
    tl_free(xv);
    tl_free(P);
    tl_free(Tm);
    tl_free(w);
    nn_rows_free(&rs);
    nn_rows_free(&rt);
    nn_rows_free(&rb);
    return st;
}

tl_status tl_nn_da_train(tl_nn *nn, const tl_nn_da_params *p, const float *xs, const int *ys,
                         size_t ns, const float *xt, size_t nt, tl_nn_train_result *res) {
    return da_train(nn, p, xs, NULL, ys, ns, xt, NULL, nt, res);
}

tl_status tl_nn_da_train_csr(tl_nn *nn, const tl_nn_da_params *p, tl_csr xs, const int *ys, tl_csr xt,
                             tl_nn_train_result *res) {
    return da_train(nn, p, NULL, &xs, ys, xs.rows, NULL, &xt, xt.rows, res);
}

tl_status tl_nn_da_reverse_risk(const tl_nn *init, const tl_nn_da_params *p, const float *xs,
                                const int *ys, size_t ns, const float *xt, size_t nt, double *risk) {
    tl_status st = TL_OK;
    tl_nn *fwd = NULL, *rev = NULL;
    size_t *perm = NULL;
    float *xa = NULL, *xv = NULL;
    int *ya = NULL, *yv = NULL, *yt = NULL, *pv = NULL;
    TL_CHECK(init && p && xs && ys && xt && risk, TL_ERR_INVALID_ARG, "nn_da_reverse_risk: NULL argument");
    const size_t d = tl_nn_input_dim(init), nv = ns / 10, na = ns - nv;
    TL_CHECK(nv >= 1 && na >= 2 && nt >= 2, TL_ERR_EMPTY,
             "reverse validation: %zu source rows and %zu target rows are too few", ns, nt);
    /* the 90/10 source split, seeded apart from the training's own split */
    tl_rng rng;
    tl_rng_seed(&rng, p->train.seed ^ 0x5851F42D4C957F2DULL);
    TL_ALLOC(perm, ns);
    for (size_t i = 0; i < ns; i++) perm[i] = i;
    tl_rng_shuffle(&rng, perm, ns);
    TL_ALLOC(xa, na * d);
    TL_ALLOC(ya, na);
    TL_ALLOC(xv, nv * d);
    TL_ALLOC(yv, nv);
    TL_ALLOC(pv, nv);
    TL_ALLOC(yt, nt);
    for (size_t i = 0; i < nv; i++) {
        memcpy(xv + i * d, xs + perm[i] * d, d * sizeof *xv);
        yv[i] = ys[perm[i]];
    }
    for (size_t i = 0; i < na; i++) {
        memcpy(xa + i * d, xs + perm[nv + i] * d, d * sizeof *xa);
        ya[i] = ys[perm[nv + i]];
    }
    tl_nn_da_params q = *p;
    q.train.checkpoint = q.train.step_log = NULL; /* the final run's, not these two's */
    TL_TRY(tl_nn_clone(init, &fwd));
    TL_TRY(tl_nn_da_train(fwd, &q, xa, ya, na, xt, nt, NULL));
    TL_TRY(tl_nn_predict(fwd, xt, nt, yt));
    TL_TRY(tl_nn_clone(init, &rev));
    TL_TRY(tl_nn_da_train(rev, &q, xt, yt, nt, xa, na, NULL));
    TL_TRY(tl_nn_predict(rev, xv, nv, pv));
    size_t wrong = 0;
    for (size_t i = 0; i < nv; i++) wrong += pv[i] != yv[i];
    *risk = (double)wrong / (double)nv;
done:
    tl_nn_free(fwd);
    tl_nn_free(rev);
    tl_free(perm);
    tl_free(xa);
    tl_free(xv);
    tl_free(ya);
    tl_free(yv);
    tl_free(yt);
    tl_free(pv);
    return st;
}

tl_status tl_nn_da_select(const tl_nn *init, const tl_nn_da_params *p, const double *lambdas,
                          size_t nl, const double *lrs, size_t nlr, const float *xs, const int *ys,
                          size_t ns, const float *xt, size_t nt, double *lambda, double *lr,
                          double *risk) {
    tl_status st = TL_OK;
    TL_CHECK(init && p && lambdas && nl && lambda && lr, TL_ERR_INVALID_ARG, "nn_da_select: NULL argument");
    double best = INFINITY;
    *lambda = lambdas[0];
    *lr = lrs && nlr ? lrs[0] : p->train.lr;
    const size_t m = lrs && nlr ? nlr : 1;
    for (size_t j = 0; j < m; j++)
        for (size_t i = 0; i < nl; i++) {
            tl_nn_da_params q = *p;
            q.lambda = lambdas[i];
            if (lrs && nlr) q.train.lr = lrs[j];
            double rk;
            st = tl_nn_da_reverse_risk(init, &q, xs, ys, ns, xt, nt, &rk);
            if (st == TL_ERR_NONFINITE) { /* a diverging setting is not a candidate */
                st = TL_OK;
                continue;
            }
            if (st != TL_OK) goto done;
            tl_log(p->train.ctx, TL_LOG_INFO, "reverse validation: lambda %g, lr %g: risk %.4f",
                   q.lambda, q.train.lr, rk);
            /* the risk counts errors on a tenth of the source, so equal risks are common: a tie
             * keeps the caller's own rate (p->train.lr) over another (on Amazon B->E lr 0.001
             * tied lr 0.01 at 0.195 and its final training stopped after 10 epochs at 57.9 %) */
            const bool own = lrs && nlr && rk == best && q.train.lr == p->train.lr && *lr != p->train.lr;
            if (rk < best || own) {
                best = rk;
                *lambda = q.lambda;
                *lr = q.train.lr;
            }
        }
    TL_CHECK(isfinite(best), TL_ERR_NONFINITE, "reverse validation: every setting diverged");
    if (risk) *risk = best;
done:
    return st;
}
