/* `tl info SPEC`: what a data file holds — shape, storage and sparsity, classes with their
 * counts, value range — so a user can check a file before transferring from or to it. Loading
 * already rejects NaN/Inf (naming the row and column), so a file that loads is finite. */
#include <float.h>
#include <math.h>

#include "cli.h"

static const cli_opt info_opts[] = {CLI_DATA_OPTS, CLI_TASK_OPT, {"", NULL, NULL, NULL}};

static int run_info(cli_args *a) {
    if (a->npos != 1) return cli_usage("expects one data spec (see 'tl help info')");
    tl_dataset *ds = NULL;
    if (cli_load(a, a->pos[0], &ds) != TL_OK) return 1;
    size_t n = tl_dataset_rows(ds), d = tl_dataset_cols(ds), nnz = tl_dataset_nnz(ds);
    double lo = DBL_MAX, hi = -DBL_MAX, sum = 0;
    size_t zeros = 0;
    if (tl_dataset_is_sparse(ds)) {
        tl_csr c = tl_dataset_csr(ds);
        for (size_t i = 0; i < c.nnz; i++) {
            double v = c.values[i];
            lo = fmin(lo, v), hi = fmax(hi, v), sum += v;
            zeros += v == 0;
        }
        if (c.nnz < n * d) lo = fmin(lo, 0), hi = fmax(hi, 0);
        zeros += n * d - c.nnz;
    } else {
        tl_mat X = tl_dataset_dense(ds);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                double v = TL_AT(X, i, j);
                lo = fmin(lo, v), hi = fmax(hi, v), sum += v;
                zeros += v == 0;
            }
    }
    double total = (double)n * (double)d, mean = total > 0 ? sum / total : 0;
    int *cls = NULL;
    size_t *cnt = NULL, c = 0;
    const int *y = tl_dataset_labels_const(ds);
    if (y && tl_labels_unique(y, n, &cls, &cnt, &c) != TL_OK) {
        tl_dataset_free(ds);
        return cli_fail_status(TL_ERR_NOMEM, "counting classes");
    }
    size_t nnames = 0, shape[TL_SAMPLE_SHAPE_MAX], nshape = tl_dataset_sample_shape(ds, shape);
    const char *const *names = tl_dataset_class_names(ds, &nnames);
    int base = tl_dataset_index_base(ds);
    int rc = 0;
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "info");
        tl_json_str(&j, "input", a->pos[0]);
        tl_json_int(&j, "n_rows", (long long)n);
        tl_json_int(&j, "n_features", (long long)d);
        tl_json_str(&j, "storage", tl_dataset_is_sparse(ds) ? "sparse" : "dense");
        tl_json_int(&j, "stored", (long long)nnz);
        tl_json_num(&j, "zero_fraction", total > 0 ? (double)zeros / total : 0);
        tl_json_num(&j, "min", total > 0 ? lo : 0);
        tl_json_num(&j, "max", total > 0 ? hi : 0);
        tl_json_num(&j, "mean", mean);
        tl_json_int(&j, "nonfinite", 0);
        tl_json_bool(&j, "labelled", y != NULL);
        if (y) {
            tl_json_obj_begin(&j, "classes");
            for (size_t k = 0; k < c; k++) {
                char key[32];
                snprintf(key, sizeof key, "%d", cls[k]);
                bool named = names && cls[k] >= 0 && (size_t)cls[k] < nnames;
                tl_json_int(&j, named ? names[cls[k]] : key, (long long)cnt[k]);
            }
            tl_json_obj_end(&j);
        }
        if (base >= 0) {
            tl_json_int(&j, "index_base", base);
            tl_json_bool(&j, "index_base_guessed", tl_dataset_index_base_guessed(ds));
        }
        if (nshape) {
            tl_json_arr_begin(&j, "sample_shape");
            for (size_t k = 0; k < nshape; k++) tl_json_arr_int(&j, (long long)shape[k]);
            tl_json_arr_end(&j);
        }
        rc = cli_json_finish(&j);
    } else {
        printf("%-12s %s\n", "spec", a->pos[0]);
        printf("%-12s %zu x %zu", "shape", n, d);
        for (size_t k = 0; k < nshape; k++) printf("%s%zu", k ? "x" : " (each sample ", shape[k]);
        printf("%s\n", nshape ? ")" : "");
        if (base >= 0)
            printf("%-12s %d-based feature indices (%s)\n", "svmlight", base,
                   !tl_dataset_index_base_guessed(ds) ? "as asked"
                   : base == 0                        ? "guessed: index 0 occurs in the file"
                                                      : "guessed: no index 0 in the file");
        printf("%-12s %s, %zu stored values, %.2f%% zeros\n", "storage",
               tl_dataset_is_sparse(ds) ? "sparse (CSR)" : "dense", nnz,
               total > 0 ? 100.0 * (double)zeros / total : 0);
        printf("%-12s [%g, %g], mean %g\n", "values", total > 0 ? lo : 0, total > 0 ? hi : 0, mean);
        printf("%-12s none (all finite)\n", "NaN/Inf");
        if (y) {
            printf("%-12s %zu:", "classes", c);
            for (size_t k = 0; k < c; k++) {
                bool named = names && cls[k] >= 0 && (size_t)cls[k] < nnames;
                if (named) printf(" %s (%zu)", names[cls[k]], cnt[k]);
                else printf(" %d (%zu)", cls[k], cnt[k]);
            }
            printf("\n");
        } else {
            printf("%-12s unlabelled\n", "labels");
        }
    }
    tl_free(cls);
    tl_free(cnt);
    tl_dataset_free(ds);
    return rc;
}

const cli_command cmd_info = {"info", "describe a data set: shape, sparsity, classes, value range",
                              "SPEC [options]", info_opts, run_info, 0, NULL};
