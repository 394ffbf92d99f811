/* Example: feature-based transfer through the library's protocol.
 *
 *   feature_transfer [-s SOURCE -t TARGET] [METHOD [NAME=VALUE ...]]
 *
 * Shows the whole round trip a program goes through to reuse labelled source data on an
 * unlabelled target domain:
 *   1. build a tl_task of two domains (a labelled source; a target whose labels are only used to
 *      score the result);
 *   2. pick a method from the registry by name (default "coral") and set parameters by name, from
 *      text (default eps=0.1), the way a command line or a config file would;
 *   3. tl_transfer_run: per-domain z-scoring -> the no-transfer baseline -> the mapping -> 1-NN in
 *      the shared space -> the negative-transfer guard -> a report, printed with tl_report_text;
 *   4. save the fitted pipeline, load it back and predict target rows with it: the same rows get
 *      the report's predictions exactly, and new rows of the target domain get labels too.
 *
 * SOURCE and TARGET are data specs (any format tl_dataset_load reads, e.g. the Office+Caltech .mat
 * files). Without them two synthetic domains are generated: four Gaussian classes read by eight
 * sensors, and a target domain whose sensors suffer crosstalk (each reading mixes in its
 * neighbours') and have other gains and offsets. Z-scoring removes the gains and offsets but not
 * the crosstalk; CORAL, which re-colours the source with the target's covariance, undoes most of it.
 * Exit status 0 on success, 1 on any failure (with the library's message). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl.h"

#define SENSORS 8
#define CLASSES 4

/* n rows of the synthetic problem, labels 1..CLASSES: class c raises sensors 2c and 2c+1 by 2.5
 * above unit Gaussian noise. The target mixes sensor k into sensor j with weight 0.9^|j-k|, then
 * applies a gain 1 + j/2 and an offset 2 to sensor j. */
static tl_status make_domain(size_t n, int target, uint64_t seed, tl_dataset **out) {
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    tl_status st = tl_dataset_create_dense(n, SENSORS, true, out);
    if (st != TL_OK) return st;
    tl_mat X = tl_dataset_dense(*out);
    int *y = tl_dataset_labels(*out);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % CLASSES);
        double x[SENSORS];
        for (int j = 0; j < SENSORS; j++) x[j] = (j / 2 == c ? 2.5 : 0.0) + tl_rng_normal(&rng);
        for (int j = 0; j < SENSORS; j++) {
            double v = x[j];
            if (target) {
                v = 0;
                for (int k = 0; k < SENSORS; k++) v += pow(0.9, abs(j - k)) * x[k];
                v = (1 + 0.5 * j) * v + 2;
            }
            TL_AT(X, i, j) = v;
        }
        y[i] = c + 1;
    }
    return tl_dataset_set_name(*out, target ? "synthetic-target" : "synthetic-source");
}

