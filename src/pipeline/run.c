/* tl_transfer_run (tl/pipeline.h): the transfer protocol, written once for every method family.
 *
 *   1. working copies of every domain's rows (or the caller's own with opts.in_place), sparse
 *      widths aligned, dense where the method needs it;
 *   2. preprocessing fitted per domain (or on the first source) and applied to that domain's
 *      rows, labelled rows and test rows;
 *   3. the no-transfer baselines with the run's learner, scored on the evaluation rows: source
 *      only; with labelled target rows, target only and source + target pooled;
 *   4. the method fitted on the prepared task (tl_model_fit), then applied as its family says:
 *      feature - the learner is trained on the mapped source (+ mapped labelled target rows) and
 *      predicts the mapped evaluation rows; instance - the learner is trained with the weights;
 *      ensemble - the model predicts; no method - the baseline is the result;
 *   5. the negative-transfer guard (tl/guard.h): the label-free check on the spaces before and
 *      after (feature), on the weights (instance), or the feature correspondence alone
 *      (ensemble), and with labelled target rows the check of the transferred source model on
 *      them against chance and a target-only learner;
 *   6. the report (scores, gain, verdict, what the fit settled on, seconds per stage) and the
 *      fitted pipeline (scalers -> model -> learner).
 * Each stage's failure is prefixed with the stage, so a message says where the run stopped. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/parallel.h"
#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"

tl_run_opts tl_run_opts_default(void) {
    tl_run_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.guard = true;
    o.guard_params = NULL;
    o.scratch_baseline = true;
    return o;
}

/* One domain's prepared rows. */
typedef struct {
    tl_dataset *data, *labelled, *test; /* working sets (owned unless in place) */
} prep_domain;

typedef struct {
    const tl_task *task;
    tl_run_opts o;
    size_t nd, src, tgt;   /* domains; the first source and the first target */
    prep_domain *dom;
    bool own;              /* the working sets are copies */
    tl_task *work;         /* the prepared task the method sees */
    tl_learner_params lp;
    char learner_label[32];
    tl_params *default_learner;
    bool regression;       /* the source holds regression targets: values, not classes */
} run_state;

static void state_free(run_state *r) {
    if (r->own && r->dom)
        for (size_t i = 0; i < r->nd; i++) {
            tl_dataset_free(r->dom[i].data);
            tl_dataset_free(r->dom[i].labelled);
            tl_dataset_free(r->dom[i].test);
        }
    tl_free(r->dom);
    tl_task_free(r->work);
    tl_params_free(r->default_learner);
}

static tl_status copy_set(tl_dataset *in, bool own, tl_dataset **out) {
    *out = NULL;
    if (!in) return TL_OK;
    if (!own) {
        *out = in;
        return TL_OK;
    }
    return tl_dataset_clone(in, out);
}

tl_status tlx_common_width(tl_dataset *const *sets, size_t n) {
    tl_status st = TL_OK;
    size_t widest = n;
    for (size_t k = 0; k < n; k++)
        if (sets[k] && (widest == n || tl_dataset_cols(sets[k]) > tl_dataset_cols(sets[widest])))
            widest = k;
    for (size_t k = 0; k < n && widest < n; k++) {
        size_t d = tl_dataset_cols(sets[widest]);
        if (!sets[k] || tl_dataset_cols(sets[k]) == d) continue;
        if (tl_dataset_is_sparse(sets[k])) {
            TL_TRY(tl_dataset_set_cols(sets[k], d));
            continue;
        }
        TL_CHECK(false, TL_ERR_SHAPE,
                 "'%s' has %zu features but '%s' has %zu: source and target must share a "
                 "feature space",
                 tl_dataset_name(sets[widest]), d, tl_dataset_name(sets[k]),
                 tl_dataset_cols(sets[k]));
    }
done:
    return st;
}

/* Step 1's widths: every set of every domain in one feature space, or, for the heterogeneous
 * methods (which map between feature spaces), each domain's sets in the domain's own. */
static tl_status align_widths(run_state *r, bool heterogeneous) {
    tl_status st = TL_OK;
    tl_dataset **sets = NULL;
    TL_ALLOC(sets, 3 * r->nd);
    for (size_t i = 0; i < r->nd; i++) {
        sets[3 * i] = r->dom[i].data;
        sets[3 * i + 1] = r->dom[i].labelled;
        sets[3 * i + 2] = r->dom[i].test;
    }
    if (heterogeneous)
        for (size_t i = 0; i < r->nd; i++) TL_TRY(tlx_common_width(sets + 3 * i, 3));
    else
        TL_TRY(tlx_common_width(sets, 3 * r->nd));
done:
    tl_free(sets);
    return st;
}

