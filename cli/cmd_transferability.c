/* `tl transferability`: how well should a pre-trained model transfer to a labelled target task?
 * Pushes the target data through the model once and reports LogME and H-score (on the features
 * of --layer, by default the head's input) and LEEP and NCE (on the source head's softmax), with
 * no fine-tuning. Higher is better for all four; they are meant to rank candidate source models
 * (see tl/transferability.h for the formulas). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_common.h"
#include "tl/transferability.h"

static const cli_opt tr_opts[] = {
    {"model", "FILE.tlm", NULL, "pre-trained (source) model"},
    {"layer", "L", NULL, "feature layer for LogME and H-score (default: the head's input)"},
    CLI_NN_DATA_OPTS,
    {"", NULL, NULL, NULL}};

static int run_transferability(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *mp = cli_get(a, "model");
    if (!mp || !cli_get(a, "data"))
        return cli_usage("--model and --data are required (see 'tl help transferability')");
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    tl_ctx_apply_threads(&ctx);
    int rc = 1;
    tl_nn *nn = NULL;
    cli_nn_data d = {0};
    float *F = NULL, *P = NULL;
    tl_mat Fm = {0}, Pm = {0};
    tl_status st = tl_nn_load(mp, &nn);
    if (st != TL_OK) return cli_fail_status(st, "--model");
    size_t li;
    st = cli_get(a, "layer") ? tl_nn_layer_find(nn, cli_get(a, "layer"), &li) : tl_nn_embed_layer(nn, &li);
    if (st != TL_OK) {
        cli_fail_status(st, "--layer");
        goto done;
    }
    if (cli_nn_load(a, cli_get(a, "data"), nn, true, true, &d) != 0) goto done;
    size_t s[3];
    tl_nn_layer_shape(nn, li, s);
    const size_t dim = s[0] * s[1] * s[2], K = tl_nn_output_dim(nn);
    const double t0 = cli_now();
    F = malloc(d.n * dim * sizeof *F);
    P = malloc(d.n * K * sizeof *P);
    if (!F || !P || tl_mat_alloc(&Fm, d.n, dim) != TL_OK || tl_mat_alloc(&Pm, d.n, K) != TL_OK) {
        cli_fail("out of memory");
        goto done;
    }
    st = tl_nn_embed(nn, li, d.x, d.n, F);
    if (st == TL_OK) st = tl_nn_predict_proba(nn, d.x, d.n, P);
    if (st != TL_OK) {
        cli_fail_status(st, "running the model");
        goto done;
    }
    for (size_t i = 0; i < d.n * dim; i++) Fm.data[i] = F[i];
    for (size_t i = 0; i < d.n * K; i++) Pm.data[i] = P[i];
    double logme = NAN, leep = NAN, nce = NAN, hs = NAN;
    const char *names[4] = {"LogME", "LEEP", "NCE", "H-score"};
    double *vals[4] = {&logme, &leep, &nce, &hs};
    for (int k = 0; k < 4; k++) {
        st = k == 0 ? tl_logme(Fm, d.y, vals[k])
             : k == 1 ? tl_leep(Pm, d.y, vals[k])
             : k == 2 ? tl_nce(Pm, d.y, vals[k])
                      : tl_hscore(Fm, d.y, vals[k]);
        if (st != TL_OK) {
            cli_fail_status(st, "%s", names[k]);
            goto done;
        }
    }
    const double secs = cli_now() - t0;
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "transferability");
        tl_json_str(&j, "source", mp);
        tl_json_str(&j, "target", d.name);
        tl_json_str(&j, "layer", tl_nn_layer_name(nn, li));
        tl_json_int(&j, "n_target", (long long)d.n);
        tl_json_int(&j, "n_features", (long long)dim);
        tl_json_num(&j, "logme", logme);
        tl_json_num(&j, "leep", leep);
        tl_json_num(&j, "nce", nce);
        tl_json_num(&j, "hscore", hs);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
    } else {
        printf("%-10s %s on %s (%zu samples; features: %s, %zu values)\n", "model", mp, d.name, d.n,
               tl_nn_layer_name(nn, li), dim);
        for (int k = 0; k < 4; k++) printf("%-10s %.6f\n", names[k], *vals[k]);
        printf("%-10s %.3f s\n", "time", secs);
        rc = 0;
    }
done:
    free(F);
    free(P);
    tl_mat_free(&Fm);
    tl_mat_free(&Pm);
    cli_nn_data_free(&d);
    tl_nn_free(nn);
    return rc;
}

const cli_command cmd_transferability = {
    "transferability", "score how well a pre-trained model should transfer (LogME, LEEP, NCE, H-score)",
    "--model FILE.tlm --data SPEC [--layer L]", tr_opts, run_transferability, 0, NULL};
