/* The transfer protocol for deep domain adaptation (the "deep-da" method: a network trained on
 * labelled source rows and unlabelled target rows), called by tlx_run_model: the report,
 * baselines and guard of every transfer, in the terms an unlabelled target allows.
 *   - the transfer: the method fitted on the task, scored on the target's test rows;
 *   - source only: the same starting network trained on the source rows alone with the same
 *     settings (lambda 0, the rate the method trained with): what the adaptation must beat;
 *   - target only: none (the target has no labels);
 *   - the guard: on the source rows the training holds out (val-split), the adapted network
 *     against chance and against the source-only network (tl_guard_labelled) - the only labelled
 *     evidence there is; the test rows are never its evidence. Without a validation split it
 *     says it has no evidence ("unsure"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"

tl_status tlx_run_deep_da(const tl_task *task, const tl_params *method, const tl_run_opts *o,
                          size_t src, size_t tgt, tl_report **report, tl_pipeline **pipeline) {
    tl_status st = TL_OK;
    tl_report *rep = NULL;
    tl_model *model = NULL;
    tl_nn *base = NULL, *ad = NULL;
    tl_pipeline *pipe = NULL;
    float *xe = NULL, *xs = NULL, *xt = NULL, *xv = NULL;
    int *pred = NULL, *yv = NULL, *pv = NULL;
    size_t *vrows = NULL;
    double t_start = tli_seconds(), t0;
    const tl_nn *init = NULL;
    for (size_t i = 0; i < tl_task_count(task) && !init; i++) init = tl_task_network(task, i);
    const tl_dataset *S = tl_task_data(task, src), *T = tl_task_data(task, tgt),
                     *E = tl_task_test(task, tgt);
    TL_CHECK(init, TL_ERR_INVALID_ARG, "transfer: %s needs a network to start from",
             tl_method_name(tl_params_method(method)));
    TL_CHECK(S && T && src != tgt, TL_ERR_EMPTY, "transfer: %s needs source rows and target rows",
             tl_method_name(tl_params_method(method)));
    TL_CHECK(tl_dataset_has_labels(S), TL_ERR_LABEL, "transfer: the source '%s' has no labels",
             tl_dataset_name(S));
    TL_TRY(tlx_deep_da_rows(init, task, src, tgt, &xs, &xt));
    const size_t ns = tl_dataset_rows(S), nt = tl_dataset_rows(T);
    const int *ys = tl_dataset_labels_const(S);
    TL_TRY(tl_params_check(method, tl_nn_input_dim(init), ns));
    TL_TRY(tlx_report_new(&rep));
    size_t ne = E ? tl_dataset_rows(E) : 0;
    const int *ye = E ? tl_dataset_labels_const(E) : NULL;
    if (E) TL_CHECK(tl_dataset_cols(E) == tl_dataset_cols(T), TL_ERR_SHAPE,
                    "transfer: the test rows '%s' have %zu values per sample, the target '%s' %zu",
                    tl_dataset_name(E), tl_dataset_cols(E), tl_dataset_name(T), tl_dataset_cols(T));
    TL_ALLOC(rep->predictions, ne ? ne : 1);
    TL_ALLOC(pred, ne ? ne : 1);
    if (ne) TL_TRY(tlx_nn_rows(init, E, &xe));

    /* the transfer */
    t0 = tli_seconds();
    TL_TRY(tl_model_fit(method, NULL, task, o->ctx, &model));
    rep->seconds_method = tli_seconds() - t0;
    if (o->report_views) TL_TRY(tlx_report_curve(rep, model)); /* the page's learning curve */
    TL_TRY(tl_nn_clone(tlx_finetuned_network(model), &ad));
    if (ne) TL_TRY(tl_nn_predict(ad, xe, ne, rep->predictions));
    TL_TRY(tlx_score(ye, rep->predictions, ne, &rep->result));

    /* the baseline: the same network on the source alone, the same settings */
    t0 = tli_seconds();
    tl_nn_da_params q = tl_nn_da_params_default();
    double lam, lr;
    TL_TRY(tlx_nn_train_params(method, o->ctx, &q.train));
    q.train.comm = tl_task_comm(task);
    q.train.checkpoint = q.train.step_log = NULL; /* the method's run's files, not the baseline's */
    tlx_deep_da_choice(model, &lam, &lr);
    tlx_deep_da_selection(model, &rep->search);
    if (isfinite(lr)) q.train.lr = lr;
    q.method = TL_NN_DA_NONE;
    TL_TRY(tl_nn_clone(init, &base));
    st = tl_nn_da_train(base, &q, xs, ys, ns, NULL, 0, NULL);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "baseline (the same network trained on the source alone)");
        goto done;
    }
    if (ne) TL_TRY(tl_nn_predict(base, xe, ne, pred));
    TL_TRY(tlx_score(ye, pred, ne, &rep->source_only));
    rep->seconds_baseline = tli_seconds() - t0;
    rep->gain = rep->result.accuracy - rep->source_only.accuracy;
    rep->worse_than_baseline = rep->source_only.n && rep->result.accuracy < rep->source_only.accuracy;

    /* the guard: the source rows both trainings held out */
    t0 = tli_seconds();
    tlx_report_guard_blank(rep);
    if (o->guard) {
        size_t nval = 0;
        TL_ALLOC(vrows, ns);
        TL_TRY(tl_nn_train_split(&q.train, ns, vrows, &nval));
        if (nval == 0) {
            rep->guard.verdict = TL_GUARD_UNSURE;
            snprintf(rep->guard.reason, sizeof rep->guard.reason,
                     "no held-out labelled rows: give the training a validation split (val-split) "
                     "to check the adapted network against the source-only one on source rows");
        } else {
            tl_guard_params gp = o->guard_params ? *o->guard_params : tl_guard_params_default();
            gp.seed = q.train.seed;
            const size_t d = tl_nn_input_dim(ad);
            TL_ALLOC(yv, nval);
            TL_ALLOC(pv, nval);
            TL_ALLOC(xv, nval * d);
            for (size_t i = 0; i < nval; i++) {
                memcpy(xv + i * d, xs + vrows[i] * d, d * sizeof *xv);
                yv[i] = ys[vrows[i]];
            }
            TL_TRY(tl_nn_predict(base, xv, nval, pv));
            const double base_val = tl_accuracy(yv, pv, nval);
            TL_TRY(tl_nn_predict(ad, xv, nval, pv));
            TL_TRY(tl_guard_labelled(&gp, yv, pv, nval, base_val, &rep->labelled));
            tl_guard_labelled_report *l = &rep->labelled;
            snprintf(l->reason, sizeof l->reason,
                     "on %zu held-out source rows the adapted network is right %.1f%% of the time "
                     "(chance %.1f%%, p = %.2g; source only %.1f%%)%s; the target has no labels to "
                     "check it on",
                     l->n, 100 * l->accuracy, 100 * l->chance, l->p_above_chance, 100 * base_val,
                     l->harmful ? ": no better than chance or clearly worse than source only" : "");
            rep->labelled_checked = true;
            rep->labelled_transfer_accuracy = rep->labelled.accuracy;
            rep->guard.verdict = rep->labelled.harmful ? TL_GUARD_HARMFUL : TL_GUARD_OK;
            snprintf(rep->guard.reason, sizeof rep->guard.reason, "%s", rep->labelled.reason);
        }
        rep->guarded = true;
        rep->negative_transfer = rep->labelled_checked && rep->labelled.harmful;
    }
    rep->seconds_guard = tli_seconds() - t0;

    rep->n_source = ns;
    rep->n_target = nt;
    rep->n_labelled = 0;
    rep->n_eval = ne;
    TL_TRY(tlx_model_report_finish(rep, task, method, tl_dataset_name(S), tl_dataset_name(T),
                                   E ? tl_dataset_name(E) : "", ad, &model, src, tgt,
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
    tl_nn_free(base);
    tl_nn_free(ad);
    tl_pipeline_free(pipe);
    tl_free(xe);
    tl_free(xs);
    tl_free(xt);
    tl_free(xv);
    tl_free(pred);
    tl_free(yv);
    tl_free(pv);
    tl_free(vrows);
    return st;
}
