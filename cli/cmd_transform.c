/* `tl transform`: apply a saved feature mapping (from `tl adapt --save`) to new samples — target
 * data that arrives after fitting, or more source data — and write the embedded features. */
#include <string.h>

#include "cli.h"
#include "tl/feature.h"

static const cli_opt transform_opts[] = {
    {"model", "MODEL", NULL, "a mapping saved by 'tl adapt --save'"},
    {"input", "SPEC", NULL, "samples to map"},
    {"out", "FILE", NULL, "embedded samples (csv, svmlight or npy; labels kept)"},
    {"domain", "D", "target", "which side of the mapping the samples belong to: source, target"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

static int run_transform(cli_args *a) {
    const char *model = cli_get(a, "model"), *in = cli_get(a, "input"), *out = cli_get(a, "out");
    if (!model || !in || !out) return cli_fail("--model, --input and --out are required");
    const char *dom = cli_get(a, "domain");
    tl_domain domain;
    if (strcmp(dom, "target") == 0) domain = TL_DOMAIN_TARGET;
    else if (strcmp(dom, "source") == 0) domain = TL_DOMAIN_SOURCE;
    else return cli_fail("--domain: '%s' is not one of source, target", dom);
    tl_adapter *ad = NULL;
    tl_dataset *ds = NULL, *res = NULL;
    tl_mat Z = {0};
    int rc = 1;
    tl_status st = tl_adapter_load(model, &ad);
    if (st != TL_OK) {
        cli_fail_status(st, "cannot load model '%s'", model);
        goto done;
    }
    if (cli_load(a, in, &ds) != TL_OK) goto done;
    tl_dataset *all[1] = {ds};
    if (cli_preprocess(a, all, NULL, 1) != TL_OK) goto done;
    if (tl_dataset_cols(ds) != tl_adapter_input_dim(ad)) {
        cli_fail("'%s' has %zu features but the model '%s' was fitted on %zu", in,
                 tl_dataset_cols(ds), model, tl_adapter_input_dim(ad));
        goto done;
    }
    if ((st = tl_dataset_densify(ds)) != TL_OK ||
        (st = tl_adapter_transform(ad, domain, tl_dataset_dense(ds), &Z)) != TL_OK) {
        cli_fail_status(st, "transforming '%s'", in);
        goto done;
    }
    if ((st = tl_dataset_from_dense(Z, tl_dataset_labels_const(ds), &res)) != TL_OK ||
        (st = tl_dataset_save(res, out, TL_FORMAT_AUTO, 1)) != TL_OK) {
        cli_fail_status(st, "writing '%s'", out);
        goto done;
    }
    if (cli_flag(a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        cli_json_str(&j, "model", model);
        cli_json_str(&j, "method", tl_adapt_method_name(tl_adapter_method(ad)));
        cli_json_str(&j, "output", out);
        cli_json_int(&j, "rows", (long long)Z.rows);
        cli_json_int(&j, "cols", (long long)Z.cols);
        rc = cli_json_finish(&j);
    } else {
        cli_info(a, "wrote %s (%zu x %zu, %s mapping)", out, Z.rows, Z.cols,
                 tl_adapt_method_name(tl_adapter_method(ad)));
        rc = 0;
    }
done:
    tl_mat_free(&Z);
    tl_dataset_free(res);
    tl_dataset_free(ds);
    tl_adapter_free(ad);
    return rc;
}

const cli_command cmd_transform = {"transform", "apply a saved feature mapping to new samples",
                                   "--model MODEL --input SPEC --out FILE [options]",
                                   transform_opts, run_transform};
