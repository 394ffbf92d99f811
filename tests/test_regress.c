/* Regression targets end to end: datasets that hold real-valued targets (read from CSV, svmlight
 * and .npy, written back exactly, carried by subset / concat / clone, never beside class labels),
 * the regressors (ridge and k-NN against scikit-learn's Ridge and KNeighborsRegressor from
 * tests/golden/make_regress.py; weights; save -> load), classifiers refusing targets, and the
 * protocol (tl_transfer_run) scoring RMSE / MAE / R^2 against the same no-transfer baselines, the
 * guard running label-free, class-label methods refused, and a saved pipeline predicting values. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "golden_fixture.h"
#include "harness.h"
#include "pipeline/pipeline_internal.h"
#include "tl.h"

static char tmpdir[64];

static const char *tmp_write(const char *name, const char *text) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static double max_diff(const double *a, const double *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs(a[i] - b[i]));
    return e;
}

/* ---------------------------------------------------------------- data */

TEST(csv_targets_read_and_written_exactly) {
    const char *p = tmp_write("t.csv", "x,y,target\n1,2,0.25\n3,4,-1.5e3\n5,6,7\n");
    tl_dataset *ds = NULL, *back = NULL;
    CHECK_OK(tl_dataset_load_targets(p, NULL, &ds));
    CHECK(tl_dataset_has_targets(ds) && !tl_dataset_has_labels(ds));
    CHECK(tl_dataset_cols(ds) == 2);
    const double *t = tl_dataset_targets(ds);
    CHECK(t && t[0] == 0.25 && t[1] == -1500 && t[2] == 7);
    char out[256];
    snprintf(out, sizeof out, "%s/back.csv", tmpdir);
    CHECK_OK(tl_dataset_save(ds, out, TL_FORMAT_AUTO, 1));
    CHECK_OK(tl_dataset_load_targets(out, NULL, &back));
    CHECK(max_diff(tl_dataset_targets(back), t, 3) == 0);
    tl_dataset_free(back);
    /* svmlight and .npy keep them too */
    const char *ext[2] = {"back.svmlight", "back.npy"};
    for (int k = 0; k < 2; k++) {
        snprintf(out, sizeof out, "%s/%s", tmpdir, ext[k]);
        CHECK_OK(tl_dataset_save(ds, out, TL_FORMAT_AUTO, 1));
        back = NULL;
        CHECK_OK(tl_dataset_load_targets(out, NULL, &back));
        CHECK_MSG(back && tl_dataset_targets(back) &&
                      max_diff(tl_dataset_targets(back), t, 3) == 0,
                  "%s", ext[k]);
        tl_dataset_free(back);
    }
    /* read as classes, real values are refused with the way out named */
    back = NULL;
    CHECK_STATUS(tl_dataset_load(p, NULL, &back), TL_ERR_LABEL);
    CHECK_ERR_HAS("--task regression");
    tl_dataset_free(ds);
}

TEST(bad_targets_name_file_and_line) {
    const char *p = tmp_write("bad.csv", "1,2,0.5\n3,4,nope\n");
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_dataset_load_targets(p, NULL, &ds), TL_ERR_LABEL);
    CHECK_ERR_HAS("bad.csv:2:");
    CHECK_ERR_HAS("not a finite number");
    p = tmp_write("bad2.csv", "1,2,0.5\n3,4,nan\n");
    CHECK_STATUS(tl_dataset_load_targets(p, NULL, &ds), TL_ERR_LABEL);
    CHECK_ERR_HAS("bad2.csv:2:");
    p = tmp_write("bad.svmlight", "0.5 1:2\nx 1:3\n");
    CHECK_STATUS(tl_dataset_load_targets(p, NULL, &ds), TL_ERR_LABEL);
    CHECK_ERR_HAS("bad.svmlight:2:");
    CHECK(ds == NULL);
}

