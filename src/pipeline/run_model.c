/* The transfer protocol for the model family (fine-tuning a pre-trained network), called by
 * tl_transfer_run: the same report, baselines and guard as the other families, in the terms a
 * network transfer has.
 *   - the transfer: the method fitted on the task (the source domain's network, the target's
 *     labelled rows), scored on the target's test rows;
 *   - source only: the pre-trained network as it is, when its classes cover the scored labels;
 *   - target only: the same architecture trained from scratch on the same rows with the same
 *     training settings (no freezing, no L2-SP), the baseline a fine-tuning must beat;
 *   - the guard: on the rows the training holds out for validation (val-split), the fine-tuned
 *     network against chance and against the scratch network (tl_guard_labelled); without a
 *     validation split it says it has no evidence ("unsure"), and the test rows, which a user may
 *     not have, are never its evidence. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/parallel.h"
#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"

/* pred (n) of `nn` on rows x; acc on labels y (NaN without). */
static tl_status predict_score(tl_nn *nn, const float *x, const int *y, size_t n, int *pred,
                               tl_score *s) {
    tl_status st = TL_OK;
    if (n) TL_TRY(tl_nn_predict(nn, x, n, pred));
    TL_TRY(tlx_score(y, pred, n, s));
done:
    return st;
}

/* Every label of y (n) is among the network's outputs. */
static bool labels_covered(const tl_nn *nn, const int *y, size_t n) {
    const int *lab = tl_nn_labels(nn);
    size_t k = tl_nn_output_dim(nn);
    if (!lab || !y) return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < k && !found; j++) found = lab[j] == y[i];
        if (!found) return false;
    }
    return true;
}

/* The end of a network's run, shared by fine-tuning and deep adaptation: the report's description
 * (method, names, the network's architecture, the parameters and what the fit settled on) and, when
 * pipe is not NULL, the pipeline around the fitted model (no scaling, no learner), which takes
 * *model over. The callers fill the row counts and the scores. */
tl_status tlx_model_report_finish(tl_report *rep, const tl_task *task, const tl_params *method,
                                  const char *source, const char *target, const char *evaluated_on,
                                  const tl_nn *net, tl_model **model, size_t src, size_t tgt,
                                  tl_pipeline **pipe) {
    tl_status st = TL_OK;
    tlx_scalers sc;
    memset(&sc, 0, sizeof sc);
    rep->method = tl_method_name(tl_params_method(method));
    rep->family = TL_FAMILY_MODEL;
    rep->n_domains = tl_task_count(task);
    snprintf(rep->preprocess, sizeof rep->preprocess, "none");
    rep->learner = tli_strdup("network");
    rep->source = tli_strdup(source);
    rep->target = tli_strdup(target);
    rep->evaluated_on = tli_strdup(evaluated_on);
    rep->arch = tli_strdup(tl_nn_arch(net));
    TL_CHECK(rep->learner && rep->source && rep->target && rep->evaluated_on && rep->arch,
             TL_ERR_NOMEM, "report: out of memory");
    TL_TRY(tl_params_clone(method, &rep->params));
    tlx_report_info(rep, *model);
    if (pipe) {
        sc.n = tl_task_count(task);
        TL_CALLOC(sc.s, sc.n);
        TL_TRY(tlx_pipeline_make(&sc, *model, NULL, task, src, tgt, pipe));
        *model = NULL;
    }
done:
    tlx_scalers_free(&sc);
    return st;
}