/* Step 2: scalers fitted per domain (or on the source) and applied to each domain's sets. */
static tl_status preprocess(run_state *r, tlx_scalers *sc) {
    tl_status st = TL_OK;
    sc->pre = r->o.preprocess;
    sc->on_source = r->o.preprocess_on_source;
    sc->n = r->nd;
    TL_CALLOC(sc->s, r->nd);
    if (r->o.preprocess.nsteps == 0) goto done;
    for (size_t i = 0; i < r->nd; i++) {
        if (!sc->on_source || i == r->src) {
            st = tl_scaler_fit(&r->o.preprocess, r->dom[i].data, &sc->s[i]);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "preprocessing '%s'", tl_dataset_name(r->dom[i].data));
                goto done;
            }
        }
    }
    for (size_t i = 0; i < r->nd; i++) {
        const tl_scaler *use = sc->s[sc->on_source ? r->src : i];
        tl_dataset *s[3] = {r->dom[i].data, r->dom[i].labelled, r->dom[i].test};
        for (int k = 0; k < 3; k++) {
            if (!s[k]) continue;
            st = tl_scaler_apply(use, s[k]);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "preprocessing '%s'", tl_dataset_name(s[k]));
                goto done;
            }
        }
    }
done:
    return st;
}

tl_status tlx_score(const int *y, const int *pred, size_t n, tl_score *out) {
    tl_status st = TL_OK;
    out->n = n;
    out->accuracy = out->balanced_accuracy = out->macro_f1 = NAN;
    out->rmse = out->mae = out->r2 = NAN;
    if (!y || n == 0) {
        out->n = 0;
        return TL_OK;
    }
    out->accuracy = tl_accuracy(y, pred, n);
    TL_TRY(tl_balanced_accuracy(y, pred, n, &out->balanced_accuracy));
    TL_TRY(tl_macro_f1(y, pred, n, &out->macro_f1));
done:
    return st;
}

tl_status tlx_score_values(const double *t, const double *v, size_t n, tl_score *out) {
    out->n = n;
    out->accuracy = out->balanced_accuracy = out->macro_f1 = NAN;
    out->rmse = out->mae = out->r2 = NAN;
    if (!t || n == 0) {
        out->n = 0;
        return TL_OK;
    }
    return tl_regression_scores(t, v, n, &out->rmse, &out->mae, &out->r2);
}

/* What a learner is trained on or scored against: class labels y, or regression targets t. */
typedef struct {
    const int *y;
    const double *t;
} run_truth;
static run_truth truth_of(const tl_dataset *ds) {
    run_truth u = {NULL, NULL};
    if (ds) u.y = tl_dataset_labels_const(ds), u.t = tl_dataset_targets(ds);
    return u;
}
/* Predictions: class labels (classification) or values (regression), n of each. */
typedef struct {
    int *cls;
    double *val;
} run_pred;

static tl_status score_pred(const run_state *r, run_truth u, run_pred p, size_t n, tl_score *out) {
    return r->regression ? tlx_score_values(u.t, p.val, n, out) : tlx_score(u.y, p.cls, n, out);
}

static void copy_pred(const run_state *r, run_pred to, run_pred from, size_t n) {
    if (r->regression)
        memcpy(to.val, from.val, n * sizeof *to.val);
    else
        memcpy(to.cls, from.cls, n * sizeof *to.cls);
}

/* Trains the run's learner on (X, truth, w) - a classifier on labels, a regressor on targets -
 * and predicts E into pred; the learner is handed over in *keep when keep is not NULL. */
static tl_status train_predict(const run_state *r, tl_xmat X, run_truth u, const double *w,
                               tl_xmat E, run_pred pred, tl_learner **keep) {
    tl_status st = TL_OK;
    tl_learner *l = NULL;
    TL_TRY(tl_learner_create(&r->lp, &l));
    if (r->regression) {
        TL_TRY(tl_learner_fit_targets(l, X, u.t, w));
        if (tl_xmat_rows(E)) TL_TRY(tl_learner_predict_values(l, E, pred.val));
    } else {
        TL_TRY(tl_learner_fit(l, X, u.y, w));
        if (tl_xmat_rows(E)) TL_TRY(tl_learner_predict(l, E, pred.cls));
    }
    if (keep) {
        *keep = l;
        l = NULL;
    }
done:
    tl_learner_free(l);
    return st;
}

/* The jobs tli_overlap runs at once in tl_transfer_run: the source-only baseline with the
 * guard's half on the original spaces (when gp is set), and the method's fit. */
typedef struct {
    const run_state *r;
    tl_xmat X;
    run_truth u;
    const double *w;
    tl_xmat E;
    run_pred pred;
    tl_learner **keep;
    const tl_guard_params *gp; /* NULL: the guard runs after the method */
    tl_xmat Fs, Ft;
    const int *ys;
    tlx_guard_pre *pre;
    double seconds, guard_seconds;
} side_job;