TEST(targets_follow_rows) {
    double X[8] = {1, 2, 3, 4, 5, 6, 7, 8}, t[4] = {0.5, 1.5, -2, 9};
    tl_dataset *ds = NULL, *sub = NULL, *cat = NULL, *cl = NULL;
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(X, 4, 2), NULL, &ds));
    CHECK_OK(tl_dataset_set_targets(ds, t));
    size_t idx[2] = {3, 1};
    CHECK_OK(tl_dataset_subset(ds, idx, 2, &sub));
    CHECK(tl_dataset_targets(sub)[0] == 9 && tl_dataset_targets(sub)[1] == 1.5);
    CHECK_OK(tl_dataset_concat(ds, sub, &cat));
    CHECK(tl_dataset_rows(cat) == 6 && tl_dataset_targets(cat)[5] == 1.5);
    CHECK_OK(tl_dataset_clone(ds, &cl));
    CHECK(max_diff(tl_dataset_targets(cl), t, 4) == 0);
    /* labels and targets exclude each other */
    int y[4] = {0, 1, 0, 1};
    CHECK_OK(tl_dataset_set_labels(cl, y));
    CHECK(!tl_dataset_has_targets(cl) && tl_dataset_has_labels(cl));
    CHECK_OK(tl_dataset_set_targets(cl, t));
    CHECK(tl_dataset_has_targets(cl) && !tl_dataset_has_labels(cl));
    double bad[4] = {0, NAN, 0, 0};
    CHECK_STATUS(tl_dataset_set_targets(cl, bad), TL_ERR_NONFINITE);
    tl_dataset_free(ds);
    tl_dataset_free(sub);
    tl_dataset_free(cat);
    tl_dataset_free(cl);
}

/* ---------------------------------------------------------------- learners */

static tl_learner *fit_reg(tl_learner_type type, double alpha, bool fi, tl_xmat X, const double *t,
                           const double *w) {
    tl_learner_params p = tl_learner_params_default(type);
    p.alpha = alpha;
    p.fit_intercept = fi;
    if (type == TL_LEARNER_KNN) p.k = 3;
    tl_learner *l = NULL;
    if (tl_learner_create(&p, &l) != TL_OK) return NULL;
    if (tl_learner_fit_targets(l, X, t, w) != TL_OK) {
        tl_learner_free(l);
        return NULL;
    }
    return l;
}

/* X (n, d) dense as a CSR copy (the sparse path of the same learner). */
static tl_dataset *as_sparse(tl_mat X) {
    tl_dataset *ds = NULL;
    if (tl_dataset_from_dense(X, NULL, &ds) != TL_OK) return NULL;
    /* round trip through svmlight text makes it CSR */
    char path[256];
    snprintf(path, sizeof path, "%s/sp.svmlight", tmpdir);
    double *z = calloc(X.rows, sizeof *z);
    tl_dataset_set_targets(ds, z);
    free(z);
    tl_dataset_save(ds, path, TL_FORMAT_SVMLIGHT, 1);
    tl_dataset_free(ds);
    ds = NULL;
    tl_load_opts o = tl_load_opts_default();
    o.n_features = X.cols;
    if (tl_dataset_load_targets(path, &o, &ds) != TL_OK) return NULL;
    return ds;
}

TEST(ridge_regression_matches_sklearn) {
    golden g;
    if (golden_load(&g, "learn_regress.txt") != 0) {
        CHECK(0);
        return;
    }
    const char *tags[3] = {"a", "b", "c"};
    for (int c = 0; c < 3; c++) {
        char nm[32];
        snprintf(nm, sizeof nm, "X_%s", tags[c]);
        tl_mat X = gmat(&g, nm);
        snprintf(nm, sizeof nm, "t_%s", tags[c]);
        tl_mat t = gmat(&g, nm);
        snprintf(nm, sizeof nm, "w_%s", tags[c]);
        tl_mat w = gmat(&g, nm);
        snprintf(nm, sizeof nm, "Q_%s", tags[c]);
        tl_mat Q = gmat(&g, nm);
        snprintf(nm, sizeof nm, "p_%s", tags[c]);
        tl_mat P = gmat(&g, nm);
        snprintf(nm, sizeof nm, "m_%s", tags[c]);
        tl_mat m = gmat(&g, nm);
        if (!X.data || !t.data || !w.data || !Q.data || !P.data || !m.data) {
            CHECK(0);
            continue;
        }
        tl_dataset *sp = as_sparse(X);
        for (int sparse = 0; sparse < 2; sparse++) {
            tl_xmat Xx = sparse ? tl_dataset_features(sp) : tl_xmat_from_dense(X);
            tl_learner *l = fit_reg(TL_LEARNER_RIDGE, m.data[0], m.data[1] != 0, Xx, t.data, w.data);
            double v[10];
            CHECK(l && tl_learner_is_regressor(l));
            CHECK_OK(tl_learner_predict_values(l, tl_xmat_from_dense(Q), v));
            double e = max_diff(v, P.data, Q.rows);
            CHECK_MSG(e < 1e-9, "ridge case %s (%s): max |diff| %.3g", tags[c],
                      sparse ? "sparse" : "dense", e);
            tl_learner_free(l);
        }
        tl_dataset_free(sp);
    }
    golden_free(&g);
}

