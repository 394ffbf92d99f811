/* The transfer protocol for heterogeneous methods (TL_HETEROGENEOUS: CDSPP, CDLS), called by
 * tl_transfer_run: the same stages and the same report as run.c, where the feature spaces
 * differ.
 *   1. working copies of every domain's sets, each domain in its own width (a sparse set widened
 *      to its domain's widest), dense;
 *   2. preprocessing fitted per domain (statistics of one domain cannot apply to another width:
 *      preprocess_on_source is refused when the widths differ);
 *   3. the baseline: the learner on the labelled target rows alone (target only). No source-only
 *      or pooled baseline exists: a learner trained on the source cannot read target rows;
 *   4. the method fitted on the prepared task, the source and the labelled target rows mapped
 *      into the shared space, the learner trained there on both, the evaluation rows mapped and
 *      scored;
 *   5. the guard: the label-free checks compare the domains in one feature space and do not
 *      apply; the check on the labelled target rows does - the learner trained on the mapped
 *      source alone, scored on the mapped labelled rows, against chance and a target-only
 *      learner's cross-validated accuracy;
 *   6. the report and the fitted pipeline (scalers -> mapping -> learner). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"

typedef struct {
    tl_dataset *s[3]; /* data, labelled, test */
} het_dom;

static tl_status learn_predict(const tl_learner_params *lp, tl_xmat X, const int *y, tl_xmat E,
                               int *pred, tl_learner **keep) {
    tl_status st = TL_OK;
    tl_learner *l = NULL;
    TL_TRY(tl_learner_create(lp, &l));
    TL_TRY(tl_learner_fit(l, X, y, NULL));
    if (tl_xmat_rows(E)) TL_TRY(tl_learner_predict(l, E, pred));
    if (keep) {
        *keep = l;
        l = NULL;
    }
done:
    tl_learner_free(l);
    return st;
}

/* [A; B] and [ya; yb]. */
static tl_status stack2(tl_mat A, const int *ya, tl_mat B, const int *yb, tl_mat *Z, int **y) {
    tl_status st = TL_OK;
    TL_TRY(tl_mat_alloc(Z, A.rows + B.rows, A.cols));
    TL_ALLOC(*y, A.rows + B.rows);
    for (size_t i = 0; i < A.rows; i++) memcpy(&TL_AT(*Z, i, 0), &TL_AT(A, i, 0), A.cols * 8);
    for (size_t i = 0; i < B.rows; i++)
        memcpy(&TL_AT(*Z, A.rows + i, 0), &TL_AT(B, i, 0), B.cols * 8);
    memcpy(*y, ya, A.rows * sizeof **y);
    memcpy(*y + A.rows, yb, B.rows * sizeof **y);
done:
    return st;
}

