/* `tl evaluate`: accuracy, balanced accuracy, macro-F1 and cross-entropy of a trained network on
 * labelled data. Labels the model's head does not have are an error naming the first one. */
#include <stdio.h>
#include <stdlib.h>

#include "nn_common.h"

static const cli_opt evaluate_opts[] = {{"model", "FILE.tlm", NULL, "trained model"},
                                        CLI_NN_DATA_OPTS,
                                        CLI_NN_TASK_OPT,
                                        {"", NULL, NULL, NULL}};

static int run_evaluate(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *mp = cli_get(a, "model");
    if (!mp || !cli_get(a, "data"))
        return cli_usage("--model and --data are required (see 'tl help evaluate')");
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    tl_ctx_apply_threads(&ctx);
    int rc = 1;
    tl_nn *nn = NULL;
    cli_nn_data d = {0};
    if (cli_nn_load_model(a, mp, &nn) != 0) return 1;
    if (cli_nn_load(a, cli_get(a, "data"), nn, true, true, &d) != 0) goto done;
    double acc, loss;
    cli_eval e;
    const double t0 = cli_now();
    if (cli_nn_eval(nn, &d, &acc, &loss, &e) != 0) goto done;
    const double secs = cli_now() - t0;
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "evaluate");
        tl_json_str(&j, "model", mp);
        tl_json_str(&j, "evaluated_on", d.name);
        tl_json_int(&j, "n_eval", (long long)d.n);
        tl_json_num(&j, "accuracy", acc);
        tl_json_num(&j, "balanced_accuracy", e.balanced_accuracy);
        tl_json_num(&j, "macro_f1", e.macro_f1);
        tl_json_num(&j, "loss", loss);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
    } else {
        printf("%-18s %s\n", "model", mp);
        printf("%-18s %s (%zu samples)\n", "data", d.name, d.n);
        printf("%-18s %.2f %%\n", "accuracy", 100 * acc);
        printf("%-18s %.2f %%\n", "balanced accuracy", 100 * e.balanced_accuracy);
        printf("%-18s %.2f %%\n", "macro-F1", 100 * e.macro_f1);
        printf("%-18s %.4f\n", "cross-entropy", loss);
        printf("%-18s %.3f s\n", "time", secs);
        rc = 0;
    }
done:
    cli_nn_data_free(&d);
    tl_nn_free(nn);
    return rc;
}

const cli_command cmd_evaluate = {"evaluate", "score a trained network on labelled data",
                                  "--model FILE.tlm --data SPEC", evaluate_opts, run_evaluate, 0, NULL};