tl_status tlx_run_model(const tl_task *task, const tl_params *method, const tl_run_opts *o,
                        size_t src, size_t tgt, tl_report **report, tl_pipeline **pipeline) {
    tl_status st = TL_OK;
    tl_report *rep = NULL;
    tl_model *model = NULL;
    tl_nn *scratch = NULL, *ft = NULL;
    tl_pipeline *pipe = NULL;
    float *xe = NULL, *xt = NULL, *xv = NULL;
    int *pred = NULL, *yv = NULL, *pv = NULL;
    size_t *vrows = NULL;
    double t_start = tli_seconds(), t0;
    if (tl_params_method(method)->needs & TL_NEEDS_SOURCE_LABELS) /* adaptation: run_deepda.c */
        return tlx_run_deep_da(task, method, o, src, tgt, report, pipeline);
    tl_nn *net = tl_task_network(task, src);
    const tl_dataset *tr = tlx_model_train_rows(task, tgt), *E = tl_task_test(task, tgt);
    TL_CHECK(net, TL_ERR_INVALID_ARG, "transfer: the source domain of a %s holds no network",
             tl_method_name(tl_params_method(method)));
    TL_CHECK(tr && tl_dataset_rows(tr) > 0 && tl_dataset_has_labels(tr), TL_ERR_LABEL,
             "transfer: the target needs labelled rows to train on");
    TL_TRY(tl_params_check(method, tl_nn_input_dim(net), tl_dataset_rows(tr)));
    TL_TRY(tlx_report_new(&rep));
    size_t ne = E ? tl_dataset_rows(E) : 0, ntr = tl_dataset_rows(tr);
    const int *ye = E ? tl_dataset_labels_const(E) : NULL, *ytr = tl_dataset_labels_const(tr);
    TL_ALLOC(rep->predictions, ne ? ne : 1);
    TL_ALLOC(pred, ne ? ne : 1);
    if (ne) TL_TRY(tlx_nn_rows(net, E, &xe));

    /* the transfer */
    t0 = tli_seconds();
    st = tl_model_fit(method, NULL, task, o->ctx, &model);
    if (st != TL_OK) goto done;
    rep->seconds_method = tli_seconds() - t0;
    if (o->report_views) TL_TRY(tlx_report_curve(rep, model)); /* the page's learning curve */
    TL_TRY(tl_nn_clone(tlx_finetuned_network(model), &ft)); /* a working copy for predictions */
    TL_TRY(predict_score(ft, xe, ye, ne, rep->predictions, &rep->result));

    /* the baselines */
    t0 = tli_seconds();
    if (ne && labels_covered(net, ye, ne)) {
        tl_nn *pre = NULL;
        TL_TRY(tl_nn_clone(net, &pre));
        st = predict_score(pre, xe, ye, ne, pred, &rep->source_only);
        tl_nn_free(pre);
        if (st != TL_OK) goto done;
        if (o->report_views) /* against the pre-trained network as it is */
            TL_TRY(tlx_report_confusion(rep, ye, rep->predictions, pred, ne));
    }
    tl_nn_train_params tp;
    TL_TRY(tlx_nn_train_params(method, o->ctx, &tp));
    tp.comm = tl_task_comm(task);
    tp.checkpoint = tp.step_log = tp.log_csv = NULL; /* the method's run's files, not the baseline's */
    if (o->scratch_baseline) {
        size_t shape[3];
        float shift, scale;
        tl_nn_input_shape(ft, shape);
        tl_nn_input_norm(ft, &shift, &scale);
        TL_TRY(tl_nn_create(tl_nn_arch(ft), shape[0], shape[1], shape[2], tp.seed, &scratch));
        tl_nn_set_input_norm(scratch, shift, scale);
        if (tl_nn_labels(ft)) TL_TRY(tl_nn_set_labels(scratch, tl_nn_labels(ft), tl_nn_output_dim(ft)));
        TL_TRY(tlx_nn_rows(scratch, tr, &xt));
        st = tl_nn_train(scratch, &tp, xt, ytr, ntr, NULL);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "baseline (the same network trained from scratch)");
            goto done;
        }
        TL_TRY(predict_score(scratch, xe, ye, ne, pred, &rep->target_only));
    }
    rep->seconds_baseline = tli_seconds() - t0;
    rep->gain = rep->result.accuracy -
                (rep->target_only.n ? rep->target_only.accuracy : rep->source_only.accuracy);
    rep->worse_than_baseline =
        (rep->source_only.n && rep->result.accuracy < rep->source_only.accuracy) ||
        (rep->target_only.n && rep->result.accuracy < rep->target_only.accuracy);

    /* the guard: the validation rows both trainings held out */
    t0 = tli_seconds();
    tlx_report_guard_blank(rep);
    if (o->guard) {
        size_t nval = 0;
        TL_ALLOC(vrows, ntr);
        TL_TRY(tl_nn_train_split(&tp, ntr, vrows, &nval));
        if (nval == 0) {
            rep->guard.verdict = TL_GUARD_UNSURE;
            snprintf(rep->guard.reason, sizeof rep->guard.reason,
                     "no held-out labelled rows: give the training a validation split "
                     "(val-split) to check the fine-tuning against training from scratch");
        } else {
            tl_guard_params gp = o->guard_params ? *o->guard_params : tl_guard_params_default();
            gp.seed = tp.seed;
            size_t d = tl_nn_input_dim(ft);
            TL_ALLOC(yv, nval);
            TL_ALLOC(pv, nval);
            TL_ALLOC(xv, nval * d);
            if (!xt) TL_TRY(tlx_nn_rows(ft, tr, &xt)); /* the scratch baseline made them already */
            for (size_t i = 0; i < nval; i++) {
                memcpy(xv + i * d, xt + vrows[i] * d, d * sizeof *xv);
                yv[i] = ytr[vrows[i]];
            }
            double scratch_val = NAN;
            if (scratch) {
                TL_TRY(tl_nn_predict(scratch, xv, nval, pv));
                scratch_val = tl_accuracy(yv, pv, nval);
            }
            TL_TRY(tl_nn_predict(ft, xv, nval, pv));
            TL_TRY(tl_guard_labelled(&gp, yv, pv, nval, scratch_val, &rep->labelled));
            /* the guard's decision, said in a network's terms */
            tl_guard_labelled_report *l = &rep->labelled;
            char cmp[96] = "";
            if (!isnan(scratch_val))
                snprintf(cmp, sizeof cmp, "; the same network from scratch %.1f%%", 100 * scratch_val);
            snprintf(l->reason, sizeof l->reason,
                     "on %zu held-out labelled rows the fine-tuned network is right %.1f%% of the "
                     "time (chance %.1f%%, p = %.2g)%s%s",
                     l->n, 100 * l->accuracy, 100 * l->chance, l->p_above_chance, cmp,
                     l->harmful ? ": no better than chance or clearly worse than from scratch" : "");
            rep->labelled_checked = true;
            rep->labelled_transfer_accuracy = rep->labelled.accuracy;
            rep->guard.verdict = rep->labelled.harmful ? TL_GUARD_HARMFUL : TL_GUARD_OK;
            snprintf(rep->guard.reason, sizeof rep->guard.reason, "%s", rep->labelled.reason);
        }
        rep->guarded = true;
        rep->negative_transfer = rep->labelled_checked && rep->labelled.harmful;
    }
    rep->seconds_guard = tli_seconds() - t0;

    /* the report and the pipeline */
    rep->n_source = 0;
    rep->n_target = tl_task_data(task, tgt) ? tl_dataset_rows(tl_task_data(task, tgt)) : ntr;
    rep->n_labelled = tl_task_labelled(task, tgt) ? ntr : 0;
    rep->n_eval = ne;
    TL_TRY(tlx_model_report_finish(rep, task, method, tl_task_name(task, src), tl_dataset_name(tr),
                                   E ? tl_dataset_name(E) : "", ft, &model, src, tgt,
                                   pipeline ? &pipe : NULL));
    rep->seconds_total = tli_seconds() - t_start;
    *report = rep;
    rep = NULL;
    if (pipeline) {
        *pipeline = pipe;
        pipe = NULL;
    }
done:
    tl_report_free(rep);
    tl_model_free(model);
    tl_nn_free(scratch);
    tl_nn_free(ft);
    tl_pipeline_free(pipe);
    tl_free(xe);
    tl_free(xt);
    tl_free(xv);
    tl_free(pred);
    tl_free(yv);
    tl_free(pv);
    tl_free(vrows);
    return st;
}
