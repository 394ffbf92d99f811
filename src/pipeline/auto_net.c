/* tl auto's network candidates (tl/auto.h, opts.net): the registry's "deep-da" method with a fixed
 * adaptation and weight - DANN, DAN, Deep CORAL at values of their own lambda grid
 * (tl_nn_da_lambda_grid), and the same network trained on the source alone (DANN with lambda 0:
 * the gradient reversal passes nothing back, so the features learn the source labels only).
 *
 * Why not tl_transfer_run: for deep-da the protocol trains a second network per run (the
 * source-only baseline) and scores the target's test rows only; the search needs neither - the
 * source-only network is a candidate of its own, run once - but it needs the predicted labels of
 * the target rows and a space in which to score them. That space is the network's embedding (the
 * input of its last dense layer), where the candidate's probe runs as in any candidate's own
 * space (DEV's construction: a domain classifier and a classifier on the deep features). */
#include <math.h>
#include <string.h>

#include "internal/check.h"
#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"
#include "tl/auto.h"

/* rows (n, d) of x (float32) as doubles in the embedding layer's space */
static tl_status embed_rows(tl_nn *nn, size_t layer, const float *x, size_t n, tl_mat *Z) {
    tl_status st = TL_OK;
    float *f = NULL;
    size_t sh[3];
    tl_nn_layer_shape(nn, layer, sh);
    size_t k = sh[0] * sh[1] * sh[2], cells;
    TL_CHECK(tl_size_mul(n ? n : 1, k ? k : 1, &cells) == 0, TL_ERR_NOMEM,
             "auto: embedding size overflows");
    TL_ALLOC(f, cells);
    if (n) TL_TRY(tl_nn_embed(nn, layer, x, n, f));
    TL_TRY(tl_mat_alloc(Z, n, k));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) Z->data[i * Z->ld + j] = f[i * k + j];
done:
    tl_free(f);
    return st;
}

tl_status tlx_auto_net_run(const tl_task *task, size_t si, size_t ti, const tl_params *method,
                           const tl_ctx *ctx, tl_report **report, tl_pipeline **pipeline,
                           tl_mat *Zs, tl_mat *Zt) {
    tl_status st = TL_OK;
    tl_model *model = NULL;
    tl_nn *ad = NULL;
    tl_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    float *xs = NULL, *xt = NULL;
    double t0 = tli_seconds();
    const tl_nn *init = NULL;
    for (size_t i = 0; i < tl_task_count(task) && !init; i++) init = tl_task_network(task, i);
    const tl_dataset *S = tl_task_data(task, si), *T = tl_task_data(task, ti);
    *report = NULL;
    *pipeline = NULL;
    TL_CHECK(init && S && T, TL_ERR_INVALID_ARG,
             "auto: a network candidate needs a network, source rows and target rows");
    TL_TRY(tlx_deep_da_rows(init, task, si, ti, &xs, &xt));
    const size_t ns = tl_dataset_rows(S), nt = tl_dataset_rows(T);
    TL_TRY(tl_params_check(method, tl_nn_input_dim(init), ns));
    TL_TRY(tl_model_fit(method, NULL, task, ctx, &model));
    TL_TRY(tl_nn_clone(tlx_finetuned_network(model), &ad));
    TL_TRY(tlx_report_new(&rep));
    rep->seconds_method = tli_seconds() - t0;
    TL_ALLOC(rep->predictions, nt ? nt : 1);
    if (nt) TL_TRY(tl_nn_predict(ad, xt, nt, rep->predictions));
    TL_TRY(tlx_score(tl_dataset_labels_const(T), rep->predictions, nt, &rep->result));
    size_t layer;
    st = tl_nn_embed_layer(ad, &layer);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "auto: the network's embedding (the criteria's space)");
        goto done;
    }
    TL_TRY(embed_rows(ad, layer, xs, ns, Zs));
    TL_TRY(embed_rows(ad, layer, xt, nt, Zt));
    tlx_report_guard_blank(rep); /* the labelled guard of a network needs a validation split */
    rep->n_source = ns;
    rep->n_target = nt;
    rep->n_eval = nt;
    TL_TRY(tlx_model_report_finish(rep, task, method, tl_dataset_name(S), tl_dataset_name(T),
                                   tl_dataset_name(T), ad, &model, si, ti, &pipe));
    rep->seconds_total = tli_seconds() - t0;
    *report = rep;
    *pipeline = pipe;
    rep = NULL;
    pipe = NULL;
done:
    if (st != TL_OK) {
        tl_mat_free(Zs);
        tl_mat_free(Zt);
    }
    tl_model_free(model);
    tl_nn_free(ad);
    tl_report_free(rep);
    tl_pipeline_free(pipe);
    tl_free(xs);
    tl_free(xt);
    return st;
}

/* Seconds per row of one forward pass of the network (the faster of two tries over at most 256
 * source rows, on the budget's clock through now()): a training epoch costs about three forward
 * passes per row, which prices a network candidate before the first one has run. */
tl_status tlx_auto_net_rate(const tl_task *task, size_t si, size_t ti, double (*now)(bool),
                            bool cpu, double *rate) {
    tl_status st = TL_OK;
    tl_nn *nn = NULL;
    float *xs = NULL, *xt = NULL;
    int *pred = NULL;
    const tl_nn *init = NULL;
    for (size_t i = 0; i < tl_task_count(task) && !init; i++) init = tl_task_network(task, i);
    TL_CHECK(init, TL_ERR_INVALID_ARG, "auto: the task holds no network");
    TL_TRY(tlx_deep_da_rows(init, task, si, ti, &xs, &xt));
    size_t n = tl_dataset_rows(tl_task_data(task, si));
    if (n > 256) n = 256;
    TL_TRY(tl_nn_clone(init, &nn));
    TL_ALLOC(pred, n ? n : 1);
    double best = INFINITY;
    for (int k = 0; k < 2 && n; k++) {
        double t0 = now(cpu);
        TL_TRY(tl_nn_predict(nn, xs, n, pred));
        double dt = now(cpu) - t0;
        if (dt < best) best = dt;
    }
    *rate = n ? best / (double)n : 0;
done:
    tl_nn_free(nn);
    tl_free(xs);
    tl_free(xt);
    tl_free(pred);
    return st;
}
