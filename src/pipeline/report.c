/* The transfer report (tl/pipeline.h): what the protocol measured, and its two renderings - the
 * JSON object every transferring command prints with --json (keys documented in docs/report.md,
 * checked against docs/report.schema.json by the tests) and the table they print otherwise.
 * Every key is spelled here and nowhere else, so all commands share one schema. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"
#include "tl/json.h"

void tl_report_free(tl_report *r) {
    if (!r) return;
    tl_free((char *)r->learner);
    tl_free((char *)r->arch);
    tl_free((char *)r->source);
    tl_free((char *)r->target);
    tl_free((char *)r->evaluated_on);
    tl_free(r->predictions);
    tl_free(r->predicted_values);
    tl_params_free(r->params);
    if (r->embedded)
        for (size_t i = 0; i < r->n_domains; i++) tl_mat_free(&r->embedded[i]);
    tl_free(r->embedded);
    tl_mat_free(&r->embedded_eval);
    tl_free(r->classes);
    tl_free(r->confusion);
    tl_free(r->confusion_baseline);
    tl_free(r->view_before);
    tl_free(r->view_after);
    tl_free(r->view_domain);
    tl_free(r->view_class);
    tl_free(r->curve);
    tl_free(r->tsne_before);
    tl_free(r->tsne_after);
    tl_free(r->curve_domain);
    tl_free(r->wview_weight);
    tl_free(r->wview_target_prob);
    tl_free(r);
}

tl_status tlx_report_describe(tl_report *r, const tl_task *task, const tl_dataset *eval,
                              const char *method, tl_family family, const char *learner,
                              const tl_run_opts *o, size_t src, size_t tgt) {
    r->method = method;
    r->family = family;
    r->n_domains = tl_task_count(task);
    tl_preprocess_format(&o->preprocess, r->preprocess, sizeof r->preprocess);
    r->preprocess_on_source = o->preprocess_on_source;
    const tl_dataset *s = tl_task_data(task, src), *t = tl_task_data(task, tgt),
                     *l = tl_task_labelled(task, tgt);
    r->learner = tli_strdup(learner);
    r->source = tli_strdup(tl_dataset_name(s));
    r->target = tli_strdup(tl_dataset_name(t));
    r->evaluated_on = tli_strdup(tl_dataset_name(eval));
    r->n_source = tl_dataset_rows(s);
    r->n_target = tl_dataset_rows(t);
    r->n_labelled = l ? tl_dataset_rows(l) : 0;
    r->n_eval = tl_dataset_rows(eval);
    if (!r->learner || !r->source || !r->target || !r->evaluated_on)
        return tl_fail(TL_ERR_NOMEM, "report: out of memory");
    return TL_OK;
}

tl_status tlx_report_new(tl_report **out) {
    tl_report *r = tl_calloc(1, sizeof *r);
    if (!r) return tl_fail(TL_ERR_NOMEM, "report: out of memory");
    r->changed_from_no_transfer = NAN;
    *out = r;
    return TL_OK;
}

void tlx_report_guard_blank(tl_report *r) {
    tl_guard_report *g = &r->guard;
    memset(g, 0, sizeof *g);
    g->mmd_before = g->mmd_after = g->rv_before = g->rv_after = g->agreement = NAN;
    g->correspondence = g->correspondence_p = g->prediction_entropy = g->ess = NAN;
    g->verdict = TL_GUARD_OK;
    memset(&r->labelled, 0, sizeof r->labelled);
    r->labelled_transfer_accuracy = NAN;
}

void tlx_report_info(tl_report *r, const tl_model *m) {
    r->n_info = 0;
    for (size_t i = 0; m && i < TL_REPORT_MAX_INFO; i++) {
        if (!tl_model_info(m, i, &r->info_key[i], &r->info_value[i])) break;
        r->n_info = i + 1;
    }
}

/* A score as "higher is better": the accuracy, or minus the RMSE for regression targets. */
static double merit(const tl_report *r, const tl_score *s) {
    return r->regression ? -s->rmse : s->accuracy;
}

void tlx_report_compare(tl_report *r) {
    r->gain = merit(r, &r->result) - merit(r, &r->source_only);
    r->worse_than_baseline =
        merit(r, &r->result) < merit(r, &r->source_only) ||
        (r->target_only.n && merit(r, &r->result) < merit(r, &r->target_only));
}