static tl_status side_run(void *v) {
    side_job *j = v;
    double t0 = tli_seconds();
    tl_status st = train_predict(j->r, j->X, j->u, j->w, j->E, j->pred, j->keep);
    if (st != TL_OK)
        return tl_fail_prefix(st, "baseline (%s on the source)", j->r->learner_label);
    j->seconds = tli_seconds() - t0;
    if (!j->gp) return TL_OK;
    t0 = tli_seconds();
    st = tlx_guard_before(j->gp, j->Fs, j->ys, j->Ft, j->pre);
    if (st != TL_OK) return tl_fail_prefix(st, "negative-transfer guard");
    j->guard_seconds = tli_seconds() - t0;
    return TL_OK;
}

typedef struct {
    const tl_params *method, *lparams;
    const tl_task *work;
    const tl_ctx *ctx;
    tl_model **model;
    const char *name;
    double seconds;
} method_job;

static tl_status method_run(void *v) {
    method_job *j = v;
    double t0 = tli_seconds();
    tl_status st = tl_model_fit(j->method, j->lparams, j->work, j->ctx, j->model);
    if (st != TL_OK) return tl_fail_prefix(st, "fitting %s", j->name);
    j->seconds = tli_seconds() - t0;
    return TL_OK;
}

/* The evaluation labels must be known to the source (unless the options allow unknown ones). */
static tl_status check_labels(const run_state *r, const tl_dataset *train, const tl_dataset *ev) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t c = 0, unknown = 0, first = 0;
    const int *ytr = tl_dataset_labels_const(train), *yev = tl_dataset_labels_const(ev);
    if (r->regression) { /* values: nothing to be unknown, but no class labels to score either */
        TL_CHECK(!yev, TL_ERR_LABEL,
                 "'%s' has class labels but the source '%s' has regression targets: read both "
                 "the same way",
                 tl_dataset_name(ev), tl_dataset_name(train));
        goto done;
    }
    TL_CHECK(!tl_dataset_has_targets(ev), TL_ERR_LABEL,
             "'%s' has regression targets but the source '%s' has class labels: read both the "
             "same way",
             tl_dataset_name(ev), tl_dataset_name(train));
    TL_CHECK(ytr, TL_ERR_LABEL, "'%s' has no labels: the source must be labelled",
             tl_dataset_name(train));
    if (!yev) goto done;
    TL_TRY(tl_labels_unique(ytr, tl_dataset_rows(train), &cls, NULL, &c));
    for (size_t i = 0; i < tl_dataset_rows(ev); i++)
        if (tl_labels_index(cls, c, yev[i]) < 0 && unknown++ == 0) first = i;
    if (unknown && r->o.allow_unknown_labels) {
        tl_log(r->o.ctx, TL_LOG_WARN,
               "%zu samples of '%s' have labels the source never saw (first: label %d at row %zu); "
               "they count as errors",
               unknown, tl_dataset_name(ev), yev[first], first + 1);
        goto done;
    }
    TL_CHECK(!unknown, TL_ERR_LABEL,
             "'%s' row %zu has label %d, which does not occur in '%s' (%zu such samples); allow "
             "unknown labels to score them as errors",
             tl_dataset_name(ev), first + 1, yev[first], tl_dataset_name(train), unknown);
done:
    tl_free(cls);
    return st;
}

static void weight_stats(tl_report *rep, const double *w, size_t n) {
    double mn = INFINITY, mx = 0, s1 = 0, s2 = 0;
    size_t z = 0;
    for (size_t i = 0; i < n; i++) {
        mn = fmin(mn, w[i]);
        mx = fmax(mx, w[i]);
        s1 += w[i];
        s2 += w[i] * w[i];
        z += w[i] == 0;
    }
    rep->weight_min = n ? mn : NAN;
    rep->weight_max = n ? mx : NAN;
    rep->weight_zeros = z;
    rep->effective_sample_size = s2 > 0 ? s1 * s1 / s2 : 0; /* Kish */
}

/* Stacks A (na, k) over B (nb, k), and their truths ua then ub into *y (labels) or *t
 * (targets), whichever they hold. */
static tl_status stack(tl_mat A, run_truth ua, tl_mat B, run_truth ub, tl_mat *S, int **y,
                       double **t) {
    tl_status st = TL_OK;
    size_t n = A.rows + B.rows ? A.rows + B.rows : 1;
    TL_TRY(tl_mat_alloc(S, A.rows + B.rows, A.cols));
    TL_TRY(tl_mat_copy(tl_mat_rows(*S, 0, A.rows), A));
    if (B.rows) TL_TRY(tl_mat_copy(tl_mat_rows(*S, A.rows, B.rows), B));
    if (ua.t) {
        TL_ALLOC(*t, n);
        memcpy(*t, ua.t, A.rows * sizeof **t);
        memcpy(*t + A.rows, ub.t, B.rows * sizeof **t);
    } else {
        TL_ALLOC(*y, n);
        memcpy(*y, ua.y, A.rows * sizeof **y);
        memcpy(*y + A.rows, ub.y, B.rows * sizeof **y);
    }
done:
    return st;
}

