/* `tl baseline`: the no-transfer baseline — train a learner on the labelled source, predict the
 * target — against which every transfer result in libtl is reported. */
#include <math.h>

#include "cli.h"

static const cli_opt baseline_opts[] = {CLI_DOMAIN_OPTS, CLI_DATA_OPTS, CLI_TASK_OPT,
                                        {"", NULL, NULL, NULL}};

/* Regression targets (--task regression): the regressor on the source, RMSE / MAE / R^2 on the
 * evaluation rows. */
static int baseline_regression(cli_args *a, const tl_learner_params *lp, cli_domains *d) {
    tl_dataset *ev = cli_eval_set(d);
    size_t ne = tl_dataset_rows(ev);
    double *v = tl_malloc((ne ? ne : 1) * sizeof *v), rmse = NAN, mae = NAN, r2 = NAN;
    tl_learner *l = NULL;
    double t0 = cli_now();
    tl_status st = v ? tl_learner_create(lp, &l) : TL_ERR_NOMEM;
    if (st == TL_OK)
        st = tl_learner_fit_targets(l, tl_dataset_features(d->source),
                                    tl_dataset_targets(d->source), tl_dataset_weights(d->source));
    if (st == TL_OK) st = tl_learner_predict_values(l, tl_dataset_features(ev), v);
    double secs = cli_now() - t0;
    if (st == TL_OK && tl_dataset_has_targets(ev) && ne)
        st = tl_regression_scores(tl_dataset_targets(ev), v, ne, &rmse, &mae, &r2);
    int rc = 1;
    if (st != TL_OK) {
        cli_fail_status(st, "training %s on '%s'", cli_learner_label(lp), tl_dataset_name(d->source));
    } else if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "baseline");
        tl_json_str(&j, "task", "regression");
        tl_json_str(&j, "source", tl_dataset_name(d->source));
        tl_json_str(&j, "evaluated_on", tl_dataset_name(ev));
        tl_json_str(&j, "learner", cli_learner_label(lp));
        tl_json_int(&j, "n_eval", (long long)ne);
        tl_json_num(&j, "rmse", rmse);
        tl_json_num(&j, "mae", mae);
        tl_json_num(&j, "r2", r2);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
    } else {
        printf("%-18s %s (%zu samples)\n", "source", tl_dataset_name(d->source),
               tl_dataset_rows(d->source));
        printf("%-18s %s (%zu samples)\n", "target", tl_dataset_name(ev), ne);
        printf("%-18s %s (regression), preprocess %s\n", "learner", cli_learner_label(lp),
               cli_get(a, "preprocess"));
        if (isnan(rmse))
            printf("%-18s the rows have no targets: nothing to score\n", "RMSE");
        else
            printf("%-18s %.6g\n%-18s %.6g\n%-18s %.4f\n", "RMSE", rmse, "MAE", mae, "R^2", r2);
        printf("%-18s %.3f s\n", "time", secs);
        rc = 0;
    }
    tl_learner_free(l);
    tl_free(v);
    return rc;
}

static int run_baseline(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    tl_learner_params lp;
    if (!cli_learner_params(a, &lp)) return CLI_EXIT_USAGE;
    cli_domains d;
    int lrc = cli_load_domains(a, &d); /* 2 without --source/--target, 1 on bad data */
    if (lrc != 0) return lrc;
    if (cli_regression(a)) {
        lrc = baseline_regression(a, &lp, &d);
        cli_domains_free(&d);
        return lrc;
    }
    tl_dataset *ev = cli_eval_set(&d);
    size_t ne = tl_dataset_rows(ev);
    int *pred = tl_malloc(ne * sizeof *pred);
    tl_learner *l = NULL;
    int rc = 1;
    double t0 = cli_now();
    tl_status st = pred ? tl_learner_create(&lp, &l) : TL_ERR_NOMEM;
    if (st == TL_OK)
        st = tl_learner_fit(l, tl_dataset_features(d.source), tl_dataset_labels_const(d.source),
                            tl_dataset_weights(d.source));
    if (st == TL_OK) st = tl_learner_predict(l, tl_dataset_features(ev), pred);
    double secs = cli_now() - t0;
    cli_eval e;
    if (st == TL_OK) st = cli_evaluate(tl_dataset_labels_const(ev), pred, ne, &e);
    if (st != TL_OK) {
        cli_fail_status(st, "training %s on '%s'", cli_learner_label(&lp),
                        tl_dataset_name(d.source));
        goto done;
    }
    const char *pre = cli_get(a, "preprocess");
    double C = tl_learner_C(l), cv = NAN; /* C > 0: logreg / svm */
    bool C_auto = tl_learner_C_auto(l, &cv), converged = tl_learner_converged(l);
    if (!converged)
        cli_warn("%s stopped at its iteration limit without converging (raise --max-iter, scale "
                 "the features, or lower C)",
                 cli_learner_label(&lp));
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "baseline");
        tl_json_str(&j, "source", tl_dataset_name(d.source));
        tl_json_str(&j, "target", tl_dataset_name(d.target));
        tl_json_str(&j, "evaluated_on", tl_dataset_name(ev));
        tl_json_str(&j, "learner", cli_learner_label(&lp));
        tl_json_obj_begin(&j, "learner_fit"); /* as in the transfer report */
        if (C > 0) tl_json_num(&j, "C", C);
        else tl_json_null(&j, "C");
        tl_json_bool(&j, "C_auto", C_auto);
        if (C_auto) tl_json_num(&j, "cv_accuracy", cv);
        else tl_json_null(&j, "cv_accuracy");
        tl_json_bool(&j, "converged", converged);
        tl_json_obj_end(&j);
        tl_json_str(&j, "preprocess", pre);
        tl_json_str(&j, "preprocess_fit", cli_get(a, "preprocess-fit"));
        tl_json_int(&j, "n_source", (long long)tl_dataset_rows(d.source));
        tl_json_int(&j, "n_target", (long long)tl_dataset_rows(d.target));
        tl_json_int(&j, "n_eval", (long long)ne);
        tl_json_int(&j, "n_features", (long long)tl_dataset_cols(d.source));
        tl_json_num(&j, "accuracy", e.accuracy);
        tl_json_num(&j, "balanced_accuracy", e.balanced_accuracy);
        tl_json_num(&j, "macro_f1", e.macro_f1);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
    } else {
        printf("%-18s %s (%zu samples)\n", "source", tl_dataset_name(d.source),
               tl_dataset_rows(d.source));
        printf("%-18s %s (%zu samples)\n", "target", tl_dataset_name(ev), ne);
        printf("%-18s %s, preprocess %s", "learner", cli_learner_label(&lp), pre);
        if (C > 0 && C_auto)
            printf(", C = %g chosen by cross-validation (%.2f %%)", C, 100 * cv);
        else if (C > 0)
            printf(", C = %g", C);
        printf("\n");
        printf("%-18s %.2f %%\n", "accuracy", 100 * e.accuracy);
        printf("%-18s %.2f %%\n", "balanced accuracy", 100 * e.balanced_accuracy);
        printf("%-18s %.2f %%\n", "macro-F1", 100 * e.macro_f1);
        printf("%-18s %.3f s\n", "time", secs);
        rc = 0;
    }
done:
    tl_learner_free(l);
    tl_free(pred);
    cli_domains_free(&d);
    return rc;
}

const cli_command cmd_baseline = {
    "baseline", "no-transfer baseline: train on the source, test on the target",
    "--source SPEC --target SPEC [--target-test SPEC] [options]", baseline_opts, run_baseline, 0,
    "1nn"};