tl_status tlx_run_hetero(const tl_task *task, const tl_params *method, const tl_run_opts *o,
                         size_t src, size_t tgt, tl_report **report, tl_pipeline **pipeline) {
    tl_status st = TL_OK;
    const tl_method *m = tl_params_method(method);
    size_t nd = tl_task_count(task);
    het_dom *dom = NULL;
    bool own = !o->in_place;
    tl_params *deflp = NULL;
    tl_learner_params lp;
    char label[32];
    tlx_scalers sc;
    tl_task *work = NULL;
    tl_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    tl_model *model = NULL;
    tl_learner *final = NULL;
    tl_mat Zs = {0}, Ze = {0}, Zl = {0}, Zsl = {0};
    int *ysl = NULL, *lab_pred = NULL;
    memset(&sc, 0, sizeof sc);
    double t_start = tli_seconds(), t0 = t_start;

    const tl_params *lparams = o->learner;
    if (!lparams) {
        TL_TRY(tl_params_create(tl_method_find(m->learner ? m->learner : "1nn", 0), &deflp));
        lparams = deflp;
    }
    TL_TRY(tlx_learner_params(lparams, o->ctx, &lp));
    tlx_learner_label(lparams, label, sizeof label);

    /* 1. working sets, each domain in its own width */
    TL_CALLOC(dom, nd);
    for (size_t i = 0; i < nd; i++) {
        tl_dataset *in[3] = {tl_task_data(task, i), tl_task_labelled(task, i), tl_task_test(task, i)};
        TL_CHECK(in[0] && tl_dataset_rows(in[0]) > 0, TL_ERR_EMPTY,
                 "'%s' is empty: every domain needs samples", tl_task_name(task, i));
        for (int k = 0; k < 3; k++) {
            if (!in[k]) continue;
            if (own) TL_TRY(tl_dataset_clone(in[k], &dom[i].s[k]));
            else dom[i].s[k] = in[k];
        }
        TL_TRY(tlx_common_width(dom[i].s, 3));
    }
    het_dom *S = &dom[src], *T = &dom[tgt];
    tl_dataset *E = T->s[2] ? T->s[2] : T->s[0];
    TL_CHECK(T->s[1] && tl_dataset_rows(T->s[1]) > 0 && tl_dataset_has_labels(T->s[1]),
             TL_ERR_LABEL,
             "%s needs a few labelled target rows per class (--target-labelled FILE, or "
             "--labelled-per-class K drawn from the target): none were given",
             m->name);
    TL_CHECK(tl_dataset_has_labels(S->s[0]), TL_ERR_LABEL, "%s needs a labelled source ('%s')",
             m->name, tl_dataset_name(S->s[0]));
    TL_CHECK(!o->preprocess_on_source || o->preprocess.nsteps == 0 ||
                 tl_dataset_cols(S->s[0]) == tl_dataset_cols(T->s[0]),
             TL_ERR_INVALID_ARG,
             "preprocessing fitted on the source (%zu features) cannot apply to the target (%zu "
             "features): fit it per domain",
             tl_dataset_cols(S->s[0]), tl_dataset_cols(T->s[0]));
    TL_TRY(tl_params_check(method, 0, 0));

    /* 2. preprocessing per domain, then dense rows */
    sc.pre = o->preprocess;
    sc.on_source = o->preprocess_on_source;
    sc.n = nd;
    TL_CALLOC(sc.s, nd);
    for (size_t i = 0; i < nd && o->preprocess.nsteps; i++) {
        if (sc.on_source && i != src) continue;
        st = tl_scaler_fit(&o->preprocess, dom[i].s[0], &sc.s[i]);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "preprocessing '%s'", tl_dataset_name(dom[i].s[0]));
            goto done;
        }
    }
    for (size_t i = 0; i < nd; i++)
        for (int k = 0; k < 3; k++) {
            if (!dom[i].s[k]) continue;
            if (o->preprocess.nsteps) {
                st = tl_scaler_apply(sc.s[sc.on_source ? src : i], dom[i].s[k]);
                if (st != TL_OK) {
                    st = tl_fail_prefix(st, "preprocessing '%s'", tl_dataset_name(dom[i].s[k]));
                    goto done;
                }
            }
            TL_TRY(tl_dataset_densify(dom[i].s[k]));
        }
    TL_TRY(tl_task_create(&work));
    for (size_t i = 0; i < nd; i++) {
        TL_TRY(tl_task_add(work, tl_task_role(task, i), dom[i].s[0], NULL));
        TL_TRY(tl_task_set_labelled(work, i, dom[i].s[1]));
        TL_TRY(tl_task_set_test(work, i, dom[i].s[2]));
    }
    TL_TRY(tlx_report_new(&rep));
    tlx_report_guard_blank(rep);
    rep->seconds_preprocess = tli_seconds() - t0;

    /* 3. the target-only baseline */
    size_t ne = tl_dataset_rows(E), nl = tl_dataset_rows(T->s[1]);
    const int *ye = tl_dataset_labels_const(E), *yl = tl_dataset_labels_const(T->s[1]);
    const int *ys = tl_dataset_labels_const(S->s[0]);
    TL_ALLOC(rep->predictions, ne ? ne : 1);
    t0 = tli_seconds();
    st = learn_predict(&lp, tl_dataset_features(T->s[1]), yl, tl_dataset_features(E),
                       rep->predictions, NULL);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "baseline (%s on the labelled target rows)", label);
        goto done;
    }
    TL_TRY(tlx_score(ye, rep->predictions, ne, &rep->target_only));
    TL_TRY(tlx_score(NULL, NULL, 0, &rep->source_only));
    TL_TRY(tlx_score(NULL, NULL, 0, &rep->pooled));
    rep->seconds_baseline = tli_seconds() - t0;

    /* 4. the method, then the learner in the shared space */
    t0 = tli_seconds();
    st = tl_model_fit(method, NULL, work, o->ctx, &model);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "fitting %s", m->name);
        goto done;
    }
    rep->seconds_method = tli_seconds() - t0;
    t0 = tli_seconds();
    st = tl_model_transform(model, src, tl_dataset_dense(S->s[0]), &Zs);
    if (st == TL_OK) st = tl_model_transform(model, tgt, tl_dataset_dense(T->s[1]), &Zl);
    if (st == TL_OK) st = tl_model_transform(model, tgt, tl_dataset_dense(E), &Ze);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "transforming with %s", m->name);
        goto done;
    }
    TL_TRY(stack2(Zs, ys, Zl, yl, &Zsl, &ysl));
    st = learn_predict(&lp, tl_xmat_from_dense(Zsl), ysl, tl_xmat_from_dense(Ze),
                       rep->predictions, &final);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "learning after %s", m->name);
        goto done;
    }
    rep->seconds_learner = tli_seconds() - t0;
    TL_TRY(tlx_score(ye, rep->predictions, ne, &rep->result));
    if (o->report_views) /* each domain in its own space, then the shared one */
        TL_TRY(tlx_report_view(rep, tl_dataset_features(S->s[0]), ys, tl_dataset_features(E), ye,
                               Zs, Ze, o->report_tsne, tlx_seed(o->ctx)));
    rep->learner_C = rep->learner_cv_accuracy = NAN;
    rep->learner_fitted = true;
    double c = tl_learner_C(final);
    if (c > 0) rep->learner_C = c;
    rep->learner_C_auto = tl_learner_C_auto(final, &rep->learner_cv_accuracy);
    if (!rep->learner_C_auto) rep->learner_cv_accuracy = NAN;
    rep->learner_converged = tl_learner_converged(final);
    rep->gain = NAN; /* no source-only baseline to gain over */
    rep->worse_than_baseline = rep->target_only.n && rep->result.n &&
                               rep->result.accuracy < rep->target_only.accuracy;

    /* 5. the guard: the mapped source alone on the labelled target rows */
    t0 = tli_seconds();
    snprintf(rep->guard.reason, sizeof rep->guard.reason,
             "the label-free checks need one feature space (source %zu, target %zu features): "
             "judged on the labelled target rows",
             tl_dataset_cols(S->s[0]), tl_dataset_cols(T->s[0]));
    if (o->guard) {
        tl_guard_params gp = o->guard_params ? *o->guard_params : tl_guard_params_default();
        gp.learner = lp;
        gp.seed = tlx_seed(o->ctx);
        double to_cv = NAN;
        TL_ALLOC(lab_pred, nl);
        st = learn_predict(&lp, tl_xmat_from_dense(Zs), ys, tl_xmat_from_dense(Zl), lab_pred,
                           NULL);
        if (st == TL_OK && nl >= 4)
            st = tl_cross_validate(&lp, tl_dataset_features(T->s[1]), yl, NULL, nl < 5 ? nl : 5,
                                   gp.seed, &to_cv, NULL);
        if (st == TL_OK) st = tl_guard_labelled(&gp, yl, lab_pred, nl, to_cv, &rep->labelled);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "checking the transfer on the labelled target rows");
            goto done;
        }
        rep->labelled_checked = true;
        rep->labelled_transfer_accuracy = rep->labelled.accuracy;
        rep->guarded = true;
        rep->negative_transfer = rep->labelled.harmful;
    }
    rep->seconds_guard = tli_seconds() - t0;

    /* 6. the report and the pipeline */
    TL_TRY(tlx_report_describe(rep, task, E, m->name, m->family, label, o, src, tgt));
    TL_TRY(tl_params_clone(method, &rep->params));
    tlx_report_info(rep, model);
    if (o->keep_embeddings) {
        TL_CALLOC(rep->embedded, nd);
        rep->embedded[src] = Zs;
        Zs.data = NULL;
        st = tl_model_transform(model, tgt, tl_dataset_dense(T->s[0]), &rep->embedded[tgt]);
        if (st != TL_OK) goto done;
        rep->embedded_eval = Ze;
        Ze.data = NULL;
    }
    if (pipeline) {
        TL_TRY(tlx_pipeline_make(&sc, model, final, task, src, tgt, &pipe));
        model = NULL;
        final = NULL;
    }
    rep->seconds_total = tli_seconds() - t_start;
    *report = rep;
    rep = NULL;
    if (pipeline) {
        *pipeline = pipe;
        pipe = NULL;
    }
done:
    if (own && dom)
        for (size_t i = 0; i < nd; i++)
            for (int k = 0; k < 3; k++) tl_dataset_free(dom[i].s[k]);
    tl_free(dom);
    tl_task_free(work);
    tl_params_free(deflp);
    tlx_scalers_free(&sc);
    tl_report_free(rep);
    tl_pipeline_free(pipe);
    tl_model_free(model);
    tl_learner_free(final);
    tl_mat_free(&Zs);
    tl_mat_free(&Ze);
    tl_mat_free(&Zl);
    tl_mat_free(&Zsl);
    tl_free(ysl);
    tl_free(lab_pred);
    return st;
}