/* Regression runs the methods that do not read class labels: the feature maps and weightings
 * fitted on the rows alone. */
static tl_status check_regression_method(const tl_method *m, tl_family fam) {
    if (!m) return TL_OK;
    if (fam == TL_FAMILY_ENSEMBLE || fam == TL_FAMILY_MODEL ||
        (m->needs & (TL_NEEDS_SOURCE_LABELS | TL_NEEDS_TARGET_LABELS)))
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s uses class labels in its fit: it does not apply to regression targets "
                       "(these do: the feature maps pca, coral, sa, gfk, tca and the weightings "
                       "kmm, kliep, ulsif, rulsif, domain-clf)",
                       m->name);
    return TL_OK;
}

void tlx_run_cache_free(tlx_run_cache *c) {
    if (!c) return;
    tl_free(c->base_pred);
    tlx_guard_pre_free(&c->pre);
    memset(c, 0, sizeof *c);
}

/* A copy of a ready guard half (its labels duplicated), for a run to finish and free. */
static tl_status guard_pre_copy(const tlx_guard_pre *from, tlx_guard_pre *to) {
    tl_status st = TL_OK;
    *to = *from;
    to->pb = NULL;
    TL_ALLOC(to->pb, from->nt ? from->nt : 1);
    memcpy(to->pb, from->pb, from->nt * sizeof *to->pb);
done:
    return st;
}

tl_status tl_transfer_run(const tl_task *task, const tl_params *method, const tl_run_opts *opts,
                          tl_report **report, tl_pipeline **pipeline) {
    return tlx_transfer_run_cached(task, method, opts, NULL, report, pipeline);
}