/* ---- JSON ---- */

static void score_keys(tl_json *j, const char *prefix, const tl_score *s) {
    static const char *const names[6] = {"accuracy", "balanced_accuracy", "macro_f1",
                                         "rmse",     "mae",               "r2"};
    double v[6] = {s->accuracy, s->balanced_accuracy, s->macro_f1, s->rmse, s->mae, s->r2};
    char k[64];
    for (int i = 0; i < 6; i++) {
        snprintf(k, sizeof k, "%s%s", prefix, names[i]);
        tl_json_num(j, k, s->n ? v[i] : NAN);
    }
}

tl_baseline tl_report_beaten_baseline(const tl_report *r) {
    if (!r || !r->worse_than_baseline) return TL_BASELINE_NONE;
    return r->source_only.n && merit(r, &r->result) < merit(r, &r->source_only)
               ? TL_BASELINE_SOURCE_ONLY
               : TL_BASELINE_TARGET_ONLY;
}

/* "selection": the model selection the method ran itself - the criterion, every value tried of
 * each parameter searched jointly and the one chosen, the chosen setting's score; null when none
 * ran (the values were given). */
static void search_json(tl_json *j, const tl_report_search *s) {
    if (!s->criterion) {
        tl_json_null(j, "selection");
        return;
    }
    tl_json_obj_begin(j, "selection");
    tl_json_str(j, "criterion", s->criterion);
    tl_json_num(j, "score", s->score);
    for (size_t k = 0; k < s->n_params; k++) {
        tl_json_obj_begin(j, s->param[k]);
        tl_json_arr_begin(j, "tried");
        for (size_t i = 0; i < s->n_values[k]; i++) tl_json_arr_num(j, s->values[k][i]);
        tl_json_arr_end(j);
        tl_json_num(j, "chosen", s->chosen[k]);
        tl_json_obj_end(j);
    }
    tl_json_obj_end(j);
}

static void guard_json(tl_json *j, const tl_report *r) {
    const tl_guard_report *g = &r->guard;
    tl_json_obj_begin(j, "guard");
    tl_json_str(j, "verdict", tl_guard_verdict_name(g->verdict));
    tl_json_str(j, "reason", g->reason);
    tl_json_num(j, "correspondence", g->correspondence);
    tl_json_num(j, "correspondence_p", g->correspondence_p);
    tl_json_bool(j, "unrelated_source", g->unrelated);
    tl_json_num(j, "mmd_before", g->mmd_before);
    tl_json_num(j, "mmd_after", g->mmd_after);
    tl_json_num(j, "reverse_validation_before", g->rv_before);
    tl_json_num(j, "reverse_validation_after", g->rv_after);
    tl_json_num(j, "agreement", g->agreement);
    tl_json_num(j, "prediction_entropy", g->prediction_entropy);
    tl_json_num(j, "effective_sample_share", g->ess);
    if (r->labelled_checked) {
        const tl_guard_labelled_report *l = &r->labelled;
        tl_json_obj_begin(j, "labelled");
        tl_json_int(j, "n", (long long)l->n);
        tl_json_num(j, "accuracy", l->accuracy);
        tl_json_num(j, "chance", l->chance);
        tl_json_num(j, "p_above_chance", l->p_above_chance);
        tl_json_num(j, "target_only_cv_accuracy", l->target_only);
        tl_json_num(j, "z_vs_target_only", l->z_vs_target_only);
        tl_json_bool(j, "harmful", l->harmful);
        tl_json_str(j, "reason", l->reason);
        tl_json_obj_end(j);
    } else {
        tl_json_null(j, "labelled");
    }
    tl_json_num(j, "seconds", r->seconds_guard);
    tl_json_obj_end(j);
}

/* A parameter value as JSON: numbers as numbers, booleans as booleans, words as strings. */
static void param_json(tl_json *j, const tl_params *p, const tl_param_desc *d) {
    const char *v = tl_params_get(p, d->name);
    if (d->type == TL_PARAM_INT || d->type == TL_PARAM_REAL)
        tl_json_num(j, d->name, tl_params_num(p, d->name));
    else if (d->type == TL_PARAM_BOOL)
        tl_json_bool(j, d->name, tl_params_num(p, d->name) != 0);
    else if (d->type == TL_PARAM_TEXT && !v[0])
        tl_json_null(j, d->name);
    else
        tl_json_str(j, d->name, v);
}

