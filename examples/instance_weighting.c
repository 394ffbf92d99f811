/* Example: instance weighting under covariate shift.
 *
 *   instance_weighting
 *
 * The source and the target share the labelling rule p(y | x) but sample x differently: the
 * source spreads over the whole line, the target sits to one side. A linear learner trained on
 * the source fits the rule where the source is dense, not where the target is; weighting every
 * source row by the density ratio p_target(x) / p_source(x) moves its effort to where the target
 * lives. Shows:
 *   1. a weighting method as a fitted tl_model (KLIEP, its kernel width chosen by likelihood
 *      cross-validation, set by name): the spread of the weights of the rows it was fitted on and
 *      what the fit settled on (tl_model_info);
 *   2. weights for NEW source samples (tl_model_weights), on the same scale;
 *   3. KMM, which solves for the weights of its fitting rows only, refusing new samples with a
 *      message (tl_error_message()) instead of a wrong answer;
 *   4. the protocol (tl_transfer_run) with each weighting method and logistic regression: the
 *      weighted learner against the same learner unweighted (the report's no-transfer baseline).
 * All data is synthetic and seeded; exit status 0 on success, 1 on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

/* n rows (x1, x2), label 1 when x2 > x1^2 / 2 - 1 (a parabola, which no line fits everywhere),
 * else 0. Source: x1 ~ N(0, 1.5^2); target: x1 ~ N(2, 0.6^2); x2 ~ N(1, 1.5^2) in both. */