tl_status tlx_transfer_run_cached(const tl_task *task, const tl_params *method,
                                  const tl_run_opts *opts, tlx_run_cache *cache,
                                  tl_report **report, tl_pipeline **pipeline) {
    tl_status st = TL_OK;
    run_state r;
    tl_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    tl_model *model = NULL;
    tl_learner *final = NULL, *srcl = NULL;
    tl_dataset *pooled = NULL;
    tl_mat Zs = {0}, Ze = {0}, Zl = {0}, Zt = {0}, Zsl = {0};
    int *ysl = NULL, *lab_pred = NULL, *tmp_pred = NULL, *base_pred = NULL;
    double *w = NULL, *tsl = NULL, *tmp_val = NULL;
    tlx_scalers sc;
    tlx_guard_pre gpre;
    memset(&gpre, 0, sizeof gpre);
    memset(&r, 0, sizeof r);
    memset(&sc, 0, sizeof sc);
    tli_thread_scope scope = {0};
    double t_start = tli_seconds(), t0;
    TL_CHECK(task && report, TL_ERR_INVALID_ARG, "transfer_run: NULL task or report");
    *report = NULL;
    if (pipeline) *pipeline = NULL;
    /* the caller's options over the defaults, as far as the caller's struct reaches */
    r.o = tl_run_opts_default();
    if (opts) {
        size_t n = opts->struct_size && opts->struct_size < sizeof r.o ? opts->struct_size
                                                                      : sizeof r.o;
        memcpy(&r.o, opts, n);
        r.o.struct_size = sizeof r.o;
    }
    scope = tli_threads_enter(r.o.ctx);
    r.task = task;
    r.nd = tl_task_count(task);
    long s0 = tl_task_find(task, TL_ROLE_SOURCE, 0), g0 = tl_task_find(task, TL_ROLE_TARGET, 0);
    TL_CHECK(s0 >= 0, TL_ERR_EMPTY, "transfer: the task has no source domain");
    TL_CHECK(g0 >= 0, TL_ERR_EMPTY, "transfer: the task has no target domain");
    r.src = (size_t)s0;
    r.tgt = (size_t)g0;
    const tl_method *m = method ? tl_params_method(method) : NULL;
    tl_family fam = m ? m->family : TL_FAMILY_LEARNER;
    TL_CHECK(fam != TL_FAMILY_MODEL || !tl_dataset_has_targets(tl_task_data(task, g0)),
             TL_ERR_UNSUPPORTED,
             "%s: networks are trained on class labels here; regression targets are not "
             "supported for them yet",
             m ? m->name : "transfer");
    if (fam == TL_FAMILY_MODEL) { /* a network's transfer: its own terms, the same report */
        st = tlx_run_model(task, method, &r.o, r.src, r.tgt, report, pipeline);
        goto done;
    }
    if (tl_dataset_has_targets(tl_task_data(task, r.src))) TL_TRY(check_regression_method(m, fam));
    if (m && (m->needs & TL_HETEROGENEOUS)) { /* feature spaces of their own: run_hetero.c */
        st = tlx_run_hetero(task, method, &r.o, r.src, r.tgt, report, pipeline);
        goto done;
    }
    TL_CHECK(!m || fam == TL_FAMILY_FEATURE || fam == TL_FAMILY_INSTANCE ||
                 fam == TL_FAMILY_ENSEMBLE || fam == TL_FAMILY_LEARNER,
             TL_ERR_UNSUPPORTED, "transfer: the %s family (%s) does not run through this protocol",
             tl_family_name(fam), m->name);
    if (fam == TL_FAMILY_LEARNER) m = NULL; /* a learner alone: no transfer */

    /* the learner */
    const tl_params *lparams = r.o.learner;
    if (!lparams) {
        TL_TRY(tl_params_create(tl_method_find(m && m->learner ? m->learner : "1nn", 0),
                                &r.default_learner));
        lparams = r.default_learner;
    }
    TL_TRY(tlx_learner_params(lparams, r.o.ctx, &r.lp));
    tlx_learner_label(lparams, r.learner_label, sizeof r.learner_label);

    r.regression = tl_dataset_has_targets(tl_task_data(task, r.src));
    if (r.regression) {
        TL_TRY(check_regression_method(m, fam));
        TL_CHECK(tl_learner_type_regresses(r.lp.type), TL_ERR_UNSUPPORTED,
                 "the learner %s is a classifier: regression targets need a regressor (ridge or "
                 "knn)",
                 r.learner_label);
    }

    /* 1. working sets */
    t0 = tli_seconds();
    r.own = !r.o.in_place;
    TL_CALLOC(r.dom, r.nd);
    for (size_t i = 0; i < r.nd; i++) {
        TL_CHECK(tl_dataset_rows(tl_task_data(task, i)) > 0, TL_ERR_EMPTY,
                 "'%s' is empty: every domain needs samples", tl_dataset_name(tl_task_data(task, i)));
        TL_TRY(copy_set(tl_task_data(task, i), r.own, &r.dom[i].data));
        TL_TRY(copy_set(tl_task_labelled(task, i), r.own, &r.dom[i].labelled));
        TL_TRY(copy_set(tl_task_test(task, i), r.own, &r.dom[i].test));
    }
    TL_TRY(align_widths(&r, m && (m->needs & TL_HETEROGENEOUS)));
    prep_domain *S = &r.dom[r.src], *T = &r.dom[r.tgt];
    TL_CHECK(!T->labelled || (tl_dataset_rows(T->labelled) > 0 &&
                              (r.regression ? tl_dataset_has_targets(T->labelled)
                                            : tl_dataset_has_labels(T->labelled))),
             TL_ERR_LABEL, "'%s' has no %s: labelled target rows must have them",
             T->labelled ? tl_dataset_name(T->labelled) : "",
             r.regression ? "regression targets" : "labels");
    tl_dataset *E = T->test ? T->test : T->data; /* the rows scored */
    TL_TRY(check_labels(&r, S->data, E));
    if (m && m->params) TL_TRY(tl_params_check(method, tl_dataset_cols(S->data),
                                               tl_dataset_rows(S->data) + tl_dataset_rows(T->data)));

    /* 2. preprocessing, then dense copies where the method works on dense rows */
    TL_TRY(preprocess(&r, &sc));
    if (m && (m->needs & TL_DENSE_ONLY))
        for (size_t i = 0; i < r.nd; i++) {
            tl_dataset *s[3] = {r.dom[i].data, r.dom[i].labelled, r.dom[i].test};
            for (int k = 0; k < 3; k++)
                if (s[k]) TL_TRY(tl_dataset_densify(s[k]));
        }
    TL_TRY(tl_task_create(&r.work));
    for (size_t i = 0; i < r.nd; i++) {
        TL_TRY(tl_task_add(r.work, tl_task_role(task, i), r.dom[i].data, NULL));
        TL_TRY(tl_task_set_labelled(r.work, i, r.dom[i].labelled));
        TL_TRY(tl_task_set_test(r.work, i, r.dom[i].test));
    }
    TL_TRY(tlx_report_new(&rep));
    rep->seconds_preprocess = tli_seconds() - t0;

    /* 3. the no-transfer baselines */
    size_t ne = tl_dataset_rows(E), nl = T->labelled ? tl_dataset_rows(T->labelled) : 0;
    const int *ys = tl_dataset_labels_const(S->data);
    run_truth us = truth_of(S->data), ue = truth_of(E), ul = truth_of(T->labelled);
    rep->regression = r.regression;
    if (r.regression) {
        TL_ALLOC(rep->predicted_values, ne ? ne : 1);
        TL_ALLOC(tmp_val, ne ? ne : 1);
    } else {
        TL_ALLOC(rep->predictions, ne ? ne : 1);
        TL_ALLOC(tmp_pred, ne ? ne : 1);
    }
    run_pred out = {rep->predictions, rep->predicted_values}, tmp = {tmp_pred, tmp_val};
    /* The source-only baseline and the guard's half on the original spaces need nothing from
       the method: with a feature map and no labelled target rows they run on a second thread
       while the method is fitted (tli_overlap; the guard's half only when its learner's C is
       known before the fit). Their figures are those of the same steps run in turn. */
    tl_guard_params gp = r.o.guard_params ? *r.o.guard_params : tl_guard_params_default();
    gp.learner = r.lp; /* reverse validation judges the model the user gets */
    gp.seed = tlx_seed(r.o.ctx);
    /* the cache (tlx_run_cache): when it is ready, the baseline's labels and the guard's half
       come from it and the method is fitted alone */
    bool cached = cache && m && (fam == TL_FAMILY_FEATURE || fam == TL_FAMILY_INSTANCE) && !nl &&
                  !r.regression && ne && r.o.guard && gp.learner.C != TL_LEARNER_C_AUTO;
    bool from_cache = cached && cache->ready;
    if (from_cache) {
        TL_CHECK(cache->ne == ne && cache->pre.ns == tl_dataset_rows(S->data) &&
                     cache->pre.nt == tl_dataset_rows(T->data),
                 TL_ERR_SHAPE, "transfer: the run cache was filled on another task");
        memcpy(tmp_pred, cache->base_pred, ne * sizeof *tmp_pred);
        TL_TRY(guard_pre_copy(&cache->pre, &gpre));
    }
    bool overlap = m && fam == TL_FAMILY_FEATURE && !nl && !from_cache;
    bool early_guard = overlap && r.o.guard && gp.learner.C != TL_LEARNER_C_AUTO;
    side_job sj = {&r, tl_dataset_features(S->data), us, tl_dataset_weights(S->data),
                   tl_dataset_features(E), tmp, &srcl, early_guard ? &gp : NULL,
                   tl_dataset_features(S->data), tl_dataset_features(T->data), ys, &gpre,
                   0.0, 0.0};
    method_job mj = {method, lparams, r.work, r.o.ctx, &model, m ? m->name : NULL, 0.0};
    if (overlap)
        st = tli_overlap(method_run, &mj, side_run, &sj);
    else if (!from_cache)
        st = side_run(&sj);
    if (st != TL_OK) goto done;
    TL_TRY(score_pred(&r, ue, tmp, ne, &rep->source_only));
    if (r.o.report_views && tmp_pred && ne) { /* the page's no-transfer confusion matrix */
        TL_ALLOC(base_pred, ne);
        memcpy(base_pred, tmp_pred, ne * sizeof *base_pred);
    }
    if (!m) copy_pred(&r, out, tmp, ne);
    t0 = tli_seconds();
    if (nl) {
        st = train_predict(&r, tl_dataset_features(T->labelled), ul, NULL, tl_dataset_features(E),
                           tmp, NULL);
        if (st == TL_OK) st = score_pred(&r, ue, tmp, ne, &rep->target_only);
        if (st == TL_OK) st = tl_dataset_concat(S->data, T->labelled, &pooled);
        if (st == TL_OK)
            st = train_predict(&r, tl_dataset_features(pooled), truth_of(pooled), NULL,
                               tl_dataset_features(E), tmp, m ? NULL : &final);
        if (st == TL_OK) st = score_pred(&r, ue, tmp, ne, &rep->pooled);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "baselines with the labelled target rows");
            goto done;
        }
        if (!m) copy_pred(&r, out, tmp, ne);
    }
    if (!m && !final) {
        final = srcl;
        srcl = NULL;
    }
    rep->seconds_baseline = sj.seconds + (tli_seconds() - t0);

    /* 4. the method (fitted above beside the baseline, or now), and the learner on its output */
    if (m && !overlap) TL_TRY(method_run(&mj));
    rep->seconds_method = mj.seconds;
    t0 = tli_seconds();
    if (fam == TL_FAMILY_FEATURE) {
        st = tl_model_transform(model, r.src, tl_dataset_dense(S->data), &Zs);
        if (st == TL_OK) st = tl_model_transform(model, r.tgt, tl_dataset_dense(E), &Ze);
        if (st == TL_OK && nl)
            st = tl_model_transform(model, r.tgt, tl_dataset_dense(T->labelled), &Zl);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "transforming with %s", m->name);
            goto done;
        }
        if (nl) { /* the labelled target rows join the training set in the shared space */
            TL_TRY(stack(Zs, us, Zl, ul, &Zsl, &ysl, &tsl));
            run_truth usl = {ysl, tsl};
            st = train_predict(&r, tl_xmat_from_dense(Zsl), usl, NULL, tl_xmat_from_dense(Ze),
                               out, &final);
        } else {
            st = train_predict(&r, tl_xmat_from_dense(Zs), us, tl_dataset_weights(S->data),
                               tl_xmat_from_dense(Ze), out, &final);
        }
    } else if (fam == TL_FAMILY_INSTANCE) {
        size_t nw = 0;
        const double *fw = tl_model_fit_weights(model, &nw);
        weight_stats(rep, fw, nw);
        /* labelled target rows (pooled with the source above) join with weight 1 */
        TL_ALLOC(w, nw + nl ? nw + nl : 1);
        memcpy(w, fw, nw * sizeof *w);
        for (size_t i = 0; i < nl; i++) w[nw + i] = 1.0;
        const tl_dataset *train = nl ? pooled : S->data;
        st = train_predict(&r, tl_dataset_features(train), truth_of(train), w,
                           tl_dataset_features(E), out, &final);
    } else if (fam == TL_FAMILY_ENSEMBLE) {
        st = ne ? tl_model_predict(model, tl_dataset_features(E), rep->predictions) : TL_OK;
    }
    if (st != TL_OK) {
        st = tl_fail_prefix(st, m && fam != TL_FAMILY_ENSEMBLE ? "learning after %s" : "%s",
                            m ? m->name : "learning");
        goto done;
    }
    rep->seconds_learner = tli_seconds() - t0;
    TL_TRY(score_pred(&r, ue, out, ne, &rep->result));
    if (m && !nl && ne && tmp_pred && rep->predictions) { /* tmp: still the source-only labels */
        size_t changed = 0;
        for (size_t i = 0; i < ne; i++) changed += rep->predictions[i] != tmp_pred[i];
        rep->changed_from_no_transfer = (double)changed / (double)ne;
    }
    const tl_learner *user_learner = final ? final : srcl;
    rep->learner_C = rep->learner_cv_accuracy = NAN;
    if (user_learner && fam != TL_FAMILY_ENSEMBLE) {
        rep->learner_fitted = true;
        double c = tl_learner_C(user_learner);
        if (c > 0) rep->learner_C = c;
        rep->learner_C_auto = tl_learner_C_auto(user_learner, &rep->learner_cv_accuracy);
        if (!rep->learner_C_auto) rep->learner_cv_accuracy = NAN;
        rep->learner_converged = tl_learner_converged(user_learner);
    }
    tlx_report_compare(rep);
    if (r.o.report_views && !r.regression) {
        TL_TRY(tlx_report_confusion(rep, ue.y, rep->predictions, base_pred, ne));
        TL_TRY(tlx_report_view(rep, tl_dataset_features(S->data), ys, tl_dataset_features(E), ue.y,
                               Zs, Ze, r.o.report_tsne, tlx_seed(r.o.ctx)));
        size_t nw = 0;
        const double *fw = fam == TL_FAMILY_INSTANCE ? tl_model_fit_weights(model, &nw) : NULL;
        TL_TRY(tlx_report_weights(rep, tl_dataset_features(S->data),
                                  tl_dataset_features(T->data), fw, nw, tlx_seed(r.o.ctx),
                                  r.o.ctx));
    }

    /* 5. the guard */
    tlx_report_guard_blank(rep);
    t0 = tli_seconds();
    if (r.o.guard && m) {
        if (gp.learner.C == TL_LEARNER_C_AUTO && rep->learner_C > 0)
            gp.learner.C = rep->learner_C; /* with the C the search chose, not a search per fit */
        tl_xmat Fs = tl_dataset_features(S->data), Ft = tl_dataset_features(T->data);
        if (fam == TL_FAMILY_FEATURE) {
            tl_mat Zt_use = Ze;
            if (E != T->data) {
                st = tl_model_transform(model, r.tgt, tl_dataset_dense(T->data), &Zt);
                if (st != TL_OK) {
                    st = tl_fail_prefix(st, "transforming the target");
                    goto done;
                }
                Zt_use = Zt;
            }
            st = tlx_guard_after(&gp, Fs, ys, Ft, tl_xmat_from_dense(Zs), NULL,
                                 tl_xmat_from_dense(Zt_use), &gpre, &rep->guard);
        } else if (fam == TL_FAMILY_INSTANCE) {
            size_t nw; /* the original-space half computed here unless the cache had it */
            st = tlx_guard_after(&gp, Fs, ys, Ft, Fs, tl_model_fit_weights(model, &nw), Ft, &gpre,
                                 &rep->guard);
        } else { /* an ensemble: does the source correspond to the target at all? */
            st = tl_guard_correspondence(&gp, Fs, Ft, &rep->guard.correspondence,
                                         &rep->guard.correspondence_p);
            if (st == TL_OK) {
                rep->guard.unrelated = rep->guard.correspondence < gp.min_correspondence;
                rep->guard.verdict = rep->guard.unrelated ? TL_GUARD_HARMFUL : TL_GUARD_OK;
                if (isnan(rep->guard.correspondence))
                    snprintf(rep->guard.reason, sizeof rep->guard.reason,
                             "feature correspondence not measurable here");
                else
                    snprintf(rep->guard.reason, sizeof rep->guard.reason,
                             rep->guard.unrelated
                                 ? "the source looks unrelated: its feature correlations do not "
                                   "match the target's (Mantel r = %.3f < %.2f, permutation p = "
                                   "%.2g)"
                                 : "features correspond (r = %.2f; p = %.2g)",
                             rep->guard.correspondence,
                             rep->guard.unrelated ? gp.min_correspondence
                                                  : rep->guard.correspondence_p,
                             rep->guard.correspondence_p);
            }
        }
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "negative-transfer guard");
            goto done;
        }
        if (nl && !r.regression) { /* the transferred source model on the labelled target rows */
            double to_cv = NAN;
            TL_ALLOC(lab_pred, nl);
            run_pred lp = {lab_pred, NULL};
            if (fam == TL_FAMILY_FEATURE)
                st = train_predict(&r, tl_xmat_from_dense(Zs), us, tl_dataset_weights(S->data),
                                   tl_xmat_from_dense(Zl), lp, NULL);
            else if (fam == TL_FAMILY_INSTANCE) {
                size_t nw;
                st = train_predict(&r, Fs, us, tl_model_fit_weights(model, &nw),
                                   tl_dataset_features(T->labelled), lp, NULL);
            } else
                st = tl_learner_predict(srcl, tl_dataset_features(T->labelled), lab_pred);
            if (st == TL_OK && nl >= 4)
                st = tl_cross_validate(&r.lp, tl_dataset_features(T->labelled), ul.y, NULL,
                                       nl < 5 ? nl : 5, gp.seed, &to_cv, NULL);
            if (st == TL_OK)
                st = tl_guard_labelled(&gp, ul.y, lab_pred, nl, to_cv, &rep->labelled);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "checking the transfer on the labelled target rows");
                goto done;
            }
            rep->labelled_checked = true;
            rep->labelled_transfer_accuracy = rep->labelled.accuracy;
        }
        if (cached && !cache->ready && gpre.ready) { /* the first run fills the cache */
            tlx_run_cache_free(cache); /* what a failed fill left */
            TL_ALLOC(cache->base_pred, ne);
            memcpy(cache->base_pred, tmp_pred, ne * sizeof *tmp_pred);
            cache->ne = ne;
            TL_TRY(guard_pre_copy(&gpre, &cache->pre));
            cache->ready = true;
        }
        rep->guarded = true;
        rep->negative_transfer =
            rep->guard.verdict == TL_GUARD_HARMFUL || (rep->labelled_checked && rep->labelled.harmful);
    }
    rep->seconds_guard = sj.guard_seconds + (tli_seconds() - t0);

    /* 6. the report and the pipeline */
    TL_TRY(tlx_report_describe(rep, task, E, m ? m->name : "none", fam, r.learner_label,
                               &r.o, r.src, r.tgt));
    if (m) TL_TRY(tl_params_clone(method, &rep->params));
    tlx_report_info(rep, model);
    if (r.o.keep_embeddings && fam == TL_FAMILY_FEATURE) {
        TL_CALLOC(rep->embedded, r.nd);
        for (size_t i = 0; i < r.nd; i++) {
            if (i == r.src) {
                rep->embedded[i] = Zs;
                Zs.data = NULL;
            } else if (i == r.tgt && Zt.data) {
                rep->embedded[i] = Zt;
                Zt.data = NULL;
            } else if (i == r.tgt && E == T->data) {
                TL_TRY(tl_mat_clone(&rep->embedded[i], Ze));
            } else {
                st = tl_model_transform(model, i, tl_dataset_dense(r.dom[i].data), &rep->embedded[i]);
                if (st != TL_OK) tl_error_clear(), st = TL_OK; /* a domain the map does not know */
            }
        }
        rep->embedded_eval = Ze;
        Ze.data = NULL;
    }
    if (pipeline) {
        TL_TRY(tlx_pipeline_make(&sc, model, final, task, r.src, r.tgt, &pipe));
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
    tli_threads_leave(scope);
    tl_report_free(rep);
    tl_pipeline_free(pipe);
    tl_model_free(model);
    tl_learner_free(final);
    tl_learner_free(srcl);
    tl_dataset_free(pooled);
    tlx_scalers_free(&sc);
    tlx_guard_pre_free(&gpre);
    tl_mat_free(&Zs);
    tl_mat_free(&Ze);
    tl_mat_free(&Zl);
    tl_mat_free(&Zt);
    tl_mat_free(&Zsl);
    tl_free(ysl);
    tl_free(tsl);
    tl_free(lab_pred);
    tl_free(tmp_pred);
    tl_free(base_pred);
    tl_free(tmp_val);
    tl_free(w);
    state_free(&r);
    return st;
}