/* a (rows, cols) matrix of counts as an array of rows */
static void count_rows(tl_json *j, const char *key, const size_t *c, size_t k) {
    tl_json_arr_begin(j, key);
    for (size_t i = 0; i < k; i++) {
        tl_json_arr_begin(j, NULL);
        for (size_t l = 0; l < k; l++) tl_json_arr_int(j, (long long)c[i * k + l]);
        tl_json_arr_end(j);
    }
    tl_json_arr_end(j);
}

/* (n, 2) points as an array of [x, y] */
static void points(tl_json *j, const char *key, const double *p, size_t n) {
    if (!p) {
        tl_json_null(j, key);
        return;
    }
    tl_json_arr_begin(j, key);
    for (size_t i = 0; i < n; i++) {
        tl_json_arr_begin(j, NULL);
        tl_json_arr_num(j, p[2 * i]);
        tl_json_arr_num(j, p[2 * i + 1]);
        tl_json_arr_end(j);
    }
    tl_json_arr_end(j);
}

/* n integers as an array */
static void int_array(tl_json *j, const char *key, const int *v, size_t n) {
    tl_json_arr_begin(j, key);
    for (size_t i = 0; i < n; i++) tl_json_arr_int(j, v[i]);
    tl_json_arr_end(j);
}

/* The page's data (opts.report_views), only when the run measured it: "confusion", "curve" and
 * "view". */
static void views_json(tl_json *j, const tl_report *r) {
    if (r->n_classes) {
        tl_json_obj_begin(j, "confusion");
        int_array(j, "classes", r->classes, r->n_classes);
        count_rows(j, "transfer", r->confusion, r->n_classes);
        count_rows(j, "no_transfer", r->confusion_baseline, r->n_classes);
        tl_json_obj_end(j);
    }
    if (r->n_curve) {
        static const char *const key[] = {"train_loss", "train_accuracy", "val_loss",
                                          "val_accuracy"};
        tl_json_obj_begin(j, "curve");
        for (int c = 0; c < 4; c++) {
            tl_json_arr_begin(j, key[c]);
            for (size_t e = 0; e < r->n_curve; e++) tl_json_arr_num(j, r->curve[4 * e + c]);
            tl_json_arr_end(j);
        }
        if (r->curve_domain) {
            tl_json_arr_begin(j, "domain_loss");
            for (size_t e = 0; e < r->n_curve; e++) tl_json_arr_num(j, r->curve_domain[e]);
            tl_json_arr_end(j);
        }
        tl_json_obj_end(j);
    }
    if (r->n_view) {
        tl_json_obj_begin(j, "view");
        int_array(j, "domain", r->view_domain, r->n_view);
        int_array(j, "class", r->view_class, r->n_view);
        points(j, "before", r->view_before, r->n_view);
        points(j, "after", r->view_after, r->n_view);
        if (r->view_separate) tl_json_bool(j, "before_separate", true);
        if (r->tsne_before) {
            points(j, "tsne_before", r->tsne_before, r->n_view);
            points(j, "tsne_after", r->tsne_after, r->n_view);
        }
        tl_json_obj_end(j);
    }
    if (r->n_wview) {
        tl_json_obj_begin(j, "weights_view");
        tl_json_arr_begin(j, "weight");
        for (size_t i = 0; i < r->n_wview; i++) tl_json_arr_num(j, r->wview_weight[i]);
        tl_json_arr_end(j);
        tl_json_arr_begin(j, "target_probability");
        for (size_t i = 0; i < r->n_wview; i++) tl_json_arr_num(j, r->wview_target_prob[i]);
        tl_json_arr_end(j);
        tl_json_obj_end(j);
    }
}

