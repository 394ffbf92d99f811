/* `tl transform`: map new samples - target data that arrives after fitting, or more source data
 * - into the shared space of a saved pipeline (from `tl adapt --save`: it applies its own fitted
 * scaling, then the mapping) or of a method saved alone (`--save-mapping`: it maps rows already
 * scaled, so the --preprocess options apply to the input), and write the embedded features. */
#include <string.h>

#include "cli.h"

static const cli_opt transform_opts[] = {
    {"model", "MODEL", NULL,
     "a pipeline saved by 'tl adapt --save' (or a method saved by --save-mapping)"},
    {"input", "SPEC", NULL, "samples to map"},
    {"out", "FILE", NULL, "embedded samples (csv, svmlight or npy; labels kept)"},
    {"domain", "D", "target", "which side of the mapping the samples belong to: source, target, "
                              "or a domain's index"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

static int run_transform(cli_args *a) {
    const char *model = cli_get(a, "model"), *in = cli_get(a, "input"), *out = cli_get(a, "out");
    if (!model || !in || !out) return cli_fail("--model, --input and --out are required");
    const char *dom = cli_get(a, "domain");
    long domain;
    if (strcmp(dom, "target") == 0) domain = 1;
    else if (strcmp(dom, "source") == 0) domain = 0;
    else if (!cli_get_long(a, "domain", 0, 4095, &domain)) return 2;
    tl_model *m = NULL;
    tl_pipeline *p = NULL;
    tl_dataset *ds = NULL, *res = NULL;
    tl_mat Z = {0};
    int rc = 1;
    tl_status st = tl_model_load(model, &m);
    if (st != TL_OK) { /* a pipeline, then */
        char first[512];
        snprintf(first, sizeof first, "%s", tl_error_message());
        if (tl_pipeline_load(model, &p) != TL_OK) {
            cli_fail("cannot load model '%s': %s", model, first);
            goto done;
        }
    }
    if (cli_load(a, in, &ds) != TL_OK) goto done;
    if (m) {
        tl_dataset *all[1] = {ds};
        const char *pre = cli_get(a, "preprocess");
        if (tl_dataset_rows(ds) < 2 && pre && (strstr(pre, "zscore") || strstr(pre, "minmax"))) {
            cli_fail("--preprocess %s on %zu row(s) of '%s' would scale them with their own "
                     "statistics (a lone row becomes zeros): save the whole pipeline with 'tl "
                     "adapt --save', which keeps the fitted scaling, and transform with that",
                     pre, tl_dataset_rows(ds), in);
            goto done;
        }
        if (cli_preprocess(a, all, NULL, 1) != TL_OK) goto done;
        if ((st = tl_dataset_densify(ds)) != TL_OK ||
            (st = tl_model_transform(m, (size_t)domain, tl_dataset_dense(ds), &Z)) != TL_OK) {
            cli_fail_status(st, "transforming '%s' with '%s'", in, model);
            goto done;
        }
    } else if (cli_given(a, "preprocess") || cli_given(a, "preprocess-fit")) {
        rc = (cli_fail("'%s' is a pipeline: it scales the rows with the statistics it was fitted "
                       "with; --preprocess is for a method saved alone (--save-mapping)",
                       model), 2);
        goto done;
    } else if ((st = tl_pipeline_transform(p, (size_t)domain, ds, &Z)) != TL_OK) {
        cli_fail_status(st, "transforming '%s' with '%s'", in, model);
        goto done;
    }
    if ((st = tl_dataset_from_dense(Z, tl_dataset_labels_const(ds), &res)) != TL_OK ||
        (st = tl_dataset_save(res, out, TL_FORMAT_AUTO, 1)) != TL_OK) {
        cli_fail_status(st, "writing '%s'", out);
        goto done;
    }
    const char *mname = tl_method_name(m ? tl_model_method(m) : tl_model_method(tl_pipeline_model(p)));
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "model", model);
        tl_json_str(&j, "method", mname);
        tl_json_str(&j, "output", out);
        tl_json_int(&j, "rows", (long long)Z.rows);
        tl_json_int(&j, "cols", (long long)Z.cols);
        rc = cli_json_finish(&j);
    } else {
        cli_info(a, "wrote %s (%zu x %zu, %s mapping)", out, Z.rows, Z.cols, mname);
        rc = 0;
    }
done:
    tl_mat_free(&Z);
    tl_dataset_free(ds);
    tl_dataset_free(res);
    tl_model_free(m);
    tl_pipeline_free(p);
    return rc;
}

const cli_command cmd_transform = {
    "transform", "map new samples into the shared space of a pipeline saved by 'tl adapt --save'",
    "--model MODEL --input SPEC --out FILE [--domain source|target] [options]", transform_opts,
    run_transform, 0, NULL};