TEST(knn_regression_matches_sklearn_and_weights_count) {
    golden g;
    if (golden_load(&g, "learn_regress.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat X = gmat(&g, "X_knn"), t = gmat(&g, "t_knn"), Q = gmat(&g, "Q_knn"), P = gmat(&g, "p_knn");
    tl_learner *l = fit_reg(TL_LEARNER_KNN, 0, true, tl_xmat_from_dense(X), t.data, NULL);
    double v[8], v2[8];
    CHECK(l != NULL);
    CHECK_OK(tl_learner_predict_values(l, tl_xmat_from_dense(Q), v));
    CHECK_MSG(max_diff(v, P.data, 8) < 1e-12, "knn regression: %.3g", max_diff(v, P.data, 8));
    tl_learner_free(l);
    /* weight 2 on a row is that row twice, as for the classifier's votes (k = 3 over 31 rows
     * against k = 3 over 30 with one weight 2 differs, so compare the weighted mean directly) */
    double w[30];
    for (int i = 0; i < 30; i++) w[i] = i == 0 ? 0 : 1;
    l = fit_reg(TL_LEARNER_KNN, 0, true, tl_xmat_from_dense(X), t.data, w);
    tl_learner *l2 = fit_reg(TL_LEARNER_KNN, 0, true, tl_xmat_from_dense(tl_mat_rows(X, 1, 29)),
                             t.data + 1, NULL);
    CHECK(l && l2);
    CHECK_OK(tl_learner_predict_values(l, tl_xmat_from_dense(Q), v));
    CHECK_OK(tl_learner_predict_values(l2, tl_xmat_from_dense(Q), v2));
    CHECK_MSG(max_diff(v, v2, 8) == 0, "a zero weight drops the row");
    tl_learner_free(l);
    tl_learner_free(l2);
    golden_free(&g);
}

TEST(regressors_save_load_and_refuse_the_other_kind) {
    golden g;
    if (golden_load(&g, "learn_regress.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat X = gmat(&g, "X_a"), t = gmat(&g, "t_a"), Q = gmat(&g, "Q_a");
    tl_learner_type types[2] = {TL_LEARNER_RIDGE, TL_LEARNER_KNN};
    for (int k = 0; k < 2; k++) {
        tl_learner *l = fit_reg(types[k], 1.0, true, tl_xmat_from_dense(X), t.data, NULL), *r = NULL;
        tl_tlm *c = NULL;
        double v[10], v2[10];
        int cls[10];
        CHECK(l != NULL);
        CHECK_OK(tl_learner_predict_values(l, tl_xmat_from_dense(Q), v));
        CHECK_OK(tl_tlm_create(&c));
        CHECK_OK(tl_learner_write(l, c));
        CHECK_OK(tl_learner_read(c, "mem", &r));
        CHECK(r && tl_learner_is_regressor(r));
        CHECK_OK(tl_learner_predict_values(r, tl_xmat_from_dense(Q), v2));
        CHECK_MSG(max_diff(v, v2, 10) == 0, "%s: reloaded predicts the same", tl_learner_name(types[k]));
        CHECK_STATUS(tl_learner_predict(r, tl_xmat_from_dense(Q), cls), TL_ERR_STATE);
        CHECK_ERR_HAS("regression targets");
        tl_learner_free(l);
        tl_learner_free(r);
        tl_tlm_free(c);
    }
    /* classifiers refuse targets; a classifier refuses predict_values */
    tl_learner_params p = tl_learner_params_default(TL_LEARNER_LOGREG);
    tl_learner *l = NULL;
    CHECK_OK(tl_learner_create(&p, &l));
    CHECK_STATUS(tl_learner_fit_targets(l, tl_xmat_from_dense(X), t.data, NULL), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("logreg is a classifier");
    CHECK(!tl_learner_type_regresses(TL_LEARNER_SVM) && tl_learner_type_regresses(TL_LEARNER_RIDGE));
    int y[40];
    for (int i = 0; i < 40; i++) y[i] = t.data[i] > 0;
    CHECK_OK(tl_learner_fit(l, tl_xmat_from_dense(X), y, NULL));
    double v[10];
    CHECK_STATUS(tl_learner_predict_values(l, tl_xmat_from_dense(Q), v), TL_ERR_STATE);
    double tn[40];
    memcpy(tn, t.data, sizeof tn);
    tn[3] = INFINITY;
    tl_learner_free(l);
    l = NULL;
    p = tl_learner_params_default(TL_LEARNER_RIDGE);
    CHECK_OK(tl_learner_create(&p, &l));
    CHECK_STATUS(tl_learner_fit_targets(l, tl_xmat_from_dense(X), tn, NULL), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("target 4");
    tl_learner_free(l);
    golden_free(&g);
}

TEST(regression_scores_match_sklearn_metrics) {
    golden g;
    if (golden_load(&g, "learn_regress.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat y = gmat(&g, "metric_y"), v = gmat(&g, "metric_v"), ref = gmat(&g, "metric_ref");
    tl_score s;
    CHECK_OK(tlx_score_values(y.data, v.data, y.cols, &s));
    CHECK(fabs(s.rmse - ref.data[0]) < 1e-12 && fabs(s.mae - ref.data[1]) < 1e-12 &&
          fabs(s.r2 - ref.data[2]) < 1e-12);
    CHECK(isnan(s.accuracy) && s.n == y.cols);
    golden_free(&g);
}

/* ---------------------------------------------------------------- the protocol */

/* Source N(0, 1), target N(0.6, 1.4) in 3 correlated columns; t = x0 - 2 x1 + 0.5 + noise. */
static tl_dataset *regression_domain(size_t n, double shift, double scale, uint64_t seed,
                                     bool with_targets) {
    tl_dataset *ds = NULL;
    if (tl_dataset_create_dense(n, 3, false, &ds) != TL_OK) return NULL;
    tl_mat X = tl_dataset_dense(ds);
    double *t = malloc(n * sizeof *t);
    tl_rng r;
    tl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        double z0 = tl_rng_normal(&r);
        for (size_t j = 0; j < 3; j++)
            TL_AT(X, i, j) = scale * (tl_rng_normal(&r) + (j ? 0.7 * z0 : z0)) + shift;
        t[i] = TL_AT(X, i, 0) - 2 * TL_AT(X, i, 1) + 0.5 + 0.05 * tl_rng_normal(&r);
    }
    if (with_targets) tl_dataset_set_targets(ds, t);
    free(t);
    return ds;
}

static tl_report *run(const char *method, const char *learner, tl_dataset *S, tl_dataset *T,
                      tl_pipeline **pipe, tl_status *st) {
    tl_task *task = NULL;
    tl_params *mp = NULL, *lp = NULL;
    tl_report *rep = NULL;
    tl_task_create(&task);
    tl_task_add(task, TL_ROLE_SOURCE, S, NULL);
    tl_task_add(task, TL_ROLE_TARGET, T, NULL);
    if (method) tl_params_create(tl_method_find(method, -1), &mp);
    if (learner) tl_params_create(tl_method_find(learner, TL_FAMILY_LEARNER), &lp);
    tl_run_opts o = tl_run_opts_default();
    o.learner = lp;
    *st = tl_transfer_run(task, mp, &o, &rep, pipe);
    tl_params_free(mp);
    tl_params_free(lp);
    tl_task_free(task);
    return rep;
}

TEST(transfer_run_scores_regression) {
    tl_dataset *S = regression_domain(200, 0, 1, 1, true), *T = regression_domain(150, 0.6, 1.4, 2, true);
    tl_status st;
    tl_pipeline *pipe = NULL;
    tl_report *rep = run("kliep", "ridge", S, T, &pipe, &st);
    CHECK_OK(st);
    CHECK(rep && rep->regression && rep->result.n == 150);
    CHECK(!isnan(rep->result.rmse) && isnan(rep->result.accuracy));
    CHECK(rep->predicted_values && !rep->predictions);
    /* the no-transfer baseline is ridge on the source alone, scored on the target */
    tl_learner_params p = tl_learner_params_default(TL_LEARNER_RIDGE);
    tl_learner *l = NULL;
    double *v = malloc(150 * sizeof *v);
    CHECK_OK(tl_learner_create(&p, &l));
    CHECK_OK(tl_learner_fit_targets(l, tl_dataset_features(S), tl_dataset_targets(S), NULL));
    CHECK_OK(tl_learner_predict_values(l, tl_dataset_features(T), v));
    tl_score s;
    tlx_score_values(tl_dataset_targets(T), v, 150, &s);
    CHECK_MSG(fabs(s.rmse - rep->source_only.rmse) < 1e-12, "baseline %.6g vs %.6g", s.rmse,
              rep->source_only.rmse);
    CHECK(fabs(rep->gain - (rep->source_only.rmse - rep->result.rmse)) < 1e-12);
    /* the guard ran without labels */
    CHECK(rep->guarded && isnan(rep->guard.rv_before) && !isnan(rep->guard.mmd_before));
    char *json = NULL;
    CHECK_OK(tl_report_json(rep, "weight", &json));
    CHECK(json && strstr(json, "\"task\": \"regression\"") && strstr(json, "\"rmse\": "));
    tl_free(json);
    /* the pipeline predicts the same values, also after a save and load */
    double *pv = malloc(150 * sizeof *pv);
    CHECK(pipe && tl_pipeline_is_regression(pipe));
    CHECK_OK(tl_pipeline_predict_values(pipe, 1, T, pv));
    CHECK(max_diff(pv, rep->predicted_values, 150) < 1e-12);
    char path[256];
    snprintf(path, sizeof path, "%s/reg.tlm", tmpdir);
    CHECK_OK(tl_pipeline_save(pipe, path));
    tl_pipeline *back = NULL;
    CHECK_OK(tl_pipeline_load(path, &back));
    CHECK(back && tl_pipeline_is_regression(back));
    CHECK_OK(tl_pipeline_predict_values(back, 1, T, pv));
    CHECK(max_diff(pv, rep->predicted_values, 150) == 0);
    int *cls = malloc(150 * sizeof *cls);
    CHECK_STATUS(tl_pipeline_predict(back, 1, T, cls), TL_ERR_STATE);
    free(cls);
    free(pv);
    free(v);
    tl_learner_free(l);
    tl_pipeline_free(pipe);
    tl_pipeline_free(back);
    tl_report_free(rep);
    tl_dataset_free(S);
    tl_dataset_free(T);
}

TEST(regression_refuses_class_methods_and_classifiers) {
    tl_dataset *S = regression_domain(60, 0, 1, 3, true), *T = regression_domain(40, 0.5, 1, 4, true);
    tl_status st;
    tl_report *rep = run("jda", NULL, S, T, NULL, &st);
    CHECK(st == TL_ERR_UNSUPPORTED && !rep);
    CHECK_ERR_HAS("class labels");
    rep = run("coral", "logreg", S, T, NULL, &st);
    CHECK(st == TL_ERR_UNSUPPORTED && !rep);
    CHECK_ERR_HAS("is a classifier");
    rep = run("tradaboost", "ridge", S, T, NULL, &st);
    CHECK(st != TL_OK && !rep);
    /* an unlabelled target: predictions only */
    tl_dataset *U = regression_domain(40, 0.5, 1, 4, false);
    rep = run("coral", "ridge", S, U, NULL, &st);
    CHECK_OK(st);
    CHECK(rep && rep->regression && rep->result.n == 0 && rep->predicted_values);
    tl_report_free(rep);
    /* a class-labelled target against a regression source */
    int y[40] = {0};
    tl_dataset *L = regression_domain(40, 0.5, 1, 4, false);
    tl_dataset_set_labels(L, y);
    rep = run("coral", "ridge", S, L, NULL, &st);
    CHECK(st == TL_ERR_LABEL && !rep);
    CHECK_ERR_HAS("class labels but the source");
    tl_dataset_free(S);
    tl_dataset_free(T);
    tl_dataset_free(U);
    tl_dataset_free(L);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_regress_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(csv_targets_read_and_written_exactly);
    RUN(bad_targets_name_file_and_line);
    RUN(targets_follow_rows);
    RUN(ridge_regression_matches_sklearn);
    RUN(knn_regression_matches_sklearn_and_weights_count);
    RUN(regressors_save_load_and_refuse_the_other_kind);
    RUN(regression_scores_match_sklearn_metrics);
    RUN(transfer_run_scores_regression);
    RUN(regression_refuses_class_methods_and_classifiers);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) printf("  could not remove %s\n", tmpdir);
    return tl_test_summary();
}