static void report_json_body(tl_json *j, const tl_report *r) {
    const tl_params *method = r->params;
    tl_json_str(j, "method", r->method);
    tl_json_str(j, "family", tl_family_name(r->family));
    tl_json_obj_begin(j, "params");
    const tl_method *m = method ? tl_params_method(method) : NULL;
    for (size_t i = 0; m && i < tl_method_param_count(m); i++) {
        param_json(j, method, tl_method_param(m, i));
    }
    tl_json_obj_end(j);
    tl_json_str(j, "learner", r->learner);
    if (r->learner_fitted) {
        tl_json_obj_begin(j, "learner_fit");
        if (isnan(r->learner_C)) tl_json_null(j, "C");
        else tl_json_num(j, "C", r->learner_C);
        tl_json_bool(j, "C_auto", r->learner_C_auto);
        if (isnan(r->learner_cv_accuracy)) tl_json_null(j, "cv_accuracy");
        else tl_json_num(j, "cv_accuracy", r->learner_cv_accuracy);
        tl_json_bool(j, "converged", r->learner_converged);
        tl_json_obj_end(j);
    } else {
        tl_json_null(j, "learner_fit");
    }
    tl_json_str(j, "preprocess", r->preprocess);
    tl_json_str(j, "preprocess_fit", r->preprocess_on_source ? "source" : "domain");
    tl_json_str(j, "source", r->source);
    tl_json_str(j, "target", r->target);
    tl_json_str(j, "evaluated_on", r->evaluated_on);
    tl_json_int(j, "n_domains", (long long)r->n_domains);
    tl_json_int(j, "n_source", (long long)r->n_source);
    tl_json_int(j, "n_target", (long long)r->n_target);
    tl_json_int(j, "n_labelled", (long long)r->n_labelled);
    tl_json_int(j, "n_eval", (long long)r->n_eval);
    tl_json_str(j, "task", r->regression ? "regression" : "classification");
    score_keys(j, "", &r->result);
    score_keys(j, "baseline_", &r->source_only);
    tl_json_num(j, "target_only_accuracy", r->target_only.n ? r->target_only.accuracy : NAN);
    tl_json_num(j, "pooled_accuracy", r->pooled.n ? r->pooled.accuracy : NAN);
    tl_json_num(j, "target_only_rmse", r->target_only.n ? r->target_only.rmse : NAN);
    tl_json_num(j, "pooled_rmse", r->pooled.n ? r->pooled.rmse : NAN);
    tl_json_num(j, "gain", r->result.n ? r->gain : NAN);
    tl_json_bool(j, "worse_than_baseline", r->worse_than_baseline);
    tl_json_num(j, "changed_from_no_transfer", r->changed_from_no_transfer);
    /* which one: the source-only learner first (for a network: the pre-trained one), else the
     * target-only one (a network trained from scratch) */
    tl_baseline beaten = tl_report_beaten_baseline(r);
    if (beaten == TL_BASELINE_NONE) tl_json_null(j, "worse_than");
    else tl_json_str(j, "worse_than", beaten == TL_BASELINE_SOURCE_ONLY ? "source_only" : "target_only");
    if (r->guarded)
        tl_json_bool(j, "negative_transfer", r->negative_transfer);
    else
        tl_json_null(j, "negative_transfer");
    if (r->guarded)
        guard_json(j, r);
    else
        tl_json_null(j, "guard");
    tl_json_obj_begin(j, "model");
    for (size_t i = 0; i < r->n_info; i++) tl_json_num(j, r->info_key[i], r->info_value[i]);
    if (r->arch) tl_json_str(j, "arch", r->arch);
    tl_json_obj_end(j);
    search_json(j, &r->search);
    bool inst = r->family == TL_FAMILY_INSTANCE;
    tl_json_num(j, "weight_min", inst ? r->weight_min : NAN);
    tl_json_num(j, "weight_max", inst ? r->weight_max : NAN);
    if (inst)
        tl_json_int(j, "weight_zeros", (long long)r->weight_zeros);
    else
        tl_json_null(j, "weight_zeros");
    tl_json_num(j, "effective_sample_size", inst ? r->effective_sample_size : NAN);
    tl_json_num(j, "seconds", r->seconds_method + r->seconds_learner);
    tl_json_num(j, "baseline_seconds", r->seconds_baseline);
    tl_json_num(j, "guard_seconds", r->seconds_guard);
    tl_json_num(j, "preprocess_seconds", r->seconds_preprocess);
    tl_json_num(j, "total_seconds", r->seconds_total);
    views_json(j, r);
}

