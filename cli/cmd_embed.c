/* `tl embed`: push data through a trained network and write the output of one layer (by default
 * the head's input, the penultimate representation) as features with the data's labels - the
 * feature-extraction use of a pre-trained model, whose output any libtl learner or feature-based
 * transfer method can read (.npy, .csv or .svmlight by the extension of --out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_common.h"

static const cli_opt embed_opts[] = {
    {"model", "FILE.tlm", NULL, "trained model"},
    {"layer", "L", NULL, "layer whose output to write (name or index; default: the head's input)"},
    CLI_NN_DATA_OPTS,
    {"out", "FILE", NULL, "features (and labels) to write: .npy, .csv or .svmlight"},
    {"", NULL, NULL, NULL}};

static int run_embed(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *mp = cli_get(a, "model"), *out = cli_get(a, "out");
    if (!mp || !out || !cli_get(a, "data"))
        return cli_usage("--model, --data and --out are required (see 'tl help embed')");
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    tl_ctx_apply_threads(&ctx);
    int rc = 1;
    tl_nn *nn = NULL;
    cli_nn_data d = {0};
    float *F = NULL;
    tl_dataset *ds = NULL;
    tl_status st = tl_nn_load(mp, &nn);
    if (st != TL_OK) return cli_fail_status(st, "--model");
    size_t li;
    st = cli_get(a, "layer") ? tl_nn_layer_find(nn, cli_get(a, "layer"), &li) : tl_nn_embed_layer(nn, &li);
    if (st != TL_OK) {
        cli_fail_status(st, "--layer");
        goto done;
    }
    if (cli_nn_load(a, cli_get(a, "data"), nn, false, true, &d) != 0) goto done;
    size_t s[3];
    tl_nn_layer_shape(nn, li, s);
    const size_t dim = s[0] * s[1] * s[2];
    const double t0 = cli_now();
    F = malloc(d.n * dim * sizeof *F);
    if (!F) {
        cli_fail("out of memory for %zu x %zu features", d.n, dim);
        goto done;
    }
    st = tl_nn_embed(nn, li, d.x, d.n, F);
    if (st == TL_OK) st = tl_dataset_create_dense(d.n, dim, false, &ds);
    if (st == TL_OK) {
        tl_mat X = tl_dataset_dense(ds);
        for (size_t i = 0; i < d.n; i++)
            for (size_t j = 0; j < dim; j++) TL_AT(X, i, j) = F[i * dim + j];
        if (d.y) st = tl_dataset_set_labels(ds, d.y);
    }
    const double secs = cli_now() - t0;
    if (st == TL_OK) st = tl_dataset_save(ds, out, TL_FORMAT_AUTO, 1);
    if (st != TL_OK) {
        cli_fail_status(st, "writing '%s'", out);
        goto done;
    }
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "embed");
        tl_json_str(&j, "model", mp);
        tl_json_str(&j, "input", d.name);
        tl_json_str(&j, "layer", tl_nn_layer_name(nn, li));
        tl_json_str(&j, "output", out);
        tl_json_int(&j, "n_rows", (long long)d.n);
        tl_json_int(&j, "n_features", (long long)dim);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
    } else {
        printf("%-10s %s (layer %zu, %s)\n", "layer", tl_nn_layer_name(nn, li), li, tl_nn_layer_kind(nn, li));
        printf("%-10s %s: %zu x %zu%s\n", "wrote", out, d.n, dim, d.y ? " with labels" : "");
        printf("%-10s %.3f s\n", "time", secs);
        rc = 0;
    }
done:
    free(F);
    tl_dataset_free(ds);
    cli_nn_data_free(&d);
    tl_nn_free(nn);
    return rc;
}

const cli_command cmd_embed = {"embed", "write a layer's output (features) of a trained network",
                               "--model FILE.tlm --data SPEC --out FILE [--layer L]", embed_opts,
                               run_embed, 0, NULL};
