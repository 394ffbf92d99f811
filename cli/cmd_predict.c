/* `tl predict`: class predictions of a trained network - one label per line on stdout (with
 * --out, a CSV of the label and its probability per sample, written through tl_wfile: a file is
 * replaced atomically, a stream written through), or a JSON array with --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_common.h"

static const cli_opt predict_opts[] = {
    {"model", "FILE.tlm", NULL, "trained model"},
    CLI_NN_DATA_OPTS,
    {"out", "FILE.csv", NULL, "write sample,label,probability rows here instead of stdout"},
    {"", NULL, NULL, NULL}};

static int run_predict(cli_args *a) {
    if (a->npos) return cli_fail("unexpected argument '%s'", a->pos[0]);
    const char *mp = cli_get(a, "model"), *out = cli_get(a, "out");
    if (!mp) return cli_fail("--model is required (see 'tl help predict')");
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    tl_ctx_apply_threads(&ctx);
    int rc = 1;
    tl_nn *nn = NULL;
    cli_nn_data d = {0};
    float *P = NULL;
    tl_wfile *w = NULL;
    FILE *f = NULL;
    tl_status st = tl_nn_load(mp, &nn);
    if (st != TL_OK) return cli_fail_status(st, "--model");
    if (cli_nn_load(a, cli_get(a, "data"), nn, false, true, &d) != 0) goto done;
    const size_t K = tl_nn_output_dim(nn);
    P = malloc(d.n * K * sizeof *P);
    if (!P) {
        cli_fail("out of memory");
        goto done;
    }
    st = tl_nn_predict_proba(nn, d.x, d.n, P);
    if (st != TL_OK) {
        cli_fail_status(st, "predicting");
        goto done;
    }
    const int *lab = tl_nn_labels(nn);
    if (cli_flag(a, "json") && !out) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "predict");
        tl_json_str(&j, "model", mp);
        tl_json_int(&j, "n", (long long)d.n);
        tl_json_arr_begin(&j, "predictions");
        for (size_t i = 0; i < d.n; i++) {
            size_t am = 0;
            for (size_t k = 1; k < K; k++)
                if (P[i * K + k] > P[i * K + am]) am = k;
            tl_json_arr_int(&j, lab[am]);
        }
        tl_json_arr_end(&j);
        rc = cli_json_finish(&j);
        goto done;
    }
    if (out) {
        st = tl_wfile_open(out, &w);
        if (st != TL_OK) {
            cli_fail_status(st, "cannot write '%s'", out);
            goto done;
        }
        f = tl_wfile_stream(w);
        fprintf(f, "sample,label,probability\n");
    }
    for (size_t i = 0; i < d.n; i++) {
        size_t am = 0;
        for (size_t k = 1; k < K; k++)
            if (P[i * K + k] > P[i * K + am]) am = k;
        if (f) fprintf(f, "%zu,%d,%.6f\n", i + 1, lab[am], (double)P[i * K + am]);
        else printf("%d\n", lab[am]);
    }
    if (w) {
        st = tl_wfile_commit(w); /* reports a failed write, naming the file */
        w = NULL;
        if (st != TL_OK) {
            cli_fail_status(st, "cannot write '%s'", out);
            goto done;
        }
        cli_info(a, "wrote %zu predictions to %s", d.n, out);
    }
    rc = 0;
done:
    tl_wfile_abort(w);
    free(P);
    cli_nn_data_free(&d);
    tl_nn_free(nn);
    return rc;
}

const cli_command cmd_predict = {"predict", "predict classes with a trained network",
                                 "--model FILE.tlm --data SPEC [--out FILE.csv]", predict_opts,
                                 run_predict, 0, NULL};