tl_status tl_report_json(const tl_report *r, const char *command, char **out) {
    tl_json j;
    if (!r || !out) return tl_fail(TL_ERR_INVALID_ARG, "report_json: NULL report or output");
    tl_json_begin(&j);
    if (command) tl_json_str(&j, "command", command);
    report_json_body(&j, r);
    tl_status st = tl_json_end(&j, out);
    return st == TL_OK ? st : tl_fail(st, "report_json: out of memory");
}

/* ---- the table ---- */

void tlx_tprintf(tlx_text *t, const char *fmt, ...) {
    va_list ap;
    for (int pass = 0; pass < 2 && !t->oom; pass++) {
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 1024;
        while (cap <= t->len + (size_t)n) cap *= 2;
        char *b = tl_realloc(t->buf, cap);
        if (!b) {
            t->oom = true;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

tl_status tlx_text_end(tlx_text *t, char **out) {
    *out = NULL;
    if (t->oom || !t->buf) {
        tl_free(t->buf);
        return tl_fail(TL_ERR_NOMEM, "report text: out of memory");
    }
    *out = t->buf;
    return TL_OK;
}

static void score_line(tlx_text *t, const char *label, const tl_score *s, const char *extra) {
    if (!s->n) return;
    if (isnan(s->accuracy)) /* regression targets */
        tlx_tprintf(t, "%-22s RMSE %.6g   (MAE %.6g, R^2 %.4f)%s\n", label, s->rmse, s->mae,
                    s->r2, extra ? extra : "");
    else
        tlx_tprintf(t, "%-22s %.2f %%   (balanced %.2f %%, macro-F1 %.2f %%)%s\n", label,
                    100 * s->accuracy, 100 * s->balanced_accuracy, 100 * s->macro_f1,
                    extra ? extra : "");
}

tlx_drop tlx_negative_drop(bool regression, double got, double source_only, double target_only,
                           size_t n) {
    tlx_drop d;
    double nn = (double)n;
    if (regression) {
        d.best = isnan(source_only) ? INFINITY : source_only;
        if (!isnan(target_only) && target_only < d.best) d.best = target_only;
        d.noise = 1.96 * sqrt((d.best * d.best + got * got) / (2 * nn));
        d.measured = got - d.best > d.noise;
        return d;
    }
    d.best = isnan(source_only) ? 0 : source_only;
    if (!isnan(target_only) && target_only > d.best) d.best = target_only;
    double pbar = 0.5 * (d.best + got);
    d.noise = 1.96 * sqrt(2 * pbar * (1 - pbar) / nn);
    d.measured = d.best - got > d.noise;
    return d;
}

/* The measured negative-transfer line (tlx_negative_drop): accuracy with the binomial noise; RMSE
 * with its standard error for roughly normal errors, RMSE / sqrt(2 n) per estimate. */
static void measured_line(tlx_text *t, const tl_report *r) {
    bool reg = r->regression;
    double got = reg ? r->result.rmse : r->result.accuracy;
    double so = !r->source_only.n ? NAN : reg ? r->source_only.rmse : r->source_only.accuracy;
    double to = !r->target_only.n ? NAN : reg ? r->target_only.rmse : r->target_only.accuracy;
    tlx_drop d = tlx_negative_drop(reg, got, so, to, r->result.n);
    if (reg) {
        const char *g = !r->guarded             ? ""
                        : r->negative_transfer ? " (the guard saw it too)"
                                               : " (the guard's evidence did not show it)";
        if (d.measured)
            tlx_tprintf(t, "%-22s MEASURED: RMSE %.6g against %.6g without transfer%s\n",
                        "negative transfer", got, d.best, g);
        else
            tlx_tprintf(t, "%-22s not shown: RMSE %.6g against %.6g without transfer is within "
                           "the noise of %zu scored rows (+-%.3g)%s\n",
                        "negative transfer", got, d.best, r->result.n, d.noise,
                        r->guarded && r->negative_transfer ? "; the guard: LIKELY" : "");
        return;
    }
    if (d.measured)
        tlx_tprintf(t, "%-22s MEASURED: %.2f %% against %.2f %% without transfer%s\n",
                    "negative transfer", 100 * got, 100 * d.best,
                    !r->guarded             ? ""
                    : r->negative_transfer ? " (the guard saw it too)"
                                           : " (the guard's evidence did not show it)");
    else
        tlx_tprintf(t, "%-22s not shown: %.2f %% against %.2f %% without transfer is within "
                       "the noise of %zu scored rows (+-%.2f points)%s\n",
                    "negative transfer", 100 * got, 100 * d.best, r->result.n, 100 * d.noise,
                    r->guarded && r->negative_transfer ? "; the guard: LIKELY" : "");
}

tl_status tl_report_text(const tl_report *r, char **out) {
    tlx_text t = {NULL, 0, 0, false};
    if (!r || !out) return tl_fail(TL_ERR_INVALID_ARG, "report_text: NULL report or output");
    *out = NULL;
    if (r->family == TL_FAMILY_MODEL)
        tlx_tprintf(&t, "%-22s network %s -> %s (%zu samples)\n", "task", r->source, r->target,
                    r->n_target);
    else
        tlx_tprintf(&t, "%-22s %s (%zu samples) -> %s (%zu samples)\n", "task", r->source,
                    r->n_source, r->target, r->n_target);
    if (strcmp(r->evaluated_on, r->target) != 0 || r->n_eval != r->n_target)
        tlx_tprintf(&t, "%-22s %s (%zu samples)\n", "scored on", r->evaluated_on, r->n_eval);
    if (r->n_labelled) tlx_tprintf(&t, "%-22s %zu labelled target rows\n", "labelled", r->n_labelled);
    tlx_tprintf(&t, "%-22s %s, learner %s, preprocess %s%s\n", "method", r->method, r->learner,
            r->preprocess, r->preprocess_on_source ? " (fitted on the source)" : "");
    if (r->n_info) {
        tlx_tprintf(&t, "%-22s", "fitted");
        for (size_t i = 0; i < r->n_info; i++)
            tlx_tprintf(&t, "%s %s %.6g", i ? "," : "", r->info_key[i], r->info_value[i]);
        tlx_tprintf(&t, "\n");
    }
    if (r->search.criterion) { /* "lambda 0.01,0.1,1 x lr 0.001,0.01: lambda 0.1, lr 0.01" */
        const tl_report_search *q = &r->search;
        tlx_tprintf(&t, "%-22s %s over", "selection", q->criterion);
        for (size_t k = 0; k < q->n_params; k++) {
            tlx_tprintf(&t, "%s %s ", k ? " x" : "", q->param[k]);
            for (size_t i = 0; i < q->n_values[k]; i++)
                tlx_tprintf(&t, "%s%.6g", i ? "," : "", q->values[k][i]);
        }
        tlx_tprintf(&t, ": chose");
        for (size_t k = 0; k < q->n_params; k++)
            tlx_tprintf(&t, "%s %s %.6g", k ? "," : "", q->param[k], q->chosen[k]);
        tlx_tprintf(&t, " (score %.4f)\n", q->score);
    }
    if (r->arch) tlx_tprintf(&t, "%-22s %s\n", "arch", r->arch);
    if (r->learner_fitted && !isnan(r->learner_C)) {
        if (r->learner_C_auto)
            tlx_tprintf(&t, "%-22s C = %.6g, chosen by cross-validation on its training rows "
                            "(%.2f %%)\n",
                        "learner", r->learner_C, 100 * r->learner_cv_accuracy);
        else
            tlx_tprintf(&t, "%-22s C = %.6g, as given\n", "learner", r->learner_C);
    }
    if (r->learner_fitted && !r->learner_converged)
        tlx_tprintf(&t, "%-22s the learner stopped at its iteration limit without converging: "
                        "the model is usable but not the optimum (raise max-iter, scale the "
                        "features, or lower C)\n",
                    "note");
    if (r->family == TL_FAMILY_INSTANCE) {
        tlx_tprintf(&t, "%-22s min %.4g, max %.4g, %zu zero, effective sample size %.1f of %zu\n",
                    "weight spread", r->weight_min, r->weight_max, r->weight_zeros,
                    r->effective_sample_size, r->n_source);
        /* uniform weights are no weighting at all: say so, and the usual reason */
        if (r->weight_max - r->weight_min <= 1e-9 * r->weight_max) {
            bool scaled = strstr(r->preprocess, "zscore") || strstr(r->preprocess, "minmax");
            tlx_tprintf(&t, "%-22s the weights are uniform: %s found no difference between the "
                            "domains to correct%s\n",
                        "note", r->method,
                        scaled && !r->preprocess_on_source
                            ? " (each domain was scaled with its own statistics, which can hide "
                              "the shift; try --preprocess-fit source)"
                            : "");
        }
    }
    bool net = r->family == TL_FAMILY_MODEL;
    if (!r->result.n) {
        tlx_tprintf(&t, "%-22s %s\n", r->regression ? "error" : "accuracy",
                    !r->n_eval      ? "no rows were scored"
                    : r->regression ? "the scored rows have no targets: predictions only"
                                    : "the scored rows have no labels: predictions only");
        /* the one comparison with no transfer that needs no labels: how much it changed */
        if (!isnan(r->changed_from_no_transfer))
            tlx_tprintf(&t, "%-22s the transfer changed the class of %.1f %% of the rows (%zu of "
                            "%zu)\n",
                        "against no transfer", 100 * r->changed_from_no_transfer,
                        (size_t)llround(r->changed_from_no_transfer * (double)r->n_eval), r->n_eval);
    } else {
        char tm[64];
        snprintf(tm, sizeof tm, "  (%.2f s)", r->seconds_baseline);
        /* a network adapted from labelled source rows (deep-da): its baseline is the same
         * network trained on the source alone */
        score_line(&t, !net ? "no transfer" : r->n_source ? "source only" : "pre-trained, as is",
                   &r->source_only,
                   net ? NULL : tm);
        score_line(&t, net ? "from scratch" : "target only", &r->target_only, net ? tm : NULL);
        score_line(&t, "source + target", &r->pooled, NULL);
        snprintf(tm, sizeof tm, "  (%.2f s)", r->seconds_method + r->seconds_learner);
        score_line(&t, net ? "test accuracy" : r->method, &r->result, tm);
        tl_baseline beaten = tl_report_beaten_baseline(r);
        /* no source-only baseline (feature spaces of their own): the gain over target only */
        bool over_target = isnan(r->gain) && r->target_only.n;
        if (r->regression)
            tlx_tprintf(&t, "%-22s RMSE %s by %.6g%s\n", "gain",
                        r->gain >= 0 ? "lowered" : "raised", fabs(r->gain),
                        beaten == TL_BASELINE_NONE          ? ""
                        : beaten == TL_BASELINE_SOURCE_ONLY ? "  <- worse than no transfer"
                                                            : "  <- worse than the target-only learner");
        else
            tlx_tprintf(&t, "%-22s %+.2f points%s%s\n", "gain",
                    100 * (over_target ? r->result.accuracy - r->target_only.accuracy : r->gain),
                    over_target ? " over the target-only learner" : "",
                    beaten == TL_BASELINE_NONE          ? ""
                    : beaten == TL_BASELINE_SOURCE_ONLY ? "  <- worse than no transfer"
                                                        : "  <- worse than the target-only learner");
    }
    if (r->guarded) {
        if (r->family != TL_FAMILY_MODEL || !r->labelled_checked) /* a network's evidence is labelled */
            tlx_tprintf(&t, "%-22s %s: %s\n", r->family == TL_FAMILY_MODEL ? "guard" : "guard (label-free)",
                        tl_guard_verdict_name(r->guard.verdict), r->guard.reason);
        if (r->labelled_checked)
            tlx_tprintf(&t, "%-22s %s: %s\n", "guard (labelled)", r->labelled.harmful ? "harmful" : "ok",
                    r->labelled.reason);
    }
    /* what the scored labels measured comes first: the guard's label-free call cannot overrule it */
    if (r->result.n && r->worse_than_baseline) {
        measured_line(&t, r);
    } else if (r->guarded) {
        tlx_tprintf(&t, "%-22s %s\n", "negative transfer",
                    r->negative_transfer ? "LIKELY"
                    : r->result.n        ? "none: the transfer scored at or above every baseline"
                                         : "not detected");
    }
    tlx_tprintf(&t, "%-22s %.3f s (method %.3f, learner %.3f, baselines %.3f, guard %.3f)\n", "time",
            r->seconds_total, r->seconds_method, r->seconds_learner, r->seconds_baseline,
            r->seconds_guard);
    return tlx_text_end(&t, out);
}