int main(int argc, char **argv) {
    const char *source_spec = NULL, *target_spec = NULL, *method_name = "coral";
    tl_dataset *source = NULL, *target = NULL, *fresh = NULL;
    tl_task *task = NULL;
    tl_params *params = NULL;
    tl_report *report = NULL;
    tl_pipeline *pipeline = NULL, *loaded = NULL;
    char *text = NULL;
    int *pred = NULL;
    int ok = 0, a = 1;
    char path[512];
    snprintf(path, sizeof path, "%s/feature_transfer_%ld.tlm",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());

/* Every library call returns a tl_status; tl_error_message() says what went wrong and where. */
#define TRY(call)                                                                     \
    do {                                                                              \
        if ((call) != TL_OK) {                                                        \
            fprintf(stderr, "feature_transfer: %s\n", tl_error_message());            \
            goto done;                                                                \
        }                                                                             \
    } while (0)

    for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
        if (strcmp(argv[a], "-s") == 0) source_spec = argv[a + 1];
        else if (strcmp(argv[a], "-t") == 0) target_spec = argv[a + 1];
        else break;
    }
    if ((a < argc && argv[a][0] == '-') || !source_spec != !target_spec) {
        fprintf(stderr, "usage: %s [-s SOURCE -t TARGET] [METHOD [NAME=VALUE ...]]\n", argv[0]);
        return 2;
    }
    if (a < argc) method_name = argv[a++];

    /* 1. the data: two files, or the synthetic pair (and new target rows to predict later) */
    if (source_spec && target_spec) {
        TRY(tl_dataset_load(source_spec, NULL, &source));
        TRY(tl_dataset_load(target_spec, NULL, &target));
    } else {
        printf("no data given (-s SOURCE -t TARGET): synthetic domains, %d classes, %d sensors\n",
               CLASSES, SENSORS);
        TRY(make_domain(400, 0, 1, &source));
        TRY(make_domain(240, 1, 2, &target));
        TRY(make_domain(400, 1, 3, &fresh));
    }
    TRY(tl_task_create(&task));
    size_t t_index;
    TRY(tl_task_add(task, TL_ROLE_SOURCE, source, NULL));
    TRY(tl_task_add(task, TL_ROLE_TARGET, target, &t_index));

    /* 2. the method by name; parameters by name, from text: the rest keep their defaults */
    const tl_method *m = tl_method_find(method_name, TL_FAMILY_FEATURE);
    if (!m) {
        fprintf(stderr, "feature_transfer: %s\n", tl_error_message()); /* lists the names */
        goto done;
    }
    TRY(tl_params_create(m, &params));
    if (a == argc && strcmp(tl_method_name(m), "coral") == 0)
        TRY(tl_params_set(params, "eps", "0.1")); /* the default here: less than the authors' 1 */
    for (; a < argc; a++) {
        char name[64];
        const char *eq = strchr(argv[a], '=');
        if (!eq || (size_t)(eq - argv[a]) >= sizeof name) {
            fprintf(stderr, "feature_transfer: '%s' is not NAME=VALUE\n", argv[a]);
            goto done;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - argv[a]), argv[a]);
        TRY(tl_params_set(params, name, eq + 1)); /* checked: the message says what is allowed */
    }
    printf("method %s (%s): %s\n", tl_method_name(m), tl_family_name(tl_method_family(m)),
           tl_method_summary(m));
    for (size_t i = 0; i < tl_method_param_count(m); i++) {
        const tl_param_desc *d = tl_method_param(m, i);
        printf("  %-9s = %-7s%s %s\n", d->name, tl_params_get(params, d->name),
               tl_params_is_set(params, d->name) ? "*" : " ", d->help);
    }

    /* 3. the protocol: z-score each domain with its own statistics, 1-NN as the learner */
    tl_run_opts opts = tl_run_opts_default();
    TRY(tl_preprocess_parse("zscore", &opts.preprocess));
    TRY(tl_transfer_run(task, params, &opts, &report, &pipeline));
    TRY(tl_report_text(report, &text));
    printf("\n%s\n", text);

    /* 4. save, load, predict: the loaded pipeline scales and maps target rows by itself */
    TRY(tl_pipeline_save(pipeline, path));
    TRY(tl_pipeline_load(path, &loaded));
    size_t n = tl_dataset_rows(target), nf = fresh ? tl_dataset_rows(fresh) : 0;
    pred = malloc((n > nf ? n : nf) * sizeof *pred);
    if (!pred) goto done;
    TRY(tl_pipeline_predict(loaded, t_index, target, pred));
    if (memcmp(pred, report->predictions, n * sizeof *pred) != 0) {
        fprintf(stderr, "feature_transfer: the loaded pipeline predicts otherwise than the run\n");
        goto done;
    }
    printf("saved the pipeline, loaded it back: its %zu target predictions equal the report's\n", n);
    if (fresh) {
        TRY(tl_pipeline_predict(loaded, t_index, fresh, pred));
        printf("%zu new target rows predicted by the loaded pipeline: accuracy %.1f %%\n", nf,
               100.0 * tl_accuracy(tl_dataset_labels_const(fresh), pred, nf));
    }
    ok = 1;
done:
    unlink(path);
    free(pred);
    tl_free(text);
    tl_pipeline_free(loaded);
    tl_pipeline_free(pipeline);
    tl_report_free(report);
    tl_params_free(params);
    tl_task_free(task);
    tl_dataset_free(fresh);
    tl_dataset_free(target);
    tl_dataset_free(source);
    return ok ? 0 : 1;
}