static tl_status make_domain(size_t n, int target, uint64_t seed, tl_dataset **out) {
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    tl_status st = tl_dataset_create_dense(n, 2, true, out);
    if (st != TL_OK) return st;
    tl_mat X = tl_dataset_dense(*out);
    int *y = tl_dataset_labels(*out);
    for (size_t i = 0; i < n; i++) {
        double x1 = target ? 2.0 + 0.6 * tl_rng_normal(&rng) : 1.5 * tl_rng_normal(&rng);
        double x2 = 1.0 + 1.5 * tl_rng_normal(&rng);
        TL_AT(X, i, 0) = x1;
        TL_AT(X, i, 1) = x2;
        y[i] = x2 > 0.5 * x1 * x1 - 1.0;
    }
    return tl_dataset_set_name(*out, target ? "shifted-target" : "wide-source");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    tl_dataset *source = NULL, *target = NULL;
    tl_task *task = NULL;
    tl_params *kliep = NULL, *kmm = NULL, *learner = NULL, *p = NULL;
    tl_model *model = NULL, *kmm_model = NULL;
    tl_report *report = NULL;
    double *sorted = NULL;
    int ok = 0;

#define TRY(call)                                                                   \
    do {                                                                            \
        if ((call) != TL_OK) {                                                      \
            fprintf(stderr, "instance_weighting: %s\n", tl_error_message());        \
            goto done;                                                              \
        }                                                                           \
    } while (0)

    TRY(make_domain(400, 0, 1, &source));
    TRY(make_domain(300, 1, 2, &target));
    TRY(tl_task_create(&task));
    TRY(tl_task_add(task, TL_ROLE_SOURCE, source, NULL));
    TRY(tl_task_add(task, TL_ROLE_TARGET, target, NULL)); /* its labels only score the result */

    /* 1. KLIEP as a model: choose the kernel width among 5 candidates by cross-validation */
    TRY(tl_params_create(tl_method_find("kliep", TL_FAMILY_INSTANCE), &kliep));
    TRY(tl_params_set(kliep, "widths", "5"));
    TRY(tl_model_fit(kliep, NULL, task, NULL, &model));
    size_t n = 0;
    const double *w = tl_model_fit_weights(model, &n);
    sorted = malloc(n * sizeof *sorted);
    if (!w || !sorted) goto done;
    memcpy(sorted, w, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < n; i++) sum += w[i], sum2 += w[i] * w[i];
    printf("kliep weights of the %zu source rows: min %.3f, median %.3f, max %.3f, mean %.3f\n", n,
           sorted[0], sorted[n / 2], sorted[n - 1], sum / n);
    printf("  effective sample size %.0f of %zu (sum(w)^2 / sum(w^2))\n", sum * sum / sum2, n);
    const char *key;
    double value;
    for (size_t i = 0; tl_model_info(model, i, &key, &value); i++)
        printf("  fit settled on %s = %.4g\n", key, value);

    /* 2. weights of new source samples along x1 (x2 = 1): largest where the target lives */
    double xs[5][2] = {{-2, 1}, {-1, 1}, {0, 1}, {1, 1}, {2, 1}}, wn[5];
    TRY(tl_model_weights(model, tl_xmat_from_dense(tl_mat_view(&xs[0][0], 5, 2)), wn));
    printf("kliep weights of new source samples:");
    for (int i = 0; i < 5; i++) printf("  x1 = %+.0f: %.3f", xs[i][0], wn[i]);
    printf("\n");
    if (!(wn[4] > wn[0])) {
        fprintf(stderr, "instance_weighting: the weights do not follow the target\n");
        goto done;
    }

    /* 3. KMM weights only the rows it was fitted on, and says so */
    TRY(tl_params_create(tl_method_find("kmm", TL_FAMILY_INSTANCE), &kmm));
    TRY(tl_model_fit(kmm, NULL, task, NULL, &kmm_model));
    tl_status st = tl_model_weights(kmm_model, tl_xmat_from_dense(tl_mat_view(&xs[0][0], 5, 2)), wn);
    if (st != TL_ERR_UNSUPPORTED) {
        fprintf(stderr, "instance_weighting: kmm should refuse new samples (got %s)\n",
                tl_status_name(st));
        goto done;
    }
    printf("kmm on new samples: %s: %s\n", tl_status_name(st), tl_error_message());

    /* 4. the protocol: each method's weighted learner against the unweighted one */
    TRY(tl_params_create(tl_method_find("logreg", TL_FAMILY_LEARNER), &learner));
    tl_run_opts opts = tl_run_opts_default();
    opts.learner = learner;
    printf("\n%-11s %10s %10s %8s %6s %s\n", "method", "unweighted", "weighted", "gain", "ESS",
           "guard (label-free)");
    const char *methods[] = {"kliep", "ulsif", "rulsif", "kmm", "domain-clf"};
    double kliep_gain = 0;
    char kliep_guard[256] = "";
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        TRY(tl_params_create(tl_method_find(methods[i], TL_FAMILY_INSTANCE), &p));
        if (strcmp(methods[i], "kliep") == 0) TRY(tl_params_set(p, "widths", "5"));
        TRY(tl_transfer_run(task, p, &opts, &report, NULL));
        printf("%-11s %9.1f%% %9.1f%% %+7.1f %6.0f %s\n", methods[i],
               100 * report->source_only.accuracy, 100 * report->result.accuracy,
               100 * report->gain, report->effective_sample_size,
               tl_guard_verdict_name(report->guard.verdict));
        if (i == 0) {
            kliep_gain = report->gain;
            snprintf(kliep_guard, sizeof kliep_guard, "%s", report->guard.reason);
        }
        tl_report_free(report);
        report = NULL;
        tl_params_free(p);
        p = NULL;
    }
    /* The guard distrusts a learner that rests on few heavily weighted rows (effective sample
     * size under half the source), even where, as here, the weights help: without target labels
     * it cannot tell. A few labelled target rows (tl_task_set_labelled) give it evidence. */
    printf("guard on kliep: %s\n", kliep_guard);
    if (!(kliep_gain > 0)) {
        fprintf(stderr, "instance_weighting: kliep's weights did not help the learner\n");
        goto done;
    }
    ok = 1;
done:
    free(sorted);
    tl_report_free(report);
    tl_model_free(kmm_model);
    tl_model_free(model);
    tl_params_free(p);
    tl_params_free(learner);
    tl_params_free(kmm);
    tl_params_free(kliep);
    tl_task_free(task);
    tl_dataset_free(target);
    tl_dataset_free(source);
    return ok ? 0 : 1;
}
